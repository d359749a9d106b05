/* Live push for every view: one Socket.IO connection (websocket only), the clock
 * offset to the server, and the data-age indicator. Views register handlers with
 * commandhall.live.on(event, fn). Reconnects back off with jitter (socket.io's
 * randomizationFactor) so a hall full of screens does not reconnect at once. */
(function () {
  "use strict";
  var ch = (window.commandhall = window.commandhall || {});
  var handlers = {};
  var live = (ch.live = { offset: 0, lastData: 0, connected: false, socket: null });

  live.now = function () { return Date.now() + live.offset; };

  live.sync = function (serverMs) {
    if (typeof serverMs === "number") { live.offset = serverMs - Date.now(); }
    live.lastData = Date.now();
  };

  live.on = function (event, fn) {
    (handlers[event] = handlers[event] || []).push(fn);
    if (live.socket) { live.socket.on(event, fn); }
  };

  live.start = function () {
    if (live.socket || typeof window.io !== "function") { return; }
    var socket = (live.socket = window.io({
      transports: ["websocket"],
      reconnectionDelay: 1000,
      reconnectionDelayMax: 30000,
      randomizationFactor: 0.5,
    }));
    Object.keys(handlers).forEach(function (event) {
      handlers[event].forEach(function (fn) { socket.on(event, fn); });
    });
    socket.on("connect", function () { live.connected = true; });
    socket.on("heartbeat", function (message) { live.sync(message.now); });
    socket.on("disconnect", function () { live.connected = false; });
  };

  function showAge() {
    var el = document.getElementById("data-age");
    if (!el) { return; }
    var age = live.lastData ? (Date.now() - live.lastData) / 1000 : Infinity;
    var state = !live.connected ? "stale" : age > 120 ? "stale" : age > 30 ? "aging" : "fresh";
    el.className = "data-age " + state;
    el.setAttribute("data-age-state", state);
  }
  setInterval(showAge, 1000);
})();
