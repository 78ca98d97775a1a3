/*
 * results.c — prompt results, coalesced, for each audience.
 *
 * Answers are not broadcast one by one: when 500 people answer a poll in the
 * same second, each client gets a few `results` frames, not 500. Applying an
 * answer only marks its prompt dirty; a per-room timer fires at most every
 * RESULTS_MS and sends each dirty prompt's results to every local member, as
 * the prompt's reveal mode allows: the count of answers only, the results,
 * or (facilitators, named prompts) the results with who answered what. Each
 * of these frames is encoded at most once per flush and shared.
 *
 * For "after answering" reveals the hub must know who has answered. For an
 * anonymous prompt it recomputes the member's token (the same keyed hash the
 * answer carried) and looks it up: the hub can, because it holds the secret;
 * the log and the state cannot.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hub/hub_int.h"
#include "util/crypto.h"

#define RESULTS_MS 250

struct results {
	uv_timer_t timer;
	struct hub_room *hr;
	uint64_t dirty[16];  /* prompts to send; more than that: all open ones */
	unsigned ndirty;
	bool all;
	bool armed;
	uint64_t last;       /* loop time of the last flush */
};

void hub__answer_token(const struct hub *h, const char *room, uint64_t prompt, uint64_t member,
		       uint8_t out[16])
{
	char msg[96];
	uint8_t mac[32];
	int n = snprintf(msg, sizeof(msg), "answer:%s:%llu:%llu", room, (unsigned long long)prompt,
			 (unsigned long long)member);
	util_hmac_sha256(h->secret, h->cfg.secret_len, msg, (size_t)n, mac);
	memcpy(out, mac, 16);
}

static const struct room_answer *mine(struct hub_room *hr, const struct room_prompt *p,
				      uint64_t member)
{
	if (!p->anonymous)
		return room_answer_of(p, member, NULL);
	uint8_t token[16];
	hub__answer_token(hr->hub, hr->id, p->id, member, token);
	return room_answer_of(p, 0, token);
}

static enum wire_results_view view_for(struct hub_room *hr, const struct room_prompt *p,
				       uint64_t member)
{
	const struct room_member *m = room_member(&hr->room, member);
	if (m && m->role != ROOM_PARTICIPANT)
		return p->anonymous ? WIRE_RESULTS_SHOW : WIRE_RESULTS_DETAIL;
	bool answered = p->reveal == ROOM_REVEAL_ANSWERED && !p->closed && mine(hr, p, member);
	return room_results_visible(p, false, answered) ? WIRE_RESULTS_SHOW : WIRE_RESULTS_COUNT;
}

static void send_prompt(struct hub_room *hr, const struct room_prompt *p)
{
	struct frame *f[3] = {NULL, NULL, NULL};
	for (size_t i = 0; i < hr->nconns; i++) {
		struct hub_conn *hc = hr->conns[i];
		enum wire_results_view v = view_for(hr, p, hc->member);
		if (!f[v] && !(f[v] = wire_results(&hr->room, p, v, NULL)))
			continue;
		hr->hub->io.send(hc, f[v]);
	}
	for (int i = 0; i < 3; i++)
		if (f[i])
			frame_unref(f[i]);
}

static void flush(uv_timer_t *t)
{
	struct results *rs = t->data;
	struct hub_room *hr = rs->hr;
	rs->armed = false;
	rs->last = uv_now(hr->hub->loop);
	if (rs->all) {
		for (size_t i = 0; i < hr->room.nprompts; i++)
			send_prompt(hr, &hr->room.prompts[i]);
	} else {
		for (unsigned i = 0; i < rs->ndirty; i++) {
			const struct room_prompt *p = room_prompt(&hr->room, rs->dirty[i]);
			if (p)
				send_prompt(hr, p);
		}
	}
	rs->ndirty = 0;
	rs->all = false;
}

void hub__results_dirty(struct hub_room *hr, uint64_t prompt)
{
	struct results *rs = hr->results;
	if (!rs) {
		if (!(rs = calloc(1, sizeof(*rs))))
			return;
		rs->hr = hr;
		rs->timer.data = rs;
		uv_timer_init(hr->hub->loop, &rs->timer);
		hr->results = rs;
	}
	if (!prompt) {
		rs->all = true;
	} else if (!rs->all) {
		unsigned i = 0;
		while (i < rs->ndirty && rs->dirty[i] != prompt)
			i++;
		if (i == rs->ndirty) {
			if (rs->ndirty == sizeof(rs->dirty) / sizeof(rs->dirty[0]))
				rs->all = true;
			else
				rs->dirty[rs->ndirty++] = prompt;
		}
	}
	if (!rs->armed) { /* at once if the last flush is old enough, else then */
		uint64_t now = uv_now(hr->hub->loop), next = rs->last + RESULTS_MS;
		rs->armed = true;
		uv_timer_start(&rs->timer, flush, rs->last && next > now ? next - now : 0, 0);
	}
}

void hub__results_for(struct hub_room *hr, struct hub_conn *hc)
{
	for (size_t i = 0; i < hr->room.nprompts; i++) {
		const struct room_prompt *p = &hr->room.prompts[i];
		struct frame *f = wire_results(&hr->room, p, view_for(hr, p, hc->member),
					       mine(hr, p, hc->member));
		if (f)
			hub__send_frame(hr->hub, hc, f);
	}
}

void hub__results_free(struct hub_room *hr)
{
	if (hr->results) {
		uv_timer_stop(&hr->results->timer);
		uv_close((uv_handle_t *)&hr->results->timer, hub__grace_free_cb);
		hr->results = NULL;
	}
}
