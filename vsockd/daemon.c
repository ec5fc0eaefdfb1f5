/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"
#include "sandbox.h"
#include "vhost-user.h"

/* epoll data: the front-end, the kick eventfds, then the connections. */
#define EV_FRONTEND 0
#define EV_KICK_BASE 1
#define EV_CONN_BASE 16

static int listen_on(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct stat st;

	if (strlen(path) >= sizeof(addr.sun_path)) {
		fprintf(stderr, "vmapp-vsockd: %s: path too long for a unix socket\n", path);
		return -ENAMETOOLONG;
	}
	memcpy(addr.sun_path, path, strlen(path) + 1);

	/* A stale socket from an earlier run goes; anything else stays. */
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			fprintf(stderr, "vmapp-vsockd: %s exists and is not a socket\n", path);
			return -EEXIST;
		}
		if (unlink(path) < 0) {
			int r = -errno;
			fprintf(stderr, "vmapp-vsockd: unlink %s: %s\n", path, strerror(errno));
			return r;
		}
	}

	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		int r = -errno;
		fprintf(stderr, "vmapp-vsockd: socket: %s\n", strerror(errno));
		return r;
	}
	/* 0600 from the start: no window in which others could connect. */
	mode_t old_mask = umask(0177);
	int r = bind(fd, (struct sockaddr *)&addr, sizeof(addr));
	int bind_errno = errno;
	umask(old_mask);
	if (r < 0 || listen(fd, 1) < 0) {
		r = r < 0 ? -bind_errno : -errno;
		fprintf(stderr, "vmapp-vsockd: listen on %s: %s\n", path, strerror(-r));
		close(fd);
		return r;
	}
	return fd;
}

static int serve(int epfd, struct vmapp_vhost *vh, struct vmapp_vsock *vs)
{
	bool more = false;

	for (;;) {
		struct epoll_event events[32];
		int n = epoll_wait(epfd, events, 32, more ? 0 : -1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int r = -errno;
			fprintf(stderr, "vmapp-vsockd: epoll_wait: %s\n", strerror(errno));
			return r;
		}
		for (int i = 0; i < n; i++) {
			uint64_t what = events[i].data.u64;
			if (what == EV_FRONTEND) {
				int r = vmapp_vhost_dispatch(vh);
				if (r == 0)
					return 0;
				if (r < 0) {
					if (r != -EBADMSG)
						fprintf(stderr, "vmapp-vsockd: front-end: %s\n",
								strerror(-r));
					return r;
				}
				if (vh->reset) {
					vmapp_vsock_reset(vs);
					vh->reset = false;
				}
			} else if (what < EV_CONN_BASE) {
				int ring = (int)(what - EV_KICK_BASE);
				uint64_t count;
				/* The kick is only a wake-up: the rings say what. */
				if (ring < VMAPP_VHOST_N_RINGS && vh->kick_fds[ring] >= 0 &&
				    read(vh->kick_fds[ring], &count, sizeof(count)) < 0 &&
				    errno != EAGAIN && errno != EINTR) {
					int r = -errno;
					fprintf(stderr, "vmapp-vsockd: kick: %s\n", strerror(errno));
					return r;
				}
			} else {
				vmapp_vsock_handle_conn(vs, (uint32_t)(what - EV_CONN_BASE),
						events[i].events);
			}
		}
		more = vmapp_vsock_process(vs);
	}
}

int vmapp_vsockd_run(const struct vmapp_vsockd_options *options)
{
	int lfd = listen_on(options->socket_path);
	if (lfd < 0)
		return lfd;
	if (options->verbose)
		fprintf(stderr, "vmapp-vsockd: listening on %s\n", options->socket_path);

	int fd;
	do {
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	} while (fd < 0 && errno == EINTR);
	int accept_errno = errno;
	/* One front-end, one VM: nobody else may connect after it. */
	close(lfd);
	unlink(options->socket_path);
	if (fd < 0) {
		fprintf(stderr, "vmapp-vsockd: accept: %s\n", strerror(accept_errno));
		return -accept_errno;
	}
	if (options->verbose)
		fprintf(stderr, "vmapp-vsockd: front-end connected\n");

	int epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0) {
		int r = -errno;
		fprintf(stderr, "vmapp-vsockd: epoll_create1: %s\n", strerror(errno));
		close(fd);
		return r;
	}
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = EV_FRONTEND };
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int r = -errno;
		fprintf(stderr, "vmapp-vsockd: epoll_ctl: %s\n", strerror(errno));
		close(fd);
		close(epfd);
		return r;
	}

	struct vmapp_log log;
	vmapp_log_init(&log, stderr, NULL, NULL);
	int r = -ENOMEM;
	struct vmapp_vhost *vh = vmapp_vhost_create(fd, options->guest_cid, options->verbose,
			&log, epfd, EV_KICK_BASE);
	struct vmapp_vsock *vs = NULL;
	if (vh) {
		struct vmapp_vsock_config config = {
			.guest_cid = options->guest_cid,
			.forwards = options->forwards,
			.n_forwards = options->n_forwards,
			.verbose = options->verbose,
			.log = &log,
			.epoll_fd = epfd,
			.epoll_base = EV_CONN_BASE,
		};
		vs = vmapp_vsock_create(&config, &vh->rings[VMAPP_VHOST_RING_RX],
				&vh->rings[VMAPP_VHOST_RING_TX], &vh->mem);
	}
	if (!vs) {
		fprintf(stderr, "vmapp-vsockd: out of memory\n");
	} else {
		/* Everything that needs more than the loop is done: the
		 * guest's memory is parsed from here on, under the filter. */
		r = vmapp_vsockd_sandbox();
		if (r < 0)
			fprintf(stderr, "vmapp-vsockd: seccomp filter: %s\n", strerror(-r));
		else if (options->verbose)
			fprintf(stderr, "vmapp-vsockd: seccomp filter on\n");
	}
	if (r == 0)
		r = serve(epfd, vh, vs);
	vmapp_log_flush(&log);
	if (r == 0 && options->verbose)
		fprintf(stderr, "vmapp-vsockd: front-end hung up\n");
	vmapp_vsock_destroy(vs);
	vmapp_vhost_destroy(vh);
	close(epfd);
	return r;
}
