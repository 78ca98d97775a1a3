/*
 * hub.c — rooms held by this instance: replicas, request routing, fan-out.
 *
 * One straight path: a request is checked against the
 * local replica (a shortcut for a quick error), encoded as a record and
 * appended to the room's log with a fresh random `o` (origin) that the hub
 * remembers in the room's pending list. Nothing is applied yet. When the log
 * delivers records, in seq order, each is applied to the replica; its events
 * are encoded once and queued by reference on every local connection of the
 * room; and if its origin is ours, the request is answered. So replies and
 * events follow the log's one order on every instance.
 *
 * Pending requests form a FIFO per room: records come back in the order they
 * were appended, so the match is nearly always the head. The origin is a
 * random 64-bit value, fresh per request, so the log never links two records
 * of one connection.
 *
 * Presence: a dropped connection appends `detach` (others see `away`) and
 * starts a grace timer; when it fires, a `leave` with the member's epoch is
 * appended, which the room ignores if the member came back meanwhile. A
 * resume attaches the connection at once, replays the missed event frames
 * from the room's ring, and appends `attach`.
 *
 * Rooms nobody uses are swept from memory after a while; the log keeps them.
 */
#include "hub/hub_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "util/crypto.h"
#include "util/err.h"
#include "util/map.h"
#include "util/text.h"
#include "util/ulog.h"

/* ---- helpers ----------------------------------------------------------- */

/* Origins look random and never repeat: splitmix64 of a counter that starts
 * at a random point (RAND_bytes per request cost 2 % of the CPU and a getpid
 * syscall). They name no connection and no member: two origins tell nothing
 * about each other but that one instance made both. */
static uint64_t new_origin(struct hub *h)
{
	uint64_t z;
	do {
		z = (h->origin_ctr += 0x9e3779b97f4a7c15ull);
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
		z ^= z >> 31;
	} while (!z);
	return z;
}

void hub__make_token(const struct hub *h, const char *room, uint64_t member, char *out)
{
	char msg[64];
	int n = snprintf(msg, sizeof(msg), "resume:%s:%llu", room, (unsigned long long)member);
	uint8_t mac[32];
	util_hmac_sha256(h->secret, h->cfg.secret_len, msg, (size_t)n, mac);
	util_b64url(mac, 16, out);
}

/* The browser's id, keyed per room: a ban can bar it, the log cannot be
 * used to follow it across rooms. */
void hub__device_hash(const struct hub *h, const char *room, const struct wire_str *dev,
			uint8_t out[16])
{
	uint8_t mac[32];
	char msg[300];
	int n = snprintf(msg, sizeof(msg), "device:%s:%.*s", room, (int)dev->n, dev->p);
	util_hmac_sha256(h->secret, h->cfg.secret_len, msg, (size_t)n, mac);
	memcpy(out, mac, 16);
}

void hub__send_err(struct hub *h, struct hub_conn *hc, uint32_t id, int err, const char *msg)
{
	struct frame *f = wire_error(id, true, err, msg);
	if (f) {
		h->io.send(hc, f);
		frame_unref(f);
	}
}

void hub__send_frame(struct hub *h, struct hub_conn *hc, struct frame *f)
{
	if (f) {
		h->io.send(hc, f);
		frame_unref(f);
	}
}

static int hub__link_conn(struct hub_room *hr, struct hub_conn *hc)
{
	if (hr->nconns >= UINT32_MAX ||
	    util_array_grow(&hr->conns, &hr->conns_cap, hr->nconns + 1, sizeof(*hr->conns), 4))
		return PL_ENOMEM;
	hc->slot = (uint32_t)hr->nconns;
	hr->conns[hr->nconns++] = hc;
	return 0;
}

void hub__unlink_conn(struct hub_room *hr, struct hub_conn *hc)
{
	struct hub_conn *last = hr->conns[--hr->nconns];
	hr->conns[hc->slot] = last;
	last->slot = hc->slot;
	if (!hr->nconns)
		hr->idle_since = uv_now(hr->hub->loop);
}

/* Links a joined connection to its member. Without memory for that, the
 * connection is closed and the member starts its grace period, as if its
 * socket had dropped. */
bool hub__attach_conn(struct hub_room *hr, struct hub_conn *hc, uint64_t member, uint32_t epoch)
{
	hc->room = hr;
	hc->member = member;
	if (!hub__link_conn(hr, hc))
		return true;
	hc->room = NULL;
	hc->member = 0;
	hr->hub->io.close(hc, 1011, "out of memory");
	hub__member_dropped(hr, member, epoch);
	return false;
}

/* Queues a frame on every local connection of the room. The next few
 * connections are prefetched: each is a cache miss of its own. */
void hub__broadcast(struct hub_room *hr, struct frame *f)
{
	struct hub *h = hr->hub;
	struct hub_conn **v = hr->conns;
	size_t n = hr->nconns;
	for (size_t i = 0; i < n; i++) {
		if (i + 4 < n)
			__builtin_prefetch(v[i + 4]);
		h->io.send(v[i], f);
	}
}

int hub__append(struct hub_room *hr, const struct room_cmd *c)
{
	struct hub *h = hr->hub;
	buf_reset(&h->rec);
	int rc = wire_record_encode(&h->rec, c);
	if (rc == 0)
		rc = log_room_append(hr->lr, buf_data(&h->rec), h->rec.len);
	h->stats.appends += rc == 0;
	h->stats.append_errors += rc != 0;
	if (rc)
		ULOG_W("room %s: append failed: %s", hr->id, pl_err_msg(rc));
	return rc;
}

/* Appends a request's record and remembers who asked. */
int hub__submit(struct hub_room *hr, struct hub_conn *hc, const struct wire_req *req,
		  struct room_cmd *c, uint32_t epoch)
{
	struct pending *p = malloc(sizeof(*p));
	if (!p)
		return PL_ENOMEM;
	c->origin = new_origin(hr->hub);
	int rc = hub__append(hr, c);
	if (rc) {
		free(p);
		return rc == PL_ENOMEM ? rc : PL_EUNAVAIL;
	}
	*p = (struct pending){.origin = c->origin, .hc = hc, .req_id = req->id,
			      .type = (uint8_t)req->type, .epoch = epoch};
	if (hr->pend_tail)
		hr->pend_tail->next = p;
	else
		hr->pend_head = p;
	hr->pend_tail = p;
	return 0;
}

struct pending *hub__take_pending(struct hub_room *hr, uint64_t origin)
{
	struct pending **pp = &hr->pend_head, *prev = NULL;
	for (; *pp; prev = *pp, pp = &(*pp)->next) {
		if ((*pp)->origin != origin)
			continue;
		struct pending *p = *pp;
		*pp = p->next;
		if (hr->pend_tail == p)
			hr->pend_tail = prev;
		return p;
	}
	return NULL;
}

/* ---- the ring of recent events ------------------------------------------ */

static void ring_push(struct hub_room *hr, struct frame *f)
{
	unsigned cap = hr->hub->cfg.ring;
	if (!cap)
		return;
	if (hr->ring_n < cap && hr->ring_n == hr->ring_cap) {
		/* grows as the room talks: a quiet room keeps a small ring */
		unsigned ncap = hr->ring_cap ? hr->ring_cap + hr->ring_cap / 2 : 16;
		struct frame **ring = malloc((ncap > cap ? cap : ncap) * sizeof(*ring));
		if (!ring) {
			hr->ring_floor = f->seq; /* resume falls back to a snapshot */
			return;
		}
		for (unsigned i = 0; i < hr->ring_n; i++) /* oldest first, at 0 */
			ring[i] = hr->ring[(hr->ring_head + hr->ring_cap - hr->ring_n + i) % hr->ring_cap];
		free(hr->ring);
		hr->ring = ring;
		hr->ring_cap = ncap > cap ? cap : ncap;
		hr->ring_head = hr->ring_n % hr->ring_cap;
	}
	cap = hr->ring_cap;
	if (hr->ring_n == cap) {
		struct frame *old = hr->ring[hr->ring_head];
		hr->ring_floor = old->seq;
		frame_unref(old);
	} else {
		hr->ring_n++;
	}
	hr->ring[hr->ring_head] = frame_ref(f);
	hr->ring_head = (hr->ring_head + 1) % cap;
}

/* Queues the ring's frames with seq > after; returns how many, or -1 if the
 * ring cannot prove it has all of them. */
long hub__ring_replay(struct hub_room *hr, struct hub_conn *hc, uint64_t after, bool send)
{
	if (after < hr->ring_floor || after > hr->room.seq)
		return -1;
	unsigned cap = hr->ring_cap;
	long n = 0;
	size_t bytes = 0;
	for (unsigned i = 0; i < hr->ring_n; i++) {
		struct frame *f = hr->ring[(hr->ring_head + cap - hr->ring_n + i) % cap];
		if (f->seq <= after)
			continue;
		if (send)
			hr->hub->io.send(hc, f);
		n++;
		bytes += f->len;
	}
	/* a replay that would fill most of the outbound queue: a snapshot is
	 * smaller, and does not get the client closed as too slow at once */
	if (!send && hr->hub->cfg.replay_max_bytes && bytes > hr->hub->cfg.replay_max_bytes)
		return -1;
	return n;
}

/* ---- applying records --------------------------------------------------- */

static void flush_later(struct hub_room *hr)
{
	if (!hr->on_flush) {
		hr->on_flush = true;
		hr->flush_next = hr->hub->flush;
		hr->hub->flush = hr;
	}
}

const struct buf *hub__snapshot(struct hub_room *hr)
{
	if (hr->snap.mem && hr->snap_seq == hr->room.seq) /* one is kept */
		return &hr->snap;
	buf_deinit(&hr->snap);
	if (wire_snapshot(&hr->room, &hr->snap))
		return NULL;
	hr->snap_seq = hr->room.seq;
	flush_later(hr); /* kept until the iteration ends */
	return &hr->snap;
}

void hub__close_member_conns(struct hub_room *hr, uint64_t member, struct hub_conn *keep,
			       int code, const char *why)
{
	for (size_t i = hr->nconns; i-- > 0;) { /* unlinking moves the last one here */
		struct hub_conn *c = hr->conns[i];
		if (c->member != member || c == keep)
			continue;
		hub__unlink_conn(hr, c);
		c->room = NULL;
		c->member = 0;
		hr->hub->io.close(c, code, why);
	}
}

static void reply(struct hub_room *hr, struct pending *p, const struct room_fx *fx, uint64_t seq)
{
	struct hub *h = hr->hub;
	struct hub_conn *hc = p->hc;
	if (fx->err && p->type == WIRE_RESUME) {
		/* the resume was answered already; the member left meanwhile
		 * (its grace ran out first): this connection holds nothing */
		if (hc->member)
			hub__unlink_conn(hr, hc);
		hc->room = NULL;
		hc->member = 0;
		h->io.close(hc, 4003, "no longer a member of this room; join again");
		return;
	}
	if (fx->err) {
		if (p->type == WIRE_JOIN) {
			hc->room = NULL;
			hc->member = 0;
			hc->busy = false;
		}
		hub__send_err(h, hc, p->req_id, fx->err, NULL);
		return;
	}
	switch (p->type) {
	case WIRE_JOIN:   /* answered by hub_flush (answer_join) */
	case WIRE_RESUME: /* answered when asked */
		break;
	case WIRE_CHAT:
	case WIRE_PROMPT: /* the message's, or the prompt's id */
		hub__send_frame(h, hc, wire_ok_seq(p->req_id, seq));
		break;
	case WIRE_LEAVE:
		hub__send_frame(h, hc, wire_ok(p->req_id));
		hub__unlink_conn(hr, hc);
		hc->room = NULL;
		hc->member = 0;
		h->io.close(hc, 1000, "left the room");
		break;
	default:
		hub__send_frame(h, hc, wire_ok(p->req_id));
		break;
	}
}

static void on_record(void *ctx, const struct log_rec *rec)
{
	struct hub_room *hr = ctx;
	struct hub *h = hr->hub;
	struct room_cmd c;
	struct room_fx fx;
	if (wire_record_decode(&h->u, rec->data, rec->len, &c)) {
		ULOG_E("room %s: record %llu cannot be decoded; skipped", hr->id,
		       (unsigned long long)rec->seq);
		hr->room.seq = rec->seq;
		return;
	}
	room_apply(&hr->room, rec->seq, rec->ts, &c, &fx);
	h->stats.records++;
	h->stats.rejected += fx.err != 0;
	hr->creating = false;
	struct pending *p = c.origin ? hub__take_pending(hr, c.origin) : NULL;

	/* answers are not broadcast: their results go out coalesced */
	unsigned n = 0;
	for (unsigned i = 0; i < fx.nev; i++) {
		enum room_ev_kind k = fx.ev[i].kind;
		if (k == ROOM_EV_ANSWER || k == ROOM_EV_PROMPT || k == ROOM_EV_CLOSED)
			hub__results_dirty(hr, fx.ev[i].prompt->id);
		else if (k == ROOM_EV_MOD && fx.ev[i].mod->action == ROOM_MOD_END) {
			hub__results_dirty(hr, 0);
			if (h->cfg.retention_ms)
				log_room_retire(hr->lr, h->cfg.retention_ms);
			if (hr->state == READY && h->cfg.ended) /* live, not a reload */
				h->cfg.ended(h->cfg.ended_arg, hr->id);
		}
		if (k != ROOM_EV_ANSWER)
			fx.ev[n++] = fx.ev[i];
	}
	fx.nev = n;
	struct frame *f = fx.nev ? wire_event(&hr->room, rec->seq, rec->ts, fx.ev, fx.nev) : NULL;
	if (f) {
		ring_push(hr, f);
		hub__broadcast(hr, f);
		h->stats.events++;
		h->stats.deliveries += hr->nconns;
		frame_unref(f);
	}
	if (!fx.err && c.kind == ROOM_ATTACH) {
		hub__grace_cancel_member(hr, c.member);
		hub__close_member_conns(hr, c.member, p ? p->hc : NULL, 4002,
				   "replaced by a newer connection");
	}
	for (unsigned i = 0; i < fx.nev; i++) {
		if (fx.ev[i].kind != ROOM_EV_LEFT)
			continue;
		hub__grace_cancel_member(hr, fx.ev[i].member->id);
		/* a connection still attached to a member who is gone (removed,
		 * or timed out while its instance was frozen) holds nothing */
		if (fx.ev[i].reason == ROOM_REMOVED)
			hub__close_member_conns(hr, fx.ev[i].member->id, NULL, 4004,
						"removed from the room by a facilitator");
		else
			hub__close_member_conns(hr, fx.ev[i].member->id, p ? p->hc : NULL, 4003,
						"no longer a member of this room; join again");
	}
	hub__deadline_arm(hr);
	if (!p)
		return;
	if (c.kind == ROOM_CREATE) {
		if (p->created)
			p->created(p->created_ctx, fx.err);
	} else if (!fx.err && p->type == WIRE_JOIN) {
		p->member = fx.member;
		p->next = hr->joined;
		hr->joined = p;
		flush_later(hr);
		return;
	} else if (p->hc) {
		reply(hr, p, &fx, rec->seq);
	}
	free(p);
}

/* A join applied in this iteration. Its connection gets the room's events
 * from the snapshot's seq on; the joined events before it are in the
 * snapshot. */
static void answer_join(struct hub_room *hr, struct pending *p)
{
	struct hub *h = hr->hub;
	struct hub_conn *hc = p->hc;
	const struct room_member *m = room_member(&hr->room, p->member);
	if (!hc) {
		if (m && m->present)
			hub__member_dropped(hr, p->member, 0); /* joined, but the socket is gone */
		return;
	}
	hc->busy = false;
	if (!m || !m->present) { /* removed in the same iteration */
		hc->room = NULL;
		h->io.close(hc, 4003, "no longer a member of this room; join again");
		return;
	}
	if (!hub__attach_conn(hr, hc, p->member, 0))
		return;
	char token[TOKEN_LEN + 1];
	hub__make_token(h, hr->id, p->member, token);
	hub__send_frame(h, hc,
			wire_ok_join(p->req_id, &hr->room, p->member, token, hub__snapshot(hr)));
	hub__results_for(hr, hc);
	hub__ephemeral_for(hr, hc);
}

void hub_flush(struct hub *h)
{
	struct hub_room *hr;
	while ((hr = h->flush)) { /* answering may put a room back on the list */
		h->flush = hr->flush_next;
		hr->on_flush = false;
		struct pending *list = NULL;
		while (hr->joined) { /* oldest first */
			struct pending *p = hr->joined;
			hr->joined = p->next;
			p->next = list;
			list = p;
		}
		while (list) {
			struct pending *p = list;
			list = p->next;
			answer_join(hr, p);
			free(p);
		}
		buf_deinit(&hr->snap);
	}
}

static void on_failed(void *ctx, const uint8_t *data, size_t len, int err)
{
	struct hub_room *hr = ctx;
	struct room_cmd c;
	(void)err;
	if (wire_record_decode(&hr->hub->u, data, len, &c) || !c.origin)
		return;
	struct pending *p = hub__take_pending(hr, c.origin);
	if (!p)
		return;
	if (c.kind == ROOM_CREATE && p->created) {
		p->created(p->created_ctx, PL_EUNAVAIL);
	} else if (p->hc) {
		struct room_fx fx = {.err = PL_EUNAVAIL};
		reply(hr, p, &fx, 0);
	}
	free(p);
}

/* Tells everyone waiting for the room; they may not free the room. */
static void wake(struct hub_room *hr, int status)
{
	while (hr->waiters) {
		struct hub_wait *w = hr->waiters;
		hr->waiters = w->next;
		w->cb(w->ctx, status);
		free(w);
	}
}

static void on_ready(void *ctx, int status)
{
	struct hub_room *hr = ctx;
	if (!status && !hr->room.exists && !hr->creating)
		status = PL_ENOTFOUND; /* a log with no create record */
	if (status) {
		hr->state = FAILED;
		hr->load_err = status;
		wake(hr, status);
		return;
	}
	hr->state = READY;
	/* Members held by an instance that is gone (a past run of this server,
	 * or another instance that died) get their grace period. */
	hub__liveness_check(hr->hub);
	wake(hr, 0);
}

static const struct log_room_cbs room_cbs = {
	.record = on_record,
	.ready = on_ready,
	.failed = on_failed,
};

/* ---- room lifetime ------------------------------------------------------ */

static void room_free(struct hub *h, struct hub_room *hr)
{
	map_del(&h->rooms, hr->id);
	while (hr->waiters) { /* only at hub_free: the server is stopping */
		struct hub_wait *w = hr->waiters;
		hr->waiters = w->next;
		w->cb(w->ctx, PL_EUNAVAIL);
		free(w);
	}
	while (hr->graces)
		hub__grace_cancel(hr->graces);
	while (hr->pend_head) {
		struct pending *p = hr->pend_head;
		hr->pend_head = p->next;
		free(p);
	}
	while (hr->joined) {
		struct pending *p = hr->joined;
		hr->joined = p->next;
		free(p);
	}
	if (hr->on_flush) {
		struct hub_room **pp = &h->flush;
		while (*pp != hr)
			pp = &(*pp)->flush_next;
		*pp = hr->flush_next;
	}
	buf_deinit(&hr->snap);
	log_room_free(hr->lr);
	hub__results_free(hr);
	hub__ephemeral_free(hr);
	if (hr->dl) {
		uv_timer_stop(&hr->dl->timer);
		uv_close((uv_handle_t *)&hr->dl->timer, hub__grace_free_cb);
	}
	for (unsigned i = 0; i < hr->ring_n; i++)
		frame_unref(hr->ring[(hr->ring_head + hr->ring_cap - hr->ring_n + i) % hr->ring_cap]);
	free(hr->ring);
	free(hr->conns);
	room_deinit(&hr->room);
	free(hr);
}

static bool valid_id(const char *id, size_t n)
{
	return n == ROOM_ID_LEN && util_is_b64url(id, n);
}

/* Finds or loads a room. Returns NULL with *err set if it cannot be had. */
struct hub_room *hub__room_open(struct hub *h, const char *id, size_t idn, int flags, int *err)
{
	char key[ROOM_ID_LEN + 1];
	if (!valid_id(id, idn)) {
		*err = PL_ENOTFOUND;
		return NULL;
	}
	memcpy(key, id, ROOM_ID_LEN);
	key[ROOM_ID_LEN] = '\0';
	struct hub_room *hr = map_get(&h->rooms, key);
	if (hr && hr->state == FAILED && !hr->waiters) {
		room_free(h, hr); /* a failed load: try again */
		hr = NULL;
	}
	if (hr) {
		*err = hr->state == LOADING				 ? PL_EUNAVAIL
		       : hr->state == FAILED				 ? hr->load_err
		       : !hr->room.exists && !hr->creating ? PL_ENOTFOUND
							   : 0;
		return *err && *err != PL_EUNAVAIL ? NULL : hr;
	}
	if (!(hr = calloc(1, sizeof(*hr)))) {
		*err = PL_ENOMEM;
		return NULL;
	}
	hr->hub = h;
	memcpy(hr->id, key, sizeof(key));
	room_init(&hr->room);
	hr->state = LOADING;
	hr->idle_since = uv_now(h->loop);
	if (map_put(&h->rooms, hr->id, hr) ||
	    !(hr->lr = log_room_new(h->log, hr->id, &room_cbs, hr))) {
		map_del(&h->rooms, hr->id);
		free(hr);
		*err = PL_ENOMEM;
		return NULL;
	}
	if (flags & LOG_CREATE)
		hr->creating = true;
	log_room_load(hr->lr, flags);
	if (hr->state == FAILED) { /* at once (a local log): nobody waits yet */
		*err = hr->load_err;
		room_free(h, hr);
		return NULL;
	}
	*err = hr->state == READY ? 0 : PL_EUNAVAIL;
	return hr;
}

struct hub_wait *hub_when_ready(struct hub *h, const char *id, hub_ready_cb cb, void *ctx)
{
	int err;
	struct hub_room *hr = hub__room_open(h, id, strlen(id), 0, &err);
	struct hub_wait *w = err == PL_EUNAVAIL ? calloc(1, sizeof(*w)) : NULL;
	if (!w) {
		cb(ctx, hr && err == PL_EUNAVAIL ? PL_ENOMEM : err);
		return NULL;
	}
	*w = (struct hub_wait){.hr = hr, .cb = cb, .ctx = ctx, .next = hr->waiters};
	if (w->next)
		w->next->prev = w;
	hr->waiters = w;
	return w;
}

void hub_wait_cancel(struct hub_wait *w)
{
	if (!w)
		return;
	if (w->prev)
		w->prev->next = w->next;
	else
		w->hr->waiters = w->next;
	if (w->next)
		w->next->prev = w->prev;
	free(w);
}

static void sweep(uv_timer_t *t)
{
	struct hub *h = t->data;
	uint64_t now = uv_now(h->loop);
	struct hub_room *victims[64];
	size_t n = 0;
	map_each(&h->rooms, s)
	{
		struct hub_room *hr = s->val;
		if (n < 64 && hr->state != LOADING && !hr->nconns && !hr->graces &&
		    !hr->pend_head && !hr->waiters && now - hr->idle_since >= h->cfg.idle_ms)
			victims[n++] = hr;
	}
	for (size_t i = 0; i < n; i++)
		room_free(h, victims[i]);
}

/* ---- HTTP --------------------------------------------------------------- */

int hub_create_room(struct hub *h, const char *title, size_t title_len, char *id, char *key,
		    struct hub_summary *out, hub_created_cb cb, void *ctx,
		    struct hub_create **handle)
{
	const char *t;
	size_t tn;
	int rc = room_check_title(title, title_len, &t, &tn);
	if (rc)
		return rc;
	uint8_t rid[12], k[16];
	if (util_random(rid, sizeof(rid)) || util_random(k, sizeof(k)))
		return PL_EINTERNAL;
	util_b64url(rid, sizeof(rid), id);
	util_b64url(k, sizeof(k), key);
	struct hub_room *hr = hub__room_open(h, id, ROOM_ID_LEN, LOG_CREATE, &rc);
	if (!hr)
		return rc;
	struct room_cmd c = {.kind = ROOM_CREATE, .id = id, .id_len = ROOM_ID_LEN, .text = t,
			     .text_len = tn, .has_kh = true};
	util_sha256(key, strlen(key), c.kh);
	/* the reply comes when the log delivers the create record; a join that
	 * comes before that queues behind it in the same log */
	struct wire_req none = {0};
	if ((rc = hub__submit(hr, NULL, &none, &c, 0))) {
		room_free(h, hr);
		return rc;
	}
	struct pending *p = hr->pend_tail;
	p->created = cb;
	p->created_ctx = ctx;
	*handle = (struct hub_create *)p;
	memset(out, 0, sizeof(*out));
	snprintf(out->title, sizeof(out->title), "%.*s", (int)tn, t);
	ULOG_I("room %s created", id);
	return 0;
}

void hub_create_cancel(struct hub_create *c)
{
	if (c)
		((struct pending *)c)->created = NULL;
}

int hub_room_summary(struct hub *h, const char *id, struct hub_summary *out)
{
	int rc;
	struct hub_room *hr = hub__room_open(h, id, strlen(id), 0, &rc);
	if (rc)
		return rc;
	memset(out, 0, sizeof(*out));
	snprintf(out->title, sizeof(out->title), "%s", hr->room.title ? hr->room.title : "");
	out->created = hr->room.created;
	out->ended = hr->room.ended;
	out->members = hr->room.present;
	for (size_t i = 0; i < hr->room.nmembers; i++)
		out->online += hr->room.members[i].present && hr->room.members[i].online;
	return 0;
}

size_t hub_rooms(const struct hub *h)
{
	return h->rooms.len;
}

const struct hub_stats *hub_stats(const struct hub *h)
{
	return &h->stats;
}

/* ---- replays (exports) -------------------------------------------------- */

struct replay {
	msgpack_unpacked u;
	hub_replay_cb cb;
	void *ctx;
};

static void replay_record(void *ctx, const struct log_rec *rec)
{
	struct replay *rp = ctx;
	struct room_cmd c;
	if (wire_record_decode(&rp->u, rec->data, rec->len, &c) == 0)
		rp->cb(rp->ctx, rec->seq, rec->ts, &c);
	else /* a record we cannot read still takes its seq */
		rp->cb(rp->ctx, rec->seq, rec->ts, &(struct room_cmd){0});
}

int hub_log_replay(struct log *log, const char *id, uint64_t upto, hub_replay_cb cb, void *ctx)
{
	struct replay rp = {.cb = cb, .ctx = ctx};
	msgpack_unpacked_init(&rp.u);
	int rc = log_read(log, id, upto, replay_record, &rp);
	msgpack_unpacked_destroy(&rp.u);
	return rc;
}

int hub_replay(struct hub *h, const char *id, const char *key, size_t keylen, hub_replay_cb cb,
	       void *ctx, uint64_t *as_of)
{
	int rc;
	uint8_t kh[32];
	struct hub_room *hr = hub__room_open(h, id, strlen(id), 0, &rc);
	if (rc)
		return rc == PL_ENOTFOUND ? PL_EFORBIDDEN : rc;
	util_sha256(key, keylen, kh);
	if (!hr->room.exists || !util_ct_equal(kh, hr->room.kh, 32))
		return PL_EFORBIDDEN;
	*as_of = hr->room.seq;
	return hub_log_replay(h->log, hr->id, hr->room.seq, cb, ctx);
}

/* ---- life ----------------------------------------------------------------- */

struct hub *hub_new(uv_loop_t *loop, struct log *log, const struct hub_io *io,
		    const struct hub_config *cfg)
{
	struct hub *h = calloc(1, sizeof(*h));
	if (!h || cfg->secret_len > sizeof(h->secret)) {
		free(h);
		return NULL;
	}
	h->loop = loop;
	h->log = log;
	h->io = *io;
	h->cfg = *cfg;
	memcpy(h->secret, cfg->secret, cfg->secret_len);
	h->cfg.secret = h->secret;
	map_init(&h->rooms);
	util_random(&h->origin_ctr, sizeof(h->origin_ctr));
	msgpack_unpacked_init(&h->u);
	buf_init(&h->rec);
	uv_timer_init(loop, &h->sweep);
	h->sweep.data = h;
	uv_unref((uv_handle_t *)&h->sweep);
	uv_timer_start(&h->sweep, sweep, SWEEP_MS, SWEEP_MS);
	hub__liveness_start(h);
	return h;
}

static void hub_free_closed(uv_handle_t *t)
{
	free(t->data);
}

void hub_free(struct hub *h)
{
	if (!h)
		return;
	while (h->rooms.len) {
		map_each(&h->rooms, s)
		{
			room_free(h, s->val);
			break;
		}
	}
	map_deinit(&h->rooms);
	msgpack_unpacked_destroy(&h->u);
	buf_deinit(&h->rec);
	if (h->asking)
		h->asking->h = NULL; /* its answer may come after we are gone */
	uv_timer_stop(&h->live);
	uv_close((uv_handle_t *)&h->live, NULL);
	uv_timer_stop(&h->sweep);
	uv_close((uv_handle_t *)&h->sweep, hub_free_closed); /* closes run in order */
}
