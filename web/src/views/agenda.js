// views/agenda.js — the agenda. For everyone, a strip under the header: the
// current segment ("2/4 · Talk"), its elapsed time against the plan, live,
// and an over-time mark once it runs past its minutes; the whole plan with
// actual times folds out below. For facilitators, an editor (segments with a
// title and planned minutes: add, remove, reorder) and Start / Back / Next /
// Finish. Times are the server's (the store's clock offset applied).
import { h, show, text } from '../dom.js';
import { clock } from './floorinfo.js';

const MAX_SEGMENTS = 10;
const MAX_MINUTES = 600;
const TITLE_MAX = 60;

// Where the agenda stands: not started, running segment i, or finished.
const phase = (a) => (a.current < 0 ? 'idle' : a.current >= a.segments.length ? 'done' : 'running');

export function agendaStripView() {
  const where = h('span', { class: 'agenda-where', 'data-testid': 'agenda-current' });
  const time = h('span', { class: 'agenda-time', 'data-testid': 'agenda-elapsed' });
  const over = h('span', { class: 'over-mark', 'data-testid': 'agenda-over', hidden: true });
  const plan = h('ol', { class: 'agenda-plan', 'data-testid': 'agenda-plan' });
  const el = h('details', { class: 'agenda-strip', 'data-testid': 'agenda-strip', hidden: true },
    h('summary', null, h('span', { class: 'label' }, 'Agenda'), where, time, over),
    plan);

  let a = null;
  let shown = null;

  let ended = false;
  function tick(now) {
    if (!a || phase(a) !== 'running' || ended) {
      text(time, '');
      show(over, false);
      el.dataset.over = 'false';
      return;
    }
    const seg = a.segments[a.current];
    const spent = Math.max(0, now - a.since);
    const planned = seg.minutes * 60000;
    text(time, `${clock(spent)} of ${clock(planned)}`);
    const late = spent > planned;
    show(over, late);
    if (late) text(over, `${clock(spent - planned)} over`);
    el.dataset.over = String(late);
  }

  return {
    el,
    update(s) {
      a = s.agenda;
      show(el, a.segments.length > 0);
      if (a !== shown || ended !== Boolean(s.room?.ended)) {
        shown = a;
        ended = Boolean(s.room?.ended);
        const p = phase(a);
        el.dataset.phase = p;
        if (p === 'idle') text(where, `${a.segments.length} segments · not started`);
        else if (p === 'done') text(where, 'finished');
        else text(where, `${a.current + 1}/${a.segments.length} · ${a.segments[a.current].title}${ended ? ' · session ended' : ''}`);
        plan.replaceChildren(...a.segments.map((g, i) => {
          const actual = i === a.current ? ' · now' : g.started && g.ended ? ` · took ${clock(g.ended - g.started)}` : '';
          return h('li', { class: i === a.current ? 'current' : g.ended ? 'done' : '', 'aria-current': i === a.current ? 'step' : null },
            h('span', { class: 'seg-title' }, g.title), ` · ${g.minutes} min planned${actual}`);
        }));
      }
      tick(Date.now() + s.skew);
    },
    tick,
  };
}

export function agendaEditorView(actions) {
  const rows = h('ol', { class: 'segment-list', 'data-testid': 'agenda-segments' });
  const add = h('button', { type: 'button', class: 'quiet', 'data-testid': 'agenda-add', onclick: () => { addRow('', 10); rows.lastElementChild?.querySelector('input')?.focus(); touch(); } }, 'Add segment');
  const save = h('button', { type: 'submit', 'data-testid': 'agenda-save' }, 'Save agenda');
  const error = h('p', { class: 'error', role: 'alert', 'data-testid': 'agenda-error', hidden: true });
  const status = h('p', { class: 'hint', 'data-testid': 'agenda-status' });
  const go = (label, testid, target) => h('button', { type: 'button', 'data-testid': testid, onclick: () => jump(target) }, label);
  const start = go('Start', 'agenda-start', () => 0);
  const back = go('Back', 'agenda-back', (a) => Math.max(0, a.current - 1));
  const next = go('Next', 'agenda-next', (a) => a.current + 1);
  const finish = go('Finish', 'agenda-finish', (a) => a.segments.length);
  const form = h('form', { class: 'agenda-form', onsubmit: submit },
    rows, h('div', { class: 'button-row' }, add, save), error);
  const el = h('details', { class: 'panel', 'data-testid': 'agenda-panel' },
    h('summary', null, 'Agenda'),
    form,
    h('div', { class: 'button-row agenda-go' }, start, back, next, finish),
    status);

  let s = null;
  let dirty = false;
  let shown = null;
  function touch() {
    dirty = true;
  }

  function addRow(title, minutes) {
    if (rows.children.length >= MAX_SEGMENTS) return;
    const t = h('input', { type: 'text', maxlength: TITLE_MAX, value: title, 'data-testid': 'agenda-title', autocomplete: 'off', placeholder: 'e.g. Talk' });
    const m = h('input', { type: 'number', min: 1, max: MAX_MINUTES, step: 1, value: String(minutes), 'data-testid': 'agenda-minutes', inputmode: 'numeric' });
    const up = h('button', { type: 'button', class: 'icon', onclick: () => { row.previousElementSibling?.before(row); touch(); label(); } }, h('span', { 'aria-hidden': 'true' }, '▲'));
    const rm = h('button', { type: 'button', class: 'icon', 'data-testid': 'agenda-remove', onclick: () => { row.remove(); touch(); label(); } }, h('span', { 'aria-hidden': 'true' }, '✕'));
    t.addEventListener('input', touch);
    m.addEventListener('input', touch);
    const row = h('li', null, t, h('span', { class: 'minutes' }, m, h('span', { 'aria-hidden': 'true' }, 'min')), up, rm);
    rows.append(row);
    label();
  }
  function label() {
    [...rows.children].forEach((row, i) => {
      const [t, m] = row.querySelectorAll('input');
      const [up, rm] = row.querySelectorAll('button');
      t.setAttribute('aria-label', `Segment ${i + 1} title`);
      m.setAttribute('aria-label', `Segment ${i + 1} planned minutes`);
      up.setAttribute('aria-label', `Move segment ${i + 1} up`);
      rm.setAttribute('aria-label', `Remove segment ${i + 1}`);
      up.disabled = i === 0;
    });
    add.disabled = rows.children.length >= MAX_SEGMENTS;
  }
  function fill(segments) {
    rows.replaceChildren();
    if (!segments.length) addRow('', 10);
    for (const g of segments) addRow(g.title, g.minutes);
  }

  async function submit(e) {
    e.preventDefault();
    show(error, false);
    const segments = [];
    for (const row of rows.children) {
      const [t, m] = row.querySelectorAll('input');
      const title = t.value.trim();
      const minutes = Number(m.value);
      if (!title && !m.value.trim()) continue; // an empty row: ignored
      if (!title) return fail('Every segment needs a title.', t);
      if (!Number.isInteger(minutes) || minutes < 1 || minutes > MAX_MINUTES) return fail(`Planned minutes: 1 to ${MAX_MINUTES}.`, m);
      segments.push({ title, minutes });
    }
    if (await actions.agenda({ t: 'agenda', segments })) dirty = false;
  }
  function fail(msg, focus) {
    text(error, msg);
    show(error, true);
    focus?.focus();
  }

  async function jump(target) {
    if (!s) return;
    await actions.agenda({ t: 'agenda_go', segment: target(s.agenda) });
  }

  return {
    el,
    update(st) {
      s = st;
      const a = st.agenda;
      if (a !== shown) {
        const changedPlan = !shown || JSON.stringify(a.segments.map((g) => [g.title, g.minutes]))
          !== JSON.stringify(shown.segments.map((g) => [g.title, g.minutes]));
        shown = a;
        if (changedPlan && !dirty) fill(a.segments);
      }
      const p = phase(a);
      const off = st.status === 'closed' || Boolean(st.room?.ended);
      const none = a.segments.length === 0;
      start.disabled = off || none || p !== 'idle';
      back.disabled = off || none || p === 'idle' || a.current === 0;
      next.disabled = off || none || p !== 'running' || a.current >= a.segments.length - 1;
      finish.disabled = off || none || p !== 'running';
      save.disabled = off;
      add.disabled = off || rows.children.length >= MAX_SEGMENTS;
      text(status, st.room?.ended ? 'The session has ended.' : none ? 'Save a plan, then start it.'
        : p === 'idle' ? 'Not started.'
          : p === 'done' ? 'Finished. Back re-opens the last segment.'
            : `Running: ${a.segments[a.current].title} (${a.current + 1} of ${a.segments.length}).`);
      if (p === 'done') back.disabled = off;
    },
  };
}
