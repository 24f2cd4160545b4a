"""Request and response bodies, one schema per use (create / public / list)."""

from __future__ import annotations

import unicodedata
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from recyclenet.options import ROUTING_DEFAULTS, SITING_DEFAULTS
from recyclenet.siting.demand import UrbanContext

JobStatus = Literal["queued", "running", "done", "failed", "cancelled"]


class _In(BaseModel):
    """Request bodies: unknown members refused, strict types (``true`` is not a number)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, strict=True)


# ---------------------------------------------------------------------- plan labels
NAME_MAX = 200
TAG_MAX = 50
TAGS_MAX = 20


def _label_text(value: str, what: str, limit: int) -> str:
    """``value`` stripped; refused when it holds control characters or is too long."""
    text = value.strip()
    bad = next((c for c in text if unicodedata.category(c) == "Cc"), None)
    if bad is not None:
        raise ValueError(
            f"{what} holds the control character U+{ord(bad):04X}; remove it (names and "
            "tags are one line of text)"
        )
    if len(text) > limit:
        raise ValueError(f"{what} has {len(text)} characters; at most {limit} are allowed")
    return text


def _check_name(value: str | None) -> str | None:
    """A plan name: stripped, 0 to 200 characters; empty means no name."""
    if value is None:
        return None
    return _label_text(value, "the name", NAME_MAX) or None


def _check_tags(value: list[str]) -> list[str]:
    """Tags: each stripped, 1 to 50 characters, no comma; duplicates dropped (the first
    kept, order kept); at most 20."""
    out: list[str] = []
    for i, raw in enumerate(value):
        tag = _label_text(raw, f"tag {i}", TAG_MAX)
        if not tag:
            raise ValueError(f"tag {i} is empty; leave it out")
        if "," in tag:
            raise ValueError(f"tag {i} ({tag!r}) holds a comma; send each tag as its own item")
        if tag not in out:
            out.append(tag)
    if len(out) > TAGS_MAX:
        raise ValueError(f"{len(out)} distinct tags; at most {TAGS_MAX} are allowed")
    return out


PlanName = Annotated[
    str | None,
    Field(
        default=None,
        max_length=NAME_MAX,
        description=f"Name of the plan this request makes (at most {NAME_MAX} characters; "
        "change it later with PATCH /plans/{id}).",
        examples=["District 3, 40 stations"],
    ),
    AfterValidator(_check_name),
]
PlanTags = Annotated[
    list[Annotated[str, Field(max_length=TAG_MAX)]],
    Field(
        default_factory=list,
        max_length=4 * TAGS_MAX,  # the exact limit applies after dropping duplicates
        description=f"Tags of the plan this request makes: at most {TAGS_MAX}, each 1 to "
        f"{TAG_MAX} characters without a comma; duplicates are dropped. "
        "GET /plans?tag= filters by them.",
        examples=[["draft", "district-3"]],
    ),
    AfterValidator(_check_tags),
]


# ---------------------------------------------------------------------- networks
class NetworkSampleCreate(_In):
    """Register an embedded sample extract (no upload)."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        json_schema_extra={
            "examples": [{"sample": "helsinki", "name": "Helsinki centre", "profile": "car"}]
        },
    )

    sample: str = Field(min_length=1, max_length=100, description="Embedded sample name.")
    name: str | None = Field(default=None, max_length=200)
    profile: str = Field(default="car", max_length=100, description="Vehicle road profile.")


class NetworkPublic(BaseModel):
    id: str
    name: str
    profile: str
    source: Literal["sample", "upload"]
    info: dict[str, Any] = Field(
        description="Nodes, edges, bbox (W,S,E,N; with ?crs= other than wgs84 the box holding "
        "the network in that datum, and `crs`), length_km, ..."
    )
    created_at: datetime
    links: dict[str, str]


class NetworkList(BaseModel):
    items: list[NetworkPublic]
    total: int
    limit: int
    offset: int


# ---------------------------------------------------------------------- points, matrix
class PointIn(_In):
    id: str | int = Field(description="Unique point id (integers are turned into strings).")
    lon: float = Field(
        ge=-180, le=180, description="Longitude, degrees (WGS-84, or the datum of ?crs=)."
    )
    lat: float = Field(
        ge=-90, le=90, description="Latitude, degrees (WGS-84, or the datum of ?crs=)."
    )

    @field_validator("id")
    @classmethod
    def _id_text(cls, value: str | int) -> str:
        text = str(value)
        if not text or len(text) > 200:
            raise ValueError("id must have 1 to 200 characters")
        return text


MATRIX_EXAMPLE: dict[str, Any] = {
    "network_id": "helsinki",
    "origins": [
        {"id": "depot", "lon": 24.9402, "lat": 60.1699},
        {"id": "station-1", "lon": 24.9460, "lat": 60.1720},
    ],
    "destinations": [{"id": "centre", "lon": 24.9500, "lat": 60.1680}],
    "max_snap_distance_m": 500,
    "too_far": "raise",
    "time_limit_s": 30,
}


class MatrixCreate(_In):
    """Travel time and distance between points on a registered network."""

    model_config = ConfigDict(
        extra="forbid",
        allow_inf_nan=False,
        strict=True,
        json_schema_extra={"examples": [MATRIX_EXAMPLE]},
    )

    network_id: str = Field(min_length=1, max_length=64)
    origins: list[PointIn] = Field(min_length=1)
    destinations: list[PointIn] | None = Field(
        default=None, description="Defaults to the origins (a square matrix)."
    )
    profile: str | None = Field(
        default=None, max_length=100, description="Vehicle profile; default the network's."
    )
    max_snap_distance_m: float = Field(default=500.0, gt=0, le=10_000)
    too_far: Literal["raise", "unreachable"] = "raise"
    time_limit_s: float | None = Field(
        default=None, gt=0, description="Wall-clock limit; the server caps it."
    )
    name: PlanName
    tags: PlanTags


class PlanLabelsPatch(_In):
    """``PATCH /plans/{id}``: a new name and/or new tags; nothing else of a plan changes."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        json_schema_extra={"examples": [{"name": "District 3, final", "tags": ["final"]}]},
    )

    name: PlanName
    tags: PlanTags


# ---------------------------------------------------------------------- jobs, plans
class PlanPublic(BaseModel):
    id: str
    kind: str
    name: str | None = Field(default=None, description="The plan's name (PATCH to change).")
    tags: list[str] = Field(default_factory=list, description="The plan's tags.")
    network_id: str | None = Field(
        default=None,
        description="The network the plan was made on (it may have been deleted since: "
        "the plan holds its layers and stays readable).",
    )
    job_id: str | None
    created_at: datetime
    data: dict[str, Any] = Field(
        description="The plan or result, as the job function made it (siting and routing: "
        "kind, network_id, input_crs, plan, indicators; GeoJSON layers are at the links). "
        "It holds ids, not coordinates: geometry is in the layers."
    )
    links: dict[str, str] = Field(default_factory=dict)


class JobPublic(BaseModel):
    id: str
    kind: str
    status: JobStatus
    progress: dict[str, Any] = Field(description="phase, and percent or objective if known")
    error: dict[str, Any] | None = Field(
        default=None, description="Problem details (title, status, detail) of a failed job."
    )
    time_limit_s: float
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    updated_at: datetime
    plan_id: str | None
    name: str | None = Field(default=None, description="The name the request gave its plan.")
    tags: list[str] = Field(default_factory=list, description="The tags the request gave.")
    links: dict[str, str]


class JobResult(JobPublic):
    """A job, with its plan when it finished within ``?wait=``."""

    plan: PlanPublic | None = None


class JobList(BaseModel):
    items: list[JobPublic]
    total: int
    limit: int
    offset: int


class PlanSummaryPublic(BaseModel):
    """A plan in ``GET /plans``: no data; follow ``links.self`` for it."""

    id: str
    kind: str
    name: str | None
    tags: list[str]
    network_id: str | None
    job_id: str | None
    created_at: datetime
    links: dict[str, str]


class PlanList(BaseModel):
    items: list[PlanSummaryPublic]
    total: int = Field(description="Plans matching the filters, over all pages.")
    limit: int
    offset: int
    links: dict[str, str] = Field(
        default_factory=dict,
        description="`self`, and `next` / `prev` pages with the same filters when there are "
        "any (`next` is also a Link header).",
    )


class Health(BaseModel):
    status: Literal["ok"]
    detail: dict[str, Any] = Field(default_factory=dict)


class FieldError(BaseModel):
    field: str = Field(description="Dotted path: body.origins.0.lon, query.bbox, ...")
    pointer: str | None = Field(default=None, description="JSON Pointer into the body")
    message: str
    type: str | None = None


class ProblemDetail(BaseModel):
    """RFC 9457 problem details (``application/problem+json``)."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[FieldError] | None = None


def _problem_response(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/ProblemDetail"}}
        },
    }


AUTH_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: _problem_response("Missing or unknown X-API-Key"),
    404: _problem_response("No such resource for this tenant"),
    413: _problem_response("Request body too large"),
    422: _problem_response("Invalid request; `errors` names each field path"),
    429: _problem_response("Rate limit exceeded (see Retry-After)"),
}


# ---------------------------------------------------------------------- GeoJSON input
HORIZON_S = 48 * 3600.0
"""Latest time of day a window may name: 48 h in seconds from midnight (overnight)."""

_EXAMPLE_NETWORK_ID = "helsinki"
_NETWORK_ID_DOC = (
    "Id of a registered network (POST /networks), or the name of an embedded sample "
    "extract (`helsinki`), used as it is with its default profile."
)


class _GeoIn(BaseModel):
    """GeoJSON objects: unknown members (``bbox``, foreign members) are ignored."""

    model_config = ConfigDict(extra="ignore", allow_inf_nan=False, strict=True)


class PointGeometry(_GeoIn):
    type: Literal["Point"]
    coordinates: list[float] = Field(
        min_length=2,
        max_length=3,
        description="[lon, lat], lon first (WGS-84 as RFC 7946 says, or the datum of ?crs=).",
    )

    @field_validator("coordinates")
    @classmethod
    def _lonlat(cls, value: list[float]) -> list[float]:
        lon, lat = value[0], value[1]
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise ValueError(
                f"[{lon}, {lat}] is not [lon, lat] in degrees "
                "(lon in -180..180, lat in -90..90; lon first)"
            )
        return value


FeatureId = str | int


class _Props(_GeoIn):
    id: FeatureId | None = Field(default=None, description="Used when the Feature has no id.")


def _window_check(value: tuple[float, float] | None) -> tuple[float, float] | None:
    if value is not None and value[1] < value[0]:
        raise ValueError(f"window ({value[0]:g}, {value[1]:g}) ends before it starts")
    return value


TimeWindowIn = tuple[
    Annotated[float, Field(ge=0, le=HORIZON_S)], Annotated[float, Field(ge=0, le=HORIZON_S)]
]


class _PointFeature(_GeoIn):
    type: Literal["Feature"]
    id: FeatureId | None = Field(default=None, description="Unique id (or properties.id).")
    geometry: PointGeometry

    def resolved_id(self) -> str | None:
        pid = self.id
        if pid is None:
            pid = getattr(self.properties, "id", None)  # type: ignore[attr-defined]
        text = None if pid is None else str(pid)
        return text if text and len(text) <= 200 else None


class DemandProperties(_Props):
    households: float = Field(default=1.0, ge=0, le=1e9, description="Households represented.")
    weight: float | None = Field(
        default=None, ge=0, le=1e12, description="Objective weight; default households."
    )
    kg_per_year: dict[str, Annotated[float, Field(ge=0, le=1e12)]] = Field(
        default_factory=dict, description="Expected recyclables, kg/year by material."
    )


class SiteProperties(_Props):
    status: Literal["existing", "required", "candidate", "forbidden"] = "candidate"
    fixed_cost: float = Field(default=0.0, ge=0, le=1e12)
    capacity: float | None = Field(
        default=None, ge=0, le=1e12, description="Households; none = the station norm."
    )
    closing_cost: float = Field(default=0.0, ge=0, le=1e12, description="Existing sites only.")


class OrderProperties(_Props):
    items: dict[str, Annotated[float, Field(ge=0, le=1e6)]] = Field(
        default_factory=dict,
        description="Catalogue category -> count (pieces, or kg for scrap grades), e.g. "
        '{"refrigerator": 1, "scrap_ferrous": 120}.',
    )
    load_kg: float | None = Field(default=None, ge=0, le=1e7, description="Overrides items.")
    volume_m3: float | None = Field(default=None, ge=0, le=1e5, description="Overrides items.")
    service_s: float | None = Field(default=None, ge=0, le=HORIZON_S)
    time_windows: list[TimeWindowIn] = Field(
        default_factory=list,
        max_length=20,
        description="[open_s, close_s] pairs, seconds from midnight; empty = any time.",
    )
    kind: Literal["pickup", "delivery"] = "pickup"
    required: bool = True
    penalty: float | None = Field(
        default=None, ge=0, le=1e9, description="Cost of dropping an optional order."
    )
    priority: int = Field(default=0, ge=0, le=1000)
    skills: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(
        default_factory=list, max_length=20
    )


class DepotProperties(_Props):
    time_window: TimeWindowIn | None = None

    _tw = field_validator("time_window")(lambda cls, v: _window_check(v))


class FacilityProperties(_Props):
    unload_s: float = Field(default=0.0, ge=0, le=HORIZON_S, description="Unloading time, s.")
    time_window: TimeWindowIn | None = None
    capacity_kg: float | None = Field(
        default=None, ge=0, le=1e12,
        description="kg the facility takes in the day (omit: no limit); routes unload at "
        "the nearest facility with room, orders none has room for are unserved with reason "
        "facility_capacity.",
    )

    _tw = field_validator("time_window")(lambda cls, v: _window_check(v))


class DemandFeature(_PointFeature):
    properties: DemandProperties = Field(default_factory=DemandProperties)


class SiteFeature(_PointFeature):
    properties: SiteProperties = Field(default_factory=SiteProperties)


class OrderFeature(_PointFeature):
    properties: OrderProperties = Field(default_factory=OrderProperties)


class DepotFeature(_PointFeature):
    properties: DepotProperties = Field(default_factory=DepotProperties)


class FacilityFeature(_PointFeature):
    properties: FacilityProperties = Field(default_factory=FacilityProperties)


class DemandCollection(_GeoIn):
    type: Literal["FeatureCollection"]
    features: list[DemandFeature] = Field(min_length=1)


class SiteCollection(_GeoIn):
    type: Literal["FeatureCollection"]
    features: list[SiteFeature] = Field(min_length=1)


class OrderCollection(_GeoIn):
    type: Literal["FeatureCollection"]
    features: list[OrderFeature] = Field(min_length=1)


class DepotCollection(_GeoIn):
    type: Literal["FeatureCollection"]
    features: list[DepotFeature] = Field(min_length=1)


class FacilityCollection(_GeoIn):
    type: Literal["FeatureCollection"]
    features: list[FacilityFeature] = Field(default_factory=list)


def _point(fid: str, lon: float, lat: float, **props: Any) -> dict[str, Any]:
    return {"type": "Feature", "id": fid, "geometry": {"type": "Point",
            "coordinates": [lon, lat]}, "properties": props}  # fmt: skip


# ---------------------------------------------------------------------- siting
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
        default=SITING_DEFAULTS.profile, min_length=1, max_length=100,
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
        default=SITING_DEFAULTS.road_spacing_m, ge=10, le=5000,
        description="Spacing of OSM road-node candidates, m.",
    )
    max_snap_distance_m: float = Field(
        default=SITING_DEFAULTS.max_snap_distance_m, gt=0, le=10_000
    )
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
        default=None, gt=0, le=1e9,
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


# ---------------------------------------------------------------------- routing
class VehicleTypeIn(_In):
    """``count`` identical vehicles (ids ``{id}-1``, ``{id}-2``, ...)."""

    id: str = Field(min_length=1, max_length=100)
    count: int = Field(default=1, ge=1, le=1000)
    capacity_kg: float | None = Field(default=None, ge=0, le=1e7, description="None: no limit.")
    capacity_m3: float | None = Field(default=None, ge=0, le=1e5, description="None: no limit.")
    start_id: str = Field(min_length=1, max_length=200, description="A depot id.")
    end_id: str | None = Field(
        default=None, max_length=200, description="Depot or facility id; default start_id."
    )
    shift: TimeWindowIn = Field(default=(0.0, HORIZON_S), description="[start_s, end_s].")
    max_duration_s: float | None = Field(default=None, ge=0, le=HORIZON_S)
    max_distance_m: float | None = Field(default=None, ge=0, le=1e7)
    break_window: TimeWindowIn | None = Field(
        default=None, description="[earliest_s, latest_s] start of the break."
    )
    break_s: float = Field(default=0.0, ge=0, le=HORIZON_S)
    fixed_cost: float = Field(default=0.0, ge=0, le=1e9)
    cost_per_km: float = Field(default=1.0, ge=0, le=1e6)
    cost_per_hour: float = Field(default=0.0, ge=0, le=1e6)
    skills: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(
        default_factory=list, max_length=20
    )
    profile: str = Field(default="car", min_length=1, max_length=100, description="Road profile.")
    max_unloads: int | None = Field(default=None, ge=0, le=100)

    _windows = field_validator("shift", "break_window")(lambda cls, v: _window_check(v))


ROUTING_EXAMPLE: dict[str, Any] = {
    "network_id": _EXAMPLE_NETWORK_ID,
    "orders": {
        "type": "FeatureCollection",
        "features": [
            _point("o001", 24.953349, 60.176572, items={"tv": 1}, time_windows=[[28800, 43200]]),
            _point(
                "o002",
                24.949451,
                60.169883,
                items={"refrigerator": 1},
                time_windows=[[32400, 46800]],
            ),
            _point(
                "o003",
                24.949328,
                60.168989,
                items={"washing_machine": 1},
                time_windows=[[46800, 61200]],
            ),
            _point("o006", 24.949013, 60.172314, items={"scrap_ferrous": 80}),
            _point(
                "o010", 24.949815, 60.164512, items={"refrigerator": 1}, required=False, penalty=500
            ),
        ],
    },
    "depots": {
        "type": "FeatureCollection",
        "features": [_point("depot", 24.93666, 60.164199)],
    },
    "facilities": {
        "type": "FeatureCollection",
        "features": [_point("sorting_centre", 24.952246, 60.178364, unload_s=900)],
    },
    "fleet": [
        {
            "id": "tricycle",
            "count": 2,
            "capacity_kg": 300,
            "capacity_m3": 1.5,
            "start_id": "depot",
            "shift": [28800, 64800],
            "cost_per_km": 0.3,
            "cost_per_hour": 30,
            "fixed_cost": 20,
            "profile": "tricycle",
        },
        {
            "id": "box_truck",
            "count": 1,
            "capacity_kg": 2000,
            "capacity_m3": 16,
            "start_id": "depot",
            "shift": [28800, 64800],
            "cost_per_km": 1.5,
            "cost_per_hour": 60,
            "fixed_cost": 150,
            "skills": ["refrigerant"],
            "profile": "box_truck_4_2m",
        },
    ],
    "engine": "auto",
    "time_limit_s": 5,
}


_EXAMPLE_PLAN_ID = "5e2d8c7b1a9f4e3d8c6b5a4f3e2d1c0b"

OrderId = Annotated[str, Field(min_length=1, max_length=200)]


class ReplanIn(_In):
    """A plan in progress, to re-plan the rest of the day (``POST /routing``).

    Give the plan by ``plan_id`` (a stored routing plan of this API key) or inline as
    ``plan`` (the JSON of ``GET /plans/{id}``, its ``data``, or ``data.plan``). The
    request's ``orders`` must hold every order the plan names (served or unserved):
    orders the plan does not name are the new ones, and orders to drop are listed in
    ``cancelled_order_ids``. The fleet, depots and facilities must be those of the plan.

    A vehicle's state is the prefix of its route that is done or started: list those
    orders in ``done_order_ids`` (on each route they must be its first orders). They stay
    on their vehicle in their order and at their planned times, with the unload stops
    between them; everything else is planned again, starting no earlier than ``now_s``
    (vehicles that have not left yet leave at or after it). Re-planning uses the OR-Tools
    engine. The result is a new plan linking to its parent (``links.parent``); stored plans
    never change.
    """

    plan_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="Id of the stored routing plan being carried out (from the job's "
        "`plan_id`); 404 if this API key has no such plan.",
    )
    plan: dict[str, Any] | None = Field(
        default=None,
        description="Instead of plan_id: the plan JSON as returned by GET /plans/{id} (or "
        "its `data`, or `data.plan`).",
    )
    now_s: float = Field(
        ge=0,
        le=HORIZON_S,
        description="Current time of day, seconds from midnight (36000 = 10:00).",
    )
    done_order_ids: list[OrderId] = Field(
        default_factory=list,
        max_length=100_000,
        description="Orders done or started; on each route they must be its first orders.",
    )
    cancelled_order_ids: list[OrderId] = Field(
        default_factory=list,
        max_length=100_000,
        description="Orders of the plan to drop (not done or started ones).",
    )

    @model_validator(mode="after")
    def _one_plan(self) -> ReplanIn:
        if (self.plan_id is None) == (self.plan is None):
            raise ValueError("give exactly one of plan_id (a stored plan) and plan (its JSON)")
        return self


REPLAN_EXAMPLE: dict[str, Any] = {
    **ROUTING_EXAMPLE,
    "orders": {
        "type": "FeatureCollection",
        "features": [
            *ROUTING_EXAMPLE["orders"]["features"],
            _point(
                "o020",
                24.945611,
                60.171214,
                items={"scrap_ferrous": 40},
                time_windows=[[39600, 46800]],
                priority=1,
            ),
        ],
    },
    "replan": {
        "plan_id": _EXAMPLE_PLAN_ID,
        "now_s": 39600,
        "done_order_ids": ["o006"],
        "cancelled_order_ids": [],
    },
}
"""Re-plan the routing example's plan at 11:00 with an urgent order (o020, 11:00-13:00);
paste the plan id of the example's job. ``o006`` is the first stop of ``tricycle-1`` in
that plan."""


class RoutingCreate(_In):
    """Today's pickup orders and the fleet (issue #4), optionally re-planning a plan.

    Orders, depots and facilities are GeoJSON FeatureCollections of Points. Omit
    ``fleet`` for the default fleet (``data/fleet_default.csv``: 4 electric tricycles and
    2 box trucks of 4.2 m, shifts 08:00-18:00 with a 30-minute break) starting and ending
    at the first depot. With ``replan``, the orders are the day's orders and the plan in
    progress is re-optimised (see :class:`ReplanIn`).
    """

    model_config = ConfigDict(
        extra="forbid",
        allow_inf_nan=False,
        strict=True,
        json_schema_extra={"examples": [ROUTING_EXAMPLE]},
    )

    network_id: str = Field(min_length=1, max_length=64, description=_NETWORK_ID_DOC)
    orders: OrderCollection
    depots: DepotCollection
    facilities: FacilityCollection | None = Field(
        default=None, description="Sorting centres or transfer stations for mid-shift unloads."
    )
    fleet: list[VehicleTypeIn] | None = Field(
        default=None, min_length=1, max_length=100, description="Omit: the default fleet."
    )
    engine: Literal["auto", "ortools", "pyvrp"] = ROUTING_DEFAULTS.engine
    max_snap_distance_m: float = Field(
        default=ROUTING_DEFAULTS.max_snap_distance_m, gt=0, le=10_000
    )
    order_snap_limit_m: float = Field(
        default=ROUTING_DEFAULTS.order_snap_limit_m, gt=0, le=10_000,
        description="Orders farther from a vehicle's roads are unserved by it (off_road).",
    )
    time_limit_s: float | None = Field(
        default=None, gt=0, description="Solver time limit; the server caps it."
    )
    seed: int = Field(default=ROUTING_DEFAULTS.seed, ge=0, le=2**31 - 1)
    deterministic: bool = Field(
        default=False,
        description="Same inputs and seed, same plan byte for byte: the searches stop on "
        "iteration counts, not the clock (the time limit is then not enforced).",
    )
    speed_model: Literal["free_flow", "urban"] = Field(
        default="free_flow",
        description="free_flow: speed limits and class defaults; urban: congested speeds of "
        "a dense Chinese city centre by road class for the period (AMap/Baidu reports).",
    )
    period: str | None = Field(
        default=None,
        max_length=200,
        description="When the vehicles drive: day (default, Mo-Fr 06:00-22:00), peak, "
        "offpeak, night, opening hours ('Sa 08:00-12:00') or a departure time ('Mo 07:30'). "
        "Time-conditional access (hgv:conditional) is applied for it.",
    )
    restriction_zones: dict[str, Any] | None = Field(
        default=None,
        description="Restriction zones (货车限行区): a GeoJSON FeatureCollection of polygons "
        "(lon/lat in the datum of ?crs=) with properties id, vehicles ('hgv', 'all' or "
        "profile names) and closed (hours, e.g. '07:00-20:00'). While a zone is closed the "
        "vehicles it binds keep out; stops inside get its open hours or are unserved.",
    )
    replan: ReplanIn | None = Field(
        default=None,
        description="A plan in progress to re-plan: the done or started stops stay, the "
        "rest of the day (with new and without cancelled orders) is planned again.",
    )
    name: PlanName
    tags: PlanTags


# ---------------------------------------------------------------------- plan views
class PlanIndicators(BaseModel):
    plan_id: str
    kind: Literal["siting", "routing"]
    indicators: dict[str, Any] = Field(
        description="Siting: status, objective, bound, gap, stations open/opened/kept/"
        "closed, share of households within the radius, access distance mean/p95, "
        "households per station, load and utilisation by site. Routing: status, engine, "
        "vehicle_km, vehicle_hours, cost, penalty_cost, kg and tonnes by material, "
        "orders_total, served_count, unserved_count, unserved_by_reason, vehicles_used."
    )
    evaluation: list[dict[str, Any]] = Field(
        default_factory=list,
        description="The circular-economy pilot's evaluation indicators "
        "(recyclenet.indicators), each with key, value, unit, group, and name and "
        "definition in English and Chinese: coverage share, access distance, stations per "
        "10,000 households, utilisation; tonnes by material, vehicle-km, tonne-km, "
        "vehicle-hours, cost per tonne, CO2e, empty-running share.",
    )
