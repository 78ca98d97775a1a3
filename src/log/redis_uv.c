/*
 * redis_uv.c — hiredis on our libuv loop.
 *
 * hiredis 0.14's libuv adapter drops poll errors (`if (status) return;`), so
 * a refused or reset connection is never reported and never retried. This
 * small adapter hands errors to hiredis as a read, which notices the broken
 * socket and calls the disconnect (or connect) callback.
 */
#include <hiredis/async.h>
#include <stdlib.h>
#include <uv.h>

#include "log/redis_uv.h"

struct uvev {
	redisAsyncContext *ac;
	uv_poll_t poll;
	int events;
};

static void uvev_poll(uv_poll_t *h, int status, int events)
{
	struct uvev *e = h->data;
	if (status < 0) /* an error: let hiredis find it on the socket */
		events = e->events ? e->events : UV_READABLE;
	if (e->ac && (events & UV_READABLE))
		redisAsyncHandleRead(e->ac);
	if (e->ac && (events & UV_WRITABLE))
		redisAsyncHandleWrite(e->ac);
}

static void uvev_set(struct uvev *e, int add, int del)
{
	e->events = (e->events | add) & ~del;
	if (e->events)
		uv_poll_start(&e->poll, e->events, uvev_poll);
	else
		uv_poll_stop(&e->poll);
}

static void uvev_add_read(void *p) { uvev_set(p, UV_READABLE, 0); }
static void uvev_del_read(void *p) { uvev_set(p, 0, UV_READABLE); }
static void uvev_add_write(void *p) { uvev_set(p, UV_WRITABLE, 0); }
static void uvev_del_write(void *p) { uvev_set(p, 0, UV_WRITABLE); }

static void uvev_closed(uv_handle_t *h)
{
	free(h->data);
}

static void uvev_cleanup(void *p)
{
	struct uvev *e = p;
	e->ac = NULL; /* the context is going away */
	uv_close((uv_handle_t *)&e->poll, uvev_closed);
}

int log__redis_uv_attach(redisAsyncContext *ac, uv_loop_t *loop)
{
	struct uvev *e = calloc(1, sizeof(*e));
	if (!e || uv_poll_init(loop, &e->poll, ac->c.fd)) {
		free(e);
		return REDIS_ERR;
	}
	e->ac = ac;
	e->poll.data = e;
	ac->ev.data = e;
	ac->ev.addRead = uvev_add_read;
	ac->ev.delRead = uvev_del_read;
	ac->ev.addWrite = uvev_add_write;
	ac->ev.delWrite = uvev_del_write;
	ac->ev.cleanup = uvev_cleanup;
	return REDIS_OK;
}
