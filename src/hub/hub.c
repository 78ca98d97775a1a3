/*
 * hub.c — rooms held by this instance: replicas, request routing, fan-out.
 *
 * One straight path (../shared/DESIGN.md): a request is checked against the
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
#include "hub/hub.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "util/crypto.h"
#include "util/err.h"
#include "util/map.h"
#include "util/text.h"
#include "util/ulog.h"

#define SWEEP_MS 5000
#define IDLE_ROOM_MS 15000
#define TOKEN_LEN 22

enum room_state { LOADING, READY, FAILED };

struct pending {
	uint64_t origin;
	struct hub_conn *hc;  /* NULL once the connection is gone */
	uint32_t req_id;
	uint8_t type;         /* enum wire_req_type */
	uint32_t epoch;       /* resume: the epoch the connection will hold */
	struct pending *next;
};

struct grace {
	uv_timer_t timer;
	struct hub_room *hr;
	uint64_t member;
	uint32_t epoch;
	struct grace *prev, *next;
};

struct hub_room {
	struct hub *hub;
	char id[ROOM_ID_LEN + 1];
	struct room room;
	struct log_room *lr;
	enum room_state state;
	int load_err;
	struct hub_conn *conns;
	size_t nconns;
	struct pending *pend_head, *pend_tail;
	struct grace *graces;
	struct frame **ring;  /* recent event frames, for resume */
	unsigned ring_head, ring_n;
	uint64_t ring_floor;  /* events with seq <= this may be missing from the ring */
	uint64_t idle_since;
	bool creating;        /* our create record is not applied yet */
	struct deadline *dl;  /* the turn timer's next due moment */
};

/* A room's next deadline (turn warning or end), as a libuv timer. Allocated
 * apart from the room so that it can close after the room is gone. */
struct deadline {
	uv_timer_t timer;
	struct hub_room *hr;
	uint64_t turn;        /* what was last appended, to pace retries */
	uint8_t what;
	bool sent;
};

struct hub {
	uv_loop_t *loop;
	struct log *log;
	struct hub_io io;
	struct hub_config cfg;
	uint8_t secret[64];
	struct map rooms;
	uv_timer_t sweep;
	msgpack_unpacked u;
	struct buf rec;       /* record encoding scratch */
};

/* ---- helpers ----------------------------------------------------------- */

static uint64_t new_origin(void)
{
	uint64_t o = 0;
	while (!o)
		util_random(&o, sizeof(o));
	return o;
}

static void make_token(const struct hub *h, const char *room, uint64_t member, char *out)
{
	char msg[64];
	int n = snprintf(msg, sizeof(msg), "resume:%s:%llu", room, (unsigned long long)member);
	uint8_t mac[32];
	util_hmac_sha256(h->secret, h->cfg.secret_len, msg, (size_t)n, mac);
	util_b64url(mac, 16, out);
}

/* The browser's id, keyed per room: a ban can bar it, the log cannot be
 * used to follow it across rooms. */
static void device_hash(const struct hub *h, const char *room, const struct wire_str *dev,
			uint8_t out[16])
{
	uint8_t mac[32];
	char msg[300];
	int n = snprintf(msg, sizeof(msg), "device:%s:%.*s", room, (int)dev->n, dev->p);
	util_hmac_sha256(h->secret, h->cfg.secret_len, msg, (size_t)n, mac);
	memcpy(out, mac, 16);
}

static void send_err(struct hub *h, struct hub_conn *hc, uint32_t id, int err, const char *msg)
{
	struct frame *f = wire_error(id, true, err, msg);
	if (f) {
		h->io.send(hc, f);
		frame_unref(f);
	}
}

static void send_frame(struct hub *h, struct hub_conn *hc, struct frame *f)
{
	if (f) {
		h->io.send(hc, f);
		frame_unref(f);
	}
}

static void link_conn(struct hub_room *hr, struct hub_conn *hc)
{
	hc->prev = NULL;
	hc->next = hr->conns;
	if (hr->conns)
		hr->conns->prev = hc;
	hr->conns = hc;
	hr->nconns++;
}

static void unlink_conn(struct hub_room *hr, struct hub_conn *hc)
{
	if (hc->prev)
		hc->prev->next = hc->next;
	else
		hr->conns = hc->next;
	if (hc->next)
		hc->next->prev = hc->prev;
	hc->prev = hc->next = NULL;
	hr->nconns--;
	if (!hr->nconns)
		hr->idle_since = uv_now(hr->hub->loop);
}

static int append(struct hub_room *hr, const struct room_cmd *c)
{
	struct hub *h = hr->hub;
	buf_reset(&h->rec);
	int rc = wire_record_encode(&h->rec, c);
	if (rc == 0)
		rc = log_room_append(hr->lr, buf_data(&h->rec), h->rec.len);
	if (rc)
		ULOG_W("room %s: append failed: %s", hr->id, pl_err_msg(rc));
	return rc;
}

/* Appends a request's record and remembers who asked. */
static int submit(struct hub_room *hr, struct hub_conn *hc, const struct wire_req *req,
		  struct room_cmd *c, uint32_t epoch)
{
	struct pending *p = malloc(sizeof(*p));
	if (!p)
		return PL_ENOMEM;
	c->origin = new_origin();
	int rc = append(hr, c);
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

static struct pending *take_pending(struct hub_room *hr, uint64_t origin)
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

/* ---- grace timers ------------------------------------------------------ */

static void grace_free_cb(uv_handle_t *t)
{
	free(t->data);
}

static void grace_cancel(struct grace *g)
{
	struct hub_room *hr = g->hr;
	if (g->prev)
		g->prev->next = g->next;
	else
		hr->graces = g->next;
	if (g->next)
		g->next->prev = g->prev;
	uv_timer_stop(&g->timer);
	uv_close((uv_handle_t *)&g->timer, grace_free_cb);
}

static void grace_cancel_member(struct hub_room *hr, uint64_t member)
{
	for (struct grace *g = hr->graces, *next; g; g = next) {
		next = g->next;
		if (g->member == member)
			grace_cancel(g);
	}
}

static void grace_fire(uv_timer_t *t)
{
	struct grace *g = t->data;
	struct room_cmd c = {.kind = ROOM_LEAVE, .member = g->member, .epoch = g->epoch,
			     .has_epoch = true, .reason = ROOM_TIMEOUT};
	append(g->hr, &c);
	grace_cancel(g);
}

static void grace_start(struct hub_room *hr, uint64_t member, uint32_t epoch)
{
	grace_cancel_member(hr, member);
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
static void member_dropped(struct hub_room *hr, uint64_t member, uint32_t epoch)
{
	struct room_cmd c = {.kind = ROOM_DETACH, .member = member, .epoch = epoch, .has_epoch = true};
	append(hr, &c);
	grace_start(hr, member, epoch);
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
	if (!room_next_deadline(&hr->room, &what))
		return;
	struct room_cmd c = {.kind = ROOM_EXPIRE, .target = hr->room.floor.turn, .arg = what};
	if (append(hr, &c) == 0) {
		d->turn = c.target;
		d->what = what;
		d->sent = true;
	}
}

/* Arms the room's timer for its next deadline, if any. An expiry that was
 * appended but not applied yet (the log's clock lags ours) is retried after
 * a pause, never in a tight loop. */
static void deadline_arm(struct hub_room *hr)
{
	uint8_t what;
	int64_t due = room_next_deadline(&hr->room, &what);
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
	if (d->sent && d->turn == hr->room.floor.turn && d->what == what && wait < 250)
		wait = 250;
	uv_timer_start(&d->timer, deadline_fire, wait > 0 ? (uint64_t)wait : 0, 0);
}

/* ---- the ring of recent events ------------------------------------------ */

static void ring_push(struct hub_room *hr, struct frame *f)
{
	unsigned cap = hr->hub->cfg.ring;
	if (!cap)
		return;
	if (!hr->ring && !(hr->ring = calloc(cap, sizeof(*hr->ring)))) {
		hr->ring_floor = f->seq; /* resume falls back to a snapshot */
		return;
	}
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
static long ring_replay(struct hub_room *hr, struct hub_conn *hc, uint64_t after, bool send)
{
	if (after < hr->ring_floor || after > hr->room.seq)
		return -1;
	unsigned cap = hr->hub->cfg.ring;
	long n = 0;
	for (unsigned i = 0; i < hr->ring_n; i++) {
		struct frame *f = hr->ring[(hr->ring_head + cap - hr->ring_n + i) % cap];
		if (f->seq <= after)
			continue;
		if (send)
			hr->hub->io.send(hc, f);
		n++;
	}
	return n;
}

/* ---- applying records --------------------------------------------------- */

static void close_member_conns(struct hub_room *hr, uint64_t member, struct hub_conn *keep,
			       int code, const char *why)
{
	for (struct hub_conn *c = hr->conns, *next; c; c = next) {
		next = c->next;
		if (c->member != member || c == keep)
			continue;
		unlink_conn(hr, c);
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
			unlink_conn(hr, hc);
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
		send_err(h, hc, p->req_id, fx->err, NULL);
		return;
	}
	char token[TOKEN_LEN + 1];
	switch (p->type) {
	case WIRE_JOIN:
		hc->member = fx->member;
		hc->busy = false;
		link_conn(hr, hc);
		make_token(h, hr->id, fx->member, token);
		send_frame(h, hc, wire_ok_join(p->req_id, &hr->room, fx->member, token));
		break;
	case WIRE_RESUME:
		break;
	case WIRE_CHAT:
		send_frame(h, hc, wire_ok_seq(p->req_id, seq));
		break;
	case WIRE_LEAVE:
		send_frame(h, hc, wire_ok(p->req_id));
		unlink_conn(hr, hc);
		hc->room = NULL;
		hc->member = 0;
		h->io.close(hc, 1000, "left the room");
		break;
	default:
		send_frame(h, hc, wire_ok(p->req_id));
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
	hr->creating = false;
	struct pending *p = c.origin ? take_pending(hr, c.origin) : NULL;

	struct frame *f = fx.nev ? wire_event(&hr->room, rec->seq, rec->ts, fx.ev, fx.nev) : NULL;
	if (f) {
		ring_push(hr, f);
		for (struct hub_conn *hc = hr->conns; hc; hc = hc->next)
			h->io.send(hc, f);
		frame_unref(f);
	}
	if (!fx.err && c.kind == ROOM_ATTACH) {
		grace_cancel_member(hr, c.member);
		close_member_conns(hr, c.member, p ? p->hc : NULL, 4002,
				   "replaced by a newer connection");
	}
	for (unsigned i = 0; i < fx.nev; i++) {
		if (fx.ev[i].kind != ROOM_EV_LEFT)
			continue;
		grace_cancel_member(hr, fx.ev[i].member->id);
		if (fx.ev[i].reason == ROOM_REMOVED)
			close_member_conns(hr, fx.ev[i].member->id, NULL, 4004,
					   "removed from the room by a facilitator");
	}
	deadline_arm(hr);
	if (!p)
		return;
	if (p->hc)
		reply(hr, p, &fx, rec->seq);
	else if (!fx.err && p->type == WIRE_JOIN)
		member_dropped(hr, fx.member, 0); /* joined, but the socket is gone */
	free(p);
}

static void on_failed(void *ctx, const uint8_t *data, size_t len, int err)
{
	struct hub_room *hr = ctx;
	struct room_cmd c;
	(void)err;
	if (wire_record_decode(&hr->hub->u, data, len, &c) || !c.origin)
		return;
	struct pending *p = take_pending(hr, c.origin);
	if (!p)
		return;
	if (p->hc) {
		struct room_fx fx = {.err = PL_EUNAVAIL};
		reply(hr, p, &fx, 0);
	}
	free(p);
}

static void on_ready(void *ctx, int status)
{
	struct hub_room *hr = ctx;
	if (status) {
		hr->state = FAILED;
		hr->load_err = status;
		return;
	}
	hr->state = READY;
	/* Members the log still has as here have no connection to this fresh
	 * replica (the server restarted): give them their grace period. */
	for (size_t i = 0; i < hr->room.nmembers; i++) {
		const struct room_member *m = &hr->room.members[i];
		if (m->present && m->online)
			member_dropped(hr, m->id, m->epoch);
		else if (m->present)
			grace_start(hr, m->id, m->epoch);
	}
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
	while (hr->graces)
		grace_cancel(hr->graces);
	while (hr->pend_head) {
		struct pending *p = hr->pend_head;
		hr->pend_head = p->next;
		free(p);
	}
	log_room_free(hr->lr);
	if (hr->dl) {
		uv_timer_stop(&hr->dl->timer);
		uv_close((uv_handle_t *)&hr->dl->timer, grace_free_cb);
	}
	for (unsigned i = 0; i < hr->ring_n; i++)
		frame_unref(hr->ring[(hr->ring_head + h->cfg.ring - hr->ring_n + i) % h->cfg.ring]);
	free(hr->ring);
	room_deinit(&hr->room);
	free(hr);
}

static bool valid_id(const char *id, size_t n)
{
	return n == ROOM_ID_LEN && util_is_b64url(id, n);
}

/* Finds or loads a room. Returns NULL with *err set if it cannot be had. */
static struct hub_room *room_open(struct hub *h, const char *id, size_t idn, int flags, int *err)
{
	char key[ROOM_ID_LEN + 1];
	if (!valid_id(id, idn)) {
		*err = PL_ENOTFOUND;
		return NULL;
	}
	memcpy(key, id, ROOM_ID_LEN);
	key[ROOM_ID_LEN] = '\0';
	struct hub_room *hr = map_get(&h->rooms, key);
	if (hr) {
		*err = hr->state != READY                        ? PL_EUNAVAIL
		       : !hr->room.exists && !hr->creating ? PL_ENOTFOUND
							   : 0;
		return *err ? NULL : hr;
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
	log_room_load(hr->lr, flags);
	if (hr->state == FAILED || (hr->state == READY && !(flags & LOG_CREATE) && !hr->room.exists)) {
		*err = hr->state == FAILED ? hr->load_err : PL_ENOTFOUND;
		room_free(h, hr);
		return NULL;
	}
	*err = hr->state == READY ? 0 : PL_EUNAVAIL;
	return hr->state == READY ? hr : NULL;
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
		    !hr->pend_head && now - hr->idle_since >= IDLE_ROOM_MS)
			victims[n++] = hr;
	}
	for (size_t i = 0; i < n; i++)
		room_free(h, victims[i]);
}

/* ---- requests ----------------------------------------------------------- */

static void do_join(struct hub *h, struct hub_conn *hc, const struct wire_req *req)
{
	const char *name;
	size_t nn;
	int rc = room_check_name(req->name.p, req->name.n, &name, &nn);
	if (rc) {
		send_err(h, hc, req->id, rc, NULL);
		return;
	}
	struct hub_room *hr = room_open(h, req->room.p, req->room.n, 0, &rc);
	if (!hr) {
		send_err(h, hc, req->id, rc, NULL);
		return;
	}
	if (hr->room.ended) {
		send_err(h, hc, req->id, PL_EENDED, NULL);
		return;
	}
	struct room_cmd c = {.kind = ROOM_JOIN, .text = name, .text_len = nn};
	if (req->device.p) {
		if (req->device.n == 0 || req->device.n > 128) {
			send_err(h, hc, req->id, PL_EBADREQ, "device: 1 to 128 bytes");
			return;
		}
		device_hash(h, hr->id, &req->device, c.device);
		c.has_device = true;
	}
	if (req->key.p) {
		util_sha256(req->key.p, req->key.n, c.kh);
		c.has_kh = true;
		if (hr->room.exists && !util_ct_equal(c.kh, hr->room.kh, 32)) {
			send_err(h, hc, req->id, PL_EFORBIDDEN,
				 "the facilitator key is not valid for this room");
			return;
		}
	}
	rc = submit(hr, hc, req, &c, 0);
	if (rc) {
		send_err(h, hc, req->id, rc, NULL);
		return;
	}
	hc->room = hr;
	hc->busy = true;
}

static void do_resume(struct hub *h, struct hub_conn *hc, const struct wire_req *req)
{
	int rc;
	struct hub_room *hr = room_open(h, req->room.p, req->room.n, 0, &rc);
	if (!hr) {
		send_err(h, hc, req->id, rc, NULL);
		return;
	}
	char token[TOKEN_LEN + 1];
	make_token(h, hr->id, req->member, token);
	const struct room_member *m = room_member(&hr->room, req->member);
	if (!m || !m->present || req->token.n != TOKEN_LEN ||
	    !util_ct_equal(token, req->token.p, TOKEN_LEN)) {
		send_err(h, hc, req->id, PL_ETOKEN, NULL);
		return;
	}
	uint32_t epoch = m->epoch + 1;
	struct room_cmd c = {.kind = ROOM_ATTACH, .member = req->member};
	rc = submit(hr, hc, req, &c, epoch);
	if (rc) {
		send_err(h, hc, req->id, rc, NULL);
		return;
	}
	close_member_conns(hr, req->member, NULL, 4002, "replaced by a newer connection");
	grace_cancel_member(hr, req->member);
	/* Attach now: events from here on arrive live, the ring has the rest. */
	hc->room = hr;
	hc->member = req->member;
	link_conn(hr, hc);
	/* seq 0: the client has no state (a reloaded page): always a snapshot */
	long n = req->seq ? ring_replay(hr, hc, req->seq, false) : -1;
	send_frame(h, hc, wire_ok_resume(req->id, &hr->room, req->member, token, n < 0,
					 n < 0 ? 0 : (uint32_t)n));
	if (n > 0)
		ring_replay(hr, hc, req->seq, true);
}

static void do_chat(struct hub *h, struct hub_conn *hc, const struct wire_req *req)
{
	const char *text;
	size_t tn;
	int rc = room_check_chat(req->text.p, req->text.n, &text, &tn);
	if (rc) {
		send_err(h, hc, req->id, rc, NULL);
		return;
	}
	struct room_cmd c = {.kind = ROOM_CHAT, .member = hc->member, .text = text, .text_len = tn};
	rc = submit(hc->room, hc, req, &c, 0);
	if (rc)
		send_err(h, hc, req->id, rc, NULL);
}

static void do_leave(struct hub *h, struct hub_conn *hc, const struct wire_req *req)
{
	struct room_cmd c = {.kind = ROOM_LEAVE, .member = hc->member, .reason = ROOM_LEFT};
	int rc = submit(hc->room, hc, req, &c, 0);
	if (rc)
		send_err(h, hc, req->id, rc, NULL);
}

/* Hands, floor, timer and moderation: the room decides, permissions included. */
static void do_command(struct hub *h, struct hub_conn *hc, const struct wire_req *req)
{
	static const enum room_cmd_kind kinds[] = {
		[WIRE_RAISE] = ROOM_HAND_RAISE, [WIRE_LOWER] = ROOM_HAND_LOWER,
		[WIRE_CLEAR_HANDS] = ROOM_HAND_CLEAR, [WIRE_MOVE] = ROOM_HAND_MOVE,
		[WIRE_POLICY] = ROOM_POLICY, [WIRE_GIVE] = ROOM_FLOOR_GIVE,
		[WIRE_TAKE] = ROOM_FLOOR_TAKE, [WIRE_YIELD] = ROOM_FLOOR_YIELD,
		[WIRE_TIMER] = ROOM_TIMER,
		[WIRE_DELETE] = ROOM_DELETE, [WIRE_MUTE] = ROOM_MUTE, [WIRE_UNMUTE] = ROOM_MUTE,
		[WIRE_REMOVE] = ROOM_REMOVE, [WIRE_LOCK] = ROOM_LOCK, [WIRE_UNLOCK] = ROOM_LOCK,
		[WIRE_CHAT_MODE] = ROOM_CHAT_MODE, [WIRE_PROMOTE] = ROOM_ROLE,
		[WIRE_DEMOTE] = ROOM_ROLE, [WIRE_END] = ROOM_END,
	};
	if (req->type >= sizeof(kinds) / sizeof(kinds[0]) || !kinds[req->type]) {
		send_err(h, hc, req->id, PL_EUNKNOWN, NULL);
		return;
	}
	struct room_cmd c = {.kind = kinds[req->type], .member = hc->member,
			     .target = req->has_member ? req->member : 0, .arg = req->arg,
			     .arg2 = req->arg2};
	switch (req->type) {
	case WIRE_MOVE: c.arg = req->arg - 1; break; /* 1-based on the wire */
	case WIRE_DELETE: c.target = req->seq; break;
	case WIRE_MUTE:
	case WIRE_LOCK:
	case WIRE_PROMOTE: c.arg = 1; break;
	case WIRE_UNMUTE:
	case WIRE_UNLOCK:
	case WIRE_DEMOTE: c.arg = 0; break;
	default: break;
	}
	int rc = submit(hc->room, hc, req, &c, 0);
	if (rc)
		send_err(h, hc, req->id, rc, NULL);
}

void hub_request(struct hub *h, struct hub_conn *hc, const struct wire_req *req)
{
	if (req->type == WIRE_PING) {
		uv_update_time(h->loop);
		uv_timeval64_t tv;
		uv_gettimeofday(&tv);
		send_frame(h, hc, wire_ok_ts(req->id, tv.tv_sec * 1000 + tv.tv_usec / 1000));
		return;
	}
	if (req->type == WIRE_JOIN || req->type == WIRE_RESUME) {
		if (hc->room) {
			send_err(h, hc, req->id, PL_EJOINED, NULL);
			return;
		}
		if (req->type == WIRE_JOIN)
			do_join(h, hc, req);
		else
			do_resume(h, hc, req);
		return;
	}
	if (!hc->room || hc->busy || !hc->member) {
		send_err(h, hc, req->id, hc->busy ? PL_EUNAVAIL : PL_ENOTJOINED,
			 hc->busy ? "still joining; retry" : NULL);
		return;
	}
	if (req->type == WIRE_CHAT)
		do_chat(h, hc, req);
	else if (req->type == WIRE_LEAVE)
		do_leave(h, hc, req);
	else
		do_command(h, hc, req);
}

void hub_conn_closed(struct hub *h, struct hub_conn *hc, bool shutdown)
{
	struct hub_room *hr = hc->room;
	(void)h;
	if (!hr)
		return;
	uint32_t epoch = 0;
	for (struct pending *p = hr->pend_head; p; p = p->next) {
		if (p->hc != hc)
			continue;
		p->hc = NULL;
		if (p->type == WIRE_RESUME)
			epoch = p->epoch;
	}
	if (hc->member) {
		unlink_conn(hr, hc);
		if (!shutdown) {
			const struct room_member *m = room_member(&hr->room, hc->member);
			if (!epoch && m)
				epoch = m->epoch;
			member_dropped(hr, hc->member, epoch);
		}
	}
	hc->room = NULL;
	hc->member = 0;
}

/* ---- HTTP --------------------------------------------------------------- */

int hub_create_room(struct hub *h, const char *title, size_t title_len, char *id, char *key,
		    struct hub_summary *out)
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
	struct hub_room *hr = room_open(h, id, ROOM_ID_LEN, LOG_CREATE, &rc);
	if (!hr)
		return rc;
	struct room_cmd c = {.kind = ROOM_CREATE, .id = id, .id_len = ROOM_ID_LEN, .text = t,
			     .text_len = tn, .has_kh = true};
	util_sha256(key, strlen(key), c.kh);
	rc = append(hr, &c);
	if (rc) {
		room_free(h, hr);
		return rc;
	}
	/* the replica takes the create record when the log delivers it; a join
	 * that comes before that queues behind it in the same log */
	hr->creating = true;
	memset(out, 0, sizeof(*out));
	snprintf(out->title, sizeof(out->title), "%.*s", (int)tn, t);
	ULOG_I("room %s created", id);
	return 0;
}

int hub_room_summary(struct hub *h, const char *id, struct hub_summary *out)
{
	int rc;
	struct hub_room *hr = room_open(h, id, strlen(id), 0, &rc);
	if (!hr)
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
	msgpack_unpacked_init(&h->u);
	buf_init(&h->rec);
	uv_timer_init(loop, &h->sweep);
	h->sweep.data = h;
	uv_unref((uv_handle_t *)&h->sweep);
	uv_timer_start(&h->sweep, sweep, SWEEP_MS, SWEEP_MS);
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
	uv_timer_stop(&h->sweep);
	uv_close((uv_handle_t *)&h->sweep, hub_free_closed);
}
