"""The industrial park map as a PNG: roads, flows (lines with tonnes), routes, places.

Layers are those of :meth:`recyclenet.parks.plan.ParkRun.geojson_layers`: ``roads``,
``flows`` (enterprise → receiver LineStrings with ``tonnes_per_year``; by-product
exchanges dashed), ``routes`` (road-following route LineStrings), ``enterprises``,
``receivers`` and ``sites`` (Points). Line width grows with the tonnes; the largest flows
are labelled. Drawing helpers and colours are :mod:`recyclenet.export.map_png`'s.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .map_html import COLOURS
from .map_png import (
    _draw_roads,
    _draw_routes,
    _extent,
    _figure_size,
    _finish,
    _line_handle,
    _lines,
    _new_axes,
    _points,
    _scatter,
    _text_setup,
)

#: Flow colours by kind (apart from the vehicle palette, which draws the routes).
FLOW_COLOUR = {"general": "#004d40", "hazardous": "#880e4f", "exchange": "#ff6f00"}
#: Flows labelled with their tonnes, largest first.
LABELLED_FLOWS = 8


def write_park_png(
    path: str | Path,
    layers: Mapping[str, Mapping[str, Any]],
    *,
    lang: str = "en",
    title: str | None = None,
    dpi: int = 150,
) -> Path:
    """Write the park map (see the module docstring); return the path."""
    text, font = _text_setup(lang)
    keep = {k: v for k, v in layers.items() if v and v.get("features")}
    fig, ax = _new_axes(_figure_size(_extent(keep), None), dpi)
    handles: list[Any] = []
    _draw_roads(ax, keep.get("roads"))
    if "roads" in keep:
        handles.append(_line_handle(COLOURS["road"], text["roads"], 1.0))
    _draw_routes(ax, handles, keep.get("routes"), text["map_park_route"], 2.0, zorder=4)
    flows = _lines(keep.get("flows"))
    top = max((float(p.get("tonnes_per_year") or 0.0) for _, p in flows), default=1.0) or 1.0
    seen: set[str] = set()
    ranked = sorted(flows, key=lambda f: -float(f[1].get("tonnes_per_year") or 0.0))
    for k, (coords, p) in enumerate(ranked):
        t = float(p.get("tonnes_per_year") or 0.0)
        kind = "exchange" if p.get("exchange") else str(p.get("waste_kind", "general"))
        ax.plot(
            [c[0] for c in coords],
            [c[1] for c in coords],
            color=FLOW_COLOUR[kind],
            linewidth=1.0 + 5.0 * math.sqrt(t / top),
            alpha=0.35,
            zorder=3,
            linestyle="--" if kind == "exchange" else "-",
        )
        if kind not in seen:
            seen.add(kind)
            handles.append(
                _line_handle(
                    FLOW_COLOUR[kind],
                    f"{text['map_park_flow']}: {text['map_park_flow_' + kind]}",
                    2.5,
                    "--" if kind == "exchange" else "-",
                )
            )
        if k < LABELLED_FLOWS:
            mid = (
                coords[len(coords) // 2]
                if len(coords) > 2
                else ((coords[0][0] + coords[-1][0]) / 2, (coords[0][1] + coords[-1][1]) / 2)
            )
            ax.annotate(
                f"{t:,.0f} t", mid, fontsize=6.5, color="#212121", zorder=9, fontproperties=font
            )
    _scatter(
        ax,
        handles,
        _points(keep.get("enterprises")),
        text["map_park_enterprise"],
        face="#1565c0",
        size=55,
        zorder=6,
    )
    _scatter(
        ax,
        handles,
        _points(keep.get("receivers")),
        text["map_park_receiver"],
        face="#6a1b9a",
        size=90,
        marker="s",
        zorder=7,
    )
    sites = _points(keep.get("sites"))
    _scatter(
        ax,
        handles,
        [s for s in sites if s[2].get("open")],
        text["map_park_site"],
        face="#ff8f00",
        size=160,
        marker="*",
        edge="black",
        width=0.8,
        zorder=8,
    )
    return _finish(fig, ax, keep, handles, title or text["group_park"], font, Path(path))
