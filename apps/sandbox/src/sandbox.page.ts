/** The page's icon (served at /favicon.svg, and at /favicon.ico for browsers that ask there anyway). */
export const SANDBOX_FAVICON_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><circle cx="5" cy="8" r="4" fill="#146c2e"/>' +
  '<circle cx="11" cy="8" r="4" fill="#1f5fa8"/></svg>';

/** JSON inside a <script>: `<` is escaped so no value (a status name, a rule error) can close the script element. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value ?? null).replace(/</g, '\\u003c');
}

/**
 * The agents page: one document with inline CSS and JS (no framework, no build step), rendered per request.
 * `snapshot` is what `/api/events` would send first (rows, the daemon's status, URLs): the first render shows it
 * at once, before the live updates (SSE) connect; the controls post to `/api/...`.
 * `salesforceStatuses` are the DeveloperNames the console select offers (the emulator's catalog and Offline).
 */
export function sandboxPage(salesforceStatuses: readonly string[], snapshot?: unknown): string {
  const statuses = scriptJson(salesforceStatuses);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>presence-sync sandbox: agents</title>
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 1rem 2rem; color: #1b1b1b; }
  h1 { font-size: 1.4rem; margin: 0 0 .5rem; }
  table { border-collapse: collapse; width: 100%; }
  th, td { border-bottom: 1px solid #ddd; padding: .35rem .5rem; text-align: left; vertical-align: top; }
  th { background: #f3f3f3; }
  /* Only the column headers stay in view; the row headers (agent ids) scroll with their rows. */
  thead th { position: sticky; top: 0; z-index: 2; box-shadow: 0 1px 0 #ccc; }
  tbody th { background: #fafafa; font-weight: normal; }
  tbody th strong { font-weight: 600; }
  tr.console-closed td.sf { background: #f1f1f1; color: #555; }
  .notice { display: inline-block; margin-top: .25rem; padding: .15rem .4rem; border-radius: 3px; background: #fff0c2; color: #5c4400; font-size: 12px; }
  .panels { display: flex; flex-wrap: wrap; gap: 0 3rem; }
  .panels h2 { margin: .6rem 0 .3rem; }
  #sync dl { display: grid; grid-template-columns: max-content 1fr; gap: .1rem .75rem; margin: .25rem 0; }
  #sync dt { color: #444; }
  #sync dd { margin: 0; font-variant-numeric: tabular-nums; }
  tr.flash { animation: flash 1s ease-out; }
  @keyframes flash { from { background: #fff3b0; } to { background: transparent; } }
  .muted { color: #666; font-size: 12px; }
  .err { color: #a40000; }
  .ok { color: #146c2e; }
  fieldset { display: inline-block; margin: 0 1rem .5rem 0; border: 1px solid #ccc; }
  button, select, input { font: inherit; }
  #message { min-height: 1.4em; }
  .sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
</style>
</head>
<body>
<h1>presence-sync sandbox</h1>
<p class="muted" id="links"></p>
<div class="panels">
<section aria-labelledby="rules-h"><h2 id="rules-h" style="font-size:1rem">Rules</h2><div id="rules" aria-live="polite">loading…</div></section>
<section aria-labelledby="sync-h"><h2 id="sync-h" style="font-size:1rem">Sync</h2><div id="sync">loading…</div></section>
</div>
<section aria-labelledby="faults-h">
  <h2 id="faults-h" style="font-size:1rem">Faults</h2>
  <fieldset><legend>Salesforce</legend><button type="button" id="expire">Expire the daemon's Salesforce session</button></fieldset>
  <fieldset><legend>Contact center</legend>
    <label>Next <input id="fail-count" type="number" min="1" max="100" value="3" style="width:4em"> writes answer</label>
    <label for="fail-status" class="sr-only">status</label>
    <select id="fail-status"><option>429</option><option>503</option><option>500</option><option>502</option></select>
    <label>Retry-After (s) <input id="fail-retry" type="number" min="0" max="3600" value="2" style="width:4em"></label>
    <button type="button" id="fail">Inject</button>
  </fieldset>
</section>
<p id="message" role="status" aria-live="polite"></p>
<table>
  <caption class="sr-only">Agents, their Salesforce and contact-center states, and the last sync decision</caption>
  <thead><tr><th scope="col">Agent</th><th scope="col">Salesforce console</th><th scope="col">Contact center (desktop)</th><th scope="col">Voice call</th><th scope="col">Last sync decision</th></tr></thead>
  <tbody id="rows"></tbody>
</table>
<script>
'use strict';
const SF_STATUSES = ${statuses};
const INITIAL = ${scriptJson(snapshot)};
const rows = new Map();
const tbody = document.getElementById('rows');
const msg = document.getElementById('message');

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k.startsWith('on')) e.addEventListener(k.slice(2), v); else if (v !== undefined && v !== false) e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children) e.append(c);
  return e;
}
function say(text, bad) { msg.textContent = text; msg.className = bad ? 'err' : 'ok'; }
async function post(path, body) {
  try {
    const res = await fetch(path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body || {}) });
    const answer = await res.json();
    if (!res.ok) say(answer.error || ('HTTP ' + res.status), true); else say('done: ' + path);
  } catch (e) { say(String(e), true); }
}
function acdText(acd) { return acd.state + (acd.code ? ':' + acd.code : ''); }
function decisionCell(a) {
  const d = a.lastDecision;
  const link = el('a', { href: a.auditUrl, target: '_blank', rel: 'noopener' }, 'audit');
  if (!d) return el('td', {}, el('span', { class: 'muted' }, 'none yet '), link);
  const parts = [d.outcome, d.direction];
  if (d.rule) parts.push('rule ' + d.rule + (d.row ? ' ' + d.row : ''));
  if (d.latencyMs !== undefined) parts.push(d.latencyMs + ' ms');
  return el('td', {}, el('div', { class: d.outcome === 'failed' || d.outcome === 'retrying' ? 'err' : '' }, parts.join(' · ')),
    d.detail ? el('div', { class: 'muted' }, d.detail) : '',
    d.latest ? el('div', { class: 'muted' }, 'then: ' + d.latest.outcome + (d.latest.detail ? ' (' + d.latest.detail + ')' : '')) : '', el('div', { class: 'muted' }, new Date(d.at).toLocaleTimeString() + ' '), link);
}
function render(a) {
  const id = a.agentId;
  const open = a.salesforce.consoleOpen;
  // The Omni-Channel widget lives in the console: with it closed the agent cannot pick a status or take a chat.
  const sfSel = el('select', { id: 'sf-' + id, disabled: !open, title: open ? undefined : 'open the console to pick a status', onchange: (e) => post('/api/agents/' + id + '/salesforce', { status: e.target.value }) },
    ...SF_STATUSES.map((s) => el('option', { value: s, selected: s === a.salesforce.status }, s)));
  const acdOptions = [['Available', ''], ['Offline', ''], ['Unavailable', '']].concat(a.unavailableCodes.map((c) => ['Unavailable', c]));
  const current = acdText(a.acd);
  const acdSel = el('select', { id: 'acd-' + id, onchange: (e) => { const [state, code] = e.target.value.split(':'); post('/api/agents/' + id + '/acd', code ? { state, code } : { state }); } },
    ...(['Busy', 'AfterWork'].includes(a.acd.state) ? [el('option', { value: current, selected: true, disabled: true }, current + ' (contact)')] : []),
    ...acdOptions.map(([s, c]) => { const v = s + (c ? ':' + c : ''); return el('option', { value: v, selected: v === current }, v); }));
  const tr = el('tr', { id: 'row-' + id, class: open ? undefined : 'console-closed' },
    el('th', { scope: 'row' }, el('strong', {}, id), el('div', { class: 'muted' }, a.email + ' · ' + a.team)),
    el('td', { class: 'sf' }, el('label', { for: 'sf-' + id, class: 'sr-only' }, 'Salesforce status of ' + id), sfSel, ' ',
      el('button', { type: 'button', id: 'console-' + id, onclick: () => post('/api/agents/' + id + '/console', { open: !open }) },
        open ? 'Close console' : 'Open console'),
      open ? el('div', { class: 'muted' }, 'console open')
        : el('div', { class: 'notice', id: 'console-closed-' + id }, 'console closed: the daemon\u2019s status changes wait (held) until it opens'),
      el('div', {},
        el('button', { type: 'button', id: 'chat-' + id, disabled: !open || a.salesforce.status === 'Offline', onclick: () => post('/api/agents/' + id + '/work', { action: 'assign', channel: 'sfdc_liveagent' }) }, 'Assign a chat'), ' ',
        el('button', { type: 'button', id: 'chat-close-' + id, disabled: !a.salesforce.work.chats, onclick: () => post('/api/agents/' + id + '/work', { action: 'close', channel: 'sfdc_liveagent' }) }, 'Close a chat'),
        el('div', { class: 'muted' }, 'Omni-Channel work: ' + a.salesforce.work.chats + ' chat(s), load ' + a.salesforce.work.load + '/' + a.salesforce.work.capacity))),
    el('td', {}, el('label', { for: 'acd-' + id, class: 'sr-only' }, 'Contact-center state of ' + id), acdSel,
      a.acd.pendingAfterContact ? el('div', { class: 'muted' }, 'after the contact: ' + acdText(a.acd.pendingAfterContact)) : ''),
    el('td', {},
      el('button', { type: 'button', disabled: a.acd.state === 'Busy' || a.acd.state === 'AfterWork' || a.acd.state === 'Offline', onclick: () => post('/api/agents/' + id + '/call', { action: 'start' }) }, 'Start call'), ' ',
      el('button', { type: 'button', disabled: a.acd.state !== 'Busy', onclick: () => post('/api/agents/' + id + '/call', { action: 'end' }) }, 'End call'), ' ',
      el('button', { type: 'button', disabled: a.acd.state !== 'AfterWork', onclick: () => post('/api/agents/' + id + '/call', { action: 'wrapup-end' }) }, 'End wrap-up')),
    decisionCell(a));
  const old = rows.get(id);
  const focused = document.activeElement && document.activeElement.id;
  if (old) { old.replaceWith(tr); tr.classList.add('flash'); } else tbody.append(tr);
  rows.set(id, tr);
  // Keep keyboard users where they were when a live update replaces their row.
  if (focused && tr.contains(document.getElementById(focused))) document.getElementById(focused).focus();
}
function renderStatus(s) {
  const box = document.getElementById('rules');
  if (!s) { box.textContent = 'no status yet'; return; }
  if (s.error) { box.innerHTML = ''; box.append(el('span', { class: 'err' }, s.error)); return; }
  const r = s.rules || {};
  box.innerHTML = '';
  box.append(el('div', {}, 'version ' + (r.version ?? '?') + (r.loadedAt ? ' · loaded ' + new Date(r.loadedAt).toLocaleTimeString() : '') + ' · ' + (r.rules ?? 0) + ' rules' +
    (s.agents ? ' · agents linked ' + s.agents.linked + ', unlinked ' + s.agents.unlinked + ', unassigned ' + s.agents.unassigned : '')));
  const errors = r.errors || [];
  if (errors.length) box.append(el('ul', { class: 'err' }, ...errors.map((e) => el('li', {}, typeof e === 'string' ? e : JSON.stringify(e)))));
  else box.append(el('div', { class: 'ok' }, 'no rule errors'));
  const warnings = r.warnings || [];
  if (warnings.length) box.append(el('ul', { class: 'muted' }, ...warnings.map((w) => el('li', {}, typeof w === 'string' ? w : JSON.stringify(w)))));
}
function ms(n) { return n >= 10000 ? (n / 1000).toFixed(1) + ' s' : n + ' ms'; }
const DIRECTIONS = { 'acd->salesforce': 'contact center → Salesforce', 'salesforce->acd': 'Salesforce → contact center', reconcile: 'drift repair' };
function renderSync(s) {
  const box = document.getElementById('sync');
  const sync = s && s.sync;
  box.innerHTML = '';
  if (!sync) { box.append(el('span', { class: 'muted' }, s && s.error ? 'no figures: ' + s.error : 'no figures yet')); return; }
  const items = [];
  const latency = sync.latency || {};
  const directions = Object.keys(DIRECTIONS).filter((d) => latency[d]).concat(Object.keys(latency).filter((d) => !DIRECTIONS[d]));
  if (!directions.length) items.push(el('dt', {}, 'latency'), el('dd', { class: 'muted' }, 'no writes in the last ' + sync.windowSec + ' s'));
  for (const d of directions) {
    const l = latency[d];
    items.push(el('dt', {}, DIRECTIONS[d] || d),
      el('dd', { class: 'latency', 'data-direction': d }, 'p50 ' + ms(l.p50Ms) + ' · p95 ' + ms(l.p95Ms) + ' · max ' + ms(l.maxMs) + ' · ' + l.count + ' write' + (l.count === 1 ? '' : 's') + ' in ' + sync.windowSec + ' s'));
  }
  if (sync.queues) {
    for (const [name, q] of Object.entries(sync.queues)) {
      items.push(el('dt', {}, 'queue ' + name), el('dd', { class: 'queue' + (q.failed ? ' err' : ''), 'data-queue': name },
        q.waiting + ' waiting · ' + q.active + ' active · ' + q.delayed + ' delayed · ' + q.failed + ' failed'));
    }
  } else items.push(el('dt', {}, 'queues'), el('dd', { class: 'err' }, sync.queuesError || 'not readable'));
  box.append(el('dl', {}, ...items));
}
function renderLinks(u) {
  if (!u) return;
  const p = document.getElementById('links');
  p.innerHTML = '';
  p.append('daemon ', el('a', { href: u.status }, u.status), ' · contact center ' + u.contactCenter + ' · salesforce ' + u.salesforce);
}
document.getElementById('expire').addEventListener('click', () => post('/api/salesforce/expire-session'));
document.getElementById('fail').addEventListener('click', () => post('/api/contact-center/fail', {
  count: Number(document.getElementById('fail-count').value), status: Number(document.getElementById('fail-status').value),
  retryAfterSec: Number(document.getElementById('fail-retry').value),
}));
function snapshot(s) { s.agents.forEach(render); renderStatus(s.status); renderSync(s.status); renderLinks(s.urls); }
// The first render needs no round trip: the page carries the snapshot the live updates would start with.
if (INITIAL) snapshot(INITIAL);
const events = new EventSource('/api/events');
events.addEventListener('snapshot', (e) => snapshot(JSON.parse(e.data)));
events.addEventListener('agent', (e) => render(JSON.parse(e.data)));
events.addEventListener('status', (e) => { const s = JSON.parse(e.data); renderStatus(s); renderSync(s); });
events.addEventListener('error', () => say('live updates interrupted; reconnecting…', true));
</script>
</body>
</html>
`;
}
