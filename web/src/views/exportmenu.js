// views/exportmenu.js — the transcript export menu (TRANSCRIPT.md): a link
// per format — a printable page (HTML), minutes (Markdown), the complete
// record (JSON), and a spreadsheet (CSV) of the chosen table — for the tab
// that holds the facilitator key, during the session and after it ends.
// A co-facilitator without the key is told who can export. `idp` keeps the
// ids of several menus on one page apart.
import { CSV_TABLES, EXPORT_FORMATS, transcriptUrl } from '../api.js';
import { h, show } from '../dom.js';

export function exportMenuView(idp = 'export') {
  const links = Object.fromEntries(EXPORT_FORMATS.map((f) => [f.format, h('a', {
    href: '#', target: '_blank', rel: 'noopener', 'data-testid': `export-${f.format}`, 'data-format': f.format,
  }, f.label)]));
  const table = h('select', { id: `${idp}-csv-table`, 'data-testid': 'export-csv-table', 'aria-label': 'CSV table' },
    CSV_TABLES.map((t) => h('option', { value: t.table }, t.label)));
  table.addEventListener('change', () => render());
  const list = h('ul', { class: 'export-list', 'data-testid': 'export-list' },
    EXPORT_FORMATS.map((f) => h('li', null, links[f.format], f.format === 'csv' ? table : null)));
  const nokey = h('p', { class: 'hint', 'data-testid': 'export-nokey', hidden: true },
    'Only the facilitator who holds the room’s facilitator link can export the transcript.');
  const live = h('p', { class: 'hint' }, 'The transcript is as of now; export again later for more.');
  const el = h('details', { class: 'panel export-menu', 'data-testid': 'export-menu' },
    h('summary', { 'data-testid': 'export-summary' }, 'Export transcript'),
    list, nokey, live);

  let room = null;
  let key = null;
  function render() {
    show(list, Boolean(key));
    show(nokey, !key);
    if (!key || !room) return;
    for (const f of EXPORT_FORMATS) links[f.format].href = transcriptUrl(room, key, f.format, table.value);
  }
  return {
    el,
    update(s) {
      room = s.room?.id || null;
      key = s.key || null;
      show(live, Boolean(key) && !s.room?.ended);
      render();
    },
  };
}
