/*
 * text.h — UTF-8 checks, trimming, base64url and CRC-32C.
 *
 * Pure functions over byte views; nothing allocates.
 */
#ifndef PL_TEXT_H
#define PL_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Number of code points in s, or -1 if s is not valid UTF-8 (overlongs,
 * surrogates and values past U+10FFFF are invalid; NUL is valid UTF-8 and
 * counts: util_has_control is what refuses it). */
long util_utf8_len(const char *s, size_t n);
/* Trims ASCII and Unicode spaces at both ends; returns the new view. */
const char *util_trim(const char *s, size_t n, size_t *out_n);
/* True if valid UTF-8 s has a C0/C1 control or a line/paragraph separator. */
bool util_has_control(const char *s, size_t n);
/* Same, but tabs and newlines are allowed (chat text). */
bool util_has_control_but_space(const char *s, size_t n);

/* What util_text_scan finds in one pass over a text. */
struct util_text {
	size_t start, len; /* the text without spaces at either end (util_trim) */
	long chars;        /* its length in code points */
	bool control;      /* it holds a control character (util_has_control) */
};
/* Checks, trims and measures s in one pass: -1 if it is not valid UTF-8,
 * else 0 with *t filled; with allow_newlines, tabs and newlines are not
 * controls (util_has_control_but_space). */
int util_text_scan(const char *s, size_t n, bool allow_newlines, struct util_text *t);

/* base64url without padding; out needs 4 * ceil(n / 3) + 1 bytes. Returns the
 * length written (NUL not counted). */
size_t util_b64url(const uint8_t *in, size_t n, char *out);
/* True if s is n characters of the base64url alphabet. */
bool util_is_b64url(const char *s, size_t n);

/* CRC-32C (Castagnoli) of p, continuing crc (0 to start). */
uint32_t util_crc32c(uint32_t crc, const void *p, size_t n);
uint32_t util__crc32c_sw(uint32_t crc, const void *p, size_t n); /* tests */

#endif
