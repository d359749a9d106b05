/* The wall's countdown boards, kept and drawn incrementally (issue 14, goal 7).
 *
 * A push changes a few of 10,000 open cases, so nothing here walks them all:
 * - groups: per department (and in total) the open count, the lit cases sorted by
 *   deadline and their warn instants sorted; a case is put in or taken out with a
 *   binary search, and yellow and red at any instant are two more searches (red:
 *   deadline passed; yellow: warn passed, less the red). Lights change with time
 *   alone, and these counts follow without re-indexing.
 * - drawing: the boards go straight into #wall-boards, keyed by department and case
 *   id; a redraw changes only the counts and rows that differ. Handing Dash a new
 *   tree of a thousand components per push made React rebuild every board.
 * wall.js owns the cases and calls commandhall.get("boards"). */
(function () {
  "use strict";
  var ch = window.commandhall;

  // --- sorted arrays ------------------------------------------------------------------

  function before(a, b) { return a.dl < b.dl || (a.dl === b.dl && a.id < b.id); }

  // Where c goes in `lit` (sorted by deadline, then id).
  function slot(lit, c) {
    var lo = 0;
    var hi = lit.length;
    while (lo < hi) {
      var mid = (lo + hi) >> 1;
      if (before(lit[mid], c)) { lo = mid + 1; } else { hi = mid; }
    }
    return lo;
  }

  // How many of the sorted `list` have value(item) <= x.
  function atMost(list, x, value) {
    var lo = 0;
    var hi = list.length;
    while (lo < hi) {
      var mid = (lo + hi) >> 1;
      if (value(list[mid]) <= x) { lo = mid + 1; } else { hi = mid; }
    }
    return lo;
  }
  function itself(x) { return x; }
  function deadline(c) { return c.dl; }

  // --- groups ---------------------------------------------------------------------------

  function group(code) { return { code: code, open: 0, lit: [], warns: [] }; }

  // A case whose warn instant comes after its deadline goes green to red: counting its
  // warn at the deadline keeps "yellow = warned - red" true.
  function warnOf(clock) { return Math.min(clock.w, clock.d); }

  function put(g, c, clock) {
    g.open += 1;
    if (clock.d === Infinity) { return; }
    g.lit.splice(slot(g.lit, c), 0, c);
    var w = warnOf(clock);
    g.warns.splice(atMost(g.warns, w, itself), 0, w);
  }

  function take(g, c, clock) {
    g.open -= 1;
    if (clock.d === Infinity) { return; }
    var i = slot(g.lit, c);
    if (g.lit[i] && g.lit[i].id === c.id) { g.lit.splice(i, 1); }
    var w = warnOf(clock);
    var j = atMost(g.warns, w, itself) - 1;
    if (g.warns[j] === w) { g.warns.splice(j, 1); }
  }

  function counts(g, at) {
    var red = atMost(g.lit, at, deadline);
    return { red: red, yellow: atMost(g.warns, at, itself) - red };
  }

  // The next instant one of the group's lights turns.
  function nextTurn(g, at) {
    var red = atMost(g.lit, at, deadline);
    var warned = atMost(g.warns, at, itself);
    return Math.min(red < g.lit.length ? g.lit[red].dl : Infinity,
      warned < g.warns.length ? g.warns[warned] : Infinity);
  }

  /* The open cases that pass `filter`, per department and in total. clockOf is the
   * wall's light rule: the same case must give the same clock when taken out as when
   * put in (cases are replaced, never changed in place). */
  function Groups(clockOf, filter) {
    this.clockOf = clockOf;
    this.filter = filter;
    this.clear();
  }
  Groups.prototype.clear = function () {
    this.departments = new Map();
    this.total = group(null);
  };
  Groups.prototype.add = function (c) {
    if (!this.filter(c)) { return; }
    var clock = this.clockOf(c);
    put(this.total, c, clock);
    if (!c.dep) { return; }
    if (!this.departments.has(c.dep)) { this.departments.set(c.dep, group(c.dep)); }
    put(this.departments.get(c.dep), c, clock);
  };
  Groups.prototype.remove = function (c) {
    if (!this.filter(c)) { return; }
    var clock = this.clockOf(c);
    take(this.total, c, clock);
    var g = c.dep && this.departments.get(c.dep);
    if (!g) { return; }
    take(g, c, clock);
    if (g.open === 0) { this.departments.delete(c.dep); }
  };
  // The departments at `at`, worst first: {code, open, yellow, red, lit}.
  Groups.prototype.ranked = function (at) {
    var list = [];
    this.departments.forEach(function (g) {
      var n = counts(g, at);
      list.push({ code: g.code, open: g.open, yellow: n.yellow, red: n.red, lit: g.lit, group: g });
    });
    return list.sort(function (a, b) {
      return b.red - a.red || b.yellow - a.yellow || b.open - a.open || (a.code < b.code ? -1 : 1);
    });
  };
  Groups.prototype.totals = function (at) {
    var n = counts(this.total, at);
    return { open: this.total.open, yellow: n.yellow, red: n.red };
  };

  // --- drawing, keyed -------------------------------------------------------------------

  var drawn = new Map(); // department -> {el, spans, text, rows: Map id -> {c, light, el}}
  var extras = {}; // the pager and the no-cases note, kept between redraws

  function element(tag, className, text) {
    var el = document.createElement(tag);
    if (className) { el.className = className; }
    if (text !== undefined) { el.textContent = text; }
    return el;
  }

  function newBoard(code, t) {
    var el = element("div", "board");
    el.setAttribute("data-department", code);
    var head = el.appendChild(element("div", "board-head"));
    var spans = { name: head.appendChild(element("span", "board-name")) };
    ["open", "yellow", "red"].forEach(function (key) {
      spans[key] = head.appendChild(element("span", "count count-" + key));
      spans[key].title = t[key];
    });
    var rates = el.appendChild(element("div", "board-rates"));
    spans.today = rates.appendChild(element("span"));
    spans.month = rates.appendChild(element("span"));
    spans.cases = el.appendChild(element("div", "board-cases"));
    return { el: el, spans: spans, text: {}, rows: new Map() };
  }

  function setText(entry, key, value) {
    if (entry.text[key] === value) { return; }
    entry.text[key] = value;
    entry.spans[key].textContent = value;
  }

  function newRow(wall, c, l, at) {
    var meta = wall.meta;
    var el = element("div", "case-row light-" + l + (c.sv ? " supervised" : ""));
    el.setAttribute("data-case-id", c.id);
    el.setAttribute("data-light", l);
    el.setAttribute("data-supervised", c.sv ? "true" : "");
    // A leader's 督办 shows on every board the case is on (issue 11).
    if (c.sv) { el.appendChild(element("span", "mark-supervised", meta.labels.mark_supervised)); }
    el.appendChild(element("span", "case-name", meta.categories[c.k + ":" + c.cat] || c.cat));
    var clock = el.appendChild(element("span", "countdown" + (l === "red" ? " overdue" : ""),
      wall.countdown(c.dl - at)));
    clock.setAttribute("data-deadline", c.dl);
    clock.setAttribute("data-warn", c.wa);
    return el;
  }

  // Puts exactly `wanted` in `parent`, in order, moving only what is out of place.
  function arrange(parent, wanted) {
    for (var i = 0; i < wanted.length; i++) {
      var at = parent.children[i];
      if (at !== wanted[i]) { parent.insertBefore(wanted[i], at || null); }
    }
    while (parent.children.length > wanted.length) { parent.lastChild.remove(); }
  }

  function fillRows(wall, entry, list, at) {
    var keep = new Map();
    var wanted = list.map(function (c) {
      var l = wall.light(c, at);
      var row = entry.rows.get(c.id);
      if (!row || row.c !== c || row.light !== l) { row = { c: c, light: l, el: newRow(wall, c, l, at) }; }
      keep.set(c.id, row);
      return row.el;
    });
    entry.rows = keep;
    arrange(entry.spans.cases, wanted);
  }

  function percent(x) { return x === null || x === undefined ? "—" : (x * 100).toFixed(1) + "%"; }

  function fillBoard(wall, d, rows, at) {
    var t = wall.meta.labels;
    var entry = drawn.get(d.code) || newBoard(d.code, t);
    var rates = wall.units[d.code] || {};
    setText(entry, "name", wall.meta.units[d.code] || d.code);
    setText(entry, "open", String(d.open));
    setText(entry, "yellow", String(d.yellow));
    setText(entry, "red", String(d.red));
    setText(entry, "today", t.today_on_time + " " + percent(rates.today));
    setText(entry, "month", t.month_on_time + " " + percent(rates.month));
    fillRows(wall, entry, d.lit.slice(0, rows), at);
    return entry;
  }

  function extra(name, className) {
    if (!extras[name]) { extras[name] = element("div", className); }
    return extras[name];
  }

  /* Draws the boards shown (ranked departments) into the container, with the pager
   * ({page, pages}) when there are several pages, or the note `empty` when none. */
  function draw(container, wall, shown, pager, empty, at) {
    var rows = wall.rowsPerBoard();
    var kept = new Map();
    var wanted = shown.map(function (d) {
      var entry = fillBoard(wall, d, rows, at);
      kept.set(d.code, entry);
      return entry.el;
    });
    drawn = kept;
    if (pager) {
      var el = extra("pager", "pager");
      el.setAttribute("data-page", pager.page);
      el.setAttribute("data-pages", pager.pages);
      el.textContent = pager.page + " / " + pager.pages;
      wanted.push(el);
    }
    if (!shown.length) {
      var note = extra("empty", "no-cases");
      note.textContent = empty;
      wanted.push(note);
    }
    arrange(container, wanted);
  }

  ch.register("boards", { Groups: Groups, draw: draw, nextTurn: nextTurn });
})();
