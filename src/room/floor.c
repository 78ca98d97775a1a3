/*
 * floor.c — the hand queue and the floor: who speaks next, and for how long.
 *
 * The queue has one order that every replica computes the same way:
 *   1. by hand type: clarification, then direct reply, then new point;
 *   2. within a type, by the room's policy: first come (no key), fewest turns
 *      first (the progressive stack), or least speaking time first;
 *   3. ties by the seq of the raise (who raised first);
 *   4. then every hand a facilitator moved is put at the position it was
 *      moved to (clamped to the end), oldest move first, so the latest move
 *      wins. A moved hand keeps its place until it is served or lowered.
 * The keys are counts in the state (turns, speaking time of closed turns), so
 * the order is a pure function of the state.
 *
 * A hand is used up when its owner is given the floor, not before, and it
 * survives its owner's dropped connection (only `leave` removes it).
 *
 * The turn timer is a deadline in the state. When it (or its 80 % warning)
 * is due, some instance appends an `expire` record naming the turn; apply
 * checks that the named turn still holds the floor and that the record's
 * time is really past the deadline, and ignores it otherwise, so expiry is
 * idempotent and safe to append more than once.
 */
#include <stdlib.h>
#include <string.h>

#include "room/room_int.h"
#include "util/buf.h"
#include "util/err.h"

#define TIMER_MAX_S 3600

bool room_is_fac(const struct room *r, uint64_t member)
{
	const struct room_member *m = room_member(r, member);
	return m && m->present && m->role != ROOM_PARTICIPANT;
}

static struct room_hand *hand_of(struct room *r, uint64_t member, size_t *idx)
{
	for (size_t i = 0; i < r->nhands; i++) {
		if (r->hands[i].member == member) {
			if (idx)
				*idx = i;
			return &r->hands[i];
		}
	}
	return NULL;
}

static void hand_remove(struct room *r, size_t i)
{
	memmove(&r->hands[i], &r->hands[i + 1], (r->nhands - i - 1) * sizeof(r->hands[0]));
	r->nhands--;
}

/* Removes a member's hand; true if there was one. */
bool room__hand_drop(struct room *r, uint64_t member)
{
	size_t i;
	if (!hand_of(r, member, &i))
		return false;
	hand_remove(r, i);
	return true;
}

static int64_t policy_key(const struct room *r, const struct room_hand *h)
{
	const struct room_member *m = room_member(r, h->member);
	switch (r->policy) {
	case ROOM_POLICY_FEWEST_TURNS: return m ? m->turns : 0;
	case ROOM_POLICY_LEAST_TIME: return m ? m->speak_ms : 0;
	default: return 0;
	}
}

static bool goes_before(const struct room *r, const struct room_hand *a, const struct room_hand *b)
{
	if (a->type != b->type)
		return a->type < b->type;
	int64_t ka = policy_key(r, a), kb = policy_key(r, b);
	if (ka != kb)
		return ka < kb;
	return a->raised < b->raised;
}

size_t room_queue(const struct room *r, size_t *out, size_t n)
{
	size_t len = 0;
	if (n < r->nhands)
		return r->nhands; /* the caller's array is too small: nothing */
	/* unpinned hands, insertion-sorted (queues are short) */
	for (size_t i = 0; i < r->nhands; i++) {
		if (r->hands[i].pin >= 0)
			continue;
		size_t j = len++;
		while (j > 0 && goes_before(r, &r->hands[i], &r->hands[out[j - 1]])) {
			out[j] = out[j - 1];
			j--;
		}
		out[j] = i;
	}
	/* moved hands, oldest move first, each at its position */
	for (;;) {
		size_t best = r->nhands;
		for (size_t i = 0; i < r->nhands; i++) {
			const struct room_hand *h = &r->hands[i];
			if (h->pin < 0)
				continue;
			bool placed = false;
			for (size_t k = 0; k < len; k++)
				placed |= out[k] == i;
			if (!placed && (best == r->nhands || h->pinned < r->hands[best].pinned))
				best = i;
		}
		if (best == r->nhands)
			break;
		size_t pos = (size_t)r->hands[best].pin;
		if (pos > len)
			pos = len;
		memmove(&out[pos + 1], &out[pos], (len - pos) * sizeof(out[0]));
		out[pos] = best;
		len++;
	}
	return r->nhands;
}

/* Closes the running turn, crediting its time. Returns the holder or NULL. */
static struct room_member *end_turn(struct room *r, int64_t ts)
{
	struct room_member *m = r->floor.member ? room_member(r, r->floor.member) : NULL;
	if (m && ts > r->floor.since)
		m->speak_ms += ts - r->floor.since;
	memset(&r->floor, 0, sizeof(r->floor));
	return m;
}

static void start_turn(struct room *r, uint64_t seq, int64_t ts, struct room_member *m)
{
	r->floor = (struct room_floor){.member = m->id, .turn = seq, .since = ts};
	if (r->timer_s)
		r->floor.deadline = ts + (int64_t)r->timer_s * 1000;
	m->turns++;
}

/* The first in the queue, or 0. */
static uint64_t queue_head(const struct room *r)
{
	size_t small[64], *order = small;
	if (!r->nhands)
		return 0;
	if (r->nhands > 64 && !(order = malloc(r->nhands * sizeof(*order))))
		return 0;
	room_queue(r, order, r->nhands);
	uint64_t head = r->hands[order[0]].member;
	if (order != small)
		free(order);
	return head;
}

/* Gives the floor to `to` (0: nobody), ending the current turn. */
static void pass_floor(struct room *r, uint64_t seq, int64_t ts, uint64_t to, struct room_fx *fx)
{
	struct room_member *prev = end_turn(r, ts);
	struct room_member *next = to ? room_member(r, to) : NULL;
	if (next) {
		start_turn(r, seq, ts, next);
		if (room__hand_drop(r, next->id))
			room__emit(fx, ROOM_EV_QUEUE, NULL);
	}
	room__emit(fx, ROOM_EV_FLOOR, prev);
}

void room__floor_left(struct room *r, int64_t ts, uint64_t member, struct room_fx *fx)
{
	if (room__hand_drop(r, member))
		room__emit(fx, ROOM_EV_QUEUE, NULL);
	if (r->floor.member == member)
		room__emit(fx, ROOM_EV_FLOOR, end_turn(r, ts));
}

void room__floor_end(struct room *r, int64_t ts, struct room_fx *fx)
{
	if (r->nhands) {
		r->nhands = 0;
		room__emit(fx, ROOM_EV_QUEUE, NULL);
	}
	if (r->floor.member)
		room__emit(fx, ROOM_EV_FLOOR, end_turn(r, ts));
}

static int apply_expire(struct room *r, uint64_t seq, int64_t ts, const struct room_cmd *c,
			struct room_fx *fx)
{
	struct room_floor *f = &r->floor;
	if (!f->member || f->turn != c->target || !f->deadline)
		return 0; /* stale: another turn, or no timer */
	if (c->arg == ROOM_EXPIRE_WARN) {
		if (f->warned || ts < f->since + (f->deadline - f->since) * 8 / 10)
			return 0;
		f->warned = true;
		room__emit(fx, ROOM_EV_WARN, room_member(r, f->member));
		return 0;
	}
	if (f->expired || ts < f->deadline)
		return 0;
	f->warned = true;
	if (r->timer_action == ROOM_TIMER_NEXT) {
		pass_floor(r, seq, ts, queue_head(r), fx);
		return 0;
	}
	f->expired = true;
	room__emit(fx, ROOM_EV_TIMEUP, room_member(r, f->member));
	return 0;
}

int room__floor_apply(struct room *r, uint64_t seq, int64_t ts, const struct room_cmd *c,
		      struct room_fx *fx)
{
	if (c->kind == ROOM_EXPIRE)
		return apply_expire(r, seq, ts, c, fx);
	struct room_member *actor = room_member(r, c->member);
	if (!actor || !actor->present)
		return PL_ENOTJOINED;
	bool fac = actor->role != ROOM_PARTICIPANT;
	struct room_hand *h;
	switch (c->kind) {
	case ROOM_HAND_RAISE:
		if (c->arg > ROOM_HAND_NEW)
			return PL_EBADREQ;
		if ((h = hand_of(r, actor->id, NULL))) {
			if (h->type == c->arg)
				return 0;
			h->type = (uint8_t)c->arg; /* same raise, other group */
		} else {
			if (util_array_grow(&r->hands, &r->hands_cap, r->nhands, sizeof(*r->hands), 8))
				return PL_ENOMEM;
			r->hands[r->nhands++] = (struct room_hand){
				.member = actor->id, .type = (uint8_t)c->arg, .raised = seq,
				.raised_ts = ts, .pin = -1};
		}
		room__emit(fx, ROOM_EV_QUEUE, actor);
		return 0;
	case ROOM_HAND_LOWER: {
		uint64_t who = c->target ? c->target : actor->id;
		if (who != actor->id && !fac)
			return PL_EFORBIDDEN;
		if (room__hand_drop(r, who))
			room__emit(fx, ROOM_EV_QUEUE, NULL);
		return 0;
	}
	case ROOM_HAND_CLEAR:
		if (!fac)
			return PL_EFORBIDDEN;
		if (r->nhands) {
			r->nhands = 0;
			room__emit(fx, ROOM_EV_QUEUE, NULL);
		}
		return 0;
	case ROOM_HAND_MOVE:
		if (!fac)
			return PL_EFORBIDDEN;
		if (!(h = hand_of(r, c->target, NULL)))
			return PL_ENOTFOUND;
		h->pin = (int32_t)(c->arg > 100000 ? 100000 : c->arg);
		h->pinned = seq;
		room__emit(fx, ROOM_EV_QUEUE, NULL);
		return 0;
	case ROOM_POLICY:
		if (!fac)
			return PL_EFORBIDDEN;
		if (c->arg > ROOM_POLICY_LEAST_TIME)
			return PL_EBADREQ;
		r->policy = (uint8_t)c->arg;
		room__emit(fx, ROOM_EV_QUEUE, NULL);
		return 0;
	case ROOM_FLOOR_GIVE: {
		if (!fac)
			return PL_EFORBIDDEN;
		uint64_t to = c->target ? c->target : queue_head(r);
		const struct room_member *m = to ? room_member(r, to) : NULL;
		if (!m || !m->present)
			return PL_ENOTFOUND;
		pass_floor(r, seq, ts, to, fx); /* to the holder again: a new turn */
		return 0;
	}
	case ROOM_FLOOR_TAKE:
		if (!fac)
			return PL_EFORBIDDEN;
		if (r->floor.member)
			pass_floor(r, seq, ts, 0, fx);
		return 0;
	case ROOM_FLOOR_YIELD:
		if (r->floor.member != actor->id)
			return PL_EFORBIDDEN;
		pass_floor(r, seq, ts, 0, fx);
		return 0;
	case ROOM_TIMER:
		if (!fac)
			return PL_EFORBIDDEN;
		if (c->arg > TIMER_MAX_S || c->arg2 > ROOM_TIMER_NEXT)
			return PL_EBADREQ;
		r->timer_s = c->arg;
		r->timer_action = (uint8_t)c->arg2;
		if (r->floor.member) { /* the running turn follows the new setting */
			r->floor.deadline = c->arg ? r->floor.since + (int64_t)c->arg * 1000 : 0;
			r->floor.warned = r->floor.expired = false;
		}
		room__emit(fx, ROOM_EV_TIMER, NULL);
		return 0;
	default:
		return PL_EBADREQ;
	}
}

int64_t room__floor_deadline(const struct room *r, uint8_t *what)
{
	const struct room_floor *f = &r->floor;
	if (!f->member || !f->deadline || f->expired)
		return 0;
	if (!f->warned) {
		*what = ROOM_EXPIRE_WARN;
		return f->since + (f->deadline - f->since) * 8 / 10;
	}
	*what = ROOM_EXPIRE_TURN;
	return f->deadline;
}
