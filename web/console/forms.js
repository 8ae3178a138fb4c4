// forms.js - from the fields an operator typed to a control command's args.
//
// Pure functions (tests/web/test_console_forms.mjs): each takes an object of
// field values (strings, as read from inputs) and returns { args } ready for
// POST /api/ctl/<command>, or { error: <dictionary key> } for a mistake the
// page can name before asking the server. They check only what the handler
// in src/ctl/*.c would refuse anyway (same argument names, same limits), so
// the server's answer stays the final word.

export const SEVERITIES = Object.freeze(['minor', 'general', 'serious', 'severe']);
export const COMPLAINT_DECISIONS = Object.freeze(['dismiss', 'malicious', 'uphold', 'escalate']);
export const COMPLAINT_STATES = Object.freeze(['open', 'dismissed', 'malicious', 'upheld']);
export const COMPLAINT_STAGES = Object.freeze(['group', 'platform']);
export const APPEAL_STATES = Object.freeze(['open', 'upheld', 'rejected', 'all']);
export const REPORT_STATUSES = Object.freeze(['pending', 'delivered', 'failed', 'acknowledged']);
export const PERSON_KINDS = Object.freeze(['manage-suspended', 'manage-revoked', 'create-revoked', 'post-suspended']);
export const TEXT_MAX = 400; // bytes of a sanction reason or rule (ctl_sanction.c)

function str(v) {
  return typeof v === 'string' ? v.trim() : v == null ? '' : String(v).trim();
}

export function utf8Length(s) {
  return new TextEncoder().encode(s).length;
}

function oneLine(s, max) {
  return s !== '' && !/[\r\n]/.test(s) && utf8Length(s) <= max;
}

// A positive whole number from a field, or null.
export function positiveInt(v) {
  const s = str(v);
  if (!/^[0-9]{1,15}$/.test(s)) return null;
  const n = Number(s);
  return n > 0 ? n : null;
}

function wholeInt(v) {
  const s = str(v);
  if (!/^-?[0-9]{1,15}$/.test(s)) return null;
  return Number(s);
}

// identity.approve {"request"} / identity.reject {"request","reason"}
export function identityDecisionArgs(request, approve, reason) {
  const id = positiveInt(request);
  if (id === null) return { error: 'form.bad_id' };
  if (approve) return { args: { request: id } };
  const r = str(reason);
  if (r === '') return { error: 'form.need_reason' };
  return { args: { request: id, reason: r } };
}

// complaints.list {"state","stage","limit"} (empty filters left out)
export function complaintListArgs(f) {
  const args = {};
  const state = str(f.state), stage = str(f.stage);
  if (state) {
    if (!COMPLAINT_STATES.includes(state)) return { error: 'form.bad_state' };
    args.state = state;
  }
  if (stage) {
    if (!COMPLAINT_STAGES.includes(stage)) return { error: 'form.bad_stage' };
    args.stage = stage;
  }
  if (str(f.group)) args.group = str(f.group);
  if (str(f.reporter)) args.reporter = str(f.reporter);
  if (str(f.limit)) {
    const n = positiveInt(f.limit);
    if (n === null || n > 500) return { error: 'form.bad_limit' };
    args.limit = n;
  }
  return { args };
}

// complaints.decide {"id","decision","severity","rule","note"}; uphold
// needs a severity and (in the console) the rule broken.
export function complaintDecideArgs(f) {
  const id = positiveInt(f.id);
  if (id === null) return { error: 'form.bad_id' };
  const decision = str(f.decision);
  if (!COMPLAINT_DECISIONS.includes(decision)) return { error: 'form.need_decision' };
  const args = { id, decision };
  const severity = str(f.severity), rule = str(f.rule), note = str(f.note);
  if (decision === 'uphold') {
    if (!SEVERITIES.includes(severity)) return { error: 'form.need_severity' };
    if (rule === '') return { error: 'form.need_rule' };
    args.severity = severity;
    args.rule = rule;
  }
  if (note !== '') args.note = note;
  return { args };
}

// appeals.list {"state","name"}
export function appealListArgs(f) {
  const state = str(f.state) || 'open';
  if (!APPEAL_STATES.includes(state)) return { error: 'form.bad_state' };
  const args = { state };
  if (str(f.name)) args.name = str(f.name);
  return { args };
}

// appeals.decide {"id","decision","note"} (a note is required)
export function appealDecideArgs(id, decision, note) {
  const n = positiveInt(id);
  if (n === null) return { error: 'form.bad_id' };
  if (decision !== 'uphold' && decision !== 'reject') return { error: 'form.need_decision' };
  const t = str(note);
  if (t === '') return { error: 'form.need_note' };
  return { args: { id: n, decision, note: t } };
}

// sanctions.appeals {"state","account"}: the same states as credit appeals
export function sanctionAppealListArgs(f) {
  const state = str(f.state) || 'open';
  if (!APPEAL_STATES.includes(state)) return { error: 'form.bad_state' };
  const args = { state };
  if (str(f.name)) args.account = str(f.name);
  return { args };
}

// sanctions.appeal.decide {"id","decision":"upheld"|"rejected","note"}
// (the console asks for a note, as for credit appeals: the filer reads it)
export function sanctionAppealDecideArgs(id, decision, note) {
  const n = positiveInt(id);
  if (n === null) return { error: 'form.bad_id' };
  if (decision !== 'upheld' && decision !== 'rejected') return { error: 'form.need_decision' };
  const t = str(note);
  if (t === '') return { error: 'form.need_note' };
  return { args: { id: n, decision, note: t } };
}

// accounts.suspend {"name","reason"}
export function suspendArgs(name, reason) {
  const n = str(name), r = str(reason);
  if (n === '') return { error: 'form.need_name' };
  if (r === '') return { error: 'form.need_reason' };
  return { args: { name: n, reason: r } };
}

// credit.adjust {"name","delta","reason","evidence"}
export function creditAdjustArgs(f) {
  const name = str(f.name);
  if (name === '') return { error: 'form.need_name' };
  const delta = wholeInt(f.delta);
  if (delta === null || delta < -1000 || delta > 1000 || delta === 0) return { error: 'form.bad_delta' };
  const reason = str(f.reason);
  if (reason === '' || utf8Length(reason) > 200) return { error: 'form.need_reason200' };
  if (reason === 'recovery' || reason === 'appeal-upheld') return { error: 'form.reserved_reason' };
  const args = { name, delta, reason };
  const evidence = str(f.evidence);
  if (evidence !== '') {
    if (utf8Length(evidence) > 200) return { error: 'form.evidence_long' };
    args.evidence = evidence;
  }
  return { args };
}

// sanctions.person {"name","kind","reason","days"}
export function personSanctionArgs(f) {
  const name = str(f.name);
  if (name === '') return { error: 'form.need_name' };
  const kind = str(f.kind);
  if (!PERSON_KINDS.includes(kind)) return { error: 'form.need_kind' };
  const reason = str(f.reason);
  if (!oneLine(reason, TEXT_MAX)) return { error: 'form.need_reason_line' };
  const args = { name, kind, reason };
  if (str(f.days) !== '') {
    const d = positiveInt(f.days);
    if (d === null || d > 3650) return { error: 'form.bad_days' };
    args.days = d;
  }
  return { args };
}

// blacklist.add {"kind":"identity"|"group","value","reason"}
export function blacklistArgs(kind, value, reason) {
  if (kind !== 'identity' && kind !== 'group') return { error: 'form.need_kind' };
  const v = str(value);
  if (v === '') return { error: kind === 'group' ? 'form.need_group' : 'form.need_name' };
  const r = str(reason);
  if (!oneLine(r, TEXT_MAX)) return { error: 'form.need_reason_line' };
  return { args: { kind, value: v, reason: r } };
}

// sanctions.violation {"group","severity","rule","account"}
export function violationArgs(f) {
  const group = str(f.group);
  if (group === '') return { error: 'form.need_group' };
  const severity = str(f.severity);
  if (!SEVERITIES.includes(severity)) return { error: 'form.need_severity' };
  const rule = str(f.rule);
  if (!oneLine(rule, TEXT_MAX)) return { error: 'form.need_rule' };
  const args = { group, severity, rule };
  if (str(f.account) !== '') args.account = str(f.account);
  return { args };
}

// sanctions.close {"group","reason"}
export function closeArgs(group, reason) {
  const g = str(group);
  if (g === '') return { error: 'form.need_group' };
  const r = str(reason);
  if (!oneLine(r, TEXT_MAX)) return { error: 'form.need_reason_line' };
  return { args: { group: g, reason: r } };
}

// A group as the sanctions and groups commands take it: "#name" or a code.
export function groupRef(v) {
  const s = str(v);
  if (/^#\S+$/.test(s) || /^[0-9]{1,18}$/.test(s)) return s;
  if (s !== '' && !/\s/.test(s)) return `#${s}`;
  return null;
}

// log.search (contract in README.md)
export function logSearchArgs(f) {
  const args = {};
  if (str(f.group)) {
    if (!/^[0-9]{1,18}$/.test(str(f.group))) return { error: 'export.bad_group' };
    args.group = str(f.group);
  }
  for (const k of ['account', 'from', 'to', 'text', 'kind']) if (str(f[k])) args[k] = str(f[k]);
  if (str(f.limit)) {
    const n = positiveInt(f.limit);
    if (n === null || n > 1000) return { error: 'form.bad_limit' };
    args.limit = n;
  }
  if (str(f.after_seq)) {
    const n = positiveInt(f.after_seq);
    if (n === null) return { error: 'form.bad_id' };
    args.after_seq = n;
  }
  return { args };
}

// audit.list (contract in README.md)
export function auditListArgs(f) {
  const args = {};
  for (const k of ['actor', 'kind', 'from', 'to']) if (str(f[k])) args[k] = str(f[k]);
  if (str(f.limit)) {
    const n = positiveInt(f.limit);
    if (n === null || n > 500) return { error: 'form.bad_limit' };
    args.limit = n;
  }
  if (str(f.before_seq)) {
    const n = positiveInt(f.before_seq);
    if (n === null) return { error: 'form.bad_id' };
    args.before_seq = n;
  }
  return { args };
}

// reports.list {"status"}
export function reportListArgs(status) {
  const s = str(status);
  if (s === '') return { args: {} };
  if (!REPORT_STATUSES.includes(s)) return { error: 'form.bad_state' };
  return { args: { status: s } };
}
