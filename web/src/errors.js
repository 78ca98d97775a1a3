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

export function describe(err, context) {
  if (!err) return '';
  if (context === 'floor' && FLOOR_TEXT[err.code]) return FLOOR_TEXT[err.code];
  return TEXT[err.code] || err.message || 'Something went wrong.';
}
