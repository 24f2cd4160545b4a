"""``/jobs``: status, progress and errors of solves; ``DELETE`` cancels an active job and
removes a finished one."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from ..deps import ContextDep, TenantDep
from ..paging import CursorQuery, LimitQuery, OffsetQuery, page_links, start_of_page
from ..schemas import JobList, JobPublic, JobStatus
from ..store import ACTIVE
from .common import job_public, not_found

router = APIRouter(prefix="/jobs", tags=["jobs"])


@router.get(
    "",
    response_model=JobList,
    summary="List this tenant's jobs, newest first",
    description=(
        "The jobs this API key may read, newest first (ties by id), optionally of one "
        "`status`. Paged with `limit` and `cursor`: follow `links.next` and `links.prev` "
        "(also in the `Link` header); jobs queued or removed meanwhile neither repeat nor "
        "shift the pages. `total` counts every match, `offset` the jobs before the page; "
        "`offset` as a parameter still works (deprecated)."
    ),
)
def list_jobs(
    request: Request,
    response: Response,
    ctx: ContextDep,
    tenant: TenantDep,
    status: JobStatus | None = None,
    limit: LimitQuery = 100,
    cursor: CursorQuery = None,
    offset: OffsetQuery = 0,
) -> JobList:
    at = start_of_page("jobs", cursor, offset)
    page = ctx.store.list_jobs(tenant, status=status, limit=limit, offset=offset, at=at)
    links = page_links(request, response, "jobs", page, limit=limit, at=at,
                       key=lambda j: (j.created_at, j.id))  # fmt: skip
    return JobList(items=[job_public(r) for r in page.items], total=page.total, limit=limit,
                   offset=page.offset, links=links)  # fmt: skip


@router.get("/{job_id}", response_model=JobPublic, summary="A job's status and progress")
def get_job(job_id: str, ctx: ContextDep, tenant: TenantDep) -> JobPublic:
    row = ctx.store.get_job(tenant, job_id)
    if row is None:
        raise not_found("job", job_id)
    return job_public(row)


@router.delete(
    "/{job_id}",
    response_model=JobPublic,
    summary="Cancel an active job, or remove a finished one",
    description=(
        "On a queued or running job: cancels it (a queued job never starts; a running "
        "job's process group is killed and its temporary folder removed) and answers 200 "
        "with the job, now `cancelled`; the record stays so its end can be read. On a "
        "finished job (`done`, `failed` or `cancelled`): removes its record and answers "
        "204; the plan it made stays (delete it with DELETE /plans/{id}). So a second "
        "DELETE removes a job the first one cancelled. A job that finishes while it is "
        "being cancelled is answered as it is (200), not removed. 404 for another "
        "tenant's job."
    ),
    responses={204: {"description": "The finished job's record was removed"}},
)
def delete_job(job_id: str, ctx: ContextDep, tenant: TenantDep) -> Any:
    row = ctx.store.get_job(tenant, job_id)
    if row is None:
        raise not_found("job", job_id)
    if row.status in ACTIVE:
        if ctx.store.cancel_job(tenant, job_id) and ctx.runner is not None:
            ctx.runner.cancel(job_id)
        row = ctx.store.get_job(tenant, job_id)  # cancelled, or it finished meanwhile
        if row is None:
            raise not_found("job", job_id)
        return job_public(row)
    if not ctx.store.delete_job(tenant, job_id):
        raise not_found("job", job_id)
    return Response(status_code=204)
