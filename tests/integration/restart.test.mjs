// Durability of the embedded log across restarts (DESIGN.md "Log backends",
// PROTOCOL.md "Embedded log files", close code 1001).
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { openSync, writeSync, closeSync, truncateSync, readFileSync, readdirSync } from 'node:fs';
import { join as pathJoin } from 'node:path';
import { spawnSync } from 'node:child_process';
import { startServer, createRoom, tempDir, binary, freePort } from '../lib/server.mjs';
import { connect, joinedClient, closeAll, chatView } from '../lib/client.mjs';
import { stopCleanly } from '../lib/lifecycle.mjs';
import { readLog } from '../lib/session.mjs';

const servers = [];
const clients = [];
async function start(dataDir, args) {
  const srv = await startServer({ dataDir, args });
  servers.push(srv);
  return srv;
}
async function join(srv, room, name, key) {
  const c = await joinedClient(srv.wsUrl, room, name, key);
  clients.push(c);
  return c;
}
after(async () => {
  await closeAll(clients);
  await Promise.all(servers.map((s) => s.stop({ signal: 'SIGKILL' })));
});

const logPath = (dataDir, roomId) => pathJoin(dataDir, 'rooms', `${roomId}.log`);

// Starts a server, creates a room, has Ann send `texts`; resolves with what
// Ann received (the chat events) once every message came back.
async function roomWithChat(dataDir, texts) {
  const srv = await start(dataDir);
  const room = await createRoom(srv, 'Durable room');
  const a = await join(srv, room.room_id, 'Ann');
  for (const text of texts) {
    const ok = await a.chat(text);
    assert.equal(ok.t, 'ok', JSON.stringify(ok));
    await a.waitFor((m) => m.t === 'chat' && m.seq === ok.seq);
  }
  return { srv, room, a, chats: a.events((m) => m.t === 'chat').map(chatView) };
}

describe('restart', () => {
  it('keeps a room, its title and its chat across a SIGKILL', async () => {
    const dataDir = tempDir();
    const { srv, room, a, chats } = await roomWithChat(dataDir, ['one', 'two', 'three']);
    const created = a.joinReply.snapshot.room.created;
    const r = await srv.stop({ signal: 'SIGKILL' });
    assert.equal(r.signal, 'SIGKILL');

    const srv2 = await start(dataDir);
    const summary = await fetch(`${srv2.url}/api/rooms/${room.room_id}`);
    assert.equal(summary.status, 200, 'the room is known again after the restart');
    assert.equal((await summary.json()).title, 'Durable room');

    const c = await join(srv2, room.room_id, 'Cid');
    const s = c.joinReply.snapshot;
    assert.equal(s.room.id, room.room_id);
    assert.equal(s.room.title, 'Durable room');
    assert.equal(s.room.created, created);
    assert.deepEqual(s.chat.map(chatView), chats, 'the earlier chat, with the same seq, ts, sender and text');
    assert.ok(s.seq > chats.at(-1).seq, 'seq continues after the restart');
    const ok = await c.chat('after restart');
    assert.ok(ok.seq > s.seq, 'seq keeps increasing after the restart');
  });

  it('closes connected clients with 1001 on SIGTERM and exits with status 0', async () => {
    const srv = await start(tempDir());
    const room = await createRoom(srv);
    const a = await join(srv, room.room_id, 'Ann');
    const b = await join(srv, room.room_id, 'Bob');
    const idle = await connect(srv.wsUrl);   // connected, never joined
    clients.push(idle);
    const [exit, ca, cb, ci] = await Promise.all([
      srv.stop({ signal: 'SIGTERM', timeoutMs: 8000 }), a.closed(8000), b.closed(8000), idle.closed(8000)]);
    assert.equal(ca.code, 1001);
    assert.equal(cb.code, 1001);
    assert.equal(ci.code, 1001);
    assert.deepEqual(exit, { code: 0, signal: null }, `exit status; server output:\n${srv.logs()}`);
  });

  it('lets a client resume on the restarted server after a SIGTERM (close 1001: reconnect and resume)', async () => {
    const dataDir = tempDir();
    const { srv, room, a, chats } = await roomWithChat(dataDir, ['before shutdown']);
    const closed = a.closed(8000);
    await srv.stop({ signal: 'SIGTERM', timeoutMs: 8000 });
    assert.equal((await closed).code, 1001);

    const srv2 = await start(dataDir);
    const a2 = await connect(srv2.wsUrl);
    clients.push(a2);
    const r = await a2.resume(room.room_id, a.member, a.token, a.lastSeq);
    assert.equal(r.t, 'ok', `resume after restart: ${JSON.stringify(r)}`);
    assert.equal(r.member, a.member);
    if (r.snapshot) assert.deepEqual(r.snapshot.chat.map(chatView), chats);
    else assert.ok(Number.isInteger(r.replay), 'either a replay count or a snapshot');
    const ok = await a2.chat('after restart');
    const ev = await a2.waitFor((m) => m.t === 'chat' && m.seq === ok.seq);
    assert.equal(ev.from, a.member);
  });

  it('drops garbage after the last record (a torn tail) and keeps the chat', async () => {
    const dataDir = tempDir();
    const { srv, room, chats } = await roomWithChat(dataDir, ['alpha', 'beta', 'gamma']);
    await srv.stop({ signal: 'SIGKILL' });
    const file = logPath(dataDir, room.room_id);
    // A torn write where the next record would have gone (in front of the
    // zeros the server had allocated ahead, if any).
    const { end } = readLog(file);
    const fd = openSync(file, 'r+');
    writeSync(fd, Buffer.from([0x2a, 0x00, 0x00, 0x00, 0xde, 0xad, 0xbe]), 0, 7, end);
    closeSync(fd);

    const srv2 = await start(dataDir);
    const c = await join(srv2, room.room_id, 'Cid');
    assert.deepEqual(c.joinReply.snapshot.chat.map(chatView), chats);
    const ok = await c.chat('delta');
    assert.equal(ok.t, 'ok', JSON.stringify(ok));
    await c.waitFor((m) => m.t === 'chat' && m.seq === ok.seq);
    await srv2.stop({ signal: 'SIGKILL' });
    const { records, end: after } = readLog(file);   // every record is valid again
    assert.ok(after > end, 'the new record was written');
    assert.equal(records.at(-1).rec.text, 'delta');

    // The garbage was cut off, not left in front of the new record.
    const srv3 = await start(dataDir);
    const d = await join(srv3, room.room_id, 'Dee');
    assert.deepEqual(d.joinReply.snapshot.chat.map((m) => m.text), ['alpha', 'beta', 'gamma', 'delta']);
  });

  it('drops a half-written last record and keeps the records before it', async () => {
    const dataDir = tempDir();
    const { srv, room, chats } = await roomWithChat(dataDir, ['first', 'second', 'third']);
    await srv.stop({ signal: 'SIGKILL' });
    const file = logPath(dataDir, room.room_id);
    truncateSync(file, readLog(file).end - 3);   // the last record is the chat "third"

    const srv2 = await start(dataDir);
    const c = await join(srv2, room.room_id, 'Cid');
    assert.deepEqual(c.joinReply.snapshot.chat.map(chatView), chats.slice(0, 2));
  });

  it('writes the room log in the documented record format', async () => {
    const dataDir = tempDir();
    const { srv, room } = await roomWithChat(dataDir, ['on disk']);
    await srv.stop({ signal: 'SIGKILL' });
    const { buf, records } = readLog(logPath(dataDir, room.room_id));
    assert.ok(records.length >= 3, `create, join, chat: ${records.length} records`);
    records.forEach((r) => {
      assert.ok(Math.abs(r.ts - Date.now()) < 60000, `ts in ms: ${r.ts}`);
    });
    const [create] = records;
    assert.equal(create.rec.k, 'create');
    assert.equal(create.rec.id, room.room_id);
    assert.equal(create.rec.title, 'Durable room');
    assert.ok(create.rec.kh instanceof Uint8Array && create.rec.kh.length === 32, 'kh is bin 32');
    const kh = Buffer.from(create.rec.kh).toString('hex');
    const sha = (b) => createHash('sha256').update(b).digest('hex');
    assert.ok([sha(room.facilitator_key), sha(Buffer.from(room.facilitator_key, 'base64url'))].includes(kh),
      'kh is the SHA-256 of the facilitator key');
    assert.ok(!buf.includes(Buffer.from(room.facilitator_key)), 'the key itself is not stored');
    const kinds = records.map((r) => r.rec.k);
    assert.ok(kinds.includes('join'), `kinds: ${kinds}`);
    const chat = records.find((r) => r.rec.k === 'chat');
    assert.equal(chat?.rec.text, 'on disk');
  });

  it('runs on one thread: the log is synced by a child process, not a thread pool', async () => {
    const dataDir = tempDir();
    const { srv } = await roomWithChat(dataDir, ['sync me']);
    await new Promise((r) => setTimeout(r, 1500));   // past a sync (every 1000 ms by default)
    const status = readFileSync(`/proc/${srv.proc.pid}/status`, 'utf8');
    assert.match(status, /^Threads:\s+1$/m, 'one thread');
    const parentOf = (pid) => {
      try { return readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ')[1]; } catch { return null; }
    };
    const kids = readdirSync('/proc').filter((d) => /^\d+$/.test(d) && parentOf(d) === String(srv.proc.pid));
    assert.equal(kids.length, 1, `one syncer process: ${kids}`);
    const kid = readFileSync(`/proc/${kids[0]}/status`, 'utf8');
    assert.match(kid, /^Name:\s+potluckd-sync$/m);
    assert.match(kid, /^Threads:\s+1$/m);
  });

  it('refuses a second server on the same data directory, naming the first; the lock goes with it', async () => {
    const dataDir = tempDir();
    const { srv, room, chats } = await roomWithChat(dataDir, ['mine']);
    const second = spawnSync(binary, ['--host', '127.0.0.1', '--port', String(await freePort()),
      '--data-dir', dataDir], { encoding: 'utf8', timeout: 10000 });
    assert.equal(second.status, 1, second.stderr);
    assert.match(second.stderr, new RegExp(`in use by another potluckd \\(pid ${srv.proc.pid}\\)`));
    await srv.stop({ signal: 'SIGKILL' });
    const srv2 = await start(dataDir);   // nothing to clean up after a kill
    const c = await join(srv2, room.room_id, 'Cid');
    assert.deepEqual(c.joinReply.snapshot.chat.map(chatView), chats);
  });

  it('stops every server still running cleanly on SIGTERM: exit status 0, no sanitizer report', async () => {
    await closeAll(clients);
    const running = servers.filter((srv) => srv.proc.exitCode === null && srv.proc.signalCode === null);
    for (const srv of running) await stopCleanly(srv);
  });
});
