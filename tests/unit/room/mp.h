/*
 * mp.h — reading what wire/ encodes, for the room/ unit tests that check
 * what a state looks like on the wire (snapshots, results, records).
 *
 * A frame's payload is unpacked into a msgpack_unpacked the test owns
 * (msgpack_unpacked_init / _destroy); the helpers look keys up in maps.
 * Include after cmocka.h.
 */
#ifndef PL_TEST_ROOM_MP_H
#define PL_TEST_ROOM_MP_H

#include <msgpack.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/frame.h"
#include "wire/wire.h"

/* A decoded message and the bytes it points into (msgpack-c's objects
 * refer to the input for strings, so those must live as long). */
struct mp {
	msgpack_unpacked u;
	uint8_t *bytes;
};

static inline void mp_init(struct mp *m)
{
	msgpack_unpacked_init(&m->u);
	m->bytes = NULL;
}

static inline void mp_done(struct mp *m)
{
	msgpack_unpacked_destroy(&m->u);
	free(m->bytes);
	m->bytes = NULL;
}

/* Unpacks n bytes (copied); what an earlier call returned is gone. */
static inline const msgpack_object *mp_bytes(struct mp *m, const void *p, size_t n)
{
	size_t off = 0;
	free(m->bytes);
	m->bytes = malloc(n ? n : 1);
	memcpy(m->bytes, p, n);
	assert_int_equal(msgpack_unpack_next(&m->u, (const char *)m->bytes, n, &off),
			 MSGPACK_UNPACK_SUCCESS);
	assert_int_equal(off, n);
	return &m->u.data;
}

/* Unpacks a frame's payload; frees the frame. */
static inline const msgpack_object *mp_frame(struct mp *m, struct frame *f)
{
	assert_non_null(f);
	size_t n;
	const uint8_t *p = frame_payload(f, &n);
	const msgpack_object *o = mp_bytes(m, p, n);
	frame_unref(f);
	return o;
}

static inline bool mp_is(const msgpack_object *o, const char *s)
{
	size_t n = strlen(s);
	return o->type == MSGPACK_OBJECT_STR && o->via.str.size == n &&
	       !memcmp(o->via.str.ptr, s, n);
}

/* The value of key in map o, or NULL. */
static inline const msgpack_object *mp_get(const msgpack_object *o, const char *key)
{
	assert_int_equal(o->type, MSGPACK_OBJECT_MAP);
	for (uint32_t i = 0; i < o->via.map.size; i++)
		if (mp_is(&o->via.map.ptr[i].key, key))
			return &o->via.map.ptr[i].val;
	return NULL;
}

/* The value of key in map o, which must be there. */
static inline const msgpack_object *mp_must(const msgpack_object *o, const char *key)
{
	const msgpack_object *v = mp_get(o, key);
	if (!v)
		fail_msg("no key \"%s\" in the map", key);
	return v;
}

static inline uint64_t mp_u64(const msgpack_object *o)
{
	assert_int_equal(o->type, MSGPACK_OBJECT_POSITIVE_INTEGER);
	return o->via.u64;
}

static inline bool mp_bool(const msgpack_object *o)
{
	assert_int_equal(o->type, MSGPACK_OBJECT_BOOLEAN);
	return o->via.boolean;
}

/* A string value as a NUL-terminated copy in buf (cut to fit). */
static inline const char *mp_str(const msgpack_object *o, char *buf, size_t cap)
{
	assert_int_equal(o->type, MSGPACK_OBJECT_STR);
	size_t n = o->via.str.size < cap - 1 ? o->via.str.size : cap - 1;
	memcpy(buf, o->via.str.ptr, n);
	buf[n] = '\0';
	return buf;
}

/* True if needle occurs in the n bytes at p. */
static inline bool mp_contains(const void *p, size_t n, const void *needle, size_t nn)
{
	return nn <= n && memmem(p, n, needle, nn) != NULL;
}

/* A copy of a frame's payload (frees the frame). */
static inline uint8_t *mp_payload_copy(struct frame *f, size_t *n)
{
	assert_non_null(f);
	const uint8_t *p = frame_payload(f, n);
	uint8_t *c = malloc(*n ? *n : 1);
	memcpy(c, p, *n);
	frame_unref(f);
	return c;
}

/* The snapshot of a room as a join reply encodes it, with seq left out of
 * the comparison (a refused record still moves the room's seq on). */
static inline uint8_t *mp_snapshot(const struct room *r, size_t *n)
{
	struct room copy = *r; /* shallow, read only */
	copy.seq = 0;
	return mp_payload_copy(wire_ok_join(1, &copy, 0, "-", NULL), n);
}

#endif
