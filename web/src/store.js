// store.js — owns the state the views render: which screen, the room (from
// the snapshot and then events), its members with online/away and their turns
// and speaking time, the chat list, the hand queue, the floor and the turn
// timer, who I am and my role, the connection status, and the last errors to
// show. Views subscribe and re-render; nothing else mutates state.

const CHAT_KEEP = 500; // messages kept in memory; the snapshot brings the last 50
export const NO_FLOOR = Object.freeze({ member: null, turn: 0, since: 0, deadline: 0, warned: false, expired: false });
export const NO_TIMER = Object.freeze({ seconds: 0, action: 'notice' });

// Facilitators and co-facilitators may use the facilitator console.
export const isFac = (role) => role === 'facilitator' || role === 'cofacilitator';

// A member as the views expect it: turns and speak_ms always present.
const withFigures = (m) => ({ turns: 0, speak_ms: 0, ...m });

export function createStore() {
  let state = {
    screen: 'loading', // home | loading | name | room | left | replaced | not_found | missing
    home: { busy: false, error: null, created: null },
    room: null, // { id, title, created, ended }
    key: null, // facilitator key from the link, if any
    me: null, // my member id
    role: null, // 'facilitator' | 'cofacilitator' | 'participant'
    members: [], // [{ id, name, role, online, turns, speak_ms }] in join order
    chat: [], // [{ seq, ts, from, name, text }] oldest first
    chatEpoch: 0, // bumped when the chat list is replaced (not appended to)
    status: 'idle', // idle | connecting | online | reconnecting | closed
    retryIn: 0, // ms until the next reconnect attempt
    busy: false, // a join is under way
    joinError: null,
    error: null, // { text, at } the error line under the chat
    policy: 'fifo', // fifo | fewest_turns | least_time
    queue: [], // [{ member, type, raised, moved }] in the server's order
    floor: NO_FLOOR, // { member, turn, since, deadline, warned, expired }
    timer: NO_TIMER, // { seconds, action }
    skew: 0, // server clock − local clock, ms (from pings)
    floorError: null, // { text, at } the error line of the hands and floor controls
  };
  const subs = new Set();
  let holding = 0; // > 0 while a batch is applied: views see only its end state

  const notify = () => {
    for (const fn of subs) fn(state);
  };
  const set = (patch) => {
    state = { ...state, ...patch };
    if (!holding) notify();
  };

  const members = (fn) => set({ members: fn(state.members) });
  const patchMember = (id, fields) =>
    members((ms) => ms.map((m) => (m.id === id ? { ...m, ...fields } : m)));

  return {
    get: () => state,
    set,
    subscribe(fn) {
      subs.add(fn);
      fn(state);
      return () => subs.delete(fn);
    },

    // The connection holds the room; a snapshot replaces all room state.
    attach({ member, role, snapshot }) {
      const patch = { me: member, role, screen: 'room', busy: false, joinError: null };
      if (snapshot) {
        Object.assign(patch, {
          room: snapshot.room,
          members: (snapshot.members || []).map(withFigures),
          chat: (snapshot.chat || []).slice(-CHAT_KEEP),
          chatEpoch: state.chatEpoch + 1,
          policy: snapshot.policy || 'fifo',
          queue: snapshot.queue || [],
          floor: { ...NO_FLOOR, ...snapshot.floor },
          timer: { ...NO_TIMER, ...snapshot.timer },
        });
      }
      set(patch);
    },

    // One room event, already de-duplicated by seq. Unknown types are ignored.
    apply(ev) {
      switch (ev.t) {
        case 'batch': // several events of one record, in order, seen as one change
          holding++;
          try {
            for (const e of ev.events || []) this.apply(e);
          } finally {
            holding--;
          }
          if (!holding) notify();
          break;
        case 'joined':
          if (state.members.some((m) => m.id === ev.member.id)) patchMember(ev.member.id, ev.member);
          else members((ms) => [...ms, withFigures(ev.member)]);
          break;
        case 'left':
          members((ms) => ms.filter((m) => m.id !== ev.member));
          break;
        case 'away':
          // My own `away` comes back in the replay after a reload: I am here.
          if (ev.member !== state.me) patchMember(ev.member, { online: false });
          break;
        case 'back':
          patchMember(ev.member, { online: true });
          break;
        case 'chat': {
          const msg = { seq: ev.seq, ts: ev.ts, from: ev.from, name: ev.name, text: ev.text };
          set({ chat: [...state.chat, msg].slice(-CHAT_KEEP) });
          break;
        }
        case 'queue':
          set({ policy: ev.policy || state.policy, queue: ev.queue || [] });
          break;
        case 'floor': {
          // stats: the figures of who gave the floor up and of who took it
          const stats = new Map((ev.stats || []).map((x) => [x.member, x]));
          const patch = { floor: { ...NO_FLOOR, ...ev.floor } };
          if (stats.size) {
            patch.members = state.members.map((m) => {
              const x = stats.get(m.id);
              return x ? { ...m, turns: x.turns, speak_ms: x.speak_ms } : m;
            });
          }
          set(patch);
          break;
        }
        case 'warn':
          if (ev.turn === state.floor.turn) set({ floor: { ...state.floor, warned: true } });
          break;
        case 'timeup':
          if (ev.turn === state.floor.turn) set({ floor: { ...state.floor, warned: true, expired: true } });
          break;
        case 'timer':
          set({ timer: { ...NO_TIMER, ...ev.timer }, ...(ev.floor ? { floor: { ...NO_FLOOR, ...ev.floor } } : {}) });
          break;
        default:
      }
    },

    // The server's clock minus ours (client.js measures it with pings).
    clock(offset) {
      if (Number.isFinite(offset) && Math.abs(offset - state.skew) > 50) set({ skew: Math.round(offset) });
    },

    floorError(text) {
      set({ floorError: text ? { text, at: Date.now() } : null });
    },

    status(status, info = {}) {
      const patch = { status, retryIn: info.delay || 0 };
      if (status === 'closed' && info.reason === 'left') patch.screen = 'left';
      if (status === 'closed' && info.reason === 'replaced') patch.screen = 'replaced';
      set(patch);
    },

    error(text) {
      set({ error: text ? { text, at: Date.now() } : null });
    },
  };
}
