/*
 * agenda.c (wire) — the agenda on the wire: one shape for the snapshot and
 * the `agenda` event, the whole plan each time (it is short).
 */
#include "wire/wire_int.h"

void wire__pack_agenda(msgpack_packer *pk, const struct room *r)
{
	const struct room_agenda *a = &r->agenda;
	msgpack_pack_map(pk, 3);
	pack_key(pk, "segments");
	msgpack_pack_array(pk, a->n);
	for (unsigned i = 0; i < a->n; i++) {
		msgpack_pack_map(pk, 4);
		pack_key(pk, "title");
		pack_str(pk, a->seg[i].title);
		pack_key(pk, "minutes");
		msgpack_pack_uint32(pk, a->seg[i].minutes);
		pack_key(pk, "started");
		msgpack_pack_int64(pk, a->seg[i].started);
		pack_key(pk, "ended");
		msgpack_pack_int64(pk, a->seg[i].ended);
	}
	pack_key(pk, "current");
	msgpack_pack_int(pk, a->current);
	pack_key(pk, "since");
	msgpack_pack_int64(pk, a->since);
}

bool wire__pack_agenda_event(msgpack_packer *pk, const struct room *r, uint64_t seq, int64_t ts,
			     const struct room_ev *ev)
{
	if (ev->kind != ROOM_EV_AGENDA)
		return false;
	wire__pack_event_head(pk, "agenda", seq, ts, 1);
	pack_key(pk, "agenda");
	wire__pack_agenda(pk, r);
	return true;
}
