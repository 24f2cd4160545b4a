"""``/jobs``: status, progress and errors of solves; ``DELETE`` cancels."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from ..deps import ContextDep, TenantDep
from ..problems import Problem
from ..schemas import JobList, JobPublic, JobStatus
from .common import job_public, not_found

router = APIRouter(prefix="/jobs", tags=["jobs"])


@router.get("", response_model=JobList, summary="List this tenant's jobs, newest first")
def list_jobs(
    ctx: ContextDep,
    tenant: TenantDep,
    status: JobStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
) -> JobList:
    rows, total = ctx.store.list_jobs(tenant, status=status, limit=limit, offset=offset)
    return JobList(items=[job_public(r) for r in rows], total=total, limit=limit, offset=offset)


@router.get("/{job_id}", response_model=JobPublic, summary="A job's status and progress")
def get_job(job_id: str, ctx: ContextDep, tenant: TenantDep) -> JobPublic:
    row = ctx.store.get_job(tenant, job_id)
    if row is None:
        raise not_found("job", job_id)
    return job_public(row)


@router.delete(
    "/{job_id}",
    response_model=JobPublic,
    summary="Cancel a queued or running job",
    description="A queued job never starts; a running job's process is killed. "
    "Cancelling a finished job is a 409.",
    responses={409: {"description": "The job already finished"}},
)
def cancel_job(job_id: str, ctx: ContextDep, tenant: TenantDep) -> JobPublic:
    if ctx.store.get_job(tenant, job_id) is None:
        raise not_found("job", job_id)
    if ctx.store.cancel_job(tenant, job_id) and ctx.runner is not None:
        ctx.runner.cancel(job_id)
    row = ctx.store.get_job(tenant, job_id)
    if row is None:
        raise not_found("job", job_id)
    if row.status != "cancelled":
        raise Problem(409, f"job {job_id} already finished with status {row.status!r}")
    return job_public(row)
