/* Push-to-screen latency, measured on the screen and reported to the server (issue 14).
 *
 * Every push carries the server's send time `now`; its delay is its arrival on the
 * server's clock minus that. The clock offset for this is not live.offset: that one is
 * set from the pushes themselves and would hide their delay. It comes from the
 * reports' own round trips (offset = the server's `now` in the answer minus the
 * midpoint of the request), kept from the shortest round trip seen, so it errs by at
 * most half of it. Every ~30 s the delays gathered (at most 300, whole ms) go by
 * POST /api/screens/latency; the first report, a few seconds after load, only sets
 * the clock. */
(function () {
  "use strict";
  var ch = window.commandhall;
  var MAX = 300;
  var EVERY_MS = 30000;
  var view = window.location.pathname.split("/")[1] || "other";
  var latency = { offset: null, rtt: Infinity, delays: [] };

  latency.arrived = function (message) {
    if (latency.offset === null || !message || typeof message.now !== "number") { return; }
    var delay = Date.now() + latency.offset - message.now;
    if (latency.delays.length < MAX) { latency.delays.push(Math.max(0, Math.round(delay))); }
  };

  function calibrate(sent, back, answer) {
    // The best round trip ages a little each time, so a drifting clock is followed.
    latency.rtt += 1;
    if (answer && typeof answer.now === "number" && back - sent <= latency.rtt) {
      latency.rtt = back - sent;
      latency.offset = answer.now - (sent + back) / 2;
    }
  }

  latency.report = function () {
    var body = JSON.stringify({ view: view, delays_ms: latency.delays.splice(0, MAX) });
    var sent = Date.now();
    return fetch("/api/screens/latency", {
      method: "POST", credentials: "same-origin", cache: "no-store",
      headers: { "Content-Type": "application/json" }, body: body,
    }).then(function (response) {
      return response.ok ? response.json() : null;
    }).then(function (answer) {
      calibrate(sent, Date.now(), answer);
    }).catch(function () { /* the next report tries again; delays lost are few */ });
  };

  function schedule(wait) {
    setTimeout(function () {
      latency.report();
      schedule(EVERY_MS * (0.9 + Math.random() * 0.2));  // spread a hall's screens out
    }, wait);
  }
  schedule(2000 + Math.random() * 3000);
  ch.register("latency", latency);
})();
