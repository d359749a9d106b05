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

  // Every push carries (epoch, seq) from one count in Redis. A gap, or another epoch
  // (Redis forgot the count), means a push was lost: start again from a snapshot,
  // which says where in the count it was read; pushes up to there are in it.
  live.epoch = null;
  live.seq = null;
  live.gaps = 0;
  function inOrder(message) {
    if (!message || typeof message.seq !== "number") { return true; }
    if (live.seq === null) {
      live.epoch = message.epoch;
      live.seq = message.seq;
      return true;  // no position yet (no snapshot loaded): take this one as it comes
    }
    if (message.epoch === live.epoch && message.seq <= live.seq) { return false; }
    if (message.epoch !== live.epoch || message.seq !== live.seq + 1) {
      live.gaps += 1;
      live.resync();
      return false;
    }
    live.seq = message.seq;
    return true;
  }

  function deliver(event, message) {
    if (!inOrder(message)) { return; }
    (handlers[event] || []).forEach(function (fn) { fn(message); });
  }

  function dispatcher(event) {
    return function (message) {
      if (ch.has("latency")) { ch.get("latency").arrived(message); }  // issue 14's metrics
      if (live.held) { live.held.push([event, message]); } else { deliver(event, message); }
    };
  }

  live.on = function (event, fn) {
    var first = !handlers[event];
    (handlers[event] = handlers[event] || []).push(fn);
    if (first && live.socket) { live.socket.on(event, dispatcher(event)); }
  };

  live.onResync = function (fn) { resyncers.push(fn); };
  live.on(push.heartbeat, function (message) { live.sync(message.now); });

  live.resync = function () {
    // One at a time; a gap seen meanwhile asks for one more after it.
    if (live.resyncing) { live.again = true; return live.resyncing; }
    live.held = live.held || [];
    live.resyncing = fetch("/api/snapshot", {
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
        live.epoch = snapshot.epoch === undefined ? null : snapshot.epoch;
        live.seq = typeof snapshot.seq === "number" ? snapshot.seq : null;
        var held = live.held;
        live.held = null;
        live.resyncs += 1;
        // The warm snapshot comes with the pushes made since its body was written
        // (dashboard/web/warm.py): in order, then those held meanwhile (in order, too:
        // the ones already in the tail are older than the position and dropped).
        (snapshot.pushes || []).forEach(function (pair) { deliver(pair[0], pair[1]); });
        held.forEach(function (pair) { deliver(pair[0], pair[1]); });
      });
    }).catch(function () {
      live.held = null;
      setTimeout(function () { if (live.connected) { live.resync(); } }, 2000 + Math.random() * 3000);
    }).then(function () {
      live.resyncing = null;
      if (live.again) { live.again = false; live.resync(); }
    });
    return live.resyncing;
  };

  live.refused = function () {
    var cover = document.createElement("div");
    cover.className = "screen-refused";
    cover.setAttribute("data-refused", "true");
    cover.textContent = "此屏幕的显示令牌已失效，请联系值班长。 This screen's display token is no longer valid.";
    document.body.appendChild(cover);
    if (live.socket) { live.socket.disconnect(); }
  };

  // For a screen whose page carries no data (the wall): connect, then load the
  // snapshot once connected, so every push after it is held and none falls between.
  // Without a connection within a few seconds it loads anyway: a screen shows what
  // there is, and the connection's arrival loads it again.
  live.begin = function (build) {
    live.loadOnConnect = true;
    // Another script (the banner) may have started the connection already.
    if (live.connected) { live.resync(); } else { live.start(build); }
    setTimeout(function () { if (!live.resyncs && !live.resyncing) { live.resync(); } }, 3000);
  };

  live.start = function (build) {
    if (live.socket || typeof window.io !== "function") { return; }
    live.build = build || null;
    var socket = (live.socket = window.io({
      transports: ["websocket"],
      auth: { view: window.location.pathname.split("/")[1] },  // counted by view
      reconnectionDelay: 1000,
      reconnectionDelayMax: 10000,
      randomizationFactor: 0.5,
    }));
    Object.keys(handlers).forEach(function (event) { socket.on(event, dispatcher(event)); });
    var first = true;
    socket.on("connect", function () {
      live.connected = true;
      // Anything may have changed while we were away: start again from a snapshot.
      if (!first || live.loadOnConnect) { live.resync(); }
      first = false;
    });
    socket.on("disconnect", function () { live.connected = false; });
    // The web process lost its message queue for a while: pushes may be missing.
    socket.on(push.resync, function () { live.resync(); });
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
