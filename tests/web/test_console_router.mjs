// web/console/router.js and roles.js: hash routes, and which pages and
// commands each role is shown (a mirror of the ctl_register roles).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join, dirname } from 'node:path';
import { parseHash, hrefFor } from '../../web/console/router.js';
import { can, pagesFor, COMMAND_ROLES } from '../../web/console/roles.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');

test('parseHash', () => {
  assert.deepEqual(parseHash(''), { page: 'dashboard', param: null, query: {} });
  assert.deepEqual(parseHash('#/identity'), { page: 'identity', param: null, query: {} });
  assert.deepEqual(parseHash('#/complaints/12'), { page: 'complaints', param: '12', query: {} });
  assert.deepEqual(parseHash('#/user/%E5%B0%8F%E6%98%8E'), { page: 'user', param: '小明', query: {} });
  assert.deepEqual(parseHash('#/group/%23g%2F1'), { page: 'group', param: '#g/1', query: {} });
  assert.deepEqual(parseHash('#/user/%E0%A4%A'), { page: 'user', param: null, query: {} });
  assert.deepEqual(parseHash('#/reports?status=failed'), { page: 'reports', param: null, query: { status: 'failed' } });
  assert.equal(parseHash('#/nowhere/1').page, 'dashboard');
  assert.equal(parseHash('#/__proto__').page, 'dashboard');
  assert.equal(parseHash(undefined).page, 'dashboard');
});

test('hrefFor round-trips', () => {
  for (const [p, x, q] of [['user', '小明 &/?#', null], ['group', '#群一', null], ['complaints', null, { state: 'open', stage: '' }],
    ['reports', 7, { status: 'failed' }]]) {
    const r = parseHash(hrefFor(p, x, q));
    assert.equal(r.page, p);
    assert.equal(r.param, x === null ? null : String(x));
    for (const [k, v] of Object.entries(q || {})) if (v) assert.equal(r.query[k], v);
  }
  assert.equal(hrefFor('complaints', null, { state: 'open', stage: '' }), '#/complaints?state=open');
});

test('roles follow ctl_register', () => {
  assert.ok(can('moderator', 'complaints.decide'));
  assert.ok(!can('auditor', 'complaints.decide'));
  assert.ok(can('auditor', 'complaints.list'));
  assert.ok(can('auditor', 'identity.reveal'));
  assert.ok(!can('administrator', 'identity.reveal'));
  assert.ok(!can('moderator', 'identity.reveal'));
  assert.ok(can('administrator', 'credit.adjust'));
  assert.ok(!can('moderator', 'credit.adjust'));
  assert.ok(!can('moderator', 'export'));
  assert.ok(!can('moderator', 'nope'));
  assert.ok(!can(undefined, 'status'));
  assert.deepEqual(pagesFor('moderator'), ['dashboard', 'identity', 'complaints', 'appeals', 'user', 'group', 'log', 'reports']);
  assert.deepEqual(pagesFor('auditor'), ['dashboard', 'complaints', 'user', 'group', 'log', 'reports', 'audit']);
  assert.equal(pagesFor('administrator').length, 9);
  assert.deepEqual(pagesFor('nobody'), []);
});

// Every command the role table names exists in the daemon (a ctl_register
// call in src/) or is one of the contracts in web/console/README.md, and
// every command the pages call is in the table.
test('the role table matches ctl_register and the pages', () => {
  const registered = new Map();
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      else if (e.name.endsWith('.c') && !e.name.startsWith('test_')) {
        const src = readFileSync(join(d, e.name), 'utf8');
        const defs = new Map([...src.matchAll(/#define\s+(\w+)\s+\(([^)]*)\)/g)].map((m) => [m[1], m[2]]));
        for (const m of src.matchAll(/ctl_register\(\s*"([^"]+)",\s*([^,]+),/g)) {
          const expr = m[2].replace(/\w+/g, (w) => defs.get(w) || w);
          const roles = ['administrator', 'moderator', 'auditor'].filter((r) => expr.includes(`CTL_ROLE_${r.toUpperCase()}`));
          registered.set(m[1], roles);
        }
      }
    }
  };
  walk(join(root, 'src'));
  const contracts = ['status', 'log.search', 'audit.list', 'export'];
  for (const cmd of Object.keys(COMMAND_ROLES)) {
    assert.ok(registered.has(cmd) || contracts.includes(cmd), `${cmd} is neither registered nor a contract`);
  }
  for (const [cmd, roles] of registered) {
    if (cmd.startsWith('test.')) continue;
    assert.ok(cmd in COMMAND_ROLES, `${cmd} is missing from roles.js`);
    assert.ok(roles.length > 0, `${cmd}: roles not understood`);
    assert.deepEqual([...COMMAND_ROLES[cmd]].sort(), roles.sort(), `${cmd}: roles differ from ctl_register`);
  }
  const readme = readFileSync(join(root, 'web/console/README.md'), 'utf8');
  for (const c of ['status', 'log.search', 'audit.list']) {
    if (!registered.has(c)) assert.match(readme, new RegExp('`' + c.replace('.', '\\.') + '`'), `README defines ${c}`);
  }
  const dir = join(root, 'web/console');
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.js'))) {
    const src = readFileSync(join(dir, f), 'utf8');
    const used = [...src.matchAll(/(?:load|runAction)\(ctx, [a-z]+, '([a-z.]+)'/g), ...src.matchAll(/api\.ctl\('([a-z.]+)'/g),
      ...src.matchAll(/ctx\.can\('([a-z.]+)'\)/g)].map((m) => m[1]);
    for (const cmd of used) assert.ok(cmd in COMMAND_ROLES, `${f} calls ${cmd}, unknown to roles.js`);
  }
});
