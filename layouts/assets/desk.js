/* The desk's live case table and alerts (layouts/desk_cases.py builds the page).
 *
 * Rows come from /api/desk/cases once, then every push the wall gets becomes a row
 * transaction (add, update, remove) on the grid: a row changes in place and the
 * commander keeps scroll, sort and selection. The filter is the URL's query; it runs
 * in the grid's own model as an external filter, the same rule dashboard/store/desk.py
 * applies in SQL for the export. Alerts are worked out here from the rows; the
 * alerts a user has seen are kept on the server, per user. */
(function () {
  "use strict";
  var ch = window.commandhall;
  var page = ch.page;
  var rule = ch.get("clock");
  var MULTI = ["dep", "dis", "kind", "major", "cat", "src", "st", "light", "u"];
  var CLOSED = new Set(["closed", "rejected", "voided"]);
  var STOPPED = new Set(["suspended"]);
  var ALERTS_SHOWN = 100;
  var CLUSTER_DEGREES = 0.0005; // about 50 m: "the same spot"
  var CLUSTER_REPORTS = 3;
  var HOUR = 3600 * 1000;

  var desk = {
    meta: null, rows: new Map(), filter: { values: {}, sv: false, q: "", closed: false },
    api: null, loaded: false, seen: new Set(), heard: new Set(), alerts: [], early: [],
  };

  // The page's own query, read before Dash's first callbacks can rewrite the URL.
  var initialQuery = new URLSearchParams(window.location.search);

  function now() { return ch.has("live") ? ch.get("live").now() : Date.now(); }

  // ---- rows ---------------------------------------------------------------------
  function named(map, code) { return (map && code && map[code]) || code || "—"; }

  function row(c) {
    var m = desk.meta, codes = m.codes, marks = [];
    if (c.sv) { marks.push(m.labels.marks_supervised); }
    if (c.ug) { marks.push(m.labels.marks_urged + "×" + c.ug); }
    if (c.em) { marks.push(m.labels.marks_emergency); }
    return Object.assign({}, c, {
      catName: named(m.categories, c.k + ":" + c.cat),
      // No district: nothing could place the case (the catalogue's rule, README).
      place: (c.dis ? named(m.districts, c.dis) : m.labels.unplaced) + " / " + named(m.streets, c.str),
      unitName: named(m.units, c.dep),
      stName: named(codes, c.st), uName: named(codes, c.u), srcName: named(codes, c.src),
      marks: marks.join(" "),
    });
  }

  function unpack(table) {
    var cols = table.cols;
    return table.rows.map(function (values) {
      var c = {};
      for (var i = 0; i < cols.length; i++) { c[cols[i]] = values[i]; }
      return c;
    });
  }

  function load() {
    var url = "/api/desk/cases" + (desk.filter.closed ? "?closed=1" : "");
    return fetch(url, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (table) {
        if (!table) { return; }
        if (ch.has("live")) { ch.get("live").sync(table.now); }
        desk.rows = new Map();
        unpack(table).forEach(function (c) { desk.rows.set(c.id, row(c)); });
        return grid().then(function (api) {
          api.setGridOption("rowData", Array.from(desk.rows.values()));
          desk.loaded = true;
          desk.early.forEach(applyPush);
          desk.early = [];
          counted();
          alerts();
        });
      });
  }

  function grid() {
    if (desk.api) { return Promise.resolve(desk.api); }
    return window.dash_ag_grid.getApiAsync("desk-grid").then(function (api) {
      desk.api = api;
      api.addEventListener("modelUpdated", counted);
      return api;
    });
  }

  function counted() {
    var el = document.getElementById("desk-count");
    if (el && desk.api) {
      el.textContent = desk.api.getDisplayedRowCount() + " / " + desk.rows.size + " " +
        desk.meta.labels.rows_shown;
    }
  }

  // A push: the cases that changed, each as the server now has it.
  function applyPush(message) {
    if (!desk.loaded) { desk.early.push(message); return; }
    var add = [], update = [], remove = [], selected = selectedId();
    (message.cases || []).forEach(function (c) {
      var had = desk.rows.has(c.id);
      if (CLOSED.has(c.st) && !desk.filter.closed) {
        if (had) { desk.rows.delete(c.id); remove.push({ id: c.id }); }
        return;
      }
      var r = row(c);
      desk.rows.set(c.id, r);
      (had ? update : add).push(r);
      if (c.id === selected) {
        window.dash_clientside.set_props("desk-changed", { data: Date.now() });
      }
    });
    desk.api.applyTransactionAsync({ add: add, update: update, remove: remove }, function () {
      counted();
    });
    alertsSoon();
  }

  function selectedId() {
    var picked = desk.api ? desk.api.getSelectedRows() : [];
    return picked.length ? picked[0].id : null;
  }

  // ---- the filter (mirrors dashboard/store/desk.py DeskFilter) --------------------
  function lightOf(c, at) { return rule.lightAt(rule.of(c, STOPPED), at); }

  function passes(c, f, at) {
    var v = f.values;
    for (var i = 0; i < MULTI.length; i++) {
      var key = MULTI[i], allowed = v[key];
      if (!allowed || !allowed.size) { continue; }
      var value = key === "major" ? String(c.cat || "").slice(0, 2)
        : key === "light" ? lightOf(c, at) : c[key];
      if (!allowed.has(value)) { return false; }
    }
    if (f.sv && !c.sv) { return false; }
    if (f.q) {
      var q = f.q.toLowerCase();
      var hay = [c.id, c.addr || "", c.desc || ""].join("\n").toLowerCase();
      if (hay.indexOf(q) < 0) { return false; }
    }
    return true;
  }
  desk.passes = passes;

  function present() {
    var f = desk.filter;
    return !!(f.sv || f.q || MULTI.some(function (k) { return f.values[k] && f.values[k].size; }));
  }

  // From the controls' values (in FILTERS order): the filter, the URL and the export.
  desk.filtered = function (args) {
    var none = window.dash_clientside.no_update;
    if (!desk.applied) { return [none, none]; }  // the URL's filter is not on the controls yet
    var text = args[0] || "", flags = args[args.length - 1] || [];
    var values = {}, query = [];
    MULTI.forEach(function (key, i) {
      var picked = args[i + 1] || [];
      values[key] = new Set(picked);
      if (picked.length) { query.push(key + "=" + picked.map(encodeURIComponent).join(",")); }
    });
    var closed = flags.indexOf("closed") >= 0, sv = flags.indexOf("sv") >= 0;
    if (text.trim()) { query.push("q=" + encodeURIComponent(text.trim())); }
    if (sv) { query.push("sv=1"); }
    if (closed) { query.push("closed=1"); }
    var reload = closed !== desk.filter.closed;
    desk.filter = { values: values, sv: sv, q: text.trim(), closed: closed };
    if (reload && desk.meta) { load(); } else if (desk.api) { desk.api.onFilterChanged(); }
    var search = query.length ? "?" + query.join("&") : "";
    return [search, "/api/desk/export.csv" + search];
  };

  desk.cleared = function () {
    return [""].concat(MULTI.map(function () { return []; }), [[]]);
  };

  // ---- alerts -------------------------------------------------------------------
  // Each alert has a key naming what it is about, so a seen one stays seen:
  // an overdue case's names its deadline (a new deadline can be missed again).
  function findAlerts(at) {
    var found = [], spots = new Map();
    desk.rows.forEach(function (c) {
      if (CLOSED.has(c.st)) { return; }
      if (c.dl && !STOPPED.has(c.st) && at >= c.dl) {
        found.push({ kind: "overdue", id: c.id, key: "overdue:" + c.id + ":" + c.dl, at: c.dl });
      }
      if ((c.u === "urgent" || c.u === "very_urgent") && at - c.rep < 24 * HOUR) {
        found.push({ kind: "urgent", id: c.id, key: "urgent:" + c.id, at: c.rep });
      }
      if (c.ret >= 2) {
        found.push({ kind: "returned", id: c.id, key: "returned:" + c.id + ":" + c.ret, at: c.rep });
      }
      if (at - c.rep < HOUR) {
        var spot = Math.round(c.lon / CLUSTER_DEGREES) + ":" + Math.round(c.lat / CLUSTER_DEGREES);
        (spots.get(spot) || spots.set(spot, []).get(spot)).push(c);
      }
    });
    spots.forEach(function (cases, spot) {
      if (cases.length < CLUSTER_REPORTS) { return; }
      cases.sort(function (a, b) { return a.rep - b.rep; });
      var first = cases[0], last = cases[cases.length - 1];
      found.push({ kind: "cluster", id: last.id, key: "cluster:" + spot + ":" + first.id,
        at: last.rep, count: cases.length });
    });
    return found.filter(function (a) { return !desk.seen.has(a.key); })
      .sort(function (a, b) { return b.at - a.at; });
  }

  var alertTimer = null;
  function alertsSoon() {
    if (!alertTimer) { alertTimer = setTimeout(function () { alertTimer = null; alerts(); }, 500); }
  }

  function alerts() {
    var root = document.getElementById("desk-alerts");
    if (!root || !desk.meta) { return; }
    desk.alerts = findAlerts(now());
    var labels = desk.meta.labels;
    var fresh = desk.alerts.filter(function (a) { return !desk.heard.has(a.key); });
    fresh.forEach(function (a) { desk.heard.add(a.key); });
    if (sound.on && fresh.some(function (a) { return a.kind === "urgent"; })) { beep(); }
    root.replaceChildren(alertsHeader(labels), alertList(labels));
  }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) { node.textContent = text; } // report text stays text
    return node;
  }

  function alertsHeader(labels) {
    var head = el("div", { class: "alerts-head" });
    head.append(el("h2", {}, labels.alerts + " (" + desk.alerts.length + ")"));
    var all = el("button", { class: "ack-all", "data-ack": "all" }, labels.ack_all);
    all.addEventListener("click", function () { acknowledge(desk.alerts.map(keyOf)); });
    var label = el("label", { class: "sound" });
    var box = el("input", { type: "checkbox", id: "alert-sound" });
    box.checked = sound.on;
    box.addEventListener("change", function () { sound.on = box.checked; });
    label.append(box, document.createTextNode(" " + labels.sound));
    head.append(all, label);
    return head;
  }

  function alertList(labels) {
    var list = el("ol", { class: "alerts" });
    if (!desk.alerts.length) { list.append(el("li", { class: "none" }, labels.no_alerts)); }
    desk.alerts.slice(0, ALERTS_SHOWN).forEach(function (a) {
      var item = el("li", { class: "alert alert-" + a.kind, "data-alert": a.kind, "data-case-id": a.id });
      var link = el("a", { href: "#", class: "alert-case" },
        labels["alert_" + a.kind] + (a.count ? " ×" + a.count : "") + " · " + a.id);
      link.addEventListener("click", function (event) { event.preventDefault(); select(a.id); });
      var ack = el("button", { class: "ack", "data-ack": a.key }, labels.ack);
      ack.addEventListener("click", function () { acknowledge([a.key]); });
      item.append(link, ack);
      list.append(item);
    });
    return list;
  }

  function keyOf(a) { return a.key; }

  function select(caseId) {
    var node = desk.api && desk.api.getRowNode(caseId);
    if (!node) { return; }
    if (!node.displayed) {
      // A filter hides it: show it anyway rather than leave the link dead.
      window.dash_clientside.set_props("filter-clear", { n_clicks: Date.now() });
    }
    node.setSelected(true, true);
    desk.api.ensureNodeVisible(node, "middle");
  }

  function acknowledge(keys) {
    if (!keys.length) { return Promise.resolve(); }
    var chunks = [];
    for (var i = 0; i < keys.length; i += 500) { chunks.push(keys.slice(i, i + 500)); }
    return Promise.all(chunks.map(function (chunk) {
      return fetch("/api/desk/acks", {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ keys: chunk }),
      }).then(function (response) {
        if (response.ok) { chunk.forEach(function (k) { desk.seen.add(k); }); }
      });
    })).then(alerts);
  }

  function loadSeen() {
    return fetch("/api/desk/acks", { credentials: "same-origin", cache: "no-store" })
      .then(function (response) { return response.ok ? response.json() : { keys: [] }; })
      .then(function (body) { body.keys.forEach(function (k) { desk.seen.add(k); }); });
  }

  // An optional cue for new urgent alerts, off by default; made here, no sound file.
  var sound = { on: false, context: null };
  function beep() {
    try {
      sound.context = sound.context || new window.AudioContext();
      var tone = sound.context.createOscillator(), gain = sound.context.createGain();
      tone.frequency.value = 880;
      gain.gain.value = 0.15;
      tone.connect(gain).connect(sound.context.destination);
      tone.start();
      tone.stop(sound.context.currentTime + 0.25);
    } catch (unavailable) { /* no audio on this PC: the list still shows it */ }
  }

  // ---- start --------------------------------------------------------------------
  // The bookmark's filter onto the controls; their callback then sets desk.filter.
  function applyQuery(query) {
    var ids = { dep: "filter-department", dis: "filter-district", kind: "filter-kind",
      major: "filter-major", cat: "filter-category", src: "filter-source", st: "filter-state",
      light: "filter-light", u: "filter-urgency" };
    var set = window.dash_clientside.set_props;
    MULTI.forEach(function (key) {
      var picked = (query.get(key) || "").split(",").filter(Boolean);
      if (picked.length) { set(ids[key], { value: picked }); }
    });
    if (query.get("q")) { set("filter-text", { value: query.get("q") }); }
    var flags = ["sv", "closed"].filter(function (k) { return query.get(k) === "1"; });
    if (flags.length) { set("filter-flags", { value: flags }); }
    desk.filter.closed = flags.indexOf("closed") >= 0;  // the first load asks for them
    desk.applied = true;
  }

  desk.start = function (meta) {
    if (desk.meta) { return window.dash_clientside.no_update; }
    desk.meta = meta;
    applyQuery(initialQuery);
    loadSeen().then(load);
    ch.when("live", function (live) {
      live.on(page.push.cases, applyPush);
      live.onResync(function () { load(); });
      // banner.js starts the socket with the pages' build (for upgrade reloads).
    });
    setInterval(function () {
      if (desk.api) { desk.api.refreshCells({ columns: ["left"] }); }
    }, 1000);
    // Lights turn with time alone: a light filter and the alerts follow every 10 s.
    setInterval(function () {
      if (desk.api && desk.filter.values.light && desk.filter.values.light.size) {
        desk.api.onFilterChanged();
      }
      alerts();
    }, 10000);
    return Date.now();
  };

  var timeFormat = new Intl.DateTimeFormat(page.locale, {
    month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23",
    timeZone: page.timezone,
  });

  window.dashAgGridFunctions = Object.assign({}, window.dashAgGridFunctions, {
    deskLeft: function (params) {
      var c = params.data;
      return c && c.dl && !CLOSED.has(c.st) && !STOPPED.has(c.st) ? c.dl - now() : null;
    },
    deskCountdown: function (ms) { return ms === null || ms === undefined ? "" : rule.countdown(ms); },
    deskLight: function (params) { return params.data ? lightOf(params.data, now()) : "none"; },
    deskTime: function (ms) { return ms ? timeFormat.format(new Date(ms)) : ""; },
    deskFilterPresent: present,
    deskFilterPass: function (node) { return passes(node.data, desk.filter, now()); },
    // The grid's own theme, dark, in the font the pages bring (no outside font).
    deskTheme: function (grid) {
      return grid.themeQuartz.withPart(grid.colorSchemeDarkBlue)
        .withParams({ fontFamily: "Noto Sans SC, sans-serif", headerFontFamily: "Noto Sans SC, sans-serif" });
    },
  });

  ch.register("desk", desk);
})();
