// Joining, the snapshot, chat ordering, presence and roles (PROTOCOL.md:
// Transport, join, chat, leave, ping, The snapshot, Events).
import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { encode } from '@msgpack/msgpack';
import { startServer, createRoom } from '../lib/server.mjs';
import { connect, joinedClient, closeAll, isEvent, memberView, chatView } from '../lib/client.mjs';
import { stopCleanly, STOPS_CLEANLY } from '../lib/lifecycle.mjs';

const near = (ts, slackMs = 10000) => Number.isInteger(ts) && Math.abs(ts - Date.now()) < slackMs;
const chatsOf = (c) => c.events((m) => m.t === 'chat');

describe('chat and presence', () => {
  let srv;
  let clients = [];
  const join = async (room, name, key) => {
    const c = await joinedClient(srv.wsUrl, room, name, key);
    clients.push(c);
    return c;
  };
  const open = async (opts) => { const c = await connect(srv.wsUrl, opts); clients.push(c); return c; };

  before(async () => { srv = await startServer(); });
  afterEach(async () => { await closeAll(clients); clients = []; });
  after(async () => { await srv?.stop(); });

  describe('handshake', () => {
    it('selects subprotocol potluck.v1', async () => {
      const c = await open();
      assert.equal(c.ws.protocol, 'potluck.v1');
    });

    it('selects potluck.v1 when it is one of several offered', async () => {
      const c = await open({ protocols: ['chat.v0', 'potluck.v1'] });
      assert.equal(c.ws.protocol, 'potluck.v1');
    });

    it('refuses a handshake that does not offer potluck.v1', async () => {
      await assert.rejects(connect(srv.wsUrl, { protocols: [] }));
      await assert.rejects(connect(srv.wsUrl, { protocols: ['chat.v0'] }));
    });

    it('refuses a WebSocket on a path other than /ws', async () => {
      await assert.rejects(connect(srv.wsUrl.replace(/\/ws$/, '/socket')));
    });
  });

  describe('join', () => {
    it('replies ok with member, token, role participant and a snapshot that contains the new member', async () => {
      const room = await createRoom(srv, 'Snapshot room');
      const c = await open();
      const r = await c.join(room.room_id, 'Ann');
      assert.equal(r.t, 'ok', JSON.stringify(r));
      assert.ok(Number.isInteger(r.member) && r.member >= 0, `member is a uint: ${r.member}`);
      assert.equal(typeof r.token, 'string');
      assert.ok(r.token.length > 0, 'token is not empty');
      assert.equal(r.role, 'participant');
      const s = r.snapshot;
      assert.ok(s && typeof s === 'object', 'snapshot present');
      assert.ok(Number.isInteger(s.seq) && s.seq > 0, `snapshot.seq is a uint: ${s.seq}`);
      assert.equal(s.room.id, room.room_id);
      assert.equal(s.room.title, 'Snapshot room');
      assert.ok(near(s.room.created), `room.created is ms since the epoch: ${s.room.created}`);
      assert.equal(s.room.ended, false);
      assert.deepEqual(s.members.map(memberView), [{ id: r.member, name: 'Ann', role: 'participant', online: true }]);
      assert.deepEqual(s.chat, []);
    });

    it('lists present members in join order in the snapshot', async () => {
      const room = await createRoom(srv);
      const a = await join(room.room_id, 'Ann');
      const b = await join(room.room_id, 'Bob');
      const c = await join(room.room_id, 'Cid');
      assert.deepEqual(c.joinReply.snapshot.members.map((m) => [m.id, m.name]),
        [[a.member, 'Ann'], [b.member, 'Bob'], [c.member, 'Cid']]);
      assert.equal(new Set([a.member, b.member, c.member]).size, 3, 'member ids are distinct');
    });

    it('announces joined to the members already present, with a seq after their snapshot', async () => {
      const room = await createRoom(srv);
      const a = await join(room.room_id, 'Ann');
      const b = await join(room.room_id, 'Bob');
      const ev = await a.waitFor((m) => m.t === 'joined' && m.member?.id === b.member);
      assert.deepEqual(memberView(ev.member), { id: b.member, name: 'Bob', role: 'participant', online: true });
      assert.ok(ev.seq > a.joinReply.snapshot.seq, 'joined comes after the snapshot');
      assert.ok(ev.seq <= b.joinReply.snapshot.seq, "the newcomer's snapshot already includes its join");
      assert.ok(near(ev.ts), `ts is ms since the epoch: ${ev.ts}`);
    });

    it('answers joins that arrive together with snapshots that, with the events after them, miss nothing and repeat nothing', async () => {
      // Joins applied in one loop iteration are answered together with one
      // snapshot (hub_flush); chat in between must land either in it or after it.
      const room = await createRoom(srv);
      const host = await join(room.room_id, 'Host');
      const n = 40;
      const cs = await Promise.all(Array.from({ length: n }, () => open()));
      const chats = Array.from({ length: 10 }, (_, i) => host.chat(`during ${i}`));
      const replies = await Promise.all(cs.map((c, i) => c.join(room.room_id, `Guest ${i}`)));
      await Promise.all(chats);
      for (const r of replies) assert.equal(r.t, 'ok', JSON.stringify(r));
      const last = await host.chat('after everyone');
      const everyone = [host.member, ...replies.map((r) => r.member)].sort((a, b) => a - b);
      for (const [i, c] of cs.entries()) {
        await c.waitFor((m) => m.t === 'chat' && m.seq === last.seq);
        const snap = replies[i].snapshot;
        const evs = c.events().flatMap((m) => (m.t === 'batch' ? m.events : [m]));
        const seqs = evs.map((e) => e.seq);
        assert.ok(seqs.every((s, k) => s > snap.seq && (k === 0 || s > seqs[k - 1])),
          `events after the snapshot (seq ${snap.seq}), each once, in order: ${seqs}`);
        const members = new Set(snap.members.map((m) => m.id));
        for (const e of evs) if (e.t === 'joined') members.add(e.member.id);
        assert.deepEqual([...members].sort((a, b) => a - b), everyone, `guest ${i} sees everyone`);
        const texts = [...snap.chat.map((m) => m.text), ...evs.filter((e) => e.t === 'chat').map((e) => e.text)];
        assert.deepEqual(texts, [...Array.from({ length: 10 }, (_, k) => `during ${k}`), 'after everyone'],
          `guest ${i} has every message once, in order`);
      }
    });

    it('gives role facilitator to a join with the facilitator key', async () => {
      const room = await createRoom(srv);
      const a = await join(room.room_id, 'Ann');
      const f = await join(room.room_id, 'Fay', room.facilitator_key);
      assert.equal(f.joinReply.role, 'facilitator');
      assert.deepEqual(memberView(f.joinReply.snapshot.members.find((m) => m.id === f.member)),
        { id: f.member, name: 'Fay', role: 'facilitator', online: true });
      const ev = await a.waitFor((m) => m.t === 'joined' && m.member?.id === f.member);
      assert.equal(ev.member.role, 'facilitator');
    });

    it('refuses a wrong facilitator key with forbidden, and the connection can still join', async () => {
      const room = await createRoom(srv);
      const other = await createRoom(srv);
      const c = await open();
      const r1 = await c.join(room.room_id, 'Eve', 'A'.repeat(22));
      assert.equal(r1.t, 'error');
      assert.equal(r1.code, 'forbidden');
      assert.equal(typeof r1.msg, 'string');
      const r2 = await c.join(room.room_id, 'Eve', other.facilitator_key);
      assert.equal(r2.code, 'forbidden', "another room's key is a wrong key");
      const r3 = await c.join(room.room_id, 'Eve');
      assert.equal(r3.t, 'ok', JSON.stringify(r3));
      assert.equal(r3.role, 'participant');
    });
  });

  describe('chat', () => {
    it('replies ok with the seq of the chat event that every member, sender included, receives', async () => {
      const room = await createRoom(srv);
      const a = await join(room.room_id, 'Ann');
      const b = await join(room.room_id, 'Bob');
      const ok = await a.chat('hello, potluck');
      assert.equal(ok.t, 'ok', JSON.stringify(ok));
      assert.ok(Number.isInteger(ok.seq));
      for (const c of [a, b]) {
        const ev = await c.waitFor((m) => m.t === 'chat' && m.seq === ok.seq);
        assert.equal(ev.from, a.member);
        assert.equal(ev.name, 'Ann');
        assert.equal(ev.text, 'hello, potluck');
        assert.ok(near(ev.ts), `ts: ${ev.ts}`);
      }
    });

    it('gives consecutive records consecutive seqs', async () => {
      const room = await createRoom(srv);
      const a = await join(room.room_id, 'Ann');
      const seqs = [];
      for (let i = 0; i < 5; i++) seqs.push((await a.chat(`m${i}`)).seq);
      assert.deepEqual(seqs, seqs.map((_, i) => seqs[0] + i));
      assert.equal(seqs[0], a.joinReply.snapshot.seq + 1, 'the first chat follows the join');
    });

    it('delivers every message to three clients in the same order with the same seq', async () => {
      const room = await createRoom(srv);
      const cs = [await join(room.room_id, 'Ann'), await join(room.room_id, 'Bob'), await join(room.room_id, 'Cid')];
      const PER = 10;
      const replies = await Promise.all(cs.flatMap((c, k) =>
        Array.from({ length: PER }, (_, i) => c.chat(`${c.member}:${k}:${i}`))));
      for (const r of replies) assert.equal(r.t, 'ok', JSON.stringify(r));
      const views = await Promise.all(cs.map((c) => c.waitForCount((m) => m.t === 'chat', 3 * PER)));
      const first = views[0].map(chatView);
      for (const v of views) assert.deepEqual(v.map(chatView), first, 'same events, same order');
      for (let i = 1; i < first.length; i++) assert.ok(first[i].seq > first[i - 1].seq, 'seq increases');
      // Each reply's seq is the seq of the event with that text.
      const bySeq = new Map(first.map((e) => [e.seq, e]));
      cs.forEach((c, k) => {
        for (let i = 0; i < PER; i++) {
          const ev = bySeq.get(replies[k * PER + i].seq);
          assert.equal(ev?.text, `${c.member}:${k}:${i}`);
          assert.equal(ev.from, c.member);
        }
        // One sender's messages keep their sending order.
        const mine = first.filter((e) => e.from === c.member).map((e) => e.text);
        assert.deepEqual(mine, Array.from({ length: PER }, (_, i) => `${c.member}:${k}:${i}`));
      });
    });

    it('puts the last 50 messages, oldest first, in the snapshot of a later member', async () => {
      const room = await createRoom(srv);
      const cs = [await join(room.room_id, 'Ann'), await join(room.room_id, 'Bob'), await join(room.room_id, 'Cid')];
      const PER = 19;   // 57 messages, within each connection's burst allowance
      for (let i = 0; i < PER; i++) {
        const rs = await Promise.all(cs.map((c) => c.chat(`msg ${i} from ${c.member}`)));
        for (const r of rs) assert.equal(r.t, 'ok', JSON.stringify(r));
      }
      const all = await cs[0].waitForCount((m) => m.t === 'chat', 3 * PER);
      const d = await join(room.room_id, 'Dee');
      const chat = d.joinReply.snapshot.chat;
      assert.equal(chat.length, 50);
      assert.deepEqual(chat.map(chatView), all.slice(-50).map(chatView));
    });

    it('ignores unknown keys in a request', async () => {
      const room = await createRoom(srv);
      const a = await join(room.room_id, 'Ann');
      const r = await a.request({ t: 'chat', text: 'extra keys', future: { x: [1, 2] }, v: 2 });
      assert.equal(r.t, 'ok', JSON.stringify(r));
      const ev = await a.waitFor((m) => m.t === 'chat' && m.seq === r.seq);
      assert.equal(ev.text, 'extra keys');
    });

    it('reassembles a message sent in several WebSocket fragments', async () => {
      const room = await createRoom(srv);
      const a = await join(room.room_id, 'Ann');
      const bytes = Buffer.from(encode({ t: 'chat', id: 900, text: 'in three pieces' }));
      const cut = [0, 5, 11, bytes.length];
      for (let i = 0; i < 3; i++)
        a.sendRaw(bytes.subarray(cut[i], cut[i + 1]), { binary: true, fin: i === 2 });
      const r = await a.waitFor((m) => m.id === 900);
      assert.equal(r.t, 'ok', JSON.stringify(r));
      const ev = await a.waitFor((m) => m.t === 'chat' && m.seq === r.seq);
      assert.equal(ev.text, 'in three pieces');
    });

    it('keeps rooms apart: a chat reaches no member of another room', async () => {
      const r1 = await createRoom(srv, 'one');
      const r2 = await createRoom(srv, 'two');
      const a = await join(r1.room_id, 'Ann');
      const b = await join(r2.room_id, 'Bob');
      const ok = await a.chat('only for room one');
      await a.waitFor((m) => m.t === 'chat' && m.seq === ok.seq);
      const okb = await b.chat('only for room two');
      await b.waitFor((m) => m.t === 'chat' && m.seq === okb.seq);
      assert.deepEqual(chatsOf(b).map((e) => e.text), ['only for room two']);
      assert.deepEqual(chatsOf(a).map((e) => e.text), ['only for room one']);
    });
  });

  describe('ping', () => {
    it("replies ok with the server's clock in ms", async () => {
      const room = await createRoom(srv);
      const a = await join(room.room_id, 'Ann');
      const r = await a.request({ t: 'ping' });
      assert.equal(r.t, 'ok', JSON.stringify(r));
      assert.ok(near(r.ts), `ts: ${r.ts}`);
    });
  });

  describe('leave', () => {
    it('replies ok, then closes with 1000, and others see left with reason "left"', async () => {
      const room = await createRoom(srv);
      const a = await join(room.room_id, 'Ann');
      const b = await join(room.room_id, 'Bob');
      const r = await b.request({ t: 'leave' });
      assert.equal(r.t, 'ok', JSON.stringify(r));
      const { code } = await b.closed();
      assert.equal(code, 1000);
      const ev = await a.waitFor((m) => m.t === 'left' && m.member === b.member);
      assert.equal(ev.reason, 'left');
      assert.ok(a.events((m) => m.t === 'away' && m.member === b.member).length === 0,
        'a member who leaves is not announced as away');
      // The reply came before the close.
      assert.ok(b.messages.some((m) => m.t === 'ok' && m.id === r.id));
    });

    it('removes a member who left from the snapshot of later members', async () => {
      const room = await createRoom(srv);
      const a = await join(room.room_id, 'Ann');
      const b = await join(room.room_id, 'Bob');
      await b.request({ t: 'leave' });
      await b.closed();
      await a.waitFor((m) => m.t === 'left' && m.member === b.member);
      const c = await join(room.room_id, 'Cid');
      assert.deepEqual(c.joinReply.snapshot.members.map((m) => m.id), [a.member, c.member]);
    });
  });

  it('sends only binary frames holding MessagePack maps with a string t', async () => {
    const room = await createRoom(srv);
    const a = await join(room.room_id, 'Ann');
    const b = await join(room.room_id, 'Bob');
    await a.chat('x');
    await b.request({ t: 'leave' });
    await b.closed();
    await a.waitFor((m) => m.t === 'left');
    for (const m of [...a.messages, ...b.messages]) {
      assert.ok(m && typeof m === 'object' && !Array.isArray(m), `a map: ${JSON.stringify(m)}`);
      assert.equal(m.$text, undefined, 'no text frames');
      assert.equal(m.$undecodable, undefined, 'only MessagePack');
      assert.equal(typeof m.t, 'string');
      if (isEvent(m)) assert.ok(Number.isInteger(m.ts), `event has ts: ${JSON.stringify(m)}`);
    }
  });

  it(STOPS_CLEANLY, () => stopCleanly(srv));
});
