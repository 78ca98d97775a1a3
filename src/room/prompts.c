/*
 * prompts.c — feedback prompts: polls, rating scales and open questions.
 *
 * A facilitator opens a prompt; everyone may answer once and change the
 * answer until the prompt closes (by hand, or at its deadline through an
 * idempotent `expire` record). The tally is kept as answers come and go, so
 * results cost nothing to read.
 *
 * Anonymity is by construction. For an anonymous prompt the record of an
 * answer carries no member id, only a token the hub derives from the prompt
 * and the member under the server secret (HMAC): the same person always gets
 * the same token, so one answer per person holds and the answer can be
 * changed, but nothing without the secret can turn a token back into a
 * person, and the record's origin field is fresh randomness per request. So
 * the log, the replica, the results and every export hold answers that no
 * one can link to anyone. The price: for such records apply cannot check
 * that the answerer is a member; the hub, which knows the connection, does.
 *
 * Answers do not become events one by one (500 people answering would mean
 * 250,000 frames): apply only flags the prompt, and the hub sends coalesced
 * results a few times a second to whoever may see them (see enum
 * room_reveal).
 */
#include <stdlib.h>
#include <string.h>

#include "room/room_int.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/text.h"

struct room_prompt *room_prompt(const struct room *r, uint64_t id)
{
	size_t lo = 0, hi = r->nprompts;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (r->prompts[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < r->nprompts && r->prompts[lo].id == id ? &r->prompts[lo] : NULL;
}

const struct room_answer *room_answer_of(const struct room_prompt *p, uint64_t member,
					 const uint8_t token[16])
{
	for (size_t i = 0; i < p->nanswers; i++) {
		const struct room_answer *a = &p->answers[i];
		if (p->anonymous ? token && !memcmp(a->who, token, 16) : a->member == member)
			return a;
	}
	return NULL;
}

bool room_results_visible(const struct room_prompt *p, bool fac, bool answered)
{
	switch (p->reveal) {
	case ROOM_REVEAL_LIVE: return true;
	case ROOM_REVEAL_ANSWERED: return fac || answered || p->closed;
	case ROOM_REVEAL_CLOSED: return fac || p->closed;
	default: return fac;
	}
}

void room__prompts_free(struct room *r)
{
	for (size_t i = 0; i < r->nprompts; i++) {
		struct room_prompt *p = &r->prompts[i];
		free(p->question);
		for (unsigned k = 0; k < ROOM_PROMPT_OPTS; k++)
			free(p->opts[k]);
		for (size_t k = 0; k < p->nanswers; k++)
			free(p->answers[k].text);
		free(p->answers);
	}
	free(r->prompts);
}

/* Checks a short text and copies its trimmed form; empty allowed if may_empty. */
static int copy_text(const struct room_text *t, long max, bool may_empty, char **out)
{
	*out = NULL;
	struct util_text v;
	if (util_text_scan(t->p, t->n, true, &v))
		return PL_EUTF8;
	size_t n = v.len;
	const char *s = n ? t->p + v.start : t->p; /* t->p may be NULL */
	if (!n && !may_empty)
		return PL_EEMPTY;
	if (v.chars > max)
		return PL_ETOOLONG;
	if (v.control)
		return PL_EBADREQ;
	if (!(*out = malloc(n + 1)))
		return PL_ENOMEM;
	if (n) /* s may be NULL for an absent optional text */
		memcpy(*out, s, n);
	(*out)[n] = '\0';
	return 0;
}

static void prompt_deinit(struct room_prompt *p)
{
	free(p->question);
	for (unsigned k = 0; k < ROOM_PROMPT_OPTS; k++)
		free(p->opts[k]);
}

static int open_prompt(struct room *r, uint64_t seq, int64_t ts, const struct room_cmd *c,
		       struct room_fx *fx)
{
	if (c->pkind > ROOM_PROMPT_TEXT || c->reveal > ROOM_REVEAL_FAC || c->arg > 86400)
		return PL_EBADREQ;
	if (c->pkind <= ROOM_PROMPT_MULTI && (c->nopts < 2 || c->nopts > ROOM_PROMPT_OPTS))
		return PL_EBADREQ;
	if (c->pkind == ROOM_PROMPT_RATING && (c->nopts < 2 || c->nopts > ROOM_PROMPT_OPTS))
		return PL_EBADREQ; /* nopts is the scale */
	if (r->nprompts >= ROOM_PROMPTS_MAX)
		return PL_ETOOLONG;
	if (util_array_grow(&r->prompts, &r->prompts_cap, r->nprompts, sizeof(*r->prompts), 4))
		return PL_ENOMEM;
	struct room_prompt p = {.id = seq, .kind = c->pkind, .reveal = c->reveal,
				.anonymous = c->anonymous, .opened = ts,
				.closes_at = c->arg ? ts + (int64_t)c->arg * 1000 : 0};
	struct room_text q = {c->text, c->text_len};
	int rc = copy_text(&q, ROOM_PROMPT_QUESTION, false, &p.question);
	if (c->pkind <= ROOM_PROMPT_MULTI) {
		p.nopts = c->nopts;
		for (unsigned i = 0; !rc && i < c->nopts; i++)
			rc = copy_text(&c->opts[i], ROOM_PROMPT_OPTION, false, &p.opts[i]);
	} else if (c->pkind == ROOM_PROMPT_RATING) {
		p.nopts = c->nopts;
		for (unsigned i = 0; !rc && i < 2; i++) /* labels at the ends */
			rc = copy_text(&c->opts[i], ROOM_NAME_MAX, true, &p.opts[i]);
	}
	if (rc) {
		prompt_deinit(&p);
		return rc;
	}
	r->prompts[r->nprompts++] = p;
	room__emit(fx, ROOM_EV_PROMPT, NULL);
	fx->ev[fx->nev - 1].prompt = &r->prompts[r->nprompts - 1];
	return 0;
}

static void close_prompt(struct room_prompt *p, int64_t ts, struct room_fx *fx)
{
	p->closed = true;
	p->closed_at = ts;
	room__emit(fx, ROOM_EV_CLOSED, NULL);
	fx->ev[fx->nev - 1].prompt = p;
}

static void untally(struct room_prompt *p, const struct room_answer *a)
{
	if (p->kind == ROOM_PROMPT_MULTI) {
		for (unsigned i = 0; i < p->nopts; i++)
			if (a->choice & (1u << i))
				p->tally[i]--;
	} else if (p->kind != ROOM_PROMPT_TEXT) {
		p->tally[a->choice]--;
	}
}

static void tally(struct room_prompt *p, const struct room_answer *a)
{
	if (p->kind == ROOM_PROMPT_MULTI) {
		for (unsigned i = 0; i < p->nopts; i++)
			if (a->choice & (1u << i))
				p->tally[i]++;
	} else if (p->kind != ROOM_PROMPT_TEXT) {
		p->tally[a->choice]++;
	}
}

static int answer(struct room *r, int64_t ts, const struct room_cmd *c, struct room_fx *fx)
{
	struct room_prompt *p = room_prompt(r, c->target);
	if (!p)
		return PL_ENOTFOUND;
	if (p->closed)
		return PL_EFORBIDDEN;
	if (p->anonymous ? !c->has_token || c->member : c->has_token)
		return PL_EBADREQ; /* an anonymous answer names nobody, a named one nobody else */
	if (!p->anonymous) {
		const struct room_member *m = room_member(r, c->member);
		if (!m || !m->present)
			return PL_ENOTJOINED;
	}
	struct room_answer a = {.member = p->anonymous ? 0 : c->member, .ts = ts};
	if (p->anonymous)
		memcpy(a.who, c->token, 16);
	switch (p->kind) {
	case ROOM_PROMPT_SINGLE:
		if (c->arg >= p->nopts)
			return PL_EBADREQ;
		a.choice = c->arg;
		break;
	case ROOM_PROMPT_MULTI:
		if (!c->arg || c->arg >> p->nopts)
			return PL_EBADREQ;
		a.choice = c->arg;
		break;
	case ROOM_PROMPT_RATING:
		if (c->arg < 1 || c->arg > p->nopts)
			return PL_EBADREQ;
		a.choice = c->arg;
		break;
	default: {
		struct room_text t = {c->text, c->text_len};
		int rc = copy_text(&t, ROOM_PROMPT_ANSWER, false, &a.text);
		if (rc)
			return rc;
	}
	}
	struct room_answer *old = (struct room_answer *)room_answer_of(p, a.member, a.who);
	if (old) { /* a change of mind */
		untally(p, old);
		free(old->text);
		*old = a;
	} else {
		if (util_array_grow(&p->answers, &p->answers_cap, p->nanswers, sizeof(*p->answers),
				    8)) {
			free(a.text);
			return PL_ENOMEM;
		}
		p->answers[p->nanswers++] = a;
	}
	tally(p, &a);
	room__emit(fx, ROOM_EV_ANSWER, NULL);
	fx->ev[fx->nev - 1].prompt = p;
	return 0;
}

int room__prompt_apply(struct room *r, uint64_t seq, int64_t ts, const struct room_cmd *c,
		       struct room_fx *fx)
{
	if (c->kind == ROOM_EXPIRE) {
		struct room_prompt *p = room_prompt(r, c->target);
		if (p && !p->closed && p->closes_at && ts >= p->closes_at)
			close_prompt(p, ts, fx);
		return 0;
	}
	if (c->kind == ROOM_ANSWER)
		return answer(r, ts, c, fx);
	if (!room_is_fac(r, c->member))
		return room_member(r, c->member) ? PL_EFORBIDDEN : PL_ENOTJOINED;
	if (c->kind == ROOM_PROMPT_OPEN)
		return open_prompt(r, seq, ts, c, fx);
	struct room_prompt *p = room_prompt(r, c->target);
	if (!p)
		return PL_ENOTFOUND;
	if (!p->closed)
		close_prompt(p, ts, fx);
	return 0;
}

/* The earliest deadline of an open prompt, or 0. */
int64_t room__prompt_deadline(const struct room *r, uint64_t *id)
{
	int64_t best = 0;
	for (size_t i = 0; i < r->nprompts; i++) {
		const struct room_prompt *p = &r->prompts[i];
		if (!p->closed && p->closes_at && (!best || p->closes_at < best)) {
			best = p->closes_at;
			*id = p->id;
		}
	}
	return best;
}
