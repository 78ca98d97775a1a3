/*
 * batch.c — the sends of one net_flush in one system call.
 *
 * A fan-out is a burst of sends, each of which wakes a reader. A reader
 * woken on the server's core preempts the server as that send() returns to
 * user space, so with a send() per connection a fan-out to 20 is cut into
 * pieces, with a pair of context switches per piece, all charged to the
 * server. Queued on an io_uring and submitted together, the sends run back
 * to back inside one io_uring_enter(), which returns to user space once,
 * and a reader woken by the first is already awake for the rest: in rooms
 * of 20 at 10,000 deliveries/s, with the generator on the same two cores,
 * the server was switched out against its will 11,500 times in 10 s with a
 * send() each, 1,700 times this way, and used a quarter less CPU per
 * delivery. Where the readers' wake-ups do not preempt it, what is saved
 * is the returns to user space: about 10 % here (BENCHMARKS.md, "io_uring").
 *
 * Every send is MSG_DONTWAIT, which io_uring takes as "never wait" (an
 * -EAGAIN completes the request instead of arming a poll), so the kernel
 * does each inline and its completion is there when io_uring_enter()
 * returns, with what it took, -EAGAIN if nothing: the same answers as
 * send(), handled the same way (conn_wrote). A completion that is not there
 * within a second is treated as a failure of the ring (net_batch_run). A
 * connection batched here has its whole queue in one send, a lone frame
 * from its own memory, several gathered into the arena; a queue bigger than
 * a write, or a connection lws holds bytes for, goes the old way.
 *
 * Without io_uring (a kernel before 5.18, a filter that forbids it,
 * --io-uring off) there is no batch and net_flush sends one by one.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "net/net_int.h"
#include "util/ulog.h"

void net_batch_init(struct net *n, bool want)
{
	struct net_batch *b = &n->batch;
	b->on = false;
	if (!want) {
		ULOG_I("io_uring off: one send() per connection");
		return;
	}
	b->arena = malloc(LWS_PRE + BATCH_ARENA);
	if (!b->arena) {
		ULOG_W("out of memory for io_uring's buffer: one send() per connection");
		return;
	}
	/* SUBMIT_ALL (5.18): a send that fails to start does not hold back the
	 * ones after it. The other two (5.19, 6.0) only save work, and go if
	 * the kernel refuses them. */
	static const unsigned flags[] = {
		IORING_SETUP_SUBMIT_ALL | IORING_SETUP_COOP_TASKRUN | IORING_SETUP_SINGLE_ISSUER,
		IORING_SETUP_SUBMIT_ALL | IORING_SETUP_COOP_TASKRUN,
		IORING_SETUP_SUBMIT_ALL,
	};
	int rc = -EINVAL;
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]) && rc == -EINVAL; i++) {
		struct io_uring_params p = {.flags = flags[i]};
		rc = io_uring_queue_init_params(BATCH_SLOTS, &b->ring, &p);
	}
	if (rc < 0) {
		ULOG_I("no io_uring here (%s): one send() per connection", strerror(-rc));
		free(b->arena);
		b->arena = NULL;
		return;
	}
	io_uring_ring_dontfork(&b->ring); /* the log's syncer holds nothing of ours */
	b->on = true;
	ULOG_I("writes batched on io_uring, up to %d in one system call", BATCH_SLOTS);
}

void net_batch_free(struct net *n)
{
	struct net_batch *b = &n->batch;
	if (b->on)
		io_uring_queue_exit(&b->ring);
	b->on = false;
	free(b->arena);
	b->arena = NULL;
}

/* What the kernel said about a slot's send: its completion, or, if the ring
 * failed us, a send() of its own. */
static void slot_done(struct batch_slot *s, ssize_t sent)
{
	struct conn *c = s->c;
	uint32_t off = 0;
	c->batched = false;
	if (conn_wrote(c, s->p, s->len, s->frames, sent, &off) == 0 && c->q_n)
		lws_callback_on_writable(c->wsi); /* queued since: none do today */
}

void net_batch_run(struct net *n)
{
	struct net_batch *b = &n->batch;
	unsigned todo = b->n, done = 0;
	if (!todo)
		return;
	/* Each send completes inline, so its completion is there when this
	 * returns. The slots go in order: those submitted are the first. */
	int rc = io_uring_submit_and_wait(&b->ring, todo);
	unsigned submitted = rc > 0 ? (unsigned)rc : 0;
	n->stats.batches += submitted > 0;
	n->stats.batched += submitted;
	while (done < submitted) {
		struct io_uring_cqe *cqe;
		unsigned head, seen = 0;
		io_uring_for_each_cqe(&b->ring, head, cqe) { /* all there, as a rule */
			struct batch_slot *s = &b->slot[io_uring_cqe_get_data64(cqe)];
			s->todo = false;
			slot_done(s, cqe->res);
			seen++;
		}
		io_uring_cq_advance(&b->ring, seen);
		done += seen;
		if (seen)
			continue;
		struct __kernel_timespec wait = {.tv_sec = 1};
		int e = io_uring_wait_cqe_timeout(&b->ring, &cqe, &wait);
		if (e < 0 && e != -EINTR) {
			rc = e;
			break;
		}
	}
	if (done < todo) {
		/* Not expected. The ring is not used again. A send it never
		 * started is done here; one it started but did not answer for
		 * may or may not have gone out, so that connection is closed
		 * (its client resumes) rather than sent the bytes twice. */
		ULOG_W("io_uring failed (%s): one send() per connection from now on",
		       strerror(rc < 0 ? -rc : EIO));
		for (unsigned i = 0; i < todo; i++) {
			struct batch_slot *s = &b->slot[i];
			if (!s->todo)
				continue;
			s->todo = false;
			ssize_t sent = -EIO;
			if (i >= submitted) {
				sent = send(s->c->fd, s->p, s->len, MSG_NOSIGNAL | MSG_DONTWAIT);
				if (sent < 0)
					sent = -errno;
			}
			slot_done(s, sent);
		}
		io_uring_queue_exit(&b->ring);
		b->on = false;
	}
	b->n = 0;
	b->used = 0;
}

bool net_batch_add(struct net *n, struct conn *c)
{
	struct net_batch *b = &n->batch;
	if (!b->on || !c->q_n || c->q_bytes > NET_SCRATCH)
		return false; /* nothing to send (WRITEABLE sent it), or too much */
	if (b->n == BATCH_SLOTS || (c->q_n > 1 && b->used + c->q_bytes > BATCH_ARENA)) {
		net_batch_run(n);
		if (!b->on)
			return false;
	}
	struct io_uring_sqe *sqe = io_uring_get_sqe(&b->ring);
	if (!sqe)
		return false; /* not while slots are free; but never a lost send */
	struct batch_slot *s = &b->slot[b->n];
	s->c = c;
	s->todo = true;
	if (c->q_n == 1) {
		struct frame *f = c->q[c->q_head];
		s->p = f->data;
		s->len = f->len;
		s->frames = 1;
	} else {
		uint8_t *dst = b->arena + LWS_PRE + b->used;
		s->p = dst;
		s->len = (uint32_t)net_gather(c, 0, dst, BATCH_ARENA - b->used, &s->frames);
		b->used += s->len;
	}
	io_uring_prep_send(sqe, c->fd, s->p, s->len, MSG_NOSIGNAL | MSG_DONTWAIT);
	io_uring_sqe_set_data64(sqe, b->n);
	b->n++;
	c->batched = true;
	return true;
}
