// Feedback prompts over the wire (PROTOCOL.md "Feedback prompts", "Results",
// "Anonymous prompts", the snapshot's prompts, Events prompt/prompt_closed,
// "Embedded log files"). Each test opens a fresh room with a facilitator and
// participants and checks what each audience receives: the prompt, the
// coalesced `results` frames (with or without `results`, `by` and `mine`),
// and for anonymous prompts what the room's log file and the transcript hold.
import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../lib/server.mjs';
import { joinedClient } from '../lib/client.mjs';
import { stopCleanly, STOPS_CLEANLY } from '../lib/lifecycle.mjs';
import { sessions, next, nextFrame, ok, okReply, refused, readLog, logPath } from '../lib/session.mjs';

const delay = (ms) => new Promise((r) => setTimeout(r, ms));

describe('prompts', () => {
  let srv;
  const s = sessions(() => srv);
  before(async () => { srv = await startServer(); });
  afterEach(() => s.closeAll());
  after(async () => { await srv?.stop(); });

  // Opens a prompt as f; resolves with its id once every client in `all`
  // has received the prompt event.
  async function open(f, all, def) {
    const r = await okReply(f, { t: 'prompt', ...def });
    assert.ok(Number.isInteger(r.seq));
    for (const c of all) await next(c, 0, 'prompt', (e) => e.prompt.id === r.seq);
    return r.seq;
  }

  // The first results frame for prompt id c received from since on that
  // matches pred.
  const results = (c, id, pred = () => true, since = 0, timeoutMs = 5000) =>
    nextFrame(c, since, 'results', (m) => m.prompt === id && pred(m), timeoutMs);

  describe('kinds', () => {
    it('single choice: everyone gets the prompt and live results; a change of answer moves the count', async () => {
      const { f, ps: [a, b] } = await s.session('Ann', 'Bob');
      const id = await open(f, [f, a, b], { kind: 'single', question: 'Lunch?', options: ['soup', 'salad', 'pie'] });
      const ev = await next(a, 0, 'prompt', (e) => e.prompt.id === id);
      assert.deepEqual(
        { kind: ev.prompt.kind, question: ev.prompt.question, options: ev.prompt.options,
          anonymous: ev.prompt.anonymous, reveal: ev.prompt.reveal, closed: ev.prompt.closed,
          closes_at: ev.prompt.closes_at },
        { kind: 'single', question: 'Lunch?', options: ['soup', 'salad', 'pie'], anonymous: false,
          reveal: 'live', closed: false, closes_at: 0 });
      assert.equal(ev.prompt.opened, ev.ts);
      const first = await results(b, id);
      assert.equal(first.answered, 0);
      assert.deepEqual(first.results.counts, [0, 0, 0]);
      await ok(a, { t: 'answer', prompt: id, choice: 1 });
      await ok(b, { t: 'answer', prompt: id, choice: 2 });
      let r = await results(b, id, (m) => m.answered === 2);
      assert.deepEqual(r.results.counts, [0, 1, 1]);
      assert.equal(r.results.by, undefined, 'participants do not see who answered what');
      assert.ok(Number.isInteger(r.at) && r.t === 'results' && r.seq === undefined);
      await ok(a, { t: 'answer', prompt: id, choice: 2 });
      r = await results(b, id, (m) => m.results.counts[2] === 2);
      assert.equal(r.answered, 2);
      assert.deepEqual(r.results.counts, [0, 0, 2]);
      // facilitators see who answered what on a named prompt
      const fr = await results(f, id, (m) => m.results.counts[2] === 2);
      assert.deepEqual(fr.results.by.map((x) => [x.member, x.name, x.answer]).sort(),
        [[a.member, 'Ann', 2], [b.member, 'Bob', 2]].sort());
      await refused(a, { t: 'answer', prompt: id, choice: 3 }, 'bad_request');
      await refused(a, { t: 'answer', prompt: id + 1000, choice: 0 }, 'not_found');
    });

    it('multiple choice counts each option chosen', async () => {
      const { f, ps: [a, b] } = await s.session('Ann', 'Bob');
      const id = await open(f, [f, a, b], { kind: 'multi', question: 'Which days?', options: ['mon', 'tue', 'wed'] });
      await ok(a, { t: 'answer', prompt: id, choices: [0, 2] });
      await ok(b, { t: 'answer', prompt: id, choices: [2] });
      const r = await results(a, id, (m) => m.answered === 2);
      assert.deepEqual(r.results.counts, [1, 0, 2]);
      const fr = await results(f, id, (m) => m.answered === 2);
      assert.deepEqual(fr.results.by.find((x) => x.member === a.member).answer, [0, 2]);
      await refused(a, { t: 'answer', prompt: id, choices: [] }, 'bad_request');
      await refused(a, { t: 'answer', prompt: id, choices: [5] }, 'bad_request');
    });

    it('rating gives counts for 1..scale and the mean, with the labels in the prompt', async () => {
      const { f, ps: [a, b, c] } = await s.session('Ann', 'Bob', 'Cat');
      const id = await open(f, [f, a, b, c], { kind: 'rating', question: 'How was it?', scale: 5, low: 'meh', high: 'great' });
      const ev = await next(a, 0, 'prompt', (e) => e.prompt.id === id);
      assert.deepEqual([ev.prompt.scale, ev.prompt.low, ev.prompt.high], [5, 'meh', 'great']);
      await ok(a, { t: 'answer', prompt: id, value: 5 });
      await ok(b, { t: 'answer', prompt: id, value: 2 });
      await ok(c, { t: 'answer', prompt: id, value: 5 });
      const r = await results(a, id, (m) => m.answered === 3);
      assert.deepEqual(r.results.counts, [0, 1, 0, 0, 2]);
      assert.equal(r.results.mean, 4);
      await refused(a, { t: 'answer', prompt: id, value: 0 }, 'bad_request');
      await refused(a, { t: 'answer', prompt: id, value: 6 }, 'bad_request');
    });

    it('open text lists the answers alphabetically with the frequent words', async () => {
      const { f, ps: [a, b, c] } = await s.session('Ann', 'Bob', 'Cat');
      const id = await open(f, [f, a, b, c], { kind: 'text', question: 'What did you like?' });
      await ok(c, { t: 'answer', prompt: id, text: 'the coffee' });
      await ok(a, { t: 'answer', prompt: id, text: 'Coffee and cake' });
      await ok(b, { t: 'answer', prompt: id, text: 'an old friend' });
      const r = await results(a, id, (m) => m.answered === 3);
      assert.deepEqual(r.results.answers, ['Coffee and cake', 'an old friend', 'the coffee']);
      assert.deepEqual(r.results.words[0], ['coffee', 2]);
      assert.ok(r.results.words.every(([w]) => w.length >= 3));
      await refused(a, { t: 'answer', prompt: id, text: '   ' }, 'empty');
      await refused(a, { t: 'answer', prompt: id, text: 'x'.repeat(281) }, 'too_long');
    });

    it('refuses bad definitions and participants', async () => {
      const { f, ps: [a] } = await s.session('Ann');
      await refused(a, { t: 'prompt', kind: 'text', question: 'Mine?' }, 'forbidden');
      await refused(f, { t: 'prompt', kind: 'single', question: 'One?', options: ['only'] }, 'bad_request');
      await refused(f, { t: 'prompt', kind: 'single', question: 'Q' }, 'bad_request');
      await refused(f, { t: 'prompt', kind: 'rating', question: 'Q' }, 'bad_request');
      await refused(f, { t: 'prompt', kind: 'poll', question: 'Q' }, 'bad_request');
      await refused(f, { t: 'prompt', kind: 'text', question: 'q'.repeat(301) }, 'too_long');
      await refused(f, { t: 'prompt', kind: 'text', question: 'Q', reveal: 'never' }, 'bad_request');
    });
  });

  describe('closing', () => {
    it('closing by hand sends prompt_closed; answers are then forbidden', async () => {
      const { f, ps: [a, b] } = await s.session('Ann', 'Bob');
      const id = await open(f, [f, a, b], { kind: 'single', question: 'Now?', options: ['y', 'n'] });
      await ok(a, { t: 'answer', prompt: id, choice: 0 });
      await refused(a, { t: 'close_prompt', prompt: id }, 'forbidden');
      const since = await ok(f, { t: 'close_prompt', prompt: id }, b);
      const ev = await next(b, since, 'prompt_closed', (e) => e.prompt === id);
      assert.ok(ev.closed_at >= ev.ts - 1 && ev.closed_at <= ev.ts + 1, 'closed_at is the record time');
      await refused(b, { t: 'answer', prompt: id, choice: 1 }, 'forbidden');
      await refused(a, { t: 'answer', prompt: id, choice: 1 }, 'forbidden');
      const r = await results(b, id, (m) => m.closed === true);
      assert.deepEqual(r.results.counts, [1, 0]);
    });

    it('a deadline closes the prompt by itself', async () => {
      const { f, ps: [a] } = await s.session('Ann');
      const id = await open(f, [f, a], { kind: 'single', question: 'Quick!', options: ['y', 'n'], seconds: 2 });
      const pe = await next(a, 0, 'prompt', (e) => e.prompt.id === id);
      assert.equal(pe.prompt.closes_at, pe.prompt.opened + 2000);
      await ok(a, { t: 'answer', prompt: id, choice: 1 });
      const ev = await next(a, 0, 'prompt_closed', (e) => e.prompt === id, 6000);
      assert.ok(ev.closed_at >= pe.prompt.opened + 2000, `closed at ${ev.closed_at}, due ${pe.prompt.opened + 2000}`);
      assert.ok(ev.closed_at < pe.prompt.opened + 5000, 'closed soon after it was due');
      await refused(a, { t: 'answer', prompt: id, choice: 0 }, 'forbidden');
      const r = await results(a, id, (m) => m.closed);
      assert.deepEqual(r.results.counts, [0, 1]);
    });
  });

  describe('coalescing', () => {
    it('30 answers at once reach each client as a handful of results frames, with the right tally', async () => {
      const { room, f } = await s.session();
      const ps = [];
      for (let i = 0; i < 30; i++) ps.push(s.track(await joinedClient(srv.wsUrl, room.room_id, `P${i}`)));
      const all = [f, ...ps];
      const id = await open(f, all, { kind: 'single', question: 'Go?', options: ['a', 'b', 'c'] });
      for (const c of all) await results(c, id); // the frame sent when it opened
      const since = all.map((c) => c.messages.length);
      const sent = Date.now();
      const replies = await Promise.all(ps.map((c, i) => c.request({ t: 'answer', prompt: id, choice: i % 3 })));
      for (const r of replies) assert.equal(r.t, 'ok', JSON.stringify(r));
      await Promise.all(all.map((c, k) => results(c, id, (m) => m.answered === 30, since[k])));
      await delay(Math.max(0, sent + 1000 - Date.now())); // count what arrives within the second
      for (const [k, c] of all.entries()) {
        const frames = c.messages.slice(since[k]).filter((m) => m.t === 'results' && m.prompt === id);
        // at most one frame per quarter second (PROTOCOL.md), however long the answers took
        const elapsed = Date.now() - sent;
        const most = 2 + Math.ceil(elapsed / 250);
        assert.ok(frames.length >= 1 && frames.length <= most && frames.length < 30,
          `client ${k} got ${frames.length} results frames for 30 answers in ${elapsed} ms`);
        const last = frames.at(-1);
        assert.equal(last.answered, 30);
        assert.deepEqual(last.results.counts, [10, 10, 10]);
      }
    });
  });

  describe('latency', () => {
    // PROTOCOL.md: results go out "at most four times a second per prompt";
    // coalescing may hold an update back for a quarter of a second, not for
    // as long as the server happens to sleep.
    it('results follow the opening and each answer without waiting for other traffic', async () => {
      const { f, ps: [a] } = await s.session('Ann');
      for (let i = 0; i < 3; i++) {
        await delay(300); // a quiet room: nothing else wakes the server
        let t = Date.now();
        const id = await open(f, [f], { kind: 'single', question: `Q${i}`, options: ['x', 'y'] });
        await results(a, id);
        const opened = Date.now() - t;
        await delay(300);
        const since = a.messages.length;
        t = Date.now();
        await ok(a, { t: 'answer', prompt: id, choice: 1 });
        await results(a, id, (m) => m.answered === 1, since);
        const answered = Date.now() - t;
        // a generous bound: this checks that updates are not held back
        // until something else wakes the server, not how fast it is
        assert.ok(opened < 2000 && answered < 2000,
          `round ${i}: results ${opened} ms after the opening, ${answered} ms after the answer`);
      }
    });
  });

  describe('reveal', () => {
    it('answered: each person sees the results once they have answered', async () => {
      const { f, ps: [a, b] } = await s.session('Ann', 'Bob');
      const id = await open(f, [f, a, b], { kind: 'single', question: 'Q', options: ['x', 'y'], reveal: 'answered' });
      const r0 = await results(a, id);
      assert.equal(r0.results, undefined);
      assert.equal(r0.answered, 0);
      await ok(a, { t: 'answer', prompt: id, choice: 0 });
      const ra = await results(a, id, (m) => m.answered === 1);
      assert.deepEqual(ra.results.counts, [1, 0]);
      const rb = await results(b, id, (m) => m.answered === 1);
      assert.equal(rb.results, undefined, 'Bob has not answered');
      const rf = await results(f, id, (m) => m.answered === 1);
      assert.deepEqual(rf.results.counts, [1, 0]);
      await ok(f, { t: 'close_prompt', prompt: id });
      const rc = await results(b, id, (m) => m.closed);
      assert.deepEqual(rc.results.counts, [1, 0], 'everyone once closed');
    });

    it('answered, anonymous: the server still knows who has answered, by token', async () => {
      const { f, ps: [a, b] } = await s.session('Ann', 'Bob');
      const id = await open(f, [f, a, b], { kind: 'single', question: 'Q', options: ['x', 'y'], reveal: 'answered', anonymous: true });
      await ok(a, { t: 'answer', prompt: id, choice: 1 });
      const ra = await results(a, id, (m) => m.answered === 1);
      assert.deepEqual(ra.results.counts, [0, 1]);
      const rb = await results(b, id, (m) => m.answered === 1);
      assert.equal(rb.results, undefined, 'Bob has not answered');
      const rf = await results(f, id, (m) => m.answered === 1);
      assert.deepEqual(rf.results.counts, [0, 1]);
      assert.equal(rf.results.by, undefined);
    });

    it('closed: nobody but facilitators sees the results until the prompt closes', async () => {
      const { f, ps: [a, b] } = await s.session('Ann', 'Bob');
      const id = await open(f, [f, a, b], { kind: 'single', question: 'Q', options: ['x', 'y'], reveal: 'closed' });
      await ok(a, { t: 'answer', prompt: id, choice: 1 });
      for (const c of [a, b]) {
        const r = await results(c, id, (m) => m.answered === 1);
        assert.equal(r.results, undefined);
      }
      const rf = await results(f, id, (m) => m.answered === 1);
      assert.deepEqual(rf.results.counts, [0, 1]);
      await ok(f, { t: 'close_prompt', prompt: id });
      for (const c of [a, b]) {
        const r = await results(c, id, (m) => m.closed);
        assert.deepEqual(r.results.counts, [0, 1]);
      }
    });

    it('facilitators: participants never see the results, even after close', async () => {
      const { f, ps: [a, b] } = await s.session('Ann', 'Bob');
      const id = await open(f, [f, a, b], { kind: 'single', question: 'Q', options: ['x', 'y'], reveal: 'facilitators' });
      await ok(a, { t: 'answer', prompt: id, choice: 1 });
      await ok(f, { t: 'close_prompt', prompt: id });
      for (const c of [a, b]) {
        const r = await results(c, id, (m) => m.closed);
        assert.equal(r.results, undefined);
        assert.equal(r.answered, 1);
        assert.ok(c.messages.every((m) => m.t !== 'results' || m.prompt !== id || !m.results));
      }
      const rf = await results(f, id, (m) => m.closed);
      assert.deepEqual(rf.results.counts, [0, 1]);
    });

    it('live: everyone sees the results at once', async () => {
      const { f, ps: [a, b] } = await s.session('Ann', 'Bob');
      const id = await open(f, [f, a, b], { kind: 'single', question: 'Q', options: ['x', 'y'] });
      await ok(a, { t: 'answer', prompt: id, choice: 1 });
      const r = await results(b, id, (m) => m.answered === 1);
      assert.deepEqual(r.results.counts, [0, 1]);
    });
  });

  describe('anonymous prompts', () => {
    it('the log holds no member in an answer record, results name nobody, the transcript neither', async () => {
      const { room, f, ps: [a, b] } = await s.session('Quincy Responder', 'Rosa Answerer');
      const anon = await open(f, [f, a, b], { kind: 'text', question: 'What worries you?', anonymous: true });
      const anonChoice = await open(f, [f, a, b], { kind: 'single', question: 'Go on?', options: ['y', 'n'], anonymous: true });
      const named = await open(f, [f, a, b], { kind: 'single', question: 'Named', options: ['y', 'n'] });
      await ok(a, { t: 'answer', prompt: anon, text: 'zebra crossings' });
      await ok(b, { t: 'answer', prompt: anon, text: 'apple budget' });
      await ok(a, { t: 'answer', prompt: anon, text: 'zebra crossings, really' }); // changed
      await ok(a, { t: 'answer', prompt: anonChoice, choice: 0 });
      await ok(b, { t: 'answer', prompt: anonChoice, choice: 1 });
      await ok(a, { t: 'answer', prompt: named, choice: 1 });
      // facilitators see the results, but not who gave them
      const fr = await results(f, anon, (m) => m.answered === 2 && m.results.answers.includes('zebra crossings, really'));
      assert.deepEqual(fr.results.answers, ['apple budget', 'zebra crossings, really']);
      assert.equal(fr.results.by, undefined);
      const fc = await results(f, anonChoice, (m) => m.answered === 2);
      assert.equal(fc.results.by, undefined);
      assert.deepEqual(fc.results.counts, [1, 1]);
      const fn = await results(f, named, (m) => m.answered === 1);
      assert.equal(fn.results.by[0].name, 'Quincy Responder', 'the named prompt does say who');

      // the room's log: answer records carry a token, never a member
      const { records } = readLog(logPath(srv.dataDir, room.room_id));
      const answers = records.filter((r) => r.rec.k === 'answer');
      const anonAnswers = answers.filter((r) => [anon, anonChoice].includes(Number(r.rec.tg)));
      assert.equal(anonAnswers.length, 5);
      for (const { rec, bytes } of anonAnswers) {
        assert.equal('member' in rec, false, `an anonymous answer record with a member: ${JSON.stringify(Object.keys(rec))}`);
        assert.ok(rec.tk instanceof Uint8Array && rec.tk.length === 16, 'tk is bin 16');
        for (const key of Object.keys(rec))
          assert.ok(['k', 'o', 'tg', 'a', 'text', 'tk'].includes(key), `unexpected key ${key}`);
        assert.ok(!Buffer.from(bytes).includes('Quincy') && !Buffer.from(bytes).includes('Rosa'));
      }
      // one person, one token per prompt: Quincy's two answers share theirs
      const tokens = anonAnswers.filter((r) => Number(r.rec.tg) === anon)
        .map((r) => Buffer.from(r.rec.tk).toString('hex'));
      assert.equal(tokens[0], tokens[2]);
      assert.notEqual(tokens[0], tokens[1]);
      const otherToken = Buffer.from(anonAnswers.find((r) => Number(r.rec.tg) === anonChoice).rec.tk).toString('hex');
      assert.notEqual(otherToken, tokens[0], 'tokens differ between prompts: no cross-prompt link');
      const namedAnswer = answers.find((r) => Number(r.rec.tg) === named);
      assert.equal(Number(namedAnswer.rec.member), a.member, 'a named answer does carry its member');

      // the transcript (the export) lists the answers, not who gave them
      const res = await fetch(`${srv.url}/api/rooms/${room.room_id}/transcript?format=json`,
        { headers: { authorization: `Bearer ${room.facilitator_key}` } });
      assert.equal(res.status, 200);
      const doc = await res.json();
      const tp = doc.prompts.find((p) => p.id === anon);
      assert.equal(tp.anonymous, true);
      assert.deepEqual(tp.texts, ['apple budget', 'zebra crossings, really']);
      assert.equal(tp.by, undefined);
      assert.equal(doc.prompts.find((p) => p.id === anonChoice).by, undefined);
      assert.equal(doc.prompts.find((p) => p.id === named).by.length, 1);
      for (const fmt of ['md', 'html', 'csv']) {
        const t = await (await fetch(`${srv.url}/api/rooms/${room.room_id}/transcript?format=${fmt}&table=prompts`,
          { headers: { authorization: `Bearer ${room.facilitator_key}` } })).text();
        for (const line of t.split('\n').filter((l) => l.includes('zebra') || l.includes('apple budget')))
          assert.ok(!line.includes('Quincy') && !line.includes('Rosa'), `${fmt}: ${line}`);
      }
    });
  });

  describe('after a reload', () => {
    it('a participant resuming with seq 0 gets a snapshot and their own answers as mine', async () => {
      const { f, ps: [a, b] } = await s.session('Ann', 'Bob');
      const named = await open(f, [f, a, b], { kind: 'multi', question: 'Which?', options: ['x', 'y', 'z'] });
      const anon = await open(f, [f, a, b], { kind: 'rating', question: 'Rate', scale: 5, anonymous: true });
      const text = await open(f, [f, a, b], { kind: 'text', question: 'Say', reveal: 'closed' });
      await ok(a, { t: 'answer', prompt: named, choices: [0, 2] });
      await ok(a, { t: 'answer', prompt: anon, value: 4 });
      await ok(a, { t: 'answer', prompt: text, text: 'hello there' });
      await results(f, text, (m) => m.answered === 1);
      await a.terminate(); // the page reloads
      const a2 = await s.open();
      const r = await a2.resume(a.room, a.member, a.token, 0);
      assert.equal(r.t, 'ok', JSON.stringify(r));
      assert.ok(r.snapshot, 'seq 0: a snapshot');
      assert.deepEqual(r.snapshot.prompts.map((p) => p.id), [named, anon, text]);
      const mine = async (id) => (await results(a2, id, (m) => 'mine' in m)).mine;
      assert.deepEqual(await mine(named), [0, 2]);
      assert.equal(await mine(anon), 4, 'an anonymous answer is found again by its token');
      assert.equal(await mine(text), 'hello there');
      // the text prompt reveals only when closed: mine, but no results
      const rt = await results(a2, text, (m) => 'mine' in m);
      assert.equal(rt.results, undefined);
      // someone who has not answered gets no mine
      await b.terminate();
      const b2 = await s.open();
      await b2.resume(b.room, b.member, b.token, 0);
      for (const id of [named, anon, text]) {
        const rb = await results(b2, id);
        assert.equal('mine' in rb, false);
      }
      // a fresh join gets results (without mine) for every prompt too
      const c = await s.join(a.room, 'Cat');
      for (const id of [named, anon, text]) await results(c, id);
    });
  });

  it(STOPS_CLEANLY, () => stopCleanly(srv));
});
