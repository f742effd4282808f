/* wangge map helpers: compact polygon layers, safe tooltips, a registry for tests.
 * Served by the service under /static/wangge/ (no CDN). Text from data is put into the
 * page with textContent only, never innerHTML. */
(function () {
  "use strict";
  var wangge = (window.wangge = window.wangge || {});
  window.wanggeLayers = window.wanggeLayers || {};

  wangge.register = function (name, layer, count) {
    window.wanggeLayers[name] = { layer: layer, count: count };
    return layer;
  };

  function decodeRing(flat, origin, scale) {
    var out = [], x = origin[0], y = origin[1];
    for (var i = 0; i < flat.length; i += 2) {
      x += flat[i]; y += flat[i + 1];
      out.push([y / scale, x / scale]);
    }
    return out;
  }

  function colourOf(style, value) {
    if (value === null || value === undefined) return style.missing || "#cccccc";
    var k = 0;
    while (k < style.breaks.length && value >= style.breaks[k]) k++;
    return style.colors[k];
  }

  function tooltipNode(spec, props, i) {
    var table = document.createElement("table");
    table.className = "wg-tooltip";
    spec.tooltip.fields.forEach(function (field, j) {
      var tr = document.createElement("tr");
      var th = document.createElement("th");
      var td = document.createElement("td");
      th.textContent = spec.tooltip.aliases[j];
      var v = props[field][i];
      td.textContent = v === null || v === undefined ? "" : String(v);
      tr.appendChild(th); tr.appendChild(td); table.appendChild(tr);
    });
    return table;
  }

  /* spec: {scale, origin, features: [[ring, ...] per polygon] per feature, props: {field: [..]},
   *        style: {field, breaks, colors, weight, opacity, fillOpacity, color}, tooltip, name} */
  wangge.compactLayer = function (spec) {
    var group = L.featureGroup();
    var renderer = spec.canvas ? L.canvas({ padding: 0.5 }) : undefined;
    spec.features.forEach(function (polys, i) {
      var latlngs = polys.map(function (rings) {
        return rings.map(function (r) { return decodeRing(r, spec.origin, spec.scale); });
      });
      var value = spec.style.field ? spec.props[spec.style.field][i] : null;
      var fill = spec.style.field ? colourOf(spec.style, value) : spec.style.fillColor;
      var shape = L.polygon(latlngs, {
        renderer: renderer, color: spec.style.color || "#555555", weight: spec.style.weight || 1,
        opacity: spec.style.opacity || 0.8, fillColor: fill,
        fillOpacity: spec.style.fillOpacity === undefined ? 0.6 : spec.style.fillOpacity
      });
      if (spec.tooltip) {
        shape.bindTooltip(function () { return tooltipNode(spec, spec.props, i); }, { sticky: true });
      }
      group.addLayer(shape);
    });
    return wangge.register(spec.name, group, spec.features.length);
  };

  function popupNode(spec, row) {
    var div = document.createElement("div");
    div.className = "wg-popup";
    if (spec.title !== undefined) {
      var b = document.createElement("b");
      b.textContent = String(row[spec.title]);
      div.appendChild(b);
    }
    var table = document.createElement("table");
    spec.fields.forEach(function (field, j) {
      if (j < 3) return; /* lat, lon, style */
      var tr = document.createElement("tr");
      var th = document.createElement("th");
      var td = document.createElement("td");
      th.textContent = spec.aliases[j];
      td.textContent = row[j] === null || row[j] === undefined ? "" : String(row[j]);
      tr.appendChild(th); tr.appendChild(td); table.appendChild(tr);
    });
    div.appendChild(table);
    return div;
  }

  /* spec: {name, cluster, rows: [[lat, lon, styleIndex, field...]], fields, aliases, title,
   *        styles: [{radius, color, weight, fillColor, fillOpacity}], popup, tooltip} */
  wangge.pointLayer = function (spec) {
    var group = spec.cluster ? L.markerClusterGroup({ chunkedLoading: true }) : L.featureGroup();
    var renderer = L.canvas({ padding: 0.5 });
    spec.rows.forEach(function (row) {
      var st = spec.styles[row[2]];
      var marker = L.circleMarker([row[0], row[1]], {
        renderer: renderer, radius: st.radius, color: st.color, weight: st.weight,
        fillColor: st.fillColor, fillOpacity: st.fillOpacity, fill: true
      });
      if (spec.popup) marker.bindPopup(function () { return popupNode(spec, row); }, { maxWidth: 360 });
      if (spec.tooltip !== undefined) {
        marker.bindTooltip(function () {
          var span = document.createElement("span");
          span.textContent = String(row[spec.tooltip]);
          return span;
        });
      }
      group.addLayer(marker);
    });
    return wangge.register(spec.name, group, spec.rows.length);
  };

  /* The browser's location for the resident page, when no point was given. */
  wangge.locateMe = function (pageUrl, messageId) {
    var box = document.getElementById(messageId);
    if (!navigator.geolocation) { if (box) box.textContent = "无法获取位置 / location unavailable"; return; }
    navigator.geolocation.getCurrentPosition(function (pos) {
      var u = new URL(pageUrl, window.location.href);
      u.searchParams.set("lon", pos.coords.longitude.toFixed(6));
      u.searchParams.set("lat", pos.coords.latitude.toFixed(6));
      u.searchParams.set("crs", "wgs84");
      window.location.assign(u.toString());
    }, function () { if (box) box.textContent = "无法获取位置 / location unavailable"; },
    { timeout: 5000 });
  };
})();
