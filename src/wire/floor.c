/*
 * floor.c (wire) — the hand queue, the floor and the turn timer on the wire.
 *
 * The queue travels whole: every change sends the ordered list, so a client
 * never has to re-derive the order (the rule lives in room/floor.c only).
 * A floor event carries the figures of whoever gave up the floor and of who
 * took it, so speaking-time tables stay live without a second message.
 */
#include <stdlib.h>
#include <string.h>

#include "wire/wire_int.h"

static const char *const hand_types[] = {"clarify", "reply", "new"};
static const char *const policies[] = {"fifo", "fewest_turns", "least_time"};
static const char *const actions[] = {"notice", "next"};

int wire_enum(const char *const *names, size_t n, const struct wire_str *s)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(names[i]) == s->n && !memcmp(names[i], s->p, s->n))
			return (int)i;
	return -1;
}

int wire_hand_type(const struct wire_str *s)
{
	return wire_enum(hand_types, 3, s);
}

int wire_policy(const struct wire_str *s)
{
	return wire_enum(policies, 3, s);
}

int wire_timer_action(const struct wire_str *s)
{
	return wire_enum(actions, 2, s);
}

static void pack_queue(msgpack_packer *pk, const struct room *r)
{
	size_t small[64], *order = small;
	if (r->nhands > 64 && !(order = malloc(r->nhands * sizeof(*order)))) {
		msgpack_pack_array(pk, 0);
		return;
	}
	room_queue(r, order, r->nhands);
	msgpack_pack_array(pk, r->nhands);
	for (size_t i = 0; i < r->nhands; i++) {
		const struct room_hand *h = &r->hands[order[i]];
		msgpack_pack_map(pk, 4);
		pack_key(pk, "member");
		msgpack_pack_uint64(pk, h->member);
		pack_key(pk, "type");
		pack_str(pk, hand_types[h->type]);
		pack_key(pk, "raised");
		msgpack_pack_int64(pk, h->raised_ts);
		pack_key(pk, "moved");
		wire__pack_bool(pk, h->pin >= 0);
	}
	if (order != small)
		free(order);
}

static void pack_floor(msgpack_packer *pk, const struct room *r)
{
	const struct room_floor *f = &r->floor;
	msgpack_pack_map(pk, 6);
	pack_key(pk, "member");
	if (f->member)
		msgpack_pack_uint64(pk, f->member);
	else
		msgpack_pack_nil(pk);
	pack_key(pk, "turn");
	msgpack_pack_uint64(pk, f->turn);
	pack_key(pk, "since");
	msgpack_pack_int64(pk, f->since);
	pack_key(pk, "deadline");
	msgpack_pack_int64(pk, f->deadline);
	pack_key(pk, "warned");
	wire__pack_bool(pk, f->warned);
	pack_key(pk, "expired");
	wire__pack_bool(pk, f->expired);
}

static void pack_timer(msgpack_packer *pk, const struct room *r)
{
	msgpack_pack_map(pk, 2);
	pack_key(pk, "seconds");
	msgpack_pack_uint32(pk, r->timer_s);
	pack_key(pk, "action");
	pack_str(pk, actions[r->timer_action]);
}

static void pack_stats(msgpack_packer *pk, const struct room_member *m)
{
	msgpack_pack_map(pk, 3);
	pack_key(pk, "member");
	msgpack_pack_uint64(pk, m->id);
	pack_key(pk, "turns");
	msgpack_pack_uint32(pk, m->turns);
	pack_key(pk, "speak_ms");
	msgpack_pack_int64(pk, m->speak_ms);
}

void wire__pack_floor_snapshot(msgpack_packer *pk, const struct room *r)
{
	pack_key(pk, "policy");
	pack_str(pk, policies[r->policy]);
	pack_key(pk, "queue");
	pack_queue(pk, r);
	pack_key(pk, "floor");
	pack_floor(pk, r);
	pack_key(pk, "timer");
	pack_timer(pk, r);
}

bool wire__pack_floor_event(msgpack_packer *pk, const struct room *r, uint64_t seq, int64_t ts,
			    const struct room_ev *ev)
{
	switch (ev->kind) {
	case ROOM_EV_QUEUE:
		wire__pack_event_head(pk, "queue", seq, ts, 2);
		pack_key(pk, "policy");
		pack_str(pk, policies[r->policy]);
		pack_key(pk, "queue");
		pack_queue(pk, r);
		return true;
	case ROOM_EV_FLOOR: {
		const struct room_member *now = r->floor.member ? room_member(r, r->floor.member) : NULL;
		wire__pack_event_head(pk, "floor", seq, ts, 2);
		pack_key(pk, "floor");
		pack_floor(pk, r);
		pack_key(pk, "stats");
		bool same = ev->member == now; /* given again to the holder */
		msgpack_pack_array(pk, (size_t)(!!ev->member + (now && !same)));
		if (ev->member)
			pack_stats(pk, ev->member);
		if (now && !same)
			pack_stats(pk, now);
		return true;
	}
	case ROOM_EV_WARN:
	case ROOM_EV_TIMEUP:
		wire__pack_event_head(pk, ev->kind == ROOM_EV_WARN ? "warn" : "timeup", seq, ts, 3);
		pack_key(pk, "member");
		msgpack_pack_uint64(pk, ev->member ? ev->member->id : 0);
		pack_key(pk, "turn");
		msgpack_pack_uint64(pk, r->floor.turn);
		pack_key(pk, "deadline");
		msgpack_pack_int64(pk, r->floor.deadline);
		return true;
	case ROOM_EV_TIMER:
		wire__pack_event_head(pk, "timer", seq, ts, 2);
		pack_key(pk, "timer");
		pack_timer(pk, r);
		pack_key(pk, "floor");
		pack_floor(pk, r);
		return true;
	default:
		return false;
	}
}
