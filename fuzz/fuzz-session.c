/* SPDX-License-Identifier: MIT */
/*
 * Fuzzes a whole proxied session: one vmapp_conn (default policy, fds
 * passed on as in local mode) between a hostile client and a fake
 * compositor, both played by the input.  Everything relay.c does around
 * vmapp_conn_handle is mirrored here except the sockets: fds queue up per
 * direction until a message takes them, output buffers are read by the
 * peer a bit at a time, and a violation cuts the client off.
 *
 * Input: records of
 *   flags:  bit 0 direction (0 request from the client, 1 event from the
 *           compositor); bits 1-2 the number of fds sent with it (0..3);
 *           bits 3-7 what the peer then does with the output (DRAIN_*)
 *   fds:    5 bytes each: a kind (FD_*) and a little-endian u32 size
 *   the message: as many bytes as its header says
 *
 * Checked: every verdict's size and fd count; that the output grows by
 * exactly one well-formed message when a message is forwarded and not at
 * all otherwise; that what goes out keeps the hooks' promises (versions
 * clamped, titles and app_ids labelled and clean, host selections
 * hidden); and at the end of each input that every fd is closed
 * (LeakSanitizer sees the memory).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "buffer.h"
#include "conn.h"
#include "fuzz.h"
#include "policy.h"
#include "vmapp-tables.h"
#include "wire.h"

enum fd_kind {
	FD_MEMFD,      /* a memfd, ftruncate()d to the size */
	FD_PIPE_WRITE, /* the write end of a pipe (the read end is closed) */
	FD_PIPE_READ,  /* the read end of a pipe */
	FD_SOCKET,     /* one end of a socketpair */
};
#define FD_SPEC_SIZE 5

/*
 * What the peer does with the output after each message: reads all of it
 * (the usual case), none, or 16 bytes a step (1..29: a partial sendmsg);
 * or stalls while earlier traffic piles up until the buffer is full but
 * for BACKLOG_ROOM bytes (DRAIN_BACKLOG), so that a short input reaches
 * the buffer's end and makes it move or grow: back-pressure, where the
 * relay spends its time under a slow or hostile reader.
 */
#define DRAIN_ALL 0
#define DRAIN_STEP 16
#define DRAIN_BACKLOG 30
#define DRAIN_NONE 31
#define BACKLOG_ROOM 16
/* relay.c stops reading while an output queue is over the policy's
 * queue-bytes; far less here keeps inputs fast and still makes buffers
 * wrap and move. */
#define QUEUE_MAX 65536

/* fd numbers this high are not tracked: the input stops there. */
#define FD_SEEN_MAX 65536

struct session {
	struct vmapp_conn conn;
	struct vmapp_buf to_compositor, to_client;
	struct vmapp_fdq from_client, from_compositor;
	/* Every fd number the input opened, or the proxy opened for it. */
	uint64_t seen[FD_SEEN_MAX / 64];
	int max_seen;
};

static struct vmapp_policy *policy;
static struct vmapp_conn_config config = {
	.protocols = &vmapp_protocols,
	.label = "fuzz",
	.pass_fds = true,
};

static bool see_fd(struct session *s, int fd)
{
	if (fd < 0 || fd >= FD_SEEN_MAX)
		return false;
	s->seen[fd / 64] |= UINT64_C(1) << (fd % 64);
	if (fd > s->max_seen)
		s->max_seen = fd;
	return true;
}

static void check_all_closed(const struct session *s)
{
	for (int fd = 0; fd <= s->max_seen; fd++) {
		if (!(s->seen[fd / 64] & UINT64_C(1) << (fd % 64)))
			continue;
		if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF) {
			fprintf(stderr, "fd %d leaked\n", fd);
			abort();
		}
	}
}

static int make_fd(uint8_t kind, uint32_t size)
{
	int p[2];

	switch (kind & 3) {
	case FD_MEMFD: {
		int fd = memfd_create("vmapp-fuzz", MFD_CLOEXEC);
		if (fd < 0)
			return -errno;
		/* Sparse: a 4 GiB pool costs nothing until someone writes. */
		if (ftruncate(fd, size) < 0) {
			int r = -errno;
			close(fd);
			return r;
		}
		return fd;
	}
	case FD_PIPE_WRITE:
	case FD_PIPE_READ:
		if (pipe2(p, O_CLOEXEC) < 0)
			return -errno;
		close(p[(kind & 3) == FD_PIPE_WRITE ? 0 : 1]);
		return p[(kind & 3) == FD_PIPE_WRITE ? 1 : 0];
	default:
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p) < 0)
			return -errno;
		close(p[1]);
		return p[0];
	}
}

static void drain(struct vmapp_buf *out, unsigned how)
{
	size_t n = vmapp_buf_size(out);

	if (n >= QUEUE_MAX) {
		vmapp_buf_consume(out, n);
		return;
	}
	switch (how) {
	case DRAIN_ALL:
		vmapp_buf_consume(out, n);
		return;
	case DRAIN_NONE:
		return;
	case DRAIN_BACKLOG: {
		/* Bytes of earlier messages: their content is not looked at. */
		size_t room = out->cap - out->len;
		if (out->cap == 0)
			room = 4096;
		if (room <= BACKLOG_ROOM)
			return;
		uint8_t *p = vmapp_buf_reserve(out, room - BACKLOG_ROOM);
		FUZZ_CHECK(p);
		memset(p, 0xee, room - BACKLOG_ROOM);
		out->len += room - BACKLOG_ROOM;
		return;
	}
	default:
		vmapp_buf_consume(out, n < how * DRAIN_STEP ? n : how * DRAIN_STEP);
		return;
	}
}

static bool is(const struct vmapp_verdict *v, const char *interface, const char *message)
{
	return strcmp(v->interface_name, interface) == 0 && strcmp(v->message_name, message) == 0;
}

/* The string argument at `offset` of a forwarded message, checked to lie
 * inside it and end in its NUL; `strict` for what the client sent (events
 * are only held to the structural rules: the compositor is trusted). */
static const char *forwarded_string(const uint8_t *msg, uint32_t size, uint32_t offset,
				    bool strict)
{
	FUZZ_CHECK((uint64_t)offset + 4 <= size);
	uint32_t len = vmapp_wire_u32(msg + offset);
	FUZZ_CHECK(len > 0 && (uint64_t)offset + 4 + len <= size);
	FUZZ_CHECK(msg[offset + 4 + len - 1] == '\0');
	if (strict)
		FUZZ_CHECK(memchr(msg + offset + 4, '\0', len - 1) == NULL);
	return (const char *)msg + offset + 4;
}

/*
 * The output grew by exactly the one message the verdict was about, with
 * its header intact (hooks may rewrite its arguments, never its target),
 * and what the hooks promise holds for what actually goes out: versions
 * clamped, titles labelled and clean, host selections hidden.
 */
static void check_forwarded(const struct vmapp_buf *out, size_t before,
			    const struct vmapp_verdict *v)
{
	size_t grown = vmapp_buf_size(out) - before;
	const uint8_t *msg = vmapp_buf_head(out) + before;
	uint32_t size = 0;

	FUZZ_CHECK(vmapp_buf_size(out) >= before);
	FUZZ_CHECK(vmapp_wire_peek(msg, grown, &size) == VMAPP_RULE_OK);
	FUZZ_CHECK(size == grown);
	FUZZ_CHECK(vmapp_wire_u32(msg) == v->object_id);

	if (is(v, "wl_registry", "global")) {
		const char *name = forwarded_string(msg, size, 12, false);
		const struct vmapp_interface *iface = vmapp_protocol_find(&vmapp_protocols, name);
		uint32_t version = vmapp_wire_u32(msg + size - 4);
		FUZZ_CHECK(iface);
		FUZZ_CHECK(version >= 1 && version <= iface->version);
		FUZZ_CHECK(version <= vmapp_policy_version_cap(policy, name));
	} else if (is(v, "xdg_toplevel", "set_title")) {
		const char *title = forwarded_string(msg, size, 8, true);
		FUZZ_CHECK(strncmp(title, "[fuzz] ", 7) == 0);
		for (const char *c = title; *c; c++)
			FUZZ_CHECK((unsigned char)*c >= 0x20 && *c != 0x7f);
	} else if (is(v, "xdg_toplevel", "set_app_id")) {
		const char *app_id = forwarded_string(msg, size, 8, true);
		FUZZ_CHECK(strncmp(app_id, "vmapp.fuzz.", 11) == 0);
		FUZZ_CHECK(strspn(app_id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				  "0123456789._-") == strlen(app_id));
	} else if (is(v, "wl_data_device", "selection") ||
		   is(v, "zwp_primary_selection_device_v1", "selection")) {
		if (vmapp_policy_clipboard(policy) != VMAPP_CLIPBOARD_BOTH)
			FUZZ_CHECK(vmapp_wire_u32(msg + 8) == 0);
	}
}

/* Handles one message; false when the session is over. */
static bool handle(struct session *s, enum vmapp_direction direction, const uint8_t *data,
		   size_t len, unsigned drain_how, size_t *ret_used)
{
	struct vmapp_fdq *fds = direction == VMAPP_REQUEST ? &s->from_client
							   : &s->from_compositor;
	struct vmapp_buf *out = direction == VMAPP_REQUEST ? &s->to_compositor
							   : &s->to_client;
	uint32_t size = 0;

	/* The message alone in a buffer of its exact size, so that a read
	 * past it is caught; the relay hands over all it has buffered. */
	enum vmapp_rule peek = vmapp_wire_peek(data, len, &size);
	size_t n = peek == VMAPP_RULE_OK ? size : len;
	uint8_t *copy = malloc(n ? n : 1);
	FUZZ_CHECK(copy);
	memcpy(copy, data, n);

	size_t before = vmapp_buf_size(out);
	struct vmapp_verdict v = vmapp_conn_handle(&s->conn, direction, copy, n,
						   fds->fds, fds->n, out);
	free(copy);

	FUZZ_CHECK((unsigned)v.rule < VMAPP_RULE_COUNT);
	FUZZ_CHECK(v.interface_name && v.message_name);
	if (fuzz_trace())
		fprintf(stderr, "%s %s.%s@%u: %s%s (%u fds of %zu)\n",
			direction == VMAPP_REQUEST ? "request" : "event",
			v.interface_name, v.message_name, v.object_id, vmapp_rule_name(v.rule),
			v.rule == VMAPP_RULE_OK && !v.forward ? ", dropped" : "",
			v.n_fds, fds->n);
	for (uint32_t i = 0; i < s->conn.n_pools; i++)
		if (!see_fd(s, s->conn.pools[i].fd))
			return false;

	if (v.rule != VMAPP_RULE_OK) {
		FUZZ_CHECK(vmapp_buf_size(out) == before);
		if (peek != VMAPP_RULE_OK && peek != VMAPP_RULE_HEADER_TRUNCATED &&
		    peek != VMAPP_RULE_MESSAGE_TRUNCATED)
			FUZZ_CHECK(v.rule == (direction == VMAPP_REQUEST ? peek
									: VMAPP_RULE_SERVER_PROTOCOL));
		if (direction == VMAPP_EVENT)
			FUZZ_CHECK(v.rule == VMAPP_RULE_SERVER_PROTOCOL ||
				   v.rule == VMAPP_RULE_NO_MEMORY ||
				   v.rule == VMAPP_RULE_HEADER_TRUNCATED ||
				   v.rule == VMAPP_RULE_MESSAGE_TRUNCATED);
		if (v.rule == VMAPP_RULE_HEADER_TRUNCATED || v.rule == VMAPP_RULE_MESSAGE_TRUNCATED) {
			/* The input ended mid-message: the relay would wait. */
			FUZZ_CHECK(peek == v.rule);
			return false;
		}
		/* A violation: the relay tells the client why and cuts it off. */
		if (v.rule != VMAPP_RULE_SERVER_PROTOCOL) {
			s->to_client.start = s->to_client.len = 0;
			FUZZ_CHECK(vmapp_conn_write_error(&s->to_client,
							  v.object_id ? v.object_id : 1, 1,
							  vmapp_rule_name(v.rule)) == 0);
			FUZZ_CHECK(vmapp_buf_size(&s->to_client) >= 20);
		}
		return false;
	}

	FUZZ_CHECK(peek == VMAPP_RULE_OK);
	FUZZ_CHECK(v.size == size);
	FUZZ_CHECK(v.n_fds <= fds->n);
	if (v.forward)
		check_forwarded(out, before, &v);
	else
		FUZZ_CHECK(vmapp_buf_size(out) == before);
	/* Forwarded fds go out with sendmsg and are closed; the others are
	 * dropped.  Either way this side is done with them. */
	vmapp_fdq_drop(fds, v.n_fds);
	drain(out, drain_how);
	*ret_used = v.size;
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct session s;

	if (!policy) {
		policy = vmapp_policy_create_default();
		FUZZ_CHECK(policy);
		config.policy = policy;
	}
	const struct vmapp_limits *limits = vmapp_policy_limits(policy);

	memset(&s, 0, sizeof(s));
	s.max_seen = -1;
	FUZZ_CHECK(vmapp_conn_init(&s.conn, &config) == 0);

	size_t off = 0;
	while (off < size) {
		uint8_t flags = data[off++];
		enum vmapp_direction direction = flags & 1 ? VMAPP_EVENT : VMAPP_REQUEST;
		unsigned n_fds = (flags >> 1) & 3;
		struct vmapp_fdq *fds = direction == VMAPP_REQUEST ? &s.from_client
								   : &s.from_compositor;
		bool stop = false;

		for (unsigned i = 0; i < n_fds && !stop; i++) {
			if (size - off < FD_SPEC_SIZE) {
				stop = true;
				break;
			}
			int fd = make_fd(data[off], fuzz_u32(data + off + 1));
			off += FD_SPEC_SIZE;
			if (fd < 0)
				continue; /* e.g. EMFILE: as if it never came */
			if (!see_fd(&s, fd) || vmapp_fdq_push(fds, fd) < 0) {
				close(fd);
				stop = true;
			}
		}
		/* relay.c: more fds in flight than the policy allows cuts the
		 * client off. */
		if (stop || fds->n > limits->fds_in_flight)
			break;

		size_t used = 0;
		if (!handle(&s, direction, data + off, size - off, flags >> 3, &used))
			break;
		off += used;
	}

	vmapp_fdq_finish(&s.from_client);
	vmapp_fdq_finish(&s.from_compositor);
	vmapp_conn_finish(&s.conn);
	vmapp_buf_finish(&s.to_compositor);
	vmapp_buf_finish(&s.to_client);
	/* fds are not memory: LeakSanitizer can not see them. */
	check_all_closed(&s);
	return 0;
}
