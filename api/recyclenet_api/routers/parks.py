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

The request, its job payload and its result are in :mod:`recyclenet_api.schemas.parks`,
the converter in :mod:`recyclenet_api.converters.parks`, the job in
:mod:`recyclenet_api.tasks.parks`.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Request, Response
from starlette.concurrency import run_in_threadpool

from ..converters.parks import park_input, park_places
from ..converters.points import PayloadError
from ..deps import ContextDep, TenantDep
from ..problems import Problem
from ..schemas import JobResult, NetworkRef
from ..schemas.parks import ParkCreate, ParkJob
from .common import (
    WaitQuery,
    check_points,
    check_time_limit,
    not_found,
    payload_problem,
    resolve_network,
    submit_job,
)

router = APIRouter(tags=["parks"])

GEOJSON = "application/geo+json"


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
        park = await run_in_threadpool(park_input, body)
    except PayloadError as exc:
        raise payload_problem(exc) from None
    check_points(ctx, park_places(park), "body.park")
    payload = ParkJob(
        request=body,
        network=NetworkRef(id=network.id, source=network.source, profile=network.profile),
        time_limit_s=time_limit_s,
    )
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
