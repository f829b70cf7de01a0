// The console's live parts: the queue and a case's conversation refresh
// when the server says they changed (Server-Sent Events); canned answers
// fill the reply box. Every page works without this script, by reloading.
(function () {
  "use strict";
  var rows = document.getElementById("queue-rows");
  var lines = document.getElementById("lines");
  var text = document.getElementById("text");

  function refresh(el, url) {
    fetch(url, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (t) {
        if (t === null) return;
        el.innerHTML = t;
        if (el === lines && el.lastElementChild) el.lastElementChild.scrollIntoView({ block: "end" });
      })
      .catch(function () {});
  }
  function linesURL() { return "/console/case/" + encodeURIComponent(lines.dataset.code) + "/lines"; }

  if (rows || lines) {
    var es = new EventSource("/console/events");
    es.addEventListener("queue", function () { if (rows) refresh(rows, "/console/queue"); });
    es.addEventListener("case", function (e) {
      if (lines && e.data === lines.dataset.code) refresh(lines, linesURL());
    });
    // After a reconnect, catch up on what was missed.
    es.addEventListener("open", function () {
      if (rows) refresh(rows, "/console/queue");
      if (lines) refresh(lines, linesURL());
    });
  }

  var canned = document.querySelectorAll(".canned button");
  for (var i = 0; i < canned.length; i++) {
    canned[i].addEventListener("click", function (e) {
      var t = e.currentTarget.dataset.text;
      text.value = text.value ? text.value + " " + t : t;
      text.focus();
    });
  }
  if (text) {
    text.addEventListener("keydown", function (e) {
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); text.form.requestSubmit(); }
    });
  }
  if (lines && lines.lastElementChild) lines.lastElementChild.scrollIntoView({ block: "end" });
})();
