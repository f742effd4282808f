/* The board's cases as canvases of dots: wangge.Dots, a Leaflet layer.
 *
 * Why not a circleMarker per case: at ten times the demo's open cases (33,000) the
 * board spent most of its first load creating Leaflet objects (options, events,
 * projections) and collecting their garbage, and two thirds of those cases carry an
 * alarm.  Here a case is a few values in arrays; a redraw projects them and fills one
 * path per (fill, ring) pair, and `pick` finds the nearest dot within a few pixels.
 * The board keeps two of these: plain cases, and alarmed cases drawn larger with a
 * ring on the alarm pane, which blinks as a whole (board.css).  Redraws are batched to
 * one per animation frame; the canvas is hidden while the map zooms and redrawn when
 * it settles.  Options: ``pane``, ``radius``, ``weight`` (the ring's width).
 */
(function () {
  "use strict";
  var PICK_PX = 7;

  var Dots = L.Layer.extend({
    initialize: function (options) {
      this._opt = { pane: "overlayPane", radius: 5, weight: 1 };
      for (var k in options || {}) this._opt[k] = options[k];
      this._at = {};  // id → index in the arrays
      this._ids = []; this._lat = []; this._lon = []; this._colour = []; this._ring = [];
      this._x = null; this._y = null;  // container pixels of the last draw
      this._frame = null;
    },
    onAdd: function (map) {
      this._canvas = L.DomUtil.create("canvas", "wg-dots leaflet-zoom-hide");
      map.getPane(this._opt.pane).appendChild(this._canvas);
      map.on("moveend zoomend resize viewreset", this._redrawSoon, this);
      this._redrawSoon();
    },
    onRemove: function (map) {
      map.off("moveend zoomend resize viewreset", this._redrawSoon, this);
      L.DomUtil.remove(this._canvas);
    },
    set: function (id, lat, lon, colour, ring) {  // ring: the outline's colour (default: the fill's)
      var i = this._at[id];
      if (i === undefined) { i = this._at[id] = this._ids.length; this._ids.push(id); }
      this._lat[i] = lat; this._lon[i] = lon; this._colour[i] = colour; this._ring[i] = ring || colour;
      this._redrawSoon();
    },
    remove: function (id) {  // the last dot moves into the hole: removal stays O(1)
      var i = this._at[id]; if (i === undefined) return;
      var last = this._ids.length - 1, moved = this._ids[last];
      this._ids[i] = moved; this._lat[i] = this._lat[last]; this._lon[i] = this._lon[last];
      this._colour[i] = this._colour[last]; this._ring[i] = this._ring[last]; this._at[moved] = i;
      if (this._x && last < this._x.length) { this._x[i] = this._x[last]; this._y[i] = this._y[last]; }
      this._ids.pop(); this._lat.pop(); this._lon.pop(); this._colour.pop(); this._ring.pop();
      delete this._at[id];
      this._redrawSoon();
    },
    count: function () { return this._ids.length; },
    _redrawSoon: function () {
      if (this._frame || !this._map) return;
      var self = this;
      this._frame = L.Util.requestAnimFrame(function () { self._frame = null; self._draw(); });
    },
    _draw: function () {
      var map = this._map; if (!map) return;
      var size = map.getSize(), canvas = this._canvas, ratio = window.devicePixelRatio || 1;
      L.DomUtil.setPosition(canvas, map.containerPointToLayerPoint([0, 0]));
      var ctx = canvas.getContext("2d");
      if (canvas.width !== size.x * ratio || canvas.height !== size.y * ratio) {  // a new bitmap only on resize
        canvas.width = size.x * ratio; canvas.height = size.y * ratio;
        canvas.style.width = size.x + "px"; canvas.style.height = size.y + "px";
      }
      ctx.setTransform(1, 0, 0, 1, 0, 0); ctx.clearRect(0, 0, canvas.width, canvas.height);
      ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
      var n = this._ids.length, x = new Float32Array(n), y = new Float32Array(n), groups = {};
      var r = this._opt.radius, w = this._opt.weight, edge = r + w + 1;
      // Project by hand from one origin: latLngToContainerPoint per dot made arrays and
      // points by the ten thousand on every pan.
      var origin = map.getPixelOrigin(), pane = map._getMapPanePos(), zoom = map.getZoom();
      var dx = pane.x - origin.x, dy = pane.y - origin.y;
      for (var i = 0; i < n; i++) {
        var p = map.project([this._lat[i], this._lon[i]], zoom);
        x[i] = p.x + dx; y[i] = p.y + dy;
        if (x[i] < -edge || y[i] < -edge || x[i] > size.x + edge || y[i] > size.y + edge) continue;
        var key = this._colour[i] + "|" + this._ring[i];
        (groups[key] = groups[key] || []).push(i);
      }
      this._x = x; this._y = y;
      ctx.lineWidth = w;
      Object.keys(groups).forEach(function (key) {
        var c = key.split("|");
        ctx.beginPath();
        groups[key].forEach(function (k) { ctx.moveTo(x[k] + r, y[k]); ctx.arc(x[k], y[k], r, 0, 2 * Math.PI); });
        ctx.globalAlpha = 0.85; ctx.fillStyle = c[0]; ctx.fill();
        ctx.globalAlpha = 1; ctx.strokeStyle = c[1]; ctx.stroke();
      });
    },
    pick: function (point) {  // {id, d2} of the nearest dot within a few pixels of `point`, or null
      if (!this._x) return null;
      var best = -1, bestD = PICK_PX * PICK_PX, px = point.x, py = point.y;
      for (var i = 0; i < this._ids.length && i < this._x.length; i++) {
        var dx = this._x[i] - px, dy = this._y[i] - py, d = dx * dx + dy * dy;
        if (d <= bestD) { bestD = d; best = i; }
      }
      return best >= 0 ? { id: this._ids[best], d2: bestD } : null;
    }
  });
  window.wangge = window.wangge || {};
  window.wangge.Dots = Dots;
})();
