/*
 * hub_int.h — what the files of hub/ share: rooms, pending requests, timers.
 *
 *   hub.c       rooms held here, applying records, fan-out, the event ring
 *   requests.c  a connection's requests, before they become records
 *   timers.c    grace periods after a drop, and deadlines (turn timer, prompts)
 *   results.c   coalesced prompt results for each audience
 */
#ifndef PL_HUB_INT_H
#define PL_HUB_INT_H

#include <uv.h>

#include "hub/hub.h"
#include "util/map.h"

#define SWEEP_MS 1000
#define TOKEN_LEN 22

enum room_state { LOADING, READY, FAILED };

struct liveness {
	struct hub *h;        /* NULL once the hub is freed */
	size_t n;
	uint64_t ids[64];
};

/* Someone waiting for a room to load (hub_when_ready). */
struct hub_wait {
	struct hub_room *hr;
	hub_ready_cb cb;
	void *ctx;
	struct hub_wait *prev, *next;
};

/* A join or resume parked while its room loads: the request's strings are
 * copied, since the message they came in is gone by then. */
struct parked {
	struct hub *h;
	struct hub_conn *hc;
	struct hub_wait *w;
	struct wire_req req;
	char mem[];  /* the copied strings */
};

struct pending {
	uint64_t origin;
	struct hub_conn *hc;  /* NULL once the connection is gone */
	uint32_t req_id;
	uint8_t type;         /* enum wire_req_type */
	uint32_t epoch;       /* resume: the epoch the connection will hold */
	uint64_t member;      /* join: who joined, once applied (answered at hub_flush) */
	hub_created_cb created; /* a room's create record (HTTP); NULL: cancelled */
	void *created_ctx;
	struct pending *next;
};

struct grace {
	uv_timer_t timer;
	struct hub_room *hr;
	uint64_t member;
	uint32_t epoch;
	struct grace *prev, *next;
};

struct hub_room {
	struct hub *hub;
	char id[ROOM_ID_LEN + 1];
	struct room room;
	struct log_room *lr;
	enum room_state state;
	int load_err;
	struct hub_conn **conns; /* the local connections, an array: a fan-out
	                          * loads them side by side, not one by one */
	size_t nconns, conns_cap;
	struct pending *pend_head, *pend_tail;
	struct pending *joined;   /* applied joins, answered together by hub_flush */
	struct buf snap;          /* the snapshot at snap_seq, for this iteration's */
	uint64_t snap_seq;        /* joins and resumes (hub__snapshot) */
	bool on_flush;            /* on the hub's flush list */
	struct hub_room *flush_next;
	struct grace *graces;
	struct frame **ring;  /* recent event frames, for resume */
	unsigned ring_head, ring_n, ring_cap;
	uint64_t ring_floor;  /* events with seq <= this may be missing from the ring */
	uint64_t idle_since;
	bool creating;        /* our create record is not applied yet */
	struct deadline *dl;  /* the turn timer's next due moment */
	struct results *results; /* prompts whose results must go out */
	struct ephemeral *eph;   /* reactions and quiet signals */
	struct hub_wait *waiters; /* for the room to load */
};

/* A room's next deadline (turn warning or end), as a libuv timer. Allocated
 * apart from the room so that it can close after the room is gone. */
struct deadline {
	uv_timer_t timer;
	struct hub_room *hr;
	uint64_t turn;        /* what was last appended, to pace retries */
	uint8_t what;
	bool sent;
	int64_t armed_due;    /* the deadline the running timer waits for */
	uint64_t armed_target;
	uint8_t armed_what;
};

struct hub {
	uv_loop_t *loop;
	struct log *log;
	struct hub_io io;
	struct hub_config cfg;
	uint8_t secret[64];
	struct map rooms;
	uv_timer_t sweep;
	msgpack_unpacked u;
	struct buf rec;       /* record encoding scratch */
	struct hub_stats stats;
	uint64_t origin_ctr;  /* see new_origin */
	struct hub_room *flush; /* rooms with joins to answer or a snapshot kept */
	uv_timer_t live;      /* heartbeat, and who else is alive */
	struct liveness *asking; /* the alive query that is out */
	uint64_t suspects[64], suspects_prev[64]; /* instances missing last time and before */
	size_t nsuspects, nsuspects_prev;
};

/* hub.c */
void hub__make_token(const struct hub *h, const char *room, uint64_t member, char *out);
void hub__device_hash(const struct hub *h, const char *room, const struct wire_str *dev,
		      uint8_t out[16]);
void hub__send_err(struct hub *h, struct hub_conn *hc, uint32_t id, int err, const char *msg);
/* Queues f on hc and drops the caller's reference. */
void hub__send_frame(struct hub *h, struct hub_conn *hc, struct frame *f);
/* The room's snapshot, encoded once per seq and loop iteration; NULL
 * without memory (the reply then encodes its own). */
const struct buf *hub__snapshot(struct hub_room *hr);
bool hub__attach_conn(struct hub_room *hr, struct hub_conn *hc, uint64_t member, uint32_t epoch);
void hub__broadcast(struct hub_room *hr, struct frame *f);
void hub__unlink_conn(struct hub_room *hr, struct hub_conn *hc);
int hub__append(struct hub_room *hr, const struct room_cmd *c);
/* Appends a request's record and remembers who asked (reply on apply). */
int hub__submit(struct hub_room *hr, struct hub_conn *hc, const struct wire_req *req,
		struct room_cmd *c, uint32_t epoch);
struct pending *hub__take_pending(struct hub_room *hr, uint64_t origin);
long hub__ring_replay(struct hub_room *hr, struct hub_conn *hc, uint64_t after, bool send);
void hub__close_member_conns(struct hub_room *hr, uint64_t member, struct hub_conn *keep,
			     int code, const char *why);
/* Finds or starts loading a room: the room when ready (*err 0), the room
 * while it loads (*err PL_EUNAVAIL: use hub_when_ready), or NULL. */
struct hub_room *hub__room_open(struct hub *h, const char *id, size_t idn, int flags, int *err);

/* requests.c: a connection that goes away stops waiting for its room */
void hub__unpark(struct hub_conn *hc);

/* timers.c */
void hub__grace_free_cb(uv_handle_t *t);
void hub__grace_cancel(struct grace *g);
void hub__grace_cancel_member(struct hub_room *hr, uint64_t member);
void hub__grace_start(struct hub_room *hr, uint64_t member, uint32_t epoch);
/* A member has no connection here any more: mark it away, start its grace. */
void hub__member_dropped(struct hub_room *hr, uint64_t member, uint32_t epoch);
/* Arms the room's timer for its next deadline, if any. */
void hub__deadline_arm(struct hub_room *hr);
/* Members held by instances that are gone get their grace period here. */
void hub__liveness_check(struct hub *h);
void hub__liveness_start(struct hub *h);

/* results.c */
void hub__answer_token(const struct hub *h, const char *room, uint64_t prompt, uint64_t member,
		       uint8_t out[16]);
/* A prompt's results changed (0: all prompts). */
void hub__results_dirty(struct hub_room *hr, uint64_t prompt);
/* Every prompt's results as this connection may see them, with its answers. */
void hub__results_for(struct hub_room *hr, struct hub_conn *hc);
void hub__results_free(struct hub_room *hr);

/* ephemeral.c: reactions and quiet signals, coalesced, never logged */
int hub__react(struct hub_room *hr, const struct wire_str *kind);
int hub__signal(struct hub_room *hr, uint64_t member, const struct wire_str *kind);
/* The current signal counts, for a facilitator who just arrived. */
void hub__ephemeral_for(struct hub_room *hr, struct hub_conn *hc);
void hub__ephemeral_free(struct hub_room *hr);

#endif
