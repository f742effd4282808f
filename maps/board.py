"""The dispatchers' live board page: a Leaflet map, the queue panel, the case panel.

No data is embedded: board.js loads the cases page by page and the on-duty workers
through the API, then follows the push stream.  What the server writes into the
page is the session's CSRF token, the dispatcher's name and their home street
(a street unit's dispatcher starts on their street), all attribute-escaped.  board-actions.js
adds box selection with bulk assignment, the panel's workflow buttons and the urgent alarm.
"""

from __future__ import annotations

import html
from urllib.parse import quote

from maps.assets import asset_urls
from maps.base import PageOptions

_PAGE = """<!DOCTYPE html>
<html lang="zh"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>指挥调度 dispatch board</title>
{preloads}
<link rel="stylesheet" href="{leaflet_css}">
<link rel="stylesheet" href="{css}">
</head><body class="wg-board-body">
<main id="wg-board" data-csrf="{csrf}" data-me="{me}" data-street="{street}"
 data-tiles="{tiles}">
<aside id="wg-side" aria-label="队列 queue">
 <h1>指挥调度 Dispatch board <span id="wg-live" aria-live="polite"></span></h1>
 <p class="wg-tools"><button type="button" id="wg-lasso" aria-pressed="false"
  title="或按住 Shift 拖动 or shift-drag on the map">▭ 框选 Box select</button>
  <button type="button" id="wg-mute" aria-pressed="false"></button></p>
 <div id="wg-alarm" role="alert" hidden></div>
 <form id="wg-filters">
  <label>状态 Status <select name="status" id="wg-f-status">
   <option value="">全部未结 all open</option></select></label>
  <label>类别 Category <input name="category" id="wg-f-category" size="4"
   pattern="[0-9]{{2}}([0-9]{{2}})?"></label>
  <label>街道 Street <input name="street" id="wg-f-street" size="9" value="{street}"></label>
  <label>社区 Community <input name="community" id="wg-f-community" size="12"></label>
  <label>网格 Cell <input name="cell" id="wg-f-cell" size="12"></label>
  <label>超时 Overdue <select name="overdue" id="wg-f-overdue"><option value="">全部 all</option>
   <option value="true">超时 overdue</option>
   <option value="false">未超时 not overdue</option></select></label>
  <button type="submit">筛选 Filter</button>
 </form>
 <p id="wg-counts" aria-live="polite"></p>
 <ul id="wg-legend" class="wg-legend"></ul>
 <ol id="wg-queue" class="wg-queue"></ol>
</aside>
<div id="wg-board-map" role="application" aria-label="地图 map"></div>
<section id="wg-panel" hidden aria-live="polite">
 <button type="button" id="wg-panel-close" aria-label="关闭 close">×</button>
 <h2 id="wg-panel-title"></h2>
 <p id="wg-panel-status"></p>
 <p id="wg-panel-desc" class="wg-text"></p>
 <p id="wg-panel-msg" role="status"></p>
 <div id="wg-actions" class="wg-actions"></div>
 <p id="wg-reason-row" hidden><label>理由 Reason <input id="wg-reason" maxlength="2000"
  size="28"></label></p>
 <h3>最近的在岗网格员 Nearest on-duty workers</h3>
 <ol id="wg-nearest"></ol>
</section>
<section id="wg-group" hidden aria-live="polite">
 <button type="button" id="wg-group-clear" aria-label="取消框选 clear selection">×</button>
 <h2 id="wg-group-title"></h2>
 <h3>派给 Assign to (离框选中心最近 nearest the group)</h3>
 <ol id="wg-group-workers"></ol>
 <ol id="wg-group-result" class="wg-results"></ol>
</section>
</main>
<script src="{leaflet_js}"></script>
<script src="{status_js}"></script>
<script src="{dots_js}"></script>
<script src="{js}"></script>
<script src="{actions_js}"></script>
</body></html>
"""


def board_page(options: PageOptions, *, csrf: str, me: str, street: str | None) -> str:
    """The page shell; everything it shows is loaded by board.js."""
    urls = asset_urls(options.static_url)
    tiles = options.tiles_url if options.tiles_url and options.tiles_crs == "wgs84" else ""
    return _PAGE.format(
        leaflet_css=urls["leaflet_css"],
        leaflet_js=urls["leaflet"],
        css=urls["wangge_board_css"],
        status_js=urls["wangge_status_js"],
        dots_js=urls["wangge_board_dots_js"],
        js=urls["wangge_board_js"],
        actions_js=urls["wangge_board_actions_js"],
        csrf=html.escape(csrf),
        me=html.escape(me),
        street=html.escape(street or ""),
        tiles=html.escape(tiles),
        preloads=_preloads(street),
    )


PARTS = 2
"""The parts board.js fetches the open cases in (its ``PARTS``): one per server worker."""
DESCRIBED = 300
"""Rows of a part that carry their description (board.js's ``DESCRIBED``: the list's length)."""


def _preloads(street: str | None) -> str:
    """Links that start the first load's reads with the page, before Leaflet and board.js run.

    The URLs are exactly those board.js asks first (its initial filter is the home
    street), so the browser hands it these responses instead of asking again.
    """
    q = f"&street={quote(street, safe='')}" if street else ""
    urls = [
        f"/board/cases/columns?parts={PARTS}&part={k}&describe={DESCRIBED}{q}" for k in range(PARTS)
    ]
    return "\n".join(
        f'<link rel="preload" as="fetch" crossorigin="use-credentials" href="{html.escape(u)}">'
        for u in urls
    )
