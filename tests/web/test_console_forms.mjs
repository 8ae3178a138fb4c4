// web/console/forms.js: the args each page sends, with the argument names
// of src/ctl/*.c and src/qunctl/main.c, and the mistakes caught before
// asking the server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as f from '../../web/console/forms.js';

test('identity decisions use "request"', () => {
  assert.deepEqual(f.identityDecisionArgs('12', true), { args: { request: 12 } });
  assert.deepEqual(f.identityDecisionArgs(12, false, ' blurry photo '), { args: { request: 12, reason: 'blurry photo' } });
  assert.equal(f.identityDecisionArgs(12, false, '  ').error, 'form.need_reason');
  for (const bad of ['0', '-1', 'x', '', '1.5', null]) assert.equal(f.identityDecisionArgs(bad, true).error, 'form.bad_id');
});

test('complaints.list filters', () => {
  assert.deepEqual(f.complaintListArgs({ state: 'open', stage: '', group: '', reporter: '' }), { args: { state: 'open' } });
  assert.deepEqual(f.complaintListArgs({ state: '', stage: 'platform', group: '#g', reporter: 'xm', limit: '50' }),
    { args: { stage: 'platform', group: '#g', reporter: 'xm', limit: 50 } });
  assert.equal(f.complaintListArgs({ state: 'closed' }).error, 'form.bad_state');
  assert.equal(f.complaintListArgs({ stage: 'x' }).error, 'form.bad_stage');
  assert.equal(f.complaintListArgs({ limit: '501' }).error, 'form.bad_limit');
});

test('complaints.decide: uphold needs severity and rule', () => {
  assert.deepEqual(f.complaintDecideArgs({ id: 7, decision: 'uphold', severity: 'serious', rule: '散布谣言 (rule 7)', note: '' }),
    { args: { id: 7, decision: 'uphold', severity: 'serious', rule: '散布谣言 (rule 7)' } });
  assert.deepEqual(f.complaintDecideArgs({ id: '7', decision: 'dismiss', severity: 'serious', rule: 'r', note: ' no evidence ' }),
    { args: { id: 7, decision: 'dismiss', note: 'no evidence' } });
  assert.deepEqual(f.complaintDecideArgs({ id: 7, decision: 'malicious' }), { args: { id: 7, decision: 'malicious' } });
  assert.deepEqual(f.complaintDecideArgs({ id: 7, decision: 'escalate' }), { args: { id: 7, decision: 'escalate' } });
  assert.equal(f.complaintDecideArgs({ id: 7, decision: 'uphold', rule: 'r' }).error, 'form.need_severity');
  assert.equal(f.complaintDecideArgs({ id: 7, decision: 'uphold', severity: 'negligence', rule: 'r' }).error, 'form.need_severity');
  assert.equal(f.complaintDecideArgs({ id: 7, decision: 'uphold', severity: 'minor', rule: ' ' }).error, 'form.need_rule');
  assert.equal(f.complaintDecideArgs({ id: 7, decision: '' }).error, 'form.need_decision');
  assert.equal(f.complaintDecideArgs({ id: 'x', decision: 'dismiss' }).error, 'form.bad_id');
});

test('appeals', () => {
  assert.deepEqual(f.appealListArgs({}), { args: { state: 'open' } });
  assert.deepEqual(f.appealListArgs({ state: 'all', name: 'xm' }), { args: { state: 'all', name: 'xm' } });
  assert.equal(f.appealListArgs({ state: 'closed' }).error, 'form.bad_state');
  assert.deepEqual(f.appealDecideArgs('3', 'uphold', 'ok'), { args: { id: 3, decision: 'uphold', note: 'ok' } });
  assert.equal(f.appealDecideArgs(3, 'reject', '').error, 'form.need_note');
  assert.equal(f.appealDecideArgs(3, 'maybe', 'x').error, 'form.need_decision');
  assert.deepEqual(f.sanctionAppealListArgs({ name: 'xm' }), { args: { state: 'open', account: 'xm' } });
  assert.equal(f.sanctionAppealListArgs({ state: 'closed' }).error, 'form.bad_state');
  assert.deepEqual(f.sanctionAppealDecideArgs('5', 'upheld', 'ok'), { args: { id: 5, decision: 'upheld', note: 'ok' } });
  assert.equal(f.sanctionAppealDecideArgs(5, 'uphold', 'ok').error, 'form.need_decision');
  assert.equal(f.sanctionAppealDecideArgs(5, 'rejected', ' ').error, 'form.need_note');
});

test('account actions', () => {
  assert.deepEqual(f.suspendArgs('xm', 'spam'), { args: { name: 'xm', reason: 'spam' } });
  assert.equal(f.suspendArgs('xm', '').error, 'form.need_reason');
  assert.equal(f.suspendArgs('', 'x').error, 'form.need_name');
  assert.deepEqual(f.creditAdjustArgs({ name: 'xm', delta: '-30', reason: 'manual', evidence: 'complaint:1' }),
    { args: { name: 'xm', delta: -30, reason: 'manual', evidence: 'complaint:1' } });
  assert.deepEqual(f.creditAdjustArgs({ name: 'xm', delta: '+5'.slice(1), reason: 'r' }), { args: { name: 'xm', delta: 5, reason: 'r' } });
  for (const d of ['0', '1001', '-1001', '1.5', 'x', '']) assert.equal(f.creditAdjustArgs({ name: 'xm', delta: d, reason: 'r' }).error, 'form.bad_delta', d);
  assert.equal(f.creditAdjustArgs({ name: 'xm', delta: '1', reason: 'recovery' }).error, 'form.reserved_reason');
  assert.equal(f.creditAdjustArgs({ name: 'xm', delta: '1', reason: '理'.repeat(67) }).error, 'form.need_reason200');
  assert.equal(f.creditAdjustArgs({ name: 'xm', delta: '1', reason: 'r', evidence: 'e'.repeat(201) }).error, 'form.evidence_long');
});

test('sanctions and blacklist', () => {
  assert.deepEqual(f.personSanctionArgs({ name: 'xm', kind: 'post-suspended', reason: 'spam', days: '7' }),
    { args: { name: 'xm', kind: 'post-suspended', reason: 'spam', days: 7 } });
  assert.deepEqual(f.personSanctionArgs({ name: 'xm', kind: 'create-revoked', reason: 'r', days: '' }),
    { args: { name: 'xm', kind: 'create-revoked', reason: 'r' } });
  assert.equal(f.personSanctionArgs({ name: 'xm', kind: 'blacklist-review', reason: 'r' }).error, 'form.need_kind');
  assert.equal(f.personSanctionArgs({ name: 'xm', kind: 'post-suspended', reason: 'a\nb' }).error, 'form.need_reason_line');
  assert.equal(f.personSanctionArgs({ name: 'xm', kind: 'post-suspended', reason: 'x'.repeat(401) }).error, 'form.need_reason_line');
  assert.equal(f.personSanctionArgs({ name: 'xm', kind: 'post-suspended', reason: 'r', days: '3651' }).error, 'form.bad_days');
  assert.deepEqual(f.blacklistArgs('identity', 'xm', 'fraud'), { args: { kind: 'identity', value: 'xm', reason: 'fraud' } });
  assert.deepEqual(f.blacklistArgs('group', '10001', 'r'), { args: { kind: 'group', value: '10001', reason: 'r' } });
  assert.equal(f.blacklistArgs('phone', 'x', 'r').error, 'form.need_kind');
  assert.deepEqual(f.violationArgs({ group: '#g', severity: 'general', rule: 'ads', account: '' }),
    { args: { group: '#g', severity: 'general', rule: 'ads' } });
  assert.deepEqual(f.violationArgs({ group: '10001', severity: 'minor', rule: 'ads', account: 'xm' }).args.account, 'xm');
  assert.equal(f.violationArgs({ group: '#g', severity: 'malicious', rule: 'r' }).error, 'form.need_severity');
  assert.deepEqual(f.closeArgs('#g', 'gambling'), { args: { group: '#g', reason: 'gambling' } });
  assert.equal(f.closeArgs('', 'x').error, 'form.need_group');
  assert.equal(f.groupRef(' 10001 '), '10001');
  assert.equal(f.groupRef('#群一'), '#群一');
  assert.equal(f.groupRef('群一'), '#群一');
  assert.equal(f.groupRef('a b'), null);
  assert.equal(f.groupRef(''), null);
});

test('log.search, audit.list, reports.list', () => {
  assert.deepEqual(f.logSearchArgs({ group: '10001', account: '', from: '2026-11-01', to: '', text: '关键词', kind: '', limit: '100' }),
    { args: { group: '10001', from: '2026-11-01', text: '关键词', limit: 100 } });
  assert.equal(f.logSearchArgs({ group: '#g' }).error, 'export.bad_group');
  assert.equal(f.logSearchArgs({ limit: '1001' }).error, 'form.bad_limit');
  assert.deepEqual(f.auditListArgs({ actor: 'console:alice', kind: 'audit.*', before_seq: '900' }),
    { args: { actor: 'console:alice', kind: 'audit.*', before_seq: 900 } });
  assert.equal(f.auditListArgs({ limit: '0' }).error, 'form.bad_limit');
  assert.deepEqual(f.reportListArgs(''), { args: {} });
  assert.deepEqual(f.reportListArgs('failed'), { args: { status: 'failed' } });
  assert.equal(f.reportListArgs('lost').error, 'form.bad_state');
});
