"""`maps.base.render` with a nonce: Folium's own inline scripts carry it, nothing else does."""

from __future__ import annotations

import re

import folium
import pytest
from branca.element import Element

from maps import escape
from maps.base import PageOptions, render

INLINE = re.compile(r"<script\b(?![^>]*\bsrc=)[^>]*>")


def test_folium_inline_scripts_get_the_nonce_and_only_then() -> None:
    m = folium.Map(tiles=None)
    folium.Marker([30.67, 104.1], tooltip=escape.text("<script>x</script>")).add_to(m)
    page = render(m, PageOptions(script_nonce="n0nce"))
    tags = INLINE.findall(page)
    assert len(tags) >= 2 and all(t == '<script nonce="n0nce">' for t in tags)
    plain = render(folium.Map(tiles=None), PageOptions())
    assert "nonce=" not in plain  # files written by `wangge maps build` need none


@pytest.mark.parametrize("where", ["html", "tooltip"])
def test_an_inline_script_that_folium_did_not_write_is_refused(where) -> None:
    # text that escaped escaping must not be blessed with the nonce: the page is refused
    m = folium.Map(tiles=None)
    if where == "html":
        m.get_root().html.add_child(Element("<div><script>window.pwned = 1</script></div>"))
    else:
        folium.Marker([30.67, 104.1], tooltip="<script>window.pwned = 1</script>").add_to(m)
    with pytest.raises(ValueError, match="without the page's nonce"):
        render(m, PageOptions(script_nonce="n0nce"))
