/* SPDX-License-Identifier: MIT */
/*
 * The transport codec (vmapp-transport(7)): every rule with hostile values,
 * what each refusal costs, the CLOSE and pipe handshakes, credit, and round
 * trips through every sender.  A host and a guest state talk through
 * buffers; hostile frames are built by hand and fed to one side.
 */
#include <errno.h>
#include <stdlib.h>

#include "msg.h"
#include "transport.h"

#define CHECK_TR(got, want) do { \
	enum vmapp_transport_rule got_ = (got), want_ = (want); \
	if (got_ != want_) { \
		fprintf(stderr, "%s:%d: %s: got rule %s, want %s\n", __FILE__, __LINE__, \
			#got, vmapp_transport_rule_name(got_), vmapp_transport_rule_name(want_)); \
		test_failures++; \
	} \
} while (0)

#define CHECK_ACT(want) do { \
	if (act != (want)) { \
		fprintf(stderr, "%s:%d: got action %s, want %s\n", __FILE__, __LINE__, \
			vmapp_transport_action_name(act), vmapp_transport_action_name(want)); \
		test_failures++; \
	} \
} while (0)

#define CHECK_INT(got, want) do { \
	long long got_ = (got), want_ = (want); \
	if (got_ != want_) { \
		fprintf(stderr, "%s:%d: %s: got %lld, want %lld\n", __FILE__, __LINE__, #got, \
			got_, want_); \
		test_failures++; \
	} \
} while (0)

enum {
	K_HELLO = VMAPP_TRANSPORT_HELLO, K_ERROR = VMAPP_TRANSPORT_ERROR,
	K_OPEN = VMAPP_TRANSPORT_OPEN, K_CLOSE = VMAPP_TRANSPORT_CLOSE,
	K_CREDIT = VMAPP_TRANSPORT_CREDIT, K_WAYLAND = VMAPP_TRANSPORT_WAYLAND,
	K_SHM_CREATE = VMAPP_TRANSPORT_SHM_CREATE, K_SHM_RESIZE = VMAPP_TRANSPORT_SHM_RESIZE,
	K_SHM_UPDATE = VMAPP_TRANSPORT_SHM_UPDATE, K_SHM_DESTROY = VMAPP_TRANSPORT_SHM_DESTROY,
	K_FD_CONTENT = VMAPP_TRANSPORT_FD_CONTENT, K_PIPE_OPEN = VMAPP_TRANSPORT_PIPE_OPEN,
	K_PIPE_DATA = VMAPP_TRANSPORT_PIPE_DATA, K_PIPE_END = VMAPP_TRANSPORT_PIPE_END,
	K_PIPE_CANCEL = VMAPP_TRANSPORT_PIPE_CANCEL, K_RUN = VMAPP_TRANSPORT_RUN,
	K_EXIT = VMAPP_TRANSPORT_EXIT, K_LIST_APPS = VMAPP_TRANSPORT_LIST_APPS,
	K_APPS = VMAPP_TRANSPORT_APPS, K_SIGNAL = VMAPP_TRANSPORT_SIGNAL,
	K_OUTPUT = VMAPP_TRANSPORT_OUTPUT, K_OUTPUT_CREDIT = VMAPP_TRANSPORT_OUTPUT_CREDIT,
};

#define R(id) VMAPP_TRANSPORT_RULE_##id
#define DELIVER VMAPP_TRANSPORT_DELIVER
#define DROP VMAPP_TRANSPORT_DROP
#define LOSE_CHANNEL VMAPP_TRANSPORT_CLOSE_CHANNEL
#define LOSE_CONNECTION VMAPP_TRANSPORT_CLOSE_CONNECTION
#define HREF VMAPP_TRANSPORT_HOST_REF_FIRST

static struct vmapp_transport_state H, G; /* host, guest */
static struct vmapp_buf hout, gout;       /* what each has sent */
static struct vmapp_transport_frame last; /* the last frame pump() decoded */
static enum vmapp_transport_action act;
static bool seen[VMAPP_TRANSPORT_RULE_COUNT];

static enum vmapp_transport_rule note(enum vmapp_transport_rule r)
{
	if ((unsigned)r < VMAPP_TRANSPORT_RULE_COUNT)
		seen[r] = true;
	return r;
}

/* The payload of the next hand-made frame. */
static uint8_t pl[VMAPP_TRANSPORT_MAX_PAYLOAD + 64];
static size_t pn;

static void p_reset(void)
{
	pn = 0;
}

static void p8(uint8_t v)
{
	pl[pn++] = v;
}

static void p32(uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p8((uint8_t)(v >> (8 * i)));
}

static void p64(uint64_t v)
{
	p32((uint32_t)v);
	p32((uint32_t)(v >> 32));
}

static void pbytes(const void *b, size_t n)
{
	memcpy(pl + pn, b, n);
	pn += n;
}

static void pstr(const char *s)
{
	pbytes(s, strlen(s) + 1);
}

static void pfill(uint8_t c, size_t n)
{
	memset(pl + pn, c, n);
	pn += n;
}

/* wl_display.sync(3): one whole Wayland message, native byte order. */
static void wl_sync(uint8_t out[12])
{
	uint32_t w[3] = { 1, 12u << 16, 3 };
	memcpy(out, w, 12);
}

static void pwl(void)
{
	uint8_t m[12];
	wl_sync(m);
	pbytes(m, 12);
}

/* Feeds a hand-made frame (the current payload) to `s`, as the peer would. */
static enum vmapp_transport_rule rx_flags(struct vmapp_transport_state *s, uint32_t ch,
					  uint16_t kind, uint16_t flags)
{
	struct vmapp_buf b = { 0 };
	struct vmapp_transport_frame f;

	if (vmapp_transport_append_frame(&b, ch, kind, flags, pl, pn) < 0)
		abort();
	note(vmapp_transport_decode(b.data, b.len, &f));
	enum vmapp_transport_rule r = vmapp_transport_receive(s, &f, &act);
	vmapp_buf_finish(&b);
	return note(r);
}

static enum vmapp_transport_rule rx(struct vmapp_transport_state *s, uint32_t ch, uint16_t kind)
{
	return rx_flags(s, ch, kind, 0);
}

/* Delivers what one side sent to the other, frame by frame, until one is
 * refused.  `last` is the last frame decoded (valid until `from` grows). */
static enum vmapp_transport_rule pump(struct vmapp_buf *from, struct vmapp_transport_state *to)
{
	while (vmapp_buf_size(from) > 0) {
		uint32_t size = 0;
		enum vmapp_transport_rule r =
			note(vmapp_transport_peek(vmapp_buf_head(from), vmapp_buf_size(from), &size));
		if (r != R(OK))
			return r;
		CHECK_TR(vmapp_transport_decode(vmapp_buf_head(from), size, &last), R(OK));
		r = note(vmapp_transport_receive(to, &last, &act));
		vmapp_buf_consume(from, size);
		if (r != R(OK))
			return r;
	}
	return R(OK);
}

static void teardown(void)
{
	vmapp_transport_finish(&H);
	vmapp_transport_finish(&G);
	vmapp_buf_finish(&hout);
	vmapp_buf_finish(&gout);
}

/* Small limits, so that every one of them is in reach. */
static void small_limits(struct vmapp_transport_limits *l)
{
	vmapp_transport_limits_default(l);
	l->max_payload = 16384;
	l->max_channels = 4;
	l->initial_credit = 8192;
	l->max_refs = 4;
	l->shm_bytes = 1 << 20;
}

/* A host and a guest with the handshake done. */
static void pair(void)
{
	struct vmapp_transport_limits l;

	teardown();
	small_limits(&l);
	CHECK_INT(vmapp_transport_init(&H, VMAPP_TRANSPORT_HOST, &l), 0);
	CHECK_INT(vmapp_transport_init(&G, VMAPP_TRANSPORT_GUEST, &l), 0);
	CHECK_INT(vmapp_transport_send_hello(&H, &hout), 0);
	CHECK_INT(vmapp_transport_send_hello(&G, &gout), 0);
	CHECK_TR(pump(&gout, &H), R(OK));
	CHECK_TR(pump(&hout, &G), R(OK));
	CHECK(vmapp_transport_ready(&H) && vmapp_transport_ready(&G));
}

/* The guest opens a channel, the host accepts it. */
static void open_ch(uint32_t ch)
{
	CHECK_INT(vmapp_transport_send_open(&G, &gout, ch), 0);
	CHECK_TR(pump(&gout, &H), R(OK));
	CHECK_ACT(DELIVER);
	CHECK_INT(vmapp_transport_channel_state(&H, ch), VMAPP_TRANSPORT_CHANNEL_OPEN);
}

static void hello_payload(uint32_t magic, uint32_t version, uint32_t max_payload,
			  uint32_t channels, uint32_t credit)
{
	p_reset();
	p32(magic);
	p32(version);
	p32(max_payload);
	p32(channels);
	p32(credit);
}

/* A host that has sent its HELLO and waits for the guest's. */
static void fresh_host(void)
{
	teardown();
	CHECK_INT(vmapp_transport_init(&H, VMAPP_TRANSPORT_HOST, NULL), 0);
	CHECK_INT(vmapp_transport_send_hello(&H, &hout), 0);
}

static void test_peek(void)
{
	uint8_t b[VMAPP_TRANSPORT_HEADER_SIZE + 8] = { 0 };
	uint32_t size = 0;

	/* Every short header wants more bytes. */
	for (size_t len = 0; len < VMAPP_TRANSPORT_HEADER_SIZE; len++)
		CHECK_TR(note(vmapp_transport_peek(b, len, &size)), R(HEADER_TRUNCATED));

	/* Hostile lengths stop at the header, before any buffering. */
	uint32_t lengths[] = { 0xffffffffu, 0xfffff000u, 0x80000000u,
			       VMAPP_TRANSPORT_MAX_PAYLOAD + 1 };
	for (size_t i = 0; i < sizeof(lengths) / sizeof(lengths[0]); i++) {
		b[8] = (uint8_t)lengths[i];
		b[9] = (uint8_t)(lengths[i] >> 8);
		b[10] = (uint8_t)(lengths[i] >> 16);
		b[11] = (uint8_t)(lengths[i] >> 24);
		CHECK_TR(note(vmapp_transport_peek(b, sizeof(b), &size)), R(FRAME_TOO_LARGE));
	}
	/* The ceiling itself is fine: it only wants its bytes. */
	uint32_t max = VMAPP_TRANSPORT_MAX_PAYLOAD;
	memcpy(b + 8, (uint8_t[]){ (uint8_t)max, (uint8_t)(max >> 8), (uint8_t)(max >> 16), 0 }, 4);
	CHECK_TR(vmapp_transport_peek(b, sizeof(b), &size), R(FRAME_TRUNCATED));

	/* 8 payload bytes: every shorter buffer wants more, the whole frame
	 * (in a longer buffer too) is OK. */
	memset(b, 0, sizeof(b));
	b[8] = 8;
	for (size_t len = VMAPP_TRANSPORT_HEADER_SIZE; len < sizeof(b); len++)
		CHECK_TR(note(vmapp_transport_peek(b, len, &size)), R(FRAME_TRUNCATED));
	CHECK_TR(vmapp_transport_peek(b, sizeof(b), &size), R(OK));
	CHECK_INT(size, 20);

	/* Any flag bit. */
	for (int bit = 0; bit < 16; bit++) {
		b[6] = (uint8_t)(1u << bit);
		b[7] = (uint8_t)((1u << bit) >> 8);
		CHECK_TR(note(vmapp_transport_peek(b, sizeof(b), &size)), R(FRAME_FLAGS));
	}

	/* decode says the same, and fills the header fields. */
	struct vmapp_transport_frame f;
	CHECK_TR(vmapp_transport_decode(b, sizeof(b), &f), R(FRAME_FLAGS));
	CHECK(f.flags == 0x8000 && f.length == 8 && f.rule == R(FRAME_FLAGS));
	CHECK_TR(vmapp_transport_decode(b, 5, &f), R(HEADER_TRUNCATED));
	CHECK(f.payload == NULL);
}

static void test_handshake(void)
{
	/* Anything before HELLO costs the connection. */
	uint16_t early[] = { K_OPEN, K_WAYLAND, K_CREDIT, K_CLOSE };
	for (size_t i = 0; i < sizeof(early) / sizeof(early[0]); i++) {
		fresh_host();
		p_reset();
		if (early[i] == K_CREDIT || early[i] == K_CLOSE)
			p32(1);
		if (early[i] == K_WAYLAND) {
			p32(0);
			pwl();
		}
		CHECK_TR(rx(&H, 1, early[i]), R(HANDSHAKE_MISSING));
		CHECK_ACT(LOSE_CONNECTION);
		CHECK(H.closed);
		/* ... and nothing is heard after that. */
		hello_payload(VMAPP_TRANSPORT_MAGIC, 1, VMAPP_TRANSPORT_MAX_PAYLOAD, 8, 65536);
		CHECK_TR(rx(&H, 0, K_HELLO), R(CONNECTION_CLOSED));
		CHECK_ACT(LOSE_CONNECTION);
	}
	fresh_host();
	p_reset();
	CHECK_TR(rx(&H, 0, K_LIST_APPS), R(HANDSHAKE_MISSING));
	/* HELLO on a data channel is no handshake either. */
	fresh_host();
	hello_payload(VMAPP_TRANSPORT_MAGIC, 1, VMAPP_TRANSPORT_MAX_PAYLOAD, 8, 65536);
	CHECK_TR(rx(&H, 1, K_HELLO), R(HANDSHAKE_MISSING));

	/* Version mismatch: said, then answered with an ERROR first. */
	fresh_host();
	hello_payload(VMAPP_TRANSPORT_MAGIC, 2, VMAPP_TRANSPORT_MAX_PAYLOAD, 8, 65536);
	CHECK_TR(rx(&H, 0, K_HELLO), R(HELLO_VERSION));
	CHECK_ACT(LOSE_CONNECTION);
	CHECK_INT(vmapp_transport_rule_reason(R(HELLO_VERSION)), VMAPP_TRANSPORT_REASON_VERSION);
	CHECK_INT(vmapp_transport_send_error(&H, &hout, VMAPP_TRANSPORT_REASON_VERSION,
					     vmapp_transport_rule_name(R(HELLO_VERSION))), 0);
	{
		struct vmapp_transport_state peer;
		CHECK_INT(vmapp_transport_init(&peer, VMAPP_TRANSPORT_GUEST, NULL), 0);
		CHECK_TR(pump(&hout, &peer), R(OK)); /* HELLO */
		CHECK_ACT(DELIVER);
		CHECK(last.kind == K_ERROR && last.error.code == VMAPP_TRANSPORT_REASON_VERSION);
		CHECK(strcmp(last.error.text, "hello-version") == 0 && last.error.text_len == 13);
		CHECK(peer.closed);
		vmapp_transport_finish(&peer);
	}
	/* A later version's longer HELLO still hears "version". */
	fresh_host();
	hello_payload(VMAPP_TRANSPORT_MAGIC, 2, VMAPP_TRANSPORT_MAX_PAYLOAD, 8, 65536);
	p32(0);
	p32(0);
	CHECK_TR(rx(&H, 0, K_HELLO), R(HELLO_VERSION));
	fresh_host();
	hello_payload(VMAPP_TRANSPORT_MAGIC, 0, VMAPP_TRANSPORT_MAX_PAYLOAD, 8, 65536);
	CHECK_TR(rx(&H, 0, K_HELLO), R(HELLO_VERSION));
	fresh_host();
	hello_payload(0x00564d50, 1, VMAPP_TRANSPORT_MAX_PAYLOAD, 8, 65536);
	CHECK_TR(rx(&H, 0, K_HELLO), R(HELLO_MAGIC));
	CHECK_INT(vmapp_transport_rule_reason(R(HELLO_MAGIC)), VMAPP_TRANSPORT_REASON_VERSION);

	/* Every wrong size of HELLO, 0 to 24 bytes. */
	for (size_t size = 0; size <= 24; size++) {
		if (size == 20)
			continue;
		fresh_host();
		hello_payload(VMAPP_TRANSPORT_MAGIC, 1, VMAPP_TRANSPORT_MAX_PAYLOAD, 8, 65536);
		p32(0);
		pn = size;
		CHECK_TR(rx(&H, 0, K_HELLO), R(HELLO_SIZE));
		CHECK_ACT(LOSE_CONNECTION);
	}

	/* Limits out of their ranges. */
	uint32_t bad[][3] = {
		{ VMAPP_TRANSPORT_MIN_PAYLOAD - 1, 8, 65536 },
		{ VMAPP_TRANSPORT_MAX_PAYLOAD + 1, 8, 65536 },
		{ 0xffffffffu, 8, 65536 },
		{ VMAPP_TRANSPORT_MAX_PAYLOAD, 0, 65536 },
		{ VMAPP_TRANSPORT_MAX_PAYLOAD, VMAPP_TRANSPORT_MAX_CHANNELS + 1, 65536 },
		{ VMAPP_TRANSPORT_MAX_PAYLOAD, 8, VMAPP_TRANSPORT_MIN_CREDIT - 1 },
		{ VMAPP_TRANSPORT_MAX_PAYLOAD, 8, VMAPP_TRANSPORT_MAX_CREDIT + 1 },
		{ VMAPP_TRANSPORT_MAX_PAYLOAD, 8, 0 },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		fresh_host();
		hello_payload(VMAPP_TRANSPORT_MAGIC, 1, bad[i][0], bad[i][1], bad[i][2]);
		CHECK_TR(rx(&H, 0, K_HELLO), R(HELLO_LIMITS));
	}

	/* A good HELLO: the channel count is the lower of both. */
	fresh_host();
	hello_payload(VMAPP_TRANSPORT_MAGIC, 1, VMAPP_TRANSPORT_MIN_PAYLOAD, 3,
		      VMAPP_TRANSPORT_MIN_CREDIT);
	CHECK(pl[0] == 0x00 && pl[1] == 'V' && pl[2] == 'M' && pl[3] == 'P');
	CHECK_TR(rx(&H, 0, K_HELLO), R(OK));
	CHECK_ACT(DELIVER);
	CHECK(vmapp_transport_ready(&H) && H.n_channels == 3);
	CHECK_TR(rx(&H, 0, K_HELLO), R(HELLO_DUPLICATE));
	CHECK_ACT(LOSE_CONNECTION);

	/* Before its own HELLO went, a side sends nothing else. */
	teardown();
	CHECK_INT(vmapp_transport_init(&G, VMAPP_TRANSPORT_GUEST, NULL), 0);
	CHECK_INT(vmapp_transport_send_open(&G, &gout, 1), -ENOTCONN);
	CHECK_INT(vmapp_transport_next_channel(&G), 0);
	CHECK_INT(vmapp_transport_send_hello(&G, &gout), 0);
	CHECK_INT(vmapp_transport_send_hello(&G, &gout), -EALREADY);
	CHECK_INT(vmapp_transport_send_open(&G, &gout, 1), -ENOTCONN);

	/* An ERROR may come first, and ends everything. */
	fresh_host();
	p_reset();
	p32(VMAPP_TRANSPORT_REASON_INTERNAL);
	pstr("busy");
	CHECK_TR(rx(&H, 0, K_ERROR), R(OK));
	CHECK_ACT(DELIVER);
	CHECK(H.closed && !vmapp_transport_ready(&H));
	CHECK_INT(vmapp_transport_send_list_apps(&H, &hout), -ENOTCONN);
	CHECK_INT(vmapp_transport_send_signal(&H, &hout, 1, 15), -ENOTCONN);

	/* Over this side's own max_payload, under the protocol's. */
	pair();
	p_reset();
	p32(0);
	for (int i = 0; i < 1366; i++)
		pwl(); /* 4 + 16392 bytes > 16384 */
	CHECK_TR(rx(&H, 1, K_WAYLAND), R(FRAME_TOO_LARGE));
	CHECK_ACT(LOSE_CONNECTION);

	/* Flags set on a frame that peek was not asked about. */
	pair();
	p_reset();
	CHECK_TR(rx_flags(&H, 1, K_OPEN, 1), R(FRAME_FLAGS));
	CHECK_ACT(LOSE_CONNECTION);

	/* Local limits outside the protocol's ranges. */
	struct vmapp_transport_limits l;
	struct vmapp_transport_state s;
	vmapp_transport_limits_default(&l);
	l.initial_credit = 100;
	CHECK_INT(vmapp_transport_init(&s, VMAPP_TRANSPORT_HOST, &l), -EINVAL);
	vmapp_transport_limits_default(&l);
	l.max_refs = 0;
	CHECK_INT(vmapp_transport_init(&s, VMAPP_TRANSPORT_HOST, &l), -EINVAL);
	CHECK_INT(vmapp_transport_init(&s, (enum vmapp_transport_role)7, NULL), -EINVAL);
}

static void test_kinds(void)
{
	/* Unknown kinds: on channel 0 the connection, on a channel that
	 * channel. */
	uint16_t unknown[] = { 0x00, 0x06, 0x0f, 0x11, 0x24, 0x31, 0x44, 0x57, 0x60, 0xffff };
	for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
		pair();
		p_reset();
		CHECK_TR(rx(&H, 0, unknown[i]), R(KIND_UNKNOWN));
		CHECK_ACT(LOSE_CONNECTION);
		pair();
		open_ch(1);
		open_ch(2);
		p_reset();
		p32(1);
		CHECK_TR(rx(&H, 1, unknown[i]), R(KIND_UNKNOWN));
		CHECK_ACT(LOSE_CHANNEL);
		CHECK_INT(vmapp_transport_channel_state(&H, 1), VMAPP_TRANSPORT_CHANNEL_LOST);
		CHECK_INT(vmapp_transport_channel_state(&H, 2), VMAPP_TRANSPORT_CHANNEL_OPEN);
		CHECK(vmapp_transport_ready(&H));
	}
	/* Channel id 0 for channel kinds: a framing error. */
	uint16_t channel_kinds[] = { K_OPEN, K_CLOSE, K_CREDIT, K_WAYLAND, K_SHM_CREATE,
				     K_SHM_UPDATE, K_FD_CONTENT, K_PIPE_OPEN, K_PIPE_DATA };
	for (size_t i = 0; i < sizeof(channel_kinds) / sizeof(channel_kinds[0]); i++) {
		pair();
		p_reset();
		p32(0);
		pwl();
		CHECK_TR(rx(&H, 0, channel_kinds[i]), R(KIND_CHANNEL));
		CHECK_ACT(LOSE_CONNECTION);
	}
	/* Control kinds on a channel cost that channel. */
	uint16_t control[] = { K_HELLO, K_ERROR, K_RUN, K_EXIT, K_LIST_APPS, K_APPS, K_SIGNAL,
			       K_OUTPUT, K_OUTPUT_CREDIT };
	for (size_t i = 0; i < sizeof(control) / sizeof(control[0]); i++) {
		pair();
		open_ch(2);
		p_reset();
		CHECK_TR(rx(&H, 2, control[i]), R(KIND_CHANNEL));
		CHECK_ACT(LOSE_CHANNEL);
		CHECK(vmapp_transport_ready(&H));
	}
	/* Channel ids past the lower max_channels. */
	pair();
	p_reset();
	CHECK_TR(rx(&H, 5, K_OPEN), R(CHANNEL_RANGE));
	CHECK_ACT(LOSE_CONNECTION);
	pair();
	CHECK_TR(rx(&H, 0xffffffffu, K_OPEN), R(CHANNEL_RANGE));
	pair();
	CHECK_INT(vmapp_transport_send_open(&G, &gout, 5), -EINVAL);
	CHECK_INT(vmapp_transport_send_open(&G, &gout, 0), -EINVAL);
	/* Who sends what. */
	pair();
	p_reset();
	CHECK_TR(rx(&G, 1, K_OPEN), R(KIND_DIRECTION));
	CHECK_ACT(LOSE_CHANNEL);
	CHECK_INT(vmapp_transport_send_open(&H, &hout, 1), -EPERM);

	/* Names. */
	for (int r = 0; r < VMAPP_TRANSPORT_RULE_COUNT; r++) {
		const char *name = vmapp_transport_rule_name((enum vmapp_transport_rule)r);
		CHECK(name && *name && strcmp(name, "unknown-rule") != 0);
		for (int k = 0; k < r; k++)
			CHECK(strcmp(name, vmapp_transport_rule_name((enum vmapp_transport_rule)k)));
	}
	CHECK(strcmp(vmapp_transport_rule_name(VMAPP_TRANSPORT_RULE_COUNT), "unknown-rule") == 0);
	CHECK(strcmp(vmapp_transport_kind_name(K_SHM_UPDATE), "SHM_UPDATE") == 0);
	CHECK(strcmp(vmapp_transport_kind_name(K_SIGNAL), "SIGNAL") == 0);
	CHECK(K_SIGNAL == 0x54);
	CHECK(strcmp(vmapp_transport_kind_name(K_OUTPUT), "OUTPUT") == 0 && K_OUTPUT == 0x55);
	CHECK(vmapp_transport_kind_name(0) == NULL);
	CHECK(vmapp_transport_kind_is_data(K_WAYLAND) && vmapp_transport_kind_is_data(K_PIPE_DATA) &&
	      vmapp_transport_kind_is_data(K_SHM_UPDATE) &&
	      vmapp_transport_kind_is_data(K_FD_CONTENT) && !vmapp_transport_kind_is_data(K_CLOSE) &&
	      !vmapp_transport_kind_is_data(K_SHM_CREATE));
	CHECK_INT(vmapp_transport_rule_reason(R(LIMIT_SHM)), VMAPP_TRANSPORT_REASON_LIMIT);
	CHECK_INT(vmapp_transport_rule_reason(R(SHM_RANGE)), VMAPP_TRANSPORT_REASON_PROTOCOL);
	CHECK_INT(vmapp_transport_rule_reason(R(OK)), VMAPP_TRANSPORT_REASON_NORMAL);
}

/* Every payload size a kind must refuse, with bytes that would otherwise
 * pass, through the pure decoder. */
static void test_payload_sizes(void)
{
	static const struct {
		uint16_t kind;
		uint32_t channel;
		uint32_t size; /* exact, or the least when `min` */
		bool min;
	} kinds[] = {
		{ K_ERROR, 0, 5, true }, { K_OPEN, 1, 0, false },
		{ K_CLOSE, 1, 4, false }, { K_CREDIT, 1, 4, false },
		{ K_WAYLAND, 1, 4, true }, { K_SHM_CREATE, 1, 12, false },
		{ K_SHM_RESIZE, 1, 12, false }, { K_SHM_UPDATE, 1, 12, true },
		{ K_SHM_DESTROY, 1, 4, false }, { K_FD_CONTENT, 1, 20, true },
		{ K_PIPE_OPEN, 1, 5, false }, { K_PIPE_DATA, 1, 4, true },
		{ K_PIPE_END, 1, 4, false }, { K_PIPE_CANCEL, 1, 4, false },
		{ K_RUN, 0, 12, true }, { K_EXIT, 0, 8, false },
		{ K_LIST_APPS, 0, 0, false }, { K_APPS, 0, 4, true },
		{ K_SIGNAL, 0, 8, false },
	};
	struct vmapp_buf b = { 0 };
	struct vmapp_transport_frame f;

	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		uint32_t top = kinds[k].size + 8;
		for (uint32_t size = 0; size <= top; size++) {
			if (size == kinds[k].size || (kinds[k].min && size > kinds[k].size))
				continue;
			p_reset();
			pfill(0x01, size);
			vmapp_buf_finish(&b);
			CHECK_INT(vmapp_transport_append_frame(&b, kinds[k].channel, kinds[k].kind, 0,
							       pl, pn), 0);
			enum vmapp_transport_rule r = note(vmapp_transport_decode(b.data, b.len, &f));
			if (r != R(PAYLOAD_SIZE))
				fprintf(stderr, "%s with %u bytes: %s\n",
					vmapp_transport_kind_name(kinds[k].kind), size,
					vmapp_transport_rule_name(r));
			CHECK(r == R(PAYLOAD_SIZE));
			CHECK(f.rule == r && f.length == size && f.kind == kinds[k].kind);
		}
	}
	/* The same frame, one byte short of its header's length. */
	p_reset();
	p32(1);
	vmapp_buf_finish(&b);
	vmapp_transport_append_frame(&b, 1, K_CLOSE, 0, pl, pn);
	CHECK_TR(vmapp_transport_decode(b.data, b.len - 1, &f), R(FRAME_TRUNCATED));
	vmapp_buf_finish(&b);

	/* Through receive, a payload mismatch costs the channel. */
	pair();
	open_ch(1);
	p_reset();
	p32(1);
	p8(0);
	CHECK_TR(rx(&H, 1, K_SHM_DESTROY), R(PAYLOAD_SIZE));
	CHECK_ACT(LOSE_CHANNEL);
	/* and on channel 0 the connection. */
	pair();
	p_reset();
	p32(1);
	CHECK_TR(rx(&H, 0, K_EXIT), R(PAYLOAD_SIZE));
	CHECK_ACT(LOSE_CONNECTION);
}

static void test_channels(void)
{
	pair();
	CHECK_INT(vmapp_transport_next_channel(&G), 1);
	open_ch(1);
	CHECK_INT(vmapp_transport_next_channel(&G), 2);
	CHECK_INT(vmapp_transport_send_open(&G, &gout, 1), -EEXIST);

	/* Reuse of an open id costs that id. */
	p_reset();
	CHECK_TR(rx(&H, 1, K_OPEN), R(CHANNEL_IN_USE));
	CHECK_ACT(LOSE_CHANNEL);
	CHECK_INT(vmapp_transport_channel_state(&H, 1), VMAPP_TRANSPORT_CHANNEL_LOST);
	/* What the guest sent before it saw the CLOSE is dropped quietly. */
	p_reset();
	p32(0);
	pwl();
	CHECK_TR(rx(&H, 1, K_WAYLAND), R(OK));
	CHECK_ACT(DROP);
	p_reset();
	CHECK_TR(rx(&H, 1, K_OPEN), R(CHANNEL_IN_USE));
	CHECK_ACT(DROP);
	CHECK_INT(vmapp_transport_send_close(&H, &hout, 1, VMAPP_TRANSPORT_REASON_PROTOCOL), 0);
	CHECK_INT(vmapp_transport_channel_state(&H, 1), VMAPP_TRANSPORT_CHANNEL_CLOSING);
	CHECK_INT(vmapp_transport_send_close(&H, &hout, 1, 0), -EPIPE);
	/* The guest gets the CLOSE, acknowledges, the id is free on both. */
	CHECK_TR(pump(&hout, &G), R(OK));
	CHECK_ACT(DELIVER);
	CHECK(last.kind == K_CLOSE && last.close.reason == VMAPP_TRANSPORT_REASON_PROTOCOL);
	CHECK_INT(vmapp_transport_channel_state(&G, 1), VMAPP_TRANSPORT_CHANNEL_PEER_CLOSED);
	CHECK_INT(vmapp_transport_send_open(&G, &gout, 1), -EEXIST);
	CHECK_INT(vmapp_transport_send_wayland(&G, &gout, 1, NULL, 0, pl, 12), -EPIPE);
	CHECK_INT(vmapp_transport_send_close(&G, &gout, 1, 0), 0);
	CHECK_INT(vmapp_transport_channel_state(&G, 1), VMAPP_TRANSPORT_CHANNEL_FREE);
	/* Reopened at once: the host sees the ack before the OPEN. */
	CHECK_INT(vmapp_transport_send_open(&G, &gout, 1), 0);
	CHECK_TR(pump(&gout, &H), R(OK));
	CHECK_INT(vmapp_transport_channel_state(&H, 1), VMAPP_TRANSPORT_CHANNEL_OPEN);

	/* The guest closes; the host acknowledges. */
	CHECK_INT(vmapp_transport_send_close(&G, &gout, 1, VMAPP_TRANSPORT_REASON_NORMAL), 0);
	CHECK_TR(pump(&gout, &H), R(OK));
	CHECK_ACT(DELIVER);
	CHECK_INT(vmapp_transport_channel_state(&H, 1), VMAPP_TRANSPORT_CHANNEL_PEER_CLOSED);
	/* An OPEN before the ack is a reuse: dropped, said. */
	p_reset();
	CHECK_TR(rx(&H, 1, K_OPEN), R(CHANNEL_IN_USE));
	CHECK_ACT(DROP);
	p_reset();
	p32(100);
	CHECK_TR(rx(&H, 1, K_CREDIT), R(CHANNEL_NOT_OPEN));
	CHECK_ACT(DROP);
	CHECK_INT(vmapp_transport_send_close(&H, &hout, 1, 0), 0);
	CHECK_TR(pump(&hout, &G), R(OK));
	CHECK_ACT(DROP); /* the ack: nothing to do */
	CHECK_INT(vmapp_transport_channel_state(&G, 1), VMAPP_TRANSPORT_CHANNEL_FREE);
	CHECK_INT(vmapp_transport_channel_state(&H, 1), VMAPP_TRANSPORT_CHANNEL_FREE);

	/* Both close at once: each CLOSE is the other's ack. */
	open_ch(2);
	CHECK_INT(vmapp_transport_send_close(&G, &gout, 2, 0), 0);
	CHECK_INT(vmapp_transport_send_close(&H, &hout, 2, 0), 0);
	CHECK_TR(pump(&gout, &H), R(OK));
	CHECK_ACT(DROP);
	CHECK_TR(pump(&hout, &G), R(OK));
	CHECK_ACT(DROP);
	CHECK_INT(vmapp_transport_channel_state(&G, 2), VMAPP_TRANSPORT_CHANNEL_FREE);
	CHECK_INT(vmapp_transport_channel_state(&H, 2), VMAPP_TRANSPORT_CHANNEL_FREE);

	/* Close of a channel that was never opened. */
	p_reset();
	p32(0);
	CHECK_TR(rx(&H, 3, K_CLOSE), R(CHANNEL_NOT_OPEN));
	CHECK_ACT(DROP);
	CHECK_INT(vmapp_transport_send_close(&H, &hout, 3, 0), -EPIPE);
	/* Data on one too. */
	p_reset();
	p32(1);
	CHECK_TR(rx(&H, 3, K_PIPE_END), R(CHANNEL_NOT_OPEN));
	CHECK_ACT(DROP);

	/* A malformed OPEN: the opener learns by a CLOSE. */
	p_reset();
	p32(0);
	CHECK_TR(rx(&H, 3, K_OPEN), R(PAYLOAD_SIZE));
	CHECK_ACT(LOSE_CHANNEL);
	CHECK_INT(vmapp_transport_channel_state(&H, 3), VMAPP_TRANSPORT_CHANNEL_LOST);
	/* Its CLOSE crossing ours: this side's CLOSE is still due. */
	p_reset();
	p32(0);
	CHECK_TR(rx(&H, 3, K_CLOSE), R(OK));
	CHECK_ACT(DROP);
	CHECK_INT(vmapp_transport_channel_state(&H, 3), VMAPP_TRANSPORT_CHANNEL_PEER_CLOSED);
	CHECK_INT(vmapp_transport_send_close(&H, &hout, 3, 0), 0);
	CHECK_INT(vmapp_transport_channel_state(&H, 3), VMAPP_TRANSPORT_CHANNEL_FREE);

	/* A malformed CLOSE still ends a closing channel. */
	pair();
	open_ch(1);
	CHECK_INT(vmapp_transport_send_close(&H, &hout, 1, 0), 0);
	p_reset();
	CHECK_TR(rx(&H, 1, K_CLOSE), R(PAYLOAD_SIZE));
	CHECK_ACT(DROP);
	CHECK_INT(vmapp_transport_channel_state(&H, 1), VMAPP_TRANSPORT_CHANNEL_FREE);

	/* All ids taken. */
	pair();
	for (uint32_t i = 1; i <= 4; i++)
		open_ch(i);
	CHECK_INT(vmapp_transport_next_channel(&G), 0);
}

/* The guest creates a pipe it writes into, on channel 1. */
static void guest_pipe(uint32_t ref)
{
	CHECK_INT(vmapp_transport_send_pipe_open(&G, &gout, 1, ref,
						 VMAPP_TRANSPORT_PIPE_FROM_CREATOR), 0);
	CHECK_TR(pump(&gout, &H), R(OK));
}

static void pipe_data(uint32_t ref, size_t bytes)
{
	p_reset();
	p32(ref);
	pfill(0x5a, bytes);
}

static void test_credit(void)
{
	pair();
	open_ch(1);
	open_ch(2);
	guest_pipe(7);
	const struct vmapp_transport_channel *hc = &H.channels[1];
	CHECK_INT(hc->recv_credit, 8192);

	/* 8000 + 193 is one byte over 8192. */
	pipe_data(7, 7996);
	CHECK_TR(rx(&H, 1, K_PIPE_DATA), R(OK));
	CHECK_ACT(DELIVER);
	CHECK_INT(hc->recv_credit, 192);
	CHECK_INT(hc->held, 8000);
	pipe_data(7, 189);
	CHECK_TR(rx(&H, 1, K_PIPE_DATA), R(CREDIT_EXCEEDED));
	CHECK_ACT(LOSE_CHANNEL);
	/* The other channel goes on. */
	p_reset();
	p32(0);
	pwl();
	CHECK_TR(rx(&H, 2, K_WAYLAND), R(OK));
	CHECK_ACT(DELIVER);

	/* Exactly the credit is fine; consumed bytes come back as CREDIT. */
	pair();
	open_ch(1);
	open_ch(2);
	guest_pipe(7);
	hc = &H.channels[1];
	const struct vmapp_transport_channel *gc = &G.channels[1];
	uint8_t big[8192] = { 0 };
	CHECK_INT(vmapp_transport_send_room(&G, 1), 8192);
	CHECK_INT(vmapp_transport_send_pipe_data(&G, &gout, 1, 7, big, 8189), -EMSGSIZE);
	CHECK_INT(vmapp_transport_send_pipe_data(&G, &gout, 1, 7, big, 4000), 0);
	CHECK_INT(vmapp_transport_send_pipe_data(&G, &gout, 1, 7, big, 4184), 0);
	CHECK_INT(gc->send_credit, 0);
	CHECK_INT(vmapp_transport_send_room(&G, 1), 0);
	CHECK_INT(vmapp_transport_send_pipe_data(&G, &gout, 1, 7, big, 0), -EAGAIN);
	CHECK_TR(pump(&gout, &H), R(OK));
	CHECK_INT(hc->recv_credit, 0);
	CHECK_INT(hc->held, 8192);
	/* The stalled channel 1 does not stop channel 2. */
	CHECK_INT(vmapp_transport_send_wayland(&G, &gout, 2, NULL, 0, (uint8_t[12]){ 0 }, 12),
		  -EINVAL); /* not a whole Wayland message */
	uint8_t m[12];
	wl_sync(m);
	CHECK_INT(vmapp_transport_send_wayland(&G, &gout, 2, NULL, 0, m, 12), 0);
	CHECK_TR(pump(&gout, &H), R(OK));
	CHECK_ACT(DELIVER);

	CHECK_INT(vmapp_transport_consume(&H, 1, 8193), -EINVAL);
	CHECK_INT(vmapp_transport_send_credit(&H, &hout, 1), 0);
	CHECK_INT(vmapp_buf_size(&hout), 0); /* nothing due yet */
	CHECK_INT(vmapp_transport_consume(&H, 1, 4004), 0);
	CHECK_INT(hc->held + hc->due + hc->recv_credit, 8192);
	CHECK_INT(vmapp_transport_send_credit(&H, &hout, 1), 0);
	CHECK_INT(hc->recv_credit, 4004);
	CHECK_TR(pump(&hout, &G), R(OK));
	CHECK(last.kind == K_CREDIT && last.credit.bytes == 4004);
	CHECK_INT(gc->send_credit, 4004);
	CHECK_INT(vmapp_transport_send_room(&G, 1), 4004);

	/* CREDIT beyond the window the receiver announced. */
	p_reset();
	p32(8192 - 4004 + 1);
	CHECK_TR(rx(&G, 1, K_CREDIT), R(CREDIT_OVERFLOW));
	CHECK_ACT(LOSE_CHANNEL);
	pair();
	open_ch(1);
	p_reset();
	p32(1);
	CHECK_TR(rx(&G, 1, K_CREDIT), R(CREDIT_OVERFLOW)); /* window already full */
	pair();
	open_ch(1);
	p_reset();
	p32(0xffffffffu);
	CHECK_TR(rx(&G, 1, K_CREDIT), R(CREDIT_OVERFLOW));
	pair();
	open_ch(1);
	p_reset();
	p32(0);
	CHECK_TR(rx(&G, 1, K_CREDIT), R(CREDIT_ZERO));
	CHECK_ACT(LOSE_CHANNEL);

	/* Consume and credit on channels that are not open: nothing. */
	CHECK_INT(vmapp_transport_consume(&H, 3, 10), 0);
	CHECK_INT(vmapp_transport_send_credit(&H, &hout, 3), 0);
	CHECK_INT(vmapp_transport_send_credit(&H, &hout, 9), -EINVAL);
}

static void test_shm(void)
{
	pair();
	open_ch(1);
	open_ch(2);
	CHECK_INT(vmapp_transport_send_shm_create(&G, &gout, 1, 10, 4096), 0);
	CHECK_TR(pump(&gout, &H), R(OK));
	const struct vmapp_transport_ref *r = vmapp_transport_ref_get(&H, 1, 10);
	CHECK(r && r->type == VMAPP_TRANSPORT_REF_SHM && r->size == 4096 && !r->ours);
	CHECK_INT(H.shm_bytes, 4096);

	/* The last byte, and one past it. */
	p_reset();
	p32(10);
	p64(4095);
	p8(1);
	CHECK_TR(rx(&H, 1, K_SHM_UPDATE), R(OK));
	CHECK_ACT(DELIVER);
	p_reset();
	p32(10);
	p64(4095);
	p8(1);
	p8(2);
	CHECK_TR(rx(&H, 1, K_SHM_UPDATE), R(SHM_RANGE));
	CHECK_ACT(LOSE_CHANNEL);
	CHECK_INT(H.shm_bytes, 0); /* the lost channel's pool is forgotten */
	CHECK(vmapp_transport_ref_get(&H, 1, 10) == NULL);

	/* offset + length wrapping 64 bits: refused by the decoder. */
	uint64_t offsets[] = { UINT64_MAX, UINT64_MAX - 3, UINT64_C(0xfffffffffffff000),
			       UINT64_C(1) << 63 };
	for (size_t i = 0; i < sizeof(offsets) / sizeof(offsets[0]); i++) {
		CHECK_INT(vmapp_transport_send_shm_create(&G, &gout, 2, 11 + (uint32_t)i, 4096), 0);
		CHECK_TR(pump(&gout, &H), R(OK));
		p_reset();
		p32(11 + (uint32_t)i);
		p64(offsets[i]);
		pfill(0xff, 4096);
		/* The first three wrap (the decoder), the last is only far
		 * outside the pool (the state). */
		CHECK_TR(rx(&H, 2, K_SHM_UPDATE), R(SHM_RANGE));
		CHECK_ACT(LOSE_CHANNEL);
		CHECK_INT(vmapp_transport_send_close(&H, &hout, 2, 0), 0);
		CHECK_INT(vmapp_transport_send_close(&G, &gout, 2, 0), 0);
		CHECK_TR(pump(&gout, &H), R(OK));
		CHECK_TR(pump(&hout, &G), R(OK));
		open_ch(2);
	}

	/* Resize: growth only. */
	pair();
	open_ch(1);
	CHECK_INT(vmapp_transport_send_shm_create(&G, &gout, 1, 10, 4096), 0);
	CHECK_INT(vmapp_transport_send_shm_resize(&G, &gout, 1, 10, 4096), 0);
	CHECK_INT(vmapp_transport_send_shm_resize(&G, &gout, 1, 10, 8192), 0);
	CHECK_INT(vmapp_transport_send_shm_resize(&G, &gout, 1, 10, 8191), -EINVAL);
	uint8_t px[4] = { 1, 2, 3, 4 };
	CHECK_INT(vmapp_transport_send_shm_update(&G, &gout, 1, 10, 8188, px, 4), 0);
	CHECK_INT(vmapp_transport_send_shm_update(&G, &gout, 1, 10, 8189, px, 4), -EINVAL);
	CHECK_INT(vmapp_transport_send_shm_update(&G, &gout, 1, 10, UINT64_MAX, px, 4), -EINVAL);
	CHECK_TR(pump(&gout, &H), R(OK));
	CHECK(last.kind == K_SHM_UPDATE && last.shm_update.offset == 8188 &&
	      last.shm_update.size == 4 && memcmp(last.shm_update.data, px, 4) == 0);
	CHECK_INT(vmapp_transport_ref_get(&H, 1, 10)->size, 8192);
	CHECK_INT(H.shm_bytes, 8192);
	p_reset();
	p32(10);
	p64(8191);
	CHECK_TR(rx(&H, 1, K_SHM_RESIZE), R(SHM_SHRINK));
	CHECK_ACT(LOSE_CHANNEL);
	CHECK_INT(H.shm_bytes, 0);

	/* Size 0, ref 0, refs in the host's range, refs reused. */
	pair();
	open_ch(1);
	p_reset();
	p32(10);
	p64(0);
	CHECK_TR(rx(&H, 1, K_SHM_CREATE), R(SHM_SIZE));
	pair();
	open_ch(1);
	p_reset();
	p32(0);
	p64(4096);
	CHECK_TR(rx(&H, 1, K_SHM_CREATE), R(REF_RANGE));
	pair();
	open_ch(1);
	p_reset();
	p32(HREF);
	p64(4096);
	CHECK_TR(rx(&H, 1, K_SHM_CREATE), R(REF_RANGE));
	CHECK_INT(vmapp_transport_send_shm_create(&G, &gout, 1, HREF, 4096), -EINVAL);
	CHECK_INT(vmapp_transport_send_shm_create(&G, &gout, 1, 10, 0), -EINVAL);
	pair();
	open_ch(1);
	CHECK_INT(vmapp_transport_send_shm_create(&G, &gout, 1, 10, 4096), 0);
	CHECK_INT(vmapp_transport_send_shm_create(&G, &gout, 1, 10, 4096), -EEXIST);
	CHECK_TR(pump(&gout, &H), R(OK));
	p_reset();
	p32(10);
	p64(4096);
	CHECK_TR(rx(&H, 1, K_SHM_CREATE), R(REF_IN_USE));
	CHECK_ACT(LOSE_CHANNEL);

	/* Destroyed, a ref may be used again; unknown refs are refused. */
	pair();
	open_ch(1);
	CHECK_INT(vmapp_transport_send_shm_create(&G, &gout, 1, 10, 4096), 0);
	CHECK_INT(vmapp_transport_send_shm_destroy(&G, &gout, 1, 10), 0);
	CHECK_INT(vmapp_transport_send_shm_destroy(&G, &gout, 1, 10), -ENOENT);
	CHECK_INT(vmapp_transport_send_shm_create(&G, &gout, 1, 10, 100), 0);
	CHECK_TR(pump(&gout, &H), R(OK));
	CHECK_INT(H.shm_bytes, 100);
	p_reset();
	p32(11);
	CHECK_TR(rx(&H, 1, K_SHM_DESTROY), R(REF_UNKNOWN));
	pair();
	open_ch(1);
	guest_pipe(12);
	p_reset();
	p32(12);
	p64(0);
	p8(0);
	CHECK_TR(rx(&H, 1, K_SHM_UPDATE), R(REF_TYPE));

	/* Limits: refs per channel, bytes per connection. */
	pair();
	open_ch(1);
	open_ch(2);
	for (uint32_t i = 1; i <= 4; i++)
		CHECK_INT(vmapp_transport_send_shm_create(&G, &gout, 1, i, 4096), 0);
	CHECK_INT(vmapp_transport_send_shm_create(&G, &gout, 1, 5, 4096), -ENOSPC);
	CHECK_TR(pump(&gout, &H), R(OK));
	p_reset();
	p32(5);
	p64(1);
	CHECK_TR(rx(&H, 1, K_SHM_CREATE), R(LIMIT_REFS));
	CHECK_INT(vmapp_transport_rule_reason(R(LIMIT_REFS)), VMAPP_TRANSPORT_REASON_LIMIT);
	CHECK_INT(H.shm_bytes, 0);
	CHECK_INT(vmapp_transport_send_shm_create(&G, &gout, 2, 1, (1 << 20) - 10), 0);
	CHECK_TR(pump(&gout, &H), R(OK));
	CHECK_INT(H.shm_bytes, (1 << 20) - 10);
	CHECK_INT(vmapp_transport_send_close(&H, &hout, 1, 0), 0);
	CHECK_INT(vmapp_transport_send_close(&G, &gout, 1, 0), 0);
	CHECK_TR(pump(&gout, &H), R(OK));
	CHECK_TR(pump(&hout, &G), R(OK));
	open_ch(1);
	CHECK_INT(vmapp_transport_send_shm_create(&G, &gout, 1, 1, 10), 0);
	CHECK_INT(vmapp_transport_send_shm_create(&G, &gout, 1, 2, 1), 0);
	CHECK_TR(pump(&gout, &H), R(LIMIT_SHM));
	CHECK_ACT(LOSE_CHANNEL);
	CHECK_INT(H.shm_bytes, (1 << 20) - 10);
	p_reset();
	p32(1);
	p64((1 << 20) + 1); /* 11 bytes more, 10 left */
	CHECK_TR(rx(&H, 2, K_SHM_RESIZE), R(LIMIT_SHM));
	CHECK_INT(H.shm_bytes, 0);
	/* Pools are wl_shm sized: 1..2^31-1, whatever the budget. */
	uint64_t huge[] = { UINT64_C(0x80000000), UINT64_C(0xffffffff), UINT64_MAX };
	for (size_t i = 0; i < 3; i++) {
		pair();
		open_ch(1);
		p_reset();
		p32(1);
		p64(huge[i]);
		CHECK_TR(rx(&H, 1, K_SHM_CREATE), R(SHM_SIZE));
		CHECK_INT(vmapp_transport_send_shm_create(&G, &gout, 1, 1, huge[i]), -EINVAL);
	}
	pair();
	open_ch(1);
	CHECK_INT(vmapp_transport_send_shm_create(&G, &gout, 1, 1, 4096), 0);
	CHECK_TR(pump(&gout, &H), R(OK));
	CHECK_INT(vmapp_transport_send_shm_resize(&G, &gout, 1, 1, UINT64_C(0x80000000)), -EINVAL);
	p_reset();
	p32(1);
	p64(UINT64_C(0x80000000));
	CHECK_TR(rx(&H, 1, K_SHM_RESIZE), R(SHM_SIZE));

	/* The host creates no pools, the guest accepts none. */
	pair();
	open_ch(1);
	CHECK_INT(vmapp_transport_send_shm_create(&H, &hout, 1, HREF, 4096), -EPERM);
	p_reset();
	p32(HREF);
	p64(4096);
	CHECK_TR(rx(&G, 1, K_SHM_CREATE), R(KIND_DIRECTION));
	uint16_t host_kinds[] = { K_SHM_RESIZE, K_SHM_UPDATE, K_SHM_DESTROY };
	for (size_t i = 0; i < 3; i++) {
		pair();
		open_ch(1);
		p_reset();
		p32(HREF);
		if (host_kinds[i] != K_SHM_DESTROY)
			p64(4096);
		CHECK_TR(rx(&G, 1, host_kinds[i]), R(KIND_DIRECTION));
	}
}

static void test_fd_content(void)
{
	uint8_t keymap[10000];
	for (size_t i = 0; i < sizeof(keymap); i++)
		keymap[i] = (uint8_t)i;
	uint32_t ref = HREF + 1;
	uint8_t m[12];
	wl_sync(m);

	pair();
	open_ch(1);
	CHECK_INT(vmapp_transport_send_fd_content(&G, &gout, 1, 5, 10, 0, keymap, 10), -EPERM);
	CHECK_INT(vmapp_transport_send_fd_content(&H, &hout, 1, ref, sizeof(keymap), 0, keymap,
						  6000), 0);
	CHECK_INT(vmapp_transport_send_wayland(&H, &hout, 1, &ref, 1, m, 12), -EINVAL);
	CHECK_INT(vmapp_transport_send_fd_content(&H, &hout, 1, ref, sizeof(keymap), 0, keymap,
						  10), -EINVAL);
	CHECK_TR(pump(&hout, &G), R(OK));
	CHECK(last.fd_content.ref == ref && last.fd_content.total == sizeof(keymap) &&
	      last.fd_content.offset == 0 && last.fd_content.size == 6000 &&
	      memcmp(last.fd_content.data, keymap, 6000) == 0);
	CHECK_INT(G.shm_bytes, sizeof(keymap));
	/* Named before it is complete. */
	p_reset();
	p32(1);
	p32(ref);
	pwl();
	CHECK_TR(rx(&G, 1, K_WAYLAND), R(CONTENT_INCOMPLETE));
	CHECK_ACT(LOSE_CHANNEL);
	CHECK_INT(G.shm_bytes, 0);

	pair();
	open_ch(1);
	CHECK_INT(vmapp_transport_send_fd_content(&H, &hout, 1, ref, sizeof(keymap), 0, keymap,
						  6000), 0);
	/* The guest returns credit as it goes, as a real one would. */
	CHECK_TR(pump(&hout, &G), R(OK));
	CHECK_INT(vmapp_transport_consume(&G, 1, 6020), 0);
	CHECK_INT(vmapp_transport_send_credit(&G, &gout, 1), 0);
	CHECK_TR(pump(&gout, &H), R(OK));
	CHECK_INT(vmapp_transport_send_fd_content(&H, &hout, 1, ref, sizeof(keymap), 6000,
						  keymap + 6000, 4000), 0);
	CHECK_INT(vmapp_transport_send_wayland(&H, &hout, 1, &ref, 1, m, 12), 0);
	CHECK(vmapp_transport_ref_get(&H, 1, ref) == NULL); /* sent, released */
	CHECK_INT(vmapp_transport_send_wayland(&H, &hout, 1, &ref, 1, m, 12), -ENOENT);
	CHECK_TR(pump(&hout, &G), R(OK));
	CHECK(last.kind == K_WAYLAND && last.wayland.n_fds == 1 &&
	      vmapp_transport_frame_fd_ref(&last, 0) == ref && last.wayland.size == 12);
	CHECK(vmapp_transport_ref_get(&G, 1, ref) == NULL);
	CHECK_INT(G.shm_bytes, 0);
	p_reset();
	p32(1);
	p32(ref);
	pwl();
	CHECK_TR(rx(&G, 1, K_WAYLAND), R(REF_UNKNOWN));

	/* Chunks out of order, a total that changes, bytes past the total. */
	pair();
	open_ch(1);
	p_reset();
	p32(ref);
	p64(100);
	p64(10);
	pfill(1, 10);
	CHECK_TR(rx(&G, 1, K_FD_CONTENT), R(CONTENT_OFFSET));
	pair();
	open_ch(1);
	CHECK_INT(vmapp_transport_send_fd_content(&H, &hout, 1, ref, 100, 0, keymap, 10), 0);
	CHECK_TR(pump(&hout, &G), R(OK));
	p_reset();
	p32(ref);
	p64(100);
	p64(20);
	pfill(1, 10);
	CHECK_TR(rx(&G, 1, K_FD_CONTENT), R(CONTENT_OFFSET));
	pair();
	open_ch(1);
	CHECK_INT(vmapp_transport_send_fd_content(&H, &hout, 1, ref, 100, 0, keymap, 10), 0);
	CHECK_TR(pump(&hout, &G), R(OK));
	p_reset();
	p32(ref);
	p64(200);
	p64(10);
	pfill(1, 10);
	CHECK_TR(rx(&G, 1, K_FD_CONTENT), R(CONTENT_SIZE));
	pair();
	open_ch(1);
	p_reset();
	p32(ref);
	p64(10);
	p64(5);
	pfill(1, 6);
	CHECK_TR(rx(&G, 1, K_FD_CONTENT), R(CONTENT_SIZE));
	pair();
	open_ch(1);
	p_reset();
	p32(ref);
	p64(10);
	p64(UINT64_MAX);
	CHECK_TR(rx(&G, 1, K_FD_CONTENT), R(CONTENT_SIZE));
	/* A complete content is a live ref: its number is taken. */
	pair();
	open_ch(1);
	CHECK_INT(vmapp_transport_send_fd_content(&H, &hout, 1, ref, 0, 0, NULL, 0), 0);
	CHECK_INT(vmapp_transport_send_fd_content(&H, &hout, 1, ref, 0, 0, NULL, 0), -EEXIST);
	CHECK_TR(pump(&hout, &G), R(OK));
	CHECK(vmapp_transport_ref_get(&G, 1, ref)->filled == 0);
	p_reset();
	p32(ref);
	p64(0);
	p64(0);
	CHECK_TR(rx(&G, 1, K_FD_CONTENT), R(REF_IN_USE));
	/* From the guest, or in the guest's range. */
	pair();
	open_ch(1);
	p_reset();
	p32(5);
	p64(1);
	p64(0);
	p8(1);
	CHECK_TR(rx(&H, 1, K_FD_CONTENT), R(KIND_DIRECTION));
	pair();
	open_ch(1);
	CHECK_TR(rx(&G, 1, K_FD_CONTENT), R(REF_RANGE));
	CHECK_INT(vmapp_transport_send_fd_content(&H, &hout, 1, 5, 1, 0, keymap, 1), -EINVAL);
	/* Over the receiver's budget. */
	pair();
	open_ch(1);
	p_reset();
	p32(ref);
	p64(UINT64_C(1) << 40);
	p64(0);
	CHECK_TR(rx(&G, 1, K_FD_CONTENT), R(LIMIT_SHM));
	/* A ref of another type. */
	pair();
	open_ch(1);
	CHECK_INT(vmapp_transport_send_pipe_open(&H, &hout, 1, ref,
						 VMAPP_TRANSPORT_PIPE_TO_CREATOR), 0);
	CHECK_TR(pump(&hout, &G), R(OK));
	p_reset();
	p32(ref);
	p64(1);
	p64(0);
	p8(1);
	CHECK_TR(rx(&G, 1, K_FD_CONTENT), R(REF_IN_USE));
}

static void test_pipes(void)
{
	uint8_t data[100] = { 7 };
	uint8_t m[12];
	wl_sync(m);

	/* Guest to host: data, END, the host's CANCEL acknowledges. */
	pair();
	open_ch(1);
	guest_pipe(3);
	CHECK_INT(vmapp_transport_send_wayland(&G, &gout, 1, (uint32_t[]){ 3 }, 1, m, 12), 0);
	CHECK_INT(vmapp_transport_send_wayland(&G, &gout, 1, (uint32_t[]){ 3 }, 1, m, 12), -EINVAL);
	CHECK_INT(vmapp_transport_send_pipe_data(&G, &gout, 1, 3, data, 100), 0);
	CHECK_INT(vmapp_transport_send_pipe_end(&G, &gout, 1, 3), 0);
	CHECK_INT(vmapp_transport_send_pipe_data(&G, &gout, 1, 3, data, 1), -EINVAL);
	CHECK_INT(vmapp_transport_send_pipe_end(&G, &gout, 1, 3), -EINVAL);
	CHECK_INT(vmapp_transport_send_pipe_cancel(&G, &gout, 1, 3), -EINVAL);
	CHECK_TR(pump(&gout, &H), R(OK));
	CHECK(last.kind == K_PIPE_END && last.ref.ref == 3);
	CHECK(vmapp_transport_ref_get(&H, 1, 3)->got_term);
	CHECK_INT(vmapp_transport_send_pipe_data(&H, &hout, 1, 3, data, 1), -EINVAL);
	CHECK_INT(vmapp_transport_send_pipe_cancel(&H, &hout, 1, 3), 0);
	CHECK(vmapp_transport_ref_get(&H, 1, 3) == NULL);
	CHECK(vmapp_transport_ref_get(&G, 1, 3) != NULL);
	CHECK_TR(pump(&hout, &G), R(OK));
	CHECK(vmapp_transport_ref_get(&G, 1, 3) == NULL);
	guest_pipe(3); /* free on both sides: reusable */

	/* The reader cancels: data in flight is dropped, its credit due; the
	 * writer answers with END. */
	pair();
	open_ch(1);
	guest_pipe(3);
	CHECK_INT(vmapp_transport_send_pipe_data(&G, &gout, 1, 3, data, 100), 0);
	CHECK_INT(vmapp_transport_send_pipe_cancel(&H, &hout, 1, 3), 0);
	CHECK_TR(pump(&gout, &H), R(OK));
	CHECK_ACT(DROP);
	CHECK_INT(H.channels[1].due, 104);
	CHECK_INT(H.channels[1].held, 0);
	CHECK_TR(pump(&hout, &G), R(OK));
	CHECK_ACT(DELIVER);
	CHECK_INT(vmapp_transport_send_pipe_data(&G, &gout, 1, 3, data, 1), -EPIPE);
	CHECK_INT(vmapp_transport_send_pipe_end(&G, &gout, 1, 3), 0);
	CHECK(vmapp_transport_ref_get(&G, 1, 3) == NULL);
	CHECK_TR(pump(&gout, &H), R(OK));
	CHECK(vmapp_transport_ref_get(&H, 1, 3) == NULL);

	/* Host to guest (a paste into the guest): the guest creates the
	 * ref, the host writes. */
	pair();
	open_ch(1);
	CHECK_INT(vmapp_transport_send_pipe_open(&G, &gout, 1, 4, VMAPP_TRANSPORT_PIPE_TO_CREATOR), 0);
	CHECK_TR(pump(&gout, &H), R(OK));
	CHECK(last.pipe_open.ref == 4 && last.pipe_open.direction == VMAPP_TRANSPORT_PIPE_TO_CREATOR);
	CHECK_INT(vmapp_transport_send_pipe_data(&G, &gout, 1, 4, data, 1), -EINVAL);
	CHECK_INT(vmapp_transport_send_pipe_data(&H, &hout, 1, 4, data, 10), 0);
	CHECK_TR(pump(&hout, &G), R(OK));
	CHECK(last.pipe_data.ref == 4 && last.pipe_data.size == 10);
	/* The wrong side's frames. */
	p_reset();
	p32(4);
	p8(1);
	CHECK_TR(rx(&H, 1, K_PIPE_DATA), R(PIPE_DIRECTION));
	CHECK_ACT(LOSE_CHANNEL);
	pair();
	open_ch(1);
	guest_pipe(3);
	p_reset();
	p32(3);
	CHECK_TR(rx(&H, 1, K_PIPE_CANCEL), R(PIPE_DIRECTION)); /* the guest writes */
	pair();
	open_ch(1);
	guest_pipe(3);
	p_reset();
	p32(3);
	CHECK_TR(rx(&H, 1, K_PIPE_END), R(OK));
	CHECK_TR(rx(&H, 1, K_PIPE_END), R(PIPE_ENDED));
	pair();
	open_ch(1);
	guest_pipe(3);
	p_reset();
	p32(3);
	CHECK_TR(rx(&H, 1, K_PIPE_END), R(OK));
	pipe_data(3, 1);
	CHECK_TR(rx(&H, 1, K_PIPE_DATA), R(PIPE_ENDED));
	pair();
	open_ch(1);
	CHECK_INT(vmapp_transport_send_pipe_open(&H, &hout, 1, HREF, VMAPP_TRANSPORT_PIPE_TO_CREATOR), 0);
	CHECK_TR(pump(&hout, &G), R(OK));
	p_reset();
	p32(HREF);
	CHECK_TR(rx(&G, 1, K_PIPE_CANCEL), R(OK));
	CHECK_TR(rx(&G, 1, K_PIPE_CANCEL), R(PIPE_ENDED));

	/* Bad directions, ranges, reuse, unknown refs. */
	pair();
	open_ch(1);
	p_reset();
	p32(3);
	p8(2);
	CHECK_TR(rx(&H, 1, K_PIPE_OPEN), R(PIPE_DIRECTION));
	pair();
	open_ch(1);
	CHECK_INT(vmapp_transport_send_pipe_open(&G, &gout, 1, 3,
						 (enum vmapp_transport_pipe_direction)2), -EINVAL);
	p_reset();
	p32(HREF + 5);
	p8(0);
	CHECK_TR(rx(&H, 1, K_PIPE_OPEN), R(REF_RANGE));
	pair();
	open_ch(1);
	guest_pipe(3);
	p_reset();
	p32(3);
	p8(0);
	CHECK_TR(rx(&H, 1, K_PIPE_OPEN), R(REF_IN_USE));
	pair();
	open_ch(1);
	pipe_data(9, 3);
	CHECK_TR(rx(&H, 1, K_PIPE_DATA), R(REF_UNKNOWN));
	pair();
	open_ch(1);
	p_reset();
	p32(9);
	CHECK_TR(rx(&H, 1, K_PIPE_END), R(REF_UNKNOWN));
	pair();
	open_ch(1);
	CHECK_INT(vmapp_transport_send_shm_create(&G, &gout, 1, 9, 10), 0);
	CHECK_TR(pump(&gout, &H), R(OK));
	pipe_data(9, 3);
	CHECK_TR(rx(&H, 1, K_PIPE_DATA), R(REF_TYPE));
	pair();
	open_ch(1);
	CHECK_INT(vmapp_transport_send_shm_create(&G, &gout, 1, 9, 10), 0);
	CHECK_TR(pump(&gout, &H), R(OK));
	p_reset();
	p32(9);
	CHECK_TR(rx(&H, 1, K_PIPE_CANCEL), R(REF_TYPE));
	/* Passed once only, in one frame or two. */
	pair();
	open_ch(1);
	guest_pipe(3);
	p_reset();
	p32(2);
	p32(3);
	p32(3);
	pwl();
	CHECK_TR(rx(&H, 1, K_WAYLAND), R(REF_PASSED));
	pair();
	open_ch(1);
	guest_pipe(3);
	p_reset();
	p32(1);
	p32(3);
	pwl();
	CHECK_TR(rx(&H, 1, K_WAYLAND), R(OK));
	CHECK_TR(rx(&H, 1, K_WAYLAND), R(REF_PASSED));
	/* Refs named by the side that did not create them. */
	pair();
	open_ch(1);
	CHECK_INT(vmapp_transport_send_pipe_open(&H, &hout, 1, HREF, VMAPP_TRANSPORT_PIPE_TO_CREATOR), 0);
	CHECK_INT(vmapp_transport_send_wayland(&G, &gout, 1, (uint32_t[]){ HREF }, 1, m, 12),
		  -ENOENT);
	p_reset();
	p32(1);
	p32(HREF);
	pwl();
	CHECK_TR(rx(&H, 1, K_WAYLAND), R(REF_OWNER));
	pair();
	open_ch(1);
	CHECK_INT(vmapp_transport_send_shm_create(&G, &gout, 1, 9, 10), 0);
	p_reset();
	p32(9);
	p64(20);
	CHECK_TR(rx(&G, 1, K_SHM_RESIZE), R(KIND_DIRECTION)); /* and never the owner */
}

static void test_wayland(void)
{
	uint32_t counts[] = { VMAPP_TRANSPORT_MAX_FDS + 1, 0xffffffffu, 0x40000000u };
	for (size_t i = 0; i < 3; i++) {
		pair();
		open_ch(1);
		p_reset();
		p32(counts[i]);
		pwl();
		CHECK_TR(rx(&H, 1, K_WAYLAND), R(COUNT_LIMIT));
		CHECK_ACT(LOSE_CHANNEL);
	}
	/* n_fds beyond the payload. */
	for (uint32_t n = 1; n <= 4; n++) {
		pair();
		open_ch(1);
		p_reset();
		p32(n);
		pfill(1, 4 * n - 1);
		CHECK_TR(rx(&H, 1, K_WAYLAND), R(COUNT_OVERFLOW));
	}
	/* Partial and impossible messages. */
	uint32_t sizes[] = { 0, 4, 6, 7, 12, 4100, 0xfffc };
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		pair();
		open_ch(1);
		p_reset();
		p32(0);
		uint32_t w[2] = { 1, sizes[i] << 16 };
		pbytes(w, 8);
		CHECK_TR(rx(&H, 1, K_WAYLAND), R(WAYLAND_MESSAGE));
	}
	for (size_t len = 0; len < 8; len++) {
		pair();
		open_ch(1);
		p_reset();
		p32(0);
		pwl();
		pn = 4 + len;
		CHECK_TR(rx(&H, 1, K_WAYLAND), R(WAYLAND_MESSAGE));
	}
	pair();
	open_ch(1);
	p_reset();
	p32(0);
	pwl();
	pwl();
	p8(0);
	CHECK_TR(rx(&H, 1, K_WAYLAND), R(WAYLAND_MESSAGE)); /* a byte after two whole ones */
	pair();
	open_ch(1);
	p_reset();
	p32(0);
	pwl();
	pwl();
	CHECK_TR(rx(&H, 1, K_WAYLAND), R(OK));
	CHECK_ACT(DELIVER);
	CHECK_INT(H.channels[1].held, 28);
	/* fd refs: 0, unknown. */
	pair();
	open_ch(1);
	p_reset();
	p32(1);
	p32(0);
	pwl();
	CHECK_TR(rx(&H, 1, K_WAYLAND), R(REF_RANGE));
	pair();
	open_ch(1);
	p_reset();
	p32(1);
	p32(77);
	pwl();
	CHECK_TR(rx(&H, 1, K_WAYLAND), R(REF_UNKNOWN));
	/* A pool may be passed any number of times. */
	pair();
	open_ch(1);
	CHECK_INT(vmapp_transport_send_shm_create(&G, &gout, 1, 9, 64), 0);
	CHECK_TR(pump(&gout, &H), R(OK));
	p_reset();
	p32(3);
	p32(9);
	p32(9);
	p32(9);
	pwl();
	CHECK_TR(rx(&H, 1, K_WAYLAND), R(OK));
	CHECK_TR(rx(&H, 1, K_WAYLAND), R(OK));
	uint8_t m[12];
	wl_sync(m);
	uint32_t refs[VMAPP_TRANSPORT_MAX_FDS + 1] = { 0 };
	CHECK_INT(vmapp_transport_send_wayland(&G, &gout, 1, refs, VMAPP_TRANSPORT_MAX_FDS + 1, m,
					       12), -EINVAL);
	CHECK_INT(vmapp_transport_send_wayland(&G, &gout, 1, (uint32_t[]){ 9, 9 }, 2, m, 12), 0);
}

/* The pure decoder's verdict on a hand-made frame. */
static enum vmapp_transport_rule dec(uint32_t ch, uint16_t kind)
{
	struct vmapp_buf b = { 0 };
	struct vmapp_transport_frame f;

	if (vmapp_transport_append_frame(&b, ch, kind, 0, pl, pn) < 0)
		abort();
	enum vmapp_transport_rule r = note(vmapp_transport_decode(b.data, b.len, &f));
	vmapp_buf_finish(&b);
	return r;
}

/* A pair where the host waits for one APPS. */
static void apps_pending(void)
{
	pair();
	CHECK_INT(vmapp_transport_send_list_apps(&H, &hout), 0);
	CHECK_TR(pump(&hout, &G), R(OK));
}

static void run_payload(uint32_t id, uint32_t argc, uint32_t envc)
{
	p_reset();
	p32(id);
	p32(argc);
	p32(envc);
}

static void test_control(void)
{
	/* RUN: counts beyond the payload, strings without NUL, limits. */
	pair();
	run_payload(1, 3, 0);
	pstr("foot");
	pstr("-e");
	CHECK_TR(rx(&G, 0, K_RUN), R(COUNT_OVERFLOW));
	CHECK_ACT(LOSE_CONNECTION);
	pair();
	run_payload(1, 1, 2);
	pstr("foot");
	pstr("A=1");
	CHECK_TR(rx(&G, 0, K_RUN), R(COUNT_OVERFLOW));
	pair();
	run_payload(1, 2, 0);
	pstr("foot");
	pbytes("-e", 2);
	CHECK_TR(rx(&G, 0, K_RUN), R(STRING_UNTERMINATED));
	pair();
	run_payload(1, 0, 0);
	CHECK_TR(rx(&G, 0, K_RUN), R(RUN_NO_ARGV));
	uint32_t big[][2] = { { 1025, 0 }, { 0xffffffffu, 0 }, { 1, 1025 }, { 1, 0xffffffffu } };
	for (size_t i = 0; i < 4; i++) {
		pair();
		run_payload(1, big[i][0], big[i][1]);
		pstr("x");
		CHECK_TR(rx(&G, 0, K_RUN), R(COUNT_LIMIT));
	}
	const char *bad_env[] = { "PATH", "=x", "" };
	for (size_t i = 0; i < 3; i++) {
		pair();
		run_payload(1, 1, 1);
		pstr("foot");
		pstr(bad_env[i]);
		CHECK_TR(rx(&G, 0, K_RUN), R(RUN_ENV));
	}
	pair();
	run_payload(1, 1, 0);
	pstr("foot");
	p8(0);
	CHECK_TR(rx(&G, 0, K_RUN), R(TRAILING_BYTES));
	/* Over RUN's own ceiling (a receiver with a smaller max_payload
	 * stops it sooner, as frame-too-large). */
	run_payload(1, 1, 0);
	pfill('a', VMAPP_TRANSPORT_MAX_RUN_PAYLOAD - 12);
	p8(0);
	CHECK_TR(dec(0, K_RUN), R(PAYLOAD_SIZE));
	pair();
	CHECK_TR(rx(&G, 0, K_RUN), R(FRAME_TOO_LARGE));
	/* argv is bytes, not text: not UTF-8 is fine. */
	pair();
	run_payload(1, 1, 0);
	pstr("\xff\xfe");
	CHECK_TR(rx(&G, 0, K_RUN), R(OK));
	CHECK_ACT(DELIVER);
	/* Id reuse, too many at once, the wrong direction. */
	run_payload(1, 1, 0);
	pstr("foot");
	CHECK_TR(rx(&G, 0, K_RUN), R(RUN_ID_IN_USE));
	pair();
	for (uint32_t i = 0; i < VMAPP_TRANSPORT_MAX_RUNS; i++) {
		run_payload(i, 1, 0);
		pstr("foot");
		CHECK_TR(rx(&G, 0, K_RUN), R(OK));
	}
	run_payload(1000, 1, 0);
	pstr("foot");
	CHECK_TR(rx(&G, 0, K_RUN), R(LIMIT_REQUESTS));
	pair();
	run_payload(1, 1, 0);
	pstr("foot");
	CHECK_TR(rx(&H, 0, K_RUN), R(KIND_DIRECTION));
	CHECK_ACT(LOSE_CONNECTION);

	/* EXIT: unknown run, status out of range. */
	pair();
	p_reset();
	p32(5);
	p32(0);
	CHECK_TR(rx(&H, 0, K_EXIT), R(RUN_UNKNOWN));
	int32_t statuses[] = { 256, -65, INT32_MIN, INT32_MAX };
	for (size_t i = 0; i < 4; i++) {
		pair();
		p_reset();
		p32(5);
		p32((uint32_t)statuses[i]);
		CHECK_TR(rx(&H, 0, K_EXIT), R(EXIT_STATUS));
	}
	pair();
	p_reset();
	p32(5);
	p32(0);
	CHECK_TR(rx(&G, 0, K_EXIT), R(KIND_DIRECTION));

	/* SIGNAL: to a run the guest has, to one it does not (ignored: its
	 * EXIT may have crossed the SIGNAL), the signals allowed and not,
	 * the wrong direction, a short payload. */
	pair();
	run_payload(7, 1, 0);
	pstr("sleep");
	CHECK_TR(rx(&G, 0, K_RUN), R(OK));
	p_reset();
	p32(7);
	p32(15);
	CHECK_TR(rx(&G, 0, K_SIGNAL), R(OK));
	CHECK_ACT(DELIVER);
	CHECK_INT(G.n_runs, 1);
	p_reset();
	p32(8);
	p32(15);
	CHECK_TR(rx(&G, 0, K_SIGNAL), R(OK));
	CHECK_ACT(DROP);
	CHECK(vmapp_transport_ready(&G));
	{
		static const uint32_t good[] = { 1, 2, 3, 9, 10, 12, 15 };
		for (uint32_t n = 0; n <= 70; n++) {
			bool ok = false;
			for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
				ok = ok || good[i] == n;
			CHECK(vmapp_transport_signal_ok(n) == ok);
		}
		/* SIGSTOP, SIGTSTP, SIGCONT, SIGCHLD, SIGSEGV, real-time,
		 * 0 (a probe), huge. */
		static const uint32_t bad[] = { 0, 4, 6, 11, 17, 18, 19, 20, 34, 64, 65,
						0x80000000u, UINT32_MAX };
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			pair();
			run_payload(7, 1, 0);
			pstr("sleep");
			CHECK_TR(rx(&G, 0, K_RUN), R(OK));
			p_reset();
			p32(7);
			p32(bad[i]);
			CHECK_TR(rx(&G, 0, K_SIGNAL), R(SIGNAL_NUMBER));
			CHECK_ACT(LOSE_CONNECTION);
			CHECK(!vmapp_transport_ready(&G));
			/* for a run it does not know just as much */
			pair();
			p_reset();
			p32(8);
			p32(bad[i]);
			CHECK_TR(rx(&G, 0, K_SIGNAL), R(SIGNAL_NUMBER));
			CHECK_ACT(LOSE_CONNECTION);
		}
	}
	pair();
	p_reset();
	p32(7);
	p32(15);
	CHECK_TR(rx(&H, 0, K_SIGNAL), R(KIND_DIRECTION));
	CHECK_ACT(LOSE_CONNECTION);
	for (uint32_t size = 0; size < 16; size++) {
		if (size == 8)
			continue;
		pair();
		p_reset();
		p32(7);
		p32(15);
		p32(0);
		p32(0);
		pn = size;
		CHECK_TR(rx(&G, 0, K_SIGNAL), R(PAYLOAD_SIZE));
		CHECK_ACT(LOSE_CONNECTION);
	}

	/* OUTPUT: only from the guest, only for a run without its EXIT (the
	 * guest sends a run's output before the EXIT, never after), stream
	 * 1 or 2, at least one byte and at most MAX_OUTPUT, any bytes. */
	{
		const char *argv1[] = { "ls" };
		pair();
		CHECK_INT(vmapp_transport_send_run(&H, &hout, 9, argv1, 1, NULL, 0), 0);
		p_reset();
		p32(9);
		p32(1);
		p8(0);
		p8(0xff);
		p8('\n');
		CHECK_TR(rx(&H, 0, K_OUTPUT), R(OK));
		CHECK_ACT(DELIVER);
		p_reset();
		p32(9);
		p32(2);
		pfill('x', VMAPP_TRANSPORT_MAX_OUTPUT);
		CHECK_TR(rx(&H, 0, K_OUTPUT), R(OK));
		CHECK_ACT(DELIVER);
		p_reset();
		p32(9);
		p32(2);
		pfill('x', VMAPP_TRANSPORT_MAX_OUTPUT + 1);
		CHECK_TR(rx(&H, 0, K_OUTPUT), R(PAYLOAD_SIZE));
		CHECK_ACT(LOSE_CONNECTION);
		static const uint32_t streams[] = { 0, 3, 0x100, UINT32_MAX };
		for (size_t i = 0; i < 4; i++) {
			pair();
			CHECK_INT(vmapp_transport_send_run(&H, &hout, 9, argv1, 1, NULL, 0), 0);
			p_reset();
			p32(9);
			p32(streams[i]);
			p8('a');
			CHECK_TR(rx(&H, 0, K_OUTPUT), R(OUTPUT_STREAM));
			CHECK_ACT(LOSE_CONNECTION);
		}
		/* No bytes, a short header. */
		for (uint32_t size = 0; size <= 8; size++) {
			pair();
			CHECK_INT(vmapp_transport_send_run(&H, &hout, 9, argv1, 1, NULL, 0), 0);
			p_reset();
			p32(9);
			p32(1);
			p8('a');
			pn = size;
			CHECK_TR(rx(&H, 0, K_OUTPUT), R(PAYLOAD_SIZE));
			CHECK_ACT(LOSE_CONNECTION);
		}
		/* A run the host never sent, or one that has its EXIT. */
		pair();
		p_reset();
		p32(9);
		p32(1);
		p8('a');
		CHECK_TR(rx(&H, 0, K_OUTPUT), R(RUN_UNKNOWN));
		CHECK_ACT(LOSE_CONNECTION);
		pair();
		CHECK_INT(vmapp_transport_send_run(&H, &hout, 9, argv1, 1, NULL, 0), 0);
		p_reset();
		p32(9);
		p32(0);
		CHECK_TR(rx(&H, 0, K_EXIT), R(OK));
		p_reset();
		p32(9);
		p32(1);
		p8('a');
		CHECK_TR(rx(&H, 0, K_OUTPUT), R(RUN_UNKNOWN));
		CHECK_ACT(LOSE_CONNECTION);
		/* The host sends none. */
		pair();
		p_reset();
		p32(9);
		p32(1);
		p8('a');
		CHECK_TR(rx(&G, 0, K_OUTPUT), R(KIND_DIRECTION));
		CHECK_ACT(LOSE_CONNECTION);

		/* Output credit: a run's guest may send MAX_OUTPUT_CREDIT bytes,
		 * then only what the host returned. */
		pair();
		CHECK_INT(vmapp_transport_send_run(&H, &hout, 9, argv1, 1, NULL, 0), 0);
		CHECK_INT(vmapp_transport_output_credit(&H, 9), VMAPP_TRANSPORT_MAX_OUTPUT_CREDIT);
		CHECK_INT(vmapp_transport_output_credit(&H, 10), 0);
		uint32_t left = VMAPP_TRANSPORT_MAX_OUTPUT_CREDIT;
		while (left > 0) {
			uint32_t n = left < VMAPP_TRANSPORT_MAX_OUTPUT ? left : VMAPP_TRANSPORT_MAX_OUTPUT;
			p_reset();
			p32(9);
			p32(1);
			pfill('o', n);
			CHECK_TR(rx(&H, 0, K_OUTPUT), R(OK));
			left -= n;
		}
		CHECK_INT(vmapp_transport_output_credit(&H, 9), 0);
		p_reset();
		p32(9);
		p32(2);
		p8('a');
		CHECK_TR(rx(&H, 0, K_OUTPUT), R(CREDIT_EXCEEDED));
		CHECK_ACT(LOSE_CONNECTION);

		/* OUTPUT_CREDIT: the host's, never 0, never more than used; for
		 * a run the guest has ended it is ignored. */
		pair();
		run_payload(9, 1, 0);
		pstr("ls");
		CHECK_TR(rx(&G, 0, K_RUN), R(OK));
		p_reset();
		p32(9);
		p32(1);
		CHECK_TR(rx(&G, 0, K_OUTPUT_CREDIT), R(CREDIT_OVERFLOW));
		CHECK_ACT(LOSE_CONNECTION);
		pair();
		run_payload(9, 1, 0);
		pstr("ls");
		CHECK_TR(rx(&G, 0, K_RUN), R(OK));
		CHECK_INT(vmapp_transport_send_output(&G, &gout, 9, 1, "abc", 3), 0);
		CHECK_INT(vmapp_transport_output_credit(&G, 9), VMAPP_TRANSPORT_MAX_OUTPUT_CREDIT - 3);
		p_reset();
		p32(9);
		p32(3);
		CHECK_TR(rx(&G, 0, K_OUTPUT_CREDIT), R(OK));
		CHECK_ACT(DELIVER);
		CHECK_INT(vmapp_transport_output_credit(&G, 9), VMAPP_TRANSPORT_MAX_OUTPUT_CREDIT);
		p_reset();
		p32(9);
		p32(0);
		CHECK_TR(rx(&G, 0, K_OUTPUT_CREDIT), R(CREDIT_ZERO));
		CHECK_ACT(LOSE_CONNECTION);
		pair();
		p_reset();
		p32(77);
		p32(100);
		CHECK_TR(rx(&G, 0, K_OUTPUT_CREDIT), R(OK));
		CHECK_ACT(DROP);
		CHECK(vmapp_transport_ready(&G));
		p_reset();
		p32(77);
		p32(100);
		CHECK_TR(rx(&H, 0, K_OUTPUT_CREDIT), R(KIND_DIRECTION));
		for (uint32_t size = 0; size < 16; size++) {
			if (size == 8)
				continue;
			pair();
			p_reset();
			p32(77);
			p32(100);
			p32(0);
			p32(0);
			pn = size;
			CHECK_TR(rx(&G, 0, K_OUTPUT_CREDIT), R(PAYLOAD_SIZE));
		}
	}

	/* LIST_APPS and APPS. */
	pair();
	p_reset();
	p32(0);
	CHECK_TR(rx(&H, 0, K_APPS), R(APPS_UNSOLICITED));
	pair();
	p_reset();
	CHECK_TR(rx(&H, 0, K_LIST_APPS), R(KIND_DIRECTION));
	pair();
	p_reset();
	p32(0);
	CHECK_TR(rx(&G, 0, K_APPS), R(KIND_DIRECTION));
	pair();
	for (uint32_t i = 0; i < VMAPP_TRANSPORT_MAX_LISTS; i++)
		CHECK_INT(vmapp_transport_send_list_apps(&H, &hout), 0);
	CHECK_INT(vmapp_transport_send_list_apps(&H, &hout), -ENOSPC);
	CHECK_TR(pump(&hout, &G), R(OK));
	p_reset();
	CHECK_TR(rx(&G, 0, K_LIST_APPS), R(LIMIT_REQUESTS));
	const char *bad[][VMAPP_TRANSPORT_APP_STRINGS] = {
		{ "", "Foot", "foot", "foot", "System;" },       /* empty id */
		{ "foot.desktop", "\xc0\xaf", "foot", "", "" }, /* overlong '/' */
		{ "foot.desktop", "F", "\xed\xa0\x80", "", "" }, /* surrogate */
		{ "foot.desktop", "F", "foot", "\xff", "" },     /* icon not UTF-8 */
		{ "foot.desktop", "F", "foot", "", "A\xc0\xaf" }, /* categories not UTF-8 */
	};
	enum vmapp_transport_rule want[] = { R(STRING_EMPTY), R(STRING_UTF8), R(STRING_UTF8),
					     R(STRING_UTF8), R(STRING_UTF8) };
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		apps_pending();
		p_reset();
		p32(1);
		for (size_t k = 0; k < VMAPP_TRANSPORT_APP_STRINGS; k++)
			pstr(bad[i][k]);
		CHECK_TR(rx(&H, 0, K_APPS), want[i]);
		CHECK_ACT(LOSE_CONNECTION);
	}
	/* The old layout's three strings, and one app's five for a count of 2. */
	apps_pending();
	p_reset();
	p32(1);
	pstr("a.desktop");
	pstr("A");
	pstr("a");
	CHECK_TR(rx(&H, 0, K_APPS), R(COUNT_OVERFLOW));
	apps_pending();
	p_reset();
	p32(1);
	pstr("a.desktop");
	pstr("A");
	pstr("a");
	pstr("i");
	CHECK_TR(rx(&H, 0, K_APPS), R(COUNT_OVERFLOW));
	apps_pending();
	p_reset();
	p32(2);
	pstr("a.desktop");
	pstr("A");
	pstr("a");
	pstr("i");
	pstr("Game;");
	CHECK_TR(rx(&H, 0, K_APPS), R(COUNT_OVERFLOW));
	/* Empty name, exec, icon and categories are fine. */
	apps_pending();
	p_reset();
	p32(1);
	pstr("a.desktop");
	pstr("");
	pstr("");
	pstr("");
	pstr("");
	CHECK_TR(rx(&H, 0, K_APPS), R(OK));
	CHECK_ACT(DELIVER);
	apps_pending();
	p_reset();
	p32(VMAPP_TRANSPORT_MAX_APPS + 1);
	CHECK_TR(rx(&H, 0, K_APPS), R(COUNT_LIMIT));
	apps_pending();
	p_reset();
	p32(1);
	pstr("a.desktop");
	pfill('n', VMAPP_TRANSPORT_MAX_APP_STRING + 1);
	p8(0);
	pstr("a");
	pstr("");
	pstr("");
	CHECK_TR(rx(&H, 0, K_APPS), R(STRING_TOO_LONG));
	/* Each of icon and categories: the limit, and one byte over it. */
	for (int field = 3; field < 5; field++) {
		for (uint32_t extra = 0; extra < 2; extra++) {
			apps_pending();
			p_reset();
			p32(1);
			pstr("a.desktop");
			pstr("A");
			pstr("a");
			if (field == 4)
				pstr("");
			pfill('i', VMAPP_TRANSPORT_MAX_APP_STRING + extra);
			p8(0);
			if (field == 3)
				pstr("");
			CHECK_TR(rx(&H, 0, K_APPS), extra ? R(STRING_TOO_LONG) : R(OK));
		}
	}
	apps_pending();
	p_reset();
	p32(1);
	pstr("a.desktop");
	pstr("A");
	pstr("a");
	pstr("i");
	pstr("Game;");
	p8(0);
	CHECK_TR(rx(&H, 0, K_APPS), R(TRAILING_BYTES));
	apps_pending();
	p_reset();
	p32(1);
	pstr("a.desktop");
	pstr("A");
	pstr("a");
	pstr("i");
	pbytes("Game;", 5);
	CHECK_TR(rx(&H, 0, K_APPS), R(STRING_UNTERMINATED));

	/* ERROR text: unterminated, too long, not UTF-8, trailing bytes. */
	pair();
	p_reset();
	p32(1);
	pbytes("abc", 3);
	CHECK_TR(rx(&H, 0, K_ERROR), R(STRING_UNTERMINATED));
	CHECK_ACT(LOSE_CONNECTION);
	pair();
	p_reset();
	p32(1);
	pfill('e', VMAPP_TRANSPORT_MAX_ERROR_TEXT + 1);
	p8(0);
	CHECK_TR(rx(&H, 0, K_ERROR), R(STRING_TOO_LONG));
	pair();
	p_reset();
	p32(1);
	pstr("\x80");
	CHECK_TR(rx(&H, 0, K_ERROR), R(STRING_UTF8));
	pair();
	p_reset();
	p32(1);
	pstr("a");
	pstr("b");
	CHECK_TR(rx(&H, 0, K_ERROR), R(TRAILING_BYTES));
	pair();
	p_reset();
	p32(1);
	pfill('e', VMAPP_TRANSPORT_MAX_ERROR_TEXT);
	p8(0);
	CHECK_TR(rx(&H, 0, K_ERROR), R(OK));
	CHECK(H.closed);
	pair();
	char longtext[VMAPP_TRANSPORT_MAX_ERROR_TEXT + 2];
	memset(longtext, 'x', sizeof(longtext) - 1);
	longtext[sizeof(longtext) - 1] = '\0';
	CHECK_INT(vmapp_transport_send_error(&H, &hout, 1, longtext), -EINVAL);
	CHECK_INT(vmapp_transport_send_error(&H, &hout, 1, "\xff"), -EINVAL);
}

/* Every sender's frame decodes to the fields it was given, and the peer
 * accepts it. */
static void test_round_trips(void)
{
	pair();
	/* HELLO, from what pair() sent. */
	{
		struct vmapp_transport_state s;
		struct vmapp_buf b = { 0 };
		struct vmapp_transport_frame f;
		struct vmapp_transport_limits l;
		small_limits(&l);
		CHECK_INT(vmapp_transport_init(&s, VMAPP_TRANSPORT_GUEST, &l), 0);
		CHECK_INT(vmapp_transport_send_hello(&s, &b), 0);
		CHECK_TR(vmapp_transport_decode(b.data, b.len, &f), R(OK));
		CHECK(f.channel == 0 && f.kind == K_HELLO && f.length == 20 &&
		      f.hello.magic == VMAPP_TRANSPORT_MAGIC && f.hello.version == 1 &&
		      f.hello.max_payload == 16384 && f.hello.max_channels == 4 &&
		      f.hello.initial_credit == 8192);
		CHECK(b.data[12] == 0 && b.data[13] == 'V' && b.data[14] == 'M' && b.data[15] == 'P');
		vmapp_buf_finish(&b);
		vmapp_transport_finish(&s);
	}

	open_ch(1);
	CHECK(last.kind == K_OPEN && last.channel == 1 && last.length == 0);

	uint8_t m[24];
	wl_sync(m);
	wl_sync(m + 12);
	CHECK_INT(vmapp_transport_send_shm_create(&G, &gout, 1, 0x7fffffffu, 2 << 20), 0);
	CHECK_TR(pump(&gout, &H), R(LIMIT_SHM)); /* 2 MiB is over the small budget */
	CHECK_INT(vmapp_transport_send_close(&H, &hout, 1, 0), 0);
	CHECK_INT(vmapp_transport_send_close(&G, &gout, 1, 0), 0);
	CHECK_TR(pump(&gout, &H), R(OK));
	CHECK_TR(pump(&hout, &G), R(OK));
	open_ch(1);

	CHECK_INT(vmapp_transport_send_shm_create(&G, &gout, 1, 0x7fffffffu, 65536), 0);
	CHECK_TR(pump(&gout, &H), R(OK));
	CHECK(last.kind == K_SHM_CREATE && last.shm.ref == 0x7fffffffu && last.shm.size == 65536);
	CHECK_INT(vmapp_transport_send_shm_resize(&G, &gout, 1, 0x7fffffffu, 131072), 0);
	CHECK_TR(pump(&gout, &H), R(OK));
	CHECK(last.kind == K_SHM_RESIZE && last.shm.ref == 0x7fffffffu && last.shm.size == 131072);
	uint8_t px[300];
	for (size_t i = 0; i < sizeof(px); i++)
		px[i] = (uint8_t)(i * 7);
	CHECK_INT(vmapp_transport_send_shm_update(&G, &gout, 1, 0x7fffffffu, 131072 - 300, px, 300), 0);
	CHECK_TR(pump(&gout, &H), R(OK));
	CHECK(last.kind == K_SHM_UPDATE && last.shm_update.ref == 0x7fffffffu &&
	      last.shm_update.offset == 131072 - 300 && last.shm_update.size == 300 &&
	      memcmp(last.shm_update.data, px, 300) == 0 && last.length == 312);
	CHECK_INT(vmapp_transport_send_wayland(&G, &gout, 1, (uint32_t[]){ 0x7fffffffu }, 1, m, 24), 0);
	CHECK_TR(pump(&gout, &H), R(OK));
	CHECK(last.kind == K_WAYLAND && last.wayland.n_fds == 1 &&
	      vmapp_transport_frame_fd_ref(&last, 0) == 0x7fffffffu && last.wayland.size == 24 &&
	      memcmp(last.wayland.data, m, 24) == 0);
	CHECK_INT(vmapp_transport_send_shm_destroy(&G, &gout, 1, 0x7fffffffu), 0);
	CHECK_TR(pump(&gout, &H), R(OK));
	CHECK(last.kind == K_SHM_DESTROY && last.ref.ref == 0x7fffffffu);
	CHECK_INT(H.shm_bytes, 0);

	CHECK_INT(vmapp_transport_send_pipe_open(&G, &gout, 1, 1, VMAPP_TRANSPORT_PIPE_FROM_CREATOR), 0);
	CHECK_TR(pump(&gout, &H), R(OK));
	CHECK(last.kind == K_PIPE_OPEN && last.pipe_open.ref == 1 &&
	      last.pipe_open.direction == VMAPP_TRANSPORT_PIPE_FROM_CREATOR);
	CHECK_INT(vmapp_transport_send_pipe_data(&G, &gout, 1, 1, px, 0), 0);
	CHECK_TR(pump(&gout, &H), R(OK));
	CHECK(last.kind == K_PIPE_DATA && last.pipe_data.ref == 1 && last.pipe_data.size == 0);
	CHECK_INT(vmapp_transport_send_pipe_cancel(&H, &hout, 1, 1), 0);
	CHECK_TR(pump(&hout, &G), R(OK));
	CHECK(last.kind == K_PIPE_CANCEL && last.ref.ref == 1);
	CHECK_INT(vmapp_transport_send_pipe_end(&G, &gout, 1, 1), 0);
	CHECK_TR(pump(&gout, &H), R(OK));
	CHECK(last.kind == K_PIPE_END && last.ref.ref == 1);

	CHECK_INT(vmapp_transport_consume(&H, 1, H.channels[1].held), 0);
	uint32_t due = H.channels[1].due;
	CHECK_INT(vmapp_transport_send_credit(&H, &hout, 1), 0);
	CHECK_TR(pump(&hout, &G), R(OK));
	CHECK(last.kind == K_CREDIT && last.credit.bytes == due);
	CHECK_INT(G.channels[1].send_credit, 8192);

	uint32_t ref = 0xffffffffu;
	CHECK_INT(vmapp_transport_send_fd_content(&H, &hout, 1, ref, 1000, 0, px, 300), 0);
	CHECK_TR(pump(&hout, &G), R(OK));
	CHECK(last.kind == K_FD_CONTENT && last.fd_content.ref == ref &&
	      last.fd_content.total == 1000 && last.fd_content.offset == 0 &&
	      last.fd_content.size == 300 && memcmp(last.fd_content.data, px, 300) == 0);

	CHECK_INT(vmapp_transport_send_close(&G, &gout, 1, 0xdeadbeefu), 0);
	CHECK_TR(pump(&gout, &H), R(OK));
	CHECK(last.kind == K_CLOSE && last.close.reason == 0xdeadbeefu);

	/* Control. */
	const char *argv[] = { "foot", "-e", "sh" };
	const char *envp[] = { "LANG=C.UTF-8", "A=" };
	CHECK_INT(vmapp_transport_send_run(&G, &gout, 1, argv, 3, envp, 2), -EPERM);
	CHECK_INT(vmapp_transport_send_run(&H, &hout, 42, argv, 3, envp, 2), 0);
	CHECK_INT(vmapp_transport_send_run(&H, &hout, 42, argv, 3, envp, 2), -EEXIST);
	CHECK_INT(vmapp_transport_send_run(&H, &hout, 43, argv, 0, NULL, 0), -EINVAL);
	CHECK_INT(vmapp_transport_send_run(&H, &hout, 43, argv, 1, (const char *[]){ "X" }, 1),
		  -EINVAL);
	CHECK_TR(pump(&hout, &G), R(OK));
	CHECK(last.kind == K_RUN && last.run.run_id == 42 && last.run.argc == 3 &&
	      last.run.envc == 2);
	{
		const char *s = last.run.strings;
		const char *want[] = { "foot", "-e", "sh", "LANG=C.UTF-8", "A=" };
		for (int i = 0; i < 5; i++) {
			CHECK(strcmp(s, want[i]) == 0);
			s += strlen(s) + 1;
		}
		CHECK(s == last.run.strings + last.run.strings_size);
	}
	/* OUTPUT: the guest's, for a run before its EXIT, 1..MAX_OUTPUT
	 * bytes on stream 1 or 2, delivered as sent. */
	{
		static const uint8_t bytes[] = { 'h', 'i', 0, '\n' };
		static uint8_t big[VMAPP_TRANSPORT_MAX_OUTPUT + 1];
		CHECK_INT(vmapp_transport_send_output(&H, &hout, 42, 1, bytes, 4), -EPERM);
		CHECK_INT(vmapp_transport_send_output(&G, &gout, 41, 1, bytes, 4), -ENOENT);
		CHECK_INT(vmapp_transport_send_output(&G, &gout, 42, 3, bytes, 4), -EINVAL);
		CHECK_INT(vmapp_transport_send_output(&G, &gout, 42, 1, bytes, 0), -EMSGSIZE);
		CHECK_INT(vmapp_transport_send_output(&G, &gout, 42, 1, big, sizeof(big)),
			  -EMSGSIZE);
		CHECK_INT(gout.len, 0);
		CHECK_INT(vmapp_transport_send_output(&G, &gout, 42, 2, bytes, 4), 0);
		CHECK_TR(pump(&gout, &H), R(OK));
		CHECK(last.kind == K_OUTPUT && last.output.run_id == 42 && last.output.stream == 2 &&
		      last.output.size == 4 && memcmp(last.output.data, bytes, 4) == 0);
		CHECK_INT(vmapp_transport_send_output(&G, &gout, 42, 1, big, sizeof(big) - 1), 0);
		CHECK_TR(pump(&gout, &H), R(OK));
		CHECK(last.kind == K_OUTPUT && last.output.size == VMAPP_TRANSPORT_MAX_OUTPUT);
		/* The credit both sides count, and its return. */
		uint32_t used = 4 + VMAPP_TRANSPORT_MAX_OUTPUT;
		CHECK_INT(vmapp_transport_output_credit(&G, 42),
			  VMAPP_TRANSPORT_MAX_OUTPUT_CREDIT - used);
		CHECK_INT(vmapp_transport_output_credit(&H, 42),
			  VMAPP_TRANSPORT_MAX_OUTPUT_CREDIT - used);
		CHECK_INT(vmapp_transport_send_output_credit(&G, &gout, 42, 4), -EPERM);
		CHECK_INT(vmapp_transport_send_output_credit(&H, &hout, 41, 4), -ENOENT);
		CHECK_INT(vmapp_transport_send_output_credit(&H, &hout, 42, 0), -EINVAL);
		CHECK_INT(vmapp_transport_send_output_credit(&H, &hout, 42, used + 1), -EINVAL);
		CHECK_INT(vmapp_transport_send_output_credit(&H, &hout, 42, used), 0);
		CHECK_TR(pump(&hout, &G), R(OK));
		CHECK(last.kind == K_OUTPUT_CREDIT && last.output_credit.run_id == 42 &&
		      last.output_credit.bytes == used);
		CHECK_INT(vmapp_transport_output_credit(&G, 42), VMAPP_TRANSPORT_MAX_OUTPUT_CREDIT);
		/* Out of credit: the guest waits. */
		uint32_t sent = 0;
		while (vmapp_transport_send_output(&G, &gout, 42, 1, big, VMAPP_TRANSPORT_MAX_OUTPUT) == 0)
			sent += VMAPP_TRANSPORT_MAX_OUTPUT;
		uint32_t rest = VMAPP_TRANSPORT_MAX_OUTPUT_CREDIT - sent;
		CHECK_INT(vmapp_transport_output_credit(&G, 42), rest);
		CHECK_INT(vmapp_transport_send_output(&G, &gout, 42, 1, big, rest + 1), -ENOSPC);
		if (rest > 0)
			CHECK_INT(vmapp_transport_send_output(&G, &gout, 42, 1, big, rest), 0);
		CHECK_INT(vmapp_transport_send_output(&G, &gout, 42, 1, big, 1), -ENOSPC);
		CHECK_TR(pump(&gout, &H), R(OK));
		CHECK_INT(vmapp_transport_output_credit(&H, 42), 0);
	}
	CHECK_INT(vmapp_transport_send_exit(&G, &gout, 41, 0), -ENOENT);
	CHECK_INT(vmapp_transport_send_exit(&G, &gout, 42, 256), -EINVAL);
	CHECK_INT(vmapp_transport_send_exit(&G, &gout, 42, -9), 0);
	CHECK_TR(pump(&gout, &H), R(OK));
	CHECK(last.kind == K_EXIT && last.exit.run_id == 42 && last.exit.status == -9);
	CHECK_INT(H.n_runs, 0);
	CHECK_INT(vmapp_transport_send_output(&G, &gout, 42, 1, "late", 4), -ENOENT);

	/* SIGNAL: only to a run waiting for its EXIT, only the signals the
	 * guest takes, only from the host; the guest ignores one that
	 * crossed the EXIT. */
	CHECK_INT(vmapp_transport_send_signal(&H, &hout, 42, 15), -ENOENT);
	CHECK_INT(vmapp_transport_send_run(&H, &hout, 44, argv, 1, NULL, 0), 0);
	CHECK_TR(pump(&hout, &G), R(OK));
	CHECK_INT(vmapp_transport_send_signal(&G, &gout, 44, 15), -EPERM);
	CHECK_INT(vmapp_transport_send_signal(&H, &hout, 44, 19), -EINVAL);
	CHECK_INT(vmapp_transport_send_signal(&H, &hout, 44, 0), -EINVAL);
	CHECK_INT(hout.len, 0);
	CHECK_INT(vmapp_transport_send_signal(&H, &hout, 44, 2), 0);
	CHECK_TR(pump(&hout, &G), R(OK));
	CHECK_ACT(DELIVER);
	CHECK(last.kind == K_SIGNAL && last.channel == 0 && last.length == 8 &&
	      last.signal.run_id == 44 && last.signal.signo == 2);
	CHECK_INT(vmapp_transport_send_signal(&H, &hout, 44, 9), 0);
	CHECK_INT(vmapp_transport_send_exit(&G, &gout, 44, -9), 0);
	CHECK_TR(pump(&hout, &G), R(OK));
	CHECK_ACT(DROP);
	CHECK(last.kind == K_SIGNAL && last.signal.signo == 9);
	CHECK_TR(pump(&gout, &H), R(OK));
	CHECK(last.kind == K_EXIT && last.exit.run_id == 44 && last.exit.status == -9);
	CHECK_INT(vmapp_transport_send_signal(&H, &hout, 44, 9), -ENOENT);
	CHECK_INT(H.n_runs, 0);
	CHECK_INT(G.n_runs, 0);

	CHECK_INT(vmapp_transport_send_apps(&G, &gout, NULL, 0), -ENOENT);
	CHECK_INT(vmapp_transport_send_list_apps(&H, &hout), 0);
	CHECK_TR(pump(&hout, &G), R(OK));
	CHECK(last.kind == K_LIST_APPS && last.length == 0);
	struct vmapp_transport_app apps[] = {
		{ "org.codeberg.dnkl.foot.desktop", "Foot", "foot", "foot",
		  "System;TerminalEmulator;" },
		{ "firefox-esr.desktop", "Firefox ESR \xe2\x80\x94 web", NULL, NULL, NULL },
	};
	CHECK_INT(vmapp_transport_send_apps(&G, &gout,
					    (struct vmapp_transport_app[]){ { "", "", "", "", "" } },
					    1), -EINVAL);
	/* What the host would refuse, the sender refuses: an icon or
	 * categories not UTF-8 or over the limit. */
	CHECK_INT(vmapp_transport_send_apps(&G, &gout,
					    (struct vmapp_transport_app[]){
						    { "a.desktop", "A", "a", "\xff", "" } },
					    1), -EINVAL);
	{
		char *long_categories = malloc(VMAPP_TRANSPORT_MAX_APP_STRING + 2);
		CHECK(long_categories != NULL);
		memset(long_categories, 'c', VMAPP_TRANSPORT_MAX_APP_STRING + 1);
		long_categories[VMAPP_TRANSPORT_MAX_APP_STRING + 1] = '\0';
		CHECK_INT(vmapp_transport_send_apps(&G, &gout,
						    (struct vmapp_transport_app[]){
							    { "a.desktop", "A", "a", "",
							      long_categories } },
						    1), -EINVAL);
		free(long_categories);
	}
	CHECK_INT(gout.len, 0);
	CHECK_INT(vmapp_transport_send_apps(&G, &gout, apps, 2), 0);
	CHECK_TR(pump(&gout, &H), R(OK));
	CHECK(last.kind == K_APPS && last.apps.count == 2);
	{
		const char *s = last.apps.strings;
		const char *want[] = { apps[0].id, apps[0].name, apps[0].exec, apps[0].icon,
				       apps[0].categories, apps[1].id, apps[1].name, "", "", "" };
		for (int i = 0; i < 10; i++) {
			CHECK(strcmp(s, want[i]) == 0);
			s += strlen(s) + 1;
		}
		CHECK(s == last.apps.strings + last.apps.strings_size);
	}
	CHECK_INT(H.lists, 0);

	CHECK_INT(vmapp_transport_send_error(&G, &gout, VMAPP_TRANSPORT_REASON_NORMAL, NULL), 0);
	CHECK_INT(vmapp_transport_send_error(&G, &gout, 0, "again"), -EALREADY);
	CHECK_TR(pump(&gout, &H), R(OK));
	CHECK(last.kind == K_ERROR && last.error.code == 0 && last.error.text_len == 0 &&
	      last.error.text[0] == '\0');
	CHECK(!vmapp_transport_ready(&G) && !vmapp_transport_ready(&H));
	CHECK_INT(vmapp_transport_send_open(&G, &gout, 2), -ENOTCONN);
	CHECK_INT(vmapp_transport_send_hello(&G, &gout), -ENOTCONN);
	vmapp_buf_finish(&gout);

	/* The raw encoder refuses what a u32 can not say. */
	struct vmapp_buf b = { 0 };
	CHECK_INT(vmapp_transport_append_frame(&b, 0, 0, 0, NULL, (size_t)UINT32_MAX + 1), -EMSGSIZE);
	vmapp_buf_finish(&b);
}

/* Sends beyond the peer's announced payload ceiling and window. */
static void test_sizes_out(void)
{
	pair();
	open_ch(1);
	static uint8_t big[20000];
	uint32_t ref = HREF;
	CHECK_INT(vmapp_transport_send_fd_content(&H, &hout, 1, ref, sizeof(big), 0, big, 16384),
		  -EMSGSIZE);
	CHECK_INT(vmapp_transport_send_fd_content(&H, &hout, 1, ref, sizeof(big), 0, big, 8172), 0);
	CHECK_INT(vmapp_transport_send_fd_content(&H, &hout, 1, ref, sizeof(big), 8172, big, 1),
		  -EAGAIN);
	CHECK_INT(vmapp_transport_send_fd_content(&H, &hout, 1, ref + 1, 10, 0, big, 1), -EAGAIN);
	CHECK_INT(vmapp_transport_send_fd_content(&H, &hout, 1, ref + 1, 10, 5, big, 1), -EINVAL);
	CHECK_INT(vmapp_transport_send_fd_content(&H, &hout, 1, ref, 5, 0, big, 6), -EINVAL);
	const char *argv[] = { (const char *)big };
	memset(big, 'a', sizeof(big) - 1);
	CHECK_INT(vmapp_transport_send_run(&H, &hout, 1, argv, 1, NULL, 0), -EMSGSIZE);
}

int main(void)
{
	test_peek();
	test_handshake();
	test_kinds();
	test_payload_sizes();
	test_channels();
	test_credit();
	test_shm();
	test_fd_content();
	test_pipes();
	test_wayland();
	test_control();
	test_round_trips();
	test_sizes_out();
	teardown();

	/* Every rule was met at least once (out-of-memory needs a failing
	 * allocator and is left to review). */
	for (int r = 0; r < VMAPP_TRANSPORT_RULE_COUNT; r++) {
		if (r == R(NO_MEMORY) || seen[r])
			continue;
		fprintf(stderr, "rule never tested: %s\n",
			vmapp_transport_rule_name((enum vmapp_transport_rule)r));
		test_failures++;
	}
	TEST_DONE();
}
