// Hands, the queue, the floor and the turn timer over the wire (PROTOCOL.md:
// "Hands", "The floor", "The snapshot", Events queue/floor/warn/timeup/timer/
// batch). Each test opens a fresh room with one facilitator and participants
// and watches the events every member receives. Every wait has a deadline;
// the only fixed delays are there to let speaking time accrue, never to wait
// for readiness.
import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, createRoom } from '../lib/server.mjs';
import { connect, joinedClient, closeAll, isEvent, memberOf } from '../lib/client.mjs';
import { stopCleanly, STOPS_CLEANLY } from '../lib/lifecycle.mjs';

const delay = (ms) => new Promise((r) => setTimeout(r, ms));

// The events one message stands for: a batch's events, or the message itself.
const flat = (m) => (m && m.t === 'batch' ? m.events || [] : [m]);
const ids = (queue) => queue.map((h) => h.member);

describe('hands and the floor', () => {
  let srv;
  let clients = [];

  before(async () => { srv = await startServer(); });
  afterEach(async () => { await closeAll(clients); clients = []; });
  after(async () => { await srv?.stop(); });

  const join = async (room, name, key) => {
    const c = await joinedClient(srv.wsUrl, room, name, key);
    clients.push(c);
    return c;
  };

  // A fresh room with a facilitator `f` and the named participants; returns
  // once f has seen every participant join.
  async function session(...names) {
    const room = await createRoom(srv, 'Floor room');
    const f = await join(room.room_id, 'Fran', room.facilitator_key);
    assert.equal(f.role, 'facilitator');
    const ps = [];
    for (const n of names) ps.push(await join(room.room_id, n));
    for (const p of ps) await f.waitFor((m) => m.t === 'joined' && m.member.id === p.member);
    return { room, f, ps };
  }

  // The first event of type `t` (alone or inside a batch) that c received at
  // message index `since` or later and that matches pred.
  async function next(c, since, t, pred = () => true, timeoutMs = 5000) {
    const hit = (e) => e && e.t === t && pred(e);
    const m = await c.waitFor((x) => isEvent(x) && flat(x).some(hit), timeoutMs, { since, what: `a ${t} event` });
    return flat(m).find(hit);
  }

  // Sends a request that must succeed; returns c's message count from before
  // it was sent, to wait for its events from there.
  async function ok(c, req, watcher = c) {
    const since = watcher.messages.length;
    const r = await c.request(req);
    assert.equal(r.t, 'ok', `${JSON.stringify(req)} → ${JSON.stringify(r)}`);
    return since;
  }

  async function refused(c, req, code) {
    const r = await c.request(req);
    assert.equal(r.t, 'error', `${JSON.stringify(req)} must fail with ${code}: ${JSON.stringify(r)}`);
    assert.equal(r.code, code, `${JSON.stringify(req)} → ${JSON.stringify(r)}`);
  }

  // Makes f see a queue whose member order is `order` (after index since).
  const queueIs = (f, since, order) =>
    next(f, since, 'queue', (e) => JSON.stringify(ids(e.queue)) === JSON.stringify(order));

  // Raises hands one after another, each seen by f before the next, so their
  // time order is the order given.
  async function raiseInOrder(f, hands) {
    let q;
    for (const [c, type] of hands) {
      const since = await ok(c, { t: 'raise', type }, f);
      q = await next(f, since, 'queue', (e) => ids(e.queue).includes(c.member));
    }
    return q;
  }

  describe('raise and lower', () => {
    it('raise puts my hand in the queue with its type, the raise time and moved false; lower takes it out', async () => {
      const { f, ps: [a] } = await session('Ann');
      let since = await ok(a, { t: 'raise', type: 'new' }, f);
      const q = await next(f, since, 'queue');
      assert.equal(q.policy, 'fifo');
      assert.equal(q.queue.length, 1);
      const [hand] = q.queue;
      assert.deepEqual({ member: hand.member, type: hand.type, moved: hand.moved },
        { member: a.member, type: 'new', moved: false });
      assert.ok(Number.isInteger(hand.raised) && Math.abs(hand.raised - q.ts) < 1000,
        `raised is a time in ms near the event's ts: ${hand.raised} vs ${q.ts}`);
      // a, too, sees its own hand
      await next(a, 0, 'queue', (e) => ids(e.queue).includes(a.member));

      since = await ok(a, { t: 'lower' }, f);
      const q2 = await next(f, since, 'queue');
      assert.deepEqual(q2.queue, []);
    });

    it('raising again with another type keeps the raise time but changes the group', async () => {
      const { f, ps: [a, b] } = await session('Ann', 'Bob');
      const q1 = await raiseInOrder(f, [[a, 'new'], [b, 'new']]);
      assert.deepEqual(ids(q1.queue), [a.member, b.member]);
      const raisedB = q1.queue[1].raised;
      const since = await ok(b, { t: 'raise', type: 'clarify' }, f);
      const q2 = await queueIs(f, since, [b.member, a.member]);
      assert.equal(q2.queue[0].type, 'clarify');
      assert.equal(q2.queue[0].raised, raisedB, 'the same raise, in another group');
    });

    it('orders the queue by type group: clarify, then reply, then new; first come within a group', async () => {
      const { f, ps: [a, b, c, d] } = await session('Ann', 'Bob', 'Cat', 'Dan');
      const q = await raiseInOrder(f, [[a, 'new'], [b, 'reply'], [c, 'new'], [d, 'clarify']]);
      assert.deepEqual(ids(q.queue), [d.member, b.member, a.member, c.member]);
      assert.deepEqual(q.queue.map((h) => h.type), ['clarify', 'reply', 'new', 'new']);
    });

    it('every member receives the same queue', async () => {
      const { f, ps: [a, b] } = await session('Ann', 'Bob');
      const q = await raiseInOrder(f, [[b, 'reply'], [a, 'clarify']]);
      for (const c of [a, b]) {
        const seen = await next(c, 0, 'queue', (e) => e.seq === q.seq);
        assert.deepEqual(seen, q);
      }
    });
  });

  describe('policies', () => {
    // Ann: 2 short turns; Bob: 1 long turn; Cat: none. Then they raise new
    // hands in the order Ann, Bob, Cat, so each policy gives another order.
    async function threeHistories() {
      const s = await session('Ann', 'Bob', 'Cat');
      const { f, ps: [a, b, c] } = s;
      for (const who of [a, a, b]) {
        const since = await ok(f, { t: 'give', member: who.member });
        await next(f, since, 'floor', (e) => e.floor.member === who.member);
        if (who === a) await delay(15); // Ann's turns must not round to 0 ms, as Cat's
      }
      await delay(300); // Bob's turn must be clearly longer than Ann's two
      let since = await ok(f, { t: 'take' });
      const fl = await next(f, since, 'floor', (e) => e.floor.member === null);
      const bob = fl.stats.find((x) => x.member === b.member);
      assert.ok(bob.speak_ms >= 250, `Bob spoke ${bob.speak_ms} ms`);
      const q = await raiseInOrder(f, [[a, 'new'], [b, 'new'], [c, 'new']]);
      assert.deepEqual(ids(q.queue), [a.member, b.member, c.member], 'fifo: first come, first served');
      return s;
    }

    it('fewest_turns puts who had the floor fewer times first; least_time who spoke less in total; fifo goes back to raise order', async () => {
      const { f, ps: [a, b, c] } = await threeHistories();
      let since = await ok(f, { t: 'policy', policy: 'fewest_turns' });
      let q = await next(f, since, 'queue');
      assert.equal(q.policy, 'fewest_turns');
      assert.deepEqual(ids(q.queue), [c.member, b.member, a.member], 'turns 0, 1, 2');

      since = await ok(f, { t: 'policy', policy: 'least_time' });
      q = await next(f, since, 'queue');
      assert.equal(q.policy, 'least_time');
      assert.deepEqual(ids(q.queue), [c.member, a.member, b.member], 'Cat 0 ms, Ann a few ms, Bob ≥ 250 ms');

      since = await ok(f, { t: 'policy', policy: 'fifo' });
      q = await next(f, since, 'queue');
      assert.equal(q.policy, 'fifo');
      assert.deepEqual(ids(q.queue), [a.member, b.member, c.member]);
    });

    it('applies the policy within each type group, never across groups', async () => {
      const { f, ps: [a, b, c] } = await threeHistories();
      let since = await ok(a, { t: 'raise', type: 'clarify' }, f); // Ann: 2 turns, but a clarification
      await next(f, since, 'queue', (e) => e.queue[0].member === a.member);
      since = await ok(f, { t: 'policy', policy: 'fewest_turns' });
      const q = await next(f, since, 'queue', (e) => e.policy === 'fewest_turns');
      assert.deepEqual(ids(q.queue), [a.member, c.member, b.member]);
    });

    it('breaks ties by who raised first', async () => {
      const { f, ps: [a, b, c] } = await session('Ann', 'Bob', 'Cat');
      await raiseInOrder(f, [[c, 'new'], [a, 'new'], [b, 'new']]);
      const since = await ok(f, { t: 'policy', policy: 'fewest_turns' });
      const q = await next(f, since, 'queue');
      assert.deepEqual(ids(q.queue), [c.member, a.member, b.member], 'all have 0 turns');
    });
  });

  describe('move', () => {
    it('move puts the hand at the 1-based position, marks it moved, and it keeps that place across policy changes', async () => {
      const { f, ps: [a, b, c] } = await session('Ann', 'Bob', 'Cat');
      await raiseInOrder(f, [[a, 'new'], [b, 'new'], [c, 'new']]);
      let since = await ok(f, { t: 'move', member: c.member, pos: 1 });
      let q = await queueIs(f, since, [c.member, a.member, b.member]);
      assert.deepEqual(q.queue.map((h) => h.moved), [true, false, false]);

      // A clarification would normally go first; the moved hand stays first.
      since = await ok(b, { t: 'raise', type: 'clarify' }, f);
      q = await next(f, since, 'queue');
      assert.deepEqual(ids(q.queue), [c.member, b.member, a.member]);
      since = await ok(f, { t: 'policy', policy: 'least_time' });
      q = await next(f, since, 'queue');
      assert.equal(q.queue[0].member, c.member);
    });

    it('of two moves to one position the later wins; a position past the end puts the hand last', async () => {
      const { f, ps: [a, b, c] } = await session('Ann', 'Bob', 'Cat');
      await raiseInOrder(f, [[a, 'new'], [b, 'new'], [c, 'new']]);
      let since = await ok(f, { t: 'move', member: c.member, pos: 1 });
      await queueIs(f, since, [c.member, a.member, b.member]);
      since = await ok(f, { t: 'move', member: b.member, pos: 1 });
      await queueIs(f, since, [b.member, c.member, a.member]);
      since = await ok(f, { t: 'move', member: b.member, pos: 99 });
      const q = await queueIs(f, since, [c.member, a.member, b.member]);
      assert.deepEqual(q.queue.map((h) => h.moved), [true, false, true]);
    });

    it('a moved hand loses its pin when it is served: raised again it is an ordinary hand', async () => {
      const { f, ps: [a, b] } = await session('Ann', 'Bob');
      await raiseInOrder(f, [[a, 'new'], [b, 'new']]);
      let since = await ok(f, { t: 'move', member: b.member, pos: 1 });
      await queueIs(f, since, [b.member, a.member]);
      since = await ok(f, { t: 'give' });
      await next(f, since, 'floor', (e) => e.floor.member === b.member);
      since = await ok(b, { t: 'raise', type: 'new' }, f);
      const q = await queueIs(f, since, [a.member, b.member]);
      assert.deepEqual(q.queue.map((h) => h.moved), [false, false]);
    });

    it('move of a hand that is not raised is not_found', async () => {
      const { f, ps: [a] } = await session('Ann');
      await refused(f, { t: 'move', member: a.member, pos: 1 }, 'not_found');
    });
  });

  describe('facilitator commands', () => {
    it('refuses every facilitator command from a participant with forbidden, and changes nothing', async () => {
      const { f, ps: [a, b] } = await session('Ann', 'Bob');
      await raiseInOrder(f, [[a, 'new'], [b, 'new']]);
      const since = f.messages.length;
      const cmds = [
        { t: 'clear_hands' },
        { t: 'move', member: a.member, pos: 2 },
        { t: 'policy', policy: 'fewest_turns' },
        { t: 'give' },
        { t: 'give', member: b.member },
        { t: 'take' },
        { t: 'timer', seconds: 60 },
        { t: 'timer', seconds: 60, action: 'next' },
        { t: 'lower', member: a.member },
      ];
      for (const req of cmds) await refused(b, req, 'forbidden');
      // Nothing happened: a chat from f is the next thing f sees.
      const c = await f.chat('still here');
      await f.waitFor((m) => m.t === 'chat' && m.seq === c.seq);
      assert.deepEqual(f.messages.slice(since).filter(isEvent).map((m) => m.t), ['chat']);
    });

    it('lower with a member lowers that hand for a facilitator; clear_hands lowers all', async () => {
      const { f, ps: [a, b, c] } = await session('Ann', 'Bob', 'Cat');
      await raiseInOrder(f, [[a, 'new'], [b, 'reply'], [c, 'clarify']]);
      let since = await ok(f, { t: 'lower', member: b.member });
      await queueIs(f, since, [c.member, a.member]);
      since = await ok(f, { t: 'clear_hands' });
      await queueIs(f, since, []);
    });
  });

  describe('the floor', () => {
    it('give with no member serves the head of the queue and uses up that hand, in one batch with one seq', async () => {
      const { f, ps: [a, b] } = await session('Ann', 'Bob');
      await raiseInOrder(f, [[a, 'new'], [b, 'reply']]);
      const since = await ok(f, { t: 'give' });
      const fl = await next(f, since, 'floor');
      assert.equal(fl.floor.member, b.member, 'the head: a direct reply goes before a new point');
      assert.equal(fl.floor.turn, fl.seq, 'the turn id is the seq of the record that gave it');
      assert.equal(fl.floor.since, fl.ts);
      assert.equal(fl.floor.deadline, 0, 'no timer');
      assert.deepEqual(fl.stats, [{ member: b.member, turns: 1, speak_ms: 0 }]);

      const batch = f.messages.find((m) => m.t === 'batch' && m.seq === fl.seq);
      assert.ok(batch, 'the queue and floor changes arrive as one batch');
      assert.deepEqual(batch.events.map((e) => e.t), ['queue', 'floor']);
      for (const e of batch.events) assert.deepEqual([e.seq, e.ts], [batch.seq, batch.ts], 'every event carries the batch seq');
      assert.deepEqual(ids(batch.events[0].queue), [a.member], "Bob's hand is used up");
      assert.equal(f.events((m) => m.seq === batch.seq).length, 1, 'one seq names one event message');
    });

    it('give to a named member ends the running turn and reports the figures of both', async () => {
      const { f, ps: [a, b] } = await session('Ann', 'Bob');
      let since = await ok(f, { t: 'give', member: a.member });
      const first = await next(f, since, 'floor');
      since = await ok(f, { t: 'give', member: b.member });
      const second = await next(f, since, 'floor');
      assert.equal(second.floor.member, b.member);
      assert.deepEqual(second.stats, [
        { member: a.member, turns: 1, speak_ms: second.ts - first.floor.since },
        { member: b.member, turns: 1, speak_ms: 0 },
      ]);
      // Bob had no hand: the queue did not change, so no batch.
      assert.equal(f.messages.find((m) => m.seq === second.seq).t, 'floor');
    });

    it('give to an empty queue or to someone not here is not_found', async () => {
      const { f, ps: [a] } = await session('Ann');
      await refused(f, { t: 'give' }, 'not_found');
      await refused(f, { t: 'give', member: 999999 }, 'not_found');
      await ok(a, { t: 'leave' });
      await next(f, 0, 'left', (e) => e.member === a.member);
      await refused(f, { t: 'give', member: a.member }, 'not_found');
    });

    it('take ends the turn and credits its time to the holder', async () => {
      const { f, ps: [a] } = await session('Ann');
      let since = await ok(f, { t: 'give', member: a.member });
      const given = await next(f, since, 'floor');
      await delay(150); // speaking time to credit
      since = await ok(f, { t: 'take' });
      const taken = await next(f, since, 'floor');
      assert.deepEqual(taken.floor, { member: null, turn: 0, since: 0, deadline: 0, warned: false, expired: false });
      assert.deepEqual(taken.stats, [{ member: a.member, turns: 1, speak_ms: taken.ts - given.floor.since }]);
      assert.ok(taken.stats[0].speak_ms >= 150, `credited ${taken.stats[0].speak_ms} ms`);
      // take with nobody holding the floor is fine and changes nothing
      await ok(f, { t: 'take' });
      const c = await f.chat('next');
      await f.waitFor((m) => m.t === 'chat' && m.seq === c.seq);
      assert.equal(f.events().filter((m) => m.seq > taken.seq && flat(m).some((e) => e.t === 'floor')).length, 0);
    });

    it('yield by the holder gives the floor up; by anyone else it is forbidden', async () => {
      const { f, ps: [a, b] } = await session('Ann', 'Bob');
      await refused(a, { t: 'yield' }, 'forbidden'); // nobody holds it
      let since = await ok(f, { t: 'give', member: a.member });
      await next(f, since, 'floor');
      await refused(b, { t: 'yield' }, 'forbidden');
      await refused(f, { t: 'yield' }, 'forbidden'); // a facilitator is no holder either
      since = await ok(a, { t: 'yield' }, f);
      const fl = await next(f, since, 'floor');
      assert.equal(fl.floor.member, null);
      assert.equal(fl.stats[0].member, a.member);
      assert.equal(fl.stats[0].turns, 1);
    });
  });

  describe('the turn timer', () => {
    it('timer sets seconds and action for everyone and applies to the running turn from its start', async () => {
      const { f, ps: [a] } = await session('Ann');
      let since = await ok(f, { t: 'give', member: a.member });
      const fl = await next(f, since, 'floor');
      since = await ok(f, { t: 'timer', seconds: 600, action: 'next' });
      const t = await next(a, 0, 'timer', (e) => e.timer.seconds === 600); // a participant sees it too
      assert.deepEqual(t.timer, { seconds: 600, action: 'next' });
      assert.equal(t.floor.member, a.member);
      assert.equal(t.floor.deadline, fl.floor.since + 600 * 1000, 'measured from the start of the turn');
      // action defaults to notice; 0 turns the timer off
      since = await ok(f, { t: 'timer', seconds: 300 });
      let t2 = await next(f, since, 'timer');
      assert.deepEqual(t2.timer, { seconds: 300, action: 'notice' });
      since = await ok(f, { t: 'timer', seconds: 0 });
      t2 = await next(f, since, 'timer');
      assert.equal(t2.timer.seconds, 0);
      assert.equal(t2.floor.deadline, 0);
    });

    it('action next: warn at 80 %, then the floor passes to the next in the queue with a fresh deadline', async () => {
      const { f, ps: [a, b] } = await session('Ann', 'Bob');
      let since = await ok(f, { t: 'timer', seconds: 1, action: 'next' });
      await next(f, since, 'timer');
      // Bob's hand goes up before Ann's one-second turn starts, so it is
      // queued before the turn runs out however slow the machine
      await raiseInOrder(f, [[b, 'new']]);
      since = await ok(f, { t: 'give', member: a.member });
      const fl = await next(f, since, 'floor');
      assert.equal(fl.floor.deadline, fl.floor.since + 1000);

      const warn = await next(f, 0, 'warn', (e) => e.turn === fl.floor.turn, 4000);
      assert.equal(warn.member, a.member);
      assert.equal(warn.deadline, fl.floor.deadline);
      assert.ok(warn.ts >= fl.floor.since + 800, `warned at ${warn.ts - fl.floor.since} ms of 1000`);
      const passed = await next(f, 0, 'floor', (e) => e.floor.member === b.member, 4000);
      assert.ok(passed.seq > warn.seq, 'the warning comes first');
      assert.ok(passed.ts >= fl.floor.deadline, `passed at ${passed.ts - fl.floor.since} ms of 1000`);
      assert.equal(passed.floor.turn, passed.seq);
      assert.equal(passed.floor.deadline, passed.floor.since + 1000);
      assert.deepEqual(passed.stats.map((s) => s.member), [a.member, b.member]);
      assert.equal(passed.stats[0].speak_ms, passed.ts - fl.floor.since);
      const batch = f.messages.find((m) => m.seq === passed.seq);
      assert.equal(batch.t, 'batch', "using up Bob's hand changes the queue in the same record");
      assert.deepEqual(ids(batch.events.find((e) => e.t === 'queue').queue), []);
      assert.equal(f.events((m) => m.t === 'timeup').length, 0, 'no timeup in next mode');

      // Bob's turn runs out too; nobody is queued, so nobody holds the floor.
      const none = await next(f, 0, 'floor', (e) => e.seq > passed.seq, 4000);
      assert.equal(none.floor.member, null);
    });

    it('action notice: warn, then timeup, and the speaker keeps the floor', async () => {
      const { f, ps: [a, b] } = await session('Ann', 'Bob');
      await raiseInOrder(f, [[b, 'new']]);
      let since = await ok(f, { t: 'give', member: a.member });
      const fl = await next(f, since, 'floor');
      since = await ok(f, { t: 'timer', seconds: 1, action: 'notice' });
      const warn = await next(f, since, 'warn', () => true, 4000);
      const up = await next(f, since, 'timeup', () => true, 4000);
      assert.deepEqual([warn.member, warn.turn], [a.member, fl.floor.turn]);
      assert.deepEqual([up.member, up.turn, up.deadline], [a.member, fl.floor.turn, fl.floor.since + 1000]);
      assert.ok(up.ts >= up.deadline);
      assert.ok(up.seq > warn.seq);
      // Still Ann's floor: no floor event since, and a newcomer's snapshot says so.
      const c = await f.chat('after the bell');
      await f.waitFor((m) => m.t === 'chat' && m.seq === c.seq);
      assert.equal(f.events((m) => m.seq > fl.seq && flat(m).some((e) => e.t === 'floor')).length, 0);
      const late = await join(f.room, 'Late');
      const snap = late.joinReply.snapshot;
      assert.equal(snap.floor.member, a.member);
      assert.equal(snap.floor.warned, true);
      assert.equal(snap.floor.expired, true);
      assert.deepEqual(ids(snap.queue), [b.member], "Bob's hand was not used");
    });

    it('a timer shorter than the time already spoken expires the running turn at once', async () => {
      const { f, ps: [a] } = await session('Ann');
      let since = await ok(f, { t: 'give', member: a.member });
      const fl = await next(f, since, 'floor');
      await delay(1100);
      since = await ok(f, { t: 'timer', seconds: 1 });
      const up = await next(f, since, 'timeup', (e) => e.turn === fl.floor.turn, 3000);
      assert.equal(up.member, a.member);
    });
  });

  describe('presence', () => {
    it('a hand keeps its place through a dropped connection and a resume', async () => {
      const { room, f, ps: [a, b, c] } = await session('Ann', 'Bob', 'Cat');
      await raiseInOrder(f, [[a, 'new'], [b, 'new'], [c, 'new']]);
      let since = f.messages.length;
      await b.terminate();
      await next(f, since, 'away', (e) => e.member === b.member);
      const b2 = await connect(srv.wsUrl);
      clients.push(b2);
      const r = await b2.resume(room.room_id, b.member, b.token, 0); // seq 0: a fresh snapshot
      assert.equal(r.t, 'ok', JSON.stringify(r));
      assert.deepEqual(ids(r.snapshot.queue), [a.member, b.member, c.member]);
      await next(f, since, 'back', (e) => e.member === b.member);
      assert.equal(f.messages.slice(since).filter((m) => isEvent(m) && flat(m).some((e) => e.t === 'queue')).length, 0,
        'the queue did not change');
      // and it is still Bob's hand: the facilitator can move it, Bob can lower it
      await ok(f, { t: 'move', member: b.member, pos: 1 });
      await queueIs(b2, 0, [b.member, a.member, c.member]);
      await ok(b2, { t: 'lower' });
      await queueIs(b2, 0, [a.member, c.member]);
    });

    it('leave removes the hand and ends the holder\'s turn: left, queue and floor in one batch', async () => {
      const { f, ps: [a, b] } = await session('Ann', 'Bob');
      let since = await ok(f, { t: 'give', member: a.member });
      const fl = await next(f, since, 'floor');
      await raiseInOrder(f, [[a, 'reply'], [b, 'new']]);
      since = await ok(a, { t: 'leave' }, f);
      const left = await next(f, since, 'left', (e) => e.member === a.member);
      const batch = f.messages.find((m) => m.seq === left.seq);
      assert.equal(batch.t, 'batch');
      assert.deepEqual(batch.events.map((e) => e.t), ['left', 'queue', 'floor']);
      for (const e of batch.events) assert.equal(e.seq, batch.seq);
      const [, q, fl2] = batch.events;
      assert.deepEqual(ids(q.queue), [b.member]);
      assert.equal(fl2.floor.member, null);
      assert.deepEqual(fl2.stats, [{ member: a.member, turns: 1, speak_ms: batch.ts - fl.floor.since }]);
      // b sees the same batch
      const seen = await b.waitFor((m) => m.seq === batch.seq);
      assert.deepEqual(seen, batch);
    });

    it('the snapshot carries policy, queue, floor, timer and every member\'s turns and speak_ms', async () => {
      const { f, ps: [a, b, c] } = await session('Ann', 'Bob', 'Cat');
      let since = await ok(f, { t: 'give', member: a.member });
      const first = await next(f, since, 'floor');
      since = await ok(f, { t: 'give', member: b.member });
      const second = await next(f, since, 'floor');
      since = await ok(f, { t: 'policy', policy: 'least_time' });
      await next(f, since, 'queue');
      since = await ok(f, { t: 'timer', seconds: 120, action: 'next' });
      await next(f, since, 'timer');
      const q = await raiseInOrder(f, [[c, 'reply'], [a, 'new']]);

      const late = await join(f.room, 'Late');
      const snap = late.joinReply.snapshot;
      assert.equal(snap.policy, 'least_time');
      assert.deepEqual(snap.queue, q.queue);
      assert.deepEqual(snap.timer, { seconds: 120, action: 'next' });
      assert.equal(snap.floor.member, b.member);
      assert.equal(snap.floor.turn, second.seq);
      assert.equal(snap.floor.since, second.ts);
      assert.equal(snap.floor.deadline, second.ts + 120000);
      assert.deepEqual([snap.floor.warned, snap.floor.expired], [false, false]);
      const figures = Object.fromEntries(snap.members.map(memberOf).map((m) => [m.name, [m.turns, m.speak_ms]]));
      assert.deepEqual(figures, {
        Fran: [0, 0],
        Ann: [1, second.ts - first.floor.since],
        Bob: [1, 0], // the running turn is not counted yet
        Cat: [0, 0],
        Late: [0, 0],
      });
    });
  });

  describe('bad values', () => {
    it('refuses an unknown type, policy or action, pos 0 and seconds over 3600 with bad_request', async () => {
      const { f, ps: [a] } = await session('Ann');
      await ok(a, { t: 'raise', type: 'new' }, f);
      for (const req of [
        { t: 'raise', type: 'shout' },
        { t: 'raise' },
        { t: 'policy', policy: 'loudest' },
        { t: 'policy' },
        { t: 'timer', seconds: 30, action: 'later' },
        { t: 'timer', seconds: 3601 },
        { t: 'timer', seconds: -1 },
        { t: 'timer' },
        { t: 'move', member: a.member, pos: 0 },
        { t: 'move', member: a.member },
      ]) await refused(f, req, 'bad_request');
      await refused(a, { t: 'raise', type: 'NEW' }, 'bad_request');
      // seconds 3600 is the largest allowed
      const since = await ok(f, { t: 'timer', seconds: 3600 });
      assert.equal((await next(f, since, 'timer')).timer.seconds, 3600);
    });
  });

  it(STOPS_CLEANLY, () => stopCleanly(srv));
});

describe('hands and the floor after the grace period', () => {
  let srv;
  let clients = [];
  before(async () => { srv = await startServer({ args: ['--grace', '1'] }); });
  after(async () => { await closeAll(clients); await srv?.stop(); });

  it('a member who does not come back in time loses the hand and the floor: left (timeout), queue and floor in one batch', async () => {
    const room = await createRoom(srv, 'Grace room');
    const f = await joinedClient(srv.wsUrl, room.room_id, 'Fran', room.facilitator_key);
    const a = await joinedClient(srv.wsUrl, room.room_id, 'Ann');
    clients.push(f, a);
    const r1 = await f.request({ t: 'give', member: a.member });
    assert.equal(r1.t, 'ok');
    const r2 = await a.request({ t: 'raise', type: 'new' });
    assert.equal(r2.t, 'ok');
    await f.waitFor((m) => m.t === 'queue' && m.queue.length === 1);
    const since = f.messages.length;
    await a.terminate();
    const left = await f.waitFor((m) => flat(m).some((e) => e.t === 'left' && e.member === a.member), 5000, { since });
    assert.equal(left.t, 'batch', JSON.stringify(left));
    assert.deepEqual(left.events.map((e) => e.t), ['left', 'queue', 'floor']);
    assert.equal(left.events[0].reason, 'timeout');
    assert.deepEqual(left.events[1].queue, []);
    assert.equal(left.events[2].floor.member, null);
  });

  it(STOPS_CLEANLY, () => stopCleanly(srv));
});
