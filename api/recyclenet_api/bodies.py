"""JSON request bodies: parsed and validated off the event loop, refused before storage.

Every JSON body goes through :func:`check_body`:

1. **Unstorable characters**: a ``\\u0000`` escape or a lone UTF-16 surrogate escape
   anywhere (in a key or a value) is a 422 naming its JSON Pointer; PostgreSQL cannot
   store either, and no id or name needs them.
2. **Depth**: pydantic's JSON parser refuses nesting deeper than its recursion limit (a
   422 ``json_invalid``), so deep JSON never reaches a Python recursion.
3. **Strict types**: the request models are strict (``true`` is not a number, ``"1"`` not
   an integer).

Small bodies are validated in a worker thread. A job request of ``body_process_bytes``
and more is validated *and turned into its job payload* in a separate process
(:meth:`BodyValidator.prepare`), which hands back the payload as JSON text for the store
to insert as it is: pydantic validation, building 70,000 Python records, pickling models
and serializing the payload each hold the GIL for seconds on such a body, and in the
server process they would stall every request, ``/healthz`` included.

Job routes call :meth:`BodyValidator.prepare` with their model and payload builder (other
routes :meth:`BodyValidator.validate`) and declare
``openapi_extra={"requestBody": request_body(Model, examples)}``; the app adds each
model in :data:`BODY_MODELS` to the OpenAPI components.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import os
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, TypeVar

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool

from .jobs import watch_server
from .middleware import unstorable
from .problems import Problem
from .store import RawJson, Store

if TYPE_CHECKING:
    from .settings import Settings

M = TypeVar("M", bound=BaseModel)

BODY_MODELS: list[type[BaseModel]] = []
"""Request models named by :func:`request_body`, added to the OpenAPI components."""

_ESCAPE = re.compile(rb"(\\+)u(0000|[dD][89abAB][0-9a-fA-F]{2}|[dD][c-fC-F][0-9a-fA-F]{2})")


def _suspect(raw: bytes) -> bool:
    """True when ``raw`` may hold a NUL or a lone surrogate escape (checked exactly later)."""
    # an odd run of backslashes: an escape, not an escaped backslash before 'u'
    return any(len(m.group(1)) % 2 == 1 for m in _ESCAPE.finditer(raw))


def _find_unstorable(value: Any, path: tuple[str, ...] = ()) -> tuple[tuple[str, ...], str] | None:
    if isinstance(value, str):
        why = unstorable(value)
        return (path, why) if why else None
    if isinstance(value, dict):
        for k, v in value.items():
            why = unstorable(k)
            if why:
                return (*path, k), f"a key holding {why.removeprefix('a ')}"
            hit = _find_unstorable(v, (*path, k))
            if hit:
                return hit
    elif isinstance(value, list):
        for i, v in enumerate(value):
            hit = _find_unstorable(v, (*path, str(i)))
            if hit:
                return hit
    return None


def _errors(exc: ValidationError) -> list[dict[str, Any]]:
    """Picklable, JSON-able errors with the ``body`` prefix FastAPI uses."""
    return [
        {"loc": ("body", *e["loc"]), "msg": e["msg"], "type": e["type"]}
        for e in exc.errors(include_url=False, include_input=False, include_context=False)
    ]


def check_body(model: type[M], raw: bytes) -> tuple[M | None, list[dict[str, Any]]]:
    """``(model, [])`` or ``(None, errors)``: the body validated, or why not."""
    if not raw.strip():
        return None, [{"loc": ("body",), "msg": "Field required", "type": "missing"}]
    if _suspect(raw):
        try:
            hit = _find_unstorable(json.loads(raw))
        except (ValueError, RecursionError):
            hit = None  # not JSON: pydantic names the error below
        if hit is not None:
            path, why = hit
            return None, [
                {
                    "loc": ("body", *path),
                    "msg": f"holds {why}; text cannot hold it (PostgreSQL refuses it)",
                    "type": "string_unstorable",
                }
            ]
    try:
        return model.model_validate_json(raw), []
    except ValidationError as exc:
        return None, _errors(exc)


class HasStore(Protocol):
    """What a payload builder may use (an :class:`~recyclenet_api.deps.AppContext` has it)."""

    @property
    def settings(self) -> Settings: ...
    @property
    def store(self) -> Store: ...


@dataclass
class PayloadContext:
    """The :class:`HasStore` of :func:`prepare_payload` (in a child process too)."""

    settings: Settings
    store: Store


Builder = Callable[[Any, str, Any, Any], tuple[BaseModel, float]]
"""``builder(ctx, tenant, body, crs) -> (job payload, time_limit_s)``; the payload is the
job's :class:`~recyclenet_api.schemas.JobSpec`. Raises Problem or RequestValidationError
for bad input."""

_child_stores: dict[str, Store] = {}


def _child_store(url: str) -> Store:
    store = _child_stores.get(url)
    if store is None:
        store = _child_stores[url] = Store(url)
    return store


class Prepared(NamedTuple):
    """A job request ready to queue: the payload (a :class:`~recyclenet_api.schemas.JobSpec`,
    or its JSON when made in a child process), its time limit, and the ``name`` and
    ``tags`` of the plan it makes."""

    payload: Any
    time_limit_s: float
    name: str | None
    tags: list[str]


def prepare_payload(
    builder: Builder,
    model: type[BaseModel],
    raw: bytes,
    settings: Settings,
    tenant: str,
    crs: Any,
    store: Store | None = None,
) -> tuple[str, Any, float, tuple[str | None, list[str]]]:
    """Validate ``raw`` as ``model`` and build its job payload with ``builder``.

    Returns ``("ok", payload, time_limit_s, (name, tags))``, or ``("invalid", errors, 0,
    ...)`` / ``("problem", fields, 0, ...)`` in a picklable form. Without ``store`` (in a
    child process) the payload comes back as :class:`RawJson` text and the builder reads
    the database through a store of the child's own.
    """
    none: tuple[str | None, list[str]] = (None, [])
    value, errors = check_body(model, raw)
    if errors or value is None:
        return "invalid", errors, 0.0, none
    in_child = store is None
    ctx = PayloadContext(settings, store or _child_store(settings.sqlalchemy_url))
    try:
        payload, time_limit_s = builder(ctx, tenant, value, crs)
    except RequestValidationError as exc:
        errors = [{"loc": tuple(e["loc"]), "msg": e["msg"], "type": e["type"]}
                  for e in exc.errors()]  # fmt: skip
        return "invalid", errors, 0.0, none
    except Problem as exc:
        fields = {
            "status": exc.status_code,
            "detail": str(exc.detail),
            "title": exc.title,
            "type": exc.type,
            "headers": dict(exc.headers or {}),
            "extra": exc.extra,
        }
        return "problem", fields, 0.0, none
    labels = (getattr(value, "name", None), list(getattr(value, "tags", None) or []))
    if in_child:  # the payload crosses back to the server as its JSON, made here
        return "ok", RawJson(payload.model_dump_json()), time_limit_s, labels
    return "ok", payload, time_limit_s, labels


class BodyValidator:
    """Validates bodies in a thread, or in a child process for large ones."""

    def __init__(self, mp_context: Any, process_bytes: int) -> None:
        self.mp_context = mp_context
        self.process_bytes = process_bytes
        self._pool: concurrent.futures.ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def _executor(self) -> concurrent.futures.ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = concurrent.futures.ProcessPoolExecutor(
                    max_workers=1,
                    mp_context=self.mp_context,
                    initializer=watch_server,  # never outlives the server
                    initargs=(os.getpid(),),
                )
            return self._pool

    def start(self) -> None:
        """Start the child process now (blocking), not in the first large request."""
        self._executor().submit(int).result()

    async def validate(self, model: type[M], raw: bytes) -> M:
        """The body as ``model`` (422 with every field error otherwise)."""
        if len(raw) >= self.process_bytes:
            future = self._executor().submit(check_body, model, raw)
            value, errors = await asyncio.wrap_future(future)
        else:
            value, errors = await run_in_threadpool(check_body, model, raw)
        if errors or value is None:
            raise RequestValidationError(errors)
        return value

    async def prepare(
        self,
        request: Request,
        model: type[BaseModel],
        builder: Builder,
        tenant: str,
        crs: Any,
    ) -> Prepared:
        """The request's job payload, time limit and labels (see :func:`prepare_payload`)."""
        raw = await request.body()
        ctx = request.app.state.ctx
        if len(raw) >= self.process_bytes:
            future = self._executor().submit(
                prepare_payload, builder, model, raw, ctx.settings, tenant, crs
            )
            outcome, value, time_limit_s, labels = await asyncio.wrap_future(future)
        else:
            outcome, value, time_limit_s, labels = await run_in_threadpool(
                prepare_payload, builder, model, raw, ctx.settings, tenant, crs, ctx.store
            )
        if outcome == "invalid":
            raise RequestValidationError(value)
        if outcome == "problem":
            raise Problem(value["status"], value["detail"], title=value["title"],
                          type=value["type"], headers=value["headers"] or None,
                          **value["extra"])  # fmt: skip
        return Prepared(value, time_limit_s, *labels)

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)


def request_body(model: type[BaseModel], examples: dict[str, Any] | None = None) -> dict:
    """The OpenAPI ``requestBody`` of a route reading ``model`` from its JSON body."""
    if model not in BODY_MODELS:
        BODY_MODELS.append(model)
    media: dict[str, Any] = {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}}
    if examples:
        media["examples"] = examples
    return {"required": True, "content": {"application/json": media}}


def add_body_schemas(components: dict[str, Any]) -> None:
    """Put every :data:`BODY_MODELS` schema (and its nested models) in ``components``."""
    for model in BODY_MODELS:
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        for name, sub in schema.pop("$defs", {}).items():
            components.setdefault(name, sub)
        components.setdefault(model.__name__, schema)
