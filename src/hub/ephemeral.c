/*
 * ephemeral.c — reactions and quiet signals: what nobody needs later.
 *
 * These skip the log: a 👏 is not a record. They are
 * coalesced like prompt results, so a room-wide burst of applause costs each
 * client a few frames:
 *
 *  - Reactions (a small fixed set) go to everyone as counts per kind since
 *    the last frame, with the session's running totals; no names.
 *  - Quiet signals ("slow down", "I'm lost", "louder please") go to
 *    facilitators only, as how many people sent each in the last minute.
 *    They carry no names either, and one person counts once per kind per
 *    minute however often they click. As the minute passes the counts decay,
 *    and facilitators get the lower figures.
 */
#include <stdlib.h>
#include <string.h>

#include "hub/hub_int.h"
#include "util/err.h"

#define FLUSH_MS 250
#define SIGNAL_WINDOW_MS 60000
#define SIGNALS_MAX 256

static const char *const reactions[] = {"thumbs_up", "clap", "laugh", "wow",
					"heart",     "party", "thinking"};
#define NREACTIONS (sizeof(reactions) / sizeof(reactions[0]))
static const char *const signals[] = {"slow_down", "lost", "louder"};
#define NSIGNALS (sizeof(signals) / sizeof(signals[0]))

struct sig {
	uint64_t member;
	int64_t at;      /* loop time */
	uint8_t kind;
};

struct ephemeral {
	uv_timer_t timer;
	struct hub_room *hr;
	uint32_t delta[NREACTIONS], total[NREACTIONS];
	bool reacted;          /* delta has something */
	bool signalled;        /* the signal counts changed */
	struct sig sig[SIGNALS_MAX]; /* the last minute's signals, oldest first */
	unsigned nsig;
	bool armed;
	uint64_t due;          /* when the armed timer fires (loop time) */
	uint64_t last;
};

static int lookup(const char *const *names, size_t n, const struct wire_str *s)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(names[i]) == s->n && !memcmp(names[i], s->p, s->n))
			return (int)i;
	return -1;
}

/* Drops signals older than the window; returns when the next one expires. */
static uint64_t expire_signals(struct ephemeral *e, uint64_t now)
{
	unsigned k = 0;
	while (k < e->nsig && now - (uint64_t)e->sig[k].at >= SIGNAL_WINDOW_MS)
		k++;
	if (k) {
		memmove(e->sig, e->sig + k, (e->nsig - k) * sizeof(e->sig[0]));
		e->nsig -= k;
		e->signalled = true;
	}
	return e->nsig ? (uint64_t)e->sig[0].at + SIGNAL_WINDOW_MS : 0;
}

static struct frame *reactions_frame(const struct ephemeral *e)
{
	return wire_reactions(reactions, e->delta, e->total, NREACTIONS);
}

static struct frame *signals_frame(const struct ephemeral *e)
{
	uint32_t count[NSIGNALS] = {0};
	for (unsigned i = 0; i < e->nsig; i++)
		count[e->sig[i].kind]++;
	return wire_signals(signals, count, NSIGNALS, SIGNAL_WINDOW_MS / 1000);
}

static void arm(struct ephemeral *e, uint64_t delay);

static void flush(uv_timer_t *t)
{
	struct ephemeral *e = t->data;
	struct hub_room *hr = e->hr;
	uint64_t now = uv_now(hr->hub->loop);
	e->armed = false;
	e->last = now;
	uint64_t next = expire_signals(e, now);
	struct frame *rf = e->reacted ? reactions_frame(e) : NULL;
	struct frame *sf = e->signalled ? signals_frame(e) : NULL;
	for (size_t i = 0; i < hr->nconns; i++) {
		struct hub_conn *hc = hr->conns[i];
		if (rf)
			hr->hub->io.send(hc, rf);
		const struct room_member *m = sf ? room_member(&hr->room, hc->member) : NULL;
		if (m && m->role != ROOM_PARTICIPANT)
			hr->hub->io.send(hc, sf);
	}
	if (rf)
		frame_unref(rf);
	if (sf)
		frame_unref(sf);
	memset(e->delta, 0, sizeof(e->delta));
	e->reacted = e->signalled = false;
	if (next) /* the oldest signal leaves the window then: send lower counts */
		arm(e, next - now);
}

/* Flushes after `delay`, but never sooner than FLUSH_MS after the last
 * flush; an earlier need moves an armed timer forward (a decay due in a
 * minute must not hold back a reaction). */
static void arm(struct ephemeral *e, uint64_t delay)
{
	uint64_t now = uv_now(e->hr->hub->loop), soon = e->last + FLUSH_MS;
	if (soon > now + delay)
		delay = soon - now;
	if (e->armed && e->due <= now + delay)
		return;
	e->armed = true;
	e->due = now + delay;
	uv_timer_start(&e->timer, flush, delay, 0);
}

static struct ephemeral *get(struct hub_room *hr)
{
	if (!hr->eph) {
		struct ephemeral *e = calloc(1, sizeof(*e));
		if (!e)
			return NULL;
		e->hr = hr;
		e->timer.data = e;
		uv_timer_init(hr->hub->loop, &e->timer);
		hr->eph = e;
	}
	return hr->eph;
}

int hub__react(struct hub_room *hr, const struct wire_str *kind)
{
	int k = lookup(reactions, NREACTIONS, kind);
	struct ephemeral *e;
	if (k < 0)
		return PL_EBADREQ;
	if (!(e = get(hr)))
		return PL_ENOMEM;
	e->delta[k]++;
	e->total[k]++;
	e->reacted = true;
	arm(e, 0);
	return 0;
}

int hub__signal(struct hub_room *hr, uint64_t member, const struct wire_str *kind)
{
	int k = lookup(signals, NSIGNALS, kind);
	struct ephemeral *e;
	if (k < 0)
		return PL_EBADREQ;
	if (!(e = get(hr)))
		return PL_ENOMEM;
	uint64_t now = uv_now(hr->hub->loop);
	expire_signals(e, now);
	for (unsigned i = 0; i < e->nsig; i++)
		if (e->sig[i].member == member && e->sig[i].kind == k)
			return 0; /* counted already this minute */
	if (e->nsig == SIGNALS_MAX)
		return PL_ERATE;
	e->sig[e->nsig++] = (struct sig){.member = member, .at = (int64_t)now, .kind = (uint8_t)k};
	e->signalled = true;
	arm(e, 0);
	return 0;
}

void hub__ephemeral_for(struct hub_room *hr, struct hub_conn *hc)
{
	struct ephemeral *e = hr->eph;
	const struct room_member *m = room_member(&hr->room, hc->member);
	if (e && m && m->role != ROOM_PARTICIPANT)
		hub__send_frame(hr->hub, hc, signals_frame(e));
}

void hub__ephemeral_free(struct hub_room *hr)
{
	if (hr->eph) {
		uv_timer_stop(&hr->eph->timer);
		uv_close((uv_handle_t *)&hr->eph->timer, hub__grace_free_cb);
		hr->eph = NULL;
	}
}
