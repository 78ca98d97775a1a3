// views/queue.js — the hand queue exactly in the server's order: position,
// name, hand type and the reason for the place (floorinfo.js explains the
// rule), "(you)" on my own hand. Facilitators get per-entry buttons: move up,
// move down (a `move` to the new 1-based position), give the floor, lower.
import { h, show, text } from '../dom.js';
import { POLICY_LABEL, TYPE_LABEL, handReason, ruleText } from './floorinfo.js';
import { isFac } from '../store.js';

function entry(hand, i, s, actions) {
  const m = s.members.find((x) => x.id === hand.member);
  const name = m?.name || `#${hand.member}`;
  const fac = isFac(s.role);
  const n = s.queue.length;
  const act = (label, testid, req, glyph, disabled = false) => h('button', {
    type: 'button', class: 'icon', 'data-testid': testid, 'aria-label': `${label}: ${name}`, title: label,
    disabled, onclick: () => actions.floor(req),
  }, h('span', { 'aria-hidden': 'true' }, glyph));
  return h('li', {
    class: `hand${hand.member === s.me ? ' mine' : ''}`, 'data-testid': 'queue-entry',
    'data-member-id': hand.member, 'data-type': hand.type, 'data-moved': String(Boolean(hand.moved)),
  },
  h('span', { class: 'pos', 'aria-hidden': 'true' }, i + 1),
  h('div', { class: 'who' },
    h('div', { class: 'line' },
      h('span', { class: 'sr-only' }, `${i + 1}. `),
      h('span', { class: 'name', title: name, 'data-testid': 'queue-name' }, name),
      hand.member === s.me && h('span', { class: 'you' }, '(you)'),
      h('span', { class: `type type-${hand.type}`, 'data-testid': 'queue-type' }, TYPE_LABEL[hand.type] || hand.type)),
    h('p', { class: 'reason', 'data-testid': 'queue-reason' }, handReason(hand, m, s.policy))),
  fac && h('div', { class: 'hand-actions' },
    act('Move up', 'queue-up', { t: 'move', member: hand.member, pos: i }, '▲', i === 0),
    act('Move down', 'queue-down', { t: 'move', member: hand.member, pos: i + 2 }, '▼', i === n - 1),
    act('Give the floor', 'queue-give', { t: 'give', member: hand.member }, 'Give'),
    act('Lower hand', 'queue-lower', { t: 'lower', member: hand.member }, '✕')));
}

export function queueView(actions) {
  const count = h('span', { class: 'count', 'data-testid': 'queue-count' });
  const policy = h('span', { class: 'badge policy', 'data-testid': 'queue-policy' });
  const rule = h('p', { 'data-testid': 'queue-rule' });
  const how = h('details', { class: 'hint rule' }, h('summary', null, 'How the order works'), rule);
  const list = h('ol', { class: 'queue-list', 'data-testid': 'queue-list' });
  const empty = h('p', { class: 'hint empty', 'data-testid': 'queue-empty' }, 'No hands raised.');
  const el = h('section', { class: 'queue', 'aria-labelledby': 'queue-h' },
    h('div', { class: 'section-head' }, h('h2', { id: 'queue-h' }, 'Queue ', count), policy),
    list, empty, how);

  let shown = {};
  return {
    el,
    update(s) {
      const key = { queue: s.queue, members: s.members, policy: s.policy, role: s.role, me: s.me };
      if (Object.keys(key).every((k) => key[k] === shown[k])) return;
      shown = key;
      text(count, s.queue.length);
      text(policy, POLICY_LABEL[s.policy] || s.policy);
      text(rule, ruleText(s.policy));
      list.replaceChildren(...s.queue.map((hd, i) => entry(hd, i, s, actions)));
      show(list, s.queue.length > 0);
      show(empty, s.queue.length === 0);
    },
  };
}
