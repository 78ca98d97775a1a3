/*
 * test_filelog.c — log/filelog.c: the embedded log over real files and a
 * real libuv loop.
 *
 * Each test gets a fresh directory (mkdtemp) and loop; the log is freed and
 * the loop run until every handle is closed, and uv_loop_close must then
 * succeed, so a leaked handle or a callback after free fails the test (and
 * ASan sees any use after free).
 *
 * What is checked is the promise in log.h and PROTOCOL.md: records come back
 * in seq order, only after log_flush stored them; a reload replays exactly
 * what was stored; a torn or corrupt tail is cut and the log goes on from the
 * last good record; and the file has the documented layout.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "log/log.h"
#include "util/err.h"
#include "util/text.h"

#define ROOM_A "q3Xv9LmZ0aB-_k2T"
#define ROOM_B "AAAAAAAAAAAAAAAA"

#define assert_err(got, want)                                                              \
	do {                                                                               \
		int got_ = (got), want_ = (want);                                          \
		if (got_ != want_)                                                         \
			fail_msg("%s: got %d (%s), want %d (%s)", #got, got_,              \
				 got_ ? pl_err_code(got_) : "ok", want_,                   \
				 want_ ? pl_err_code(want_) : "ok");                       \
	} while (0)

/* ---- what a room handle received --------------------------------------- */

struct got_rec {
	uint64_t seq;
	int64_t ts;
	uint8_t *data;
	size_t len;
};

struct sink {
	struct got_rec *recs;
	size_t n;
	int ready_calls;
	int ready_status;
	int failed;
	uint8_t *failed_data;
	size_t failed_len;
	int failed_err;
	int depth;          /* > 1: a callback ran inside another */
	struct log_room *lr; /* for appends from inside a callback */
	int append_in_cb;   /* how many more records to append from callbacks */
};

static void on_record(void *ctx, const struct log_rec *rec)
{
	struct sink *s = ctx;
	assert_int_equal(++s->depth, 1);
	s->recs = realloc(s->recs, (s->n + 1) * sizeof(*s->recs));
	struct got_rec *g = &s->recs[s->n++];
	g->seq = rec->seq;
	g->ts = rec->ts;
	g->len = rec->len;
	g->data = malloc(rec->len ? rec->len : 1);
	memcpy(g->data, rec->data, rec->len);
	if (s->append_in_cb > 0) {
		s->append_in_cb--;
		char buf[32];
		int n = snprintf(buf, sizeof(buf), "from-callback-%d", s->append_in_cb);
		assert_err(log_room_append(s->lr, (const uint8_t *)buf, (size_t)n), 0);
	}
	s->depth--;
}

static void on_ready(void *ctx, int status)
{
	struct sink *s = ctx;
	s->ready_calls++;
	s->ready_status = status;
}

static void on_failed(void *ctx, const uint8_t *data, size_t len, int err)
{
	struct sink *s = ctx;
	s->failed++;
	free(s->failed_data);
	s->failed_data = malloc(len ? len : 1);
	memcpy(s->failed_data, data, len);
	s->failed_len = len;
	s->failed_err = err;
}

static const struct log_room_cbs cbs = {.record = on_record, .ready = on_ready,
					.failed = on_failed};

static void sink_clear(struct sink *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->recs[i].data);
	free(s->recs);
	free(s->failed_data);
	memset(s, 0, sizeof(*s));
}

/* ---- fixture: a temp dir, a loop and a log ------------------------------ */

struct fix {
	char dir[64];
	uv_loop_t loop;
	struct log *log;
	struct sink a, b;
};

/* fsync_ms 0 writes each batch with pwrite and syncs it; any other value
 * copies it into a mapping allocated ahead (here never synced by the timer,
 * which does not fire within a test unless the test runs the loop). */
static int setup_with(void **state, unsigned fsync_ms)
{
	struct fix *f = calloc(1, sizeof(*f));
	strcpy(f->dir, "/tmp/potluck-filelog-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	if (uv_loop_init(&f->loop))
		return -1;
	f->log = log_filelog_new(&f->loop, f->dir, fsync_ms);
	if (!f->log)
		return -1;
	*state = f;
	return 0;
}

static int setup(void **state)
{
	return setup_with(state, 0);
}

static int setup_mapped(void **state)
{
	return setup_with(state, 60000);
}

static void close_log(struct fix *f)
{
	if (!f->log)
		return;
	log_free(f->log);
	f->log = NULL;
	uv_run(&f->loop, UV_RUN_DEFAULT);
}

/* A fresh log on the same directory, as a restarted server gets. */
static void reopen_log(struct fix *f, unsigned fsync_ms)
{
	close_log(f);
	f->log = log_filelog_new(&f->loop, f->dir, fsync_ms);
	assert_non_null(f->log);
}

static void rm_tree(const char *dir)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/rooms", dir);
	uv_fs_t req;
	if (uv_fs_scandir(NULL, &req, path, 0, NULL) >= 0) {
		uv_dirent_t ent;
		while (uv_fs_scandir_next(&req, &ent) != UV_EOF) {
			char file[512];
			snprintf(file, sizeof(file), "%s/%s", path, ent.name);
			unlink(file);
		}
	}
	uv_fs_req_cleanup(&req);
	rmdir(path);
	rmdir(dir);
}

static struct rlimit fsize_limit; /* as the process started */

static int teardown(void **state)
{
	struct fix *f = *state;
	setrlimit(RLIMIT_FSIZE, &fsize_limit); /* if a test failed while lowering it */
	close_log(f);
	int rc = uv_loop_close(&f->loop);
	rm_tree(f->dir);
	sink_clear(&f->a);
	sink_clear(&f->b);
	free(f);
	return rc == 0 ? 0 : -1; /* a handle still open fails the test */
}

static void room_path(const struct fix *f, const char *id, char *out, size_t n)
{
	snprintf(out, n, "%s/rooms/%s.log", f->dir, id);
}

static off_t file_size(const struct fix *f, const char *id)
{
	char path[256];
	struct stat st;
	room_path(f, id, path, sizeof(path));
	assert_int_equal(stat(path, &st), 0);
	return st.st_size;
}

static struct log_room *open_room(struct fix *f, const char *id, struct sink *s, int flags,
				  int want)
{
	struct log_room *lr = log_room_new(f->log, id, &cbs, s);
	assert_non_null(lr);
	s->lr = lr;
	int ready_before = s->ready_calls;
	assert_err(log_room_load(lr, flags), want);
	assert_int_equal(s->ready_calls, ready_before + 1);
	assert_err(s->ready_status, want);
	return lr;
}

static void append_str(struct log_room *lr, const char *s)
{
	assert_err(log_room_append(lr, (const uint8_t *)s, strlen(s)), 0);
}

static void append_n(struct log_room *lr, int from, int to)
{
	char buf[32];
	for (int i = from; i < to; i++) {
		snprintf(buf, sizeof(buf), "record-%d", i);
		append_str(lr, buf);
	}
}

static void assert_rec(const struct sink *s, size_t i, uint64_t seq, const char *data)
{
	assert_true(i < s->n);
	assert_int_equal(s->recs[i].seq, seq);
	assert_int_equal(s->recs[i].len, strlen(data));
	assert_memory_equal(s->recs[i].data, data, s->recs[i].len);
}

/* records [from, to) as appended by append_n, delivered as seq from+1… */
static void assert_recs(const struct sink *s, size_t at, int from, int to)
{
	char buf[32];
	for (int i = from; i < to; i++) {
		snprintf(buf, sizeof(buf), "record-%d", i);
		assert_rec(s, at + (size_t)(i - from), (uint64_t)i + 1, buf);
	}
}

/* Bytes of records at the start of the file: up to its end, or up to the
 * zeros allocated ahead of an open room's next record. */
static off_t stored_size(const struct fix *f, const char *id)
{
	char path[256];
	room_path(f, id, path, sizeof(path));
	int fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	off_t at = 0;
	uint8_t h[4];
	while (pread(fd, h, 4, at) == 4) {
		uint32_t len = h[0] | h[1] << 8 | h[2] << 16 | (uint32_t)h[3] << 24;
		if (len == 0)
			break;
		at += 8 + (off_t)len;
	}
	close(fd);
	return at;
}

/* Bytes a record of n payload bytes takes in the file. */
static off_t rec_bytes(size_t n)
{
	return (off_t)(24 + n);
}

/* ---- appending and delivery -------------------------------------------- */

static void test_records_are_delivered_after_flush_in_seq_order(void **state)
{
	struct fix *f = *state;
	struct log_room *lr = open_room(f, ROOM_A, &f->a, LOG_CREATE, 0);
	assert_int_equal(f->a.n, 0);
	append_n(lr, 0, 5);
	assert_int_equal(f->a.n, 0); /* not before log_flush */
	uv_run(&f->loop, UV_RUN_NOWAIT);
	assert_int_equal(f->a.n, 0); /* nor by merely running the loop */
	log_flush(f->log);
	assert_int_equal(f->a.n, 5);
	assert_recs(&f->a, 0, 0, 5);
	for (size_t i = 1; i < f->a.n; i++)
		assert_true(f->a.recs[i].ts >= f->a.recs[i - 1].ts);
	int64_t now = (int64_t)time(NULL) * 1000;
	assert_true(f->a.recs[0].ts > now - 60000 && f->a.recs[0].ts < now + 60000);
	log_flush(f->log); /* nothing new: nothing delivered twice */
	assert_int_equal(f->a.n, 5);
	append_n(lr, 5, 8);
	log_flush(f->log);
	assert_int_equal(f->a.n, 8);
	assert_recs(&f->a, 0, 0, 8);
	assert_int_equal(f->a.failed, 0);
	log_room_free(lr);
}

static void test_records_are_written_to_the_file_before_delivery(void **state)
{
	struct fix *f = *state;
	struct log_room *lr = open_room(f, ROOM_A, &f->a, LOG_CREATE, 0);
	assert_int_equal(file_size(f, ROOM_A), 0);
	append_str(lr, "one");
	assert_int_equal(file_size(f, ROOM_A), 0); /* batched until the flush */
	log_flush(f->log);
	assert_int_equal(stored_size(f, ROOM_A), rec_bytes(3));
	log_room_free(lr);
	assert_int_equal(file_size(f, ROOM_A), rec_bytes(3)); /* nothing ahead once closed */
}

static void test_file_has_the_documented_record_layout(void **state)
{
	struct fix *f = *state;
	struct log_room *lr = open_room(f, ROOM_A, &f->a, LOG_CREATE, 0);
	append_str(lr, "\x81\xa1k\xa4ping"); /* any bytes; the log does not look */
	log_flush(f->log);
	log_room_free(lr);
	char path[256];
	uint8_t b[64];
	room_path(f, ROOM_A, path, sizeof(path));
	int fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	ssize_t n = read(fd, b, sizeof(b));
	close(fd);
	assert_int_equal(n, 24 + 8);
	/* u32 length (LE) = 16 + msgpack bytes */
	assert_int_equal(b[0] | b[1] << 8 | b[2] << 16 | (uint32_t)b[3] << 24, 16 + 8);
	/* u32 CRC-32C (LE) of seq, ts and the msgpack bytes */
	uint32_t crc = util_crc32c(0, b + 8, 16 + 8);
	assert_int_equal(b[4] | b[5] << 8 | b[6] << 16 | (uint32_t)b[7] << 24, crc);
	/* u64 seq (LE) = 1 */
	static const uint8_t one[8] = {1, 0, 0, 0, 0, 0, 0, 0};
	assert_memory_equal(b + 8, one, 8);
	/* i64 ts (LE) = what was delivered */
	int64_t ts = 0;
	for (int i = 7; i >= 0; i--)
		ts = ts << 8 | b[16 + i];
	assert_int_equal(f->a.n, 1);
	assert_int_equal(ts, f->a.recs[0].ts);
	assert_memory_equal(b + 24, "\x81\xa1k\xa4ping", 8);
}

static void test_records_appended_during_delivery_come_later_in_order(void **state)
{
	struct fix *f = *state;
	struct log_room *lr = open_room(f, ROOM_A, &f->a, LOG_CREATE, 0);
	f->a.append_in_cb = 3; /* each delivery appends one more, three times */
	append_str(lr, "first");
	for (int i = 0; i < 5 && f->a.n < 4; i++)
		log_flush(f->log);
	assert_int_equal(f->a.n, 4); /* never re-entrantly: on_record checks depth */
	assert_rec(&f->a, 0, 1, "first");
	assert_rec(&f->a, 1, 2, "from-callback-2");
	assert_rec(&f->a, 2, 3, "from-callback-1");
	assert_rec(&f->a, 3, 4, "from-callback-0");
	log_room_free(lr);
}

static void test_append_before_load_is_unavailable(void **state)
{
	struct fix *f = *state;
	struct log_room *lr = log_room_new(f->log, ROOM_A, &cbs, &f->a);
	assert_non_null(lr);
	assert_err(log_room_append(lr, (const uint8_t *)"x", 1), PL_EUNAVAIL);
	log_room_free(lr);
	assert_int_equal(f->a.ready_calls, 0);
}

static void test_record_over_1_mib_is_refused(void **state)
{
	struct fix *f = *state;
	struct log_room *lr = open_room(f, ROOM_A, &f->a, LOG_CREATE, 0);
	size_t n = (1u << 20) - 16 + 1;
	uint8_t *big = calloc(1, n);
	assert_err(log_room_append(lr, big, n), PL_EBADREQ);
	assert_err(log_room_append(lr, big, n - 1), 0); /* exactly the limit */
	free(big);
	append_str(lr, "after");
	log_flush(f->log);
	assert_int_equal(f->a.n, 2);
	assert_int_equal(f->a.recs[0].seq, 1);
	assert_rec(&f->a, 1, 2, "after");
	log_room_free(lr);
	/* and it loads back */
	sink_clear(&f->a);
	lr = open_room(f, ROOM_A, &f->a, 0, 0);
	assert_int_equal(f->a.n, 2);
	assert_int_equal(f->a.recs[0].len, n - 1);
	log_room_free(lr);
}

static void test_rooms_have_their_own_seq(void **state)
{
	struct fix *f = *state;
	struct log_room *a = open_room(f, ROOM_A, &f->a, LOG_CREATE, 0);
	struct log_room *b = open_room(f, ROOM_B, &f->b, LOG_CREATE, 0);
	append_n(a, 0, 3);
	append_n(b, 0, 2);
	append_n(a, 3, 4);
	log_flush(f->log);
	assert_int_equal(f->a.n, 4);
	assert_int_equal(f->b.n, 2);
	assert_recs(&f->a, 0, 0, 4);
	assert_recs(&f->b, 0, 0, 2);
	log_room_free(a);
	log_room_free(b);
}

static void test_log_sync_stores_and_delivers_what_is_pending(void **state)
{
	struct fix *f = *state;
	struct log_room *lr = open_room(f, ROOM_A, &f->a, LOG_CREATE, 0);
	append_n(lr, 0, 3);
	assert_err(log_sync(f->log), 0);
	assert_int_equal(f->a.n, 3);
	assert_int_equal(stored_size(f, ROOM_A), 3 * rec_bytes(8));
	log_room_free(lr);
}

/* ---- loading ----------------------------------------------------------- */

static void test_reload_replays_the_same_records(void **state)
{
	struct fix *f = *state;
	struct log_room *lr = open_room(f, ROOM_A, &f->a, LOG_CREATE, 0);
	append_n(lr, 0, 20);
	log_flush(f->log);
	log_room_free(lr);
	assert_int_equal(f->a.n, 20);

	lr = open_room(f, ROOM_A, &f->b, 0, 0);
	assert_int_equal(f->b.n, 20); /* replayed before ready */
	for (size_t i = 0; i < 20; i++) {
		assert_int_equal(f->b.recs[i].seq, f->a.recs[i].seq);
		assert_int_equal(f->b.recs[i].ts, f->a.recs[i].ts);
		assert_int_equal(f->b.recs[i].len, f->a.recs[i].len);
		assert_memory_equal(f->b.recs[i].data, f->a.recs[i].data, f->a.recs[i].len);
	}
	/* and appending goes on from there */
	append_n(lr, 20, 22);
	log_flush(f->log);
	assert_int_equal(f->b.n, 22);
	assert_recs(&f->b, 0, 0, 22);
	assert_true(f->b.recs[20].ts >= f->b.recs[19].ts);
	log_room_free(lr);
}

static void test_create_of_an_existing_room_is_forbidden(void **state)
{
	struct fix *f = *state;
	struct log_room *lr = open_room(f, ROOM_A, &f->a, LOG_CREATE, 0);
	append_str(lr, "keep me");
	log_flush(f->log);
	log_room_free(lr);
	lr = open_room(f, ROOM_A, &f->b, LOG_CREATE, PL_EFORBIDDEN);
	assert_int_equal(f->b.n, 0);
	log_room_free(lr);
	assert_int_equal(file_size(f, ROOM_A), rec_bytes(7)); /* untouched */
}

static void test_load_of_a_missing_room_is_not_found(void **state)
{
	struct fix *f = *state;
	struct log_room *lr = open_room(f, ROOM_A, &f->a, 0, PL_ENOTFOUND);
	assert_int_equal(f->a.n, 0);
	log_room_free(lr);
	char path[256];
	room_path(f, ROOM_A, path, sizeof(path));
	assert_int_equal(access(path, F_OK), -1); /* loading does not create it */
}

static void test_room_id_that_is_not_base64url_is_refused(void **state)
{
	struct fix *f = *state;
	static const char *const bad[] = {"../x", "", "a/b", "a.b", "..", "x y", "a\\b",
					  "q3Xv9LmZ0aB-_k2T.log", "%2e%2e"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (log_room_new(f->log, bad[i], &cbs, &f->a))
			fail_msg("room id \"%s\" was accepted", bad[i]);
	char longid[200];
	memset(longid, 'A', sizeof(longid) - 1);
	longid[sizeof(longid) - 1] = '\0';
	assert_null(log_room_new(f->log, longid, &cbs, &f->a));
	struct log_room *lr = log_room_new(f->log, ROOM_A, &cbs, &f->a);
	assert_non_null(lr);
	log_room_free(lr);
}

/* ---- damaged files ----------------------------------------------------- */

/* Writes records 0..n-1 (seq 1..n) and closes the room. */
static void write_room(struct fix *f, const char *id, int n)
{
	struct sink s = {0};
	struct log_room *lr = open_room(f, id, &s, LOG_CREATE, 0);
	append_n(lr, 0, n);
	log_flush(f->log);
	log_room_free(lr);
	assert_int_equal(s.n, (size_t)n);
	sink_clear(&s);
}

static void truncate_by(struct fix *f, const char *id, off_t k)
{
	char path[256];
	room_path(f, id, path, sizeof(path));
	assert_int_equal(truncate(path, file_size(f, id) - k), 0);
}

static void append_bytes(struct fix *f, const char *id, const void *p, size_t n)
{
	char path[256];
	room_path(f, id, path, sizeof(path));
	int fd = open(path, O_WRONLY | O_APPEND);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, p, n), (ssize_t)n);
	close(fd);
}

static void flip_byte(struct fix *f, const char *id, off_t at)
{
	char path[256];
	uint8_t c;
	room_path(f, id, path, sizeof(path));
	int fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &c, 1, at), 1);
	c ^= 0x20;
	assert_int_equal(pwrite(fd, &c, 1, at), 1);
	close(fd);
}

/* Loads the room and checks that exactly records 0..good-1 came back, the
 * file was cut to them, and the next append gets seq good+1. */
static void assert_loads_good_prefix(struct fix *f, const char *id, int good)
{
	struct sink s = {0};
	struct log_room *lr = open_room(f, id, &s, 0, 0);
	assert_int_equal(s.n, (size_t)good);
	assert_recs(&s, 0, 0, good);
	assert_int_equal(file_size(f, id), good * rec_bytes(8));
	append_n(lr, good, good + 1);
	log_flush(f->log);
	assert_int_equal(s.n, (size_t)good + 1);
	assert_recs(&s, 0, 0, good + 1);
	log_room_free(lr);
	sink_clear(&s);
	/* the repaired file loads cleanly again, new record included */
	lr = open_room(f, id, &s, 0, 0);
	assert_int_equal(s.n, (size_t)good + 1);
	assert_recs(&s, 0, 0, good + 1);
	assert_int_equal(file_size(f, id), (good + 1) * rec_bytes(8));
	log_room_free(lr);
	sink_clear(&s);
}

static void test_torn_tail_record_is_dropped_and_the_file_cut(void **state)
{
	struct fix *f = *state;
	write_room(f, ROOM_A, 5); /* "record-0" … "record-4": 8 bytes each */
	truncate_by(f, ROOM_A, 3);
	assert_loads_good_prefix(f, ROOM_A, 4);
}

static void test_tail_cut_inside_the_header_is_dropped(void **state)
{
	struct fix *f = *state;
	write_room(f, ROOM_A, 3);
	truncate_by(f, ROOM_A, rec_bytes(8) - 5); /* 5 bytes of the last header left */
	assert_loads_good_prefix(f, ROOM_A, 2);
}

static void test_garbage_after_the_last_record_is_cut(void **state)
{
	struct fix *f = *state;
	write_room(f, ROOM_A, 3);
	append_bytes(f, ROOM_A, "\x07\x00\x00", 3);
	assert_loads_good_prefix(f, ROOM_A, 3);
	/* a plausible length but a wrong checksum */
	static const uint8_t fake[40] = {24, 0, 0, 0, 0xde, 0xad, 0xbe, 0xef, 4};
	append_bytes(f, ROOM_A, fake, sizeof(fake));
	assert_loads_good_prefix(f, ROOM_A, 4);
	/* a length that runs past the end of the file */
	static const uint8_t huge[12] = {0xff, 0xff, 0x0f, 0x00, 1, 2, 3, 4, 5, 6, 7, 8};
	append_bytes(f, ROOM_A, huge, sizeof(huge));
	assert_loads_good_prefix(f, ROOM_A, 5);
}

static void test_corrupt_checksum_in_the_middle_ends_the_log_there(void **state)
{
	struct fix *f = *state;
	write_room(f, ROOM_A, 6);
	flip_byte(f, ROOM_A, 2 * rec_bytes(8) + 24 + 3); /* inside record 3's payload */
	assert_loads_good_prefix(f, ROOM_A, 2);
}

static void test_corrupt_seq_in_the_middle_ends_the_log_there(void **state)
{
	struct fix *f = *state;
	write_room(f, ROOM_A, 4);
	flip_byte(f, ROOM_A, 1 * rec_bytes(8) + 8); /* record 2's seq: crc no longer fits */
	assert_loads_good_prefix(f, ROOM_A, 1);
}

static void test_record_out_of_sequence_ends_the_log(void **state)
{
	struct fix *f = *state;
	write_room(f, ROOM_A, 3);
	/* a valid copy of record 1 (seq 1) after seq 3 */
	char path[256];
	uint8_t first[32];
	room_path(f, ROOM_A, path, sizeof(path));
	int fd = open(path, O_RDONLY);
	assert_int_equal(read(fd, first, sizeof(first)), (ssize_t)sizeof(first));
	close(fd);
	append_bytes(f, ROOM_A, first, sizeof(first));
	assert_loads_good_prefix(f, ROOM_A, 3);
}

/* ---- space allocated ahead (the mapped store) ---------------------------- */

/* What a crash leaves of the space allocated ahead: zeros after the last
 * record. They end the log like a torn record, and nothing is lost. */
static void test_zeros_after_the_last_record_are_cut(void **state)
{
	struct fix *f = *state;
	write_room(f, ROOM_A, 3);
	static const uint8_t zeros[5000];
	append_bytes(f, ROOM_A, zeros, sizeof(zeros));
	assert_loads_good_prefix(f, ROOM_A, 3);
}

static void count_rec(void *ctx, const struct log_rec *rec)
{
	(void)rec;
	++*(int *)ctx;
}

/* The records of an open room are in the file as soon as they are
 * delivered: an export reads them, and a process that loads the room after
 * this one was killed finds all of them and cuts what was ahead. */
static void test_an_open_room_file_holds_every_delivered_record(void **state)
{
	struct fix *f = *state;
	struct log_room *lr = open_room(f, ROOM_A, &f->a, LOG_CREATE, 0);
	append_n(lr, 0, 3);
	log_flush(f->log);
	assert_int_equal(f->a.n, 3);
	assert_int_equal(stored_size(f, ROOM_A), 3 * rec_bytes(8));

	struct log *other = log_filelog_new(&f->loop, f->dir, 0);
	assert_non_null(other);
	int n = 0;
	assert_err(log_read(other, ROOM_A, 0, count_rec, &n), 0);
	assert_int_equal(n, 3);
	struct log_room *again = log_room_new(other, ROOM_A, &cbs, &f->b);
	assert_err(log_room_load(again, 0), 0);
	assert_int_equal(f->b.n, 3);
	assert_recs(&f->b, 0, 0, 3);
	assert_int_equal(file_size(f, ROOM_A), 3 * rec_bytes(8));
	log_room_free(again);
	log_free(other);
	log_room_free(lr);
	uv_run(&f->loop, UV_RUN_DEFAULT);
}

static void wait_done(uv_timer_t *t);

static void wait_ms(struct fix *f, unsigned ms)
{
	uv_timer_t wait;
	uv_timer_init(&f->loop, &wait);
	uv_timer_start(&wait, wait_done, ms, 0);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	uv_close((uv_handle_t *)&wait, NULL);
	uv_run(&f->loop, UV_RUN_DEFAULT);
}

/* A room quiet for a whole sync interval gives back the space allocated
 * ahead (and its mapping), and appends again afterwards as before. */
static void test_a_quiet_room_gives_back_the_space_ahead(void **state)
{
	struct fix *f = *state;
	reopen_log(f, 10); /* sync at most every 10 ms */
	struct log_room *lr = open_room(f, ROOM_A, &f->a, LOG_CREATE, 0);
	append_n(lr, 0, 2);
	log_flush(f->log);
	assert_int_equal(stored_size(f, ROOM_A), 2 * rec_bytes(8));
	assert_true(file_size(f, ROOM_A) > 2 * rec_bytes(8)); /* allocated ahead */
	/* sync ticks, none with an append: the second cuts (2 s at most) */
	for (int i = 0; i < 200 && file_size(f, ROOM_A) != 2 * rec_bytes(8); i++)
		wait_ms(f, 10);
	assert_int_equal(file_size(f, ROOM_A), 2 * rec_bytes(8));
	append_n(lr, 2, 4);
	log_flush(f->log);
	assert_int_equal(f->a.n, 4);
	assert_int_equal(stored_size(f, ROOM_A), 4 * rec_bytes(8));
	log_room_free(lr);
	assert_int_equal(file_size(f, ROOM_A), 4 * rec_bytes(8));
	lr = open_room(f, ROOM_A, &f->b, 0, 0);
	assert_int_equal(f->b.n, 4);
	assert_recs(&f->b, 0, 0, 4);
	log_room_free(lr);
}

/* ---- failures ---------------------------------------------------------- */

static void ignore_sigxfsz(void)
{
	struct sigaction sa = {.sa_handler = SIG_IGN};
	sigaction(SIGXFSZ, &sa, NULL);
}

/* write() failing (here: the file-size limit) reports every record of the
 * batch as failed, delivers none, cuts the file back and reuses the seq. */
static void test_failed_write_reports_failed_and_reuses_the_seq(void **state)
{
	struct fix *f = *state;
	struct rlimit lim;
	struct log_room *lr = open_room(f, ROOM_A, &f->a, LOG_CREATE, 0);
	/* a file big enough that the test's own output stays under the limit */
	static uint8_t chunk[16384], big[70000]; /* big: more than the space mapped ahead */
	for (int i = 0; i < 8; i++)
		assert_err(log_room_append(lr, chunk, sizeof(chunk)), 0);
	log_flush(f->log);
	assert_int_equal(f->a.n, 8);
	off_t size = stored_size(f, ROOM_A);

	ignore_sigxfsz();
	lim = fsize_limit;
	lim.rlim_cur = (rlim_t)size + 1000;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	append_str(lr, "fits");
	assert_err(log_room_append(lr, big, sizeof(big)), 0); /* does not fit */
	log_flush(f->log);
	setrlimit(RLIMIT_FSIZE, &fsize_limit);

	assert_int_equal(f->a.n, 8); /* nothing of the batch delivered */
	assert_int_equal(f->a.failed, 2);
	assert_int_equal(f->a.failed_len, sizeof(big));
	assert_err(f->a.failed_err, PL_EUNAVAIL);
	assert_int_equal(file_size(f, ROOM_A), size); /* cut back */

	append_str(lr, "again");
	log_flush(f->log);
	assert_int_equal(f->a.n, 9);
	assert_rec(&f->a, 8, 9, "again"); /* seq 9 again: no gap */
	log_room_free(lr);
	sink_clear(&f->b);
	lr = open_room(f, ROOM_A, &f->b, 0, 0);
	assert_int_equal(f->b.n, 9);
	assert_rec(&f->b, 8, 9, "again");
	log_room_free(lr);
}

/* ---- the background fsync ---------------------------------------------- */

static void wait_done(uv_timer_t *t)
{
	(void)t;
}

/* Enough rooms that the periodic sync does one syncfs for all of them: the
 * syncer gets the descriptors, the rooms keep theirs and keep appending
 * afterwards, and a reload finds all of it. */
static void test_background_sync_of_many_rooms_keeps_them_writable(void **state)
{
	struct fix *f = *state;
	enum { N = 6 };
	static const char *ids[N] = {"AAAAAAAAAAAAAAA1", "AAAAAAAAAAAAAAA2", "AAAAAAAAAAAAAAA3",
				     "AAAAAAAAAAAAAAA4", "AAAAAAAAAAAAAAA5", "AAAAAAAAAAAAAAA6"};
	struct sink s[N];
	struct log_room *lr[N];
	memset(s, 0, sizeof(s));
	reopen_log(f, 1); /* sync at most every 1 ms */
	for (int i = 0; i < N; i++) {
		lr[i] = open_room(f, ids[i], &s[i], LOG_CREATE, 0);
		append_n(lr[i], 0, 2);
	}
	log_flush(f->log);
	/* the sync timer does not keep the loop alive: wait_ms does, for 20 ms
	 * of ticks and the syncer's answers */
	wait_ms(f, 20);
	for (int i = 0; i < N; i++)
		append_n(lr[i], 2, 4);
	log_flush(f->log);
	for (int i = 0; i < N; i++) {
		assert_int_equal(s[i].n, 4);
		log_room_free(lr[i]);
		sink_clear(&s[i]);
	}
	reopen_log(f, 0);
	for (int i = 0; i < N; i++) {
		lr[i] = open_room(f, ids[i], &s[i], 0, 0);
		assert_int_equal(s[i].n, 4);
		assert_recs(&s[i], 0, 0, 4);
		log_room_free(lr[i]);
		sink_clear(&s[i]);
	}
}

/* The syncer is a child process: the pids of this process's children, a
 * dead one too until it is reaped. */
static int children(pid_t *out, int max)
{
	int n = 0;
	uv_fs_t req;
	if (uv_fs_scandir(NULL, &req, "/proc", 0, NULL) < 0)
		return -1;
	uv_dirent_t ent;
	while (uv_fs_scandir_next(&req, &ent) != UV_EOF) {
		char path[300], buf[512];
		snprintf(path, sizeof(path), "/proc/%s/stat", ent.name);
		FILE *fp = fopen(path, "r");
		if (!fp)
			continue;
		size_t len = fread(buf, 1, sizeof(buf) - 1, fp);
		fclose(fp);
		buf[len] = '\0';
		const char *rp = strrchr(buf, ')'); /* the name may hold spaces */
		int ppid = 0;
		char st;
		if (rp && sscanf(rp + 1, " %c %d", &st, &ppid) == 2 && ppid == getpid() && n < max)
			out[n++] = atoi(ent.name);
	}
	uv_fs_req_cleanup(&req);
	return n;
}

/* Runs the loop until this process has `want` children (2 s at most). */
static int wait_children(struct fix *f, int want, pid_t *out)
{
	int n = children(out, 4);
	for (int i = 0; i < 200 && n != want; i++) {
		wait_ms(f, 10);
		n = children(out, 4);
	}
	return n;
}

/* Closes the log (its syncer goes with it), reopens it and reads room A
 * back: it must hold n records. */
static void assert_closed_with(struct fix *f, size_t n)
{
	pid_t kids[4];
	close_log(f);
	assert_int_equal(children(kids, 4), 0);
	reopen_log(f, 0);
	struct log_room *lr = open_room(f, ROOM_A, &f->b, 0, 0);
	assert_int_equal(f->b.n, n);
	log_room_free(lr);
}

/* log_free while the syncer may be syncing: the log is freed at once (ASan
 * reports any use after free), the syncer ends and is reaped, and the
 * records are on disk. */
static void test_log_free_while_a_sync_runs_loses_nothing(void **state)
{
	struct fix *f = *state;
	reopen_log(f, 1); /* sync at most every 1 ms */
	pid_t kids[4];
	assert_int_equal(children(kids, 4), 1); /* the syncer, from the start */
	struct log_room *lr = open_room(f, ROOM_A, &f->a, LOG_CREATE, 0);
	append_n(lr, 0, 3);
	log_flush(f->log);
	wait_ms(f, 5); /* ticks every 1 ms: a request goes out, and another */
	log_room_free(lr);               /* rooms go first, as in the hub */
	assert_closed_with(f, 3);
}

/* A syncer that dies is replaced at the next sync, which it then runs. */
static void test_a_killed_syncer_is_replaced(void **state)
{
	struct fix *f = *state;
	reopen_log(f, 5);
	struct log_room *lr = open_room(f, ROOM_A, &f->a, LOG_CREATE, 0);
	pid_t before[4], after[4];
	assert_int_equal(children(before, 4), 1);
	assert_int_equal(kill(before[0], SIGKILL), 0);
	/* the server notices and lets it go */
	assert_int_equal(wait_children(f, 0, after), 0);
	append_n(lr, 0, 2);
	log_flush(f->log);
	/* a sync: a new syncer */
	assert_int_equal(wait_children(f, 1, after), 1);
	assert_true(after[0] != before[0]);
	append_n(lr, 2, 4);
	log_flush(f->log);
	wait_ms(f, 30);
	assert_int_equal(children(after, 4), 1); /* the same one goes on */
	assert_int_equal(f->a.n, 4);
	log_room_free(lr);
	assert_closed_with(f, 4);
}

/* every test runs twice: with pwrite (fsync_ms 0) and with the mapped store */
#define T(name)                                                                            \
	cmocka_unit_test_setup_teardown(name, setup, teardown),                            \
		{#name " (mapped)", name, setup_mapped, teardown, NULL}

int main(void)
{
	getrlimit(RLIMIT_FSIZE, &fsize_limit);
	const struct CMUnitTest tests[] = {
		T(test_records_are_delivered_after_flush_in_seq_order),
		T(test_records_are_written_to_the_file_before_delivery),
		T(test_file_has_the_documented_record_layout),
		T(test_records_appended_during_delivery_come_later_in_order),
		T(test_append_before_load_is_unavailable),
		T(test_record_over_1_mib_is_refused),
		T(test_rooms_have_their_own_seq),
		T(test_log_sync_stores_and_delivers_what_is_pending),
		T(test_reload_replays_the_same_records),
		T(test_create_of_an_existing_room_is_forbidden),
		T(test_load_of_a_missing_room_is_not_found),
		T(test_room_id_that_is_not_base64url_is_refused),
		T(test_torn_tail_record_is_dropped_and_the_file_cut),
		T(test_tail_cut_inside_the_header_is_dropped),
		T(test_garbage_after_the_last_record_is_cut),
		T(test_corrupt_checksum_in_the_middle_ends_the_log_there),
		T(test_corrupt_seq_in_the_middle_ends_the_log_there),
		T(test_record_out_of_sequence_ends_the_log),
		T(test_zeros_after_the_last_record_are_cut),
		T(test_an_open_room_file_holds_every_delivered_record),
		T(test_a_quiet_room_gives_back_the_space_ahead),
		T(test_failed_write_reports_failed_and_reuses_the_seq),
		T(test_background_sync_of_many_rooms_keeps_them_writable),
		T(test_log_free_while_a_sync_runs_loses_nothing),
		T(test_a_killed_syncer_is_replaced),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
