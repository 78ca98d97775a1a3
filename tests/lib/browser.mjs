// The harness the browser end-to-end tests share: a real potluckd and
// headless Chromium (/usr/bin/chromium through playwright-core), web/dist
// rebuilt when stale, pages that collect their uncaught and console errors,
// screenshots in test-output/e2e/, and locators for the room's screens.
//
//   const e2e = browserSuite({ timeout? });   // at the top of a test file:
//                                             // registers before/after hooks
//   e2e.srv                   the server (tests/lib/server.mjs) once started
//   const page = await e2e.newPage({ width, height });
//   await e2e.scenario(t, 'name', async () => { ... });
//       fails on any page error; on failure keeps FAILED-name-N.png of every
//       open page and the server's log tail; always closes its pages
//   await e2e.until(() => cond, 'what', timeout?)   polls, with a deadline
//   await e2e.joinRoom(page, url, 'Name', { enter? })
//   await e2e.queueIs(page, ['A', 'B'], 'who')
//   await shot(page, 'name')  → test-output/e2e/name.png
//
// `timeout` (default TIMEOUT) is how long any one thing may take to show up
// on screen. Nothing here sleeps for a fixed time.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { after, before } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startServer } from './server.mjs';

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const outDir = join(root, 'test-output/e2e');
export const CHROMIUM = {
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'],
};
export const TIMEOUT = 10000; // for any one thing to show up on screen

// Builds web/dist when it is missing or older than its sources.
export function ensureWebBuilt() {
  const app = join(root, 'web/dist/app.js');
  const newest = (dir) => readdirSync(dir, { withFileTypes: true }).reduce((t, e) => {
    const p = join(dir, e.name);
    return Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }, 0);
  const src = Math.max(newest(join(root, 'web/src')), newest(join(root, 'web/public')),
    statSync(join(root, 'web/build.mjs')).mtimeMs);
  if (!existsSync(app) || statSync(app).mtimeMs < src)
    execFileSync(process.execPath, [join(root, 'web/build.mjs')], { stdio: 'inherit' });
}

// Polls until fn() is truthy, with a deadline (no fixed sleeps).
export async function until(fn, what, timeout = TIMEOUT) {
  const end = Date.now() + timeout;
  let last;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() > end) throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export const shot = (page, name) => page.screenshot({ path: join(outDir, `${name}.png`), fullPage: true });

export const members = (page) => page.getByTestId('member-list').getByTestId('member');
export const memberNamed = (page, name) => members(page).filter({ hasText: name });
export const queueNames = (page) => page.getByTestId('queue-list').getByTestId('queue-name').allTextContents();
export const holderText = (page) => page.getByTestId('floor-holder').textContent();

// Records every sentence the ARIA live region says from now on.
export async function listen(page) {
  await page.getByTestId('announcer').evaluate((el) => {
    window.said = [];
    new MutationObserver((records) => {
      for (const r of records) for (const n of r.addedNodes) window.said.push(n.textContent.trim());
    }).observe(el, { childList: true });
  });
}
export const said = (page) => page.evaluate(() => window.said.filter(Boolean));

// Registers the file's before/after hooks (output dir, web build, server,
// browser; then their teardown, even on failure) and returns the harness.
export function browserSuite({ timeout = TIMEOUT } = {}) {
  let browser;
  const pageErrors = [];
  const e2e = {
    srv: undefined,
    timeout,
    until: (fn, what, t = timeout) => until(fn, what, t),

    async newPage(viewport) {
      const ctx = await browser.newContext({ viewport });
      ctx.setDefaultTimeout(timeout);
      const page = await ctx.newPage();
      page.on('pageerror', (e) => pageErrors.push(e));
      // Console errors too (a CSP violation is only reported there); a 404 is
      // an expected answer in some steps, so "Failed to load resource" is not one.
      page.on('console', (m) => {
        if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) pageErrors.push(m.text());
      });
      return page;
    },

    // Runs a test body; on failure keeps a screenshot of every open page and
    // the server's log, then fails. Always closes the pages the body opened.
    async scenario(t, name, body) {
      const before = new Set(browser.contexts());
      try {
        await body();
        assert.deepEqual(pageErrors.map(String), [], 'no uncaught or console errors in the pages');
      } catch (e) {
        let i = 0;
        for (const ctx of browser.contexts()) {
          for (const p of ctx.pages()) await shot(p, `FAILED-${name}-${++i}`).catch(() => {});
        }
        t.diagnostic(`server log (tail):\n${e2e.srv.logs().slice(-4000)}`);
        throw e;
      } finally {
        for (const ctx of browser.contexts()) if (!before.has(ctx)) await ctx.close().catch(() => {});
      }
    },

    // Joins with the name form (Enter or the button) and waits to be online.
    async joinRoom(page, url, name, { enter = false } = {}) {
      await page.goto(url);
      const input = page.getByTestId('name-input');
      await input.fill(name);
      if (enter) await input.press('Enter');
      else await page.getByTestId('join-button').click();
      await memberNamed(page, name).waitFor();
      await e2e.until(async () => (await page.getByTestId('status').getAttribute('data-state')) === 'online', `${name} online`);
    },

    async queueIs(page, names, who) {
      await e2e.until(async () => JSON.stringify(await queueNames(page)) === JSON.stringify(names),
        `${who}'s queue to read ${names.join(', ') || '(empty)'}`);
    },
  };

  before(async () => {
    mkdirSync(outDir, { recursive: true });
    ensureWebBuilt();
    e2e.srv = await startServer();
    browser = await chromium.launch(CHROMIUM);
  });

  after(async () => {
    await browser?.close().catch(() => {});
    await e2e.srv?.stop();
  });

  return e2e;
}
