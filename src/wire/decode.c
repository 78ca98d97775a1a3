/*
 * decode.c (wire) — client requests, checked.
 *
 * Bytes are first walked without allocating (skim): a container or string
 * that claims more than the bytes left is refused before msgpack-c would
 * allocate for it. Then the map is walked once and known keys are picked;
 * unknown keys are ignored (forward compatibility), a known key with the
 * wrong type is a bad_request, and every string is checked for UTF-8 here,
 * so nothing past this file sees invalid text.
 */
#include <string.h>

#include "util/err.h"
#include "util/text.h"
#include "wire/wire_int.h"


int wire__get_str(const msgpack_object *v, struct wire_str *out)
{
	if (v->type != MSGPACK_OBJECT_STR)
		return PL_EBADREQ;
	if (util_utf8_len(v->via.str.ptr, v->via.str.size) < 0)
		return PL_EUTF8;
	out->p = v->via.str.ptr;
	out->n = v->via.str.size;
	return 0;
}

int wire__get_uint(const msgpack_object *v, uint64_t *out)
{
	if (v->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
		return PL_EBADREQ;
	*out = v->via.u64;
	return 0;
}

static int get_enum(const msgpack_object *v, int (*lookup)(const struct wire_str *), uint32_t *out)
{
	struct wire_str s;
	int rc = wire__get_str(v, &s);
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
	if (wire__get_uint(v, &u) || u < min || u > max)
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
		else if (c == 0xc1)
			return false; /* never used */
		else {
			/* 0xc4 … 0xdf in order: bytes of length, bytes of data after
			 * them, and what the value is (0 skip, 1 array, 2 map, 3
			 * string, binary or ext: skip the length plus extra, which
			 * is an ext's type byte) */
			static const struct hdr {
				uint8_t len, extra, kind;
			} t[] = {
				{1, 0, 3}, {2, 0, 3}, {4, 0, 3}, {1, 1, 3}, {2, 1, 3}, {4, 1, 3},
				{0, 4, 0}, {0, 8, 0}, {0, 1, 0}, {0, 2, 0}, {0, 4, 0}, {0, 8, 0},
				{0, 1, 0}, {0, 2, 0}, {0, 4, 0}, {0, 8, 0}, {0, 2, 0}, {0, 3, 0},
				{0, 5, 0}, {0, 9, 0}, {0, 17, 0}, {1, 0, 3}, {2, 0, 3}, {4, 0, 3},
				{2, 0, 1}, {4, 0, 1}, {2, 0, 2}, {4, 0, 2},
			};
			_Static_assert(sizeof(t) / sizeof(t[0]) == 0xdf - 0xc4 + 1, "0xc4 … 0xdf");
			const struct hdr *e = &t[c - 0xc4];
			if (n - off < e->len)
				return false; /* a cut header */
			uint64_t v = be(p + off, e->len);
			off += e->len;
			if (e->kind == 1)
				count = v;
			else if (e->kind == 2)
				count = 2 * v;
			else if (e->kind == 3)
				skip = v + e->extra;
			else
				skip = e->extra;
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

int wire__unpack_map(msgpack_unpacked *u, const uint8_t *p, size_t n,
		     const msgpack_object_map **m)
{
	size_t off = 0;
	if (!skim(p, n))
		return PL_ECORRUPT;
	/* One zone per unpacker, cleared and reused: msgpack_unpack_next would
	 * allocate and free a fresh 8 KiB zone for every message. */
	if (!u->zone && !(u->zone = msgpack_zone_new(2048)))
		return PL_ENOMEM;
	msgpack_zone_clear(u->zone);
	if (msgpack_unpack((const char *)p, n, &off, u->zone, &u->data) != MSGPACK_UNPACK_SUCCESS ||
	    off != n)
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
			if (wire__key_is(k, "title"))
				rc = wire__get_str(x, &req->opts[i]), title = true;
			else if (wire__key_is(k, "minutes"))
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
	if (wire__key_is(k, "kind")) {
		rc = get_enum(v, wire_prompt_kind, &u), req->pkind = (uint8_t)u, *seen |= F_KIND;
	} else if (wire__key_is(k, "reveal")) {
		rc = get_enum(v, wire_reveal, &u), req->reveal = (uint8_t)u;
	} else if (wire__key_is(k, "anonymous")) {
		rc = get_bool(v, &u), req->anonymous = u;
	} else if (wire__key_is(k, "question")) {
		rc = wire__get_str(v, &req->text), *seen |= F_QUESTION;
	} else if (wire__key_is(k, "options")) {
		if (v->type != MSGPACK_OBJECT_ARRAY || v->via.array.size < 2 ||
		    v->via.array.size > ROOM_PROMPT_OPTS)
			return PL_EBADREQ;
		req->nopts = (uint8_t)v->via.array.size;
		for (uint32_t i = 0; !rc && i < v->via.array.size; i++)
			rc = wire__get_str(&v->via.array.ptr[i], &req->opts[i]);
		*seen |= F_OPTIONS;
	} else if (wire__key_is(k, "scale")) {
		rc = get_small(v, 2, ROOM_PROMPT_OPTS, &u), req->scale = (uint8_t)u, *seen |= F_SCALE;
	} else if (wire__key_is(k, "low") || wire__key_is(k, "high")) {
		rc = wire__get_str(v, &req->opts[wire__key_is(k, "high")]);
	} else if (wire__key_is(k, "seconds")) {
		rc = get_small(v, 0, 86400, &req->arg);
	} else if (wire__key_is(k, "prompt")) {
		rc = wire__get_uint(v, &req->prompt), *seen |= F_PROMPT;
	} else if (wire__key_is(k, "choice") || wire__key_is(k, "value")) {
		rc = get_small(v, 0, 1000, &req->arg), *seen |= F_CHOICE;
	} else if (wire__key_is(k, "choices")) {
		if (v->type != MSGPACK_OBJECT_ARRAY || !v->via.array.size ||
		    v->via.array.size > ROOM_PROMPT_OPTS)
			return PL_EBADREQ;
		req->arg = 0;
		for (uint32_t i = 0; !rc && i < v->via.array.size; i++) {
			rc = get_small(&v->via.array.ptr[i], 0, ROOM_PROMPT_OPTS - 1, &u);
			req->arg |= 1u << u;
		}
		*seen |= F_CHOICE;
	} else if (wire__key_is(k, "text")) {
		rc = wire__get_str(v, &req->text), *seen |= F_TEXT;
	}
	return rc;
}

int wire_decode_req(msgpack_unpacked *u, const uint8_t *p, size_t n, struct wire_req *req,
		    bool *has_id)
{
	const msgpack_object_map *m;
	memset(req, 0, sizeof(*req));
	*has_id = false;
	int rc = wire__unpack_map(u, p, n, &m);
	if (rc)
		return rc;
	/* the id first, so that every later error can be answered to it */
	const msgpack_object *t = NULL;
	for (uint32_t i = 0; i < m->size; i++) {
		const msgpack_object *k = &m->ptr[i].key, *v = &m->ptr[i].val;
		if (wire__key_is(k, "id")) {
			if (v->type != MSGPACK_OBJECT_POSITIVE_INTEGER || v->via.u64 == 0 ||
			    v->via.u64 > UINT32_MAX)
				return PL_EBADREQ;
			req->id = (uint32_t)v->via.u64;
			*has_id = true;
		} else if (wire__key_is(k, "t")) {
			t = v;
		}
	}
	if (!*has_id || !t || t->type != MSGPACK_OBJECT_STR)
		return PL_EBADREQ;
	for (size_t i = 0; !req->type && i < sizeof(req_types) / sizeof(req_types[0]); i++)
		if (wire__key_is(t, req_types[i].name))
			req->type = req_types[i].type;
	if (!req->type)
		return PL_EUNKNOWN;
	unsigned seen = 0, need = required(req->type);
	for (uint32_t i = 0; i < m->size; i++) {
		const msgpack_object *k = &m->ptr[i].key, *v = &m->ptr[i].val;
		if (wire__key_is(k, "room"))
			rc = wire__get_str(v, &req->room), seen |= F_ROOM;
		else if (wire__key_is(k, "name"))
			rc = wire__get_str(v, &req->name), seen |= F_NAME;
		else if (wire__key_is(k, "key"))
			rc = wire__get_str(v, &req->key), seen |= F_KEY;
		else if (wire__key_is(k, "token"))
			rc = wire__get_str(v, &req->token), seen |= F_TOKEN;
		else if (wire__key_is(k, "text"))
			rc = wire__get_str(v, &req->text), seen |= F_TEXT;
		else if (wire__key_is(k, "member"))
			rc = wire__get_uint(v, &req->member) || !req->member ? PL_EBADREQ : 0,
			seen |= F_MEMBER; /* member ids start at 1 */
		else if (wire__key_is(k, "seq"))
			rc = wire__get_uint(v, &req->seq), seen |= F_SEQ;
		else if (wire__key_is(k, "type") && req->type == WIRE_RAISE)
			rc = get_enum(v, wire_hand_type, &req->arg), seen |= F_TYPE;
		else if (wire__key_is(k, "policy"))
			rc = get_enum(v, wire_policy, &req->arg), seen |= F_POLICY;
		else if (wire__key_is(k, "pos"))
			rc = get_small(v, 1, 100000, &req->arg), seen |= F_POS;
		else if (wire__key_is(k, "seconds") && req->type == WIRE_CHAT_MODE)
			rc = get_small(v, 0, 3600, &req->arg2), seen |= F_SECONDS;
		else if (wire__key_is(k, "seconds") && req->type != WIRE_PROMPT)
			rc = get_small(v, 0, 3600, &req->arg), seen |= F_SECONDS;
		else if (wire__key_is(k, "mode"))
			rc = get_enum(v, wire_chat_mode, &req->arg), seen |= F_MODE;
		else if (wire__key_is(k, "ban"))
			rc = get_bool(v, &req->arg), seen |= F_BAN;
		else if (wire__key_is(k, "device"))
			rc = wire__get_str(v, &req->device), seen |= F_DEVICE;
		else if (req->type == WIRE_PROMPT || req->type == WIRE_ANSWER ||
			 req->type == WIRE_CLOSE_PROMPT)
			rc = decode_prompt_field(req, k, v, &seen);
		else if (wire__key_is(k, "kind") && (req->type == WIRE_REACT || req->type == WIRE_SIGNAL))
			rc = wire__get_str(v, &req->text), seen |= F_KIND;
		else if (wire__key_is(k, "segments") && req->type == WIRE_AGENDA)
			rc = decode_segments(req, v), seen |= F_OPTIONS;
		else if (wire__key_is(k, "segment") && req->type == WIRE_AGENDA_GO)
			rc = get_small(v, 0, ROOM_AGENDA_MAX, &req->arg), seen |= F_POS;
		else if (wire__key_is(k, "action"))
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

