/* The address search box of the resident pages (/report, /residents): type an address,
 * pick one of the standard addresses GET /geocode suggests, and the page moves there.
 * Served under /static/wangge/ (no CDN).  Every text from the service goes in with
 * textContent; the box asks only after a short pause and drops answers to old texts. */
(function () {
  "use strict";
  var wangge = (window.wangge = window.wangge || {});

  /* Wire input `inputId` and list `listId`; `onPick(hit)` gets a /geocode result
   * (WGS-84 lon/lat, full_text, grid, worker). */
  wangge.addressSearch = function (inputId, listId, onPick) {
    var input = document.getElementById(inputId), list = document.getElementById(listId);
    if (!input || !list) return;
    var timer = null, asked = "";

    function clear() { list.textContent = ""; list.hidden = true; }
    function show(q, hits) {
      if (q !== asked) return;  // an answer to an older text
      list.textContent = "";
      if (!hits.length) {
        var none = document.createElement("li");
        none.textContent = "未找到该地址 no such address";
        list.appendChild(none);
      }
      hits.forEach(function (hit) {
        var li = document.createElement("li"), b = document.createElement("button");
        b.type = "button";
        b.className = "wg-addr-hit";
        b.setAttribute("role", "option");
        var cell = hit.grid && hit.grid.l1 ? " · " + (hit.grid.l1.name || hit.grid.l1.code) : "";
        b.textContent = hit.full_text + cell;
        b.addEventListener("click", function () {
          input.value = hit.full_text;
          clear();
          onPick(hit);
        });
        li.appendChild(b);
        list.appendChild(li);
      });
      list.hidden = false;
    }
    function ask() {
      var q = input.value.trim();
      asked = q;
      if (q.length < 2) { clear(); return; }
      fetch("/geocode?limit=5&q=" + encodeURIComponent(q))
        .then(function (r) { return r.ok ? r.json() : { results: [] }; })
        .then(function (b) { show(q, b.results || []); })
        .catch(function () { clear(); });
    }
    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(ask, 250);
    });
    input.addEventListener("keydown", function (e) {
      if (e.key === "Escape") clear();
      if (e.key === "Enter") {  // the first suggestion, when there is one
        e.preventDefault();
        var first = list.querySelector(".wg-addr-hit");
        if (first) first.click(); else ask();
      }
    });
    clear();
  };
})();
