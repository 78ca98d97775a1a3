/*
 * test_util.c — util/: text (UTF-8, trimming, controls, base64url, CRC-32C),
 * map, buf, frame and err.
 *
 * These are the building blocks every other module trusts with input from
 * the network, so the UTF-8 checks are exercised at every boundary that
 * RFC 3629 draws (overlongs, surrogates, past U+10FFFF, truncation) and the
 * map is checked against a plain reference model through thousands of random
 * operations, with its own invariant (every key reachable from its home slot
 * without crossing an empty slot) verified after each deletion.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/err.h"
#include "util/frame.h"
#include "util/map.h"
#include "util/text.h"

/* ---- UTF-8 ------------------------------------------------------------- */

#define U8LEN(lit) util_utf8_len(lit, sizeof(lit) - 1)

static void test_utf8_len_counts_code_points_not_bytes(void **state)
{
	(void)state;
	assert_int_equal(U8LEN(""), 0);
	assert_int_equal(U8LEN("Ada"), 3);
	assert_int_equal(U8LEN("Zo\xc3\xab \xf0\x9f\x8d\xb2"), 5); /* "Zoë 🍲" */
	assert_int_equal(U8LEN("\xe2\x82\xac"), 1);                /* € */
	assert_int_equal(U8LEN("\xe6\x97\xa5\xe6\x9c\xac"), 2);    /* 日本 */
}

static void test_utf8_len_accepts_every_boundary_code_point(void **state)
{
	(void)state;
	assert_int_equal(U8LEN("\x01"), 1);             /* U+0001 */
	assert_int_equal(U8LEN("\x7f"), 1);             /* U+007F */
	assert_int_equal(U8LEN("\xc2\x80"), 1);         /* U+0080 */
	assert_int_equal(U8LEN("\xdf\xbf"), 1);         /* U+07FF */
	assert_int_equal(U8LEN("\xe0\xa0\x80"), 1);     /* U+0800 */
	assert_int_equal(U8LEN("\xed\x9f\xbf"), 1);     /* U+D7FF, just below the surrogates */
	assert_int_equal(U8LEN("\xee\x80\x80"), 1);     /* U+E000, just above them */
	assert_int_equal(U8LEN("\xef\xbf\xbf"), 1);     /* U+FFFF */
	assert_int_equal(U8LEN("\xf0\x90\x80\x80"), 1); /* U+10000 */
	assert_int_equal(U8LEN("\xf4\x8f\xbf\xbf"), 1); /* U+10FFFF, the last one */
}

static void test_utf8_len_rejects_invalid_sequences(void **state)
{
	(void)state;
	assert_int_equal(U8LEN("\x80"), -1);             /* lone continuation byte */
	assert_int_equal(U8LEN("a\xbf"), -1);
	assert_int_equal(U8LEN("\xc3"), -1);             /* truncated 2-byte */
	assert_int_equal(U8LEN("\xe2\x82"), -1);         /* truncated 3-byte */
	assert_int_equal(U8LEN("\xf0\x9f\x8d"), -1);     /* truncated 4-byte */
	assert_int_equal(U8LEN("\xc3" "a"), -1);         /* continuation missing */
	assert_int_equal(U8LEN("\xe2\x28\xa1"), -1);
	assert_int_equal(U8LEN("\xf8\x88\x80\x80\x80"), -1); /* 5-byte form */
	assert_int_equal(U8LEN("\xfc\x84\x80\x80\x80\x80"), -1);
	assert_int_equal(U8LEN("\xfe"), -1);
	assert_int_equal(U8LEN("\xff"), -1);
	assert_int_equal(U8LEN("ok\xff"), -1);           /* invalid after valid text */
}

static void test_utf8_len_rejects_overlong_forms(void **state)
{
	(void)state;
	assert_int_equal(U8LEN("\xc0\xaf"), -1);         /* '/' in 2 bytes */
	assert_int_equal(U8LEN("\xc1\xbf"), -1);         /* U+007F in 2 bytes */
	assert_int_equal(U8LEN("\xe0\x80\xaf"), -1);     /* '/' in 3 bytes */
	assert_int_equal(U8LEN("\xe0\x9f\xbf"), -1);     /* U+07FF in 3 bytes */
	assert_int_equal(U8LEN("\xf0\x80\x80\xaf"), -1); /* '/' in 4 bytes */
	assert_int_equal(U8LEN("\xf0\x8f\xbf\xbf"), -1); /* U+FFFF in 4 bytes */
}

static void test_utf8_len_rejects_surrogates(void **state)
{
	(void)state;
	assert_int_equal(U8LEN("\xed\xa0\x80"), -1); /* U+D800 */
	assert_int_equal(U8LEN("\xed\xad\xbf"), -1); /* U+DB7F */
	assert_int_equal(U8LEN("\xed\xb0\x80"), -1); /* U+DC00 */
	assert_int_equal(U8LEN("\xed\xbf\xbf"), -1); /* U+DFFF */
	/* a CESU-8 pair for U+1F372 */
	assert_int_equal(U8LEN("\xed\xa0\xbc\xed\xbd\xb2"), -1);
}

static void test_utf8_len_rejects_code_points_past_10ffff(void **state)
{
	(void)state;
	assert_int_equal(U8LEN("\xf4\x90\x80\x80"), -1); /* U+110000 */
	assert_int_equal(U8LEN("\xf5\x80\x80\x80"), -1);
	assert_int_equal(U8LEN("\xf7\xbf\xbf\xbf"), -1);
}

/* NUL is valid UTF-8 and counts as a character; it is a control, so names
 * and chat refuse it through util_has_control. */
static void test_utf8_len_counts_nul_and_has_control_refuses_it(void **state)
{
	(void)state;
	assert_int_equal(util_utf8_len("\0", 1), 1);
	assert_int_equal(util_utf8_len("a\0b", 3), 3);
	assert_int_equal(util_utf8_len("\0\xc3\xa9", 3), 2);
	assert_int_equal(U8LEN("\xc0\x80"), -1); /* "modified UTF-8" NUL is an overlong */
	assert_true(util_has_control("a\0b", 3));
	assert_true(util_has_control_but_space("a\0b", 3));
	size_t n;
	const char *t = util_trim(" \0 ", 3, &n);
	assert_int_equal(n, 1); /* NUL is no space: trimming keeps it */
	assert_int_equal(t[0], '\0');
}

static void test_utf8_len_reads_only_n_bytes(void **state)
{
	(void)state;
	/* an exact-size heap copy: a read past n is caught by ASan */
	static const char s[] = "\xe2\x82\xac";
	char *p = malloc(2);
	memcpy(p, s, 2);
	assert_int_equal(util_utf8_len(p, 2), -1);
	free(p);
	assert_int_equal(util_utf8_len("abc", 2), 2);
}

/* ---- trim -------------------------------------------------------------- */

static void assert_trim(const char *in, size_t n, const char *want)
{
	size_t out_n = 12345;
	const char *out = util_trim(in, n, &out_n);
	assert_int_equal(out_n, strlen(want));
	if (out_n) {
		assert_memory_equal(out, want, out_n);
		assert_true(out >= in && out + out_n <= in + n); /* a view into the input */
	}
}

#define TRIM(lit, want) assert_trim(lit, sizeof(lit) - 1, want)

static void test_trim_removes_ascii_space_at_both_ends_only(void **state)
{
	(void)state;
	TRIM("abc", "abc");
	TRIM("  abc  ", "abc");
	TRIM("\t\n\r\v\f abc \r\n", "abc");
	TRIM(" a  b ", "a  b");
	TRIM("a", "a");
}

static void test_trim_removes_unicode_spaces(void **state)
{
	(void)state;
	TRIM("\xc2\xa0x\xc2\xa0", "x");                 /* U+00A0 no-break space */
	TRIM("\xe3\x80\x80x\xe3\x80\x80", "x");         /* U+3000 ideographic space */
	TRIM("\xe2\x80\x83x\xe2\x80\xaf", "x");         /* U+2003, U+202F */
	TRIM("\xef\xbb\xbfx", "x");                     /* U+FEFF BOM */
	TRIM("x\xe3\x80\x80y", "x\xe3\x80\x80y");       /* kept inside */
	TRIM("\xc3\xa9", "\xc3\xa9");                   /* é is not a space */
}

static void test_trim_of_only_spaces_is_empty(void **state)
{
	(void)state;
	size_t n = 99;
	util_trim("", 0, &n);
	assert_int_equal(n, 0);
	n = 99;
	util_trim("   \t\n", 5, &n);
	assert_int_equal(n, 0);
	n = 99;
	util_trim("\xe3\x80\x80 \xc2\xa0", 6, &n);
	assert_int_equal(n, 0);
}

/* ---- control characters ------------------------------------------------ */

#define CTRL(lit) util_has_control(lit, sizeof(lit) - 1)
#define CTRL_BUT_SPACE(lit) util_has_control_but_space(lit, sizeof(lit) - 1)

static void test_has_control_finds_c0_c1_del_and_separators(void **state)
{
	(void)state;
	assert_false(CTRL(""));
	assert_false(CTRL("Grace Hopper"));
	assert_false(CTRL("Zo\xc3\xab \xf0\x9f\x8d\xb2"));
	assert_true(CTRL("a\x01" "b"));
	assert_true(CTRL("a\x1b[31m"));    /* ESC */
	assert_true(CTRL("a\x7f"));        /* DEL */
	assert_true(CTRL("a\xc2\x85"));    /* U+0085 NEL (C1) */
	assert_true(CTRL("a\xc2\x9f"));    /* U+009F (C1) */
	assert_false(CTRL("a\xc2\xa0"));   /* U+00A0 is not a control */
	assert_true(CTRL("a\xe2\x80\xa8")); /* U+2028 line separator */
	assert_true(CTRL("a\xe2\x80\xa9")); /* U+2029 paragraph separator */
	assert_true(CTRL("a\tb"));
	assert_true(CTRL("a\nb"));
	assert_true(CTRL("a\rb"));
}

static void test_has_control_but_space_allows_tab_and_newline_only(void **state)
{
	(void)state;
	assert_false(CTRL_BUT_SPACE("line one\nline two\tcol"));
	assert_true(CTRL_BUT_SPACE("a\rb"));
	assert_true(CTRL_BUT_SPACE("a\x01"));
	assert_true(CTRL_BUT_SPACE("a\x7f"));
	assert_true(CTRL_BUT_SPACE("a\xc2\x85"));
	assert_true(CTRL_BUT_SPACE("a\xe2\x80\xa8"));
	assert_true(CTRL_BUT_SPACE("a\v"));
}

/* ---- base64url --------------------------------------------------------- */

static void assert_b64url(const char *in, const char *want)
{
	char out[64];
	memset(out, 'Z', sizeof(out));
	size_t n = util_b64url((const uint8_t *)in, strlen(in), out);
	assert_int_equal(n, strlen(want));
	assert_string_equal(out, want);
}

/* util_text_scan does in one pass what util_utf8_len, util_trim and
 * util_has_control do in four: on random texts made of ASCII, spaces,
 * controls, separators, multi-byte letters and invalid bytes, it agrees with
 * them every time. */
static void test_text_scan_agrees_with_the_separate_checks(void **state)
{
	(void)state;
	static const char *const atoms[] = {
		"a", "Z", " ", "\t", "\n", "\r", "\v", "\0", "\x1b", "\x7f",
		"\xc2\x85", "\xc2\xa0", "\xc3\xa9", "\xe2\x80\xa8", "\xe2\x80\xa9",
		"\xe3\x80\x80", "\xf0\x9f\x8d\x95", "\xe2\x80\x83", "\x80", "\xc3",
		"12345678", "!~", "\x20\x21", "\x7e\x7f",
		"a b c d e f g h", "        ", "Lunch and learn: ", "0123456789abcdef~",
	};
	const size_t natoms = sizeof(atoms) / sizeof(atoms[0]);
	uint64_t x = 0x9e3779b97f4a7c15ull;
	for (int round = 0; round < 20000; round++) {
		char s[256];
		size_t n = 0;
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		unsigned parts = (unsigned)(x % 12);
		for (unsigned i = 0; i < parts; i++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			const char *a = atoms[x % natoms];
			size_t l = strcmp(a, "\0") ? strlen(a) : 1;
			memcpy(s + n, a, l);
			n += l;
		}
		char *heap = malloc(n ? n : 1); /* exact size: ASan sees a read past n */
		memcpy(heap, s, n);
		for (int nl = 0; nl < 2; nl++) {
			struct util_text t;
			int rc = util_text_scan(heap, n, nl, &t);
			if (util_utf8_len(heap, n) < 0) {
				assert_int_equal(rc, -1);
				continue;
			}
			assert_int_equal(rc, 0);
			size_t tn;
			const char *tp = util_trim(heap, n, &tn);
			assert_int_equal(t.len, tn);
			if (tn)
				assert_ptr_equal(heap + t.start, tp);
			assert_int_equal(t.chars, util_utf8_len(tp, tn));
			assert_int_equal(t.control, nl ? util_has_control_but_space(tp, tn)
						       : util_has_control(tp, tn));
		}
		free(heap);
	}
}

static void test_b64url_matches_rfc4648_vectors_without_padding(void **state)
{
	(void)state;
	assert_b64url("", "");
	assert_b64url("f", "Zg");
	assert_b64url("fo", "Zm8");
	assert_b64url("foo", "Zm9v");
	assert_b64url("foob", "Zm9vYg");
	assert_b64url("fooba", "Zm9vYmE");
	assert_b64url("foobar", "Zm9vYmFy");
}

static void test_b64url_uses_the_url_alphabet(void **state)
{
	(void)state;
	const uint8_t in[] = {0xfb, 0xff, 0xbf};
	char out[8];
	assert_int_equal(util_b64url(in, 3, out), 4);
	assert_string_equal(out, "-_-_");
	const uint8_t in2[] = {0xfb, 0xff};
	assert_int_equal(util_b64url(in2, 2, out), 3);
	assert_string_equal(out, "-_8");
	/* 12 random bytes make a 16-character room id */
	uint8_t id[12];
	for (int i = 0; i < 12; i++)
		id[i] = (uint8_t)(i * 37 + 11);
	char s[17];
	assert_int_equal(util_b64url(id, 12, s), 16);
	assert_true(util_is_b64url(s, 16));
}

static void test_is_b64url_accepts_only_the_url_alphabet(void **state)
{
	(void)state;
	assert_true(util_is_b64url("q3Xv9LmZ0aB-_k2T", 16));
	assert_true(util_is_b64url("", 0));
	assert_false(util_is_b64url("../x", 4));
	assert_false(util_is_b64url("a/b", 3));
	assert_false(util_is_b64url("a+b", 3));
	assert_false(util_is_b64url("ab==", 4));
	assert_false(util_is_b64url("a b", 3));
	assert_false(util_is_b64url("a\0b", 3));
	assert_false(util_is_b64url("\xc3\xa9", 2));
	assert_true(util_is_b64url("ab/", 2)); /* only n bytes are looked at */
}

/* ---- CRC-32C ----------------------------------------------------------- */

static void test_crc32c_known_vector(void **state)
{
	(void)state;
	assert_int_equal(util_crc32c(0, "123456789", 9), 0xE3069283u);
	assert_int_equal(util_crc32c(0, "", 0), 0);
	/* RFC 3720 B.4: 32 bytes of zeros, and of 0xff */
	uint8_t z[32] = {0}, f[32];
	memset(f, 0xff, sizeof(f));
	assert_int_equal(util_crc32c(0, z, 32), 0x8A9136AAu);
	assert_int_equal(util_crc32c(0, f, 32), 0x62A8AB43u);
}

/* The CPU's CRC instruction (where there is one) and the table agree on
 * every length and alignment. */
static void test_crc32c_agrees_with_the_table(void **state)
{
	(void)state;
	uint8_t buf[300];
	uint64_t x = 0x2545f4914f6cdd1dull;
	for (size_t i = 0; i < sizeof(buf); i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		buf[i] = (uint8_t)x;
	}
	for (size_t off = 0; off < 9; off++)
		for (size_t n = 0; n + off <= sizeof(buf); n += 7)
			assert_int_equal(util_crc32c(0x1234u, buf + off, n),
					 util__crc32c_sw(0x1234u, buf + off, n));
}

static void test_crc32c_can_be_computed_in_pieces(void **state)
{
	(void)state;
	const char *s = "123456789";
	for (size_t cut = 0; cut <= 9; cut++)
		assert_int_equal(util_crc32c(util_crc32c(0, s, cut), s + cut, 9 - cut), 0xE3069283u);
}

/* ---- map --------------------------------------------------------------- */

/* The home slot of a key in a map of capacity cap, learnt from the map itself
 * (slot->hash), so the test does not depend on the hash function. */
static size_t home_of(const char *key, size_t cap)
{
	struct map m;
	map_init(&m);
	assert_int_equal(map_put(&m, key, NULL), 0);
	size_t h = 0;
	map_each(&m, s) h = s->hash;
	map_deinit(&m);
	return h & (cap - 1);
}

/* Every stored key is found from its home slot without crossing an empty
 * slot (what backward-shift deletion must preserve); len is right. */
static void assert_map_invariants(const struct map *m)
{
	size_t n = 0;
	for (size_t i = 0; i < m->cap; i++) {
		const struct map_slot *s = &m->slots[i];
		if (!s->key)
			continue;
		n++;
		for (size_t j = s->hash & (m->cap - 1); j != i; j = (j + 1) & (m->cap - 1))
			assert_non_null(m->slots[j].key);
	}
	assert_int_equal(n, m->len);
	assert_true(m->cap == 0 || m->len * 10 <= m->cap * 7);
}

static void test_map_put_get_replace_del(void **state)
{
	(void)state;
	struct map m;
	int a, b, c;
	map_init(&m);
	assert_null(map_get(&m, "x"));
	assert_null(map_del(&m, "x"));
	assert_int_equal(map_put(&m, "x", &a), 0);
	assert_int_equal(map_put(&m, "y", &b), 0);
	assert_ptr_equal(map_get(&m, "x"), &a);
	assert_ptr_equal(map_get(&m, "y"), &b);
	assert_int_equal(m.len, 2);
	assert_int_equal(map_put(&m, "x", &c), 0); /* replace */
	assert_ptr_equal(map_get(&m, "x"), &c);
	assert_int_equal(m.len, 2);
	assert_ptr_equal(map_del(&m, "x"), &c);
	assert_null(map_get(&m, "x"));
	assert_null(map_del(&m, "x"));
	assert_ptr_equal(map_get(&m, "y"), &b);
	assert_int_equal(m.len, 1);
	map_deinit(&m);
	assert_int_equal(m.len, 0);
}

static void test_map_copies_keys(void **state)
{
	(void)state;
	struct map m;
	int a;
	char key[8] = "room";
	map_init(&m);
	assert_int_equal(map_put(&m, key, &a), 0);
	strcpy(key, "other");
	assert_ptr_equal(map_get(&m, "room"), &a);
	assert_null(map_get(&m, "other"));
	map_deinit(&m);
}

static void test_map_many_keys_grow_and_stay_reachable(void **state)
{
	(void)state;
	enum { N = 5000 };
	static int vals[N];
	struct map m;
	char key[32];
	map_init(&m);
	for (int i = 0; i < N; i++) {
		snprintf(key, sizeof(key), "room-%d", i);
		assert_int_equal(map_put(&m, key, &vals[i]), 0);
	}
	assert_int_equal(m.len, N);
	assert_map_invariants(&m);
	for (int i = 0; i < N; i++) {
		snprintf(key, sizeof(key), "room-%d", i);
		assert_ptr_equal(map_get(&m, key), &vals[i]);
	}
	size_t seen = 0;
	map_each(&m, s) seen++;
	assert_int_equal(seen, N);
	/* delete two thirds, checking the rest after each step of the way */
	for (int i = 0; i < N; i++) {
		if (i % 3 == 0)
			continue;
		snprintf(key, sizeof(key), "room-%d", i);
		assert_ptr_equal(map_del(&m, key), &vals[i]);
	}
	assert_map_invariants(&m);
	for (int i = 0; i < N; i++) {
		snprintf(key, sizeof(key), "room-%d", i);
		if (i % 3 == 0)
			assert_ptr_equal(map_get(&m, key), &vals[i]);
		else
			assert_null(map_get(&m, key));
	}
	map_deinit(&m);
}

static void test_map_delete_shifts_a_probe_run_back(void **state)
{
	(void)state;
	/* Collect keys whose home is slot 14 of a 16-slot map, plus one whose
	 * home is 15 and one whose home is 0: their run wraps around the end. */
	char k14[3][16], k15[16], k0[16];
	int n14 = 0;
	bool have15 = false, have0 = false;
	for (int i = 0; n14 < 3 || !have15 || !have0; i++) {
		char key[16];
		snprintf(key, sizeof(key), "k%d", i);
		size_t h = home_of(key, 16);
		if (h == 14 && n14 < 3)
			strcpy(k14[n14++], key);
		else if (h == 15 && !have15)
			strcpy(k15, key), have15 = true;
		else if (h == 0 && !have0)
			strcpy(k0, key), have0 = true;
		assert_true(i < 100000);
	}
	/* 5 keys stay under the 70 % growth threshold of 16 slots */
	int v[5];
	const char *keys[5] = {k14[0], k14[1], k15, k14[2], k0};
	for (int first = 0; first < 5; first++) {
		struct map m;
		map_init(&m);
		for (int i = 0; i < 5; i++)
			assert_int_equal(map_put(&m, keys[i], &v[i]), 0);
		assert_int_equal(m.cap, 16);
		assert_map_invariants(&m);
		/* delete each key first in turn, then the rest in order */
		for (int d = 0; d < 5; d++) {
			int i = (first + d) % 5;
			assert_ptr_equal(map_del(&m, keys[i]), &v[i]);
			assert_map_invariants(&m);
			for (int e = d + 1; e < 5; e++) {
				int j = (first + e) % 5;
				assert_ptr_equal(map_get(&m, keys[j]), &v[j]);
			}
		}
		assert_int_equal(m.len, 0);
		for (size_t i = 0; i < m.cap; i++)
			assert_null(m.slots[i].key);
		map_deinit(&m);
	}
}

static uint64_t rng_next(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x >> 12, x ^= x << 25, x ^= x >> 27;
	*s = x;
	return x * 0x2545F4914F6CDD1Dull;
}

static void test_map_matches_a_reference_model_under_random_operations(void **state)
{
	(void)state;
	enum { KEYS = 300, OPS = 20000 };
	static int vals[KEYS];
	bool in[KEYS] = {false};
	struct map m;
	uint64_t seed = 0x5eed;
	char key[16];
	map_init(&m);
	for (int op = 0; op < OPS; op++) {
		int k = (int)(rng_next(&seed) % KEYS);
		snprintf(key, sizeof(key), "%d", k);
		if (rng_next(&seed) % 2) {
			assert_int_equal(map_put(&m, key, &vals[k]), 0);
			in[k] = true;
		} else {
			void *got = map_del(&m, key);
			assert_ptr_equal(got, in[k] ? &vals[k] : NULL);
			in[k] = false;
		}
		if (op % 97 == 0) {
			assert_map_invariants(&m);
			for (int j = 0; j < KEYS; j++) {
				snprintf(key, sizeof(key), "%d", j);
				assert_ptr_equal(map_get(&m, key), in[j] ? &vals[j] : NULL);
			}
		}
	}
	map_deinit(&m);
}

/* ---- buf --------------------------------------------------------------- */

static void test_buf_append_grows_and_keeps_contents(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b);
	assert_null(buf_data(&b));
	assert_int_equal(buf_append(&b, "", 0), 0);
	assert_int_equal(b.len, 0);
	uint8_t chunk[1000];
	for (int i = 0; i < 100; i++) {
		memset(chunk, i, sizeof(chunk));
		assert_int_equal(buf_append(&b, chunk, sizeof(chunk)), 0);
	}
	assert_int_equal(b.len, 100000);
	assert_true(b.cap >= b.len);
	for (int i = 0; i < 100; i++)
		assert_int_equal(buf_data(&b)[i * 1000 + 999], i);
	buf_reset(&b);
	assert_int_equal(b.len, 0);
	buf_deinit(&b);
	assert_null(b.mem);
}

static void test_buf_reserve_makes_room_without_changing_len(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b);
	assert_int_equal(buf_append(&b, "abc", 3), 0);
	assert_int_equal(buf_reserve(&b, 5000), 0);
	assert_true(b.cap >= 5003);
	assert_int_equal(b.len, 3);
	assert_memory_equal(buf_data(&b), "abc", 3);
	buf_deinit(&b);
}

static void test_buf_headroom_sits_in_front_of_the_data(void **state)
{
	(void)state;
	struct buf b;
	buf_init_head(&b, FRAME_HEADROOM);
	assert_int_equal(buf_append(&b, "payload", 7), 0);
	assert_ptr_equal(buf_data(&b), b.mem + FRAME_HEADROOM);
	assert_true(b.cap >= FRAME_HEADROOM + 7);
	assert_memory_equal(buf_data(&b), "payload", 7);
	buf_deinit(&b);
}

static void test_buf_init_cap_allocates_once_for_what_fits(void **state)
{
	(void)state;
	struct buf b;
	buf_init_cap(&b, 8, 64);
	assert_non_null(b.mem);
	assert_int_equal(b.cap, 64);
	assert_int_equal(b.len, 0);
	uint8_t *first = b.mem;
	uint8_t bytes[57];
	memset(bytes, 'x', sizeof(bytes));
	assert_int_equal(buf_append(&b, bytes, 56), 0); /* 8 + 56 = 64: fits */
	assert_ptr_equal(b.mem, first);
	assert_int_equal(b.cap, 64);
	assert_int_equal(buf_append(&b, bytes, 1), 0); /* one more grows it */
	assert_true(b.cap > 64);
	assert_int_equal(b.len, 57);
	assert_memory_equal(buf_data(&b), bytes, 57);
	buf_deinit(&b);
	buf_init_cap(&b, 8, 8); /* no room past the headroom: nothing allocated */
	assert_null(b.mem);
	assert_int_equal(b.cap, 0);
	assert_int_equal(buf_append(&b, bytes, 3), 0);
	assert_memory_equal(buf_data(&b), bytes, 3);
	buf_deinit(&b);
}

static void test_buf_consume_drops_leading_bytes(void **state)
{
	(void)state;
	struct buf b;
	buf_init_head(&b, 4);
	assert_int_equal(buf_append(&b, "abcdef", 6), 0);
	buf_consume(&b, 2);
	assert_int_equal(b.len, 4);
	assert_memory_equal(buf_data(&b), "cdef", 4);
	buf_consume(&b, 0);
	assert_int_equal(b.len, 4);
	buf_consume(&b, 100);
	assert_int_equal(b.len, 0);
	assert_int_equal(buf_append(&b, "x", 1), 0);
	assert_memory_equal(buf_data(&b), "x", 1);
	buf_deinit(&b);
}

/* ---- frame ------------------------------------------------------------- */

static struct frame *make_frame(size_t n, uint64_t seq)
{
	struct buf b;
	buf_init_head(&b, FRAME_HEADROOM);
	uint8_t *p = malloc(n);
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(i * 7);
	assert_int_equal(buf_append(&b, p, n), 0);
	free(p);
	struct frame *f = frame_from_buf(&b, seq);
	assert_non_null(f);
	assert_null(b.mem); /* the frame took the memory */
	return f;
}

static void assert_frame_payload(const struct frame *f, size_t n)
{
	size_t len = 0;
	const uint8_t *p = frame_payload(f, &len);
	assert_int_equal(len, n);
	for (size_t i = 0; i < n; i++)
		if (p[i] != (uint8_t)(i * 7))
			fail_msg("payload byte %zu is %u", i, p[i]);
}

static void test_frame_header_for_10_bytes_is_2_bytes(void **state)
{
	(void)state;
	struct frame *f = make_frame(10, 3);
	assert_int_equal(f->len, 12);
	assert_int_equal(f->data[0], 0x82); /* FIN, binary, unmasked */
	assert_int_equal(f->data[1], 10);
	assert_int_equal(f->seq, 3);
	assert_int_equal(f->refs, 1);
	assert_frame_payload(f, 10);
	frame_unref(f);
}

static void test_frame_header_for_200_bytes_is_4_bytes(void **state)
{
	(void)state;
	struct frame *f = make_frame(200, 0);
	assert_int_equal(f->len, 204);
	assert_int_equal(f->data[0], 0x82);
	assert_int_equal(f->data[1], 126);
	assert_int_equal(f->data[2], 0);
	assert_int_equal(f->data[3], 200);
	assert_frame_payload(f, 200);
	frame_unref(f);
}

static void test_frame_header_for_70000_bytes_is_10_bytes(void **state)
{
	(void)state;
	struct frame *f = make_frame(70000, 0);
	assert_int_equal(f->len, 70010);
	assert_int_equal(f->data[0], 0x82);
	assert_int_equal(f->data[1], 127);
	static const uint8_t len[8] = {0, 0, 0, 0, 0, 0x01, 0x11, 0x70}; /* 70000 */
	assert_memory_equal(f->data + 2, len, 8);
	assert_frame_payload(f, 70000);
	frame_unref(f);
}

static void test_frame_header_length_boundaries(void **state)
{
	(void)state;
	static const struct {
		size_t n, hl;
	} cases[] = {{1, 2}, {125, 2}, {126, 4}, {65535, 4}, {65536, 10}};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct frame *f = make_frame(cases[i].n, 0);
		assert_int_equal(f->len, cases[i].n + cases[i].hl);
		assert_frame_payload(f, cases[i].n);
		frame_unref(f);
	}
}

static void test_frame_is_shared_by_reference(void **state)
{
	(void)state;
	struct frame *f = make_frame(10, 0);
	assert_ptr_equal(frame_ref(f), f);
	assert_int_equal(f->refs, 2);
	frame_unref(f);
	assert_int_equal(f->refs, 1);
	assert_int_equal(f->data[1], 10); /* still alive */
	frame_unref(f);                    /* freed: ASan would see a leak otherwise */
	frame_unref(NULL);
}

static void test_frame_needs_headroom(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b);
	assert_int_equal(buf_append(&b, "abc", 3), 0);
	assert_null(frame_from_buf(&b, 0));
	assert_non_null(b.mem); /* left to the caller */
	assert_memory_equal(buf_data(&b), "abc", 3);
	buf_deinit(&b);
}

/* ---- err --------------------------------------------------------------- */

static void test_err_codes_match_protocol_table(void **state)
{
	(void)state;
	static const struct {
		int err;
		const char *code;
	} codes[] = {
		{PL_EBADREQ, "bad_request"},   {PL_EUNKNOWN, "unknown_type"},
		{PL_EUTF8, "invalid_utf8"},    {PL_ETOOLONG, "too_long"},
		{PL_ENAME, "invalid_name"},    {PL_EEMPTY, "empty"},
		{PL_ENOTFOUND, "not_found"},   {PL_ENOTJOINED, "not_joined"},
		{PL_EJOINED, "already_joined"}, {PL_ETOKEN, "invalid_token"},
		{PL_EFORBIDDEN, "forbidden"},  {PL_ERATE, "rate_limited"},
		{PL_EUNAVAIL, "unavailable"},  {PL_EINTERNAL, "internal"},
		{PL_ENOMEM, "internal"},       {PL_EIO, "internal"},
		{PL_ECORRUPT, "internal"},
	};
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		assert_string_equal(pl_err_code(codes[i].err), codes[i].code);
		assert_non_null(pl_err_msg(codes[i].err));
		assert_true(strlen(pl_err_msg(codes[i].err)) > 0);
	}
}

static void test_err_out_of_range_is_internal(void **state)
{
	(void)state;
	assert_string_equal(pl_err_code(PL__ENUM_MIN), "internal");
	assert_string_equal(pl_err_code(-1000), "internal");
	assert_string_equal(pl_err_code(7), "internal");
	assert_non_null(pl_err_msg(-1000));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_utf8_len_counts_code_points_not_bytes),
		cmocka_unit_test(test_utf8_len_accepts_every_boundary_code_point),
		cmocka_unit_test(test_utf8_len_rejects_invalid_sequences),
		cmocka_unit_test(test_utf8_len_rejects_overlong_forms),
		cmocka_unit_test(test_utf8_len_rejects_surrogates),
		cmocka_unit_test(test_utf8_len_rejects_code_points_past_10ffff),
		cmocka_unit_test(test_utf8_len_counts_nul_and_has_control_refuses_it),
		cmocka_unit_test(test_utf8_len_reads_only_n_bytes),
		cmocka_unit_test(test_trim_removes_ascii_space_at_both_ends_only),
		cmocka_unit_test(test_trim_removes_unicode_spaces),
		cmocka_unit_test(test_trim_of_only_spaces_is_empty),
		cmocka_unit_test(test_has_control_finds_c0_c1_del_and_separators),
		cmocka_unit_test(test_has_control_but_space_allows_tab_and_newline_only),
		cmocka_unit_test(test_text_scan_agrees_with_the_separate_checks),
		cmocka_unit_test(test_b64url_matches_rfc4648_vectors_without_padding),
		cmocka_unit_test(test_b64url_uses_the_url_alphabet),
		cmocka_unit_test(test_is_b64url_accepts_only_the_url_alphabet),
		cmocka_unit_test(test_crc32c_known_vector),
		cmocka_unit_test(test_crc32c_can_be_computed_in_pieces),
		cmocka_unit_test(test_crc32c_agrees_with_the_table),
		cmocka_unit_test(test_map_put_get_replace_del),
		cmocka_unit_test(test_map_copies_keys),
		cmocka_unit_test(test_map_many_keys_grow_and_stay_reachable),
		cmocka_unit_test(test_map_delete_shifts_a_probe_run_back),
		cmocka_unit_test(test_map_matches_a_reference_model_under_random_operations),
		cmocka_unit_test(test_buf_append_grows_and_keeps_contents),
		cmocka_unit_test(test_buf_reserve_makes_room_without_changing_len),
		cmocka_unit_test(test_buf_headroom_sits_in_front_of_the_data),
		cmocka_unit_test(test_buf_init_cap_allocates_once_for_what_fits),
		cmocka_unit_test(test_buf_consume_drops_leading_bytes),
		cmocka_unit_test(test_frame_header_for_10_bytes_is_2_bytes),
		cmocka_unit_test(test_frame_header_for_200_bytes_is_4_bytes),
		cmocka_unit_test(test_frame_header_for_70000_bytes_is_10_bytes),
		cmocka_unit_test(test_frame_header_length_boundaries),
		cmocka_unit_test(test_frame_is_shared_by_reference),
		cmocka_unit_test(test_frame_needs_headroom),
		cmocka_unit_test(test_err_codes_match_protocol_table),
		cmocka_unit_test(test_err_out_of_range_is_internal),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
