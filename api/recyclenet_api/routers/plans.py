"""``/plans``: stored results (immutable), their GeoJSON layers and indicators.

Siting and routing jobs store their GeoJSON layers with the plan (see
:mod:`recyclenet_api.planning`), so the layer endpoints serve stored data: a plan's maps
never change after it is made. ``?crs=gcj02|bd09`` serves them converted from the stored
WGS-84 (:func:`recyclenet.geo.geojson_to_crs`). Serialized layers are kept in a small
in-memory cache by plan, layer and datum, as is the plan document (plans are immutable, so
it never goes stale); the tenant check runs on every request.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from typing import Any, Literal

from fastapi import APIRouter, Response
from starlette.concurrency import run_in_threadpool

from recyclenet.geo import CoordSystem, geojson_to_crs

from ..deps import AppContext, ContextDep, TenantDep
from ..problems import Problem
from ..schemas import PlanIndicators, PlanPublic
from ..store import Plan
from .common import PLAN_LAYERS, CrsQuery, not_found, plan_public

router = APIRouter(prefix="/plans", tags=["plans"])

GEOJSON = "application/geo+json"
_CACHE_SIZE = 256


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


_caches: dict[int, _LayerCache] = {}
_caches_lock = threading.Lock()


def plan_cache(ctx: AppContext) -> _LayerCache:
    """The app's cache of serialized plan documents, layers and map pages."""
    with _caches_lock:
        return _caches.setdefault(id(ctx), _LayerCache(_CACHE_SIZE))


@router.get(
    "/{plan_id}",
    response_model=PlanPublic,
    summary="A stored plan as JSON",
    description=(
        "The plan's ids, times, loads, costs and indicators, with links to its GeoJSON "
        "layers. It holds no coordinates (takes no `?crs=`): read the geometry from the "
        "layers, which do."
    ),
)
async def get_plan(plan_id: str, ctx: ContextDep, tenant: TenantDep) -> Response:
    cache = plan_cache(ctx)
    key: _Key = (plan_id, "", "wgs84")  # the plan document itself, serialized once
    hit = cache.get(key)
    if hit is None:
        row = await run_in_threadpool(ctx.store.get_plan, tenant, plan_id)
        if row is None:
            raise not_found("plan", plan_id)
        body = await run_in_threadpool(lambda: plan_public(row).model_dump_json().encode())
        hit = (row.tenant, row.kind, body)
        cache.put(key, hit)
    if hit[0] != tenant:
        raise not_found("plan", plan_id)
    return Response(content=hit[2], media_type="application/json")


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
    ctx: AppContext, tenant: str, plan_id: str, layer: str, crs: CoordSystem
) -> Response:
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
    async def endpoint(plan_id: str, ctx: ContextDep, tenant: TenantDep, crs: CrsQuery) -> Response:
        return await _layer(ctx, tenant, plan_id, layer, crs)

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

    plan = row.data["plan"]
    evaluation = (pilot.siting_indicators(plan) if row.kind == "siting"
                  else pilot.routing_indicators(plan))  # fmt: skip
    return PlanIndicators(
        plan_id=row.id,
        kind=row.kind,  # type: ignore[arg-type]
        indicators=row.data["indicators"],
        evaluation=[i.to_dict() for i in evaluation],
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
    evaluation = (pilot.siting_indicators(plan) if row.kind == "siting"
                  else pilot.routing_indicators(plan))  # fmt: skip
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
