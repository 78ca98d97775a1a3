// views/console.js — the facilitator console (facilitators and
// co-facilitators only): the queue policy, "Give floor to next", "Take back",
// "Lower all", and the turn timer (seconds, 0 = off; at the end notify or pass
// to the next). Per-person actions live in the queue and the member list;
// prompts, the agenda, room controls and export are the tools room.js puts
// below. After the session ends, everything here is disabled.
import { h, show, text } from '../dom.js';
import { POLICIES, seconds } from './floorinfo.js';
import { isFac } from '../store.js';

const TIMER_MAX = 3600;

export function consoleView(actions) {
  const policyInputs = POLICIES.map((p) => h('input', {
    type: 'radio', name: 'queue-policy', value: p.value, id: `policy-${p.value}`,
    'data-testid': `policy-${p.value}`,
    onchange: async () => {
      if (!(await send({ t: 'policy', policy: p.value }))) sync(true);
    },
  }));
  const policy = h('fieldset', { class: 'segmented', 'data-testid': 'policy' },
    h('legend', null, 'Queue order'),
    POLICIES.map((p, i) => [policyInputs[i], h('label', { for: `policy-${p.value}` }, p.label)]));

  const next = h('button', {
    type: 'button', class: 'primary', 'data-testid': 'give-next',
    onclick: () => send({ t: 'give' }),
  }, 'Give floor to next');
  const take = h('button', {
    type: 'button', 'data-testid': 'take-back', onclick: () => send({ t: 'take' }),
  }, 'Take back');
  const clear = h('button', {
    type: 'button', class: 'danger', 'data-testid': 'lower-all', onclick: () => send({ t: 'clear_hands' }),
  }, 'Lower all');

  const secs = h('input', {
    type: 'number', id: 'timer-seconds', 'data-testid': 'timer-seconds', min: 0, max: TIMER_MAX, step: 1,
    inputmode: 'numeric', value: '0',
  });
  const action = h('select', { id: 'timer-action', 'data-testid': 'timer-action' },
    h('option', { value: 'notice' }, 'Notify only'),
    h('option', { value: 'next' }, 'Pass to next'));
  const set = h('button', { type: 'submit', 'data-testid': 'timer-set' }, 'Set timer');
  const current = h('p', { class: 'hint', 'data-testid': 'timer-current', 'aria-live': 'off' });
  const timerError = h('p', { class: 'error', 'data-testid': 'timer-error', hidden: true });
  const timer = h('form', {
    class: 'timer-form', 'data-testid': 'timer-form', 'aria-labelledby': 'timer-h',
    onsubmit: async (e) => {
      e.preventDefault();
      const n = Number(secs.value);
      const ok = secs.value.trim() !== '' && Number.isInteger(n) && n >= 0 && n <= TIMER_MAX;
      text(timerError, ok ? '' : `Seconds from 0 (off) to ${TIMER_MAX}.`);
      show(timerError, !ok);
      if (!ok) return;
      dirty = false;
      await send({ t: 'timer', seconds: n, action: action.value });
    },
  },
  h('h3', { id: 'timer-h' }, 'Turn timer'),
  h('div', { class: 'field' }, h('label', { for: 'timer-seconds' }, 'Seconds (0 = off)'), secs),
  h('div', { class: 'field' }, h('label', { for: 'timer-action' }, 'When time is up'), action),
  set, current, timerError);
  // Don't overwrite what the facilitator is typing with the room's setting.
  let dirty = false;
  for (const x of [secs, action]) x.addEventListener('input', () => { dirty = true; });

  const el = h('section', { class: 'console', 'aria-labelledby': 'console-h', 'data-testid': 'console', hidden: true },
    h('h2', { id: 'console-h' }, 'Facilitator'),
    policy,
    h('div', { class: 'button-row' }, next, take, clear),
    timer);

  let s = null;
  let pending = 0; // console requests under way: no double "Give floor to next"

  // One at a time; a second click meanwhile is dropped. (Buttons stay
  // enabled so that keyboard focus is never lost.)
  async function send(req) {
    if (pending) return false;
    pending++;
    try {
      return await actions.floor(req);
    } finally {
      pending--;
    }
  }

  function sync(force) {
    if (!s) return;
    for (const input of policyInputs) input.checked = input.value === s.policy;
    if (force || !dirty) {
      dirty = false;
      secs.value = String(s.timer.seconds);
      action.value = s.timer.action;
    }
  }

  function render() {
    if (!s) return;
    const off = s.status === 'closed' || Boolean(s.room?.ended);
    next.disabled = off || s.queue.length === 0;
    take.disabled = off || s.floor.member == null;
    clear.disabled = off || s.queue.length === 0;
    set.disabled = off;
    for (const input of policyInputs) input.disabled = off;
    text(current, s.timer.seconds
      ? `Now: ${seconds(s.timer.seconds)} per turn, then ${s.timer.action === 'next' ? 'the next in the queue' : 'a time’s-up notice'}.`
      : 'Now: no turn timer.');
  }

  return {
    el,
    update(st) {
      const fac = isFac(st.role);
      show(el, fac);
      if (!fac) return;
      const timerChanged = !s || st.timer !== s.timer;
      const policyChanged = !s || st.policy !== s.policy;
      s = st;
      if (timerChanged || policyChanged) sync(timerChanged); // a new room setting wins over the form
      render();
    },
  };
}
