// views/home.js — the home screen at `/`: "Start a session" with a title;
// then the join link to share (with a copy button) and "Open as facilitator".
import { copyText, h, show, text } from '../dom.js';

export function homeView(actions) {
  const title = h('input', {
    id: 'create-title', 'data-testid': 'create-title', required: true, maxlength: 120,
    placeholder: 'e.g. Error handling in Rust', autocomplete: 'off',
  });
  const button = h('button', { type: 'submit', class: 'primary', 'data-testid': 'create-button' }, 'Start a session');
  const error = h('p', { class: 'error', role: 'alert', 'data-testid': 'create-error', hidden: true });
  const form = h('form', {
    class: 'stack', 'data-testid': 'create-form',
    onsubmit: (e) => {
      e.preventDefault();
      const t = title.value.trim();
      if (t) actions.createRoom(t);
    },
  },
  h('label', { for: 'create-title' }, 'What is the session about?'), title, button, error);

  const link = h('input', { readonly: true, 'data-testid': 'join-link', 'aria-label': 'Join link', onfocus: (e) => e.target.select() });
  const copied = h('span', { class: 'hint', role: 'status' });
  const copy = h('button', {
    type: 'button', 'data-testid': 'copy-link',
    onclick: async () => text(copied, (await copyText(link.value, link)) ? 'Copied!' : 'Select the link and copy it.'),
  }, 'Copy');
  const open = h('button', { type: 'button', class: 'primary', 'data-testid': 'open-facilitator' }, 'Open as facilitator');
  const createdTitle = h('strong');
  const created = h('section', { class: 'stack created', 'data-testid': 'created', hidden: true },
    h('h2', null, 'Your session is ready'),
    h('p', null, '“', createdTitle, '” — share this link with the people joining:'),
    h('div', { class: 'copy-row' }, link, copy),
    copied,
    h('p', { class: 'hint' }, 'The facilitator link lets you run the session. Keep it to yourself.'),
    open);

  const el = h('main', { class: 'card home' },
    h('h1', { class: 'brand' }, h('img', { src: '/favicon.svg', alt: '', width: 36, height: 36 }), 'potluck'),
    h('p', { class: 'lead' }, 'A friendly room for lunch-and-learn discussions.'),
    h('h2', null, 'Start a session'),
    form, created);

  let url = null;
  open.addEventListener('click', () => url && actions.go(url));

  return {
    el,
    update({ home }) {
      button.disabled = home.busy;
      text(button, home.busy ? 'Starting…' : 'Start a session');
      text(error, home.error);
      show(error, Boolean(home.error));
      show(created, Boolean(home.created));
      if (home.created && url !== home.created.facilitator_url) {
        url = home.created.facilitator_url;
        link.value = home.created.join_url;
        text(createdTitle, home.created.title);
        text(copied, '');
        open.focus();
      }
    },
  };
}
