// paperex dashboard: plain JavaScript, no build step, no library, nothing fetched from elsewhere.
// Live mode: one websocket (/paperex/v1/dashboard/ws) pushes at most 2 messages a second, each
// holding only the sections (run, flow, market, chart, liquidations, insurance, leaderboard, window) that
// changed (the chart and the leaderboard at most once a second); the selected account is a REST
// query each second.
// View mode (paperex view): a time slider asks /paperex/v1/dashboard/at?time=T.
// Cheap by design (the exchange may share its cores with the browser; in headless Chromium every
// drawn frame costs ~2 ms of CPU across renderer, compositor and display compositor whatever
// changed, so frames are counted, not just DOM writes): messages only mark views stale; one
// requestAnimationFrame redraws the stale views that are on screen (none while the tab is hidden);
// a view out of the window is brought up to date at most every 2 s and at once when it scrolls in;
// with no market panel on screen the page asks for the slow pace (one message a second);
// tables, texts and the charts are touched only when what they show changed.
"use strict";
(function () {
  const MODE = document.body.dataset.mode;
  const params = new URLSearchParams(location.search);
  const TOKEN = params.get("token") || "";
  const focus = { symbol: params.get("symbol") || null,
                  account: params.get("account") ? Number(params.get("account")) : null };
  let info = null;
  let lastUpdate = null;
  let lastAccount = null;
  let ws = null;
  let updates = 0;
  const state = {};           // the sections last received (live: merged from partial messages)
  const dirty = new Set();    // sections received since the last frame
  let frame = 0;
  const shown = {};           // element / table id -> what it shows now (skip identical redraws)

  const $ = (id) => document.getElementById(id);
  const show = (v) => (v === null || v === undefined || v === "") ? "-" : String(v);
  function text(id, v) {
    const t = show(v);
    if (shown[id] === t) return;
    const el = $(id);
    if (el) { el.textContent = t; shown[id] = t; }
  }
  function iso(ms) { return (ms || ms === 0) ? new Date(ms).toISOString().replace("T", " ").slice(0, 23) : "-"; }
  function hms(ms) { return new Date(ms).toISOString().slice(11, 19); }
  function headers(json) {
    const h = {};
    if (TOKEN) h["X-PAPEREX-TOKEN"] = TOKEN;
    if (json) h["Content-Type"] = "application/json";
    return h;
  }
  function bytes(n) {
    if (n === null || n === undefined) return "-";
    if (n > 1 << 30) return (n / (1 << 30)).toFixed(2) + " GiB";
    if (n > 1 << 20) return (n / (1 << 20)).toFixed(1) + " MiB";
    return (n / 1024).toFixed(1) + " KiB";
  }

  // rows(tableId, items, cells(item) -> [value | [value, class]], attrs(tr, item)): the table's
  // rows and cells are reused and only the cells whose text or class changed are written (what
  // a cell shows is kept in JS: no DOM reads), so a ladder that moved by one level costs a few
  // text nodes, not a new table
  function rows(tableId, items, cells, attrs) {
    const body = $(tableId).tBodies[0];
    while (body.rows.length > items.length) body.deleteRow(-1);
    for (let i = 0; i < items.length; i++) {
      const it = items[i];
      const tr = body.rows[i] || body.insertRow();
      if (attrs) attrs(tr, it);
      const cs = cells(it);
      const had = tr._cells || (tr._cells = []);
      for (let j = 0; j < cs.length; j++) {
        const c = cs[j];
        const t = show(Array.isArray(c) ? c[0] : c), cls = Array.isArray(c) ? c[1] : "";
        let h = had[j];
        if (h === undefined) { tr.insertCell(); h = had[j] = ["", ""]; }
        if (h[0] === t && h[1] === cls) continue;
        const td = tr.cells[j];
        if (h[0] !== t) { td.textContent = t; h[0] = t; }
        if (h[1] !== cls) { td.className = cls; h[1] = cls; }
      }
      while (tr.cells.length > cs.length) { tr.deleteCell(-1); had.pop(); }
    }
  }

  function data(el, k, v) { const t = String(v); if (el.dataset[k] !== t) el.dataset[k] = t; }

  // a canvas drawn at the size it is shown (no scaling when composited); sizes come from a
  // ResizeObserver, so drawing never forces a layout
  const sizes = {};
  function canvas(id) {
    const cv = $(id), sz = sizes[id];
    if (sz && (cv.width !== sz[0] || cv.height !== sz[1])) { cv.width = sz[0]; cv.height = sz[1]; }
    const ctx = cv.getContext("2d");
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, cv.width, cv.height);
    const k = sz ? sz[2] : 1;
    ctx.scale(k, k);
    return [ctx, cv.width / k, cv.height / k];
  }

  function fillSelect(sel, options, current) {
    const prev = current === null || current === undefined ? "" : String(current);
    const keep = sel.id === "account" ? [["", "(none)"]] : [];
    const all = keep.concat(options);
    if (sel.options.length === all.length && all.every((o, i) => sel.options[i].value === String(o[0]))) return;
    sel.replaceChildren(...all.map(([v, label]) => {
      const o = document.createElement("option"); o.value = String(v); o.textContent = label; return o;
    }));
    sel.value = prev;
  }

  // ---------------------------------------------------------------- chart
  function drawChart(m, acct) {
    const [ctx, W, H] = canvas("chart");
    const padR = 80;
    const candles = m.candles.map((c) => [c[0], +c[1], +c[2], +c[3], +c[4]]);
    const mark = m.mark.map((p) => [p[0], +p[1]]);
    const index = m.index.map((p) => [p[0], +p[1]]);
    const levels = [];
    if (acct) {
      for (const p of acct.positions) {
        if (p.symbol !== m.symbol) continue;
        levels.push([+p.entryPrice, "#bbbbbb", "entry"]);
        if (p.liquidationPrice) levels.push([+p.liquidationPrice, "#e5534b", "liq"]);
        if (p.bankruptcyPrice) levels.push([+p.bankruptcyPrice, "#c678dd", "bkr"]);
      }
    }
    const times = candles.map((c) => c[0]).concat(mark.map((p) => p[0]), index.map((p) => p[0]));
    let lo = Infinity, hi = -Infinity;
    for (const c of candles) { lo = Math.min(lo, c[3]); hi = Math.max(hi, c[2]); }
    for (const p of mark.concat(index)) { lo = Math.min(lo, p[1]); hi = Math.max(hi, p[1]); }
    if (m.markPrice) { lo = Math.min(lo, +m.markPrice); hi = Math.max(hi, +m.markPrice); }
    for (const l of levels) { lo = Math.min(lo, l[0]); hi = Math.max(hi, l[0]); }
    if (!isFinite(lo) || !times.length) {
      ctx.fillStyle = "#8a96a3"; ctx.fillText("no prices yet", 10, 20); return;
    }
    if (hi === lo) { hi += 1; lo -= 1; }
    const span = hi - lo; hi += span * 0.05; lo -= span * 0.05;
    const step = m.candleMs || 60000;
    const t1 = Math.max(...times) + step;
    const t0 = Math.min(Math.min(...times), t1 - 60 * step);     // at least 60 candles wide
    const x = (t) => ((t - t0) / (t1 - t0)) * (W - padR);
    const y = (p) => H - ((p - lo) / (hi - lo)) * H;
    const cw = Math.max(2, ((W - padR) / Math.max(1, (t1 - t0) / step)) * 0.6);
    ctx.font = "11px sans-serif";
    for (const [t, o, h, l, c] of candles) {
      ctx.strokeStyle = ctx.fillStyle = c >= o ? "#2fbf71" : "#e5534b";
      const cx = x(t) + cw / 2;
      ctx.beginPath(); ctx.moveTo(cx, y(h)); ctx.lineTo(cx, y(l)); ctx.stroke();
      ctx.fillRect(cx - cw / 2, Math.min(y(o), y(c)), cw, Math.max(1, Math.abs(y(o) - y(c))));
    }
    const line = (pts, color) => {
      if (!pts.length) return;
      ctx.strokeStyle = color; ctx.beginPath();
      pts.forEach(([t, p], i) => (i ? ctx.lineTo(x(t) + cw / 2, y(p)) : ctx.moveTo(x(t) + cw / 2, y(p))));
      ctx.stroke();
    };
    line(index, "#58a6ff");
    line(mark, "#f0b429");
    for (const [p, color, label] of levels) {
      ctx.strokeStyle = ctx.fillStyle = color; ctx.setLineDash([4, 4]);
      ctx.beginPath(); ctx.moveTo(0, y(p)); ctx.lineTo(W - padR, y(p)); ctx.stroke();
      ctx.setLineDash([]); ctx.fillText(label + " " + p, W - padR + 2, y(p) + 4);
    }
    ctx.fillStyle = "#8a96a3";
    ctx.fillText(hi.toFixed(2), W - padR + 2, 12);
    ctx.fillText(lo.toFixed(2), W - padR + 2, H - 4);
  }

  function drawInsurance(series) {
    const [ctx, W, H] = canvas("insurance");
    if (series.length < 2) return;
    const vals = series.map((s) => +s[1]);
    const lo = Math.min(...vals), hi = Math.max(...vals) + 1e-9;
    ctx.strokeStyle = "#f0b429"; ctx.beginPath();
    vals.forEach((v, i) => {
      const px = (i / (vals.length - 1)) * W, py = H - ((v - lo) / (hi - lo)) * (H - 4) - 2;
      i ? ctx.lineTo(px, py) : ctx.moveTo(px, py);
    });
    ctx.stroke();
  }

  // ---------------------------------------------------------------- render
  function renderRun(run, flow) {
    text("run-seq", run.lastSeq);
    text("run-clock", run.clock + (run.speed ? " x" + run.speed : ""));
    text("run-time", iso(run.time));
    text("run-rate", run.commandsPerSecond);
    text("run-journal", bytes(run.journalBytes));
    text("run-ws", run.dashboardClients === null ? run.wsClients : run.wsClients + " + " + run.dashboardClients + " pages");
    text("run-flow", flow.kind ? flow.kind + (flow.scenario ? " / " + flow.scenario : "") + (flow.paused ? " (paused)" : "") : "none");
  }

  function renderQuotes(m, now) {
    text("market-symbol", m.symbol);
    text("mark-price", m.markPrice ? m.markPrice + (m.markPinned ? " (pinned)" : "") : null);
    text("index-price", m.indexPrice);
    text("last-price", m.lastPrice);
    text("funding-rate", m.fundingRate === null ? null : (Number(m.fundingRate) * 100).toFixed(4) + " %");
    const left = m.nextFundingTime ? Math.max(0, m.nextFundingTime - now) : null;
    text("funding-countdown", left === null ? null : hms(left));
    text("open-interest", m.openInterest);
    text("best-bid", m.bids.length ? m.bids[0][0] : null);
    text("best-ask", m.asks.length ? m.asks[0][0] : null);
  }

  function renderLadder(m) {
    const ladder = [];
    for (let i = m.asks.length - 1; i >= 0; i--) ladder.push(["", [m.asks[i][0], "ask"], m.asks[i][1]]);
    for (const b of m.bids) ladder.push([b[1], [b[0], "bid"], ""]);
    rows("ladder", ladder, (r) => r);
  }

  function renderTrades(m) {
    rows("trades", m.trades, (t) => [hms(t[0]), [t[1], t[3] ? "sell" : "buy"], t[2]]);
  }

  function renderLiquidations(list) {
    rows("liquidations", list, (l) => [hms(l.time), l.symbol, l.accountId, [l.side, l.side.toLowerCase()], l.qty,
                                      l.price, l.avgPrice, l.adl ? "ADL" : l.status],
         (tr, l) => data(tr, "account", l.accountId));
  }

  function renderLeaderboard(lb, win) {
    text("competition-name", lb.competition ? lb.competition.name
      : lb.count > lb.standings.length ? "(all accounts: the best " + lb.standings.length + " of " + lb.count + ")"
      : "(all accounts)");
    text("window-state", lb.final ? "final" : win ? (win.open ? "window open" : "window closed") : "");
    rows("leaderboard", lb.standings, (r) => [r.rank, r.team, r.accountId, r.equity, r["return"], r.maxDrawdown,
                                             r.liquidations, r.trades, r.volume, r.fees],
         (tr, r) => data(tr, "account", r.accountId));
  }

  let accountKey = null;
  function renderAccount(a) {
    const key = JSON.stringify(a);
    if (key === accountKey) return;
    accountKey = key;
    const linesBefore = JSON.stringify(lastAccount ? lastAccount.positions : null);
    lastAccount = a;
    text("account-id", a ? a.accountId : null);
    text("acct-equity", a && a.equity); text("acct-wallet", a && a.walletBalance);
    text("acct-available", a && a.availableBalance);
    text("acct-margin-ratio", a ? (Number(a.marginRatio) * 100).toFixed(2) + " %" : null);
    const A = a || { positions: [], openOrders: [], algoOrders: [], fills: [], income: [], faults: [] };
    rows("positions", A.positions, (p) => [p.symbol, p.positionSide, p.qty, p.entryPrice, p.markPrice, p.unrealizedPnl,
                                          p.leverage, p.marginType, p.liquidationPrice, p.bankruptcyPrice]);
    rows("orders", A.openOrders, (o) => [o.orderId, o.symbol, [o.side, o.side.toLowerCase()], o.type, o.price, o.qty, o.filled]);
    rows("algo-orders", A.algoOrders, (o) => [o.orderId, o.symbol, [o.side, o.side.toLowerCase()], o.type, o.stopPrice, o.qty]);
    rows("fills", A.fills, (f) => [hms(f.time), f.tradeId, f.symbol, [f.side, f.side.toLowerCase()], f.price, f.qty,
                                  f.maker ? "maker" : "taker", f.fee, f.realizedPnl],
         (tr, f) => data(tr, "tradeId", f.tradeId));
    rows("income", A.income, (i) => [hms(i.time), i.symbol, i.type, i.amount]);
    rows("faults", A.faults, (f) => [hms(f.time), f.seq, f.kind, f.rule, f.detail]);
    // the position's lines on the chart follow the account
    if (JSON.stringify(a ? a.positions : null) !== linesBefore) stale("chart");
  }

  // ---------------------------------------------------------------- views
  // A view is a part of the page drawn from some sections: [name, element watched for visibility,
  // sections, render]. A message marks the views of its sections stale; the next animation frame
  // redraws the stale ones on screen. One out of the window (IntersectionObserver) waits: it is
  // redrawn when it scrolls in, and at most every OFFSCREEN_MS meanwhile (what it shows stays
  // current for anything reading the page, at a fraction of the frames).
  const OFFSCREEN_MS = 2000;
  const VIEWS = [
    ["run", "run", ["run", "flow"], () => renderRun(state.run, state.flow)],
    ["chart", "chart", ["chart"], () => drawChart(state.chart, lastAccount)],
    ["quotes", "quotes", ["market", "run"], () => renderQuotes(state.market, state.run.time)],
    ["ladder", "ladder", ["market"], () => renderLadder(state.market)],
    ["trades", "trades", ["market"], () => renderTrades(state.market)],
    ["liquidations", "liquidations", ["liquidations"], () => renderLiquidations(state.liquidations)],
    ["insurance", "insurance", ["insurance"],
     () => { text("insurance-balance", state.insurance.balance); drawInsurance(state.insurance.series); }],
    ["leaderboard", "leaderboard", ["leaderboard", "window"], () => renderLeaderboard(state.leaderboard, state.window)],
  ];
  const staleViews = new Set();
  const onScreen = new Set();          // view names whose element is in the window
  const drawnAt = {};                  // view name -> performance.now() of its last drawing
  let catchUp = 0;                     // the timer that brings views out of the window up to date

  function stale(name) {
    staleViews.add(name);
    if (!frame) frame = requestAnimationFrame(draw);
  }

  // a message marks the views of its sections stale; the next animation frame draws them
  function receive(msg) {
    if (msg.type === "error") { console.error(`dashboard feed refused a message: ${msg.code} ${msg.msg}`); return; }
    let any = false;
    for (const k of ["run", "flow", "market", "chart", "liquidations", "insurance", "leaderboard", "window"]) {
      if (k in msg) { state[k] = msg[k]; dirty.add(k); any = true; }
    }
    lastUpdate = state;
    if (msg.full) for (const v of VIEWS) staleViews.add(v[0]);     // a new page or focus: everything
    for (const v of VIEWS) if (v[2].some((k) => dirty.has(k))) staleViews.add(v[0]);
    dirty.clear();
    // a frame only when a view it would draw is stale: a message that changes only views out of
    // the window costs no frame (the catch-up timer brings them up to date)
    if (any && !frame) {
      if (due(performance.now())) frame = requestAnimationFrame(draw);
      else armCatchUp();
    }
  }

  function due(now) {
    for (const name of staleViews) {
      const last = drawnAt[name];
      if (!observer || onScreen.has(name) || last === undefined || now - last >= OFFSCREEN_MS) return true;
    }
    return false;
  }

  function armCatchUp() {
    if (!catchUp) catchUp = setTimeout(() => { catchUp = 0; if (!frame) frame = requestAnimationFrame(draw); }, OFFSCREEN_MS);
  }

  // everything: the view mode draws the whole page for the time it shows
  function draw(everything) {
    frame = 0;
    if (!state.run || !state.market || !state.chart) return;      // a page draws once it has everything
    if (!focus.symbol) { focus.symbol = state.market.symbol; $("symbol").value = focus.symbol; }
    const now = performance.now();
    let drew = false, waiting = false;
    for (const [name, , , render] of VIEWS) {
      if (!staleViews.has(name)) continue;
      const last = drawnAt[name];
      // a view out of the window rides along in a frame drawn anyway once most of its period passed
      if (everything === true || !observer || onScreen.has(name) || last === undefined || now - last >= OFFSCREEN_MS * 3 / 4) {
        render();
        staleViews.delete(name);
        drawnAt[name] = now;
        drew = true;
      } else {
        waiting = true;
      }
    }
    // views out of the window catch up in a frame drawn anyway, or in one of their own once
    // OFFSCREEN_MS have passed
    if (waiting) armCatchUp();
    else if (catchUp) { clearTimeout(catchUp); catchUp = 0; }
    if (drew) {
      updates += 1;
      document.body.dataset.updates = String(updates);
    }
  }

  // The page's pace: "slow" while none of the views on screen shows a section that changes
  // faster than once a second (the run panel, the chart and the leaderboard change once a
  // second): the server then sends it one message a second instead of two. Told to the server
  // with the focus (it answers with everything, so a change of pace loses nothing).
  const FAST = new Set(["quotes", "ladder", "trades", "liquidations", "insurance"]);
  let paceTimer = 0;
  function pace() {
    for (const name of onScreen) if (FAST.has(name)) return undefined;
    return "slow";
  }
  function repace() {
    paceTimer = 0;
    const p = pace();
    if (p === focus.pace) return;
    if (p === undefined) delete focus.pace; else focus.pace = p;
    if (ws && ws.readyState === 1) ws.send(JSON.stringify(focus));
  }

  const observer = typeof IntersectionObserver === "function" ? new IntersectionObserver((entries) => {
    let wake = false;
    for (const e of entries) {
      const name = e.target.dataset.view;
      if (e.isIntersecting) { onScreen.add(name); wake = wake || staleViews.has(name); }
      else onScreen.delete(name);
    }
    if (wake && !frame) frame = requestAnimationFrame(draw);
    // settle first (a scroll crosses several views): a change of pace costs a whole message
    if (MODE === "live" && !paceTimer) paceTimer = setTimeout(repace, 300);
  }) : null;
  const resized = typeof ResizeObserver === "function" ? new ResizeObserver((entries) => {
    const k = window.devicePixelRatio || 1;
    for (const e of entries) {
      const box = e.contentBoxSize && e.contentBoxSize[0];
      const w = box ? box.inlineSize : e.contentRect.width, h = box ? box.blockSize : e.contentRect.height;
      if (!w || !h) continue;
      sizes[e.target.id] = [Math.round(w * k), Math.round(h * k), k];
      stale(e.target.dataset.view);
    }
  }) : null;
  for (const [name, id] of VIEWS) {
    const el = $(id);
    el.dataset.view = name;
    if (observer) observer.observe(el);
  }
  if (resized) { resized.observe($("chart")); resized.observe($("insurance")); }

  // ---------------------------------------------------------------- live mode
  function connect() {
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    ws = new WebSocket(proto + "//" + location.host + "/paperex/v1/dashboard/ws");
    ws.onopen = () => { text("conn", "live"); ws.send(JSON.stringify(focus)); };
    ws.onmessage = (ev) => receive(JSON.parse(ev.data));
    ws.onclose = () => { text("conn", "disconnected"); if (!leaving) setTimeout(connect, 1000); };
  }
  // a page kept in the back-forward cache must not hold its websocket open on the server
  let leaving = false;
  window.addEventListener("pagehide", () => { leaving = true; if (ws) ws.close(); });
  window.addEventListener("pageshow", (e) => { if (e.persisted && MODE === "live") { leaving = false; connect(); } });

  async function pollAccount() {
    if (focus.account === null || (info.tokenRequired && !info.tokenValid)) { renderAccount(null); return; }
    const r = await fetch("/paperex/v1/dashboard/account?accountId=" + focus.account, { headers: headers(false) });
    const body = await r.json();
    renderAccount(r.ok ? body : null);
  }

  async function refreshInfo() {
    const r = await fetch("/paperex/v1/dashboard/info", { headers: headers(false) });
    info = await r.json();
    fillSelect($("symbol"), info.symbols.map((s) => [s, s]), focus.symbol || info.symbols[0]);
    if (MODE === "live") {
      fillSelect($("account"), info.accounts.map((a) => [a.accountId, a.accountId + (a.label ? " " + a.label : "")]),
                 focus.account);
    }
  }

  async function control(path, payload) {
    const r = await fetch("/paperex/v1" + path, { method: "POST", headers: headers(true),
                                                   body: JSON.stringify(payload || {}) });
    const body = await r.json();
    text("control-note", r.ok ? "ok: " + JSON.stringify(body) : "error " + body.code + ": " + body.msg);
  }

  function setUpControls() {
    const allowed = !info.tokenRequired || info.tokenValid;
    for (const b of document.querySelectorAll("[data-control]")) b.disabled = !allowed;
    if (!allowed) text("control-note", "control API needs a token: open the page with ?token=...");
    fillSelect($("in-scenario"), info.scenarios.map((s) => [s, s]), info.scenarios[0]);
    const sym = () => focus.symbol;
    $("btn-pause").onclick = () => control("/flow/pause");
    $("btn-resume").onclick = () => control("/flow/resume");
    $("btn-index").onclick = () => control("/index", { symbol: sym(), price: $("in-index").value });
    $("btn-mark").onclick = () => control("/mark", { symbol: sym(), price: $("in-mark").value });
    $("btn-unpin").onclick = () => control("/mark", { symbol: sym(), price: null });
    $("btn-advance").onclick = () => control("/clock/advance", { seconds: $("in-advance").value });
    $("btn-scenario").onclick = () => control("/flow/scenario", { scenario: $("in-scenario").value });
  }

  async function startLive() {
    await refreshInfo();
    setUpControls();
    connect();
    setInterval(() => { pollAccount(); }, 1000);
    // the symbols and accounts offered: fresh when a list is opened, and every 30 s (a poll
    // every few seconds would cost the browser more than the page's own updates)
    for (const id of ["symbol", "account"]) $(id).addEventListener("focus", () => { refreshInfo(); });
    setInterval(() => { refreshInfo(); }, 30000);
  }

  // ---------------------------------------------------------------- view mode
  let pending = null, loading = false;
  async function loadAt(t) {
    if (loading) { pending = t; return; }
    loading = true;
    try {
      let q = "/paperex/v1/dashboard/at?time=" + t + "&symbol=" + encodeURIComponent(focus.symbol || "");
      if (focus.account !== null) q += "&accountId=" + focus.account;
      const r = await fetch(q);
      const msg = await r.json();
      if (r.ok) {
        renderAccount(msg.account);
        fillSelect($("account"), msg.accounts.map((a) => [a.accountId, String(a.accountId)]), focus.account);
        receive(msg);
        if (frame) cancelAnimationFrame(frame);
        draw(true);
        text("view-time", iso(msg.time));
        text("view-seq", msg.seq);
        const d = $("state-digest");
        d.textContent = msg.stateDigest;
        d.dataset.time = String(msg.time);
      }
    } finally {
      loading = false;
      if (pending !== null) { const p = pending; pending = null; loadAt(p); }
    }
  }

  async function startView() {
    await refreshInfo();
    text("conn", "read-only: " + info.journal);
    const s = $("slider");
    s.min = String(info.firstTime); s.max = String(info.lastTime); s.value = String(info.lastTime);
    s.addEventListener("input", () => loadAt(Number(s.value)));
    s.addEventListener("change", () => loadAt(Number(s.value)));
    await loadAt(info.lastTime);
  }

  // ---------------------------------------------------------------- wiring
  $("symbol").addEventListener("change", (e) => {
    focus.symbol = e.target.value;
    if (MODE === "live") { if (ws && ws.readyState === 1) ws.send(JSON.stringify(focus)); }
    else loadAt(Number($("slider").value));
  });
  $("account").addEventListener("change", (e) => {
    focus.account = e.target.value === "" ? null : Number(e.target.value);
    if (MODE === "live") pollAccount(); else loadAt(Number($("slider").value));
  });
  window.paperexDashboard = { focus, last: () => lastUpdate, account: () => lastAccount, loadAt };
  (MODE === "view" ? startView() : startLive());
})();
