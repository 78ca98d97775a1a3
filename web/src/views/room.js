// views/room.js — the room screen: a header (title, connection status, invite
// link, Leave), the discussion panel (the floor and my hand, the queue, the
// facilitator console, who is here) and the chat. Composes stage.js,
// queue.js, console.js, members.js and chat.js, runs the clock that keeps
// turn times live, and speaks floor and queue changes through a polite ARIA
// live region ("You have the floor", "Bob has the floor", "You are 2nd in
// the queue"…).
import { copyText, h, text } from '../dom.js';
import { chatView } from './chat.js';
import { consoleView } from './console.js';
import { POLICY_LABEL, TYPE_LABEL, ordinal } from './floorinfo.js';
import { membersView } from './members.js';
import { queueView } from './queue.js';
import { stageView } from './stage.js';

const TICK_MS = 250;

function statusText(s) {
  switch (s.status) {
    case 'online': return 'Connected';
    case 'connecting': return 'Connecting…';
    case 'reconnecting':
      return s.retryIn > 1500 ? `Connection lost — retrying in ${Math.round(s.retryIn / 1000)} s` : 'Reconnecting…';
    case 'closed': return 'Disconnected';
    default: return 'Not connected';
  }
}

// What changed between two states of the floor and the queue, in words, for
// the live region. Nothing on the first state or on a fresh snapshot (then
// only "You have the floor", if so).
function changes(prev, s) {
  const out = [];
  const name = (id) => (id === s.me ? 'You' : s.members.find((m) => m.id === id)?.name
    || prev.members.find((m) => m.id === id)?.name || 'Someone');
  const f = s.floor;
  const pf = prev.floor;
  if (f.member !== pf.member || (f.member != null && f.turn !== pf.turn)) {
    if (f.member === s.me) out.push('You have the floor');
    else if (f.member != null) out.push(`${name(f.member)} has the floor`);
    else out.push(pf.member === s.me ? 'You gave up the floor' : 'Nobody has the floor');
  } else if (f.member != null) {
    const who = f.member === s.me ? 'Your' : `${name(f.member)}’s`;
    if (f.expired && !pf.expired) out.push(`${who} time is up`);
    else if (f.warned && !pf.warned) out.push(`${who} time is almost up`);
  }
  if (s.policy !== prev.policy) out.push(`Queue order: ${POLICY_LABEL[s.policy] || s.policy}`);
  if (s.queue !== prev.queue) {
    const before = new Map(prev.queue.map((x) => [x.member, x]));
    const now = new Set(s.queue.map((x) => x.member));
    for (const x of s.queue) {
      if (!before.has(x.member) && x.member !== s.me)
        out.push(`${name(x.member)} raised a hand: ${TYPE_LABEL[x.type] || x.type}`);
    }
    for (const x of prev.queue) {
      if (now.has(x.member) || x.member === f.member) continue; // served: said above
      if (x.member === s.me) out.push('Your hand is down');
      else if (s.members.some((m) => m.id === x.member)) out.push(`${name(x.member)} lowered their hand`);
    }
    const mine = s.queue.findIndex((x) => x.member === s.me);
    const was = prev.queue.findIndex((x) => x.member === s.me);
    if (mine >= 0 && mine !== was) out.push(`You are ${ordinal(mine + 1)} in the queue`);
  }
  return out;
}

export function roomView(actions) {
  const title = h('h1', { 'data-testid': 'room-title' });
  const status = h('span', { class: 'status', role: 'status', 'data-testid': 'status' });
  const role = h('span', { class: 'badge', 'data-testid': 'my-role', hidden: true }, 'facilitator');
  const inviteNote = h('span', { class: 'sr-only', role: 'status' });
  const invite = h('button', {
    type: 'button', class: 'quiet', 'data-testid': 'invite-button',
    onclick: async () => {
      const ok = await copyText(actions.joinUrl());
      text(invite, ok ? 'Link copied' : 'Copy failed');
      text(inviteNote, ok ? 'Join link copied to the clipboard' : '');
      setTimeout(() => text(invite, 'Copy invite link'), 2000);
    },
  }, 'Copy invite link');
  const leave = h('button', { type: 'button', class: 'quiet danger', 'data-testid': 'leave-button', onclick: () => actions.leave() }, 'Leave');
  const announcer = h('div', { class: 'sr-only', role: 'status', 'aria-live': 'polite', 'data-testid': 'announcer' });
  const stage = stageView(actions);
  const queue = queueView(actions);
  const fac = consoleView(actions);
  const members = membersView(actions);
  const chat = chatView(actions);

  const el = h('div', { class: 'room' },
    h('header', { class: 'room-head' },
      h('div', { class: 'room-id' }, title, h('div', { class: 'sub' }, status, role)),
      h('div', { class: 'room-actions' }, invite, leave, inviteNote)),
    h('div', { class: 'room-body' },
      h('div', { class: 'side' },
        h('div', { class: 'side-floor' }, stage.el, queue.el),
        h('div', { class: 'side-people' }, fac.el, members.el)),
      chat.el),
    announcer);

  // The live region repeats a sentence only if it changes, so a repeat gets
  // a non-breaking space to make it new.
  function say(lines) {
    if (!lines.length) return;
    let msg = `${lines.join('. ')}.`;
    if (announcer.textContent.trim() === msg) msg += '\u00a0';
    text(announcer, msg);
  }

  let prev = null;
  let epoch = -1;
  let last = null;
  let mounted = false;
  const timer = setInterval(() => {
    if (!el.isConnected) {
      if (mounted) clearInterval(timer); // this screen was replaced
      return;
    }
    mounted = true;
    if (!last) return;
    const now = Date.now() + last.skew;
    stage.tick(now);
    members.tick(now);
  }, TICK_MS);

  return {
    el,
    update(s) {
      text(title, s.room?.title);
      text(status, statusText(s));
      status.dataset.state = s.status;
      text(role, s.role === 'cofacilitator' ? 'co-facilitator' : 'facilitator');
      role.hidden = s.role !== 'facilitator' && s.role !== 'cofacilitator';
      leave.disabled = s.status === 'closed';
      stage.update(s);
      queue.update(s);
      fac.update(s);
      members.update(s);
      chat.update(s);
      last = s;

      if (s.me == null) return;
      if (!prev || s.chatEpoch !== epoch) {
        // A fresh snapshot: no list of differences, only where I stand.
        if (s.floor.member === s.me && prev?.floor.member !== s.me) say(['You have the floor']);
      } else if (prev.floor !== s.floor || prev.queue !== s.queue || prev.policy !== s.policy) {
        say(changes(prev, s));
      }
      epoch = s.chatEpoch;
      prev = s;
    },
  };
}
