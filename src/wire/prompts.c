/*
 * prompts.c (wire) — feedback prompts and their results on the wire.
 *
 * A prompt's definition travels in the `prompt` event and in snapshots.
 * Results do not travel as log events: the hub sends `results` frames,
 * coalesced, to three audiences, each encoded once: everyone who may not see
 * the results yet (only how many answered), everyone who may, and
 * facilitators (who also see, for a named prompt, who answered what). An
 * anonymous prompt's results never name anyone, for any audience.
 *
 * Open answers come with their most frequent words (three letters or more,
 * folded to lower case for ASCII), so a room of forty answers reads at a
 * glance.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "wire/wire_int.h"

static const char *const kinds[] = {"single", "multi", "rating", "text"};
static const char *const reveals[] = {"live", "answered", "closed", "facilitators"};

int wire_prompt_kind(const struct wire_str *s)
{
	return wire_enum(kinds, 4, s);
}

int wire_reveal(const struct wire_str *s)
{
	return wire_enum(reveals, 4, s);
}

void wire__pack_prompt(msgpack_packer *pk, const struct room_prompt *p)
{
	bool opts = p->kind <= ROOM_PROMPT_MULTI, rating = p->kind == ROOM_PROMPT_RATING;
	msgpack_pack_map(pk, (size_t)(9 + opts + 3 * rating));
	pack_key(pk, "id");
	msgpack_pack_uint64(pk, p->id);
	pack_key(pk, "kind");
	pack_str(pk, kinds[p->kind]);
	pack_key(pk, "question");
	pack_str(pk, p->question);
	pack_key(pk, "anonymous");
	wire__pack_bool(pk, p->anonymous);
	pack_key(pk, "reveal");
	pack_str(pk, reveals[p->reveal]);
	pack_key(pk, "opened");
	msgpack_pack_int64(pk, p->opened);
	pack_key(pk, "closes_at");
	msgpack_pack_int64(pk, p->closes_at);
	pack_key(pk, "closed");
	wire__pack_bool(pk, p->closed);
	pack_key(pk, "closed_at");
	msgpack_pack_int64(pk, p->closed_at);
	if (opts) {
		pack_key(pk, "options");
		msgpack_pack_array(pk, p->nopts);
		for (unsigned i = 0; i < p->nopts; i++)
			pack_str(pk, p->opts[i]);
	}
	if (rating) {
		pack_key(pk, "scale");
		msgpack_pack_uint8(pk, p->nopts);
		pack_key(pk, "low");
		pack_str(pk, p->opts[0] ? p->opts[0] : "");
		pack_key(pk, "high");
		pack_str(pk, p->opts[1] ? p->opts[1] : "");
	}
}

struct word {
	char w[32];
	uint32_t n;
};

static int by_count(const void *a, const void *b)
{
	const struct word *x = a, *y = b;
	if (x->n != y->n)
		return x->n < y->n ? 1 : -1;
	return strcmp(x->w, y->w);
}

/* The ten most frequent words of the open answers. */
static void pack_words(msgpack_packer *pk, const struct room_prompt *p)
{
	size_t cap = 256, n = 0;
	struct word *ws = calloc(cap, sizeof(*ws));
	for (size_t i = 0; ws && i < p->nanswers; i++) {
		const char *s = p->answers[i].text;
		while (s && *s) {
			while (*s && !isalnum((unsigned char)*s) && !((unsigned char)*s & 0x80))
				s++;
			char w[32];
			size_t len = 0;
			while (*s && (isalnum((unsigned char)*s) || ((unsigned char)*s & 0x80) ||
				      *s == '\'' || *s == '-')) {
				if (len < sizeof(w) - 1)
					w[len++] = (char)tolower((unsigned char)*s);
				s++;
			}
			w[len] = '\0';
			if (len < 3)
				continue;
			size_t k = 0;
			while (k < n && strcmp(ws[k].w, w))
				k++;
			if (k == n) {
				if (n == cap)
					continue; /* enough distinct words for a summary */
				memcpy(ws[n].w, w, len + 1);
				n++;
			}
			ws[k].n++;
		}
	}
	if (ws)
		qsort(ws, n, sizeof(*ws), by_count);
	size_t top = n < 10 ? n : 10;
	msgpack_pack_array(pk, top);
	for (size_t i = 0; i < top; i++) {
		msgpack_pack_array(pk, 2);
		pack_str(pk, ws[i].w);
		msgpack_pack_uint32(pk, ws[i].n);
	}
	free(ws);
}

static void pack_choice(msgpack_packer *pk, const struct room_prompt *p, const struct room_answer *a)
{
	if (p->kind == ROOM_PROMPT_TEXT) {
		pack_str(pk, a->text ? a->text : "");
	} else if (p->kind == ROOM_PROMPT_MULTI) {
		unsigned n = (unsigned)__builtin_popcount(a->choice);
		msgpack_pack_array(pk, n);
		for (unsigned i = 0; i < p->nopts; i++)
			if (a->choice & (1u << i))
				msgpack_pack_uint32(pk, i);
	} else {
		msgpack_pack_uint32(pk, a->choice);
	}
}

static int by_text(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Open answers in alphabetical order: the order of answering (which a
 * watchful facilitator could match with faces) is not kept. */
static void pack_texts(msgpack_packer *pk, const struct room_prompt *p)
{
	const char **t = malloc((p->nanswers ? p->nanswers : 1) * sizeof(*t));
	size_t n = 0;
	for (size_t i = 0; t && i < p->nanswers; i++)
		t[n++] = p->answers[i].text ? p->answers[i].text : "";
	if (t)
		qsort(t, n, sizeof(*t), by_text);
	pack_key(pk, "answers");
	msgpack_pack_array(pk, n);
	for (size_t i = 0; i < n; i++)
		pack_str(pk, t[i]);
	free(t);
}

/* {counts: [...]} | {counts: [...], mean} | {answers: [text], words}
 * plus, for facilitators and a named prompt, by: [{member, name, answer}] */
static void pack_results(msgpack_packer *pk, const struct room *r, const struct room_prompt *p,
			 bool detail)
{
	bool named = detail && !p->anonymous;
	bool text = p->kind == ROOM_PROMPT_TEXT, rating = p->kind == ROOM_PROMPT_RATING;
	msgpack_pack_map(pk, (size_t)(1 + rating + text + named));
	if (text) {
		pack_texts(pk, p);
		pack_key(pk, "words");
		pack_words(pk, p);
	} else {
		unsigned first = rating ? 1 : 0, n = p->nopts;
		pack_key(pk, "counts"); /* rating: counts of 1..scale */
		msgpack_pack_array(pk, n);
		uint64_t sum = 0, votes = 0;
		for (unsigned i = 0; i < n; i++) {
			msgpack_pack_uint32(pk, p->tally[first + i]);
			sum += (uint64_t)p->tally[first + i] * (first + i);
			votes += p->tally[first + i];
		}
		if (rating) {
			pack_key(pk, "mean");
			msgpack_pack_double(pk, votes ? (double)sum / (double)votes : 0.0);
		}
	}
	if (named) {
		pack_key(pk, "by");
		msgpack_pack_array(pk, p->nanswers);
		for (size_t i = 0; i < p->nanswers; i++) {
			const struct room_answer *a = &p->answers[i];
			const struct room_member *m = room_member(r, a->member);
			msgpack_pack_map(pk, 3);
			pack_key(pk, "member");
			msgpack_pack_uint64(pk, a->member);
			pack_key(pk, "name");
			pack_str(pk, m ? m->name : "");
			pack_key(pk, "answer");
			pack_choice(pk, p, a);
		}
	}
}

struct frame *wire_results(const struct room *r, const struct room_prompt *p,
			   enum wire_results_view view, const struct room_answer *mine)
{
	struct enc e;
	wire__enc_init(&e, FRAME_HEADROOM);
	msgpack_packer *pk = &e.pk;
	bool res = view != WIRE_RESULTS_COUNT;
	msgpack_pack_map(pk, (size_t)(5 + res + !!mine));
	pack_key(pk, "t");
	pack_str(pk, "results");
	pack_key(pk, "prompt");
	msgpack_pack_uint64(pk, p->id);
	pack_key(pk, "at");
	msgpack_pack_uint64(pk, r->seq);
	pack_key(pk, "answered");
	msgpack_pack_uint64(pk, p->nanswers);
	pack_key(pk, "closed");
	wire__pack_bool(pk, p->closed);
	if (res) {
		pack_key(pk, "results");
		pack_results(pk, r, p, view == WIRE_RESULTS_DETAIL);
	}
	if (mine) {
		pack_key(pk, "mine");
		pack_choice(pk, p, mine);
	}
	return wire__enc_frame(&e, 0);
}

bool wire__pack_prompt_event(msgpack_packer *pk, const struct room *r, uint64_t seq, int64_t ts,
			     const struct room_ev *ev)
{
	(void)r;
	if (ev->kind == ROOM_EV_PROMPT) {
		wire__pack_event_head(pk, "prompt", seq, ts, 1);
		pack_key(pk, "prompt");
		wire__pack_prompt(pk, ev->prompt);
		return true;
	}
	if (ev->kind == ROOM_EV_CLOSED) {
		wire__pack_event_head(pk, "prompt_closed", seq, ts, 2);
		pack_key(pk, "prompt");
		msgpack_pack_uint64(pk, ev->prompt->id);
		pack_key(pk, "closed_at");
		msgpack_pack_int64(pk, ev->prompt->closed_at);
		return true;
	}
	return false;
}

void wire__pack_prompts_snapshot(msgpack_packer *pk, const struct room *r)
{
	pack_key(pk, "prompts");
	msgpack_pack_array(pk, r->nprompts);
	for (size_t i = 0; i < r->nprompts; i++)
		wire__pack_prompt(pk, &r->prompts[i]);
}
