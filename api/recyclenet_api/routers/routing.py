"""``/routing``: a day's pickup routes, as jobs (issue #4's engines on the road network)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Request, Response
from starlette.concurrency import run_in_threadpool

from ..deps import ContextDep, TenantDep
from ..planning import PayloadError, routing_inputs
from ..schemas import ROUTING_EXAMPLE, JobResult, RoutingCreate
from .common import (
    WaitQuery,
    check_points,
    check_profile,
    check_time_limit,
    feature_records,
    field_problem,
    payload_problem,
    resolve_network,
    submit_job,
)

router = APIRouter(tags=["routing"])


@router.post(
    "/routing",
    status_code=202,
    response_model=JobResult,
    summary="Plan pickup routes (job)",
    description=(
        "Queues a routing job and answers 202 with it (`Location: /jobs/{id}`); with "
        "`?wait=SECONDS` answers 200 with the job and its plan when it finishes in time. "
        "The plan's layers are at `/plans/{id}/routes.geojson` (LineStrings along the roads) "
        "and `stops.geojson` (stops and unserved orders), its indicators at "
        "`/plans/{id}/indicators`. Orders the fleet cannot serve are planned as unserved "
        "with a reason, not rejected. Input the library rejects (unknown item category, "
        "a window that ends before it starts, duplicate ids, ...) is a 422 naming the field "
        "path and the ids."
    ),
    responses={200: {"model": JobResult, "description": "Finished within ?wait="}},
)
async def create_routing(
    request: Request,
    response: Response,
    ctx: ContextDep,
    tenant: TenantDep,
    body: Annotated[
        RoutingCreate,
        Body(
            openapi_examples={
                "helsinki": {
                    "summary": "Helsinki sample: 5 orders, tricycles and a box truck",
                    "value": ROUTING_EXAMPLE,
                }
            }
        ),
    ],
    wait: WaitQuery = 0.0,
) -> Any:
    facilities = body.facilities.features if body.facilities is not None else []
    n_points = len(body.orders.features) + len(body.depots.features) + len(facilities)
    check_points(ctx, n_points, "body.orders")
    vehicles = sum(vt.count for vt in body.fleet or [])
    if vehicles > ctx.settings.max_vehicles:
        raise field_problem(
            "body.fleet",
            f"{vehicles} vehicles are more than this server's limit of "
            f"{ctx.settings.max_vehicles} per request",
        )
    time_limit_s = check_time_limit(ctx, body.time_limit_s, "body.time_limit_s")
    fleet = None
    if body.fleet is not None:
        fleet = []
        for i, vt in enumerate(body.fleet):
            record = vt.model_dump()
            record["profile"] = check_profile(vt.profile, f"body.fleet.{i}.profile")
            fleet.append(record)
    network = resolve_network(ctx, tenant, body.network_id, "body.network_id")
    payload: dict[str, Any] = {
        "network": {"id": network.id, "source": network.source, "profile": network.profile},
        "orders": feature_records(body.orders.features, "body.orders.features"),
        "depots": feature_records(body.depots.features, "body.depots.features"),
        "facilities": feature_records(facilities, "body.facilities.features"),
        "fleet": fleet,
        "engine": body.engine,
        "max_snap_distance_m": body.max_snap_distance_m,
        "time_limit_s": time_limit_s,
        "seed": body.seed,
    }
    try:  # the library's own checks, before anything is queued
        await run_in_threadpool(routing_inputs, payload)
    except PayloadError as exc:
        raise payload_problem(exc) from None
    return await submit_job(
        ctx,
        request,
        response,
        tenant=tenant,
        kind="routing",
        payload=payload,
        time_limit_s=time_limit_s,
        wait_s=wait,
    )
