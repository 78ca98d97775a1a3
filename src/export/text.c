/*
 * text.c — the transcript as readable minutes: Markdown and HTML.
 *
 * Both walk the same sections in the same order through one writer with two
 * sets of escapes, so the two formats cannot drift apart:
 *
 *  - Markdown: every character with a meaning in Markdown is backslash-
 *    escaped, `<` and `&` become entities (renderers pass HTML through), line
 *    breaks inside a cell become <br>. A name like `**x**` or `<script>`
 *    prints as itself.
 *  - HTML: one self-contained page (inline CSS, no scripts, no external
 *    assets, a Content-Security-Policy that forbids scripts anyway), every
 *    user string escaped for text and attributes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export/export_int.h"
#include "util/err.h"

struct w {
	struct buf *b;
	bool html;
	int rc;
};

static void raw(struct w *w, const char *s)
{
	if (!w->rc)
		w->rc = buf_append(w->b, s, strlen(s));
}

static void rawf(struct w *w, const char *fmt, const char *a, const char *b)
{
	if (!w->rc)
		w->rc = buf_printf(w->b, fmt, a, b ? b : "");
}

static void text_inner(struct w *w, const char *s);

/* User text, escaped for the format. In HTML it is also isolated (<bdi>):
 * a name with a right-to-left override cannot reverse what follows it. */
/* Bidi controls (U+061C, U+200E/F, U+202A-E, U+2066-9) in UTF-8. */
static bool has_bidi_control(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; p && *p; p++) {
		if (p[0] == 0xd8 && p[1] == 0x9c)
			return true;
		if (p[0] == 0xe2 && p[1] == 0x80 && (p[2] == 0x8e || p[2] == 0x8f ||
						      (p[2] >= 0xaa && p[2] <= 0xae)))
			return true;
		if (p[0] == 0xe2 && p[1] == 0x81 && p[2] >= 0xa6 && p[2] <= 0xa9)
			return true;
	}
	return false;
}

static void text(struct w *w, const char *s)
{
	/* Markdown has no <bdi>: a string with bidi controls gets a first
	 * strong isolate ... pop directional isolate around it */
	bool isolate = !w->html && has_bidi_control(s);
	raw(w, w->html ? "<bdi>" : isolate ? "\u2068" : "");
	text_inner(w, s);
	raw(w, w->html ? "</bdi>" : isolate ? "\u2069" : "");
}

static void text_inner(struct w *w, const char *s)
{
	for (; s && *s && !w->rc; s++) {
		char c = *s;
		const char *e = NULL;
		if (c == '&')
			e = "&amp;";
		else if (c == '<')
			e = "&lt;";
		else if (c == '>')
			e = "&gt;";
		else if (c == '\n')
			e = "<br>";
		else if (w->html && c == '"')
			e = "&quot;";
		else if (w->html && c == '\'')
			e = "&#39;";
		if (e) {
			raw(w, e);
			continue;
		}
		if (!w->html && strchr("\\`*_{}[]()#+-.!|~", c))
			w->rc = buf_append(w->b, "\\", 1);
		if (!w->rc)
			w->rc = buf_append(w->b, &c, 1);
	}
}

/* A heading: user text (a title, a question) or our own words (ours). */
static void heading_as(struct w *w, int level, const char *s, bool ours)
{
	void (*put)(struct w *, const char *) = ours ? raw : text;
	if (w->html) {
		char open[8], close[8];
		snprintf(open, sizeof(open), "<h%d>", level);
		snprintf(close, sizeof(close), "</h%d>\n", level);
		raw(w, open);
		put(w, s);
		raw(w, close);
	} else {
		raw(w, level == 1 ? "# " : level == 2 ? "\n## " : "\n### ");
		put(w, s);
		raw(w, "\n\n");
	}
}

static void heading(struct w *w, int level, const char *s)
{
	heading_as(w, level, s, level == 2);
}

/* A table: head with n columns, then rows of cells via cell() and row_end(). */
static void table(struct w *w, const char *const *cols, int n)
{
	if (w->html) {
		raw(w, "<table><thead><tr>");
		for (int i = 0; i < n; i++)
			rawf(w, "<th>%s%s</th>", cols[i], NULL);
		raw(w, "</tr></thead><tbody>\n");
	} else {
		for (int i = 0; i < n; i++)
			rawf(w, "| %s%s ", cols[i], NULL);
		raw(w, "|\n");
		for (int i = 0; i < n; i++)
			raw(w, "|---");
		raw(w, "|\n");
	}
}

static void row(struct w *w)
{
	raw(w, w->html ? "<tr>" : "");
}

static void cell(struct w *w, const char *s)
{
	raw(w, w->html ? "<td>" : "| ");
	text(w, s);
	raw(w, w->html ? "</td>" : " ");
}

static void row_end(struct w *w)
{
	raw(w, w->html ? "</tr>\n" : "|\n");
}

static void table_end(struct w *w)
{
	raw(w, w->html ? "</tbody></table>\n" : "\n");
}

/* A paragraph of our own words (no user text: not escaped). */
static void para(struct w *w, const char *s)
{
	raw(w, w->html ? "<p>" : "");
	raw(w, s);
	raw(w, w->html ? "</p>\n" : "\n\n");
}

static void header(struct w *w, const struct export *x)
{
	const struct room *r = &x->room;
	char start[32], end[32], dur[32], line[256];
	export__time(r->created, start, sizeof(start), EXPORT_DATE);
	export__time(export__end(x), end, sizeof(end), EXPORT_TIME);
	export__duration(export__end(x) - r->created, dur, sizeof(dur));
	heading(w, 1, r->title ? r->title : "Session");
	snprintf(line, sizeof(line), "%s UTC to %s UTC, %s (h:mm:ss or m:ss). %s Transcript as of record %llu.",
		 start, end, dur, r->ended ? "The session has ended." : "The session is still open.",
		 (unsigned long long)x->seq);
	para(w, line);
}

static void attendance(struct w *w, const struct export *x)
{
	static const char *const cols[] = {"Name", "Role", "Joined", "Left"};
	char a[32], b[32];
	heading(w, 2, "Attendance");
	table(w, cols, 4);
	for (size_t i = 0; i < x->room.nmembers; i++) {
		const struct room_member *m = &x->room.members[i];
		export__time(m->joined_ts, a, sizeof(a), EXPORT_TIME);
		if (m->present)
			strcpy(b, "-");
		else
			export__time(m->left_ts, b, sizeof(b), EXPORT_TIME);
		row(w);
		cell(w, m->name);
		cell(w, export__role(m->role));
		cell(w, a);
		cell(w, b);
		row_end(w);
	}
	table_end(w);
}

static void agenda(struct w *w, const struct export *x)
{
	static const char *const cols[] = {"Segment", "Planned", "Actual"};
	const struct room_agenda *ag = &x->room.agenda;
	if (!ag->n)
		return;
	heading(w, 2, "Agenda");
	table(w, cols, 3);
	for (unsigned i = 0; i < ag->n; i++) {
		const struct room_segment *s = &ag->seg[i];
		char planned[32], actual[32];
		snprintf(planned, sizeof(planned), "%u min", s->minutes);
		if (s->started)
			export__duration(export__segment_ms(x, i), actual, sizeof(actual));
		else
			strcpy(actual, "not run");
		row(w);
		cell(w, s->title);
		cell(w, planned);
		cell(w, actual);
		row_end(w);
	}
	table_end(w);
}

static void contributions(struct w *w, const struct export *x)
{
	static const char *const cols[] = {"Name", "Turns", "Speaking time", "Share",
					   "Messages", "Hands raised", "Prompts answered"};
	size_t n;
	struct contrib *v = export__contribs(x, &n);
	if (!v) {
		w->rc = PL_ENOMEM;
		return;
	}
	heading(w, 2, "Contributions");
	table(w, cols, 7);
	for (size_t i = 0; i < n; i++) {
		char t[16], sp[32], sh[16], msg[16], r[16], a[16];
		snprintf(t, sizeof(t), "%u", v[i].turns);
		export__duration(v[i].speak_ms, sp, sizeof(sp));
		snprintf(sh, sizeof(sh), "%.0f %%", v[i].share * 100.0);
		snprintf(msg, sizeof(msg), "%u", v[i].messages);
		snprintf(r, sizeof(r), "%u", v[i].raises);
		snprintf(a, sizeof(a), "%u", v[i].answered);
		row(w);
		cell(w, v[i].m->name);
		cell(w, t);
		cell(w, sp);
		cell(w, sh);
		cell(w, msg);
		cell(w, r);
		cell(w, a);
		row_end(w);
	}
	table_end(w);
	free(v);
	para(w, "Prompts answered counts named prompts; answers to anonymous prompts are "
		"counted only in each prompt's total.");
	uint32_t by[3] = {0, 0, 0};
	for (size_t i = 0; i < x->nxm; i++)
		for (int k = 0; k < 3; k++)
			by[k] += x->xm[i].raises_by[k];
	char line[160];
	snprintf(line, sizeof(line), "Hands raised: %u clarification%s, %u direct repl%s, %u new point%s.",
		 by[ROOM_HAND_CLARIFY], by[ROOM_HAND_CLARIFY] == 1 ? "" : "s", by[ROOM_HAND_REPLY],
		 by[ROOM_HAND_REPLY] == 1 ? "y" : "ies", by[ROOM_HAND_NEW],
		 by[ROOM_HAND_NEW] == 1 ? "" : "s");
	para(w, line);
}

static void turns(struct w *w, const struct export *x)
{
	static const char *const cols[] = {"#", "Who", "Start", "Duration"};
	if (!x->nturns && !x->turn_member)
		return;
	heading(w, 2, "Floor turns");
	table(w, cols, 4);
	for (size_t i = 0; i <= x->nturns; i++) {
		struct xturn t = i < x->nturns ? x->turns[i]
			       : (struct xturn){x->turn_member, x->turn_since,
						export__end(x) - x->turn_since};
		if (i == x->nturns && !x->turn_member)
			break;
		char num[16], start[32], dur[32];
		snprintf(num, sizeof(num), "%zu", i + 1);
		export__time(t.start, start, sizeof(start), EXPORT_TIME);
		export__duration(t.ms, dur, sizeof(dur));
		row(w);
		cell(w, num);
		cell(w, export__name(x, t.member));
		cell(w, start);
		cell(w, dur);
		row_end(w);
	}
	table_end(w);
}

static void prompt(struct w *w, const struct export *x, const struct room_prompt *p)
{
	char line[128];
	heading(w, 3, p->question);
	snprintf(line, sizeof(line), "%s, %s, %zu answer%s.", export__kind(p->kind),
		 p->anonymous ? "anonymous" : "named", p->nanswers, p->nanswers == 1 ? "" : "s");
	para(w, line);
	static const char *const cols[] = {"Answer", "Count"};
	if (p->kind == ROOM_PROMPT_TEXT) {
		const char **t = export__sorted_texts(p);
		if (!t) {
			w->rc = PL_ENOMEM;
			return;
		}
		raw(w, w->html ? "<ul>\n" : "");
		for (size_t i = 0; i < p->nanswers; i++) {
			raw(w, w->html ? "<li>" : "- ");
			text(w, t[i]);
			if (!p->anonymous) { /* a named answer: whose (order is not kept) */
				for (size_t k = 0; k < p->nanswers; k++) {
					if (p->answers[k].text == t[i]) {
						raw(w, " (");
						text(w, export__name(x, p->answers[k].member));
						raw(w, ")");
					}
				}
			}
			raw(w, w->html ? "</li>\n" : "\n");
		}
		raw(w, w->html ? "</ul>\n" : "\n");
		free(t);
		return;
	}
	table(w, cols, 2);
	unsigned first = p->kind == ROOM_PROMPT_RATING ? 1 : 0;
	for (unsigned i = 0; i < p->nopts; i++) {
		char label[4 * ROOM_PROMPT_OPTION + 4 * ROOM_NAME_MAX + 16], count[16];
		if (p->kind == ROOM_PROMPT_RATING)
			snprintf(label, sizeof(label), "%u%s%s", first + i,
				 i == 0 && p->opts[0] && *p->opts[0] ? " - " : "",
				 i == 0 && p->opts[0] ? p->opts[0] : "");
		else
			snprintf(label, sizeof(label), "%s", p->opts[i]);
		if (p->kind == ROOM_PROMPT_RATING && i + 1 == p->nopts && p->opts[1] && *p->opts[1])
			snprintf(label, sizeof(label), "%u - %s", first + i, p->opts[1]);
		snprintf(count, sizeof(count), "%u", p->tally[first + i]);
		row(w);
		cell(w, label);
		cell(w, count);
		row_end(w);
	}
	table_end(w);
	if (p->kind == ROOM_PROMPT_RATING && p->nanswers) {
		uint64_t sum = 0, n = 0;
		for (unsigned v = 1; v <= p->nopts; v++) {
			sum += (uint64_t)v * p->tally[v];
			n += p->tally[v];
		}
		snprintf(line, sizeof(line), "Mean: %.2f of %u.", n ? (double)sum / (double)n : 0.0,
			 p->nopts);
		para(w, line);
	}
	if (!p->anonymous && p->nanswers) {
		raw(w, w->html ? "<p>Answered by: " : "Answered by: ");
		for (size_t i = 0; i < p->nanswers; i++) {
			text(w, export__name(x, p->answers[i].member));
			raw(w, i + 1 < p->nanswers ? ", " : "");
		}
		raw(w, w->html ? "</p>\n" : "\n\n");
	}
}

static void prompts(struct w *w, const struct export *x)
{
	if (!x->room.nprompts)
		return;
	heading(w, 2, "Prompts");
	for (size_t i = 0; i < x->room.nprompts; i++)
		prompt(w, x, &x->room.prompts[i]);
}

static void chat(struct w *w, const struct export *x)
{
	if (!x->nchat)
		return;
	heading(w, 2, "Chat");
	raw(w, w->html ? "<ul class=\"chat\">\n" : "");
	for (size_t i = 0; i < x->nchat; i++) {
		const struct xchat *c = &x->chat[i];
		char t[32];
		export__time(c->ts, t, sizeof(t), EXPORT_TIME);
		raw(w, w->html ? "<li><span class=\"t\">" : "- ");
		text(w, t);
		raw(w, w->html ? "</span> <b>" : " **");
		text(w, export__name(x, c->from));
		raw(w, w->html ? "</b>: " : "**: ");
		if (c->deleted)
			raw(w, w->html ? "<i>removed by a facilitator</i>" : "*removed by a facilitator*");
		else
			text(w, c->text);
		raw(w, w->html ? "</li>\n" : "\n");
	}
	raw(w, w->html ? "</ul>\n" : "\n");
}

static void moderation(struct w *w, const struct export *x)
{
	if (!x->room.nmod)
		return;
	heading(w, 2, "Moderation log");
	raw(w, w->html ? "<ul>\n" : "");
	for (size_t i = 0; i < x->room.nmod; i++) {
		const struct room_mod *m = &x->room.modlog[i];
		char t[32];
		export__time(m->ts, t, sizeof(t), EXPORT_TIME);
		raw(w, w->html ? "<li>" : "- ");
		text(w, t);
		raw(w, " ");
		text(w, export__name(x, m->actor));
		raw(w, " ");
		text(w, export__action(m->action));
		if (m->action != ROOM_MOD_DELETE && m->target) {
			raw(w, " ");
			text(w, export__name(x, m->target));
		}
		if (m->action == ROOM_MOD_CHAT_MODE) {
			static const char *const modes[] = {"open", "slow", "facilitators only"};
			char detail[64];
			snprintf(detail, sizeof(detail), m->arg == ROOM_CHAT_SLOW ? " to %s (%u s)" : " to %s",
				 modes[m->arg <= ROOM_CHAT_FAC_ONLY ? m->arg : 0], m->arg2);
			raw(w, detail);
		}
		raw(w, w->html ? "</li>\n" : "\n");
	}
	raw(w, w->html ? "</ul>\n" : "\n");
}

static void sections(struct w *w, const struct export *x)
{
	header(w, x);
	attendance(w, x);
	agenda(w, x);
	contributions(w, x);
	turns(w, x);
	prompts(w, x);
	chat(w, x);
	moderation(w, x);
}

int export__md(const struct export *x, struct buf *out)
{
	struct w w = {.b = out};
	sections(&w, x);
	return w.rc;
}

static const char html_head[] =
	"<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
	"<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
	"style-src 'unsafe-inline'\">\n"
	"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	"<style>\n"
	"body{font:15px/1.5 system-ui,sans-serif;max-width:56rem;margin:2rem auto;padding:0 1rem;"
	"color:#222}\n"
	"h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ddd}\n"
	"table{border-collapse:collapse;margin:.5rem 0}th,td{border:1px solid #ccc;"
	"padding:.25rem .6rem;text-align:left;vertical-align:top}th{background:#f4f1ec}\n"
	"ul.chat{list-style:none;padding:0}ul.chat li{margin:.2rem 0}.t{color:#777;"
	"font-variant-numeric:tabular-nums}\n"
	"@media print{body{margin:0;max-width:none}h2{break-after:avoid}}\n"
	"</style>\n";

int export__html(const struct export *x, struct buf *out)
{
	struct w w = {.b = out, .html = true};
	raw(&w, html_head);
	raw(&w, "<title>");
	text_inner(&w, x->room.title ? x->room.title : "Session"); /* a title holds text only */
	raw(&w, " (transcript)</title></head><body>\n");
	sections(&w, x);
	raw(&w, "</body></html>\n");
	return w.rc;
}
