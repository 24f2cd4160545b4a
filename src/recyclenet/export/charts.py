"""PNG charts of the pilot in operation, drawn with matplotlib (Agg, no pyplot state).

* :func:`write_series_pngs`: one time-series chart per material group, collected
  against expected by day, week or month (plan versus actual);
* :func:`write_progress_png`: each target's progress from baseline to target, coloured
  like a traffic light (phase evaluation).

Labels in English or Chinese, with the CJK font lookup of :mod:`.map_png`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .map_png import _draw_roads, _extent, _figure_size, _finish, _new_axes, _scatter, _text_setup

if TYPE_CHECKING:
    from ..actuals.compare import PlanVsActual
    from ..actuals.targets import Evaluation

#: Traffic-light colours of :func:`write_progress_png` (and the report).
LIGHT_COLOURS: dict[str, str] = {"green": "#1a9850", "amber": "#fdae61", "red": "#d7301f",
                                 "grey": "#9e9e9e"}  # fmt: skip


def _figure(width_in: float, height_in: float) -> tuple[Any, Any]:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width_in, height_in), dpi=120)
    return fig, fig.add_subplot(1, 1, 1)


def write_series_pngs(
    out_dir: str | Path, result: PlanVsActual, *, lang: str = "en", prefix: str = "actuals_"
) -> list[Path]:
    """One PNG per material group: bars collected, line expected, per period.

    Files are ``<prefix><group>.png`` in ``out_dir``; returns the paths written.
    """
    lab, font = _text_setup(lang)
    groups: dict[str, list[tuple[str, float, float]]] = {}
    for row in result.periods:
        start, group = row.key.split("|", 1)
        groups.setdefault(group, []).append((start, row.expected_kg, row.collected_kg))
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for group, rows in sorted(groups.items()):
        fig, ax = _figure(7.0, 3.2)
        x = list(range(len(rows)))
        ax.bar(x, [r[2] for r in rows], color="#4c72b0", label=lab["chart_collected"])
        ax.plot(x, [r[1] for r in rows], color="#dd8452", marker="o",
                label=lab["chart_expected"])  # fmt: skip
        ax.set_xticks(x, [r[0] for r in rows], rotation=30, ha="right", fontsize=8)
        ax.set_ylabel(lab["chart_kg"], fontproperties=font)
        name = lab.get(f"material_{group}", group)
        ax.set_title(f"{name} · {result.start}–{result.end}", fontproperties=font)
        ax.legend(prop=font, fontsize=8)
        ax.grid(axis="y", alpha=0.3)
        fig.tight_layout()
        path = out / f"{prefix}{group}.png"
        fig.savefig(path)
        written.append(path)
    return written


def write_progress_png(path: str | Path, evaluation: Evaluation, *, lang: str = "en") -> Path:
    """Horizontal bars: each target's progress (%) from baseline to target, by light."""
    lab, font = _text_setup(lang)
    rows = [r for r in evaluation.rows if math.isfinite(r.progress)]
    fig, ax = _figure(7.5, 0.45 * max(len(rows), 2) + 1.2)
    names: Sequence[str] = [r.target.name(lang) for r in rows]
    y = list(range(len(rows)))
    ax.barh(y, [max(min(100.0 * r.progress, 150.0), -50.0) for r in rows],
            color=[LIGHT_COLOURS[r.light] for r in rows])  # fmt: skip
    ax.set_yticks(y, names, fontproperties=font, fontsize=8)
    ax.invert_yaxis()
    ax.axvline(100.0, color="#333333", linewidth=1, linestyle="--")
    ax.set_xlabel(lab["col_progress"], fontproperties=font)
    ax.set_title(f"{lab['evaluation_title']} · {evaluation.as_of}", fontproperties=font)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out)
    return out


def write_achievement_png(
    path: str | Path,
    stations: Mapping[str, Any],
    *,
    roads: Mapping[str, Any] | None = None,
    lang: str = "en",
    dpi: int = 150,
) -> Path:
    """A map of the stations coloured by achievement (the ``station_achievement`` layer).

    Parameters
    ----------
    stations : FeatureCollection
        :func:`recyclenet.actuals.compare.achievement_layer` output (``flag`` and
        ``colour`` properties).
    roads : FeatureCollection, optional
        Road lines drawn underneath.
    """
    lab, font = _text_setup(lang)
    layers: dict[str, Mapping[str, Any]] = {"stations": stations}
    if roads is not None:
        layers["roads"] = roads
    fig, ax = _new_axes(_figure_size(_extent({"stations": stations}), None), dpi)
    _draw_roads(ax, roads)
    handles: list[Any] = []
    by_flag: dict[str, list[tuple[float, float]]] = {}
    colour: dict[str, str] = {}
    for f in stations.get("features", []):
        p = f.get("properties") or {}
        x, y = f["geometry"]["coordinates"][:2]
        by_flag.setdefault(str(p.get("flag")), []).append((float(x), float(y)))
        colour[str(p.get("flag"))] = str(p.get("colour", "#7f7f7f"))
    for flag in ("below", "ok", "above", "no_records", "not_planned"):
        _scatter(ax, handles, by_flag.get(flag, []), lab.get(f"flag_{flag}", flag),
                 face=colour.get(flag, "#7f7f7f"), size=80.0)  # fmt: skip
    return _finish(fig, ax, {"stations": stations}, handles, lab["actuals_map_title"], font,
                   Path(path))  # fmt: skip


__all__ = ["LIGHT_COLOURS", "write_achievement_png", "write_progress_png", "write_series_pngs"]
