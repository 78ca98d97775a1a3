// tests/e2e/chat.test.mjs — drives headless Chromium against a real potluckd.
// The home page starts a session; then a facilitator (from the facilitator
// link) and a participant (from the join link, on a 360 px wide screen) join
// one room, see each other, chat, the participant reloads (resume, not a new
// join) and leaves. Screenshots of the key screens, and of every open page on
// failure, go to test-output/e2e/. Everything is torn down even on failure.
//   node --test tests/e2e/
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { browserSuite, memberNamed, members, shot } from '../lib/browser.mjs';
import { createRoom } from '../lib/server.mjs';

const e2e = browserSuite();
const { newPage, scenario, until, joinRoom } = e2e;

const messages = (page) => page.getByTestId('chat-log').getByTestId('chat-message').locator('.text');

test('the home page starts a session and leads to the facilitator link', { timeout: 60000 }, async (t) => {
  await scenario(t, 'home', async () => {
    const page = await newPage({ width: 1024, height: 720 });
    await page.goto(`${e2e.srv.url}/`);
    await page.getByTestId('create-title').fill('E2E: starting from the home page');
    await page.getByTestId('create-button').click();

    const link = page.getByTestId('join-link');
    await link.waitFor();
    const joinUrl = await link.inputValue();
    const m = joinUrl.match(/^(https?:\/\/[^/]+)\/r\/([A-Za-z0-9_-]{16})$/);
    assert.ok(m, `join link looks like <origin>/r/<16-char id>: ${joinUrl}`);
    assert.equal(m[1], e2e.srv.url, 'the join link is absolute, from the Host the browser used');
    const summary = await (await fetch(`${e2e.srv.url}/api/rooms/${m[2]}`)).json();
    assert.equal(summary.title, 'E2E: starting from the home page');
    await shot(page, 'home-created');

    await page.getByTestId('open-facilitator').click();
    await page.getByTestId('name-input').waitFor();
    assert.equal(new URL(page.url()).pathname, `/r/${m[2]}`);
    assert.equal(new URL(page.url()).hash, '', 'the key is taken out of the address bar');
    await page.getByText('You are joining as the facilitator').waitFor();
    assert.equal(await page.getByTestId('room-title').textContent(), 'E2E: starting from the home page');
    await shot(page, 'home-facilitator-name-form');

    // A link to a room that does not exist says so.
    await page.goto(`${e2e.srv.url}/r/AAAAAAAAAAAAAAAA`);
    await page.locator('[data-testid="message"][data-kind="not_found"]').waitFor();
    await shot(page, 'room-not-found');
  });
});

test('two people join one room, see each other and chat', { timeout: 90000 }, async (t) => {
  await scenario(t, 'chat', async () => {
    const room = await createRoom(e2e.srv, 'E2E: lunch & learn');
    const host = await newPage({ width: 1100, height: 720 });
    const guest = await newPage({ width: 360, height: 740 });

    await joinRoom(host, room.facilitator_url, 'Ada');
    await joinRoom(guest, room.join_url, 'Grace', { enter: true });

    // Each sees the other, with the right roles.
    await memberNamed(host, 'Grace').waitFor();
    await memberNamed(guest, 'Ada').waitFor();
    for (const page of [host, guest]) {
      assert.equal(await members(page).count(), 2);
      assert.equal(await memberNamed(page, 'Ada').getAttribute('data-role'), 'facilitator');
      assert.equal(await memberNamed(page, 'Grace').getAttribute('data-role'), 'participant');
    }
    assert.equal(await host.getByTestId('my-role').isVisible(), true, 'the host sees their facilitator badge');
    assert.equal(await guest.getByTestId('my-role').isVisible(), false);

    // They chat: Enter sends on one side, the Send button on the other. The
    // markup in the second message must arrive as text, never as HTML.
    const hello = 'Hello everyone, welcome to the lunch & learn!';
    const reply = 'Hi Ada! <b>not bold</b> 🍲';
    await host.getByTestId('chat-input').fill(hello);
    await host.getByTestId('chat-input').press('Enter');
    await until(async () => (await messages(guest).allTextContents()).includes(hello), 'the guest to see hello');
    await guest.getByTestId('chat-input').fill(reply);
    await guest.getByTestId('chat-send').click();
    for (const page of [host, guest]) {
      await until(async () => (await messages(page).count()) === 2, 'two messages on each side');
      assert.deepEqual(await messages(page).allTextContents(), [hello, reply]);
      assert.equal(await page.getByTestId('chat-log').locator('b').count(), 0, 'user text is not parsed as HTML');
    }
    assert.equal(await host.getByTestId('chat-input').inputValue(), '', 'the composer is cleared after sending');
    await shot(host, 'room-facilitator');
    await shot(guest, 'room-participant-360px');

    // A reload resumes the same member (no second "Grace") with the history.
    await guest.reload();
    await until(async () => (await guest.getByTestId('status').getAttribute('data-state')) === 'online', 'guest back online');
    await until(async () => (await messages(guest).count()) === 2, 'history after reload');
    assert.deepEqual(await messages(guest).allTextContents(), [hello, reply]);
    await until(async () => (await members(guest).count()) === 2, 'two members after reload');
    await until(async () => (await memberNamed(host, 'Grace').getAttribute('data-online')) === 'true', 'Grace back for the host');
    assert.equal(await members(host).count(), 2, 'the reload did not join a second time');

    // A message over the limit shows the error line and keeps the text.
    await guest.getByTestId('chat-input').fill('x'.repeat(2001));
    await guest.getByTestId('chat-send').click();
    await guest.getByTestId('chat-error').filter({ hasText: 'too long' }).waitFor();
    assert.equal((await guest.getByTestId('chat-input').inputValue()).length, 2001);
    await shot(guest, 'room-participant-error');

    // Leaving: the guest sees a goodbye, the host sees them gone.
    await guest.getByTestId('leave-button').click();
    await guest.locator('[data-testid="message"][data-kind="left"]').waitFor();
    await until(async () => (await members(host).count()) === 1, 'Grace gone from the host list');
    assert.equal(await memberNamed(host, 'Ada').count(), 1);
    await shot(host, 'room-facilitator-after-leave');
  });
});
