/* /report: pick a spot, see who serves it, choose a category, describe, submit once.
 * Served under /static/wangge/ (no CDN).  Text from the server goes in with textContent only.
 * The Idempotency-Key is made once per report and kept for retries (a double tap or a retry
 * after a lost answer files one case); changing anything in the report makes a new one. */
(function () {
  "use strict";
  var wangge = (window.wangge = window.wangge || {});

  function newKey() {
    var b = new Uint8Array(16);
    window.crypto.getRandomValues(b);
    return "rep-" + Array.prototype.map.call(b, function (x) {
      return ("0" + x.toString(16)).slice(-2);
    }).join("");
  }
  function $(id) { return document.getElementById(id); }
  function round6(v) { return Math.round(v * 1e6) / 1e6; }
  function say(text, error) {
    var m = $("wg-msg"); m.textContent = text; m.className = error ? "wg-error" : "";
  }
  function problem(resp, body) {
    return (body && (body.detail || body.title)) || ("HTTP " + resp.status);
  }

  wangge.reportPage = function (map, cfg) {
    var state = { point: null, key: null, located: false, sending: 0 };
    document.body.classList.add("wg-report-body");
    map.invalidateSize();
    var marker = null;
    window.wanggeReport = { map: map, state: state };
    var form = $("wg-form"), major = $("wg-major"), minor = $("wg-minor");

    function fillMinor() {
      minor.textContent = "";
      cfg.categories.forEach(function (c) {
        if (c.major_code !== major.value) return;
        var o = document.createElement("option");
        o.value = c.code; o.textContent = c.name + " " + c.name_en;
        minor.appendChild(o);
      });
    }
    function changed() { state.key = null; }
    function setWhere(k, v) {
      document.querySelector('#wg-where [data-k="' + k + '"]').textContent = v || "—";
    }
    function query() {
      return "lon=" + state.point.lon + "&lat=" + state.point.lat + "&crs=" + cfg.crs;
    }
    function locate() {
      var asked = state.point;
      fetch("/locate?" + query()).then(function (r) {
        return r.json().then(function (b) { return [r, b]; });
      }).then(function (rb) {
        if (asked !== state.point) return;
        var r = rb[0], b = rb[1];
        state.located = r.ok;
        if (!r.ok) {
          ["street", "community", "cell", "worker"].forEach(function (k) { setWhere(k, ""); });
          say(r.status === 422 ? "此处不在辖区内 This spot is outside the district" : problem(r, b), true);
          return;
        }
        say("");
        setWhere("street", b.street && b.street.name);
        setWhere("community", b.community && b.community.name);
        setWhere("cell", b.l1 && ((b.l1.name || "") + " " + b.l1.code));
        setWhere("worker", b.worker && b.worker.name);
      }).catch(function () { say("网络错误 network error", true); });
    }
    function nearby() {
      var box = $("wg-nearby"), list = box.querySelector("ul");
      if (!state.point || !minor.value) { box.hidden = true; return; }
      fetch("/reports/nearby?" + query() + "&category=" + encodeURIComponent(minor.value))
        .then(function (r) { return r.ok ? r.json() : []; })
        .then(function (rows) {
          list.textContent = "";
          rows.forEach(function (row) {
            var li = document.createElement("li"), a = document.createElement("a");
            li.appendChild(document.createTextNode("#" + row.id + " " + row.category_name + " · " +
              wangge.statusName(row.status) + " · " + Math.round(row.distance_m) + " m · " +
              new Date(row.created_at).toLocaleString() + " "));
            a.href = "/my-case?id=" + row.id; a.textContent = "跟进 follow";
            li.appendChild(a); list.appendChild(li);
          });
          box.hidden = rows.length === 0;
        });
    }
    function setPoint(latlng) {
      if (!marker) {
        marker = L.marker(latlng, { draggable: true, keyboard: true, title: "报事位置 the spot" });
        marker.addTo(map);
        marker.on("dragend", function () { setPoint(marker.getLatLng()); });
      } else {
        marker.setLatLng(latlng);
      }
      state.point = { lon: round6(latlng.lng), lat: round6(latlng.lat) };
      changed(); locate(); nearby();
    }
    map.on("click", function (e) { setPoint(e.latlng); });
    // by address: /geocode answers WGS-84; the pin goes to the entrance in the page's CRS
    wangge.addressSearch("wg-addr", "wg-addr-list", function (hit) {
      var ll = wangge.toPageCrs(hit.lon, hit.lat, cfg.crs);
      map.setView([ll[1], ll[0]], Math.max(map.getZoom(), 17));
      setPoint(L.latLng(ll[1], ll[0]));
    });
    $("wg-centre").addEventListener("click", function () { setPoint(map.getCenter()); });
    $("wg-geo").addEventListener("click", function () {
      if (!navigator.geolocation) { say("浏览器不支持定位 no geolocation", true); return; }
      say("正在定位… locating…");
      navigator.geolocation.getCurrentPosition(function (pos) {
        // the browser answers WGS-84; a GCJ-02 basemap shows it shifted, so convert
        var ll = wangge.toPageCrs(pos.coords.longitude, pos.coords.latitude, cfg.crs);
        map.setView([ll[1], ll[0]], Math.max(map.getZoom(), 17));
        setPoint(L.latLng(ll[1], ll[0]));
      }, function () { say("无法获取位置 could not get your location", true); },
      { enableHighAccuracy: true, timeout: 10000 });
    });
    major.addEventListener("change", function () { fillMinor(); changed(); nearby(); });
    minor.addEventListener("change", function () { changed(); nearby(); });
    $("wg-desc").addEventListener("input", changed);
    $("wg-phone").addEventListener("input", changed);
    $("wg-photos").addEventListener("change", function () {
      if (this.files.length > 3) say("最多3张照片 3 photos at most", true);
    });
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      submit();
    });
    fillMinor();
    function headers(h) {
      if (cfg.csrf) h["X-CSRF-Token"] = cfg.csrf;  // a signed-in grid worker writes as themselves
      return h;
    }
    if (cfg.autolocate) $("wg-geo").click();  // "report what I see": here, now

    function submit() {
      if (!state.point) { say("请先在地图上选择位置 pick the spot on the map first", true); return; }
      var desc = $("wg-desc").value.trim();
      if (!desc) { say("请填写问题描述 please describe the problem", true); return; }
      if (!state.key) state.key = newKey();
      var body = { location: state.point, crs: cfg.crs, category: minor.value,
        channel: cfg.channel, description: desc };
      var phone = $("wg-phone").value.trim();
      if (phone) body.reporter_phone = phone;
      state.sending += 1;
      say("正在提交… sending…");
      fetch("/incidents", {
        method: "POST", body: JSON.stringify(body),
        headers: headers({ "Content-Type": "application/json", "Idempotency-Key": state.key })
      }).then(function (r) {
        return r.json().then(function (b) { return [r, b]; });
      }).then(function (rb) {
        var r = rb[0], b = rb[1];
        if (!r.ok) { say(problem(r, b), true); return; }
        done(b);
      }).catch(function () {
        say("网络错误，请再点提交（不会重复）network error: submit again (it will not file twice)", true);
      }).then(function () { state.sending -= 1; });
    }
    function upload(b) {
      var files = Array.prototype.slice.call($("wg-photos").files, 0, 3);
      var sent = files.map(function (f) {
        var data = new FormData();
        data.append("file", f);
        data.append("kind", "report");
        return fetch("/incidents/" + b.id + "/photos", {
          method: "POST", body: data, headers: headers({ "X-Case-Token": b.case_token || "" })
        }).then(function (r) { return r.ok; }).catch(function () { return false; });
      });
      return Promise.all(sent).then(function (oks) {
        var n = oks.filter(Boolean).length;
        if (files.length) $("wg-photo-note").textContent = "照片 photos: " + n + "/" + files.length;
      });
    }
    function done(b) {
      if (state.lastCase === b.id) return;  // the second tap's answer: the same case
      state.lastCase = b.id;
      upload(b);
      if (b.case_token) {
        try { sessionStorage.setItem("wangge-case-" + b.id, b.case_token); } catch (err) { /* private mode */ }
      }
      $("wg-case-id").textContent = String(b.id);
      $("wg-case-token").textContent = b.case_token || "";
      $("wg-follow").href = "/my-case?id=" + b.id;
      form.hidden = true;
      $("wg-done").hidden = false;
      say("");
    }
  };

  /* WGS-84 → GCJ-02 (the published approximation) for the browser's own position. */
  wangge.toPageCrs = function (lon, lat, crs) {
    if (crs !== "gcj02") return [lon, lat];
    var a = 6378245.0, ee = 0.00669342162296594323, PI = Math.PI;
    function tlat(x, y) {
      var r = -100 + 2 * x + 3 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
      r += (20 * Math.sin(6 * x * PI) + 20 * Math.sin(2 * x * PI)) * 2 / 3;
      r += (20 * Math.sin(y * PI) + 40 * Math.sin(y / 3 * PI)) * 2 / 3;
      r += (160 * Math.sin(y / 12 * PI) + 320 * Math.sin(y * PI / 30)) * 2 / 3;
      return r;
    }
    function tlon(x, y) {
      var r = 300 + x + 2 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
      r += (20 * Math.sin(6 * x * PI) + 20 * Math.sin(2 * x * PI)) * 2 / 3;
      r += (20 * Math.sin(x * PI) + 40 * Math.sin(x / 3 * PI)) * 2 / 3;
      r += (150 * Math.sin(x / 12 * PI) + 300 * Math.sin(x / 30 * PI)) * 2 / 3;
      return r;
    }
    var dlat = tlat(lon - 105, lat - 35), dlon = tlon(lon - 105, lat - 35);
    var rad = lat / 180 * PI, magic = Math.sin(rad);
    magic = 1 - ee * magic * magic;
    var sq = Math.sqrt(magic);
    dlat = (dlat * 180) / ((a * (1 - ee)) / (magic * sq) * PI);
    dlon = (dlon * 180) / (a / sq * Math.cos(rad) * PI);
    return [lon + dlon, lat + dlat];
  };
})();
