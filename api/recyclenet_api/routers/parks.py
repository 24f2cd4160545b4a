"""``/parks``: industrial park plans as jobs (issue #16), and their layers and manifests.

The body carries the park document (the YAML file's mapping as JSON: enterprises,
streams, receivers, vehicles, depots, sites, settings, shared; see
:mod:`recyclenet.parks.io`) and a registered network. The library checks the park before
anything is queued (unknown codes, ids, units: a 422 naming ``body.park`` and the row);
a stream no receiver may take (codes, licences) is a 422 too; problems only the solve can
see (no road to a receiver, capacity below the total, a storage limit the collection
days cannot meet) fail the job with a 422 problem.

The stored plan holds the allocation, schedule, trips, shared facility, indicators, the
manifests and the GeoJSON layers ``enterprises``, ``receivers``, ``flows``, ``routes`` and
``sites``, each also served at ``/parks/{plan_id}/{layer}.geojson``; the manifests as CSV
at ``/parks/{plan_id}/manifests.csv``.

Everything park-specific of the service is in this module (router, request schema and the
job function) so it stays apart from the rest of ``recyclenet_api``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from ..deps import ContextDep, TenantDep
from ..problems import Problem
from ..schemas import JobResult, PlanName, PlanTags
from .common import (
    WaitQuery,
    check_points,
    check_time_limit,
    field_problem,
    not_found,
    resolve_network,
    submit_job,
)

router = APIRouter(tags=["parks"])

PARK_LAYERS: tuple[str, ...] = ("enterprises", "receivers", "flows", "routes", "sites")
GEOJSON = "application/geo+json"


# A small park on the Helsinki sample: fly ash to a cement works, waste hydraulic oil to a
# licensed regenerator, scrap steel to a recycler (used by /docs and by the schema tests).
PARK_EXAMPLE: dict[str, Any] = {
    "network_id": "helsinki",  # an embedded sample by name: the example runs as it is
    "park": {
        "name": "示范园区 Example park",
        "settings": {"collection_days": ["mon", "wed", "fri"]},
        "enterprises": [
            {"id": "E01", "name": "热电厂 Thermal power plant", "lon": 24.9423241,
             "lat": 60.1729075},
            {"id": "E02", "name": "钢结构厂 Steel fabrication", "lon": 24.9432647,
             "lat": 60.17309, "gate_windows": "08:00-11:30;13:00-17:00"},
        ],
        "streams": [
            {"id": "S01", "enterprise_id": "E01", "code": "SW02", "tonnes_per_month": 40.0,
             "form": "powder", "packaging": "bulk", "storage_limit_t": 60.0,
             "storage_days": 30.0, "name": "粉煤灰"},
            {"id": "S02", "enterprise_id": "E02", "code": "SW17-01", "tonnes_per_month": 6.0,
             "form": "solid", "packaging": "bulk", "storage_limit_t": 10.0, "name": "边角料废钢"},
            {"id": "S03", "enterprise_id": "E02", "code": "900-249-08", "tonnes_per_month": 1.5,
             "form": "liquid", "packaging": "drums", "storage_limit_t": 3.0,
             "storage_days": 90.0, "name": "废液压油"},
        ],
        "receivers": [
            {"id": "R02", "name": "水泥厂 Cement works", "kind": "cement_kiln",
             "accepted_codes": "SW02", "capacity_t_per_year": 20000.0, "price_paid_per_t": 5.0,
             "lon": 24.9413598, "lat": 60.1773804},
            {"id": "R04", "name": "再生金属回收 Scrap metal recycler", "kind": "recycler",
             "accepted_codes": "SW17-01", "price_paid_per_t": 2000.0, "lon": 24.9516501,
             "lat": 60.1769274},
            {"id": "R10", "name": "废矿物油再生 Waste oil regeneration", "kind": "recycler",
             "accepted_codes": "HW08", "capacity_t_per_year": 300.0, "price_paid_per_t": 1500.0,
             "licence": "示例-HW-0005", "lon": 24.9478236, "lat": 60.1780955},
        ],
        "vehicles": [
            {"id": "V2-危货厢车", "kind": "box", "hazmat_licensed": "yes", "compartments": 4,
             "compartment_capacity_t": 1.5, "depot_id": "D1", "shift": "07:00-18:00",
             "cost_per_km": 7.0, "profile": "truck_18t"},
            {"id": "V3-自卸车", "kind": "tipper", "hazmat_licensed": "no", "compartments": 1,
             "compartment_capacity_t": 25.0, "depot_id": "D1", "shift": "07:00-18:00",
             "cost_per_km": 6.0, "profile": "truck_18t"},
        ],
        "depots": [{"id": "D1", "lon": 24.9442823, "lat": 60.1676935}],
    },
    "time_limit_s": 5,
}


class ParkCreate(BaseModel):
    """An industrial park to plan on a registered network."""

    model_config = ConfigDict(
        extra="forbid", allow_inf_nan=False, json_schema_extra={"examples": [PARK_EXAMPLE]}
    )

    network_id: str = Field(
        min_length=1, max_length=64, description="A registered network, or an embedded sample."
    )
    park: dict[str, Any] = Field(
        description="The park document: enterprises, streams, receivers, vehicles, depots, "
        "sites (lists of rows), settings, shared, name, crs; as in a park YAML file."
    )
    time_limit_s: float | None = Field(default=None, gt=0, description="For all solves, s.")
    single_source: bool | None = Field(default=None, description="Each stream to one receiver.")
    allow_unplaced: bool = Field(
        default=False, description="Plan what can be placed and report the rest."
    )
    seed: int = Field(default=0, ge=0, le=2**31 - 1)
    name: PlanName
    tags: PlanTags


def _check_park(doc: dict[str, Any], allow_unplaced: bool) -> int:
    """Build the park (the library's checks); return its number of places."""
    from recyclenet.parks.allocation import check_placeable
    from recyclenet.parks.io import park_from_doc

    park = park_from_doc(doc, source="body.park")
    if not allow_unplaced:
        check_placeable(park)
    return len(park.enterprises) + len(park.receivers) + len(park.depots) + len(park.sites)


@router.post(
    "/parks",
    status_code=202,
    response_model=JobResult,
    summary="Plan an industrial park (job)",
    description=(
        "Queues a park job (allocation of every stream to receivers, weekly pickup schedule, "
        "routes, transfer manifests, shared facility) and answers 202 (`Location: "
        "/jobs/{id}`); with `?wait=SECONDS` 200 with the plan when it finishes in time. "
        "Layers at `/parks/{plan_id}/{layer}.geojson`, manifests at "
        "`/parks/{plan_id}/manifests.csv`."
    ),
    responses={200: {"model": JobResult, "description": "Finished within ?wait="}},
)
async def create_park(
    request: Request,
    response: Response,
    ctx: ContextDep,
    tenant: TenantDep,
    body: Annotated[ParkCreate, Body()],
    wait: WaitQuery = 0.0,
) -> Any:
    time_limit_s = check_time_limit(ctx, body.time_limit_s, "body.time_limit_s")
    network = resolve_network(ctx, tenant, body.network_id, "body.network_id")
    try:
        n = await run_in_threadpool(_check_park, body.park, body.allow_unplaced)
    except (ValueError, TypeError, KeyError, AttributeError) as exc:  # InputError is a ValueError
        raise field_problem("body.park", str(exc)) from None
    check_points(ctx, n, "body.park")
    payload = {
        "network": {"id": network.id, "source": network.source, "profile": network.profile},
        "park": body.park,
        "time_limit_s": time_limit_s,
        "single_source": body.single_source,
        "unplaced": "report" if body.allow_unplaced else "raise",
        "seed": body.seed,
    }
    return await submit_job(
        ctx,
        request,
        response,
        tenant=tenant,
        kind="park",
        payload=payload,
        time_limit_s=time_limit_s,
        wait_s=wait,
        name=body.name,
        tags=body.tags,
    )


async def _park_plan(ctx: Any, tenant: str, plan_id: str) -> dict[str, Any]:
    row = await run_in_threadpool(ctx.store.get_plan, tenant, plan_id)
    if row is None or row.kind != "park":
        raise not_found("park plan", plan_id)
    return row.data


@router.get(
    "/parks/{plan_id}/{layer}.geojson",
    summary="A GeoJSON layer of a park plan",
    response_class=Response,
    responses={200: {"content": {GEOJSON: {}}, "description": "A FeatureCollection (WGS-84)"}},
)
async def park_layer(
    plan_id: str,
    layer: Literal["enterprises", "receivers", "flows", "routes", "sites"],
    ctx: ContextDep,
    tenant: TenantDep,
) -> Response:
    data = await _park_plan(ctx, tenant, plan_id)
    fc = (data.get("layers") or {}).get(layer)
    if fc is None:
        raise Problem(404, f"park plan {plan_id} has no {layer} layer")
    body = json.dumps(fc, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return Response(content=body.encode(), media_type=GEOJSON)


@router.get(
    "/parks/{plan_id}/manifests.csv",
    summary="Transfer manifests of a park plan (危险废物转移联单 fields), CSV",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "One row per load"}},
)
async def park_manifests(plan_id: str, ctx: ContextDep, tenant: TenantDep) -> Response:
    from recyclenet.parks.collection import manifests_csv

    data = await _park_plan(ctx, tenant, plan_id)
    text = manifests_csv(data.get("manifests") or [])
    return Response(content=text.encode("utf-8"), media_type="text/csv; charset=utf-8")


# ---------------------------------------------------------------------- the job


def _noop(_: dict[str, Any]) -> None:
    return None


def park_task(
    payload: dict[str, Any], *, progress: Callable[[dict[str, Any]], None] = _noop
) -> dict[str, Any]:
    """Plan the park (:func:`recyclenet.pipeline.plan_park_files`) and store its layers."""
    from recyclenet.pipeline import plan_park_files

    from ..tasks import to_jsonable

    net = payload["network"]
    run = plan_park_files(
        payload["park"],
        net["source"],
        time_limit_s=float(payload["time_limit_s"]),
        single_source=payload.get("single_source"),
        unplaced=payload.get("unplaced", "raise"),
        seed=int(payload.get("seed", 0)),
        progress=lambda m: progress({"phase": m}),
    )
    layers = run.geojson_layers()
    for name in PARK_LAYERS:  # every feature gets an id
        for k, f in enumerate(layers[name]["features"]):
            f.setdefault("id", f"{name}-{k + 1}")
    return {
        "kind": "park",
        "network_id": net["id"],
        "plan": to_jsonable(run.to_dict()),
        "indicators": {i.key: to_jsonable(i.value) for i in run.indicators},
        "manifests": to_jsonable(run.manifests()),
        "layers": to_jsonable(layers),
    }
