"""The siting job: stations (and sorting centres) on the road network
(:func:`recyclenet.pipeline.plan_siting`), stored with its layers."""

from __future__ import annotations

from typing import Any

from ..converters.siting import districts_file, siting_inputs
from ..schemas.siting import SitingIndicators, SitingJob, SitingPlanDoc, SitingResult
from . import Progress, noop_progress, to_jsonable


def siting_indicators(plan: dict[str, Any]) -> SitingIndicators:
    """What ``GET /plans/{id}/indicators`` shows for a siting plan (a plan dict of
    :meth:`recyclenet.pipeline.SitingRun.to_dict`)."""
    return SitingIndicators.model_validate(
        {
            "model": plan["model"],
            "metric": plan["metric"],
            "status": plan["status"],
            "objective": plan["objective"],
            "bound": plan["bound"],
            "gap": plan["gap"],
            "time_s": plan["time_s"],
            "solver": plan["solver"],
            "stations_open": len(plan["open_ids"]),
            "stations_opened": len(plan["opened_ids"]),
            "stations_kept": len(plan["kept_ids"]),
            "stations_closed": len(plan["closed_ids"]),
            "demand_points_assigned": len({a["demand_id"] for a in plan["assignment"]}),
            "demand_points_unassigned": len(plan["unassigned_ids"]),
            **plan["indicators"],
        }
    )


def siting_task(job: SitingJob, *, progress: Progress = noop_progress) -> SitingResult:
    """Site stations and store the plan with its layers."""
    from recyclenet.pipeline import plan_siting

    body = job.request
    inputs = siting_inputs(job)
    progress({"phase": "building matrix and solving", "model": body.model})
    with districts_file(inputs.demand_districts) as districts:
        run = plan_siting(
            job.network.source,
            model=body.model,
            demand=inputs.demand,
            sites=inputs.sites,
            profile=inputs.profile,
            metric=body.metric,
            p=body.p,
            radius=body.radius,
            households_per_station=body.households_per_station,
            budget=body.budget,
            keep_existing=body.keep_existing,
            uncoverable=body.uncoverable,
            centres=inputs.centres,
            cell_m=body.cell_m,
            road_spacing_m=body.road_spacing_m,
            max_snap_distance_m=body.max_snap_distance_m,
            time_limit_s=job.time_limit_s,
            seed=body.seed,
            urban_context=body.urban_context,
            households_total=body.households_total,
            demand_districts=districts,
            # while solving: phase, engine, elapsed, share of the time limit, incumbent
            # objective, bound and gap
            progress=lambda p: progress(
                {**p, "phase": f"solving: {p['phase']}", "model": body.model}
            ),
        )
    progress({"phase": "writing layers", "objective": run.plan.objective})
    plan = to_jsonable(run.to_dict())
    return SitingResult(
        kind="siting",
        network_id=job.network.id,
        input_crs=job.crs,
        profile=inputs.profile,
        demand_source="request" if inputs.demand is not None else "osm",
        sites_source="request" if inputs.sites is not None else "osm",
        plan=SitingPlanDoc.model_validate(plan),
        indicators=siting_indicators(plan),
        layers=to_jsonable(run.geojson_layers()),
    )
