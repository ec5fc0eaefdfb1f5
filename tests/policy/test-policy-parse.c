/* SPDX-License-Identifier: MIT */
/*
 * Policy parser unit tests against a small hand-written protocol set, so
 * that version limits and unknown names are under the test's control.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "policy.h"

/* Sorted by name, as vmapp_protocol_find() expects. */
static const struct vmapp_interface wl_callback = { .name = "wl_callback", .version = 1 };
static const struct vmapp_interface wl_compositor = { .name = "wl_compositor", .version = 6 };
static const struct vmapp_interface wl_shm = { .name = "wl_shm", .version = 2 };
static const struct vmapp_interface xdg_wm_base = { .name = "xdg_wm_base", .version = 6 };
static const struct vmapp_interface zwlr_screencopy_manager_v1 = {
	.name = "zwlr_screencopy_manager_v1", .version = 3,
};
static const struct vmapp_interface *const test_interfaces[] = {
	&wl_callback,
	&wl_compositor,
	&wl_shm,
	&xdg_wm_base,
	&zwlr_screencopy_manager_v1,
};
static const struct vmapp_protocol_set test_set = {
	.n_interfaces = sizeof(test_interfaces) / sizeof(test_interfaces[0]),
	.interfaces = test_interfaces,
};

#define FILENAME "t.policy"

static struct vmapp_policy *parse_ok_at(int line, const char *text, size_t len)
{
	struct vmapp_policy *policy = (struct vmapp_policy *)1;
	char error[512];
	int r;

	r = vmapp_policy_parse(text, len, FILENAME, &test_set, error, sizeof(error), &policy);
	check_at(r == 0, __FILE__, line, "parse", "returned %d: %s", r, error);
	check_at(r != 0 || policy, __FILE__, line, "policy", "no policy on success");
	check_at(r != 0 || error[0] == '\0', __FILE__, line, "error", "error set on success: %s", error);
	return r == 0 ? policy : NULL;
}

#define PARSE_OK(text) parse_ok_at(__LINE__, (text), strlen(text))

/* Parses text that must fail with -EINVAL and exactly `expected`. */
static void parse_fails_at(int line, const char *text, size_t len, const char *expected)
{
	struct vmapp_policy *policy = (struct vmapp_policy *)1;
	char error[512];
	int r;

	memset(error, 'x', sizeof(error));
	r = vmapp_policy_parse(text, len, FILENAME, &test_set, error, sizeof(error), &policy);
	check_at(r == -EINVAL, __FILE__, line, "r == -EINVAL", "returned %d for %.60s", r, text);
	check_at(policy == NULL, __FILE__, line, "policy == NULL", "policy set on error");
	check_at(memchr(error, '\0', sizeof(error)) != NULL, __FILE__, line, "NUL",
		 "error not terminated");
	error[sizeof(error) - 1] = '\0';
	check_at(strcmp(error, expected) == 0, __FILE__, line, "message",
		 "\n  got      \"%s\"\n  expected \"%s\"", error, expected);
	if (r == 0)
		vmapp_policy_destroy(policy);
}

#define PARSE_FAILS(text, expected) parse_fails_at(__LINE__, (text), strlen(text), (expected))

static void test_valid(void)
{
	struct vmapp_policy *policy;
	const struct vmapp_limits *limits;

	policy = PARSE_OK("allow wl_compositor 6\n");
	if (policy) {
		CHECK(vmapp_policy_version_cap(policy, "wl_compositor") == 6, "cap");
		CHECK(vmapp_policy_version_cap(policy, "wl_shm") == 0, "not allowed");
		CHECK(vmapp_policy_version_cap(policy, "wl_composito") == 0, "prefix");
		CHECK(vmapp_policy_version_cap(policy, "wl_compositorx") == 0, "longer");
		CHECK(vmapp_policy_version_cap(policy, "") == 0, "empty");
		CHECK(vmapp_policy_version_cap(policy, NULL) == 0, "NULL");
		/* Unset: clipboard off, limits the shipped defaults. */
		CHECK(vmapp_policy_clipboard(policy) == VMAPP_CLIPBOARD_OFF, "clipboard default");
		limits = vmapp_policy_limits(policy);
		CHECK(limits->objects == 10000, "%u", limits->objects);
		CHECK(limits->shm_pools == 256, "%u", limits->shm_pools);
		CHECK(limits->shm_bytes == UINT64_C(4) << 30, "%llu",
		      (unsigned long long)limits->shm_bytes);
		CHECK(limits->fds_in_flight == 64, "%u", limits->fds_in_flight);
		CHECK(limits->queue_bytes == 4u << 20, "%llu", (unsigned long long)limits->queue_bytes);
		CHECK(limits->title_length == 256, "%u", limits->title_length);
		vmapp_policy_destroy(policy);
	}

	/* Blanks, tabs, comments, CRLF, no final newline, out of order. */
	policy = PARSE_OK("# a policy\r\n"
			  "\r\n"
			  "   \t  \n"
			  "\tallow\t xdg_wm_base   3   # trailing comment\r\n"
			  "allow wl_shm 1#no space before the comment\n"
			  "limit objects 4K\n"
			  "limit shm-pools 7\n"
			  "limit shm-bytes 1G\n"
			  "limit fds 1\n"
			  "limit queue-bytes 16M\n"
			  "limit title-length 4294967295\n"
			  "clipboard both\n"
			  "#\n"
			  "# \xff\xfe\x01 any bytes but NUL in a comment\n"
			  "allow wl_compositor 1");
	if (policy) {
		CHECK(vmapp_policy_version_cap(policy, "xdg_wm_base") == 3, "cap");
		CHECK(vmapp_policy_version_cap(policy, "wl_shm") == 1, "cap");
		CHECK(vmapp_policy_version_cap(policy, "wl_compositor") == 1, "cap");
		CHECK(vmapp_policy_clipboard(policy) == VMAPP_CLIPBOARD_BOTH, "clipboard");
		limits = vmapp_policy_limits(policy);
		CHECK(limits->objects == 4096, "%u", limits->objects);
		CHECK(limits->shm_pools == 7, "%u", limits->shm_pools);
		CHECK(limits->shm_bytes == UINT64_C(1) << 30, "%llu",
		      (unsigned long long)limits->shm_bytes);
		CHECK(limits->fds_in_flight == 1, "%u", limits->fds_in_flight);
		CHECK(limits->queue_bytes == 16u << 20, "%llu",
		      (unsigned long long)limits->queue_bytes);
		CHECK(limits->title_length == UINT32_MAX, "%u", limits->title_length);
		vmapp_policy_destroy(policy);
	}

	policy = PARSE_OK("clipboard guest-to-host\n");
	if (policy) {
		CHECK(vmapp_policy_clipboard(policy) == VMAPP_CLIPBOARD_GUEST_TO_HOST, "clipboard");
		vmapp_policy_destroy(policy);
	}
	policy = PARSE_OK("clipboard off\n");
	if (policy) {
		CHECK(vmapp_policy_clipboard(policy) == VMAPP_CLIPBOARD_OFF, "clipboard");
		vmapp_policy_destroy(policy);
	}

	/* Empty and comment-only policies allow nothing. */
	policy = parse_ok_at(__LINE__, NULL, 0);
	if (policy) {
		CHECK(vmapp_policy_version_cap(policy, "wl_compositor") == 0, "empty policy");
		vmapp_policy_destroy(policy);
	}
	policy = PARSE_OK("# nothing\n\n");
	if (policy) {
		CHECK(vmapp_policy_version_cap(policy, "wl_compositor") == 0, "comment-only policy");
		vmapp_policy_destroy(policy);
	}

	/* Not a global, but known to the tables: accepted (see the man page). */
	policy = PARSE_OK("allow wl_callback 1\n");
	vmapp_policy_destroy(policy);

	/* The largest numbers that fit. */
	policy = PARSE_OK("limit shm-bytes 18446744073709551615\nlimit queue-bytes 16777215G\n"
			  "limit objects 4194303K\nlimit fds 007\n");
	if (policy) {
		limits = vmapp_policy_limits(policy);
		CHECK(limits->shm_bytes == UINT64_MAX, "%llu", (unsigned long long)limits->shm_bytes);
		CHECK(limits->queue_bytes == UINT64_C(16777215) << 30, "%llu",
		      (unsigned long long)limits->queue_bytes);
		CHECK(limits->objects == 4194303u * 1024u, "%u", limits->objects);
		CHECK(limits->fds_in_flight == 7, "%u", limits->fds_in_flight);
		vmapp_policy_destroy(policy);
	}

	vmapp_policy_destroy(NULL);
}

static void test_errors(void)
{
	/* unknown directive */
	PARSE_FAILS("# comment\n\nfoo bar\n",
		    "t.policy:3: unknown directive 'foo' (expected allow, clipboard or limit)");
	PARSE_FAILS("Allow wl_shm 1\n",
		    "t.policy:1: unknown directive 'Allow' (expected allow, clipboard or limit)");
	PARSE_FAILS("allow wl_shm 1\nallowwl_compositor 1\n",
		    "t.policy:2: unknown directive 'allowwl_compositor' (expected allow, clipboard or limit)");

	/* unknown interface */
	PARSE_FAILS("allow wl_compositor 1\nallow foo 1\n", "t.policy:2: unknown interface 'foo'");
	PARSE_FAILS("allow wl_Compositor 1\n", "t.policy:1: unknown interface 'wl_Compositor'");
	PARSE_FAILS("allow \"wl_compositor\" 1\n",
		    "t.policy:1: unknown interface '\"wl_compositor\"'");

	/* always blocked: known to the tables, or not */
	PARSE_FAILS("\n\n\nallow zwlr_screencopy_manager_v1 1",
		    "t.policy:4: 'zwlr_screencopy_manager_v1' is always blocked and can not be allowed");
	PARSE_FAILS("allow zwp_virtual_keyboard_manager_v1 1\n",
		    "t.policy:1: 'zwp_virtual_keyboard_manager_v1' is always blocked and can not be allowed");
	PARSE_FAILS("allow zwlr_layer_shell_v1 4\n",
		    "t.policy:1: 'zwlr_layer_shell_v1' is always blocked and can not be allowed");

	/* versions */
	PARSE_FAILS("allow wl_shm 1\nallow wl_compositor 0\n",
		    "t.policy:2: version 0 of 'wl_compositor' is not a version (versions start at 1)");
	PARSE_FAILS("allow wl_compositor 00\n",
		    "t.policy:1: version 0 of 'wl_compositor' is not a version (versions start at 1)");
	PARSE_FAILS("allow wl_compositor abc\n", "t.policy:1: version 'abc' is not a number");
	PARSE_FAILS("allow wl_compositor -1\n", "t.policy:1: version '-1' is not a number");
	PARSE_FAILS("allow wl_compositor +1\n", "t.policy:1: version '+1' is not a number");
	PARSE_FAILS("allow wl_compositor 0x1\n", "t.policy:1: version '0x1' is not a number");
	PARSE_FAILS("allow wl_compositor 1.0\n", "t.policy:1: version '1.0' is not a number");
	PARSE_FAILS("allow wl_compositor 1K\n", "t.policy:1: version '1K' is not a number");
	PARSE_FAILS("allow wl_compositor 7\n",
		    "t.policy:1: version '7' of 'wl_compositor' is above its highest known version 6");
	PARSE_FAILS("allow wl_callback 2\n",
		    "t.policy:1: version '2' of 'wl_callback' is above its highest known version 1");
	PARSE_FAILS("allow wl_compositor 4294967302\n",
		    "t.policy:1: version '4294967302' of 'wl_compositor' is above its highest known version 6");
	PARSE_FAILS("allow wl_compositor 99999999999999999999999999\n",
		    "t.policy:1: version '99999999999999999999999999' of 'wl_compositor' is above its highest known version 6");
	PARSE_FAILS("allow wl_compositor\n",
		    "t.policy:1: 'allow' needs an interface name and a version");
	PARSE_FAILS("allow # wl_compositor 1\n",
		    "t.policy:1: 'allow' needs an interface name and a version");

	/* duplicate allow, even with another version */
	PARSE_FAILS("allow wl_shm 1\n# c\nallow wl_shm 2\n",
		    "t.policy:3: duplicate 'allow wl_shm' (first at line 1)");
	PARSE_FAILS("allow wl_shm 1\nallow wl_compositor 1\nallow wl_shm 1\n",
		    "t.policy:3: duplicate 'allow wl_shm' (first at line 1)");

	/* clipboard */
	PARSE_FAILS("clipboard on\n",
		    "t.policy:1: bad clipboard mode 'on' (expected off, guest-to-host or both)");
	PARSE_FAILS("clipboard Off\n",
		    "t.policy:1: bad clipboard mode 'Off' (expected off, guest-to-host or both)");
	PARSE_FAILS("clipboard host-to-guest\n",
		    "t.policy:1: bad clipboard mode 'host-to-guest' (expected off, guest-to-host or both)");
	PARSE_FAILS("clipboard\n",
		    "t.policy:1: 'clipboard' needs a mode: off, guest-to-host or both");
	PARSE_FAILS("clipboard off\nclipboard both\n",
		    "t.policy:2: duplicate 'clipboard' (first at line 1)");

	/* limits */
	PARSE_FAILS("limit windows 5\n",
		    "t.policy:1: unknown limit 'windows' (expected objects, shm-pools, shm-bytes, fds, queue-bytes, title-length or message-rate)");
	PARSE_FAILS("limit objects 0\n", "t.policy:1: limit objects must be at least 1");
	PARSE_FAILS("limit shm-bytes 0K\n", "t.policy:1: limit shm-bytes must be at least 1");
	PARSE_FAILS("limit objects 4294967296\n",
		    "t.policy:1: limit objects value '4294967296' is too large (at most 4294967295)");
	PARSE_FAILS("limit fds 4G\n",
		    "t.policy:1: limit fds value '4G' is too large (at most 4294967295)");
	PARSE_FAILS("limit title-length 4194304K\n",
		    "t.policy:1: limit title-length value '4194304K' is too large (at most 4294967295)");
	PARSE_FAILS("limit shm-bytes 18446744073709551616\n",
		    "t.policy:1: limit shm-bytes value '18446744073709551616' is too large (at most 18446744073709551615)");
	PARSE_FAILS("limit shm-bytes 17179869184G\n",
		    "t.policy:1: limit shm-bytes value '17179869184G' is too large (at most 18446744073709551615)");
	PARSE_FAILS("limit shm-bytes 512MB\n",
		    "t.policy:1: limit shm-bytes value '512MB' is not a number (digits, then K, M or G)");
	PARSE_FAILS("limit shm-bytes 512m\n",
		    "t.policy:1: limit shm-bytes value '512m' is not a number (digits, then K, M or G)");
	PARSE_FAILS("limit shm-bytes M\n",
		    "t.policy:1: limit shm-bytes value 'M' is not a number (digits, then K, M or G)");
	PARSE_FAILS("limit shm-bytes -1\n",
		    "t.policy:1: limit shm-bytes value '-1' is not a number (digits, then K, M or G)");
	PARSE_FAILS("limit objects\n", "t.policy:1: 'limit' needs a name and a value");
	PARSE_FAILS("limit fds 8\n\nlimit fds 9\n",
		    "t.policy:3: duplicate 'limit fds' (first at line 1)");

	/* trailing garbage */
	PARSE_FAILS("allow wl_shm 1 2\n", "t.policy:1: trailing garbage '2'");
	PARSE_FAILS("allow wl_shm 1 extra words here\n", "t.policy:1: trailing garbage 'extra'");
	PARSE_FAILS("clipboard off please\n", "t.policy:1: trailing garbage 'please'");
	PARSE_FAILS("limit fds 8 9\n", "t.policy:1: trailing garbage '9'");

	/* The first error wins, and the line count survives CRLF and blanks. */
	PARSE_FAILS("# a\r\n\r\nallow wl_shm 1\r\n\r\nlimit fds 0\r\nfoo\r\n",
		    "t.policy:5: limit fds must be at least 1");
}

/* line = prefix, n times fill, suffix: a NUL-terminated test line. */
static void make_line(char line[static 8192], const char *prefix, char fill, size_t n,
		      const char *suffix)
{
	size_t len = strlen(prefix);

	memcpy(line, prefix, len);
	memset(line + len, fill, n);
	len += n;
	memcpy(line + len, suffix, strlen(suffix) + 1);
}

static void test_hostile(void)
{
	static char line[8192];
	static const char nul_text[] = "allow wl_shm 1\nallow wl_com\0positor 1\n";
	static const char nul_comment[] = "allow wl_shm 1 # \0\n";
	struct vmapp_policy *policy;
	char error[512], *big;
	size_t size = 1024 * 1024;
	int r;

	parse_fails_at(__LINE__, nul_text, sizeof(nul_text) - 1,
		       "t.policy:2: NUL byte in column 13");
	parse_fails_at(__LINE__, nul_comment, sizeof(nul_comment) - 1,
		       "t.policy:1: NUL byte in column 18");
	parse_fails_at(__LINE__, "\0", 1, "t.policy:1: NUL byte in column 1");
	PARSE_FAILS("allow wl_shm\r1\n", "t.policy:1: invalid byte 0x0d in column 13");
	PARSE_FAILS("allow wl_shm 1\r\r\n", "t.policy:1: invalid byte 0x0d in column 15");
	PARSE_FAILS("allow wl_shm\v1\n", "t.policy:1: invalid byte 0x0b in column 13");
	PARSE_FAILS("allow wl_shm\xc2\xa0" "1\n", "t.policy:1: invalid byte 0xc2 in column 13");
	PARSE_FAILS("\x1b[31mallow wl_shm 1\n", "t.policy:1: invalid byte 0x1b in column 1");
	PARSE_FAILS("allow wl_shm 1\x7f\n", "t.policy:1: invalid byte 0x7f in column 15");

	/* A 1 MiB line, with and without a newline, a comment, a NUL. */
	big = malloc(size + 1);
	if (!CHECK(big != NULL, "malloc"))
		return;
	memset(big, 'a', size);
	big[size] = '\0';
	parse_fails_at(__LINE__, big, size, "t.policy:1: line is longer than 4096 bytes");
	big[size - 1] = '\n';
	parse_fails_at(__LINE__, big, size, "t.policy:1: line is longer than 4096 bytes");
	big[0] = '#';
	parse_fails_at(__LINE__, big, size, "t.policy:1: line is longer than 4096 bytes");
	big[1000] = '\0';
	parse_fails_at(__LINE__, big, size, "t.policy:1: line is longer than 4096 bytes");

	free(big);

	/* Long tokens on lines of an acceptable length are quoted cut short. */
	make_line(line, "allow ", 'a', 4000, " 1\n");
	PARSE_FAILS(line, "t.policy:1: unknown interface "
		    "'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...'");
	make_line(line, "allow wl_shm ", 'a', 4000, "\n");
	PARSE_FAILS(line, "t.policy:1: version "
		    "'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...' is not a number");
	make_line(line, "allow wl_shm ", '9', 4000, "\n");
	PARSE_FAILS(line, "t.policy:1: version "
		    "'9999999999999999999999999999999999999999999999999999999999999999...' "
		    "of 'wl_shm' is above its highest known version 2");

	/* Exactly 4096 bytes is fine, and neither the CR nor the LF counts;
	 * 4097 is not. */
	make_line(line, "allow wl_shm 1", ' ', 4096 - 14, "\r\n");
	policy = PARSE_OK(line);
	vmapp_policy_destroy(policy);
	make_line(line, "allow wl_shm 1", ' ', 4097 - 14, "\r\n");
	PARSE_FAILS(line, "t.policy:1: line is longer than 4096 bytes");

	/* 100 000 lines: the line number of the last one is right. */
	size = 100000 * 2 + 16;
	big = malloc(size);
	if (!CHECK(big != NULL, "malloc"))
		return;
	for (size_t i = 0; i < 100000; i++)
		memcpy(big + 2 * i, "#\n", 2);
	memcpy(big + 200000, "bogus", 6);
	PARSE_FAILS(big, "t.policy:100001: unknown directive 'bogus' "
		    "(expected allow, clipboard or limit)");
	free(big);

	/* Error buffers too small, or none: truncated, terminated, no crash. */
	policy = (struct vmapp_policy *)1;
	memset(error, 'x', sizeof(error));
	r = vmapp_policy_parse("bogus\n", 6, FILENAME, &test_set, error, 1, &policy);
	CHECK(r == -EINVAL && policy == NULL && error[0] == '\0' && error[1] == 'x', "size 1");
	memset(error, 'x', sizeof(error));
	r = vmapp_policy_parse("bogus\n", 6, FILENAME, &test_set, error, 5, &policy);
	CHECK(r == -EINVAL && strcmp(error, "t.po") == 0 && error[5] == 'x', "size 5: %s", error);
	memset(error, 'x', sizeof(error));
	r = vmapp_policy_parse("bogus\n", 6, FILENAME, &test_set, error, 12, &policy);
	CHECK(r == -EINVAL && strcmp(error, "t.policy:1:") == 0, "size 12: %s", error);
	r = vmapp_policy_parse("bogus\n", 6, FILENAME, &test_set, NULL, 0, &policy);
	CHECK(r == -EINVAL && policy == NULL, "no buffer");
	r = vmapp_policy_parse("allow wl_shm 1\n", 15, NULL, &test_set, error, sizeof(error),
			       &policy);
	CHECK(r == 0, "NULL filename");
	vmapp_policy_destroy(policy);
	r = vmapp_policy_parse("bogus\n", 6, NULL, &test_set, error, sizeof(error), &policy);
	CHECK(r == -EINVAL && strncmp(error, "(policy):1: ", 12) == 0, "NULL filename: %s", error);
}

/* xorshift64: the same bytes on every run, so a failure reproduces. */
static uint64_t next_random(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*state = x;
	return x;
}

static void check_random_result(int r, struct vmapp_policy *policy, const char *error,
				uint64_t seed)
{
	CHECK(r == 0 || r == -EINVAL, "seed %llu: returned %d", (unsigned long long)seed, r);
	if (r == 0) {
		CHECK(policy != NULL, "seed %llu: no policy", (unsigned long long)seed);
		for (size_t i = 0; policy && i < test_set.n_interfaces; i++) {
			const struct vmapp_interface *iface = test_set.interfaces[i];
			uint32_t cap = vmapp_policy_version_cap(policy, iface->name);

			CHECK(cap <= iface->version, "seed %llu: %s cap %u",
			      (unsigned long long)seed, iface->name, cap);
		}
		CHECK(!policy || vmapp_policy_version_cap(policy, "zwlr_screencopy_manager_v1") == 0,
		      "seed %llu: blocked interface allowed", (unsigned long long)seed);
		vmapp_policy_destroy(policy);
	} else {
		CHECK(policy == NULL, "seed %llu: policy on error", (unsigned long long)seed);
		CHECK(strncmp(error, FILENAME ":", strlen(FILENAME ":")) == 0,
		      "seed %llu: error \"%s\"", (unsigned long long)seed, error);
	}
}

static void test_random(void)
{
	static const char *const words[] = {
		"allow", "clipboard", "limit", "wl_compositor", "wl_shm", "xdg_wm_base",
		"wl_callback", "zwlr_screencopy_manager_v1", "off", "both", "guest-to-host",
		"objects", "shm-pools", "shm-bytes", "fds", "queue-bytes", "title-length",
		"message-rate",
		"0", "1", "2", "6", "7", "4294967295", "4294967296", "18446744073709551616",
		"1K", "1M", "1G", "K", "#", " ", "\t", "\n", "\r\n", "\r", "\0", "\xff",
	};
	char text[4096], error[256];
	uint64_t state = 0x9e3779b97f4a7c15u;

	/* Random bytes. */
	for (uint64_t seed = 0; seed < 2000; seed++) {
		struct vmapp_policy *policy = NULL;
		size_t len = (size_t)(next_random(&state) % sizeof(text));
		int r;

		for (size_t i = 0; i < len; i++)
			text[i] = (char)(next_random(&state) & 0xff);
		r = vmapp_policy_parse(text, len, FILENAME, &test_set, error, sizeof(error), &policy);
		check_random_result(r, policy, error, seed);
	}

	/* Random sentences of policy words, which get past the first token. */
	for (uint64_t seed = 0; seed < 20000; seed++) {
		struct vmapp_policy *policy = NULL;
		size_t len = 0, n_words = (size_t)(next_random(&state) % 24);
		int r;

		for (size_t i = 0; i < n_words; i++) {
			const char *w = words[next_random(&state) % (sizeof(words) / sizeof(words[0]))];
			size_t wlen = w[0] ? strlen(w) : 1; /* "\0" is one NUL byte */

			if (len + wlen + 1 > sizeof(text))
				break;
			memcpy(text + len, w, wlen);
			len += wlen;
			if (next_random(&state) % 2)
				text[len++] = ' ';
		}
		r = vmapp_policy_parse(text, len, FILENAME, &test_set, error, sizeof(error), &policy);
		check_random_result(r, policy, error, seed);
	}
}

static void test_blocked(void)
{
	static const char *const required[] = {
		"zwp_virtual_keyboard_manager_v1", "zwlr_virtual_pointer_manager_v1",
		"ext_transient_seat_manager_v1", "zwlr_screencopy_manager_v1",
		"ext_image_copy_capture_manager_v1", "ext_output_image_capture_source_manager_v1",
		"ext_foreign_toplevel_image_capture_source_manager_v1",
		"zwlr_export_dmabuf_manager_v1", "zwlr_data_control_manager_v1",
		"ext_data_control_manager_v1", "zwp_input_method_manager_v2",
		"zwp_input_method_v1", "zwp_input_panel_v1", "zwp_input_method_context_v1",
		"ext_foreign_toplevel_list_v1", "zwlr_foreign_toplevel_manager_v1",
		"ext_workspace_manager_v1", "zcosmic_workspace_manager_v1", "zwlr_layer_shell_v1",
		"ext_session_lock_manager_v1", "zwlr_output_manager_v1",
		"zwlr_output_power_manager_v1", "zwlr_gamma_control_manager_v1",
		"zwp_keyboard_shortcuts_inhibit_manager_v1",
		"zwp_xwayland_keyboard_grab_manager_v1", "xwayland_shell_v1",
		"wp_drm_lease_device_v1", "wp_security_context_manager_v1",
		"org_kde_kwin_fake_input", "org_kde_plasma_window_management",
		"kde_output_management_v2", "kde_output_device_v2", "org_kde_plasma_shell",
		"zwlr_input_inhibit_manager_v1", "hyprland_toplevel_export_manager_v1",
		/* and the other interfaces of those protocols */
		"zwp_virtual_keyboard_v1", "zwlr_virtual_pointer_v1", "zwlr_screencopy_frame_v1",
		"zwlr_data_control_device_v1", "zwlr_layer_surface_v1", "ext_session_lock_v1",
		"zwp_input_method_v2", "zwp_input_popup_surface_v2",
	};
	static const char *const not_blocked[] = {
		"wl_compositor", "wl_seat", "xdg_wm_base", "zwp_text_input_manager_v3",
		"wl_data_device_manager", "zwp_primary_selection_device_manager_v1",
		"zwlr_screencopy_manager_v", "zwlr_screencopy_manager_v1 ",
		"zwlr_screencopy_manager_v2", "Zwlr_screencopy_manager_v1", "", "z",
	};
	const char *const *list;
	size_t n;

	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++)
		CHECK(vmapp_policy_always_blocked(required[i]), "%s not blocked", required[i]);
	for (size_t i = 0; i < sizeof(not_blocked) / sizeof(not_blocked[0]); i++)
		CHECK(!vmapp_policy_always_blocked(not_blocked[i]), "'%s' blocked", not_blocked[i]);
	CHECK(!vmapp_policy_always_blocked(NULL), "NULL");

	list = vmapp_policy_blocked_list(&n);
	CHECK(n >= sizeof(required) / sizeof(required[0]), "%zu names", n);
	for (size_t i = 0; i < n; i++) {
		CHECK(vmapp_policy_always_blocked(list[i]), "%s", list[i]);
		CHECK(list[i][0] != '\0' && strspn(list[i], "abcdefghijklmnopqrstuvwxyz0123456789_")
			      == strlen(list[i]),
		      "'%s' is not an interface name", list[i]);
		for (size_t j = i + 1; j < n; j++)
			CHECK(strcmp(list[i], list[j]) != 0, "%s listed twice", list[i]);
	}
}

static void test_version_cap(void)
{
	struct vmapp_policy *policy = PARSE_OK("allow wl_compositor 6\nallow wl_shm 2\n");

	if (!policy)
		return;
	CHECK(vmapp_policy_version_cap(policy, "xdg_wm_base") == 0, "not allowed");
	CHECK(vmapp_policy_version_cap(policy, "zwlr_screencopy_manager_v1") == 0, "blocked");
	CHECK(vmapp_policy_version_cap(policy, "zwp_virtual_keyboard_manager_v1") == 0, "blocked");
	CHECK(vmapp_policy_version_cap(policy, "wl_shm") == 2, "allowed");
	vmapp_policy_destroy(policy);
}

static void write_file(const char *path, const char *text, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (!CHECK(fd >= 0, "open %s: %s", path, strerror(errno)))
		return;
	for (size_t done = 0; done < len;) {
		ssize_t n = write(fd, text + done, len - done);

		if (!CHECK(n > 0, "write %s: %s", path, strerror(errno)))
			break;
		done += (size_t)n;
	}
	close(fd);
}

static void test_load(void)
{
	char dir[] = "/tmp/vmapp-policy-test-XXXXXX", path[64], error[512];
	struct vmapp_policy *policy;
	char *big;
	int r;

	if (!CHECK(mkdtemp(dir) != NULL, "mkdtemp: %s", strerror(errno)))
		return;
	snprintf(path, sizeof(path), "%s/p.policy", dir);

	write_file(path, "allow wl_shm 2\nclipboard both\n", 30);
	r = vmapp_policy_load(path, &test_set, error, sizeof(error), &policy);
	if (CHECK(r == 0, "load: %d %s", r, error)) {
		CHECK(vmapp_policy_version_cap(policy, "wl_shm") == 2, "cap");
		CHECK(vmapp_policy_clipboard(policy) == VMAPP_CLIPBOARD_BOTH, "clipboard");
		vmapp_policy_destroy(policy);
	}

	/* Parse errors name the path. */
	write_file(path, "allow wl_shm 2\nallow wl_shm 1\n", 30);
	r = vmapp_policy_load(path, &test_set, error, sizeof(error), &policy);
	CHECK(r == -EINVAL && policy == NULL, "load bad: %d", r);
	{
		char expected[256];

		snprintf(expected, sizeof(expected),
			 "%s:2: duplicate 'allow wl_shm' (first at line 1)", path);
		CHECK(strcmp(error, expected) == 0, "%s", error);
	}

	/* Exactly the maximum size loads; one byte more does not. */
	big = malloc(1024 * 1024 + 1);
	if (CHECK(big != NULL, "malloc")) {
		for (size_t i = 0; i < 1024 * 1024; i += 2)
			memcpy(big + i, "#\n", 2);
		write_file(path, big, 1024 * 1024);
		r = vmapp_policy_load(path, &test_set, error, sizeof(error), &policy);
		CHECK(r == 0, "1 MiB: %d %s", r, error);
		vmapp_policy_destroy(policy);
		big[1024 * 1024] = '\n';
		write_file(path, big, 1024 * 1024 + 1);
		r = vmapp_policy_load(path, &test_set, error, sizeof(error), &policy);
		CHECK(r == -EFBIG && policy == NULL && strstr(error, path) == error,
		      "1 MiB + 1: %d %s", r, error);
		free(big);
	}
	unlink(path);

	r = vmapp_policy_load(path, &test_set, error, sizeof(error), &policy);
	CHECK(r == -ENOENT && policy == NULL && strstr(error, path) == error,
	      "missing: %d %s", r, error);
	r = vmapp_policy_load(dir, &test_set, error, sizeof(error), &policy);
	CHECK(r == -EISDIR && policy == NULL && strstr(error, dir) == error,
	      "directory: %d %s", r, error);
	rmdir(dir);
}

int main(void)
{
	test_valid();
	test_errors();
	test_hostile();
	test_random();
	test_blocked();
	test_version_cap();
	test_load();
	return check_exit_code();
}
