/* SPDX-License-Identifier: MIT */
/*
 * The transport bridge's insides, shared by its parts: bridge.c (the
 * stream, channels, the queue of frames waiting for credit, dispatch),
 * bridge-pipe.c (pipes carried as streams) and bridge-fd.c (the fds a
 * frame's refs stand for: mirrored pools, contents; the guard around
 * reading a guest client's pool).  Not for users of bridge.h.
 */
#ifndef VMAPP_BRIDGE_IMPL_H
#define VMAPP_BRIDGE_IMPL_H

#include <stdbool.h>
#include <stdint.h>

#include "bridge.h"
#include "buffer.h"
#include "mirror.h"
#include "objmap.h"
#include "side.h"
#include "transport.h"

/* Wayland bytes are cut into WAYLAND frames of at most this much. */
#define SEGMENT_MAX 32768u
/* A channel reads its Wayland side only while less than this waits to be
 * sent, so that a client without credit is held back, not buffered. */
#define QUEUE_BYTES_MAX (1024u * 1024u)
/* The stream's output is not fed more while this much waits. */
#define STREAM_OUT_MAX (1024u * 1024u)
/* A chunk read from a local pipe at once. */
#define PIPE_CHUNK 65536u
/* The largest fd content (a keymap) the host reads from the compositor. */
#define CONTENT_MAX (16u * 1024u * 1024u)
/* Fixed fields before the bytes of SHM_UPDATE, FD_CONTENT and PIPE_DATA. */
#define SHM_UPDATE_FIXED 12u
#define FD_CONTENT_FIXED 20u
#define PIPE_DATA_FIXED 4u
#define STREAM_READ 65536u

enum source_kind { SOURCE_STREAM, SOURCE_WAYLAND, SOURCE_PIPE };

enum op_kind {
	OP_WAYLAND,
	OP_SHM_CREATE,
	OP_SHM_RESIZE,
	OP_SHM_UPDATE,
	OP_SHM_DESTROY,
	OP_CONTENT,
	OP_PIPE_OPEN,
};

/* One frame (or, for updates and contents, a run of frames) waiting for
 * its turn and its credit. */
struct op {
	enum op_kind kind;
	uint32_t ref;
	uint64_t offset; /* SHM_UPDATE: where the next chunk starts */
	uint64_t size;   /* SHM_*: pool size; SHM_UPDATE: bytes left; WAYLAND: bytes */
	uint32_t direction;        /* PIPE_OPEN */
	uint8_t *content;          /* CONTENT: owned */
	uint64_t content_len, content_sent;
	uint32_t n_refs;           /* WAYLAND */
	uint32_t refs[VMAPP_TRANSPORT_MAX_FDS];
};

struct pipe {
	struct vmapp_bridge_channel *ch;
	uint32_t ref;
	int fd;
	bool we_read;      /* we read fd and send PIPE_DATA; else we write PIPE_DATA into fd */
	bool armed;        /* we_read: the peer has the pipe; data may go */
	bool end_received; /* !we_read: PIPE_END came; close once written */
	struct vmapp_buf pending; /* !we_read: received, not yet written */
	uint32_t events;
	struct vmapp_source source;
	struct pipe *next;
};

struct host_pool {
	uint32_t ref;
	struct vmapp_mirror_pool pool;
};

struct content {
	uint32_t ref;
	struct vmapp_buf data;
};

struct vmapp_bridge_channel {
	struct vmapp_bridge *bridge;
	uint32_t id;
	bool active;
	struct vmapp_side wl;
	uint32_t unconsumed; /* WAYLAND bytes delivered to wl.out, credit not yet returned */
	bool saw_error; /* host: a wl_display.error went to the guest */
	bool credit_due;
	/* Outgoing, in order. */
	struct op *ops;
	size_t n_ops, head_op, cap_ops;
	struct vmapp_buf segment_bytes; /* Wayland bytes of the queued WAYLAND ops */
	/* The segment being gathered (not an op yet). */
	uint32_t seg_len;
	uint32_t seg_refs[VMAPP_TRANSPORT_MAX_FDS];
	uint32_t seg_n_refs;
	struct pipe *pipes;
	uint32_t next_ref; /* host: the next ref of ours (contents, pipes); guest: pipes */
	/* Guest. */
	struct vmapp_objmap objects;
	void *shm;
	struct content *contents;
	uint32_t n_contents, cap_contents;
	/* Host. */
	struct host_pool *pools;
	uint32_t n_pools, cap_pools;
};

struct vmapp_bridge {
	struct vmapp_bridge_config config;
	struct vmapp_transport_state state;
	int epoll_fd;
	int stream_fd;
	struct vmapp_source stream_source;
	struct vmapp_buf in, out;
	uint32_t stream_events;
	bool closed, error, peer_eof;
	bool stream_not_socket;
	/* Frames dropped on channels that are not open, for the log. */
	uint64_t dropped;
	/* Host: fds held for the guest (pools, pipes), against fd_budget. */
	uint32_t fds_held, fd_budget;
	struct vmapp_bridge_channel **channels; /* [n_channels + 1] once ready */
	uint32_t n_channels;
	uint32_t n_open;
	/* Freed at the end of a dispatch: events of the batch may point at them. */
	struct vmapp_bridge_channel *dead_channels;
	struct pipe *dead_pipes;
};

void vmapp_bridge_log(const struct vmapp_bridge *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static inline bool vmapp_bridge_is_guest(const struct vmapp_bridge *b)
{
	return b->config.role == VMAPP_TRANSPORT_GUEST;
}

int vmapp_bridge_epoll_set(struct vmapp_bridge *b, int op, int fd, uint32_t events, void *ptr);
/* The output waits for the peer: feed it no more. */

/* Consumed `bytes` of the channel's received data frames: credit due. */
void vmapp_bridge_credit(struct vmapp_bridge_channel *ch, uint32_t bytes);
/* Appends an op to the channel's queue; NULL on ENOMEM. */
struct op *vmapp_bridge_op_push(struct vmapp_bridge_channel *ch, enum op_kind kind);

/* bridge-pipe.c */
void vmapp_bridge_pipe_free(struct vmapp_bridge_channel *ch, struct pipe *p);
struct pipe *vmapp_bridge_pipe_find(struct vmapp_bridge_channel *ch, uint32_t ref);
struct pipe *vmapp_bridge_pipe_add(struct vmapp_bridge_channel *ch, uint32_t ref, int fd,
				   bool we_read, bool armed);
/* A pipe fd from the Wayland side becomes a ref of ours and a PIPE_OPEN. */
int vmapp_bridge_ref_from_pipe(struct vmapp_bridge_channel *ch, int fd, uint32_t *ret_ref);
int vmapp_bridge_deliver_pipe(struct vmapp_bridge_channel *ch,
			      const struct vmapp_transport_frame *f);
void vmapp_bridge_pipe_update(struct vmapp_bridge *b, struct pipe *p);
void vmapp_bridge_pipe_write(struct vmapp_bridge *b, struct pipe *p);
void vmapp_bridge_pipe_read(struct vmapp_bridge *b, struct pipe *p);

/* bridge-fd.c */
/* The fd a ref of the peer stands for in a WAYLAND frame, made here. */
int vmapp_bridge_fd_for_ref(struct vmapp_bridge_channel *ch, uint32_t ref);
/* Host: a regular file from the compositor (a keymap) crosses as content. */
int vmapp_bridge_ref_from_file(struct vmapp_bridge_channel *ch, int fd, uint32_t *ret_ref);
int vmapp_bridge_deliver_shm(struct vmapp_bridge_channel *ch,
			     const struct vmapp_transport_frame *f);
int vmapp_bridge_deliver_content(struct vmapp_bridge_channel *ch,
				 const struct vmapp_transport_frame *f);
void vmapp_bridge_catch_sigbus(void);
/* One SHM_UPDATE frame of the op's next `chunk` bytes, read from the
 * client's pool; -EFAULT when they are gone. */
int vmapp_bridge_send_update(struct vmapp_bridge *b, struct vmapp_bridge_channel *ch,
			     const struct op *op, uint32_t chunk);

#endif
