/*
 * redis_uv.h — attaching a hiredis async context to a libuv loop (used by
 * redislog.c; hiredis 0.14's own adapter drops poll errors).
 */
#ifndef PL_REDIS_UV_H
#define PL_REDIS_UV_H

#include <hiredis/async.h>
#include <uv.h>

/* REDIS_OK or REDIS_ERR; the context's cleanup closes the poll handle. */
int log__redis_uv_attach(redisAsyncContext *ac, uv_loop_t *loop);

#endif
