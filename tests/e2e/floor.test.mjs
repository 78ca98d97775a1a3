// tests/e2e/floor.test.mjs — hands, the queue and the floor in headless
// Chromium against a real potluckd. A facilitator (wide screen) and two
// participants (one on a 360 px phone, one on a laptop, who uses the H
// shortcut) in three browser contexts: hands go up, the facilitator switches
// to "Fewest turns first" and the queue reorders, gives the floor to the
// next, who sees "You have the floor" and the turn clock; a turn timer runs
// out. Screenshots of the facilitator console and the participant views, and
// of every open page on failure, go to test-output/e2e/. The harness is
// tests/lib/browser.mjs.
//   node --test tests/e2e/
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { browserSuite, holderText, listen, memberNamed, said, shot } from '../lib/browser.mjs';
import { createRoom } from '../lib/server.mjs';

const e2e = browserSuite();
const { newPage, scenario, until, joinRoom, queueIs } = e2e;

test('hands, fewest turns first, the floor and a turn timer across a facilitator and two participants', { timeout: 120000 }, async (t) => {
  await scenario(t, 'floor', async () => {
    const room = await createRoom(e2e.srv, 'E2E: who speaks next');
    const host = await newPage({ width: 1200, height: 800 });
    const grace = await newPage({ width: 360, height: 740 });
    const linus = await newPage({ width: 900, height: 760 });
    await joinRoom(host, room.facilitator_url, 'Ada');
    await joinRoom(grace, room.join_url, 'Grace');
    await joinRoom(linus, room.join_url, 'Linus');
    await memberNamed(host, 'Linus').waitFor();

    // Only the facilitator has the console.
    assert.equal(await host.getByTestId('console').isVisible(), true);
    for (const p of [grace, linus]) assert.equal(await p.getByTestId('console').isVisible(), false);
    for (const p of [host, grace, linus]) assert.equal(await holderText(p), 'Nobody has the floor');
    await until(async () => (await host.getByTestId('not-heard-member').count()) === 3, 'three not yet heard');

    // Grace has had a turn already: the facilitator gives it to her from the
    // member list, then takes it back.
    await memberNamed(host, 'Grace').getByTestId('member-give').click();
    await until(async () => (await holderText(grace)) === 'You have the floor', 'Grace to get the floor');
    await until(async () => (await holderText(linus)) === 'Grace has the floor', 'Linus to see Grace speaking');
    await host.getByTestId('take-back').click();
    await until(async () => (await holderText(grace)) === 'Nobody has the floor', 'the floor back with nobody');
    await until(async () => (await memberNamed(host, 'Grace').getByTestId('member-figures').getAttribute('data-turns')) === '1',
      'Grace counted one turn');
    await until(async () => (await host.getByTestId('not-heard-member').allTextContents()).join() === 'Ada (you),Linus',
      'Grace no longer in "Not yet heard"');

    // Grace raises a new point by button; Linus by the H shortcut (the hint
    // says so), which does nothing while he types in the chat.
    await grace.locator('label[for="hand-type-new"]').click();
    await grace.getByTestId('hand-button').click();
    await queueIs(host, ['Grace'], 'the host');
    assert.equal(await linus.getByTestId('hand-hint').isVisible(), true);
    assert.match(await linus.getByTestId('hand-hint').textContent(), /Press H to raise or lower your hand/);
    await linus.getByTestId('chat-input').fill('');
    await linus.getByTestId('chat-input').pressSequentially('hh');
    assert.equal(await linus.getByTestId('chat-input').inputValue(), 'hh', 'H types into the chat');
    await linus.getByTestId('chat-input').fill('');
    await linus.getByTestId('chat-input').blur();
    await linus.keyboard.press('h');
    await queueIs(host, ['Grace', 'Linus'], 'the host');
    await until(async () => (await linus.getByTestId('hand-button').textContent()) === 'Lower hand', 'Linus sees his hand up');
    assert.equal(await host.getByTestId('queue-list').getByTestId('queue-entry').count(), 2, 'H raised one hand, typing none');
    await until(async () => /You are 2nd in the queue/.test(await linus.getByTestId('my-position').textContent()), 'Linus 2nd');
    const reasons = await host.getByTestId('queue-reason').allTextContents();
    assert.ok(reasons.every((r) => r.startsWith('first come')), `first come reasons: ${reasons}`);
    assert.deepEqual(await host.getByTestId('queue-type').allTextContents(), ['New point', 'New point']);
    await shot(grace, 'floor-participant-360px-hand-up');

    // Fewest turns first: Linus (0 turns) goes ahead of Grace (1 turn), on every screen.
    await host.locator('label[for="policy-fewest_turns"]').click();
    for (const [p, who] of [[host, 'the host'], [grace, 'Grace'], [linus, 'Linus']]) await queueIs(p, ['Linus', 'Grace'], who);
    assert.equal(await host.getByTestId('queue-policy').textContent(), 'Fewest turns first');
    const [r1, r2] = await host.getByTestId('queue-reason').allTextContents();
    assert.match(r1, /0 turns/);
    assert.match(r2, /1 turn\b/);
    await until(async () => /You are 2nd in the queue/.test(await grace.getByTestId('my-position').textContent()), 'Grace now 2nd');
    await until(async () => /You are 1st in the queue/.test(await linus.getByTestId('my-position').textContent()), 'Linus now 1st');
    await shot(host, 'floor-facilitator-fewest-turns');

    // Give floor to next: Linus speaks; his hand is used up.
    await listen(grace);
    await host.getByTestId('give-next').click();
    await until(async () => (await holderText(linus)) === 'You have the floor', 'Linus to have the floor');
    await until(async () => /You have the floor/.test(await linus.getByTestId('announcer').textContent()), 'the live region to say so');
    await until(async () => (await holderText(grace)) === 'Linus has the floor', 'Grace to see Linus speaking');
    await until(async () => (await said(grace)).some((x) => /Linus has the floor/.test(x)), "Grace's live region");
    assert.ok(!(await said(grace)).some((x) => /lowered/.test(x)),
      `a hand used up by the floor is not announced as lowered (the batch is one change): ${await said(grace)}`);
    await queueIs(host, ['Grace'], 'the host');
    await until(async () => /You are 1st in the queue/.test(await grace.getByTestId('my-position').textContent()), 'Grace 1st');
    assert.equal(await linus.getByTestId('yield-button').isVisible(), true, 'the holder can yield');
    assert.equal(await grace.getByTestId('yield-button').isVisible(), false);
    const clock = linus.getByTestId('turn-clock');
    assert.match(await clock.textContent(), /^\d+:\d\d$/);
    await until(async () => (await clock.textContent()) !== '0:00', 'the turn clock to run');

    // A 3 s turn timer with a notice: remaining time, then the warning, then "Time's up".
    await host.getByTestId('timer-seconds').fill('3');
    await host.getByTestId('timer-action').selectOption('notice');
    await host.getByTestId('timer-set').click();
    await until(async () => /of 0:03/.test(await linus.getByTestId('turn-limit').textContent()), 'the limit on the clock');
    await until(async () => /3 s per turn/.test(await host.getByTestId('timer-current').textContent()), 'the console shows the timer');
    await until(async () => (await linus.getByTestId('floor-card').getAttribute('data-warned')) === 'true'
      || (await linus.getByTestId('timeup-mark').isVisible()), 'the warning style');
    await linus.getByTestId('timeup-mark').waitFor();
    await grace.getByTestId('timeup-mark').waitFor();
    assert.equal(await linus.getByTestId('floor-card').getAttribute('data-expired'), 'true');
    assert.equal(await holderText(linus), 'You have the floor', 'notice: the speaker keeps the floor');
    await shot(linus, 'floor-participant-speaking-timeup');
    await shot(grace, 'floor-participant-360px');
    assert.equal(await grace.evaluate(() => document.documentElement.scrollWidth), 360, 'nothing wider than a 360 px screen');
    await shot(host, 'floor-facilitator-console');

    // Linus yields; the figures show his turn, and Ada is the only one not yet heard.
    await linus.getByTestId('yield-button').click();
    for (const p of [host, grace, linus]) await until(async () => (await holderText(p)) === 'Nobody has the floor', 'the floor open');
    await until(async () => (await memberNamed(host, 'Linus').getByTestId('member-figures').getAttribute('data-turns')) === '1',
      'Linus counted one turn');
    await until(async () => (await host.getByTestId('not-heard-member').allTextContents()).join() === 'Ada (you)', 'not yet heard: Ada');

    // Linus raises again (H): a tie on turns, so Grace, who raised first, leads.
    // The facilitator moves Linus up, lowers Grace's hand, then lowers all.
    await linus.keyboard.press('h');
    await queueIs(host, ['Grace', 'Linus'], 'the host');
    const entry = (name) => host.getByTestId('queue-list').getByTestId('queue-entry').filter({ hasText: name });
    await entry('Linus').getByTestId('queue-up').click();
    await queueIs(grace, ['Linus', 'Grace'], 'Grace');
    await queueIs(host, ['Linus', 'Grace'], 'the host');
    assert.equal(await entry('Linus').getAttribute('data-moved'), 'true');
    assert.equal(await entry('Linus').getByTestId('queue-reason').textContent(), 'moved by facilitator');
    await entry('Grace').getByTestId('queue-lower').click();
    await queueIs(grace, ['Linus'], 'Grace');
    await until(async () => (await grace.getByTestId('hand-button').textContent()) === 'Raise hand', "Grace's hand down");
    await host.getByTestId('lower-all').click();
    await queueIs(linus, [], 'Linus');
    await host.getByTestId('queue-empty').waitFor();
  });
});
