/* SPDX-License-Identifier: MIT */
/*
 * vmapp-vsockd's seccomp filter (vsockd/sandbox.h): what it lets through
 * and what kills.  Each case runs in a child that installs the filter
 * and makes one call; the process it was (the test-vsockd run) shows
 * that the loop's own calls pass.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox.h"

#define CHECK(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "test-sandbox: %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
		exit(1); \
	} \
} while (0)

enum outcome { PASSES, KILLED };

/* Runs call() in a child under the filter: 0 from it is its exit status
 * 0, a kill by the filter is SIGSYS. */
static void expect(const char *name, int (*call)(void), enum outcome want)
{
	fflush(stderr);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		if (vmapp_vsockd_sandbox() < 0)
			_exit(90);
		_exit(call() == 0 ? 0 : 91);
	}
	int status;
	CHECK(waitpid(pid, &status, 0) == pid);
	bool killed = WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS;
	bool passed = WIFEXITED(status) && WEXITSTATUS(status) == 0;
	if (want == KILLED ? !killed : !passed) {
		fprintf(stderr, "test-sandbox: %s: status 0x%x, expected %s\n", name, status,
				want == KILLED ? "a kill by SIGSYS" : "exit 0");
		exit(1);
	}
	fprintf(stderr, "test-sandbox: %s: %s\n", name, want == KILLED ? "killed" : "passes");
}

static int unix_stream(void)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	int err = 1;
	socklen_t len = sizeof(err);
	/* A connect's outcome, as a forward in progress asks. */
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err != 0)
		return -1;
	shutdown(fd, SHUT_WR);
	return close(fd);
}

static int shared_rw_map(void)
{
	/* As SET_MEM_TABLE maps guest memory, and as malloc maps. */
	void *p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -1;
	memset(p, 1, 1 << 20);
	void *q = malloc(1 << 22);
	if (!q)
		return -1;
	free(q);
	return munmap(p, 1 << 20);
}

static int open_file(void)
{
	return open("/etc/passwd", O_RDONLY | O_CLOEXEC) >= 0 ? 0 : -1;
}

static int exec_shell(void)
{
	execl("/bin/sh", "sh", "-c", "exit 0", (char *)NULL);
	return -1;
}

static int inet_socket(void)
{
	return socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0) >= 0 ? 0 : -1;
}

static int unix_dgram(void)
{
	return socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0) >= 0 ? 0 : -1;
}

static int exec_map(void)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return p == MAP_FAILED ? -1 : 0;
}

static int exec_protect(void)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -1;
	return mprotect(p, 4096, PROT_READ | PROT_EXEC);
}

static int other_sockopt(void)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), type;
	socklen_t len = sizeof(type);
	return getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len);
}

static int send_fds(void)
{
	/* sendmsg could pass the guest's memory to a forward's peer. */
	int sv[2] = { -1, -1 };
	struct msghdr mh = { 0 };
	return sendmsg(sv[0], &mh, 0) < 0 && errno == EBADF ? 0 : -1;
}

#ifndef VMAPP_SANITIZER_SYSCALLS
static int fork_child(void)
{
	pid_t pid = fork();
	if (pid == 0)
		_exit(0);
	return pid > 0 ? 0 : -1;
}
#endif

int main(void)
{
	expect("unix stream socket, SO_ERROR, shutdown, close", unix_stream, PASSES);
	expect("shared read-write mapping, malloc", shared_rw_map, PASSES);
	expect("open", open_file, KILLED);
	expect("execve", exec_shell, KILLED);
	expect("AF_INET socket", inet_socket, KILLED);
	expect("unix datagram socket", unix_dgram, KILLED);
	expect("executable mapping", exec_map, KILLED);
	expect("mprotect to executable", exec_protect, KILLED);
	expect("getsockopt other than SO_ERROR", other_sockopt, KILLED);
	expect("sendmsg", send_fds, KILLED);
#ifndef VMAPP_SANITIZER_SYSCALLS
	/* Sanitizer builds let LeakSanitizer clone its tracer. */
	expect("fork", fork_child, KILLED);
#endif
	fprintf(stderr, "test-sandbox: all passed\n");
	return 0;
}
