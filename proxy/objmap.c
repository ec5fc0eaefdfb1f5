/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "objmap.h"

/* A hard ceiling on array growth on top of the object limit: the server
 * range is dense in libwayland too, so a huge id is a protocol error. */
#define MAX_SLOTS (1u << 20)

void vmapp_objmap_init(struct vmapp_objmap *map, uint32_t max_objects)
{
	memset(map, 0, sizeof(*map));
	map->max_objects = max_objects;
}

void vmapp_objmap_finish(struct vmapp_objmap *map)
{
	free(map->client);
	free(map->server);
	memset(map, 0, sizeof(*map));
}

static struct vmapp_object *slot(const struct vmapp_objmap *map, uint32_t id)
{
	if (id == 0)
		return NULL;
	if (id < VMAPP_SERVER_ID_START) {
		if (id - 1 >= map->client_len)
			return NULL;
		return &map->client[id - 1];
	}
	if (id - VMAPP_SERVER_ID_START >= map->server_len)
		return NULL;
	return &map->server[id - VMAPP_SERVER_ID_START];
}

const struct vmapp_object *vmapp_objmap_get(const struct vmapp_objmap *map, uint32_t id)
{
	const struct vmapp_object *obj = slot(map, id);
	if (!obj || obj->state == VMAPP_OBJECT_FREE)
		return NULL;
	return obj;
}

struct vmapp_object *vmapp_objmap_get_mut(struct vmapp_objmap *map, uint32_t id)
{
	struct vmapp_object *obj = slot(map, id);
	if (!obj || obj->state == VMAPP_OBJECT_FREE)
		return NULL;
	return obj;
}

bool vmapp_objmap_client_id_ok(const struct vmapp_objmap *map, uint32_t id)
{
	if (id == 0 || id >= VMAPP_SERVER_ID_START)
		return false;
	if (id - 1 == map->client_len)
		return true;
	if (id - 1 > map->client_len)
		return false;
	return map->client[id - 1].state == VMAPP_OBJECT_FREE;
}

static int grow(struct vmapp_object **array, uint32_t *len, uint32_t *cap, uint32_t index)
{
	if (index >= MAX_SLOTS)
		return -ENOSPC;
	if (index >= *cap) {
		uint32_t new_cap = *cap ? *cap : 64;
		while (new_cap <= index)
			new_cap *= 2;
		struct vmapp_object *n = realloc(*array, (size_t)new_cap * sizeof(**array));
		if (!n)
			return -ENOMEM;
		memset(n + *cap, 0, (size_t)(new_cap - *cap) * sizeof(*n));
		*array = n;
		*cap = new_cap;
	}
	if (index >= *len)
		*len = index + 1;
	return 0;
}

int vmapp_objmap_insert(struct vmapp_objmap *map, uint32_t id,
			const struct vmapp_interface *interface, uint32_t version)
{
	int r;

	if (id == 0)
		return -EINVAL;
	const struct vmapp_object *old = slot(map, id);
	bool reuse = old && old->state == VMAPP_OBJECT_ZOMBIE && id >= VMAPP_SERVER_ID_START;
	if (!reuse && map->n_objects >= map->max_objects)
		return -ENOSPC;
	if (id < VMAPP_SERVER_ID_START)
		r = grow(&map->client, &map->client_len, &map->client_cap, id - 1);
	else
		r = grow(&map->server, &map->server_len, &map->server_cap,
			 id - VMAPP_SERVER_ID_START);
	if (r < 0)
		return r;

	struct vmapp_object *obj = slot(map, id);
	if (reuse)
		map->n_objects--; /* the compositor reuses the id of a destroyed object */
	else if (obj->state != VMAPP_OBJECT_FREE)
		return -EINVAL;
	obj->interface = interface;
	obj->version = version;
	obj->state = VMAPP_OBJECT_LIVE;
	obj->data = 0;
	obj->hooks = 0;
	map->n_objects++;
	return 0;
}

void vmapp_objmap_zombify(struct vmapp_objmap *map, uint32_t id)
{
	struct vmapp_object *obj = vmapp_objmap_get_mut(map, id);
	if (obj)
		obj->state = VMAPP_OBJECT_ZOMBIE;
}

void vmapp_objmap_remove(struct vmapp_objmap *map, uint32_t id)
{
	struct vmapp_object *obj = vmapp_objmap_get_mut(map, id);
	if (!obj)
		return;
	memset(obj, 0, sizeof(*obj));
	map->n_objects--;
}
