/* SPDX-License-Identifier: MIT */
/*
 * Object tracking from decoded messages: the ids a message creates, the
 * one a destructor retires, the ids wl_display.delete_id releases.  Used by
 * the validator (conn.c) and by the agent, which needs the same map to
 * decode its client's messages.
 */
#ifndef VMAPP_TRACK_H
#define VMAPP_TRACK_H

#include "objmap.h"
#include "rules.h"
#include "wire.h"

/*
 * Applies `view` (decoded by vmapp_wire_decode against `map`) to the map.
 * new_data is the data of the objects it creates.  INTERFACE_UNKNOWN,
 * LIMIT_OBJECTS, NO_MEMORY, NEW_ID_IN_USE (requests) or SERVER_PROTOCOL
 * (events) when an object can not be made.
 */
enum vmapp_rule vmapp_track_message(struct vmapp_objmap *map,
				    const struct vmapp_protocol_set *protocols,
				    enum vmapp_direction direction,
				    const struct vmapp_message_view *view, uint64_t new_data);

/* wl_display.delete_id: releases a client id (compositor ids get none). */
void vmapp_track_delete_id(struct vmapp_objmap *map, uint32_t id);

#endif
