/*
 * log.h — the ordered per-room log, one interface over two backends.
 *
 * Every change to a room is appended to its log as a record (msgpack bytes,
 * see proto/PROTOCOL.md "Log records"); the log gives it the next seq and a
 * timestamp and delivers it, in seq order, to whoever holds the room open.
 * The hub applies delivered records to its replica; it never applies a record
 * it appended itself before the log delivers it, so every replica, on every
 * instance, sees one order.
 *
 * Backends: filelog (embedded default, an in-process sequencer over
 * append-only files) and, later, redislog. They share this vtable, like
 * hiredis's adapters share one core.
 *
 * Life of a room handle:
 *   lr = log_room_new(log, id, &cbs, ctx);   nothing happens yet
 *   log_room_load(lr, flags);                replays existing records through
 *                                            cbs.record, then calls cbs.ready
 *                                            (maybe before returning)
 *   log_room_append(lr, data, len);          delivered later through
 *                                            cbs.record, never re-entrantly
 *   log_room_free(lr);                       stops deliveries
 * Records are delivered only after they are durable enough for the backend's
 * promise (filelog: write() returned).
 */
#ifndef PL_LOG_H
#define PL_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct log;
struct log_room;

struct log_rec {
	uint64_t seq;
	int64_t ts;            /* ms since the epoch, taken by the log */
	const uint8_t *data;   /* msgpack record; borrowed for the callback */
	size_t len;
};

struct log_room_cbs {
	void (*record)(void *ctx, const struct log_rec *rec);
	/* 0: loaded and live; PL_ENOTFOUND: no such room; other: failed. */
	void (*ready)(void *ctx, int status);
	/* An appended record could not be stored (it will never be delivered):
	 * the hub answers its origin with a retryable error. */
	void (*failed)(void *ctx, const uint8_t *data, size_t len, int err);
};

enum log_load_flags {
	LOG_CREATE = 1, /* the room must not exist yet; make it */
};

struct log_ops {
	struct log_room *(*room_new)(struct log *log, const char *id,
				     const struct log_room_cbs *cbs, void *ctx);
	int (*room_load)(struct log_room *lr, int flags);
	int (*room_append)(struct log_room *lr, const uint8_t *data, size_t len);
	void (*room_free)(struct log_room *lr);
	/* Called once per loop iteration, before the net layer flushes: stores
	 * what was appended since and delivers it. */
	void (*flush)(struct log *log);
	/* Replays a room's stored records from seq 1 up to `upto` (0: all),
	 * read-only, calling cb for each, before returning (exports). */
	int (*read)(struct log *log, const char *id, uint64_t upto,
		    void (*cb)(void *ctx, const struct log_rec *rec), void *ctx);
	/* Instances: this one says it is alive (a key with a TTL, in Redis);
	 * `alive` asks which of ids[] are, and calls back with one bool each.
	 * The embedded log knows one instance only: every other id is gone. */
	void (*heartbeat)(struct log *log, uint64_t self, unsigned ttl_ms);
	void (*alive)(struct log *log, const uint64_t *ids, size_t n,
		      void (*cb)(void *ctx, const bool *alive), void *ctx);
	/* A room's session ended: its records may go after ttl_ms (Redis:
	 * PEXPIRE on its keys; the embedded log keeps its files). */
	void (*room_retire)(struct log_room *lr, uint64_t ttl_ms);
	/* Makes everything appended so far durable (at shutdown). */
	int (*sync)(struct log *log);
	void (*free)(struct log *log);
};

struct log {
	const struct log_ops *ops;
};

static inline struct log_room *log_room_new(struct log *log, const char *id,
					    const struct log_room_cbs *cbs, void *ctx)
{
	return log->ops->room_new(log, id, cbs, ctx);
}
static inline int log_room_load(struct log_room *lr, int flags)
{
	return (*(struct log **)lr)->ops->room_load(lr, flags);
}
static inline int log_room_append(struct log_room *lr, const uint8_t *data, size_t len)
{
	return (*(struct log **)lr)->ops->room_append(lr, data, len);
}
static inline void log_room_free(struct log_room *lr)
{
	if (lr)
		(*(struct log **)lr)->ops->room_free(lr);
}
static inline int log_sync(struct log *log) { return log->ops->sync(log); }
static inline void log_room_retire(struct log_room *lr, uint64_t ttl_ms)
{
	(*(struct log **)lr)->ops->room_retire(lr, ttl_ms);
}
static inline void log_heartbeat(struct log *log, uint64_t self, unsigned ttl_ms)
{
	log->ops->heartbeat(log, self, ttl_ms);
}
static inline void log_alive(struct log *log, const uint64_t *ids, size_t n,
			     void (*cb)(void *ctx, const bool *alive), void *ctx)
{
	log->ops->alive(log, ids, n, cb, ctx);
}
static inline void log_flush(struct log *log) { log->ops->flush(log); }
static inline int log_read(struct log *log, const char *id, uint64_t upto,
			   void (*cb)(void *ctx, const struct log_rec *rec), void *ctx)
{
	return log->ops->read(log, id, upto, cb, ctx);
}
static inline void log_free(struct log *log) { if (log) log->ops->free(log); }

/* Every backend's struct log_room starts with its struct log pointer. */

struct uv_loop_s;
/* The embedded backend: rooms are files under dir/rooms/; fsync at most every
 * fsync_ms (0: after every batch). */
struct log *log_filelog_new(struct uv_loop_s *loop, const char *dir, unsigned fsync_ms);
/* The Redis backend: url is redis://[:password@]host[:port][/db], or
 * unix://[:password@]/path/to/redis.sock[?db=N] for a Redis on the same
 * machine. Connects in the background (and again after any loss); NULL only
 * for a bad URL. */
struct log *log_redislog_new(struct uv_loop_s *loop, const char *url);
bool log_redis_up(const struct log *log);

struct log_redis_addr {
	char host[256]; /* or the path of a Unix socket, when port is 0 */
	int port;
	char pass[256];
	int db;
	char name[272]; /* host:port or the path, for messages */
};
int log_redis_parse_url(const char *url, struct log_redis_addr *a);
/* A blocking connection to a, authenticated and on its db, or NULL (logged). */
struct redisContext *log_redis_connect(const struct log_redis_addr *a, int timeout_s);

#endif
