"""The routing job: a day's pickup routes (:func:`recyclenet.pipeline.plan_routes`), or a
plan in progress re-planned (:func:`recyclenet.routing.replan`), stored with its layers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..converters.routing import replan_inputs, routing_inputs
from ..schemas.routing import (
    ReplanOut,
    RoutePlanDoc,
    RoutingIndicators,
    RoutingJob,
    RoutingResult,
)
from . import Progress, noop_progress, to_jsonable

if TYPE_CHECKING:
    from recyclenet.pipeline import RoutingRun


def route_layers(geojson: dict[str, Any]) -> dict[str, Any]:
    """Split the pipeline's FeatureCollection into routes and stops, with feature ids."""
    routes, stops = [], []
    for f in geojson["features"]:
        p = f["properties"]
        if p.get("kind") == "route":
            routes.append({**f, "id": p["vehicle_id"]})
        elif p.get("kind") == "unserved":
            stops.append({**f, "id": f"unserved:{p['order_id']}"})
        else:
            stops.append({**f, "id": f"{p['vehicle_id']}:{p['sequence']}"})
    return {
        "routes": {"type": "FeatureCollection", "features": routes},
        "stops": {"type": "FeatureCollection", "features": stops},
    }


def routing_indicators(plan: dict[str, Any], n_orders: int) -> RoutingIndicators:
    """What ``GET /plans/{id}/indicators`` shows for a route plan (a plan dict of
    :meth:`recyclenet.routing.RoutePlan.to_dict`)."""
    by_reason: dict[str, int] = {}
    for u in plan["unserved"]:
        by_reason[u["reason"]] = by_reason.get(u["reason"], 0) + 1
    served = sum(1 for r in plan["routes"] for v in r["visits"] if v["order_id"])
    kg = plan["kg_by_material"]
    return RoutingIndicators(
        status=plan["status"],
        engine=plan["engine"],
        vehicle_km=plan["vehicle_km"],
        vehicle_hours=plan["vehicle_hours"],
        cost=plan["cost"],
        penalty_cost=plan["penalty_cost"],
        objective=plan["objective"],
        kg_by_material=kg,
        kg_total=sum(v for v in kg.values() if v is not None),
        tonnes_by_material=plan["tonnes_by_material"],
        orders_total=n_orders,
        served_count=served,
        unserved_count=len(plan["unserved"]),
        unserved_by_reason=by_reason,
        vehicles_used=len(plan["routes"]),
        unload_stops=sum(1 for r in plan["routes"] for v in r["visits"] if v["kind"] == "unload"),
        time_s=plan["time_s"],
    )


def routing_result(job: RoutingJob, run: RoutingRun) -> RoutingResult:
    """What a routing job stores: the plan, its indicators and its layers."""
    plan = to_jsonable(run.plan.to_dict())
    return RoutingResult(
        kind="routing",
        network_id=job.network.id,
        input_crs=job.crs,
        profiles=sorted({vt.profile for vt in run.problem.vehicle_types}),
        fleet="request" if job.request.fleet is not None else "default",
        plan=RoutePlanDoc.model_validate(plan),
        indicators=routing_indicators(plan, len(run.problem.orders)),
        layers=to_jsonable(route_layers(run.geojson())),
    )


def routing_task(job: RoutingJob, *, progress: Progress = noop_progress) -> RoutingResult:
    """Plan a day's routes and store the plan with its layers; a request with ``replan``
    goes to :func:`replan_task`."""
    from recyclenet.pipeline import plan_routes

    if job.request.replan is not None:
        return replan_task(job, progress=progress)
    body = job.request
    inputs = routing_inputs(job)
    n = len(inputs.orders)
    progress({"phase": "building matrices and solving", "orders": n})
    run = plan_routes(
        job.network.source,
        orders=inputs.orders,
        fleet=inputs.fleet,
        depots=inputs.depots,
        facilities=inputs.facilities,
        engine=body.engine,
        time_limit_s=job.time_limit_s,
        seed=body.seed,
        max_snap_distance_m=body.max_snap_distance_m,
        order_snap_limit_m=body.order_snap_limit_m,
        speed_model=body.speed_model,
        period=body.period,
        restriction_zones=inputs.restriction_zones,
        deterministic=body.deterministic,
        # while solving: elapsed, share of the time limit, incumbent cost, engine
        progress=lambda p: progress({**p, "phase": f"solving: {p['phase']}", "orders": n}),
    )
    progress({"phase": "writing layers", "objective": run.plan.objective})
    return routing_result(job, run)


def replan_task(job: RoutingJob, *, progress: Progress = noop_progress) -> RoutingResult:
    """Re-plan a plan in progress and store the new plan with its layers.

    The done or started stops stay; the plan's other orders, minus the cancelled ones,
    plus the added ones are planned again from ``now_s`` (seconds from midnight).
    """
    from recyclenet.pipeline import RoutingRun, routing_problem
    from recyclenet.routing import RoutePlan, replan

    rp = job.request.replan
    assert rp is not None
    inputs = routing_inputs(job)
    checked = replan_inputs(job, inputs)
    done, cancelled = list(rp.done_order_ids), list(rp.cancelled_order_ids)
    n = len(inputs.orders)
    progress({"phase": "building matrices", "orders": n, "done": len(done)})
    problem, nets = routing_problem(
        job.network.source,
        orders=inputs.orders,
        fleet=inputs.fleet,
        depots=inputs.depots,
        facilities=inputs.facilities,
        max_snap_distance_m=job.request.max_snap_distance_m,
    )
    before = problem.with_orders(checked.old)
    plan = RoutePlan.from_dict(checked.plan_doc, before)
    progress({"phase": "re-planning", "orders": n, "done": len(done)})
    new_plan = replan(
        plan,
        before,
        fixed_order_ids=done,
        added_orders=checked.added,
        cancelled_order_ids=cancelled,
        matrices=problem.matrices,
        now_s=rp.now_s,
        time_limit_s=job.time_limit_s,
        seed=job.request.seed,
    )
    gone = set(cancelled)
    after = problem.with_orders([o for o in checked.old if o.id not in gone] + checked.added)
    run = RoutingRun(plan=new_plan, problem=after, networks=nets)
    progress({"phase": "writing layers", "objective": new_plan.objective})
    result = routing_result(job, run)
    result.replan = ReplanOut(
        parent_plan_id=job.parent.id if job.parent is not None else None,
        now_s=rp.now_s,
        done_order_ids=done,
        cancelled_order_ids=cancelled,
        added_order_ids=[o.id for o in checked.added],
        fixed=result.plan.statistics.get("fixed", {}),
    )
    return result
