/* SPDX-License-Identifier: MIT */
/*
 * The transport between vmapp-agent (guest) and vmapp-proxy (host): one
 * byte stream per VM, cut into frames, carrying one channel per guest
 * Wayland client plus a control channel, with credit-based flow control
 * per channel.  vmapp-transport(7) is the specification; this is its
 * codec, and the two must say the same.
 *
 * Pure like wire.c: no I/O, no logging, no globals.  Three layers:
 *
 *   vmapp_transport_peek()     is a whole frame in these bytes? (stateless)
 *   vmapp_transport_decode()   one whole frame into a view, every field of
 *                              its kind checked (stateless, no allocation)
 *   vmapp_transport_receive()  applies a decoded frame to the connection's
 *                              state, or refuses it and says what that costs
 *
 * and, for the sending side, vmapp_transport_send_*(), which append one
 * frame to a vmapp_buf and account for it in the same state (credit, refs,
 * channel states), so that a side using them never sends a frame its peer
 * must refuse.
 *
 * Every multi-byte field is little-endian and unaligned; views point into
 * the caller's bytes, which must outlive them.
 */
#ifndef VMAPP_TRANSPORT_H
#define VMAPP_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buffer.h"
#include "transport-rules.h"

/* u32 channel, u16 kind, u16 flags, u32 payload length. */
#define VMAPP_TRANSPORT_HEADER_SIZE 12u
/* HELLO's first word: the bytes 00 56 4d 50, "\0VMP". */
#define VMAPP_TRANSPORT_MAGIC 0x504d5600u
#define VMAPP_TRANSPORT_VERSION 1u

/* The largest payload any frame may have: a 1 MiB chunk of shm or pipe
 * data plus its fixed fields.  peek refuses more before a byte of it is
 * buffered. */
#define VMAPP_TRANSPORT_MAX_PAYLOAD (1048576u + 64u)
/* The least a HELLO may announce: one whole Wayland message (4096 bytes)
 * with the most fds a frame may carry fits in one frame and in a channel's
 * credit, so a sender never waits for credit that can not come. */
#define VMAPP_TRANSPORT_MIN_PAYLOAD 8192u
#define VMAPP_TRANSPORT_MIN_CREDIT 8192u
#define VMAPP_TRANSPORT_MAX_CREDIT (64u * 1048576u)
#define VMAPP_TRANSPORT_MAX_CHANNELS 1024u

/* Refs: one number space per channel, split by creator as Wayland ids are;
 * 0 is never a ref. */
#define VMAPP_TRANSPORT_GUEST_REF_LAST 0x7fffffffu
#define VMAPP_TRANSPORT_HOST_REF_FIRST 0x80000000u

/* Per-frame and per-kind limits of protocol version 1. */
#define VMAPP_TRANSPORT_MAX_FDS 28u          /* per WAYLAND frame: libwayland's MAX_FDS_OUT */
#define VMAPP_TRANSPORT_MAX_WL_MESSAGE 4096u /* libwayland's WL_MAX_MESSAGE_SIZE */
#define VMAPP_TRANSPORT_MAX_ERROR_TEXT 256u  /* bytes before the NUL */
#define VMAPP_TRANSPORT_MAX_ARGS 1024u       /* RUN argc */
#define VMAPP_TRANSPORT_MAX_ENV 1024u        /* RUN envc */
#define VMAPP_TRANSPORT_MAX_RUN_PAYLOAD 262144u
#define VMAPP_TRANSPORT_MAX_RUNS 64u         /* RUNs without their EXIT yet */
#define VMAPP_TRANSPORT_MAX_LISTS 4u         /* LIST_APPS without their APPS yet */
#define VMAPP_TRANSPORT_MAX_APPS 1024u
#define VMAPP_TRANSPORT_MAX_APP_STRING 4096u /* bytes before the NUL */
#define VMAPP_TRANSPORT_APP_STRINGS 5u       /* per app: id, name, exec, icon, categories */
/* OUTPUT's bytes: what fits the smallest payload a peer may announce. */
#define VMAPP_TRANSPORT_MAX_OUTPUT (VMAPP_TRANSPORT_MIN_PAYLOAD - 8u)
/* A run's output credit: the OUTPUT bytes the guest may send before the
 * host returns some (OUTPUT_CREDIT), and at most what it may have. */
#define VMAPP_TRANSPORT_MAX_OUTPUT_CREDIT 262144u
/* A pool mirrors a wl_shm_pool, whose size is an int32. */
#define VMAPP_TRANSPORT_MAX_POOL 0x7fffffffu

/* Defaults of the local limits (vmapp_transport_limits_default). */
#define VMAPP_TRANSPORT_DEFAULT_CHANNELS 64u
#define VMAPP_TRANSPORT_DEFAULT_CREDIT (2u * 1048576u)
#define VMAPP_TRANSPORT_DEFAULT_REFS 1024u
#define VMAPP_TRANSPORT_DEFAULT_SHM_BYTES (UINT64_C(4) * 1024 * 1024 * 1024)

/* Frame kinds, grouped by the high nibble of the low byte. */
#define VMAPP_TRANSPORT_KINDS(X) \
	X(HELLO, 0x01, "HELLO") \
	X(ERROR, 0x02, "ERROR") \
	X(OPEN, 0x03, "OPEN") \
	X(CLOSE, 0x04, "CLOSE") \
	X(CREDIT, 0x05, "CREDIT") \
	X(WAYLAND, 0x10, "WAYLAND") \
	X(SHM_CREATE, 0x20, "SHM_CREATE") \
	X(SHM_RESIZE, 0x21, "SHM_RESIZE") \
	X(SHM_UPDATE, 0x22, "SHM_UPDATE") \
	X(SHM_DESTROY, 0x23, "SHM_DESTROY") \
	X(FD_CONTENT, 0x30, "FD_CONTENT") \
	X(PIPE_OPEN, 0x40, "PIPE_OPEN") \
	X(PIPE_DATA, 0x41, "PIPE_DATA") \
	X(PIPE_END, 0x42, "PIPE_END") \
	X(PIPE_CANCEL, 0x43, "PIPE_CANCEL") \
	X(RUN, 0x50, "RUN") \
	X(EXIT, 0x51, "EXIT") \
	X(LIST_APPS, 0x52, "LIST_APPS") \
	X(APPS, 0x53, "APPS") \
	X(SIGNAL, 0x54, "SIGNAL") \
	X(OUTPUT, 0x55, "OUTPUT") \
	X(OUTPUT_CREDIT, 0x56, "OUTPUT_CREDIT")

#define VMAPP_TRANSPORT_KIND_ENUM(id, value, name) VMAPP_TRANSPORT_##id = value,
enum vmapp_transport_kind { VMAPP_TRANSPORT_KINDS(VMAPP_TRANSPORT_KIND_ENUM) };
#undef VMAPP_TRANSPORT_KIND_ENUM

/* The kind's name ("SHM_UPDATE"), or NULL for a kind version 1 does not know. */
const char *vmapp_transport_kind_name(uint32_t kind);
/* True for the kinds credit applies to: WAYLAND, SHM_UPDATE, FD_CONTENT, PIPE_DATA. */
bool vmapp_transport_kind_is_data(uint32_t kind);

/* CLOSE reasons and ERROR codes (one list, stable on the wire).  Receivers
 * take any value: it is for the log. */
enum vmapp_transport_reason {
	VMAPP_TRANSPORT_REASON_NORMAL = 0,   /* the client went away; an orderly shutdown */
	VMAPP_TRANSPORT_REASON_PROTOCOL = 1, /* the peer broke a transport rule */
	VMAPP_TRANSPORT_REASON_VERSION = 2,  /* no common protocol version */
	VMAPP_TRANSPORT_REASON_LIMIT = 3,    /* the peer went over a limit */
	VMAPP_TRANSPORT_REASON_WAYLAND = 4,  /* a Wayland message was refused (validator, policy) */
	VMAPP_TRANSPORT_REASON_INTERNAL = 5, /* the sender failed: out of memory, compositor gone */
};

/* SIGNAL's signal numbers, Linux's on both sides: SIGHUP 1, SIGINT 2,
 * SIGQUIT 3, SIGKILL 9, SIGUSR1 10, SIGUSR2 12, SIGTERM 15.  What ends or
 * asks a command as a terminal user would; not SIGSTOP and its kin, which
 * would leave a run that never sends its EXIT. */
bool vmapp_transport_signal_ok(uint32_t signo);

/* The reason to put in the CLOSE or ERROR that answers a refusal. */
uint32_t vmapp_transport_rule_reason(enum vmapp_transport_rule rule);

enum vmapp_transport_role {
	VMAPP_TRANSPORT_HOST,  /* vmapp-proxy: accepts OPEN, sends RUN, SIGNAL, OUTPUT_CREDIT and LIST_APPS */
	VMAPP_TRANSPORT_GUEST, /* vmapp-agent: sends OPEN, shm, OUTPUT, EXIT and APPS */
};

/* PIPE_OPEN's direction, seen from the side that created the ref. */
enum vmapp_transport_pipe_direction {
	VMAPP_TRANSPORT_PIPE_FROM_CREATOR = 0, /* the creator writes, the other side reads */
	VMAPP_TRANSPORT_PIPE_TO_CREATOR = 1,   /* the other side writes, the creator reads */
};

/*
 * One decoded frame.  Header fields are set whenever the 12 header bytes
 * were there; the kind's own member of the union only when decode returned
 * OK.  Every pointer points into the bytes given to decode, inside the
 * payload; strings are NUL-terminated there.
 */
struct vmapp_transport_frame {
	uint32_t channel;
	uint32_t kind;   /* a u16 on the wire */
	uint32_t flags;  /* a u16 on the wire */
	uint32_t length; /* of the payload */
	const uint8_t *payload; /* NULL when the header was short */
	enum vmapp_transport_rule rule; /* what vmapp_transport_decode returned */
	union {
		struct {
			uint32_t magic, version, max_payload, max_channels, initial_credit;
		} hello;
		struct {
			uint32_t code;
			const char *text; /* UTF-8, text_len bytes and a NUL */
			uint32_t text_len;
		} error;
		struct {
			uint32_t reason;
		} close;
		struct {
			uint32_t bytes; /* > 0 */
		} credit;
		struct {
			uint32_t n_fds;      /* <= VMAPP_TRANSPORT_MAX_FDS */
			const uint8_t *refs; /* n_fds u32: vmapp_transport_frame_fd_ref() */
			const uint8_t *data; /* whole Wayland messages, size >= 8 */
			uint32_t size;
		} wayland;
		struct {
			uint32_t ref;
			uint64_t size; /* 1..VMAPP_TRANSPORT_MAX_POOL */
		} shm; /* SHM_CREATE, SHM_RESIZE */
		struct {
			uint32_t ref;
			uint64_t offset; /* offset + size does not wrap */
			const uint8_t *data;
			uint32_t size;
		} shm_update;
		struct {
			uint32_t ref;
		} ref; /* SHM_DESTROY, PIPE_END, PIPE_CANCEL */
		struct {
			uint32_t ref;
			uint64_t total;
			uint64_t offset; /* offset + size <= total */
			const uint8_t *data;
			uint32_t size;
		} fd_content;
		struct {
			uint32_t ref;
			uint32_t direction; /* enum vmapp_transport_pipe_direction; a u8 on the wire */
		} pipe_open;
		struct {
			uint32_t ref;
			const uint8_t *data;
			uint32_t size;
		} pipe_data;
		struct {
			uint32_t run_id;
			uint32_t argc; /* 1..VMAPP_TRANSPORT_MAX_ARGS */
			uint32_t envc; /* 0..VMAPP_TRANSPORT_MAX_ENV, each "NAME=value" */
			/* argc then envc NUL-terminated strings back to back (bytes,
			 * not necessarily UTF-8: they are argv); step with
			 * s += strlen(s) + 1. */
			const char *strings;
			uint32_t strings_size;
		} run;
		struct {
			uint32_t run_id;
			int32_t status; /* exit code 0..255, or -signal -1..-64 */
		} exit;
		struct {
			uint32_t run_id; /* any: one the guest does not know is ignored */
			uint32_t signo;  /* vmapp_transport_signal_ok() */
		} signal;
		struct {
			uint32_t run_id; /* a run without its EXIT yet */
			uint32_t stream; /* 1 stdout, 2 stderr */
			const uint8_t *data; /* any bytes */
			uint32_t size;       /* 1..VMAPP_TRANSPORT_MAX_OUTPUT */
		} output;
		struct {
			uint32_t run_id; /* any: one whose EXIT crossed it is ignored */
			uint32_t bytes;  /* > 0 */
		} output_credit;
		struct {
			uint32_t count; /* <= VMAPP_TRANSPORT_MAX_APPS */
			/* count quintuples (desktop id, name, exec, icon,
			 * categories) of NUL-terminated UTF-8 strings back to
			 * back, VMAPP_TRANSPORT_APP_STRINGS per app; the desktop
			 * id is not empty, the others may be.  Step with
			 * s += strlen(s) + 1. */
			const char *strings;
			uint32_t strings_size;
		} apps;
	};
};

static inline uint32_t vmapp_transport_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t vmapp_transport_le64(const uint8_t *p)
{
	return (uint64_t)vmapp_transport_le32(p) | (uint64_t)vmapp_transport_le32(p + 4) << 32;
}

/* The i-th fd ref of a decoded WAYLAND frame (i < n_fds). */
static inline uint32_t vmapp_transport_frame_fd_ref(const struct vmapp_transport_frame *frame,
						    uint32_t i)
{
	return vmapp_transport_le32(frame->wayland.refs + 4 * (size_t)i);
}

/*
 * Reads a header.  OK and the whole frame's size (header and payload) when
 * `len` bytes hold a whole frame; HEADER_TRUNCATED or FRAME_TRUNCATED when
 * more bytes are needed (not errors); FRAME_FLAGS or FRAME_TOO_LARGE when
 * the header is bad: the stream is lost.  The size is known from the first
 * 12 bytes, so a caller never buffers more than VMAPP_TRANSPORT_HEADER_SIZE +
 * VMAPP_TRANSPORT_MAX_PAYLOAD bytes for one frame.
 */
enum vmapp_transport_rule vmapp_transport_peek(const uint8_t *untrusted_data, size_t len,
					       uint32_t *ret_frame_size);

/*
 * Decodes one frame (peek's rules first, so any buffer will do) and checks
 * every field that needs no connection state: sizes and counts against the
 * payload, strings, ranges, 64-bit sums.  *ret is always written: header
 * fields when the header was there, ret->rule = the verdict.  `ret` points
 * into `untrusted_data`.
 */
enum vmapp_transport_rule vmapp_transport_decode(const uint8_t *untrusted_data, size_t len,
						 struct vmapp_transport_frame *ret);

/* What the local side accepts; announced in its HELLO where the protocol
 * says so, enforced on what the peer sends. */
struct vmapp_transport_limits {
	uint32_t max_payload;    /* announced: MIN_PAYLOAD..MAX_PAYLOAD */
	uint32_t max_channels;   /* announced: 1..MAX_CHANNELS */
	uint32_t initial_credit; /* announced: MIN_CREDIT..MAX_CREDIT, per channel, each way */
	uint32_t max_refs;       /* live refs the peer may have created on one channel (>= 1) */
	uint64_t shm_bytes;      /* sum of the sizes of the peer's live pools and fd contents */
};

void vmapp_transport_limits_default(struct vmapp_transport_limits *ret);

/* What to do with a frame after vmapp_transport_receive. */
enum vmapp_transport_action {
	/* Act on it (forward the Wayland bytes, write the shm update...).
	 * A data frame holds its credit until vmapp_transport_consume() says
	 * its bytes went on; vmapp_transport_send_credit() returns it.  For a
	 * CLOSE: the peer closed the channel: tear it down, then answer with
	 * vmapp_transport_send_close().  For a PIPE_END: answer with
	 * send_pipe_cancel(); for a PIPE_CANCEL: stop writing, send_pipe_end().
	 * For an ERROR: log it and close the stream. */
	VMAPP_TRANSPORT_DELIVER,
	/* Nothing to do: a frame the peer sent before it saw this side's CLOSE
	 * or PIPE_CANCEL, an acknowledging CLOSE.  With a rule other than OK, a
	 * harmless violation worth a log line (a frame on a channel that is
	 * not open).  Its credit, if any, is already due back. */
	VMAPP_TRANSPORT_DROP,
	/* The frame broke a rule of its channel: the codec has forgotten the
	 * channel's refs; tear the channel down and send
	 * vmapp_transport_send_close(reason = vmapp_transport_rule_reason()).
	 * The other channels go on. */
	VMAPP_TRANSPORT_CLOSE_CHANNEL,
	/* A framing error, or any refusal on channel 0: send
	 * vmapp_transport_send_error() and close the stream. */
	VMAPP_TRANSPORT_CLOSE_CONNECTION,
};

const char *vmapp_transport_action_name(enum vmapp_transport_action action);

enum vmapp_transport_channel_state {
	VMAPP_TRANSPORT_CHANNEL_FREE = 0,
	VMAPP_TRANSPORT_CHANNEL_OPEN,
	VMAPP_TRANSPORT_CHANNEL_CLOSING,     /* CLOSE sent; waiting for the peer's */
	VMAPP_TRANSPORT_CHANNEL_PEER_CLOSED, /* CLOSE received; this side's is due */
	VMAPP_TRANSPORT_CHANNEL_LOST,        /* refused; this side's CLOSE is due */
};

enum vmapp_transport_ref_type {
	VMAPP_TRANSPORT_REF_SHM = 1,
	VMAPP_TRANSPORT_REF_CONTENT,
	VMAPP_TRANSPORT_REF_PIPE,
};

/* Private to transport.c; readable for tests and the fuzzer. */
struct vmapp_transport_ref {
	uint32_t ref;
	uint8_t type;     /* enum vmapp_transport_ref_type */
	bool ours;        /* created by this side */
	bool we_write;    /* PIPE: this side sends the data */
	bool sent_term;   /* PIPE: this side's END or CANCEL sent */
	bool got_term;    /* PIPE: the peer's END or CANCEL received */
	bool passed;      /* PIPE: named by a WAYLAND frame */
	uint64_t size;    /* SHM: pool size; CONTENT: total */
	uint64_t filled;  /* CONTENT: bytes so far */
};

struct vmapp_transport_channel {
	enum vmapp_transport_channel_state state;
	/* Sending: bytes of data frames this side may still send. */
	uint32_t send_credit;
	/* Receiving: recv_credit + held + due == limits.initial_credit. */
	uint32_t recv_credit; /* the peer may still send */
	uint32_t held;        /* received, not yet consumed by the caller */
	uint32_t due;         /* consumed, not yet returned in a CREDIT */
	struct vmapp_transport_ref *refs; /* owned; unordered */
	uint32_t n_refs, cap_refs;
	uint32_t n_peer_refs, n_own_refs;
};

struct vmapp_transport_state {
	enum vmapp_transport_role role;
	struct vmapp_transport_limits limits;
	bool hello_sent;
	bool hello_received;
	bool closed; /* an ERROR went either way, or a framing error: nothing more */
	bool error_sent;
	struct {
		uint32_t max_payload, max_channels, initial_credit;
	} peer;
	/* After the handshake: ids 1..n_channels, min of both HELLOs. */
	uint32_t n_channels;
	struct vmapp_transport_channel *channels; /* owned; n_channels + 1, [0] unused */
	uint64_t shm_bytes; /* sizes of the peer's live pools and fd contents */
	uint32_t runs[VMAPP_TRANSPORT_MAX_RUNS]; /* host: sent; guest: received; no EXIT yet */
	uint32_t output_credit[VMAPP_TRANSPORT_MAX_RUNS]; /* the run's: OUTPUT bytes the guest may send */
	uint32_t n_runs;
	uint32_t lists; /* host: LIST_APPS sent; guest: received; no APPS yet */
};

/* -EINVAL when a limit is outside its range; `limits` NULL means the defaults. */
int vmapp_transport_init(struct vmapp_transport_state *state, enum vmapp_transport_role role,
			 const struct vmapp_transport_limits *limits);
void vmapp_transport_finish(struct vmapp_transport_state *state);

/* Both HELLOs went, and no ERROR: channel frames may be sent. */
bool vmapp_transport_ready(const struct vmapp_transport_state *state);

/*
 * Applies a frame the peer sent, as vmapp_transport_decode left it (call it
 * for every frame peek accepted, whatever decode said: the cost of a bad
 * frame depends on its channel's state).  Returns the rule it broke, or OK;
 * *ret_action says what the caller does next.  A refused frame changes
 * nothing but its channel (LOST, its refs forgotten) or the connection
 * (closed).
 */
enum vmapp_transport_rule vmapp_transport_receive(struct vmapp_transport_state *state,
						  const struct vmapp_transport_frame *frame,
						  enum vmapp_transport_action *ret_action);

/* The state of channel id `channel`; FREE for ids out of range. */
enum vmapp_transport_channel_state
vmapp_transport_channel_state(const struct vmapp_transport_state *state, uint32_t channel);
/* The lowest FREE channel id, or 0 when all are taken (or before the handshake). */
uint32_t vmapp_transport_next_channel(const struct vmapp_transport_state *state);
/* The live ref `ref` of `channel`, or NULL; valid until the next call that
 * changes the state. */
const struct vmapp_transport_ref *
vmapp_transport_ref_get(const struct vmapp_transport_state *state, uint32_t channel, uint32_t ref);
/* The largest data frame payload this side may send on `channel` now: the
 * least of its credit and the peer's max_payload; 0 when not open. */
uint32_t vmapp_transport_send_room(const struct vmapp_transport_state *state, uint32_t channel);

/*
 * The caller is done with `bytes` of the data frames it received on
 * `channel` (written them on, or thrown them away): they become credit due
 * to the peer.  -EINVAL when more than were received and not yet consumed;
 * 0 and nothing done on a channel that is not OPEN.
 */
int vmapp_transport_consume(struct vmapp_transport_state *state, uint32_t channel, uint32_t bytes);

/*
 * Senders.  Each appends exactly one frame to `out` and returns 0, or
 * returns -errno and appends nothing and changes nothing:
 *   -ENOTCONN  before both HELLOs, or after an ERROR (send_hello and
 *              send_error excepted)
 *   -EPIPE     the channel is not OPEN (send_close: not OPEN, LOST or
 *              PEER_CLOSED); the pipe's peer cancelled it (send_pipe_data)
 *   -EAGAIN    not enough credit on the channel: wait for a CREDIT
 *   -EMSGSIZE  more than the peer's max_payload or its whole credit window
 *   -EPERM     a kind the other role sends
 *   -EEXIST    the channel or ref is in use
 *   -ENOENT    no such live ref of this side (or run id)
 *   -ENOSPC    over max_refs, VMAPP_TRANSPORT_MAX_RUNS or _MAX_LISTS
 *   -EINVAL    anything else the peer would refuse (a shrinking resize, an
 *              update outside the pool, a ref outside this side's range...)
 *   -ENOMEM
 * `out` is owned by the caller; every pointer argument is read only during
 * the call and may be NULL only where its count is 0.
 */
/* -EALREADY when sent before. */
int vmapp_transport_send_hello(struct vmapp_transport_state *state, struct vmapp_buf *out);
/* Allowed at any time, first frame included, once (-EALREADY); closes the
 * state.  `text` (UTF-8, at most MAX_ERROR_TEXT bytes) may be NULL. */
int vmapp_transport_send_error(struct vmapp_transport_state *state, struct vmapp_buf *out,
			       uint32_t code, const char *text);
int vmapp_transport_send_open(struct vmapp_transport_state *state, struct vmapp_buf *out,
			      uint32_t channel);
int vmapp_transport_send_close(struct vmapp_transport_state *state, struct vmapp_buf *out,
			       uint32_t channel, uint32_t reason);
/* Returns all credit due on `channel` in one CREDIT frame; 0 and nothing
 * appended when none is due or the channel is not OPEN. */
int vmapp_transport_send_credit(struct vmapp_transport_state *state, struct vmapp_buf *out,
				uint32_t channel);
/* `refs`: n_refs live refs this side created on the channel; a CONTENT ref
 * must be complete and is released by being sent, a PIPE ref may be sent
 * once.  `data`: whole Wayland messages. */
int vmapp_transport_send_wayland(struct vmapp_transport_state *state, struct vmapp_buf *out,
				 uint32_t channel, const uint32_t *refs, uint32_t n_refs,
				 const uint8_t *data, uint32_t size);
int vmapp_transport_send_shm_create(struct vmapp_transport_state *state, struct vmapp_buf *out,
				    uint32_t channel, uint32_t ref, uint64_t size);
int vmapp_transport_send_shm_resize(struct vmapp_transport_state *state, struct vmapp_buf *out,
				    uint32_t channel, uint32_t ref, uint64_t size);
int vmapp_transport_send_shm_update(struct vmapp_transport_state *state, struct vmapp_buf *out,
				    uint32_t channel, uint32_t ref, uint64_t offset,
				    const uint8_t *data, uint32_t size);
int vmapp_transport_send_shm_destroy(struct vmapp_transport_state *state, struct vmapp_buf *out,
				     uint32_t channel, uint32_t ref);
/* The first chunk (offset 0) creates the ref; the others continue it in order. */
int vmapp_transport_send_fd_content(struct vmapp_transport_state *state, struct vmapp_buf *out,
				    uint32_t channel, uint32_t ref, uint64_t total,
				    uint64_t offset, const uint8_t *data, uint32_t size);
int vmapp_transport_send_pipe_open(struct vmapp_transport_state *state, struct vmapp_buf *out,
				   uint32_t channel, uint32_t ref,
				   enum vmapp_transport_pipe_direction direction);
int vmapp_transport_send_pipe_data(struct vmapp_transport_state *state, struct vmapp_buf *out,
				   uint32_t channel, uint32_t ref, const uint8_t *data,
				   uint32_t size);
int vmapp_transport_send_pipe_end(struct vmapp_transport_state *state, struct vmapp_buf *out,
				  uint32_t channel, uint32_t ref);
int vmapp_transport_send_pipe_cancel(struct vmapp_transport_state *state, struct vmapp_buf *out,
				     uint32_t channel, uint32_t ref);
/* `argv`: argc strings (argc >= 1); `envp`: envc "NAME=value" strings. */
int vmapp_transport_send_run(struct vmapp_transport_state *state, struct vmapp_buf *out,
			     uint32_t run_id, const char *const *argv, uint32_t argc,
			     const char *const *envp, uint32_t envc);
int vmapp_transport_send_exit(struct vmapp_transport_state *state, struct vmapp_buf *out,
			      uint32_t run_id, int32_t status);
/* What run `run_id` (waiting for its EXIT: -ENOENT) wrote on `stream`
 * (1 stdout, 2 stderr: else -EINVAL): 1..VMAPP_TRANSPORT_MAX_OUTPUT
 * bytes (-EMSGSIZE), within the run's output credit (-ENOSPC).  Before
 * the run's EXIT, never after. */
int vmapp_transport_send_output(struct vmapp_transport_state *state, struct vmapp_buf *out,
				uint32_t run_id, uint32_t stream, const void *data, size_t size);
/* Host: `bytes` (> 0) of run `run_id`'s output went on: the guest may
 * send that much more.  -ENOENT for a run without its EXIT pending,
 * -EINVAL for 0 or for more than the guest used. */
int vmapp_transport_send_output_credit(struct vmapp_transport_state *state,
				       struct vmapp_buf *out, uint32_t run_id, uint32_t bytes);
/* The OUTPUT bytes run `run_id` may send now (guest), or may still come
 * (host); 0 for a run without its EXIT pending. */
uint32_t vmapp_transport_output_credit(const struct vmapp_transport_state *state,
				       uint32_t run_id);
int vmapp_transport_send_list_apps(struct vmapp_transport_state *state, struct vmapp_buf *out);
/* To the process group of run `run_id`, which must be waiting for its EXIT
 * (-ENOENT); `signo` as vmapp_transport_signal_ok() (-EINVAL).  The guest
 * may have sent the EXIT already: then it ignores the SIGNAL. */
int vmapp_transport_send_signal(struct vmapp_transport_state *state, struct vmapp_buf *out,
				uint32_t run_id, uint32_t signo);

/* One application of APPS, as the guest read it: untrusted on the host
 * until vmapp_desktop_sanitize() has seen it.  Every string is UTF-8 of at
 * most VMAPP_TRANSPORT_MAX_APP_STRING bytes; NULL is sent as "". */
struct vmapp_transport_app {
	const char *id;   /* desktop file id, not empty */
	const char *name;
	const char *exec; /* the argv, each word quoted as in a desktop entry's Exec */
	const char *icon; /* the guest's Icon as written (a name or a path); may be "" or NULL */
	const char *categories; /* the guest's Categories, "A;B;"; may be "" or NULL */
};
int vmapp_transport_send_apps(struct vmapp_transport_state *state, struct vmapp_buf *out,
			      const struct vmapp_transport_app *apps, uint32_t n_apps);

/*
 * Appends one frame with these header fields and payload, unchecked and
 * without state: for tests and the hostile peer.  -ENOMEM, -EMSGSIZE when
 * the payload does not fit a u32.  `payload` may be NULL when len is 0.
 */
int vmapp_transport_append_frame(struct vmapp_buf *out, uint32_t channel, uint16_t kind,
				 uint16_t flags, const void *payload, size_t len);

#endif
