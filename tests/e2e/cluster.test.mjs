// tests/e2e/cluster.test.mjs — two browsers through nginx, on two instances.
//
// Starts what `make cluster` starts (deploy/cluster.sh: redis-server with
// AOF, two potluckd joined through it, nginx in front with a least-
// connections upstream) on free loopback ports in a temp dir, then two
// headless Chromium contexts join one room through nginx. With one
// WebSocket each, least-connections puts them on different instances (the
// test checks each instance's /healthz); they see each other and chat.
// Everything is torn down even on failure; screenshots go to test-output/e2e/.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const outDir = join(root, 'test-output/e2e');
const CHROMIUM = {
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'],
};
const TIMEOUT = 15000;

let cluster;
let dir;
let base;
let browser;
const pageErrors = [];

const portFree = (port) => new Promise((res) => {
  const s = createServer();
  s.once('error', () => res(false));
  s.listen(port, '127.0.0.1', () => s.close(() => res(true)));
});

// A base port P with P, P+1, P+2 and P+379 (redis) all free, below the
// kernel's ephemeral range (32768 and up), from which the other tests'
// servers and every outgoing connection take theirs: a port free now
// could otherwise be taken before the cluster binds it.
async function freeBase() {
  for (let i = 0; i < 50; i++) {
    const p = 20000 + Math.floor(Math.random() * 12000);
    if (await portFree(p) && await portFree(p + 1) && await portFree(p + 2) && await portFree(p + 379))
      return p;
  }
  throw new Error('no free ports for the cluster');
}

async function until(fn, what, timeout = TIMEOUT) {
  const end = Date.now() + timeout;
  for (;;) {
    const v = await fn().catch(() => null);
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const health = async (port) => (await fetch(`http://127.0.0.1:${port}/healthz`)).json();

before(async () => {
  mkdirSync(outDir, { recursive: true });
  if (!existsSync(join(root, 'web/dist/app.js')))
    execFileSync(process.execPath, [join(root, 'web/build.mjs')], { stdio: 'inherit' });
  dir = mkdtempSync(join(tmpdir(), 'potluck-cluster-'));
  base = await freeBase();
  cluster = spawn(join(root, 'deploy/cluster.sh'), ['--port', String(base), '--dir', dir], {
    detached: true, stdio: ['ignore', 'pipe', 'pipe'],
  });
  cluster.stdout.on('data', () => {});
  cluster.stderr.on('data', () => {});
  await until(async () => (await health(base)).status === 'ok', 'nginx to answer');
  await until(async () => (await health(base + 1)).status === 'ok' && (await health(base + 2)).status === 'ok',
    'both instances');
  browser = await chromium.launch(CHROMIUM);
});

after(async () => {
  await browser?.close().catch(() => {});
  if (cluster && cluster.exitCode === null) {
    const exited = new Promise((r) => cluster.once('exit', r));
    try { process.kill(-cluster.pid, 'SIGTERM'); } catch {}
    const t = setTimeout(() => { try { process.kill(-cluster.pid, 'SIGKILL'); } catch {} }, 5000);
    await exited;
    clearTimeout(t);
  }
  if (dir) {
    for (const f of ['potluckd1.log', 'potluckd2.log']) {
      const p = join(dir, f);
      if (existsSync(p) && /Sanitizer|runtime error/.test(readFileSync(p, 'utf8')))
        throw new Error(`${f}: a sanitizer report`);
    }
    rmSync(dir, { recursive: true, force: true });
  }
});

async function newPage() {
  const ctx = await browser.newContext({ viewport: { width: 1024, height: 720 } });
  ctx.setDefaultTimeout(TIMEOUT);
  const page = await ctx.newPage();
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') pageErrors.push(m.text()); });
  return page;
}

const members = (page) => page.getByTestId('member-list').getByTestId('member');
const messages = (page) => page.getByTestId('chat-log').getByTestId('chat-message').locator('.text');

async function joinRoom(page, url, name) {
  // nginx balances by least_conn over HTTP requests too: with the page's own
  // requests finished, the WebSocket opened by join is the only one in flight
  await page.goto(url, { waitUntil: 'networkidle' });
  await page.getByTestId('name-input').fill(name);
  await page.getByTestId('join-button').click();
  await members(page).filter({ hasText: name }).waitFor();
}

test('two browsers through nginx land on different instances and share one room', { timeout: 90000 }, async () => {
  const r = await fetch(`http://127.0.0.1:${base}/api/rooms`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ title: 'E2E: one room, two instances' }),
  });
  assert.equal(r.status, 201);
  const room = await r.json();
  const host = await newPage();
  const guest = await newPage();
  try {
    await joinRoom(host, room.facilitator_url, 'Ada');
    await joinRoom(guest, room.join_url, 'Grace');
    // least_conn: one WebSocket on each instance
    const counts = [(await health(base + 1)).connections, (await health(base + 2)).connections];
    assert.deepEqual(counts.sort(), [1, 1], `one connection per instance, got ${counts}`);
    for (const page of [host, guest])
      await until(async () => (await members(page).count()) === 2, 'both members on both sides');

    await host.getByTestId('chat-input').fill('Hello from instance one');
    await host.getByTestId('chat-input').press('Enter');
    await guest.getByTestId('chat-input').fill('And hello back from the other');
    await guest.getByTestId('chat-input').press('Enter');
    const both = ['Hello from instance one', 'And hello back from the other'];
    for (const page of [host, guest])
      await until(async () => (await messages(page).count()) === 2, 'two messages on each side');
    const a = await messages(host).allTextContents();
    const b = await messages(guest).allTextContents();
    assert.deepEqual(a, b, 'one order on both instances');
    assert.deepEqual([...a].sort(), [...both].sort());
    await host.screenshot({ path: join(outDir, 'cluster-facilitator.png'), fullPage: true });
    await guest.screenshot({ path: join(outDir, 'cluster-participant.png'), fullPage: true });
    assert.deepEqual(pageErrors, [], 'no page or console errors');
  } finally {
    await host.context().close().catch(() => {});
    await guest.context().close().catch(() => {});
  }
});
