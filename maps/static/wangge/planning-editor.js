/* /planning/editor?revision=ID: the planners' map editor.
 * Loads the draft's cells with their figures (/figures), its problems (/validate) and its
 * courtyards (/units); every edit is one POST to /edits/{op} with If-Match (the draft's ETag),
 * answering only the changed cells, the problems around them and the draft's balance, which
 * are merged into what is shown.  Undo/redo replay an edit's inverse (/edits/restore with the
 * cells as they were); a 412 means another planner saved: the message offers a reload.
 * Text from data goes in with textContent only. */
(function () {
  "use strict";
  function $(id) { return document.getElementById(id); }
  var root = $("wg-pe"), rid = root.getAttribute("data-revision"), csrf = root.getAttribute("data-csrf");
  var base = "/planning/revisions/" + rid;
  var map = L.map("wg-pe-map", { doubleClickZoom: false, minZoom: 8, maxZoom: 19 }).setView([30.66, 104.08], 13);
  // maps/planning_editor.base_spec; the map's own zoom range (as the other pages') keeps the
  // base layer's minZoom from moving the view.
  var baseSpec = JSON.parse(root.getAttribute("data-base") || "null");
  var baseLayer = baseSpec && baseSpec.tiles ? L.tileLayer(baseSpec.tiles, { attribution: baseSpec.attribution || "basemap" })
    : baseSpec && baseSpec.offline && window.wangge && window.wangge.baseLayer ? window.wangge.baseLayer(baseSpec.offline) : null;
  map.createPane("units").style.zIndex = 420;
  map.createPane("suggest").style.zIndex = 430;
  map.createPane("problems").style.zIndex = 440;
  map.getPane("suggest").style.pointerEvents = "none";
  map.getPane("problems").style.pointerEvents = "none";
  var state = window.wanggeEditor = {
    etag: null, cells: {}, problems: [], undo: [], redo: [], tool: "select", selected: null,
    level: 1, draft: null, impact: null, published: null, busy: 0, edits: 0, conflicts: 0,
    pixel: function (lat, lng) { var p = map.latLngToContainerPoint([lat, lng]); var r = $("wg-pe-map").getBoundingClientRect(); return [r.left + p.x, r.top + p.y]; }
  };
  var cellLayer = L.geoJSON(null, { style: styleOf, onEachFeature: bindCell }).addTo(map);
  var unitLayer = L.geoJSON(null, { pane: "units", style: unitStyle, onEachFeature: bindUnit });
  var problemLayer = L.geoJSON(null, { pane: "problems", interactive: false, style: { color: "#e00000", weight: 3, fillColor: "#ff0000", fillOpacity: 0.45 }, pointToLayer: function (f, ll) { return L.circleMarker(ll, { radius: 7, pane: "problems", color: "#e00000" }); } }).addTo(map);
  var suggestLayer = L.geoJSON(null, { pane: "suggest", interactive: false, style: { color: "#6a1b9a", weight: 2, dashArray: "6 4", fill: false } });
  var linePts = [], lineLayer = L.polyline([], { color: "#000", weight: 3, dashArray: "4 4" }).addTo(map);
  var scratch = null, fitted = false, hooks = { redraw: [], tool: [] };
  // planning-editor-draw.js and -panels.js (loaded after this file) build on these
  state.api = { map: map, call: call, edit: edit, say: say, fail: fail, redraw: function () { redraw(); }, layerOf: function (c) { return layerOf(c); },
    select: function (c) { select(c); }, props: function (c) { return props(c); }, hooks: hooks, base: base, unitLayer: unitLayer, cellLayer: cellLayer };

  function say(t, kind) { var m = $("wg-pe-msg"); m.textContent = t; m.className = kind ? "wg-" + kind : ""; }
  function headers(extra) {
    var h = { "Content-Type": "application/json", "X-CSRF-Token": csrf };
    Object.keys(extra || {}).forEach(function (k) { h[k] = extra[k]; });
    return h;
  }
  function call(method, url, body, extra) {
    state.busy++;
    var opts = { method: method, credentials: "same-origin", cache: "no-store", headers: headers(extra) };
    if (body !== undefined) opts.body = JSON.stringify(body);
    return fetch(url, opts).then(function (r) {
      if (r.status === 204) return null;
      return r.json().then(function (b) { if (!r.ok) { b.status = r.status; throw b; } return b; });
    }).finally(function () { state.busy--; });
  }
  function fail(e) {
    if (e && e.status === 412) {
      state.conflicts++; $("wg-pe-conflict").hidden = false;
      say("保存冲突 Conflict: 草稿已被他人修改 the draft changed; 重新载入 reload to continue", "error");
    } else { say("未执行 Not done: " + ((e && (e.detail || e.message)) || e), "error"); }
  }

  function props(code) { return state.cells[code] && state.cells[code].properties; }
  // The server's one rule: (households per worker - target) / target, level-1 cells only
  // (workers sit there); levels 2 and 3 have none, so no deviation and a neutral fill.
  function deviationOf(p) { return p.deviation === undefined ? null : p.deviation; }
  function colour(d) {
    if (d === null) return "#cfd8dc";
    var tol = state.draft ? state.draft.tolerance : 0.15;
    if (Math.abs(d) <= tol) return "#e8f5e9";
    var t = Math.min(1, (Math.abs(d) - tol) / 0.5);
    return d > 0 ? "rgb(" + 255 + "," + Math.round(200 - 150 * t) + "," + Math.round(190 - 150 * t) + ")"
      : "rgb(" + Math.round(190 - 150 * t) + "," + Math.round(210 - 110 * t) + "," + 255 + ")";
  }
  function styleOf(f) {
    var p = f.properties, sel = state.selected === p.code;
    return { color: sel ? "#f0a500" : "#333", weight: sel ? 4 : 1.2, fillColor: colour(deviationOf(p)), fillOpacity: 0.6,
      className: "wg-cell wg-cell-" + p.code };
  }
  function unitStyle() { return { color: "#00695c", weight: 1.5, fillColor: "#26a69a", fillOpacity: 0.35 }; }
  function label(p) {
    return p.code.slice(-3) + " · " + p.households + "户 hh · " + p.population + "人 · " + p.open_cases + "案 cases" + (p.worker ? " · " + p.worker : "");
  }
  function bindCell(f, layer) {
    // Permanent labels for a readable number of cells; on a district's level they are hover labels
    // (1,794 permanent tooltips were most of the first render and unreadable at that zoom).
    layer.bindTooltip(label(f.properties), { permanent: state.shown <= 400, direction: "center", className: "wg-pe-label" });
    layer.on("click", function (ev) {
      if (PASS[state.tool]) return; // drawing and brushing: the map (Geoman, the brush) has the click
      L.DomEvent.stop(ev); cellClicked(f.properties.code, ev.latlng);
    });
  }
  function bindUnit(f, layer) {
    layer.bindTooltip((f.properties.name || f.properties.code) + " " + f.properties.households + "户");
    layer.on("click", function (ev) { if (state.tool !== "paint") return; L.DomEvent.stop(ev); unitClicked(f.properties.id); });
  }

  function redraw() {
    cellLayer.clearLayers();
    var shown = Object.keys(state.cells).sort().map(function (c) { return state.cells[c]; })
      .filter(function (f) { return f.properties.level === state.level; });
    state.shown = shown.length; cellLayer.addData(shown);
    if (!fitted && shown.length) { map.fitBounds(cellLayer.getBounds()); fitted = true; }
    var tb = $("wg-pe-cells").tBodies[0]; tb.textContent = "";
    shown.forEach(function (f) {
      var p = f.properties, tr = document.createElement("tr");
      tr.dataset.code = p.code; if (state.selected === p.code) tr.className = "wg-sel";
      [p.code, p.households, p.population, p.open_cases, p.households_per_worker === null ? "—" : p.households_per_worker,
        deviationOf(p) === null ? "—" : (deviationOf(p) * 100).toFixed(0) + "%", p.polsby_popper + (p.multipart ? " ⚠多块 multipart" : "")].forEach(function (v) {
        var td = document.createElement("td"); td.textContent = String(v); tr.appendChild(td);
      });
      tr.addEventListener("click", function () { select(p.code); var l = layerOf(p.code); if (l) map.fitBounds(l.getBounds()); });
      tb.appendChild(tr);
    });
    problemLayer.clearLayers();
    var ol = $("wg-pe-problems"); ol.textContent = "";
    state.problems.forEach(function (pr) {
      if (pr.geometry) problemLayer.addData({ type: "Feature", properties: {}, geometry: pr.geometry });
      var li = document.createElement("li"); li.className = "wg-pe-problem";
      li.textContent = pr.kind + " · " + pr.cells.join(", ") + (pr.detail ? " · " + pr.detail : "");
      li.addEventListener("click", function () { if (pr.geometry) map.fitBounds(L.geoJSON(pr.geometry).getBounds(), { maxZoom: 18 }); });
      ol.appendChild(li);
    });
    $("wg-pe-nproblems").textContent = String(state.problems.length);
    var d = state.draft;
    if (d) $("wg-pe-balance").textContent = "目标 target " + d.target_households_per_worker + " 户/员 hh per level-1 worker (±" + Math.round(d.tolerance * 100) + "%) · 超出 over " + d.over +
      " · 不足 under " + d.under + " · 户数变异系数 household CV " + d.household_cv;
    $("wg-pe-undo").disabled = !state.undo.length; $("wg-pe-redo").disabled = !state.redo.length;
    hooks.redraw.forEach(function (h) { h(); });
  }
  function layerOf(code) { var found = null; cellLayer.eachLayer(function (l) { if (l.feature.properties.code === code) found = l; }); return found; }
  function select(code) { state.selected = code; $("wg-pe-hint").textContent = "已选 Selected " + code; redraw(); }

  function loadAll() {
    $("wg-pe-conflict").hidden = true;
    // The cells are drawn as soon as they arrive (body data-ready="cells"); the full validation
    // of a district takes seconds (and a core), so it starts once they are drawn (state.loaded counts complete loads).
    return Promise.all([call("GET", base + "/figures"), call("GET", base + "/units?kind=courtyard")])
      .then(function (r) {
        var fig = r[0]; state.etag = fig.etag; state.draft = fig.draft; state.cells = {};
        fig.cells.features.forEach(function (f) { state.cells[f.properties.code] = f; });
        state.problems = []; state.status = fig.status;
        unitLayer.clearLayers(); unitLayer.addData(r[1].features);
        $("wg-pe-draft").textContent = "草稿 Draft " + fig.revision + " · " + fig.scope + " " + (fig.scope_code || "") + " · " + fig.status + " · v" + fig.version;
        redraw(); document.body.dataset.ready = "cells"; var edits = state.edits;
        if (baseLayer && !map.hasLayer(baseLayer)) baseLayer.addTo(map);  // after the fit: no tiles for the default view
        return call("POST", base + "/validate").then(function (v) {
          if (state.edits === edits) { state.problems = v.problems; redraw(); }
          say("已载入 Loaded", "ok"); state.loaded = (state.loaded || 0) + 1;
        });
      }).catch(fail);
  }

  function codesOf(fs) { return fs.map(function (f) { return f.properties.code; }); }
  function applyEdit(res) {
    var touched = {};
    codesOf(res.before).concat(codesOf(res.cells.features), res.removed).forEach(function (c) { touched[c] = 1; });
    res.removed.forEach(function (c) { delete state.cells[c]; });
    res.cells.features.forEach(function (f) { state.cells[f.properties.code] = f; });
    state.problems = state.problems.filter(function (p) { return !p.cells.some(function (c) { return touched[c] || touched[c.slice(0, -3)]; }); })
      .concat(res.problems);
    state.etag = res.etag; state.draft = res.draft; state.edits++;
    $("wg-pe-draft").textContent = $("wg-pe-draft").textContent.replace(/ · v\d+$/, " · v" + res.version);
    var before = {}; codesOf(res.before).forEach(function (c) { before[c] = 1; });
    return { cells: res.before, remove: codesOf(res.cells.features).filter(function (c) { return !before[c]; }) };
  }
  function edit(op, body, stack) {
    if (state.status && state.status !== "draft") { say("已发布 Published: 只读 read-only", "error"); return Promise.resolve(); }
    return call("POST", base + "/edits/" + op, body, { "If-Match": state.etag }).then(function (res) {
      var inverse = applyEdit(res);
      if (stack === "undo") state.redo.push(inverse); else { state.undo.push(inverse); if (stack !== "redo") state.redo = []; }
      redraw(); say("已保存 Saved (" + op + ")", "ok"); state.impact = null; $("wg-pe-impact").textContent = "";
      return res;
    }).catch(fail);
  }

  function cellClicked(code, latlng) {
    if (DRAWING[state.tool]) { return addPoint(latlng); }
    if (state.tool === "merge" && state.selected && state.selected !== code) { var keep = state.selected; return edit("merge", { cell: keep, other: code }); }
    if (state.tool === "delete") { if (window.confirm("删除网格 Delete cell " + code + "?")) edit("delete-cell", { cell: code }); return; }
    select(code);
  }
  function unitClicked(id) {
    if (!state.selected) { say("先选目标网格 First select the target cell", "error"); return; }
    edit("move", { target: state.selected, kind: "courtyard", units: [id] });
  }
  var DRAWING = { split: 2 }, PASS = { "new": 1, brush: 1 };
  function addPoint(latlng) { linePts.push(latlng); lineLayer.setLatLngs(linePts); $("wg-pe-finish").hidden = linePts.length < DRAWING[state.tool]; }
  map.on("click", function (ev) { if (DRAWING[state.tool]) addPoint(ev.latlng); });
  $("wg-pe-finish").addEventListener("click", function () {
    if (!state.selected) { say("先选一个网格 Select a cell first", "error"); return; }
    var coords = linePts.map(function (p) { return [p.lng, p.lat]; });
    linePts = []; lineLayer.setLatLngs([]); $("wg-pe-finish").hidden = true;
    return edit("split", { cell: state.selected, line: { type: "LineString", coordinates: coords } });
  });

  Array.prototype.forEach.call(document.querySelectorAll("#wg-pe-tools button"), function (b) {
    b.addEventListener("click", function () {
      state.tool = b.getAttribute("data-tool");
      Array.prototype.forEach.call(document.querySelectorAll("#wg-pe-tools button"), function (o) { o.setAttribute("aria-pressed", String(o === b)); });
      if (state.tool === "paint" || state.tool === "reshape") unitLayer.addTo(map); else map.removeLayer(unitLayer);
      linePts = []; lineLayer.setLatLngs([]); $("wg-pe-finish").hidden = true;
      var hints = { select: "点击网格选为目标 click a cell to select it", paint: "点击院落移入所选网格 click courtyards to move them into the selected cell",
        split: "在地图上点击画切线，然后完成 click points of a line, then Finish", merge: "点击另一网格并入所选 click another cell to merge it into the selected one",
        "delete": "点击要删除的网格 click the cell to delete",
        reshape: "拖动所选网格的顶点（吸附到相邻网格与院落边界）drag the selected cell's vertices (they snap to neighbours and courtyards)",
        "new": "点击画新网格，点第一点结束（与所选网格同级同父）click the new cell's corners, click the first to close (a sibling of the selected cell)",
        brush: "按住鼠标拖动画笔，松开后移入所选网格 hold the mouse and brush over units; release to move them into the selected cell" };
      $("wg-pe-hint").textContent = hints[state.tool];
      hooks.tool.forEach(function (h) { h(state.tool); });
    });
  });
  $("wg-pe-level").addEventListener("change", function (e) { state.level = Number(e.target.value); redraw(); });
  $("wg-pe-undo").addEventListener("click", function () { var inv = state.undo.pop(); if (inv) edit("restore", inv, "undo"); });
  $("wg-pe-redo").addEventListener("click", function () { var inv = state.redo.pop(); if (inv) edit("restore", inv, "redo"); });
  $("wg-pe-reload").addEventListener("click", function () { state.undo = []; state.redo = []; loadAll(); });

  function showImpact(imp) {
    var t = imp.totals, box = $("wg-pe-impact"); box.textContent = "";
    [["变更网格 cells changed", t.changed_cells], ["迁移户数 households moved", t.households_moved], ["迁移人口 population moved", t.population_moved],
      ["改派案件 open cases reassigned", t.open_incidents_moving], ["无网格员的网格 cells without worker", imp.cells_without_worker.length],
      ["不在岗 workers off duty", imp.workers_off_duty.length]].forEach(function (x) {
      var p = document.createElement("p"); p.textContent = x[0] + ": " + x[1]; box.appendChild(p);
    });
    var ul = document.createElement("ul");
    imp.incidents_moving.forEach(function (m) {
      var li = document.createElement("li"); li.textContent = "案件 case " + m.id + ": " + (m.from.l1 || m.from.l2 || "") + " → " + JSON.stringify(m.to) +
        " · 处理人 assignee " + m.assignee_before + " → " + m.assignee_after; ul.appendChild(li);
    });
    box.appendChild(ul);
  }
  $("wg-pe-preview").addEventListener("click", function () {
    call("GET", base + "/impact").then(function (imp) { state.impact = imp; showImpact(imp); say("影响预览 Impact preview ready", "ok"); }).catch(fail);
  });
  $("wg-pe-publish").addEventListener("click", function () {
    call("GET", base + "/impact").then(function (imp) {
      state.impact = imp; showImpact(imp); var t = imp.totals;
      if (!window.confirm("发布 Publish? " + t.changed_cells + " 个网格变更 cells changed, " + t.households_moved + " 户迁移 households moved, " +
        t.open_incidents_moving + " 件案件改派 open cases reassigned")) return null;
      return call("POST", base + "/publish").then(function (res) {
        state.published = res; state.status = "published";
        say("已发布 Published: " + res.opened + " 新网格 cells opened, " + res.cases_moved + " 件改派 cases moved", "ok");
      });
    }).catch(fail);
  });

  $("wg-pe-suggest").addEventListener("click", function () {
    var fig = state.draft; if (!fig) return;
    var scopeBody = { scope: state.scope || "district" };
    call("GET", base).then(function (rev) {
      scopeBody = { scope: rev.scope }; if (rev.scope !== "district") scopeBody[rev.scope] = rev.scope_code;
      return call("POST", "/planning/revisions", scopeBody);
    }).then(function (made) {
      scratch = made.id;
      return call("POST", "/planning/revisions/" + scratch + "/suggest", { level: 1 });
    }).then(function () { return call("GET", "/planning/revisions/" + scratch + "/cells"); }).then(function (fc) {
      suggestLayer.clearLayers(); suggestLayer.addData(fc.features.filter(function (f) { return f.properties.level === 1; })).addTo(map);
      state.suggestion = fc; $("wg-pe-accept").disabled = false; say("建议已显示（紫色虚线） Suggestion shown (purple dashes)", "ok");
    }).catch(fail);
  });
  $("wg-pe-accept").addEventListener("click", function () {
    if (!state.suggestion) return;
    call("PUT", base + "/cells", state.suggestion, { "If-Match": state.etag }).then(function () {
      map.removeLayer(suggestLayer); $("wg-pe-accept").disabled = true; state.undo = []; state.redo = [];
      var old = scratch; scratch = null; state.suggestion = null;
      return call("DELETE", "/planning/revisions/" + old).then(loadAll);
    }).catch(fail);
  });

  state.api.loadAll = loadAll;
  document.addEventListener("DOMContentLoaded", loadAll); // after the other editor files registered their hooks
})();
