// Bad input gets a clear answer, and nothing is lost (DESIGN.md; PROTOCOL.md:
// Errors, Close codes, Limits). Client A misbehaves in every way the spec
// names, while bystanders B, C and D in the same room keep chatting, and
// after each test one of them must still chat and be heard by the others.
import { describe, it, before, after, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { encode } from '@msgpack/msgpack';
import { startServer, createRoom } from '../lib/server.mjs';
import { connect, joinedClient, closeAll } from '../lib/client.mjs';
import { stopCleanly, STOPS_CLEANLY } from '../lib/lifecycle.mjs';

const MAX_MESSAGE = 16384;

// Encodes obj with the string field `field` replaced by the 4 given bytes,
// which need not be valid UTF-8 (MessagePack str bytes are copied as is).
function withRawStr(obj, field, bytes4) {
  assert.equal(bytes4.length, 4);
  const buf = Buffer.from(encode({ ...obj, [field]: 'QqQq' }));
  const at = buf.indexOf(Buffer.from([0xa4, ...Buffer.from('QqQq')]));
  assert.ok(at >= 0);
  Buffer.from(bytes4).copy(buf, at + 1);
  return buf;
}

// A chat request that encodes to exactly `size` bytes.
function chatOfSize(size, id) {
  for (let n = size - 40; n < size; n++) {
    const b = encode({ t: 'chat', id, text: 'a'.repeat(n) });
    if (b.length === size) return b;
  }
  throw new Error(`no chat of ${size} bytes`);
}

describe('bad input', () => {
  let srv;
  let room;
  let bystanders;          // B, C, D: joined, well-behaved
  let turn = 0;
  let clients = [];        // A's connections, closed after each test
  const accepted = new Set();   // texts the server accepted into the room

  const open = async () => { const c = await connect(srv.wsUrl); clients.push(c); return c; };
  const joinedA = async (name = 'Ann') => {
    const c = await joinedClient(srv.wsUrl, room.room_id, name);
    clients.push(c);
    return c;
  };

  // Sends req on c; asserts an error reply with `code` that echoes the id.
  async function expectError(c, req, code) {
    const r = await c.request(req);
    assert.equal(r.t, 'error', `${JSON.stringify(req).slice(0, 120)} → ${JSON.stringify(r)}`);
    assert.equal(r.code, code, `${JSON.stringify(req).slice(0, 120)} → ${JSON.stringify(r)}`);
    assert.equal(typeof r.msg, 'string');
    assert.ok(c.isOpen, 'an error reply keeps the connection');
    return r;
  }

  // Sends raw bytes; asserts an error reply with `code` and id nil.
  async function expectRawError(c, bytes, code) {
    const since = c.messages.length;
    c.sendRaw(bytes, { binary: true });
    const r = await c.waitFor((m) => m.t === 'error' || m.t === 'ok', 5000, { since, what: 'a reply' });
    assert.equal(r.t, 'error', JSON.stringify(r));
    assert.equal(r.code, code, JSON.stringify(r));
    assert.ok('id' in r && r.id === null, `an error without a usable id has id nil: ${JSON.stringify(r)}`);
    assert.equal(typeof r.msg, 'string');
    assert.ok(c.isOpen, 'an error reply keeps the connection');
    return r;
  }

  async function expectClose(c, code) {
    const info = await c.closed();
    assert.equal(info.code, code, `close code (reason: ${JSON.stringify(info.reason)})`);
    assert.ok(info.reason.length > 0, 'a protocol violation is closed with a reason');
    return info;
  }

  async function expectOkChat(c, text) {
    const r = await c.chat(text);
    assert.equal(r.t, 'ok', `chat of ${[...text].length} characters → ${JSON.stringify(r)}`);
    accepted.add(text);
    accepted.add(text.trim());
    return r;
  }

  before(async () => {
    srv = await startServer();
    room = await createRoom(srv, 'Bad input room');
    bystanders = [];
    for (const name of ['Bob', 'Cat', 'Dan']) bystanders.push(await joinedClient(srv.wsUrl, room.room_id, name));
  });

  // The room still works for everybody else.
  let stopped = false;
  afterEach(async () => {
    await closeAll(clients);
    clients = [];
    if (stopped) return;
    const speaker = bystanders[turn++ % bystanders.length];
    const text = `bystander check ${turn}`;
    const ok = await speaker.chat(text);
    assert.equal(ok.t, 'ok', `bystander ${speaker.member} can still chat: ${JSON.stringify(ok)}`);
    accepted.add(text);
    for (const b of bystanders) {
      const ev = await b.waitFor((m) => m.t === 'chat' && m.seq === ok.seq);
      assert.equal(ev.text, text);
    }
  });

  after(async () => {
    await closeAll([...clients, ...(bystanders || [])]);
    await srv?.stop();
  });

  describe('protocol violations close the one connection', () => {
    it('closes with 1007 on bytes that are not MessagePack', async () => {
      const a = await open();
      a.sendRaw(Buffer.from([0xc1]));
      await expectClose(a, 1007);
    });

    it('closes with 1007 on a truncated MessagePack value', async () => {
      const a = await joinedA();
      a.sendRaw(Buffer.from(encode({ t: 'chat', id: 5, text: 'cut short' })).subarray(0, 12));
      await expectClose(a, 1007);
    });

    it('closes with 1008 on a text frame', async () => {
      const a = await open();
      a.sendRaw(JSON.stringify({ t: 'ping', id: 1 }), { binary: false });
      await expectClose(a, 1008);
    });

    it('closes a joined connection with 1008 on a text frame', async () => {
      const a = await joinedA();
      a.sendRaw('hello', { binary: false });
      await expectClose(a, 1008);
    });

    it('closes with 1009 on a message of 16,385 bytes', async () => {
      const a = await joinedA();
      a.sendRaw(chatOfSize(MAX_MESSAGE + 1, 9));
      await expectClose(a, 1009);
    });

    it('closes with 1009 on a much larger message', async () => {
      const a = await joinedA();
      a.sendRaw(Buffer.from(encode({ t: 'chat', id: 9, text: 'z'.repeat(1 << 20) })));
      await expectClose(a, 1009);
    });

    it('closes with 1009 on fragments that add up to more than 16,384 bytes', async () => {
      const a = await joinedA();
      const bytes = chatOfSize(3 * 8000, 10);
      for (let i = 0; i < 3; i++) a.sendRaw(bytes.subarray(i * 8000, (i + 1) * 8000), { binary: true, fin: i === 2 });
      await expectClose(a, 1009);
    });

    it('accepts a message of exactly 16,384 bytes (and rejects its text as too_long)', async () => {
      const a = await joinedA();
      const since = a.messages.length;
      a.sendRaw(chatOfSize(MAX_MESSAGE, 11));
      const r = await a.waitFor((m) => m.id === 11, 5000, { since });
      assert.equal(r.t, 'error');
      assert.equal(r.code, 'too_long');
      assert.ok(a.isOpen);
    });
  });

  describe('malformed requests get bad_request', () => {
    it('answers a MessagePack value that is not a map with bad_request and id nil', async () => {
      const a = await open();
      for (const v of [[1, 2, 3], 'join', 42, null, true]) await expectRawError(a, encode(v), 'bad_request');
      // The connection still works.
      assert.equal((await a.join(room.room_id, 'Ann')).t, 'ok');
    });

    it('answers a map with a non-string key with bad_request', async () => {
      const a = await open();
      await expectRawError(a, Buffer.from([0x81, 0x01, 0xa4, ...Buffer.from('ping')]), 'bad_request');
    });

    it('answers a request without id, or with a bad id, with bad_request and id nil', async () => {
      const a = await open();
      const base = { t: 'join', room: room.room_id, name: 'NoId' };
      await expectRawError(a, encode(base), 'bad_request');
      for (const id of [0, -1, 2 ** 32, 1.5, 'seven', [7], null])
        await expectRawError(a, encode({ ...base, id }), 'bad_request');
      // None of these joined: a join with a good id still works.
      const r = await a.request({ ...base, id: 2 ** 32 - 1 });
      assert.equal(r.t, 'ok', `id 2^32-1 is valid: ${JSON.stringify(r)}`);
      assert.equal(r.id, 2 ** 32 - 1);
    });

    it('answers a request without t, or with a non-string t, with bad_request', async () => {
      const a = await open();
      await expectError(a, { room: room.room_id, name: 'x' }, 'bad_request');
      await expectError(a, { t: 7 }, 'bad_request');
      await expectError(a, { t: ['join'] }, 'bad_request');
    });

    it('answers wrongly typed fields with bad_request', async () => {
      const a = await open();
      await expectError(a, { t: 'join', room: 12345, name: 'Ann' }, 'bad_request');
      await expectError(a, { t: 'join', room: room.room_id, name: 42 }, 'bad_request');
      await expectError(a, { t: 'join', room: room.room_id, name: ['Ann'] }, 'bad_request');
      await expectError(a, { t: 'join', room: room.room_id, name: 'Ann', key: 7 }, 'bad_request');
      await expectError(a, { t: 'join', room: room.room_id, name: new Uint8Array([0x41]) }, 'bad_request');
      await expectError(a, { t: 'resume', room: room.room_id, member: 'one', token: 'x', seq: 1 }, 'bad_request');
      await expectError(a, { t: 'resume', room: room.room_id, member: 1, token: 5, seq: 1 }, 'bad_request');
      await expectError(a, { t: 'resume', room: room.room_id, member: 1, token: 'x', seq: -1 }, 'bad_request');
      await expectError(a, { t: 'resume', room: room.room_id, member: -3, token: 'x', seq: 1 }, 'bad_request');
      assert.equal((await a.join(room.room_id, 'Ann')).t, 'ok');
      await expectError(a, { t: 'chat', text: 5 }, 'bad_request');
      await expectError(a, { t: 'chat', text: { s: 'hi' } }, 'bad_request');
      await expectError(a, { t: 'chat', text: new Uint8Array(Buffer.from('hi')) }, 'bad_request');
    });

    it('answers missing fields with bad_request', async () => {
      const a = await open();
      await expectError(a, { t: 'join', name: 'Ann' }, 'bad_request');
      await expectError(a, { t: 'join', room: room.room_id }, 'bad_request');
      await expectError(a, { t: 'resume', room: room.room_id, member: 1, seq: 1 }, 'bad_request');
      await expectError(a, { t: 'resume', room: room.room_id, token: 'x', seq: 1 }, 'bad_request');
      await expectError(a, { t: 'resume', room: room.room_id, member: 1, token: 'x' }, 'bad_request');
      assert.equal((await a.join(room.room_id, 'Ann')).t, 'ok');
      await expectError(a, { t: 'chat' }, 'bad_request');
    });

    it('answers an unknown t with unknown_type and the same id', async () => {
      const a = await open();
      const r = await expectError(a, { t: 'dance' }, 'unknown_type');
      assert.ok(Number.isInteger(r.id) && r.id > 0);
      assert.equal((await a.join(room.room_id, 'Ann')).t, 'ok');
      await expectError(a, { t: 'CHAT', text: 'hi' }, 'unknown_type');
    });
  });

  describe('lengths and characters', () => {
    it('accepts a name of 40 characters, counted in code points', async () => {
      for (const name of ['n'.repeat(40), '🥟'.repeat(40)]) {
        const a = await open();
        const r = await a.join(room.room_id, name);
        assert.equal(r.t, 'ok', `name of ${[...name].length} characters: ${JSON.stringify(r)}`);
      }
    });

    it('counts the 40 characters of a name after trimming', async () => {
      const a = await open();
      const r = await a.join(room.room_id, `   ${'m'.repeat(40)}   `);
      assert.equal(r.t, 'ok', `40 characters and 6 spaces: ${JSON.stringify(r)}`);
    });

    it('refuses a name over 40 characters with too_long', async () => {
      const a = await open();
      await expectError(a, { t: 'join', room: room.room_id, name: 'n'.repeat(41) }, 'too_long');
      await expectError(a, { t: 'join', room: room.room_id, name: '🥟'.repeat(41) }, 'too_long');
      await expectError(a, { t: 'join', room: room.room_id, name: 'n'.repeat(5000) }, 'too_long');
    });

    it('refuses an empty name, or one with control characters, with invalid_name', async () => {
      const a = await open();
      const wrong = [];
      for (const name of ['', '    ', '\t', 'Ann\u0007', 'A\nB', 'A\u0000B', 'A\u001bB', 'A\u007fB', 'A\u0085B']) {
        const r = await a.join(room.room_id, name);
        if (r.code !== 'invalid_name') wrong.push(`${JSON.stringify(name)} → ${r.t} ${r.code ?? ''}`);
        if (r.t === 'ok') break;
      }
      assert.deepEqual(wrong, [], 'every one of these names gets invalid_name');
    });

    it('accepts chat of 2,000 characters, counted in code points', async () => {
      const a = await joinedA();
      await expectOkChat(a, 'c'.repeat(2000));
      await expectOkChat(a, '🧆'.repeat(2000));
    });

    it('counts the 2,000 characters of chat after trimming', async () => {
      const a = await joinedA();
      await expectOkChat(a, `  ${'d'.repeat(2000)}\n`);
    });

    it('refuses chat over 2,000 characters with too_long', async () => {
      const a = await joinedA();
      await expectError(a, { t: 'chat', text: 'c'.repeat(2001) }, 'too_long');
      await expectError(a, { t: 'chat', text: '🧆'.repeat(2001) }, 'too_long');
    });

    it('refuses chat that is empty after trimming with empty', async () => {
      const a = await joinedA();
      await expectError(a, { t: 'chat', text: '' }, 'empty');
      await expectError(a, { t: 'chat', text: '   \n\t ' }, 'empty');
    });

    it('refuses invalid UTF-8 in a MessagePack string with invalid_utf8', async () => {
      const bad = [
        [0x61, 0xff, 0xfe, 0x62],   // bytes never valid in UTF-8
        [0xc0, 0x80, 0x61, 0x62],   // overlong encoding of NUL
        [0xed, 0xa0, 0x80, 0x61],   // a UTF-16 surrogate
        [0x61, 0x62, 0x63, 0xe2],   // a sequence cut short
        [0xf4, 0x90, 0x80, 0x80],   // above U+10FFFF
      ];
      const a = await open();
      for (const bytes of bad) {
        const r = await (async () => {
          const since = a.messages.length;
          a.sendRaw(withRawStr({ t: 'join', id: 500, room: room.room_id }, 'name', bytes));
          return a.waitFor((m) => m.id === 500, 5000, { since });
        })();
        assert.equal(r.code, `invalid_utf8`, `name bytes ${Buffer.from(bytes).toString('hex')}: ${JSON.stringify(r)}`);
      }
      assert.equal((await a.join(room.room_id, 'Ann')).t, 'ok');
      for (const [i, bytes] of bad.entries()) {
        const since = a.messages.length;
        a.sendRaw(withRawStr({ t: 'chat', id: 600 + i }, 'text', bytes));
        const r = await a.waitFor((m) => m.id === 600 + i, 5000, { since });
        assert.equal(r.code, 'invalid_utf8', `text bytes ${Buffer.from(bytes).toString('hex')}: ${JSON.stringify(r)}`);
      }
      assert.ok(a.isOpen);
    });
  });

  describe('requests in the wrong state', () => {
    it('refuses a join to a room that does not exist with not_found', async () => {
      const a = await open();
      await expectError(a, { t: 'join', room: 'AAAAAAAAAAAAAAAA', name: 'Ann' }, 'not_found');
      await expectError(a, { t: 'join', room: 'no-such-room', name: 'Ann' }, 'not_found');
      await expectError(a, { t: 'join', room: '', name: 'Ann' }, 'not_found');
    });

    it('refuses chat and leave before join with not_joined', async () => {
      const a = await open();
      await expectError(a, { t: 'chat', text: 'too early' }, 'not_joined');
      await expectError(a, { t: 'leave' }, 'not_joined');
    });

    it('answers ping before join (ping works at any time; everything else needs a room)', async () => {
      const a = await open();
      const r = await a.request({ t: 'ping' });
      assert.equal(r.t, 'ok');
      assert.equal(typeof r.ts, 'number');
      await expectError(a, { t: 'raise', type: 'new' }, 'not_joined');
    });

    it('refuses join or resume on a joined connection with already_joined', async () => {
      const a = await joinedA();
      await expectError(a, { t: 'join', room: room.room_id, name: 'Ann again' }, 'already_joined');
      const other = await createRoom(srv, 'Other room');
      await expectError(a, { t: 'join', room: other.room_id, name: 'Ann' }, 'already_joined');
      await expectError(a, { t: 'resume', room: room.room_id, member: a.member, token: a.token, seq: a.lastSeq },
        'already_joined');
      await expectOkChat(a, 'still joined once');
    });
  });

  describe('rate limits', () => {
    // Sends n chats at once; resolves with the replies in sending order.
    async function burst(a, n, tag) {
      const first = a.nextId;
      a.nextId += n;
      const started = Date.now(); // before the first send, so elapsed covers the whole burst
      for (let i = 0; i < n; i++) a.send({ t: 'chat', id: first + i, text: `${tag} ${i}` });
      const ids = new Set(Array.from({ length: n }, (_, i) => first + i));
      return { first, started, ids };
    }

    it('answers a flood of 200 chats with rate_limited past the burst, one reply each, and keeps the connection', async () => {
      const a = await joinedA();
      const { first, started, ids } = await burst(a, 200, 'flood');
      // A rate_limited reply is counted whatever its id, so that a wrong id is
      // reported below as such rather than as a missing reply.
      const isReply = (m) => (m.t === 'ok' && ids.has(m.id)) || (m.t === 'error' && (ids.has(m.id) || m.id == null));
      const replies = await a.waitForCount(isReply, 200, 10000);
      const elapsed = (Date.now() - started) / 1000;
      const oks = replies.filter((r) => r.t === 'ok');
      for (const r of oks) accepted.add(`flood ${r.id - first}`);
      const limited = replies.filter((r) => r.t === 'error' && r.code === 'rate_limited');
      assert.equal(oks.length + limited.length, 200, 'only ok or rate_limited');
      assert.ok(limited.length > 0, 'some chats were rate_limited');
      // Bursts of 40 (the join took one), then 20 per second.
      assert.ok(oks.length >= 30, `${oks.length} accepted: the burst allowance`);
      assert.ok(oks.length <= 40 + Math.ceil(20 * elapsed) + 1, `${oks.length} accepted in ${elapsed} s`);
      for (let i = 0; i < 30; i++) assert.ok(oks.some((r) => r.id === first + i), 'the first requests of a burst are served');
      assert.ok(a.isOpen, 'fewer than 200 refusals in a row do not close the connection');
      // Once the bucket refills, the same connection chats again.
      const deadline = Date.now() + 5000;
      for (;;) {
        // (matches a rate_limited reply with or without the request id)
        const id = a.nextId++;
        const since = a.messages.length;
        a.send({ t: 'chat', id, text: 'after the flood' });
        const r = await a.waitFor((m) => m.id === id || (m.t === 'error' && m.id == null), 5000, { since });
        if (r.t === 'ok') { accepted.add('after the flood'); break; }
        assert.equal(r.code, 'rate_limited', JSON.stringify(r));
        assert.ok(Date.now() < deadline, 'the rate limit lets requests through again');
        await new Promise((res) => setTimeout(res, 100));   // waiting for the bucket, not for readiness
      }
      // Every request gets exactly one reply that echoes its id.
      const noId = limited.filter((r) => !ids.has(r.id));
      assert.equal(noId.length, 0, `${noId.length} rate_limited replies do not echo the request id (e.g. ${JSON.stringify(noId[0])})`);
    });

    it('closes with 1008 when a flood goes on after 200 rate_limited refusals in a row', async () => {
      const a = await joinedA();
      const { first, ids } = await burst(a, 600, 'torrent');
      const info = await a.closed(10000);
      for (const r of a.messages) if (r.t === 'ok' && ids.has(r.id)) accepted.add(`torrent ${r.id - first}`);
      // The server applied whatever the other members saw; count those too,
      // once a later chat shows a bystander has received everything before it.
      const probe = await bystanders[0].chat('after the torrent');
      accepted.add('after the torrent');
      await bystanders[0].waitFor((m) => m.t === 'chat' && m.seq === probe.seq);
      for (const m of bystanders[0].events((e) => e.t === 'chat' && e.from === a.member)) accepted.add(m.text);
      assert.equal(info.code, 1008, `close code (reason ${JSON.stringify(info.reason)}); `
        + `${a.messages.length} messages received before the close`);
      const limited = a.messages.filter((m) => m.t === 'error' && m.code === 'rate_limited');
      assert.ok(limited.length >= 190, `rate_limited errors came before the close: ${limited.length}`);
    });
  });

  describe('afterwards', () => {
    it('keeps the room intact: a newcomer sees only accepted messages, in seq order', async () => {
      const n = await joinedA('Newcomer');
      const chat = n.joinReply.snapshot.chat;
      assert.equal(chat.length, 50);
      for (let i = 1; i < chat.length; i++) assert.ok(chat[i].seq > chat[i - 1].seq);
      for (const m of chat) assert.ok(accepted.has(m.text),
        `an accepted text: ${JSON.stringify(m.text.slice(0, 40))}`);
      // What a bystander saw is consistent: increasing seq, no duplicates, only accepted texts.
      const seen = bystanders[0].events((m) => m.t === 'chat');
      for (let i = 1; i < seen.length; i++) assert.ok(seen[i].seq > seen[i - 1].seq);
      for (const m of seen) assert.ok(accepted.has(m.text),
        `bystander saw an accepted text: ${JSON.stringify(m.text.slice(0, 40))}`);
      assert.equal(srv.proc.exitCode, null, 'the server is still running');
      assert.equal((await fetch(`${srv.url}/healthz`)).status, 200);
    });

    it(STOPS_CLEANLY, async () => {
      stopped = true;
      await closeAll(bystanders);
      await stopCleanly(srv);
    });
  });
});

// Headers that claim huge sizes, deep nesting and garbage from many peers,
// each test against a server of its own, so that one crash cannot hide the
// other results. After each test Bob, in the same room, still chats.
describe('hostile input does not hurt the server', () => {
  let srv;
  let room;
  let bob;
  let clients = [];
  const open = async () => { const c = await connect(srv.wsUrl); clients.push(c); return c; };

  beforeEach(async () => {
    srv = await startServer();
    room = await createRoom(srv, 'Hostile input room');
    bob = await joinedClient(srv.wsUrl, room.room_id, 'Bob');
  });
  afterEach(async () => {
    try {
      await closeAll(clients);
      clients = [];
      assert.equal(srv.proc.exitCode, null, `the server is still running:\n${srv.logs().slice(-3000)}`);
      const ok = await bob.chat('still here');
      assert.equal(ok.t, 'ok', JSON.stringify(ok));
      await bob.waitFor((m) => m.t === 'chat' && m.seq === ok.seq);
    } finally {
      await closeAll([bob]);
      await stopCleanly(srv);
    }
  });

  // Asserts the close code; if the server died instead, says so with its output.
  async function expectCloseNotCrash(a, code) {
    const info = await a.closed();
    const alive = await fetch(`${srv.url}/healthz`).then((r) => r.ok, () => false);
    if (!alive) {
      const exit = await srv.exited;
      assert.fail(`the server died (${JSON.stringify(exit)}):\n${srv.logs().slice(-2000)}`);
    }
    assert.equal(info.code, code, `close code (reason ${JSON.stringify(info.reason)})`);
  }

  // A container or string header may claim far more than the message holds;
  // the server must not trust it (allocate for it) before checking the bytes.
  it('closes with 1007 on a map header that claims 4 billion entries', async () => {
    const a = await open();
    a.sendRaw(Buffer.from([0xdf, 0xff, 0xff, 0xff, 0xff, 0xa1, 0x74]));
    await expectCloseNotCrash(a, 1007);
  });

  it('closes with 1007 on an array header in an unknown key that claims 4 billion entries', async () => {
    const a = await open();
    const head = Buffer.from(encode({ t: 'join', id: 1, room: room.room_id, name: 'X' })).subarray(1);
    a.sendRaw(Buffer.concat([Buffer.from([0x85]), head, Buffer.from([0xa1, 0x78, 0xdd, 0xff, 0xff, 0xff, 0xff, 0xc0])]));
    await expectCloseNotCrash(a, 1007);
  });

  it('closes with 1007 on a string header that claims 4 GiB', async () => {
    const a = await open();
    a.sendRaw(Buffer.from([0x82, 0xa1, 0x74, 0xa4, ...Buffer.from('chat'), 0xa4, ...Buffer.from('text'),
      0xdb, 0xff, 0xff, 0xff, 0xff, 0x61]));
    await expectCloseNotCrash(a, 1007);
  });

  it('closes with 1007 on a map header that claims a million entries', async () => {
    const a = await open();
    a.sendRaw(Buffer.from([0xdf, 0x00, 0x10, 0x00, 0x00, 0xa1, 0x74]));
    await expectCloseNotCrash(a, 1007);
  });

  it('survives a deeply nested value in an unknown key', async () => {
    const a = await open();
    assert.equal((await a.join(room.room_id, 'Ann')).t, 'ok');
    const head = Buffer.from(encode({ t: 'chat', id: 700, text: 'nested' })).subarray(1);
    const depth = 10000;
    const bytes = Buffer.concat([Buffer.from([0x83]), head, Buffer.from([0xa1, 0x78]),
      Buffer.alloc(depth, 0x91), Buffer.from([0xc0])]);
    assert.ok(bytes.length <= MAX_MESSAGE);
    a.sendRaw(bytes);
    const r = await Promise.race([
      a.waitFor((m) => m.id === 700).then((m) => ({ reply: m }), () => a.closed().then((c) => ({ close: c }))),
      a.closed().then((c) => ({ close: c })),
    ]);
    if (r.reply) {
      assert.ok(r.reply.t === 'ok' || r.reply.code === 'bad_request', JSON.stringify(r.reply));
    } else assert.ok([1007, 1008, 1009].includes(r.close.code), `close ${r.close.code}`);
  });

  it('survives many connections that each send garbage and vanish', async () => {
    const conns = await Promise.all(Array.from({ length: 30 }, () => open()));
    conns.forEach((c, i) => {
      c.sendRaw(Buffer.from([0x80 + (i % 16), 0xc1, i, 0xff]));
      if (i % 2) c.terminate();
    });
    const h = await fetch(`${srv.url}/healthz`);
    assert.equal(h.status, 200);
  });
});
