/*
 * frame.h — refcounted, pre-framed WebSocket messages.
 *
 * A frame holds one complete server-to-client WebSocket binary frame: header
 * and payload, ready for the socket. Server frames are unmasked, so the same
 * bytes serve every recipient: a broadcast event is encoded once into a frame
 * and each recipient's outbound queue holds a reference (frame_ref/unref),
 * never a copy. `seq` is the room log position of an event (0 for replies).
 *
 * frame_from_buf takes a buffer whose data is a msgpack payload and that was
 * created with FRAME_HEADROOM bytes of headroom; it writes the header in
 * place in front of the payload, puts the frame's struct at the start of the
 * same memory (one allocation per frame) and takes ownership of it.
 */
#ifndef PL_FRAME_H
#define PL_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

/* The frame's own struct (24 bytes: it opens the allocation of its bytes),
 * 16 bytes the net layer may use in front of the data (LWS_PRE), and 10 of
 * WebSocket header at most. */
#define FRAME_HEADROOM 56

struct frame {
	uint32_t refs;
	uint32_t len;         /* header + payload */
	uint64_t seq;
	const uint8_t *data;  /* inside the same allocation, after the struct */
};

/* Returns a frame with refs = 1, or NULL (b is then left to the caller). */
struct frame *frame_from_buf(struct buf *b, uint64_t seq);
static inline struct frame *frame_ref(struct frame *f) { f->refs++; return f; }
void frame_unref(struct frame *f);
/* The msgpack payload inside a frame (skips the WebSocket header). */
const uint8_t *frame_payload(const struct frame *f, size_t *len);

#endif
