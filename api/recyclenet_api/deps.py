"""Shared state and the ``Annotated`` dependencies the routers use."""

from __future__ import annotations

import hmac
import threading
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader, APIKeyQuery

from .bodies import BodyValidator
from .jobs import JobRunner
from .limits import SMALL_PAGE_FEATURES, SharedLimiter
from .problems import Problem
from .roads import RoadsCache
from .settings import Settings
from .store import Store


@dataclass
class AppContext:
    """Everything a request may need; built by the app factory, one per app."""

    settings: Settings
    store: Store
    roads: RoadsCache
    limiter: SharedLimiter
    job_kinds: dict[str, str]
    """Job kind -> "module:function"; the runner reads it when it starts a job."""
    mp_context: Any
    inline_slots: threading.BoundedSemaphore
    """Bounds one-off child processes (network registration) like concurrent solves."""
    bodies: BodyValidator
    """Validates JSON bodies off the event loop (see :mod:`recyclenet_api.bodies`)."""
    runner: JobRunner | None = None
    """Set while the app's lifespan runs."""


# Dependencies are ``async def``: they never block, and FastAPI runs sync dependencies in
# its thread pool, a hop per dependency that dominated GeoJSON reads under load.
async def get_context(request: Request) -> AppContext:
    return request.app.state.ctx


ContextDep = Annotated[AppContext, Depends(get_context)]

api_key_header = APIKeyHeader(
    name="X-API-Key",
    auto_error=False,
    description="API key; each key belongs to one tenant (RECYCLENET_API_KEYS).",
)


api_key_query = APIKeyQuery(
    name="api_key",
    auto_error=False,
    description="The API key as a query parameter, GET only (for GIS readers); prefer the header.",
)


async def get_tenant(
    request: Request,
    ctx: ContextDep,
    header_key: Annotated[str | None, Security(api_key_header)],
    query_key: Annotated[str | None, Security(api_key_query)],
) -> str:
    """The tenant of the ``X-API-Key`` header (401 if missing or unknown; 429 over the
    key's rate limit, or from an address that sent too many wrong keys: see
    :mod:`recyclenet_api.limits`).

    GET requests may give the key as ``?api_key=`` instead (``allow_query_api_key``).
    """
    return await authenticate(request, ctx, header_key, query_key)


async def authenticate(
    request: Request,
    ctx: AppContext,
    header_key: str | None,
    query_key: str | None,
    *,
    small_page: bool = False,
) -> str:
    """:func:`get_tenant`; ``small_page``: the request is an OGC API item page of at most
    :data:`~recyclenet_api.limits.SMALL_PAGE_FEATURES` features, counted against
    ``rate_limit_page_requests`` instead of ``rate_limit_requests``."""
    settings = ctx.settings
    api_key = header_key
    if not api_key and query_key and request.method in ("GET", "HEAD"):
        api_key = query_key if settings.allow_query_api_key else None
    tenant = None
    for key, owner in settings.api_keys.items():
        if api_key and hmac.compare_digest(key.encode(), api_key.encode()):
            tenant = owner
    address = request.client.host if request.client else None
    verdict = await ctx.limiter.check(address, api_key, tenant is not None, small_page)
    challenge = {"WWW-Authenticate": 'ApiKey header="X-API-Key"'}
    retry = {"Retry-After": str(verdict.retry_after_s)}
    if verdict.outcome == "address blocked":
        raise Problem(
            429,
            f"too many wrong API keys from {address}: "
            f"{settings.auth_failures_max} within {settings.auth_failure_window_s:g} s "
            f"(auth_failures_max, auth_failure_window_s); retry in {verdict.retry_after_s} s",
            headers=retry,
        )
    if verdict.outcome == "no key":
        raise Problem(
            401, "this endpoint needs an API key in the X-API-Key header", headers=challenge
        )
    if verdict.outcome == "wrong key":
        raise Problem(401, "the X-API-Key header does not hold a known API key", headers=challenge)
    if verdict.outcome == "over page rate":
        raise Problem(
            429,
            f"rate limit of {settings.rate_limit_page_requests} OGC API item pages of at "
            f"most {SMALL_PAGE_FEATURES} features per API key in "
            f"{settings.rate_limit_window_s:g} s exceeded; retry in "
            f"{verdict.retry_after_s} s, or ask for larger pages (GDAL: -oo PAGE_SIZE=1000)",
            headers=retry,
        )
    if verdict.outcome == "over rate":
        raise Problem(
            429,
            f"rate limit of {settings.rate_limit_requests} requests per API key in "
            f"{settings.rate_limit_window_s:g} s exceeded; retry in {verdict.retry_after_s} s",
            headers=retry,
        )
    assert tenant is not None
    return tenant


TenantDep = Annotated[str, Depends(get_tenant)]
