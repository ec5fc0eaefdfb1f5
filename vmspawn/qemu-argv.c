/* SPDX-License-Identifier: MIT */
/*
 * The QEMU command line, built as a string vector from the definition and
 * the resolved facts.  Every device is named here, in a fixed order, so
 * that a toggle of the definition changes exactly its own arguments: the
 * golden tests in tests/vmspawn/ pin both.
 *
 * Why each piece (vmapp-vm(5) says the same for users):
 * - -nodefaults -no-user-config: no device or config file we did not name
 *   (no VGA, NIC, serial, parallel, floppy, CD-ROM, monitor).
 * - q35, not microvm: microvm hung about 1 boot in 15 here without a
 *   tsc_early_khz that depends on the host; q35 did not.  What q35 has of
 *   its own is turned off: USB, SATA, SMBus, vmport, SMM, the PS/2
 *   controller.  mem-merge=off keeps KSM from merging pages across VMs (a
 *   timing side channel); dump-guest-core=off keeps guest memory out of
 *   QEMU core dumps.
 * - The guest RAM is a memfd backend: vhost-user-fs (virtiofs) needs it
 *   shared with virtiofsd, and with a backend always there the share
 *   toggle changes share=off to share=on and nothing else of the memory.
 * - Direct kernel boot, the console on the first ISA serial port into a
 *   file; -no-reboot and panic=-1 make a reboot or a panic end QEMU.
 * - The root disk as -blockdev with the driver named: no format probing (a
 *   guest that writes a qcow2 header into a raw image must not change how
 *   the host opens it next time) and no filename protocol prefixes.
 * - -sandbox: QEMU's own seccomp filter, everything it offers denied.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qemu-argv.h"

#define DEFAULT_QEMU "qemu-system-x86_64"

/* The port the guest agent opens as /dev/virtio-ports/vmapp. */
#define SERIAL_PORT_NAME "vmapp"
/* The tag the guest mounts the shared folder by (virtiofs and 9p). */
#define SHARE_TAG "share"

#define KERNEL_APPEND "console=ttyS0 root=/dev/vda rw quiet panic=-1"

#define SANDBOX "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny"

#define MACHINE "q35,usb=off,sata=off,smbus=off,vmport=off,smm=off,i8042=off," \
	"dump-guest-core=off,mem-merge=off,memory-backend=ram"

struct builder {
	char **argv;
	size_t n, allocated;
	char *escaped[16]; /* escaped values, freed at the end */
	size_t n_escaped;
	int r;             /* first error */
	char *error;
	size_t error_size;
};

static void fail(struct builder *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Keeps the first error only: it is the one that says what went wrong. */
static void fail(struct builder *b, const char *fmt, ...)
{
	va_list ap;

	if (b->r < 0)
		return;
	b->r = -EINVAL;
	if (!b->error || b->error_size == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(b->error, b->error_size, fmt, ap);
	va_end(ap);
}

static void out_of_memory(struct builder *b)
{
	if (b->r < 0)
		return;
	b->r = -ENOMEM;
	if (b->error && b->error_size > 0)
		snprintf(b->error, b->error_size, "out of memory");
}

static void push(struct builder *b, char *s)
{
	if (!s) {
		out_of_memory(b);
		return;
	}
	if (b->r < 0) {
		free(s);
		return;
	}
	if (b->n + 2 > b->allocated) {
		size_t want = b->allocated ? b->allocated * 2 : 64;
		char **a = reallocarray(b->argv, want, sizeof(*a));

		if (!a) {
			free(s);
			out_of_memory(b);
			return;
		}
		b->argv = a;
		b->allocated = want;
	}
	b->argv[b->n++] = s;
	b->argv[b->n] = NULL;
}

static void add(struct builder *b, const char *s)
{
	push(b, strdup(s));
}

/* An option and its value, two words. */
static void option(struct builder *b, const char *name, const char *value)
{
	add(b, name);
	add(b, value);
}

static void optionf(struct builder *b, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void optionf(struct builder *b, const char *name, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	add(b, name);
	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	push(b, n < 0 ? NULL : s);
}

/* The first control character of value, or -1. */
static int control_at(const char *value)
{
	for (size_t i = 0; value[i]; i++) {
		unsigned char c = (unsigned char)value[i];

		if (c < 0x20 || c == 0x7f)
			return (int)i;
	}
	return -1;
}

char *vmapp_qemu_escape(const char *value)
{
	size_t len = strlen(value), commas = 0;
	char *out, *o;

	if (control_at(value) >= 0) {
		errno = EINVAL;
		return NULL;
	}
	for (size_t i = 0; i < len; i++)
		if (value[i] == ',')
			commas++;
	out = malloc(len + commas + 1);
	if (!out)
		return NULL;
	o = out;
	for (size_t i = 0; i < len; i++) {
		*o++ = value[i];
		if (value[i] == ',')
			*o++ = ',';
	}
	*o = '\0';
	return out;
}

/*
 * Checks a path from the facts or the definition: present, absolute, no
 * control character.  what names it in the error.
 */
static bool check_path(struct builder *b, const char *what, const char *path)
{
	int at;

	if (b->r < 0)
		return false;
	if (!path || path[0] == '\0') {
		fail(b, "%s: no path given", what);
		return false;
	}
	if (path[0] != '/') {
		fail(b, "%s: '%s' is not an absolute path", what, control_at(path) < 0 ? path : "?");
		return false;
	}
	at = control_at(path);
	if (at >= 0) {
		fail(b, "%s: control character 0x%02x at byte %d of the path can not be passed "
			"to QEMU", what, (unsigned char)path[at], at + 1);
		return false;
	}
	return true;
}

/* A path checked and escaped for a key=value option; NULL on error (set).
 * The builder owns the result. */
static const char *escaped_path(struct builder *b, const char *what, const char *path)
{
	char *e;

	if (!check_path(b, what, path))
		return NULL;
	if (b->n_escaped == sizeof(b->escaped) / sizeof(b->escaped[0])) {
		fail(b, "%s: too many escaped values", what);
		return NULL;
	}
	e = vmapp_qemu_escape(path);
	if (!e) {
		out_of_memory(b);
		return NULL;
	}
	b->escaped[b->n_escaped++] = e;
	return e;
}

void vmapp_argv_free(char **argv)
{
	if (!argv)
		return;
	for (char **p = argv; *p; p++)
		free(*p);
	free(argv);
}

static void check_vsock(struct builder *b, const struct vmapp_qemu_facts *f)
{
	if (f->vsock_device != VMAPP_VSOCK_KERNEL && f->vsock_device != VMAPP_VSOCK_USER)
		fail(b, "transport: unknown vsock device %d", (int)f->vsock_device);
	else if (f->vsock_device == VMAPP_VSOCK_KERNEL &&
		 (f->guest_cid < 3 || f->guest_cid == UINT32_MAX))
		/* 0, 1 and 2 are the hypervisor, loopback and the host;
		 * 0xffffffff is VMADDR_CID_ANY. */
		fail(b, "transport: guest CID %" PRIu32 " is reserved (3 to 4294967294)",
		     f->guest_cid);
	else if (f->vsock_device == VMAPP_VSOCK_KERNEL && f->vsock_vhostfd < 0)
		fail(b, "transport: vhostfd %d is not an fd", f->vsock_vhostfd);
	/* Ports to 1023 need privileges; 0xffffffff is VMADDR_PORT_ANY. */
	if (f->vsock_port < 1024 || f->vsock_port == UINT32_MAX)
		fail(b, "transport: vsock port %" PRIu32 " is out of range (1024 to 4294967294)",
		     f->vsock_port);
}

/* The facts resolve what the definition left to auto, and must not
 * contradict what it fixed. */
static void check_facts(struct builder *b, const struct vmapp_vmdef *def,
			const struct vmapp_qemu_facts *f)
{
	if (f->accel != VMAPP_ACCEL_KVM && f->accel != VMAPP_ACCEL_TCG)
		fail(b, "accel: not resolved to kvm or tcg");
	else if (def->accel != VMAPP_ACCEL_AUTO && def->accel != f->accel)
		fail(b, "accel: the definition says %s, the start chose %s",
		     vmapp_accel_name(def->accel), vmapp_accel_name(f->accel));

	if (f->transport != VMAPP_TRANSPORT_VSOCK && f->transport != VMAPP_TRANSPORT_SERIAL)
		fail(b, "transport: not resolved to vsock or serial");
	else if (def->transport != VMAPP_TRANSPORT_AUTO && def->transport != f->transport)
		fail(b, "transport: the definition says %s, the start chose %s",
		     vmapp_transport_name(def->transport), vmapp_transport_name(f->transport));
	else if (f->transport == VMAPP_TRANSPORT_VSOCK)
		check_vsock(b, f);

	if (def->share) {
		if (f->share_mode != VMAPP_SHARE_VIRTIOFS && f->share_mode != VMAPP_SHARE_9P)
			fail(b, "share_mode: not resolved to virtiofs or 9p");
		else if (def->share_mode != VMAPP_SHARE_AUTO && def->share_mode != f->share_mode)
			fail(b, "share_mode: the definition says %s, the start chose %s",
			     vmapp_share_mode_name(def->share_mode),
			     vmapp_share_mode_name(f->share_mode));
	}
	if (def->cpus < 1 || def->cpus > VMAPP_VM_CPUS_MAX)
		fail(b, "cpus: %" PRIu32 " is out of range (1 to %u)", def->cpus, VMAPP_VM_CPUS_MAX);
	if (def->memory_mib < VMAPP_VM_MEMORY_MIN_MIB || def->memory_mib > VMAPP_VM_MEMORY_MAX_MIB)
		fail(b, "memory: %" PRIu64 "M is out of range", def->memory_mib);
	if (vmapp_vm_name_check(def->name, NULL, 0) < 0)
		fail(b, "name: not a valid VM name");
}

static void add_transport(struct builder *b, const struct vmapp_qemu_facts *f)
{
	const char *socket;

	if (f->transport == VMAPP_TRANSPORT_VSOCK && f->vsock_device == VMAPP_VSOCK_KERNEL) {
		if (f->vsock_vhostfd > 0)
			optionf(b, "-device", "vhost-vsock-pci,guest-cid=%" PRIu32 ",vhostfd=%d",
				f->guest_cid, f->vsock_vhostfd);
		else
			optionf(b, "-device", "vhost-vsock-pci,guest-cid=%" PRIu32, f->guest_cid);
		return;
	}
	if (f->transport == VMAPP_TRANSPORT_VSOCK) {
		/* vmapp-vsockd reads the rings in guest RAM, shared with it
		 * (memory-backend-memfd share=on), and answers the CID. */
		socket = escaped_path(b, "transport (vmapp-vsockd socket)", f->vsock_socket);
		if (!socket)
			return;
		optionf(b, "-chardev", "socket,id=vsock,path=%s", socket);
		option(b, "-device", "vhost-user-vsock-pci,chardev=vsock");
		return;
	}
	/* One port on its own controller (max_ports=2: port 0 is kept for a
	 * console we do not have); QEMU listens, the proxy connects when it
	 * wants the VM (wait=off: the guest boots meanwhile). */
	socket = escaped_path(b, "transport", f->transport_socket);
	if (!socket)
		return;
	optionf(b, "-chardev", "socket,id=transport,path=%s,server=on,wait=off", socket);
	option(b, "-device", "virtio-serial-pci,id=serial0,max_ports=2");
	option(b, "-device", "virtserialport,bus=serial0.0,chardev=transport,name=" SERIAL_PORT_NAME);
}

static void add_network(struct builder *b, const struct vmapp_vmdef *def)
{
	/* off: no device at all, not a device without a backend. */
	if (def->network == VMAPP_NETWORK_OFF)
		return;
	option(b, "-netdev", "user,id=net0");
	option(b, "-device", "virtio-net-pci,netdev=net0");
}

static void add_audio(struct builder *b, const struct vmapp_vmdef *def,
		      const struct vmapp_qemu_facts *f)
{
	/* playback: no capture voice on the host side either, so the
	 * backend never opens a recording stream whatever the guest does. */
	const char *in = def->audio == VMAPP_AUDIO_PLAYBACK ? ",in.voices=0" : "";
	const char *server = "", *wav;

	if (def->audio == VMAPP_AUDIO_OFF)
		return;
	if (f->audio_server && (def->audio_backend == VMAPP_AUDIO_BACKEND_PULSEAUDIO ||
				def->audio_backend == VMAPP_AUDIO_BACKEND_PIPEWIRE)) {
		server = escaped_path(b, "audio server", f->audio_server);
		if (!server)
			return;
	}
	switch (def->audio_backend) {
	case VMAPP_AUDIO_BACKEND_PULSEAUDIO:
		optionf(b, "-audiodev", "pa,id=snd0%s%s%s", server[0] ? ",server=" : "", server, in);
		break;
	case VMAPP_AUDIO_BACKEND_PIPEWIRE:
		optionf(b, "-audiodev", "pipewire,id=snd0%s%s%s", server[0] ? ",server=" : "",
			server, in);
		break;
	case VMAPP_AUDIO_BACKEND_WAV:
		if (def->audio == VMAPP_AUDIO_DUPLEX) {
			fail(b, "audio: duplex needs a backend that records; wav only plays");
			return;
		}
		wav = escaped_path(b, "audio wav", f->audio_wav);
		if (!wav)
			return;
		optionf(b, "-audiodev", "wav,id=snd0,path=%s%s", wav, in);
		break;
	case VMAPP_AUDIO_BACKEND_NONE:
		optionf(b, "-audiodev", "none,id=snd0%s", in);
		break;
	default:
		fail(b, "audio_backend: unknown value %d", (int)def->audio_backend);
		return;
	}
	option(b, "-device", "intel-hda,id=hda0");
	option(b, "-device", def->audio == VMAPP_AUDIO_PLAYBACK ?
		"hda-output,bus=hda0.0,audiodev=snd0" : "hda-duplex,bus=hda0.0,audiodev=snd0");
}

static void add_share(struct builder *b, const struct vmapp_vmdef *def,
		      const struct vmapp_qemu_facts *f)
{
	const char *path;

	if (!def->share)
		return;
	if (f->share_mode == VMAPP_SHARE_VIRTIOFS) {
		/* virtiofsd serves def->share; QEMU only sees its socket. */
		path = escaped_path(b, "share (virtiofsd socket)", f->virtiofs_socket);
		if (!path)
			return;
		optionf(b, "-chardev", "socket,id=virtiofs,path=%s", path);
		option(b, "-device", "vhost-user-fs-pci,chardev=virtiofs,tag=" SHARE_TAG);
		return;
	}
	/* security_model=none: the folder's files stay plain files of the
	 * user, with no guest ownership kept in xattrs; what the guest can
	 * not do as the user (chown) fails quietly.  QEMU's 9p walks paths
	 * without following host symlinks out of the folder. */
	path = escaped_path(b, "share", def->share);
	if (!path)
		return;
	optionf(b, "-fsdev", "local,id=share,path=%s,security_model=none", path);
	option(b, "-device", "virtio-9p-pci,fsdev=share,mount_tag=" SHARE_TAG);
}

int vmapp_qemu_argv(const struct vmapp_vmdef *def, const struct vmapp_qemu_facts *facts,
		    char *ret_error, size_t error_size, char ***ret_argv)
{
	struct builder b = { .error = ret_error, .error_size = error_size };
	const char *log, *root, *qmp;
	bool virtiofs, shared;

	*ret_argv = NULL;
	if (ret_error && error_size > 0)
		ret_error[0] = '\0';
	check_facts(&b, def, facts);
	/* Not key=value options: QEMU takes these paths whole, so commas
	 * stay single (a doubled one would name another file). */
	check_path(&b, "kernel", facts->kernel);
	check_path(&b, "initrd", facts->initrd);
	log = escaped_path(&b, "console log", facts->console_log);
	root = escaped_path(&b, "root disk", facts->root);
	if (b.r < 0)
		goto out;
	virtiofs = def->share && facts->share_mode == VMAPP_SHARE_VIRTIOFS;
	/* A vhost-user device reads guest RAM: it must be shared with it. */
	shared = virtiofs || (facts->transport == VMAPP_TRANSPORT_VSOCK &&
			      facts->vsock_device == VMAPP_VSOCK_USER);

	add(&b, facts->qemu ? facts->qemu : DEFAULT_QEMU);
	option(&b, "-name", def->name);
	add(&b, "-nodefaults");
	add(&b, "-no-user-config");
	option(&b, "-machine", MACHINE);
	option(&b, "-accel", facts->accel == VMAPP_ACCEL_KVM ? "kvm" : "tcg");
	/* KVM: the host CPU as it is.  TCG: everything TCG emulates. */
	option(&b, "-cpu", facts->accel == VMAPP_ACCEL_KVM ? "host" : "max");
	optionf(&b, "-m", "%" PRIu64 "M", def->memory_mib);
	optionf(&b, "-object", "memory-backend-memfd,id=ram,size=%" PRIu64 "M,share=%s",
		def->memory_mib, shared ? "on" : "off");
	optionf(&b, "-smp", "%" PRIu32, def->cpus);
	option(&b, "-display", "none");
	option(&b, "-vga", "none");
	option(&b, "-monitor", "none");
	optionf(&b, "-chardev", "file,id=console,path=%s", log);
	option(&b, "-serial", "chardev:console");
	if (facts->qmp_socket) {
		qmp = escaped_path(&b, "QMP socket", facts->qmp_socket);
		if (qmp) {
			optionf(&b, "-chardev", "socket,id=qmp,path=%s,server=on,wait=off", qmp);
			option(&b, "-mon", "chardev=qmp,mode=control");
		}
	}
	add(&b, "-no-reboot");
	option(&b, "-sandbox", SANDBOX);
	option(&b, "-kernel", facts->kernel);
	option(&b, "-initrd", facts->initrd);
	/* The agent's unit for vsock reads its port here (the guest image's
	 * vmapp-agent-vsock.service); serial needs nothing. */
	if (facts->transport == VMAPP_TRANSPORT_VSOCK)
		optionf(&b, "-append", KERNEL_APPEND " vmapp.vsock_port=%" PRIu32, facts->vsock_port);
	else
		option(&b, "-append", KERNEL_APPEND);
	optionf(&b, "-blockdev", "driver=%s,node-name=root,file.driver=file,file.filename=%s",
		facts->root_format == VMAPP_ROOT_QCOW2 ? "qcow2" : "raw", root);
	option(&b, "-device", "virtio-blk-pci,drive=root");
	option(&b, "-device", "virtio-rng-pci");
	add_transport(&b, facts);
	add_network(&b, def);
	add_audio(&b, def, facts);
	add_share(&b, def, facts);
out:
	for (size_t i = 0; i < b.n_escaped; i++)
		free(b.escaped[i]);
	if (b.r < 0) {
		vmapp_argv_free(b.argv);
		return b.r;
	}
	*ret_argv = b.argv;
	return 0;
}

static bool shell_safe(const char *word)
{
	if (word[0] == '\0')
		return false;
	for (const char *p = word; *p; p++) {
		char c = *p;

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      strchr("_@%+=:,./-", c)))
			return false;
	}
	return true;
}

char *vmapp_argv_quoted(char *const *argv)
{
	char *out = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&out, &size);

	if (!f)
		return NULL;
	for (size_t i = 0; argv[i]; i++) {
		if (i > 0)
			fputc(' ', f);
		if (shell_safe(argv[i])) {
			fputs(argv[i], f);
			continue;
		}
		if (control_at(argv[i]) >= 0) {
			/* Never from vmapp_qemu_argv(); kept on one line anyway. */
			fputs("$'", f);
			for (const char *p = argv[i]; *p; p++) {
				unsigned char c = (unsigned char)*p;

				if (c < 0x20 || c == 0x7f || c == '\\' || c == '\'')
					fprintf(f, "\\x%02x", c);
				else
					fputc(c, f);
			}
			fputc('\'', f);
			continue;
		}
		fputc('\'', f);
		for (const char *p = argv[i]; *p; p++) {
			if (*p == '\'')
				fputs("'\\''", f);
			else
				fputc(*p, f);
		}
		fputc('\'', f);
	}
	if (fclose(f) != 0) {
		free(out);
		return NULL;
	}
	return out;
}
