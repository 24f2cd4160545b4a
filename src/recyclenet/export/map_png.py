"""PNG maps of plans for reports, drawn with matplotlib (Agg, no display needed).

Two maps from the same layers as the HTML map (:func:`recyclenet.export.map_html.map_layers`):

* the **siting map**: roads, walking coverage, stations (existing kept / new / closed),
  sorting centres and the station → centre links;
* the **routes map**: roads, one colour per vehicle (the HTML map's colours), stops,
  unloading stops, depots and unserved orders.

Legends are in English or Chinese (:mod:`recyclenet.i18n`). Chinese needs a CJK font:
:func:`cjk_font_family` looks in matplotlib's font list and then asks fontconfig
(``fc-list :lang=zh``; Debian's ``fonts-noto-cjk``, installed by ``make system-deps``).
Without one the map is drawn with English labels and a :class:`UserWarning` says why.

Figures are made with :class:`matplotlib.figure.Figure` directly (no pyplot), so nothing
changes matplotlib's global backend or state.
"""

from __future__ import annotations

import functools
import math
import shutil
import subprocess
import warnings
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ..i18n import check_lang, labels
from .map_html import COLOURS, map_layers, vehicle_colours

CJK_FAMILIES: tuple[str, ...] = (
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "Noto Sans SC",
    "Source Han Sans CN",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Droid Sans Fallback",
    "Microsoft YaHei",
    "PingFang SC",
    "SimHei",
    "Noto Sans CJK TC",
    "Noto Sans CJK JP",
    "Noto Serif CJK SC",
    "AR PL UMing CN",
    "AR PL UKai CN",
)
"""Font families tried for Chinese labels, best first."""

_PROBE = "回收站点分拣中心图例路线车场"


def _covers(entry: Any, text: str) -> bool:
    """Whether the font file of a matplotlib FontEntry has a glyph for every char."""
    from matplotlib import ft2font

    try:
        try:
            font = ft2font.FT2Font(entry.fname, face_index=getattr(entry, "index", 0))
        except TypeError:  # matplotlib < 3.10: no face_index
            font = ft2font.FT2Font(entry.fname)
        return all(font.get_char_index(ord(ch)) for ch in text)
    except (OSError, RuntimeError, ValueError):
        return False


def _fontconfig_zh_files() -> list[str]:
    """Font files that cover Chinese: ``fc-list :lang=zh``, else well-known file names."""
    files: set[str] = set()
    fc_list = shutil.which("fc-list")
    if fc_list is not None:
        try:
            out = subprocess.run(
                [fc_list, ":lang=zh", "file"],
                capture_output=True,
                text=True,
                timeout=30,
                check=False,
            ).stdout
            files = {line.split(":")[0].strip() for line in out.splitlines() if line.strip()}
        except (OSError, subprocess.SubprocessError):
            files = set()
    if not files:
        for folder in ("/usr/share/fonts", "/usr/local/share/fonts"):
            for pattern in _CJK_FILE_PATTERNS:
                files.update(str(p) for p in Path(folder).rglob(pattern))
    # sans before serif, regular before bold
    return sorted(files, key=lambda f: ("Serif" in f, "Bold" in f or "Black" in f, f))


_CJK_FILE_PATTERNS = ("*CJK*", "wqy*", "*SourceHanSans*", "DroidSansFallback*", "uming*")


@functools.cache
def cjk_font_family() -> str | None:
    """A font family matplotlib can draw Chinese labels with, or None.

    Looks in matplotlib's font list first; when that has none, registers the files
    ``fc-list :lang=zh`` names (fonts installed after matplotlib built its cache) and
    looks again. Every candidate is checked to have glyphs for the map's labels.
    """
    from matplotlib import font_manager

    def pick() -> str | None:
        entries = font_manager.fontManager.ttflist
        by_name: dict[str, list[Any]] = {}
        for e in entries:
            by_name.setdefault(e.name, []).append(e)
        for family in CJK_FAMILIES:
            if any(_covers(e, _PROBE) for e in by_name.get(family, [])):
                return family
        return None

    family = pick()
    if family is not None:
        return family
    known = {e.fname for e in font_manager.fontManager.ttflist}
    added: list[str] = []
    for path in _fontconfig_zh_files():
        if path in known:
            continue
        try:
            font_manager.fontManager.addfont(path)
            added.append(path)
        except (OSError, RuntimeError, ValueError):
            continue
    family = pick()
    if family is not None:
        return family
    for e in font_manager.fontManager.ttflist:  # any other font that has the glyphs
        if e.fname in added and _covers(e, _PROBE):
            return str(e.name)
    return None


def _text_setup(lang: str) -> tuple[dict[str, str], Any]:
    """Labels and the FontProperties to draw them with; English if no CJK font."""
    from matplotlib.font_manager import FontProperties

    check_lang(lang)
    if lang == "zh":
        family = cjk_font_family()
        if family is None:
            warnings.warn(
                "no font with Chinese glyphs found (install Debian's fonts-noto-cjk, e.g. "
                "`make system-deps`); drawing the PNG map with English labels",
                UserWarning,
                stacklevel=3,
            )
            lang = "en"
        else:
            return labels("zh"), FontProperties(family=[family, "DejaVu Sans"])
    return labels(lang), FontProperties(family=["DejaVu Sans", "sans-serif"])


# --------------------------------------------------------------------------- drawing


def _parts(geom: Mapping[str, Any] | None, kinds: tuple[str, str]) -> list[Any]:
    """Coordinates of a geometry's single parts of type ``kinds[0]`` (or multi ``kinds[1]``)."""
    if not geom:
        return []
    if geom.get("type") == kinds[0]:
        return [geom["coordinates"]]
    if geom.get("type") == kinds[1]:
        return list(geom["coordinates"])
    if geom.get("type") == "GeometryCollection":
        return [p for g in geom.get("geometries", []) for p in _parts(g, kinds)]
    return []


def _lines(fc: Mapping[str, Any] | None) -> list[tuple[list[Any], dict[str, Any]]]:
    out = []
    for f in (fc or {}).get("features", []):
        for coords in _parts(f.get("geometry"), ("LineString", "MultiLineString")):
            if len(coords) >= 2:
                out.append(([c[:2] for c in coords], f.get("properties") or {}))
    return out


def _points(fc: Mapping[str, Any] | None) -> list[tuple[float, float, dict[str, Any]]]:
    out = []
    for f in (fc or {}).get("features", []):
        for c in _parts(f.get("geometry"), ("Point", "MultiPoint")):
            out.append((float(c[0]), float(c[1]), f.get("properties") or {}))
    return out


def _polygon_path(rings: Sequence[Sequence[Sequence[float]]]) -> Any:
    from matplotlib.path import Path as MplPath

    verts: list[Sequence[float]] = []
    codes: list[int] = []
    for ring in rings:
        if len(ring) < 3:
            continue
        verts.extend(p[:2] for p in ring)
        codes.extend(
            [int(MplPath.MOVETO)]
            + [int(MplPath.LINETO)] * (len(ring) - 2)
            + [int(MplPath.CLOSEPOLY)]
        )
    return MplPath(verts, codes) if verts else None


def _extent(layers: Mapping[str, Mapping[str, Any]]) -> tuple[float, float, float, float] | None:
    """(west, south, east, north) of every coordinate of the layers, or None."""
    xs: list[float] = []
    ys: list[float] = []
    for fc in layers.values():
        for f in fc.get("features", []):
            _extend_bounds(f.get("geometry"), xs, ys)
    return (min(xs), min(ys), max(xs), max(ys)) if xs else None


def _figure_size(
    extent: tuple[float, float, float, float] | None, size_in: tuple[float, float] | None
) -> tuple[float, float]:
    """The given size, else one fitting the map's shape: map ≤ 9 x 9 in, legend at the side."""
    if size_in is not None:
        return size_in
    if extent is None:
        return (10.0, 7.0)
    west, south, east, north = extent
    ratio = (north - south) / max((east - west) * math.cos(math.radians((south + north) / 2)), 1e-9)
    ratio = min(max(ratio, 0.4), 2.5)
    map_w, map_h = (9.0, 9.0 * ratio) if ratio <= 1 else (9.0 / ratio, 9.0)
    return (map_w + 3.2, max(map_h + 0.6, 4.0))


def _new_axes(size_in: tuple[float, float], dpi: int) -> tuple[Any, Any]:
    from matplotlib.figure import Figure

    fig = Figure(figsize=size_in, dpi=dpi, layout="constrained", facecolor="white")
    ax = fig.add_subplot()
    ax.set_facecolor("#f4f3ef")
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_color("#bdbdbd")
    return fig, ax


def _draw_roads(ax: Any, roads: Mapping[str, Any] | None) -> None:
    from matplotlib.collections import LineCollection

    lines = _lines(roads)
    if lines:
        major = {"motorway", "trunk", "primary", "secondary"}
        widths = [1.0 if p.get("highway") in major else 0.5 for _, p in lines]
        ax.add_collection(
            LineCollection(
                [c for c, _ in lines], colors=COLOURS["road"], linewidths=widths, zorder=1
            )
        )


def _finish(
    fig: Any,
    ax: Any,
    layers: Mapping[str, Mapping[str, Any]],
    handles: list[Any],
    title: str,
    font: Any,
    path: Path,
) -> Path:
    extent = _extent(layers)
    if extent is not None:
        west, south, east, north = extent
        pad_x = max((east - west) * 0.04, 1e-4)
        pad_y = max((north - south) * 0.04, 1e-4)
        ax.set_xlim(west - pad_x, east + pad_x)
        ax.set_ylim(south - pad_y, north + pad_y)
        ax.set_aspect(1.0 / max(math.cos(math.radians((south + north) / 2)), 0.01))
    title_font = font.copy()
    title_font.set_size(13)
    title_font.set_weight("bold")
    ax.set_title(title, fontproperties=title_font, loc="left")
    if handles:
        legend_font = font.copy()
        legend_font.set_size(8.5)
        fig.legend(handles=handles, prop=legend_font, loc="outside right upper", frameon=False)
    ax.text(
        0.99,
        0.005,
        "© OpenStreetMap contributors",
        transform=ax.transAxes,
        ha="right",
        va="bottom",
        fontsize=6,
        color="#616161",
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png", facecolor="white")
    return path


def _extend_bounds(geom: Mapping[str, Any] | None, xs: list[float], ys: list[float]) -> None:
    if not geom:
        return
    if geom.get("type") == "GeometryCollection":
        for g in geom.get("geometries", []):
            _extend_bounds(g, xs, ys)
        return

    def walk(c: Any) -> None:
        if c and isinstance(c[0], int | float):
            xs.append(float(c[0]))
            ys.append(float(c[1]))
        else:
            for sub in c or []:
                walk(sub)

    walk(geom.get("coordinates"))


def _line_handle(colour: str, label: str, width: float = 2.0, style: Any = "-") -> Any:
    from matplotlib.lines import Line2D

    return Line2D([], [], color=colour, linewidth=width, linestyle=style, label=label)


def _draw_routes(
    ax: Any,
    handles: list[Any],
    routes_fc: Mapping[str, Any] | None,
    label: str,
    width: float,
    *,
    zorder: int,
) -> dict[str, str]:
    """Draw route LineStrings one colour per ``vehicle_id``, add a legend entry per vehicle
    (``"<label> <vehicle>"``), and return the vehicle → colour mapping (the HTML map's)."""
    routes = _lines(routes_fc)
    colours = vehicle_colours(str(p.get("vehicle_id")) for _, p in routes)
    for coords, p in routes:
        ax.plot(
            [c[0] for c in coords],
            [c[1] for c in coords],
            color=colours[str(p.get("vehicle_id"))],
            linewidth=width,
            alpha=0.85,
            solid_capstyle="round",
            zorder=zorder,
        )
    for vehicle, colour in colours.items():
        handles.append(_line_handle(colour, f"{label} {vehicle}", width + 0.3))
    return colours


def _scatter(
    ax: Any,
    handles: list[Any],
    xy: Sequence[tuple[Any, ...]],
    label: str,
    *,
    face: str,
    edge: str = "white",
    size: float = 60.0,
    marker: str = "o",
    width: float = 1.5,
    zorder: int = 5,
    legend_size: float = 8.0,
) -> None:
    """Draw points ``(x, y, ...)`` as one marker style and add their legend entry."""
    if not xy:
        return
    ax.scatter([p[0] for p in xy], [p[1] for p in xy], s=size, marker=marker, c=face,
               edgecolors=edge, linewidths=width, zorder=zorder)  # fmt: skip
    handles.append(_point_handle(face, label, edge, legend_size, marker))


def _point_handle(
    face: str, label: str, edge: str = "white", size: float = 8.0, marker: str = "o"
) -> Any:
    from matplotlib.lines import Line2D

    return Line2D(
        [],
        [],
        linestyle="",
        marker=marker,
        markersize=size,
        markerfacecolor=face,
        markeredgecolor=edge,
        markeredgewidth=1.2,
        label=label,
    )


def write_siting_png(
    path: str | Path,
    layers: Mapping[str, Mapping[str, Any]],
    *,
    lang: str = "en",
    title: str | None = None,
    size_in: tuple[float, float] | None = None,
    dpi: int = 150,
) -> Path:
    """The siting map: roads, coverage, stations, sorting centres and their links.

    Parameters
    ----------
    path : path of the PNG to write (folders are created)
    layers : mapping of name to FeatureCollection
        As for :func:`recyclenet.export.map_html.map_layers` (extra layers are ignored).
    lang : {"en", "zh"}
        Legend language; ``zh`` without a CJK font falls back to English with a warning.
    title : str, optional
        Defaults to the ``siting_map`` label.
    size_in : (width, height), optional
        Figure size in inches; by default the map's shape sets it (map at most 9 in on
        its longer side, legend beside it).
    dpi : int
        Resolution, dots per inch.

    Returns
    -------
    Path
    """
    from matplotlib.collections import PatchCollection
    from matplotlib.patches import Patch, PathPatch

    text, font = _text_setup(lang)
    m = map_layers(layers)
    keep = {
        k: v
        for k, v in m.items()
        if k in ("roads", "coverage", "stations", "centres", "centre_links")
    }
    fig, ax = _new_axes(_figure_size(_extent(keep), size_in), dpi)
    handles: list[Any] = []
    _draw_roads(ax, keep.get("roads"))
    if "roads" in keep:
        handles.append(_line_handle(COLOURS["road"], text["roads"], 1.0))
    patches = []
    for f in keep.get("coverage", {}).get("features", []):
        for rings in _parts(f.get("geometry"), ("Polygon", "MultiPolygon")):
            p = _polygon_path(rings)
            if p is not None:
                patches.append(PathPatch(p))
    if patches:
        ax.add_collection(
            PatchCollection(
                patches,
                facecolor=COLOURS["coverage"],
                alpha=0.18,
                edgecolor=COLOURS["coverage"],
                linewidth=0.8,
                zorder=2,
            )
        )
        handles.append(
            Patch(
                facecolor=COLOURS["coverage"],
                alpha=0.3,
                edgecolor=COLOURS["coverage"],
                label=text["coverage"],
            )
        )
    links = _lines(keep.get("centre_links"))
    for coords, _ in links:
        ax.plot(
            [c[0] for c in coords],
            [c[1] for c in coords],
            color=COLOURS["centre"],
            linewidth=1.2,
            linestyle="--",
            alpha=0.8,
            zorder=3,
        )
    if links:
        handles.append(_line_handle(COLOURS["centre"], text["centre_links"], 1.2, "--"))
    by_state: dict[str, list[tuple[float, float]]] = {"kept": [], "opened": [], "closed": []}
    for x, y, p in _points(keep.get("stations")):
        state = p.get("state")
        state = (
            "closed"
            if state == "closed"
            else "kept"
            if state == "kept" or p.get("status") == "existing"
            else "opened"
        )
        by_state[state].append((x, y))
    names = {"kept": "existing_station", "opened": "new_station", "closed": "closed_station"}
    for state, pts in by_state.items():
        if not pts:
            continue
        face = "white" if state == "closed" else COLOURS[state]
        edge = COLOURS["closed"] if state == "closed" else "#263238"
        _scatter(ax, handles, pts, text[names[state]], face=face, edge=edge, width=1.0)
    _scatter(ax, handles, _points(keep.get("centres")), text["sorting_centre"],
             face=COLOURS["centre"], size=150, marker="s", zorder=6, legend_size=10)  # fmt: skip
    return _finish(fig, ax, keep, handles, title or text["siting_map"], font, Path(path))


def write_routes_png(
    path: str | Path,
    layers: Mapping[str, Mapping[str, Any]],
    *,
    lang: str = "en",
    title: str | None = None,
    size_in: tuple[float, float] | None = None,
    dpi: int = 150,
) -> Path:
    """The routes map: roads, one colour per vehicle, stops, depots, unserved orders.

    Parameters are those of :func:`write_siting_png`; ``title`` defaults to the
    ``routes_map`` label. Vehicle colours are the HTML map's
    (:func:`~recyclenet.export.map_html.vehicle_colours`).
    """
    text, font = _text_setup(lang)
    m = map_layers(layers)
    keep = {k: v for k, v in m.items() if k in ("roads", "routes", "stops", "depots", "unserved")}
    fig, ax = _new_axes(_figure_size(_extent(keep), size_in), dpi)
    handles: list[Any] = []
    _draw_roads(ax, keep.get("roads"))
    if "roads" in keep:
        handles.append(_line_handle(COLOURS["road"], text["roads"], 1.0))
    colours = _draw_routes(ax, handles, keep.get("routes"), text["route"], 2.2, zorder=3)
    stops = _points(keep.get("stops"))
    at_facility = ("unload", "end")  # an end stop here is a route ending at a facility
    orders = [(x, y, p) for x, y, p in stops if p.get("kind") not in at_facility]
    unloads = [(x, y, p) for x, y, p in stops if p.get("kind") in at_facility]
    if orders:
        ax.scatter(
            [x for x, _, _ in orders],
            [y for _, y, _ in orders],
            s=22,
            c=[colours.get(str(p.get("vehicle_id")), "#607d8b") for _, _, p in orders],
            edgecolors="white",
            linewidths=0.8,
            zorder=5,
        )
        handles.append(_point_handle("#607d8b", text["stop"], size=6))
    _scatter(ax, handles, unloads, text["unload_stop"], face=COLOURS["unload"], size=110,
             marker="s", zorder=6, legend_size=9)  # fmt: skip
    _scatter(ax, handles, _points(keep.get("depots")), text["depot"], face=COLOURS["depot"],
             size=130, marker="D", zorder=7)  # fmt: skip
    _scatter(ax, handles, _points(keep.get("unserved")), text["unserved"],
             face=COLOURS["unserved"], edge="black", size=50, marker="X", width=0.6,
             zorder=8)  # fmt: skip
    return _finish(fig, ax, keep, handles, title or text["routes_map"], font, Path(path))


def write_map_pngs(
    out_dir: str | Path,
    layers: Mapping[str, Mapping[str, Any]],
    *,
    lang: str = "en",
    names: Iterable[str] = ("siting_map.png", "routes_map.png"),
    dpi: int = 150,
) -> list[Path]:
    """Write the siting map and the routes map that ``layers`` have data for.

    The siting map is written when there are stations, coverage or centres; the routes
    map when there are routes or stops. Returns the paths written.
    """
    siting_name, routes_name = tuple(names)
    present = set(map_layers(layers))
    out = Path(out_dir)
    written = []
    if present & {"stations", "coverage", "centres"}:
        written.append(write_siting_png(out / siting_name, layers, lang=lang, dpi=dpi))
    if present & {"routes", "stops", "depots", "unserved"}:
        written.append(write_routes_png(out / routes_name, layers, lang=lang, dpi=dpi))
    return written
