/*
 * net_int.h — what the files of net/ share: the context and a connection.
 */
#ifndef PL_NET_INT_H
#define PL_NET_INT_H

#include <libwebsockets.h>
#include <liburing.h>
#include <uv.h>

#include "net/net.h"
#include "util/buf.h"

#define NET_SCRATCH (64 * 1024)
#define NET_INLINE_FRAMES 4 /* a power of two: the queue's ring wraps with a mask */
_Static_assert((NET_INLINE_FRAMES & (NET_INLINE_FRAMES - 1)) == 0, "a power of two");

struct conn {
	struct hub_conn hc;       /* first: the hub sees only this */
	struct net *net;
	struct lws *wsi;
	int fd;                   /* wsi's socket, read once: see net_flush */
	bool batched;             /* its queue is in the batch, not yet sent (in
	                           * the padding after fd: no bigger a conn) */
	struct conn *prev, *next; /* every WebSocket connection */
	uint8_t *rx;              /* message being reassembled (heap, or NULL); not
	                           * a struct buf: 16 bytes less per connection */
	uint32_t rx_len, rx_cap;
	struct frame **q;         /* outbound ring of frame references: inl, */
	struct frame *inl[NET_INLINE_FRAMES]; /* ... or on the heap once more wait */
	uint32_t q_head, q_n, q_cap;
	uint32_t q_bytes;         /* not yet written */
	float tokens;             /* rate limit bucket */
	uint32_t refill_ms;       /* uv_now() when last refilled, modulo 2^32 */
	uint16_t refused;         /* requests refused in a row (a flood at 200) */
	uint16_t close_code;      /* set: close once the queue is out */
	bool queued;              /* on the flush list */
	bool dead;                /* peer closed or write failed: write nothing */
	bool close_sent;          /* our close frame is out: linger for theirs */
	bool held;                /* lws held unsent bytes when net_flush looked,
	                           * or a write since left it some; means nothing
	                           * outside net_flush */
	const char *close_reason; /* a literal */
};

/* One HTTP request. Answers are prepared (status, type, headers, body) and
 * written from HTTP_WRITEABLE, which also lets them be prepared later: after
 * a room loads (hub_when_ready) or a room's create record is applied. */
struct http_req {
	struct lws *wsi;
	struct net *net;
	bool create;    /* POST /api/rooms: answered when the body is complete */
	char *body;
	size_t body_len;
	bool too_big;
	uint8_t *resp;  /* LWS_PRE + body */
	size_t resp_len;
	bool ready;     /* the answer below is prepared */
	unsigned status;
	char ctype[64];
	char extra[2][2][160]; /* header name, value */
	int nextra;
	struct hub_wait *wait;     /* waiting for a room to load */
	struct hub_create *making; /* waiting for a create record */
	struct buf later;          /* an answer kept until `making` completes */
	char room[ROOM_ID_LEN + 1];
	char key[96];
	int format, table;
	bool transcript;
};

/* The sends of one net_flush, submitted together (batch.c). */
#define BATCH_SLOTS 256            /* sends per io_uring_enter */
#define BATCH_ARENA (256 * 1024)   /* bytes gathered for them, at most */

struct batch_slot {
	struct conn *c;
	const uint8_t *p; /* a lone frame's own bytes, or gathered in the arena */
	uint32_t len;
	uint32_t frames;  /* the whole queue when it was added */
	bool todo;        /* not yet answered for */
};

struct net_batch {
	bool on;               /* an io_uring to batch on */
	struct io_uring ring;
	unsigned n;            /* slots in use */
	size_t used;           /* of the arena */
	uint8_t *arena;        /* LWS_PRE + BATCH_ARENA */
	struct batch_slot slot[BATCH_SLOTS];
};

struct net {
	uv_loop_t *loop;
	struct lws_context *ctx;
	struct lws_vhost *vh;
	struct hub *hub;
	struct net_config cfg;
	char web_root[2048];
	struct conn *conns;
	size_t nconns;
	struct conn **flush;      /* connections with frames to write */
	size_t nflush, flush_cap;
	uint8_t *scratch;         /* LWS_PRE + NET_SCRATCH */
	struct net_batch batch;
	msgpack_unpacked u;
	bool shutting_down;
	void (*on_drained)(void *arg);
	void *drained_arg;
	uv_timer_t drain_timer;
	uv_idle_t kick;           /* keeps the loop from blocking while frames wait */
	struct {
		uint64_t accepted, writes, bytes, slow_closes, violations, rate_limited;
		uint64_t batches, batched; /* io_uring_enter calls; the writes in them */
	} stats;
};

int net_ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		    size_t len);
int net_http_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		      size_t len);
void net_conn_close(struct conn *c, int code, const char *reason);

/* ws.c: frames from the head of c's queue copied to dst, the head from off,
 * while they fit in cap (the head always); the bytes, the frames in *frames. */
size_t net_gather(struct conn *c, uint32_t off, uint8_t *dst, size_t cap, uint32_t *frames);
/* ws.c: after a write of len bytes at p finishing `done` frames (0: a piece
 * of the head frame, *off into it) of which the kernel took `sent` (or
 * -errno): the rest to lws, the queue popped. -1: the peer is gone. */
int conn_wrote(struct conn *c, const uint8_t *p, size_t len, uint32_t done, ssize_t sent,
	       uint32_t *off);

/* batch.c: want false, or no io_uring here, leaves the batch off. */
void net_batch_init(struct net *n, bool want);
void net_batch_free(struct net *n);
/* Queues c's whole queue as one send; false if it is empty or does not fit
 * one (the caller writes it itself). When the batch is full this runs it
 * first, so other connections' writes may be made (and lws may then hold
 * bytes for them: conn_wrote sets their held). */
bool net_batch_add(struct net *n, struct conn *c);
/* Sends what was added, in one system call, and handles each answer. */
void net_batch_run(struct net *n);
/* Called when the last connection is gone during shutdown. */
void net_drained(struct net *n);

#endif
