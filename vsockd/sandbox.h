/* SPDX-License-Identifier: MIT */
/*
 * The seccomp filter vmapp-vsockd serves the guest under.  The guest
 * writes the memory this process parses; should a bug let it take the
 * process over, what it gets is the system calls of the event loop and
 * nothing else: no files opened, no programs run, no sockets but unix
 * ones, no executable memory.
 */
#ifndef VMAPP_VSOCKD_SANDBOX_H
#define VMAPP_VSOCKD_SANDBOX_H

/*
 * Sets PR_SET_NO_NEW_PRIVS and installs the filter on the calling thread
 * (the process has one).  Call once, after the setup that needs more
 * (the socket bound and the front-end accepted); any system call outside
 * the list afterwards kills the process.  0 or -errno.
 */
int vmapp_vsockd_sandbox(void);

#endif
