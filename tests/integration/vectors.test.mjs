// The wire test vectors in proto/vectors/ (read by the C tests too): every
// *.json file is {name, direction: "client" | "server", json, hex} and the
// MessagePack bytes in hex decode to exactly the value in json. In json a
// MessagePack bin is written {"$bin": "<hex>"}.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decode } from '@msgpack/msgpack';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const dir = join(root, 'proto/vectors');
const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
const vectors = files.map((f) => ({ file: f, v: JSON.parse(readFileSync(join(dir, f), 'utf8')) }));

// The JSON convention → the value @msgpack/msgpack decodes to.
function fromJson(v) {
  if (Array.isArray(v)) return v.map(fromJson);
  if (v && typeof v === 'object') {
    const keys = Object.keys(v);
    if (keys.length === 1 && keys[0] === '$bin') {
      assert.match(v.$bin, /^([0-9a-f]{2})*$/, '$bin is lowercase hex');
      return Uint8Array.from(Buffer.from(v.$bin, 'hex'));
    }
    return Object.fromEntries(keys.map((k) => [k, fromJson(v[k])]));
  }
  return v;
}

// Decoded bin values may be views into a larger buffer: compare as plain copies.
function normalise(v) {
  if (v instanceof Uint8Array) return Uint8Array.from(v);
  if (Array.isArray(v)) return v.map(normalise);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, normalise(x)]));
  return v;
}

// The request types PROTOCOL.md defines: the ### `name` headings under ## Requests.
function requestTypes() {
  const md = readFileSync(join(root, 'proto/PROTOCOL.md'), 'utf8');
  const section = md.split(/^## /m).find((s) => s.startsWith('Requests'));
  assert.ok(section, 'PROTOCOL.md has a Requests section');
  return [...section.matchAll(/^### `([a-z_]+)`/gm)].map((m) => m[1]);
}

describe('proto/vectors', () => {
  it('has vector files', () => {
    assert.ok(files.length > 0, `no *.json in ${dir}`);
  });

  it('gives every vector a unique name', () => {
    const names = vectors.map(({ v }) => v.name);
    assert.equal(new Set(names).size, names.length, `names: ${names}`);
  });

  it('has a client vector for every request type in PROTOCOL.md', () => {
    const have = new Set(vectors.filter(({ v }) => v.direction === 'client').map(({ v }) => v.json?.t));
    for (const t of requestTypes()) assert.ok(have.has(t), `a client vector for request ${t}`);
  });

  for (const { file, v } of vectors) {
    describe(file, () => {
      it('has the shape {name, direction, json, hex}', () => {
        assert.equal(typeof v.name, 'string');
        assert.ok(v.name.length > 0);
        assert.ok(['client', 'server'].includes(v.direction), `direction: ${v.direction}`);
        assert.ok('json' in v, 'json present');
        assert.equal(typeof v.hex, 'string');
        assert.match(v.hex, /^([0-9a-f]{2})+$/, 'hex is lowercase, whole bytes');
      });

      it('decodes hex to exactly json', () => {
        const value = decode(Buffer.from(v.hex, 'hex'));   // throws on trailing bytes
        assert.deepStrictEqual(normalise(value), fromJson(v.json));
      });

      if (v.direction === 'client') {
        it('is a request: a map with a string t and an id in 1 … 2^32−1', () => {
          assert.equal(typeof v.json.t, 'string');
          assert.ok(Number.isInteger(v.json.id) && v.json.id >= 1 && v.json.id <= 2 ** 32 - 1, `id ${v.json.id}`);
        });
      }
    });
  }
});
