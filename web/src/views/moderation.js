// views/moderation.js — moderation that is not about one person or one
// message (those actions live in the member list and the chat): the room
// controls for facilitators — lock / unlock, the chat mode (open, slow with
// seconds, facilitators only), end the session (with a confirm step) — and,
// for everyone, the moderation log: who did what to whom, when (the text of
// a removed message is never repeated). A refusal shows on the tools'
// error line (room.js), which is in view wherever the action was.
import { h, show, text } from '../dom.js';
import { isFac } from '../store.js';
import { clockTime } from './floorinfo.js';

const MODES = [
  { value: 'open', label: 'Open' },
  { value: 'slow', label: 'Slow' },
  { value: 'facilitators', label: 'Facilitators only' },
];

// One log line in words. `chat` finds whose message was removed.
export function modText(e, chat) {
  const who = e.actor_name || 'A facilitator';
  const target = e.target_name || 'someone';
  switch (e.action) {
    case 'delete': {
      const m = chat.find((x) => x.seq === e.target);
      return `${who} removed a message${m ? ` by ${m.name}` : ''}`;
    }
    case 'mute': return `${who} muted ${target}`;
    case 'unmute': return `${who} unmuted ${target}`;
    case 'remove': return `${who} removed ${target} from the room`;
    case 'ban': return `${who} removed ${target} and barred them from rejoining`;
    case 'lock': return `${who} locked the room: no new participants`;
    case 'unlock': return `${who} unlocked the room`;
    case 'chat_mode':
      if (e.mode === 'slow') return `${who} turned on slow mode: one message per ${e.seconds} s`;
      if (e.mode === 'facilitators') return `${who} limited the chat to facilitators`;
      return `${who} opened the chat to everyone`;
    case 'promote': return `${who} made ${target} a co-facilitator`;
    case 'demote': return `${who} made ${target} a participant`;
    case 'end': return `${who} ended the session`;
    default: return `${who}: ${e.action}`;
  }
}

export function roomControlsView(actions) {
  const lockState = h('p', { class: 'hint', 'data-testid': 'lock-state' });
  const lock = h('button', { type: 'button', 'data-testid': 'lock-toggle', onclick: () => actions.mod({ t: s?.room?.locked ? 'unlock' : 'lock' }) }, 'Lock room');

  const modeInputs = MODES.map((m) => h('input', {
    type: 'radio', name: 'chat-mode', value: m.value, id: `chat-mode-${m.value}`, 'data-testid': `chat-mode-${m.value}`,
    onchange: () => { dirty = true; render(); },
  }));
  const seconds = h('input', {
    type: 'number', id: 'slow-seconds', 'data-testid': 'slow-seconds', min: 1, max: 3600, step: 1, value: '30', inputmode: 'numeric',
  });
  seconds.addEventListener('input', () => { dirty = true; });
  const slowField = h('div', { class: 'field inline' }, h('label', { for: 'slow-seconds' }, 'Seconds between messages'), seconds);
  const apply = h('button', { type: 'submit', 'data-testid': 'chat-mode-apply' }, 'Apply');
  const modeError = h('p', { class: 'error', hidden: true });
  const modeForm = h('form', { class: 'mode-form', onsubmit: submitMode },
    h('fieldset', { class: 'segmented' }, h('legend', null, 'Chat'),
      MODES.map((m, i) => [modeInputs[i], h('label', { for: `chat-mode-${m.value}` }, m.label)])),
    slowField, h('div', { class: 'button-row' }, apply), modeError);

  const end = h('button', { type: 'button', class: 'danger', 'data-testid': 'end-session', onclick: () => confirmEnd(true) }, 'End session…');
  const endYes = h('button', { type: 'button', class: 'primary danger-fill', 'data-testid': 'end-confirm', onclick: () => { confirmEnd(false); actions.mod({ t: 'end' }); } }, 'End session');
  const endNo = h('button', { type: 'button', 'data-testid': 'end-cancel', onclick: () => { confirmEnd(false); end.focus(); } }, 'Cancel');
  const confirm = h('div', { class: 'confirm', role: 'group', 'aria-labelledby': 'end-q', hidden: true },
    h('p', { id: 'end-q' }, 'End the session for everyone? The room becomes read-only; the transcript stays available.'),
    h('div', { class: 'button-row' }, endYes, endNo));

  const el = h('details', { class: 'panel', 'data-testid': 'room-controls' },
    h('summary', null, 'Room controls'),
    h('div', { class: 'control-row' }, lock, lockState),
    modeForm,
    h('div', { class: 'end-row' }, end, confirm));

  let s = null;
  let dirty = false;

  function confirmEnd(on) {
    show(confirm, on);
    show(end, !on);
    if (on) endNo.focus();
  }

  async function submitMode(e) {
    e.preventDefault();
    const mode = modeInputs.find((x) => x.checked)?.value || 'open';
    const req = { t: 'chat_mode', mode };
    if (mode === 'slow') {
      const n = Number(seconds.value);
      const ok = Number.isInteger(n) && n >= 1 && n <= 3600;
      text(modeError, ok ? '' : 'Slow mode: 1 to 3600 seconds.');
      show(modeError, !ok);
      if (!ok) return seconds.focus();
      req.seconds = n;
    }
    show(modeError, false);
    if (await actions.mod(req)) dirty = false;
  }

  function render() {
    const mode = modeInputs.find((x) => x.checked)?.value;
    show(slowField, mode === 'slow');
  }

  return {
    el,
    update(st) {
      const fac = isFac(st.role);
      show(el, fac);
      if (!fac) return;
      const roomChanged = st.room !== s?.room;
      s = st;
      const r = st.room || {};
      const off = st.status === 'closed' || Boolean(r.ended);
      text(lock, r.locked ? 'Unlock room' : 'Lock room');
      lock.setAttribute('aria-pressed', String(Boolean(r.locked)));
      text(lockState, r.locked ? 'Locked: nobody new can join.' : 'Open: anyone with the link can join.');
      lock.disabled = off;
      apply.disabled = off;
      end.disabled = off;
      if (r.ended) confirmEnd(false);
      if (roomChanged && !dirty) {
        for (const x of modeInputs) x.checked = x.value === (r.chat_mode || 'open');
        if (r.chat_mode === 'slow' && r.slow_seconds) seconds.value = String(r.slow_seconds);
      }
      render();
    },
  };
}

export function modlogView() {
  const count = h('span', { class: 'count', 'data-testid': 'modlog-count' });
  const list = h('ol', { class: 'modlog-list', 'data-testid': 'modlog-list', reversed: true });
  const empty = h('p', { class: 'hint', 'data-testid': 'modlog-empty' }, 'No moderation so far.');
  const el = h('section', { class: 'modlog', 'aria-labelledby': 'modlog-h', 'data-testid': 'modlog' },
    h('h2', { id: 'modlog-h' }, 'Moderation log ', count), list, empty);
  let shown = {};
  return {
    el,
    update(s) {
      const key = { log: s.modlog, chat: s.chat };
      if (key.log === shown.log && key.chat === shown.chat) return;
      shown = key;
      text(count, s.modlog.length || '');
      // Newest first.
      list.replaceChildren(...[...s.modlog].reverse().map((e) => h('li', { 'data-testid': 'modlog-entry', 'data-action': e.action },
        h('time', { datetime: new Date(e.ts).toISOString() }, clockTime(e.ts)), ' ', modText(e, s.chat))));
      show(list, s.modlog.length > 0);
      show(empty, s.modlog.length === 0);
    },
  };
}

// The error line of one area ('mod', 'agenda'…), cleared after a while.
export function errorLineView(actions, area, testid) {
  const el = h('p', { class: 'error', role: 'alert', 'data-testid': testid, hidden: true });
  let at = 0;
  let timer = null;
  return {
    el,
    update(s) {
      const e = s.errors[area];
      if ((e?.at || 0) === at) return;
      at = e?.at || 0;
      text(el, e?.text);
      show(el, Boolean(e));
      clearTimeout(timer);
      if (e) timer = setTimeout(() => actions.clearError(area), 8000);
    },
  };
}
