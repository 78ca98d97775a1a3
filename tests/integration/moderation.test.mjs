// Moderation over the wire (PROTOCOL.md "Moderation", Events `mod`, the
// snapshot's modlog and chat, close code 4004, errors muted, room_locked,
// slow_mode, session_ended, banned). Each test opens a fresh room with a
// facilitator and participants on one server and watches what every member
// receives. The only fixed delay lets a slow-mode interval pass.
import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../lib/server.mjs';
import { stopCleanly, STOPS_CLEANLY } from '../lib/lifecycle.mjs';
import { sessions, next, ok, okReply, refused, flat } from '../lib/session.mjs';
import { memberOf } from '../lib/client.mjs';

const delay = (ms) => new Promise((r) => setTimeout(r, ms));

describe('moderation', () => {
  let srv;
  const s = sessions(() => srv);
  before(async () => { srv = await startServer(); });
  afterEach(() => s.closeAll());
  after(async () => { await srv?.stop(); });

  // The mod event of an action, as `c` receives it after index since.
  const modEvent = (c, since, action) => next(c, since, 'mod', (e) => e.entry.action === action);

  describe('permissions', () => {
    it('refuses every facilitator command from a participant with forbidden', async () => {
      const { f, ps: [a, b] } = await s.session('Ann', 'Bob');
      const chat = await okReply(b, { t: 'chat', text: 'hello' });
      const prompt = await okReply(f, { t: 'prompt', kind: 'single', question: 'Q?', options: ['x', 'y'] });
      await ok(f, { t: 'agenda', segments: [{ title: 'intro', minutes: 5 }] });
      await ok(b, { t: 'raise', type: 'new' });
      await ok(f, { t: 'give', member: b.member });
      await ok(b, { t: 'raise', type: 'reply' });
      // a has seen all of that before counting what comes next
      await a.waitFor((m) => flat(m).some((e) => e.t === 'queue'
        && e.queue.some((h) => h.member === b.member && h.type === 'reply')));
      const requests = [
        { t: 'clear_hands' }, { t: 'move', member: b.member, pos: 1 },
        { t: 'policy', policy: 'fewest_turns' }, { t: 'lower', member: b.member },
        { t: 'give', member: b.member }, { t: 'give' }, { t: 'take' },
        { t: 'timer', seconds: 60, action: 'next' },
        { t: 'delete', seq: chat.seq }, { t: 'mute', member: b.member },
        { t: 'unmute', member: b.member }, { t: 'remove', member: b.member },
        { t: 'remove', member: b.member, ban: true }, { t: 'lock' }, { t: 'unlock' },
        { t: 'chat_mode', mode: 'slow', seconds: 5 }, { t: 'chat_mode', mode: 'facilitators' },
        { t: 'promote', member: b.member }, { t: 'demote', member: b.member }, { t: 'end' },
        { t: 'prompt', kind: 'text', question: 'Why?' }, { t: 'close_prompt', prompt: prompt.seq },
        { t: 'agenda', segments: [{ title: 'x', minutes: 1 }] }, { t: 'agenda_go', segment: 0 },
      ];
      const seen = a.messages.length;
      for (const req of requests) await refused(a, req, 'forbidden');
      // nothing happened: no event reached anyone
      await ok(a, { t: 'chat', text: 'marker' });
      const marker = await next(a, seen, 'chat', (e) => e.text === 'marker');
      const between = a.messages.slice(seen).filter((m) => typeof m.seq === 'number' && m.t !== 'ok'
        && m.seq < marker.seq);
      assert.deepEqual(between, [], 'refused requests caused no events');
    });
  });

  describe('delete', () => {
    it('shows the message as removed to everyone, and a late joiner sees it deleted with no text', async () => {
      const { room, f, ps: [a, b] } = await s.session('Ann', 'Bob');
      const msg = await okReply(a, { t: 'chat', text: 'something regrettable' });
      await okReply(a, { t: 'chat', text: 'something fine' });
      const since = await ok(f, { t: 'delete', seq: msg.seq }, b);
      for (const c of [a, b, f]) {
        const ev = await modEvent(c, c === b ? since : 0, 'delete');
        assert.equal(ev.entry.target, msg.seq);
        assert.equal(ev.entry.actor, f.member);
        assert.equal(ev.entry.actor_name, 'Fran');
        assert.ok(!JSON.stringify(ev).includes('regrettable'), 'the text is not repeated');
      }
      const late = await s.join(room.room_id, 'Late');
      const snap = late.joinReply.snapshot;
      const removed = snap.chat.find((m) => m.seq === msg.seq);
      assert.equal(removed.deleted, true);
      assert.equal(removed.text, '');
      assert.equal(removed.from, a.member);
      const kept = snap.chat.find((m) => m.text === 'something fine');
      assert.equal(kept.deleted, undefined);
      assert.ok(!JSON.stringify(snap).includes('regrettable'), 'no trace of the text in the snapshot');
      const line = snap.modlog.find((m) => m.action === 'delete');
      assert.equal(line.target, msg.seq);
      assert.equal(line.actor_name, 'Fran');
      await refused(f, { t: 'delete', seq: msg.seq + 1000 }, 'not_found');
    });
  });

  describe('mute', () => {
    it('a muted member gets muted for chat until unmuted; facilitators cannot be muted', async () => {
      const { f, ps: [a, b] } = await s.session('Ann', 'Bob');
      const since = await ok(f, { t: 'mute', member: a.member }, b);
      const ev = await modEvent(b, since, 'mute');
      assert.equal(ev.entry.target, a.member);
      assert.equal(ev.entry.target_name, 'Ann');
      assert.equal(ev.member.id, a.member);
      assert.equal(ev.member.muted, true);
      await refused(a, { t: 'chat', text: 'let me speak' }, 'muted');
      await ok(b, { t: 'chat', text: 'Bob is not muted' });
      await ok(a, { t: 'raise', type: 'new' }); // the rest still works
      const since2 = await ok(f, { t: 'unmute', member: a.member }, b);
      const ev2 = await modEvent(b, since2, 'unmute');
      assert.equal(memberOf(ev2.member).muted, false);
      assert.ok(!('muted' in ev2.member), 'muted: false is left out of a <member>');
      await ok(a, { t: 'chat', text: 'thanks' });
      await refused(f, { t: 'mute', member: f.member }, 'forbidden');
    });
  });

  describe('remove and ban', () => {
    it('closes the removed member with 4004 and tells the others left with reason removed', async () => {
      const { room, f, ps: [a, b] } = await s.session('Ann', 'Bob');
      const since = await ok(f, { t: 'remove', member: b.member }, a);
      const { code } = await b.closed();
      assert.equal(code, 4004);
      const mod = await modEvent(a, since, 'remove');
      assert.equal(mod.entry.target, b.member);
      assert.equal(mod.entry.target_name, 'Bob');
      const left = await next(a, since, 'left', (e) => e.member === b.member);
      assert.equal(left.reason, 'removed');
      // without a ban the same person may come back as a new member
      const again = await s.open();
      const r = await again.join(room.room_id, 'Bob');
      assert.equal(r.t, 'ok', JSON.stringify(r));
      assert.notEqual(r.member, b.member);
      // the old identity is gone
      const ghost = await s.open();
      const rr = await ghost.resume(room.room_id, b.member, b.token, 0);
      assert.equal(rr.code, 'invalid_token');
    });

    it('with ban, the browser that joined with that device id cannot join again; another can', async () => {
      const { room, f } = await s.session();
      const b = await s.open();
      const jr = await b.request({ t: 'join', room: room.room_id, name: 'Bob', device: 'browser-of-bob-42' });
      assert.equal(jr.t, 'ok', JSON.stringify(jr));
      await f.waitFor((m) => m.t === 'joined' && m.member.id === jr.member);
      const since = await ok(f, { t: 'remove', member: jr.member, ban: true });
      assert.equal((await b.closed()).code, 4004);
      const mod = await modEvent(f, since, 'ban');
      assert.equal(mod.entry.target, jr.member);
      const left = await next(f, since, 'left', (e) => e.member === jr.member);
      assert.equal(left.reason, 'removed');
      const b2 = await s.open();
      await refused(b2, { t: 'join', room: room.room_id, name: 'Bob', device: 'browser-of-bob-42' }, 'banned');
      await refused(b2, { t: 'join', room: room.room_id, name: 'Not Bob', device: 'browser-of-bob-42' }, 'banned');
      const r = await b2.request({ t: 'join', room: room.room_id, name: 'Carol', device: 'browser-of-carol' });
      assert.equal(r.t, 'ok', JSON.stringify(r));
      // the key holder is never barred
      const f2 = await s.open();
      const fr = await f2.request({ t: 'join', room: room.room_id, name: 'Fran', key: room.facilitator_key,
        device: 'browser-of-bob-42' });
      assert.equal(fr.t, 'ok', JSON.stringify(fr));
    });

    it('refuses to remove, demote or mute the key holder', async () => {
      const { f, ps: [a] } = await s.session('Ann');
      await ok(f, { t: 'promote', member: a.member });
      await refused(a, { t: 'remove', member: f.member }, 'forbidden');
      await refused(a, { t: 'demote', member: f.member }, 'forbidden');
      await refused(a, { t: 'mute', member: f.member }, 'forbidden');
      assert.ok(f.isOpen);
    });
  });

  describe('lock', () => {
    it('a locked room refuses new participants; members resume and the key still joins', async () => {
      const { room, f, ps: [a] } = await s.session('Ann');
      const since = await ok(f, { t: 'lock' }, a);
      await modEvent(a, since, 'lock');
      const late = await s.open();
      await refused(late, { t: 'join', room: room.room_id, name: 'Late' }, 'room_locked');
      const fac2 = await s.open();
      const r = await fac2.join(room.room_id, 'Second facilitator', room.facilitator_key);
      assert.equal(r.t, 'ok', JSON.stringify(r));
      // Ann's connection drops; she resumes into the locked room
      await a.terminate();
      const a2 = await s.open();
      const rr = await a2.resume(a);
      assert.equal(rr.t, 'ok', JSON.stringify(rr));
      const snap = (await s.join(room.room_id, 'Fran again', room.facilitator_key)).joinReply.snapshot;
      assert.equal(snap.room.locked, true);
      await ok(f, { t: 'unlock' });
      const r2 = await late.join(room.room_id, 'Late');
      assert.equal(r2.t, 'ok', JSON.stringify(r2));
      assert.equal(r2.snapshot.room.locked, false);
    });
  });

  describe('chat modes', () => {
    it('slow mode allows one message per interval per participant; facilitators are not held back', async () => {
      const { room, f, ps: [a, b] } = await s.session('Ann', 'Bob');
      const since = await ok(f, { t: 'chat_mode', mode: 'slow', seconds: 2 }, a);
      const ev = await modEvent(a, since, 'chat_mode');
      assert.equal(ev.entry.mode, 'slow');
      assert.equal(ev.entry.seconds, 2);
      await ok(a, { t: 'chat', text: 'one' });
      await refused(a, { t: 'chat', text: 'two' }, 'slow_mode');
      await ok(b, { t: 'chat', text: 'Bob has his own interval' });
      await ok(f, { t: 'chat', text: 'f1' });
      await ok(f, { t: 'chat', text: 'f2' });
      await delay(2100); // the interval itself
      await ok(a, { t: 'chat', text: 'three' });
      const snap = (await s.join(room.room_id, 'Late')).joinReply.snapshot;
      assert.equal(snap.room.chat_mode, 'slow');
      assert.equal(snap.room.slow_seconds, 2);
      await refused(f, { t: 'chat_mode', mode: 'slow', seconds: 0 }, 'bad_request');
    });

    it('facilitators-only mode refuses participants with forbidden', async () => {
      const { f, ps: [a] } = await s.session('Ann');
      await ok(f, { t: 'chat_mode', mode: 'facilitators' });
      await refused(a, { t: 'chat', text: 'may I?' }, 'forbidden');
      await ok(f, { t: 'chat', text: 'facilitators speak' });
      await ok(f, { t: 'chat_mode', mode: 'open' });
      await ok(a, { t: 'chat', text: 'now I may' });
    });
  });

  describe('roles', () => {
    it('a promoted co-facilitator may give the floor; demoted, no longer', async () => {
      const { f, ps: [a, b] } = await s.session('Ann', 'Bob');
      await refused(a, { t: 'give', member: b.member }, 'forbidden');
      const since = await ok(f, { t: 'promote', member: a.member }, b);
      const ev = await modEvent(b, since, 'promote');
      assert.equal(ev.member.id, a.member);
      assert.equal(ev.member.role, 'cofacilitator');
      const since2 = await ok(a, { t: 'give', member: b.member }, b);
      const floor = await next(b, since2, 'floor');
      assert.equal(floor.floor.member, b.member);
      // and other facilitator commands too
      await ok(a, { t: 'prompt', kind: 'text', question: 'From the co-facilitator?' });
      const since3 = await ok(f, { t: 'demote', member: a.member }, b);
      const ev3 = await modEvent(b, since3, 'demote');
      assert.equal(memberOf(ev3.member).role, 'participant');
      await refused(a, { t: 'take' }, 'forbidden');
    });

    it('a co-facilitator resuming keeps the role', async () => {
      const { f, ps: [a] } = await s.session('Ann');
      await ok(f, { t: 'promote', member: a.member });
      await a.waitFor((m) => flat(m).some((e) => e.t === 'mod' && e.entry.action === 'promote'));
      await a.terminate();
      const a2 = await s.open();
      const r = await a2.resume(a);
      assert.equal(r.role, 'cofacilitator');
      await ok(a2, { t: 'lock' });
    });
  });

  describe('end', () => {
    it('makes the room read-only: session_ended for everything but leave; joins are refused', async () => {
      const { room, f, ps: [a, b] } = await s.session('Ann', 'Bob');
      await ok(f, { t: 'give', member: a.member });
      await ok(b, { t: 'raise', type: 'new' });
      const p = await okReply(f, { t: 'prompt', kind: 'single', question: 'Last one?', options: ['y', 'n'] });
      const since = await ok(f, { t: 'end' }, b);
      const endMsg = await b.waitFor((m) => flat(m).some((e) => e.t === 'mod' && e.entry.action === 'end'),
        5000, { since });
      const evs = flat(endMsg);
      const queue = evs.find((e) => e.t === 'queue');
      assert.deepEqual(queue?.queue, [], 'the hands are cleared');
      const floor = evs.find((e) => e.t === 'floor');
      assert.equal(floor?.floor.member, null, 'nobody holds the floor');
      for (const req of [{ t: 'chat', text: 'after' }, { t: 'raise', type: 'new' },
        { t: 'answer', prompt: p.seq, choice: 0 }, { t: 'react', kind: 'clap' },
        { t: 'signal', kind: 'lost' }])
        await refused(a, req, 'session_ended');
      for (const req of [{ t: 'give', member: a.member }, { t: 'unlock' }, { t: 'end' },
        { t: 'prompt', kind: 'text', question: 'More?' }])
        await refused(f, req, 'session_ended');
      const late = await s.open();
      await refused(late, { t: 'join', room: room.room_id, name: 'Late' }, 'session_ended');
      await refused(late, { t: 'join', room: room.room_id, name: 'Late', key: room.facilitator_key }, 'session_ended');
      const summary = await (await fetch(`${srv.url}/api/rooms/${room.room_id}`)).json();
      assert.equal(summary.ended, true);
      // the prompt was closed: the results say so
      await a.waitFor((m) => m.t === 'results' && m.prompt === p.seq && m.closed === true);
      // members stay connected and may still leave
      assert.ok(a.isOpen && b.isOpen);
      const bye = await a.request({ t: 'leave' });
      assert.equal(bye.t, 'ok');
      assert.equal((await a.closed()).code, 1000);
      // a resume after the end gets a snapshot that says so
      await b.terminate();
      const b2 = await s.open();
      const r = await b2.resume(b.room, b.member, b.token, 0);
      assert.equal(r.t, 'ok', JSON.stringify(r));
      assert.equal(r.snapshot.room.ended, true);
      assert.equal(r.snapshot.prompts.find((x) => x.id === p.seq).closed, true);
    });
  });

  describe('the moderation log', () => {
    it('lists who did what to whom, in order, in the snapshot', async () => {
      const { room, f, ps: [a, b] } = await s.session('Ann', 'Bob');
      const msg = await okReply(b, { t: 'chat', text: 'oops' });
      await ok(f, { t: 'mute', member: b.member });
      await ok(f, { t: 'promote', member: a.member });
      await ok(a, { t: 'lock' });
      await ok(a, { t: 'delete', seq: msg.seq });
      await ok(f, { t: 'chat_mode', mode: 'slow', seconds: 30 });
      await ok(a, { t: 'remove', member: b.member });
      const snap = (await s.join(room.room_id, 'Fran', room.facilitator_key)).joinReply.snapshot;
      const lines = snap.modlog.map((m) => [m.action, m.actor_name, m.target_name ?? m.target ?? null]);
      assert.deepEqual(lines, [
        ['mute', 'Fran', 'Bob'], ['promote', 'Fran', 'Ann'], ['lock', 'Ann', null],
        ['delete', 'Ann', msg.seq], ['chat_mode', 'Fran', null], ['remove', 'Ann', 'Bob'],
      ]);
      for (let i = 1; i < snap.modlog.length; i++) {
        assert.ok(snap.modlog[i].seq > snap.modlog[i - 1].seq);
        assert.ok(snap.modlog[i].ts >= snap.modlog[i - 1].ts);
      }
      assert.equal(snap.modlog[4].mode, 'slow');
      assert.equal(snap.modlog[4].seconds, 30);
    });
  });

  it(STOPS_CLEANLY, () => stopCleanly(srv));
});
