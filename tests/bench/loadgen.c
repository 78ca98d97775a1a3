/*
 * loadgen.c — the load generator for potluck's benchmarks (issue 8).
 *
 * What it measures. Clients join R rooms of M members; during a measured
 * window they send chat messages at a given total rate (or as fast as the
 * server answers), and every member receives every message. A delivery is
 * one chat event arriving at one member. Each message carries a marker
 * "LAT:<16 hex: send time, CLOCK_MONOTONIC ns>:<8 hex: sender index>" in
 * its text; every receipt finds it (memmem) and records send → receipt in a
 * log-linear histogram (1 µs resolution up to 64 µs, then 32 sub-buckets
 * per power of two: under 3 % error). CLOCK_MONOTONIC is system-wide, so
 * the sender and the receiver may be in different processes.
 *
 * Per window it reports deliveries per second, latency p50/p99/p99.9,
 * messages sent vs deliveries expected (sent × M) vs received (losses), the
 * generator's own CPU (getrusage in every worker, summed), and, with
 * --server-pid, the server's CPU-seconds over the same window from
 * /proc/<pid>/stat and its VmRSS at the start and the end. "Deliveries per
 * server CPU-second" is then deliveries received inside the window divided
 * by the server's CPU time inside it, which is the figure issue 8 compares
 * with the physical floor (tests/bench/floor.c). CPU time is counted in
 * 10 ms ticks here, so windows of 10 s or more keep that error under 1 %.
 * A warm-up (--warmup) sends at the same rate before the window opens;
 * only messages sent inside the window count towards latency and losses.
 *
 * Processes. The parent creates the rooms over HTTP (POST /api/rooms), then
 * forks --procs workers, each with its own libuv loop and its share of the
 * connections (whole rooms when there are at least as many rooms as
 * workers, else every P-th member). Workers talk to the parent through two
 * pipes: the parent sends commands (connect up to N, run a window, quit),
 * workers answer with fixed-size binary reports (the histogram included)
 * that the parent sums. One process cannot hold more than about 20,000
 * descriptors here, so bigger runs need several workers; RLIMIT_NOFILE is
 * raised to the hard limit first. Connections bind to 127.0.0.2,
 * 127.0.0.3, … (--sources) with IP_BIND_ADDRESS_NO_PORT before connecting,
 * which lifts the per-address ephemeral port limit. Only loopback targets
 * are accepted.
 *
 * The WebSocket client is its own, lean and without libwebsockets: a plain
 * TCP socket, a hand-written upgrade request whose Sec-WebSocket-Accept
 * answer is checked (OpenSSL SHA-1), masked client frames as RFC 6455
 * requires (xorshift mask keys: unpredictable enough for a benchmark), and
 * server frames parsed in place in one shared read buffer per worker. Only
 * a frame cut by the end of a read is copied, into the connection's small
 * carry buffer, and only until it is whole. A message is classified by its
 * "t", which potluck packs first; anything else goes through msgpack-c.
 * Sends use uv_try_write and fall back to a queued copy when the socket is
 * full. Pings are answered; a close from the server is counted.
 *
 * Modes. --mode potluck speaks potluck.v1 (GET /ws, then join and wait for
 * the ok). --mode floor talks to floor.c: GET /floor?room=N is the join and
 * a chat message is a raw binary frame of --payload bytes (the marker, then
 * padding), which the floor relays as-is. Give --payload the size of
 * potluck's chat event (potluck mode reports it as evbytes=) so both
 * servers send the same bytes to the same number of sockets.
 * --mode socketio talks to tests/bench/peers/socketio-server.mjs (Socket.IO 4)
 * over its WebSocket transport: GET /socket.io/?EIO=4&transport=websocket
 * &room=N, then Engine.IO's open packet 0{...} from the server, the
 * Socket.IO connect 40 from us and its answer 40{...} (the join); pings 2
 * are answered with pongs 3. A chat message is the text frame
 * 42["chat","<--size bytes: the marker, then padding>"]; receipts are the
 * same frames from the server, the marker found with memmem.
 *
 * Rates. --rates takes deliveries per second, comma-separated, each a
 * window on the same connections; 0 means as fast as it goes: a closed loop
 * with --window messages in flight per room (default 1), a room's next
 * message leaving when the sender sees its own previous one come back. With
 * one in flight a member never has two frames waiting, so every delivery is
 * its own send, as at a steady rate; a larger window lets frames to one
 * member coalesce into one send, which flatters any server that corks (the
 * floor included). With a rate, a 1 ms timer sends what is due; rooms take
 * turns and each room's sender rotates among its members. potluck refuses
 * more than 20 requests/s per connection (rate_limited, counted and shown),
 * so a closed loop needs rooms with enough members to stay under it.
 *
 * Idle. --idle 1000,10000 connects and joins that many clients in rooms of
 * --members, step by step, with no traffic; after each step settles it reads
 * the server's RSS and reports (RSS(N) − RSS(N0)) / (N − N0) against the
 * first step, so one-time set-up is not charged to the connections.
 *
 * Storms. --join-storm N (s5) first connects and upgrades N clients
 * without joining, then all of them send join to one room at once (or
 * spread over --spread s), so the figure is the server's join handling,
 * not TCP or the handshake: first join request -> last snapshot, join ->
 * snapshot per client, failures, the server's CPU from the storm's start
 * until nothing has arrived for 300 ms. Each client counts the members in
 * its snapshot plus the joined events after it: at the end everyone should
 * know everyone (how many joined events that takes depends on how late the
 * server takes each snapshot: at most N(N-1)/2). --resume-storm (s6) joins --rooms x --members on --port,
 * keeping each member id, resume token and the highest seq seen, chats at
 * the first of --rates for --duration s, then SIGKILLs --kill-pid (only if
 * it is a potluckd) and starts the clock; every client whose connection
 * drops reconnects to --port2 (another instance on the same Redis) and
 * sends resume, at most --attempts times. It reports kill -> resumed per
 * client, replays (events announced and received) against snapshots,
 * failures by cause, and afterwards GET /api/rooms/ID on --port2 for every
 * room: present members (a member counted twice would show) and online.
 * Snapshots are read in place (their seq and member count; the rest is
 * skipped), since in a room of 5,000 each is half a megabyte.
 *
 * A shared machine. Other jobs running during a window change the figures,
 * and not only by stealing CPU: a server woken late finds more frames per
 * connection and sends them together, which flatters it. Before each window
 * the generator waits (at most 60 s) until the machine is quiet; after it,
 * it reads /proc/stat and reports the CPU that neither the server nor the
 * generator used (other_core); above 0.15 of a core the window is measured
 * again (--retries) and, if it stays so, marked as disturbed.
 *
 * Bounded: joining has a deadline (--join-timeout), a window ends by the
 * clock, draining ends when everything expected arrived, nothing arrived for
 * a second, or --drain passed; a storm ends --join-timeout after it began
 * (s6: after the kill), whoever has not answered then counted as such; a
 * worker whose parent goes away exits.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <msgpack.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#define MAX_STEPS 16
#define MAX_PROCS 64
#define RDBUF (256 * 1024)
#define MAX_FRAME (16u << 20)
#define MARKER "LAT:"
#define MARKER_LEN 29 /* LAT: + 16 hex + : + 8 hex */
#define DISTURBED 0.15 /* other work, in cores, that makes a window suspect */
#define HSUB 64
#define HBUCKETS (HSUB + (40 - 6 + 1) * (HSUB / 2))

/* ---- options ---- */

enum mode { MODE_POTLUCK, MODE_FLOOR, MODE_SOCKETIO };

struct opts {
	const char *host;
	int port;
	enum mode mode;
	uint32_t rooms, members;
	uint32_t size;    /* chat text bytes (potluck) */
	uint32_t payload; /* floor frame payload bytes */
	uint64_t rates[MAX_STEPS];
	int nrates;
	uint64_t idle[MAX_STEPS];
	int nidle;
	double duration, warmup, drain, settle, join_timeout, quiet_wait;
	uint32_t window;
	int server_pid;          /* the first of server_pids */
	int server_pids[4];      /* CPU summed over all of them (s3: two servers + Redis) */
	int nserver_pids;
	int port2;               /* s3: odd members connect to this port (a second instance) */
	uint32_t slow_pct;       /* s7: this % of members stop reading in the last window */
	bool poll;               /* s4: poll burst */
	double spread;           /* s4: the answers are spread over this many seconds */
	int procs, sources, parallel;
	int retries; /* measure a disturbed window again, at most this often */
	bool no_join; /* potluck: upgrade only (idle: the bare connection's cost) */
	const char *label;
	uint32_t join_storm; /* s5: clients joining one room at once */
	bool resume_storm;   /* s6: join on --port, kill --kill-pid, resume on --port2 */
	int kill_pid;        /* s6: the instance to SIGKILL (must be a potluckd) */
	int attempts;        /* s6: reconnect attempts per client */
	double recheck;      /* s6: look at the rooms again this long after the kill */
};

/* ---- parent ↔ worker messages ---- */

enum { CMD_CONNECT = 1, CMD_GO, CMD_QUIT, CMD_STORM, CMD_KILLED };

struct cmd {
	uint32_t type;
	uint32_t n;     /* CONNECT: global connections wanted */
	uint64_t ts;    /* GO: sending starts (warm-up) */
	uint64_t t0;    /* GO: the window opens */
	uint64_t t_end; /* GO: the window closes */
	uint64_t rate;  /* GO: deliveries/s in total, 0 = closed loop */
	uint64_t slow;  /* GO: slow readers stop reading in this window */
};
/* CMD_STORM: ts = the storm starts (s5: first join; s6: chat traffic at
 * rate), t0 = s6: the planned kill. CMD_KILLED: ts = when it was killed. */

struct ready {
	uint32_t joined, failed;
};

struct result {
	uint64_t sent;      /* messages sent inside the window */
	uint64_t sent_all;  /* including warm-up */
	uint64_t expected;  /* sent × members */
	uint64_t received;  /* deliveries of messages sent inside the window */
	uint64_t in_window; /* deliveries that arrived inside the window */
	uint64_t ev_bytes, ev_frames; /* chat event payload sizes */
	uint64_t ok, errors, rate_limited, other, closed, unparsed;
	uint64_t gen_cpu_ns, gen_cpu_max_ns;
	uint64_t lat_max_us;
	/* s7: slow readers (they stop reading at the window's start and read
	 * again at its end; their deliveries are not in the figures above) */
	uint64_t slow, slow_4001, slow_close_other, slow_eof, slow_rx;
	/* s4: poll burst; hist then holds last answer sent -> final tally */
	uint64_t answers, res_frames, res_min, res_max, got_final, open_us;
	/* s5, s6: a join or resume storm; hist then holds per client join ->
	 * snapshot (s5) or kill -> resumed (s6). st_first and st_count_min are
	 * minima, st_last, st_drop_max and st_count_max maxima (result_add). */
	uint64_t st_clients, st_done, st_failed, st_timeout, st_err_token, st_err_other;
	uint64_t st_attempts, st_first, st_last, st_drop_max, st_wrong_member;
	uint64_t st_snapshot, st_replay, st_replay_n, st_replay_rx, st_events, st_early;
	uint64_t st_count_min, st_count_max, st_up_max_us;
	uint64_t hist[HBUCKETS];
	uint64_t hist_up[HBUCKETS]; /* s6: kill -> upgraded on the second instance */
};

/* ---- small helpers ---- */

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ns from t to now, 0 if t is still ahead. libuv counts a timer's delay
 * from its cached loop time (whole ms, updated once per loop iteration), so
 * a timer set for t can run before t: an unsigned now - t would then wrap,
 * and a pacing loop would send without end. */
static uint64_t ns_since(uint64_t now, uint64_t t)
{
	return now > t ? now - t : 0;
}

static uint64_t cpu_ns(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ((uint64_t)ru.ru_utime.tv_sec + (uint64_t)ru.ru_stime.tv_sec) * 1000000000u +
	       ((uint64_t)ru.ru_utime.tv_usec + (uint64_t)ru.ru_stime.tv_usec) * 1000u;
}

static void sleep_until(uint64_t t)
{
	struct timespec ts = {(time_t)(t / 1000000000u), (long)(t % 1000000000u)};
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

static unsigned hidx(uint64_t v)
{
	if (v < HSUB)
		return (unsigned)v;
	if (v >= (1ull << 40))
		v = (1ull << 40) - 1;
	unsigned b = 63u - (unsigned)__builtin_clzll(v);
	return HSUB + (b - 6) * (HSUB / 2) + (unsigned)((v >> (b - 5)) - HSUB / 2);
}

static uint64_t hval(unsigned i) /* middle of bucket i */
{
	if (i < HSUB)
		return i;
	unsigned b = (i - HSUB) / (HSUB / 2) + 6;
	uint64_t m = (i - HSUB) % (HSUB / 2) + HSUB / 2;
	return (m << (b - 5)) + ((1ull << (b - 5)) >> 1);
}

static double hpct(const uint64_t *h, double q) /* in ms */
{
	uint64_t n = 0, acc = 0;
	for (unsigned i = 0; i < HBUCKETS; i++)
		n += h[i];
	if (!n)
		return 0;
	uint64_t rank = (uint64_t)(q * (double)n + 0.999999);
	if (rank < 1)
		rank = 1;
	for (unsigned i = 0; i < HBUCKETS; i++) {
		acc += h[i];
		if (acc >= rank)
			return (double)hval(i) / 1000.0;
	}
	return 0;
}

static int hexval(const uint8_t *p, int n, uint64_t *out)
{
	uint64_t v = 0;
	for (int i = 0; i < n; i++) {
		uint8_t ch = p[i];
		unsigned d;
		if (ch >= '0' && ch <= '9')
			d = ch - '0';
		else if (ch >= 'a' && ch <= 'f')
			d = ch - 'a' + 10;
		else
			return -1;
		v = v << 4 | d;
	}
	*out = v;
	return 0;
}

static void put_hex(uint8_t *p, uint64_t v, int n)
{
	static const char digits[] = "0123456789abcdef";
	for (int i = n - 1; i >= 0; i--, v >>= 4)
		p[i] = (uint8_t)digits[v & 15];
}

static int write_full(int fd, const void *p, size_t n)
{
	const uint8_t *b = p;
	while (n) {
		ssize_t w = write(fd, b, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Reads exactly n bytes before the deadline (CLOCK_MONOTONIC ns). */
static int read_full(int fd, void *p, size_t n, uint64_t deadline)
{
	uint8_t *b = p;
	while (n) {
		uint64_t t = now_ns();
		if (t >= deadline)
			return -1;
		struct pollfd pfd = {fd, POLLIN, 0};
		int pr = poll(&pfd, 1, (int)((deadline - t) / 1000000u) + 1);
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr <= 0)
			return -1;
		ssize_t r = read(fd, b, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		b += r;
		n -= (size_t)r;
	}
	return 0;
}

/* Server CPU (user + system, ns) and VmRSS (KiB) from /proc. */
static int proc_stat(int pid, uint64_t *cpu, uint64_t *rss_kb)
{
	char path[64], buf[4096];
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	char *p = strrchr(buf, ')');
	if (!p)
		return -1;
	p++;
	unsigned long long ut = 0, st = 0;
	/* after ")": state is field 3; utime and stime are fields 14 and 15 */
	if (sscanf(p, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
		return -1;
	long hz = sysconf(_SC_CLK_TCK);
	*cpu = (uint64_t)(ut + st) * (1000000000u / (uint64_t)hz);
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	*rss_kb = 0;
	while (fgets(buf, sizeof(buf), f))
		if (!strncmp(buf, "VmRSS:", 6))
			*rss_kb = strtoull(buf + 6, NULL, 10);
	fclose(f);
	return 0;
}

/* CPU time the whole machine spent busy (ns), from /proc/stat. */
static uint64_t machine_busy_ns(void)
{
	unsigned long long v[8] = {0};
	FILE *f = fopen("/proc/stat", "r");
	if (!f)
		return 0;
	int n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
		       &v[3], &v[4], &v[5], &v[6], &v[7]);
	fclose(f);
	if (n < 8)
		return 0;
	/* user nice system [idle iowait] irq softirq steal */
	unsigned long long busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
	return (uint64_t)busy * (1000000000u / (uint64_t)sysconf(_SC_CLK_TCK));
}

/* ---- rooms over HTTP (parent, blocking) ---- */

/* One HTTP/1.1 request with a JSON answer (body may be NULL); at most 5 s
 * per read, so a server that stops answering cannot hold the generator. */
static json_t *http_json(const struct opts *o, int port, const char *method, const char *path,
			 const char *body, const char *status)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	inet_pton(AF_INET, o->host, &sa.sin_addr);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		fprintf(stderr, "loadgen: cannot connect to %s:%d: %s\n", o->host, port,
			strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	struct timeval tv = {5, 0};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	char req[512];
	int rl = snprintf(req, sizeof(req),
			  "%s %s HTTP/1.1\r\nHost: %s:%d\r\n"
			  "Content-Type: application/json\r\nContent-Length: %zu\r\n"
			  "Connection: close\r\n\r\n%s",
			  method, path, o->host, port, body ? strlen(body) : 0, body ? body : "");
	char resp[8192];
	size_t n = 0;
	json_t *j = NULL;
	if (write_full(fd, req, (size_t)rl))
		goto out;
	for (;;) {
		ssize_t r = read(fd, resp + n, sizeof(resp) - 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
		resp[n] = 0;
		char *hend = strstr(resp, "\r\n\r\n");
		const char *cl = hend ? strcasestr(resp, "content-length:") : NULL;
		if (cl && n >= (size_t)(hend + 4 - resp) + strtoul(cl + 15, NULL, 10))
			break;
	}
	resp[n] = 0;
	char *hend = strstr(resp, "\r\n\r\n");
	if (strncmp(resp, "HTTP/1.1 ", 9) || strncmp(resp + 9, status, 3) || !hend) {
		fprintf(stderr, "loadgen: %s %s: %.80s\n", method, path, resp);
		goto out;
	}
	json_error_t jerr;
	j = json_loads(hend + 4, 0, &jerr);
	if (!j)
		fprintf(stderr, "loadgen: %s %s: not JSON: %.80s\n", method, path, hend + 4);
out:
	close(fd);
	return j;
}

static int create_room(const struct opts *o, uint32_t i, char *id, size_t idsz, char *key)
{
	char body[64];
	snprintf(body, sizeof(body), "{\"title\":\"bench room %u\"}", i);
	json_t *j = http_json(o, o->port, "POST", "/api/rooms", body, "201");
	const char *s = j ? json_string_value(json_object_get(j, "room_id")) : NULL;
	const char *k = j ? json_string_value(json_object_get(j, "facilitator_key")) : NULL;
	int rc = -1;
	if (s && strlen(s) < idsz) {
		strcpy(id, s);
		snprintf(key, 32, "%s", k ? k : "");
		rc = 0;
	} else if (j) {
		fprintf(stderr, "loadgen: no room_id in the answer to POST /api/rooms\n");
	}
	json_decref(j);
	return rc;
}

/* ---- worker: connections ---- */

enum cstate { C_IDLE, C_CONNECTING, C_HANDSHAKE, C_JOINING, C_READY, C_DEAD };

struct worker;

struct conn {
	uv_tcp_t tcp; /* first: handle->data is not needed */
	uv_connect_t creq;
	struct worker *w;
	uint32_t g, room; /* global index, room index (global) */
	uint32_t next_id;
	uint8_t state;
	bool closing;
	bool slow;        /* s7: one of the members that stop reading */
	bool slow_active; /* ... and not reading now */
	uint32_t res_frames; /* s4: results frames since the prompt opened */
	uint64_t t_final;    /* s4: when the final tally arrived */
	uint8_t *carry;
	uint32_t carry_n, carry_cap;
	char accept[29]; /* expected Sec-WebSocket-Accept */
	/* s5, s6: storms */
	bool in_storm;       /* connected when the storm began */
	bool st_failed;      /* gave up (counted) */
	bool resuming;       /* s6: the next upgrade sends resume, not join */
	bool wait_reconnect; /* s6: reconnect at t_due, once the old handle is closed */
	uint8_t attempts;    /* s6: reconnect attempts so far */
	uint32_t known;      /* s5: members in the join's snapshot + joined events since */
	uint64_t t_req;      /* s5: join sent; s6: the drop noticed */
	uint64_t t_done;     /* the join's or resume's ok arrived */
	uint64_t t_up;       /* s6: upgraded on the second instance (resume sent) */
	uint64_t t_due;      /* s6: reconnect then */
	uint64_t member;     /* s6: from the join's ok */
	uint64_t last_seq;   /* s6: the highest seq seen */
	uint64_t resume_seq; /* s6: the seq sent with resume */
	uint64_t reply_seq;  /* the ok's seq (s6) or its snapshot's (s5) */
	char token[32];      /* s6: from the join's ok */
};

struct wroom {
	uint32_t first, n; /* this worker's members: conns[first .. first+n) */
	uint32_t next;     /* sender rotation */
	uint32_t nslow;    /* s7: slow readers in this room (all workers) */
};

struct worker {
	uv_loop_t loop;
	const struct opts *o;
	char (*room_ids)[32];
	int up;
	uv_pipe_t down;
	uint8_t cbuf[sizeof(struct cmd)];
	size_t cbuf_n;
	uv_timer_t join_timer, start_timer, mark_timer, end_timer, tick_timer, drain_timer;
	struct conn *conns;
	uint32_t nconns, target, next_open, inflight, joined, failed;
	bool reporting;
	struct wroom *rooms; /* indexed by global room; n = 0 when not ours */
	uint32_t *my_rooms, nmy, room_cursor;
	uint32_t total_conns; /* over all workers */
	/* current window */
	bool sending, maxmode, whole_rooms;
	uint64_t ts, t0, t_end, drain_deadline, last_rx;
	double msgs_per_ns;
	uint64_t due_sent;
	uint64_t cpu0;
	struct result r;
	uint8_t text[2048]; /* chat text template (marker then padding) */
	uint32_t textlen;
	uint64_t rng;
	bool slow_window; /* s7 */
	/* s4: poll burst */
	int poll_state; /* 0 idle, 1 prompt sent, 2 answering, 3 all sent */
	uint64_t prompt_id, t_prompt, t_open, t_last;
	uint32_t answered_sent, final_count;
	/* s5, s6: storms */
	int storm;     /* STORM_JOIN or STORM_RESUME while one runs */
	bool st_reported, killed;
	uint32_t st_pending, st_next, st_waiting;
	uint64_t st_deadline, st_last_rx, t_kill;
	uv_timer_t storm_timer;
};

enum { STORM_JOIN = 1, STORM_RESUME };

static char (*fac_keys)[32]; /* facilitator keys, by room (s4) */

static bool is_slow(const struct opts *o, uint32_t g)
{
	return o->slow_pct && g % 100 >= 100 - o->slow_pct;
}

#define SLOW_RCVBUF 65536 /* s7: the slow readers' receive buffer */

static uint8_t rdbuf[RDBUF];

static uint32_t rnd32(struct worker *w)
{
	w->rng ^= w->rng << 13;
	w->rng ^= w->rng >> 7;
	w->rng ^= w->rng << 17;
	return (uint32_t)w->rng;
}

static void pump_connects(struct worker *w);
static void storm_lost(struct conn *c, const char *why);
static void storm_reconnect(struct conn *c);

static void conn_closed_cb(uv_handle_t *h)
{
	struct conn *c = (struct conn *)h;
	free(c->carry);
	c->carry = NULL;
	c->carry_n = c->carry_cap = 0;
	c->closing = false; /* s6: the handle may be opened again */
	if (c->wait_reconnect && now_ns() >= c->t_due)
		storm_reconnect(c);
}

static void conn_fail(struct conn *c, const char *why)
{
	struct worker *w = c->w;
	if (c->state == C_DEAD)
		return;
	if (c->in_storm && !c->t_done && w->storm) { /* s5, s6: the storm counts it */
		storm_lost(c, why);
		return;
	}
	bool setting_up = c->state != C_READY;
	if (!setting_up && c->slow && w->slow_window) {
		if (!c->t_final) /* no close frame came first */
			w->r.slow_eof++;
	} else if (!setting_up) {
		w->r.closed++;
	}
	else if (w->failed < 5)
		fprintf(stderr, "loadgen: connection %u: %s\n", c->g, why);
	c->state = C_DEAD;
	if (!c->closing) {
		c->closing = true;
		uv_close((uv_handle_t *)&c->tcp, conn_closed_cb);
	}
	if (setting_up) {
		w->failed++;
		w->inflight--;
		pump_connects(w);
	}
}

struct wreq {
	uv_write_t req;
	uv_buf_t buf;
};

static void wreq_done(uv_write_t *req, int status)
{
	struct wreq *wr = (struct wreq *)req;
	if (status < 0 && status != UV_ECANCELED)
		conn_fail((struct conn *)req->handle, "write failed");
	free(wr);
}

/* Sends bytes now, or queues a copy of what the socket did not take. */
static void conn_send(struct conn *c, const uint8_t *p, size_t n)
{
	if (c->state == C_DEAD)
		return;
	uv_buf_t b = uv_buf_init((char *)p, (unsigned)n);
	int w = uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
	if (w == (int)n)
		return;
	if (w < 0 && w != UV_EAGAIN) {
		conn_fail(c, uv_strerror(w));
		return;
	}
	size_t off = w > 0 ? (size_t)w : 0;
	struct wreq *wr = malloc(sizeof(*wr) + n - off);
	if (!wr) {
		conn_fail(c, "out of memory");
		return;
	}
	memcpy(wr + 1, p + off, n - off);
	wr->buf = uv_buf_init((char *)(wr + 1), (unsigned)(n - off));
	if (uv_write(&wr->req, (uv_stream_t *)&c->tcp, &wr->buf, 1, wreq_done)) {
		free(wr);
		conn_fail(c, "write failed");
	}
}

/* One masked client frame around payload p. */
static void conn_send_frame(struct conn *c, uint8_t opcode, const uint8_t *p, size_t n)
{
	uint8_t f[14 + 4096];
	if (n > 4096)
		return;
	size_t h = 0;
	f[h++] = (uint8_t)(0x80 | opcode);
	if (n < 126) {
		f[h++] = (uint8_t)(0x80 | n);
	} else {
		f[h++] = 0x80 | 126;
		f[h++] = (uint8_t)(n >> 8);
		f[h++] = (uint8_t)n;
	}
	uint32_t key = rnd32(c->w);
	uint8_t m[4];
	memcpy(m, &key, 4);
	memcpy(f + h, m, 4);
	h += 4;
	for (size_t i = 0; i < n; i++)
		f[h + i] = p[i] ^ m[i & 3];
	conn_send(c, f, h + n);
}

static size_t mp_str(uint8_t *p, const char *s, size_t n)
{
	size_t h = 0;
	if (n < 32) {
		p[h++] = (uint8_t)(0xa0 | n);
	} else if (n < 256) {
		p[h++] = 0xd9;
		p[h++] = (uint8_t)n;
	} else {
		p[h++] = 0xda;
		p[h++] = (uint8_t)(n >> 8);
		p[h++] = (uint8_t)n;
	}
	memcpy(p + h, s, n);
	return h + n;
}

static size_t mp_u64(uint8_t *p, uint64_t v)
{
	p[0] = 0xcf;
	for (int i = 0; i < 8; i++)
		p[1 + i] = (uint8_t)(v >> (56 - 8 * i));
	return 9;
}

/* A request's head: a map of nkeys keys, t and id (a uint32) among them. */
static size_t mp_req(uint8_t *p, unsigned nkeys, const char *t, uint32_t id)
{
	size_t n = 0;
	p[n++] = (uint8_t)(0x80 | nkeys);
	n += mp_str(p + n, "t", 1);
	n += mp_str(p + n, t, strlen(t));
	n += mp_str(p + n, "id", 2);
	p[n++] = 0xce;
	p[n++] = (uint8_t)(id >> 24);
	p[n++] = (uint8_t)(id >> 16);
	p[n++] = (uint8_t)(id >> 8);
	p[n++] = (uint8_t)id;
	return n;
}

/* s6: re-attach on the other instance with what the join gave */
static void send_resume(struct conn *c)
{
	uint8_t p[256];
	size_t n = 0;
	const char *room = c->w->room_ids[c->room];
	n += mp_req(p, 6, "resume", ++c->next_id);
	n += mp_str(p + n, "room", 4);
	n += mp_str(p + n, room, strlen(room));
	n += mp_str(p + n, "member", 6);
	n += mp_u64(p + n, c->member);
	n += mp_str(p + n, "token", 5);
	n += mp_str(p + n, c->token, strlen(c->token));
	n += mp_str(p + n, "seq", 3);
	n += mp_u64(p + n, c->last_seq);
	c->resume_seq = c->last_seq;
	conn_send_frame(c, 0x2, p, n);
}

static void send_join(struct conn *c)
{
	uint8_t p[256];
	size_t n = 0;
	char name[16];
	int nl = snprintf(name, sizeof(name), "m%u", c->g);
	const char *room = c->w->room_ids[c->room];
	bool fac = c->w->o->poll && c->g == 0; /* s4: the facilitator */
	n += mp_req(p, fac ? 5 : 4, "join", 1);
	n += mp_str(p + n, "room", 4);
	n += mp_str(p + n, room, strlen(room));
	n += mp_str(p + n, "name", 4);
	n += mp_str(p + n, name, (size_t)nl);
	if (fac) {
		n += mp_str(p + n, "key", 3);
		n += mp_str(p + n, fac_keys[c->room], strlen(fac_keys[c->room]));
	}
	conn_send_frame(c, 0x2, p, n);
}

/* s4: the facilitator opens a single-choice prompt */
static void send_prompt(struct conn *c)
{
	uint8_t p[256];
	size_t n = 0;
	n += mp_req(p, 5, "prompt", ++c->next_id);
	n += mp_str(p + n, "kind", 4);
	n += mp_str(p + n, "single", 6);
	n += mp_str(p + n, "question", 8);
	n += mp_str(p + n, "Which one?", 10);
	n += mp_str(p + n, "options", 7);
	p[n++] = 0x93;
	n += mp_str(p + n, "red", 3);
	n += mp_str(p + n, "green", 5);
	n += mp_str(p + n, "blue", 4);
	conn_send_frame(c, 0x2, p, n);
}

/* s4: one answer to the open prompt */
static void send_answer(struct conn *c, uint64_t prompt)
{
	uint8_t p[64];
	size_t n = 0;
	n += mp_req(p, 4, "answer", ++c->next_id);
	n += mp_str(p + n, "prompt", 6);
	p[n++] = 0xcf;
	for (int i = 7; i >= 0; i--)
		p[n++] = (uint8_t)(prompt >> (8 * i));
	n += mp_str(p + n, "choice", 6);
	p[n++] = (uint8_t)(c->g % 3);
	conn_send_frame(c, 0x2, p, n);
}

/* An unsigned field of a msgpack map (s4), -1 if it is not there. */
static int mp_get_uint(const uint8_t *p, size_t n, const char *key, uint64_t *out)
{
	msgpack_unpacked u;
	msgpack_unpacked_init(&u);
	int rc = -1;
	size_t kl = strlen(key);
	if (msgpack_unpack_next(&u, (const char *)p, n, NULL) == MSGPACK_UNPACK_SUCCESS &&
	    u.data.type == MSGPACK_OBJECT_MAP) {
		msgpack_object_map *mp = &u.data.via.map;
		for (uint32_t i = 0; i < mp->size; i++) {
			msgpack_object *k = &mp->ptr[i].key, *v = &mp->ptr[i].val;
			if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == kl &&
			    !memcmp(k->via.str.ptr, key, kl) &&
			    v->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
				*out = v->via.u64;
				rc = 0;
			}
		}
	}
	msgpack_unpacked_destroy(&u);
	return rc;
}

/* ---- s5, s6: a few msgpack values read in place ---- */

static uint64_t be(const uint8_t *p, unsigned k) /* big-endian, k bytes */
{
	uint64_t x = 0;
	for (unsigned i = 0; i < k; i++)
		x = x << 8 | p[i];
	return x;
}

static int rd_uint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	const uint8_t *q = *p;
	unsigned k;
	if (q >= end)
		return -1;
	if (*q < 0x80) {
		*v = *q;
		*p = q + 1;
		return 0;
	}
	switch (*q) {
	case 0xcc: k = 1; break;
	case 0xcd: k = 2; break;
	case 0xce: k = 4; break;
	case 0xcf: k = 8; break;
	default: return -1;
	}
	if ((size_t)(end - q) < 1 + k)
		return -1;
	*v = be(q + 1, k);
	*p = q + 1 + k;
	return 0;
}

/* The header of a str ('s'), map ('m') or array ('a'): its length. */
static int rd_head(const uint8_t **p, const uint8_t *end, int kind, uint32_t *n)
{
	const uint8_t *q = *p;
	if (q >= end)
		return -1;
	uint8_t b = *q, mask = kind == 's' ? 0xe0 : 0xf0;
	uint8_t fix = kind == 's' ? 0xa0 : kind == 'm' ? 0x80 : 0x90;
	uint8_t b16 = kind == 's' ? 0xda : kind == 'm' ? 0xde : 0xdc;
	unsigned k;
	if ((b & mask) == fix) {
		*n = b & (uint8_t)~mask;
		*p = q + 1;
		return 0;
	}
	if (kind == 's' && b == 0xd9)
		k = 1;
	else if (b == b16)
		k = 2;
	else if (b == b16 + 1)
		k = 4;
	else
		return -1;
	if ((size_t)(end - q) < 1 + k)
		return -1;
	*n = (uint32_t)be(q + 1, k);
	*p = q + 1 + k;
	return 0;
}

static int rd_str(const uint8_t **p, const uint8_t *end, const uint8_t **s, uint32_t *n)
{
	const uint8_t *q = *p;
	if (rd_head(&q, end, 's', n) || (size_t)(end - q) < *n)
		return -1;
	*s = q;
	*p = q + *n;
	return 0;
}

/* Skips one value of any kind, without recursion or allocation. */
static int rd_skip(const uint8_t **p, const uint8_t *end)
{
	const uint8_t *q = *p;
	uint64_t left = 1;
	while (left--) {
		if (q >= end)
			return -1;
		uint8_t b = *q++;
		unsigned k = 0;     /* length bytes that follow */
		uint64_t skip = 0;  /* then so many bytes */
		int items = 0;      /* 1: array (k-byte count), 2: map */
		if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3)
			continue;
		if (b <= 0x8f) {
			left += 2u * (b & 0x0f);
			continue;
		}
		if (b <= 0x9f) {
			left += b & 0x0f;
			continue;
		}
		if (b <= 0xbf) {
			skip = b & 0x1f;
		} else {
			switch (b) {
			case 0xc4: case 0xd9: k = 1; break;
			case 0xc5: case 0xda: k = 2; break;
			case 0xc6: case 0xdb: k = 4; break;
			case 0xc7: k = 1; skip = 1; break;
			case 0xc8: k = 2; skip = 1; break;
			case 0xc9: k = 4; skip = 1; break;
			case 0xcc: case 0xd0: skip = 1; break;
			case 0xcd: case 0xd1: skip = 2; break;
			case 0xca: case 0xce: case 0xd2: skip = 4; break;
			case 0xcb: case 0xcf: case 0xd3: skip = 8; break;
			case 0xd4: skip = 2; break;
			case 0xd5: skip = 3; break;
			case 0xd6: skip = 5; break;
			case 0xd7: skip = 9; break;
			case 0xd8: skip = 17; break;
			case 0xdc: k = 2; items = 1; break;
			case 0xdd: k = 4; items = 1; break;
			case 0xde: k = 2; items = 2; break;
			case 0xdf: k = 4; items = 2; break;
			default: return -1;
			}
		}
		if ((size_t)(end - q) < k)
			return -1;
		uint64_t len = be(q, k);
		q += k;
		if (items) {
			left += len * (uint64_t)items;
			continue;
		}
		skip += len;
		if ((uint64_t)(end - q) < skip)
			return -1;
		q += skip;
	}
	*p = q;
	return 0;
}

struct okinfo {
	uint64_t member, seq, replay, snap_seq;
	uint32_t snap_members, token_n;
	const uint8_t *token;
	bool snapshot, has_replay;
};

/* The ok of a join or resume: {t, id, member, token, role, [seq], snapshot
 * or replay}, in any order. Of a snapshot only its seq is read and its
 * members counted, in place; the rest is skipped (in one room of 5,000 it
 * is half a megabyte). */
static int parse_ok(const uint8_t *p, size_t n, struct okinfo *ok)
{
	const uint8_t *q = p, *end = p + n, *k, *vs;
	uint32_t nf, kl, vl;
	memset(ok, 0, sizeof(*ok));
	if (rd_head(&q, end, 'm', &nf))
		return -1;
	for (uint32_t i = 0; i < nf; i++) {
		uint64_t v = 0;
		if (rd_str(&q, end, &k, &kl))
			return -1;
		if (kl == 8 && !memcmp(k, "snapshot", 8)) {
			uint32_t sn;
			bool seq = false, members = false;
			if (rd_head(&q, end, 'm', &sn))
				return -1;
			for (uint32_t j = 0; j < sn; j++) {
				if (rd_str(&q, end, &k, &kl))
					return -1;
				if (kl == 3 && !memcmp(k, "seq", 3)) {
					if (rd_uint(&q, end, &ok->snap_seq))
						return -1;
					seq = true;
				} else if (kl == 7 && !memcmp(k, "members", 7)) {
					const uint8_t *a = q;
					if (rd_head(&a, end, 'a', &ok->snap_members) ||
					    rd_skip(&q, end))
						return -1;
					members = true;
				} else if (rd_skip(&q, end)) {
					return -1;
				}
			}
			if (!seq || !members)
				return -1;
			ok->snapshot = true;
			continue;
		}
		vs = NULL;
		vl = 0;
		if (rd_uint(&q, end, &v) && rd_str(&q, end, &vs, &vl))
			return -1;
		if (kl == 6 && !memcmp(k, "member", 6)) {
			ok->member = v;
		} else if (kl == 5 && !memcmp(k, "token", 5) && vs) {
			ok->token = vs;
			ok->token_n = vl;
		} else if (kl == 3 && !memcmp(k, "seq", 3)) {
			ok->seq = v;
		} else if (kl == 6 && !memcmp(k, "replay", 6)) {
			ok->replay = v;
			ok->has_replay = true;
		}
	}
	return ok->snapshot || ok->has_replay ? 0 : -1;
}

/* The seq of a room event: potluck packs {t, seq, ts, …}. */
static int ev_seq(const uint8_t *p, size_t n, uint64_t *seq)
{
	if (n >= 4 && (p[0] & 0xf0) == 0x80 && p[1] == 0xa1 && p[2] == 't' &&
	    (p[3] & 0xe0) == 0xa0) {
		const uint8_t *q = p + 4 + (p[3] & 0x1f), *end = p + n;
		if (end - q >= 4 && !memcmp(q, "\xa3seq", 4)) {
			q += 4;
			return rd_uint(&q, end, seq);
		}
	}
	return mp_get_uint(p, n, "seq", seq);
}

/* Sends one chat message from c, stamped now. */
static void send_chat(struct conn *c)
{
	struct worker *w = c->w;
	if (c->state != C_READY)
		return;
	uint64_t t = now_ns();
	uint8_t *text = w->text;
	put_hex(text + 4, t, 16);
	put_hex(text + 21, c->g, 8);
	if (w->o->mode == MODE_FLOOR) {
		conn_send_frame(c, 0x2, text, w->textlen);
	} else if (w->o->mode == MODE_SOCKETIO) {
		uint8_t p[2100];
		static const char pre[] = "42[\"chat\",\"";
		size_t n = sizeof(pre) - 1;
		memcpy(p, pre, n);
		memcpy(p + n, text, w->textlen); /* hex and 'x': nothing to escape */
		n += w->textlen;
		p[n++] = '"';
		p[n++] = ']';
		conn_send_frame(c, 0x1, p, n);
	} else {
		uint8_t p[2100];
		size_t n = 0;
		n += mp_req(p, 3, "chat", ++c->next_id);
		n += mp_str(p + n, "text", 4);
		n += mp_str(p + n, (const char *)text, w->textlen);
		conn_send_frame(c, 0x2, p, n);
	}
	w->r.sent_all++;
	if (t >= w->t0 && t < w->t_end) {
		w->r.sent++;
		w->r.expected += w->o->members - (w->slow_window ? w->rooms[c->room].nslow : 0);
	}
}

/* The next sender of a room of ours, rotating. */
static void room_send(struct worker *w, uint32_t room)
{
	struct wroom *wr = &w->rooms[room];
	if (!wr->n)
		return;
	struct conn *c = &w->conns[wr->first + wr->next];
	wr->next = (wr->next + 1) % wr->n;
	for (uint32_t k = 0; c->slow && w->slow_window && k < wr->n; k++) {
		c = &w->conns[wr->first + wr->next]; /* slow readers do not send */
		wr->next = (wr->next + 1) % wr->n;
	}
	send_chat(c);
}

static void on_chat(struct conn *c, const uint8_t *p, size_t n, uint64_t now)
{
	struct worker *w = c->w;
	const uint8_t *m = memmem(p, n, MARKER, 4);
	uint64_t sent, from;
	if (!m || (size_t)(p + n - m) < MARKER_LEN || hexval(m + 4, 16, &sent) ||
	    hexval(m + 21, 8, &from)) {
		w->r.unparsed++;
		return;
	}
	w->last_rx = now;
	if (c->slow && w->slow_window) { /* read after the window: not counted */
		w->r.slow_rx++;
		return;
	}
	if (now >= w->t0 && now < w->t_end)
		w->r.in_window++;
	if (sent >= w->t0 && sent < w->t_end) {
		w->r.received++;
		uint64_t us = now > sent ? (now - sent) / 1000u : 0;
		w->r.hist[hidx(us)]++;
		if (us > w->r.lat_max_us)
			w->r.lat_max_us = us;
	}
	if (w->maxmode && w->sending && from == c->g && now < w->t_end)
		room_send(w, c->room);
}

/* The "t" of a msgpack map: fast path for potluck's layout (t first). */
static int msg_type(const uint8_t *p, size_t n, const uint8_t **t, size_t *tl)
{
	if (n >= 4 && (p[0] & 0xf0) == 0x80 && p[1] == 0xa1 && p[2] == 't' &&
	    (p[3] & 0xe0) == 0xa0 && (size_t)(4 + (p[3] & 0x1f)) <= n) {
		*t = p + 4;
		*tl = p[3] & 0x1f;
		return 0;
	}
	msgpack_unpacked u;
	msgpack_unpacked_init(&u);
	int rc = -1;
	if (msgpack_unpack_next(&u, (const char *)p, n, NULL) == MSGPACK_UNPACK_SUCCESS &&
	    u.data.type == MSGPACK_OBJECT_MAP) {
		msgpack_object_map *mp = &u.data.via.map;
		for (uint32_t i = 0; i < mp->size; i++) {
			msgpack_object *k = &mp->ptr[i].key, *v = &mp->ptr[i].val;
			if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == 1 &&
			    k->via.str.ptr[0] == 't' && v->type == MSGPACK_OBJECT_STR) {
				/* points into p: msgpack-c references strings in place */
				*t = (const uint8_t *)v->via.str.ptr;
				*tl = v->via.str.size;
				rc = 0;
			}
		}
	}
	msgpack_unpacked_destroy(&u);
	return rc;
}

static void on_joined(struct conn *c)
{
	struct worker *w = c->w;
	c->state = C_READY;
	w->joined++;
	w->inflight--;
	pump_connects(w);
}

/* s6: what the join on the first instance gives for resuming */
static void keep_identity(struct conn *c, const uint8_t *p, size_t n)
{
	struct okinfo ok;
	if (parse_ok(p, n, &ok) || !ok.snapshot || ok.token_n >= sizeof(c->token)) {
		c->w->r.unparsed++; /* its resume will fail and be counted */
		return;
	}
	c->member = ok.member;
	memcpy(c->token, ok.token, ok.token_n);
	c->token[ok.token_n] = 0;
	if (ok.snap_seq > c->last_seq)
		c->last_seq = ok.snap_seq;
}

/* s5, s6: the storm's join or resume was answered */
static void storm_ok(struct conn *c, const uint8_t *p, size_t n, uint64_t now)
{
	struct worker *w = c->w;
	struct okinfo ok;
	if (parse_ok(p, n, &ok))
		w->r.unparsed++;
	c->state = C_READY;
	c->t_done = now;
	w->st_pending--;
	w->r.st_done++;
	if (w->storm == STORM_JOIN) {
		c->reply_seq = ok.snap_seq;
		c->known = ok.snap_members;
		return;
	}
	if (ok.snapshot) {
		w->r.st_snapshot++;
		c->last_seq = ok.seq;
	} else {
		w->r.st_replay++;
		w->r.st_replay_n += ok.replay;
	}
	c->reply_seq = ok.seq;
	if (ok.member != c->member)
		w->r.st_wrong_member++;
}

/* s5, s6: seq bookkeeping on room events (not on replies) */
static void storm_event(struct conn *c, const uint8_t *p, size_t n, const uint8_t *t, size_t tl)
{
	struct worker *w = c->w;
	uint64_t seq;
	if ((tl == 2 && !memcmp(t, "ok", 2)) || (tl == 5 && !memcmp(t, "error", 5)) ||
	    (tl == 7 && !memcmp(t, "results", 7)) || ev_seq(p, n, &seq))
		return;
	if (w->o->resume_storm) { /* replayed: after the ok, up to its seq */
		if (c->t_done && seq > c->last_seq && seq <= c->reply_seq)
			w->r.st_replay_rx++;
		if (seq > c->last_seq)
			c->last_seq = seq;
		return;
	}
	if (!c->t_done) {
		if (c->t_req)
			w->r.st_early++; /* an event before the join's reply */
		return;
	}
	if (tl == 6 && !memcmp(t, "joined", 6) && seq > c->reply_seq) {
		c->known++;
		w->r.st_events++;
	}
}

/* Socket.IO 4 over Engine.IO 4's WebSocket transport: one packet per
 * frame, its type the first character. */
static void on_sio(struct conn *c, const uint8_t *p, size_t n, uint64_t now)
{
	struct worker *w = c->w;
	if (!n) {
		w->r.unparsed++;
		return;
	}
	switch (p[0]) {
	case '0': /* open {"sid":…,"pingInterval":…}: connect to namespace "/" */
		if (c->state == C_JOINING)
			conn_send_frame(c, 0x1, (const uint8_t *)"40", 2);
		return;
	case '2': /* ping */
		conn_send_frame(c, 0x1, (const uint8_t *)"3", 1);
		return;
	case '1': /* close */
		conn_fail(c, "closed by the server (Engine.IO close)");
		return;
	case '4': /* message: a Socket.IO packet */
		break;
	default:
		w->r.other++;
		return;
	}
	if (n >= 2 && p[1] == '2') { /* EVENT ["chat", …] */
		if (n >= 10 && !memcmp(p + 2, "[\"chat\",", 8)) {
			w->r.ev_bytes += n;
			w->r.ev_frames++;
			on_chat(c, p, n, now);
		} else {
			w->r.other++;
		}
	} else if (n >= 2 && p[1] == '0') { /* CONNECT answered: joined */
		if (c->state == C_JOINING)
			on_joined(c);
	} else if (n >= 2 && p[1] == '4') { /* CONNECT_ERROR */
		if (c->state == C_JOINING) {
			conn_fail(c, "Socket.IO connect refused");
			return;
		}
		w->r.errors++;
	} else {
		w->r.other++;
	}
}

static void on_message(struct conn *c, const uint8_t *p, size_t n, uint64_t now)
{
	struct worker *w = c->w;
	if (w->o->mode == MODE_FLOOR) {
		on_chat(c, p, n, now);
		return;
	}
	if (w->o->mode == MODE_SOCKETIO) {
		on_sio(c, p, n, now);
		return;
	}
	const uint8_t *t = NULL;
	size_t tl = 0;
	if (msg_type(p, n, &t, &tl)) {
		w->r.unparsed++;
		return;
	}
	if (w->storm || w->o->resume_storm)
		storm_event(c, p, n, t, tl);
	if (tl == 4 && !memcmp(t, "chat", 4)) {
		w->r.ev_bytes += n;
		w->r.ev_frames++;
		on_chat(c, p, n, now);
	} else if (tl == 7 && !memcmp(t, "results", 7)) {
		uint64_t answered = 0;
		if (w->poll_state) {
			c->res_frames++;
			w->r.res_frames++;
			if (!mp_get_uint(p, n, "answered", &answered) &&
			    answered >= w->total_conns - 1 && !c->t_final) {
				c->t_final = now;
				w->final_count++;
			}
		}
	} else if (tl == 2 && !memcmp(t, "ok", 2)) {
		if (c->state == C_JOINING && c->in_storm) {
			storm_ok(c, p, n, now);
		} else if (c->state == C_JOINING) {
			if (w->o->resume_storm)
				keep_identity(c, p, n);
			on_joined(c);
		} else {
			w->r.ok++;
			if (w->poll_state == 1 && c->g == 0 &&
			    !mp_get_uint(p, n, "seq", &w->prompt_id)) {
				w->t_open = now;
				w->poll_state = 2;
			}
		}
	} else if (tl == 5 && !memcmp(t, "error", 5)) {
		if (c->state == C_JOINING) {
			if (c->in_storm && memmem(p, n, "invalid_token", 13)) {
				w->r.st_err_token++;
				c->attempts = UINT8_MAX; /* final: no retry */
			} else if (c->in_storm) {
				w->r.st_err_other++;
			}
			conn_fail(c, c->resuming ? "resume refused" : "join refused");
			return;
		}
		w->r.errors++;
		if (memmem(p, n, "rate_limited", 12))
			w->r.rate_limited++;
	} else {
		w->r.other++;
	}
}

static void on_frame(struct conn *c, const uint8_t *f, size_t n, uint64_t now)
{
	uint8_t op = f[0] & 0x0f;
	size_t h = 2, len = f[1] & 0x7f;
	if (len == 126)
		h = 4;
	else if (len == 127)
		h = 10;
	const uint8_t *p = f + h;
	len = n - h;
	switch (op) {
	case 0x0:
	case 0x1:
	case 0x2:
		on_message(c, p, len, now);
		break;
	case 0x8:
		if (c->slow && c->w->slow_window) {
			unsigned code = len >= 2 ? (unsigned)p[0] << 8 | p[1] : 0;
			if (code == 4001)
				c->w->r.slow_4001++;
			else
				c->w->r.slow_close_other++;
			c->t_final = 1; /* the close frame was counted */
		}
		conn_fail(c, "closed by the server");
		break;
	case 0x9:
		conn_send_frame(c, 0xa, p, len);
		break;
	default:
		break;
	}
}

/* Total length of the frame at p, 0 if its header is not complete yet,
 * (size_t)-1 if it is not acceptable from a server. */
static size_t frame_len(const uint8_t *p, size_t n)
{
	if (n < 2)
		return 0;
	if (p[1] & 0x80)
		return (size_t)-1; /* server frames are never masked */
	size_t len = p[1] & 0x7f;
	if (len < 126)
		return 2 + len;
	if (len == 126)
		return n < 4 ? 0 : 4 + ((size_t)p[2] << 8 | p[3]);
	if (n < 10)
		return 0;
	uint64_t l = 0;
	for (int i = 2; i < 10; i++)
		l = l << 8 | p[i];
	return l > MAX_FRAME ? (size_t)-1 : (size_t)(10 + l);
}

static int carry_add(struct conn *c, const uint8_t *p, size_t n)
{
	if (c->carry_n + n > c->carry_cap) {
		uint32_t cap = c->carry_cap ? c->carry_cap : 256;
		while (cap < c->carry_n + n)
			cap *= 2;
		uint8_t *b = realloc(c->carry, cap);
		if (!b)
			return -1;
		c->carry = b;
		c->carry_cap = cap;
	}
	memcpy(c->carry + c->carry_n, p, n);
	c->carry_n += (uint32_t)n;
	return 0;
}

/* Frames are handled in place; only one cut by the end of a read is
 * copied, into carry, until it is whole. */
static void feed_frames(struct conn *c, const uint8_t *p, size_t n, uint64_t now)
{
	while (n && c->state != C_DEAD) {
		if (c->carry_n) {
			size_t tot = frame_len(c->carry, c->carry_n);
			size_t want;
			if (tot == (size_t)-1) {
				conn_fail(c, "bad frame");
				return;
			}
			if (tot)
				want = tot - c->carry_n;
			else
				want = (c->carry_n < 2 ? 2 : (c->carry[1] & 0x7f) == 126 ? 4 : 10) -
				       c->carry_n;
			size_t take = want < n ? want : n;
			if (carry_add(c, p, take)) {
				conn_fail(c, "out of memory");
				return;
			}
			p += take;
			n -= take;
			tot = frame_len(c->carry, c->carry_n);
			if (tot && tot != (size_t)-1 && c->carry_n == tot) {
				c->carry_n = 0;
				on_frame(c, c->carry, tot, now);
			}
			continue;
		}
		size_t tot = frame_len(p, n);
		if (tot == (size_t)-1) {
			conn_fail(c, "bad frame");
			return;
		}
		if (tot && tot <= n) {
			on_frame(c, p, tot, now);
			p += tot;
			n -= tot;
			continue;
		}
		if (carry_add(c, p, n))
			conn_fail(c, "out of memory");
		return;
	}
	if (c->carry_cap > 65536 && !c->carry_n) { /* a join snapshot was big */
		free(c->carry);
		c->carry = NULL;
		c->carry_cap = 0;
	}
}

static void on_handshake(struct conn *c, const uint8_t *p, size_t n, uint64_t now)
{
	if (carry_add(c, p, n)) {
		conn_fail(c, "out of memory");
		return;
	}
	uint8_t *e = memmem(c->carry, c->carry_n, "\r\n\r\n", 4);
	if (!e) {
		if (c->carry_n > 8192)
			conn_fail(c, "handshake answer too long");
		return;
	}
	*e = 0;
	char *h = (char *)c->carry;
	char *acc = strcasestr(h, "\nsec-websocket-accept:");
	if (strncmp(h, "HTTP/1.1 101", 12) || !acc) {
		conn_fail(c, "upgrade refused");
		return;
	}
	acc += 22;
	while (*acc == ' ')
		acc++;
	if (strncmp(acc, c->accept, 28)) {
		conn_fail(c, "wrong Sec-WebSocket-Accept");
		return;
	}
	if (c->w->o->mode == MODE_POTLUCK && !strcasestr(h, "\nsec-websocket-protocol: potluck.v1")) {
		conn_fail(c, "subprotocol not accepted");
		return;
	}
	size_t used = (size_t)(e + 4 - c->carry), rest = c->carry_n - used;
	uint8_t *tail = NULL;
	if (rest) { /* rare: frames came with the 101 */
		tail = malloc(rest);
		if (!tail) {
			conn_fail(c, "out of memory");
			return;
		}
		memcpy(tail, e + 4, rest);
	}
	c->carry_n = 0;
	if (c->resuming) { /* s6: on the second instance */
		c->state = C_JOINING;
		c->t_up = now;
		send_resume(c);
	} else if (c->w->o->mode == MODE_FLOOR || c->w->o->no_join || c->w->o->join_storm) {
		c->state = C_READY;
		c->w->joined++;
		c->w->inflight--;
		pump_connects(c->w);
	} else {
		c->state = C_JOINING;
		if (c->w->o->mode == MODE_POTLUCK)
			send_join(c); /* socketio: the server's open packet comes first */
	}
	if (tail)
		feed_frames(c, tail, rest, now);
	free(tail);
}

static void alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	(void)h;
	(void)hint;
	*buf = uv_buf_init((char *)rdbuf, RDBUF);
}

static void read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct conn *c = (struct conn *)s;
	if (nread < 0) {
		conn_fail(c, nread == UV_EOF ? "closed by the server" : uv_strerror((int)nread));
		return;
	}
	if (!nread)
		return;
	uint64_t now = now_ns(); /* one clock read per read: all arrived together */
	if (c->w->storm)
		c->w->st_last_rx = now;
	if (c->state == C_HANDSHAKE)
		on_handshake(c, (const uint8_t *)buf->base, (size_t)nread, now);
	else
		feed_frames(c, (const uint8_t *)buf->base, (size_t)nread, now);
}

static void connect_cb(uv_connect_t *req, int status)
{
	struct conn *c = req->data;
	if (c->state == C_DEAD)
		return;
	if (status < 0) {
		conn_fail(c, uv_strerror(status));
		return;
	}
	c->state = C_HANDSHAKE;
	uint8_t raw[16];
	for (int i = 0; i < 16; i += 4) {
		uint32_t r = rnd32(c->w);
		memcpy(raw + i, &r, 4);
	}
	char key[32], buf[512];
	EVP_EncodeBlock((unsigned char *)key, raw, 16);
	static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
	char cat[96];
	snprintf(cat, sizeof(cat), "%s%s", key, guid);
	unsigned char sha[SHA_DIGEST_LENGTH];
	SHA1((const unsigned char *)cat, strlen(cat), sha);
	EVP_EncodeBlock((unsigned char *)c->accept, sha, SHA_DIGEST_LENGTH);
	const struct opts *o = c->w->o;
	char path[80];
	if (o->mode == MODE_FLOOR)
		snprintf(path, sizeof(path), "/floor?room=%u", c->room);
	else if (o->mode == MODE_SOCKETIO)
		snprintf(path, sizeof(path), "/socket.io/?EIO=4&transport=websocket&room=%u", c->room);
	else
		snprintf(path, sizeof(path), "/ws");
	int n = snprintf(buf, sizeof(buf),
			 "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n"
			 "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
			 "Sec-WebSocket-Version: 13\r\n%s\r\n",
			 path, o->host, o->port, key,
			 o->mode == MODE_POTLUCK ? "Sec-WebSocket-Protocol: potluck.v1\r\n" : "");
	int rc = uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, read_cb);
	if (rc) {
		conn_fail(c, uv_strerror(rc));
		return;
	}
	conn_send(c, (const uint8_t *)buf, (size_t)n);
}

/* A TCP connection to port, then the upgrade (connect_cb). */
static void conn_connect(struct conn *c, int port)
{
	struct worker *w = c->w;
	const struct opts *o = w->o;
	c->state = C_CONNECTING;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		c->closing = true; /* nothing to close */
		conn_fail(c, strerror(errno));
		return;
	}
	if (o->sources > 0) {
		int one = 1;
		setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
		struct sockaddr_in src = {.sin_family = AF_INET};
		src.sin_addr.s_addr = htonl(0x7f000002u + c->g % (uint32_t)o->sources);
		if (bind(fd, (struct sockaddr *)&src, sizeof(src))) {
			close(fd);
			c->closing = true;
			conn_fail(c, strerror(errno));
			return;
		}
	}
	if (c->slow) { /* a small window, as on a poor link: a reader that
			* stops is soon behind on the server's side, not in its kernel */
		int rcv = SLOW_RCVBUF;
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	}
	uv_tcp_init(&w->loop, &c->tcp);
	if (uv_tcp_open(&c->tcp, fd)) {
		close(fd);
		conn_fail(c, "uv_tcp_open");
		return;
	}
	uv_tcp_nodelay(&c->tcp, 1);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	inet_pton(AF_INET, o->host, &sa.sin_addr);
	c->creq.data = c;
	int rc = uv_tcp_connect(&c->creq, &c->tcp, (struct sockaddr *)&sa, connect_cb);
	if (rc)
		conn_fail(c, uv_strerror(rc));
}

static void conn_open(struct conn *c)
{
	const struct opts *o = c->w->o;
	c->w->inflight++;
	/* s3: odd members on the second instance; s6 joins on the first only */
	conn_connect(c, o->port2 && !o->resume_storm && (c->g & 1) ? o->port2 : o->port);
}

static void report_ready(struct worker *w)
{
	if (w->reporting)
		return;
	w->reporting = true;
	uv_timer_stop(&w->join_timer);
	struct ready rd = {w->joined, w->failed};
	if (write_full(w->up, &rd, sizeof(rd)))
		exit(1);
}

static void pump_connects(struct worker *w)
{
	while (w->next_open < w->target && w->inflight < (uint32_t)w->o->parallel)
		conn_open(&w->conns[w->next_open++]);
	if (!w->inflight && w->next_open >= w->target)
		report_ready(w);
}

static void join_deadline(uv_timer_t *t)
{
	struct worker *w = t->data;
	fprintf(stderr, "loadgen: worker: join deadline: %u of %u joined\n", w->joined, w->target);
	report_ready(w);
}

/* ---- worker: windows ---- */

static void send_result(struct worker *w)
{
	if (write_full(w->up, &w->r, sizeof(w->r)))
		exit(1);
}

static void drain_check(uv_timer_t *t)
{
	struct worker *w = t->data;
	uint64_t now = now_ns();
	bool all = w->whole_rooms && !w->slow_window && w->r.received >= w->r.expected;
	if (all || ns_since(now, w->last_rx) > 1000000000u || now > w->drain_deadline) {
		uv_timer_stop(t);
		send_result(w);
	}
}

static void tick(uv_timer_t *t)
{
	struct worker *w = t->data;
	uint64_t now = now_ns();
	if (now >= w->t_end)
		now = w->t_end;
	uint64_t due = (uint64_t)((double)ns_since(now, w->ts) * w->msgs_per_ns);
	while (w->due_sent < due && w->nmy) {
		room_send(w, w->my_rooms[w->room_cursor]);
		w->room_cursor = (w->room_cursor + 1) % w->nmy;
		w->due_sent++;
	}
}

/* s4: answers spread evenly over --spread s from the prompt's opening; then
 * waits until every client has the final tally (or --drain s passed). */
static void poll_tick(uv_timer_t *t)
{
	struct worker *w = t->data;
	uint64_t now = now_ns();
	uint32_t a = w->total_conns - 1; /* everyone but the facilitator answers */
	if (w->poll_state == 2) {
		uint64_t due = (uint64_t)((double)ns_since(now, w->t_open) / 1e9 / w->o->spread * a) + 1;
		if (due > a)
			due = a;
		while (w->answered_sent < due) {
			send_answer(&w->conns[1 + w->answered_sent], w->prompt_id);
			w->answered_sent++;
		}
		if (w->answered_sent == a) {
			w->t_last = now_ns();
			w->poll_state = 3;
		}
		return;
	}
	if (w->poll_state != 3)
		return;
	if (w->final_count < w->joined && now < w->t_last + (uint64_t)(w->o->drain * 1e9))
		return;
	uv_timer_stop(t);
	w->r.answers = w->answered_sent;
	w->r.open_us = (w->t_open - w->t_prompt) / 1000u;
	w->r.res_min = UINT64_MAX;
	for (uint32_t i = 0; i < w->nconns; i++) {
		struct conn *c = &w->conns[i];
		if (c->state != C_READY)
			continue;
		if (c->res_frames < w->r.res_min)
			w->r.res_min = c->res_frames;
		if (c->res_frames > w->r.res_max)
			w->r.res_max = c->res_frames;
		if (c->t_final) {
			w->r.got_final++;
			uint64_t us = (c->t_final - w->t_last) / 1000u;
			w->r.hist[hidx(us)]++;
			if (us > w->r.lat_max_us)
				w->r.lat_max_us = us;
		}
	}
	w->r.gen_cpu_ns = w->r.gen_cpu_max_ns = cpu_ns() - w->cpu0;
	w->poll_state = 0;
	send_result(w);
}

static void window_start(uv_timer_t *t)
{
	struct worker *w = t->data;
	w->sending = true;
	if (w->slow_window) { /* s7: the slow readers stop reading */
		for (uint32_t i = 0; i < w->nconns; i++) {
			struct conn *c = &w->conns[i];
			if (c->slow && c->state == C_READY) {
				uv_read_stop((uv_stream_t *)&c->tcp);
				c->slow_active = true;
				w->r.slow++;
			}
		}
	}
	if (w->o->poll) {
		w->cpu0 = cpu_ns();
		w->t_prompt = now_ns();
		w->poll_state = 1;
		send_prompt(&w->conns[0]);
		uv_timer_start(&w->tick_timer, poll_tick, 1, 1);
	} else if (w->maxmode) {
		for (uint32_t i = 0; i < w->nmy; i++)
			for (uint32_t k = 0; k < w->o->window; k++)
				room_send(w, w->my_rooms[i]);
	} else {
		uv_timer_start(&w->tick_timer, tick, 1, 1);
	}
}

static void window_mark(uv_timer_t *t)
{
	struct worker *w = t->data;
	w->cpu0 = cpu_ns();
}

static void window_end(uv_timer_t *t)
{
	struct worker *w = t->data;
	if (w->o->poll)
		return; /* poll_tick reports */
	for (uint32_t i = 0; i < w->nconns; i++) { /* s7: read again, count closes */
		struct conn *c = &w->conns[i];
		if (c->slow_active && c->state == C_READY)
			uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, read_cb);
		c->slow_active = false;
	}
	if (!w->maxmode)
		tick(&w->tick_timer); /* what is due up to t_end */
	w->sending = false;
	uv_timer_stop(&w->tick_timer);
	w->r.gen_cpu_ns = w->r.gen_cpu_max_ns = cpu_ns() - w->cpu0;
	w->last_rx = now_ns();
	uv_timer_start(&w->drain_timer, drain_check, 20, 20);
}

static uint64_t ms_until(uint64_t t)
{
	uint64_t now = now_ns();
	return t > now ? (t - now + 999999u) / 1000000u : 0;
}

/* ---- worker: storms (s5, s6) ---- */

/* s5: a join that failed. s6: a connection that dropped (the kill) or an
 * attempt to resume that failed: the client tries again on --port2, at
 * most --attempts times (the first after a random delay within --spread,
 * then 100 ms, 200 ms, … later), as a browser would. */
static void storm_lost(struct conn *c, const char *why)
{
	struct worker *w = c->w;
	const struct opts *o = w->o;
	bool no_handle = c->closing; /* conn_connect failed before it had one */
	c->state = C_DEAD;
	if (!c->closing) {
		c->closing = true;
		uv_close((uv_handle_t *)&c->tcp, conn_closed_cb);
	}
	if (w->storm == STORM_RESUME && !w->st_reported) {
		uint64_t now = now_ns();
		if (!c->t_req) { /* the drop: stop chatting, count from here */
			c->t_req = now;
			w->killed = true;
		}
		if (c->attempts < o->attempts) {
			c->attempts++;
			double d = c->attempts == 1 ? o->spread * (rnd32(w) / 4294967296.0)
						    : 0.1 * (c->attempts - 1);
			c->t_due = now + (uint64_t)(d * 1e9);
			c->resuming = true;
			c->wait_reconnect = true;
			w->st_waiting++;
			if (no_handle)
				c->closing = false;
			return;
		}
	}
	c->st_failed = true;
	w->st_pending--;
	if (w->r.st_failed++ < 5)
		fprintf(stderr, "loadgen: connection %u: %s (%s)\n", c->g, why,
			w->storm == STORM_JOIN ? "join storm" : "resume storm");
}

static void storm_reconnect(struct conn *c)
{
	c->wait_reconnect = false;
	c->w->st_waiting--;
	c->carry_n = 0;
	conn_connect(c, c->w->o->port2);
}

/* s5: the joins of conns[st_next .. upto) */
static void storm_join_send(struct worker *w, uint32_t upto)
{
	for (; w->st_next < upto; w->st_next++) {
		struct conn *c = &w->conns[w->st_next];
		if (!c->in_storm || c->state != C_READY)
			continue; /* a conn lost since the upgrade is counted already */
		c->state = C_JOINING;
		c->t_req = now_ns();
		send_join(c);
	}
}

static void storm_finish(struct worker *w)
{
	struct result *r = &w->r;
	uv_timer_stop(&w->storm_timer);
	w->st_reported = true;
	r->st_count_min = UINT64_MAX;
	for (uint32_t i = 0; i < w->nconns; i++) {
		struct conn *c = &w->conns[i];
		if (!c->in_storm)
			continue;
		r->st_clients++;
		r->st_attempts += c->attempts == UINT8_MAX ? 1 : c->attempts;
		if (w->storm == STORM_JOIN && c->t_req && (!r->st_first || c->t_req < r->st_first))
			r->st_first = c->t_req;
		if (w->storm == STORM_RESUME && c->t_req > w->t_kill && w->t_kill &&
		    c->t_req - w->t_kill > r->st_drop_max)
			r->st_drop_max = c->t_req - w->t_kill;
		if (w->storm == STORM_RESUME && c->t_up > w->t_kill && w->t_kill) {
			uint64_t up = (c->t_up - w->t_kill) / 1000u;
			r->hist_up[hidx(up)]++;
			if (up > r->st_up_max_us)
				r->st_up_max_us = up;
		}
		if (!c->t_done) {
			r->st_timeout += !c->st_failed;
			continue;
		}
		uint64_t from = w->storm == STORM_JOIN ? c->t_req : w->t_kill;
		uint64_t us = c->t_done > from ? (c->t_done - from) / 1000u : 0;
		r->hist[hidx(us)]++;
		if (us > r->lat_max_us)
			r->lat_max_us = us;
		if (c->t_done > r->st_last)
			r->st_last = c->t_done;
		if (c->known < r->st_count_min)
			r->st_count_min = c->known;
		if (c->known > r->st_count_max)
			r->st_count_max = c->known;
	}
	if (w->storm == STORM_RESUME)
		r->st_first = w->t_kill;
	if (r->st_count_min == UINT64_MAX)
		r->st_count_min = 0;
	r->gen_cpu_ns = r->gen_cpu_max_ns = cpu_ns() - w->cpu0;
	send_result(w);
}

/* Every ms: s5's joins when spread, s6's chat until the kill and its
 * reconnects when due; done when every client has its answer (or gave
 * up) and nothing arrived for 300 ms, or at the deadline. */
static void storm_tick(uv_timer_t *t)
{
	struct worker *w = t->data;
	const struct opts *o = w->o;
	uint64_t now = now_ns();
	if (w->storm == STORM_JOIN && w->st_next < w->nconns) {
		double due = (double)ns_since(now, w->ts) / (o->spread * 1e9) * w->nconns + 1;
		storm_join_send(w, due >= w->nconns ? w->nconns : (uint32_t)due);
	}
	if (w->storm == STORM_RESUME && !w->killed && w->nmy) {
		uint64_t due = (uint64_t)((double)ns_since(now, w->ts) * w->msgs_per_ns);
		for (; w->due_sent < due; w->due_sent++) {
			room_send(w, w->my_rooms[w->room_cursor]);
			w->room_cursor = (w->room_cursor + 1) % w->nmy;
		}
	}
	for (uint32_t i = 0; w->st_waiting && i < w->nconns; i++) {
		struct conn *c = &w->conns[i];
		if (c->wait_reconnect && !c->closing && now >= c->t_due)
			storm_reconnect(c);
	}
	bool settled = !w->st_pending && ns_since(now, w->st_last_rx) > 300000000u &&
		       (w->storm == STORM_JOIN || w->t_kill);
	if (settled || now > w->st_deadline)
		storm_finish(w);
}

static void storm_start(uv_timer_t *t)
{
	struct worker *w = t->data;
	w->st_last_rx = now_ns();
	if (w->storm == STORM_JOIN && w->o->spread <= 0)
		storm_join_send(w, w->nconns); /* all at once */
	uv_timer_start(&w->storm_timer, storm_tick, 1, 1);
}

static void on_cmd(struct worker *w, const struct cmd *cm)
{
	const struct opts *o = w->o;
	switch (cm->type) {
	case CMD_CONNECT:
		w->target = 0;
		while (w->target < w->nconns && w->conns[w->target].g < cm->n)
			w->target++;
		w->reporting = false;
		uv_timer_start(&w->join_timer, join_deadline,
			       (uint64_t)(o->join_timeout * 1000.0), 0);
		pump_connects(w);
		break;
	case CMD_GO: {
		memset(&w->r, 0, sizeof(w->r));
		w->ts = cm->ts;
		w->t0 = cm->t0;
		w->t_end = cm->t_end;
		w->drain_deadline = cm->t_end + (uint64_t)(o->drain * 1e9);
		w->maxmode = cm->rate == 0;
		w->due_sent = 0;
		w->slow_window = cm->slow != 0;
		w->answered_sent = w->final_count = 0;
		for (uint32_t i = 0; i < w->nconns; i++) {
			w->conns[i].t_final = 0;
			w->conns[i].res_frames = 0;
		}
		/* this worker's share of the messages, by its share of members */
		w->msgs_per_ns = (double)cm->rate / o->members * ((double)w->joined / w->total_conns) / 1e9;
		uv_timer_start(&w->start_timer, window_start, ms_until(cm->ts), 0);
		uv_timer_start(&w->mark_timer, window_mark, ms_until(cm->t0), 0);
		uv_timer_start(&w->end_timer, window_end, ms_until(cm->t_end), 0);
		break;
	}
	case CMD_STORM:
		memset(&w->r, 0, sizeof(w->r));
		w->storm = o->join_storm ? STORM_JOIN : STORM_RESUME;
		w->st_reported = w->killed = false;
		w->t_kill = 0;
		w->ts = cm->ts;
		w->t0 = w->t_end = 0; /* no window: chat latencies are not recorded */
		w->st_deadline = (o->resume_storm ? cm->t0 : cm->ts) +
				 (uint64_t)(o->join_timeout * 1e9);
		w->msgs_per_ns = (double)cm->rate / o->members *
				 ((double)w->joined / w->total_conns) / 1e9;
		w->due_sent = 0;
		w->st_next = w->st_pending = 0;
		for (uint32_t i = 0; i < w->nconns; i++) {
			struct conn *c = &w->conns[i];
			c->in_storm = c->state == C_READY;
			w->st_pending += c->in_storm;
		}
		w->cpu0 = cpu_ns();
		uv_timer_start(&w->start_timer, storm_start, ms_until(cm->ts), 0);
		break;
	case CMD_KILLED:
		w->t_kill = cm->ts;
		w->killed = true;
		break;
	default:
		exit(0);
	}
}

static void down_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct worker *w = h->data;
	(void)hint;
	*buf = uv_buf_init((char *)w->cbuf + w->cbuf_n, (unsigned)(sizeof(w->cbuf) - w->cbuf_n));
}

static void down_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct worker *w = s->data;
	(void)buf;
	if (nread < 0)
		exit(0); /* the parent is gone */
	w->cbuf_n += (size_t)nread;
	if (w->cbuf_n == sizeof(w->cbuf)) {
		struct cmd cm;
		memcpy(&cm, w->cbuf, sizeof(cm));
		w->cbuf_n = 0;
		on_cmd(w, &cm);
	}
}

static int owner(const struct opts *o, uint32_t g)
{
	if (o->rooms >= (uint32_t)o->procs)
		return (int)((g / o->members) % (uint32_t)o->procs);
	return (int)(g % (uint32_t)o->procs);
}

static void worker_run(const struct opts *o, char (*room_ids)[32], int p, int up, int down,
		       uint32_t total)
{
	struct worker *w = calloc(1, sizeof(*w));
	if (!w)
		exit(1);
	w->o = o;
	w->room_ids = room_ids;
	w->up = up;
	w->total_conns = total;
	w->whole_rooms = o->rooms >= (uint32_t)o->procs;
	w->rng = 0x9e3779b97f4a7c15ull ^ ((uint64_t)getpid() << 20) ^ now_ns();
	uv_loop_init(&w->loop);
	for (uint32_t g = 0; g < total; g++)
		w->nconns += owner(o, g) == p;
	w->conns = calloc(w->nconns ? w->nconns : 1, sizeof(*w->conns));
	w->rooms = calloc(o->rooms, sizeof(*w->rooms));
	w->my_rooms = calloc(o->rooms, sizeof(*w->my_rooms));
	if (!w->conns || !w->rooms || !w->my_rooms)
		exit(1);
	uint32_t k = 0;
	for (uint32_t g = 0; g < total; g++) {
		if (owner(o, g) != p)
			continue;
		struct conn *c = &w->conns[k];
		c->w = w;
		c->g = g;
		c->room = g / o->members;
		c->next_id = 1;
		c->slow = is_slow(o, g);
		struct wroom *wr = &w->rooms[c->room];
		if (!wr->n) {
			wr->first = k;
			w->my_rooms[w->nmy++] = c->room;
		}
		wr->n++;
		k++;
	}
	for (uint32_t g = 0; g < total; g++)
		w->rooms[g / o->members].nslow += is_slow(o, g);
	/* the chat text: marker, then padding */
	w->textlen = o->mode == MODE_FLOOR ? o->payload : o->size;
	memset(w->text, 'x', w->textlen);
	memcpy(w->text, "LAT:0000000000000000:00000000 ", MARKER_LEN + 1);
	uv_timer_t *timers[] = {&w->join_timer, &w->start_timer, &w->mark_timer, &w->end_timer,
				&w->tick_timer, &w->drain_timer, &w->storm_timer};
	for (size_t i = 0; i < sizeof(timers) / sizeof(timers[0]); i++) {
		uv_timer_init(&w->loop, timers[i]);
		timers[i]->data = w;
	}
	uv_pipe_init(&w->loop, &w->down, 0);
	w->down.data = w;
	if (uv_pipe_open(&w->down, down) ||
	    uv_read_start((uv_stream_t *)&w->down, down_alloc, down_read))
		exit(1);
	uv_run(&w->loop, UV_RUN_DEFAULT);
	exit(0);
}

/* ---- parent ---- */

struct child {
	pid_t pid;
	int up, down;
};

static struct child kids[MAX_PROCS];
static int nkids;

static void kill_kids(void)
{
	for (int i = 0; i < nkids; i++)
		if (kids[i].pid > 0)
			kill(kids[i].pid, SIGTERM);
}

static void die(const char *msg)
{
	fprintf(stderr, "loadgen: %s\n", msg);
	kill_kids();
	exit(1);
}

static void broadcast(const struct cmd *cm)
{
	for (int i = 0; i < nkids; i++)
		if (write_full(kids[i].down, cm, sizeof(*cm)))
			die("a worker went away");
}

static uint32_t connect_all(const struct opts *o, uint32_t n)
{
	struct cmd cm = {.type = CMD_CONNECT, .n = n};
	uint64_t t = now_ns();
	broadcast(&cm);
	uint32_t joined = 0, failed = 0;
	uint64_t deadline = t + (uint64_t)((o->join_timeout + 10) * 1e9);
	for (int i = 0; i < nkids; i++) {
		struct ready rd;
		if (read_full(kids[i].up, &rd, sizeof(rd), deadline))
			die("a worker did not report");
		joined += rd.joined;
		failed += rd.failed;
	}
	fprintf(stderr, "loadgen: %u of %u connected%s in %.2f s (%u failed)\n", joined, n,
		o->mode != MODE_FLOOR && !o->no_join && !o->join_storm ? " and joined" : "",
		(double)(now_ns() - t) / 1e9, failed);
	return joined;
}

static const char *mode_name(const struct opts *o)
{
	return o->mode == MODE_FLOOR ? "floor" : o->mode == MODE_SOCKETIO ? "socketio" : "potluck";
}

/* Waits (at most --quiet-wait s) until other work on the machine uses less
 * than a third of a core: it is shared, and a busy neighbour changes the
 * figures (late wake-ups batch more frames per send and flatter every
 * server). */
static void wait_quiet(const struct opts *o)
{
	if (o->quiet_wait <= 0)
		return;
	for (double waited = 0; waited < o->quiet_wait; waited += 1) { /* 1 s a look */
		uint64_t b0 = machine_busy_ns();
		sleep_until(now_ns() + 1000000000u);
		if (machine_busy_ns() - b0 < 330000000u)
			return;
	}
	fprintf(stderr, "loadgen: the machine stayed busy; measuring anyway\n");
}

struct window {
	struct result sum;
	uint64_t cpu0, cpu1, rss0, rss1, busy0, busy1;
	uint64_t pcpu0[4], pcpu1[4], prss0[4], prss1[4]; /* per server pid */
	bool have_srv;
};

/* CPU summed over every --server-pid, RSS of the first. */
static int servers_stat(const struct opts *o, uint64_t *pcpu, uint64_t *prss, uint64_t *cpu,
			uint64_t *rss)
{
	*cpu = 0;
	for (int i = 0; i < o->nserver_pids; i++) {
		if (proc_stat(o->server_pids[i], &pcpu[i], &prss[i]))
			return -1;
		*cpu += pcpu[i];
	}
	*rss = prss[0];
	return 0;
}

static void measure_window(const struct opts *o, uint64_t rate, bool slow, struct window *wi)
{
	struct cmd cm = {.type = CMD_GO, .rate = rate, .slow = slow};
	cm.ts = now_ns() + 200000000u;
	cm.t0 = cm.ts + (uint64_t)(o->warmup * 1e9);
	cm.t_end = cm.t0 + (uint64_t)(o->duration * 1e9);
	memset(wi, 0, sizeof(*wi));
	broadcast(&cm);
	wi->have_srv = o->server_pid > 0;
	sleep_until(cm.t0);
	wi->busy0 = machine_busy_ns();
	if (wi->have_srv && servers_stat(o, wi->pcpu0, wi->prss0, &wi->cpu0, &wi->rss0))
		wi->have_srv = false;
	sleep_until(cm.t_end);
	wi->busy1 = machine_busy_ns();
	if (wi->have_srv && servers_stat(o, wi->pcpu1, wi->prss1, &wi->cpu1, &wi->rss1))
		wi->have_srv = false;
	struct result *sum = &wi->sum, r;
	uint64_t deadline = cm.t_end + (uint64_t)((o->drain + 10) * 1e9);
	for (int i = 0; i < nkids; i++) {
		if (read_full(kids[i].up, &r, sizeof(r), deadline))
			die("a worker did not report its window");
		uint64_t *a = (uint64_t *)sum, *b = (uint64_t *)&r;
		for (size_t k = 0; k < sizeof(r) / sizeof(uint64_t); k++)
			a[k] += b[k];
		sum->gen_cpu_max_ns -= r.gen_cpu_max_ns;
		if (r.gen_cpu_max_ns > sum->gen_cpu_max_ns)
			sum->gen_cpu_max_ns = r.gen_cpu_max_ns;
		sum->lat_max_us -= r.lat_max_us;
		if (r.lat_max_us > sum->lat_max_us)
			sum->lat_max_us = r.lat_max_us;
	}
}

/* Other work's share of a core during the window. */
static double window_others(const struct opts *o, const struct window *wi)
{
	double srv_cpu = wi->have_srv ? (double)(wi->cpu1 - wi->cpu0) / 1e9 : 0;
	double others = ((double)wi->busy1 - (double)wi->busy0) / 1e9 - srv_cpu -
			(double)wi->sum.gen_cpu_ns / 1e9;
	return others > 0 ? others / o->duration : 0;
}

static void run_poll(const struct opts *o, const struct window *wi);

static void run_window(const struct opts *o, uint64_t rate, bool slow)
{
	struct window wi;
	for (int attempt = 0;; attempt++) {
		wait_quiet(o);
		measure_window(o, rate, slow, &wi);
		if (o->poll || slow)
			break; /* not repeatable on the same connections */
		double oc = window_others(o, &wi);
		if (oc <= DISTURBED || attempt >= o->retries)
			break;
		fprintf(stderr, "loadgen: other work used %.0f%% of a core during the window: "
			"measuring it again\n", oc * 100);
	}
	if (o->poll) {
		run_poll(o, &wi);
		return;
	}
	struct result sum = wi.sum;
	uint64_t rss0 = wi.rss0, rss1 = wi.rss1;
	double d = o->duration;
	double dps = (double)sum.in_window / d;
	double srv_cpu = wi.have_srv ? (double)(wi.cpu1 - wi.cpu0) / 1e9 : 0;
	double dpcs = srv_cpu > 0 ? (double)sum.in_window / srv_cpu : 0;
	double gen_core = (double)sum.gen_cpu_max_ns / 1e9 / d;
	double other_core = window_others(o, &wi);
	long long lost = (long long)sum.expected - (long long)sum.received;
	double p50 = hpct(sum.hist, 0.5), p99 = hpct(sum.hist, 0.99),
	       p999 = hpct(sum.hist, 0.999);
	uint64_t evb = sum.ev_frames ? sum.ev_bytes / sum.ev_frames : o->payload;
	char rate_s[32];
	if (rate)
		snprintf(rate_s, sizeof(rate_s), "%" PRIu64 "/s", rate);
	else
		snprintf(rate_s, sizeof(rate_s), "max(window %u)", o->window);
	printf("%s %s %ux%u rate=%s over %.1fs: %.0f deliveries/s, %.0f per server CPU-s "
	       "(server CPU %.2fs = %.0f%%), latency p50 %.3f p99 %.3f p99.9 %.3f max %.3f ms; "
	       "sent %" PRIu64 ", expected %" PRIu64 ", received %" PRIu64 ", lost %lld; "
	       "generator CPU %.2fs (busiest worker %.0f%% of a core); server RSS %" PRIu64
	       " -> %" PRIu64 " KiB\n",
	       o->label, mode_name(o), o->rooms, o->members, rate_s, d, dps, dpcs, srv_cpu,
	       srv_cpu / d * 100, p50, p99, p999, (double)sum.lat_max_us / 1000.0, sum.sent,
	       sum.expected, sum.received, lost, (double)sum.gen_cpu_ns / 1e9, gen_core * 100,
	       rss0, rss1);
	if (sum.closed || sum.errors || sum.unparsed)
		printf("  note: %" PRIu64 " connections closed by the server, %" PRIu64
		       " error replies (%" PRIu64 " rate_limited), %" PRIu64 " unparsed\n",
		       sum.closed, sum.errors, sum.rate_limited, sum.unparsed);
	if (other_core > DISTURBED)
		printf("  note: other work on the machine used %.0f%% of a core during the window: "
		       "these figures are disturbed\n",
		       other_core * 100);
	char cpus[128] = "", *cp = cpus;
	for (int i = 0; wi.have_srv && i < o->nserver_pids; i++)
		cp += snprintf(cp, sizeof(cpus) - (size_t)(cp - cpus), "%s%.3f", i ? "/" : "",
			       (double)(wi.pcpu1[i] - wi.pcpu0[i]) / 1e9);
	if (o->nserver_pids > 1)
		printf("  CPU per process (--server-pid order): %s s\n", cpus);
	if (slow)
		printf("  slow readers: %" PRIu64 " stopped reading; afterwards %" PRIu64
		       " had been closed with 4001, %" PRIu64 " with another code, %" PRIu64
		       " without a close frame; %" PRIu64 " deliveries read late\n",
		       sum.slow, sum.slow_4001, sum.slow_close_other, sum.slow_eof, sum.slow_rx);
	if (gen_core > 0.9)
		printf("  note: a generator worker used %.0f%% of a core: it may be the "
		       "bottleneck\n",
		       gen_core * 100);
	printf("RESULT label=%s mode=%s rooms=%u members=%u rate=%" PRIu64 " dur=%.1f dps=%.0f "
	       "dpcs=%.0f srv_cpu=%.3f p50_ms=%.3f p99_ms=%.3f p999_ms=%.3f max_ms=%.3f sent=%" PRIu64
	       " expected=%" PRIu64 " received=%" PRIu64 " lost=%lld gen_cpu=%.3f gen_core=%.2f "
	       "rss0_kb=%" PRIu64 " rss1_kb=%" PRIu64 " evbytes=%" PRIu64 " closed=%" PRIu64
	       " errors=%" PRIu64 " other_core=%.2f srv_cpus=%s slow=%" PRIu64 " slow_4001=%" PRIu64
	       " slow_other=%" PRIu64 " slow_eof=%" PRIu64 "\n",
	       o->label, mode_name(o), o->rooms, o->members, rate, d, dps, dpcs, srv_cpu, p50,
	       p99, p999, (double)sum.lat_max_us / 1000.0, sum.sent, sum.expected, sum.received,
	       lost, (double)sum.gen_cpu_ns / 1e9, gen_core, rss0, rss1, evb, sum.closed,
	       sum.errors, other_core, cpus[0] ? cpus : "-", sum.slow, sum.slow_4001,
	       sum.slow_close_other, sum.slow_eof);
	fflush(stdout);
}

/* s4: the poll burst's report. */
static void run_poll(const struct opts *o, const struct window *wi)
{
	const struct result *r = &wi->sum;
	uint64_t clients = (uint64_t)o->rooms * o->members;
	double srv_cpu = wi->have_srv ? (double)(wi->cpu1 - wi->cpu0) / 1e9 : 0;
	double p50 = hpct(r->hist, 0.5), p99 = hpct(r->hist, 0.99);
	double mean = clients ? (double)r->res_frames / (double)clients : 0;
	printf("%s poll burst: 1 room of %u (1 facilitator + %" PRIu64 " answering over %.1f s); "
	       "prompt open (ok) after %.2f ms; final tally (answered = %" PRIu64 ") reached %" PRIu64
	       " of %" PRIu64 " clients, last answer sent -> final tally p50 %.1f p99 %.1f max %.1f ms; "
	       "results frames per client min %" PRIu64 " mean %.1f max %" PRIu64
	       "; server CPU %.2fs, RSS %" PRIu64 " -> %" PRIu64 " KiB\n",
	       o->label, o->members, r->answers, o->spread, (double)r->open_us / 1000.0, clients - 1,
	       r->got_final, clients, p50, p99, (double)r->lat_max_us / 1000.0, r->res_min, mean,
	       r->res_max, srv_cpu, wi->rss0, wi->rss1);
	if (r->closed || r->errors || r->unparsed)
		printf("  note: %" PRIu64 " connections closed by the server, %" PRIu64
		       " error replies, %" PRIu64 " unparsed\n", r->closed, r->errors, r->unparsed);
	printf("RESULT_POLL label=%s members=%u answers=%" PRIu64 " spread=%.1f open_ms=%.2f "
	       "got_final=%" PRIu64 " clients=%" PRIu64 " final_p50_ms=%.1f final_p99_ms=%.1f "
	       "final_max_ms=%.1f frames_min=%" PRIu64 " frames_mean=%.1f frames_max=%" PRIu64
	       " srv_cpu=%.3f errors=%" PRIu64 " closed=%" PRIu64 "\n",
	       o->label, o->members, r->answers, o->spread, (double)r->open_us / 1000.0, r->got_final,
	       clients, p50, p99, (double)r->lat_max_us / 1000.0, r->res_min, mean, r->res_max,
	       srv_cpu, r->errors, r->closed);
	fflush(stdout);
}

/* RSS summed over every --server-pid: with --port2, two instances (and
 * Redis, if its pid is given) share the connections. */
static int servers_rss(const struct opts *o, uint64_t *sum_kb, char *each, size_t cap)
{
	uint64_t cpu, kb;
	size_t at = 0;
	*sum_kb = 0;
	each[0] = 0;
	for (int i = 0; i < o->nserver_pids; i++) {
		if (proc_stat(o->server_pids[i], &cpu, &kb))
			return -1;
		*sum_kb += kb;
		at += (size_t)snprintf(each + at, at < cap ? cap - at : 0, "%s%" PRIu64, i ? "/" : "", kb);
	}
	return 0;
}

static void run_idle(const struct opts *o)
{
	uint64_t rss[MAX_STEPS] = {0};
	char each[MAX_STEPS][96];
	for (int i = 0; i < o->nidle; i++) {
		uint32_t n = (uint32_t)o->idle[i];
		if (connect_all(o, n) < n)
			die("not every client joined");
		sleep_until(now_ns() + (uint64_t)(o->settle * 1e9));
		if (o->server_pid <= 0 || servers_rss(o, &rss[i], each[i], sizeof(each[i])))
			die("--idle needs --server-pid");
		printf("%s %s idle: %u connections in rooms of %u, server RSS %" PRIu64 " KiB%s%s%s\n",
		       o->label, mode_name(o), n, o->members, rss[i], o->nserver_pids > 1 ? " (" : "",
		       o->nserver_pids > 1 ? each[i] : "", o->nserver_pids > 1 ? ")" : "");
		if (i > 0) {
			double per = ((double)rss[i] - (double)rss[0]) * 1024.0 /
				     (double)(n - o->idle[0]);
			printf("  RSS per connection from %" PRIu64 " to %u: %.0f bytes (%.2f KiB)\n",
			       o->idle[0], n, per, per / 1024);
			printf("RESULT_IDLE label=%s mode=%s members=%u n0=%" PRIu64 " n=%u rss0_kb=%" PRIu64
			       " rss_kb=%" PRIu64 " per_conn_b=%.0f rss0_each=%s rss_each=%s\n",
			       o->label, mode_name(o), o->members, o->idle[0], n, rss[0], rss[i], per,
			       each[0], each[i]);
		}
		fflush(stdout);
	}
}

/* s5, s6: a worker's storm report into the sum (minima and maxima kept). */
static void result_add(struct result *sum, const struct result *r)
{
	struct result prev = *sum;
	uint64_t *a = (uint64_t *)sum;
	const uint64_t *b = (const uint64_t *)r;
	for (size_t k = 0; k < sizeof(*r) / sizeof(uint64_t); k++)
		a[k] += b[k];
#define KEEP_MAX(f) sum->f = prev.f > r->f ? prev.f : r->f
	KEEP_MAX(gen_cpu_max_ns);
	KEEP_MAX(lat_max_us);
	KEEP_MAX(st_last);
	KEEP_MAX(st_drop_max);
	KEEP_MAX(st_count_max);
	KEEP_MAX(st_up_max_us);
#undef KEEP_MAX
	sum->st_first = prev.st_first && (!r->st_first || prev.st_first < r->st_first)
				? prev.st_first : r->st_first;
	sum->st_count_min = prev.st_done && (!r->st_done || prev.st_count_min < r->st_count_min)
				    ? prev.st_count_min : r->st_count_min;
}

/* s6: SIGKILL, only to a potluckd (its comm), never to anything else. */
static int kill_instance(int pid)
{
	char path[64], comm[64] = "";
	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	if (!fgets(comm, sizeof(comm), f))
		comm[0] = 0;
	fclose(f);
	comm[strcspn(comm, "\n")] = 0;
	if (strcmp(comm, "potluckd")) {
		fprintf(stderr, "loadgen: --kill-pid %d is \"%s\", not a potluckd\n", pid, comm);
		return -1;
	}
	return kill(pid, SIGKILL);
}

/* s6: after the storm, every room as the second instance sees it: present
 * members (a resumed member must not count twice) and how many are online. */
static void rooms_on(const struct opts *o, char (*room_ids)[32], uint64_t *members,
		     uint64_t *online, uint32_t *differ, uint32_t *unread)
{
	*members = *online = 0;
	*differ = *unread = 0;
	for (uint32_t i = 0; i < o->rooms; i++) {
		char path[64];
		snprintf(path, sizeof(path), "/api/rooms/%s", room_ids[i]);
		json_t *j = http_json(o, o->port2, "GET", path, NULL, "200");
		json_t *m = j ? json_object_get(j, "members") : NULL;
		if (!json_is_integer(m)) { /* B does not answer: do not wait 5 s per room */
			*unread = o->rooms - i;
			json_decref(j);
			return;
		}
		uint64_t n = (uint64_t)json_integer_value(m);
		*members += n;
		*online += (uint64_t)json_integer_value(json_object_get(j, "online"));
		*differ += n != o->members;
		json_decref(j);
	}
}

/* s5 (join storm) and s6 (resume storm): connect, then one storm, then its
 * report. The server's CPU is read just before the storm (s6: at the kill)
 * and once every worker has reported. */
static void run_storm(const struct opts *o, char (*room_ids)[32], uint32_t total)
{
	uint64_t t = now_ns();
	uint32_t ready = connect_all(o, total);
	double setup_s = (double)(now_ns() - t) / 1e9;
	if (!ready)
		die("no client connected");
	wait_quiet(o);
	struct window wi;
	memset(&wi, 0, sizeof(wi));
	wi.have_srv = o->server_pid > 0;
	struct cmd cm = {.type = CMD_STORM, .rate = o->resume_storm ? o->rates[0] : 0};
	cm.ts = now_ns() + 200000000u;
	cm.t0 = cm.ts + (uint64_t)(o->duration * 1e9); /* s6: the kill */
	if (wi.have_srv && servers_stat(o, wi.pcpu0, wi.prss0, &wi.cpu0, &wi.rss0))
		wi.have_srv = false;
	wi.busy0 = machine_busy_ns();
	broadcast(&cm);
	uint64_t t_start = cm.ts;
	if (o->resume_storm) {
		sleep_until(cm.t0);
		if (wi.have_srv && servers_stat(o, wi.pcpu0, wi.prss0, &wi.cpu0, &wi.rss0))
			wi.have_srv = false;
		wi.busy0 = machine_busy_ns();
		t_start = now_ns();
		if (kill_instance(o->kill_pid))
			die("cannot kill --kill-pid");
		struct cmd k = {.type = CMD_KILLED, .ts = t_start};
		broadcast(&k);
	}
	struct result sum, r;
	memset(&sum, 0, sizeof(sum));
	uint64_t deadline = t_start + (uint64_t)((o->join_timeout + 15) * 1e9);
	for (int i = 0; i < nkids; i++) {
		if (read_full(kids[i].up, &r, sizeof(r), deadline))
			die("a worker did not report its storm");
		result_add(&sum, &r);
	}
	uint64_t t_end = now_ns();
	wi.busy1 = machine_busy_ns();
	if (wi.have_srv && servers_stat(o, wi.pcpu1, wi.prss1, &wi.cpu1, &wi.rss1))
		wi.have_srv = false;
	double srv_cpu = wi.have_srv ? (double)(wi.cpu1 - wi.cpu0) / 1e9 : 0;
	double span = (double)(t_end - t_start) / 1e9;
	double others = ((double)(wi.busy1 - wi.busy0) / 1e9 - srv_cpu -
			 (double)sum.gen_cpu_ns / 1e9) / span;
	if (others < 0)
		others = 0;
	char cpus[128] = "-", *cp = cpus;
	for (int i = 0; wi.have_srv && i < o->nserver_pids; i++)
		cp += snprintf(cp, sizeof(cpus) - (size_t)(cp - cpus), "%s%.3f", i ? "/" : "",
			       (double)(wi.pcpu1[i] - wi.pcpu0[i]) / 1e9);
	double total_ms =
		sum.st_last > sum.st_first ? (double)(sum.st_last - sum.st_first) / 1e6 : 0;
	double max_ms = (double)sum.lat_max_us / 1000.0;
	double p50 = hpct(sum.hist, 0.5), p99 = hpct(sum.hist, 0.99);
	p50 = p50 > max_ms ? max_ms : p50; /* a bucket's middle can pass the max */
	p99 = p99 > max_ms ? max_ms : p99;
	char spread_s[48] = "all joins sent at once";
	if (o->spread > 0)
		snprintf(spread_s, sizeof(spread_s), "joins spread over %.1f s", o->spread);
	if (o->join_storm) {
		/* every join announced to everyone who joined before it */
		uint64_t events_exp = sum.st_done ? sum.st_done * (sum.st_done - 1) / 2 : 0;
		printf("%s join storm: %u clients into one room (upgraded first: %u of %u in %.2f s), "
		       "%s: %" PRIu64 " of %" PRIu64 " had their snapshot, the last %.0f ms after the "
		       "first join request; join -> snapshot per client p50 %.1f p99 %.1f max %.1f ms; "
		       "failed %" PRIu64 " (%" PRIu64 " error replies), no reply within %.0f s %" PRIu64
		       "; members known at the end per client %" PRIu64 "-%" PRIu64 " (expected %" PRIu64
		       "), joined events %" PRIu64 " (at most %" PRIu64 ", fewer when snapshots list later "
		       "joiners); server CPU %.2f s, RSS %" PRIu64
		       " -> %" PRIu64 " KiB; generator CPU %.2f s\n",
		       o->label, total, ready, total, setup_s,
		       spread_s,
		       sum.st_done, sum.st_clients, total_ms, p50, p99, max_ms, sum.st_failed,
		       sum.st_err_other + sum.st_err_token, o->join_timeout, sum.st_timeout,
		       sum.st_count_min, sum.st_count_max, sum.st_done, sum.st_events, events_exp,
		       srv_cpu, wi.rss0, wi.rss1, (double)sum.gen_cpu_ns / 1e9);
		if (sum.st_early || sum.unparsed || sum.closed)
			printf("  note: %" PRIu64 " events before a join's reply, %" PRIu64
			       " unparsed, %" PRIu64 " closed after joining\n",
			       sum.st_early, sum.unparsed, sum.closed);
		printf("RESULT_STORM label=%s kind=join clients=%u connected=%u spread=%.2f ok=%" PRIu64
		       " failed=%" PRIu64 " errors=%" PRIu64 " timeout=%" PRIu64 " total_ms=%.1f "
		       "p50_ms=%.2f p99_ms=%.2f max_ms=%.2f known_min=%" PRIu64 " known_max=%" PRIu64
		       " events=%" PRIu64 " events_max=%" PRIu64 " early=%" PRIu64
		       " srv_cpu=%.3f srv_cpus=%s rss0_kb=%" PRIu64 " rss1_kb=%" PRIu64
		       " gen_cpu=%.3f other_core=%.2f\n",
		       o->label, total, ready, o->spread, sum.st_done, sum.st_failed,
		       sum.st_err_other + sum.st_err_token, sum.st_timeout, total_ms, p50, p99, max_ms,
		       sum.st_count_min, sum.st_count_max, sum.st_events, events_exp, sum.st_early,
		       srv_cpu, cpus, wi.rss0, wi.rss1, (double)sum.gen_cpu_ns / 1e9, others);
	} else {
		uint64_t members = 0, online = 0;
		uint32_t differ = 0, unread = 0, differ2 = 0, unread2 = 0;
		uint64_t members2 = 0, online2 = 0;
		double up50 = hpct(sum.hist_up, 0.5);
		rooms_on(o, room_ids, &members, &online, &differ, &unread);
		if (o->recheck > 0) { /* after B has found A dead: nobody resumed is away */
			sleep_until(t_start + (uint64_t)(o->recheck * 1e9));
			rooms_on(o, room_ids, &members2, &online2, &differ2, &unread2);
		}
		printf("%s resume storm: %u clients in %u rooms of %u joined on instance A (%u of %u in "
		       "%.2f s), chat at %" PRIu64 " deliveries/s for %.1f s (%" PRIu64 " messages), "
		       "then SIGKILL: %" PRIu64 " of %" PRIu64 " resumed on B, the last %.0f ms after the "
		       "kill; kill -> resumed per client p50 %.1f p99 %.1f max %.1f ms (drops seen "
		       "within %.1f ms; kill -> upgraded on B p50 %.1f max %.1f ms); replay %" PRIu64 " (events announced %" PRIu64 ", received %" PRIu64
		       "), snapshot %" PRIu64 "; failed %" PRIu64 " (invalid_token %" PRIu64
		       ", other error replies %" PRIu64 "), no reply within %.0f s %" PRIu64
		       ", attempts %" PRIu64 "; rooms on B: members %" PRIu64 " (expected %" PRIu64
		       ", %u rooms differ, %u unread), online %" PRIu64 "; server CPU %.2f s (%s), "
		       "generator CPU %.2f s\n",
		       o->label, total, o->rooms, o->members, ready, total, setup_s, o->rates[0],
		       o->duration, sum.sent_all, sum.st_done, sum.st_clients, total_ms, p50, p99,
		       max_ms, (double)sum.st_drop_max / 1e6, up50, (double)sum.st_up_max_us / 1000.0,
		       sum.st_replay, sum.st_replay_n,
		       sum.st_replay_rx, sum.st_snapshot, sum.st_failed, sum.st_err_token,
		       sum.st_err_other, o->join_timeout, sum.st_timeout, sum.st_attempts, members,
		       (uint64_t)o->rooms * o->members, differ, unread, online, srv_cpu, cpus,
		       (double)sum.gen_cpu_ns / 1e9);
		if (o->recheck > 0)
			printf("  %.0f s after the kill: members %" PRIu64 " (%u rooms differ, %u unread), "
			       "online %" PRIu64 "\n", o->recheck, members2, differ2, unread2, online2);
		if (sum.st_wrong_member || sum.unparsed || sum.closed || sum.errors)
			printf("  note: %" PRIu64 " resumed as another member, %" PRIu64 " unparsed, %" PRIu64
			       " closed after resuming, %" PRIu64 " other error replies\n",
			       sum.st_wrong_member, sum.unparsed, sum.closed, sum.errors);
		printf("RESULT_STORM label=%s kind=resume clients=%u connected=%u rooms=%u members=%u "
		       "rate=%" PRIu64 " chats=%" PRIu64 " spread=%.2f ok=%" PRIu64 " failed=%" PRIu64
		       " invalid_token=%" PRIu64 " errors=%" PRIu64 " timeout=%" PRIu64 " attempts=%" PRIu64
		       " total_ms=%.1f p50_ms=%.2f p99_ms=%.2f max_ms=%.2f drop_ms=%.2f up_p50_ms=%.2f"
		       " up_max_ms=%.2f replay=%" PRIu64
		       " replay_events=%" PRIu64 " replay_rx=%" PRIu64 " snapshot=%" PRIu64
		       " wrong_member=%" PRIu64 " room_members=%" PRIu64 " room_online=%" PRIu64
		       " rooms_differ=%u recheck_s=%.0f room_members2=%" PRIu64 " room_online2=%" PRIu64
		       " rooms_differ2=%u srv_cpu=%.3f srv_cpus=%s gen_cpu=%.3f other_core=%.2f\n",
		       o->label, total, ready, o->rooms, o->members, o->rates[0], sum.sent_all, o->spread,
		       sum.st_done, sum.st_failed, sum.st_err_token, sum.st_err_other, sum.st_timeout,
		       sum.st_attempts, total_ms, p50, p99, max_ms, (double)sum.st_drop_max / 1e6,
		       up50, (double)sum.st_up_max_us / 1000.0, sum.st_replay, sum.st_replay_n,
		       sum.st_replay_rx, sum.st_snapshot, sum.st_wrong_member, members, online, differ,
		       o->recheck, members2, online2, differ2, srv_cpu, cpus,
		       (double)sum.gen_cpu_ns / 1e9, others);
	}
	fflush(stdout);
}

static int parse_list(const char *s, uint64_t *out, int max)
{
	int n = 0;
	while (*s && n < max) {
		char *end;
		out[n++] = strtoull(s, &end, 10);
		if (end == s)
			return -1;
		s = *end == ',' ? end + 1 : end;
	}
	return n;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: loadgen [options]\n"
		"  --host ADDR         loopback address of the server (127.0.0.1)\n"
		"  --port N            its port (8080)\n"
		"  --mode potluck|floor|socketio (socketio: tests/bench/peers/socketio-server.mjs)\n"
		"  --rooms R           rooms (100)\n"
		"  --members M         members per room (20)\n"
		"  --size BYTES        chat text size in potluck and socketio modes (100)\n"
		"  --payload BYTES     frame payload in floor mode (potluck's chat event size)\n"
		"  --rates LIST        deliveries/s per window, 0 = as fast as it goes (10000)\n"
		"  --duration S        measured window (10)\n"
		"  --warmup S          traffic before the window (1)\n"
		"  --window W          messages in flight per room at rate 0 (1)\n"
		"  --drain S           longest wait for late deliveries (5)\n"
		"  --idle LIST         idle scenario: connection counts, e.g. 1000,10000\n"
		"  --settle S          idle: wait before reading RSS (2)\n"
		"  --server-pid PID    read the server's CPU and RSS from /proc\n"
		"  --procs N           worker processes (1)\n"
		"  --sources N         source addresses 127.0.0.2 .. (4; 0 = let the kernel pick)\n"
		"  --parallel N        connections being set up at once (256)\n"
		"  --join-timeout S    deadline for connecting and joining (60)\n"
		"  --no-join           potluck, socketio: upgrade but do not join (with --idle: the bare\n"
		"                      connection's cost, without the member's)\n"
		"  --retries N         measure a window again when other work disturbed it (2)\n"
		"  --quiet-wait S      before a window, wait at most S s for the machine to be\n"
		"                      quiet (60; 0: do not wait)\n"
		"  --label TEXT        first word of the report lines\n"
		"  --server-pid LIST   several pids (e.g. two servers and Redis): CPU summed\n"
		"  --port2 N           s3: odd-numbered members connect to this port instead\n"
		"                      (a second instance sharing the rooms through Redis)\n"
		"  --slow PCT          s7: PCT %% of members stop reading (and sending) during the\n"
		"                      last window of --rates, then read again; closes counted;\n"
		"                      their sockets ask for a 64 KiB receive buffer (SO_RCVBUF;\n"
		"                      128 KiB as the kernel counts it)\n"
		"  --poll              s4: poll burst in one room of --members: member 0 joins as\n"
		"                      facilitator, opens a single-choice prompt, all others answer\n"
		"                      spread over --spread s (1); results frames per client and\n"
		"                      last answer -> final tally at every client\n"
		"  --join-storm N      s5: N clients upgrade first, then all join one room at once (or\n"
		"                      spread over --spread s); first join request -> last snapshot,\n"
		"                      join -> snapshot per client, server CPU, failures\n"
		"  --resume-storm      s6: --rooms x --members join on --port, chat at the first of\n"
		"                      --rates for --duration s, then loadgen SIGKILLs --kill-pid\n"
		"                      (a potluckd) and every client resumes on --port2 (a second\n"
		"                      instance on the same Redis), after a random delay within\n"
		"                      --spread s (0); kill -> resumed per client, replay/snapshot\n"
		"  --kill-pid PID      s6: the instance to kill (its comm must be potluckd)\n"
		"  --attempts N        s6: connection attempts per client to resume (5)\n"
		"  --recheck S         s6: look at the rooms on --port2 again S s after the kill\n"
		"                      (once the dead instance is noticed, ~7 s): still all online?\n");
}

int main(int argc, char **argv)
{
	struct opts o = {
		.host = "127.0.0.1", .port = 8080, .mode = MODE_POTLUCK, .rooms = 100,
		.members = 20, .size = 100, .payload = 0, .duration = 10, .warmup = 1,
		.drain = 5, .settle = 2, .join_timeout = 60, .window = 1, .procs = 1,
		.sources = 4, .parallel = 256, .retries = 2, .quiet_wait = 60, .label = "bench", .spread = -1,
		.attempts = 5,
	};
	o.rates[0] = 10000;
	o.nrates = 1;
	static const struct option lo[] = {
		{"host", 1, 0, 'h'},     {"port", 1, 0, 'p'},     {"mode", 1, 0, 'm'},
		{"rooms", 1, 0, 'r'},    {"members", 1, 0, 'M'},  {"size", 1, 0, 's'},
		{"payload", 1, 0, 'P'},  {"rates", 1, 0, 'R'},    {"duration", 1, 0, 'd'},
		{"warmup", 1, 0, 'W'},   {"window", 1, 0, 'w'},   {"drain", 1, 0, 'D'},
		{"idle", 1, 0, 'i'},     {"settle", 1, 0, 'S'},   {"server-pid", 1, 0, 'x'},
		{"procs", 1, 0, 'n'},    {"sources", 1, 0, 'a'},  {"parallel", 1, 0, 'c'},
		{"join-timeout", 1, 0, 'j'}, {"label", 1, 0, 'l'}, {"no-join", 0, 0, 'N'}, {"retries", 1, 0, 'T'}, {"help", 0, 0, 'H'},
		{"quiet-wait", 1, 0, 'q'},
		{"port2", 1, 0, '2'}, {"slow", 1, 0, 'z'}, {"poll", 0, 0, 'o'}, {"spread", 1, 0, 'e'},
		{"join-storm", 1, 0, 'J'}, {"resume-storm", 0, 0, 'U'}, {"kill-pid", 1, 0, 'K'},
		{"attempts", 1, 0, 'A'}, {"recheck", 1, 0, 'C'},
		{0, 0, 0, 0},
	};
	int ch;
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case 'h': o.host = optarg; break;
		case 'p': o.port = atoi(optarg); break;
		case 'm':
			if (!strcmp(optarg, "floor"))
				o.mode = MODE_FLOOR;
			else if (!strcmp(optarg, "socketio"))
				o.mode = MODE_SOCKETIO;
			else if (strcmp(optarg, "potluck"))
				die("--mode is potluck, floor or socketio");
			break;
		case 'r': o.rooms = (uint32_t)atoi(optarg); break;
		case 'M': o.members = (uint32_t)atoi(optarg); break;
		case 's': o.size = (uint32_t)atoi(optarg); break;
		case 'P': o.payload = (uint32_t)atoi(optarg); break;
		case 'R': o.nrates = parse_list(optarg, o.rates, MAX_STEPS); break;
		case 'd': o.duration = atof(optarg); break;
		case 'W': o.warmup = atof(optarg); break;
		case 'w': o.window = (uint32_t)atoi(optarg); break;
		case 'D': o.drain = atof(optarg); break;
		case 'i': o.nidle = parse_list(optarg, o.idle, MAX_STEPS); break;
		case 'S': o.settle = atof(optarg); break;
		case 'x': {
			uint64_t v[4];
			o.nserver_pids = parse_list(optarg, v, 4);
			for (int i = 0; i < o.nserver_pids; i++)
				o.server_pids[i] = (int)v[i];
			o.server_pid = o.nserver_pids > 0 ? o.server_pids[0] : 0;
			break;
		}
		case '2': o.port2 = atoi(optarg); break;
		case 'z': o.slow_pct = (uint32_t)atoi(optarg); break;
		case 'o': o.poll = true; break;
		case 'e': o.spread = atof(optarg); break;
		case 'J': o.join_storm = (uint32_t)atoi(optarg); break;
		case 'U': o.resume_storm = true; break;
		case 'K': o.kill_pid = atoi(optarg); break;
		case 'A': o.attempts = atoi(optarg); break;
		case 'C': o.recheck = atof(optarg); break;
		case 'n': o.procs = atoi(optarg); break;
		case 'a': o.sources = atoi(optarg); break;
		case 'c': o.parallel = atoi(optarg); break;
		case 'j': o.join_timeout = atof(optarg); break;
		case 'l': o.label = optarg; break;
		case 'N': o.no_join = true; break;
		case 'T': o.retries = atoi(optarg); break;
		case 'q': o.quiet_wait = atof(optarg); break;
		case 'H': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	struct in_addr ia;
	if (inet_pton(AF_INET, o.host, &ia) != 1 || (ntohl(ia.s_addr) >> 24) != 127)
		die("--host must be an IPv4 loopback address (127.x.x.x)");
	if (o.payload == 0)
		o.payload = o.size + 60; /* about potluck's chat event; pass evbytes= */
	if (o.nrates < 0 || o.nidle < 0 || o.members < 1 || o.procs < 1 || o.procs > MAX_PROCS ||
	    o.size < MARKER_LEN + 1 || o.size > 2000 || o.payload < MARKER_LEN + 1 ||
	    o.payload > 2000 || o.window < 1 || o.duration <= 0 || o.parallel < 1 ||
	    o.sources < 0 || o.sources > 250)
		die("bad arguments (see --help)");
	if (o.spread < 0)
		o.spread = o.poll ? 1 : 0; /* storms: all at once */
	if (o.join_storm) {
		if (o.mode != MODE_POTLUCK || o.nidle || o.poll || o.resume_storm || o.port2)
			die("--join-storm: potluck mode, without --idle, --poll, --resume-storm, --port2");
		o.rooms = 1;
		o.members = o.join_storm;
	}
	if (o.resume_storm && (o.mode != MODE_POTLUCK || o.nidle || o.poll || !o.port2 ||
			       o.kill_pid <= 0 || o.nrates < 1 || o.attempts < 1 || o.attempts > 100))
		die("--resume-storm needs potluck mode, --port2, --kill-pid and one rate (no --idle, --poll)");
	uint64_t total = 0;
	if (o.no_join && !o.nidle)
		die("--no-join goes with --idle");
	if (o.poll && (o.rooms != 1 || o.procs != 1 || o.members < 2 || o.mode != MODE_POTLUCK ||
		       o.spread <= 0))
		die("--poll needs --rooms 1 --procs 1, --members 2 or more, potluck mode");
	if (o.poll)
		o.nrates = 1;
	if (o.slow_pct > 100)
		die("--slow is a percentage");
	if (o.nidle) {
		for (int i = 1; i < o.nidle; i++)
			if (o.idle[i] <= o.idle[i - 1])
				die("--idle counts must increase");
		total = o.idle[o.nidle - 1];
		o.rooms = (uint32_t)((total + o.members - 1) / o.members);
	} else {
		total = (uint64_t)o.rooms * o.members;
	}
	if (!o.rooms || total > 1000000)
		die("bad sizes");

	struct rlimit rl;
	if (!getrlimit(RLIMIT_NOFILE, &rl)) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		if (total / (uint64_t)o.procs + 64 > rl.rlim_cur)
			fprintf(stderr, "loadgen: warning: %" PRIu64 " connections per worker, "
				"descriptor limit %llu: use more --procs\n",
				total / (uint64_t)o.procs, (unsigned long long)rl.rlim_cur);
	}
	signal(SIGPIPE, SIG_IGN);

	char(*room_ids)[32] = calloc(o.rooms, 32);
	fac_keys = calloc(o.rooms, 32);
	if (!room_ids || !fac_keys)
		die("out of memory");
	if (o.mode == MODE_POTLUCK) {
		uint64_t t = now_ns();
		for (uint32_t i = 0; i < o.rooms; i++)
			if (create_room(&o, i, room_ids[i], sizeof(room_ids[i]), fac_keys[i]))
				die("cannot create the rooms");
		fprintf(stderr, "loadgen: %u rooms created in %.2f s\n", o.rooms,
			(double)(now_ns() - t) / 1e9);
	}
	fflush(NULL);
	for (int p = 0; p < o.procs; p++) {
		int up[2], down[2];
		if (pipe2(up, O_CLOEXEC) || pipe2(down, O_CLOEXEC))
			die("pipe");
		pid_t pid = fork();
		if (pid < 0)
			die("fork");
		if (!pid) {
			close(up[0]);
			close(down[1]);
			for (int i = 0; i < nkids; i++) {
				close(kids[i].up);
				close(kids[i].down);
			}
			nkids = 0;
			worker_run(&o, room_ids, p, up[1], down[0], (uint32_t)total);
		}
		close(up[1]);
		close(down[0]);
		kids[nkids++] = (struct child){pid, up[0], down[1]};
	}

	int rc = 0;
	if (o.nidle) {
		run_idle(&o);
	} else if (o.join_storm || o.resume_storm) {
		run_storm(&o, room_ids, (uint32_t)total);
	} else {
		if (connect_all(&o, (uint32_t)total) < total)
			die("not every client joined");
		for (int i = 0; i < o.nrates; i++) /* s7: slow readers in the last window */
			run_window(&o, o.rates[i], o.slow_pct && i == o.nrates - 1);
	}
	struct cmd quit = {.type = CMD_QUIT};
	broadcast(&quit);
	for (int i = 0; i < nkids; i++) {
		int st;
		waitpid(kids[i].pid, &st, 0);
		if (!WIFEXITED(st) || WEXITSTATUS(st))
			rc = 1;
	}
	free(room_ids);
	free(fac_keys);
	return rc;
}
