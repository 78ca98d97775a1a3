#include "util/text.h"

#include <string.h>

/* Decodes one code point; returns its length, or 0 if invalid. */
static size_t utf8_next(const unsigned char *s, size_t n, uint32_t *cp)
{
	unsigned c = s[0];
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	size_t len;
	uint32_t min;
	if ((c & 0xe0) == 0xc0) {
		len = 2, min = 0x80, *cp = c & 0x1f;
	} else if ((c & 0xf0) == 0xe0) {
		len = 3, min = 0x800, *cp = c & 0x0f;
	} else if ((c & 0xf8) == 0xf0) {
		len = 4, min = 0x10000, *cp = c & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		*cp = (*cp << 6) | (s[i] & 0x3f);
	}
	if (*cp < min || *cp > 0x10ffff || (*cp >= 0xd800 && *cp <= 0xdfff))
		return 0;
	return len;
}

long util_utf8_len(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	long count = 0;
	size_t i = 0;
	while (i < n) {
		uint32_t cp;
		uint64_t w;
		if (n - i >= 8 && (memcpy(&w, p + i, 8), !(w & 0x8080808080808080ull))) {
			i += 8, count += 8; /* eight ASCII bytes */
			continue;
		}
		if (p[i] < 0x80) { /* fast path */
			i++, count++;
			continue;
		}
		size_t l = utf8_next(p + i, n - i, &cp);
		if (!l)
			return -1;
		i += l, count++;
	}
	return count;
}

static inline bool is_space(uint32_t cp)
{
	if (cp < 0x80)
		return cp == ' ' || (cp >= 0x09 && cp <= 0x0d);
	return cp == 0x85 || cp == 0xa0 ||
	       cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200b) || cp == 0x2028 ||
	       cp == 0x2029 || cp == 0x202f || cp == 0x205f || cp == 0x3000 || cp == 0xfeff;
}

const char *util_trim(const char *s, size_t n, size_t *out_n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, end = 0;
	const char *start = NULL;
	while (i < n) {
		uint32_t cp;
		size_t l = utf8_next(p + i, n - i, &cp);
		if (!l)
			l = 1, cp = 0;
		if (!is_space(cp)) {
			if (!start)
				start = s + i;
			end = i + l;
		}
		i += l;
	}
	if (!start) {
		*out_n = 0;
		return s;
	}
	*out_n = (size_t)(s + end - start);
	return start;
}

static bool is_control(uint32_t cp, bool allow_space)
{
	if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0) || cp == 0x2028 || cp == 0x2029)
		return !(allow_space && (cp == '\t' || cp == '\n'));
	return false;
}

/* The end of the run of space and visible ASCII (0x20..0x7e) from p[i]:
 * eight bytes at a time while a whole word is in that range, then byte by
 * byte. In the test below, a byte under 0x20 sets its high bit in x - 0x20
 * (or borrows from one that does), one of 0x7f and up in x + 1 or in x
 * (or carries from one that does): so any flagged bit means such a byte. */
static size_t ascii_run(const unsigned char *p, size_t i, size_t n)
{
	const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
	for (; i + 8 <= n; i += 8) {
		uint64_t x;
		memcpy(&x, p + i, 8);
		if (((x - 0x20 * ones) | x | (x + ones)) & highs)
			break;
	}
	while (i < n && p[i] >= ' ' && p[i] < 0x7f)
		i++;
	return i;
}

int util_text_scan(const char *s, size_t n, bool allow_newlines, struct util_text *t)
{
	const unsigned char *p = (const unsigned char *)s;
	long chars = 0, first = 0, last = 0;
	bool inner_space_control = false; /* a control among spaces after the start */
	*t = (struct util_text){0};
	for (size_t i = 0; i < n;) {
		uint32_t cp = p[i];
		size_t l = 1;
		if (cp >= ' ' && cp < 0x7f) { /* a run of plain ASCII, the usual case */
			size_t j = ascii_run(p, i + 1, n), a = i, b = j;
			while (a < j && p[a] == ' ') /* spaces are not part of the ends */
				a++;
			if (a < j) {
				while (p[b - 1] == ' ')
					b--;
				if (!t->len) {
					t->start = a;
					first = chars + (long)(a - i);
				}
				t->control |= inner_space_control;
				t->len = b - t->start;
				last = chars + (long)(b - i);
			}
			chars += (long)(j - i);
			i = j;
			continue;
		}
		if (cp >= 0x80 && !(l = utf8_next(p + i, n - i, &cp)))
			return -1;
		chars++;
		bool ctrl = is_control(cp, allow_newlines);
		if (is_space(cp)) {
			/* a control between two non-spaces stays in the trimmed text */
			inner_space_control |= ctrl && t->len;
		} else {
			if (!t->len) {
				t->start = i;
				first = chars - 1;
			}
			t->control |= ctrl || inner_space_control;
			t->len = i + l - t->start;
			last = chars;
		}
		i += l;
	}
	t->chars = last - first;
	return 0;
}

static bool has_control(const char *s, size_t n, bool allow_space)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	while (i < n) {
		uint32_t cp;
		size_t l = utf8_next(p + i, n - i, &cp);
		if (!l)
			return true;
		if (is_control(cp, allow_space))
			return true;
		i += l;
	}
	return false;
}

bool util_has_control(const char *s, size_t n)
{
	return has_control(s, n, false);
}

bool util_has_control_but_space(const char *s, size_t n)
{
	return has_control(s, n, true);
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t util_b64url(const uint8_t *in, size_t n, char *out)
{
	size_t o = 0, i = 0;
	for (; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		out[o++] = b64[v >> 18];
		out[o++] = b64[(v >> 12) & 63];
		out[o++] = b64[(v >> 6) & 63];
		out[o++] = b64[v & 63];
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)in[i] << 16;
		out[o++] = b64[v >> 18];
		out[o++] = b64[(v >> 12) & 63];
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		out[o++] = b64[v >> 18];
		out[o++] = b64[(v >> 12) & 63];
		out[o++] = b64[(v >> 6) & 63];
	}
	out[o] = '\0';
	return o;
}

bool util_is_b64url(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!s[i] || !memchr(b64, s[i], 64))
			return false;
	return true;
}

/* Castagnoli polynomial, reflected, one table built on first use. */
static uint32_t crc_table[256];

/* Byte at a time, from a table (Castagnoli, reflected). */
uint32_t util__crc32c_sw(uint32_t crc, const void *p, size_t n)
{
	if (!crc_table[1]) {
		for (uint32_t i = 0; i < 256; i++) {
			uint32_t c = i;
			for (int k = 0; k < 8; k++)
				c = c & 1 ? (c >> 1) ^ 0x82f63b78u : c >> 1;
			crc_table[i] = c;
		}
	}
	const uint8_t *b = p;
	crc = ~crc;
	while (n--)
		crc = crc_table[(crc ^ *b++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

#if defined(__x86_64__)
/* SSE 4.2 has the same CRC as an instruction, eight bytes at a time: a log
 * record costs tens of instructions instead of over a thousand. */
__attribute__((target("sse4.2"))) static uint32_t crc32c_hw(uint32_t crc, const void *p,
							     size_t n)
{
	const uint8_t *b = p;
	uint64_t c = ~crc;
	for (; n >= 8; n -= 8, b += 8) {
		uint64_t w;
		memcpy(&w, b, 8);
		c = __builtin_ia32_crc32di(c, w);
	}
	uint32_t c32 = (uint32_t)c;
	while (n--)
		c32 = __builtin_ia32_crc32qi(c32, *b++);
	return ~c32;
}
#endif

uint32_t util_crc32c(uint32_t crc, const void *p, size_t n)
{
#if defined(__x86_64__)
	if (__builtin_cpu_supports("sse4.2")) /* a flag libgcc read at start-up */
		return crc32c_hw(crc, p, n);
#endif
	return util__crc32c_sw(crc, p, n);
}
