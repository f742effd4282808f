/* /dashboard: the leader's wall.  Reads /dashboard/figures (every chart as a small table:
 * columns and rows), draws one card per chart with ECharts (numbers on hover; a CSV link
 * to /dashboard/figures/<id>.csv, the same table), the hotspot cells on a small Leaflet
 * map, then follows /dashboard/stream: a `changed` push refetches the figures, at most
 * once every few seconds (debounced).  Text from data reaches the page through
 * textContent, or through ECharts' tooltips, which escape it. */
(function () {
  "use strict";
  function $(id) { return document.getElementById(id); }
  var root = $("wg-dash"), charts = {}, hotMap = null, hotLayer = null;
  var state = window.wanggeDashboard = { loads: 0, pushes: 0, rendered: 0, ids: [] };
  var DEBOUNCE_MS = 3000, PALETTE = ["#1f6fd1", "#f0a500", "#c0392b", "#138d4b", "#8e44ad", "#0e9aa7"];

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", cache: "no-store" }).then(function (r) {
      return r.json().then(function (b) { if (!r.ok) throw b; return b; });
    });
  }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function card(c) {
    var box = el("section", "wg-card"), head = el("div", "wg-card-head");
    box.id = "wg-card-" + c.id; box.setAttribute("data-chart", c.id);
    head.appendChild(el("h2", null, c.title));
    var a = el("a", "wg-csv", "CSV 下载 download");
    a.href = "/dashboard/figures/" + encodeURIComponent(c.id) + ".csv";
    a.setAttribute("download", c.id + ".csv");
    head.appendChild(a);
    box.appendChild(head);
    box.appendChild(el("p", "wg-card-note"));
    var plot = el("div", "wg-plot"); plot.id = "wg-plot-" + c.id;
    plot.setAttribute("role", "img"); plot.setAttribute("aria-label", c.title);
    box.appendChild(plot);
    root.appendChild(box);
    return plot;
  }
  function col(c, i) { return c.rows.map(function (r) { return r[i]; }); }
  function tooltipUnit(c) { return { trigger: "axis", valueFormatter: function (v) { return v === null || v === undefined ? "—" : v + " " + c.unit; } }; }

  function option(c) {
    var base = { color: PALETTE, animation: false, grid: { left: 48, right: 16, top: 36, bottom: 40 }, legend: { top: 0 } };
    if (c.kind === "pie") {
      base.tooltip = { trigger: "item", formatter: "{b}: {c} 件 ({d}%)" };
      base.legend = { show: false };
      base.series = [{ type: "pie", radius: ["35%", "68%"], label: { formatter: function (p) { return p.name.split(" ")[0] + "\n" + p.value; } },
        data: c.rows.filter(function (r) { return r[2] > 0; }).map(function (r) { return { name: r[1], value: r[2] }; }) }];
      return base;
    }
    var labels = c.id === "levels_by_street" ? col(c, 1) : col(c, 0);
    var first = c.id === "levels_by_street" ? 2 : 1;
    var last = c.id === "levels_by_street" ? 4 : c.id === "rework" ? 1 : c.id === "cameras" ? 1 : c.columns.length - 1;
    var series = [];
    for (var i = first; i <= last; i++) {
      series.push({ name: c.columns[i], type: c.kind === "line" ? "line" : "bar", data: col(c, i), connectNulls: false,
        stack: c.kind === "stacked" ? "levels" : undefined, label: { show: c.kind === "bar", position: "top" } });
    }
    base.tooltip = tooltipUnit(c);
    base.xAxis = { type: "category", data: labels, axisLabel: { interval: 0, rotate: labels.length > 4 ? 30 : 0, fontSize: 10 } };
    base.yAxis = { type: "value", max: c.unit === "%" ? 100 : undefined };
    base.series = series;
    if (c.id === "cameras" && c.key_places_target !== null && c.key_places_target !== undefined) {
      series[0].markLine = { symbol: "none", data: [{ yAxis: c.key_places_target, name: "国标 target" }], label: { position: "insideEndTop", formatter: "国标 target {c} %" } };
    }
    if (labels.length > 4) base.grid.bottom = 70;
    return base;
  }
  function note(c) {
    if (c.id === "satisfaction") return "平均 mean " + (c.mean === null ? "—" : c.mean) + " / 5";
    if (c.id === "channels") return "96966 热线占比 hotline share " + (c.hotline_share === null ? "—" : c.hotline_share + " %");
    if (c.id === "hotspots") return "最忙的网格 busiest cells: " + c.rows.length;
    return "";
  }
  function hotspots(c, plot) {
    if (!hotMap) {
      hotMap = L.map(plot, { zoomControl: true, attributionControl: false, preferCanvas: true }).setView([30.66, 104.08], 12);
      getJSON("/ogc/collections/streets/items?limit=1000").then(function (fc) {
        L.geoJSON(fc, { style: { color: "#666", weight: 1, fill: false, interactive: false } }).addTo(hotMap);
      }).catch(function () {});
    }
    if (hotLayer) hotLayer.remove();
    hotLayer = L.layerGroup().addTo(hotMap);
    var max = Math.max.apply(null, [1].concat(col(c, 3))), pts = [];
    c.rows.forEach(function (r) {
      var m = L.circleMarker([r[2], r[1]], { radius: 4 + 14 * Math.sqrt(r[3] / max), color: "#b00020", weight: 1,
        fillColor: "#e74c3c", fillOpacity: 0.55 });
      m.bindTooltip(document.createTextNode(r[0] + " · " + r[3] + " 件 cases")).addTo(hotLayer);
      pts.push([r[2], r[1]]);
    });
    state.hotspots = pts.length;
    if (pts.length) hotMap.fitBounds(L.latLngBounds(pts), { padding: [16, 16], maxZoom: 15 });
  }
  function render(body) {
    $("wg-dash-now").textContent = "截至 as of " + new Date(body.now).toLocaleString("zh-CN", { timeZone: "Asia/Shanghai" });
    state.ids = [];
    body.charts.forEach(function (c) {
      var plot = $("wg-plot-" + c.id) || card(c);
      plot.parentNode.querySelector(".wg-card-note").textContent = note(c);
      state.ids.push(c.id);
      if (c.kind === "map") { hotspots(c, plot); return; }
      if (!charts[c.id]) charts[c.id] = echarts.init(plot, null, { renderer: "canvas" });
      charts[c.id].setOption(option(c), true);
    });
    state.figures = body;
    state.rendered += 1;
  }
  function load() {
    return getJSON("/dashboard/figures").then(function (body) { state.loads += 1; render(body); })
      .catch(function (e) { $("wg-dash-now").textContent = (e && e.detail) || "载入失败 load failed"; });
  }
  var pending = null, last = 0;
  function soon() {  // many pushes in a burst cost one refetch, never more than one per DEBOUNCE_MS
    if (pending) return;
    var wait = Math.max(500, DEBOUNCE_MS - (Date.now() - last));
    pending = setTimeout(function () { pending = null; last = Date.now(); load(); }, wait);
  }
  function follow() {
    var live = $("wg-dash-live");
    fetch("/dashboard/stream", { headers: { Accept: "text/event-stream" }, cache: "no-store", credentials: "same-origin" }).then(function (r) {
      if (!r.ok || !r.body) throw new Error("HTTP " + r.status);
      live.textContent = "● 实时 live"; live.className = "";
      var reader = r.body.getReader(), decoder = new TextDecoder(), buf = "";
      function pump() {
        return reader.read().then(function (chunk) {
          if (chunk.done) throw new Error("closed");
          buf += decoder.decode(chunk.value, { stream: true });
          var cut;
          while ((cut = buf.indexOf("\n\n")) >= 0) {
            if (buf.slice(0, cut).indexOf("event: changed") >= 0) { state.pushes += 1; soon(); }
            buf = buf.slice(cut + 2);
          }
          return pump();
        });
      }
      return pump();
    }).catch(function () {
      live.textContent = "○ 重连中 reconnecting"; live.className = "wg-off";
      setTimeout(function () { soon(); follow(); }, 2000);  // refetch: what moved while away
    });
  }
  window.addEventListener("resize", function () { Object.keys(charts).forEach(function (k) { charts[k].resize(); }); });
  last = Date.now();
  load().then(follow);
})();
