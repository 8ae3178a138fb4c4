// i18n.js - every string of the chat page, in Chinese and English.
//
// What it owns: the dictionary (STRINGS.zh, STRINGS.en: the same keys), the
// current language (from localStorage, else navigator.language: zh* is
// Chinese, anything else English), t(key, vars) with {name} placeholders,
// and applyI18n(root), which fills elements marked data-i18n (text),
// data-i18n-placeholder, data-i18n-aria-label and data-i18n-title.
//
// Invariants: a missing key in the current language falls back to English,
// then to the key itself, so a gap shows as a readable key, never as
// "undefined"; the dictionary test (tests/web/test_i18n.mjs) checks that
// both languages have the same keys and that every key the HTML uses exists.
// Importing the module touches no DOM (it runs under node --test).
//
// Threads: browser main thread.

export const STRINGS = {
  en: {
    'app.title': 'Qun chat',
    'app.skip': 'Skip to the messages',
    'lang.label': 'Language',
    'status.offline': 'Not connected',
    'status.connecting': 'Connecting…',
    'status.negotiating': 'Connecting…',
    'status.registered': 'Connected',
    'status.lost': 'The connection was closed.',
    'account.none': 'Not logged in',
    'account.as': 'Logged in as {account}',
    'nav.account': 'Account and real name',
    'nav.credit': 'My credit',
    'nav.logout': 'Log out',
    'nav.close': 'Close',

    'login.title': 'Log in',
    'login.account': 'Account name',
    'login.password': 'Password',
    'login.submit': 'Log in',
    'login.working': 'Logging in…',
    'login.failed': 'Log-in failed: wrong account name or password, or too many attempts.',
    'login.nosasl': 'The server does not offer SASL log-in.',

    'register.title': 'Create an account',
    'register.account': 'Account name',
    'register.password': 'Password',
    'register.phone': 'Mobile phone number',
    'register.phone.hint': 'E.g. +8613800138000. A 6-digit code is sent to it; the number is stored encrypted and never shown to others.',
    'register.submit': 'Create account',
    'register.working': 'Creating the account…',
    'register.done': 'Account {account} created. You are logged in.',
    'register.code_sent': 'Account {account} created. Enter the 6-digit code sent to your phone.',
    'verify.title': 'Confirm your phone number',
    'verify.code': '6-digit code',
    'verify.submit': 'Confirm',
    'verify.done': 'Phone number confirmed: identity level 1.',

    'identity.title': 'Real-name verification',
    'identity.intro': 'Posting in groups needs a confirmed phone number; creating groups needs real-name verification. Only the nickname is shown to others.',
    'identity.type': 'Document type',
    'identity.number': 'Document number',
    'identity.name': 'Real name',
    'identity.submit': 'Submit',
    'identity.status': 'What is still missing?',
    'doc.cn-id': 'Resident identity card',
    'doc.passport-cn': 'Chinese passport',
    'doc.passport': 'Foreign passport',
    'doc.hkmo-permit': 'Exit-entry permit for Hong Kong and Macao',
    'doc.hkmo-home-return': 'Home return permit (Hong Kong and Macao residents)',
    'doc.tw-compatriot': 'Mainland travel permit for Taiwan residents',
    'doc.tw-permit': 'Travel permit to and from Taiwan',
    'doc.foreign-pr': 'Foreign permanent resident ID card',
    'convention.title': 'Platform convention',
    'convention.show': 'Show the convention',
    'convention.accept': 'I accept version {version}',
    'nickserv.log': 'Answers from NickServ',

    'groups.mine': 'My groups',
    'groups.none': 'You have not joined a group yet.',
    'groups.find': 'Find groups',
    'groups.filter': 'Name or filter (e.g. *friends*, >10)',
    'groups.search': 'Search',
    'groups.results': '{count} groups found',
    'groups.noresults': 'No group matches.',
    'groups.join': 'Join',
    'groups.joined': 'Joined',
    'groups.members': '{count} members',
    'groups.byname': 'Join or create by name',
    'groups.name': 'Group name, e.g. #friends',
    'groups.part': 'Leave group',
    'groups.kicked': 'You were removed from {channel}: {reason}',

    'room.none': 'Choose a group on the left, or find one to join.',
    'room.topic.none': 'No topic',
    'room.older': 'Load older messages',
    'room.older.loading': 'Loading…',
    'room.older.none': 'No older messages.',
    'room.messages': 'Messages in {channel}',
    'room.input': 'Message',
    'room.input.placeholder': 'Write a message to {channel}',
    'room.send': 'Send',
    'room.members': 'Members',
    'role.~': 'owner',
    'role.@': 'manager',
    'role.+': 'voiced',

    'msg.menu': 'Actions for this message',
    'msg.report': 'Report this message',
    'msg.self': 'you',
    'event.JOIN': '{nick} joined',
    'event.PART': '{nick} left',
    'event.QUIT': '{nick} quit',
    'event.KICK': '{nick} removed {target}',
    'event.TOPIC': '{nick} set the topic: {text}',
    'event.MODE': '{nick} set mode {text}',

    'services.title': 'Service messages',
    'services.empty': 'Notices from NickServ, ChanServ, CreditServ and ReportServ appear here.',

    'report.title': 'Report a message',
    'report.category': 'Category',
    'report.text': 'What is wrong with it?',
    'report.submit': 'Send the report',
    'report.cancel': 'Cancel',
    'report.filed': 'Complaint {id} filed. You will be told the outcome.',
    'report.quoted': 'Message from {nick}: {text}',
    'cat.illegal': 'Illegal content',
    'cat.pornography': 'Pornography',
    'cat.fraud': 'Fraud',
    'cat.spam': 'Spam',
    'cat.harassment': 'Harassment',
    'cat.rumor': 'Rumour',
    'cat.other': 'Other',

    'credit.title': 'My credit',
    'credit.refresh': 'Refresh',
    'credit.appeals': 'My appeals',
    'credit.appeal': 'Appeal',
    'credit.appeal.text': 'Why should event {id} be reversed?',
    'credit.appeal.submit': 'Send the appeal',
    'credit.empty': 'Loading your score and ledger…',

    'cmd.help': 'Commands: /join #group, /part, /msg nick text, /me action, /quote raw line',

    'err.generic': 'The server refused: {text}',
    'err.badinput': 'That cannot be sent: {text}',
    'code.ACCOUNT_EXISTS': 'That account name is taken.',
    'code.BAD_ACCOUNT_NAME': 'That account name is not allowed.',
    'code.WEAK_PASSWORD': 'The password is too weak.',
    'code.INVALID_EMAIL': 'The phone number is missing or not valid.',
    'code.ALREADY_AUTHENTICATED': 'You are already logged in.',
    'code.COMPLETE_CONNECTION_REQUIRED': 'Still connecting; try again in a moment.',
    'code.NEED_NICK': 'Choose a nickname first.',
    'code.TEMPORARILY_UNAVAILABLE': 'Temporarily unavailable; try again later.',
    'code.INVALID_CODE': 'Wrong code.',
    'code.CODE_EXPIRED': 'The code has expired.',
    'code.CODE_LOCKED': 'Too many wrong codes.',
    'code.NO_CODE': 'No code is waiting for this account.',
    'code.INVALID_ACCOUNT': 'That is not the account registered here.',
    'code.ACCOUNT_REQUIRED': 'Log in first.',
    'code.VERIFICATION_REQUIRED': 'Posting needs a confirmed phone number.',
    'code.CONVENTION_REQUIRED': 'Accept the platform convention first (Account panel).',
    'code.ACCOUNT_SUSPENDED': 'Your account is suspended.',
    'code.CANNOT_CREATE': 'You may not create this group.',
    'code.GROUP_FULL': 'The group is full.',
    'code.TOO_MANY_GROUPS': 'You have joined as many groups as your credit level allows.',
    'code.APPROVAL_REQUIRED': 'This group needs a manager’s approval; your request was sent.',
    'code.ROLE_REFUSED': 'That role change is not allowed.',
    'code.CREDIT_LEVEL': 'Your credit level does not allow posting.',
    'code.CREDIT_RATE': 'You are sending too fast for your credit level.',
    'code.INVALID_CATEGORY': 'Unknown category.',
    'code.INVALID_TEXT': 'The text is empty or too long.',
    'code.UNKNOWN_TARGET': 'That message is not known.',
    'code.NOT_MEMBER': 'You are not a member of that group.',
    'code.SELF': 'You cannot report yourself.',
    'code.DUPLICATE': 'You already reported this, and it is still open.',
    'code.RATE_LIMITED': 'Too many reports in the last hour.',
    'code.NEED_MORE_PARAMS': 'Something is missing.',
    'code.INVALID_PARAMS': 'Not valid.',
    'code.INVALID_TARGET': 'Messages could not be retrieved.',
    'code.MESSAGE_ERROR': 'History cannot be read right now.',
    'code.GROUP_CREATED': 'Group created.',
    'code.GROUP_INFO': 'Group information.',
  },
  zh: {
    'app.title': '群聊',
    'app.skip': '跳到消息',
    'lang.label': '语言',
    'status.offline': '未连接',
    'status.connecting': '正在连接…',
    'status.negotiating': '正在连接…',
    'status.registered': '已连接',
    'status.lost': '连接已断开。',
    'account.none': '未登录',
    'account.as': '已登录：{account}',
    'nav.account': '账号与实名',
    'nav.credit': '我的信用',
    'nav.logout': '退出登录',
    'nav.close': '关闭',

    'login.title': '登录',
    'login.account': '账号',
    'login.password': '密码',
    'login.submit': '登录',
    'login.working': '正在登录…',
    'login.failed': '登录失败：账号或密码错误，或尝试次数过多。',
    'login.nosasl': '服务器未提供 SASL 登录。',

    'register.title': '注册账号',
    'register.account': '账号',
    'register.password': '密码',
    'register.phone': '手机号码',
    'register.phone.hint': '例如 +8613800138000。验证码（6 位）将发送到此号码；号码加密保存，不会向他人显示。',
    'register.submit': '注册',
    'register.working': '正在注册…',
    'register.done': '账号 {account} 已注册，您已登录。',
    'register.code_sent': '账号 {account} 已注册。请输入手机收到的 6 位验证码。',
    'verify.title': '验证手机号码',
    'verify.code': '6 位验证码',
    'verify.submit': '验证',
    'verify.done': '手机号码已验证：身份等级 1。',

    'identity.title': '实名认证',
    'identity.intro': '在群内发言需要验证手机号码；建群需要实名认证。他人只能看到您的昵称。',
    'identity.type': '证件类型',
    'identity.number': '证件号码',
    'identity.name': '真实姓名',
    'identity.submit': '提交',
    'identity.status': '还缺少什么？',
    'doc.cn-id': '居民身份证',
    'doc.passport-cn': '中国护照',
    'doc.passport': '外国护照',
    'doc.hkmo-permit': '往来港澳通行证',
    'doc.hkmo-home-return': '港澳居民来往内地通行证',
    'doc.tw-compatriot': '台湾居民来往大陆通行证',
    'doc.tw-permit': '大陆居民往来台湾通行证',
    'doc.foreign-pr': '外国人永久居留身份证',
    'convention.title': '平台公约',
    'convention.show': '查看公约',
    'convention.accept': '我接受第 {version} 版',
    'nickserv.log': 'NickServ 的回复',

    'groups.mine': '我的群',
    'groups.none': '您还没有加入任何群。',
    'groups.find': '查找群',
    'groups.filter': '群名或筛选条件（如 *friends*、>10）',
    'groups.search': '搜索',
    'groups.results': '找到 {count} 个群',
    'groups.noresults': '没有符合条件的群。',
    'groups.join': '加入',
    'groups.joined': '已加入',
    'groups.members': '{count} 名成员',
    'groups.byname': '按名称加入或创建',
    'groups.name': '群名，例如 #朋友',
    'groups.part': '退出群',
    'groups.kicked': '您已被移出 {channel}：{reason}',

    'room.none': '请在左侧选择一个群，或查找并加入一个群。',
    'room.topic.none': '无主题',
    'room.older': '加载更早的消息',
    'room.older.loading': '正在加载…',
    'room.older.none': '没有更早的消息了。',
    'room.messages': '{channel} 的消息',
    'room.input': '消息',
    'room.input.placeholder': '发送消息到 {channel}',
    'room.send': '发送',
    'room.members': '成员',
    'role.~': '群主',
    'role.@': '管理员',
    'role.+': '发言人',

    'msg.menu': '消息操作',
    'msg.report': '举报此消息',
    'msg.self': '我',
    'event.JOIN': '{nick} 加入了群',
    'event.PART': '{nick} 退出了群',
    'event.QUIT': '{nick} 已下线',
    'event.KICK': '{nick} 将 {target} 移出了群',
    'event.TOPIC': '{nick} 将主题设为：{text}',
    'event.MODE': '{nick} 设置了模式 {text}',

    'services.title': '服务消息',
    'services.empty': 'NickServ、ChanServ、CreditServ 和 ReportServ 的通知显示在这里。',

    'report.title': '举报消息',
    'report.category': '类别',
    'report.text': '这条消息有什么问题？',
    'report.submit': '提交举报',
    'report.cancel': '取消',
    'report.filed': '投诉 {id} 已提交，处理结果将通知您。',
    'report.quoted': '{nick} 的消息：{text}',
    'cat.illegal': '违法内容',
    'cat.pornography': '色情',
    'cat.fraud': '诈骗',
    'cat.spam': '垃圾信息',
    'cat.harassment': '骚扰',
    'cat.rumor': '谣言',
    'cat.other': '其他',

    'credit.title': '我的信用',
    'credit.refresh': '刷新',
    'credit.appeals': '我的申诉',
    'credit.appeal': '申诉',
    'credit.appeal.text': '为什么应撤销记录 {id}？',
    'credit.appeal.submit': '提交申诉',
    'credit.empty': '正在读取信用分和记录…',

    'cmd.help': '命令：/join #群名、/part、/msg 昵称 内容、/me 动作、/quote 原始命令',

    'err.generic': '服务器拒绝：{text}',
    'err.badinput': '无法发送：{text}',
    'code.ACCOUNT_EXISTS': '该账号名已被使用。',
    'code.BAD_ACCOUNT_NAME': '该账号名不允许使用。',
    'code.WEAK_PASSWORD': '密码太弱。',
    'code.INVALID_EMAIL': '手机号码缺失或无效。',
    'code.ALREADY_AUTHENTICATED': '您已登录。',
    'code.COMPLETE_CONNECTION_REQUIRED': '仍在连接中，请稍后再试。',
    'code.NEED_NICK': '请先选择昵称。',
    'code.TEMPORARILY_UNAVAILABLE': '暂时不可用，请稍后再试。',
    'code.INVALID_CODE': '验证码错误。',
    'code.CODE_EXPIRED': '验证码已过期。',
    'code.CODE_LOCKED': '验证码错误次数过多。',
    'code.NO_CODE': '此账号没有待验证的验证码。',
    'code.INVALID_ACCOUNT': '这不是在此连接上注册的账号。',
    'code.ACCOUNT_REQUIRED': '请先登录。',
    'code.VERIFICATION_REQUIRED': '发言需要先验证手机号码。',
    'code.CONVENTION_REQUIRED': '请先接受平台公约（在“账号与实名”中）。',
    'code.ACCOUNT_SUSPENDED': '您的账号已被暂停。',
    'code.CANNOT_CREATE': '您不能创建此群。',
    'code.GROUP_FULL': '群成员已满。',
    'code.TOO_MANY_GROUPS': '您加入的群数已达信用等级上限。',
    'code.APPROVAL_REQUIRED': '此群需要管理员审批，已发送您的申请。',
    'code.ROLE_REFUSED': '不允许此角色变更。',
    'code.CREDIT_LEVEL': '您的信用等级不允许发言。',
    'code.CREDIT_RATE': '发送过快，超出您的信用等级限制。',
    'code.INVALID_CATEGORY': '未知类别。',
    'code.INVALID_TEXT': '内容为空或过长。',
    'code.UNKNOWN_TARGET': '找不到该消息。',
    'code.NOT_MEMBER': '您不是该群成员。',
    'code.SELF': '不能举报自己。',
    'code.DUPLICATE': '您已举报过，且仍在处理中。',
    'code.RATE_LIMITED': '一小时内举报次数过多。',
    'code.NEED_MORE_PARAMS': '缺少内容。',
    'code.INVALID_PARAMS': '参数无效。',
    'code.INVALID_TARGET': '无法获取消息。',
    'code.MESSAGE_ERROR': '暂时无法读取历史消息。',
    'code.GROUP_CREATED': '群已创建。',
    'code.GROUP_INFO': '群信息。',
  },
};

export const LANGS = ['zh', 'en'];
let current = 'en';
const listeners = new Set();

/** The language to start with: a stored choice, else the browser's. */
export function initialLang(stored, navigatorLanguage) {
  if (stored && LANGS.includes(stored)) return stored;
  return /^zh\b/i.test(navigatorLanguage || '') ? 'zh' : 'en';
}

export function lang() {
  return current;
}

export function has(key) {
  return key in STRINGS.en;
}

export function t(key, vars = {}) {
  const s = STRINGS[current][key] ?? STRINGS.en[key] ?? key;
  return s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
}

export function setLang(l) {
  if (!LANGS.includes(l)) return;
  current = l;
  try {
    globalThis.localStorage?.setItem('qun.lang', l);
  } catch {
    /* private mode */
  }
  if (typeof document !== 'undefined') {
    document.documentElement.lang = l === 'zh' ? 'zh-CN' : 'en';
    applyI18n(document);
  }
  for (const f of listeners) f(l);
}

export function onLangChange(f) {
  listeners.add(f);
}

export function applyI18n(root) {
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-placeholder]')) el.placeholder = t(el.dataset.i18nPlaceholder);
  for (const el of root.querySelectorAll('[data-i18n-aria-label]')) el.setAttribute('aria-label', t(el.dataset.i18nAriaLabel));
  for (const el of root.querySelectorAll('[data-i18n-title]')) el.title = t(el.dataset.i18nTitle);
}

/** The page's start: the stored or browser language. */
export function startLang() {
  let stored = null;
  try {
    stored = globalThis.localStorage?.getItem('qun.lang');
  } catch {
    /* private mode */
  }
  setLang(initialLang(stored, globalThis.navigator?.language));
}
