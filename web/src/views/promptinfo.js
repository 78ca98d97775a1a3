// views/promptinfo.js — words for feedback prompts, shared by the prompt
// cards, the composer and the live region: kinds, reveal modes, how an
// answer reads, and what a person sees while results are not theirs to see
// yet (PROTOCOL.md, "Feedback prompts" and "Results").

export const KINDS = [
  { value: 'single', label: 'Single choice', short: 'poll' },
  { value: 'multi', label: 'Multiple choice', short: 'poll' },
  { value: 'rating', label: 'Rating', short: 'rating' },
  { value: 'text', label: 'Open question', short: 'open question' },
];
export const KIND_LABEL = Object.fromEntries(KINDS.map((k) => [k.value, k.label]));
const KIND_SHORT = Object.fromEntries(KINDS.map((k) => [k.value, k.short]));

export const REVEALS = [
  { value: 'live', label: 'Live, to everyone', badge: 'results live' },
  { value: 'answered', label: 'To each person after they answer', badge: 'results after answering' },
  { value: 'closed', label: 'To everyone when it closes', badge: 'results at close' },
  { value: 'facilitators', label: 'To facilitators only', badge: 'results for facilitators' },
];
export const REVEAL_BADGE = Object.fromEntries(REVEALS.map((r) => [r.value, r.badge]));

export const ANON_EXPLAINED = 'Answers are stored without names: nobody — facilitators included — can link '
  + 'an answer to a person, in the room, in the log or in the export.';

// "New poll: Which topic next?" for the live region.
export const openingText = (p) => `New ${KIND_SHORT[p.kind] || 'prompt'}${p.anonymous ? ' (anonymous)' : ''}: ${p.question}`;

// An answer as words: the option, the options, "4 of 5", or the text.
export function answerText(p, a) {
  if (a == null) return '';
  switch (p.kind) {
    case 'single': return p.options?.[a] ?? `option ${Number(a) + 1}`;
    case 'multi': return (Array.isArray(a) ? a : []).map((i) => p.options?.[i] ?? `option ${i + 1}`).join(', ') || '(none)';
    case 'rating': return `${a} of ${p.scale}`;
    default: return String(a);
  }
}

// Why a person sees no results for this prompt yet (nothing if they will
// see them as soon as they arrive).
export function pendingText(p, answered) {
  switch (p.reveal) {
    case 'answered': return answered ? '' : 'Results appear once you answer.';
    case 'closed': return p.closed ? '' : 'Results appear when the prompt closes.';
    case 'facilitators': return 'Results are shown to the facilitators only.';
    default: return '';
  }
}

// Percent as a whole number, "0%" when nobody answered.
export const percent = (n, of) => `${of ? Math.round((100 * n) / of) : 0}%`;
