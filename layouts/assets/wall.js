/* The wall's renderer: keeps the open cases in memory, draws boards, KPI strip and
 * map markers from them, and ticks countdowns every second in the browser. */
(function () {
  "use strict";
  var ch = window.commandhall;
  var page = ch.page;
  // changes: what arrived since the last render, for layers that update in place
  // ({added, updated, removed}: arrays of case ids; full: the whole set was replaced).
  var wall = {
    cases: new Map(), kpis: null, meta: null, loaded: false, changes: freshChanges(true),
    page: 0, pages: 1, rotations: 0, units: {}, pending: null, early: [], redraws: 0,
    // The server's rules (layouts/wall.py meta): which states are open, which stop the clock.
    open: new Set(), stopped: new Set(),
    groups: null, // per department, from load() on
  };

  function freshChanges(full) { return { full: full, added: [], updated: [], removed: [] }; }
  var MAX_BOARD_CASES = 12;
  // Pushes come up to 10 a second; the wall redraws once for all that came within this.
  var REDRAW_MS = 400;
  var MAX_TURN_WAIT_MS = 60000; // setTimeout misfires beyond 2^31 ms; look again instead

  function now() { return ch.has("live") ? ch.get("live").now() : Date.now(); }

  // The one light rule of the browser (01-clock.js); map.js uses it through the wall.
  var rule = ch.get("clock");
  function clockOf(c) { return rule.of(c, wall.stopped); }
  wall.clockOf = clockOf;
  var lightAt = rule.lightAt;
  wall.lightAt = lightAt;
  function light(c, at) { return lightAt(clockOf(c), at); }
  wall.light = light;
  var countdown = rule.countdown;
  wall.countdown = countdown;

  // Every open case by department, and the emergency ones, kept as pushes come
  // (assets/wall-boards.js): a redraw never walks or sorts all the cases.
  function boards() { return ch.get("boards"); }
  function freshGroups() {
    return {
      all: new (boards().Groups)(clockOf, function () { return true; }),
      emergency: new (boards().Groups)(clockOf, function (c) { return !!c.em; }),
    };
  }
  function index(c, add) {
    wall.groups.all[add ? "add" : "remove"](c);
    wall.groups.emergency[add ? "add" : "remove"](c);
  }

  function h(type, props, children) {
    var p = Object.assign({}, props);
    if (children !== undefined) { p.children = children; }
    return { type: type, namespace: "dash_html_components", props: p };
  }

  function apply(message) {
    var changes = wall.changes;
    (message.cases || []).forEach(function (c) {
      var known = wall.cases.get(c.id);
      if (known) { index(known, false); }
      if (wall.open.has(c.st)) {
        wall.cases.set(c.id, c);
        index(c, true);
        (known ? changes.updated : changes.added).push(c.id);
      } else if (known) {
        wall.cases.delete(c.id);
        changes.removed.push(c.id);
      }
    });
    if (message.kpis) {
      // The hourly trend comes only with the slower figures; keep it in between.
      var trend = message.kpis.trend || (wall.kpis && wall.kpis.trend) || [];
      wall.kpis = Object.assign({}, message.kpis, { trend: trend });
    }
    if (message.units) { wall.units = message.units; }
    if (ch.has("live")) { ch.get("live").sync(message.now); }
  }

  // A snapshot sends cases as {cols, rows}; pushes as objects.
  function unpack(cases) {
    if (!cases || !cases.cols) { return cases || []; }
    return cases.rows.map(function (row) {
      var c = {};
      for (var i = 0; i < cases.cols.length; i++) { c[cases.cols[i]] = row[i]; }
      return c;
    });
  }

  function load(snapshot) {
    wall.cases.clear();
    wall.groups = freshGroups();
    wall.changes = freshChanges(true);
    wall.meta = snapshot.meta || wall.meta;
    wall.open = new Set(wall.meta.states.open);
    wall.stopped = new Set(wall.meta.light.stopped);
    apply(Object.assign({}, snapshot, { cases: unpack(snapshot.cases) }));
  }
  wall.load = load;

  /* Only whole case rows (issue 8): how many fit is measured on a hidden sample board
   * styled like the real ones, and again when the screen's size or its fonts change. */
  var fittedRows = null;
  function rowsPerBoard() {
    var container = document.getElementById("wall-boards");
    if (fittedRows !== null || !container || !container.clientHeight) {
      return fittedRows === null ? MAX_BOARD_CASES : fittedRows;
    }
    var probe = document.createElement("div");
    probe.className = "boards board-probe";
    probe.style.width = container.clientWidth + "px";
    probe.style.height = container.clientHeight + "px";
    probe.innerHTML = '<div class="board"><div class="board-head"><span class="board-name">字</span>' +
      '<span class="count">0</span></div><div class="board-rates"><span>字</span></div>' +
      '<div class="board-cases">' + new Array(3).join(
        '<div class="case-row"><span class="case-name">字</span><span class="countdown">00:00:00</span></div>') +
      "</div></div>";
    document.body.appendChild(probe);
    var board = probe.firstChild.getBoundingClientRect();
    var rows = probe.querySelectorAll(".case-row");
    var first = rows[0].getBoundingClientRect();
    var pitch = rows[1].getBoundingClientRect().bottom - first.bottom;
    var style = window.getComputedStyle(probe.firstChild);
    var inner = board.bottom - parseFloat(style.paddingBottom) - parseFloat(style.borderBottomWidth);
    probe.remove();
    var slack = inner - first.bottom + 0.5; // half a pixel of rounding is no cut
    var fit = slack >= 0 ? 1 + Math.floor(slack / pitch) : 0;
    fittedRows = Math.min(MAX_BOARD_CASES, fit);
    return fittedRows;
  }
  function refit() {
    fittedRows = null;
    if (wall.loaded) { window.dash_clientside.set_props("wall-tick", { data: Date.now() }); }
  }
  window.addEventListener("resize", refit);
  if (document.fonts) { document.fonts.addEventListener("loadingdone", refit); }
  wall.rowsPerBoard = rowsPerBoard;

  function percent(x) { return x === null || x === undefined ? "—" : (x * 100).toFixed(1) + "%"; }

  function kpiStrip() {
    var k = wall.kpis || {};
    var t = wall.meta.labels;
    function cell(key, value) {
      return h("Div", { className: "kpi", "data-kpi": key }, [
        h("Div", { className: "kpi-value" }, value),
        h("Div", { className: "kpi-label" }, t[key]),
      ]);
    }
    // A rate over the last 30 days, with the calendar month's under it: on a month's
    // first days nothing is due yet and the month alone would show "—" (issue 11).
    function rate(key) {
      var month = k[key];
      return h("Div", { className: "kpi kpi-rate", "data-kpi": key + "_30d" }, [
        h("Div", { className: "kpi-value" }, percent(k[key + "_30d"])),
        h("Div", { className: "kpi-label" }, t[key + "_30d"]),
        h("Div", { className: "kpi-month", "data-kpi-month": key },
          month === null || month === undefined ? t.month_none : t.month_short + " " + percent(month)),
      ]);
    }
    var trend = k.trend || [];
    var top = Math.max.apply(null, [1].concat(trend));
    var bars = trend.map(function (n, i) {
      return h("Span", { className: "bar", title: i + ":00 " + n,
        style: { height: Math.max(4, Math.round(100 * n / top)) + "%" } });
    });
    return [
      h("Div", { className: "kpi kpi-trend", "data-kpi": "trend" }, [
        h("Div", { className: "sparkline" }, bars),
        h("Div", { className: "kpi-label" }, t.trend),
      ]),
      cell("reported", String(k.reported || 0)), cell("filed", String(k.filed || 0)),
      cell("dispatched", String(k.dispatched || 0)), cell("closed", String(k.closed || 0)),
      rate("closure_rate"), rate("on_time_rate"),
    ];
  }

  /* The emergency board's strip: open and overdue emergency cases (counted here, so
   * they turn with time), inspector reports per hour and the on-time rate. */
  function emergencyStrip(at) {
    var t = wall.meta.labels;
    var figures = (wall.kpis && wall.kpis.emergency) || {};
    var totals = wall.groups.emergency.totals(at);
    var hours = figures.reports_per_hour || [];
    var top = Math.max.apply(null, [1].concat(hours));
    function cell(key, value) {
      return h("Div", { className: "kpi kpi-emergency", "data-kpi": key }, [
        h("Div", { className: "kpi-value" }, value),
        h("Div", { className: "kpi-label" }, t[key]),
      ]);
    }
    return [
      h("Div", { className: "kpi kpi-trend kpi-emergency", "data-kpi": "em_reports" }, [
        h("Div", { className: "sparkline" }, hours.map(function (n) {
          return h("Span", { className: "bar", style: { height: Math.max(4, Math.round(100 * n / top)) + "%" } });
        })),
        h("Div", { className: "kpi-label" }, t.em_reports + " " + (hours[hours.length - 1] || 0)),
      ]),
      cell("em_open", String(totals.open)),
      cell("em_overdue", String(totals.red)),
      cell("em_on_time", percent(figures.on_time_rate)),
    ];
  }

  /* When more boards than fit, page through them, worst first on page one. */
  function capacity(container) {
    var style = window.getComputedStyle(container);
    var cols = style.gridTemplateColumns.split(" ").filter(Boolean).length || 1;
    var rowHeight = parseFloat(style.gridAutoRows) || container.clientHeight;
    var gap = parseFloat(style.rowGap) || 0;
    return cols * Math.max(1, Math.floor((container.clientHeight + gap) / (rowHeight + gap)));
  }

  // The departments on the page shown, and the pager when there are several pages.
  function paged(ranked) {
    var container = document.getElementById("wall-boards");
    var per = container && container.clientHeight ? capacity(container) : ranked.length;
    wall.pages = Math.max(1, Math.ceil(ranked.length / per));
    if (wall.page >= wall.pages) { wall.page = 0; }
    var pager = wall.pages > 1 ? { page: wall.page + 1, pages: wall.pages } : null;
    return { shown: ranked.slice(wall.page * per, (wall.page + 1) * per), pager: pager };
  }

  /* A screen's views (overview, map, boards…) take turns when there are several. */
  function showView(name) {
    var root = document.querySelector(".wall");
    if (!root || root.getAttribute("data-view") === name) { return; }
    root.setAttribute("data-view", name);
    window.dispatchEvent(new Event("resize"));  // Leaflet re-measures its container
    window.dash_clientside.set_props("wall-tick", { data: Date.now() });
  }

  // In emergency mode a screen shows its emergency arrangement instead.
  function currentViews() {
    var screen = wall.meta.screen || {};
    var views = wall.emergency ? screen.emergency_views : screen.views;
    return views && views.length ? views : [{ view: "overview", seconds: 60 }];
  }

  var rotation = null;
  function rotate() {
    clearTimeout(rotation);
    var views = currentViews();
    var index = 0;
    showView(views[0].view);
    function next() {
      index = (index + 1) % views.length;
      wall.rotations += 1;
      showView(views[index].view);
      rotation = setTimeout(next, views[index].seconds * 1000);
    }
    if (views.length > 1) { rotation = setTimeout(next, views[0].seconds * 1000); }
  }

  function view() {
    var root = document.querySelector(".wall");
    return root ? root.getAttribute("data-view") : "overview";
  }

  // The page's store holds the screen's rules and the build; the cases come from the
  // snapshot live.js loads once connected (resync), whose handler below draws them.
  function render(store) {
    if (!wall.meta && store) {
      wall.meta = store.meta;
      wall.open = new Set(wall.meta.states.open);
      wall.stopped = new Set(wall.meta.light.stopped);
      if (wall.pending) { firstLoad(wall.pending); }
    }
    var none = window.dash_clientside.no_update;
    if (!wall.loaded) { return [none, none]; }  // nothing to draw before a snapshot
    return [none, draw()];
  }

  // Boards and map are drawn in place (assets/wall-boards.js, map.js); the KPI strip
  // is returned for Dash, or no_update when it is what is shown already.
  function draw() {
    var at = now();
    var urgent = view() === "emergency";
    drawBoards(at, urgent);
    ch.get("map").render(wall.cases, at, wall.changes);  // draws on Leaflet itself
    wall.changes = freshChanges(false);
    wall.redraws += 1;
    return unlessShown(urgent ? emergencyStrip(at) : kpiStrip());
  }

  // A push's redraw goes round Dash's callback machinery (a few ms each, 2-3 times a
  // second): only a changed strip is handed to Dash.
  function redraw() {
    if (!wall.loaded) { return; }
    var strip = draw();
    if (strip !== window.dash_clientside.no_update) {
      window.dash_clientside.set_props("wall-kpis", { children: strip });
    }
  }

  function drawBoards(at, urgent) {
    var container = document.getElementById("wall-boards");
    if (!container) { return; }
    var ranked = wall.groups[urgent ? "emergency" : "all"].ranked(at);
    var paging = paged(ranked);
    var t = wall.meta.labels;
    boards().draw(container, wall, paging.shown, paging.pager,
      urgent ? t.no_em_cases : t.no_cases, at);
    redrawAtTurn(paging.shown, at);
  }

  // Lights turn at known instants: redraw then, rather than at the next push or tick.
  var turn = null;
  function redrawAtTurn(shown, at) {
    clearTimeout(turn);
    var next = Math.min.apply(null, [Infinity].concat(shown.map(function (d) {
      return boards().nextTurn(d.group, at);
    })));
    if (next === Infinity) { return; }
    turn = setTimeout(redrawSoon, Math.min(MAX_TURN_WAIT_MS, Math.max(1000, next - at + 20)));
  }

  // One redraw for every push within REDRAW_MS of the first.
  var redrawing = null;
  function redrawSoon() {
    if (redrawing) { return; }
    redrawing = setTimeout(function () {
      redrawing = null;
      redraw();
    }, REDRAW_MS);
  }

  var shownStrip = null;
  function unlessShown(strip) {
    var text = JSON.stringify(strip);
    if (text === shownStrip) { return window.dash_clientside.no_update; }
    shownStrip = text;
    return strip;
  }

  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    wall: { render: render },
  });

  ch.when("banner", function (banner) {
    banner.onChange(function (state) {
      wall.emergency = state;
      if (wall.loaded) { rotate(); }
    });
  });

  // The first snapshot may come before Dash has drawn the page (both start at once):
  // it waits, with the pushes after it, until the screen's rules are there.
  function firstLoad(snapshot) {
    wall.pending = null;
    load(snapshot);
    wall.loaded = true;
    wall.emergency = snapshot.emergency || null;
    wall.early.forEach(apply);
    wall.early = [];
    rotate();
    setTimeout(turnPages, ((wall.meta.screen || {}).page_seconds || 15) * 1000);
    window.dash_clientside.set_props("wall-tick", { data: Date.now() });
  }

  ch.when("live", function (live) {
    live.onResync(function (snapshot) {
      if (!wall.meta) { wall.pending = snapshot; wall.early = []; return; }
      if (!wall.loaded) { firstLoad(snapshot); return; }
      load(snapshot);
      window.dash_clientside.set_props("wall-tick", { data: Date.now() });
    });
    // A push is applied at once and only asks for a redraw: two pushes close together
    // must never overwrite each other in a store before the redraw reads it. One
    // redraw serves every push within REDRAW_MS (10 a second would be 10 redraws).
    var pushed = function (message) {
      // Before the first snapshot is drawn, the pushes after it wait with it.
      if (!wall.loaded) { if (wall.pending) { wall.early.push(message); } return; }
      apply(message);
      redrawSoon();
    };
    live.on(page.push.kpis, pushed);
    live.on(page.push.cases, pushed);
    // The snapshot is fetched while Dash is still starting: the connection first, so
    // that no push falls between the two (live.js begin), once every script is there.
    var begin = function () { live.begin(page.build); };
    if (document.readyState === "loading") {
      document.addEventListener("DOMContentLoaded", begin);
    } else { begin(); }
  });

  // The city's time in the language's locale, whatever the display PC is set to.
  var clockFormat = new Intl.DateTimeFormat(page.locale, {
    hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23", timeZone: page.timezone,
  });

  function tick() {
    var at = now();
    var nodes = document.querySelectorAll(".countdown[data-deadline]");
    for (var i = 0; i < nodes.length; i++) {
      var dl = Number(nodes[i].getAttribute("data-deadline"));
      nodes[i].textContent = countdown(dl - at);
      nodes[i].classList.toggle("overdue", at >= dl);
    }
    var clock = document.getElementById("wall-clock");
    if (clock) { clock.textContent = clockFormat.format(new Date(at)); }
    document.documentElement.toggleAttribute("data-blink");  // overdue and new blink (wall.css)
  }
  setInterval(tick, 1000);
  function turnPages() {
    if (wall.pages > 1) {
      wall.page = (wall.page + 1) % wall.pages;
      window.dash_clientside.set_props("wall-tick", { data: Date.now() });
    }
    setTimeout(turnPages, ((wall.meta.screen || {}).page_seconds || 15) * 1000);
  }
  // Lights and board order change with time alone: redraw every 10 s.
  setInterval(function () {
    if (wall.loaded) { window.dash_clientside.set_props("wall-tick", { data: Date.now() }); }
  }, 10000);
  ch.register("wall", wall);
})();
