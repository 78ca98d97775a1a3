// Helpers for integration tests that run a small session in a room: a
// facilitator and participants, requests that must succeed or fail with a
// code, events found alone or inside a `batch`, and the room's log file.
//
//   const s = sessions(() => srv);             // in a describe, after srv is started
//   const { room, f, ps: [a, b] } = await s.session('Ann', 'Bob');
//   const since = await ok(f, { t: 'lock' });  // f's message count before the request
//   const ev = await next(a, since, 'mod', (e) => e.entry.action === 'lock');
//   await refused(a, { t: 'lock' }, 'forbidden');
//   s.closeAll()                               // in afterEach
//
// Every wait has a deadline; nothing here sleeps.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join as pathJoin } from 'node:path';
import { decode } from '@msgpack/msgpack';
import { createRoom } from './server.mjs';
import { connect, joinedClient, closeAll, isEvent } from './client.mjs';

// The events one message stands for: a batch's events, or the message itself.
export const flat = (m) => (m && m.t === 'batch' ? m.events || [] : [m]);

// The first event of type t (alone or in a batch) c received at message
// index `since` or later that matches pred.
export async function next(c, since, t, pred = () => true, timeoutMs = 5000) {
  const hit = (e) => e && e.t === t && pred(e);
  const m = await c.waitFor((x) => isEvent(x) && flat(x).some(hit), timeoutMs,
    { since, what: `a ${t} event` });
  return flat(m).find(hit);
}

// The first non-event message of type t (e.g. results, reactions, signals).
export function nextFrame(c, since, t, pred = () => true, timeoutMs = 5000) {
  return c.waitFor((x) => x && x.t === t && pred(x), timeoutMs, { since, what: `a ${t} frame` });
}

// Every event of type t c received from index since on (batches opened).
export const eventsOf = (c, t, since = 0) =>
  c.messages.slice(since).filter(isEvent).flatMap(flat).filter((e) => e.t === t);

// Sends a request that must succeed; resolves with the watcher's message
// count from before it was sent, to wait for its events from there (use
// okReply for the reply itself).
export async function ok(c, req, watcher = c) {
  const since = watcher.messages.length;
  const r = await c.request(req);
  assert.equal(r.t, 'ok', `${JSON.stringify(req)} → ${JSON.stringify(r)}`);
  return since;
}

// Sends a request that must succeed; resolves with its reply.
export async function okReply(c, req) {
  const r = await c.request(req);
  assert.equal(r.t, 'ok', `${JSON.stringify(req)} → ${JSON.stringify(r)}`);
  return r;
}

export async function refused(c, req, code) {
  const r = await c.request(req);
  assert.equal(r.t, 'error', `${JSON.stringify(req)} must fail with ${code}: ${JSON.stringify(r)}`);
  assert.equal(r.code, code, `${JSON.stringify(req)} → ${JSON.stringify(r)}`);
  return r;
}

// Rooms with a facilitator and participants on the server getSrv() returns;
// remembers every client for closeAll().
export function sessions(getSrv) {
  let clients = [];
  const track = (c) => { clients.push(c); return c; };
  return {
    track,
    async join(room, name, key) {
      return track(await joinedClient(getSrv().wsUrl, room, name, key));
    },
    async open() { return track(await connect(getSrv().wsUrl)); },
    // A fresh room with facilitator f (who holds the key) and the named
    // participants; resolves once f has seen every one of them join.
    async session(...names) {
      const srv = getSrv();
      const room = await createRoom(srv, 'Facilitation room');
      const f = track(await joinedClient(srv.wsUrl, room.room_id, 'Fran', room.facilitator_key));
      assert.equal(f.role, 'facilitator');
      const ps = [];
      for (const n of names) ps.push(track(await joinedClient(srv.wsUrl, room.room_id, n)));
      for (const p of ps) await f.waitFor((m) => m.t === 'joined' && m.member.id === p.member);
      return { room, f, ps };
    },
    async closeAll() { const cs = clients; clients = []; await closeAll(cs); },
  };
}

// ---- the room's log file (PROTOCOL.md "Embedded log files") ----------------

export const logPath = (dataDir, roomId) => pathJoin(dataDir, 'rooms', `${roomId}.log`);

const CRC32C_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32c(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC32C_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

// Reads a room's log file record by record, checking the framing and that
// seq is gap-free; each record is { seq, ts, rec (the decoded map), bytes
// (its msgpack) }. A zero length ends the records (PROTOCOL.md): a server
// that was killed leaves the zeros it had allocated ahead; nothing but zeros
// may follow. `end` is the offset just after the last record.
export function readLog(file) {
  const buf = readFileSync(file);
  const records = [];
  let off = 0;
  while (off < buf.length) {
    assert.ok(off + 8 <= buf.length, `record header at ${off}`);
    const len = buf.readUInt32LE(off);
    if (len === 0) {
      assert.ok(buf.subarray(off).every((b) => b === 0), `only zeros after the records, from ${off}`);
      break;
    }
    const crc = buf.readUInt32LE(off + 4);
    assert.ok(len >= 16 && off + 8 + len <= buf.length, `record length ${len} at ${off}`);
    const rest = buf.subarray(off + 8, off + 8 + len);
    assert.equal(crc, crc32c(rest), `CRC-32C of the record at ${off}`);
    const bytes = rest.subarray(16);
    records.push({
      seq: Number(rest.readBigUInt64LE(0)),
      ts: Number(rest.readBigInt64LE(8)),
      rec: decode(bytes, { useBigInt64: true }),
      bytes,
    });
    off += 8 + len;
  }
  records.forEach((r, i) => {
    if (i) assert.equal(r.seq, records[i - 1].seq + 1, `seq gap-free at record ${i}`);
  });
  return { buf, records, end: off };
}
