// Starts a real redis-server for a test, on a free loopback port in a temp
// dir, with AOF on and RDB snapshots off; it can be stopped, killed and
// started again on the same port and dir (AOF brings the data back).
//
//   const redis = await startRedis();            // { dir?, port?, unixSocket? }
//   redis.port, redis.url ('redis://127.0.0.1:PORT'), redis.dir
//   redis.socket, redis.unixUrl ('unix://DIR/redis.sock'): with unixSocket,
//     it listens on that Unix socket too
//   await redis.cli('PUBSUB', 'NUMSUB', ch)      // redis-cli's output lines (array)
//   await redis.stop()                           // SIGTERM (a clean shutdown), resolves on exit
//   await redis.kill()                           // SIGKILL, resolves on exit
//   await redis.restart()                        // stop(), then start again: same port and dir
//   await redis.start()                          // starts it again after stop() or kill()
//   redis.logs()                                 // what every run printed
//
// Readiness is polled with PING and a deadline. The binaries are
// $REDIS_SERVER / $REDIS_CLI or redis-server / redis-cli on the PATH.
import { spawn, execFile } from 'node:child_process';
import { join } from 'node:path';
import { freePort, tempDir } from './server.mjs';

export const redisServer = process.env.REDIS_SERVER || 'redis-server';
export const redisCli = process.env.REDIS_CLI || 'redis-cli';

const running = new Set();
process.on('exit', () => { for (const p of running) try { p.kill('SIGKILL'); } catch {} });

// Runs redis-cli against port; resolves with its output lines (raw mode:
// one line per value). Rejects on a non-zero exit or at the deadline.
export function cli(port, args, { timeoutMs = 3000 } = {}) {
  return new Promise((res, rej) => {
    execFile(redisCli, ['-h', '127.0.0.1', '-p', String(port), ...args.map(String)],
      { timeout: timeoutMs, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
        if (err) return rej(new Error(`redis-cli ${args.join(' ')}: ${err.message} ${stderr}`));
        const out = stdout.replace(/\n$/, '');
        res(out === '' ? [] : out.split('\n'));
      });
  });
}

export async function startRedis(opts = {}) {
  const dir = opts.dir || tempDir('potluck-redis-');
  const port = opts.port || await freePort();
  const socket = opts.unixSocket ? join(dir, 'redis.sock') : null;
  let out = '';
  let proc = null;
  let exited = null;

  async function launch() {
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir,
      '--appendonly', 'yes', '--save', '', '--daemonize', 'no', '--logfile', '',
      '--protected-mode', 'yes', '--loglevel', 'notice',
      ...(socket ? ['--unixsocket', socket, '--unixsocketperm', '700'] : [])];
    const p = spawn(redisServer, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    proc = p;
    running.add(p);
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { out += d; });
    exited = new Promise((res) => p.on('exit', (code, signal) => {
      running.delete(p);
      res({ code, signal });
    }));
    const deadline = Date.now() + 10000;
    for (;;) {
      if (p.exitCode !== null || p.signalCode !== null)
        throw new Error(`redis-server exited during start-up:\n${out.slice(-3000)}`);
      try {
        const r = await cli(port, ['PING'], { timeoutMs: 1000 });
        if (r[0] === 'PONG') break;
      } catch {}
      if (Date.now() > deadline) {
        p.kill('SIGKILL');
        throw new Error(`redis-server not answering PING within 10 s:\n${out.slice(-3000)}`);
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  async function halt(signal, timeoutMs = 5000) {
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return exited;
    proc.kill(signal);
    const t = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
    const r = await exited;
    clearTimeout(t);
    return r;
  }

  await launch();
  return {
    port, dir,
    url: `redis://127.0.0.1:${port}`,
    socket,
    unixUrl: socket && `unix://${socket}`,
    get proc() { return proc; },
    get running() { return !!proc && proc.exitCode === null && proc.signalCode === null; },
    logs: () => out,
    cli: (...args) => cli(port, args),
    stop: () => halt('SIGTERM'),
    kill: () => halt('SIGKILL'),
    async restart() {
      await halt('SIGTERM');
      await launch();
    },
    // Starts it again after stop() or kill(); nothing if it is running.
    async start() {
      if (proc && proc.exitCode === null && proc.signalCode === null) return;
      await launch();
    },
  };
}
