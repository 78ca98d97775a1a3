/*
 * redislog.c — the room log on Redis, for several instances.
 *
 * Keys of a room share one hash tag, so they live in one Cluster slot:
 *   potluck:{ROOM}:seq   the last seq (INCR)
 *   potluck:{ROOM}:log   the records, a stream whose entry ids are "SEQ-0"
 *   potluck:{ROOM}:ch    the channel every append is published on
 * (deploy/REDIS.md lists every key).
 *
 * An append is one Lua script (loaded once, run by EVALSHA, sent whole again
 * after NOSCRIPT): INCR the seq, XADD the record with Redis TIME as its
 * timestamp, PUBLISH "SEQ:TS:RECORD" — atomically, so the stream's order is
 * the publish order, and every instance sees one order.
 *
 * Each instance has two connections on its libuv loop: one for commands and
 * one for SUBSCRIBE. A room loads by subscribing first and then reading its
 * stream (XRANGE) from the start, so nothing published meanwhile is missed;
 * published records that arrive early wait in a small buffer. Records are
 * delivered strictly in seq order: a duplicate is dropped, a gap is filled
 * from the stream before anything after it is delivered.
 *
 * When Redis goes away, appends fail at once with `unavailable` (the hub
 * tells the client, which retries), the connections come back with backoff,
 * every room resubscribes and catches up from its stream. Nothing is
 * dropped silently and nothing is applied twice.
 */
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <uv.h>

#include "log/log.h"
#include "log/redis_uv.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/map.h"
#include "util/text.h"
#include "util/ulog.h"

#define XRANGE_PAGE "1000"
#define EARLY_MAX 4096 /* published records held while a room catches up */

static const char script[] =
	"local exists = redis.call('EXISTS', KEYS[1]) == 1\n"
	"if ARGV[2] == '1' then\n"
	"  if exists then return redis.error_reply('EXISTS room exists') end\n"
	"elseif not exists then\n"
	"  return redis.error_reply('NOROOM no such room')\n"
	"end\n"
	"local seq = redis.call('INCR', KEYS[1])\n"
	"local t = redis.call('TIME')\n"
	"local ts = string.format('%d', tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))\n"
	"local s = string.format('%d', seq)\n"
	"redis.call('XADD', KEYS[2], s .. '-0', 'ts', ts, 'r', ARGV[1])\n"
	"redis.call('PUBLISH', KEYS[3], s .. ':' .. ts .. ':' .. ARGV[1])\n"
	"return {seq, tonumber(ts)}\n";

struct early {
	uint64_t seq;
	int64_t ts;
	size_t len;
	uint8_t data[];
};

struct rlroom {
	struct log *log; /* first: see log.h */
	struct redislog *rl;
	struct log_room_cbs cbs;
	void *ctx;
	char id[64];
	char k_seq[96], k_log[96], k_ch[96];
	uint64_t seq;         /* last delivered */
	int flags;
	bool loading;         /* between load and ready */
	bool subscribed;
	bool catching_up;     /* an XRANGE is in flight */
	bool freed;           /* freed while a command was in flight */
	unsigned inflight;    /* commands whose callbacks will see this room */
	struct early **early; /* sorted by seq; grown on first use (most rooms never) */
	size_t nearly, early_cap;
	/* Appends whose reply was lost with the connection: applied or not,
	 * nobody knows until the stream has been read again after reconnecting.
	 * A record that comes back is answered by the hub as usual; the rest
	 * are reported failed then (the hub ignores those it answered). */
	struct append *limbo;
};

struct redislog {
	struct log base;
	uv_loop_t *loop;
	struct log_redis_addr addr;
	redisAsyncContext *cmd, *sub;
	bool cmd_up, sub_up;
	char sha[41];
	struct map rooms;     /* by channel name */
	uv_timer_t retry;
	unsigned backoff_ms;
	bool closing;
	uint64_t self;        /* this instance, for its heartbeat */
	unsigned ttl_ms;
	unsigned contexts;    /* hiredis contexts not yet gone */
	bool timer_closed;
};

struct append {
	struct rlroom *r;
	struct append *next;  /* in the room's limbo */
	size_t len;
	uint8_t data[];
};

static void connect_all(struct redislog *rl);
static void rl_heartbeat(struct log *log, uint64_t self, unsigned ttl_ms);

/* ---- helpers ----------------------------------------------------------- */

static void room_unhold(struct rlroom *r)
{
	if (--r->inflight == 0 && r->freed) {
		for (size_t i = 0; i < r->nearly; i++)
			free(r->early[i]);
		free(r->early);
		while (r->limbo) {
			struct append *a = r->limbo;
			r->limbo = a->next;
			free(a);
		}
		free(r);
	}
}

/* The stream has been read to its end after a reconnection: whatever is
 * still in limbo was not applied. */
static void settle_limbo(struct rlroom *r)
{
	while (r->limbo && !r->freed) {
		struct append *a = r->limbo;
		r->limbo = a->next;
		r->cbs.failed(r->ctx, a->data, a->len, PL_EUNAVAIL);
		free(a);
	}
}

static int64_t parse_i64(const char *s, size_t n, bool *ok)
{
	int64_t v = 0;
	*ok = n > 0;
	for (size_t i = 0; i < n && *ok; i++) {
		if (s[i] < '0' || s[i] > '9')
			*ok = false;
		else
			v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* Delivers records in seq order: early ones wait for the gap before them. */
static void catch_up(struct rlroom *r);

static void deliver(struct rlroom *r, uint64_t seq, int64_t ts, const uint8_t *data, size_t len)
{
	if (seq <= r->seq)
		return; /* a duplicate: seen already */
	if (seq != r->seq + 1 || r->catching_up || r->loading) {
		/* early: keep it (sorted) until what comes before it is here */
		if (r->nearly == EARLY_MAX) {
			ULOG_W("room %s: too many early records; reading them from the stream",
			       r->id);
			catch_up(r);
			return;
		}
		size_t i = r->nearly;
		while (i > 0 && r->early[i - 1]->seq > seq)
			i--;
		if (i > 0 && r->early[i - 1]->seq == seq)
			return;
		struct early *e = NULL;
		if (util_array_grow(&r->early, &r->early_cap, r->nearly, sizeof(*r->early), 16) ||
		    !(e = malloc(sizeof(*e) + len)))
			return; /* the stream still has it: a later gap fills it */
		e->seq = seq;
		e->ts = ts;
		e->len = len;
		memcpy(e->data, data, len);
		memmove(&r->early[i + 1], &r->early[i], (r->nearly - i) * sizeof(r->early[0]));
		r->early[i] = e;
		r->nearly++;
		if (!r->catching_up && !r->loading)
			catch_up(r);
		return;
	}
	struct log_rec rec = {.seq = seq, .ts = ts, .data = data, .len = len};
	r->seq = seq;
	r->cbs.record(r->ctx, &rec);
}

/* After a catch-up: deliver early records that now follow in order. */
static void drain_early(struct rlroom *r)
{
	size_t k = 0;
	while (k < r->nearly && r->early[k]->seq <= r->seq + 1) {
		struct early *e = r->early[k++];
		if (e->seq == r->seq + 1) {
			struct log_rec rec = {.seq = e->seq, .ts = e->ts, .data = e->data, .len = e->len};
			r->seq = e->seq;
			r->cbs.record(r->ctx, &rec);
		}
		free(e);
	}
	if (k) {
		memmove(r->early, r->early + k, (r->nearly - k) * sizeof(r->early[0]));
		r->nearly -= k;
	}
	if (r->nearly && !r->freed) /* still a gap: read it */
		catch_up(r);
}

/* ---- reading the stream ----------------------------------------------------- */

/* One XRANGE reply: [[id, [field, value, ...]], ...]. Returns entries read. */
static size_t take_entries(struct rlroom *r, const redisReply *rep)
{
	size_t n = 0;
	for (size_t i = 0; rep && rep->type == REDIS_REPLY_ARRAY && i < rep->elements; i++) {
		const redisReply *e = rep->element[i];
		if (e->type != REDIS_REPLY_ARRAY || e->elements != 2)
			continue;
		const redisReply *id = e->element[0], *kv = e->element[1];
		const char *dash = id->type == REDIS_REPLY_STRING ? memchr(id->str, '-', id->len) : NULL;
		bool ok;
		uint64_t seq = dash ? (uint64_t)parse_i64(id->str, (size_t)(dash - id->str), &ok) : 0;
		int64_t ts = 0;
		const redisReply *data = NULL;
		for (size_t k = 0; kv->type == REDIS_REPLY_ARRAY && k + 1 < kv->elements; k += 2) {
			const redisReply *f = kv->element[k], *v = kv->element[k + 1];
			if (f->len == 2 && !memcmp(f->str, "ts", 2))
				ts = parse_i64(v->str, v->len, &ok);
			else if (f->len == 1 && f->str[0] == 'r')
				data = v;
		}
		n++;
		if (seq && data && seq == r->seq + 1) {
			struct log_rec rec = {.seq = seq, .ts = ts, .data = (const uint8_t *)data->str,
					      .len = data->len};
			r->seq = seq;
			r->cbs.record(r->ctx, &rec);
		}
	}
	return n;
}

static void send_xrange(struct rlroom *r);

static void on_xrange(redisAsyncContext *ac, void *reply, void *priv)
{
	struct rlroom *r = priv;
	redisReply *rep = reply;
	(void)ac;
	if (r->freed) {
		room_unhold(r);
		return;
	}
	room_unhold(r);
	if (!rep || rep->type == REDIS_REPLY_ERROR) { /* Redis went away: resubscribe redoes it */
		r->catching_up = false;
		if (r->loading) {
			r->loading = false;
			r->cbs.ready(r->ctx, PL_EUNAVAIL);
		}
		return;
	}
	size_t n = take_entries(r, rep);
	if (n == (size_t)atoi(XRANGE_PAGE)) { /* more pages */
		send_xrange(r);
		return;
	}
	r->catching_up = false;
	if (r->loading) {
		r->loading = false;
		r->cbs.ready(r->ctx, r->seq || (r->flags & LOG_CREATE) ? 0 : PL_ENOTFOUND);
		if (r->freed)
			return;
	}
	drain_early(r);
	if (!r->catching_up)
		settle_limbo(r);
}

static void send_xrange(struct rlroom *r)
{
	struct redislog *rl = r->rl;
	char from[32];
	snprintf(from, sizeof(from), "%llu-0", (unsigned long long)r->seq + 1);
	const char *argv[] = {"XRANGE", r->k_log, from, "+", "COUNT", XRANGE_PAGE};
	r->catching_up = true;
	r->inflight++;
	if (!rl->cmd_up ||
	    redisAsyncCommandArgv(rl->cmd, on_xrange, r, 6, argv, NULL) != REDIS_OK) {
		r->inflight--;
		r->catching_up = false;
		if (r->loading) {
			r->loading = false;
			r->cbs.ready(r->ctx, PL_EUNAVAIL);
		}
	}
}

static void catch_up(struct rlroom *r)
{
	if (!r->catching_up)
		send_xrange(r);
}

/* ---- subscriptions ------------------------------------------------------- */

static void on_message(redisAsyncContext *ac, void *reply, void *priv)
{
	struct redislog *rl = priv;
	redisReply *rep = reply;
	(void)ac;
	if (!rep || rep->type != REDIS_REPLY_ARRAY || rep->elements < 3)
		return;
	const redisReply *kind = rep->element[0], *ch = rep->element[1], *msg = rep->element[2];
	if (kind->type != REDIS_REPLY_STRING || ch->type != REDIS_REPLY_STRING)
		return;
	char name[128];
	snprintf(name, sizeof(name), "%.*s", (int)ch->len, ch->str);
	struct rlroom *r = map_get(&rl->rooms, name);
	if (!r)
		return;
	if (kind->len == 9 && !memcmp(kind->str, "subscribe", 9)) {
		r->subscribed = true;
		send_xrange(r); /* load, or catch up after a reconnection */
		return;
	}
	if (kind->len != 7 || memcmp(kind->str, "message", 7) || msg->type != REDIS_REPLY_STRING)
		return;
	/* "SEQ:TS:RECORD" */
	const char *c1 = memchr(msg->str, ':', msg->len);
	const char *c2 = c1 ? memchr(c1 + 1, ':', msg->len - (size_t)(c1 + 1 - msg->str)) : NULL;
	bool ok1, ok2;
	if (!c2)
		return;
	uint64_t seq = (uint64_t)parse_i64(msg->str, (size_t)(c1 - msg->str), &ok1);
	int64_t ts = parse_i64(c1 + 1, (size_t)(c2 - c1 - 1), &ok2);
	if (ok1 && ok2)
		deliver(r, seq, ts, (const uint8_t *)c2 + 1, msg->len - (size_t)(c2 + 1 - msg->str));
}

static void subscribe(struct rlroom *r)
{
	struct redislog *rl = r->rl;
	const char *argv[] = {"SUBSCRIBE", r->k_ch};
	if (rl->sub_up)
		redisAsyncCommandArgv(rl->sub, on_message, rl, 2, argv, NULL);
}

/* ---- the log interface ----------------------------------------------------- */

static struct log_room *rl_room_new(struct log *log, const char *id,
				    const struct log_room_cbs *cbs, void *ctx)
{
	struct redislog *rl = (struct redislog *)log;
	size_t idn = strlen(id);
	if (!idn || idn > 48 || !util_is_b64url(id, idn))
		return NULL;
	struct rlroom *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->log = log;
	r->rl = rl;
	r->cbs = *cbs;
	r->ctx = ctx;
	memcpy(r->id, id, idn + 1);
	snprintf(r->k_seq, sizeof(r->k_seq), "potluck:{%s}:seq", id);
	snprintf(r->k_log, sizeof(r->k_log), "potluck:{%s}:log", id);
	snprintf(r->k_ch, sizeof(r->k_ch), "potluck:{%s}:ch", id);
	if (map_put(&rl->rooms, r->k_ch, r)) {
		free(r);
		return NULL;
	}
	return (struct log_room *)r;
}

static int rl_room_load(struct log_room *lr, int flags)
{
	struct rlroom *r = (struct rlroom *)lr;
	r->flags = flags;
	if (!r->rl->sub_up || !r->rl->cmd_up) {
		r->cbs.ready(r->ctx, PL_EUNAVAIL);
		return PL_EUNAVAIL;
	}
	r->loading = true;
	subscribe(r); /* the subscribe confirmation starts the XRANGE */
	return 0;
}

static void on_append(redisAsyncContext *ac, void *reply, void *priv);

static int send_append(struct append *a, bool whole_script)
{
	struct rlroom *r = a->r;
	struct redislog *rl = r->rl;
	const char *create = (r->flags & LOG_CREATE) && r->seq == 0 ? "1" : "0";
	const char *argv[] = {whole_script ? "EVAL" : "EVALSHA", whole_script ? script : rl->sha,
			      "3", r->k_seq, r->k_log, r->k_ch, (const char *)a->data, create};
	size_t len[] = {whole_script ? 4 : 7, whole_script ? strlen(script) : strlen(rl->sha),
			1, strlen(r->k_seq), strlen(r->k_log), strlen(r->k_ch), a->len, 1};
	if (!rl->cmd_up || redisAsyncCommandArgv(rl->cmd, on_append, a, 8, argv, len) != REDIS_OK)
		return PL_EUNAVAIL;
	r->inflight++;
	return 0;
}

static void on_append(redisAsyncContext *ac, void *reply, void *priv)
{
	struct append *a = priv;
	struct rlroom *r = a->r;
	redisReply *rep = reply;
	(void)ac;
	if (!r->freed && rep && rep->type == REDIS_REPLY_ERROR && !strncmp(rep->str, "NOSCRIPT", 8) &&
	    send_append(a, true) == 0) {
		room_unhold(r);
		return; /* sent again, whole */
	}
	if (!r->freed && !rep) { /* the connection went: applied or not? */
		a->next = r->limbo;
		r->limbo = a;
		room_unhold(r);
		return;
	}
	if (!r->freed && rep->type == REDIS_REPLY_ERROR) { /* not applied */
		ULOG_W("room %s: append refused: %s", r->id, rep->str);
		r->cbs.failed(r->ctx, a->data, a->len, PL_EUNAVAIL);
	}
	/* success: the record comes back through the subscription */
	free(a);
	room_unhold(r);
}

static int rl_room_append(struct log_room *lr, const uint8_t *data, size_t len)
{
	struct rlroom *r = (struct rlroom *)lr;
	struct append *a = malloc(sizeof(*a) + len);
	if (!a)
		return PL_ENOMEM;
	a->r = r;
	a->len = len;
	memcpy(a->data, data, len);
	int rc = send_append(a, false);
	if (rc)
		free(a);
	return rc;
}

static void rl_room_free(struct log_room *lr)
{
	struct rlroom *r = (struct rlroom *)lr;
	struct redislog *rl = r->rl;
	map_del(&rl->rooms, r->k_ch);
	if (rl->sub_up && r->subscribed) {
		const char *argv[] = {"UNSUBSCRIBE", r->k_ch};
		redisAsyncCommandArgv(rl->sub, NULL, NULL, 2, argv, NULL);
	}
	r->freed = true;
	r->inflight++;
	room_unhold(r);
}

static void rl_flush(struct log *log)
{
	(void)log; /* hiredis writes as the socket allows; nothing is batched here */
}

static int rl_sync(struct log *log)
{
	(void)log; /* Redis's own persistence (AOF) is what makes records durable */
	return 0;
}

/* Exports: a blocking connection pages through the stream. */
static int rl_read(struct log *log, const char *id, uint64_t upto,
		   void (*cb)(void *ctx, const struct log_rec *rec), void *ctx)
{
	struct redislog *rl = (struct redislog *)log;
	redisContext *c = log_redis_connect(&rl->addr, 5);
	if (!c)
		return PL_EUNAVAIL;
	redisReply *rep;
	char key[96], from[32];
	snprintf(key, sizeof(key), "potluck:{%s}:log", id);
	uint64_t seq = 0;
	int rc = 0;
	for (;;) {
		snprintf(from, sizeof(from), "%llu-0", (unsigned long long)seq + 1);
		rep = redisCommand(c, "XRANGE %s %s + COUNT %s", key, from, XRANGE_PAGE);
		if (!rep || rep->type != REDIS_REPLY_ARRAY) {
			rc = PL_EUNAVAIL;
			if (rep)
				freeReplyObject(rep);
			break;
		}
		size_t n = rep->elements;
		for (size_t i = 0; i < n; i++) {
			const redisReply *e = rep->element[i], *kv = e->element[1];
			bool ok;
			const char *dash = memchr(e->element[0]->str, '-', e->element[0]->len);
			uint64_t s = (uint64_t)parse_i64(e->element[0]->str,
							 (size_t)(dash - e->element[0]->str), &ok);
			if (s != seq + 1 || (upto && s > upto))
				break;
			struct log_rec rec = {.seq = s};
			for (size_t k = 0; k + 1 < kv->elements; k += 2) {
				if (kv->element[k]->len == 2)
					rec.ts = parse_i64(kv->element[k + 1]->str,
							   kv->element[k + 1]->len, &ok);
				else {
					rec.data = (const uint8_t *)kv->element[k + 1]->str;
					rec.len = kv->element[k + 1]->len;
				}
			}
			seq = s;
			cb(ctx, &rec);
		}
		freeReplyObject(rep);
		if (n < (size_t)atoi(XRANGE_PAGE) || (upto && seq >= upto))
			break;
	}
	redisFree(c);
	if (!rc && !seq)
		rc = PL_ENOTFOUND;
	return rc;
}

/* ---- connections ---------------------------------------------------------- */

static void on_script(redisAsyncContext *ac, void *reply, void *priv)
{
	redisReply *rep = reply;
	struct redislog *rl = priv;
	(void)ac;
	if (rep && rep->type == REDIS_REPLY_STRING && rep->len == 40)
		memcpy(rl->sha, rep->str, 41);
}

static void retry_cb(uv_timer_t *t)
{
	connect_all(t->data);
}

static void schedule_retry(struct redislog *rl)
{
	if (rl->closing || uv_is_active((uv_handle_t *)&rl->retry))
		return;
	rl->backoff_ms = rl->backoff_ms ? rl->backoff_ms * 2 : 100;
	if (rl->backoff_ms > 5000)
		rl->backoff_ms = 5000;
	uv_timer_start(&rl->retry, retry_cb, rl->backoff_ms, 0);
}

/* The log is freed once its timer is closed and hiredis is done with both
 * contexts (a disconnect waits for pending replies, whose callbacks still
 * see the log). */
static void maybe_release(struct redislog *rl)
{
	if (rl->closing && rl->timer_closed && !rl->contexts) {
		map_deinit(&rl->rooms);
		free(rl);
	}
}

static void on_connect(const redisAsyncContext *ac, int status)
{
	struct redislog *rl = ac->data;
	bool is_cmd = ac == rl->cmd;
	if (status != REDIS_OK) { /* hiredis frees the context after this */
		if (!rl->closing)
			ULOG_W("redis %s: %s", rl->addr.name, ac->errstr);
		if (is_cmd)
			rl->cmd = NULL;
		else
			rl->sub = NULL;
		rl->contexts--;
		schedule_retry(rl);
		maybe_release(rl);
		return;
	}
	if (is_cmd) {
		rl->cmd_up = true;
		const char *argv[] = {"SCRIPT", "LOAD", script};
		redisAsyncCommandArgv(rl->cmd, on_script, rl, 3, argv, NULL);
		if (rl->self)
			rl_heartbeat(&rl->base, rl->self, rl->ttl_ms);
	} else {
		rl->sub_up = true;
	}
	if (rl->cmd_up && rl->sub_up) {
		ULOG_I("redis %s: connected", rl->addr.name);
		rl->backoff_ms = 0;
		map_each(&rl->rooms, s)
		{
			struct rlroom *r = s->val;
			r->subscribed = false;
			subscribe(r); /* then XRANGE catches up what was missed */
		}
	}
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
	struct redislog *rl = ac->data;
	(void)status;
	if (ac == rl->cmd) {
		rl->cmd = NULL;
		rl->cmd_up = false;
	} else {
		rl->sub = NULL;
		rl->sub_up = false;
	}
	if (!rl->closing)
		ULOG_W("redis %s: connection lost; reconnecting", rl->addr.name);
	map_each(&rl->rooms, s)
		((struct rlroom *)s->val)->subscribed = false;
	rl->contexts--;
	schedule_retry(rl);
	maybe_release(rl);
}

static redisAsyncContext *open_one(struct redislog *rl)
{
	const struct log_redis_addr *a = &rl->addr;
	redisAsyncContext *ac = a->port ? redisAsyncConnect(a->host, a->port)
					: redisAsyncConnectUnix(a->host);
	if (!ac || ac->err) {
		if (ac)
			redisAsyncFree(ac);
		return NULL;
	}
	ac->data = rl;
	if (log__redis_uv_attach(ac, rl->loop) != REDIS_OK) {
		redisAsyncFree(ac);
		return NULL;
	}
	rl->contexts++;
	redisAsyncSetConnectCallback(ac, on_connect);
	redisAsyncSetDisconnectCallback(ac, on_disconnect);
	if (a->pass[0])
		redisAsyncCommand(ac, NULL, NULL, "AUTH %s", a->pass);
	if (a->db)
		redisAsyncCommand(ac, NULL, NULL, "SELECT %d", a->db);
	return ac;
}

static void connect_all(struct redislog *rl)
{
	if (!rl->cmd && !(rl->cmd = open_one(rl)))
		schedule_retry(rl);
	if (!rl->sub && !(rl->sub = open_one(rl)))
		schedule_retry(rl);
}

static void rl_free_closed(uv_handle_t *h)
{
	struct redislog *rl = h->data;
	rl->timer_closed = true;
	maybe_release(rl);
}

static void rl_free(struct log *log)
{
	struct redislog *rl = (struct redislog *)log;
	rl->closing = true;
	uv_timer_stop(&rl->retry);
	if (rl->cmd)
		redisAsyncDisconnect(rl->cmd);
	if (rl->sub)
		redisAsyncDisconnect(rl->sub);
	uv_close((uv_handle_t *)&rl->retry, rl_free_closed);
}

static void rl_heartbeat(struct log *log, uint64_t self, unsigned ttl_ms)
{
	struct redislog *rl = (struct redislog *)log;
	rl->self = self; /* sent again as soon as a connection is back */
	rl->ttl_ms = ttl_ms;
	if (rl->cmd_up)
		redisAsyncCommand(rl->cmd, NULL, NULL, "SET potluck:instance:%016llx 1 PX %u",
				  (unsigned long long)self, ttl_ms);
}

struct alive_q {
	void (*cb)(void *ctx, const bool *alive);
	void *ctx;
	size_t n;
};

static void on_alive(redisAsyncContext *ac, void *reply, void *priv)
{
	struct alive_q *q = priv;
	redisReply *rep = reply;
	(void)ac;
	if (rep && rep->type == REDIS_REPLY_ARRAY && rep->elements == q->n) {
		bool alive[64];
		for (size_t i = 0; i < q->n; i++)
			alive[i] = rep->element[i]->type != REDIS_REPLY_NIL;
		q->cb(q->ctx, alive);
	} else {
		q->cb(q->ctx, NULL); /* no answer: nobody is declared gone */
	}
	free(q);
}

static void rl_alive(struct log *log, const uint64_t *ids, size_t n,
		     void (*cb)(void *ctx, const bool *alive), void *ctx)
{
	struct redislog *rl = (struct redislog *)log;
	struct alive_q *q = n && n <= 64 ? malloc(sizeof(*q)) : NULL;
	char keys[64][40];
	const char *argv[65];
	if (!q || !rl->cmd_up) {
		free(q);
		cb(ctx, NULL);
		return;
	}
	*q = (struct alive_q){.cb = cb, .ctx = ctx, .n = n};
	argv[0] = "MGET";
	for (size_t i = 0; i < n; i++) {
		snprintf(keys[i], sizeof(keys[i]), "potluck:instance:%016llx",
			 (unsigned long long)ids[i]);
		argv[i + 1] = keys[i];
	}
	if (redisAsyncCommandArgv(rl->cmd, on_alive, q, (int)n + 1, argv, NULL) != REDIS_OK) {
		free(q);
		cb(ctx, NULL);
	}
}

static void rl_room_retire(struct log_room *lr, uint64_t ttl_ms)
{
	struct rlroom *r = (struct rlroom *)lr;
	char ttl[24];
	snprintf(ttl, sizeof(ttl), "%llu", (unsigned long long)ttl_ms);
	for (int i = 0; i < 2 && r->rl->cmd_up; i++) {
		const char *argv[] = {"PEXPIRE", i ? r->k_log : r->k_seq, ttl};
		redisAsyncCommandArgv(r->rl->cmd, NULL, NULL, 3, argv, NULL);
	}
}

static const struct log_ops redislog_ops = {
	.room_new = rl_room_new,
	.room_load = rl_room_load,
	.room_append = rl_room_append,
	.room_free = rl_room_free,
	.flush = rl_flush,
	.read = rl_read,
	.heartbeat = rl_heartbeat,
	.room_retire = rl_room_retire,
	.alive = rl_alive,
	.sync = rl_sync,
	.free = rl_free,
};

/* [:password@] at p: the password, if any, to a->pass; returns what follows */
static const char *parse_password(const char *p, struct log_redis_addr *a)
{
	const char *at = strrchr(p, '@');
	if (!at)
		return p;
	const char *colon = memchr(p, ':', (size_t)(at - p));
	const char *pw = colon ? colon + 1 : p;
	snprintf(a->pass, sizeof(a->pass), "%.*s", (int)(at - pw), pw);
	return at + 1;
}

int log_redis_parse_url(const char *url, struct log_redis_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (!strncmp(url, "unix://", 7)) { /* unix://[:pw@]/path[?db=N] */
		const char *p = parse_password(url + 7, a), *q = strchr(p, '?');
		size_t pl = q ? (size_t)(q - p) : strlen(p);
		if (p[0] != '/' || pl >= sizeof(a->host))
			return PL_EBADREQ;
		if (q && (strncmp(q, "?db=", 4) || (a->db = atoi(q + 4)) < 0))
			return PL_EBADREQ;
		snprintf(a->host, sizeof(a->host), "%.*s", (int)pl, p);
		snprintf(a->name, sizeof(a->name), "%s", a->host);
		return 0;
	}
	const char *p = url;
	a->port = 6379;
	if (!strncmp(p, "redis://", 8))
		p += 8;
	p = parse_password(p, a);
	const char *slash = strchr(p, '/');
	const char *colon = memchr(p, ':', slash ? (size_t)(slash - p) : strlen(p));
	size_t hl = colon ? (size_t)(colon - p) : slash ? (size_t)(slash - p) : strlen(p);
	if (!hl || hl >= sizeof(a->host))
		return PL_EBADREQ;
	snprintf(a->host, sizeof(a->host), "%.*s", (int)hl, p);
	if (colon && ((a->port = atoi(colon + 1)) <= 0 || a->port > 65535))
		return PL_EBADREQ;
	if (slash && slash[1])
		a->db = atoi(slash + 1);
	snprintf(a->name, sizeof(a->name), "%s:%d", a->host, a->port);
	return 0;
}

redisContext *log_redis_connect(const struct log_redis_addr *a, int timeout_s)
{
	struct timeval tv = {timeout_s, 0};
	redisContext *c = a->port ? redisConnectWithTimeout(a->host, a->port, tv)
				  : redisConnectUnixWithTimeout(a->host, tv);
	if (!c || c->err) {
		ULOG_W("redis %s: %s", a->name, c ? c->errstr : "cannot connect");
		if (c)
			redisFree(c);
		return NULL;
	}
	redisReply *rep;
	if (a->pass[0] && (rep = redisCommand(c, "AUTH %s", a->pass)))
		freeReplyObject(rep);
	if (a->db && (rep = redisCommand(c, "SELECT %d", a->db)))
		freeReplyObject(rep);
	return c;
}

struct log *log_redislog_new(uv_loop_t *loop, const char *url)
{
	struct redislog *rl = calloc(1, sizeof(*rl));
	if (!rl)
		return NULL;
	if (log_redis_parse_url(url, &rl->addr)) {
		ULOG_E("bad Redis URL: %s (redis://[:password@]host[:port][/db] or "
		       "unix://[:password@]/path/to/redis.sock[?db=N])",
		       url);
		free(rl);
		return NULL;
	}
	rl->base.ops = &redislog_ops;
	rl->loop = loop;
	map_init(&rl->rooms);
	uv_timer_init(loop, &rl->retry);
	rl->retry.data = rl;
	connect_all(rl);
	return &rl->base;
}

bool log_redis_up(const struct log *log)
{
	const struct redislog *rl = (const struct redislog *)log;
	return rl->cmd_up && rl->sub_up;
}
