/* The editor's drawing tools on Leaflet-Geoman (vendored, /static): reshape by dragging
 * vertices, draw a new cell, and the brush.
 * - Reshape: the selected cell's vertices can be dragged (and added from the midpoints);
 *   they snap to the neighbours' edges and to the courtyards' outlines (and buildings',
 *   loaded with the tool).  Each drag ends in one POST /edits/reshape; a refused shape
 *   (outside the parent, self-intersecting) shows the server's message and the cell is
 *   drawn again as it was.
 * - New cell: a polygon drawn with the same snapping; its code is asked of the server
 *   (/proposed-code: west→east, north→south among its siblings) and is editable before
 *   the new-cell edit.
 * - Brush: mouse down and move: every courtyard (or level-3 cell) under the circle is
 *   picked; mouse up sends one move edit into the selected cell. */
(function () {
  "use strict";
  function $(id) { return document.getElementById(id); }
  var state = window.wanggeEditor, api = state.api, map = api.map;
  var SNAP = { snappable: true, snapDistance: 18, allowSelfIntersection: true, draggable: false,
    preventMarkerRemoval: false, removeVertexOn: "contextmenu" };
  var buildings = L.geoJSON(null, { pane: "units", interactive: false, style: { color: "#795548", weight: 1, fill: false } });
  var level3 = L.geoJSON(null, { pane: "units", interactive: false, style: { color: "#00695c", weight: 1, fillOpacity: 0.05, dashArray: "2 3" } });
  var editing = null, pending = null;
  state.reshapes = 0; state.brushed = [];
  map.pm.setGlobalOptions(SNAP);

  // --- reshape -------------------------------------------------------------------
  function stopEditing() { if (editing && editing.pm && editing.pm.enabled()) editing.pm.disable(); editing = null; }
  function startEditing() {
    stopEditing();
    if (state.tool !== "reshape" || !state.selected) return;
    var layer = api.layerOf(state.selected); if (!layer) return;
    layer.closeTooltip(); layer.unbindTooltip();
    layer.pm.enable(SNAP);
    editing = layer;
    layer.on("pm:edit", function () {
      if (editing !== layer) return;
      var geometry = layer.toGeoJSON().geometry, code = state.selected;
      stopEditing();
      api.edit("reshape", { cell: code, geometry: geometry }).then(function (res) {
        if (res) state.reshapes++;
        api.redraw(); // refused: the cell snaps back to what the server holds
      });
    });
  }
  api.hooks.redraw.push(startEditing);

  // --- new cell ------------------------------------------------------------------
  function parentOf() {
    var p = state.selected && api.props(state.selected);
    return p && p.level === state.level ? p.parent_code : null;
  }
  function startDrawing() {
    if (!parentOf()) { api.say("先选一个同级网格 First select a cell of this level (the new cell is its sibling)", "error"); return; }
    map.pm.enableDraw("Polygon", SNAP);
  }
  map.on("pm:create", function (e) {
    var geometry = e.layer.toGeoJSON().geometry, parent = parentOf();
    map.removeLayer(e.layer);
    pending = { geometry: geometry, parent: parent, level: state.level, preview: L.geoJSON(geometry, { interactive: false, style: { color: "#f0a500", weight: 3, dashArray: "5 4" } }).addTo(map) };
    api.call("POST", api.base + "/proposed-code", { level: state.level, parent_code: parent, geometry: geometry }).then(function (p) {
      $("wg-pe-newcode").value = p.code; $("wg-pe-newrule").textContent = "建议 proposed: " + p.rule;
      $("wg-pe-newcell").hidden = false; state.proposed = p.code; $("wg-pe-newcode").focus();
    }).catch(function (err) { api.fail(err); cancelNew(); });
  });
  function cancelNew() {
    if (pending && pending.preview) map.removeLayer(pending.preview);
    pending = null; $("wg-pe-newcell").hidden = true;
    if (state.tool === "new") startDrawing();
  }
  $("wg-pe-newcell").addEventListener("submit", function (ev) {
    ev.preventDefault(); if (!pending) return;
    var body = { level: pending.level, parent_code: pending.parent, geometry: pending.geometry, code: $("wg-pe-newcode").value.trim() || null };
    api.edit("new-cell", body).then(function (res) {
      if (!res) return;
      map.removeLayer(pending.preview); pending = null; $("wg-pe-newcell").hidden = true;
      state.newCell = res.cell; api.select(res.cell); api.say("新网格 New cell " + res.cell + " · 请指定网格员 assign its worker", "ok");
    });
  });
  $("wg-pe-newcancel").addEventListener("click", cancelNew);

  // --- brush ---------------------------------------------------------------------
  var circle = L.circleMarker([0, 0], { pane: "units", radius: 14, interactive: false, color: "#f0a500", weight: 2, fillOpacity: 0.15 });
  var stroke = null;
  function radius() { return Math.max(4, Math.min(80, Number($("wg-pe-brush-r").value) || 14)); }
  function kind() { return $("wg-pe-brush-kind").value; }
  function inside(pt, ring) { // ray casting in container pixels
    var hit = false;
    for (var i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      var a = ring[i], b = ring[j];
      if ((a.y > pt.y) !== (b.y > pt.y) && pt.x < (b.x - a.x) * (pt.y - a.y) / (b.y - a.y) + a.x) hit = !hit;
    }
    return hit;
  }
  function rings(latlngs) { // every outer ring of a (multi)polygon's latlngs, as pixel arrays
    if (!latlngs.length) return [];
    if (latlngs[0] instanceof L.LatLng) return [latlngs.map(function (ll) { return map.latLngToContainerPoint(ll); })];
    if (latlngs[0][0] instanceof L.LatLng) return [rings(latlngs[0])[0]];
    return latlngs.reduce(function (acc, poly) { return acc.concat(rings(poly)); }, []);
  }
  function underBrush(layer, pt, r) {
    return rings(layer.getLatLngs()).some(function (ring) {
      return inside(pt, ring) || ring.some(function (v) { return v.distanceTo(pt) <= r; });
    });
  }
  function hit(pt) {
    var r = radius(), source = kind() === "cell" ? level3 : api.unitLayer;
    source.eachLayer(function (l) {
      var p = l.feature.properties, id = kind() === "cell" ? p.code : p.id;
      if (stroke.ids[id] || !underBrush(l, pt, r)) return;
      if (kind() === "cell" && id.indexOf(state.selected) === 0) return; // already inside the target
      stroke.ids[id] = 1; l.setStyle && l.setStyle({ fillColor: "#f0a500", fillOpacity: 0.7 });
    });
  }
  function move(ev) {
    var pt = map.mouseEventToContainerPoint(ev);
    circle.setLatLng(map.containerPointToLatLng(pt)).setRadius(radius());
    if (stroke) hit(pt);
  }
  function down(ev) {
    if (state.tool !== "brush" || ev.button !== 0) return;
    if (!state.selected) { api.say("先选目标网格 First select the target cell", "error"); return; }
    ev.preventDefault(); ev.stopPropagation();
    stroke = { ids: {} }; move(ev);
  }
  function up() {
    if (!stroke) return;
    var ids = Object.keys(stroke.ids), k = kind(); stroke = null;
    if (k === "courtyard") ids = ids.map(Number);
    state.brushed = ids; showUnits();
    if (!ids.length) return;
    api.edit("move", { target: state.selected, kind: k, units: ids }).then(function () { showUnits(); });
  }
  var box = map.getContainer();
  box.addEventListener("mousedown", down, true);
  box.addEventListener("mousemove", function (ev) { if (state.tool === "brush") move(ev); }, true);
  document.addEventListener("mouseup", up, true);

  function showUnits() {
    var brush = state.tool === "brush";
    level3.clearLayers();
    if (brush && kind() === "cell") {
      level3.addData(Object.keys(state.cells).map(function (c) { return state.cells[c]; }).filter(function (f) { return f.properties.level === 3; })).addTo(map);
      map.removeLayer(api.unitLayer);
    } else { map.removeLayer(level3); }
    if (brush && kind() === "courtyard") { api.unitLayer.resetStyle(); api.unitLayer.addTo(map); }
    if (brush) circle.addTo(map); else map.removeLayer(circle);
  }
  $("wg-pe-brush-kind").addEventListener("change", showUnits);
  api.hooks.redraw.push(function () { if (state.tool === "brush" && kind() === "cell") showUnits(); });

  // --- tool switches -------------------------------------------------------------
  function loadBuildings() {
    if (state.buildingsLoaded) return;
    state.buildingsLoaded = true;
    api.call("GET", api.base + "/units?kind=building").then(function (fc) { buildings.addData(fc.features); }).catch(api.fail);
  }
  api.hooks.tool.push(function (tool) {
    map.pm.disableDraw();
    if (pending) cancelNew();
    $("wg-pe-brushbox").hidden = tool !== "brush";
    if (tool === "brush") map.dragging.disable(); else map.dragging.enable();
    if (tool === "reshape" || tool === "new") { loadBuildings(); buildings.addTo(map); api.unitLayer.addTo(map); } else { map.removeLayer(buildings); }
    showUnits();
    if (tool === "new") startDrawing();
    if (tool === "reshape") startEditing(); else stopEditing();
  });
})();
