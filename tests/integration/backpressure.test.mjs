// Backpressure: a client that stops reading is closed with 4001 once its
// bounded outbound queue overflows; nobody else waits for it, and it resumes
// afterwards (PROTOCOL.md, "Close codes" and "Limits").
//
// The queue bound is made small (--queue-kib 64) so that the kernel's socket
// buffers, which fill first, do not make the test slow; the rate limit is
// raised so one sender can produce enough traffic.
//
// All of it runs twice: with each flush's writes batched on an io_uring (the
// default) and with one send() per connection (--io-uring off). A short
// write is handled on whichever path made it: the first test's paused reader
// meets its first one in a batch when batching is on (small frames), the
// snapshots theirs on the path of big queues in both runs.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, createRoom } from '../lib/server.mjs';
import { connect, joinedClient, closeAll } from '../lib/client.mjs';
import { stopCleanly } from '../lib/lifecycle.mjs';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const slowReader = fileURLToPath(new URL('../lib/slow_reader.py', import.meta.url));

for (const uring of ['on', 'off']) describe(`backpressure (io_uring ${uring})`, () => {
  let srv;
  let room;
  const clients = [];

  before(async () => {
    srv = await startServer({ args: ['--queue-kib', '64', '--rate', '5000', '--burst', '5000',
      '--io-uring', uring] });
    room = await createRoom(srv, 'Slow readers');
  });

  after(async () => {
    await closeAll(clients);
    if (srv) await srv.stop({ signal: 'SIGKILL' });
  });

  it('closes a client that stops reading with 4001, keeps the others going, and lets it resume', async () => {
    const slow = await joinedClient(srv.wsUrl, room.room_id, 'Slow');
    const fast = await joinedClient(srv.wsUrl, room.room_id, 'Fast');
    clients.push(slow, fast);
    const lastSeenBeforePause = slow.lastSeq || 0;
    slow.ws._socket.pause(); // stop reading: the kernel buffers fill, then the queue

    const text = 'x'.repeat(2000);
    let acked = 0;
    let closedWith = null;
    const closedP = slow.closed(60000).then((c) => { closedWith = c; });
    // Bounded: at most 4000 messages (about 8 MB of frames for the slow one).
    for (let i = 0; i < 4000 && !closedWith; i++) {
      const r = await fast.request({ t: 'chat', text });
      assert.equal(r.t, 'ok', `the fast client keeps being served (message ${i})`);
      acked++;
      if (i % 200 === 199) {
        // let the slow socket see what is pending: resuming reading briefly
        // would drain it, so only peek at whether the server gave up on it
        const m = await fetch(`${srv.url}/metrics`).then((x) => x.text());
        if (/potluck_slow_closes_total [1-9]/.test(m)) break;
      }
    }
    const metrics = await fetch(`${srv.url}/metrics`).then((x) => x.text());
    assert.match(metrics, /potluck_slow_closes_total 1\b/, 'the server closed the slow client');
    const batched = Number(/^potluck_socket_writes_batched_total (\d+)/m.exec(metrics)?.[1]);
    const batches = Number(/^potluck_socket_write_batches_total (\d+)/m.exec(metrics)?.[1]);
    if (uring === 'on') {
      assert.ok(batched > batches && batches > 0,
        `writes went out in batches of more than one (${batched} in ${batches})`);
    } else {
      assert.equal(batched, 0, 'no batches with --io-uring off');
    }
    slow.ws._socket.resume(); // now read: the queued data, then the close frame
    await closedP;
    assert.equal(closedWith.code, 4001, 'too slow: 4001');
    assert.ok(acked > 0);

    // It resumes: same member, and the state it missed (as a snapshot).
    const again = await connect(srv.wsUrl);
    clients.push(again);
    const r = await again.request({ t: 'resume', room: room.room_id, member: slow.member,
      token: slow.token, seq: lastSeenBeforePause });
    assert.equal(r.t, 'ok', JSON.stringify(r).slice(0, 200));
    assert.equal(r.member, slow.member);
    assert.ok(r.snapshot || r.replay >= 0);

    // And the fast client was never held up: a last message goes through.
    const last = await fast.request({ t: 'chat', text: 'still here' });
    assert.equal(last.t, 'ok');
  });

  it('sends a snapshot of many writes whole to a reader that pauses, then what followed it, in order', async () => {
    const big = await createRoom(srv, 'Big snapshot');
    const writer = await joinedClient(srv.wsUrl, big.room_id, 'Writer');
    clients.push(writer);
    // the last 50 messages of 8,000 bytes each: a snapshot of about 400 KB
    const text = (i) => `${i} ${'🧆'.repeat(1990)}`;
    for (let i = 0; i < 50; i++) assert.equal((await writer.chat(text(i))).t, 'ok');

    const reader = await connect(srv.wsUrl);
    clients.push(reader);
    const joined = reader.join(big.room_id, 'Reader', undefined, 20000);
    reader.ws._socket.pause(); // the server's writes fall short while the snapshot goes out
    // the join and the next chat come on two connections: the chat must not
    // overtake the join (it would be in the snapshot, pushing message 0 out)
    await writer.waitFor((m) => m.t === 'joined' && m.member?.name === 'Reader', 20000);
    const after = await writer.chat('after the snapshot');
    assert.equal(after.t, 'ok');
    reader.ws._socket.resume();
    const r = await joined;
    assert.equal(r.t, 'ok');
    const chat = r.snapshot.chat;
    assert.equal(chat.length, 50);
    chat.forEach((m, i) => assert.ok(m.text === text(i), `message ${i} intact`));
    const ev = await reader.waitFor((m) => m.t === 'chat' && m.text === 'after the snapshot', 20000);
    assert.equal(ev.seq, after.seq);
    assert.ok(ev.seq > r.snapshot.seq, 'the later message follows the snapshot');
    assert.deepEqual(reader.messages.filter((m) => m.$undecodable || m.$text), [], 'every frame decodes');
  });

  // Runs tests/lib/slow_reader.py against the server; its JSON summary.
  function slowReaderRun(...args) {
    const port = Number(new URL(srv.url).port);
    return new Promise((resolve, reject) => {
      execFile('python3', [slowReader, String(port), ...args], { timeout: 120000 }, (err, stdout, stderr) => {
        const line = stdout.trim().split('\n').pop();
        if (!line || !line.startsWith('{')) reject(new Error(`slow_reader.py: ${stderr || err}`));
        else resolve(JSON.parse(line));
      });
    });
  }

  it('does not count the unsent rest of a snapshot as backlog', async () => {
    // the same reader, but only 10 messages of 1,500 bytes follow the
    // 400 KB snapshot: far below the 64 KiB bound once the snapshot is out
    const out = await slowReaderRun('steady');
    assert.equal(out.slow_closes, 0, `not closed (${JSON.stringify(out)})`);
    assert.equal(out.cut_off, 0);
    assert.equal(out.chats, 10, 'every message after the snapshot arrived');
  });

  it('finishes a half-written snapshot before closing a slow reader with 4001', async () => {
    // tests/lib/slow_reader.py: a reader with a 4 KiB receive window joins a
    // room with a 400 KB snapshot and reads nothing while another member
    // chats, until the server gives up on it; then it reads what it got
    const out = await slowReaderRun();
    assert.equal(out.slow_closes, 1, 'the server closed the slow reader');
    assert.equal(out.cut_off, 0, `no frame cut off (${JSON.stringify(out)})`);
    assert.ok(out.sizes[0] > 400000, 'the snapshot came whole first');
    assert.equal(out.close, 4001, 'then the close frame: too slow');
  });

  it('answers a ping that comes while a snapshot is half written after the snapshot, not inside it', async () => {
    // tests/lib/slow_reader.py ping: the reader's 4 KiB window stops the
    // 400 KB snapshot part-way; lws answers the ping as soon as its own
    // buffer is empty, so that buffer must hold the snapshot's whole rest
    const out = await slowReaderRun('ping');
    assert.equal(out.cut_off, 0, `every frame whole (${JSON.stringify(out)})`);
    assert.equal(out.frames[0][0], 2, 'the join reply first');
    assert.ok(out.frames[0][1] > 300000, 'with the whole snapshot');
    assert.equal(out.frames[1][0], 10, 'then the pong');
    assert.ok(out.pong, 'carrying the ping\'s payload');
  });

  it('closes a reader that stalls after reading fast before the kernel holds megabytes for it', async () => {
    // tests/lib/slow_reader.py: a reader with a 64 KiB receive buffer reads
    // 50 messages of 8,000 bytes as they come, then stops; another member
    // chats until the server gives up on it. The server's send buffer is
    // capped (--sndbuf-kib, default 128: 256 KiB as the kernel counts), so
    // what it takes on for the reader is about that + the 64 KiB queue + one
    // 64 KiB write lws keeps + the reader's receive buffer: 0.3–0.5 MB here.
    // Left to autotuning (--sndbuf-kib 0) the send buffer of a loopback
    // connection is ~4 MiB, and the reader is closed only after ~4.1 MB.
    const out = await slowReaderRun('stall');
    assert.equal(out.slow_closes, 1, `the server closed the slow reader (${JSON.stringify(out)})`);
    assert.ok(out.after_stop < 1500000,
      `closed after ${out.after_stop} bytes, not megabytes (${JSON.stringify(out)})`);
    assert.equal(out.cut_off, 0);
    assert.equal(out.close, 4001, 'too slow');
  });

  it('stops cleanly', async () => {
    await stopCleanly(srv);
    srv = null;
  });
});
