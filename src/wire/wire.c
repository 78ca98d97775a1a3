/*
 * wire.c — encoding replies, room events and snapshots into frames.
 *
 * Encoders write straight into a buffer that keeps FRAME_HEADROOM bytes in
 * front, so the WebSocket header (and the frame's own struct) go in place
 * and a frame costs one allocation: a broadcast event is encoded exactly
 * once, whatever the room's size.
 *
 * Requests are decoded in wire/decode.c, log records in wire/record.c.
 */
#include "wire/wire_int.h"

#include <string.h>

#include "util/err.h"
#include "util/text.h"

/* ---- encoding ---------------------------------------------------------- */

void wire__enc_init_cap(struct enc *e, size_t head, size_t cap)
{
	buf_init_cap(&e->b, head, cap);
	e->oom = false;
	msgpack_packer_init(&e->pk, e, wire__enc_write);
}

void wire__enc_init(struct enc *e, size_t head)
{
	wire__enc_init_cap(e, head, 0);
}

/* Every packer here writes to a struct enc (wire__enc_init, record.c). A
 * short string (every key, most values) is one append, header and body,
 * instead of two calls through the packer's writer. */
void wire__pack_strn(msgpack_packer *pk, const char *s, size_t n)
{
	if (n < 32) {
		wire__pack_fixstr(pk, s, n);
		return;
	}
	msgpack_pack_str(pk, n);
	msgpack_pack_str_body(pk, s, n);
}

void wire__pack_bool(msgpack_packer *pk, bool v)
{
	if (v)
		msgpack_pack_true(pk);
	else
		msgpack_pack_false(pk);
}

struct frame *wire__enc_frame(struct enc *e, uint64_t seq)
{
	struct frame *f = e->oom ? NULL : frame_from_buf(&e->b, seq);
	if (!f)
		buf_deinit(&e->b);
	return f;
}

const char *wire_role(uint8_t role)
{
	return role == ROOM_FACILITATOR     ? "facilitator"
	       : role == ROOM_COFACILITATOR ? "cofacilitator"
					    : "participant";
}

/* <member>: a field at its usual value is left out (PROTOCOL.md), which
 * makes a member in a snapshot of a big room about a third of its size. */
void wire__pack_member(msgpack_packer *pk, const struct room_member *m)
{
	bool role = m->role != ROOM_PARTICIPANT;
	msgpack_pack_map(pk, 2u + role + !m->online + (m->turns != 0) + (m->speak_ms != 0) +
				 m->muted);
	pack_key(pk, "id");
	msgpack_pack_uint64(pk, m->id);
	pack_key(pk, "name");
	pack_str(pk, m->name);
	if (role) {
		pack_key(pk, "role");
		pack_str(pk, wire_role(m->role));
	}
	if (!m->online) {
		pack_key(pk, "online");
		wire__pack_bool(pk, false);
	}
	if (m->turns) {
		pack_key(pk, "turns");
		msgpack_pack_uint32(pk, m->turns);
	}
	if (m->speak_ms) {
		pack_key(pk, "speak_ms");
		msgpack_pack_int64(pk, m->speak_ms);
	}
	if (m->muted) {
		pack_key(pk, "muted");
		wire__pack_bool(pk, true);
	}
}

/* {t, seq, ts, ...n more} */
void wire__pack_event_head(msgpack_packer *pk, const char *t, uint64_t seq, int64_t ts, int more)
{
	msgpack_pack_map(pk, (size_t)(3 + more));
	pack_key(pk, "t");
	pack_str(pk, t);
	pack_key(pk, "seq");
	msgpack_pack_uint64(pk, seq);
	pack_key(pk, "ts");
	msgpack_pack_int64(pk, ts);
}

static void pack_chat_body(msgpack_packer *pk, const struct room *r, const struct room_chat *c)
{
	const struct room_member *m = room_member(r, c->from);
	pack_key(pk, "from");
	msgpack_pack_uint64(pk, c->from);
	pack_key(pk, "name");
	pack_str(pk, m ? m->name : "");
	pack_key(pk, "text");
	pack_str(pk, c->text ? c->text : ""); /* a deleted message keeps no text */
}

static bool pack_event(msgpack_packer *pk, const struct room *r, uint64_t seq, int64_t ts,
		       const struct room_ev *ev)
{
	switch (ev->kind) {
	case ROOM_EV_JOINED:
		wire__pack_event_head(pk, "joined", seq, ts, 1);
		pack_key(pk, "member");
		wire__pack_member(pk, ev->member);
		return true;
	case ROOM_EV_LEFT:
		wire__pack_event_head(pk, "left", seq, ts, 2);
		pack_key(pk, "member");
		msgpack_pack_uint64(pk, ev->member->id);
		pack_key(pk, "reason");
		pack_str(pk, ev->reason == ROOM_TIMEOUT   ? "timeout"
			     : ev->reason == ROOM_REMOVED ? "removed"
							  : "left");
		return true;
	case ROOM_EV_AWAY:
	case ROOM_EV_BACK:
		wire__pack_event_head(pk, ev->kind == ROOM_EV_AWAY ? "away" : "back", seq, ts, 1);
		pack_key(pk, "member");
		msgpack_pack_uint64(pk, ev->member->id);
		return true;
	case ROOM_EV_CHAT:
		wire__pack_event_head(pk, "chat", seq, ts, 3);
		pack_chat_body(pk, r, ev->chat);
		return true;
	default:
		return wire__pack_floor_event(pk, r, seq, ts, ev) ||
		       wire__pack_mod_event(pk, r, seq, ts, ev) ||
		       wire__pack_prompt_event(pk, r, seq, ts, ev) ||
		       wire__pack_agenda_event(pk, r, seq, ts, ev);
	}
}

/* One frame per record, so a seq names exactly one frame: a record with
 * several events becomes {t: "batch", seq, ts, events: [...]}. */
struct frame *wire_event(const struct room *r, uint64_t seq, int64_t ts, const struct room_ev *ev,
			 unsigned n)
{
	struct enc e;
	wire__enc_init(&e, FRAME_HEADROOM);
	msgpack_packer *pk = &e.pk;
	bool ok = true;
	if (n == 1) {
		ok = pack_event(pk, r, seq, ts, ev);
	} else {
		wire__pack_event_head(pk, "batch", seq, ts, 1);
		pack_key(pk, "events");
		msgpack_pack_array(pk, n);
		for (unsigned i = 0; i < n && ok; i++)
			ok = pack_event(pk, r, seq, ts, &ev[i]);
	}
	if (!ok) {
		buf_deinit(&e.b);
		return NULL;
	}
	return wire__enc_frame(&e, seq);
}

static void pack_reply_head(msgpack_packer *pk, const char *t, uint32_t id, bool has_id, int more)
{
	msgpack_pack_map(pk, (size_t)(2 + more));
	pack_key(pk, "t");
	pack_str(pk, t);
	pack_key(pk, "id");
	if (has_id)
		msgpack_pack_uint32(pk, id);
	else
		msgpack_pack_nil(pk);
}

struct frame *wire_error(uint32_t id, bool has_id, int err, const char *msg)
{
	struct enc e;
	wire__enc_init(&e, FRAME_HEADROOM);
	pack_reply_head(&e.pk, "error", id, has_id, 2);
	pack_key(&e.pk, "code");
	pack_str(&e.pk, pl_err_code(err));
	pack_key(&e.pk, "msg");
	pack_str(&e.pk, msg ? msg : pl_err_msg(err));
	return wire__enc_frame(&e, 0);
}

/* An ok is at most 27 bytes ({t, id, seq or ts}): allocated to fit, it
 * needs no growing, and frame_from_buf nothing to trim. */
#define OK_CAP (FRAME_HEADROOM + 32)

struct frame *wire_ok(uint32_t id)
{
	struct enc e;
	wire__enc_init_cap(&e, FRAME_HEADROOM, OK_CAP);
	pack_reply_head(&e.pk, "ok", id, true, 0);
	return wire__enc_frame(&e, 0);
}

struct frame *wire_ok_seq(uint32_t id, uint64_t seq)
{
	struct enc e;
	wire__enc_init_cap(&e, FRAME_HEADROOM, OK_CAP);
	pack_reply_head(&e.pk, "ok", id, true, 1);
	pack_key(&e.pk, "seq");
	msgpack_pack_uint64(&e.pk, seq);
	return wire__enc_frame(&e, 0);
}

struct frame *wire_ok_ts(uint32_t id, int64_t ts)
{
	struct enc e;
	wire__enc_init_cap(&e, FRAME_HEADROOM, OK_CAP);
	pack_reply_head(&e.pk, "ok", id, true, 1);
	pack_key(&e.pk, "ts");
	msgpack_pack_int64(&e.pk, ts);
	return wire__enc_frame(&e, 0);
}

static void pack_snapshot(msgpack_packer *pk, const struct room *r)
{
	msgpack_pack_map(pk, 7 + WIRE_FLOOR_SNAPSHOT_KEYS);
	wire__pack_floor_snapshot(pk, r);
	wire__pack_mod_snapshot(pk, r);
	wire__pack_prompts_snapshot(pk, r);
	pack_key(pk, "agenda");
	wire__pack_agenda(pk, r);
	pack_key(pk, "seq");
	msgpack_pack_uint64(pk, r->seq);
	pack_key(pk, "room");
	msgpack_pack_map(pk, 7);
	pack_key(pk, "id");
	pack_str(pk, r->id);
	pack_key(pk, "title");
	pack_str(pk, r->title ? r->title : "");
	pack_key(pk, "created");
	msgpack_pack_int64(pk, r->created);
	pack_key(pk, "ended");
	wire__pack_bool(pk, r->ended);
	pack_key(pk, "locked");
	wire__pack_bool(pk, r->locked);
	pack_key(pk, "chat_mode");
	pack_str(pk, wire_chat_mode_name(r->chat_mode));
	pack_key(pk, "slow_seconds");
	msgpack_pack_uint32(pk, r->slow_s);
	pack_key(pk, "members");
	msgpack_pack_array(pk, r->present);
	for (size_t i = 0; i < r->nmembers; i++)
		if (r->members[i].present)
			wire__pack_member(pk, &r->members[i]);
	pack_key(pk, "chat");
	msgpack_pack_array(pk, r->chat_n);
	for (unsigned i = 0; i < r->chat_n; i++) {
		const struct room_chat *c = room_recent_chat(r, i);
		msgpack_pack_map(pk, 5 + c->deleted);
		pack_key(pk, "seq");
		msgpack_pack_uint64(pk, c->seq);
		pack_key(pk, "ts");
		msgpack_pack_int64(pk, c->ts);
		pack_chat_body(pk, r, c);
		if (c->deleted) {
			pack_key(pk, "deleted");
			msgpack_pack_true(pk);
		}
	}
}

static void pack_you(msgpack_packer *pk, const struct room *r, uint64_t member, const char *token)
{
	const struct room_member *m = room_member(r, member);
	pack_key(pk, "member");
	msgpack_pack_uint64(pk, member);
	pack_key(pk, "token");
	pack_str(pk, token);
	pack_key(pk, "role");
	pack_str(pk, wire_role(m ? m->role : ROOM_PARTICIPANT));
}

int wire_snapshot(const struct room *r, struct buf *out)
{
	struct enc e;
	wire__enc_init(&e, 0);
	pack_snapshot(&e.pk, r);
	if (e.oom) {
		buf_deinit(&e.b);
		return PL_ENOMEM;
	}
	*out = e.b;
	return 0;
}

/* The snapshot from snap if given (wire_snapshot of the same state), else
 * encoded here. */
static void pack_snapshot_of(struct enc *e, const struct room *r, const struct buf *snap)
{
	if (snap)
		wire__enc_write(e, (const char *)buf_data(snap), snap->len);
	else
		pack_snapshot(&e->pk, r);
}

struct frame *wire_ok_join(uint32_t id, const struct room *r, uint64_t member, const char *token,
			   const struct buf *snap)
{
	struct enc e;
	wire__enc_init(&e, FRAME_HEADROOM);
	pack_reply_head(&e.pk, "ok", id, true, 4);
	pack_you(&e.pk, r, member, token);
	pack_key(&e.pk, "snapshot");
	pack_snapshot_of(&e, r, snap);
	return wire__enc_frame(&e, 0);
}

struct frame *wire_ok_resume(uint32_t id, const struct room *r, uint64_t member,
			     const char *token, const struct buf *snap, bool snapshot, uint32_t replay)
{
	struct enc e;
	wire__enc_init(&e, FRAME_HEADROOM);
	pack_reply_head(&e.pk, "ok", id, true, 5);
	pack_you(&e.pk, r, member, token);
	pack_key(&e.pk, "seq");
	msgpack_pack_uint64(&e.pk, r->seq);
	if (snapshot) {
		pack_key(&e.pk, "snapshot");
		pack_snapshot_of(&e, r, snap);
	} else {
		pack_key(&e.pk, "replay");
		msgpack_pack_uint32(&e.pk, replay);
	}
	return wire__enc_frame(&e, 0);
}

