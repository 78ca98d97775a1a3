// api.js — the HTTP API (PROTOCOL.md, "HTTP API"): create a room, read its
// public summary, and the address of a transcript export (TRANSCRIPT.md).
// Errors are thrown as { code, message } like the server's JSON.

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

// The export formats (TRANSCRIPT.md): JSON, Markdown, HTML, and CSV tables.
export const EXPORT_FORMATS = [
  { format: 'html', label: 'Printable page (HTML)' },
  { format: 'md', label: 'Minutes (Markdown)' },
  { format: 'json', label: 'Complete record (JSON)' },
  { format: 'csv', label: 'Spreadsheet (CSV)' },
];
export const CSV_TABLES = [
  { table: 'contributions', label: 'Contributions per person' },
  { table: 'chat', label: 'Chat' },
  { table: 'turns', label: 'Turns on the floor' },
  { table: 'prompts', label: 'Prompts and results' },
];

// A download link: the facilitator key goes in `key=` (a link cannot carry
// an Authorization header); the page sends no Referer (referrer-policy).
export function transcriptUrl(room, key, format, table) {
  const q = new URLSearchParams({ format });
  if (format === 'csv') q.set('table', table || 'contributions');
  q.set('key', key);
  return `/api/rooms/${encodeURIComponent(room)}/transcript?${q}`;
}
