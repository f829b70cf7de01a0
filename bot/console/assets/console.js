// The console's live parts. Every page works without this script, by
// plain forms and reloads; with it:
// - the queue and a case's conversation refresh when the server says they
//   changed (Server-Sent Events), and waiting times count up;
// - a new or newly urgent case changes the tab title and the icon's badge,
//   plays a soft sound when the counsellor turned it on, and raises a
//   desktop notification when they allowed it;
// - forms marked data-fetch are sent with fetch, so the page stays and the
//   reply box keeps focus;
// - canned answers are found by typing and put in the reply by keyboard.
(function () {
  "use strict";
  var $ = function (id) { return document.getElementById(id); };
  var rows = $("queue-rows");
  var lines = $("lines");
  var text = $("text");
  var status = $("status");
  var wordsEl = $("words");
  var words = wordsEl ? wordsEl.dataset : {};
  var w = function (id) { return words[id] || ""; };
  var baseTitle = document.title;

  function say(msg) {
    if (!status) return;
    status.textContent = msg;
    status.hidden = !msg;
  }

  // --- Waiting times count up. ---
  function span(ms) {
    var s = Math.max(0, Math.floor(ms / 1000));
    var h = Math.floor(s / 3600), m = Math.floor(s / 60) % 60;
    if (h > 0) return h + " " + w("timeH") + " " + (m < 10 ? "0" : "") + m + " " + w("timeMin");
    if (m > 0) return m + " " + w("timeMin") + " " + (s % 60 < 10 ? "0" : "") + (s % 60) + " " + w("timeS");
    return (s % 60) + " " + w("timeS");
  }
  function tick() {
    var ts = document.querySelectorAll("time.wait[data-since]");
    var now = Date.now();
    for (var i = 0; i < ts.length; i++) ts[i].textContent = span(now - Number(ts[i].dataset.since));
  }
  tick();
  setInterval(tick, 1000);

  // --- Nobody waits unseen: title, icon badge, sound, notification. ---
  var known = null; // code -> urgent, as last seen; null before the first look
  var unseen = 0;   // new or newly urgent cases since the counsellor last looked
  var waiting = 0;
  var icon = $("icon");
  var sound = $("sound");
  var notifyBtn = $("notify");

  function drawIcon(n, urgent) {
    if (!icon) return;
    var c = document.createElement("canvas");
    c.width = c.height = 32;
    var g = c.getContext("2d");
    if (!g) return;
    g.fillStyle = "#1f5fa8";
    g.beginPath();
    g.moveTo(7, 0); g.arcTo(32, 0, 32, 32, 7); g.arcTo(32, 32, 0, 32, 7); g.arcTo(0, 32, 0, 0, 7); g.arcTo(0, 0, 32, 0, 7);
    g.fill();
    g.fillStyle = "#fff";
    g.fillRect(8, 10, 16, 10);
    if (n > 0) {
      g.fillStyle = urgent ? "#b3261e" : "#d35400";
      g.beginPath(); g.arc(22, 10, 10, 0, 2 * Math.PI); g.fill();
      g.fillStyle = "#fff";
      g.font = "bold 14px sans-serif";
      g.textAlign = "center"; g.textBaseline = "middle";
      g.fillText(n > 9 ? "9+" : String(n), 22, 11);
    }
    icon.type = "image/png";
    icon.href = c.toDataURL("image/png");
  }
  function showCount(list) {
    waiting = list.length;
    var urgent = list.some(function (c) { return c.urgent; });
    var badge = $("waiting-badge");
    if (badge) { badge.textContent = waiting; badge.hidden = waiting === 0; badge.classList.toggle("urgent", urgent); }
    var prefix = waiting > 0 ? "(" + waiting + ") " : "";
    if (unseen > 0) prefix = "\u25cf " + (urgent ? w("consoleUrgentCase") : w("consoleNewCase")) + " " + prefix;
    document.title = prefix + baseTitle;
    drawIcon(waiting, urgent);
  }
  function chime(urgent) {
    if (!sound || !sound.checked) return;
    var AC = window.AudioContext || window.webkitAudioContext;
    if (!AC) return;
    try {
      var ac = chime.ac || (chime.ac = new AC());
      var notes = urgent ? [660, 880] : [660];
      notes.forEach(function (f, i) {
        var o = ac.createOscillator(), v = ac.createGain();
        var t = ac.currentTime + i * 0.25;
        o.type = "sine"; o.frequency.value = f;
        v.gain.setValueAtTime(0.0001, t);
        v.gain.exponentialRampToValueAtTime(0.15, t + 0.03);
        v.gain.exponentialRampToValueAtTime(0.0001, t + 0.5);
        o.connect(v); v.connect(ac.destination);
        o.start(t); o.stop(t + 0.55);
      });
    } catch (e) { /* no sound is better than a broken page */ }
  }
  function notify(urgent) {
    if (!("Notification" in window) || Notification.permission !== "granted") return;
    try {
      var n = new Notification(urgent ? w("consoleUrgentCase") : w("consoleNewCase"), { body: w("consoleNotifyBody"), tag: "helpline-queue" });
      n.onclick = function () { window.focus(); location.href = "/console/"; };
    } catch (e) { /* some browsers allow notifications from a service worker only */ }
  }
  function look(list) {
    var next = {}, fresh = false, urgentNow = false;
    list.forEach(function (c) {
      next[c.code] = c.urgent;
      if (known && (!(c.code in known) || (c.urgent && !known[c.code]))) {
        fresh = true;
        urgentNow = urgentNow || c.urgent;
      }
    });
    known = next;
    if (fresh) {
      unseen++;
      chime(urgentNow);
      if (document.hidden || !document.hasFocus()) notify(urgentNow);
    }
    showCount(list);
  }
  function seen() {
    if (unseen === 0 || document.hidden) return;
    unseen = 0;
    showCount(Object.keys(known || {}).map(function (k) { return { code: k, urgent: known[k] }; }));
  }
  document.addEventListener("visibilitychange", seen);
  window.addEventListener("focus", seen);
  document.addEventListener("keydown", seen);
  document.addEventListener("pointerdown", seen);

  function checkQueue() {
    fetch("/console/queue", { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (list) { if (list) look(list); })
      .catch(function () {});
  }

  if (sound) {
    sound.hidden = false;
    sound.checked = localStorage.getItem("console.sound") === "on";
    sound.addEventListener("change", function () {
      localStorage.setItem("console.sound", sound.checked ? "on" : "off");
      if (sound.checked) chime(false); // a sample, and it unlocks audio
    });
  }
  function notifyState() {
    if (!notifyBtn || !("Notification" in window)) return;
    var p = Notification.permission;
    notifyBtn.hidden = false;
    notifyBtn.disabled = p !== "default";
    notifyBtn.textContent = p === "granted" ? w("consoleNotifyOn") : p === "denied" ? w("consoleNotifyOff") : notifyBtn.textContent;
  }
  if (notifyBtn) {
    notifyState();
    notifyBtn.addEventListener("click", function () {
      var ask = Notification.requestPermission();
      if (ask && ask.then) ask.then(notifyState); else notifyState();
    });
  }

  // --- Live parts. ---
  function refreshRows() {
    fetch("/console/queue", { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (t) { if (t !== null) { rows.innerHTML = t; tick(); } })
      .catch(function () {});
  }
  var left = $("left");
  function readOnly() {
    var forms = document.querySelectorAll("#reply, #actions form");
    for (var i = 0; i < forms.length; i++) {
      var els = forms[i].elements;
      for (var j = 0; j < els.length; j++) els[j].disabled = true;
    }
  }
  function refreshLines() {
    fetch("/console/case/" + encodeURIComponent(lines.dataset.code) + "/lines", { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (a) {
        if (!a) return;
        var before = lines.querySelectorAll("li.person").length;
        var atEnd = lines.scrollHeight - lines.scrollTop - lines.clientHeight < 40;
        if (a.html) lines.innerHTML = a.html;
        var persons = lines.querySelectorAll("li.person");
        for (var i = before; i < persons.length && before >= 0; i++) persons[i].classList.add("new");
        if (persons.length > before && lines.dataset.loaded) {
          if (document.hidden) { unseen++; document.title = "\u25cf " + w("caseNewMessage") + " - " + baseTitle; }
        }
        lines.dataset.loaded = "1";
        if (atEnd && lines.lastElementChild) lines.scrollTop = lines.scrollHeight;
        if (left) { left.textContent = a.left || ""; left.hidden = !a.left; }
        if (lines.dataset.mine === "true" && (a.state !== "held" || !a.mine)) readOnly();
      })
      .catch(function () {});
  }

  if (wordsEl) {
    var es = new EventSource("/console/events");
    es.addEventListener("queue", function () { checkQueue(); if (rows) refreshRows(); });
    es.addEventListener("case", function (e) { if (lines && e.data === lines.dataset.code) refreshLines(); });
    // After a reconnect, catch up on what was missed.
    es.addEventListener("open", function () {
      checkQueue();
      if (rows) refreshRows();
      if (lines) refreshLines();
    });
  }

  // --- Forms sent with fetch. ---
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (!form.hasAttribute || !form.hasAttribute("data-fetch") || !window.fetch) return;
    e.preventDefault();
    if (form.dataset.busy) return;
    form.dataset.busy = "1";
    var button = form.querySelector("button[type=submit]");
    if (form === $("reply")) say(w("caseSending"));
    fetch(form.action, {
      method: "POST", credentials: "same-origin",
      headers: { Accept: "application/json", "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(new FormData(form))
    })
      .then(function (r) {
        return r.json().catch(function () { return { ok: false, msg: w("consoleError") }; });
      })
      .then(function (a) {
        delete form.dataset.busy;
        if (!a.ok) { say(a.msg || w("consoleError")); if (rows) refreshRows(); return; }
        if (form === $("reply")) {
          text.value = "";
          form.elements.id.value = a.reply_id;
          say("");
          text.focus();
          refreshLines();
          return;
        }
        if (/\/claim$/.test(form.action)) { location.assign(a.go); return; }
        // Transfer and end: the case is no longer this counsellor's.
        say(a.msg || "");
        readOnly();
        if (lines) lines.dataset.mine = "false";
        var back = document.createElement("a");
        back.href = "/console/"; back.textContent = document.querySelector("nav a").firstChild.textContent.trim();
        status.appendChild(document.createTextNode(" "));
        status.appendChild(back);
        back.focus();
      })
      .catch(function () { delete form.dataset.busy; say(w("consoleOffline")); if (button) button.disabled = false; });
  });

  // --- The reply box and canned answers. ---
  var q = $("canned-q");
  var list = $("canned-list");
  function insert(t) {
    var s = text.selectionStart, e = text.selectionEnd, v = text.value;
    if (typeof s !== "number") { s = e = v.length; }
    var before = v.slice(0, s), after = v.slice(e);
    var pad = before && !/\s$/.test(before) ? " " : "";
    text.value = before + pad + t + after;
    var at = (before + pad + t).length;
    text.focus();
    text.setSelectionRange(at, at);
  }
  if (text) {
    text.addEventListener("keydown", function (e) {
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); text.form.requestSubmit(); }
      if (q && e.key === "k" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); q.focus(); }
    });
  }
  if (q && list) {
    var fold = function (s) { return s.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase(); };
    var items = Array.prototype.slice.call(list.children);
    var none = document.createElement("li");
    none.className = "none"; none.textContent = w("caseCannedNone"); none.hidden = true;
    list.appendChild(none);
    var active = -1;
    var shown = function () { return items.filter(function (li) { return !li.hidden; }); };
    var mark = function (i) {
      var s = shown();
      items.forEach(function (li) { li.setAttribute("aria-selected", "false"); });
      active = s.length ? (i + s.length) % s.length : -1;
      if (active >= 0) {
        s[active].setAttribute("aria-selected", "true");
        q.setAttribute("aria-activedescendant", s[active].id);
        s[active].scrollIntoView({ block: "nearest" });
      } else q.removeAttribute("aria-activedescendant");
    };
    q.addEventListener("input", function () {
      var f = fold(q.value.trim());
      items.forEach(function (li) { li.hidden = f !== "" && fold(li.textContent).indexOf(f) < 0; });
      none.hidden = shown().length > 0;
      mark(0);
    });
    q.addEventListener("keydown", function (e) {
      if (e.key === "ArrowDown") { e.preventDefault(); mark(active + 1); }
      else if (e.key === "ArrowUp") { e.preventDefault(); mark(active - 1); }
      else if (e.key === "Enter") {
        e.preventDefault();
        var s = shown();
        if (active >= 0 && s[active]) { insert(s[active].dataset.text); q.value = ""; q.dispatchEvent(new Event("input")); }
      } else if (e.key === "Escape") { e.preventDefault(); text.focus(); }
    });
    items.forEach(function (li) {
      li.addEventListener("click", function () { insert(li.dataset.text); });
    });
  }
  if (lines && lines.lastElementChild) lines.scrollTop = lines.scrollHeight;
  if (lines) lines.dataset.loaded = "1";
})();
