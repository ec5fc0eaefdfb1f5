/* SPDX-License-Identifier: MIT */
/*
 * Protocol tables: the types that protocols/gen-tables.py fills in from the
 * vendored XML.  Everything here is const data; nothing is allocated.
 */
#ifndef VMAPP_PROTOCOL_H
#define VMAPP_PROTOCOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum vmapp_arg_type {
	VMAPP_ARG_INT = 0,
	VMAPP_ARG_UINT,
	VMAPP_ARG_FIXED,
	VMAPP_ARG_STRING,
	VMAPP_ARG_OBJECT,
	VMAPP_ARG_NEW_ID,
	VMAPP_ARG_ARRAY,
	VMAPP_ARG_FD,
};

struct vmapp_enum_entry {
	const char *name;
	uint32_t value;
	uint32_t since;
};

struct vmapp_enum {
	const char *name;
	bool bitfield;
	uint32_t n_entries;
	const struct vmapp_enum_entry *entries;
};

struct vmapp_interface;

struct vmapp_arg {
	const char *name;
	enum vmapp_arg_type type;
	bool nullable;
	/* object and new_id only; NULL means "any" (object) or, for new_id,
	 * the untyped form of wl_registry.bind: string, uint version, id. */
	const struct vmapp_interface *interface; /* may be NULL */
	const struct vmapp_enum *enumeration;    /* may be NULL */
};

struct vmapp_message {
	const char *name;
	uint32_t since;
	uint32_t n_args;
	uint32_t n_fds;
	bool destructor;
	const struct vmapp_arg *args;
};

struct vmapp_interface {
	const char *name;
	uint32_t version;
	uint32_t n_requests;
	const struct vmapp_message *requests;
	uint32_t n_events;
	const struct vmapp_message *events;
	uint32_t n_enums;
	const struct vmapp_enum *enums;
};

struct vmapp_protocol_set {
	size_t n_interfaces;
	const struct vmapp_interface *const *interfaces; /* sorted by name */
};

/* Looks an interface up by name in a set; NULL when the set does not know it. */
const struct vmapp_interface *
vmapp_protocol_find(const struct vmapp_protocol_set *set, const char *name);

#endif
