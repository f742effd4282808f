/* /board: the dispatchers' live board.  Every open case the dispatcher may see is loaded
 * from /board/cases/columns in parts fetched side by side (nothing dropped: the count says
 * loaded / total), coloured by status; a case past 80 % of its step's limit blinks amber, past
 * its due time red; the on-duty workers from /board/workers/columns.  Then one push stream (/board/stream, read with fetch
 * so the first request can carry Last-Event-ID) moves cases and workers without reload.
 * Select a case → its nearest on-duty workers → click one → dispatched with If-Match (a
 * reported case is accepted and filed first); a 409 says who was faster and refreshes.
 * Writes carry the session's CSRF token.  Text from data goes in with textContent only. */
(function () {
  "use strict";
  var wangge = window.wangge;
  function $(id) { return document.getElementById(id); }
  var root = $("wg-board"), csrf = root.getAttribute("data-csrf");
  var COLOURS = {
    reported: "#6b6b6b", accepted: "#8e44ad", filed: "#5b2c83", dispatched: "#1f6fd1",
    signed: "#0e9aa7", in_progress: "#138d4b", rework: "#c0392b", handled: "#7cb342",
    checking: "#2e7d32", returned: "#795548", parked: "#a1887f", self_handled: "#689f38"
  };
  var OPEN = Object.keys(COLOURS);
  var NEXT = { reported: "accept", accepted: "file", filed: "dispatch", returned: "dispatch", rework: "dispatch" };
  var map = L.map("wg-board-map", { preferCanvas: true, boxZoom: false }).setView([30.66, 104.08], 13);  // shift-drag: box select
  map.createPane("alarm").classList.add("leaflet-alarm-pane");
  var tiles = root.getAttribute("data-tiles");
  if (tiles) L.tileLayer(tiles, { maxZoom: 19 }).addTo(map);
  map.createPane("people").style.zIndex = 390;  // workers under the cases
  map.createPane("outlines").style.zIndex = 250;
  var plain = L.canvas(), people = L.canvas({ pane: "people" });
  var cases = {}, workers = {}, filters = {}, selected = null, cursor = null, streaming = false;
  var state = window.wanggeBoard = { events: 0, positions: 0, loaded: 0, total: 0, cases: cases, workers: workers };

  function say(t, kind) { var m = $("wg-panel-msg"); m.textContent = t; m.className = kind ? "wg-" + kind : ""; }
  function headers(extra) {
    var h = { "Content-Type": "application/json", "X-CSRF-Token": csrf };
    Object.keys(extra || {}).forEach(function (k) { h[k] = extra[k]; });
    return h;
  }
  var preloaded = {};  // the page's <link rel=preload> URLs: their first fetch takes the preload
  Array.prototype.forEach.call(document.querySelectorAll("link[rel=preload][as=fetch]"), function (l) {
    preloaded[l.getAttribute("href")] = true;
  });
  function getJSON(url) {
    var first = preloaded[url];
    delete preloaded[url];  // later reads (a filter changed, a reload) ask the server again
    var init = first ? { credentials: "include" } : { credentials: "same-origin", cache: "no-store" };
    return fetch(url, init).then(function (r) {
      return r.json().then(function (b) { if (!r.ok) throw b; return b; });
    });
  }

  (function legend() {
    var ul = $("wg-legend"), sel = $("wg-f-status");
    OPEN.forEach(function (s) {
      var li = document.createElement("li"), i = document.createElement("i");
      i.style.background = COLOURS[s]; li.appendChild(i);
      li.appendChild(document.createTextNode(wangge.statusName(s))); ul.appendChild(li);
      var o = document.createElement("option"); o.value = s; o.textContent = wangge.statusName(s); sel.appendChild(o);
    });
    [["#f0a500", "80 % 时限 limit (闪烁 blinks)"], ["#e00000", "超时 overdue (闪烁 blinks)"], ["#ffffff", "在岗网格员 on-duty worker (二、三级 levels 2–3: zoom ≥ 15)"]].forEach(function (x) {
      var li = document.createElement("li"), i = document.createElement("i");
      i.style.background = x[0]; i.style.border = "2px solid #222"; li.appendChild(i);
      li.appendChild(document.createTextNode(x[1])); ul.appendChild(li);
    });
    var li = document.createElement("li"), i = document.createElement("i");
    i.style.border = "2px dashed #6a1b9a"; li.appendChild(i);
    li.appendChild(document.createTextNode("督办 supervised")); ul.appendChild(li);
  })();

  function matches(p) {
    if (OPEN.indexOf(p.status) < 0) return false;
    if (filters.status && p.status !== filters.status) return false;
    if (filters.category && (p.category || "").indexOf(filters.category) !== 0) return false;
    if (filters.street && p.street_code !== filters.street) return false;
    if (filters.community && p.community_code !== filters.community) return false;
    if (filters.cell && (p.l1_code || "").indexOf(filters.cell) !== 0) return false;
    if (filters.overdue === "true" && p.alarm !== "red") return false;
    if (filters.overdue === "false" && p.alarm === "red") return false;
    return true;
  }
  var dots = new wangge.Dots().addTo(map);  // plain cases: one canvas
  var alarms = new wangge.Dots({ pane: "alarm", radius: 7, weight: 3 }).addTo(map);  // they blink
  map.on("click", function (e) {  // an alarmed dot is drawn over the plain ones: it wins a tie
    var hit = alarms.pick(e.containerPoint) || dots.pick(e.containerPoint);
    if (hit) select(hit.id);
  });
  function draw(c) {
    if (c.ring) { c.ring.remove(); c.ring = null; }
    var p = c.p, colour = COLOURS[p.status] || "#333";
    if (p.supervised_at) {  // 督办: a dashed purple ring around the case, on every board
      c.ring = L.circleMarker([c.lat, c.lon], { renderer: plain, radius: 11, color: "#6a1b9a", weight: 2,
        dashArray: "4 3", fill: false, interactive: false }).addTo(map);
    }
    if (!p.alarm) { alarms.remove(p.id); dots.set(p.id, c.lat, c.lon, colour); return; }
    dots.remove(p.id);  // an alarm: on the blinking pane, ringed amber or red
    alarms.set(p.id, c.lat, c.lon, colour, p.alarm === "red" ? "#e00000" : "#f0a500");
  }
  function upsert(p, lon, lat) {
    var c = cases[p.id];
    if (!matches(p)) { if (c) drop(p.id); return; }
    if (!c) c = cases[p.id] = { p: p };
    c.p = p; c.lon = lon; c.lat = lat; draw(c);
  }
  function drop(id) {
    var c = cases[id]; if (!c) return;
    dots.remove(id); alarms.remove(id);
    if (c.ring) c.ring.remove();
    delete cases[id];
  }
  function counts() {
    var ids = Object.keys(cases), by = {}, amber = 0, red = 0;
    ids.forEach(function (id) {
      var p = cases[id].p; by[p.status] = (by[p.status] || 0) + 1;
      if (p.alarm === "amber") amber++; if (p.alarm === "red") red++;
    });
    var parts = ["共 total " + ids.length, "超时 overdue " + red, "将超时 ≥80 % " + amber];
    OPEN.forEach(function (s) { if (by[s]) parts.push(wangge.statusName(s) + " " + by[s]); });
    $("wg-counts").textContent = parts.join(" · ");
  }
  function sooner(a, b) {  // the queue's order: soonest deadline first, then id
    var x = a.due_at || "9999", y = b.due_at || "9999";
    return x < y ? -1 : x > y ? 1 : a.id - b.id;
  }
  function queueList(heads) {  // heads: the first load's parts' first rows, each in queue order
    var list = $("wg-queue"), total = 0, rows;
    if (heads) {  // no sort of every case: the list's 300 are among the parts' first 300
      rows = [].concat.apply([], heads).filter(function (p) { return cases[p.id] && cases[p.id].p === p; });
      rows.sort(sooner); total = Object.keys(cases).length;
    } else {
      rows = Object.keys(cases).map(function (id) { return cases[id].p; });
      rows.sort(sooner); total = rows.length;
    }
    list.textContent = "";
    var shown = rows.slice(0, 300);
    if (cases[selected] && shown.indexOf(cases[selected].p) < 0) shown.unshift(cases[selected].p);  // pinned
    shown.forEach(function (p) {
      var li = document.createElement("li"), d = document.createElement("span");
      li.tabIndex = 0; li.setAttribute("data-id", p.id); li.setAttribute("data-status", p.status);
      li.style.borderLeftColor = COLOURS[p.status] || "#999";
      if (p.alarm) li.classList.add("wg-" + p.alarm);
      if (p.id === selected) li.classList.add("wg-sel");
      li.appendChild(document.createTextNode("#" + p.id + " " + wangge.statusName(p.status) + " · " + p.category +
        (p.due_at ? " · 限 " + new Date(p.due_at).toLocaleString() : "") +
        (p.alarm === "red" ? " · 超时 overdue" : p.alarm === "amber" ? " · 将超时 80 %" : "") +
        (p.urgency === "urgent" ? " · 紧急 urgent" : "") + (p.supervised_at ? " · 督办 supervised" : "")));
      if (p.supervised_at) li.classList.add("wg-supervised");
      d.className = "wg-text"; d.textContent = p.described === false ? "…" : p.description; li.appendChild(d);
      li.addEventListener("click", function () { select(p.id); });
      li.addEventListener("keydown", function (ev) { if (ev.key === "Enter") select(p.id); });
      list.appendChild(li);
    });
    describe(shown);
    if (total > 300) {
      var more = document.createElement("li");
      more.textContent = "列表显示前 300 条，地图显示全部 " + total + " list shows the first 300; the map all";
      list.appendChild(more);
    }
  }
  // The first load carries descriptions for the first rows of each part only (the list
  // shows 300; the rest are dots): a case further down that comes into the list or the
  // panel fetches its own, by id, in one read per redraw.
  var asked = {};
  function describe(ps) {
    var ids = ps.filter(function (p) { return p.described === false && !asked[p.id]; })
      .map(function (p) { asked[p.id] = true; return p.id; });
    if (!ids.length) return;
    getJSON("/board/cases/columns?ids=" + ids.join(",")).then(function (b) {
      rowsOf(b, function (r) {
        var c = cases[r.id];
        if (c && c.p.described === false) { c.p.description = r.description; delete c.p.described; }
      });
      refresh();
    }).catch(function () {}).then(function () { ids.forEach(function (id) { delete asked[id]; }); });
  }
  var redrawing = null;
  function refresh() {  // batch the list and counts: many pushes in a second cost one redraw
    if (redrawing) return;
    redrawing = setTimeout(function () { redrawing = null; counts(); queueList(); if (selected) panel(); }, 150);
  }

  var PARTS = 2;  // the open cases come in parts by id, side by side (one per server worker)
  var DESCRIBED = 300;  // descriptions in the first rows of each part: the list's length
  function rowsOf(b, each) {  // compact columns → each(object keyed by column name, lon, lat)
    var cols = b.columns, x = cols.indexOf("lon"), y = cols.indexOf("lat");
    b.rows.forEach(function (r) {  // lon/lat stay out of the object: no delete (slow objects)
      var o = {}; for (var k = 0; k < cols.length; k++) if (k !== x && k !== y) o[cols[k]] = r[k];
      each(o, r[x], r[y]);
    });
  }
  function older(a, b) {  // the earlier of two cursors "<event id>.<position id>", field by field
    if (!a) return b; if (!b) return a;
    var x = a.split("."), y = b.split(".");
    return Math.min(+x[0], +y[0]) + "." + Math.min(+x[1], +y[1]);
  }
  function load() {
    Object.keys(cases).forEach(drop);
    var q = Object.keys(filters).filter(function (k) { return filters[k]; })
      .map(function (k) { return "&" + k + "=" + encodeURIComponent(filters[k]); }).join("");
    var totals = [], first = null, heads = [];
    state.loaded = 0; state.total = 0; state.rendered = false;
    dots.hold(true); alarms.hold(true);  // one draw, in the fitted view, once every part is in
    function part(k) {
      return getJSON("/board/cases/columns?parts=" + PARTS + "&part=" + k + "&describe=" + DESCRIBED + q).then(function (b) {
        first = older(first, b.cursor); totals[k] = b.total;
        var n = 0, head = heads[k] = [];
        rowsOf(b, function (p, lon, lat) {
          if (n < DESCRIBED) head.push(p);
          if (b.described != null && n >= b.described) p.described = false;
          n++;
          upsert(p, lon, lat);
        });
        state.loaded += b.rows.length;
        var known = totals.filter(function (t) { return t !== undefined; });
        var sum = known.reduce(function (a, t) { return a + t; }, 0);
        if (known.length === PARTS) state.total = sum;  // the count is whole once every part is in
        $("wg-live").textContent = "已载入 loaded " + state.loaded + " / " + sum;
      });
    }
    var parts = [];
    for (var k = 0; k < PARTS; k++) parts.push(part(k));
    return Promise.all(parts).then(function () {
      if (!cursor) cursor = first;
      fit(); counts(); queueList(heads);
      dots.hold(false); alarms.hold(false);
      dots.whenDrawn(function () { alarms.whenDrawn(function () { state.rendered = true; }); });
      if (!streaming) { streaming = true; follow(); }
    }).catch(function (e) {
      dots.hold(false); alarms.hold(false);
      $("wg-counts").textContent = (e && e.detail) || "载入失败 load failed";
    });
  }
  function fit() {
    var pts = Object.keys(cases).map(function (id) { return [cases[id].lat, cases[id].lon]; });
    if (pts.length) map.fitBounds(L.latLngBounds(pts), { padding: [30, 30], maxZoom: 16 });
  }
  function loadWorkers() {
    return getJSON("/board/workers/columns").then(function (b) {
      rowsOf(b, function (p, lon, lat) { placeWorker(p.id, p.name, lon, lat, p.open_cases, p.level); });
    });
  }
  // Level-2/3 workers (courtyard and building leaders, 16,000 of the district's 18,000) are
  // drawn from street zoom on: at district zoom they are a carpet that hides the cases, and
  // their markers were most of the board's first-load work.  They are known (nearest-worker
  // lists, positions) at every zoom.
  var DETAIL_ZOOM = 15;
  function shown(w) { return w.level === 1 || map.getZoom() >= DETAIL_ZOOM; }
  function mark(w) {
    w.marker = L.circleMarker([w.lat, w.lon], { renderer: people, radius: w.level === 1 ? 3 : 2, color: "#222", weight: 1.5, fillColor: "#fff", fillOpacity: 1 })
      .bindTooltip(function () { return document.createTextNode("网格员 " + w.name + " · 在办 open " + w.load); })
      .addTo(map);  // the text is made when the tooltip opens: no DOM per worker
  }
  function unmark(w) { if (w.marker) { w.marker.remove(); w.marker = null; } }
  function placeWorker(id, name, lon, lat, load, level) {
    var w = workers[id];
    if (!w) w = workers[id] = { id: id, name: name, load: load || 0, level: level || 1, marker: null };
    if (load !== undefined) w.load = load;
    w.lon = lon; w.lat = lat;
    if (w.marker) w.marker.setLatLng([lat, lon]);
    else if (shown(w)) mark(w);
  }
  map.on("zoomend", function () {
    Object.keys(workers).forEach(function (id) {
      var w = workers[id];
      if (shown(w) && !w.marker) mark(w); else if (!shown(w)) unmark(w);
    });
  });

  function handle(block) {
    var ev = "message", data = "", id = null;
    block.split("\n").forEach(function (line) {
      if (line.indexOf("event: ") === 0) ev = line.slice(7);
      else if (line.indexOf("data: ") === 0) data += line.slice(6);
      else if (line.indexOf("id: ") === 0) id = line.slice(4);
    });
    if (id) cursor = id;
    if (!data) return;
    var d = JSON.parse(data);
    if (ev === "case") {
      state.events += 1;
      var known = !!cases[d.incident_id];
      if (d.case) upsert(d.case, d.case.lon, d.case.lat);
      else drop(d.incident_id);
      if (state.onCase) state.onCase(d, known);
      refresh();
    } else if (ev === "position") {
      state.positions += 1;
      if (d.on_duty) placeWorker(d.worker_id, d.name, d.lon, d.lat, undefined, d.level);
      else if (workers[d.worker_id]) { unmark(workers[d.worker_id]); delete workers[d.worker_id]; }
    }
  }
  function follow() {
    var h = { Accept: "text/event-stream" };
    if (cursor) h["Last-Event-ID"] = cursor;
    fetch("/board/stream", { headers: h, cache: "no-store", credentials: "same-origin" }).then(function (r) {
      if (!r.ok || !r.body) throw new Error("HTTP " + r.status);
      var live = $("wg-live"); live.textContent = "● 实时 live"; live.className = "";
      var reader = r.body.getReader(), decoder = new TextDecoder(), buf = "";
      function pump() {
        return reader.read().then(function (chunk) {
          if (chunk.done) throw new Error("closed");
          buf += decoder.decode(chunk.value, { stream: true });
          var cut;
          while ((cut = buf.indexOf("\n\n")) >= 0) { handle(buf.slice(0, cut)); buf = buf.slice(cut + 2); }
          return pump();
        });
      }
      return pump();
    }).catch(function () {
      var live = $("wg-live"); live.textContent = "○ 重连中 reconnecting"; live.className = "wg-off";
      setTimeout(follow, 2000);  // resumes after the last cursor: nothing is missed
    });
  }

  function select(id) {
    selected = id; say("");
    panel(); nearest(); queueList();
    var c = cases[id]; if (c) map.panTo([c.lat, c.lon]);
  }
  function panel() {
    var c = cases[selected];
    $("wg-panel").hidden = false;
    $("wg-panel-title").textContent = "案件 Case #" + selected;
    if (!c) {
      $("wg-panel-status").textContent = "已不在队列 no longer in this queue";
      if (state.onPanel) state.onPanel(null);
      return;
    }
    $("wg-panel-status").textContent = wangge.statusName(c.p.status) + " · 版本 v" + c.p.version +
      (c.p.due_at ? " · 限 " + new Date(c.p.due_at).toLocaleString() : "") +
      (c.p.urgency === "urgent" ? " · 紧急 urgent" : "") +
      (c.p.supervised_at ? " · 督办 supervised " + new Date(c.p.supervised_at).toLocaleString() : "");
    $("wg-panel-desc").textContent = c.p.described === false ? "…" : c.p.description;
    describe([c.p]);
    if (state.onPanel) state.onPanel(c);
  }
  var asking = 0;  // the latest nearest-workers read: an earlier answer that comes later is dropped
  function nearest() {
    var list = $("wg-nearest"), id = selected, mine = ++asking;
    list.textContent = "";
    getJSON("/incidents/" + id + "/nearest-workers?k=5").then(function (ws) {
      if (id !== selected || mine !== asking) return;
      list.textContent = "";
      ws.forEach(function (w) {
        var li = document.createElement("li"), b = document.createElement("button");
        var load = workers[w.id] ? workers[w.id].load : "?";
        b.type = "button"; b.setAttribute("data-worker", w.id);
        b.textContent = "派遣 dispatch → " + w.name + " · " + Math.round(w.distance_m) + " m · 在办 open " + load;
        b.addEventListener("click", function () { dispatch(id, w); });
        li.appendChild(b); list.appendChild(li);
      });
      if (!ws.length) list.textContent = "无在岗网格员 no worker on duty nearby";
    }).catch(function (e) { if (mine === asking) list.textContent = (e && e.detail) || "—"; });
  }
  function chain(id, status, version, workerId) {  // a reported case is accepted and filed first
    var action = NEXT[status];
    if (!action) return Promise.resolve({ ok: false, status: 409, body: { detail: wangge.statusName(status) } });
    return act(id, version, action, action === "dispatch" ? { worker_id: workerId } : {}).then(function (res) {
      if (!res.ok || action === "dispatch") return res;
      return chain(id, res.body.status, res.body.version, workerId);
    });
  }
  function dispatch(id, w) {
    var c = cases[id]; if (!c) return;
    say("派遣中 dispatching…");
    chain(id, c.p.status, c.p.version, w.id).then(function (res) {
      if (res.ok) { say("已派遣给 dispatched to " + w.name, "ok"); bump(w.id); return; }
      if (res.status === 409) return faster(id, res.body);
      say((res.body && (res.body.detail || res.body.title)) || ("HTTP " + res.status), "error");
    }).catch(function () { say("网络错误 network error", "error"); });
  }
  function act(id, version, action, data, reason) {
    var body = { action: action, data: data || {} };
    if (reason) body.reason = reason;
    return fetch("/incidents/" + id + "/transitions", {
      method: "POST", credentials: "same-origin",
      headers: headers({ "If-Match": '"' + version + '"' }),
      body: JSON.stringify(body)
    }).then(function (r) { return r.json().then(function (b) { return { ok: r.ok, status: r.status, body: b }; }); });
  }
  function bump(workerId) { if (workers[workerId]) workers[workerId].load += 1; }
  function faster(id, problem) {  // who moved the case first, then show it as it is now
    return getJSON("/incidents/" + id + "/events").then(function (evs) {
      var last = evs[evs.length - 1] || {};
      say("慢了一步 too late: " + (last.actor || "?") + " 已先处理 was faster (" + (last.action || "") + " → " +
        wangge.statusName(last.to_status || "") + ")", "error");
      return getJSON("/incidents/" + id);
    }).then(function (inc) {
      if (inc && inc.id) {
        var c = cases[id], p = c ? c.p : null;
        if (p) { p.status = inc.status; p.version = inc.version; upsert(p, c.lon, c.lat); }
        refresh(); nearest();
      }
    }).catch(function () { say((problem && problem.detail) || "冲突 conflict", "error"); });
  }

  $("wg-panel-close").addEventListener("click", function () { $("wg-panel").hidden = true; selected = null; queueList(); });
  $("wg-filters").addEventListener("submit", function (ev) {
    ev.preventDefault();
    ["status", "category", "street", "community", "cell", "overdue"].forEach(function (k) { filters[k] = $("wg-f-" + k).value.trim(); });
    load();
  });
  function outlines() {  // the streets from the service's own OGC API: where the district is
    return getJSON("/ogc/collections/streets/items?limit=1000").then(function (fc) {
      L.geoJSON(fc, { pane: "outlines", style: { color: "#555", weight: 1.5, fill: false, interactive: false } }).addTo(map);
      state.outlines = fc.features.length;
    }).catch(function () { state.outlines = 0; });
  }
  state.api = { map: map, act: act, chain: chain, upsert: upsert, say: say, select: select, refresh: refresh,
    faster: faster, bump: bump, getJSON: getJSON, fit: fit, selected: function () { return selected; } };
  filters.street = root.getAttribute("data-street") || "";  // a street unit's dispatcher: my street
  // The cases first: the street outlines (200 KB) and the workers (18,000 in the demo, most
  // drawn only from street zoom) follow once every case is on the map, so they do not
  // compete with its first render for the CPU.
  load().then(function () { return outlines(); }).then(loadWorkers);
})();
