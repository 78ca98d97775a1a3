/*
 * room_int.h — what the files of room/ share; not for other modules.
 */
#ifndef PL_ROOM_INT_H
#define PL_ROOM_INT_H

#include "room/room.h"

/* Adds an event to the effects (ROOM_FX_MAX at most). */
void room__emit(struct room_fx *fx, enum room_ev_kind kind, const struct room_member *m);
/* Hands, floor and timer commands (floor.c). */
int room__floor_apply(struct room *r, uint64_t seq, int64_t ts, const struct room_cmd *c,
		      struct room_fx *fx);
/* A member left: drop its hand, end its turn. */
void room__floor_left(struct room *r, int64_t ts, uint64_t member, struct room_fx *fx);
bool room__hand_drop(struct room *r, uint64_t member);

#endif
