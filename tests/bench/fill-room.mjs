// fill-room.mjs — creates a room and fills it with N chat records over one
// connection, for the export benchmark (tests/bench/export.sh). The server
// must run with a raised rate limit (--rate/--burst). Prints the room id.
//
//   node tests/bench/fill-room.mjs http://127.0.0.1:PORT 100000
import WebSocket from 'ws';
import { encode, decode } from '@msgpack/msgpack';
const [base, nStr] = process.argv.slice(2);
const N = Number(nStr);
const r = await (await fetch(base + '/api/rooms', {method:'POST', body: JSON.stringify({title:'Big room'})})).json();
const ws = new WebSocket(base.replace('http','ws') + '/ws', 'potluck.v1');
await new Promise((res) => ws.on('open', res));
let acked = 0, id = 1;
const done = new Promise((res) => ws.on('message', (d) => { const m = decode(d); if (m.t === 'ok' && m.id > 1 && ++acked === N) res(); }));
ws.send(encode({t:'join', id: id++, room: r.room_id, name: 'Filler', key: r.facilitator_key}));
await new Promise((res) => setTimeout(res, 100));
const text = 'A message of about one hundred bytes, as in the benchmarks: lorem ipsum dolor sit amet, consectetur.';
for (let i = 0; i < N; i++) {
  ws.send(encode({t:'chat', id: id++, text}));
  if (i % 1000 === 999) await new Promise((res) => setImmediate(res));
}
await done;
console.log(r.room_id);
process.exit(0);
