// store.js — owns the state the views render: which screen, the room (from
// the snapshot and then events), its members with online/away, the chat list,
// who I am and my role, the connection status, and the last error to show.
// Views subscribe and re-render; nothing else mutates state.

const CHAT_KEEP = 500; // messages kept in memory; the snapshot brings the last 50

export function createStore() {
  let state = {
    screen: 'loading', // home | loading | name | room | left | replaced | not_found | missing
    home: { busy: false, error: null, created: null },
    room: null, // { id, title, created, ended }
    key: null, // facilitator key from the link, if any
    me: null, // my member id
    role: null, // 'facilitator' | 'participant'
    members: [], // [{ id, name, role, online }] in join order
    chat: [], // [{ seq, ts, from, name, text }] oldest first
    chatEpoch: 0, // bumped when the chat list is replaced (not appended to)
    status: 'idle', // idle | connecting | online | reconnecting | closed
    retryIn: 0, // ms until the next reconnect attempt
    busy: false, // a join is under way
    joinError: null,
    error: null, // { text, at } the error line under the chat
  };
  const subs = new Set();

  const set = (patch) => {
    state = { ...state, ...patch };
    for (const fn of subs) fn(state);
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
          members: snapshot.members || [],
          chat: (snapshot.chat || []).slice(-CHAT_KEEP),
          chatEpoch: state.chatEpoch + 1,
        });
      }
      set(patch);
    },

    // One room event, already de-duplicated by seq. Unknown types are ignored.
    apply(ev) {
      switch (ev.t) {
        case 'batch': // several events of one record, in order
          for (const e of ev.events || []) this.apply(e);
          break;
        case 'joined':
          if (state.members.some((m) => m.id === ev.member.id)) patchMember(ev.member.id, ev.member);
          else members((ms) => [...ms, ev.member]);
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
        default:
      }
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
