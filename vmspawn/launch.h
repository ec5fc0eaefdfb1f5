/* SPDX-License-Identifier: MIT */
/*
 * Starting QEMU (or any program) as a VM's process: no shell, nothing of
 * the caller's inherited but what is asked for, dead with its parent, its
 * output in a per-VM log.
 *
 * The child gets: stdin /dev/null; stdout and stderr the log (opened
 * O_APPEND, created 0600); no other fd (every fd from 3 up is closed at
 * exec, whether or not the caller set CLOEXEC on it) but keep_fd, at its
 * own number, when one is asked for; an empty signal
 * mask and every signal at its default; a session of its own (the
 * caller's terminal's ^C and hangup do not reach it); SIGKILL when the
 * thread that called vmapp_launch_qemu() ends (PR_SET_PDEATHSIG).  The
 * environment is the caller's.
 *
 * A failure in the child before exec (the binary missing or not
 * executable, a dup2 that fails) comes back as the -errno of
 * vmapp_launch_qemu(), not as an exit status.
 */
#ifndef VMAPP_LAUNCH_H
#define VMAPP_LAUNCH_H

#include <sys/types.h>

struct vmapp_launch_options {
	/* may be NULL: stdout and stderr go to /dev/null.  Opened
	 * O_WRONLY|O_APPEND|O_CREAT, mode 0600 when created; an existing
	 * log is appended to. */
	const char *log_path;
	/* may be NULL: no pid file.  Written (the pid and a newline, mode
	 * 0600, through a temporary file and rename) once the exec has
	 * succeeded; a failure to write it kills the child. */
	const char *pid_file;
	/* 0: none.  Else an fd of the caller's (3 or above) the child keeps
	 * open at the same number, e.g. QEMU's vhostfd=; the caller keeps
	 * its own copy and closes it. */
	int keep_fd;
};

/*
 * Starts argv[0] with argv (NULL-terminated, argv[0] not NULL).  An
 * argv[0] without a '/' is looked up in PATH (by the caller, before the
 * fork; "/usr/local/bin:/usr/bin:/bin" when PATH is unset), as execvp
 * would but never through a shell.  o may be NULL (all defaults).
 *
 * Returns 0 and the child's pid in ret_pid once the child has exec'd;
 * the caller owns the child and reaps it (vmapp_launch_wait(),
 * vmapp_launch_stop()).  Otherwise a negative errno, and no child is
 * left: -ENOENT or -EACCES for the binary (from the PATH lookup or from
 * the child's execve), the errno of opening the log, of fork, of a step
 * in the child, or of writing the pid file.
 *
 * The parent-death signal follows the calling thread, not the process:
 * call it from a thread that lives as long as the VM should.
 */
int vmapp_launch_qemu(const char *const *argv, const struct vmapp_launch_options *o,
		      pid_t *ret_pid);

/*
 * Waits for the child pid to end and reaps it, at most timeout_s seconds
 * (< 0: no limit; 0: only a look).  Returns 0 and its waitpid status in
 * ret_status (may be NULL), -ETIMEDOUT when it still runs, or the
 * negative errno of waitpid (-ECHILD: not a child of the caller, or
 * already reaped).
 */
int vmapp_launch_wait(pid_t pid, double timeout_s, int *ret_status);

/*
 * Ends the child pid: SIGTERM, up to grace_s seconds for it to exit,
 * then SIGKILL; reaps it either way.  Returns 0 when it ended within the
 * grace (by SIGTERM or on its own), 1 when it had to be killed, or a
 * negative errno (-ECHILD: not a child of the caller).
 */
int vmapp_launch_stop(pid_t pid, double grace_s);

#endif
