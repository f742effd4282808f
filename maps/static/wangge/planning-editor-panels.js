/* The editor's side panels: the draft beside the live grid, and the cell's worker.
 * - Compare: a second Leaflet map of the scope's live cells (/live) beside the draft's,
 *   moved and zoomed with it, at the level shown; toggled from the page.
 * - Worker: for a selected level-1 cell, its worker or "no worker"; a planner moves an
 *   existing worker of the scope into the cell (PATCH /workers/{id}) or creates one
 *   (POST /workers with the draft named, so a cell that exists only in the draft is known). */
(function () {
  "use strict";
  function $(id) { return document.getElementById(id); }
  var state = window.wanggeEditor, api = state.api, map = api.map, rid = Number(api.base.split("/").pop());
  var live = null, liveLayer = null, liveCells = null, syncing = false;
  state.compare = { shown: false, cells: 0 };

  // --- compare -------------------------------------------------------------------
  function showLive() {
    if (!live || !liveCells) return;
    liveLayer.clearLayers();
    var shown = liveCells.features.filter(function (f) { return f.properties.level === state.level; });
    liveLayer.addData(shown);
    state.compare.cells = shown.length;
  }
  function sync(from, to) {
    from.on("move zoom", function () {
      if (syncing || !to) return;
      syncing = true; to.setView(from.getCenter(), from.getZoom(), { animate: false }); syncing = false;
    });
  }
  function openCompare() {
    var box = $("wg-pe-live");
    box.hidden = false; $("wg-pe").classList.add("wg-pe-comparing");
    map.invalidateSize({ pan: false });
    if (!live) {
      live = L.map(box, { zoomControl: false, attributionControl: false, doubleClickZoom: false });
      live.setView(map.getCenter(), map.getZoom(), { animate: false });
      liveLayer = L.geoJSON(null, {
        interactive: false, style: { color: "#1565c0", weight: 1.2, fillColor: "#bbdefb", fillOpacity: 0.5 },
        onEachFeature: function (f, layer) {
          layer.bindTooltip(f.properties.code.slice(-3) + " · " + f.properties.households + "户 hh", { permanent: true, direction: "center", className: "wg-pe-label" });
        }
      }).addTo(live);
      L.control.attribution({ prefix: false }).addAttribution("现行网格 live grid").addTo(live);
      sync(map, live); sync(live, map);
      api.call("GET", api.base + "/live").then(function (fc) { liveCells = fc; showLive(); api.say("现行网格已显示 Live grid shown beside the draft", "ok"); }).catch(api.fail);
    } else {
      live.invalidateSize({ pan: false }); live.setView(map.getCenter(), map.getZoom(), { animate: false });
    }
    state.compare.shown = true; $("wg-pe-compare").setAttribute("aria-pressed", "true");
  }
  function closeCompare() {
    $("wg-pe-live").hidden = true; $("wg-pe").classList.remove("wg-pe-comparing");
    map.invalidateSize({ pan: false });
    state.compare.shown = false; $("wg-pe-compare").setAttribute("aria-pressed", "false");
  }
  $("wg-pe-compare").addEventListener("click", function () { if (state.compare.shown) closeCompare(); else openCompare(); });
  $("wg-pe-level").addEventListener("change", showLive);

  // --- worker --------------------------------------------------------------------
  var workers = null;
  function loadWorkers() {
    return api.call("GET", "/workers?revision=" + rid).then(function (list) { workers = list; fillPick(); }).catch(api.fail);
  }
  function fillPick() {
    var pick = $("wg-pe-wpick"); pick.textContent = "";
    (workers || []).forEach(function (w) {
      var o = document.createElement("option"); o.value = String(w.id);
      o.textContent = w.name + " · " + (w.cell_code || "—") + (w.on_duty ? "" : " · 不在岗 off duty");
      pick.appendChild(o);
    });
    $("wg-pe-wmove").disabled = !pick.options.length;
  }
  function showWorker() {
    var p = state.selected && api.props(state.selected), box = $("wg-pe-worker");
    box.hidden = !p || p.level !== 1;
    if (box.hidden) return;
    $("wg-pe-wcell").textContent = p.code;
    $("wg-pe-wnow").textContent = p.worker ? "网格员 worker: " + p.worker : "无网格员 no worker";
    $("wg-pe-wnow").className = p.worker ? "" : "wg-error";
    if (workers === null) { workers = []; loadWorkers(); }
  }
  function served(worker) { // the cell's label shows its worker at once; the next load agrees
    var p = api.props(worker.cell_code); if (p) p.worker = worker.name;
    state.workerSet = worker; api.redraw(); loadWorkers();
    api.say("网格员 Worker " + worker.name + " → " + worker.cell_code, "ok");
  }
  $("wg-pe-wmove").addEventListener("click", function () {
    var id = $("wg-pe-wpick").value, code = state.selected; if (!id || !code) return;
    var old = (workers || []).filter(function (w) { return String(w.id) === id; })[0];
    api.call("PATCH", "/workers/" + id, { cell_code: code, revision: rid }).then(function (w) {
      var before = old && api.props(old.cell_code); if (before && before.worker === old.name) before.worker = null;
      served(w);
    }).catch(api.fail);
  });
  $("wg-pe-wcreate").addEventListener("click", function () {
    var name = $("wg-pe-wname").value.trim(), code = state.selected;
    if (!name) { api.say("请填写姓名 Enter the worker's name", "error"); return; }
    api.call("POST", "/workers", { name: name, cell_code: code, on_duty: $("wg-pe-wduty").checked, revision: rid }).then(function (w) {
      $("wg-pe-wname").value = ""; served(w);
    }).catch(api.fail);
  });
  api.hooks.redraw.push(showWorker);
})();
