/*
 * ws.c — WebSocket connections: receive, validate, queue, corked writes.
 *
 * Receive: lws hands a message over in pieces (even a short one, with a
 * small rx buffer); pieces are reassembled up to the message limit, then the
 * whole message is rate-limited, decoded and handed to the hub. Protocol
 * violations close only this connection: a text frame with 1008, bytes that
 * are not one msgpack value with 1007, an oversize message with 1009.
 *
 * Send: the hub queues frame references (a broadcast frame is shared by all
 * recipients; nothing is copied or encoded per recipient). A connection with
 * queued frames goes on the flush list once. net_flush(), once per loop
 * iteration, gives each one a single send() of all its queued bytes,
 * gathered in one scratch buffer (a lone frame is written straight from its
 * own memory); with io_uring, those sends are made together in one system
 * call (batch.c). The kernel takes what it can; the rest goes to lws_write,
 * which keeps it and arms POLLOUT, and until lws has sent it
 * (lws_partial_buffered) we write nothing more and let SERVER_WRITEABLE
 * continue. So a steady connection costs one send() and no epoll_ctl per
 * delivery, and none of lws's dozen calls around it.
 *
 * Backpressure: the queue is bounded in frames and bytes. A client that
 * falls that far behind is closed with 4001 and resumes when it reconnects;
 * nobody else waits for it. The kernel's send buffer is bounded too
 * (SO_SNDBUF, --sndbuf-kib): left to autotuning it grows to 4 MiB for a
 * client that once read fast, so a stalled reader would hold that much
 * kernel memory, and reach 4001 only after it, instead of the queue bound.
 */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "net/net_int.h"
#include "util/err.h"
#include "util/ulog.h"
#include "wire/wire.h"

static struct conn *conn_of(struct hub_conn *hc)
{
	return (struct conn *)hc; /* hc is the first member */
}

/* The i-th frame from the head: q_cap is a power of two (NET_INLINE_FRAMES,
 * doubled), so the ring wraps with a mask, not a division per frame. */
static struct frame **q_at(struct conn *c, uint32_t i)
{
	return &c->q[(c->q_head + i) & (c->q_cap - 1)];
}

/* Drops the n frames at the head of the queue (written, or given up). */
static void q_pop(struct conn *c, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		frame_unref(*q_at(c, i));
	c->q_head = (c->q_head + n) & (c->q_cap - 1);
	c->q_n -= n;
	if (!c->q_n && c->q != c->inl) { /* drained: back to the inline slots */
		free(c->q);
		c->q = c->inl;
		c->q_head = 0;
		c->q_cap = NET_INLINE_FRAMES;
	}
}

static void q_clear(struct conn *c)
{
	q_pop(c, c->q_n);
	c->q_bytes = 0;
}

static void kick_noop(uv_idle_t *h)
{
	(void)h;
}

/* Frames queued from a timer (coalesced results, reactions) must not wait
 * for the next I/O: an active idle handle makes the loop poll without
 * blocking, so this iteration's check phase flushes them. */
static void mark_for_flush(struct conn *c)
{
	if (c->queued)
		return;
	struct net *n = c->net;
	if (util_array_grow(&n->flush, &n->flush_cap, n->nflush, sizeof(*n->flush), 64)) {
		/* no memory for the list: lws asks for WRITEABLE instead */
		lws_callback_on_writable(c->wsi);
		return;
	}
	if (!n->nflush)
		uv_idle_start(&n->kick, kick_noop);
	n->flush[n->nflush++] = c;
	c->queued = true;
}

void net_conn_close(struct conn *c, int code, const char *reason)
{
	if (c->close_code || c->dead)
		return;
	c->close_code = (uint16_t)code; /* 1000..4999 */
	c->close_reason = reason;
	/* the close frame goes out from WRITEABLE once the queue is sent; a
	 * peer that never reads is cut off by the timeout */
	lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, 5);
	mark_for_flush(c);
}

static void hub_send(struct hub_conn *hc, struct frame *f)
{
	struct conn *c = conn_of(hc);
	struct net *n = c->net;
	if (c->dead || c->close_code)
		return;
	/* The bound is on backlog: what waits because the peer does not read
	 * (lws still holds unsent bytes). Frames for a reading peer go out at
	 * the end of this iteration, however many (a big snapshot and more).
	 * The queue holds whole frames only: a frame the kernel took part of
	 * is lws's to finish (conn_wrote), so a close frame queued after
	 * this can never land inside one. */
	uint64_t bytes = (uint64_t)c->q_bytes + f->len;
	if ((c->q_n && (c->q_n >= n->cfg.queue_frames || bytes > n->cfg.queue_bytes) &&
	     lws_partial_buffered(c->wsi)) ||
	    bytes > UINT32_MAX) {
		ULOG_I("connection too slow (%u frames, %u bytes queued): closing", c->q_n,
		       c->q_bytes);
		q_clear(c);
		n->stats.slow_closes++;
		net_conn_close(c, NET_CLOSE_SLOW, "too slow: resume to catch up");
		return;
	}
	if (c->q_n == c->q_cap) { /* a few frames fit inline; more go to the heap */
		uint32_t cap = c->q_cap * 2;
		struct frame **q = malloc(cap * sizeof(*q));
		if (!q) {
			net_conn_close(c, 1011, "out of memory");
			return;
		}
		for (uint32_t i = 0; i < c->q_n; i++)
			q[i] = *q_at(c, i);
		if (c->q != c->inl)
			free(c->q);
		c->q = q;
		c->q_head = 0;
		c->q_cap = cap;
	}
	*q_at(c, c->q_n) = frame_ref(f);
	c->q_n++;
	c->q_bytes += f->len;
	mark_for_flush(c);
}

static void hub_close(struct hub_conn *hc, int code, const char *reason)
{
	net_conn_close(conn_of(hc), code, reason);
}

const struct hub_io net_hub_io = {
	.send = hub_send,
	.close = hub_close,
};

/* Copies frames from the head of the queue to dst, the head from off, while
 * they fit in cap bytes (the head always: the caller has checked); the bytes
 * copied, the frames in *frames. */
size_t net_gather(struct conn *c, uint32_t off, uint8_t *dst, size_t cap, uint32_t *frames)
{
	assert(c->q_n);
	struct frame *head = c->q[c->q_head];
	size_t len = head->len - off;
	memcpy(dst, head->data + off, len);
	uint32_t i = 1;
	for (; i < c->q_n; i++) {
		struct frame *f = *q_at(c, i);
		if (len + f->len > cap)
			break;
		memcpy(dst + len, f->data, f->len);
		len += f->len;
	}
	*frames = i;
	return len;
}

/* After a write of len bytes at p that finishes `done` frames (0: it was a
 * piece of the head frame, *off bytes into it): sent is what the kernel took,
 * or -errno. The kernel's share is gone; what it did not take goes to lws,
 * which keeps it and arms POLLOUT (lws_partial_buffered() then says so).
 * lws's own frames (pong, ping, close) keep their unsent rest in that same
 * buffer, so nothing of ours can land inside one of them. (The vhost has no
 * TLS, so the socket carries the frames as they are.) -1: the peer is gone. */
int conn_wrote(struct conn *c, const uint8_t *p, size_t len, uint32_t done, ssize_t sent,
	       uint32_t *off)
{
	struct net *n = c->net;
	int w = 0;
	if (sent == -EAGAIN || sent == -EWOULDBLOCK || sent == -EINTR)
		sent = 0;
	else if (sent < 0)
		w = -1;
	if (!w && (size_t)sent < len) {
		/* Short in the middle of a big frame: lws gets the whole rest of
		 * it, since it may write a ping or a pong of its own as soon as
		 * its buffer is empty, and that must fall between frames. */
		if (!done) {
			len = c->q[c->q_head]->len - *off;
			done = 1;
		}
		w = lws_write(c->wsi, (unsigned char *)p + sent, len - (size_t)sent, LWS_WRITE_RAW);
		c->held = true; /* for the rest of this net_flush */
	}
	n->stats.writes++;
	n->stats.bytes += len;
	c->q_bytes -= (uint32_t)len;
	if (done) {
		q_pop(c, done);
		*off = 0;
	} else {
		*off += (uint32_t)len;
	}
	if (w < 0) { /* the peer is gone: lws closes it at once, not when it notices */
		c->dead = true;
		q_clear(c);
		lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
		return -1;
	}
	return 0;
}

/* One write of at most NET_SCRATCH bytes: a large frame (or a lone one)
 * straight from its memory, from *off (what earlier writes of this
 * conn_write took of it); several small ones gathered into the scratch
 * buffer. The kernel takes what it can, straight away (lws holds nothing
 * for this connection, or we would not be here; lws_write would end in the
 * same send() after a dozen calls). */
static int conn_write_once(struct conn *c, uint32_t *off)
{
	struct net *n = c->net;
	struct frame *head = c->q[c->q_head];
	size_t rest = head->len - *off;
	const uint8_t *p;
	size_t len;
	uint32_t done; /* frames finished by this write */
	if (c->q_n == 1 || rest > NET_SCRATCH / 2) {
		p = head->data + *off; /* FRAME_HEADROOM leaves LWS_PRE in front */
		len = rest < NET_SCRATCH ? rest : NET_SCRATCH;
		done = len == rest;
	} else {
		len = net_gather(c, *off, n->scratch + LWS_PRE, NET_SCRATCH, &done);
		p = n->scratch + LWS_PRE;
	}
	ssize_t sent = send(c->fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
	return conn_wrote(c, p, len, done, sent < 0 ? -errno : sent, off);
}

/* Writes while the kernel takes everything; the caller has checked that
 * lws holds nothing unsent. A steady connection has one write's worth
 * queued, so this is one send; a big snapshot goes out NET_SCRATCH at a
 * time, and lws copies only what the kernel did not take of it (the 128
 * KiB send buffer takes a snapshot of a few thousand members whole). */
static int conn_write(struct conn *c)
{
	uint32_t off = 0; /* into the head frame: a write that took a whole
			   * piece of it leaves lws nothing, so the loop goes on */
	if (!c->q_n)
		return 0;
	do {
		if (conn_write_once(c, &off) < 0)
			return -1;
	} while (c->q_n && !lws_partial_buffered(c->wsi));
	return 0;
}

/* lws keeps whether it holds unsent bytes in its own connection struct,
 * which nothing else here touches, so reading it is a cache miss per
 * connection. Read for a chunk of connections at once, those misses
 * overlap; read just before each send, they queue up one after another. */
#define FLUSH_CHUNK 32

/* Connections marked while this runs (a close, say) are written too. */
void net_flush(struct net *n)
{
	size_t read_to = 0; /* held is fresh below this */
	for (size_t i = 0; i < n->nflush; i++) {
		if (i == read_to) {
			read_to = n->nflush - i < FLUSH_CHUNK ? n->nflush : i + FLUSH_CHUNK;
			for (size_t k = i; k < read_to; k++)
				if (n->flush[k])
					n->flush[k]->held = lws_partial_buffered(n->flush[k]->wsi);
		}
		struct conn *c = n->flush[i];
		if (!c) /* closed meanwhile */
			continue;
		c->queued = false;
		if (c->batched) { /* marked again: what is in the batch goes first */
			net_batch_run(n);
			c->held = lws_partial_buffered(c->wsi);
		}
		if (c->dead) {
			q_clear(c);
		} else if (c->held || c->close_code) {
			/* lws still sends an earlier write, or a close frame must go
			 * out from inside a callback: let WRITEABLE continue */
			lws_callback_on_writable(c->wsi);
		} else if (net_batch_add(n, c)) {
			/* sent with the others below */
		} else if (conn_write(c) == 0 && c->q_n) {
			lws_callback_on_writable(c->wsi);
		}
	}
	net_batch_run(n);
	n->nflush = 0;
	uv_idle_stop(&n->kick);
}

static void unlink_from_flush(struct conn *c)
{
	if (!c->queued)
		return;
	struct net *n = c->net;
	for (size_t i = 0; i < n->nflush; i++)
		if (n->flush[i] == c)
			n->flush[i] = NULL;
	c->queued = false;
}

/* Refills the bucket; false if the request must be refused. */
static bool rate_ok(struct conn *c)
{
	struct net *n = c->net;
	uint32_t now = (uint32_t)uv_now(n->loop);
	c->tokens += (float)((double)(uint32_t)(now - c->refill_ms) * n->cfg.rate / 1000.0);
	if (c->tokens > (float)n->cfg.burst)
		c->tokens = (float)n->cfg.burst;
	c->refill_ms = now;
	if (c->tokens < 1.0f)
		return false;
	c->tokens -= 1.0f;
	return true;
}

static void reply_error(struct conn *c, uint32_t id, bool has_id, int err, const char *msg)
{
	struct frame *f = wire_error(id, has_id, err, msg);
	if (f) {
		hub_send(&c->hc, f);
		frame_unref(f);
	}
}

/* A protocol violation: what is queued goes out, then the close frame; input
 * is ignored from here on. */
static void violation(struct conn *c, int code, const char *why)
{
	ULOG_D("closing a connection with %d: %s", code, why);
	c->net->stats.violations++;
	net_conn_close(c, code, why);
}

static void on_message(struct conn *c, const uint8_t *p, size_t len)
{
	struct net *n = c->net;
	struct wire_req req;
	bool has_id;
	int rc = wire_decode_req(&n->u, p, len, &req, &has_id);
	if (rc == PL_ECORRUPT) {
		violation(c, LWS_CLOSE_STATUS_INVALID_PAYLOAD, "not a msgpack value");
		return;
	}
	if (!rate_ok(c)) {
		if (++c->refused >= 200)
			violation(c, LWS_CLOSE_STATUS_POLICY_VIOLATION, "flood");
		else
			reply_error(c, req.id, has_id, PL_ERATE, NULL);
		n->stats.rate_limited++;
		return;
	}
	c->refused = 0;
	if (rc)
		reply_error(c, req.id, has_id, rc, NULL);
	else
		hub_request(n->hub, &c->hc, &req);
}

static void rx_free(struct conn *c)
{
	free(c->rx);
	c->rx = NULL;
	c->rx_len = c->rx_cap = 0;
}

static int on_receive(struct conn *c, const uint8_t *in, size_t len)
{
	struct net *n = c->net;
	if (c->dead || c->close_code)
		return 0;
	if (!lws_frame_is_binary(c->wsi)) {
		violation(c, LWS_CLOSE_STATUS_POLICY_VIOLATION,
			  "text frames are not accepted; send binary msgpack");
		return 0;
	}
	if (c->rx_len + len > n->cfg.max_msg) {
		violation(c, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, "message too big");
		rx_free(c);
		return 0;
	}
	bool last = lws_is_final_fragment(c->wsi) && !lws_remaining_packet_payload(c->wsi);
	if (last && !c->rx_len) { /* whole message in one piece: no copy */
		on_message(c, in, len);
		return 0;
	}
	uint32_t need = c->rx_len + (uint32_t)len; /* max_msg keeps it small */
	if (need > c->rx_cap) {
		uint32_t cap = need < 256 ? 256 : need + need / 2;
		uint8_t *p = realloc(c->rx, cap);
		if (!p)
			return -1;
		c->rx = p;
		c->rx_cap = cap;
	}
	memcpy(c->rx + c->rx_len, in, len);
	c->rx_len = need;
	if (!last)
		return 0;
	on_message(c, c->rx, c->rx_len);
	c->rx_len = 0;
	if (c->rx_cap > 4096)
		rx_free(c);
	return 0;
}

static int on_established(struct net *n, struct conn *c, struct lws *wsi)
{
	memset(c, 0, sizeof(*c));
	c->net = n;
	c->wsi = wsi;
	c->fd = lws_get_socket_fd(wsi);
	c->tokens = (float)n->cfg.burst;
	c->q = c->inl;
	c->q_cap = NET_INLINE_FRAMES;
	c->refill_ms = (uint32_t)uv_now(n->loop);
	c->next = n->conns;
	if (c->next)
		c->next->prev = c;
	n->conns = c;
	n->nconns++;
	n->stats.accepted++;
	if (n->cfg.sndbuf > 0) /* see the top of this file */
		setsockopt(c->fd, SOL_SOCKET, SO_SNDBUF, &n->cfg.sndbuf,
			   sizeof(n->cfg.sndbuf));
	if (n->shutting_down)
		net_conn_close(c, LWS_CLOSE_STATUS_GOINGAWAY, "server shutting down");
	return 0;
}

static void on_closed(struct net *n, struct conn *c)
{
	if (!c->net) /* refused in on_established */
		return;
	hub_conn_closed(n->hub, &c->hc, n->shutting_down);
	unlink_from_flush(c);
	q_clear(c);
	if (c->q != c->inl)
		free(c->q);
	rx_free(c);
	if (c->prev)
		c->prev->next = c->next;
	else
		n->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	n->nconns--;
	if (n->shutting_down && !n->nconns)
		net_drained(n);
}

/* Sends our close frame pre-framed, like every other frame, after all that
 * was queued, then lingers: input is read and dropped until the peer answers
 * with its close frame (lws then hangs up) or a short timeout passes. Closing
 * at once would reset a connection with unread input, and the peer would
 * lose the close frame and the replies before it. (lws's own close path,
 * lws_close_reason then -1, does not get a close frame out from WRITEABLE
 * on a connection written in raw mode.) */
static int send_close(struct conn *c)
{
	uint8_t fr[LWS_PRE + 4 + 123], *p = fr + LWS_PRE;
	size_t rl = strlen(c->close_reason);
	if (rl > 123) /* a close frame's payload is at most 125 bytes */
		rl = 123;
	p[0] = 0x88; /* FIN, close */
	p[1] = (uint8_t)(2 + rl);
	p[2] = (uint8_t)(c->close_code >> 8);
	p[3] = (uint8_t)c->close_code;
	memcpy(p + 4, c->close_reason, rl);
	if (lws_write(c->wsi, p, 4 + rl, LWS_WRITE_RAW) < 0)
		return -1;
	c->dead = true;
	c->close_sent = true;
	lws_set_timeout(c->wsi, PENDING_TIMEOUT_CLOSE_ACK, 2);
	return 0;
}

static int path_is_ws(struct lws *wsi)
{
	char uri[64];
	int len = lws_hdr_copy(wsi, uri, sizeof(uri), WSI_TOKEN_GET_URI);
	return len > 0 && !strcmp(uri, "/ws");
}

int net_ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		    size_t len)
{
	struct conn *c = user;
	struct net *n = lws_context_user(lws_get_context(wsi));
	switch (reason) {
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
		return path_is_ws(wsi) ? 0 : 1;
	case LWS_CALLBACK_ESTABLISHED:
		return on_established(n, c, wsi);
	case LWS_CALLBACK_RECEIVE:
		return on_receive(c, in, len);
	case LWS_CALLBACK_SERVER_WRITEABLE:
		if (c->dead)
			return 0;
		if (lws_partial_buffered(wsi)) {
			lws_callback_on_writable(wsi);
			return 0;
		}
		if (c->q_n) {
			if (conn_write(c) < 0)
				return -1;
			if (c->q_n || c->close_code)
				lws_callback_on_writable(wsi);
			return 0;
		}
		if (c->close_code)
			return send_close(c);
		return 0;
	case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
		/* the peer answers our close frame: lws must not echo it (that
		 * would be a second close); else lws echoes theirs */
		c->dead = true;
		return c->close_sent ? -1 : 0;
	case LWS_CALLBACK_CLOSED:
		on_closed(n, c);
		return 0;
	default:
		return 0;
	}
}
