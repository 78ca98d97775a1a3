/*
 * hub.h — which rooms this instance holds, their replicas, and fan-out.
 *
 * The hub routes a connection's requests to its room's log and the log's
 * records to the room's replica (room_apply), then fans the resulting events
 * out: each event is encoded once into a frame and handed by reference to
 * every local connection of the room. It answers requests when their record
 * comes back from the log (the only order there is), keeps a ring of recent
 * event frames per room for resume, and runs the grace timers that turn a
 * dropped connection into a `leave` record.
 *
 * It uses room/, log/, wire/ and util/; it never touches lws. The net layer
 * embeds a struct hub_conn in each WebSocket connection and gives the hub two
 * operations on it (struct hub_io): queue a frame, and close.
 */
#ifndef PL_HUB_H
#define PL_HUB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "log/log.h"
#include "util/frame.h"
#include "wire/wire.h"

struct hub;
struct hub_room;

struct hub_conn {
	struct hub_room *room;          /* joined or joining */
	uint64_t member;                /* 0 until joined */
	struct parked *parked;          /* join/resume waiting for its room to load */
	uint32_t slot;                  /* index in the room's conns */
	bool busy;                      /* join/resume in flight */
};

struct hub_io {
	/* Queue a frame on a connection; the callee takes its own reference. */
	void (*send)(struct hub_conn *hc, struct frame *f);
	/* Close a connection after what is queued, with a close code and a
	 * reason that lives as long as the program (a literal). */
	void (*close)(struct hub_conn *hc, int code, const char *reason);
};

struct hub_config {
	unsigned grace_ms;        /* after a drop, before `leave` */
	unsigned ring;            /* event frames kept per room for resume */
	size_t replay_max_bytes;  /* a longer replay is sent as a snapshot instead */
	unsigned idle_ms;         /* a room nobody here uses leaves memory (and, on
	                           * Redis, its subscription) after this long */
	const uint8_t *secret;    /* server secret for tokens */
	size_t secret_len;
	uint64_t instance;        /* this process's id, random per start */
	uint64_t retention_ms;    /* how long an ended session's log is kept (Redis) */
	/* A session just ended (its `end` record was applied live). */
	void (*ended)(void *arg, const char *room);
	void *ended_arg;
};

struct uv_loop_s;
struct hub *hub_new(struct uv_loop_s *loop, struct log *log, const struct hub_io *io,
		    const struct hub_config *cfg);
/* Stops timers and frees every room; connections must be gone. */
void hub_free(struct hub *h);

/* Handles one decoded request from a connection. */
void hub_request(struct hub *h, struct hub_conn *hc, const struct wire_req *req);
/* Once per loop iteration, after the log has applied its records and before
 * the net layer writes: answers the joins applied in this iteration, all
 * with one snapshot of the room as it now stands. */
void hub_flush(struct hub *h);
/* The connection is gone (not a `leave`): start its grace period. With
 * `shutdown`, the server is stopping: no record is appended. */
void hub_conn_closed(struct hub *h, struct hub_conn *hc, bool shutdown);


struct hub_summary {
	char title[4 * 120 + 1];
	int64_t created;
	size_t members, online;
	bool ended;
};
/* HTTP: a room's public summary, once hub_when_ready said it is ready; 0,
 * PL_ENOTFOUND or PL_EUNAVAIL (still loading). */
int hub_room_summary(struct hub *h, const char *id, struct hub_summary *out);

/* Rooms load asynchronously (from Redis, a round trip or more away): cb
 * runs once the room is ready (status 0) or cannot be had (PL_ENOTFOUND,
 * PL_EUNAVAIL, ...), maybe before hub_when_ready returns, which then returns
 * NULL. Otherwise it returns a handle that hub_wait_cancel cancels (for a
 * requester that went away). */
typedef void (*hub_ready_cb)(void *ctx, int status);
struct hub_wait;
struct hub_wait *hub_when_ready(struct hub *h, const char *id, hub_ready_cb cb, void *ctx);
void hub_wait_cancel(struct hub_wait *w);

/* HTTP: creates a room; fills id (17 bytes), key (23 bytes) and title. cb
 * runs when its create record has been applied (or failed); cancel with
 * hub_create_cancel(*handle) if the requester goes away first. */
typedef void (*hub_created_cb)(void *ctx, int err);
struct hub_create;
int hub_create_room(struct hub *h, const char *title, size_t title_len, char *id, char *key,
		    struct hub_summary *out, hub_created_cb cb, void *ctx,
		    struct hub_create **handle);
void hub_create_cancel(struct hub_create *c);

size_t hub_rooms(const struct hub *h);

/* Counters for /metrics. */
struct hub_stats {
	uint64_t records;       /* records applied */
	uint64_t rejected;      /* records the room refused */
	uint64_t events;        /* event frames encoded (once per broadcast) */
	uint64_t deliveries;    /* event frames queued on connections */
	uint64_t appends;       /* records appended by this instance */
	uint64_t append_errors;
};
const struct hub_stats *hub_stats(const struct hub *h);

/* Replays: each stored record of a room, decoded, in seq order. */
typedef void (*hub_replay_cb)(void *ctx, uint64_t seq, int64_t ts, const struct room_cmd *c);
/* Without a hub (the export command): up to seq `upto` (0: all). */
int hub_log_replay(struct log *log, const char *id, uint64_t upto, hub_replay_cb cb, void *ctx);
/* For a facilitator: checks the key against the room's, then replays the
 * room as of the seq its replica has reached (returned in *as_of), so the
 * result is consistent with one point of the log. PL_EFORBIDDEN when the
 * key is wrong or there is no such room (no hint which). */
int hub_replay(struct hub *h, const char *id, const char *key, size_t keylen, hub_replay_cb cb,
	       void *ctx, uint64_t *as_of);

#endif
