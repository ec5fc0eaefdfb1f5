/* SPDX-License-Identifier: MIT */
/*
 * The object map of one proxied client: which ids exist, of which interface
 * and version, and whether they are alive or destroyed but not yet released.
 *
 * Ids are split as in libwayland: the client allocates 1..0xfeffffff, the
 * compositor 0xff000000..0xffffffff.  An id destroyed by a destructor
 * request stays a zombie until wl_display.delete_id releases it, so that
 * events still in flight for it can be parsed and the client can not reuse
 * the id before the compositor has.
 */
#ifndef VMAPP_OBJMAP_H
#define VMAPP_OBJMAP_H

#include <stdbool.h>
#include <stdint.h>

#include "vmapp-protocol.h"

#define VMAPP_SERVER_ID_START 0xff000000u

enum vmapp_object_state {
	VMAPP_OBJECT_FREE = 0,
	VMAPP_OBJECT_LIVE,
	VMAPP_OBJECT_ZOMBIE,
};

struct vmapp_object {
	const struct vmapp_interface *interface; /* NULL when FREE */
	uint32_t version;
	enum vmapp_object_state state;
	uint64_t data; /* per-interface hook state (hooks-*.c say what) */
	uint32_t hooks; /* which hooks the interface has, for hooks.c; 0 until known */
};

struct vmapp_objmap {
	struct vmapp_object *client;
	uint32_t client_len; /* entries in use: ids 1..client_len (index id-1) */
	uint32_t client_cap;
	struct vmapp_object *server;
	uint32_t server_len;
	uint32_t server_cap;
	uint32_t n_objects; /* LIVE and ZOMBIE */
	uint32_t max_objects;
};

void vmapp_objmap_init(struct vmapp_objmap *map, uint32_t max_objects);
void vmapp_objmap_finish(struct vmapp_objmap *map);

/* NULL when the id is outside both maps or FREE. */
const struct vmapp_object *vmapp_objmap_get(const struct vmapp_objmap *map, uint32_t id);
struct vmapp_object *vmapp_objmap_get_mut(struct vmapp_objmap *map, uint32_t id);

/*
 * Whether a client may create `id` now: a free id of the client range that
 * leaves no gap (a free slot or the one right after the highest ever used),
 * never shrunk, as in
 * libwayland's wl_map_reserve_new on the compositor side.
 */
bool vmapp_objmap_client_id_ok(const struct vmapp_objmap *map, uint32_t id);

/* Inserts a LIVE object (over a zombie, for a compositor id).  -EINVAL for
 * a bad or used id, -ENOSPC over the object limit, -ENOMEM. */
int vmapp_objmap_insert(struct vmapp_objmap *map, uint32_t id,
			const struct vmapp_interface *interface, uint32_t version);

void vmapp_objmap_zombify(struct vmapp_objmap *map, uint32_t id);
void vmapp_objmap_remove(struct vmapp_objmap *map, uint32_t id);

#endif
