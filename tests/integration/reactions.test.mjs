// Reactions and quiet signals over the wire (PROTOCOL.md "Reactions and
// quiet signals"): not records, coalesced, counted, and signals only for
// facilitators, one person counting once per kind.
import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../lib/server.mjs';
import { stopCleanly, STOPS_CLEANLY } from '../lib/lifecycle.mjs';
import { sessions, nextFrame, ok, refused, readLog, logPath } from '../lib/session.mjs';

const delay = (ms) => new Promise((r) => setTimeout(r, ms));
const sum = (o) => Object.values(o || {}).reduce((x, y) => x + y, 0);

describe('reactions and signals', () => {
  let srv;
  const s = sessions(() => srv);
  before(async () => { srv = await startServer(); });
  afterEach(() => s.closeAll());
  after(async () => { await srv?.stop(); });

  describe('reactions', () => {
    it('a burst of 20 from several clients reaches everyone as a few frames with the right counts', async () => {
      const { room, f, ps } = await s.session('Ann', 'Bob', 'Cat', 'Dan');
      const all = [f, ...ps];
      const since = all.map((c) => c.messages.length);
      const kinds = ['clap', 'heart', 'clap', 'party', 'clap'];
      const sent = Date.now();
      const replies = await Promise.all(ps.flatMap((c) => kinds.map((kind) => c.request({ t: 'react', kind }))));
      for (const r of replies) assert.equal(r.t, 'ok', JSON.stringify(r));
      const want = { clap: 12, heart: 4, party: 4 };
      for (const [k, c] of all.entries()) {
        await nextFrame(c, since[k], 'reactions', (m) => sum(m.totals) === 20);
        const frames = c.messages.slice(since[k]).filter((m) => m.t === 'reactions');
        // at most one frame per quarter second (PROTOCOL.md), however long the burst took
        const elapsed = Date.now() - sent;
        const most = 2 + Math.ceil(elapsed / 250);
        assert.ok(frames.length <= most && frames.length < 20,
          `client ${k}: ${frames.length} reactions frames for 20 reactions in ${elapsed} ms`);
        const delta = {};
        for (const fr of frames)
          for (const [kind, n] of Object.entries(fr.delta)) delta[kind] = (delta[kind] || 0) + n;
        for (const [kind, n] of Object.entries(want)) {
          assert.equal(delta[kind], n, `client ${k}: delta ${kind}`);
          assert.equal(frames.at(-1).totals[kind], n, `client ${k}: totals ${kind}`);
        }
        assert.equal(sum(delta), 20);
        for (const fr of frames) {
          assert.equal(fr.seq, undefined, 'reactions are not room events');
          assert.ok(!JSON.stringify(fr).includes('Ann'), 'no names');
        }
      }
      assert.ok(Date.now() - sent < 5000);
      // not logged one by one
      const { records } = readLog(logPath(srv.dataDir, room.room_id));
      assert.ok(!records.some((r) => /react/.test(r.rec.k)), 'no reaction records');
      // totals carry on from the session's count
      const since2 = f.messages.length;
      await ok(ps[0], { t: 'react', kind: 'wow' });
      const fr = await nextFrame(f, since2, 'reactions');
      assert.deepEqual(fr.delta, { ...Object.fromEntries(Object.keys(fr.delta).map((k) => [k, 0])), wow: 1 });
      assert.equal(fr.totals.clap, 12);
      assert.equal(fr.totals.wow, 1);
    });

    it('a reaction reaches the others without waiting for other traffic', async () => {
      const { f, ps: [a] } = await s.session('Ann');
      for (let i = 0; i < 3; i++) {
        await delay(300); // a quiet room: nothing else wakes the server
        const since = f.messages.length;
        const t = Date.now();
        await ok(a, { t: 'react', kind: 'thumbs_up' });
        await nextFrame(f, since, 'reactions');
        const ms = Date.now() - t;
        // a generous bound: this checks that the frame is not held back
        // until something else wakes the server, not how fast it is
        assert.ok(ms < 2000, `round ${i}: the reactions frame came ${ms} ms after the reaction`);
      }
    });

    it('refuses an unknown kind', async () => {
      const { ps: [a] } = await s.session('Ann');
      await refused(a, { t: 'react', kind: 'thumbs_down' }, 'bad_request');
      await refused(a, { t: 'react' }, 'bad_request');
    });
  });

  describe('signals', () => {
    it('only facilitators get signals; one person counts once per kind', async () => {
      const { room, f, ps: [a, b, c] } = await s.session('Ann', 'Bob', 'Cat');
      await ok(f, { t: 'promote', member: c.member });
      const since = [f, a, b, c].map((x) => x.messages.length);
      await ok(a, { t: 'signal', kind: 'lost' });
      await ok(a, { t: 'signal', kind: 'lost' });
      await ok(a, { t: 'signal', kind: 'lost' });
      await ok(b, { t: 'signal', kind: 'lost' });
      await ok(b, { t: 'signal', kind: 'slow_down' });
      const want = { slow_down: 1, lost: 2, louder: 0 };
      for (const [k, x] of [[0, f], [3, c]]) {
        const fr = await nextFrame(x, since[k], 'signals',
          (m) => m.counts.lost === 2 && m.counts.slow_down === 1);
        assert.deepEqual(fr.counts, want);
        assert.equal(fr.window, 60);
        assert.ok(!JSON.stringify(fr).includes('Ann') && !JSON.stringify(fr).includes(String(a.member)),
          'no names, no ids');
      }
      // the facilitators' last frame says so: the repeats added nothing
      await delay(400);
      const last = f.messages.filter((m) => m.t === 'signals').at(-1);
      assert.deepEqual(last.counts, want);
      // participants get none
      for (const [k, x] of [[1, a], [2, b]])
        assert.equal(x.messages.slice(since[k]).filter((m) => m.t === 'signals').length, 0);
      // a facilitator who joins later gets the counts at once
      const f2 = await s.join(room.room_id, 'Fran two', room.facilitator_key);
      const fr2 = await nextFrame(f2, 0, 'signals');
      assert.deepEqual(fr2.counts, want);
      // and a participant who joins gets none
      const d = await s.join(room.room_id, 'Dan');
      await ok(d, { t: 'ping' });
      assert.equal(d.messages.filter((m) => m.t === 'signals').length, 0);
      const { records } = readLog(logPath(srv.dataDir, room.room_id));
      assert.ok(!records.some((r) => /signal/.test(r.rec.k)), 'no signal records');
    });

    it('signals and reactions keep flowing while earlier signals are in their minute', async () => {
      const { f, ps: [a, b] } = await s.session('Ann', 'Bob');
      await ok(a, { t: 'signal', kind: 'lost' });
      await nextFrame(f, 0, 'signals', (m) => m.counts.lost === 1);
      await delay(300);
      let since = f.messages.length;
      await ok(b, { t: 'react', kind: 'clap' });
      await nextFrame(f, since, 'reactions', () => true, 2000);
      since = f.messages.length;
      await ok(b, { t: 'signal', kind: 'louder' });
      const fr = await nextFrame(f, since, 'signals', () => true, 2000);
      assert.deepEqual(fr.counts, { slow_down: 0, lost: 1, louder: 1 });
    });

    it('refuses an unknown kind', async () => {
      const { ps: [a] } = await s.session('Ann');
      await refused(a, { t: 'signal', kind: 'boring' }, 'bad_request');
    });
  });

  it(STOPS_CLEANLY, () => stopCleanly(srv));
});
