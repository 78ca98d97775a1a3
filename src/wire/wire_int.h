/*
 * wire_int.h — encoding helpers the files of wire/ share.
 */
#ifndef PL_WIRE_INT_H
#define PL_WIRE_INT_H

#include "wire/wire.h"

struct enc {
	struct buf b;
	msgpack_packer pk;
	bool oom;
};

void wire__enc_init(struct enc *e, size_t head);
/* The same, with the buffer's first cap bytes allocated now (buf_init_cap). */
void wire__enc_init_cap(struct enc *e, size_t head, size_t cap);
/* The packers' writer: an append that marks the encoder on failure. */
static inline int wire__enc_write(void *data, const char *p, size_t n)
{
	struct enc *e = data;
	if (buf_append(&e->b, p, n)) {
		e->oom = true;
		return -1;
	}
	return 0;
}
/* A string under 32 bytes: header and body in one append. */
static inline void wire__pack_fixstr(msgpack_packer *pk, const char *s, size_t n)
{
	char fix[32];
	fix[0] = (char)(0xa0 | n); /* fixstr */
	if (n) /* s may be NULL then: an absent text */
		memcpy(fix + 1, s, n);
	wire__enc_write(pk->data, fix, n + 1);
}
void wire__pack_strn(msgpack_packer *pk, const char *s, size_t n);
/* Decoding helpers (wire/decode.c), shared with wire/record.c. */
/* True if k is the string s. Inline, so a literal's length is known when
 * compiling; the first byte settles most misses in a table's loop. */
static inline bool wire__key_is(const msgpack_object *k, const char *s)
{
	if (k->type != MSGPACK_OBJECT_STR || !k->via.str.size || k->via.str.ptr[0] != s[0])
		return false;
	size_t n = strlen(s);
	return k->via.str.size == n && !memcmp(k->via.str.ptr, s, n);
}
int wire__get_str(const msgpack_object *v, struct wire_str *out);
int wire__get_uint(const msgpack_object *v, uint64_t *out);
/* One msgpack map, skimmed first; PL_ECORRUPT if the bytes are not one value. */
int wire__unpack_map(msgpack_unpacked *u, const uint8_t *p, size_t n,
		     const msgpack_object_map **m);
struct frame *wire__enc_frame(struct enc *e, uint64_t seq);
/* Inline, so a literal's length is known when compiling. */
static inline void wire__pack_str(msgpack_packer *pk, const char *s)
{
	size_t n = strlen(s);
	if (__builtin_constant_p(n) && n < 32)
		wire__pack_fixstr(pk, s, n); /* a literal (every key): inline, its length known */
	else
		wire__pack_strn(pk, s, n);
}
void wire__pack_bool(msgpack_packer *pk, bool v);
void wire__pack_member(msgpack_packer *pk, const struct room_member *m);
/* {t, seq, ts, ...n more} */
void wire__pack_event_head(msgpack_packer *pk, const char *t, uint64_t seq, int64_t ts, int more);
/* Facilitation events (wire/floor.c); false if ev is not one of them. */
bool wire__pack_floor_event(msgpack_packer *pk, const struct room *r, uint64_t seq, int64_t ts,
			    const struct room_ev *ev);
/* Snapshot fields for hands and floor: policy, queue, floor, timer. */
#define WIRE_FLOOR_SNAPSHOT_KEYS 4
void wire__pack_floor_snapshot(msgpack_packer *pk, const struct room *r);

/* Moderation (wire/moderation.c). */
#define WIRE_MODLOG_MAX 100 /* log lines in a snapshot */
bool wire__pack_mod_event(msgpack_packer *pk, const struct room *r, uint64_t seq, int64_t ts,
			  const struct room_ev *ev);
void wire__pack_mod(msgpack_packer *pk, const struct room *r, const struct room_mod *m);
void wire__pack_mod_snapshot(msgpack_packer *pk, const struct room *r);
const char *wire_chat_mode_name(uint8_t mode);
/* Index of s in names, or -1. */
int wire_enum(const char *const *names, size_t n, const struct wire_str *s);

/* Prompts (wire/prompts.c). */
void wire__pack_prompt(msgpack_packer *pk, const struct room_prompt *p);
bool wire__pack_prompt_event(msgpack_packer *pk, const struct room *r, uint64_t seq, int64_t ts,
			     const struct room_ev *ev);
void wire__pack_prompts_snapshot(msgpack_packer *pk, const struct room *r);

/* Agenda (wire/agenda.c). */
void wire__pack_agenda(msgpack_packer *pk, const struct room *r);
bool wire__pack_agenda_event(msgpack_packer *pk, const struct room *r, uint64_t seq, int64_t ts,
			     const struct room_ev *ev);

#define pack_key wire__pack_str
#define pack_str wire__pack_str

#endif
