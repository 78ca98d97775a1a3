// store.js — owns the state the views render: which screen, the room (from
// the snapshot and then events) with its settings (ended, locked, chat mode),
// its members with online/away, muted, their turns and speaking time, the
// chat list (removed messages marked), the hand queue, the floor and the turn
// timer, the moderation log, the prompts with their results and my answers,
// the agenda, reaction totals and (facilitators) quiet signal counts, who I
// am and my role, the connection status, and the last errors to show. Views
// subscribe and re-render; nothing else mutates state.
//
// Room events (with a seq) come through apply(); `results`, `reactions` and
// `signals` are not events (no seq, not replayed) and come through frame().

const CHAT_KEEP = 500; // messages kept in memory; the snapshot brings the last 50
export const NO_FLOOR = Object.freeze({ member: null, turn: 0, since: 0, deadline: 0, warned: false, expired: false });
export const NO_TIMER = Object.freeze({ seconds: 0, action: 'notice' });
export const NO_AGENDA = Object.freeze({ segments: [], current: -1, since: 0 });
const MODLOG_KEEP = 200; // lines kept; the snapshot brings the last 100

// Facilitators and co-facilitators may use the facilitator console.
export const isFac = (role) => role === 'facilitator' || role === 'cofacilitator';

// A member as the views expect it, every field present. The server leaves
// out fields at their usual value (PROTOCOL.md, <member>), and a <member>
// always describes the whole member, so this is also how one replaces
// what was known of it.
export const memberOf = (m) => ({ role: 'participant', online: true, turns: 0, speak_ms: 0, muted: false, ...m });

// The room's settings as the views expect them.
const ROOM_DEFAULTS = { ended: false, locked: false, chat_mode: 'open', slow_seconds: 0 };

export function createStore() {
  let state = {
    screen: 'loading', // home | loading | name | room | left | replaced | removed | banned | not_found | missing
    home: { busy: false, error: null, created: null },
    room: null, // { id, title, created, ended, locked, chat_mode, slow_seconds }
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
    modlog: [], // [{ seq, ts, action, actor, actor_name, target?, target_name?, mode?, seconds? }]
    prompts: [], // [{ id, kind, question, anonymous, reveal, opened, closes_at, closed, closed_at, options | scale, low, high }]
    results: {}, // prompt id -> { at, answered, closed, results? } from `results` frames
    mine: {}, // prompt id -> my answer (index, [indexes], value or text)
    agenda: NO_AGENDA, // { segments: [{ title, minutes, started, ended }], current, since }
    reactions: { totals: {}, delta: {}, n: 0 }, // n counts `reactions` frames (each floats its delta)
    signals: null, // facilitators: { window, counts: { slow_down, lost, louder } }
    banned: false, // a facilitator removed me with a ban (the close code says "removed")
    errors: {}, // area ('prompts', 'mod', 'agenda', 'feedback') -> { text, at }
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
  // Marks the prompts that match as closed (at `at`, if not known already).
  const closePrompts = (match, at) => {
    if (!state.prompts.some((p) => match(p) && !p.closed)) return;
    set({ prompts: state.prompts.map((p) => (match(p) && !p.closed ? { ...p, closed: true, closed_at: p.closed_at || at } : p)) });
  };
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
          room: { ...ROOM_DEFAULTS, ...snapshot.room },
          members: (snapshot.members || []).map(memberOf),
          modlog: (snapshot.modlog || []).slice(-MODLOG_KEEP),
          prompts: snapshot.prompts || [],
          agenda: { ...NO_AGENDA, ...snapshot.agenda },
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
          if (state.members.some((m) => m.id === ev.member.id)) patchMember(ev.member.id, memberOf(ev.member));
          else members((ms) => [...ms, memberOf(ev.member)]);
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
          if (state.chat.some((m) => m.seq === ev.seq)) break;
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
        case 'mod':
          if (ev.entry) this.moderated(ev.entry, ev.member);
          break;
        case 'prompt':
          if (ev.prompt) {
            const rest = state.prompts.filter((p) => p.id !== ev.prompt.id);
            set({ prompts: [...rest, ev.prompt] });
          }
          break;
        case 'prompt_closed':
          closePrompts((p) => p.id === ev.prompt, ev.closed_at || ev.ts);
          break;
        case 'agenda':
          set({ agenda: { ...NO_AGENDA, ...ev.agenda } });
          break;
        default:
      }
    },

    // One line of the moderation log, and what it changes (PROTOCOL.md, the
    // `mod` event): the member as they are now, a removed message, the
    // room's settings, the end of the session.
    moderated(entry, member) {
      const patch = {};
      if (!state.modlog.some((x) => x.seq === entry.seq)) patch.modlog = [...state.modlog, entry].slice(-MODLOG_KEEP);
      if (member) {
        const now = memberOf(member);
        patch.members = state.members.map((m) => (m.id === now.id ? now : m));
        if (now.id === state.me) patch.role = now.role;
      }
      const room = state.room || {};
      switch (entry.action) {
        case 'delete':
          patch.chat = state.chat.map((m) => (m.seq === entry.target ? { ...m, text: '', deleted: true } : m));
          break;
        case 'lock':
        case 'unlock':
          patch.room = { ...room, locked: entry.action === 'lock' };
          break;
        case 'chat_mode':
          patch.room = { ...room, chat_mode: entry.mode || 'open', slow_seconds: entry.seconds || 0 };
          break;
        case 'ban':
          if (entry.target === state.me) patch.banned = true;
          break;
        case 'end':
          patch.room = { ...room, ended: true };
          break;
        default:
      }
      set(patch);
      if (entry.action === 'end') closePrompts(() => true, entry.ts);
    },

    // A message that is not a room event: prompt results (with my own answer
    // after a join or resume), reaction counts, quiet signal counts.
    frame(m) {
      switch (m.t) {
        case 'results': {
          const old = state.results[m.prompt];
          if (old && old.at > m.at) break; // an older picture than the one shown
          const r = { at: m.at, answered: m.answered || 0, closed: Boolean(m.closed) };
          if (m.results) r.results = m.results;
          const patch = { results: { ...state.results, [m.prompt]: r } };
          if ('mine' in m) patch.mine = { ...state.mine, [m.prompt]: m.mine };
          set(patch);
          if (r.closed) closePrompts((p) => p.id === m.prompt, 0);
          break;
        }
        case 'reactions':
          set({ reactions: { totals: m.totals || {}, delta: m.delta || {}, n: state.reactions.n + 1 } });
          break;
        case 'signals':
          set({ signals: { window: m.window || 60, counts: m.counts || {} } });
          break;
        default:
      }
    },

    // My answer was accepted: show it as mine until the results say more.
    answered(prompt, answer) {
      set({ mine: { ...state.mine, [prompt]: answer } });
    },

    // An error line of one area of the screen ('prompts', 'mod', 'agenda',
    // 'feedback'); null clears it.
    areaError(area, text) {
      set({ errors: { ...state.errors, [area]: text ? { text, at: Date.now() } : null } });
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
      if (status === 'closed' && info.reason === 'removed') patch.screen = 'removed';
      set(patch);
    },

    error(text) {
      set({ error: text ? { text, at: Date.now() } : null });
    },
  };
}
