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
/* The session ends: no hands, nobody on the floor. */
void room__floor_end(struct room *r, int64_t ts, struct room_fx *fx);
/* Moderation commands (moderation.c). */
int room__mod_apply(struct room *r, uint64_t seq, int64_t ts, const struct room_cmd *c,
		    struct room_fx *fx);
int room__may_chat(const struct room *r, const struct room_member *m, int64_t ts);
int room__msg_add(struct room *r, uint64_t seq, uint64_t from);
bool room__banned(const struct room *r, const uint8_t device[16]);
bool room__has_device(const struct room_member *m);
/* Prompts (prompts.c). */
int room__prompt_apply(struct room *r, uint64_t seq, int64_t ts, const struct room_cmd *c,
		       struct room_fx *fx);
int64_t room__prompt_deadline(const struct room *r, uint64_t *id);
void room__prompts_free(struct room *r);
int64_t room__floor_deadline(const struct room *r, uint8_t *what);
/* Agenda (agenda.c). */
int room__agenda_apply(struct room *r, int64_t ts, const struct room_cmd *c, struct room_fx *fx);
void room__agenda_free(struct room *r);
/* A member goes, for any reason: LEFT, and its hand and turn end. */
void room__member_leave(struct room *r, int64_t ts, struct room_member *m, uint8_t reason,
			struct room_fx *fx);

#endif
