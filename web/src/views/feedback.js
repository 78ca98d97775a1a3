// views/feedback.js — reactions and quiet signals (PROTOCOL.md, "Reactions
// and quiet signals"). Under the chat: a bar of the seven reactions with the
// session's totals; each `reactions` frame floats its delta briefly over the
// chat (a few emoji per kind at most; none if the person prefers reduced
// motion). For participants, three quiet signals to the facilitators —
// slow down, I'm lost, louder please — sent without a name. For
// facilitators, a small panel with how many people sent each in the last
// minute. Nothing here names anyone.
import { h, show, text } from '../dom.js';
import { isFac } from '../store.js';

export const REACTIONS = [
  { kind: 'thumbs_up', emoji: '👍', label: 'Thumbs up' },
  { kind: 'clap', emoji: '👏', label: 'Applause' },
  { kind: 'laugh', emoji: '😂', label: 'Laugh' },
  { kind: 'wow', emoji: '😮', label: 'Wow' },
  { kind: 'heart', emoji: '❤️', label: 'Love it' },
  { kind: 'party', emoji: '🎉', label: 'Celebrate' },
  { kind: 'thinking', emoji: '🤔', label: 'Thinking' },
];
export const SIGNALS = [
  { kind: 'slow_down', label: 'Slow down' },
  { kind: 'lost', label: 'I’m lost' },
  { kind: 'louder', label: 'Louder please' },
];
const FLOATS_PER_KIND = 4;
const FLOAT_MS = 2200;
const SENT_MS = 4000;

export function feedbackView(actions) {
  const counts = {};
  const buttons = REACTIONS.map((r) => {
    counts[r.kind] = h('span', { class: 'react-count', 'data-testid': 'reaction-total' });
    return h('button', {
      type: 'button', class: 'react', 'data-testid': `react-${r.kind}`, 'data-kind': r.kind, title: r.label,
      'aria-label': r.label, onclick: () => actions.react(r.kind),
    }, h('span', { class: 'emoji', 'aria-hidden': 'true' }, r.emoji), counts[r.kind]);
  });
  const bar = h('div', { class: 'react-bar', role: 'group', 'aria-label': 'Reactions', 'data-testid': 'reactions' }, buttons);
  const floats = h('div', { class: 'floats', 'aria-hidden': 'true', 'data-testid': 'reaction-floats' });

  const sent = h('span', { class: 'hint', role: 'status', 'data-testid': 'signal-sent' });
  const signalButtons = SIGNALS.map((g) => h('button', {
    type: 'button', class: 'quiet', 'data-testid': `signal-${g.kind}`,
    onclick: async () => {
      if (await actions.signal(g.kind)) {
        text(sent, `Sent “${g.label}” without your name.`);
        clearTimeout(sentTimer);
        sentTimer = setTimeout(() => text(sent, ''), SENT_MS);
      }
    },
  }, g.label));
  let sentTimer = null;
  const signals = h('div', { class: 'signal-row', role: 'group', 'aria-labelledby': 'signal-h', 'data-testid': 'signals' },
    h('span', { id: 'signal-h', class: 'signal-label' }, 'Quietly tell the facilitators:'), signalButtons, sent);

  const error = h('p', { class: 'error', role: 'alert', 'data-testid': 'feedback-error', hidden: true });
  const el = h('div', { class: 'feedback' }, floats, bar, signals, error);

  let n = -1;
  let errorAt = 0;
  let errorTimer = null;
  const calm = () => matchMedia('(prefers-reduced-motion: reduce)').matches;

  function float(kind, count) {
    const r = REACTIONS.find((x) => x.kind === kind);
    if (!r || calm()) return;
    for (let i = 0; i < Math.min(count, FLOATS_PER_KIND); i++) {
      const f = h('span', { class: 'float', 'data-kind': kind }, r.emoji);
      f.style.left = `${8 + Math.random() * 84}%`;
      f.style.animationDelay = `${i * 120}ms`;
      floats.append(f);
      setTimeout(() => f.remove(), FLOAT_MS + i * 120);
    }
  }

  return {
    el,
    update(s) {
      const rx = s.reactions;
      if (rx.n !== n) {
        if (n >= 0) for (const [k, c] of Object.entries(rx.delta)) float(k, c);
        n = rx.n;
        for (const r of REACTIONS) {
          const total = rx.totals[r.kind] || 0;
          text(counts[r.kind], total ? String(total) : '');
          buttons[REACTIONS.indexOf(r)].setAttribute('aria-label', total ? `${r.label} (${total} so far)` : r.label);
        }
        if (rx.n > 0) {
          for (const b of buttons) {
            const d = rx.delta[b.dataset.kind];
            if (d) {
              b.classList.remove('pulse');
              void b.offsetWidth; // restart the animation
              b.classList.add('pulse');
            }
          }
        }
      }
      const off = s.status === 'closed' || Boolean(s.room?.ended);
      show(el, !s.room?.ended); // nothing to react to in a closed room
      for (const b of buttons) b.disabled = off;
      show(signals, !isFac(s.role));
      for (const b of signalButtons) b.disabled = off;

      const e = s.errors.feedback;
      if ((e?.at || 0) !== errorAt) {
        errorAt = e?.at || 0;
        text(error, e?.text);
        show(error, Boolean(e));
        clearTimeout(errorTimer);
        if (e) errorTimer = setTimeout(() => actions.clearError('feedback'), 6000);
      }
    },
  };
}

// Facilitators: how many people sent each quiet signal in the last minute.
export function signalsPanelView() {
  const figures = Object.fromEntries(SIGNALS.map((g) => [g.kind, h('span', { class: 'signal-count', 'data-testid': `signal-count-${g.kind}` }, '0')]));
  const items = SIGNALS.map((g) => h('li', { 'data-kind': g.kind }, figures[g.kind], h('span', null, g.label)));
  const window = h('span', { class: 'hint' });
  const el = h('div', { class: 'signals-panel', 'data-testid': 'signals-panel', role: 'group', 'aria-labelledby': 'signals-h' },
    h('h3', { id: 'signals-h' }, 'Quiet signals ', window),
    h('ul', { class: 'signal-figures' }, items));
  return {
    el,
    update(s) {
      show(el, isFac(s.role));
      const c = s.signals?.counts || {};
      text(window, `(people, last ${s.signals?.window || 60} s)`);
      SIGNALS.forEach((g, i) => {
        const v = c[g.kind] || 0;
        text(figures[g.kind], String(v));
        items[i].dataset.active = String(v > 0);
      });
    },
  };
}
