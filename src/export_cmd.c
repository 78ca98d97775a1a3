/*
 * export_cmd.c — transcripts outside the HTTP API:
 *
 *   potluckd export --room ID --format json|md|html|csv [--table T]
 *                   [--out FILE] [--data-dir DIR]
 *
 * reads the embedded log directory directly (no server needs to run) and
 * writes one transcript; and, when a session ends on a running server, the
 * JSON and Markdown transcripts are written into DIR/exports/ so that nothing
 * depends on someone clicking in time.
 */
#include "export_cmd.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include "export/export.h"
#include "hub/hub.h"
#include "util/err.h"
#include "util/ulog.h"

struct feed {
	struct export *x;
	uint64_t n;
	bool progress;
};

static void feed(void *ctx, uint64_t seq, int64_t ts, const struct room_cmd *c)
{
	struct feed *f = ctx;
	export_feed(f->x, seq, ts, c);
	if (f->progress && ++f->n % 10000 == 0)
		fprintf(stderr, "\rexport: %llu records", (unsigned long long)f->n);
}

/* Replays and renders a room; the caller frees out. */
static int render(struct log *log, const char *room, int format, int table, bool progress,
		  struct buf *out)
{
	struct feed f = {.x = export_new(), .progress = progress};
	if (!f.x)
		return PL_ENOMEM;
	int rc = hub_log_replay(log, room, 0, feed, &f);
	if (progress && f.n >= 10000)
		fprintf(stderr, "\rexport: %llu records, done\n", (unsigned long long)f.n);
	if (!rc && !export_room(f.x)->exists)
		rc = PL_ENOTFOUND;
	if (!rc)
		rc = export_render(f.x, (enum export_format)format, (enum export_table)table, out);
	export_free(f.x);
	return rc;
}

/* Writes atomically: a temporary file, then rename. */
static int write_file(const char *path, const struct buf *b)
{
	char tmp[4200];
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return PL_EIO;
	const uint8_t *p = buf_data(b);
	size_t n = b->len;
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			close(fd);
			unlink(tmp);
			return PL_EIO;
		}
		p += w;
		n -= (size_t)w;
	}
	if (fsync(fd) < 0 || close(fd) < 0 || rename(tmp, path) < 0) {
		unlink(tmp);
		return PL_EIO;
	}
	return 0;
}

void export_cmd_session_ended(struct log *log, const char *data_dir, const char *room)
{
	char dir[4096], path[4200];
	snprintf(dir, sizeof(dir), "%s/exports", data_dir);
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		ULOG_E("cannot create %s: %s", dir, strerror(errno));
		return;
	}
	static const int formats[] = {EXPORT_JSON, EXPORT_MD};
	for (int i = 0; i < 2; i++) {
		struct buf b;
		buf_init(&b);
		snprintf(path, sizeof(path), "%s/%s.%s", dir, room,
			 export_extension((enum export_format)formats[i]));
		int rc = render(log, room, formats[i], EXPORT_CONTRIBUTIONS, false, &b);
		if (!rc)
			rc = write_file(path, &b);
		if (rc)
			ULOG_E("room %s: transcript %s not written: %s", room, path, pl_err_msg(rc));
		else
			ULOG_I("room %s: session ended; transcript written to %s", room, path);
		buf_deinit(&b);
	}
}

static void usage(FILE *f)
{
	fprintf(f, "usage: potluckd export --room ID [--format json|md|html|csv]\n"
		   "                       [--table contributions|chat|turns|prompts]\n"
		   "                       [--out FILE] [--data-dir DIR | --redis URL]\n"
		   "\n"
		   "Writes a session's transcript from the embedded log or Redis (no server\n"
		   "needed). --data-dir defaults to $POTLUCK_DATA_DIR or ./data, --redis to\n"
		   "$POTLUCK_REDIS; --out to stdout.\n");
}

int export_cmd_main(int argc, char **argv)
{
	const char *room = NULL, *out = NULL, *dir = getenv("POTLUCK_DATA_DIR");
	const char *redis = getenv("POTLUCK_REDIS");
	int format = EXPORT_JSON, table = EXPORT_CONTRIBUTIONS;
	static const struct option opts[] = {
		{"room", required_argument, 0, 'r'},     {"format", required_argument, 0, 'f'},
		{"table", required_argument, 0, 't'},    {"out", required_argument, 0, 'o'},
		{"data-dir", required_argument, 0, 'd'}, {"help", no_argument, 0, 'h'},
		{"redis", required_argument, 0, 'R'},
		{0, 0, 0, 0},
	};
	int ch;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'r': room = optarg; break;
		case 'o': out = optarg; break;
		case 'd': dir = optarg; break;
		case 'R': redis = optarg; break;
		case 'f':
			if ((format = export_format_parse(optarg)) < 0) {
				fprintf(stderr, "potluckd export: unknown format %s\n", optarg);
				return 2;
			}
			break;
		case 't':
			if ((table = export_table_parse(optarg)) < 0) {
				fprintf(stderr, "potluckd export: unknown table %s\n", optarg);
				return 2;
			}
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!room) {
		usage(stderr);
		return 2;
	}
	uv_loop_t loop;
	uv_loop_init(&loop);
	struct log *log = redis && *redis ? log_redislog_new(&loop, redis)
				       : log_filelog_new(&loop, dir && *dir ? dir : "./data", 0);
	if (!log)
		return 1;
	struct buf b;
	buf_init(&b);
	int rc = render(log, room, format, table, true, &b);
	if (rc == 0 && out)
		rc = write_file(out, &b);
	else if (rc == 0 && fwrite(buf_data(&b), 1, b.len, stdout) != b.len)
		rc = PL_EIO;
	if (rc)
		fprintf(stderr, "potluckd export: %s: %s\n", room,
			rc == PL_ENOTFOUND ? "no such room in this data directory" : pl_err_msg(rc));
	buf_deinit(&b);
	log_free(log);
	uv_run(&loop, UV_RUN_DEFAULT);
	uv_loop_close(&loop);
	return rc ? 1 : 0;
}
