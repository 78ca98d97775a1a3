// The HTTP API of PROTOCOL.md ("HTTP API (JSON)") and the static web app.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { connect as connectTcp } from 'node:net';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, createRoom, tempDir } from '../lib/server.mjs';
import { joinedClient, closeAll } from '../lib/client.mjs';
import { stopCleanly, STOPS_CLEANLY } from '../lib/lifecycle.mjs';

const ROOM_ID = /^[A-Za-z0-9_-]{16}$/;
const KEY = /^[A-Za-z0-9_-]{22}$/;
const INDEX_MARKER = 'potluck-test-fixture-index';

// A tiny web root so the static tests do not depend on web/dist being built.
function fixtureWebRoot() {
  const dir = tempDir('potluck-web-');
  writeFileSync(join(dir, 'index.html'),
    `<!doctype html><html><head><title>${INDEX_MARKER}</title></head><body></body></html>\n`);
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'assets', 'app.js'), 'export const fixture = 1;\n');
  return dir;
}

// A raw HTTP request (node:http, so Host and other headers can be set).
function rawRequest(srv, { method = 'GET', path = '/', headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    // One connection per request (agent: false) and a Content-Length, never
    // chunked: each case stands alone.
    const hdrs = { ...headers };
    if (body !== undefined && !Object.keys(hdrs).some((k) => k.toLowerCase() === 'content-length'))
      hdrs['content-length'] = Buffer.byteLength(body);
    const req = httpRequest({ host: '127.0.0.1', port: srv.port, method, path, headers: hdrs, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (d) => chunks.push(d));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json;
        try { json = JSON.parse(text); } catch {}
        resolve({ status: res.statusCode, headers: res.headers, text, json });
      });
    });
    req.setTimeout(5000, () => req.destroy(new Error('HTTP request timed out')));
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

// Writes raw bytes on a fresh TCP connection; resolves with all it reads
// until the server closes (send Connection: close).
function rawExchange(srv, bytes) {
  return new Promise((resolve, reject) => {
    const sock = connectTcp(srv.port, '127.0.0.1');
    const chunks = [];
    const timer = setTimeout(() => { sock.destroy(); reject(new Error(`no close within 5 s; got: ${Buffer.concat(chunks)}`)); }, 5000);
    sock.on('data', (d) => chunks.push(d));
    sock.on('close', () => { clearTimeout(timer); resolve(Buffer.concat(chunks).toString('utf8')); });
    sock.on('error', () => {});
    sock.write(bytes);
  });
}

async function postRooms(srv, body, contentType = 'application/json') {
  const r = await fetch(`${srv.url}/api/rooms`, {
    method: 'POST', headers: { 'content-type': contentType }, body,
  });
  const text = await r.text();
  let json;
  try { json = JSON.parse(text); } catch {}
  return { status: r.status, headers: r.headers, text, json };
}

function assertJsonError(r, status, codes) {
  assert.equal(r.status, status, `status (body: ${r.text})`);
  assert.ok(r.json && typeof r.json === 'object', `a JSON error body, got: ${r.text}`);
  assert.equal(typeof r.json.error, 'string', 'error is a string code');
  assert.equal(typeof r.json.message, 'string', 'message is a string');
  if (codes) assert.ok([].concat(codes).includes(r.json.error),
    `error code ${r.json.error} is one of ${[].concat(codes)}`);
}

describe('HTTP API', () => {
  let srv;
  const clients = [];
  before(async () => { srv = await startServer({ args: ['--web-root', fixtureWebRoot()] }); });
  after(async () => { await closeAll(clients); await srv?.stop(); });

  describe('POST /api/rooms', () => {
    it('creates a room: 201 with room_id, title, join_url, facilitator_url, facilitator_key', async () => {
      const r = await postRooms(srv, JSON.stringify({ title: 'Rust ownership' }));
      assert.equal(r.status, 201, r.text);
      assert.match(r.headers.get('content-type') || '', /^application\/json/);
      const b = r.json;
      assert.match(b.room_id, ROOM_ID, 'room_id is 16 characters of base64url');
      assert.equal(b.title, 'Rust ownership');
      assert.match(b.facilitator_key, KEY, 'facilitator_key is 22 characters of base64url');
      assert.equal(b.join_url, `${srv.url}/r/${b.room_id}`);
      assert.equal(b.facilitator_url, `${srv.url}/r/${b.room_id}#key=${b.facilitator_key}`);
    });

    it('gives every room its own id and key', async () => {
      const a = await createRoom(srv, 'one');
      const b = await createRoom(srv, 'two');
      assert.notEqual(a.room_id, b.room_id);
      assert.notEqual(a.facilitator_key, b.facilitator_key);
    });

    it('builds absolute links from the Host header and X-Forwarded-Proto', async () => {
      const r = await rawRequest(srv, {
        method: 'POST', path: '/api/rooms',
        headers: { host: 'potluck.example:8443', 'x-forwarded-proto': 'https', 'content-type': 'application/json' },
        body: JSON.stringify({ title: 'Links' }),
      });
      assert.equal(r.status, 201, r.text);
      assert.equal(r.json.join_url, `https://potluck.example:8443/r/${r.json.room_id}`);
      assert.equal(r.json.facilitator_url,
        `https://potluck.example:8443/r/${r.json.room_id}#key=${r.json.facilitator_key}`);
    });

    it('accepts a title of exactly 120 characters, counted in code points', async () => {
      const title = '🍲'.repeat(120);   // 120 characters, 240 UTF-16 units, 480 bytes
      const r = await postRooms(srv, JSON.stringify({ title }));
      assert.equal(r.status, 201, r.text);
      assert.equal(r.json.title, title);
    });

    it('refuses a body that is not JSON: 400 bad_request', async () => {
      assertJsonError(await postRooms(srv, '{"title": "x"'), 400, 'bad_request');
      assertJsonError(await postRooms(srv, 'title=x', 'application/x-www-form-urlencoded'), 400, 'bad_request');
    });

    it('refuses a JSON body that is not an object: 400 bad_request', async () => {
      assertJsonError(await postRooms(srv, '["title"]'), 400, 'bad_request');
    });

    it('refuses a missing or non-string title: 400 bad_request', async () => {
      assertJsonError(await postRooms(srv, '{}'), 400, 'bad_request');
      assertJsonError(await postRooms(srv, '{"title": 42}'), 400, 'bad_request');
      assertJsonError(await postRooms(srv, '{"title": null}'), 400, 'bad_request');
    });

    it('refuses an empty title: 400', async () => {
      // PROTOCOL.md: title 1–120 characters; the code for "too short" is not named.
      assertJsonError(await postRooms(srv, '{"title": ""}'), 400);
    });

    it('refuses a title over 120 characters: 400 too_long', async () => {
      assertJsonError(await postRooms(srv, JSON.stringify({ title: 'x'.repeat(121) })), 400, 'too_long');
      assertJsonError(await postRooms(srv, JSON.stringify({ title: '🍲'.repeat(121) })), 400, 'too_long');
    });

    it('refuses a body that is not UTF-8: 400', async () => {
      // A JSON parser may already reject it (bad_request) before the title is checked.
      const body = Buffer.concat([Buffer.from('{"title": "ab'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]);
      const r = await rawRequest(srv, { method: 'POST', path: '/api/rooms',
        headers: { 'content-type': 'application/json', 'content-length': body.length }, body });
      assertJsonError(r, 400, ['invalid_utf8', 'bad_request']);
    });

    it('refuses a body far larger than any title: 413 too_large', async () => {
      const body = JSON.stringify({ title: 'x', pad: 'y'.repeat(1 << 20) });
      let r;
      try {
        r = await rawRequest(srv, { method: 'POST', path: '/api/rooms',
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }, body });
      } catch (e) {
        assert.fail(`expected a 413 answer, the connection failed instead: ${e.message}`);
      }
      assertJsonError(r, 413, 'too_large');
    });

    it('refuses other methods on /api/rooms: 405', async () => {
      assertJsonError(await rawRequest(srv, { method: 'DELETE', path: '/api/rooms' }), 405);
      assertJsonError(await rawRequest(srv, { method: 'GET', path: '/api/rooms' }), 405);
    });

    it('refuses PUT with a body: exactly one answer, a whole 405, and no room is created', async () => {
      const rooms = async () => (await (await fetch(`${srv.url}/healthz`)).json()).rooms;
      const before = await rooms();
      const body = '{"title":"by PUT"}';
      const out = await rawExchange(srv, `PUT /api/rooms HTTP/1.1\r\nHost: 127.0.0.1\r\n`
        + `Content-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
      const statusLines = out.match(/^HTTP\/1\.[01] \d+.*$/gm) || [];
      assert.deepEqual(statusLines.map((l) => l.split(' ')[1]), ['405'], `one 405 answer; got:\n${out}`);
      const [head, rest] = out.split('\r\n\r\n');
      const len = Number(/content-length: *(\d+)/i.exec(head)?.[1]);
      assert.equal(Buffer.byteLength(rest), len, `the body is the announced ${len} bytes`);
      assert.equal(typeof JSON.parse(rest).error, 'string');
      assert.equal(await rooms(), before, 'the rooms held did not change');
    });
  });

  describe('GET /api/rooms/{id}', () => {
    it('returns the public summary of a new room', async () => {
      const before = Date.now();
      const room = await createRoom(srv, 'Summary room');
      const r = await fetch(`${srv.url}/api/rooms/${room.room_id}`);
      assert.equal(r.status, 200);
      assert.match(r.headers.get('content-type') || '', /^application\/json/);
      const s = await r.json();
      assert.equal(s.room_id, room.room_id);
      assert.equal(s.title, 'Summary room');
      assert.equal(typeof s.created, 'number');
      assert.ok(Number.isInteger(s.created), 'created is an integer (ms)');
      assert.ok(s.created >= before - 5000 && s.created <= Date.now() + 5000,
        `created ${s.created} is the creation time in ms since the epoch`);
      assert.equal(s.members, 0);
      assert.equal(s.online, 0);
      assert.equal(s.ended, false);
      assert.equal(s.facilitator_key, undefined, 'the summary does not leak the key');
    });

    it('counts members and online members', async () => {
      const room = await createRoom(srv, 'Counted');
      const a = await joinedClient(srv.wsUrl, room.room_id, 'Ann');
      const b = await joinedClient(srv.wsUrl, room.room_id, 'Bob');
      clients.push(a, b);
      const s = await (await fetch(`${srv.url}/api/rooms/${room.room_id}`)).json();
      assert.equal(s.members, 2);
      assert.equal(s.online, 2);
    });

    it('answers 404 not_found for an unknown room', async () => {
      const r = await rawRequest(srv, { path: '/api/rooms/AAAAAAAAAAAAAAAA' });
      assertJsonError(r, 404, 'not_found');
      assertJsonError(await rawRequest(srv, { path: '/api/rooms/not-a-room-id' }), 404, 'not_found');
    });
  });

  describe('GET /healthz', () => {
    it('answers 200 {status: "ok", version, rooms, connections}', async () => {
      const r = await fetch(`${srv.url}/healthz`);
      assert.equal(r.status, 200);
      const h = await r.json();
      assert.equal(h.status, 'ok');
      assert.equal(typeof h.version, 'string');
      assert.ok(h.version.length > 0);
      assert.ok(Number.isInteger(h.rooms) && h.rooms >= 0, `rooms: ${h.rooms}`);
      assert.ok(Number.isInteger(h.connections) && h.connections >= 0, `connections: ${h.connections}`);
    });

    it('counts an open WebSocket connection', async () => {
      const room = await createRoom(srv, 'Health');
      const c = await joinedClient(srv.wsUrl, room.room_id, 'Cat');
      clients.push(c);
      const h = await (await fetch(`${srv.url}/healthz`)).json();
      assert.ok(h.connections >= 1, `connections: ${h.connections}`);
      assert.ok(h.rooms >= 1, `rooms: ${h.rooms}`);
    });
  });

  describe('static web app', () => {
    it('serves index.html at /', async () => {
      const r = await fetch(`${srv.url}/`);
      assert.equal(r.status, 200);
      assert.match(r.headers.get('content-type') || '', /^text\/html/);
      assert.match(await r.text(), new RegExp(INDEX_MARKER));
    });

    it('serves index.html at /r/{room_id}', async () => {
      const room = await createRoom(srv, 'Link');
      const r = await fetch(`${srv.url}${new URL(room.join_url).pathname}`);
      assert.equal(r.status, 200);
      assert.match(r.headers.get('content-type') || '', /^text\/html/);
      assert.match(await r.text(), new RegExp(INDEX_MARKER));
    });

    it('serves other files with their content type', async () => {
      const r = await fetch(`${srv.url}/assets/app.js`);
      assert.equal(r.status, 200);
      assert.match(r.headers.get('content-type') || '', /javascript/);
      assert.equal(await r.text(), 'export const fixture = 1;\n');
    });

    it('answers 404 for a missing file', async () => {
      const r = await fetch(`${srv.url}/assets/missing.js`);
      assert.equal(r.status, 404);
      await r.arrayBuffer();
    });

    it('does not serve files outside the web root', async () => {
      const r = await rawRequest(srv, { path: '/../../../../etc/passwd' });
      assert.notEqual(r.status, 200);
      assert.doesNotMatch(r.text, /root:/);
      const r2 = await rawRequest(srv, { path: '/assets/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd' });
      assert.notEqual(r2.status, 200);
      assert.doesNotMatch(r2.text, /root:/);
    });
  });

  it(STOPS_CLEANLY, async () => {
    await closeAll(clients);
    await stopCleanly(srv);
  });
});
