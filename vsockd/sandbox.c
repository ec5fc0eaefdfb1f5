/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <seccomp.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>

#include "sandbox.h"

/*
 * What the loop calls, found with strace on tests/vsockd and on a real
 * guest through QEMU, and nothing more.  Each line says who calls it.
 */
static const int allowed[] = {
	/* the front-end's messages (recvmsg, recvfrom, sendto), the kick
	 * and call eventfds, the forwarded connections, stderr */
	SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(readv),
	SCMP_SYS(recvmsg), SCMP_SYS(recvfrom), SCMP_SYS(sendto),
	/* glibc's last words before abort() (a corrupted heap) */
	SCMP_SYS(writev),
	/* the event loop */
	SCMP_SYS(epoll_wait), SCMP_SYS(epoll_pwait), SCMP_SYS(epoll_ctl),
	/* fds the front-end sent, forwarded connections ending */
	SCMP_SYS(close), SCMP_SYS(shutdown),
	/* forwarded connections: socket() is checked below */
	SCMP_SYS(connect),
	/* the old memory table going, malloc and free */
	SCMP_SYS(munmap), SCMP_SYS(brk), SCMP_SYS(madvise),
	/* the log's rate limit, when the vDSO does not answer */
	SCMP_SYS(clock_gettime),
	/* the end */
	SCMP_SYS(exit), SCMP_SYS(exit_group),
	/* a signal that interrupts a call (SIGTERM, from the parent's
	 * death, kills without a handler) */
	SCMP_SYS(rt_sigreturn), SCMP_SYS(restart_syscall),
#ifdef VMAPP_SANITIZER_SYSCALLS
	/*
	 * Sanitizer builds only: LeakSanitizer's check at exit stops the
	 * world from a cloned tracer task that lists /proc/self/task and
	 * ptraces the process; and the runtime's own bookkeeping.  Found
	 * with SCMP_ACT_LOG on tests/vsockd (gcc, address,undefined).
	 */
	SCMP_SYS(clone), SCMP_SYS(ptrace), SCMP_SYS(wait4), SCMP_SYS(futex),
	SCMP_SYS(open), SCMP_SYS(lseek), SCMP_SYS(getdents), SCMP_SYS(getdents64),
	SCMP_SYS(prctl), SCMP_SYS(sched_yield), SCMP_SYS(sigaltstack),
	SCMP_SYS(rt_sigaction), SCMP_SYS(rt_sigprocmask),
	SCMP_SYS(getpid), SCMP_SYS(getppid), SCMP_SYS(gettid),
#endif
};

/* SCMP_A0(SCMP_CMP_EQ, v) leaves datum_b out, which clang warns about. */
static struct scmp_arg_cmp arg_eq(unsigned arg, scmp_datum_t value)
{
	return (struct scmp_arg_cmp){ .arg = arg, .op = SCMP_CMP_EQ, .datum_a = value };
}

static int add(scmp_filter_ctx ctx, int syscall, unsigned n, const struct scmp_arg_cmp *args)
{
	return seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, syscall, n, args);
}

int vmapp_vsockd_sandbox(void)
{
	/* Also set by libseccomp on load; said here so that it does not
	 * hang on a library default. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;

	/* Killing the process, not the thread: a half-dead process would
	 * hold the VM's vsock without serving it. */
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	if (!ctx)
		return -ENOMEM;
	int r = 0;
	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]) && r == 0; i++)
		r = add(ctx, allowed[i], 0, NULL);

	/* The memory table (SET_MEM_TABLE) is mapped read and write, shared,
	 * and malloc maps anonymous memory: neither ever executable. */
	if (r == 0)
		r = add(ctx, SCMP_SYS(mmap), 1, (struct scmp_arg_cmp[]){
			SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0),
		});
#ifdef VMAPP_SANITIZER_SYSCALLS
	/* LeakSanitizer's tracer task guards its stack; never executable
	 * either. */
	if (r == 0)
		r = add(ctx, SCMP_SYS(mprotect), 1, (struct scmp_arg_cmp[]){
			SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0),
		});
#endif
	/* The forwards: unix stream sockets only. */
	if (r == 0)
		r = add(ctx, SCMP_SYS(socket), 2, (struct scmp_arg_cmp[]){
			arg_eq(0, AF_UNIX),
			SCMP_A1(SCMP_CMP_MASKED_EQ, ~(unsigned)(SOCK_NONBLOCK | SOCK_CLOEXEC),
					SOCK_STREAM),
		});
	/* A forward's connect that was in progress: its outcome. */
	if (r == 0)
		r = add(ctx, SCMP_SYS(getsockopt), 2, (struct scmp_arg_cmp[]){
			arg_eq(1, SOL_SOCKET),
			arg_eq(2, SO_ERROR),
		});
	if (r == 0)
		r = seccomp_load(ctx);
	seccomp_release(ctx);
	/* libseccomp returns -errno, or -ECANCELED for a kernel refusal. */
	return r;
}
