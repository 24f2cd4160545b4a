"""What every request and response shares: strict request models, plan labels, problem
details and the health answer."""

from __future__ import annotations

import unicodedata
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from recyclenet.routing.problem import HORIZON_S as ROUTING_HORIZON_S

PAGE_LINKS_DOC = (
    "`self`, and `next` / `prev` pages (by `cursor`, with the same filters and `limit`) "
    "when there are any; both are also in the `Link` header."
)
"""The ``links`` of a page of ``GET /plans``, ``/jobs`` or ``/networks``."""


class _In(BaseModel):
    """Request bodies: unknown members refused, strict types (``true`` is not a number)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, strict=True)


# ---------------------------------------------------------------------- plan labels
NAME_MAX = 200
TAG_MAX = 50
TAGS_MAX = 20


def _label_text(value: str, what: str, limit: int) -> str:
    """``value`` stripped; refused when it holds control characters or is too long."""
    text = value.strip()
    bad = next((c for c in text if unicodedata.category(c) == "Cc"), None)
    if bad is not None:
        raise ValueError(
            f"{what} holds the control character U+{ord(bad):04X}; remove it (names and "
            "tags are one line of text)"
        )
    if len(text) > limit:
        raise ValueError(f"{what} has {len(text)} characters; at most {limit} are allowed")
    return text


def _check_name(value: str | None) -> str | None:
    """A plan name: stripped, 0 to 200 characters; empty means no name."""
    if value is None:
        return None
    return _label_text(value, "the name", NAME_MAX) or None


def _check_tags(value: list[str]) -> list[str]:
    """Tags: each stripped, 1 to 50 characters, no comma; duplicates dropped (the first
    kept, order kept); at most 20."""
    out: list[str] = []
    for i, raw in enumerate(value):
        tag = _label_text(raw, f"tag {i}", TAG_MAX)
        if not tag:
            raise ValueError(f"tag {i} is empty; leave it out")
        if "," in tag:
            raise ValueError(f"tag {i} ({tag!r}) holds a comma; send each tag as its own item")
        if tag not in out:
            out.append(tag)
    if len(out) > TAGS_MAX:
        raise ValueError(f"{len(out)} distinct tags; at most {TAGS_MAX} are allowed")
    return out


PlanName = Annotated[
    str | None,
    Field(
        default=None,
        max_length=NAME_MAX,
        description=f"Name of the plan this request makes (at most {NAME_MAX} characters; "
        "change it later with PATCH /plans/{id}).",
        examples=["District 3, 40 stations"],
    ),
    AfterValidator(_check_name),
]
PlanTags = Annotated[
    list[Annotated[str, Field(max_length=TAG_MAX)]],
    Field(
        default_factory=list,
        max_length=4 * TAGS_MAX,  # the exact limit applies after dropping duplicates
        description=f"Tags of the plan this request makes: at most {TAGS_MAX}, each 1 to "
        f"{TAG_MAX} characters without a comma; duplicates are dropped. "
        "GET /plans?tag= filters by them.",
        examples=[["draft", "district-3"]],
    ),
    AfterValidator(_check_tags),
]


class Health(BaseModel):
    status: Literal["ok"]
    detail: dict[str, Any] = Field(default_factory=dict)


class FieldError(BaseModel):
    field: str = Field(description="Dotted path: body.origins.0.lon, query.bbox, ...")
    pointer: str | None = Field(default=None, description="JSON Pointer into the body")
    message: str
    type: str | None = None


class ProblemDetail(BaseModel):
    """RFC 9457 problem details (``application/problem+json``)."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[FieldError] | None = None


def _problem_response(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/ProblemDetail"}}
        },
    }


AUTH_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: _problem_response("Missing or unknown X-API-Key"),
    404: _problem_response("No such resource for this tenant"),
    413: _problem_response("Request body too large"),
    422: _problem_response("Invalid request; `errors` names each field path"),
    429: _problem_response("Rate limit exceeded (see Retry-After)"),
}


HORIZON_S = ROUTING_HORIZON_S
"""Latest time of day a window may name (the routing problem's horizon, 48 h in seconds
from midnight: overnight)."""

_EXAMPLE_NETWORK_ID = "helsinki"
_NETWORK_ID_DOC = (
    "Id of a registered network (POST /networks), or the name of an embedded sample "
    "extract (`helsinki`), used as it is with its default profile."
)


# ---------------------------------------------------------------------- job payloads
class NetworkRef(BaseModel):
    """The network a job runs on, resolved when the request was queued: ``source`` is
    what :func:`recyclenet.load_network` takes, ``profile`` the vehicle profile."""

    model_config = ConfigDict(extra="forbid")

    id: str
    source: str
    profile: str


class JobSpec(BaseModel):
    """A job's stored payload: the request as validated, with what the request resolved
    (the network, the time limit under the server's cap).

    The worker rebuilds it with :meth:`pydantic.BaseModel.model_validate` and turns it into
    library objects through the same converter the request was checked with
    (:mod:`recyclenet_api.converters`), so a payload is never parsed by hand.
    """

    model_config = ConfigDict(extra="forbid")

    network: NetworkRef
    time_limit_s: float = Field(gt=0)


class StoredDoc(BaseModel):
    """Part of a stored plan: typed members, and any member a newer library adds kept."""

    model_config = ConfigDict(extra="allow")


FeatureCollectionOut = dict[str, Any]
"""An RFC 7946 FeatureCollection (WGS-84 lon/lat), every feature with an ``id``."""
