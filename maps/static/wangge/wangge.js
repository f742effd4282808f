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

  /* A neutral count circle (white, dark edge, sized by count): it never takes a colour a
   * legend gives a meaning (the plugin's default green/yellow/orange would). */
  function countIcon(n, d) {
    var el = document.createElement("div");
    el.className = "wg-count";
    el.style.width = el.style.height = d + "px";
    el.textContent = String(n);
    return L.divIcon({ html: el, className: "wg-count-icon", iconSize: [d, d] });
  }
  function clusterIcon(cluster) {
    var n = cluster.getChildCount();
    return countIcon(n, n < 10 ? 24 : n < 100 ? 30 : 38);
  }
  wangge.countIcon = countIcon;
  wangge.clusterIcon = clusterIcon;

  /* spec: {name, rows: [[lat, lon, count, tooltip text]], max}: one count circle per area. */
  wangge.countLayer = function (spec) {
    var group = L.featureGroup();
    spec.rows.forEach(function (row) {
      var d = Math.round(20 + 22 * Math.sqrt(row[2] / Math.max(spec.max, 1)));
      var marker = L.marker([row[0], row[1]], { icon: countIcon(row[2], d), keyboard: false });
      marker.bindTooltip(function () {
        var span = document.createElement("span");
        span.textContent = String(row[3]);
        return span;
      });
      group.addLayer(marker);
    });
    return wangge.register(spec.name, group, spec.rows.length);
  };

  /* spec: {name, cluster, rows: [[lat, lon, styleIndex, field...]], fields, aliases, title,
   *        styles: [{radius, color, weight, fillColor, fillOpacity}], popup, tooltip} */
  wangge.pointLayer = function (spec) {
    var group = spec.cluster ? L.markerClusterGroup({
      chunkedLoading: true, disableClusteringAtZoom: 17, iconCreateFunction: clusterIcon
    }) : L.featureGroup();
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

/* The resident map's services tab: search the catalogue, see what to bring, book the
 * nearest free slot, cancel it, follow a proxy request.  Same-origin fetches only;
 * every text from the service goes in with textContent. */
(function () {
  "use strict";
  var wangge = (window.wangge = window.wangge || {});

  function el(tag, text, cls) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (cls) node.className = cls;
    return node;
  }
  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }
  function local(iso) {
    var d = new Date(iso);
    return d.toLocaleString("zh-CN", { timeZone: "Asia/Shanghai", month: "2-digit", day: "2-digit",
                                       hour: "2-digit", minute: "2-digit" });
  }
  function getJSON(url, headers) {
    return fetch(url, { headers: headers || {} }).then(function (r) {
      return r.json().then(function (body) { return { ok: r.ok, body: body }; });
    });
  }
  function postJSON(url, body, headers) {
    var h = { "Content-Type": "application/json" };
    Object.keys(headers || {}).forEach(function (k) { h[k] = headers[k]; });
    return fetch(url, { method: "POST", headers: h, body: JSON.stringify(body || {}) })
      .then(function (r) { return r.json().then(function (b) { return { ok: r.ok, body: b }; }); });
  }

  function showBooking(out, appt, token) {
    clear(out);
    out.appendChild(el("div", "预约成功 booked #" + appt.id + " · " + appt.service_point + " · " +
                       local(appt.starts_at), "wg-svc-ok"));
    var cancel = el("button", "取消预约 cancel", "wg-svc-cancel");
    cancel.addEventListener("click", function () {
      postJSON("/services/appointments/" + appt.id + "/cancel", {},
               { "X-Appointment-Token": token }).then(function (r) {
        out.appendChild(el("div", r.ok ? "已取消 cancelled" : (r.body.detail || "error"),
                           r.ok ? "wg-svc-cancelled" : "wg-svc-error"));
        cancel.disabled = true;
      });
    });
    out.appendChild(cancel);
  }

  function showItem(out, item, lon, lat) {
    clear(out);
    out.appendChild(el("div", item.name, "wg-svc-title"));
    out.appendChild(el("div", "请携带 bring: " + item.materials.map(function (m) {
      return m.name; }).join("、")));
    out.appendChild(el("div", "时限 " + item.time_limit_days + " 个工作日 · " +
                       (item.online ? "可全程网办 online" : "需到站办理")));
    if (!item.bookable) { out.appendChild(el("div", "不可预约 not bookable")); return; }
    var list = el("div", "正在查找最近的服务站… searching…");
    out.appendChild(list);
    getJSON("/services/" + encodeURIComponent(item.code) + "/nearest?lon=" + lon + "&lat=" + lat)
      .then(function (r) {
        clear(list);
        if (!r.ok) { list.appendChild(el("div", r.body.detail, "wg-svc-error")); return; }
        list.appendChild(el("div", "直线距离 straight-line distance"));
        r.body.points.forEach(function (p) {
          var row = el("div", p.name + " · " + Math.round(p.distance_m) + " m", "wg-svc-point");
          p.next_free_slots.forEach(function (s) {
            var b = el("button", local(s.starts_at) + " (" + s.free + ")", "wg-svc-slot");
            b.addEventListener("click", function () {
              postJSON("/services/appointments", {
                item: item.code, service_point: p.code, starts_at: s.starts_at,
                materials: item.materials.map(function (m) { return m.code; })
              }).then(function (res) {
                if (res.ok) { showBooking(out, res.body, res.body.appointment_token); }
                else { out.appendChild(el("div", res.body.detail, "wg-svc-error")); }
              });
            });
            row.appendChild(b);
          });
          list.appendChild(row);
        });
      });
  }

  function follow(box) {
    var id = box.querySelector(".wg-svc-pid").value, token = box.querySelector(".wg-svc-ptok").value;
    var out = box.querySelector(".wg-svc-out");
    getJSON("/services/proxy/" + encodeURIComponent(id), { "X-Proxy-Token": token })
      .then(function (r) {
        clear(out);
        if (!r.ok) { out.appendChild(el("div", r.body.detail, "wg-svc-error")); return; }
        out.appendChild(el("div", r.body.item.name + ": " + r.body.status, "wg-svc-title"));
        r.body.events.forEach(function (e) {  /* each step and its limit on working days */
          var due = e.due_at ? " · 时限 due " + local(e.due_at) : "";
          out.appendChild(el("div", local(e.at) + " → " + e.to_status + due, "wg-svc-step"));
        });
        if (r.body.due_at) {
          out.appendChild(el("div", "本环节时限 Due by " + local(r.body.due_at), "wg-svc-pdue"));
        }
      });
  }

  wangge.servicesPanel = function (boxId, lon, lat) {
    var box = document.getElementById(boxId);
    if (!box) return;
    var body = box.querySelector(".wg-svc-body"), out = box.querySelector(".wg-svc-out");
    if (window.innerWidth < 600) body.style.display = "none";  /* a phone: the tab starts closed */
    box.querySelector(".wg-svc-toggle").addEventListener("click", function () {
      body.style.display = body.style.display === "none" ? "" : "none";
    });
    box.querySelector(".wg-svc-follow").addEventListener("click", function () { follow(box); });
    box.querySelector(".wg-svc-go").addEventListener("click", function () {
      var q = box.querySelector(".wg-svc-q").value;
      getJSON("/services/items?bookable=true&limit=10&q=" + encodeURIComponent(q))
        .then(function (r) {
          clear(out);
          if (!r.ok) { out.appendChild(el("div", r.body.detail, "wg-svc-error")); return; }
          out.appendChild(el("div", r.body.total + " 项 items"));
          r.body.items.forEach(function (item) {
            var b = el("button", item.name, "wg-svc-item");
            b.addEventListener("click", function () { showItem(out, item, lon, lat); });
            out.appendChild(b);
          });
        });
    });
  };
})();

/* Legible pages: panels fold to their title, the district is fitted around the panels, and a
 * legend shows only while one of the layers it explains is on.  Text goes in as textContent. */
(function () {
  "use strict";
  var wangge = (window.wangge = window.wangge || {});
  var NARROW = 700; /* px: below this, panels start folded so the map stays visible */

  wangge.foldable = function (div, map) {
    var title = div.querySelector("h4");
    var label = title ? title.textContent : "";
    var button = document.createElement("button");
    button.type = "button";
    button.className = "wg-fold";
    function set(folded) {
      div.classList.toggle("wg-folded", folded);
      button.setAttribute("aria-expanded", folded ? "false" : "true");
      button.textContent = folded ? "▸ " + label : "▾";
      button.title = folded ? "展开 unfold" : "收起 fold";
    }
    button.addEventListener("click", function () {
      set(!div.classList.contains("wg-folded"));
    });
    div.insertBefore(button, div.firstChild);
    set(!!(map && map.getSize().x < NARROW));
  };

  function widest(map, corner) {
    var w = 0;
    map.getContainer().querySelectorAll(corner + " .leaflet-control").forEach(function (c) {
      if (c.offsetParent !== null) w = Math.max(w, c.offsetWidth);
    });
    return w;
  }

  /* Fit bounds padded by the panels of the left and right corners (dropped on a small screen,
   * where the panels start folded instead). */
  wangge.fitAround = function (map, fit) {
    if (!fit || !fit.bounds) return;
    var size = map.getSize(), left = widest(map, ".leaflet-left") + 12;
    var right = widest(map, ".leaflet-right") + 12;
    if (left + right > size.x * 0.6) { left = 12; right = 12; }
    var options = { paddingTopLeft: [left, 12], paddingBottomRight: [right, 12] };
    if (fit.maxZoom) options.maxZoom = fit.maxZoom;
    map.fitBounds(fit.bounds, options);
  };

  /* Legends with data-layers show while one of those layers (by control name) is on. */
  wangge.followLegends = function (map, control) {
    if (!control || !control._layers) return;
    var byName = {};
    control._layers.forEach(function (entry) { byName[entry.name] = entry.layer; });
    var legends = map.getContainer().querySelectorAll(".wg-legend[data-layers]");
    function update() {
      legends.forEach(function (legend) {
        var names = legend.getAttribute("data-layers").split("\n");
        var known = names.filter(function (n) { return byName[n]; });
        var on = known.length === 0 || known.some(function (n) { return map.hasLayer(byName[n]); });
        legend.hidden = !on;
        legend.classList.toggle("wg-off", !on);
      });
      map.getContainer().querySelectorAll(".wg-panel").forEach(function (panel) {
        var parts = panel.querySelectorAll(".wg-legend[data-layers]");
        if (!parts.length) return;
        var shown = Array.prototype.some.call(parts, function (p) { return !p.hidden; });
        var other = panel.querySelector(".wg-legend:not([data-layers])");
        panel.hidden = !shown && !other;
      });
    }
    map.on("overlayadd overlayremove", update);
    update();
  };

  wangge.legible = function (map, fit, control) {
    if (control && map.getSize().x < NARROW) {
      /* On a phone the open layer list would cover the panels' fold buttons: make it the
       * usual layers icon (rebuilt, as Leaflet sets up its toggle only when it is added). */
      control.remove();
      control.options.collapsed = true;
      control.addTo(map);
    }
    wangge.followLegends(map, control);
    wangge.fitAround(map, fit);
  };
})();

/* Street and community names on the map from a zoom on (a resident finds their street without
 * a basemap); names go in as textContent. */
(function () {
  "use strict";
  var wangge = (window.wangge = window.wangge || {});
  /* spec: {rows: [[lat, lon, name, minZoom, maxZoom, className]]} */
  wangge.areaLabels = function (map, spec) {
    var markers = spec.rows.map(function (row) {
      var el = document.createElement("span");
      el.textContent = String(row[2]);
      var icon = L.divIcon({ html: el, className: "wg-area-label " + row[5], iconSize: null });
      return { marker: L.marker([row[0], row[1]], { icon: icon, interactive: false,
                                                    keyboard: false }), min: row[3], max: row[4] };
    });
    function update() {
      var z = map.getZoom();
      markers.forEach(function (m) {
        var on = z >= m.min && z < m.max;
        if (on && !map.hasLayer(m.marker)) m.marker.addTo(map);
        if (!on && map.hasLayer(m.marker)) map.removeLayer(m.marker);
      });
    }
    map.on("zoomend", update);
    update();
  };
})();
