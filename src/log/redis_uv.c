/*
 * redis_uv.c — hiredis on our libuv loop.
 *
 * hiredis 0.14's libuv adapter costs a Redis command far more than the
 * command itself, and drops errors. This one differs in three ways:
 *
 * - Writes are corked, as the WebSocket writes are (net/ws.c): a command
 *   issued on a connected context is written at the end of the loop
 *   iteration that issued it (a check handle), together with any others of
 *   that iteration, instead of arming POLLOUT and waiting a loop turn for
 *   it. Only a write that falls short arms POLLOUT. The stock adapter made
 *   every append cost 5 epoll_ctl and an extra epoll_wait.
 * - The poll is changed only when what it watches changes: uv_poll_start
 *   on an active handle removes the descriptor from epoll and adds it back,
 *   and hiredis asks to read again after every read (2 more epoll_ctl per
 *   reply, per connection).
 * - A poll error is handed to hiredis as a read, which notices the broken
 *   socket and calls the disconnect (or connect) callback; the stock
 *   adapter returns early and a refused or reset connection is never
 *   reported.
 */
#include <hiredis/async.h>
#include <stdbool.h>
#include <stdlib.h>
#include <uv.h>

#include "log/redis_uv.h"

struct uvev {
	redisAsyncContext *ac; /* NULL once hiredis let go of it */
	uv_poll_t poll;
	uv_check_t flush;      /* writes what hiredis holds, after this iteration's I/O */
	uv_idle_t kick;        /* keeps the loop from blocking before that */
	int events;            /* what the poll watches */
	int open;              /* handles not yet closed */
	bool flushing;
};

static void uvev_poll(uv_poll_t *h, int status, int events)
{
	struct uvev *e = h->data;
	if (status < 0) { /* an error: let hiredis find it on the socket */
		events = e->events ? e->events : UV_READABLE;
		/* libuv has stopped the poll; if the read still finds data (a
		 * reply before the reset), hiredis asks to read again, and that
		 * must start it anew */
		e->events = 0;
	}
	if (e->ac && (events & UV_READABLE))
		redisAsyncHandleRead(e->ac);
	if (e->ac && (events & UV_WRITABLE))
		redisAsyncHandleWrite(e->ac);
}

static void uvev_set(struct uvev *e, int add, int del)
{
	int events = (e->events | add) & ~del;
	if (events == e->events)
		return;
	e->events = events;
	if (events)
		uv_poll_start(&e->poll, events, uvev_poll);
	else
		uv_poll_stop(&e->poll);
}

static void kick_noop(uv_idle_t *h)
{
	(void)h;
}

static void uvev_flush(uv_check_t *h)
{
	struct uvev *e = h->data;
	uv_check_stop(&e->flush);
	uv_idle_stop(&e->kick);
	if (!e->ac)
		return;
	/* A short write makes hiredis ask again (add_write while flushing):
	 * then the socket is full, and POLLOUT is what to wait for. */
	e->flushing = true;
	redisAsyncHandleWrite(e->ac);
	e->flushing = false;
}

static void uvev_add_write(void *p)
{
	struct uvev *e = p;
	/* Before the connection is up, writable means connected: poll for it. */
	if (!e->flushing && !(e->events & UV_WRITABLE) && (e->ac->c.flags & REDIS_CONNECTED)) {
		uv_check_start(&e->flush, uvev_flush);
		uv_idle_start(&e->kick, kick_noop);
		return;
	}
	uvev_set(e, UV_WRITABLE, 0);
}

static void uvev_del_write(void *p)
{
	struct uvev *e = p;
	uv_check_stop(&e->flush);
	uv_idle_stop(&e->kick);
	uvev_set(e, 0, UV_WRITABLE);
}

static void uvev_add_read(void *p) { uvev_set(p, UV_READABLE, 0); }
static void uvev_del_read(void *p) { uvev_set(p, 0, UV_READABLE); }

static void uvev_closed(uv_handle_t *h)
{
	struct uvev *e = h->data;
	if (--e->open == 0)
		free(e);
}

static void uvev_cleanup(void *p)
{
	struct uvev *e = p;
	e->ac = NULL; /* the context is going away */
	uv_close((uv_handle_t *)&e->poll, uvev_closed);
	uv_close((uv_handle_t *)&e->flush, uvev_closed);
	uv_close((uv_handle_t *)&e->kick, uvev_closed);
}

int log__redis_uv_attach(redisAsyncContext *ac, uv_loop_t *loop)
{
	struct uvev *e = calloc(1, sizeof(*e));
	if (!e)
		return REDIS_ERR;
	if (uv_poll_init(loop, &e->poll, ac->c.fd)) {
		free(e);
		return REDIS_ERR;
	}
	/* check and idle handles cannot fail to initialise */
	uv_check_init(loop, &e->flush);
	uv_idle_init(loop, &e->kick);
	e->poll.data = e->flush.data = e->kick.data = e;
	e->open = 3;
	e->ac = ac;
	ac->ev.data = e;
	ac->ev.addRead = uvev_add_read;
	ac->ev.delRead = uvev_del_read;
	ac->ev.addWrite = uvev_add_write;
	ac->ev.delWrite = uvev_del_write;
	ac->ev.cleanup = uvev_cleanup;
	return REDIS_OK;
}
