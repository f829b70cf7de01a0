// The anonymous web chat. Identity is a random token in this tab's
// sessionStorage: closing the tab forgets it. Nothing is loaded from
// anywhere but this server. The greeting is part of the page; no token is
// made and nothing is asked of the server until the person taps or writes.
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("cfg").textContent);
  var $ = function (id) { return document.getElementById(id); };
  var log = $("log"), status = $("status"), form = $("form"), text = $("text");
  var langSelect = $("lang"), keep = $("keep");
  var words = cfg.words, lang = cfg.lang;
  var cache = {};
  cache[lang] = words;
  var es = null;
  var greeting = $("greeting").cloneNode(true); // for a fresh chat after Forget me

  function random() {
    var b = new Uint8Array(16);
    crypto.getRandomValues(b);
    return btoa(String.fromCharCode.apply(null, b)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function hasToken() { return !!sessionStorage.getItem("hl-token"); }
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
  $("exit").addEventListener("click", exit);
  document.addEventListener("keydown", function (e) { if (e.key === "Escape") exit(); });

  // The page's own words follow the language of the conversation.
  function applyWords(l, w) {
    lang = l; words = w;
    document.documentElement.lang = l;
    document.title = w.title;
    $("title").textContent = w.title;
    $("exit").textContent = w.exit;
    $("exit").title = w.exit_hint;
    $("send").textContent = w.send;
    text.placeholder = w.placeholder;
    $("text-label").textContent = w.placeholder;
    $("note").textContent = w.note;
    keep.textContent = w.keep_open;
    langSelect.setAttribute("aria-label", w.language);
    langSelect.title = w.language;
    langSelect.value = l;
    log.setAttribute("aria-label", w.title);
  }
  function follow(l) {
    if (!l || l === lang) return;
    if (cache[l]) { applyWords(l, cache[l]); return; }
    fetch("/chat/words?lang=" + encodeURIComponent(l))
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (w) { cache[l] = w; applyWords(l, w); })
      .catch(function () {});
  }

  // What the person chose, by reply, so that a reloaded tab shows its
  // answered questions as answered. It lives and dies with the token.
  function chosen() { try { return JSON.parse(sessionStorage.getItem("hl-chosen")) || {}; } catch (e) { return {}; } }
  function remember(id, label) {
    var c = chosen(); c[id] = label;
    sessionStorage.setItem("hl-chosen", JSON.stringify(c));
  }

  function el(tag, cls, s) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (s) e.textContent = s;
    return e;
  }
  // toEnd keeps the latest message in sight, also when the phone's
  // keyboard or the keep-open word takes room.
  var main = $("main");
  function toEnd() { main.scrollTop = main.scrollHeight; }
  window.addEventListener("resize", function () { if (hasToken()) toEnd(); });
  function mine(s, picked) {
    log.appendChild(el("p", "msg me" + (picked ? " chosen" : ""), s));
    toEnd();
  }

  // collapse folds a question's buttons into the answer given: the chosen
  // one stays, marked; buttons nobody tapped go.
  function collapse(turn) {
    var box = turn.querySelector(".choices");
    if (!box) return;
    var label = chosen()[turn.dataset.id];
    box.remove();
    if (label) {
      var p = el("p", "msg me chosen", label);
      turn.appendChild(p);
    }
  }
  function collapseAll() {
    var open = log.querySelectorAll(".turn");
    for (var i = 0; i < open.length; i++) collapse(open[i]);
  }

  function pick(turn, c) {
    remember(turn.dataset.id, c.l);
    collapse(turn);
    toEnd();
    post({ choice: c.i });
  }

  // Forget me asks once, here in the page, and then forgets at once.
  function confirmForget(turn, box) {
    var ask = el("div", "confirm");
    ask.appendChild(el("p", "", words.forget_confirm));
    var yes = el("button", "forget", words.forget_yes), no = el("button", "", words.forget_no);
    yes.type = no.type = "button";
    yes.addEventListener("click", function () {
      remember(turn.dataset.id, words.forget_yes);
      ask.remove();
      collapse(turn);
      post({ text: "/forget" });
    });
    no.addEventListener("click", function () { ask.remove(); box.hidden = false; });
    ask.appendChild(yes); ask.appendChild(no);
    box.hidden = true;
    turn.appendChild(ask);
    yes.focus();
    toEnd();
  }

  function button(turn, box, c) {
    var b = el("button", c.k ? "forget" : "", c.l);
    b.type = "button";
    b.addEventListener("click", function () {
      if (c.k === "forget") confirmForget(turn, box);
      else pick(turn, c);
    });
    return b;
  }

  function bubble(reply) {
    var m = el("div", "msg " + (reply.from === "counsellor" ? "counsellor" : "bot"));
    if (reply.from === "counsellor") m.appendChild(el("span", "who", words.counsellor));
    if (reply.steps) m.appendChild(el("span", "step", words.progress.replace("{n}", reply.step).replace("{total}", reply.steps)));
    m.appendChild(el("p", "", reply.t));
    return m;
  }

  function show(reply, id) {
    collapseAll();
    follow(reply.lang);
    keep.hidden = reply.case !== "waiting" && reply.case !== "held";
    var turn = el("div", "turn");
    turn.dataset.id = id || random();
    if (reply.t) turn.appendChild(bubble(reply));
    if (reply.c && reply.c.length) {
      var box = el("div", grid(reply.c) ? "choices grid" : "choices");
      reply.c.forEach(function (c) { box.appendChild(button(turn, box, c)); });
      turn.appendChild(box);
    }
    log.appendChild(turn);
    if (chosen()[turn.dataset.id]) collapse(turn);
    toEnd();
  }
  function grid(cs) {
    return cs.length >= 6 && cs.every(function (c) { return c.l.length <= 16 && !c.k; });
  }

  // The greeting came with the page: its buttons send the first message.
  function wireGreeting(g) {
    var box = g.querySelector(".choices");
    var buttons = box.querySelectorAll("button");
    for (var i = 0; i < buttons.length; i++) {
      (function (b) {
        b.addEventListener("click", function () { pick(g, { i: b.dataset.choice, l: b.textContent }); });
      })(buttons[i]);
    }
    if (chosen().greeting) collapse(g);
  }
  wireGreeting($("greeting"));

  // The language switch: before the greeting is answered it answers it;
  // after, it sends the language command with the language chosen.
  langSelect.addEventListener("change", function () {
    var code = langSelect.value, g = $("greeting");
    var b = g && g.querySelector('.choices button[data-choice$="/' + code + '"]');
    if (b) { b.click(); return; }
    mine(langSelect.options[langSelect.selectedIndex].textContent, true);
    post({ text: "/language " + code });
  });

  // The stream opens with a one-time ticket, so the token never travels in
  // a URL. After an error the page asks for a new ticket and says which
  // reply it saw last, waiting a little longer each time, up to 15 s.
  var lastId = "", wait = 0, timer = null, connected = false;
  function reconnect() {
    if (timer) return;
    status.textContent = words.offline;
    wait = Math.min(wait ? wait * 2 : 1000, 15000);
    timer = setTimeout(function () { timer = null; connect(); }, wait);
  }
  function connect() {
    connected = true;
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
        // this tab a new, empty chat that greets again.
        es.close();
        connected = false;
        sessionStorage.removeItem("hl-token");
        sessionStorage.removeItem("hl-chosen");
        lastId = "";
        log.innerHTML = "";
        show(m.r, "end");
        var g = greeting.cloneNode(true);
        log.appendChild(g);
        wireGreeting(g);
        keep.hidden = true;
        return;
      }
      show(m, e.lastEventId);
    };
    // The browser would reconnect with the spent ticket: close, and open
    // a new stream with a new one.
    es.onerror = function () { es.close(); reconnect(); };
  }

  function post(body, tries) {
    tries = tries || 0;
    body.token = token();
    body.id = body.id || random();
    if (!connected) connect();
    fetch("/chat/send", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) })
      .then(function (r) {
        if (r.ok) { status.textContent = ""; return; }
        if ((r.status === 503 || r.status === 429) && tries < 3) { setTimeout(function () { post(body, tries + 1); }, 1500 * (tries + 1)); return; }
        status.textContent = words.failed;
      })
      .catch(function () {
        if (tries < 3) { setTimeout(function () { post(body, tries + 1); }, 1500 * (tries + 1)); return; }
        status.textContent = words.failed;
      });
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var s = text.value.trim();
    if (!s) return;
    text.value = "";
    collapseAll();
    mine(s, false);
    post({ text: s });
  });
  text.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); form.requestSubmit(); }
  });

  // A reloaded tab that already holds a chat reads it back; a new one waits
  // for the person.
  if (hasToken()) connect();
})();
