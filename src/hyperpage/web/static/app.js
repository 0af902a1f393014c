// Progressive enhancement only: every page works without this file (and without htmx).
(function () {
  "use strict";
  var VISIBLE_MS = 30000;  // a dashboard on screen refreshes every 30 s
  var HIDDEN_MS = 180000;  // a background tab costs the server six times less
  var timer = null;

  function panels() { return document.getElementById("panels"); }

  function schedule() {
    window.clearTimeout(timer);
    if (!panels() || !window.htmx) { return; }
    timer = window.setTimeout(refresh, document.hidden ? HIDDEN_MS : VISIBLE_MS);
  }

  function refresh() {
    var target = panels();
    if (!target) { return; }
    var active = document.activeElement;
    if (active && target.contains(active) && /^(INPUT|SELECT|TEXTAREA)$/.test(active.tagName)) {
      schedule();  // never swap the form the user is typing in
      return;
    }
    window.htmx.ajax("GET", window.location.pathname + window.location.search,
      { target: "#panels", select: "#panels", swap: "outerHTML" }).then(schedule, schedule);
  }

  document.addEventListener("visibilitychange", function () {
    if (document.hidden) { schedule(); } else { refresh(); }
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    if (event.target === document.body) { schedule(); }
  });
  document.addEventListener("keydown", function (event) {
    var tag = (event.target && event.target.tagName) || "";
    if (event.key === "/" && !/^(INPUT|SELECT|TEXTAREA)$/.test(tag)) {
      var search = document.getElementById("q");
      if (search) { event.preventDefault(); search.focus(); search.select(); }
    }
  });
  document.addEventListener("DOMContentLoaded", schedule);
})();
