/*
 * test_prompts.c — room/prompts.c: feedback prompts, their answers, tallies,
 * deadlines and who may see the results (PROTOCOL.md "Feedback prompts",
 * "Results"; issue 4 "Feedback prompts").
 *
 * Each kind is opened with good and bad definitions, answered, re-answered
 * (the tally must follow the change of mind), and closed by hand or by an
 * `expire` record that applies only once its time has come. Anonymous
 * prompts take answers by token only. The results frames are decoded to
 * check what each audience gets.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "fixture.h"
#include "mp.h"

/* ---- helpers ------------------------------------------------------------ */

/* A prompt record by `who`: question q, options (or labels) from a NULL-
 * terminated list; nopts counts them unless `scale` is given (rating). */
static struct room_cmd prompt_cmd(struct fix *f, uint64_t who, uint8_t kind, const char *q,
				  const char *const *opts)
{
	struct room_cmd c = {.kind = ROOM_PROMPT_OPEN, .origin = 8, .member = who, .pkind = kind,
			     .reveal = ROOM_REVEAL_LIVE, .text = view(f, q, strlen(q)),
			     .text_len = strlen(q)};
	for (unsigned i = 0; opts && opts[i]; i++) {
		c.opts[i] = tview(f, opts[i]);
		c.nopts = (uint8_t)(i + 1);
	}
	return c;
}

static const char *const ABC[] = {"apples", "bread", "cheese", NULL};

/* Opens a prompt; returns its id. */
static uint64_t open_ok(struct fix *f, struct room_cmd c)
{
	assert_err(apply(f, &c), 0);
	return f->seq;
}

static int answer(struct fix *f, uint64_t m, uint64_t prompt, uint32_t arg)
{
	struct room_cmd c = {.kind = ROOM_ANSWER, .origin = 3, .member = m, .target = prompt,
			     .arg = arg};
	return apply(f, &c);
}

static int answer_text(struct fix *f, uint64_t m, uint64_t prompt, const char *text, size_t n)
{
	struct room_cmd c = {.kind = ROOM_ANSWER, .origin = 3, .member = m, .target = prompt,
			     .text = view(f, text, n), .text_len = n};
	return apply(f, &c);
}

static void token_of(uint8_t tk[16], uint8_t who)
{
	for (int i = 0; i < 16; i++)
		tk[i] = (uint8_t)(who * 31 + i * 7 + 1);
}

/* An answer as the hub makes one for an anonymous prompt: no member. */
static int answer_anon(struct fix *f, uint8_t who, uint64_t prompt, uint32_t arg,
		       const char *text)
{
	struct room_cmd c = {.kind = ROOM_ANSWER, .origin = 1000 + who, .target = prompt,
			     .arg = arg, .has_token = true};
	token_of(c.token, who);
	if (text)
		c.text = view(f, text, strlen(text)), c.text_len = strlen(text);
	return apply(f, &c);
}

static void assert_tally(const struct room_prompt *p, const uint32_t *want, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (p->tally[i] != want[i])
			fail_msg("tally[%u] is %u, want %u", i, p->tally[i], want[i]);
}

struct cast {
	uint64_t fac, a, b, c;
};

static struct cast cast(struct fix *f)
{
	create_room(f);
	struct cast c = {.fac = facilitator(f, "Fran")};
	c.a = member(f, "Ann");
	c.b = member(f, "Bob");
	c.c = member(f, "Cy");
	return c;
}

/* ---- opening ------------------------------------------------------------- */

static void test_open_single_choice_keeps_the_definition(void **state)
{
	struct fix *f = *state;
	struct cast c = cast(f);
	struct room_cmd p = prompt_cmd(f, c.fac, ROOM_PROMPT_SINGLE, "  What for lunch? ", ABC);
	p.reveal = ROOM_REVEAL_CLOSED;
	uint64_t id = open_ok(f, p);
	assert_int_equal(f->fx.nev, 1);
	const struct room_ev *ev = the_ev(f, ROOM_EV_PROMPT);
	const struct room_prompt *q = room_prompt(&f->r, id);
	assert_non_null(q);
	assert_ptr_equal(ev->prompt, q);
	assert_int_equal(q->id, id);
	assert_int_equal(q->kind, ROOM_PROMPT_SINGLE);
	assert_int_equal(q->reveal, ROOM_REVEAL_CLOSED);
	assert_false(q->anonymous);
	assert_false(q->closed);
	assert_string_equal(q->question, "What for lunch?");
	assert_int_equal(q->nopts, 3);
	assert_string_equal(q->opts[0], "apples");
	assert_string_equal(q->opts[2], "cheese");
	assert_null(q->opts[3]);
	assert_int_equal(q->opened, f->ts);
	assert_int_equal(q->closes_at, 0);
	assert_int_equal(q->nanswers, 0);
	assert_null(room_prompt(&f->r, id + 1));
	assert_null(room_prompt(&f->r, c.a));
}

static void test_open_rating_keeps_scale_and_labels(void **state)
{
	struct fix *f = *state;
	struct cast c = cast(f);
	static const char *const labels[] = {" awful ", "great", NULL};
	struct room_cmd p = prompt_cmd(f, c.fac, ROOM_PROMPT_RATING, "How was it?", labels);
	p.nopts = 5; /* the scale */
	const struct room_prompt *q = room_prompt(&f->r, open_ok(f, p));
	assert_int_equal(q->nopts, 5);
	assert_string_equal(q->opts[0], "awful");
	assert_string_equal(q->opts[1], "great");
	/* labels are optional */
	struct room_cmd p2 = prompt_cmd(f, c.fac, ROOM_PROMPT_RATING, "And now?", NULL);
	p2.nopts = 10;
	q = room_prompt(&f->r, open_ok(f, p2));
	assert_int_equal(q->nopts, 10);
	assert_string_equal(q->opts[0], "");
	assert_string_equal(q->opts[1], "");
}

static void test_open_text_prompt_takes_no_options(void **state)
{
	struct fix *f = *state;
	struct cast c = cast(f);
	struct room_cmd p = prompt_cmd(f, c.fac, ROOM_PROMPT_TEXT, "One word?", ABC);
	const struct room_prompt *q = room_prompt(&f->r, open_ok(f, p));
	assert_int_equal(q->kind, ROOM_PROMPT_TEXT);
	assert_int_equal(q->nopts, 0);
	assert_null(q->opts[0]);
}

static void test_open_with_seconds_sets_a_deadline(void **state)
{
	struct fix *f = *state;
	struct cast c = cast(f);
	struct room_cmd p = prompt_cmd(f, c.fac, ROOM_PROMPT_SINGLE, "Quick", ABC);
	p.arg = 90;
	const struct room_prompt *q = room_prompt(&f->r, open_ok(f, p));
	assert_int_equal(q->closes_at, f->ts + 90000);
	p.arg = 86400;
	q = room_prompt(&f->r, open_ok(f, p));
	assert_int_equal(q->closes_at, f->ts + 86400000ll);
	p.arg = 86401;
	assert_err(apply(f, &p), PL_EBADREQ);
}

static void test_open_refuses_bad_definitions(void **state)
{
	struct fix *f = *state;
	struct cast c = cast(f);
	static const char *const one[] = {"only", NULL};
	static const char *const ten[] = {"1", "2", "3", "4", "5", "6", "7", "8", "9", "10",
					  NULL};
	static const char *const blank[] = {"a", "  ", NULL};
	static const char *const ctl[] = {"a", "b\x01", NULL};
	static const char *const badutf[] = {"a", "b\xff", NULL};
	char q301[302], o101[102], l41[42];
	memset(q301, 'q', 301), q301[301] = '\0';
	memset(o101, 'o', 101), o101[101] = '\0';
	memset(l41, 'l', 41), l41[41] = '\0';
	const char *const long_opt[] = {"a", o101, NULL};
	const char *const long_label[] = {l41, "high", NULL};
	struct {
		struct room_cmd c;
		int want;
	} bad[32];
	int n = 0;
#define BAD(c_, want_) bad[n].c = (c_), bad[n++].want = (want_)
	struct room_cmd p;
	BAD(prompt_cmd(f, c.fac, ROOM_PROMPT_SINGLE, "Q", one), PL_EBADREQ);
	BAD(prompt_cmd(f, c.fac, ROOM_PROMPT_MULTI, "Q", one), PL_EBADREQ);
	BAD(prompt_cmd(f, c.fac, ROOM_PROMPT_SINGLE, "Q", NULL), PL_EBADREQ);
	p = prompt_cmd(f, c.fac, ROOM_PROMPT_SINGLE, "Q", ten);
	p.nopts = 11; /* a record can claim more than it has room for */
	BAD(p, PL_EBADREQ);
	BAD(prompt_cmd(f, c.fac, ROOM_PROMPT_SINGLE, "Q", blank), PL_EEMPTY);
	BAD(prompt_cmd(f, c.fac, ROOM_PROMPT_SINGLE, "Q", ctl), PL_EBADREQ);
	BAD(prompt_cmd(f, c.fac, ROOM_PROMPT_SINGLE, "Q", badutf), PL_EUTF8);
	BAD(prompt_cmd(f, c.fac, ROOM_PROMPT_MULTI, "Q", long_opt), PL_ETOOLONG);
	BAD(prompt_cmd(f, c.fac, ROOM_PROMPT_SINGLE, "   ", ABC), PL_EEMPTY);
	BAD(prompt_cmd(f, c.fac, ROOM_PROMPT_SINGLE, q301, ABC), PL_ETOOLONG);
	p = prompt_cmd(f, c.fac, ROOM_PROMPT_RATING, "Q", NULL);
	p.nopts = 1;
	BAD(p, PL_EBADREQ);
	p.nopts = 11;
	BAD(p, PL_EBADREQ);
	p = prompt_cmd(f, c.fac, ROOM_PROMPT_RATING, "Q", long_label);
	p.nopts = 5;
	BAD(p, PL_ETOOLONG);
	p = prompt_cmd(f, c.fac, ROOM_PROMPT_SINGLE, "Q", ABC);
	p.pkind = 4;
	BAD(p, PL_EBADREQ);
	p.pkind = ROOM_PROMPT_SINGLE, p.reveal = 4;
	BAD(p, PL_EBADREQ);
	p = prompt_cmd(f, c.fac, ROOM_PROMPT_TEXT, "Q", NULL);
	p.member = c.a;
	BAD(p, PL_EFORBIDDEN);
#undef BAD
	for (int i = 0; i < n; i++) {
		int rc = apply(f, &bad[i].c);
		if (rc != bad[i].want)
			fail_msg("definition %d: got %d (%s), want %s", i, rc,
				 rc ? pl_err_code(rc) : "ok", pl_err_code(bad[i].want));
		assert_int_equal(f->fx.nev, 0);
	}
	assert_int_equal(f->r.nprompts, 0);
	/* the limits themselves are fine */
	q301[300] = '\0';
	o101[100] = '\0';
	l41[40] = '\0';
	open_ok(f, prompt_cmd(f, c.fac, ROOM_PROMPT_SINGLE, q301, ten));
	open_ok(f, prompt_cmd(f, c.fac, ROOM_PROMPT_MULTI, "Q", long_opt));
	p = prompt_cmd(f, c.fac, ROOM_PROMPT_RATING, "Q", long_label);
	p.nopts = 2;
	open_ok(f, p);
}

static void test_a_room_holds_at_most_200_prompts(void **state)
{
	struct fix *f = *state;
	struct cast c = cast(f);
	for (int i = 0; i < ROOM_PROMPTS_MAX; i++)
		open_ok(f, prompt_cmd(f, c.fac, ROOM_PROMPT_TEXT, "Again?", NULL));
	struct room_cmd p = prompt_cmd(f, c.fac, ROOM_PROMPT_TEXT, "Again?", NULL);
	assert_err(apply(f, &p), PL_ETOOLONG);
	assert_int_equal(f->r.nprompts, ROOM_PROMPTS_MAX);
	for (size_t i = 1; i < f->r.nprompts; i++) /* opening order is id order */
		assert_true(f->r.prompts[i - 1].id < f->r.prompts[i].id);
}

/* ---- answers and tallies ------------------------------------------------- */

static void test_single_choice_tally_follows_a_change_of_mind(void **state)
{
	struct fix *f = *state;
	struct cast c = cast(f);
	uint64_t id = open_ok(f, prompt_cmd(f, c.fac, ROOM_PROMPT_SINGLE, "Lunch?", ABC));
	const struct room_prompt *p = room_prompt(&f->r, id);
	assert_err(answer(f, c.a, id, 0), 0);
	assert_int_equal(f->fx.nev, 1);
	assert_ptr_equal(the_ev(f, ROOM_EV_ANSWER)->prompt, p);
	assert_err(answer(f, c.b, id, 2), 0);
	assert_err(answer(f, c.c, id, 2), 0);
	assert_tally(p, (const uint32_t[]){1, 0, 2}, 3);
	assert_int_equal(p->nanswers, 3);
	assert_err(answer(f, c.c, id, 1), 0); /* Cy changes their mind */
	assert_tally(p, (const uint32_t[]){1, 1, 1}, 3);
	assert_int_equal(p->nanswers, 3);
	assert_int_equal(room_answer_of(p, c.c, NULL)->choice, 1);
	assert_int_equal(room_answer_of(p, c.c, NULL)->ts, f->ts);
	assert_err(answer(f, c.c, id, 1), 0); /* the same again */
	assert_tally(p, (const uint32_t[]){1, 1, 1}, 3);
	assert_err(answer(f, c.fac, id, 0), 0); /* facilitators may answer too */
	assert_tally(p, (const uint32_t[]){2, 1, 1}, 3);
	/* out of range */
	assert_err(answer(f, c.a, id, 3), PL_EBADREQ);
	assert_err(answer(f, c.a, id, 1u << 31), PL_EBADREQ);
	assert_int_equal(f->fx.nev, 0);
	assert_tally(p, (const uint32_t[]){2, 1, 1}, 3);
	assert_int_equal(room_answer_of(p, c.a, NULL)->choice, 0);
}

static void test_multiple_choice_tally_counts_each_option(void **state)
{
	struct fix *f = *state;
	struct cast c = cast(f);
	uint64_t id = open_ok(f, prompt_cmd(f, c.fac, ROOM_PROMPT_MULTI, "Which?", ABC));
	const struct room_prompt *p = room_prompt(&f->r, id);
	assert_err(answer(f, c.a, id, 0x5), 0); /* apples and cheese */
	assert_err(answer(f, c.b, id, 0x7), 0);
	assert_tally(p, (const uint32_t[]){2, 1, 2}, 3);
	assert_err(answer(f, c.a, id, 0x2), 0); /* bread only, now */
	assert_tally(p, (const uint32_t[]){1, 2, 1}, 3);
	assert_err(answer(f, c.c, id, 0), PL_EBADREQ);   /* nothing chosen */
	assert_err(answer(f, c.c, id, 0x8), PL_EBADREQ); /* no fourth option */
	assert_err(answer(f, c.c, id, 0x9), PL_EBADREQ);
	assert_tally(p, (const uint32_t[]){1, 2, 1}, 3);
	assert_int_equal(p->nanswers, 2);
}

static void test_rating_tally_counts_each_value(void **state)
{
	struct fix *f = *state;
	struct cast c = cast(f);
	struct room_cmd q = prompt_cmd(f, c.fac, ROOM_PROMPT_RATING, "Rate", NULL);
	q.nopts = 4;
	uint64_t id = open_ok(f, q);
	const struct room_prompt *p = room_prompt(&f->r, id);
	assert_err(answer(f, c.a, id, 0), PL_EBADREQ);
	assert_err(answer(f, c.a, id, 5), PL_EBADREQ);
	assert_err(answer(f, c.a, id, 4), 0);
	assert_err(answer(f, c.b, id, 1), 0);
	assert_err(answer(f, c.c, id, 4), 0);
	assert_tally(p, (const uint32_t[]){0, 1, 0, 0, 2}, 5); /* [value] */
	assert_err(answer(f, c.c, id, 2), 0);
	assert_tally(p, (const uint32_t[]){0, 1, 1, 0, 1}, 5);
	/* on the wire: counts for 1..scale and the mean */
	struct mp u;
	mp_init(&u);
	const msgpack_object *o = mp_frame(&u, wire_results(&f->r, p, WIRE_RESULTS_SHOW, NULL));
	const msgpack_object *res = mp_must(o, "results");
	const msgpack_object *counts = mp_must(res, "counts");
	assert_int_equal(counts->via.array.size, 4);
	static const uint32_t want[] = {1, 1, 0, 1};
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(mp_u64(&counts->via.array.ptr[i]), want[i]);
	const msgpack_object *mean = mp_must(res, "mean");
	assert_int_equal(mean->type, MSGPACK_OBJECT_FLOAT64);
	assert_true(mean->via.f64 > 2.333 && mean->via.f64 < 2.334); /* (4 + 1 + 2) / 3 */
	mp_done(&u);
}

static void test_open_answers_are_checked_and_replaced(void **state)
{
	struct fix *f = *state;
	struct cast c = cast(f);
	uint64_t id = open_ok(f, prompt_cmd(f, c.fac, ROOM_PROMPT_TEXT, "One word?", NULL));
	const struct room_prompt *p = room_prompt(&f->r, id);
	assert_err(answer_text(f, c.a, id, "  Zebra  ", 9), 0);
	assert_string_equal(room_answer_of(p, c.a, NULL)->text, "Zebra");
	assert_err(answer_text(f, c.a, id, "apple pie", 9), 0); /* replaced */
	assert_int_equal(p->nanswers, 1);
	assert_string_equal(room_answer_of(p, c.a, NULL)->text, "apple pie");
	assert_err(answer_text(f, c.b, id, "two\nlines", 9), 0);
	assert_err(answer_text(f, c.c, id, "   ", 3), PL_EEMPTY);
	assert_err(answer_text(f, c.c, id, "", 0), PL_EEMPTY);
	assert_err(answer_text(f, c.c, id, "bad\xff", 4), PL_EUTF8);
	assert_err(answer_text(f, c.c, id, "bell\x07", 5), PL_EBADREQ);
	char t[2 * 281];
	memset(t, 'w', 281);
	assert_err(answer_text(f, c.c, id, t, 281), PL_ETOOLONG);
	for (int i = 0; i < 281; i++) /* characters, not bytes */
		memcpy(t + 2 * i, "\xc3\xa9", 2);
	assert_err(answer_text(f, c.c, id, t, 2 * 281), PL_ETOOLONG);
	assert_err(answer_text(f, c.c, id, t, 2 * 280), 0);
	assert_int_equal(p->nanswers, 3);
	assert_string_equal(room_answer_of(p, c.a, NULL)->text, "apple pie");
}

static void test_answers_need_a_present_member_and_an_existing_prompt(void **state)
{
	struct fix *f = *state;
	struct cast c = cast(f);
	uint64_t id = open_ok(f, prompt_cmd(f, c.fac, ROOM_PROMPT_SINGLE, "Lunch?", ABC));
	assert_err(answer(f, c.a, id + 1000, 0), PL_ENOTFOUND);
	assert_err(answer(f, c.a, c.b, 0), PL_ENOTFOUND); /* a member's id is no prompt */
	assert_err(answer(f, c.c + 1000, id, 0), PL_ENOTJOINED);
	assert_err(answer(f, 0, id, 0), PL_ENOTJOINED);
	assert_err(leave(f, c.a, ROOM_LEFT), 0);
	assert_err(answer(f, c.a, id, 0), PL_ENOTJOINED);
	assert_int_equal(room_prompt(&f->r, id)->nanswers, 0);
}

/* ---- closing ------------------------------------------------------------- */

static void test_a_closed_prompt_refuses_answers_and_keeps_its_tally(void **state)
{
	struct fix *f = *state;
	struct cast c = cast(f);
	uint64_t id = open_ok(f, prompt_cmd(f, c.fac, ROOM_PROMPT_SINGLE, "Lunch?", ABC));
	const struct room_prompt *p = room_prompt(&f->r, id);
	assert_err(answer(f, c.a, id, 1), 0);
	assert_err(cmd(f, ROOM_PROMPT_CLOSE, c.a, id, 0, 0), PL_EFORBIDDEN);
	assert_false(p->closed);
	assert_err(cmd(f, ROOM_PROMPT_CLOSE, c.fac, id + 1000, 0, 0), PL_ENOTFOUND);
	assert_err(cmd(f, ROOM_PROMPT_CLOSE, c.fac, id, 0, 0), 0);
	assert_ptr_equal(the_ev(f, ROOM_EV_CLOSED)->prompt, p);
	assert_true(p->closed);
	assert_int_equal(p->closed_at, f->ts);
	int64_t closed_at = f->ts;
	assert_err(answer(f, c.b, id, 0), PL_EFORBIDDEN);
	assert_err(answer(f, c.a, id, 2), PL_EFORBIDDEN); /* no change after close */
	assert_tally(p, (const uint32_t[]){0, 1, 0}, 3);
	assert_int_equal(p->nanswers, 1);
	/* closing again: nothing */
	assert_err(cmd(f, ROOM_PROMPT_CLOSE, c.fac, id, 0, 0), 0);
	assert_int_equal(f->fx.nev, 0);
	assert_int_equal(p->closed_at, closed_at);
	/* the other prompts stay open */
	uint64_t id2 = open_ok(f, prompt_cmd(f, c.fac, ROOM_PROMPT_SINGLE, "Dinner?", ABC));
	assert_err(answer(f, c.b, id2, 0), 0);
}

static void test_deadline_closes_the_prompt_only_when_due(void **state)
{
	struct fix *f = *state;
	struct cast c = cast(f);
	struct room_cmd q = prompt_cmd(f, c.fac, ROOM_PROMPT_SINGLE, "Quick!", ABC);
	q.arg = 60;
	uint64_t id = open_ok(f, q);
	int64_t opened = f->ts;
	const struct room_prompt *p = room_prompt(&f->r, id);
	uint8_t what = 99;
	uint64_t target = 0;
	assert_int_equal(room_next_deadline(&f->r, &what, &target), opened + 60000);
	assert_int_equal(what, ROOM_EXPIRE_PROMPT);
	assert_int_equal(target, id);
	assert_err(expire_at(f, id, ROOM_EXPIRE_PROMPT, opened + 59999), 0); /* early */
	assert_int_equal(f->fx.nev, 0);
	assert_false(p->closed);
	assert_err(answer(f, c.a, id, 0), 0);
	assert_err(expire_at(f, id, ROOM_EXPIRE_PROMPT, opened + 60000), 0);
	assert_int_equal(f->fx.nev, 1);
	assert_ptr_equal(the_ev(f, ROOM_EV_CLOSED)->prompt, p);
	assert_true(p->closed);
	assert_int_equal(p->closed_at, opened + 60000);
	assert_int_equal(room_next_deadline(&f->r, &what, &target), 0);
	/* again, or later: nothing */
	assert_err(expire_at(f, id, ROOM_EXPIRE_PROMPT, opened + 60001), 0);
	assert_int_equal(f->fx.nev, 0);
	assert_int_equal(p->closed_at, opened + 60000);
	assert_err(answer(f, c.b, id, 0), PL_EFORBIDDEN);
}

static void test_expire_for_a_prompt_without_a_deadline_or_closed_is_ignored(void **state)
{
	struct fix *f = *state;
	struct cast c = cast(f);
	uint64_t open = open_ok(f, prompt_cmd(f, c.fac, ROOM_PROMPT_SINGLE, "No clock", ABC));
	struct room_cmd q = prompt_cmd(f, c.fac, ROOM_PROMPT_SINGLE, "Clock", ABC);
	q.arg = 10;
	uint64_t timed = open_ok(f, q);
	int64_t opened = f->ts;
	assert_err(cmd(f, ROOM_PROMPT_CLOSE, c.fac, timed, 0, 0), 0);
	int64_t closed_at = f->ts;
	assert_err(expire_at(f, open, ROOM_EXPIRE_PROMPT, opened + 100000000), 0);
	assert_int_equal(f->fx.nev, 0);
	assert_false(room_prompt(&f->r, open)->closed);
	assert_err(expire_at(f, timed, ROOM_EXPIRE_PROMPT, opened + 10000), 0);
	assert_int_equal(f->fx.nev, 0);
	assert_int_equal(room_prompt(&f->r, timed)->closed_at, closed_at);
	assert_err(expire_at(f, timed + 1000, ROOM_EXPIRE_PROMPT, opened + 10000), 0);
	assert_int_equal(f->fx.nev, 0);
	/* a prompt expire never touches the floor, nor a turn expire a prompt */
	uint64_t a = c.a;
	assert_err(cmd(f, ROOM_TIMER, c.fac, 0, 1, ROOM_TIMER_NEXT), 0);
	assert_err(cmd(f, ROOM_FLOOR_GIVE, c.fac, a, 0, 0), 0);
	uint64_t turn = f->r.floor.turn;
	assert_err(expire_at(f, turn, ROOM_EXPIRE_PROMPT, f->ts + 5000), 0);
	assert_int_equal(f->r.floor.member, a);
	assert_err(expire_at(f, open, ROOM_EXPIRE_TURN, f->ts + 5000), 0);
	assert_int_equal(f->r.floor.member, a);
	assert_false(room_prompt(&f->r, open)->closed);
}

/* ---- anonymous prompts --------------------------------------------------- */

static void test_anonymous_prompt_takes_answers_by_token_only(void **state)
{
	struct fix *f = *state;
	struct cast c = cast(f);
	struct room_cmd q = prompt_cmd(f, c.fac, ROOM_PROMPT_SINGLE, "Honestly?", ABC);
	q.anonymous = true;
	uint64_t id = open_ok(f, q);
	const struct room_prompt *p = room_prompt(&f->r, id);
	assert_true(p->anonymous);
	/* naming someone: refused, whoever it is */
	assert_err(answer(f, c.a, id, 0), PL_EBADREQ);
	struct room_cmd both = {.kind = ROOM_ANSWER, .member = c.a, .target = id,
				.has_token = true};
	token_of(both.token, 1);
	assert_err(apply(f, &both), PL_EBADREQ);
	assert_int_equal(p->nanswers, 0);
	/* by token */
	assert_err(answer_anon(f, 1, id, 2, NULL), 0);
	assert_int_equal(count_ev(f, ROOM_EV_ANSWER), 1);
	assert_err(answer_anon(f, 2, id, 2, NULL), 0);
	assert_int_equal(p->nanswers, 2);
	assert_tally(p, (const uint32_t[]){0, 0, 2}, 3);
	for (size_t i = 0; i < p->nanswers; i++)
		assert_int_equal(p->answers[i].member, 0);
	/* the same token replaces its answer */
	assert_err(answer_anon(f, 1, id, 0, NULL), 0);
	assert_int_equal(p->nanswers, 2);
	assert_tally(p, (const uint32_t[]){1, 0, 1}, 3);
	uint8_t tk[16];
	token_of(tk, 1);
	assert_int_equal(room_answer_of(p, 0, tk)->choice, 0);
	assert_null(room_answer_of(p, c.a, NULL)); /* no way in by member id */
	token_of(tk, 3);
	assert_null(room_answer_of(p, 0, tk));
	/* a named prompt refuses tokens */
	uint64_t named = open_ok(f, prompt_cmd(f, c.fac, ROOM_PROMPT_SINGLE, "Named", ABC));
	assert_err(answer_anon(f, 1, named, 0, NULL), PL_EBADREQ);
	assert_int_equal(room_prompt(&f->r, named)->nanswers, 0);
	/* closed: tokens are refused as well */
	assert_err(cmd(f, ROOM_PROMPT_CLOSE, c.fac, id, 0, 0), 0);
	assert_err(answer_anon(f, 3, id, 0, NULL), PL_EFORBIDDEN);
}

static void test_anonymous_open_answers_by_token_replace_their_text(void **state)
{
	struct fix *f = *state;
	struct cast c = cast(f);
	struct room_cmd q = prompt_cmd(f, c.fac, ROOM_PROMPT_TEXT, "What worries you?", NULL);
	q.anonymous = true;
	uint64_t id = open_ok(f, q);
	const struct room_prompt *p = room_prompt(&f->r, id);
	assert_err(answer_anon(f, 1, id, 0, "deadlines"), 0);
	assert_err(answer_anon(f, 1, id, 0, "the budget"), 0);
	assert_err(answer_anon(f, 2, id, 0, "  "), PL_EEMPTY);
	assert_int_equal(p->nanswers, 1);
	assert_string_equal(p->answers[0].text, "the budget");
}

/* ---- who sees the results ------------------------------------------------ */

static void test_results_visibility_follows_the_reveal_mode(void **state)
{
	struct fix *f = *state;
	struct cast c = cast(f);
	static const struct {
		uint8_t reveal;
		/* open: fac, answered, not answered; closed: the same */
		bool open[3], closed[3];
	} table[] = {
		{ROOM_REVEAL_LIVE, {true, true, true}, {true, true, true}},
		{ROOM_REVEAL_ANSWERED, {true, true, false}, {true, true, true}},
		{ROOM_REVEAL_CLOSED, {true, false, false}, {true, true, true}},
		{ROOM_REVEAL_FAC, {true, false, false}, {true, false, false}},
	};
	static const char *const who[] = {"a facilitator", "one who answered",
					  "one who did not"};
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		struct room_cmd q = prompt_cmd(f, c.fac, ROOM_PROMPT_SINGLE, "Q", ABC);
		q.reveal = table[i].reveal;
		uint64_t id = open_ok(f, q);
		const struct room_prompt *p = room_prompt(&f->r, id);
		assert_int_equal(p->reveal, table[i].reveal);
		for (int closed = 0; closed < 2; closed++) {
			const bool *want = closed ? table[i].closed : table[i].open;
			bool got[3] = {room_results_visible(p, true, false),
				       room_results_visible(p, false, true),
				       room_results_visible(p, false, false)};
			for (int k = 0; k < 3; k++)
				if (got[k] != want[k])
					fail_msg("reveal %d, %s: %s sees the results: %d, want %d",
						 table[i].reveal, closed ? "closed" : "open",
						 who[k], got[k], want[k]);
			if (!closed)
				assert_err(cmd(f, ROOM_PROMPT_CLOSE, c.fac, id, 0, 0), 0);
		}
	}
}

static void test_results_frames_for_each_view(void **state)
{
	struct fix *f = *state;
	struct cast c = cast(f);
	uint64_t id = open_ok(f, prompt_cmd(f, c.fac, ROOM_PROMPT_MULTI, "Which?", ABC));
	const struct room_prompt *p = room_prompt(&f->r, id);
	assert_err(answer(f, c.a, id, 0x3), 0);
	assert_err(answer(f, c.b, id, 0x4), 0);
	char buf[32];
	struct mp u;
	mp_init(&u);
	/* only the count */
	const msgpack_object *o = mp_frame(&u, wire_results(&f->r, p, WIRE_RESULTS_COUNT, NULL));
	assert_string_equal(mp_str(mp_must(o, "t"), buf, 32), "results");
	assert_int_equal(mp_u64(mp_must(o, "prompt")), id);
	assert_int_equal(mp_u64(mp_must(o, "at")), f->r.seq);
	assert_int_equal(mp_u64(mp_must(o, "answered")), 2);
	assert_false(mp_bool(mp_must(o, "closed")));
	assert_null(mp_get(o, "results"));
	assert_null(mp_get(o, "mine"));
	/* the results */
	o = mp_frame(&u, wire_results(&f->r, p, WIRE_RESULTS_SHOW, NULL));
	const msgpack_object *res = mp_must(o, "results");
	const msgpack_object *counts = mp_must(res, "counts");
	assert_int_equal(counts->via.array.size, 3);
	assert_int_equal(mp_u64(&counts->via.array.ptr[0]), 1);
	assert_int_equal(mp_u64(&counts->via.array.ptr[1]), 1);
	assert_int_equal(mp_u64(&counts->via.array.ptr[2]), 1);
	assert_null(mp_get(res, "by"));
	/* with who answered what, for facilitators of a named prompt */
	o = mp_frame(&u, wire_results(&f->r, p, WIRE_RESULTS_DETAIL, NULL));
	const msgpack_object *by = mp_must(mp_must(o, "results"), "by");
	assert_int_equal(by->via.array.size, 2);
	const msgpack_object *ann = &by->via.array.ptr[0];
	assert_int_equal(mp_u64(mp_must(ann, "member")), c.a);
	assert_string_equal(mp_str(mp_must(ann, "name"), buf, 32), "Ann");
	const msgpack_object *choices = mp_must(ann, "answer");
	assert_int_equal(choices->via.array.size, 2);
	assert_int_equal(mp_u64(&choices->via.array.ptr[0]), 0);
	assert_int_equal(mp_u64(&choices->via.array.ptr[1]), 1);
	/* `mine`, for the frame after a join or resume */
	o = mp_frame(&u, wire_results(&f->r, p, WIRE_RESULTS_COUNT, room_answer_of(p, c.b, NULL)));
	const msgpack_object *mine = mp_must(o, "mine");
	assert_int_equal(mine->via.array.size, 1);
	assert_int_equal(mp_u64(&mine->via.array.ptr[0]), 2);
	mp_done(&u);
}

static void test_open_answer_results_are_alphabetical_with_frequent_words(void **state)
{
	struct fix *f = *state;
	struct cast c = cast(f);
	uint64_t id = open_ok(f, prompt_cmd(f, c.fac, ROOM_PROMPT_TEXT, "Why here?", NULL));
	const struct room_prompt *p = room_prompt(&f->r, id);
	assert_err(answer_text(f, c.a, id, "the coffee", 10), 0);
	assert_err(answer_text(f, c.b, id, "Coffee and cake", 15), 0);
	assert_err(answer_text(f, c.c, id, "an old friend", 13), 0);
	struct mp u;
	mp_init(&u);
	const msgpack_object *o = mp_frame(&u, wire_results(&f->r, p, WIRE_RESULTS_SHOW, NULL));
	const msgpack_object *res = mp_must(o, "results");
	const msgpack_object *answers = mp_must(res, "answers");
	char buf[32];
	assert_int_equal(answers->via.array.size, 3);
	assert_string_equal(mp_str(&answers->via.array.ptr[0], buf, 32), "Coffee and cake");
	assert_string_equal(mp_str(&answers->via.array.ptr[1], buf, 32), "an old friend");
	assert_string_equal(mp_str(&answers->via.array.ptr[2], buf, 32), "the coffee");
	const msgpack_object *words = mp_must(res, "words");
	assert_true(words->via.array.size >= 1);
	const msgpack_object *top = &words->via.array.ptr[0];
	assert_string_equal(mp_str(&top->via.array.ptr[0], buf, 32), "coffee");
	assert_int_equal(mp_u64(&top->via.array.ptr[1]), 2);
	for (uint32_t i = 0; i < words->via.array.size; i++) /* 3+ letters: no "an" */
		assert_true(words->via.array.ptr[i].via.array.ptr[0].via.str.size >= 3);
	mp_done(&u);
}

#define T(name) cmocka_unit_test_setup_teardown(name, fix_setup, fix_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_open_single_choice_keeps_the_definition),
		T(test_open_rating_keeps_scale_and_labels),
		T(test_open_text_prompt_takes_no_options),
		T(test_open_with_seconds_sets_a_deadline),
		T(test_open_refuses_bad_definitions),
		T(test_a_room_holds_at_most_200_prompts),
		T(test_single_choice_tally_follows_a_change_of_mind),
		T(test_multiple_choice_tally_counts_each_option),
		T(test_rating_tally_counts_each_value),
		T(test_open_answers_are_checked_and_replaced),
		T(test_answers_need_a_present_member_and_an_existing_prompt),
		T(test_a_closed_prompt_refuses_answers_and_keeps_its_tally),
		T(test_deadline_closes_the_prompt_only_when_due),
		T(test_expire_for_a_prompt_without_a_deadline_or_closed_is_ignored),
		T(test_anonymous_prompt_takes_answers_by_token_only),
		T(test_anonymous_open_answers_by_token_replace_their_text),
		T(test_results_visibility_follows_the_reveal_mode),
		T(test_results_frames_for_each_view),
		T(test_open_answer_results_are_alphabetical_with_frequent_words),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
