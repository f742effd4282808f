"""What every map page shares: local assets, the district's outlines as base map, panels, render.

Pages are pure: GeoDataFrames in, HTML out.  Every script, stylesheet and font
comes from the service (`/static`, see `maps.assets`); Folium's CDN defaults are
replaced on every element before rendering, and an element asking for an asset
this module does not know makes rendering fail rather than reach the internet.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import shapely
from branca.element import Element, Figure, MacroElement
from jinja2 import Template

from layers.core import crs as crs_mod
from layers.core.map_types import Outlines
from maps import escape
from maps.assets import DROPPED, asset_urls
from maps.basemap import OfflineBase, service_root
from maps.compact import script_json
from maps.settings import MapsSettings

logger = logging.getLogger(__name__)

DISPLAY_DECIMALS = 6
"""Coordinates are written with 6 decimals (~0.1 m)."""

OUTLINE_TOLERANCE_DEG = 5e-6
"""How far (~0.5 m) a drawn outline may stray from the stored one.

The stored street and community boundaries are densified (a vertex every few metres
along straight edges: 31,000 vertices for the district); drawn as they are they were
80 % of the resident's report page (160 KB of 305 KB, gzipped).  Dropping the
vertices that move the line by less than half a metre keeps 7 % of them, which no
zoom level shows; the stored outlines, and every containment test, are untouched.
"""


@dataclass(frozen=True)
class PageOptions:
    """Where assets are served and which basemap (if any) lies under the outlines."""

    static_url: str = "/static"
    tiles_url: str | None = None
    tiles_attribution: str = ""
    tiles_crs: str = "wgs84"
    script_nonce: str | None = None
    """The response's CSP nonce: the page's own inline scripts carry it, nothing else does."""

    @classmethod
    def from_settings(
        cls, settings: MapsSettings, static_url: str = "/static", script_nonce: str | None = None
    ) -> PageOptions:
        """Options from the service's map settings (and the response's script nonce)."""
        return cls(
            static_url,
            settings.tiles_url,
            settings.tiles_attribution,
            settings.tiles_crs,
            script_nonce,
        )


def for_display(gdf: gpd.GeoDataFrame, options: PageOptions) -> gpd.GeoDataFrame:
    """A copy in the basemap's CRS (GCJ-02 for Amap/Tencent tiles), coordinates rounded."""
    out = gdf.copy()
    if out.empty:
        return out
    geoms = np.asarray(out.geometry.values, dtype=object)
    if options.tiles_url and options.tiles_crs != "wgs84":
        geoms = crs_mod.transform_geometry(geoms, "wgs84", options.tiles_crs)
    grid = 10.0**-DISPLAY_DECIMALS
    out = out.set_geometry(list(shapely.set_precision(geoms, grid, mode="pointwise")))
    return out


def display_point(lon: float, lat: float, options: PageOptions) -> tuple[float, float]:
    """(lat, lon) of a WGS-84 point as drawn on this page (Leaflet order)."""
    if options.tiles_url and options.tiles_crs != "wgs84":
        x, y = crs_mod.from_wgs84(lon, lat, options.tiles_crs)
        return float(y), float(x)
    return lat, lon


def _figure(m: folium.Map) -> Figure:
    """The page a map is drawn on (branca types `get_root` as any element)."""
    root = m.get_root()
    assert isinstance(root, Figure), "a folium.Map always sits in a Figure"
    return root


def new_map(outlines: Outlines, options: PageOptions, title: str) -> folium.Map:
    """A map without CDN tiles, fitted to the district, with the outlines as base layer."""
    m = folium.Map(
        tiles=None,
        control_scale=True,
        zoom_start=12,
        location=[30.67, 104.1],
    )
    m.options.update(min_zoom=8, max_zoom=19, zoom_snap=0.25)  # no tile layer carries them
    _figure(m).header.add_child(Element(f"<title>{escape.text(title)}</title>"), name="title")
    if options.tiles_url:
        folium.TileLayer(
            tiles=options.tiles_url,
            attr=options.tiles_attribution or "basemap",
            name="basemap",
            overlay=False,
            control=False,
        ).add_to(m)
    else:
        OfflineBase(service_root(options.static_url)).add_to(m)
    streets = for_display(outlines.streets, options)
    bounds = None
    if not streets.empty:
        minx, miny, maxx, maxy = streets.total_bounds
        bounds = [[float(miny), float(minx)], [float(maxy), float(maxx)]]
    m.add_child(Legible(bounds), name=LEGIBLE)
    add_outlines(m, outlines, options)
    return m


LEGIBLE = "wg_legible"


class Legible(MacroElement):
    """The page's last script: fit the district around the panels, legends follow layers.

    It runs after every panel and the layer control exist (`render` moves it last),
    so `wangge.legible` can measure the panels and pad the fit by their width, and
    hook the control's overlayadd/overlayremove to show a legend only while one of
    its layers is on.
    """

    _template = Template(
        """{% macro script(this, kwargs) %}
        wangge.legible({{ this._parent.get_name() }}, {{ this.fit_json }},
                       {{ this.control or "null" }});
        {% endmacro %}"""
    )

    def __init__(self, bounds: list[list[float]] | None, max_zoom: int | None = None) -> None:
        super().__init__()
        self.control: str | None = None
        self.set_fit(bounds, max_zoom)

    def set_fit(self, bounds: list[list[float]] | None, max_zoom: int | None = None) -> None:
        """What the page fits to: (lat, lon) corners, or None to keep the map's own view."""
        self.fit_json = script_json({"bounds": bounds, "maxZoom": max_zoom})


def fit_to(m: folium.Map, bounds: list[list[float]] | None, max_zoom: int | None = None) -> None:
    """Fit the page to `bounds` ((lat, lon) corners) instead of the district; None: no fit."""
    legible = m._children[LEGIBLE]
    assert isinstance(legible, Legible), "new_map adds it"
    legible.set_fit(bounds, max_zoom)


def add_outlines(m: folium.Map, outlines: Outlines, options: PageOptions) -> None:
    """Communities (thin) and streets (thick) with their names as tooltips."""
    group = folium.FeatureGroup(name="街道/社区 outlines", overlay=True, control=True)
    for gdf, weight, label in (
        (outlines.communities, 0.8, "社区"),
        (outlines.streets, 2.2, "街道"),
    ):
        shown = escape.escape_properties(for_display(simplified(gdf), options), ["name", "code"])
        if shown.empty:
            continue
        folium.GeoJson(
            shown.to_json(drop_id=True),
            style_function=lambda _f, w=weight: {
                "color": "#6b6b6b",
                "weight": w,
                "fill": w < 2,
                "fillColor": "#ffffff",
                "fillOpacity": 0.05,
            },
            tooltip=folium.GeoJsonTooltip(["name", "code"], aliases=[label, "code"]),
        ).add_to(group)
    group.add_to(m)
    AreaLabels(outlines, options).add_to(m)


def simplified(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """A copy whose outlines keep only the vertices that matter at any zoom (topology kept)."""
    if gdf.empty:
        return gdf
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    kept = shapely.simplify(geoms, OUTLINE_TOLERANCE_DEG, preserve_topology=True)
    return gdf.set_geometry(gpd.GeoSeries(kept, index=gdf.index, crs=gdf.crs))


LABEL_ZOOMS = {"wg-street": (13.5, 15.0), "wg-community": (15.0, 23.0)}
"""Street names while a few streets fill the screen, community names at street zoom."""


class AreaLabels(MacroElement):
    """Names of streets and communities at their representative points, by zoom."""

    _template = Template(
        """{% macro script(this, kwargs) %}
        wangge.areaLabels({{ this._parent.get_name() }}, {{ this.spec }});
        {% endmacro %}"""
    )

    def __init__(self, outlines: Outlines, options: PageOptions) -> None:
        super().__init__()
        rows = []
        for gdf, css in ((outlines.streets, "wg-street"), (outlines.communities, "wg-community")):
            low, high = LABEL_ZOOMS[css]
            shown = for_display(gdf, options)
            for name, geom in zip(shown["name"], shown.geometry, strict=True) if len(shown) else ():
                point = geom.representative_point()
                rows.append([round(point.y, 6), round(point.x, 6), str(name), low, high, css])
        self.spec = script_json({"rows": rows})


EMPTY_LAYER_NOTE = "无 none"
"""Said in the layer control where a layer has nothing to show, so it is not taken for a bug."""


def feature_layer(
    m: folium.Map,
    gdf: gpd.GeoDataFrame,
    *,
    name: str,
    fields: Sequence[str],
    aliases: Sequence[str],
    style_function: Callable[[dict[str, Any]], dict[str, Any]],
    show: bool = True,
    empty_note: str = EMPTY_LAYER_NOTE,
) -> bool:
    """Draw `gdf` as a GeoJSON layer with a tooltip; False (and an empty, labelled layer) if empty.

    Folium's tooltip refuses a FeatureCollection without features (it checks its
    fields against the data), and an empty frame may have lost its geometry
    column, so an empty layer is a plain group whose name says there is nothing.
    Text properties must be escaped by the caller (`maps.escape`).
    """
    if gdf.empty:
        folium.FeatureGroup(name=f"{name} — {empty_note}", show=show).add_to(m)
        return False
    keep = [c for c in gdf.columns if c != gdf.geometry.name]
    folium.GeoJson(
        gdf[[*keep, gdf.geometry.name]].to_json(drop_id=True),
        name=name,
        show=show,
        style_function=style_function,
        tooltip=folium.GeoJsonTooltip(list(fields), aliases=list(aliases)),
    ).add_to(m)
    return True


class Panel(MacroElement):
    """A fixed box on the map (legend, figures, filters) holding pre-escaped HTML."""

    _template = Template(
        """{% macro script(this, kwargs) %}
        (function () {
          var box = L.control({position: {{ this.position_json }}});
          box.onAdd = function (map) {
            var div = L.DomUtil.create('div', 'wg-panel {{ this.css_class }}');
            div.innerHTML = {{ this.html_json }};
            {% if this.foldable %}wangge.foldable(div, map);{% endif %}
            L.DomEvent.disableClickPropagation(div);
            L.DomEvent.disableScrollPropagation(div);
            return div;
          };
          box.addTo({{ this._parent.get_name() }});
        })();
        {% endmacro %}"""
    )

    def __init__(
        self, html: str, position: str = "bottomleft", css_class: str = "", *, foldable: bool = True
    ) -> None:
        super().__init__()
        self.foldable = foldable
        """A button folds the panel to its title (a phone's map starts with panels folded)."""
        self.html_json = script_json(html)
        self.position_json = script_json(position)
        self.css_class = "".join(c for c in css_class if c.isalnum() or c in "-_ ")


LAYER_SEPARATOR = "\n"
"""Between the layer names of a legend's `data-layers` (no layer name holds a newline)."""


def legend_html(title: str, items: Sequence[tuple[str, str]], layers: Sequence[str] = ()) -> str:
    """A legend: title and (colour, label) rows, escaped.

    `layers` are the names (as in the layer control) of the layers it explains:
    the legend shows while at least one of them is on (`wangge.legible`); without
    names it always shows.
    """
    rows = "".join(
        f'<div><i style="background:{escape.text(color)}"></i>{escape.text(label)}</div>'
        for color, label in items
    )
    names = escape.text(LAYER_SEPARATOR.join(layers))
    which = f' data-layers="{names}"' if layers else ""
    return f'<div class="wg-legend"{which}><h4>{escape.text(title)}</h4>{rows}</div>'


def _walk(element) -> Iterator:
    yield element
    for child in list(element._children.values()):
        yield from _walk(child)


def localize(m: folium.Map, static_url: str) -> None:
    """Point every element's JS/CSS at local copies; an unknown asset is an error."""
    urls = asset_urls(static_url)
    m.default_js = [*m.default_js, ("wangge_js", "")]
    m.default_css = [*m.default_css, ("wangge_css", "")]
    for element in _walk(m.get_root()):
        for attr in ("default_js", "default_css"):
            assets = getattr(element, attr, None)
            if not assets:
                continue
            local = []
            for name, _url in assets:
                if name in DROPPED:
                    continue
                if name not in urls:
                    raise ValueError(f"no local copy of the asset {name!r}; add it to maps.assets")
                local.append((name, urls[name]))
            setattr(element, attr, local)


_NONCED_FIGURE = Template(
    "<!DOCTYPE html>\n<html>\n<head>\n"
    "{% if this.title %}<title>{{this.title}}</title>{% endif %}"
    "    {{this.header.render(**kwargs)}}\n</head>\n<body>\n"
    "    {{this.html.render(**kwargs)}}\n</body>\n"
    '<script nonce="{{ nonce }}">\n    {{this.script.render(**kwargs)}}\n</script>\n</html>\n'
)
"""branca's Figure template, with the nonce on the page's script (where all map code goes)."""
_INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)


def _render_with_nonce(m: folium.Map, nonce: str) -> str:
    """Render like `Figure.render`, giving the nonce to exactly the scripts Folium writes.

    Those are the figure's script (the map code, with data only as escaped JSON)
    and the map header's two-line switch script (no data at all).  Any other
    inline script in the document did not come from these templates, so the
    page is refused rather than served with it: under the page's policy it
    would not run anyway, and it may be injected text.
    """
    root = _figure(m)
    for child in root._children.values():
        child.render()
    header = root.header._children.get(m.get_name())
    if header is not None:
        switches = header.render().replace("<script>", f'<script nonce="{nonce}">')
        root.header._children[m.get_name()] = Element(switches)
    page = _NONCED_FIGURE.render(this=root, kwargs={}, nonce=nonce)
    foreign = [tag for tag in _INLINE_SCRIPT.findall(page) if f'nonce="{nonce}"' not in tag]
    if foreign:
        raise ValueError(f"an inline script without the page's nonce: {foreign[0][:60]}")
    return page


def render(m: folium.Map, options: PageOptions, *, layer_control: bool = True) -> str:
    """The finished page as HTML (local assets, a layer control; nonced scripts if asked)."""
    legible = m._children.get(LEGIBLE)
    if layer_control:
        control = folium.LayerControl(collapsed=False)
        control.add_to(m)
        if isinstance(legible, Legible):
            legible.control = control.get_name()
    if legible is not None:
        m._children.move_to_end(LEGIBLE)
    localize(m, options.static_url)
    if options.script_nonce:
        return _render_with_nonce(m, options.script_nonce)
    return m.get_root().render()
