"""Districts: polygons that split a city or province into parts solved on their own.

Districts come from a user's GeoJSON (one Polygon or MultiPolygon feature per district,
with ``id`` and ``name`` properties; names such as 朝阳区 are kept as written) or from
the administrative boundaries of an OSM extract (``boundary=administrative`` relations
and closed ways at one ``admin_level``, assembled into multipolygons by pyosmium, read
like the rest of the project's OSM input).

Points (demand, candidate sites, orders) are assigned to districts by point-in-polygon
in a local UTM projection, with a shapely ``STRtree``. A point on a shared border goes
to the first district in the given order. A point outside every district is either
reported (``outside="report"``: it takes part in no district) or assigned to the
nearest district by straight-line distance in metres (``outside="nearest"``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry import MultiPolygon, Polygon

from ..errors import InputError, NetworkError
from ..geo import to_metric, utm_crs

Outside = Literal["report", "nearest"]
OUTSIDE_RULES: tuple[str, ...] = ("report", "nearest")


@dataclass(frozen=True)
class District:
    """One district.

    Attributes
    ----------
    id : str
        Unique id (the GeoJSON ``id`` property, or ``r<relation id>`` from OSM).
    name : str
        Display name, UTF-8 as given.
    geometry : Polygon or MultiPolygon
        WGS-84 lon/lat degrees.
    """

    id: str
    name: str
    geometry: Polygon | MultiPolygon

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not self.id:
            raise InputError(f"district id must be a non-empty string, got {self.id!r}")
        if not isinstance(self.geometry, Polygon | MultiPolygon) or self.geometry.is_empty:
            raise InputError(f"district {self.id!r}: geometry must be a non-empty (Multi)Polygon")
        if not self.geometry.is_valid:
            fixed = shapely.make_valid(self.geometry)
            polys = [g for g in getattr(fixed, "geoms", [fixed]) if isinstance(g, Polygon)]
            if not polys:
                raise InputError(f"district {self.id!r}: the polygon is invalid beyond repair")
            object.__setattr__(
                self, "geometry", MultiPolygon(polys) if len(polys) > 1 else polys[0]
            )


@dataclass(frozen=True)
class DistrictAssignment:
    """Which district each point falls in.

    Attributes
    ----------
    district_of : dict point id -> district id
        Every point inside a district (and, with ``outside="nearest"``, every other).
    outside_ids : tuple of str
        Points in no district (empty with ``outside="nearest"``).
    moved_ids : tuple of str
        Points outside every district that ``outside="nearest"`` assigned.
    """

    district_of: dict[str, str] = field(default_factory=dict)
    outside_ids: tuple[str, ...] = ()
    moved_ids: tuple[str, ...] = ()

    def ids_in(self, district_id: str) -> list[str]:
        """Point ids assigned to one district, in input order."""
        return [p for p, d in self.district_of.items() if d == district_id]


def check_districts(districts: Sequence[District]) -> tuple[District, ...]:
    """Validate a district list: at least one, unique ids.

    Raises
    ------
    InputError
        No districts, or duplicate ids (named).
    """
    out = tuple(districts)
    if not out:
        raise InputError("no districts: give at least one district polygon")
    bad = [d for d in out if not isinstance(d, District)]
    if bad:
        raise InputError(f"districts must be District values, got {bad[0]!r}")
    ids = [d.id for d in out]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        raise InputError(f"duplicate district ids: {dup[:10]}; every district needs its own id")
    return out


def read_districts(
    path: str | Path, *, crs: str = "wgs84", layer: str | int | None = None
) -> tuple[District, ...]:
    """Read districts from any polygon file (GeoJSON, GeoPackage, Shapefile, ...).

    Each feature needs a Polygon or MultiPolygon geometry and an id (``id``/``编号``
    column, a GeoJSON feature ``id``, or ``name``/``名称``); ``name`` is optional (default:
    the id). A declared CRS is reprojected to WGS-84 (see :mod:`recyclenet.readers`).

    Raises
    ------
    InputError
        Unreadable file, a feature without id or with another geometry type (named by
        id), or duplicate ids.
    """
    from ..readers import read_polygons

    polygons = read_polygons(path, kind="districts", crs=crs, layer=layer)
    return check_districts([District(i, n, g) for i, n, g in polygons])


def districts_from_osm(source: str | Path, *, admin_level: int | str) -> tuple[District, ...]:
    """Administrative boundaries at one ``admin_level`` from an OSM extract.

    Parameters
    ----------
    source : str or Path
        An OSM file (PBF or XML, plain or compressed) or an embedded sample name.
    admin_level : int or str
        E.g. 6 (Chinese prefecture-level city in OSM), 7 or 8 (district, county).

    Returns
    -------
    tuple of District
        Ids ``r<relation id>`` (or ``w<way id>`` for closed ways), names from ``name``.
        Boundaries the extract clips (rings that do not close) are skipped.

    Raises
    ------
    InputError
        No complete boundary at that level; the message lists the levels found.
    """
    import osmium

    from ..network.load import SAMPLES, sample_path

    path = sample_path(str(source)) if str(source) in SAMPLES else Path(source)
    if not path.is_file():
        raise NetworkError(f"OSM file not found: {path}")
    level = str(admin_level).strip()
    wkb = osmium.geom.WKBFactory()
    found: list[District] = []
    levels: dict[str, int] = {}
    try:
        processor = (
            osmium.FileProcessor(str(path))
            .with_locations()
            .with_areas(osmium.filter.TagFilter(("boundary", "administrative")))
            .with_filter(osmium.filter.KeyFilter("boundary"))
        )
        for obj in processor:
            if not isinstance(obj, osmium.osm.Area):
                continue
            tags = {t.k: t.v for t in obj.tags}
            if tags.get("boundary") != "administrative":
                continue
            lvl = tags.get("admin_level", "")
            try:
                geom = shapely.from_wkb(bytes.fromhex(wkb.create_multipolygon(obj)))
            except RuntimeError:
                continue  # clipped boundary: its rings do not close in this extract
            levels[lvl] = levels.get(lvl, 0) + 1
            if lvl != level:
                continue
            oid = ("w" if obj.from_way() else "r") + str(obj.orig_id())
            polys = list(getattr(geom, "geoms", [geom]))
            geometry = polys[0] if len(polys) == 1 else MultiPolygon(polys)
            found.append(District(oid, tags.get("name", oid), geometry))
    except RuntimeError as exc:
        raise NetworkError(f"{path} could not be read as OpenStreetMap data ({exc})") from exc
    if not found:
        have = ", ".join(f"{k or '?'} ({v})" for k, v in sorted(levels.items())) or "none"
        raise InputError(
            f"{path}: no complete boundary=administrative area at admin_level={level}; "
            f"complete areas by level: {have}. Choose one of these levels or give a "
            "districts GeoJSON"
        )
    return check_districts(sorted(found, key=lambda d: d.id))


def assign_to_districts(
    ids: Sequence[str],
    lon: npt.ArrayLike,
    lat: npt.ArrayLike,
    districts: Sequence[District],
    *,
    outside: Outside = "report",
) -> DistrictAssignment:
    """Assign points to districts by point-in-polygon (STRtree, local UTM metres).

    Parameters
    ----------
    ids : sequence of str
    lon, lat : array_like
        WGS-84 degrees.
    districts : sequence of District
    outside : {"report", "nearest"}
        Points in no district are listed in ``outside_ids`` (``report``), or go to the
        district at the smallest straight-line distance (``nearest``, listed in
        ``moved_ids``).

    Returns
    -------
    DistrictAssignment
    """
    if outside not in OUTSIDE_RULES:
        raise InputError(f"outside must be one of {OUTSIDE_RULES}, got {outside!r}")
    districts = check_districts(districts)
    lon_a = np.asarray(lon, dtype=np.float64)
    lat_a = np.asarray(lat, dtype=np.float64)
    if lon_a.shape != (len(ids),) or lat_a.shape != (len(ids),):
        raise InputError("lon and lat need one value per point id")
    if not len(ids):
        return DistrictAssignment()
    geoms = [d.geometry for d in districts]
    west, south, east, north = shapely.total_bounds(np.array(geoms, dtype=object))
    crs = utm_crs((west + east) / 2, (south + north) / 2)

    def project(g: Any) -> Any:
        return shapely.transform(g, lambda c: np.column_stack(to_metric(crs, c[:, 0], c[:, 1])))

    polys = np.array([project(g) for g in geoms], dtype=object)
    x, y = to_metric(crs, lon_a, lat_a)
    points = shapely.points(x, y)
    tree = shapely.STRtree(polys)
    p_idx, d_idx = tree.query(points, predicate="intersects")
    first = np.full(len(ids), -1, dtype=np.int64)
    order = np.lexsort((d_idx, p_idx))  # per point, the first district in the given order
    for p, d in zip(p_idx[order].tolist(), d_idx[order].tolist()):
        if first[p] < 0:
            first[p] = d
    out_pos = np.nonzero(first < 0)[0]
    moved: tuple[str, ...] = ()
    if out_pos.size and outside == "nearest":
        near = tree.query_nearest(points[out_pos], all_matches=False, return_distance=False)
        first[out_pos[near[0]]] = near[1]
        moved = tuple(str(ids[int(i)]) for i in out_pos)
    district_of = {
        str(ids[i]): districts[int(first[i])].id for i in range(len(ids)) if first[i] >= 0
    }
    outside_ids = tuple(str(ids[int(i)]) for i in np.nonzero(first < 0)[0])
    return DistrictAssignment(district_of, outside_ids, moved)


def districts_geojson(districts: Sequence[District]) -> dict[str, Any]:
    """Districts as a GeoJSON FeatureCollection (RFC 7946; names as UTF-8)."""
    from shapely.geometry import mapping
    from shapely.geometry.polygon import orient

    feats = []
    for d in districts:
        polys = [orient(p, 1.0) for p in getattr(d.geometry, "geoms", [d.geometry])]
        geom = polys[0] if len(polys) == 1 else MultiPolygon(polys)
        feats.append(
            {
                "type": "Feature",
                "id": d.id,
                "geometry": mapping(geom),
                "properties": {"id": d.id, "name": d.name},
            }
        )
    return {"type": "FeatureCollection", "features": feats}
