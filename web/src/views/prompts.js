// views/prompts.js — the prompt cards, for everyone: open prompts first
// (newest on top), then closed ones. A card shows the question, its kind,
// "anonymous" and who sees the results, a countdown to its deadline, the
// answer controls for its kind (options as radios or checkboxes, a 1…N
// scale with its end labels, a short text), my answer (changeable until it
// closes; after a reload it comes back from `results.mine`), "N answered",
// and the results as far as I may see them: bars with counts and percent,
// the mean of a rating, the open answers with their frequent words; for
// facilitators of a named prompt, who answered what, and a Close button.
// Cards are kept per prompt and updated in place, so a half-made choice and
// the keyboard focus survive other people's answers.
import { h, show, text } from '../dom.js';
import { isFac } from '../store.js';
import { clock, plural } from './floorinfo.js';
import { KIND_LABEL, REVEAL_BADGE, answerText, pendingText, percent } from './promptinfo.js';

const TEXT_MAX = 280;

function same(a, b) {
  return JSON.stringify(a) === JSON.stringify(b);
}

// One bar: label, "count · percent", a filled track. `mine` marks my choice.
function bar(label, count, of, mine, testid = 'result-bar') {
  const fill = h('span', { class: 'fill' });
  fill.style.width = percent(count, of);
  return h('li', { class: `bar${mine ? ' mine' : ''}`, 'data-testid': testid, 'data-count': count },
    h('div', { class: 'bar-line' },
      h('span', { class: 'bar-label' }, label, mine ? h('span', { class: 'you' }, ' (your answer)') : null),
      h('span', { class: 'bar-figure', 'data-testid': 'result-figure' }, `${count} · ${percent(count, of)}`)),
    h('span', { class: 'track', 'aria-hidden': 'true' }, fill));
}

function resultsBody(p, r, mine) {
  const res = r.results;
  const n = r.answered;
  if (p.kind === 'single' || p.kind === 'multi') {
    const chosen = new Set(p.kind === 'multi' ? (Array.isArray(mine) ? mine : []) : mine == null ? [] : [mine]);
    return h('ul', { class: 'bars', 'aria-label': 'Results' },
      (p.options || []).map((o, i) => bar(o, res.counts?.[i] || 0, n, chosen.has(i))));
  }
  if (p.kind === 'rating') {
    const scale = p.scale || res.counts?.length || 0;
    const label = (v) => (v === 1 && p.low ? `1 · ${p.low}` : v === scale && p.high ? `${v} · ${p.high}` : String(v));
    return h('div', { class: 'rating-results' },
      h('p', { class: 'mean', 'data-testid': 'result-mean' },
        n ? `Average ${(Math.round((res.mean || 0) * 10) / 10).toLocaleString()} of ${scale}` : 'No ratings yet'),
      h('ul', { class: 'bars', 'aria-label': 'Results' },
        Array.from({ length: scale }, (_, i) => bar(label(i + 1), res.counts?.[i] || 0, n, mine === i + 1))));
  }
  const words = res.words || [];
  const answers = res.answers || [];
  return h('div', { class: 'text-results' },
    words.length ? h('ul', { class: 'words', 'aria-label': 'Frequent words', 'data-testid': 'result-words' },
      words.map(([w, c]) => h('li', null, w, h('span', { class: 'count' }, ` ×${c}`)))) : null,
    answers.length
      ? h('ul', { class: 'answers', 'aria-label': 'Answers', 'data-testid': 'result-answers' },
        answers.map((a) => h('li', null, a)))
      : h('p', { class: 'hint' }, 'No answers yet.'));
}

function promptCard(p0, actions) {
  let p = p0;
  const id = p.id;
  const kind = h('span', { class: 'kind' }, KIND_LABEL[p.kind] || p.kind);
  const anon = h('span', { class: 'badge anon', 'data-testid': 'prompt-anonymous', title: 'Answers cannot be linked to people' }, 'anonymous');
  const reveal = h('span', { class: 'reveal' });
  const state = h('span', { class: 'prompt-state', 'data-testid': 'prompt-state' });
  const question = h('h3', { class: 'question', 'data-testid': 'prompt-question', id: `prompt-${id}-q` });

  // ---- answer controls, by kind ----------------------------------------------
  let inputs = [];
  let textInput = null;
  let controls;
  const name = `prompt-${id}-answer`;
  if (p.kind === 'single' || p.kind === 'multi') {
    const type = p.kind === 'single' ? 'radio' : 'checkbox';
    inputs = (p.options || []).map((o, i) => h('input', { type, name, value: i, id: `${name}-${i}`, 'data-testid': 'prompt-option' }));
    controls = h('fieldset', { class: 'choices' },
      h('legend', { class: 'sr-only' }, p.kind === 'single' ? 'Choose one' : 'Choose any'),
      (p.options || []).map((o, i) => h('label', { class: 'choice', for: `${name}-${i}` }, inputs[i], h('span', null, o))));
  } else if (p.kind === 'rating') {
    inputs = Array.from({ length: p.scale || 0 }, (_, i) => h('input', {
      type: 'radio', name, value: i + 1, id: `${name}-${i + 1}`, 'data-testid': 'prompt-rating',
    }));
    controls = h('fieldset', { class: 'scale' },
      h('legend', { class: 'sr-only' }, `Rate from 1${p.low ? ` (${p.low})` : ''} to ${p.scale}${p.high ? ` (${p.high})` : ''}`),
      h('div', { class: 'segmented scale-row' }, inputs.map((x, i) => [x, h('label', { for: x.id }, String(i + 1))])),
      (p.low || p.high) && h('div', { class: 'scale-ends', 'aria-hidden': 'true' }, h('span', null, p.low || ''), h('span', null, p.high || '')));
  } else {
    textInput = h('input', {
      type: 'text', maxlength: TEXT_MAX, id: `${name}-text`, 'data-testid': 'prompt-text', autocomplete: 'off',
      'aria-label': 'Your answer', placeholder: 'A short answer',
    });
    controls = h('div', { class: 'text-answer' }, textInput);
  }
  const send = h('button', { type: 'submit', class: 'primary', 'data-testid': 'prompt-submit' }, 'Send answer');
  const formError = h('p', { class: 'error', role: 'alert', hidden: true });
  const form = h('form', { class: 'answer-form', 'aria-labelledby': question.id, onsubmit: submit }, controls,
    h('div', { class: 'button-row' }, send), formError);

  const mineLine = h('p', { class: 'mine-line', 'data-testid': 'prompt-mine' });
  const count = h('p', { class: 'answered', 'data-testid': 'prompt-answered' });
  const pending = h('p', { class: 'hint', 'data-testid': 'prompt-pending' });
  const results = h('div', { class: 'results', 'data-testid': 'prompt-results', 'aria-live': 'off' });
  const byList = h('ul', { class: 'by-list' });
  const by = h('details', { class: 'by', 'data-testid': 'prompt-by' }, h('summary', null, 'Who answered what'), byList);
  const close = h('button', {
    type: 'button', class: 'quiet', 'data-testid': 'prompt-close',
    onclick: () => actions.closePrompt(id),
  }, 'Close prompt');

  const el = h('article', { class: 'prompt-card', 'data-testid': 'prompt-card', 'data-prompt-id': id, 'data-kind': p.kind, 'aria-labelledby': question.id },
    h('div', { class: 'prompt-head' }, kind, anon, reveal, state),
    question, form, mineLine, count, pending, results, by, close);

  let dirty = false; // the person changed the controls since the last sent or shown answer
  let busy = false;
  let shown = {};
  const touch = () => {
    dirty = true;
    show(formError, false);
  };
  for (const x of inputs) x.addEventListener('change', touch);
  textInput?.addEventListener('input', touch);

  function value() {
    if (p.kind === 'single' || p.kind === 'rating') {
      const x = inputs.find((i) => i.checked);
      return x ? Number(x.value) : null;
    }
    if (p.kind === 'multi') {
      const v = inputs.filter((i) => i.checked).map((i) => Number(i.value));
      return v.length ? v : null;
    }
    const t = textInput.value.trim();
    return t ? t : null;
  }

  function restore(mine) {
    if (p.kind === 'text') textInput.value = mine == null ? '' : String(mine);
    else if (p.kind === 'multi') for (const x of inputs) x.checked = Array.isArray(mine) && mine.includes(Number(x.value));
    else for (const x of inputs) x.checked = mine != null && Number(x.value) === mine;
  }

  async function submit(e) {
    e.preventDefault();
    if (busy) return;
    const v = value();
    if (v == null) {
      text(formError, p.kind === 'text' ? 'Type an answer first.' : p.kind === 'multi' ? 'Choose at least one option.' : 'Choose an answer first.');
      show(formError, true);
      return;
    }
    const field = { single: 'choice', multi: 'choices', rating: 'value', text: 'text' }[p.kind];
    busy = true;
    try {
      if (await actions.answer(id, { [field]: v }, v)) dirty = false;
    } finally {
      busy = false;
    }
  }

  function render(s) {
    const r = s.results[id] || null;
    const mine = s.mine[id];
    const has = mine !== undefined && mine !== null;
    const fac = isFac(s.role);
    const closed = p.closed || Boolean(r?.closed);
    el.dataset.state = closed ? 'closed' : 'open';
    el.dataset.answered = String(has);
    show(anon, p.anonymous);
    text(reveal, REVEAL_BADGE[p.reveal] || '');
    text(question, p.question);
    const readonly = closed || s.room?.ended || s.status === 'closed';
    show(form, !readonly);
    if (!readonly) {
      if (!dirty && !busy) restore(mine);
      text(send, has ? 'Change answer' : 'Send answer');
    }
    text(mineLine, has ? `Your answer: ${answerText(p, mine)}` : closed ? 'You did not answer.' : '');
    show(mineLine, has || (closed && !fac));
    text(count, plural(r?.answered || 0, 'person', 'people') + ' answered');
    const pend = r?.results ? '' : pendingText({ ...p, closed }, has);
    text(pending, pend);
    show(pending, Boolean(pend));
    const key = { res: r?.results, mine, closed };
    if (!same(key, shown)) {
      shown = key;
      results.replaceChildren(...(r?.results ? [resultsBody(p, r, mine)] : []));
      const list = r?.results?.by || [];
      byList.replaceChildren(...list.map((b) => h('li', null, h('strong', null, b.name || `#${b.member}`), `: ${answerText(p, b.answer)}`)));
    }
    show(results, Boolean(r?.results));
    show(by, fac && !p.anonymous && (r?.results?.by || []).length > 0);
    show(close, fac && !closed && !s.room?.ended);
    close.disabled = s.status === 'closed';
    tick(Date.now() + s.skew, closed);
  }

  function tick(now, closed = p.closed) {
    if (closed) return text(state, 'closed');
    if (!p.closes_at) return text(state, 'open');
    const left = p.closes_at - now;
    text(state, left > 0 ? `closes in ${clock(Math.ceil(left / 1000) * 1000)}` : 'closing…');
  }

  let last = null;
  return {
    el,
    update(np, s) {
      p = np;
      last = s;
      render(s);
    },
    tick(now) {
      if (last) tick(now, p.closed || Boolean(last.results[id]?.closed));
    },
  };
}

export function promptsView(actions) {
  const count = h('span', { class: 'count', 'data-testid': 'prompt-count' });
  const list = h('div', { class: 'prompt-list', 'data-testid': 'prompt-list' });
  const empty = h('p', { class: 'hint', 'data-testid': 'prompts-empty' }, 'No prompts yet.');
  const error = h('p', { class: 'error', role: 'alert', 'data-testid': 'prompts-error', hidden: true });
  const el = h('section', { class: 'prompts', 'aria-labelledby': 'prompts-h', 'data-testid': 'prompts' },
    h('h2', { id: 'prompts-h' }, 'Prompts ', count), error, list, empty);
  const cards = new Map(); // prompt id -> card
  let errorAt = 0;
  let errorTimer = null;

  return {
    el,
    update(s) {
      const open = s.prompts.filter((p) => !p.closed).reverse();
      const done = s.prompts.filter((p) => p.closed).reverse();
      const order = [...open, ...done];
      const ids = new Set(order.map((p) => p.id));
      for (const [id, c] of cards) if (!ids.has(id)) { c.el.remove(); cards.delete(id); }
      order.forEach((p, i) => {
        let c = cards.get(p.id);
        if (!c) cards.set(p.id, (c = promptCard(p, actions)));
        c.update(p, s);
        if (list.children[i] !== c.el) list.insertBefore(c.el, list.children[i] || null);
      });
      text(count, s.prompts.length || '');
      show(empty, s.prompts.length === 0);
      // Participants see the section once there is something in it.
      show(el, s.prompts.length > 0 || isFac(s.role));

      const e = s.errors.prompts;
      if ((e?.at || 0) !== errorAt) {
        errorAt = e?.at || 0;
        text(error, e?.text);
        show(error, Boolean(e));
        clearTimeout(errorTimer);
        if (e) errorTimer = setTimeout(() => actions.clearError('prompts'), 8000);
      }
    },
    tick(now) {
      for (const c of cards.values()) c.tick(now);
    },
  };
}
