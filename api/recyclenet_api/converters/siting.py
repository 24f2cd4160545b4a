"""A siting request (:class:`recyclenet_api.schemas.SitingJob`) -> the library's demand,
sites, centres and options for :func:`recyclenet.pipeline.plan_siting`."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from recyclenet.errors import InputError

from ..schemas.siting import SitingCreate, SitingJob
from .points import PayloadError, build_each, dup_check, geojson_to_wgs84

if TYPE_CHECKING:
    from recyclenet.siting import Demand, Site


@dataclass(frozen=True)
class SitingInputs:
    """Library objects of a siting request, in WGS-84 (None: derived from OSM / no tier 2)."""

    profile: str
    """The road profile of the trips, by its canonical name."""
    demand: list[Demand] | None
    sites: list[Site] | None
    centres: list[Site] | None
    demand_districts: dict[str, Any] | None
    """The districts GeoJSON in WGS-84 (demand from OSM only)."""


def build_demand(features: Sequence[Any], label: str, crs: str) -> list[Demand]:
    """Demand points from :class:`~recyclenet_api.schemas.geo.DemandFeature` s."""
    from recyclenet.siting import Demand

    out = build_each(features, label, crs, lambda p: Demand(
        id=p.id, lon=p.lon, lat=p.lat, households=p.properties.households,
        weight=p.properties.weight, kg_per_year=dict(p.properties.kg_per_year)))  # fmt: skip
    dup_check([d.id for d in out], label)
    return out


def build_sites(features: Sequence[Any], label: str, crs: str) -> list[Site]:
    """Sites (or sorting centres) from :class:`~recyclenet_api.schemas.geo.SiteFeature` s."""
    from recyclenet.siting import Site

    out = build_each(features, label, crs, lambda p: Site(
        id=p.id, lon=p.lon, lat=p.lat, status=p.properties.status,
        fixed_cost=p.properties.fixed_cost, capacity=p.properties.capacity,
        closing_cost=p.properties.closing_cost))  # fmt: skip
    dup_check([s.id for s in out], label)
    return out


def check_model_options(body: SitingCreate) -> None:
    """What the model needs (p, radius) and the options of derived demand, checked."""
    if body.model in ("p_median", "max_coverage") and body.p is None:
        raise PayloadError("p", f"model {body.model!r} needs p, the number of stations")
    if body.model in ("max_coverage", "min_stations") and body.radius is None:
        raise PayloadError("radius", f"model {body.model!r} needs radius (in the unit of "
                           f"{body.metric})")  # fmt: skip
    if body.sites is not None and body.p is not None:
        usable = sum(1 for f in body.sites.features if f.properties.status != "forbidden")
        if body.p > usable:
            raise PayloadError(
                "p",
                f"p = {body.p} is larger than the {usable} usable (not forbidden) sites; "
                "lower p or add candidate sites",
            )
    given = [k for k in ("households_total", "demand_districts") if getattr(body, k) is not None]
    if body.urban_context != "auto":
        given.append("urban_context")
    if body.demand is not None and given:
        raise PayloadError(given[0], "applies to demand derived from OSM only; leave it out "
                           "when the request gives demand")  # fmt: skip
    if body.households_total is not None and body.demand_districts is not None:
        raise PayloadError("demand_districts", "give either households_total or "
                           "demand_districts with totals, not both")  # fmt: skip


@contextmanager
def districts_file(doc: Mapping[str, Any] | None) -> Iterator[Path | None]:
    """Districts GeoJSON as the file the library reads (None: no districts); removed
    afterwards."""
    if doc is None:
        yield None
        return
    with tempfile.TemporaryDirectory(prefix="recyclenet-") as tmp:
        path = Path(tmp) / "demand_districts.geojson"
        path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
        yield path


def _districts(body: SitingCreate, crs: str) -> dict[str, Any] | None:
    """The districts in WGS-84, read once as the library will (errors name the field)."""
    from recyclenet.siting.demand import district_totals

    if body.demand_districts is None:
        return None
    doc = geojson_to_wgs84(body.demand_districts, crs, "demand_districts")
    try:
        with districts_file(doc) as path:
            assert path is not None
            district_totals(path)
    except (InputError, ValueError) as exc:
        raise PayloadError("demand_districts", str(exc)) from None
    return doc


def siting_inputs(job: SitingJob) -> SitingInputs:
    """The library objects of a siting job, every request-level check done.

    Raises
    ------
    PayloadError
        Naming the field below ``body`` (``demand.features.3``, ``p``, ...).
    """
    import recyclenet as rn

    body, crs = job.request, job.crs
    try:
        profile = rn.get_profile(body.profile).name
    except InputError as exc:
        raise PayloadError("profile", str(exc)) from None
    check_model_options(body)
    return SitingInputs(
        profile=profile,
        demand=build_demand(body.demand.features, "demand.features", crs)
        if body.demand is not None else None,
        sites=build_sites(body.sites.features, "sites.features", crs)
        if body.sites is not None else None,
        centres=build_sites(body.centres.features, "centres.features", crs)
        if body.centres is not None else None,
        demand_districts=_districts(body, crs),
    )  # fmt: skip
