/* SPDX-License-Identifier: MIT */
#ifndef VMAPP_UNIX_H
#define VMAPP_UNIX_H

/* Connects a CLOEXEC stream socket to the unix socket at path; the fd, or
 * -errno (-ENAMETOOLONG for a path that does not fit sun_path). */
int vmapp_unix_connect(const char *path);

#endif
