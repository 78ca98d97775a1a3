/*
 * test_export.c — export/: session transcripts in JSON, Markdown, HTML and
 * CSV, built from records given as struct room_cmd (as wire_record_decode
 * would give them) with fixed seqs, times and ids.
 *
 * GOLDEN FILES. test_golden_session scripts a whole lunch-and-learn (see
 * golden_session below: every figure in the files was checked by hand
 * against that script) and compares each rendering byte for byte with
 * tests/unit/export/golden/session.{json,md,html} and
 * session.{contributions,chat,turns,prompts}.csv. The directory is found
 * from __FILE__ (the Makefile compiles this file by its path from the repo
 * root, and the tests run from the repo root). On a mismatch the test names
 * the first differing line and writes what it got to
 * test-output/golden/<file>. To regenerate after an intended change:
 *
 *     make unit && UPDATE_GOLDEN=1 build/tests/export/test_export
 *
 * then read `git diff tests/unit/export/golden/` line by line: the files
 * are the specification of the output, not a snapshot to wave through.
 * Where the renderer was wrong when a file was written, the file says what
 * is right (line 12 of session.html: a <title> holds text only, so no
 * <bdi> there); regenerating would pin the bug, so check that line first.
 *
 * The other tests check properties that golden files cannot: user text full
 * of HTML, Markdown and CSV metacharacters and odd Unicode stays inert in
 * every format; anonymous answers are never linked to anyone; and a few
 * figures that must hold whatever the layout.
 *
 * Every string handed to export_feed is an exact-size heap copy with no NUL
 * after it, as a view into a decoded record would be (ASan catches a read
 * past a view's length). Each record also goes through a shadow room with
 * room_apply, so the script itself is checked: a record meant to be
 * accepted that the room rejects fails the test at once.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "export/export.h"
#include "room/room.h"
#include "util/err.h"

#define ROOM_ID "G0ldenR00m-Id_42"
#define T0 1773316800000LL /* 2026-03-12 12:00:00 UTC */
/* A time m minutes and s seconds after 12:00:00. */
#define AT(m, s) (T0 + ((int64_t)(m) * 60 + (s)) * 1000)

static const uint8_t KH[32] = {0xc0, 0xff, 0xee, 3,  4,  5,  6,  7,  8,  9,  10,
			       11,   12,   13,   14, 15, 16, 17, 18, 19, 20, 21,
			       22,   23,   24,   25, 26, 27, 28, 29, 30, 31};

#define assert_err(got, want)                                                              \
	do {                                                                               \
		int got_ = (got), want_ = (want);                                          \
		if (got_ != want_)                                                         \
			fail_msg("%s: got %d (%s), want %d (%s)", #got, got_,              \
				 got_ ? pl_err_code(got_) : "ok", want_,                   \
				 want_ ? pl_err_code(want_) : "ok");                       \
	} while (0)
#define OK(expr) assert_err((expr), 0)

/* ---- ownership --------------------------------------------------------------- */

/* Everything a test allocates (sessions, renderings, parsed JSON and CSV) is
 * owned here and freed by teardown, so that a failing assertion, which
 * leaves the test by longjmp, leaks nothing under ASan. */
struct owned {
	void *p;
	void (*fn)(void *);
};
static struct owned *owned;
static size_t nowned, owned_cap;

static void *own(void *p, void (*fn)(void *))
{
	if (nowned == owned_cap) {
		owned_cap = owned_cap ? owned_cap * 2 : 64;
		owned = realloc(owned, owned_cap * sizeof(*owned));
		assert_non_null(owned);
	}
	owned[nowned++] = (struct owned){p, fn};
	return p;
}

static int teardown(void **state)
{
	(void)state;
	while (nowned) {
		nowned--;
		owned[nowned].fn(owned[nowned].p);
	}
	free(owned);
	owned = NULL;
	owned_cap = 0;
	return 0;
}

static void json_free(void *j)
{
	json_decref(j);
}

/* ---- a scripted session ---------------------------------------------------- */

struct sess {
	struct export *x;
	struct room shadow; /* the same records through room_apply */
	uint64_t seq;       /* of the last record */
	int64_t ts;
	char **views;
	int nviews;
};

static void sess_free(void *p);

static struct sess *sess_new(void)
{
	struct sess *s = calloc(1, sizeof(*s));
	assert_non_null(s);
	room_init(&s->shadow);
	own(s, sess_free);
	s->x = export_new();
	assert_non_null(s->x);
	return s;
}

static void sess_free(void *p)
{
	struct sess *s = p;
	if (!s)
		return;
	export_free(s->x);
	room_deinit(&s->shadow);
	for (int i = 0; i < s->nviews; i++)
		free(s->views[i]);
	free(s->views);
	free(s);
}

/* An exact-size copy, no NUL after it; freed with the session. */
static const char *view(struct sess *s, const char *p, size_t n)
{
	char *v = malloc(n ? n : 1);
	memcpy(v, p, n);
	s->views = realloc(s->views, (size_t)(s->nviews + 1) * sizeof(*s->views));
	s->views[s->nviews++] = v;
	return v;
}

static struct room_text tv(struct sess *s, const char *p)
{
	return (struct room_text){view(s, p, strlen(p)), strlen(p)};
}

/* Feeds one record at time ts with the next seq; returns room_apply's
 * verdict on the shadow room. */
static int feed(struct sess *s, int64_t ts, struct room_cmd c)
{
	struct room_fx fx;
	assert_true(ts >= s->ts);
	s->seq++;
	s->ts = ts;
	int rc = room_apply(&s->shadow, s->seq, ts, &c, &fx);
	export_feed(s->x, s->seq, ts, &c);
	return rc;
}

static void create(struct sess *s, int64_t ts, const char *title)
{
	struct room_cmd c = {.kind = ROOM_CREATE, .origin = 1, .id = view(s, ROOM_ID, 16),
			     .id_len = 16, .text = view(s, title, strlen(title)),
			     .text_len = strlen(title), .has_kh = true};
	memcpy(c.kh, KH, 32);
	OK(feed(s, ts, c));
}

/* Joins (with the key if fac); returns the member id (the record's seq). */
static uint64_t join(struct sess *s, int64_t ts, const char *name, bool fac)
{
	struct room_cmd c = {.kind = ROOM_JOIN, .origin = 2, .text = view(s, name, strlen(name)),
			     .text_len = strlen(name), .has_kh = fac};
	if (fac)
		memcpy(c.kh, KH, 32);
	OK(feed(s, ts, c));
	return s->seq;
}

/* Sends a chat message; returns its seq. want: the expected verdict. */
static uint64_t chat_want(struct sess *s, int64_t ts, uint64_t who, const char *text, int want)
{
	struct room_cmd c = {.kind = ROOM_CHAT, .origin = 3, .member = who,
			     .text = view(s, text, strlen(text)), .text_len = strlen(text)};
	assert_err(feed(s, ts, c), want);
	return s->seq;
}

static uint64_t chat(struct sess *s, int64_t ts, uint64_t who, const char *text)
{
	return chat_want(s, ts, who, text, 0);
}

/* Any command with member, target, arg, arg2; returns its seq. */
static uint64_t cmd(struct sess *s, int64_t ts, enum room_cmd_kind kind, uint64_t who,
		    uint64_t target, uint32_t arg, uint32_t arg2)
{
	struct room_cmd c = {.kind = kind, .origin = kind == ROOM_EXPIRE ? 0 : 4, .member = who,
			     .target = target, .arg = arg, .arg2 = arg2};
	OK(feed(s, ts, c));
	return s->seq;
}

static void leave(struct sess *s, int64_t ts, uint64_t who)
{
	struct room_cmd c = {.kind = ROOM_LEAVE, .origin = 5, .member = who, .reason = ROOM_LEFT};
	OK(feed(s, ts, c));
}

static void agenda(struct sess *s, int64_t ts, uint64_t who, const char *const *titles,
		   const uint32_t *minutes, unsigned n)
{
	struct room_cmd c = {.kind = ROOM_AGENDA_SET, .origin = 6, .member = who,
			     .nopts = (uint8_t)n};
	for (unsigned i = 0; i < n; i++) {
		c.opts[i] = tv(s, titles[i]);
		c.nums[i] = minutes[i];
	}
	OK(feed(s, ts, c));
}

/* Opens a prompt; opts are the options, or for a rating the two labels
 * (nopts is then the scale). Returns its id. */
static uint64_t prompt(struct sess *s, int64_t ts, uint64_t who, uint8_t kind, uint8_t reveal,
		       bool anonymous, const char *question, const char *const *opts,
		       unsigned nopts, uint32_t seconds)
{
	struct room_cmd c = {.kind = ROOM_PROMPT_OPEN, .origin = 7, .member = who,
			     .text = view(s, question, strlen(question)),
			     .text_len = strlen(question), .pkind = kind, .reveal = reveal,
			     .anonymous = anonymous, .nopts = (uint8_t)nopts, .arg = seconds};
	unsigned n = kind == ROOM_PROMPT_RATING ? 2 : kind == ROOM_PROMPT_TEXT ? 0 : nopts;
	for (unsigned i = 0; i < n; i++)
		c.opts[i] = tv(s, opts[i]);
	OK(feed(s, ts, c));
	return s->seq;
}

/* A named answer: member set, no token. */
static void answer(struct sess *s, int64_t ts, uint64_t who, uint64_t p, uint32_t arg,
		   const char *text)
{
	struct room_cmd c = {.kind = ROOM_ANSWER, .origin = 8, .member = who, .target = p,
			     .arg = arg};
	if (text) {
		c.text = view(s, text, strlen(text));
		c.text_len = strlen(text);
	}
	OK(feed(s, ts, c));
}

/* An anonymous answer as the hub makes it: member 0 and a token (here 16
 * bytes of `tok`); the origin is fresh randomness in real life. */
static void answer_anon(struct sess *s, int64_t ts, uint8_t tok, uint64_t p, uint32_t arg,
			const char *text)
{
	struct room_cmd c = {.kind = ROOM_ANSWER, .origin = 0x9e3779b97f4a7c15ull ^ tok,
			     .target = p, .arg = arg, .has_token = true};
	memset(c.token, tok, 16);
	if (text) {
		c.text = view(s, text, strlen(text));
		c.text_len = strlen(text);
	}
	OK(feed(s, ts, c));
}

/* ---- rendering ---------------------------------------------------------------- */

/* Renders into a NUL-terminated heap string. */
static char *render(const struct sess *s, enum export_format f, enum export_table t)
{
	struct buf b;
	buf_init(&b);
	OK(export_render(s->x, f, t, &b));
	char *out = malloc(b.len + 1);
	assert_non_null(out);
	if (b.len)
		memcpy(out, buf_data(&b), b.len);
	out[b.len] = '\0';
	size_t n = b.len;
	buf_deinit(&b);
	own(out, free);
	assert_int_equal(strlen(out), n); /* no NUL inside */
	return out;
}

static const char *const table_names[] = {"contributions", "chat", "turns", "prompts"};

/* ---- golden files ----------------------------------------------------------- */

static void golden_path(const char *name, char *out, size_t n)
{
	const char *file = __FILE__;
	const char *slash = strrchr(file, '/');
	int dir = slash ? (int)(slash - file + 1) : 0;
	snprintf(out, n, "%.*sgolden/%s", dir, file, name);
}

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	size_t cap = 4096, n = 0;
	char *p = malloc(cap);
	for (;;) {
		if (n + 1 >= cap)
			p = realloc(p, cap *= 2);
		size_t r = fread(p + n, 1, cap - n - 1, f);
		if (!r)
			break;
		n += r;
	}
	fclose(f);
	p[n] = '\0';
	*len = n;
	return p;
}

static void write_file(const char *path, const char *data)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		fail_msg("cannot write %s: %s", path, strerror(errno));
	fwrite(data, 1, strlen(data), f);
	fclose(f);
}

/* Compares a rendering with its golden file; prints the first difference
 * and returns false if they differ (or writes the file, with
 * UPDATE_GOLDEN=1). */
static bool check_golden(const char *name, const char *got)
{
	char path[512];
	golden_path(name, path, sizeof(path));
	const char *update = getenv("UPDATE_GOLDEN");
	if (update && !strcmp(update, "1")) {
		write_file(path, got);
		print_message("UPDATE_GOLDEN=1: wrote %s (%zu bytes)\n", path, strlen(got));
		return true;
	}
	size_t len = 0;
	char *want = read_file(path, &len);
	if (!want)
		fail_msg("golden file %s missing (%s): run with UPDATE_GOLDEN=1 to write it, "
			 "then check it by hand",
			 path, strerror(errno));
	if (len == strlen(got) && !memcmp(want, got, len)) {
		free(want);
		return true;
	}
	/* the first difference, by line */
	size_t i = 0, line = 1, bol = 0;
	while (want[i] && got[i] && want[i] == got[i]) {
		if (want[i] == '\n') {
			line++;
			bol = i + 1;
		}
		i++;
	}
	const char *we = strchr(want + bol, '\n'), *ge = strchr(got + bol, '\n');
	int wl = we ? (int)(we - want - bol) : (int)strlen(want + bol);
	int gl = ge ? (int)(ge - got - bol) : (int)strlen(got + bol);
	mkdir("test-output", 0755);
	mkdir("test-output/golden", 0755);
	char actual[512];
	snprintf(actual, sizeof(actual), "test-output/golden/%s", name);
	write_file(actual, got);
	print_error("%s differs from the rendering at line %zu, byte %zu:\n  want: %.*s\n"
		    "  got:  %.*s\nthe whole rendering is in %s; if the change is intended, "
		    "regenerate with UPDATE_GOLDEN=1 and review the diff\n",
		    path, line, i, wl, want + bol, gl, got + bol, actual);
	free(want);
	return false;
}

/*
 * The scripted session (all times UTC, 2026-03-12). Members: Fran (the
 * facilitator, id 2), Ana (3), Bo (4), Cy (5).
 *
 *  seq time      record                          what it does
 *   1  12:00:00  create                          "Lunch and learn: async Rust"
 *   2  12:00:30  join Fran with the key          facilitator
 *   3  12:01:00  join Ana
 *   4  12:01:10  join Bo
 *   5  12:01:20  join Cy
 *   6  12:01:30  chat Fran                       "Welcome! The agenda is up."
 *   7  12:01:40  chat Ana                        "Hi all"
 *   8  12:01:50  chat Bo                         "Buy cheap watches at example.com"
 *   9  12:02:00  delete 8 (Fran)                 Bo's message: removed
 *  10  12:02:10  agenda Intro 5, Talk 20, Q&A 10
 *  11  12:02:30  agenda_go 0                     Intro starts
 *  12  12:02:40  timer 120 s, notice
 *  13  12:03:00  give Fran (Fran)                turn 1: Fran, deadline 12:05:00
 *  14  12:04:00  raise Ana: new
 *  15  12:04:10  raise Bo: reply
 *  16  12:04:20  raise Cy: clarify               queue: Cy, Bo, Ana
 *  17  12:04:36  expire turn 13: warn (80 %)
 *  18  12:05:00  expire turn 13: end             notice: Fran keeps the floor
 *  19  12:05:30  (a record that could not be decoded: takes its seq only)
 *  20  12:07:30  agenda_go 1                     Intro ends (5:00), Talk starts
 *  21  12:07:30  give (queue head)               turn 2: Cy; Fran spoke 4:30
 *  22  12:07:40  timer 60 s, next                Cy's deadline 12:08:30
 *  23  12:08:18  expire turn 21: warn
 *  24  12:08:30  expire turn 21: end             next: turn 3 Bo; Cy spoke 1:00
 *  25  12:09:00  timer off
 *  26  12:10:15  yield (Bo)                      Bo spoke 1:45
 *  27  12:10:20  give (queue head)               turn 4: Ana
 *  28  12:12:00  chat Cy                         "Great point about lifetimes"
 *  29  12:13:20  take (Fran)                     Ana spoke 3:00
 *  30  12:13:30  prompt 30: single, named        "Which topic next?" Traits/Macros/Async
 *  31  12:13:40  answer Ana: Async
 *  32  12:13:45  answer Bo: Traits
 *  33  12:13:50  answer Cy: Async
 *  34  12:13:55  answer Bo: Macros               a change of mind: 0 / 1 / 2
 *  35  12:14:30  close 30
 *  36  12:14:40  prompt 36: rating 1-5, anonymous "How clear was the talk?" Lost..Clear
 *  37  12:14:50  answer token A: 4
 *  38  12:14:55  answer token B: 5
 *  39  12:15:00  answer token C: 3
 *  40  12:15:05  answer token A: 5              counts 0 0 1 0 2, mean 13/3
 *  41  12:15:30  close 36
 *  42  12:16:00  prompt 42: open text, named, 120 s "One thing you will try"
 *  43  12:16:20  answer Ana                      "Write a small async server"
 *  44  12:16:30  answer Cy                       "Benchmark before and after"
 *  45  12:18:00  expire prompt 42                closed by its deadline
 *  46  12:18:10  mute Bo (Fran)
 *  47  12:18:20  chat Bo                         refused: muted (no trace)
 *  48  12:18:30  promote Cy (Fran)
 *  49  12:19:00  agenda_go 2                     Talk ends (11:30), Q&A starts
 *  50  12:19:10  raise Ana: new
 *  51  12:19:20  give (queue head) (Cy, co-fac)  turn 5: Ana
 *  52  12:20:00  leave Ana                       Ana spoke 0:40; floor free
 *  53  12:21:00  chat Fran                       "Thanks everyone!"
 *  54  12:21:30  raise Bo: new                   still raised at the end
 *  55  12:22:00  end (Fran)                      Q&A ran 3:00; hands cleared
 *
 * So: duration 22:00 (12:00:00 to 12:22:00). Turns: Fran 270 s, Cy 60 s,
 * Bo 105 s, Ana 180 s + 40 s; all 655 s. Per person: Fran 1 turn 4:30
 * 41 % (270/655 = 0.4122), Ana 2 turns 3:40 34 % (0.3359), Bo 1 turn 1:45
 * 16 % (0.1603), Cy 1 turn 1:00 9 % (0.0916). Messages: Fran 2, Ana 1, Bo 1
 * (the removed one: it was sent; the muted one was not), Cy 1. Hands: Fran
 * 0, Ana 2, Bo 2, Cy 1. Named prompts answered: Fran 0, Ana 2, Bo 1, Cy 2;
 * anonymous answers: 3. Agenda: Intro 5 min / 5:00, Talk 20 / 11:30, Q&A
 * 10 / 3:00.
 */
static struct sess *golden_session(void)
{
	struct sess *s = sess_new();
	create(s, AT(0, 0), "Lunch and learn: async Rust");
	uint64_t fran = join(s, AT(0, 30), "Fran", true);
	uint64_t ana = join(s, AT(1, 0), "Ana", false);
	uint64_t bo = join(s, AT(1, 10), "Bo", false);
	uint64_t cy = join(s, AT(1, 20), "Cy", false);
	assert_int_equal(fran, 2);
	assert_int_equal(cy, 5);
	chat(s, AT(1, 30), fran, "Welcome! The agenda is up.");
	chat(s, AT(1, 40), ana, "Hi all");
	uint64_t spam = chat(s, AT(1, 50), bo, "Buy cheap watches at example.com");
	cmd(s, AT(2, 0), ROOM_DELETE, fran, spam, 0, 0);
	static const char *const segs[] = {"Intro", "Talk", "Q&A"};
	static const uint32_t mins[] = {5, 20, 10};
	agenda(s, AT(2, 10), fran, segs, mins, 3);
	cmd(s, AT(2, 30), ROOM_AGENDA_GO, fran, 0, 0, 0);
	cmd(s, AT(2, 40), ROOM_TIMER, fran, 0, 120, ROOM_TIMER_NOTICE);
	uint64_t t1 = cmd(s, AT(3, 0), ROOM_FLOOR_GIVE, fran, fran, 0, 0);
	cmd(s, AT(4, 0), ROOM_HAND_RAISE, ana, 0, ROOM_HAND_NEW, 0);
	cmd(s, AT(4, 10), ROOM_HAND_RAISE, bo, 0, ROOM_HAND_REPLY, 0);
	cmd(s, AT(4, 20), ROOM_HAND_RAISE, cy, 0, ROOM_HAND_CLARIFY, 0);
	cmd(s, AT(4, 36), ROOM_EXPIRE, 0, t1, ROOM_EXPIRE_WARN, 0);
	cmd(s, AT(5, 0), ROOM_EXPIRE, 0, t1, ROOM_EXPIRE_TURN, 0);
	assert_int_equal(s->shadow.floor.member, fran); /* notice: still Fran's */
	assert_true(s->shadow.floor.expired);
	assert_err(feed(s, AT(5, 30), (struct room_cmd){0}), PL_ENOTJOINED); /* undecodable */
	cmd(s, AT(7, 30), ROOM_AGENDA_GO, fran, 0, 1, 0);
	uint64_t t2 = cmd(s, AT(7, 30), ROOM_FLOOR_GIVE, fran, 0, 0, 0);
	assert_int_equal(s->shadow.floor.member, cy);
	cmd(s, AT(7, 40), ROOM_TIMER, fran, 0, 60, ROOM_TIMER_NEXT);
	cmd(s, AT(8, 18), ROOM_EXPIRE, 0, t2, ROOM_EXPIRE_WARN, 0);
	cmd(s, AT(8, 30), ROOM_EXPIRE, 0, t2, ROOM_EXPIRE_TURN, 0);
	assert_int_equal(s->shadow.floor.member, bo);
	cmd(s, AT(9, 0), ROOM_TIMER, fran, 0, 0, ROOM_TIMER_NOTICE);
	cmd(s, AT(10, 15), ROOM_FLOOR_YIELD, bo, 0, 0, 0);
	cmd(s, AT(10, 20), ROOM_FLOOR_GIVE, fran, 0, 0, 0);
	assert_int_equal(s->shadow.floor.member, ana);
	chat(s, AT(12, 0), cy, "Great point about lifetimes");
	cmd(s, AT(13, 20), ROOM_FLOOR_TAKE, fran, 0, 0, 0);

	static const char *const topics[] = {"Traits", "Macros", "Async"};
	uint64_t poll = prompt(s, AT(13, 30), fran, ROOM_PROMPT_SINGLE, ROOM_REVEAL_LIVE, false,
			       "Which topic next?", topics, 3, 0);
	assert_int_equal(poll, 30);
	answer(s, AT(13, 40), ana, poll, 2, NULL);
	answer(s, AT(13, 45), bo, poll, 0, NULL);
	answer(s, AT(13, 50), cy, poll, 2, NULL);
	answer(s, AT(13, 55), bo, poll, 1, NULL);
	cmd(s, AT(14, 30), ROOM_PROMPT_CLOSE, fran, poll, 0, 0);

	static const char *const labels[] = {"Lost", "Clear"};
	uint64_t rating = prompt(s, AT(14, 40), fran, ROOM_PROMPT_RATING, ROOM_REVEAL_CLOSED,
				 true, "How clear was the talk?", labels, 5, 0);
	answer_anon(s, AT(14, 50), 0xa1, rating, 4, NULL);
	answer_anon(s, AT(14, 55), 0xb2, rating, 5, NULL);
	answer_anon(s, AT(15, 0), 0xc3, rating, 3, NULL);
	answer_anon(s, AT(15, 5), 0xa1, rating, 5, NULL);
	cmd(s, AT(15, 30), ROOM_PROMPT_CLOSE, fran, rating, 0, 0);

	uint64_t open = prompt(s, AT(16, 0), fran, ROOM_PROMPT_TEXT, ROOM_REVEAL_LIVE, false,
			       "One thing you will try", NULL, 0, 120);
	answer(s, AT(16, 20), ana, open, 0, "Write a small async server");
	answer(s, AT(16, 30), cy, open, 0, "Benchmark before and after");
	cmd(s, AT(18, 0), ROOM_EXPIRE, 0, open, ROOM_EXPIRE_PROMPT, 0);
	assert_true(room_prompt(&s->shadow, open)->closed);

	cmd(s, AT(18, 10), ROOM_MUTE, fran, bo, 1, 0);
	chat_want(s, AT(18, 20), bo, "am I muted?", PL_EMUTED);
	cmd(s, AT(18, 30), ROOM_ROLE, fran, cy, 1, 0);
	cmd(s, AT(19, 0), ROOM_AGENDA_GO, fran, 0, 2, 0);
	cmd(s, AT(19, 10), ROOM_HAND_RAISE, ana, 0, ROOM_HAND_NEW, 0);
	cmd(s, AT(19, 20), ROOM_FLOOR_GIVE, cy, 0, 0, 0);
	assert_int_equal(s->shadow.floor.member, ana);
	leave(s, AT(20, 0), ana);
	assert_int_equal(s->shadow.floor.member, 0);
	chat(s, AT(21, 0), fran, "Thanks everyone!");
	cmd(s, AT(21, 30), ROOM_HAND_RAISE, bo, 0, ROOM_HAND_NEW, 0);
	cmd(s, AT(22, 0), ROOM_END, fran, 0, 0, 0);
	assert_int_equal(s->seq, 55);
	return s;
}

static void test_golden_session(void **state)
{
	(void)state;
	struct sess *s = golden_session();
	int bad = 0;
	bad += !check_golden("session.json", render(s, EXPORT_JSON, 0));
	bad += !check_golden("session.md", render(s, EXPORT_MD, 0));
	bad += !check_golden("session.html", render(s, EXPORT_HTML, 0));
	for (int t = 0; t < 4; t++) {
		char name[64];
		snprintf(name, sizeof(name), "session.%s.csv", table_names[t]);
		bad += !check_golden(name, render(s, EXPORT_CSV, (enum export_table)t));
	}
	if (bad)
		fail_msg("%d of 7 golden files differ (see above)", bad);
}

/* The same session, its key figures read back from the JSON (so a golden
 * file regenerated in a hurry cannot quietly change them). */
static json_t *parse_json(const char *s)
{
	json_error_t e;
	json_t *j = json_loads(s, 0, &e);
	if (!j)
		fail_msg("the JSON export does not parse: %s at line %d", e.text, e.line);
	return own(j, json_free);
}

#define JI(obj, key) json_integer_value(json_object_get((obj), (key)))
#define JS(obj, key) json_string_value(json_object_get((obj), (key)))

static void test_golden_figures(void **state)
{
	(void)state;
	struct sess *s = golden_session();
	char *out = render(s, EXPORT_JSON, 0);
	json_t *j = parse_json(out), *room = json_object_get(j, "room");
	assert_int_equal(JI(j, "version"), 1);
	assert_int_equal(JI(j, "as_of_seq"), 55);
	assert_string_equal(JS(room, "id"), ROOM_ID);
	assert_int_equal(JI(room, "created"), AT(0, 0));
	assert_int_equal(JI(room, "ended"), AT(22, 0));
	assert_int_equal(JI(room, "duration_ms"), 22 * 60 * 1000);
	assert_true(json_is_true(json_object_get(room, "session_ended")));

	/* turns: who, start, length */
	static const struct {
		uint64_t member;
		int64_t start, ms;
	} turns[] = {{2, AT(3, 0), 270000}, {5, AT(7, 30), 60000}, {4, AT(8, 30), 105000},
		     {3, AT(10, 20), 180000}, {3, AT(19, 20), 40000}};
	json_t *jt = json_object_get(j, "turns");
	assert_int_equal(json_array_size(jt), 5);
	for (size_t i = 0; i < 5; i++) {
		json_t *t = json_array_get(jt, i);
		assert_int_equal(JI(t, "member"), turns[i].member);
		assert_int_equal(JI(t, "start"), turns[i].start);
		assert_int_equal(JI(t, "ms"), turns[i].ms);
		assert_null(json_object_get(t, "open"));
	}

	/* contributions */
	static const struct {
		const char *name;
		int turns;
		int64_t ms;
		double share;
		int messages, hands, answered;
	} want[] = {{"Fran", 1, 270000, 270.0 / 655, 2, 0, 0},
		    {"Ana", 2, 220000, 220.0 / 655, 1, 2, 2},
		    {"Bo", 1, 105000, 105.0 / 655, 1, 2, 1},
		    {"Cy", 1, 60000, 60.0 / 655, 1, 1, 2}};
	json_t *jc = json_object_get(j, "contributions");
	assert_int_equal(json_array_size(jc), 4);
	double total = 0;
	for (size_t i = 0; i < 4; i++) {
		json_t *c = json_array_get(jc, i);
		assert_string_equal(JS(c, "name"), want[i].name);
		assert_int_equal(JI(c, "turns"), want[i].turns);
		assert_int_equal(JI(c, "speaking_ms"), want[i].ms);
		double share = json_real_value(json_object_get(c, "speaking_share"));
		assert_true(share > want[i].share - 0.0001 && share < want[i].share + 0.0001);
		total += share;
		assert_int_equal(JI(c, "messages"), want[i].messages);
		assert_int_equal(JI(c, "hands_raised"), want[i].hands);
		assert_int_equal(JI(c, "prompts_answered"), want[i].answered);
	}
	assert_true(total > 0.999 && total < 1.001);
	assert_int_equal(JI(j, "anonymous_answers"), 3);

	/* agenda: planned against actual */
	static const struct {
		const char *title;
		int planned;
		int64_t started, ended, actual;
	} segs[] = {{"Intro", 5, AT(2, 30), AT(7, 30), 300000},
		    {"Talk", 20, AT(7, 30), AT(19, 0), 690000},
		    {"Q&A", 10, AT(19, 0), 0, 180000}};
	json_t *ja = json_object_get(j, "agenda");
	assert_int_equal(json_array_size(ja), 3);
	for (size_t i = 0; i < 3; i++) {
		json_t *g = json_array_get(ja, i);
		assert_string_equal(JS(g, "title"), segs[i].title);
		assert_int_equal(JI(g, "planned_minutes"), segs[i].planned);
		assert_int_equal(JI(g, "started"), segs[i].started);
		assert_int_equal(JI(g, "ended"), segs[i].ended);
		assert_int_equal(JI(g, "actual_ms"), segs[i].actual);
	}

	/* chat: the removed message keeps its place, not its text */
	json_t *jm = json_object_get(j, "chat");
	assert_int_equal(json_array_size(jm), 5);
	json_t *removed = json_array_get(jm, 2);
	assert_int_equal(JI(removed, "seq"), 8);
	assert_true(json_is_true(json_object_get(removed, "removed")));
	assert_null(json_object_get(removed, "text"));

	/* the removed text is in no format */
	for (int f = 0; f < 4; f++) {
		for (int t = 0; t < (f == EXPORT_CSV ? 4 : 1); t++) {
			out = render(s, (enum export_format)f, (enum export_table)t);
			if (strstr(out, "watches"))
				fail_msg("format %d table %d repeats a removed message", f, t);
		}
	}
}

/* ---- small parsers and matchers ----------------------------------------------- */

static bool valid_utf8(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		unsigned c = *p, n;
		uint32_t cp;
		if (c < 0x80) {
			p++;
			continue;
		}
		if ((c & 0xe0) == 0xc0)
			n = 1, cp = c & 0x1f;
		else if ((c & 0xf0) == 0xe0)
			n = 2, cp = c & 0x0f;
		else if ((c & 0xf8) == 0xf0)
			n = 3, cp = c & 0x07;
		else
			return false;
		for (unsigned i = 1; i <= n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (p[i] & 0x3f);
		}
		if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		p += n + 1;
	}
	return true;
}

/* Characters that must never reach Markdown unescaped from user text. */
#define MD_MUST "\\`*_[]()#|~!<>&"

/* Does an acceptable Markdown rendering of s start at o? Each character of s
 * must appear as itself, escaped with a backslash, as an entity (< > &
 * only as entities) or, for a line break, as <br>; the characters in
 * MD_MUST only escaped. Returns the length matched, or 0. */
static size_t md_match_at(const char *o, const char *s)
{
	const char *start = o;
	for (; *s; s++) {
		char c = *s;
		if (c == '\n') {
			if (strncmp(o, "<br>", 4))
				return 0;
			o += 4;
		} else if (c == '<' || c == '>' || c == '&') {
			const char *e = c == '<' ? "&lt;" : c == '>' ? "&gt;" : "&amp;";
			if (strncmp(o, e, strlen(e)))
				return 0;
			o += strlen(e);
		} else if (o[0] == '\\' && o[1] == c && ispunct((unsigned char)c)) {
			o += 2;
		} else if (o[0] == c && !strchr(MD_MUST, c)) {
			o++;
		} else {
			return 0;
		}
	}
	return (size_t)(o - start);
}

static bool md_contains(const char *out, const char *s)
{
	for (const char *o = out; *o; o++)
		if (md_match_at(o, s))
			return true;
	return false;
}

/* Counts of characters with a meaning in Markdown that are not escaped
 * (a backslash before them, or part of an &entity;), one per class. */
#define MD_CLASSES "\\`*_{}[]()#+-.!|~>"
static void md_unescaped(const char *s, size_t counts[sizeof(MD_CLASSES)])
{
	memset(counts, 0, sizeof(MD_CLASSES) * sizeof(size_t));
	for (const char *p = s; *p; p++) {
		if (*p == '\\' && p[1] && ispunct((unsigned char)p[1])) {
			p++;
			continue;
		}
		if (*p == '&') {
			const char *ents[] = {"&lt;", "&gt;", "&amp;", "&quot;", "&#39;"};
			bool ent = false;
			for (int i = 0; i < 5 && !ent; i++)
				if (!strncmp(p, ents[i], strlen(ents[i])))
					ent = true, p += strlen(ents[i]) - 1;
			if (!ent)
				fail_msg("Markdown: a bare & at \"%.30s\"", p);
			continue;
		}
		if (*p == '<') { /* ours: <br> only */
			if (strncmp(p, "<br>", 4))
				fail_msg("Markdown: a < that is not <br> at \"%.40s\"", p);
			p += 3;
			continue;
		}
		const char *k = strchr(MD_CLASSES, *p);
		if (k)
			counts[k - MD_CLASSES]++;
	}
}

static void html_encode(const char *s, char *out, size_t n)
{
	size_t o = 0;
	for (; *s && o + 8 < n; s++) {
		const char *e = *s == '&'    ? "&amp;"
				: *s == '<'  ? "&lt;"
				: *s == '>'  ? "&gt;"
				: *s == '"'  ? "&quot;"
				: *s == '\'' ? "&#39;"
				: *s == '\n' ? "<br>"
					     : NULL;
		if (e) {
			memcpy(out + o, e, strlen(e));
			o += strlen(e);
		} else {
			out[o++] = *s;
		}
	}
	out[o] = '\0';
}

/* Every tag in the page is one of ours, with none but our attributes. */
static void html_tags_are_ours(const char *html)
{
	static const char *const tags[] = {
		"!doctype", "html", "head", "meta", "title", "style", "body", "h1", "h2",
		"h3",       "p",    "table", "thead", "tbody", "tr",  "th",  "td", "ul",
		"li",       "span", "b",    "i",    "br",   "bdi",  NULL};
	static const char *const attrs[] = {"lang", "charset", "http-equiv", "content",
					    "name", "class",   NULL};
	for (const char *p = strchr(html, '<'); p; p = strchr(p + 1, '<')) {
		const char *end = strchr(p, '>');
		assert_non_null(end);
		char tag[512];
		snprintf(tag, sizeof(tag), "%.*s", (int)(end - p + 1), p);
		const char *n = p + 1 + (p[1] == '/');
		size_t nl = strcspn(n, " >");
		bool known = false;
		for (int i = 0; tags[i] && !known; i++)
			known = nl == strlen(tags[i]) && !strncasecmp(n, tags[i], nl);
		if (!known)
			fail_msg("HTML: a tag that is not ours: %s", tag);
		/* attributes: name="value" pairs (values are ours, quoted) */
		const char *a = n + nl;
		while (a < end) {
			while (a < end && *a == ' ')
				a++;
			if (a >= end)
				break;
			size_t an = strcspn(a, "= >");
			bool ok = !strncasecmp(n, "!doctype", 8);
			for (int i = 0; attrs[i] && !ok; i++)
				ok = an == strlen(attrs[i]) && !strncasecmp(a, attrs[i], an);
			if (!ok)
				fail_msg("HTML: an attribute that is not ours in %s", tag);
			a += an;
			if (*a == '=') {
				if (a[1] != '"')
					fail_msg("HTML: an unquoted attribute in %s", tag);
				const char *q = strchr(a + 2, '"');
				assert_true(q && q < end);
				a = q + 1;
			}
		}
		p = end;
	}
}

/* RFC 4180: records of fields, CRLF between records; a quoted field may hold
 * commas, CRLF and doubled quotes. Fails the test on anything else. */
struct csv {
	char ***rows; /* rows[i][j], NULL-terminated per row */
	size_t *nf;
	size_t n;
};

static void csv_free(void *p);

static void csv_parse(const char *s, struct csv *res)
{
	struct csv *out = own(calloc(1, sizeof(*out)), csv_free);
	const char *p = s;
	while (*p) {
		char **fields = NULL;
		size_t nf = 0;
		for (;;) {
			char *f = malloc(strlen(p) + 1);
			size_t fl = 0;
			if (*p == '"') {
				p++;
				for (;;) {
					if (!*p)
						fail_msg("CSV: an unterminated quoted field");
					if (*p == '"' && p[1] == '"') {
						f[fl++] = '"';
						p += 2;
					} else if (*p == '"') {
						p++;
						break;
					} else {
						f[fl++] = *p++;
					}
				}
				if (*p && *p != ',' && *p != '\r')
					fail_msg("CSV: text after a closing quote: \"%.20s\"", p);
			} else {
				while (*p && *p != ',' && *p != '\r') {
					if (*p == '"' || *p == '\n')
						fail_msg("CSV: a bare %s in an unquoted field: \"%.20s\"",
							 *p == '"' ? "quote" : "line feed", p);
					f[fl++] = *p++;
				}
			}
			f[fl] = '\0';
			fields = realloc(fields, (nf + 2) * sizeof(*fields));
			fields[nf++] = f;
			fields[nf] = NULL;
			if (*p == ',') {
				p++;
				continue;
			}
			if (p[0] != '\r' || p[1] != '\n')
				fail_msg("CSV: a record not ended by CRLF: \"%.20s\"", p);
			p += 2;
			break;
		}
		out->rows = realloc(out->rows, (out->n + 1) * sizeof(*out->rows));
		out->nf = realloc(out->nf, (out->n + 1) * sizeof(*out->nf));
		out->rows[out->n] = fields;
		out->nf[out->n++] = nf;
	}
	*res = *out;
	for (size_t i = 1; i < out->n; i++)
		if (out->nf[i] != out->nf[0])
			fail_msg("CSV: record %zu has %zu fields, the header %zu", i, out->nf[i],
				 out->nf[0]);
}

static void csv_free(void *p)
{
	struct csv *c = p;
	for (size_t i = 0; i < c->n; i++) {
		for (size_t k = 0; k < c->nf[i]; k++)
			free(c->rows[i][k]);
		free(c->rows[i]);
	}
	free(c->rows);
	free(c->nf);
	free(c);
}

static int csv_col(const struct csv *c, const char *name)
{
	for (size_t k = 0; k < c->nf[0]; k++)
		if (!strcmp(c->rows[0][k], name))
			return (int)k;
	fail_msg("CSV: no column %s", name);
	return -1;
}

/* What a CSV field must read for user text s: s itself, with a leading '
 * if a spreadsheet would take it for a formula. */
static void csv_defused(const char *s, char *out, size_t n)
{
	snprintf(out, n, "%s%s", s[0] && strchr("=+-@\t\r", s[0]) ? "'" : "", s);
}

/* ---- escaping --------------------------------------------------------------- */

enum { NNAMES = 9, NMSGS = 11, NTEXTS = 3 };

struct strings {
	const char *title;
	const char *names[NNAMES]; /* [0]: the facilitator */
	const char *msgs[NMSGS];
	const char *question, *opts[4];
	const char *low, *high, *rq;
	const char *tq, *texts[NTEXTS];
	const char *segs[3];
};

#define RLO "\xe2\x80\xae"     /* U+202E RIGHT-TO-LEFT OVERRIDE */
#define PDF "\xe2\x80\xac"     /* U+202C POP DIRECTIONAL FORMATTING */
#define FSI "\xe2\x81\xa8"     /* U+2068 FIRST STRONG ISOLATE */
#define PDI "\xe2\x81\xa9"     /* U+2069 POP DIRECTIONAL ISOLATE */
#define ZWJ "\xe2\x80\x8d"     /* U+200D ZERO WIDTH JOINER */
#define COMB "\xcc\x81"        /* U+0301 COMBINING ACUTE ACCENT */
#define TECHIE "\xf0\x9f\x91\xa9" ZWJ "\xf0\x9f\x92\xbb" /* woman technologist */
#define FAMILY "\xf0\x9f\x91\xa8" ZWJ "\xf0\x9f\x91\xa9" ZWJ "\xf0\x9f\x91\xa7"

static const struct strings NASTY = {
	.title = "<script>alert(\"t\")</script> & 'Q' *md* | =cmd",
	.names = {"<img src=x onerror=\"window.__pwned=1\">",
		  "<script>window.__pwned=2</script>",
		  "**Eve** _x_ `y` [z](u) # | > - ~ !",
		  "=HYPERLINK(\"http://e.x\",\"go\")",
		  "Doe, \"Jo\"",
		  "Ali" RLO "ecnI " TECHIE " Zoe" COMB,
		  "+1 @SUM(A1) -2",
		  "@me",
		  "-dash"},
	.msgs = {"<img src=x onerror=\"window.__pwned=3\"><script>window.__pwned=4</script>",
		 "line one\n# not a heading\n> not a quote\n- not a list\n<b>bold?</b>",
		 "=1+1",
		 "He said \"hi\", then left, twice",
		 "[click](javascript:alert(1)) ![i](http://evil.example/x.png) `code` *em* "
		 "_em_ ~~s~~ | pipe | #tag 1. item",
		 "Ali" RLO "gnp.exe" PDF " " FAMILY " e" COMB " " ZWJ " joiner",
		 "@cmd|' /C calc'!A0",
		 "-2+3",
		 "</td></tr></table><iframe src=\"http://evil.example/\"></iframe>",
		 "&lt;already escaped&gt; &amp; &#60;",
		 "tab\tinside, and \\ a backslash"},
	.question = "<svg onload=alert(1)> Which \"one\"?",
	.opts = {"<b>A</b>", "=B", "C, \"see\"", "* D _"},
	.low = "<i>low</i>",
	.high = "\"high\" & =up",
	.rq = "Rate [this](http://x)",
	.tq = "# Say <u>something</u>",
	.texts = {"<script>x()</script>", "=SUM(1)", "multi\nline | text"},
	.segs = {"<h1>Intro</h1>", "=Talk", "* Q&A *"},
};

static const struct strings PLAIN = {
	.title = "Title",
	.names = {"Name0", "Name1", "Name2", "Name3", "Name4", "Name5", "Name6", "Name7",
		  "Name8"},
	.msgs = {"Msg0", "Msg1", "Msg2", "Msg3", "Msg4", "Msg5", "Msg6", "Msg7", "Msg8", "Msg9",
		 "Msg10"},
	.question = "Question",
	.opts = {"OptA", "OptB", "OptC", "OptD"},
	.low = "Low",
	.high = "High",
	.rq = "Rating",
	.tq = "Open",
	.texts = {"TextA", "TextB", "TextC"},
	.segs = {"SegA", "SegB", "SegC"},
};

#define SECRET "DELETED-SECRET <b>gone</b>"

/* A session that puts every string where a transcript prints it: names in
 * attendance, turns, chat, prompts, moderation and contributions. */
static struct sess *strings_session(const struct strings *w)
{
	struct sess *s = sess_new();
	uint64_t m[NNAMES];
	int64_t t = AT(0, 0);
	create(s, t, w->title);
	for (int i = 0; i < NNAMES; i++)
		m[i] = join(s, t += 1000, w->names[i], i == 0);
	for (int i = 0; i < NMSGS; i++)
		chat(s, t += 1000, m[i % NNAMES], w->msgs[i]);
	uint64_t gone = chat(s, t += 1000, m[4], SECRET);
	cmd(s, t += 1000, ROOM_DELETE, m[0], gone, 0, 0);
	static const uint32_t mins[] = {5, 10, 15};
	agenda(s, t += 1000, m[0], w->segs, mins, 3);
	cmd(s, t += 1000, ROOM_AGENDA_GO, m[0], 0, 0, 0);
	for (int i = 1; i < NNAMES; i++)
		cmd(s, t += 1000, ROOM_HAND_RAISE, m[i], 0, (uint32_t)(i % 3), 0);
	for (int i = 0; i < NNAMES; i++)
		cmd(s, t += 7000, ROOM_FLOOR_GIVE, m[0], m[i], 0, 0);
	cmd(s, t += 5000, ROOM_FLOOR_TAKE, m[0], 0, 0, 0);
	cmd(s, t += 1000, ROOM_AGENDA_GO, m[0], 0, 1, 0);
	uint64_t p = prompt(s, t += 1000, m[0], ROOM_PROMPT_SINGLE, ROOM_REVEAL_LIVE, false,
			    w->question, w->opts, 4, 0);
	for (int i = 1; i < NNAMES; i++)
		answer(s, t += 1000, m[i], p, (uint32_t)(i % 4), NULL);
	const char *labels[] = {w->low, w->high};
	uint64_t r = prompt(s, t += 1000, m[0], ROOM_PROMPT_RATING, ROOM_REVEAL_LIVE, false, w->rq,
			    labels, 4, 0);
	for (int i = 1; i < 4; i++)
		answer(s, t += 1000, m[i], r, (uint32_t)i, NULL);
	uint64_t q = prompt(s, t += 1000, m[0], ROOM_PROMPT_TEXT, ROOM_REVEAL_LIVE, false, w->tq,
			    NULL, 0, 0);
	for (int i = 0; i < NTEXTS; i++)
		answer(s, t += 1000, m[i + 1], q, 0, w->texts[i]);
	cmd(s, t += 1000, ROOM_MUTE, m[0], m[3], 1, 0);
	cmd(s, t += 1000, ROOM_ROLE, m[0], m[2], 1, 0);
	cmd(s, t += 1000, ROOM_MUTE, m[2], m[6], 1, 0);
	leave(s, t += 1000, m[8]);
	cmd(s, t += 1000, ROOM_END, m[0], 0, 0, 0);
	return s;
}

/* Every string the session puts into a transcript, for the checks. */
static int all_strings(const struct strings *w, const char **out)
{
	int n = 0;
	out[n++] = w->title;
	for (int i = 0; i < NNAMES; i++)
		out[n++] = w->names[i];
	for (int i = 0; i < NMSGS; i++)
		out[n++] = w->msgs[i];
	out[n++] = w->question;
	for (int i = 0; i < 4; i++)
		out[n++] = w->opts[i];
	out[n++] = w->rq;
	out[n++] = w->tq;
	for (int i = 0; i < NTEXTS; i++)
		out[n++] = w->texts[i];
	for (int i = 0; i < 3; i++)
		out[n++] = w->segs[i];
	return n;
}

static void test_markdown_keeps_user_text_inert(void **state)
{
	(void)state;
	struct sess *nasty = strings_session(&NASTY), *plain = strings_session(&PLAIN);
	char *md = render(nasty, EXPORT_MD, 0), *ref = render(plain, EXPORT_MD, 0);
	assert_true(valid_utf8(md));
	/* every user string is there, escaped (line breaks as <br>) */
	const char *strs[64];
	int n = all_strings(&NASTY, strs);
	for (int i = 0; i < n; i++)
		if (!md_contains(md, strs[i]))
			fail_msg("Markdown: \"%s\" does not appear escaped", strs[i]);
	/* rating labels end up in the row labels */
	assert_true(md_contains(md, NASTY.low));
	assert_true(md_contains(md, NASTY.high));
	/* no < but our <br>, no bare &, and exactly as many unescaped markup
	 * characters as the same session with plain words: all of them are the
	 * template's, none came from user text */
	size_t a[sizeof(MD_CLASSES)], b[sizeof(MD_CLASSES)];
	md_unescaped(md, a);
	md_unescaped(ref, b);
	for (size_t k = 0; k < sizeof(MD_CLASSES) - 1; k++)
		if (a[k] != b[k])
			fail_msg("Markdown: %zu unescaped '%c' with user markup, %zu with plain "
				 "words:\n%s",
				 a[k], MD_CLASSES[k], b[k], md);
	/* and a few spelled out */
	assert_non_null(strstr(md, "&lt;script&gt;window\\.\\_\\_pwned=2&lt;/script&gt;"));
	assert_non_null(strstr(md, "line one<br>\\# not a heading<br>&gt; not a quote<br>"));
	assert_non_null(strstr(md, "&amp;lt;already escaped&amp;gt; &amp;amp; &amp;\\#60;"));
	assert_null(strstr(md, "SECRET"));
	assert_null(strstr(md, "gone"));
}

static void test_html_keeps_user_text_inert(void **state)
{
	(void)state;
	struct sess *s = strings_session(&NASTY);
	char *html = render(s, EXPORT_HTML, 0);
	assert_true(valid_utf8(html));
	html_tags_are_ours(html);
	for (const char *p = html; *p; p++) {
		if (!strncasecmp(p, "<script", 7) || !strncasecmp(p, "<img", 4) ||
		    !strncasecmp(p, "<iframe", 7) || !strncasecmp(p, "<svg", 4))
			fail_msg("HTML: a live tag from user text at \"%.40s\"", p);
	}
	/* no script may run even if something slipped through */
	assert_non_null(strstr(html, "Content-Security-Policy\" content=\"default-src 'none'"));
	const char *strs[64];
	int n = all_strings(&NASTY, strs);
	for (int i = 0; i < n; i++) {
		char e[2048];
		html_encode(strs[i], e, sizeof(e));
		if (!strstr(html, e))
			fail_msg("HTML: \"%s\" does not appear escaped as \"%s\"", strs[i], e);
	}
	char e[512];
	html_encode(NASTY.low, e, sizeof(e));
	assert_non_null(strstr(html, e));
	html_encode(NASTY.high, e, sizeof(e));
	assert_non_null(strstr(html, e));
	assert_null(strstr(html, "SECRET"));
}

/* A <title> holds text only (markup there shows in the tab as it is): the
 * room's title goes there escaped, and with no tags around it. */
static void test_html_title_is_text(void **state)
{
	(void)state;
	struct sess *s = strings_session(&NASTY);
	char *html = render(s, EXPORT_HTML, 0);
	char e[512], title[600];
	html_encode(NASTY.title, e, sizeof(e));
	snprintf(title, sizeof(title), "<title>%s (transcript)</title>", e);
	if (!strstr(html, title)) { /* a <title> holds text only: tags there show as such */
		const char *t = strstr(html, "<title>");
		fail_msg("HTML: want %s\n  got  %.*s", title,
			 t ? (int)(strcspn(t, "\n")) : 0, t ? t : "");
	}
}

/* A right-to-left override in a name must not reverse what follows it in
 * the Markdown either (the HTML isolates user text in <bdi>; plain text has
 * U+2068..U+2069 isolates or U+202C): at every piece of the template's own
 * markup, an unescaped | or *, no embedding, override or isolate that user
 * text opened is still open. */
/* How many pieces of Markdown markup (an unescaped | or *) sit inside a
 * direction embedding, override or isolate still open on their line; *first
 * is the first. */
static int md_markup_in_open_override(const char *md, const char **first_out)
{
	/* the open embeddings/overrides (E) and isolates (I), innermost last */
	char stack[128];
	int depth = 0, bad = 0;
	const char *first = NULL;
	for (const unsigned char *p = (const unsigned char *)md; *p; p++) {
		if (*p == '\n') {
			depth = 0; /* a paragraph ends: the algorithm starts afresh */
			continue;
		}
		if (*p == '\\' && p[1]) {
			p++;
			continue;
		}
		unsigned c = p[0] == 0xe2 ? (unsigned)p[1] << 8 | p[2] : 0;
		if ((c == 0x80aa || c == 0x80ab || c == 0x80ad || c == 0x80ae) && depth < 128)
			stack[depth++] = 'E'; /* U+202A LRE, U+202B RLE, U+202D LRO, U+202E RLO */
		else if (c == 0x80ac && depth > 0 && stack[depth - 1] == 'E')
			depth--; /* U+202C PDF closes an embedding, never an isolate */
		else if (c >= 0x81a6 && c <= 0x81a8 && depth < 128)
			stack[depth++] = 'I'; /* U+2066 LRI, U+2067 RLI, U+2068 FSI */
		else if (c == 0x81a9 && memchr(stack, 'I', (size_t)depth))
			while (stack[--depth] != 'I') /* U+2069 PDI closes its isolate and */
				;                      /* everything opened inside it */
		if ((*p == '|' || *p == '*') && depth > 0) {
			bad++;
			if (!first)
				first = (const char *)p;
		}
	}
	*first_out = first;
	return bad;
}

static void test_markdown_closes_bidi_controls(void **state)
{
	(void)state;
	struct sess *s = strings_session(&NASTY);
	char *md = render(s, EXPORT_MD, 0);
	/* the checker itself: isolates around user text pass, a bare override
	 * fails */
	const char *first;
	assert_int_equal(md_markup_in_open_override(
				 "| " FSI "Ali" RLO "ecnI" PDI " | x |\n", &first),
			 0);
	assert_int_equal(md_markup_in_open_override("| Ali" RLO "ecnI" PDF " | x |\n", &first), 0);
	assert_int_equal(md_markup_in_open_override("| Ali" RLO "ecnI | x |\n| y |\n", &first), 2);
	int bad = md_markup_in_open_override(md, &first);
	if (bad) {
		const char *bol = first;
		while (bol > md && bol[-1] != '\n')
			bol--;
		fail_msg("Markdown: %d piece(s) of markup inside a direction override that user "
			 "text left open, first in:\n%.*s",
			 bad, (int)strcspn(bol, "\n"), bol);
	}
}

static void test_csv_fields_read_back_as_the_user_text(void **state)
{
	(void)state;
	struct sess *s = strings_session(&NASTY);
	char want[2048];
	struct csv c;

	char *out = render(s, EXPORT_CSV, EXPORT_CHAT);
	assert_true(valid_utf8(out));
	csv_parse(out, &c);
	assert_int_equal(c.n, 1 + NMSGS + 1);
	int name = csv_col(&c, "name"), text = csv_col(&c, "text"), rm = csv_col(&c, "removed");
	for (int i = 0; i < NMSGS; i++) {
		char **row = c.rows[1 + i];
		csv_defused(NASTY.names[i % NNAMES], want, sizeof(want));
		assert_string_equal(row[name], want);
		csv_defused(NASTY.msgs[i], want, sizeof(want));
		assert_string_equal(row[text], want);
		assert_string_equal(row[rm], "no");
	}
	assert_string_equal(c.rows[NMSGS + 1][text], "");
	assert_string_equal(c.rows[NMSGS + 1][rm], "yes");
	assert_null(strstr(out, "SECRET"));
	/* spelled out: the formula-like ones get their apostrophe */
	assert_string_equal(c.rows[1 + 2][text], "'=1+1");
	assert_string_equal(c.rows[1 + 6][text], "'@cmd|' /C calc'!A0");
	assert_string_equal(c.rows[1 + 7][text], "'-2+3");
	assert_string_equal(c.rows[1 + 3][name], "'=HYPERLINK(\"http://e.x\",\"go\")");
	assert_string_equal(c.rows[1 + 1][text], NASTY.msgs[1]); /* line breaks kept */

	out = render(s, EXPORT_CSV, EXPORT_CONTRIBUTIONS);
	csv_parse(out, &c);
	assert_int_equal(c.n, 1 + NNAMES);
	name = csv_col(&c, "name");
	for (int i = 0; i < NNAMES; i++) {
		csv_defused(NASTY.names[i], want, sizeof(want));
		assert_string_equal(c.rows[1 + i][name], want);
	}
	assert_string_equal(c.rows[1 + 6][name], "'+1 @SUM(A1) -2");
	assert_string_equal(c.rows[1 + 7][name], "'@me");
	assert_string_equal(c.rows[1 + 8][name], "'-dash");
	assert_string_equal(c.rows[1 + 4][name], "Doe, \"Jo\"");

	out = render(s, EXPORT_CSV, EXPORT_TURNS);
	csv_parse(out, &c);
	assert_int_equal(c.n, 1 + NNAMES);
	name = csv_col(&c, "name");
	for (int i = 0; i < NNAMES; i++) {
		csv_defused(NASTY.names[i], want, sizeof(want));
		assert_string_equal(c.rows[1 + i][name], want);
	}

	out = render(s, EXPORT_CSV, EXPORT_PROMPTS);
	csv_parse(out, &c);
	int q = csv_col(&c, "question"), ans = csv_col(&c, "answer");
	assert_int_equal(c.n, 1 + 4 + 4 + NTEXTS);
	for (int i = 0; i < 4; i++) {
		csv_defused(NASTY.question, want, sizeof(want));
		assert_string_equal(c.rows[1 + i][q], want);
		csv_defused(NASTY.opts[i], want, sizeof(want));
		assert_string_equal(c.rows[1 + i][ans], want);
	}
	csv_defused(NASTY.rq, want, sizeof(want));
	assert_string_equal(c.rows[5][q], want);
	/* open answers, alphabetical (bytewise): "<script>..." < "=SUM(1)" < "multi..." */
	csv_defused(NASTY.tq, want, sizeof(want));
	assert_string_equal(c.rows[9][q], want);
	assert_string_equal(c.rows[9][ans], NASTY.texts[0]);
	assert_string_equal(c.rows[10][ans], "'=SUM(1)");
	assert_string_equal(c.rows[11][ans], NASTY.texts[2]);
}

/* The JSON carries every string exactly, odd Unicode included. */
static void test_json_carries_user_text_exactly(void **state)
{
	(void)state;
	struct sess *s = strings_session(&NASTY);
	char *out = render(s, EXPORT_JSON, 0);
	assert_true(valid_utf8(out));
	json_t *j = parse_json(out);
	assert_string_equal(JS(json_object_get(j, "room"), "title"), NASTY.title);
	json_t *att = json_object_get(j, "attendance");
	assert_int_equal(json_array_size(att), NNAMES);
	for (int i = 0; i < NNAMES; i++)
		assert_string_equal(JS(json_array_get(att, i), "name"), NASTY.names[i]);
	json_t *ch = json_object_get(j, "chat");
	assert_int_equal(json_array_size(ch), NMSGS + 1);
	for (int i = 0; i < NMSGS; i++) {
		assert_string_equal(JS(json_array_get(ch, i), "text"), NASTY.msgs[i]);
		assert_string_equal(JS(json_array_get(ch, i), "name"), NASTY.names[i % NNAMES]);
	}
	assert_null(strstr(out, "SECRET"));
	json_t *p = json_array_get(json_object_get(j, "prompts"), 0);
	assert_string_equal(JS(p, "question"), NASTY.question);
	for (int i = 0; i < 4; i++)
		assert_string_equal(JS(json_array_get(json_object_get(p, "options"), i), "option"),
				    NASTY.opts[i]);
	p = json_array_get(json_object_get(j, "prompts"), 1);
	assert_string_equal(JS(p, "low"), NASTY.low);
	assert_string_equal(JS(p, "high"), NASTY.high);
	for (int i = 0; i < 3; i++)
		assert_string_equal(JS(json_array_get(json_object_get(j, "agenda"), i), "title"),
				    NASTY.segs[i]);
}

/* ---- anonymity ---------------------------------------------------------------- */

static const char *const PEOPLE[] = {"Quinn Facil", "Rosalind Pike", "Sigmund Oats",
				     "Tamsin Reyes"};
static const char *const SURNAMES[] = {"Quinn", "Facil", "Rosalind", "Pike", "Sigmund",
				       "Oats", "Tamsin", "Reyes"};

static struct sess *anon_session(uint64_t *ids)
{
	struct sess *s = sess_new();
	int64_t t = AT(0, 0);
	create(s, t, "Retro");
	for (int i = 0; i < 4; i++)
		ids[i] = join(s, t += 1000, PEOPLE[i], i == 0);
	for (int i = 0; i < 4; i++)
		chat(s, t += 1000, ids[i], "hello");
	static const char *const yn[] = {"Yes", "No"};
	static const char *const abc[] = {"Alpha", "Beta", "Gamma"};
	static const char *const ends[] = {"bad", "good"};
	static const char *const texts[] = {"likes tea", "prefers coffee", "wants cake"};
	uint64_t named = prompt(s, t += 1000, ids[0], ROOM_PROMPT_SINGLE, ROOM_REVEAL_LIVE, false,
				"Named poll?", yn, 2, 0);
	uint64_t apoll = prompt(s, t += 1000, ids[0], ROOM_PROMPT_SINGLE, ROOM_REVEAL_LIVE, true,
				"Anon poll?", abc, 3, 0);
	uint64_t amulti = prompt(s, t += 1000, ids[0], ROOM_PROMPT_MULTI, ROOM_REVEAL_FAC, true,
				 "Anon multi?", abc, 3, 0);
	uint64_t arate = prompt(s, t += 1000, ids[0], ROOM_PROMPT_RATING, ROOM_REVEAL_CLOSED, true,
				"Anon rating?", ends, 5, 0);
	uint64_t atext = prompt(s, t += 1000, ids[0], ROOM_PROMPT_TEXT, ROOM_REVEAL_ANSWERED, true,
				"Anon text?", NULL, 0, 0);
	uint64_t ntext = prompt(s, t += 1000, ids[0], ROOM_PROMPT_TEXT, ROOM_REVEAL_LIVE, false,
				"Named text?", NULL, 0, 0);
	for (int i = 1; i < 4; i++) {
		uint8_t tok = (uint8_t)(0x10 * i + 7);
		answer(s, t += 1000, ids[i], named, (uint32_t)(i % 2), NULL);
		answer_anon(s, t += 1000, tok, apoll, (uint32_t)(i - 1), NULL);
		answer_anon(s, t += 1000, (uint8_t)(tok + 1), amulti, (uint32_t)i, NULL);
		answer_anon(s, t += 1000, (uint8_t)(tok + 2), arate, (uint32_t)(i + 1), NULL);
		answer_anon(s, t += 1000, (uint8_t)(tok + 3), atext, 0, texts[i - 1]);
		answer(s, t += 1000, ids[i], ntext, 0, "noted");
	}
	cmd(s, t += 1000, ROOM_END, ids[0], 0, 0, 0);
	return s;
}

/* A prompt's section: from the heading (`marker` up to `head_end`) that
 * contains `question` (whatever markup wraps it) to the next heading. */
static char *section(const char *out, const char *marker, const char *head_end,
		     const char *question, const char *const *to)
{
	for (const char *a = strstr(out, marker); a; a = strstr(a + 1, marker)) {
		const char *he = strstr(a + strlen(marker), head_end);
		assert_non_null(he);
		char *head = strndup(a, (size_t)(he - a));
		bool found = strstr(head, question) != NULL;
		free(head);
		if (!found)
			continue;
		const char *b = a + strlen(a);
		for (int i = 0; to[i]; i++) {
			const char *e = strstr(he, to[i]);
			if (e && e < b)
				b = e;
		}
		return own(strndup(a, (size_t)(b - a)), free);
	}
	fail_msg("no prompt heading with \"%s\"", question);
	return NULL;
}

static void assert_no_people(const char *what, const char *text)
{
	for (size_t i = 0; i < sizeof(SURNAMES) / sizeof(SURNAMES[0]); i++)
		if (strstr(text, SURNAMES[i]))
			fail_msg("%s names %s:\n%s", what, SURNAMES[i], text);
}

static void test_anonymous_answers_are_linked_to_nobody(void **state)
{
	(void)state;
	uint64_t ids[4];
	struct sess *s = anon_session(ids);
	static const char *const anon_q[] = {"Anon poll?", "Anon multi?", "Anon rating?",
					     "Anon text?"};

	/* JSON: no "by", no member, no name in an anonymous prompt */
	char *out = render(s, EXPORT_JSON, 0);
	json_t *j = parse_json(out);
	json_t *ps = json_object_get(j, "prompts");
	assert_int_equal(json_array_size(ps), 6);
	for (size_t i = 0; i < 6; i++) {
		json_t *p = json_array_get(ps, i);
		bool anon = json_is_true(json_object_get(p, "anonymous"));
		assert_int_equal(JI(p, "answers"), 3);
		if (!anon) {
			assert_int_equal(json_array_size(json_object_get(p, "by")), 3);
			continue;
		}
		assert_null(json_object_get(p, "by"));
		char *d = own(json_dumps(p, 0), free);
		assert_no_people("an anonymous prompt in JSON", d);
		assert_null(strstr(d, "\"member\""));
	}
	assert_int_equal(JI(j, "anonymous_answers"), 12);
	json_t *cs = json_object_get(j, "contributions");
	assert_int_equal(JI(json_array_get(cs, 0), "prompts_answered"), 0);
	for (size_t i = 1; i < 4; i++) /* the two named prompts only */
		assert_int_equal(JI(json_array_get(cs, i), "prompts_answered"), 2);
	/* the text answers are there, in alphabetical order */
	json_t *texts = json_object_get(json_array_get(ps, 4), "texts");
	assert_string_equal(json_string_value(json_array_get(texts, 0)), "likes tea");
	assert_string_equal(json_string_value(json_array_get(texts, 1)), "prefers coffee");
	assert_string_equal(json_string_value(json_array_get(texts, 2)), "wants cake");
	/* tokens never leave the replica */
	for (int i = 1; i < 4; i++) {
		char hex[8];
		snprintf(hex, sizeof(hex), "%02x%02x", 0x10 * i + 7, 0x10 * i + 7);
		assert_null(strstr(out, hex));
	}

	/* Markdown and HTML: an anonymous prompt's section names nobody */
	static const char *const md_to[] = {"\n### ", "\n## ", NULL};
	static const char *const html_to[] = {"<h3>", "<h2>", NULL};
	for (int f = EXPORT_MD; f <= EXPORT_HTML; f++) {
		out = render(s, (enum export_format)f, 0);
		for (int i = 0; i < 4; i++) {
			char *sec = f == EXPORT_MD ? section(out, "\n### ", "\n", anon_q[i], md_to)
						   : section(out, "<h3>", "</h3>", anon_q[i], html_to);
			assert_no_people(f == EXPORT_MD ? "an anonymous prompt in Markdown"
							: "an anonymous prompt in HTML",
					 sec);
			if (i == 3) /* the answers are shown, just not whose */
				assert_non_null(strstr(sec, "wants cake"));
		}
		/* the named ones do say who (so the check above can fail) */
		char *sec = f == EXPORT_MD ? section(out, "\n### ", "\n", "Named text?", md_to)
					   : section(out, "<h3>", "</h3>", "Named text?", html_to);
		assert_non_null(strstr(sec, "Rosalind Pike"));
	}

	/* CSV: no row of an anonymous prompt names anyone; contributions count
	 * named prompts only */
	struct csv c;
	out = render(s, EXPORT_CSV, EXPORT_PROMPTS);
	csv_parse(out, &c);
	int an = csv_col(&c, "anonymous");
	size_t anon_rows = 0;
	for (size_t i = 1; i < c.n; i++) {
		if (strcmp(c.rows[i][an], "yes"))
			continue;
		anon_rows++;
		for (size_t k = 0; k < c.nf[i]; k++)
			assert_no_people("an anonymous prompt's CSV row", c.rows[i][k]);
	}
	assert_int_equal(anon_rows, 3 + 3 + 5 + 3);
	out = render(s, EXPORT_CSV, EXPORT_CONTRIBUTIONS);
	csv_parse(out, &c);
	int pa = csv_col(&c, "prompts_answered");
	assert_string_equal(c.rows[1][pa], "0");
	for (size_t i = 2; i < 5; i++)
		assert_string_equal(c.rows[i][pa], "2");
}

/* ---- figures that must hold whatever the layout ------------------------------- */

/* A transcript taken mid-session: the running turn is open and counted up
 * to the last record, the running segment too. */
static void test_open_session_counts_the_running_turn(void **state)
{
	(void)state;
	struct sess *s = sess_new();
	create(s, AT(0, 0), "Open");
	uint64_t f = join(s, AT(0, 10), "Fac", true);
	uint64_t a = join(s, AT(0, 20), "Ann", false);
	static const char *const segs[] = {"Only"};
	static const uint32_t mins[] = {30};
	agenda(s, AT(0, 30), f, segs, mins, 1);
	cmd(s, AT(1, 0), ROOM_AGENDA_GO, f, 0, 0, 0);
	cmd(s, AT(1, 0), ROOM_FLOOR_GIVE, f, a, 0, 0);
	chat(s, AT(3, 30), f, "still going");
	char *out = render(s, EXPORT_JSON, 0);
	json_t *j = parse_json(out), *room = json_object_get(j, "room");
	assert_int_equal(JI(room, "ended"), 0);
	assert_false(json_is_true(json_object_get(room, "session_ended")));
	assert_int_equal(JI(room, "duration_ms"), 210000);
	json_t *t = json_array_get(json_object_get(j, "turns"), 0);
	assert_int_equal(json_array_size(json_object_get(j, "turns")), 1);
	assert_int_equal(JI(t, "member"), a);
	assert_int_equal(JI(t, "ms"), 150000);
	assert_true(json_is_true(json_object_get(t, "open")));
	json_t *c = json_array_get(json_object_get(j, "contributions"), 1);
	assert_int_equal(JI(c, "turns"), 1);
	assert_int_equal(JI(c, "speaking_ms"), 150000);
	assert_true(json_real_value(json_object_get(c, "speaking_share")) == 1.0);
	json_t *g = json_array_get(json_object_get(j, "agenda"), 0);
	assert_int_equal(JI(g, "ended"), 0);
	assert_int_equal(JI(g, "actual_ms"), 150000);
	json_t *left = json_object_get(json_array_get(json_object_get(j, "attendance"), 1), "left");
	assert_true(json_is_null(left));
	out = render(s, EXPORT_MD, 0);
	assert_non_null(strstr(out, "The session is still open."));
	assert_non_null(strstr(out, "| 1 | Ann | 12:01:00 | 2:30 |"));
	out = render(s, EXPORT_CSV, EXPORT_TURNS);
	assert_non_null(strstr(out, ",Ann,"));
	assert_non_null(strstr(out, ",150\r\n"));
}

/* Changing the type of a raised hand keeps the same hand ("raising again
 * with another type keeps the place in time but changes the group"): it is
 * not a second hand raised. */
static void test_changing_a_hands_type_is_not_another_raise(void **state)
{
	(void)state;
	struct sess *s = sess_new();
	create(s, AT(0, 0), "Hands");
	uint64_t f = join(s, AT(0, 10), "Fac", true);
	uint64_t a = join(s, AT(0, 20), "Ann", false);
	cmd(s, AT(1, 0), ROOM_HAND_RAISE, a, 0, ROOM_HAND_NEW, 0);
	cmd(s, AT(1, 5), ROOM_HAND_RAISE, a, 0, ROOM_HAND_NEW, 0);     /* the same again */
	cmd(s, AT(1, 10), ROOM_HAND_RAISE, a, 0, ROOM_HAND_CLARIFY, 0); /* another group */
	assert_int_equal(s->shadow.nhands, 1);
	cmd(s, AT(2, 0), ROOM_FLOOR_GIVE, f, 0, 0, 0);
	cmd(s, AT(3, 0), ROOM_FLOOR_TAKE, f, 0, 0, 0);
	cmd(s, AT(4, 0), ROOM_HAND_RAISE, a, 0, ROOM_HAND_REPLY, 0);    /* a second hand */
	char *out = render(s, EXPORT_JSON, 0);
	json_t *j = parse_json(out);
	json_t *c = json_array_get(json_object_get(j, "contributions"), 1);
	assert_string_equal(JS(c, "name"), "Ann");
	if (JI(c, "hands_raised") != 2)
		fail_msg("Ann raised two hands (one changed its type once); hands_raised is "
			 "%lld",
			 (long long)JI(c, "hands_raised"));
}

/* Options may be 100 characters and labels 40, of any script: they print
 * whole (and as valid UTF-8) in every format. */
static void test_long_options_and_labels_print_whole(void **state)
{
	(void)state;
	char opt[256] = "", low[256] = "";
	for (int i = 0; i < 100; i++)
		strcat(opt, "\xc3\xa9"); /* é: 100 characters, 200 bytes */
	for (int i = 0; i < 40; i++)
		strcat(low, "\xf0\x9f\x98\x80"); /* 😀: 40 characters, 160 bytes */
	struct sess *s = sess_new();
	create(s, AT(0, 0), "Long");
	uint64_t f = join(s, AT(0, 10), "Fac", true);
	const char *opts[] = {opt, "short"};
	prompt(s, AT(1, 0), f, ROOM_PROMPT_SINGLE, ROOM_REVEAL_LIVE, false, "Pick", opts, 2, 0);
	const char *labels[] = {low, "high"};
	prompt(s, AT(1, 10), f, ROOM_PROMPT_RATING, ROOM_REVEAL_LIVE, false, "Rate", labels, 5, 0);
	char why[1024] = "";
	for (int fmt = 0; fmt < 4; fmt++) {
		const char *ext = export_extension((enum export_format)fmt);
		char *out = render(s, (enum export_format)fmt, EXPORT_PROMPTS);
		size_t n = strlen(why);
		if (!valid_utf8(out))
			snprintf(why + n, sizeof(why) - n, "\n  %s: not valid UTF-8 (a cut character)", ext);
		n = strlen(why);
		if (!strstr(out, opt))
			snprintf(why + n, sizeof(why) - n, "\n  %s: the 100-character option is cut", ext);
		n = strlen(why);
		if (fmt != EXPORT_CSV && !strstr(out, low)) /* CSV lists values, not labels */
			snprintf(why + n, sizeof(why) - n, "\n  %s: the 40-character label is cut", ext);
	}
	if (why[0])
		fail_msg("long options and labels:%s", why);
}

/* Every message is kept, not only the last 50 a live room holds; a removed
 * one is marked wherever it is. A member removed while holding the floor
 * ends their turn there. */
static void test_long_chat_and_a_removal_mid_turn(void **state)
{
	(void)state;
	struct sess *s = sess_new();
	create(s, AT(0, 0), "Long chat");
	uint64_t f = join(s, AT(0, 1), "Fac", true);
	uint64_t a = join(s, AT(0, 2), "Ann", false);
	uint64_t first = 0;
	for (int i = 0; i < 120; i++) {
		char t[32];
		snprintf(t, sizeof(t), "message %03d", i);
		uint64_t q = chat(s, AT(1, i / 4), i % 2 ? a : f, t);
		if (!first)
			first = q;
	}
	cmd(s, AT(2, 0), ROOM_DELETE, f, first + 1, 0, 0); /* the oldest of Ann's */
	cmd(s, AT(3, 0), ROOM_FLOOR_GIVE, f, a, 0, 0);
	cmd(s, AT(3, 45), ROOM_REMOVE, f, a, 1, 0);
	cmd(s, AT(4, 0), ROOM_END, f, 0, 0, 0);
	char *out = render(s, EXPORT_JSON, 0);
	json_t *j = parse_json(out);
	json_t *ch = json_object_get(j, "chat");
	assert_int_equal(json_array_size(ch), 120);
	assert_string_equal(JS(json_array_get(ch, 0), "text"), "message 000");
	assert_true(json_is_true(json_object_get(json_array_get(ch, 1), "removed")));
	assert_null(json_object_get(json_array_get(ch, 1), "text"));
	assert_string_equal(JS(json_array_get(ch, 119), "text"), "message 119");
	json_t *t = json_object_get(j, "turns");
	assert_int_equal(json_array_size(t), 1);
	assert_int_equal(JI(json_array_get(t, 0), "ms"), 45000);
	assert_null(json_object_get(json_array_get(t, 0), "open"));
	json_t *ann = json_array_get(json_object_get(j, "attendance"), 1);
	assert_int_equal(JI(ann, "left"), AT(3, 45));
	json_t *mod = json_array_get(json_object_get(j, "moderation"), 1);
	assert_string_equal(JS(mod, "action"), "ban");
	assert_string_equal(JS(mod, "target_name"), "Ann");
	json_t *c = json_array_get(json_object_get(j, "contributions"), 1);
	assert_int_equal(JI(c, "messages"), 60);
	assert_int_equal(JI(c, "speaking_ms"), 45000);
	out = render(s, EXPORT_MD, 0);
	assert_non_null(strstr(out, "message 119"));
	assert_null(strstr(out, "message 001"));
	assert_non_null(strstr(out, "Fac removed and barred Ann"));
}

/* Going back to a segment re-opens it; its actual time is the sum of its
 * runs, not the span from its first start to its last end (which counts
 * the other segments run in between). */
static void test_a_segment_run_twice_counts_its_runs(void **state)
{
	(void)state;
	struct sess *s = sess_new();
	create(s, AT(0, 0), "Back and forth");
	uint64_t f = join(s, AT(0, 1), "Fac", true);
	static const char *const segs[] = {"A", "B"};
	static const uint32_t mins[] = {5, 5};
	agenda(s, AT(0, 2), f, segs, mins, 2);
	cmd(s, AT(1, 0), ROOM_AGENDA_GO, f, 0, 0, 0);  /* A: 1:00 - 6:00 */
	cmd(s, AT(6, 0), ROOM_AGENDA_GO, f, 0, 1, 0);  /* B: 6:00 - 11:00 */
	cmd(s, AT(11, 0), ROOM_AGENDA_GO, f, 0, 0, 0); /* A again: 11:00 - 13:00 */
	cmd(s, AT(13, 0), ROOM_AGENDA_GO, f, 0, 1, 0); /* B again: 13:00 - 16:00 */
	cmd(s, AT(16, 0), ROOM_AGENDA_GO, f, 0, 2, 0); /* finished */
	char *out = render(s, EXPORT_JSON, 0);
	json_t *j = parse_json(out), *ag = json_object_get(j, "agenda");
	long long a = (long long)JI(json_array_get(ag, 0), "actual_ms");
	long long b = (long long)JI(json_array_get(ag, 1), "actual_ms");
	if (a != 7 * 60000 || b != 8 * 60000)
		fail_msg("A ran 5:00 + 2:00 and B 5:00 + 3:00 (15:00 in all); actual_ms says "
			 "A %lld, B %lld",
			 a, b);
}

/* A CSV time is as precise as the Markdown's: to the second (three
 * messages in one minute, turns a minute long). */
static void test_csv_times_keep_the_seconds(void **state)
{
	(void)state;
	struct sess *s = golden_session();
	char *out = render(s, EXPORT_CSV, EXPORT_CHAT);
	struct csv c;
	csv_parse(out, &c);
	int t = csv_col(&c, "time_utc");
	/* 12:01:30, 12:01:40, 12:01:50 */
	for (int i = 1; i <= 3; i++) {
		char want[32];
		snprintf(want, sizeof(want), "12:01:%d0", i + 2);
		if (!strstr(c.rows[i][t], want))
			fail_msg("chat message %d was sent at %s; the CSV says \"%s\"", i, want,
				 c.rows[i][t]);
	}
	out = render(s, EXPORT_CSV, EXPORT_TURNS);
	csv_parse(out, &c);
	t = csv_col(&c, "start_utc");
	if (!strstr(c.rows[2][t], "12:07:30")) /* Cy's turn */
		fail_msg("turn 2 started at 12:07:30; the CSV says \"%s\"", c.rows[2][t]);
}

static void test_format_and_table_names(void **state)
{
	(void)state;
	assert_int_equal(export_format_parse("json"), EXPORT_JSON);
	assert_int_equal(export_format_parse("md"), EXPORT_MD);
	assert_int_equal(export_format_parse("html"), EXPORT_HTML);
	assert_int_equal(export_format_parse("csv"), EXPORT_CSV);
	assert_int_equal(export_format_parse("pdf"), -1);
	assert_int_equal(export_format_parse("JSON"), -1);
	assert_int_equal(export_format_parse(NULL), -1);
	for (int t = 0; t < 4; t++)
		assert_int_equal(export_table_parse(table_names[t]), t);
	assert_int_equal(export_table_parse("members"), -1);
	assert_string_equal(export_content_type(EXPORT_JSON), "application/json");
	assert_string_equal(export_content_type(EXPORT_MD), "text/markdown; charset=utf-8");
	assert_string_equal(export_content_type(EXPORT_HTML), "text/html; charset=utf-8");
	assert_string_equal(export_content_type(EXPORT_CSV), "text/csv; charset=utf-8");
}

/* Records before the create, or of another room's kind of nonsense, change
 * nothing; an empty log renders without a crash. */
static void test_empty_and_uncreated_rooms_render(void **state)
{
	(void)state;
	struct export *x = export_new();
	for (int f = 0; f < 4; f++) {
		struct buf b;
		buf_init(&b);
		OK(export_render(x, (enum export_format)f, EXPORT_CONTRIBUTIONS, &b));
		buf_deinit(&b);
	}
	assert_false(export_room(x)->exists);
	export_free(x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_golden_session, teardown),
		cmocka_unit_test_teardown(test_golden_figures, teardown),
		cmocka_unit_test_teardown(test_markdown_keeps_user_text_inert, teardown),
		cmocka_unit_test_teardown(test_html_keeps_user_text_inert, teardown),
		cmocka_unit_test_teardown(test_html_title_is_text, teardown),
		cmocka_unit_test_teardown(test_markdown_closes_bidi_controls, teardown),
		cmocka_unit_test_teardown(test_csv_fields_read_back_as_the_user_text, teardown),
		cmocka_unit_test_teardown(test_json_carries_user_text_exactly, teardown),
		cmocka_unit_test_teardown(test_anonymous_answers_are_linked_to_nobody, teardown),
		cmocka_unit_test_teardown(test_open_session_counts_the_running_turn, teardown),
		cmocka_unit_test_teardown(test_changing_a_hands_type_is_not_another_raise, teardown),
		cmocka_unit_test_teardown(test_long_options_and_labels_print_whole, teardown),
		cmocka_unit_test_teardown(test_long_chat_and_a_removal_mid_turn, teardown),
		cmocka_unit_test_teardown(test_a_segment_run_twice_counts_its_runs, teardown),
		cmocka_unit_test_teardown(test_csv_times_keep_the_seconds, teardown),
		cmocka_unit_test_teardown(test_format_and_table_names, teardown),
		cmocka_unit_test_teardown(test_empty_and_uncreated_rooms_render, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
