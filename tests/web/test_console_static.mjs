// web/console as files: no external network resource, no inline script
// (a strict CSP can forbid them), no innerHTML/eval, every module import
// and every /static/ reference resolves to a file of the directory (flat:
// /static/<file>), and the testids the README promises exist in the code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join, dirname } from 'node:path';

const dir = join(dirname(fileURLToPath(import.meta.url)), '../../web/console');
const files = readdirSync(dir);
const read = (f) => readFileSync(join(dir, f), 'utf8');

test('no external resources, no inline script, no innerHTML or eval', () => {
  for (const f of files.filter((n) => /\.(js|html|css)$/.test(n))) {
    const src = read(f);
    assert.doesNotMatch(src, /(?:src|href)\s*=\s*["']?(?:https?:)?\/\//i, `${f}: external reference`);
    assert.doesNotMatch(src, /@import|url\(\s*["']?(?:https?:)?\/\//i, `${f}: external CSS`);
    assert.doesNotMatch(src, /\.innerHTML|outerHTML|insertAdjacentHTML|\beval\(|new Function\(/, `${f}: markup from strings`);
  }
  const html = read('index.html');
  assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/i, 'inline script');
  assert.doesNotMatch(html, /\son[a-z]+=/i, 'inline handler');
});

test('every /static/ reference and every import resolves', () => {
  for (const m of read('index.html').matchAll(/\/static\/([^"']+)/g)) assert.ok(existsSync(join(dir, m[1])), m[1]);
  for (const f of files.filter((n) => n.endsWith('.js'))) {
    for (const m of read(f).matchAll(/^import [^;]*?from '([^']+)';/gms)) {
      assert.match(m[1], /^\.\/[a-z0-9_]+\.js$/, `${f}: flat relative import`);
      assert.ok(existsSync(join(dir, m[1])), `${f} imports ${m[1]}`);
    }
  }
  assert.ok(files.every((f) => !f.includes('/')));
});

test('the testids listed in README.md exist in the code', () => {
  const readme = read('README.md');
  const code = files.filter((n) => /\.(js|html)$/.test(n)).map(read).join('\n');
  const listed = [...readme.matchAll(/`([a-z][a-z0-9-]+)`/g)].map((m) => m[1])
    .filter((id) => /^(login|nav|lang|identity|complaint|complaints|decide|appeal|user|export|confirm|log|report|reports|audit|group|action|dash)-/.test(id));
  assert.ok(listed.length > 30, `README lists ${listed.length} testids`);
  // ids built from a template (`log-search-${k}`) count when the prefix is a
  // template in the code and the rest a quoted word of it
  const templates = [...code.matchAll(/`([a-z-]+-)\$\{/g)].map((m) => m[1]);
  for (const id of listed) {
    const direct = code.includes(`'${id}'`) || code.includes(`"${id}"`);
    const templated = templates.some((tp) => id.startsWith(tp) && code.includes(`'${id.slice(tp.length)}'`));
    const row = id.endsWith('-row') && code.includes('`${testid}-row`') && code.includes(`'${id.slice(0, -4)}'`);
    assert.ok(direct || templated || row, `testid ${id} not found`);
  }
});
