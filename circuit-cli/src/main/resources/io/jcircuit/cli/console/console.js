// The JCircuit web console: polls /api/circuit and draws hosts, workers and call flows as SVG.
// No framework and no external file: everything the page needs is served by the console itself.
'use strict';

const SVG = 'http://www.w3.org/2000/svg';
const BOX_W = 240, NODE_W = 200, NODE_H = 54, ROW_H = 70, HEAD_H = 44, GAP = 110, MARGIN = 20, LABEL_OFF = 18;

const state = { intervalMs: 2000, selected: null, picture: null, timer: null, sampledAt: null, profiling: null,
  flamed: new Set() };

function el(tag, attrs, text) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

// as circuit top and flow shorten an id: its first 9 characters
function shortId(id) { return id.length > 9 ? id.slice(0, 9) : id; }

function rate(v, unit) {
  if (v >= 1e9) return (v / 1e9).toFixed(1) + ' G' + unit;
  if (v >= 1e6) return (v / 1e6).toFixed(1) + ' M' + unit;
  if (v >= 1e3) return (v / 1e3).toFixed(1) + ' k' + unit;
  return (Math.round(v * 10) / 10) + ' ' + unit;
}

/** A latency as circuit top shows one: milliseconds with two decimals. */
function millis(micros) {
  return micros > 0 ? (micros / 1000).toFixed(2) + ' ms' : '-';
}

/** A byte rate in KiB/s, as circuit top and flow show one. */
function kibPerSec(v) {
  return (v / 1024).toFixed(1) + ' KiB/s';
}

function bytes(v) {
  if (v == null || v < 0) return '?';
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let i = 0;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return v.toFixed(i === 0 ? 0 : 1) + ' ' + units[i];
}

/** Groups workers by host: the host daemons first, then any other machine a runtime reported. */
function groups(p) {
  const byName = new Map();
  for (const h of p.hosts) byName.set(h.name, { name: h.name, host: h, workers: [] });
  for (const w of p.workers) {
    if (!byName.has(w.host)) byName.set(w.host, { name: w.host, host: null, workers: [] });
    byName.get(w.host).workers.push(w);
  }
  for (const g of byName.values()) {
    // the host daemon's own runtime first, then its workers by id
    g.workers.sort((a, b) => (a.role === 'host' ? -1 : 0) - (b.role === 'host' ? -1 : 0) || a.id.localeCompare(b.id));
  }
  return [...byName.values()];
}

/** Places every group in rows that fit the graph's width; returns node positions by worker id. */
function layout(gs, width) {
  const perRow = Math.max(1, Math.floor((width - MARGIN) / (BOX_W + GAP)));
  const pos = new Map();
  const boxes = [];
  let y = MARGIN, rowH = 0;
  gs.forEach((g, i) => {
    if (i > 0 && i % perRow === 0) { y += rowH + GAP; rowH = 0; }
    const x = MARGIN + (i % perRow) * (BOX_W + GAP);
    const h = HEAD_H + Math.max(1, g.workers.length) * ROW_H;
    boxes.push({ g, x, y, h });
    g.workers.forEach((w, j) => pos.set(w.id, { x: x + (BOX_W - NODE_W) / 2, y: y + HEAD_H + j * ROW_H }));
    rowH = Math.max(rowH, h);
  });
  return { pos, boxes, height: y + rowH + MARGIN };
}

function drawHosts(layer, boxes) {
  layer.replaceChildren();
  for (const b of boxes) {
    const grp = el('g', { class: 'host', 'data-host': b.g.name });
    grp.append(el('rect', { class: 'host-box' + (b.g.host ? '' : ' no-daemon'), x: b.x, y: b.y, width: BOX_W, height: b.h, rx: 10 }));
    // a long name is cut to the box's width; the whole of it is the box's tooltip
    grp.append(el('text', { class: 'host-label', x: b.x + 12, y: b.y + 18 }, b.g.name.length > 28 ? b.g.name.slice(0, 27) + '…' : b.g.name));
    grp.append(el('title', {}, b.g.name));
    const sub = b.g.host ? b.g.host.address + ' · ' + b.g.workers.length + ' runtime(s)'
      : 'runtimes no host daemon started';
    grp.append(el('text', { class: 'host-sub', x: b.x + 12, y: b.y + 34 }, sub));
    layer.append(grp);
  }
}

function visibleAnchors(w) {
  return w.anchors.filter(a => !a.startsWith('/host/'));
}

function drawWorkers(layer, p, pos) {
  layer.replaceChildren();
  for (const w of p.workers) {
    const at = pos.get(w.id);
    const cls = 'worker role-' + w.role + (w.reachable ? '' : ' unreachable') + (w.id === state.selected ? ' selected' : '');
    const g = el('g', { class: cls, 'data-worker': w.id, 'data-role': w.role, 'data-reachable': String(w.reachable), tabindex: 0 });
    g.append(el('rect', { class: 'node', x: at.x, y: at.y, width: NODE_W, height: NODE_H, rx: 8 }));
    const suffix = w.role === 'host' ? ' (daemon)' : w.role === 'standby' ? ' (warm)' : '';
    g.append(el('text', { class: 'wid', x: at.x + 10, y: at.y + 17 }, shortId(w.id) + suffix));
    const load = w.reachable ? (w.cpuLoad != null && w.cpuLoad >= 0 ? Math.round(w.cpuLoad * 100) + '% cpu · ' : '')
      + bytes(w.heapUsed) + ' heap · ' + w.threads + ' thr' : 'not answering';
    g.append(el('text', { x: at.x + 10, y: at.y + 32 }, load));
    const anchors = visibleAnchors(w).join(' ');
    g.append(el('text', { class: 'anchors', x: at.x + 10, y: at.y + 46 }, anchors.length > 30 ? anchors.slice(0, 29) + '…' : anchors));
    g.append(el('title', {}, w.id + ' on ' + w.host + (w.error ? '\n' + w.error : '')));
    g.addEventListener('click', () => select(w.id));
    g.addEventListener('keydown', e => { if (e.key === 'Enter') select(w.id); });
    layer.append(g);
  }
}

/** A curve from the caller's node to the callee's; two flows in opposite directions bend apart. */
function curve(a, b) {
  const ax = a.x + NODE_W / 2, ay = a.y + NODE_H / 2, bx = b.x + NODE_W / 2, by = b.y + NODE_H / 2;
  const dx = bx - ax, dy = by - ay, len = Math.hypot(dx, dy) || 1;
  // start and end where the line between the centres leaves each node's box (measured along the
  // whole line, a steep one ended on the node of the next row)
  const s = Math.min(0.45, dx === 0 ? Infinity : (NODE_W / 2) / Math.abs(dx), dy === 0 ? Infinity : (NODE_H / 2 + 4) / Math.abs(dy));
  const x1 = ax + dx * s, y1 = ay + dy * s, x2 = bx - dx * s, y2 = by - dy * s;
  const bend = Math.min(60, 20 + len / 6);
  const mx = (x1 + x2) / 2 - dy / len * bend, my = (y1 + y2) / 2 + dx / len * bend;
  // the label goes beside the curve's middle, on the side it bends to, so that its card does not hide the arrow
  const nx = -dy / len, ny = dx / len;
  return { d: `M ${x1} ${y1} Q ${mx} ${my} ${x2} ${y2}`, lx: (x1 + 2 * mx + x2) / 4 + nx * LABEL_OFF,
    ly: (y1 + 2 * my + y2) / 4 + ny * LABEL_OFF + 4 };
}

function drawFlows(layer, labels, p, pos) {
  layer.replaceChildren();
  labels.replaceChildren();
  for (const f of p.flows) {
    const a = pos.get(f.from), b = pos.get(f.to);
    if (!a || !b || f.from === f.to) continue;
    const c = curve(a, b);
    const idle = !(f.callsPerSec > 0);
    const g = el('g', { class: 'flow' + (idle ? ' idle' : ''), 'data-from': f.from, 'data-to': f.to,
      'data-calls-per-sec': f.callsPerSec, 'data-bytes-per-sec': f.bytesPerSec });
    const width = idle ? 1.5 : 2 + Math.min(10, Math.log2(1 + f.callsPerSec));
    g.append(el('path', { d: c.d, 'stroke-width': width, 'marker-end': idle ? 'url(#arrow-idle)' : 'url(#arrow)' }));
    const label = rate(f.callsPerSec, 'calls/s') + ' · ' + kibPerSec(f.bytesPerSec) + ' · p99 ' + millis(f.p99Micros);
    // only flows that carry calls now are labelled, and only those of the selected runtime when one is:
    // labels of every flow covered each other and the nodes
    const related = !state.selected || f.from === state.selected || f.to === state.selected;
    if (!idle && related) { // above the nodes, in a layer of their own: under them they could not be read
      const text = el('text', { class: 'flow-label', x: c.lx, y: c.ly, 'text-anchor': 'middle',
        'data-from': f.from, 'data-to': f.to }, label);
      labels.append(text);
      const box = text.getBBox(); // on a card of its own, so that what lies under it does not show through
      labels.insertBefore(el('rect', { class: 'flow-card', x: box.x - 4, y: box.y - 2, width: box.width + 8,
        height: box.height + 4, rx: 4 }), text);
    }
    g.append(el('title', {}, shortId(f.from) + ' → ' + shortId(f.to) + ': ' + label + '; ' + f.calls + ' calls, '
      + bytes(f.bytes) + ' since its first call'));
    layer.append(g);
  }
}

function drawAnchors(p) {
  const ul = document.getElementById('anchors');
  ul.replaceChildren();
  for (const [dir, ids] of Object.entries(p.anchors)) {
    const li = document.createElement('li');
    li.dataset.anchor = dir;
    li.textContent = dir + '/';
    const span = document.createElement('span');
    span.className = 'ids';
    span.textContent = ids.join(' ');
    li.append(span);
    ul.append(li);
  }
}

function draw(p) {
  const svg = document.getElementById('graph');
  const width = Math.max(600, document.getElementById('graph-area').clientWidth - 4);
  const gs = groups(p);
  const l = layout(gs, width);
  svg.setAttribute('width', width);
  svg.setAttribute('height', Math.max(300, l.height));
  drawHosts(document.getElementById('hosts-layer'), l.boxes);
  drawFlows(document.getElementById('flows-layer'), document.getElementById('labels-layer'), p, l.pos);
  drawWorkers(document.getElementById('workers-layer'), p, l.pos);
  drawAnchors(p);
  if (state.selected) showDetails(p.workers.find(w => w.id === state.selected));
}

function setStatus(text, error) {
  const s = document.getElementById('status');
  s.textContent = text;
  s.classList.toggle('error', !!error);
}

async function refresh() {
  try {
    // not longer than the console takes to say it cannot read the circuit: a page on a hung request looked live
    const r = await fetch('/api/circuit', { cache: 'no-store', signal: AbortSignal.timeout(8000) });
    const body = await r.json();
    if (!r.ok) throw new Error(body.error || ('HTTP ' + r.status));
    state.picture = body;
    state.sampledAt = body.atMillis;
    state.intervalMs = body.intervalMs || state.intervalMs;
    draw(body);
    stale(false);
    const flowing = body.flows.filter(f => f.callsPerSec > 0).length;
    setStatus(`${body.hosts.length} host(s), ${body.workers.length} runtime(s), ${flowing} active flow(s); `
      + `sampled ${new Date(body.atMillis).toLocaleTimeString()} in ${body.tookMillis} ms`, false);
  } catch (e) {
    // the last picture stays, greyed, with its age: it is no longer what the circuit looks like
    stale(state.sampledAt != null);
    const age = state.sampledAt == null ? ''
      : `; the picture shown is from ${new Date(state.sampledAt).toLocaleTimeString()}, `
        + `${Math.round((Date.now() - state.sampledAt) / 1000)} s ago`;
    setStatus('cannot read the circuit: ' + e.message + age, true);
  } finally {
    state.timer = setTimeout(refresh, state.intervalMs);
  }
}

/** Greys the graph while the picture it shows is not the circuit's latest. */
function stale(on) {
  document.getElementById('graph-area').classList.toggle('stale', on);
}

/** Stack and flame graph are offered for a runtime in the picture only; a second profile not while one runs. */
function actions(enabled) {
  document.getElementById('stack-button').disabled = !enabled;
  document.getElementById('flame-button').disabled = !enabled || state.profiling === state.selected;
}

function showDetails(w) {
  const dl = document.getElementById('worker-details');
  if (!w) {
    if (!state.leftAt) {
      state.leftAt = state.sampledAt || Date.now();
      dl.replaceChildren();
      actions(false);
      document.getElementById('stack').hidden = true;
      document.getElementById('flame').hidden = true;
      message('this worker has left the circuit (not in the picture of '
        + new Date(state.leftAt).toLocaleTimeString() + ')', false);
    }
    return;
  }
  if (state.leftAt) { // back, as a paused worker comes back
    state.leftAt = null;
    message('', false);
  }
  actions(true);
  dl.replaceChildren();
  const rows = [['address', w.address], ['host', w.host], ['machine', w.machine], ['pid', w.pid], ['role', w.role],
    ['anchors', w.anchors.join(' ') || '—']];
  if (w.reachable) {
    rows.push(['version', w.version], ['uptime', Math.round(w.uptimeMillis / 1000) + ' s'],
      ['heap', bytes(w.heapUsed) + ' of ' + bytes(w.heapMax)], ['threads', w.threads],
      ['services', w.services.join(' ') || '—']);
  } else {
    rows.push(['error', w.error]);
  }
  for (const [k, v] of rows) {
    const dt = document.createElement('dt');
    dt.textContent = k;
    const dd = document.createElement('dd');
    dd.textContent = String(v);
    dl.append(dt, dd);
  }
}

/** Closes the worker panel: no worker selected, every active flow labelled. */
function deselect() {
  if (!state.selected) return;
  state.selected = null;
  state.leftAt = null;
  document.getElementById('worker-panel').hidden = true;
  if (state.picture) draw(state.picture);
}

function select(id) {
  state.selected = id;
  state.leftAt = null;
  actions(true);
  document.getElementById('worker-panel').hidden = false;
  document.getElementById('worker-id').textContent = id;
  document.getElementById('stack').hidden = true;
  document.getElementById('flame').hidden = true;
  message('', false);
  updateFlameLink();
  if (state.picture) draw(state.picture); // its flows' labels
}

function message(text, error) {
  const m = document.getElementById('worker-message');
  m.textContent = text;
  m.classList.toggle('error', error);
}

function flameUrl() {
  const kind = document.getElementById('flame-kind').value;
  const seconds = document.getElementById('flame-seconds').value;
  return `/api/worker/${encodeURIComponent(state.selected)}/flame?kind=${encodeURIComponent(kind)}&seconds=${encodeURIComponent(seconds)}`;
}

/** The link to the last flame graph taken of the selected worker, once there is one. */
function updateFlameLink() {
  const link = document.getElementById('flame-link');
  link.hidden = !(state.selected && state.flamed.has(state.selected));
  if (!link.hidden) link.href = `/api/worker/${encodeURIComponent(state.selected)}/last-flame`;
}

/** The error of a failed API answer: the console's JSON {"error": ...}, or the HTTP status. */
async function failure(r) {
  const text = await r.text();
  try {
    return JSON.parse(text).error || ('HTTP ' + r.status);
  } catch (e) {
    return 'HTTP ' + r.status;
  }
}

async function showStack() {
  const id = state.selected;
  message('taking a thread dump of ' + id + '…', false);
  const pre = document.getElementById('stack');
  try {
    const r = await fetch(`/api/worker/${encodeURIComponent(id)}/stack`, { cache: 'no-store' });
    if (!r.ok) throw new Error(await failure(r));
    const text = await r.text();
    if (state.selected !== id) return; // another worker was selected meanwhile: this answer is not its
    pre.textContent = text;
    pre.hidden = false;
    message('thread dump of ' + id, false);
  } catch (e) {
    if (state.selected !== id) return;
    pre.hidden = true;
    message('no thread dump: ' + e.message, true);
  }
}

async function showFlame() {
  const id = state.selected;
  const seconds = Number(document.getElementById('flame-seconds').value);
  const frame = document.getElementById('flame');
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > 60) {
    message('give a whole number of seconds from 1 to 60', true);
    return;
  }
  message(`profiling ${id} for ${seconds} s…`, false);
  state.profiling = id;
  actions(true);
  try {
    // Taken by a request of this page, whose errors show here; then shown in the frame from the console's
    // copy. The frame loads it by URL (a srcdoc frame would inherit this page's script policy, which
    // refuses the graph's inline script), sandboxed without same-origin: its script cannot reach this page.
    const r = await fetch(flameUrl(), { cache: 'no-store' });
    if (!r.ok) throw new Error(await failure(r));
    await r.arrayBuffer();
    state.flamed.add(id);
    if (state.selected !== id) return; // another worker was selected meanwhile
    frame.src = `/api/worker/${encodeURIComponent(id)}/last-flame`;
    frame.hidden = false;
    updateFlameLink();
    message(`flame graph of ${id} (${seconds} s)`, false);
  } catch (e) {
    if (state.selected !== id) return;
    frame.hidden = true;
    message('no flame graph: ' + e.message, true);
  } finally {
    state.profiling = null;
    if (state.selected === id) actions(state.leftAt == null);
  }
}

document.addEventListener('DOMContentLoaded', () => {
  document.getElementById('stack-button').addEventListener('click', showStack);
  document.getElementById('flame-button').addEventListener('click', showFlame);
  // a click on the graph's background, or Escape, closes the worker panel
  document.getElementById('graph').addEventListener('click', e => { if (!e.target.closest('.worker')) deselect(); });
  document.addEventListener('keydown', e => { if (e.key === 'Escape') deselect(); });
  refresh();
});
