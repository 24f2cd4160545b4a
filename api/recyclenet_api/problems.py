"""RFC 9457 problem details for every error the service returns.

Each error body is ``application/problem+json`` with ``type``, ``title``, ``status`` and
``detail``; validation errors add ``errors``, a list of ``{"field", "pointer", "message",
"type"}`` where ``field`` is the dotted path (``body.origins.0.lon``, ``query.bbox``) and
``pointer`` a JSON Pointer into the request body when the error is in the body.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from recyclenet.errors import InputError, RecyclenetError

log = logging.getLogger("recyclenet_api")

PROBLEM_MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "urn:recyclenet:problem:"


class ProblemResponse(JSONResponse):
    media_type = PROBLEM_MEDIA_TYPE


class Problem(StarletteHTTPException):
    """An HTTP error with problem details; raise it anywhere in a request."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        title: str | None = None,
        type: str | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(status_code=status, detail=detail, headers=headers)
        self.title = title or HTTPStatus(status).phrase
        self.type = type or "about:blank"
        self.extra = extra


def problem(
    status: int,
    detail: str,
    *,
    title: str | None = None,
    type: str | None = None,
    instance: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> ProblemResponse:
    body: dict[str, Any] = {
        "type": type or "about:blank",
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    body.update(extra)
    return ProblemResponse(body, status_code=status, headers=headers)


def validation_errors(errors: Any) -> list[dict[str, Any]]:
    out = []
    for err in errors:
        loc = [str(p) for p in err.get("loc", ())]
        pointer = "/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in loc[1:])
        item = {"field": ".".join(loc), "message": err.get("msg", ""), "type": err.get("type")}
        if loc and loc[0] == "body":
            item["pointer"] = "#" + (pointer if len(loc) > 1 else "")
        out.append(item)
    return out


def install_handlers(app: FastAPI) -> None:
    """Map every exception to a problem+json response."""

    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> ProblemResponse:
        return problem(
            exc.status_code,
            str(exc.detail),
            title=exc.title,
            type=exc.type,
            instance=request.url.path,
            headers=dict(exc.headers) if exc.headers else None,
            **exc.extra,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> ProblemResponse:
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"no resource at {request.url.path}"
        return problem(
            exc.status_code,
            detail,
            instance=request.url.path,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> ProblemResponse:
        errors = validation_errors(exc.errors())
        first = errors[0] if errors else {"field": "request", "message": "invalid"}
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        return problem(
            422,
            f"{first['field']}: {first['message']}{more}",
            title="Invalid request",
            type=TYPE_BASE + "validation",
            instance=request.url.path,
            errors=errors,
        )

    @app.exception_handler(InputError)
    async def _input(request: Request, exc: InputError) -> ProblemResponse:
        return problem(
            422,
            str(exc),
            title="Invalid input",
            type=TYPE_BASE + "input",
            instance=request.url.path,
        )

    @app.exception_handler(RecyclenetError)
    async def _library(request: Request, exc: RecyclenetError) -> ProblemResponse:
        log.error("library error on %s: %s", request.url.path, exc)
        return problem(
            500,
            str(exc),
            title="Solver error",
            type=TYPE_BASE + "solver",
            instance=request.url.path,
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> ProblemResponse:
        log.exception("unhandled error on %s", request.url.path)
        return problem(
            500, "an unexpected error occurred; it has been logged", instance=request.url.path
        )
