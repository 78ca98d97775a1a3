/*
 * export_int.h — the transcript as the renderers see it.
 */
#ifndef PL_EXPORT_INT_H
#define PL_EXPORT_INT_H

#include <stdarg.h>
#include <stdbool.h>

#include "export/export.h"

struct xchat {
	uint64_t seq;
	int64_t ts;
	uint64_t from;
	char *text;      /* NULL once deleted */
	bool deleted;
};

struct xturn {
	uint64_t member;
	int64_t start, ms;
};

/* What a live room forgets and a transcript keeps, per member (by index
 * into room.members, which only grows). */
struct xmember {
	uint32_t raises;
	uint32_t raises_by[3]; /* enum room_hand_type */
};

struct export {
	struct room room;
	uint64_t seq;
	int64_t first_ts, last_ts;
	struct xchat *chat;
	size_t nchat, chat_cap;
	struct xturn *turns;
	size_t nturns, turns_cap;
	uint64_t turn_member;  /* the open turn, if any */
	int64_t turn_since;
	struct xmember *xm;
	size_t nxm;
};

/* Shared by the renderers. */
struct contrib {
	const struct room_member *m;
	uint32_t turns, messages, raises, answered;
	int64_t speak_ms;
	double share;       /* of all speaking time, 0..1 */
};

/* One row per member, in join order; the caller frees. */
struct contrib *export__contribs(const struct export *x, size_t *n);
const char *export__name(const struct export *x, uint64_t member);
/* A text prompt's answers in alphabetical order, never in the order they
 * were given (which could be matched with faces); pointers into the answers.
 * NULL when out of memory; the caller frees the array. */
const char **export__sorted_texts(const struct room_prompt *p);
const char *export__role(uint8_t role);
/* UTC: "2026-11-23 12:05", "12:05:07" or "2026-11-23 12:05:07". */
enum export_time { EXPORT_DATE, EXPORT_TIME, EXPORT_DATE_TIME };
void export__time(int64_t ms, char *out, size_t n, enum export_time how);
/* A segment's actual running time, all its runs added. */
int64_t export__segment_ms(const struct export *x, unsigned i);
/* "1:05" (m:ss), or "1:02:05" */
void export__duration(int64_t ms, char *out, size_t n);
int64_t export__end(const struct export *x);
const char *export__kind(uint8_t kind);
const char *export__action(uint8_t action);

int export__json(const struct export *x, struct buf *out);
int export__md(const struct export *x, struct buf *out);
int export__html(const struct export *x, struct buf *out);
int export__csv(const struct export *x, enum export_table t, struct buf *out);

#endif
