/*
 * export.h — session transcripts: JSON, Markdown, HTML and CSV.
 *
 * A transcript is built by replaying a room's log through the same state
 * machine the live room uses (room_apply): the caller decodes each record
 * (wire/) and feeds it in seq order; export/ keeps its own replica plus what
 * a transcript needs that a live room forgets (every chat message, every
 * floor turn, who raised hands). Then it renders. The same log always gives
 * the same bytes: times come from the records, never from a clock, so golden
 * files can pin every format.
 *
 * Anonymous prompts stay anonymous here as everywhere: the replica holds no
 * link between a person and such an answer, so no format can print one.
 *
 * May use room/ and util/ (and jansson for JSON). Ownership: export_new /
 * export_free; export_render appends to a buffer the caller owns.
 */
#ifndef PL_EXPORT_H
#define PL_EXPORT_H

#include <stdint.h>

#include "room/room.h"
#include "util/buf.h"

enum export_format { EXPORT_JSON, EXPORT_MD, EXPORT_HTML, EXPORT_CSV };
enum export_table { EXPORT_CONTRIBUTIONS, EXPORT_CHAT, EXPORT_TURNS, EXPORT_PROMPTS };

#define EXPORT_SCHEMA_VERSION 1

struct export;

struct export *export_new(void);
void export_free(struct export *x);
/* Feeds one record, in seq order. */
void export_feed(struct export *x, uint64_t seq, int64_t ts, const struct room_cmd *c);
/* The replica, e.g. to check a facilitator key against it. */
const struct room *export_room(const struct export *x);
/* Renders the transcript; table applies to CSV only. 0 or PL_ENOMEM. */
int export_render(const struct export *x, enum export_format f, enum export_table t,
		  struct buf *out);

/* "json", "md", "html", "csv" / "contributions", "chat", "turns", "prompts";
 * -1 if unknown. */
int export_format_parse(const char *s);
int export_table_parse(const char *s);
const char *export_content_type(enum export_format f);
const char *export_extension(enum export_format f);
const char *export_table_name(int t);

#endif
