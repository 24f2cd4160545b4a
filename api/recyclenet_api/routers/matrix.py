"""``/matrix``: travel time and distance matrices, as jobs."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

import recyclenet as rn
from recyclenet.errors import InputError
from recyclenet.geo import CoordSystem

from ..bodies import HasStore, request_body
from ..converters.matrix import matrix_points
from ..converters.points import PayloadError
from ..deps import ContextDep, TenantDep
from ..schemas import JobResult, NetworkRef
from ..schemas.matrix import MATRIX_EXAMPLE, MatrixCreate, MatrixJob
from .common import (
    CrsQuery,
    WaitQuery,
    check_time_limit,
    field_problem,
    payload_problem,
    resolve_network,
    submit_job,
)

router = APIRouter(tags=["matrix"])


@router.post(
    "/matrix",
    status_code=202,
    response_model=JobResult,
    summary="Compute a travel matrix (job)",
    description=(
        "Queues a matrix job (`Location: /jobs/{id}`); with `?wait=SECONDS` answers 200 "
        "with the job and its result (`duration_s` and `distance_m` rows by origin, `null` "
        "= unreachable) when it finishes in time. `?crs=gcj02` or `?crs=bd09` says the "
        "points' lon/lat are in that datum; they are converted to WGS-84 before snapping."
    ),
    responses={200: {"model": JobResult, "description": "Finished within ?wait="}},
    openapi_extra={
        "requestBody": request_body(
            MatrixCreate,
            {
                "two origins, one destination": {
                    "summary": "Helsinki sample",
                    "value": MATRIX_EXAMPLE,
                }
            },
        )
    },
)
async def create_matrix(
    request: Request,
    response: Response,
    ctx: ContextDep,
    tenant: TenantDep,
    crs: CrsQuery,
    wait: WaitQuery = 0.0,
) -> Any:
    job = await ctx.bodies.prepare(request, MatrixCreate, matrix_job, tenant, crs)
    return await submit_job(
        ctx,
        request,
        response,
        tenant=tenant,
        kind="matrix",
        payload=job.payload,
        time_limit_s=job.time_limit_s,
        wait_s=wait,
        name=job.name,
        tags=job.tags,
    )


def matrix_job(
    ctx: HasStore, tenant: str, body: MatrixCreate, crs: CoordSystem
) -> tuple[MatrixJob, float]:
    """The job payload of a matrix request and its time limit (422 naming the field)."""
    s = ctx.settings
    n_o = len(body.origins)
    n_d = len(body.destinations) if body.destinations is not None else 0
    if n_o + n_d > s.max_points:
        raise field_problem(
            "body.origins",
            f"{n_o + n_d} points are more than this server's limit of {s.max_points} per request",
        )
    if n_o * (n_d or n_o) > s.max_matrix_cells:
        raise field_problem(
            "body.destinations",
            f"{n_o} x {n_d or n_o} pairs are more than this server's limit of {s.max_matrix_cells}",
        )
    time_limit_s = check_time_limit(ctx, body.time_limit_s, "body.time_limit_s")
    network = resolve_network(ctx, tenant, body.network_id, "body.network_id")
    try:
        profile = rn.get_profile(body.profile or network.profile).name
    except InputError as exc:
        raise field_problem("body.profile", str(exc)) from None
    job = MatrixJob(
        request=body,
        network=NetworkRef(id=network.id, source=network.source, profile=profile),
        crs=crs,
        time_limit_s=time_limit_s,
    )
    try:
        matrix_points(job)
    except PayloadError as exc:
        raise payload_problem(exc) from None
    return job, time_limit_s
