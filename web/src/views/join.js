// views/join.js — the name form shown at /r/{id} when this tab is not in the
// room yet: "Your name" and Join. With a facilitator key it says so. A room
// whose session has ended takes no one new: then it says so instead, and the
// facilitator (the tab holding the key) gets the export menu.
import { h, show, text } from '../dom.js';
import { exportMenuView } from './exportmenu.js';

export function joinView(actions) {
  const name = h('input', {
    id: 'name-input', 'data-testid': 'name-input', required: true, maxlength: 40,
    autocomplete: 'nickname', value: actions.rememberedName(),
  });
  const button = h('button', { type: 'submit', class: 'primary', 'data-testid': 'join-button' }, 'Join');
  const error = h('p', { class: 'error', role: 'alert', 'data-testid': 'join-error', hidden: true });
  const title = h('h1', { 'data-testid': 'room-title' });
  const asFacilitator = h('p', { class: 'badge-note', hidden: true }, 'You are joining as the facilitator.');
  const exportMenu = exportMenuView('join-export');
  exportMenu.el.open = true;
  const ended = h('div', { class: 'stack', 'data-testid': 'join-ended', hidden: true },
    h('p', null, 'This session has ended. The room is read-only and takes no one new.'),
    exportMenu.el);
  const form = h('form', {
    class: 'stack',
    onsubmit: (e) => {
      e.preventDefault();
      const n = name.value.trim();
      if (n) actions.join(n);
    },
  }, h('label', { for: 'name-input' }, 'Your name'), name, button, error);
  const eyebrow = h('p', { class: 'eyebrow' }, 'You are invited to');
  const el = h('main', { class: 'card join' }, eyebrow, title, asFacilitator, form, ended);
  queueMicrotask(() => name.focus());

  return {
    el,
    update(s) {
      text(title, s.room?.title || 'a potluck session');
      const over = Boolean(s.room?.ended);
      show(asFacilitator, Boolean(s.key) && !over);
      show(form, !over);
      show(ended, over);
      text(eyebrow, over ? 'The session' : 'You are invited to');
      show(exportMenu.el, over && Boolean(s.key));
      exportMenu.update(s);
      button.disabled = s.busy;
      text(button, s.busy ? 'Joining…' : 'Join');
      text(error, s.joinError);
      show(error, Boolean(s.joinError));
    },
  };
}
