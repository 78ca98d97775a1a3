// Stopping a test server as a checked step of a test.
//
// srv.stop() (tests/lib/server.mjs) throws when the server printed a
// sanitizer report. Called from an after() hook, that failure marks the suite
// "not ok" but is not counted in node --test's "# fail" summary, so each
// suite that owns a server ends with a test that stops it: then a leak or a
// bad exit status is a counted failure.
import assert from 'node:assert/strict';

export async function stopCleanly(srv) {
  const r = await srv.stop({ signal: 'SIGTERM', timeoutMs: 8000 });
  assert.deepEqual(r, { code: 0, signal: null },
    `potluckd exit status after SIGTERM; output:\n${srv.logs().slice(-3000)}`);
}

export const STOPS_CLEANLY = 'stops cleanly on SIGTERM: exit status 0, no sanitizer report';
