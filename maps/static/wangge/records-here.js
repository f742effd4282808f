/* /handheld, "records here" (此处档案): the addresses, dwellings, residents and units near my
 * position in my own cell (GET /workers/me/records-here, masked, audited with the purpose I
 * give), and a field change (采集) from there: a flat's use, a unit closed (POST /base/changes).
 * Writes carry the session's CSRF token.  Text from data goes in with textContent only. */
(function () {
  "use strict";
  function $(id) { return document.getElementById(id); }
  var root = $("wg-hand"), box = $("wg-here");
  if (!root || !box) return;
  var csrf = root.getAttribute("data-csrf"), last = null;
  var USES = [["self_occupied", "自住 self-occupied"], ["rented", "出租 rented"],
    ["vacant", "空置 vacant"], ["commercial", "经营 commercial"]];
  window.wanggeHere = { shown: 0, changed: 0 };

  function el(tag, text, cls) {
    var n = document.createElement(tag);
    if (text !== undefined && text !== null) n.textContent = String(text);
    if (cls) n.className = cls;
    return n;
  }
  function say(t, error) { var m = $("wg-here-msg"); m.textContent = t; m.className = error ? "wg-error" : ""; }
  function change(body, done) {
    fetch("/base/changes", { method: "POST", credentials: "same-origin", body: JSON.stringify(body),
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf } })
      .then(function (r) { return r.json().then(function (b) { return [r, b]; }); })
      .then(function (rb) {
        if (!rb[0].ok) { say(rb[1].detail || rb[1].title || "HTTP " + rb[0].status, true); return; }
        window.wanggeHere.changed += 1;
        say(rb[1].status === "pending" ? "已提交，待社区审核 sent; awaiting review" : "已更新 updated");
        done();
      }).catch(function () { say("网络错误 network error", true); });
  }
  function dwelling(w) {
    var li = el("li", null, "wg-here-dwelling");
    li.setAttribute("data-id", w.id);
    var names = w.residents.map(function (p) { return p.name + " " + p.id_masked; });
    li.appendChild(el("span", w.room + " · " + w.residents.length + "人 " + names.join("，")));
    w.links.forEach(function (l) {
      li.appendChild(el("span", " · " + (l.kind === "owner" ? "产权人 owner " : "承租人 tenant ") + l.name));
    });
    var pick = el("select");
    pick.setAttribute("aria-label", "房屋用途 use of " + w.room);
    USES.forEach(function (u) {
      var o = el("option", u[1]); o.value = u[0]; o.selected = u[0] === w.use; pick.appendChild(o);
    });
    var save = el("button", "改用途 change use");
    save.type = "button";
    save.addEventListener("click", function () {
      if (pick.value === w.use) { say("用途未变 unchanged", true); return; }
      change({ kind: "dwelling_use", target: w.id, data: { use: pick.value } }, show);
    });
    li.appendChild(pick); li.appendChild(save);
    return li;
  }
  function unit(u) {
    var li = el("li", u.name + " · " + u["class"] + (u.is_key_place ? " · 重点场所 key place" : "") +
      " · " + (u.status === "open" ? "营业 open" : "关闭 closed") +
      (u.contact_name ? " · " + u.contact_name + " " + (u.contact_phone_masked || "") : ""), "wg-here-unit");
    if (u.status === "open") {
      var b = el("button", "已关闭 closed now"); b.type = "button";
      b.addEventListener("click", function () {
        change({ kind: "unit_closed", target: u.id, data: {} }, show);
      });
      li.appendChild(b);
    }
    return li;
  }
  function render(body) {
    var list = $("wg-here-list");
    list.textContent = "";
    body.addresses.forEach(function (a) {
      var li = el("li"), inner = el("ul");
      li.appendChild(el("b", a.full_text + " · " + Math.round(a.distance_m) + " m"));
      a.dwellings.forEach(function (w) { inner.appendChild(dwelling(w)); });
      a.units.forEach(function (u) { inner.appendChild(unit(u)); });
      li.appendChild(inner); list.appendChild(li);
    });
    window.wanggeHere.shown = body.addresses.length;
    if (!body.addresses.length) say("附近没有本网格的档案 no records of your cell nearby");
  }
  function ask(lon, lat) {
    last = [lon, lat];
    var purpose = $("wg-here-purpose").value.trim();
    var q = "lon=" + lon + "&lat=" + lat + "&radius_m=" + $("wg-here-radius").value +
      "&purpose=" + encodeURIComponent(purpose);
    fetch("/workers/me/records-here?" + q, { credentials: "same-origin" })
      .then(function (r) { return r.json().then(function (b) { return [r, b]; }); })
      .then(function (rb) {
        if (!rb[0].ok) { say(rb[1].detail || rb[1].title || "HTTP " + rb[0].status, true); return; }
        render(rb[1]);
      }).catch(function () { say("网络错误 network error", true); });
  }
  function show() {
    if (last) { ask(last[0], last[1]); return; }
    if (!navigator.geolocation) { say("无法定位 no position", true); return; }
    navigator.geolocation.getCurrentPosition(function (pos) {
      ask(pos.coords.longitude.toFixed(7), pos.coords.latitude.toFixed(7));
    }, function () { say("无法定位 no position", true); }, { enableHighAccuracy: true, timeout: 10000 });
  }
  $("wg-here-go").addEventListener("click", function () { last = null; show(); });
})();
