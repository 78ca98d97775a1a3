// views/composer.js — the facilitator's prompt composer: the kind (single
// choice, multiple choice, rating, open question), the question, the
// options (2–10, added and removed in place) or the scale (2–10) with labels
// for its ends, anonymous or named (with what anonymous means), who sees the
// results and when, and an optional deadline. It checks the limits of
// PROTOCOL.md before sending, so a mistake gets a sentence, not a round trip.
import { h, show, text } from '../dom.js';
import { ANON_EXPLAINED, KINDS, REVEALS } from './promptinfo.js';

const LIMITS = { question: 300, option: 100, label: 40, options: 10, seconds: 86400 };

export function composerView(actions) {
  const kindInputs = KINDS.map((k) => h('input', {
    type: 'radio', name: 'prompt-kind', value: k.value, id: `prompt-kind-${k.value}`,
    'data-testid': `prompt-kind-${k.value}`, checked: k.value === 'single', onchange: () => render(),
  }));
  const kinds = h('fieldset', { class: 'segmented' },
    h('legend', null, 'Kind'),
    KINDS.map((k, i) => [kindInputs[i], h('label', { for: `prompt-kind-${k.value}` }, k.label)]));

  const question = h('textarea', {
    id: 'prompt-question', 'data-testid': 'prompt-question-input', rows: 2, maxlength: LIMITS.question,
    placeholder: 'e.g. Which topic should we take next?',
  });

  // ---- options -----------------------------------------------------------------
  const optionList = h('ol', { class: 'option-list', 'data-testid': 'prompt-options' });
  const addOption = h('button', { type: 'button', class: 'quiet', 'data-testid': 'prompt-add-option', onclick: () => { addRow(''); optionInputs().at(-1)?.focus(); } }, 'Add option');
  const options = h('fieldset', { class: 'options-editor' }, h('legend', null, 'Options'), optionList, addOption);
  const optionInputs = () => [...optionList.querySelectorAll('input')];
  function addRow(value) {
    if (optionList.children.length >= LIMITS.options) return;
    const input = h('input', { type: 'text', maxlength: LIMITS.option, value, 'data-testid': 'prompt-option-input', autocomplete: 'off' });
    const remove = h('button', {
      type: 'button', class: 'icon', 'data-testid': 'prompt-remove-option', title: 'Remove this option',
      onclick: () => {
        if (optionList.children.length <= 2) return;
        const next = row.nextElementSibling || row.previousElementSibling;
        row.remove();
        next?.querySelector('input')?.focus();
        numberRows();
      },
    }, h('span', { 'aria-hidden': 'true' }, '✕'));
    const row = h('li', null, input, remove);
    optionList.append(row);
    numberRows();
  }
  function numberRows() {
    const rows = [...optionList.children];
    rows.forEach((row, i) => {
      row.querySelector('input').setAttribute('aria-label', `Option ${i + 1}`);
      row.querySelector('button').setAttribute('aria-label', `Remove option ${i + 1}`);
      row.querySelector('button').disabled = rows.length <= 2;
    });
    addOption.disabled = rows.length >= LIMITS.options;
  }
  function resetOptions() {
    optionList.replaceChildren();
    addRow('');
    addRow('');
  }
  resetOptions();

  // ---- rating ------------------------------------------------------------------
  const scale = h('input', { type: 'number', id: 'prompt-scale', 'data-testid': 'prompt-scale', min: 2, max: 10, step: 1, value: '5', inputmode: 'numeric' });
  const low = h('input', { type: 'text', id: 'prompt-low', 'data-testid': 'prompt-low', maxlength: LIMITS.label, placeholder: 'e.g. Not at all' });
  const high = h('input', { type: 'text', id: 'prompt-high', 'data-testid': 'prompt-high', maxlength: LIMITS.label, placeholder: 'e.g. Very much' });
  const rating = h('div', { class: 'rating-editor' },
    h('div', { class: 'field' }, h('label', { for: 'prompt-scale' }, 'Scale 1 to'), scale),
    h('div', { class: 'field' }, h('label', { for: 'prompt-low' }, 'Label for 1'), low),
    h('div', { class: 'field' }, h('label', { for: 'prompt-high' }, 'Label for the top'), high));

  // ---- anonymity, reveal, deadline --------------------------------------------
  const anonymous = h('input', { type: 'checkbox', id: 'prompt-anonymous', 'data-testid': 'prompt-anonymous-toggle', 'aria-describedby': 'prompt-anon-note' });
  const anon = h('div', { class: 'check' },
    h('label', { for: 'prompt-anonymous' }, anonymous, ' Anonymous'),
    h('p', { class: 'hint', id: 'prompt-anon-note' }, ANON_EXPLAINED));
  const reveal = h('select', { id: 'prompt-reveal', 'data-testid': 'prompt-reveal' },
    REVEALS.map((r) => h('option', { value: r.value }, r.label)));
  const seconds = h('input', {
    type: 'number', id: 'prompt-seconds', 'data-testid': 'prompt-seconds', min: 1, max: LIMITS.seconds, step: 1,
    inputmode: 'numeric', placeholder: 'none', 'aria-describedby': 'prompt-seconds-note',
  });
  const open = h('button', { type: 'submit', class: 'primary', 'data-testid': 'prompt-open' }, 'Open prompt');
  const error = h('p', { class: 'error', role: 'alert', 'data-testid': 'composer-error', hidden: true });

  const form = h('form', { class: 'composer-form', 'data-testid': 'prompt-composer', onsubmit: submit },
    kinds,
    h('div', { class: 'field' }, h('label', { for: 'prompt-question' }, 'Question'), question),
    options, rating, anon,
    h('div', { class: 'field-row' },
      h('div', { class: 'field' }, h('label', { for: 'prompt-reveal' }, 'Show results'), reveal),
      h('div', { class: 'field' }, h('label', { for: 'prompt-seconds' }, 'Close after (seconds)'), seconds)),
    h('p', { class: 'hint', id: 'prompt-seconds-note' }, 'Leave empty to close it by hand.'),
    h('div', { class: 'button-row' }, open), error);
  const el = h('details', { class: 'panel', 'data-testid': 'composer-panel' },
    h('summary', null, 'New prompt'), form);

  const kind = () => kindInputs.find((x) => x.checked)?.value || 'single';
  function render() {
    const k = kind();
    show(options, k === 'single' || k === 'multi');
    show(rating, k === 'rating');
  }
  render();

  function fail(msg, focus) {
    text(error, msg);
    show(error, true);
    focus?.focus();
  }

  async function submit(e) {
    e.preventDefault();
    show(error, false);
    const k = kind();
    const q = question.value.trim();
    if (!q) return fail('Write the question first.', question);
    const req = { t: 'prompt', kind: k, question: q, anonymous: anonymous.checked, reveal: reveal.value };
    if (k === 'single' || k === 'multi') {
      const opts = optionInputs().map((x) => x.value.trim());
      const blank = optionInputs().find((x) => !x.value.trim());
      if (blank) return fail('Every option needs some text (or remove it).', blank);
      if (opts.length < 2) return fail('Give at least two options.');
      req.options = opts;
    } else if (k === 'rating') {
      const n = Number(scale.value);
      if (!Number.isInteger(n) || n < 2 || n > 10) return fail('The scale goes from 1 to a number between 2 and 10.', scale);
      req.scale = n;
      if (low.value.trim()) req.low = low.value.trim();
      if (high.value.trim()) req.high = high.value.trim();
    }
    if (seconds.value.trim()) {
      const n = Number(seconds.value);
      if (!Number.isInteger(n) || n < 1 || n > LIMITS.seconds) return fail(`A deadline is 1 to ${LIMITS.seconds} seconds (or empty).`, seconds);
      req.seconds = n;
    }
    open.disabled = true;
    try {
      if (await actions.openPrompt(req)) {
        question.value = '';
        seconds.value = '';
        resetOptions();
        low.value = '';
        high.value = '';
      }
    } finally {
      open.disabled = false;
    }
  }

  return {
    el,
    update(s) {
      const off = s.status === 'closed' || Boolean(s.room?.ended);
      open.disabled = off;
    },
  };
}
