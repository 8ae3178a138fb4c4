// app.js - the chat page's entry point: builds the client and the UI
// modules and switches between the sign-in view and the chat view.
//
// What it owns: the `app` object the UI modules share (room: the open
// group; openRoom, openPanel, notify... filled in by the modules), the
// header (connection state, account, language switch, panel buttons) and
// the view switch: the chat view shows once the connection is registered
// AND logged in to an account; a lost connection goes back to sign-in.
//
// Invariants: no module talks to the WebSocket except through IrcClient;
// the page loads nothing from other origins.
//
// Threads: browser main thread.

import { IrcClient } from './client.js';
import { lang, onLangChange, setLang, startLang, t } from './i18n.js';
import { initAuth } from './ui-auth.js';
import { $ } from './ui-dom.js';
import { initGroups } from './ui-groups.js';
import { initReport } from './ui-report.js';
import { initRoom } from './ui-room.js';
import { initServices } from './ui-services.js';

const client = new IrcClient();
const app = { room: null, wantRoom: null, chatShown: false, afterVerify: false };
globalThis.qunChat = { client, app }; // for debugging and browser tests

startLang();
const langSelect = $('lang-select');
langSelect.value = lang();
langSelect.addEventListener('change', () => setLang(langSelect.value));

const services = initServices(client, app);
const auth = initAuth(client, app);
app.groups = initGroups(client, app);
const report = initReport(client, app);
initRoom(client, app, report);

function renderHeader() {
  const st = client.state;
  $('conn-status').textContent = t(`status.${st}`);
  $('conn-status').dataset.state = st;
  $('account-display').textContent = client.account ? t('account.as', { account: client.account }) : t('account.none');
  for (const id of ['open-account', 'open-credit', 'logout']) $(id).hidden = !app.chatShown;
}

function showChat() {
  if (app.chatShown) return;
  app.chatShown = true;
  $('auth-view').hidden = true;
  $('chat-view').hidden = false;
  renderHeader();
  if (app.afterVerify) app.openPanel('account'); // next steps: real name, convention
  else $('list-filter').focus();
}

function showAuth() {
  app.chatShown = false;
  app.afterVerify = false;
  app.room = null;
  app.closePanels();
  $('chat-view').hidden = true;
  $('auth-view').hidden = false;
  app.closeRoom();
  app.groups.reset();
  renderHeader();
}

function maybeChat() {
  if (client.state === 'registered' && client.account) showChat();
  renderHeader();
}

client.addEventListener('status', ({ detail: d }) => {
  if (d.state === 'offline' && app.chatShown) {
    showAuth();
    $('login-status').textContent = t('status.lost') + (d.reason ? ` ${d.reason}` : '');
  }
  if (d.state === 'connecting') services.reset();
  maybeChat();
});
client.addEventListener('registered', maybeChat);
client.addEventListener('account', maybeChat);

$('open-account').addEventListener('click', () => app.openPanel('account'));
$('open-credit').addEventListener('click', () => app.openPanel('credit'));
$('logout').addEventListener('click', () => {
  client.close();
  auth.reset();
  showAuth();
});

onLangChange(renderHeader);
renderHeader();
