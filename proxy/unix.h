/* SPDX-License-Identifier: MIT */
#ifndef VMAPP_UNIX_H
#define VMAPP_UNIX_H

/* Connects a CLOEXEC stream socket to the unix socket at path; the fd, or
 * -errno (-ENAMETOOLONG for a path that does not fit sun_path). */
int vmapp_unix_connect(const char *path);

#include <stddef.h>

/* Listens on a non-blocking CLOEXEC unix socket at path, replacing a stale
 * socket nobody listens on; the fd, or -errno. */
int vmapp_unix_listen(const char *path);

/* Where the compositor is, as libwayland finds it: WAYLAND_DISPLAY, an
 * absolute path or a name under XDG_RUNTIME_DIR, "wayland-0" by default.
 * -ENOENT when a name needs XDG_RUNTIME_DIR and it is not set. */
int vmapp_compositor_path(char *buf, size_t size);

/* vmapp_compositor_path, and a connection tried once, so that a proxy
 * fails at start with the reason rather than on every client later.  Says
 * what went wrong on stderr; 0 or -errno. */
int vmapp_compositor_find(char *buf, size_t size);

#endif
