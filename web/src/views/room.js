// views/room.js — the room screen: a header (title, connection status, the
// room's state — locked, ended —, invite link, Leave), a "Session ended"
// banner (with the export menu for facilitators) once it is over, the agenda
// strip, the discussion panel (the floor and my hand, the prompts, the
// queue, the facilitator console and tools — prompt composer, agenda, room
// controls, quiet signals, export —, who is here, the moderation log) and
// the chat with reactions and quiet signals under it. Composes the views of
// this folder, runs the clock that keeps turn, agenda and deadline times
// live, and speaks changes through a polite ARIA live region ("You have the
// floor", "Bob has the floor", "You are 2nd in the queue", "New poll: …",
// "The session has ended"…).
import { copyText, h, show, text } from '../dom.js';
import { isFac } from '../store.js';
import { agendaEditorView, agendaStripView } from './agenda.js';
import { chatView } from './chat.js';
import { composerView } from './composer.js';
import { consoleView } from './console.js';
import { exportMenuView } from './exportmenu.js';
import { feedbackView, signalsPanelView } from './feedback.js';
import { POLICY_LABEL, TYPE_LABEL, ordinal } from './floorinfo.js';
import { membersView } from './members.js';
import { errorLineView, modlogView, roomControlsView } from './moderation.js';
import { openingText } from './promptinfo.js';
import { promptsView } from './prompts.js';
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

// What changed in the room itself, in words: prompts opened, the session
// ended, the chat rules, the lock, my chat muted or unmuted, my role.
function roomChanges(prev, s) {
  const out = [];
  if (s.prompts !== prev.prompts) {
    const before = new Set(prev.prompts.map((p) => p.id));
    for (const p of s.prompts) if (!before.has(p.id) && !p.closed) out.push(openingText(p));
  }
  if (s.room?.ended && !prev.room?.ended) out.push('The session has ended');
  const r = s.room || {};
  const pr = prev.room || {};
  if (!r.ended && (r.chat_mode !== pr.chat_mode || r.slow_seconds !== pr.slow_seconds)) {
    if (r.chat_mode === 'slow') out.push(`Slow mode: one message every ${r.slow_seconds} seconds`);
    else if (r.chat_mode === 'facilitators') out.push('Only facilitators can post in the chat now');
    else if (pr.chat_mode) out.push('The chat is open to everyone again');
  }
  if (r.locked !== pr.locked && pr.locked !== undefined && !r.ended) out.push(r.locked ? 'The room is locked' : 'The room is unlocked');
  const me = s.members.find((m) => m.id === s.me);
  const was = prev.members.find((m) => m.id === s.me);
  if (me && was && me.muted !== was.muted) out.push(me.muted ? 'A facilitator muted your chat' : 'You can post in the chat again');
  if (s.role !== prev.role && prev.role) {
    out.push(isFac(s.role) ? 'You are now a co-facilitator' : 'You are now a participant');
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
  const locked = h('span', { class: 'badge state-badge', 'data-testid': 'room-locked', hidden: true }, 'locked');
  const endedBadge = h('span', { class: 'badge state-badge ended', 'data-testid': 'room-ended', hidden: true }, 'ended');
  const bannerExport = exportMenuView('banner-export');
  bannerExport.el.open = true;
  const bannerNote = h('p', { 'data-testid': 'ended-note' });
  const banner = h('section', { class: 'ended-banner', 'data-testid': 'session-ended', 'aria-labelledby': 'ended-h', hidden: true },
    h('h2', { id: 'ended-h' }, 'Session ended'), bannerNote, bannerExport.el);
  const agenda = agendaStripView();
  const prompts = promptsView(actions);
  const composer = composerView(actions);
  const agendaEditor = agendaEditorView(actions);
  const controls = roomControlsView(actions);
  const signals = signalsPanelView();
  const exportMenu = exportMenuView('export');
  const modError = errorLineView(actions, 'mod', 'mod-error');
  const agendaError = errorLineView(actions, 'agenda', 'agenda-server-error');
  const tools = h('section', { class: 'tools', 'aria-labelledby': 'tools-h', 'data-testid': 'tools', hidden: true },
    h('h2', { id: 'tools-h' }, 'Session tools'),
    modError.el, agendaError.el,
    signals.el, composer.el, agendaEditor.el, controls.el, exportMenu.el);
  const modlog = modlogView();
  const feedback = feedbackView(actions);
  const announcer = h('div', { class: 'sr-only', role: 'status', 'aria-live': 'polite', 'data-testid': 'announcer' });
  const stage = stageView(actions);
  const queue = queueView(actions);
  const fac = consoleView(actions);
  const members = membersView(actions);
  const chat = chatView(actions, feedback.el);

  const el = h('div', { class: 'room' },
    h('header', { class: 'room-head' },
      h('div', { class: 'room-id' }, title, h('div', { class: 'sub' }, status, role, locked, endedBadge)),
      h('div', { class: 'room-actions' }, invite, leave, inviteNote)),
    banner,
    agenda.el,
    h('div', { class: 'room-body' },
      h('div', { class: 'side' },
        h('div', { class: 'side-floor' }, stage.el, prompts.el, queue.el),
        h('div', { class: 'side-people' }, fac.el, tools, members.el, modlog.el)),
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
    agenda.tick(now);
    prompts.tick(now);
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
      const fac2 = isFac(s.role);
      show(locked, Boolean(s.room?.locked) && !s.room?.ended);
      show(endedBadge, Boolean(s.room?.ended));
      show(banner, Boolean(s.room?.ended));
      text(bannerNote, fac2
        ? 'The room is read-only now. The transcript stays available:'
        : `Thanks for taking part. The room is read-only now; you can still read the chat and the results.`);
      show(bannerExport.el, fac2);
      show(tools, fac2);
      stage.update(s);
      prompts.update(s);
      queue.update(s);
      fac.update(s);
      if (fac2) {
        modError.update(s);
        agendaError.update(s);
        composer.update(s);
        agendaEditor.update(s);
        signals.update(s);
        exportMenu.update(s);
        bannerExport.update(s);
      }
      controls.update(s);
      agenda.update(s);
      members.update(s);
      modlog.update(s);
      feedback.update(s);
      chat.update(s);
      last = s;

      if (s.me == null) return;
      if (!prev || s.chatEpoch !== epoch) {
        // A fresh snapshot: no list of differences, only where I stand.
        if (s.floor.member === s.me && prev?.floor.member !== s.me) say(['You have the floor']);
      } else {
        const lines = prev.floor !== s.floor || prev.queue !== s.queue || prev.policy !== s.policy ? changes(prev, s) : [];
        say([...lines, ...roomChanges(prev, s)]);
      }
      epoch = s.chatEpoch;
      prev = s;
    },
  };
}
