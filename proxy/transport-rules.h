/* SPDX-License-Identifier: MIT */
/*
 * The rules of the transport between vmapp-agent and vmapp-proxy
 * (vmapp-transport(7)).  Every refusal of a frame names exactly one of
 * these; the name is what the log line, the ERROR frame's text and the
 * tests print.  The numbering is not on the wire (CLOSE and ERROR carry
 * the stable reason codes of vmapp_transport_rule_reason()), so rules may
 * be added anywhere.
 */
#ifndef VMAPP_TRANSPORT_RULES_H
#define VMAPP_TRANSPORT_RULES_H

#define VMAPP_TRANSPORT_RULES(X) \
	X(OK, "ok") \
	/* peek: not errors, more bytes are needed */ \
	X(HEADER_TRUNCATED, "frame-header-truncated") \
	X(FRAME_TRUNCATED, "frame-truncated") \
	/* framing: the stream can not be trusted any more */ \
	X(FRAME_FLAGS, "frame-flags") \
	X(FRAME_TOO_LARGE, "frame-too-large") \
	X(CHANNEL_RANGE, "channel-out-of-range") \
	X(HANDSHAKE_MISSING, "handshake-missing") \
	X(HELLO_DUPLICATE, "hello-duplicate") \
	X(HELLO_SIZE, "hello-size") \
	X(HELLO_MAGIC, "hello-magic") \
	X(HELLO_VERSION, "hello-version") \
	X(HELLO_LIMITS, "hello-limits") \
	X(CONNECTION_CLOSED, "connection-closed") \
	/* kinds and payload layouts */ \
	X(KIND_UNKNOWN, "kind-unknown") \
	X(KIND_CHANNEL, "kind-wrong-channel") \
	X(KIND_DIRECTION, "kind-wrong-direction") \
	X(PAYLOAD_SIZE, "payload-size") \
	X(COUNT_OVERFLOW, "count-beyond-payload") \
	X(COUNT_LIMIT, "count-over-limit") \
	X(TRAILING_BYTES, "trailing-bytes") \
	X(STRING_UNTERMINATED, "string-unterminated") \
	X(STRING_UTF8, "string-invalid-utf8") \
	X(STRING_TOO_LONG, "string-too-long") \
	X(STRING_EMPTY, "string-empty") \
	/* channels and credit */ \
	X(CHANNEL_IN_USE, "channel-in-use") \
	X(CHANNEL_NOT_OPEN, "channel-not-open") \
	X(CREDIT_EXCEEDED, "credit-exceeded") \
	X(CREDIT_OVERFLOW, "credit-overflow") \
	X(CREDIT_ZERO, "credit-zero") \
	/* refs */ \
	X(REF_RANGE, "ref-wrong-range") \
	X(REF_IN_USE, "ref-in-use") \
	X(REF_UNKNOWN, "ref-unknown") \
	X(REF_TYPE, "ref-wrong-type") \
	X(REF_OWNER, "ref-wrong-owner") \
	X(REF_PASSED, "ref-already-passed") \
	/* kinds' own rules */ \
	X(WAYLAND_MESSAGE, "wayland-partial-message") \
	X(SHM_SIZE, "shm-size") \
	X(SHM_SHRINK, "shm-shrink") \
	X(SHM_RANGE, "shm-update-outside-pool") \
	X(CONTENT_OFFSET, "fd-content-offset") \
	X(CONTENT_SIZE, "fd-content-size") \
	X(CONTENT_INCOMPLETE, "fd-content-incomplete") \
	X(PIPE_DIRECTION, "pipe-direction") \
	X(PIPE_ENDED, "pipe-ended") \
	X(RUN_NO_ARGV, "run-no-argv") \
	X(RUN_ENV, "run-env-not-name-value") \
	X(RUN_ID_IN_USE, "run-id-in-use") \
	X(RUN_UNKNOWN, "run-unknown") \
	X(EXIT_STATUS, "exit-status") \
	X(SIGNAL_NUMBER, "signal-number") \
	X(OUTPUT_STREAM, "output-stream") \
	X(APPS_UNSOLICITED, "apps-unsolicited") \
	/* limits */ \
	X(LIMIT_REFS, "limit-refs") \
	X(LIMIT_SHM, "limit-shm") \
	X(LIMIT_REQUESTS, "limit-requests") \
	X(NO_MEMORY, "out-of-memory")

#define VMAPP_TRANSPORT_RULE_ENUM(id, name) VMAPP_TRANSPORT_RULE_##id,
enum vmapp_transport_rule {
	VMAPP_TRANSPORT_RULES(VMAPP_TRANSPORT_RULE_ENUM)
	VMAPP_TRANSPORT_RULE_COUNT
};
#undef VMAPP_TRANSPORT_RULE_ENUM

/* The rule's stable name, e.g. "credit-exceeded"; never NULL. */
const char *vmapp_transport_rule_name(enum vmapp_transport_rule rule);

#endif
