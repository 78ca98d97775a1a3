#include "util/err.h"

static const struct {
	const char *code;
	const char *msg;
} errs[] = {
	[0] = {"ok", "ok"},
	[1] = {"bad_request", "the request is malformed"},
	[2] = {"unknown_type", "unknown request type"},
	[3] = {"invalid_utf8", "a string is not valid UTF-8"},
	[4] = {"too_long", "a string is over its length limit"},
	[5] = {"invalid_name", "a name needs 1 to 40 visible characters"},
	[6] = {"empty", "the message is empty"},
	[7] = {"not_found", "no such room"},
	[8] = {"not_joined", "join a room first"},
	[9] = {"already_joined", "this connection has already joined a room"},
	[10] = {"invalid_token", "this member cannot be resumed; join again"},
	[11] = {"forbidden", "not allowed"},
	[12] = {"rate_limited", "too many requests; slow down"},
	[13] = {"unavailable", "temporarily unavailable; retry"},
	[14] = {"internal", "internal error"},
	[15] = {"internal", "out of memory"},
	[16] = {"internal", "I/O error"},
	[17] = {"internal", "corrupt data"},
	[18] = {"muted", "a facilitator has muted your chat"},
	[19] = {"room_locked", "the room is locked: no new joins"},
	[20] = {"slow_mode", "slow mode: wait a little before your next message"},
	[21] = {"session_ended", "the session has ended; the room is read-only"},
	[22] = {"banned", "you were removed from this session"},
};

static int idx(int err)
{
	if (err > 0 || err <= PL__ENUM_MIN)
		return 14;
	return -err;
}

const char *pl_err_code(int err)
{
	return errs[idx(err)].code;
}

const char *pl_err_msg(int err)
{
	return errs[idx(err)].msg;
}
