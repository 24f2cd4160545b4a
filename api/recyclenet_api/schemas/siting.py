"""``/siting``: a siting scenario, its job and its result."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from recyclenet.geo import CoordSystem
from recyclenet.options import SITING_DEFAULTS
from recyclenet.siting.demand import UrbanContext

from .common import (
    _EXAMPLE_NETWORK_ID,
    _NETWORK_ID_DOC,
    FeatureCollectionOut,
    JobSpec,
    PlanName,
    PlanTags,
    StoredDoc,
    _In,
)
from .geo import DemandCollection, SiteCollection, _point

SITING_EXAMPLE_OSM: dict[str, Any] = {
    "network_id": _EXAMPLE_NETWORK_ID,
    "model": "p_median",
    "p": 3,
    "radius": 400,
    "profile": "walk",
    "metric": "distance_m",
    "time_limit_s": 10,
}
"""Demand from OSM buildings and candidate sites from OSM (recycling points, parking,
thinned road nodes) of the registered network's extract."""

SITING_EXAMPLE_INLINE: dict[str, Any] = {
    "network_id": _EXAMPLE_NETWORK_ID,
    "model": "max_coverage",
    "p": 2,
    "radius": 500,
    "demand": {
        "type": "FeatureCollection",
        "features": [
            _point("d1", 24.9458923, 60.1689, households=120),
            _point("d2", 24.946757, 60.177882, households=80),
            _point("d3", 24.9434029, 60.166408, households=200),
            _point("d4", 24.9385718, 60.1699824, households=60),
        ],
    },
    "sites": {
        "type": "FeatureCollection",
        "features": [
            _point("s1", 24.9402, 60.1699, status="existing"),
            _point("s2", 24.946, 60.172),
            _point("s3", 24.95, 60.168, fixed_cost=1000),
        ],
    },
    "time_limit_s": 10,
    "name": "Example: 3 sites, 1 existing",
    "tags": ["example", "max-coverage"],
}


class SitingCreate(_In):
    """A siting scenario on a registered network (issue #3's models).

    ``demand`` and ``sites`` are GeoJSON FeatureCollections of Points; omit either to
    derive it from the network's OSM extract (demand: residential buildings, households
    from footprint x levels, aggregated to a ``cell_m`` grid; sites: ``amenity=recycling``
    as existing stations, parking, and road nodes thinned to ``road_spacing_m``).
    """

    model_config = ConfigDict(
        extra="forbid",
        allow_inf_nan=False,
        strict=True,
        json_schema_extra={"examples": [SITING_EXAMPLE_OSM, SITING_EXAMPLE_INLINE]},
    )

    network_id: str = Field(min_length=1, max_length=64, description=_NETWORK_ID_DOC)
    model: Literal["p_median", "max_coverage", "min_stations", "cflp"] = Field(
        default=SITING_DEFAULTS.model,
        description="p_median: minimise household-weighted travel with p stations; "
        "max_coverage: most households within radius with p stations; min_stations: fewest "
        "stations covering everyone within radius, capacity households_per_station; cflp: "
        "capacitated facility location with fixed costs.",
    )
    demand: DemandCollection | None = Field(default=None, description="Omit: from OSM.")
    sites: SiteCollection | None = Field(default=None, description="Omit: from OSM.")
    profile: str = Field(
        default=SITING_DEFAULTS.profile,
        min_length=1,
        max_length=100,
        description="Road profile of the trips.",
    )
    metric: Literal["distance_m", "duration_s"] = Field(
        default=SITING_DEFAULTS.metric  # type: ignore[arg-type]
    )
    p: int | None = Field(default=None, ge=1, le=10_000, description="Stations to open.")
    radius: float | None = Field(
        default=None, gt=0, le=1_000_000, description="Service radius in the metric's unit."
    )
    households_per_station: float = Field(
        default=SITING_DEFAULTS.households_per_station, gt=0, le=1e7
    )
    budget: float | None = Field(
        default=None, ge=0, le=1e15, description="Budget on fixed (and closing) costs."
    )
    keep_existing: Literal["all", "allow_closing"] = Field(
        default=SITING_DEFAULTS.keep_existing,  # type: ignore[arg-type]
        description="Keep every existing station, or allow closing some.",
    )
    uncoverable: Literal["raise", "leave"] = Field(
        default=SITING_DEFAULTS.uncoverable,  # type: ignore[arg-type]
        description="Demand no site can serve (none within the radius, off the network, or "
        "load above the capacity in reach): reject it (422 naming it), or leave it "
        "unassigned with the reason and plan for the rest (every model).",
    )
    centres: SiteCollection | None = Field(
        default=None,
        description="Sorting centres (capacity in t/year, fixed_cost): adds tier 2, open "
        "stations assigned to centres by a capacitated model on the truck network.",
    )
    cell_m: float = Field(
        default=SITING_DEFAULTS.cell_m, ge=10, le=5000, description="OSM demand grid, m."
    )
    road_spacing_m: float = Field(
        default=SITING_DEFAULTS.road_spacing_m,
        ge=10,
        le=5000,
        description="Spacing of OSM road-node candidates, m.",
    )
    max_snap_distance_m: float = Field(default=SITING_DEFAULTS.max_snap_distance_m, gt=0, le=10_000)
    time_limit_s: float | None = Field(
        default=None, gt=0, description="Solver time limit; the server caps it."
    )
    seed: int = Field(default=SITING_DEFAULTS.seed, ge=0, le=2**31 - 1)
    urban_context: UrbanContext = Field(
        default="auto",
        description="Demand from OSM only: the urban context of residential land without "
        "mapped buildings (plot ratio and floor area per household from GB 50180-2018 and "
        "the 2020 census); auto reads it from the mapped buildings' storeys.",
    )
    households_total: float | None = Field(
        default=None,
        gt=0,
        le=1e9,
        description="Demand from OSM only: scale the derived households to this total "
        "(e.g. from the statistics yearbook).",
    )
    demand_districts: dict[str, Any] | None = Field(
        default=None,
        description="Demand from OSM only: a GeoJSON FeatureCollection of (Multi)Polygons "
        "(lon/lat in the datum of ?crs=) with properties id and households; the derived "
        "households inside each district are scaled to its total.",
    )
    name: PlanName
    tags: PlanTags


class SitingJob(JobSpec):
    """The stored payload of a siting job: the request in the datum it was given in
    (``crs``); :func:`recyclenet_api.converters.siting.siting_inputs` converts it."""

    request: SitingCreate
    crs: CoordSystem = "wgs84"


# ---------------------------------------------------------------------- the result
class AssignmentOut(StoredDoc):
    demand_id: str
    site_id: str
    share: float = Field(description="Share of the demand point's households, 0 to 1.")
    distance_m: float | None
    duration_s: float | None


class SitingSolve(StoredDoc):
    """The model solved and how far the solve got."""

    model: str
    metric: str
    status: str = Field(description="optimal, feasible, infeasible, ...")
    objective: float | None
    bound: float | None
    gap: float | None = Field(description="(objective - bound) / objective; 0 = proven optimal.")
    time_s: float
    solver: str


class SitingPlanDoc(SitingSolve):
    """The plan (:meth:`recyclenet.pipeline.SitingRun.to_dict`)."""

    message: str = ""
    heuristic_objective: float | None = None
    open_ids: list[str]
    opened_ids: list[str]
    kept_ids: list[str]
    closed_ids: list[str]
    unassigned_ids: list[str]
    unassigned_reasons: dict[str, str] = Field(default_factory=dict)
    split_ids: list[str] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    assignment: list[AssignmentOut]
    indicators: dict[str, float | dict[str, float | None] | None] = Field(
        description="Access distance and time (mean, p95), coverage, households and load "
        "per station, utilisation by site."
    )
    problem: dict[str, Any] | None = Field(
        default=None, description="model, metric, radius, households_per_station, capacity_unit."
    )
    centres: dict[str, Any] | None = Field(default=None, description="Tier 2, when asked.")
    demand_estimate: dict[str, Any] | None = Field(
        default=None, description="Where derived demand came from (OSM demand only)."
    )
    unassigned: dict[str, Any] | None = Field(
        default=None, description="Households left unassigned, in total and by reason."
    )


class SitingIndicators(SitingSolve):
    """``GET /plans/{id}/indicators`` of a siting plan: the solve, the station counts and
    the plan's own indicators (more members)."""

    stations_open: int
    stations_opened: int
    stations_kept: int
    stations_closed: int
    demand_points_assigned: int
    demand_points_unassigned: int


class SitingData(BaseModel):
    """A siting plan as ``GET /plans/{id}`` shows it (its layers are linked)."""

    kind: Literal["siting"]
    network_id: str
    input_crs: str = Field(default="wgs84", description="The datum the request was in.")
    profile: str
    demand_source: Literal["request", "osm"] | None = None
    sites_source: Literal["request", "osm"] | None = None
    plan: SitingPlanDoc
    indicators: SitingIndicators


class SitingResult(SitingData):
    """What a siting job stores: the plan and its GeoJSON layers (``stations``,
    ``assignments``, ``coverage``, and ``centres`` with tier 2)."""

    layers: dict[str, FeatureCollectionOut]
