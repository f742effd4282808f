/* /my-case?id=…: a case's status along the seven steps, pushed live, and the rating.
 * The case token never goes into a URL the server sees: it comes from the report page
 * (sessionStorage), from a #token=… fragment (moved to sessionStorage, then removed), or
 * is typed in; it travels in the X-Case-Token header only.  Updates arrive as Server-Sent
 * Events read with fetch (EventSource cannot send headers), resumed with Last-Event-ID. */
(function () {
  "use strict";
  var wangge = window.wangge;
  function $(id) { return document.getElementById(id); }
  var root = $("wg-case"), id = root.getAttribute("data-id");
  var names = JSON.parse(root.getAttribute("data-categories") || "{}");
  var token = null, lastEventId = null, loading = null, again = false;
  window.wanggeCase = { pushes: 0 };

  function say(text, error) {
    var m = $("wg-msg"); m.textContent = text; m.className = error ? "wg-error" : "";
  }
  function store(t) {
    token = t;
    try { sessionStorage.setItem("wangge-case-" + id, t); } catch (err) { /* private mode */ }
  }
  function headers(extra) {
    var h = { "X-Case-Token": token || "" };
    Object.keys(extra || {}).forEach(function (k) { h[k] = extra[k]; });
    return h;
  }
  function get(path) {
    return fetch(path, { headers: headers() }).then(function (r) {
      return r.json().then(function (b) { return { ok: r.ok, status: r.status, body: b }; });
    });
  }
  function when(iso) { return iso ? new Date(iso).toLocaleString() : ""; }

  function renderSteps(c, events) {
    var at = {};
    events.forEach(function (e) {
      var k = wangge.stepOf(e.to_status);
      if (k >= 0 && !(k in at)) at[k] = e.at;
    });
    if (!(0 in at)) at[0] = c.created_at;
    var now = wangge.stepOf(c.status), list = $("wg-steps");
    list.textContent = "";
    wangge.STEPS.forEach(function (step, i) {
      var li = document.createElement("li");
      li.textContent = (i + 1) + ". " + step[0];
      if (i < now || (i === now && c.status === "closed") || c.status === "evaluated") {
        li.className = "wg-done";
      }
      if (i === now && c.status !== "closed" && c.status !== "evaluated") li.className = "wg-now";
      if (at[i] && i <= now) {
        var t = document.createElement("time");
        t.dateTime = at[i]; t.textContent = when(at[i]);
        li.appendChild(t);
      }
      list.appendChild(li);
    });
  }
  function render(c, events, rating) {
    $("wg-id").textContent = "#" + c.id;
    $("wg-category").textContent = names[c.category] || c.category;
    $("wg-status").textContent = wangge.statusName(c.status);
    $("wg-status").setAttribute("data-status", c.status);
    $("wg-desc").textContent = c.description;
    $("wg-handler").textContent = (c.assignee && c.assignee.name) || "—";
    $("wg-due").textContent = c.due_at ? when(c.due_at) : "—";
    var loc = c.location || {};
    $("wg-where").textContent = [loc.street && loc.street.name, loc.community && loc.community.name,
      loc.l1 && loc.l1.code].filter(Boolean).join(" · ") || "—";
    renderSteps(c, events);
    var closed = c.status === "closed" || c.status === "evaluated";
    $("wg-rate").hidden = !closed || !!rating;
    $("wg-rated").hidden = !rating;
    if (rating) {
      $("wg-rated").textContent = "您的评价 Your rating: " + rating.score + "/5" +
        (rating.comment ? " — " + rating.comment : "");
    }
    $("wg-detail").hidden = false;
  }
  var shown = {};
  function showPhotos() {
    get("/incidents/" + id + "/photos").then(function (res) {
      if (!res.ok) return;
      res.body.forEach(function (p) {
        if (shown[p.sha256]) return;
        shown[p.sha256] = true;
        fetch(p.thumbnail_url, { headers: headers() }).then(function (r) {
          return r.ok ? r.blob() : null;
        }).then(function (blob) {
          if (!blob) return;
          var img = document.createElement("img");
          img.src = URL.createObjectURL(blob);
          img.alt = p.kind === "report" ? "报事照片 photo" : (p.kind === "before" ? "处置前 before" : "处置后 after");
          $("wg-photos").appendChild(img);
        });
      });
    });
  }
  function load() {
    if (loading) { again = true; return loading; }
    var base = "/incidents/" + id;
    loading = Promise.all([get(base), get(base + "/events"), get(base + "/rating")])
      .then(function (res) {
        if (!res[0].ok) {
          say(res[0].status === 404 ? "查无此案或查询码不对 no such case, or a wrong token"
            : (res[0].body.detail || "HTTP " + res[0].status), true);
          $("wg-token-form").hidden = false;
          return false;
        }
        say("");
        $("wg-token-form").hidden = true;
        render(res[0].body, res[1].ok ? res[1].body : [], res[2].ok ? res[2].body : null);
        showPhotos();
        return true;
      }).catch(function () { say("网络错误 network error", true); return false; })
      .then(function (ok) {
        loading = null;
        if (again) { again = false; load(); }
        return ok;
      });
    return loading;
  }

  function follow() {
    var h = headers({ Accept: "text/event-stream" });
    if (lastEventId) h["Last-Event-ID"] = lastEventId;
    fetch("/incidents/" + id + "/stream", { headers: h, cache: "no-store" }).then(function (r) {
      if (!r.ok || !r.body) throw new Error("HTTP " + r.status);
      var reader = r.body.getReader(), decoder = new TextDecoder(), buf = "";
      function pump() {
        return reader.read().then(function (chunk) {
          if (chunk.done) throw new Error("closed");
          buf += decoder.decode(chunk.value, { stream: true });
          var cut;
          while ((cut = buf.indexOf("\n\n")) >= 0) {
            handle(buf.slice(0, cut)); buf = buf.slice(cut + 2);
          }
          return pump();
        });
      }
      return pump();
    }).catch(function () { setTimeout(follow, 2000); });
  }
  function handle(block) {
    var isEvent = false;
    block.split("\n").forEach(function (line) {
      if (line.indexOf("id: ") === 0) lastEventId = line.slice(4);
      if (line.indexOf("data: ") === 0) isEvent = true;
    });
    if (isEvent) { window.wanggeCase.pushes += 1; load(); }
  }

  $("wg-token-form").addEventListener("submit", function (e) {
    e.preventDefault();
    store($("wg-token").value.trim());
    load().then(function (ok) { if (ok) follow(); });
  });
  $("wg-rate-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var picked = document.querySelector('input[name="score"]:checked');
    if (!picked) { say("请选择 1–5 choose 1–5", true); return; }
    fetch("/incidents/" + id + "/rating", {
      method: "POST", headers: headers({ "Content-Type": "application/json" }),
      body: JSON.stringify({ score: Number(picked.value), comment: $("wg-comment").value.trim() || null })
    }).then(function (r) {
      return r.json().then(function (b) {
        if (!r.ok) { say(b.detail || "HTTP " + r.status, true); return; }
        say("谢谢您的评价 thank you"); load();
      });
    });
  });

  if (!id) { say("缺少案件编号 no case number (?id=…)", true); return; }
  var m = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (m) {
    store(decodeURIComponent(m[1]));
    history.replaceState(null, "", location.pathname + location.search);
  } else {
    try { token = sessionStorage.getItem("wangge-case-" + id); } catch (err) { token = null; }
  }
  if (!token) { $("wg-token-form").hidden = false; return; }
  load().then(function (ok) { if (ok) follow(); });
})();
