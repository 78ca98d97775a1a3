// views/members.js — "Who is here": everyone present, in join order, with a
// role badge, an "away" marker while their connection is down, and "(you)".
import { h, text } from '../dom.js';

// A stable, pleasant hue per member for the initial avatar.
export const hue = (id) => (Number(id) * 137) % 360;

function item(m, me) {
  const away = !m.online && m.id !== me;
  return h('li', {
    class: `member${away ? ' away' : ''}`, 'data-testid': 'member',
    'data-member-id': m.id, 'data-role': m.role, 'data-online': String(!away),
  },
  h('span', { class: 'avatar', 'aria-hidden': 'true', style: { '--hue': hue(m.id) } }, [...m.name][0]?.toUpperCase() || '?'),
  h('span', { class: 'name', title: m.name }, m.name),
  m.id === me && h('span', { class: 'you' }, '(you)'),
  m.role === 'facilitator' && h('span', { class: 'badge', 'data-testid': 'role-badge' }, 'facilitator'),
  away && h('span', { class: 'away-tag', 'data-testid': 'away' }, 'away'));
}

export function membersView() {
  const count = h('span', { class: 'count' });
  const list = h('ul', { class: 'member-list', 'data-testid': 'member-list' });
  const el = h('section', { class: 'members', 'aria-labelledby': 'members-h' },
    h('h2', { id: 'members-h' }, 'Who is here ', count), list);
  let shown = null;
  let shownMe = null;
  return {
    el,
    update({ members, me }) {
      if (members === shown && me === shownMe) return;
      shown = members;
      shownMe = me;
      text(count, members.length);
      list.replaceChildren(...members.map((m) => item(m, me)));
    },
  };
}
