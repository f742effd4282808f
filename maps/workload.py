"""The workload map (staff): live cells coloured by open cases and by households per worker.

Level 1 is shown; levels 2 and 3 are layers to switch on.  All 21,000 cells of the
full district go to the page as compact polygons (`maps.compact`), so it stays
under 5 MB and draws on a canvas.
"""

from __future__ import annotations

import logging

import numpy as np

from layers.core.map_types import WorkloadLayers
from maps.base import PageOptions, Panel, for_display, legend_html, new_map, render
from maps.compact import CompactPolygons

logger = logging.getLogger(__name__)

OPEN_BREAKS = [1, 3, 6, 10]
OPEN_COLORS = ["#f7fcf5", "#c7e9c0", "#74c476", "#fd8d3c", "#bd0026"]
LOAD_BREAKS = [150, 250, 350, 500]
LOAD_COLORS = ["#f2f0f7", "#cbc9e2", "#9e9ac8", "#756bb1", "#54278f"]
LEVEL_NAMES = {1: "一级网格 level 1", 2: "二级网格 level 2", 3: "三级网格 level 3"}
TOOLTIP = [
    ("code", "网格 code"),
    ("name", "名称"),
    ("worker_names", "网格员"),
    ("open_cases", "未结案件 open cases"),
    ("overdue", "超时 overdue"),
    ("households", "户数 households"),
    ("workers", "网格员数 workers"),
    ("households_per_worker", "户/人 per worker"),
]


def _scaled(breaks: list[int], level: int) -> list[float]:
    """Smaller cells get proportionally smaller class breaks (level 2 ≈ ½, level 3 ≈ ⅒)."""
    factor = {1: 1.0, 2: 0.6, 3: 0.1}[level]
    return sorted({round(float(b) * factor, 1) for b in breaks})


def build_page(layers: WorkloadLayers, options: PageOptions) -> str:
    """The workload map as an HTML page."""
    m = new_map(layers.outlines, options, "网格工作量 workload")
    m.options["prefer_canvas"] = True
    for level in (1, 2, 3):
        gdf = layers.levels.get(level)
        if gdf is None or gdf.empty:
            continue
        shown = for_display(gdf, options)
        shown["households_per_worker"] = shown["households_per_worker"].replace(np.nan, None)
        style_open = {
            "field": "open_cases",
            "breaks": _scaled(OPEN_BREAKS, level),
            "colors": OPEN_COLORS[: len(_scaled(OPEN_BREAKS, level)) + 1],
            "weight": 1.2 if level == 1 else 0.5,
            "fillOpacity": 0.65,
        }
        CompactPolygons(
            shown,
            name=f"{LEVEL_NAMES[level]}: 未结案件 open cases",
            style=style_open,
            tooltip=TOOLTIP,
            show=level == 1,
        ).add_to(m)
        if level == 1:
            CompactPolygons(
                shown,
                name=f"{LEVEL_NAMES[level]}: 户/网格员 households per worker",
                style={
                    "field": "households_per_worker",
                    "breaks": LOAD_BREAKS,
                    "colors": LOAD_COLORS,
                    "weight": 1.0,
                    "fillOpacity": 0.65,
                },
                tooltip=TOOLTIP,
                show=False,
            ).add_to(m)
    open_items = [(c, f"≥ {b}") for b, c in zip([0, *OPEN_BREAKS], OPEN_COLORS, strict=True)]
    load_items = [(c, f"≥ {b}") for b, c in zip([0, *LOAD_BREAKS], LOAD_COLORS, strict=True)]
    open_layer = f"{LEVEL_NAMES[1]}: 未结案件 open cases"
    load_layer = f"{LEVEL_NAMES[1]}: 户/网格员 households per worker"
    Panel(
        legend_html("一级网格未结案件 open cases (level 1)", open_items, [open_layer]), "bottomleft"
    ).add_to(m)
    Panel(
        legend_html("户/网格员 households per worker", load_items, [load_layer]), "bottomright"
    ).add_to(m)
    stamp = layers.as_of.strftime("%Y-%m-%d %H:%M UTC")
    Panel(f"<h4>网格工作量 workload</h4><div>as of {stamp}</div>", "topleft").add_to(m)
    return render(m, options)
