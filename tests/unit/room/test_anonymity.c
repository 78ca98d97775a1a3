/*
 * test_anonymity.c — anonymous prompts leave no link between a person and
 * an answer: not in the log, not in the replica, not in the results, not in
 * any export (PROTOCOL.md "Anonymous prompts"; issue 4 "Feedback prompts":
 * "no record anywhere (log, memory, export, metrics) links a person to an
 * answer").
 *
 * A session is written as the hub writes it: every record built as the hub
 * builds it (an anonymous answer carries the keyed hash of room, prompt and
 * member under a server secret, never the member; the origin is fresh
 * randomness), encoded with wire_record_encode into one buffer — what the
 * log stores — and applied from those bytes. Then:
 *  - every answer record of an anonymous prompt has only the keys k, o, tg,
 *    a, text, tk, and neither the answerer's member id (as msgpack encodes
 *    it) nor their name occurs in its bytes;
 *  - a replica built from the log holds no member for those answers, and the
 *    facilitators' results frame has no `by`;
 *  - the transcript in every format is byte for byte the same whether Quincy
 *    or Rosa gave which answer, and whichever of them answered first.
 * A named prompt in the same session is the control: its answers do carry
 * the member, so the checks can see one when it is there.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>

#include "export/export.h"
#include "fixture.h"
#include "mp.h"
#include "util/crypto.h"

static const uint8_t SECRET[32] = "a server secret, never in a log";

/* ---- a log, as the hub writes it ----------------------------------------- */

struct logrec {
	size_t off, len;
	uint64_t seq;
	int64_t ts;
};

struct xlog {
	struct buf b;      /* every record's msgpack, one after the other */
	struct logrec rec[128];
	int n;
	uint64_t seq;
	int64_t ts;
	struct room live;  /* applied from the bytes */
	struct room_fx fx;
	msgpack_unpacked u;
};

static void xlog_init(struct xlog *l, uint64_t first_seq)
{
	memset(l, 0, sizeof(*l));
	buf_init(&l->b);
	room_init(&l->live);
	msgpack_unpacked_init(&l->u);
	l->seq = first_seq - 1;
	l->ts = T0;
}

static void xlog_deinit(struct xlog *l)
{
	buf_deinit(&l->b);
	room_deinit(&l->live);
	msgpack_unpacked_destroy(&l->u);
}

/* Appends a record (with a fresh random origin when it answers a request)
 * and applies what was stored; returns the room's verdict. */
static int append(struct xlog *l, struct room_cmd c)
{
	if (c.kind != ROOM_EXPIRE && c.kind != ROOM_DETACH)
		while (!c.origin)
			util_random(&c.origin, sizeof(c.origin));
	size_t at = l->b.len;
	assert_int_equal(wire_record_encode(&l->b, &c), 0);
	assert_true(l->n < 128);
	struct logrec *r = &l->rec[l->n++];
	*r = (struct logrec){.off = at, .len = l->b.len - at, .seq = ++l->seq,
			     .ts = l->ts += 1000};
	struct room_cmd d;
	assert_int_equal(wire_record_decode(&l->u, buf_data(&l->b) + at, r->len, &d), 0);
	return room_apply(&l->live, r->seq, r->ts, &d, &l->fx);
}

static const uint8_t *rec_bytes(const struct xlog *l, int i)
{
	return buf_data(&l->b) + l->rec[i].off;
}

/* The hub's token for an anonymous answer (hub/results.c). */
static void answer_token(const char *room, uint64_t prompt, uint64_t member, uint8_t out[16])
{
	char msg[96];
	uint8_t mac[32];
	int n = snprintf(msg, sizeof(msg), "answer:%s:%llu:%llu", room, (unsigned long long)prompt,
			 (unsigned long long)member);
	util_hmac_sha256(SECRET, sizeof(SECRET), msg, (size_t)n, mac);
	memcpy(out, mac, 16);
}

static struct room_text txt(const char *s)
{
	return (struct room_text){s, strlen(s)};
}

/* ---- the session --------------------------------------------------------- */

struct session {
	uint64_t fac, quincy, rosa;
	uint64_t open_anon, choice_anon, named;
};

/* Who gives which anonymous answer, in record order. */
struct given {
	int who;            /* 0 quincy, 1 rosa */
	const char *text;   /* for the open prompt */
	uint32_t choice;    /* for the choice prompt */
};

static uint64_t join(struct xlog *l, const char *name, bool fac)
{
	struct room_cmd c = {.kind = ROOM_JOIN, .text = name, .text_len = strlen(name),
			     .has_kh = fac};
	if (fac)
		memcpy(c.kh, KH, 32);
	assert_int_equal(append(l, c), 0);
	return l->fx.member;
}

static uint64_t open_prompt(struct xlog *l, uint64_t fac, uint8_t kind, bool anon,
			    const char *q)
{
	struct room_cmd c = {.kind = ROOM_PROMPT_OPEN, .member = fac, .pkind = kind,
			     .anonymous = anon, .reveal = ROOM_REVEAL_LIVE, .text = q,
			     .text_len = strlen(q)};
	if (kind != ROOM_PROMPT_TEXT) {
		c.nopts = 3;
		c.opts[0] = txt("keep going");
		c.opts[1] = txt("take a break");
		c.opts[2] = txt("stop for today");
	}
	assert_int_equal(append(l, c), 0);
	return l->seq;
}

static int anon_answer(struct xlog *l, uint64_t prompt, uint64_t member, uint32_t arg,
		       const char *text)
{
	struct room_cmd c = {.kind = ROOM_ANSWER, .target = prompt, .arg = arg, .has_token = true};
	answer_token(ROOM_ID, prompt, member, c.token);
	if (text)
		c.text = text, c.text_len = strlen(text);
	return append(l, c);
}

/* Member ids start past 2^32 so that msgpack writes them in 9 distinctive
 * bytes that can be looked for. */
#define FIRST_SEQ 0x1234567800ull

static struct session run_session(struct xlog *l, const struct given g[2])
{
	struct session s;
	xlog_init(l, FIRST_SEQ);
	struct room_cmd create = {.kind = ROOM_CREATE, .id = ROOM_ID, .id_len = 16,
				  .text = "Retro", .text_len = 5, .has_kh = true};
	memcpy(create.kh, KH, 32);
	assert_int_equal(append(l, create), 0);
	s.fac = join(l, "Fran", true);
	s.quincy = join(l, "Quincy Responder", false);
	s.rosa = join(l, "Rosa Answerer", false);
	struct room_cmd chat = {.kind = ROOM_CHAT, .member = s.quincy, .text = "hello all",
				.text_len = 9};
	assert_int_equal(append(l, chat), 0);
	chat.member = s.rosa;
	assert_int_equal(append(l, chat), 0);
	s.open_anon = open_prompt(l, s.fac, ROOM_PROMPT_TEXT, true, "What worries you?");
	s.choice_anon = open_prompt(l, s.fac, ROOM_PROMPT_SINGLE, true, "How do we go on?");
	s.named = open_prompt(l, s.fac, ROOM_PROMPT_SINGLE, false, "And by name?");
	const uint64_t who[2] = {s.quincy, s.rosa};
	for (int i = 0; i < 2; i++)
		assert_int_equal(anon_answer(l, s.open_anon, who[g[i].who], 0, g[i].text), 0);
	for (int i = 0; i < 2; i++)
		assert_int_equal(anon_answer(l, s.choice_anon, who[g[i].who], g[i].choice, NULL),
				 0);
	/* the control: named answers */
	struct room_cmd named = {.kind = ROOM_ANSWER, .target = s.named, .member = s.quincy,
				 .arg = 2};
	assert_int_equal(append(l, named), 0);
	named.member = s.rosa;
	assert_int_equal(append(l, named), 0);
	for (int k = 0; k < 3; k++) {
		struct room_cmd close = {.kind = ROOM_PROMPT_CLOSE, .member = s.fac,
					 .target = (uint64_t[]){s.open_anon, s.choice_anon,
								s.named}[k]};
		assert_int_equal(append(l, close), 0);
	}
	struct room_cmd end = {.kind = ROOM_END, .member = s.fac};
	assert_int_equal(append(l, end), 0);
	return s;
}

static const struct given BASE[2] = {{0, "zebra crossings", 0}, {1, "apple budget", 2}};
/* the same answers, given the other way round */
static const struct given SWAPPED_ANSWERS[2] = {{0, "apple budget", 2}, {1, "zebra crossings", 0}};
/* the same records in the same order, sent by the other person */
static const struct given SWAPPED_PEOPLE[2] = {{1, "zebra crossings", 0}, {0, "apple budget", 2}};

/* msgpack's encoding of a member id (FIRST_SEQ ids take 9 bytes). */
static void id_bytes(uint64_t id, uint8_t out[9])
{
	out[0] = 0xcf;
	for (int i = 0; i < 8; i++)
		out[1 + i] = (uint8_t)(id >> (56 - 8 * i));
}

static bool mentions(const uint8_t *p, size_t n, const struct session *s, const char **what)
{
	const uint64_t ids[2] = {s->quincy, s->rosa};
	static const char *const names[] = {"Quincy", "Rosa"};
	for (int i = 0; i < 2; i++) {
		uint8_t id[9];
		id_bytes(ids[i], id);
		if (mp_contains(p, n, id, 9)) {
			*what = i ? "Rosa's member id" : "Quincy's member id";
			return true;
		}
		if (mp_contains(p, n, names[i], strlen(names[i]))) {
			*what = names[i];
			return true;
		}
	}
	return false;
}

/* ---- the log ------------------------------------------------------------- */

static void test_anonymous_answer_records_name_nobody(void **state)
{
	(void)state;
	struct xlog l;
	struct session s = run_session(&l, BASE);
	/* the checks can see a member id or a name when one is there */
	uint8_t id[9];
	id_bytes(s.quincy, id);
	assert_true(mp_contains(buf_data(&l.b), l.b.len, id, 9));
	assert_true(mp_contains(buf_data(&l.b), l.b.len, "Quincy", 6));
	int anon = 0, named = 0;
	struct mp m;
	mp_init(&m);
	for (int i = 0; i < l.n; i++) {
		const msgpack_object *o = mp_bytes(&m, rec_bytes(&l, i), l.rec[i].len);
		if (!mp_is(mp_must(o, "k"), "answer"))
			continue;
		uint64_t prompt = mp_u64(mp_must(o, "tg"));
		const char *what;
		if (prompt == s.named) { /* the control */
			named++;
			assert_non_null(mp_get(o, "member"));
			assert_null(mp_get(o, "tk"));
			assert_true(mentions(rec_bytes(&l, i), l.rec[i].len, &s, &what));
			continue;
		}
		anon++;
		assert_true(prompt == s.open_anon || prompt == s.choice_anon);
		assert_null(mp_get(o, "member"));
		const msgpack_object *tk = mp_must(o, "tk");
		assert_int_equal(tk->type, MSGPACK_OBJECT_BIN);
		assert_int_equal(tk->via.bin.size, 16);
		for (uint32_t k = 0; k < o->via.map.size; k++) {
			const msgpack_object *key = &o->via.map.ptr[k].key;
			if (!mp_is(key, "k") && !mp_is(key, "o") && !mp_is(key, "tg") &&
			    !mp_is(key, "a") && !mp_is(key, "text") && !mp_is(key, "tk"))
				fail_msg("an anonymous answer record has the key \"%.*s\"",
					 (int)key->via.str.size, key->via.str.ptr);
		}
		if (mentions(rec_bytes(&l, i), l.rec[i].len, &s, &what))
			fail_msg("anonymous answer record %d holds %s", i, what);
	}
	mp_done(&m);
	assert_int_equal(anon, 4);
	assert_int_equal(named, 2);
	xlog_deinit(&l);
}

static void test_the_same_person_keeps_one_anonymous_answer_by_token(void **state)
{
	(void)state;
	struct xlog l;
	struct session s = run_session(&l, BASE);
	const struct room_prompt *p = room_prompt(&l.live, s.open_anon);
	assert_int_equal(p->nanswers, 2);
	/* a change of mind, in a second session where the prompt stays open */
	xlog_deinit(&l);
	xlog_init(&l, FIRST_SEQ);
	struct room_cmd create = {.kind = ROOM_CREATE, .id = ROOM_ID, .id_len = 16,
				  .text = "Retro", .text_len = 5, .has_kh = true};
	memcpy(create.kh, KH, 32);
	assert_int_equal(append(&l, create), 0);
	uint64_t fac = join(&l, "Fran", true), q = join(&l, "Quincy Responder", false);
	uint64_t id = open_prompt(&l, fac, ROOM_PROMPT_SINGLE, true, "Again?");
	assert_int_equal(anon_answer(&l, id, q, 0, NULL), 0);
	assert_int_equal(anon_answer(&l, id, q, 1, NULL), 0);
	assert_int_equal(anon_answer(&l, id, q, 2, NULL), 0);
	p = room_prompt(&l.live, id);
	assert_int_equal(p->nanswers, 1);
	assert_int_equal(p->tally[0] + p->tally[1], 0);
	assert_int_equal(p->tally[2], 1);
	uint8_t tk[16];
	answer_token(ROOM_ID, id, q, tk);
	assert_non_null(room_answer_of(p, 0, tk));
	assert_null(room_answer_of(p, q, NULL));
	xlog_deinit(&l);
}

/* ---- the replica and the results ----------------------------------------- */

static void test_replica_and_results_of_anonymous_prompts_name_nobody(void **state)
{
	(void)state;
	struct xlog l;
	struct session s = run_session(&l, BASE);
	const uint64_t anon[2] = {s.open_anon, s.choice_anon};
	for (int i = 0; i < 2; i++) {
		const struct room_prompt *p = room_prompt(&l.live, anon[i]);
		assert_true(p->anonymous);
		assert_int_equal(p->nanswers, 2);
		for (size_t k = 0; k < p->nanswers; k++)
			assert_int_equal(p->answers[k].member, 0);
		/* every view, the facilitators' included */
		for (int v = WIRE_RESULTS_COUNT; v <= WIRE_RESULTS_DETAIL; v++) {
			size_t n;
			uint8_t *bytes = mp_payload_copy(
				wire_results(&l.live, p, (enum wire_results_view)v, NULL), &n);
			const char *what;
			if (mentions(bytes, n, &s, &what))
				fail_msg("results (view %d) of an anonymous prompt hold %s", v,
					 what);
			struct mp m;
			mp_init(&m);
			const msgpack_object *o = mp_bytes(&m, bytes, n);
			const msgpack_object *res = mp_get(o, "results");
			if (v != WIRE_RESULTS_COUNT)
				assert_non_null(res);
			if (res)
				assert_null(mp_get(res, "by"));
			mp_done(&m);
			free(bytes);
		}
	}
	/* the control: facilitators see who answered a named prompt */
	struct mp m;
	mp_init(&m);
	const msgpack_object *o =
		mp_frame(&m, wire_results(&l.live, room_prompt(&l.live, s.named),
					  WIRE_RESULTS_DETAIL, NULL));
	assert_int_equal(mp_must(mp_must(o, "results"), "by")->via.array.size, 2);
	mp_done(&m);
	xlog_deinit(&l);
}

/* ---- the transcript ------------------------------------------------------ */

/* Every format (and every CSV table) of the transcript replayed from the
 * log, one after the other. */
static uint8_t *transcript(const struct xlog *l, size_t *n)
{
	struct export *x = export_new();
	msgpack_unpacked u;
	msgpack_unpacked_init(&u);
	for (int i = 0; i < l->n; i++) {
		struct room_cmd c;
		assert_int_equal(wire_record_decode(&u, rec_bytes(l, i), l->rec[i].len, &c), 0);
		export_feed(x, l->rec[i].seq, l->rec[i].ts, &c);
	}
	msgpack_unpacked_destroy(&u);
	struct buf out;
	buf_init(&out);
	assert_int_equal(export_render(x, EXPORT_JSON, EXPORT_CONTRIBUTIONS, &out), 0);
	assert_int_equal(export_render(x, EXPORT_MD, EXPORT_CONTRIBUTIONS, &out), 0);
	assert_int_equal(export_render(x, EXPORT_HTML, EXPORT_CONTRIBUTIONS, &out), 0);
	for (int t = EXPORT_CONTRIBUTIONS; t <= EXPORT_PROMPTS; t++)
		assert_int_equal(export_render(x, EXPORT_CSV, (enum export_table)t, &out), 0);
	export_free(x);
	*n = out.len;
	uint8_t *p = malloc(out.len ? out.len : 1);
	memcpy(p, buf_data(&out), out.len);
	buf_deinit(&out);
	return p;
}

static void assert_same_transcript(const struct given *a, const struct given *b, const char *why)
{
	struct xlog la, lb;
	run_session(&la, a);
	run_session(&lb, b);
	size_t na, nb;
	uint8_t *ta = transcript(&la, &na), *tb = transcript(&lb, &nb);
	/* the transcript shows the answers ... */
	assert_true(mp_contains(ta, na, "zebra crossings", 15));
	assert_true(mp_contains(ta, na, "apple budget", 12));
	assert_true(mp_contains(ta, na, "Quincy Responder", 16));
	/* ... and cannot tell who gave which */
	if (na != nb || memcmp(ta, tb, na)) {
		size_t k = 0;
		while (k < na && k < nb && ta[k] == tb[k])
			k++;
		size_t from = k > 80 ? k - 80 : 0;
		fail_msg("the transcript changes when %s; first difference at byte %zu:\n"
			 "%.*s\n---\n%.*s",
			 why, k, (int)((na < k + 80 ? na : k + 80) - from), ta + from,
			 (int)((nb < k + 80 ? nb : k + 80) - from), tb + from);
	}
	free(ta);
	free(tb);
	xlog_deinit(&la);
	xlog_deinit(&lb);
}

static void test_transcript_is_the_same_whoever_gave_which_answer(void **state)
{
	(void)state;
	assert_same_transcript(BASE, SWAPPED_ANSWERS, "Quincy and Rosa swap their answers");
}

static void test_transcript_is_the_same_whoever_answered_first(void **state)
{
	(void)state;
	assert_same_transcript(BASE, SWAPPED_PEOPLE, "the other person sends the same answer");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_anonymous_answer_records_name_nobody),
		cmocka_unit_test(test_the_same_person_keeps_one_anonymous_answer_by_token),
		cmocka_unit_test(test_replica_and_results_of_anonymous_prompts_name_nobody),
		cmocka_unit_test(test_transcript_is_the_same_whoever_gave_which_answer),
		cmocka_unit_test(test_transcript_is_the_same_whoever_answered_first),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
