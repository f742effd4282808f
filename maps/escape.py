"""Escaping user text for the two places Folium puts it: HTML and JavaScript template literals.

Folium does not escape: a `Popup` is raw HTML inside a JS template literal
(`` $(`…`) ``), a `Tooltip` is text inside a template literal, and
`GeoJsonPopup`/`GeoJsonTooltip` put property values into `innerHTML`.  So text
becomes HTML entities, including the three characters that are live inside a
template literal (backtick, `$` of `${`, backslash): entities are inert in JS
and show as the characters in HTML.  A description `<script>…</script>` or
`${alert(1)}` therefore shows as text.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from typing import Any

import geopandas as gpd

_TEMPLATE_LIVE = str.maketrans({"`": "&#96;", "$": "&#36;", "\\": "&#92;"})


def text(value: Any) -> str:
    """User text as HTML that is also safe inside a JS template literal ('' for None)."""
    if value is None:
        return ""
    return html.escape(str(value), quote=True).translate(_TEMPLATE_LIVE)


def rows_html(rows: Iterable[tuple[str, Any]], title: Any = None) -> str:
    """A small table of (label, value) rows for a popup, every part escaped."""
    head = f"<b>{text(title)}</b>" if title is not None else ""
    body = "".join(f"<tr><th>{text(k)}</th><td>{text(v)}</td></tr>" for k, v in rows)
    return f'<div class="wg-popup">{head}<table>{body}</table></div>'


def escape_properties(gdf: gpd.GeoDataFrame, columns: Iterable[str]) -> gpd.GeoDataFrame:
    """A copy whose text `columns` are escaped (for GeoJsonPopup/GeoJsonTooltip innerHTML)."""
    out = gdf.copy()
    for col in columns:
        out[col] = [text(v) if isinstance(v, str) or v is None else v for v in out[col]]
    return out
