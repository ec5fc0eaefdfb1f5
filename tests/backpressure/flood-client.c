/* SPDX-License-Identifier: MIT */
/*
 * A raw Wayland client (no libwayland) for the back-pressure test.
 *
 *   flood-client flood SECONDS    bind wl_compositor, make a surface, then
 *                                 write wl_surface.set_buffer_scale as fast as
 *                                 the socket takes it; reads its events
 *   flood-client noread SECONDS   ask for registries (each answered by every
 *                                 global) and never read an event
 *   flood-client ping N           N wl_display.sync round trips; prints
 *                                 "median_us P90_us"
 *
 * Exit 0 when it ran its course (or was cut off, for flood and noread),
 * 2 on setup failure.
 */
#include <errno.h>
#include <stdbool.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static int fd;

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "flood-client: %s: %s\n", what, strerror(errno));
	exit(2);
}

static void connect_display(void)
{
	const char *display = getenv("WAYLAND_DISPLAY");
	const char *runtime = getenv("XDG_RUNTIME_DIR");
	struct sockaddr_un addr = { .sun_family = AF_UNIX };

	if (!display)
		display = "wayland-0";
	if (display[0] == '/')
		snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", display);
	else
		snprintf(addr.sun_path, sizeof(addr.sun_path), "%s/%s", runtime ? runtime : "",
			 display);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		die("connect");
}

/* Writes all of it, blocking. */
static int send_all(const void *data, size_t len)
{
	const uint8_t *p = data;
	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static uint8_t inbuf[1 << 16];
static size_t inlen;

/* Reads one whole event into ev (blocking); its size, or 0 at EOF. */
static size_t read_event(uint32_t *ev)
{
	for (;;) {
		if (inlen >= 8) {
			uint32_t size = (inbuf[6] | inbuf[7] << 8);
			if (size < 8 || size > 4096) {
				fprintf(stderr, "flood-client: bad event size %u\n", size);
				exit(2);
			}
			if (inlen >= size) {
				memcpy(ev, inbuf, size);
				memmove(inbuf, inbuf + size, inlen - size);
				inlen -= size;
				return size;
			}
		}
		ssize_t n = recv(fd, inbuf + inlen, sizeof(inbuf) - inlen, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return 0;
		inlen += (size_t)n;
	}
}

static void sync_request(uint32_t id)
{
	uint32_t m[3] = { 1, 12 << 16 | 0, id };
	if (send_all(m, sizeof(m)) < 0)
		die("send");
}

/* Waits for wl_callback.done on id and for wl_display.delete_id of it. */
static void wait_sync(uint32_t id, uint32_t *ret_compositor_name)
{
	uint32_t ev[1024];
	bool done = false, deleted = false;
	while (!(done && deleted)) {
		if (read_event(ev) == 0) {
			fprintf(stderr, "flood-client: disconnected\n");
			exit(2);
		}
		uint16_t opcode = ev[1] & 0xffff;
		if (ev[0] == id && opcode == 0)
			done = true;
		else if (ev[0] == 1 && opcode == 1 && ev[2] == id)
			deleted = true;
		else if (ev[0] == 2 && opcode == 0 && ret_compositor_name &&
			 strcmp((char *)&ev[4], "wl_compositor") == 0)
			*ret_compositor_name = ev[2];
	}
}

static int ping(int n)
{
	double *t = calloc((size_t)n, sizeof(double));
	for (int i = 0; i < n; i++) {
		double start = now();
		sync_request(2);
		wait_sync(2, NULL);
		t[i] = (now() - start) * 1e6;
	}
	for (int i = 1; i < n; i++)
		for (int k = i; k > 0 && t[k] < t[k - 1]; k--) {
			double x = t[k];
			t[k] = t[k - 1];
			t[k - 1] = x;
		}
	printf("%.0f %.0f\n", t[n / 2], t[n * 9 / 10]);
	free(t);
	return 0;
}

static int flood(double seconds)
{
	uint32_t name = 0;
	uint32_t get_registry[3] = { 1, 12 << 16 | 1, 2 };
	if (send_all(get_registry, sizeof(get_registry)) < 0)
		die("send");
	sync_request(3);
	wait_sync(3, &name);
	if (!name) {
		fprintf(stderr, "flood-client: no wl_compositor\n");
		return 2;
	}
	/* bind(name, "wl_compositor", 4, id 3); create_surface(id 4) */
	uint32_t bind[] = { 2, 40 << 16 | 0, name, 14, 0, 0, 0, 0, 4, 3 };
	memcpy(&bind[4], "wl_compositor", 14);
	uint32_t create[] = { 3, 12 << 16 | 0, 4 };
	if (send_all(bind, sizeof(bind)) < 0 || send_all(create, sizeof(create)) < 0)
		die("send");

	/* wl_surface.set_buffer_scale(1), a thousand to a write */
	static uint32_t burst[1000][3];
	for (int i = 0; i < 1000; i++) {
		burst[i][0] = 4;
		burst[i][1] = 12 << 16 | 8;
		burst[i][2] = 1;
	}
	double end = now() + seconds;
	size_t off = 0;
	unsigned long long sent = 0;
	while (now() < end) {
		struct pollfd p = { .fd = fd, .events = POLLOUT | POLLIN };
		if (poll(&p, 1, 100) < 0)
			continue;
		if (p.revents & POLLIN) {
			ssize_t n = recv(fd, inbuf, sizeof(inbuf), MSG_DONTWAIT);
			if (n == 0)
				break;
		}
		if (p.revents & (POLLHUP | POLLERR))
			break;
		if (p.revents & POLLOUT) {
			ssize_t n = send(fd, (uint8_t *)burst + off, sizeof(burst) - off,
					 MSG_DONTWAIT | MSG_NOSIGNAL);
			if (n < 0 && errno != EAGAIN)
				break;
			if (n > 0) {
				off = (off + (size_t)n) % sizeof(burst);
				sent += (size_t)n;
			}
		}
	}
	printf("%llu\n", sent / 12);
	return 0;
}

static int noread(double seconds)
{
	double end = now() + seconds;
	unsigned long long sent = 0;
	uint32_t id = 2;
	while (now() < end && id < 9000) {
		uint32_t m[3] = { 1, 12 << 16 | 1, id };
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		if (poll(&p, 1, 100) <= 0)
			continue;
		if (p.revents & (POLLHUP | POLLERR))
			break;
		ssize_t n = send(fd, m, sizeof(m), MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && errno != EAGAIN)
			break;
		if (n == (ssize_t)sizeof(m)) {
			id++;
			sent++;
		} else if (n > 0) {
			fprintf(stderr, "flood-client: short write\n");
			return 2;
		}
	}
	/* Stay connected, reading nothing, until the end. */
	while (now() < end)
		usleep(100000);
	printf("%llu\n", sent);
	return 0;
}

int main(int argc, char *argv[])
{
	if (argc != 3) {
		fprintf(stderr, "usage: flood-client flood|noread SECONDS | ping N\n");
		return 2;
	}
	connect_display();
	if (strcmp(argv[1], "ping") == 0)
		return ping(atoi(argv[2]));
	if (strcmp(argv[1], "flood") == 0)
		return flood(atof(argv[2]));
	if (strcmp(argv[1], "noread") == 0)
		return noread(atof(argv[2]));
	fprintf(stderr, "flood-client: unknown mode %s\n", argv[1]);
	return 2;
}
