/* SPDX-License-Identifier: MIT */
/*
 * The launcher (vmspawn/launch.h) with real processes: what the child
 * inherits (fds, stdin, signal mask and dispositions, session), the log,
 * the pid file, errors from before the exec, death with the parent, wait
 * with a timeout, stop with a grace, and real QEMU when VMAPP_TEST_QEMU
 * names it (meson sets it where qemu-system-x86_64 is installed).
 *
 * The test is a child subreaper: a grandchild orphaned by the parent
 * death test comes back to it, so it can see that one die and reap it
 * (a container's init that does not reap would leave a zombie that
 * kill(pid, 0) still finds).
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "launch.h"

static char dir[] = "/tmp/vmapp-test-launch-XXXXXX";

static int remove_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	return remove(path);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *path_in(const char *name)
{
	static char buf[8][256];
	static int next;
	char *p = buf[next++ % 8];

	snprintf(p, sizeof(buf[0]), "%s/%s", dir, name);
	return p;
}

/* The whole file, NUL-terminated, in buf; "" when it can not be read. */
static const char *slurp(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "re");
	size_t n = 0;

	buf[0] = '\0';
	if (!f)
		return buf;
	n = fread(buf, 1, size - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static bool wait_for_text(const char *path, const char *text, double seconds)
{
	char buf[4096];
	double end = now() + seconds;

	do {
		if (strstr(slurp(path, buf, sizeof(buf)), text))
			return true;
		nanosleep(&(struct timespec){ .tv_nsec = 10000000 }, NULL);
	} while (now() < end);
	return false;
}

/* The value of a "Key:\tvalue" line of /proc/self/status as the child
 * printed it into the log. */
static unsigned long long status_field(const char *text, const char *key)
{
	const char *p = strstr(text, key);

	return p ? strtoull(p + strlen(key), NULL, 16) : ~0ULL;
}

/*
 * What the child inherits.  The caller leaks what it can: fds without
 * CLOEXEC, a blocked signal, an ignored signal.  The shell prints its
 * fds (ls opens one, the lowest free: 3), where its stdin goes, its
 * signal mask and ignored set; its session is its own.
 */
static void test_inherit(void)
{
	const char *log = path_in("inherit.log"), *pidf = path_in("inherit.pid");
	const char *argv[] = {
		"sh", "-c",
		"echo hi; ls /proc/self/fd; echo stdin=$(readlink /proc/self/fd/0); "
		"grep -E '^Sig(Blk|Ign):' /proc/self/status; sleep 0.3",
		NULL,
	};
	struct vmapp_launch_options o = { .log_path = log, .pid_file = pidf };
	int leak = open("/dev/null", O_RDONLY), leak_pipe[2], status = -1, r;
	char buf[4096], want[32];
	sigset_t usr1, old;
	struct sigaction ign = { .sa_handler = SIG_IGN }, old_int;
	struct stat st;
	pid_t pid = 0;
	FILE *f;

	CHECK(leak >= 3 && pipe(leak_pipe) == 0, "no fds to leak");
	/* An existing log is appended to, not truncated. */
	f = fopen(log, "we");
	CHECK(f && fputs("before\n", f) >= 0 && fclose(f) == 0, "can not write %s", log);
	chmod(log, 0644);

	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigprocmask(SIG_BLOCK, &usr1, &old);
	sigemptyset(&ign.sa_mask);
	sigaction(SIGINT, &ign, &old_int);
	r = vmapp_launch_qemu(argv, &o, &pid);
	sigprocmask(SIG_SETMASK, &old, NULL);
	sigaction(SIGINT, &old_int, NULL);
	if (!CHECK(r == 0 && pid > 0, "launch: %s", strerror(-r)))
		goto out;

	CHECK(getsid(pid) == pid, "the child's session is %d, not its own (%d)", (int)getsid(pid),
	      (int)pid);
	CHECK(getpgid(pid) == pid, "the child's process group is %d, not its own",
	      (int)getpgid(pid));
	/* The pid file is there when the launch returns. */
	snprintf(want, sizeof(want), "%d\n", (int)pid);
	CHECK(strcmp(slurp(pidf, buf, sizeof(buf)), want) == 0, "pid file '%s', not '%s'", buf,
	      want);
	CHECK(stat(pidf, &st) == 0 && (st.st_mode & 0777) == 0600, "pid file mode %o",
	      (unsigned)(st.st_mode & 0777));

	r = vmapp_launch_wait(pid, 10, &status);
	CHECK(r == 0, "wait: %s", strerror(-r));
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "sh ended with status 0x%x", status);

	slurp(log, buf, sizeof(buf));
	CHECK(strncmp(buf, "before\nhi\n", 10) == 0, "the log does not start 'before', 'hi': '%s'",
	      buf);
	CHECK(strstr(buf, "\n0\n1\n2\n3\nstdin=") != NULL,
	      "the child's fds are not exactly 0, 1, 2 and ls's 3 (leaked %d, %d, %d): '%s'", leak,
	      leak_pipe[0], leak_pipe[1], buf);
	CHECK(strstr(buf, "stdin=/dev/null\n") != NULL, "stdin is not /dev/null: '%s'", buf);
	CHECK(status_field(buf, "SigBlk:") == 0, "signals blocked in the child: '%s'", buf);
	CHECK((status_field(buf, "SigIgn:") & (1ULL << (SIGINT - 1))) == 0,
	      "SIGINT ignored in the child: '%s'", buf);
	/* The log's mode is the caller's business once it exists. */
	CHECK(stat(log, &st) == 0 && (st.st_mode & 0777) == 0644, "existing log's mode changed to %o",
	      (unsigned)(st.st_mode & 0777));
out:
	close(leak);
	close(leak_pipe[0]);
	close(leak_pipe[1]);
}

/* keep_fd: that fd, at its number, is the only one the child gets
 * beyond 0, 1 and 2 (and ls's own); a bad one is refused before a fork. */
static void test_keep_fd(void)
{
	const char *log = path_in("keep.log");
	const char *argv[] = { "sh", "-c", "ls /proc/self/fd | tr '\\n' ' '", NULL };
	int leak = open("/dev/null", O_RDONLY | O_CLOEXEC);
	int keep = open("/dev/null", O_RDONLY | O_CLOEXEC), status = -1, r;
	struct vmapp_launch_options o = { .log_path = log, .keep_fd = keep };
	char buf[4096], want[64];
	pid_t pid = 0;

	CHECK(leak >= 3 && keep > leak, "no fds");
	r = vmapp_launch_qemu(argv, &o, &pid);
	if (CHECK(r == 0, "launch with keep_fd: %s", strerror(-r))) {
		CHECK(vmapp_launch_wait(pid, 10, &status) == 0 && WIFEXITED(status) &&
		      WEXITSTATUS(status) == 0, "sh ended with status 0x%x", status);
		/* ls's directory fd takes the lowest free number: 3. */
		snprintf(want, sizeof(want), "0 1 2 3 %d ", keep);
		CHECK(strcmp(slurp(log, buf, sizeof(buf)), want) == 0,
		      "the child's fds are '%s', not '%s'", buf, want);
	}
	/* The caller's copy stays its own. */
	CHECK(fcntl(keep, F_GETFD) == FD_CLOEXEC, "keep_fd's flags changed in the caller");
	close(keep);
	o.keep_fd = keep; /* closed now */
	r = vmapp_launch_qemu(argv, &o, &pid);
	CHECK(r == -EBADF, "a closed keep_fd: %s, not EBADF", strerror(-r));
	o.keep_fd = 1;
	r = vmapp_launch_qemu(argv, &o, &pid);
	CHECK(r == -EBADF, "keep_fd 1: %s, not EBADF", strerror(-r));
	close(leak);
}

/* A new log is created 0600; with no log at all, output goes nowhere. */
static void test_new_log(void)
{
	const char *log = path_in("new.log");
	const char *argv[] = { "/bin/sh", "-c", "echo out; echo err >&2", NULL };
	struct vmapp_launch_options o = { .log_path = log };
	int status = -1, r;
	char buf[256];
	struct stat st;
	pid_t pid = 0;

	umask(0);
	r = vmapp_launch_qemu(argv, &o, &pid);
	umask(022);
	if (!CHECK(r == 0, "launch: %s", strerror(-r)))
		return;
	CHECK(vmapp_launch_wait(pid, 10, &status) == 0 && WIFEXITED(status) &&
	      WEXITSTATUS(status) == 0, "sh ended with 0x%x", status);
	CHECK(strcmp(slurp(log, buf, sizeof(buf)), "out\nerr\n") == 0,
	      "stdout and stderr are not both in the log: '%s'", buf);
	CHECK(stat(log, &st) == 0 && (st.st_mode & 0777) == 0600, "new log mode %o under umask 0",
	      (unsigned)(st.st_mode & 0777));

	r = vmapp_launch_qemu(argv, NULL, &pid);
	CHECK(r == 0, "launch without options: %s", strerror(-r));
	if (r == 0)
		CHECK(vmapp_launch_wait(pid, 10, &status) == 0 && WIFEXITED(status) &&
		      WEXITSTATUS(status) == 0, "sh without a log ended with 0x%x", status);
}

/* Errors before the exec come back as -errno, and leave no child. */
static void test_errors(void)
{
	const char *missing[] = { "/nonexistent/vmapp-no-such-binary", NULL };
	const char *missing_in_path[] = { "vmapp-no-such-binary", NULL };
	const char *not_exec[] = { "/etc/passwd", NULL };
	const char *dir_binary[] = { "/", NULL };
	const char *sh[] = { "sh", "-c", "exit 0", NULL };
	struct vmapp_launch_options o = { .log_path = path_in("errors.log"),
					  .pid_file = path_in("errors.pid") };
	struct vmapp_launch_options bad_log = { .log_path = path_in("no-such-dir/x.log") };
	pid_t pid = -7;
	int r;

	r = vmapp_launch_qemu(missing, &o, &pid);
	CHECK(r == -ENOENT, "a missing binary: %d (%s), not -ENOENT", r, strerror(-r));
	r = vmapp_launch_qemu(missing_in_path, &o, &pid);
	CHECK(r == -ENOENT, "a name not in PATH: %d (%s), not -ENOENT", r, strerror(-r));
	r = vmapp_launch_qemu(not_exec, &o, &pid);
	CHECK(r == -EACCES, "a file that is not executable: %d (%s), not -EACCES", r, strerror(-r));
	r = vmapp_launch_qemu(dir_binary, &o, &pid);
	CHECK(r == -EACCES, "a directory: %d (%s), not -EACCES", r, strerror(-r));
	r = vmapp_launch_qemu(sh, &bad_log, &pid);
	CHECK(r == -ENOENT, "a log in a missing folder: %d (%s), not -ENOENT", r, strerror(-r));
	CHECK(pid == -7, "ret_pid set on failure: %d", (int)pid);
	CHECK(access(o.pid_file, F_OK) < 0, "a pid file written for a failed launch");
	CHECK(waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD,
	      "a failed launch left a child behind");
	CHECK(vmapp_launch_qemu(NULL, &o, &pid) == -EINVAL, "NULL argv accepted");
	CHECK(vmapp_launch_wait(0, 1, NULL) == -EINVAL, "wait on pid 0 accepted");
	CHECK(vmapp_launch_stop(-1, 1) == -EINVAL, "stop of pid -1 accepted");
	CHECK(vmapp_launch_stop(1, 0.1) == -ECHILD, "stop of a pid not ours: not -ECHILD");
}

/* The child dies with its parent: an intermediate process launches
 * sleep, reports its pid, and exits when told; the sleep must be gone
 * within a second (and not before). */
static void test_parent_death(void)
{
	int to_test[2], to_mid[2], status;
	pid_t mid, sleeper = 0;
	double start;

	if (!CHECK(pipe(to_test) == 0 && pipe(to_mid) == 0, "pipe: %s", strerror(errno)))
		return;
	mid = fork();
	if (mid == 0) {
		const char *argv[] = { "sleep", "100", NULL };
		pid_t pid = 0;
		char go;

		close(to_test[0]);
		close(to_mid[1]);
		if (vmapp_launch_qemu(argv, NULL, &pid) < 0)
			_exit(1);
		if (write(to_test[1], &pid, sizeof(pid)) != sizeof(pid))
			_exit(1);
		if (read(to_mid[0], &go, 1) < 0)
			_exit(1);
		_exit(0);
	}
	close(to_test[1]);
	close(to_mid[0]);
	if (!CHECK(mid > 0 && read(to_test[0], &sleeper, sizeof(sleeper)) == sizeof(sleeper) &&
		   sleeper > 0, "the intermediate process did not launch sleep")) {
		close(to_mid[1]);
		goto out;
	}
	nanosleep(&(struct timespec){ .tv_nsec = 100000000 }, NULL);
	CHECK(kill(sleeper, 0) == 0, "sleep is gone while its parent lives");

	close(to_mid[1]); /* the intermediate exits */
	CHECK(waitpid(mid, &status, 0) == mid && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "the intermediate process ended with 0x%x", status);
	start = now();
	/* Orphaned, it comes to us (the subreaper): reap it when it dies. */
	while (waitpid(sleeper, &status, WNOHANG) != sleeper && now() - start < 1.0)
		nanosleep(&(struct timespec){ .tv_nsec = 5000000 }, NULL);
	CHECK(kill(sleeper, 0) < 0 && errno == ESRCH,
	      "sleep %d still there %.2f s after its parent died", (int)sleeper, now() - start);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
	      "sleep did not end by SIGKILL: status 0x%x", status);
	if (kill(sleeper, 0) == 0) {
		kill(sleeper, SIGKILL);
		waitpid(sleeper, NULL, 0);
	}
out:
	close(to_test[0]);
}

/* Wait with a timeout; stop with a grace, on a process that obeys
 * SIGTERM and on one that ignores it. */
static void test_wait_stop(void)
{
	const char *sleep_argv[] = { "sleep", "100", NULL };
	const char *exit7[] = { "sh", "-c", "exit 7", NULL };
	const char *stubborn[] = { "sh", "-c", "trap '' TERM; echo ready; exec sleep 100", NULL };
	struct vmapp_launch_options o = { .log_path = path_in("stop.log") };
	struct sigaction ign = { .sa_handler = SIG_IGN }, old_term;
	int status = -1, r;
	double t;
	pid_t pid = 0;

	if (CHECK(vmapp_launch_qemu(exit7, &o, &pid) == 0, "launch sh")) {
		r = vmapp_launch_wait(pid, 10, &status);
		CHECK(r == 0 && WIFEXITED(status) && WEXITSTATUS(status) == 7,
		      "wait: %d, status 0x%x, not exit 7", r, status);
		CHECK(vmapp_launch_wait(pid, 1, &status) == -ECHILD, "a reaped child waited for again");
	}

	/* The caller ignores SIGTERM: the child does not. */
	sigemptyset(&ign.sa_mask);
	sigaction(SIGTERM, &ign, &old_term);
	r = vmapp_launch_qemu(sleep_argv, &o, &pid);
	sigaction(SIGTERM, &old_term, NULL);
	if (CHECK(r == 0, "launch sleep: %s", strerror(-r))) {
		t = now();
		r = vmapp_launch_wait(pid, 0.3, &status);
		t = now() - t;
		CHECK(r == -ETIMEDOUT, "wait on a running sleep: %d, not -ETIMEDOUT", r);
		CHECK(t >= 0.29 && t < 1.5, "a 0.3 s wait took %.3f s", t);
		CHECK(vmapp_launch_wait(pid, 0, &status) == -ETIMEDOUT, "a zero wait did not time out");
		CHECK(kill(pid, 0) == 0, "sleep gone after the timeouts");
		t = now();
		r = vmapp_launch_stop(pid, 5);
		t = now() - t;
		CHECK(r == 0, "stop of sleep: %d, not 0 (ended by SIGTERM)", r);
		CHECK(t < 2, "stop of sleep took %.3f s", t);
		CHECK(kill(pid, 0) < 0 && errno == ESRCH, "sleep still there after stop");
	}

	r = vmapp_launch_qemu(stubborn, &o, &pid);
	if (CHECK(r == 0, "launch the stubborn sh: %s", strerror(-r))) {
		CHECK(wait_for_text(o.log_path, "ready", 10), "the stubborn sh never said ready");
		t = now();
		r = vmapp_launch_stop(pid, 0.4);
		t = now() - t;
		CHECK(r == 1, "stop of a process that ignores SIGTERM: %d, not 1 (killed)", r);
		CHECK(t >= 0.39 && t < 3, "stop with a 0.4 s grace took %.3f s", t);
		CHECK(kill(pid, 0) < 0 && errno == ESRCH, "the stubborn process is still there");
	}
}

/* Real QEMU, where meson found it: -version writes to the log and exits
 * 0; a machine that waits (-S) obeys the stop, and says so in the log. */
static void test_qemu(void)
{
	const char *qemu = getenv("VMAPP_TEST_QEMU");
	const char *log = path_in("qemu.log");
	struct vmapp_launch_options o = { .log_path = log, .pid_file = path_in("qemu.pid") };
	int status = -1, r;
	char buf[4096];
	pid_t pid = 0;

	if (!qemu || !*qemu) {
		printf("VMAPP_TEST_QEMU not set: the QEMU launches are left out\n");
		return;
	}
	const char *version[] = { qemu, "-version", NULL };
	const char *idle[] = { qemu, "-machine", "none", "-nodefaults", "-display", "none",
			       "-S", NULL };

	r = vmapp_launch_qemu(version, &o, &pid);
	if (CHECK(r == 0, "launch %s -version: %s", qemu, strerror(-r))) {
		r = vmapp_launch_wait(pid, 60, &status);
		CHECK(r == 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "qemu -version: wait %d, status 0x%x", r, status);
		CHECK(strstr(slurp(log, buf, sizeof(buf)), "QEMU emulator version") != NULL,
		      "no version in the log: '%s'", buf);
	}

	r = vmapp_launch_qemu(idle, &o, &pid);
	if (CHECK(r == 0, "launch an idle QEMU: %s", strerror(-r))) {
		r = vmapp_launch_wait(pid, 1, &status);
		CHECK(r == -ETIMEDOUT, "an idle QEMU ended by itself: %d, status 0x%x (log: %s)", r,
		      status, slurp(log, buf, sizeof(buf)));
		if (r == -ETIMEDOUT) {
			r = vmapp_launch_stop(pid, 20);
			CHECK(r == 0, "QEMU did not end on SIGTERM within 20 s: %d", r);
			CHECK(strstr(slurp(log, buf, sizeof(buf)), "terminating on signal 15") != NULL,
			      "QEMU's SIGTERM message is not in the log: '%s'", buf);
		}
	}
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 99;
	}
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) {
		perror("PR_SET_CHILD_SUBREAPER");
		return 99;
	}
	test_inherit();
	test_keep_fd();
	test_new_log();
	test_errors();
	test_parent_death();
	test_wait_stop();
	test_qemu();
	if (nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return check_exit_code();
}
