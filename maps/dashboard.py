"""The leader's dashboard page: a wall of charts (ECharts, served locally) and a small hotspot map.

No figures are embedded: dashboard.js reads `GET /dashboard/figures`, draws one card
per chart (numbers on hover, a CSV link each) and refetches when the push stream
says cases moved.  The server writes only the signed-in name, attribute-escaped.
"""

from __future__ import annotations

import html

from maps.assets import asset_urls
from maps.base import PageOptions

_PAGE = """<!DOCTYPE html>
<html lang="zh"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>领导驾驶舱 leader's dashboard</title>
<link rel="stylesheet" href="{leaflet_css}">
<link rel="stylesheet" href="{css}">
</head><body class="wg-dash-body">
<header class="wg-dash-head">
 <h1>领导驾驶舱 District dashboard</h1>
 <p><span id="wg-dash-now"></span> · <span id="wg-dash-me">{me}</span>
  · <span id="wg-dash-live" aria-live="polite">○ 连接中 connecting</span></p>
</header>
<main id="wg-dash" aria-live="off"></main>
<script src="{leaflet_js}"></script>
<script src="{echarts_js}"></script>
<script src="{js}"></script>
</body></html>
"""


def dashboard_page(options: PageOptions, *, me: str) -> str:
    """The page shell; everything it shows is loaded by dashboard.js."""
    urls = asset_urls(options.static_url)
    return _PAGE.format(
        leaflet_css=urls["leaflet_css"],
        leaflet_js=urls["leaflet"],
        echarts_js=urls["echarts"],
        css=urls["wangge_dashboard_css"],
        js=urls["wangge_dashboard_js"],
        me=html.escape(me),
    )
