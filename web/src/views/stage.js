// views/stage.js — the top of the discussion panel: who holds the floor with
// a live turn clock (and the time left when a turn timer runs: a soft warning
// after `warn`, a "Time's up" mark after `timeup`), "Yield the floor" for the
// holder, and my own hand: its type (New point / Direct reply /
// Clarification), "Raise hand" / "Lower hand", my place in the queue. The
// key H raises or lowers the hand, except while typing in a field.
import { h, show, text } from '../dom.js';
import { HAND_TYPES, TYPE_LABEL, clock, ordinal, seconds } from './floorinfo.js';

const SHORTCUT = 'h';

// Inputs that take no text: a key press there is free for the shortcut.
const NO_TEXT = new Set(['radio', 'checkbox', 'button', 'submit', 'reset', 'range', 'color', 'file', 'image']);

// True when a key press belongs to a field that takes text, not to the page.
function typing(target) {
  if (!(target instanceof Element)) return false;
  if (target.closest('textarea, select, [contenteditable=""], [contenteditable="true"]')) return true;
  return target instanceof HTMLInputElement && !NO_TEXT.has(target.type);
}

export function stageView(actions) {
  // ---- the floor -----------------------------------------------------------
  const holder = h('p', { class: 'holder', 'data-testid': 'floor-holder' });
  const elapsed = h('span', { class: 'elapsed', 'data-testid': 'turn-clock' });
  const limit = h('span', { class: 'limit', 'data-testid': 'turn-limit' });
  const timeup = h('span', { class: 'timeup-mark', 'data-testid': 'timeup-mark', hidden: true }, 'Time’s up');
  const clockLine = h('p', { class: 'turn-clock' },
    h('span', { class: 'sr-only' }, 'Turn time '), elapsed, limit, timeup);
  const yieldButton = h('button', {
    type: 'button', class: 'quiet', 'data-testid': 'yield-button',
    onclick: () => run({ t: 'yield' }),
  }, 'Yield the floor');
  const card = h('div', { class: 'floor-card', 'data-testid': 'floor-card' },
    h('h2', { id: 'stage-h', class: 'label' }, 'The floor'),
    holder, clockLine, yieldButton);

  // ---- my hand -------------------------------------------------------------
  let chosen = 'new';
  const typeInputs = HAND_TYPES.map((t) => h('input', {
    type: 'radio', name: 'hand-type', value: t.value, id: `hand-type-${t.value}`,
    'data-testid': `hand-type-${t.value}`, checked: t.value === chosen,
    onchange: () => choose(t.value),
  }));
  const types = h('fieldset', { class: 'segmented thirds', 'data-testid': 'hand-type' },
    h('legend', { class: 'sr-only' }, 'Kind of contribution'),
    HAND_TYPES.map((t, i) => [typeInputs[i], h('label', { for: `hand-type-${t.value}` }, t.label)]));
  const handButton = h('button', {
    type: 'button', class: 'primary', 'data-testid': 'hand-button', 'aria-keyshortcuts': 'H',
    onclick: () => toggle(),
  }, 'Raise hand');
  const position = h('p', { class: 'position', 'data-testid': 'my-position', hidden: true });
  const hint = h('p', { class: 'hint key-hint', 'data-testid': 'hand-hint' },
    'Press ', h('kbd', null, 'H'), ' to raise or lower your hand');
  const error = h('p', { class: 'error', role: 'alert', 'data-testid': 'floor-error', hidden: true });
  const hand = h('div', { class: 'my-hand' }, types, h('div', { class: 'hand-row' }, handButton, position), hint);

  const el = h('section', { class: 'stage', 'aria-labelledby': 'stage-h', 'data-testid': 'stage' }, card, hand, error);

  let s = null; // the last state rendered
  let busy = false;
  let errorAt = 0;
  let errorTimer = null;

  const myHand = () => s?.queue.find((x) => x.member === s.me);

  // One request at a time; a second click or key press meanwhile is dropped.
  // (The buttons stay enabled so that keyboard focus is never lost.)
  async function run(req) {
    if (busy) return false;
    busy = true;
    try {
      return await actions.floor(req);
    } finally {
      busy = false;
      if (s) render(s);
    }
  }

  function toggle() {
    if (!s || s.status === 'closed' || s.room?.ended) return;
    run(myHand() ? { t: 'lower' } : { t: 'raise', type: chosen });
  }

  // With the hand up, another type re-raises it: same place in time, other group.
  async function choose(type) {
    chosen = type;
    const mine = myHand();
    if (mine && mine.type !== type && !(await run({ t: 'raise', type }))) render(s);
  }

  function onKey(e) {
    if (!el.isConnected) return document.removeEventListener('keydown', onKey);
    if ((e.key || '').toLowerCase() !== SHORTCUT || e.ctrlKey || e.metaKey || e.altKey || e.repeat) return;
    if (typing(e.target) || e.isComposing) return;
    e.preventDefault();
    toggle();
  }
  document.addEventListener('keydown', onKey);

  function render(st) {
    const me = st.members.find((m) => m.id === st.me);
    const f = st.floor;
    const heldBy = f.member != null ? st.members.find((m) => m.id === f.member) : null;
    const mine = f.member != null && f.member === st.me;
    card.dataset.state = mine ? 'mine' : f.member != null ? 'held' : 'open';
    card.dataset.warned = String(Boolean(f.member != null && f.warned && !f.expired));
    card.dataset.expired = String(Boolean(f.member != null && f.expired));
    if (mine) text(holder, 'You have the floor');
    else if (f.member != null) text(holder, `${heldBy?.name || 'Someone'} has the floor`);
    else text(holder, 'Nobody has the floor');
    show(clockLine, f.member != null);
    show(timeup, f.member != null && f.expired);
    show(yieldButton, mine);
    yieldButton.disabled = st.status === 'closed' || Boolean(st.room?.ended);

    const hd = st.queue.find((x) => x.member === st.me);
    if (hd && !busy) chosen = hd.type;
    for (const input of typeInputs) input.checked = input.value === chosen;
    text(handButton, hd ? 'Lower hand' : 'Raise hand');
    handButton.disabled = st.status === 'closed' || !me || Boolean(st.room?.ended);
    for (const input of typeInputs) input.disabled = Boolean(st.room?.ended);
    hand.dataset.raised = String(Boolean(hd));
    if (hd) {
      const pos = st.queue.indexOf(hd) + 1;
      text(position, `You are ${ordinal(pos)} in the queue · ${TYPE_LABEL[hd.type]}`);
    }
    show(position, Boolean(hd));

    if ((st.floorError?.at || 0) !== errorAt) {
      errorAt = st.floorError?.at || 0;
      text(error, st.floorError?.text);
      show(error, Boolean(st.floorError));
      clearTimeout(errorTimer);
      if (st.floorError) errorTimer = setTimeout(() => actions.clearFloorError(), 8000);
    }
    tick(st, Date.now() + st.skew);
  }

  // The turn clock, from the server's times (now is server time).
  function tick(st, now) {
    const f = st.floor;
    if (f.member == null) return;
    text(elapsed, clock(now - f.since));
    if (f.deadline) {
      const total = f.deadline - f.since;
      const left = f.deadline - now;
      // Whole seconds left, rounded up: "0:00 left" never shows while time remains.
      if (left > 0) text(limit, ` of ${clock(total)} · ${clock(Math.ceil(left / 1000) * 1000)} left`);
      else text(limit, -left >= 1000 ? ` of ${clock(total)} · ${clock(-left)} over` : ` of ${clock(total)}`);
      limit.title = `Turn timer: ${seconds(Math.round(total / 1000))}`;
    } else {
      text(limit, '');
    }
  }

  return {
    el,
    update(st) {
      s = st;
      render(st);
    },
    tick: (now) => s && tick(s, now),
  };
}
