// The live view's script, inlined into live-view.html (after live-view-draw.js) by live-view.ts.
// Plain browser JavaScript. It rebuilds each session from the supervisor's `transition` and
// `started` events (see live-feed.ts), assigns each run a sub-row in its thread's lane once (so that
// bars never jump), and has LiveDraw draw it all a few times a second. Memory stays bounded:
// sessions older than the window are dropped.
'use strict';
(() => {
  const MAX_SESSIONS = 4000;
  const $ = (id) => document.getElementById(id);
  const view = {
    machine: null,
    stats: null,
    windowMs: 30000,
    clock: { server: 0, local: 0 },
    dropped: 0,
    sessions: new Map(),
    lanes: new Map(),
    queueRows: [],
    recent: [],
    recentVersion: 0,
    drawnRecent: -1,
    samples: [],
  };

  const now = () => view.clock.server + (performance.now() - view.clock.local);

  // ---- connection -------------------------------------------------------------------------
  function connect() {
    const ws = new WebSocket(`ws://${location.host}/events`);
    ws.onopen = () => setConn('live', 'live');
    ws.onmessage = (message) => receive(JSON.parse(message.data));
    ws.onclose = () => {
      setConn('disconnected', 'disconnected: retrying');
      setTimeout(connect, 2000);
    };
  }

  function setConn(state, text) {
    const conn = $('conn');
    conn.dataset.state = state;
    conn.textContent = text;
  }

  function receive(message) {
    view.clock = { server: message.now, local: performance.now() };
    if (message.type === 'hello') reset(message);
    for (const event of message.events) apply(event);
    view.stats = message.stats;
    view.dropped = message.dropped || 0;
    view.samples.push({ t: message.now, queued: message.stats.queued, processing: message.stats.states.processing });
  }

  function reset(hello) {
    view.machine = hello.machine;
    view.windowMs = hello.windowMs;
    view.sessions.clear();
    view.lanes.clear();
    view.queueRows = [];
    view.recent = [];
    view.samples = [];
    view.recentVersion++;
    $('window-label').textContent = `last ${Math.round(hello.windowMs / 1000)} s`;
    $('machine-id').textContent = `#${hello.machine.id}`;
    LiveDraw.drawMachine(hello.machine);
  }

  // ---- sessions from events ---------------------------------------------------------------
  function sessionOf(event) {
    let s = view.sessions.get(event.sessionId);
    if (s === undefined) {
      s = { id: event.sessionId, requestId: event.requestId, runs: [], attempt: 0, state: 'created' };
      view.sessions.set(event.sessionId, s);
    }
    return s;
  }

  function apply(event) {
    const s = sessionOf(event);
    s.attempt = Math.max(s.attempt, event.attempt || 0);
    if (event.type === 'started') return startRun(s, event.threadId, event.at);
    Object.assign(s, { provider: event.provider, model: event.model, kind: event.kind, state: event.to });
    if (event.error) s.error = event.error.code;
    if (event.outcome) s.outcome = event.outcome;
    if (event.to === 'created') {
      s.createdAt = event.at;
      s.queueRow = freeRow(view.queueRows, event.at, s);
    } else if (event.to === 'processing') s.dispatchedAt = event.at;
    else if (event.to === 'completed' || event.to === 'failed') s.endedAt = event.at;
    else if (event.to === 'released') release(s, event.at);
    // A history cut short may have lost the started event: the transition still says where it ran.
    if (event.threadId !== undefined && s.runs.length === 0) startRun(s, event.threadId, s.dispatchedAt ?? event.at);
  }

  function release(s, at) {
    s.releasedAt = at;
    if (s.createdAt === undefined) s.createdAt = s.dispatchedAt ?? at;
    view.recent.unshift(s);
    if (view.recent.length > 14) view.recent.length = 14;
    view.recentVersion++;
  }

  function startRun(s, threadId, at) {
    let lane = view.lanes.get(threadId);
    if (lane === undefined) view.lanes.set(threadId, (lane = { id: threadId, rows: [], lastAt: at }));
    const run = { threadId, at, session: s };
    run.row = freeRow(lane.rows, at, run);
    lane.lastAt = Math.max(lane.lastAt, at);
    s.runs.push(run);
  }

  /** The lowest row whose occupant is over by `at` (rows are kept for the bar's whole life). */
  function freeRow(rows, at, occupant) {
    let row = rows.findIndex((o) => o === undefined || endOf(o) <= at);
    if (row < 0) row = rows.length;
    rows[row] = occupant;
    return row;
  }

  function endOf(occupant) {
    if (occupant.runs !== undefined) return occupant.dispatchedAt ?? occupant.endedAt ?? Infinity; // a queued session
    const s = occupant.session;
    const next = s.runs[s.runs.indexOf(occupant) + 1];
    return next !== undefined ? next.at : (s.releasedAt ?? Infinity);
  }

  function prune(t) {
    const cutoff = t - view.windowMs - 2000;
    let excess = view.sessions.size - MAX_SESSIONS;
    for (const [id, s] of view.sessions) {
      if (s.releasedAt !== undefined && (s.releasedAt < cutoff || excess > 0)) {
        view.sessions.delete(id);
        excess--;
      }
    }
    for (const [id, lane] of view.lanes) {
      if (lane.lastAt < cutoff && lane.rows.every((o) => o === undefined || endOf(o) < cutoff)) view.lanes.delete(id);
    }
    while (view.samples.length > 0 && view.samples[0].t < t - view.windowMs) view.samples.shift();
  }

  // ---- loop -------------------------------------------------------------------------------
  function render() {
    if (view.stats !== null) {
      const t = now();
      prune(t);
      LiveDraw.render(view, t, now);
    }
    setTimeout(() => requestAnimationFrame(render), 150);
  }

  connect();
  render();
})();
