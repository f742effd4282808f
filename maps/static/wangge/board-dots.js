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
 *
 * A dot is a copy of a small sprite (one per fill and ring), not an arc: without a GPU
 * Chromium rasterises every arc's anti-aliased edge in software, and 32,000 of them
 * were a third of the board's first-load CPU; a sprite copy at whole pixels is a blit.
 * (Blending the sprites into one buffer in JS and putting it once was slower still.)
 * `hold(true)` defers drawing (the board holds while its parts arrive, so it draws once,
 * in the fitted view); `whenDrawn(f)` calls f once the pending draw is on the canvas.
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
      this._kind = []; this._kinds = {}; this._kindList = [];  // dot → index of its (fill, ring)
      this._x = null; this._y = null;  // container pixels of the last draw
      this._frame = null; this._held = false; this._waiting = []; this._sprites = {};
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
      var key = colour + "|" + this._ring[i], k = this._kinds[key];
      if (k === undefined) { k = this._kinds[key] = this._kindList.length; this._kindList.push([colour, this._ring[i]]); }
      this._kind[i] = k;
      this._redrawSoon();
    },
    remove: function (id) {  // the last dot moves into the hole: removal stays O(1)
      var i = this._at[id]; if (i === undefined) return;
      var last = this._ids.length - 1, moved = this._ids[last];
      this._ids[i] = moved; this._lat[i] = this._lat[last]; this._lon[i] = this._lon[last];
      this._colour[i] = this._colour[last]; this._ring[i] = this._ring[last]; this._at[moved] = i;
      this._kind[i] = this._kind[last];
      if (this._x && last < this._x.length) { this._x[i] = this._x[last]; this._y[i] = this._y[last]; }
      this._ids.pop(); this._lat.pop(); this._lon.pop(); this._colour.pop(); this._ring.pop(); this._kind.pop();
      delete this._at[id];
      this._redrawSoon();
    },
    count: function () { return this._ids.length; },
    hold: function (on) { this._held = !!on; if (!on) this._redrawSoon(); return this; },
    whenDrawn: function (f) { if (this._frame || this._held) this._waiting.push(f); else f(); },
    _redrawSoon: function () {
      if (this._frame || this._held || !this._map) return;
      var self = this;
      this._frame = L.Util.requestAnimFrame(function () {
        self._frame = null; self._draw();
        var waiting = self._waiting; self._waiting = [];
        waiting.forEach(function (f) { f(); });
      });
    },
    _sprite: function (fill, ring, ratio) {  // one dot drawn once, copied for every dot of its kind
      var key = fill + "|" + ring + "|" + ratio, s = this._sprites[key];
      if (s) return s;
      var r = this._opt.radius, w = this._opt.weight, half = Math.ceil(r + w / 2 + 1);
      s = this._sprites[key] = document.createElement("canvas");
      s.width = s.height = 2 * half * ratio; s.half = half;
      var ctx = s.getContext("2d");
      ctx.scale(ratio, ratio); ctx.beginPath(); ctx.arc(half, half, r, 0, 2 * Math.PI);
      ctx.globalAlpha = 0.85; ctx.fillStyle = fill; ctx.fill();
      ctx.globalAlpha = 1; ctx.lineWidth = w; ctx.strokeStyle = ring; ctx.stroke();
      return s;
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
      var n = this._ids.length, x = new Float32Array(n), y = new Float32Array(n);
      var edge = this._opt.radius + this._opt.weight + 1;
      // Project by hand (Leaflet's spherical Mercator, written out) from one origin:
      // map.project per dot made a LatLng and a Point for each of 32,000 dots on every draw.
      var origin = map.getPixelOrigin(), pane = map._getMapPanePos();
      var scale = 256 * Math.pow(2, map.getZoom()), MAX = 85.0511287798, D = Math.PI / 180;
      var dx = pane.x - origin.x, dy = pane.y - origin.y, kinds = this._kindList, sprites = [];
      for (var i = 0; i < n; i++) {
        var lat = Math.max(Math.min(this._lat[i], MAX), -MAX), sin = Math.sin(lat * D);
        x[i] = scale * (0.5 + this._lon[i] / 360) + dx;
        y[i] = scale * (0.5 - Math.log((1 + sin) / (1 - sin)) / (4 * Math.PI)) + dy;
        if (x[i] < -edge || y[i] < -edge || x[i] > size.x + edge || y[i] > size.y + edge) continue;
        var k = this._kind[i], sprite = sprites[k];
        if (!sprite) sprite = sprites[k] = this._sprite(kinds[k][0], kinds[k][1], ratio);
        ctx.drawImage(sprite, Math.round((x[i] - sprite.half) * ratio), Math.round((y[i] - sprite.half) * ratio));
      }
      this._x = x; this._y = y;
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
