/*
 * test_determinism.c — the same records give the same room, byte for byte,
 * with every kind of record in play (issue 4 "Tests": "random command
 * sequences (fixed seed, thousands of steps) applied to two fresh replicas
 * give byte-identical serialised state").
 *
 * A fixed-seed generator makes several thousand records of every kind —
 * members coming and going, chat, hands, the floor, the turn timer and its
 * expiry, moderation (the end of the session only in the last 1 %), prompts,
 * named and anonymous answers, the agenda — mostly plausible, some not. Each
 * is encoded as the log stores it (wire_record_encode) and each replica
 * decodes it for itself, as instances replaying one log do. After every
 * record the verdicts, the effects and the event frames must be the same;
 * every 250 records, and at the end, so must the whole state serialised:
 * the snapshot a join reply carries, every prompt's results as facilitators
 * get them, and a dump of what neither shows (epochs, devices, bans, every
 * message's deleted flag, answers and tokens, hand raise and move seqs, the
 * whole moderation log). Invariants are checked on the way.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "fixture.h"
#include "mp.h"

enum { STEPS = 10000 };

static uint64_t rng(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x >> 12, x ^= x << 25, x ^= x >> 27;
	*s = x;
	return x * 0x2545F4914F6CDD1Dull;
}

#define PICK(s, arr) (arr)[rng(s) % (sizeof(arr) / sizeof((arr)[0]))]

static const char *const names[] = {
	"Ada", "  Bob  ", "Zo\xc3\xab \xf0\x9f\x8d\xb2", "", "del\x7f", "ctl\x01x",
	"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "Grace Hopper", "\xe6\x97\xa5\xe6\x9c\xac",
};
static const char *const texts[] = {
	"hello", "  trimmed  ", "", " \n ", "two\nlines", "cr\rlf", "bell\x07",
	"\xf0\x9f\x8d\xb2 soup", "Why does the borrow checker reject this?", "coffee and cake",
};
static const char *const options[] = {
	"yes", "no", "maybe", "", "  spaced  ", "esc\x1b[2J",
	"a very long option that goes on and on and on, past what anyone should write for an "
	"option, which is a hundred characters",
};
static const uint32_t minutes[] = {1, 5, 20, 600, 0, 601};

/* Strings a record may hold: valid UTF-8 (the request decoder lets no other
 * through), but empty, blank, too long or with control characters. */

/* One pseudo-random record. r (replica a) is only read to aim at members,
 * messages, prompts and turns that exist often enough to hit something. */
static struct room_cmd random_cmd(uint64_t *s, const struct room *r, uint64_t seq, bool may_end)
{
	struct room_cmd c = {0};
	const struct room_member *m =
		r->nmembers && rng(s) % 8 ? &r->members[rng(s) % r->nmembers] : NULL;
	uint64_t who = m ? m->id : rng(s) % (seq + 1);
	const struct room_member *t =
		r->nmembers && rng(s) % 4 ? &r->members[rng(s) % r->nmembers] : NULL;
	c.target = t ? t->id : rng(s) % 3 ? 0 : rng(s) % (seq + 1);
	/* mostly a facilitator acts, so that commands do something */
	const struct room_member *fac = NULL;
	size_t nfac = 0;
	for (size_t i = 0; i < r->nmembers; i++)
		nfac += r->members[i].present && r->members[i].role != ROOM_PARTICIPANT;
	for (size_t i = 0, k = nfac ? rng(s) % nfac : 0; nfac && i < r->nmembers; i++)
		if (r->members[i].present && r->members[i].role != ROOM_PARTICIPANT && !k--)
			fac = &r->members[i];
	uint64_t pick = rng(s) % 100;
	if (may_end && rng(s) % 4 == 0) {
		c.kind = ROOM_END;
		c.member = fac && rng(s) % 5 ? fac->id : who;
		return c;
	}
	if (pick < 1) {
		c.kind = ROOM_CREATE;
		c.id = ROOM_ID, c.id_len = 16;
		c.text = "Title", c.text_len = 5;
		c.has_kh = true;
		memcpy(c.kh, KH, 32);
		return c;
	}
	if (pick < 11) {
		c.kind = ROOM_JOIN;
		const char *n = PICK(s, names);
		c.text = n, c.text_len = strlen(n);
		uint64_t k = rng(s) % 8;
		c.has_kh = k < 2;
		memcpy(c.kh, KH, 32);
		if (k == 1)
			c.kh[5] ^= 0x40; /* a wrong key */
		if ((c.has_device = rng(s) % 3 != 0))
			memset(c.device, (int)(rng(s) % 6), 16);
		c.instance = rng(s) % 3;
		return c;
	}
	if (pick < 26) {
		c.kind = pick < 16 ? ROOM_ATTACH : pick < 23 ? ROOM_DETACH : ROOM_LEAVE;
		c.member = who;
		c.reason = rng(s) % 2 ? ROOM_TIMEOUT : ROOM_LEFT;
		c.has_epoch = c.kind != ROOM_ATTACH && rng(s) % 2;
		c.epoch = m && rng(s) % 2 ? m->epoch : (uint32_t)(rng(s) % 4);
		if (c.kind == ROOM_ATTACH)
			c.instance = rng(s) % 3;
		return c;
	}
	if (pick < 38) {
		c.kind = ROOM_CHAT;
		c.member = who;
		const char *x = PICK(s, texts);
		c.text = x, c.text_len = strlen(x);
		return c;
	}
	c.member = fac && rng(s) % 5 ? fac->id : who;
	if (pick < 58) {
		c.kind = (enum room_cmd_kind)(ROOM_HAND_RAISE +
					      rng(s) % (ROOM_TIMER + 1 - ROOM_HAND_RAISE));
		if (c.kind == ROOM_HAND_RAISE || c.kind == ROOM_HAND_LOWER ||
		    c.kind == ROOM_FLOOR_YIELD)
			c.member = who;
		if (c.kind == ROOM_FLOOR_YIELD && r->floor.member && rng(s) % 2)
			c.member = r->floor.member;
		static const uint32_t secs[] = {0, 1, 2, 5, 60, 3600, 3601};
		if (r->nhands && rng(s) % 2) /* aim at a raised hand */
			c.target = r->hands[rng(s) % r->nhands].member;
		c.arg = c.kind == ROOM_TIMER ? PICK(s, secs) : (uint32_t)(rng(s) % 5);
		c.arg2 = (uint32_t)(rng(s) % 3);
		return c;
	}
	if (pick < 62) {
		c.kind = ROOM_EXPIRE;
		c.member = 0;
		c.arg = (uint32_t)(rng(s) % 3);
		uint8_t what;
		uint64_t due = 0;
		if (rng(s) % 4 && room_next_deadline(r, &what, &due))
			c.arg = what, c.target = due;
		else if (c.arg == ROOM_EXPIRE_PROMPT && r->nprompts)
			c.target = r->prompts[rng(s) % r->nprompts].id;
		else
			c.target = rng(s) % 2 ? r->floor.turn : c.target;
		return c;
	}
	if (pick < 72) {
		static const enum room_cmd_kind mod[] = {ROOM_DELETE, ROOM_MUTE, ROOM_REMOVE,
							 ROOM_LOCK, ROOM_CHAT_MODE, ROOM_ROLE,
							 ROOM_ROLE};
		c.kind = PICK(s, mod);
		if (c.kind == ROOM_DELETE && r->nmsgs && rng(s) % 4)
			c.target = r->msgs[rng(s) % r->nmsgs].seq;
		c.arg = (uint32_t)(rng(s) % (c.kind == ROOM_CHAT_MODE ? 4 : 2));
		static const uint32_t slow[] = {0, 1, 3, 10, 3600, 3601};
		c.arg2 = PICK(s, slow);
		return c;
	}
	if (pick < 78) {
		c.kind = ROOM_PROMPT_OPEN;
		c.pkind = (uint8_t)(rng(s) % 5);
		c.reveal = (uint8_t)(rng(s) % 5);
		c.anonymous = rng(s) % 2;
		const char *q = rng(s) % 10 ? "What do you think?" : PICK(s, texts);
		c.text = q, c.text_len = strlen(q);
		c.nopts = (uint8_t)(rng(s) % 11); /* options (at most 10 fit a record) or scale */
		if (c.pkind == ROOM_PROMPT_RATING && rng(s) % 8 == 0)
			c.nopts = 11;
		for (unsigned i = 0; i < ROOM_PROMPT_OPTS; i++) {
			const char *o = rng(s) % 6 ? options[i % 3] : PICK(s, options);
			c.opts[i] = (struct room_text){o, strlen(o)};
		}
		static const uint32_t secs[] = {0, 0, 0, 1, 3, 10, 86400, 86401};
		c.arg = PICK(s, secs);
		return c;
	}
	if (pick < 80) {
		c.kind = ROOM_PROMPT_CLOSE;
		if (r->nprompts && rng(s) % 4)
			c.target = r->prompts[rng(s) % r->nprompts].id;
		return c;
	}
	if (pick < 92) {
		c.kind = ROOM_ANSWER;
		const struct room_prompt *p =
			r->nprompts && rng(s) % 8 ? &r->prompts[rng(s) % r->nprompts] : NULL;
		c.target = p ? p->id : c.target;
		c.member = who;
		bool anon = p ? p->anonymous : rng(s) % 2;
		if (rng(s) % 10 == 0)
			anon = !anon; /* the wrong way for this prompt */
		if (anon) { /* as the hub does: a token for (prompt, member), no member */
			c.has_token = true;
			for (int i = 0; i < 16; i++)
				c.token[i] =
					(uint8_t)((c.target * 131 + who * 7 + (uint64_t)i) % 251);
			c.member = 0;
		}
		c.arg = (uint32_t)(rng(s) % 12);
		if (p && p->kind == ROOM_PROMPT_MULTI)
			c.arg = (uint32_t)(rng(s) % (1u << (p->nopts + 1)));
		if (p && p->kind == ROOM_PROMPT_TEXT) {
			const char *x = PICK(s, texts);
			c.text = x, c.text_len = strlen(x);
		}
		return c;
	}
	if (pick < 96) {
		c.kind = ROOM_AGENDA_SET;
		c.nopts = (uint8_t)(rng(s) % 11);
		for (unsigned i = 0; i < c.nopts; i++) {
			const char *x = rng(s) % 8 ? "segment" : PICK(s, texts);
			c.opts[i] = (struct room_text){x, strlen(x)};
			c.nums[i] = rng(s) % 8 ? minutes[i % 3] : PICK(s, minutes);
		}
		return c;
	}
	c.kind = ROOM_AGENDA_GO;
	c.arg = (uint32_t)(rng(s) % (r->agenda.n + 2u));
	return c;
}

/* ---- comparing two replicas ---------------------------------------------- */

static void assert_fx_equal(const struct room_fx *a, const struct room_fx *b)
{
	assert_int_equal(a->err, b->err);
	assert_int_equal(a->member, b->member);
	assert_int_equal(a->nev, b->nev);
	for (unsigned i = 0; i < a->nev; i++) {
		const struct room_ev *x = &a->ev[i], *y = &b->ev[i];
		assert_int_equal(x->kind, y->kind);
		assert_int_equal(x->reason, y->reason);
		assert_int_equal(x->member != NULL, y->member != NULL);
		if (x->member)
			assert_int_equal(x->member->id, y->member->id);
		assert_int_equal(x->chat != NULL, y->chat != NULL);
		if (x->chat)
			assert_int_equal(x->chat->seq, y->chat->seq);
		assert_int_equal(x->prompt != NULL, y->prompt != NULL);
		if (x->prompt)
			assert_int_equal(x->prompt->id, y->prompt->id);
		assert_int_equal(x->mod != NULL, y->mod != NULL);
		if (x->mod)
			assert_memory_equal(x->mod, y->mod, sizeof(*x->mod));
	}
}

/* The event frame of a record, as the hub would send it (answers are not
 * broadcast); NULL if none. */
static uint8_t *event_bytes(const struct room *r, uint64_t seq, int64_t ts,
			    const struct room_fx *fx, size_t *n)
{
	struct room_ev ev[ROOM_FX_MAX];
	unsigned k = 0;
	for (unsigned i = 0; i < fx->nev; i++)
		if (fx->ev[i].kind != ROOM_EV_ANSWER)
			ev[k++] = fx->ev[i];
	*n = 0;
	if (!k)
		return NULL;
	struct frame *f = wire_event(r, seq, ts, ev, k);
	if (!f)
		fail_msg("no frame for the events of record %llu", (unsigned long long)seq);
	return mp_payload_copy(f, n);
}

static void put(struct buf *b, const void *p, size_t n)
{
	assert_int_equal(buf_append(b, p, n), 0);
}

#define PUT(b, v) put((b), &(v), sizeof(v))

static void put_str(struct buf *b, const char *s)
{
	uint64_t n = s ? strlen(s) : UINT64_MAX;
	PUT(b, n);
	if (s)
		put(b, s, strlen(s));
}

/* What the snapshot and the results leave out, field by field. */
static void dump_hidden(struct buf *b, const struct room *r)
{
	PUT(b, r->seq);
	PUT(b, r->exists);
	PUT(b, r->ended);
	PUT(b, r->ended_ts);
	PUT(b, r->present);
	PUT(b, r->nmembers);
	for (size_t i = 0; i < r->nmembers; i++) {
		const struct room_member *m = &r->members[i];
		PUT(b, m->id);
		put_str(b, m->name);
		PUT(b, m->role);
		PUT(b, m->present);
		PUT(b, m->online);
		PUT(b, m->epoch);
		PUT(b, m->joined_ts);
		PUT(b, m->left_ts);
		PUT(b, m->messages);
		PUT(b, m->turns);
		PUT(b, m->speak_ms);
		PUT(b, m->muted);
		put(b, m->device, 16);
		PUT(b, m->last_chat);
		PUT(b, m->instance);
	}
	PUT(b, r->nhands);
	for (size_t i = 0; i < r->nhands; i++) {
		const struct room_hand *h = &r->hands[i];
		PUT(b, h->member);
		PUT(b, h->type);
		PUT(b, h->raised);
		PUT(b, h->raised_ts);
		PUT(b, h->pin);
		PUT(b, h->pinned);
	}
	PUT(b, r->nmsgs);
	for (size_t i = 0; i < r->nmsgs; i++) {
		PUT(b, r->msgs[i].seq);
		PUT(b, r->msgs[i].from);
		PUT(b, r->msgs[i].deleted);
	}
	PUT(b, r->nmod);
	for (size_t i = 0; i < r->nmod; i++) {
		const struct room_mod *m = &r->modlog[i];
		PUT(b, m->seq);
		PUT(b, m->ts);
		PUT(b, m->actor);
		PUT(b, m->action);
		PUT(b, m->target);
		PUT(b, m->arg);
		PUT(b, m->arg2);
	}
	PUT(b, r->nbanned);
	for (size_t i = 0; i < r->nbanned; i++)
		put(b, r->banned[i], 16);
	PUT(b, r->nprompts);
	for (size_t i = 0; i < r->nprompts; i++) {
		const struct room_prompt *p = &r->prompts[i];
		PUT(b, p->id);
		put(b, p->tally, sizeof(p->tally));
		PUT(b, p->nanswers);
		for (size_t k = 0; k < p->nanswers; k++) {
			const struct room_answer *a = &p->answers[k];
			PUT(b, a->member);
			put(b, a->who, 16);
			PUT(b, a->choice);
			put_str(b, a->text);
			PUT(b, a->ts);
		}
	}
}

/* The whole state: snapshot, every prompt's results for facilitators, and
 * the rest. */
static uint8_t *serialise(const struct room *r, size_t *n)
{
	struct buf b;
	buf_init(&b);
	size_t k;
	uint64_t first = r->nmembers ? r->members[0].id : 0;
	uint8_t *p = mp_payload_copy(wire_ok_join(1, r, first, "t", NULL), &k);
	put(&b, p, k);
	free(p);
	for (size_t i = 0; i < r->nprompts; i++) {
		p = mp_payload_copy(wire_results(r, &r->prompts[i], WIRE_RESULTS_DETAIL, NULL), &k);
		put(&b, p, k);
		free(p);
	}
	dump_hidden(&b, r);
	*n = b.len;
	p = malloc(b.len);
	memcpy(p, buf_data(&b), b.len);
	buf_deinit(&b);
	return p;
}

static void assert_same_state(const struct room *a, const struct room *b, uint64_t seq)
{
	size_t na, nb;
	uint8_t *sa = serialise(a, &na), *sb = serialise(b, &nb);
	if (na != nb || memcmp(sa, sb, na)) {
		size_t k = 0;
		while (k < na && k < nb && sa[k] == sb[k])
			k++;
		fail_msg("after record %llu the replicas differ (%zu and %zu bytes; first "
			 "difference at byte %zu)",
			 (unsigned long long)seq, na, nb, k);
	}
	free(sa);
	free(sb);
}

/* What must hold after every record. */
static void assert_invariants(const struct room *r)
{
	size_t present = 0;
	for (size_t i = 0; i < r->nmembers; i++) {
		const struct room_member *m = &r->members[i];
		if (i)
			assert_true(r->members[i - 1].id < m->id);
		assert_true(!m->online || m->present);
		assert_true(m->role <= ROOM_COFACILITATOR);
		assert_false(m->present && m->role != ROOM_PARTICIPANT && m->muted);
		present += m->present;
	}
	assert_int_equal(present, r->present);
	for (size_t i = 0; i < r->nhands; i++) {
		const struct room_member *m = room_member(r, r->hands[i].member);
		assert_non_null(m);
		assert_true(m->present);
	}
	if (r->floor.member) {
		const struct room_member *m = room_member(r, r->floor.member);
		assert_true(m && m->present && m->turns > 0);
	}
	if (r->ended) {
		assert_int_equal(r->nhands, 0);
		assert_int_equal(r->floor.member, 0);
	}
	for (size_t i = 0; i < r->nmsgs; i++)
		if (i)
			assert_true(r->msgs[i - 1].seq < r->msgs[i].seq);
	for (unsigned i = 0; i < r->chat_n; i++) {
		const struct room_chat *c = room_recent_chat(r, i);
		assert_true(c->deleted ? c->text == NULL : c->text && *c->text);
	}
	for (size_t i = 0; i < r->nprompts; i++) {
		const struct room_prompt *p = &r->prompts[i];
		if (i)
			assert_true(r->prompts[i - 1].id < p->id);
		if (r->ended)
			assert_true(p->closed);
		/* the tally is the sum of the answers, and an anonymous answer
		 * names nobody */
		uint32_t tally[ROOM_PROMPT_OPTS + 1] = {0};
		for (size_t k = 0; k < p->nanswers; k++) {
			const struct room_answer *a = &p->answers[k];
			assert_true(p->anonymous ? a->member == 0 : a->member != 0);
			if (p->kind == ROOM_PROMPT_MULTI) {
				for (unsigned o = 0; o < p->nopts; o++)
					tally[o] += (a->choice >> o) & 1;
			} else if (p->kind == ROOM_PROMPT_TEXT) {
				assert_non_null(a->text);
			} else {
				assert_true(a->choice <= ROOM_PROMPT_OPTS);
				tally[a->choice]++;
			}
			for (size_t j = 0; j < k; j++) /* one answer per person */
				assert_false(p->anonymous
						     ? !memcmp(p->answers[j].who, a->who, 16)
						     : p->answers[j].member == a->member);
		}
		assert_memory_equal(tally, p->tally, sizeof(tally));
	}
	assert_true(r->agenda.current >= -1 && r->agenda.current <= r->agenda.n);
}

static void test_random_records_of_every_kind_give_byte_identical_replicas(void **state)
{
	(void)state;
	struct room a, b;
	struct room_fx fa, fb;
	msgpack_unpacked ua, ub;
	struct buf rec;
	uint64_t s = 0x5eed0f0077c0ffeeull;
	int64_t ts = T0;
	unsigned accepted[ROOM__CMD_MAX] = {0}, events[32] = {0};
	room_init(&a);
	room_init(&b);
	msgpack_unpacked_init(&ua);
	msgpack_unpacked_init(&ub);
	buf_init(&rec);
	for (uint64_t seq = 1; seq <= STEPS; seq++) {
		struct room_cmd c;
		if (seq == 2) { /* the room, early, so that most records can do something */
			c = (struct room_cmd){.kind = ROOM_CREATE, .id = ROOM_ID, .id_len = 16,
					      .text = "Determinism", .text_len = 11,
					      .has_kh = true};
			memcpy(c.kh, KH, 32);
		} else {
			c = random_cmd(&s, &a, seq, seq > STEPS - STEPS / 100);
		}
		ts += (int64_t)(rng(&s) % 4000);
		uint8_t what;
		uint64_t due_target;
		int64_t due = room_next_deadline(&a, &what, &due_target);
		if (c.kind == ROOM_EXPIRE && due && due > ts && rng(&s) % 2)
			ts = due; /* appended when due, as the hub does */
		/* what the log stores, decoded by each replica for itself */
		buf_reset(&rec);
		assert_int_equal(wire_record_encode(&rec, &c), 0);
		struct room_cmd ca, cb;
		int dr = wire_record_decode(&ua, buf_data(&rec), rec.len, &ca);
		if (dr)
			fail_msg("record %llu of kind %d cannot be decoded: %d (%s)",
				 (unsigned long long)seq, c.kind, dr, pl_err_code(dr));
		assert_int_equal(wire_record_decode(&ub, buf_data(&rec), rec.len, &cb), 0);
		int ra = room_apply(&a, seq, ts, &ca, &fa);
		int rb = room_apply(&b, seq, ts, &cb, &fb);
		assert_int_equal(ra, rb);
		assert_fx_equal(&fa, &fb);
		size_t ea, eb;
		uint8_t *pa = event_bytes(&a, seq, ts, &fa, &ea);
		uint8_t *pb = event_bytes(&b, seq, ts, &fb, &eb);
		assert_int_equal(ea, eb);
		if (ea)
			assert_memory_equal(pa, pb, ea);
		free(pa);
		free(pb);
		if (!ra)
			accepted[c.kind]++;
		for (unsigned i = 0; i < fa.nev; i++)
			events[fa.ev[i].kind]++;
		assert_invariants(&a);
		if (seq % 250 == 0 || seq == STEPS)
			assert_same_state(&a, &b, seq);
	}
	/* the sequence exercised every kind of record and event */
	assert_true(a.ended);
	assert_true(a.nmembers > 50);
	assert_true(a.nprompts > 20);
	assert_true(a.nmod > 20);
	for (int k = ROOM_CREATE; k < ROOM__CMD_MAX; k++)
		if (!accepted[k])
			fail_msg("no record of kind %d was accepted", k);
	for (int k = ROOM_EV_JOINED; k <= ROOM_EV_AGENDA; k++)
		if (!events[k])
			fail_msg("the sequence never produced event kind %d", k);
	size_t anon = 0, named = 0;
	for (size_t i = 0; i < a.nprompts; i++)
		*(a.prompts[i].anonymous ? &anon : &named) += a.prompts[i].nanswers;
	assert_true(anon > 10 && named > 10);
	buf_deinit(&rec);
	msgpack_unpacked_destroy(&ua);
	msgpack_unpacked_destroy(&ub);
	room_deinit(&a);
	room_deinit(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_records_of_every_kind_give_byte_identical_replicas),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
