/*
 * test_agenda.c — room/agenda.c: the session's plan of timed segments
 * (PROTOCOL.md "Agenda", issue 4 "Agenda").
 *
 * A facilitator sets segments with planned minutes, runs them, goes back and
 * finishes; each segment keeps its planned minutes beside its actual start
 * and end, taken from record times. An edit of a running agenda keeps the
 * progress of the segments that remain. After every step the agenda must be
 * consistent: the running segment (if any) has started and not ended, and
 * `since` is the time it (re)started.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "fixture.h"

/* Sets the agenda from "title", minutes pairs ending with NULL. */
static int set_agenda(struct fix *f, uint64_t who, ...)
{
	struct room_cmd c = {.kind = ROOM_AGENDA_SET, .origin = 4, .member = who};
	va_list ap;
	va_start(ap, who);
	const char *t;
	while ((t = va_arg(ap, const char *))) {
		c.opts[c.nopts] = tview(f, t);
		c.nums[c.nopts++] = va_arg(ap, uint32_t);
	}
	va_end(ap);
	return apply(f, &c);
}

static int go(struct fix *f, uint64_t who, uint32_t seg)
{
	return cmd(f, ROOM_AGENDA_GO, who, 0, seg, 0);
}

static void assert_agenda_consistent(const struct room_agenda *a)
{
	assert_true(a->n <= ROOM_AGENDA_MAX);
	assert_true(a->current >= -1 && a->current <= a->n);
	for (unsigned i = 0; i < a->n; i++) {
		assert_non_null(a->seg[i].title);
		assert_true(a->seg[i].minutes >= 1 && a->seg[i].minutes <= 600);
		if (a->seg[i].ended)
			assert_true(a->seg[i].started && a->seg[i].started <= a->seg[i].ended);
	}
	assert_true(a->n ? a->seg != NULL : a->seg == NULL);
	if (a->current >= 0 && a->current < a->n) {
		const struct room_segment *s = &a->seg[a->current];
		if (!s->started || s->ended || !a->since || a->since < s->started)
			fail_msg("segment %d runs but started %lld, ended %lld, since %lld",
				 a->current, (long long)s->started, (long long)s->ended,
				 (long long)a->since);
	} else {
		assert_int_equal(a->since, 0);
	}
}

static uint64_t room_with_fac(struct fix *f)
{
	create_room(f);
	return facilitator(f, "Fran");
}

static void test_set_keeps_titles_and_planned_minutes(void **state)
{
	struct fix *f = *state;
	uint64_t fac = room_with_fac(f);
	assert_err(set_agenda(f, fac, " intro ", 5, "talk", 20, "discussion", 20, "wrap-up", 5,
			      NULL),
		   0);
	assert_int_equal(f->fx.nev, 1);
	assert_int_equal(f->fx.ev[0].kind, ROOM_EV_AGENDA);
	const struct room_agenda *a = &f->r.agenda;
	assert_int_equal(a->n, 4);
	assert_int_equal(a->current, -1);
	assert_int_equal(a->since, 0);
	assert_string_equal(a->seg[0].title, "intro");
	assert_int_equal(a->seg[0].minutes, 5);
	assert_string_equal(a->seg[2].title, "discussion");
	assert_int_equal(a->seg[2].minutes, 20);
	for (unsigned i = 0; i < 4; i++)
		assert_true(!a->seg[i].started && !a->seg[i].ended);
	assert_agenda_consistent(a);
}

static void test_set_refuses_bad_plans_and_keeps_the_old_one(void **state)
{
	struct fix *f = *state;
	uint64_t fac = room_with_fac(f);
	uint64_t pat = member(f, "Pat");
	assert_err(set_agenda(f, fac, "intro", 5, "talk", 20, NULL), 0);
	assert_err(go(f, fac, 0), 0);
	int64_t started = f->ts;
	char t61[62];
	memset(t61, 't', 61), t61[61] = '\0';
	assert_err(set_agenda(f, fac, "a", 0, NULL), PL_EBADREQ);
	assert_err(set_agenda(f, fac, "a", 601, NULL), PL_EBADREQ);
	assert_err(set_agenda(f, fac, "a", 5, "   ", 5, NULL), PL_EBADREQ);
	assert_err(set_agenda(f, fac, "a\x01", 5, NULL), PL_EBADREQ);
	assert_err(set_agenda(f, fac, "a\nb", 5, NULL), PL_EBADREQ);
	assert_err(set_agenda(f, fac, "a\xff", 5, NULL), PL_EUTF8);
	assert_err(set_agenda(f, fac, t61, 5, NULL), PL_ETOOLONG);
	assert_err(set_agenda(f, pat, "a", 5, NULL), PL_EFORBIDDEN);
	struct room_cmd eleven = {.kind = ROOM_AGENDA_SET, .member = fac, .nopts = 11};
	assert_err(apply(f, &eleven), PL_ETOOLONG);
	assert_int_equal(f->fx.nev, 0);
	const struct room_agenda *a = &f->r.agenda;
	assert_int_equal(a->n, 2);
	assert_string_equal(a->seg[1].title, "talk");
	assert_int_equal(a->current, 0);
	assert_int_equal(a->seg[0].started, started);
	/* the limits themselves are fine: 10 segments, 60 characters, 1 and 600 */
	t61[60] = '\0';
	assert_err(set_agenda(f, fac, t61, 1, "b", 600, "c", 1, "d", 1, "e", 1, "f", 1, "g", 1,
			      "h", 1, "i", 1, "j", 1, NULL),
		   0);
	assert_int_equal(a->n, 10);
	assert_agenda_consistent(a);
}

static void test_go_back_and_finish_stamp_actual_times(void **state)
{
	struct fix *f = *state;
	uint64_t fac = room_with_fac(f);
	const struct room_agenda *a = &f->r.agenda;
	assert_err(set_agenda(f, fac, "intro", 5, "talk", 20, "wrap-up", 5, NULL), 0);
	f->ts = T0 + 1000000;
	assert_err(go(f, fac, 0), 0);
	int64_t t0 = f->ts;
	assert_int_equal(count_ev(f, ROOM_EV_AGENDA), 1);
	assert_int_equal(a->current, 0);
	assert_int_equal(a->seg[0].started, t0);
	assert_int_equal(a->seg[0].ended, 0);
	assert_int_equal(a->since, t0);
	assert_agenda_consistent(a);
	/* seven minutes in: the next segment (intro ran 2 over its 5) */
	f->ts = t0 + 7 * 60000 - f->step;
	assert_err(go(f, fac, 1), 0);
	int64_t t1 = f->ts;
	assert_int_equal(a->seg[0].ended, t1);
	assert_int_equal(a->seg[0].minutes, 5); /* planned stays beside actual */
	assert_int_equal(a->seg[1].started, t1);
	assert_int_equal(a->since, t1);
	assert_agenda_consistent(a);
	/* back to the intro: its first start is kept, its end cleared */
	f->ts = t1 + 60000 - f->step;
	assert_err(go(f, fac, 0), 0);
	int64_t t2 = f->ts;
	assert_int_equal(a->current, 0);
	assert_int_equal(a->seg[0].started, t0);
	assert_int_equal(a->seg[0].ended, 0);
	assert_int_equal(a->seg[1].started, t1);
	assert_int_equal(a->seg[1].ended, t2);
	assert_int_equal(a->since, t2);
	assert_agenda_consistent(a);
	/* forward again, skipping the talk */
	assert_err(go(f, fac, 2), 0);
	int64_t t3 = f->ts;
	assert_int_equal(a->seg[0].ended, t3);
	assert_int_equal(a->seg[1].started, t1); /* the talk keeps what it had */
	assert_int_equal(a->seg[1].ended, t2);
	assert_int_equal(a->seg[2].started, t3);
	assert_agenda_consistent(a);
	/* finish: current = n, the last segment ends */
	assert_err(go(f, fac, 3), 0);
	int64_t t4 = f->ts;
	assert_int_equal(count_ev(f, ROOM_EV_AGENDA), 1);
	assert_int_equal(a->current, 3);
	assert_int_equal(a->seg[2].ended, t4);
	assert_int_equal(a->since, 0);
	assert_agenda_consistent(a);
	/* past the end, or a participant: refused */
	assert_err(go(f, fac, 4), PL_EBADREQ);
	assert_err(go(f, member(f, "Pat"), 1), PL_EFORBIDDEN);
	assert_int_equal(a->current, 3);
	/* a finished agenda can be re-opened */
	assert_err(go(f, fac, 2), 0);
	assert_int_equal(a->seg[2].started, t3);
	assert_int_equal(a->seg[2].ended, 0);
	assert_agenda_consistent(a);
}

static void test_go_without_an_agenda_is_a_bad_request(void **state)
{
	struct fix *f = *state;
	uint64_t fac = room_with_fac(f);
	assert_err(go(f, fac, 0), PL_EBADREQ);
	assert_int_equal(f->r.agenda.current, -1);
	assert_int_equal(f->fx.nev, 0);
}

static void test_going_to_the_running_segment_changes_nothing(void **state)
{
	struct fix *f = *state;
	uint64_t fac = room_with_fac(f);
	assert_err(set_agenda(f, fac, "intro", 5, "talk", 20, NULL), 0);
	assert_err(go(f, fac, 1), 0);
	int64_t t = f->ts;
	assert_err(go(f, fac, 1), 0);
	assert_int_equal(f->r.agenda.since, t);
	assert_int_equal(f->r.agenda.seg[1].started, t);
	assert_int_equal(f->r.agenda.seg[0].started, 0); /* never ran */
	assert_agenda_consistent(&f->r.agenda);
}

static void test_edit_keeps_the_progress_of_the_segments_that_remain(void **state)
{
	struct fix *f = *state;
	uint64_t fac = room_with_fac(f);
	const struct room_agenda *a = &f->r.agenda;
	assert_err(set_agenda(f, fac, "intro", 5, "talk", 20, "discussion", 20, "wrap-up", 5,
			      NULL),
		   0);
	assert_err(go(f, fac, 0), 0);
	int64_t t0 = f->ts;
	assert_err(go(f, fac, 1), 0);
	int64_t t1 = f->ts;
	/* the talk runs long: shorten the discussion, drop the wrap-up */
	assert_err(set_agenda(f, fac, "intro", 5, "talk", 30, "short discussion", 10, NULL), 0);
	assert_int_equal(count_ev(f, ROOM_EV_AGENDA), 1);
	assert_int_equal(a->n, 3);
	assert_int_equal(a->current, 1);
	assert_int_equal(a->since, t1);
	assert_int_equal(a->seg[0].started, t0);
	assert_int_equal(a->seg[0].ended, t1);
	assert_int_equal(a->seg[1].started, t1);
	assert_int_equal(a->seg[1].ended, 0);
	assert_int_equal(a->seg[1].minutes, 30);
	assert_string_equal(a->seg[2].title, "short discussion");
	assert_int_equal(a->seg[2].started, 0);
	assert_agenda_consistent(a);
	/* adding segments keeps the rest as it is */
	assert_err(set_agenda(f, fac, "intro", 5, "talk", 30, "discussion", 10, "q&a", 10,
			      "wrap-up", 5, NULL),
		   0);
	assert_int_equal(a->n, 5);
	assert_int_equal(a->current, 1);
	assert_int_equal(a->since, t1);
	assert_agenda_consistent(a);
	/* an edit before the start keeps it not started */
	assert_err(set_agenda(f, fac, "x", 1, NULL), 0); /* cut below the running one */
	assert_agenda_consistent(a);
	assert_true(a->current == a->n || a->current == 0);
}

static void test_edit_of_a_not_started_agenda_keeps_it_not_started(void **state)
{
	struct fix *f = *state;
	uint64_t fac = room_with_fac(f);
	assert_err(set_agenda(f, fac, "intro", 5, NULL), 0);
	assert_err(set_agenda(f, fac, "intro", 5, "talk", 20, NULL), 0);
	assert_int_equal(f->r.agenda.current, -1);
	assert_int_equal(f->r.agenda.since, 0);
	assert_agenda_consistent(&f->r.agenda);
	/* and an empty plan clears it */
	assert_err(set_agenda(f, fac, NULL), 0);
	assert_int_equal(f->r.agenda.n, 0);
	assert_int_equal(f->r.agenda.current, -1);
	assert_err(go(f, fac, 0), PL_EBADREQ);
}

/* A finished agenda that gets more segments: whatever it becomes (still
 * finished, or running the first new segment), it must be consistent. */
static void test_edit_of_a_finished_agenda_stays_consistent(void **state)
{
	struct fix *f = *state;
	uint64_t fac = room_with_fac(f);
	const struct room_agenda *a = &f->r.agenda;
	assert_err(set_agenda(f, fac, "intro", 5, "talk", 20, NULL), 0);
	assert_err(go(f, fac, 0), 0);
	assert_err(go(f, fac, 2), 0); /* finished */
	assert_int_equal(a->current, 2);
	assert_err(set_agenda(f, fac, "intro", 5, "talk", 20, "encore", 10, NULL), 0);
	assert_agenda_consistent(a);
	assert_int_equal(a->seg[1].started, 0); /* the talk never ran */
}

#define T(name) cmocka_unit_test_setup_teardown(name, fix_setup, fix_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_set_keeps_titles_and_planned_minutes),
		T(test_set_refuses_bad_plans_and_keeps_the_old_one),
		T(test_go_back_and_finish_stamp_actual_times),
		T(test_go_without_an_agenda_is_a_bad_request),
		T(test_going_to_the_running_segment_changes_nothing),
		T(test_edit_keeps_the_progress_of_the_segments_that_remain),
		T(test_edit_of_a_not_started_agenda_keeps_it_not_started),
		T(test_edit_of_a_finished_agenda_stays_consistent),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
