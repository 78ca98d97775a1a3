// tests/e2e/session.test.mjs — a whole mini session in headless Chromium
// against a real potluckd: a facilitator (wide screen) and two participants
// (one on a 360 px phone, one on a laptop) in three browser contexts.
//   1. The facilitator sets an agenda and starts it; everyone sees the
//      current segment and its clock.
//   2. Both participants raise hands; "Fewest turns first" reorders the
//      queue; the facilitator gives the floor with a turn timer and everyone
//      sees the clock.
//   3. An anonymous poll: both answer (one reloads and finds the answer
//      again), results show when it closes, with no names anywhere.
//   4. A participant's message is deleted: everyone sees "removed".
//   5. The agenda runs over its plan and says so; the facilitator ends the
//      session: everyone sees "Session ended", the facilitator the export
//      menu with four formats, and the HTML export opens (200).
// A second scenario covers the rest of moderation (mute, chat modes, lock,
// remove with a ban and its screens), reactions and quiet signals.
// Screenshots of the key screens go to test-output/e2e/session-*.png, and of
// every open page on failure; any page or console error fails the test.
// The harness is tests/lib/browser.mjs.
//   node --test tests/e2e/
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { browserSuite, holderText, listen, memberNamed, said, shot } from '../lib/browser.mjs';
import { createRoom } from '../lib/server.mjs';

const e2e = browserSuite();
const { newPage, scenario, until, joinRoom, queueIs } = e2e;

const textOf = (loc) => loc.textContent().then((x) => (x || '').trim());
const online = (page) => page.getByTestId('status').getAttribute('data-state').then((s) => s === 'online');
// Opens a folding panel (<details>) by its summary, if it is closed. `scope`
// is a page or a locator within it.
async function openPanel(scope, testid) {
  const panel = scope.getByTestId(testid);
  if (!(await panel.evaluate((el) => el.open))) await panel.locator(':scope > summary').click();
}

const noWiderThan = async (page, px) =>
  assert.equal(await page.evaluate(() => document.documentElement.scrollWidth), px, `nothing wider than a ${px} px screen`);

test('a whole mini session: agenda, hands, fewest turns first, the floor with a timer, an anonymous poll, a deleted message, the end and the export',
  { timeout: 240000 }, async (t) => {
    await scenario(t, 'session', async () => {
      const TITLE = 'E2E: a lunch & learn on testing';
      const room = await createRoom(e2e.srv, TITLE);
      const host = await newPage({ width: 1280, height: 860 });
      const grace = await newPage({ width: 360, height: 740 });
      const linus = await newPage({ width: 900, height: 760 });
      await joinRoom(host, room.facilitator_url, 'Ada');
      await joinRoom(grace, room.join_url, 'Grace');
      await joinRoom(linus, room.join_url, 'Linus');
      await memberNamed(host, 'Linus').waitFor();

      // Only the facilitator has the tools.
      assert.equal(await host.getByTestId('tools').isVisible(), true);
      for (const p of [grace, linus]) assert.equal(await p.getByTestId('tools').isVisible(), false);

      // ---- 1. The agenda: "Intro" (1 min: it will run over) and "Discussion".
      await openPanel(host, 'agenda-panel');
      const titles = host.getByTestId('agenda-title');
      const minutes = host.getByTestId('agenda-minutes');
      await titles.nth(0).fill('Intro');
      await minutes.nth(0).fill('1');
      await host.getByTestId('agenda-add').click();
      await titles.nth(1).fill('Discussion');
      await minutes.nth(1).fill('20');
      await host.getByTestId('agenda-save').click();
      for (const p of [host, grace, linus]) {
        await until(async () => (await textOf(p.getByTestId('agenda-current'))) === '2 segments · not started', 'the plan on every screen');
      }
      await host.getByTestId('agenda-start').click();
      for (const p of [host, grace, linus]) {
        await until(async () => (await textOf(p.getByTestId('agenda-current'))) === '1/2 · Intro', 'Intro running on every screen');
      }
      const agendaStarted = Date.now();
      await until(async () => /^0:0[1-9] of 1:00$/.test(await textOf(grace.getByTestId('agenda-elapsed'))), "the segment's clock to run");
      assert.equal(await grace.getByTestId('agenda-over').isVisible(), false, 'not over time yet');
      await shot(host, 'session-facilitator-agenda');

      // ---- 2. Grace has had a turn already (given from the member list, taken back).
      await memberNamed(host, 'Grace').getByTestId('member-give').click();
      await until(async () => (await holderText(grace)) === 'You have the floor', 'Grace to get the floor');
      await host.getByTestId('take-back').click();
      await until(async () => (await memberNamed(host, 'Grace').getByTestId('member-figures').getAttribute('data-turns')) === '1',
        'Grace counted one turn');

      // Both raise hands: Grace by button, Linus by the H shortcut.
      await grace.getByTestId('hand-button').click();
      await queueIs(host, ['Grace'], 'the host');
      await linus.keyboard.press('h');
      await queueIs(host, ['Grace', 'Linus'], 'the host');
      await until(async () => /You are 2nd in the queue/.test(await grace.getByTestId('my-position').textContent()) === false
        && /You are 1st in the queue/.test(await grace.getByTestId('my-position').textContent()), 'Grace 1st');
      await shot(grace, 'session-participant-hand-up');

      // Fewest turns first: Linus (0 turns) goes ahead of Grace (1 turn), on every screen.
      await host.locator('label[for="policy-fewest_turns"]').click();
      for (const [p, who] of [[host, 'the host'], [grace, 'Grace'], [linus, 'Linus']]) await queueIs(p, ['Linus', 'Grace'], who);
      await until(async () => /You are 2nd in the queue/.test(await grace.getByTestId('my-position').textContent()), 'Grace now 2nd');
      await shot(host, 'session-facilitator-queue-reordered');

      // The floor with a 45 s turn timer: Linus speaks, everyone sees his clock.
      await host.getByTestId('timer-seconds').fill('45');
      await host.getByTestId('timer-set').click();
      await until(async () => /45 s per turn/.test(await host.getByTestId('timer-current').textContent()), 'the timer set');
      await host.getByTestId('give-next').click();
      await until(async () => (await holderText(linus)) === 'You have the floor', 'Linus to have the floor');
      await until(async () => (await holderText(grace)) === 'Linus has the floor', 'Grace to see Linus speaking');
      await queueIs(host, ['Grace'], 'the host');
      for (const p of [linus, grace, host]) {
        await until(async () => /^of 0:45 · 0:\d\d left$/.test(await textOf(p.getByTestId('turn-limit'))), 'the time left on the clock');
      }
      await until(async () => (await textOf(grace.getByTestId('turn-clock'))) !== '0:00', 'the turn clock to run');
      await shot(grace, 'session-participant-floor-360px');
      await noWiderThan(grace, 360);

      // ---- 3. An anonymous poll, results only when it closes.
      const QUESTION = 'Which topic should we take next?';
      await listen(grace);
      await openPanel(host, 'composer-panel');
      await host.locator('label[for="prompt-kind-single"]').click();
      await host.getByTestId('prompt-question-input').fill(QUESTION);
      await host.getByTestId('prompt-option-input').nth(0).fill('Property-based testing');
      await host.getByTestId('prompt-option-input').nth(1).fill('Fuzzing');
      await host.getByTestId('prompt-add-option').click();
      await host.getByTestId('prompt-option-input').nth(2).fill('Mutation testing');
      await host.getByTestId('prompt-anonymous-toggle').check();
      assert.match(await host.locator('#prompt-anon-note').textContent(), /nobody .* can link an answer to a person/);
      await host.getByTestId('prompt-reveal').selectOption('closed');
      await host.getByTestId('prompt-seconds').fill('600');
      await host.getByTestId('prompt-open').click();

      const card = (p) => p.getByTestId('prompt-card').filter({ hasText: QUESTION });
      for (const p of [host, grace, linus]) {
        await card(p).waitFor();
        assert.equal(await card(p).getByTestId('prompt-anonymous').isVisible(), true, 'marked anonymous');
        await until(async () => /^closes in (9|10):\d\d$/.test(await textOf(card(p).getByTestId('prompt-state'))), 'the deadline countdown');
      }
      await until(async () => (await said(grace)).some((x) => x.includes(`New poll (anonymous): ${QUESTION}`)),
        'the live region to announce the poll');
      assert.equal(await textOf(card(grace).getByTestId('prompt-pending')), 'Results appear when the prompt closes.');

      // Grace answers by clicking, changes her mind, reloads: her answer is still hers.
      await card(grace).locator('label.choice', { hasText: 'Fuzzing' }).click();
      await card(grace).getByTestId('prompt-submit').click();
      await until(async () => (await textOf(card(grace).getByTestId('prompt-mine'))) === 'Your answer: Fuzzing', "Grace's answer");
      await card(grace).locator('label.choice', { hasText: 'Property-based testing' }).click();
      assert.equal(await textOf(card(grace).getByTestId('prompt-submit')), 'Change answer');
      await card(grace).getByTestId('prompt-submit').click();
      await until(async () => (await textOf(card(grace).getByTestId('prompt-mine'))) === 'Your answer: Property-based testing',
        "Grace's changed answer");
      await grace.reload();
      await until(() => online(grace), 'Grace back online');
      await until(async () => (await textOf(card(grace).getByTestId('prompt-mine'))) === 'Your answer: Property-based testing',
        'the answer restored after a reload');
      assert.equal(await card(grace).locator('input[data-testid="prompt-option"]').nth(0).isChecked(), true,
        'the restored answer is selected');

      // Linus answers with the keyboard.
      await card(linus).getByTestId('prompt-option').nth(2).focus();
      await linus.keyboard.press('Space');
      await card(linus).getByTestId('prompt-submit').focus();
      await linus.keyboard.press('Enter');
      await until(async () => (await textOf(card(linus).getByTestId('prompt-mine'))) === 'Your answer: Mutation testing', "Linus's answer");

      // The facilitator sees the results at once, without names; participants only the count.
      await until(async () => (await textOf(card(host).getByTestId('prompt-answered'))) === '2 people answered', 'two answers');
      await until(async () => (await textOf(card(grace).getByTestId('prompt-answered'))) === '2 people answered', 'two answers for Grace');
      assert.equal(await card(host).getByTestId('prompt-by').isVisible(), false, 'no "who answered what" for an anonymous poll');
      assert.equal(await card(grace).getByTestId('prompt-results').isVisible(), false, 'no results before the close');
      await shot(grace, 'session-participant-poll-answered');
      await shot(host, 'session-facilitator-poll-open');

      await card(host).getByTestId('prompt-close').click();
      const counts = async (p) => card(p).getByTestId('result-bar').evaluateAll((els) => els.map((e) => Number(e.dataset.count)));
      for (const [p, who] of [[host, 'the host'], [grace, 'Grace'], [linus, 'Linus']]) {
        await until(async () => (await card(p).getAttribute('data-state')) === 'closed', `${who} to see the poll closed`);
        await until(async () => JSON.stringify(await counts(p)) === '[1,0,1]', `${who} to see the results`);
        assert.equal(await textOf(card(p).getByTestId('prompt-state')), 'closed');
        assert.equal(await card(p).locator('form').isVisible(), false, 'no answering after the close');
      }
      assert.deepEqual(await card(grace).getByTestId('result-figure').allTextContents(), ['1 · 50%', '0 · 0%', '1 · 50%']);
      const cardText = await card(host).textContent();
      assert.ok(!/Grace|Linus/.test(cardText), `no names on an anonymous poll: ${cardText}`);
      await shot(grace, 'session-participant-poll-results');

      // ---- 4. An off-topic message, deleted by the facilitator.
      const OFFTOPIC = 'Off topic: who wants the last slice of pizza?';
      await grace.getByTestId('chat-input').fill(OFFTOPIC);
      await grace.getByTestId('chat-input').press('Enter');
      const msg = (p) => p.getByTestId('chat-log').getByTestId('chat-message').filter({ hasText: OFFTOPIC });
      for (const p of [host, linus]) await msg(p).waitFor();
      assert.equal(await grace.getByTestId('chat-delete').count(), 0, 'participants cannot delete');
      await msg(host).getByTestId('chat-delete').click();
      for (const [p, who] of [[host, 'the host'], [grace, 'Grace'], [linus, 'Linus']]) {
        await until(async () => (await p.locator('[data-testid="chat-message"][data-deleted="true"] [data-testid="chat-removed"]').count()) === 1,
          `${who} to see the message removed`);
        assert.equal(await textOf(p.getByTestId('chat-removed')), 'Message removed by a facilitator');
        assert.ok(!(await p.getByTestId('chat-log').textContent()).includes('pizza'), 'the text is gone');
        await until(async () => (await p.getByTestId('modlog-entry').allTextContents()).some((x) => x.endsWith('Ada removed a message by Grace')),
          `${who}'s moderation log`);
      }
      await shot(linus, 'session-participant-message-removed');

      // ---- 5. The agenda runs over its one minute; the facilitator moves on, then ends the session.
      await until(async () => grace.getByTestId('agenda-over').isVisible(), 'the over-time mark', Math.max(e2e.timeout, 75000 - (Date.now() - agendaStarted)));
      // (how far over depends on how long the steps above took)
      assert.match(await textOf(grace.getByTestId('agenda-over')), /^\d+:\d\d over$/);
      assert.equal(await grace.getByTestId('agenda-strip').getAttribute('data-over'), 'true');
      await shot(grace, 'session-participant-agenda-over');
      await host.getByTestId('agenda-next').click();
      for (const p of [host, grace, linus]) {
        await until(async () => (await textOf(p.getByTestId('agenda-current'))) === '2/2 · Discussion', 'Discussion running');
      }
      assert.equal(await grace.getByTestId('agenda-over').isVisible(), false);

      await listen(linus);
      await openPanel(host, 'room-controls');
      await host.getByTestId('end-session').click();
      await host.getByTestId('end-confirm').waitFor();
      await host.getByTestId('end-cancel').click(); // a confirm step: nothing happened yet
      assert.equal(await host.getByTestId('session-ended').isVisible(), false);
      await host.getByTestId('end-session').click();
      await host.getByTestId('end-confirm').click();
      for (const p of [host, grace, linus]) {
        await p.getByTestId('session-ended').waitFor();
        await until(async () => p.getByTestId('chat-input').isDisabled(), 'the chat read-only');
        assert.match(await textOf(p.getByTestId('chat-state')), /The session has ended/);
        assert.equal(await p.getByTestId('hand-button').isDisabled(), true);
        assert.equal(await holderText(p), 'Nobody has the floor', 'the floor cleared');
        assert.equal(await p.getByTestId('room-ended').isVisible(), true);
      }
      await until(async () => (await said(linus)).some((x) => /The session has ended/.test(x)), 'the live region to say so');
      assert.equal(await grace.getByTestId('session-ended').getByTestId('export-menu').isVisible(), false, 'no export for participants');
      await shot(grace, 'session-participant-ended');
      await noWiderThan(grace, 360);

      // The export menu: four formats, with the key for a download link.
      const menu = host.getByTestId('session-ended').getByTestId('export-menu');
      const href = (f) => menu.getByTestId(`export-${f}`).getAttribute('href');
      for (const f of ['html', 'md', 'json', 'csv']) {
        assert.equal(await menu.getByTestId(`export-${f}`).isVisible(), true, `the ${f} export is offered`);
        const u = new URL(await href(f), e2e.srv.url);
        assert.equal(u.pathname, `/api/rooms/${room.room_id}/transcript`);
        assert.equal(u.searchParams.get('format'), f);
        assert.equal(u.searchParams.get('key'), room.facilitator_key);
      }
      await menu.getByTestId('export-csv-table').selectOption('turns');
      assert.equal(new URL(await href('csv'), e2e.srv.url).searchParams.get('table'), 'turns');
      await shot(host, 'session-facilitator-ended-export');

      const statuses = [];
      host.context().on('response', (r) => { if (r.url().includes('/transcript')) statuses.push(r.status()); });
      const [popup] = await Promise.all([host.waitForEvent('popup'), menu.getByTestId('export-html').click()]);
      await popup.waitForLoadState();
      await until(() => statuses.length > 0, 'the export to load');
      assert.deepEqual(statuses, [200]);
      assert.match(await popup.title(), /lunch & learn on testing/);
      const page = await popup.textContent('body');
      for (const s of ['Grace', 'Linus', QUESTION, 'Intro', 'Discussion']) assert.ok(page.includes(s), `the transcript mentions ${s}`);
      assert.ok(!page.includes('pizza'), 'the removed message is not in the transcript');
      await shot(popup, 'session-export-html');
      await popup.close();

      // Every CSV table answers too (the links are what the menu offers).
      for (const table of ['contributions', 'chat', 'turns', 'prompts']) {
        await menu.getByTestId('export-csv-table').selectOption(table);
        const r = await fetch(new URL(await href('csv'), e2e.srv.url));
        assert.equal(r.status, 200, `csv ${table}`);
        assert.match(r.headers.get('content-type') || '', /text\/csv/);
      }

      // Later, from a fresh browser: the room takes no one new; the
      // facilitator link still leads to the export, the join link does not.
      const laterHost = await newPage({ width: 800, height: 700 });
      await laterHost.goto(room.facilitator_url);
      await laterHost.getByTestId('join-ended').waitFor();
      assert.equal(await laterHost.getByTestId('name-input').isVisible(), false);
      const laterMenu = laterHost.getByTestId('join-ended').getByTestId('export-menu');
      assert.equal(new URL(await laterMenu.getByTestId('export-md').getAttribute('href'), e2e.srv.url).searchParams.get('key'), room.facilitator_key);
      const md = await fetch(new URL(await laterMenu.getByTestId('export-md').getAttribute('href'), e2e.srv.url));
      assert.equal(md.status, 200);
      assert.match(await md.text(), /^# E2E: a lunch .+ on testing$/m, 'the minutes, with the room title');
      await shot(laterHost, 'session-facilitator-later-export');
      const laterGuest = await newPage({ width: 360, height: 640 });
      await laterGuest.goto(room.join_url);
      await laterGuest.getByTestId('join-ended').waitFor();
      assert.equal(await laterGuest.getByTestId('join-ended').getByTestId('export-menu').isVisible(), false);
    });
  });

test('moderation, reactions and quiet signals: mute, slow mode, facilitators only, lock, co-facilitator, remove and ban',
  { timeout: 120000 }, async (t) => {
    await scenario(t, 'moderation', async () => {
      const room = await createRoom(e2e.srv, 'E2E: keeping order');
      const host = await newPage({ width: 1280, height: 860 });
      const grace = await newPage({ width: 360, height: 740 });
      const linus = await newPage({ width: 900, height: 760 });
      await joinRoom(host, room.facilitator_url, 'Ada');
      await joinRoom(grace, room.join_url, 'Grace');
      await joinRoom(linus, room.join_url, 'Linus');
      const menu = async (page, name) => {
        const m = memberNamed(page, name).getByTestId('member-menu');
        if (!(await m.evaluate((el) => el.open))) await m.getByTestId('member-menu-toggle').click();
        return m;
      };
      // The facilitator cannot be moderated; participants have no menus.
      assert.equal(await memberNamed(host, 'Ada').getByTestId('member-menu').count(), 0);
      assert.equal(await grace.getByTestId('member-menu').count(), 0);

      // Reactions: a clap floats up and is counted on every screen.
      await grace.getByTestId('react-clap').click();
      for (const p of [host, linus, grace]) {
        await until(async () => (await textOf(p.getByTestId('react-clap').getByTestId('reaction-total'))) === '1', 'the clap counted');
      }
      assert.match(await host.getByTestId('react-clap').getAttribute('aria-label'), /Applause \(1 so far\)/);

      // Quiet signals: anonymous counts for facilitators only.
      assert.equal(await host.getByTestId('signals').isVisible(), false, 'facilitators do not signal themselves');
      assert.equal(await grace.getByTestId('signals-panel').isVisible(), false);
      await grace.getByTestId('signal-lost').click();
      await until(async () => /without your name/.test(await grace.getByTestId('signal-sent').textContent()), 'a confirmation');
      await until(async () => (await textOf(host.getByTestId('signal-count-lost'))) === '1', 'one person lost');
      await linus.getByTestId('signal-louder').click();
      await until(async () => (await textOf(host.getByTestId('signal-count-louder'))) === '1', 'a second signal, while the first is counted');
      await linus.getByTestId('react-party').click();
      await until(async () => (await textOf(host.getByTestId('react-party').getByTestId('reaction-total'))) === '1',
        'a reaction while signals are counted');
      await shot(host, 'session-moderation-facilitator-signals');

      // Mute: Grace's composer says why; unmute gives it back.
      await (await menu(host, 'Grace')).getByTestId('member-mute').click();
      await until(async () => grace.getByTestId('chat-input').isDisabled(), "Grace's chat disabled");
      assert.match(await textOf(grace.getByTestId('chat-state')), /muted you/);
      await until(async () => (await memberNamed(linus, 'Grace').getAttribute('data-muted')) === 'true', 'everyone sees "muted"');
      await shot(grace, 'session-moderation-participant-muted');
      await (await menu(host, 'Grace')).getByTestId('member-unmute').click();
      await until(async () => !(await grace.getByTestId('chat-input').isDisabled()), "Grace's chat back");

      // Slow mode: one message per 30 s; facilitators only; open again.
      await openPanel(host, 'room-controls');
      await host.locator('label[for="chat-mode-slow"]').click();
      await host.getByTestId('slow-seconds').fill('30');
      await host.getByTestId('chat-mode-apply').click();
      await until(async () => /one message every 30 s/.test(await textOf(grace.getByTestId('chat-state'))), 'slow mode shown');
      await grace.getByTestId('chat-input').fill('First!');
      await grace.getByTestId('chat-input').press('Enter');
      await until(async () => /you can post again in \d+ s/.test(await textOf(grace.getByTestId('chat-state'))), 'the wait shown');
      assert.equal(await grace.getByTestId('chat-send').isDisabled(), true);
      await host.locator('label[for="chat-mode-facilitators"]').click();
      await host.getByTestId('chat-mode-apply').click();
      await until(async () => linus.getByTestId('chat-input').isDisabled(), "Linus's chat disabled");
      assert.match(await textOf(linus.getByTestId('chat-state')), /Only facilitators can post/);
      assert.equal(await host.getByTestId('chat-input').isDisabled(), false, 'facilitators still post');
      await host.locator('label[for="chat-mode-open"]').click();
      await host.getByTestId('chat-mode-apply').click();
      await until(async () => !(await linus.getByTestId('chat-input').isDisabled()), 'chat open again');

      // Promote Linus: he gets the tools, and can moderate; demote him again.
      await (await menu(host, 'Linus')).getByTestId('member-promote').click();
      await linus.getByTestId('tools').waitFor();
      assert.equal(await textOf(linus.getByTestId('my-role')), 'co-facilitator');
      await openPanel(linus.getByTestId('tools'), 'export-menu');
      assert.equal(await linus.getByTestId('tools').getByTestId('export-nokey').isVisible(), true, 'no key, no export');
      await (await menu(host, 'Linus')).getByTestId('member-demote').click();
      await until(async () => !(await linus.getByTestId('tools').isVisible()), 'Linus a participant again');

      // Lock: a newcomer is turned away with a reason.
      await host.getByTestId('lock-toggle').click();
      await host.getByTestId('room-locked').waitFor();
      const late = await newPage({ width: 800, height: 600 });
      await late.goto(room.join_url);
      await late.getByTestId('name-input').fill('Late Larry');
      await late.getByTestId('join-button').click();
      await until(async () => /locked/.test(await late.getByTestId('join-error').textContent()), 'the locked room refuses');
      await host.getByTestId('lock-toggle').click();
      await until(async () => !(await host.getByTestId('room-locked').isVisible()), 'unlocked');

      // Remove Grace with a ban: she sees why, and cannot come back from this browser.
      const m = await menu(host, 'Grace');
      await m.getByTestId('member-ban').check();
      await m.getByTestId('member-remove').click();
      await grace.locator('[data-testid="message"][data-kind="removed"]').waitFor();
      await until(async () => (await memberNamed(host, 'Grace').count()) === 0, 'Grace gone');
      await until(async () => (await host.getByTestId('modlog-entry').allTextContents()).some((x) => x.endsWith('Ada removed Grace and barred them from rejoining')),
        'the log line');
      await shot(grace, 'session-moderation-participant-removed');
      await grace.goto(room.join_url);
      await grace.getByTestId('name-input').fill('Grace again');
      await grace.getByTestId('join-button').click();
      await grace.locator('[data-testid="message"][data-kind="banned"]').waitFor();
      await shot(grace, 'session-moderation-participant-banned');
      await shot(host, 'session-moderation-facilitator');
    });
  });
