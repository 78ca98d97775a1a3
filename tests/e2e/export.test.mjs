// tests/e2e/export.test.mjs — the HTML transcript of a room whose title,
// names, messages, prompts and agenda are full of script injections, opened
// in headless Chromium straight from GET /api/rooms/{id}/transcript: no
// dialog opens, no script runs (window.__pwned stays undefined), no request
// leaves the page, and every payload shows as text. It is checked twice:
// as served (the page's Content-Security-Policy forbids scripts anyway) and
// with CSP bypassed, so the escaping itself is what is tested. A screenshot
// goes to test-output/e2e/transcript.png.
//   node --test tests/e2e/export.test.mjs
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { createRoom, startServer } from '../lib/server.mjs';
import { closeAll, joinedClient } from '../lib/client.mjs';
import { stopCleanly } from '../lib/lifecycle.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const outDir = join(root, 'test-output/e2e');
const CHROMIUM = {
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'],
};
const TIMEOUT = 10000;

const RLO = '\u202E';
const TITLE = `<script>window.__pwned='title'</script> "Lunch" & 'learn'`;
// Names: at most 40 characters each. [0] is the facilitator.
const NAMES = [
  '<img src=x onerror="window.__pwned=1">',
  '<script>window.__pwned=2</script>',
  '<svg onload="window.__pwned=3">',
  '"><img src=x onerror=alert(1)>',
  `Ali${RLO}ecnI 👩‍💻 Zoe\u0301`,
  '<iframe src="http://evil.example/">',
];
const MESSAGES = [
  '<img src=x onerror="window.__pwned=4">',
  '<script>alert(document.domain)</script>',
  '</li></ul><script>window.__pwned=5</script>',
  '<a href="javascript:window.__pwned=6">click</a>',
  '<style>body{background:url(http://evil.example/bg.png)}</style>',
  '<link rel=stylesheet href="http://evil.example/x.css">',
  '<meta http-equiv="refresh" content="0;url=http://evil.example/">',
  '<base href="http://evil.example/">',
  '<iframe srcdoc="<script>parent.__pwned=7</script>"></iframe>',
  '<body onload="window.__pwned=8">',
  'two lines\n<img src="http://evil.example/pixel.gif">',
  '--><script>window.__pwned=9</script><!--',
  "' onmouseover='window.__pwned=10' x='",
];
const QUESTION = '<img src=x onerror="alert(\'q\')"> Which?';
const OPTIONS = ['<script>alert(1)</script>', '<b onmouseover=alert(2)>B</b>'];
const ANSWERS = ['<img src=x onerror="window.__pwned=11">', '<script>window.__pwned=12</script>'];
const SEGMENTS = ['<h1 onclick="window.__pwned=13">Intro</h1>', '<object data="http://evil.example/o">'];

let srv;
let browser;
let room;
const clients = [];

async function ok(client, req) {
  const r = await client.request(req);
  assert.equal(r.t, 'ok', `${req.t}: ${JSON.stringify(r)}`);
  return r;
}

before(async () => {
  mkdirSync(outDir, { recursive: true });
  srv = await startServer();
  browser = await chromium.launch(CHROMIUM);
  room = await createRoom(srv, TITLE);
  const members = [];
  for (let i = 0; i < NAMES.length; i++) {
    const c = await joinedClient(srv.wsUrl, room.room_id, NAMES[i], i === 0 ? room.facilitator_key : undefined);
    clients.push(c);
    members.push(c);
  }
  const [fac] = members;
  for (let i = 0; i < MESSAGES.length; i++) await ok(members[i % members.length], { t: 'chat', text: MESSAGES[i] });
  await ok(fac, { t: 'agenda', segments: SEGMENTS.map((title) => ({ title, minutes: 5 })) });
  await ok(fac, { t: 'agenda_go', segment: 0 });
  for (let i = 1; i < members.length; i++) await ok(members[i], { t: 'raise', type: 'new' });
  for (let i = 1; i < members.length; i++) await ok(fac, { t: 'give' });
  const poll = (await ok(fac, { t: 'prompt', kind: 'single', question: QUESTION, options: OPTIONS })).seq;
  await ok(members[1], { t: 'answer', prompt: poll, choice: 0 });
  await ok(members[2], { t: 'answer', prompt: poll, choice: 1 });
  const open = (await ok(fac, { t: 'prompt', kind: 'text', question: QUESTION, anonymous: true })).seq;
  await ok(members[3], { t: 'answer', prompt: open, text: ANSWERS[0] });
  await ok(members[4], { t: 'answer', prompt: open, text: ANSWERS[1] });
  const named = (await ok(fac, { t: 'prompt', kind: 'text', question: 'Named?' })).seq;
  await ok(members[5], { t: 'answer', prompt: named, text: ANSWERS[0] });
  await ok(fac, { t: 'mute', member: members[3].member });
  await ok(fac, { t: 'promote', member: members[2].member });
  // the last member says something plain after a name with an RLO
  await ok(members[4], { t: 'chat', text: 'plain words here' });
  await ok(fac, { t: 'end' });
});

after(async () => {
  await closeAll(clients);
  await browser?.close().catch(() => {});
  await srv?.stop();
});

const transcriptUrl = () => `${srv.url}/api/rooms/${room.room_id}/transcript?format=html&key=${room.facilitator_key}`;

// Opens the transcript in a fresh context; returns what the page did.
async function open(contextOptions) {
  const ctx = await browser.newContext({ viewport: { width: 1024, height: 720 }, ...contextOptions });
  ctx.setDefaultTimeout(TIMEOUT);
  const page = await ctx.newPage();
  const seen = { dialogs: [], requests: [], errors: [] };
  page.on('dialog', (d) => { seen.dialogs.push(`${d.type()}: ${d.message()}`); d.dismiss().catch(() => {}); });
  page.on('request', (r) => seen.requests.push(r.url()));
  page.on('pageerror', (e) => seen.errors.push(String(e)));
  // (the browser's own favicon request is not the page's doing: with CSP
  // bypassed Chromium asks for /favicon.ico, which is not there)
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.location().url?.endsWith('/favicon.ico')) seen.errors.push(m.text());
  });
  page.on('popup', (p) => seen.dialogs.push(`popup: ${p.url()}`));
  const res = await page.goto(transcriptUrl(), { waitUntil: 'load' });
  assert.equal(res.status(), 200);
  // anything a payload could start (an image error, a refresh) has had its
  // chance once the network has been idle for 500 ms
  await page.waitForLoadState('networkidle');
  return { ctx, page, seen };
}

async function checkInert(t, { page, seen }) {
  assert.deepEqual(seen.dialogs, [], 'no dialog or popup opened');
  assert.equal(await page.evaluate(() => typeof window.__pwned), 'undefined', 'no payload ran');
  assert.deepEqual(seen.requests, [transcriptUrl()], 'the page itself is the only request');
  assert.deepEqual(seen.errors, [], 'no script errors or CSP reports');
  assert.equal(page.url(), transcriptUrl(), 'no redirect');
  // nothing but our own elements, and no event handlers
  const dom = await page.evaluate(() => {
    const bad = [...document.querySelectorAll('script, img, svg, iframe, object, embed, a, link, base, form, input, button, body style, meta[http-equiv="refresh"]')]
      .map((e) => e.outerHTML.slice(0, 80));
    const handlers = [...document.querySelectorAll('*')].flatMap((e) => [...e.attributes]
      .filter((a) => a.name.startsWith('on')).map((a) => `${e.tagName} ${a.name}`));
    return { bad, handlers, title: document.title, text: document.body.innerText };
  });
  assert.deepEqual(dom.bad, [], 'no element from user text');
  assert.deepEqual(dom.handlers, [], 'no event handler attributes');
  // every payload is shown as the text it was
  const flat = (s) => s.replace(/\s+/g, ' ');
  const text = flat(dom.text);
  for (const s of [TITLE, ...NAMES, ...MESSAGES, QUESTION, ...OPTIONS, ...ANSWERS, ...SEGMENTS]) {
    const shown = s.includes('\n') ? s.split('\n') : [s];
    for (const part of shown) assert.ok(text.includes(flat(part)), `shown as text: ${part}`);
  }
  t.diagnostic(`${seen.requests.length} request(s), ${dom.text.length} characters of text`);
}

test('the HTML transcript keeps every injection inert, as served', { timeout: 60000 }, async (t) => {
  const opened = await open({});
  try {
    await checkInert(t, opened);
    await opened.page.screenshot({ path: join(outDir, 'transcript.png'), fullPage: true });
  } catch (e) {
    await opened.page.screenshot({ path: join(outDir, 'FAILED-transcript.png'), fullPage: true }).catch(() => {});
    throw e;
  } finally {
    await opened.ctx.close();
  }
});

test('the HTML transcript keeps every injection inert with its CSP bypassed (the escaping alone)', { timeout: 60000 }, async (t) => {
  const opened = await open({ bypassCSP: true });
  try {
    await checkInert(t, opened);
  } catch (e) {
    await opened.page.screenshot({ path: join(outDir, 'FAILED-transcript-nocsp.png'), fullPage: true }).catch(() => {});
    throw e;
  } finally {
    await opened.ctx.close();
  }
});

test('the HTML transcript is printable: one page of its own, it prints to PDF', { timeout: 60000 }, async () => {
  const { ctx, page } = await open({});
  try {
    const pdf = await page.pdf({ format: 'A4' });
    assert.ok(pdf.length > 1000 && pdf.subarray(0, 5).toString() === '%PDF-');
  } finally {
    await ctx.close();
  }
});

// A <title> holds text only: markup there (an escaped payload, or a <bdi>)
// would show in the tab as it is.
test('the tab title is the room title, as text', { timeout: 60000 }, async () => {
  const { ctx, page } = await open({});
  try {
    assert.equal(await page.title(), `${TITLE} (transcript)`);
  } finally {
    await ctx.close();
  }
});

// A right-to-left override in a name must not reverse what follows it on
// the line (the message of that person, or of anyone after it).
test('a name with a right-to-left override does not reverse the message after it', { timeout: 60000 }, async () => {
  const { ctx, page } = await open({});
  try {
    const order = await page.evaluate(() => {
      const li = [...document.querySelectorAll('ul.chat li')].find((e) => e.textContent.includes('plain words here'));
      const walker = document.createTreeWalker(li, NodeFilter.SHOW_TEXT);
      let node;
      while ((node = walker.nextNode()) && !node.data.includes('plain words here'));
      const at = node.data.indexOf('plain words here');
      const rect = (i) => {
        const r = document.createRange();
        r.setStart(node, i);
        r.setEnd(node, i + 1);
        return r.getBoundingClientRect().left;
      };
      return { first: rect(at), last: rect(at + 'plain words here'.length - 1) };
    });
    assert.ok(order.first < order.last,
      `"plain words here" reads left to right (p at x=${order.first}, e at x=${order.last})`);
  } finally {
    await ctx.close();
  }
});

test('the server stops cleanly', async () => {
  await closeAll(clients);
  await stopCleanly(srv);
});
