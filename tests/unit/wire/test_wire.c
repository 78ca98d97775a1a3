/*
 * test_wire.c — wire/: requests, replies, events and log records in msgpack.
 *
 * Inputs are built with msgpack-c's own packer (not with wire.c), outputs
 * are read back with msgpack-c's unpacker and checked key by key against
 * proto/PROTOCOL.md, so a bug in the codec cannot hide behind itself.
 *
 * The test vectors in proto/vectors/ are read at run time (tests run from
 * the repository root; the path is also derived from __FILE__): every client
 * vector must decode with wire_decode_req to exactly the fields in its JSON,
 * and the server vectors (srv-*.json) pin the exact bytes the C encoder sends
 * for a fixed set of messages, so the JS client's tests and this one agree on
 * the same bytes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <jansson.h>
#include <msgpack.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "room/room.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/frame.h"
#include "wire/wire.h"
#include "wire/wire_int.h"

#define ROOM_ID "q3Xv9LmZ0aB-_k2T"
#define TOKEN "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"

#define assert_err(got, want)                                                              \
	do {                                                                               \
		int got_ = (got), want_ = (want);                                          \
		if (got_ != want_)                                                         \
			fail_msg("%s: got %d (%s), want %d (%s)", #got, got_,              \
				 got_ ? pl_err_code(got_) : "ok", want_,                   \
				 want_ ? pl_err_code(want_) : "ok");                       \
	} while (0)

/* ---- building msgpack input with msgpack-c ------------------------------ */

enum vt { V_STR = 1, V_STRN, V_UINT, V_INT, V_NIL, V_BOOL, V_BIN, V_ARR, V_MAP, V_FLOAT };

struct v {
	enum vt t;
	const char *s;
	size_t n;
	uint64_t u;
	int64_t i;
};

#define S(x) ((struct v){.t = V_STR, .s = (x)})
#define SN(x, len) ((struct v){.t = V_STRN, .s = (x), .n = (len)})
#define U(x) ((struct v){.t = V_UINT, .u = (x)})
#define I(x) ((struct v){.t = V_INT, .i = (x)})
#define NIL ((struct v){.t = V_NIL})
#define BOOL(x) ((struct v){.t = V_BOOL, .u = (x)})
#define BIN(x, len) ((struct v){.t = V_BIN, .s = (const char *)(x), .n = (len)})
#define ARR ((struct v){.t = V_ARR})
#define MAP ((struct v){.t = V_MAP})
#define FLT ((struct v){.t = V_FLOAT})

static void pack_v(msgpack_packer *pk, struct v v)
{
	switch (v.t) {
	case V_STR:
		v.n = strlen(v.s);
		/* fall through */
	case V_STRN:
		msgpack_pack_str(pk, v.n);
		msgpack_pack_str_body(pk, v.s, v.n);
		break;
	case V_UINT: msgpack_pack_uint64(pk, v.u); break;
	case V_INT: msgpack_pack_int64(pk, v.i); break;
	case V_NIL: msgpack_pack_nil(pk); break;
	case V_BOOL: v.u ? msgpack_pack_true(pk) : msgpack_pack_false(pk); break;
	case V_BIN:
		msgpack_pack_bin(pk, v.n);
		msgpack_pack_bin_body(pk, v.s, v.n);
		break;
	case V_ARR: msgpack_pack_array(pk, 0); break;
	case V_MAP: msgpack_pack_map(pk, 0); break;
	case V_FLOAT: msgpack_pack_double(pk, 1.0); break;
	}
}

/* The fixture: one input buffer and one unpacked that decoded views borrow. */
struct fix {
	msgpack_sbuffer sb;
	msgpack_packer pk;
	msgpack_unpacked u;
	uint8_t *copy; /* the bytes u borrows from */
	struct wire_req req;
	bool has_id;
};

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));
	msgpack_sbuffer_init(&f->sb);
	msgpack_packer_init(&f->pk, &f->sb, msgpack_sbuffer_write);
	msgpack_unpacked_init(&f->u);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;
	msgpack_sbuffer_destroy(&f->sb);
	msgpack_unpacked_destroy(&f->u);
	free(f->copy);
	free(f);
	return 0;
}

/* msg(f, "t", S("join"), "id", U(1), ..., NULL): one map into f->sb. */
static void msg(struct fix *f, ...)
{
	va_list ap, ap2;
	size_t pairs = 0;
	msgpack_sbuffer_clear(&f->sb);
	va_start(ap, f);
	va_copy(ap2, ap);
	while (va_arg(ap, const char *)) {
		(void)va_arg(ap, struct v);
		pairs++;
	}
	va_end(ap);
	msgpack_pack_map(&f->pk, pairs);
	const char *k;
	while ((k = va_arg(ap2, const char *))) {
		pack_v(&f->pk, S(k));
		pack_v(&f->pk, va_arg(ap2, struct v));
	}
	va_end(ap2);
}

static int decode_bytes(struct fix *f, const void *p, size_t n)
{
	/* an exact-size copy: a read past n is caught by ASan. The unpacked
	 * borrows from it, so it is kept until the next decode. */
	free(f->copy);
	f->copy = malloc(n ? n : 1);
	memcpy(f->copy, p, n);
	f->has_id = true; /* must be reset by the decoder */
	return wire_decode_req(&f->u, f->copy, n, &f->req, &f->has_id);
}

static int decode(struct fix *f)
{
	return decode_bytes(f, f->sb.data, f->sb.size);
}

static bool str_is(const msgpack_object *o, const char *s)
{
	return o->type == MSGPACK_OBJECT_STR && o->via.str.size == strlen(s) &&
	       !memcmp(o->via.str.ptr, s, o->via.str.size);
}

static void assert_view(struct wire_str s, const char *want)
{
	if (!want) {
		assert_int_equal(s.n, 0);
		return;
	}
	assert_int_equal(s.n, strlen(want));
	assert_memory_equal(s.p, want, s.n);
}

/* ---- strings: the short-string path writes what msgpack-c would ------- */

static void test_pack_strn_writes_msgpack_c_bytes_at_every_length(void **state)
{
	(void)state;
	static const size_t lens[] = {0, 1, 30, 31, 32, 33, 255, 256, 65535, 65536};
	char *text = malloc(65536);
	assert_non_null(text);
	for (size_t i = 0; i < 65536; i++)
		text[i] = (char)('a' + i % 26);
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		struct enc e;
		wire__enc_init(&e, 0);
		wire__pack_strn(&e.pk, text, lens[i]);
		wire__pack_str(&e.pk, "k"); /* and one after it, from a literal */
		msgpack_sbuffer sb;
		msgpack_sbuffer_init(&sb);
		msgpack_packer pk;
		msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
		msgpack_pack_str(&pk, lens[i]);
		msgpack_pack_str_body(&pk, text, lens[i]);
		msgpack_pack_str(&pk, 1);
		msgpack_pack_str_body(&pk, "k", 1);
		assert_false(e.oom);
		assert_int_equal(e.b.len, sb.size);
		assert_memory_equal(buf_data(&e.b), sb.data, sb.size);
		msgpack_sbuffer_destroy(&sb);
		buf_deinit(&e.b);
	}
	free(text);
	/* an absent text (NULL, 0) is the empty string */
	struct enc e;
	wire__enc_init(&e, 0);
	wire__pack_strn(&e.pk, NULL, 0);
	assert_int_equal(e.b.len, 1);
	assert_int_equal(buf_data(&e.b)[0], 0xa0);
	buf_deinit(&e.b);
}

/* ---- requests: each type ----------------------------------------------- */

static void test_decode_join(void **state)
{
	struct fix *f = *state;
	msg(f, "t", S("join"), "id", U(1), "room", S(ROOM_ID), "name", S("Ada"), NULL);
	assert_err(decode(f), 0);
	assert_true(f->has_id);
	assert_int_equal(f->req.type, WIRE_JOIN);
	assert_int_equal(f->req.id, 1);
	assert_view(f->req.room, ROOM_ID);
	assert_view(f->req.name, "Ada");
	assert_view(f->req.key, NULL);
	assert_view(f->req.token, NULL);
	assert_view(f->req.text, NULL);
}

static void test_decode_join_with_key(void **state)
{
	struct fix *f = *state;
	msg(f, "name", S("Grace Hopper"), "key", S("Jf8sQ2m_Vx0LpR4tYb7nWe"), "room",
	    S(ROOM_ID), "id", U(2), "t", S("join"), NULL); /* any key order */
	assert_err(decode(f), 0);
	assert_int_equal(f->req.type, WIRE_JOIN);
	assert_int_equal(f->req.id, 2);
	assert_view(f->req.name, "Grace Hopper");
	assert_view(f->req.key, "Jf8sQ2m_Vx0LpR4tYb7nWe");
}

static void test_decode_resume(void **state)
{
	struct fix *f = *state;
	msg(f, "t", S("resume"), "id", U(4), "room", S(ROOM_ID), "member", U(7), "token",
	    S(TOKEN), "seq", U(1234), NULL);
	assert_err(decode(f), 0);
	assert_int_equal(f->req.type, WIRE_RESUME);
	assert_int_equal(f->req.id, 4);
	assert_view(f->req.room, ROOM_ID);
	assert_int_equal(f->req.member, 7);
	assert_view(f->req.token, TOKEN);
	assert_int_equal(f->req.seq, 1234);
	/* seq 0: a client that has seen nothing yet */
	msg(f, "t", S("resume"), "id", U(4), "room", S(ROOM_ID), "member", U(UINT64_MAX),
	    "token", S(TOKEN), "seq", U(0), NULL);
	assert_err(decode(f), 0);
	assert_int_equal(f->req.member, UINT64_MAX);
	assert_int_equal(f->req.seq, 0);
}

static void test_decode_chat(void **state)
{
	struct fix *f = *state;
	msg(f, "t", S("chat"), "id", U(5), "text", S("Zo\xc3\xab \xf0\x9f\x8d\xb2\nsecond line"),
	    NULL);
	assert_err(decode(f), 0);
	assert_int_equal(f->req.type, WIRE_CHAT);
	assert_int_equal(f->req.id, 5);
	assert_view(f->req.text, "Zo\xc3\xab \xf0\x9f\x8d\xb2\nsecond line");
}

static void test_decode_leave_and_ping(void **state)
{
	struct fix *f = *state;
	msg(f, "t", S("leave"), "id", U(6), NULL);
	assert_err(decode(f), 0);
	assert_int_equal(f->req.type, WIRE_LEAVE);
	assert_int_equal(f->req.id, 6);
	msg(f, "t", S("ping"), "id", U(7), NULL);
	assert_err(decode(f), 0);
	assert_int_equal(f->req.type, WIRE_PING);
	assert_int_equal(f->req.id, 7);
}

static void test_decode_raise_maps_the_hand_type(void **state)
{
	struct fix *f = *state;
	static const struct {
		const char *name;
		uint32_t type;
	} types[] = {{"clarify", ROOM_HAND_CLARIFY}, {"reply", ROOM_HAND_REPLY},
		     {"new", ROOM_HAND_NEW}};
	for (size_t i = 0; i < 3; i++) {
		msg(f, "t", S("raise"), "id", U(20), "type", S(types[i].name), NULL);
		assert_err(decode(f), 0);
		assert_int_equal(f->req.type, WIRE_RAISE);
		assert_int_equal(f->req.arg, types[i].type);
	}
	msg(f, "t", S("raise"), "id", U(20), "type", S("urgent"), NULL);
	assert_err(decode(f), PL_EBADREQ);
	assert_true(f->has_id);
	msg(f, "t", S("raise"), "id", U(20), "type", U(1), NULL);
	assert_err(decode(f), PL_EBADREQ);
	msg(f, "t", S("raise"), "id", U(20), NULL);
	assert_err(decode(f), PL_EBADREQ);
}

static void test_decode_lower_and_give_take_an_optional_member(void **state)
{
	struct fix *f = *state;
	static const char *const types[] = {"lower", "give"};
	static const enum wire_req_type want[] = {WIRE_LOWER, WIRE_GIVE};
	for (int i = 0; i < 2; i++) {
		msg(f, "t", S(types[i]), "id", U(21), NULL);
		assert_err(decode(f), 0);
		assert_int_equal(f->req.type, want[i]);
		assert_false(f->req.has_member);
		msg(f, "t", S(types[i]), "id", U(21), "member", U(9), NULL);
		assert_err(decode(f), 0);
		assert_true(f->req.has_member);
		assert_int_equal(f->req.member, 9);
		msg(f, "t", S(types[i]), "id", U(21), "member", S("9"), NULL);
		assert_err(decode(f), PL_EBADREQ);
	}
}

static void test_decode_clear_hands_take_and_yield_need_no_fields(void **state)
{
	struct fix *f = *state;
	static const char *const types[] = {"clear_hands", "take", "yield"};
	static const enum wire_req_type want[] = {WIRE_CLEAR_HANDS, WIRE_TAKE, WIRE_YIELD};
	for (int i = 0; i < 3; i++) {
		msg(f, "t", S(types[i]), "id", U(22), NULL);
		assert_err(decode(f), 0);
		assert_int_equal(f->req.type, want[i]);
		assert_int_equal(f->req.id, 22);
	}
}

static void test_decode_move_needs_member_and_a_1_based_pos(void **state)
{
	struct fix *f = *state;
	msg(f, "t", S("move"), "id", U(23), "member", U(9), "pos", U(3), NULL);
	assert_err(decode(f), 0);
	assert_int_equal(f->req.type, WIRE_MOVE);
	assert_int_equal(f->req.member, 9);
	assert_int_equal(f->req.arg, 3);
	msg(f, "t", S("move"), "id", U(23), "member", U(9), "pos", U(1), NULL);
	assert_err(decode(f), 0);
	assert_int_equal(f->req.arg, 1);
	msg(f, "t", S("move"), "id", U(23), "member", U(9), "pos", U(0), NULL);
	assert_err(decode(f), PL_EBADREQ);
	msg(f, "t", S("move"), "id", U(23), "member", U(9), "pos", I(-1), NULL);
	assert_err(decode(f), PL_EBADREQ);
	msg(f, "t", S("move"), "id", U(23), "pos", U(2), NULL);
	assert_err(decode(f), PL_EBADREQ);
	msg(f, "t", S("move"), "id", U(23), "member", U(9), NULL);
	assert_err(decode(f), PL_EBADREQ);
	assert_true(f->has_id);
}

static void test_decode_policy_maps_the_policy_name(void **state)
{
	struct fix *f = *state;
	static const char *const names[] = {"fifo", "fewest_turns", "least_time"};
	static const uint32_t want[] = {ROOM_POLICY_FIFO, ROOM_POLICY_FEWEST_TURNS,
					ROOM_POLICY_LEAST_TIME};
	for (int i = 0; i < 3; i++) {
		msg(f, "t", S("policy"), "id", U(24), "policy", S(names[i]), NULL);
		assert_err(decode(f), 0);
		assert_int_equal(f->req.type, WIRE_POLICY);
		assert_int_equal(f->req.arg, want[i]);
	}
	msg(f, "t", S("policy"), "id", U(24), "policy", S("loudest"), NULL);
	assert_err(decode(f), PL_EBADREQ);
	msg(f, "t", S("policy"), "id", U(24), "policy", S("fifo\xff"), NULL);
	assert_err(decode(f), PL_EUTF8);
	msg(f, "t", S("policy"), "id", U(24), NULL);
	assert_err(decode(f), PL_EBADREQ);
}

static void test_decode_timer_takes_seconds_up_to_3600_and_an_action(void **state)
{
	struct fix *f = *state;
	msg(f, "t", S("timer"), "id", U(25), "seconds", U(90), NULL);
	assert_err(decode(f), 0);
	assert_int_equal(f->req.type, WIRE_TIMER);
	assert_int_equal(f->req.arg, 90);
	assert_int_equal(f->req.arg2, ROOM_TIMER_NOTICE); /* the default */
	msg(f, "t", S("timer"), "id", U(25), "seconds", U(3600), "action", S("next"), NULL);
	assert_err(decode(f), 0);
	assert_int_equal(f->req.arg, 3600);
	assert_int_equal(f->req.arg2, ROOM_TIMER_NEXT);
	msg(f, "t", S("timer"), "id", U(25), "seconds", U(0), "action", S("notice"), NULL);
	assert_err(decode(f), 0);
	assert_int_equal(f->req.arg, 0);
	assert_int_equal(f->req.arg2, ROOM_TIMER_NOTICE);
	msg(f, "t", S("timer"), "id", U(25), "seconds", U(3601), NULL);
	assert_err(decode(f), PL_EBADREQ);
	msg(f, "t", S("timer"), "id", U(25), "seconds", I(-5), NULL);
	assert_err(decode(f), PL_EBADREQ);
	msg(f, "t", S("timer"), "id", U(25), "seconds", U(60), "action", S("later"), NULL);
	assert_err(decode(f), PL_EBADREQ);
	msg(f, "t", S("timer"), "id", U(25), "action", S("next"), NULL);
	assert_err(decode(f), PL_EBADREQ);
	assert_true(f->has_id);
}

static void test_decode_lets_nul_through_as_valid_utf8(void **state)
{
	struct fix *f = *state;
	/* NUL is valid UTF-8; the room refuses it as a control character */
	msg(f, "t", S("chat"), "id", U(2), "text", SN("a\0b", 3), NULL);
	assert_err(decode(f), 0);
	assert_int_equal(f->req.text.n, 3);
	assert_memory_equal(f->req.text.p, "a\0b", 3);
}

static void test_decode_ignores_unknown_keys(void **state)
{
	struct fix *f = *state;
	msg(f, "t", S("chat"), "id", U(5), "text", S("hi"), "future", MAP, "x", FLT, "y", NIL,
	    "z", BIN("\xff\xfe", 2), NULL);
	assert_err(decode(f), 0);
	assert_view(f->req.text, "hi");
	/* a non-string key is an unknown key too */
	msgpack_sbuffer_clear(&f->sb);
	msgpack_pack_map(&f->pk, 3);
	pack_v(&f->pk, S("t")), pack_v(&f->pk, S("ping"));
	pack_v(&f->pk, S("id")), pack_v(&f->pk, U(9));
	pack_v(&f->pk, U(1)), pack_v(&f->pk, S("one"));
	assert_err(decode(f), 0);
	assert_int_equal(f->req.type, WIRE_PING);
}

static void test_decode_accepts_id_at_both_ends_of_its_range(void **state)
{
	struct fix *f = *state;
	msg(f, "t", S("ping"), "id", U(1), NULL);
	assert_err(decode(f), 0);
	assert_int_equal(f->req.id, 1);
	msg(f, "t", S("ping"), "id", U(UINT32_MAX), NULL);
	assert_err(decode(f), 0);
	assert_int_equal(f->req.id, UINT32_MAX);
}

/* ---- requests: errors -------------------------------------------------- */

static void test_decode_bytes_that_are_not_msgpack_are_corrupt(void **state)
{
	struct fix *f = *state;
	assert_err(decode_bytes(f, "", 0), PL_ECORRUPT);
	assert_false(f->has_id);
	assert_err(decode_bytes(f, "\xc1", 1), PL_ECORRUPT); /* never used */
	assert_err(decode_bytes(f, "\x82\xa1t", 3), PL_ECORRUPT); /* truncated map */
	assert_err(decode_bytes(f, "\xd9", 1), PL_ECORRUPT); /* truncated str8 */
	assert_err(decode_bytes(f, "{\"t\":\"ping\"}", 12), PL_ECORRUPT); /* JSON */
	assert_false(f->has_id);
}

/* A count or length that claims more than the message holds is refused
 * before msgpack-c would allocate for it. */
static void test_decode_claimed_sizes_past_the_message_are_corrupt(void **state)
{
	struct fix *f = *state;
	static const struct {
		const char *p;
		size_t n;
	} bad[] = {
		{"\xdf\xff\xff\xff\xff", 5},                 /* map32 of 4 G pairs */
		{"\xdd\xff\xff\xff\xff", 5},                 /* array32 */
		{"\xde\xff\xff", 3},                         /* map16 */
		{"\x8f", 1},                                 /* fixmap of 15 pairs */
		{"\x81\xa1t\xdd\x00\x10\x00\x00", 8},         /* {t: array of 1 M} */
		{"\x81\xa1t\xdb\xff\xff\xff\xff", 8},         /* {t: str32 of 4 GB} */
		{"\x81\xa1t\xc6\x00\x00\x10\x00", 8},         /* {t: bin32 of 4 KB} */
		{"\x81\xa1t\xc9\x00\x00\x10\x00\x01", 9},     /* {t: ext32} */
		{"\x81\xa1t\xd8\x01", 5},                     /* {t: fixext16}, cut */
		{"\x81\xa1t\xcf\x00\x00", 6},                 /* {t: uint64}, cut */
		{"\x81\xa1t\x9f\xc0\xc0", 6},                 /* {t: 15 nils}, 2 given */
		{"\x81\xa1t\xc1", 4},                         /* never used */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = decode_bytes(f, bad[i].p, bad[i].n);
		if (rc != PL_ECORRUPT)
			fail_msg("case %zu: got %d, want corrupt", i, rc);
		assert_false(f->has_id);
	}
}

/* Every msgpack type may appear as the value of an unknown key. */
static void test_decode_accepts_every_msgpack_type_in_unknown_keys(void **state)
{
	struct fix *f = *state;
	msgpack_packer *pk = &f->pk;
	static char big[300];
	memset(big, 'b', sizeof(big));
	msgpack_sbuffer_clear(&f->sb);
	msgpack_pack_map(pk, 2 + 17);
	pack_v(pk, S("t")), pack_v(pk, S("ping"));
	pack_v(pk, S("id")), pack_v(pk, U(31));
	pack_v(pk, S("x0")), msgpack_pack_int8(pk, -100);
	pack_v(pk, S("x1")), msgpack_pack_int16(pk, -30000);
	pack_v(pk, S("x2")), msgpack_pack_int32(pk, -2000000000);
	pack_v(pk, S("x3")), msgpack_pack_int64(pk, INT64_MIN);
	pack_v(pk, S("x4")), msgpack_pack_uint64(pk, UINT64_MAX);
	pack_v(pk, S("x5")), msgpack_pack_float(pk, 1.5f);
	pack_v(pk, S("x6")), msgpack_pack_double(pk, -2.25);
	pack_v(pk, S("x7")), pack_v(pk, SN(big, sizeof(big)));        /* str16 */
	pack_v(pk, S("x8")), pack_v(pk, BIN(big, sizeof(big)));       /* bin16 */
	pack_v(pk, S("x9")), msgpack_pack_ext(pk, 1, 5), msgpack_pack_ext_body(pk, "e", 1);
	pack_v(pk, S("xa")), msgpack_pack_ext(pk, 16, 5), msgpack_pack_ext_body(pk, big, 16);
	pack_v(pk, S("xb")), msgpack_pack_ext(pk, 3, -1), msgpack_pack_ext_body(pk, big, 3);
	pack_v(pk, S("xc")), msgpack_pack_ext(pk, 300, 7), msgpack_pack_ext_body(pk, big, 300);
	pack_v(pk, S("xd"));
	msgpack_pack_array(pk, 20); /* array16 of nils */
	for (int i = 0; i < 20; i++)
		msgpack_pack_nil(pk);
	pack_v(pk, S("xe"));
	msgpack_pack_map(pk, 20); /* map16, with non-string keys */
	for (int i = 0; i < 20; i++)
		msgpack_pack_int(pk, i), msgpack_pack_true(pk);
	pack_v(pk, S("xf")), pack_v(pk, ARR);
	pack_v(pk, S("xg")), pack_v(pk, MAP);
	assert_err(decode(f), 0);
	assert_int_equal(f->req.type, WIRE_PING);
	assert_int_equal(f->req.id, 31);
}

static void test_decode_trailing_bytes_are_corrupt(void **state)
{
	struct fix *f = *state;
	msg(f, "t", S("ping"), "id", U(7), NULL);
	pack_v(&f->pk, U(0)); /* a second value */
	assert_err(decode(f), PL_ECORRUPT);
	msg(f, "t", S("ping"), "id", U(7), NULL);
	msgpack_sbuffer_write(&f->sb, "\xc1", 1);
	assert_err(decode(f), PL_ECORRUPT);
}

static void test_decode_non_map_is_bad_request(void **state)
{
	struct fix *f = *state;
	static const struct v vals[] = {{.t = V_STR, .s = "ping"}, {.t = V_UINT, .u = 3},
					{.t = V_NIL}, {.t = V_ARR}, {.t = V_BOOL, .u = 1},
					{.t = V_BIN, .s = "x", .n = 1}};
	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		msgpack_sbuffer_clear(&f->sb);
		pack_v(&f->pk, vals[i]);
		assert_err(decode(f), PL_EBADREQ);
		assert_false(f->has_id);
	}
	msgpack_sbuffer_clear(&f->sb);
	msgpack_pack_array(&f->pk, 2);
	pack_v(&f->pk, S("t"));
	pack_v(&f->pk, S("ping"));
	assert_err(decode(f), PL_EBADREQ);
}

static void test_decode_missing_id_is_bad_request_without_id(void **state)
{
	struct fix *f = *state;
	msg(f, "t", S("ping"), NULL);
	assert_err(decode(f), PL_EBADREQ);
	assert_false(f->has_id);
	msg(f, NULL);
	assert_err(decode(f), PL_EBADREQ);
	assert_false(f->has_id);
}

static void test_decode_missing_or_non_string_t_is_bad_request_with_id(void **state)
{
	struct fix *f = *state;
	msg(f, "id", U(3), NULL);
	assert_err(decode(f), PL_EBADREQ);
	assert_true(f->has_id);
	assert_int_equal(f->req.id, 3);
	msg(f, "id", U(3), "t", U(1), NULL);
	assert_err(decode(f), PL_EBADREQ);
	assert_true(f->has_id);
	msg(f, "id", U(3), "t", NIL, NULL);
	assert_err(decode(f), PL_EBADREQ);
	assert_true(f->has_id);
}

static void test_decode_id_0_or_past_uint32_or_not_uint_is_bad_request(void **state)
{
	struct fix *f = *state;
	static const struct v ids[] = {
		{.t = V_UINT, .u = 0},
		{.t = V_UINT, .u = (uint64_t)UINT32_MAX + 1},
		{.t = V_UINT, .u = UINT64_MAX},
		{.t = V_INT, .i = -1},
		{.t = V_STR, .s = "1"},
		{.t = V_FLOAT},
		{.t = V_NIL},
		{.t = V_BOOL, .u = 1},
	};
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		msg(f, "t", S("ping"), "id", ids[i], NULL);
		assert_err(decode(f), PL_EBADREQ);
		assert_false(f->has_id); /* no id to answer to: the reply's id is nil */
	}
}

static void test_decode_unknown_type_is_unknown_type_with_id(void **state)
{
	struct fix *f = *state;
	static const char *const types[] = {"dance", "", "JOIN", "join ", "ok", "error"};
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		msg(f, "t", S(types[i]), "id", U(11), NULL);
		assert_err(decode(f), PL_EUNKNOWN);
		assert_true(f->has_id);
		assert_int_equal(f->req.id, 11);
	}
}

static void test_decode_wrong_field_type_is_bad_request_with_id(void **state)
{
	struct fix *f = *state;
	msg(f, "t", S("join"), "id", U(1), "room", U(5), "name", S("Ada"), NULL);
	assert_err(decode(f), PL_EBADREQ);
	assert_true(f->has_id);
	assert_int_equal(f->req.id, 1);
	msg(f, "t", S("join"), "id", U(1), "room", S(ROOM_ID), "name", BIN("Ada", 3), NULL);
	assert_err(decode(f), PL_EBADREQ);
	msg(f, "t", S("join"), "id", U(1), "room", S(ROOM_ID), "name", S("Ada"), "key", U(1),
	    NULL);
	assert_err(decode(f), PL_EBADREQ);
	msg(f, "t", S("chat"), "id", U(1), "text", NIL, NULL);
	assert_err(decode(f), PL_EBADREQ);
	msg(f, "t", S("chat"), "id", U(1), "text", ARR, NULL);
	assert_err(decode(f), PL_EBADREQ);
	msg(f, "t", S("resume"), "id", U(1), "room", S(ROOM_ID), "member", S("7"), "token",
	    S(TOKEN), "seq", U(1), NULL);
	assert_err(decode(f), PL_EBADREQ);
	msg(f, "t", S("resume"), "id", U(1), "room", S(ROOM_ID), "member", U(7), "token",
	    S(TOKEN), "seq", I(-1), NULL);
	assert_err(decode(f), PL_EBADREQ);
	msg(f, "t", S("resume"), "id", U(1), "room", S(ROOM_ID), "member", FLT, "token",
	    S(TOKEN), "seq", U(1), NULL);
	assert_err(decode(f), PL_EBADREQ);
	msg(f, "t", S("resume"), "id", U(1), "room", S(ROOM_ID), "member", U(7), "token",
	    BIN(TOKEN, 8), "seq", U(1), NULL);
	assert_err(decode(f), PL_EBADREQ);
	assert_true(f->has_id);
}

static void test_decode_invalid_utf8_in_a_string_is_invalid_utf8(void **state)
{
	struct fix *f = *state;
	msg(f, "t", S("join"), "id", U(1), "room", S(ROOM_ID), "name", S("Ada\xff"), NULL);
	assert_err(decode(f), PL_EUTF8);
	assert_true(f->has_id);
	assert_int_equal(f->req.id, 1);
	msg(f, "t", S("join"), "id", U(1), "room", S("\xc0\xaf"), "name", S("Ada"), NULL);
	assert_err(decode(f), PL_EUTF8);
	msg(f, "t", S("join"), "id", U(1), "room", S(ROOM_ID), "name", S("Ada"), "key",
	    S("\xed\xa0\x80"), NULL);
	assert_err(decode(f), PL_EUTF8);
	msg(f, "t", S("chat"), "id", U(2), "text", S("cut \xe2\x82"), NULL);
	assert_err(decode(f), PL_EUTF8);
	msg(f, "t", S("resume"), "id", U(3), "room", S(ROOM_ID), "member", U(7), "token",
	    S("\xf4\x90\x80\x80"), "seq", U(1), NULL);
	assert_err(decode(f), PL_EUTF8);
	assert_true(f->has_id);
}

static void test_decode_missing_required_fields_is_bad_request_with_id(void **state)
{
	struct fix *f = *state;
	msg(f, "t", S("join"), "id", U(1), "name", S("Ada"), NULL);
	assert_err(decode(f), PL_EBADREQ);
	assert_true(f->has_id);
	msg(f, "t", S("join"), "id", U(1), "room", S(ROOM_ID), NULL);
	assert_err(decode(f), PL_EBADREQ);
	msg(f, "t", S("chat"), "id", U(1), NULL);
	assert_err(decode(f), PL_EBADREQ);
	static const char *const fields[] = {"room", "member", "token", "seq"};
	for (int skip = 0; skip < 4; skip++) {
		struct v vals[4] = {S(ROOM_ID), U(7), S(TOKEN), U(1)};
		const char *k[4];
		for (int i = 0; i < 4; i++)
			k[i] = i == skip ? "ignored" : fields[i];
		msg(f, "t", S("resume"), "id", U(4), k[0], vals[0], k[1], vals[1], k[2], vals[2],
		    k[3], vals[3], NULL);
		assert_err(decode(f), PL_EBADREQ);
		assert_true(f->has_id);
		assert_int_equal(f->req.id, 4);
	}
}

/* ---- log records ------------------------------------------------------- */

static const uint8_t KH[32] = {0xde, 0xad, 0xbe, 0xef, 4,  5,  6,  7,  8,  9,  10,
			       11,   12,   13,   14,   15, 16, 17, 18, 19, 20, 21,
			       22,   23,   24,   25,   26, 27, 28, 29, 30, 0xff};

static void assert_cmd_equal(const struct room_cmd *a, const struct room_cmd *b)
{
	assert_int_equal(a->kind, b->kind);
	assert_int_equal(a->origin, b->origin);
	assert_int_equal(a->member, b->member);
	assert_int_equal(a->has_epoch, b->has_epoch);
	assert_int_equal(a->epoch, b->epoch);
	assert_int_equal(a->reason, b->reason);
	assert_int_equal(a->id_len, b->id_len);
	if (a->id_len)
		assert_memory_equal(a->id, b->id, a->id_len);
	assert_int_equal(a->text_len, b->text_len);
	if (a->text_len)
		assert_memory_equal(a->text, b->text, a->text_len);
	assert_int_equal(a->has_kh, b->has_kh);
	if (a->has_kh)
		assert_memory_equal(a->kh, b->kh, 32);
	assert_int_equal(a->target, b->target);
	assert_int_equal(a->arg, b->arg);
	assert_int_equal(a->arg2, b->arg2);
	assert_int_equal(a->has_device, b->has_device);
	if (a->has_device)
		assert_memory_equal(a->device, b->device, 16);
	assert_int_equal(a->has_token, b->has_token);
	if (a->has_token)
		assert_memory_equal(a->token, b->token, 16);
	if (a->kind == ROOM_PROMPT_OPEN) {
		assert_int_equal(a->pkind, b->pkind);
		assert_int_equal(a->reveal, b->reveal);
		assert_int_equal(a->anonymous, b->anonymous);
		assert_int_equal(a->nopts, b->nopts);
		unsigned n = a->pkind == ROOM_PROMPT_RATING ? 2 : a->nopts;
		for (unsigned i = 0; i < n; i++) {
			assert_int_equal(a->opts[i].n, b->opts[i].n);
			if (a->opts[i].n)
				assert_memory_equal(a->opts[i].p, b->opts[i].p, a->opts[i].n);
		}
	}
}

static void round_trip(struct fix *f, const struct room_cmd *c)
{
	struct buf b;
	struct room_cmd d;
	buf_init(&b);
	assert_err(wire_record_encode(&b, c), 0);
	assert_true(b.len > 0);
	assert_err(wire_record_decode(&f->u, buf_data(&b), b.len, &d), 0);
	assert_cmd_equal(c, &d);
	/* the record is one msgpack map with a string k, as PROTOCOL.md says */
	assert_int_equal(f->u.data.type, MSGPACK_OBJECT_MAP);
	buf_deinit(&b);
}

static void test_record_create_round_trips(void **state)
{
	struct room_cmd c = {.kind = ROOM_CREATE, .origin = 0xfedcba9876543210ull,
			     .id = ROOM_ID, .id_len = 16, .text = "Rust lunch", .text_len = 10,
			     .has_kh = true};
	memcpy(c.kh, KH, 32);
	round_trip(*state, &c);
	c.origin = 0;
	round_trip(*state, &c);
}

static void test_record_join_round_trips_with_and_without_key_hash(void **state)
{
	struct room_cmd c = {.kind = ROOM_JOIN, .origin = 1, .text = "Zo\xc3\xab \xf0\x9f\x8d\xb2",
			     .text_len = 9};
	round_trip(*state, &c);
	c.has_kh = true;
	memcpy(c.kh, KH, 32);
	round_trip(*state, &c);
	c.text = " spaces kept as sent ", c.text_len = 21;
	round_trip(*state, &c);
}

static void test_record_attach_round_trips(void **state)
{
	struct room_cmd c = {.kind = ROOM_ATTACH, .origin = 42, .member = 7};
	round_trip(*state, &c);
	c.member = UINT64_MAX;
	round_trip(*state, &c);
}

static void test_record_detach_round_trips_with_and_without_epoch(void **state)
{
	struct room_cmd c = {.kind = ROOM_DETACH, .member = 7};
	round_trip(*state, &c);
	c.has_epoch = true;
	round_trip(*state, &c); /* epoch 0 is an epoch */
	c.epoch = UINT32_MAX;
	round_trip(*state, &c);
}

static void test_record_leave_round_trips_for_each_reason(void **state)
{
	struct room_cmd c = {.kind = ROOM_LEAVE, .origin = 3, .member = 7, .reason = ROOM_LEFT};
	round_trip(*state, &c);
	c = (struct room_cmd){.kind = ROOM_LEAVE, .member = 9, .has_epoch = true, .epoch = 2,
			      .reason = ROOM_TIMEOUT};
	round_trip(*state, &c);
}

static void test_record_chat_round_trips(void **state)
{
	static char text[3000];
	memset(text, 'q', sizeof(text));
	struct room_cmd c = {.kind = ROOM_CHAT, .origin = 5, .member = 7,
			     .text = "line one\nline two", .text_len = 17};
	round_trip(*state, &c);
	c.text = text, c.text_len = sizeof(text);
	round_trip(*state, &c);
}

static void test_record_hand_and_floor_kinds_round_trip(void **state)
{
	const struct room_cmd cmds[] = {
		{.kind = ROOM_HAND_RAISE, .origin = 1, .member = 7, .arg = ROOM_HAND_NEW},
		{.kind = ROOM_HAND_RAISE, .origin = 1, .member = 7, .arg = ROOM_HAND_CLARIFY},
		{.kind = ROOM_HAND_LOWER, .origin = 2, .member = 7},
		{.kind = ROOM_HAND_LOWER, .origin = 2, .member = 7, .target = 9},
		{.kind = ROOM_HAND_CLEAR, .origin = 3, .member = 7},
		{.kind = ROOM_HAND_MOVE, .origin = 4, .member = 7, .target = 9, .arg = 2},
		{.kind = ROOM_HAND_MOVE, .origin = 4, .member = 7, .target = 9, .arg = 0},
		{.kind = ROOM_POLICY, .origin = 5, .member = 7, .arg = ROOM_POLICY_LEAST_TIME},
		{.kind = ROOM_FLOOR_GIVE, .origin = 6, .member = 7},
		{.kind = ROOM_FLOOR_GIVE, .origin = 6, .member = 7, .target = UINT64_MAX},
		{.kind = ROOM_FLOOR_TAKE, .origin = 7, .member = 7},
		{.kind = ROOM_FLOOR_YIELD, .origin = 8, .member = 9},
		{.kind = ROOM_TIMER, .origin = 9, .member = 7, .arg = 3600, .arg2 = ROOM_TIMER_NEXT},
		{.kind = ROOM_TIMER, .member = 7, .arg = 0, .arg2 = 0},
		{.kind = ROOM_EXPIRE, .target = 40, .arg = ROOM_EXPIRE_WARN},
		{.kind = ROOM_EXPIRE, .target = 40, .arg = ROOM_EXPIRE_TURN},
	};
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		round_trip(*state, &cmds[i]);
}

static void test_record_moderation_kinds_round_trip(void **state)
{
	const struct room_cmd cmds[] = {
		{.kind = ROOM_DELETE, .origin = 1, .member = 7, .target = 42},
		{.kind = ROOM_MUTE, .origin = 2, .member = 7, .target = 9, .arg = 1},
		{.kind = ROOM_MUTE, .origin = 2, .member = 7, .target = 9, .arg = 0},
		{.kind = ROOM_REMOVE, .origin = 3, .member = 7, .target = 9, .arg = 1},
		{.kind = ROOM_LOCK, .origin = 4, .member = 7, .arg = 1},
		{.kind = ROOM_CHAT_MODE, .origin = 5, .member = 7, .arg = 2, .arg2 = 30},
		{.kind = ROOM_ROLE, .origin = 6, .member = 7, .target = 9, .arg = 1},
		{.kind = ROOM_END, .origin = 7, .member = 7},
	};
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		round_trip(*state, &cmds[i]);
	/* a join with the browser's device hash */
	struct room_cmd j = {.kind = ROOM_JOIN, .origin = 1, .text = "Ada", .text_len = 3,
			     .has_device = true};
	for (int i = 0; i < 16; i++)
		j.device[i] = (uint8_t)(0xf0 + i);
	round_trip(*state, &j);
}

static void test_record_prompt_kinds_round_trip(void **state)
{
	struct room_cmd c = {.kind = ROOM_PROMPT_OPEN, .origin = 1, .member = 7,
			     .text = "Which borrow is wrong?", .text_len = 22,
			     .pkind = ROOM_PROMPT_SINGLE, .reveal = ROOM_REVEAL_CLOSED, .nopts = 3,
			     .arg = 120};
	c.opts[0] = (struct room_text){"first", 5};
	c.opts[1] = (struct room_text){"Zo\xc3\xab", 4};
	c.opts[2] = (struct room_text){"", 0};
	round_trip(*state, &c);
	c.pkind = ROOM_PROMPT_MULTI, c.anonymous = true, c.reveal = ROOM_REVEAL_LIVE, c.arg = 0;
	round_trip(*state, &c);
	/* a rating: nopts is the scale, opts the labels at both ends */
	c = (struct room_cmd){.kind = ROOM_PROMPT_OPEN, .origin = 1, .member = 7, .text = "How clear?",
			      .text_len = 10, .pkind = ROOM_PROMPT_RATING, .nopts = 5};
	c.opts[0] = (struct room_text){"muddy", 5};
	c.opts[1] = (struct room_text){"crystal", 7};
	round_trip(*state, &c);
	c = (struct room_cmd){.kind = ROOM_PROMPT_OPEN, .member = 7, .text = "Anything else?",
			      .text_len = 14, .pkind = ROOM_PROMPT_TEXT};
	round_trip(*state, &c);
	round_trip(*state, &(struct room_cmd){.kind = ROOM_PROMPT_CLOSE, .origin = 2, .member = 7,
					      .target = 40});
	/* answers: by a member, or anonymous by token (and then no member) */
	round_trip(*state, &(struct room_cmd){.kind = ROOM_ANSWER, .origin = 3, .member = 9,
					      .target = 40, .arg = 2});
	round_trip(*state, &(struct room_cmd){.kind = ROOM_ANSWER, .origin = 3, .member = 9,
					      .target = 41, .text = "more examples",
					      .text_len = 13});
	struct room_cmd a = {.kind = ROOM_ANSWER, .origin = 3, .target = 40, .arg = 5,
			     .has_token = true};
	for (int i = 0; i < 16; i++)
		a.token[i] = (uint8_t)(i * 11);
	round_trip(*state, &a);
}

/* An anonymous answer's record names no member, whatever the caller set. */
static void test_record_of_an_anonymous_answer_carries_no_member(void **state)
{
	struct fix *f = *state;
	struct room_cmd a = {.kind = ROOM_ANSWER, .origin = 3, .member = 9, .target = 40,
			     .arg = 1, .has_token = true}, d;
	struct buf b;
	buf_init(&b);
	assert_err(wire_record_encode(&b, &a), 0);
	assert_err(wire_record_decode(&f->u, buf_data(&b), b.len, &d), 0);
	assert_int_equal(d.member, 0);
	assert_true(d.has_token);
	const msgpack_object *m = &f->u.data;
	for (uint32_t i = 0; i < m->via.map.size; i++)
		assert_false(str_is(&m->via.map.ptr[i].key, "member"));
	buf_deinit(&b);
}

static void test_record_encode_appends_to_the_buffer(void **state)
{
	struct fix *f = *state;
	struct buf b;
	struct room_cmd a = {.kind = ROOM_ATTACH, .origin = 1, .member = 2}, d;
	struct room_cmd c = {.kind = ROOM_CHAT, .origin = 3, .member = 4, .text = "x",
			     .text_len = 1};
	buf_init(&b);
	assert_err(wire_record_encode(&b, &a), 0);
	size_t first = b.len;
	assert_err(wire_record_encode(&b, &c), 0);
	assert_true(b.len > first);
	assert_err(wire_record_decode(&f->u, buf_data(&b), first, &d), 0);
	assert_cmd_equal(&a, &d);
	assert_err(wire_record_decode(&f->u, buf_data(&b) + first, b.len - first, &d), 0);
	assert_cmd_equal(&c, &d);
	buf_deinit(&b);
}

/* Whatever the command, the encoder writes a well-formed record or fails. */
static void test_record_encode_never_writes_a_malformed_record(void **state)
{
	struct fix *f = *state;
	struct room_cmd cmds[] = {
		{.kind = ROOM_CREATE, .id = ROOM_ID, .id_len = 16, .text = "T", .text_len = 1},
		{.kind = ROOM_JOIN, .text = "", .text_len = 0},
		{.kind = ROOM_ATTACH},
		{.kind = ROOM_LEAVE, .member = 1, .has_kh = true},
		{.kind = ROOM_CHAT, .member = 1, .has_epoch = true, .epoch = 3},
	};
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		struct buf b;
		struct room_cmd d;
		buf_init(&b);
		int rc = wire_record_encode(&b, &cmds[i]);
		size_t len = b.len;
		if (rc == 0)
			rc = wire_record_decode(&f->u, buf_data(&b), b.len, &d) ? -1 : 0;
		else
			rc = len == 0 ? 1 : -2;
		buf_deinit(&b);
		if (rc == -1)
			fail_msg("record %zu (kind %d) encodes to bytes that do not decode", i,
				 cmds[i].kind);
		if (rc == -2)
			fail_msg("record %zu: a failed encode left %zu bytes", i, len);
		if (rc == 0)
			assert_int_equal(d.kind, cmds[i].kind);
	}
}

static int rec_decode(struct fix *f, struct room_cmd *c)
{
	return wire_record_decode(&f->u, (const uint8_t *)f->sb.data, f->sb.size, c);
}

static void test_record_decode_rejects_what_the_encoder_never_writes(void **state)
{
	struct fix *f = *state;
	struct room_cmd c;
	msgpack_sbuffer_clear(&f->sb);
	msgpack_sbuffer_write(&f->sb, "\xc1", 1);
	assert_err(rec_decode(f, &c), PL_ECORRUPT);
	msgpack_sbuffer_clear(&f->sb);
	pack_v(&f->pk, ARR);
	assert_err(rec_decode(f, &c), PL_ECORRUPT);
	msg(f, "member", U(1), NULL);
	assert_err(rec_decode(f, &c), PL_ECORRUPT); /* no k */
	msg(f, "k", S("explode"), "member", U(1), NULL);
	assert_err(rec_decode(f, &c), PL_ECORRUPT);
	msg(f, "k", U(3), "member", U(1), NULL);
	assert_err(rec_decode(f, &c), PL_ECORRUPT);
	msg(f, "k", S("join"), "name", S("Ada"), "kh", BIN(KH, 31), NULL);
	assert_err(rec_decode(f, &c), PL_ECORRUPT);
	msg(f, "k", S("join"), "name", S("Ada\xff"), NULL);
	assert_err(rec_decode(f, &c), PL_ECORRUPT);
	msg(f, "k", S("detach"), "member", U(1), "epoch", U((uint64_t)UINT32_MAX + 1), NULL);
	assert_err(rec_decode(f, &c), PL_ECORRUPT);
	msg(f, "k", S("chat"), "member", I(-1), "text", S("x"), NULL);
	assert_err(rec_decode(f, &c), PL_ECORRUPT);
	msg(f, "k", S("attach"), "member", U(1), NULL);
	msgpack_sbuffer_write(&f->sb, "\x00", 1);
	assert_err(rec_decode(f, &c), PL_ECORRUPT); /* trailing bytes */
	/* unknown keys are ignored: a newer writer may add some */
	msg(f, "k", S("attach"), "member", U(1), "o", U(2), "new", S("field"), NULL);
	assert_err(rec_decode(f, &c), 0);
	assert_int_equal(c.kind, ROOM_ATTACH);
	assert_int_equal(c.origin, 2);
}

/* ---- reading what the server sends ------------------------------------- */

/* Unpacks a frame's payload into u (which the caller destroys). */
static const msgpack_object *unpack_frame(msgpack_unpacked *u, const struct frame *f)
{
	assert_non_null(f);
	assert_int_equal(f->data[0], 0x82); /* one final binary frame, unmasked */
	size_t n, off = 0;
	const uint8_t *p = frame_payload(f, &n);
	assert_int_equal(f->len - n, n < 126 ? 2 : n < 65536 ? 4 : 10);
	assert_int_equal(msgpack_unpack_next(u, (const char *)p, n, &off), MSGPACK_UNPACK_SUCCESS);
	assert_int_equal(off, n);
	assert_int_equal(u->data.type, MSGPACK_OBJECT_MAP);
	return &u->data;
}

/* The value at key in map o; fails if absent. Keys must be unique strings. */
static const msgpack_object *mget(const msgpack_object *o, const char *key)
{
	assert_int_equal(o->type, MSGPACK_OBJECT_MAP);
	const msgpack_object *found = NULL;
	for (uint32_t i = 0; i < o->via.map.size; i++) {
		assert_int_equal(o->via.map.ptr[i].key.type, MSGPACK_OBJECT_STR);
		if (str_is(&o->via.map.ptr[i].key, key)) {
			if (found)
				fail_msg("key %s twice", key);
			found = &o->via.map.ptr[i].val;
		}
	}
	if (!found)
		fail_msg("no key %s", key);
	return found;
}

/* The map has these keys (NULL-terminated list); exactly these if exact. */
static void keys_in(const msgpack_object *o, bool exact, va_list ap)
{
	uint32_t n = 0;
	const char *k;
	while ((k = va_arg(ap, const char *))) {
		mget(o, k);
		n++;
	}
	if (exact)
		assert_int_equal(o->via.map.size, n);
}

static void assert_keys(const msgpack_object *o, ...)
{
	va_list ap;
	va_start(ap, o);
	keys_in(o, true, ap);
	va_end(ap);
}

/* For maps that grow with features (the snapshot, a member): at least. */
static void assert_has_keys(const msgpack_object *o, ...)
{
	va_list ap;
	va_start(ap, o);
	keys_in(o, false, ap);
	va_end(ap);
}

static void assert_str(const msgpack_object *o, const char *s)
{
	if (o->type != MSGPACK_OBJECT_STR)
		fail_msg("want string \"%s\", got type %d", s, o->type);
	if (!str_is(o, s))
		fail_msg("want \"%s\", got \"%.*s\"", s, (int)o->via.str.size, o->via.str.ptr);
}

static void assert_uint(const msgpack_object *o, uint64_t v)
{
	assert_int_equal(o->type, MSGPACK_OBJECT_POSITIVE_INTEGER);
	assert_int_equal(o->via.u64, v);
}

static void assert_bool(const msgpack_object *o, bool v)
{
	assert_int_equal(o->type, MSGPACK_OBJECT_BOOLEAN);
	assert_int_equal(o->via.boolean, v);
}

/* ---- a room to describe ------------------------------------------------- */

struct scene {
	struct room r;
	struct room_fx fx;
	uint64_t seq;
	int64_t ts;
};

static void scene_init(struct scene *s)
{
	room_init(&s->r);
	s->seq = 0;
	s->ts = 1700000000000;
	struct room_cmd c = {.kind = ROOM_CREATE, .id = ROOM_ID, .id_len = 16,
			     .text = "Rust lunch", .text_len = 10, .has_kh = true};
	memcpy(c.kh, KH, 32);
	s->seq = 1;
	assert_err(room_apply(&s->r, s->seq, s->ts, &c, &s->fx), 0);
}

/* Applies c at seq (0: the next one) and time ts (0: 100 ms later). */
static void scene_apply(struct scene *s, uint64_t seq, int64_t ts, struct room_cmd c)
{
	s->seq = seq ? seq : s->seq + 1;
	s->ts = ts ? ts : s->ts + 100;
	assert_err(room_apply(&s->r, s->seq, s->ts, &c, &s->fx), 0);
}

static uint64_t scene_join(struct scene *s, uint64_t seq, const char *name, bool fac)
{
	struct room_cmd c = {.kind = ROOM_JOIN, .origin = 1, .text = name,
			     .text_len = strlen(name), .has_kh = fac};
	memcpy(c.kh, KH, 32);
	scene_apply(s, seq, 0, c);
	return s->fx.member;
}

static void scene_chat(struct scene *s, uint64_t seq, int64_t ts, uint64_t from, const char *t)
{
	scene_apply(s, seq, ts,
		    (struct room_cmd){.kind = ROOM_CHAT, .origin = 1, .member = from, .text = t,
				      .text_len = strlen(t)});
}

/* The frame for the only event of the last record. */
static struct frame *scene_event(struct scene *s)
{
	assert_int_equal(s->fx.nev, 1);
	struct frame *f = wire_event(&s->r, s->seq, s->ts, s->fx.ev, 1);
	assert_non_null(f);
	assert_int_equal(f->seq, s->seq);
	return f;
}

static void assert_event_head(const msgpack_object *o, const char *t, uint64_t seq, int64_t ts)
{
	assert_str(mget(o, "t"), t);
	assert_uint(mget(o, "seq"), seq);
	assert_uint(mget(o, "ts"), (uint64_t)ts);
}

/* The value of key in map o, or NULL when the key is absent. */
static const msgpack_object *mfind(const msgpack_object *o, const char *key)
{
	assert_int_equal(o->type, MSGPACK_OBJECT_MAP);
	for (uint32_t i = 0; i < o->via.map.size; i++)
		if (str_is(&o->via.map.ptr[i].key, key))
			return &o->via.map.ptr[i].val;
	return NULL;
}

/* <member> = {id, name, role, online, turns, speak_ms, muted}, each of the
 * last five left out at its usual value (participant, true, 0, 0, false) */
static void assert_member_fields(const msgpack_object *o, uint64_t id, const char *name,
				 const char *role, bool online, uint32_t turns, int64_t speak_ms,
				 bool muted)
{
	assert_has_keys(o, "id", "name", NULL);
	assert_uint(mget(o, "id"), id);
	assert_str(mget(o, "name"), name);
	const msgpack_object *v = mfind(o, "role");
	if (strcmp(role, "participant"))
		assert_str(mget(o, "role"), role);
	else if (v)
		fail_msg("a participant's role is left out");
	v = mfind(o, "online");
	if (online && v)
		fail_msg("online: true is left out");
	if (!online)
		assert_bool(mget(o, "online"), false);
	v = mfind(o, "turns");
	if (turns)
		assert_uint(mget(o, "turns"), turns);
	else if (v)
		fail_msg("turns: 0 is left out");
	v = mfind(o, "speak_ms");
	if (speak_ms)
		assert_uint(mget(o, "speak_ms"), (uint64_t)speak_ms);
	else if (v)
		fail_msg("speak_ms: 0 is left out");
	v = mfind(o, "muted");
	if (muted)
		assert_bool(mget(o, "muted"), true);
	else if (v)
		fail_msg("muted: false is left out");
}

static void assert_member(const msgpack_object *o, const struct room_member *m)
{
	assert_member_fields(o, m->id, m->name, wire_role(m->role), m->online, m->turns,
			     m->speak_ms, m->muted);
}

static void assert_member_is(const msgpack_object *o, uint64_t id, const char *name,
			     const char *role, bool online)
{
	assert_member_fields(o, id, name, role, online, 0, 0, false);
}

static void test_event_joined_carries_the_member(void **state)
{
	(void)state;
	struct scene s;
	msgpack_unpacked u;
	scene_init(&s);
	msgpack_unpacked_init(&u);
	uint64_t ada = scene_join(&s, 7, "  Ada  ", false);
	struct frame *f = scene_event(&s);
	const msgpack_object *o = unpack_frame(&u, f);
	assert_keys(o, "t", "seq", "ts", "member", NULL);
	assert_event_head(o, "joined", 7, s.ts);
	assert_member_is(mget(o, "member"), ada, "Ada", "participant", true);
	frame_unref(f);
	scene_join(&s, 0, "Grace", true);
	f = scene_event(&s);
	o = unpack_frame(&u, f);
	assert_member_is(mget(o, "member"), s.seq, "Grace", "facilitator", true);
	frame_unref(f);
	msgpack_unpacked_destroy(&u);
	room_deinit(&s.r);
}

static void test_event_away_back_and_left_carry_the_member_id(void **state)
{
	(void)state;
	struct scene s;
	msgpack_unpacked u;
	scene_init(&s);
	msgpack_unpacked_init(&u);
	uint64_t ada = scene_join(&s, 0, "Ada", false);

	scene_apply(&s, 0, 0, (struct room_cmd){.kind = ROOM_DETACH, .member = ada});
	struct frame *f = scene_event(&s);
	const msgpack_object *o = unpack_frame(&u, f);
	assert_keys(o, "t", "seq", "ts", "member", NULL);
	assert_event_head(o, "away", s.seq, s.ts);
	assert_uint(mget(o, "member"), ada);
	frame_unref(f);

	scene_apply(&s, 0, 0, (struct room_cmd){.kind = ROOM_ATTACH, .origin = 1, .member = ada});
	f = scene_event(&s);
	o = unpack_frame(&u, f);
	assert_keys(o, "t", "seq", "ts", "member", NULL);
	assert_event_head(o, "back", s.seq, s.ts);
	assert_uint(mget(o, "member"), ada);
	frame_unref(f);

	scene_apply(&s, 0, 0, (struct room_cmd){.kind = ROOM_LEAVE, .origin = 1, .member = ada});
	f = scene_event(&s);
	o = unpack_frame(&u, f);
	assert_keys(o, "t", "seq", "ts", "member", "reason", NULL);
	assert_event_head(o, "left", s.seq, s.ts);
	assert_uint(mget(o, "member"), ada);
	assert_str(mget(o, "reason"), "left");
	frame_unref(f);

	uint64_t bob = scene_join(&s, 0, "Bob", false);
	scene_apply(&s, 0, 0, (struct room_cmd){.kind = ROOM_DETACH, .member = bob});
	scene_apply(&s, 0, 0,
		    (struct room_cmd){.kind = ROOM_LEAVE, .member = bob, .has_epoch = true,
				      .reason = ROOM_TIMEOUT});
	f = scene_event(&s);
	o = unpack_frame(&u, f);
	assert_event_head(o, "left", s.seq, s.ts);
	assert_uint(mget(o, "member"), bob);
	assert_str(mget(o, "reason"), "timeout");
	frame_unref(f);
	msgpack_unpacked_destroy(&u);
	room_deinit(&s.r);
}

static void test_event_chat_carries_sender_name_and_trimmed_text(void **state)
{
	(void)state;
	struct scene s;
	msgpack_unpacked u;
	scene_init(&s);
	msgpack_unpacked_init(&u);
	uint64_t ada = scene_join(&s, 0, "Ada", false);
	scene_chat(&s, 42, 1700000000123, ada, "  two\nlines  ");
	struct frame *f = scene_event(&s);
	const msgpack_object *o = unpack_frame(&u, f);
	assert_keys(o, "t", "seq", "ts", "from", "name", "text", NULL);
	assert_event_head(o, "chat", 42, 1700000000123);
	assert_uint(mget(o, "from"), ada);
	assert_str(mget(o, "name"), "Ada");
	assert_str(mget(o, "text"), "two\nlines");
	frame_unref(f);
	msgpack_unpacked_destroy(&u);
	room_deinit(&s.r);
}

static void test_event_frame_for_a_long_chat_has_a_16_bit_length(void **state)
{
	(void)state;
	struct scene s;
	msgpack_unpacked u;
	static char text[6001];
	scene_init(&s);
	msgpack_unpacked_init(&u);
	uint64_t ada = scene_join(&s, 0, "Ada", false);
	for (int i = 0; i < 2000; i++)
		memcpy(text + 3 * i, "\xe6\x97\xa5", 3);
	scene_chat(&s, 0, 0, ada, text);
	struct frame *f = scene_event(&s);
	assert_int_equal(f->data[1], 126);
	const msgpack_object *o = unpack_frame(&u, f);
	assert_int_equal(mget(o, "text")->via.str.size, 6000);
	frame_unref(f);
	msgpack_unpacked_destroy(&u);
	room_deinit(&s.r);
}

/* One record, several events: one frame {t: "batch", seq, ts, events}. */
static void test_event_batch_carries_every_event_of_one_record_in_order(void **state)
{
	(void)state;
	struct scene s;
	msgpack_unpacked u;
	scene_init(&s);
	msgpack_unpacked_init(&u);
	uint64_t grace = scene_join(&s, 0, "Grace", true);
	uint64_t ada = scene_join(&s, 0, "Ada", false);
	scene_apply(&s, 0, 0, (struct room_cmd){.kind = ROOM_HAND_RAISE, .origin = 1,
						.member = ada, .arg = ROOM_HAND_NEW});
	/* giving Ada the floor uses up her hand: the queue and the floor change */
	scene_apply(&s, 0, 0, (struct room_cmd){.kind = ROOM_FLOOR_GIVE, .origin = 1,
						.member = grace, .target = ada});
	assert_true(s.fx.nev >= 2);
	struct frame *f = wire_event(&s.r, s.seq, s.ts, s.fx.ev, s.fx.nev);
	assert_non_null(f);
	assert_int_equal(f->seq, s.seq);
	const msgpack_object *o = unpack_frame(&u, f);
	assert_keys(o, "t", "seq", "ts", "events", NULL);
	assert_event_head(o, "batch", s.seq, s.ts);
	const msgpack_object *evs = mget(o, "events");
	assert_int_equal(evs->type, MSGPACK_OBJECT_ARRAY);
	assert_int_equal(evs->via.array.size, s.fx.nev);
	static const char *const names[] = {[ROOM_EV_QUEUE] = "queue", [ROOM_EV_FLOOR] = "floor"};
	for (unsigned i = 0; i < s.fx.nev; i++) {
		const msgpack_object *e = &evs->via.array.ptr[i];
		assert_true(s.fx.ev[i].kind == ROOM_EV_QUEUE || s.fx.ev[i].kind == ROOM_EV_FLOOR);
		assert_event_head(e, names[s.fx.ev[i].kind], s.seq, s.ts);
		if (s.fx.ev[i].kind == ROOM_EV_QUEUE) {
			assert_str(mget(e, "policy"), "fifo");
			assert_int_equal(mget(e, "queue")->via.array.size, 0);
		} else {
			assert_uint(mget(mget(e, "floor"), "member"), ada);
			assert_uint(mget(mget(e, "floor"), "turn"), s.seq);
		}
	}
	frame_unref(f);
	msgpack_unpacked_destroy(&u);
	room_deinit(&s.r);
}

static void assert_snapshot(const msgpack_object *snap, const struct room *r)
{
	assert_has_keys(snap, "seq", "room", "members", "chat", "policy", "queue", "floor", "timer",
			NULL);
	assert_uint(mget(snap, "seq"), r->seq);
	const msgpack_object *room = mget(snap, "room");
	assert_has_keys(room, "id", "title", "created", "ended", NULL);
	assert_str(mget(room, "id"), r->id);
	assert_str(mget(room, "title"), r->title);
	assert_uint(mget(room, "created"), (uint64_t)r->created);
	assert_bool(mget(room, "ended"), r->ended);
	const msgpack_object *members = mget(snap, "members");
	assert_int_equal(members->type, MSGPACK_OBJECT_ARRAY);
	assert_int_equal(members->via.array.size, r->present);
	uint32_t k = 0;
	for (size_t i = 0; i < r->nmembers; i++) {
		const struct room_member *m = &r->members[i];
		if (!m->present)
			continue;
		assert_member(&members->via.array.ptr[k++], m);
	}
	const msgpack_object *chat = mget(snap, "chat");
	assert_int_equal(chat->type, MSGPACK_OBJECT_ARRAY);
	assert_int_equal(chat->via.array.size, r->chat_n);
	for (unsigned i = 0; i < r->chat_n; i++) {
		const struct room_chat *c = room_recent_chat(r, i);
		const msgpack_object *o = &chat->via.array.ptr[i];
		assert_keys(o, "seq", "ts", "from", "name", "text", NULL);
		assert_uint(mget(o, "seq"), c->seq);
		assert_uint(mget(o, "ts"), (uint64_t)c->ts);
		assert_uint(mget(o, "from"), c->from);
		assert_str(mget(o, "name"), room_member(r, c->from)->name);
		assert_str(mget(o, "text"), c->text);
	}
}

static void test_join_reply_carries_member_token_role_and_snapshot(void **state)
{
	(void)state;
	struct scene s;
	msgpack_unpacked u;
	char text[32];
	scene_init(&s);
	msgpack_unpacked_init(&u);
	uint64_t ada = scene_join(&s, 0, "Ada", false);
	uint64_t bob = scene_join(&s, 0, "Bob", false);
	for (int i = 0; i < 60; i++) {
		snprintf(text, sizeof(text), "message %d", i);
		scene_chat(&s, 0, 0, i % 3 ? ada : bob, text);
	}
	scene_apply(&s, 0, 0, (struct room_cmd){.kind = ROOM_DETACH, .member = bob});
	uint64_t eve = scene_join(&s, 0, "Eve", false);
	scene_apply(&s, 0, 0, (struct room_cmd){.kind = ROOM_LEAVE, .origin = 1, .member = eve});
	uint64_t grace = scene_join(&s, 0, "Grace", true);

	struct frame *f = wire_ok_join(77, &s.r, grace, TOKEN, NULL);
	assert_int_equal(f->seq, 0);
	const msgpack_object *o = unpack_frame(&u, f);
	assert_keys(o, "t", "id", "member", "token", "role", "snapshot", NULL);
	assert_str(mget(o, "t"), "ok");
	assert_uint(mget(o, "id"), 77);
	assert_uint(mget(o, "member"), grace);
	assert_str(mget(o, "token"), TOKEN);
	assert_str(mget(o, "role"), "facilitator");
	const msgpack_object *snap = mget(o, "snapshot");
	assert_snapshot(snap, &s.r);
	/* spelled out: present members in join order (Eve left, Bob is away),
	 * the new member included; the last 50 messages, oldest first */
	const msgpack_object *members = mget(snap, "members");
	assert_int_equal(members->via.array.size, 3);
	assert_member_is(&members->via.array.ptr[0], ada, "Ada", "participant", true);
	assert_member_is(&members->via.array.ptr[1], bob, "Bob", "participant", false);
	assert_member_is(&members->via.array.ptr[2], grace, "Grace", "facilitator", true);
	const msgpack_object *chat = mget(snap, "chat");
	assert_int_equal(chat->via.array.size, 50);
	assert_str(mget(&chat->via.array.ptr[0], "text"), "message 10");
	assert_str(mget(&chat->via.array.ptr[49], "text"), "message 59");
	assert_str(mget(&chat->via.array.ptr[0], "name"), "Ada"); /* 10 % 3 != 0 */
	assert_str(mget(&chat->via.array.ptr[2], "name"), "Bob"); /* 12 % 3 == 0 */
	assert_uint(mget(snap, "seq"), s.seq);
	assert_uint(mget(mget(snap, "room"), "created"), 1700000000000);
	assert_str(mget(mget(snap, "room"), "title"), "Rust lunch");
	frame_unref(f);
	msgpack_unpacked_destroy(&u);
	room_deinit(&s.r);
}

/* A join or resume answered with a snapshot encoded once (wire_snapshot)
 * is byte for byte the reply that encodes its own. */
static void test_shared_snapshot_gives_the_same_bytes(void **state)
{
	(void)state;
	struct scene s;
	scene_init(&s);
	uint64_t ada = scene_join(&s, 0, "Ada", false);
	scene_chat(&s, 0, 0, ada, "hello");
	uint64_t bob = scene_join(&s, 0, "Bob", true);
	struct buf snap;
	assert_int_equal(wire_snapshot(&s.r, &snap), 0);
	struct frame *own[2] = {wire_ok_join(3, &s.r, bob, TOKEN, NULL),
				wire_ok_resume(4, &s.r, ada, TOKEN, NULL, true, 0)};
	struct frame *shared[2] = {wire_ok_join(3, &s.r, bob, TOKEN, &snap),
				   wire_ok_resume(4, &s.r, ada, TOKEN, &snap, true, 0)};
	for (int i = 0; i < 2; i++) {
		assert_int_equal(own[i]->len, shared[i]->len);
		assert_memory_equal(own[i]->data, shared[i]->data, own[i]->len);
		frame_unref(own[i]);
		frame_unref(shared[i]);
	}
	buf_deinit(&snap);
	room_deinit(&s.r);
}

static void test_resume_reply_carries_replay_count_or_snapshot(void **state)
{
	(void)state;
	struct scene s;
	msgpack_unpacked u;
	scene_init(&s);
	msgpack_unpacked_init(&u);
	uint64_t ada = scene_join(&s, 0, "Ada", false);
	scene_chat(&s, 0, 0, ada, "hello");

	struct frame *f = wire_ok_resume(8, &s.r, ada, TOKEN, NULL, false, 3);
	const msgpack_object *o = unpack_frame(&u, f);
	assert_keys(o, "t", "id", "member", "role", "token", "seq", "replay", NULL);
	assert_str(mget(o, "t"), "ok");
	assert_uint(mget(o, "id"), 8);
	assert_uint(mget(o, "member"), ada);
	assert_str(mget(o, "role"), "participant");
	assert_str(mget(o, "token"), TOKEN);
	assert_uint(mget(o, "seq"), s.seq);
	assert_uint(mget(o, "replay"), 3);
	frame_unref(f);

	f = wire_ok_resume(9, &s.r, ada, TOKEN, NULL, true, 0);
	o = unpack_frame(&u, f);
	assert_keys(o, "t", "id", "member", "role", "token", "seq", "snapshot", NULL);
	assert_uint(mget(o, "seq"), s.seq);
	assert_snapshot(mget(o, "snapshot"), &s.r);
	frame_unref(f);
	msgpack_unpacked_destroy(&u);
	room_deinit(&s.r);
}

static void test_error_reply_has_code_and_message_and_nil_id_when_unknown(void **state)
{
	(void)state;
	msgpack_unpacked u;
	msgpack_unpacked_init(&u);
	struct frame *f = wire_error(12, true, PL_ETOOLONG, "name too long");
	const msgpack_object *o = unpack_frame(&u, f);
	assert_keys(o, "t", "id", "code", "msg", NULL);
	assert_str(mget(o, "t"), "error");
	assert_uint(mget(o, "id"), 12);
	assert_str(mget(o, "code"), "too_long");
	assert_str(mget(o, "msg"), "name too long");
	frame_unref(f);

	f = wire_error(12, false, PL_EBADREQ, NULL);
	o = unpack_frame(&u, f);
	assert_keys(o, "t", "id", "code", "msg", NULL);
	assert_int_equal(mget(o, "id")->type, MSGPACK_OBJECT_NIL);
	assert_str(mget(o, "code"), "bad_request");
	assert_str(mget(o, "msg"), pl_err_msg(PL_EBADREQ)); /* the default message */
	frame_unref(f);

	f = wire_error(1, true, PL_ENOMEM, NULL);
	o = unpack_frame(&u, f);
	assert_str(mget(o, "code"), "internal"); /* never an internal name */
	frame_unref(f);
	msgpack_unpacked_destroy(&u);
}

static void test_ok_replies_echo_the_id(void **state)
{
	(void)state;
	msgpack_unpacked u;
	msgpack_unpacked_init(&u);
	struct frame *f = wire_ok(UINT32_MAX);
	const msgpack_object *o = unpack_frame(&u, f);
	assert_keys(o, "t", "id", NULL);
	assert_str(mget(o, "t"), "ok");
	assert_uint(mget(o, "id"), UINT32_MAX);
	frame_unref(f);
	f = wire_ok_seq(5, 1ull << 40);
	o = unpack_frame(&u, f);
	assert_keys(o, "t", "id", "seq", NULL);
	assert_uint(mget(o, "seq"), 1ull << 40);
	frame_unref(f);
	f = wire_ok_ts(6, 1700000000123);
	o = unpack_frame(&u, f);
	assert_keys(o, "t", "id", "ts", NULL);
	assert_uint(mget(o, "ts"), 1700000000123);
	frame_unref(f);
	msgpack_unpacked_destroy(&u);
}

/* ---- proto/vectors ----------------------------------------------------- */

static const char *vectors_dir(void)
{
	static char dir[4096];
	if (access("proto/vectors", R_OK) == 0)
		return "proto/vectors";
	const char *file = __FILE__, *p = strstr(file, "tests/unit/wire/");
	if (p) {
		snprintf(dir, sizeof(dir), "%.*sproto/vectors", (int)(p - file), file);
		if (access(dir, R_OK) == 0)
			return dir;
	}
	fail_msg("cannot find proto/vectors (run from the repository root)");
	return NULL;
}

static json_t *load_vector(const char *path)
{
	json_error_t err;
	json_t *v = json_load_file(path, 0, &err);
	if (!v)
		fail_msg("%s:%d: %s", path, err.line, err.text);
	if (!json_is_string(json_object_get(v, "name")) ||
	    !json_is_string(json_object_get(v, "direction")) ||
	    !json_object_get(v, "json") || !json_is_string(json_object_get(v, "hex")))
		fail_msg("%s: not {name, direction, json, hex}", path);
	return v;
}

static uint8_t *unhex(const char *hex, size_t *n)
{
	size_t len = strlen(hex);
	assert_int_equal(len % 2, 0);
	uint8_t *p = malloc(len / 2 + 1);
	for (size_t i = 0; i < len / 2; i++) {
		unsigned b;
		if (sscanf(hex + 2 * i, "%2x", &b) != 1)
			fail_msg("bad hex at %zu", 2 * i);
		p[i] = (uint8_t)b;
	}
	*n = len / 2;
	return p;
}

static char *tohex(const uint8_t *p, size_t n)
{
	char *s = malloc(2 * n + 1);
	for (size_t i = 0; i < n; i++)
		sprintf(s + 2 * i, "%02x", p[i]);
	s[2 * n] = '\0';
	return s;
}

/* Is the msgpack value o exactly the JSON value j (the vectors' convention:
 * a bin is {"$bin": "<hex>"})? */
static bool same_value(const msgpack_object *o, const json_t *j)
{
	switch (json_typeof(j)) {
	case JSON_NULL: return o->type == MSGPACK_OBJECT_NIL;
	case JSON_TRUE: return o->type == MSGPACK_OBJECT_BOOLEAN && o->via.boolean;
	case JSON_FALSE: return o->type == MSGPACK_OBJECT_BOOLEAN && !o->via.boolean;
	case JSON_INTEGER: {
		json_int_t v = json_integer_value(j);
		if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
			return v >= 0 && o->via.u64 == (uint64_t)v;
		return o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER && o->via.i64 == v;
	}
	case JSON_REAL:
		return (o->type == MSGPACK_OBJECT_FLOAT64 || o->type == MSGPACK_OBJECT_FLOAT32) &&
		       o->via.f64 == json_real_value(j);
	case JSON_STRING:
		return o->type == MSGPACK_OBJECT_STR && o->via.str.size == json_string_length(j) &&
		       !memcmp(o->via.str.ptr, json_string_value(j), o->via.str.size);
	case JSON_ARRAY:
		if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size != json_array_size(j))
			return false;
		for (uint32_t i = 0; i < o->via.array.size; i++)
			if (!same_value(&o->via.array.ptr[i], json_array_get(j, i)))
				return false;
		return true;
	case JSON_OBJECT: {
		const json_t *bin = json_object_get(j, "$bin");
		if (bin && json_object_size(j) == 1) {
			size_t n;
			uint8_t *p = unhex(json_string_value(bin), &n);
			bool same = o->type == MSGPACK_OBJECT_BIN && o->via.bin.size == n &&
				    !memcmp(o->via.bin.ptr, p, n);
			free(p);
			return same;
		}
		if (o->type != MSGPACK_OBJECT_MAP || o->via.map.size != json_object_size(j))
			return false;
		for (uint32_t i = 0; i < o->via.map.size; i++) {
			const msgpack_object *k = &o->via.map.ptr[i].key;
			if (k->type != MSGPACK_OBJECT_STR)
				return false;
			char key[256];
			if (k->via.str.size >= sizeof(key))
				return false;
			memcpy(key, k->via.str.ptr, k->via.str.size);
			key[k->via.str.size] = '\0';
			const json_t *jv = json_object_get(j, key);
			if (!jv || !same_value(&o->via.map.ptr[i].val, jv))
				return false;
		}
		return true;
	}
	}
	return false;
}

static void assert_json_str(const json_t *j, const char *key, struct wire_str got)
{
	const json_t *v = json_object_get(j, key);
	if (!v) {
		assert_int_equal(got.n, 0);
		return;
	}
	assert_true(json_is_string(v));
	assert_int_equal(got.n, json_string_length(v));
	assert_memory_equal(got.p, json_string_value(v), got.n);
}

static void assert_json_uint(const json_t *j, const char *key, uint64_t got)
{
	const json_t *v = json_object_get(j, key);
	assert_int_equal(got, v ? (uint64_t)json_integer_value(v) : 0);
}

/* A named enum (hand type, policy, action) in the json, as the decoder maps it. */
static void assert_json_enum(const json_t *j, const char *key,
			     int (*lookup)(const struct wire_str *), uint32_t got)
{
	const json_t *v = json_object_get(j, key);
	if (!v)
		return;
	struct wire_str s = {json_string_value(v), json_string_length(v)};
	assert_int_equal(lookup(&s), got);
}

static void test_client_vectors_decode_to_their_json(void **state)
{
	struct fix *f = *state;
	const char *dir = vectors_dir();
	DIR *d = opendir(dir);
	assert_non_null(d);
	static const char *const tnames[] = {[WIRE_JOIN] = "join", [WIRE_RESUME] = "resume",
					     [WIRE_CHAT] = "chat", [WIRE_LEAVE] = "leave",
					     [WIRE_PING] = "ping"};
	bool seen[WIRE_PING + 1] = {false};
	int nclient = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);
		if (len < 5 || strcmp(e->d_name + len - 5, ".json"))
			continue;
		char path[8192];
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		json_t *v = load_vector(path);
		if (strcmp(json_string_value(json_object_get(v, "direction")), "client")) {
			json_decref(v);
			continue;
		}
		nclient++;
		const json_t *j = json_object_get(v, "json");
		size_t n;
		uint8_t *bytes = unhex(json_string_value(json_object_get(v, "hex")), &n);
		int rc = decode_bytes(f, bytes, n);
		if (rc)
			fail_msg("%s: wire_decode_req: %s", e->d_name, pl_err_code(rc));
		if (!same_value(&f->u.data, j))
			fail_msg("%s: hex does not decode to json", e->d_name);
		assert_true(f->has_id);
		assert_string_equal(tnames[f->req.type], json_string_value(json_object_get(j, "t")));
		seen[f->req.type] = true;
		assert_json_uint(j, "id", f->req.id);
		assert_json_str(j, "room", f->req.room);
		assert_json_str(j, "name", f->req.name);
		assert_json_str(j, "key", f->req.key);
		assert_json_str(j, "token", f->req.token);
		assert_json_str(j, "text", f->req.text);
		assert_json_uint(j, "member", f->req.member);
		assert_int_equal(f->req.has_member, json_object_get(j, "member") != NULL);
		assert_json_uint(j, "seq", f->req.seq);
		if (f->req.type == WIRE_RAISE)
			assert_json_enum(j, "type", wire_hand_type, f->req.arg);
		assert_json_enum(j, "policy", wire_policy, f->req.arg);
		assert_json_enum(j, "action", wire_timer_action, f->req.arg2);
		if (json_object_get(j, "pos"))
			assert_json_uint(j, "pos", f->req.arg);
		if (json_object_get(j, "seconds"))
			assert_json_uint(j, "seconds", f->req.arg);
		free(bytes);
		json_decref(v);
	}
	closedir(d);
	assert_true(nclient > 0);
	for (int t = WIRE_JOIN; t <= WIRE_PING; t++)
		if (!seen[t])
			fail_msg("no client vector for %s", tnames[t]);
}

/* Compares a server frame's payload with proto/vectors/srv-<name>.json. */
static void assert_server_vector(const char *name, struct frame *fr)
{
	char path[8192];
	snprintf(path, sizeof(path), "%s/srv-%s.json", vectors_dir(), name);
	json_t *v = load_vector(path);
	size_t n;
	const uint8_t *p = frame_payload(fr, &n);
	char *hex = tohex(p, n);
	char want_name[256];
	snprintf(want_name, sizeof(want_name), "srv-%s", name);
	assert_string_equal(json_string_value(json_object_get(v, "name")), want_name);
	assert_string_equal(json_string_value(json_object_get(v, "direction")), "server");
	if (strcmp(hex, json_string_value(json_object_get(v, "hex"))))
		fail_msg("%s: the encoder now writes\n%s\nthe vector has\n%s", path, hex,
			 json_string_value(json_object_get(v, "hex")));
	msgpack_unpacked u;
	size_t off = 0;
	msgpack_unpacked_init(&u);
	assert_int_equal(msgpack_unpack_next(&u, (const char *)p, n, &off), MSGPACK_UNPACK_SUCCESS);
	assert_int_equal(off, n);
	if (!same_value(&u.data, json_object_get(v, "json")))
		fail_msg("%s: hex does not decode to json", path);
	msgpack_unpacked_destroy(&u);
	free(hex);
	json_decref(v);
	frame_unref(fr);
}

static void test_server_vectors_match_the_encoder_byte_for_byte(void **state)
{
	(void)state;
	assert_server_vector("error", wire_error(5, true, PL_ENAME,
						 "a name needs 1 to 40 visible characters"));
	assert_server_vector("error-no-id",
			     wire_error(0, false, PL_EBADREQ, "the request is malformed"));
	assert_server_vector("ok", wire_ok(6));
	assert_server_vector("ok-seq", wire_ok_seq(5, 42));
	assert_server_vector("ok-ts", wire_ok_ts(7, 1700000000123));

	struct scene s;
	scene_init(&s);
	s.ts = 1700000000000;
	uint64_t ada = scene_join(&s, 7, "Ada", false); /* at ts 1700000000100 */
	assert_server_vector("joined", scene_event(&s));
	scene_chat(&s, 42, 1700000000123, ada, "Why does the borrow checker reject this?");
	assert_server_vector("chat", scene_event(&s));
	scene_apply(&s, 44, 1700000001000, (struct room_cmd){.kind = ROOM_DETACH, .member = ada});
	assert_server_vector("away", scene_event(&s));
	scene_apply(&s, 45, 1700000031000,
		    (struct room_cmd){.kind = ROOM_LEAVE, .member = ada, .has_epoch = true,
				      .reason = ROOM_TIMEOUT});
	assert_server_vector("left", scene_event(&s));
	room_deinit(&s.r);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_pack_strn_writes_msgpack_c_bytes_at_every_length),
		T(test_decode_join),
		T(test_decode_join_with_key),
		T(test_decode_resume),
		T(test_decode_chat),
		T(test_decode_leave_and_ping),
		T(test_decode_raise_maps_the_hand_type),
		T(test_decode_lower_and_give_take_an_optional_member),
		T(test_decode_clear_hands_take_and_yield_need_no_fields),
		T(test_decode_move_needs_member_and_a_1_based_pos),
		T(test_decode_policy_maps_the_policy_name),
		T(test_decode_timer_takes_seconds_up_to_3600_and_an_action),
		T(test_decode_lets_nul_through_as_valid_utf8),
		T(test_decode_ignores_unknown_keys),
		T(test_decode_accepts_id_at_both_ends_of_its_range),
		T(test_decode_bytes_that_are_not_msgpack_are_corrupt),
		T(test_decode_claimed_sizes_past_the_message_are_corrupt),
		T(test_decode_accepts_every_msgpack_type_in_unknown_keys),
		T(test_decode_trailing_bytes_are_corrupt),
		T(test_decode_non_map_is_bad_request),
		T(test_decode_missing_id_is_bad_request_without_id),
		T(test_decode_missing_or_non_string_t_is_bad_request_with_id),
		T(test_decode_id_0_or_past_uint32_or_not_uint_is_bad_request),
		T(test_decode_unknown_type_is_unknown_type_with_id),
		T(test_decode_wrong_field_type_is_bad_request_with_id),
		T(test_decode_invalid_utf8_in_a_string_is_invalid_utf8),
		T(test_decode_missing_required_fields_is_bad_request_with_id),
		T(test_record_create_round_trips),
		T(test_record_join_round_trips_with_and_without_key_hash),
		T(test_record_attach_round_trips),
		T(test_record_detach_round_trips_with_and_without_epoch),
		T(test_record_leave_round_trips_for_each_reason),
		T(test_record_chat_round_trips),
		T(test_record_hand_and_floor_kinds_round_trip),
		T(test_record_moderation_kinds_round_trip),
		T(test_record_prompt_kinds_round_trip),
		T(test_record_of_an_anonymous_answer_carries_no_member),
		T(test_record_encode_appends_to_the_buffer),
		T(test_record_encode_never_writes_a_malformed_record),
		T(test_record_decode_rejects_what_the_encoder_never_writes),
		T(test_event_joined_carries_the_member),
		T(test_event_away_back_and_left_carry_the_member_id),
		T(test_event_chat_carries_sender_name_and_trimmed_text),
		T(test_event_frame_for_a_long_chat_has_a_16_bit_length),
		T(test_event_batch_carries_every_event_of_one_record_in_order),
		T(test_join_reply_carries_member_token_role_and_snapshot),
		T(test_shared_snapshot_gives_the_same_bytes),
		T(test_resume_reply_carries_replay_count_or_snapshot),
		T(test_error_reply_has_code_and_message_and_nil_id_when_unknown),
		T(test_ok_replies_echo_the_id),
		T(test_client_vectors_decode_to_their_json),
		T(test_server_vectors_match_the_encoder_byte_for_byte),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
