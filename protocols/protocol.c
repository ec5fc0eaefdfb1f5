/* SPDX-License-Identifier: MIT */
#include <stdlib.h>
#include <string.h>

#include "vmapp-protocol.h"

static int compare_name(const void *key, const void *elem)
{
	const struct vmapp_interface *const *iface = elem;

	return strcmp(key, (*iface)->name);
}

const struct vmapp_interface *
vmapp_protocol_find(const struct vmapp_protocol_set *set, const char *name)
{
	const struct vmapp_interface *const *found;

	/* bsearch wants a valid base pointer even for an empty array
	 * (C11 7.22.5). */
	if (!set || !name || set->n_interfaces == 0)
		return NULL;
	/* The generator sorts the set by strcmp order; see gen-tables.py. */
	found = bsearch(name, set->interfaces, set->n_interfaces,
			sizeof(*set->interfaces), compare_name);
	return found ? *found : NULL;
}
