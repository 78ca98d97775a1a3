// views/members.js — "Who is here": everyone present, in join order, with a
// role badge, an "away" marker while their connection is down, "muted",
// "(you)", and their turns and speaking time (live for whoever holds the
// floor); below, the "Not yet heard" list (present, no turn yet).
// Facilitators get a button per person to give them the floor and a
// moderation menu: mute / unmute, make co-facilitator / participant, remove
// (optionally barring the browser from rejoining), each where the rules
// allow it (the room's creator is beyond all of them; after the end there is
// nothing left to moderate). Rows are kept per
// member and rebuilt only when what they show changed, so an open menu and
// the keyboard focus survive the room's other events.
import { h, show, text } from '../dom.js';
import { isFac } from '../store.js';
import { clock, plural, spokenMs } from './floorinfo.js';

// A stable, pleasant hue per member for the initial avatar.
export const hue = (id) => (Number(id) * 137) % 360;

const figuresText = (m, floor, now) =>
  (m.turns ? `${plural(m.turns, 'turn')} · ${clock(spokenMs(m, floor, now))}` : 'not heard yet');

// The moderation menu for member `m`, or null where there is nothing to do.
function modMenu(m, s, actions, menus) {
  if (!isFac(s.role) || m.id === s.me || m.role === 'facilitator' || s.room?.ended) return null;
  const off = s.status === 'closed';
  // An action closes the menu (the row is redrawn with its outcome anyway).
  const done = () => {
    menus.delete(m.id);
    menu.open = false;
  };
  const act = (label, testid, req, cls) => h('button', {
    type: 'button', class: cls || 'quiet', 'data-testid': testid, disabled: off, onclick: () => { done(); actions.mod(req); },
  }, label);
  const ban = h('input', { type: 'checkbox', id: `ban-${m.id}`, 'data-testid': 'member-ban' });
  const items = [];
  if (m.role === 'participant') {
    items.push(m.muted
      ? act('Unmute', 'member-unmute', { t: 'unmute', member: m.id })
      : act('Mute chat', 'member-mute', { t: 'mute', member: m.id }));
    items.push(act('Make co-facilitator', 'member-promote', { t: 'promote', member: m.id }));
  } else {
    items.push(act('Make participant', 'member-demote', { t: 'demote', member: m.id }));
  }
  const remove = h('div', { class: 'remove-row' },
    h('label', { for: `ban-${m.id}`, class: 'check-inline' }, ban, ' Bar from rejoining'),
    h('button', {
      type: 'button', class: 'quiet danger', 'data-testid': 'member-remove', disabled: off,
      onclick: () => { done(); actions.mod({ t: 'remove', member: m.id, ...(ban.checked ? { ban: true } : {}) }); },
    }, `Remove ${m.name}`));
  const summary = h('summary', { 'aria-label': `Moderate ${m.name}`, title: 'Moderate', 'data-testid': 'member-menu-toggle' },
    h('span', { 'aria-hidden': 'true' }, '⋯'));
  const menu = h('details', { class: 'member-menu', 'data-testid': 'member-menu', open: menus.has(m.id) },
    summary, h('div', { class: 'menu-body' }, items, remove));
  // One menu open at a time; Escape closes it and gives the focus back.
  menu.addEventListener('toggle', () => {
    if (!menu.open) return menus.delete(m.id);
    menus.clear();
    menus.add(m.id);
    for (const other of menu.closest('ul')?.querySelectorAll('details.member-menu[open]') || []) if (other !== menu) other.open = false;
  });
  menu.addEventListener('keydown', (e) => {
    if (e.key !== 'Escape') return;
    done();
    summary.focus();
  });
  return menu;
}

function item(m, s, now, actions, menus) {
  const me = s.me;
  const away = !m.online && m.id !== me;
  const speaking = s.floor.member === m.id;
  return h('li', {
    class: `member${away ? ' away' : ''}${speaking ? ' speaking' : ''}`, 'data-testid': 'member',
    'data-member-id': m.id, 'data-role': m.role, 'data-online': String(!away), 'data-muted': String(Boolean(m.muted)),
  },
  h('span', { class: 'avatar', 'aria-hidden': 'true', style: { '--hue': hue(m.id) } }, [...m.name][0]?.toUpperCase() || '?'),
  h('div', { class: 'member-main' },
    h('div', { class: 'line' },
      h('span', { class: 'name', title: m.name }, m.name),
      m.id === me && h('span', { class: 'you' }, '(you)'),
      m.role === 'facilitator' && h('span', { class: 'badge', 'data-testid': 'role-badge' }, 'facilitator'),
      m.role === 'cofacilitator' && h('span', { class: 'badge', 'data-testid': 'role-badge' }, 'co-facilitator'),
      m.muted && h('span', { class: 'muted-tag', 'data-testid': 'muted' }, 'muted'),
      away && h('span', { class: 'away-tag', 'data-testid': 'away' }, 'away')),
    h('span', { class: 'figures', 'data-testid': 'member-figures', 'data-turns': m.turns },
      speaking && h('span', { class: 'speaking-tag' }, 'speaking · '),
      h('span', { class: 'figure-text' }, figuresText(m, s.floor, now)))),
  isFac(s.role) && !speaking && !s.room?.ended && h('button', {
    type: 'button', class: 'icon', 'data-testid': 'member-give', title: 'Give the floor',
    'aria-label': `Give the floor to ${m.name}`, onclick: () => actions.floor({ t: 'give', member: m.id }),
  }, h('span', { 'aria-hidden': 'true' }, 'Give')),
  modMenu(m, s, actions, menus));
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
  const rows = new Map(); // member id -> { el, sig }
  const menus = new Set(); // members whose moderation menu is open
  let shown = {};
  let live = null; // the holder's figure, updated every tick
  let s = null;
  return {
    el,
    update(st) {
      s = st;
      const key = { members: st.members, me: st.me, floor: st.floor.member, role: st.role, room: st.room, status: st.status === 'closed' };
      if (Object.keys(key).every((k) => key[k] === shown[k])) return;
      shown = key;
      const now = Date.now() + st.skew;
      text(count, st.members.length);
      const context = JSON.stringify([st.me, st.floor.member, st.role, Boolean(st.room?.ended), st.status === 'closed']);
      const ids = new Set(st.members.map((m) => m.id));
      for (const id of rows.keys()) if (!ids.has(id)) { rows.get(id).el.remove(); rows.delete(id); menus.delete(id); }
      st.members.forEach((m, i) => {
        const sig = JSON.stringify(m) + context;
        let row = rows.get(m.id);
        if (!row || row.sig !== sig) {
          const el2 = item(m, st, now, actions, menus);
          const focused = row?.el.contains(document.activeElement) ? document.activeElement.dataset.testid : null;
          if (row) row.el.replaceWith(el2);
          row = { el: el2, sig };
          rows.set(m.id, row);
          if (focused) el2.querySelector(`[data-testid="${focused}"]`)?.focus();
        }
        if (list.children[i] !== row.el) list.insertBefore(row.el, list.children[i] || null);
      });
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
