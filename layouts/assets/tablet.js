/* The tablet's KPI boxes follow live pushes; the banner and resync come from
 * banner.js and live.js. */
(function () {
  "use strict";
  var ch = window.commandhall;
  function percent(x) { return x === null || x === undefined ? "—" : (x * 100).toFixed(1) + "%"; }

  function show(kpis) {
    Object.keys(kpis || {}).forEach(function (key) {
      var box = document.querySelector('.tablet [data-kpi="' + key + '"] .value');
      if (box) { box.textContent = /_rate$/.test(key) ? percent(kpis[key]) : String(kpis[key]); }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    ch.when("live", function (live) {
      live.on(ch.page.push.kpis, function (message) {
        if (document.querySelector(".tablet")) { show(message.kpis); }
        live.sync(message.now);
      });
      live.onResync(function (snapshot) { show(snapshot.kpis); });
    });
  });
})();
