/*
 * moderation.c — what facilitators may do to a room and to the people in it,
 * and the moderation log that shows everyone who did it.
 *
 * Every action below needs a facilitator or co-facilitator (`fac`), checked
 * here, never trusted from the caller. Each one that changes something adds
 * one line to the room's moderation log (who, what, to whom, when) and emits
 * one ROOM_EV_MOD event carrying that line, so clients apply the change and
 * show the log from the same message. The text of a deleted message is
 * forgotten by the replica and never repeated in the log.
 *
 * Removal is a leave with reason "removed"; with a ban, the member's device
 * hash (a keyed hash of an id the browser keeps, never the id itself) is
 * barred from joining this room again. Ending the session makes the room
 * read-only: room_apply refuses everything but presence from then on.
 */
#include <stdlib.h>
#include <string.h>

#include "room/room_int.h"
#include "util/buf.h"
#include "util/err.h"

int room__msg_add(struct room *r, uint64_t seq, uint64_t from)
{
	if (util_array_grow(&r->msgs, &r->msgs_cap, r->nmsgs, sizeof(*r->msgs), 8))
		return PL_ENOMEM;
	r->msgs[r->nmsgs++] = (struct room_msg){.seq = seq, .from = from};
	return 0;
}

static struct room_msg *msg_of(struct room *r, uint64_t seq)
{
	size_t lo = 0, hi = r->nmsgs;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (r->msgs[mid].seq < seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < r->nmsgs && r->msgs[lo].seq == seq ? &r->msgs[lo] : NULL;
}

bool room__has_device(const struct room_member *m)
{
	static const uint8_t none[16];
	return memcmp(m->device, none, sizeof(none)) != 0;
}

bool room__banned(const struct room *r, const uint8_t device[16])
{
	for (size_t i = 0; i < r->nbanned; i++)
		if (!memcmp(r->banned[i], device, 16))
			return true;
	return false;
}

/* Adds a log line and its event. */
static int logged(struct room *r, uint64_t seq, int64_t ts, const struct room_cmd *c,
		  uint8_t action, struct room_fx *fx)
{
	if (util_array_grow(&r->modlog, &r->mod_cap, r->nmod, sizeof(*r->modlog), 8))
		return PL_ENOMEM;
	struct room_mod *m = &r->modlog[r->nmod++];
	*m = (struct room_mod){.seq = seq, .ts = ts, .actor = c->member, .action = action,
			       .target = c->target};
	if (action == ROOM_MOD_CHAT_MODE) {
		m->arg = c->arg;
		m->arg2 = c->arg2;
	}
	room__emit(fx, ROOM_EV_MOD, room_member(r, c->target));
	fx->ev[fx->nev - 1].mod = m;
	return 0;
}

static int delete_msg(struct room *r, uint64_t seq, int64_t ts, const struct room_cmd *c,
		      struct room_fx *fx)
{
	struct room_msg *m = msg_of(r, c->target);
	if (!m)
		return PL_ENOTFOUND;
	if (m->deleted)
		return 0;
	m->deleted = true;
	for (unsigned i = 0; i < r->chat_n; i++) {
		struct room_chat *ch = (struct room_chat *)room_recent_chat(r, i);
		if (ch->seq == c->target) {
			free(ch->text);
			ch->text = NULL;
			ch->deleted = true;
		}
	}
	return logged(r, seq, ts, c, ROOM_MOD_DELETE, fx);
}

static int remove_member(struct room *r, uint64_t seq, int64_t ts, const struct room_cmd *c,
			 struct room_member *t, struct room_fx *fx)
{
	if (t->role == ROOM_FACILITATOR)
		return PL_EFORBIDDEN; /* the key holder cannot be thrown out */
	if (c->arg && room__has_device(t) && !room__banned(r, t->device)) {
		if (util_array_grow(&r->banned, &r->banned_cap, r->nbanned, sizeof(*r->banned), 8))
			return PL_ENOMEM;
		memcpy(r->banned[r->nbanned++], t->device, 16);
	}
	int rc = logged(r, seq, ts, c, c->arg ? ROOM_MOD_BAN : ROOM_MOD_REMOVE, fx);
	if (rc)
		return rc;
	room__member_leave(r, ts, t, ROOM_REMOVED, fx);
	return 0;
}

static int set_role(struct room *r, uint64_t seq, int64_t ts, const struct room_cmd *c,
		    struct room_member *t, struct room_fx *fx)
{
	if (t->role == ROOM_FACILITATOR)
		return PL_EFORBIDDEN;
	uint8_t role = c->arg ? ROOM_COFACILITATOR : ROOM_PARTICIPANT;
	if (t->role == role)
		return 0;
	t->role = role;
	if (role != ROOM_PARTICIPANT)
		t->muted = false; /* facilitators cannot be muted */
	return logged(r, seq, ts, c, c->arg ? ROOM_MOD_PROMOTE : ROOM_MOD_DEMOTE, fx);
}

static int end_session(struct room *r, uint64_t seq, int64_t ts, const struct room_cmd *c,
		       struct room_fx *fx)
{
	int rc = logged(r, seq, ts, c, ROOM_MOD_END, fx);
	if (rc)
		return rc;
	r->ended = true;
	r->ended_ts = ts;
	room__floor_end(r, ts, fx);
	for (size_t i = 0; i < r->nprompts; i++) { /* `end` closes every prompt */
		if (!r->prompts[i].closed) {
			r->prompts[i].closed = true;
			r->prompts[i].closed_at = ts;
		}
	}
	return 0;
}

int room__mod_apply(struct room *r, uint64_t seq, int64_t ts, const struct room_cmd *c,
		    struct room_fx *fx)
{
	if (!room_is_fac(r, c->member))
		return room_member(r, c->member) ? PL_EFORBIDDEN : PL_ENOTJOINED;
	struct room_member *t = NULL;
	if (c->kind == ROOM_MUTE || c->kind == ROOM_REMOVE || c->kind == ROOM_ROLE) {
		t = room_member(r, c->target);
		if (!t || !t->present)
			return PL_ENOTFOUND;
	}
	switch (c->kind) {
	case ROOM_DELETE:
		return delete_msg(r, seq, ts, c, fx);
	case ROOM_MUTE:
		if (t->muted == !!c->arg)
			return 0;
		if (c->arg && t->role != ROOM_PARTICIPANT)
			return PL_EFORBIDDEN;
		t->muted = c->arg;
		return logged(r, seq, ts, c, c->arg ? ROOM_MOD_MUTE : ROOM_MOD_UNMUTE, fx);
	case ROOM_REMOVE:
		return remove_member(r, seq, ts, c, t, fx);
	case ROOM_LOCK:
		if (r->locked == !!c->arg)
			return 0;
		r->locked = c->arg;
		return logged(r, seq, ts, c, c->arg ? ROOM_MOD_LOCK : ROOM_MOD_UNLOCK, fx);
	case ROOM_CHAT_MODE:
		if (c->arg > ROOM_CHAT_FAC_ONLY || c->arg2 > 3600 ||
		    (c->arg == ROOM_CHAT_SLOW && c->arg2 == 0))
			return PL_EBADREQ;
		r->chat_mode = (uint8_t)c->arg;
		r->slow_s = c->arg == ROOM_CHAT_SLOW ? c->arg2 : 0;
		return logged(r, seq, ts, c, ROOM_MOD_CHAT_MODE, fx);
	case ROOM_ROLE:
		return set_role(r, seq, ts, c, t, fx);
	case ROOM_END:
		return end_session(r, seq, ts, c, fx);
	default:
		return PL_EBADREQ;
	}
}

/* Whether a member may post now, by the room's chat rules. */
int room__may_chat(const struct room *r, const struct room_member *m, int64_t ts)
{
	bool fac = m->role != ROOM_PARTICIPANT;
	if (m->muted)
		return PL_EMUTED;
	if (r->chat_mode == ROOM_CHAT_FAC_ONLY && !fac)
		return PL_EFORBIDDEN;
	if (r->chat_mode == ROOM_CHAT_SLOW && !fac && m->last_chat &&
	    ts - m->last_chat < (int64_t)r->slow_s * 1000)
		return PL_ESLOW;
	return 0;
}
