/*
 * floor.c — "the physical floor": the least work any WebSocket broadcast
 * server can do per delivery on this machine (issue 8).
 *
 * potluck's broadcast efficiency is judged as a fraction of this program's
 * deliveries per CPU-second, measured by the same generator in the same run
 * (tests/bench/loadgen.c --mode floor; it reads this process's CPU from
 * /proc, this program reports nothing itself).
 *
 * What it does, and nothing more:
 * - one thread, one level-triggered epoll loop, non-blocking sockets with
 *   TCP_NODELAY (as libwebsockets sets them);
 * - accepts WebSocket upgrades "GET /floor?room=N" and answers 101 with a
 *   correct Sec-WebSocket-Accept (OpenSSL SHA-1 + base64); the room number
 *   in the query string is the join, there is no application protocol;
 * - reads masked client frames in place, in one shared read buffer (a frame
 *   cut by the end of a read is kept in a small per-connection buffer);
 * - for each data frame received, builds ONE unmasked server frame (header
 *   + the same payload), refcounted, and queues a reference on every member
 *   of the room, the sender included, as potluck does with its chat events;
 * - after each batch of epoll events, ONE sendmsg() per connection that has
 *   something queued, gathering its queued frames without copying them;
 *   EPOLLOUT is armed only when the kernel did not take everything, and
 *   disarmed once the queue is empty, so a steady connection costs one send
 *   and no epoll_ctl per delivery;
 * - with --io-uring, those sendmsg()s are queued on an io_uring and made in
 *   one io_uring_enter() per batch of events (MSG_DONTWAIT: the kernel does
 *   each inline and answers as sendmsg() would), as potluck does by default
 *   (src/net/batch.c): the floor of a server that batches its sends;
 * - a connection whose queue passes 4,096 frames is dropped (potluck's bound
 *   too), so a reader that stops cannot make it grow without limit;
 * - pings are answered, a close frame is answered and the socket closed;
 * - with --redis HOST:PORT (or the PATH of its Unix socket), the floor of
 *   a pair of instances through Redis pub/sub (beside potluck's s3): a
 *   data frame is not queued on the room but PUBLISHed, as the room number
 *   and the payload, on one channel that every instance subscribes to;
 *   each published message becomes one frame queued on the instance's own
 *   members of that room, so every instance
 *   delivers a room's messages in Redis's one order, as potluck does. The
 *   PUBLISHes of a batch of events go out in one write(), before the sends,
 *   on a connection that asked for no replies (CLIENT REPLY OFF). One
 *   publish per message and nothing else: no log, no sequence, no script.
 *
 * No validation, no log, no ordering across rooms: that is the point. What
 * remains is the kernel's loopback TCP send per delivery, plus a few
 * pointer moves.
 *
 * usage: floor [--host 127.0.0.1] [--port 8090] [--io-uring] [--redis HOST:PORT|PATH]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <liburing.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#define RDBUF (256 * 1024)
#define MAX_MSG (64 * 1024)
#define MAX_QUEUE 4096
#define MAX_IOV 1024
#define BATCH 256    /* sends per io_uring_enter (--io-uring) */
#define BATCH_IOV 64 /* frames per send there; more wait for EPOLLOUT, as the
                      * rest of a short write does (a steady connection has
                      * one or two) */
#define MAX_ROOM 1000000u

struct frame {
	uint32_t refs;
	uint32_t len;
	uint8_t data[];
};

struct conn {
	int fd;
	bool ws, dirty, pollout, dead;
	uint32_t room, slot; /* member slot in its room */
	uint8_t *rx;         /* partial handshake or frame */
	uint32_t rx_n, rx_cap;
	struct frame **q; /* ring of references */
	uint32_t q_head, q_n, q_cap;
	uint32_t q_off; /* bytes of the head frame already sent */
	struct conn *next_dirty, *next_dead;
};

struct room {
	struct conn **m;
	uint32_t n, cap;
};

static int ep;
static struct room *rooms;
static uint32_t nrooms;
static struct conn *dirty, *dead;
static uint8_t rdbuf[RDBUF];

static void frame_unref(struct frame *f)
{
	if (!--f->refs)
		free(f);
}

static void conn_kill(struct conn *c)
{
	if (c->dead)
		return;
	c->dead = true;
	c->next_dead = dead;
	dead = c;
}

static void conn_free(struct conn *c)
{
	if (c->ws) {
		struct room *r = &rooms[c->room];
		struct conn *last = r->m[--r->n];
		r->m[c->slot] = last;
		last->slot = c->slot;
	}
	while (c->q_n) {
		frame_unref(c->q[c->q_head]);
		c->q_head = (c->q_head + 1) % c->q_cap;
		c->q_n--;
	}
	close(c->fd);
	free(c->q);
	free(c->rx);
	free(c);
}

static void enqueue(struct conn *c, struct frame *f)
{
	if (c->dead)
		return;
	if (c->q_n >= MAX_QUEUE) {
		conn_kill(c);
		return;
	}
	if (c->q_n == c->q_cap) {
		uint32_t cap = c->q_cap ? c->q_cap * 2 : 8;
		struct frame **q = malloc(cap * sizeof(*q));
		if (!q) {
			conn_kill(c);
			return;
		}
		for (uint32_t i = 0; i < c->q_n; i++)
			q[i] = c->q[(c->q_head + i) % c->q_cap];
		free(c->q);
		c->q = q;
		c->q_head = 0;
		c->q_cap = cap;
	}
	f->refs++;
	c->q[(c->q_head + c->q_n++) % c->q_cap] = f;
	if (!c->dirty) {
		c->dirty = true;
		c->next_dirty = dirty;
		dirty = c;
	}
}

/* One unmasked server frame around p (built once, shared by reference). */
static struct frame *frame_new(uint8_t opcode, const uint8_t *p, size_t n)
{
	size_t h = n < 126 ? 2 : n < 65536 ? 4 : 10;
	struct frame *f = malloc(sizeof(*f) + h + n);
	if (!f)
		return NULL;
	f->refs = 0;
	f->len = (uint32_t)(h + n);
	f->data[0] = (uint8_t)(0x80 | opcode);
	if (h == 2) {
		f->data[1] = (uint8_t)n;
	} else if (h == 4) {
		f->data[1] = 126;
		f->data[2] = (uint8_t)(n >> 8);
		f->data[3] = (uint8_t)n;
	} else {
		f->data[1] = 127;
		for (int i = 0; i < 8; i++)
			f->data[2 + i] = (uint8_t)((uint64_t)n >> (56 - 8 * i));
	}
	memcpy(f->data + h, p, n);
	return f;
}

static void send_to(struct conn *c, struct frame *f)
{
	if (!f)
		return;
	enqueue(c, f);
	if (!f->refs)
		free(f);
}

/* One frame around p queued on every member of room here. */
static void broadcast(uint32_t room, const uint8_t *p, size_t n)
{
	struct room *r = &rooms[room];
	struct frame *f = frame_new(0x2, p, n);
	if (!f)
		return;
	f->refs = 1; /* held while queueing */
	for (uint32_t i = 0; i < r->n; i++)
		enqueue(r->m[i], f);
	frame_unref(f);
}

/* --redis: what the instance publishes, and what it reads from its
 * subscription, in plain RESP on two sockets of its own. */
static int redis_pub = -1, redis_sub = -1;
static struct rbuf {
	uint8_t *b;
	size_t n, cap;
} pub_out, sub_in;
static struct conn redis_pub_tag, redis_sub_tag; /* epoll markers */

static void rbuf_add(struct rbuf *r, const void *p, size_t n)
{
	if (r->n + n > r->cap) {
		size_t cap = r->cap ? r->cap : 4096;
		while (cap < r->n + n)
			cap *= 2;
		if (!(r->b = realloc(r->b, cap))) {
			fprintf(stderr, "floor: out of memory\n");
			exit(1);
		}
		r->cap = cap;
	}
	memcpy(r->b + r->n, p, n);
	r->n += n;
}

static void publish(uint32_t room, const uint8_t *p, size_t n)
{
	char h[64];
	int hl = snprintf(h, sizeof(h), "*3\r\n$7\r\nPUBLISH\r\n$5\r\nfloor\r\n$%zu\r\n", n + 4);
	rbuf_add(&pub_out, h, (size_t)hl);
	rbuf_add(&pub_out, &room, 4);
	rbuf_add(&pub_out, p, n);
	rbuf_add(&pub_out, "\r\n", 2);
}

static void publish_flush(void)
{
	for (size_t off = 0; off < pub_out.n;) { /* a blocking socket: all of it */
		ssize_t w = write(redis_pub, pub_out.b + off, pub_out.n - off);
		if (w < 0 && errno != EINTR) {
			fprintf(stderr, "floor: redis: %s\n", strerror(errno));
			exit(1);
		}
		off += w > 0 ? (size_t)w : 0;
	}
	pub_out.n = 0;
}

/* The publishing connection asked for no replies (CLIENT REPLY OFF): what
 * comes on it is Redis closing it. */
static void on_pub_readable(void)
{
	ssize_t r = read(redis_pub, rdbuf, RDBUF);
	fprintf(stderr, "floor: redis: %.*s\n", r > 0 ? (int)r : 6, r > 0 ? (char *)rdbuf : "closed");
	exit(1);
}

/* One RESP line "<kind>N\r\n" at *p: N, or -1 when it is not all there. */
static long resp_num(const uint8_t **p, const uint8_t *end, uint8_t kind)
{
	const uint8_t *q = *p, *nl = memchr(q, '\n', (size_t)(end - q));
	if (!nl)
		return -1;
	if (*q != kind) {
		fprintf(stderr, "floor: redis: unexpected '%c'\n", *q);
		exit(1);
	}
	*p = nl + 1;
	return strtol((const char *)q + 1, NULL, 10);
}

/* Pushes of the subscription in p: ["subscribe", ch, n] once, then
 * ["message", ch, payload] per published message. Returns the bytes used:
 * a push cut by the end of a read waits for the next. */
static size_t sub_parse(const uint8_t *p, size_t n)
{
	const uint8_t *start = p, *end = p + n;
	while (p < end) {
		const uint8_t *q = p, *el[3] = {NULL};
		long len[3] = {0};
		long items = resp_num(&q, end, '*');
		if (items < 0)
			break;
		if (items != 3) {
			fprintf(stderr, "floor: redis: a push of %ld items\n", items);
			exit(1);
		}
		int k = 0;
		for (; k < 3 && q < end; k++) {
			if (*q == ':') { /* the subscribe count */
				if (resp_num(&q, end, ':') < 0)
					break;
				continue;
			}
			len[k] = resp_num(&q, end, '$');
			if (len[k] < 0 || end - q < len[k] + 2)
				break;
			el[k] = q;
			q += len[k] + 2;
		}
		if (k < 3)
			break;
		p = q;
		if (len[0] == 7 && !memcmp(el[0], "message", 7) && len[2] >= 4) {
			uint32_t room;
			memcpy(&room, el[2], 4);
			if (room < nrooms)
				broadcast(room, el[2] + 4, (size_t)len[2] - 4);
		}
	}
	return (size_t)(p - start);
}

/* Parsed where it was read; only a cut push is kept for the next read. */
static void on_sub_readable(void)
{
	ssize_t r = read(redis_sub, rdbuf, RDBUF);
	if (r <= 0) {
		fprintf(stderr, "floor: redis: subscription closed\n");
		exit(1);
	}
	const uint8_t *p = rdbuf;
	size_t n = (size_t)r;
	if (sub_in.n) {
		rbuf_add(&sub_in, rdbuf, n);
		p = sub_in.b;
		n = sub_in.n;
	}
	size_t used = sub_parse(p, n);
	if (p == sub_in.b) {
		memmove(sub_in.b, sub_in.b + used, n - used);
		sub_in.n = n - used;
	} else if (used < n) {
		rbuf_add(&sub_in, p + used, n - used);
	}
}

/* HOST:PORT over TCP, or a path (starting with '/') to Redis's Unix socket */
static int redis_connect(const char *where, struct conn *tag, bool nonblock)
{
	int fd, one = 1;
	if (where[0] == '/') {
		struct sockaddr_un sun = {.sun_family = AF_UNIX};
		if (strlen(where) >= sizeof(sun.sun_path))
			return -1;
		strcpy(sun.sun_path, where);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd >= 0 && connect(fd, (struct sockaddr *)&sun, sizeof(sun))) {
			close(fd);
			fd = -1;
		}
		if (fd < 0)
			return -1;
	} else {
		char host[256];
		const char *colon = strrchr(where, ':');
		if (!colon || (size_t)(colon - where) >= sizeof(host))
			return -1;
		memcpy(host, where, (size_t)(colon - where));
		host[colon - where] = 0;
		struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *ai;
		if (getaddrinfo(host, colon + 1, &hints, &ai))
			return -1;
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen)) {
			close(fd);
			fd = -1;
		}
		freeaddrinfo(ai);
		if (fd < 0)
			return -1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	if (nonblock)
		fcntl(fd, F_SETFL, O_NONBLOCK);
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = tag};
	epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
	return fd;
}

static void on_frame(struct conn *c, uint8_t *fr, size_t h, size_t n)
{
	uint8_t op = fr[0] & 0x0f;
	uint8_t *mask = fr + h - 4, *p = fr + h;
	for (size_t i = 0; i < n; i++)
		p[i] ^= mask[i & 3];
	if (op <= 2) {
		if (redis_pub >= 0)
			publish(c->room, p, n);
		else
			broadcast(c->room, p, n);
	} else if (op == 0x9) {
		send_to(c, frame_new(0xa, p, n));
	} else if (op == 0x8) {
		send_to(c, frame_new(0x8, p, n < 2 ? n : 2));
		shutdown(c->fd, SHUT_RD);
	}
}

/* Length of the client frame at p: 0 = need more, -1 = refuse. */
static long frame_len(const uint8_t *p, size_t n, size_t *hdr)
{
	if (n < 2)
		return 0;
	if (!(p[1] & 0x80))
		return -1; /* client frames must be masked */
	size_t len = p[1] & 0x7f, h = 6;
	if (len == 126) {
		if (n < 4)
			return 0;
		len = (size_t)p[2] << 8 | p[3];
		h = 8;
	} else if (len == 127) {
		if (n < 10)
			return 0;
		uint64_t l = 0;
		for (int i = 2; i < 10; i++)
			l = l << 8 | p[i];
		if (l > MAX_MSG)
			return -1;
		len = (size_t)l;
		h = 14;
	}
	*hdr = h;
	return (long)(h + len);
}

/* Handles every whole frame in p; returns the bytes used. */
static size_t parse_frames(struct conn *c, uint8_t *p, size_t n)
{
	size_t used = 0;
	while (!c->dead) {
		size_t h = 0;
		long tot = frame_len(p + used, n - used, &h);
		if (tot < 0) {
			conn_kill(c);
			break;
		}
		if (!tot || (size_t)tot > n - used)
			break;
		on_frame(c, p + used, h, (size_t)tot - h);
		used += (size_t)tot;
	}
	return used;
}

static int rx_keep(struct conn *c, const uint8_t *p, size_t n)
{
	if (c->rx_n + n > c->rx_cap) {
		uint32_t cap = c->rx_cap ? c->rx_cap : 256;
		while (cap < c->rx_n + n)
			cap *= 2;
		if (cap > MAX_MSG + 64)
			return -1;
		uint8_t *b = realloc(c->rx, cap);
		if (!b)
			return -1;
		c->rx = b;
		c->rx_cap = cap;
	}
	memcpy(c->rx + c->rx_n, p, n);
	c->rx_n += (uint32_t)n;
	return 0;
}

static int room_add(struct conn *c, uint32_t room)
{
	if (room >= MAX_ROOM)
		return -1;
	if (room >= nrooms) {
		uint32_t n = nrooms ? nrooms : 64;
		while (n <= room)
			n *= 2;
		struct room *r = realloc(rooms, n * sizeof(*r));
		if (!r)
			return -1;
		memset(r + nrooms, 0, (n - nrooms) * sizeof(*r));
		rooms = r;
		nrooms = n;
	}
	struct room *r = &rooms[room];
	if (r->n == r->cap) {
		uint32_t cap = r->cap ? r->cap * 2 : 16;
		struct conn **m = realloc(r->m, cap * sizeof(*m));
		if (!m)
			return -1;
		r->m = m;
		r->cap = cap;
	}
	c->room = room;
	c->slot = r->n;
	r->m[r->n++] = c;
	return 0;
}

/* The upgrade: request line, key, 101. Returns the bytes used, 0 = need more. */
static size_t handshake(struct conn *c, uint8_t *p, size_t n)
{
	uint8_t *e = memmem(p, n, "\r\n\r\n", 4);
	if (!e) {
		if (n > 4096)
			conn_kill(c);
		return 0;
	}
	*e = 0;
	char *req = (char *)p, *key = strcasestr(req, "\nsec-websocket-key:");
	unsigned long room;
	char *end;
	if (strncmp(req, "GET /floor?room=", 16) || !key) {
		conn_kill(c);
		return 0;
	}
	room = strtoul(req + 16, &end, 10);
	key += 19;
	while (*key == ' ')
		key++;
	size_t kl = strcspn(key, "\r\n ");
	static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
	char cat[128], acc[32], resp[256];
	if (end == req + 16 || kl == 0 || kl > 64 || room_add(c, (uint32_t)room)) {
		conn_kill(c);
		return 0;
	}
	memcpy(cat, key, kl);
	memcpy(cat + kl, guid, sizeof(guid) - 1);
	unsigned char sha[SHA_DIGEST_LENGTH];
	SHA1((unsigned char *)cat, kl + sizeof(guid) - 1, sha);
	EVP_EncodeBlock((unsigned char *)acc, sha, SHA_DIGEST_LENGTH);
	int rl = snprintf(resp, sizeof(resp),
			  "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
			  "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
			  acc);
	c->ws = true;
	if (send(c->fd, resp, (size_t)rl, MSG_NOSIGNAL) != rl)
		conn_kill(c); /* a fresh socket takes 130 bytes, or is gone */
	return (size_t)(e + 4 - p);
}

static size_t consume(struct conn *c, uint8_t *p, size_t n)
{
	size_t used = 0;
	if (!c->ws) {
		used = handshake(c, p, n);
		if (!used)
			return 0;
	}
	return used + parse_frames(c, p + used, n - used);
}

static void on_readable(struct conn *c)
{
	ssize_t r = recv(c->fd, rdbuf, RDBUF, 0);
	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (r <= 0) {
		conn_kill(c);
		return;
	}
	uint8_t *p = rdbuf;
	size_t n = (size_t)r;
	if (c->rx_n) { /* finish the kept piece first */
		if (rx_keep(c, p, n)) {
			conn_kill(c);
			return;
		}
		size_t used = consume(c, c->rx, c->rx_n);
		memmove(c->rx, c->rx + used, c->rx_n - used);
		c->rx_n -= (uint32_t)used;
		return;
	}
	size_t used = consume(c, p, n);
	if (!c->dead && used < n && rx_keep(c, p + used, n - used))
		conn_kill(c);
}

static void set_pollout(struct conn *c, bool on)
{
	if (c->pollout == on)
		return;
	struct epoll_event ev = {.events = EPOLLIN | (on ? EPOLLOUT : 0), .data.ptr = c};
	epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
	c->pollout = on;
}

/* The iovecs of what c has queued, up to max frames. */
static size_t gather(struct conn *c, struct iovec *iov, size_t max)
{
	size_t k = 0;
	for (uint32_t i = 0; i < c->q_n && k < max; i++, k++) {
		struct frame *f = c->q[(c->q_head + i) % c->q_cap];
		uint32_t off = i ? 0 : c->q_off;
		iov[k].iov_base = f->data + off;
		iov[k].iov_len = f->len - off;
	}
	return k;
}

/* What the kernel took (w bytes, or -errno) is done with. */
static void sent(struct conn *c, ssize_t w)
{
	if (w < 0) {
		if (w != -EAGAIN && w != -EINTR)
			conn_kill(c);
		w = 0;
	}
	size_t left = (size_t)w;
	while (c->q_n) {
		struct frame *f = c->q[c->q_head];
		size_t rest = f->len - c->q_off;
		if (left < rest) {
			c->q_off += (uint32_t)left;
			break;
		}
		left -= rest;
		c->q_off = 0;
		frame_unref(f);
		c->q_head = (c->q_head + 1) % c->q_cap;
		c->q_n--;
	}
	set_pollout(c, c->q_n > 0);
}

/* One sendmsg of everything queued (up to MAX_IOV frames). */
static void flush(struct conn *c)
{
	struct iovec iov[MAX_IOV];
	struct msghdr mh = {.msg_iov = iov, .msg_iovlen = gather(c, iov, MAX_IOV)};
	if (!mh.msg_iovlen)
		return;
	ssize_t w = sendmsg(c->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
	sent(c, w < 0 ? -errno : w);
}

/* --io-uring: the same sendmsg()s, made in one system call. */
static struct io_uring ring;
static bool use_ring;
static struct pending {
	struct conn *c;
	struct msghdr mh;
	struct iovec iov[BATCH_IOV];
} pend[BATCH];

static void flush_ring(void)
{
	while (dirty) {
		unsigned n = 0;
		for (; dirty && n < BATCH; dirty = dirty->next_dirty) {
			struct conn *c = dirty;
			struct pending *p = &pend[n];
			c->dirty = false;
			if (c->dead || !(p->mh.msg_iovlen = gather(c, p->iov, BATCH_IOV)))
				continue;
			p->c = c;
			p->mh.msg_iov = p->iov;
			struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
			io_uring_prep_sendmsg(sqe, c->fd, &p->mh, MSG_NOSIGNAL | MSG_DONTWAIT);
			io_uring_sqe_set_data64(sqe, n++);
		}
		int rc = n ? io_uring_submit_and_wait(&ring, n) : 0;
		if (rc != (int)n) {
			fprintf(stderr, "floor: io_uring_submit: %s\n", rc < 0 ? strerror(-rc) : "short");
			exit(1);
		}
		/* read in place, as potluck reads them (src/net/batch.c): every
		 * send completed inline, so all n are there */
		struct io_uring_cqe *cqe;
		unsigned head, got = 0;
		io_uring_for_each_cqe(&ring, head, cqe) {
			sent(pend[io_uring_cqe_get_data64(cqe)].c, cqe->res);
			got++;
		}
		io_uring_cq_advance(&ring, got);
		if (got != n) {
			fprintf(stderr, "floor: %u of %u sends answered\n", got, n);
			exit(1);
		}
	}
}

static void accept_all(int lfd)
{
	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		struct conn *c = calloc(1, sizeof(*c));
		struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
		if (!c || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev)) {
			free(c);
			close(fd);
			continue;
		}
		c->fd = fd;
	}
}

int main(int argc, char **argv)
{
	const char *host = "127.0.0.1", *redis = NULL;
	int port = 8090;
	static const struct option lo[] = {
		{"host", 1, 0, 'h'},     {"port", 1, 0, 'p'}, {"help", 0, 0, 'H'},
		{"io-uring", 0, 0, 'u'}, {"redis", 1, 0, 'r'},  {0, 0, 0, 0}};
	int ch;
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (ch == 'h')
			host = optarg;
		else if (ch == 'p')
			port = atoi(optarg);
		else if (ch == 'u')
			use_ring = true;
		else if (ch == 'r')
			redis = optarg;
		else {
			fprintf(ch == 'H' ? stdout : stderr, "usage: floor [--host 127.0.0.1] [--port 8090] "
							     "[--io-uring] [--redis HOST:PORT|PATH]\n");
			return ch == 'H' ? 0 : 2;
		}
	}
	signal(SIGPIPE, SIG_IGN);
	struct rlimit rl;
	if (!getrlimit(RLIMIT_NOFILE, &rl)) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1;
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1 ||
	    bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(lfd, 4096)) {
		fprintf(stderr, "floor: cannot listen on %s:%d: %s\n", host, port, strerror(errno));
		return 1;
	}
	if (use_ring) { /* set up as potluck sets up its ring (src/net/batch.c) */
		static const unsigned flags[] = {
			IORING_SETUP_SUBMIT_ALL | IORING_SETUP_COOP_TASKRUN | IORING_SETUP_SINGLE_ISSUER,
			IORING_SETUP_SUBMIT_ALL | IORING_SETUP_COOP_TASKRUN, IORING_SETUP_SUBMIT_ALL};
		int rc = -EINVAL;
		for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]) && rc == -EINVAL; i++) {
			struct io_uring_params p = {.flags = flags[i]};
			rc = io_uring_queue_init_params(BATCH, &ring, &p);
		}
		if (rc < 0) {
			fprintf(stderr, "floor: io_uring: %s\n", strerror(-rc));
			return 1;
		}
	}
	ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event lev = {.events = EPOLLIN, .data.ptr = NULL};
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &lev);
	if (redis) {
		static const char sub[] = "*2\r\n$9\r\nSUBSCRIBE\r\n$5\r\nfloor\r\n",
				  quiet[] = "*3\r\n$6\r\nCLIENT\r\n$5\r\nREPLY\r\n$3\r\nOFF\r\n";
		redis_pub = redis_connect(redis, &redis_pub_tag, false);
		redis_sub = redis_connect(redis, &redis_sub_tag, true);
		if (redis_pub < 0 || redis_sub < 0 || write(redis_sub, sub, sizeof(sub) - 1) != sizeof(sub) - 1 ||
		    write(redis_pub, quiet, sizeof(quiet) - 1) != sizeof(quiet) - 1) {
			fprintf(stderr, "floor: cannot reach redis at %s\n", redis);
			return 1;
		}
	}
	fprintf(stderr, "floor: listening on %s:%d\n", host, port);
	static struct epoll_event evs[1024];
	for (;;) {
		int n = epoll_wait(ep, evs, 1024, -1);
		if (n < 0 && errno != EINTR)
			return 1;
		for (int i = 0; i < n; i++) {
			struct conn *c = evs[i].data.ptr;
			if (!c) {
				accept_all(lfd);
				continue;
			}
			if (c == &redis_pub_tag) {
				on_pub_readable();
				continue;
			}
			if (c == &redis_sub_tag) {
				on_sub_readable();
				continue;
			}
			if (c->dead)
				continue;
			if (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))
				on_readable(c);
			if ((evs[i].events & EPOLLOUT) && !c->dirty && !c->dead) {
				c->dirty = true;
				c->next_dirty = dirty;
				dirty = c;
			}
		}
		/* after the batch: the batch's publishes in one write, then one
		 * send per connection with something queued */
		if (pub_out.n)
			publish_flush();
		if (use_ring)
			flush_ring();
		while (dirty) {
			struct conn *c = dirty;
			dirty = c->next_dirty;
			c->dirty = false;
			if (!c->dead)
				flush(c);
		}
		while (dead) {
			struct conn *c = dead;
			dead = c->next_dead;
			conn_free(c);
		}
	}
}
