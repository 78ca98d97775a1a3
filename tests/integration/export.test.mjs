// Session transcripts over HTTP and from the command line (proto/TRANSCRIPT.md):
// a short session runs over the wire, then
//   GET /api/rooms/{id}/transcript?format=json|md|html|csv[&table=...]
// is checked for authorisation (401 without a key, 403 for a wrong key and
// for an unknown room, with the same body), content types, the X-Potluck-Seq
// header, the CSV tables and bad formats; after `end` the server has written
// <dataDir>/exports/<room>.json and .md, and `potluckd export` prints the
// same transcript as the endpoint, without a server.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { binary, startServer, createRoom } from '../lib/server.mjs';
import { joinedClient, closeAll } from '../lib/client.mjs';
import { stopCleanly, STOPS_CLEANLY } from '../lib/lifecycle.mjs';

const FORMATS = ['json', 'md', 'html', 'csv'];
const CONTENT_TYPES = {
  json: /^application\/json$/,
  md: /^text\/markdown; charset=utf-8$/,
  html: /^text\/html; charset=utf-8$/,
  csv: /^text\/csv; charset=utf-8$/,
};
const CSV_HEADS = {
  contributions: 'member,name,role,turns,speaking_seconds,speaking_share,messages,hands_raised,prompts_answered',
  chat: 'seq,time_utc,member,name,text,removed',
  turns: 'turn,member,name,start_utc,seconds',
  prompts: 'prompt,kind,anonymous,question,answer,count',
};
// A well-formed room id that no room has.
const NO_ROOM = 'AAAAAAAAAAAAAAAA';

async function get(srv, path, headers = {}) {
  const r = await fetch(`${srv.url}${path}`, { headers });
  const text = await r.text();
  let json;
  try { json = JSON.parse(text); } catch {}
  return { status: r.status, headers: r.headers, text, json };
}

function transcript(srv, room, { format, table, key, bearer } = {}) {
  const q = new URLSearchParams();
  if (format) q.set('format', format);
  if (table) q.set('table', table);
  if (key !== undefined) q.set('key', key);
  const headers = bearer !== undefined ? { authorization: `Bearer ${bearer}` } : {};
  return get(srv, `/api/rooms/${room}/transcript?${q}`, headers);
}

function assertJsonError(r, status, code) {
  assert.equal(r.status, status, `status (body: ${r.text})`);
  assert.match(r.headers.get('content-type') || '', /^application\/json/);
  assert.ok(r.json && typeof r.json === 'object', `a JSON error body, got: ${r.text}`);
  assert.equal(r.json.error, code);
  assert.equal(typeof r.json.message, 'string');
}

// Runs potluckd export; resolves with { code, stdout, stderr } (never rejects).
function runExport(args) {
  return new Promise((resolve) => {
    execFile(binary, ['export', ...args], { timeout: 10000, maxBuffer: 16 << 20 },
      (err, stdout, stderr) => resolve({ code: err ? err.code : 0, stdout, stderr }));
  });
}

// Polls for a file with a deadline.
async function waitForFile(path, timeout = 5000) {
  const end = Date.now() + timeout;
  while (!existsSync(path)) {
    if (Date.now() > end) throw new Error(`${path} not written within ${timeout} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function ok(client, req) {
  const r = await client.request(req);
  assert.equal(r.t, 'ok', `${req.t}: ${JSON.stringify(r)}`);
  return r;
}

describe('transcript export', () => {
  let srv;
  let room;      // the POST /api/rooms answer
  let key;
  let fac, ann, bo;
  const clients = [];
  let spamSeq;

  before(async () => {
    srv = await startServer();
    room = await createRoom(srv, 'Export over the wire');
    key = room.facilitator_key;
    fac = await joinedClient(srv.wsUrl, room.room_id, 'Fay', key);
    ann = await joinedClient(srv.wsUrl, room.room_id, 'Ann');
    bo = await joinedClient(srv.wsUrl, room.room_id, 'Bo');
    clients.push(fac, ann, bo);
    await ok(fac, { t: 'chat', text: 'Welcome, *everyone*' });
    await ok(ann, { t: 'chat', text: 'hello, "world"' });
    spamSeq = (await ok(bo, { t: 'chat', text: 'buy watches' })).seq;
    await ok(fac, { t: 'delete', seq: spamSeq });
    await ok(fac, { t: 'agenda', segments: [{ title: 'Intro', minutes: 5 }, { title: 'Talk', minutes: 20 }] });
    await ok(fac, { t: 'agenda_go', segment: 0 });
    await ok(ann, { t: 'raise', type: 'new' });
    await ok(bo, { t: 'raise', type: 'clarify' });
    await ok(fac, { t: 'give' });                      // Bo (clarify goes first)
    await ok(fac, { t: 'give' });                      // Ann
    const poll = (await ok(fac, { t: 'prompt', kind: 'single', question: 'Tea or coffee?', options: ['Tea', 'Coffee'] })).seq;
    await ok(ann, { t: 'answer', prompt: poll, choice: 1 });
    await ok(bo, { t: 'answer', prompt: poll, choice: 0 });
    const rating = (await ok(fac, { t: 'prompt', kind: 'rating', question: 'How was it?', scale: 5, anonymous: true })).seq;
    await ok(ann, { t: 'answer', prompt: rating, value: 4 });
    await ok(bo, { t: 'answer', prompt: rating, value: 5 });
    await ok(fac, { t: 'close_prompt', prompt: poll });
    await ok(fac, { t: 'mute', member: bo.member });
    await ok(fac, { t: 'promote', member: ann.member });
    await ok(fac, { t: 'agenda_go', segment: 1 });
  });

  after(async () => { await closeAll(clients); await srv?.stop(); });

  describe('authorisation', () => {
    for (const format of FORMATS) {
      it(`${format}: 401 unauthorized without a key`, async () => {
        assertJsonError(await transcript(srv, room.room_id, { format }), 401, 'unauthorized');
        assertJsonError(await transcript(srv, room.room_id, { format, key: '' }), 401, 'unauthorized');
      });

      it(`${format}: 403 forbidden with a wrong key, by header or by key=`, async () => {
        const wrong = key.slice(0, -1) + (key.endsWith('A') ? 'B' : 'A');
        assertJsonError(await transcript(srv, room.room_id, { format, bearer: wrong }), 403, 'forbidden');
        assertJsonError(await transcript(srv, room.room_id, { format, key: wrong }), 403, 'forbidden');
        assertJsonError(await transcript(srv, room.room_id, { format, bearer: 'x' }), 403, 'forbidden');
      });

      it(`${format}: 403 for an unknown room, with any key, the same answer as a wrong key`, async () => {
        const wrongKey = await transcript(srv, room.room_id, { format, bearer: 'not-the-key' });
        const unknownRealKey = await transcript(srv, NO_ROOM, { format, bearer: key });
        const unknownOtherKey = await transcript(srv, NO_ROOM, { format, key: 'not-the-key' });
        for (const r of [unknownRealKey, unknownOtherKey]) {
          assertJsonError(r, 403, 'forbidden');
          assert.equal(r.text, wrongKey.text, 'the same body: nothing tells which rooms exist');
          assert.equal(r.headers.get('content-type'), wrongKey.headers.get('content-type'));
        }
      });

      it(`${format}: 200 with the key as Bearer and as key=, the same bytes, the right content type`, async () => {
        const a = await transcript(srv, room.room_id, { format, bearer: key });
        const b = await transcript(srv, room.room_id, { format, key });
        for (const r of [a, b]) {
          assert.equal(r.status, 200, r.text);
          assert.match(r.headers.get('content-type') || '', CONTENT_TYPES[format]);
          assert.match(r.headers.get('x-potluck-seq') || '', /^[1-9][0-9]*$/);
        }
        assert.equal(a.headers.get('x-potluck-seq'), b.headers.get('x-potluck-seq'));
        assert.equal(a.text, b.text);
      });
    }

    it('a participant\'s resume token is not a transcript key', async () => {
      assertJsonError(await transcript(srv, room.room_id, { bearer: ann.token }), 403, 'forbidden');
    });
  });

  describe('contents during the session', () => {
    it('JSON: version 1, as_of_seq equals X-Potluck-Seq, the session as it ran', async () => {
      const r = await transcript(srv, room.room_id, { format: 'json', bearer: key });
      assert.equal(r.status, 200, r.text);
      const j = r.json;
      assert.equal(j.version, 1);
      assert.equal(String(j.as_of_seq), r.headers.get('x-potluck-seq'));
      assert.equal(j.room.id, room.room_id);
      assert.equal(j.room.title, 'Export over the wire');
      assert.equal(j.room.session_ended, false);
      assert.equal(j.room.ended, 0);
      assert.deepEqual(j.attendance.map((m) => [m.id, m.name, m.role, m.left]), [
        [fac.member, 'Fay', 'facilitator', null],
        [ann.member, 'Ann', 'co-facilitator', null],
        [bo.member, 'Bo', 'participant', null],
      ]);
      assert.deepEqual(j.chat.map((c) => [c.name, c.text, c.removed]), [
        ['Fay', 'Welcome, *everyone*', undefined],
        ['Ann', 'hello, "world"', undefined],
        ['Bo', undefined, true],
      ]);
      assert.equal(j.chat[2].seq, spamSeq);
      assert.deepEqual(j.turns.map((t) => [t.name, !!t.open]), [['Bo', false], ['Ann', true]]);
      assert.deepEqual(j.agenda.map((s) => [s.title, s.planned_minutes, s.ended === 0]), [
        ['Intro', 5, false], ['Talk', 20, true]]);
      const [poll, rating] = j.prompts;
      assert.deepEqual(poll.options, [{ option: 'Tea', count: 1 }, { option: 'Coffee', count: 1 }]);
      assert.deepEqual(poll.by.map((b) => [b.name, b.answer]), [['Ann', 1], ['Bo', 0]]);
      assert.equal(rating.anonymous, true);
      assert.equal(rating.by, undefined, 'an anonymous prompt lists nobody');
      assert.deepEqual(rating.counts, [0, 0, 0, 1, 1]);
      assert.equal(rating.closed, 0, 'still open');
      assert.equal(j.anonymous_answers, 2);
      assert.deepEqual(j.moderation.map((m) => [m.action, m.actor_name, m.target_name ?? m.message]), [
        ['delete', 'Fay', spamSeq], ['mute', 'Fay', 'Bo'], ['promote', 'Fay', 'Ann']]);
      assert.deepEqual(j.contributions.map((c) => [c.name, c.turns, c.messages, c.hands_raised, c.prompts_answered]), [
        ['Fay', 0, 1, 0, 0], ['Ann', 1, 1, 1, 1], ['Bo', 1, 1, 1, 1]]);
    });

    it('is consistent as of one seq, which moves on with the room', async () => {
      const a = await transcript(srv, room.room_id, { format: 'json', bearer: key });
      const sent = await ok(ann, { t: 'chat', text: 'one more' });
      const b = await transcript(srv, room.room_id, { format: 'json', bearer: key });
      assert.ok(Number(b.headers.get('x-potluck-seq')) >= sent.seq);
      assert.ok(b.json.as_of_seq > a.json.as_of_seq);
      assert.equal(String(b.json.as_of_seq), b.headers.get('x-potluck-seq'));
      assert.equal(b.json.chat.at(-1).text, 'one more');
      assert.equal(b.json.chat.at(-1).seq, sent.seq);
      for (const format of ['md', 'html', 'csv']) {
        const r = await transcript(srv, room.room_id, { format, bearer: key });
        assert.equal(r.headers.get('x-potluck-seq'), b.headers.get('x-potluck-seq'), format);
      }
    });

    it('Markdown and HTML are minutes of the same session', async () => {
      const md = (await transcript(srv, room.room_id, { format: 'md', bearer: key })).text;
      assert.match(md, /^# Export over the wire\n/);
      assert.match(md, /The session is still open\./);
      assert.match(md, /\*\*Bo\*\*: \*removed by a facilitator\*/);
      assert.ok(!md.includes('buy watches'), 'a removed message is not repeated');
      assert.ok(md.includes('Welcome, \\*everyone\\*'), 'user markup is escaped');
      const html = (await transcript(srv, room.room_id, { format: 'html', bearer: key })).text;
      assert.match(html, /^<!doctype html>/);
      assert.match(html, /<meta http-equiv="Content-Security-Policy" content="default-src 'none'/);
      assert.ok(html.includes('hello, &quot;world&quot;'));
      assert.ok(!html.includes('buy watches'));
      assert.ok(!/<script|<link|src=|href=/i.test(html), 'no scripts, no external assets');
    });

    for (const [table, head] of Object.entries(CSV_HEADS)) {
      it(`CSV table=${table}: its header and rows, CRLF`, async () => {
        const r = await transcript(srv, room.room_id, { format: 'csv', table, bearer: key });
        assert.equal(r.status, 200, r.text);
        assert.match(r.headers.get('content-type'), CONTENT_TYPES.csv);
        assert.ok(r.text.endsWith('\r\n'));
        const lines = r.text.slice(0, -2).split('\r\n');
        assert.equal(lines[0], head);
        const rows = { contributions: 3, chat: 4, turns: 2, prompts: 2 + 5 }[table];
        assert.equal(lines.length - 1, rows, r.text);
      });
    }

    it('CSV without table= is the contributions table', async () => {
      const a = await transcript(srv, room.room_id, { format: 'csv', bearer: key });
      const b = await transcript(srv, room.room_id, { format: 'csv', table: 'contributions', bearer: key });
      assert.equal(a.text, b.text);
      assert.ok(a.text.startsWith(`${CSV_HEADS.contributions}\r\n`));
    });

    it('no format= is JSON', async () => {
      const r = await transcript(srv, room.room_id, { bearer: key });
      assert.equal(r.status, 200);
      assert.match(r.headers.get('content-type'), CONTENT_TYPES.json);
      assert.equal(r.json.version, 1);
    });

    it('400 bad_request for an unknown format or table, with or without a key', async () => {
      assertJsonError(await transcript(srv, room.room_id, { format: 'pdf', bearer: key }), 400, 'bad_request');
      assertJsonError(await transcript(srv, room.room_id, { format: 'JSON', bearer: key }), 400, 'bad_request');
      assertJsonError(await transcript(srv, room.room_id, { format: 'csv', table: 'members', bearer: key }), 400, 'bad_request');
      assertJsonError(await transcript(srv, room.room_id, { format: 'pdf' }), 400, 'bad_request');
    });
  });

  describe('after the session ends', () => {
    let exportsDir;
    before(async () => {
      await ok(fac, { t: 'end' });
      exportsDir = join(srv.dataDir, 'exports');
    });

    it('the server has written exports/<room>.json and .md; the JSON has version 1', async () => {
      const jsonPath = join(exportsDir, `${room.room_id}.json`);
      const mdPath = join(exportsDir, `${room.room_id}.md`);
      await waitForFile(jsonPath);
      await waitForFile(mdPath);
      const j = JSON.parse(readFileSync(jsonPath, 'utf8'));
      assert.equal(j.version, 1);
      assert.equal(j.room.id, room.room_id);
      assert.equal(j.room.session_ended, true);
      assert.ok(j.room.ended > 0);
      assert.equal(j.moderation.at(-1).action, 'end');
      assert.ok(j.turns.every((t) => !t.open), 'the end closed the running turn');
      assert.ok(j.prompts.every((p) => p.closed > 0), 'the end closed every prompt');
      // the same as the endpoint now (nothing happened since the end)
      const r = await transcript(srv, room.room_id, { format: 'json', bearer: key });
      assert.deepEqual(r.json, j);
      const md = await transcript(srv, room.room_id, { format: 'md', bearer: key });
      assert.equal(readFileSync(mdPath, 'utf8'), md.text);
      assert.match(md.text, /The session has ended\./);
    });

    it('the transcript is still served after the end, for each format', async () => {
      for (const format of FORMATS) {
        const r = await transcript(srv, room.room_id, { format, key });
        assert.equal(r.status, 200, `${format}: ${r.text}`);
      }
      assertJsonError(await transcript(srv, room.room_id, { format: 'md' }), 401, 'unauthorized');
      assertJsonError(await transcript(srv, room.room_id, { format: 'md', key: 'nope' }), 403, 'forbidden');
    });

    it('potluckd export prints the same Markdown as the endpoint, without asking the server', async () => {
      const http = await transcript(srv, room.room_id, { format: 'md', bearer: key });
      const cli = await runExport(['--room', room.room_id, '--format', 'md', '--data-dir', srv.dataDir]);
      assert.equal(cli.code, 0, cli.stderr);
      assert.equal(cli.stdout, http.text);
    });

    it('potluckd export gives the same bytes as the endpoint in every format and table', async () => {
      for (const format of FORMATS) {
        for (const table of format === 'csv' ? Object.keys(CSV_HEADS) : [undefined]) {
          const http = await transcript(srv, room.room_id, { format, table, bearer: key });
          const args = ['--room', room.room_id, '--format', format, '--data-dir', srv.dataDir];
          if (table) args.push('--table', table);
          const cli = await runExport(args);
          assert.equal(cli.code, 0, cli.stderr);
          assert.equal(cli.stdout, http.text, `${format} ${table ?? ''}`);
        }
      }
    });

    it('potluckd export exits 1 with a clear message for an unknown room', async () => {
      for (const id of [NO_ROOM, 'not a room id']) {
        const cli = await runExport(['--room', id, '--format', 'md', '--data-dir', srv.dataDir]);
        assert.equal(cli.code, 1, `exit status for ${id}; stderr: ${cli.stderr}`);
        assert.equal(cli.stdout, '');
        assert.match(cli.stderr, /no such room/);
        assert.ok(cli.stderr.includes(id), 'names the room it looked for');
      }
      assert.ok(!existsSync(join(srv.dataDir, 'rooms', `${NO_ROOM}.log`)), 'creates no log');
    });

    it('potluckd export refuses an unknown format with exit 2', async () => {
      const cli = await runExport(['--room', room.room_id, '--format', 'pdf', '--data-dir', srv.dataDir]);
      assert.equal(cli.code, 2);
      assert.match(cli.stderr, /unknown format pdf/);
    });
  });

  it(STOPS_CLEANLY, async () => {
    await closeAll(clients);
    await stopCleanly(srv);
  });
});
