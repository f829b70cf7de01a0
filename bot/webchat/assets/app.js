// The anonymous web chat. Identity is a random token in this tab's
// sessionStorage: closing the tab forgets it. Nothing is loaded from
// anywhere but this server.
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("cfg").textContent);
  var log = document.getElementById("log");
  var status = document.getElementById("status");
  var form = document.getElementById("form");
  var text = document.getElementById("text");
  var es = null;

  function random() {
    var b = new Uint8Array(16);
    crypto.getRandomValues(b);
    return btoa(String.fromCharCode.apply(null, b)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function token() {
    var t = sessionStorage.getItem("hl-token");
    if (!t) { t = random(); sessionStorage.setItem("hl-token", t); }
    return t;
  }

  // Quick exit: forget everything in this tab and go to a neutral site,
  // replacing this page in the history.
  function exit() {
    try { if (es) es.close(); } catch (e) {}
    sessionStorage.clear();
    document.body.innerHTML = "";
    location.replace(cfg.exit);
  }
  document.getElementById("exit").addEventListener("click", exit);
  document.addEventListener("keydown", function (e) { if (e.key === "Escape") exit(); });

  function bubble(cls, s) {
    var p = document.createElement("p");
    p.className = "msg " + cls;
    p.textContent = s;
    log.appendChild(p);
    p.scrollIntoView({ block: "end" });
    return p;
  }
  function disableOld() {
    var old = log.querySelectorAll(".choices button");
    for (var i = 0; i < old.length; i++) old[i].disabled = true;
  }
  function show(reply) {
    disableOld();
    if (reply.t) bubble("bot", reply.t);
    if (reply.c && reply.c.length) {
      var box = document.createElement("div");
      box.className = "choices";
      reply.c.forEach(function (c) {
        var b = document.createElement("button");
        b.type = "button";
        b.textContent = c.l;
        b.addEventListener("click", function () {
          disableOld();
          bubble("me", c.l);
          post({ choice: c.i });
        });
        box.appendChild(b);
      });
      log.appendChild(box);
      box.scrollIntoView({ block: "end" });
    }
  }

  // The stream opens with a one-time ticket, so the token never travels in
  // a URL. After an error the page asks for a new ticket and says which
  // reply it saw last, waiting a little longer each time, up to 15 s.
  var lastId = "", wait = 0, timer = null;
  function reconnect() {
    if (timer) return;
    status.textContent = cfg.words.offline;
    wait = Math.min(wait ? wait * 2 : 1000, 15000);
    timer = setTimeout(function () { timer = null; connect(); }, wait);
  }
  function connect() {
    fetch("/chat/ticket", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ token: token() }) })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (j) { open(j.ticket); })
      .catch(reconnect);
  }
  function open(ticket) {
    es = new EventSource("/chat/events?ticket=" + encodeURIComponent(ticket) + (lastId ? "&after=" + encodeURIComponent(lastId) : ""));
    es.onopen = function () { status.textContent = ""; wait = 0; };
    es.onmessage = function (e) {
      if (e.lastEventId) lastId = e.lastEventId;
      var m = JSON.parse(e.data);
      if (m.end) {
        // The person was forgotten: clear the screen, say so, and make
        // this tab a new, empty chat.
        es.close();
        log.innerHTML = "";
        show(m.r);
        sessionStorage.removeItem("hl-token");
        lastId = "";
        connect();
        return;
      }
      show(m);
    };
    // The browser would reconnect with the spent ticket: close, and open
    // a new stream with a new one.
    es.onerror = function () { es.close(); reconnect(); };
  }

  function post(body, tries) {
    tries = tries || 0;
    body.token = token();
    body.id = body.id || random();
    fetch("/chat/send", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) })
      .then(function (r) {
        if (r.ok) { status.textContent = ""; return; }
        if ((r.status === 503 || r.status === 429) && tries < 3) { setTimeout(function () { post(body, tries + 1); }, 1500 * (tries + 1)); return; }
        status.textContent = cfg.words.failed;
      })
      .catch(function () {
        if (tries < 3) { setTimeout(function () { post(body, tries + 1); }, 1500 * (tries + 1)); return; }
        status.textContent = cfg.words.failed;
      });
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var s = text.value.trim();
    if (!s) return;
    text.value = "";
    bubble("me", s);
    post({ text: s });
  });
  text.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); form.requestSubmit(); }
  });

  connect();
})();
