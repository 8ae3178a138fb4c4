// i18n.js - the language of the console: Chinese (zh) or English (en).
//
// The strings live in strings.js (one dictionary). The language is the
// operator's last choice (localStorage "qun-console-lang") or else the
// first of the browser's languages we have; Chinese when none matches
// (the service is for providers in China). t() never throws: a missing key
// shows as the key itself, so a gap is visible, not fatal.

import { STRINGS } from './strings.js';

export const LANGUAGES = Object.freeze(['zh', 'en']);
export const STORAGE_KEY = 'qun-console-lang';

let current = 'zh';

// The language for a stored choice and the browser's list (pure).
export function pickLanguage(stored, browserLanguages) {
  if (LANGUAGES.includes(stored)) return stored;
  for (const tag of browserLanguages || []) {
    const base = String(tag).toLowerCase().split('-')[0];
    if (LANGUAGES.includes(base)) return base;
  }
  return 'zh';
}

export function setLanguage(lang) {
  current = LANGUAGES.includes(lang) ? lang : 'zh';
  return current;
}

export function language() {
  return current;
}

// "{name}" in the string is replaced by params.name.
export function translate(dict, lang, key, params) {
  const table = dict[lang] || {};
  let s = Object.prototype.hasOwnProperty.call(table, key) ? table[key]
    : Object.prototype.hasOwnProperty.call(dict.en || {}, key) ? dict.en[key] : key;
  if (params) {
    s = s.replace(/\{([a-z_0-9]+)\}/g, (m, k) =>
      Object.prototype.hasOwnProperty.call(params, k) ? String(params[k]) : m);
  }
  return s;
}

export function t(key, params) {
  return translate(STRINGS, current, key, params);
}
