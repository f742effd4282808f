/* /handheld, duty section (值守): the shifts I hold at the courtyards' liaison posts (as a
 * building or unit leader, volunteer …), check in and out in two taps, and while checked in
 * file what I saw as a case (channel courtyard_patrol, at the post).  A module of its own:
 * it shares nothing with handheld.js but the page's CSRF token.  Online only (a refused or
 * failed write says so and changes nothing shown); a report's button is disabled while it is
 * sent, so one tap files one case.  Text from data: textContent only. */
(function () {
  "use strict";
  function $(id) { return document.getElementById(id); }
  var section = $("wg-rota"), root = $("wg-hand");
  if (!section || !root) return;
  var csrf = root.getAttribute("data-csrf"), list = $("wg-shifts");
  var categories = JSON.parse(section.getAttribute("data-categories") || "[]");
  var ROLE = { group_leader: "自治小组长 group leader", group_member: "自治小组 group member",
    building_leader: "楼栋长 building leader", unit_leader: "单元长 unit leader",
    volunteer: "志愿者 volunteer", social_org_head: "社会组织负责人 organisation head" };
  window.wanggeRota = { shifts: [], reports: [] };

  function say(t, error) {
    var m = $("wg-rota-msg"); m.textContent = t; m.className = error ? "wg-error" : "";
  }
  function when(iso) {
    return new Date(iso).toLocaleString([], { month: "numeric", day: "numeric", hour: "2-digit", minute: "2-digit" });
  }
  function post(url, body) {
    return fetch(url, { method: "POST", credentials: "same-origin", body: JSON.stringify(body),
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf } }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (b) {
        if (!r.ok) throw new Error((b && (b.detail || b.title)) || ("HTTP " + r.status));
        return b;
      });
    });
  }
  function state(s) {
    if (s.checked_out_at) return ["done", "已签退 checked out " + when(s.checked_out_at)];
    if (s.checked_in_at) return ["on", "在岗 on duty since " + when(s.checked_in_at)];
    return ["planned", "未签到 not checked in"];
  }
  function twoTaps(label, action, run) {
    var b = document.createElement("button");
    b.type = "button"; b.textContent = label; b.setAttribute("data-action", action);
    b.addEventListener("click", function () {
      if (!b.classList.contains("wg-confirm")) {
        b.classList.add("wg-confirm"); b.textContent = "确认 confirm: " + label; return;
      }
      b.disabled = true;
      run().catch(function (e) { say(e.message || "离线 offline", true); b.disabled = false; });
    });
    return b;
  }
  function reportForm(s) {
    var form = document.createElement("form"), pick = document.createElement("select");
    var text = document.createElement("textarea"), go = document.createElement("button");
    form.className = "wg-patrol";
    pick.name = "category"; pick.setAttribute("aria-label", "类别 category");
    categories.forEach(function (c) {
      var o = document.createElement("option"); o.value = c.code; o.textContent = c.name; pick.appendChild(o);
    });
    text.name = "description"; text.required = true; text.maxLength = 2000; text.rows = 2;
    text.placeholder = "所见 what I saw";
    go.type = "submit"; go.textContent = "上报所见 report what I saw";
    form.appendChild(pick); form.appendChild(text); form.appendChild(go);
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      if (!text.value.trim()) return;
      go.disabled = true;
      post("/self-governance/shifts/" + s.id + "/reports",
        { member_id: s.member_id, category: pick.value, description: text.value.trim() })
        .then(function (b) {
          window.wanggeRota.reports.push(b.incident_id);
          text.value = ""; go.disabled = false;
          say("已上报 filed as case #" + b.incident_id);
        }).catch(function (e) { go.disabled = false; say(e.message || "离线 offline", true); });
    });
    return form;
  }
  function render() {
    list.textContent = "";
    if (!window.wanggeRota.shifts.length) {
      var none = document.createElement("li"); none.textContent = "没有值守班次 no shifts"; list.appendChild(none);
    }
    window.wanggeRota.shifts.forEach(function (s) {
      var li = document.createElement("li"), head = document.createElement("p"), st = state(s);
      li.setAttribute("data-shift-id", s.id); li.setAttribute("data-state", st[0]);
      head.textContent = s.courtyard_name + " · " + (ROLE[s.member_role] || s.member_role) + " · " +
        when(s.start) + "–" + when(s.end);
      var note = document.createElement("p"); note.className = "wg-text"; note.textContent = st[1];
      li.appendChild(head); li.appendChild(note);
      var url = "/self-governance/shifts/" + s.id;
      if (st[0] === "planned") {
        li.appendChild(twoTaps("签到 check in", "check-in", function () {
          return post(url + "/check-in", { member_id: s.member_id }).then(done("已签到 checked in"));
        }));
      } else if (st[0] === "on") {
        li.appendChild(reportForm(s));
        li.appendChild(twoTaps("签退 check out", "check-out", function () {
          return post(url + "/check-out", { member_id: s.member_id }).then(done("已签退 checked out"));
        }));
      }
      list.appendChild(li);
    });
  }
  function done(message) { return function () { say(message); load(); }; }
  function load() {
    return fetch("/workers/me/shifts", { credentials: "same-origin" }).then(function (r) {
      return r.ok ? r.json() : [];
    }).then(function (rows) { window.wanggeRota.shifts = rows; render(); })
      .catch(function () { say("离线 offline", true); });
  }
  load();
})();
