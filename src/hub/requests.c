/*
 * requests.c — a connection's requests, before they become records.
 *
 * Each request is checked against the local replica first: that is only a
 * shortcut for a quick, clear error (the room checks everything again when
 * the record is applied). What passes becomes a record appended to the
 * room's log; the reply goes out when the log delivers it (hub.c).
 * `join` and `resume` are special: they pick the room.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hub/hub_int.h"
#include "util/clock.h"
#include "util/crypto.h"
#include "util/err.h"
#include "util/ulog.h"

static void do_join(struct hub *h, struct hub_conn *hc, const struct wire_req *req);
static void do_resume(struct hub *h, struct hub_conn *hc, const struct wire_req *req);

static void unparked(void *ctx, int status)
{
	struct parked *pk = ctx;
	struct hub_conn *hc = pk->hc;
	hc->parked = NULL;
	hc->room = NULL;
	hc->busy = false;
	if (status)
		hub__send_err(pk->h, hc, pk->req.id, status, NULL);
	else if (pk->req.type == WIRE_JOIN)
		do_join(pk->h, hc, &pk->req);
	else
		do_resume(pk->h, hc, &pk->req);
	free(pk);
}

static void copy_str(struct wire_str *s, char **at)
{
	if (!s->p)
		return;
	memcpy(*at, s->p, s->n);
	s->p = *at;
	*at += s->n;
}

/* The room is loading: keep the request until it is ready. */
static void park(struct hub *h, struct hub_conn *hc, struct hub_room *hr,
		 const struct wire_req *req)
{
	size_t n = req->room.n + req->name.n + req->key.n + req->token.n + req->device.n;
	struct parked *pk = malloc(sizeof(*pk) + n + 1);
	if (!pk) {
		hub__send_err(h, hc, req->id, PL_ENOMEM, NULL);
		return;
	}
	pk->h = h;
	pk->hc = hc;
	pk->req = *req;
	char *at = pk->mem;
	copy_str(&pk->req.room, &at);
	copy_str(&pk->req.name, &at);
	copy_str(&pk->req.key, &at);
	copy_str(&pk->req.token, &at);
	copy_str(&pk->req.device, &at);
	hc->room = hr; /* holds the connection's place: no second join meanwhile */
	hc->busy = true;
	hc->parked = pk;
	pk->w = hub_when_ready(h, hr->id, unparked, pk);
}

void hub__unpark(struct hub_conn *hc)
{
	if (hc->parked) {
		hub_wait_cancel(hc->parked->w);
		free(hc->parked);
		hc->parked = NULL;
		hc->room = NULL;
		hc->busy = false;
	}
}

static void do_join(struct hub *h, struct hub_conn *hc, const struct wire_req *req)
{
	const char *name;
	size_t nn;
	int rc = room_check_name(req->name.p, req->name.n, &name, &nn);
	if (rc) {
		hub__send_err(h, hc, req->id, rc, NULL);
		return;
	}
	struct hub_room *hr = hub__room_open(h, req->room.p, req->room.n, 0, &rc);
	if (rc == PL_EUNAVAIL && hr) {
		park(h, hc, hr, req);
		return;
	}
	if (rc) {
		hub__send_err(h, hc, req->id, rc, NULL);
		return;
	}
	if (hr->room.ended) {
		hub__send_err(h, hc, req->id, PL_EENDED, NULL);
		return;
	}
	struct room_cmd c = {.kind = ROOM_JOIN, .text = name, .text_len = nn,
			     .instance = h->cfg.instance};
	if (req->device.p) {
		if (req->device.n == 0 || req->device.n > 128) {
			hub__send_err(h, hc, req->id, PL_EBADREQ, "device: 1 to 128 bytes");
			return;
		}
		hub__device_hash(h, hr->id, &req->device, c.device);
		c.has_device = true;
	}
	if (req->key.p) {
		util_sha256(req->key.p, req->key.n, c.kh);
		c.has_kh = true;
		if (hr->room.exists && !util_ct_equal(c.kh, hr->room.kh, 32)) {
			hub__send_err(h, hc, req->id, PL_EFORBIDDEN,
				 "the facilitator key is not valid for this room");
			return;
		}
	}
	rc = hub__submit(hr, hc, req, &c, 0);
	if (rc) {
		hub__send_err(h, hc, req->id, rc, NULL);
		return;
	}
	hc->room = hr;
	hc->busy = true;
}

static void do_resume(struct hub *h, struct hub_conn *hc, const struct wire_req *req)
{
	int rc;
	struct hub_room *hr = hub__room_open(h, req->room.p, req->room.n, 0, &rc);
	if (rc == PL_EUNAVAIL && hr) {
		park(h, hc, hr, req);
		return;
	}
	if (rc) {
		hub__send_err(h, hc, req->id, rc, NULL);
		return;
	}
	char token[TOKEN_LEN + 1];
	hub__make_token(h, hr->id, req->member, token);
	const struct room_member *m = room_member(&hr->room, req->member);
	if (!m || !m->present || req->token.n != TOKEN_LEN ||
	    !util_ct_equal(token, req->token.p, TOKEN_LEN)) {
		hub__send_err(h, hc, req->id, PL_ETOKEN, NULL);
		return;
	}
	uint32_t epoch = m->epoch + 1;
	struct room_cmd c = {.kind = ROOM_ATTACH, .member = req->member,
			     .instance = h->cfg.instance};
	rc = hub__submit(hr, hc, req, &c, epoch);
	if (rc) {
		hub__send_err(h, hc, req->id, rc, NULL);
		return;
	}
	hub__close_member_conns(hr, req->member, NULL, 4002, "replaced by a newer connection");
	hub__grace_cancel_member(hr, req->member);
	/* Attach now: events from here on arrive live, the ring has the rest. */
	if (!hub__attach_conn(hr, hc, req->member, epoch))
		return;
	/* seq 0: the client has no state (a reloaded page): always a snapshot */
	long n = req->seq ? hub__ring_replay(hr, hc, req->seq, false) : -1;
	hub__send_frame(h, hc, wire_ok_resume(req->id, &hr->room, req->member, token,
					 n < 0 ? hub__snapshot(hr) : NULL, n < 0,
					 n < 0 ? 0 : (uint32_t)n));
	if (n > 0)
		hub__ring_replay(hr, hc, req->seq, true);
	hub__results_for(hr, hc);
	hub__ephemeral_for(hr, hc);
}

static void do_chat(struct hub *h, struct hub_conn *hc, const struct wire_req *req)
{
	const char *text;
	size_t tn;
	int rc = room_check_chat(req->text.p, req->text.n, &text, &tn);
	if (rc) {
		hub__send_err(h, hc, req->id, rc, NULL);
		return;
	}
	struct room_cmd c = {.kind = ROOM_CHAT, .member = hc->member, .text = text, .text_len = tn};
	rc = hub__submit(hc->room, hc, req, &c, 0);
	if (rc)
		hub__send_err(h, hc, req->id, rc, NULL);
}

static void do_leave(struct hub *h, struct hub_conn *hc, const struct wire_req *req)
{
	struct room_cmd c = {.kind = ROOM_LEAVE, .member = hc->member, .reason = ROOM_LEFT};
	int rc = hub__submit(hc->room, hc, req, &c, 0);
	if (rc)
		hub__send_err(h, hc, req->id, rc, NULL);
}

static void prompt_cmd(const struct wire_req *req, struct room_cmd *c)
{
	c->text = req->text.p;
	c->text_len = req->text.n;
	c->pkind = req->pkind;
	c->reveal = req->reveal;
	c->anonymous = req->anonymous;
	c->nopts = req->pkind == ROOM_PROMPT_RATING ? req->scale : req->nopts;
	for (unsigned i = 0; i < ROOM_PROMPT_OPTS; i++)
		c->opts[i] = (struct room_text){req->opts[i].p, req->opts[i].n};
}

/* An answer names its author only for a named prompt; for an anonymous one
 * the record carries the author's token instead (results.c). */
static int answer_cmd(struct hub_conn *hc, const struct wire_req *req, struct room_cmd *c)
{
	const struct room_prompt *p = room_prompt(&hc->room->room, req->prompt);
	if (!p)
		return -1;
	c->target = p->id;
	c->text = req->text.p;
	c->text_len = req->text.n;
	if (p->anonymous) {
		hub__answer_token(hc->room->hub, hc->room->id, p->id, hc->member, c->token);
		c->has_token = true;
		c->member = 0;
	}
	return 0;
}

/* Everything else: the room decides, permissions included. */
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
		[WIRE_PROMPT] = ROOM_PROMPT_OPEN, [WIRE_CLOSE_PROMPT] = ROOM_PROMPT_CLOSE,
		[WIRE_ANSWER] = ROOM_ANSWER, [WIRE_AGENDA] = ROOM_AGENDA_SET,
		[WIRE_AGENDA_GO] = ROOM_AGENDA_GO,
	};
	if (req->type >= sizeof(kinds) / sizeof(kinds[0]) || !kinds[req->type]) {
		hub__send_err(h, hc, req->id, PL_EUNKNOWN, NULL);
		return;
	}
	struct room_cmd c = {.kind = kinds[req->type], .member = hc->member,
			     .target = req->has_member ? req->member : 0, .arg = req->arg,
			     .arg2 = req->arg2};
	switch (req->type) {
	case WIRE_MOVE: c.arg = req->arg - 1; break; /* 1-based on the wire */
	case WIRE_DELETE: c.target = req->seq; break;
	case WIRE_PROMPT: prompt_cmd(req, &c); break;
	case WIRE_AGENDA:
		c.nopts = req->nopts;
		for (unsigned i = 0; i < req->nopts; i++) {
			c.opts[i] = (struct room_text){req->opts[i].p, req->opts[i].n};
			c.nums[i] = req->nums[i];
		}
		break;
	case WIRE_CLOSE_PROMPT: c.target = req->prompt; break;
	case WIRE_ANSWER:
		if (answer_cmd(hc, req, &c)) {
			hub__send_err(h, hc, req->id, PL_ENOTFOUND, "no such prompt");
			return;
		}
		break;
	case WIRE_MUTE:
	case WIRE_LOCK:
	case WIRE_PROMOTE: c.arg = 1; break;
	case WIRE_UNMUTE:
	case WIRE_UNLOCK:
	case WIRE_DEMOTE: c.arg = 0; break;
	default: break;
	}
	int rc = hub__submit(hc->room, hc, req, &c, 0);
	if (rc)
		hub__send_err(h, hc, req->id, rc, NULL);
}

/* Not logged: answered at once. */
static void do_ephemeral(struct hub *h, struct hub_conn *hc, const struct wire_req *req)
{
	struct hub_room *hr = hc->room;
	int rc = hr->room.ended ? PL_EENDED
		 : req->type == WIRE_REACT ? hub__react(hr, &req->text)
					   : hub__signal(hr, hc->member, &req->text);
	if (rc)
		hub__send_err(h, hc, req->id, rc, NULL);
	else
		hub__send_frame(h, hc, wire_ok(req->id));
}

void hub_request(struct hub *h, struct hub_conn *hc, const struct wire_req *req)
{
	if (req->type == WIRE_PING) {
		hub__send_frame(h, hc, wire_ok_ts(req->id, util_wall_ms()));
		return;
	}
	if (req->type == WIRE_JOIN || req->type == WIRE_RESUME) {
		if (hc->room) {
			hub__send_err(h, hc, req->id, PL_EJOINED, NULL);
			return;
		}
		if (req->type == WIRE_JOIN)
			do_join(h, hc, req);
		else
			do_resume(h, hc, req);
		return;
	}
	if (!hc->room || hc->busy || !hc->member) {
		hub__send_err(h, hc, req->id, hc->busy ? PL_EUNAVAIL : PL_ENOTJOINED,
			 hc->busy ? "still joining; retry" : NULL);
		return;
	}
	if (req->type == WIRE_REACT || req->type == WIRE_SIGNAL) {
		do_ephemeral(h, hc, req);
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
	hub__unpark(hc);
	if (!hr || !hc->room)
		return;
	uint32_t epoch = 0;
	for (struct pending *p = hr->pend_head; p; p = p->next) {
		if (p->hc != hc)
			continue;
		p->hc = NULL;
		if (p->type == WIRE_RESUME)
			epoch = p->epoch;
	}
	for (struct pending *p = hr->joined; p; p = p->next)
		if (p->hc == hc)
			p->hc = NULL;
	if (hc->member) {
		hub__unlink_conn(hr, hc);
		if (!shutdown) {
			const struct room_member *m = room_member(&hr->room, hc->member);
			if (!epoch && m)
				epoch = m->epoch;
			hub__member_dropped(hr, hc->member, epoch);
		}
	}
	hc->room = NULL;
	hc->member = 0;
}
