/*
 * moderation.c (wire) — moderation actions and the moderation log.
 *
 * A `mod` event is one line of the log plus what a client needs to apply
 * it: the member as they are now (mute, promote, demote), the message seq
 * (delete), the chat mode. Lines carry the names of actor and target, since
 * a removed member is no longer in the member list.
 */
#include "wire/wire_int.h"

static const char *const actions[ROOM__MOD_MAX] = {
	[ROOM_MOD_DELETE] = "delete",       [ROOM_MOD_MUTE] = "mute",
	[ROOM_MOD_UNMUTE] = "unmute",       [ROOM_MOD_REMOVE] = "remove",
	[ROOM_MOD_BAN] = "ban",             [ROOM_MOD_LOCK] = "lock",
	[ROOM_MOD_UNLOCK] = "unlock",       [ROOM_MOD_CHAT_MODE] = "chat_mode",
	[ROOM_MOD_PROMOTE] = "promote",     [ROOM_MOD_DEMOTE] = "demote",
	[ROOM_MOD_END] = "end",
};

static const char *const chat_modes[] = {"open", "slow", "facilitators"};

int wire_chat_mode(const struct wire_str *s)
{
	return wire_enum(chat_modes, 3, s);
}

const char *wire_chat_mode_name(uint8_t mode)
{
	return chat_modes[mode <= ROOM_CHAT_FAC_ONLY ? mode : 0];
}

static bool targets_member(uint8_t action)
{
	return action != ROOM_MOD_DELETE && action != ROOM_MOD_LOCK &&
	       action != ROOM_MOD_UNLOCK && action != ROOM_MOD_CHAT_MODE && action != ROOM_MOD_END;
}

static void pack_name(msgpack_packer *pk, const struct room *r, uint64_t id)
{
	const struct room_member *m = room_member(r, id);
	pack_str(pk, m ? m->name : "");
}

/* The log line: {seq, ts, action, actor, actor_name, [target, target_name],
 * [mode, seconds]}. */
void wire__pack_mod(msgpack_packer *pk, const struct room *r, const struct room_mod *m)
{
	bool member = targets_member(m->action), target = member || m->action == ROOM_MOD_DELETE;
	bool mode = m->action == ROOM_MOD_CHAT_MODE;
	msgpack_pack_map(pk, (size_t)(5 + target + member + 2 * mode));
	pack_key(pk, "seq");
	msgpack_pack_uint64(pk, m->seq);
	pack_key(pk, "ts");
	msgpack_pack_int64(pk, m->ts);
	pack_key(pk, "action");
	pack_str(pk, actions[m->action]);
	pack_key(pk, "actor");
	msgpack_pack_uint64(pk, m->actor);
	pack_key(pk, "actor_name");
	pack_name(pk, r, m->actor);
	if (target) {
		pack_key(pk, "target");
		msgpack_pack_uint64(pk, m->target);
	}
	if (member) {
		pack_key(pk, "target_name");
		pack_name(pk, r, m->target);
	}
	if (mode) {
		pack_key(pk, "mode");
		pack_str(pk, wire_chat_mode_name((uint8_t)m->arg));
		pack_key(pk, "seconds");
		msgpack_pack_uint32(pk, m->arg2);
	}
}

bool wire__pack_mod_event(msgpack_packer *pk, const struct room *r, uint64_t seq, int64_t ts,
			  const struct room_ev *ev)
{
	if (ev->kind != ROOM_EV_MOD)
		return false;
	uint8_t a = ev->mod->action;
	bool member = ev->member && (a == ROOM_MOD_MUTE || a == ROOM_MOD_UNMUTE ||
				     a == ROOM_MOD_PROMOTE || a == ROOM_MOD_DEMOTE);
	wire__pack_event_head(pk, "mod", seq, ts, 1 + member);
	pack_key(pk, "entry");
	wire__pack_mod(pk, r, ev->mod);
	if (member) {
		pack_key(pk, "member");
		wire__pack_member(pk, ev->member);
	}
	return true;
}

void wire__pack_mod_snapshot(msgpack_packer *pk, const struct room *r)
{
	size_t from = r->nmod > WIRE_MODLOG_MAX ? r->nmod - WIRE_MODLOG_MAX : 0;
	pack_key(pk, "modlog");
	msgpack_pack_array(pk, r->nmod - from);
	for (size_t i = from; i < r->nmod; i++)
		wire__pack_mod(pk, r, &r->modlog[i]);
}
