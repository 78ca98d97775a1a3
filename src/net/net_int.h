/*
 * net_int.h — what the files of net/ share: the context and a connection.
 */
#ifndef PL_NET_INT_H
#define PL_NET_INT_H

#include <libwebsockets.h>
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
	bool held;                /* lws held unsent bytes when net_flush looked;
	                           * means nothing outside net_flush */
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
	msgpack_unpacked u;
	bool shutting_down;
	void (*on_drained)(void *arg);
	void *drained_arg;
	uv_timer_t drain_timer;
	uv_idle_t kick;           /* keeps the loop from blocking while frames wait */
	struct {
		uint64_t accepted, writes, bytes, slow_closes, violations, rate_limited;
	} stats;
};

int net_ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		    size_t len);
int net_http_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		      size_t len);
void net_conn_close(struct conn *c, int code, const char *reason);
/* Called when the last connection is gone during shutdown. */
void net_drained(struct net *n);

#endif
