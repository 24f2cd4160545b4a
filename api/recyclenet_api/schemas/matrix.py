"""``/matrix``: travel time and distance between points, its job and its result."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from recyclenet.geo import CoordSystem

from .common import JobSpec, PlanName, PlanTags, _In
from .geo import PointIn

MATRIX_EXAMPLE: dict[str, Any] = {
    "network_id": "helsinki",
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
        extra="forbid",
        allow_inf_nan=False,
        strict=True,
        json_schema_extra={"examples": [MATRIX_EXAMPLE]},
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
    name: PlanName
    tags: PlanTags


class MatrixJob(JobSpec):
    """The stored payload of a matrix job (``network.profile`` is the profile asked for,
    or the network's)."""

    request: MatrixCreate
    crs: CoordSystem = "wgs84"


class MatrixData(BaseModel):
    """A matrix result: rows per origin, ``null`` where a destination is unreachable."""

    kind: Literal["matrix"]
    network_id: str
    input_crs: str = "wgs84"
    profile: str
    origin_ids: list[str]
    destination_ids: list[str]
    duration_s: list[list[float | None]]
    distance_m: list[list[float | None]]
    snap_distance_m: dict[str, float | None] = Field(
        default_factory=dict, description="Point id -> how far it was from its road, m."
    )
