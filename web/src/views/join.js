// views/join.js — the name form shown at /r/{id} when this tab is not in the
// room yet: "Your name" and Join. With a facilitator key it says so.
import { h, show, text } from '../dom.js';

export function joinView(actions) {
  const name = h('input', {
    id: 'name-input', 'data-testid': 'name-input', required: true, maxlength: 40,
    autocomplete: 'nickname', value: actions.rememberedName(),
  });
  const button = h('button', { type: 'submit', class: 'primary', 'data-testid': 'join-button' }, 'Join');
  const error = h('p', { class: 'error', role: 'alert', 'data-testid': 'join-error', hidden: true });
  const title = h('h1', { 'data-testid': 'room-title' });
  const asFacilitator = h('p', { class: 'badge-note', hidden: true }, 'You are joining as the facilitator.');
  const el = h('main', { class: 'card join' },
    h('p', { class: 'eyebrow' }, 'You are invited to'),
    title, asFacilitator,
    h('form', {
      class: 'stack',
      onsubmit: (e) => {
        e.preventDefault();
        const n = name.value.trim();
        if (n) actions.join(n);
      },
    }, h('label', { for: 'name-input' }, 'Your name'), name, button, error));
  queueMicrotask(() => name.focus());

  return {
    el,
    update(s) {
      text(title, s.room?.title || 'a potluck session');
      show(asFacilitator, Boolean(s.key));
      button.disabled = s.busy;
      text(button, s.busy ? 'Joining…' : 'Join');
      text(error, s.joinError);
      show(error, Boolean(s.joinError));
    },
  };
}
