"""``/healthz`` (the process answers) and ``/readyz`` (database and job runner work)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from ..deps import ContextDep
from ..problems import Problem
from ..schemas import Health

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health, summary="Liveness")
async def healthz() -> Health:
    return Health(status="ok")


@router.get(
    "/readyz",
    response_model=Health,
    summary="Readiness: database and job runner",
    responses={503: {"description": "Not ready"}},
)
async def readyz(ctx: ContextDep) -> Health:
    try:
        await run_in_threadpool(ctx.store.ping)
    except Exception as exc:
        raise Problem(503, f"database unavailable: {type(exc).__name__}") from None
    runner = ctx.runner
    if runner is None or not runner.alive:
        raise Problem(503, "the job runner is not running")
    return Health(
        status="ok",
        detail={
            "running_jobs": runner.running,
            "max_concurrent_solves": ctx.settings.max_concurrent_solves,
        },
    )
