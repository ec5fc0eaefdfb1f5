/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bridge-impl.h"
#include "peer-log.h"
#include "track.h"
#include "vmapp-tables.h"

void vmapp_bridge_log(const struct vmapp_bridge *b, const char *fmt, ...)
{
	char text[1024], line[1200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	snprintf(line, sizeof(line), "%s: %s", b->config.name, text);
	vmapp_peer_log(line);
}

static const char *kind_name(uint32_t kind)
{
	const char *name = vmapp_transport_kind_name(kind);
	return name ? name : "?";
}

int vmapp_bridge_epoll_set(struct vmapp_bridge *b, int op, int fd, uint32_t events, void *ptr)
{
	struct epoll_event ev = { .events = events, .data.ptr = ptr };
	return epoll_ctl(b->epoll_fd, op, fd, &ev) < 0 ? -errno : 0;
}

/* ---- the stream ---- */

static void stream_fail(struct vmapp_bridge *b, enum vmapp_transport_rule rule)
{
	if (!b->closed) {
		vmapp_bridge_log(b, "connection lost: %s", vmapp_transport_rule_name(rule));
		vmapp_transport_send_error(&b->state, &b->out, vmapp_transport_rule_reason(rule),
					   vmapp_transport_rule_name(rule));
	}
	b->closed = true;
	b->error = true;
}

/* A socket is written with MSG_NOSIGNAL (a peer that went away must not
 * kill us with SIGPIPE); a serial port, which is no socket, with write(). */
static ssize_t stream_write(struct vmapp_bridge *b, const void *data, size_t len)
{
	if (!b->stream_not_socket) {
		ssize_t n = send(b->stream_fd, data, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n >= 0 || errno != ENOTSOCK)
			return n;
		b->stream_not_socket = true;
	}
	return write(b->stream_fd, data, len);
}

static void stream_flush(struct vmapp_bridge *b)
{
	while (vmapp_buf_size(&b->out) > 0) {
		ssize_t n = stream_write(b, vmapp_buf_head(&b->out), vmapp_buf_size(&b->out));
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			if (!b->closed)
				vmapp_bridge_log(b, "stream: %s", strerror(errno));
			b->closed = true;
			b->out.start = b->out.len = 0;
			return;
		}
		vmapp_buf_consume(&b->out, (size_t)n);
	}
}

/* ---- channels ---- */

void vmapp_bridge_credit(struct vmapp_bridge_channel *ch, uint32_t bytes)
{
	if (bytes == 0)
		return;
	vmapp_transport_consume(&ch->bridge->state, ch->id, bytes);
	ch->credit_due = true;
}

static void channel_free_local(struct vmapp_bridge_channel *ch)
{
	struct vmapp_bridge *b = ch->bridge;

	if (!ch->active)
		return;
	ch->active = false;
	b->n_open--;
	vmapp_side_finish(&ch->wl);
	while (ch->pipes)
		vmapp_bridge_pipe_free(ch, ch->pipes);
	for (size_t i = ch->head_op; i < ch->n_ops; i++)
		free(ch->ops[i].content);
	free(ch->ops);
	vmapp_buf_finish(&ch->segment_bytes);
	if (ch->shm)
		b->config.guest->destroy(ch->shm);
	vmapp_objmap_finish(&ch->objects);
	for (uint32_t i = 0; i < ch->n_contents; i++)
		vmapp_buf_finish(&ch->contents[i].data);
	free(ch->contents);
	for (uint32_t i = 0; i < ch->n_pools; i++)
		vmapp_mirror_pool_finish(&ch->pools[i].pool);
	b->fds_held -= ch->n_pools;
	free(ch->pools);
	b->channels[ch->id] = NULL;
	ch->pipes = (struct pipe *)b->dead_channels; /* reused as the link */
	b->dead_channels = ch;
}

static void free_dead(struct vmapp_bridge *b)
{
	while (b->dead_pipes) {
		struct pipe *p = b->dead_pipes;
		b->dead_pipes = p->next;
		free(p);
	}
	while (b->dead_channels) {
		struct vmapp_bridge_channel *ch = b->dead_channels;
		b->dead_channels = (struct vmapp_bridge_channel *)ch->pipes;
		free(ch);
	}
}

/* This side ends the channel: its client went away or broke a rule. */
static void channel_close(struct vmapp_bridge_channel *ch, uint32_t reason, const char *why)
{
	struct vmapp_bridge *b = ch->bridge;
	uint32_t id = ch->id;

	if (why && (b->config.verbose || reason != VMAPP_TRANSPORT_REASON_NORMAL))
		vmapp_bridge_log(b, "channel %u: %s", id, why);
	channel_free_local(ch);
	vmapp_transport_send_close(&b->state, &b->out, id, reason);
}

/* The channel's Wayland side went away.  The guest's client leaving is an
 * orderly CLOSE; on the host, the relay ends a channel only when the
 * client broke a rule (a wl_display.error went first) or lost the
 * compositor. */
static void channel_gone(struct vmapp_bridge_channel *ch)
{
	if (vmapp_bridge_is_guest(ch->bridge))
		channel_close(ch, VMAPP_TRANSPORT_REASON_NORMAL, "client gone");
	else if (ch->saw_error)
		channel_close(ch, VMAPP_TRANSPORT_REASON_WAYLAND,
			      "the client was cut off (wl_display.error)");
	else
		channel_close(ch, VMAPP_TRANSPORT_REASON_INTERNAL,
			      "the compositor connection ended");
}

static struct vmapp_bridge_channel *channel_new(struct vmapp_bridge *b, uint32_t id, int wl_fd)
{
	struct vmapp_bridge_channel *ch = calloc(1, sizeof(*ch));
	if (!ch) {
		close(wl_fd);
		return NULL;
	}
	ch->bridge = b;
	ch->id = id;
	ch->next_ref = vmapp_bridge_is_guest(b) ? 1u << 30 : VMAPP_TRANSPORT_HOST_REF_FIRST;
	fcntl(wl_fd, F_SETFL, fcntl(wl_fd, F_GETFL) | O_NONBLOCK);
	vmapp_side_init(&ch->wl, wl_fd, SOURCE_WAYLAND, ch);
	if (vmapp_bridge_is_guest(b)) {
		vmapp_bridge_catch_sigbus();
		vmapp_objmap_init(&ch->objects, 1u << 20);
		if (vmapp_objmap_insert(&ch->objects, 1, &vmapp_iface_wl_display, 1) < 0)
			goto fail;
		if (b->config.guest && !(ch->shm = b->config.guest->create()))
			goto fail;
	}
	if (vmapp_bridge_epoll_set(b, EPOLL_CTL_ADD, wl_fd, EPOLLIN, &ch->wl.source) < 0)
		goto fail;
	ch->wl.events = EPOLLIN;
	ch->active = true;
	b->channels[id] = ch;
	b->n_open++;
	return ch;
fail:
	vmapp_side_finish(&ch->wl);
	if (ch->shm)
		b->config.guest->destroy(ch->shm);
	vmapp_objmap_finish(&ch->objects);
	free(ch);
	return NULL;
}

struct op *vmapp_bridge_op_push(struct vmapp_bridge_channel *ch, enum op_kind kind)
{
	if (ch->head_op > 0 && ch->head_op == ch->n_ops)
		ch->head_op = ch->n_ops = 0;
	if (ch->n_ops == ch->cap_ops) {
		if (ch->head_op > 0) {
			memmove(ch->ops, ch->ops + ch->head_op,
				(ch->n_ops - ch->head_op) * sizeof(*ch->ops));
			ch->n_ops -= ch->head_op;
			ch->head_op = 0;
		}
		if (ch->n_ops == ch->cap_ops) {
			size_t cap = ch->cap_ops ? ch->cap_ops * 2 : 16;
			struct op *ops = realloc(ch->ops, cap * sizeof(*ops));
			if (!ops)
				return NULL;
			ch->ops = ops;
			ch->cap_ops = cap;
		}
	}
	struct op *op = &ch->ops[ch->n_ops++];
	memset(op, 0, sizeof(*op));
	op->kind = kind;
	return op;
}

/* Ends the segment being gathered: it becomes a WAYLAND op. */
static int segment_end(struct vmapp_bridge_channel *ch)
{
	if (ch->seg_len == 0)
		return 0;
	struct op *op = vmapp_bridge_op_push(ch, OP_WAYLAND);
	if (!op)
		return -ENOMEM;
	op->size = ch->seg_len;
	op->n_refs = ch->seg_n_refs;
	memcpy(op->refs, ch->seg_refs, ch->seg_n_refs * sizeof(uint32_t));
	ch->seg_len = 0;
	ch->seg_n_refs = 0;
	return 0;
}

/* Appends one whole message and its refs to the segment. */
static int segment_add(struct vmapp_bridge_channel *ch, const uint8_t *msg, uint32_t size,
		       const uint32_t *refs, uint32_t n_refs)
{
	if (ch->seg_len + size > SEGMENT_MAX ||
	    ch->seg_n_refs + n_refs > VMAPP_TRANSPORT_MAX_FDS) {
		int r = segment_end(ch);
		if (r < 0)
			return r;
	}
	if (vmapp_buf_append(&ch->segment_bytes, msg, size) < 0)
		return -ENOMEM;
	ch->seg_len += size;
	memcpy(ch->seg_refs + ch->seg_n_refs, refs, n_refs * sizeof(uint32_t));
	ch->seg_n_refs += n_refs;
	return 0;
}

int vmapp_bridge_queue_shm(struct vmapp_bridge_channel *ch, enum vmapp_bridge_shm_kind kind,
			   uint32_t ref, uint64_t offset, uint64_t size)
{
	static const enum op_kind kinds[] = {
		[VMAPP_BRIDGE_SHM_CREATE] = OP_SHM_CREATE,
		[VMAPP_BRIDGE_SHM_RESIZE] = OP_SHM_RESIZE,
		[VMAPP_BRIDGE_SHM_UPDATE] = OP_SHM_UPDATE,
		[VMAPP_BRIDGE_SHM_DESTROY] = OP_SHM_DESTROY,
	};
	if ((unsigned)kind > VMAPP_BRIDGE_SHM_DESTROY)
		return -EINVAL;
	if (kind == VMAPP_BRIDGE_SHM_UPDATE && size == 0)
		return 0;
	int r = segment_end(ch);
	if (r < 0)
		return r;
	struct op *op = vmapp_bridge_op_push(ch, kinds[kind]);
	if (!op)
		return -ENOMEM;
	op->ref = ref;
	op->offset = offset;
	op->size = size;
	return 0;
}

static size_t queued_bytes(const struct vmapp_bridge_channel *ch)
{
	return vmapp_buf_size(&ch->segment_bytes);
}

/* Host: whole events from the relay, with the fds that came before or
 * with them. */
static int host_take_messages(struct vmapp_bridge_channel *ch)
{
	struct vmapp_side *s = &ch->wl;
	while (vmapp_buf_size(&s->in) >= 8) {
		uint32_t size;
		enum vmapp_rule rule = vmapp_wire_peek(vmapp_buf_head(&s->in),
						       vmapp_buf_size(&s->in), &size);
		if (rule == VMAPP_RULE_MESSAGE_TRUNCATED)
			break;
		if (rule != VMAPP_RULE_OK)
			return -EPROTO;
		/* wl_display.error: the validator or the compositor cut the
		 * client off; the CLOSE that follows says so. */
		if (vmapp_wire_u32(vmapp_buf_head(&s->in)) == 1 &&
		    (vmapp_wire_u32(vmapp_buf_head(&s->in) + 4) & 0xffff) ==
			    VMAPP_EVT_WL_DISPLAY_ERROR)
			ch->saw_error = true;
		uint32_t refs[VMAPP_TRANSPORT_MAX_FDS];
		uint32_t n_refs = 0;
		if (s->in_fds.n > 0) {
			int r = segment_end(ch);
			if (r < 0)
				return r;
		}
		while (s->in_fds.n > 0 && n_refs < VMAPP_TRANSPORT_MAX_FDS) {
			int fd = s->in_fds.fds[0];
			struct stat st;
			int r = fstat(fd, &st) < 0 ? -errno
				: S_ISREG(st.st_mode) ? vmapp_bridge_ref_from_file(ch, fd, &refs[n_refs])
				: S_ISFIFO(st.st_mode) ? vmapp_bridge_ref_from_pipe(ch, fd, &refs[n_refs])
				: -EBADF;
			vmapp_fdq_drop(&s->in_fds, 1);
			if (r < 0)
				return r;
			n_refs++;
		}
		int r = segment_add(ch, vmapp_buf_head(&s->in), size, refs, n_refs);
		if (r < 0)
			return r;
		vmapp_buf_consume(&s->in, size);
		if (queued_bytes(ch) + ch->seg_len >= QUEUE_BYTES_MAX)
			break;
	}
	return 0;
}

/* Guest: one request at a time, decoded and tracked, its fds made refs. */
static int guest_take_messages(struct vmapp_bridge_channel *ch)
{
	struct vmapp_bridge *b = ch->bridge;
	struct vmapp_side *s = &ch->wl;
	while (vmapp_buf_size(&s->in) >= 8) {
		struct vmapp_message_view view;
		enum vmapp_rule rule = vmapp_wire_decode(&vmapp_protocols, &ch->objects,
							 VMAPP_REQUEST, vmapp_buf_head(&s->in),
							 vmapp_buf_size(&s->in), s->in_fds.n, &view);
		if (rule == VMAPP_RULE_HEADER_TRUNCATED || rule == VMAPP_RULE_MESSAGE_TRUNCATED)
			break;
		if (rule != VMAPP_RULE_OK) {
			vmapp_bridge_log(b, "channel %u: %s.%s@%u: %s", ch->id,
				   view.interface ? view.interface->name : "?",
				   view.message ? view.message->name : "?", view.object_id,
				   vmapp_rule_name(rule));
			return -EPROTO;
		}
		uint32_t refs[VMAPP_TRANSPORT_MAX_FDS] = { 0 };
		if (ch->shm) {
			int r = b->config.guest->request(ch->shm, ch, &view, s->in_fds.fds, refs);
			if (r < 0)
				return r;
		}
		for (uint32_t i = 0; i < view.n_fds; i++) {
			if (refs[i])
				continue;
			int r = segment_end(ch);
			if (r == 0)
				r = vmapp_bridge_ref_from_pipe(ch, s->in_fds.fds[i], &refs[i]);
			if (r < 0) {
				vmapp_bridge_log(b, "channel %u: %s.%s: an fd that can not cross (%s)",
					   ch->id, view.interface->name, view.message->name,
					   strerror(-r));
				return r;
			}
		}
		if (vmapp_track_message(&ch->objects, &vmapp_protocols, VMAPP_REQUEST, &view, 0) !=
		    VMAPP_RULE_OK)
			return -EPROTO;
		int r = segment_add(ch, vmapp_buf_head(&s->in), view.size, refs, view.n_fds);
		if (r < 0)
			return r;
		vmapp_fdq_drop(&s->in_fds, view.n_fds);
		vmapp_buf_consume(&s->in, view.size);
		if (queued_bytes(ch) + ch->seg_len >= QUEUE_BYTES_MAX)
			break;
	}
	if (vmapp_buf_size(&s->in) == 0 && s->in_fds.n > VMAPP_SIDE_FDS_PER_SENDMSG)
		return -EMFILE;
	return 0;
}

bool vmapp_bridge_stream_full(const struct vmapp_bridge *b)
{
	return vmapp_buf_size(&b->out) >= STREAM_OUT_MAX;
}

/* Sends queued ops as far as credit and the stream allow.  -errno costs
 * the channel. */
static int channel_drain(struct vmapp_bridge_channel *ch)
{
	struct vmapp_bridge *b = ch->bridge;
	struct vmapp_transport_state *st = &b->state;

	while (!vmapp_bridge_stream_full(b)) {
		/* The messages gathered since the last op go last. */
		if (ch->head_op == ch->n_ops) {
			if (ch->seg_len == 0)
				break;
			if (segment_end(ch) < 0)
				return -ENOMEM;
		}
		struct op *op = &ch->ops[ch->head_op];
		uint32_t room = vmapp_transport_send_room(st, ch->id);
		int r = 0;
		switch (op->kind) {
		case OP_WAYLAND: {
			uint32_t need = 4 + 4 * op->n_refs + (uint32_t)op->size;
			if (room < need)
				return 0;
			r = vmapp_transport_send_wayland(st, &b->out, ch->id, op->refs, op->n_refs,
							 vmapp_buf_head(&ch->segment_bytes),
							 (uint32_t)op->size);
			if (r < 0)
				return r;
			vmapp_buf_consume(&ch->segment_bytes, op->size);
			for (uint32_t i = 0; i < op->n_refs; i++) {
				struct pipe *p = vmapp_bridge_pipe_find(ch, op->refs[i]);
				if (p && p->we_read) {
					p->armed = true;
					vmapp_bridge_pipe_update(b, p);
				}
			}
			break;
		}
		case OP_SHM_CREATE:
			r = vmapp_transport_send_shm_create(st, &b->out, ch->id, op->ref, op->size);
			break;
		case OP_SHM_RESIZE:
			r = vmapp_transport_send_shm_resize(st, &b->out, ch->id, op->ref, op->size);
			break;
		case OP_SHM_DESTROY:
			r = vmapp_transport_send_shm_destroy(st, &b->out, ch->id, op->ref);
			if (r == 0 && ch->shm)
				b->config.guest->release(ch->shm, op->ref);
			break;
		case OP_PIPE_OPEN:
			r = vmapp_transport_send_pipe_open(st, &b->out, ch->id, op->ref,
							   op->direction);
			break;
		case OP_SHM_UPDATE: {
			if (room <= SHM_UPDATE_FIXED)
				return 0;
			uint64_t chunk = room - SHM_UPDATE_FIXED;
			if (chunk > op->size)
				chunk = op->size;
			r = vmapp_bridge_send_update(b, ch, op, (uint32_t)chunk);
			if (r < 0)
				return r;
			op->offset += chunk;
			op->size -= chunk;
			if (op->size > 0)
				continue;
			break;
		}
		case OP_CONTENT: {
			if (room <= FD_CONTENT_FIXED)
				return 0;
			uint64_t chunk = op->content_len - op->content_sent;
			if (chunk > room - FD_CONTENT_FIXED)
				chunk = room - FD_CONTENT_FIXED;
			r = vmapp_transport_send_fd_content(st, &b->out, ch->id, op->ref,
							    op->content_len, op->content_sent,
							    op->content + op->content_sent,
							    (uint32_t)chunk);
			if (r < 0)
				return r;
			op->content_sent += chunk;
			if (op->content_sent < op->content_len)
				continue;
			free(op->content);
			op->content = NULL;
			break;
		}
		}
		if (r == -EAGAIN)
			return 0;
		if (r < 0)
			return r;
		ch->head_op++;
	}
	return 0;
}

/* ---- frames from the peer ---- */

/* Guest: the events of a WAYLAND frame are tracked, so that the requests
 * that follow decode. */
static int guest_track_events(struct vmapp_bridge_channel *ch, const uint8_t *data, uint32_t size,
			      uint32_t n_fds)
{
	uint32_t at = 0;
	while (at < size) {
		struct vmapp_message_view view;
		enum vmapp_rule rule = vmapp_wire_decode(&vmapp_protocols, &ch->objects,
							 VMAPP_EVENT, data + at, size - at,
							 n_fds, &view);
		if (rule != VMAPP_RULE_OK)
			return -EPROTO;
		if (view.interface == &vmapp_iface_wl_display &&
		    view.opcode == VMAPP_EVT_WL_DISPLAY_DELETE_ID)
			vmapp_track_delete_id(&ch->objects, view.args[0].u);
		else if (vmapp_track_message(&ch->objects, &vmapp_protocols, VMAPP_EVENT, &view,
					     0) != VMAPP_RULE_OK)
			return -EPROTO;
		n_fds -= view.n_fds;
		at += view.size;
	}
	return 0;
}

static int deliver_wayland(struct vmapp_bridge_channel *ch, const struct vmapp_transport_frame *f)
{
	uint64_t at = vmapp_side_out_end(&ch->wl);
	if (vmapp_bridge_is_guest(ch->bridge) &&
	    guest_track_events(ch, f->wayland.data, f->wayland.size, f->wayland.n_fds) < 0)
		return -EPROTO;
	for (uint32_t i = 0; i < f->wayland.n_fds; i++) {
		int fd = vmapp_bridge_fd_for_ref(ch, vmapp_transport_frame_fd_ref(f, i));
		if (fd < 0)
			return fd;
		if (vmapp_side_push_fd(&ch->wl, fd, at) < 0)
			return -EMFILE;
	}
	if (vmapp_buf_append(&ch->wl.out, f->wayland.data, f->wayland.size) < 0)
		return -ENOMEM;
	ch->unconsumed += f->length;
	return 0;
}

static void deliver(struct vmapp_bridge *b, const struct vmapp_transport_frame *f)
{
	if (f->channel == 0) {
		if (f->kind != VMAPP_TRANSPORT_HELLO && f->kind != VMAPP_TRANSPORT_ERROR &&
		    b->config.control)
			b->config.control(b->config.data, b, f);
		if (f->kind == VMAPP_TRANSPORT_ERROR) {
			vmapp_bridge_log(b, "the peer ended the connection: %.*s (code %u)",
				   (int)f->error.text_len, f->error.text, f->error.code);
			b->closed = true;
			b->error = true;
		}
		return;
	}

	struct vmapp_bridge_channel *ch = f->channel <= b->n_channels ? b->channels[f->channel]
								      : NULL;
	if (f->kind == VMAPP_TRANSPORT_OPEN) {
		if (ch)
			channel_free_local(ch);
		int fd = b->config.open_channel ? b->config.open_channel(b->config.data, f->channel)
						: -ENOTSUP;
		if (fd < 0 || !channel_new(b, f->channel, fd)) {
			vmapp_bridge_log(b, "channel %u: refused: %s", f->channel,
				   fd < 0 ? strerror(-fd) : "out of memory");
			vmapp_transport_send_close(&b->state, &b->out, f->channel,
						   VMAPP_TRANSPORT_REASON_INTERNAL);
		} else if (b->config.verbose) {
			vmapp_bridge_log(b, "channel %u: open", f->channel);
		}
		return;
	}
	if (f->kind == VMAPP_TRANSPORT_CLOSE) {
		if (ch) {
			if (b->config.verbose || f->close.reason != VMAPP_TRANSPORT_REASON_NORMAL)
				vmapp_bridge_log(b, "channel %u: closed by the peer (reason %u)",
					   f->channel, f->close.reason);
			channel_free_local(ch);
		}
		vmapp_transport_send_close(&b->state, &b->out, f->channel,
					   VMAPP_TRANSPORT_REASON_NORMAL);
		return;
	}
	if (f->kind == VMAPP_TRANSPORT_CREDIT)
		return; /* channel_drain will use it */
	if (!ch) {
		/* Open in the codec, gone here (a client that just left):
		 * give its credit back and wait for the CLOSE handshake. */
		if (vmapp_transport_kind_is_data(f->kind)) {
			vmapp_transport_consume(&b->state, f->channel, f->length);
			vmapp_transport_send_credit(&b->state, &b->out, f->channel);
		}
		return;
	}

	int r;
	switch (f->kind) {
	case VMAPP_TRANSPORT_WAYLAND:
		r = deliver_wayland(ch, f);
		break;
	case VMAPP_TRANSPORT_SHM_CREATE:
	case VMAPP_TRANSPORT_SHM_RESIZE:
	case VMAPP_TRANSPORT_SHM_UPDATE:
	case VMAPP_TRANSPORT_SHM_DESTROY:
		r = vmapp_bridge_deliver_shm(ch, f);
		break;
	case VMAPP_TRANSPORT_FD_CONTENT:
		r = vmapp_bridge_deliver_content(ch, f);
		break;
	default:
		r = vmapp_bridge_deliver_pipe(ch, f);
		break;
	}
	if (r < 0) {
		char why[128];
		snprintf(why, sizeof(why), "%s: %s", kind_name(f->kind),
			 r == -EMFILE ? "over the fds a VM may hold" : strerror(-r));
		channel_close(ch, r == -EMFILE ? VMAPP_TRANSPORT_REASON_LIMIT
					       : VMAPP_TRANSPORT_REASON_INTERNAL, why);
	}
}

static void stream_receive(struct vmapp_bridge *b)
{
	while (!b->closed) {
		uint32_t frame_size;
		enum vmapp_transport_rule rule = vmapp_transport_peek(vmapp_buf_head(&b->in),
								      vmapp_buf_size(&b->in),
								      &frame_size);
		if (rule == VMAPP_TRANSPORT_RULE_FRAME_TRUNCATED &&
		    vmapp_transport_le32(vmapp_buf_head(&b->in) + 8) > b->state.limits.max_payload) {
			/* Over what we announced: refused from its header,
			 * before a byte of its payload is buffered. */
			stream_fail(b, VMAPP_TRANSPORT_RULE_FRAME_TOO_LARGE);
			return;
		}
		if (rule == VMAPP_TRANSPORT_RULE_HEADER_TRUNCATED ||
		    rule == VMAPP_TRANSPORT_RULE_FRAME_TRUNCATED)
			return;
		if (rule != VMAPP_TRANSPORT_RULE_OK) {
			/* receive() names the framing error and closes the state */
			frame_size = (uint32_t)vmapp_buf_size(&b->in);
		}
		struct vmapp_transport_frame f;
		vmapp_transport_decode(vmapp_buf_head(&b->in), frame_size, &f);
		enum vmapp_transport_action action;
		rule = vmapp_transport_receive(&b->state, &f, &action);
		switch (action) {
		case VMAPP_TRANSPORT_DELIVER:
			if (f.kind == VMAPP_TRANSPORT_HELLO && vmapp_transport_ready(&b->state) &&
			    !b->channels) {
				b->n_channels = b->state.n_channels;
				b->channels = calloc(b->n_channels + 1, sizeof(*b->channels));
				if (!b->channels) {
					stream_fail(b, VMAPP_TRANSPORT_RULE_NO_MEMORY);
					return;
				}
			}
			deliver(b, &f);
			break;
		case VMAPP_TRANSPORT_DROP:
			/* Logged, but a peer that keeps at it can not flood the
			 * log: the first 16, then one in 1024. */
			if (rule != VMAPP_TRANSPORT_RULE_OK &&
			    (b->config.verbose || b->dropped < 16 || b->dropped % 1024 == 0))
				vmapp_bridge_log(b, "channel %u: %s dropped: %s", f.channel,
					   kind_name(f.kind),
					   vmapp_transport_rule_name(rule));
			if (rule != VMAPP_TRANSPORT_RULE_OK)
				b->dropped++;
			if (f.channel && f.channel <= b->n_channels)
				vmapp_transport_send_credit(&b->state, &b->out, f.channel);
			break;
		case VMAPP_TRANSPORT_CLOSE_CHANNEL: {
			struct vmapp_bridge_channel *ch =
				f.channel <= b->n_channels ? b->channels[f.channel] : NULL;
			vmapp_bridge_log(b, "channel %u: %s refused: %s", f.channel,
				   kind_name(f.kind),
				   vmapp_transport_rule_name(rule));
			if (ch)
				channel_free_local(ch);
			vmapp_transport_send_close(&b->state, &b->out, f.channel,
						   vmapp_transport_rule_reason(rule));
			break;
		}
		case VMAPP_TRANSPORT_CLOSE_CONNECTION:
			stream_fail(b, rule);
			return;
		}
		vmapp_buf_consume(&b->in, frame_size);
	}
}

static void stream_read(struct vmapp_bridge *b)
{
	/* At most one whole frame is buffered beyond what is handled, and
	 * nothing is read while the peer does not read our answers. */
	for (int i = 0; i < 16 && !b->closed && !vmapp_bridge_stream_full(b); i++) {
		uint8_t *p = vmapp_buf_reserve(&b->in, STREAM_READ);
		if (!p) {
			stream_fail(b, VMAPP_TRANSPORT_RULE_NO_MEMORY);
			return;
		}
		ssize_t n = read(b->stream_fd, p, STREAM_READ);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			vmapp_bridge_log(b, "stream: %s", strerror(errno));
			b->closed = true;
			b->peer_eof = true;
			return;
		}
		if (n == 0) {
			if (vmapp_buf_size(&b->in) > 0) {
				/* Cut off inside a frame: not an orderly end. */
				vmapp_bridge_log(b, "the stream ended inside a frame");
				b->error = true;
			} else if (b->config.verbose || b->n_open > 0) {
				vmapp_bridge_log(b, "the peer closed the stream");
			}
			b->closed = true;
			b->peer_eof = true;
			return;
		}
		b->in.len += (size_t)n;
		stream_receive(b);
		if ((size_t)n < STREAM_READ)
			return;
	}
}

/* ---- local fds ---- */

static void wayland_ready(struct vmapp_bridge *b, struct vmapp_bridge_channel *ch, uint32_t events)
{
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
		int r = vmapp_side_read(&ch->wl);
		if (r != 0)
			ch->wl.eof = true;
		if (r == -EMFILE) {
			channel_close(ch, VMAPP_TRANSPORT_REASON_LIMIT, "too many fds");
			return;
		}
	}
	if (events & EPOLLOUT) {
		if (vmapp_side_flush(&ch->wl) < 0) {
			channel_gone(ch);
			return;
		}
	}
}

/*
 * Credit goes back in batches: a CREDIT per message would cost the peer a
 * wakeup each time.  Held back is at most a quarter of the window, and
 * never so much that the peer could not send its largest frame.
 */
static uint32_t credit_threshold(const struct vmapp_bridge *b)
{
	uint32_t window = b->state.limits.initial_credit;
	uint32_t largest = b->state.limits.max_payload;
	uint32_t t = window / 4;
	if (window - t < largest)
		t = window > largest ? window - largest : 1;
	return t ? t : 1;
}

/* Everything a channel does after its fds or the stream moved. */
static void channel_update(struct vmapp_bridge *b, struct vmapp_bridge_channel *ch)
{
	int r = vmapp_bridge_is_guest(b) ? guest_take_messages(ch) : host_take_messages(ch);
	if (r < 0) {
		channel_close(ch, r == -EPROTO ? VMAPP_TRANSPORT_REASON_WAYLAND
					       : VMAPP_TRANSPORT_REASON_INTERNAL,
			      r == -EPROTO ? "bad Wayland message" : strerror(-r));
		return;
	}
	r = channel_drain(ch);
	if (r < 0) {
		channel_close(ch, VMAPP_TRANSPORT_REASON_INTERNAL,
			      r == -EFAULT ? "a pool shrank under its buffers" : strerror(-r));
		return;
	}
	if (vmapp_side_flush(&ch->wl) < 0) {
		channel_gone(ch);
		return;
	}
	if (!vmapp_side_pending(&ch->wl) && ch->unconsumed > 0) {
		vmapp_bridge_credit(ch, ch->unconsumed);
		ch->unconsumed = 0;
	}
	if (ch->credit_due && b->state.channels[ch->id].due >= credit_threshold(b)) {
		vmapp_transport_send_credit(&b->state, &b->out, ch->id);
		ch->credit_due = false;
	}
	/* The client went away (or the relay dropped it): once nothing of
	 * it is left to send, the channel is over. */
	if (ch->wl.eof && vmapp_buf_size(&ch->wl.in) < 8 && ch->head_op == ch->n_ops &&
	    ch->seg_len == 0) {
		channel_gone(ch);
		return;
	}
	bool want_read = queued_bytes(ch) + ch->seg_len < QUEUE_BYTES_MAX && !vmapp_bridge_stream_full(b);
	vmapp_side_update(b->epoll_fd, &ch->wl, want_read);
	for (struct pipe *p = ch->pipes; p; p = p->next)
		vmapp_bridge_pipe_update(b, p);
}

void vmapp_bridge_dispatch(struct vmapp_bridge *b)
{
	struct epoll_event events[32];
	int n = epoll_wait(b->epoll_fd, events, 32, 0);

	for (int i = 0; i < n && !b->closed; i++) {
		struct vmapp_source *src = events[i].data.ptr;
		switch (src->kind) {
		case SOURCE_STREAM:
			if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
				stream_read(b);
			break;
		case SOURCE_WAYLAND: {
			struct vmapp_bridge_channel *ch = src->data;
			/* An earlier event of this batch may have closed it:
			 * its side's fd is -1 then, and its events stale. */
			if (ch->active)
				wayland_ready(b, ch, events[i].events);
			break;
		}
		case SOURCE_PIPE: {
			struct pipe *p = src->data;
			if (p->fd < 0 || !p->ch->active)
				break;
			if (p->we_read)
				vmapp_bridge_pipe_read(b, p);
			else
				vmapp_bridge_pipe_write(b, p);
			break;
		}
		}
	}

	for (uint32_t id = 1; id <= b->n_channels && !b->closed; id++)
		if (b->channels[id])
			channel_update(b, b->channels[id]);
	stream_flush(b);
	if (!b->closed) {
		uint32_t want = (vmapp_bridge_stream_full(b) ? 0 : EPOLLIN) |
				(vmapp_buf_size(&b->out) > 0 ? EPOLLOUT : 0);
		if (want != b->stream_events &&
		    vmapp_bridge_epoll_set(b, EPOLL_CTL_MOD, b->stream_fd, want, &b->stream_source) == 0)
			b->stream_events = want;
	}
	free_dead(b);
}

struct vmapp_bridge *vmapp_bridge_create(const struct vmapp_bridge_config *config, int stream_fd)
{
	struct vmapp_bridge *b = calloc(1, sizeof(*b));
	if (!b) {
		close(stream_fd);
		return NULL;
	}
	b->config = *config;
	b->stream_fd = stream_fd;
	/* Pools and pipes held for the guest may fill the fd table but for a
	 * reserve for the compositor connections and the relay. */
	struct rlimit rl;
	b->fd_budget = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur > 512
			       ? (uint32_t)(rl.rlim_cur > 65536 ? 65536 : rl.rlim_cur) - 384
			       : 128;
	b->stream_source.kind = SOURCE_STREAM;
	b->stream_source.data = b;
	b->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	fcntl(stream_fd, F_SETFL, fcntl(stream_fd, F_GETFL) | O_NONBLOCK);
	if (b->epoll_fd < 0 || vmapp_transport_init(&b->state, config->role, config->limits) < 0)
		goto fail;
	if (vmapp_transport_send_hello(&b->state, &b->out) < 0)
		goto fail;
	b->stream_events = EPOLLIN | EPOLLOUT;
	if (vmapp_bridge_epoll_set(b, EPOLL_CTL_ADD, stream_fd, b->stream_events, &b->stream_source) < 0)
		goto fail;
	return b;
fail:
	vmapp_bridge_destroy(b);
	return NULL;
}

void vmapp_bridge_destroy(struct vmapp_bridge *b)
{
	if (!b)
		return;
	for (uint32_t id = 1; id <= b->n_channels; id++)
		if (b->channels[id])
			channel_free_local(b->channels[id]);
	free(b->channels);
	free_dead(b);
	stream_flush(b);
	vmapp_transport_finish(&b->state);
	vmapp_buf_finish(&b->in);
	vmapp_buf_finish(&b->out);
	if (b->stream_fd >= 0)
		close(b->stream_fd);
	if (b->epoll_fd >= 0)
		close(b->epoll_fd);
	free(b);
}

int vmapp_bridge_fd(const struct vmapp_bridge *b)
{
	return b->epoll_fd;
}

bool vmapp_bridge_closed(const struct vmapp_bridge *b, bool *ret_error)
{
	if (ret_error)
		*ret_error = b->error;
	return b->closed;
}

bool vmapp_bridge_ready(const struct vmapp_bridge *b)
{
	return !b->closed && b->channels && vmapp_transport_ready(&b->state);
}

uint32_t vmapp_bridge_n_channels(const struct vmapp_bridge *b)
{
	return b->n_open;
}

int vmapp_bridge_open_channel(struct vmapp_bridge *b, int wl_fd)
{
	if (!vmapp_bridge_ready(b)) {
		close(wl_fd);
		return -EAGAIN;
	}
	uint32_t id = vmapp_transport_next_channel(&b->state);
	if (id == 0) {
		close(wl_fd);
		return -EBUSY;
	}
	int r = vmapp_transport_send_open(&b->state, &b->out, id);
	if (r < 0) {
		close(wl_fd);
		return r;
	}
	if (!channel_new(b, id, wl_fd)) {
		vmapp_transport_send_close(&b->state, &b->out, id, VMAPP_TRANSPORT_REASON_INTERNAL);
		return -ENOMEM;
	}
	stream_flush(b);
	return (int)id;
}

static int control_sent(struct vmapp_bridge *b, int r)
{
	if (r == 0)
		stream_flush(b);
	return r;
}

int vmapp_bridge_send_run(struct vmapp_bridge *b, uint32_t run_id, const char *const *argv,
			  uint32_t argc, const char *const *envp, uint32_t envc)
{
	return control_sent(b, vmapp_transport_send_run(&b->state, &b->out, run_id, argv, argc,
							envp, envc));
}

int vmapp_bridge_send_exit(struct vmapp_bridge *b, uint32_t run_id, int32_t status)
{
	return control_sent(b, vmapp_transport_send_exit(&b->state, &b->out, run_id, status));
}

int vmapp_bridge_send_output(struct vmapp_bridge *b, uint32_t run_id, uint32_t stream,
			     const void *data, size_t size)
{
	return control_sent(b, vmapp_transport_send_output(&b->state, &b->out, run_id, stream,
							   data, size));
}

int vmapp_bridge_send_output_credit(struct vmapp_bridge *b, uint32_t run_id, uint32_t bytes)
{
	return control_sent(b, vmapp_transport_send_output_credit(&b->state, &b->out, run_id,
								  bytes));
}

uint32_t vmapp_bridge_output_credit(const struct vmapp_bridge *b, uint32_t run_id)
{
	return vmapp_transport_output_credit(&b->state, run_id);
}

int vmapp_bridge_send_list_apps(struct vmapp_bridge *b)
{
	return control_sent(b, vmapp_transport_send_list_apps(&b->state, &b->out));
}

int vmapp_bridge_send_signal(struct vmapp_bridge *b, uint32_t run_id, uint32_t signo)
{
	return control_sent(b, vmapp_transport_send_signal(&b->state, &b->out, run_id, signo));
}

int vmapp_bridge_send_apps(struct vmapp_bridge *b, const struct vmapp_transport_app *apps,
			   uint32_t n_apps)
{
	return control_sent(b, vmapp_transport_send_apps(&b->state, &b->out, apps, n_apps));
}
