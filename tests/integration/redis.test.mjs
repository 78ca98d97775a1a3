// Scale-out through Redis (issue 5, deploy/REDIS.md): several potluckd
// instances with --redis share rooms through a real redis-server started
// here (tests/lib/redis.mjs) on a free loopback port, AOF on.
//
//   - three instances, one room, concurrent chat, hands and floor changes:
//     every client the same events, every instance the same state;
//   - subscriptions follow local clients (this one has a Redis of its own
//     and runs beside the others: it waits for a room to be swept);
//   - kill -9 of an instance: its clients resume elsewhere with their places,
//     a member that does not come back is marked left (timeout);
//   - redis-server restarted mid-session: `unavailable` meanwhile, then one
//     order again, nothing lost or twice;
//   - an instance's Redis connection dropped after Redis ran its append (a
//     TCP proxy holds the reply back), or reset: every request gets one true
//     reply, and the instance catches up;
//   - an instance frozen (SIGSTOP) for longer than TTL + grace: its members
//     leave, and its clients are told so when it wakes;
//   - resume on another instance by seq: exactly the missed events;
//   - a Redis on the same machine through its Unix socket (unix://PATH):
//     one session with an instance on TCP; a malformed unix:// URL refused;
//   - figures (diagnostics, not assertions): cross-instance chat latency, the
//     time to load a room of 10,000 records from its stream.
//
// Instances run with --grace 1 so that grace periods are short. Every wait
// has a deadline; every process and socket is torn down even on failure.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readlinkSync, readFileSync } from 'node:fs';
import { createServer as createTcpServer, connect as tcpConnect } from 'node:net';
import { performance } from 'node:perf_hooks';
import { spawn } from 'node:child_process';
import { startServer, createRoom, binary, tempDir } from '../lib/server.mjs';
import { connect, joinedClient, closeAll, chatView, memberOf } from '../lib/client.mjs';
import { stopCleanly } from '../lib/lifecycle.mjs';
import { startRedis } from '../lib/redis.mjs';
import { flat } from '../lib/session.mjs';

const GRACE_S = 1;
const HEARTBEAT_TTL_S = 5; // deploy/REDIS.md: potluck:instance:ID, TTL 5 s
// A dead instance's members leave within the heartbeat TTL, plus two
// liveness checks 1 s apart ("missing twice in a row"), plus the grace
// period (8 s in all), plus 12 s of slack for a slow, loaded machine.
const DEAD_AFTER_MS = (HEARTBEAT_TTL_S + 2 + GRACE_S + 12) * 1000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const jitter = (ms = 30) => sleep(Math.floor(Math.random() * ms));
const channel = (room) => `potluck:{${room}}:ch`;

// Polls cond (sync or async) until it returns a truthy value; throws at the deadline.
async function until(cond, what, timeoutMs = 5000, everyMs = 50) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await cond();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

// Resolves once every client has seen an event with seq >= seq.
const allSee = (clients, seq, timeoutMs = 5000) => Promise.all(clients.map((c) =>
  c.waitFor(() => c.lastSeq >= seq, timeoutMs, { what: `seq ${seq} at ${c.name}` })));

// A person's events over all its connections, in the order received.
const stream = (...conns) => conns.flatMap((c) => c.events());

function assertIncreasing(events, who) {
  for (let i = 1; i < events.length; i++)
    assert.ok(events[i].seq > events[i - 1].seq,
      `${who}: event seq ${events[i].seq} (${events[i].t}) after seq ${events[i - 1].seq}: `
      + 'a duplicate or out of order');
}

// got and ref hold the same events (seq and content) with lo < seq <= hi.
function assertSameEvents(refName, ref, name, got, lo, hi) {
  const a = ref.filter((e) => e.seq > lo && e.seq <= hi);
  const b = got.filter((e) => e.seq > lo && e.seq <= hi);
  assert.deepEqual(b.map((e) => e.seq), a.map((e) => e.seq),
    `${name} and ${refName} received different seqs in (${lo}, ${hi}]`);
  for (let i = 0; i < a.length; i++)
    assert.deepEqual(b[i], a[i], `${name} and ${refName} differ at seq ${a[i].seq}`);
}

// The events (batches opened) of type t in a list of event messages.
const eventsOfType = (events, t) => events.flatMap(flat).filter((e) => e.t === t);

async function okReq(c, req, timeoutMs = 5000) {
  const r = await c.request(req, timeoutMs);
  assert.equal(r.t, 'ok', `${c.name}: ${JSON.stringify(req)} → ${JSON.stringify(r)}`);
  return r;
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p / 100 * sorted.length) - 1))];
const ms = (x) => `${x.toFixed(1)} ms`;

// Instances and clients of one test; teardown() ends them all, whatever happened.
function cluster(getRedis) {
  const servers = [];
  const clients = [];
  const track = (c, srv, name) => { c.srv = srv; c.name = name; clients.push(c); return c; };
  return {
    servers,
    clients,
    async start(n, { url } = {}) {
      const started = [];
      for (let i = 0; i < n; i++) {
        const srv = await startServer({
          args: ['--redis', url || getRedis().url, '--grace', String(GRACE_S)],
        });
        srv.name = `instance ${String.fromCharCode(65 + servers.length)} (:${srv.port})`;
        servers.push(srv);
        started.push(srv);
      }
      return started;
    },
    async join(srv, room, name, key) {
      return track(await joinedClient(srv.wsUrl, room, name, key), srv, name);
    },
    async open(srv, name) { return track(await connect(srv.wsUrl), srv, name); },
    track,
    // The instances' output, repeated lines (timestamps aside) collapsed.
    logs(max = 6000) {
      return servers.map((s) => `--- ${s.name} ---\n${collapse(s.logs()).slice(-max)}`).join('\n');
    },
    // Every instance still running must stop cleanly (exit 0, no sanitizer report).
    async stopAll() {
      await closeAll(clients);
      for (const s of servers)
        if (s.proc.exitCode === null && s.proc.signalCode === null) await stopCleanly(s);
    },
    async teardown() {
      await closeAll(clients);
      await Promise.all(servers.map((s) => s.stop({ signal: 'SIGKILL' }).catch(() => {})));
    },
  };
}

// Runs body with a fresh cluster; on failure, the instances' logs are added
// to the error; everything is torn down in any case.
function withCluster(getRedis, body) {
  return async (t) => {
    const cl = cluster(getRedis);
    try {
      await body(t, cl);
      await cl.stopAll();
    } catch (err) {
      try { err.message += `\ninstance logs (tail):\n${cl.logs()}`; } catch {}
      throw err;
    } finally {
      await cl.teardown();
    }
  };
}

function collapse(text) {
  const out = [];
  let prev = null;
  let n = 0;
  const flush = () => { if (n > 1) out.push(`    (the line above ${n - 1} more time(s))`); };
  for (const line of text.split('\n')) {
    const key = line.replace(/^\S+Z /, '');
    if (key === prev) { n++; continue; }
    flush();
    out.push(line);
    prev = key;
    n = 1;
  }
  flush();
  return out.join('\n');
}

// A TCP proxy in front of Redis for one instance: hold() keeps back what
// Redis sends (the commands still reach it and run), cut() drops every
// connection through the proxy (held replies are lost), reset() does so with
// a TCP reset; new connections are accepted and forwarded as usual.
async function startProxy(targetPort) {
  const pairs = new Set();
  let holding = false;
  const server = createTcpServer((down) => {
    const up = tcpConnect(targetPort, '127.0.0.1');
    const pair = { down, up };
    pairs.add(pair);
    down.on('data', (d) => up.write(d));
    up.on('data', (d) => { if (!holding) down.write(d); });
    const end = () => { pairs.delete(pair); down.destroy(); up.destroy(); };
    for (const sock of [down, up]) { sock.on('error', end); sock.on('close', end); }
  });
  await new Promise((res, rej) => { server.once('error', rej); server.listen(0, '127.0.0.1', res); });
  const { port } = server.address();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    get connections() { return pairs.size; },
    hold() { holding = true; },
    cut() {
      for (const { down, up } of pairs) { down.destroy(); up.destroy(); }
      pairs.clear();
      holding = false;
    },
    // Like cut(), but the instance's side gets a TCP reset (RST), not a FIN.
    reset() {
      for (const { down, up } of pairs) { down.resetAndDestroy(); up.destroy(); }
      pairs.clear();
      holding = false;
    },
    close() {
      for (const { down, up } of pairs) { down.destroy(); up.destroy(); }
      return new Promise((res) => server.close(() => res()));
    },
  };
}

// ---- which Redis connections belong to which instance ---------------------

// Local ports of pid's TCP sockets connected to remotePort (from /proc).
function socketPortsOf(pid, remotePort) {
  const inodes = new Set();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]);
    } catch {}
  }
  const ports = new Set();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try { text = readFileSync(file, 'utf8'); } catch { continue; }
    for (const line of text.split('\n').slice(1)) {
      const col = line.trim().split(/\s+/);
      if (col.length < 10 || !inodes.has(col[9])) continue;
      if (parseInt(col[2].split(':').at(-1), 16) !== remotePort) continue;
      ports.add(parseInt(col[1].split(':').at(-1), 16));
    }
  }
  return ports;
}

// How many channels the instance srv is subscribed to (CLIENT LIST's sub=
// over the instance's own connections to Redis).
async function subscriptionsOf(redis, srv) {
  const ports = socketPortsOf(srv.proc.pid, redis.port);
  let conns = 0;
  let subs = 0;
  for (const line of await redis.cli('CLIENT', 'LIST')) {
    const addr = /(?:^| )addr=[^ ]*:(\d+)(?: |$)/.exec(line);
    if (!addr || !ports.has(Number(addr[1]))) continue;
    conns++;
    subs += Number(/ sub=(\d+)/.exec(line)?.[1] ?? 0);
  }
  assert.ok(conns >= 2, `${srv.name} has ${conns} connection(s) to Redis (a command one and a subscriber)`);
  return subs;
}

async function numsub(redis, ch) {
  const out = await redis.cli('PUBSUB', 'NUMSUB', ch);
  assert.equal(out[0], ch, `PUBSUB NUMSUB ${ch}: ${out}`);
  return Number(out[1]);
}

// ============================================================================

describe('scale-out through Redis', { concurrency: 2 }, () => {
  // The subscription test waits for rooms to be swept from memory; it has a
  // Redis of its own and runs beside the others, so that wait costs no time.
  describe('subscriptions', { concurrency: 1 }, () => {
    let redis;
    before(async () => { redis = await startRedis(); });
    after(async () => { await redis?.stop(); });

    it('an instance is subscribed to a room only while it has clients in it', { timeout: 60000 },
      withCluster(() => redis, async (t, cl) => {
        const [A, B, C] = await cl.start(3);
        const room = await createRoom(A, 'Subscriptions');
        const ch = channel(room.room_id);
        const f = await cl.join(A, room.room_id, 'Fran', room.facilitator_key);
        const b = await cl.join(B, room.room_id, 'Bob');
        // The join reply comes after the room loaded: SUBSCRIBE is confirmed.
        assert.equal(await numsub(redis, ch), 2, 'A and B subscribed, C not');
        assert.equal(await subscriptionsOf(redis, A), 1, 'A: one room');
        assert.equal(await subscriptionsOf(redis, B), 1, 'B: one room');
        assert.equal(await subscriptionsOf(redis, C), 0, 'C has no client in the room: not subscribed');
        assert.ok((await redis.cli('PUBSUB', 'CHANNELS', 'potluck:*')).includes(ch));

        const c = await cl.join(C, room.room_id, 'Cid');
        assert.equal(await subscriptionsOf(redis, C), 1, 'C subscribed once its first client joined');
        assert.equal(await numsub(redis, ch), 3);
        const ok = await okReq(c, { t: 'chat', text: 'from C' });
        await allSee([f, b, c], ok.seq);

        // The last (only) client on C leaves.
        await okReq(c, { t: 'leave' });
        assert.equal((await c.closed()).code, 1000);
        const left = performance.now();
        await until(async () => await subscriptionsOf(redis, C) === 0,
          'C to unsubscribe after its last client left', 30000, 200);
        const delay = performance.now() - left;
        t.diagnostic(`C unsubscribed ${(delay / 1000).toFixed(1)} s after its last client left `
          + '(rooms are swept from memory after 15 s idle, checked every 5 s)');
        assert.equal(await numsub(redis, ch), 2, 'A and B are still subscribed');
        assert.equal(await subscriptionsOf(redis, A), 1);
        assert.equal(await subscriptionsOf(redis, B), 1);
        // A and B still serve the room.
        const ok2 = await okReq(b, { t: 'chat', text: 'still here' });
        await allSee([f, b], ok2.seq);
      }));
  });

  describe('through a Unix socket', { concurrency: 1 }, () => {
    let redis;
    before(async () => { redis = await startRedis({ unixSocket: true }); });
    after(async () => { await redis?.stop(); });

    it('an instance on unix://PATH and one on TCP serve one session: the same events, a token good on both',
      { timeout: 60000 }, withCluster(() => redis, async (t, cl) => {
        const [A] = await cl.start(1, { url: redis.unixUrl });
        const [B] = await cl.start(1);
        const room = await createRoom(A, 'Over the socket');
        const f = await cl.join(A, room.room_id, 'Fran', room.facilitator_key);
        const b = await cl.join(B, room.room_id, 'Bob');
        const ok1 = await okReq(f, { t: 'chat', text: 'from the socket side' });
        const ok2 = await okReq(b, { t: 'chat', text: 'from the TCP side' });
        await allSee([f, b], Math.max(ok1.seq, ok2.seq));
        const texts = (c) => eventsOfType(c.events(), 'chat').map((e) => e.text);
        assert.deepEqual(texts(f), texts(b), 'one order on both');
        assert.deepEqual(texts(f), ['from the socket side', 'from the TCP side']);
        // A's two connections (commands, subscription) come through the socket
        const onSocket = (await redis.cli('CLIENT', 'LIST'))
          .filter((l) => l.includes(`addr=${redis.socket}`) && !/ cmd=client/.test(l));
        assert.equal(onSocket.length, 2, `A's connections on the socket:\n${onSocket.join('\n')}`);
        // the secret A read through the socket is B's: a token from A resumes on B
        const r = await cl.open(B, 'Fran again');
        const back = await r.resume(f);
        assert.equal(back.t, 'ok', JSON.stringify(back));
        assert.equal(back.member, f.member);
      }));

    it('a unix:// URL that is not an absolute path is refused at start, with the forms it takes', { timeout: 20000 },
      async () => {
        const proc = spawn(binary, ['--host', '127.0.0.1', '--port', '0', '--data-dir', tempDir(),
          '--redis', 'unix://redis.sock'], { stdio: ['ignore', 'ignore', 'pipe'] });
        let err = '';
        proc.stderr.on('data', (d) => { err += d; });
        const timer = setTimeout(() => proc.kill('SIGKILL'), 15000);
        const code = await new Promise((res) => proc.on('exit', (c) => res(c)));
        clearTimeout(timer);
        assert.equal(code, 1, `exit status; stderr:\n${err}`);
        assert.match(err, /bad Redis URL: unix:\/\/redis\.sock/);
        assert.match(err, /unix:\/\/\[:password@\]\/path\/to\/redis\.sock/);
      });
  });

  describe('sessions', { concurrency: 1 }, () => {
    let redis;
    before(async () => { redis = await startRedis(); });
    after(async () => { await redis?.stop(); });

    it('three instances, one room, concurrent chat, hands and floor: the same events for every client and the same state on every instance',
      { timeout: 60000 }, withCluster(() => redis, async (t, cl) => {
        const [A, B, C] = await cl.start(3);
        const room = await createRoom(A, 'Three instances');
        const f = await cl.join(A, room.room_id, 'Fran', room.facilitator_key);
        const ps = [];
        for (const [name, srv] of [['Ann', A], ['Abe', A], ['Bob', B], ['Bea', B], ['Cid', C], ['Cora', C]])
          ps.push(await cl.join(srv, room.room_id, name));
        const everyone = [f, ...ps];
        await allSee(everyone, Math.max(...everyone.map((c) => c.joinReply.snapshot.seq)));

        // Cid (on C) becomes a co-facilitator: floor changes come from two instances.
        const cid = ps[4];
        const since = f.messages.length;
        await okReq(f, { t: 'promote', member: cid.member });
        const promoted = await f.waitFor((m) => m.t === 'mod' && m.entry.action === 'promote', 5000, { since });
        await allSee(everyone, promoted.seq);
        const S0 = promoted.seq;
        // Turns of 1 s passing to the next hand by themselves: every instance
        // appends the expiry records, which must apply once.
        await okReq(f, { t: 'timer', seconds: 1, action: 'next' });

        const allowed = new Set(['not_found', 'forbidden']);
        let requests = 0;
        const req = async (c, r) => {
          const rep = await c.request(r, 10000);
          requests++;
          if (rep.t === 'error')
            assert.ok(allowed.has(rep.code), `${c.name} (${c.srv.name}): ${JSON.stringify(r)} → ${JSON.stringify(rep)}`);
          return rep;
        };
        const types = ['new', 'clarify', 'reply'];
        const participant = async (c, i) => {
          for (let k = 0; k < 10; k++) {
            await jitter(100);
            await req(c, { t: 'chat', text: `${c.name} #${k}` });
            await jitter(100);
            switch ((k + i) % 4) {
              case 0: case 1: await req(c, { t: 'raise', type: types[(k + i) % 3] }); break;
              case 2: await req(c, { t: 'lower' }); break;
              default: await req(c, { t: 'yield' }); break;
            }
          }
        };
        const policies = ['fewest_turns', 'least_time', 'fifo'];
        const pick = () => ps[Math.floor(Math.random() * ps.length)].member;
        const facilitator = async (c, offset) => {
          for (let k = 0; k < 12; k++) {
            await jitter(300);
            switch ((k + offset) % 6) {
              case 0: await req(c, { t: 'give' }); break;
              case 1: await req(c, { t: 'move', member: pick(), pos: 1 }); break;
              case 2: await req(c, { t: 'policy', policy: policies[(k + offset) % 3] }); break;
              case 3: await req(c, { t: 'give', member: pick() }); break;
              case 4: await req(c, { t: 'take' }); break;
              default: await req(c, { t: 'lower', member: pick() }); break;
            }
          }
        };
        await Promise.all([facilitator(f, 0), facilitator(cid, 3),
          ...ps.map((p, i) => participant(p, i))]);
        // Now turns end by themselves (every instance appends the expiry
        // records, which must apply once) while people keep talking.
        const auto = f.messages.length;
        for (const p of ps) await req(p, { t: 'raise', type: 'new' });
        await okReq(f, { t: 'give' });
        const chatter = ps.map(async (p) => {
          for (let k = 0; k < 4; k++) { await jitter(600); await req(p, { t: 'chat', text: `${p.name} meanwhile ${k}` }); }
        });
        await f.waitForCount((m) => flat(m).some((e) => e.t === 'warn'), 2, 8000, { since: auto });
        await Promise.all(chatter);
        await okReq(f, { t: 'timer', seconds: 0 });
        const end = await okReq(f, { t: 'chat', text: 'END' });
        await allSee(everyone, end.seq, 10000);

        // Every client: increasing seqs, and the same events as Fran from S0 on.
        const ref = stream(f);
        for (const c of everyone) {
          const evs = stream(c);
          assertIncreasing(evs, c.name);
          assertSameEvents('Fran', ref, `${c.name} (${c.srv.name})`, evs, S0, end.seq);
        }
        const inPhase = ref.filter((e) => e.seq > S0 && e.seq <= end.seq);
        t.diagnostic(`${requests} concurrent requests; ${inPhase.length} events in (${S0}, ${end.seq}], `
          + `${eventsOfType(inPhase, 'floor').length} floor changes, ${eventsOfType(inPhase, 'queue').length} queue changes, `
          + `${eventsOfType(inPhase, 'warn').length} turn warnings`);
        assert.ok(eventsOfType(inPhase, 'floor').length > 0 && eventsOfType(inPhase, 'queue').length > 0);
        const warned = eventsOfType(inPhase, 'warn').map((e) => e.turn);
        assert.equal(new Set(warned).size, warned.length, `one warning per turn: ${warned}`);

        // A fresh join on each instance: the same state (the checkers aside).
        const snaps = [];
        for (const srv of [A, B, C])
          snaps.push((await cl.join(srv, room.room_id, `Checker ${srv.port}`)).joinReply.snapshot);
        const norm = ({ seq, ...s }) => ({ ...s, members: s.members.filter((m) => !m.name.startsWith('Checker ')) });
        for (let i = 1; i < 3; i++)
          assert.deepEqual(norm(snaps[i]), norm(snaps[0]), `the state on ${cl.servers[i].name} and on ${A.name}`);
        const snap = norm(snaps[0]);
        assert.deepEqual(snap.members.map((m) => m.id), everyone.map((c) => c.member));
        assert.ok(snap.members.every((m) => memberOf(m).online));
        // ... and what the events said.
        const upToEnd = ref.filter((e) => e.seq <= end.seq);
        const lastQueue = eventsOfType(upToEnd, 'queue').at(-1);
        assert.deepEqual(snap.queue, lastQueue.queue, 'the queue is the last queue event\'s');
        assert.equal(snap.policy, lastQueue.policy);
        const lastFloor = upToEnd.flatMap(flat).filter((e) => e.t === 'floor' || e.t === 'timer').at(-1);
        assert.deepEqual(snap.floor, lastFloor.floor, 'the floor is the last floor (or timer) event\'s');
        const chats = eventsOfType(upToEnd, 'chat');
        assert.deepEqual(snap.chat.map(chatView), chats.slice(-snap.chat.length).map(chatView),
          'the chat is the last chat events');
      }));

    it('kill -9 of an instance: its clients resume elsewhere with their identity and hand place; a member that does not come back leaves (timeout)',
      { timeout: 60000 }, withCluster(() => redis, async (t, cl) => {
        const [A, B, C] = await cl.start(3);
        const room = await createRoom(A, 'Instance dies');
        const f = await cl.join(A, room.room_id, 'Fran', room.facilitator_key);
        const a1 = await cl.join(A, room.room_id, 'Ann');
        const b1 = await cl.join(B, room.room_id, 'Bob');
        const b2 = await cl.join(B, room.room_id, 'Bea');
        const c1 = await cl.join(C, room.room_id, 'Cid');
        const c2 = await cl.join(C, room.room_id, 'Cora');
        const c3 = await cl.join(C, room.room_id, 'Cy'); // will not come back
        const everyone = [f, a1, b1, b2, c1, c2, c3];
        await allSee(everyone, c3.joinReply.snapshot.seq);

        // Hands, in this order.
        const order = [c1, b1, c2, a1, c3];
        for (const c of order) await okReq(c, { t: 'raise', type: 'new' });
        const q = await f.waitFor((m) => flat(m).some((e) => e.t === 'queue' && e.queue.length === order.length));
        const hands = flat(q).find((e) => e.t === 'queue').queue;
        assert.deepEqual(hands.map((h) => h.member), order.map((c) => c.member));
        await allSee(everyone, q.seq);
        const S0 = q.seq;

        // Traffic on A and B while C dies.
        const traffic = [a1, b1].map(async (c) => {
          for (let i = 0; i < 16; i++) {
            await okReq(c, { t: 'chat', text: `${c.name} live ${i}` }, 10000);
            await sleep(60);
          }
        });
        await sleep(250);
        const killedAt = Date.now();
        await C.stop({ signal: 'SIGKILL' });
        for (const c of [c1, c2, c3]) await c.closed(5000);

        // The browser reconnects by itself: Cid to A, Cora to B.
        const resumed = [];
        for (const [c, srv] of [[c1, A], [c2, B]]) {
          const c2nd = await cl.open(srv, `${c.name} (resumed)`);
          const r = await c2nd.resume(c);
          assert.equal(r.t, 'ok', `${c.name} resumes on ${srv.name}: ${JSON.stringify(r)}`);
          assert.equal(r.member, c.member, 'the same member id');
          assert.equal(r.role, 'participant');
          assert.equal(r.snapshot, undefined, 'a replay, not a snapshot');
          assert.ok(Number.isInteger(r.replay));
          resumed.push(c2nd);
        }
        await Promise.all(traffic);
        for (const c of resumed) {
          const ok = await okReq(c, { t: 'chat', text: `${c.name} is back` });
          await allSee([f, a1, b1, b2, ...resumed], ok.seq);
        }

        // Cy is marked left, with reason timeout, within TTL + grace + slack.
        const limit = DEAD_AFTER_MS;
        const m = await f.waitFor((x) => flat(x).some((e) => e.t === 'left' && e.member === c3.member),
          Math.max(1, limit - (Date.now() - killedAt)), { what: `left for Cy within ${limit} ms of the kill` });
        const leftAfter = Date.now() - killedAt;
        t.diagnostic(`Cy marked left ${(leftAfter / 1000).toFixed(1)} s after the kill (limit ${limit / 1000} s)`);
        assert.equal(flat(m).find((e) => e.t === 'left').reason, 'timeout');

        const end = await okReq(f, { t: 'chat', text: 'END' });
        const survivors = [f, a1, b1, b2, ...resumed];
        await allSee(survivors, end.seq);

        // Nothing lost or duplicated, for anyone; the same events for all.
        const ref = stream(f);
        const people = [['Ann', stream(a1)], ['Bob', stream(b1)], ['Bea', stream(b2)],
          ['Cid', stream(c1, resumed[0])], ['Cora', stream(c2, resumed[1])]];
        assertIncreasing(ref, 'Fran');
        for (const [name, evs] of people) {
          assertIncreasing(evs, name);
          assertSameEvents('Fran', ref, name, evs, S0, end.seq);
        }
        const after = ref.filter((e) => e.seq > S0);
        assert.deepEqual(eventsOfType(after, 'joined'), [], 'no joined announced for a resume');
        assert.deepEqual(eventsOfType(after, 'left').map((e) => [e.member, e.reason]),
          [[c3.member, 'timeout']], 'Cy left once; Cid and Cora did not leave');
        assert.ok(eventsOfType(after, 'away').every((e) => e.member === c3.member)
          && eventsOfType(after, 'away').length <= 1, 'only Cy away, at most once');

        // The hand queue kept Cid's and Cora's places (and raise times); Cy's hand is gone.
        const finalQueue = eventsOfType(ref, 'queue').at(-1).queue;
        assert.deepEqual(finalQueue, hands.filter((h) => h.member !== c3.member));
        const snap = (await cl.join(B, room.room_id, 'Checker')).joinReply.snapshot;
        assert.deepEqual(snap.queue, finalQueue);
        assert.ok(!snap.members.some((x) => x.id === c3.member), 'Cy is no longer a member');
        for (const c of [c1, c2])
          assert.equal(memberOf(snap.members.find((x) => x.id === c.member))?.online, true, `${c.name} online`);
      }));

    it('redis-server restarted mid-session: unavailable meanwhile, then one order again with nothing lost or twice',
      { timeout: 60000 }, withCluster(() => redis, async (t, cl) => {
        const [A, B] = await cl.start(2);
        const room = await createRoom(A, 'Redis restarts');
        const f = await cl.join(A, room.room_id, 'Fran', room.facilitator_key);
        const a1 = await cl.join(A, room.room_id, 'Ann');
        const b1 = await cl.join(B, room.room_id, 'Bob');
        const b2 = await cl.join(B, room.room_id, 'Bea');
        const everyone = [f, a1, b1, b2];
        for (const c of everyone) await okReq(c, { t: 'chat', text: `${c.name} before` });
        await okReq(a1, { t: 'raise', type: 'new' });
        const before = await okReq(f, { t: 'chat', text: 'before the outage' });
        await allSee(everyone, before.seq);
        const S0 = Math.max(...everyone.map((c) => c.joinReply.snapshot.seq));

        // Redis goes away (a clean shutdown: the AOF is complete).
        await redis.stop();
        let newcomer;
        try {
          const during = [
            [a1, { t: 'chat', text: 'during, on A' }],
            [b1, { t: 'chat', text: 'during, on B' }],
            [b2, { t: 'raise', type: 'reply' }],
            [f, { t: 'give' }],
          ];
          for (const [c, r] of during) {
            let rep;
            try {
              rep = await c.request(r, 5000);
            } catch (err) {
              assert.fail(`${c.name} (${c.srv.name}): ${JSON.stringify(r)} during the outage got no reply: ${err.message}`);
            }
            assert.equal(rep.t, 'error', `${JSON.stringify(r)} during the outage → ${JSON.stringify(rep)}`);
            assert.equal(rep.code, 'unavailable', `${JSON.stringify(r)} during the outage → ${JSON.stringify(rep)}`);
          }
          newcomer = await cl.open(B, 'Newcomer');
          const nj = await newcomer.join(room.room_id, 'Newcomer', undefined, 5000);
          assert.equal(nj.code, 'unavailable', `a join during the outage → ${JSON.stringify(nj)}`);

          await sleep(500); // an outage long enough for a reconnection attempt to fail
        } finally {
          await redis.start(); // same port, same dir: the AOF brings the room back
        }
        const restartedAt = Date.now();

        // Clients retry `unavailable` as the browser does, until the instances are back.
        const retry = async (c, r) => {
          const rep = await until(async () => {
            const x = await c.request(r, 3000).catch((err) => ({ t: 'error', code: `no reply (${err.message.slice(0, 60)})` }));
            return x.t === 'ok' ? x : (assert.equal(x.code, 'unavailable', `${c.name} ${JSON.stringify(r)} → ${JSON.stringify(x)}`), null);
          }, `${c.name} (${c.srv.name}) to be served again after Redis came back`, 12000, 100);
          return rep;
        };
        const [ra, rb] = await Promise.all([retry(a1, { t: 'chat', text: 'after, on A' }),
          retry(b1, { t: 'chat', text: 'after, on B' })]);
        t.diagnostic(`both instances served again ${((Date.now() - restartedAt) / 1000).toFixed(1)} s after Redis restarted`);
        assert.ok(ra.seq > before.seq && rb.seq > before.seq, 'seqs continue after the restart');

        // A chat after recovery reaches everyone; more traffic; then compare.
        const nj2 = await newcomer.join(room.room_id, 'Newcomer');
        assert.equal(nj2.t, 'ok', JSON.stringify(nj2));
        for (const c of [...everyone, newcomer]) await okReq(c, { t: 'chat', text: `${c.name} after` });
        await okReq(b2, { t: 'raise', type: 'new' });
        const end = await okReq(f, { t: 'chat', text: 'END' });
        await allSee([...everyone, newcomer], end.seq);

        const ref = stream(f);
        for (const c of everyone) {
          const evs = stream(c);
          assertIncreasing(evs, c.name);
          assertSameEvents('Fran', ref, `${c.name} (${c.srv.name})`, evs, S0, end.seq);
        }
        assertSameEvents('Fran', ref, 'Newcomer', stream(newcomer), nj2.snapshot.seq, end.seq);
        // What was refused as unavailable had no effect; everything else is there once.
        const texts = eventsOfType(ref, 'chat').map((e) => e.text);
        assert.ok(!texts.some((x) => x.startsWith('during')), 'a chat refused as unavailable was not applied');
        for (const x of ['before the outage', 'after, on A', 'after, on B', 'END'])
          assert.equal(texts.filter((y) => y === x).length, 1, `"${x}" once`);
        assert.deepEqual(eventsOfType(ref, 'queue').at(-1).queue.map((h) => [h.member, h.type]),
          [[a1.member, 'new'], [b2.member, 'new']]);
        // The stream has every seq once.
        const [xlen] = await redis.cli('XLEN', `potluck:{${room.room_id}}:log`);
        const [last] = await redis.cli('GET', `potluck:{${room.room_id}}:seq`);
        assert.equal(Number(xlen), Number(last), 'one stream entry per seq');
        assert.ok(Number(last) >= end.seq);
      }));

    it('an append whose reply is lost with the Redis connection: the instance catches up, and the request is not answered as if it had failed',
      { timeout: 60000 }, withCluster(() => redis, async (t, cl) => {
        const proxy = await startProxy(redis.port);
        try {
          const [A] = await cl.start(1, { url: proxy.url }); // A reaches Redis through the proxy
          const [B] = await cl.start(1);
          const room = await createRoom(B, 'Lost replies');
          const f = await cl.join(B, room.room_id, 'Fran', room.facilitator_key);
          const a1 = await cl.join(A, room.room_id, 'Ann');
          const b1 = await cl.join(B, room.room_id, 'Bob');
          const hello = await okReq(a1, { t: 'chat', text: 'hello' });
          await allSee([f, a1, b1], hello.seq);
          const S0 = hello.seq;
          const seqKey = `potluck:{${room.room_id}}:seq`;

          // Redis runs A's append, but its reply (and everything else for A) is held back ...
          proxy.hold();
          const pending = a1.request({ t: 'chat', text: 'reply lost' }, 15000);
          await until(async () => Number((await redis.cli('GET', seqKey))[0]) > S0,
            'the append to reach Redis', 5000, 20);
          // ... B's clients go on meanwhile ...
          for (const c of [f, b1]) await okReq(c, { t: 'chat', text: `${c.name} while A is cut off` });
          // ... then A's connections drop.
          proxy.cut();
          const lost = await pending;

          // A reconnects and catches up from the stream: one order for everyone.
          const back = await until(async () => {
            const r = await a1.request({ t: 'chat', text: 'Ann again' }, 3000).catch(() => null);
            return r?.t === 'ok' ? r : null;
          }, 'A to be served again after its Redis connection dropped', 12000, 100);
          const end = await okReq(f, { t: 'chat', text: 'END' });
          await allSee([f, a1, b1], Math.max(end.seq, back.seq));
          const ref = stream(f);
          for (const c of [a1, b1]) {
            assertIncreasing(stream(c), c.name);
            assertSameEvents('Fran', ref, `${c.name} (${c.srv.name})`, stream(c), S0, end.seq);
          }
          const rec = eventsOfType(ref, 'chat').filter((e) => e.text === 'reply lost');
          assert.equal(rec.length, 1, 'the record whose reply was lost is in the log, once');
          // It was applied, so a retryable `unavailable` is wrong: the browser
          // would send it again and the message would appear twice.
          assert.notEqual(lost.code, 'unavailable',
            `the request was applied (seq ${rec[0].seq}) but answered ${JSON.stringify(lost)}`);
          assert.equal(lost.t, 'ok', `reply to the applied request: ${JSON.stringify(lost)}`);
          assert.equal(lost.seq, rec[0].seq);
        } finally {
          await proxy.close();
        }
      }));

    it('a Redis connection reset under an instance (TCP RST): every request still gets a reply, and the instance reconnects',
      { timeout: 60000 }, withCluster(() => redis, async (t, cl) => {
        const proxy = await startProxy(redis.port);
        try {
          const [A] = await cl.start(1, { url: proxy.url });
          const [B] = await cl.start(1);
          const room = await createRoom(B, 'Connection reset');
          const f = await cl.join(B, room.room_id, 'Fran', room.facilitator_key);
          const a1 = await cl.join(A, room.room_id, 'Ann');
          const hello = await okReq(a1, { t: 'chat', text: 'hello' });
          await allSee([f, a1], hello.seq);

          proxy.reset();
          const meanwhile = await okReq(f, { t: 'chat', text: 'on B meanwhile' });
          let r;
          try {
            r = await a1.request({ t: 'chat', text: 'after the reset' }, 5000);
          } catch (err) {
            assert.fail('no reply within 5 s to a request on A after its Redis connections were reset '
              + `(every request gets exactly one reply): ${err.message.slice(0, 200)}`);
          }
          assert.ok(r.t === 'ok' || r.code === 'unavailable', JSON.stringify(r));
          const back = await until(async () => {
            const x = await a1.request({ t: 'chat', text: 'Ann again' }, 3000).catch(() => null);
            return x?.t === 'ok' ? x : null;
          }, 'A to be served again after the reset', 12000, 100);
          await allSee([f, a1], back.seq);
          assertIncreasing(stream(a1), 'Ann');
          assertSameEvents('Fran', stream(f), 'Ann', stream(a1), hello.seq, back.seq);
          assert.ok(eventsOfType(stream(a1), 'chat').some((e) => e.seq === meanwhile.seq), 'A caught up');
        } finally {
          await proxy.close();
        }
      }));

    it('an instance frozen for longer than heartbeat TTL + grace: its members are marked left, and its clients are told to join again (4003) when it wakes',
      { timeout: 60000 }, withCluster(() => redis, async (t, cl) => {
        const [A, B] = await cl.start(2);
        const room = await createRoom(A, 'Frozen instance');
        const f = await cl.join(A, room.room_id, 'Fran', room.facilitator_key);
        const b1 = await cl.join(B, room.room_id, 'Bob');
        await okReq(b1, { t: 'raise', type: 'new' });
        const hi = await okReq(b1, { t: 'chat', text: 'hi' });
        await allSee([f, b1], hi.seq);

        B.proc.kill('SIGSTOP');
        try {
          const frozenAt = Date.now();
          const limit = DEAD_AFTER_MS;
          const m = await f.waitFor((x) => flat(x).some((e) => e.t === 'left' && e.member === b1.member),
            limit, { what: `left for Bob within ${limit} ms` });
          t.diagnostic(`Bob marked left ${((Date.now() - frozenAt) / 1000).toFixed(1)} s after B froze`);
          assert.equal(flat(m).find((e) => e.t === 'left').reason, 'timeout');
          assert.deepEqual(flat(m).find((e) => e.t === 'queue')?.queue, [], 'his hand is gone');
        } finally {
          B.proc.kill('SIGCONT');
        }
        // B wakes up: Bob learns that he left, and his connection must not
        // stay attached to a member that is gone (requests would get
        // not_joined, a join already_joined, for ever).
        await b1.waitFor((x) => flat(x).some((e) => e.t === 'left' && e.member === b1.member), 5000,
          { what: 'Bob to receive his own left' });
        let closed = null;
        try { closed = await b1.closed(3000); } catch {}
        if (!closed) {
          const r = await b1.chat('am I still here?');
          const j = await b1.join(room.room_id, 'Bob again');
          assert.fail(`Bob's connection on B stays open after he was marked left: chat → ${r.code ?? r.t}, `
            + `join → ${j.code ?? j.t}; expected a close with 4003 (PROTOCOL.md: no longer a member, join again)`);
        }
        assert.equal(closed.code, 4003, `close code: ${JSON.stringify(closed)}`);
      }));

    it('resume on another instance by seq: exactly the missed events', { timeout: 60000 },
      withCluster(() => redis, async (t, cl) => {
        const [A, B, C] = await cl.start(3); // C: no client in the room until the resume
        const room = await createRoom(B, 'Resume elsewhere');
        const f = await cl.join(B, room.room_id, 'Fran', room.facilitator_key);
        const x = await cl.join(A, room.room_id, 'Xavi');
        const y = await cl.join(A, room.room_id, 'Yara');
        await okReq(x, { t: 'chat', text: 'hello from A' });
        await okReq(x, { t: 'raise', type: 'new' });
        const ok0 = await okReq(y, { t: 'chat', text: 'me too' });
        await allSee([f, x, y], ok0.seq);

        // Drops from `from`'s instance, misses some events, resumes on `to`.
        const hop = async (conn, to, label) => {
          const seen = conn.lastSeq;
          const since = f.messages.length;
          await conn.terminate();
          await f.waitFor((m) => m.t === 'away' && m.member === conn.member, 5000, { since, what: `away for ${label}` });
          await okReq(f, { t: 'chat', text: `missed by ${label} (1)` });
          await okReq(y, { t: 'raise', type: 'clarify' });
          await okReq(y, { t: 'lower' });
          const last = await okReq(f, { t: 'chat', text: `missed by ${label} (2)` });
          await allSee([f, y], last.seq);

          const next = await cl.open(to, label);
          const r = await next.resume(room.room_id, conn.member, conn.token, seen);
          assert.equal(r.t, 'ok', `${label} resumes on ${to.name}: ${JSON.stringify(r)}`);
          assert.equal(r.member, conn.member);
          assert.equal(r.snapshot, undefined, 'a replay, not a snapshot');
          assert.ok(r.seq >= last.seq, `the reply's seq ${r.seq} covers the missed events (last ${last.seq})`);
          await next.waitFor(() => next.messages.length >= 1 + r.replay, 5000, { what: `${r.replay} replayed events` });
          const replayed = next.messages.slice(1, 1 + r.replay);
          const missed = f.events((e) => e.seq > seen && e.seq <= r.seq);
          assert.deepEqual(replayed, missed, `${label}: the replay is exactly the missed events, as Fran got them`);
          assert.ok(eventsOfType(replayed, 'away').length === 1);
          // Then live: back, and the member's own chat.
          const ok = await okReq(next, { t: 'chat', text: `${label} here` });
          const ev = await f.waitFor((m) => m.t === 'chat' && m.seq === ok.seq);
          assert.equal(ev.from, conn.member);
          await allSee([next], ok.seq);
          assertIncreasing(next.events(), label);
          assert.equal(eventsOfType(next.events(), 'back').length, 1);
          return next;
        };
        const x2 = await hop(x, B, 'Xavi on B'); // to an instance holding the room
        await hop(x2, C, 'Xavi on C'); // to one that must load it first
        assert.equal(eventsOfType(f.events(), 'left').length, 0);
        assert.equal(eventsOfType(f.events(), 'joined').filter((e) => e.member.id === x.member).length, 1);
      }));

    it('figures: cross-instance chat latency, and loading a room of 10,000 records', { timeout: 90000 },
      withCluster(() => redis, async (t, cl) => {
        // -- latency: 20 clients over 2 instances, 200 messages at ~100/s
        const [A, B] = await cl.start(2);
        const room = await createRoom(A, 'Latency');
        const cs = [];
        for (let i = 0; i < 20; i++) {
          const srv = i % 2 ? B : A;
          cs.push(await cl.join(srv, room.room_id, `L${i}`));
        }
        await allSee(cs, cs.at(-1).joinReply.snapshot.seq);
        for (const c of cs) {
          c.stamps = new Map();
          c.ws.on('message', () => { // after the client's own listener: the message is decoded
            const m = c.messages.at(-1);
            if (m && m.t === 'chat' && m.text.startsWith('lat ')) c.stamps.set(m.text, performance.now());
          });
        }
        const sent = new Map();
        const replies = [];
        for (let i = 0; i < 200; i++) {
          const c = cs[i % cs.length];
          const text = `lat ${i}`;
          sent.set(text, { at: performance.now(), from: c });
          replies.push(c.chat(text, 10000));
          await sleep(10);
        }
        for (const r of await Promise.all(replies)) assert.equal(r.t, 'ok', JSON.stringify(r));
        await until(() => cs.every((c) => c.stamps.size === 200), 'every client to get all 200 messages', 10000);
        const cross = [];
        const local = [];
        for (const [text, { at, from }] of sent)
          for (const c of cs)
            if (c !== from) (c.srv === from.srv ? local : cross).push(c.stamps.get(text) - at);
        cross.sort((p, q) => p - q);
        local.sort((p, q) => p - q);
        t.diagnostic(`chat delivery latency, 20 clients over 2 instances, 200 messages at ~100/s: `
          + `cross-instance p50 ${ms(percentile(cross, 50))}, p99 ${ms(percentile(cross, 99))} (${cross.length} deliveries); `
          + `same instance p50 ${ms(percentile(local, 50))}, p99 ${ms(percentile(local, 99))} (${local.length})`);
        await closeAll(cs);

        // -- a room of 10,000 chats, appended through one instance
        const big = await createRoom(A, 'Ten thousand');
        const TOTAL = 10000;
        const PER = 36; // join + 36 chats + leave: within a connection's burst of 40
        let remaining = TOTAL;
        let workers = 0;
        const t0 = performance.now();
        const worker = async () => {
          while (remaining > 0) {
            const n = Math.min(PER, remaining);
            remaining -= n;
            const k = workers++;
            const c = await cl.join(A, big.room_id, `W${k}`);
            const rs = await Promise.all(Array.from({ length: n }, (_, i) => c.chat(`load ${k}/${i}`, 30000)));
            for (const r of rs) assert.equal(r.t, 'ok', JSON.stringify(r));
            await okReq(c, { t: 'leave' });
            await c.closed();
            c.messages.length = 0; // keep memory low
          }
        };
        await Promise.all(Array.from({ length: 8 }, worker));
        const appendS = (performance.now() - t0) / 1000;
        const [xlen] = await redis.cli('XLEN', `potluck:{${big.room_id}}:log`);
        const records = Number(xlen);
        assert.ok(records >= TOTAL, `${records} records in the stream`);

        // The first join on a fresh instance loads the room from its stream.
        const loads = [];
        for (const srv of await cl.start(2)) {
          const c = await cl.open(srv, 'Loader');
          const s = performance.now();
          const r = await c.join(big.room_id, 'Loader', undefined, 30000);
          loads.push(performance.now() - s);
          assert.equal(r.t, 'ok', JSON.stringify(r).slice(0, 300));
          assert.ok(r.snapshot.seq >= records, `snapshot seq ${r.snapshot.seq}`);
          assert.equal(r.snapshot.chat.length, 50);
          const w = await cl.open(srv, 'Warm');
          const s2 = performance.now();
          assert.equal((await w.join(big.room_id, 'Warm')).t, 'ok');
          loads.push(-(performance.now() - s2)); // a warm join, for comparison
          await closeAll([c, w]);
        }
        const cold = loads.filter((x) => x > 0);
        const warm = loads.filter((x) => x < 0).map((x) => -x);
        t.diagnostic(`${TOTAL} chats (${records} records with joins and leaves) appended through one instance in `
          + `${appendS.toFixed(1)} s (${Math.round(records / appendS)} records/s); first join on a fresh instance `
          + `(loads the room from its stream): ${cold.map(ms).join(', ')}; a join once loaded: ${warm.map(ms).join(', ')}`);
      }));
  });
});

