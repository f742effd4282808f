/* /handheld: a grid worker's phone page.  My open cases by deadline with the distance from
 * me; sign / start / handle / return / self-handle in two taps (tap, then confirm); the
 * on-duty switch; while on duty the position every 30 s.  Every write goes into a queue kept
 * in localStorage and is sent when the network is there, each with its own Idempotency-Key
 * (a transition also carries the version it was tapped on, so a repeat cannot act twice).
 * Writes carry the session's CSRF token (X-CSRF-Token).  Text from data: textContent only. */
(function () {
  "use strict";
  var wangge = window.wangge;
  function $(id) { return document.getElementById(id); }
  var root = $("wg-hand"), csrf = root.getAttribute("data-csrf");
  var store = "wangge-hand-queue-" + root.getAttribute("data-worker");
  var EVERY_MS = 30000, here = null, cases = [], sending = false;
  window.wanggeHand = { sent: 0, positions: 0 };
  var ACTIONS = {
    reported: [["self_handle", "自行处置 self-handle", true]],
    dispatched: [["sign", "签收 sign", false], ["return", "退回 return", true]],
    signed: [["start", "开始处置 start", false], ["return", "退回 return", true]],
    in_progress: [["handle", "处置完成 handled", false]],
    rework: [["handle", "处置完成 handled", false]]
  };

  function key() {
    var b = new Uint8Array(12);
    window.crypto.getRandomValues(b);
    return Array.prototype.map.call(b, function (x) { return ("0" + x.toString(16)).slice(-2); }).join("");
  }
  function say(t, error) { var m = $("wg-msg"); m.textContent = t; m.className = error ? "wg-error" : ""; }
  function queue() { try { return JSON.parse(localStorage.getItem(store) || "[]"); } catch (e) { return []; } }
  function save(q) { localStorage.setItem(store, JSON.stringify(q)); $("wg-queued").textContent = q.length; }
  function enqueue(item) {
    item.key = key();
    var q = queue(); q.push(item); save(q); flush();
  }
  function send(item) {
    var headers = { "Content-Type": "application/json", "X-CSRF-Token": csrf, "Idempotency-Key": item.key };
    if (item.version) headers["If-Match"] = '"' + item.version + '"';
    var body = item.body;
    if (item.kind === "positions") {  // the age of each fix: the phone's clock may be wrong
      body = { positions: body.positions.map(function (p) {
        return { lon: p.lon, lat: p.lat, accuracy_m: p.accuracy_m,
          age_s: Math.max(0, (Date.now() - p.t) / 1000) };
      }) };
    }
    return fetch(item.url, { method: "POST", headers: headers, body: JSON.stringify(body),
      credentials: "same-origin" });
  }
  function flush() {
    if (sending || !navigator.onLine) { $("wg-net").textContent = navigator.onLine ? "" : "离线 offline"; return; }
    var q = queue();
    if (!q.length) { $("wg-net").textContent = ""; return; }
    sending = true;
    send(q[0]).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (b) {
        var left = queue().filter(function (x) { return x.key !== q[0].key; });
        save(left);
        if (r.ok) {
          window.wanggeHand.sent += 1;
          if (q[0].kind === "positions") {
            window.wanggeHand.positions += q[0].body.positions.length;
            $("wg-sent").textContent = window.wanggeHand.positions;
          }
        } else {
          say((b && (b.detail || b.title)) || ("HTTP " + r.status), true);  // 409: done or moved on
        }
        sending = false;
        if (q[0].kind === "act") load();
        flush();
      });
    }).catch(function () { sending = false; $("wg-net").textContent = "离线 offline"; });
  }

  function metres(a, b) {
    var R = 6371008.8, p = Math.PI / 180, dlat = (b[1] - a[1]) * p, dlon = (b[0] - a[0]) * p;
    var h = Math.sin(dlat / 2) * Math.sin(dlat / 2) +
      Math.cos(a[1] * p) * Math.cos(b[1] * p) * Math.sin(dlon / 2) * Math.sin(dlon / 2);
    return 2 * R * Math.asin(Math.sqrt(h));
  }
  function render() {
    var list = $("wg-cases");
    list.textContent = "";
    cases.forEach(function (c) {
      var li = document.createElement("li"), head = document.createElement("p");
      li.setAttribute("data-id", c.id);
      li.setAttribute("data-status", c.status);
      var dist = here ? " · " + Math.round(metres(here, [c.lon, c.lat])) + " m" : "";
      head.textContent = "#" + c.id + " " + wangge.statusName(c.status) +
        (c.due_at ? " · 限 " + new Date(c.due_at).toLocaleString() : "") + dist + (c.overdue ? " · 超时 overdue" : "");
      var desc = document.createElement("p");
      desc.className = "wg-text"; desc.textContent = c.description;
      li.appendChild(head); li.appendChild(desc);
      (ACTIONS[c.status] || []).forEach(function (a) { li.appendChild(button(c, a)); });
      list.appendChild(li);
    });
  }
  function button(c, a) {
    var b = document.createElement("button");
    b.type = "button"; b.textContent = a[1]; b.setAttribute("data-action", a[0]);
    b.addEventListener("click", function () {
      if (!b.classList.contains("wg-confirm")) {  // first tap: ask
        b.classList.add("wg-confirm"); b.textContent = "确认 confirm: " + a[1];
        return;
      }
      var reason = null;
      if (a[2]) {
        reason = window.prompt("原因 reason") || "";
        if (!reason.trim()) return;
      }
      enqueue({ kind: "act", url: "/incidents/" + c.id + "/transitions", version: c.version,
        body: { action: a[0], reason: reason } });
      c.status = "…"; render();
      say("已记录，联网后发送 noted; sent when online");
    });
    return b;
  }
  function load() {
    if (!navigator.onLine) return;
    fetch("/dispatch/queue?limit=100", { credentials: "same-origin" }).then(function (r) {
      return r.ok ? r.json() : { items: [] };
    }).then(function (page) {
      var pending = {};
      queue().forEach(function (x) { if (x.kind === "act") pending[x.url] = true; });
      cases = page.items.filter(function (c) { return !pending["/incidents/" + c.id + "/transitions"]; });
      render();
    }).catch(function () { /* offline: keep what we show */ });
  }

  function fix(pos) {
    here = [pos.coords.longitude, pos.coords.latitude];
    return { t: Math.min(pos.timestamp || Date.now(), Date.now()), lon: here[0], lat: here[1],
      accuracy_m: pos.coords.accuracy || null };
  }
  var timer = null;
  function report() {
    if (!navigator.geolocation) return;
    navigator.geolocation.getCurrentPosition(function (pos) {
      enqueue({ kind: "positions", url: "/workers/me/positions", body: { positions: [fix(pos)] } });
      render();
    }, function () { say("无法定位 no position", true); }, { enableHighAccuracy: true, timeout: 10000 });
  }
  function onDuty(on) {
    clearInterval(timer); timer = null;
    if (on) { report(); timer = setInterval(report, EVERY_MS); }
  }
  var duty = $("wg-duty");
  duty.checked = root.getAttribute("data-duty") === "true";
  duty.addEventListener("change", function () {
    enqueue({ kind: "duty", url: "/workers/me/duty", body: { on_duty: duty.checked } });
    onDuty(duty.checked);
  });
  window.addEventListener("online", flush);
  window.addEventListener("offline", function () { $("wg-net").textContent = "离线 offline"; });
  setInterval(flush, 5000);
  save(queue());
  onDuty(duty.checked);
  if (navigator.geolocation) {  // where I am, for the distances (not reported off duty)
    navigator.geolocation.getCurrentPosition(function (pos) { fix(pos); render(); },
      function () { /* no position: no distances */ }, { timeout: 10000 });
  }
  load();
  flush();
})();
