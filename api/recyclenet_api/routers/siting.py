"""``/siting``: station siting scenarios, as jobs (issue #3's models on the road network)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from recyclenet.errors import InputError
from recyclenet.geo import CoordSystem

from ..bodies import HasStore, request_body
from ..deps import ContextDep, TenantDep
from ..planning import PayloadError, districts_file, siting_inputs
from ..schemas import SITING_EXAMPLE_INLINE, SITING_EXAMPLE_OSM, JobResult, SitingCreate
from .common import (
    CrsQuery,
    WaitQuery,
    check_points,
    check_profile,
    check_time_limit,
    feature_records,
    field_problem,
    outside_network,
    payload_problem,
    resolve_network,
    submit_job,
)

router = APIRouter(tags=["siting"])


@router.post(
    "/siting",
    status_code=202,
    response_model=JobResult,
    summary="Site collection stations (job)",
    description=(
        "Queues a siting job and answers 202 with it (`Location: /jobs/{id}`); with "
        "`?wait=SECONDS` answers 200 with the job and its plan when it finishes in time. "
        "The plan's layers are at `/plans/{id}/stations.geojson`, `assignments.geojson` and "
        "`coverage.geojson`, its indicators at `/plans/{id}/indicators`. Input the library "
        "rejects (duplicate ids, bad coordinates, ...) is a 422 naming the field path; "
        "problems only the solve can see (p larger than the usable sites, demand that "
        "cannot be snapped) fail the job with a 422 problem in `error`.\n\n"
        "`?crs=gcj02` or `?crs=bd09` says the demand, sites and centres are in that datum; "
        "they are converted to WGS-84 before any check, and the plan is stored in WGS-84 "
        "(`input_crs` records the datum). Read the layers back with the same `?crs=`."
    ),
    responses={200: {"model": JobResult, "description": "Finished within ?wait="}},
    openapi_extra={
        "requestBody": request_body(
            SitingCreate,
            {
                "osm": {
                    "summary": "Helsinki sample, demand and sites from OSM, p-median",
                    "value": SITING_EXAMPLE_OSM,
                },
                "inline": {
                    "summary": "Helsinki sample, inline GeoJSON, maximal coverage",
                    "value": SITING_EXAMPLE_INLINE,
                },
            },
        )
    },
)
async def create_siting(
    request: Request,
    response: Response,
    ctx: ContextDep,
    tenant: TenantDep,
    crs: CrsQuery,
    wait: WaitQuery = 0.0,
) -> Any:
    job = await ctx.bodies.prepare(request, SitingCreate, siting_payload, tenant, crs)
    return await submit_job(
        ctx,
        request,
        response,
        tenant=tenant,
        kind="siting",
        payload=job.payload,
        time_limit_s=job.time_limit_s,
        wait_s=wait,
        name=job.name,
        tags=job.tags,
    )


def demand_options(body: SitingCreate, crs: CoordSystem) -> dict[str, Any]:
    """The options of demand derived from OSM, checked (422 naming the field): only
    with derived demand, a total or districts but not both, districts readable."""
    from recyclenet.geo import geojson_from_crs
    from recyclenet.siting.demand import district_totals

    given = [k for k in ("households_total", "demand_districts") if getattr(body, k) is not None]
    if body.urban_context != "auto":
        given.append("urban_context")
    if body.demand is not None and given:
        raise field_problem(f"body.{given[0]}", "applies to demand derived from OSM only; "
                            "leave it out when the request gives demand")  # fmt: skip
    if body.households_total is not None and body.demand_districts is not None:
        raise field_problem("body.demand_districts", "give either households_total or "
                            "demand_districts with totals, not both")  # fmt: skip
    districts = None
    if body.demand_districts is not None:
        try:
            districts = (geojson_from_crs(body.demand_districts, crs) if crs != "wgs84"
                         else body.demand_districts)  # fmt: skip
            with districts_file(districts) as path:
                assert path is not None
                district_totals(path)
        except (InputError, ValueError) as exc:
            raise field_problem("body.demand_districts", str(exc)) from None
    return {"urban_context": body.urban_context, "households_total": body.households_total,
            "demand_districts": districts}  # fmt: skip


def siting_payload(
    ctx: HasStore, tenant: str, body: SitingCreate, crs: CoordSystem
) -> tuple[dict[str, Any], float]:
    """The job payload of a siting request and its time limit, after every check that
    needs no solve (422 naming the field otherwise)."""
    n_points = sum(
        len(c.features) for c in (body.demand, body.sites, body.centres) if c is not None
    )
    check_points(ctx, n_points, "body.demand" if body.demand is not None else "body.sites")
    time_limit_s = check_time_limit(ctx, body.time_limit_s, "body.time_limit_s")
    if body.model in ("p_median", "max_coverage") and body.p is None:
        raise field_problem("body.p", f"model {body.model!r} needs p, the number of stations")
    if body.model in ("max_coverage", "min_stations") and body.radius is None:
        raise field_problem(
            "body.radius", f"model {body.model!r} needs radius (in the unit of {body.metric})"
        )
    if body.sites is not None and body.p is not None:
        usable = sum(1 for f in body.sites.features if f.properties.status != "forbidden")
        if body.p > usable:
            raise field_problem(
                "body.p",
                f"p = {body.p} is larger than the {usable} usable (not forbidden) sites; "
                "lower p or add candidate sites",
            )
    profile = check_profile(body.profile, "body.profile")
    network = resolve_network(ctx, tenant, body.network_id, "body.network_id")
    payload: dict[str, Any] = {
        "network": {"id": network.id, "source": network.source, "profile": network.profile},
        "model": body.model,
        "profile": profile,
        "metric": body.metric,
        "p": body.p,
        "radius": body.radius,
        "households_per_station": body.households_per_station,
        "budget": body.budget,
        "keep_existing": body.keep_existing,
        "uncoverable": body.uncoverable,
        "centres": feature_records(body.centres.features, "body.centres.features", crs)
        if body.centres is not None
        else None,
        "cell_m": body.cell_m,
        "road_spacing_m": body.road_spacing_m,
        "max_snap_distance_m": body.max_snap_distance_m,
        "time_limit_s": time_limit_s,
        "seed": body.seed,
        "crs": crs,
        "demand": feature_records(body.demand.features, "body.demand.features", crs)
        if body.demand is not None
        else None,
        "sites": feature_records(body.sites.features, "body.sites.features", crs)
        if body.sites is not None
        else None,
    }
    for key in ("demand", "sites", "centres"):
        if payload[key] is not None:
            outside_network(network, payload[key], f"body.{key}.features",
                            body.max_snap_distance_m)  # fmt: skip
    payload.update(demand_options(body, crs))
    try:  # the library's own checks, before anything is queued
        siting_inputs(payload)
    except PayloadError as exc:
        raise payload_problem(exc) from None
    return payload, time_limit_s
