/* The city map's clustering engine (issue 10: out of map.js, where it was turned into
 * a worker with Function.toString()). It indexes the open cases with the vendored
 * supercluster and answers with the clusters and cases in view and the count per
 * district; it uses nothing but self.Supercluster and what it is sent.
 *
 * Never a page script: layouts/components/views.py keeps Dash from loading it. It
 * runs two ways:
 * - as a Web Worker, new Worker(".../assets/cluster-worker.js"), whose first message
 *   is {type: "options", options} and every later one a request of map.js;
 * - where workers are refused, added to the page by map.js, where it registers
 *   commandhall.get("clusterEngine") and the vendor script is already loaded. */
(function (scope) {
  "use strict";

  // A patch is kept at once but indexed at most this often: supercluster cannot add
  // or remove a point, so every build indexes all the cases (tens of ms at 10,000),
  // and at 10 events a second there was a patch, so a build, twice a second (issue 14).
  // A full load (first render, resync) is indexed at once.
  var REBUILD_MS = 2000;

  // Each message may carry a full load or a patch, and a view.
  function engine(post, options) {
    var cases = new Map(); // id -> GeoJSON point; properties {id, d, w, a, dis}
    var index = null;
    var stale = true;
    var builtAt = -Infinity;

    function point(id, lon, lat, d, w, a, dis) {
      return {
        type: "Feature", geometry: { type: "Point", coordinates: [lon, lat] },
        properties: { id: id, d: d, w: w, a: a, dis: dis },
      };
    }

    function load(m) {
      var n = new Float64Array(m.numbers);
      cases = new Map();
      m.ids.forEach(function (id, i) {
        cases.set(id, point(id, n[4 * i], n[4 * i + 1], n[4 * i + 2], n[4 * i + 3], 0, m.dis[i]));
      });
      stale = true;
    }

    function patch(m) {
      m.remove.forEach(function (id) { cases.delete(id); });
      m.set.forEach(function (r) { cases.set(r[0], point.apply(null, r)); });
      stale = stale || m.remove.length + m.set.length > 0;
    }

    function build() {
      var started = performance.now();
      index = new self.Supercluster({
        radius: options.radius,
        extent: options.extent,
        maxZoom: options.maxZoom,
        map: function (p) { return { d: p.d, w: p.w, a: p.a }; },
        reduce: function (acc, p) {
          if (p.d < acc.d) { acc.d = p.d; }
          if (p.w < acc.w) { acc.w = p.w; }
          if (p.a > acc.a) { acc.a = p.a; }
        },
      }).load(Array.from(cases.values()));
      stale = false;
      builtAt = performance.now();
      return builtAt - started;
    }

    function inView(v) {
      return index.getClusters(v.bbox, v.zoom).map(function (f) {
        var p = f.properties;
        var xy = f.geometry.coordinates;
        return p.cluster ? {
          cluster: p.cluster_id, n: p.point_count,
          lon: xy[0], lat: xy[1], d: p.d, w: p.w, a: p.a,
        } : { id: p.id, lon: xy[0], lat: xy[1], d: p.d, w: p.w };
      });
    }

    function perDistrict(v) {
      var counts = {};
      cases.forEach(function (f) {
        var p = f.properties;
        if (p.dis && (!v.overdueOnly || p.d <= v.at)) { counts[p.dis] = (counts[p.dis] || 0) + 1; }
      });
      return counts;
    }

    function expand(m) {
      var zoom = null;
      try {
        zoom = index.getClusterExpansionZoom(m.cluster);
      } catch (gone) {
        zoom = null; // the index was rebuilt since the cluster was drawn
      }
      post({ type: "expand", zoom: zoom, lat: m.lat, lon: m.lon });
    }

    return function handle(m) {
      if (m.type === "expand") { return index && expand(m); }
      if (m.load) { load(m.load); }
      if (m.patch) { patch(m.patch); }
      var wait = builtAt + REBUILD_MS - performance.now();
      var buildMs = stale && (!index || m.load || wait <= 0) ? build() : null;
      var v = m.view;
      post({
        type: "view", seq: m.seq, buildMs: buildMs, points: cases.size,
        zoom: v && v.zoom, items: v ? inView(v) : null, counts: v ? perDistrict(v) : null,
        // Changes not indexed yet: ask again after this many ms.
        owed: stale ? Math.max(0, wait) : null,
      });
    };
  }

  if (typeof scope.document === "undefined" && typeof scope.importScripts === "function") {
    scope.importScripts("vendor/supercluster.min.js"); // beside this file in assets/
    var handle = null;
    scope.onmessage = function (e) {
      if (e.data.type === "options") {
        handle = engine(function (m) { scope.postMessage(m); }, e.data.options);
      } else {
        handle(e.data);
      }
    };
  } else {
    scope.commandhall.register("clusterEngine", engine);
  }
})(self);
