/* Live push for every view: one Socket.IO connection (websocket only), the clock
 * offset to the server, the data-age indicator, resync after a reconnect, and the
 * reloads that keep an unattended screen current. Views register handlers with
 * commandhall.get("live").on(event, fn) and a resync function with live.onResync(fn).
 * Reconnects back off with jitter (socket.io's randomizationFactor) so a hall full
 * of screens does not reconnect at the same instant. */
(function () {
  "use strict";
  var ch = window.commandhall;
  var push = ch.page.push;
  var handlers = {};
  var resyncers = [];
  var live = {
    offset: 0, lastData: 0, connected: false, socket: null, build: null, resyncs: 0,
    // While a resync is under way pushes are held, then replayed over the snapshot.
    held: null,
  };

  live.now = function () { return Date.now() + live.offset; };

  live.sync = function (serverMs) {
    // The server's clock is the truth for deadlines; a message's send time sets the
    // offset (the push delay, tens of ms, is far below a countdown's second).
    if (typeof serverMs === "number") { live.offset = serverMs - Date.now(); }
    live.lastData = Date.now();
  };

  live.on = function (event, fn) {
    var wrapped = function (message) {
      if (live.held) { live.held.push([fn, message]); } else { fn(message); }
    };
    (handlers[event] = handlers[event] || []).push(wrapped);
    if (live.socket) { live.socket.on(event, wrapped); }
  };

  live.onResync = function (fn) { resyncers.push(fn); };

  live.resync = function () {
    live.held = [];
    return fetch("/api/snapshot", {
      credentials: "same-origin", cache: "no-store",
    }).then(function (response) {
      if (response.status === 401 || response.status === 403) { return live.refused(); }
      if (!response.ok) { throw new Error("snapshot " + response.status); }
      return response.json().then(function (snapshot) {
        if (live.build && snapshot.build && snapshot.build !== live.build) {
          window.location.reload();  // the server was upgraded: take its new pages
          return;
        }
        resyncers.forEach(function (fn) { fn(snapshot); });
        var held = live.held;
        live.held = null;
        held.forEach(function (pair) { pair[0](pair[1]); });
        live.resyncs += 1;
      });
    }).catch(function () {
      live.held = null;
      setTimeout(function () { if (live.connected) { live.resync(); } }, 2000 + Math.random() * 3000);
    });
  };

  live.refused = function () {
    var cover = document.createElement("div");
    cover.className = "screen-refused";
    cover.setAttribute("data-refused", "true");
    cover.textContent = "此屏幕的显示令牌已失效，请联系值班长。 This screen's display token is no longer valid.";
    document.body.appendChild(cover);
    if (live.socket) { live.socket.disconnect(); }
  };

  live.start = function (build) {
    if (live.socket || typeof window.io !== "function") { return; }
    live.build = build || null;
    var socket = (live.socket = window.io({
      transports: ["websocket"],
      reconnectionDelay: 1000,
      reconnectionDelayMax: 10000,
      randomizationFactor: 0.5,
    }));
    Object.keys(handlers).forEach(function (event) {
      handlers[event].forEach(function (fn) { socket.on(event, fn); });
    });
    var first = true;
    socket.on("connect", function () {
      live.connected = true;
      // Anything may have changed while we were away: start again from a snapshot.
      if (!first) { live.resync(); }
      first = false;
    });
    socket.on("disconnect", function () { live.connected = false; });
    socket.on(push.heartbeat, function (message) { live.sync(message.now); });
    socket.on(push.revoked, function () { live.refused(); });
  };

  function showAge() {
    var el = document.getElementById("data-age");
    if (!el) { return; }
    var age = live.lastData ? (Date.now() - live.lastData) / 1000 : Infinity;
    var state = !live.connected ? "stale" : age > 60 ? "stale" : age > 25 ? "aging" : "fresh";
    el.className = "data-age " + state;
    el.setAttribute("data-age-state", state);
  }
  setInterval(showAge, 1000);

  // Once a day, at a quiet hour (04:00 local, spread over 30 minutes), start afresh:
  // whatever a browser accumulates over weeks, a reload clears.
  function scheduleDailyReload() {
    var next = new Date();
    next.setHours(4, 0, 0, 0);
    if (next.getTime() <= Date.now()) { next.setDate(next.getDate() + 1); }
    var wait = next.getTime() - Date.now() + Math.random() * 30 * 60 * 1000;
    setTimeout(function () { window.location.reload(); }, wait);
  }
  scheduleDailyReload();
  ch.register("live", live);
})();
