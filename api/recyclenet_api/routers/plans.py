"""``/plans``: stored results, their GeoJSON layers and indicators; listed, labelled and
deleted as resources.

Siting and routing jobs store their GeoJSON layers with the plan (see
:mod:`recyclenet_api.tasks`), so the layer endpoints serve stored data: a plan's maps
never change after it is made. ``?crs=gcj02|bd09`` serves them converted from the stored
WGS-84 (:func:`recyclenet.geo.geojson_to_crs`). Serialized layers are kept in a small
in-memory cache by plan, layer and datum, as is the plan document without its labels (a
plan's body is immutable, so it never goes stale). Every read first asks the database for
the plan's owner (:meth:`recyclenet_api.store.Store.owner`, a primary-key lookup;
the plan document also reads its name and tags), so a plan deleted or renamed through any
server process is gone or renamed for every process at once, and the tenant check runs
on every request.

A plan's ``name`` and ``tags`` are its only mutable parts (``PATCH``); ``DELETE`` removes
it, its tags and its cached layers. Plans have no files of their own on disk: exports are
built per request in a temporary folder that is removed with the response.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from starlette.concurrency import run_in_threadpool

from recyclenet.geo import CoordSystem, geojson_to_crs

from ..bodies import request_body
from ..deps import AppContext, ContextDep, TenantDep
from ..paging import CursorQuery, LimitQuery, OffsetQuery, page_links, start_of_page
from ..problems import Problem
from ..schemas import (
    PlanIndicators,
    PlanLabelsPatch,
    PlanList,
    PlanPublic,
    PlanSummaryPublic,
)
from ..schemas.plans import EvaluationIndicator
from ..store import UNSET, Plan, PlanFilter, PlanSummary
from .common import PLAN_LAYERS, CrsQuery, check_owner, not_found, owner_lookup, plan_public

router = APIRouter(prefix="/plans", tags=["plans"])

GEOJSON = "application/geo+json"
_CACHE_SIZE = 256
T = TypeVar("T")


_Key = tuple[str, str, CoordSystem]


class _LayerCache:
    """(plan id, layer, crs) -> (tenant, kind, serialized bytes); LRU, thread-safe."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[_Key, tuple[str, str, bytes]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: _Key) -> tuple[str, str, bytes] | None:
        with self._lock:
            hit = self._items.get(key)
            if hit is not None:
                self._items.move_to_end(key)
            return hit

    def put(self, key: _Key, value: tuple[str, str, bytes]) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def drop(self, plan_id: str) -> None:
        """Forget every entry of a plan (it was deleted)."""
        with self._lock:
            for key in [k for k in self._items if k[0] == plan_id]:
                del self._items[key]


_caches: dict[int, _LayerCache] = {}
_caches_lock = threading.Lock()


def plan_cache(ctx: AppContext) -> _LayerCache:
    """The app's cache of serialized plan documents, layers and map pages."""
    with _caches_lock:
        return _caches.setdefault(id(ctx), _LayerCache(_CACHE_SIZE))


async def _lookup(ctx: AppContext, fn: Callable[[str], T], plan_id: str) -> T:
    """``fn(plan_id)``, a small read run before serving a cached plan body.

    On SQLite it runs on the event loop: a primary-key read in WAL mode takes about
    0.1 ms of CPU and never waits for a writer, while a thread-pool hop costs about three
    times that (the cached layer path has no other hop). Other databases answer over a
    connection, so there the read goes to the thread pool.
    """
    if ctx.store.engine.dialect.name == "sqlite":
        return fn(plan_id)
    return await run_in_threadpool(fn, plan_id)


async def plan_labels(ctx: AppContext, tenant: str, plan_id: str) -> tuple[str | None, list[str]]:
    """The plan's ``(name, tags)``; 404 when the tenant has no such plan (any more)."""
    found = await _lookup(ctx, ctx.store.plan_labels, plan_id)
    if found is None or found[0] != tenant:
        raise not_found("plan", plan_id)
    return found[1], found[2]


async def check_plan(
    ctx: AppContext, tenant: str, plan_id: str, started: asyncio.Future[str | None] | None = None
) -> None:
    """404 unless the tenant has the plan: run before serving a cached layer or page
    (:func:`.common.check_owner`)."""
    await check_owner(ctx, tenant, "plan", plan_id, started)


# ---------------------------------------------------------------------- the collection
def _summary(item: PlanSummary) -> PlanSummaryPublic:
    links = {"self": f"/plans/{item.id}"}
    if item.kind in PLAN_LAYERS:
        links["indicators"] = f"/plans/{item.id}/indicators"
    if item.job_id:
        links["job"] = f"/jobs/{item.job_id}"
    return PlanSummaryPublic(**dataclasses.asdict(item), links=links)


def _as_utc(value: datetime | None) -> datetime | None:
    """Times without an offset are UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _query_error(field: str, message: str) -> RequestValidationError:
    return RequestValidationError([{"loc": ("query", field), "msg": message,
                                    "type": "value_error"}])  # fmt: skip


@router.get(
    "",
    response_model=PlanList,
    summary="List this tenant's plans, newest first",
    description=(
        "Summaries (id, kind, name, tags, network id, time, links; no data: follow "
        "`links.self`) of the plans this API key may read, newest first (ties by id, so "
        "the order is stable). Every filter given must hold: `kind` (repeat for any of "
        "several), `network` (the network id the plan was made on; plans stay when their "
        "network is deleted), `name` (a case-insensitive part of the name), `tag` (repeat: "
        "the plan has every tag named; tags match exactly), `created_after` (inclusive) "
        "and `created_before` (exclusive), ISO 8601 times (`2026-11-30T08:00:00Z`; no "
        "offset = UTC). Paged with `limit` and `cursor`: follow `links.next` and "
        "`links.prev` (also in the `Link` header), which carry the same filters; plans "
        "made or deleted meanwhile neither repeat nor shift the pages. `total` counts "
        "every match, `offset` the plans before the page. `offset` as a parameter still "
        "works (deprecated: pages read by offset drift when plans are added)."
    ),
)
async def list_plans(
    request: Request,
    response: Response,
    ctx: ContextDep,
    tenant: TenantDep,
    kind: Annotated[
        list[str] | None,
        Query(max_length=20, description="Plan kind (siting, routing, matrix, park); repeatable"),
    ] = None,
    network: Annotated[
        str | None, Query(min_length=1, max_length=64, description="Network id")
    ] = None,
    name: Annotated[
        str | None,
        Query(min_length=1, max_length=200, description="Part of the name (any case)"),
    ] = None,
    tag: Annotated[
        list[str] | None,
        Query(max_length=20, description="A tag the plan has; repeat for several (all)"),
    ] = None,
    created_after: Annotated[
        datetime | None, Query(description="Made at or after (ISO 8601; no offset = UTC)")
    ] = None,
    created_before: Annotated[
        datetime | None, Query(description="Made before (ISO 8601; no offset = UTC)")
    ] = None,
    limit: LimitQuery = 100,
    cursor: CursorQuery = None,
    offset: OffsetQuery = 0,
) -> PlanList:
    at = start_of_page("plans", cursor, offset)
    kinds = tuple(dict.fromkeys(kind or ()))
    known = sorted(set(ctx.job_kinds) - {"sleep"})
    for k in kinds:
        if k not in ctx.job_kinds:
            raise _query_error("kind", f"unknown plan kind {k!r}; use one of {', '.join(known)}")
    after, before = _as_utc(created_after), _as_utc(created_before)
    if after is not None and before is not None and after >= before:
        raise _query_error(
            "created_before",
            f"{before.isoformat()} is not after created_after ({after.isoformat()}); "
            "swap them or widen the range",
        )
    where = PlanFilter(kinds=kinds, network_id=network, name_contains=name,
                       tags=tuple(dict.fromkeys(tag or ())), created_after=after,
                       created_before=before)  # fmt: skip
    page = await run_in_threadpool(
        lambda: ctx.store.list_plans(tenant, where, limit=limit, offset=offset, at=at)
    )
    links = page_links(request, response, "plans", page, limit=limit, at=at,
                       key=lambda p: (p.created_at, p.id))  # fmt: skip
    return PlanList(items=[_summary(r) for r in page.items], total=page.total, limit=limit,
                    offset=page.offset, links=links)  # fmt: skip


@router.get(
    "/{plan_id}",
    response_model=PlanPublic,
    summary="A stored plan as JSON",
    description=(
        "The plan's ids, name, tags, times, loads, costs and indicators, with links to its "
        "GeoJSON layers. It holds no coordinates (takes no `?crs=`): read the geometry "
        "from the layers, which do."
    ),
)
async def get_plan(plan_id: str, ctx: ContextDep, tenant: TenantDep) -> Response:
    name, tags = await plan_labels(ctx, tenant, plan_id)
    cache = plan_cache(ctx)
    key: _Key = (plan_id, "", "wgs84")  # the plan document itself, serialized once
    hit = cache.get(key)
    if hit is None:
        row = await run_in_threadpool(ctx.store.get_plan, tenant, plan_id)
        if row is None:
            raise not_found("plan", plan_id)
        body = await run_in_threadpool(
            lambda: plan_public(row).model_dump_json(exclude={"name", "tags"}).encode()
        )
        hit = (row.tenant, row.kind, body)
        cache.put(key, hit)
    if hit[0] != tenant:
        raise not_found("plan", plan_id)
    labels = json.dumps({"name": name, "tags": tags}, ensure_ascii=False).encode()
    return Response(content=labels[:-1] + b"," + hit[2][1:], media_type="application/json")


_PATCH_FIELDS = ("name", "tags")


@router.patch(
    "/{plan_id}",
    response_model=PlanSummaryPublic,
    summary="Rename or re-tag a plan",
    description=(
        "JSON with `name` (null or empty: no name) and/or `tags` (the new list, replacing "
        "the old; `[]`: none). Nothing else of a plan changes: any other member is a 422 "
        "(store a new plan instead). Answers the plan's summary."
    ),
    openapi_extra={"requestBody": request_body(PlanLabelsPatch)},
)
async def patch_plan(
    plan_id: str, request: Request, ctx: ContextDep, tenant: TenantDep
) -> PlanSummaryPublic:
    await plan_labels(ctx, tenant, plan_id)  # 404 before any body error
    try:
        body = await ctx.bodies.validate(PlanLabelsPatch, await request.body())
    except RequestValidationError as exc:
        errors = []
        for e in exc.errors():
            if e.get("type") == "extra_forbidden":
                field = ".".join(str(p) for p in e["loc"][1:])
                e = {**e, "msg": f"{field!r} cannot change: a plan is immutable except its "
                     f"name and tags; send only {' and/or '.join(_PATCH_FIELDS)}, or store "
                     "a new plan"}  # fmt: skip
            errors.append(e)
        raise RequestValidationError(errors) from None
    given = body.model_fields_set & set(_PATCH_FIELDS)
    if not given:
        raise RequestValidationError([{"loc": ("body",), "type": "missing",
                                       "msg": "send name and/or tags"}])  # fmt: skip
    found = await run_in_threadpool(
        lambda: ctx.store.label_plan(
            tenant,
            plan_id,
            name=body.name if "name" in given else UNSET,
            tags=body.tags if "tags" in given else UNSET,
        )
    )
    if not found:
        raise not_found("plan", plan_id)
    rows = await run_in_threadpool(
        lambda: ctx.store.list_plans(tenant, PlanFilter(plan_id=plan_id), limit=1).items
    )
    if not rows:
        raise not_found("plan", plan_id)
    return _summary(rows[0])


@router.delete(
    "/{plan_id}",
    status_code=204,
    response_class=Response,
    summary="Delete a plan",
    description=(
        "Removes the plan, its tags and its layers; its URLs answer 404 from then on, in "
        "every server process. The job that made it keeps its record, with `plan_id` "
        "cleared. A plan's network is not touched. 404 for another tenant's plan."
    ),
    responses={204: {"description": "Deleted"}},
)
async def delete_plan(plan_id: str, ctx: ContextDep, tenant: TenantDep) -> Response:
    if not await run_in_threadpool(ctx.store.delete_plan, tenant, plan_id):
        raise not_found("plan", plan_id)
    plan_cache(ctx).drop(plan_id)
    return Response(status_code=204)


def _layer_kind(layer: str) -> str:
    return next(kind for kind, names in PLAN_LAYERS.items() if layer in names)


def _serialize(row: Plan, layer: str, crs: CoordSystem) -> bytes:
    """The stored layer in ``crs`` as JSON bytes (empty when the plan has no such layer)."""
    fc = (row.data.get("layers") or {}).get(layer) if isinstance(row.data, dict) else None
    if fc is None:
        return b""
    if crs != "wgs84":
        fc = geojson_to_crs(fc, crs)
    return json.dumps(fc, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


async def _layer(
    ctx: AppContext,
    tenant: str,
    plan_id: str,
    layer: str,
    crs: CoordSystem,
    started: asyncio.Future[str | None] | None,
) -> Response:
    # 404 once deleted, whichever process cached it
    await check_plan(ctx, tenant, plan_id, started)
    cache = plan_cache(ctx)
    hit = cache.get((plan_id, layer, crs))
    if hit is None:
        row = await run_in_threadpool(ctx.store.get_plan, tenant, plan_id)
        if row is None:
            raise not_found("plan", plan_id)
        body = await run_in_threadpool(_serialize, row, layer, crs)
        hit = (row.tenant, row.kind, body)
        cache.put((plan_id, layer, crs), hit)
    owner, kind, body = hit
    if owner != tenant:
        raise not_found("plan", plan_id)
    if not body:
        want = _layer_kind(layer)
        if want == kind:
            detail = (f"plan {plan_id} has no {layer} layer (this scenario did not ask for it;"
                      " centres need sorting centres as input)")  # fmt: skip
            raise Problem(404, detail)
        raise Problem(404, f"plan {plan_id} is a {kind} plan; {layer}.geojson needs a {want} plan")
    return Response(content=body, media_type=GEOJSON)


_PLAN_OWNER = owner_lookup("plan", "plan_id")


def _geojson_route(layer: str, summary: str, properties: dict[str, str]) -> Any:
    doc = "\n".join(f"- `{k}`: {v}" for k, v in properties.items())
    kind = _layer_kind(layer)

    @router.get(
        f"/{{plan_id}}/{layer}.geojson",
        response_class=Response,
        summary=summary,
        description=(
            f"RFC 7946 FeatureCollection (WGS-84 lon/lat) of a {kind} plan, as stored with "
            f"the plan; 404 for a plan of another kind. With `?crs=gcj02` or `?crs=bd09` the "
            f"coordinates are in that datum and a top-level `crs_note` says so. "
            f"Properties:\n\n{doc}"
        ),
        responses={
            200: {
                "content": {GEOJSON: {"schema": {"type": "object"}}},
                "description": "FeatureCollection",
            },
        },
        name=f"plan_{layer}_geojson",
    )
    async def endpoint(
        plan_id: str,
        owner: Annotated[Any, _PLAN_OWNER],  # before the key check: overlaps its round trip
        ctx: ContextDep,
        tenant: TenantDep,
        crs: CrsQuery,
    ) -> Response:
        return await _layer(ctx, tenant, plan_id, layer, crs, owner)

    return endpoint


STATION_PROPERTIES = {
    "id": "(feature id) the site id",
    "site_id": "site id",
    "state": "opened (new), kept (existing, stays) or closed (existing, closed)",
    "status": "the site's input status: existing, required, candidate",
    "households": "households assigned",
    "capacity": "capacity (households), null = the station norm",
    "fixed_cost": "fixed cost of the site",
}
ASSIGNMENT_PROPERTIES = {
    "id": "(feature id) `{demand_id}->{site_id}`, or `{demand_id}->none` when unassigned",
    "geometry": "LineString demand point -> station; Point for unassigned demand",
    "demand_id": "demand point id",
    "site_id": "serving site id (null when unassigned)",
    "households": "households of the demand point",
    "distance_m": "network distance to the station, m",
    "duration_s": "network travel time to the station, s",
}
COVERAGE_PROPERTIES = {
    "id": "(feature id) the station's site id",
    "site_id": "site id",
    "method": "network_service_area: the concave hull (ratio 0.3) of the street nodes "
    "that reach the station within the radius on the plan's road profile, buffered 30 m",
    "metric": "distance_m or duration_s",
    "radius": "the radius used, in the metric's unit",
    "radius_source": "plan_radius, or farthest_assigned when the plan has no radius",
    "reachable_nodes": "street nodes within the radius",
    "area_m2": "area, m²",
    "load": "households (or t/year) assigned",
    "demand_points": "demand points assigned",
}
ROUTE_PROPERTIES = {
    "id": "(feature id) the vehicle id",
    "geometry": "LineString along the roads, depot to depot (or to the end facility)",
    "kind": "route",
    "vehicle_id": "vehicle id (`{vehicle_type_id}-{k}`)",
    "vehicle_type_id": "vehicle type id",
    "distance_m": "route distance, m",
    "duration_s": "from leaving to returning, s",
    "cost": "fixed + distance + time cost",
}
STOP_PROPERTIES = {
    "id": "(feature id) `{vehicle_id}:{sequence}`, or `unserved:{order_id}`",
    "kind": "start, order, unload, end, or unserved",
    "vehicle_id": "vehicle id",
    "sequence": "0 = start",
    "location_id": "depot, facility or order id",
    "order_id": "order served (kind order, or unserved)",
    "arrival_s, start_s, departure_s": "seconds from midnight",
    "arrival, start, departure": "the same as HH:MM:SS",
    "load_kg, volume_m3": "load on board after the stop",
    "items": "the order's items [{category, count}]",
    "reason, message": "unserved only: capacity, time_window, skill, unreachable, shift, cost",
}

stations_geojson = _geojson_route("stations", "Stations of a siting plan", STATION_PROPERTIES)
assignments_geojson = _geojson_route(
    "assignments", "Demand-to-station assignments of a siting plan", ASSIGNMENT_PROPERTIES
)
coverage_geojson = _geojson_route(
    "coverage", "Service area of each open station (siting plan)", COVERAGE_PROPERTIES
)
CENTRE_PROPERTIES = {
    "id": "(feature id) centre id, or `{station_id}->{centre_id}` for a feed line",
    "geometry": "Point for a sorting centre, LineString station -> centre",
    "centre_id": "sorting centre id",
    "capacity_t_per_year, load_t_per_year": "centre points: capacity and assigned load",
    "station_id, share, distance_m": "feed lines: the station, its share, truck distance",
}
centres_geojson = _geojson_route(
    "centres", "Sorting centres of a two-tier siting plan", CENTRE_PROPERTIES
)
routes_geojson = _geojson_route("routes", "Routes of a routing plan", ROUTE_PROPERTIES)
stops_geojson = _geojson_route(
    "stops", "Stops and unserved orders of a routing plan", STOP_PROPERTIES
)


@router.get(
    "/{plan_id}/indicators",
    response_model=PlanIndicators,
    summary="Evaluation indicators of a siting or routing plan",
    responses={404: {"description": "No such plan, or a plan without indicators (matrix)"}},
)
def plan_indicators(plan_id: str, ctx: ContextDep, tenant: TenantDep) -> PlanIndicators:
    row = ctx.store.get_plan(tenant, plan_id)
    if row is None:
        raise not_found("plan", plan_id)
    if row.kind not in PLAN_LAYERS or "indicators" not in row.data:
        raise Problem(404, f"plan {plan_id} is a {row.kind} plan, which has no indicators")
    from recyclenet import indicators as pilot

    evaluation = pilot.plan_dict_indicators(row.kind, row.data["plan"])
    return PlanIndicators(
        plan_id=row.id,
        kind=row.kind,  # type: ignore[arg-type]
        indicators=row.data["indicators"],
        evaluation=[EvaluationIndicator.model_validate(i.to_dict()) for i in evaluation],
    )


EXPORT_MEDIA = {
    "gpkg": ("application/geopackage+sqlite3", "gpkg"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
    "csv": ("application/zip", "csv.zip"),
    "shp": ("application/zip", "shp.zip"),
}


def _export(row: Plan, fmt: str, crs: CoordSystem, lang: str) -> bytes:
    """The plan's stored layers, summary and indicators as one file (zip for csv/shp)."""
    import io
    import tempfile
    import zipfile
    from pathlib import Path

    from recyclenet import indicators as pilot
    from recyclenet.export.files import indicator_table, write_plan_files

    plan = row.data["plan"]
    evaluation = pilot.plan_dict_indicators(row.kind, plan)
    with tempfile.TemporaryDirectory() as tmp:
        files = write_plan_files(tmp, row.data.get("layers") or {}, formats=(fmt,), crs=crs,
                                 lang=lang, summary=plan,
                                 indicators=indicator_table(evaluation, lang))  # fmt: skip
        if fmt in ("gpkg", "xlsx"):
            return files[0].read_bytes()
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            for path in sorted((Path(tmp) / fmt).iterdir()):
                zf.write(path, path.name)
        return buf.getvalue()


@router.get(
    "/{plan_id}/export",
    response_class=Response,
    summary="Every layer of a siting or routing plan as one GeoPackage, workbook or zip",
    description=(
        "`f=gpkg`: one GeoPackage, a layer per kind (one geometry type each: stations, "
        "assignments, unassigned, coverage, centres, centre_links; routes, stops, unserved) "
        "plus `summary` and `indicators` tables. `f=xlsx`: an Excel workbook with the same "
        "sheets (points as lon/lat columns). `f=csv` / `f=shp`: a zip of one CSV (UTF-8 "
        "with BOM) or Shapefile (UTF-8, 10-character field names listed in fields.csv) per "
        "layer. `lang=zh` gives Chinese CSV and Excel headers; `crs` as for the layers."
    ),
    responses={200: {"content": {m: {} for m, _ in EXPORT_MEDIA.values()}}},
)
async def export_plan(
    plan_id: str,
    ctx: ContextDep,
    tenant: TenantDep,
    crs: CrsQuery,
    f: Literal["gpkg", "xlsx", "csv", "shp"] = "gpkg",
    lang: Literal["en", "zh"] = "en",
) -> Response:
    row = await run_in_threadpool(ctx.store.get_plan, tenant, plan_id)
    if row is None:
        raise not_found("plan", plan_id)
    if row.kind not in PLAN_LAYERS or not isinstance(row.data, dict) or "plan" not in row.data:
        raise Problem(404, f"plan {plan_id} is a {row.kind} plan, which has no layers to export")
    body = await run_in_threadpool(_export, row, f, crs, lang)
    media, ext = EXPORT_MEDIA[f]
    return Response(content=body, media_type=media,
                    headers={"Content-Disposition": f'attachment; filename="{plan_id}.{ext}"'})
