// views/members.js — "Who is here": everyone present, in join order, with a
// role badge, an "away" marker while their connection is down, "(you)", and
// their turns and speaking time (live for whoever holds the floor); below, the
// "Not yet heard" list (present, no turn yet). Facilitators get a button per
// person to give them the floor.
import { h, show, text } from '../dom.js';
import { isFac } from '../store.js';
import { clock, plural, spokenMs } from './floorinfo.js';

// A stable, pleasant hue per member for the initial avatar.
export const hue = (id) => (Number(id) * 137) % 360;

const figuresText = (m, floor, now) =>
  (m.turns ? `${plural(m.turns, 'turn')} · ${clock(spokenMs(m, floor, now))}` : 'not heard yet');

function item(m, s, now, actions) {
  const me = s.me;
  const away = !m.online && m.id !== me;
  const speaking = s.floor.member === m.id;
  return h('li', {
    class: `member${away ? ' away' : ''}${speaking ? ' speaking' : ''}`, 'data-testid': 'member',
    'data-member-id': m.id, 'data-role': m.role, 'data-online': String(!away),
  },
  h('span', { class: 'avatar', 'aria-hidden': 'true', style: { '--hue': hue(m.id) } }, [...m.name][0]?.toUpperCase() || '?'),
  h('div', { class: 'member-main' },
    h('div', { class: 'line' },
      h('span', { class: 'name', title: m.name }, m.name),
      m.id === me && h('span', { class: 'you' }, '(you)'),
      m.role === 'facilitator' && h('span', { class: 'badge', 'data-testid': 'role-badge' }, 'facilitator'),
      m.role === 'cofacilitator' && h('span', { class: 'badge', 'data-testid': 'role-badge' }, 'co-facilitator'),
      away && h('span', { class: 'away-tag', 'data-testid': 'away' }, 'away')),
    h('span', { class: 'figures', 'data-testid': 'member-figures', 'data-turns': m.turns },
      speaking && h('span', { class: 'speaking-tag' }, 'speaking · '),
      h('span', { class: 'figure-text' }, figuresText(m, s.floor, now)))),
  isFac(s.role) && !speaking && h('button', {
    type: 'button', class: 'icon', 'data-testid': 'member-give', title: 'Give the floor',
    'aria-label': `Give the floor to ${m.name}`, onclick: () => actions.floor({ t: 'give', member: m.id }),
  }, h('span', { 'aria-hidden': 'true' }, 'Give')));
}

export function membersView(actions) {
  const count = h('span', { class: 'count' });
  const list = h('ul', { class: 'member-list', 'data-testid': 'member-list' });
  const quietCount = h('span', { class: 'count' });
  const quietList = h('ul', { class: 'not-heard-list', 'data-testid': 'not-heard-list' });
  const quietNone = h('p', { class: 'hint' }, 'Everyone here has had a turn.');
  const quiet = h('div', { class: 'not-heard', 'data-testid': 'not-heard' },
    h('h3', null, 'Not yet heard ', quietCount), quietList, quietNone);
  const el = h('section', { class: 'members', 'aria-labelledby': 'members-h' },
    h('h2', { id: 'members-h' }, 'Who is here ', count), list, quiet);
  let shown = {};
  let live = null; // the holder's figure, updated every tick
  let s = null;
  return {
    el,
    update(st) {
      s = st;
      const key = { members: st.members, me: st.me, floor: st.floor.member, role: st.role };
      if (Object.keys(key).every((k) => key[k] === shown[k])) return;
      shown = key;
      const now = Date.now() + st.skew;
      text(count, st.members.length);
      list.replaceChildren(...st.members.map((m) => item(m, st, now, actions)));
      live = list.querySelector('.speaking .figure-text');
      const unheard = st.members.filter((m) => !m.turns);
      text(quietCount, unheard.length);
      quietList.replaceChildren(...unheard.map((m) => h('li', { 'data-testid': 'not-heard-member', 'data-member-id': m.id },
        m.name, m.id === st.me ? ' (you)' : '')));
      show(quietList, unheard.length > 0);
      show(quietNone, unheard.length === 0 && st.members.length > 0);
    },
    tick(now) {
      const m = s && live && s.members.find((x) => x.id === s.floor.member);
      if (m) text(live, figuresText(m, s.floor, now));
    },
  };
}
