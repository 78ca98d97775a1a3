// socketio-server.mjs — the usual alternative for issue 8's benchmarks: a
// minimal chat server on Socket.IO 4, driven by tests/bench/loadgen
// --mode socketio side by side with potluck and the physical floor.
//
//   node tests/bench/peers/socketio-server.mjs --port N [--host 127.0.0.1]
//        [--redis redis://127.0.0.1:R]
//
// A client joins the room named in its handshake query (?room=N); every
// `chat` event it sends (a string, or a Buffer) is emitted as `chat` with
// the same payload to the whole room, sender included, as potluck does.
// WebSocket transport only (no HTTP long-polling, no upgrade), no
// per-message deflate. With --redis the rooms span instances through
// @socket.io/redis-adapter (one publishing and one subscribing client).
// Nothing is stored, validated or rate limited: this is the reference for
// what a plain fan-out costs on Socket.IO, not a chat server.
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { Server } from 'socket.io';

const { values: opt } = parseArgs({
  options: {
    port: { type: 'string', default: '3000' },
    host: { type: 'string', default: '127.0.0.1' },
    redis: { type: 'string' },
  },
});

const http = createServer((req, res) => {
  res.writeHead(404).end();
});
const io = new Server(http, {
  transports: ['websocket'],
  allowUpgrades: false,
  perMessageDeflate: false,
  httpCompression: false,
  serveClient: false,
});

if (opt.redis) {
  const { createClient } = await import('redis');
  const { createAdapter } = await import('@socket.io/redis-adapter');
  const pub = createClient({ url: opt.redis });
  const sub = pub.duplicate();
  for (const c of [pub, sub]) c.on('error', (e) => console.error('redis:', e.message));
  await Promise.all([pub.connect(), sub.connect()]);
  io.adapter(createAdapter(pub, sub));
}

io.on('connection', (socket) => {
  const room = 'r' + String(socket.handshake.query.room ?? '');
  socket.join(room);
  socket.on('chat', (msg) => {
    if (typeof msg === 'string' || Buffer.isBuffer(msg)) io.to(room).emit('chat', msg);
  });
});

http.listen(Number(opt.port), opt.host, () => {
  console.error(`socketio-server: listening on ${opt.host}:${opt.port}${opt.redis ? ' with ' + opt.redis : ''}`);
});
for (const s of ['SIGTERM', 'SIGINT']) process.on(s, () => process.exit(0));
