/*
 * wire.c — msgpack codec for requests, replies, events and log records.
 *
 * Encoders write straight into a buffer that keeps FRAME_HEADROOM bytes in
 * front, so the WebSocket header goes in place and a frame costs one
 * allocation for its bytes and one for its refcount: a broadcast event is
 * encoded exactly once, whatever the room's size.
 *
 * Decoders walk the msgpack map once and pick known keys; unknown keys are
 * ignored (forward compatibility), a known key with the wrong type is a
 * bad_request, and every string is checked for UTF-8 here, so nothing past
 * this file sees invalid text.
 */
#include "wire/wire_int.h"

#include <string.h>

#include "util/err.h"
#include "util/text.h"

/* ---- encoding ---------------------------------------------------------- */

static int enc_write(void *data, const char *p, size_t n)
{
	struct enc *e = data;
	if (buf_append(&e->b, p, n)) {
		e->oom = true;
		return -1;
	}
	return 0;
}

void wire__enc_init(struct enc *e, size_t head)
{
	buf_init_head(&e->b, head);
	e->oom = false;
	msgpack_packer_init(&e->pk, e, enc_write);
}

void wire__pack_str(msgpack_packer *pk, const char *s)
{
	size_t n = strlen(s);
	msgpack_pack_str(pk, n);
	msgpack_pack_str_body(pk, s, n);
}

static void pack_strn(msgpack_packer *pk, const char *s, size_t n)
{
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

void wire__pack_member(msgpack_packer *pk, const struct room_member *m)
{
	msgpack_pack_map(pk, 7);
	pack_key(pk, "id");
	msgpack_pack_uint64(pk, m->id);
	pack_key(pk, "name");
	pack_str(pk, m->name);
	pack_key(pk, "role");
	pack_str(pk, wire_role(m->role));
	pack_key(pk, "online");
	wire__pack_bool(pk, m->online);
	pack_key(pk, "turns");
	msgpack_pack_uint32(pk, m->turns);
	pack_key(pk, "speak_ms");
	msgpack_pack_int64(pk, m->speak_ms);
	pack_key(pk, "muted");
	wire__pack_bool(pk, m->muted);
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

struct frame *wire_ok(uint32_t id)
{
	struct enc e;
	wire__enc_init(&e, FRAME_HEADROOM);
	pack_reply_head(&e.pk, "ok", id, true, 0);
	return wire__enc_frame(&e, 0);
}

struct frame *wire_ok_seq(uint32_t id, uint64_t seq)
{
	struct enc e;
	wire__enc_init(&e, FRAME_HEADROOM);
	pack_reply_head(&e.pk, "ok", id, true, 1);
	pack_key(&e.pk, "seq");
	msgpack_pack_uint64(&e.pk, seq);
	return wire__enc_frame(&e, 0);
}

struct frame *wire_ok_ts(uint32_t id, int64_t ts)
{
	struct enc e;
	wire__enc_init(&e, FRAME_HEADROOM);
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

struct frame *wire_ok_join(uint32_t id, const struct room *r, uint64_t member, const char *token)
{
	struct enc e;
	wire__enc_init(&e, FRAME_HEADROOM);
	pack_reply_head(&e.pk, "ok", id, true, 4);
	pack_you(&e.pk, r, member, token);
	pack_key(&e.pk, "snapshot");
	pack_snapshot(&e.pk, r);
	return wire__enc_frame(&e, 0);
}

struct frame *wire_ok_resume(uint32_t id, const struct room *r, uint64_t member,
			     const char *token, bool snapshot, uint32_t replay)
{
	struct enc e;
	wire__enc_init(&e, FRAME_HEADROOM);
	pack_reply_head(&e.pk, "ok", id, true, 5);
	pack_you(&e.pk, r, member, token);
	pack_key(&e.pk, "seq");
	msgpack_pack_uint64(&e.pk, r->seq);
	if (snapshot) {
		pack_key(&e.pk, "snapshot");
		pack_snapshot(&e.pk, r);
	} else {
		pack_key(&e.pk, "replay");
		msgpack_pack_uint32(&e.pk, replay);
	}
	return wire__enc_frame(&e, 0);
}

/* ---- decoding ---------------------------------------------------------- */

static bool key_is(const msgpack_object *k, const char *s)
{
	size_t n = strlen(s);
	return k->type == MSGPACK_OBJECT_STR && k->via.str.size == n && !memcmp(k->via.str.ptr, s, n);
}

static int get_str(const msgpack_object *v, struct wire_str *out)
{
	if (v->type != MSGPACK_OBJECT_STR)
		return PL_EBADREQ;
	if (util_utf8_len(v->via.str.ptr, v->via.str.size) < 0)
		return PL_EUTF8;
	out->p = v->via.str.ptr;
	out->n = v->via.str.size;
	return 0;
}

static int get_uint(const msgpack_object *v, uint64_t *out)
{
	if (v->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
		return PL_EBADREQ;
	*out = v->via.u64;
	return 0;
}

static int get_enum(const msgpack_object *v, int (*lookup)(const struct wire_str *), uint32_t *out)
{
	struct wire_str s;
	int rc = get_str(v, &s);
	if (rc)
		return rc;
	int e = lookup(&s);
	if (e < 0)
		return PL_EBADREQ;
	*out = (uint32_t)e;
	return 0;
}

static int get_bool(const msgpack_object *v, uint32_t *out)
{
	if (v->type != MSGPACK_OBJECT_BOOLEAN)
		return PL_EBADREQ;
	*out = v->via.boolean;
	return 0;
}

static int get_small(const msgpack_object *v, uint32_t min, uint32_t max, uint32_t *out)
{
	uint64_t u;
	if (get_uint(v, &u) || u < min || u > max)
		return PL_EBADREQ;
	*out = (uint32_t)u;
	return 0;
}

static uint64_t be(const uint8_t *p, int len)
{
	uint64_t v = 0;
	for (int i = 0; i < len; i++)
		v = v << 8 | p[i];
	return v;
}

/* Walks the msgpack bytes without allocating and refuses any container or
 * string that claims more than the bytes left: msgpack-c would allocate in
 * proportion to a claimed count, so a 7-byte message could ask for
 * gigabytes. Every element takes at least one byte, so a valid message
 * always passes. */
static bool skim(const uint8_t *p, size_t n)
{
	size_t off = 0, pending = 1;
	while (pending) {
		if (off >= n)
			return false;
		uint8_t c = p[off++];
		pending--;
		uint64_t count = 0, skip = 0;
		if (c <= 0x7f || c >= 0xe0 || c == 0xc0 || c == 0xc2 || c == 0xc3)
			continue;
		if (c >= 0x80 && c <= 0x8f)
			count = 2u * (c & 0x0f);
		else if (c >= 0x90 && c <= 0x9f)
			count = c & 0x0f;
		else if (c >= 0xa0 && c <= 0xbf)
			skip = c & 0x1f;
		else {
			static const struct {
				uint8_t hdr, len, extra, kind; /* kind: 0 skip, 1 array, 2 map */
			} t[] = {
				{0xc4, 1, 0, 3}, {0xc5, 2, 0, 3}, {0xc6, 4, 0, 3}, {0xc7, 1, 1, 3},
				{0xc8, 2, 1, 3}, {0xc9, 4, 1, 3}, {0xca, 0, 4, 0}, {0xcb, 0, 8, 0},
				{0xcc, 0, 1, 0}, {0xcd, 0, 2, 0}, {0xce, 0, 4, 0}, {0xcf, 0, 8, 0},
				{0xd0, 0, 1, 0}, {0xd1, 0, 2, 0}, {0xd2, 0, 4, 0}, {0xd3, 0, 8, 0},
				{0xd4, 0, 2, 0}, {0xd5, 0, 3, 0}, {0xd6, 0, 5, 0}, {0xd7, 0, 9, 0},
				{0xd8, 0, 17, 0}, {0xd9, 1, 0, 3}, {0xda, 2, 0, 3}, {0xdb, 4, 0, 3},
				{0xdc, 2, 0, 1}, {0xdd, 4, 0, 1}, {0xde, 2, 0, 2}, {0xdf, 4, 0, 2},
			};
			size_t i = 0;
			while (i < sizeof(t) / sizeof(t[0]) && t[i].hdr != c)
				i++;
			if (i == sizeof(t) / sizeof(t[0]) || n - off < t[i].len)
				return false; /* 0xc1, or a cut header */
			uint64_t v = be(p + off, t[i].len);
			off += t[i].len;
			if (t[i].kind == 1)
				count = v;
			else if (t[i].kind == 2)
				count = 2 * v;
			else if (t[i].kind == 3)
				skip = v + t[i].extra;
			else
				skip = t[i].extra;
		}
		if (skip > n - off)
			return false;
		off += skip;
		if (count > n - off || pending + count > n - off)
			return false; /* each value still owed needs a byte */
		pending += count;
	}
	return off == n;
}

static int unpack_map(msgpack_unpacked *u, const uint8_t *p, size_t n, const msgpack_object_map **m)
{
	size_t off = 0;
	if (!skim(p, n))
		return PL_ECORRUPT;
	if (msgpack_unpack_next(u, (const char *)p, n, &off) != MSGPACK_UNPACK_SUCCESS || off != n)
		return PL_ECORRUPT;
	if (u->data.type != MSGPACK_OBJECT_MAP)
		return PL_EBADREQ;
	*m = &u->data.via.map;
	return 0;
}

static const struct {
	const char *name;
	enum wire_req_type type;
} req_types[] = {
	{"join", WIRE_JOIN}, {"resume", WIRE_RESUME}, {"chat", WIRE_CHAT},
	{"leave", WIRE_LEAVE}, {"ping", WIRE_PING},
	{"raise", WIRE_RAISE}, {"lower", WIRE_LOWER}, {"clear_hands", WIRE_CLEAR_HANDS},
	{"move", WIRE_MOVE}, {"policy", WIRE_POLICY}, {"give", WIRE_GIVE},
	{"take", WIRE_TAKE}, {"yield", WIRE_YIELD}, {"timer", WIRE_TIMER},
	{"delete", WIRE_DELETE}, {"mute", WIRE_MUTE}, {"unmute", WIRE_UNMUTE},
	{"remove", WIRE_REMOVE}, {"lock", WIRE_LOCK}, {"unlock", WIRE_UNLOCK},
	{"chat_mode", WIRE_CHAT_MODE}, {"promote", WIRE_PROMOTE}, {"demote", WIRE_DEMOTE},
	{"end", WIRE_END}, {"prompt", WIRE_PROMPT}, {"close_prompt", WIRE_CLOSE_PROMPT},
	{"answer", WIRE_ANSWER}, {"agenda", WIRE_AGENDA}, {"agenda_go", WIRE_AGENDA_GO},
	{"react", WIRE_REACT}, {"signal", WIRE_SIGNAL},
};

enum {
	F_ROOM = 1, F_NAME = 2, F_KEY = 4, F_TOKEN = 8, F_TEXT = 16, F_MEMBER = 32, F_SEQ = 64,
	F_TYPE = 128, F_POLICY = 256, F_POS = 512, F_SECONDS = 1024, F_ACTION = 2048,
	F_MODE = 4096, F_BAN = 8192, F_DEVICE = 16384, F_KIND = 1 << 15, F_QUESTION = 1 << 16,
	F_PROMPT = 1 << 17, F_OPTIONS = 1 << 18, F_SCALE = 1 << 19, F_CHOICE = 1 << 20,
};

static unsigned required(enum wire_req_type t)
{
	switch (t) {
	case WIRE_JOIN: return F_ROOM | F_NAME;
	case WIRE_RESUME: return F_ROOM | F_MEMBER | F_TOKEN | F_SEQ;
	case WIRE_CHAT: return F_TEXT;
	case WIRE_RAISE: return F_TYPE;
	case WIRE_MOVE: return F_MEMBER | F_POS;
	case WIRE_POLICY: return F_POLICY;
	case WIRE_TIMER: return F_SECONDS;
	case WIRE_DELETE: return F_SEQ;
	case WIRE_MUTE:
	case WIRE_UNMUTE:
	case WIRE_REMOVE:
	case WIRE_PROMOTE:
	case WIRE_DEMOTE: return F_MEMBER;
	case WIRE_CHAT_MODE: return F_MODE;
	case WIRE_PROMPT: return F_KIND | F_QUESTION;
	case WIRE_CLOSE_PROMPT: return F_PROMPT;
	case WIRE_ANSWER: return F_PROMPT;
	case WIRE_AGENDA: return F_OPTIONS;
	case WIRE_AGENDA_GO: return F_POS;
	case WIRE_REACT:
	case WIRE_SIGNAL: return F_KIND;
	default: return 0;
	}
}

/* agenda: segments: [{title, minutes}, ...] */
static int decode_segments(struct wire_req *req, const msgpack_object *v)
{
	if (v->type != MSGPACK_OBJECT_ARRAY || v->via.array.size > ROOM_AGENDA_MAX)
		return PL_EBADREQ;
	req->nopts = (uint8_t)v->via.array.size;
	for (uint32_t i = 0; i < v->via.array.size; i++) {
		const msgpack_object *seg = &v->via.array.ptr[i];
		bool title = false, minutes = false;
		if (seg->type != MSGPACK_OBJECT_MAP)
			return PL_EBADREQ;
		for (uint32_t j = 0; j < seg->via.map.size; j++) {
			const msgpack_object *k = &seg->via.map.ptr[j].key, *x = &seg->via.map.ptr[j].val;
			int rc = 0;
			if (key_is(k, "title"))
				rc = get_str(x, &req->opts[i]), title = true;
			else if (key_is(k, "minutes"))
				rc = get_small(x, 1, 600, &req->nums[i]), minutes = true;
			if (rc)
				return rc;
		}
		if (!title || !minutes)
			return PL_EBADREQ;
	}
	return 0;
}

/* The fields of prompt, close_prompt and answer. */
static int decode_prompt_field(struct wire_req *req, const msgpack_object *k,
			       const msgpack_object *v, unsigned *seen)
{
	uint32_t u = 0;
	int rc = 0;
	if (key_is(k, "kind")) {
		rc = get_enum(v, wire_prompt_kind, &u), req->pkind = (uint8_t)u, *seen |= F_KIND;
	} else if (key_is(k, "reveal")) {
		rc = get_enum(v, wire_reveal, &u), req->reveal = (uint8_t)u;
	} else if (key_is(k, "anonymous")) {
		rc = get_bool(v, &u), req->anonymous = u;
	} else if (key_is(k, "question")) {
		rc = get_str(v, &req->text), *seen |= F_QUESTION;
	} else if (key_is(k, "options")) {
		if (v->type != MSGPACK_OBJECT_ARRAY || v->via.array.size < 2 ||
		    v->via.array.size > ROOM_PROMPT_OPTS)
			return PL_EBADREQ;
		req->nopts = (uint8_t)v->via.array.size;
		for (uint32_t i = 0; !rc && i < v->via.array.size; i++)
			rc = get_str(&v->via.array.ptr[i], &req->opts[i]);
		*seen |= F_OPTIONS;
	} else if (key_is(k, "scale")) {
		rc = get_small(v, 2, ROOM_PROMPT_OPTS, &u), req->scale = (uint8_t)u, *seen |= F_SCALE;
	} else if (key_is(k, "low") || key_is(k, "high")) {
		rc = get_str(v, &req->opts[key_is(k, "high")]);
	} else if (key_is(k, "seconds")) {
		rc = get_small(v, 0, 86400, &req->arg);
	} else if (key_is(k, "prompt")) {
		rc = get_uint(v, &req->prompt), *seen |= F_PROMPT;
	} else if (key_is(k, "choice") || key_is(k, "value")) {
		rc = get_small(v, 0, 1000, &req->arg), *seen |= F_CHOICE;
	} else if (key_is(k, "choices")) {
		if (v->type != MSGPACK_OBJECT_ARRAY || !v->via.array.size ||
		    v->via.array.size > ROOM_PROMPT_OPTS)
			return PL_EBADREQ;
		req->arg = 0;
		for (uint32_t i = 0; !rc && i < v->via.array.size; i++) {
			rc = get_small(&v->via.array.ptr[i], 0, ROOM_PROMPT_OPTS - 1, &u);
			req->arg |= 1u << u;
		}
		*seen |= F_CHOICE;
	} else if (key_is(k, "text")) {
		rc = get_str(v, &req->text), *seen |= F_TEXT;
	}
	return rc;
}

int wire_decode_req(msgpack_unpacked *u, const uint8_t *p, size_t n, struct wire_req *req,
		    bool *has_id)
{
	const msgpack_object_map *m;
	memset(req, 0, sizeof(*req));
	*has_id = false;
	int rc = unpack_map(u, p, n, &m);
	if (rc)
		return rc;
	/* the id first, so that every later error can be answered to it */
	const msgpack_object *t = NULL;
	for (uint32_t i = 0; i < m->size; i++) {
		const msgpack_object *k = &m->ptr[i].key, *v = &m->ptr[i].val;
		if (key_is(k, "id")) {
			if (v->type != MSGPACK_OBJECT_POSITIVE_INTEGER || v->via.u64 == 0 ||
			    v->via.u64 > UINT32_MAX)
				return PL_EBADREQ;
			req->id = (uint32_t)v->via.u64;
			*has_id = true;
		} else if (key_is(k, "t")) {
			t = v;
		}
	}
	if (!*has_id || !t || t->type != MSGPACK_OBJECT_STR)
		return PL_EBADREQ;
	for (size_t i = 0; i < sizeof(req_types) / sizeof(req_types[0]); i++)
		if (key_is(t, req_types[i].name))
			req->type = req_types[i].type;
	if (!req->type)
		return PL_EUNKNOWN;
	unsigned seen = 0, need = required(req->type);
	for (uint32_t i = 0; i < m->size; i++) {
		const msgpack_object *k = &m->ptr[i].key, *v = &m->ptr[i].val;
		if (key_is(k, "room"))
			rc = get_str(v, &req->room), seen |= F_ROOM;
		else if (key_is(k, "name"))
			rc = get_str(v, &req->name), seen |= F_NAME;
		else if (key_is(k, "key"))
			rc = get_str(v, &req->key), seen |= F_KEY;
		else if (key_is(k, "token"))
			rc = get_str(v, &req->token), seen |= F_TOKEN;
		else if (key_is(k, "text"))
			rc = get_str(v, &req->text), seen |= F_TEXT;
		else if (key_is(k, "member"))
			rc = get_uint(v, &req->member) || !req->member ? PL_EBADREQ : 0,
			seen |= F_MEMBER; /* member ids start at 1 */
		else if (key_is(k, "seq"))
			rc = get_uint(v, &req->seq), seen |= F_SEQ;
		else if (key_is(k, "type") && req->type == WIRE_RAISE)
			rc = get_enum(v, wire_hand_type, &req->arg), seen |= F_TYPE;
		else if (key_is(k, "policy"))
			rc = get_enum(v, wire_policy, &req->arg), seen |= F_POLICY;
		else if (key_is(k, "pos"))
			rc = get_small(v, 1, 100000, &req->arg), seen |= F_POS;
		else if (key_is(k, "seconds") && req->type == WIRE_CHAT_MODE)
			rc = get_small(v, 0, 3600, &req->arg2), seen |= F_SECONDS;
		else if (key_is(k, "seconds") && req->type != WIRE_PROMPT)
			rc = get_small(v, 0, 3600, &req->arg), seen |= F_SECONDS;
		else if (key_is(k, "mode"))
			rc = get_enum(v, wire_chat_mode, &req->arg), seen |= F_MODE;
		else if (key_is(k, "ban"))
			rc = get_bool(v, &req->arg), seen |= F_BAN;
		else if (key_is(k, "device"))
			rc = get_str(v, &req->device), seen |= F_DEVICE;
		else if (req->type == WIRE_PROMPT || req->type == WIRE_ANSWER ||
			 req->type == WIRE_CLOSE_PROMPT)
			rc = decode_prompt_field(req, k, v, &seen);
		else if (key_is(k, "kind") && (req->type == WIRE_REACT || req->type == WIRE_SIGNAL))
			rc = get_str(v, &req->text), seen |= F_KIND;
		else if (key_is(k, "segments") && req->type == WIRE_AGENDA)
			rc = decode_segments(req, v), seen |= F_OPTIONS;
		else if (key_is(k, "segment") && req->type == WIRE_AGENDA_GO)
			rc = get_small(v, 0, ROOM_AGENDA_MAX, &req->arg), seen |= F_POS;
		else if (key_is(k, "action"))
			rc = get_enum(v, wire_timer_action, &req->arg2), seen |= F_ACTION;
		else
			continue;
		if (rc)
			return rc; /* a known key with a wrong type or invalid text */
	}
	req->has_member = seen & F_MEMBER;
	if ((seen & need) != need)
		return PL_EBADREQ;
	if (req->type == WIRE_PROMPT) /* the shape a kind needs */
		return (req->pkind <= ROOM_PROMPT_MULTI && !(seen & F_OPTIONS)) ||
			       (req->pkind == ROOM_PROMPT_RATING && !(seen & F_SCALE))
			       ? PL_EBADREQ
			       : 0;
	if (req->type == WIRE_ANSWER && !(seen & (F_CHOICE | F_TEXT)))
		return PL_EBADREQ;
	return 0;
}

static const char *const kinds[ROOM__CMD_MAX] = {
	[ROOM_CREATE] = "create",       [ROOM_JOIN] = "join",          [ROOM_ATTACH] = "attach",
	[ROOM_DETACH] = "detach",       [ROOM_LEAVE] = "leave",        [ROOM_CHAT] = "chat",
	[ROOM_HAND_RAISE] = "raise",    [ROOM_HAND_LOWER] = "lower",   [ROOM_HAND_CLEAR] = "clear_hands",
	[ROOM_HAND_MOVE] = "move",      [ROOM_POLICY] = "policy",      [ROOM_FLOOR_GIVE] = "give",
	[ROOM_FLOOR_TAKE] = "take",     [ROOM_FLOOR_YIELD] = "yield",  [ROOM_TIMER] = "timer",
	[ROOM_EXPIRE] = "expire",       [ROOM_DELETE] = "delete",      [ROOM_MUTE] = "mute",
	[ROOM_REMOVE] = "remove",       [ROOM_LOCK] = "lock",          [ROOM_CHAT_MODE] = "chat_mode",
	[ROOM_ROLE] = "role",           [ROOM_END] = "end",            [ROOM_PROMPT_OPEN] = "prompt",
	[ROOM_PROMPT_CLOSE] = "close_prompt", [ROOM_ANSWER] = "answer", [ROOM_AGENDA_SET] = "agenda",
	[ROOM_AGENDA_GO] = "agenda_go",
};
/* a kind without a name would be a NULL here: keep the table whole */
_Static_assert(ROOM__CMD_MAX == ROOM_AGENDA_GO + 1, "name every record kind in kinds[]");

/* Records are written as a map32 whose count is patched at the end, so each
 * kind lists only the keys it has. */
struct rec_enc {
	struct enc e;
	uint32_t keys;
};

static msgpack_packer *rkey(struct rec_enc *r, const char *k)
{
	r->keys++;
	pack_key(&r->e.pk, k);
	return &r->e.pk;
}

static void rkey_u64(struct rec_enc *r, const char *k, uint64_t v)
{
	msgpack_pack_uint64(rkey(r, k), v);
}

static void rkey_str(struct rec_enc *r, const char *k, const char *p, size_t n)
{
	pack_strn(rkey(r, k), p, n);
}

static void rkey_bin(struct rec_enc *r, const char *k, const uint8_t *p, size_t n)
{
	msgpack_pack_bin(rkey(r, k), n);
	msgpack_pack_bin_body(&r->e.pk, p, n);
}

int wire_record_encode(struct buf *b, const struct room_cmd *c)
{
	if (c->kind < ROOM_CREATE || c->kind >= ROOM__CMD_MAX)
		return PL_EINTERNAL;
	struct rec_enc r = {.e = {.b = *b}};
	msgpack_packer_init(&r.e.pk, &r.e, enc_write);
	size_t at = r.e.b.len;
	static const uint8_t map32[5] = {0xdf, 0, 0, 0, 0};
	enc_write(&r.e, (const char *)map32, sizeof(map32));
	rkey_str(&r, "k", kinds[c->kind], strlen(kinds[c->kind]));
	if (c->origin)
		rkey_u64(&r, "o", c->origin);
	bool anon_answer = c->kind == ROOM_ANSWER && c->has_token;
	switch (c->kind) {
	case ROOM_CREATE:
		rkey_str(&r, "id", c->id, c->id_len);
		rkey_str(&r, "title", c->text, c->text_len);
		break;
	case ROOM_JOIN:
		rkey_str(&r, "name", c->text, c->text_len);
		if (c->has_device)
			rkey_bin(&r, "dv", c->device, 16);
		break;
	case ROOM_CHAT:
		rkey_str(&r, "text", c->text, c->text_len);
		break;
	case ROOM_LEAVE:
		rkey_str(&r, "reason", c->reason == ROOM_TIMEOUT ? "timeout" : "left",
			 c->reason == ROOM_TIMEOUT ? 7 : 4);
		break;
	case ROOM_PROMPT_OPEN:
		rkey_u64(&r, "pk", c->pkind);
		rkey_u64(&r, "rv", c->reveal);
		wire__pack_bool(rkey(&r, "an"), c->anonymous);
		rkey_str(&r, "q", c->text, c->text_len);
		rkey_u64(&r, "n", c->nopts);
		msgpack_pack_array(rkey(&r, "op"), c->pkind == ROOM_PROMPT_RATING ? 2 : c->nopts);
		for (unsigned i = 0; i < (c->pkind == ROOM_PROMPT_RATING ? 2u : c->nopts); i++)
			pack_strn(&r.e.pk, c->opts[i].p ? c->opts[i].p : "", c->opts[i].n);
		break;
	case ROOM_AGENDA_SET:
		msgpack_pack_array(rkey(&r, "op"), c->nopts);
		for (unsigned i = 0; i < c->nopts; i++)
			pack_strn(&r.e.pk, c->opts[i].p ? c->opts[i].p : "", c->opts[i].n);
		msgpack_pack_array(rkey(&r, "nm"), c->nopts);
		for (unsigned i = 0; i < c->nopts; i++)
			msgpack_pack_uint32(&r.e.pk, c->nums[i]);
		break;
	case ROOM_ANSWER:
		if (c->text)
			rkey_str(&r, "text", c->text, c->text_len);
		if (anon_answer)
			rkey_bin(&r, "tk", c->token, 16);
		break;
	default:
		break;
	}
	if (c->has_kh && (c->kind == ROOM_CREATE || c->kind == ROOM_JOIN))
		rkey_bin(&r, "kh", c->kh, 32);
	if (c->instance && (c->kind == ROOM_JOIN || c->kind == ROOM_ATTACH))
		rkey_u64(&r, "in", c->instance);
	/* who acts: every kind but create, join and expire, and never the
	 * author of an anonymous answer */
	if (c->kind >= ROOM_ATTACH && c->kind != ROOM_EXPIRE && !anon_answer)
		rkey_u64(&r, "member", c->member);
	if (c->has_epoch && (c->kind == ROOM_DETACH || c->kind == ROOM_LEAVE))
		rkey_u64(&r, "epoch", c->epoch);
	if (c->kind > ROOM_CHAT) {
		if (c->target)
			rkey_u64(&r, "tg", c->target);
		if (c->arg)
			rkey_u64(&r, "a", c->arg);
		if (c->arg2)
			rkey_u64(&r, "a2", c->arg2);
	}
	uint8_t *m = r.e.b.mem + r.e.b.head + at;
	if (!r.e.oom) {
		m[1] = (uint8_t)(r.keys >> 24);
		m[2] = (uint8_t)(r.keys >> 16);
		m[3] = (uint8_t)(r.keys >> 8);
		m[4] = (uint8_t)r.keys;
	}
	*b = r.e.b;
	return r.e.oom ? PL_ENOMEM : 0;
}

int wire_record_decode(msgpack_unpacked *u, const uint8_t *p, size_t n, struct room_cmd *c)
{
	const msgpack_object_map *m;
	memset(c, 0, sizeof(*c));
	int rc = unpack_map(u, p, n, &m);
	if (rc)
		return rc == PL_ECORRUPT ? rc : PL_ECORRUPT;
	for (uint32_t i = 0; i < m->size; i++) {
		const msgpack_object *k = &m->ptr[i].key, *v = &m->ptr[i].val;
		struct wire_str s;
		uint64_t u64;
		if (key_is(k, "k")) {
			if (v->type != MSGPACK_OBJECT_STR)
				return PL_ECORRUPT;
			for (int j = ROOM_CREATE; j < ROOM__CMD_MAX; j++)
				if (key_is(v, kinds[j]))
					c->kind = (enum room_cmd_kind)j;
		} else if (key_is(k, "o")) {
			if (get_uint(v, &c->origin))
				return PL_ECORRUPT;
		} else if (key_is(k, "id")) {
			if (get_str(v, &s))
				return PL_ECORRUPT;
			c->id = s.p, c->id_len = s.n;
		} else if (key_is(k, "title") || key_is(k, "name") || key_is(k, "text")) {
			if (get_str(v, &s))
				return PL_ECORRUPT;
			c->text = s.p, c->text_len = s.n;
		} else if (key_is(k, "kh")) {
			if (v->type != MSGPACK_OBJECT_BIN || v->via.bin.size != 32)
				return PL_ECORRUPT;
			memcpy(c->kh, v->via.bin.ptr, 32);
			c->has_kh = true;
		} else if (key_is(k, "tk")) {
			if (v->type != MSGPACK_OBJECT_BIN || v->via.bin.size != 16)
				return PL_ECORRUPT;
			memcpy(c->token, v->via.bin.ptr, 16);
			c->has_token = true;
		} else if (key_is(k, "pk") || key_is(k, "rv") || key_is(k, "n")) {
			if (get_uint(v, &u64) || u64 > 255)
				return PL_ECORRUPT;
			*(key_is(k, "pk") ? &c->pkind : key_is(k, "rv") ? &c->reveal : &c->nopts) =
				(uint8_t)u64;
		} else if (key_is(k, "an")) {
			if (v->type != MSGPACK_OBJECT_BOOLEAN)
				return PL_ECORRUPT;
			c->anonymous = v->via.boolean;
		} else if (key_is(k, "q")) {
			if (get_str(v, &s))
				return PL_ECORRUPT;
			c->text = s.p, c->text_len = s.n;
		} else if (key_is(k, "op")) {
			if (v->type != MSGPACK_OBJECT_ARRAY || v->via.array.size > ROOM_PROMPT_OPTS)
				return PL_ECORRUPT;
			for (uint32_t j = 0; j < v->via.array.size; j++) {
				if (get_str(&v->via.array.ptr[j], &s))
					return PL_ECORRUPT;
				c->opts[j] = (struct room_text){s.p, s.n};
			}
			if (c->kind == ROOM_AGENDA_SET) /* a prompt has its count in "n" */
				c->nopts = (uint8_t)v->via.array.size;
		} else if (key_is(k, "nm")) {
			if (v->type != MSGPACK_OBJECT_ARRAY || v->via.array.size > ROOM_AGENDA_MAX)
				return PL_ECORRUPT;
			for (uint32_t j = 0; j < v->via.array.size; j++) {
				if (get_uint(&v->via.array.ptr[j], &u64) || u64 > UINT32_MAX)
					return PL_ECORRUPT;
				c->nums[j] = (uint32_t)u64;
			}
		} else if (key_is(k, "dv")) {
			if (v->type != MSGPACK_OBJECT_BIN || v->via.bin.size != 16)
				return PL_ECORRUPT;
			memcpy(c->device, v->via.bin.ptr, 16);
			c->has_device = true;
		} else if (key_is(k, "member")) {
			if (get_uint(v, &c->member))
				return PL_ECORRUPT;
		} else if (key_is(k, "epoch")) {
			if (get_uint(v, &u64) || u64 > UINT32_MAX)
				return PL_ECORRUPT;
			c->epoch = (uint32_t)u64;
			c->has_epoch = true;
		} else if (key_is(k, "in")) {
			if (get_uint(v, &c->instance))
				return PL_ECORRUPT;
		} else if (key_is(k, "tg")) {
			if (get_uint(v, &c->target))
				return PL_ECORRUPT;
		} else if (key_is(k, "a") || key_is(k, "a2")) {
			if (get_uint(v, &u64) || u64 > UINT32_MAX)
				return PL_ECORRUPT;
			*(key_is(k, "a") ? &c->arg : &c->arg2) = (uint32_t)u64;
		} else if (key_is(k, "reason")) {
			if (v->type != MSGPACK_OBJECT_STR)
				return PL_ECORRUPT;
			c->reason = key_is(v, "timeout") ? ROOM_TIMEOUT : ROOM_LEFT;
		}
	}
	return c->kind ? 0 : PL_ECORRUPT;
}
