/* SPDX-License-Identifier: MIT */
/*
 * The validation rules.  Every refusal names exactly one of these; the name
 * is what the log line "interface.message@id: rule" and the tests print.
 */
#ifndef VMAPP_RULES_H
#define VMAPP_RULES_H

#define VMAPP_RULES(X) \
	X(OK, "ok") \
	X(HEADER_TRUNCATED, "header-truncated") \
	X(SIZE_TOO_SMALL, "size-too-small") \
	X(SIZE_TOO_LARGE, "size-too-large") \
	X(SIZE_UNALIGNED, "size-unaligned") \
	X(MESSAGE_TRUNCATED, "message-truncated") \
	X(OBJECT_UNKNOWN, "object-unknown") \
	X(OBJECT_DESTROYED, "object-destroyed") \
	X(OPCODE_UNKNOWN, "opcode-unknown") \
	X(VERSION_TOO_LOW, "version-too-low") \
	X(ARG_OVERFLOW, "arg-overflow") \
	X(TRAILING_BYTES, "trailing-bytes") \
	X(STRING_UNTERMINATED, "string-unterminated") \
	X(STRING_EMBEDDED_NUL, "string-embedded-nul") \
	X(STRING_UTF8, "string-invalid-utf8") \
	X(NULL_NOT_ALLOWED, "null-not-allowed") \
	X(OBJECT_ARG_UNKNOWN, "object-arg-unknown") \
	X(OBJECT_ARG_INTERFACE, "object-arg-wrong-interface") \
	X(NEW_ID_INVALID, "new-id-invalid") \
	X(NEW_ID_IN_USE, "new-id-in-use") \
	X(ENUM_INVALID, "enum-invalid") \
	X(FD_MISSING, "fd-missing") \
	X(FD_EXTRA, "fd-extra") \
	X(FD_TYPE, "fd-wrong-type") \
	X(INTERFACE_UNKNOWN, "interface-unknown") \
	X(BIND_NOT_ADVERTISED, "bind-not-advertised") \
	X(BIND_INTERFACE, "bind-interface-mismatch") \
	X(BIND_VERSION, "bind-version") \
	X(SHM_POOL_SIZE, "shm-pool-size") \
	X(SHM_POOL_SHRINK, "shm-pool-shrink") \
	X(SHM_BUFFER_GEOMETRY, "shm-buffer-geometry") \
	X(SHM_FORMAT, "shm-format") \
	X(ROLE, "surface-role") \
	X(CONFIGURE_SERIAL, "configure-serial") \
	X(LIMIT_OBJECTS, "limit-objects") \
	X(LIMIT_SHM, "limit-shm") \
	X(LIMIT_FDS, "limit-fds") \
	X(LIMIT_QUEUE, "limit-queue") \
	X(NO_MEMORY, "out-of-memory") \
	X(SERVER_PROTOCOL, "server-protocol")

#define VMAPP_RULE_ENUM(id, name) VMAPP_RULE_##id,
enum vmapp_rule { VMAPP_RULES(VMAPP_RULE_ENUM) VMAPP_RULE_COUNT };
#undef VMAPP_RULE_ENUM

/* The rule's stable name, e.g. "arg-overflow"; never NULL. */
const char *vmapp_rule_name(enum vmapp_rule rule);

#endif
