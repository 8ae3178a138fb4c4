// ui-dom.js - small DOM helpers shared by the UI modules.
//
// What it owns: element creation (el), lookups ($), time formatting, and
// the wording of a standard reply (FAIL/WARN/NOTE) in the page's language.
//
// Invariants: text from the server is only ever set as textContent, never
// as HTML, so nothing a user or the server sends can add markup or script.
//
// Threads: browser main thread.

import { has, lang, t } from './i18n.js';

export function $(id) {
  return document.getElementById(id);
}

/** el('li', { class: 'x', dataset: { testid: 'y' }, onclick: f }, 'text', child) */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') node.className = v;
    else if (k === 'dataset') Object.assign(node.dataset, v);
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else if (k === 'text') node.textContent = v;
    else node.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

export function formatTime(d) {
  const now = new Date();
  const loc = lang() === 'zh' ? 'zh-CN' : 'en-GB';
  const sameDay = d.toDateString() === now.toDateString();
  const opts = sameDay ? { hour: '2-digit', minute: '2-digit' }
    : { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' };
  try {
    return d.toLocaleString(loc, opts);
  } catch {
    return d.toISOString().slice(11, 16);
  }
}

/** A standard reply as one sentence for the user: the localised meaning
 *  of its code (when known) and the server's own sentence. */
export function describeReply(r) {
  const key = `code.${r.code}`;
  if (has(key)) return r.description ? `${t(key)} ${r.description}` : t(key);
  return r.description || `${r.command} ${r.code}`;
}

/** Keeps a list at most max children long, dropping the oldest. */
export function trimList(list, max) {
  while (list.children.length > max) list.firstElementChild.remove();
}
