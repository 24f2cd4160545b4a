"""``/siting``: station siting scenarios, as jobs (issue #3's models on the road network)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from recyclenet.geo import CoordSystem

from ..bodies import HasStore, request_body
from ..converters.points import PayloadError
from ..converters.siting import siting_inputs
from ..deps import ContextDep, TenantDep
from ..schemas import JobResult, NetworkRef
from ..schemas.siting import SITING_EXAMPLE_INLINE, SITING_EXAMPLE_OSM, SitingCreate, SitingJob
from .common import (
    CrsQuery,
    WaitQuery,
    check_points,
    check_time_limit,
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
    job = await ctx.bodies.prepare(request, SitingCreate, siting_job, tenant, crs)
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


def siting_job(
    ctx: HasStore, tenant: str, body: SitingCreate, crs: CoordSystem
) -> tuple[SitingJob, float]:
    """The job payload of a siting request and its time limit, after every check that
    needs no solve (422 naming the field otherwise): the server's limits here, the
    request's own in its converter (:func:`recyclenet_api.converters.siting.siting_inputs`),
    which the job runs again."""
    n_points = sum(
        len(c.features) for c in (body.demand, body.sites, body.centres) if c is not None
    )
    check_points(ctx, n_points, "body.demand" if body.demand is not None else "body.sites")
    time_limit_s = check_time_limit(ctx, body.time_limit_s, "body.time_limit_s")
    network = resolve_network(ctx, tenant, body.network_id, "body.network_id")
    job = SitingJob(
        request=body,
        network=NetworkRef(id=network.id, source=network.source, profile=network.profile),
        crs=crs,
        time_limit_s=time_limit_s,
    )
    try:
        inputs = siting_inputs(job)
    except PayloadError as exc:
        raise payload_problem(exc) from None
    for key, places in (("demand", inputs.demand), ("sites", inputs.sites),
                        ("centres", inputs.centres)):  # fmt: skip
        if places is not None:
            outside_network(network, places, f"body.{key}.features", body.max_snap_distance_m)
    return job, time_limit_s
