// dom.js — the one helper that builds DOM nodes. Strings become text nodes
// (never HTML), so user text is safe wherever it lands; `on*` props become
// listeners; `style` is an object applied through CSSOM (the server's CSP
// forbids inline style attributes); everything else is an attribute (or the
// `value`/`checked` property).

export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v == null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'value' || k === 'checked') el[k] = v;
    else if (k === 'style') for (const [p, x] of Object.entries(v)) el.style.setProperty(p, String(x));
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c == null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

// Sets an element's text (textContent: user text is never parsed as HTML).
export function text(el, value) {
  const s = value == null ? '' : String(value);
  if (el.textContent !== s) el.textContent = s;
}

export function show(el, visible) {
  el.hidden = !visible;
}

// Copies text to the clipboard; falls back to selecting an input for old browsers
// or insecure origins (plain http on a LAN address has no navigator.clipboard).
export async function copyText(value, input) {
  try {
    await navigator.clipboard.writeText(value);
    return true;
  } catch {
    if (!input) return false;
    input.select();
    return document.execCommand?.('copy') ?? false;
  }
}
