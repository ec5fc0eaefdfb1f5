/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <linux/vm_sockets.h>
#include <time.h>
#include <unistd.h>

#include "accel.h"
#include "address.h"
#include "boot.h"
#include "launch.h"
#include "qemu-argv.h"
#include "unix.h"
#include "vhost-vsock.h"

extern char **environ;

#define VIRTIOFSD "/usr/lib/qemu/virtiofsd"
/* QEMU makes its sockets before the guest runs: in well under a second. */
#define SOCKET_WAIT_S 20.0
#define QEMU_IMG_WAIT_S 120.0
/* vmapp-vsockd's guest: the CIDs of a vhost-user device are its own, so
 * every VM can be 3; and the port its agent connects to. */
#define VSOCKD_GUEST_CID 3
#define VSOCKD_AGENT_PORT 30317

struct boot_run {
	const struct vmapp_boot_config *c;
	char *error;
	size_t error_size;
	const char *step_name;
};

static void step(struct boot_run *b, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void step(struct boot_run *b, const char *name, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	b->step_name = name;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (b->c->step)
		b->c->step(b->c->data, line);
}

static int fail(struct boot_run *b, int r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* "STEP: what (log: PATH)". */
static int fail(struct boot_run *b, int r, const char *fmt, ...)
{
	char what[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(b->error, b->error_size, "%s: %s (log: %s)", b->step_name, what,
		 b->c->paths->vm_log);
	return r < 0 ? r : -EIO;
}

static bool exists(const char *dir, const char *name)
{
	char path[VMAPP_VM_PATH_MAX + 32];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return access(path, R_OK) == 0;
}

static bool image_complete(const char *dir)
{
	return exists(dir, "manifest") && exists(dir, "vmlinuz") && exists(dir, "initrd.img") &&
	       exists(dir, "root.img");
}

static const char *status_text(int status, char *buf, size_t size)
{
	if (WIFEXITED(status))
		snprintf(buf, size, "exit status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, size, "killed by signal %d", WTERMSIG(status));
	else
		snprintf(buf, size, "status 0x%x", status);
	return buf;
}

/* Runs build-image.sh with its stderr lines reported as steps and copied
 * to the log; stdout to the log. */
static int build_image(struct boot_run *b, const char *dir)
{
	const struct vmapp_boot_config *c = b->c;
	const char *argv[8];
	size_t n = 0;
	argv[n++] = c->build_image;
	argv[n++] = dir;
	argv[n++] = "--agent";
	argv[n++] = c->agent;
	if (c->packages) {
		argv[n++] = "--packages";
		argv[n++] = c->packages;
	}
	argv[n] = NULL;

	int log = open(c->paths->vm_log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (log < 0)
		return fail(b, -errno, "can not open the log: %s", strerror(errno));
	int pipefd[2];
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		close(log);
		return fail(b, -errno, "pipe: %s", strerror(errno));
	}
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, log, 1);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], 2);
	posix_spawnattr_t attr;
	posix_spawnattr_init(&attr);
	sigset_t none;
	sigemptyset(&none);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
	pid_t pid;
	int r = posix_spawn(&pid, c->build_image, &fa, &attr, (char *const *)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	close(pipefd[1]);
	if (r != 0) {
		close(pipefd[0]);
		close(log);
		return fail(b, -r, "can not run %s: %s", c->build_image, strerror(r));
	}

	FILE *f = fdopen(pipefd[0], "r");
	char line[1024];
	while (f && fgets(line, sizeof(line), f)) {
		(void)!write(log, line, strlen(line));
		line[strcspn(line, "\n")] = '\0';
		if (c->step)
			c->step(c->data, line);
	}
	if (f)
		fclose(f);
	else
		close(pipefd[0]);
	close(log);
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return fail(b, -errno, "waitpid: %s", strerror(errno));
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		char why[64];
		return fail(b, -EIO, "building the image in %s failed: %s %s", dir,
			    c->build_image, status_text(status, why, sizeof(why)));
	}
	if (!image_complete(dir))
		return fail(b, -EIO, "%s did not make vmlinuz, initrd.img, root.img and manifest in %s",
			    c->build_image, dir);
	return 0;
}

static int compare_words(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* list's words sorted, duplicates dropped, one space apart (as
 * build-image.sh writes its manifest's packages line). */
static void sorted_words(const char *list, char *buf, size_t size)
{
	char copy[VMAPP_VM_PACKAGES_MAX + 1], *words[VMAPP_VM_PACKAGES_COUNT_MAX], *save = NULL;
	size_t n = 0, used = 0;

	snprintf(copy, sizeof(copy), "%s", list);
	for (char *w = strtok_r(copy, " ", &save); w && n < VMAPP_VM_PACKAGES_COUNT_MAX;
	     w = strtok_r(NULL, " ", &save))
		words[n++] = w;
	qsort(words, n, sizeof(words[0]), compare_words);
	buf[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (i > 0 && strcmp(words[i], words[i - 1]) == 0)
			continue;
		int w = snprintf(buf + used, size - used, "%s%s", used ? " " : "", words[i]);
		if (w < 0 || (size_t)w >= size - used)
			break;
		used += (size_t)w;
	}
}

/* The first line of an image's manifest that starts with prefix and
 * ends with suffix, in buf: 0, -ENOENT, -ENAMETOOLONG, or -errno. */
static int manifest_line(const char *dir, const char *prefix, const char *suffix, char *buf,
			 size_t size)
{
	char path[VMAPP_VM_PATH_MAX + 16], line[VMAPP_VM_PACKAGES_MAX + 64];
	size_t plen = strlen(prefix), slen = strlen(suffix);
	snprintf(path, sizeof(path), "%s/manifest", dir);
	FILE *f = fopen(path, "re");
	if (!f)
		return -errno;
	int r = -ENOENT;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		size_t len = strlen(line);
		if (len < plen + slen || strncmp(line, prefix, plen) != 0 ||
		    strcmp(line + len - slen, suffix) != 0)
			continue;
		r = len < size ? 0 : -ENAMETOOLONG;
		if (r == 0)
			memcpy(buf, line, len + 1);
		break;
	}
	fclose(f);
	return r;
}

static int run_wait(struct boot_run *b, const char *const *argv, double timeout_s)
{
	struct vmapp_launch_options o = { .log_path = b->c->paths->vm_log };
	pid_t pid;
	int status;
	int r = vmapp_launch_qemu(argv, &o, &pid);
	if (r < 0)
		return fail(b, r, "can not run %s: %s", argv[0], strerror(-r));
	r = vmapp_launch_wait(pid, timeout_s, &status);
	if (r == -ETIMEDOUT) {
		vmapp_launch_stop(pid, 1.0);
		return fail(b, r, "%s did not finish in %.0f s", argv[0], timeout_s);
	}
	if (r < 0)
		return fail(b, r, "waiting for %s: %s", argv[0], strerror(-r));
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		char why[64];
		return fail(b, -EIO, "%s failed: %s", argv[0], status_text(status, why, sizeof(why)));
	}
	return 0;
}

/* The VM's disk: an overlay on root.img, made again when the image under
 * it changed (a qcow2 on another backing file reads as garbage). */
static int disk(struct boot_run *b, const char *image_dir)
{
	const struct vmapp_vm_paths *p = b->c->paths;
	char hash[256] = "", old[256] = "", stamp[VMAPP_VM_PATH_MAX + 16], base[VMAPP_VM_PATH_MAX + 16];
	snprintf(stamp, sizeof(stamp), "%s.base", p->overlay);
	snprintf(base, sizeof(base), "%s/root.img", image_dir);
	/* "sha256 HASH root.img" */
	manifest_line(image_dir, "sha256 ", " root.img", hash, sizeof(hash));
	FILE *f = fopen(stamp, "re");
	if (f) {
		if (!fgets(old, sizeof(old), f))
			old[0] = '\0';
		old[strcspn(old, "\n")] = '\0';
		fclose(f);
	}
	if (access(p->overlay, F_OK) == 0) {
		if (strcmp(old, hash) == 0)
			return 0;
		char kept[VMAPP_VM_PATH_MAX + 16];
		snprintf(kept, sizeof(kept), "%s.old", p->overlay);
		step(b, "disk", "the image %s changed since this VM's disk was made: a new disk "
		     "(the old one is %s)", image_dir, kept);
		if (rename(p->overlay, kept) < 0)
			return fail(b, -errno, "can not move %s aside: %s", p->overlay, strerror(errno));
	}
	const char *argv[] = {
		"qemu-img", "create", "-q", "-f", "qcow2", "-b", base, "-F", "raw", p->overlay, NULL,
	};
	int r = run_wait(b, argv, QEMU_IMG_WAIT_S);
	if (r < 0)
		return r;
	f = fopen(stamp, "we");
	if (!f || fprintf(f, "%s\n", hash) < 0 || fclose(f) != 0)
		return fail(b, -EIO, "can not write %s", stamp);
	return 0;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Waits for a socket a child makes, while the child runs (*pid 0 once
 * it was reaped). */
static int wait_socket(struct boot_run *b, pid_t *pid, const char *who, const char *path)
{
	double deadline = now() + SOCKET_WAIT_S;
	struct stat st;
	while (stat(path, &st) < 0 || !S_ISSOCK(st.st_mode)) {
		int status;
		if (vmapp_launch_wait(*pid, 0, &status) == 0) {
			char why[64];
			*pid = 0;
			return fail(b, -EIO, "%s ended at its start: %s", who,
				    status_text(status, why, sizeof(why)));
		}
		if (now() > deadline)
			return fail(b, -ETIMEDOUT, "%s made no socket %s in %.0f s", who, path,
				    SOCKET_WAIT_S);
		usleep(20000);
	}
	return 0;
}

/* A vhost-user back-end QEMU connects to (virtiofsd, vmapp-vsockd): run
 * with its output in the VM's log, until it listens on socket. */
static int start_backend(struct boot_run *b, const char *const *argv, const char *who,
			 const char *socket, pid_t *ret_pid)
{
	unlink(socket);
	struct vmapp_launch_options o = { .log_path = b->c->paths->vm_log };
	int r = vmapp_launch_qemu(argv, &o, ret_pid);
	if (r < 0)
		return fail(b, r, "can not run %s: %s", argv[0], strerror(-r));
	return wait_socket(b, ret_pid, who, socket);
}

static int start_virtiofsd(struct boot_run *b, struct vmapp_boot *vm)
{
	const struct vmapp_vm_paths *p = b->c->paths;
	char source[VMAPP_VM_PATH_MAX + 16], socket_arg[VMAPP_SOCKET_PATH_MAX + 16];
	snprintf(source, sizeof(source), "source=%s", b->c->def->share);
	snprintf(socket_arg, sizeof(socket_arg), "--socket-path=%s", p->virtiofs_socket);
	const char *argv[] = { VIRTIOFSD, socket_arg, "-o", source, "-o", "cache=auto", NULL };
	return start_backend(b, argv, "virtiofsd", p->virtiofs_socket, &vm->virtiofsd);
}

static int start_vsockd(struct boot_run *b, struct vmapp_boot *vm)
{
	const struct vmapp_vm_paths *p = b->c->paths;
	char cid[16], forward[VMAPP_SOCKET_PATH_MAX + 16];
	snprintf(cid, sizeof(cid), "%u", VSOCKD_GUEST_CID);
	snprintf(forward, sizeof(forward), "%u:%s", VSOCKD_AGENT_PORT, p->agent_socket);
	const char *argv[] = { b->c->vsockd, "--socket", p->vsock_socket, "--guest-cid", cid,
			       "--forward", forward, NULL };
	return start_backend(b, argv, "vmapp-vsockd", p->vsock_socket, &vm->vsockd);
}

/*
 * transport: vsock on the kernel's vhost-vsock where it opens (auto and
 * vsock), else virtio-serial (auto) or vmapp-vsockd (vsock).  With vsock
 * the agent connects to the host, so the VM's proxy listens: on the
 * host's vsock for the kernel's device (the port the kernel picks, the
 * guest's CID checked on each connection), on agent.sock for
 * vmapp-vsockd, which brings the guest's connections there.
 */
static int transport(struct boot_run *b, struct vmapp_boot *vm)
{
	const struct vmapp_vm_paths *p = b->c->paths;
	enum vmapp_transport want = b->c->def->transport;
	char why[512];

	step(b, "transport", "transport (transport=%s)", vmapp_transport_name(want));
	if (want == VMAPP_TRANSPORT_SERIAL) {
		vm->transport = VMAPP_TRANSPORT_SERIAL;
		return 0;
	}
	const char *device = b->c->vhost_vsock ? b->c->vhost_vsock : VMAPP_VHOST_VSOCK_DEVICE;
	uint32_t cid;
	int fd = vmapp_vhost_vsock_open(device, 3, &cid, why, sizeof(why));
	if (fd >= 0) {
		struct vmapp_address any = { .kind = VMAPP_ADDRESS_VSOCK, .port = VMADDR_PORT_ANY };
		struct sockaddr_vm sa = { 0 };
		socklen_t len = sizeof(sa);
		int l = vmapp_address_listen(&any);
		if (l < 0 || getsockname(l, (struct sockaddr *)&sa, &len) < 0) {
			int r = l < 0 ? l : -errno;
			if (l >= 0)
				close(l);
			close(fd);
			return fail(b, r, "can not listen on the host's vsock: %s", strerror(-r));
		}
		vm->transport = VMAPP_TRANSPORT_VSOCK;
		vm->vsock_device = VMAPP_VSOCK_KERNEL;
		vm->vhost_fd = fd;
		vm->guest_cid = cid;
		vm->agent_listen_fd = l;
		vm->vsock_port = sa.svm_port;
		step(b, "transport", "vsock on %s: guest CID %u, the agent's port %u", device, cid,
		     vm->vsock_port);
		return 0;
	}
	if (want == VMAPP_TRANSPORT_AUTO) {
		vm->transport = VMAPP_TRANSPORT_SERIAL;
		step(b, "transport", "virtio-serial (no vsock: %s)", why);
		return 0;
	}
	step(b, "transport", "vsock on vmapp-vsockd (%s)", why);
	int l = vmapp_unix_listen(p->agent_socket);
	if (l < 0)
		return fail(b, l, "can not listen on %s: %s", p->agent_socket, strerror(-l));
	vm->transport = VMAPP_TRANSPORT_VSOCK;
	vm->vsock_device = VMAPP_VSOCK_USER;
	vm->agent_listen_fd = l;
	vm->vsock_port = VSOCKD_AGENT_PORT;
	return start_vsockd(b, vm);
}

static void log_line(const struct vmapp_vm_paths *p, const char *prefix, const char *text)
{
	FILE *f = fopen(p->vm_log, "ae");
	if (!f)
		return;
	fprintf(f, "%s%s\n", prefix, text);
	fclose(f);
}

int vmapp_boot_start(const struct vmapp_boot_config *c, struct vmapp_boot *vm,
		     char *ret_error, size_t error_size)
{
	const struct vmapp_vmdef *def = c->def;
	const struct vmapp_vm_paths *p = c->paths;
	struct boot_run b = { .c = c, .error = ret_error, .error_size = error_size,
			      .step_name = "state" };
	char image_dir[VMAPP_VM_PATH_MAX], msg[1024];
	bool built = false;
	int r;

	*vm = (struct vmapp_boot)VMAPP_BOOT_NONE;
	ret_error[0] = '\0';
	if (!p->has_runtime) {
		snprintf(ret_error, error_size, "runtime: no runtime folder for the VM's sockets "
			 "(XDG_RUNTIME_DIR is not set, or too long)");
		return -EINVAL;
	}
	r = vmapp_make_dirs(p->state_dir, 0700);
	if (r < 0) {
		snprintf(ret_error, error_size, "state: can not make %s: %s", p->state_dir,
			 strerror(-r));
		return r;
	}

	step(&b, "image", "image");
	if (vmapp_vm_image_dir(def, p, image_dir, sizeof(image_dir)) < 0)
		return fail(&b, -ENAMETOOLONG, "the image's path is too long");
	if (!image_complete(image_dir)) {
		if (def->image[0] == '/')
			return fail(&b, -ENOENT, "%s has no vmlinuz, initrd.img, root.img and "
				    "manifest (make it with build-image.sh, or set image to a name)",
				    image_dir);
		step(&b, "image", "building the guest image %s with %s (mmdebstrap: a few "
		     "minutes)", image_dir, c->packages ? c->packages : "the default packages");
		r = build_image(&b, image_dir);
		if (r < 0)
			return r;
		built = true;
	} else if (def->image[0] != '/' && c->packages) {
		/* A shared image is used as it is: a VM that wants other
		 * packages names an image of its own. */
		char want[VMAPP_VM_PACKAGES_MAX + 1], have[VMAPP_VM_PACKAGES_MAX + 1];
		sorted_words(c->packages, want, sizeof(want));
		if (manifest_line(image_dir, "packages ", "", have, sizeof(have)) == 0 &&
		    strcmp(want, have + strlen("packages ")) != 0)
			return fail(&b, -EINVAL, "the image '%s' was built with the packages '%s', "
				    "this VM asks for '%s': give it an image of its own "
				    "(vmapp-vm set %s image=%s-image)", def->image,
				    have + strlen("packages "), want,
				    def->name, def->name);
	}
	if (!built && def->image[0] != '/') {
		/* An image vmapp made is kept up to date with this vmapp's agent
		 * (the stream's protocol is the agent's and ours): build-image.sh
		 * says "reusing" in a moment when nothing changed, and remakes
		 * the root file system (seconds) when the agent did; the disk
		 * step then gives the VM a new disk on it. */
		r = build_image(&b, image_dir);
		if (r < 0)
			return r;
	}

	step(&b, "disk", "disk %s", p->overlay);
	r = disk(&b, image_dir);
	if (r < 0)
		return r;

	step(&b, "accelerator", "accelerator (accel=%s)", vmapp_accel_name(def->accel));
	r = vmapp_accel_resolve(def->accel, VMAPP_KVM_DEVICE, VMAPP_KVM_PROBE_TIMEOUT_MS,
				&vm->accel, msg, sizeof(msg));
	if (r < 0)
		return fail(&b, r, "%s", msg);
	if (msg[0])
		step(&b, "accelerator", "%s", msg);

	r = vmapp_make_dirs(p->runtime_dir, 0700);
	if (r < 0)
		return fail(&b, r, "can not make %s: %s", p->runtime_dir, strerror(-r));
	if (def->share) {
		step(&b, "share", "shared folder %s", def->share);
		struct stat st;
		if (stat(def->share, &st) < 0 || !S_ISDIR(st.st_mode))
			return fail(&b, -ENOENT, "share=%s is not a folder", def->share);
		if (geteuid() == 0)
			step(&b, "share", "warning: as root, the guest's file owners and modes, "
			     "set-uid bits included, reach the files of %s: run vmapp as your "
			     "own user", def->share);
		vm->share_mode = def->share_mode;
		/* virtiofsd of this Debian needs root; 9p needs nothing but QEMU. */
		if (vm->share_mode == VMAPP_SHARE_AUTO)
			vm->share_mode = geteuid() == 0 && access(VIRTIOFSD, X_OK) == 0 ?
						 VMAPP_SHARE_VIRTIOFS : VMAPP_SHARE_9P;
		if (vm->share_mode == VMAPP_SHARE_VIRTIOFS) {
			r = start_virtiofsd(&b, vm);
			if (r < 0) {
				vmapp_boot_stop(vm, p, 1.0);
				return r;
			}
		}
	}

	r = transport(&b, vm);
	if (r < 0) {
		vmapp_boot_stop(vm, p, 1.0);
		return r;
	}

	step(&b, "qemu", "booting (QEMU, %s)", vm->accel == VMAPP_ACCEL_KVM ? "KVM" : "TCG");
	char kernel[VMAPP_VM_PATH_MAX + 16], initrd[VMAPP_VM_PATH_MAX + 16];
	snprintf(kernel, sizeof(kernel), "%s/vmlinuz", image_dir);
	snprintf(initrd, sizeof(initrd), "%s/initrd.img", image_dir);
	struct vmapp_qemu_facts facts = {
		.accel = vm->accel,
		.transport = vm->transport,
		.vsock_device = vm->vsock_device,
		.guest_cid = vm->guest_cid,
		.vsock_vhostfd = vm->vhost_fd >= 0 ? vm->vhost_fd : 0,
		.vsock_socket = p->vsock_socket,
		.vsock_port = vm->vsock_port,
		.transport_socket = p->transport_socket,
		.share_mode = vm->share_mode,
		.virtiofs_socket = p->virtiofs_socket,
		.kernel = kernel,
		.initrd = initrd,
		.root = p->overlay,
		.root_format = VMAPP_ROOT_QCOW2,
		.console_log = p->console_log,
		.audio_wav = p->audio_wav,
	};
	char **argv = NULL;
	r = vmapp_qemu_argv(def, &facts, msg, sizeof(msg), &argv);
	if (r < 0) {
		vmapp_boot_stop(vm, p, 1.0);
		return fail(&b, r, "%s", r == -ENOMEM ? "out of memory" : msg);
	}
	char *quoted = vmapp_argv_quoted(argv);
	if (quoted)
		log_line(p, "qemu: ", quoted);
	free(quoted);
	unlink(p->transport_socket);
	struct vmapp_launch_options o = { .log_path = p->vm_log, .pid_file = p->pid_file,
					  .keep_fd = vm->vhost_fd >= 0 ? vm->vhost_fd : 0 };
	r = vmapp_launch_qemu((const char *const *)argv, &o, &vm->qemu);
	vmapp_argv_free(argv);
	/* QEMU has the vhost fd (and with it the CID) now. */
	if (vm->vhost_fd >= 0)
		close(vm->vhost_fd);
	vm->vhost_fd = -1;
	if (r < 0) {
		vmapp_boot_stop(vm, p, 1.0);
		if (r == -ENOENT)
			return fail(&b, r, "qemu-system-x86_64 is not installed (apt-get install "
				    "qemu-system-x86)");
		return fail(&b, r, "can not start QEMU: %s", strerror(-r));
	}
	/* With vsock QEMU makes no socket of ours: one that fails at its
	 * start is seen when it exits (vmapp_relay_watch_child). */
	r = vm->transport == VMAPP_TRANSPORT_SERIAL ?
		    wait_socket(&b, &vm->qemu, "QEMU", p->transport_socket) : 0;
	if (r < 0) {
		vmapp_boot_stop(vm, p, 1.0);
		return r;
	}
	return 0;
}

void vmapp_boot_stop(struct vmapp_boot *vm, const struct vmapp_vm_paths *p, double grace_s)
{
	if (vm->qemu > 0)
		vmapp_launch_stop(vm->qemu, grace_s);
	vm->qemu = 0;
	if (vm->virtiofsd > 0)
		vmapp_launch_stop(vm->virtiofsd, 1.0);
	vm->virtiofsd = 0;
	/* It ends by itself when QEMU closes its socket. */
	if (vm->vsockd > 0)
		vmapp_launch_stop(vm->vsockd, 1.0);
	vm->vsockd = 0;
	if (vm->vhost_fd >= 0)
		close(vm->vhost_fd);
	vm->vhost_fd = -1;
	if (vm->agent_listen_fd >= 0)
		close(vm->agent_listen_fd);
	vm->agent_listen_fd = -1;
	if (p->has_runtime) {
		unlink(p->transport_socket);
		unlink(p->virtiofs_socket);
		unlink(p->vsock_socket);
		unlink(p->agent_socket);
		unlink(p->qmp_socket);
		unlink(p->pid_file);
	}
}
