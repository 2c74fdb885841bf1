// paperex dashboard: plain JavaScript, no build step, no library, nothing fetched from elsewhere.
// Live mode: one websocket (/paperex/v1/dashboard/ws) pushes at most 4 messages a second, each
// holding only the sections (run, flow, market, chart, liquidations, insurance, leaderboard, window) that
// changed (the chart and the leaderboard at most once a second); the selected account is a REST
// query each second.
// View mode (paperex view): a time slider asks /paperex/v1/dashboard/at?time=T.
// Cheap by design (the exchange may share its cores with the browser): messages only mark
// sections dirty; one requestAnimationFrame redraws the dirty ones (none while the tab is hidden),
// and tables, texts and the chart are touched only when what they show changed.
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
  // rows and cells are reused and only the cells whose text or class changed are written, so
  // a ladder that moved by one level costs a few text nodes, not a new table
  function rows(tableId, items, cells, attrs) {
    const key = JSON.stringify(items);
    if (shown[tableId] === key) return;
    shown[tableId] = key;
    const body = $(tableId).tBodies[0];
    while (body.rows.length > items.length) body.deleteRow(-1);
    items.forEach((it, i) => {
      const tr = body.rows[i] || body.insertRow();
      if (attrs) attrs(tr, it);
      const cs = cells(it);
      for (let j = 0; j < cs.length; j++) {
        const td = tr.cells[j] || tr.insertCell();
        const c = cs[j];
        const t = show(Array.isArray(c) ? c[0] : c), cls = Array.isArray(c) ? c[1] : "";
        if (td.textContent !== t) td.textContent = t;
        if (td.className !== cls) td.className = cls;
      }
      while (tr.cells.length > cs.length) tr.deleteCell(-1);
    });
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
    const cv = $("chart");
    const ctx = cv.getContext("2d");
    const W = cv.width, H = cv.height, padR = 80;
    ctx.clearRect(0, 0, W, H);
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
    const cv = $("insurance");
    const ctx = cv.getContext("2d");
    ctx.clearRect(0, 0, cv.width, cv.height);
    if (series.length < 2) return;
    const vals = series.map((s) => +s[1]);
    const lo = Math.min(...vals), hi = Math.max(...vals) + 1e-9;
    ctx.strokeStyle = "#f0b429"; ctx.beginPath();
    vals.forEach((v, i) => {
      const px = (i / (vals.length - 1)) * cv.width, py = cv.height - ((v - lo) / (hi - lo)) * (cv.height - 4) - 2;
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

  function renderMarket(m, now) {
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
    const ladder = m.asks.slice().reverse().map((a) => ["", [a[0], "ask"], a[1]])
      .concat(m.bids.map((b) => [b[1], [b[0], "bid"], ""]));
    rows("ladder", ladder, (r) => r);
    rows("trades", m.trades, (t) => [hms(t[0]), [t[1], t[3] ? "sell" : "buy"], t[2]]);
  }

  function renderLiquidations(list) {
    rows("liquidations", list, (l) => [hms(l.time), l.symbol, l.accountId, [l.side, l.side.toLowerCase()], l.qty,
                                      l.price, l.avgPrice, l.adl ? "ADL" : l.status],
         (tr, l) => { tr.dataset.account = l.accountId; });
  }

  function renderLeaderboard(lb, win) {
    text("competition-name", lb.competition ? lb.competition.name
      : lb.count > lb.standings.length ? "(all accounts: the best " + lb.standings.length + " of " + lb.count + ")"
      : "(all accounts)");
    text("window-state", lb.final ? "final" : win ? (win.open ? "window open" : "window closed") : "");
    rows("leaderboard", lb.standings, (r) => [r.rank, r.team, r.accountId, r.equity, r["return"], r.maxDrawdown,
                                             r.liquidations, r.trades, r.volume, r.fees],
         (tr, r) => { tr.dataset.account = r.accountId; });
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
         (tr, f) => { tr.dataset.tradeId = f.tradeId; });
    rows("income", A.income, (i) => [hms(i.time), i.symbol, i.type, i.amount]);
    rows("faults", A.faults, (f) => [hms(f.time), f.seq, f.kind, f.rule, f.detail]);
    // the position's lines on the chart follow the account
    if (state.chart && JSON.stringify(a ? a.positions : null) !== linesBefore) drawChart(state.chart, a);
  }

  // a message marks its sections dirty; the next animation frame draws them
  function receive(msg) {
    for (const k of ["run", "flow", "market", "chart", "liquidations", "insurance", "leaderboard", "window"]) {
      if (k in msg) { state[k] = msg[k]; dirty.add(k); }
    }
    lastUpdate = state;
    if (!frame) frame = requestAnimationFrame(draw);
  }

  function draw() {
    frame = 0;
    if (!state.run || !state.market || !state.chart) return;      // a page draws once it has everything
    if (dirty.has("run") || dirty.has("flow")) renderRun(state.run, state.flow);
    if (dirty.has("chart")) drawChart(state.chart, lastAccount);
    if (dirty.has("market")) {
      if (!focus.symbol) { focus.symbol = state.market.symbol; $("symbol").value = focus.symbol; }
      renderMarket(state.market, state.run.time);
    } else if (dirty.has("run") && state.market.nextFundingTime) {
      text("funding-countdown", hms(Math.max(0, state.market.nextFundingTime - state.run.time)));
    }
    if (dirty.has("liquidations")) renderLiquidations(state.liquidations);
    if (dirty.has("insurance")) {
      text("insurance-balance", state.insurance.balance);
      drawInsurance(state.insurance.series);
    }
    if (dirty.has("leaderboard") || dirty.has("window")) renderLeaderboard(state.leaderboard, state.window);
    dirty.clear();
    updates += 1;
    document.body.dataset.updates = String(updates);
  }

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
    setInterval(() => { refreshInfo(); }, 5000);
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
        if (frame) { cancelAnimationFrame(frame); draw(); }
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
