/*
 * err.h — potluck's one list of error codes.
 *
 * Every function that can fail returns 0 or a negative PL_E* value. Each code
 * has a stable string (pl_err_code) that also travels on the wire as an error
 * reply's `code`, and a default human message (pl_err_msg). The list matches
 * the table in proto/PROTOCOL.md.
 */
#ifndef PL_ERR_H
#define PL_ERR_H

enum pl_err {
	PL_OK = 0,
	PL_EBADREQ = -1,      /* bad_request */
	PL_EUNKNOWN = -2,     /* unknown_type */
	PL_EUTF8 = -3,        /* invalid_utf8 */
	PL_ETOOLONG = -4,     /* too_long */
	PL_ENAME = -5,        /* invalid_name */
	PL_EEMPTY = -6,       /* empty */
	PL_ENOTFOUND = -7,    /* not_found */
	PL_ENOTJOINED = -8,   /* not_joined */
	PL_EJOINED = -9,      /* already_joined */
	PL_ETOKEN = -10,      /* invalid_token */
	PL_EFORBIDDEN = -11,  /* forbidden */
	PL_ERATE = -12,       /* rate_limited */
	PL_EUNAVAIL = -13,    /* unavailable */
	PL_EINTERNAL = -14,   /* internal */
	PL_ENOMEM = -15,      /* internal (out of memory) */
	PL_EIO = -16,         /* internal (I/O) */
	PL_ECORRUPT = -17,    /* internal (corrupt data) */
	PL_EMUTED = -18,      /* muted */
	PL_ELOCKED = -19,     /* room_locked */
	PL_ESLOW = -20,       /* slow_mode */
	PL_EENDED = -21,      /* session_ended */
	PL_EBANNED = -22,     /* banned */
	PL__ENUM_MIN = -23,
};

/* Stable wire code, e.g. "bad_request". Never NULL. */
const char *pl_err_code(int err);
/* Default human message. Never NULL. */
const char *pl_err_msg(int err);

#endif
