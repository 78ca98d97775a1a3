// views/message.js — one-message screens: loading, room not found, left,
// opened elsewhere, page not found. An optional button sends one intent.
import { h } from '../dom.js';

export function messageView({ kind, title, body, action }) {
  const el = h('main', { class: 'card message', 'data-testid': 'message', 'data-kind': kind },
    h('h1', null, title),
    body && h('p', null, body),
    action && h('button', { type: 'button', class: 'primary', 'data-testid': `${kind}-action`, onclick: action.run }, action.label),
    kind !== 'loading' && h('p', null, h('a', { href: '/' }, 'Start a new session')));
  return { el, update() {} };
}
