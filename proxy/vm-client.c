/* SPDX-License-Identifier: MIT */
/*
 * `vmapp-proxy --vm NAME [COMMAND...]` (vm.h): finds the VM's proxy on its
 * control socket, or starts it (`vmapp-proxy --vm-serve NAME`, a session
 * of its own, its output in the VM's log) and shows its progress; then
 * asks it to run COMMAND and waits for its status, passing SIGINT,
 * SIGTERM and SIGHUP on to the command meanwhile.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "local.h"
#include "vm.h"
#include "vmctl.h"
#include "vmdef.h"

/* The fd the VM's proxy writes its progress to. */
#define STATUS_FD 3
/* How long a proxy that another client started may take to listen. */
#define CONNECT_WAIT_S 30

static void say(const char *name, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void say(const char *name, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "vmapp-proxy: %s: ", name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Starts the VM's proxy with its progress on a pipe: the read end, or
 * -errno. */
static int spawn_serve(const struct vmapp_vm_options *o, const struct vmapp_vm_paths *paths,
		       pid_t *ret_pid)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return -errno;
	self[n] = '\0';
	int r = vmapp_make_dirs(paths->state_dir, 0700);
	if (r < 0)
		return r;
	int log = open(paths->vm_log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	int pipefd[2] = { -1, -1 };
	if (log < 0 || null < 0 || pipe2(pipefd, O_CLOEXEC) < 0) {
		r = -errno;
		goto out;
	}
	const char *argv[] = { self, "--vm-serve", o->name, o->verbose ? "-v" : NULL, NULL };
	pid_t pid = fork();
	if (pid < 0) {
		r = -errno;
		goto out;
	}
	if (pid == 0) {
		/* Its own session: the terminal's ^C and hangup are this
		 * client's, not the VM's. */
		setsid();
		if (dup2(null, 0) < 0 || dup2(log, 1) < 0 || dup2(log, 2) < 0 ||
		    dup2(pipefd[1], STATUS_FD) < 0)
			_exit(127);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		execv(self, (char *const *)argv);
		_exit(127);
	}
	*ret_pid = pid;
	r = pipefd[0];
	pipefd[0] = -1;
out:
	if (log >= 0)
		close(log);
	if (null >= 0)
		close(null);
	if (pipefd[0] >= 0)
		close(pipefd[0]);
	if (pipefd[1] >= 0)
		close(pipefd[1]);
	return r;
}

/* Shows the proxy's progress until it is ready: 0, 1 when another proxy
 * serves the VM, or -1 after saying why it failed. */
static int follow_start(const char *name, int fd, const struct vmapp_vm_paths *paths)
{
	FILE *f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		return -1;
	}
	char line[2048];
	int result = -1;
	bool said = false;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (strncmp(line, "step ", 5) == 0) {
			say(name, "%s", line + 5);
		} else if (strcmp(line, "ready") == 0) {
			result = 0;
			break;
		} else if (strcmp(line, "running") == 0) {
			result = 1;
			break;
		} else if (strncmp(line, "failed ", 7) == 0) {
			say(name, "the VM did not start: %s", line + 7);
			said = true;
			break;
		}
	}
	fclose(f);
	if (result < 0 && !said)
		say(name, "the VM's proxy ended while starting (log: %s)", paths->vm_log);
	return result;
}

static int connect_retry(const char *path, int wait_s)
{
	time_t deadline = time(NULL) + wait_s;
	for (;;) {
		int fd = vmapp_ctl_connect(path);
		if (fd >= 0 || (fd != -ENOENT && fd != -ECONNREFUSED) || time(NULL) >= deadline)
			return fd;
		usleep(100000);
	}
}

/* SIGNAL N for the signal this client got: the first of each kind as it
 * is, as env(1) or ssh -t pass ^C on; a second of the same kind SIGKILL,
 * for a command that ignores the first.  The wire has Linux's numbers,
 * which are this host's. */
static void pass_signal(const struct vmapp_vm_options *o, int fd, int signo, unsigned *seen)
{
	unsigned bit = 1u << signo;
	const char *text = signo == SIGINT ? "2" : signo == SIGTERM ? "15" : "1";
	if (*seen & bit)
		text = "9";
	*seen |= bit;
	int r = vmapp_ctl_send(fd, "SIGNAL", &text, 1);
	if (r < 0 && o->verbose)
		say(o->name, "can not pass signal %s on: %s", text, strerror(-r));
}

/* OUTPUT: the command's bytes on this client's stdout or stderr, whole
 * (blocking: a slow reader slows the command in the guest, nothing is
 * lost).  A stream whose reader went (EPIPE) takes nothing more; the
 * command runs on to its EXIT. */
static void write_output(const struct vmapp_ctl_msg *msg, bool *closed)
{
	static char bytes[VMAPP_CTL_MAX];
	if (msg->n_fields < 2 || (strcmp(msg->fields[0], "1") && strcmp(msg->fields[0], "2")))
		return;
	int out = msg->fields[0][0] == '1' ? STDOUT_FILENO : STDERR_FILENO;
	if (closed[out])
		return;
	size_t len = vmapp_ctl_output_bytes(msg, bytes);
	for (size_t done = 0; done < len;) {
		ssize_t n = write(out, bytes + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			closed[out] = true;
			return;
		}
		done += (size_t)n;
	}
}

/* The proxy's answer; SIGINT, SIGTERM and SIGHUP meanwhile go on to the
 * command (sfd: a signalfd of them, or -1), and its output to stdout and
 * stderr.  vmapp_ctl_recv's result. */
static int wait_answer(const struct vmapp_vm_options *o, int fd, int sfd, char *buf,
		       struct vmapp_ctl_msg *msg)
{
	unsigned seen = 0;
	bool closed[3] = { false };
	for (;;) {
		struct pollfd p[2] = { { .fd = fd, .events = POLLIN },
				       { .fd = sfd, .events = POLLIN } };
		if (poll(p, sfd >= 0 ? 2 : 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (p[0].revents) {
			int r = vmapp_ctl_recv(fd, buf, msg);
			if (r == 1 && strcmp(msg->verb, "OUTPUT") == 0) {
				write_output(msg, closed);
				continue;
			}
			return r;
		}
		struct signalfd_siginfo si;
		if (sfd >= 0 && (p[1].revents & POLLIN) && read(sfd, &si, sizeof(si)) == sizeof(si))
			pass_signal(o, fd, (int)si.ssi_signo, &seen);
	}
}

/* Sends RUN and waits: the command's status, or 125. */
static int run(const struct vmapp_vm_options *o, int fd)
{
	size_t n = 0;
	while (o->command[n])
		n++;
	/* From before the RUN: a ^C at any time after it reaches the
	 * command.  They stay blocked after the answer: the status to exit
	 * with is the command's. */
	sigset_t passed;
	sigemptyset(&passed);
	sigaddset(&passed, SIGINT);
	sigaddset(&passed, SIGTERM);
	sigaddset(&passed, SIGHUP);
	int sfd = -1;
	if (sigprocmask(SIG_BLOCK, &passed, NULL) == 0) {
		sfd = signalfd(-1, &passed, SFD_CLOEXEC);
		if (sfd < 0) {
			/* Then they end this client, as before. */
			int e = errno;
			sigprocmask(SIG_UNBLOCK, &passed, NULL);
			if (o->verbose)
				say(o->name, "signals will not reach %s: %s", o->command[0],
				    strerror(e));
		}
	}
	/* A reader of its output that goes (| head) ends that output, not
	 * this client. */
	signal(SIGPIPE, SIG_IGN);
	int r = vmapp_ctl_send(fd, "RUN", (const char *const *)o->command, n);
	if (r < 0) {
		say(o->name, "can not ask the VM to run %s: %s", o->command[0],
		    r == -EMSGSIZE ? "the command line is too long" : strerror(-r));
		if (sfd >= 0)
			close(sfd);
		return VMAPP_EXIT_FAILURE;
	}
	static char buf[VMAPP_CTL_MAX + 1];
	struct vmapp_ctl_msg msg;
	r = wait_answer(o, fd, sfd, buf, &msg);
	if (sfd >= 0)
		close(sfd);
	if (r == 0 || r == -ECONNRESET) {
		say(o->name, "the VM's proxy ended before %s did", o->command[0]);
		return VMAPP_EXIT_FAILURE;
	}
	if (r < 0) {
		say(o->name, "the VM's proxy: %s", strerror(-r));
		return VMAPP_EXIT_FAILURE;
	}
	if (strcmp(msg.verb, "EXIT") == 0 && msg.n_fields == 1) {
		char *end;
		long status = strtol(msg.fields[0], &end, 10);
		if (!*end && status >= 0 && status <= 255) {
			/* What a shell says for a command it did not find: the
			 * likely cause is an image without it. */
			if (status == 127)
				say(o->name, "%s exited 127 in the VM: if it is not installed "
				    "there, give the VM an image with it (vmapp-vm(5): image, "
				    "packages)", o->command[0]);
			return (int)status;
		}
	}
	if (strcmp(msg.verb, "ERROR") == 0 && msg.n_fields == 1) {
		say(o->name, "%s", msg.fields[0]);
		return VMAPP_EXIT_FAILURE;
	}
	say(o->name, "the VM's proxy answered '%s'", msg.verb);
	return VMAPP_EXIT_FAILURE;
}

int vmapp_vm_client_run(const struct vmapp_vm_options *o)
{
	struct vmapp_env env;
	struct vmapp_vm_paths paths;
	char error[512];
	struct stat st;

	vmapp_env_from_environ(&env);
	if (vmapp_vm_paths_init(&paths, &env, o->name, error, sizeof(error)) < 0) {
		fprintf(stderr, "vmapp-proxy: %s\n", error);
		return 2;
	}
	if (stat(paths.config_file, &st) < 0) {
		fprintf(stderr, "vmapp-proxy: there is no VM '%s' (%s: %s); make it with: "
			"vmapp-vm create %s\n", o->name, paths.config_file, strerror(errno),
			o->name);
		return 2;
	}
	if (!paths.has_runtime) {
		fprintf(stderr, "vmapp-proxy: %s\n", vmapp_vm_paths_runtime_error(&paths, &env));
		return VMAPP_EXIT_FAILURE;
	}
	/* The VM's proxy may go while we write to it. */
	signal(SIGPIPE, SIG_IGN);

	int fd = vmapp_ctl_connect(paths.control_socket);
	if (fd < 0) {
		pid_t pid = 0;
		int status_fd = spawn_serve(o, &paths, &pid);
		if (status_fd < 0) {
			say(o->name, "can not start the VM's proxy: %s", strerror(-status_fd));
			return VMAPP_EXIT_FAILURE;
		}
		if (o->verbose)
			say(o->name, "starting (log: %s)", paths.vm_log);
		int r = follow_start(o->name, status_fd, &paths);
		if (r < 0) {
			waitpid(pid, NULL, 0);
			return VMAPP_EXIT_FAILURE;
		}
		if (r == 1) {
			/* Another client started it a moment ago. */
			waitpid(pid, NULL, 0);
			say(o->name, "the VM is starting; waiting for it");
		}
		fd = connect_retry(paths.control_socket, CONNECT_WAIT_S);
		if (fd < 0) {
			say(o->name, "can not reach the VM's proxy at %s: %s (log: %s)",
			    paths.control_socket, strerror(-fd), paths.vm_log);
			return VMAPP_EXIT_FAILURE;
		}
	}
	if (!o->command) {
		close(fd);
		return 0;
	}
	int status = run(o, fd);
	close(fd);
	return status;
}
