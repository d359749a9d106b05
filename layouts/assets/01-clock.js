/* The one light and countdown rule of the browser (lifecycle.light_of on the server):
 * red from the deadline, yellow from warn_at, none while a case has no deadline or
 * its clock stands (a state in `stopped`). The wall, its map and the desk use it. */
(function () {
  "use strict";
  function pad(n) { return n < 10 ? "0" + n : String(n); }
  var clock = {
    of: function (c, stopped) {
      if (!c.dl || stopped.has(c.st)) { return { d: Infinity, w: Infinity }; }
      return { d: c.dl, w: c.wa || c.dl };
    },
    lightAt: function (times, at) {
      if (times.d === Infinity) { return "none"; }
      return at >= times.d ? "red" : at >= times.w ? "yellow" : "green";
    },
    countdown: function (ms) {
      var s = Math.floor(Math.abs(ms) / 1000);
      var text = pad(Math.floor(s / 3600)) + ":" + pad(Math.floor(s / 60) % 60) + ":" + pad(s % 60);
      return ms < 0 ? "-" + text : text;
    },
  };
  window.commandhall.register("clock", clock);
})();
