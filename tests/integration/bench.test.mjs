// The benchmark's own tools (tests/bench/, `make bench`) against a real
// potluckd and against the physical floor: one short window at a low rate,
// so that the load generator keeps speaking the protocol as it grows. No
// figure is timed; what must hold is that every message reached every member
// and that the report is whole (BENCHMARKS.md, "The tools").
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { connect } from 'node:net';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer, freePort } from '../lib/server.mjs';
import { stopCleanly, STOPS_CLEANLY } from '../lib/lifecycle.mjs';
import { startRedis } from '../lib/redis.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const benchDir = process.env.POTLUCK_BENCH || join(root, 'build/bench');

// rooms x members, a rate in deliveries/s, one window; the machine is busy
// with the rest of the suite, so the generator neither waits for quiet nor
// measures again
const WINDOW = ['--rooms', '5', '--members', '10', '--rates', '1000', '--duration', '1',
  '--warmup', '0.5', '--drain', '3', '--quiet-wait', '0', '--retries', '0', '--sources', '2',
  '--host', '127.0.0.1'];

function loadgen(args) {
  return new Promise((res) => {
    execFile(join(benchDir, 'loadgen'), args, { timeout: 60000 }, (err, stdout, stderr) =>
      res({ code: err ? err.code ?? err.signal : 0, stdout, stderr }));
  });
}

// The RESULT line's key=value pairs.
function result(run) {
  const line = run.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  assert.ok(line, `a RESULT line; loadgen printed:\n${run.stdout}\n${run.stderr}`);
  return Object.fromEntries(line.slice(7).trim().split(/\s+/).map((kv) => kv.split('=')));
}

function spawnFloor(port, flags) {
  const proc = spawn(join(benchDir, 'floor'), ['--host', '127.0.0.1', '--port', String(port), ...flags],
    { stdio: ['ignore', 'ignore', 'pipe'] });
  proc.err = '';
  proc.stderr.on('data', (d) => { proc.err += d; });
  return proc;
}

function assertWhole(r, mode) {
  assert.equal(r.mode, mode);
  assert.equal(r.rooms, '5');
  assert.equal(r.members, '10');
  assert.ok(Number(r.expected) >= 500, `deliveries expected in the window: ${r.expected}`);
  assert.equal(r.received, r.expected, 'every member received every message');
  assert.equal(r.lost, '0');
  assert.equal(r.errors, '0', 'no error replies');
  assert.equal(r.closed, '0', 'no connection closed');
  assert.ok(Number(r.dps) > 0 && Number(r.dps) <= 2000, `deliveries/s near the rate: ${r.dps}`);
  assert.ok(Number(r.p50_ms) > 0 && Number(r.p50_ms) <= Number(r.p99_ms),
    `latency percentiles in order: p50 ${r.p50_ms}, p99 ${r.p99_ms}`);
  assert.ok(Number(r.rss1_kb) > 0, 'the server\'s RSS was read from /proc');
}

async function accepting(port, deadlineMs) {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const ok = await new Promise((res) => {
      const s = connect(port, '127.0.0.1', () => { s.destroy(); res(true); });
      s.on('error', () => res(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${port}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('bench tools', () => {
  let srv;

  before(async () => {
    srv = await startServer({ args: ['--rate', '100000', '--burst', '100000'] });
  });

  after(async () => {
    if (srv) await srv.stop({ signal: 'SIGKILL' });
  });

  it('loadgen measures a window against potluckd: every message delivered, a whole report', async () => {
    const run = await loadgen(['--mode', 'potluck', '--size', '100', '--port', String(srv.port),
      '--server-pid', String(srv.proc.pid), '--label', 'smoke', ...WINDOW]);
    assert.equal(run.code, 0, `loadgen exit status; stderr:\n${run.stderr}`);
    assertWhole(result(run), 'potluck');
  });

  for (const flags of [[], ['--io-uring']]) {
    it(`loadgen measures a window against the physical floor${flags.length ? ' on io_uring' : ''} the same way`, async () => {
      const port = await freePort();
      const floor = spawnFloor(port, flags);
      try {
        await accepting(port, 10000);
        const run = await loadgen(['--mode', 'floor', '--payload', '149', '--port', String(port),
          '--server-pid', String(floor.pid), '--label', 'smoke', ...WINDOW]);
        assert.equal(run.code, 0, `loadgen exit status; stderr:\n${run.stderr}\nfloor:\n${floor.err}`);
        assertWhole(result(run), 'floor');
      } finally {
        floor.kill('SIGKILL');
      }
    });
  }

  it('two floors through a real redis-server (s3f): every member on either gets every message', async () => {
    const redis = await startRedis();
    const ports = [await freePort(), await freePort()];
    const floors = ports.map((p) => spawnFloor(p, ['--io-uring', '--redis', `127.0.0.1:${redis.port}`]));
    try {
      await Promise.all(ports.map((p) => accepting(p, 10000)));
      const run = await loadgen(['--mode', 'floor', '--payload', '149', '--port', String(ports[0]),
        '--port2', String(ports[1]), '--server-pid', `${floors[0].pid},${floors[1].pid},${redis.proc.pid}`,
        '--label', 'smoke', ...WINDOW]);
      const logs = floors.map((f) => f.err).join('\n');
      assert.equal(run.code, 0, `loadgen exit status; stderr:\n${run.stderr}\nfloors:\n${logs}`);
      assertWhole(result(run), 'floor');
      assert.equal(result(run).srv_cpus.split('/').length, 3, 'CPU of both floors and Redis');
      // every message went through Redis: one PUBLISH each, and no reply asked for
      const stats = (await redis.cli('INFO', 'commandstats')).join('\n');
      const calls = Number(/cmdstat_publish:calls=(\d+)/.exec(stats)?.[1]);
      assert.ok(calls >= Number(result(run).sent), `PUBLISH calls ${calls} for ${result(run).sent} messages`);
    } finally {
      for (const f of floors) f.kill('SIGKILL');
      await redis.kill();
    }
  });

  it(STOPS_CLEANLY, async () => {
    await stopCleanly(srv);
    srv = null;
  });
});
