"""Request and response bodies, one schema per use (create / public / list)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

JobStatus = Literal["queued", "running", "done", "failed", "cancelled"]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


# ---------------------------------------------------------------------- networks
class NetworkSampleCreate(_In):
    """Register an embedded sample extract (no upload)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"sample": "helsinki", "name": "Helsinki centre", "profile": "car"}]
        },
    )

    sample: str = Field(min_length=1, max_length=100, description="Embedded sample name.")
    name: str | None = Field(default=None, max_length=200)
    profile: str = Field(default="car", max_length=100, description="Vehicle road profile.")


class NetworkPublic(BaseModel):
    id: str
    name: str
    profile: str
    source: Literal["sample", "upload"]
    info: dict[str, Any] = Field(description="Nodes, edges, bbox (W,S,E,N), length_km, ...")
    created_at: datetime
    links: dict[str, str]


class NetworkList(BaseModel):
    items: list[NetworkPublic]
    total: int
    limit: int
    offset: int


# ---------------------------------------------------------------------- points, matrix
class PointIn(_In):
    id: str | int = Field(description="Unique point id (integers are turned into strings).")
    lon: float = Field(ge=-180, le=180, description="Longitude, WGS-84 degrees.")
    lat: float = Field(ge=-90, le=90, description="Latitude, WGS-84 degrees.")

    @field_validator("id")
    @classmethod
    def _id_text(cls, value: str | int) -> str:
        text = str(value)
        if not text or len(text) > 200:
            raise ValueError("id must have 1 to 200 characters")
        return text


MATRIX_EXAMPLE: dict[str, Any] = {
    "network_id": "3f0c2a9e5d8b4c1e9a7f6b5d4c3b2a10",
    "origins": [
        {"id": "depot", "lon": 24.9402, "lat": 60.1699},
        {"id": "station-1", "lon": 24.9460, "lat": 60.1720},
    ],
    "destinations": [{"id": "centre", "lon": 24.9500, "lat": 60.1680}],
    "max_snap_distance_m": 500,
    "too_far": "raise",
    "time_limit_s": 30,
}


class MatrixCreate(_In):
    """Travel time and distance between points on a registered network."""

    model_config = ConfigDict(
        extra="forbid", allow_inf_nan=False, json_schema_extra={"examples": [MATRIX_EXAMPLE]}
    )

    network_id: str = Field(min_length=1, max_length=64)
    origins: list[PointIn] = Field(min_length=1)
    destinations: list[PointIn] | None = Field(
        default=None, description="Defaults to the origins (a square matrix)."
    )
    profile: str | None = Field(
        default=None, max_length=100, description="Vehicle profile; default the network's."
    )
    max_snap_distance_m: float = Field(default=500.0, gt=0, le=10_000)
    too_far: Literal["raise", "unreachable"] = "raise"
    time_limit_s: float | None = Field(
        default=None, gt=0, description="Wall-clock limit; the server caps it."
    )


# ---------------------------------------------------------------------- jobs, plans
class PlanPublic(BaseModel):
    id: str
    kind: str
    job_id: str | None
    created_at: datetime
    data: dict[str, Any] = Field(description="The plan or result, as the job function made it.")


class JobPublic(BaseModel):
    id: str
    kind: str
    status: JobStatus
    progress: dict[str, Any] = Field(description="phase, and percent or objective if known")
    error: dict[str, Any] | None = Field(
        default=None, description="Problem details (title, status, detail) of a failed job."
    )
    time_limit_s: float
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    updated_at: datetime
    plan_id: str | None
    links: dict[str, str]


class JobResult(JobPublic):
    """A job, with its plan when it finished within ``?wait=``."""

    plan: PlanPublic | None = None


class JobList(BaseModel):
    items: list[JobPublic]
    total: int
    limit: int
    offset: int


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
