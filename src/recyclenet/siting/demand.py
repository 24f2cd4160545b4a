"""Household demand a bureau can defend: the best evidence of an extract, per area.

A dasymetric estimate: households come from the most direct evidence available in each
place, then an optional known total rescales them (the classic calibration of a proxy).

Evidence, per place
    - ``building_flats``: buildings tagged ``building:flats`` (households as tagged);
    - ``building_footprint``: other residential buildings, footprint x levels (tagged or
      the type's default) x residential share / floor area per household
      (``data/households.csv``, :func:`recyclenet.osm_features.estimate_households`);
    - ``residential_land``: ``landuse=residential`` areas (compounds, housing districts)
      with no mapped residential building inside: land area x floor-area ratio of the
      urban context x residential share / floor area per household
      (``data/residential_density.csv`` from GB 50180-2018, ``data/demand_factors.csv``
      from the 2020 census), spread over the area on a grid.
Calibration (optional, in this order)
    - a population raster (GeoTIFF, persons per cell, e.g. WorldPop): in every raster
      cell the OSM households are scaled to the cell's persons / persons per household;
      a cell with people and no OSM evidence gets a point at its centre;
    - a districts file (GeoJSON polygons with a ``households`` total, as a statistics
      yearbook gives them): the households in each district are scaled to its total (a
      district without any gets one point carrying its total);
    - ``households_total``: everything scaled to one total for the whole area.
The points are then aggregated to grid cells (the demand points of the models).

The report gives the households per source, the residential land and the density per
km² of it, and warns when the density is implausibly low: a plan that covers 100% of a
tenth of the people must not read as a success.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Literal, get_args

import numpy as np
import numpy.typing as npt
import shapely

from ..errors import InputError
from ..geo import to_lonlat, to_metric, utm_crs
from ..osm_features import Building, OsmFeatures
from ..tables import read_table
from .problem import Demand

FloatArray = npt.NDArray[np.float64]

SOURCES = ("building_flats", "building_footprint", "residential_land", "raster")
UrbanContext = Literal["auto", "low_rise", "mid_rise", "mid_high_rise", "high_rise",
                       "super_high_rise"]  # fmt: skip
URBAN_CONTEXTS: tuple[str, ...] = get_args(UrbanContext)
HOUSE_TYPES = ("house", "detached", "semidetached_house", "terrace", "bungalow", "farm",
               "static_caravan")  # fmt: skip
#: Buildings with tagged levels (or of any type) needed before "auto" trusts them.
AUTO_MIN_BUILDINGS = 10
#: Relative tolerance of a reproduced total (0.1%).
TOTAL_TOLERANCE = 1e-3


@cache
def density_table() -> dict[str, dict[str, float]]:
    """Urban context → levels, FAR and building coverage (``residential_density.csv``)."""
    _, rows = read_table(None, "residential_density.csv")
    return {r["context"]: {k: float(v) for k, v in r.items() if k != "context"} for r in rows}


@cache
def demand_factors() -> dict[str, float]:
    """Floor area and persons per household, residential share, density floor."""
    _, rows = read_table(None, "demand_factors.csv")
    return {r["factor"]: float(r["value"]) for r in rows}


def land_households_per_m2(context: str) -> float:
    """Households per m² of residential land in an urban context (FAR x share / area)."""
    f = demand_factors()
    far = density_table()[context]["floor_area_ratio"]
    return far * f["residential_share"] / f["floor_area_per_household_m2"]


@dataclass(frozen=True)
class DemandEstimate:
    """Demand points with the account of where their households come from.

    Attributes
    ----------
    demand : list of Demand
        One point per grid cell (households after calibration).
    households_by_source : dict
        Households per evidence source before calibration (``SOURCES``).
    households_total : float
        After calibration.
    calibration : str
        ``none``, ``raster``, ``districts`` or ``households_total`` (the last applied).
    urban_context : str
        The context whose floor-area ratio priced residential land.
    residential_land_km2 : float
        ``landuse=residential`` land (union), plus the footprint of residential buildings
        outside it divided by the context's building coverage.
    density_hh_per_km2 : float
        ``households_total`` per km² of residential land (nan without land).
    warnings : tuple of str
    """

    demand: list[Demand]
    households_by_source: dict[str, float]
    households_total: float
    calibration: str
    urban_context: str
    residential_land_km2: float
    density_hh_per_km2: float
    scale_by_district: dict[str, float] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready report (without the points)."""

        def num(x: float, nd: int = 2) -> float | None:
            return round(float(x), nd) if math.isfinite(x) else None

        return {
            "households_by_source": {k: num(v) for k, v in self.households_by_source.items()},
            "households_total": num(self.households_total),
            "calibration": self.calibration,
            "urban_context": self.urban_context,
            "residential_land_km2": num(self.residential_land_km2, 4),
            "density_hh_per_km2": num(self.density_hh_per_km2, 1),
            "scale_by_district": {k: num(v, 6) for k, v in self.scale_by_district.items()},
            "demand_points": len(self.demand),
            "warnings": list(self.warnings),
        }

    def summary_lines(self) -> list[str]:
        """Human-readable lines: households by source, density, warnings."""
        parts = ", ".join(f"{k} {v:,.0f}" for k, v in self.households_by_source.items() if v)
        lines = [
            f"households {self.households_total:,.0f} ({parts or 'none'}; calibration "
            f"{self.calibration}; context {self.urban_context})",
            f"residential land {self.residential_land_km2:.2f} km², "
            f"{self.density_hh_per_km2:,.0f} households per km²",
        ]
        return lines + [f"warning: {w}" for w in self.warnings]


def _pick_context(homes: list[Building], requested: str) -> str:
    if requested not in URBAN_CONTEXTS:
        raise InputError(
            f"urban_context must be one of {', '.join(URBAN_CONTEXTS)}, got {requested!r}"
        )
    if requested != "auto":
        return requested
    table = density_table()
    tagged = [b.levels for b in homes if b.levels_tagged]
    if len(tagged) >= AUTO_MIN_BUILDINGS:
        levels = float(np.median(tagged))
        for name, row in table.items():
            if levels < row["levels_max"] + 1:
                return name
        return list(table)[-1]
    if len(homes) >= AUTO_MIN_BUILDINGS:
        houses = sum(b.building in HOUSE_TYPES for b in homes)
        if houses > 0.5 * len(homes):
            return "low_rise"
    return "mid_rise"


def _grid_keys(x: FloatArray, y: FloatArray, cell_m: float) -> npt.NDArray[np.int64]:
    return np.column_stack([np.floor(x / cell_m), np.floor(y / cell_m)]).astype(np.int64)


def _spread(poly: shapely.Geometry, households: float, step_m: float) -> tuple[FloatArray, ...]:
    """Points on a ``step_m`` grid inside a projected polygon, households shared evenly."""
    west, south, east, north = poly.bounds
    xs = np.arange(west + step_m / 2, east, step_m)
    ys = np.arange(south + step_m / 2, north, step_m)
    if xs.size and ys.size:
        gx, gy = np.meshgrid(xs, ys)
        pts = shapely.points(gx.ravel(), gy.ravel())
        inside = shapely.contains(poly, pts)
        x, y = gx.ravel()[inside], gy.ravel()[inside]
    else:
        x = y = np.zeros(0)
    if x.size == 0:
        p = poly.representative_point()
        x, y = np.array([p.x]), np.array([p.y])
    return x, y, np.full(x.size, households / x.size)


def estimate_demand(
    features: OsmFeatures,
    *,
    cell_m: float = 100.0,
    urban_context: str = "auto",
    households_total: float | None = None,
    districts: str | Path | None = None,
    population_raster: str | Path | None = None,
    persons_per_household: float | None = None,
) -> DemandEstimate:
    """Household demand points from an extract's buildings and residential land.

    Parameters
    ----------
    features : OsmFeatures
        From :func:`recyclenet.osm_features.read_osm_features`.
    cell_m : float
        Grid cell of the demand points, metres.
    urban_context : str
        ``auto`` (from the storeys or types of the mapped residential buildings) or one
        of ``data/residential_density.csv``'s contexts.
    households_total : float, optional
        Scale the estimate to this total (e.g. from a statistics yearbook).
    districts : path, optional
        GeoJSON FeatureCollection of (Multi)Polygons with ``id`` and ``households``.
    population_raster : path, optional
        GeoTIFF of persons per cell (needs ``rasterio``: ``pip install recyclenet[raster]``).
    persons_per_household : float, optional
        For the raster; default ``data/demand_factors.csv`` (2.62, 2020 census).

    Raises
    ------
    InputError
        No households at all, bad options, unreadable districts or raster.
    """
    if not (cell_m > 0 and math.isfinite(cell_m)):
        raise InputError(f"cell_m must be > 0, got {cell_m}")
    if households_total is not None and not (households_total > 0
                                             and math.isfinite(households_total)):  # fmt: skip
        raise InputError(f"households_total must be a positive number, got {households_total}")
    if households_total is not None and districts is not None:
        raise InputError("give either households_total or a districts file with totals, not both")
    factors = demand_factors()
    homes = [b for b in features.buildings if b.households > 0]
    context = _pick_context(homes, urban_context)
    row = density_table()[context]
    areas = features.residential_areas
    all_lon = [b.lon for b in homes] + [float(a.geometry.centroid.x) for a in areas]
    all_lat = [b.lat for b in homes] + [float(a.geometry.centroid.y) for a in areas]
    if not all_lon and population_raster is None and districts is None:
        raise InputError(
            "no residential buildings or residential land found; give a demand file "
            "(GeoJSON/CSV with id, lon, lat, households), a districts file with totals or a "
            "population raster"
        )
    crs = utm_crs(float(np.mean(all_lon)), float(np.mean(all_lat))) if all_lon else None
    xs: list[FloatArray] = []
    ys: list[FloatArray] = []
    hs: list[FloatArray] = []
    by_source = dict.fromkeys(SOURCES, 0.0)
    land_m2 = 0.0
    if homes and crs is not None:
        lon = np.array([b.lon for b in homes])
        lat = np.array([b.lat for b in homes])
        hh = np.array([b.households for b in homes])
        flats = np.array([b.flats_tagged for b in homes])
        bx, by = to_metric(crs, lon, lat)
        xs.append(np.asarray(bx))
        ys.append(np.asarray(by))
        hs.append(hh)
        by_source["building_flats"] = float(hh[flats].sum())
        by_source["building_footprint"] = float(hh[~flats].sum())
    if areas and crs is not None:
        geoms = np.array([a.geometry for a in areas], dtype=object)
        projected = shapely.transform(
            geoms, lambda c: np.column_stack(to_metric(crs, c[:, 0], c[:, 1]))
        )
        projected = shapely.make_valid(projected)
        land_m2 += float(shapely.area(shapely.union_all(projected)))
        has_home = np.zeros(len(areas), dtype=bool)
        if homes:
            tree = shapely.STRtree(projected)
            hit = tree.query(shapely.points(xs[0], ys[0]), predicate="within")
            has_home[np.unique(hit[1])] = True
            inside = np.zeros(len(homes), dtype=bool)
            inside[np.unique(hit[0])] = True
            fp = np.array([b.footprint_m2 for b in homes])
            land_m2 += float(fp[~inside].sum()) / row["building_coverage"]
        per_m2 = land_households_per_m2(context)
        for g in projected[~has_home]:
            area = float(shapely.area(g))
            if area <= 0:
                continue
            x, y, h = _spread(g, area * per_m2, cell_m / 2)
            xs.append(x)
            ys.append(y)
            hs.append(h)
            by_source["residential_land"] += area * per_m2
    elif homes:
        fp = np.array([b.footprint_m2 for b in homes])
        land_m2 += float(fp.sum()) / row["building_coverage"]
    if xs and crs is not None:
        x_all, y_all, h_all = np.concatenate(xs), np.concatenate(ys), np.concatenate(hs)
        lon_all, lat_all = (np.asarray(v) for v in to_lonlat(crs, x_all, y_all))
    else:
        lon_all = lat_all = h_all = np.zeros(0)
    calibration = "none"
    scale_by_district: dict[str, float] = {}
    zone = None
    if population_raster is not None:
        pph = persons_per_household or factors["persons_per_household"]
        lon_all, lat_all, h_all, added, zone = _calibrate_raster(
            lon_all, lat_all, h_all, Path(population_raster), pph
        )
        by_source["raster"] = added
        calibration = "raster"
    if districts is not None:
        lon_all, lat_all, h_all, scale_by_district, d_zone = _calibrate_districts(
            lon_all, lat_all, h_all, Path(districts)
        )
        if zone is None:
            zone = d_zone
        else:  # raster cell within district: both totals survive aggregation
            zone = np.concatenate([zone, np.zeros(d_zone.size - zone.size, dtype=np.int64)])
            zone = d_zone * (int(zone.max()) + 1) + zone
        calibration = "districts"
    if households_total is not None:
        if h_all.sum() <= 0:
            raise InputError("households_total needs some estimated households to scale")
        h_all = h_all * (households_total / h_all.sum())
        calibration = "households_total"
    if h_all.sum() <= 0:
        raise InputError("the demand estimate has no households; give a demand file")
    demand = _aggregate(lon_all, lat_all, h_all, cell_m, zone)
    total = float(sum(d.households for d in demand))
    land_km2 = land_m2 / 1e6
    estimated = sum(v for k, v in by_source.items() if k != "raster")
    density = estimated / land_km2 if land_km2 > 0 else math.nan
    warnings = []
    floor = factors["min_plausible_density_hh_per_km2"]
    if calibration == "none" and (not math.isfinite(density) or density < floor):
        warnings.append(
            f"derived demand looks implausibly low: {density:,.0f} households per km² of "
            f"residential land (a low-rise suburb has about {floor:,.0f}); buildings or "
            "residential land are probably missing from the extract, so coverage figures "
            "would describe part of the population only: give households_total, a districts "
            "file with totals or a population raster"
        )
    return DemandEstimate(
        demand=demand,
        households_by_source=by_source,
        households_total=total,
        calibration=calibration,
        urban_context=context,
        residential_land_km2=land_km2,
        density_hh_per_km2=total / land_km2 if land_km2 > 0 else math.nan,
        scale_by_district=scale_by_district,
        warnings=tuple(warnings),
    )


def _aggregate(
    lon: FloatArray,
    lat: FloatArray,
    hh: FloatArray,
    cell_m: float,
    zone: npt.NDArray[np.int64] | None = None,
) -> list[Demand]:
    """Households summed per grid cell (and zone), at their weighted centroid.

    With ``zone`` (e.g. the district of each point), a cell cut by a zone border gives one
    point per zone, so zone totals survive the aggregation; ids then end in ``_z<zone>``.
    """
    from .osm_inputs import recyclables_per_household

    keep = hh > 0
    lon, lat, hh = lon[keep], lat[keep], hh[keep]
    z = np.zeros(lon.size, dtype=np.int64) if zone is None else zone[keep]
    crs = utm_crs(float(lon.mean()), float(lat.mean()))
    x, y = to_metric(crs, lon, lat)
    keys = np.column_stack([_grid_keys(np.asarray(x), np.asarray(y), cell_m), z])
    uniq, inverse = np.unique(keys, axis=0, return_inverse=True)
    inverse = inverse.ravel()
    total = np.bincount(inverse, weights=hh)
    cx = np.bincount(inverse, weights=hh * x) / total
    cy = np.bincount(inverse, weights=hh * y) / total
    clon, clat = to_lonlat(crs, cx, cy)
    rates = recyclables_per_household()
    cells, counts = np.unique(uniq[:, :2], axis=0, return_counts=True)
    shared = {(int(a), int(b)) for (a, b), c in zip(cells, counts) if c > 1}

    def cell_id(k: npt.NDArray[np.int64]) -> str:
        base = f"cell_{int(k[0])}_{int(k[1])}"
        return f"{base}_z{int(k[2])}" if (int(k[0]), int(k[1])) in shared else base

    return [
        Demand(id=cell_id(k), lon=float(lo), lat=float(la),
               households=round(float(h), 2),
               kg_per_year={m: round(float(h) * r, 1) for m, r in rates.items()})
        for k, lo, la, h in zip(uniq, clon, clat, total)
    ]  # fmt: skip


def district_totals(path: str | Path) -> tuple[tuple[Any, ...], dict[str, float]]:
    """The districts of a GeoJSON file and their ``households`` totals by id.

    Raises
    ------
    InputError
        Unreadable file, bad geometry or ids (see
        :func:`recyclenet.scale.districts.read_districts`), or a feature whose
        ``households`` is not a number >= 0 (named by position and id).
    """
    from ..scale.districts import read_districts

    path = Path(path)
    districts = read_districts(path)
    doc = json.loads(path.read_text(encoding="utf-8"))
    totals: dict[str, float] = {}
    for n, feat in enumerate(doc.get("features", []), start=1):
        props = feat.get("properties") or {}
        fid = str(props.get("id", feat.get("id")))
        value: Any = props.get("households")
        try:
            t = float(value)
        except (TypeError, ValueError):
            t = math.nan
        if not (math.isfinite(t) and t >= 0):
            raise InputError(
                f"{path.name}: feature #{n} (id {fid!r}): 'households' must be a number >= 0, "
                f"got {value!r}"
            )
        totals[fid] = t
    return districts, totals


def _calibrate_districts(
    lon: FloatArray, lat: FloatArray, hh: FloatArray, path: Path
) -> tuple[FloatArray, FloatArray, FloatArray, dict[str, float], npt.NDArray[np.int64]]:
    """Scale the households inside each district to its ``households`` total.

    Also returns each point's district (position + 1; 0 outside every district).
    """
    districts, totals = district_totals(path)
    pts = shapely.points(lon, lat)
    lon, lat, hh = lon.copy(), lat.copy(), hh.copy()
    taken = np.zeros(lon.size, dtype=bool)
    zone = np.zeros(lon.size, dtype=np.int64)
    scale: dict[str, float] = {}
    extra: list[tuple[float, float, float, int]] = []
    for k, d in enumerate(districts, start=1):
        inside = shapely.contains(d.geometry, pts) & ~taken
        taken |= inside
        zone[inside] = k
        est = float(hh[inside].sum())
        want = totals[d.id]
        if est > 0:
            scale[d.id] = want / est
            hh[inside] *= want / est
        elif want > 0:
            p = d.geometry.representative_point()
            extra.append((p.x, p.y, want, k))
            scale[d.id] = math.inf
    if extra:
        e = np.array(extra)
        lon, lat, hh = (np.concatenate([lon, e[:, 0]]), np.concatenate([lat, e[:, 1]]),
                        np.concatenate([hh, e[:, 2]]))  # fmt: skip
        zone = np.concatenate([zone, e[:, 3].astype(np.int64)])
    return lon, lat, hh, scale, zone


def _calibrate_raster(
    lon: FloatArray, lat: FloatArray, hh: FloatArray, path: Path, pph: float
) -> tuple[FloatArray, FloatArray, FloatArray, float, npt.NDArray[np.int64]]:
    """Scale households per raster cell to its persons / ``pph``; add unmatched cells.

    Returns the points, the households added at cells without OSM evidence, and each
    point's raster cell (index + 1; 0 outside the raster).
    """
    try:
        import rasterio
        from rasterio.warp import transform as warp
    except ImportError:
        raise InputError(
            "a population raster needs rasterio: pip install 'recyclenet[raster]'"
        ) from None
    if not (pph > 0 and math.isfinite(pph)):
        raise InputError(f"persons_per_household must be positive, got {pph}")
    try:
        with rasterio.open(path) as src:
            band = src.read(1, masked=True).astype(np.float64)
            transform, crs = src.transform, src.crs
    except rasterio.errors.RasterioIOError as exc:
        raise InputError(f"{path}: not a readable raster ({exc})") from None
    people = np.where(np.ma.getmaskarray(band), 0.0, np.ma.getdata(band))
    people = np.where(np.isfinite(people) & (people > 0), people, 0.0)
    rows, cols = people.shape
    if lon.size:
        if crs is not None and not crs.is_geographic:
            px, py = (np.asarray(v) for v in warp("EPSG:4326", crs, lon, lat))
        else:
            px, py = lon, lat
        c, r = ~transform * (px, py)
        c, r = np.floor(c).astype(np.int64), np.floor(r).astype(np.int64)
        ok = (r >= 0) & (r < rows) & (c >= 0) & (c < cols)
        cell = np.where(ok, r * cols + c, -1)
    else:
        cell = np.zeros(0, dtype=np.int64)
    want = people.ravel() / pph
    have = np.bincount(cell[cell >= 0], weights=hh[cell >= 0], minlength=rows * cols)
    hh = hh.copy()
    matched = have > 0
    factor = np.where(matched, want / np.where(matched, have, 1.0), 1.0)
    hh[cell >= 0] *= factor[cell[cell >= 0]]
    empty = np.nonzero(~matched & (want > 0))[0]
    added = float(want[empty].sum())
    zone = np.where(cell >= 0, cell + 1, 0).astype(np.int64)
    if empty.size:
        r_e, c_e = np.divmod(empty, cols)
        ex, ey = transform * (c_e + 0.5, r_e + 0.5)
        ex, ey = np.asarray(ex, dtype=float), np.asarray(ey, dtype=float)
        if crs is not None and not crs.is_geographic:
            ex, ey = (np.asarray(v) for v in warp(crs, "EPSG:4326", ex, ey))
        lon = np.concatenate([lon, ex])
        lat = np.concatenate([lat, ey])
        hh = np.concatenate([hh, want[empty]])
        zone = np.concatenate([zone, empty + 1])
    return lon, lat, hh, added, zone
