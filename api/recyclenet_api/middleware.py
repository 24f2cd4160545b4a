"""Pure ASGI middleware: body size limit, unstorable characters in the URL, and the
``Allow`` header of ``OPTIONS`` and 405 answers."""

from __future__ import annotations

from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .problems import TYPE_BASE, Problem, problem


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


def unstorable(text: str) -> str | None:
    """What makes ``text`` unstorable (a NUL, or a lone UTF-16 surrogate), or None.

    PostgreSQL text and jsonb cannot hold U+0000, and a lone surrogate has no UTF-8 form;
    both are refused at the edge (422) so no database sees them.
    """
    if "\x00" in text:
        return "a NUL character (U+0000)"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "a lone UTF-16 surrogate (not encodable as UTF-8)"
    return None


class CleanUrl:
    """422 for a path or query string holding a NUL or an unencodable character.

    Ids in paths (``/plans/a%00b``) and query values would otherwise reach the database,
    which PostgreSQL refuses with an error.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            from urllib.parse import unquote

            query = unquote(scope.get("query_string", b"").decode("latin-1"), errors="replace")
            for where, text in (("path", scope.get("path", "")), ("query", query)):
                why = unstorable(text)
                if why is not None:
                    loc = where
                    response = problem(
                        422,
                        f"{loc}: the URL {where} holds {why}; ids and values cannot hold it",
                        title="Invalid request",
                        type=TYPE_BASE + "validation",
                        errors=[{"field": loc, "message": f"holds {why}", "type": "value_error"}],
                    )
                    await response(scope, receive, send)
                    return
        await self.app(scope, receive, send)


def _without_body(send: Send) -> Send:
    """``send`` for a HEAD request answered by its GET: headers as they are (the
    Content-Length of the GET), no body bytes."""

    async def head_send(message: Message) -> None:
        if message["type"] == "http.response.body":
            message = {**message, "body": b""}
        await send(message)

    return head_send


class AllowHeader:
    """``OPTIONS`` answers 204 with every method the path takes in ``Allow``, and a 405
    names them all too (FastAPI registers one route per method, and Starlette's own 405
    names only the first route's methods). ``HEAD`` is answered wherever ``GET`` is (as
    ``Allow`` says): the GET's status and headers without its body.

    CORS preflights (with ``Access-Control-Request-Method``) are left to the CORS
    middleware, which runs outside this one.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._table: list[tuple[Any, set[str]]] | None = None

    def _allowed(self, scope: Scope) -> list[str]:
        """The methods of the documented operations whose path template matches."""
        if self._table is None:
            from starlette.routing import compile_path

            spec = scope["app"].openapi()
            table = []
            for template, ops in spec.get("paths", {}).items():
                allowed = {m.upper() for m in ops if m.lower() != "parameters"}
                if "GET" in allowed:
                    allowed.add("HEAD")
                table.append((compile_path(template)[0], allowed))
            self._table = table
        path = scope.get("path", "")
        methods: set[str] = set()
        for regex, ops in self._table:
            if regex.match(path):
                methods |= ops
        if methods:
            methods.add("OPTIONS")
        return sorted(methods)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["method"] == "HEAD" and "GET" in self._allowed(scope):
            await self.app({**scope, "method": "GET"}, receive, _without_body(send))
            return
        if scope["method"] == "OPTIONS":
            allowed = self._allowed(scope)
            if allowed:
                from starlette.responses import Response

                headers = {"Allow": ", ".join(allowed)}
                await Response(status_code=204, headers=headers)(scope, receive, send)
                return

        async def send_allow(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 405:
                allowed = self._allowed(scope)
                if allowed:
                    headers = [(k, v) for k, v in message.get("headers", [])
                               if k.lower() != b"allow"]  # fmt: skip
                    headers.append((b"allow", ", ".join(allowed).encode()))
                    message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_allow)
