/* SPDX-License-Identifier: MIT */
/*
 * The launcher (launch.h): fork, set the child up, execve; the child's
 * errno before the exec comes back through a CLOEXEC pipe (EOF on it
 * means the exec happened).
 *
 * Between fork and execve the child runs only system calls: the caller
 * may have threads, and another thread may hold malloc's or stdio's lock
 * at the fork.  So the path is resolved, the files opened and the pipe
 * made in the parent, before the fork.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "launch.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

extern char **environ;

/* The default search path of execvp when PATH is unset, without its
 * current directory. */
#define DEFAULT_PATH "/usr/local/bin:/usr/bin:/bin"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* argv[0] as execve takes it, in buf: as is with a '/', else the first
 * executable regular file of that name in PATH.  An empty PATH entry
 * (the current directory for execvp) is skipped: a VM's binary is never
 * taken from wherever the caller happens to be. */
static int resolve(const char *name, char *buf, size_t size)
{
	const char *path = getenv("PATH"), *p, *end;
	int err = -ENOENT;

	if (!*name)
		return -ENOENT;
	if (strchr(name, '/')) {
		if (strlen(name) >= size)
			return -ENAMETOOLONG;
		memcpy(buf, name, strlen(name) + 1);
		return 0;
	}
	if (!path)
		path = DEFAULT_PATH;
	for (p = path; *p; p = *end ? end + 1 : end) {
		struct stat st;
		size_t len;
		int n;

		end = strchrnul(p, ':');
		len = (size_t)(end - p);
		if (len == 0 || len > INT_MAX)
			continue;
		n = snprintf(buf, size, "%.*s/%s", (int)len, p, name);
		if (n < 0 || (size_t)n >= size)
			continue;
		if (stat(buf, &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		if (access(buf, X_OK) == 0)
			return 0;
		err = -EACCES; /* as execvp: found, but not executable */
	}
	return err;
}

/* fd moved to 3 or above (and CLOEXEC), so that the child's dup2 onto
 * 0, 1 and 2 never lands on one of its own sources: a caller started
 * with stdin closed gets fd 0 from open(). */
static int above_stdio(int fd)
{
	int moved;

	if (fd < 0 || fd > 2)
		return fd;
	moved = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	close(fd);
	return moved;
}

struct linux_dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

/* Every fd from 3 up CLOEXEC, so none survives the exec (the error pipe
 * included, which is why they are not closed now).  close_range() where
 * the kernel has it (5.11); else the fds /proc/self/fd lists, read with
 * getdents64 (opendir allocates); else every number below the limit. */
static void cloexec_from_3(void)
{
	struct rlimit rl;
	int dir;

#ifdef SYS_close_range
	if (syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
		return;
#endif
	dir = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir >= 0) {
		_Alignas(struct linux_dirent64) char buf[4096];
		long n;

		while ((n = syscall(SYS_getdents64, dir, buf, sizeof(buf))) > 0) {
			for (long off = 0; off < n;) {
				struct linux_dirent64 *d = (struct linux_dirent64 *)(buf + off);
				char *e;
				long fd = strtol(d->d_name, &e, 10);

				off += d->d_reclen;
				if (*e || e == d->d_name || fd < 3 || fd == dir || fd > INT_MAX)
					continue;
				fcntl((int)fd, F_SETFD, FD_CLOEXEC);
			}
		}
		close(dir);
		if (n == 0)
			return;
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY ||
	    rl.rlim_cur > (1U << 20))
		rl.rlim_cur = 1U << 20;
	for (int fd = 3; fd < (int)rl.rlim_cur; fd++)
		fcntl(fd, F_SETFD, FD_CLOEXEC);
}

static _Noreturn void child_fail(int pipe_fd, int err)
{
	ssize_t n;

	do
		n = write(pipe_fd, &err, sizeof(err));
	while (n < 0 && errno == EINTR);
	_exit(127);
}

/* In the child; signals are blocked (the parent blocked them around the
 * fork).  Never returns. */
static _Noreturn void child(const char *path, const char *const *argv, int null_fd,
			    int out_fd, int keep_fd, int pipe_fd, pid_t parent)
{
	sigset_t none;

	/* Its own session: the terminal's SIGINT, SIGQUIT and SIGHUP go to
	 * the caller's foreground process group, not to QEMU. */
	if (setsid() < 0)
		child_fail(pipe_fd, errno);
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		child_fail(pipe_fd, errno);
	/* The parent may have died between fork and prctl: then no signal
	 * comes, and the child would run on, reparented. */
	if (getppid() != parent)
		_exit(127);
	if (dup2(null_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(out_fd, 2) < 0)
		child_fail(pipe_fd, errno);
	cloexec_from_3();
	if (keep_fd > 2 && fcntl(keep_fd, F_SETFD, 0) < 0)
		child_fail(pipe_fd, errno);
	/* Dispositions: a handler is reset by exec anyway, an ignored signal
	 * is not (a caller that ignores SIGTERM or SIGPIPE would hand that on
	 * to QEMU).  sigaction refuses SIGKILL, SIGSTOP and the signals
	 * glibc keeps for itself: nothing to reset there. */
	for (int sig = 1; sig < NSIG; sig++) {
		struct sigaction sa = { .sa_handler = SIG_DFL };

		sigemptyset(&sa.sa_mask);
		sigaction(sig, &sa, NULL);
	}
	sigemptyset(&none);
	if (sigprocmask(SIG_SETMASK, &none, NULL) < 0)
		child_fail(pipe_fd, errno);
	execve(path, (char *const *)argv, environ);
	child_fail(pipe_fd, errno);
}

static pid_t reap(pid_t pid, int *ret_status)
{
	pid_t r;

	do
		r = waitpid(pid, ret_status, 0);
	while (r < 0 && errno == EINTR);
	return r;
}

/* "PID\n" into path, through a temporary file in the same folder and a
 * rename: a reader never sees a half-written pid. */
static int write_pid_file(const char *path, pid_t pid)
{
	char tmp[PATH_MAX], line[32];
	int fd, n, len, r = 0;

	n = snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return -ENAMETOOLONG;
	fd = mkostemp(tmp, O_CLOEXEC); /* mode 0600 */
	if (fd < 0)
		return -errno;
	len = snprintf(line, sizeof(line), "%ld\n", (long)pid);
	if (write(fd, line, (size_t)len) != len)
		r = errno ? -errno : -EIO;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0)
		unlink(tmp);
	return r;
}

int vmapp_launch_qemu(const char *const *argv, const struct vmapp_launch_options *o,
		      pid_t *ret_pid)
{
	static const struct vmapp_launch_options defaults = { 0 };
	char path[PATH_MAX];
	int null_fd = -1, log_fd = -1, p[2] = { -1, -1 }, err = 0, r;
	sigset_t all, old;
	pid_t parent = getpid(), pid;
	ssize_t n;

	if (!argv || !argv[0] || !ret_pid)
		return -EINVAL;
	if (!o)
		o = &defaults;
	if (o->keep_fd != 0 && (o->keep_fd < 3 || fcntl(o->keep_fd, F_GETFD) < 0))
		return -EBADF;
	r = resolve(argv[0], path, sizeof(path));
	if (r < 0)
		return r;

	null_fd = above_stdio(open("/dev/null", O_RDWR | O_CLOEXEC | O_NOCTTY));
	if (null_fd < 0) {
		r = -errno;
		goto out;
	}
	if (o->log_path) {
		log_fd = above_stdio(open(o->log_path,
					  O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600));
		if (log_fd < 0) {
			r = -errno;
			goto out;
		}
	}
	if (pipe2(p, O_CLOEXEC) < 0) {
		r = -errno;
		goto out;
	}
	p[0] = above_stdio(p[0]);
	p[1] = above_stdio(p[1]);
	if (p[0] < 0 || p[1] < 0) {
		r = -errno;
		goto out;
	}

	/* No handler of the caller's may run in the child before the
	 * dispositions are reset. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pid = fork();
	if (pid == 0)
		child(path, argv, null_fd, log_fd >= 0 ? log_fd : null_fd, o->keep_fd, p[1],
		      parent);
	err = errno;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (pid < 0) {
		r = -err;
		goto out;
	}

	close(p[1]);
	p[1] = -1;
	do
		n = read(p[0], &err, sizeof(err));
	while (n < 0 && errno == EINTR);
	if (n != 0) {
		/* The child failed before the exec (it exits 127), or the
		 * pipe did: either way it is no VM. */
		if (n != (ssize_t)sizeof(err)) {
			err = n < 0 ? errno : EIO;
			kill(pid, SIGKILL);
		}
		reap(pid, NULL);
		r = err > 0 ? -err : -EIO;
		goto out;
	}
	if (o->pid_file) {
		r = write_pid_file(o->pid_file, pid);
		if (r < 0) {
			kill(pid, SIGKILL);
			reap(pid, NULL);
			goto out;
		}
	}
	*ret_pid = pid;
	r = 0;
out:
	if (null_fd >= 0)
		close(null_fd);
	if (log_fd >= 0)
		close(log_fd);
	if (p[0] >= 0)
		close(p[0]);
	if (p[1] >= 0)
		close(p[1]);
	return r;
}

int vmapp_launch_wait(pid_t pid, double timeout_s, int *ret_status)
{
	double deadline = timeout_s >= 0 ? now() + timeout_s : 0;
	int pidfd = -1, status, r;

	/* pid 0 and -1 mean groups to waitpid and kill: never here. */
	if (pid <= 0)
		return -EINVAL;
#ifdef SYS_pidfd_open
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0); /* CLOEXEC by itself */
#endif
	for (;;) {
		pid_t w = waitpid(pid, &status, WNOHANG);
		double left;

		if (w == pid) {
			if (ret_status)
				*ret_status = status;
			r = 0;
			break;
		}
		if (w < 0 && errno != EINTR) {
			r = -errno;
			break;
		}
		left = timeout_s >= 0 ? deadline - now() : -1;
		if (timeout_s >= 0 && left <= 0) {
			r = -ETIMEDOUT;
			break;
		}
		if (pidfd >= 0) {
			int ms = left < 0 ? -1 : left * 1000 + 1 > INT_MAX ? INT_MAX :
				 (int)(left * 1000) + 1;

			poll(&(struct pollfd){ .fd = pidfd, .events = POLLIN }, 1, ms);
		} else {
			/* No pidfd (before Linux 5.3): look every 10 ms. */
			double step = left < 0 || left > 0.01 ? 0.01 : left;

			nanosleep(&(struct timespec){ .tv_nsec = (long)(step * 1e9) }, NULL);
		}
	}
	if (pidfd >= 0)
		close(pidfd);
	return r;
}

int vmapp_launch_stop(pid_t pid, double grace_s)
{
	siginfo_t info = { 0 };
	int r;

	if (pid <= 0)
		return -EINVAL;
	/* Only a child of ours: a pid already reaped may be someone else's
	 * by now, and must not get a signal. */
	if (waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT) < 0)
		return -errno;
	if (kill(pid, SIGTERM) < 0 && errno != ESRCH)
		return -errno;
	r = vmapp_launch_wait(pid, grace_s > 0 ? grace_s : 0, NULL);
	if (r != -ETIMEDOUT)
		return r;
	if (kill(pid, SIGKILL) < 0 && errno != ESRCH)
		return -errno;
	r = vmapp_launch_wait(pid, -1, NULL);
	return r < 0 ? r : 1;
}
