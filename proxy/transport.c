/* SPDX-License-Identifier: MIT */
/*
 * The transport codec: vmapp-transport(7) in C.  Every section of the man
 * page has its counterpart here; a rule changed in one changes in both.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "transport.h"
#include "wire.h"

/* Names. */

#define RULE_NAME(id, name) [VMAPP_TRANSPORT_RULE_##id] = name,
static const char *const rule_names[VMAPP_TRANSPORT_RULE_COUNT] = {
	VMAPP_TRANSPORT_RULES(RULE_NAME)
};
#undef RULE_NAME

const char *vmapp_transport_rule_name(enum vmapp_transport_rule rule)
{
	if ((unsigned)rule >= VMAPP_TRANSPORT_RULE_COUNT)
		return "unknown-rule";
	return rule_names[rule];
}

const char *vmapp_transport_kind_name(uint32_t kind)
{
	switch (kind) {
#define KIND_CASE(id, value, name) case value: return name;
	VMAPP_TRANSPORT_KINDS(KIND_CASE)
#undef KIND_CASE
	default:
		return NULL;
	}
}

bool vmapp_transport_kind_is_data(uint32_t kind)
{
	return kind == VMAPP_TRANSPORT_WAYLAND || kind == VMAPP_TRANSPORT_SHM_UPDATE ||
	       kind == VMAPP_TRANSPORT_FD_CONTENT || kind == VMAPP_TRANSPORT_PIPE_DATA;
}

/* The kinds of channel 0; every other known kind belongs to channels >= 1. */
static bool kind_is_control(uint32_t kind)
{
	return kind == VMAPP_TRANSPORT_HELLO || kind == VMAPP_TRANSPORT_ERROR ||
	       kind == VMAPP_TRANSPORT_RUN || kind == VMAPP_TRANSPORT_EXIT ||
	       kind == VMAPP_TRANSPORT_LIST_APPS || kind == VMAPP_TRANSPORT_APPS ||
	       kind == VMAPP_TRANSPORT_SIGNAL || kind == VMAPP_TRANSPORT_OUTPUT ||
	       kind == VMAPP_TRANSPORT_OUTPUT_CREDIT;
}

bool vmapp_transport_signal_ok(uint32_t signo)
{
	/* Linux's numbers, not the host's <signal.h>: the wire is Linux's
	 * whatever the host is built for. */
	switch (signo) {
	case 1:  /* SIGHUP */
	case 2:  /* SIGINT */
	case 3:  /* SIGQUIT */
	case 9:  /* SIGKILL */
	case 10: /* SIGUSR1 */
	case 12: /* SIGUSR2 */
	case 15: /* SIGTERM */
		return true;
	default:
		return false;
	}
}

const char *vmapp_transport_action_name(enum vmapp_transport_action action)
{
	switch (action) {
	case VMAPP_TRANSPORT_DELIVER:
		return "deliver";
	case VMAPP_TRANSPORT_DROP:
		return "drop";
	case VMAPP_TRANSPORT_CLOSE_CHANNEL:
		return "close-channel";
	case VMAPP_TRANSPORT_CLOSE_CONNECTION:
		return "close-connection";
	}
	return "unknown-action";
}

uint32_t vmapp_transport_rule_reason(enum vmapp_transport_rule rule)
{
	switch (rule) {
	case VMAPP_TRANSPORT_RULE_OK:
		return VMAPP_TRANSPORT_REASON_NORMAL;
	case VMAPP_TRANSPORT_RULE_HELLO_VERSION:
	case VMAPP_TRANSPORT_RULE_HELLO_MAGIC:
		return VMAPP_TRANSPORT_REASON_VERSION;
	case VMAPP_TRANSPORT_RULE_LIMIT_REFS:
	case VMAPP_TRANSPORT_RULE_LIMIT_SHM:
	case VMAPP_TRANSPORT_RULE_LIMIT_REQUESTS:
		return VMAPP_TRANSPORT_REASON_LIMIT;
	case VMAPP_TRANSPORT_RULE_NO_MEMORY:
		return VMAPP_TRANSPORT_REASON_INTERNAL;
	default:
		return VMAPP_TRANSPORT_REASON_PROTOCOL;
	}
}

/* Little-endian writers (the readers are in the header). */

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

/* Peek and decode: stateless. */

enum vmapp_transport_rule vmapp_transport_peek(const uint8_t *untrusted_data, size_t len,
					       uint32_t *ret_frame_size)
{
	if (len < VMAPP_TRANSPORT_HEADER_SIZE)
		return VMAPP_TRANSPORT_RULE_HEADER_TRUNCATED;
	uint16_t flags = le16(untrusted_data + 6);
	uint32_t length = vmapp_transport_le32(untrusted_data + 8);
	/* Version 1 defines no flag: a set bit is a peer speaking something
	 * else, whose lengths can not be trusted either. */
	if (flags != 0)
		return VMAPP_TRANSPORT_RULE_FRAME_FLAGS;
	/* Before anything is buffered: 0xffffffff and 0xfffff000 stop here. */
	if (length > VMAPP_TRANSPORT_MAX_PAYLOAD)
		return VMAPP_TRANSPORT_RULE_FRAME_TOO_LARGE;
	if (len - VMAPP_TRANSPORT_HEADER_SIZE < length)
		return VMAPP_TRANSPORT_RULE_FRAME_TRUNCATED;
	*ret_frame_size = VMAPP_TRANSPORT_HEADER_SIZE + length;
	return VMAPP_TRANSPORT_RULE_OK;
}

/*
 * One NUL-terminated string at *offset of a payload of `size` bytes; its
 * length without the NUL in *ret_len.  No bytes left at all is a count
 * that promised more strings than the payload holds.
 */
static enum vmapp_transport_rule read_string(const uint8_t *p, uint32_t size, uint32_t *offset,
					     uint32_t *ret_len)
{
	if (*offset >= size)
		return VMAPP_TRANSPORT_RULE_COUNT_OVERFLOW;
	const uint8_t *nul = memchr(p + *offset, '\0', size - *offset);
	if (!nul)
		return VMAPP_TRANSPORT_RULE_STRING_UNTERMINATED;
	*ret_len = (uint32_t)(nul - (p + *offset));
	*offset += *ret_len + 1;
	return VMAPP_TRANSPORT_RULE_OK;
}

/* A text string: UTF-8, at most `max` bytes, not empty when `need`. */
static enum vmapp_transport_rule read_text(const uint8_t *p, uint32_t size, uint32_t *offset,
					   uint32_t max, bool need, uint32_t *ret_len)
{
	uint32_t at = *offset;
	enum vmapp_transport_rule r = read_string(p, size, offset, ret_len);
	if (r != VMAPP_TRANSPORT_RULE_OK)
		return r;
	if (*ret_len > max)
		return VMAPP_TRANSPORT_RULE_STRING_TOO_LONG;
	if (need && *ret_len == 0)
		return VMAPP_TRANSPORT_RULE_STRING_EMPTY;
	if (!vmapp_utf8_valid((const char *)p + at, *ret_len))
		return VMAPP_TRANSPORT_RULE_STRING_UTF8;
	return VMAPP_TRANSPORT_RULE_OK;
}

/*
 * Whole Wayland messages only, so that the fds of a frame belong to its
 * messages.  Only the size half of each header is read (in the byte order
 * of the machine, as libwayland writes it: host and guest share one); the
 * validator decodes the rest.
 */
static bool whole_messages(const uint8_t *data, uint32_t size)
{
	uint32_t offset = 0;

	if (size == 0)
		return false;
	while (offset < size) {
		if (size - offset < 8)
			return false;
		uint32_t msize = vmapp_wire_u32(data + offset + 4) >> 16;
		if (msize < 8 || msize > VMAPP_TRANSPORT_MAX_WL_MESSAGE || msize % 4 != 0 ||
		    msize > size - offset)
			return false;
		offset += msize;
	}
	return true;
}

static bool hello_limits_ok(uint32_t max_payload, uint32_t max_channels, uint32_t credit)
{
	return max_payload >= VMAPP_TRANSPORT_MIN_PAYLOAD &&
	       max_payload <= VMAPP_TRANSPORT_MAX_PAYLOAD &&
	       max_channels >= 1 && max_channels <= VMAPP_TRANSPORT_MAX_CHANNELS &&
	       credit >= VMAPP_TRANSPORT_MIN_CREDIT && credit <= VMAPP_TRANSPORT_MAX_CREDIT;
}

static bool exit_status_ok(int32_t status)
{
	return status >= -64 && status <= 255;
}

static enum vmapp_transport_rule decode_payload(struct vmapp_transport_frame *f)
{
	const uint8_t *p = f->payload;
	uint32_t len = f->length;
	uint32_t offset, slen;
	enum vmapp_transport_rule r;

	if (!vmapp_transport_kind_name(f->kind))
		return VMAPP_TRANSPORT_RULE_KIND_UNKNOWN;
	if (kind_is_control(f->kind) != (f->channel == 0))
		return VMAPP_TRANSPORT_RULE_KIND_CHANNEL;

	switch (f->kind) {
	case VMAPP_TRANSPORT_HELLO:
		/* Magic and version first, whatever the length: a later version
		 * may make HELLO longer and must still hear "wrong version". */
		if (len < 8)
			return VMAPP_TRANSPORT_RULE_HELLO_SIZE;
		f->hello.magic = vmapp_transport_le32(p);
		f->hello.version = vmapp_transport_le32(p + 4);
		if (f->hello.magic != VMAPP_TRANSPORT_MAGIC)
			return VMAPP_TRANSPORT_RULE_HELLO_MAGIC;
		if (f->hello.version != VMAPP_TRANSPORT_VERSION)
			return VMAPP_TRANSPORT_RULE_HELLO_VERSION;
		if (len != 20)
			return VMAPP_TRANSPORT_RULE_HELLO_SIZE;
		f->hello.max_payload = vmapp_transport_le32(p + 8);
		f->hello.max_channels = vmapp_transport_le32(p + 12);
		f->hello.initial_credit = vmapp_transport_le32(p + 16);
		if (!hello_limits_ok(f->hello.max_payload, f->hello.max_channels,
				     f->hello.initial_credit))
			return VMAPP_TRANSPORT_RULE_HELLO_LIMITS;
		return VMAPP_TRANSPORT_RULE_OK;

	case VMAPP_TRANSPORT_ERROR:
		if (len < 5)
			return VMAPP_TRANSPORT_RULE_PAYLOAD_SIZE;
		f->error.code = vmapp_transport_le32(p);
		offset = 4;
		r = read_text(p, len, &offset, VMAPP_TRANSPORT_MAX_ERROR_TEXT, false, &slen);
		if (r != VMAPP_TRANSPORT_RULE_OK)
			return r;
		if (offset != len)
			return VMAPP_TRANSPORT_RULE_TRAILING_BYTES;
		f->error.text = (const char *)p + 4;
		f->error.text_len = slen;
		return VMAPP_TRANSPORT_RULE_OK;

	case VMAPP_TRANSPORT_OPEN:
	case VMAPP_TRANSPORT_LIST_APPS:
		return len == 0 ? VMAPP_TRANSPORT_RULE_OK : VMAPP_TRANSPORT_RULE_PAYLOAD_SIZE;

	case VMAPP_TRANSPORT_CLOSE:
		if (len != 4)
			return VMAPP_TRANSPORT_RULE_PAYLOAD_SIZE;
		f->close.reason = vmapp_transport_le32(p);
		return VMAPP_TRANSPORT_RULE_OK;

	case VMAPP_TRANSPORT_CREDIT:
		if (len != 4)
			return VMAPP_TRANSPORT_RULE_PAYLOAD_SIZE;
		f->credit.bytes = vmapp_transport_le32(p);
		if (f->credit.bytes == 0)
			return VMAPP_TRANSPORT_RULE_CREDIT_ZERO;
		return VMAPP_TRANSPORT_RULE_OK;

	case VMAPP_TRANSPORT_WAYLAND: {
		if (len < 4)
			return VMAPP_TRANSPORT_RULE_PAYLOAD_SIZE;
		uint32_t n = vmapp_transport_le32(p);
		if (n > VMAPP_TRANSPORT_MAX_FDS)
			return VMAPP_TRANSPORT_RULE_COUNT_LIMIT;
		if (4 + 4 * n > len)
			return VMAPP_TRANSPORT_RULE_COUNT_OVERFLOW;
		for (uint32_t i = 0; i < n; i++)
			if (vmapp_transport_le32(p + 4 + 4 * i) == 0)
				return VMAPP_TRANSPORT_RULE_REF_RANGE;
		uint32_t at = 4 + 4 * n;
		if (!whole_messages(p + at, len - at))
			return VMAPP_TRANSPORT_RULE_WAYLAND_MESSAGE;
		f->wayland.n_fds = n;
		f->wayland.refs = p + 4;
		f->wayland.data = p + at;
		f->wayland.size = len - at;
		return VMAPP_TRANSPORT_RULE_OK;
	}

	case VMAPP_TRANSPORT_SHM_CREATE:
	case VMAPP_TRANSPORT_SHM_RESIZE:
		if (len != 12)
			return VMAPP_TRANSPORT_RULE_PAYLOAD_SIZE;
		f->shm.ref = vmapp_transport_le32(p);
		f->shm.size = vmapp_transport_le64(p + 4);
		if (f->shm.ref == 0)
			return VMAPP_TRANSPORT_RULE_REF_RANGE;
		if (f->shm.size == 0 || f->shm.size > VMAPP_TRANSPORT_MAX_POOL)
			return VMAPP_TRANSPORT_RULE_SHM_SIZE;
		return VMAPP_TRANSPORT_RULE_OK;

	case VMAPP_TRANSPORT_SHM_UPDATE:
		if (len < 12)
			return VMAPP_TRANSPORT_RULE_PAYLOAD_SIZE;
		f->shm_update.ref = vmapp_transport_le32(p);
		f->shm_update.offset = vmapp_transport_le64(p + 4);
		if (f->shm_update.ref == 0)
			return VMAPP_TRANSPORT_RULE_REF_RANGE;
		/* offset + size in 64 bits may wrap: compare without adding. */
		if (f->shm_update.offset > UINT64_MAX - (len - 12))
			return VMAPP_TRANSPORT_RULE_SHM_RANGE;
		f->shm_update.data = p + 12;
		f->shm_update.size = len - 12;
		return VMAPP_TRANSPORT_RULE_OK;

	case VMAPP_TRANSPORT_SHM_DESTROY:
	case VMAPP_TRANSPORT_PIPE_END:
	case VMAPP_TRANSPORT_PIPE_CANCEL:
		if (len != 4)
			return VMAPP_TRANSPORT_RULE_PAYLOAD_SIZE;
		f->ref.ref = vmapp_transport_le32(p);
		if (f->ref.ref == 0)
			return VMAPP_TRANSPORT_RULE_REF_RANGE;
		return VMAPP_TRANSPORT_RULE_OK;

	case VMAPP_TRANSPORT_FD_CONTENT:
		if (len < 20)
			return VMAPP_TRANSPORT_RULE_PAYLOAD_SIZE;
		f->fd_content.ref = vmapp_transport_le32(p);
		f->fd_content.total = vmapp_transport_le64(p + 4);
		f->fd_content.offset = vmapp_transport_le64(p + 12);
		if (f->fd_content.ref == 0)
			return VMAPP_TRANSPORT_RULE_REF_RANGE;
		if (f->fd_content.offset > f->fd_content.total ||
		    len - 20 > f->fd_content.total - f->fd_content.offset)
			return VMAPP_TRANSPORT_RULE_CONTENT_SIZE;
		f->fd_content.data = p + 20;
		f->fd_content.size = len - 20;
		return VMAPP_TRANSPORT_RULE_OK;

	case VMAPP_TRANSPORT_PIPE_OPEN:
		if (len != 5)
			return VMAPP_TRANSPORT_RULE_PAYLOAD_SIZE;
		f->pipe_open.ref = vmapp_transport_le32(p);
		f->pipe_open.direction = p[4];
		if (f->pipe_open.ref == 0)
			return VMAPP_TRANSPORT_RULE_REF_RANGE;
		if (f->pipe_open.direction > VMAPP_TRANSPORT_PIPE_TO_CREATOR)
			return VMAPP_TRANSPORT_RULE_PIPE_DIRECTION;
		return VMAPP_TRANSPORT_RULE_OK;

	case VMAPP_TRANSPORT_PIPE_DATA:
		if (len < 4)
			return VMAPP_TRANSPORT_RULE_PAYLOAD_SIZE;
		f->pipe_data.ref = vmapp_transport_le32(p);
		if (f->pipe_data.ref == 0)
			return VMAPP_TRANSPORT_RULE_REF_RANGE;
		f->pipe_data.data = p + 4;
		f->pipe_data.size = len - 4;
		return VMAPP_TRANSPORT_RULE_OK;

	case VMAPP_TRANSPORT_RUN: {
		if (len < 12 || len > VMAPP_TRANSPORT_MAX_RUN_PAYLOAD)
			return VMAPP_TRANSPORT_RULE_PAYLOAD_SIZE;
		f->run.run_id = vmapp_transport_le32(p);
		f->run.argc = vmapp_transport_le32(p + 4);
		f->run.envc = vmapp_transport_le32(p + 8);
		if (f->run.argc == 0)
			return VMAPP_TRANSPORT_RULE_RUN_NO_ARGV;
		if (f->run.argc > VMAPP_TRANSPORT_MAX_ARGS || f->run.envc > VMAPP_TRANSPORT_MAX_ENV)
			return VMAPP_TRANSPORT_RULE_COUNT_LIMIT;
		offset = 12;
		for (uint32_t i = 0; i < f->run.argc + f->run.envc; i++) {
			uint32_t at = offset;
			r = read_string(p, len, &offset, &slen);
			if (r != VMAPP_TRANSPORT_RULE_OK)
				return r;
			if (i >= f->run.argc) {
				/* NAME=value with a name: "=x" or "x" would be
				 * read differently by execve and by getenv. */
				const void *eq = memchr(p + at, '=', slen);
				if (!eq || eq == p + at)
					return VMAPP_TRANSPORT_RULE_RUN_ENV;
			}
		}
		if (offset != len)
			return VMAPP_TRANSPORT_RULE_TRAILING_BYTES;
		f->run.strings = (const char *)p + 12;
		f->run.strings_size = len - 12;
		return VMAPP_TRANSPORT_RULE_OK;
	}

	case VMAPP_TRANSPORT_EXIT:
		if (len != 8)
			return VMAPP_TRANSPORT_RULE_PAYLOAD_SIZE;
		f->exit.run_id = vmapp_transport_le32(p);
		f->exit.status = (int32_t)vmapp_transport_le32(p + 4);
		if (!exit_status_ok(f->exit.status))
			return VMAPP_TRANSPORT_RULE_EXIT_STATUS;
		return VMAPP_TRANSPORT_RULE_OK;

	case VMAPP_TRANSPORT_SIGNAL:
		if (len != 8)
			return VMAPP_TRANSPORT_RULE_PAYLOAD_SIZE;
		f->signal.run_id = vmapp_transport_le32(p);
		f->signal.signo = vmapp_transport_le32(p + 4);
		if (!vmapp_transport_signal_ok(f->signal.signo))
			return VMAPP_TRANSPORT_RULE_SIGNAL_NUMBER;
		return VMAPP_TRANSPORT_RULE_OK;

	case VMAPP_TRANSPORT_OUTPUT:
		if (len <= 8 || len - 8 > VMAPP_TRANSPORT_MAX_OUTPUT)
			return VMAPP_TRANSPORT_RULE_PAYLOAD_SIZE;
		f->output.run_id = vmapp_transport_le32(p);
		f->output.stream = vmapp_transport_le32(p + 4);
		if (f->output.stream != 1 && f->output.stream != 2)
			return VMAPP_TRANSPORT_RULE_OUTPUT_STREAM;
		f->output.data = p + 8;
		f->output.size = len - 8;
		return VMAPP_TRANSPORT_RULE_OK;

	case VMAPP_TRANSPORT_OUTPUT_CREDIT:
		if (len != 8)
			return VMAPP_TRANSPORT_RULE_PAYLOAD_SIZE;
		f->output_credit.run_id = vmapp_transport_le32(p);
		f->output_credit.bytes = vmapp_transport_le32(p + 4);
		if (f->output_credit.bytes == 0)
			return VMAPP_TRANSPORT_RULE_CREDIT_ZERO;
		return VMAPP_TRANSPORT_RULE_OK;

	case VMAPP_TRANSPORT_APPS:
		if (len < 4)
			return VMAPP_TRANSPORT_RULE_PAYLOAD_SIZE;
		f->apps.count = vmapp_transport_le32(p);
		if (f->apps.count > VMAPP_TRANSPORT_MAX_APPS)
			return VMAPP_TRANSPORT_RULE_COUNT_LIMIT;
		offset = 4;
		/* count <= MAX_APPS, so the product fits; each string must be
		 * there, NUL-terminated, within the payload. */
		for (uint32_t i = 0; i < VMAPP_TRANSPORT_APP_STRINGS * f->apps.count; i++) {
			r = read_text(p, len, &offset, VMAPP_TRANSPORT_MAX_APP_STRING,
				      i % VMAPP_TRANSPORT_APP_STRINGS == 0, &slen);
			if (r != VMAPP_TRANSPORT_RULE_OK)
				return r;
		}
		if (offset != len)
			return VMAPP_TRANSPORT_RULE_TRAILING_BYTES;
		f->apps.strings = (const char *)p + 4;
		f->apps.strings_size = len - 4;
		return VMAPP_TRANSPORT_RULE_OK;
	}
	return VMAPP_TRANSPORT_RULE_KIND_UNKNOWN;
}

enum vmapp_transport_rule vmapp_transport_decode(const uint8_t *untrusted_data, size_t len,
						 struct vmapp_transport_frame *ret)
{
	uint32_t size;

	memset(ret, 0, sizeof(*ret));
	if (len >= VMAPP_TRANSPORT_HEADER_SIZE) {
		ret->channel = vmapp_transport_le32(untrusted_data);
		ret->kind = le16(untrusted_data + 4);
		ret->flags = le16(untrusted_data + 6);
		ret->length = vmapp_transport_le32(untrusted_data + 8);
		ret->payload = untrusted_data + VMAPP_TRANSPORT_HEADER_SIZE;
	}
	enum vmapp_transport_rule r = vmapp_transport_peek(untrusted_data, len, &size);
	if (r == VMAPP_TRANSPORT_RULE_OK)
		r = decode_payload(ret);
	ret->rule = r;
	return r;
}

/* Connection state. */

void vmapp_transport_limits_default(struct vmapp_transport_limits *ret)
{
	*ret = (struct vmapp_transport_limits){
		.max_payload = VMAPP_TRANSPORT_MAX_PAYLOAD,
		.max_channels = VMAPP_TRANSPORT_DEFAULT_CHANNELS,
		.initial_credit = VMAPP_TRANSPORT_DEFAULT_CREDIT,
		.max_refs = VMAPP_TRANSPORT_DEFAULT_REFS,
		.shm_bytes = VMAPP_TRANSPORT_DEFAULT_SHM_BYTES,
	};
}

int vmapp_transport_init(struct vmapp_transport_state *state, enum vmapp_transport_role role,
			 const struct vmapp_transport_limits *limits)
{
	memset(state, 0, sizeof(*state));
	if (limits)
		state->limits = *limits;
	else
		vmapp_transport_limits_default(&state->limits);
	if ((role != VMAPP_TRANSPORT_HOST && role != VMAPP_TRANSPORT_GUEST) ||
	    !hello_limits_ok(state->limits.max_payload, state->limits.max_channels,
			     state->limits.initial_credit) ||
	    state->limits.max_refs == 0)
		return -EINVAL;
	state->role = role;
	return 0;
}

static void channel_forget(struct vmapp_transport_state *state, struct vmapp_transport_channel *ch)
{
	for (uint32_t i = 0; i < ch->n_refs; i++) {
		const struct vmapp_transport_ref *r = &ch->refs[i];
		if (!r->ours && r->type != VMAPP_TRANSPORT_REF_PIPE)
			state->shm_bytes -= r->size;
	}
	free(ch->refs);
	ch->refs = NULL;
	ch->n_refs = ch->cap_refs = 0;
	ch->n_peer_refs = ch->n_own_refs = 0;
}

void vmapp_transport_finish(struct vmapp_transport_state *state)
{
	if (state->channels)
		for (uint32_t i = 1; i <= state->n_channels; i++)
			channel_forget(state, &state->channels[i]);
	free(state->channels);
	memset(state, 0, sizeof(*state));
}

bool vmapp_transport_ready(const struct vmapp_transport_state *state)
{
	return state->hello_sent && state->hello_received && !state->closed;
}

static void channel_open(const struct vmapp_transport_state *state,
			 struct vmapp_transport_channel *ch)
{
	ch->state = VMAPP_TRANSPORT_CHANNEL_OPEN;
	ch->send_credit = state->peer.initial_credit;
	ch->recv_credit = state->limits.initial_credit;
	ch->held = ch->due = 0;
}

static struct vmapp_transport_channel *channel_get(struct vmapp_transport_state *state,
						   uint32_t channel)
{
	if (!state->channels || channel == 0 || channel > state->n_channels)
		return NULL;
	return &state->channels[channel];
}

enum vmapp_transport_channel_state
vmapp_transport_channel_state(const struct vmapp_transport_state *state, uint32_t channel)
{
	if (!state->channels || channel == 0 || channel > state->n_channels)
		return VMAPP_TRANSPORT_CHANNEL_FREE;
	return state->channels[channel].state;
}

uint32_t vmapp_transport_next_channel(const struct vmapp_transport_state *state)
{
	if (!vmapp_transport_ready(state))
		return 0;
	for (uint32_t i = 1; i <= state->n_channels; i++)
		if (state->channels[i].state == VMAPP_TRANSPORT_CHANNEL_FREE)
			return i;
	return 0;
}

/* Refs: an unordered array per channel, at most 2 * max_refs long, so a
 * linear search costs at most a few thousand compares. */

static struct vmapp_transport_ref *ref_find(struct vmapp_transport_channel *ch, uint32_t ref)
{
	for (uint32_t i = 0; i < ch->n_refs; i++)
		if (ch->refs[i].ref == ref)
			return &ch->refs[i];
	return NULL;
}

const struct vmapp_transport_ref *
vmapp_transport_ref_get(const struct vmapp_transport_state *state, uint32_t channel, uint32_t ref)
{
	if (!state->channels || channel == 0 || channel > state->n_channels)
		return NULL;
	const struct vmapp_transport_channel *ch = &state->channels[channel];
	for (uint32_t i = 0; i < ch->n_refs; i++)
		if (ch->refs[i].ref == ref)
			return &ch->refs[i];
	return NULL;
}

static struct vmapp_transport_ref *ref_add(struct vmapp_transport_channel *ch, uint32_t ref,
					   uint8_t type, bool ours)
{
	if (ch->n_refs == ch->cap_refs) {
		uint32_t cap = ch->cap_refs ? 2 * ch->cap_refs : 8;
		struct vmapp_transport_ref *refs = realloc(ch->refs, cap * sizeof(*refs));
		if (!refs)
			return NULL;
		ch->refs = refs;
		ch->cap_refs = cap;
	}
	struct vmapp_transport_ref *r = &ch->refs[ch->n_refs++];
	memset(r, 0, sizeof(*r));
	r->ref = ref;
	r->type = type;
	r->ours = ours;
	if (ours)
		ch->n_own_refs++;
	else
		ch->n_peer_refs++;
	return r;
}

static void ref_remove(struct vmapp_transport_state *state, struct vmapp_transport_channel *ch,
		       struct vmapp_transport_ref *r)
{
	if (r->ours) {
		ch->n_own_refs--;
	} else {
		ch->n_peer_refs--;
		if (r->type != VMAPP_TRANSPORT_REF_PIPE)
			state->shm_bytes -= r->size;
	}
	*r = ch->refs[--ch->n_refs];
}

/* Whether `ref` is in the range of the side that created it. */
static bool ref_in_range(enum vmapp_transport_role creator, uint32_t ref)
{
	if (creator == VMAPP_TRANSPORT_GUEST)
		return ref >= 1 && ref <= VMAPP_TRANSPORT_GUEST_REF_LAST;
	return ref >= VMAPP_TRANSPORT_HOST_REF_FIRST;
}

static enum vmapp_transport_role peer_role(const struct vmapp_transport_state *state)
{
	return state->role == VMAPP_TRANSPORT_HOST ? VMAPP_TRANSPORT_GUEST : VMAPP_TRANSPORT_HOST;
}

/* The checks shared by every frame that creates a ref of the peer's. */
static enum vmapp_transport_rule peer_ref_new(const struct vmapp_transport_state *state,
					      struct vmapp_transport_channel *ch, uint32_t ref)
{
	if (!ref_in_range(peer_role(state), ref))
		return VMAPP_TRANSPORT_RULE_REF_RANGE;
	if (ref_find(ch, ref))
		return VMAPP_TRANSPORT_RULE_REF_IN_USE;
	if (ch->n_peer_refs >= state->limits.max_refs)
		return VMAPP_TRANSPORT_RULE_LIMIT_REFS;
	return VMAPP_TRANSPORT_RULE_OK;
}

/* A live ref of the peer's of this type, named by a frame. */
static enum vmapp_transport_rule peer_ref(struct vmapp_transport_channel *ch, uint32_t ref,
					  uint8_t type, struct vmapp_transport_ref **ret)
{
	struct vmapp_transport_ref *r = ref_find(ch, ref);
	if (!r)
		return VMAPP_TRANSPORT_RULE_REF_UNKNOWN;
	if (r->type != type)
		return VMAPP_TRANSPORT_RULE_REF_TYPE;
	if (r->ours)
		return VMAPP_TRANSPORT_RULE_REF_OWNER;
	*ret = r;
	return VMAPP_TRANSPORT_RULE_OK;
}

static bool shm_budget(const struct vmapp_transport_state *state, uint64_t more)
{
	return more <= state->limits.shm_bytes - state->shm_bytes;
}

static enum vmapp_transport_rule lose_connection(struct vmapp_transport_state *state,
						 enum vmapp_transport_rule rule,
						 enum vmapp_transport_action *ret_action)
{
	state->closed = true;
	*ret_action = VMAPP_TRANSPORT_CLOSE_CONNECTION;
	return rule;
}

static enum vmapp_transport_rule drop(enum vmapp_transport_rule rule,
				      enum vmapp_transport_action *ret_action)
{
	*ret_action = VMAPP_TRANSPORT_DROP;
	return rule;
}

static enum vmapp_transport_rule receive_hello(struct vmapp_transport_state *state,
					       const struct vmapp_transport_frame *f,
					       enum vmapp_transport_action *ret_action)
{
	state->peer.max_payload = f->hello.max_payload;
	state->peer.max_channels = f->hello.max_channels;
	state->peer.initial_credit = f->hello.initial_credit;
	uint32_t n = state->limits.max_channels < f->hello.max_channels ? state->limits.max_channels
									 : f->hello.max_channels;
	state->channels = calloc((size_t)n + 1, sizeof(*state->channels));
	if (!state->channels)
		return lose_connection(state, VMAPP_TRANSPORT_RULE_NO_MEMORY, ret_action);
	state->n_channels = n;
	state->hello_received = true;
	return VMAPP_TRANSPORT_RULE_OK;
}

static int run_find(const struct vmapp_transport_state *state, uint32_t run_id)
{
	for (uint32_t i = 0; i < state->n_runs; i++)
		if (state->runs[i] == run_id)
			return (int)i;
	return -1;
}

static void run_add(struct vmapp_transport_state *state, uint32_t run_id)
{
	state->output_credit[state->n_runs] = VMAPP_TRANSPORT_MAX_OUTPUT_CREDIT;
	state->runs[state->n_runs++] = run_id;
}

static void run_remove(struct vmapp_transport_state *state, int i)
{
	state->n_runs--;
	state->runs[i] = state->runs[state->n_runs];
	state->output_credit[i] = state->output_credit[state->n_runs];
}

uint32_t vmapp_transport_output_credit(const struct vmapp_transport_state *state,
				       uint32_t run_id)
{
	int i = run_find(state, run_id);
	return i < 0 ? 0 : state->output_credit[i];
}

/* Channel 0: every refusal costs the connection. */
static enum vmapp_transport_rule receive_control(struct vmapp_transport_state *state,
						 const struct vmapp_transport_frame *f,
						 enum vmapp_transport_action *ret_action)
{
	bool host = state->role == VMAPP_TRANSPORT_HOST;
	enum vmapp_transport_rule r = f->rule;
	int i;

	if (r != VMAPP_TRANSPORT_RULE_OK)
		return lose_connection(state, r, ret_action);
	switch (f->kind) {
	case VMAPP_TRANSPORT_HELLO:
		return lose_connection(state, VMAPP_TRANSPORT_RULE_HELLO_DUPLICATE, ret_action);
	case VMAPP_TRANSPORT_ERROR:
		/* The peer says why it goes; nothing follows. */
		state->closed = true;
		return VMAPP_TRANSPORT_RULE_OK;
	case VMAPP_TRANSPORT_RUN:
		if (host)
			return lose_connection(state, VMAPP_TRANSPORT_RULE_KIND_DIRECTION, ret_action);
		if (run_find(state, f->run.run_id) >= 0)
			return lose_connection(state, VMAPP_TRANSPORT_RULE_RUN_ID_IN_USE, ret_action);
		if (state->n_runs >= VMAPP_TRANSPORT_MAX_RUNS)
			return lose_connection(state, VMAPP_TRANSPORT_RULE_LIMIT_REQUESTS, ret_action);
		run_add(state, f->run.run_id);
		return VMAPP_TRANSPORT_RULE_OK;
	case VMAPP_TRANSPORT_EXIT:
		if (!host)
			return lose_connection(state, VMAPP_TRANSPORT_RULE_KIND_DIRECTION, ret_action);
		i = run_find(state, f->exit.run_id);
		if (i < 0)
			return lose_connection(state, VMAPP_TRANSPORT_RULE_RUN_UNKNOWN, ret_action);
		run_remove(state, i);
		return VMAPP_TRANSPORT_RULE_OK;
	case VMAPP_TRANSPORT_LIST_APPS:
		if (host)
			return lose_connection(state, VMAPP_TRANSPORT_RULE_KIND_DIRECTION, ret_action);
		if (state->lists >= VMAPP_TRANSPORT_MAX_LISTS)
			return lose_connection(state, VMAPP_TRANSPORT_RULE_LIMIT_REQUESTS, ret_action);
		state->lists++;
		return VMAPP_TRANSPORT_RULE_OK;
	case VMAPP_TRANSPORT_APPS:
		if (!host)
			return lose_connection(state, VMAPP_TRANSPORT_RULE_KIND_DIRECTION, ret_action);
		if (state->lists == 0)
			return lose_connection(state, VMAPP_TRANSPORT_RULE_APPS_UNSOLICITED, ret_action);
		state->lists--;
		return VMAPP_TRANSPORT_RULE_OK;
	case VMAPP_TRANSPORT_SIGNAL:
		if (host)
			return lose_connection(state, VMAPP_TRANSPORT_RULE_KIND_DIRECTION, ret_action);
		/* The run's EXIT may have crossed the SIGNAL on the wire: the
		 * host could not know, so it is no error. */
		if (run_find(state, f->signal.run_id) < 0)
			return drop(VMAPP_TRANSPORT_RULE_OK, ret_action);
		return VMAPP_TRANSPORT_RULE_OK;
	case VMAPP_TRANSPORT_OUTPUT:
		if (!host)
			return lose_connection(state, VMAPP_TRANSPORT_RULE_KIND_DIRECTION, ret_action);
		/* The guest sends a run's output before its EXIT, never after. */
		i = run_find(state, f->output.run_id);
		if (i < 0)
			return lose_connection(state, VMAPP_TRANSPORT_RULE_RUN_UNKNOWN, ret_action);
		if (f->output.size > state->output_credit[i])
			return lose_connection(state, VMAPP_TRANSPORT_RULE_CREDIT_EXCEEDED, ret_action);
		state->output_credit[i] -= f->output.size;
		return VMAPP_TRANSPORT_RULE_OK;
	case VMAPP_TRANSPORT_OUTPUT_CREDIT:
		if (host)
			return lose_connection(state, VMAPP_TRANSPORT_RULE_KIND_DIRECTION, ret_action);
		/* The run's EXIT may have crossed it: no error. */
		i = run_find(state, f->output_credit.run_id);
		if (i < 0)
			return drop(VMAPP_TRANSPORT_RULE_OK, ret_action);
		if (f->output_credit.bytes > VMAPP_TRANSPORT_MAX_OUTPUT_CREDIT - state->output_credit[i])
			return lose_connection(state, VMAPP_TRANSPORT_RULE_CREDIT_OVERFLOW, ret_action);
		state->output_credit[i] += f->output_credit.bytes;
		return VMAPP_TRANSPORT_RULE_OK;
	}
	/* decode_payload let only control kinds through on channel 0. */
	return lose_connection(state, VMAPP_TRANSPORT_RULE_KIND_CHANNEL, ret_action);
}

static enum vmapp_transport_rule receive_wayland(struct vmapp_transport_state *state,
						 struct vmapp_transport_channel *ch,
						 const struct vmapp_transport_frame *f)
{
	uint32_t n = f->wayland.n_fds;

	/* Every ref first, so that a refused frame changes nothing. */
	for (uint32_t i = 0; i < n; i++) {
		uint32_t ref = vmapp_transport_frame_fd_ref(f, i);
		struct vmapp_transport_ref *r = ref_find(ch, ref);
		if (!r)
			return VMAPP_TRANSPORT_RULE_REF_UNKNOWN;
		if (r->ours)
			return VMAPP_TRANSPORT_RULE_REF_OWNER;
		if (r->type == VMAPP_TRANSPORT_REF_CONTENT && r->filled < r->size)
			return VMAPP_TRANSPORT_RULE_CONTENT_INCOMPLETE;
		if (r->type == VMAPP_TRANSPORT_REF_PIPE && r->passed)
			return VMAPP_TRANSPORT_RULE_REF_PASSED;
		/* A content or pipe becomes one fd, passed once. */
		if (r->type != VMAPP_TRANSPORT_REF_SHM)
			for (uint32_t k = 0; k < i; k++)
				if (vmapp_transport_frame_fd_ref(f, k) == ref)
					return VMAPP_TRANSPORT_RULE_REF_PASSED;
	}
	for (uint32_t i = 0; i < n; i++) {
		struct vmapp_transport_ref *r = ref_find(ch, vmapp_transport_frame_fd_ref(f, i));
		if (r->type == VMAPP_TRANSPORT_REF_CONTENT)
			ref_remove(state, ch, r);
		else if (r->type == VMAPP_TRANSPORT_REF_PIPE)
			r->passed = true;
	}
	return VMAPP_TRANSPORT_RULE_OK;
}

static enum vmapp_transport_rule receive_fd_content(struct vmapp_transport_state *state,
						    struct vmapp_transport_channel *ch,
						    const struct vmapp_transport_frame *f)
{
	struct vmapp_transport_ref *r = ref_find(ch, f->fd_content.ref);
	enum vmapp_transport_rule rule;

	if (!r) {
		rule = peer_ref_new(state, ch, f->fd_content.ref);
		if (rule != VMAPP_TRANSPORT_RULE_OK)
			return rule;
		if (f->fd_content.offset != 0)
			return VMAPP_TRANSPORT_RULE_CONTENT_OFFSET;
		if (!shm_budget(state, f->fd_content.total))
			return VMAPP_TRANSPORT_RULE_LIMIT_SHM;
		r = ref_add(ch, f->fd_content.ref, VMAPP_TRANSPORT_REF_CONTENT, false);
		if (!r)
			return VMAPP_TRANSPORT_RULE_NO_MEMORY;
		r->size = f->fd_content.total;
		r->filled = f->fd_content.size;
		state->shm_bytes += r->size;
		return VMAPP_TRANSPORT_RULE_OK;
	}
	/* A live ref of another type, or a content already complete: the
	 * number is taken. */
	if (r->type != VMAPP_TRANSPORT_REF_CONTENT || r->ours || r->filled == r->size)
		return VMAPP_TRANSPORT_RULE_REF_IN_USE;
	if (f->fd_content.total != r->size)
		return VMAPP_TRANSPORT_RULE_CONTENT_SIZE;
	if (f->fd_content.offset != r->filled)
		return VMAPP_TRANSPORT_RULE_CONTENT_OFFSET;
	r->filled += f->fd_content.size;
	return VMAPP_TRANSPORT_RULE_OK;
}

/* A frame on an OPEN channel.  DELIVER unless *ret_action says otherwise. */
static enum vmapp_transport_rule receive_open_channel(struct vmapp_transport_state *state,
						      struct vmapp_transport_channel *ch,
						      const struct vmapp_transport_frame *f,
						      enum vmapp_transport_action *ret_action)
{
	bool from_guest = state->role == VMAPP_TRANSPORT_HOST;
	bool data = vmapp_transport_kind_is_data(f->kind);
	struct vmapp_transport_ref *r = NULL;
	enum vmapp_transport_rule rule = VMAPP_TRANSPORT_RULE_OK;

	if (data && f->length > ch->recv_credit)
		return VMAPP_TRANSPORT_RULE_CREDIT_EXCEEDED;

	switch (f->kind) {
	case VMAPP_TRANSPORT_OPEN:
		return VMAPP_TRANSPORT_RULE_CHANNEL_IN_USE;
	case VMAPP_TRANSPORT_CLOSE:
		channel_forget(state, ch);
		ch->state = VMAPP_TRANSPORT_CHANNEL_PEER_CLOSED;
		return VMAPP_TRANSPORT_RULE_OK;
	case VMAPP_TRANSPORT_CREDIT:
		/* The window never grows past what the peer announced. */
		if ((uint64_t)ch->send_credit + f->credit.bytes > state->peer.initial_credit)
			return VMAPP_TRANSPORT_RULE_CREDIT_OVERFLOW;
		ch->send_credit += f->credit.bytes;
		return VMAPP_TRANSPORT_RULE_OK;
	case VMAPP_TRANSPORT_WAYLAND:
		rule = receive_wayland(state, ch, f);
		break;
	case VMAPP_TRANSPORT_SHM_CREATE:
		if (!from_guest)
			return VMAPP_TRANSPORT_RULE_KIND_DIRECTION;
		rule = peer_ref_new(state, ch, f->shm.ref);
		if (rule != VMAPP_TRANSPORT_RULE_OK)
			return rule;
		if (!shm_budget(state, f->shm.size))
			return VMAPP_TRANSPORT_RULE_LIMIT_SHM;
		r = ref_add(ch, f->shm.ref, VMAPP_TRANSPORT_REF_SHM, false);
		if (!r)
			return VMAPP_TRANSPORT_RULE_NO_MEMORY;
		r->size = f->shm.size;
		state->shm_bytes += r->size;
		return VMAPP_TRANSPORT_RULE_OK;
	case VMAPP_TRANSPORT_SHM_RESIZE:
		if (!from_guest)
			return VMAPP_TRANSPORT_RULE_KIND_DIRECTION;
		rule = peer_ref(ch, f->shm.ref, VMAPP_TRANSPORT_REF_SHM, &r);
		if (rule != VMAPP_TRANSPORT_RULE_OK)
			return rule;
		/* As wl_shm_pool.resize: a mapping may only grow. */
		if (f->shm.size < r->size)
			return VMAPP_TRANSPORT_RULE_SHM_SHRINK;
		if (!shm_budget(state, f->shm.size - r->size))
			return VMAPP_TRANSPORT_RULE_LIMIT_SHM;
		state->shm_bytes += f->shm.size - r->size;
		r->size = f->shm.size;
		return VMAPP_TRANSPORT_RULE_OK;
	case VMAPP_TRANSPORT_SHM_UPDATE:
		if (!from_guest)
			return VMAPP_TRANSPORT_RULE_KIND_DIRECTION;
		rule = peer_ref(ch, f->shm_update.ref, VMAPP_TRANSPORT_REF_SHM, &r);
		if (rule != VMAPP_TRANSPORT_RULE_OK)
			return rule;
		/* decode made sure offset + size does not wrap. */
		if (f->shm_update.offset + f->shm_update.size > r->size)
			return VMAPP_TRANSPORT_RULE_SHM_RANGE;
		break;
	case VMAPP_TRANSPORT_SHM_DESTROY:
		if (!from_guest)
			return VMAPP_TRANSPORT_RULE_KIND_DIRECTION;
		rule = peer_ref(ch, f->ref.ref, VMAPP_TRANSPORT_REF_SHM, &r);
		if (rule != VMAPP_TRANSPORT_RULE_OK)
			return rule;
		ref_remove(state, ch, r);
		return VMAPP_TRANSPORT_RULE_OK;
	case VMAPP_TRANSPORT_FD_CONTENT:
		if (from_guest)
			return VMAPP_TRANSPORT_RULE_KIND_DIRECTION;
		rule = receive_fd_content(state, ch, f);
		break;
	case VMAPP_TRANSPORT_PIPE_OPEN:
		rule = peer_ref_new(state, ch, f->pipe_open.ref);
		if (rule != VMAPP_TRANSPORT_RULE_OK)
			return rule;
		r = ref_add(ch, f->pipe_open.ref, VMAPP_TRANSPORT_REF_PIPE, false);
		if (!r)
			return VMAPP_TRANSPORT_RULE_NO_MEMORY;
		r->we_write = f->pipe_open.direction == VMAPP_TRANSPORT_PIPE_TO_CREATOR;
		return VMAPP_TRANSPORT_RULE_OK;
	case VMAPP_TRANSPORT_PIPE_DATA:
		r = ref_find(ch, f->pipe_data.ref);
		if (!r)
			return VMAPP_TRANSPORT_RULE_REF_UNKNOWN;
		if (r->type != VMAPP_TRANSPORT_REF_PIPE)
			return VMAPP_TRANSPORT_RULE_REF_TYPE;
		if (r->we_write)
			return VMAPP_TRANSPORT_RULE_PIPE_DIRECTION;
		if (r->got_term)
			return VMAPP_TRANSPORT_RULE_PIPE_ENDED;
		/* Sent before the peer saw this side's CANCEL. */
		if (r->sent_term)
			*ret_action = VMAPP_TRANSPORT_DROP;
		break;
	case VMAPP_TRANSPORT_PIPE_END:
	case VMAPP_TRANSPORT_PIPE_CANCEL:
		r = ref_find(ch, f->ref.ref);
		if (!r)
			return VMAPP_TRANSPORT_RULE_REF_UNKNOWN;
		if (r->type != VMAPP_TRANSPORT_REF_PIPE)
			return VMAPP_TRANSPORT_RULE_REF_TYPE;
		/* END comes from the writer, CANCEL from the reader. */
		if (r->we_write != (f->kind == VMAPP_TRANSPORT_PIPE_CANCEL))
			return VMAPP_TRANSPORT_RULE_PIPE_DIRECTION;
		if (r->got_term)
			return VMAPP_TRANSPORT_RULE_PIPE_ENDED;
		r->got_term = true;
		if (r->sent_term)
			ref_remove(state, ch, r);
		return VMAPP_TRANSPORT_RULE_OK;
	default:
		/* decode_payload let only channel kinds through here. */
		return VMAPP_TRANSPORT_RULE_KIND_CHANNEL;
	}
	if (rule != VMAPP_TRANSPORT_RULE_OK)
		return rule;
	/* A data frame, accepted: it holds its credit until consumed; a
	 * dropped one is consumed now. */
	ch->recv_credit -= f->length;
	if (*ret_action == VMAPP_TRANSPORT_DROP)
		ch->due += f->length;
	else
		ch->held += f->length;
	return VMAPP_TRANSPORT_RULE_OK;
}

static enum vmapp_transport_rule receive_channel(struct vmapp_transport_state *state,
						 const struct vmapp_transport_frame *f,
						 enum vmapp_transport_action *ret_action)
{
	struct vmapp_transport_channel *ch = &state->channels[f->channel];
	enum vmapp_transport_rule rule = f->rule;

	switch (ch->state) {
	case VMAPP_TRANSPORT_CHANNEL_FREE:
		if (f->kind != VMAPP_TRANSPORT_OPEN)
			return drop(VMAPP_TRANSPORT_RULE_CHANNEL_NOT_OPEN, ret_action);
		if (rule == VMAPP_TRANSPORT_RULE_OK && state->role != VMAPP_TRANSPORT_HOST)
			rule = VMAPP_TRANSPORT_RULE_KIND_DIRECTION;
		if (rule != VMAPP_TRANSPORT_RULE_OK) {
			/* The opener believes the channel open: its CLOSE
			 * tells it otherwise. */
			ch->state = VMAPP_TRANSPORT_CHANNEL_LOST;
			*ret_action = VMAPP_TRANSPORT_CLOSE_CHANNEL;
			return rule;
		}
		channel_open(state, ch);
		return VMAPP_TRANSPORT_RULE_OK;

	case VMAPP_TRANSPORT_CHANNEL_CLOSING:
	case VMAPP_TRANSPORT_CHANNEL_LOST:
		/* Whatever the peer sent before it saw this side's CLOSE goes,
		 * but its CLOSE, even a malformed one, ends the handshake: an
		 * id must not stay stuck. */
		if (f->kind == VMAPP_TRANSPORT_CLOSE) {
			ch->state = ch->state == VMAPP_TRANSPORT_CHANNEL_CLOSING
					    ? VMAPP_TRANSPORT_CHANNEL_FREE
					    : VMAPP_TRANSPORT_CHANNEL_PEER_CLOSED;
			return drop(rule, ret_action);
		}
		if (f->kind == VMAPP_TRANSPORT_OPEN)
			return drop(VMAPP_TRANSPORT_RULE_CHANNEL_IN_USE, ret_action);
		return drop(VMAPP_TRANSPORT_RULE_OK, ret_action);

	case VMAPP_TRANSPORT_CHANNEL_PEER_CLOSED:
		/* The peer said it sends nothing more here until the ack. */
		if (f->kind == VMAPP_TRANSPORT_OPEN)
			return drop(VMAPP_TRANSPORT_RULE_CHANNEL_IN_USE, ret_action);
		return drop(VMAPP_TRANSPORT_RULE_CHANNEL_NOT_OPEN, ret_action);

	case VMAPP_TRANSPORT_CHANNEL_OPEN:
		if (rule == VMAPP_TRANSPORT_RULE_OK)
			rule = receive_open_channel(state, ch, f, ret_action);
		if (rule != VMAPP_TRANSPORT_RULE_OK) {
			channel_forget(state, ch);
			ch->state = VMAPP_TRANSPORT_CHANNEL_LOST;
			*ret_action = VMAPP_TRANSPORT_CLOSE_CHANNEL;
		}
		return rule;
	}
	return lose_connection(state, VMAPP_TRANSPORT_RULE_CHANNEL_RANGE, ret_action);
}

enum vmapp_transport_rule vmapp_transport_receive(struct vmapp_transport_state *state,
						  const struct vmapp_transport_frame *frame,
						  enum vmapp_transport_action *ret_action)
{
	enum vmapp_transport_rule rule = frame->rule;

	*ret_action = VMAPP_TRANSPORT_DELIVER;
	if (state->closed)
		return lose_connection(state, VMAPP_TRANSPORT_RULE_CONNECTION_CLOSED, ret_action);
	switch (rule) {
	case VMAPP_TRANSPORT_RULE_HEADER_TRUNCATED:
	case VMAPP_TRANSPORT_RULE_FRAME_TRUNCATED:
	case VMAPP_TRANSPORT_RULE_FRAME_FLAGS:
	case VMAPP_TRANSPORT_RULE_FRAME_TOO_LARGE:
		return lose_connection(state, rule, ret_action);
	default:
		break;
	}
	/* What this side announced it accepts; peek only knew the protocol's
	 * ceiling. */
	if (frame->length > state->limits.max_payload)
		return lose_connection(state, VMAPP_TRANSPORT_RULE_FRAME_TOO_LARGE, ret_action);

	if (!state->hello_received) {
		if (frame->channel == 0 && frame->kind == VMAPP_TRANSPORT_ERROR)
			return receive_control(state, frame, ret_action);
		if (frame->channel != 0 || frame->kind != VMAPP_TRANSPORT_HELLO)
			return lose_connection(state, VMAPP_TRANSPORT_RULE_HANDSHAKE_MISSING,
					       ret_action);
		if (rule != VMAPP_TRANSPORT_RULE_OK)
			return lose_connection(state, rule, ret_action);
		return receive_hello(state, frame, ret_action);
	}
	if (frame->channel == 0)
		return receive_control(state, frame, ret_action);
	if (frame->channel > state->n_channels)
		return lose_connection(state, VMAPP_TRANSPORT_RULE_CHANNEL_RANGE, ret_action);
	return receive_channel(state, frame, ret_action);
}

int vmapp_transport_consume(struct vmapp_transport_state *state, uint32_t channel, uint32_t bytes)
{
	struct vmapp_transport_channel *ch = channel_get(state, channel);
	if (!ch || ch->state != VMAPP_TRANSPORT_CHANNEL_OPEN)
		return 0;
	if (bytes > ch->held)
		return -EINVAL;
	ch->held -= bytes;
	ch->due += bytes;
	return 0;
}

uint32_t vmapp_transport_send_room(const struct vmapp_transport_state *state, uint32_t channel)
{
	if (!vmapp_transport_ready(state) ||
	    vmapp_transport_channel_state(state, channel) != VMAPP_TRANSPORT_CHANNEL_OPEN)
		return 0;
	uint32_t credit = state->channels[channel].send_credit;
	return credit < state->peer.max_payload ? credit : state->peer.max_payload;
}

/* Sending. */

int vmapp_transport_append_frame(struct vmapp_buf *out, uint32_t channel, uint16_t kind,
				 uint16_t flags, const void *payload, size_t len)
{
	if (len > UINT32_MAX)
		return -EMSGSIZE;
	uint8_t *p = vmapp_buf_reserve(out, VMAPP_TRANSPORT_HEADER_SIZE + len);
	if (!p)
		return -ENOMEM;
	put32(p, channel);
	put16(p + 4, kind);
	put16(p + 6, flags);
	put32(p + 8, (uint32_t)len);
	if (len)
		memcpy(p + VMAPP_TRANSPORT_HEADER_SIZE, payload, len);
	out->len += VMAPP_TRANSPORT_HEADER_SIZE + len;
	return 0;
}

/* Room for a frame with a `len`-byte payload, its header written; the
 * caller fills the payload, then frame_commit().  NULL on ENOMEM. */
static uint8_t *frame_begin(struct vmapp_buf *out, uint32_t channel, uint16_t kind, uint32_t len)
{
	uint8_t *p = vmapp_buf_reserve(out, VMAPP_TRANSPORT_HEADER_SIZE + (size_t)len);
	if (!p)
		return NULL;
	put32(p, channel);
	put16(p + 4, kind);
	put16(p + 6, 0);
	put32(p + 8, len);
	return p + VMAPP_TRANSPORT_HEADER_SIZE;
}

static void frame_commit(struct vmapp_buf *out, uint32_t len)
{
	out->len += VMAPP_TRANSPORT_HEADER_SIZE + (size_t)len;
}

/* A channel this side may send on now, or -errno. */
static int open_channel(struct vmapp_transport_state *state, uint32_t channel,
			struct vmapp_transport_channel **ret)
{
	if (!vmapp_transport_ready(state))
		return -ENOTCONN;
	struct vmapp_transport_channel *ch = channel_get(state, channel);
	if (!ch)
		return -EINVAL;
	if (ch->state != VMAPP_TRANSPORT_CHANNEL_OPEN)
		return -EPIPE;
	*ret = ch;
	return 0;
}

/* Whether a data frame of `len` payload bytes may go now. */
static int data_room(const struct vmapp_transport_state *state,
		     const struct vmapp_transport_channel *ch, uint64_t len)
{
	if (len > state->peer.max_payload || len > state->peer.initial_credit)
		return -EMSGSIZE;
	if (len > ch->send_credit)
		return -EAGAIN;
	return 0;
}

/* A live ref this side created, of this type. */
static int own_ref(struct vmapp_transport_channel *ch, uint32_t ref, uint8_t type,
		   struct vmapp_transport_ref **ret)
{
	struct vmapp_transport_ref *r = ref_find(ch, ref);
	if (!r || !r->ours || r->type != type)
		return -ENOENT;
	*ret = r;
	return 0;
}

static int own_ref_new(const struct vmapp_transport_state *state,
		       struct vmapp_transport_channel *ch, uint32_t ref)
{
	if (!ref_in_range(state->role, ref))
		return -EINVAL;
	if (ref_find(ch, ref))
		return -EEXIST;
	if (ch->n_own_refs >= state->limits.max_refs)
		return -ENOSPC;
	return 0;
}

int vmapp_transport_send_hello(struct vmapp_transport_state *state, struct vmapp_buf *out)
{
	if (state->closed)
		return -ENOTCONN;
	if (state->hello_sent)
		return -EALREADY;
	uint8_t *p = frame_begin(out, 0, VMAPP_TRANSPORT_HELLO, 20);
	if (!p)
		return -ENOMEM;
	put32(p, VMAPP_TRANSPORT_MAGIC);
	put32(p + 4, VMAPP_TRANSPORT_VERSION);
	put32(p + 8, state->limits.max_payload);
	put32(p + 12, state->limits.max_channels);
	put32(p + 16, state->limits.initial_credit);
	frame_commit(out, 20);
	state->hello_sent = true;
	return 0;
}

int vmapp_transport_send_error(struct vmapp_transport_state *state, struct vmapp_buf *out,
			       uint32_t code, const char *text)
{
	if (state->error_sent)
		return -EALREADY;
	size_t n = text ? strlen(text) : 0;
	if (n > VMAPP_TRANSPORT_MAX_ERROR_TEXT || !vmapp_utf8_valid(text ? text : "", n))
		return -EINVAL;
	uint32_t len = 4 + (uint32_t)n + 1;
	uint8_t *p = frame_begin(out, 0, VMAPP_TRANSPORT_ERROR, len);
	if (!p)
		return -ENOMEM;
	put32(p, code);
	if (n)
		memcpy(p + 4, text, n);
	p[4 + n] = '\0';
	frame_commit(out, len);
	state->closed = state->error_sent = true;
	return 0;
}

int vmapp_transport_send_open(struct vmapp_transport_state *state, struct vmapp_buf *out,
			      uint32_t channel)
{
	if (state->role != VMAPP_TRANSPORT_GUEST)
		return -EPERM;
	if (!vmapp_transport_ready(state))
		return -ENOTCONN;
	struct vmapp_transport_channel *ch = channel_get(state, channel);
	if (!ch)
		return -EINVAL;
	if (ch->state != VMAPP_TRANSPORT_CHANNEL_FREE)
		return -EEXIST;
	if (!frame_begin(out, channel, VMAPP_TRANSPORT_OPEN, 0))
		return -ENOMEM;
	frame_commit(out, 0);
	channel_open(state, ch);
	return 0;
}

int vmapp_transport_send_close(struct vmapp_transport_state *state, struct vmapp_buf *out,
			       uint32_t channel, uint32_t reason)
{
	if (!vmapp_transport_ready(state))
		return -ENOTCONN;
	struct vmapp_transport_channel *ch = channel_get(state, channel);
	if (!ch)
		return -EINVAL;
	enum vmapp_transport_channel_state next;
	switch (ch->state) {
	case VMAPP_TRANSPORT_CHANNEL_OPEN:
	case VMAPP_TRANSPORT_CHANNEL_LOST:
		next = VMAPP_TRANSPORT_CHANNEL_CLOSING;
		break;
	case VMAPP_TRANSPORT_CHANNEL_PEER_CLOSED:
		next = VMAPP_TRANSPORT_CHANNEL_FREE;
		break;
	default:
		return -EPIPE;
	}
	uint8_t *p = frame_begin(out, channel, VMAPP_TRANSPORT_CLOSE, 4);
	if (!p)
		return -ENOMEM;
	put32(p, reason);
	frame_commit(out, 4);
	channel_forget(state, ch);
	ch->state = next;
	return 0;
}

int vmapp_transport_send_credit(struct vmapp_transport_state *state, struct vmapp_buf *out,
				uint32_t channel)
{
	if (!vmapp_transport_ready(state))
		return -ENOTCONN;
	struct vmapp_transport_channel *ch = channel_get(state, channel);
	if (!ch)
		return -EINVAL;
	if (ch->state != VMAPP_TRANSPORT_CHANNEL_OPEN || ch->due == 0)
		return 0;
	uint8_t *p = frame_begin(out, channel, VMAPP_TRANSPORT_CREDIT, 4);
	if (!p)
		return -ENOMEM;
	put32(p, ch->due);
	frame_commit(out, 4);
	ch->recv_credit += ch->due;
	ch->due = 0;
	return 0;
}

int vmapp_transport_send_wayland(struct vmapp_transport_state *state, struct vmapp_buf *out,
				 uint32_t channel, const uint32_t *refs, uint32_t n_refs,
				 const uint8_t *data, uint32_t size)
{
	struct vmapp_transport_channel *ch;
	struct vmapp_transport_ref *r;
	int ret = open_channel(state, channel, &ch);
	if (ret < 0)
		return ret;
	if (n_refs > VMAPP_TRANSPORT_MAX_FDS || !whole_messages(data, size))
		return -EINVAL;
	for (uint32_t i = 0; i < n_refs; i++) {
		if (own_ref(ch, refs[i], VMAPP_TRANSPORT_REF_SHM, &r) == 0)
			continue;
		r = ref_find(ch, refs[i]);
		if (!r || !r->ours)
			return -ENOENT;
		if ((r->type == VMAPP_TRANSPORT_REF_CONTENT && r->filled < r->size) ||
		    (r->type == VMAPP_TRANSPORT_REF_PIPE && r->passed))
			return -EINVAL;
		for (uint32_t k = 0; k < i; k++)
			if (refs[k] == refs[i])
				return -EINVAL;
	}
	uint64_t len = 4 + 4 * (uint64_t)n_refs + size;
	ret = data_room(state, ch, len);
	if (ret < 0)
		return ret;
	uint8_t *p = frame_begin(out, channel, VMAPP_TRANSPORT_WAYLAND, (uint32_t)len);
	if (!p)
		return -ENOMEM;
	put32(p, n_refs);
	for (uint32_t i = 0; i < n_refs; i++)
		put32(p + 4 + 4 * i, refs[i]);
	memcpy(p + 4 + 4 * n_refs, data, size);
	frame_commit(out, (uint32_t)len);
	ch->send_credit -= (uint32_t)len;
	for (uint32_t i = 0; i < n_refs; i++) {
		r = ref_find(ch, refs[i]);
		if (r->type == VMAPP_TRANSPORT_REF_CONTENT)
			ref_remove(state, ch, r);
		else if (r->type == VMAPP_TRANSPORT_REF_PIPE)
			r->passed = true;
	}
	return 0;
}

int vmapp_transport_send_shm_create(struct vmapp_transport_state *state, struct vmapp_buf *out,
				    uint32_t channel, uint32_t ref, uint64_t size)
{
	struct vmapp_transport_channel *ch;
	if (state->role != VMAPP_TRANSPORT_GUEST)
		return -EPERM;
	int ret = open_channel(state, channel, &ch);
	if (ret < 0)
		return ret;
	ret = own_ref_new(state, ch, ref);
	if (ret < 0)
		return ret;
	if (size == 0 || size > VMAPP_TRANSPORT_MAX_POOL)
		return -EINVAL;
	uint8_t *p = frame_begin(out, channel, VMAPP_TRANSPORT_SHM_CREATE, 12);
	if (!p)
		return -ENOMEM;
	struct vmapp_transport_ref *r = ref_add(ch, ref, VMAPP_TRANSPORT_REF_SHM, true);
	if (!r)
		return -ENOMEM;
	put32(p, ref);
	put64(p + 4, size);
	frame_commit(out, 12);
	r->size = size;
	return 0;
}

int vmapp_transport_send_shm_resize(struct vmapp_transport_state *state, struct vmapp_buf *out,
				    uint32_t channel, uint32_t ref, uint64_t size)
{
	struct vmapp_transport_channel *ch;
	struct vmapp_transport_ref *r;
	int ret = open_channel(state, channel, &ch);
	if (ret < 0)
		return ret;
	ret = own_ref(ch, ref, VMAPP_TRANSPORT_REF_SHM, &r);
	if (ret < 0)
		return ret;
	if (size < r->size || size > VMAPP_TRANSPORT_MAX_POOL)
		return -EINVAL;
	uint8_t *p = frame_begin(out, channel, VMAPP_TRANSPORT_SHM_RESIZE, 12);
	if (!p)
		return -ENOMEM;
	put32(p, ref);
	put64(p + 4, size);
	frame_commit(out, 12);
	r->size = size;
	return 0;
}

int vmapp_transport_send_shm_update(struct vmapp_transport_state *state, struct vmapp_buf *out,
				    uint32_t channel, uint32_t ref, uint64_t offset,
				    const uint8_t *data, uint32_t size)
{
	struct vmapp_transport_channel *ch;
	struct vmapp_transport_ref *r;
	int ret = open_channel(state, channel, &ch);
	if (ret < 0)
		return ret;
	ret = own_ref(ch, ref, VMAPP_TRANSPORT_REF_SHM, &r);
	if (ret < 0)
		return ret;
	if (offset > r->size || size > r->size - offset)
		return -EINVAL;
	uint64_t len = 12 + (uint64_t)size;
	ret = data_room(state, ch, len);
	if (ret < 0)
		return ret;
	uint8_t *p = frame_begin(out, channel, VMAPP_TRANSPORT_SHM_UPDATE, (uint32_t)len);
	if (!p)
		return -ENOMEM;
	put32(p, ref);
	put64(p + 4, offset);
	if (size)
		memcpy(p + 12, data, size);
	frame_commit(out, (uint32_t)len);
	ch->send_credit -= (uint32_t)len;
	return 0;
}

int vmapp_transport_send_shm_destroy(struct vmapp_transport_state *state, struct vmapp_buf *out,
				     uint32_t channel, uint32_t ref)
{
	struct vmapp_transport_channel *ch;
	struct vmapp_transport_ref *r;
	int ret = open_channel(state, channel, &ch);
	if (ret < 0)
		return ret;
	ret = own_ref(ch, ref, VMAPP_TRANSPORT_REF_SHM, &r);
	if (ret < 0)
		return ret;
	uint8_t *p = frame_begin(out, channel, VMAPP_TRANSPORT_SHM_DESTROY, 4);
	if (!p)
		return -ENOMEM;
	put32(p, ref);
	frame_commit(out, 4);
	ref_remove(state, ch, r);
	return 0;
}

int vmapp_transport_send_fd_content(struct vmapp_transport_state *state, struct vmapp_buf *out,
				    uint32_t channel, uint32_t ref, uint64_t total,
				    uint64_t offset, const uint8_t *data, uint32_t size)
{
	struct vmapp_transport_channel *ch;
	struct vmapp_transport_ref *r;
	if (state->role != VMAPP_TRANSPORT_HOST)
		return -EPERM;
	int ret = open_channel(state, channel, &ch);
	if (ret < 0)
		return ret;
	if (offset > total || size > total - offset)
		return -EINVAL;
	r = ref_find(ch, ref);
	if (!r) {
		ret = own_ref_new(state, ch, ref);
		if (ret < 0)
			return ret;
		if (offset != 0)
			return -EINVAL;
	} else if (r->type != VMAPP_TRANSPORT_REF_CONTENT || !r->ours || r->filled == r->size) {
		return -EEXIST;
	} else if (total != r->size || offset != r->filled) {
		return -EINVAL;
	}
	uint64_t len = 20 + (uint64_t)size;
	ret = data_room(state, ch, len);
	if (ret < 0)
		return ret;
	uint8_t *p = frame_begin(out, channel, VMAPP_TRANSPORT_FD_CONTENT, (uint32_t)len);
	if (!p)
		return -ENOMEM;
	if (!r) {
		r = ref_add(ch, ref, VMAPP_TRANSPORT_REF_CONTENT, true);
		if (!r)
			return -ENOMEM;
		r->size = total;
	}
	put32(p, ref);
	put64(p + 4, total);
	put64(p + 12, offset);
	if (size)
		memcpy(p + 20, data, size);
	frame_commit(out, (uint32_t)len);
	r->filled += size;
	ch->send_credit -= (uint32_t)len;
	return 0;
}

int vmapp_transport_send_pipe_open(struct vmapp_transport_state *state, struct vmapp_buf *out,
				   uint32_t channel, uint32_t ref,
				   enum vmapp_transport_pipe_direction direction)
{
	struct vmapp_transport_channel *ch;
	int ret = open_channel(state, channel, &ch);
	if (ret < 0)
		return ret;
	if (direction != VMAPP_TRANSPORT_PIPE_FROM_CREATOR &&
	    direction != VMAPP_TRANSPORT_PIPE_TO_CREATOR)
		return -EINVAL;
	ret = own_ref_new(state, ch, ref);
	if (ret < 0)
		return ret;
	uint8_t *p = frame_begin(out, channel, VMAPP_TRANSPORT_PIPE_OPEN, 5);
	if (!p)
		return -ENOMEM;
	struct vmapp_transport_ref *r = ref_add(ch, ref, VMAPP_TRANSPORT_REF_PIPE, true);
	if (!r)
		return -ENOMEM;
	put32(p, ref);
	p[4] = (uint8_t)direction;
	frame_commit(out, 5);
	r->we_write = direction == VMAPP_TRANSPORT_PIPE_FROM_CREATOR;
	return 0;
}

int vmapp_transport_send_pipe_data(struct vmapp_transport_state *state, struct vmapp_buf *out,
				   uint32_t channel, uint32_t ref, const uint8_t *data,
				   uint32_t size)
{
	struct vmapp_transport_channel *ch;
	int ret = open_channel(state, channel, &ch);
	if (ret < 0)
		return ret;
	struct vmapp_transport_ref *r = ref_find(ch, ref);
	if (!r || r->type != VMAPP_TRANSPORT_REF_PIPE)
		return -ENOENT;
	if (!r->we_write || r->sent_term)
		return -EINVAL;
	if (r->got_term)
		return -EPIPE;
	uint64_t len = 4 + (uint64_t)size;
	ret = data_room(state, ch, len);
	if (ret < 0)
		return ret;
	uint8_t *p = frame_begin(out, channel, VMAPP_TRANSPORT_PIPE_DATA, (uint32_t)len);
	if (!p)
		return -ENOMEM;
	put32(p, ref);
	if (size)
		memcpy(p + 4, data, size);
	frame_commit(out, (uint32_t)len);
	ch->send_credit -= (uint32_t)len;
	return 0;
}

/* PIPE_END (the writer's last word) and PIPE_CANCEL (the reader's). */
static int send_pipe_term(struct vmapp_transport_state *state, struct vmapp_buf *out,
			  uint32_t channel, uint32_t ref, uint16_t kind)
{
	struct vmapp_transport_channel *ch;
	int ret = open_channel(state, channel, &ch);
	if (ret < 0)
		return ret;
	struct vmapp_transport_ref *r = ref_find(ch, ref);
	if (!r || r->type != VMAPP_TRANSPORT_REF_PIPE)
		return -ENOENT;
	if (r->we_write != (kind == VMAPP_TRANSPORT_PIPE_END) || r->sent_term)
		return -EINVAL;
	uint8_t *p = frame_begin(out, channel, kind, 4);
	if (!p)
		return -ENOMEM;
	put32(p, ref);
	frame_commit(out, 4);
	r->sent_term = true;
	if (r->got_term)
		ref_remove(state, ch, r);
	return 0;
}

int vmapp_transport_send_pipe_end(struct vmapp_transport_state *state, struct vmapp_buf *out,
				  uint32_t channel, uint32_t ref)
{
	return send_pipe_term(state, out, channel, ref, VMAPP_TRANSPORT_PIPE_END);
}

int vmapp_transport_send_pipe_cancel(struct vmapp_transport_state *state, struct vmapp_buf *out,
				     uint32_t channel, uint32_t ref)
{
	return send_pipe_term(state, out, channel, ref, VMAPP_TRANSPORT_PIPE_CANCEL);
}

int vmapp_transport_send_run(struct vmapp_transport_state *state, struct vmapp_buf *out,
			     uint32_t run_id, const char *const *argv, uint32_t argc,
			     const char *const *envp, uint32_t envc)
{
	if (state->role != VMAPP_TRANSPORT_HOST)
		return -EPERM;
	if (!vmapp_transport_ready(state))
		return -ENOTCONN;
	if (argc == 0 || argc > VMAPP_TRANSPORT_MAX_ARGS || envc > VMAPP_TRANSPORT_MAX_ENV)
		return -EINVAL;
	if (run_find(state, run_id) >= 0)
		return -EEXIST;
	if (state->n_runs >= VMAPP_TRANSPORT_MAX_RUNS)
		return -ENOSPC;
	uint64_t len = 12;
	for (uint32_t i = 0; i < argc + envc; i++) {
		const char *s = i < argc ? argv[i] : envp[i - argc];
		if (!s)
			return -EINVAL;
		if (i >= argc && (s[0] == '=' || !strchr(s, '=')))
			return -EINVAL;
		len += strlen(s) + 1;
		if (len > VMAPP_TRANSPORT_MAX_RUN_PAYLOAD)
			return -EMSGSIZE;
	}
	if (len > state->peer.max_payload)
		return -EMSGSIZE;
	uint8_t *p = frame_begin(out, 0, VMAPP_TRANSPORT_RUN, (uint32_t)len);
	if (!p)
		return -ENOMEM;
	put32(p, run_id);
	put32(p + 4, argc);
	put32(p + 8, envc);
	uint8_t *q = p + 12;
	for (uint32_t i = 0; i < argc + envc; i++) {
		const char *s = i < argc ? argv[i] : envp[i - argc];
		size_t n = strlen(s) + 1;
		memcpy(q, s, n);
		q += n;
	}
	frame_commit(out, (uint32_t)len);
	run_add(state, run_id);
	return 0;
}

int vmapp_transport_send_exit(struct vmapp_transport_state *state, struct vmapp_buf *out,
			      uint32_t run_id, int32_t status)
{
	if (state->role != VMAPP_TRANSPORT_GUEST)
		return -EPERM;
	if (!vmapp_transport_ready(state))
		return -ENOTCONN;
	int i = run_find(state, run_id);
	if (i < 0)
		return -ENOENT;
	if (!exit_status_ok(status))
		return -EINVAL;
	uint8_t *p = frame_begin(out, 0, VMAPP_TRANSPORT_EXIT, 8);
	if (!p)
		return -ENOMEM;
	put32(p, run_id);
	put32(p + 4, (uint32_t)status);
	frame_commit(out, 8);
	run_remove(state, i);
	return 0;
}

int vmapp_transport_send_output(struct vmapp_transport_state *state, struct vmapp_buf *out,
				uint32_t run_id, uint32_t stream, const void *data, size_t size)
{
	if (state->role != VMAPP_TRANSPORT_GUEST)
		return -EPERM;
	if (!vmapp_transport_ready(state))
		return -ENOTCONN;
	int i = run_find(state, run_id);
	if (i < 0)
		return -ENOENT;
	if (stream != 1 && stream != 2)
		return -EINVAL;
	if (size == 0 || size > VMAPP_TRANSPORT_MAX_OUTPUT)
		return -EMSGSIZE;
	if (size > state->output_credit[i])
		return -ENOSPC;
	uint8_t *p = frame_begin(out, 0, VMAPP_TRANSPORT_OUTPUT, 8 + (uint32_t)size);
	if (!p)
		return -ENOMEM;
	put32(p, run_id);
	put32(p + 4, stream);
	memcpy(p + 8, data, size);
	frame_commit(out, 8 + (uint32_t)size);
	state->output_credit[i] -= (uint32_t)size;
	return 0;
}

int vmapp_transport_send_output_credit(struct vmapp_transport_state *state,
				       struct vmapp_buf *out, uint32_t run_id, uint32_t bytes)
{
	if (state->role != VMAPP_TRANSPORT_HOST)
		return -EPERM;
	if (!vmapp_transport_ready(state))
		return -ENOTCONN;
	int i = run_find(state, run_id);
	if (i < 0)
		return -ENOENT;
	if (bytes == 0 || bytes > VMAPP_TRANSPORT_MAX_OUTPUT_CREDIT - state->output_credit[i])
		return -EINVAL;
	uint8_t *p = frame_begin(out, 0, VMAPP_TRANSPORT_OUTPUT_CREDIT, 8);
	if (!p)
		return -ENOMEM;
	put32(p, run_id);
	put32(p + 4, bytes);
	frame_commit(out, 8);
	state->output_credit[i] += bytes;
	return 0;
}

int vmapp_transport_send_list_apps(struct vmapp_transport_state *state, struct vmapp_buf *out)
{
	if (state->role != VMAPP_TRANSPORT_HOST)
		return -EPERM;
	if (!vmapp_transport_ready(state))
		return -ENOTCONN;
	if (state->lists >= VMAPP_TRANSPORT_MAX_LISTS)
		return -ENOSPC;
	if (!frame_begin(out, 0, VMAPP_TRANSPORT_LIST_APPS, 0))
		return -ENOMEM;
	frame_commit(out, 0);
	state->lists++;
	return 0;
}

int vmapp_transport_send_signal(struct vmapp_transport_state *state, struct vmapp_buf *out,
				uint32_t run_id, uint32_t signo)
{
	if (state->role != VMAPP_TRANSPORT_HOST)
		return -EPERM;
	if (!vmapp_transport_ready(state))
		return -ENOTCONN;
	if (run_find(state, run_id) < 0)
		return -ENOENT;
	if (!vmapp_transport_signal_ok(signo))
		return -EINVAL;
	uint8_t *p = frame_begin(out, 0, VMAPP_TRANSPORT_SIGNAL, 8);
	if (!p)
		return -ENOMEM;
	put32(p, run_id);
	put32(p + 4, signo);
	frame_commit(out, 8);
	return 0;
}

static const char *app_string(const struct vmapp_transport_app *app, uint32_t i)
{
	const char *const s[VMAPP_TRANSPORT_APP_STRINGS] = { app->id, app->name, app->exec,
							     app->icon, app->categories };
	return s[i] ? s[i] : "";
}

int vmapp_transport_send_apps(struct vmapp_transport_state *state, struct vmapp_buf *out,
			      const struct vmapp_transport_app *apps, uint32_t n_apps)
{
	if (state->role != VMAPP_TRANSPORT_GUEST)
		return -EPERM;
	if (!vmapp_transport_ready(state))
		return -ENOTCONN;
	if (state->lists == 0)
		return -ENOENT;
	if (n_apps > VMAPP_TRANSPORT_MAX_APPS)
		return -EINVAL;
	uint64_t len = 4;
	for (uint32_t a = 0; a < n_apps; a++) {
		for (uint32_t i = 0; i < VMAPP_TRANSPORT_APP_STRINGS; i++) {
			const char *s = app_string(&apps[a], i);
			size_t n = strlen(s);
			if (n > VMAPP_TRANSPORT_MAX_APP_STRING || (i == 0 && n == 0) ||
			    !vmapp_utf8_valid(s, n))
				return -EINVAL;
			len += n + 1;
		}
	}
	if (len > state->peer.max_payload)
		return -EMSGSIZE;
	uint8_t *p = frame_begin(out, 0, VMAPP_TRANSPORT_APPS, (uint32_t)len);
	if (!p)
		return -ENOMEM;
	put32(p, n_apps);
	uint8_t *q = p + 4;
	for (uint32_t a = 0; a < n_apps; a++) {
		for (uint32_t i = 0; i < VMAPP_TRANSPORT_APP_STRINGS; i++) {
			const char *s = app_string(&apps[a], i);
			size_t n = strlen(s) + 1;
			memcpy(q, s, n);
			q += n;
		}
	}
	frame_commit(out, (uint32_t)len);
	state->lists--;
	return 0;
}
