// api.js — the HTTP API (PROTOCOL.md, "HTTP API"): create a room, read its
// public summary. Errors are thrown as { code, message } like the server's JSON.

async function json(res) {
  const body = await res.json().catch(() => ({}));
  if (!res.ok) {
    const err = new Error(body.message || `HTTP ${res.status}`);
    err.code = body.error || (res.status === 404 ? 'not_found' : 'http');
    err.status = res.status;
    throw err;
  }
  return body;
}

// → { room_id, title, join_url, facilitator_url, facilitator_key }
export async function createRoom(title) {
  const res = await fetch('/api/rooms', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ title }),
  });
  return json(res);
}

// → { room_id, title, created, members, online, ended }
export async function getRoom(id) {
  return json(await fetch(`/api/rooms/${encodeURIComponent(id)}`));
}
