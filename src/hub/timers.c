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

static int64_t wall_ms(void)
{
	uv_timeval64_t tv;
	uv_gettimeofday(&tv);
	return tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

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
	int64_t wait = due - wall_ms() + 2;
	if (d->sent && d->turn == target && d->what == what && wait < 250)
		wait = 250;
	uv_timer_start(&d->timer, deadline_fire, wait > 0 ? (uint64_t)wait : 0, 0);
}
