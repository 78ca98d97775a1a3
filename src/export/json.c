/*
 * json.c — the complete transcript as JSON (schema: proto/TRANSCRIPT.md).
 *
 * Built with jansson, keys in a fixed order, times as milliseconds since
 * the epoch (UTC). Everything the other formats show comes from here too.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "export/export_int.h"
#include "util/err.h"

static json_t *members(const struct export *x)
{
	const struct room *r = &x->room;
	json_t *a = json_array();
	for (size_t i = 0; i < r->nmembers; i++) {
		const struct room_member *m = &r->members[i];
		json_array_append_new(
			a, json_pack("{s:I, s:s, s:s, s:I, s:o}", "id", (json_int_t)m->id, "name",
				     m->name, "role", export__role(m->role), "joined",
				     (json_int_t)m->joined_ts, "left",
				     m->present ? json_null() : json_integer(m->left_ts)));
	}
	return a;
}

static json_t *agenda(const struct export *x)
{
	const struct room_agenda *ag = &x->room.agenda;
	json_t *a = json_array();
	for (unsigned i = 0; i < ag->n; i++) {
		const struct room_segment *s = &ag->seg[i];
		json_array_append_new(a, json_pack("{s:s, s:I, s:I, s:I, s:I}", "title", s->title,
						   "planned_minutes", (json_int_t)s->minutes,
						   "started", (json_int_t)s->started, "ended",
						   (json_int_t)s->ended, "actual_ms",
						   (json_int_t)export__segment_ms(x, i)));
	}
	return a;
}

static json_t *chat(const struct export *x)
{
	json_t *a = json_array();
	for (size_t i = 0; i < x->nchat; i++) {
		const struct xchat *c = &x->chat[i];
		json_t *o = json_pack("{s:I, s:I, s:I, s:s}", "seq", (json_int_t)c->seq, "ts",
				      (json_int_t)c->ts, "from", (json_int_t)c->from, "name",
				      export__name(x, c->from));
		if (c->deleted)
			json_object_set_new(o, "removed", json_true());
		else
			json_object_set_new(o, "text", json_string(c->text ? c->text : ""));
		json_array_append_new(a, o);
	}
	return a;
}

static json_t *turns(const struct export *x)
{
	json_t *a = json_array();
	for (size_t i = 0; i < x->nturns; i++) {
		const struct xturn *t = &x->turns[i];
		json_array_append_new(a, json_pack("{s:I, s:s, s:I, s:I}", "member",
						   (json_int_t)t->member, "name",
						   export__name(x, t->member), "start",
						   (json_int_t)t->start, "ms", (json_int_t)t->ms));
	}
	if (x->turn_member) /* still holding the floor at the end */
		json_array_append_new(a, json_pack("{s:I, s:s, s:I, s:I, s:b}", "member",
						   (json_int_t)x->turn_member, "name",
						   export__name(x, x->turn_member), "start",
						   (json_int_t)x->turn_since, "ms",
						   (json_int_t)(export__end(x) - x->turn_since),
						   "open", 1));
	return a;
}

static json_t *answer_value(const struct room_prompt *p, const struct room_answer *a)
{
	if (p->kind == ROOM_PROMPT_TEXT)
		return json_string(a->text ? a->text : "");
	if (p->kind != ROOM_PROMPT_MULTI)
		return json_integer(a->choice);
	json_t *v = json_array();
	for (unsigned i = 0; i < p->nopts; i++)
		if (a->choice & (1u << i))
			json_array_append_new(v, json_integer(i));
	return v;
}

static json_t *prompt(const struct export *x, const struct room_prompt *p)
{
	static const char *const reveals[] = {"live", "answered", "closed", "facilitators"};
	json_t *o = json_pack("{s:I, s:s, s:s, s:b, s:s, s:I, s:I, s:I}", "id", (json_int_t)p->id,
			      "kind", export__kind(p->kind), "question", p->question, "anonymous",
			      p->anonymous, "reveal", reveals[p->reveal], "opened",
			      (json_int_t)p->opened, "closed", (json_int_t)p->closed_at, "answers",
			      (json_int_t)p->nanswers);
	if (p->kind <= ROOM_PROMPT_MULTI) {
		json_t *opts = json_array();
		for (unsigned i = 0; i < p->nopts; i++)
			json_array_append_new(opts, json_pack("{s:s, s:I}", "option", p->opts[i],
							      "count", (json_int_t)p->tally[i]));
		json_object_set_new(o, "options", opts);
	} else if (p->kind == ROOM_PROMPT_RATING) {
		json_t *counts = json_array();
		uint64_t sum = 0, n = 0;
		for (unsigned v = 1; v <= p->nopts; v++) {
			json_array_append_new(counts, json_integer(p->tally[v]));
			sum += (uint64_t)v * p->tally[v];
			n += p->tally[v];
		}
		json_object_set_new(o, "scale", json_integer(p->nopts));
		json_object_set_new(o, "low", json_string(p->opts[0] ? p->opts[0] : ""));
		json_object_set_new(o, "high", json_string(p->opts[1] ? p->opts[1] : ""));
		json_object_set_new(o, "counts", counts);
		json_object_set_new(o, "mean", json_real(n ? (double)sum / (double)n : 0.0));
	} else { /* open answers: alphabetical, never in answering order */
		const char **t = export__sorted_texts(p);
		json_t *texts = json_array();
		for (size_t i = 0; t && i < p->nanswers; i++)
			json_array_append_new(texts, json_string(t[i]));
		free(t);
		json_object_set_new(o, "texts", texts);
	}
	if (!p->anonymous) { /* named: who answered what */
		json_t *by = json_array();
		for (size_t i = 0; i < p->nanswers; i++) {
			const struct room_answer *a = &p->answers[i];
			json_array_append_new(by, json_pack("{s:I, s:s, s:o}", "member",
							    (json_int_t)a->member, "name",
							    export__name(x, a->member), "answer",
							    answer_value(p, a)));
		}
		json_object_set_new(o, "by", by);
	}
	return o;
}

static json_t *moderation(const struct export *x)
{
	static const char *const actions[ROOM__MOD_MAX] = {
		"delete", "mute", "unmute", "remove", "ban", "lock", "unlock", "chat_mode",
		"promote", "demote", "end"};
	json_t *a = json_array();
	for (size_t i = 0; i < x->room.nmod; i++) {
		const struct room_mod *m = &x->room.modlog[i];
		json_t *o = json_pack("{s:I, s:s, s:I, s:s}", "ts", (json_int_t)m->ts, "action",
				      actions[m->action], "actor", (json_int_t)m->actor, "actor_name",
				      export__name(x, m->actor));
		if (m->action == ROOM_MOD_DELETE)
			json_object_set_new(o, "message", json_integer((json_int_t)m->target));
		else if (m->target)
			json_object_set_new(o, "target_name",
					    json_string(export__name(x, m->target)));
		json_array_append_new(a, o);
	}
	return a;
}

static json_t *contributions(const struct export *x)
{
	size_t n;
	struct contrib *v = export__contribs(x, &n);
	json_t *a = json_array();
	for (size_t i = 0; v && i < n; i++) {
		const uint32_t *by = i < x->nxm ? x->xm[i].raises_by : (const uint32_t[3]){0, 0, 0};
		json_array_append_new(
			a, json_pack("{s:I, s:s, s:I, s:I, s:f, s:I, s:I, s:{s:I, s:I, s:I}, s:I}", "member",
				     (json_int_t)v[i].m->id, "name", v[i].m->name, "turns",
				     (json_int_t)v[i].turns, "speaking_ms", (json_int_t)v[i].speak_ms,
				     "speaking_share", v[i].share, "messages",
				     (json_int_t)v[i].messages, "hands_raised",
				     (json_int_t)v[i].raises, "hands_by_type", "clarify",
				     (json_int_t)by[ROOM_HAND_CLARIFY], "reply",
				     (json_int_t)by[ROOM_HAND_REPLY], "new", (json_int_t)by[ROOM_HAND_NEW],
				     "prompts_answered", (json_int_t)v[i].answered));
	}
	free(v);
	return a;
}

int export__json(const struct export *x, struct buf *out)
{
	const struct room *r = &x->room;
	size_t anon = 0;
	for (size_t i = 0; i < r->nprompts; i++)
		if (r->prompts[i].anonymous)
			anon += r->prompts[i].nanswers;
	json_t *prompts = json_array();
	for (size_t i = 0; i < r->nprompts; i++)
		json_array_append_new(prompts, prompt(x, &r->prompts[i]));
	json_t *doc = json_pack(
		"{s:i, s:{s:s, s:s, s:I, s:I, s:I, s:b}, s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o, "
		"s:I}",
		"version", EXPORT_SCHEMA_VERSION, "room", "id", r->id, "title",
		r->title ? r->title : "", "created", (json_int_t)r->created, "ended",
		(json_int_t)(r->ended ? r->ended_ts : 0), "duration_ms",
		(json_int_t)(export__end(x) - r->created), "session_ended", r->ended, "as_of_seq",
		(json_int_t)x->seq, "attendance", members(x), "agenda", agenda(x), "chat", chat(x),
		"turns", turns(x), "prompts", prompts, "moderation", moderation(x), "contributions",
		contributions(x), "anonymous_answers", (json_int_t)anon);
	if (!doc)
		return PL_ENOMEM;
	char *s = json_dumps(doc, JSON_INDENT(2) | JSON_REAL_PRECISION(4));
	json_decref(doc);
	if (!s)
		return PL_ENOMEM;
	int rc = buf_append(out, s, strlen(s));
	if (!rc)
		rc = buf_append(out, "\n", 1);
	free(s);
	return rc;
}
