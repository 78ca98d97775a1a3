/*
 * room.c — members, presence and chat: the rules of a room.
 *
 * See room.h for the contract. Members are kept in one array in join order;
 * since a member's id is the seq of its join record, that order is also id
 * order and lookups are a binary search. Members who left stay in the array
 * (their names are needed by the transcript and by late events) but are no
 * longer `present`.
 *
 * Presence across reconnects is guarded by an epoch per member: `attach`
 * (a resume) bumps it; `detach` and timed-out `leave` records carry the epoch
 * they were appended for and are ignored when it no longer matches. So a
 * late or duplicated timer record, from this instance or another, can never
 * throw out a member who has come back.
 */
#include "room/room_int.h"

#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/crypto.h"
#include "util/err.h"
#include "util/text.h"

void room_init(struct room *r)
{
	memset(r, 0, sizeof(*r));
	r->agenda.current = -1;
}

void room_deinit(struct room *r)
{
	for (size_t i = 0; i < r->nmembers; i++)
		free(r->members[i].name);
	free(r->members);
	for (unsigned i = 0; r->recent && i < ROOM_RECENT_CHAT; i++)
		free(r->recent[i].text);
	free(r->recent);
	free(r->hands);
	free(r->msgs);
	free(r->modlog);
	free(r->banned);
	room__prompts_free(r);
	room__agenda_free(r);
	free(r->title);
	memset(r, 0, sizeof(*r));
}

struct room_member *room_member(const struct room *r, uint64_t id)
{
	size_t lo = 0, hi = r->nmembers;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (r->members[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < r->nmembers && r->members[lo].id == id ? &r->members[lo] : NULL;
}

const struct room_chat *room_recent_chat(const struct room *r, unsigned i)
{
	unsigned first = (r->chat_head + ROOM_RECENT_CHAT - r->chat_n) % ROOM_RECENT_CHAT;
	return &r->recent[(first + i) % ROOM_RECENT_CHAT];
}

static int check_text(const char *s, size_t n, long max, int empty_err, bool allow_newlines,
		      const char **out, size_t *out_n)
{
	struct util_text t;
	if (util_text_scan(s, n, allow_newlines, &t))
		return PL_EUTF8;
	*out = t.len ? s + t.start : s;
	*out_n = t.len;
	if (!t.len)
		return empty_err;
	if (t.chars > max) /* limits count what is kept */
		return PL_ETOOLONG;
	if (t.control)
		return empty_err == PL_ENAME ? PL_ENAME : PL_EBADREQ;
	return 0;
}

int room_check_name(const char *s, size_t n, const char **out, size_t *out_n)
{
	return check_text(s, n, ROOM_NAME_MAX, PL_ENAME, false, out, out_n);
}

int room_check_title(const char *s, size_t n, const char **out, size_t *out_n)
{
	return check_text(s, n, ROOM_TITLE_MAX, PL_EBADREQ, false, out, out_n);
}

int room_check_chat(const char *s, size_t n, const char **out, size_t *out_n)
{
	return check_text(s, n, ROOM_CHAT_MAX, PL_EEMPTY, true, out, out_n);
}

static char *dup_view(const char *s, size_t n)
{
	char *p = malloc(n + 1);
	if (p) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

void room__emit(struct room_fx *fx, enum room_ev_kind kind, const struct room_member *m)
{
	if (fx->nev < ROOM_FX_MAX)
		fx->ev[fx->nev++] = (struct room_ev){.kind = kind, .member = m};
}

static int apply_create(struct room *r, int64_t ts, const struct room_cmd *c)
{
	const char *t;
	size_t tn;
	if (r->exists)
		return PL_EFORBIDDEN;
	if (c->id_len != ROOM_ID_LEN || !util_is_b64url(c->id, c->id_len) || !c->has_kh)
		return PL_EBADREQ;
	int rc = room_check_title(c->text, c->text_len, &t, &tn);
	if (rc)
		return rc;
	char *title = dup_view(t, tn);
	if (!title)
		return PL_ENOMEM;
	memcpy(r->id, c->id, ROOM_ID_LEN);
	r->id[ROOM_ID_LEN] = '\0';
	r->title = title;
	r->created = ts;
	memcpy(r->kh, c->kh, 32);
	r->exists = true;
	return 0;
}

static int apply_join(struct room *r, uint64_t seq, int64_t ts, const struct room_cmd *c,
		      struct room_fx *fx)
{
	const char *name;
	size_t nn;
	int rc = room_check_name(c->text, c->text_len, &name, &nn);
	if (rc)
		return rc;
	uint8_t role = ROOM_PARTICIPANT;
	if (c->has_kh) {
		if (!util_ct_equal(c->kh, r->kh, 32))
			return PL_EFORBIDDEN;
		role = ROOM_FACILITATOR;
	}
	if (role == ROOM_PARTICIPANT && c->has_device && room__banned(r, c->device))
		return PL_EBANNED;
	if (role == ROOM_PARTICIPANT && r->locked)
		return PL_ELOCKED;
	if (util_array_grow(&r->members, &r->cap, r->nmembers, sizeof(*r->members), 8))
		return PL_ENOMEM;
	char *copy = dup_view(name, nn);
	if (!copy)
		return PL_ENOMEM;
	struct room_member *m = &r->members[r->nmembers++];
	*m = (struct room_member){.id = seq, .name = copy, .role = role, .present = true,
				  .online = true, .joined_ts = ts, .instance = c->instance};
	if (c->has_device)
		memcpy(m->device, c->device, 16);
	r->present++;
	fx->member = m->id;
	room__emit(fx, ROOM_EV_JOINED, m);
	return 0;
}

static int apply_attach(struct room *r, const struct room_cmd *c, struct room_fx *fx)
{
	struct room_member *m = room_member(r, c->member);
	if (!m || !m->present)
		return PL_ETOKEN;
	m->epoch++;
	m->instance = c->instance;
	fx->member = m->id;
	if (!m->online) {
		m->online = true;
		room__emit(fx, ROOM_EV_BACK, m);
	}
	return 0;
}

static int apply_detach(struct room *r, const struct room_cmd *c, struct room_fx *fx)
{
	struct room_member *m = room_member(r, c->member);
	if (!m || !m->present || !m->online || (c->has_epoch && c->epoch != m->epoch))
		return 0; /* stale: nothing to do */
	m->online = false;
	room__emit(fx, ROOM_EV_AWAY, m);
	return 0;
}

static int apply_leave(struct room *r, int64_t ts, const struct room_cmd *c, struct room_fx *fx)
{
	struct room_member *m = room_member(r, c->member);
	if (!m || !m->present)
		return c->origin ? PL_ENOTJOINED : 0;
	if (c->has_epoch && c->epoch != m->epoch)
		return 0; /* the member came back since this was decided */
	if (c->reason == ROOM_TIMEOUT && m->online)
		return 0;
	room__member_leave(r, ts, m, c->reason == ROOM_TIMEOUT ? ROOM_TIMEOUT : ROOM_LEFT, fx);
	return 0;
}

void room__member_leave(struct room *r, int64_t ts, struct room_member *m, uint8_t reason,
			struct room_fx *fx)
{
	m->present = false;
	m->online = false;
	m->left_ts = ts;
	r->present--;
	room__emit(fx, ROOM_EV_LEFT, m);
	fx->ev[fx->nev - 1].reason = reason;
	room__floor_left(r, ts, m->id, fx);
}

static int apply_chat(struct room *r, uint64_t seq, int64_t ts, const struct room_cmd *c,
		      struct room_fx *fx)
{
	struct room_member *m = room_member(r, c->member);
	if (!m || !m->present)
		return PL_ENOTJOINED;
	const char *t;
	size_t tn;
	int rc = room_check_chat(c->text, c->text_len, &t, &tn);
	if (rc || (rc = room__may_chat(r, m, ts)))
		return rc;
	if (!r->recent && !(r->recent = calloc(ROOM_RECENT_CHAT, sizeof(*r->recent))))
		return PL_ENOMEM;
	char *text = dup_view(t, tn);
	if (!text || room__msg_add(r, seq, m->id)) {
		free(text);
		return PL_ENOMEM;
	}
	m->last_chat = ts;
	struct room_chat *ch = &r->recent[r->chat_head];
	free(ch->text);
	*ch = (struct room_chat){.seq = seq, .ts = ts, .from = m->id, .text = text};
	r->chat_head = (r->chat_head + 1) % ROOM_RECENT_CHAT;
	if (r->chat_n < ROOM_RECENT_CHAT)
		r->chat_n++;
	m->messages++;
	room__emit(fx, ROOM_EV_CHAT, m);
	fx->ev[fx->nev - 1].chat = ch;
	return 0;
}

int64_t room_next_deadline(const struct room *r, uint8_t *what, uint64_t *target)
{
	uint8_t fw = 0;
	uint64_t pid = 0;
	int64_t floor = room__floor_deadline(r, &fw), prompt = room__prompt_deadline(r, &pid);
	if (floor && (!prompt || floor <= prompt)) {
		*what = fw;
		*target = r->floor.turn;
		return floor;
	}
	if (prompt) {
		*what = ROOM_EXPIRE_PROMPT;
		*target = pid;
	}
	return prompt;
}

int room_apply(struct room *r, uint64_t seq, int64_t ts, const struct room_cmd *c,
	       struct room_fx *fx)
{
	memset(fx, 0, sizeof(*fx));
	r->seq = seq;
	int rc;
	if (c->kind == ROOM_CREATE)
		rc = apply_create(r, ts, c);
	else if (!r->exists)
		rc = PL_ENOTFOUND;
	else if (r->ended && c->kind != ROOM_ATTACH && c->kind != ROOM_DETACH &&
		 c->kind != ROOM_LEAVE)
		rc = c->kind == ROOM_EXPIRE ? 0 : PL_EENDED;
	else {
		switch (c->kind) {
		case ROOM_JOIN: rc = apply_join(r, seq, ts, c, fx); break;
		case ROOM_ATTACH: rc = apply_attach(r, c, fx); break;
		case ROOM_DETACH: rc = apply_detach(r, c, fx); break;
		case ROOM_LEAVE: rc = apply_leave(r, ts, c, fx); break;
		case ROOM_CHAT: rc = apply_chat(r, seq, ts, c, fx); break;
		case ROOM_PROMPT_OPEN:
		case ROOM_PROMPT_CLOSE:
		case ROOM_ANSWER: rc = room__prompt_apply(r, seq, ts, c, fx); break;
		case ROOM_AGENDA_SET:
		case ROOM_AGENDA_GO: rc = room__agenda_apply(r, ts, c, fx); break;
		case ROOM_EXPIRE:
			rc = c->arg == ROOM_EXPIRE_PROMPT ? room__prompt_apply(r, seq, ts, c, fx)
							  : room__floor_apply(r, seq, ts, c, fx);
			break;
		default:
			rc = c->kind >= ROOM__CMD_MAX ? PL_EBADREQ
			     : c->kind >= ROOM_DELETE ? room__mod_apply(r, seq, ts, c, fx)
						      : room__floor_apply(r, seq, ts, c, fx);
			break;
		}
	}
	if (rc)
		fx->nev = 0;
	fx->err = rc;
	return rc;
}
