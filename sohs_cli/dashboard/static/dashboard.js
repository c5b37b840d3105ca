// sohs dashboard: a little vanilla JS; every page works without it.
// The nights page refreshes its last-night numbers from /api/nights every minute (the page's own API).
"use strict";
(function () {
  var tiles = document.getElementById("last-night");
  if (tiles) {
    setInterval(function () {
      fetch("/api/nights" + window.location.search, {credentials: "same-origin", cache: "no-store"})
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          if (!data || !data.nights.length) { return; }
          var last = data.nights[data.nights.length - 1];
          tiles.querySelectorAll("[data-count]").forEach(function (el) {
            var key = el.getAttribute("data-count");
            if (key in last) { el.textContent = String(last[key]); }
          });
        })
        .catch(function () {});
    }, 60000);
  }
  // the documents filter applies a changed choice at once
  var form = document.getElementById("filters");
  if (form) {
    form.querySelectorAll("select, input[type=checkbox]").forEach(function (el) {
      el.addEventListener("change", function () { form.submit(); });
    });
  }
})();
