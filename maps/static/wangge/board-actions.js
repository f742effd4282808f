/* /board, what a dispatcher does beyond one click: box-select a group of cases and assign them
 * all to one worker (one request per case, each with its own If-Match; the outcome listed per
 * case), the case panel's workflow buttons (accept / file / void / check / close / rework, a
 * reason where the loop asks for one), and the urgent-case alarm (a WebAudio beep and a flash,
 * with a mute toggle kept in localStorage).  Runs after board.js and uses its `wanggeBoard.api`.
 * Text from data goes in with textContent only. */
(function () {
  "use strict";
  var wangge = window.wangge, state = window.wanggeBoard, api = state.api, map = api.map;
  function $(id) { return document.getElementById(id); }
  var ACTIONS = {  // status -> the dispatch centre's steps from it (geo_api workflow RULES)
    reported: ["accept", "void"], accepted: ["file", "void"], handled: ["check"],
    self_handled: ["check"], checking: ["close", "rework"]
  };
  var NAMES = { accept: "受理 accept", file: "立案 file", void: "作废 void", check: "核查 check",
    close: "结案 close", rework: "返工 rework" };
  var NEEDS_REASON = { void: true, rework: true };
  var group = [], rings = L.layerGroup().addTo(map);
  state.group = group; state.beeps = 0; state.flashes = 0;

  /* --- workflow buttons on the case panel --- */
  state.onPanel = function (c) {
    var box = $("wg-actions"), wanted = c ? ACTIONS[c.p.status] || [] : [];
    box.textContent = "";
    if (!c) $("wg-nearest").textContent = "";  // gone from the queue: nothing to dispatch
    wanted.forEach(function (action) {
      var b = document.createElement("button");
      b.type = "button"; b.setAttribute("data-action", action); b.textContent = NAMES[action];
      b.addEventListener("click", function () { take(c.p.id, action); });
      box.appendChild(b);
    });
    $("wg-reason-row").hidden = !wanted.some(function (a) { return NEEDS_REASON[a]; });
  };
  function take(id, action) {
    var c = state.cases[id]; if (!c) return;
    var reason = $("wg-reason").value.trim();
    if (NEEDS_REASON[action] && !reason) { api.say("请填写理由 a reason is needed for " + NAMES[action], "error"); $("wg-reason").focus(); return; }
    api.say(NAMES[action] + "…");
    api.act(id, c.p.version, action, {}, NEEDS_REASON[action] ? reason : null).then(function (res) {
      if (res.ok) {
        $("wg-reason").value = "";
        api.say("完成 done: " + NAMES[action] + " → " + wangge.statusName(res.body.status), "ok");
        c.p.status = res.body.status; c.p.version = res.body.version;
        api.upsert(c.p, c.lon, c.lat); api.refresh();
        return;
      }
      if (res.status === 409) return api.faster(id, res.body);
      api.say((res.body && (res.body.detail || res.body.title)) || ("HTTP " + res.status), "error");
    }).catch(function () { api.say("网络错误 network error", "error"); });
  }

  /* --- box selection: shift-drag on the map, or the button then a drag --- */
  var armed = false, start = null, box = null;
  $("wg-lasso").addEventListener("click", function () {
    armed = !armed; this.setAttribute("aria-pressed", String(armed));
    pane.style.cursor = armed ? "crosshair" : "";
  });
  var pane = map.getContainer();
  pane.addEventListener("mousedown", function (ev) {  // capture: before Leaflet starts a pan
    if (!(armed || ev.shiftKey) || ev.button !== 0) return;
    ev.preventDefault(); ev.stopPropagation();
    map.dragging.disable();
    start = map.mouseEventToLatLng(ev);
    box = L.rectangle(L.latLngBounds(start, start), { color: "#f0a500", weight: 2, dashArray: "5 4", fillOpacity: 0.08, interactive: false }).addTo(map);
  }, true);
  document.addEventListener("mousemove", function (ev) { if (box) box.setBounds(L.latLngBounds(start, map.mouseEventToLatLng(ev))); });
  document.addEventListener("mouseup", function (ev) {
    if (!box) return;
    var bounds = L.latLngBounds(start, map.mouseEventToLatLng(ev));
    box.remove(); box = null; start = null; map.dragging.enable();
    armed = false; $("wg-lasso").setAttribute("aria-pressed", "false"); pane.style.cursor = "";
    choose(Object.keys(state.cases).map(Number).filter(function (id) {
      var c = state.cases[id]; return bounds.contains([c.lat, c.lon]);
    }));
  });
  function choose(ids) {
    group.length = 0; Array.prototype.push.apply(group, ids);
    rings.clearLayers();
    ids.forEach(function (id) {
      var c = state.cases[id];
      L.circleMarker([c.lat, c.lon], { radius: 9, color: "#f0a500", weight: 3, fill: false, interactive: false }).addTo(rings);
    });
    showGroup();
  }
  function showGroup() {
    var sec = $("wg-group"), list = $("wg-group-workers");
    sec.hidden = group.length === 0;
    $("wg-group-title").textContent = "已框选 selected " + group.length + " 件 cases";
    $("wg-group-result").textContent = "";
    list.textContent = "";
    if (!group.length) return;
    var lat = 0, lon = 0;
    group.forEach(function (id) { lat += state.cases[id].lat; lon += state.cases[id].lon; });
    var centre = L.latLng(lat / group.length, lon / group.length);
    var ws = Object.keys(state.workers).map(function (k) { return state.workers[k]; });
    ws.sort(function (a, b) { return centre.distanceTo([a.lat, a.lon]) - centre.distanceTo([b.lat, b.lon]); });
    ws.slice(0, 6).forEach(function (w) {
      var li = document.createElement("li"), b = document.createElement("button");
      b.type = "button"; b.setAttribute("data-worker", w.id);
      b.textContent = "全部派给 assign all → " + w.name + " · " + Math.round(centre.distanceTo([w.lat, w.lon])) + " m · 在办 open " + w.load;
      b.addEventListener("click", function () { assignAll(w); });
      li.appendChild(b); list.appendChild(li);
    });
    if (!ws.length) list.textContent = "无在岗网格员 no worker on duty";
  }
  function assignAll(w) {  // one case after another: each its own If-Match, each its own outcome
    var out = $("wg-group-result"), ids = group.slice(), done = { ok: 0, failed: 0 };
    out.textContent = "";
    function line(text, kind) { var li = document.createElement("li"); li.textContent = text; li.className = "wg-" + kind; out.appendChild(li); }
    function next(i) {
      if (i >= ids.length) { state.bulk = done; $("wg-group-title").textContent = "派遣完成 done: " + done.ok + " ✓ · " + done.failed + " ✗"; return null; }
      var c = state.cases[ids[i]];
      if (!c) { done.failed++; line("#" + ids[i] + " ✗ 已不在队列 no longer in the queue", "error"); return next(i + 1); }
      return api.chain(c.p.id, c.p.status, c.p.version, w.id).then(function (res) {
        if (res.ok) {
          done.ok++; api.bump(w.id); line("#" + c.p.id + " ✓ 已派遣给 dispatched to " + w.name, "ok");
          c.p.status = res.body.status; c.p.version = res.body.version; api.upsert(c.p, c.lon, c.lat);
        } else {
          done.failed++;
          line("#" + c.p.id + " ✗ " + ((res.body && (res.body.detail || res.body.title)) || ("HTTP " + res.status)), "error");
        }
        return next(i + 1);
      }, function () { done.failed++; line("#" + c.p.id + " ✗ 网络错误 network error", "error"); return next(i + 1); });
    }
    next(0);
    api.refresh();
  }
  $("wg-group-clear").addEventListener("click", function () { choose([]); });

  /* --- the urgent-case alarm: a new urgent case beeps (unless muted) and flashes --- */
  var muted = localStorage.getItem("wg-muted") === "1", audio = null;
  function showMute() {
    var b = $("wg-mute");
    b.textContent = muted ? "♪̸ 静音 muted" : "♪ 声音 sound on";
    b.setAttribute("aria-pressed", String(muted));
  }
  $("wg-mute").addEventListener("click", function () {
    muted = !muted; localStorage.setItem("wg-muted", muted ? "1" : "0"); showMute();
  });
  showMute();
  document.addEventListener("click", function () {  // browsers let a page sound after a click
    if (audio && audio.state === "suspended") audio.resume();
  });
  function beep() {
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      if (audio.state === "suspended") audio.resume();
      [0, 0.35].forEach(function (t) {
        var o = audio.createOscillator(), g = audio.createGain();
        o.type = "square"; o.frequency.value = 880; g.gain.value = 0.08;
        o.connect(g); g.connect(audio.destination);
        o.start(audio.currentTime + t); o.stop(audio.currentTime + t + 0.2);
      });
      state.beeps += 1;
    } catch (e) { /* no audio device: the flash still shows */ }
  }
  function alarm(p) {
    var banner = $("wg-alarm");
    banner.textContent = "⚠ 紧急案件 urgent case #" + p.id + " · " + p.category + " · " + (p.description || "");
    banner.hidden = false;
    document.body.classList.remove("wg-flash"); void document.body.offsetWidth; document.body.classList.add("wg-flash");
    state.flashes += 1;
    if (!muted) beep();
    setTimeout(function () { banner.hidden = true; document.body.classList.remove("wg-flash"); }, 8000);
  }
  state.onCase = function (d, known) {
    if (!known && d.case && d.case.urgency === "urgent" && state.cases[d.case.id]) alarm(d.case);
  };
})();
