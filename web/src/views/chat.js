// views/chat.js — the chat log (name, time, text) and the composer. New
// messages are appended, not re-rendered; the log is an ARIA live region
// (role=log) and keeps to the bottom unless the reader scrolled up.
// Enter sends, Shift+Enter makes a new line.
import { h, show, text } from '../dom.js';
import { hue } from './members.js';

const MAX_CHARS = 2000;
const timeFmt = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });

function message(m, me) {
  const d = new Date(m.ts);
  return h('li', { class: `msg${m.from === me ? ' mine' : ''}`, 'data-testid': 'chat-message', 'data-seq': m.seq },
    h('div', { class: 'meta' },
      h('span', { class: 'who', style: { '--hue': hue(m.from) } }, m.name),
      h('time', { datetime: d.toISOString(), title: d.toLocaleString() }, timeFmt.format(d))),
    h('p', { class: 'text' }, m.text));
}

export function chatView(actions) {
  const empty = h('li', { class: 'empty' }, 'No messages yet. Say hello!');
  const log = h('ol', {
    class: 'chat-log', 'data-testid': 'chat-log', role: 'log', 'aria-live': 'polite',
    'aria-label': 'Chat messages', tabindex: 0,
  });
  const error = h('p', { class: 'error', role: 'alert', 'data-testid': 'chat-error', hidden: true });
  const input = h('textarea', {
    id: 'chat-input', 'data-testid': 'chat-input', rows: 1, placeholder: 'Say something…',
    autocomplete: 'off', 'aria-label': 'Message',
  });
  const send = h('button', { type: 'submit', class: 'primary', 'data-testid': 'chat-send' }, 'Send');
  const form = h('form', { class: 'composer', onsubmit: submit }, input, send);
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      form.requestSubmit();
    }
  });
  input.addEventListener('input', grow);

  function grow() {
    input.style.height = 'auto';
    input.style.height = `${Math.min(input.scrollHeight, 160)}px`;
  }

  async function submit(e) {
    e.preventDefault();
    const value = input.value;
    const trimmed = value.trim();
    if (!trimmed) return;
    if ([...trimmed].length > MAX_CHARS) {
      actions.showError(`That message is too long (${[...trimmed].length} characters; the limit is ${MAX_CHARS}).`);
      return;
    }
    input.value = '';
    grow();
    // On failure the text comes back, unless something new was typed meanwhile.
    if (!(await actions.send(trimmed)) && !input.value) {
      input.value = value;
      grow();
    }
  }

  const el = h('section', { class: 'chat', 'aria-label': 'Chat' }, log, error, form);
  let epoch = -1;
  let lastSeq = -1;
  let errorAt = 0;
  let errorTimer = null;

  return {
    el,
    update(s) {
      const nearBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 80;
      if (s.chatEpoch !== epoch) {
        epoch = s.chatEpoch;
        lastSeq = -1;
        log.replaceChildren();
      }
      const fresh = s.chat.filter((m) => m.seq > lastSeq);
      if (fresh.length) {
        empty.remove();
        log.append(...fresh.map((m) => message(m, s.me)));
        lastSeq = fresh[fresh.length - 1].seq;
        const mine = fresh.some((m) => m.from === s.me);
        if (nearBottom || mine) log.scrollTop = log.scrollHeight;
      }
      if (!s.chat.length && !empty.isConnected) log.append(empty);

      if ((s.error?.at || 0) !== errorAt) {
        errorAt = s.error?.at || 0;
        text(error, s.error?.text);
        show(error, Boolean(s.error));
        clearTimeout(errorTimer);
        if (s.error) errorTimer = setTimeout(() => actions.showError(null), 8000);
      }
      const usable = s.status !== 'closed';
      input.disabled = !usable;
      send.disabled = !usable;
    },
  };
}
