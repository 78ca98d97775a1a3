// main.js — the entry point: reads the URL (`/` or `/r/{room}#key=…`), wires
// the store, the server client and the views together, and carries out the
// views' intents (create a room, join, send, hands and floor, prompts and
// answers, moderation, agenda, reactions and signals, leave). Views never
// talk to the server; the client never touches the DOM.
import * as api from './api.js';
import { Client } from './client.js';
import { describe } from './errors.js';
import { createStore } from './store.js';
import { homeView } from './views/home.js';
import { joinView } from './views/join.js';
import { messageView } from './views/message.js';
import { roomView } from './views/room.js';

const store = createStore();
const root = document.getElementById('app');
const NAME_KEY = 'potluck:name'; // last name used, to prefill the form
let client = null;

const actions = {
  go: (url) => location.assign(url),

  async createRoom(title) {
    store.set({ home: { busy: true, error: null, created: null } });
    try {
      const created = await api.createRoom(title);
      store.set({ home: { busy: false, error: null, created } });
    } catch (e) {
      store.set({ home: { busy: false, error: describe(e), created: null } });
    }
  },

  rememberedName: () => localStorage.getItem(NAME_KEY) || '',

  async join(name) {
    try {
      localStorage.setItem(NAME_KEY, name);
    } catch {
      /* storage disabled */
    }
    store.set({ busy: true, joinError: null });
    try {
      await client.join(name, store.get().key);
    } catch (e) {
      if (e.code === 'not_found') return store.set({ busy: false, screen: 'not_found' });
      if (e.code === 'banned') return store.set({ busy: false, screen: 'banned' });
      if (e.code === 'session_ended') return store.set({ busy: false, room: { ...store.get().room, ended: true } });
      let joinError = describe(e);
      if (e.code === 'forbidden') {
        client.remember({ key: undefined });
        store.set({ key: null });
        joinError += ' Press Join to enter as a participant.';
      }
      store.set({ busy: false, joinError });
    }
  },

  async send(text) {
    try {
      await client.chat(text);
      if (store.get().error) store.error(null);
      return true;
    } catch (e) {
      store.error(describe(e, 'chat'));
      return false;
    }
  },

  // Prompts, moderation, the agenda, reactions and signals: a refusal shows
  // on the error line of that area. Resolves the reply, or null.
  async act(area, req) {
    try {
      const r = await client.request(req);
      if (store.get().errors[area]) store.areaError(area, null);
      return r;
    } catch (e) {
      store.areaError(area, describe(e, 'fac'));
      return null;
    }
  },
  openPrompt: (req) => actions.act('prompts', req),
  closePrompt: (prompt) => actions.act('prompts', { t: 'close_prompt', prompt }),
  // `fields` as the protocol wants them; `value` is the answer as results show it.
  async answer(prompt, fields, value) {
    const ok = await actions.act('prompts', { t: 'answer', prompt, ...fields });
    if (ok) store.answered(prompt, value);
    return Boolean(ok);
  },
  mod: (req) => actions.act('mod', req),
  agenda: (req) => actions.act('agenda', req),
  react: (kind) => actions.act('feedback', { t: 'react', kind }),
  signal: (kind) => actions.act('feedback', { t: 'signal', kind }),
  clearError: (area) => store.areaError(area, null),

  // Hands, floor, timer and queue commands (PROTOCOL.md "Hands", "The
  // floor"). Resolves true on success; a refusal shows on the floor panel.
  async floor(req) {
    try {
      await client.request(req);
      if (store.get().floorError) store.floorError(null);
      return true;
    } catch (e) {
      store.floorError(describe(e, 'floor'));
      return false;
    }
  },
  clearFloorError: () => store.floorError(null),

  leave: () => client.leave().catch(() => {}),
  showError: (text) => store.error(text),
  joinUrl: () => `${location.origin}/r/${client.room}`,
};

const screens = {
  home: () => homeView(actions),
  loading: () => messageView({ kind: 'loading', title: 'Loading…' }),
  name: () => joinView(actions),
  room: () => roomView(actions),
  left: (s) => messageView({
    kind: 'left', title: 'You left the room',
    body: `Thanks for taking part in “${s.room?.title || 'this session'}”.`,
    action: { label: 'Join again', run: () => store.set({ screen: 'name' }) },
  }),
  replaced: () => messageView({
    kind: 'replaced', title: 'Open in another tab',
    body: 'You opened this room in another tab or window, so this one stepped aside.',
    action: { label: 'Use it here', run: () => client.reclaim() },
  }),
  removed: (s) => messageView({
    kind: 'removed', title: 'You were removed from this room',
    body: s.banned
      ? `A facilitator removed you from “${s.room?.title || 'this session'}” and barred this browser from joining again.`
      : `A facilitator removed you from “${s.room?.title || 'this session'}”.`,
    action: s.banned ? null : { label: 'Join again', run: () => store.set({ screen: 'name', busy: false, joinError: null }) },
  }),
  banned: (s) => messageView({
    kind: 'banned', title: 'You cannot join this session',
    body: `A facilitator removed you from “${s.room?.title || 'this session'}” and barred this browser from joining again.`,
  }),
  not_found: () => messageView({
    kind: 'not_found', title: 'Room not found',
    body: 'There is no session at this link. Check the link, or start a new session.',
  }),
  missing: () => messageView({ kind: 'missing', title: 'Page not found', body: 'Nothing lives at this address.' }),
};

let screen = null;
let view = null;
store.subscribe((s) => {
  if (s.screen !== screen) {
    screen = s.screen;
    view = screens[screen](s);
    root.replaceChildren(view.el);
  }
  view.update(s);
  document.title = s.room?.title ? `${s.room.title} · potluck` : 'potluck';
});

async function startRoom(id) {
  client = new Client(id, {
    status: (state, info) => store.status(state, info),
    attach: (a) => store.attach(a),
    event: (ev) => store.apply(ev),
    clock: (offset) => store.clock(offset),
    frame: (m) => store.frame(m),
    lost: (e) => store.set(e.code === 'not_found' ? { screen: 'not_found' }
      : e.code === 'banned' ? { screen: 'banned' }
        : e.code === 'session_ended' ? { screen: 'name', busy: false, room: { ...store.get().room, ended: true } }
          : { screen: 'name', busy: false, joinError: describe(e) }),
  });
  // The facilitator key travels in the fragment. Keep it for this tab, then
  // take it out of the address bar so that copying the URL shares no secret.
  const key = new URLSearchParams(location.hash.slice(1)).get('key');
  if (key) {
    client.remember({ key });
    history.replaceState(null, '', location.pathname + location.search);
  }
  store.set({ key: client.session.key || null, room: { id, title: '' } });

  const summary = api.getRoom(id).then(
    (r) => ({ id, title: r.title, created: r.created, ended: r.ended }),
    (e) => (e.status === 404 ? 'not_found' : null));
  if (client.joined) {
    store.set({ screen: 'room' });
    client.start();
    const room = await summary; // a resume that replays has no snapshot: title from here
    if (room && room !== 'not_found' && !store.get().room?.title) store.set({ room });
    return;
  }
  const room = await summary;
  if (room === 'not_found') store.set({ screen: 'not_found' });
  else store.set({ screen: 'name', ...(room ? { room } : {}) });
}

const path = location.pathname;
const match = path.match(/^\/r\/([A-Za-z0-9_-]+)\/?$/);
if (path === '/' || path === '/index.html') store.set({ screen: 'home' });
else if (match) startRoom(match[1]);
else store.set({ screen: 'missing' });
