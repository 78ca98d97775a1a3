/*
 * test_moderation.c — room/moderation.c and the permission rule for every
 * facilitator command (PROTOCOL.md "Moderation", issue 4 "Roles" and
 * "Moderation").
 *
 * The first test goes through every command marked *fac* — hands, floor,
 * timer, moderation, prompts, agenda — in a room where that command would
 * do something, and checks that a participant gets `forbidden` and changes
 * nothing at all (the snapshot, encoded as a join reply, is byte for byte
 * the same), and that a co-facilitator may then do it. The others take one
 * moderation rule each.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "fixture.h"
#include "mp.h"

static const uint8_t DEV_T[16] = {0xd1, 0xd2, 0xd3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
static const uint8_t DEV_U[16] = {0xe1, 0xe2, 0xe3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

/* ---- the cast: a facilitator, a co-facilitator, participants ------------ */

struct cast {
	uint64_t fac;   /* holds the key */
	uint64_t co;    /* promoted */
	uint64_t pat;   /* a participant who tries */
	uint64_t tom;   /* a participant acted on; joined from DEV_T */
	uint64_t msg;   /* tom's chat message */
	uint64_t prompt;
};

static int open_prompt(struct fix *f, uint64_t who)
{
	struct room_cmd c = {.kind = ROOM_PROMPT_OPEN, .origin = 4, .member = who,
			     .pkind = ROOM_PROMPT_SINGLE, .reveal = ROOM_REVEAL_LIVE,
			     .text = view(f, "Lunch?", 6), .text_len = 6, .nopts = 2};
	c.opts[0] = tview(f, "yes");
	c.opts[1] = tview(f, "no");
	return apply(f, &c);
}

/* intro 5, talk 20, and with `more` discussion 20 */
static int set_agenda(struct fix *f, uint64_t who, bool more)
{
	struct room_cmd c = {.kind = ROOM_AGENDA_SET, .origin = 4, .member = who,
			     .nopts = more ? 3 : 2, .nums = {5, 20, 20}};
	c.opts[0] = tview(f, "intro");
	c.opts[1] = tview(f, "talk");
	c.opts[2] = tview(f, "discussion");
	return apply(f, &c);
}

static struct cast cast(struct fix *f)
{
	struct cast c;
	create_room(f);
	c.fac = facilitator(f, "Fran");
	c.co = member(f, "Cleo");
	c.pat = member(f, "Pat");
	assert_err(join_rec(f, "Tom", false, DEV_T), 0);
	c.tom = f->fx.member;
	assert_err(cmd(f, ROOM_ROLE, c.fac, c.co, 1, 0), 0);
	assert_int_equal(mem(f, c.co)->role, ROOM_COFACILITATOR);
	assert_err(chat(f, c.tom, "hello"), 0);
	c.msg = f->seq;
	assert_err(open_prompt(f, c.fac), 0);
	c.prompt = f->seq;
	assert_err(set_agenda(f, c.fac, false), 0);
	assert_err(cmd(f, ROOM_FLOOR_GIVE, c.fac, c.pat, 0, 0), 0);
	assert_err(cmd(f, ROOM_HAND_RAISE, c.tom, 0, ROOM_HAND_NEW, 0), 0);
	return c;
}

/* ---- every fac command is refused for a participant ---------------------- */

enum target { TG_NONE, TG_TOM, TG_MSG, TG_PROMPT };
enum prep { PREP_NONE, PREP_MUTE_TOM, PREP_LOCK, PREP_PROMOTE_TOM };

static const struct fac_cmd {
	const char *what;
	enum room_cmd_kind kind;
	enum target target;
	uint32_t arg, arg2;
	enum prep prep;
} fac_cmds[] = {
	{"clear_hands", ROOM_HAND_CLEAR, TG_NONE, 0, 0, PREP_NONE},
	{"move", ROOM_HAND_MOVE, TG_TOM, 0, 0, PREP_NONE},
	{"policy", ROOM_POLICY, TG_NONE, ROOM_POLICY_FEWEST_TURNS, 0, PREP_NONE},
	{"lower another's hand", ROOM_HAND_LOWER, TG_TOM, 0, 0, PREP_NONE},
	{"give to someone", ROOM_FLOOR_GIVE, TG_TOM, 0, 0, PREP_NONE},
	{"give to the next", ROOM_FLOOR_GIVE, TG_NONE, 0, 0, PREP_NONE},
	{"take", ROOM_FLOOR_TAKE, TG_NONE, 0, 0, PREP_NONE},
	{"timer", ROOM_TIMER, TG_NONE, 60, ROOM_TIMER_NEXT, PREP_NONE},
	{"delete", ROOM_DELETE, TG_MSG, 0, 0, PREP_NONE},
	{"mute", ROOM_MUTE, TG_TOM, 1, 0, PREP_NONE},
	{"unmute", ROOM_MUTE, TG_TOM, 0, 0, PREP_MUTE_TOM},
	{"remove", ROOM_REMOVE, TG_TOM, 0, 0, PREP_NONE},
	{"remove with ban", ROOM_REMOVE, TG_TOM, 1, 0, PREP_NONE},
	{"lock", ROOM_LOCK, TG_NONE, 1, 0, PREP_NONE},
	{"unlock", ROOM_LOCK, TG_NONE, 0, 0, PREP_LOCK},
	{"chat_mode slow", ROOM_CHAT_MODE, TG_NONE, ROOM_CHAT_SLOW, 30, PREP_NONE},
	{"chat_mode facilitators", ROOM_CHAT_MODE, TG_NONE, ROOM_CHAT_FAC_ONLY, 0, PREP_NONE},
	{"promote", ROOM_ROLE, TG_TOM, 1, 0, PREP_NONE},
	{"demote", ROOM_ROLE, TG_TOM, 0, 0, PREP_PROMOTE_TOM},
	{"end", ROOM_END, TG_NONE, 0, 0, PREP_NONE},
	{"prompt", ROOM_PROMPT_OPEN, TG_NONE, 0, 0, PREP_NONE},
	{"close_prompt", ROOM_PROMPT_CLOSE, TG_PROMPT, 0, 0, PREP_NONE},
	{"agenda", ROOM_AGENDA_SET, TG_NONE, 0, 0, PREP_NONE},
	{"agenda_go", ROOM_AGENDA_GO, TG_NONE, 1, 0, PREP_NONE},
};

static int run_fac_cmd(struct fix *f, const struct cast *c, const struct fac_cmd *x, uint64_t who)
{
	if (x->kind == ROOM_PROMPT_OPEN)
		return open_prompt(f, who);
	if (x->kind == ROOM_AGENDA_SET)
		return set_agenda(f, who, true);
	uint64_t target = x->target == TG_TOM	   ? c->tom
			  : x->target == TG_MSG	   ? c->msg
			  : x->target == TG_PROMPT ? c->prompt
						   : 0;
	return cmd(f, x->kind, who, target, x->arg, x->arg2);
}

static void test_every_fac_command_is_forbidden_for_a_participant(void **state)
{
	(void)state;
	/* every kind from the hand queue on that needs a facilitator */
	bool covered[ROOM__CMD_MAX] = {false};
	for (size_t i = 0; i < sizeof(fac_cmds) / sizeof(fac_cmds[0]); i++) {
		const struct fac_cmd *x = &fac_cmds[i];
		void *st;
		fix_setup(&st);
		struct fix *f = st;
		struct cast c = cast(f);
		if (x->prep == PREP_MUTE_TOM)
			assert_err(cmd(f, ROOM_MUTE, c.fac, c.tom, 1, 0), 0);
		else if (x->prep == PREP_LOCK)
			assert_err(cmd(f, ROOM_LOCK, c.fac, 0, 1, 0), 0);
		else if (x->prep == PREP_PROMOTE_TOM)
			assert_err(cmd(f, ROOM_ROLE, c.fac, c.tom, 1, 0), 0);
		size_t n0, n1;
		uint8_t *before = mp_snapshot(&f->r, &n0);
		size_t nmod = f->r.nmod, nbanned = f->r.nbanned, nprompts = f->r.nprompts;
		int rc = run_fac_cmd(f, &c, x, c.pat);
		if (rc != PL_EFORBIDDEN)
			fail_msg("%s by a participant: got %d (%s), want forbidden", x->what, rc,
				 rc ? pl_err_code(rc) : "ok");
		assert_int_equal(f->fx.nev, 0);
		uint8_t *after = mp_snapshot(&f->r, &n1);
		if (n0 != n1 || memcmp(before, after, n0))
			fail_msg("%s by a participant changed the room", x->what);
		assert_int_equal(f->r.nmod, nmod);
		assert_int_equal(f->r.nbanned, nbanned);
		assert_int_equal(f->r.nprompts, nprompts);
		/* not for lack of a valid command: a co-facilitator may */
		rc = run_fac_cmd(f, &c, x, c.co);
		if (rc != 0)
			fail_msg("%s by a co-facilitator: got %d (%s), want ok", x->what, rc,
				 pl_err_code(rc));
		if (f->fx.nev == 0)
			fail_msg("%s by a co-facilitator did nothing", x->what);
		uint8_t *done = mp_snapshot(&f->r, &n1);
		if (n0 == n1 && !memcmp(before, done, n0))
			fail_msg("%s by a co-facilitator left the snapshot as it was", x->what);
		free(before);
		free(after);
		free(done);
		covered[x->kind] = true;
		fix_teardown(&st);
	}
	for (int k = ROOM_HAND_LOWER; k < ROOM__CMD_MAX; k++)
		if (k != ROOM_FLOOR_YIELD && k != ROOM_EXPIRE && k != ROOM_ANSWER && !covered[k])
			fail_msg("fac command kind %d is not in the list", k);
}

static void test_commands_from_non_members_are_not_joined(void **state)
{
	struct fix *f = *state;
	struct cast c = cast(f);
	for (size_t i = 0; i < sizeof(fac_cmds) / sizeof(fac_cmds[0]); i++) {
		const struct fac_cmd *x = &fac_cmds[i];
		int rc = run_fac_cmd(f, &c, x, c.tom + 1000);
		if (rc != PL_ENOTJOINED)
			fail_msg("%s by no member: got %d (%s), want not_joined", x->what, rc,
				 rc ? pl_err_code(rc) : "ok");
	}
}

/* ---- delete -------------------------------------------------------------- */

static void test_delete_marks_the_message_and_forgets_its_text(void **state)
{
	struct fix *f = *state;
	struct cast c = cast(f);
	assert_err(chat(f, c.pat, "keep me"), 0);
	assert_err(cmd(f, ROOM_DELETE, c.co, 0, 0, 0), PL_ENOTFOUND); /* no such message */
	assert_err(cmd(f, ROOM_DELETE, c.co, c.tom, 0, 0), PL_ENOTFOUND); /* a member's id */
	assert_err(cmd(f, ROOM_DELETE, c.co, c.msg, 0, 0), 0);
	assert_int_equal(f->fx.nev, 1);
	const struct room_ev *ev = the_ev(f, ROOM_EV_MOD);
	assert_int_equal(ev->mod->action, ROOM_MOD_DELETE);
	assert_int_equal(ev->mod->target, c.msg);
	assert_int_equal(ev->mod->actor, c.co);
	/* the event on the wire does not repeat the text */
	size_t n;
	uint8_t *p = mp_payload_copy(wire_event(&f->r, f->seq, f->ts, f->fx.ev, f->fx.nev), &n);
	assert_false(mp_contains(p, n, "hello", 5));
	free(p);
	/* in the ring: no text, marked; the other message untouched */
	const struct room_chat *m0 = room_recent_chat(&f->r, 0), *m1 = room_recent_chat(&f->r, 1);
	assert_int_equal(m0->seq, c.msg);
	assert_true(m0->deleted);
	assert_null(m0->text);
	assert_false(m1->deleted);
	assert_string_equal(m1->text, "keep me");
	/* in the list of every message */
	bool found = false;
	for (size_t i = 0; i < f->r.nmsgs; i++)
		if (f->r.msgs[i].seq == c.msg)
			found = f->r.msgs[i].deleted;
	assert_true(found);
	/* a snapshot shows it removed, with no text */
	struct mp u;
	mp_init(&u);
	const msgpack_object *o = mp_frame(&u, wire_ok_join(1, &f->r, c.pat, "tok", NULL));
	const msgpack_object *chats = mp_must(mp_must(o, "snapshot"), "chat");
	assert_int_equal(chats->via.array.size, 2);
	char buf[32];
	assert_int_equal(mp_u64(mp_must(&chats->via.array.ptr[0], "seq")), c.msg);
	assert_true(mp_bool(mp_must(&chats->via.array.ptr[0], "deleted")));
	assert_string_equal(mp_str(mp_must(&chats->via.array.ptr[0], "text"), buf, 32), "");
	assert_null(mp_get(&chats->via.array.ptr[1], "deleted"));
	mp_done(&u);
	/* deleting again: nothing more, no second log line */
	size_t nmod = f->r.nmod;
	assert_err(cmd(f, ROOM_DELETE, c.fac, c.msg, 0, 0), 0);
	assert_int_equal(f->fx.nev, 0);
	assert_int_equal(f->r.nmod, nmod);
}

static void test_delete_works_on_messages_past_the_recent_ring(void **state)
{
	struct fix *f = *state;
	struct cast c = cast(f);
	for (int i = 0; i < ROOM_RECENT_CHAT + 5; i++)
		assert_err(chat(f, c.pat, "more"), 0);
	assert_err(leave(f, c.tom, ROOM_LEFT), 0); /* its author is gone too */
	assert_err(cmd(f, ROOM_DELETE, c.fac, c.msg, 0, 0), 0);
	assert_int_equal(the_ev(f, ROOM_EV_MOD)->mod->target, c.msg);
	for (unsigned i = 0; i < f->r.chat_n; i++)
		assert_false(room_recent_chat(&f->r, i)->deleted);
}

/* ---- mute ---------------------------------------------------------------- */

static void test_mute_blocks_chat_until_unmuted(void **state)
{
	struct fix *f = *state;
	struct cast c = cast(f);
	assert_err(cmd(f, ROOM_MUTE, c.co, c.tom, 1, 0), 0);
	const struct room_ev *ev = the_ev(f, ROOM_EV_MOD);
	assert_int_equal(ev->mod->action, ROOM_MOD_MUTE);
	assert_int_equal(ev->member->id, c.tom); /* the member as they are now */
	assert_true(ev->member->muted);
	assert_true(mem(f, c.tom)->muted);
	unsigned chat_n = f->r.chat_n;
	assert_err(chat(f, c.tom, "let me speak"), PL_EMUTED);
	assert_int_equal(f->r.chat_n, chat_n);
	/* muting again: nothing, no log line */
	size_t nmod = f->r.nmod;
	assert_err(cmd(f, ROOM_MUTE, c.fac, c.tom, 1, 0), 0);
	assert_int_equal(f->fx.nev, 0);
	assert_int_equal(f->r.nmod, nmod);
	/* other things still work for a muted member */
	assert_err(cmd(f, ROOM_HAND_RAISE, c.tom, 0, ROOM_HAND_CLARIFY, 0), 0);
	assert_err(cmd(f, ROOM_MUTE, c.fac, c.tom, 0, 0), 0);
	assert_int_equal(the_ev(f, ROOM_EV_MOD)->mod->action, ROOM_MOD_UNMUTE);
	assert_false(mem(f, c.tom)->muted);
	assert_err(chat(f, c.tom, "thanks"), 0);
	assert_err(cmd(f, ROOM_MUTE, c.fac, c.tom, 0, 0), 0); /* not muted: nothing */
	assert_int_equal(f->fx.nev, 0);
	assert_err(cmd(f, ROOM_MUTE, c.fac, c.tom + 1000, 1, 0), PL_ENOTFOUND);
}

static void test_facilitators_cannot_be_muted(void **state)
{
	struct fix *f = *state;
	struct cast c = cast(f);
	assert_err(cmd(f, ROOM_MUTE, c.co, c.fac, 1, 0), PL_EFORBIDDEN);
	assert_err(cmd(f, ROOM_MUTE, c.fac, c.co, 1, 0), PL_EFORBIDDEN);
	assert_false(mem(f, c.fac)->muted);
	assert_false(mem(f, c.co)->muted);
	assert_err(chat(f, c.co, "still here"), 0);
}

/* PROTOCOL.md: "facilitators cannot be muted". A participant muted and then
 * promoted is a co-facilitator, and may chat. */
static void test_a_muted_participant_once_promoted_may_chat(void **state)
{
	struct fix *f = *state;
	struct cast c = cast(f);
	assert_err(cmd(f, ROOM_MUTE, c.fac, c.tom, 1, 0), 0);
	assert_err(cmd(f, ROOM_ROLE, c.fac, c.tom, 1, 0), 0);
	assert_int_equal(mem(f, c.tom)->role, ROOM_COFACILITATOR);
	assert_err(chat(f, c.tom, "a co-facilitator speaks"), 0);
}

/* ---- chat modes ---------------------------------------------------------- */

static void test_slow_mode_spaces_messages_by_record_time(void **state)
{
	struct fix *f = *state;
	struct cast c = cast(f);
	assert_err(cmd(f, ROOM_CHAT_MODE, c.fac, 0, ROOM_CHAT_SLOW, 10), 0);
	const struct room_ev *ev = the_ev(f, ROOM_EV_MOD);
	assert_int_equal(ev->mod->action, ROOM_MOD_CHAT_MODE);
	assert_int_equal(ev->mod->arg, ROOM_CHAT_SLOW);
	assert_int_equal(ev->mod->arg2, 10);
	assert_int_equal(f->r.chat_mode, ROOM_CHAT_SLOW);
	assert_int_equal(f->r.slow_s, 10);
	int64_t t = f->ts + 100000;
	struct room_cmd m = {.kind = ROOM_CHAT, .member = c.pat, .text = view(f, "one", 3),
			     .text_len = 3};
	assert_err(apply_at(f, &m, t), 0);
	assert_err(apply_at(f, &m, t + 9999), PL_ESLOW);
	assert_err(apply_at(f, &m, t + 5000), PL_ESLOW);
	assert_err(apply_at(f, &m, t + 10000), 0); /* a refused message does not count */
	assert_err(apply_at(f, &m, t + 10001), PL_ESLOW);
	/* each participant has their own clock */
	m.member = c.tom;
	assert_err(apply_at(f, &m, t + 10002), 0);
	/* facilitators are not held back */
	m.member = c.fac;
	assert_err(apply_at(f, &m, t + 10003), 0);
	assert_err(apply_at(f, &m, t + 10004), 0);
	m.member = c.co;
	assert_err(apply_at(f, &m, t + 10005), 0);
	assert_err(apply_at(f, &m, t + 10006), 0);
	/* open again */
	assert_err(cmd(f, ROOM_CHAT_MODE, c.fac, 0, ROOM_CHAT_OPEN, 0), 0);
	assert_int_equal(f->r.slow_s, 0);
	m.member = c.pat;
	assert_err(apply_at(f, &m, t + 10010), 0);
	assert_err(apply_at(f, &m, t + 10011), 0);
}

static void test_chat_mode_arguments_are_checked(void **state)
{
	struct fix *f = *state;
	struct cast c = cast(f);
	assert_err(cmd(f, ROOM_CHAT_MODE, c.fac, 0, ROOM_CHAT_SLOW, 0), PL_EBADREQ);
	assert_err(cmd(f, ROOM_CHAT_MODE, c.fac, 0, ROOM_CHAT_SLOW, 3601), PL_EBADREQ);
	assert_err(cmd(f, ROOM_CHAT_MODE, c.fac, 0, 3, 0), PL_EBADREQ);
	assert_int_equal(f->fx.nev, 0);
	assert_int_equal(f->r.chat_mode, ROOM_CHAT_OPEN);
	assert_int_equal(f->r.nmod, 1); /* the promotion only */
	assert_err(cmd(f, ROOM_CHAT_MODE, c.fac, 0, ROOM_CHAT_SLOW, 3600), 0);
}

static void test_facilitators_only_mode_refuses_participants(void **state)
{
	struct fix *f = *state;
	struct cast c = cast(f);
	assert_err(cmd(f, ROOM_CHAT_MODE, c.co, 0, ROOM_CHAT_FAC_ONLY, 0), 0);
	assert_int_equal(f->r.chat_mode, ROOM_CHAT_FAC_ONLY);
	assert_err(chat(f, c.pat, "may I?"), PL_EFORBIDDEN);
	assert_err(chat(f, c.tom, "may I?"), PL_EFORBIDDEN);
	assert_err(chat(f, c.fac, "facilitator"), 0);
	assert_err(chat(f, c.co, "co-facilitator"), 0);
	assert_err(cmd(f, ROOM_CHAT_MODE, c.co, 0, ROOM_CHAT_OPEN, 0), 0);
	assert_err(chat(f, c.pat, "now I may"), 0);
}

/* ---- remove and ban ------------------------------------------------------ */

static void test_remove_makes_the_member_leave_with_reason_removed(void **state)
{
	struct fix *f = *state;
	struct cast c = cast(f);
	assert_err(cmd(f, ROOM_FLOOR_GIVE, c.fac, c.tom, 0, 0), 0); /* tom speaks */
	assert_err(cmd(f, ROOM_HAND_RAISE, c.tom, 0, ROOM_HAND_NEW, 0), 0);
	size_t present = f->r.present;
	assert_err(cmd(f, ROOM_REMOVE, c.co, c.tom, 0, 0), 0);
	assert_int_equal(f->fx.ev[0].kind, ROOM_EV_MOD); /* the log line first */
	assert_int_equal(f->fx.ev[0].mod->action, ROOM_MOD_REMOVE);
	assert_int_equal(f->fx.ev[0].mod->target, c.tom);
	const struct room_ev *left = the_ev(f, ROOM_EV_LEFT);
	assert_int_equal(left->member->id, c.tom);
	assert_int_equal(left->reason, ROOM_REMOVED);
	assert_int_equal(count_ev(f, ROOM_EV_QUEUE), 1);
	assert_int_equal(count_ev(f, ROOM_EV_FLOOR), 1);
	assert_false(mem(f, c.tom)->present);
	assert_int_equal(f->r.present, present - 1);
	assert_int_equal(f->r.floor.member, 0);
	assert_int_equal(f->r.nhands, 0);
	assert_int_equal(f->r.nbanned, 0);
	/* gone: no chat, no resume, no second removal */
	assert_err(chat(f, c.tom, "wait"), PL_ENOTJOINED);
	assert_err(attach(f, c.tom), PL_ETOKEN);
	assert_err(cmd(f, ROOM_REMOVE, c.co, c.tom, 0, 0), PL_ENOTFOUND);
	/* without a ban the same browser may join again */
	assert_err(join_rec(f, "Tom again", false, DEV_T), 0);
}

static void test_ban_bars_the_device_hash_from_joining(void **state)
{
	struct fix *f = *state;
	struct cast c = cast(f);
	assert_err(cmd(f, ROOM_REMOVE, c.fac, c.tom, 1, 0), 0);
	assert_int_equal(f->fx.ev[0].mod->action, ROOM_MOD_BAN);
	assert_int_equal(the_ev(f, ROOM_EV_LEFT)->reason, ROOM_REMOVED);
	assert_int_equal(f->r.nbanned, 1);
	assert_memory_equal(f->r.banned[0], DEV_T, 16);
	size_t nmembers = f->r.nmembers;
	assert_err(join_rec(f, "Tom", false, DEV_T), PL_EBANNED);
	assert_err(join_rec(f, "Someone else", false, DEV_T), PL_EBANNED);
	assert_int_equal(f->fx.nev, 0);
	assert_int_equal(f->r.nmembers, nmembers);
	/* another browser may join */
	assert_err(join_rec(f, "Uma", false, DEV_U), 0);
	uint64_t uma = f->fx.member;
	/* the key holder may join from anywhere */
	assert_err(join_rec(f, "Fran's laptop", true, DEV_T), 0);
	assert_int_equal(mem(f, f->fx.member)->role, ROOM_FACILITATOR);
	/* banning a second device keeps the first barred */
	assert_err(cmd(f, ROOM_REMOVE, c.co, uma, 1, 0), 0);
	assert_int_equal(f->r.nbanned, 2);
	assert_err(join_rec(f, "Tom", false, DEV_T), PL_EBANNED);
	assert_err(join_rec(f, "Uma", false, DEV_U), PL_EBANNED);
}

static void test_ban_of_a_member_without_a_device_bars_nothing(void **state)
{
	struct fix *f = *state;
	struct cast c = cast(f);
	assert_err(cmd(f, ROOM_REMOVE, c.fac, c.pat, 1, 0), 0); /* pat joined without one */
	assert_int_equal(f->r.nbanned, 0);
	assert_err(join_rec(f, "Pat", false, NULL), 0);
	assert_err(join_rec(f, "Pat", false, DEV_U), 0);
}

static void test_the_key_holder_cannot_be_removed_demoted_or_muted(void **state)
{
	struct fix *f = *state;
	struct cast c = cast(f);
	size_t nmod = f->r.nmod;
	assert_err(cmd(f, ROOM_REMOVE, c.co, c.fac, 0, 0), PL_EFORBIDDEN);
	assert_err(cmd(f, ROOM_REMOVE, c.co, c.fac, 1, 0), PL_EFORBIDDEN);
	assert_err(cmd(f, ROOM_ROLE, c.co, c.fac, 0, 0), PL_EFORBIDDEN);
	assert_err(cmd(f, ROOM_MUTE, c.co, c.fac, 1, 0), PL_EFORBIDDEN);
	/* not even by itself, or by another key holder */
	uint64_t fac2 = facilitator(f, "Second key");
	assert_err(cmd(f, ROOM_ROLE, c.fac, c.fac, 0, 0), PL_EFORBIDDEN);
	assert_err(cmd(f, ROOM_REMOVE, fac2, c.fac, 0, 0), PL_EFORBIDDEN);
	assert_int_equal(f->fx.nev, 0);
	assert_int_equal(f->r.nmod, nmod);
	assert_int_equal(mem(f, c.fac)->role, ROOM_FACILITATOR);
	assert_true(mem(f, c.fac)->present);
	assert_false(mem(f, c.fac)->muted);
	assert_int_equal(f->r.nbanned, 0);
	/* a co-facilitator, though, can be removed */
	assert_err(cmd(f, ROOM_REMOVE, c.fac, c.co, 0, 0), 0);
	assert_false(mem(f, c.co)->present);
}

/* ---- lock ---------------------------------------------------------------- */

static void test_lock_refuses_new_participants_but_not_the_key(void **state)
{
	struct fix *f = *state;
	struct cast c = cast(f);
	assert_err(cmd(f, ROOM_LOCK, c.co, 0, 1, 0), 0);
	assert_int_equal(the_ev(f, ROOM_EV_MOD)->mod->action, ROOM_MOD_LOCK);
	assert_true(f->r.locked);
	assert_err(join_rec(f, "Late", false, NULL), PL_ELOCKED);
	assert_err(join_rec(f, "Late", false, DEV_U), PL_ELOCKED);
	assert_int_equal(f->fx.nev, 0);
	/* the key still opens it */
	assert_err(join_rec(f, "Key", true, NULL), 0);
	/* members come back */
	assert_err(detach(f, c.pat), 0);
	assert_err(attach(f, c.pat), 0);
	assert_int_equal(count_ev(f, ROOM_EV_BACK), 1);
	/* locking again: nothing */
	size_t nmod = f->r.nmod;
	assert_err(cmd(f, ROOM_LOCK, c.fac, 0, 1, 0), 0);
	assert_int_equal(f->fx.nev, 0);
	assert_int_equal(f->r.nmod, nmod);
	assert_err(cmd(f, ROOM_LOCK, c.fac, 0, 0, 0), 0);
	assert_int_equal(the_ev(f, ROOM_EV_MOD)->mod->action, ROOM_MOD_UNLOCK);
	assert_false(f->r.locked);
	assert_err(join_rec(f, "Late", false, NULL), 0);
}

/* ---- roles --------------------------------------------------------------- */

static void test_promote_and_demote_a_co_facilitator(void **state)
{
	struct fix *f = *state;
	struct cast c = cast(f);
	/* a participant cannot give the floor ... */
	assert_err(cmd(f, ROOM_FLOOR_GIVE, c.tom, c.tom, 0, 0), PL_EFORBIDDEN);
	assert_false(room_is_fac(&f->r, c.tom));
	assert_err(cmd(f, ROOM_ROLE, c.fac, c.tom, 1, 0), 0);
	const struct room_ev *ev = the_ev(f, ROOM_EV_MOD);
	assert_int_equal(ev->mod->action, ROOM_MOD_PROMOTE);
	assert_int_equal(ev->member->id, c.tom);
	assert_int_equal(ev->member->role, ROOM_COFACILITATOR);
	assert_true(room_is_fac(&f->r, c.tom));
	/* ... a co-facilitator can, and can promote others */
	assert_err(cmd(f, ROOM_FLOOR_GIVE, c.tom, c.tom, 0, 0), 0);
	assert_int_equal(f->r.floor.member, c.tom);
	assert_err(cmd(f, ROOM_ROLE, c.tom, c.pat, 1, 0), 0);
	assert_int_equal(mem(f, c.pat)->role, ROOM_COFACILITATOR);
	/* promoting again: nothing */
	size_t nmod = f->r.nmod;
	assert_err(cmd(f, ROOM_ROLE, c.fac, c.tom, 1, 0), 0);
	assert_int_equal(f->fx.nev, 0);
	assert_int_equal(f->r.nmod, nmod);
	/* demoted: back to a participant, with a participant's rights */
	assert_err(cmd(f, ROOM_ROLE, c.co, c.tom, 0, 0), 0);
	assert_int_equal(the_ev(f, ROOM_EV_MOD)->mod->action, ROOM_MOD_DEMOTE);
	assert_int_equal(mem(f, c.tom)->role, ROOM_PARTICIPANT);
	assert_err(cmd(f, ROOM_FLOOR_TAKE, c.tom, 0, 0, 0), PL_EFORBIDDEN);
	assert_err(cmd(f, ROOM_ROLE, c.fac, c.tom, 0, 0), 0); /* not one: nothing */
	assert_int_equal(f->fx.nev, 0);
	assert_err(cmd(f, ROOM_ROLE, c.fac, c.tom + 1000, 1, 0), PL_ENOTFOUND);
}

/* ---- end ----------------------------------------------------------------- */

static void test_end_makes_the_room_read_only(void **state)
{
	struct fix *f = *state;
	struct cast c = cast(f);
	int64_t since = f->r.floor.since;
	assert_err(cmd(f, ROOM_TIMER, c.fac, 0, 60, ROOM_TIMER_NOTICE), 0);
	assert_int_equal(f->r.floor.member, c.pat);
	assert_int_equal(f->r.nhands, 1);
	assert_false(room_prompt(&f->r, c.prompt)->closed);
	assert_err(cmd(f, ROOM_END, c.co, 0, 0, 0), 0);
	int64_t ended = f->ts;
	assert_int_equal(f->fx.ev[0].kind, ROOM_EV_MOD);
	assert_int_equal(f->fx.ev[0].mod->action, ROOM_MOD_END);
	assert_int_equal(count_ev(f, ROOM_EV_QUEUE), 1);
	assert_int_equal(count_ev(f, ROOM_EV_FLOOR), 1);
	assert_true(f->r.ended);
	assert_int_equal(f->r.ended_ts, ended);
	/* the floor and the hands are cleared, the turn credited */
	assert_int_equal(f->r.floor.member, 0);
	assert_int_equal(f->r.nhands, 0);
	assert_int_equal(mem(f, c.pat)->speak_ms, ended - since);
	/* every prompt is closed */
	assert_true(room_prompt(&f->r, c.prompt)->closed);
	assert_int_equal(room_prompt(&f->r, c.prompt)->closed_at, ended);
	uint8_t what;
	uint64_t target;
	assert_int_equal(room_next_deadline(&f->r, &what, &target), 0);

	/* everything but presence is refused with session_ended */
	size_t n0, n1;
	uint8_t *before = mp_snapshot(&f->r, &n0);
	assert_err(join_rec(f, "Late", false, NULL), PL_EENDED);
	assert_err(join_rec(f, "Key", true, NULL), PL_EENDED);
	assert_err(chat(f, c.fac, "after the end"), PL_EENDED);
	for (int k = ROOM_HAND_RAISE; k < ROOM__CMD_MAX; k++) {
		if (k == ROOM_EXPIRE)
			continue;
		int rc = cmd(f, (enum room_cmd_kind)k, c.fac, c.tom, 1, 1);
		if (rc != PL_EENDED)
			fail_msg("record kind %d after the end: got %d (%s), want session_ended",
				 k, rc, rc ? pl_err_code(rc) : "ok");
	}
	assert_err(open_prompt(f, c.fac), PL_EENDED);
	assert_err(set_agenda(f, c.fac, true), PL_EENDED);
	struct room_cmd a = {.kind = ROOM_ANSWER, .member = c.pat, .target = c.prompt};
	assert_err(apply(f, &a), PL_EENDED);
	/* an expire record is ignored without an error (a timer's, not a person's) */
	assert_err(expire_at(f, c.prompt, ROOM_EXPIRE_PROMPT, f->ts + 1000000), 0);
	assert_int_equal(f->fx.nev, 0);
	uint8_t *after = mp_snapshot(&f->r, &n1);
	assert_int_equal(n0, n1);
	assert_memory_equal(before, after, n0);
	free(before);
	free(after);
	/* presence still works: members stay connected, drop, come back, leave */
	assert_err(detach(f, c.pat), 0);
	assert_int_equal(count_ev(f, ROOM_EV_AWAY), 1);
	assert_err(attach(f, c.pat), 0);
	assert_int_equal(count_ev(f, ROOM_EV_BACK), 1);
	assert_err(leave(f, c.tom, ROOM_LEFT), 0);
	assert_int_equal(count_ev(f, ROOM_EV_LEFT), 1);
	assert_false(mem(f, c.tom)->present);
}

/* ---- the moderation log -------------------------------------------------- */

static void test_moderation_log_lists_who_did_what_to_whom_in_order(void **state)
{
	struct fix *f = *state;
	struct cast c = cast(f);
	struct room_mod want[10];
	int n = 0;
#define LOGGED(actor_, action_, target_, arg_, arg2_)                                      \
	want[n++] = (struct room_mod){.seq = f->seq, .ts = f->ts, .actor = actor_,          \
				      .action = action_, .target = target_, .arg = arg_,   \
				      .arg2 = arg2_}
	LOGGED(c.fac, ROOM_MOD_PROMOTE, c.co, 0, 0); /* from the cast */
	assert_int_equal(f->r.nmod, 1);
	want[0].seq = f->r.modlog[0].seq;
	want[0].ts = f->r.modlog[0].ts;
	assert_err(cmd(f, ROOM_MUTE, c.fac, c.tom, 1, 0), 0);
	LOGGED(c.fac, ROOM_MOD_MUTE, c.tom, 0, 0);
	assert_err(cmd(f, ROOM_LOCK, c.co, 0, 1, 0), 0);
	LOGGED(c.co, ROOM_MOD_LOCK, 0, 0, 0);
	assert_err(cmd(f, ROOM_CHAT_MODE, c.fac, 0, ROOM_CHAT_SLOW, 30), 0);
	LOGGED(c.fac, ROOM_MOD_CHAT_MODE, 0, ROOM_CHAT_SLOW, 30);
	assert_err(cmd(f, ROOM_DELETE, c.co, c.msg, 0, 0), 0);
	LOGGED(c.co, ROOM_MOD_DELETE, c.msg, 0, 0);
	assert_err(cmd(f, ROOM_MUTE, c.fac, c.tom, 0, 0), 0);
	LOGGED(c.fac, ROOM_MOD_UNMUTE, c.tom, 0, 0);
	assert_err(cmd(f, ROOM_ROLE, c.fac, c.pat, 1, 0), 0);
	LOGGED(c.fac, ROOM_MOD_PROMOTE, c.pat, 0, 0);
	assert_err(cmd(f, ROOM_REMOVE, c.pat, c.tom, 1, 0), 0); /* the new co-facilitator */
	LOGGED(c.pat, ROOM_MOD_BAN, c.tom, 0, 0);
	assert_err(cmd(f, ROOM_ROLE, c.co, c.pat, 0, 0), 0);
	LOGGED(c.co, ROOM_MOD_DEMOTE, c.pat, 0, 0);
	assert_err(cmd(f, ROOM_END, c.fac, 0, 0, 0), 0);
	LOGGED(c.fac, ROOM_MOD_END, 0, 0, 0);
#undef LOGGED
	assert_int_equal(f->r.nmod, (size_t)n);
	for (int i = 0; i < n; i++) {
		const struct room_mod *m = &f->r.modlog[i];
		if (m->action != want[i].action || m->actor != want[i].actor ||
		    m->target != want[i].target || m->seq != want[i].seq ||
		    m->ts != want[i].ts || m->arg != want[i].arg || m->arg2 != want[i].arg2)
			fail_msg("log line %d: action %d actor %llu target %llu seq %llu "
				 "arg %u/%u; want action %d actor %llu target %llu seq %llu "
				 "arg %u/%u",
				 i, m->action, (unsigned long long)m->actor,
				 (unsigned long long)m->target, (unsigned long long)m->seq, m->arg,
				 m->arg2, want[i].action, (unsigned long long)want[i].actor,
				 (unsigned long long)want[i].target,
				 (unsigned long long)want[i].seq, want[i].arg, want[i].arg2);
	}
	/* on the wire: in order, with names, and the removed member's name too */
	struct mp u;
	mp_init(&u);
	const msgpack_object *o = mp_frame(&u, wire_ok_join(1, &f->r, c.fac, "tok", NULL));
	const msgpack_object *log = mp_must(mp_must(o, "snapshot"), "modlog");
	assert_int_equal(log->via.array.size, (uint32_t)n);
	char buf[64];
	const msgpack_object *ban = &log->via.array.ptr[7];
	assert_string_equal(mp_str(mp_must(ban, "action"), buf, 64), "ban");
	assert_int_equal(mp_u64(mp_must(ban, "actor")), c.pat);
	assert_string_equal(mp_str(mp_must(ban, "actor_name"), buf, 64), "Pat");
	assert_int_equal(mp_u64(mp_must(ban, "target")), c.tom);
	assert_string_equal(mp_str(mp_must(ban, "target_name"), buf, 64), "Tom");
	const msgpack_object *del = &log->via.array.ptr[4];
	assert_string_equal(mp_str(mp_must(del, "action"), buf, 64), "delete");
	assert_int_equal(mp_u64(mp_must(del, "target")), c.msg);
	assert_null(mp_get(del, "target_name"));
	assert_null(mp_get(del, "text"));
	const msgpack_object *mode = &log->via.array.ptr[3];
	assert_string_equal(mp_str(mp_must(mode, "mode"), buf, 64), "slow");
	assert_int_equal(mp_u64(mp_must(mode, "seconds")), 30);
	for (int i = 1; i < n; i++)
		assert_true(mp_u64(mp_must(&log->via.array.ptr[i], "seq")) >
			    mp_u64(mp_must(&log->via.array.ptr[i - 1], "seq")));
	mp_done(&u);
}

#define T(name) cmocka_unit_test_setup_teardown(name, fix_setup, fix_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_fac_command_is_forbidden_for_a_participant),
		T(test_commands_from_non_members_are_not_joined),
		T(test_delete_marks_the_message_and_forgets_its_text),
		T(test_delete_works_on_messages_past_the_recent_ring),
		T(test_mute_blocks_chat_until_unmuted),
		T(test_facilitators_cannot_be_muted),
		T(test_a_muted_participant_once_promoted_may_chat),
		T(test_slow_mode_spaces_messages_by_record_time),
		T(test_chat_mode_arguments_are_checked),
		T(test_facilitators_only_mode_refuses_participants),
		T(test_remove_makes_the_member_leave_with_reason_removed),
		T(test_ban_bars_the_device_hash_from_joining),
		T(test_ban_of_a_member_without_a_device_bars_nothing),
		T(test_the_key_holder_cannot_be_removed_demoted_or_muted),
		T(test_lock_refuses_new_participants_but_not_the_key),
		T(test_promote_and_demote_a_co_facilitator),
		T(test_end_makes_the_room_read_only),
		T(test_moderation_log_lists_who_did_what_to_whom_in_order),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
