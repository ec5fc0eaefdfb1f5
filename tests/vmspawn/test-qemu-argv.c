/* SPDX-License-Identifier: MIT */
/*
 * The QEMU argv builder: escaping, the log form, and rules that must hold
 * for every combination of the definition's toggles (the golden tests pin
 * the exact words of each toggle alone).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "qemu-argv.h"

static void test_escape(void)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "", "" },
		{ "/plain/path", "/plain/path" },
		{ "/a,b", "/a,,b" },
		{ ",", ",," },
		{ ",,", ",,,," },
		{ "/a,b,c,", "/a,,b,,c,," },
		{ "/été/'\"/ =x", "/été/'\"/ =x" },
	};
	static const char *const refused[] = {
		"/a\nb", "\n", "/a\rb", "/a\tb", "/a\x1b[31m", "/a\x7f", "\x01",
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *e = vmapp_qemu_escape(cases[i].in);

		CHECK(e && strcmp(e, cases[i].out) == 0, "escape '%s': '%s', expected '%s'",
		      cases[i].in, e ? e : "(null)", cases[i].out);
		free(e);
	}
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		char *e;

		errno = 0;
		e = vmapp_qemu_escape(refused[i]);
		CHECK(e == NULL && errno == EINVAL, "escape of case %zu not refused", i);
		free(e);
	}
}

static void test_quoted(void)
{
	char *plain[] = { "qemu", "-m", "2048M", "-chardev", "file,id=c,path=/a,,b", NULL };
	char *odd[] = { "q", "", "a b", "it's", "\"x\"", "$HOME", "*", "été", NULL };
	char *ctrl[] = { "q", "a\nb", "\x1b[1m'\\", NULL };
	char *line;

	line = vmapp_argv_quoted(plain);
	CHECK(line && strcmp(line, "qemu -m 2048M -chardev file,id=c,path=/a,,b") == 0, "%s",
	      line ? line : "(null)");
	free(line);
	line = vmapp_argv_quoted(odd);
	CHECK(line && strcmp(line, "q '' 'a b' 'it'\\''s' '\"x\"' '$HOME' '*' 'été'") == 0, "%s",
	      line ? line : "(null)");
	free(line);
	/* Never produced by vmapp_qemu_argv(), but the log stays one line. */
	line = vmapp_argv_quoted(ctrl);
	CHECK(line && strcmp(line, "q $'a\\x0ab' $'\\x1b[1m\\x27\\x5c'") == 0, "%s",
	      line ? line : "(null)");
	CHECK(line && !strchr(line, '\n'), "newline in the log form");
	free(line);
}

static const struct vmapp_qemu_facts base_facts = {
	.accel = VMAPP_ACCEL_TCG,
	.transport = VMAPP_TRANSPORT_SERIAL,
	.guest_cid = 3,
	.vsock_port = 5000,
	.vsock_socket = "/run/vs.sock",
	.transport_socket = "/run/t.sock",
	.share_mode = VMAPP_SHARE_9P,
	.virtiofs_socket = "/run/v.sock",
	.kernel = "/i/kernel",
	.initrd = "/i/initrd",
	.root = "/s/root.img",
	.console_log = "/s/console.log",
	.audio_wav = "/s/audio.wav",
};

/* Devices vmapp may ever give a guest. */
static const char *const allowed_devices[] = {
	"virtio-blk-pci", "virtio-rng-pci", "virtio-serial-pci", "virtserialport",
	"vhost-vsock-pci", "vhost-user-vsock-pci", "virtio-net-pci", "intel-hda", "hda-output", "hda-duplex",
	"vhost-user-fs-pci", "virtio-9p-pci",
};

static bool device_allowed(const char *value)
{
	size_t len = strcspn(value, ",");

	for (size_t i = 0; i < sizeof(allowed_devices) / sizeof(allowed_devices[0]); i++)
		if (strlen(allowed_devices[i]) == len && strncmp(value, allowed_devices[i], len) == 0)
			return true;
	return false;
}

/* The value of the first option `name` whose value starts with prefix. */
static const char *find(char **argv, const char *name, const char *prefix)
{
	for (size_t i = 1; argv[i] && argv[i + 1]; i++)
		if (strcmp(argv[i], name) == 0 && strncmp(argv[i + 1], prefix, strlen(prefix)) == 0)
			return argv[i + 1];
	return NULL;
}

static bool has_word(char **argv, const char *word)
{
	for (size_t i = 0; argv[i]; i++)
		if (strcmp(argv[i], word) == 0)
			return true;
	return false;
}

static void check_combination(const struct vmapp_vmdef *def, const struct vmapp_qemu_facts *f,
			      char **argv, const char *what)
{
	const char *v;
	size_t devices = 0;

	CHECK(strcmp(argv[0], "qemu-system-x86_64") == 0, "%s: argv[0] %s", what, argv[0]);
	CHECK(has_word(argv, "-nodefaults") && has_word(argv, "-no-user-config") &&
	      has_word(argv, "-no-reboot"), "%s: -nodefaults, -no-user-config, -no-reboot", what);
	/* -nographic would add a serial port and a monitor of its own. */
	CHECK(!has_word(argv, "-nographic") && !has_word(argv, "-usb") && !has_word(argv, "-net") &&
	      !has_word(argv, "-nic") && !has_word(argv, "-hda") && !has_word(argv, "-drive") &&
	      !has_word(argv, "-fda") && !has_word(argv, "-cdrom") && !has_word(argv, "-virtfs"),
	      "%s: a legacy option", what);
	v = find(argv, "-machine", "q35");
	CHECK(v && strstr(v, "usb=off") && strstr(v, "mem-merge=off"), "%s: machine", what);
	v = find(argv, "-sandbox", "on");
	CHECK(v && strcmp(v, "on,obsolete=deny,elevateprivileges=deny,spawn=deny,"
			     "resourcecontrol=deny") == 0, "%s: sandbox", what);
	CHECK(find(argv, "-display", "none") && find(argv, "-vga", "none") &&
	      find(argv, "-monitor", "none"), "%s: display, vga, monitor", what);
	CHECK(find(argv, "-accel", f->accel == VMAPP_ACCEL_KVM ? "kvm" : "tcg") &&
	      find(argv, "-cpu", f->accel == VMAPP_ACCEL_KVM ? "host" : "max"), "%s: accel", what);

	for (size_t i = 0; argv[i]; i++) {
		for (const char *p = argv[i]; *p; p++)
			CHECK((unsigned char)*p >= 0x20 && *p != 0x7f, "%s: control character in '%s'",
			      what, argv[i]);
		if (strcmp(argv[i], "-device") == 0 && argv[i + 1]) {
			devices++;
			CHECK(device_allowed(argv[i + 1]), "%s: device %s", what, argv[i + 1]);
		}
	}

	/* network: off is no device at all. */
	CHECK((def->network == VMAPP_NETWORK_NAT) == (find(argv, "-netdev", "") != NULL) &&
	      (def->network == VMAPP_NETWORK_NAT) == (find(argv, "-device", "virtio-net-pci") != NULL),
	      "%s: network", what);
	if (def->network == VMAPP_NETWORK_NAT)
		CHECK(strcmp(find(argv, "-netdev", ""), "user,id=net0") == 0, "%s: netdev", what);

	/* audio: a device only when on; playback has no input anywhere. */
	v = find(argv, "-audiodev", "");
	CHECK((def->audio != VMAPP_AUDIO_OFF) == (v != NULL) &&
	      (def->audio != VMAPP_AUDIO_OFF) == (find(argv, "-device", "intel-hda") != NULL),
	      "%s: audio", what);
	CHECK((def->audio == VMAPP_AUDIO_PLAYBACK) == (find(argv, "-device", "hda-output") != NULL) &&
	      (def->audio == VMAPP_AUDIO_DUPLEX) == (find(argv, "-device", "hda-duplex") != NULL),
	      "%s: codec", what);
	if (v)
		CHECK((def->audio == VMAPP_AUDIO_PLAYBACK) == (strstr(v, ",in.voices=0") != NULL),
		      "%s: in.voices %s", what, v);

	/* share */
	CHECK((def->share && f->share_mode == VMAPP_SHARE_9P) == (find(argv, "-fsdev", "") != NULL) &&
	      (def->share && f->share_mode == VMAPP_SHARE_9P) ==
	      (find(argv, "-device", "virtio-9p-pci") != NULL), "%s: 9p", what);
	CHECK((def->share && f->share_mode == VMAPP_SHARE_VIRTIOFS) ==
	      (find(argv, "-device", "vhost-user-fs-pci") != NULL), "%s: virtiofs", what);

	/* transport: exactly one of the three; the port on the kernel's
	 * command line with vsock only. */
	bool kernel = f->transport == VMAPP_TRANSPORT_VSOCK && f->vsock_device == VMAPP_VSOCK_KERNEL;
	bool user = f->transport == VMAPP_TRANSPORT_VSOCK && f->vsock_device == VMAPP_VSOCK_USER;
	CHECK(kernel == (find(argv, "-device", "vhost-vsock-pci,guest-cid=") != NULL) &&
	      user == (find(argv, "-device", "vhost-user-vsock-pci,chardev=vsock") != NULL) &&
	      user == (find(argv, "-chardev", "socket,id=vsock,path=/run/vs.sock") != NULL) &&
	      (f->transport == VMAPP_TRANSPORT_SERIAL) ==
	      (find(argv, "-device", "virtserialport,") != NULL), "%s: transport", what);
	v = find(argv, "-append", "");
	CHECK(v && (f->transport == VMAPP_TRANSPORT_VSOCK) ==
	      (strstr(v, " vmapp.vsock_port=5000") != NULL), "%s: append %s", what, v);

	/* Guest RAM shared only with a vhost-user device that reads it. */
	CHECK((user || (def->share && f->share_mode == VMAPP_SHARE_VIRTIOFS)) ==
	      (find(argv, "-object", "memory-backend-memfd,id=ram,size=2048M,share=on") != NULL),
	      "%s: shared RAM", what);

	/* Root, rng, and the rest counted: nothing else slipped in. */
	CHECK(find(argv, "-device", "virtio-blk-pci,drive=root") &&
	      find(argv, "-device", "virtio-rng-pci"), "%s: root, rng", what);
	CHECK(devices == (size_t)(2 + (f->transport == VMAPP_TRANSPORT_VSOCK ? 1 : 2) +
				  (def->network == VMAPP_NETWORK_NAT ? 1 : 0) +
				  (def->audio != VMAPP_AUDIO_OFF ? 2 : 0) + (def->share ? 1 : 0)),
	      "%s: %zu devices", what, devices);
}

static void test_combinations(void)
{
	size_t n = 0;

	for (int accel = VMAPP_ACCEL_KVM; accel <= VMAPP_ACCEL_TCG; accel++)
	for (int network = VMAPP_NETWORK_OFF; network <= VMAPP_NETWORK_NAT; network++)
	for (int audio = VMAPP_AUDIO_OFF; audio <= VMAPP_AUDIO_DUPLEX; audio++)
	for (int backend = VMAPP_AUDIO_BACKEND_PULSEAUDIO; backend <= VMAPP_AUDIO_BACKEND_NONE; backend++)
	for (int share = 0; share < 3; share++)
	for (int transport = 0; transport < 3; transport++) { /* vsock kernel, vsock user, serial */
		struct vmapp_vmdef *def = vmapp_vmdef_create("combo");
		struct vmapp_qemu_facts f = base_facts;
		char error[256], what[128], **argv = NULL;
		int r;

		if (!def)
			continue;
		def->accel = (enum vmapp_accel)accel;
		def->network = (enum vmapp_network)network;
		def->audio = (enum vmapp_audio)audio;
		def->audio_backend = (enum vmapp_audio_backend)backend;
		def->transport = transport == 2 ? VMAPP_TRANSPORT_SERIAL : VMAPP_TRANSPORT_VSOCK;
		if (share > 0)
			def->share = strdup("/home/u/Shared");
		f.accel = (enum vmapp_accel)accel;
		f.transport = def->transport;
		f.vsock_device = transport == 1 ? VMAPP_VSOCK_USER : VMAPP_VSOCK_KERNEL;
		f.share_mode = share == 2 ? VMAPP_SHARE_VIRTIOFS : VMAPP_SHARE_9P;
		snprintf(what, sizeof(what), "accel %d network %d audio %d backend %d share %d transport %d",
			 accel, network, audio, backend, share, transport);

		r = vmapp_qemu_argv(def, &f, error, sizeof(error), &argv);
		if (audio == VMAPP_AUDIO_DUPLEX && backend == VMAPP_AUDIO_BACKEND_WAV) {
			CHECK(r == -EINVAL && !argv, "%s: duplex on wav accepted", what);
		} else if (CHECK(r == 0 && argv, "%s: %s", what, error)) {
			check_combination(def, &f, argv, what);
			n++;
		}
		vmapp_argv_free(argv);
		vmapp_vmdef_destroy(def);
	}
	CHECK(n == 2 * 2 * (1 * 4 + 1 * 4 + 1 * 3) * 3 * 3, "%zu combinations built", n);
}

static void test_errors(void)
{
	struct vmapp_vmdef *def = vmapp_vmdef_create("e");
	struct vmapp_qemu_facts f = base_facts;
	char error[256], **argv = (char **)1;

	if (!def)
		return;
	/* The error buffer may be NULL; argv is NULL on error. */
	f.kernel = "kernel";
	CHECK(vmapp_qemu_argv(def, &f, NULL, 0, &argv) == -EINVAL && argv == NULL, "NULL error");
	/* The first error is the one reported. */
	f.initrd = NULL;
	CHECK(vmapp_qemu_argv(def, &f, error, sizeof(error), &argv) == -EINVAL &&
	      strcmp(error, "kernel: 'kernel' is not an absolute path") == 0, "%s", error);
	/* A definition changed behind the parser's back is still checked. */
	f = base_facts;
	def->cpus = 0;
	CHECK(vmapp_qemu_argv(def, &f, error, sizeof(error), &argv) == -EINVAL &&
	      strcmp(error, "cpus: 0 is out of range (1 to 64)") == 0, "%s", error);
	def->cpus = 2;
	def->memory_mib = 1;
	CHECK(vmapp_qemu_argv(def, &f, error, sizeof(error), &argv) == -EINVAL &&
	      strcmp(error, "memory: 1M is out of range") == 0, "%s", error);
	def->memory_mib = 2048;
	free(def->share);
	def->share = strdup("/a\nb");
	CHECK(vmapp_qemu_argv(def, &f, error, sizeof(error), &argv) == -EINVAL &&
	      strcmp(error, "share: control character 0x0a at byte 3 of the path can not be passed "
			    "to QEMU") == 0, "%s", error);
	/* Success clears the error. */
	free(def->share);
	def->share = NULL;
	strcpy(error, "stale");
	CHECK(vmapp_qemu_argv(def, &f, error, sizeof(error), &argv) == 0 && error[0] == '\0',
	      "%s", error);
	vmapp_argv_free(argv);
	vmapp_argv_free(NULL);
	vmapp_vmdef_destroy(def);
}

int main(void)
{
	test_escape();
	test_quoted();
	test_combinations();
	test_errors();
	return check_exit_code();
}
