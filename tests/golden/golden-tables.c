/* SPDX-License-Identifier: MIT */
/*
 * Uses the golden tables the way the proxy uses the real ones: through the
 * generated opcode constants and vmapp_protocol_find().  This proves that
 * expected-tables.c compiles with the project's warnings and that its
 * pointers (forward references, another interface's enum) land where the
 * XML says.
 */
#include <stdio.h>
#include <string.h>

#include "vmapp-protocol.h"
#include "expected-tables.h"

static int failures;

#define CHECK(cond)                                                     \
	do {                                                            \
		if (!(cond)) {                                          \
			fprintf(stderr, "%s:%d: check failed: %s\n",     \
				__FILE__, __LINE__, #cond);             \
			failures++;                                     \
		}                                                       \
	} while (0)

static void check_find(void)
{
	const struct vmapp_protocol_set *set = &golden_protocols;
	size_t i;

	CHECK(set->n_interfaces == 3);
	for (i = 1; i < set->n_interfaces; i++)
		CHECK(strcmp(set->interfaces[i - 1]->name,
			     set->interfaces[i]->name) < 0);
	for (i = 0; i < set->n_interfaces; i++)
		CHECK(vmapp_protocol_find(set, set->interfaces[i]->name) ==
		      set->interfaces[i]);
	CHECK(vmapp_protocol_find(set, "gt_thing") == &golden_iface_gt_thing);
	CHECK(vmapp_protocol_find(set, "gt_Callback") == &golden_iface_gt_Callback);
	CHECK(vmapp_protocol_find(set, "gt_callback") == NULL);
	CHECK(vmapp_protocol_find(set, "gt_") == NULL);
	CHECK(vmapp_protocol_find(set, "") == NULL);
	CHECK(vmapp_protocol_find(set, NULL) == NULL);
	CHECK(vmapp_protocol_find(NULL, "gt_thing") == NULL);
}

static void check_messages(void)
{
	const struct vmapp_interface *m = &golden_iface_gt_manager;
	const struct vmapp_interface *t = &golden_iface_gt_thing;
	const struct vmapp_message *msg;

	CHECK(m->version == 3);
	CHECK(m->n_requests == 5);
	CHECK(m->n_events == 2);

	msg = &m->requests[GOLDEN_REQ_GT_MANAGER_DESTROY];
	CHECK(msg->destructor && msg->n_args == 0 && msg->args == NULL);

	msg = &m->requests[GOLDEN_REQ_GT_MANAGER_BIND_ANY];
	CHECK(msg->n_args == 2);
	CHECK(msg->args[1].type == VMAPP_ARG_NEW_ID);
	CHECK(msg->args[1].interface == NULL);

	msg = &m->requests[GOLDEN_REQ_GT_MANAGER_CREATE_THING];
	CHECK(msg->args[0].interface == t);
	CHECK(msg->args[1].type == VMAPP_ARG_OBJECT && msg->args[1].nullable);
	CHECK(msg->args[2].type == VMAPP_ARG_STRING && msg->args[2].nullable);
	CHECK(msg->args[3].enumeration == &m->enums[1]);

	msg = &m->requests[GOLDEN_REQ_GT_MANAGER_SEND_BLOB];
	CHECK(msg->since == 2);
	CHECK(msg->n_args == 7);
	CHECK(msg->n_fds == 2);
	CHECK(msg->args[0].type == VMAPP_ARG_ARRAY);
	CHECK(msg->args[3].type == VMAPP_ARG_FIXED);
	CHECK(msg->args[4].type == VMAPP_ARG_INT);

	/* A forward reference to an interface defined later in the XML. */
	msg = &m->requests[GOLDEN_REQ_GT_MANAGER_SYNC];
	CHECK(msg->args[0].interface == &golden_iface_gt_Callback);

	msg = &m->events[GOLDEN_EVT_GT_MANAGER_KEYMAP];
	CHECK(msg->since == 3 && msg->n_fds == 1);

	/* Another interface's enum, by "interface.enum". */
	msg = &t->requests[GOLDEN_REQ_GT_THING_SET_CAPS];
	CHECK(msg->args[0].enumeration == &m->enums[1]);
	msg = &t->events[GOLDEN_EVT_GT_THING_ERROR_SEEN];
	CHECK(msg->args[0].enumeration == &m->enums[0]);

	msg = &t->requests[GOLDEN_REQ_GT_THING_RELEASE];
	CHECK(msg->destructor && msg->since == 2);
	msg = &t->events[GOLDEN_EVT_GT_THING_GONE];
	CHECK(msg->destructor);
	msg = &golden_iface_gt_Callback.events[GOLDEN_EVT_GT_CALLBACK_DONE];
	CHECK(msg->destructor && msg->n_args == 1);
}

static void check_enums(void)
{
	const struct vmapp_enum *caps = &golden_iface_gt_manager.enums[1];
	const struct vmapp_enum *error = &golden_iface_gt_manager.enums[0];
	const struct vmapp_enum *transform = &golden_iface_gt_thing.enums[0];

	CHECK(strcmp(caps->name, "caps") == 0 && caps->bitfield);
	CHECK(caps->n_entries == 4);
	CHECK(caps->entries[3].value == 0x80000000u);
	CHECK(caps->entries[3].since == 3);
	CHECK(!error->bitfield && error->entries[1].value == 0x10);
	CHECK(error->entries[1].since == 2);
	CHECK(strcmp(transform->entries[1].name, "90") == 0);
}

int main(void)
{
	check_find();
	check_messages();
	check_enums();
	if (failures) {
		fprintf(stderr, "%d check(s) failed\n", failures);
		return 1;
	}
	return 0;
}
