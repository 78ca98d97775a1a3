#include "util/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"

void buf_init(struct buf *b)
{
	buf_init_head(b, 0);
}

void buf_init_head(struct buf *b, size_t head)
{
	b->mem = NULL;
	b->head = head;
	b->len = 0;
	b->cap = 0;
}

void buf_init_cap(struct buf *b, size_t head, size_t cap)
{
	buf_init_head(b, head);
	if (cap > head && (b->mem = malloc(cap)))
		b->cap = cap;
}

void buf_deinit(struct buf *b)
{
	free(b->mem);
	b->mem = NULL;
	b->len = b->cap = 0;
}

int buf_reserve(struct buf *b, size_t more)
{
	size_t need = b->head + b->len + more;
	if (need <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap *= 2;
	uint8_t *m = realloc(b->mem, cap);
	if (!m)
		return PL_ENOMEM;
	b->mem = m;
	b->cap = cap;
	return 0;
}

int buf__append_grow(struct buf *b, const void *p, size_t n)
{
	if (n == 0)
		return 0;
	int rc = buf_reserve(b, n);
	if (rc)
		return rc;
	memcpy(b->mem + b->head + b->len, p, n);
	b->len += n;
	return 0;
}

int util_array_grow_slow(void *pp, size_t *cap, size_t size, size_t first)
{
	void **p = pp;
	size_t ncap = *cap ? *cap + *cap / 2 + 1 : first; /* 1.5x: less slack kept */
	void *q = realloc(*p, ncap * size);
	if (!q)
		return PL_ENOMEM;
	*p = q;
	*cap = ncap;
	return 0;
}

void buf_consume(struct buf *b, size_t n)
{
	if (n >= b->len) {
		b->len = 0;
		return;
	}
	memmove(b->mem + b->head, b->mem + b->head + n, b->len - n);
	b->len -= n;
}

int buf_printf(struct buf *b, const char *fmt, ...)
{
	char small[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return PL_EINTERNAL;
	if ((size_t)n < sizeof(small))
		return buf_append(b, small, (size_t)n);
	if (buf_reserve(b, (size_t)n + 1))
		return PL_ENOMEM;
	va_start(ap, fmt);
	vsnprintf((char *)buf_data(b) + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}
