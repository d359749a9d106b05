/* The emergency banner, the same on every view (wall, desk, tablet): hazard, signal
 * colour and time since raised, on an element carrying data-emergency-level. It
 * follows pushes and resyncs; views may listen with commandhall.get("banner").onChange. */
(function () {
  "use strict";
  var ch = window.commandhall;
  var listeners = [];
  var banner = { state: null, shownAt: null };
  // Names come from the server (layouts/i18n.py, in the page's metadata); a hazard a
  // producer named that the hall does not know is shown as it came, as text.
  function named(names, code) {
    return (names && Object.prototype.hasOwnProperty.call(names, code)) ? names[code] : code;
  }

  function language() { return ch.page.language === "en" ? "en" : "zh"; }

  function pad(n) { return n < 10 ? "0" + n : String(n); }
  function since(ms) {
    var s = Math.max(0, Math.floor(ms / 1000));
    return pad(Math.floor(s / 3600)) + ":" + pad(Math.floor(s / 60) % 60) + ":" + pad(s % 60);
  }

  function title(state) {
    var lang = language();
    var hazard = named(ch.page.hazards, state.hazard);
    var level = named(ch.page.levels, state.level);
    return lang === "en"
      ? "EMERGENCY · " + hazard + " " + level + " signal"
      : "应急状态 · " + hazard + level + "预警";
  }

  function span(className, text) {
    var el = document.createElement("span");
    el.className = className;
    el.textContent = text;
    return el;
  }

  function draw() {
    var el = document.getElementById("emergency-banner");
    if (!el) { return; }
    var state = banner.state;
    el.textContent = "";
    if (!state) {
      el.className = "emergency-slot";
      el.removeAttribute("data-emergency-level");
      return;
    }
    el.className = "emergency-slot emergency-banner level-" + state.level;
    el.setAttribute("data-emergency-level", state.level);
    el.appendChild(span("em-title", title(state)));
    el.appendChild(span("em-since", ""));
    if (state.note) { el.appendChild(span("em-note", state.note)); }
    tick();
  }

  function tick() {
    var state = banner.state;
    var el = document.getElementById("emergency-banner");
    if (!el) { return; }
    // The view may have mounted after the state arrived: draw it then.
    if (state && el.getAttribute("data-emergency-level") !== state.level) { draw(); return; }
    var since_el = el.querySelector(".em-since");
    if (state && since_el) {
      var now = ch.has("live") ? ch.get("live").now() : Date.now();
      since_el.textContent = (language() === "en" ? "for " : "已持续 ") + since(now - state.raised_at);
    }
  }
  setInterval(tick, 1000);

  banner.set = function (state) {
    var before = banner.state;
    banner.state = state || null;
    banner.shownAt = Date.now();
    document.documentElement.classList.toggle("emergency-active", !!banner.state);
    draw();
    if (JSON.stringify(before) !== JSON.stringify(banner.state)) {
      listeners.forEach(function (fn) { fn(banner.state); });
    }
  };

  banner.onChange = function (fn) { listeners.push(fn); };

  function load() {
    return fetch("/api/emergency", { credentials: "same-origin", cache: "no-store" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (body) {
        if (!body) { return; }
        banner.set(body.emergency);
        if (ch.has("live")) { ch.get("live").start(body.build); }
      });
  }

  document.addEventListener("DOMContentLoaded", function () {
    ch.when("live", function (live) {
      live.on(ch.page.push.emergency, function (message) { banner.set(message.emergency); });
      live.onResync(function (snapshot) {
        if ("emergency" in snapshot) { banner.set(snapshot.emergency); } else { load(); }
      });
    });
    load();
  });
  ch.register("banner", banner);
})();
