/* SPDX-License-Identifier: MIT */
/*
 * The shipped default policy against the real generated tables, and the
 * man page against the always-blocked list.
 *
 * Usage: test-policy-default [MAN_PAGE]
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "policy.h"
#include "vmapp-tables.h"

static const struct {
	const char *interface;
	uint32_t cap;
} default_caps[] = {
	{ "wl_compositor", 5 },
	{ "wl_subcompositor", 1 },
	{ "wl_shm", 1 },
	{ "wl_seat", 8 },
	{ "wl_output", 4 },
	{ "wl_data_device_manager", 3 },
	{ "xdg_wm_base", 5 },
	{ "zxdg_decoration_manager_v1", 1 },
	{ "wp_viewporter", 1 },
	{ "wp_fractional_scale_manager_v1", 1 },
	{ "wp_presentation", 1 },
	{ "wp_single_pixel_buffer_manager_v1", 1 },
	{ "wp_cursor_shape_manager_v1", 1 },
	{ "zwp_text_input_manager_v3", 1 },
	{ "zwp_primary_selection_device_manager_v1", 1 },
	{ "xdg_toplevel_icon_manager_v1", 1 },
};

/* Documented in default.policy as commented-out lines: off by default. */
static const char *const off_by_default[] = {
	"zwp_relative_pointer_manager_v1",
	"zwp_pointer_constraints_v1",
	"xdg_activation_v1",
	"zwp_idle_inhibit_manager_v1",
	"zwp_linux_dmabuf_v1",
};

static void test_default_policy(void)
{
	struct vmapp_policy *policy = vmapp_policy_create_default();
	const struct vmapp_limits *limits;
	size_t n_allowed = 0;

	if (!CHECK(policy != NULL, "vmapp_policy_create_default() failed")) {
		struct vmapp_policy *p = NULL;
		char error[512];
		size_t len;
		const char *text = vmapp_policy_default_text(&len);

		vmapp_policy_parse(text, len, "default.policy", &vmapp_protocols,
				   error, sizeof(error), &p);
		fprintf(stderr, "  because: %s\n", error);
		vmapp_policy_destroy(p);
		return;
	}

	for (size_t i = 0; i < sizeof(default_caps) / sizeof(default_caps[0]); i++) {
		uint32_t cap = vmapp_policy_version_cap(policy, default_caps[i].interface);

		CHECK(cap == default_caps[i].cap, "%s: cap %u, expected %u",
		      default_caps[i].interface, cap, default_caps[i].cap);
	}
	for (size_t i = 0; i < sizeof(off_by_default) / sizeof(off_by_default[0]); i++)
		CHECK(vmapp_policy_version_cap(policy, off_by_default[i]) == 0,
		      "%s allowed by default", off_by_default[i]);

	/* Nothing else: every allowed interface of the tables is listed above. */
	for (size_t i = 0; i < vmapp_protocols.n_interfaces; i++) {
		const char *name = vmapp_protocols.interfaces[i]->name;

		if (vmapp_policy_version_cap(policy, name) > 0)
			n_allowed++;
	}
	CHECK(n_allowed == sizeof(default_caps) / sizeof(default_caps[0]),
	      "%zu interfaces allowed", n_allowed);

	CHECK(vmapp_policy_clipboard(policy) == VMAPP_CLIPBOARD_GUEST_TO_HOST, "clipboard");
	limits = vmapp_policy_limits(policy);
	CHECK(limits->objects == 10000, "%u", limits->objects);
	CHECK(limits->shm_pools == 256, "%u", limits->shm_pools);
	/* 4G, not 512M: pools count at their claimed size, and foot claims
	 * two sparse 512M pools (see default.policy). */
	CHECK(limits->shm_bytes == UINT64_C(4) << 30, "%llu",
	      (unsigned long long)limits->shm_bytes);
	CHECK(limits->fds_in_flight == 64, "%u", limits->fds_in_flight);
	CHECK(limits->queue_bytes == UINT64_C(4) << 20, "%llu",
	      (unsigned long long)limits->queue_bytes);
	CHECK(limits->title_length == 256, "%u", limits->title_length);

	/* Blocked names stay at 0, including any the tables know. */
	{
		size_t n;
		const char *const *blocked = vmapp_policy_blocked_list(&n);

		for (size_t i = 0; i < n; i++)
			CHECK(vmapp_policy_version_cap(policy, blocked[i]) == 0, "%s", blocked[i]);
	}
	vmapp_policy_destroy(policy);
}

/*
 * Every "allow NAME VERSION" line of default.policy, commented out or not,
 * names an interface the real tables know, at a version they describe,
 * and the commented-out ones parse when uncommented: the file is the
 * documentation administrators copy from.
 */
static void test_default_names_resolve(void)
{
	size_t len, n_lines = 0, n_commented = 0;
	const char *text = vmapp_policy_default_text(&len);
	const char *line = text, *end = text + len;

	CHECK(strlen(text) == len, "embedded text has a NUL inside or no terminator");
	while (line < end) {
		const char *nl = memchr(line, '\n', (size_t)(end - line));
		size_t line_len = nl ? (size_t)(nl - line) : (size_t)(end - line);
		char buf[256], name[128];
		unsigned version;
		bool commented = line[0] == '#';

		n_lines++;
		if (line_len < sizeof(buf)) {
			memcpy(buf, line, line_len);
			buf[line_len] = '\0';
		} else {
			buf[0] = '\0';
		}
		if (sscanf(buf + commented, "allow %127s %u", name, &version) == 2) {
			const struct vmapp_interface *iface =
				vmapp_protocol_find(&vmapp_protocols, name);

			if (CHECK(iface != NULL, "default.policy:%zu: %s is not in the tables",
				  n_lines, name))
				CHECK(version >= 1 && version <= iface->version,
				      "default.policy:%zu: %s version %u, tables know %u",
				      n_lines, name, version, iface->version);
			CHECK(!vmapp_policy_always_blocked(name), "%s is blocked", name);
			if (commented) {
				/* the whole file with this one line uncommented */
				char *copy = malloc(len + 1);
				struct vmapp_policy *p = NULL;
				char error[512];
				int r;

				n_commented++;
				if (CHECK(copy != NULL, "malloc")) {
					memcpy(copy, text, len);
					copy[line - text] = ' ';
					r = vmapp_policy_parse(copy, len, "default.policy",
							       &vmapp_protocols, error,
							       sizeof(error), &p);
					if (CHECK(r == 0, "uncommenting line %zu: %s", n_lines, error))
						CHECK(vmapp_policy_version_cap(p, name) == version,
						      "%s uncommented", name);
					vmapp_policy_destroy(p);
					free(copy);
				}
			}
		}
		line = nl ? nl + 1 : end;
	}
	CHECK(n_commented == sizeof(off_by_default) / sizeof(off_by_default[0]),
	      "%zu commented-out allow lines", n_commented);
}

/* Whatever the real tables know of the blocked protocols can not be allowed. */
static void test_blocked_with_real_tables(void)
{
	size_t n;
	const char *const *blocked = vmapp_policy_blocked_list(&n);

	for (size_t i = 0; i < n; i++) {
		struct vmapp_policy *p = NULL;
		char text[160], error[512], expected[512];
		int r;

		snprintf(text, sizeof(text), "allow %s 1\n", blocked[i]);
		snprintf(expected, sizeof(expected),
			 "x:1: '%s' is always blocked and can not be allowed", blocked[i]);
		r = vmapp_policy_parse(text, strlen(text), "x", &vmapp_protocols,
				       error, sizeof(error), &p);
		CHECK(r == -EINVAL && p == NULL && strcmp(error, expected) == 0,
		      "%s: %d %s", blocked[i], r, error);
		vmapp_policy_destroy(p);
	}
}

static bool is_name_char(char c)
{
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* The man page lists every always-blocked interface. */
static void test_man_page(const char *path)
{
	size_t n, len = 0;
	const char *const *blocked = vmapp_policy_blocked_list(&n);
	char *page = NULL;
	FILE *f = fopen(path, "re");

	if (!CHECK(f != NULL, "%s: %s", path, strerror(errno)))
		return;
	for (;;) {
		char *p = realloc(page, len + 65536 + 1);
		size_t got;

		if (!CHECK(p != NULL, "realloc"))
			break;
		page = p;
		got = fread(page + len, 1, 65536, f);
		len += got;
		page[len] = '\0';
		if (got == 0)
			break;
	}
	fclose(f);
	for (size_t i = 0; page && i < n; i++) {
		/* As a whole word, not part of a longer name. */
		bool found = false;

		for (const char *s = strstr(page, blocked[i]); s && !found;
		     s = strstr(s + 1, blocked[i]))
			found = !is_name_char(s[strlen(blocked[i])]) &&
				(s == page || !is_name_char(s[-1]));
		CHECK(found, "%s does not list %s", path, blocked[i]);
	}
	free(page);
}

int main(int argc, char **argv)
{
	test_default_policy();
	test_default_names_resolve();
	test_blocked_with_real_tables();
	if (argc > 1)
		test_man_page(argv[1]);
	return check_exit_code();
}
