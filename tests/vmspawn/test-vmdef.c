/* SPDX-License-Identifier: MIT */
/*
 * VM definitions: the name rule, the parser (every bad value and key with
 * its FILE:LINE message), defaults, the serializer's round trip, the
 * paths, and create/list/write/load in a temporary folder.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "vmdef.h"

#define FILENAME "t.vm"

static struct vmapp_vmdef *parse_ok_at(int line, const char *text, size_t len)
{
	struct vmapp_vmdef *def = (struct vmapp_vmdef *)1;
	char error[512];
	int r;

	r = vmapp_vmdef_parse(text, len, FILENAME, "test", error, sizeof(error), &def);
	check_at(r == 0, __FILE__, line, "parse", "returned %d: %s", r, error);
	check_at(r != 0 || def, __FILE__, line, "def", "no definition on success");
	check_at(r != 0 || error[0] == '\0', __FILE__, line, "error", "error set on success: %s",
		 error);
	return r == 0 ? def : NULL;
}

#define PARSE_OK(text) parse_ok_at(__LINE__, (text), strlen(text))

static void parse_fails_at(int line, const char *text, size_t len, const char *expected)
{
	struct vmapp_vmdef *def = (struct vmapp_vmdef *)1;
	char error[512];
	int r;

	memset(error, 'x', sizeof(error));
	r = vmapp_vmdef_parse(text, len, FILENAME, "test", error, sizeof(error), &def);
	check_at(r == -EINVAL, __FILE__, line, "r == -EINVAL", "returned %d for %.60s", r, text);
	check_at(def == NULL, __FILE__, line, "def == NULL", "definition set on error");
	check_at(memchr(error, '\0', sizeof(error)) != NULL, __FILE__, line, "NUL",
		 "error not terminated");
	error[sizeof(error) - 1] = '\0';
	check_at(strcmp(error, expected) == 0, __FILE__, line, "message",
		 "\n  got      \"%s\"\n  expected \"%s\"", error, expected);
	if (r == 0)
		vmapp_vmdef_destroy(def);
}

#define PARSE_FAILS(text, expected) parse_fails_at(__LINE__, (text), strlen(text), (expected))
#define PARSE_FAILS_LEN(text, len, expected) parse_fails_at(__LINE__, (text), (len), (expected))

static void test_names(void)
{
	static const char *const good[] = {
		"a", "work", "a-b", "0", "web-2", "x--", "abcdefghijklmnopqrstuvwxyz012345",
	};
	static const struct {
		const char *name;
		const char *error;
	} bad[] = {
		{ "", "VM name is empty" },
		{ "../x", "VM name '../x' has '.' (only a-z, 0-9 and '-')" },
		{ "a/b", "VM name 'a/b' has '/' (only a-z, 0-9 and '-')" },
		{ ".", "VM name '.' has '.' (only a-z, 0-9 and '-')" },
		{ "..", "VM name '..' has '.' (only a-z, 0-9 and '-')" },
		{ "abcdefghijklmnopqrstuvwxyz0123456",
		  "VM name 'abcdefghijklmnopqrstuvwxyz0123456' is longer than 32 bytes" },
		{ "Work", "VM name 'Work' has 'W' (only a-z, 0-9 and '-')" },
		{ "-a", "VM name '-a' starts with '-'" },
		{ "-", "VM name '-' starts with '-'" },
		{ "a b", "VM name 'a b' has ' ' (only a-z, 0-9 and '-')" },
		{ "a_b", "VM name 'a_b' has '_' (only a-z, 0-9 and '-')" },
		{ "a\nb", "VM name has the byte 0x0a (only a-z, 0-9 and '-')" },
		{ "\x1b[31m", "VM name has the byte 0x1b (only a-z, 0-9 and '-')" },
		{ "caf\xc3\xa9", "VM name has the byte 0xc3 (only a-z, 0-9 and '-')" },
		{ "a.vm", "VM name 'a.vm' has '.' (only a-z, 0-9 and '-')" },
	};
	char error[256];

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct vmapp_vmdef *def;

		CHECK(vmapp_vm_name_check(good[i], error, sizeof(error)) == 0, "'%s' refused: %s",
		      good[i], error);
		def = vmapp_vmdef_create(good[i]);
		CHECK(def && strcmp(def->name, good[i]) == 0, "create '%s'", good[i]);
		vmapp_vmdef_destroy(def);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct vmapp_vmdef *def = (struct vmapp_vmdef *)1;

		error[0] = '\0';
		CHECK(vmapp_vm_name_check(bad[i].name, error, sizeof(error)) == -EINVAL,
		      "'%s' accepted", bad[i].name);
		CHECK(strcmp(error, bad[i].error) == 0, "\n  got      \"%s\"\n  expected \"%s\"",
		      error, bad[i].error);
		CHECK(vmapp_vmdef_create(bad[i].name) == NULL, "create accepted a bad name");
		CHECK(vmapp_vmdef_parse("", 0, FILENAME, bad[i].name, error, sizeof(error), &def) ==
		      -EINVAL && def == NULL, "parse accepted a bad name");
	}
	/* The 32-byte limit is exact. */
	CHECK(vmapp_vm_name_check("abcdefghijklmnopqrstuvwxyz012345", NULL, 0) == 0, "32 bytes");
}

static void test_defaults(void)
{
	struct vmapp_vmdef *def = PARSE_OK("");

	if (!def)
		return;
	CHECK(strcmp(def->name, "test") == 0, "name %s", def->name);
	CHECK(def->memory_mib == 2048, "memory %llu", (unsigned long long)def->memory_mib);
	CHECK(def->cpus == 2, "cpus %u", def->cpus);
	CHECK(strcmp(def->image, "default") == 0, "image %s", def->image);
	CHECK(def->accel == VMAPP_ACCEL_AUTO, "accel");
	CHECK(def->network == VMAPP_NETWORK_OFF, "network");
	CHECK(def->audio == VMAPP_AUDIO_OFF, "audio");
	CHECK(def->audio_backend == VMAPP_AUDIO_BACKEND_PULSEAUDIO, "audio_backend");
	CHECK(def->share == NULL, "share");
	CHECK(def->share_mode == VMAPP_SHARE_AUTO, "share_mode");
	CHECK(def->transport == VMAPP_TRANSPORT_AUTO, "transport");
	CHECK(def->policy == NULL, "policy");
	CHECK(!def->has_colour, "colour");
	vmapp_vmdef_destroy(def);

	/* Comments, blank lines, CR LF: still every default. */
	def = PARSE_OK("# a VM\r\n\r\n   \t\n\t# indented comment with \x01 bytes \xff\n");
	CHECK(def != NULL, "comments only");
	vmapp_vmdef_destroy(def);
}

static void test_valid(void)
{
	struct vmapp_vmdef *def = PARSE_OK(
		"# work VM\n"
		"memory = 4G\n"
		"cpus=8\n"
		"  image\t=\t/srv/vmapp/images/web  \n"
		"accel = tcg\r\n"
		"network = nat\n"
		"audio = duplex\n"
		"audio_backend = none\n"
		"share = /home/user/My Files, été #1\n"
		"share_mode = 9p\n"
		"transport = serial\n"
		"policy = /etc/vmapp/work.policy\n"
		"colour = #3366CC");

	if (!def)
		return;
	CHECK(def->memory_mib == 4096, "memory %llu", (unsigned long long)def->memory_mib);
	CHECK(def->cpus == 8, "cpus %u", def->cpus);
	CHECK(strcmp(def->image, "/srv/vmapp/images/web") == 0, "image '%s'", def->image);
	CHECK(def->accel == VMAPP_ACCEL_TCG, "accel");
	CHECK(def->network == VMAPP_NETWORK_NAT, "network");
	CHECK(def->audio == VMAPP_AUDIO_DUPLEX, "audio");
	CHECK(def->audio_backend == VMAPP_AUDIO_BACKEND_NONE, "audio_backend");
	/* A # inside a value is part of it: comments are whole lines. */
	CHECK(def->share && strcmp(def->share, "/home/user/My Files, été #1") == 0, "share '%s'",
	      def->share ? def->share : "(null)");
	CHECK(def->share_mode == VMAPP_SHARE_9P, "share_mode");
	CHECK(def->transport == VMAPP_TRANSPORT_SERIAL, "transport");
	CHECK(def->policy && strcmp(def->policy, "/etc/vmapp/work.policy") == 0, "policy");
	CHECK(def->has_colour && def->colour == 0x3366cc, "colour %06x", def->colour);
	vmapp_vmdef_destroy(def);

	def = PARSE_OK("memory = 256M\ncpus = 64\nimage = debian-12\nshare = none\npolicy = default\n"
		       "colour = none\naccel = kvm\ntransport = vsock\nshare_mode = virtiofs\n"
		       "audio = playback\naudio_backend = wav\n");
	if (!def)
		return;
	CHECK(def->memory_mib == 256 && def->cpus == 64, "bounds");
	CHECK(strcmp(def->image, "debian-12") == 0, "image name");
	CHECK(def->share == NULL && def->policy == NULL && !def->has_colour, "none, default");
	CHECK(def->accel == VMAPP_ACCEL_KVM && def->transport == VMAPP_TRANSPORT_VSOCK &&
	      def->share_mode == VMAPP_SHARE_VIRTIOFS, "enums");
	vmapp_vmdef_destroy(def);

	def = PARSE_OK("memory = 1024G\n");
	CHECK(def && def->memory_mib == 1024u * 1024u, "1024G");
	vmapp_vmdef_destroy(def);
}

static void test_errors(void)
{
	static const char keys[] =
		"memory, cpus, image, accel, network, audio, audio_backend, share, share_mode, "
		"transport, policy, colour or packages";
	char expected[512];

	snprintf(expected, sizeof(expected), "t.vm:1: unknown key 'memroy' (expected %s)", keys);
	PARSE_FAILS("memroy = 2G\n", expected);
	snprintf(expected, sizeof(expected), "t.vm:3: unknown key 'Memory' (expected %s)", keys);
	PARSE_FAILS("# x\n\nMemory = 2G\n", expected);
	snprintf(expected, sizeof(expected), "t.vm:1: unknown key 'name' (expected %s)", keys);
	PARSE_FAILS("name = work\n", expected);
	snprintf(expected, sizeof(expected), "t.vm:1: bad key (expected %s)", keys);
	PARSE_FAILS("m\xc3\xa9mory = 2G\n", expected);

	PARSE_FAILS("memory 2G\n", "t.vm:1: expected KEY = VALUE");
	PARSE_FAILS("= 2G\n", "t.vm:1: expected KEY = VALUE");
	PARSE_FAILS("audio backend = none\n", "t.vm:1: expected KEY = VALUE (a key is one word)");
	PARSE_FAILS("memory =\n", "t.vm:1: 'memory' needs a value");
	PARSE_FAILS("share =   \t\n", "t.vm:1: 'share' needs a value");
	PARSE_FAILS("memory = 2G\ncpus = 2\nmemory = 4G\n",
		    "t.vm:3: duplicate 'memory' (first at line 1)");
	PARSE_FAILS("share = none\nshare = /a\n", "t.vm:2: duplicate 'share' (first at line 1)");

	/* memory */
	PARSE_FAILS("memory = 2048\n", "t.vm:1: memory '2048' is not a size (digits, then M or G: 512M, 2G)");
	PARSE_FAILS("memory = 2g\n", "t.vm:1: memory '2g' is not a size (digits, then M or G: 512M, 2G)");
	PARSE_FAILS("memory = 2 G\n", "t.vm:1: memory '2 G' is not a size (digits, then M or G: 512M, 2G)");
	PARSE_FAILS("memory = -1G\n", "t.vm:1: memory '-1G' is not a size (digits, then M or G: 512M, 2G)");
	PARSE_FAILS("memory = 1.5G\n", "t.vm:1: memory '1.5G' is not a size (digits, then M or G: 512M, 2G)");
	PARSE_FAILS("memory = G\n", "t.vm:1: memory 'G' is not a size (digits, then M or G: 512M, 2G)");
	PARSE_FAILS("memory = 2T\n", "t.vm:1: memory '2T' is not a size (digits, then M or G: 512M, 2G)");
	PARSE_FAILS("memory = 255M\n", "t.vm:1: memory '255M' is out of range (256M to 1024G)");
	PARSE_FAILS("memory = 0G\n", "t.vm:1: memory '0G' is out of range (256M to 1024G)");
	PARSE_FAILS("memory = 1025G\n", "t.vm:1: memory '1025G' is out of range (256M to 1024G)");
	PARSE_FAILS("memory = 99999999999999999999999G\n",
		    "t.vm:1: memory '99999999999999999999999G' is out of range (256M to 1024G)");
	/* cpus */
	PARSE_FAILS("cpus = 0\n", "t.vm:1: cpus '0' is out of range (1 to 64)");
	PARSE_FAILS("cpus = 65\n", "t.vm:1: cpus '65' is out of range (1 to 64)");
	PARSE_FAILS("cpus = 99999999999999999999\n",
		    "t.vm:1: cpus '99999999999999999999' is out of range (1 to 64)");
	PARSE_FAILS("cpus = two\n", "t.vm:1: cpus 'two' is not a number");
	PARSE_FAILS("cpus = 0x2\n", "t.vm:1: cpus '0x2' is not a number");
	PARSE_FAILS("cpus = +2\n", "t.vm:1: cpus '+2' is not a number");
	/* image */
	PARSE_FAILS("image = ../evil\n",
		    "t.vm:1: image '../evil' is neither an absolute path nor an image name "
		    "(1 to 32 of a-z, 0-9 and '-', not starting with '-')");
	PARSE_FAILS("image = Debian\n",
		    "t.vm:1: image 'Debian' is neither an absolute path nor an image name "
		    "(1 to 32 of a-z, 0-9 and '-', not starting with '-')");
	PARSE_FAILS("image = /srv/../etc\n", "t.vm:1: image '/srv/../etc' has a '..' component");
	PARSE_FAILS("image = /srv/./x\n", "t.vm:1: image '/srv/./x' has a '.' component");
	PARSE_FAILS("image = /srv//x\n", "t.vm:1: image '/srv//x' has an empty component");
	PARSE_FAILS("image = /srv/x/\n", "t.vm:1: image '/srv/x/' has an empty component");
	/* enums */
	PARSE_FAILS("accel = hvf\n", "t.vm:1: bad accel 'hvf' (expected auto, kvm or tcg)");
	PARSE_FAILS("accel = KVM\n", "t.vm:1: bad accel 'KVM' (expected auto, kvm or tcg)");
	PARSE_FAILS("network = on\n", "t.vm:1: bad network 'on' (expected off or nat)");
	PARSE_FAILS("network = bridge\n", "t.vm:1: bad network 'bridge' (expected off or nat)");
	PARSE_FAILS("audio = capture\n", "t.vm:1: bad audio 'capture' (expected off, playback or duplex)");
	PARSE_FAILS("audio_backend = alsa\n",
		    "t.vm:1: bad audio_backend 'alsa' (expected pulseaudio, pipewire, wav or none)");
	PARSE_FAILS("share_mode = nfs\n", "t.vm:1: bad share_mode 'nfs' (expected auto, virtiofs or 9p)");
	PARSE_FAILS("transport = tcp\n", "t.vm:1: bad transport 'tcp' (expected auto, vsock or serial)");
	/* share and policy */
	PARSE_FAILS("share = ~/Shared\n", "t.vm:1: share '~/Shared' is not an absolute path");
	PARSE_FAILS("share = Shared\n", "t.vm:1: share 'Shared' is not an absolute path");
	PARSE_FAILS("share = /\n", "t.vm:1: share '/' would show the guest the whole host file system");
	PARSE_FAILS("share = /home/../etc\n", "t.vm:1: share '/home/../etc' has a '..' component");
	PARSE_FAILS("share = /home/user/\xff\n", "t.vm:1: share value is not valid UTF-8");
	PARSE_FAILS("share = /home/user/\xc2\x9b\n",
		    "t.vm:1: share value has the control character U+009B");
	PARSE_FAILS("policy = work.policy\n", "t.vm:1: policy 'work.policy' is not an absolute path");
	PARSE_FAILS("policy = none\n", "t.vm:1: policy 'none' is not an absolute path");
	/* colour */
	PARSE_FAILS("colour = red\n", "t.vm:1: colour 'red' is not #rrggbb or none");
	PARSE_FAILS("colour = #12345\n", "t.vm:1: colour '#12345' is not #rrggbb or none");
	PARSE_FAILS("colour = #1234567\n", "t.vm:1: colour '#1234567' is not #rrggbb or none");
	PARSE_FAILS("colour = #12345g\n", "t.vm:1: colour '#12345g' is not #rrggbb or none");
	PARSE_FAILS("colour = 123456\n", "t.vm:1: colour '123456' is not #rrggbb or none");

	/* packages: Debian names only (they reach mmdebstrap's --include) */
	PARSE_FAILS("packages = foot --variant=x\n",
		    "t.vm:1: packages: '--variant=x' is not a Debian package name (a-z, 0-9, '+', "
		    "'.', '-'; two or more)");
	PARSE_FAILS("packages = Foot\n",
		    "t.vm:1: packages: 'Foot' is not a Debian package name (a-z, 0-9, '+', "
		    "'.', '-'; two or more)");
	PARSE_FAILS("packages = foot,vim\n",
		    "t.vm:1: packages: 'foot,vim' is not a Debian package name (a-z, 0-9, '+', "
		    "'.', '-'; two or more)");
	PARSE_FAILS("packages = x\n",
		    "t.vm:1: packages: 'x' is not a Debian package name (a-z, 0-9, '+', "
		    "'.', '-'; two or more)");
	/* combinations */
	PARSE_FAILS("audio = duplex\nnetwork = nat\naudio_backend = wav\n",
		    "t.vm:3: audio duplex needs a backend that records; wav only plays "
		    "(use playback, or audio_backend none)");

	/* Bytes: NUL anywhere, control characters outside comments. */
	PARSE_FAILS_LEN("memory = 2G\ncpus = 2\0\n", 22, "t.vm:2: NUL byte in column 9");
	PARSE_FAILS_LEN("# comment \0\n", 12, "t.vm:1: NUL byte in column 11");
	PARSE_FAILS("share = /a\x1b[31m\n", "t.vm:1: control character 0x1b in column 11");
	PARSE_FAILS("share = /a\rb\n", "t.vm:1: control character 0x0d in column 11");
	PARSE_FAILS("memory = 2G\x7f\n", "t.vm:1: control character 0x7f in column 12");
	PARSE_FAILS("\x0cmemory = 2G\n", "t.vm:1: control character 0x0c in column 1");

	/* A long value is quoted with its first 64 bytes. */
	{
		char text[200], want[300];

		snprintf(text, sizeof(text), "share = %s\n",
			 "relative/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
		snprintf(want, sizeof(want), "t.vm:1: share '%.64s...' is not an absolute path",
			 text + 8);
		PARSE_FAILS(text, want);
	}
	/* Lines and files have limits. */
	{
		size_t len = 5000;
		char *text = malloc(len + 1), want[128];

		memset(text, ' ', len);
		memcpy(text, "# ok\n", 5);
		text[len] = '\0';
		PARSE_FAILS(text, "t.vm:2: line is longer than 4096 bytes");
		free(text);

		len = 64 * 1024 + 1;
		text = malloc(len);
		memset(text, '\n', len);
		snprintf(want, sizeof(want), "t.vm: larger than %d bytes", 64 * 1024);
		PARSE_FAILS_LEN(text, len, want);
		free(text);
	}
}

static void test_set_get(void)
{
	struct vmapp_vmdef *def = vmapp_vmdef_create("work");
	size_t n_keys;
	const char *const *keys = vmapp_vmdef_keys(&n_keys);
	char buf[64], error[256];

	if (!CHECK(def != NULL, "create"))
		return;
	CHECK(n_keys == 13 && strcmp(keys[0], "memory") == 0 &&
	      strcmp(keys[n_keys - 1], "packages") == 0, "keys");
	CHECK(vmapp_vmdef_set(def, "memory", "1536M", error, sizeof(error)) == 0, "%s", error);
	CHECK(vmapp_vmdef_get(def, "memory", buf, sizeof(buf)) == 0 && strcmp(buf, "1536M") == 0,
	      "memory '%s'", buf);
	CHECK(vmapp_vmdef_set(def, "memory", "2048M", error, sizeof(error)) == 0, "%s", error);
	CHECK(vmapp_vmdef_get(def, "memory", buf, sizeof(buf)) == 0 && strcmp(buf, "2G") == 0,
	      "memory '%s'", buf);
	/* A refused value leaves the old one. */
	CHECK(vmapp_vmdef_set(def, "memory", "lots", error, sizeof(error)) == -EINVAL, "lots");
	CHECK(strcmp(error, "memory 'lots' is not a size (digits, then M or G: 512M, 2G)") == 0,
	      "%s", error);
	CHECK(def->memory_mib == 2048, "kept");
	CHECK(vmapp_vmdef_set(def, "share", "/a\nb", error, sizeof(error)) == -EINVAL &&
	      strcmp(error, "share value has the control character 0x0a") == 0, "%s", error);
	CHECK(def->share == NULL, "share kept");
	/* The file can not keep spaces at either end of a value. */
	CHECK(vmapp_vmdef_set(def, "share", "/a ", error, sizeof(error)) == -EINVAL &&
	      strcmp(error, "share value starts or ends with a space") == 0, "%s", error);
	CHECK(vmapp_vmdef_set(def, "share", " /a", error, sizeof(error)) == -EINVAL, "leading space");
	CHECK(vmapp_vmdef_set(def, "bogus\n", "1", error, sizeof(error)) == -EINVAL &&
	      strncmp(error, "bad key", 7) == 0, "%s", error);
	CHECK(vmapp_vmdef_set(def, "colour", "#A0b1C2", error, sizeof(error)) == 0, "%s", error);
	CHECK(vmapp_vmdef_get(def, "colour", buf, sizeof(buf)) == 0 && strcmp(buf, "#a0b1c2") == 0,
	      "colour '%s'", buf);
	CHECK(vmapp_vmdef_get(def, "nothing", buf, sizeof(buf)) == -EINVAL, "unknown key");
	CHECK(vmapp_vmdef_get(def, "image", buf, 4) == -ENOSPC && buf[0] == '\0', "small buffer");
	vmapp_vmdef_destroy(def);
	vmapp_vmdef_destroy(NULL);
}

static void round_trip(const char *text, const char *expected_text)
{
	struct vmapp_vmdef *def = PARSE_OK(text), *again;
	char error[512], *out;

	if (!def)
		return;
	out = vmapp_vmdef_serialize(def);
	if (!CHECK(out != NULL, "serialize")) {
		vmapp_vmdef_destroy(def);
		return;
	}
	if (expected_text)
		CHECK(strcmp(out, expected_text) == 0, "\n  got:\n%s\n  expected:\n%s", out,
		      expected_text);
	again = NULL;
	CHECK(vmapp_vmdef_parse(out, strlen(out), "out.vm", "test", error, sizeof(error), &again) ==
	      0, "serialized text does not parse: %s\n%s", error, out);
	CHECK(again && vmapp_vmdef_equal(def, again), "round trip changed the definition:\n%s", out);
	vmapp_vmdef_destroy(again);
	vmapp_vmdef_destroy(def);
	free(out);
}

static void test_round_trip(void)
{
	round_trip("",
		   "# vmapp VM 'test': see vmapp-vm(5)\n"
		   "memory = 2G\n"
		   "cpus = 2\n"
		   "image = default\n"
		   "accel = auto\n"
		   "network = off\n"
		   "audio = off\n"
		   "audio_backend = pulseaudio\n"
		   "share = none\n"
		   "share_mode = auto\n"
		   "transport = auto\n"
		   "policy = default\n"
		   "colour = none\n"
		   "packages = foot fonts-dejavu-core\n");
	round_trip("memory = 768M\ncpus = 3\nimage = /srv/i\naccel = kvm\nnetwork = nat\n"
		   "audio = playback\naudio_backend = wav\nshare = /home/u/a, b #c\nshare_mode = 9p\n"
		   "transport = vsock\npolicy = /etc/p\ncolour = #00ff7F\npackages =  firefox-esr   foot \n",
		   "# vmapp VM 'test': see vmapp-vm(5)\n"
		   "memory = 768M\n"
		   "cpus = 3\n"
		   "image = /srv/i\n"
		   "accel = kvm\n"
		   "network = nat\n"
		   "audio = playback\n"
		   "audio_backend = wav\n"
		   "share = /home/u/a, b #c\n"
		   "share_mode = 9p\n"
		   "transport = vsock\n"
		   "policy = /etc/p\n"
		   "colour = #00ff7f\n"
		   "packages = firefox-esr foot\n");
	round_trip("audio = duplex\naudio_backend = pipewire\nshare_mode = virtiofs\n"
		   "transport = serial\naccel = tcg\nimage = debian-12\n", NULL);
}

static void test_check_host(void)
{
	struct vmapp_vmdef *def = vmapp_vmdef_create("h");
	char error[256];

	if (!def)
		return;
	def->cpus = 4;
	def->memory_mib = 8192;
	CHECK(vmapp_vmdef_check_host(def, 4, 8192, error, sizeof(error)) == 0, "%s", error);
	CHECK(vmapp_vmdef_check_host(def, 2, 16384, error, sizeof(error)) == -EINVAL &&
	      strcmp(error, "cpus 4 is more than this host's 2 CPUs") == 0, "%s", error);
	CHECK(vmapp_vmdef_check_host(def, 8, 4096, error, sizeof(error)) == -EINVAL &&
	      strcmp(error, "memory 8192M is more than this host's 4096M") == 0, "%s", error);
	CHECK(vmapp_host_cpus() >= 1, "host cpus %u", vmapp_host_cpus());
	CHECK(vmapp_host_memory_mib() >= 1, "host memory");
	vmapp_vmdef_destroy(def);
}

static void test_paths(void)
{
	struct vmapp_vm_paths paths;
	struct vmapp_env env = { .home = "/home/u", .xdg_runtime_dir = "/run/user/1000" };
	struct vmapp_vmdef *def;
	char error[256], dir[VMAPP_VM_PATH_MAX];

	CHECK(vmapp_vm_paths_init(&paths, &env, "work", error, sizeof(error)) == 0, "%s", error);
	CHECK(strcmp(paths.config_dir, "/home/u/.config/vmapp") == 0, "%s", paths.config_dir);
	CHECK(strcmp(paths.config_file, "/home/u/.config/vmapp/work.vm") == 0, "%s", paths.config_file);
	CHECK(strcmp(paths.state_dir, "/home/u/.local/state/vmapp/work") == 0, "%s", paths.state_dir);
	CHECK(strcmp(paths.console_log, "/home/u/.local/state/vmapp/work/console.log") == 0, "%s",
	      paths.console_log);
	CHECK(strcmp(paths.images_dir, "/home/u/.local/share/vmapp/images") == 0, "%s",
	      paths.images_dir);
	CHECK(paths.has_runtime, "runtime");
	CHECK(strcmp(paths.runtime_dir, "/run/user/1000/vmapp/work") == 0, "%s", paths.runtime_dir);
	CHECK(strcmp(paths.pid_file, "/run/user/1000/vmapp/work/qemu.pid") == 0, "%s", paths.pid_file);
	CHECK(strcmp(paths.transport_socket, "/run/user/1000/vmapp/work/transport.sock") == 0, "%s",
	      paths.transport_socket);
	CHECK(strcmp(paths.virtiofs_socket, "/run/user/1000/vmapp/work/virtiofs.sock") == 0, "%s",
	      paths.virtiofs_socket);
	CHECK(strcmp(paths.vsock_socket, "/run/user/1000/vmapp/work/vsock.sock") == 0, "%s",
	      paths.vsock_socket);
	CHECK(strcmp(paths.agent_socket, "/run/user/1000/vmapp/work/agent.sock") == 0, "%s",
	      paths.agent_socket);
	CHECK(strcmp(paths.qmp_socket, "/run/user/1000/vmapp/work/qmp.sock") == 0, "%s",
	      paths.qmp_socket);
	CHECK(vmapp_vm_paths_runtime_error(&paths, &env) == NULL, "runtime error");

	/* XDG variables when absolute; relative ones are ignored (the spec). */
	env.xdg_config_home = "/cfg";
	env.xdg_state_home = "relative/state";
	env.xdg_data_home = "/data";
	CHECK(vmapp_vm_paths_init(&paths, &env, "work", error, sizeof(error)) == 0, "%s", error);
	CHECK(strcmp(paths.config_file, "/cfg/vmapp/work.vm") == 0, "%s", paths.config_file);
	CHECK(strcmp(paths.state_dir, "/home/u/.local/state/vmapp/work") == 0, "%s", paths.state_dir);
	CHECK(strcmp(paths.images_dir, "/data/vmapp/images") == 0, "%s", paths.images_dir);

	def = vmapp_vmdef_create("work");
	if (def) {
		CHECK(vmapp_vm_image_dir(def, &paths, dir, sizeof(dir)) == 0 &&
		      strcmp(dir, "/data/vmapp/images/default") == 0, "%s", dir);
		CHECK(vmapp_vmdef_set(def, "image", "/srv/img", NULL, 0) == 0, "set image");
		CHECK(vmapp_vm_image_dir(def, &paths, dir, sizeof(dir)) == 0 &&
		      strcmp(dir, "/srv/img") == 0, "%s", dir);
		vmapp_vmdef_destroy(def);
	}

	/* No runtime directory: the rest still works, and says why. */
	env.xdg_runtime_dir = NULL;
	CHECK(vmapp_vm_paths_init(&paths, &env, "work", error, sizeof(error)) == 0, "%s", error);
	CHECK(!paths.has_runtime && paths.runtime_dir[0] == '\0' &&
	      paths.transport_socket[0] == '\0', "no runtime");
	CHECK(strcmp(vmapp_vm_paths_runtime_error(&paths, &env), "XDG_RUNTIME_DIR is not set") == 0,
	      "%s", vmapp_vm_paths_runtime_error(&paths, &env));
	env.xdg_runtime_dir = "run";
	CHECK(vmapp_vm_paths_init(&paths, &env, "work", error, sizeof(error)) == 0 &&
	      !paths.has_runtime, "relative runtime");
	CHECK(strcmp(vmapp_vm_paths_runtime_error(&paths, &env),
		     "XDG_RUNTIME_DIR is not an absolute path") == 0, "relative runtime error");
	/* Socket paths must fit in sockaddr_un. */
	env.xdg_runtime_dir = "/run/user/1000/a-very-long-runtime-directory-name-that-goes-on-and-on-"
			      "and-on-for-a-while";
	CHECK(vmapp_vm_paths_init(&paths, &env, "abcdefghijklmnopqrstuvwxyz012345", error,
				  sizeof(error)) == 0 && !paths.has_runtime, "long runtime");
	CHECK(strncmp(vmapp_vm_paths_runtime_error(&paths, &env), "XDG_RUNTIME_DIR is too long", 27) ==
	      0, "long runtime error");

	/* Bad names and no home. */
	CHECK(vmapp_vm_paths_init(&paths, &env, "../x", error, sizeof(error)) == -EINVAL &&
	      strcmp(error, "VM name '../x' has '.' (only a-z, 0-9 and '-')") == 0, "%s", error);
	env = (struct vmapp_env){ .home = NULL };
	CHECK(vmapp_vm_paths_init(&paths, &env, "work", error, sizeof(error)) == -EINVAL &&
	      strcmp(error, "XDG_CONFIG_HOME is not set and HOME is not an absolute path") == 0,
	      "%s", error);
	env.home = "relative-home";
	env.xdg_config_home = "/cfg";
	CHECK(vmapp_vm_paths_init(&paths, &env, "work", error, sizeof(error)) == -EINVAL &&
	      strcmp(error, "XDG_STATE_HOME is not set and HOME is not an absolute path") == 0,
	      "%s", error);
}

static void test_files(void)
{
	char tmpl[] = "/tmp/vmapp-test-vmdef-XXXXXX", error[512], path[2048], config[256], **names;
	struct vmapp_env env = { 0 };
	struct vmapp_vm_paths paths;
	struct vmapp_vmdef *def, *loaded;
	size_t n;
	int fd;

	if (!CHECK(mkdtemp(tmpl) != NULL, "mkdtemp"))
		return;
	snprintf(config, sizeof(config), "%s/config", tmpl);
	env.home = tmpl;
	env.xdg_config_home = config;

	/* A missing folder is an empty list. */
	CHECK(vmapp_vm_list(config, &names, &n) == 0 && n == 0 && names && !names[0], "empty list");
	vmapp_vm_list_free(names);

	CHECK(vmapp_vm_paths_init(&paths, &env, "work", error, sizeof(error)) == 0, "%s", error);
	CHECK(vmapp_vm_create(&paths, "work", error, sizeof(error)) == 0, "create: %s", error);
	CHECK(vmapp_vm_create(&paths, "work", error, sizeof(error)) == -EEXIST, "create twice");
	CHECK(strstr(error, "VM 'work' already exists") != NULL, "%s", error);
	CHECK(vmapp_vm_paths_init(&paths, &env, "mail", error, sizeof(error)) == 0, "%s", error);
	CHECK(vmapp_vm_create(&paths, "mail", error, sizeof(error)) == 0, "create: %s", error);
	CHECK(vmapp_vm_create(&paths, "Bad", error, sizeof(error)) == -EINVAL, "bad name");

	/* Files that are not VMs are not listed. */
	snprintf(path, sizeof(path), "%s/Upper.vm", paths.config_dir);
	fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	close(fd);
	snprintf(path, sizeof(path), "%s/notes.txt", paths.config_dir);
	fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	close(fd);
	snprintf(path, sizeof(path), "%s/.vm", paths.config_dir);
	fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	close(fd);
	CHECK(vmapp_vm_list(paths.config_dir, &names, &n) == 0, "list");
	CHECK(n == 2 && names && strcmp(names[0], "mail") == 0 && strcmp(names[1], "work") == 0 &&
	      names[2] == NULL, "list: %zu", n);
	vmapp_vm_list_free(names);

	/* What create wrote loads as the defaults. */
	CHECK(vmapp_vm_paths_init(&paths, &env, "work", error, sizeof(error)) == 0, "%s", error);
	loaded = NULL;
	CHECK(vmapp_vmdef_load(paths.config_file, "work", error, sizeof(error), &loaded) == 0,
	      "load: %s", error);
	def = vmapp_vmdef_create("work");
	CHECK(loaded && def && vmapp_vmdef_equal(def, loaded), "created file is the defaults");
	vmapp_vmdef_destroy(loaded);

	/* A change written and read back. */
	if (def) {
		CHECK(vmapp_vmdef_set(def, "network", "nat", NULL, 0) == 0, "set");
		CHECK(vmapp_vmdef_set(def, "share", "/home/u/Shared", NULL, 0) == 0, "set");
		CHECK(vmapp_vmdef_write(paths.config_file, def, error, sizeof(error)) == 0, "write: %s",
		      error);
		loaded = NULL;
		CHECK(vmapp_vmdef_load(paths.config_file, "work", error, sizeof(error), &loaded) == 0,
		      "load: %s", error);
		CHECK(loaded && vmapp_vmdef_equal(def, loaded), "written file reads back");
		vmapp_vmdef_destroy(loaded);
		vmapp_vmdef_destroy(def);
	}

	/* A bad file names itself and the line. */
	snprintf(path, sizeof(path), "%s/broken.vm", paths.config_dir);
	fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	if (fd >= 0) {
		CHECK(write(fd, "cpus = 2\nnetwork = yes\n", 23) == 23, "write");
		close(fd);
	}
	loaded = NULL;
	CHECK(vmapp_vmdef_load(path, "broken", error, sizeof(error), &loaded) == -EINVAL &&
	      !loaded, "broken loads");
	CHECK(strstr(error, "/broken.vm:2: bad network 'yes' (expected off or nat)") != NULL, "%s",
	      error);
	snprintf(path, sizeof(path), "%s/missing.vm", paths.config_dir);
	CHECK(vmapp_vmdef_load(path, "missing", error, sizeof(error), &loaded) == -ENOENT, "missing");
	CHECK(strstr(error, "missing.vm: No such file or directory") != NULL, "%s", error);

	/* Clean up. */
	{
		static const char *const files[] = {
			"work.vm", "mail.vm", "Upper.vm", "notes.txt", ".vm", "broken.vm",
		};

		for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
			snprintf(path, sizeof(path), "%s/%s", paths.config_dir, files[i]);
			unlink(path);
		}
		rmdir(paths.config_dir);
		rmdir(config);
		CHECK(rmdir(tmpl) == 0, "leftover files in %s", tmpl);
	}
}

/* Replaces every `from` in s by the shorter `to`, in place. */
static void replace_all(char *s, const char *from, const char *to)
{
	size_t from_len = strlen(from), to_len = strlen(to);
	char *p = s;

	while ((p = strstr(p, from))) {
		memcpy(p, to, to_len);
		memmove(p + to_len, p + from_len, strlen(p + from_len) + 1);
		p += to_len;
	}
}

/* vmapp-vm(5) documents every key, and its DEFAULTS are what create
 * writes. */
static void test_man_page(const char *path)
{
	struct vmapp_vmdef *def = vmapp_vmdef_create("work");
	char *text = NULL, *defaults = def ? vmapp_vmdef_serialize(def) : NULL, item[64];
	size_t n_keys, size = 0;
	const char *const *keys = vmapp_vmdef_keys(&n_keys);
	FILE *f = fopen(path, "re");

	if (!CHECK(f != NULL, "can not open %s", path) || !CHECK(defaults != NULL, "serialize"))
		goto out;
	text = calloc(1, 256 * 1024);
	if (text)
		size = fread(text, 1, 256 * 1024 - 1, f);
	if (!CHECK(size > 0, "can not read %s", path))
		goto out;
	replace_all(text, "\\-", "-");
	replace_all(text, "\\(aq", "'");
	for (size_t i = 0; i < n_keys; i++) {
		snprintf(item, sizeof(item), ".BI \"%s = \"", keys[i]);
		CHECK(strstr(text, item) != NULL, "%s: no item for key '%s'", path, keys[i]);
	}
	CHECK(strstr(text, defaults) != NULL, "%s: DEFAULTS is not what create writes:\n%s", path,
	      defaults);
out:
	if (f)
		fclose(f);
	free(text);
	free(defaults);
	vmapp_vmdef_destroy(def);
}

int main(int argc, char **argv)
{
	test_names();
	test_defaults();
	test_valid();
	test_errors();
	test_set_get();
	test_round_trip();
	test_check_host();
	test_paths();
	test_files();
	if (argc > 1)
		test_man_page(argv[1]);
	return check_exit_code();
}
