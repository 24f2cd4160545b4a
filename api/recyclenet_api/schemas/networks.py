"""``/networks``: registering a sample, the public view and the list."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from .common import PAGE_LINKS_DOC, _In


class NetworkSampleCreate(_In):
    """Register an embedded sample extract (no upload)."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
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
    info: dict[str, Any] = Field(
        description="Nodes, edges, bbox (W,S,E,N; with ?crs= other than wgs84 the box holding "
        "the network in that datum, and `crs`), length_km, ..."
    )
    created_at: datetime
    links: dict[str, str]


class NetworkList(BaseModel):
    items: list[NetworkPublic]
    total: int
    limit: int
    offset: int = Field(description="Networks before this page.")
    links: dict[str, str] = Field(default_factory=dict, description=PAGE_LINKS_DOC)


class NetworkPrep(BaseModel):
    """What loading a network once takes (:func:`recyclenet_api.tasks.networks.prepare_network`):
    the extract, the profile, the folder for its road features, and for uploads the size
    limits it is measured against before parsing (compression bombs)."""

    model_config = ConfigDict(extra="forbid")

    source: str
    profile: str
    out_dir: str
    check_size: bool = False
    max_decompressed_bytes: int | None = None
    max_elements: int | None = None
