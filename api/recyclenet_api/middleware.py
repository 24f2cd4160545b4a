"""Request body size limit (pure ASGI, so it also stops chunked bodies without a length)."""

from __future__ import annotations

from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .problems import Problem, problem


class BodyTooLarge(Problem):
    def __init__(self, limit: int) -> None:
        super().__init__(
            413,
            f"the request body is larger than the limit of {limit} bytes",
            title="Request body too large",
            limit_bytes=limit,
        )


class BodySizeLimit:
    """Reject bodies over ``max_bytes`` (``upload_bytes`` for multipart uploads) with 413.

    A declared ``Content-Length`` over the limit is answered before the body is read;
    otherwise the body is counted as it streams in and reading fails past the limit.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int, upload_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.upload_bytes = upload_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.lower(): v for k, v in scope.get("headers", [])}
        ctype = headers.get(b"content-type", b"").decode("latin-1").lower()
        limit = self.upload_bytes if ctype.startswith("multipart/") else self.max_bytes
        length = headers.get(b"content-length")
        if length is not None:
            try:
                declared = int(length)
            except ValueError:
                declared = -1
            if declared < 0:
                await problem(400, "Content-Length is not a number")(scope, receive, send)
                return
            if declared > limit:
                response = problem(
                    413,
                    f"the request body is larger than the limit of {limit} bytes",
                    title="Request body too large",
                    limit_bytes=limit,
                    instance=scope.get("path"),
                )
                response.headers["Connection"] = "close"
                await response(scope, receive, send)
                return
        seen = 0

        async def limited_receive() -> Message:
            nonlocal seen
            message: dict[str, Any] = dict(await receive())
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge(limit)
            return message

        await self.app(scope, limited_receive, send)
