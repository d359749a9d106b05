/* The city map's case layer: one circle per case, a badge per cluster coloured by
 * the worst traffic light inside it. wall.js calls commandhall.map.render(cases, at,
 * changes) on every render and puts what it returns into the GeoJSON layer's data. */
(function () {
  "use strict";
  var ch = (window.commandhall = window.commandhall || {});
  var RANK = { none: 0, green: 1, yellow: 2, red: 3 };
  var COLOURS = { none: "#6c7a89", green: "#2ecc71", yellow: "#f1c40f", red: "#ff4d4f" };

  function features(cases, at) {
    var out = [];
    cases.forEach(function (c) {
      out.push({
        type: "Feature",
        geometry: { type: "Point", coordinates: [c.lon, c.lat] },
        properties: { id: c.id, light: ch.wall.light(c, at) },
      });
    });
    return { type: "FeatureCollection", features: out };
  }

  ch.map = {
    // Called by the wall on every render; returns the GeoJSON layer's new data.
    render: function (cases, at, changes) { return features(cases, at); },
    pointToLayer: function (feature, latlng) {
      var l = feature.properties.light;
      var marker = window.L.circleMarker(latlng, {
        radius: 6, weight: 1, color: "#0b1320", fillColor: COLOURS[l], fillOpacity: 0.95,
      });
      marker.on("add", function () {
        var el = marker.getElement();
        if (el) { el.setAttribute("data-case-id", feature.properties.id); }
      });
      return marker;
    },
    clusterToLayer: function (feature, latlng, index) {
      var leaves = index.getLeaves(feature.properties.cluster_id, 500);
      var worst = "none";
      for (var i = 0; i < leaves.length; i++) {
        var l = leaves[i].properties.light;
        if (RANK[l] > RANK[worst]) { worst = l; }
      }
      var n = feature.properties.point_count;
      var size = n < 100 ? 34 : n < 1000 ? 42 : 52;
      var icon = window.L.divIcon({
        html: "<div style=\"background:" + COLOURS[worst] + "\"><span>" + n + "</span></div>",
        className: "case-cluster cluster-" + worst,
        iconSize: window.L.point(size, size),
      });
      return window.L.marker(latlng, { icon: icon });
    },
  };
})();
