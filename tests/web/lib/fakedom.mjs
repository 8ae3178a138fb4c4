// A very small DOM for the console's page tests under node (no npm
// packages): elements with attributes, children, text, values, events and
// querySelectorAll for [data-testid=..] / [data-x="y"] / tag selectors. Enough
// for web/console/dom.js and the pages; not a browser.

class Node_ {}

class Text_ extends Node_ {
  constructor(text) { super(); this.data = text; this.parentNode = null; }
  get textContent() { return this.data; }
}

class Element_ extends Node_ {
  constructor(tag) {
    super();
    this.tagName = tag.toUpperCase();
    this.attributes = new Map();
    this.childNodes = [];
    this.listeners = {};
    this.parentNode = null;
    this.value = '';
    this.disabled = false;
    this.hidden = false;
  }
  get className() { return this.attributes.get('class') || ''; }
  set className(v) { this.attributes.set('class', v); }
  get id() { return this.attributes.get('id') || ''; }
  get href() { return this.attributes.get('href') || ''; }
  set href(v) { this.attributes.set('href', v); }
  setAttribute(k, v) { this.attributes.set(k, String(v)); if (k === 'hidden') this.hidden = true; }
  getAttribute(k) { return this.attributes.has(k) ? this.attributes.get(k) : null; }
  removeAttribute(k) { this.attributes.delete(k); }
  get firstChild() { return this.childNodes[0] || null; }
  get children() { return this.childNodes.filter((c) => c instanceof Element_); }
  appendChild(c) {
    if (c.parentNode) c.parentNode.removeChild(c);
    c.parentNode = this;
    this.childNodes.push(c);
    return c;
  }
  append(...cs) { for (const c of cs) this.appendChild(typeof c === 'string' ? new Text_(c) : c); }
  replaceChildren(...cs) { while (this.firstChild) this.removeChild(this.firstChild); this.append(...cs); }
  removeChild(c) { this.childNodes = this.childNodes.filter((x) => x !== c); c.parentNode = null; return c; }
  get textContent() { return this.childNodes.map((c) => c.textContent).join(''); }
  set textContent(v) { this.childNodes = []; if (v !== '') this.appendChild(new Text_(String(v))); }
  addEventListener(type, fn) { (this.listeners[type] ||= []).push(fn); }
  removeEventListener(type, fn) { this.listeners[type] = (this.listeners[type] || []).filter((f) => f !== fn); }
  dispatch(type) {
    const ev = { type, target: this, defaultPrevented: false, preventDefault() { this.defaultPrevented = true; } };
    return Promise.all((this.listeners[type] || []).map((fn) => fn(ev)));
  }
  click() {
    const out = this.dispatch('click');
    if (this.tagName === 'BUTTON' && (this.getAttribute('type') || 'submit') === 'submit') {
      let f = this.parentNode;
      while (f && f.tagName !== 'FORM') f = f.parentNode;
      if (f) return Promise.all([out, f.dispatch('submit')]);
    }
    return out;
  }
  matches(sel) {
    const m = /^([a-z]*)((?:\[[^\]]+\])*)$/.exec(sel.trim());
    if (!m) throw new Error(`selector not supported: ${sel}`);
    if (m[1] && this.tagName !== m[1].toUpperCase()) return false;
    for (const a of m[2].matchAll(/\[([a-z-]+)(?:=("?)([^"\]]*)\2)?\]/g)) {
      if (!this.attributes.has(a[1])) return false;
      if (a[3] !== undefined && a[0].includes('=') && this.attributes.get(a[1]) !== a[3]) return false;
    }
    return true;
  }
  querySelectorAll(sel) {
    const parts = sel.trim().split(/\s+/);
    let found = [this];
    for (const p of parts) {
      const next = [];
      for (const root of found) {
        const walk = (el) => { for (const c of el.children) { if (c.matches(p)) next.push(c); walk(c); } };
        walk(root);
      }
      found = [...new Set(next)];
    }
    return found;
  }
  querySelector(sel) { return this.querySelectorAll(sel)[0] || null; }
}

export function installDom() {
  const document = {
    createElement: (tag) => new Element_(tag),
    createTextNode: (t) => new Text_(t),
    getElementById: () => null,
  };
  globalThis.document = document;
  globalThis.Node = Node_;
  return document;
}

// Resolves after pending promise callbacks (the pages' awaits) have run.
export async function settle() {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
}
