/*
 * net.c — the lws context on our libuv loop, and shutdown.
 *
 * lws runs on a loop we own and pass in foreign_loops (Debian's build does
 * not export lws_uv_getloop). With a foreign loop, lws_create_context
 * succeeds even when the port cannot be bound, so the vhost is created
 * explicitly and checked. The settings were measured: a small rx
 * buffer with tx_packet_size set (else every send is capped near the rx
 * size), a small header pool, and a deliberate idle policy.
 */
#include <stdlib.h>
#include <string.h>

#include "net/net_int.h"
#include "util/ulog.h"

static const lws_retry_bo_t idle_policy = {
	.secs_since_valid_ping = 60,   /* ping a quiet connection after a minute */
	.secs_since_valid_hangup = 90, /* and drop it if nothing came back */
};

static const struct lws_protocols protocols[] = {
	{
		.name = "http",
		.callback = net_http_callback,
		.per_session_data_size = sizeof(struct http_req),
	},
	{
		.name = "potluck.v1",
		.callback = net_ws_callback,
		.per_session_data_size = sizeof(struct conn),
		.rx_buffer_size = 128, /* >= 125: a control frame arrives whole */
		.tx_packet_size = 64 * 1024,
	},
	{NULL, NULL, 0, 0, 0, NULL, 0},
};

static void lws_log(int level, const char *line)
{
	size_t n = strlen(line);
	while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		n--;
	if (level & LLL_ERR)
		ULOG_W("lws: %.*s", (int)n, line);
	else
		ULOG_D("lws: %.*s", (int)n, line);
}

struct net *net_new(uv_loop_t *loop, const struct net_config *cfg, struct hub *hub)
{
	struct net *n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	n->loop = loop;
	n->cfg = *cfg;
	n->hub = hub;
	snprintf(n->web_root, sizeof(n->web_root), "%s", cfg->web_root);
	size_t wl = strlen(n->web_root);
	while (wl > 1 && n->web_root[wl - 1] == '/')
		n->web_root[--wl] = '\0';
	n->scratch = malloc(LWS_PRE + NET_SCRATCH);
	msgpack_unpacked_init(&n->u);
	uv_timer_init(loop, &n->drain_timer);
	n->drain_timer.data = n;
	uv_idle_init(loop, &n->kick);
	if (!n->scratch)
		goto fail;
	net_batch_init(n, cfg->io_uring);

	lws_set_log_level(LLL_ERR | LLL_WARN, lws_log);
	struct lws_context_creation_info info;
	memset(&info, 0, sizeof(info));
	void *loops[1] = {loop};
	info.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
	info.foreign_loops = loops;
	info.pcontext = &n->ctx; /* lws sets it to NULL once fully destroyed */
	info.user = n;
	info.max_http_header_data = 2048;
	info.max_http_header_pool = 32;
	info.retry_and_idle_policy = &idle_policy;
	info.timeout_secs = 10;
	n->ctx = lws_create_context(&info);
	if (!n->ctx) {
		ULOG_E("cannot create the libwebsockets context");
		goto fail;
	}
	info.port = cfg->port;
	info.iface = cfg->host;
	info.protocols = protocols;
	info.vhost_name = "potluck";
	n->vh = lws_create_vhost(n->ctx, &info);
	if (!n->vh) {
		ULOG_E("cannot listen on %s:%d (in use, or not an address here?)", cfg->host,
		       cfg->port);
		goto fail;
	}
	return n;
fail:
	/* the process is about to exit: no loop runs again, so lws's foreign
	 * loop handles are not walked (running the loop after a failed start
	 * crashed in the evlib plugin) */
	if (n->ctx)
		lws_context_destroy(n->ctx);
	msgpack_unpacked_destroy(&n->u);
	net_batch_free(n);
	free(n->scratch);
	free(n->flush);
	return NULL;
}

void net_drained(struct net *n)
{
	uv_timer_stop(&n->drain_timer);
	if (n->on_drained) {
		void (*done)(void *) = n->on_drained;
		n->on_drained = NULL;
		done(n->drained_arg);
	}
}

static void drain_deadline(uv_timer_t *t)
{
	struct net *n = t->data;
	ULOG_W("%zu connections did not close in time", n->nconns);
	net_drained(n);
}

void net_shutdown(struct net *n, void (*done)(void *arg), void *arg)
{
	n->shutting_down = true;
	n->on_drained = done;
	n->drained_arg = arg;
	for (struct conn *c = n->conns; c; c = c->next)
		net_conn_close(c, LWS_CLOSE_STATUS_GOINGAWAY, "server shutting down");
	if (!n->nconns) {
		net_drained(n);
		return;
	}
	net_flush(n);
	uv_timer_start(&n->drain_timer, drain_deadline, 2000, 0);
}

size_t net_connections(const struct net *n)
{
	return n->nconns;
}

void net_free(struct net *n)
{
	if (!n)
		return;
	/* With a foreign loop, destruction finishes as lws's handles close:
	 * the loop must run on, then net_final() completes it. */
	if (n->ctx)
		lws_context_destroy(n->ctx);
	uv_close((uv_handle_t *)&n->drain_timer, NULL);
	uv_close((uv_handle_t *)&n->kick, NULL);
}

void net_final(struct net *n)
{
	if (!n)
		return;
	if (n->ctx) {
		lws_context_destroy(n->ctx);
		uv_run(n->loop, UV_RUN_DEFAULT);
	}
	msgpack_unpacked_destroy(&n->u);
	net_batch_free(n);
	free(n->scratch);
	free(n->flush);
	free(n);
}
