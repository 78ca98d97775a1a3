/*
 * room.h — a room as a pure, deterministic state machine.
 *
 * Every change to a room is a record in its log; room_apply() applies one
 * record (already decoded into a struct room_cmd) to a replica and reports
 * the effects: whether the originating request is accepted or rejected (with
 * a pl_err code) and which events the room's members should see. Every
 * instance applies the same records in the same order and so holds the same
 * state; the transcript export replays the same log through the same code.
 *
 * room_apply does no I/O and reads no clock and no randomness: the time is
 * the record's `ts`, ids derive from `seq` (a member's id is the seq of its
 * join record, a chat message's id is its own seq). It validates everything
 * itself, permissions included: the hub's checks before appending are only a
 * shortcut for a quick error reply.
 *
 * This module may use util/ only: never lws, uv, hiredis, msgpack or a clock.
 *
 * Ownership: struct room is storage the caller owns (room_init/room_deinit).
 * Views in struct room_cmd are borrowed for the call. Pointers in the
 * effects point into the room and stay valid until the next room_apply.
 */
#ifndef PL_ROOM_H
#define PL_ROOM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ROOM_ID_LEN 16
#define ROOM_NAME_MAX 40     /* characters */
#define ROOM_TITLE_MAX 120   /* characters */
#define ROOM_CHAT_MAX 2000   /* characters */
#define ROOM_RECENT_CHAT 50  /* messages kept for the snapshot */

/* A facilitator created the room or holds its key; a co-facilitator was
 * promoted by one. Both may do everything marked "fac". */
enum room_role { ROOM_PARTICIPANT = 0, ROOM_FACILITATOR = 1, ROOM_COFACILITATOR = 2 };
enum room_reason { ROOM_LEFT = 0, ROOM_TIMEOUT = 1, ROOM_REMOVED = 2 };

struct room_member {
	uint64_t id;       /* seq of its join record */
	char *name;
	int64_t joined_ts;
	int64_t left_ts;
	int64_t speak_ms;  /* total time holding the floor (closed turns) */
	int64_t last_chat; /* ts of the last message (slow mode) */
	uint64_t instance; /* the server instance holding its connection */
	uint32_t epoch;    /* bumped by each attach; guards late detach/leave */
	uint32_t messages; /* chat messages sent */
	uint32_t turns;    /* times given the floor */
	uint8_t role;      /* enum room_role */
	bool present;      /* joined and not left */
	bool online;       /* has a live connection (else away, within grace) */
	bool muted;        /* chat muted by a facilitator */
	uint8_t device[16]; /* keyed hash of the browser's id: what a ban bars;
	                     * all zero if the join gave none */
};

enum room_chat_mode { ROOM_CHAT_OPEN = 0, ROOM_CHAT_SLOW = 1, ROOM_CHAT_FAC_ONLY = 2 };

enum room_mod_action {
	ROOM_MOD_DELETE = 0, ROOM_MOD_MUTE, ROOM_MOD_UNMUTE, ROOM_MOD_REMOVE, ROOM_MOD_BAN,
	ROOM_MOD_LOCK, ROOM_MOD_UNLOCK, ROOM_MOD_CHAT_MODE, ROOM_MOD_PROMOTE, ROOM_MOD_DEMOTE,
	ROOM_MOD_END, ROOM__MOD_MAX
};

/* One line of the moderation log that everyone in the room sees. */
struct room_mod {
	uint64_t seq;
	int64_t ts;
	uint64_t actor;
	uint8_t action;    /* enum room_mod_action */
	uint64_t target;   /* member, or message seq for DELETE */
	uint32_t arg;      /* CHAT_MODE: mode; */
	uint32_t arg2;     /* CHAT_MODE: slow seconds */
};

enum room_prompt_kind {
	ROOM_PROMPT_SINGLE = 0,  /* one option */
	ROOM_PROMPT_MULTI = 1,   /* any options */
	ROOM_PROMPT_RATING = 2,  /* 1..scale, labels at the ends */
	ROOM_PROMPT_TEXT = 3,    /* a short open answer */
};

/* Who sees a prompt's results, and when. Facilitators always see them. */
enum room_reveal {
	ROOM_REVEAL_LIVE = 0,     /* everyone, live */
	ROOM_REVEAL_ANSWERED = 1, /* each person once they have answered */
	ROOM_REVEAL_CLOSED = 2,   /* everyone once the prompt is closed */
	ROOM_REVEAL_FAC = 3,      /* facilitators only */
};

#define ROOM_PROMPT_OPTS 10       /* options at most (also the largest scale) */
#define ROOM_PROMPT_QUESTION 300  /* characters */
#define ROOM_PROMPT_OPTION 100
#define ROOM_PROMPT_ANSWER 280    /* an open answer */
#define ROOM_PROMPTS_MAX 200      /* prompts per room */

/* One answer. For an anonymous prompt `who` is an unlinkable token (a keyed
 * hash of prompt and member made by the hub) and member is 0: nothing in the
 * state, the log or an export ties the answer to a person. */
struct room_answer {
	uint64_t member;
	uint8_t who[16];
	uint32_t choice;     /* single: option index; multi: bit mask; rating: 1..scale */
	char *text;          /* open */
	int64_t ts;
};

struct room_prompt {
	uint64_t id;         /* seq of the record that opened it */
	uint8_t kind;        /* enum room_prompt_kind */
	uint8_t reveal;      /* enum room_reveal */
	bool anonymous;
	bool closed;
	uint8_t nopts;       /* options, or the scale for a rating */
	char *question;
	char *opts[ROOM_PROMPT_OPTS]; /* options; rating: [0] low label, [1] high */
	int64_t opened, closes_at, closed_at; /* closes_at 0: closed by hand */
	uint32_t tally[ROOM_PROMPT_OPTS + 1];
	struct room_answer *answers;
	size_t nanswers, answers_cap;
};

#define ROOM_AGENDA_MAX 10       /* segments */
#define ROOM_SEGMENT_TITLE 60     /* characters */

struct room_segment {
	char *title;
	uint32_t minutes;    /* planned */
	int64_t started, ended; /* first start, last end; 0 = not yet */
	int64_t actual_ms;      /* time run, all runs added (the running one not yet) */
};

struct room_agenda {
	struct room_segment *seg; /* n of them, on the heap (NULL if none) */
	uint8_t n;
	int8_t current;      /* -1: not started; n: finished */
	int64_t since;       /* when the current segment (re)started */
};

/* Every chat message, for moderation and the transcript. */
struct room_msg {
	uint64_t seq;
	uint64_t from;
	bool deleted;
};

/* Hand types, in queue precedence: a clarification goes ahead of a direct
 * reply, which goes ahead of a new point. */
enum room_hand_type { ROOM_HAND_CLARIFY = 0, ROOM_HAND_REPLY = 1, ROOM_HAND_NEW = 2 };

/* Queue policies: within a type group, who goes first. Ties: raised first. */
enum room_policy {
	ROOM_POLICY_FIFO = 0,          /* first come, first served */
	ROOM_POLICY_FEWEST_TURNS = 1,  /* progressive stack */
	ROOM_POLICY_LEAST_TIME = 2,    /* least speaking time */
};

struct room_hand {
	uint64_t member;
	uint8_t type;       /* enum room_hand_type */
	uint64_t raised;    /* seq of the raise: the tie-breaker */
	int64_t raised_ts;
	int32_t pin;        /* -1, or the position a facilitator moved it to */
	uint64_t pinned;    /* seq of that move: later moves win */
};

enum room_timer_action { ROOM_TIMER_NOTICE = 0, ROOM_TIMER_NEXT = 1 };

struct room_floor {
	uint64_t member;    /* 0: nobody holds the floor */
	uint64_t turn;      /* seq of the record that gave it: the turn's id */
	int64_t since;
	int64_t deadline;   /* 0: no timer on this turn */
	bool warned;        /* the 80 % warning went out */
	bool expired;       /* the timer ran out (notice mode keeps the turn) */
};

struct room_chat {
	uint64_t seq;
	int64_t ts;
	uint64_t from;
	char *text;
	bool deleted;
};

struct room {
	char id[ROOM_ID_LEN + 1];
	char *title;
	int64_t created;
	uint8_t kh[32];    /* SHA-256 of the facilitator key */
	bool exists;       /* a create record was applied */
	bool ended;
	uint64_t seq;      /* last applied */
	struct room_member *members; /* every member ever, in join (= id) order */
	size_t nmembers, cap;
	size_t present;    /* members present */
	struct room_chat *recent;      /* ring of the latest chat (ROOM_RECENT_CHAT),
	                                * allocated at the first message */
	unsigned chat_head, chat_n;
	struct room_hand *hands;       /* raised hands, in raise order */
	size_t nhands, hands_cap;
	uint8_t policy;                /* enum room_policy */
	uint32_t timer_s;              /* turn timer, 0 = off */
	uint8_t timer_action;          /* enum room_timer_action */
	struct room_floor floor;
	bool locked;                   /* no new joins */
	uint8_t chat_mode;             /* enum room_chat_mode */
	uint32_t slow_s;               /* slow mode: seconds between messages */
	int64_t ended_ts;
	struct room_msg *msgs;         /* every chat message */
	size_t nmsgs, msgs_cap;
	struct room_mod *modlog;
	size_t nmod, mod_cap;
	uint8_t (*banned)[16];         /* device hashes barred from joining */
	size_t nbanned, banned_cap;
	struct room_prompt *prompts;   /* in opening order (= id order) */
	size_t nprompts, prompts_cap;
	struct room_agenda agenda;
};

enum room_cmd_kind {
	ROOM_CREATE = 1,
	ROOM_JOIN,
	ROOM_ATTACH,
	ROOM_DETACH,
	ROOM_LEAVE,
	ROOM_CHAT,
	ROOM_HAND_RAISE,   /* member raises own hand: arg = type */
	ROOM_HAND_LOWER,   /* member lowers target's hand (own, or fac) */
	ROOM_HAND_CLEAR,   /* fac: lower every hand */
	ROOM_HAND_MOVE,    /* fac: target's hand to position arg */
	ROOM_POLICY,       /* fac: arg = policy */
	ROOM_FLOOR_GIVE,   /* fac: to target, or to the next in the queue if 0 */
	ROOM_FLOOR_TAKE,   /* fac: take the floor back */
	ROOM_FLOOR_YIELD,  /* the holder gives it up */
	ROOM_TIMER,        /* fac: arg = seconds (0 off), arg2 = action */
	ROOM_EXPIRE,       /* a deadline passed: turn = target, arg = what */
	ROOM_DELETE,       /* fac: delete chat message seq = target */
	ROOM_MUTE,         /* fac: arg 1 mute, 0 unmute target */
	ROOM_REMOVE,       /* fac: remove target; arg 1 also bars its device */
	ROOM_LOCK,         /* fac: arg 1 lock, 0 unlock */
	ROOM_CHAT_MODE,    /* fac: arg = mode, arg2 = slow seconds */
	ROOM_ROLE,         /* fac: arg 1 promote target to co-facilitator, 0 demote */
	ROOM_END,          /* fac: end the session; the room becomes read-only */
	ROOM_PROMPT_OPEN,  /* fac: a prompt, see struct room_cmd's prompt fields */
	ROOM_PROMPT_CLOSE, /* fac: close prompt target */
	ROOM_ANSWER,       /* answer prompt target: member or token, arg/text */
	ROOM_AGENDA_SET,   /* fac: segments = opts (titles) and nums (minutes) */
	ROOM_AGENDA_GO,    /* fac: arg = segment index to run (n: finish) */
	ROOM__CMD_MAX
};

enum room_expire_what { ROOM_EXPIRE_WARN = 0, ROOM_EXPIRE_TURN = 1, ROOM_EXPIRE_PROMPT = 2 };

struct room_text {
	const char *p;
	size_t n;
};

/* A decoded record. Strings are views (not NUL-terminated). */
struct room_cmd {
	enum room_cmd_kind kind;
	uint64_t origin;          /* opaque reply routing; 0 if none */
	uint64_t member;
	uint32_t epoch;
	bool has_epoch;
	uint8_t reason;           /* enum room_reason */
	const char *id;           /* create: room id */
	size_t id_len;
	const char *text;         /* create: title; join: name; chat: text */
	size_t text_len;
	uint8_t kh[32];           /* create: key hash; join: offered key hash */
	bool has_kh;
	uint64_t target;          /* the member (or turn) a command acts on */
	uint32_t arg, arg2;       /* small command arguments, see the kinds */
	uint8_t device[16];       /* join: keyed hash of the browser's id */
	bool has_device;
	/* prompts: open (text = question, opts, arg = seconds to the deadline,
	 * pkind, reveal, anonymous, scale in nopts) and answer (token, arg,
	 * text) */
	struct room_text opts[ROOM_PROMPT_OPTS];
	uint8_t nopts;
	uint32_t nums[ROOM_AGENDA_MAX]; /* agenda: planned minutes */
	uint8_t pkind, reveal;
	bool anonymous;
	uint8_t token[16];
	bool has_token;
	uint64_t instance;        /* join, attach: the instance holding the connection */
};

enum room_ev_kind {
	ROOM_EV_JOINED = 1,
	ROOM_EV_LEFT,
	ROOM_EV_AWAY,
	ROOM_EV_BACK,
	ROOM_EV_CHAT,
	ROOM_EV_QUEUE,     /* the hand queue changed (policy included) */
	ROOM_EV_FLOOR,     /* the floor changed hands; member = who had it */
	ROOM_EV_WARN,      /* the turn timer passed 80 % */
	ROOM_EV_TIMEUP,    /* the turn timer ran out (notice mode) */
	ROOM_EV_TIMER,     /* the room's timer setting changed */
	ROOM_EV_MOD,       /* a moderation action: mod = the log line */
	ROOM_EV_PROMPT,    /* a prompt opened: prompt */
	ROOM_EV_CLOSED,    /* a prompt closed: prompt */
	ROOM_EV_ANSWER,    /* an answer changed a prompt's results: prompt (not
	                    * broadcast: the hub coalesces results) */
	ROOM_EV_AGENDA,    /* the agenda or its progress changed */
};

struct room_ev {
	enum room_ev_kind kind;
	const struct room_member *member;
	const struct room_chat *chat;  /* ROOM_EV_CHAT */
	uint8_t reason;                /* ROOM_EV_LEFT */
	const struct room_mod *mod;    /* ROOM_EV_MOD */
	const struct room_prompt *prompt;
};

#define ROOM_FX_MAX 6

struct room_fx {
	int err;                  /* 0: accepted; else a pl_err for the origin */
	uint64_t member;          /* join/attach accepted: the member */
	struct room_ev ev[ROOM_FX_MAX];
	unsigned nev;
};

void room_init(struct room *r);
void room_deinit(struct room *r);

/* Applies the record at `seq` (> r->seq) taken at `ts`. Never fails as a
 * whole: a record that breaks a rule leaves the state unchanged and sets
 * fx->err. Returns fx->err. */
int room_apply(struct room *r, uint64_t seq, int64_t ts, const struct room_cmd *c,
	       struct room_fx *fx);

/* Lookup by id; NULL if never a member. */
struct room_member *room_member(const struct room *r, uint64_t id);

/* The recent chat ring, oldest first: i in [0, r->chat_n). */
const struct room_chat *room_recent_chat(const struct room *r, unsigned i);

/* The queue in its one order: fills out[] with indexes into r->hands;
 * returns the number of hands. out must have room for r->nhands entries
 * (n), else nothing is written. Deterministic. */
size_t room_queue(const struct room *r, size_t *out, size_t n);
/* The next deadline (0 if none): what is due (enum room_expire_what) and
 * for which turn or prompt. */
int64_t room_next_deadline(const struct room *r, uint8_t *what, uint64_t *target);
struct room_prompt *room_prompt(const struct room *r, uint64_t id);
/* May someone see a prompt's results now? Facilitators always may. */
bool room_results_visible(const struct room_prompt *p, bool fac, bool answered);
/* A member's (or a token's) answer to a prompt, or NULL. */
const struct room_answer *room_answer_of(const struct room_prompt *p, uint64_t member,
					 const uint8_t token[16]);
/* True if the member holds a facilitator role. */
bool room_is_fac(const struct room *r, uint64_t member);

/* Validation shared by room_apply and the hub's quick pre-checks. Each
 * returns 0 or a pl_err and gives the trimmed view. */
int room_check_name(const char *s, size_t n, const char **out, size_t *out_n);
int room_check_title(const char *s, size_t n, const char **out, size_t *out_n);
int room_check_chat(const char *s, size_t n, const char **out, size_t *out_n);

#endif
