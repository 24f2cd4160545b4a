"""The app factory: ``create_app(settings) -> FastAPI``.

Run it with ``uvicorn --factory recyclenet_api.app:create_app`` or :func:`serve`.
"""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.concurrency import run_in_threadpool

import recyclenet

from .bodies import BodyValidator, add_body_schemas
from .deps import AppContext
from .jobs import JobRunner, mp_context
from .limits import SharedLimiter
from .middleware import AllowHeader, BodySizeLimit, CleanUrl
from .problems import install_handlers
from .roads import RoadsCache
from .routers import (
    health,
    jobs,
    matrix,
    networks,
    ogc,
    parks,
    plans,
    records,
    report,
    routing,
    siting,
    uploads,
    webapp,
)
from .routers import map as map_page
from .schemas import AUTH_RESPONSES, ProblemDetail
from .settings import Settings
from .store import Store
from .tasks import JOB_KINDS

log = logging.getLogger("recyclenet_api")

DESCRIPTION = """
Siting and routing for recycling networks on OpenStreetMap roads, as a service.

* **Auth**: every write and every read of networks, jobs and plans needs an `X-API-Key`
  header. Each key belongs to a tenant; other tenants' ids answer 404.
* **Jobs**: solves are jobs. `POST` answers 202 with a job (`Location: /jobs/{id}`);
  `?wait=SECONDS` answers 200 with the plan when it finishes in time. `DELETE /jobs/{id}`
  cancels. Jobs that were running when the server stopped are reported `failed`
  ("interrupted by restart"); submit them again.
* **Errors**: RFC 9457 `application/problem+json`; validation errors list each field path.
* **GeoJSON**: RFC 7946, WGS-84 lon/lat, `application/geo+json`, an `id` on every feature.
* **Chinese map datums**: every endpoint that takes or returns coordinates takes
  `?crs=wgs84|gcj02|bd09` (default `wgs84`; GCJ-02 is AMap/Gaode and Tencent, BD-09 is
  Baidu): request lon/lat are read in that datum and GeoJSON, bounding boxes and `bbox=`
  filters are in it too, converted exactly at the edge. Plans are stored in WGS-84 (and
  record the datum they were given in as `input_crs`); GeoJSON in GCJ-02 or BD-09 carries
  a `crs_note`. `/map` is always WGS-84.
"""


_heap_frozen = False


def _freeze_startup_heap() -> None:
    """Move what the process's first app startup made (modules, the solvers' imports) out
    of the cyclic collector's reach, once a process: a full collection under load then
    scans only what requests made since, a pause of milliseconds (it was 250-450 ms on
    the 2-core load benchmark). Later apps of one process (tests) are not frozen: frozen
    objects are never collected."""
    global _heap_frozen
    if not _heap_frozen:
        _heap_frozen = True
        gc.collect()
        gc.freeze()


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the service. Nothing starts until the app's lifespan does.

    The lifespan migrates the database to the newest schema (under a lock, see
    :mod:`recyclenet_api.migrate`), fails jobs a previous server process left running
    (see :mod:`recyclenet_api.jobs`), and starts the job runner; on shutdown it stops the
    runner (killing running solves, which are then marked failed) and closes the database.
    """
    settings = settings or Settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = Store(settings.sqlalchemy_url)
    mp = mp_context()
    ctx = AppContext(
        settings=settings,
        store=store,
        roads=RoadsCache(settings.data_dir),
        limiter=SharedLimiter(
            settings.sqlalchemy_url,
            requests=settings.rate_limit_requests,
            window_s=settings.rate_limit_window_s,
            auth_failures=settings.auth_failures_max,
            auth_window_s=settings.auth_failure_window_s,
            page_requests=settings.rate_limit_page_requests,
        ),
        job_kinds=dict(JOB_KINDS),
        mp_context=mp,
        inline_slots=threading.BoundedSemaphore(settings.max_concurrent_solves),
        bodies=BodyValidator(mp, settings.body_process_bytes),
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await run_in_threadpool(store.upgrade)
        if not settings.api_keys:
            log.warning(
                "no API keys configured (RECYCLENET_API_KEYS): every resource "
                "endpoint will answer 401"
            )
        runner = JobRunner(store, settings, ctx.job_kinds, ctx.mp_context)
        await run_in_threadpool(runner.start)
        await run_in_threadpool(ctx.bodies.start)
        ctx.runner = runner
        _freeze_startup_heap()
        try:
            yield
        finally:
            ctx.runner = None
            await run_in_threadpool(runner.stop)
            ctx.bodies.close()
            ctx.limiter.dispose()
            store.dispose()

    app = FastAPI(
        title="recyclenet",
        version=recyclenet.__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.ctx = ctx
    install_handlers(app)
    app.add_middleware(
        BodySizeLimit, max_bytes=settings.max_body_bytes, upload_bytes=settings.max_upload_bytes
    )
    app.add_middleware(AllowHeader)
    app.add_middleware(CleanUrl)
    if settings.cors_origins:  # outermost: preflights never reach the others
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PATCH", "DELETE", "OPTIONS"],
            allow_headers=["X-API-Key", "Content-Type"],
            expose_headers=["Location", "Link", "Retry-After"],
        )
    app.include_router(health.router)
    for module in (networks, jobs, plans, report, matrix, siting, routing, map_page, records,
                   parks, uploads):  # fmt: skip
        app.include_router(module.router, responses=AUTH_RESPONSES)
    app.include_router(ogc.router)  # OGC API - Features: its own 400s; landing page public
    app.include_router(webapp.router)  # the workspace page: public files, no key
    _add_problem_schema(app)
    return app


def _add_problem_schema(app: FastAPI) -> None:
    from fastapi.openapi.utils import get_openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        comps = schema.setdefault("components", {}).setdefault("schemas", {})
        comps["ProblemDetail"] = ProblemDetail.model_json_schema(
            ref_template="#/components/schemas/{model}"
        )
        for name, sub in comps["ProblemDetail"].pop("$defs", {}).items():
            comps.setdefault(name, sub)
        add_body_schemas(comps)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def serve(
    host: str = "127.0.0.1", port: int = 8000, workers: int = 1, log_level: str = "info"
) -> None:
    """Run the service with uvicorn (settings from the environment and ``.env``)."""
    import uvicorn

    # migrate once, before any worker starts: a failure stops here (non-zero exit), and
    # the workers find the database at head
    settings = Settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = Store(settings.sqlalchemy_url)
    try:
        store.upgrade()
    finally:
        store.dispose()
    uvicorn.run(
        "recyclenet_api.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        # a worker that has not answered the supervisor's ping within this is killed and
        # restarted: importing the solvers on a loaded machine takes longer than the 5 s
        # default, which restarted every worker forever
        timeout_worker_healthcheck=int(settings.worker_start_timeout_s),
    )
