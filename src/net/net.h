/*
 * net.h — the libwebsockets side: one context on our libuv loop, HTTP routes
 * (the JSON API, health, static web app) and WebSocket connections with
 * bounded outbound queues.
 *
 * Writes are corked: the hub queues frame references on connections during a
 * loop iteration; net_flush(), run once per iteration after the log has
 * delivered, gives each connection with queued frames one write of all its
 * bytes (with io_uring, the writes of up to 256 connections in one system
 * call), unless lws still holds unsent bytes for it, in which case the
 * WRITEABLE callback that lws arms finishes the job.
 *
 * Uses hub/, wire/, util/ and lws; owns every struct lws it sees.
 */
#ifndef PL_NET_H
#define PL_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hub/hub.h"

/* Close codes beyond RFC 6455's, documented in proto/PROTOCOL.md. */
enum net_close {
	NET_CLOSE_SLOW = 4001,
	NET_CLOSE_REPLACED = 4002,
};

struct net_config {
	const char *host;
	int port;
	const char *web_root;
	size_t max_msg;          /* bytes per client message */
	size_t queue_bytes;      /* outbound queue limit per connection */
	unsigned queue_frames;
	int sndbuf;              /* SO_SNDBUF per WebSocket connection, 0: the kernel's */
	unsigned rate;           /* requests per second per connection */
	unsigned burst;
	bool io_uring;           /* batch each flush's sends (batch.c), if the kernel can */
};

struct net;
struct uv_loop_s;

/* The operations the hub uses on connections. */
extern const struct hub_io net_hub_io;

/* NULL if the context or the listening socket cannot be had. */
struct net *net_new(struct uv_loop_s *loop, const struct net_config *cfg, struct hub *hub);
void net_flush(struct net *n);
/* Closes every connection with 1001; calls done once all are gone (or after
 * a short deadline). */
void net_shutdown(struct net *n, void (*done)(void *arg), void *arg);
/* Starts destroying the lws context; the loop must run on to close its
 * handles, then net_final() finishes and frees. */
void net_free(struct net *n);
void net_final(struct net *n);
size_t net_connections(const struct net *n);

#endif
