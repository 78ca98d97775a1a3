// Dropped connections, the grace period and resume (PROTOCOL.md: resume,
// Events away/back/left, Close codes 4002).
import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, createRoom } from '../lib/server.mjs';
import { connect, joinedClient, closeAll, memberView, memberOf } from '../lib/client.mjs';
import { stopCleanly, STOPS_CLEANLY } from '../lib/lifecycle.mjs';

describe('resume', () => {
  let srv;
  let clients = [];
  const join = async (room, name, key) => {
    const c = await joinedClient(srv.wsUrl, room, name, key);
    clients.push(c);
    return c;
  };
  const open = async () => { const c = await connect(srv.wsUrl); clients.push(c); return c; };

  // A and B in a fresh room; B has seen everything up to A's last chat.
  async function roomWithTwo() {
    const room = await createRoom(srv, 'Resume room');
    const a = await join(room.room_id, 'Ann');
    const b = await join(room.room_id, 'Bob');
    const ok = await a.chat('before the drop');
    await b.waitFor((m) => m.t === 'chat' && m.seq === ok.seq);
    return { room, a, b };
  }

  // Drops b's TCP connection (no leave, no close frame) and waits until a sees away.
  async function drop(a, b) {
    const since = a.messages.length;
    await b.terminate();
    return a.waitFor((m) => m.t === 'away' && m.member === b.member, 5000, { since });
  }

  before(async () => { srv = await startServer(); });
  afterEach(async () => { await closeAll(clients); clients = []; });
  after(async () => { await srv?.stop(); });

  it('announces away to the others when a connection drops without leave', async () => {
    const { a, b } = await roomWithTwo();
    const ev = await drop(a, b);
    assert.ok(Number.isInteger(ev.seq) && Number.isInteger(ev.ts));
    assert.equal(a.events((m) => m.t === 'left').length, 0, 'no left within the grace period');
  });

  it('treats a WebSocket close without leave as a drop: away, and the member can resume', async () => {
    const { room, a, b } = await roomWithTwo();
    await b.close(1000);
    await a.waitFor((m) => m.t === 'away' && m.member === b.member);
    const b2 = await open();
    const r = await b2.resume(room.room_id, b.member, b.token, b.lastSeq);
    assert.equal(r.t, 'ok', JSON.stringify(r));
  });

  it('resumes within the grace period: ok with replay n, then exactly the missed events in order', async () => {
    const { room, a, b } = await roomWithTwo();
    const seenByB = b.lastSeq;
    await drop(a, b);
    for (const text of ['missed 1', 'missed 2', 'missed 3']) {
      const ok = await a.chat(text);
      await a.waitFor((m) => m.t === 'chat' && m.seq === ok.seq);
    }
    const b2 = await open();
    const r = await b2.resume(room.room_id, b.member, b.token, seenByB);
    assert.equal(r.t, 'ok', JSON.stringify(r));
    assert.equal(r.member, b.member, 'same member id');
    assert.equal(r.role, 'participant');
    assert.equal(typeof r.token, 'string');
    assert.ok(Number.isInteger(r.seq), `seq is a uint: ${r.seq}`);
    assert.equal(r.snapshot, undefined, 'a client this close behind gets a replay, not a snapshot');
    assert.ok(Number.isInteger(r.replay), `replay is a uint: ${r.replay}`);

    const back = await a.waitFor((m) => m.t === 'back' && m.member === b.member);
    // What b missed is what a saw between b's last seq and b's return.
    const missed = a.events((m) => m.seq > seenByB && m.seq < back.seq);
    assert.deepEqual(missed.map((m) => m.t), ['away', 'chat', 'chat', 'chat']);
    assert.equal(r.replay, missed.length, 'replay counts the missed events');

    const at = b2.messages.findIndex((m) => m.t === 'ok' && m.id === r.id);
    await b2.waitFor(() => b2.messages.length >= at + 1 + r.replay, 5000, { what: `${r.replay} replayed events` });
    const replayed = b2.messages.slice(at + 1, at + 1 + r.replay);
    assert.deepEqual(replayed, missed, 'the replay is the missed events, in order, as first sent');
    assert.equal(at, 0, 'the resume reply is the first message on the new connection');
  });

  it('announces back, not joined, when a member resumes', async () => {
    const { room, a, b } = await roomWithTwo();
    await drop(a, b);
    const b2 = await open();
    const r = await b2.resume(room.room_id, b.member, b.token, b.lastSeq);
    assert.equal(r.t, 'ok', JSON.stringify(r));
    const back = await a.waitFor((m) => m.t === 'back' && m.member === b.member);
    assert.ok(Number.isInteger(back.seq) && Number.isInteger(back.ts));
    // Any later event proves a has received everything up to it.
    const ok = await b2.chat('I am back');
    const ev = await a.waitFor((m) => m.t === 'chat' && m.seq === ok.seq);
    assert.equal(ev.from, b.member, 'the resumed member keeps its id');
    assert.equal(ev.name, 'Bob');
    assert.equal(a.events((m) => m.t === 'joined' && m.member?.id === b.member).length, 1,
      'joined only once, for the original join');
    assert.equal(a.events((m) => m.t === 'left').length, 0);
  });

  it('replays nothing to a client that has already seen the latest seq', async () => {
    const { room, a, b } = await roomWithTwo();
    const away = await drop(a, b);
    const b2 = await open();
    const r = await b2.resume(room.room_id, b.member, b.token, away.seq);
    assert.equal(r.t, 'ok', JSON.stringify(r));
    assert.equal(r.replay, 0);
  });

  it('shows an away member as online: false in a snapshot, and online again after back', async () => {
    const { room, a, b } = await roomWithTwo();
    await drop(a, b);
    const c = await join(room.room_id, 'Cid');
    assert.deepEqual(memberView(c.joinReply.snapshot.members.find((m) => m.id === b.member)),
      { id: b.member, name: 'Bob', role: 'participant', online: false });
    const b2 = await open();
    assert.equal((await b2.resume(room.room_id, b.member, b.token, b.lastSeq)).t, 'ok');
    await c.waitFor((m) => m.t === 'back' && m.member === b.member);
    const d = await join(room.room_id, 'Dee');
    assert.equal(memberOf(d.joinReply.snapshot.members.find((m) => m.id === b.member))?.online, true);
  });

  it('refuses a wrong token with invalid_token, and the connection can still resume', async () => {
    const { room, a, b } = await roomWithTwo();
    await drop(a, b);
    const b2 = await open();
    const bad = b.token.slice(0, -2) + (b.token.endsWith('AA') ? 'BB' : 'AA');
    const r1 = await b2.resume(room.room_id, b.member, bad, b.lastSeq);
    assert.equal(r1.t, 'error');
    assert.equal(r1.code, 'invalid_token');
    const r2 = await b2.resume(room.room_id, b.member, a.token, b.lastSeq);
    assert.equal(r2.code, 'invalid_token', "another member's token is a wrong token");
    const r3 = await b2.resume(room.room_id, b.member + 1000, b.token, b.lastSeq);
    assert.equal(r3.code, 'invalid_token', 'a token does not fit another member id');
    const r4 = await b2.resume(room.room_id, b.member, b.token, b.lastSeq);
    assert.equal(r4.t, 'ok', JSON.stringify(r4));
  });

  it('refuses resume after leave with invalid_token', async () => {
    const { room, b } = await roomWithTwo();
    assert.equal((await b.request({ t: 'leave' })).t, 'ok');
    await b.closed();
    const b2 = await open();
    const r = await b2.resume(room.room_id, b.member, b.token, b.lastSeq);
    assert.equal(r.t, 'error');
    assert.equal(r.code, 'invalid_token');
  });

  it('closes the older connection with 4002 when the same member resumes again', async () => {
    const { room, a, b } = await roomWithTwo();
    // b is still connected: a resume elsewhere replaces it.
    const b2 = await open();
    const r2 = await b2.resume(room.room_id, b.member, b.token, b.lastSeq);
    assert.equal(r2.t, 'ok', JSON.stringify(r2));
    assert.equal((await b.closed()).code, 4002);
    // And again: the second connection is replaced by a third.
    const b3 = await open();
    const r3 = await b3.resume(room.room_id, b.member, r2.token, b2.lastSeq);
    assert.equal(r3.t, 'ok', JSON.stringify(r3));
    assert.equal((await b2.closed()).code, 4002);
    assert.ok(b3.isOpen, 'the newest connection stays');
    const ok = await b3.chat('third connection');
    assert.equal(ok.t, 'ok', JSON.stringify(ok));
    const ev = await a.waitFor((m) => m.t === 'chat' && m.seq === ok.seq);
    assert.equal(ev.from, b.member);
    assert.equal(a.events((m) => m.t === 'left').length, 0, 'a replaced connection is not a leave');
  });

  it('sends a snapshot instead of a replay to a client too far behind (over 1,024 events)', async () => {
    const room = await createRoom(srv, 'Busy room');
    const b = await join(room.room_id, 'Bob');
    const a = await join(room.room_id, 'Ann');
    const seenByB = b.lastSeq;
    await drop(a, b);
    // 28 talkers × 38 messages = 1,064 events, each talker within its burst of 40.
    const talkers = [a];
    for (let i = 1; i < 28; i++) talkers.push(await join(room.room_id, `T${i}`));
    const PER = 38;
    const replies = await Promise.all(talkers.flatMap((t) =>
      Array.from({ length: PER }, (_, i) => t.chat(`${t.member}/${i}`, 20000))));
    for (const r of replies) assert.equal(r.t, 'ok', JSON.stringify(r));
    const last = Math.max(...replies.map((r) => r.seq));
    assert.ok(last - seenByB > 1024, `${last - seenByB} events missed`);
    await a.waitFor((m) => m.t === 'chat' && m.seq === last, 20000);

    const b2 = await open();
    const r = await b2.resume(room.room_id, b.member, b.token, seenByB);
    assert.equal(r.t, 'ok', JSON.stringify(r).slice(0, 300));
    assert.equal(r.member, b.member);
    assert.equal(r.replay, undefined, 'no replay');
    assert.ok(r.snapshot && typeof r.snapshot === 'object', 'a snapshot');
    assert.ok(r.snapshot.seq >= last, `snapshot.seq ${r.snapshot.seq} >= ${last}`);
    assert.equal(r.snapshot.room.id, room.room_id);
    assert.equal(r.snapshot.chat.length, 50);
    assert.equal(r.snapshot.chat.at(-1).seq, last);
    assert.ok(r.snapshot.members.some((m) => m.id === b.member), 'the member is still in the room');
    // Live events follow.
    const ok = await a.chat('after the snapshot');
    await b2.waitFor((m) => m.t === 'chat' && m.seq === ok.seq);
  });

  it(STOPS_CLEANLY, () => stopCleanly(srv));
});

describe('resume after the grace period (--grace 1)', () => {
  let srv;
  let clients = [];
  before(async () => { srv = await startServer({ args: ['--grace', '1'] }); });
  afterEach(async () => { await closeAll(clients); clients = []; });
  after(async () => { await srv?.stop(); });

  it('announces left with reason timeout once the grace period ends, and resume then fails with invalid_token', async () => {
    const room = await createRoom(srv);
    const a = await joinedClient(srv.wsUrl, room.room_id, 'Ann');
    const b = await joinedClient(srv.wsUrl, room.room_id, 'Bob');
    clients.push(a, b);
    await b.terminate();
    const away = await a.waitFor((m) => m.t === 'away' && m.member === b.member);
    const left = await a.waitFor((m) => m.t === 'left' && m.member === b.member, 8000);
    assert.equal(left.reason, 'timeout');
    assert.ok(left.seq > away.seq);
    assert.ok(left.ts - away.ts >= 900, `the member had its grace period (${left.ts - away.ts} ms)`);
    assert.ok(left.ts - away.ts < 6000, `and not much more (${left.ts - away.ts} ms)`);

    const b2 = await connect(srv.wsUrl);
    clients.push(b2);
    const r = await b2.resume(room.room_id, b.member, b.token, b.lastSeq);
    assert.equal(r.t, 'error');
    assert.equal(r.code, 'invalid_token');
  });

  it(STOPS_CLEANLY, () => stopCleanly(srv));
});

// A grace period of a few seconds: connecting and resuming must fit in it
// even on a slow, loaded machine.
describe('resume within the grace period (--grace 3)', () => {
  let srv;
  let clients = [];
  before(async () => { srv = await startServer({ args: ['--grace', '3'] }); });
  afterEach(async () => { await closeAll(clients); clients = []; });
  after(async () => { await srv?.stop(); });

  it('lets a member who came back in time stay', async () => {
    const room = await createRoom(srv);
    const a = await joinedClient(srv.wsUrl, room.room_id, 'Ann');
    const b = await joinedClient(srv.wsUrl, room.room_id, 'Bob');
    clients.push(a, b);
    await b.terminate();
    await a.waitFor((m) => m.t === 'away' && m.member === b.member);
    const b2 = await connect(srv.wsUrl);
    clients.push(b2);
    assert.equal((await b2.resume(room.room_id, b.member, b.token, b.lastSeq)).t, 'ok');
    // Past the old deadline, b is still a member: a later grace timer must not fire.
    const deadline = Date.now() + 4000;
    while (Date.now() < deadline) {
      const ok = await b2.chat('still here');
      assert.equal(ok.t, 'ok', JSON.stringify(ok));
      await a.waitFor((m) => m.t === 'chat' && m.seq === ok.seq);
      await new Promise((res) => setTimeout(res, 250));   // pacing, not readiness
    }
    assert.equal(a.events((m) => m.t === 'left').length, 0);
  });

  it(STOPS_CLEANLY, () => stopCleanly(srv));
});
