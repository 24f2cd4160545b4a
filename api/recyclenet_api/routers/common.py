"""Helpers the routers share: public views of rows, field errors, job submission, and the
``?crs=`` query parameter (:data:`CrsQuery`)."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Sequence
from typing import Annotated, Any, Protocol

from fastapi import Depends, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from starlette.concurrency import run_in_threadpool

import recyclenet as rn
from recyclenet.errors import InputError
from recyclenet.geo import COORD_SYSTEMS, CoordSystem, bbox_from_wgs84, check_crs
from recyclenet.network import SAMPLES

from ..bodies import HasStore
from ..converters.points import PayloadError
from ..deps import AppContext, ContextDep
from ..problems import TYPE_BASE, Problem
from ..schemas import JobPublic, JobResult, JobSpec, NetworkPublic, PlanPublic
from ..schemas.jobs import JobError, JobProgress
from ..schemas.plans import plan_data
from ..store import Job, Network, OwnedKind, Plan, RawJson, as_utc, utc


class HasLonLat(Protocol):
    """A place with an id and WGS-84 lon/lat (library demand, sites, orders, depots)."""

    @property
    def id(self) -> str: ...
    @property
    def lon(self) -> float: ...
    @property
    def lat(self) -> float: ...


def field_problem(field: str, message: str, status: int = 422) -> Problem:
    """A problem like a validation error, naming the field path (``body.origins``)."""
    parts = field.split(".")
    item: dict[str, Any] = {"field": field, "message": message, "type": "value_error"}
    if parts[0] == "body":
        item["pointer"] = "#/" + "/".join(parts[1:])
    return Problem(
        status,
        f"{field}: {message}",
        title="Invalid request",
        type=TYPE_BASE + "validation",
        errors=[item],
    )


def not_found(kind: str, ident: str) -> Problem:
    return Problem(404, f"no {kind} with id {ident!r} for this API key")


async def check_owner(
    ctx: AppContext,
    tenant: str,
    kind: OwnedKind,
    ident: str,
    started: asyncio.Future[str | None] | None = None,
) -> None:
    """404 unless the tenant has the plan or network (any server process may have deleted
    it): run before serving a cached plan layer, page or road page.

    On SQLite a primary-key read on the event loop: about 0.1 ms of CPU in WAL mode, never
    waiting for a writer, where a thread-pool hop costs more. Elsewhere the concurrent
    checks of one event-loop turn go to the database as one query a kind
    (:attr:`Store.owners <recyclenet_api.store.Store.owners>`), or ``started`` holds that
    lookup, begun before the API key was checked (:func:`owner_lookup`)."""
    if started is not None:
        owner = await started
    elif ctx.store.engine.dialect.name == "sqlite":
        owner = ctx.store.owner(kind, ident)
    else:
        owner = await ctx.store.owners.call((kind, ident))
    if owner != tenant:
        raise not_found(kind, ident)


def owner_lookup(kind: OwnedKind, param: str) -> Any:
    """A dependency that starts the owner lookup of the path parameter ``param`` (a
    ``kind`` id) on a database server, so that its round trip overlaps the rate limiter's:
    list it before the tenant dependency and hand its value to :func:`check_owner`, which
    awaits it once the key has passed. The owner is never compared or shown before that.
    None on SQLite, whose check is a read on the event loop after the key check."""

    async def start(request: Request, ctx: ContextDep) -> Any:
        if ctx.store.engine.dialect.name == "sqlite":
            return None
        lookup = asyncio.ensure_future(ctx.store.owners.call((kind, request.path_params[param])))
        # a request refused by the key check leaves it unawaited: its error is read here
        lookup.add_done_callback(lambda f: f.cancelled() or f.exception())
        return lookup

    return Depends(start)


CRS_DOC = (
    "Datum of every lon/lat this request takes (body, `bbox`) and returns (GeoJSON, "
    "`info.bbox`): `wgs84` (WGS-84, GPS, OpenStreetMap; the default), `gcj02` (GCJ-02: "
    "AMap/Gaode, Tencent) or `bd09` (BD-09: Baidu). Case-insensitive; `-`, `_` and `:` are "
    "ignored (`GCJ-02`, `EPSG:4326`) and `gps`, `gaode`, `amap`, `tencent`, `baidu`, "
    "`bd09ll` are accepted too. Converted exactly (inverse to about 1 µm); plans are "
    "stored in WGS-84. GeoJSON in `gcj02` or `bd09` carries a top-level `crs_note`, since "
    "RFC 7946 GeoJSON is WGS-84 by definition."
)


async def get_crs(
    crs: Annotated[
        str,
        Query(
            max_length=50,
            description=CRS_DOC,
            json_schema_extra={"enum": list(COORD_SYSTEMS)},
        ),
    ] = "wgs84",
) -> CoordSystem:
    """The ``?crs=`` query parameter as a :data:`recyclenet.geo.CoordSystem`.

    The OpenAPI schema lists the three canonical names; the aliases that
    :func:`recyclenet.geo.check_crs` accepts work too. Anything else is a 422 naming
    ``query.crs`` with the choices.
    """
    try:
        return check_crs(crs, what="crs")
    except InputError as exc:
        message = str(exc).removeprefix("crs: ")
        raise RequestValidationError(
            [{"loc": ("query", "crs"), "msg": message, "type": "value_error"}]
        ) from None


CrsQuery = Annotated[CoordSystem, Depends(get_crs)]
"""The datum of a request's input and output coordinates (``?crs=``, default WGS-84)."""


def network_public(row: Network, crs: CoordSystem = "wgs84") -> NetworkPublic:
    """A network's public view; with ``crs`` other than WGS-84, ``info.bbox`` is the box
    holding the network in that datum and ``info.crs`` names it."""
    info = row.info
    if crs != "wgs84" and isinstance(info.get("bbox"), list) and len(info["bbox"]) == 4:
        west, south, east, north = (float(v) for v in info["bbox"])
        info = {**info, "bbox": list(bbox_from_wgs84((west, south, east, north), crs)),
                "crs": crs}  # fmt: skip
    return NetworkPublic(
        id=row.id,
        name=row.name,
        profile=row.profile,
        source="sample" if row.source in SAMPLES else "upload",
        info=info,
        created_at=utc(row.created_at),
        links={"self": f"/networks/{row.id}", "roads": f"/networks/{row.id}/roads.geojson"},
    )


PLAN_LAYERS: dict[str, tuple[str, ...]] = {
    "siting": ("stations", "assignments", "coverage", "centres"),
    "routing": ("routes", "stops"),
}
"""GeoJSON layers stored with each plan kind (``/plans/{id}/{layer}.geojson``)."""


def plan_public(row: Plan, tags: Sequence[str] = ()) -> PlanPublic:
    """The plan as JSON; GeoJSON layers are left out here and linked instead."""
    links = {"self": f"/plans/{row.id}"}
    data = row.data
    layers = PLAN_LAYERS.get(row.kind)
    if layers:
        stored = data.get("layers") or {}
        data = {k: v for k, v in data.items() if k != "layers"}
        links["indicators"] = f"/plans/{row.id}/indicators"
        links.update({name: f"/plans/{row.id}/{name}.geojson" for name in layers
                      if name in stored})  # fmt: skip
    parent = (data.get("replan") or {}).get("parent_plan_id")
    if parent:
        links["parent"] = f"/plans/{parent}"
    return PlanPublic(
        id=row.id,
        kind=row.kind,
        name=row.name,
        tags=list(tags),
        network_id=row.network_id,
        job_id=row.job_id,
        created_at=utc(row.created_at),
        data=plan_data(data),
        links=links,
    )


def job_public(row: Job, cls: type[JobPublic] = JobPublic, **extra: Any) -> Any:
    links = {"self": f"/jobs/{row.id}"}
    if row.plan_id:
        links["plan"] = f"/plans/{row.plan_id}"
    return cls(
        id=row.id,
        kind=row.kind,
        status=row.status,  # type: ignore[arg-type]
        progress=JobProgress.model_validate(row.progress or {}),
        error=JobError.model_validate(row.error) if row.error else None,
        time_limit_s=row.time_limit_s,
        created_at=utc(row.created_at),
        started_at=as_utc(row.started_at),
        finished_at=as_utc(row.finished_at),
        updated_at=utc(row.updated_at),
        plan_id=row.plan_id,
        name=row.name,
        tags=row.tags or [],
        links=links,
        **extra,
    )


def resolve_network(ctx: HasStore, tenant: str, network_id: str, field: str) -> Network:
    """The tenant's network ``network_id``, or the embedded sample of that name (unsaved
    row: the sample with the default profile), else a 422 naming ``field``."""
    row = ctx.store.get_network(tenant, network_id)
    if row is None and network_id in SAMPLES:
        return Network(id=network_id, tenant=tenant, name=network_id, source=network_id,
                       profile="car", info={})  # fmt: skip
    if row is None:
        raise field_problem(
            field,
            f"no network with id {network_id!r} for this API key; register one with "
            f"POST /networks, or name an embedded sample ({', '.join(sorted(SAMPLES))})",
        )
    return row


def check_time_limit(ctx: HasStore, value: float | None, field: str) -> float:
    limit = ctx.settings.max_time_limit_s
    if value is None:
        return min(ctx.settings.default_time_limit_s, limit)
    if value > limit:
        raise field_problem(field, f"{value:g} s is over this server's limit of {limit:g} s")
    return float(value)


async def submit_job(
    ctx: AppContext,
    request: Request,
    response: Response,
    *,
    tenant: str,
    kind: str,
    payload: JobSpec | RawJson,
    time_limit_s: float,
    wait_s: float,
    name: str | None = None,
    tags: Sequence[str] = (),
) -> JobResult:
    """Queue a job (``name`` and ``tags`` label the plan it makes); with ``wait_s > 0``
    wait that long for it to finish. The payload is the job's typed payload, stored as its
    JSON (or that JSON already made, when a large body was prepared in a child process).

    Returns 202 with the job (``Location: /jobs/{id}``) while it is queued or running,
    200 with the job and its plan once it finished within the wait.
    """
    if kind not in ctx.job_kinds:
        raise Problem(501, f"this server has no job kind {kind!r}")
    stored = payload if isinstance(payload, RawJson) else RawJson(payload.model_dump_json())
    job = await run_in_threadpool(
        lambda: ctx.store.add_job(
            tenant=tenant,
            kind=kind,
            payload=stored,
            time_limit_s=time_limit_s,
            name=name,
            tags=tags,
        )
    )
    if ctx.runner is not None:
        ctx.runner.wake()
    wait_s = min(max(wait_s, 0.0), ctx.settings.max_wait_s)
    deadline = time.monotonic() + wait_s
    delay = 0.02
    row: Job | None = job
    while wait_s > 0 and time.monotonic() < deadline:
        await asyncio.sleep(min(delay, max(deadline - time.monotonic(), 0)))
        delay = min(delay * 1.5, 0.25)
        row = await run_in_threadpool(ctx.store.get_job, tenant, job.id)
        if row is None or row.status not in ("queued", "running"):
            break
        if await request.is_disconnected():
            break
    row = row or job
    response.headers["Location"] = f"/jobs/{row.id}"
    if row.status in ("queued", "running"):
        response.status_code = 202
        return job_public(row, JobResult)
    plan = None
    if row.plan_id:
        plan_row = await run_in_threadpool(ctx.store.get_plan, tenant, row.plan_id)
        plan = plan_public(plan_row, row.tags or []) if plan_row is not None else None
    response.status_code = 200
    return job_public(row, JobResult, plan=plan)


WaitQuery = Annotated[
    float,
    Query(
        ge=0,
        le=3600,
        description="Seconds to wait for the result in this request "
        "(capped by the server); 200 with the plan if it finished, else 202.",
    ),
]


def check_points(ctx: HasStore, n: int, field: str) -> None:
    limit = ctx.settings.max_points
    if n > limit:
        raise field_problem(
            field, f"{n} points are more than this server's limit of {limit} per request"
        )


def check_profile(profile: str, field: str) -> str:
    try:
        return rn.get_profile(profile).name
    except InputError as exc:
        raise field_problem(field, str(exc)) from None


def payload_problem(exc: PayloadError) -> Problem:
    """A library input error on a request field: 422 naming ``body.<field>``."""
    return field_problem("body." + exc.field, str(exc))


def outside_network(
    network: Network, places: Sequence[HasLonLat], field: str, margin_m: float
) -> None:
    """422 naming ``field`` and the ids of points farther than ``margin_m`` (the snap
    distance) outside the network's bounding box: no road of the network is within reach,
    so they could only be left unassigned. Places are WGS-84; networks without a stored
    bbox (embedded samples used by name) are not checked here.
    """
    bbox = (network.info or {}).get("bbox")
    if not places or not isinstance(bbox, list) or len(bbox) != 4:
        return
    west, south, east, north = (float(v) for v in bbox)
    far = []
    for i, r in enumerate(places):
        lon, lat = float(r.lon), float(r.lat)
        dx_deg = max(west - lon, 0.0, lon - east)
        dy_deg = max(south - lat, 0.0, lat - north)
        dx_m = dx_deg * 111_320.0 * max(math.cos(math.radians(lat)), 0.01)
        dist_m = math.hypot(dx_m, dy_deg * 110_574.0)
        if dist_m > margin_m:
            far.append((i, r.id, dist_m))
    if far:
        listed = ", ".join(f"{pid} ({d / 1000:,.1f} km)" for _, pid, d in far[:10])
        raise field_problem(
            f"{field}.{far[0][0]}",
            f"{len(far)} point(s) lie outside the network's extent by more than "
            f"max_snap_distance_m = {margin_m:g} m: {listed}; check lon/lat order and the "
            "datum (?crs=), or register a network that covers them",
        )
