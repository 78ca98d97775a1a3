// Starts a real potluckd on a free loopback port for a test, and stops it.
//
//   const srv = await startServer({ dataDir? , args?: [], env?: {} });
//   srv.url        http://127.0.0.1:PORT
//   srv.wsUrl      ws://127.0.0.1:PORT/ws
//   srv.dataDir    the data directory (a fresh temp dir unless given)
//   srv.logs()     everything the server printed so far
//   await srv.stop({ signal: 'SIGTERM' | 'SIGKILL' })   resolves on exit
//
// The binary is $POTLUCKD or build/potluckd. Readiness is polled on
// /healthz with a deadline; no sleeps.
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const binary = process.env.POTLUCKD || join(root, 'build/potluckd');
export const webRoot = join(root, 'web/dist');

export function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

export function tempDir(prefix = 'potluck-test-') {
  return mkdtempSync(join(tmpdir(), prefix));
}

const running = new Set();
process.on('exit', () => { for (const p of running) try { p.kill('SIGKILL'); } catch {} });

export async function startServer(opts = {}) {
  const dataDir = opts.dataDir || tempDir();
  const port = opts.port || await freePort();
  const args = ['--host', '127.0.0.1', '--port', String(port), '--data-dir', dataDir,
    '--web-root', webRoot, '--log-level', opts.logLevel || 'info', ...(opts.args || [])];
  const proc = spawn(binary, args, {
    env: { ...process.env, ...(opts.env || {}) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(proc);
  let out = '';
  proc.stdout.on('data', (d) => { out += d; });
  proc.stderr.on('data', (d) => { out += d; });
  const exited = new Promise((res) => proc.on('exit', (code, signal) => {
    running.delete(proc);
    res({ code, signal });
  }));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 10000;
  for (;;) {
    if (proc.exitCode !== null || proc.signalCode !== null)
      throw new Error(`potluckd exited during start-up:\n${out}`);
    try {
      const r = await fetch(`${url}/healthz`);
      if (r.ok) break;
    } catch {}
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`potluckd not ready within 10 s:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  return {
    proc, port, url, dataDir,
    wsUrl: `ws://127.0.0.1:${port}/ws`,
    logs: () => out,
    exited,
    // Stops the server. A sanitizer report in its output fails the test
    // that stops it, so `make check` catches memory errors and leaks.
    async stop({ signal = 'SIGTERM', timeoutMs = 5000 } = {}) {
      let r;
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill(signal);
        const t = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
        r = await exited;
        clearTimeout(t);
      } else {
        r = await exited;
      }
      if (/ERROR: (Address|Leak)Sanitizer|runtime error:/.test(out))
        throw new Error(`potluckd reported a sanitizer error:\n${out}`);
      return r;
    },
  };
}

// Creates a room over HTTP; returns the JSON answer.
export async function createRoom(srv, title = 'Lunch and learn') {
  const r = await fetch(`${srv.url}/api/rooms`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ title }),
  });
  if (r.status !== 201) throw new Error(`create room: ${r.status} ${await r.text()}`);
  return r.json();
}
