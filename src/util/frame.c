#include "util/frame.h"

#include <stdlib.h>
#include <stddef.h>

_Static_assert(FRAME_HEADROOM >= sizeof(struct frame) + 16 + 10, "room for the struct, LWS_PRE and a header");

struct frame *frame_from_buf(struct buf *b, uint64_t seq)
{
	if (!b->mem || b->head < FRAME_HEADROOM || b->len > UINT32_MAX - 10)
		return NULL;
	if (b->cap - b->head - b->len > 64) {
		/* frames live on in the resume ring: drop the encoder's spare room */
		uint8_t *m = realloc(b->mem, b->head + b->len);
		if (m) {
			b->mem = m;
			b->cap = b->head + b->len;
		}
	}
	struct frame *f = (struct frame *)b->mem; /* malloc's alignment suits it */
	size_t n = b->len, hl = n < 126 ? 2 : n <= 0xffff ? 4 : 10;
	uint8_t *h = b->mem + b->head - hl;
	h[0] = 0x82; /* FIN, binary */
	if (hl == 2) {
		h[1] = (uint8_t)n;
	} else if (hl == 4) {
		h[1] = 126;
		h[2] = (uint8_t)(n >> 8);
		h[3] = (uint8_t)n;
	} else {
		h[1] = 127;
		for (int i = 0; i < 8; i++)
			h[2 + i] = (uint8_t)((uint64_t)n >> (56 - 8 * i));
	}
	f->refs = 1;
	f->seq = seq;
	f->data = h;
	f->len = (uint32_t)(n + hl);
	b->mem = NULL;
	b->len = b->cap = 0;
	return f;
}

void frame_unref(struct frame *f)
{
	if (f && --f->refs == 0)
		free(f); /* the struct opens its allocation */
}

const uint8_t *frame_payload(const struct frame *f, size_t *len)
{
	size_t hl = (f->data[1] & 0x7f) < 126 ? 2 : (f->data[1] & 0x7f) == 126 ? 4 : 10;
	*len = f->len - hl;
	return f->data + hl;
}
