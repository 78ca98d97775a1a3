/*
 * ulog.h — the server's log lines: one line per event worth logging, with
 * time (UTC, milliseconds) and level, on stderr.
 */
#ifndef PL_ULOG_H
#define PL_ULOG_H

enum ulog_level { ULOG_DEBUG, ULOG_INFO, ULOG_WARN, ULOG_ERROR };

extern enum ulog_level ulog_min;
/* Parses "debug", "info", "warn" or "error"; -1 if unknown. */
int ulog_parse(const char *s);
void ulog(enum ulog_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define ULOG_D(...) do { if (ulog_min <= ULOG_DEBUG) ulog(ULOG_DEBUG, __VA_ARGS__); } while (0)
#define ULOG_I(...) ulog(ULOG_INFO, __VA_ARGS__)
#define ULOG_W(...) ulog(ULOG_WARN, __VA_ARGS__)
#define ULOG_E(...) ulog(ULOG_ERROR, __VA_ARGS__)

#endif
