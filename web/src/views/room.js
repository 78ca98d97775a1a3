// views/room.js — the room screen: a header (title, connection status, invite
// link, Leave), "who is here", and the chat. Composes members.js and chat.js.
import { copyText, h, text } from '../dom.js';
import { chatView } from './chat.js';
import { membersView } from './members.js';

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
  const members = membersView();
  const chat = chatView(actions);

  const el = h('div', { class: 'room' },
    h('header', { class: 'room-head' },
      h('div', { class: 'room-id' }, title, h('div', { class: 'sub' }, status, role)),
      h('div', { class: 'room-actions' }, invite, leave, inviteNote)),
    h('div', { class: 'room-body' }, members.el, chat.el));

  return {
    el,
    update(s) {
      text(title, s.room?.title);
      text(status, statusText(s));
      status.dataset.state = s.status;
      role.hidden = s.role !== 'facilitator';
      leave.disabled = s.status === 'closed';
      members.update(s);
      chat.update(s);
    },
  };
}
