// views/chat.js — the chat log (name, time, text) and the composer. New
// messages are appended, not re-rendered; a message a facilitator removed is
// replaced in place by "Message removed by a facilitator" (its text is gone
// everywhere). Facilitators get a Delete button on each message. The log is
// an ARIA live region (role=log) and keeps to the bottom unless the reader
// scrolled up. Enter sends, Shift+Enter makes a new line. When I may not
// post — the session ended, a facilitator muted me, the chat is for
// facilitators only — the composer is disabled and says why; in slow mode it
// says how long until my next message. `footer` (reactions and signals) sits
// between the log and the composer.
import { h, show, text } from '../dom.js';
import { isFac } from '../store.js';
import { hue } from './members.js';

const MAX_CHARS = 2000;
const timeFmt = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });

function message(m, me, fac, actions) {
  const d = new Date(m.ts);
  return h('li', {
    class: `msg${m.from === me ? ' mine' : ''}${m.deleted ? ' removed' : ''}`, 'data-testid': 'chat-message',
    'data-seq': m.seq, 'data-deleted': String(Boolean(m.deleted)),
  },
  h('div', { class: 'meta' },
    h('span', { class: 'who', style: { '--hue': hue(m.from) } }, m.name),
    h('time', { datetime: d.toISOString(), title: d.toLocaleString() }, timeFmt.format(d)),
    fac && !m.deleted && h('button', {
      type: 'button', class: 'msg-delete', 'data-testid': 'chat-delete',
      'aria-label': `Delete this message from ${m.name}`, title: 'Delete message',
      onclick: () => actions.mod({ t: 'delete', seq: m.seq }),
    }, 'Delete')),
  m.deleted
    ? h('p', { class: 'text removed-text', 'data-testid': 'chat-removed' }, 'Message removed by a facilitator')
    : h('p', { class: 'text' }, m.text));
}

// Why I may not post now, or null.
function blocked(s) {
  if (s.room?.ended) return 'The session has ended: the chat is read-only.';
  const me = s.members.find((m) => m.id === s.me);
  if (me?.muted) return 'A facilitator muted you: you can read the chat but not post.';
  if (s.room?.chat_mode === 'facilitators' && !isFac(s.role)) return 'Only facilitators can post right now.';
  return null;
}

export function chatView(actions, footer) {
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
  // Not a live region (its countdown would talk every second): the room's
  // announcer says when the chat rules change; the input points here.
  const mode = h('p', { class: 'chat-mode', id: 'chat-state', 'data-testid': 'chat-state', hidden: true });
  input.setAttribute('aria-describedby', 'chat-state');
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
    if (waitLeft() > 0) return;
    input.value = '';
    grow();
    // On failure the text comes back, unless something new was typed meanwhile.
    const ok = await actions.send(trimmed);
    if (!ok && !input.value) {
      input.value = value;
      grow();
    }
    if (ok && s?.room?.chat_mode === 'slow' && !isFac(s.role)) {
      sentAt = Date.now();
      render();
    }
  }

  const el = h('section', { class: 'chat', 'aria-label': 'Chat' }, log, error, footer, mode, form);
  let epoch = -1;
  let lastSeq = -1;
  let errorAt = 0;
  let errorTimer = null;
  let context = '';
  let chat = null;
  const items = new Map(); // seq -> { li, deleted }
  let s = null;
  let sentAt = 0; // my last message in slow mode (local clock)
  let slowTimer = null;

  const waitLeft = () => (s?.room?.chat_mode === 'slow' && !isFac(s.role) && sentAt
    ? sentAt + (s.room.slow_seconds || 0) * 1000 - Date.now() : 0);

  // The composer's state line and whether it is usable.
  function render() {
    if (!s) return;
    const why = s.status === 'closed' ? null : blocked(s);
    const wait = waitLeft();
    let line = why;
    if (!line && s.room?.chat_mode === 'slow' && !isFac(s.role)) {
      line = wait > 0
        ? `Slow mode: you can post again in ${Math.ceil(wait / 1000)} s.`
        : `Slow mode: one message every ${s.room.slow_seconds} s.`;
    }
    text(mode, line);
    show(mode, Boolean(line));
    mode.dataset.blocked = String(Boolean(why));
    const usable = s.status !== 'closed' && !why;
    input.disabled = !usable;
    send.disabled = !usable || wait > 0;
    input.placeholder = why ? 'You cannot post right now' : 'Say something…';
    clearTimeout(slowTimer);
    if (wait > 0) slowTimer = setTimeout(render, Math.min(1000, wait));
  }

  return {
    el,
    update(st) {
      s = st;
      const nearBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 80;
      // Who may delete changes every row: then draw them all again.
      const ctx = JSON.stringify([st.me, isFac(st.role) && !st.room?.ended]);
      if (st.chatEpoch !== epoch || ctx !== context) {
        epoch = st.chatEpoch;
        context = ctx;
        lastSeq = -1;
        chat = null;
        items.clear();
        log.replaceChildren();
      }
      const fac = isFac(st.role) && !st.room?.ended;
      if (st.chat !== chat) {
        // Removed messages change in place.
        for (const m of st.chat) {
          const it = items.get(m.seq);
          if (it && Boolean(m.deleted) !== it.deleted) {
            const li = message(m, st.me, fac, actions);
            it.li.replaceWith(li);
            items.set(m.seq, { li, deleted: Boolean(m.deleted) });
          }
        }
        chat = st.chat;
      }
      const fresh = st.chat.filter((m) => m.seq > lastSeq);
      if (fresh.length) {
        empty.remove();
        const lis = fresh.map((m) => {
          const li = message(m, st.me, fac, actions);
          items.set(m.seq, { li, deleted: Boolean(m.deleted) });
          return li;
        });
        log.append(...lis);
        lastSeq = fresh[fresh.length - 1].seq;
        const mine = fresh.some((m) => m.from === st.me);
        if (nearBottom || mine) log.scrollTop = log.scrollHeight;
      }
      // Drop rows the store no longer keeps.
      if (items.size > st.chat.length) {
        const keep = new Set(st.chat.map((m) => m.seq));
        for (const [seq, it] of items) if (!keep.has(seq)) { it.li.remove(); items.delete(seq); }
      }
      if (!st.chat.length && !empty.isConnected) log.append(empty);

      if ((st.error?.at || 0) !== errorAt) {
        errorAt = st.error?.at || 0;
        text(error, st.error?.text);
        show(error, Boolean(st.error));
        clearTimeout(errorTimer);
        if (st.error) errorTimer = setTimeout(() => actions.showError(null), 8000);
      }
      render();
    },
  };
}
