// views/floorinfo.js — words and figures for the hand queue and the floor,
// shared by the stage, the queue, the console and the member list: labels of
// hand types and policies, durations, ordinals, the live speaking time of a
// member, and why a hand sits where it does. The order itself is the
// server's (PROTOCOL.md, "The queue's order"); this only explains it:
//   1. type group: clarifications, then direct replies, then new points;
//   2. within a group, the policy's key (nothing, turns, speaking time);
//   3. ties: who raised first;
//   4. a hand a facilitator moved stays where it was put.

export const HAND_TYPES = [
  { value: 'new', label: 'New point', short: 'new point' },
  { value: 'reply', label: 'Direct reply', short: 'direct reply' },
  { value: 'clarify', label: 'Clarification', short: 'clarification' },
];
export const TYPE_LABEL = Object.fromEntries(HAND_TYPES.map((t) => [t.value, t.label]));

export const POLICIES = [
  { value: 'fifo', label: 'First come' },
  { value: 'fewest_turns', label: 'Fewest turns first' },
  { value: 'least_time', label: 'Least speaking time first' },
];
export const POLICY_LABEL = Object.fromEntries(POLICIES.map((p) => [p.value, p.label]));

const GROUP_REASON = {
  clarify: 'clarifications go first',
  reply: 'replies go before new points',
};
const POLICY_REASON = {
  fifo: () => 'first come',
  fewest_turns: (m) => plural(m?.turns || 0, 'turn'),
  least_time: (m) => `spoke ${clock(m?.speak_ms || 0)}`,
};

// 1 → "1st", 2 → "2nd", 11 → "11th", 23 → "23rd".
export function ordinal(n) {
  const t = n % 100;
  if (t >= 11 && t <= 13) return `${n}th`;
  return `${n}${{ 1: 'st', 2: 'nd', 3: 'rd' }[n % 10] || 'th'}`;
}

// 75_000 → "1:15"; 3_725_000 → "1:02:05". Negative counts as 0.
export function clock(ms) {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

// 90 → "1 min 30 s"; 120 → "2 min"; 45 → "45 s".
export function seconds(n) {
  const m = Math.floor(n / 60);
  const s = n % 60;
  if (!m) return `${s} s`;
  return s ? `${m} min ${s} s` : `${m} min`;
}

const timeFmt = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
export const clockTime = (ms) => timeFmt.format(new Date(ms));

export const plural = (n, one, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

// A member's speaking time including the running turn, at server time `now`.
export function spokenMs(m, floor, now) {
  const running = floor.member === m.id && floor.since ? Math.max(0, now - floor.since) : 0;
  return (m.speak_ms || 0) + running;
}

// Why this hand is at its place, in the words of the rule: its group (unless
// a new point), the policy's key, the raise time; or that it was moved.
export function handReason(hand, member, policy) {
  if (hand.moved) return 'moved by facilitator';
  const parts = [];
  if (GROUP_REASON[hand.type]) parts.push(GROUP_REASON[hand.type]);
  if (POLICY_REASON[policy]) parts.push(POLICY_REASON[policy](member));
  parts.push(`raised ${clockTime(hand.raised)}`);
  return parts.join(' · ');
}

// The one-line rule for the current policy, shown above the queue.
export function ruleText(policy) {
  const within = {
    fifo: 'first come, first served',
    fewest_turns: 'fewest turns first',
    least_time: 'least speaking time first',
  }[policy] || policy;
  return `Clarifications, then direct replies, then new points; within each: ${within}; ties by who raised first.`;
}
