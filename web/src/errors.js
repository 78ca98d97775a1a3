// errors.js — turns the protocol's stable error codes (PROTOCOL.md, "Errors")
// into words for people. The server's own `msg` is the fallback.

const TEXT = {
  bad_request: 'The server did not understand that request.',
  too_long: 'That is too long.',
  invalid_utf8: 'That text has characters the server cannot read.',
  invalid_name: 'Please use a name of 1–40 characters, without control characters.',
  empty: 'Type something first.',
  not_found: 'This room does not exist.',
  not_joined: 'You are not in the room any more.',
  invalid_token: 'Your place in the room has expired; please join again.',
  forbidden: 'The facilitator key in this link is not valid.',
  rate_limited: 'Slow down a little: too many messages at once. Try again in a moment.',
  muted: 'A facilitator muted you: you can read the chat but not post.',
  room_locked: 'This room is locked: no new participants for now. Try again later.',
  slow_mode: 'Slow mode is on: wait a little before your next message.',
  session_ended: 'The session has ended; the room is read-only.',
  banned: 'A facilitator removed you from this session, and this browser cannot join it again.',
  unavailable: 'The server cannot take messages right now. Please try again.',
  internal: 'Something went wrong on the server. Please try again.',
  disconnected: 'The connection dropped; your message may not have been sent.',
  timeout: 'The server did not answer in time.',
  closed: 'You are no longer connected to this room.',
};

// The same codes mean other things for the hand queue and the floor
// (PROTOCOL.md, "Hands" and "The floor").
const FLOOR_TEXT = {
  forbidden: 'Only facilitators can do that (or only the speaker, for “Yield”).',
  not_found: 'Nobody is waiting in the queue, or that person is no longer here.',
  bad_request: 'The server did not accept that setting.',
};

// Prompts, moderation and the agenda: facilitator commands, and answers.
const FAC_TEXT = {
  forbidden: 'Not allowed: only facilitators can do that, or it is no longer possible (a closed prompt, the room’s creator).',
  not_found: 'That is no longer there (the person left, or the message or prompt is gone).',
  bad_request: 'The server did not accept that: check the fields and try again.',
};

// Chat: a refusal is about the room's chat rules.
const CHAT_TEXT = {
  forbidden: 'Only facilitators can post right now.',
};

export function describe(err, context) {
  if (!err) return '';
  if (context === 'chat' && CHAT_TEXT[err.code]) return CHAT_TEXT[err.code];
  if (context === 'floor' && FLOOR_TEXT[err.code]) return FLOOR_TEXT[err.code];
  if (context === 'fac' && FAC_TEXT[err.code]) return FAC_TEXT[err.code];
  return TEXT[err.code] || err.message || 'Something went wrong.';
}
