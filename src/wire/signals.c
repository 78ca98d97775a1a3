/*
 * signals.c (wire) — reactions and quiet signals: counts by name, no names
 * of people.
 */
#include "wire/wire_int.h"

static void pack_counts(msgpack_packer *pk, const char *const *names, const uint32_t *v,
			unsigned n, bool zeros)
{
	unsigned k = 0;
	for (unsigned i = 0; i < n; i++)
		k += zeros || v[i];
	msgpack_pack_map(pk, k);
	for (unsigned i = 0; i < n; i++) {
		if (!zeros && !v[i])
			continue;
		pack_str(pk, names[i]);
		msgpack_pack_uint32(pk, v[i]);
	}
}

struct frame *wire_reactions(const char *const *names, const uint32_t *delta,
			     const uint32_t *totals, unsigned n)
{
	struct enc e;
	wire__enc_init(&e, FRAME_HEADROOM);
	msgpack_pack_map(&e.pk, 3);
	pack_key(&e.pk, "t");
	pack_str(&e.pk, "reactions");
	pack_key(&e.pk, "delta");
	pack_counts(&e.pk, names, delta, n, false);
	pack_key(&e.pk, "totals");
	pack_counts(&e.pk, names, totals, n, false);
	return wire__enc_frame(&e, 0);
}

struct frame *wire_signals(const char *const *names, const uint32_t *counts, unsigned n,
			   uint32_t window_s)
{
	struct enc e;
	wire__enc_init(&e, FRAME_HEADROOM);
	msgpack_pack_map(&e.pk, 3);
	pack_key(&e.pk, "t");
	pack_str(&e.pk, "signals");
	pack_key(&e.pk, "window");
	msgpack_pack_uint32(&e.pk, window_s);
	pack_key(&e.pk, "counts");
	pack_counts(&e.pk, names, counts, n, true);
	return wire__enc_frame(&e, 0);
}
