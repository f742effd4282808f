"""The resident map (public): your grid cell and worker, service points and offers near you.

No camera, no phone of a worker, no case: only the cell chain with worker names
and public service points (name, kind, distance, opening hours, public phone), and
the enterprises' offers posted at nearby courtyards (龙潭家空间: jobs, charity, services).
Without a point the page asks the browser for its location and reloads itself.
"""

from __future__ import annotations

import logging

import folium
from branca.element import MacroElement
from folium.elements import JSCSSMixin
from jinja2 import Template

from layers.core.map_types import Outlines, ResidentLayers
from maps import escape
from maps.base import (
    PageOptions,
    Panel,
    display_point,
    fit_to,
    for_display,
    new_map,
    render,
)
from maps.compact import script_json

logger = logging.getLogger(__name__)

KIND_STYLE = {
    # kind: (label, awesome-markers colour, Font Awesome icon)
    "service_station": ("社区服务站 service station", "red", "house-flag"),
    "liaison_post": ("院落连心驿站 liaison post", "orange", "handshake"),
    "appointment_point": ("网上办事预约点 appointment point", "blue", "calendar-check"),
    "police": ("派出所 police", "darkblue", "shield-halved"),
    "clinic": ("卫生服务站 clinic", "green", "kit-medical"),
    "school": ("学校 school", "cadetblue", "school"),
    "elderly_care": ("日间照料 elderly care", "purple", "person-cane"),
    "legal_aid": ("法律援助 legal aid", "darkred", "scale-balanced"),
    "volunteer_post": ("志愿服务站 volunteer post", "darkgreen", "hand-holding-heart"),
}
LEVEL_COLORS = {1: "#08519c", 2: "#3182bd", 3: "#e6550d"}
OFFER_STYLE = {
    "job": ("就业岗位 job", "briefcase"),
    "charity": ("公益慈善 charity", "hand-holding-heart"),
    "service": ("便民服务 service", "screwdriver-wrench"),
}
OFFERS_LAYER = "龙潭家空间 企业资源 enterprise offers"


class LocateMe(MacroElement):
    """Ask the browser for its location and reload the page at it."""

    _template = Template(
        """{% macro script(this, kwargs) %}
        wangge.locateMe({{ this.url_json }}, "wg-locate-msg");
        {% endmacro %}"""
    )

    def __init__(self, page_url: str) -> None:
        super().__init__()
        self.url_json = script_json(page_url)


class ServicesTab(MacroElement):
    """Wire the services panel to the resident's point (`wangge.servicesPanel`)."""

    _template = Template(
        """{% macro script(this, kwargs) %}
        wangge.servicesPanel("wg-services", {{ this.lon }}, {{ this.lat }});
        {% endmacro %}"""
    )

    def __init__(self, lon: float, lat: float) -> None:
        super().__init__()
        self.lon, self.lat = f"{float(lon):.6f}", f"{float(lat):.6f}"


class AddressSearch(JSCSSMixin, MacroElement):
    """The address search box: a picked standard address reloads the page at its entrance."""

    _template = Template(
        """{% macro script(this, kwargs) %}
        wangge.addressSearch("wg-res-addr", "wg-res-addr-list", function (hit) {
          var u = new URL(window.location.href);
          u.searchParams.set("lon", hit.lon.toFixed(7));
          u.searchParams.set("lat", hit.lat.toFixed(7));
          u.searchParams.set("crs", "wgs84");
          window.location.assign(u.toString());
        });
        {% endmacro %}"""
    )

    def __init__(self) -> None:
        super().__init__()
        self.default_js = [("wangge_address_js", "")]
        self.default_css = [("wangge_faces_css", "")]


ADDRESS_HTML = (
    '<label for="wg-res-addr">按地址查找 find by address</label>'
    '<input id="wg-res-addr" type="search" maxlength="200" autocomplete="off"'
    ' placeholder="路名门牌 栋 单元 road, number">'
    '<ul id="wg-res-addr-list" class="wg-addr-list" role="listbox" hidden></ul>'
)
"""Bottom left on both pages (the layer control and services sit top right): for a resident
who knows their address better than their spot."""


def _address_box(m: folium.Map) -> None:
    Panel(ADDRESS_HTML, "bottomleft", css_class="wg-address", foldable=False).add_to(m)
    AddressSearch().add_to(m)


SERVICES_HTML = (
    '<div id="wg-services"><button class="wg-svc-toggle">办事 services</button>'
    '<div class="wg-svc-body"><input class="wg-svc-q" placeholder="搜索事项 e.g. 低保">'
    '<button class="wg-svc-go">搜索 search</button>'
    '<div><input class="wg-svc-pid" placeholder="代办编号 id">'
    '<input class="wg-svc-ptok" placeholder="token">'
    '<button class="wg-svc-follow">查进度 follow</button></div>'
    '<div class="wg-svc-out"></div></div></div>'
)
"""The services tab: catalogue search, nearest free slots, booking, following a request."""


def locate_page(outlines: Outlines, options: PageOptions, page_url: str) -> str:
    """The page without a point: outlines and a request for the browser's location."""
    m = new_map(outlines, options, "便民地图 resident map")
    Panel(
        '<h4>便民地图 resident map</h4><div id="wg-locate-msg">正在获取位置… locating…</div>'
        "<div>或在地址后加 ?lon=…&amp;lat=…&amp;crs=gcj02</div>",
        "topleft",
    ).add_to(m)
    _address_box(m)
    LocateMe(page_url).add_to(m)
    return render(m, options)


def _chain_html(layers: ResidentLayers) -> str:
    chain = layers.chain
    if chain is None:
        return "<h4>您的网格 your grid</h4><div>此处不在网格内 outside the grid</div>"
    rows = [("街道 street", chain.street_name), ("社区 community", chain.community_name)]
    for cell in chain.cells:
        rows.append((f"{cell.level}级网格 level {cell.level}", f"{cell.name or ''} {cell.code}"))
        if cell.worker_name:
            rows.append((f"{cell.level}级网格员 worker", cell.worker_name))
    return "<h4>您的网格 your grid</h4>" + escape.rows_html(rows)


def _points(m: folium.Map, layers: ResidentLayers, options: PageOptions) -> None:
    groups: dict[str, folium.FeatureGroup] = {}
    for p in layers.points:
        label, color, icon = KIND_STYLE.get(p.kind, (p.kind, "gray", "circle-info"))
        group = groups.get(p.kind)
        if group is None:
            group = groups[p.kind] = folium.FeatureGroup(name=label, overlay=True)
        open_text = {True: "营业中 open now", False: "已关闭 closed now", None: "—"}[p.open_now]
        rows = [
            ("类别 kind", label),
            ("距离 distance", f"{p.distance_m:.0f} m"),
            ("状态 now", open_text),
            ("今日 today", ", ".join(p.hours_today or []) or "—"),
            ("时间 hours", p.opening_hours or "—"),
            ("地址 address", p.address or "—"),
            ("电话 phone", p.phone or "—"),
        ]
        folium.Marker(
            display_point(p.lon, p.lat, options),
            icon=folium.Icon(color=color, icon=icon, prefix="fa"),
            popup=folium.Popup(escape.rows_html(rows, title=p.name), max_width=320),
            tooltip=folium.Tooltip(escape.text(f"{p.name} · {p.distance_m:.0f} m")),
        ).add_to(group)
    for group in groups.values():
        group.add_to(m)


def _offers(m: folium.Map, layers: ResidentLayers, options: PageOptions) -> None:
    """Enterprise offers at nearby courtyards: one layer, a marker per offer."""
    group = folium.FeatureGroup(name=OFFERS_LAYER, overlay=True)
    for o in layers.offers:
        label, icon = OFFER_STYLE.get(o.kind, (o.kind, "circle-info"))
        until = o.available_until.isoformat() if o.available_until else "长期 ongoing"
        rows = [
            ("类别 kind", label),
            ("企业 enterprise", o.enterprise_name),
            ("院落 courtyard", o.courtyard_name),
            ("距离 distance", f"{o.distance_m:.0f} m"),
            ("截止 until", until),
            ("说明", o.description or "—"),
            ("电话 phone", o.enterprise_phone or "—"),
        ]
        folium.Marker(
            display_point(o.lon, o.lat, options),
            icon=folium.Icon(color="lightgreen", icon=icon, prefix="fa"),
            popup=folium.Popup(escape.rows_html(rows, title=o.title), max_width=320),
            tooltip=folium.Tooltip(escape.text(f"{o.title} · {o.distance_m:.0f} m")),
        ).add_to(group)
    group.add_to(m)


def build_page(layers: ResidentLayers, options: PageOptions) -> str:
    """The resident map at a point as an HTML page."""
    assert layers.outlines is not None, "the page draws the district outlines"
    m = new_map(layers.outlines, options, "便民地图 resident map")
    cells = for_display(layers.cells, options)
    if not cells.empty:
        cells = escape.escape_properties(cells, ["name", "code"])
        folium.GeoJson(
            cells.to_json(drop_id=True),
            name="您的网格 your grid cells",
            style_function=lambda f: {
                "color": LEVEL_COLORS.get(f["properties"]["level"], "#333333"),
                "weight": 3 - 0.5 * f["properties"]["level"],
                "fillOpacity": 0.08,
            },
            tooltip=folium.GeoJsonTooltip(["name", "code"], aliases=["网格", "code"]),
        ).add_to(m)
        minx, miny, maxx, maxy = cells.total_bounds
        fit_to(m, [[float(miny), float(minx)], [float(maxy), float(maxx)]], max_zoom=16)
    here = display_point(layers.lon, layers.lat, options)
    folium.Marker(
        here,
        icon=folium.Icon(color="black", icon="location-dot", prefix="fa"),
        tooltip=folium.Tooltip("您的位置 you are here"),
    ).add_to(m)
    if cells.empty:
        fit_to(m, None)
        m.location = list(here)
        m.options["zoom"] = 15
    _points(m, layers, options)
    _offers(m, layers, options)
    _address_box(m)
    Panel(_chain_html(layers), "topleft").add_to(m)
    Panel(SERVICES_HTML, "topright", css_class="wg-services", foldable=False).add_to(m)
    ServicesTab(layers.lon, layers.lat).add_to(m)
    return render(m, options)
