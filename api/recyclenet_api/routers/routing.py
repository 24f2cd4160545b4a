"""``/routing``: a day's pickup routes, as jobs (issue #4's engines on the road network)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from recyclenet.errors import InputError
from recyclenet.geo import CoordSystem

from ..bodies import HasStore, request_body
from ..converters.points import PayloadError
from ..converters.routing import RoutingInputs, plan_document, replan_inputs, routing_inputs
from ..deps import ContextDep, TenantDep
from ..schemas import JobResult, NetworkRef
from ..schemas.routing import ROUTING_EXAMPLE, ParentPlan, ReplanIn, RoutingCreate, RoutingJob
from ..store import Network
from .common import (
    CrsQuery,
    WaitQuery,
    check_points,
    check_time_limit,
    field_problem,
    not_found,
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
        "path and the ids.\n\n"
        "**Re-planning**: add `replan` with the plan in progress (`plan_id`, or the plan "
        "JSON as `plan`), the time of day `now_s` and the orders done or started "
        "(`done_order_ids`). Done stops stay on their vehicle in their order; the rest of "
        "the day, with new orders (those in `orders` the plan does not name) and without "
        "`cancelled_order_ids`, is planned again from `now_s`. The result is a new plan "
        "whose `links.parent` is the re-planned one (stored plans never change). An unknown "
        "`plan_id` is a 404; a plan that does not match the orders or fleet is a 422 naming "
        "the ids.\n\n"
        "`?crs=gcj02` or `?crs=bd09` says the orders, depots and facilities are in that "
        "datum; they are converted to WGS-84 before any check, and the plan is stored in "
        "WGS-84 (`input_crs` records the datum). A plan JSON holds ids, not coordinates, so "
        "`replan.plan` needs no conversion. Read the layers back with the same `?crs=`."
    ),
    responses={200: {"model": JobResult, "description": "Finished within ?wait="}},
    openapi_extra={
        "requestBody": request_body(
            RoutingCreate,
            {
                "helsinki": {
                    "summary": "Helsinki sample: 5 orders, tricycles and a box truck",
                    "value": ROUTING_EXAMPLE,
                },
            },
        )
    },
)
async def create_routing(
    request: Request,
    response: Response,
    ctx: ContextDep,
    tenant: TenantDep,
    crs: CrsQuery,
    wait: WaitQuery = 0.0,
) -> Any:
    job = await ctx.bodies.prepare(request, RoutingCreate, routing_job, tenant, crs)
    return await submit_job(
        ctx,
        request,
        response,
        tenant=tenant,
        kind="routing",
        payload=job.payload,
        time_limit_s=job.time_limit_s,
        wait_s=wait,
        name=job.name,
        tags=job.tags,
    )


def routing_job(
    ctx: HasStore, tenant: str, body: RoutingCreate, crs: CoordSystem
) -> tuple[RoutingJob, float]:
    """The job payload of a routing request and its time limit, after every check that
    needs no solve (422 naming the field, 404 for an unknown parent plan): the server's
    limits and the parent plan here, the request's own in its converter
    (:func:`recyclenet_api.converters.routing.routing_inputs`), which the job runs again."""
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
    network = resolve_network(ctx, tenant, body.network_id, "body.network_id")
    parent = parent_plan(ctx, tenant, body.replan, network) if body.replan is not None else None
    job = RoutingJob(
        request=body,
        network=NetworkRef(id=network.id, source=network.source, profile=network.profile),
        crs=crs,
        time_limit_s=time_limit_s,
        parent=parent,
    )
    try:  # the library's own checks, before anything is queued
        inputs = routing_inputs(job)
        _check_lonlat_order(network, inputs)
        if body.replan is not None:
            replan_inputs(job, inputs)
    except PayloadError as exc:
        raise payload_problem(exc) from None
    return job, time_limit_s


def parent_plan(ctx: HasStore, tenant: str, replan: ReplanIn, network: Network) -> ParentPlan:
    """The plan a re-planning request carries on, resolved.

    A ``plan_id`` must name a routing plan of this tenant on the same network (404, or
    422 naming ``body.replan.plan_id`` / ``body.network_id``); its plan dict goes into the
    job. An inline ``plan`` stays in the request; it is linked as the parent only when it
    carries the ``id`` of a stored plan of this tenant and is that plan unchanged.
    """
    if replan.plan_id is not None:
        row = ctx.store.get_plan(tenant, replan.plan_id)
        if row is None:
            raise not_found("plan", replan.plan_id)
        if row.kind != "routing":
            raise field_problem(
                "body.replan.plan_id",
                f"plan {row.id} is a {row.kind} plan; re-planning needs a routing plan",
            )
        if row.data.get("network_id") != network.id:
            raise field_problem(
                "body.network_id",
                f"plan {row.id} was made on network {row.data.get('network_id')!r}; "
                "re-plan it on the same network",
            )
        return ParentPlan(id=row.id, plan=row.data["plan"])
    inline = replan.plan or {}  # the schema requires plan_id or plan
    try:
        doc = plan_document(inline)
    except PayloadError as exc:
        raise payload_problem(exc) from None
    stored_id = inline.get("id")
    if isinstance(stored_id, str) and 0 < len(stored_id) <= 64:
        row = ctx.store.get_plan(tenant, stored_id)
        if (
            row is not None
            and row.kind == "routing"
            and row.data.get("network_id") == network.id
            and row.data.get("plan") == doc
        ):
            return ParentPlan(id=row.id)
    return ParentPlan()


def _check_lonlat_order(network: Network, inputs: RoutingInputs) -> None:
    """422 on ``body.orders`` when points look like lon/lat swapped against the network's
    area (the library's check; the network's bbox is stored in its info)."""
    from recyclenet.pipeline import check_lonlat_order

    bbox = (network.info or {}).get("bbox")
    if not bbox:
        return
    try:
        check_lonlat_order(bbox, [*inputs.depots, *inputs.facilities, *inputs.orders])
    except InputError as exc:
        raise field_problem("body.orders", str(exc)) from None
