// A small potluck.v1 test client over `ws`.
//
//   const c = await connect(srv.wsUrl);          // offers subprotocol potluck.v1
//   const r = await c.join(roomId, 'Ann');        // reply; on ok sets c.member, c.token, c.role
//   const ok = await c.request({ t: 'chat', text: 'hi' });   // id assigned automatically
//   const ev = await c.waitFor((m) => m.t === 'chat' && m.seq === ok.seq);
//   const { code, reason } = await c.closed();
//
// Every received frame is kept, decoded, in c.messages (a text frame as
// { $text }, bytes that are not MessagePack as { $undecodable }), so a test
// can look back as well as wait ahead. Every wait has a deadline; nothing
// here sleeps.
import WebSocket from 'ws';
import { encode, decode } from '@msgpack/msgpack';

export const SUBPROTOCOL = 'potluck.v1';
export const DEFAULT_TIMEOUT = 5000;

// Events are server messages that carry a room seq and are not replies.
export const isEvent = (m) => m && typeof m.t === 'string' && m.t !== 'ok' && m.t !== 'error'
  && typeof m.seq === 'number';

// The fields PROTOCOL.md defines, for comparisons that must not fail on
// extra keys (clients ignore unknown keys, so a server may add some).
export const pick = (o, keys) => (o == null ? o : Object.fromEntries(keys.filter((k) => k in o).map((k) => [k, o[k]])));
// A <member> with its left-out fields at their usual values (PROTOCOL.md).
export const memberOf = (m) => (m == null ? m
  : { role: 'participant', online: true, turns: 0, speak_ms: 0, muted: false, ...m });
export const memberView = (m) => pick(memberOf(m), ['id', 'name', 'role', 'online']);
export const chatView = (m) => pick(m, ['seq', 'ts', 'from', 'name', 'text']);

export class Client {
  constructor(ws) {
    this.ws = ws;
    this.messages = [];
    this.errors = [];       // 'error' events of the socket (kept, never thrown)
    this.nextId = 1;
    this.lastSeq = 0;       // highest seq seen in an event or a snapshot
    this.member = undefined;
    this.token = undefined;
    this.role = undefined;
    this.room = undefined;
    this.waiters = new Set();
    this.closeInfo = null;
    this._closed = new Promise((res) => {
      ws.on('close', (code, reason) => {
        this.closeInfo = { code, reason: reason.toString('utf8') };
        for (const w of this.waiters) w.onClose();
        res(this.closeInfo);
      });
    });
    ws.on('error', (err) => this.errors.push(err));
    ws.on('message', (data, isBinary) => this._receive(data, isBinary));
  }

  _receive(data, isBinary) {
    let msg;
    if (!isBinary) msg = { $text: data.toString('utf8') };
    else {
      try { msg = decode(data); } catch { msg = { $undecodable: Buffer.from(data) }; }
    }
    this.messages.push(msg);
    if (isEvent(msg) && msg.seq > this.lastSeq) this.lastSeq = msg.seq;
    if (msg && msg.t === 'ok' && msg.snapshot && typeof msg.snapshot.seq === 'number'
        && msg.snapshot.seq > this.lastSeq) this.lastSeq = msg.snapshot.seq;
    for (const w of this.waiters) w.check(msg, this.messages.length - 1);
  }

  get isOpen() { return this.ws.readyState === WebSocket.OPEN; }

  // Encodes obj as MessagePack and sends it as one binary frame.
  send(obj) { this.sendRaw(encode(obj), { binary: true }); }

  // Sends bytes or a string as is; binary defaults to true for bytes,
  // false for a string. Extra options go to ws (e.g. { fin: false }).
  sendRaw(data, opts = {}) {
    const binary = opts.binary ?? typeof data !== 'string';
    this.ws.send(data, { ...opts, binary });
  }

  // Sends a request and resolves with its reply (ok or error) matched by id.
  // Assigns an id unless obj has one (give id: undefined explicitly? no:
  // use send() for requests without or with a bad id).
  request(obj, timeoutMs = DEFAULT_TIMEOUT) {
    const id = obj.id ?? this.nextId++;
    const p = this.waitFor((m) => (m.t === 'ok' || m.t === 'error') && m.id === id, timeoutMs,
      { since: this.messages.length, what: `reply to ${obj.t} id ${id}` });
    this.send({ ...obj, id });
    return p;
  }

  // Resolves with the first received message (from index `since`, default 0:
  // the whole history) for which predicate is true. Rejects at the deadline
  // or when the socket closes first.
  waitFor(predicate, timeoutMs = DEFAULT_TIMEOUT, { since = 0, what = 'message' } = {}) {
    for (let i = since; i < this.messages.length; i++)
      if (predicate(this.messages[i], i)) return Promise.resolve(this.messages[i]);
    return new Promise((resolve, reject) => {
      const w = {
        check: (m, i) => {
          if (i >= since && predicate(m, i)) { done(); resolve(m); }
        },
        onClose: () => {
          done();
          reject(new Error(`socket closed (${this.closeInfo.code} ${this.closeInfo.reason}) `
            + `while waiting for ${what}; received: ${this.describe()}`));
        },
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; `
          + `received: ${this.describe()}`));
      }, timeoutMs);
      const done = () => { clearTimeout(timer); this.waiters.delete(w); };
      if (this.closeInfo) return w.onClose();
      this.waiters.add(w);
    });
  }

  // Waits until `count` messages match predicate; resolves with them.
  async waitForCount(predicate, count, timeoutMs = DEFAULT_TIMEOUT, { since = 0 } = {}) {
    await this.waitFor(() => this.messages.slice(since).filter(predicate).length >= count,
      timeoutMs, { since, what: `${count} matching messages` });
    return this.messages.slice(since).filter(predicate);
  }

  // The events received so far (optionally only those matching filter).
  events(filter = () => true) { return this.messages.filter((m) => isEvent(m) && filter(m)); }

  // Resolves with { code, reason } when the socket is closed, rejects at the
  // deadline.
  closed(timeoutMs = DEFAULT_TIMEOUT) {
    if (this.closeInfo) return Promise.resolve(this.closeInfo);
    let timer;
    return Promise.race([
      this._closed.finally(() => clearTimeout(timer)),
      new Promise((_, rej) => {
        timer = setTimeout(() => rej(new Error(`socket not closed within ${timeoutMs} ms; `
          + `received: ${this.describe()}`)), timeoutMs);
      }),
    ]);
  }

  // Enters a room as a new member. Resolves with the reply; on ok it also
  // sets member, token, role, room.
  async join(room, name, key, timeoutMs) {
    const req = { t: 'join', room, name };
    if (key !== undefined) req.key = key;
    const r = await this.request(req, timeoutMs);
    if (r.t === 'ok') Object.assign(this, { member: r.member, token: r.token, role: r.role, room });
    return r;
  }

  // Re-attaches as an existing member. Takes either explicit fields or
  // another Client (the dropped one) to copy room/member/token/lastSeq from.
  async resume(roomOrClient, member, token, seq, timeoutMs) {
    let room = roomOrClient;
    if (roomOrClient instanceof Client) {
      ({ room, member, token } = roomOrClient);
      seq = seq ?? roomOrClient.lastSeq;
    }
    const r = await this.request({ t: 'resume', room, member, token, seq }, timeoutMs);
    if (r.t === 'ok') {
      Object.assign(this, { member: r.member, token: r.token ?? token, role: r.role, room });
      if (this.lastSeq < seq) this.lastSeq = seq;
    }
    return r;
  }

  async chat(text, timeoutMs) { return this.request({ t: 'chat', text }, timeoutMs); }

  // Closes politely (close frame); resolves when closed.
  async close(code = 1000) {
    if (this.closeInfo) return this.closeInfo;
    this.ws.close(code);
    return this.closed().catch(() => { this.ws.terminate(); return this.closed(); });
  }

  // Drops the TCP connection without a close frame (a network failure).
  terminate() { this.ws.terminate(); return this._closed; }

  describe(max = 20) {
    const tail = this.messages.slice(-max).map((m) => {
      const j = JSON.stringify(m, replacer);
      return j.length > 300 ? `${j.slice(0, 300)}…` : j;
    });
    return `${this.messages.length} message(s)${this.messages.length > max ? ', last ' + max : ''}: `
      + `[${tail.join(', ')}]`;
  }
}

function replacer(_k, v) {
  if (v instanceof Uint8Array) return { $bin: Buffer.from(v).toString('hex') };
  if (typeof v === 'bigint') return `${v}n`;
  return v;
}

// Opens a WebSocket and resolves with a Client once it is open. protocols
// defaults to [potluck.v1]; pass [] to offer none. Rejects on a refused
// handshake or at the deadline.
export function connect(wsUrl, { protocols = [SUBPROTOCOL], timeoutMs = DEFAULT_TIMEOUT, ...wsOpts } = {}) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(wsUrl, protocols, { handshakeTimeout: timeoutMs, ...wsOpts });
    const client = new Client(ws);   // attach listeners at once: no frame is missed
    const timer = setTimeout(() => { ws.terminate(); reject(new Error(`connect: not open within ${timeoutMs} ms`)); }, timeoutMs);
    const fail = (err) => { clearTimeout(timer); reject(err); };
    ws.once('open', () => { clearTimeout(timer); resolve(client); });
    ws.once('unexpected-response', (_req, res) => {
      ws.terminate();
      const e = new Error(`connect: handshake refused with HTTP ${res.statusCode}`);
      e.statusCode = res.statusCode;
      fail(e);
    });
    ws.once('error', fail);
    ws.once('close', (code) => fail(new Error(`connect: closed before open (${code})`)));
  });
}

// Connects and joins; throws unless the join succeeds. Resolves with the
// client; the join reply is in client.joinReply.
export async function joinedClient(wsUrl, room, name, key) {
  const c = await connect(wsUrl);
  const r = await c.join(room, name, key);
  if (r.t !== 'ok') {
    c.terminate();
    throw new Error(`join ${room} as ${name} failed: ${JSON.stringify(r)}`);
  }
  c.joinReply = r;
  return c;
}

// Closes every given client that is still open (for after/finally).
export async function closeAll(clients) {
  await Promise.all(clients.filter(Boolean).map((c) => (c.closeInfo ? null : c.terminate())));
}
