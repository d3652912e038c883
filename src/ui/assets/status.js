// shardgate status page: polls the JSON API and renders it.
// Everything shown comes from user data (label values, error texts), so the
// page builds the DOM with createElement and textContent only, never
// innerHTML. All URLs are relative to the page, which is served at
// <route prefix>/, so the page works under any --web.route-prefix.
'use strict';

const REFRESH_MS = Number(new URLSearchParams(location.search).get('refresh') || 2000);
const MAX_GROUP_ROWS = 500;
let adminApi = false;

function el(tag, props, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props || {})) {
    if (name === 'onclick') node.addEventListener('click', value);
    else if (name === 'className') node.className = value;
    else node.setAttribute(name, value);
  }
  for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(String(child ?? '')));
  return node;
}

async function getJson(url, init) {
  const res = await fetch(url, init);
  const text = await res.text();
  let body;
  try { body = JSON.parse(text); } catch { body = undefined; }
  return { status: res.status, body, text };
}

function formatKey(labels) {
  const names = Object.keys(labels).filter((n) => n !== 'job').sort();
  return `{${['job', ...names].filter((n) => n in labels).map((n) => `${n}=${JSON.stringify(labels[n])}`).join(', ')}}`;
}

function base64url(value) {
  const bytes = new TextEncoder().encode(value);
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** A push path for labels: `/` and empty values use the @base64 form, as Pushgateway requires. */
function pathFor(labels) {
  const seg = (name, value) => (value === '' || value.includes('/') ? `${name}@base64/${base64url(value) || '='}` : `${name}/${encodeURIComponent(value)}`);
  const parts = [seg('job', labels.job ?? '')];
  for (const name of Object.keys(labels).sort()) if (name !== 'job') parts.push(seg(encodeURIComponent(name), labels[name]));
  return parts.join('/');
}

/** "job/x/a/b" (a push path) or "job=x, a=b" (quotes optional) → push path after /metrics/. */
function parseLookup(input) {
  const s = input.trim().replace(/^\/?metrics\//, '').replace(/^\{|\}$/g, '');
  if (/^job(@base64)?\//.test(s)) return s;
  const labels = {};
  for (const pair of s.split(',')) {
    const i = pair.indexOf('=');
    if (i === -1) continue;
    labels[pair.slice(0, i).trim()] = pair.slice(i + 1).trim().replace(/^"(.*)"$/, '$1');
  }
  return pathFor(labels);
}

function pushTime(group) {
  const family = group.push_time_seconds;
  const value = family && family.metrics && family.metrics[0] ? Number(family.metrics[0].value) : NaN;
  return Number.isFinite(value) && value > 0 ? new Date(value * 1000) : undefined;
}

function ago(date) {
  const s = Math.max(0, Math.round((Date.now() - date.getTime()) / 1000));
  return s < 120 ? `${s}s ago` : s < 7200 ? `${Math.round(s / 60)}m ago` : `${Math.round(s / 3600)}h ago`;
}

function shardState(shard) {
  if (shard.drain && shard.drain.state) return shard.drain.state;
  return shard.draining ? 'draining' : 'active';
}

async function drain(target, on) {
  const res = await getJson(`api/v1/admin/drain?target=${encodeURIComponent(target)}`, { method: on ? 'POST' : 'DELETE' });
  if (res.status >= 300) showError(`${on ? 'drain' : 'undrain'} ${target}: ${res.text.trim()}`);
  await refresh();
}

function renderShards(shards, counts) {
  const body = document.querySelector('#shards tbody');
  document.querySelectorAll('#shards .admin').forEach((n) => { n.hidden = !adminApi; });
  body.replaceChildren(...shards.map((s) => {
    const state = shardState(s);
    // A drain counts what is left; before its first count, and otherwise, the last read tells.
    const remaining = s.drain ? s.drain.groups_remaining : null;
    const held = state !== 'active' && remaining !== null && remaining !== undefined ? remaining : counts[s.target];
    const row = el('tr', { 'data-shard': s.target, className: s.health === 'down' ? 'down' : '' },
      el('td', { className: 'mono' }, s.target),
      el('td', { className: `health health-${s.health}` }, s.health),
      el('td', { className: `state state-${state}` }, state),
      el('td', {}, s.in_ring ? 'yes' : 'no'),
      el('td', { className: 'groups' }, held === undefined || held === null ? '–' : held),
      el('td', {}, s.last_check ? ago(new Date(s.last_check)) : 'never'),
      el('td', { className: 'error' }, s.last_error || ''));
    if (adminApi) {
      const draining = state !== 'active';
      row.append(el('td', {}, el('button', { className: draining ? 'undrain' : 'drain', onclick: () => drain(s.target, !draining) }, draining ? 'Undrain' : 'Drain')));
    }
    return row;
  }));
}

function renderGroups(groups) {
  document.getElementById('group-count').textContent = String(groups.length);
  const note = document.getElementById('groups-note');
  note.hidden = groups.length <= MAX_GROUP_ROWS;
  note.textContent = `showing the first ${MAX_GROUP_ROWS}; use the search above for the rest`;
  const body = document.querySelector('#groups tbody');
  body.replaceChildren(...groups.slice(0, MAX_GROUP_ROWS).map((g) => {
    const when = pushTime(g);
    return el('tr', {},
      el('td', { className: 'key' }, formatKey(g.labels)),
      el('td', { title: when ? when.toISOString() : '' }, when ? `${when.toLocaleString()} (${ago(when)})` : 'never'),
      el('td', {}, g.last_push_successful === false ? 'no' : 'yes'),
      el('td', {}, el('button', { onclick: () => lookup(pathFor(g.labels), formatKey(g.labels)) }, 'Find shard')));
  }));
}

async function lookup(path, shown) {
  const out = document.getElementById('lookup-result');
  document.getElementById('lookup-key').value = shown;
  const res = await getJson(`metrics/${path}`);
  if (res.body && 'shard' in res.body) {
    const { shard, owner, grouping_key: key } = res.body;
    out.replaceChildren(
      el('span', {}, `${formatKey(key)} → `),
      el('strong', { id: 'lookup-shard' }, shard ?? 'no healthy shard'),
      shard !== owner && owner ? el('span', { className: 'muted' }, ` (ring owner ${owner}; the group waits to move)`) : '');
  } else {
    out.replaceChildren(el('span', { className: 'health-down' }, `${res.status}: ${res.text.trim()}`));
  }
}

function showError(message) {
  const banner = document.getElementById('error');
  banner.hidden = message === '';
  banner.textContent = message;
}

async function refresh() {
  try {
    const [status, shards, metrics] = await Promise.all([getJson('api/v1/status'), getJson('api/v1/shards'), getJson('api/v1/metrics')]);
    if (!status.body || !shards.body || !metrics.body) throw new Error(`API answered ${status.status}/${shards.status}/${metrics.status}`);
    const s = status.body.data;
    adminApi = Boolean(s.flags && s.flags.enableAdminApi);
    document.getElementById('build').textContent = `v${s.build_information.version} · ${s.mode} mode`;
    document.getElementById('ring-size').textContent = String(s.ring.members.length);
    document.getElementById('ring-members').textContent = s.ring.members.join(', ') || '(none)';
    document.getElementById('pending-moves').textContent = String(s.ring.pending_moves ?? 0);
    renderShards(shards.body.data, metrics.body.group_counts || {});
    renderGroups(metrics.body.data);
    showError((metrics.body.warnings || []).join('; '));
    document.getElementById('updated').textContent = `updated ${new Date().toLocaleTimeString()}`;
  } catch (err) {
    showError(`cannot reach shardgate's API: ${err.message}`);
  }
}

document.getElementById('lookup').addEventListener('submit', (event) => {
  event.preventDefault();
  const input = document.getElementById('lookup-key').value;
  void lookup(parseLookup(input), input);
});
void refresh();
setInterval(refresh, REFRESH_MS);
