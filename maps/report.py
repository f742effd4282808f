"""The resident's pages: report a problem (`/report`) and follow it (`/my-case`).

`/report` is a Folium map (the district's outlines, the basemap if one is
configured) above a plain HTML form; `wangge/report.js` does the rest in the
browser: the pin (tap, drag, "use my location", or the map centre for keyboard
users), the chain from `/locate`, the nearby reports, the submission with an
`Idempotency-Key` made once per report.  The page knows its basemap's CRS and
sends points in it.  `/my-case` is plain HTML driven by `wangge/mycase.js`.
Nothing the page writes into the document from data is HTML: only textContent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from branca.element import Element, MacroElement
from folium.elements import JSCSSMixin
from jinja2 import Template

from layers.core.map_types import Outlines
from maps import escape
from maps.assets import asset_urls
from maps.base import PageOptions, _figure, new_map, render
from maps.compact import script_json

REPORT_CHANNEL = "web_portal"
"""The channel a report from this page is filed under (网站 / web)."""
HANDHELD_CHANNEL = "handheld"
"""A signed-in grid worker's report from the page ("report what I see")."""


@dataclass(frozen=True)
class WorkerReport:
    """The page as a signed-in grid worker's: their session's CSRF token for the write."""

    csrf: str


_FORM = """
<main id="wg-report" class="wg-face" lang="zh">
<h1>我要报事 Report a problem</h1>
<p class="wg-hint">点击地图或拖动图钉选择位置 · Tap the map or drag the pin.</p>
<label for="wg-addr">按地址查找 Find by address</label>
<input id="wg-addr" type="search" maxlength="200" autocomplete="off"
 placeholder="如 崔家店路140号3栋2单元 e.g. road, number, 栋, 单元">
<ul id="wg-addr-list" class="wg-addr-list" role="listbox" hidden></ul>
<div class="wg-row">
 <button type="button" id="wg-geo">使用我的位置 Use my location</button>
 <button type="button" id="wg-centre">用地图中心 Use map centre</button>
</div>
<dl id="wg-where" aria-live="polite">
 <dt>街道 Street</dt><dd data-k="street">—</dd>
 <dt>社区 Community</dt><dd data-k="community">—</dd>
 <dt>网格 Grid cell</dt><dd data-k="cell">—</dd>
 <dt>网格员 Grid worker</dt><dd data-k="worker">—</dd>
</dl>
<form id="wg-form" novalidate>
 <label for="wg-major">大类 Category</label>
 <select id="wg-major" required>{majors}</select>
 <label for="wg-minor">小类 Subcategory</label>
 <select id="wg-minor" name="category" required></select>
 <section id="wg-nearby" hidden aria-live="polite">
  <h2>附近已有同类报事 Reported nearby already</h2>
  <p>是您报的吗？可以直接跟进 · Is this yours? Follow it instead.</p>
  <ul></ul>
 </section>
 <label for="wg-desc">问题描述 Description</label>
 <textarea id="wg-desc" name="description" rows="4" maxlength="2000" required></textarea>
 <label for="wg-phone">联系电话（可选）Phone (optional)</label>
 <input id="wg-phone" name="phone" type="tel" inputmode="tel" maxlength="32" autocomplete="tel">
 <label for="wg-photos">照片（可选，最多3张）Photos (optional, up to 3)</label>
 <input id="wg-photos" type="file" accept="image/jpeg,image/png,image/webp" multiple>
 <button type="submit" id="wg-submit">提交 Submit</button>
 <p id="wg-msg" role="status" aria-live="polite"></p>
</form>
<section id="wg-done" hidden aria-live="polite">
 <h2>已提交 Submitted</h2>
 <p>案件编号 Case number: <b id="wg-case-id"></b></p>
 <p>查询码（只显示一次，请保存）Case token (shown once, keep it):
  <code id="wg-case-token"></code></p>
 <p id="wg-photo-note"></p>
 <p><a id="wg-follow" href="/my-case">跟进案件 Follow your case</a></p>
</section>
</main>
"""


class _Script(JSCSSMixin, MacroElement):
    """The page's one call into its own JS file, with the config as escaped JSON."""

    _template = Template(
        """{% macro script(this, kwargs) %}
        wangge.{{ this.entry }}({{ this._parent.get_name() }}, {{ this.config_json }});
        {% endmacro %}"""
    )

    def __init__(self, entry: str, config: dict, js: str) -> None:
        super().__init__()
        self.entry = entry
        self.config_json = script_json(config)
        self.default_js = [("wangge_status_js", ""), ("wangge_address_js", ""), (js, "")]
        self.default_css = [("wangge_faces_css", "")]


def page_crs(options: PageOptions) -> str:
    """The CRS of what the page draws and picks: the basemap's, or WGS-84 without one."""
    return options.tiles_crs if options.tiles_url else "wgs84"


def _majors(categories: Sequence[dict[str, str]]) -> str:
    seen: dict[str, str] = {}
    for c in categories:
        seen.setdefault(c["major_code"], c["major_name"])
    return "".join(
        f'<option value="{escape.text(code)}">{escape.text(name)}</option>'
        for code, name in seen.items()
    )


def report_page(
    outlines: Outlines,
    categories: Sequence[dict[str, str]],
    options: PageOptions,
    worker: WorkerReport | None = None,
) -> str:
    """The report page: map above, form below; everything the page does is in report.js."""
    m = new_map(outlines, options, "我要报事 report a problem")
    m.height = (46.0, "vh")  # the form stays in view below it on a 360 px phone
    figure = _figure(m)
    figure.html.add_child(Element(_FORM.format(majors=_majors(categories))), name="wg_form")
    config = {
        "crs": page_crs(options),
        "channel": HANDHELD_CHANNEL if worker else REPORT_CHANNEL,
        "csrf": worker.csrf if worker else None,
        "autolocate": worker is not None,
        "categories": list(categories),
        "centre": m.location,
    }
    _Script("reportPage", config, "wangge_report_js").add_to(m)
    return render(m, options, layer_control=False)


_CASE_PAGE = """<!DOCTYPE html>
<html lang="zh"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>我的案件 my case</title>
<link rel="stylesheet" href="{css}">
</head><body>
<main id="wg-case" class="wg-face" data-id="{case_id}" data-categories="{categories}">
<h1>我的案件 My case <span id="wg-id"></span></h1>
<form id="wg-token-form" hidden>
 <label for="wg-token">查询码 Case token</label>
 <input id="wg-token" autocomplete="off" required>
 <button type="submit">查看 Show</button>
</form>
<p id="wg-msg" role="status" aria-live="polite"></p>
<section id="wg-detail" hidden>
 <p><span id="wg-category"></span> · <span id="wg-status"></span></p>
 <p id="wg-desc" class="wg-text"></p>
 <dl>
  <dt>处理人 Handled by</dt><dd id="wg-handler">—</dd>
  <dt>本环节时限 Due by</dt><dd id="wg-due">—</dd>
  <dt>位置 Where</dt><dd id="wg-where">—</dd>
 </dl>
 <ol id="wg-steps" class="wg-steps"></ol>
 <div id="wg-photos" class="wg-photos"></div>
 <section id="wg-rate" hidden>
  <h2>评价 Rate the handling</h2>
  <form id="wg-rate-form">
   <fieldset><legend>满意度 Satisfaction (1–5)</legend>{stars}</fieldset>
   <label for="wg-comment">意见 Comment</label>
   <textarea id="wg-comment" maxlength="500" rows="3"></textarea>
   <button type="submit">提交评价 Send rating</button>
  </form>
 </section>
 <p id="wg-rated" hidden></p>
</section>
</main>
<script src="{status_js}"></script>
<script src="{js}"></script>
</body></html>
"""


def case_page(
    case_id: int | None, categories: Sequence[dict[str, str]], static_url: str = "/static"
) -> str:
    """The follow page of one case; the token never travels in its URL (see mycase.js)."""
    urls = asset_urls(static_url)
    stars = "".join(
        f'<label><input type="radio" name="score" value="{n}" required> {n}</label>'
        for n in range(1, 6)
    )
    return _CASE_PAGE.format(
        css=urls["wangge_faces_css"],
        js=urls["wangge_mycase_js"],
        status_js=urls["wangge_status_js"],
        case_id="" if case_id is None else int(case_id),
        categories=escape.text(
            script_json({c["code"]: f"{c['name']} {c['name_en']}" for c in categories})
        ),
        stars=stars,
    )
