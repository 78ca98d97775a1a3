// client.js — owns the connection to potluckd (proto/PROTOCOL.md, potluck.v1):
// one WebSocket at a time, request/reply by id with promises, join, resume
// after any drop with exponential backoff + jitter, retry of requests that got
// the retryable `unavailable` error, dropping events already seen (seq), and
// the member/token kept per room in sessionStorage so that a page reload
// resumes instead of joining again. It knows nothing of the DOM; it reports
// through the handlers it is given:
//   status(state, info)  state: idle | connecting | online | reconnecting | closed
//                        info: { delay } while waiting to reconnect,
//                              { reason: 'left' | 'replaced' } when closed
//   attach({ member, role, snapshot? })  the connection holds the room; with a
//                        snapshot, replace all state by it
//   event(ev)            a room event not seen before, in seq order
//   lost(err)            the session cannot be resumed (and no automatic
//                        re-join was possible): the user must join again
//   clock(offset)        (optional) server clock − local clock in ms, measured
//                        by each ping (half the round trip is assumed each way),
//                        so that turn clocks agree with the server's deadlines
//   frame(msg)           (optional) a message that is neither a reply nor a
//                        room event (no seq, never replayed): `results`,
//                        `reactions`, `signals`
// Join sends a `device` id, random and kept in localStorage for good, so that
// a facilitator's ban holds for this browser (PROTOCOL.md, "Moderation").
import { decode, encode } from '@msgpack/msgpack';

export const SUBPROTOCOL = 'potluck.v1';
// Never reconnect after these: left, replaced by another tab, removed by a facilitator.
const FINAL_CLOSE = { 1000: 'left', 4002: 'replaced', 4004: 'removed' };
const REQUEST_TIMEOUT = 15000; // a reply this late means the connection is dead
const PING_EVERY = 25000; // notices a dead network long before lws would
const PING_TIMEOUT = 10000;
const RETRIES = 5; // attempts after an `unavailable` error

export class RequestError extends Error {
  constructor(code, msg) {
    super(msg || code);
    this.name = 'RequestError';
    this.code = code;
  }
}

// Exponential backoff with "equal jitter": half fixed, half random, so that a
// room full of clients dropped at once does not come back in one burst.
export function backoff(attempt, base = 500, cap = 15000) {
  const d = Math.min(cap, base * 2 ** attempt);
  return d / 2 + (Math.random() * d) / 2;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const storageKey = (room) => `potluck:room:${room}`;
const DEVICE_KEY = 'potluck:device';

// This browser's device id: 128 random bits, created once and kept. Without
// storage it lives as long as the page (a ban then holds for this page only).
let device = null;
export function deviceId() {
  if (device) return device;
  try {
    device = localStorage.getItem(DEVICE_KEY);
  } catch {
    /* storage disabled */
  }
  if (!device || device.length > 128) {
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    device = btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
    try {
      localStorage.setItem(DEVICE_KEY, device);
    } catch {
      /* as above */
    }
  }
  return device;
}

// The per-tab session of one room: { name?, key?, member?, token? }.
export function loadSession(room) {
  try {
    return JSON.parse(sessionStorage.getItem(storageKey(room))) || {};
  } catch {
    return {};
  }
}

function saveSession(room, s) {
  try {
    sessionStorage.setItem(storageKey(room), JSON.stringify(s));
  } catch {
    /* private mode or full: the session just won't survive a reload */
  }
}

export function defaultUrl() {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
}

export class Client {
  constructor(room, handlers, url = defaultUrl()) {
    this.room = room;
    this.h = handlers;
    this.url = url;
    this.session = loadSession(room);
    this.ws = null;
    this.attached = false; // this connection holds the room (joined or resumed)
    this.final = null; // 'left' | 'replaced' once we must not reconnect
    this.nextId = 1;
    this.pending = new Map(); // request id -> { resolve, reject, timer }
    this.waiters = []; // requests waiting for an open or attached connection
    this.lastSeq = 0; // highest seq seen; 0 on a fresh page, so a resume replays all
    this.attempt = 0; // reconnect attempts since the last success
    this.timer = null; // pending reconnect
    this.pinger = null;
    this.chatChain = Promise.resolve();
    addEventListener('online', () => {
      if (this.timer) this.connect(); // the network is back: don't wait out the backoff
    });
  }

  get joined() {
    return Boolean(this.session.token);
  }

  // Remembers intent for this room (the facilitator key from the link) so a
  // reload before joining keeps it.
  remember(fields) {
    this.session = { ...this.session, ...fields };
    saveSession(this.room, this.session);
  }

  // Resumes a stored session, if any.
  start() {
    if (this.joined) this.connect();
  }

  // Takes the room over again after a 4002 (the other tab is then replaced).
  reclaim() {
    this.final = null;
    this.attempt = 0;
    this.connect();
  }

  async join(name, key) {
    this.final = null;
    const r = await this.call({ t: 'join', room: this.room, name, device: deviceId(), ...(key ? { key } : {}) }, 'open');
    this.remember({ name, key: key || undefined, member: r.member, token: r.token });
    this.adopt(r, r.snapshot);
    return r;
  }

  // One at a time, so that retries cannot reorder one person's messages.
  chat(text) {
    const p = this.chatChain.then(() => this.call({ t: 'chat', text }));
    this.chatChain = p.catch(() => {});
    return p;
  }

  // Any other request of the protocol (hands, floor, timer…): resolves with
  // the `ok` reply, rejects with a RequestError carrying the error code.
  request(msg) {
    return this.call(msg);
  }

  // Leaves for good. Whatever the server answers, this tab forgets the session.
  async leave() {
    try {
      if (this.attached) await this.call({ t: 'leave' });
    } finally {
      this.final = 'left';
      this.session = { name: this.session.name };
      saveSession(this.room, this.session);
      clearTimeout(this.timer);
      if (this.ws) this.ws.close(1000);
      else this.h.status('closed', { reason: 'left' });
    }
  }

  // Sends a request once the connection is ready ('attached': holds the room;
  // 'open': any open socket, for join); retries `unavailable` with backoff.
  async call(msg, need = 'attached') {
    const deadline = Date.now() + REQUEST_TIMEOUT;
    for (let i = 0; ; i++) {
      await this.until(need, deadline - Date.now());
      try {
        return await this.send(msg);
      } catch (e) {
        if (e.code !== 'unavailable' || i >= RETRIES) throw e;
        await sleep(backoff(i, 250, 4000));
      }
    }
  }

  // ---- internals ---------------------------------------------------------

  connect() {
    clearTimeout(this.timer);
    this.timer = null;
    if (this.ws || this.final) return;
    this.h.status(this.attempt ? 'reconnecting' : 'connecting', {});
    const ws = new WebSocket(this.url, SUBPROTOCOL);
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    ws.onopen = () => (this.joined ? this.resume(ws) : this.wake());
    ws.onmessage = (e) => this.receive(e.data);
    ws.onclose = (e) => this.closed(ws, e.code);
  }

  async resume(ws) {
    const s = this.session;
    for (let i = 0; ; i++) {
      try {
        const r = await this.send({ t: 'resume', room: this.room, member: s.member, token: s.token, seq: this.lastSeq });
        this.remember({ member: r.member, token: r.token || s.token });
        this.adopt(r, r.snapshot);
        return;
      } catch (e) {
        if (ws !== this.ws) return; // dropped meanwhile: closed() schedules the next try
        if (e.code === 'unavailable' && i < RETRIES) {
          await sleep(backoff(i, 250, 4000));
          continue;
        }
        if (e.code === 'disconnected' || e.code === 'timeout') return;
        this.forget(e);
        return;
      }
    }
  }

  // The stored session is gone (grace period over, room deleted…). After
  // invalid_token the protocol says: join again; we can, since we know the name.
  async forget(err) {
    const { name, key } = this.session;
    this.session = { name, key };
    saveSession(this.room, this.session);
    this.lastSeq = 0;
    if (err.code === 'invalid_token' && name) {
      try {
        await this.join(name, key);
        return;
      } catch (e) {
        err = e;
      }
    }
    this.h.lost(err);
  }

  adopt(reply, snapshot) {
    if (snapshot) this.lastSeq = snapshot.seq;
    this.attached = true;
    this.attempt = 0;
    this.h.attach({ member: reply.member, role: reply.role, snapshot });
    this.h.status('online', {});
    this.wake();
    clearInterval(this.pinger);
    this.pinger = setInterval(() => this.ping(), PING_EVERY);
    this.ping();
  }

  ping() {
    if (!this.attached) return;
    const t0 = Date.now();
    this.send({ t: 'ping' }, PING_TIMEOUT).then((r) => {
      const t1 = Date.now();
      if (typeof r.ts === 'number') this.h.clock?.(r.ts - (t0 + t1) / 2);
    }, () => {});
  }

  send(msg, timeout = REQUEST_TIMEOUT) {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN)
      return Promise.reject(new RequestError('disconnected', 'not connected'));
    const id = this.nextId;
    this.nextId = id >= 0xffffffff ? 1 : id + 1;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new RequestError('timeout', 'no reply from the server'));
        this.drop(ws);
      }, timeout);
      this.pending.set(id, { resolve, reject, timer });
      ws.send(encode({ ...msg, id }));
    });
  }

  receive(data) {
    if (!(data instanceof ArrayBuffer)) return; // the server only sends binary
    let m;
    try {
      m = decode(data);
    } catch {
      return;
    }
    if (!m || typeof m !== 'object') return;
    if (m.t === 'ok' || m.t === 'error') {
      const p = this.pending.get(m.id);
      if (!p) return; // late reply to a request that timed out, or id nil
      this.pending.delete(m.id);
      clearTimeout(p.timer);
      if (m.t === 'ok') p.resolve(m);
      else p.reject(new RequestError(m.code, m.msg));
      return;
    }
    if (!this.attached) return;
    if (typeof m.seq !== 'number') {
      if (typeof m.t === 'string') this.h.frame?.(m); // results, reactions, signals
      return;
    }
    if (m.seq <= this.lastSeq) return;
    this.lastSeq = m.seq;
    this.h.event(m);
  }

  // Gives up on a socket that stopped answering, without waiting for the
  // browser's close handshake (which can take minutes on a dead network).
  drop(ws) {
    if (ws !== this.ws) return;
    try {
      ws.close();
    } catch {
      /* already closing */
    }
    this.closed(ws, 1006);
  }

  closed(ws, code) {
    if (ws !== this.ws) return;
    ws.onopen = ws.onmessage = ws.onclose = null;
    this.ws = null;
    this.attached = false;
    clearInterval(this.pinger);
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(new RequestError('disconnected', 'connection lost'));
    }
    this.pending.clear();
    const final = this.final || FINAL_CLOSE[code];
    if (final) {
      this.final = final;
      if (final === 'left' || final === 'removed') this.session = { name: this.session.name };
      saveSession(this.room, this.session);
      this.fail(new RequestError('closed', final));
      this.h.status('closed', { reason: final });
      return;
    }
    if (!this.joined) {
      // Nothing to resume: join will open a new connection when asked.
      this.fail(new RequestError('disconnected', 'connection lost'));
      this.h.status('idle', {});
      return;
    }
    const delay = backoff(this.attempt++);
    this.h.status('reconnecting', { delay });
    this.timer = setTimeout(() => this.connect(), delay);
  }

  // Resolves when the connection is ready for a request that needs `need`.
  until(need, ms) {
    if (this.final && need === 'attached') return Promise.reject(new RequestError('closed', this.final));
    if (this.attached || (need === 'open' && this.ws?.readyState === WebSocket.OPEN && !this.joined))
      return Promise.resolve();
    if (!this.ws && !this.timer) this.connect();
    return new Promise((resolve, reject) => {
      const w = { need, resolve, reject };
      w.timer = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        reject(new RequestError('timeout', 'not connected'));
      }, Math.max(0, ms));
      this.waiters.push(w);
    });
  }

  wake() {
    const ready = (w) => this.attached || (w.need === 'open' && !this.joined);
    for (const w of this.waiters.filter(ready)) {
      clearTimeout(w.timer);
      w.resolve();
    }
    this.waiters = this.waiters.filter((w) => !ready(w));
  }

  fail(err) {
    for (const w of this.waiters) {
      clearTimeout(w.timer);
      w.reject(err);
    }
    this.waiters = [];
  }
}
