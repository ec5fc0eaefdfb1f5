/* SPDX-License-Identifier: MIT */
#include <errno.h>

#include "track.h"

enum vmapp_rule vmapp_track_message(struct vmapp_objmap *map,
				    const struct vmapp_protocol_set *protocols,
				    enum vmapp_direction direction,
				    const struct vmapp_message_view *view, uint64_t new_data)
{
	const struct vmapp_message *m = view->message;
	uint32_t version = view->object->version;

	for (uint32_t i = 0; i < m->n_args; i++) {
		const struct vmapp_arg *arg = &m->args[i];
		if (arg->type != VMAPP_ARG_NEW_ID)
			continue;
		const struct vmapp_interface *iface = arg->interface;
		uint32_t v = version;
		if (!iface) {
			/* wl_registry.bind: the name and version came on the wire */
			iface = vmapp_protocol_find(protocols, view->new_interface_name);
			v = view->new_version;
			if (!iface)
				return VMAPP_RULE_INTERFACE_UNKNOWN;
		}
		int r = vmapp_objmap_insert(map, view->args[i].u, iface, v);
		if (r == -ENOSPC)
			return VMAPP_RULE_LIMIT_OBJECTS;
		if (r == -ENOMEM)
			return VMAPP_RULE_NO_MEMORY;
		if (r < 0)
			return direction == VMAPP_REQUEST ? VMAPP_RULE_NEW_ID_IN_USE
							  : VMAPP_RULE_SERVER_PROTOCOL;
		vmapp_objmap_get_mut(map, view->args[i].u)->data = new_data;
	}

	/* A client id waits for the compositor's delete_id.  A compositor id
	 * gets none: it stays a zombie, so that events still in flight for it
	 * parse, until the compositor hands the id out again. */
	if (m->destructor)
		vmapp_objmap_zombify(map, view->object_id);
	return VMAPP_RULE_OK;
}

void vmapp_track_delete_id(struct vmapp_objmap *map, uint32_t id)
{
	if (id < VMAPP_SERVER_ID_START)
		vmapp_objmap_remove(map, id);
}
