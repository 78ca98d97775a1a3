/*
 * timers.c — grace periods and deadlines.
 *
 * A dropped connection appends `detach` (others see `away`) and starts a
 * grace timer; when it fires, a `leave` with the member's epoch is appended,
 * which the room ignores if the member came back meanwhile (on this instance
 * or another). Deadlines (the turn timer's warning and end, a prompt's
 * closing time) live in the room's state; one libuv timer per room waits for
 * the next one and appends an `expire` record naming it, which apply checks
 * against the state and the record's own time. Both kinds of record are
 * safe to append twice.
 */
#include <stdlib.h>
#include <string.h>

#include "hub/hub_int.h"
#include "util/clock.h"

void hub__grace_free_cb(uv_handle_t *t)
{
	free(t->data);
}

void hub__grace_cancel(struct grace *g)
{
	struct hub_room *hr = g->hr;
	if (g->prev)
		g->prev->next = g->next;
	else
		hr->graces = g->next;
	if (g->next)
		g->next->prev = g->prev;
	uv_timer_stop(&g->timer);
	uv_close((uv_handle_t *)&g->timer, hub__grace_free_cb);
}

void hub__grace_cancel_member(struct hub_room *hr, uint64_t member)
{
	for (struct grace *g = hr->graces, *next; g; g = next) {
		next = g->next;
		if (g->member == member)
			hub__grace_cancel(g);
	}
}

static void grace_fire(uv_timer_t *t)
{
	struct grace *g = t->data;
	struct room_cmd c = {.kind = ROOM_LEAVE, .member = g->member, .epoch = g->epoch,
			     .has_epoch = true, .reason = ROOM_TIMEOUT};
	hub__append(g->hr, &c);
	hub__grace_cancel(g);
}

void hub__grace_start(struct hub_room *hr, uint64_t member, uint32_t epoch)
{
	hub__grace_cancel_member(hr, member);
	struct grace *g = calloc(1, sizeof(*g));
	if (!g)
		return;
	g->hr = hr;
	g->member = member;
	g->epoch = epoch;
	g->timer.data = g;
	uv_timer_init(hr->hub->loop, &g->timer);
	uv_timer_start(&g->timer, grace_fire, hr->hub->cfg.grace_ms, 0);
	g->next = hr->graces;
	if (g->next)
		g->next->prev = g;
	hr->graces = g;
}

/* A member has no connection here any more: mark it away, start its grace. */
void hub__member_dropped(struct hub_room *hr, uint64_t member, uint32_t epoch)
{
	struct room_cmd c = {.kind = ROOM_DETACH, .member = member, .epoch = epoch, .has_epoch = true};
	hub__append(hr, &c);
	hub__grace_start(hr, member, epoch);
}

/* ---- deadlines ------------------------------------------------------------ */

static void deadline_fire(uv_timer_t *t)
{
	struct deadline *d = t->data;
	struct hub_room *hr = d->hr;
	uint8_t what;
	uint64_t target;
	if (!room_next_deadline(&hr->room, &what, &target))
		return;
	struct room_cmd c = {.kind = ROOM_EXPIRE, .target = target, .arg = what};
	if (hub__append(hr, &c) == 0) {
		d->turn = c.target;
		d->what = what;
		d->sent = true;
	}
}

/* Arms the room's timer for its next deadline, if any. An expiry that was
 * appended but not applied yet (the log's clock lags ours) is retried after
 * a pause, never in a tight loop. */
void hub__deadline_arm(struct hub_room *hr)
{
	uint8_t what;
	uint64_t target = 0;
	int64_t due = room_next_deadline(&hr->room, &what, &target);
	struct deadline *d = hr->dl;
	if (!due) {
		if (d)
			uv_timer_stop(&d->timer);
		return;
	}
	if (!d) {
		if (!(d = calloc(1, sizeof(*d))))
			return;
		d->hr = hr;
		d->timer.data = d;
		uv_timer_init(hr->hub->loop, &d->timer);
		hr->dl = d;
	}
	/* most records (chat) leave the deadline as it was: keep the timer */
	if (uv_is_active((uv_handle_t *)&d->timer) && d->armed_due == due &&
	    d->armed_target == target && d->armed_what == what)
		return;
	int64_t wait = due - util_wall_ms() + 2;
	if (d->sent && d->turn == target && d->what == what && wait < 250)
		wait = 250;
	d->armed_due = due;
	d->armed_target = target;
	d->armed_what = what;
	uv_timer_start(&d->timer, deadline_fire, wait > 0 ? (uint64_t)wait : 0, 0);
}

/* ---- instances ------------------------------------------------------------ */

#define HEARTBEAT_MS 1000
#define HEARTBEAT_TTL_MS 5000


/* Where a present member held by another instance stands in q->ids; q->n
 * if it is not there (or the member is ours, or gone). */
static size_t other_instance(const struct hub *h, const struct liveness *q,
			     const struct room_member *m)
{
	if (!m->present || m->instance == h->cfg.instance)
		return q->n;
	size_t k = 0;
	while (k < q->n && q->ids[k] != m->instance)
		k++;
	return k;
}

/* An instance is gone when two checks in a row did not find it: a fresh
 * instance's first heartbeat, or a Redis restart, is no reason to throw its
 * members out. */
static void suspect(struct hub *h, const struct liveness *q, const bool *alive)
{
	uint64_t now[64];
	size_t n = 0;
	for (size_t i = 0; i < q->n; i++)
		if (!alive[i])
			now[n++] = q->ids[i];
	memcpy(h->suspects_prev, h->suspects, sizeof(h->suspects));
	h->nsuspects_prev = h->nsuspects;
	memcpy(h->suspects, now, n * sizeof(now[0]));
	h->nsuspects = n;
}

static bool suspected(const struct hub *h, uint64_t id)
{
	for (size_t i = 0; i < h->nsuspects_prev; i++)
		if (h->suspects_prev[i] == id)
			return true;
	return false;
}

/* A member whose instance is gone: its connection is gone too. Mark it away
 * and run its grace period here (every surviving holder of the room does:
 * the records are idempotent, so the first to act wins). */
static void on_alive(void *ctx, const bool *alive)
{
	struct liveness *q = ctx;
	struct hub *h = q->h;
	if (!h) { /* the hub is gone (shutdown) */
		free(q);
		return;
	}
	h->asking = NULL;
	if (alive)
		suspect(h, q, alive);
	if (alive) {
		map_each(&h->rooms, slot)
		{
			struct hub_room *hr = slot->val;
			if (hr->state != READY)
				continue;
			for (size_t i = 0; i < hr->room.nmembers; i++) {
				const struct room_member *m = &hr->room.members[i];
				size_t k = other_instance(h, q, m);
				if (k == q->n || alive[k] || !suspected(h, m->instance))
					continue;
				bool graced = false;
				for (struct grace *g = hr->graces; g; g = g->next)
					graced |= g->member == m->id;
				if (m->online)
					hub__member_dropped(hr, m->id, m->epoch);
				else if (!graced)
					hub__grace_start(hr, m->id, m->epoch);
			}
		}
	}
	free(q);
}

void hub__liveness_check(struct hub *h)
{
	if (h->asking)
		return;
	struct liveness *q = calloc(1, sizeof(*q));
	if (!q)
		return;
	q->h = h;
	map_each(&h->rooms, slot)
	{
		const struct hub_room *hr = slot->val;
		for (size_t i = 0; hr->state == READY && i < hr->room.nmembers; i++) {
			const struct room_member *m = &hr->room.members[i];
			size_t k = other_instance(h, q, m);
			if (k == q->n && m->present && m->instance != h->cfg.instance && q->n < 64)
				q->ids[q->n++] = m->instance;
		}
	}
	if (!q->n) {
		free(q);
		return;
	}
	h->asking = q;
	log_alive(h->log, q->ids, q->n, on_alive, q);
}

static void tick(uv_timer_t *t)
{
	struct hub *h = t->data;
	log_heartbeat(h->log, h->cfg.instance, HEARTBEAT_TTL_MS);
	hub__liveness_check(h);
}

void hub__liveness_start(struct hub *h)
{
	uv_timer_init(h->loop, &h->live);
	h->live.data = h;
	uv_unref((uv_handle_t *)&h->live);
	uv_timer_start(&h->live, tick, 0, HEARTBEAT_MS);
}
