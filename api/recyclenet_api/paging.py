"""Keyset paging of the list endpoints (``GET /plans``, ``/jobs``, ``/networks``): one
cursor format, one set of query parameters and one way to write page links for all three.

A list is ordered by ``(created_at, id)`` (plans and jobs newest first, networks oldest
first). A page's ``links.next`` and ``links.prev`` (also the ``Link`` header) carry a
``cursor``: the place of the page's last (first) item in that order, with the same filters
and ``limit``. A page read from a cursor starts right after that place whatever was added
or removed meanwhile, so paging through a list while plans are made or deleted neither
repeats nor skips an item (items made after the first page was read are not in it: they
sort before it). ``offset`` still works for old clients, with the old drift.

A cursor is URL-safe base64 of ``<list>|<a or b>|<created_at, ISO 8601 UTC>|<id>``: opaque
to clients, who only follow links. One that does not decode, belongs to another list or
holds an impossible time or id is a 422 naming ``query.cursor``; a cursor someone made up
but well formed is just a place in the list (it reads nothing a page could not).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, TypeVar
from urllib.parse import urlencode

from fastapi import Query, Request, Response
from fastapi.exceptions import RequestValidationError

from .store import Page, Position, utc

ListName = Literal["plans", "jobs", "networks"]
T = TypeVar("T")

_CURSOR_CHARS = re.compile(r"[A-Za-z0-9_-]+")
_ID = re.compile(r"[A-Za-z0-9_.-]{1,64}")
CURSOR_MAX_CHARS = 200

LimitQuery = Annotated[int, Query(ge=1, le=1000, description="Items per page (1 to 1000).")]
CursorQuery = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=CURSOR_MAX_CHARS,
        description="Where the page starts: the opaque value in `links.next` / `links.prev` "
        "(follow those links as they are). Paging by cursor is stable: items added or "
        "removed meanwhile neither repeat nor shift the pages. Not with `offset`.",
    ),
]
OffsetQuery = Annotated[
    int,
    Query(
        ge=0,
        le=10**9,
        deprecated=True,
        description="Items to skip. Kept for old clients: pages read by offset repeat or "
        "skip items when items are added or removed meanwhile; follow `links.next` (a "
        "`cursor`) instead.",
    ),
]


def _cursor_error(message: str) -> RequestValidationError:
    return RequestValidationError(
        [{"loc": ("query", "cursor"), "msg": message, "type": "value_error"}]
    )


def encode_cursor(name: ListName, at: Position) -> str:
    """The ``cursor`` query value of a place in the list ``name``."""
    when = utc(at.created_at).astimezone(UTC).isoformat(timespec="microseconds")
    text = f"{name}|{'b' if at.before else 'a'}|{when}|{at.id}"
    return base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode("ascii")


def decode_cursor(name: ListName, cursor: str) -> Position:
    """The place a ``cursor`` of the list ``name`` names; a 422 naming ``query.cursor``
    for anything else."""
    again = f"; follow the links.next or links.prev URL of a GET /{name} page as it is"
    if not _CURSOR_CHARS.fullmatch(cursor):
        raise _cursor_error("is not a cursor (URL-safe base64 letters only)" + again)
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("utf-8")
    except (binascii.Error, ValueError):
        raise _cursor_error("does not decode to a cursor" + again) from None
    parts = text.split("|")
    if len(parts) != 4 or parts[1] not in ("a", "b"):
        raise _cursor_error("does not decode to a cursor" + again)
    owner, direction, when, ident = parts
    if owner != name:
        raise _cursor_error(f"is a cursor of GET /{owner}, not of GET /{name}" + again)
    try:
        created_at = datetime.fromisoformat(when)
        if created_at.tzinfo is None:
            raise ValueError("no offset")
        created_at = created_at.astimezone(UTC)
    except (ValueError, OverflowError):
        raise _cursor_error("holds no valid time" + again) from None
    if not _ID.fullmatch(ident):
        raise _cursor_error("holds no valid id" + again)
    return Position(created_at, ident, before=direction == "b")


def start_of_page(name: ListName, cursor: str | None, offset: int) -> Position | None:
    """The place a page starts from (``cursor``), or None to read by ``offset``."""
    if cursor is None:
        return None
    if offset:
        raise _cursor_error(
            f"give either cursor or offset (here {offset}), not both: the cursor says "
            "where the page starts"
        )
    return decode_cursor(name, cursor)


def page_links(
    request: Request,
    response: Response,
    name: ListName,
    page: Page[T],
    *,
    limit: int,
    at: Position | None,
    key: Callable[[T], tuple[datetime, str]],
) -> dict[str, str]:
    """``self``, ``next`` and ``prev`` of a page of ``/{name}`` with the request's other
    query parameters (its filters); ``next`` and ``prev`` also go into the ``Link``
    header. ``key`` gives an item's ``(created_at, id)``."""
    keep: list[tuple[str, str]] = [
        (k, v) for k, v in request.query_params.multi_items()
        if k not in ("limit", "offset", "cursor")
    ]  # fmt: skip

    def href(extra: Sequence[tuple[str, Any]]) -> str:
        return f"/{name}?" + urlencode([*keep, ("limit", str(limit)), *extra])

    here: list[tuple[str, Any]] = []
    if at is not None:
        here = [("cursor", encode_cursor(name, at))]
    elif page.offset:
        here = [("offset", str(page.offset))]
    links = {"self": href(here)}
    if page.items:
        if page.offset + len(page.items) < page.total:
            last = key(page.items[-1])
            links["next"] = href([("cursor", encode_cursor(name, Position(*last)))])
        if page.offset > 0:
            first = key(page.items[0])
            links["prev"] = href([("cursor", encode_cursor(name, Position(*first, before=True)))])
    elif at is not None and at.before and page.total:
        links["next"] = href([])  # nothing before the place: the list starts there
    header = [f'<{links[rel]}>; rel="{rel}"' for rel in ("next", "prev") if rel in links]
    if header:
        response.headers["Link"] = ", ".join(header)
    return links
