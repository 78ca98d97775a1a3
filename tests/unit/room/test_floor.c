/*
 * test_floor.c — room/floor.c: the hand queue, the floor and the turn timer
 * (PROTOCOL.md "Hands", "The floor"; issue 4 "Hand queue", "The floor").
 *
 * The policy tests build one hand-made scenario whose members have spoken
 * differently often and for different lengths of time, so that each policy
 * gives a different order and a tie shows the raise order at work. The timer
 * tests drive the clock through record times only, as the log does, and send
 * the `expire` records a hub would: duplicated, late, early and for turns
 * that are over, all of which must change nothing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "fixture.h"

/* ---- helpers ------------------------------------------------------------ */

static int raise_hand(struct fix *f, uint64_t m, uint32_t type)
{
	return cmd(f, ROOM_HAND_RAISE, m, 0, type, 0);
}

static int give(struct fix *f, uint64_t fac, uint64_t to)
{
	return cmd(f, ROOM_FLOOR_GIVE, fac, to, 0, 0);
}

/* The next record is taken at exactly ts. */
static void at(struct fix *f, int64_t ts)
{
	f->ts = ts - f->step;
}

/* The queue as member ids, in its one order; returns its length. */
static size_t queue_ids(const struct fix *f, uint64_t *out, size_t cap)
{
	size_t idx[64];
	size_t n = room_queue(&f->r, idx, 64);
	assert_true(n <= 64 && n <= cap);
	for (size_t i = 0; i < n; i++)
		out[i] = f->r.hands[idx[i]].member;
	return n;
}

#define assert_queue(f, ...)                                                               \
	do {                                                                               \
		const uint64_t want_[] = {__VA_ARGS__};                                    \
		uint64_t got_[64];                                                         \
		size_t n_ = queue_ids((f), got_, 64);                                      \
		size_t w_ = sizeof(want_) / sizeof(want_[0]);                              \
		char gs_[512] = "", ws_[512] = "";                                         \
		for (size_t i_ = 0; i_ < n_; i_++)                                         \
			snprintf(gs_ + strlen(gs_), sizeof(gs_) - strlen(gs_), " %llu",    \
				 (unsigned long long)got_[i_]);                            \
		for (size_t i_ = 0; i_ < w_; i_++)                                         \
			snprintf(ws_ + strlen(ws_), sizeof(ws_) - strlen(ws_), " %llu",    \
				 (unsigned long long)want_[i_]);                           \
		if (n_ != w_ || memcmp(got_, want_, n_ * sizeof(got_[0])))                 \
			fail_msg("queue is [%s ], want [%s ]", gs_, ws_);                  \
	} while (0)

static void assert_queue_empty(const struct fix *f)
{
	size_t idx[4];
	assert_int_equal(room_queue(&f->r, idx, 4), 0);
	assert_int_equal(f->r.nhands, 0);
}

static const struct room_hand *hand(const struct fix *f, uint64_t m)
{
	for (size_t i = 0; i < f->r.nhands; i++)
		if (f->r.hands[i].member == m)
			return &f->r.hands[i];
	return NULL;
}

/* A room with a facilitator; returns its id. */
static uint64_t room_with_fac(struct fix *f)
{
	create_room(f);
	return facilitator(f, "Fran");
}

/* Gives m the floor at `from` and takes it back `ms` later: one turn of ms. */
static void speak(struct fix *f, uint64_t fac, uint64_t m, int64_t from, int64_t ms)
{
	at(f, from);
	assert_err(give(f, fac, m), 0);
	at(f, from + ms);
	assert_err(cmd(f, ROOM_FLOOR_TAKE, fac, 0, 0, 0), 0);
}

/*
 * The scenario for the policies. Members, in raise order:
 *   ann: 1 turn, 10 s      bob: 2 turns, 3 s
 *   cy:  no turn           dee: 1 turn, 5 s
 * fifo: ann bob cy dee; fewest turns: cy ann dee bob (ann and dee tie on
 * one turn: ann raised first); least time: cy bob dee ann.
 */
struct cast {
	uint64_t fac, ann, bob, cy, dee;
};

static struct cast policy_scenario(struct fix *f, uint32_t ann_t, uint32_t bob_t, uint32_t cy_t,
				   uint32_t dee_t)
{
	struct cast c;
	c.fac = room_with_fac(f);
	c.ann = member(f, "Ann");
	c.bob = member(f, "Bob");
	c.cy = member(f, "Cy");
	c.dee = member(f, "Dee");
	int64_t t = f->ts + 1000;
	speak(f, c.fac, c.ann, t, 10000);
	speak(f, c.fac, c.bob, t + 20000, 1000);
	speak(f, c.fac, c.bob, t + 30000, 2000);
	speak(f, c.fac, c.dee, t + 40000, 5000);
	assert_int_equal(mem(f, c.ann)->turns, 1);
	assert_int_equal(mem(f, c.ann)->speak_ms, 10000);
	assert_int_equal(mem(f, c.bob)->turns, 2);
	assert_int_equal(mem(f, c.bob)->speak_ms, 3000);
	assert_int_equal(mem(f, c.cy)->turns, 0);
	assert_int_equal(mem(f, c.cy)->speak_ms, 0);
	assert_int_equal(mem(f, c.dee)->turns, 1);
	assert_int_equal(mem(f, c.dee)->speak_ms, 5000);
	assert_err(raise_hand(f, c.ann, ann_t), 0);
	assert_err(raise_hand(f, c.bob, bob_t), 0);
	assert_err(raise_hand(f, c.cy, cy_t), 0);
	assert_err(raise_hand(f, c.dee, dee_t), 0);
	return c;
}

/* ---- the queue's order -------------------------------------------------- */

static void test_queue_puts_clarify_before_reply_before_new(void **state)
{
	struct fix *f = *state;
	room_with_fac(f);
	uint64_t a = member(f, "A"), b = member(f, "B"), c = member(f, "C"), d = member(f, "D"),
		 e = member(f, "E");
	assert_err(raise_hand(f, a, ROOM_HAND_NEW), 0);
	assert_int_equal(count_ev(f, ROOM_EV_QUEUE), 1);
	assert_err(raise_hand(f, b, ROOM_HAND_REPLY), 0);
	assert_err(raise_hand(f, c, ROOM_HAND_CLARIFY), 0);
	assert_err(raise_hand(f, d, ROOM_HAND_NEW), 0);
	assert_err(raise_hand(f, e, ROOM_HAND_CLARIFY), 0);
	/* groups in type order, each in raise order (fifo) */
	assert_queue(f, c, e, b, a, d);
	assert_int_equal(hand(f, a)->type, ROOM_HAND_NEW);
	assert_int_equal(hand(f, c)->type, ROOM_HAND_CLARIFY);
	assert_int_equal(hand(f, a)->pin, -1);
}

static void test_raising_again_with_another_type_keeps_the_time_of_raising(void **state)
{
	struct fix *f = *state;
	room_with_fac(f);
	uint64_t a = member(f, "A"), b = member(f, "B"), c = member(f, "C");
	assert_err(raise_hand(f, a, ROOM_HAND_NEW), 0);
	uint64_t raised = f->seq;
	int64_t raised_ts = f->ts;
	assert_err(raise_hand(f, b, ROOM_HAND_NEW), 0);
	assert_err(raise_hand(f, c, ROOM_HAND_CLARIFY), 0);
	assert_queue(f, c, a, b);
	/* a's clarification joins the clarify group ahead of c: a raised first */
	assert_err(raise_hand(f, a, ROOM_HAND_CLARIFY), 0);
	assert_int_equal(count_ev(f, ROOM_EV_QUEUE), 1);
	assert_queue(f, a, c, b);
	assert_int_equal(hand(f, a)->raised, raised);
	assert_int_equal(hand(f, a)->raised_ts, raised_ts);
	assert_int_equal(f->r.nhands, 3);
	/* back to a new point: ahead of b again, behind the clarification */
	assert_err(raise_hand(f, a, ROOM_HAND_NEW), 0);
	assert_queue(f, c, a, b);
	/* the same type again changes nothing and says nothing */
	assert_err(raise_hand(f, a, ROOM_HAND_NEW), 0);
	assert_int_equal(f->fx.nev, 0);
	assert_int_equal(hand(f, a)->raised, raised);
	/* an unknown type */
	assert_err(raise_hand(f, b, 3), PL_EBADREQ);
	assert_err(raise_hand(f, b, 99), PL_EBADREQ);
	assert_int_equal(hand(f, b)->type, ROOM_HAND_NEW);
	assert_int_equal(f->fx.nev, 0);
}

static void test_fifo_ignores_turns_and_speaking_time(void **state)
{
	struct fix *f = *state;
	struct cast c = policy_scenario(f, ROOM_HAND_NEW, ROOM_HAND_NEW, ROOM_HAND_NEW,
					ROOM_HAND_NEW);
	assert_int_equal(f->r.policy, ROOM_POLICY_FIFO);
	assert_queue(f, c.ann, c.bob, c.cy, c.dee);
}

static void test_fewest_turns_first_with_ties_by_raise_order(void **state)
{
	struct fix *f = *state;
	struct cast c = policy_scenario(f, ROOM_HAND_NEW, ROOM_HAND_NEW, ROOM_HAND_NEW,
					ROOM_HAND_NEW);
	assert_err(cmd(f, ROOM_POLICY, c.fac, 0, ROOM_POLICY_FEWEST_TURNS, 0), 0);
	assert_int_equal(count_ev(f, ROOM_EV_QUEUE), 1);
	assert_int_equal(f->r.policy, ROOM_POLICY_FEWEST_TURNS);
	/* cy 0 turns; ann and dee 1 (ann raised first); bob 2 */
	assert_queue(f, c.cy, c.ann, c.dee, c.bob);
}

static void test_least_speaking_time_first(void **state)
{
	struct fix *f = *state;
	struct cast c = policy_scenario(f, ROOM_HAND_NEW, ROOM_HAND_NEW, ROOM_HAND_NEW,
					ROOM_HAND_NEW);
	assert_err(cmd(f, ROOM_POLICY, c.fac, 0, ROOM_POLICY_LEAST_TIME, 0), 0);
	assert_int_equal(count_ev(f, ROOM_EV_QUEUE), 1);
	/* cy 0 s, bob 3 s (in two turns), dee 5 s, ann 10 s */
	assert_queue(f, c.cy, c.bob, c.dee, c.ann);
}

static void test_least_time_ties_go_by_raise_order(void **state)
{
	struct fix *f = *state;
	uint64_t fac = room_with_fac(f);
	uint64_t a = member(f, "A"), b = member(f, "B"), c = member(f, "C");
	int64_t t = f->ts + 1000;
	speak(f, fac, c, t, 4000);
	speak(f, fac, b, t + 10000, 4000);
	speak(f, fac, a, t + 20000, 4000);
	assert_err(raise_hand(f, c, ROOM_HAND_NEW), 0);
	assert_err(raise_hand(f, a, ROOM_HAND_NEW), 0);
	assert_err(raise_hand(f, b, ROOM_HAND_NEW), 0);
	assert_err(cmd(f, ROOM_POLICY, fac, 0, ROOM_POLICY_LEAST_TIME, 0), 0);
	assert_queue(f, c, a, b);
	assert_err(cmd(f, ROOM_POLICY, fac, 0, ROOM_POLICY_FEWEST_TURNS, 0), 0);
	assert_queue(f, c, a, b);
}

static void test_each_type_group_is_ordered_by_the_policy(void **state)
{
	struct fix *f = *state;
	struct cast c = policy_scenario(f, ROOM_HAND_CLARIFY, ROOM_HAND_NEW, ROOM_HAND_CLARIFY,
					ROOM_HAND_NEW);
	assert_queue(f, c.ann, c.cy, c.bob, c.dee); /* fifo in each group */
	assert_err(cmd(f, ROOM_POLICY, c.fac, 0, ROOM_POLICY_FEWEST_TURNS, 0), 0);
	assert_queue(f, c.cy, c.ann, c.dee, c.bob);
	assert_err(cmd(f, ROOM_POLICY, c.fac, 0, ROOM_POLICY_LEAST_TIME, 0), 0);
	assert_queue(f, c.cy, c.ann, c.bob, c.dee);
	/* a reply goes between the groups, whoever it is */
	assert_err(raise_hand(f, c.bob, ROOM_HAND_REPLY), 0);
	assert_queue(f, c.cy, c.ann, c.bob, c.dee);
	assert_err(raise_hand(f, c.ann, ROOM_HAND_REPLY), 0);
	assert_queue(f, c.cy, c.bob, c.ann, c.dee);
}

static void test_the_running_turn_does_not_count_until_it_ends(void **state)
{
	struct fix *f = *state;
	uint64_t fac = room_with_fac(f);
	uint64_t a = member(f, "A"), b = member(f, "B");
	int64_t t = f->ts + 1000;
	speak(f, fac, b, t, 2000);
	at(f, t + 10000);
	assert_err(give(f, fac, a), 0); /* a has spoken 0 ms of closed turns */
	assert_err(cmd(f, ROOM_POLICY, fac, 0, ROOM_POLICY_LEAST_TIME, 0), 0);
	at(f, t + 60000);
	assert_err(raise_hand(f, b, ROOM_HAND_NEW), 0);
	assert_err(raise_hand(f, a, ROOM_HAND_NEW), 0); /* the speaker raises again */
	assert_queue(f, a, b);
	at(f, t + 61000);
	assert_err(cmd(f, ROOM_FLOOR_TAKE, fac, 0, 0, 0), 0); /* now a has 51 s */
	assert_int_equal(mem(f, a)->speak_ms, 51000);
	assert_queue(f, b, a);
}

static void test_policy_switch_is_live_and_checked(void **state)
{
	struct fix *f = *state;
	struct cast c = policy_scenario(f, ROOM_HAND_NEW, ROOM_HAND_NEW, ROOM_HAND_NEW,
					ROOM_HAND_NEW);
	assert_err(cmd(f, ROOM_POLICY, c.fac, 0, ROOM_POLICY_LEAST_TIME, 0), 0);
	assert_queue(f, c.cy, c.bob, c.dee, c.ann);
	assert_err(cmd(f, ROOM_POLICY, c.fac, 0, 3, 0), PL_EBADREQ);
	assert_int_equal(f->fx.nev, 0);
	assert_int_equal(f->r.policy, ROOM_POLICY_LEAST_TIME);
	assert_err(cmd(f, ROOM_POLICY, c.fac, 0, ROOM_POLICY_FIFO, 0), 0);
	assert_queue(f, c.ann, c.bob, c.cy, c.dee);
}

/* ---- moving hands -------------------------------------------------------- */

static void test_move_puts_a_hand_at_a_position_and_the_later_move_wins(void **state)
{
	struct fix *f = *state;
	uint64_t fac = room_with_fac(f);
	uint64_t a = member(f, "A"), b = member(f, "B"), c = member(f, "C"), d = member(f, "D");
	for (uint64_t m = a; m <= d; m++)
		assert_err(raise_hand(f, m, ROOM_HAND_NEW), 0);
	assert_queue(f, a, b, c, d);
	assert_err(cmd(f, ROOM_HAND_MOVE, fac, d, 0, 0), 0); /* to the front */
	assert_int_equal(count_ev(f, ROOM_EV_QUEUE), 1);
	assert_queue(f, d, a, b, c);
	assert_int_equal(hand(f, d)->pin, 0);
	assert_int_equal(hand(f, d)->pinned, f->seq);
	assert_err(cmd(f, ROOM_HAND_MOVE, fac, b, 0, 0), 0); /* the later move wins */
	assert_queue(f, b, d, a, c);
	assert_err(cmd(f, ROOM_HAND_MOVE, fac, d, 0, 0), 0); /* moved again: latest now */
	assert_queue(f, d, b, a, c);
	assert_err(cmd(f, ROOM_HAND_MOVE, fac, d, 2, 0), 0);
	assert_queue(f, b, a, d, c);
}

static void test_move_overrides_type_and_policy(void **state)
{
	struct fix *f = *state;
	struct cast c = policy_scenario(f, ROOM_HAND_CLARIFY, ROOM_HAND_REPLY, ROOM_HAND_NEW,
					ROOM_HAND_NEW);
	assert_queue(f, c.ann, c.bob, c.cy, c.dee);
	assert_err(cmd(f, ROOM_HAND_MOVE, c.fac, c.dee, 0, 0), 0);
	assert_queue(f, c.dee, c.ann, c.bob, c.cy);
	/* a policy switch reorders the others; the moved hand keeps its place */
	assert_err(cmd(f, ROOM_POLICY, c.fac, 0, ROOM_POLICY_LEAST_TIME, 0), 0);
	assert_queue(f, c.dee, c.ann, c.bob, c.cy);
	assert_err(raise_hand(f, c.cy, ROOM_HAND_CLARIFY), 0);
	assert_queue(f, c.dee, c.cy, c.ann, c.bob);
	assert_err(cmd(f, ROOM_HAND_MOVE, c.fac, c.bob, 1, 0), 0);
	assert_queue(f, c.dee, c.bob, c.cy, c.ann);
}

static void test_move_past_the_end_is_clamped_to_last(void **state)
{
	struct fix *f = *state;
	uint64_t fac = room_with_fac(f);
	uint64_t a = member(f, "A"), b = member(f, "B"), c = member(f, "C");
	for (uint64_t m = a; m <= c; m++)
		assert_err(raise_hand(f, m, ROOM_HAND_CLARIFY), 0);
	assert_err(cmd(f, ROOM_HAND_MOVE, fac, a, 50, 0), 0);
	assert_queue(f, b, c, a);
	/* the largest position a record can carry is still "last", not a
	 * negative (unmoved) pin */
	assert_err(cmd(f, ROOM_HAND_MOVE, fac, b, UINT32_MAX, 0), 0);
	assert_true(hand(f, b)->pin >= 0);
	assert_queue(f, c, a, b);
	/* a new hand goes ahead of moved ones that sit past the end */
	uint64_t d = member(f, "D");
	assert_err(raise_hand(f, d, ROOM_HAND_NEW), 0);
	assert_queue(f, c, d, a, b);
}

static void test_moved_hand_keeps_its_place_until_served_or_lowered(void **state)
{
	struct fix *f = *state;
	uint64_t fac = room_with_fac(f);
	uint64_t a = member(f, "A"), b = member(f, "B"), c = member(f, "C");
	for (uint64_t m = a; m <= c; m++)
		assert_err(raise_hand(f, m, ROOM_HAND_NEW), 0);
	assert_err(cmd(f, ROOM_HAND_MOVE, fac, c, 0, 0), 0);
	assert_err(cmd(f, ROOM_HAND_MOVE, fac, b, 2, 0), 0);
	assert_queue(f, c, a, b);
	/* served: the hand, and its move, are used up */
	assert_err(give(f, fac, 0), 0);
	assert_int_equal(f->r.floor.member, c);
	assert_queue(f, a, b);
	assert_err(raise_hand(f, c, ROOM_HAND_NEW), 0);
	assert_int_equal(hand(f, c)->pin, -1);
	assert_queue(f, a, c, b); /* b still sits where it was moved to */
	/* lowered: the same */
	assert_err(cmd(f, ROOM_HAND_LOWER, b, 0, 0, 0), 0);
	assert_queue(f, a, c);
	assert_err(raise_hand(f, b, ROOM_HAND_NEW), 0);
	assert_int_equal(hand(f, b)->pin, -1);
	assert_queue(f, a, c, b);
}

static void test_move_of_a_hand_that_is_not_raised_is_not_found(void **state)
{
	struct fix *f = *state;
	uint64_t fac = room_with_fac(f);
	uint64_t a = member(f, "A"), b = member(f, "B");
	assert_err(raise_hand(f, a, ROOM_HAND_NEW), 0);
	assert_err(cmd(f, ROOM_HAND_MOVE, fac, b, 0, 0), PL_ENOTFOUND);
	assert_err(cmd(f, ROOM_HAND_MOVE, fac, b + 1000, 0, 0), PL_ENOTFOUND);
	assert_err(cmd(f, ROOM_HAND_MOVE, fac, 0, 0, 0), PL_ENOTFOUND);
	assert_int_equal(f->fx.nev, 0);
	assert_int_equal(hand(f, a)->pin, -1);
}

/* ---- lowering ------------------------------------------------------------ */

static void test_lower_own_and_clear_all(void **state)
{
	struct fix *f = *state;
	uint64_t fac = room_with_fac(f);
	uint64_t a = member(f, "A"), b = member(f, "B"), c = member(f, "C");
	for (uint64_t m = a; m <= c; m++)
		assert_err(raise_hand(f, m, ROOM_HAND_NEW), 0);
	assert_err(cmd(f, ROOM_HAND_LOWER, b, 0, 0, 0), 0);
	assert_int_equal(count_ev(f, ROOM_EV_QUEUE), 1);
	assert_queue(f, a, c);
	assert_err(cmd(f, ROOM_HAND_LOWER, b, 0, 0, 0), 0); /* no hand: nothing */
	assert_int_equal(f->fx.nev, 0);
	assert_err(cmd(f, ROOM_HAND_LOWER, b, b, 0, 0), 0); /* naming oneself */
	assert_int_equal(f->fx.nev, 0);
	assert_err(cmd(f, ROOM_HAND_LOWER, fac, c, 0, 0), 0); /* a facilitator, anyone's */
	assert_queue(f, a);
	assert_err(cmd(f, ROOM_HAND_CLEAR, fac, 0, 0, 0), 0);
	assert_int_equal(count_ev(f, ROOM_EV_QUEUE), 1);
	assert_queue_empty(f);
	assert_err(cmd(f, ROOM_HAND_CLEAR, fac, 0, 0, 0), 0);
	assert_int_equal(f->fx.nev, 0);
}

/* ---- giving the floor ---------------------------------------------------- */

static void test_give_next_serves_the_head_and_uses_up_its_hand(void **state)
{
	struct fix *f = *state;
	uint64_t fac = room_with_fac(f);
	uint64_t a = member(f, "A"), b = member(f, "B"), c = member(f, "C");
	assert_err(raise_hand(f, a, ROOM_HAND_NEW), 0);
	assert_err(raise_hand(f, b, ROOM_HAND_CLARIFY), 0);
	assert_err(give(f, fac, 0), 0);
	assert_int_equal(f->r.floor.member, b);
	assert_int_equal(f->r.floor.turn, f->seq);
	assert_int_equal(f->r.floor.since, f->ts);
	assert_int_equal(f->r.floor.deadline, 0);
	assert_int_equal(mem(f, b)->turns, 1);
	assert_queue(f, a);
	assert_int_equal(count_ev(f, ROOM_EV_QUEUE), 1);
	assert_int_equal(count_ev(f, ROOM_EV_FLOOR), 1);
	assert_null(the_ev(f, ROOM_EV_FLOOR)->member); /* nobody had it */
	/* to someone without a hand: the queue stays as it is */
	assert_err(give(f, fac, c), 0);
	assert_int_equal(f->r.floor.member, c);
	assert_int_equal(count_ev(f, ROOM_EV_QUEUE), 0);
	assert_int_equal(the_ev(f, ROOM_EV_FLOOR)->member->id, b); /* who gave it up */
	assert_queue(f, a);
	assert_err(give(f, fac, 0), 0);
	assert_int_equal(f->r.floor.member, a);
	assert_queue_empty(f);
}

static void test_give_with_nobody_to_give_to_is_not_found(void **state)
{
	struct fix *f = *state;
	uint64_t fac = room_with_fac(f);
	uint64_t a = member(f, "A"), b = member(f, "B");
	assert_err(give(f, fac, a), 0);
	uint64_t turn = f->r.floor.turn;
	assert_err(give(f, fac, 0), PL_ENOTFOUND); /* empty queue */
	assert_err(give(f, fac, b + 1000), PL_ENOTFOUND);
	assert_err(leave(f, b, ROOM_LEFT), 0);
	assert_err(give(f, fac, b), PL_ENOTFOUND); /* not here any more */
	assert_int_equal(f->fx.nev, 0);
	assert_int_equal(f->r.floor.member, a);
	assert_int_equal(f->r.floor.turn, turn);
	assert_int_equal(mem(f, a)->turns, 1);
}

static void test_hand_is_not_used_up_before_its_owner_speaks(void **state)
{
	struct fix *f = *state;
	uint64_t fac = room_with_fac(f);
	uint64_t a = member(f, "A"), b = member(f, "B");
	assert_err(raise_hand(f, a, ROOM_HAND_NEW), 0);
	assert_err(give(f, fac, b), 0);
	assert_err(cmd(f, ROOM_FLOOR_TAKE, fac, 0, 0, 0), 0);
	assert_err(cmd(f, ROOM_POLICY, fac, 0, ROOM_POLICY_FEWEST_TURNS, 0), 0);
	assert_queue(f, a);
	assert_int_equal(mem(f, a)->turns, 0);
}

static void test_hand_survives_a_dropped_connection(void **state)
{
	struct fix *f = *state;
	uint64_t fac = room_with_fac(f);
	uint64_t a = member(f, "A"), b = member(f, "B");
	assert_err(raise_hand(f, a, ROOM_HAND_NEW), 0);
	assert_err(raise_hand(f, b, ROOM_HAND_NEW), 0);
	assert_err(cmd(f, ROOM_HAND_MOVE, fac, b, 0, 0), 0);
	assert_err(detach(f, a), 0);
	assert_int_equal(count_ev(f, ROOM_EV_AWAY), 1);
	assert_int_equal(count_ev(f, ROOM_EV_QUEUE), 0);
	assert_queue(f, b, a);
	assert_err(detach(f, b), 0);
	assert_queue(f, b, a);
	assert_int_equal(hand(f, b)->pin, 0);
	assert_err(attach(f, a), 0);
	assert_queue(f, b, a);
	/* an away member can be given the floor; their hand is used up */
	assert_err(give(f, fac, 0), 0);
	assert_int_equal(f->r.floor.member, b);
	assert_queue(f, a);
	/* only when the grace period runs out does the hand go */
	assert_err(detach(f, a), 0);
	assert_err(leave(f, a, ROOM_TIMEOUT), 0);
	assert_int_equal(count_ev(f, ROOM_EV_LEFT), 1);
	assert_int_equal(count_ev(f, ROOM_EV_QUEUE), 1);
	assert_queue_empty(f);
}

static void test_leaving_removes_the_hand_and_ends_the_turn(void **state)
{
	struct fix *f = *state;
	uint64_t fac = room_with_fac(f);
	uint64_t a = member(f, "A"), b = member(f, "B");
	at(f, T0 + 100000);
	assert_err(give(f, fac, a), 0);
	assert_err(raise_hand(f, a, ROOM_HAND_REPLY), 0); /* the speaker raises again */
	assert_err(raise_hand(f, b, ROOM_HAND_NEW), 0);
	at(f, T0 + 104000);
	assert_err(leave(f, a, ROOM_LEFT), 0);
	assert_int_equal(count_ev(f, ROOM_EV_LEFT), 1);
	assert_int_equal(count_ev(f, ROOM_EV_QUEUE), 1);
	assert_int_equal(count_ev(f, ROOM_EV_FLOOR), 1);
	assert_int_equal(the_ev(f, ROOM_EV_FLOOR)->member->id, a);
	assert_int_equal(f->r.floor.member, 0);
	assert_int_equal(f->r.floor.turn, 0);
	assert_int_equal(mem(f, a)->speak_ms, 4000);
	assert_int_equal(mem(f, a)->turns, 1);
	assert_queue(f, b);
	/* leaving with a hand but without the floor: only the queue changes */
	assert_err(leave(f, b, ROOM_LEFT), 0);
	assert_int_equal(count_ev(f, ROOM_EV_QUEUE), 1);
	assert_int_equal(count_ev(f, ROOM_EV_FLOOR), 0);
	assert_queue_empty(f);
}

/* ---- speaking time ------------------------------------------------------- */

static void test_speaking_time_is_credited_when_a_turn_ends(void **state)
{
	struct fix *f = *state;
	uint64_t fac = room_with_fac(f);
	uint64_t a = member(f, "A"), b = member(f, "B");
	int64_t t = T0 + 100000;
	at(f, t);
	assert_err(give(f, fac, a), 0);
	at(f, t + 7000);
	assert_err(give(f, fac, b), 0); /* ends a's turn */
	assert_int_equal(mem(f, a)->speak_ms, 7000);
	assert_int_equal(mem(f, b)->speak_ms, 0);
	assert_int_equal(f->r.floor.since, t + 7000);
	assert_err(cmd(f, ROOM_FLOOR_YIELD, a, 0, 0, 0), PL_EFORBIDDEN); /* not the holder */
	assert_int_equal(f->r.floor.member, b);
	at(f, t + 9500);
	assert_err(cmd(f, ROOM_FLOOR_YIELD, b, 0, 0, 0), 0);
	assert_int_equal(count_ev(f, ROOM_EV_FLOOR), 1);
	assert_int_equal(the_ev(f, ROOM_EV_FLOOR)->member->id, b);
	assert_int_equal(f->r.floor.member, 0);
	assert_int_equal(mem(f, b)->speak_ms, 2500);
	assert_err(cmd(f, ROOM_FLOOR_YIELD, b, 0, 0, 0), PL_EFORBIDDEN);
	assert_err(cmd(f, ROOM_FLOOR_TAKE, fac, 0, 0, 0), 0); /* nobody has it: nothing */
	assert_int_equal(f->fx.nev, 0);
	at(f, t + 20000);
	assert_err(give(f, fac, a), 0);
	at(f, t + 23000);
	assert_err(cmd(f, ROOM_FLOOR_TAKE, fac, 0, 0, 0), 0);
	assert_int_equal(mem(f, a)->speak_ms, 10000);
	assert_int_equal(mem(f, a)->turns, 2);
	assert_int_equal(mem(f, b)->turns, 1);
	/* giving the floor to its holder ends one turn and starts another */
	at(f, t + 30000);
	assert_err(give(f, fac, a), 0);
	at(f, t + 31000);
	assert_err(give(f, fac, a), 0);
	assert_int_equal(mem(f, a)->turns, 4);
	assert_int_equal(mem(f, a)->speak_ms, 11000);
	assert_int_equal(f->r.floor.turn, f->seq);
}

/* ---- the turn timer ------------------------------------------------------ */

/* A room with the timer set (seconds, action) and `a` given the floor at t. */
static void timed_turn(struct fix *f, uint64_t *fac, uint64_t *a, uint64_t *b, uint32_t secs,
		       uint32_t action, int64_t t)
{
	*fac = room_with_fac(f);
	*a = member(f, "A");
	*b = member(f, "B");
	assert_err(cmd(f, ROOM_TIMER, *fac, 0, secs, action), 0);
	assert_int_equal(count_ev(f, ROOM_EV_TIMER), 1);
	at(f, t);
	assert_err(give(f, *fac, *a), 0);
}

static void test_a_turn_gets_a_deadline_and_the_warning_comes_at_80_percent(void **state)
{
	struct fix *f = *state;
	uint64_t fac, a, b, target = 0;
	uint8_t what = 99;
	int64_t t = T0 + 100000;
	timed_turn(f, &fac, &a, &b, 60, ROOM_TIMER_NOTICE, t);
	uint64_t turn = f->r.floor.turn;
	assert_int_equal(f->r.timer_s, 60);
	assert_int_equal(f->r.floor.deadline, t + 60000);
	assert_false(f->r.floor.warned);
	assert_int_equal(room_next_deadline(&f->r, &what, &target), t + 48000);
	assert_int_equal(what, ROOM_EXPIRE_WARN);
	assert_int_equal(target, turn);
	/* early: nothing */
	assert_err(expire_at(f, turn, ROOM_EXPIRE_WARN, t + 47999), 0);
	assert_int_equal(f->fx.nev, 0);
	assert_false(f->r.floor.warned);
	/* due */
	assert_err(expire_at(f, turn, ROOM_EXPIRE_WARN, t + 48000), 0);
	assert_int_equal(f->fx.nev, 1);
	assert_int_equal(the_ev(f, ROOM_EV_WARN)->member->id, a);
	assert_true(f->r.floor.warned);
	/* the same record again (another instance, a retry): nothing */
	assert_err(expire_at(f, turn, ROOM_EXPIRE_WARN, t + 48005), 0);
	assert_int_equal(f->fx.nev, 0);
	assert_int_equal(room_next_deadline(&f->r, &what, &target), t + 60000);
	assert_int_equal(what, ROOM_EXPIRE_TURN);
	assert_int_equal(target, turn);
}

static void test_turn_expiry_in_notice_mode_keeps_the_speaker_once(void **state)
{
	struct fix *f = *state;
	uint64_t fac, a, b, target;
	uint8_t what;
	int64_t t = T0 + 100000;
	timed_turn(f, &fac, &a, &b, 60, ROOM_TIMER_NOTICE, t);
	uint64_t turn = f->r.floor.turn;
	assert_err(raise_hand(f, b, ROOM_HAND_NEW), 0);
	assert_err(expire_at(f, turn, ROOM_EXPIRE_WARN, t + 48000), 0);
	assert_err(expire_at(f, turn, ROOM_EXPIRE_TURN, t + 59999), 0); /* early */
	assert_int_equal(f->fx.nev, 0);
	assert_false(f->r.floor.expired);
	assert_err(expire_at(f, turn, ROOM_EXPIRE_TURN, t + 60000), 0);
	assert_int_equal(f->fx.nev, 1);
	assert_int_equal(the_ev(f, ROOM_EV_TIMEUP)->member->id, a);
	assert_true(f->r.floor.expired);
	assert_int_equal(f->r.floor.member, a); /* a keeps the floor */
	assert_int_equal(f->r.floor.turn, turn);
	assert_queue(f, b);
	assert_int_equal(mem(f, a)->speak_ms, 0); /* the turn is still running */
	assert_int_equal(room_next_deadline(&f->r, &what, &target), 0);
	/* duplicates and a late warning: nothing */
	assert_err(expire_at(f, turn, ROOM_EXPIRE_TURN, t + 60001), 0);
	assert_int_equal(f->fx.nev, 0);
	assert_err(expire_at(f, turn, ROOM_EXPIRE_WARN, t + 60002), 0);
	assert_int_equal(f->fx.nev, 0);
	assert_int_equal(f->r.floor.member, a);
}

static void test_turn_expiry_in_next_mode_passes_the_floor_once(void **state)
{
	struct fix *f = *state;
	uint64_t fac, a, b, target;
	uint8_t what;
	int64_t t = T0 + 100000;
	timed_turn(f, &fac, &a, &b, 30, ROOM_TIMER_NEXT, t);
	uint64_t turn = f->r.floor.turn;
	assert_err(raise_hand(f, b, ROOM_HAND_NEW), 0);
	/* the warning record was lost: the end still comes */
	assert_err(expire_at(f, turn, ROOM_EXPIRE_TURN, t + 30000), 0);
	assert_int_equal(count_ev(f, ROOM_EV_FLOOR), 1);
	assert_int_equal(count_ev(f, ROOM_EV_QUEUE), 1);
	assert_int_equal(count_ev(f, ROOM_EV_TIMEUP), 0);
	assert_int_equal(the_ev(f, ROOM_EV_FLOOR)->member->id, a);
	assert_int_equal(f->r.floor.member, b);
	assert_int_equal(f->r.floor.turn, f->seq); /* the expire record's seq */
	assert_int_equal(f->r.floor.since, t + 30000);
	assert_int_equal(f->r.floor.deadline, t + 60000); /* b's own turn */
	assert_false(f->r.floor.warned);
	assert_int_equal(mem(f, a)->speak_ms, 30000);
	assert_int_equal(mem(f, b)->turns, 1);
	assert_queue_empty(f);
	uint64_t turn2 = f->r.floor.turn;
	/* the same record again names a turn that is over: nothing */
	assert_err(expire_at(f, turn, ROOM_EXPIRE_TURN, t + 30001), 0);
	assert_int_equal(f->fx.nev, 0);
	assert_err(expire_at(f, turn, ROOM_EXPIRE_WARN, t + 30002), 0);
	assert_int_equal(f->fx.nev, 0);
	assert_int_equal(f->r.floor.member, b);
	assert_int_equal(f->r.floor.turn, turn2);
	assert_int_equal(room_next_deadline(&f->r, &what, &target), t + 30000 + 24000);
	assert_int_equal(target, turn2);
	/* b's turn runs out with nobody waiting: nobody holds the floor */
	assert_err(expire_at(f, turn2, ROOM_EXPIRE_TURN, t + 60000), 0);
	assert_int_equal(count_ev(f, ROOM_EV_FLOOR), 1);
	assert_int_equal(f->r.floor.member, 0);
	assert_int_equal(mem(f, b)->speak_ms, 30000);
	assert_int_equal(room_next_deadline(&f->r, &what, &target), 0);
}

static void test_expire_records_for_other_turns_or_without_a_timer_are_ignored(void **state)
{
	struct fix *f = *state;
	uint64_t fac = room_with_fac(f);
	uint64_t a = member(f, "A"), b = member(f, "B");
	int64_t t = T0 + 100000;
	/* no timer */
	at(f, t);
	assert_err(give(f, fac, a), 0);
	uint64_t turn = f->r.floor.turn;
	assert_err(expire_at(f, turn, ROOM_EXPIRE_TURN, t + 10000000), 0);
	assert_int_equal(f->fx.nev, 0);
	assert_false(f->r.floor.expired);
	/* a timer, but the record names another turn */
	assert_err(cmd(f, ROOM_TIMER, fac, 0, 10, ROOM_TIMER_NEXT), 0);
	at(f, t + 20000000);
	assert_err(give(f, fac, b), 0);
	uint64_t turn_b = f->r.floor.turn;
	int64_t since = f->ts;
	assert_err(expire_at(f, turn, ROOM_EXPIRE_TURN, since + 10000), 0);
	assert_err(expire_at(f, turn, ROOM_EXPIRE_WARN, since + 10001), 0);
	assert_err(expire_at(f, 0, ROOM_EXPIRE_TURN, since + 10002), 0);
	assert_err(expire_at(f, turn_b + 1000, ROOM_EXPIRE_TURN, since + 10003), 0);
	assert_int_equal(f->fx.nev, 0);
	assert_int_equal(f->r.floor.member, b);
	assert_int_equal(f->r.floor.turn, turn_b);
	assert_false(f->r.floor.warned);
	/* nobody on the floor */
	assert_err(cmd(f, ROOM_FLOOR_TAKE, fac, 0, 0, 0), 0);
	assert_err(expire_at(f, turn_b, ROOM_EXPIRE_TURN, f->ts + 20000), 0);
	assert_int_equal(f->fx.nev, 0);
	assert_int_equal(f->r.floor.member, 0);
}

static void test_a_new_timer_applies_to_the_running_turn_from_its_start(void **state)
{
	struct fix *f = *state;
	uint64_t fac = room_with_fac(f);
	uint64_t a = member(f, "A"), b = member(f, "B");
	uint64_t target;
	uint8_t what;
	int64_t t = T0 + 100000;
	at(f, t);
	assert_err(give(f, fac, a), 0);
	uint64_t turn = f->r.floor.turn;
	assert_int_equal(f->r.floor.deadline, 0);
	assert_int_equal(room_next_deadline(&f->r, &what, &target), 0);
	/* set at 30 s into the turn: 120 s from its start */
	at(f, t + 30000);
	assert_err(cmd(f, ROOM_TIMER, fac, 0, 120, ROOM_TIMER_NOTICE), 0);
	assert_int_equal(count_ev(f, ROOM_EV_TIMER), 1);
	assert_int_equal(f->r.floor.deadline, t + 120000);
	assert_int_equal(room_next_deadline(&f->r, &what, &target), t + 96000);
	assert_int_equal(target, turn);
	assert_err(expire_at(f, turn, ROOM_EXPIRE_WARN, t + 96000), 0);
	assert_err(expire_at(f, turn, ROOM_EXPIRE_TURN, t + 120000), 0);
	assert_true(f->r.floor.expired);
	/* a new setting starts over: shorter, and already past, for this turn */
	at(f, t + 130000);
	assert_err(cmd(f, ROOM_TIMER, fac, 0, 20, ROOM_TIMER_NEXT), 0);
	assert_int_equal(f->r.floor.deadline, t + 20000);
	assert_false(f->r.floor.warned);
	assert_false(f->r.floor.expired);
	assert_int_equal(f->r.floor.turn, turn);
	assert_int_equal(room_next_deadline(&f->r, &what, &target), t + 16000);
	assert_err(raise_hand(f, b, ROOM_HAND_NEW), 0);
	assert_err(expire_at(f, turn, ROOM_EXPIRE_TURN, t + 131500), 0);
	assert_int_equal(f->r.floor.member, b); /* next mode now */
	assert_int_equal(mem(f, a)->speak_ms, 131500);
	/* off: the running turn has no deadline any more */
	turn = f->r.floor.turn;
	assert_int_equal(f->r.floor.deadline, t + 131500 + 20000);
	assert_err(cmd(f, ROOM_TIMER, fac, 0, 0, ROOM_TIMER_NOTICE), 0);
	assert_int_equal(f->r.timer_s, 0);
	assert_int_equal(f->r.floor.deadline, 0);
	assert_int_equal(room_next_deadline(&f->r, &what, &target), 0);
	assert_err(expire_at(f, turn, ROOM_EXPIRE_TURN, t + 1000000), 0);
	assert_int_equal(f->fx.nev, 0);
	assert_int_equal(f->r.floor.member, b);
}

static void test_timer_setting_is_checked(void **state)
{
	struct fix *f = *state;
	uint64_t fac = room_with_fac(f);
	assert_err(cmd(f, ROOM_TIMER, fac, 0, 3600, ROOM_TIMER_NEXT), 0);
	assert_err(cmd(f, ROOM_TIMER, fac, 0, 3601, ROOM_TIMER_NOTICE), PL_EBADREQ);
	assert_err(cmd(f, ROOM_TIMER, fac, 0, 60, 2), PL_EBADREQ);
	assert_int_equal(f->fx.nev, 0);
	assert_int_equal(f->r.timer_s, 3600);
	assert_int_equal(f->r.timer_action, ROOM_TIMER_NEXT);
}

static void test_next_deadline_is_the_earlier_of_turn_and_prompt(void **state)
{
	struct fix *f = *state;
	uint64_t fac = room_with_fac(f);
	uint64_t a = member(f, "A");
	uint64_t target;
	uint8_t what;
	int64_t t = T0 + 100000;
	struct room_cmd p = {.kind = ROOM_PROMPT_OPEN, .member = fac, .pkind = ROOM_PROMPT_TEXT,
			     .text = view(f, "Why?", 4), .text_len = 4, .arg = 40};
	assert_err(apply_at(f, &p, t), 0);
	uint64_t prompt = f->seq;
	assert_err(cmd(f, ROOM_TIMER, fac, 0, 60, ROOM_TIMER_NOTICE), 0);
	at(f, t + 1000);
	assert_err(give(f, fac, a), 0); /* warning at t + 49 s, end at t + 61 s */
	uint64_t turn = f->r.floor.turn;
	assert_int_equal(room_next_deadline(&f->r, &what, &target), t + 40000);
	assert_int_equal(what, ROOM_EXPIRE_PROMPT);
	assert_int_equal(target, prompt);
	assert_err(expire_at(f, prompt, ROOM_EXPIRE_PROMPT, t + 40000), 0);
	assert_int_equal(room_next_deadline(&f->r, &what, &target), t + 49000);
	assert_int_equal(what, ROOM_EXPIRE_WARN);
	assert_int_equal(target, turn);
}

#define T(name) cmocka_unit_test_setup_teardown(name, fix_setup, fix_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_queue_puts_clarify_before_reply_before_new),
		T(test_raising_again_with_another_type_keeps_the_time_of_raising),
		T(test_fifo_ignores_turns_and_speaking_time),
		T(test_fewest_turns_first_with_ties_by_raise_order),
		T(test_least_speaking_time_first),
		T(test_least_time_ties_go_by_raise_order),
		T(test_each_type_group_is_ordered_by_the_policy),
		T(test_the_running_turn_does_not_count_until_it_ends),
		T(test_policy_switch_is_live_and_checked),
		T(test_move_puts_a_hand_at_a_position_and_the_later_move_wins),
		T(test_move_overrides_type_and_policy),
		T(test_move_past_the_end_is_clamped_to_last),
		T(test_moved_hand_keeps_its_place_until_served_or_lowered),
		T(test_move_of_a_hand_that_is_not_raised_is_not_found),
		T(test_lower_own_and_clear_all),
		T(test_give_next_serves_the_head_and_uses_up_its_hand),
		T(test_give_with_nobody_to_give_to_is_not_found),
		T(test_hand_is_not_used_up_before_its_owner_speaks),
		T(test_hand_survives_a_dropped_connection),
		T(test_leaving_removes_the_hand_and_ends_the_turn),
		T(test_speaking_time_is_credited_when_a_turn_ends),
		T(test_a_turn_gets_a_deadline_and_the_warning_comes_at_80_percent),
		T(test_turn_expiry_in_notice_mode_keeps_the_speaker_once),
		T(test_turn_expiry_in_next_mode_passes_the_floor_once),
		T(test_expire_records_for_other_turns_or_without_a_timer_are_ignored),
		T(test_a_new_timer_applies_to_the_running_turn_from_its_start),
		T(test_timer_setting_is_checked),
		T(test_next_deadline_is_the_earlier_of_turn_and_prompt),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
