"""The planners' editor page: a Leaflet map of a draft's cells, the cell list, the tools.

No data is embedded: planning-editor.js loads the draft's cells with their figures,
its units and problems through the planning API and sends each edit as one small
request with the draft's ETag.  What the server writes into the page is the
revision id, the session's CSRF token and the base map's spec (attribute-escaped):
with no tile URL configured it is the offline base of the other pages
(`maps.basemap`: the district's courtyards and buildings from the service's own
vector tiles), with one in WGS-84 that tile layer.
"""

from __future__ import annotations

import html
import json
from typing import Any

from maps.assets import asset_urls
from maps.base import PageOptions
from maps.basemap import OfflineBase, service_root

_TOOLS = (
    ("select", "选择 Select"),
    ("paint", "点选院落 Click courtyards"),
    ("brush", "画笔 Brush"),
    ("split", "切分 Split"),
    ("merge", "合并 Merge"),
    ("reshape", "重绘边界 Reshape"),
    ("new", "新建网格 New cell"),
    ("delete", "删除 Delete"),
)

_PAGE = """<!DOCTYPE html>
<html lang="zh"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>网格规划编辑器 planning editor</title>
<link rel="stylesheet" href="{leaflet_css}">
<link rel="stylesheet" href="{geoman_css}">
<link rel="stylesheet" href="{css}">
</head><body class="wg-pe-body">
<main id="wg-pe" data-revision="{revision}" data-csrf="{csrf}" data-base="{base}">
<aside id="wg-pe-side" aria-label="工具 tools">
 <h1>网格规划编辑器 Planning editor</h1>
 <p id="wg-pe-draft"></p>
 <label>层级 Level <select id="wg-pe-level">
  <option value="1">一级网格 level 1</option><option value="2">二级网格 level 2</option>
  <option value="3">三级网格 level 3</option></select></label>
 <div id="wg-pe-tools" role="toolbar" aria-label="编辑 edit">{tools}</div>
 <p id="wg-pe-hint" aria-live="polite"></p>
 <div class="wg-pe-row" id="wg-pe-brushbox" hidden><label>画笔单元 Brush units
  <select id="wg-pe-brush-kind"><option value="courtyard">院落 courtyards</option>
  <option value="cell">三级网格 level-3 cells</option></select></label>
  <label>半径 radius <input id="wg-pe-brush-r" type="number" min="4" max="80" value="14">
  px</label></div>
 <form id="wg-pe-newcell" class="wg-pe-row" hidden><label>新网格编码 New cell code
  <input id="wg-pe-newcode" required pattern="[0-9]{{15,21}}" size="22"></label>
  <button type="submit" id="wg-pe-create">创建 Create</button>
  <button type="button" id="wg-pe-newcancel">取消 Cancel</button>
  <small id="wg-pe-newrule"></small></form>
 <div class="wg-pe-row">
  <button type="button" id="wg-pe-undo" disabled>撤销 Undo</button>
  <button type="button" id="wg-pe-redo" disabled>重做 Redo</button>
  <button type="button" id="wg-pe-finish" hidden>完成 Finish</button>
 </div>
 <p id="wg-pe-msg" role="status"></p>
 <p id="wg-pe-conflict" role="alert" hidden>另一位规划员已保存此草稿 Someone else saved this draft.
  <button type="button" id="wg-pe-reload">重新载入 Reload</button></p>
 <p id="wg-pe-balance"></p>
 <div class="wg-pe-row"><button type="button" id="wg-pe-compare" aria-pressed="false">
  对比现行 Compare with live</button></div>
 <section id="wg-pe-worker" hidden><h2>网格员 Worker <span id="wg-pe-wcell"></span></h2>
  <p id="wg-pe-wnow"></p>
  <div class="wg-pe-row"><select id="wg-pe-wpick"></select>
   <button type="button" id="wg-pe-wmove">调入此网格 Move here</button></div>
  <div class="wg-pe-row"><input id="wg-pe-wname" placeholder="姓名 name" maxlength="80" size="12">
   <label><input type="checkbox" id="wg-pe-wduty" checked> 在岗 on duty</label>
   <button type="button" id="wg-pe-wcreate">新建网格员 Create worker</button></div></section>
 <ul id="wg-pe-legend" class="wg-pe-legend">
  <li><i class="under"></i>低于目标 under</li><li><i class="on"></i>达标 on target</li>
  <li><i class="over"></i>超出目标 over</li></ul>
 <h2>问题 Problems <span id="wg-pe-nproblems">0</span></h2>
 <ol id="wg-pe-problems"></ol>
 <h2>网格 Cells</h2>
 <table id="wg-pe-cells"><thead><tr><th>编码 code</th><th>户 hh</th><th>人 pop</th>
  <th>案件 cases</th><th>户/员 hh/worker</th><th>偏差 dev</th><th>紧凑 PP</th></tr></thead>
  <tbody></tbody></table>
 <h2>建议 Suggestion</h2>
 <div class="wg-pe-row"><button type="button" id="wg-pe-suggest">生成建议 Suggest</button>
  <button type="button" id="wg-pe-accept" disabled>采纳建议 Accept</button></div>
 <h2>发布 Publish</h2>
 <div class="wg-pe-row"><button type="button" id="wg-pe-preview">影响预览 Preview impact</button>
  <button type="button" id="wg-pe-publish">发布 Publish</button></div>
 <div id="wg-pe-impact" aria-live="polite"></div>
</aside>
<div id="wg-pe-map" role="application" aria-label="地图 草稿 draft map"></div>
<div id="wg-pe-live" role="img" aria-label="现行网格 live grid" hidden></div>
</main>
<script src="{leaflet_js}"></script>
<script src="{wangge_js}"></script>
<script src="{basemap_js}"></script>
<script src="{geoman_js}"></script>
<script src="{js}"></script>
<script src="{draw_js}"></script>
<script src="{panels_js}"></script>
</body></html>
"""


def editor_page(options: PageOptions, *, revision: int, csrf: str) -> str:
    """The page shell; everything it shows is loaded by planning-editor.js."""
    urls = asset_urls(options.static_url)
    tools = "".join(
        f'<button type="button" data-tool="{key}" aria-pressed="false">{label}</button>'
        for key, label in _TOOLS
    )
    return _PAGE.format(
        leaflet_css=urls["leaflet_css"],
        leaflet_js=urls["leaflet"],
        css=urls["wangge_planning_editor_css"],
        js=urls["wangge_planning_editor_js"],
        wangge_js=urls["wangge_js"],
        basemap_js=urls["wangge_basemap_js"],
        base=html.escape(json.dumps(base_spec(options)), quote=True),
        geoman_css=urls["geoman_css"],
        geoman_js=urls["geoman"],
        draw_js=urls["wangge_planning_draw_js"],
        panels_js=urls["wangge_planning_panels_js"],
        revision=int(revision),
        csrf=html.escape(csrf),
        tools=tools,
    )


def base_spec(options: PageOptions) -> dict[str, Any] | None:
    """What lies under the cells: a WGS-84 tile URL, else the offline base (as on every page).

    Tiles in another CRS (GCJ-02) would sit beside the draft's WGS-84 cells, so the
    editor keeps the offline base for them too.
    """
    if options.tiles_url and options.tiles_crs == "wgs84":
        return {"tiles": options.tiles_url, "attribution": options.tiles_attribution}
    return {"offline": json.loads(OfflineBase(service_root(options.static_url)).spec)}
