/* SPDX-License-Identifier: MIT */
/*
 * Fuzzes the transport codec (proxy/transport.c) as one end of a VM
 * connection sees it: a byte stream from a hostile peer, cut into chunks
 * where the input says, fed through peek, decode and receive, with the
 * local side answering as a relay would (CLOSE acks, credit returns, pipe
 * acks, EXIT and APPS replies, ERROR on a lost connection).
 *
 * Input:
 *   byte 0   mode: bit 0 the handshake is done before the stream (else
 *            the stream must start with the peer's HELLO); bit 1 the
 *            local side is the guest (else the host); bit 2 the local side
 *            consumes and returns credit for every data frame it accepts;
 *            bit 3 it leaves the peer's CLOSE, PIPE_END, PIPE_CANCEL, RUN
 *            and LIST_APPS unanswered
 *
 * The local side has refs and requests of its own for the peer to name:
 * after the handshake a host sends two RUNs, a LIST_APPS and a SIGNAL to
 * the first RUN, and on every
 * channel it accepts creates a pipe the peer writes, an fd content it
 * passes and one it leaves incomplete; a guest opens channels 1 and 2 and
 * creates a pool and a pipe it writes on each.
 *   byte 1   n: the low 4 bits are how many chunk-size bytes follow
 *   n bytes  chunk sizes (1..256), used in turn; none: one chunk
 *   rest     the stream
 *
 * Checked: peek never asks to buffer more than one frame's ceiling; every
 * view of a decoded frame lies inside its payload, strings end in their
 * NUL there; verdicts never depend on bytes past the frame (decoded from
 * an exact-size copy); an accepted frame is delivered or dropped, a
 * refused one never delivered, and what it costs is what the state says;
 * credit is never negative and always adds up (an independent shadow of
 * every window); pool sizes and the connection's shm total match a
 * shadow kept from the frames delivered; non-open channels hold nothing;
 * every frame the local side sends decodes cleanly.
 */
#include <errno.h>
#include <string.h>

#include "fuzz.h"
#include "transport.h"

#define CHANNELS 4
#define MAX_REFS 8
#define CREDIT 8192u
#define MAX_POOLS (CHANNELS * MAX_REFS)

struct shadow_pool {
	uint32_t channel, ref;
	uint64_t size;
};

struct shadow {
	uint64_t window[CHANNELS + 1]; /* bytes the peer may still send */
	struct shadow_pool pools[MAX_POOLS];
	uint32_t n_pools;
};

static void limits(struct vmapp_transport_limits *l)
{
	vmapp_transport_limits_default(l);
	l->max_payload = 16384;
	l->max_channels = CHANNELS;
	l->initial_credit = CREDIT;
	l->max_refs = MAX_REFS;
	l->shm_bytes = 1 << 20;
}

static bool inside(const struct vmapp_transport_frame *f, const void *p, uint64_t n)
{
	const uint8_t *b = p;
	return b >= f->payload && b <= f->payload + f->length &&
	       (uint64_t)(b - f->payload) + n <= f->length;
}

/* `count` NUL-terminated strings fill exactly [s, s + size). */
static void check_strings(const struct vmapp_transport_frame *f, const char *s, uint32_t size,
			  uint32_t count)
{
	FUZZ_CHECK(inside(f, s, size));
	const char *end = s + size;
	for (uint32_t i = 0; i < count; i++) {
		FUZZ_CHECK(s < end);
		const char *nul = memchr(s, '\0', (size_t)(end - s));
		FUZZ_CHECK(nul);
		s = nul + 1;
	}
	FUZZ_CHECK(s == end);
}

/* What decode promises about an OK frame. */
static void check_view(const struct vmapp_transport_frame *f)
{
	FUZZ_CHECK(f->flags == 0 && f->length <= VMAPP_TRANSPORT_MAX_PAYLOAD);
	FUZZ_CHECK(vmapp_transport_kind_name(f->kind) != NULL);
	switch (f->kind) {
	case VMAPP_TRANSPORT_HELLO:
		FUZZ_CHECK(f->length == 20 && f->hello.magic == VMAPP_TRANSPORT_MAGIC);
		FUZZ_CHECK(f->hello.initial_credit >= VMAPP_TRANSPORT_MIN_CREDIT);
		break;
	case VMAPP_TRANSPORT_ERROR:
		FUZZ_CHECK(f->error.text_len <= VMAPP_TRANSPORT_MAX_ERROR_TEXT);
		FUZZ_CHECK(inside(f, f->error.text, f->error.text_len + 1));
		FUZZ_CHECK(f->error.text[f->error.text_len] == '\0');
		FUZZ_CHECK(f->length == 4 + f->error.text_len + 1);
		break;
	case VMAPP_TRANSPORT_CREDIT:
		FUZZ_CHECK(f->credit.bytes > 0);
		break;
	case VMAPP_TRANSPORT_WAYLAND: {
		FUZZ_CHECK(f->wayland.n_fds <= VMAPP_TRANSPORT_MAX_FDS);
		FUZZ_CHECK(inside(f, f->wayland.refs, 4 * (uint64_t)f->wayland.n_fds));
		FUZZ_CHECK(inside(f, f->wayland.data, f->wayland.size));
		FUZZ_CHECK(f->length == 4 + 4 * f->wayland.n_fds + f->wayland.size);
		for (uint32_t i = 0; i < f->wayland.n_fds; i++)
			FUZZ_CHECK(vmapp_transport_frame_fd_ref(f, i) != 0);
		/* Whole messages, each 8..4096 bytes. */
		uint32_t off = 0;
		while (off < f->wayland.size) {
			uint32_t word;
			memcpy(&word, f->wayland.data + off + 4, 4);
			uint32_t size = word >> 16;
			FUZZ_CHECK(size >= 8 && size <= 4096 && size % 4 == 0);
			off += size;
		}
		FUZZ_CHECK(off == f->wayland.size && off >= 8);
		break;
	}
	case VMAPP_TRANSPORT_SHM_CREATE:
	case VMAPP_TRANSPORT_SHM_RESIZE:
		FUZZ_CHECK(f->shm.ref != 0 && f->shm.size != 0);
		break;
	case VMAPP_TRANSPORT_SHM_UPDATE:
		FUZZ_CHECK(inside(f, f->shm_update.data, f->shm_update.size));
		FUZZ_CHECK(f->shm_update.offset <= UINT64_MAX - f->shm_update.size);
		break;
	case VMAPP_TRANSPORT_FD_CONTENT:
		FUZZ_CHECK(inside(f, f->fd_content.data, f->fd_content.size));
		FUZZ_CHECK(f->fd_content.offset <= f->fd_content.total &&
			   f->fd_content.size <= f->fd_content.total - f->fd_content.offset);
		break;
	case VMAPP_TRANSPORT_PIPE_OPEN:
		FUZZ_CHECK(f->pipe_open.direction <= VMAPP_TRANSPORT_PIPE_TO_CREATOR);
		break;
	case VMAPP_TRANSPORT_PIPE_DATA:
		FUZZ_CHECK(inside(f, f->pipe_data.data, f->pipe_data.size));
		break;
	case VMAPP_TRANSPORT_RUN:
		FUZZ_CHECK(f->run.argc >= 1 && f->run.argc <= VMAPP_TRANSPORT_MAX_ARGS);
		FUZZ_CHECK(f->run.envc <= VMAPP_TRANSPORT_MAX_ENV);
		check_strings(f, f->run.strings, f->run.strings_size, f->run.argc + f->run.envc);
		break;
	case VMAPP_TRANSPORT_EXIT:
		FUZZ_CHECK(f->exit.status >= -64 && f->exit.status <= 255);
		break;
	case VMAPP_TRANSPORT_SIGNAL:
		FUZZ_CHECK(f->length == 8 && vmapp_transport_signal_ok(f->signal.signo));
		break;
	case VMAPP_TRANSPORT_OUTPUT:
		FUZZ_CHECK(inside(f, f->output.data, f->output.size));
		FUZZ_CHECK(f->output.size >= 1 && f->output.size <= VMAPP_TRANSPORT_MAX_OUTPUT &&
			   (f->output.stream == 1 || f->output.stream == 2));
		break;
	case VMAPP_TRANSPORT_OUTPUT_CREDIT:
		FUZZ_CHECK(f->length == 8 && f->output_credit.bytes > 0);
		break;
	case VMAPP_TRANSPORT_APPS:
		FUZZ_CHECK(f->apps.count <= VMAPP_TRANSPORT_MAX_APPS);
		check_strings(f, f->apps.strings, f->apps.strings_size,
			      VMAPP_TRANSPORT_APP_STRINGS * f->apps.count);
		break;
	default:
		break;
	}
}

static struct shadow_pool *shadow_find(struct shadow *sh, uint32_t channel, uint32_t ref)
{
	for (uint32_t i = 0; i < sh->n_pools; i++)
		if (sh->pools[i].channel == channel && sh->pools[i].ref == ref)
			return &sh->pools[i];
	return NULL;
}

static void shadow_forget(struct shadow *sh, uint32_t channel)
{
	for (uint32_t i = 0; i < sh->n_pools;)
		if (sh->pools[i].channel == channel)
			sh->pools[i] = sh->pools[--sh->n_pools];
		else
			i++;
}

/* A frame the state accepted, replayed on the shadow. */
static void shadow_apply(struct shadow *sh, const struct vmapp_transport_frame *f,
			 enum vmapp_transport_action action, bool was_open)
{
	uint32_t c = f->channel;
	struct shadow_pool *p;

	if (c == 0 || c > CHANNELS)
		return;
	/* Data on an open channel takes credit, delivered or dropped (a
	 * cancelled pipe's); on a closing one it is gone with the channel. */
	if (vmapp_transport_kind_is_data(f->kind) && was_open) {
		/* Credit never goes negative. */
		FUZZ_CHECK(f->length <= sh->window[c]);
		sh->window[c] -= f->length;
	}
	if (action != VMAPP_TRANSPORT_DELIVER)
		return;
	switch (f->kind) {
	case VMAPP_TRANSPORT_OPEN:
		sh->window[c] = CREDIT;
		break;
	case VMAPP_TRANSPORT_CLOSE:
		shadow_forget(sh, c);
		break;
	case VMAPP_TRANSPORT_SHM_CREATE:
		FUZZ_CHECK(!shadow_find(sh, c, f->shm.ref) && sh->n_pools < MAX_POOLS);
		sh->pools[sh->n_pools++] = (struct shadow_pool){ c, f->shm.ref, f->shm.size };
		break;
	case VMAPP_TRANSPORT_SHM_RESIZE:
		p = shadow_find(sh, c, f->shm.ref);
		FUZZ_CHECK(p && f->shm.size >= p->size);
		p->size = f->shm.size;
		break;
	case VMAPP_TRANSPORT_SHM_UPDATE:
		p = shadow_find(sh, c, f->shm_update.ref);
		FUZZ_CHECK(p && f->shm_update.offset <= p->size &&
			   f->shm_update.size <= p->size - f->shm_update.offset);
		break;
	case VMAPP_TRANSPORT_SHM_DESTROY:
		p = shadow_find(sh, c, f->ref.ref);
		FUZZ_CHECK(p);
		*p = sh->pools[--sh->n_pools];
		break;
	default:
		break;
	}
}

/* The state against itself and against the shadow. */
static void check_state(const struct vmapp_transport_state *s, struct shadow *sh)
{
	if (!s->hello_received) {
		FUZZ_CHECK(!s->channels && s->n_channels == 0);
		return;
	}
	FUZZ_CHECK(s->n_channels >= 1 && s->n_channels <= CHANNELS);
	uint64_t shm = 0;
	for (uint32_t c = 1; c <= s->n_channels; c++) {
		const struct vmapp_transport_channel *ch = &s->channels[c];
		FUZZ_CHECK(ch->n_refs == ch->n_own_refs + ch->n_peer_refs);
		FUZZ_CHECK(ch->n_peer_refs <= MAX_REFS && ch->n_own_refs <= MAX_REFS);
		if (ch->state != VMAPP_TRANSPORT_CHANNEL_OPEN) {
			FUZZ_CHECK(ch->n_refs == 0);
			shadow_forget(sh, c);
			continue;
		}
		FUZZ_CHECK((uint64_t)ch->recv_credit + ch->held + ch->due == CREDIT);
		FUZZ_CHECK(ch->send_credit <= s->peer.initial_credit);
		FUZZ_CHECK(ch->recv_credit == sh->window[c]);
		uint32_t pools = 0;
		for (uint32_t i = 0; i < ch->n_refs; i++) {
			const struct vmapp_transport_ref *r = &ch->refs[i];
			FUZZ_CHECK(r->ref != 0);
			for (uint32_t k = 0; k < i; k++)
				FUZZ_CHECK(ch->refs[k].ref != r->ref);
			if (r->type == VMAPP_TRANSPORT_REF_CONTENT)
				FUZZ_CHECK(r->filled <= r->size);
			if (r->ours || r->type == VMAPP_TRANSPORT_REF_PIPE)
				continue;
			shm += r->size;
			if (r->type == VMAPP_TRANSPORT_REF_SHM) {
				const struct shadow_pool *p = shadow_find(sh, c, r->ref);
				FUZZ_CHECK(p && p->size == r->size);
				pools++;
			}
		}
		uint32_t shadowed = 0;
		for (uint32_t i = 0; i < sh->n_pools; i++)
			shadowed += sh->pools[i].channel == c;
		FUZZ_CHECK(pools == shadowed);
	}
	FUZZ_CHECK(shm == s->shm_bytes && shm <= s->limits.shm_bytes);
}

static const uint8_t wl_sync[12] = { 1, 0, 0, 0, 0, 0, 12, 0, 3, 0, 0, 0 };

/* A new channel, as a host sets it up for the peer to name its refs. */
static void host_channel(struct vmapp_transport_state *s, struct vmapp_buf *out, uint32_t c)
{
	uint32_t content = VMAPP_TRANSPORT_HOST_REF_FIRST + 2;

	FUZZ_CHECK(vmapp_transport_send_pipe_open(s, out, c, VMAPP_TRANSPORT_HOST_REF_FIRST + 1,
						  VMAPP_TRANSPORT_PIPE_TO_CREATOR) == 0);
	FUZZ_CHECK(vmapp_transport_send_fd_content(s, out, c, content, 4, 0,
						   (const uint8_t *)"keym", 4) == 0);
	FUZZ_CHECK(vmapp_transport_send_wayland(s, out, c, &content, 1, wl_sync, 12) == 0);
	FUZZ_CHECK(vmapp_transport_send_fd_content(s, out, c, content + 1, 8, 0,
						   (const uint8_t *)"half", 4) == 0);
}

/* An open channel, as a guest sets it up. */
static void guest_channel(struct vmapp_transport_state *s, struct vmapp_buf *out, uint32_t c)
{
	uint32_t refs[2] = { 1, 2 };

	FUZZ_CHECK(vmapp_transport_send_shm_create(s, out, c, 1, 4096) == 0);
	FUZZ_CHECK(vmapp_transport_send_pipe_open(s, out, c, 2,
						  VMAPP_TRANSPORT_PIPE_FROM_CREATOR) == 0);
	FUZZ_CHECK(vmapp_transport_send_wayland(s, out, c, refs, 2, wl_sync, 12) == 0);
	FUZZ_CHECK(vmapp_transport_send_shm_update(s, out, c, 1, 4000, wl_sync, 12) == 0);
}

/* What a relay does after a verdict: the replies that keep the peer in
 * step.  Every error is legitimate here except ones the state promised
 * can not happen. */
static void react(struct vmapp_transport_state *s, struct shadow *sh, struct vmapp_buf *out,
		  const struct vmapp_transport_frame *f, enum vmapp_transport_rule rule,
		  enum vmapp_transport_action action, uint8_t mode)
{
	bool consume = mode & 4, lazy = mode & 8;
	uint32_t c = f->channel;

	switch (action) {
	case VMAPP_TRANSPORT_CLOSE_CONNECTION:
		FUZZ_CHECK(vmapp_transport_send_error(s, out, vmapp_transport_rule_reason(rule),
						      vmapp_transport_rule_name(rule)) == 0);
		return;
	case VMAPP_TRANSPORT_CLOSE_CHANNEL:
		FUZZ_CHECK(vmapp_transport_channel_state(s, c) == VMAPP_TRANSPORT_CHANNEL_LOST);
		FUZZ_CHECK(vmapp_transport_send_close(s, out, c, vmapp_transport_rule_reason(rule)) == 0);
		return;
	case VMAPP_TRANSPORT_DROP:
		if (c != 0 && vmapp_transport_channel_state(s, c) == VMAPP_TRANSPORT_CHANNEL_OPEN &&
		    vmapp_transport_kind_is_data(f->kind) && consume) {
			uint32_t due = s->channels[c].due;
			FUZZ_CHECK(vmapp_transport_send_credit(s, out, c) == 0);
			sh->window[c] += due;
		}
		return;
	case VMAPP_TRANSPORT_DELIVER:
		break;
	}

	switch (f->kind) {
	case VMAPP_TRANSPORT_OPEN:
		host_channel(s, out, c);
		return;
	case VMAPP_TRANSPORT_CLOSE:
		FUZZ_CHECK(vmapp_transport_channel_state(s, c) == VMAPP_TRANSPORT_CHANNEL_PEER_CLOSED);
		if (lazy)
			return;
		FUZZ_CHECK(vmapp_transport_send_close(s, out, c, 0) == 0);
		FUZZ_CHECK(vmapp_transport_channel_state(s, c) == VMAPP_TRANSPORT_CHANNEL_FREE);
		return;
	case VMAPP_TRANSPORT_PIPE_END:
		if (lazy)
			break;
		FUZZ_CHECK(vmapp_transport_send_pipe_cancel(s, out, c, f->ref.ref) == 0 ||
			   !vmapp_transport_ref_get(s, c, f->ref.ref));
		break;
	case VMAPP_TRANSPORT_PIPE_CANCEL:
		if (lazy)
			break;
		FUZZ_CHECK(vmapp_transport_send_pipe_end(s, out, c, f->ref.ref) == 0 ||
			   !vmapp_transport_ref_get(s, c, f->ref.ref));
		break;
	case VMAPP_TRANSPORT_RUN:
		if (lazy)
			return;
		FUZZ_CHECK(vmapp_transport_send_output(s, out, f->run.run_id, 1, "out", 3) == 0);
		FUZZ_CHECK(vmapp_transport_send_exit(s, out, f->run.run_id, 0) == 0);
		return;
	case VMAPP_TRANSPORT_OUTPUT:
		/* Within the run's credit, which the codec counted down. */
		FUZZ_CHECK(vmapp_transport_output_credit(s, f->output.run_id) <=
			   VMAPP_TRANSPORT_MAX_OUTPUT_CREDIT - f->output.size);
		if (lazy)
			return;
		FUZZ_CHECK(vmapp_transport_send_output_credit(s, out, f->output.run_id,
							      f->output.size) == 0);
		return;
	case VMAPP_TRANSPORT_OUTPUT_CREDIT:
		/* Delivered only for a run waiting for its EXIT, within bounds. */
		FUZZ_CHECK(vmapp_transport_output_credit(s, f->output_credit.run_id) >=
			   f->output_credit.bytes);
		return;
	case VMAPP_TRANSPORT_SIGNAL: {
		/* Delivered only for a run waiting for its EXIT; the others
		 * were dropped. */
		bool known = false;
		for (uint32_t i = 0; i < s->n_runs; i++)
			known = known || s->runs[i] == f->signal.run_id;
		FUZZ_CHECK(known);
		return;
	}
	case VMAPP_TRANSPORT_LIST_APPS: {
		if (lazy)
			return;
		const struct vmapp_transport_app app = { "foot.desktop", "Foot", "foot",
							 "foot", "System;TerminalEmulator;" };
		FUZZ_CHECK(vmapp_transport_send_apps(s, out, &app, 1) == 0);
		return;
	}
	case VMAPP_TRANSPORT_PIPE_OPEN: {
		/* A pipe this side writes: a first chunk, if credit allows. */
		const struct vmapp_transport_ref *r = vmapp_transport_ref_get(s, c, f->pipe_open.ref);
		FUZZ_CHECK(r && !r->ours);
		if (r->we_write) {
			int ret = vmapp_transport_send_pipe_data(s, out, c, f->pipe_open.ref,
								 (const uint8_t *)"data", 4);
			FUZZ_CHECK(ret == 0 || ret == -EAGAIN);
		}
		return;
	}
	case VMAPP_TRANSPORT_PIPE_DATA:
		/* The input chooses when this side cancels a pipe (0xcc) or
		 * closes the channel (0xcd), so that frames race them. */
		if (f->pipe_data.size > 0 && f->pipe_data.data[0] == 0xcc)
			FUZZ_CHECK(vmapp_transport_send_pipe_cancel(s, out, c, f->pipe_data.ref) == 0);
		if (f->pipe_data.size > 0 && f->pipe_data.data[0] == 0xcd) {
			FUZZ_CHECK(vmapp_transport_send_close(s, out, c, 0) == 0);
			return;
		}
		break;
	default:
		break;
	}
	if (c != 0 && vmapp_transport_kind_is_data(f->kind) && consume) {
		FUZZ_CHECK(vmapp_transport_consume(s, c, f->length) == 0);
		uint32_t due = s->channels[c].due;
		FUZZ_CHECK(vmapp_transport_send_credit(s, out, c) == 0);
		sh->window[c] += due;
	}
}

/* Every frame the local side sent is one a peer decodes cleanly. */
static void check_sent(const struct vmapp_buf *out)
{
	const uint8_t *p = vmapp_buf_head(out);
	size_t left = vmapp_buf_size(out);
	struct vmapp_transport_frame f;

	while (left > 0) {
		uint32_t size = 0;
		FUZZ_CHECK(vmapp_transport_peek(p, left, &size) == VMAPP_TRANSPORT_RULE_OK);
		FUZZ_CHECK(vmapp_transport_decode(p, size, &f) == VMAPP_TRANSPORT_RULE_OK);
		check_view(&f);
		p += size;
		left -= size;
	}
}

/* Decodes and receives one whole frame from an exact-size copy, so that
 * AddressSanitizer sees any read past it.  Returns false when the
 * connection is over. */
static bool one_frame(struct vmapp_transport_state *s, struct shadow *sh, struct vmapp_buf *out,
		      const uint8_t *data, uint32_t size, uint8_t mode)
{
	uint8_t *copy = malloc(size);
	struct vmapp_transport_frame f;
	enum vmapp_transport_action action;

	FUZZ_CHECK(copy);
	memcpy(copy, data, size);
	enum vmapp_transport_rule d = vmapp_transport_decode(copy, size, &f);
	FUZZ_CHECK((unsigned)d < VMAPP_TRANSPORT_RULE_COUNT && f.rule == d);
	FUZZ_CHECK(f.length + VMAPP_TRANSPORT_HEADER_SIZE == size);
	if (d == VMAPP_TRANSPORT_RULE_OK)
		check_view(&f);

	enum vmapp_transport_channel_state before = vmapp_transport_channel_state(s, f.channel);
	enum vmapp_transport_rule r = vmapp_transport_receive(s, &f, &action);
	FUZZ_CHECK((unsigned)r < VMAPP_TRANSPORT_RULE_COUNT);
	if (fuzz_trace())
		fprintf(stderr, "ch %u %s (%u bytes): decode %s, receive %s -> %s\n", f.channel,
			vmapp_transport_kind_name(f.kind) ? vmapp_transport_kind_name(f.kind) : "?",
			f.length, vmapp_transport_rule_name(d), vmapp_transport_rule_name(r),
			vmapp_transport_action_name(action));

	/* A refusal is never delivered; an acceptance never costs anything;
	 * a frame decode refused is never accepted. */
	if (r == VMAPP_TRANSPORT_RULE_OK)
		FUZZ_CHECK(action == VMAPP_TRANSPORT_DELIVER || action == VMAPP_TRANSPORT_DROP);
	else
		FUZZ_CHECK(action != VMAPP_TRANSPORT_DELIVER);
	if (action == VMAPP_TRANSPORT_DELIVER)
		FUZZ_CHECK(d == VMAPP_TRANSPORT_RULE_OK);
	if (action == VMAPP_TRANSPORT_CLOSE_CONNECTION)
		FUZZ_CHECK(s->closed && r != VMAPP_TRANSPORT_RULE_OK);
	if (action == VMAPP_TRANSPORT_CLOSE_CHANNEL)
		FUZZ_CHECK(f.channel != 0 && vmapp_transport_channel_state(s, f.channel) ==
						     VMAPP_TRANSPORT_CHANNEL_LOST);
	/* Channel 0 never costs less than the connection. */
	if (r != VMAPP_TRANSPORT_RULE_OK && f.channel == 0)
		FUZZ_CHECK(action == VMAPP_TRANSPORT_CLOSE_CONNECTION);
	/* Frames on channels that are not open change nothing but the
	 * CLOSE handshake. */
	if (before != VMAPP_TRANSPORT_CHANNEL_OPEN && f.channel != 0 &&
	    action == VMAPP_TRANSPORT_DROP)
		FUZZ_CHECK(f.kind == VMAPP_TRANSPORT_CLOSE ||
			   vmapp_transport_channel_state(s, f.channel) == before);

	if (action == VMAPP_TRANSPORT_DELIVER || action == VMAPP_TRANSPORT_DROP)
		shadow_apply(sh, &f, action, before == VMAPP_TRANSPORT_CHANNEL_OPEN);
	react(s, sh, out, &f, r, action, mode);
	check_state(s, sh);
	free(copy);
	return action != VMAPP_TRANSPORT_CLOSE_CONNECTION && !s->closed;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vmapp_transport_state s;
	struct vmapp_transport_limits l;
	struct vmapp_buf in = { 0 }, out = { 0 };
	struct shadow sh;

	if (size < 2)
		return 0;
	uint8_t mode = data[0];
	bool handshake = mode & 1;
	bool guest = mode & 2;
	size_t n_chunks = data[1] & 15;
	if (size < 2 + n_chunks)
		return 0;
	const uint8_t *chunks = data + 2;
	const uint8_t *stream = chunks + n_chunks;
	size_t stream_len = size - 2 - n_chunks;

	memset(&sh, 0, sizeof(sh));
	limits(&l);
	FUZZ_CHECK(vmapp_transport_init(&s, guest ? VMAPP_TRANSPORT_GUEST : VMAPP_TRANSPORT_HOST,
					&l) == 0);
	FUZZ_CHECK(vmapp_transport_send_hello(&s, &out) == 0);
	if (handshake) {
		/* The peer's HELLO: the least it may announce, so that this
		 * side's sends meet their limits too. */
		struct vmapp_buf hello = { 0 };
		uint8_t p[20];
		uint32_t words[5] = { VMAPP_TRANSPORT_MAGIC, VMAPP_TRANSPORT_VERSION,
				      VMAPP_TRANSPORT_MIN_PAYLOAD, 64, VMAPP_TRANSPORT_MIN_CREDIT };
		for (int i = 0; i < 5; i++)
			for (int k = 0; k < 4; k++)
				p[4 * i + k] = (uint8_t)(words[i] >> (8 * k));
		FUZZ_CHECK(vmapp_transport_append_frame(&hello, 0, VMAPP_TRANSPORT_HELLO, 0, p, 20) == 0);
		FUZZ_CHECK(one_frame(&s, &sh, &out, hello.data, (uint32_t)hello.len, mode));
		vmapp_buf_finish(&hello);
		FUZZ_CHECK(vmapp_transport_ready(&s));
		/* Only the guest opens: give a guest-side state channels to
		 * be hostile on. */
		if (guest) {
			for (uint32_t c = 1; c <= 2; c++) {
				FUZZ_CHECK(vmapp_transport_send_open(&s, &out, c) == 0);
				sh.window[c] = CREDIT;
				guest_channel(&s, &out, c);
			}
		} else {
			const char *argv[] = { "foot", "-e", "sh" };
			const char *envp[] = { "LANG=C.UTF-8" };
			FUZZ_CHECK(vmapp_transport_send_run(&s, &out, 1, argv, 3, envp, 1) == 0);
			FUZZ_CHECK(vmapp_transport_send_run(&s, &out, 2, argv, 1, NULL, 0) == 0);
			FUZZ_CHECK(vmapp_transport_send_list_apps(&s, &out) == 0);
			FUZZ_CHECK(vmapp_transport_send_signal(&s, &out, 1, 15) == 0);
			FUZZ_CHECK(vmapp_transport_send_signal(&s, &out, 3, 15) == -ENOENT);
			FUZZ_CHECK(vmapp_transport_send_signal(&s, &out, 1, 19) == -EINVAL);
		}
	}

	bool alive = true;
	size_t off = 0, k = 0;
	while (alive && off < stream_len) {
		size_t n = n_chunks ? (size_t)chunks[k++ % n_chunks] + 1 : stream_len;
		if (n > stream_len - off)
			n = stream_len - off;
		FUZZ_CHECK(vmapp_buf_append(&in, stream + off, n) == 0);
		off += n;

		while (alive) {
			uint32_t fsize = 0;
			enum vmapp_transport_rule p =
				vmapp_transport_peek(vmapp_buf_head(&in), vmapp_buf_size(&in), &fsize);
			if (p == VMAPP_TRANSPORT_RULE_HEADER_TRUNCATED) {
				FUZZ_CHECK(vmapp_buf_size(&in) < VMAPP_TRANSPORT_HEADER_SIZE);
				break;
			}
			if (p == VMAPP_TRANSPORT_RULE_FRAME_TRUNCATED) {
				/* Never more than one frame's ceiling buffered. */
				FUZZ_CHECK(vmapp_buf_size(&in) < VMAPP_TRANSPORT_HEADER_SIZE +
								       VMAPP_TRANSPORT_MAX_PAYLOAD);
				break;
			}
			if (p != VMAPP_TRANSPORT_RULE_OK) {
				/* A bad header: the stream is lost, whatever state. */
				struct vmapp_transport_frame f;
				enum vmapp_transport_action action;
				FUZZ_CHECK(p == VMAPP_TRANSPORT_RULE_FRAME_FLAGS ||
					   p == VMAPP_TRANSPORT_RULE_FRAME_TOO_LARGE);
				FUZZ_CHECK(vmapp_transport_decode(vmapp_buf_head(&in),
								  VMAPP_TRANSPORT_HEADER_SIZE, &f) == p);
				FUZZ_CHECK(vmapp_transport_receive(&s, &f, &action) != VMAPP_TRANSPORT_RULE_OK);
				FUZZ_CHECK(action == VMAPP_TRANSPORT_CLOSE_CONNECTION);
				if (fuzz_trace())
					fprintf(stderr, "header: %s\n", vmapp_transport_rule_name(p));
				alive = false;
				break;
			}
			alive = one_frame(&s, &sh, &out, vmapp_buf_head(&in), fsize, mode);
			vmapp_buf_consume(&in, fsize);
		}
	}
	if (!alive) {
		/* Nothing is heard after the end. */
		struct vmapp_transport_frame f = { 0 };
		enum vmapp_transport_action action;
		f.kind = VMAPP_TRANSPORT_HELLO;
		FUZZ_CHECK(vmapp_transport_receive(&s, &f, &action) ==
			   VMAPP_TRANSPORT_RULE_CONNECTION_CLOSED);
	}
	check_sent(&out);

	vmapp_transport_finish(&s);
	vmapp_buf_finish(&in);
	vmapp_buf_finish(&out);
	return 0;
}
