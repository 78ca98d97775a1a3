/*
 * agenda.c — the session's plan: timed segments that a facilitator starts,
 * advances and can step back through.
 *
 * The plan is a short list of segments with planned minutes (intro 5, talk
 * 20, discussion 20, wrap-up 5). Running a segment stamps its start; leaving
 * it stamps its end, so the transcript can set planned against actual time.
 * Going back re-opens a segment (its first start is kept, its end cleared).
 * Whether a segment runs over is for clients to show: it is a matter of the
 * clock (now − since > minutes), not of the state.
 */
#include <stdlib.h>
#include <string.h>

#include "room/room_int.h"
#include "util/err.h"
#include "util/text.h"

_Static_assert(ROOM_AGENDA_MAX <= ROOM_PROMPT_OPTS, "agenda titles travel in cmd.opts");

static void free_segments(struct room_agenda *a)
{
	for (unsigned i = 0; i < a->n; i++)
		free(a->seg[i].title);
	free(a->seg);
}

void room__agenda_free(struct room *r)
{
	free_segments(&r->agenda);
	memset(&r->agenda, 0, sizeof(r->agenda));
	r->agenda.current = -1;
}

static int set_agenda(struct room *r, int64_t ts, const struct room_cmd *c)
{
	if (c->nopts > ROOM_AGENDA_MAX)
		return PL_ETOOLONG;
	struct room_agenda a = {.n = c->nopts, .current = -1};
	if (a.n && !(a.seg = calloc(a.n, sizeof(*a.seg))))
		return PL_ENOMEM;
	for (unsigned i = 0; i < c->nopts; i++) {
		struct util_text v;
		if (util_text_scan(c->opts[i].p, c->opts[i].n, false, &v))
			goto bad_utf8;
		size_t n = v.len;
		const char *t = c->opts[i].p + v.start;
		if (!n || v.control || c->nums[i] < 1 || c->nums[i] > 600)
			goto bad;
		if (v.chars > ROOM_SEGMENT_TITLE)
			goto too_long;
		if (!(a.seg[i].title = malloc(n + 1)))
			goto oom;
		memcpy(a.seg[i].title, t, n);
		a.seg[i].title[n] = '\0';
		a.seg[i].minutes = c->nums[i];
	}
	/* an edit keeps the progress of segments that are still there */
	struct room_agenda *old = &r->agenda;
	for (unsigned i = 0; i < a.n && i < old->n; i++) {
		a.seg[i].started = old->seg[i].started;
		a.seg[i].ended = old->seg[i].ended;
		a.seg[i].actual_ms = old->seg[i].actual_ms;
	}
	/* not started stays so; finished (or past the new end) stays finished */
	a.current = old->current < 0			       ? -1
		    : old->current >= old->n || old->current >= a.n ? (int8_t)a.n
								      : old->current;
	a.since = a.current >= 0 && a.current < a.n ? (old->since ? old->since : ts) : 0;
	room__agenda_free(r);
	r->agenda = a;
	return 0;
bad_utf8:
	free_segments(&a);
	return PL_EUTF8;
bad:
	free_segments(&a);
	return PL_EBADREQ;
too_long:
	free_segments(&a);
	return PL_ETOOLONG;
oom:
	free_segments(&a);
	return PL_ENOMEM;
}

static int go(struct room *r, int64_t ts, uint32_t to)
{
	struct room_agenda *a = &r->agenda;
	if (!a->n || to > a->n)
		return PL_EBADREQ;
	if (a->current == (int)to)
		return 0;
	if (a->current >= 0 && a->current < a->n) {
		a->seg[a->current].ended = ts;
		a->seg[a->current].actual_ms += ts - a->since;
	}
	a->current = (int8_t)to;
	if (to < a->n) {
		if (!a->seg[to].started)
			a->seg[to].started = ts;
		a->seg[to].ended = 0;
		a->since = ts;
	} else {
		a->since = 0; /* finished */
	}
	return 0;
}

int room__agenda_apply(struct room *r, int64_t ts, const struct room_cmd *c, struct room_fx *fx)
{
	if (!room_is_fac(r, c->member))
		return room_member(r, c->member) ? PL_EFORBIDDEN : PL_ENOTJOINED;
	int rc = c->kind == ROOM_AGENDA_SET ? set_agenda(r, ts, c) : go(r, ts, c->arg);
	if (!rc)
		room__emit(fx, ROOM_EV_AGENDA, NULL);
	return rc;
}
