// Writes the client-request test vectors proto/vectors/req-<name>.json from
// the examples below: the message as JSON and its MessagePack bytes as
// lowercase hex, encoded by @msgpack/msgpack (the codec the web client uses).
// Run from the repository root or anywhere:  node proto/vectors/gen-requests.mjs
//
// Each file: {"name", "direction": "client", "json", "hex"}. In "json" a
// MessagePack bin value is written {"$bin": "<hex>"} (none of the requests
// below has one). Map keys are encoded in the order written here.
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encode } from '@msgpack/msgpack';

const here = dirname(fileURLToPath(import.meta.url));

const ROOM = 'q3Xv9LmZ0aB-_k2T';            // 16 characters of base64url
const KEY = 'Jf8sQ2m_Vx0LpR4tYb7nWe';         // 22 characters of base64url
const TOKEN = 'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8';

export const requests = [
  { name: 'join', json: { t: 'join', id: 1, room: ROOM, name: 'Ada' } },
  { name: 'join-key', json: { t: 'join', id: 2, room: ROOM, name: 'Grace Hopper', key: KEY } },
  { name: 'join-unicode', json: { t: 'join', id: 3, room: ROOM, name: 'Zoë 🍲' } },
  { name: 'resume', json: { t: 'resume', id: 4, room: ROOM, member: 7, token: TOKEN, seq: 1234 } },
  { name: 'chat', json: { t: 'chat', id: 5, text: 'Why does the borrow checker reject this?' } },
  { name: 'chat-large-id', json: { t: 'chat', id: 4294967295, text: 'x'.repeat(40) } },
  { name: 'leave', json: { t: 'leave', id: 6 } },
  { name: 'ping', json: { t: 'ping', id: 7 } },
];

// {"$bin": hex} → Uint8Array, recursively.
function fromJson(v) {
  if (Array.isArray(v)) return v.map(fromJson);
  if (v && typeof v === 'object') {
    if (Object.keys(v).length === 1 && typeof v.$bin === 'string') return Uint8Array.from(Buffer.from(v.$bin, 'hex'));
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fromJson(x)]));
  }
  return v;
}

for (const { name, json } of requests) {
  const hex = Buffer.from(encode(fromJson(json))).toString('hex');
  const file = join(here, `req-${name}.json`);
  writeFileSync(file, JSON.stringify({ name, direction: 'client', json, hex }, null, 2) + '\n');
  console.log(`${file}: ${hex.length / 2} bytes`);
}
