/* The one namespace the views' scripts share (issue 10): window.commandhall.
 *
 * Dash loads assets in alphabetical order, so this file (00-) comes first. Every
 * other script registers what it offers by name, commandhall.register("live", live),
 * and asks for what it needs with commandhall.when(name, fn) (fn runs once that name
 * is registered, at once if it already is) or commandhall.get(name) at call time:
 * nothing depends on which script happened to load before another.
 *
 * commandhall.page is what the server says about the page before any script runs
 * (layouts/components/views.py page_meta): language, locale, the city's time zone
 * and the Socket.IO event names of streams.names.Push. */
(function () {
  "use strict";
  var modules = {};
  var waiting = {};

  function readPage() {
    var tag = document.querySelector('meta[name="commandhall-page"]');
    try {
      return tag ? JSON.parse(tag.getAttribute("content")) : {};
    } catch (broken) {
      window.console.error("commandhall: unreadable page meta", broken);
      return {};
    }
  }

  var hall = (window.commandhall = {
    page: readPage(),

    register: function (name, module) {
      if (modules[name]) { throw new Error("commandhall: " + name + " registered twice"); }
      modules[name] = module;
      hall[name] = module; // commandhall.live, .wall, .map, .banner: for tests and consoles
      (waiting[name] || []).forEach(function (fn) { fn(module); });
      delete waiting[name];
      return module;
    },

    get: function (name) {
      if (!modules[name]) { throw new Error("commandhall: " + name + " is not registered"); }
      return modules[name];
    },

    has: function (name) { return !!modules[name]; },

    when: function (name, fn) {
      if (modules[name]) { fn(modules[name]); } else { (waiting[name] = waiting[name] || []).push(fn); }
    },
  });
})();
