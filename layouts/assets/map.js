/* The city map's case layer, drawn straight onto the Leaflet map.
 *
 * Why not dash-leaflet's GeoJSON: with 100,000 open cases, handing React a new
 * feature list on every push re-indexes and redraws everything. Here the clustering
 * (vendored supercluster, driven by assets/cluster-worker.js) runs in a Web Worker
 * that is sent only what changed, in
 * batches at most twice a second, and indexes them at most every two seconds
 * (cluster-worker.js REBUILD_MS); it answers with the clusters and cases in view,
 * and the page diffs those against what it has drawn, by key, so one changed case
 * touches one marker and the page's thread never indexes.
 *
 * wall.js calls commandhall.get("map").render(cases, at, changes) on every render; it
 * returns no_update, since nothing goes through the GeoJSON layer's data. The
 * Leaflet map arrives with the district outlines: dash-leaflet calls their
 * onEachFeature (commandhall.map.onDistrict) with a context holding the map and the
 * outlines' hideout ({shade: "overdue" | "open"}), and the districts are shaded by
 * that count (a choropleth with a legend). Unit-grid shading waits for grid
 * outlines, which cities do not supply yet. */
(function () {
  "use strict";
  var ch = window.commandhall;

  var MIN_GAP_MS = 500; // changes reach the index at most twice a second (the wall issue)
  var MAX_TURN_WAIT_MS = 60000; // setTimeout misfires beyond 2^31 ms; look again instead
  var PULSE_MS = 4000; // how long a case counts as new
  var FLASH_MS = 2000; // how long a cluster a new case joined shows its halo
  var VIEW_PAD = 0.25; // draw a margin round the view so a short pan finds its markers
  // Leaflet's tiles are 256 px: with that extent the radius is in screen pixels, and
  // it grows with the markers on a 4K screen so that clusters never overlap.
  var CLUSTERING = { radius: 64, extent: 256, maxZoom: 16 };
  var RANK = { none: 0, green: 1, yellow: 2, red: 3 }; // wall.js's lights, as CSS classes
  var LIGHTS = ["green", "yellow", "red", "none"];
  // Dark sequential scales that keep the bright markers on top legible.
  var SHADES = {
    overdue: ["#16263a", "#4a2a3a", "#6e2c38", "#932e33", "#b8342f"],
    open: ["#16263a", "#1d3b5e", "#22507e", "#28679f", "#2f80c0"],
  };

  var model = {
    cases: new Map(), // the wall's open cases: id -> summary
    arrived: new Map(), // id -> when a pushed case arrived (Date.now), for the pulse
    pending: { full: true, ids: new Set() }, // what the index has not been sent yet
  };
  var link = {
    engine: null, seq: 0, inFlight: false, owed: false, lastFlush: 0, timer: null,
    rebuild: null, // the timer that asks the engine again for changes it has not indexed
  };
  var stats = { worker: null, builds: 0, points: 0, buildMs: 0, maxBuildMs: 0, drawMs: 0, drawn: 0 };
  var view = null; // the Leaflet map and what is drawn on it
  var districts = new Map(); // district code -> its outline polygons

  function now() { return ch.has("live") ? ch.get("live").now() : Date.now(); }
  function meta() { return (ch.has("wall") && ch.get("wall").meta) || null; }
  function labels() { return (meta() && meta().labels) || {}; }
  function px(n) { return Math.round(n * Math.max(1, window.innerHeight / 1080)); }

  // --- clocks and lights ---------------------------------------------------------------

  // A case's clock as two instants, red from d and yellow from w (wall.js has the
  // rule). A cluster keeps the earliest of each among its leaves, so its light - the
  // worst inside it - is O(1) to reduce and stays right as time passes, without
  // re-indexing.
  function clockOf(c) { return ch.get("wall").clockOf(c); }
  function lightAt(clock, at) { return ch.get("wall").lightAt(clock, at); }

  function nextTurn(clock, at) {
    return clock.w > at ? clock.w : clock.d > at ? clock.d : Infinity;
  }

  // --- the clustering engine (assets/cluster-worker.js) ----------------------------------

  function clustering() {
    return Object.assign({}, CLUSTERING, { radius: px(CLUSTERING.radius) });
  }

  // The engine's asset sits beside the vendor folder the page loaded supercluster from.
  function engineUrl() {
    var script = document.querySelector('script[src*="vendor/supercluster.min.js"]');
    return script ? script.src.replace(/vendor\/supercluster\.min\.js.*$/, "cluster-worker.js") : null;
  }

  function startWorker() {
    var url = engineUrl();
    if (!window.Worker || !url) { return null; }
    var worker;
    try {
      worker = new Worker(url);
    } catch (refused) {
      return null; // e.g. a content security policy without workers
    }
    worker.onmessage = function (e) { receive(e.data); };
    worker.onerror = function (e) { workerFailed(worker, e); };
    worker.postMessage({ type: "options", options: clustering() });
    return { worker: true, post: function (m, transfer) { worker.postMessage(m, transfer); } };
  }

  // Where workers are refused, the engine's asset is added to the page; requests wait
  // for it.
  function inThread() {
    var handle = null;
    var queue = [];
    // A failure here must not reach the wall's Dash callback, which also draws the boards.
    function run(m) {
      try {
        handle(m);
      } catch (error) {
        window.console.error("commandhall map: clustering failed:", error);
        link.inFlight = false;
      }
    }
    ch.when("clusterEngine", function (engine) {
      handle = engine(function (m) { setTimeout(function () { receive(m); }, 0); }, clustering());
      queue.splice(0).forEach(run);
    });
    if (!handle) { addEngineScript(); }
    return { worker: false, post: function (m) { if (handle) { run(m); } else { queue.push(m); } } };
  }

  function addEngineScript() {
    if (document.querySelector("script[data-cluster-engine]")) { return; }
    var script = document.createElement("script");
    script.src = engineUrl();
    script.setAttribute("data-cluster-engine", "");
    script.onerror = function () {
      window.console.error("commandhall map: the clustering engine did not load from " + script.src);
    };
    document.head.appendChild(script);
  }

  // A wall runs for months: if the worker dies, cluster in the page rather than stop.
  function workerFailed(worker, event) {
    event.preventDefault();
    worker.terminate();
    window.console.error("commandhall map: clustering worker failed (" + event.message +
      "); clustering in the page instead");
    useEngine(inThread());
    model.pending = { full: true, ids: new Set() };
    send();
  }

  function useEngine(engineLink) {
    link.engine = engineLink;
    link.inFlight = false;
    link.lastFlush = 0;
    stats.worker = engineLink.worker;
  }

  // --- what the index is sent, and when --------------------------------------------------

  function track(cases, changes) {
    model.cases = cases;
    if (changes.full) {
      model.pending = { full: true, ids: new Set() };
      return true;
    }
    var arrival = Date.now();
    changes.added.forEach(function (id) { model.arrived.set(id, arrival); });
    var ids = model.pending.ids;
    [changes.added, changes.updated, changes.removed].forEach(function (list) {
      list.forEach(function (id) { ids.add(id); });
    });
    return changes.added.length + changes.updated.length + changes.removed.length > 0;
  }

  function hasPending() { return model.pending.full || model.pending.ids.size > 0; }

  function columns(cases) {
    var ids = [];
    var dis = [];
    var numbers = new Float64Array(cases.size * 4);
    var i = 0;
    cases.forEach(function (c) {
      var clock = clockOf(c);
      ids.push(c.id);
      dis.push(c.dis || "");
      numbers[i] = c.lon;
      numbers[i + 1] = c.lat;
      numbers[i + 2] = clock.d;
      numbers[i + 3] = clock.w;
      i += 4;
    });
    return { ids: ids, dis: dis, numbers: numbers.buffer };
  }

  function record(c) {
    var clock = clockOf(c);
    return [c.id, c.lon, c.lat, clock.d, clock.w, model.arrived.get(c.id) || 0, c.dis || ""];
  }

  // Moves the pending changes into a message; what to transfer rather than copy.
  function takeChanges(message) {
    var pending = model.pending;
    model.pending = { full: false, ids: new Set() };
    link.lastFlush = Date.now();
    forgetOldArrivals();
    if (pending.full) {
      message.load = columns(model.cases);
      return [message.load.numbers];
    }
    var set = [];
    var remove = [];
    pending.ids.forEach(function (id) {
      var c = model.cases.get(id);
      if (c) { set.push(record(c)); } else { remove.push(id); }
    });
    message.patch = { set: set, remove: remove };
    return [];
  }

  function forgetOldArrivals() {
    var before = Date.now() - PULSE_MS;
    model.arrived.forEach(function (t, id) { if (t < before) { model.arrived.delete(id); } });
  }

  // One request at a time: whatever is asked for meanwhile rides on the next one.
  function send() {
    if (link.inFlight) {
      link.owed = true;
      return;
    }
    var due = hasPending() && Date.now() - link.lastFlush >= MIN_GAP_MS;
    if (hasPending() && !due) { later(); }
    var ready = view && view.ready;
    if (!due && !ready && !link.rebuild) { return; }
    clearTimeout(link.rebuild);
    link.rebuild = null;
    var message = { seq: (link.seq += 1), view: ready ? viewRequest() : null };
    var transfer = due ? takeChanges(message) : [];
    link.inFlight = true;
    link.engine.post(message, transfer);
  }

  function later() {
    if (link.timer) { return; }
    var wait = Math.max(0, link.lastFlush + MIN_GAP_MS - Date.now());
    link.timer = setTimeout(function () { link.timer = null; send(); }, wait);
  }

  function viewRequest() {
    var b = view.map.getBounds().pad(VIEW_PAD);
    return {
      bbox: [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()],
      zoom: Math.floor(view.map.getZoom()),
      at: now(),
      overdueOnly: view.shade === "overdue",
    };
  }

  function receive(m) {
    if (m.type === "expand") { return zoomTo(m); }
    link.inFlight = false;
    if (m.buildMs !== null) { noteBuild(m); }
    // An answer for a zoom already left would only flicker; the next one is owed.
    if (m.items && view && view.ready && m.zoom === Math.floor(view.map.getZoom())) {
      draw(m.items, m.zoom);
    }
    if (m.counts && view && view.ready) { shadeDistricts(m.counts); }
    if (m.owed !== null && m.owed !== undefined) { askAgain(m.owed); }
    if (link.owed) {
      link.owed = false;
      send();
    }
  }

  // The engine indexes changes at most every few seconds; once it will, ask again.
  function askAgain(wait) {
    if (link.rebuild) { return; }
    link.rebuild = setTimeout(send, wait + 20);
  }

  function noteBuild(m) {
    stats.builds += 1;
    stats.points = m.points;
    stats.buildMs = m.buildMs;
    stats.maxBuildMs = Math.max(stats.maxBuildMs, m.buildMs);
  }

  // --- drawing what is in view, diffed by key ---------------------------------------------

  // A DivIcon whose element carries data-* attributes (data-case-id on case markers).
  var TaggedIcon = null;
  function icon(options) {
    if (!TaggedIcon) {
      TaggedIcon = window.L.DivIcon.extend({
        createIcon: function (old) {
          var el = window.L.DivIcon.prototype.createIcon.call(this, old);
          var tags = this.options.tags;
          Object.keys(tags).forEach(function (k) { el.setAttribute("data-" + k, tags[k]); });
          return el;
        },
      });
    }
    return new TaggedIcon(Object.assign({ html: "" }, options));
  }

  // Changes a drawn marker's class and tags in place, and in its icon's options so
  // that an element Leaflet re-creates later looks the same.
  function retag(marker, className, tags) {
    var options = marker.options.icon.options;
    var el = marker.getElement();
    var old = options.className.split(" ");
    options.className = className;
    Object.assign(options.tags, tags);
    if (!el) { return; }
    old.forEach(function (name) { if (name) { el.classList.remove(name); } });
    className.split(" ").forEach(function (name) { if (name) { el.classList.add(name); } });
    Object.keys(tags).forEach(function (k) { el.setAttribute("data-" + k, tags[k]); });
  }

  function keyOf(item, zoom) {
    if (item.cluster === undefined) { return "c:" + item.id; }
    // Cluster ids change with every build; a cluster's centre only when its members do.
    return "k:" + zoom + ":" + item.lon.toFixed(6) + "," + item.lat.toFixed(6);
  }

  function draw(items, zoom) {
    clearTimeout(view.turn);
    var started = performance.now();
    var at = now();
    var wanted = new Map();
    items.forEach(function (item) { wanted.set(keyOf(item, zoom), item); });
    view.drawn.forEach(function (entry, key) {
      if (!wanted.has(key)) {
        view.group.removeLayer(entry.marker);
        view.drawn.delete(key);
      }
    });
    var next = Infinity;
    wanted.forEach(function (item, key) { next = Math.min(next, upsert(key, item, at)); });
    stats.drawMs = performance.now() - started;
    stats.drawn = view.drawn.size;
    awaitTurn(next, at);
  }

  // Lights turn at known instants: look again then rather than at the wall's next tick.
  function awaitTurn(next, at) {
    if (next === Infinity) { return; }
    view.turn = setTimeout(send, Math.min(MAX_TURN_WAIT_MS, Math.max(1000, next - at + 20)));
  }

  function upsert(key, item, at) {
    var light = lightAt(item, at);
    var entry = view.drawn.get(key);
    var cluster = item.cluster !== undefined;
    if (!entry) {
      entry = cluster ? newCluster(item, light) : newCase(item, light);
      view.drawn.set(key, entry);
      view.group.addLayer(entry.marker);
    } else if (cluster) {
      updateCluster(entry, item, light);
    } else {
      updateCase(entry, item, light);
    }
    return nextTurn(item, at);
  }

  function isRecent(t) { return t > 0 && Date.now() - t < PULSE_MS; }

  // The pulse of a new case and the halo of a cluster it joined are classes that a
  // timer takes off again; they blink with the wall's one-second tick (map.css), not
  // by a CSS animation, which would have the page draw 60 frames a second.
  function unmarkLater(entry, className, ms) {
    clearTimeout(entry.unmark);
    entry.unmark = setTimeout(function () {
      var options = entry.marker.options.icon.options;
      retag(entry.marker, options.className.replace(" " + className, ""), {});
    }, Math.max(0, ms));
  }

  function pulseUntil(entry, id) {
    var arrived = model.arrived.get(id);
    if (isRecent(arrived)) { unmarkLater(entry, "case-new", arrived + PULSE_MS - Date.now() + 50); }
  }

  // --- one case ------------------------------------------------------------------------------

  function caseClass(light, fresh) {
    return "case-marker light-" + light + (fresh ? " case-new" : "");
  }

  function newCase(item, light) {
    var size = px(22);
    var marker = window.L.marker([item.lat, item.lon], {
      icon: icon({
        className: caseClass(light, isRecent(model.arrived.get(item.id))),
        iconSize: [size, size],
        tags: { "case-id": item.id, light: light },
      }),
      keyboard: false,
      zIndexOffset: RANK[light] * 1000,
    });
    marker.bindTooltip(function () { return tooltip(item.id); }, {
      direction: "top", offset: [0, -size / 2], className: "case-tooltip",
    });
    var entry = { marker: marker, light: light, lon: item.lon, lat: item.lat, unmark: null };
    pulseUntil(entry, item.id);
    return entry;
  }

  function updateCase(entry, item, light) {
    if (entry.lon !== item.lon || entry.lat !== item.lat) {
      entry.marker.setLatLng([item.lat, item.lon]);
      entry.lon = item.lon;
      entry.lat = item.lat;
    }
    if (entry.light === light) { return; }
    entry.light = light;
    // A case dispatched just after its report changes light while still new: it keeps
    // its pulse for the whole PULSE_MS, whatever the timing of the two pushes.
    retag(entry.marker, caseClass(light, isRecent(model.arrived.get(item.id))), { light: light });
    pulseUntil(entry, item.id);
    entry.marker.setZIndexOffset(RANK[light] * 1000);
  }

  // Built when the tooltip opens, from the case as it is now; the countdown carries
  // data-deadline, so the wall's one-second tick keeps it running while open.
  function tooltip(id) {
    var c = model.cases.get(id);
    var names = meta() || { units: {}, categories: {} };
    var t = labels();
    var box = element("div", "case-tip");
    box.setAttribute("data-case-id", id);
    if (!c) {
      box.textContent = id;
      return box;
    }
    box.appendChild(element("div", "tip-category", names.categories[c.k + ":" + c.cat] || c.cat));
    box.appendChild(row(t.department, element("span", "tip-department", names.units[c.dep] || c.dep || "—")));
    box.appendChild(row(t.time_left, timeLeft(c, t)));
    return box;
  }

  function timeLeft(c, t) {
    var wall = ch.get("wall");
    if (wall.stopped.has(c.st)) { return element("span", "tip-suspended", t.suspended); }
    if (!c.dl) { return element("span", "", "—"); }
    var at = now();
    var span = element("span", "countdown" + (at >= c.dl ? " overdue" : ""), wall.countdown(c.dl - at));
    span.setAttribute("data-deadline", c.dl);
    return span;
  }

  function row(label, value) {
    var line = element("div", "tip-row");
    line.appendChild(element("span", "tip-label", label || ""));
    line.appendChild(value);
    return line;
  }

  function element(tag, className, text) {
    var el = document.createElement(tag);
    if (className) { el.className = className; }
    if (text !== undefined) { el.textContent = text; }
    return el;
  }

  // --- a cluster -----------------------------------------------------------------------------

  function sizeOf(count) { return count < 10 ? 32 : count < 100 ? 40 : count < 1000 ? 48 : 58; }

  // Whole numbers read best from across the hall; past four digits, 万 or k.
  function countLabel(n) {
    if (n < 10000) { return String(n); }
    return ch.page.language === "en" ? Math.round(n / 1000) + "k"
      : (n / 10000).toFixed(1) + "万";
  }

  function clusterClass(light, fresh) {
    return "case-cluster light-" + light + (fresh ? " cluster-new" : "");
  }

  function clusterIcon(item, light, fresh) {
    var size = px(sizeOf(item.n));
    return icon({
      className: clusterClass(light, fresh),
      iconSize: [size, size],
      html: "<span>" + countLabel(item.n) + "</span>",
      tags: { count: item.n, light: light },
    });
  }

  function newCluster(item, light) {
    var marker = window.L.marker([item.lat, item.lon], {
      icon: clusterIcon(item, light, isRecent(item.a)),
      keyboard: false,
      zIndexOffset: RANK[light] * 1000,
    });
    var entry = {
      marker: marker, id: item.cluster, count: item.n, light: light, a: item.a, unmark: null,
    };
    if (isRecent(item.a)) { unmarkLater(entry, "cluster-new", FLASH_MS); }
    marker.on("click", function () {
      link.engine.post({ type: "expand", cluster: entry.id, lat: item.lat, lon: item.lon }, []);
    });
    return entry;
  }

  function updateCluster(entry, item, light) {
    var fresh = item.a > entry.a && isRecent(item.a);
    entry.id = item.cluster;
    entry.a = item.a;
    // A halo already on stays on until its timer.
    var halo = fresh || entry.marker.options.icon.options.className.indexOf("cluster-new") >= 0;
    if (sizeOf(item.n) !== sizeOf(entry.count)) {
      entry.marker.setIcon(clusterIcon(item, light, halo));
    } else if (item.n !== entry.count || light !== entry.light || fresh) {
      retag(entry.marker, clusterClass(light, halo), { count: item.n, light: light });
      var el = entry.marker.getElement();
      if (el) { el.firstChild.textContent = countLabel(item.n); }
    }
    if (fresh) { unmarkLater(entry, "cluster-new", FLASH_MS); }
    entry.count = item.n;
    entry.light = light;
    entry.marker.setZIndexOffset(RANK[light] * 1000);
  }

  function zoomTo(m) {
    var map = view.map;
    var zoom = m.zoom === null ? map.getZoom() + 2 : Math.min(m.zoom, CLUSTERING.maxZoom + 1);
    map.setView([m.lat, m.lon], zoom);
  }

  // --- districts: the choropleth and its legend -----------------------------------------

  function onDistrict(feature, layer, context) {
    if (context && context.map && (!view || view.map !== context.map)) {
      attach(context.map, context.hideout || {});
    }
    var code = String(feature.properties.code);
    if (!districts.has(code)) { districts.set(code, []); }
    districts.get(code).push(layer);
    layer.on("add", function () {
      var el = layer.getElement();
      if (el) { el.setAttribute("data-district", code); }
    });
  }

  // Class width: 1, 2 or 5 times a power of ten, so that four classes hold the most.
  function stepFor(max) {
    var raw = Math.max(1, max / 4);
    var power = Math.pow(10, Math.floor(Math.log10(raw)));
    return [1, 2, 5, 10].map(function (m) { return m * power; }).filter(function (s) {
      return s >= raw;
    })[0];
  }

  function classOf(n, step) { return n === 0 ? 0 : Math.min(4, Math.ceil(n / step)); }

  function shadeDistricts(counts) {
    var max = 0;
    Object.keys(counts).forEach(function (code) { max = Math.max(max, counts[code]); });
    var step = stepFor(max);
    var colours = SHADES[view.shade];
    districts.forEach(function (layers, code) {
      var n = counts[code] || 0;
      var shade = classOf(n, step);
      layers.forEach(function (layer) {
        if (view.shades.get(layer) !== shade) {
          layer.setStyle({ fillColor: colours[shade] });
          view.shades.set(layer, shade);
        }
        var el = layer.getElement();
        if (el && el.getAttribute("data-count") !== String(n)) { el.setAttribute("data-count", n); }
      });
    });
    fillLegend(step);
  }

  function legendRanges(step) {
    function range(lo, hi) { return lo === hi ? String(lo) : lo + "–" + hi; }
    return ["0", range(1, step), range(step + 1, 2 * step), range(2 * step + 1, 3 * step),
      "≥ " + (3 * step + 1)];
  }

  // Labels come from the wall's meta; the map's own fall back to near words until
  // layouts/i18n.py carries them.
  function fillLegend(step) {
    var t = labels();
    if (view.legendStep === step || !t.red) { return; }
    view.legendStep = step;
    var box = view.legend;
    box.textContent = "";
    box.setAttribute("data-shade", view.shade);
    var title = view.shade === "overdue" ? t.map_overdue || t.red : t.map_open || t.open;
    box.appendChild(element("div", "legend-title", title));
    legendRanges(step).forEach(function (text, i) {
      var swatch = element("i", "legend-swatch");
      swatch.style.background = SHADES[view.shade][i];
      box.appendChild(legendRow(swatch, text));
    });
    var names = {
      green: t.on_time || t.open, yellow: t.yellow, red: t.red,
      none: t.not_dispatched || t.suspended,
    };
    var lights = element("div", "legend-lights");
    LIGHTS.forEach(function (light) {
      lights.appendChild(legendRow(element("i", "legend-dot light-" + light), names[light]));
    });
    box.appendChild(lights);
  }

  function legendRow(mark, text) {
    var line = element("div", "legend-row");
    line.appendChild(mark);
    line.appendChild(element("span", "", text || ""));
    return line;
  }

  // The page gives the legend a place of its own beside the map (layouts/wall.py),
  // so that it covers no district or cluster; a map without one gets a corner.
  function addLegend(map) {
    var own = document.getElementById(map.getContainer().id + "-legend");
    if (own) { return own; }
    var control = window.L.control({ position: "bottomleft" });
    var box = element("div", "map-legend");
    control.onAdd = function () { return box; };
    control.addTo(map);
    return box;
  }

  // --- attaching to the map, and the wall's entry point ------------------------------------

  function attach(map, options) {
    if (view) { clearTimeout(view.turn); }
    districts.clear();
    var fresh = {
      map: map, group: window.L.layerGroup(), drawn: new Map(), shades: new Map(),
      shade: options.shade === "open" ? "open" : "overdue", turn: null, ready: false,
      legend: null, legendStep: null,
    };
    view = fresh;
    map.whenReady(function () {
      fresh.group.addTo(map);
      fresh.legend = addLegend(map);
      map.on("moveend", function () { if (view === fresh) { send(); } });
      fresh.ready = true;
      if (link.engine) { send(); }
    });
  }

  // Changes wait for the next batch; a render with none (the wall's tick) looks again
  // at once, since lights and district counts move with time.
  function render(cases, at, changes) {
    if (!link.engine) { useEngine(startWorker() || inThread()); }
    if (track(cases, changes)) { later(); } else { send(); }
    return window.dash_clientside.no_update;
  }

  ch.register("map", {
    render: render,
    onDistrict: onDistrict,
    // For tests, the bench and a commander's console: the Leaflet map and timings.
    leaflet: function () { return view && view.ready ? view.map : null; },
    stats: stats,
    // Whether a case is still within its pulse (new) time, as the markers judge it.
    isNew: function (id) { return isRecent(model.arrived.get(id)); },
  });
})();
