/*
 * buf.h — a growable byte buffer.
 *
 * struct buf is storage the caller owns (buf_init/buf_deinit). Appends grow it
 * geometrically; on allocation failure they return PL_ENOMEM and leave the
 * contents as they were. `head` bytes of headroom can be reserved in front of
 * the data (buf_init_head) so a header can later be written in place without a
 * copy: that is how frames get their WebSocket header.
 */
#ifndef PL_BUF_H
#define PL_BUF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct buf {
	uint8_t *mem;  /* allocation */
	size_t head;   /* headroom in front of data */
	size_t len;    /* data bytes, at mem + head */
	size_t cap;    /* bytes allocated */
};

void buf_init(struct buf *b);
void buf_init_head(struct buf *b, size_t head);
/* As buf_init_head, and the first allocation, of cap bytes in all, made now:
 * a small message then needs no growing and no trimming. If it fails, the
 * buffer starts empty and the first append tries again. */
void buf_init_cap(struct buf *b, size_t head, size_t cap);
void buf_deinit(struct buf *b);
static inline uint8_t *buf_data(const struct buf *b) { return b->mem ? b->mem + b->head : NULL; }
int buf_reserve(struct buf *b, size_t more);
int buf__append_grow(struct buf *b, const void *p, size_t n);
/* Appends n bytes: 0, or PL_ENOMEM with b unchanged. Inline while they fit:
 * the msgpack encoder appends a few bytes at a time. */
static inline int buf_append(struct buf *b, const void *p, size_t n)
{
	if (n && b->head + b->len + n <= b->cap) {
		memcpy(b->mem + b->head + b->len, p, n);
		b->len += n;
		return 0;
	}
	return buf__append_grow(b, p, n);
}
static inline void buf_reset(struct buf *b) { b->len = 0; }
/* Appends formatted text (no NUL). 0, PL_ENOMEM or PL_EINTERNAL. */
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Makes room for one more element in a growable array *pp of *cap elements
 * of `size` bytes, `len` in use: grows it by half (from `first`) when full. 0 or
 * PL_ENOMEM (the array is then unchanged). */
int util_array_grow_slow(void *pp, size_t *cap, size_t size, size_t first); /* when full */
static inline int util_array_grow(void *pp, size_t *cap, size_t len, size_t size, size_t first)
{
	return len < *cap ? 0 : util_array_grow_slow(pp, cap, size, first);
}
/* Drops the first n data bytes. */
void buf_consume(struct buf *b, size_t n);

#endif
