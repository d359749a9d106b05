/* The tablet: KPI cards follow live pushes; a push that touches a case on the page
 * (or the unit or district shown) marks it at once and asks the server to redraw
 * (layouts/tablet.py `tablet-refresh`), as does every resync after a reconnect. The
 * data-age indicator of live.js gets words here: how old the data is. The banner
 * and the reconnects come from banner.js and live.js. */
(function () {
  "use strict";
  var ch = window.commandhall;
  var tablet = { redraws: 0 };
  var LABELS = {
    zh: { now: "数据 · 刚刚", s: "数据 · {n} 秒前", m: "数据 · {n} 分钟前", h: "数据 · {n} 小时前",
      lost: "连接中断 · ", month: "本月", none: "本月尚无到期案件", mark: "督" },
    en: { now: "Data · just now", s: "Data · {n} s ago", m: "Data · {n} min ago", h: "Data · {n} h ago",
      lost: "Connection lost · ", month: "Month", none: "Nothing due this month yet", mark: "S" },
  };
  var t = LABELS[ch.page.language === "en" ? "en" : "zh"];

  function percent(x) { return x === null || x === undefined ? "—" : (x * 100).toFixed(1) + "%"; }
  function root() { return document.querySelector(".tablet"); }

  function showKpis(kpis) {
    if (!root() || !kpis) { return; }
    Object.keys(kpis).forEach(function (key) {
      var box = document.querySelector('.tablet .overview [data-kpi="' + key + '"] .value');
      if (box) { box.textContent = /_rate/.test(key) ? percent(kpis[key]) : String(kpis[key]); }
      var sub = document.querySelector('.tablet [data-kpi-month="' + key + '"]');
      if (sub) { sub.textContent = kpis[key] === null ? t.none : t.month + " " + percent(kpis[key]); }
    });
  }

  // Redraws are asked for at most every 2 s: a burst of pushes makes one redraw.
  var pending = null;
  function redraw() {
    if (pending) { return; }
    pending = setTimeout(function () {
      pending = null;
      tablet.redraws += 1;
      window.dash_clientside.set_props("tablet-refresh", { data: Date.now() });
    }, 2000);
  }
  tablet.redraw = redraw;

  function mark(c) {
    var nodes = document.querySelectorAll('.tablet [data-case-id="' + c.id + '"]');
    nodes.forEach(function (node) {
      node.classList.toggle("supervised", !!c.sv);
      node.setAttribute("data-supervised", c.sv ? "true" : "");
    });
    return nodes.length > 0;
  }

  function touches(c) {
    var group = document.querySelector(".tablet [data-view=group]");
    if (!group) { return false; }
    var code = group.getAttribute("data-code");
    return group.getAttribute("data-by") === "department" ? c.dep === code : c.dis === code;
  }

  function pushed(message) {
    if (!root()) { return; }
    var again = false;
    (message.cases || []).forEach(function (c) { again = mark(c) || touches(c) || again; });
    if (again) { redraw(); }
  }

  function age() {
    var el = document.getElementById("data-age");
    if (!el || !root() || !ch.has("live")) { return; }
    var live = ch.get("live");
    if (!live.lastData) { live.sync(); }  // the page was drawn from the server's data just now
    var text;
    if (!live.lastData) { text = t.lost.replace(/ · $/, ""); } else {
      var s = Math.max(0, Math.round((Date.now() - live.lastData) / 1000));
      text = s < 5 ? t.now : s < 60 ? t.s.replace("{n}", s)
        : s < 3600 ? t.m.replace("{n}", Math.floor(s / 60)) : t.h.replace("{n}", Math.floor(s / 3600));
      if (!live.connected) { text = t.lost + text; }
    }
    el.textContent = text;
    el.setAttribute("data-age-seconds", live.lastData ? Math.round((Date.now() - live.lastData) / 1000) : "");
  }
  setInterval(age, 1000);

  // A tap on a tablet link changes the address the way dcc.Link does (dcc.Location
  // hears the event), so the page is redrawn in place, not reloaded.
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest(".tablet a[data-nav]");
    if (!link || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey) { return; }
    event.preventDefault();
    window.history.pushState({}, "", link.getAttribute("href"));
    window.dispatchEvent(new CustomEvent("_dashprivate_pushstate"));
    window.scrollTo(0, 0);
  });

  document.addEventListener("DOMContentLoaded", function () {
    ch.when("live", function (live) {
      live.on(ch.page.push.kpis, function (message) {
        showKpis(message.kpis);
        live.sync(message.now);
      });
      live.on(ch.page.push.cases, function (message) {
        pushed(message);
        live.sync(message.now);
      });
      live.onResync(function (snapshot) {
        if (!root()) { return; }
        showKpis(snapshot.kpis);
        live.sync(snapshot.now);
        redraw();
      });
    });
  });
  ch.register("tablet", tablet);
})();
