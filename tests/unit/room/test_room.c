/*
 * test_room.c — room/: the rules of a room, applied to records built as
 * struct room_cmd directly (no msgpack, no log).
 *
 * Every string handed to room_apply here is an exact-size heap copy with no
 * NUL after it, as a record decoded from msgpack would be: under ASan any
 * read past a view's length fails the test.
 *
 * The last test is the property the whole design leans on (DESIGN.md, "a
 * room is a deterministic state machine"): the same records in the same
 * order give the same state. It drives two fresh rooms through a few
 * thousand pseudo-random records, valid and invalid mixed, compares their
 * effects step by step and their whole observable state field by field, and
 * checks the room's invariants after every step.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "room/room.h"
#include "util/err.h"

#define ROOM_ID "q3Xv9LmZ0aB-_k2T"

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

/* ---- fixture: a room and the views its records borrow ------------------- */

struct fix {
	struct room r;
	struct room_fx fx;
	uint64_t seq;   /* of the last record applied */
	int64_t ts;
	char **views;
	int nviews;
};

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));
	room_init(&f->r);
	f->ts = 1700000000000;
	*state = f;
	return 0;
}

static int teardown(void **state)
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
static const char *view(struct fix *f, const char *s, size_t n)
{
	char *p = malloc(n ? n : 1);
	memcpy(p, s, n);
	f->views = realloc(f->views, (size_t)(f->nviews + 1) * sizeof(*f->views));
	f->views[f->nviews++] = p;
	return p;
}

static int apply(struct fix *f, const struct room_cmd *c)
{
	f->seq++;
	f->ts += 1000;
	return room_apply(&f->r, f->seq, f->ts, c, &f->fx);
}

static int create_room(struct fix *f)
{
	struct room_cmd c = {.kind = ROOM_CREATE, .origin = 9,
			     .id = view(f, ROOM_ID, 16), .id_len = 16,
			     .text = view(f, " Rust lunch ", 12), .text_len = 12, .has_kh = true};
	memcpy(c.kh, KH, 32);
	return apply(f, &c);
}

static int join_n(struct fix *f, const char *name, size_t n, const uint8_t *kh)
{
	struct room_cmd c = {.kind = ROOM_JOIN, .origin = 77, .text = view(f, name, n),
			     .text_len = n, .has_kh = kh != NULL};
	if (kh)
		memcpy(c.kh, kh, 32);
	return apply(f, &c);
}

static int join(struct fix *f, const char *name)
{
	return join_n(f, name, strlen(name), NULL);
}

/* Joins and returns the new member's id. */
static uint64_t member(struct fix *f, const char *name)
{
	assert_err(join(f, name), 0);
	return f->fx.member;
}

static int chat_n(struct fix *f, uint64_t from, const char *text, size_t n)
{
	struct room_cmd c = {.kind = ROOM_CHAT, .origin = 5, .member = from,
			     .text = view(f, text, n), .text_len = n};
	return apply(f, &c);
}

static int chat(struct fix *f, uint64_t from, const char *text)
{
	return chat_n(f, from, text, strlen(text));
}

static int attach(struct fix *f, uint64_t m)
{
	struct room_cmd c = {.kind = ROOM_ATTACH, .origin = 6, .member = m};
	return apply(f, &c);
}

static int detach(struct fix *f, uint64_t m, bool has_epoch, uint32_t epoch)
{
	struct room_cmd c = {.kind = ROOM_DETACH, .member = m, .has_epoch = has_epoch,
			     .epoch = epoch};
	return apply(f, &c);
}

static int leave(struct fix *f, uint64_t origin, uint64_t m, bool has_epoch, uint32_t epoch,
		 uint8_t reason)
{
	struct room_cmd c = {.kind = ROOM_LEAVE, .origin = origin, .member = m,
			     .has_epoch = has_epoch, .epoch = epoch, .reason = reason};
	return apply(f, &c);
}

static void assert_one_event(const struct fix *f, enum room_ev_kind kind, uint64_t m)
{
	assert_int_equal(f->fx.nev, 1);
	assert_int_equal(f->fx.ev[0].kind, kind);
	assert_non_null(f->fx.ev[0].member);
	assert_int_equal(f->fx.ev[0].member->id, m);
}

static void assert_no_events(const struct fix *f)
{
	assert_int_equal(f->fx.nev, 0);
}

/* ---- create ------------------------------------------------------------ */

static void test_create_sets_id_title_key_and_time(void **state)
{
	struct fix *f = *state;
	assert_false(f->r.exists);
	assert_err(create_room(f), 0);
	assert_true(f->r.exists);
	assert_false(f->r.ended);
	assert_string_equal(f->r.id, ROOM_ID);
	assert_string_equal(f->r.title, "Rust lunch"); /* trimmed */
	assert_int_equal(f->r.created, f->ts);
	assert_memory_equal(f->r.kh, KH, 32);
	assert_int_equal(f->r.seq, 1);
	assert_int_equal(f->r.nmembers, 0);
	assert_int_equal(f->r.present, 0);
	assert_no_events(f);
}

static void test_double_create_is_rejected_and_keeps_the_first(void **state)
{
	struct fix *f = *state;
	assert_err(create_room(f), 0);
	int64_t created = f->r.created;
	struct room_cmd c = {.kind = ROOM_CREATE, .id = view(f, "AAAAAAAAAAAAAAAA", 16),
			     .id_len = 16, .text = view(f, "Other", 5), .text_len = 5,
			     .has_kh = true};
	assert_err(apply(f, &c), PL_EFORBIDDEN);
	assert_string_equal(f->r.id, ROOM_ID);
	assert_string_equal(f->r.title, "Rust lunch");
	assert_int_equal(f->r.created, created);
	assert_memory_equal(f->r.kh, KH, 32);
}

static void test_create_with_a_bad_id_or_no_key_hash_is_rejected(void **state)
{
	struct fix *f = *state;
	struct room_cmd c = {.kind = ROOM_CREATE, .id = view(f, ROOM_ID, 15), .id_len = 15,
			     .text = view(f, "T", 1), .text_len = 1, .has_kh = true};
	assert_err(apply(f, &c), PL_EBADREQ); /* 15 characters */
	c.id = view(f, "q3Xv9LmZ0aB-/k2T", 16), c.id_len = 16;
	assert_err(apply(f, &c), PL_EBADREQ); /* not base64url */
	c.id = view(f, ROOM_ID, 16), c.has_kh = false;
	assert_err(apply(f, &c), PL_EBADREQ); /* no key hash */
	assert_false(f->r.exists);
	assert_null(f->r.title);
}

static void test_records_before_create_are_not_found(void **state)
{
	struct fix *f = *state;
	assert_err(join(f, "Ada"), PL_ENOTFOUND);
	assert_no_events(f);
	assert_err(chat(f, 1, "hi"), PL_ENOTFOUND);
	assert_err(attach(f, 1), PL_ENOTFOUND);
	assert_err(detach(f, 1, false, 0), PL_ENOTFOUND);
	assert_err(leave(f, 3, 1, false, 0, ROOM_LEFT), PL_ENOTFOUND);
	assert_int_equal(f->r.nmembers, 0);
	assert_int_equal(f->r.chat_n, 0);
	assert_false(f->r.exists);
	/* the room can still be created afterwards */
	assert_err(create_room(f), 0);
	assert_true(f->r.exists);
}

/* ---- join -------------------------------------------------------------- */

static void test_join_gives_the_member_the_seq_of_its_record_as_id(void **state)
{
	struct fix *f = *state;
	assert_err(create_room(f), 0);
	f->seq = 41; /* the log may have records that produce nothing here */
	assert_err(join(f, "  Ada Lovelace "), 0);
	assert_int_equal(f->fx.member, 42);
	assert_one_event(f, ROOM_EV_JOINED, 42);
	const struct room_member *m = room_member(&f->r, 42);
	assert_non_null(m);
	assert_ptr_equal(f->fx.ev[0].member, m);
	assert_string_equal(m->name, "Ada Lovelace");
	assert_int_equal(m->role, ROOM_PARTICIPANT);
	assert_true(m->present);
	assert_true(m->online);
	assert_int_equal(m->epoch, 0);
	assert_int_equal(m->joined_ts, f->ts);
	assert_int_equal(m->messages, 0);
	assert_int_equal(f->r.present, 1);
	assert_int_equal(f->r.nmembers, 1);
	assert_int_equal(f->r.seq, 42);
}

static void test_join_with_matching_key_hash_is_facilitator(void **state)
{
	struct fix *f = *state;
	assert_err(create_room(f), 0);
	assert_err(join_n(f, "Grace", 5, KH), 0);
	assert_int_equal(room_member(&f->r, f->fx.member)->role, ROOM_FACILITATOR);
	assert_one_event(f, ROOM_EV_JOINED, f->seq);
}

static void test_join_with_wrong_key_hash_is_forbidden(void **state)
{
	struct fix *f = *state;
	assert_err(create_room(f), 0);
	uint8_t wrong[32];
	memcpy(wrong, KH, 32);
	wrong[31] ^= 1;
	assert_err(join_n(f, "Mallory", 7, wrong), PL_EFORBIDDEN);
	assert_no_events(f);
	assert_int_equal(f->fx.member, 0);
	assert_int_equal(f->r.nmembers, 0);
	assert_int_equal(f->r.present, 0);
	assert_null(room_member(&f->r, f->seq));
}

static void test_members_are_found_by_id_in_join_order(void **state)
{
	struct fix *f = *state;
	assert_err(create_room(f), 0);
	uint64_t ids[20];
	char name[16];
	for (int i = 0; i < 20; i++) { /* past the first growth of the array */
		snprintf(name, sizeof(name), "m%d", i);
		ids[i] = member(f, name);
		f->seq += (uint64_t)i % 3; /* gaps in seq */
	}
	assert_int_equal(f->r.nmembers, 20);
	assert_int_equal(f->r.present, 20);
	for (int i = 0; i < 20; i++) {
		snprintf(name, sizeof(name), "m%d", i);
		const struct room_member *m = room_member(&f->r, ids[i]);
		assert_non_null(m);
		assert_int_equal(m->id, ids[i]);
		assert_string_equal(m->name, name);
		assert_int_equal(f->r.members[i].id, ids[i]);
		assert_null(room_member(&f->r, ids[i] + 1000));
	}
	assert_null(room_member(&f->r, 0));
	assert_null(room_member(&f->r, 1)); /* the create record is no member */
}

/* ---- names ------------------------------------------------------------- */

static void test_name_empty_after_trim_is_invalid_name(void **state)
{
	struct fix *f = *state;
	assert_err(create_room(f), 0);
	assert_err(join_n(f, "", 0, NULL), PL_ENAME);
	assert_err(join(f, "   "), PL_ENAME);
	assert_err(join(f, " \t\n "), PL_ENAME);
	assert_err(join(f, "\xe3\x80\x80\xc2\xa0"), PL_ENAME); /* U+3000 U+00A0 */
	assert_no_events(f);
	assert_int_equal(f->r.nmembers, 0);
}

static void test_name_of_41_characters_is_too_long(void **state)
{
	struct fix *f = *state;
	char name[3 * 41 + 1];
	assert_err(create_room(f), 0);
	memset(name, 'x', 41);
	assert_err(join_n(f, name, 41, NULL), PL_ETOOLONG);
	assert_err(join_n(f, name, 40, NULL), 0);
	/* characters, not bytes: 40 × "é" (80 bytes) is fine, 41 is not */
	for (int i = 0; i < 41; i++)
		memcpy(name + 2 * i, "\xc3\xa9", 2);
	assert_err(join_n(f, name, 80, NULL), 0);
	assert_err(join_n(f, name, 82, NULL), PL_ETOOLONG);
	/* 40 × "日" (120 bytes) */
	for (int i = 0; i < 41; i++)
		memcpy(name + 3 * i, "\xe6\x97\xa5", 3);
	assert_err(join_n(f, name, 120, NULL), 0);
	assert_err(join_n(f, name, 123, NULL), PL_ETOOLONG);
	assert_int_equal(f->r.nmembers, 3);
}

/* PROTOCOL.md: "1–40 characters after trimming". */
static void test_name_limit_counts_characters_after_trimming(void **state)
{
	struct fix *f = *state;
	char name[64];
	assert_err(create_room(f), 0);
	memset(name, ' ', sizeof(name));
	memset(name + 2, 'y', 40);
	assert_err(join_n(f, name, 44, NULL), 0); /* "  " + 40 × y + "  " */
	assert_string_equal(room_member(&f->r, f->fx.member)->name,
			    "yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy");
	memset(name + 2, 'y', 41);
	assert_err(join_n(f, name, 45, NULL), PL_ETOOLONG);
}

static void test_name_with_invalid_utf8_is_rejected(void **state)
{
	struct fix *f = *state;
	assert_err(create_room(f), 0);
	assert_err(join(f, "Ada\xff"), PL_EUTF8);
	assert_err(join(f, "\xc0\xafroot"), PL_EUTF8);    /* overlong */
	assert_err(join(f, "x\xed\xa0\x80"), PL_EUTF8);    /* surrogate */
	assert_err(join_n(f, "Zo\xc3", 3, NULL), PL_EUTF8); /* cut in the middle */
	assert_int_equal(f->r.nmembers, 0);
}

static void test_name_with_control_characters_is_invalid_name(void **state)
{
	struct fix *f = *state;
	assert_err(create_room(f), 0);
	assert_err(join(f, "Ada\x01Eve"), PL_ENAME);
	assert_err(join(f, "Ada\nEve"), PL_ENAME);
	assert_err(join(f, "Ada\tEve"), PL_ENAME);
	assert_err(join(f, "\x1b[31mred"), PL_ENAME);
	assert_err(join(f, "del\x7f"), PL_ENAME);
	assert_err(join(f, "nel\xc2\x85x"), PL_ENAME);     /* U+0085 */
	assert_err(join(f, "ls\xe2\x80\xa8x"), PL_ENAME);  /* U+2028 */
	assert_err(join_n(f, "Ada\0Eve", 7, NULL), PL_ENAME); /* NUL */
	assert_int_equal(f->r.nmembers, 0);
	assert_err(join(f, "Zo\xc3\xab \xf0\x9f\x8d\xb2"), 0); /* "Zoë 🍲" is fine */
}

/* ---- chat -------------------------------------------------------------- */

static void test_chat_stores_trimmed_text_with_its_seq_and_time(void **state)
{
	struct fix *f = *state;
	assert_err(create_room(f), 0);
	uint64_t ada = member(f, "Ada");
	assert_err(chat(f, ada, "  hello\tthere\nall \n"), 0);
	assert_one_event(f, ROOM_EV_CHAT, ada);
	const struct room_chat *c = f->fx.ev[0].chat;
	assert_non_null(c);
	assert_int_equal(c->seq, f->seq);
	assert_int_equal(c->ts, f->ts);
	assert_int_equal(c->from, ada);
	assert_string_equal(c->text, "hello\tthere\nall");
	assert_int_equal(f->r.chat_n, 1);
	assert_ptr_equal(room_recent_chat(&f->r, 0), c);
	assert_int_equal(room_member(&f->r, ada)->messages, 1);
}

static void test_chat_empty_after_trim_is_empty(void **state)
{
	struct fix *f = *state;
	assert_err(create_room(f), 0);
	uint64_t ada = member(f, "Ada");
	assert_err(chat_n(f, ada, "", 0), PL_EEMPTY);
	assert_err(chat(f, ada, " \n\t "), PL_EEMPTY);
	assert_no_events(f);
	assert_int_equal(f->r.chat_n, 0);
	assert_int_equal(room_member(&f->r, ada)->messages, 0);
}

static void test_chat_over_2000_characters_is_too_long(void **state)
{
	struct fix *f = *state;
	assert_err(create_room(f), 0);
	uint64_t ada = member(f, "Ada");
	char *text = malloc(2 * 2001);
	memset(text, 'z', 2001);
	assert_err(chat_n(f, ada, text, 2001), PL_ETOOLONG);
	assert_err(chat_n(f, ada, text, 2000), 0);
	for (int i = 0; i < 2001; i++)
		memcpy(text + 2 * i, "\xc3\xa9", 2);
	assert_err(chat_n(f, ada, text, 4000), 0);
	assert_err(chat_n(f, ada, text, 4002), PL_ETOOLONG);
	free(text);
	assert_int_equal(f->r.chat_n, 2);
}

/* PROTOCOL.md: "1–2,000 characters after trimming". */
static void test_chat_limit_counts_characters_after_trimming(void **state)
{
	struct fix *f = *state;
	assert_err(create_room(f), 0);
	uint64_t ada = member(f, "Ada");
	char *text = malloc(2010);
	memset(text, ' ', 2010);
	memset(text + 4, 'z', 2000);
	assert_err(chat_n(f, ada, text, 2008), 0); /* 4 spaces, 2000 × z, 4 spaces */
	assert_int_equal(strlen(f->fx.ev[0].chat->text), 2000);
	memset(text + 4, 'z', 2001);
	assert_err(chat_n(f, ada, text, 2009), PL_ETOOLONG);
	free(text);
}

static void test_chat_with_invalid_utf8_or_controls_is_rejected(void **state)
{
	struct fix *f = *state;
	assert_err(create_room(f), 0);
	uint64_t ada = member(f, "Ada");
	assert_err(chat(f, ada, "bad \xff"), PL_EUTF8);
	assert_true(chat_n(f, ada, "a\0b", 3) < 0); /* NUL */
	assert_true(chat(f, ada, "bell\x07") < 0);
	assert_true(chat(f, ada, "cr\rlf") < 0);
	assert_true(chat(f, ada, "esc\x1b[2J") < 0);
	assert_no_events(f);
	assert_int_equal(f->r.chat_n, 0);
}

static void test_chat_ring_keeps_the_last_50_in_order(void **state)
{
	struct fix *f = *state;
	char text[32];
	assert_err(create_room(f), 0);
	uint64_t ada = member(f, "Ada"), bob = member(f, "Bob");
	uint64_t seqs[123];
	for (int i = 0; i < 123; i++) {
		snprintf(text, sizeof(text), "message %d", i);
		assert_err(chat(f, i % 2 ? bob : ada, text), 0);
		seqs[i] = f->seq;
		if (i < ROOM_RECENT_CHAT)
			assert_int_equal(f->r.chat_n, i + 1);
		/* the oldest kept and the newest, at every step */
		unsigned n = f->r.chat_n;
		assert_int_equal(room_recent_chat(&f->r, n - 1)->seq, seqs[i]);
		assert_int_equal(room_recent_chat(&f->r, 0)->seq, seqs[i + 1 - (int)n]);
	}
	assert_int_equal(f->r.chat_n, ROOM_RECENT_CHAT);
	for (unsigned i = 0; i < ROOM_RECENT_CHAT; i++) {
		int k = 123 - ROOM_RECENT_CHAT + (int)i;
		const struct room_chat *c = room_recent_chat(&f->r, i);
		snprintf(text, sizeof(text), "message %d", k);
		assert_string_equal(c->text, text);
		assert_int_equal(c->seq, seqs[k]);
		assert_int_equal(c->from, k % 2 ? bob : ada);
		if (i)
			assert_true(room_recent_chat(&f->r, i - 1)->seq < c->seq);
	}
	assert_int_equal(room_member(&f->r, ada)->messages, 62);
	assert_int_equal(room_member(&f->r, bob)->messages, 61);
}

static void test_chat_from_unknown_or_left_member_is_not_joined(void **state)
{
	struct fix *f = *state;
	assert_err(create_room(f), 0);
	uint64_t ada = member(f, "Ada");
	assert_err(chat(f, ada + 100, "hi"), PL_ENOTJOINED);
	assert_err(chat(f, 0, "hi"), PL_ENOTJOINED);
	assert_err(chat(f, 1, "hi"), PL_ENOTJOINED); /* the create record's seq */
	assert_err(leave(f, 8, ada, false, 0, ROOM_LEFT), 0);
	assert_err(chat(f, ada, "still here?"), PL_ENOTJOINED);
	assert_no_events(f);
	assert_int_equal(f->r.chat_n, 0);
}

static void test_chat_from_away_member_is_accepted(void **state)
{
	struct fix *f = *state;
	assert_err(create_room(f), 0);
	uint64_t ada = member(f, "Ada");
	/* a message appended just before the connection dropped */
	assert_err(detach(f, ada, true, 0), 0);
	assert_err(chat(f, ada, "sent before the drop"), 0);
	assert_one_event(f, ROOM_EV_CHAT, ada);
}

/* ---- presence ---------------------------------------------------------- */

static void test_detach_marks_member_away(void **state)
{
	struct fix *f = *state;
	assert_err(create_room(f), 0);
	uint64_t ada = member(f, "Ada");
	assert_err(detach(f, ada, true, 0), 0);
	assert_one_event(f, ROOM_EV_AWAY, ada);
	const struct room_member *m = room_member(&f->r, ada);
	assert_false(m->online);
	assert_true(m->present);
	assert_int_equal(f->r.present, 1);
	/* a second detach changes nothing and says nothing */
	assert_err(detach(f, ada, true, 0), 0);
	assert_no_events(f);
	assert_err(detach(f, ada + 7, false, 0), 0); /* unknown: nothing */
	assert_no_events(f);
}

static void test_detach_with_stale_epoch_is_ignored(void **state)
{
	struct fix *f = *state;
	assert_err(create_room(f), 0);
	uint64_t ada = member(f, "Ada");
	assert_err(attach(f, ada), 0); /* resumed on a new connection: epoch 1 */
	assert_int_equal(room_member(&f->r, ada)->epoch, 1);
	assert_err(detach(f, ada, true, 0), 0); /* the old connection's drop */
	assert_no_events(f);
	assert_true(room_member(&f->r, ada)->online);
	assert_err(detach(f, ada, true, 1), 0);
	assert_one_event(f, ROOM_EV_AWAY, ada);
}

static void test_attach_bumps_epoch_and_announces_back(void **state)
{
	struct fix *f = *state;
	assert_err(create_room(f), 0);
	uint64_t ada = member(f, "Ada");
	assert_err(detach(f, ada, true, 0), 0);
	assert_err(attach(f, ada), 0);
	assert_int_equal(f->fx.member, ada);
	assert_one_event(f, ROOM_EV_BACK, ada);
	const struct room_member *m = room_member(&f->r, ada);
	assert_true(m->online);
	assert_int_equal(m->epoch, 1);
	/* attaching while online (a replaced connection) bumps the epoch too,
	 * but nobody had seen the member go away */
	assert_err(attach(f, ada), 0);
	assert_no_events(f);
	assert_int_equal(m->epoch, 2);
}

static void test_attach_of_unknown_or_left_member_is_invalid_token(void **state)
{
	struct fix *f = *state;
	assert_err(create_room(f), 0);
	uint64_t ada = member(f, "Ada");
	assert_err(attach(f, ada + 1), PL_ETOKEN);
	assert_err(leave(f, 4, ada, false, 0, ROOM_LEFT), 0);
	assert_err(attach(f, ada), PL_ETOKEN);
	assert_no_events(f);
	assert_int_equal(f->fx.member, 0);
	assert_false(room_member(&f->r, ada)->online);
}

static void test_leave_announces_left_and_updates_present_count(void **state)
{
	struct fix *f = *state;
	assert_err(create_room(f), 0);
	uint64_t ada = member(f, "Ada"), bob = member(f, "Bob");
	assert_int_equal(f->r.present, 2);
	assert_err(leave(f, 12, ada, false, 0, ROOM_LEFT), 0);
	assert_one_event(f, ROOM_EV_LEFT, ada);
	assert_int_equal(f->fx.ev[0].reason, ROOM_LEFT);
	const struct room_member *m = room_member(&f->r, ada);
	assert_non_null(m); /* kept for the transcript */
	assert_string_equal(m->name, "Ada");
	assert_false(m->present);
	assert_false(m->online);
	assert_int_equal(m->left_ts, f->ts);
	assert_int_equal(f->r.present, 1);
	assert_int_equal(f->r.nmembers, 2);
	assert_true(room_member(&f->r, bob)->present);
}

static void test_leave_twice_is_not_joined_for_a_request_and_silent_for_a_timer(void **state)
{
	struct fix *f = *state;
	assert_err(create_room(f), 0);
	uint64_t ada = member(f, "Ada");
	assert_err(leave(f, 12, ada, false, 0, ROOM_LEFT), 0);
	assert_err(leave(f, 12, ada, false, 0, ROOM_LEFT), PL_ENOTJOINED);
	assert_no_events(f);
	assert_err(leave(f, 0, ada, true, 0, ROOM_TIMEOUT), 0);
	assert_no_events(f);
	assert_int_equal(f->r.present, 0);
}

static void test_leave_with_stale_epoch_is_ignored(void **state)
{
	struct fix *f = *state;
	assert_err(create_room(f), 0);
	uint64_t ada = member(f, "Ada");
	assert_err(detach(f, ada, true, 0), 0);
	/* the grace timer's leave was decided at epoch 0, but Ada came back */
	assert_err(attach(f, ada), 0);
	assert_err(detach(f, ada, true, 1), 0);
	assert_err(leave(f, 0, ada, true, 0, ROOM_TIMEOUT), 0);
	assert_no_events(f);
	assert_true(room_member(&f->r, ada)->present);
	assert_int_equal(f->r.present, 1);
	/* the leave for the current epoch applies */
	assert_err(leave(f, 0, ada, true, 1, ROOM_TIMEOUT), 0);
	assert_one_event(f, ROOM_EV_LEFT, ada);
	assert_int_equal(f->fx.ev[0].reason, ROOM_TIMEOUT);
	assert_int_equal(f->r.present, 0);
}

static void test_timeout_leave_is_ignored_while_online(void **state)
{
	struct fix *f = *state;
	assert_err(create_room(f), 0);
	uint64_t ada = member(f, "Ada");
	assert_err(leave(f, 0, ada, true, 0, ROOM_TIMEOUT), 0);
	assert_no_events(f);
	assert_true(room_member(&f->r, ada)->present);
	assert_err(leave(f, 0, ada, false, 0, ROOM_TIMEOUT), 0);
	assert_no_events(f);
	assert_true(room_member(&f->r, ada)->online);
	/* an explicit leave works while online */
	assert_err(leave(f, 3, ada, false, 0, ROOM_LEFT), 0);
	assert_one_event(f, ROOM_EV_LEFT, ada);
}

static void test_rejected_record_leaves_state_unchanged(void **state)
{
	struct fix *f = *state;
	assert_err(create_room(f), 0);
	uint64_t ada = member(f, "Ada");
	assert_err(chat(f, ada, "one"), 0);
	size_t nmembers = f->r.nmembers, present = f->r.present;
	unsigned chat_n = f->r.chat_n, chat_head = f->r.chat_head;
	assert_true(join(f, "") < 0);
	assert_true(chat(f, ada, "") < 0);
	assert_true(chat(f, ada + 1, "x") < 0);
	assert_true(attach(f, ada + 1) < 0);
	assert_int_equal(f->r.nmembers, nmembers);
	assert_int_equal(f->r.present, present);
	assert_int_equal(f->r.chat_n, chat_n);
	assert_int_equal(f->r.chat_head, chat_head);
	assert_int_equal(room_member(&f->r, ada)->messages, 1);
	assert_int_equal(room_member(&f->r, ada)->epoch, 0);
	assert_string_equal(room_recent_chat(&f->r, 0)->text, "one");
}

/* ---- determinism ------------------------------------------------------- */

static uint64_t rng(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x >> 12, x ^= x << 25, x ^= x >> 27;
	*s = x;
	return x * 0x2545F4914F6CDD1Dull;
}

static const char *const names[] = {
	"Ada", "  Bob  ", "Zo\xc3\xab \xf0\x9f\x8d\xb2", "", "   ", "bad\xff", "ctl\x01x",
	"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", /* 41 */
	"Grace Hopper", "\xe6\x97\xa5\xe6\x9c\xac",
};
static const char *const texts[] = {
	"hello", "  trimmed  ", "", " \n ", "two\nlines", "bad\xc0\xaf", "bell\x07",
	"\xf0\x9f\x8d\xb2 soup", "Why does the borrow checker reject this?",
};

/* One pseudo-random record: mostly plausible, some nonsense. r is only
 * read to aim at existing members and epochs often enough to hit something.
 * Views point into an exact-size copy kept in *keep for the caller to free. */
static struct room_cmd random_cmd(uint64_t *s, const struct room *r, uint64_t seq, char **keep)
{
	struct room_cmd c = {0};
	uint64_t pick = rng(s) % 100;
	const struct room_member *m =
		r->nmembers && rng(s) % 8 ? &r->members[rng(s) % r->nmembers] : NULL;
	uint64_t who = m ? m->id : seq > 2 ? 1 + rng(s) % (seq - 1) : 1;
	const char *str = NULL;
	*keep = NULL;
	if (pick < 2) {
		c.kind = ROOM_CREATE;
		c.id = ROOM_ID, c.id_len = rng(s) % 4 ? 16 : 15;
		str = "Title";
		c.has_kh = rng(s) % 8 != 0;
		memcpy(c.kh, KH, 32);
	} else if (pick < 22) {
		c.kind = ROOM_JOIN;
		str = names[rng(s) % (sizeof(names) / sizeof(names[0]))];
		uint64_t k = rng(s) % 6;
		c.has_kh = k < 2;
		memcpy(c.kh, KH, 32);
		if (k == 1)
			c.kh[0] ^= 0xff;
	} else if (pick < 35) {
		c.kind = ROOM_ATTACH;
	} else if (pick < 50) {
		c.kind = ROOM_DETACH;
	} else if (pick < 55) {
		c.kind = ROOM_LEAVE;
		c.reason = rng(s) % 2 ? ROOM_TIMEOUT : ROOM_LEFT;
	} else if (pick < 72) {
		c.kind = ROOM_CHAT;
		str = texts[rng(s) % (sizeof(texts) / sizeof(texts[0]))];
	} else {
		/* hands, floor, timer and expiry, with arguments in and out of range */
		c.kind = (enum room_cmd_kind)(ROOM_HAND_RAISE +
					      rng(s) % (ROOM_EXPIRE + 1 - ROOM_HAND_RAISE));
		const struct room_member *t =
			r->nmembers && rng(s) % 4 ? &r->members[rng(s) % r->nmembers] : NULL;
		c.target = t ? t->id : rng(s) % 3 ? 0 : rng(s) % (seq + 1);
		static const uint32_t secs[] = {0, 1, 2, 5, 60, 3600, 3601};
		switch (c.kind) {
		case ROOM_TIMER:
			c.arg = secs[rng(s) % (sizeof(secs) / sizeof(secs[0]))];
			c.arg2 = (uint32_t)(rng(s) % 3);
			break;
		case ROOM_EXPIRE:
			c.target = rng(s) % 4 ? r->floor.turn : c.target;
			c.arg = (uint32_t)(rng(s) % 3);
			break;
		default:
			c.arg = (uint32_t)(rng(s) % 5);
			break;
		}
	}
	if (c.kind >= ROOM_ATTACH && c.kind <= ROOM_CHAT) {
		c.member = who;
		c.has_epoch = rng(s) % 2;
		c.epoch = m && rng(s) % 2 ? m->epoch : (uint32_t)(rng(s) % 4);
	} else if (c.kind > ROOM_CHAT && c.kind != ROOM_EXPIRE) {
		/* mostly a facilitator acts, so that the commands do something */
		const struct room_member *fac = NULL;
		for (size_t i = 0; i < r->nmembers && rng(s) % 3; i++)
			if (r->members[i].present && r->members[i].role == ROOM_FACILITATOR)
				fac = &r->members[i];
		c.member = fac ? fac->id : who;
	}
	c.origin = rng(s) % 3 ? 1 + rng(s) % 1000 : 0;
	if (str) {
		size_t n = strlen(str);
		*keep = malloc(n ? n : 1);
		memcpy(*keep, str, n);
		c.text = *keep, c.text_len = n;
	}
	return c;
}

static void assert_fx_equal(const struct room_fx *a, const struct room_fx *b)
{
	assert_int_equal(a->err, b->err);
	assert_int_equal(a->member, b->member);
	assert_int_equal(a->nev, b->nev);
	for (unsigned i = 0; i < a->nev; i++) {
		assert_int_equal(a->ev[i].kind, b->ev[i].kind);
		assert_int_equal(a->ev[i].reason, b->ev[i].reason);
		assert_int_equal(a->ev[i].member != NULL, b->ev[i].member != NULL);
		if (a->ev[i].member)
			assert_int_equal(a->ev[i].member->id, b->ev[i].member->id);
		assert_int_equal(a->ev[i].chat != NULL, b->ev[i].chat != NULL);
		if (a->ev[i].chat)
			assert_int_equal(a->ev[i].chat->seq, b->ev[i].chat->seq);
	}
}

static void assert_rooms_equal(const struct room *a, const struct room *b)
{
	assert_int_equal(a->exists, b->exists);
	assert_int_equal(a->ended, b->ended);
	assert_int_equal(a->seq, b->seq);
	assert_string_equal(a->id, b->id);
	assert_int_equal(a->title != NULL, b->title != NULL);
	if (a->title)
		assert_string_equal(a->title, b->title);
	assert_int_equal(a->created, b->created);
	assert_memory_equal(a->kh, b->kh, 32);
	assert_int_equal(a->nmembers, b->nmembers);
	assert_int_equal(a->present, b->present);
	for (size_t i = 0; i < a->nmembers; i++) {
		const struct room_member *x = &a->members[i], *y = &b->members[i];
		assert_int_equal(x->id, y->id);
		assert_string_equal(x->name, y->name);
		assert_int_equal(x->role, y->role);
		assert_int_equal(x->present, y->present);
		assert_int_equal(x->online, y->online);
		assert_int_equal(x->epoch, y->epoch);
		assert_int_equal(x->joined_ts, y->joined_ts);
		assert_int_equal(x->left_ts, y->left_ts);
		assert_int_equal(x->messages, y->messages);
		assert_int_equal(x->turns, y->turns);
		assert_int_equal(x->speak_ms, y->speak_ms);
	}
	assert_int_equal(a->nhands, b->nhands);
	for (size_t i = 0; i < a->nhands; i++) {
		const struct room_hand *x = &a->hands[i], *y = &b->hands[i];
		assert_int_equal(x->member, y->member);
		assert_int_equal(x->type, y->type);
		assert_int_equal(x->raised, y->raised);
		assert_int_equal(x->raised_ts, y->raised_ts);
		assert_int_equal(x->pin, y->pin);
		assert_int_equal(x->pinned, y->pinned);
	}
	size_t qa[256], qb[256];
	assert_true(a->nhands <= 256);
	assert_int_equal(room_queue(a, qa, 256), room_queue(b, qb, 256));
	assert_memory_equal(qa, qb, a->nhands * sizeof(qa[0]));
	assert_int_equal(a->policy, b->policy);
	assert_int_equal(a->timer_s, b->timer_s);
	assert_int_equal(a->timer_action, b->timer_action);
	assert_int_equal(a->floor.member, b->floor.member);
	assert_int_equal(a->floor.turn, b->floor.turn);
	assert_int_equal(a->floor.since, b->floor.since);
	assert_int_equal(a->floor.deadline, b->floor.deadline);
	assert_int_equal(a->floor.warned, b->floor.warned);
	assert_int_equal(a->floor.expired, b->floor.expired);
	assert_int_equal(a->chat_n, b->chat_n);
	for (unsigned i = 0; i < a->chat_n; i++) {
		const struct room_chat *x = room_recent_chat(a, i), *y = room_recent_chat(b, i);
		assert_int_equal(x->seq, y->seq);
		assert_int_equal(x->ts, y->ts);
		assert_int_equal(x->from, y->from);
		assert_string_equal(x->text, y->text);
	}
}

/* What must hold after every record, whatever it was. */
static void assert_room_invariants(const struct room *r)
{
	size_t present = 0;
	for (size_t i = 0; i < r->nmembers; i++) {
		const struct room_member *m = &r->members[i];
		if (i)
			assert_true(r->members[i - 1].id < m->id);
		assert_true(m->id <= r->seq);
		assert_ptr_equal(room_member(r, m->id), m);
		assert_true(!m->online || m->present);
		assert_non_null(m->name);
		long n = (long)strlen(m->name);
		assert_true(n > 0 && n <= 4 * ROOM_NAME_MAX);
		present += m->present;
	}
	assert_int_equal(present, r->present);
	for (size_t i = 0; i < r->nhands; i++) {
		const struct room_member *m = room_member(r, r->hands[i].member);
		assert_non_null(m);
		assert_true(m->present); /* leaving removes the hand */
		assert_true(r->hands[i].type <= ROOM_HAND_NEW);
		for (size_t j = 0; j < i; j++)
			assert_true(r->hands[j].member != r->hands[i].member);
	}
	if (r->floor.member) {
		const struct room_member *m = room_member(r, r->floor.member);
		assert_non_null(m);
		assert_true(m->present);
		assert_true(m->turns > 0);
		assert_true(r->floor.turn <= r->seq);
	}
	assert_true(r->policy <= ROOM_POLICY_LEAST_TIME);
	assert_true(r->timer_s <= 3600);
	assert_true(r->chat_n <= ROOM_RECENT_CHAT);
	for (unsigned i = 0; i < r->chat_n; i++) {
		const struct room_chat *c = room_recent_chat(r, i);
		assert_non_null(c->text);
		assert_true(strlen(c->text) > 0);
		assert_non_null(room_member(r, c->from));
		if (i)
			assert_true(room_recent_chat(r, i - 1)->seq < c->seq);
	}
}

static void test_same_records_give_the_same_state_in_two_rooms(void **state)
{
	(void)state;
	enum { N = 4000 };
	struct room a, b;
	struct room_fx fa, fb;
	uint64_t s = 0x9e3779b97f4a7c15ull;
	int64_t ts = 1700000000000;
	unsigned accepted = 0, events = 0, kinds[64] = {0};
	room_init(&a);
	room_init(&b);
	for (uint64_t seq = 1; seq <= N; seq++) {
		char *keep;
		struct room_cmd c = seq == 3 ? (struct room_cmd){.kind = ROOM_CREATE, .id = ROOM_ID,
								  .id_len = 16, .text = "T",
								  .text_len = 1, .has_kh = true}
					     : random_cmd(&s, &a, seq, &keep);
		if (seq == 3) {
			keep = NULL;
			memcpy(c.kh, KH, 32);
		}
		ts += (int64_t)(rng(&s) % 5000);
		int ra = room_apply(&a, seq, ts, &c, &fa);
		int rb = room_apply(&b, seq, ts, &c, &fb);
		free(keep);
		assert_int_equal(ra, fa.err);
		assert_int_equal(ra, rb);
		assert_fx_equal(&fa, &fb);
		accepted += ra == 0;
		events += fa.nev;
		for (unsigned i = 0; i < fa.nev; i++)
			kinds[fa.ev[i].kind < 64 ? fa.ev[i].kind : 0]++;
		assert_room_invariants(&a);
		if (seq % 250 == 0)
			assert_rooms_equal(&a, &b);
	}
	assert_rooms_equal(&a, &b);
	/* the sequence exercised something */
	assert_true(a.exists);
	assert_true(accepted > N / 4);
	assert_true(events > N / 5);
	assert_true(a.nmembers > 50);
	assert_int_equal(a.chat_n, ROOM_RECENT_CHAT);
	for (int k = ROOM_EV_JOINED; k <= ROOM_EV_TIMER; k++)
		if (!kinds[k])
			fail_msg("the sequence never produced event kind %d", k);
	room_deinit(&a);
	room_deinit(&b);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_create_sets_id_title_key_and_time),
		T(test_double_create_is_rejected_and_keeps_the_first),
		T(test_create_with_a_bad_id_or_no_key_hash_is_rejected),
		T(test_records_before_create_are_not_found),
		T(test_join_gives_the_member_the_seq_of_its_record_as_id),
		T(test_join_with_matching_key_hash_is_facilitator),
		T(test_join_with_wrong_key_hash_is_forbidden),
		T(test_members_are_found_by_id_in_join_order),
		T(test_name_empty_after_trim_is_invalid_name),
		T(test_name_of_41_characters_is_too_long),
		T(test_name_limit_counts_characters_after_trimming),
		T(test_name_with_invalid_utf8_is_rejected),
		T(test_name_with_control_characters_is_invalid_name),
		T(test_chat_stores_trimmed_text_with_its_seq_and_time),
		T(test_chat_empty_after_trim_is_empty),
		T(test_chat_over_2000_characters_is_too_long),
		T(test_chat_limit_counts_characters_after_trimming),
		T(test_chat_with_invalid_utf8_or_controls_is_rejected),
		T(test_chat_ring_keeps_the_last_50_in_order),
		T(test_chat_from_unknown_or_left_member_is_not_joined),
		T(test_chat_from_away_member_is_accepted),
		T(test_detach_marks_member_away),
		T(test_detach_with_stale_epoch_is_ignored),
		T(test_attach_bumps_epoch_and_announces_back),
		T(test_attach_of_unknown_or_left_member_is_invalid_token),
		T(test_leave_announces_left_and_updates_present_count),
		T(test_leave_twice_is_not_joined_for_a_request_and_silent_for_a_timer),
		T(test_leave_with_stale_epoch_is_ignored),
		T(test_timeout_leave_is_ignored_while_online),
		T(test_rejected_record_leaves_state_unchanged),
		T(test_same_records_give_the_same_state_in_two_rooms),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
