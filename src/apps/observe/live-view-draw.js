// The live view's drawing, inlined into live-view.html (before live-view-client.js) by live-view.ts.
// Plain browser JavaScript. Reads the client's `view` (sessions, lanes, stats) and draws: the machine
// with live counts, the header totals, the queue, the timeline (a lane per worker thread, a bar per
// run, sub-rows as the client assigned them) and the recently released sessions.
'use strict';
const LiveDraw = (() => {
  const SVG = 'http://www.w3.org/2000/svg';
  const COLORS = {
    created: '#94a3b8',
    processing: '#3b82f6',
    completed: '#16a34a',
    failed: '#dc2626',
    timeout: '#f59e0b',
    aborted: '#8b5cf6',
    released: '#475569',
  };
  const ROW = 12;
  const $ = (id) => document.getElementById(id);
  const short = (id) => (id || '').slice(0, 8);
  /** The client's state and clock, as of the current render. */
  let view = null;
  let now = () => 0;

  function svgEl(name, attrs, parent, text) {
    const e = document.createElementNS(SVG, name);
    for (const key in attrs) e.setAttribute(key, attrs[key]);
    if (text !== undefined) e.textContent = text;
    if (parent) parent.appendChild(e);
    return e;
  }

  // ---- the machine ------------------------------------------------------------------------
  const NODE_W = 124;
  const NODE_H = 58;
  const GAP = 104;

  /** Columns by longest path from the initial state (self-loops ignored), rows centred per column. */
  function layoutMachine(machine) {
    const depth = Object.fromEntries(machine.states.map((s) => [s.name, 0]));
    for (let pass = 0; pass < machine.states.length; pass++) {
      for (const s of machine.states) {
        for (const t of s.transitions)
          if (t.target !== null && t.target !== s.name && depth[t.target] !== undefined) depth[t.target] = Math.max(depth[t.target], depth[s.name] + 1);
      }
    }
    const columns = [];
    for (const s of machine.states) (columns[depth[s.name]] ||= []).push(s.name);
    const tallest = Math.max(...columns.map((c) => c.length));
    const pos = {};
    columns.forEach((names, col) =>
      names.forEach((name, row) => {
        const offset = ((tallest - names.length) * (NODE_H + 34)) / 2;
        pos[name] = { x: 8 + col * (NODE_W + GAP), y: 24 + offset + row * (NODE_H + 34) };
      }),
    );
    return { pos, width: columns.length * (NODE_W + GAP) - GAP + 16, height: tallest * (NODE_H + 34) + 40 };
  }

  function drawMachine(machine) {
    const svg = $('machine');
    svg.textContent = '';
    const { pos, width, height } = layoutMachine(machine);
    svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
    const defs = svgEl('defs', {}, svg);
    const marker = svgEl(
      'marker',
      { id: 'arrow', viewBox: '0 0 10 10', refX: '9', refY: '5', markerWidth: '7', markerHeight: '7', orient: 'auto-start-reverse' },
      defs,
    );
    svgEl('path', { d: 'M0,0 L10,5 L0,10 z', fill: '#9aa5b1' }, marker);
    const edges = new Map();
    for (const s of machine.states) {
      for (const t of s.transitions) {
        if (t.target === null || t.target === s.name) continue;
        const key = `${s.name}>${t.target}`;
        edges.set(key, [...(edges.get(key) || []), t.label]);
      }
    }
    for (const [key, labels] of edges) drawEdge(svg, pos[key.split('>')[0]], pos[key.split('>')[1]], labels);
    for (const s of machine.states) drawNode(svg, s, pos[s.name]);
  }

  /** An arrow from a to b, its events stacked one per line at its middle. */
  function drawEdge(svg, a, b, labels) {
    const g = svgEl('g', { class: 'edge' }, svg);
    const x1 = a.x + NODE_W,
      y1 = a.y + NODE_H / 2,
      x2 = b.x - 2,
      y2 = b.y + NODE_H / 2;
    const skips = b.x - a.x > NODE_W + GAP + 10;
    // An arrow that skips a column goes round below it.
    const d = skips
      ? `M${a.x + NODE_W / 2},${a.y + NODE_H} C${a.x + NODE_W / 2},${y2 + NODE_H * 1.1} ${b.x - 40},${y2 + NODE_H * 0.2} ${x2},${y2 + 8}`
      : `M${x1},${y1} C${x1 + 44},${y1} ${x2 - 44},${y2} ${x2},${y2}`;
    const path = svgEl('path', { d, 'marker-end': 'url(#arrow)' }, g);
    const mid = path.getPointAtLength(path.getTotalLength() / 2);
    const text = svgEl('text', { x: mid.x, y: mid.y - 4 - (labels.length - 1) * 6, 'text-anchor': 'middle', class: 'halo' }, g);
    labels.forEach((label, i) => svgEl('tspan', { x: mid.x, dy: i === 0 ? '0' : '12' }, text, label));
  }

  function drawNode(svg, state, p) {
    const color = COLORS[state.name] || COLORS.released;
    const g = svgEl('g', { class: 'node', 'data-state': state.name, transform: `translate(${p.x},${p.y})` }, svg);
    svgEl('rect', { width: NODE_W, height: NODE_H, rx: state.type === 'final' ? 20 : 8, fill: `${color}1a`, stroke: color }, g);
    if (state.type === 'final') svgEl('rect', { x: 3, y: 3, width: NODE_W - 6, height: NODE_H - 6, rx: 17, fill: 'none', stroke: color }, g);
    svgEl('text', { x: 10, y: 19, class: 'name', fill: color }, g, state.name);
    svgEl('text', { x: NODE_W - 10, y: 21, 'text-anchor': 'end', class: 'count', id: `count-${state.name}` }, g, '0');
    svgEl('text', { x: 10, y: 45, class: 'sub', id: `sub-${state.name}` }, g, '');
    const loops = state.transitions.filter((t) => t.target === null || t.target === state.name).map((t) => t.label);
    if (loops.length > 0) svgEl('text', { x: 0, y: NODE_H + 14, class: 'loops' }, g, `↻ ${loops.join(', ')}`);
  }

  function renderMachine(stats) {
    if (view.machine === null) return;
    const failedTotal = stats.failed + stats.timedOut + stats.aborted;
    const subs = {
      created: 'waiting now',
      processing: 'running now',
      completed: `${stats.completed} in all`,
      failed: `${failedTotal} in all`,
      released: 'in all',
    };
    for (const s of view.machine.states) {
      const count = $(`count-${s.name}`);
      if (count) count.textContent = String(stats.states[s.name] ?? 0);
      const sub = $(`sub-${s.name}`);
      if (sub) sub.textContent = subs[s.name] || '';
    }
  }

  // ---- header, queue ----------------------------------------------------------------------
  function formatAmount(amount) {
    return amount >= 1 ? amount.toFixed(2) : amount.toPrecision(3);
  }

  function renderTotals(stats) {
    const set = (id, value) => ($(id).textContent = String(value));
    for (const key of ['admitted', 'completed', 'failed', 'timedOut', 'aborted', 'retried', 'crashed']) set(`stat-${key}`, stats[key]);
    set('stat-rejected', stats.rejected.invalid + stats.rejected.queueFull + stats.rejected.closed + (stats.rejected.budget ?? 0));
    // Spend per currency of completed chats at list prices (stats().cost), e.g. "0.0123 USD".
    const spent = Object.entries(stats.cost?.total ?? {}).map(([currency, amount]) => `${formatAmount(amount)} ${currency}`);
    set('stat-cost', spent.length === 0 ? '–' : spent.join(' · '));
    set('stat-threads', stats.pool.threads);
    set('stat-pool', `${Math.round(stats.pool.utilization * 100)}%`);
    set('stat-p95', stats.latencyMs.count > 0 ? `${Math.round(stats.latencyMs.p95)} ms` : '–');
    const routing = stats.routing;
    set('stat-routing-waiting', routing ? routing.waiting : 0);
    set('stat-routing-fallbacks', routing ? routing.fallbacks : 0);
    const circuits = routing ? Object.entries(routing.circuits).filter(([, c]) => c.state !== 'closed') : [];
    set(
      'stat-routing-circuits',
      circuits.length === 0
        ? routing && Object.keys(routing.circuits).length > 0
          ? 'all closed'
          : '–'
        : circuits.map(([p, c]) => `${p} ${c.state}`).join(', '),
    );
    set('stat-routing-keys', routing ? learnedLimits(routing.keys) : '–');
    const dropped = $('dropped');
    dropped.hidden = view.dropped === 0;
    dropped.textContent = `${view.dropped} events dropped (page too slow)`;
  }

  // Per key, what it learned from its 429s: `kimi 19.2/s · 56 refused · last wait 0.3 s` (keys never refused: none).
  function learnedLimits(keys) {
    const parts = [];
    for (const k of Object.values(keys)) {
      if (!k.learned || !k.refusals) continue;
      const limit = [
        k.learned.requestsPerSecond === undefined ? '' : `${k.learned.requestsPerSecond}/s`,
        k.learned.concurrency === undefined ? '' : `≤${k.learned.concurrency} in flight`,
      ]
        .filter(Boolean)
        .join(', ');
      const wait = k.lastRetryAfterMs === undefined ? '' : ` · last wait ${(k.lastRetryAfterMs / 1000).toFixed(1)} s`;
      parts.push(`${k.provider} ${limit || 'unlimited'} · ${k.refusals} refused${wait}`);
    }
    return parts.length === 0 ? 'none' : parts.join('; ');
  }

  function renderQueue(stats, t) {
    $('queue-length').textContent = String(stats.queued);
    $('queue-processing').textContent = String(stats.states.processing);
    const svg = $('queue-spark');
    svg.textContent = '';
    const w = svg.clientWidth || 270,
      h = svg.clientHeight || 64;
    svg.setAttribute('viewBox', `0 0 ${w} ${h}`);
    const peak = Math.max(4, ...view.samples.map((s) => s.queued + s.processing));
    const x = (time) => ((time - (t - view.windowMs)) / view.windowMs) * w;
    const y = (value) => h - 3 - (value / peak) * (h - 8);
    for (const [key, color, base] of [
      ['processing', COLORS.processing, () => 0],
      ['queued', COLORS.timeout, (s) => s.processing],
    ]) {
      if (view.samples.length === 0) break;
      const top = view.samples.map((s) => `${x(s.t)},${y(base(s) + s[key])}`);
      const bottom = view.samples.map((s) => `${x(s.t)},${y(base(s))}`).reverse();
      svgEl('polygon', { points: [...top, ...bottom].join(' '), fill: color, 'fill-opacity': '0.35', stroke: color, 'stroke-width': '1' }, svg);
    }
    svgEl('text', { x: 4, y: 11, 'font-size': '10', fill: '#6b7785' }, svg, `peak ${peak}`);
    const waiting = [...view.sessions.values()].filter((s) => s.state === 'created');
    const chips = $('queue-chips');
    chips.textContent = '';
    for (const s of waiting.slice(0, 40)) {
      const chip = document.createElement('span');
      chip.className = 'chip';
      chip.textContent = `${short(s.id)} ${s.provider || s.kind || ''}`;
      chips.appendChild(chip);
    }
    if (waiting.length > 40) chips.append(` +${waiting.length - 40} more`);
    if (waiting.length === 0) chips.textContent = 'none';
  }

  // ---- timeline ---------------------------------------------------------------------------
  function renderTimeline(t) {
    const svg = $('timeline');
    const width = svg.clientWidth || 1000;
    const gutter = 86,
      plotW = width - gutter - 12,
      t0 = t - view.windowMs;
    const x = (time) => gutter + Math.max(0, Math.min(1, (time - t0) / view.windowMs)) * plotW;
    const sessions = [...view.sessions.values()];
    const lanes = [{ key: 'queue', label: 'queue', items: queueItems(sessions, t0, t) }];
    for (const lane of [...view.lanes.values()].sort((a, b) => a.id - b.id))
      lanes.push({ key: `thread-${lane.id}`, label: `thread ${lane.id}`, items: runItems(sessions, lane.id, t0, t) });
    const body = document.createDocumentFragment();
    let y = 22;
    lanes.forEach((lane, i) => {
      const rows = Math.max(1, ...lane.items.map((item) => item.row + 1));
      const height = rows * ROW + 10;
      const g = svgEl('g', { 'data-lane': lane.key }, body);
      svgEl('rect', { x: 0, y, width, height, fill: i % 2 === 0 ? '#f8fafc' : '#ffffff' }, g);
      svgEl('text', { x: 8, y: y + 15, class: 'lane-label' }, g, lane.label);
      for (const item of lane.items) drawItem(g, item, x, y + 5 + item.row * ROW);
      y += height;
    });
    svg.textContent = '';
    drawDefs(svg);
    drawAxis(svg, x, t, y);
    svg.appendChild(body);
    svg.setAttribute('height', String(y + 4));
    svg.setAttribute('viewBox', `0 0 ${width} ${y + 4}`);
    svgEl('line', { x1: x(t), x2: x(t), y1: 16, y2: y, stroke: '#111827', 'stroke-dasharray': '2 3' }, svg);
  }

  function queueItems(sessions, t0, t) {
    return sessions.flatMap((s) => {
      if (s.createdAt === undefined || s.queueRow === undefined) return [];
      const end = s.dispatchedAt ?? s.endedAt ?? t;
      // Sessions that got a slot at once never waited: nothing to draw.
      if (end - s.createdAt < 1 || end < t0) return [];
      const outcome = s.dispatchedAt === undefined && s.endedAt !== undefined ? s.outcome : undefined;
      return [{ s, start: s.createdAt, end, row: s.queueRow, color: COLORS.created, mark: outcome === 'timeout' ? 'timeout' : undefined }];
    });
  }

  function runItems(sessions, threadId, t0, t) {
    const items = [];
    for (const s of sessions) {
      s.runs.forEach((run, i) => {
        if (run.threadId !== threadId) return;
        const next = s.runs[i + 1];
        const last = next === undefined;
        const end = next ? next.at : (s.endedAt ?? s.releasedAt ?? t);
        const tailEnd = last && s.endedAt !== undefined ? (s.releasedAt ?? t) : undefined;
        if ((tailEnd ?? end) < t0) return;
        const color = last && s.outcome ? COLORS[s.outcome] : next ? COLORS.failed : COLORS.processing;
        items.push({ s, start: run.at, end, tailEnd, row: run.row, color, crashRetry: i > 0, last });
      });
    }
    return items;
  }

  function drawItem(g, item, x, y) {
    const { s } = item;
    const x1 = x(item.start),
      x2 = Math.max(x1 + 2, x(item.end));
    const bar = svgEl(
      'rect',
      { x: x1, y, width: x2 - x1, height: ROW - 3, rx: 2, fill: item.color, class: `bar outcome-${s.outcome || s.state}`, 'data-session': s.id },
      g,
    );
    svgEl('title', {}, bar, describe(s));
    if (item.tailEnd !== undefined) {
      const x3 = Math.max(x2 + 1, x(item.tailEnd));
      svgEl('rect', { x: x2, y, width: x3 - x2, height: ROW - 3, fill: 'url(#hatch)', stroke: item.color, 'stroke-width': '0.6', class: 'tail' }, g);
    }
    if (item.crashRetry) svgEl('text', { x: x1 + 1, y: y + ROW - 4, class: 'mark retry-mark', fill: '#ffffff' }, g, '↻');
    if (item.mark === 'timeout' || (item.last && s.outcome === 'timeout')) {
      // The deadline: a dark tick across the bar where the session timed out.
      const at = x(s.endedAt ?? item.end);
      svgEl('rect', { x: at - 1.5, y: y - 2, width: 3, height: ROW + 1, fill: '#92400e', class: 'mark timeout-mark' }, g);
    }
    const retries = s.attempt - 1;
    if (item.last && retries > 0)
      svgEl('text', { x: Math.max(x2, x(item.tailEnd ?? item.end)) + 3, y: y + ROW - 4, class: 'mark retry-mark', fill: '#b45309' }, g, `↻${retries}`);
  }

  function drawDefs(svg) {
    const defs = svgEl('defs', {}, svg);
    const pattern = svgEl('pattern', { id: 'hatch', width: '5', height: '5', patternUnits: 'userSpaceOnUse', patternTransform: 'rotate(45)' }, defs);
    svgEl('rect', { width: '2', height: '5', fill: '#94a3b8' }, pattern);
  }

  function drawAxis(svg, x, t, bottom) {
    const g = svgEl('g', { class: 'axis' }, svg);
    const step = view.windowMs > 60000 ? 10000 : 5000;
    for (let ago = 0; ago <= view.windowMs; ago += step) {
      const px = x(t - ago);
      svgEl('line', { x1: px, x2: px, y1: 16, y2: bottom }, g);
      svgEl('text', { x: px, y: 11, 'text-anchor': ago === 0 ? 'end' : 'middle' }, g, ago === 0 ? 'now' : `−${ago / 1000}s`);
    }
  }

  function describe(s) {
    const end = s.releasedAt ?? now();
    const threads = [...new Set(s.runs.map((r) => r.threadId))].join('→');
    const bits = [
      short(s.id),
      [s.provider, s.model].filter(Boolean).join(' ') || s.kind,
      s.outcome || s.state,
      `attempt ${s.attempt}`,
      `${Math.round(end - (s.createdAt ?? end))} ms`,
    ];
    if (threads) bits.push(`thread ${threads}`);
    if (s.error) bits.push(s.error);
    return bits.join(' · ');
  }

  // ---- recently released ------------------------------------------------------------------
  function renderRecent() {
    if (view.drawnRecent === view.recentVersion) return;
    view.drawnRecent = view.recentVersion;
    const tbody = $('recent').tBodies[0];
    tbody.textContent = '';
    for (const s of view.recent) {
      const tr = tbody.insertRow();
      const outcome = s.outcome || s.state;
      const cells = [
        short(s.id),
        s.provider || s.kind || '',
        s.model || '',
        [...new Set(s.runs.map((r) => r.threadId))].join('→'),
        outcome,
        s.error || '',
        s.attempt,
        Math.round(s.releasedAt - s.createdAt),
      ];
      cells.forEach((value, i) => {
        const td = tr.insertCell();
        td.textContent = String(value);
        if (i === 0) td.className = 'id';
        if (i >= 6) td.className = 'num';
      });
      const dot = document.createElement('span');
      dot.className = 'dot';
      dot.style.background = COLORS[outcome] || COLORS.released;
      tr.cells[4].prepend(dot);
      tr.dataset.outcome = outcome;
    }
  }

  /** Draws everything from the client's state at time t (the supervisor's clock). */
  function render(state, t, clock) {
    view = state;
    now = clock;
    renderTotals(view.stats);
    renderMachine(view.stats);
    renderQueue(view.stats, t);
    renderTimeline(t);
    renderRecent();
  }

  return { drawMachine, render };
})();
