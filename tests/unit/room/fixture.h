/*
 * fixture.h — what the room/ unit tests share: a room with a clock, records
 * built as struct room_cmd (as wire_record_decode would give them), and
 * assertions on errors and effects.
 *
 * Every string handed to room_apply is an exact-size heap copy with no NUL
 * after it, as a view into a decoded record would be: under ASan any read
 * past a view's length fails the test. The copies live until teardown.
 *
 * Each record gets the next seq and, by default, a time `step` ms after the
 * previous one; tests that need exact times set `f->ts` (the time the next
 * record is taken at is f->ts + f->step) or call apply_at.
 *
 * Include after cmocka.h. Everything here is static inline so that a test
 * file may use any part of it.
 */
#ifndef PL_TEST_ROOM_FIXTURE_H
#define PL_TEST_ROOM_FIXTURE_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "room/room.h"
#include "util/err.h"

#define ROOM_ID "q3Xv9LmZ0aB-_k2T"
#define T0 1700000000000

static const uint8_t KH[32] = {0x5a, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
			       16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31};

#define assert_err(got, want)                                                              \
	do {                                                                               \
		int got_ = (got), want_ = (want);                                          \
		if (got_ != want_)                                                         \
			fail_msg("%s: got %d (%s), want %d (%s)", #got, got_,              \
				 got_ ? pl_err_code(got_) : "ok", want_,                   \
				 want_ ? pl_err_code(want_) : "ok");                       \
	} while (0)

struct fix {
	struct room r;
	struct room_fx fx;
	uint64_t seq;  /* of the last record applied */
	int64_t ts;    /* of the last record applied */
	int64_t step;  /* ms between records unless a test says otherwise */
	char **views;
	int nviews;
};

static inline int fix_setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));
	room_init(&f->r);
	f->ts = T0;
	f->step = 1000;
	*state = f;
	return 0;
}

static inline int fix_teardown(void **state)
{
	struct fix *f = *state;
	room_deinit(&f->r);
	for (int i = 0; i < f->nviews; i++)
		free(f->views[i]);
	free(f->views);
	free(f);
	return 0;
}

/* An exact-size copy of n bytes, freed at teardown. */
static inline const char *view(struct fix *f, const char *s, size_t n)
{
	char *p = malloc(n ? n : 1);
	memcpy(p, s, n);
	f->views = realloc(f->views, (size_t)(f->nviews + 1) * sizeof(*f->views));
	f->views[f->nviews++] = p;
	return p;
}

static inline struct room_text tview(struct fix *f, const char *s)
{
	return (struct room_text){view(f, s, strlen(s)), strlen(s)};
}

static inline int apply_at(struct fix *f, const struct room_cmd *c, int64_t ts)
{
	f->seq++;
	f->ts = ts;
	return room_apply(&f->r, f->seq, ts, c, &f->fx);
}

static inline int apply(struct fix *f, const struct room_cmd *c)
{
	return apply_at(f, c, f->ts + f->step);
}

static inline void create_room(struct fix *f)
{
	struct room_cmd c = {.kind = ROOM_CREATE, .origin = 9, .id = view(f, ROOM_ID, 16),
			     .id_len = 16, .text = view(f, "Facilitation", 12), .text_len = 12,
			     .has_kh = true};
	memcpy(c.kh, KH, 32);
	assert_err(apply(f, &c), 0);
}

/* A join record: with the facilitator key if fac, with a device hash if
 * device is not NULL. */
static inline int join_rec(struct fix *f, const char *name, bool fac, const uint8_t *device)
{
	struct room_cmd c = {.kind = ROOM_JOIN, .origin = 77, .text = view(f, name, strlen(name)),
			     .text_len = strlen(name), .has_kh = fac, .has_device = device != NULL};
	if (fac)
		memcpy(c.kh, KH, 32);
	if (device)
		memcpy(c.device, device, 16);
	return apply(f, &c);
}

/* Joins and returns the new member's id. */
static inline uint64_t member(struct fix *f, const char *name)
{
	assert_err(join_rec(f, name, false, NULL), 0);
	return f->fx.member;
}

static inline uint64_t facilitator(struct fix *f, const char *name)
{
	assert_err(join_rec(f, name, true, NULL), 0);
	return f->fx.member;
}

/* Any command by `who` on `target` with arguments. */
static inline int cmd(struct fix *f, enum room_cmd_kind kind, uint64_t who, uint64_t target,
		      uint32_t arg, uint32_t arg2)
{
	struct room_cmd c = {.kind = kind, .origin = 5, .member = who, .target = target,
			     .arg = arg, .arg2 = arg2};
	return apply(f, &c);
}

static inline int chat(struct fix *f, uint64_t from, const char *text)
{
	struct room_cmd c = {.kind = ROOM_CHAT, .origin = 5, .member = from,
			     .text = view(f, text, strlen(text)), .text_len = strlen(text)};
	return apply(f, &c);
}

static inline int detach(struct fix *f, uint64_t m)
{
	const struct room_member *x = room_member(&f->r, m);
	struct room_cmd c = {.kind = ROOM_DETACH, .member = m, .has_epoch = true,
			     .epoch = x ? x->epoch : 0};
	return apply(f, &c);
}

static inline int attach(struct fix *f, uint64_t m)
{
	struct room_cmd c = {.kind = ROOM_ATTACH, .origin = 6, .member = m};
	return apply(f, &c);
}

static inline int leave(struct fix *f, uint64_t m, uint8_t reason)
{
	const struct room_member *x = room_member(&f->r, m);
	struct room_cmd c = {.kind = ROOM_LEAVE, .origin = reason == ROOM_LEFT ? 3 : 0,
			     .member = m, .reason = reason, .has_epoch = reason == ROOM_TIMEOUT,
			     .epoch = x ? x->epoch : 0};
	return apply(f, &c);
}

static inline int expire_at(struct fix *f, uint64_t target, uint32_t what, int64_t ts)
{
	struct room_cmd c = {.kind = ROOM_EXPIRE, .target = target, .arg = what};
	return apply_at(f, &c, ts);
}

/* How many events of that kind the last record produced. */
static inline unsigned count_ev(const struct fix *f, enum room_ev_kind kind)
{
	unsigned n = 0;
	for (unsigned i = 0; i < f->fx.nev; i++)
		n += f->fx.ev[i].kind == kind;
	return n;
}

/* The event of that kind the last record produced (it must have one). */
static inline const struct room_ev *the_ev(const struct fix *f, enum room_ev_kind kind)
{
	for (unsigned i = 0; i < f->fx.nev; i++)
		if (f->fx.ev[i].kind == kind)
			return &f->fx.ev[i];
	fail_msg("the record produced no event of kind %d (%u events)", kind, f->fx.nev);
	return NULL;
}

static inline const struct room_member *mem(const struct fix *f, uint64_t id)
{
	const struct room_member *m = room_member(&f->r, id);
	if (!m)
		fail_msg("no member %llu", (unsigned long long)id);
	return m;
}

#endif
