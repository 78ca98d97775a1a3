/*
 * filelog.c — the embedded log: an in-process sequencer over append-only
 * files, one per room, under <dir>/rooms/<id>.log.
 *
 * Record layout (little-endian), see proto/PROTOCOL.md:
 *   u32 len | u32 crc32c(seq..end) | u64 seq | i64 ts | msgpack (len - 16 bytes)
 *
 * Appends made during one loop iteration are batched: log_flush (called by
 * the server once per iteration, before the net layer flushes) stores each
 * dirty room's batch and only then delivers the records, so nothing is
 * applied, fanned out or acknowledged before the batch is in the page cache:
 * killing the process loses nothing anyone has seen. Syncing runs at most
 * every fsync_ms in a child process, the syncer, which gets the rooms'
 * descriptors over a socket (SCM_RIGHTS), so it never blocks the loop, a
 * room may be closed while its sync runs, and a power loss can take at most
 * that interval. A few rooms are synced with fdatasync each, many with one
 * syncfs of their file system. A process and not libuv's thread pool: with a
 * second thread, every system call of the server pays for it (the kernel
 * counts references on each descriptor it looks up, libc switches
 * cancellation on and off around each send); the syncer shares nothing.
 *
 * A batch is stored by copying it into a shared mapping of the file's next
 * WINDOW bytes, allocated ahead with fallocate (so a full disk fails there,
 * not as SIGBUS in a copy). A write() per batch, with the inode update it
 * brings, had cost a chatty room more than anything else in the log. The
 * zeros ahead of the last record are given back (the file cut to its
 * records) when the room closes or has been quiet for a sync interval, which
 * also unmaps the window, so a quiet room holds neither disk nor memory.
 * With fsync_ms 0 (a sync per batch), where the window cannot be had, or on
 * a file system where an allocated block may still need space when it is
 * written (copy-on-write ones: a full disk would then be a SIGBUS, not an
 * error), the batch is written with pwrite() instead: only ext2/3/4, XFS and
 * tmpfs are mapped.
 *
 * On load, a record whose length runs past the end of the file, whose
 * checksum fails or whose seq is not the next one ends the log: it is a torn
 * write, so the file is cut there and the room loads without it. A zero
 * length ends it too: the space allocated ahead before a crash.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <linux/magic.h>
#include <unistd.h>
#include <uv.h>

#include "log/log.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/err.h"
#include "util/text.h"
#include "util/ulog.h"

#define HDR 24 /* len, crc, seq, ts */
#define MAX_RECORD (1u << 20)
#define SYNCFS_MIN 4 /* rooms to sync at once that make one syncfs cheaper */
#define WINDOW (64u << 10) /* mapped and allocated ahead of a room's appends */
#define SYNCER_RETRY_MS 30000 /* after the syncer could not be started or used */

struct flroom {
	struct log *log; /* first: see log.h */
	struct filelog *fl;
	struct log_room_cbs cbs;
	void *ctx;
	char id[64];
	int fd;
	uint64_t seq;
	int64_t last_ts;
	off_t size;          /* bytes stored */
	off_t end;           /* the file's length: size, or more while allocated ahead */
	uint8_t *map;        /* the file's bytes [map_at, map_at + map_len), or NULL */
	off_t map_at;
	size_t map_len;
	struct buf pending;  /* encoded records not yet written */
	struct flroom *next_dirty;
	struct flroom *prev, *next; /* open rooms */
	bool dirty;
	bool unsynced;
	bool stored;         /* a batch went in since the last sync tick */
};

struct filelog {
	struct log base;
	uv_loop_t *loop;
	char *dir;
	unsigned fsync_ms;
	size_t page;
	bool mappable;           /* a batch may go into a mapping (see map_for) */
	struct flroom *dirty;
	struct flroom *open;     /* list of open rooms */
	uv_idle_t kick;          /* keeps the loop from blocking while dirty */
	uv_timer_t sync_timer;
	uv_poll_t sync_poll;     /* the syncer's answers */
	int sync_sock;           /* our end of the socket to the syncer, or -1 */
	pid_t syncer;            /* its pid while it runs, or 0 */
	pid_t reap;              /* a stopped syncer not yet reaped, or 0 */
	uint64_t retry_at;       /* uv_now() before which no syncer is started */
	int handles;             /* libuv handles not yet closed */
	bool sync_running;       /* a request is with the syncer */
	bool sync_stopping;      /* sync_poll is being closed */
	bool freeing;            /* log_free ran */
};

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

static void path_of(const struct filelog *fl, const char *id, char *out, size_t n)
{
	snprintf(out, n, "%s/rooms/%s.log", fl->dir, id);
}

static struct log_room *fl_room_new(struct log *log, const char *id,
				    const struct log_room_cbs *cbs, void *ctx)
{
	struct filelog *fl = (struct filelog *)log;
	size_t idn = strlen(id);
	/* ids come from the network: only a plain base64url name makes a path */
	if (idn == 0 || idn >= sizeof(((struct flroom *)0)->id) || !util_is_b64url(id, idn))
		return NULL;
	struct flroom *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->log = log;
	r->fl = fl;
	r->cbs = *cbs;
	r->ctx = ctx;
	memcpy(r->id, id, idn + 1);
	r->fd = -1;
	buf_init(&r->pending);
	return (struct log_room *)r;
}

/* Reads a whole file; *data is NULL for an empty one. */
static int slurp(int fd, uint8_t **data, size_t *size)
{
	struct stat st;
	*data = NULL;
	if (fstat(fd, &st) < 0)
		return PL_EIO;
	*size = (size_t)st.st_size;
	if (!*size)
		return 0;
	if (!(*data = malloc(*size)))
		return PL_ENOMEM;
	size_t got = 0;
	while (got < *size) {
		ssize_t n = pread(fd, *data + got, *size - got, (off_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			free(*data);
			*data = NULL;
			return PL_EIO;
		}
		got += (size_t)n;
	}
	return 0;
}

/* Walks the records of a file's bytes, from seq 1, up to `upto` (0: all),
 * stopping at the first torn or corrupt one. Returns the offset after the
 * last good record; *seq and *ts are the last good record's. */
static size_t walk(const uint8_t *data, size_t size, uint64_t upto,
		   void (*cb)(void *ctx, const struct log_rec *rec), void *ctx, uint64_t *seq,
		   int64_t *ts)
{
	size_t off = 0;
	while (off + 8 <= size && (!upto || *seq < upto)) {
		uint32_t len = get32(data + off), crc = get32(data + off + 4);
		if (len < 16 || len > MAX_RECORD || off + 8 + len > size)
			break;
		const uint8_t *body = data + off + 8;
		if (util_crc32c(0, body, len) != crc || get64(body) != *seq + 1)
			break;
		struct log_rec rec = {.seq = get64(body), .ts = (int64_t)get64(body + 8),
				      .data = body + 16, .len = len - 16};
		*seq = rec.seq;
		*ts = rec.ts;
		cb(ctx, &rec);
		off += 8 + len;
	}
	return off;
}

/* Replays the file's records; cuts a torn tail. */
static int replay(struct flroom *r)
{
	uint8_t *data;
	size_t size;
	int rc = slurp(r->fd, &data, &size);
	if (rc)
		return rc;
	size_t off = walk(data, size, 0, r->cbs.record, r->ctx, &r->seq, &r->last_ts);
	size_t zeros = 0; /* allocated ahead before a crash: nothing was lost */
	while (off + zeros < size && data[off + zeros] == 0)
		zeros++;
	free(data);
	if (off < size) {
		if (off + zeros < size)
			ULOG_W("room %s: dropping %zu bytes of torn or corrupt log tail at offset %zu",
			       r->id, size - off, off);
		if (ftruncate(r->fd, (off_t)off) < 0)
			return PL_EIO;
	}
	r->size = r->end = (off_t)off;
	return 0;
}

/* A read-only replay (exports): never writes, never cuts. */
static int fl_read(struct log *log, const char *id, uint64_t upto,
		   void (*cb)(void *ctx, const struct log_rec *rec), void *ctx)
{
	struct filelog *fl = (struct filelog *)log;
	char path[4096];
	size_t idn = strlen(id);
	if (!idn || idn > 64 || !util_is_b64url(id, idn))
		return PL_ENOTFOUND;
	path_of(fl, id, path, sizeof(path));
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? PL_ENOTFOUND : PL_EIO;
	uint8_t *data;
	size_t size;
	int rc = slurp(fd, &data, &size);
	close(fd);
	if (rc)
		return rc;
	uint64_t seq = 0;
	int64_t ts = 0;
	walk(data, size, upto, cb, ctx, &seq, &ts);
	free(data);
	return 0;
}

static int fl_room_load(struct log_room *lr, int flags)
{
	struct flroom *r = (struct flroom *)lr;
	char path[4096];
	path_of(r->fl, r->id, path, sizeof(path));
	int oflags = O_RDWR | O_CLOEXEC | ((flags & LOG_CREATE) ? O_CREAT | O_EXCL : 0);
	r->fd = open(path, oflags, 0600);
	int rc = 0;
	if (r->fd < 0) {
		rc = errno == ENOENT ? PL_ENOTFOUND : errno == EEXIST ? PL_EFORBIDDEN : PL_EIO;
		if (rc == PL_EIO)
			ULOG_E("room %s: open %s: %s", r->id, path, strerror(errno));
	} else if (!(flags & LOG_CREATE)) {
		rc = replay(r);
	}
	if (rc == 0) {
		r->next = r->fl->open;
		if (r->next)
			r->next->prev = r;
		r->fl->open = r;
	}
	r->cbs.ready(r->ctx, rc);
	return rc;
}

/* An active idle handle makes the loop poll without blocking, so log_flush
 * runs this iteration even when the append came from a timer. */
static void kick_noop(uv_idle_t *h)
{
	(void)h;
}

static int fl_room_append(struct log_room *lr, const uint8_t *data, size_t len)
{
	struct flroom *r = (struct flroom *)lr;
	if (r->fd < 0)
		return PL_EUNAVAIL;
	if (len + 16 > MAX_RECORD)
		return PL_EBADREQ;
	int64_t ts = util_wall_ms();
	if (ts < r->last_ts)
		ts = r->last_ts; /* the wall clock stepped back: keep ts monotonic */
	uint8_t hdr[HDR];
	put32(hdr, (uint32_t)(len + 16));
	put64(hdr + 8, r->seq + 1);
	put64(hdr + 16, (uint64_t)ts);
	uint32_t crc = util_crc32c(util_crc32c(0, hdr + 8, 16), data, len);
	put32(hdr + 4, crc);
	if (buf_reserve(&r->pending, HDR + len))
		return PL_ENOMEM;
	buf_append(&r->pending, hdr, HDR);
	buf_append(&r->pending, data, len);
	r->seq++;
	r->last_ts = ts;
	if (!r->dirty) {
		r->dirty = true;
		r->next_dirty = r->fl->dirty;
		r->fl->dirty = r;
		uv_idle_start(&r->fl->kick, kick_noop);
	}
	return 0;
}

static int pwrite_all(int fd, const uint8_t *p, size_t n, off_t at)
{
	while (n) {
		ssize_t w = pwrite(fd, p, n, at);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		p += w;
		n -= (size_t)w;
		at += w;
	}
	return 0;
}

static void drop_window(struct flroom *r)
{
	if (r->map)
		munmap(r->map, r->map_len);
	r->map = NULL;
}

/* Gives back what was allocated ahead: the mapping, and the file's zeros. */
static void unmap(struct flroom *r)
{
	drop_window(r);
	if (r->end > r->size) {
		struct stat st;
		if (ftruncate(r->fd, r->size) == 0) {
			r->end = r->size;
		} else {
			ULOG_E("room %s: cannot cut the log back to %lld bytes: %s", r->id,
			       (long long)r->size, strerror(errno));
			if (fstat(r->fd, &st) == 0) /* what a next window may count on */
				r->end = st.st_size;
		}
	}
}

/* Maps the file so that [size, size + n) is in the mapping; false when it
 * cannot (then the batch is written with pwrite). */
static bool map_for(struct flroom *r, size_t n)
{
	if (r->map && r->size + (off_t)n <= r->map_at + (off_t)r->map_len)
		return true;
	if (!r->fl->mappable)
		return false;
	drop_window(r);
	off_t at = r->size & ~(off_t)(r->fl->page - 1);
	size_t len = ((size_t)(r->size - at) + n + WINDOW - 1) / WINDOW * WINDOW;
	if (at + (off_t)len > r->end) {
		int e = posix_fallocate(r->fd, r->end, at + (off_t)len - r->end);
		if (e) {
			if (e == ENOSPC || e == EFBIG || e == EDQUOT) /* the write says so */
				ULOG_D("room %s: no log space ahead: %s", r->id, strerror(e));
			else
				ULOG_W("room %s: cannot allocate log space ahead: %s", r->id,
				       strerror(e));
			unmap(r);
			return false;
		}
		r->end = at + (off_t)len;
	}
	void *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, r->fd, at);
	if (m == MAP_FAILED) {
		ULOG_W("room %s: cannot map the log: %s", r->id, strerror(errno));
		unmap(r);
		return false;
	}
	madvise(m, len, MADV_DONTFORK); /* a syncer started later holds no window */
	r->map = m;
	r->map_at = at;
	r->map_len = len;
	return true;
}

/* Delivers a stored batch, or reports each of its records as failed. */
static void each_record(struct flroom *r, const struct buf *batch, int err)
{
	const uint8_t *p = buf_data(batch), *end = p + batch->len;
	while (p < end) {
		uint32_t len = get32(p);
		struct log_rec rec = {.seq = get64(p + 8), .ts = (int64_t)get64(p + 16),
				      .data = p + HDR, .len = len - 16};
		if (err == 0)
			r->cbs.record(r->ctx, &rec);
		else
			r->cbs.failed(r->ctx, rec.data, rec.len, err);
		p += 8 + len;
	}
}

/* Stores a room's batch; on failure cuts the file back and rolls seq back. */
static int write_batch(struct flroom *r, const struct buf *batch)
{
	int e = 0;
	if (map_for(r, batch->len))
		memcpy(r->map + (r->size - r->map_at), buf_data(batch), batch->len);
	else
		e = pwrite_all(r->fd, buf_data(batch), batch->len, r->size);
	if (e == 0) {
		r->size += (off_t)batch->len;
		if (r->end < r->size)
			r->end = r->size;
		r->stored = true;
		if (r->fl->fsync_ms == 0)
			fdatasync(r->fd);
		else
			r->unsynced = true;
		return 0;
	}
	ULOG_E("room %s: log write failed: %s", r->id, strerror(-e));
	if (r->end < r->size + (off_t)batch->len) /* pwrite may have grown it */
		r->end = r->size + (off_t)batch->len;
	unmap(r);
	r->seq = get64(buf_data(batch) + 8) - 1;
	return PL_EUNAVAIL;
}

/* The hub never frees a room from inside a record callback, so r stays
 * valid while its batch is delivered. */
static void fl_flush(struct log *log)
{
	struct filelog *fl = (struct filelog *)log;
	while (fl->dirty) {
		struct flroom *r = fl->dirty;
		fl->dirty = r->next_dirty;
		r->dirty = false;
		/* deliveries may append again: those go to a fresh batch */
		struct buf batch = r->pending;
		buf_init(&r->pending);
		int rc = write_batch(r, &batch);
		each_record(r, &batch, rc);
		buf_deinit(&batch); /* a quiet room keeps no buffer */
	}
	uv_idle_stop(&fl->kick);
}

/* ---- the syncer ---------------------------------------------------------- */

#define SYNC_FDS (SYNCFS_MIN - 1) /* descriptors in one request, at most */

/* Many rooms: one syncfs instead of a metadata write and a device flush per
 * file (100 rooms' fdatasync took 5 % of the server's CPU at 10,000
 * deliveries/s; one syncfs 0.05 %). It syncs the other files of that file
 * system too, so a few rooms are synced alone and a quiet server is not
 * charged for its neighbours' writes. */
static void sync_now(bool whole_fs, const int *fds, int n)
{
	if (whole_fs && syncfs(fds[0]) < 0)
		ULOG_E("log syncfs: %s", strerror(errno));
	for (int i = 0; !whole_fs && i < n; i++)
		if (fdatasync(fds[i]) < 0)
			ULOG_E("log fdatasync: %s", strerror(errno));
}

/* The child: each request is one byte ('s': syncfs, 'f': fdatasync each)
 * with the descriptors; the answer is the same byte once they are synced.
 * It holds nothing else of the server's (no listening socket, no client),
 * ignores the signals meant for the server, and ends with it. */
static void syncer_main(int sock)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	prctl(PR_SET_NAME, "potluckd-sync");
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	if (dup2(sock, 3) < 0)
		_exit(1);
	struct rlimit lim;
	if (close_range(4, ~0u, 0) < 0 && getrlimit(RLIMIT_NOFILE, &lim) == 0)
		for (rlim_t fd = 4; fd < lim.rlim_cur; fd++) /* kernels before 5.9 */
			close((int)fd);
	for (;;) {
		char op;
		int fds[SYNC_FDS];
		union {
			struct cmsghdr h;
			char b[CMSG_SPACE(sizeof(fds))];
		} ctl;
		struct iovec iov = {.iov_base = &op, .iov_len = 1};
		struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.b,
				   .msg_controllen = sizeof(ctl.b)};
		ssize_t got = recvmsg(3, &m, MSG_CMSG_CLOEXEC);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			_exit(0); /* the server is gone */
		struct cmsghdr *c = CMSG_FIRSTHDR(&m);
		int n = 0;
		if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			n = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
			memcpy(fds, CMSG_DATA(c), (size_t)n * sizeof(int));
		}
		if (n)
			sync_now(op == 's', fds, n);
		else
			op = 'e'; /* the descriptors did not come (refused on the way) */
		for (int i = 0; i < n; i++)
			close(fds[i]);
		if (send(3, &op, 1, MSG_NOSIGNAL) < 0)
			_exit(0);
	}
}

static void fl_release(struct filelog *fl)
{
	free(fl->dir);
	free(fl);
}

static void handle_closed(uv_handle_t *h)
{
	struct filelog *fl = h->data;
	if (--fl->handles == 0)
		fl_release(fl);
}

/* Reaps a stopped syncer: at once when it has exited (it has, when it
 * closed its end), else at a later tick; when the log is freed, waits for
 * it, since it may be finishing a sync. */
static void reap(struct filelog *fl, bool wait)
{
	if (fl->reap && waitpid(fl->reap, NULL, wait ? 0 : WNOHANG) != 0)
		fl->reap = 0;
}

static void poll_closed(uv_handle_t *h)
{
	struct filelog *fl = h->data;
	close(fl->sync_sock); /* the syncer reads the end and exits */
	fl->sync_sock = -1;
	reap(fl, true); /* one stopped earlier has long exited */
	fl->reap = fl->syncer;
	fl->syncer = 0;
	fl->sync_stopping = false;
	reap(fl, fl->freeing);
	handle_closed(h);
}

/* Stops the syncer; a new one starts when the next sync is due. Rooms whose
 * sync it had not confirmed are synced again then. */
static void syncer_stop(struct filelog *fl)
{
	if (fl->sync_sock < 0 || fl->sync_stopping)
		return;
	if (fl->sync_running)
		for (struct flroom *r = fl->open; r; r = r->next)
			r->unsynced = true;
	fl->sync_running = false;
	fl->sync_stopping = true;
	uv_close((uv_handle_t *)&fl->sync_poll, poll_closed);
}

static void on_synced(uv_poll_t *h, int status, int events)
{
	struct filelog *fl = h->data;
	char op;
	(void)events;
	ssize_t got = status < 0 ? -1 : recv(fl->sync_sock, &op, 1, MSG_DONTWAIT);
	if (got < 0 && status >= 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (got <= 0) {
		ULOG_W("the log's syncer is gone; a new one starts at the next sync");
		syncer_stop(fl);
		return;
	}
	if (op == 'e') {
		ULOG_E("the log's syncer did not get the descriptors: syncing in the server "
		       "for %d s", SYNCER_RETRY_MS / 1000);
		fl->retry_at = uv_now(fl->loop) + SYNCER_RETRY_MS;
		syncer_stop(fl);
		return;
	}
	fl->sync_running = false;
}

static int syncer_start(struct filelog *fl)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0)
		syncer_main(sv[1]);
	close(sv[1]);
	int e = pid < 0 ? uv_translate_sys_error(errno) : uv_poll_init(fl->loop, &fl->sync_poll, sv[0]);
	if (e < 0) {
		ULOG_E("cannot start the log's syncer (%s): syncing in the server for %d s",
		       uv_strerror(e), SYNCER_RETRY_MS / 1000);
		fl->retry_at = uv_now(fl->loop) + SYNCER_RETRY_MS;
		close(sv[0]);
		if (pid > 0)
			waitpid(pid, NULL, 0); /* it exits on the closed socket */
		return -1;
	}
	fl->sync_sock = sv[0];
	fl->syncer = pid;
	fl->handles++;
	fl->sync_poll.data = fl;
	uv_poll_start(&fl->sync_poll, UV_READABLE | UV_DISCONNECT, on_synced);
	uv_unref((uv_handle_t *)&fl->sync_poll);
	return 0;
}

/* Hands the descriptors to the syncer; where there is none, syncs here. */
static void sync_request(struct filelog *fl, bool whole_fs, const int *fds, int n)
{
	if (fl->sync_stopping ||
	    (fl->sync_sock < 0 && (uv_now(fl->loop) < fl->retry_at || syncer_start(fl) < 0))) {
		sync_now(whole_fs, fds, n);
		return;
	}
	char op = whole_fs ? 's' : 'f';
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(SYNC_FDS * sizeof(int))];
	} ctl;
	memset(&ctl, 0, sizeof(ctl));
	struct iovec iov = {.iov_base = &op, .iov_len = 1};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.b,
			   .msg_controllen = CMSG_SPACE((size_t)n * sizeof(int))};
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN((size_t)n * sizeof(int));
	memcpy(CMSG_DATA(c), fds, (size_t)n * sizeof(int));
	if (sendmsg(fl->sync_sock, &m, MSG_DONTWAIT | MSG_NOSIGNAL) == 1) {
		fl->sync_running = true;
		return;
	}
	ULOG_W("cannot reach the log's syncer (%s): syncing here", strerror(errno));
	syncer_stop(fl);
	sync_now(whole_fs, fds, n);
}

static void sync_tick(uv_timer_t *t)
{
	struct filelog *fl = t->data;
	for (struct flroom *r = fl->open; r; r = r->next) {
		if (!r->stored)
			unmap(r); /* quiet for a whole interval */
		r->stored = false;
	}
	reap(fl, false);
	if (fl->sync_running)
		return;
	int n = 0;
	for (struct flroom *r = fl->open; r; r = r->next)
		n += r->unsynced;
	if (!n)
		return;
	bool whole_fs = n >= SYNCFS_MIN;
	int fds[SYNC_FDS], nfd = 0;
	for (struct flroom *r = fl->open; r; r = r->next) {
		if (!r->unsynced)
			continue;
		if (nfd < (whole_fs ? 1 : SYNC_FDS)) /* one descriptor names the file system */
			fds[nfd++] = r->fd;
		r->unsynced = false;
	}
	sync_request(fl, whole_fs, fds, nfd);
}

static void fl_room_free(struct log_room *lr)
{
	struct flroom *r = (struct flroom *)lr;
	if (r->dirty) { /* store what was appended, without delivering it */
		struct flroom **pp = &r->fl->dirty;
		while (*pp != r)
			pp = &(*pp)->next_dirty;
		*pp = r->next_dirty;
		write_batch(r, &r->pending);
	}
	if (r->fd >= 0) {
		unmap(r);
		if (r->unsynced)
			fdatasync(r->fd);
		close(r->fd);
		if (r->prev)
			r->prev->next = r->next;
		else if (r->fl->open == r)
			r->fl->open = r->next;
		if (r->next)
			r->next->prev = r->prev;
	}
	buf_deinit(&r->pending);
	free(r);
}

static int fl_sync(struct log *log)
{
	struct filelog *fl = (struct filelog *)log;
	fl_flush(log);
	int rc = 0;
	for (struct flroom *r = fl->open; r; r = r->next) {
		if (r->unsynced && fdatasync(r->fd) < 0)
			rc = PL_EIO;
		r->unsynced = false;
	}
	return rc;
}

/* The syncer exits once it has read the end of our socket; a sync it is
 * running (on its own descriptors) is finished first, and waited for. */
static void fl_free(struct log *log)
{
	struct filelog *fl = (struct filelog *)log;
	fl->freeing = true;
	uv_timer_stop(&fl->sync_timer);
	uv_idle_stop(&fl->kick);
	reap(fl, true);
	syncer_stop(fl);
	uv_close((uv_handle_t *)&fl->sync_timer, handle_closed);
	uv_close((uv_handle_t *)&fl->kick, handle_closed);
}

static void fl_heartbeat(struct log *log, uint64_t self, unsigned ttl_ms)
{
	(void)log, (void)self, (void)ttl_ms; /* one process: alive while it runs */
}

static void fl_alive(struct log *log, const uint64_t *ids, size_t n,
		     void (*cb)(void *ctx, const bool *alive), void *ctx)
{
	bool dead[64] = {false}; /* another instance here is a past run of ours */
	(void)log, (void)ids;
	cb(ctx, n <= 64 ? dead : NULL);
}

static void fl_room_retire(struct log_room *lr, uint64_t ttl_ms)
{
	(void)lr, (void)ttl_ms; /* the files are the data directory's to keep */
}

static const struct log_ops filelog_ops = {
	.room_new = fl_room_new,
	.room_load = fl_room_load,
	.room_append = fl_room_append,
	.room_free = fl_room_free,
	.flush = fl_flush,
	.read = fl_read,
	.heartbeat = fl_heartbeat,
	.room_retire = fl_room_retire,
	.alive = fl_alive,
	.sync = fl_sync,
	.free = fl_free,
};

struct log *log_filelog_new(uv_loop_t *loop, const char *dir, unsigned fsync_ms)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/rooms", dir);
	if ((mkdir(dir, 0700) < 0 && errno != EEXIST) || (mkdir(path, 0700) < 0 && errno != EEXIST)) {
		ULOG_E("cannot create %s: %s", path, strerror(errno));
		return NULL;
	}
	struct filelog *fl = calloc(1, sizeof(*fl));
	if (!fl || !(fl->dir = strdup(dir))) {
		free(fl);
		return NULL;
	}
	fl->base.ops = &filelog_ops;
	fl->loop = loop;
	fl->fsync_ms = fsync_ms;
	fl->page = (size_t)sysconf(_SC_PAGESIZE);
	struct statfs fs;
	fl->mappable = fsync_ms && statfs(dir, &fs) == 0 &&
		       (fs.f_type == EXT4_SUPER_MAGIC || fs.f_type == XFS_SUPER_MAGIC ||
			fs.f_type == TMPFS_MAGIC);
	fl->sync_sock = -1;
	fl->handles = 2; /* kick and sync_timer; sync_poll while the syncer runs */
	uv_idle_init(loop, &fl->kick);
	fl->kick.data = fl;
	uv_timer_init(loop, &fl->sync_timer);
	fl->sync_timer.data = fl;
	uv_unref((uv_handle_t *)&fl->sync_timer);
	if (fsync_ms) {
		/* now, while the process is small; again later only if it dies */
		syncer_start(fl);
		uv_timer_start(&fl->sync_timer, sync_tick, fsync_ms, fsync_ms);
	}
	return &fl->base;
}
