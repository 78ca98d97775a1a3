/*
 * csv.c — the transcript's tables as CSV (RFC 4180), one table per file:
 * contributions, chat, turns or prompts.
 *
 * Fields are quoted when they hold a comma, a quote or a line break. A field
 * that a spreadsheet would run as a formula (starting with =, +, -, @, a tab
 * or a carriage return) gets a leading apostrophe, so user text stays text.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export/export_int.h"
#include "util/err.h"

struct c {
	struct buf *b;
	int rc;
	bool first;
};

static void put(struct c *c, const char *s, size_t n)
{
	if (!c->rc)
		c->rc = buf_append(c->b, s, n);
}

static void field(struct c *c, const char *s)
{
	if (!c->first)
		put(c, ",", 1);
	c->first = false;
	bool quote = strpbrk(s, ",\"\r\n") != NULL;
	bool formula = strchr("=+-@\t\r", s[0]) && s[0];
	if (quote)
		put(c, "\"", 1);
	if (formula)
		put(c, "'", 1);
	for (const char *p = s; *p; p++) {
		if (*p == '"')
			put(c, "\"", 1);
		put(c, p, 1);
	}
	if (quote)
		put(c, "\"", 1);
}

static void num(struct c *c, long long v)
{
	char t[32];
	snprintf(t, sizeof(t), "%lld", v);
	field(c, t);
}

static void end(struct c *c)
{
	put(c, "\r\n", 2);
	c->first = true;
}

static void head(struct c *c, const char *const *cols, int n)
{
	for (int i = 0; i < n; i++)
		field(c, cols[i]);
	end(c);
}

static void iso(struct c *c, int64_t ms)
{
	char t[32];
	export__time(ms, t, sizeof(t), EXPORT_DATE_TIME);
	field(c, t);
}

static void contributions(struct c *c, const struct export *x)
{
	static const char *const cols[] = {"member", "name", "role", "turns", "speaking_seconds",
					   "speaking_share", "messages", "hands_raised",
					   "prompts_answered"};
	size_t n;
	struct contrib *v = export__contribs(x, &n);
	if (!v) {
		c->rc = PL_ENOMEM;
		return;
	}
	head(c, cols, 9);
	for (size_t i = 0; i < n; i++) {
		char share[16];
		snprintf(share, sizeof(share), "%.3f", v[i].share);
		num(c, (long long)v[i].m->id);
		field(c, v[i].m->name);
		field(c, export__role(v[i].m->role));
		num(c, v[i].turns);
		num(c, (long long)((v[i].speak_ms + 500) / 1000));
		field(c, share);
		num(c, v[i].messages);
		num(c, v[i].raises);
		num(c, v[i].answered);
		end(c);
	}
	free(v);
}

static void chat(struct c *c, const struct export *x)
{
	static const char *const cols[] = {"seq", "time_utc", "member", "name", "text", "removed"};
	head(c, cols, 6);
	for (size_t i = 0; i < x->nchat; i++) {
		const struct xchat *m = &x->chat[i];
		num(c, (long long)m->seq);
		iso(c, m->ts);
		num(c, (long long)m->from);
		field(c, export__name(x, m->from));
		field(c, m->deleted ? "" : m->text ? m->text : "");
		field(c, m->deleted ? "yes" : "no");
		end(c);
	}
}

static void turns(struct c *c, const struct export *x)
{
	static const char *const cols[] = {"turn", "member", "name", "start_utc", "seconds"};
	head(c, cols, 5);
	for (size_t i = 0; i <= x->nturns; i++) {
		if (i == x->nturns && !x->turn_member)
			break;
		struct xturn t = i < x->nturns ? x->turns[i]
			       : (struct xturn){x->turn_member, x->turn_since,
						export__end(x) - x->turn_since};
		num(c, (long long)i + 1);
		num(c, (long long)t.member);
		field(c, export__name(x, t.member));
		iso(c, t.start);
		num(c, (long long)((t.ms + 500) / 1000));
		end(c);
	}
}

static void prompts(struct c *c, const struct export *x)
{
	static const char *const cols[] = {"prompt", "kind", "anonymous", "question", "answer",
					   "count"};
	head(c, cols, 6);
	for (size_t i = 0; i < x->room.nprompts; i++) {
		const struct room_prompt *p = &x->room.prompts[i];
		if (p->kind == ROOM_PROMPT_TEXT) { /* one row per answer, alphabetical */
			const char **t = export__sorted_texts(p);
			if (!t) {
				c->rc = PL_ENOMEM;
				return;
			}
			for (size_t k = 0; k < p->nanswers; k++) {
				num(c, (long long)p->id);
				field(c, export__kind(p->kind));
				field(c, p->anonymous ? "yes" : "no");
				field(c, p->question);
				field(c, t[k]);
				num(c, 1);
				end(c);
			}
			free(t);
			continue;
		}
		unsigned first = p->kind == ROOM_PROMPT_RATING ? 1 : 0;
		for (unsigned k = 0; k < p->nopts; k++) {
			char v[16];
			snprintf(v, sizeof(v), "%u", first + k);
			num(c, (long long)p->id);
			field(c, export__kind(p->kind));
			field(c, p->anonymous ? "yes" : "no");
			field(c, p->question);
			field(c, p->kind == ROOM_PROMPT_RATING ? v : p->opts[k]);
			num(c, p->tally[first + k]);
			end(c);
		}
	}
}

int export__csv(const struct export *x, enum export_table t, struct buf *out)
{
	struct c c = {.b = out, .first = true};
	switch (t) {
	case EXPORT_CHAT: chat(&c, x); break;
	case EXPORT_TURNS: turns(&c, x); break;
	case EXPORT_PROMPTS: prompts(&c, x); break;
	default: contributions(&c, x); break;
	}
	return c.rc;
}
