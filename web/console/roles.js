// roles.js - which console roles may run which control command.
//
// A mirror of the roles given at every ctl_register call (src/ctl/*.c), used
// only to show or hide buttons: the server stays the judge and answers 403
// "forbidden" whatever this table says (the pages show that answer).
// "status", "log.search", "log.sync", "audit.list" and "log.export" are in
// src/ctl/ctl_logquery.c.

const A = 'administrator';
const M = 'moderator';
const U = 'auditor';

const ALL = [A, M, U];
const MOD = [A, M];

export const COMMAND_ROLES = Object.freeze({
  'status': ALL,
  'whoami': ALL,
  'help': ALL,
  'accounts.list': MOD,
  'accounts.show': MOD,
  'accounts.suspend': MOD,
  'accounts.unsuspend': MOD,
  'identity.queue': MOD,
  'identity.approve': MOD,
  'identity.reject': MOD,
  'identity.reveal': [U],
  'groups.list': MOD,
  'groups.show': MOD,
  'credit.show': MOD,
  'credit.ledger': MOD,
  'credit.adjust': [A],
  'appeals.list': MOD,
  'appeals.decide': MOD,
  'complaints.list': ALL,
  'complaints.show': ALL,
  'complaints.decide': MOD,
  'complaints.stats': ALL,
  'complaints.flagged': ALL,
  'sanctions.list': ALL,
  'sanctions.state': ALL,
  'sanctions.violation': MOD,
  'sanctions.person': MOD,
  'sanctions.close': MOD,
  'sanctions.lift': MOD,
  'sanctions.appeals': MOD,
  'sanctions.appeal.decide': MOD,
  'blacklist.list': ALL,
  'blacklist.add': MOD,
  'blacklist.remove': MOD,
  'emergency.status': ALL,
  'emergency.on': MOD,
  'emergency.off': MOD,
  'reports.list': ALL,
  'reports.show': ALL,
  'reports.retry': MOD,
  'reports.ack': MOD,
  'reports.create': MOD,
  'hold.add': [U, A],
  'hold.list': [U, A],
  'hold.release': [U, A],
  'log.access': ALL,
  'log.search': ALL,
  'log.sync': ALL, // for scripts reading the log file (qunctl log sync); no page uses it
  'audit.list': [U, A],
  'operators.create': [A],
  'operators.list': [A],
  'operators.disable': [A],
  'operators.passwd': [A],
  'log.export': [U],
  // not a control command: GET /api/export, which runs log.export
  'export': [U],
});

export const ROLES = Object.freeze([A, M, U]);

// True when role may run cmd as far as the console knows. Unknown commands
// are shown to nobody.
export function can(role, cmd) {
  const roles = COMMAND_ROLES[cmd];
  return Array.isArray(roles) && roles.includes(role);
}

// The pages a role sees in the navigation (each needs its first command).
export const PAGES = Object.freeze([
  { route: 'dashboard', needs: 'status' },
  { route: 'identity', needs: 'identity.queue' },
  { route: 'complaints', needs: 'complaints.list' },
  { route: 'appeals', needs: 'appeals.list' },
  { route: 'user', needs: 'sanctions.list' },
  { route: 'group', needs: 'sanctions.state' },
  { route: 'log', needs: 'log.search' },
  { route: 'reports', needs: 'reports.list' },
  { route: 'audit', needs: 'audit.list' },
]);

export function pagesFor(role) {
  return PAGES.filter((p) => can(role, p.needs)).map((p) => p.route);
}
