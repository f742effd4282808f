/* The offline base map: the district's own courtyards and buildings, drawn at street zoom
 * from the service's vector tiles (/ogc/collections/{c}/tiles/WebMercatorQuad/{z}/{y}/{x}).
 * Used when no tile URL is configured, so a page on an intranet still shows where things are.
 * A small Mapbox-vector-tile reader (protobuf, geometry commands) and a canvas GridLayer:
 * no third-party renderer, no request leaves the service.  Only geometry is read from the
 * tiles; no property is ever put into the page. */
(function () {
  "use strict";
  var wangge = (window.wangge = window.wangge || {});

  function Reader(bytes) { this.b = bytes; this.p = 0; }
  Reader.prototype.varint = function () {
    var b = this.b, v = 0, s = 1, x;
    do { x = b[this.p++]; v += (x & 0x7f) * s; s *= 128; } while (x >= 0x80);
    return v;
  };
  Reader.prototype.skip = function (wire) {
    if (wire === 0) this.varint();
    else if (wire === 1) this.p += 8;
    else if (wire === 2) { var n = this.varint(); this.p += n; } /* read n before p */
    else if (wire === 5) this.p += 4;
    else throw new Error("unknown protobuf wire type " + wire);
  };
  /* Calls fn(field, wire) for each field up to `end`; fn returns true if it read the value. */
  Reader.prototype.fields = function (end, fn) {
    while (this.p < end) {
      var tag = this.varint(), field = Math.floor(tag / 8), wire = tag & 7;
      if (!fn(field, wire)) this.skip(wire);
    }
  };

  function zigzag(n) { return (n >>> 1) ^ -(n & 1); }

  /* Geometry commands (MoveTo 1, LineTo 2, ClosePath 7) → flat rings [x0, y0, x1, y1, ...]. */
  function geometry(r, end) {
    var rings = [], ring = null, x = 0, y = 0;
    while (r.p < end) {
      var c = r.varint(), id = c & 7, n = c >>> 3;
      if (id === 7) continue;
      for (var i = 0; i < n; i++) {
        x += zigzag(r.varint()); y += zigzag(r.varint());
        if (id === 1 || !ring) { ring = []; rings.push(ring); }
        ring.push(x, y);
      }
    }
    return rings;
  }

  function feature(r, end) {
    var f = { type: 0, rings: [] };
    r.fields(end, function (field, wire) {
      if (field === 3 && wire === 0) { f.type = r.varint(); return true; }
      if (field === 4 && wire === 2) { var n = r.varint(); f.rings = geometry(r, r.p + n); return true; }
      return false;
    });
    return f;
  }

  function layer(r, end) {
    var l = { extent: 4096, features: [] };
    r.fields(end, function (field, wire) {
      if (field === 2 && wire === 2) {
        var n = r.varint(); l.features.push(feature(r, r.p + n)); return true;
      }
      if (field === 5 && wire === 0) { l.extent = r.varint(); return true; }
      return false;
    });
    return l;
  }

  /* An MVT (ArrayBuffer) → [{extent, features: [{type, rings}]}]. */
  wangge.decodeMVT = function (buffer) {
    var r = new Reader(new Uint8Array(buffer)), layers = [];
    r.fields(r.b.length, function (field, wire) {
      if (field === 3 && wire === 2) { var n = r.varint(); layers.push(layer(r, r.p + n)); return true; }
      return false;
    });
    return layers;
  };

  /* Lines and polygons of one tile's layers into a canvas context; returns features drawn. */
  function draw(ctx, layers, style, size) {
    var drawn = 0;
    layers.forEach(function (l) {
      var k = size / l.extent;
      ctx.beginPath();
      l.features.forEach(function (f) {
        if (f.type !== 2 && f.type !== 3) return; /* points are not part of the base map */
        f.rings.forEach(function (ring) {
          ctx.moveTo(ring[0] * k, ring[1] * k);
          for (var i = 2; i < ring.length; i += 2) ctx.lineTo(ring[i] * k, ring[i + 1] * k);
          if (f.type === 3) ctx.closePath();
        });
        drawn++;
      });
      if (style.fill) { ctx.fillStyle = style.fill; ctx.fill(); }
      if (style.stroke) {
        ctx.strokeStyle = style.stroke; ctx.lineWidth = style.weight || 1; ctx.stroke();
      }
    });
    return drawn;
  }

  function tileUrl(template, id, coords) {
    return template.replace("{c}", encodeURIComponent(id)).replace("{z}", coords.z)
      .replace("{y}", coords.y).replace("{x}", coords.x);
  }

  /* spec: {name, url ("…/{c}/tiles/WebMercatorQuad/{z}/{y}/{x}"), minZoom,
   *        layers: [{id, minzoom, fill, stroke, weight}] drawn in this order}.
   * window.wanggeBase counts tiles and features drawn (the browser tests read it). */
  wangge.baseLayer = function (spec) {
    var stats = (window.wanggeBase = { tiles: 0, features: 0, failed: 0, idle: false });
    var Base = L.GridLayer.extend({
      createTile: function (coords, done) {
        var tile = L.DomUtil.create("canvas", "wg-base-tile");
        var size = this.getTileSize(), ratio = window.devicePixelRatio || 1;
        tile.width = size.x * ratio; tile.height = size.y * ratio;
        var wanted = spec.layers.filter(function (l) { return coords.z >= l.minzoom; });
        Promise.all(wanted.map(function (l) {
          return fetch(tileUrl(spec.url, l.id, coords), { credentials: "same-origin" })
            .then(function (r) { return r.status === 200 ? r.arrayBuffer() : null; });
        })).then(function (buffers) {
          var ctx = tile.getContext("2d");
          ctx.scale(ratio, ratio);
          buffers.forEach(function (buf, i) {
            if (buf) stats.features += draw(ctx, wangge.decodeMVT(buf), wanted[i], size.x);
          });
          stats.tiles++;
          done(null, tile);
        }).catch(function (err) { stats.failed++; stats.error = String(err); done(null, tile); });
        return tile;
      }
    });
    var base = new Base({ minZoom: spec.minZoom, maxZoom: 22, updateWhenZooming: false,
                          keepBuffer: 1, className: "wg-base" });
    /* idle: every tile in view is drawn (GridLayer's load event) */
    base.on("loading", function () { stats.idle = false; });
    base.on("load", function () { stats.idle = true; });
    return wangge.register(spec.name, base, 0);
  };
})();
