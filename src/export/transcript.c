/*
 * transcript.c — building a transcript from a room's records.
 *
 * Each record goes through room_apply on the export's own replica; the
 * effects tell what to keep beyond the live state: chat messages (a live
 * room keeps only the last 50), floor turns with their start and length, and
 * hand raises per person and type. Everything else (attendance, agenda,
 * prompts and their tallies, the moderation log, turns and speaking time per
 * member) is in the replica's final state.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "export/export_int.h"
#include "util/err.h"

struct export *export_new(void)
{
	struct export *x = calloc(1, sizeof(*x));
	if (x)
		room_init(&x->room);
	return x;
}

void export_free(struct export *x)
{
	if (!x)
		return;
	for (size_t i = 0; i < x->nchat; i++)
		free(x->chat[i].text);
	free(x->chat);
	free(x->turns);
	free(x->xm);
	room_deinit(&x->room);
	free(x);
}

const struct room *export_room(const struct export *x)
{
	return &x->room;
}

static void keep_chat(struct export *x, const struct room_chat *c)
{
	if (util_array_grow(&x->chat, &x->chat_cap, x->nchat, sizeof(*x->chat), 16))
		return;
	char *text = c->text ? strdup(c->text) : NULL;
	x->chat[x->nchat++] = (struct xchat){.seq = c->seq, .ts = c->ts, .from = c->from, .text = text};
}

static void delete_chat(struct export *x, uint64_t seq)
{
	size_t lo = 0, hi = x->nchat;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (x->chat[mid].seq < seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < x->nchat && x->chat[lo].seq == seq) {
		free(x->chat[lo].text);
		x->chat[lo].text = NULL;
		x->chat[lo].deleted = true;
	}
}

/* The floor changed hands at ts: close the open turn, open the new one. */
static void floor_changed(struct export *x, int64_t ts)
{
	if (x->turn_member) {
		if (!util_array_grow(&x->turns, &x->turns_cap, x->nturns, sizeof(*x->turns), 16)) {
			x->turns[x->nturns++] = (struct xturn){.member = x->turn_member,
							.start = x->turn_since,
							.ms = ts - x->turn_since};
		}
	}
	x->turn_member = x->room.floor.member;
	x->turn_since = x->room.floor.since;
}

static struct xmember *xm_of(struct export *x, uint64_t member)
{
	const struct room_member *m = room_member(&x->room, member);
	if (!m)
		return NULL;
	size_t i = (size_t)(m - x->room.members);
	if (i >= x->nxm) {
		size_t n = x->room.cap;
		struct xmember *v = realloc(x->xm, n * sizeof(*v));
		if (!v)
			return NULL;
		memset(v + x->nxm, 0, (n - x->nxm) * sizeof(*v));
		x->xm = v;
		x->nxm = n;
	}
	return &x->xm[i];
}

void export_feed(struct export *x, uint64_t seq, int64_t ts, const struct room_cmd *c)
{
	struct room_fx fx;
	if (!x->first_ts)
		x->first_ts = ts;
	x->last_ts = ts;
	x->seq = seq;
	bool had_hand = false; /* raising again with another type is no new raise */
	for (size_t i = 0; c->kind == ROOM_HAND_RAISE && i < x->room.nhands; i++)
		had_hand |= x->room.hands[i].member == c->member;
	if (room_apply(&x->room, seq, ts, c, &fx))
		return;
	if (c->kind == ROOM_HAND_RAISE && c->arg <= ROOM_HAND_NEW && !had_hand) {
		struct xmember *xm = xm_of(x, c->member);
		if (xm && fx.nev) {
			xm->raises++;
			xm->raises_by[c->arg]++;
		}
	}
	for (unsigned i = 0; i < fx.nev; i++) {
		const struct room_ev *ev = &fx.ev[i];
		if (ev->kind == ROOM_EV_CHAT)
			keep_chat(x, ev->chat);
		else if (ev->kind == ROOM_EV_FLOOR)
			floor_changed(x, ts);
		else if (ev->kind == ROOM_EV_MOD && ev->mod->action == ROOM_MOD_DELETE)
			delete_chat(x, ev->mod->target);
	}
}

/* ---- helpers for the renderers --------------------------------------------- */

int64_t export__end(const struct export *x)
{
	return x->room.ended ? x->room.ended_ts : x->last_ts;
}

const char *export__name(const struct export *x, uint64_t member)
{
	const struct room_member *m = room_member(&x->room, member);
	return m ? m->name : "?";
}

const char *export__role(uint8_t role)
{
	return role == ROOM_FACILITATOR     ? "facilitator"
	       : role == ROOM_COFACILITATOR ? "co-facilitator"
					    : "participant";
}

const char *export__kind(uint8_t kind)
{
	static const char *const k[] = {"single choice", "multiple choice", "rating", "open text"};
	return kind <= ROOM_PROMPT_TEXT ? k[kind] : "?";
}

const char *export__action(uint8_t action)
{
	static const char *const a[ROOM__MOD_MAX] = {
		"deleted a message", "muted", "unmuted", "removed", "removed and barred",
		"locked the room", "unlocked the room", "set the chat mode", "promoted",
		"demoted", "ended the session"};
	return action < ROOM__MOD_MAX ? a[action] : "?";
}

void export__time(int64_t ms, char *out, size_t n, enum export_time how)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&t, &tm);
	if (how == EXPORT_TIME)
		snprintf(out, n, "%02d:%02d:%02d", tm.tm_hour, tm.tm_min, tm.tm_sec);
	else
		snprintf(out, n, how == EXPORT_DATE_TIME ? "%04d-%02d-%02d %02d:%02d:%02d"
							: "%04d-%02d-%02d %02d:%02d",
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
			 tm.tm_sec);
}

int64_t export__segment_ms(const struct export *x, unsigned i)
{
	const struct room_agenda *ag = &x->room.agenda;
	int64_t ms = ag->seg[i].actual_ms;
	if (ag->current == (int)i) /* running at the end of the export */
		ms += export__end(x) - ag->since;
	return ms;
}

void export__duration(int64_t ms, char *out, size_t n)
{
	int64_t s = ms < 0 ? 0 : (ms + 500) / 1000;
	if (s >= 3600)
		snprintf(out, n, "%lld:%02lld:%02lld", (long long)(s / 3600),
			 (long long)(s / 60 % 60), (long long)(s % 60));
	else
		snprintf(out, n, "%lld:%02lld", (long long)(s / 60), (long long)(s % 60));
}

static int by_text(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

const char **export__sorted_texts(const struct room_prompt *p)
{
	const char **t = malloc((p->nanswers ? p->nanswers : 1) * sizeof(*t));
	if (!t)
		return NULL;
	for (size_t i = 0; i < p->nanswers; i++)
		t[i] = p->answers[i].text ? p->answers[i].text : "";
	qsort(t, p->nanswers, sizeof(*t), by_text);
	return t;
}

struct contrib *export__contribs(const struct export *x, size_t *n)
{
	const struct room *r = &x->room;
	struct contrib *v = calloc(r->nmembers ? r->nmembers : 1, sizeof(*v));
	int64_t total = 0, end = export__end(x);
	if (!v)
		return NULL;
	for (size_t i = 0; i < r->nmembers; i++) {
		const struct room_member *m = &r->members[i];
		struct contrib *c = &v[i];
		c->m = m;
		c->turns = m->turns;
		c->messages = m->messages;
		c->speak_ms = m->speak_ms;
		if (x->turn_member == m->id) /* a turn still open at the end */
			c->speak_ms += end - x->turn_since;
		c->raises = i < x->nxm ? x->xm[i].raises : 0;
		for (size_t k = 0; k < r->nprompts; k++) /* named answers only */
			if (!r->prompts[k].anonymous && room_answer_of(&r->prompts[k], m->id, NULL))
				c->answered++;
		total += c->speak_ms;
	}
	for (size_t i = 0; i < r->nmembers; i++)
		v[i].share = total ? (double)v[i].speak_ms / (double)total : 0.0;
	*n = r->nmembers;
	return v;
}

/* ---- entry points -------------------------------------------------------- */

int export_render(const struct export *x, enum export_format f, enum export_table t,
		  struct buf *out)
{
	switch (f) {
	case EXPORT_JSON: return export__json(x, out);
	case EXPORT_MD: return export__md(x, out);
	case EXPORT_HTML: return export__html(x, out);
	default: return export__csv(x, t, out);
	}
}

static int find(const char *const *names, int n, const char *s)
{
	for (int i = 0; s && i < n; i++)
		if (!strcmp(names[i], s))
			return i;
	return -1;
}

static const char *const formats[] = {"json", "md", "html", "csv"};

int export_format_parse(const char *s)
{
	return find(formats, 4, s);
}

static const char *const tables[] = {"contributions", "chat", "turns", "prompts"};

int export_table_parse(const char *s)
{
	return find(tables, 4, s);
}

const char *export_table_name(int t)
{
	return t >= 0 && t < 4 ? tables[t] : "";
}

const char *export_content_type(enum export_format f)
{
	static const char *const types[] = {"application/json", "text/markdown; charset=utf-8",
					    "text/html; charset=utf-8", "text/csv; charset=utf-8"};
	return types[f];
}

const char *export_extension(enum export_format f)
{
	return formats[f];
}
