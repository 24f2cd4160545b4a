"""Shared state and the ``Annotated`` dependencies the routers use."""

from __future__ import annotations

import hmac
import math
import threading
import time
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader, APIKeyQuery

from .bodies import BodyValidator
from .jobs import JobRunner
from .problems import Problem
from .roads import RoadsCache
from .settings import Settings
from .store import Store


class RateLimiter:
    """Token bucket per API key, in memory.

    Each key may burst ``per_minute`` requests and refills at ``per_minute / 60`` a
    second. The buckets live in one server process: with ``--workers N`` a key gets up to
    N times the rate, and a restart refills every bucket. Good enough to stop a runaway
    client; put a shared limiter (e.g. at the reverse proxy) in front for hard quotas.
    """

    def __init__(self, per_minute: int) -> None:
        self.capacity = float(per_minute)
        self.rate_per_s = per_minute / 60.0
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """Consume one token; return 0 if allowed, else the seconds until one is free."""
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(key, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - last) * self.rate_per_s)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) / self.rate_per_s


@dataclass
class AppContext:
    """Everything a request may need; built by the app factory, one per app."""

    settings: Settings
    store: Store
    roads: RoadsCache
    limiter: RateLimiter
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
    """The tenant of the ``X-API-Key`` header (401 if missing or unknown; 429 over rate).

    GET requests may give the key as ``?api_key=`` instead (``allow_query_api_key``).
    """
    api_key = header_key
    if not api_key and query_key and request.method in ("GET", "HEAD"):
        api_key = query_key if ctx.settings.allow_query_api_key else None
    challenge = {"WWW-Authenticate": 'ApiKey header="X-API-Key"'}
    if not api_key:
        raise Problem(
            401, "this endpoint needs an API key in the X-API-Key header", headers=challenge
        )
    tenant = None
    for key, owner in ctx.settings.api_keys.items():
        if hmac.compare_digest(key.encode(), api_key.encode()):
            tenant = owner
    if tenant is None:
        raise Problem(401, "the X-API-Key header does not hold a known API key", headers=challenge)
    wait_s = ctx.limiter.take(api_key)
    if wait_s > 0:
        raise Problem(
            429,
            f"rate limit of {ctx.settings.rate_per_minute} requests a minute "
            f"per API key exceeded; retry in {math.ceil(wait_s)} s",
            headers={"Retry-After": str(math.ceil(wait_s))},
        )
    return tenant


TenantDep = Annotated[str, Depends(get_tenant)]
