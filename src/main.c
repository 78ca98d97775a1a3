/*
 * main.c — potluckd: flags and environment, wiring, signals, shutdown.
 *
 * One thread, one libuv loop. The modules are wired here and nowhere else:
 * the log (embedded filelog), the hub on top of it, and the net layer on
 * top of the hub. Once per loop iteration, a check handle first lets the log
 * store and deliver what was appended, then lets the net layer flush what
 * that queued: appends and writes are batched per iteration.
 *
 * SIGINT/SIGTERM: every connection is closed with 1001 (clients resume on
 * reconnect), the log is flushed and synced, and the process exits 0. A
 * second signal exits at once.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <hiredis/hiredis.h>
#include <sys/time.h>
#include <uv.h>

#include "export_cmd.h"
#include "hub/hub.h"
#include "log/log.h"
#include "net/net.h"
#include "util/crypto.h"
#include "util/err.h"
#include "util/ulog.h"
#include "version.h"

struct config {
	const char *host;
	int port;
	const char *data_dir;
	const char *web_root;
	const char *secret_file;
	const char *redis;
	unsigned grace_s;
	unsigned retention_d;
	unsigned queue_kib, queue_frames, sndbuf_kib, rate, burst;
	unsigned fsync_ms;
	bool io_uring;
};

#define TRIM_MS 30000 /* how often freed memory is handed back */

struct server {
	uv_loop_t loop;
	struct config cfg;
	struct log *log;
	struct hub *hub;
	struct net *net;
	uv_check_t check;
	uv_timer_t trim;
	uv_signal_t sigint, sigterm;
	bool stopping;
	bool net_closed;
	uint8_t secret[32];
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: potluckd [options]\n"
		"\n"
		"A real-time discussion server for lunch-and-learn and peer-learning sessions.\n"
		"\n"
		"  --host ADDR        address to listen on        (POTLUCK_HOST, default 127.0.0.1)\n"
		"  --port N           port to listen on           (POTLUCK_PORT, default 8080)\n"
		"  --data-dir DIR     embedded log and secret     (POTLUCK_DATA_DIR, default ./data)\n"
		"  --web-root DIR     the built web app           (POTLUCK_WEB_ROOT, default ./web/dist)\n"
		"  --log-level LVL    debug, info, warn or error  (POTLUCK_LOG_LEVEL, default info)\n"
		"  --grace SECONDS    a dropped member's grace    (POTLUCK_GRACE, default 30)\n"
		"  --fsync-ms MS      fsync interval, 0 = always  (POTLUCK_FSYNC_MS, default 1000)\n"
		"  --secret-file F    shared server secret        (POTLUCK_SECRET_FILE, default DIR/secret,\n"
		"                                                  or kept in Redis with --redis)\n"
		"  --redis URL        scale out through Redis     (POTLUCK_REDIS, redis://[:pw@]host:port[/db]\n"
		"                                                  or unix://[:pw@]/path/redis.sock[?db=N])\n"
		"  --retention DAYS   keep an ended session in Redis (POTLUCK_RETENTION, default 30)\n"
		"  --queue-kib N      outbound queue per connection before 4001 (POTLUCK_QUEUE_KIB, 1024)\n"
		"  --queue-frames N   the same in frames          (POTLUCK_QUEUE_FRAMES, default 4096)\n"
		"  --sndbuf-kib N     kernel send buffer per connection, 0 = autotuned\n"
		"                                                 (POTLUCK_SNDBUF_KIB, default 128)\n"
		"  --rate N           requests per second per connection (POTLUCK_RATE, default 20)\n"
		"  --burst N          ... in bursts of up to      (POTLUCK_BURST, default 40)\n"
		"  --io-uring on|off  send each loop's writes in one system call, where the\n"
		"                     kernel allows it            (POTLUCK_IO_URING, default on)\n"
		"  --help             this text\n"
		"  --version          the version\n"
		"\n"
		"potluckd export --room ID [--format json|md|html|csv] ...  writes a transcript\n"
		"(see potluckd export --help)\n");
}

static int parse_uint(const char *s, unsigned max, unsigned *out)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v > max || *s == '-')
		return -1;
	*out = (unsigned)v;
	return 0;
}

static int set_option(struct config *c, const char *name, const char *val)
{
	unsigned u;
	if (!strcmp(name, "host")) {
		c->host = val;
	} else if (!strcmp(name, "port")) {
		if (parse_uint(val, 65535, &u))
			return -1;
		c->port = (int)u;
	} else if (!strcmp(name, "data-dir")) {
		c->data_dir = val;
	} else if (!strcmp(name, "web-root")) {
		c->web_root = val;
	} else if (!strcmp(name, "secret-file")) {
		c->secret_file = val;
	} else if (!strcmp(name, "redis")) {
		c->redis = *val ? val : NULL;
	} else if (!strcmp(name, "log-level")) {
		int l = ulog_parse(val);
		if (l < 0)
			return -1;
		ulog_min = (enum ulog_level)l;
	} else if (!strcmp(name, "grace")) {
		if (parse_uint(val, 86400, &c->grace_s))
			return -1;
	} else if (!strcmp(name, "retention")) {
		if (parse_uint(val, 3650, &c->retention_d) || !c->retention_d)
			return -1;
	} else if (!strcmp(name, "queue-kib")) {
		if (parse_uint(val, 1 << 20, &c->queue_kib) || !c->queue_kib)
			return -1;
	} else if (!strcmp(name, "queue-frames")) {
		if (parse_uint(val, 1 << 20, &c->queue_frames) || !c->queue_frames)
			return -1;
	} else if (!strcmp(name, "sndbuf-kib")) {
		if (parse_uint(val, 1 << 16, &c->sndbuf_kib))
			return -1;
	} else if (!strcmp(name, "rate")) {
		if (parse_uint(val, 1000000, &c->rate) || !c->rate)
			return -1;
	} else if (!strcmp(name, "burst")) {
		if (parse_uint(val, 1000000, &c->burst) || !c->burst)
			return -1;
	} else if (!strcmp(name, "io-uring")) {
		if (strcmp(val, "on") && strcmp(val, "off"))
			return -1;
		c->io_uring = !strcmp(val, "on");
	} else if (!strcmp(name, "fsync-ms")) {
		if (parse_uint(val, 60000, &c->fsync_ms))
			return -1;
	}
	return 0;
}

static const char *const env_names[][2] = {
	{"POTLUCK_HOST", "host"},         {"POTLUCK_PORT", "port"},
	{"POTLUCK_DATA_DIR", "data-dir"}, {"POTLUCK_WEB_ROOT", "web-root"},
	{"POTLUCK_LOG_LEVEL", "log-level"}, {"POTLUCK_GRACE", "grace"},
	{"POTLUCK_FSYNC_MS", "fsync-ms"}, {"POTLUCK_SECRET_FILE", "secret-file"},
	{"POTLUCK_REDIS", "redis"}, {"POTLUCK_RETENTION", "retention"},
	{"POTLUCK_QUEUE_KIB", "queue-kib"}, {"POTLUCK_QUEUE_FRAMES", "queue-frames"},
	{"POTLUCK_SNDBUF_KIB", "sndbuf-kib"},
	{"POTLUCK_RATE", "rate"}, {"POTLUCK_BURST", "burst"},
	{"POTLUCK_IO_URING", "io-uring"},
};

/* Environment first, flags override. Returns 0, 1 (exit 0) or -1. */
static int configure(struct config *c, int argc, char **argv)
{
	*c = (struct config){.host = "127.0.0.1", .port = 8080, .data_dir = "./data",
			     .web_root = "./web/dist", .grace_s = 30, .fsync_ms = 1000,
			     .retention_d = 30, .queue_kib = 1024, .queue_frames = 4096,
			     .sndbuf_kib = 128, .rate = 20, .burst = 40, .io_uring = true};
	for (size_t i = 0; i < sizeof(env_names) / sizeof(env_names[0]); i++) {
		const char *v = getenv(env_names[i][0]);
		if (v && *v && set_option(c, env_names[i][1], v)) {
			fprintf(stderr, "potluckd: bad value for %s: %s\n", env_names[i][0], v);
			return -1;
		}
	}
	static const struct option opts[] = {
		{"host", required_argument, 0, 0},     {"port", required_argument, 0, 0},
		{"data-dir", required_argument, 0, 0}, {"web-root", required_argument, 0, 0},
		{"log-level", required_argument, 0, 0}, {"grace", required_argument, 0, 0},
		{"fsync-ms", required_argument, 0, 0}, {"secret-file", required_argument, 0, 0},
		{"redis", required_argument, 0, 0}, {"retention", required_argument, 0, 0},
		{"queue-kib", required_argument, 0, 0}, {"queue-frames", required_argument, 0, 0},
		{"sndbuf-kib", required_argument, 0, 0},
		{"rate", required_argument, 0, 0}, {"burst", required_argument, 0, 0},
		{"io-uring", required_argument, 0, 0},
		{"help", no_argument, 0, 'h'},         {"version", no_argument, 0, 'V'},
		{0, 0, 0, 0},
	};
	int idx, ch;
	while ((ch = getopt_long(argc, argv, "hV", opts, &idx)) != -1) {
		if (ch == 'h') {
			usage(stdout);
			return 1;
		}
		if (ch == 'V') {
			printf("potluckd %s\n", POTLUCK_VERSION);
			return 1;
		}
		if (ch != 0) {
			usage(stderr);
			return -1;
		}
		if (set_option(c, opts[idx].name, optarg)) {
			fprintf(stderr, "potluckd: bad value for --%s: %s\n", opts[idx].name, optarg);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "potluckd: unexpected argument: %s\n", argv[optind]);
		usage(stderr);
		return -1;
	}
	return 0;
}

/* With Redis and no secret file, every instance shares one secret kept in
 * Redis: the first to start creates it (SET NX), the others read it. */
static int load_secret_redis(struct server *s)
{
	struct log_redis_addr a;
	if (log_redis_parse_url(s->cfg.redis, &a))
		return -1;
	redisContext *c = log_redis_connect(&a, 5);
	redisReply *rep = NULL;
	int rc = -1;
	uint8_t fresh[32];
	if (!c || util_random(fresh, sizeof(fresh))) {
		ULOG_E("redis %s: cannot read or create potluck:secret", a.name);
		goto out;
	}
	if ((rep = redisCommand(c, "SET potluck:secret %b NX", fresh, sizeof(fresh))))
		freeReplyObject(rep);
	rep = redisCommand(c, "GET potluck:secret");
	if (rep && rep->type == REDIS_REPLY_STRING && rep->len >= 16) {
		util_sha256(rep->str, rep->len, s->secret);
		rc = 0;
	} else {
		ULOG_E("redis %s: cannot read or create potluck:secret", a.name);
	}
	if (rep)
		freeReplyObject(rep);
out:
	if (c)
		redisFree(c);
	return rc;
}

/* One server per data directory: two would append to the same room files
 * (and cut each other's space ahead). The lock (flock on DIR/lock, holding
 * the owner's pid) lasts as long as the process, whatever ends it. */
static int lock_data_dir(const char *dir)
{
	char path[4096], owner[32] = "";
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		ULOG_E("cannot create %s: %s", dir, strerror(errno));
		return -1;
	}
	snprintf(path, sizeof(path), "%s/lock", dir);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		ULOG_E("cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		ssize_t n = pread(fd, owner, sizeof(owner) - 1, 0);
		owner[n > 0 ? n : 0] = '\0';
		owner[strcspn(owner, "\n")] = '\0';
		ULOG_E("the data directory %s is in use by another potluckd%s%s%s", dir,
		       *owner ? " (pid " : "", owner, *owner ? ")" : "");
		close(fd);
		return -1;
	}
	int n = snprintf(owner, sizeof(owner), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, owner, (size_t)n, 0) != n)
		ULOG_W("cannot write the pid into %s: %s", path, strerror(errno));
	return 0; /* fd stays open, and locked, until the process ends */
}

/* Reads the shared secret, creating it (0600) on first start. */
static int load_secret(struct server *s)
{
	if (s->cfg.redis && !s->cfg.secret_file)
		return load_secret_redis(s);
	char path[4096];
	if (s->cfg.secret_file)
		snprintf(path, sizeof(path), "%s", s->cfg.secret_file);
	else
		snprintf(path, sizeof(path), "%s/secret", s->cfg.data_dir);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT && !s->cfg.secret_file) {
		uint8_t fresh[32];
		if (util_random(fresh, sizeof(fresh)))
			return -1;
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd >= 0) {
			ssize_t w = write(fd, fresh, sizeof(fresh));
			if (w != (ssize_t)sizeof(fresh) || fsync(fd) < 0) {
				close(fd);
				unlink(path);
				ULOG_E("cannot write %s", path);
				return -1;
			}
			close(fd);
			ULOG_I("created a new server secret in %s", path);
		}
		fd = open(path, O_RDONLY | O_CLOEXEC);
	}
	if (fd < 0) {
		ULOG_E("cannot read the secret %s: %s", path, strerror(errno));
		return -1;
	}
	ssize_t n = read(fd, s->secret, sizeof(s->secret));
	close(fd);
	if (n < 16) {
		ULOG_E("the secret in %s is shorter than 16 bytes", path);
		return -1;
	}
	if (n < (ssize_t)sizeof(s->secret)) /* a short secret file: stretch it */
		util_sha256(s->secret, (size_t)n, s->secret);
	return 0;
}

static void session_ended(void *arg, const char *room)
{
	struct server *s = arg;
	export_cmd_session_ended(s->log, s->cfg.data_dir, room);
}

static void on_check(uv_check_t *h)
{
	struct server *s = h->data;
	log_flush(s->log);
	if (s->hub)
		hub_flush(s->hub);
	if (!s->net_closed)
		net_flush(s->net);
}

/* What a burst freed goes back to the system: after a 5,000-client join
 * storm the heap kept 50-80 MB of freed queues and frames (malloc_trim
 * brought it to 10 MB). A trim walks only the free chunks. */
static void on_trim(uv_timer_t *t)
{
	(void)t;
	malloc_trim(0);
}

static void finish(void *arg)
{
	struct server *s = arg;
	log_flush(s->log);
	net_free(s->net);
	s->net_closed = true;
	hub_free(s->hub);
	s->hub = NULL;
	if (log_sync(s->log))
		ULOG_E("the log could not be synced to disk");
	log_free(s->log);
	s->log = NULL;
	uv_check_stop(&s->check);
	uv_close((uv_handle_t *)&s->check, NULL);
	uv_close((uv_handle_t *)&s->trim, NULL);
	uv_close((uv_handle_t *)&s->sigint, NULL);
	uv_close((uv_handle_t *)&s->sigterm, NULL);
	ULOG_I("stopped");
}

static void on_signal(uv_signal_t *h, int signum)
{
	struct server *s = h->data;
	if (s->stopping) {
		ULOG_W("second signal: exiting now");
		log_sync(s->log);
		_exit(1);
	}
	s->stopping = true;
	ULOG_I("%s: closing connections and flushing the log", strsignal(signum));
	net_shutdown(s->net, finish, s);
}

int main(int argc, char **argv)
{
	static struct server s;
	if (argc > 1 && !strcmp(argv[1], "export"))
		return export_cmd_main(argc - 1, argv + 1);
	int rc = configure(&s.cfg, argc, argv);
	if (rc)
		return rc > 0 ? 0 : 2;
	signal(SIGPIPE, SIG_IGN);
	/* A fixed threshold: big frames (the snapshot of a room of hundreds)
	 * are mapped and go back to the system once sent. glibc's sliding
	 * one would move them into the heap after the first, where a join
	 * storm left a gigabyte behind. */
	mallopt(M_MMAP_THRESHOLD, 64 * 1024);
	if (uv_loop_init(&s.loop))
		return 1;
	if (!s.cfg.redis && lock_data_dir(s.cfg.data_dir))
		return 1;
	s.log = s.cfg.redis ? log_redislog_new(&s.loop, s.cfg.redis)
			    : log_filelog_new(&s.loop, s.cfg.data_dir, s.cfg.fsync_ms);
	if (!s.log || load_secret(&s))
		return 1;
	uint64_t instance = 0;
	while (!instance)
		util_random(&instance, sizeof(instance));
	struct hub_config hcfg = {.grace_ms = s.cfg.grace_s * 1000, .ring = 1024,
				  .instance = instance,
				  .idle_ms = s.cfg.redis ? 1000 : 15000,
				  .replay_max_bytes = (size_t)s.cfg.queue_kib * 1024 / 2,
				  .retention_ms = (uint64_t)s.cfg.retention_d * 86400000u,
				  .secret = s.secret, .secret_len = sizeof(s.secret),
				  .ended = s.cfg.redis ? NULL : session_ended, .ended_arg = &s};
	s.hub = hub_new(&s.loop, s.log, &net_hub_io, &hcfg);
	struct net_config ncfg = {.host = s.cfg.host, .port = s.cfg.port,
				  .web_root = s.cfg.web_root, .max_msg = WIRE_MAX_MSG,
				  .queue_bytes = (size_t)s.cfg.queue_kib * 1024,
				  .queue_frames = s.cfg.queue_frames,
				  .sndbuf = (int)s.cfg.sndbuf_kib * 1024, .rate = s.cfg.rate,
				  .burst = s.cfg.burst, .io_uring = s.cfg.io_uring};
	if (!s.hub || !(s.net = net_new(&s.loop, &ncfg, s.hub)))
		return 1;
	uv_check_init(&s.loop, &s.check);
	s.check.data = &s;
	uv_check_start(&s.check, on_check);
	uv_unref((uv_handle_t *)&s.check);
	uv_timer_init(&s.loop, &s.trim);
	uv_timer_start(&s.trim, on_trim, TRIM_MS, TRIM_MS);
	uv_unref((uv_handle_t *)&s.trim);
	uv_signal_init(&s.loop, &s.sigint);
	uv_signal_init(&s.loop, &s.sigterm);
	s.sigint.data = s.sigterm.data = &s;
	uv_signal_start(&s.sigint, on_signal, SIGINT);
	uv_signal_start(&s.sigterm, on_signal, SIGTERM);
	ULOG_I("potluckd %s listening on http://%s:%d (log: %s%s, web app from %s)",
	       POTLUCK_VERSION, s.cfg.host, s.cfg.port, s.cfg.redis ? "redis " : "",
	       s.cfg.redis ? s.cfg.redis : s.cfg.data_dir, s.cfg.web_root);
	uv_run(&s.loop, UV_RUN_DEFAULT);
	net_final(s.net);
	if (uv_loop_close(&s.loop) == UV_EBUSY) {
		/* lws may leave handles that close on one more turn */
		uv_run(&s.loop, UV_RUN_NOWAIT);
		uv_loop_close(&s.loop);
	}
	return 0;
}
