/*
 * wire.h — the potluck.v1 protocol and the log record format in msgpack.
 *
 * Decoding turns client bytes into a struct wire_req and checks types and
 * UTF-8 (lengths and meaning are the room's business); encoding turns replies
 * and room events into ready-to-send frames (util/frame.h), each encoded once
 * whatever the number of recipients. Records (what the log stores) have their
 * own encode/decode into struct room_cmd. proto/PROTOCOL.md is the spec.
 *
 * May use util/ and read room/ types; no transport, no loop, no clock.
 * Decoded views borrow from the msgpack_unpacked the caller passes in (one,
 * reused, per caller); they stay valid until its next use.
 */
#ifndef PL_WIRE_H
#define PL_WIRE_H

#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "room/room.h"
#include "util/buf.h"
#include "util/frame.h"

#define WIRE_MAX_MSG 16384

enum wire_req_type {
	WIRE_JOIN = 1,
	WIRE_RESUME,
	WIRE_CHAT,
	WIRE_LEAVE,
	WIRE_PING,
	WIRE_RAISE,        /* type */
	WIRE_LOWER,        /* [member] */
	WIRE_CLEAR_HANDS,
	WIRE_MOVE,         /* member, pos (1-based) */
	WIRE_POLICY,       /* policy */
	WIRE_GIVE,         /* [member] */
	WIRE_TAKE,
	WIRE_YIELD,
	WIRE_TIMER,        /* seconds, action */
	WIRE_DELETE,       /* seq */
	WIRE_MUTE,         /* member */
	WIRE_UNMUTE,       /* member */
	WIRE_REMOVE,       /* member, [ban] */
	WIRE_LOCK,
	WIRE_UNLOCK,
	WIRE_CHAT_MODE,    /* mode, [seconds] */
	WIRE_PROMOTE,      /* member */
	WIRE_DEMOTE,       /* member */
	WIRE_END,
	WIRE_PROMPT,       /* kind, question, ... */
	WIRE_CLOSE_PROMPT, /* prompt */
	WIRE_ANSWER,       /* prompt, choice | choices | value | text */
	WIRE_AGENDA,       /* segments */
	WIRE_AGENDA_GO,    /* segment */
	WIRE_REACT,        /* kind */
	WIRE_SIGNAL,       /* kind */
};

struct wire_str {
	const char *p;
	size_t n;
};

struct wire_req {
	enum wire_req_type type;
	uint32_t id;
	struct wire_str room, name, key, token, text, device;
	uint64_t member, seq;
	bool has_member;
	uint32_t arg, arg2;  /* decoded enums and numbers, per type */
	uint64_t prompt;
	struct wire_str opts[ROOM_PROMPT_OPTS]; /* options; rating: low, high */
	uint32_t nums[ROOM_AGENDA_MAX];         /* agenda: minutes */
	uint8_t nopts, scale, pkind, reveal;
	bool anonymous;
};

/* Decodes one client message. Returns 0; PL_ECORRUPT when the bytes are not
 * one msgpack value (a protocol violation); otherwise the error to reply
 * with. *has_id tells whether req->id was read, for the error reply. */
int wire_decode_req(msgpack_unpacked *u, const uint8_t *p, size_t n, struct wire_req *req,
		    bool *has_id);

/* Records. encode appends to b (callers reuse one buffer). */
int wire_record_encode(struct buf *b, const struct room_cmd *c);
int wire_record_decode(msgpack_unpacked *u, const uint8_t *p, size_t n, struct room_cmd *c);

/* Frames (NULL on out of memory). */
/* The events of one record (n >= 1) as one frame. */
struct frame *wire_event(const struct room *r, uint64_t seq, int64_t ts, const struct room_ev *ev,
			 unsigned n);
struct frame *wire_error(uint32_t id, bool has_id, int err, const char *msg);
struct frame *wire_ok(uint32_t id);
struct frame *wire_ok_seq(uint32_t id, uint64_t seq);
struct frame *wire_ok_ts(uint32_t id, int64_t ts);
/* The room's snapshot alone, encoded once and given to the replies below
 * (snap) by every join or resume answered at the same seq. */
int wire_snapshot(const struct room *r, struct buf *out);
/* join reply: member, token, role and the snapshot (snap, or encoded here if
 * NULL) */
struct frame *wire_ok_join(uint32_t id, const struct room *r, uint64_t member, const char *token,
			   const struct buf *snap);
/* resume reply: with the snapshot (snap, or encoded here if NULL) if snapshot
 * is true, else replay = n */
struct frame *wire_ok_resume(uint32_t id, const struct room *r, uint64_t member,
			     const char *token, const struct buf *snap, bool snapshot, uint32_t replay);

/* Reactions: counts since the last frame and for the session, by name. */
struct frame *wire_reactions(const char *const *names, const uint32_t *delta,
			     const uint32_t *totals, unsigned n);
/* Quiet signals: how many people sent each in the last window_s seconds. */
struct frame *wire_signals(const char *const *names, const uint32_t *counts, unsigned n,
			   uint32_t window_s);

const char *wire_role(uint8_t role);
/* Names on the wire of the room's enums; -1 if unknown. */
int wire_hand_type(const struct wire_str *s);
int wire_policy(const struct wire_str *s);
int wire_timer_action(const struct wire_str *s);
int wire_chat_mode(const struct wire_str *s);
int wire_prompt_kind(const struct wire_str *s);
int wire_reveal(const struct wire_str *s);

/* Results of a prompt for one audience: only the count of answers, the
 * results, or the results with who answered what (facilitators, named
 * prompts). `mine`: the recipient's own answer, for a frame to one person. */
enum wire_results_view { WIRE_RESULTS_COUNT, WIRE_RESULTS_SHOW, WIRE_RESULTS_DETAIL };
struct frame *wire_results(const struct room *r, const struct room_prompt *p,
			   enum wire_results_view view, const struct room_answer *mine);

#endif
