/*
 * http.c — the HTTP routes: JSON API, health, and the static web app.
 *
 *   POST /api/rooms           create a room (JSON body {"title": ...})
 *   GET  /api/rooms/{id}      a room's public summary
 *   GET  /healthz             liveness and a few counts
 *   GET  /r/{id}              the web app (a join link)
 *   GET  /...                 files under --web-root
 *
 * JSON goes through jansson both ways. Responses are written from
 * HTTP_WRITEABLE, as lws asks; files go through lws_serve_http_file. Static
 * paths are confined to the web root: any "..", backslash or NUL is refused.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "export/export.h"
#include "net/net_int.h"
#include "util/err.h"
#include "util/ulog.h"
#include "version.h"

#define MAX_BODY 4096


static const char security_headers[] =
	"x-content-type-options: nosniff\x0d\x0a"
	"referrer-policy: no-referrer\x0d\x0a";

static const char html_headers[] =
	"x-content-type-options: nosniff\x0d\x0a"
	"referrer-policy: no-referrer\x0d\x0a"
	"cache-control: no-cache\x0d\x0a"
	"content-security-policy: default-src 'self'; connect-src 'self' ws: wss:; "
	"img-src 'self' data:; style-src 'self'; frame-ancestors 'none'\x0d\x0a";

/* Prepares an answer from a buffer made with LWS_PRE of headroom (takes its
 * memory), with optional extra headers (name, value pairs, NULL-terminated);
 * HTTP_WRITEABLE writes it. */
static int send_body(struct lws *wsi, struct http_req *rq, unsigned status, const char *ctype,
		     struct buf *body, const char *const *extra)
{
	free(rq->resp);
	rq->resp = body->mem;
	rq->resp_len = body->len;
	body->mem = NULL;
	if (!rq->resp && !(rq->resp = calloc(1, LWS_PRE))) /* an empty body */
		return -1;
	rq->status = status;
	snprintf(rq->ctype, sizeof(rq->ctype), "%s", ctype);
	for (rq->nextra = 0; extra && extra[0] && rq->nextra < 2; extra += 2, rq->nextra++) {
		snprintf(rq->extra[rq->nextra][0], sizeof(rq->extra[0][0]), "%s", extra[0]);
		snprintf(rq->extra[rq->nextra][1], sizeof(rq->extra[0][1]), "%s", extra[1]);
	}
	rq->ready = true;
	lws_callback_on_writable(wsi);
	return 0;
}

/* Writes a prepared answer: headers, then the body. */
static int write_answer(struct lws *wsi, struct http_req *rq)
{
	uint8_t hdr[LWS_PRE + 2048], *start = hdr + LWS_PRE, *p = start, *end = hdr + sizeof(hdr) - 1;
	rq->ready = false;
	if (lws_add_http_common_headers(wsi, rq->status, rq->ctype, rq->resp_len, &p, end) ||
	    lws_add_http_header_by_name(wsi, (const unsigned char *)"cache-control:",
					(const unsigned char *)"no-store", 8, &p, end) ||
	    lws_add_http_header_by_name(wsi, (const unsigned char *)"x-content-type-options:",
					(const unsigned char *)"nosniff", 7, &p, end))
		return -1;
	for (int i = 0; i < rq->nextra; i++)
		if (lws_add_http_header_by_name(wsi, (const unsigned char *)rq->extra[i][0],
						(const unsigned char *)rq->extra[i][1],
						(int)strlen(rq->extra[i][1]), &p, end))
			return -1;
	if (lws_finalize_write_http_header(wsi, start, &p, end))
		return -1;
	int w = rq->resp_len ? lws_write(wsi, rq->resp + LWS_PRE, rq->resp_len, LWS_WRITE_HTTP_FINAL)
			     : 0;
	free(rq->resp);
	rq->resp = NULL;
	free(rq->body);
	rq->body = NULL;
	rq->body_len = 0;
	if (w < 0 || lws_http_transaction_completed(wsi))
		return -1;
	return 0;
}

/* Sends a JSON answer; takes ownership of obj. Returns lws's verdict. */
static int send_json(struct lws *wsi, struct http_req *rq, unsigned status, json_t *obj)
{
	char *s = json_dumps(obj, JSON_COMPACT);
	json_decref(obj);
	struct buf b;
	buf_init_head(&b, LWS_PRE);
	if (!s || buf_append(&b, s, strlen(s))) {
		free(s);
		buf_deinit(&b);
		return -1;
	}
	free(s);
	return send_body(wsi, rq, status, "application/json", &b, NULL);
}

static int send_error(struct lws *wsi, struct http_req *rq, unsigned status, const char *code,
		      const char *msg)
{
	return send_json(wsi, rq, status, json_pack("{s:s, s:s}", "error", code, "message", msg));
}

/* scheme://host of the request, for absolute links. */
static void base_url(struct lws *wsi, char *out, size_t n)
{
	char host[256] = "", proto[16] = "";
	if (lws_hdr_copy(wsi, host, sizeof(host), WSI_TOKEN_HOST) <= 0)
		strcpy(host, "localhost");
	for (char *s = host; *s; s++) /* a Host header is no place for markup */
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]", *s))
			*s = '_';
	if (lws_hdr_custom_copy(wsi, proto, sizeof(proto), "x-forwarded-proto:", 18) <= 0 ||
	    strcmp(proto, "https"))
		strcpy(proto, "http");
	snprintf(out, n, "%s://%s", proto, host);
}

static void created(void *ctx, int err);
static int room_summary(struct net *n, struct lws *wsi, struct http_req *rq, const char *id);

static int create_room(struct net *n, struct lws *wsi, struct http_req *rq)
{
	if (rq->too_big)
		return send_error(wsi, rq, 413, "too_large", "the body is over 4 KiB");
	json_error_t jerr;
	json_t *in = json_loadb(rq->body ? rq->body : "", rq->body_len, 0, &jerr);
	json_t *title = in ? json_object_get(in, "title") : NULL;
	if (!in || !json_is_object(in) || !json_is_string(title)) {
		json_decref(in);
		return send_error(wsi, rq, 400, "bad_request",
				  "send a JSON object with a string \"title\"");
	}
	char id[ROOM_ID_LEN + 1], key[32];
	struct hub_summary s;
	int rc = hub_create_room(n->hub, json_string_value(title), json_string_length(title), id,
				 key, &s, created, rq, &rq->making);
	json_decref(in);
	if (rc) {
		unsigned status = rc == PL_EUNAVAIL || rc == PL_EIO ? 503 : 400;
		if (rc == PL_EBADREQ)
			return send_error(wsi, rq, status, "bad_request",
					  "a title needs 1 to 120 visible characters");
		return send_error(wsi, rq, status, pl_err_code(rc), pl_err_msg(rc));
	}
	char base[300], join[400], fac[450];
	base_url(wsi, base, sizeof(base));
	snprintf(join, sizeof(join), "%s/r/%s", base, id);
	snprintf(fac, sizeof(fac), "%s#key=%s", join, key);
	/* kept until the room's create record is in the log: only then can a
	 * join (here or on another instance) find the room */
	json_t *answer = json_pack("{s:s, s:s, s:s, s:s, s:s}", "room_id", id, "title", s.title,
				   "join_url", join, "facilitator_url", fac, "facilitator_key", key);
	char *body = answer ? json_dumps(answer, JSON_COMPACT) : NULL;
	json_decref(answer);
	buf_init_head(&rq->later, LWS_PRE);
	if (!body || buf_append(&rq->later, body, strlen(body))) {
		free(body);
		hub_create_cancel(rq->making);
		rq->making = NULL;
		return -1;
	}
	free(body);
	return 0;
}

static void created(void *ctx, int err)
{
	struct http_req *rq = ctx;
	rq->making = NULL;
	if (err) {
		buf_deinit(&rq->later);
		send_error(rq->wsi, rq, 503, "unavailable", "the room could not be stored; retry");
		return;
	}
	send_body(rq->wsi, rq, 201, "application/json", &rq->later, NULL);
}

static void summary_ready(void *ctx, int status);
static void transcript_ready(void *ctx, int status);

/* Runs cb when the room is loaded: at once, or when the log has it. */
static int when_ready(struct net *n, struct http_req *rq, const char *id, hub_ready_cb cb)
{
	snprintf(rq->room, sizeof(rq->room), "%s", id);
	rq->wait = hub_when_ready(n->hub, rq->room, cb, rq);
	return 0;
}

static void summary_ready(void *ctx, int status)
{
	struct http_req *rq = ctx;
	rq->wait = NULL;
	(void)status; /* hub_room_summary says it again */
	room_summary(rq->net, rq->wsi, rq, rq->room);
}

static int room_summary(struct net *n, struct lws *wsi, struct http_req *rq, const char *id)
{
	struct hub_summary s;
	int rc = hub_room_summary(n->hub, id, &s);
	if (rc == PL_ENOTFOUND)
		return send_error(wsi, rq, 404, "not_found", "no such room");
	if (rc)
		return send_error(wsi, rq, 503, "unavailable", pl_err_msg(rc));
	return send_json(wsi, rq, 200,
			 json_pack("{s:s, s:s, s:I, s:I, s:I, s:b}", "room_id", id, "title", s.title,
				   "created", (json_int_t)s.created, "members", (json_int_t)s.members,
				   "online", (json_int_t)s.online, "ended", s.ended));
}

static int make_transcript(struct net *n, struct lws *wsi, struct http_req *rq, const char *id);

static void feed(void *ctx, uint64_t seq, int64_t ts, const struct room_cmd *c)
{
	export_feed(ctx, seq, ts, c);
}

/* GET /api/rooms/{id}/transcript?format=json|md|html|csv[&table=...][&key=...]
 * The facilitator key comes as `Authorization: Bearer KEY` or, for a
 * download link, as `key=`. No key: 401; a wrong key or an unknown room:
 * 403, the same answer, so nothing tells which rooms exist. */
static int transcript(struct net *n, struct lws *wsi, struct http_req *rq, const char *id)
{
	char fb[32], tb[48], kb[96], auth[96] = "";
	/* lws copies "name=value" into the buffer and points at the value */
	const char *fmt = lws_get_urlarg_by_name(wsi, "format=", fb, sizeof(fb));
	const char *table = lws_get_urlarg_by_name(wsi, "table=", tb, sizeof(tb));
	const char *key = lws_get_urlarg_by_name(wsi, "key=", kb, sizeof(kb));
	if (lws_hdr_copy(wsi, auth, sizeof(auth), WSI_TOKEN_HTTP_AUTHORIZATION) > 7 &&
	    !strncasecmp(auth, "Bearer ", 7))
		key = auth + 7;
	if (!key)
		key = "";
	int f = export_format_parse(fmt ? fmt : "json");
	int t = export_table_parse(table ? table : "contributions");
	if (f < 0 || t < 0)
		return send_error(wsi, rq, 400, "bad_request",
				  "format: json, md, html or csv; table: contributions, chat, "
				  "turns or prompts");
	if (!key[0])
		return send_error(wsi, rq, 401, "unauthorized",
				  "the facilitator key is needed (Authorization: Bearer KEY)");
	snprintf(rq->key, sizeof(rq->key), "%s", key);
	rq->format = f;
	rq->table = t;
	return when_ready(n, rq, id, transcript_ready);
}

static void transcript_ready(void *ctx, int status)
{
	struct http_req *rq = ctx;
	rq->wait = NULL;
	(void)status; /* hub_replay says it again */
	make_transcript(rq->net, rq->wsi, rq, rq->room);
}

static int make_transcript(struct net *n, struct lws *wsi, struct http_req *rq, const char *id)
{
	int f = rq->format, t = rq->table;
	const char *table = export_table_name(t);
	struct export *x = export_new();
	uint64_t as_of = 0;
	int rc = x ? hub_replay(n->hub, id, rq->key, strlen(rq->key), feed, x, &as_of) : PL_ENOMEM;
	if (rc) {
		export_free(x);
		return rc == PL_EFORBIDDEN ? send_error(wsi, rq, 403, "forbidden",
						       "the key does not open a transcript here")
					   : send_error(wsi, rq, 503, "unavailable", pl_err_msg(rc));
	}
	struct buf b;
	buf_init_head(&b, LWS_PRE);
	rc = export_render(x, (enum export_format)f, (enum export_table)t, &b);
	export_free(x);
	if (rc) {
		buf_deinit(&b);
		return send_error(wsi, rq, 500, "internal", pl_err_msg(rc));
	}
	char seq[24], disp[128];
	snprintf(seq, sizeof(seq), "%llu", (unsigned long long)as_of);
	snprintf(disp, sizeof(disp), "%s; filename=\"potluck-%s%s%s.%s\"",
		 f == EXPORT_HTML || f == EXPORT_JSON ? "inline" : "attachment", id,
		 f == EXPORT_CSV ? "-" : "", f == EXPORT_CSV && table ? table : "",
		 export_extension((enum export_format)f));
	const char *extra[] = {"x-potluck-seq:", seq, "content-disposition:", disp, NULL};
	return send_body(wsi, rq, 200, export_content_type((enum export_format)f), &b, extra);
}

static const char *mime_of(const char *path)
{
	static const struct {
		const char *ext, *mime;
	} types[] = {
		{".html", "text/html; charset=utf-8"}, {".js", "text/javascript; charset=utf-8"},
		{".css", "text/css; charset=utf-8"},   {".svg", "image/svg+xml"},
		{".png", "image/png"},                 {".ico", "image/x-icon"},
		{".json", "application/json"},         {".map", "application/json"},
		{".txt", "text/plain; charset=utf-8"}, {".woff2", "font/woff2"},
	};
	const char *dot = strrchr(path, '.');
	for (size_t i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++)
		if (!strcmp(dot, types[i].ext))
			return types[i].mime;
	return "application/octet-stream";
}

static int serve_file(struct net *n, struct lws *wsi, struct http_req *rq, const char *path)
{
	char file[4096];
	if (path[0] != '/' || strstr(path, "..") || strchr(path, '\\') || strstr(path, "//"))
		return send_error(wsi, rq, 404, "not_found", "no such file");
	if (!strncmp(path, "/r/", 3) || !strcmp(path, "/"))
		path = "/index.html";
	snprintf(file, sizeof(file), "%s%s", n->web_root, path);
	struct stat st;
	if (stat(file, &st) < 0 || !S_ISREG(st.st_mode))
		return send_error(wsi, rq, 404, "not_found", "no such file");
	const char *mime = mime_of(file);
	const char *extra = strncmp(mime, "text/html", 9) ? security_headers : html_headers;
	int rc = lws_serve_http_file(wsi, file, mime, extra, (int)strlen(extra));
	if (rc < 0 || (rc > 0 && lws_http_transaction_completed(wsi)))
		return -1;
	return 0;
}

/* Prometheus text format. */
static int metrics(struct net *n, struct lws *wsi, struct http_req *rq)
{
	const struct hub_stats *h = hub_stats(n->hub);
	struct buf b;
	buf_init_head(&b, LWS_PRE);
	const struct {
		const char *name, *type, *help;
		uint64_t v;
	} m[] = {
		{"potluck_connections", "gauge", "open WebSocket connections", n->nconns},
		{"potluck_rooms", "gauge", "rooms held in memory", hub_rooms(n->hub)},
		{"potluck_connections_accepted_total", "counter", "WebSocket connections accepted",
		 n->stats.accepted},
		{"potluck_records_applied_total", "counter", "log records applied", h->records},
		{"potluck_records_rejected_total", "counter", "records a room refused", h->rejected},
		{"potluck_records_appended_total", "counter", "records appended here", h->appends},
		{"potluck_append_errors_total", "counter", "appends the log refused", h->append_errors},
		{"potluck_events_encoded_total", "counter", "event frames encoded (once each)",
		 h->events},
		{"potluck_deliveries_total", "counter", "event frames queued on connections",
		 h->deliveries},
		{"potluck_socket_writes_total", "counter", "writes to sockets", n->stats.writes},
		{"potluck_socket_bytes_total", "counter", "bytes written to sockets", n->stats.bytes},
		{"potluck_socket_write_batches_total", "counter",
		 "io_uring system calls that made writes", n->stats.batches},
		{"potluck_socket_writes_batched_total", "counter", "writes made in those batches",
		 n->stats.batched},
		{"potluck_slow_closes_total", "counter", "connections closed for reading too slowly",
		 n->stats.slow_closes},
		{"potluck_protocol_closes_total", "counter", "connections closed for a violation",
		 n->stats.violations},
		{"potluck_rate_limited_total", "counter", "requests refused by the rate limit",
		 n->stats.rate_limited},
	};
	int rc = 0;
	for (size_t i = 0; !rc && i < sizeof(m) / sizeof(m[0]); i++)
		rc = buf_printf(&b, "# HELP %s %s\n# TYPE %s %s\n%s %llu\n", m[i].name,
					m[i].help, m[i].name, m[i].type, m[i].name,
					(unsigned long long)m[i].v);
	if (!rc)
		rc = buf_printf(&b, "# TYPE potluck_build_info gauge\n"
					    "potluck_build_info{version=\"%s\"} 1\n",
					POTLUCK_VERSION);
	if (rc) {
		buf_deinit(&b);
		return -1;
	}
	return send_body(wsi, rq, 200, "text/plain; version=0.0.4", &b, NULL);
}

static int route(struct net *n, struct lws *wsi, struct http_req *rq, const char *path)
{
	bool post = lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI) > 0;
	bool get = lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) > 0;
	if (!strcmp(path, "/healthz")) {
		if (!get)
			return send_error(wsi, rq, 405, "method_not_allowed", "use GET");
		return send_json(wsi, rq, 200,
				 json_pack("{s:s, s:s, s:I, s:I}", "status", "ok", "version",
					   POTLUCK_VERSION, "rooms", (json_int_t)hub_rooms(n->hub),
					   "connections", (json_int_t)n->nconns));
	}
	if (!strcmp(path, "/metrics")) {
		if (!get)
			return send_error(wsi, rq, 405, "method_not_allowed", "use GET");
		return metrics(n, wsi, rq);
	}
	if (!strcmp(path, "/api/rooms")) {
		if (!post)
			return send_error(wsi, rq, 405, "method_not_allowed", "use POST");
		char cl[24] = "";
		if (lws_hdr_copy(wsi, cl, sizeof(cl), WSI_TOKEN_HTTP_CONTENT_LENGTH) <= 0 ||
		    !strcmp(cl, "0"))
			return create_room(n, wsi, rq); /* no body is coming */
		if (rq->resp)
			return 0;
		rq->create = true;
		return 0; /* answered when the body is complete */
	}
	if (!strncmp(path, "/api/rooms/", 11)) {
		if (!get)
			return send_error(wsi, rq, 405, "method_not_allowed", "use GET");
		const char *id = path + 11, *slash = strchr(id, '/');
		if (slash && !strcmp(slash, "/transcript") && slash - id == ROOM_ID_LEN) {
			char room[ROOM_ID_LEN + 1];
			memcpy(room, id, ROOM_ID_LEN);
			room[ROOM_ID_LEN] = '\0';
			return transcript(n, wsi, rq, room);
		}
		if (slash)
			return send_error(wsi, rq, 404, "not_found", "no such endpoint");
		return when_ready(n, rq, id, summary_ready);
	}
	if (!strncmp(path, "/api/", 5))
		return send_error(wsi, rq, 404, "not_found", "no such endpoint");
	if (!get)
		return send_error(wsi, rq, 405, "method_not_allowed", "use GET");
	return serve_file(n, wsi, rq, path);
}

int net_http_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		      size_t len)
{
	struct http_req *rq = user;
	struct lws_context *ctx = lws_get_context(wsi);
	struct net *n = ctx ? lws_context_user(ctx) : NULL;
	switch (reason) {
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
		return 1; /* a WebSocket without the potluck.v1 subprotocol */
	case LWS_CALLBACK_HTTP:
		memset(rq, 0, sizeof(*rq));
		rq->wsi = wsi;
		rq->net = n;
		return route(n, wsi, rq, in ? (const char *)in : "/");
	case LWS_CALLBACK_HTTP_BODY:
		if (!rq->create)
			return 0; /* a body nobody asked for (the answer is out) */
		if (rq->too_big || rq->body_len + len > MAX_BODY) {
			rq->too_big = true;
			return 0;
		}
		{
			char *b = realloc(rq->body, rq->body_len + len + 1);
			if (!b)
				return -1;
			memcpy(b + rq->body_len, in, len);
			rq->body = b;
			rq->body_len += len;
		}
		return 0;
	case LWS_CALLBACK_HTTP_BODY_COMPLETION:
		if (!rq->create || rq->resp)
			return 0;
		rq->create = false;
		return create_room(n, wsi, rq);
	case LWS_CALLBACK_HTTP_WRITEABLE:
		if (!rq || !rq->ready)
			return 0;
		return write_answer(wsi, rq);
	case LWS_CALLBACK_HTTP_FILE_COMPLETION:
		return lws_http_transaction_completed(wsi) ? -1 : 0;
	case LWS_CALLBACK_CLOSED_HTTP:
		if (rq) { /* gone before its answer: stop waiting for it */
			hub_wait_cancel(rq->wait);
			hub_create_cancel(rq->making);
			rq->wait = NULL;
			rq->making = NULL;
			buf_deinit(&rq->later);
			free(rq->body);
			free(rq->resp);
			rq->body = NULL;
			rq->resp = NULL;
		}
		return 0;
	default:
		return lws_callback_http_dummy(wsi, reason, user, in, len);
	}
}
