/* The board's plain cases as one canvas of dots: wangge.Dots, a Leaflet layer.
 *
 * Why not a circleMarker per case: at ten times the demo's open cases (33,000) the
 * board spent most of its first load creating Leaflet objects (options, events,
 * projections) and collecting their garbage.  Here a case is four numbers in
 * arrays; a redraw projects them and fills one path per colour, and a click finds
 * the nearest dot within a few pixels.  Cases with an alarm, a supervision ring or
 * the selection keep their own markers on top (board.js), so they can blink.
 * Redraws are batched to one per animation frame; the canvas is hidden while the
 * map zooms and redrawn when it settles.
 */
(function () {
  "use strict";
  var PICK_PX = 7;

  var Dots = L.Layer.extend({
    initialize: function (onPick) {
      this._onPick = onPick;
      this._at = {};  // id → index in the arrays
      this._ids = []; this._lat = []; this._lon = []; this._colour = [];
      this._x = null; this._y = null;  // container pixels of the last draw
      this._frame = null;
    },
    onAdd: function (map) {
      this._canvas = L.DomUtil.create("canvas", "wg-dots leaflet-zoom-hide");
      map.getPanes().overlayPane.appendChild(this._canvas);
      map.on("moveend zoomend resize viewreset", this._redrawSoon, this);
      map.on("click", this._click, this);
      this._redrawSoon();
    },
    onRemove: function (map) {
      map.off("moveend zoomend resize viewreset", this._redrawSoon, this);
      map.off("click", this._click, this);
      L.DomUtil.remove(this._canvas);
    },
    set: function (id, lat, lon, colour) {
      var i = this._at[id];
      if (i === undefined) { i = this._at[id] = this._ids.length; this._ids.push(id); }
      this._lat[i] = lat; this._lon[i] = lon; this._colour[i] = colour;
      this._redrawSoon();
    },
    remove: function (id) {  // the last dot moves into the hole: removal stays O(1)
      var i = this._at[id]; if (i === undefined) return;
      var last = this._ids.length - 1, moved = this._ids[last];
      this._ids[i] = moved; this._lat[i] = this._lat[last]; this._lon[i] = this._lon[last];
      this._colour[i] = this._colour[last]; this._at[moved] = i;
      if (this._x && last < this._x.length) { this._x[i] = this._x[last]; this._y[i] = this._y[last]; }
      this._ids.pop(); this._lat.pop(); this._lon.pop(); this._colour.pop();
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
      canvas.width = size.x * ratio; canvas.height = size.y * ratio;
      canvas.style.width = size.x + "px"; canvas.style.height = size.y + "px";
      var ctx = canvas.getContext("2d");
      ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
      var n = this._ids.length, x = new Float32Array(n), y = new Float32Array(n), byColour = {};
      for (var i = 0; i < n; i++) {
        var p = map.latLngToContainerPoint([this._lat[i], this._lon[i]]);
        x[i] = p.x; y[i] = p.y;
        if (p.x < -6 || p.y < -6 || p.x > size.x + 6 || p.y > size.y + 6) continue;
        (byColour[this._colour[i]] = byColour[this._colour[i]] || []).push(i);
      }
      this._x = x; this._y = y;
      ctx.globalAlpha = 0.85; ctx.lineWidth = 1;
      Object.keys(byColour).forEach(function (colour) {
        ctx.beginPath();
        byColour[colour].forEach(function (k) { ctx.moveTo(x[k] + 5, y[k]); ctx.arc(x[k], y[k], 5, 0, 2 * Math.PI); });
        ctx.fillStyle = colour; ctx.strokeStyle = colour; ctx.fill(); ctx.stroke();
      });
    },
    _click: function (e) {
      if (!this._x) return;
      var best = -1, bestD = PICK_PX * PICK_PX, px = e.containerPoint.x, py = e.containerPoint.y;
      for (var i = 0; i < this._ids.length; i++) {
        var dx = this._x[i] - px, dy = this._y[i] - py, d = dx * dx + dy * dy;
        if (d <= bestD) { bestD = d; best = i; }
      }
      if (best >= 0) this._onPick(this._ids[best]);
    }
  });
  window.wangge = window.wangge || {};
  window.wangge.Dots = Dots;
})();
