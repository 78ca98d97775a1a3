/*
 * record.c (wire) — the log's records: what each kind of change stores.
 *
 * A record is a msgpack map written as a map32 whose count is patched at the
 * end, so each kind lists only the keys it has; proto/PROTOCOL.md "Log
 * records" lists them. Decoding is strict: a record that cannot be read is
 * corrupt, not a request to refuse.
 */
#include <string.h>

#include "util/err.h"
#include "wire/wire_int.h"

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
	wire__pack_strn(rkey(r, k), p, n);
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
	msgpack_packer_init(&r.e.pk, &r.e, wire__enc_write);
	size_t at = r.e.b.len;
	static const uint8_t map32[5] = {0xdf, 0, 0, 0, 0};
	wire__enc_write(&r.e, (const char *)map32, sizeof(map32));
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
			wire__pack_strn(&r.e.pk, c->opts[i].p ? c->opts[i].p : "", c->opts[i].n);
		break;
	case ROOM_AGENDA_SET:
		msgpack_pack_array(rkey(&r, "op"), c->nopts);
		for (unsigned i = 0; i < c->nopts; i++)
			wire__pack_strn(&r.e.pk, c->opts[i].p ? c->opts[i].p : "", c->opts[i].n);
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
	int rc = wire__unpack_map(u, p, n, &m);
	if (rc)
		return rc == PL_ECORRUPT ? rc : PL_ECORRUPT;
	for (uint32_t i = 0; i < m->size; i++) {
		const msgpack_object *k = &m->ptr[i].key, *v = &m->ptr[i].val;
		struct wire_str s;
		uint64_t u64;
		if (wire__key_is(k, "k")) {
			if (v->type != MSGPACK_OBJECT_STR)
				return PL_ECORRUPT;
			for (int j = ROOM_CREATE; !c->kind && j < ROOM__CMD_MAX; j++)
				if (wire__key_is(v, kinds[j]))
					c->kind = (enum room_cmd_kind)j;
		} else if (wire__key_is(k, "o")) {
			if (wire__get_uint(v, &c->origin))
				return PL_ECORRUPT;
		} else if (wire__key_is(k, "id")) {
			if (wire__get_str(v, &s))
				return PL_ECORRUPT;
			c->id = s.p, c->id_len = s.n;
		} else if (wire__key_is(k, "title") || wire__key_is(k, "name") || wire__key_is(k, "text")) {
			if (wire__get_str(v, &s))
				return PL_ECORRUPT;
			c->text = s.p, c->text_len = s.n;
		} else if (wire__key_is(k, "kh")) {
			if (v->type != MSGPACK_OBJECT_BIN || v->via.bin.size != 32)
				return PL_ECORRUPT;
			memcpy(c->kh, v->via.bin.ptr, 32);
			c->has_kh = true;
		} else if (wire__key_is(k, "tk")) {
			if (v->type != MSGPACK_OBJECT_BIN || v->via.bin.size != 16)
				return PL_ECORRUPT;
			memcpy(c->token, v->via.bin.ptr, 16);
			c->has_token = true;
		} else if (wire__key_is(k, "pk") || wire__key_is(k, "rv") || wire__key_is(k, "n")) {
			if (wire__get_uint(v, &u64) || u64 > 255)
				return PL_ECORRUPT;
			*(wire__key_is(k, "pk") ? &c->pkind : wire__key_is(k, "rv") ? &c->reveal : &c->nopts) =
				(uint8_t)u64;
		} else if (wire__key_is(k, "an")) {
			if (v->type != MSGPACK_OBJECT_BOOLEAN)
				return PL_ECORRUPT;
			c->anonymous = v->via.boolean;
		} else if (wire__key_is(k, "q")) {
			if (wire__get_str(v, &s))
				return PL_ECORRUPT;
			c->text = s.p, c->text_len = s.n;
		} else if (wire__key_is(k, "op")) {
			if (v->type != MSGPACK_OBJECT_ARRAY || v->via.array.size > ROOM_PROMPT_OPTS)
				return PL_ECORRUPT;
			for (uint32_t j = 0; j < v->via.array.size; j++) {
				if (wire__get_str(&v->via.array.ptr[j], &s))
					return PL_ECORRUPT;
				c->opts[j] = (struct room_text){s.p, s.n};
			}
			if (c->kind == ROOM_AGENDA_SET) /* a prompt has its count in "n" */
				c->nopts = (uint8_t)v->via.array.size;
		} else if (wire__key_is(k, "nm")) {
			if (v->type != MSGPACK_OBJECT_ARRAY || v->via.array.size > ROOM_AGENDA_MAX)
				return PL_ECORRUPT;
			for (uint32_t j = 0; j < v->via.array.size; j++) {
				if (wire__get_uint(&v->via.array.ptr[j], &u64) || u64 > UINT32_MAX)
					return PL_ECORRUPT;
				c->nums[j] = (uint32_t)u64;
			}
		} else if (wire__key_is(k, "dv")) {
			if (v->type != MSGPACK_OBJECT_BIN || v->via.bin.size != 16)
				return PL_ECORRUPT;
			memcpy(c->device, v->via.bin.ptr, 16);
			c->has_device = true;
		} else if (wire__key_is(k, "member")) {
			if (wire__get_uint(v, &c->member))
				return PL_ECORRUPT;
		} else if (wire__key_is(k, "epoch")) {
			if (wire__get_uint(v, &u64) || u64 > UINT32_MAX)
				return PL_ECORRUPT;
			c->epoch = (uint32_t)u64;
			c->has_epoch = true;
		} else if (wire__key_is(k, "in")) {
			if (wire__get_uint(v, &c->instance))
				return PL_ECORRUPT;
		} else if (wire__key_is(k, "tg")) {
			if (wire__get_uint(v, &c->target))
				return PL_ECORRUPT;
		} else if (wire__key_is(k, "a") || wire__key_is(k, "a2")) {
			if (wire__get_uint(v, &u64) || u64 > UINT32_MAX)
				return PL_ECORRUPT;
			*(wire__key_is(k, "a") ? &c->arg : &c->arg2) = (uint32_t)u64;
		} else if (wire__key_is(k, "reason")) {
			if (v->type != MSGPACK_OBJECT_STR)
				return PL_ECORRUPT;
			c->reason = wire__key_is(v, "timeout") ? ROOM_TIMEOUT : ROOM_LEFT;
		}
	}
	return c->kind ? 0 : PL_ECORRUPT;
}

