// The agenda over the wire (PROTOCOL.md "Agenda", Events `agenda`, the
// snapshot's agenda): set, run, advance, go back, finish, edit, and the
// fields a client needs to show elapsed time and an over-time mark.
import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../lib/server.mjs';
import { stopCleanly, STOPS_CLEANLY } from '../lib/lifecycle.mjs';
import { sessions, next, ok, refused } from '../lib/session.mjs';

const PLAN = [
  { title: 'intro', minutes: 5 }, { title: 'talk', minutes: 20 },
  { title: 'discussion', minutes: 20 }, { title: 'wrap-up', minutes: 5 },
];

describe('agenda', () => {
  let srv;
  const s = sessions(() => srv);
  before(async () => { srv = await startServer(); });
  afterEach(() => s.closeAll());
  after(async () => { await srv?.stop(); });

  // Sends req as f; resolves with the agenda event a receives for it.
  async function step(f, a, req) {
    const since = await ok(f, req, a);
    return (await next(a, since, 'agenda')).agenda;
  }

  it('set shows the plan to everyone, not started', async () => {
    const { room, f, ps: [a] } = await s.session('Ann');
    const ag = await step(f, a, { t: 'agenda', segments: PLAN });
    assert.deepEqual(ag.segments.map((x) => [x.title, x.minutes, x.started, x.ended]),
      PLAN.map((x) => [x.title, x.minutes, 0, 0]));
    assert.equal(ag.current, -1);
    assert.equal(ag.since, 0);
    const late = await s.join(room.room_id, 'Late');
    assert.deepEqual(late.joinReply.snapshot.agenda, ag);
  });

  it('go, next, back and finish stamp the actual times beside the planned minutes', async () => {
    const { room, f, ps: [a] } = await s.session('Ann');
    await step(f, a, { t: 'agenda', segments: PLAN });
    let since = await ok(f, { t: 'agenda_go', segment: 0 }, a);
    let ev = await next(a, since, 'agenda');
    let ag = ev.agenda;
    assert.equal(ag.current, 0);
    assert.equal(ag.since, ev.ts, 'since is the time of the record that started it');
    assert.equal(ag.segments[0].started, ev.ts);
    assert.equal(ag.segments[0].ended, 0);
    const t0 = ev.ts;

    since = await ok(f, { t: 'agenda_go', segment: 1 }, a);
    ev = await next(a, since, 'agenda');
    ag = ev.agenda;
    const t1 = ev.ts;
    assert.equal(ag.current, 1);
    assert.equal(ag.segments[0].ended, t1);
    assert.equal(ag.segments[0].minutes, 5);
    assert.equal(ag.segments[1].started, t1);
    assert.equal(ag.since, t1);

    // back: the intro keeps its first start, loses its end; the talk ends
    since = await ok(f, { t: 'agenda_go', segment: 0 }, a);
    ev = await next(a, since, 'agenda');
    ag = ev.agenda;
    assert.equal(ag.current, 0);
    assert.equal(ag.segments[0].started, t0);
    assert.equal(ag.segments[0].ended, 0);
    assert.equal(ag.segments[1].ended, ev.ts);
    assert.equal(ag.since, ev.ts);

    // finish: current = the number of segments
    since = await ok(f, { t: 'agenda_go', segment: PLAN.length }, a);
    ev = await next(a, since, 'agenda');
    ag = ev.agenda;
    assert.equal(ag.current, PLAN.length);
    assert.equal(ag.since, 0);
    assert.equal(ag.segments[0].ended, ev.ts);
    assert.equal(ag.segments[2].started, 0, 'never ran');

    const late = await s.join(room.room_id, 'Late');
    assert.deepEqual(late.joinReply.snapshot.agenda, ag);
  });

  it('gives what a client needs for elapsed time and the over-time mark', async () => {
    const { f, ps: [a] } = await s.session('Ann');
    await step(f, a, { t: 'agenda', segments: [{ title: 'lightning', minutes: 1 }, { title: 'rest', minutes: 10 }] });
    const since = await ok(f, { t: 'agenda_go', segment: 0 }, a);
    const ev = await next(a, since, 'agenda');
    const { agenda: ag } = ev;
    const seg = ag.segments[ag.current];
    // "a segment runs over when now − since > its minutes"
    const over = (now) => now - ag.since > seg.minutes * 60000;
    assert.equal(over(ev.ts + 59999), false);
    assert.equal(over(ev.ts + 60001), true);
    const pong = await a.request({ t: 'ping' });
    assert.ok(Math.abs(pong.ts - ag.since) < 5000, 'since is on the server clock that ping gives');
  });

  it('an edit keeps the progress of the segments that remain', async () => {
    const { f, ps: [a] } = await s.session('Ann');
    await step(f, a, { t: 'agenda', segments: PLAN });
    await step(f, a, { t: 'agenda_go', segment: 0 });
    const before = await step(f, a, { t: 'agenda_go', segment: 1 });
    const ag = await step(f, a, { t: 'agenda', segments: [
      { title: 'intro', minutes: 5 }, { title: 'talk', minutes: 30 }, { title: 'q&a', minutes: 10 }] });
    assert.equal(ag.current, 1);
    assert.equal(ag.since, before.since);
    assert.deepEqual(ag.segments.slice(0, 2).map((x) => [x.started, x.ended]),
      before.segments.slice(0, 2).map((x) => [x.started, x.ended]));
    assert.equal(ag.segments[1].minutes, 30);
    assert.deepEqual(ag.segments[2], { title: 'q&a', minutes: 10, started: 0, ended: 0 });
  });

  it('refuses participants and bad plans', async () => {
    const { f, ps: [a] } = await s.session('Ann');
    await refused(a, { t: 'agenda', segments: PLAN }, 'forbidden');
    await refused(f, { t: 'agenda_go', segment: 0 }, 'bad_request'); // no agenda yet
    const eleven = Array.from({ length: 11 }, (_, i) => ({ title: `s${i}`, minutes: 1 }));
    await refused(f, { t: 'agenda', segments: eleven }, 'bad_request');
    await refused(f, { t: 'agenda', segments: [{ title: 'x', minutes: 0 }] }, 'bad_request');
    await refused(f, { t: 'agenda', segments: [{ title: 'x', minutes: 601 }] }, 'bad_request');
    await refused(f, { t: 'agenda', segments: [{ title: '   ', minutes: 5 }] }, 'bad_request');
    await refused(f, { t: 'agenda', segments: [{ title: 'x'.repeat(61), minutes: 5 }] }, 'too_long');
    await refused(f, { t: 'agenda', segments: [{ minutes: 5 }] }, 'bad_request');
    await ok(f, { t: 'agenda', segments: PLAN });
    await refused(a, { t: 'agenda_go', segment: 0 }, 'forbidden');
    await refused(f, { t: 'agenda_go', segment: PLAN.length + 1 }, 'bad_request');
  });

  it(STOPS_CLEANLY, () => stopCleanly(srv));
});
