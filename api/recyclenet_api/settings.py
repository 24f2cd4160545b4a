"""Service settings, read from ``RECYCLENET_*`` environment variables and an optional ``.env``.

Nothing is read at import: :func:`recyclenet_api.app.create_app` builds a
:class:`Settings` when it is not given one.

Examples
--------
``RECYCLENET_API_KEYS='key1:tenantA,key2:tenantB'`` gives two keys of two tenants;
``RECYCLENET_DATABASE_URL=postgresql+psycopg://user:pw@host/db`` stores in PostgreSQL
instead of the default SQLite file ``$RECYCLENET_DATA_DIR/recyclenet.db``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


def _default_solves() -> int:
    return max(1, os.cpu_count() or 1)


class Settings(BaseSettings):
    """Every knob of the service; units in the names."""

    model_config = SettingsConfigDict(
        env_prefix="RECYCLENET_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    data_dir: Path = Field(
        default=Path("var"),
        description="Directory for the SQLite database, uploaded OSM files and road caches.",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; default sqlite:///<data_dir>/recyclenet.db (WAL mode).",
    )
    api_keys: Annotated[dict[str, str], NoDecode] = Field(
        default_factory=dict,
        description="API key -> tenant; from the environment as 'key1:tenantA,key2:tenantB'.",
    )
    allow_query_api_key: bool = Field(
        default=True,
        description=(
            "Also accept the key as ?api_key= on GET requests, for GIS readers that cannot "
            "set headers (GDAL, geopandas); such URLs may end up in access logs."
        ),
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Allowed CORS origins, comma separated; '*' for any."
    )
    max_body_bytes: int = Field(
        default=10_000_000, gt=0, description="Largest JSON body (inline GeoJSON scenarios)."
    )
    body_process_bytes: int = Field(
        default=1_000_000,
        gt=0,
        description="JSON bodies this large or larger are validated in a separate process, "
        "so that validating them (which holds Python's GIL) never stalls other requests.",
    )
    max_upload_mb: float = Field(default=100.0, gt=0, description="Largest OSM upload (MiB).")
    max_osm_mb: float = Field(
        default=4096.0,
        gt=0,
        description="Largest OSM upload once decompressed (MiB): XML text after gzip/bzip2, "
        "or the PBF blocks' raw size. A city extract is well under it (a 100 MB .osm.pbf "
        "is about 1.5 GiB); it stops compression bombs.",
    )
    max_osm_elements: int = Field(
        default=60_000_000,
        gt=0,
        description="Most nodes, ways and relations in an uploaded OSM XML file.",
    )
    job_memory_mb: int = Field(
        default=8192,
        ge=0,
        description="Address-space limit of each job process and its helpers (MiB, "
        "RLIMIT_AS; 0 = none). A job past it fails with 'memory limit exceeded'.",
    )
    max_points: int = Field(default=25_000, gt=0, description="Most points in one request.")
    max_vehicles: int = Field(
        default=1000, gt=0, description="Most vehicles (sum of fleet counts) in one request."
    )
    max_matrix_cells: int = Field(
        default=1_000_000, gt=0, description="Most origin x destination pairs in one matrix."
    )
    max_time_limit_s: float = Field(
        default=600.0, gt=0, description="Longest time limit a client may ask for."
    )
    default_time_limit_s: float = Field(default=60.0, gt=0)
    job_grace_s: float = Field(
        default=30.0, ge=0, description="Wall-clock slack after a job's time limit before kill."
    )
    max_wait_s: float = Field(default=60.0, ge=0, description="Cap on the ?wait= parameter.")
    rate_limit_requests: int = Field(
        default=600,
        gt=0,
        description="Requests per API key in each rate_limit_window_s, counted in the "
        "database so all server processes share it; past it, 429 with Retry-After.",
    )
    rate_limit_window_s: float = Field(
        default=60.0, gt=0, description="The window of rate_limit_requests (seconds)."
    )
    rate_limit_page_requests: int = Field(
        default=6000,
        gt=0,
        description="OGC API item pages of at most 100 features per API key in each "
        "rate_limit_window_s, counted apart from rate_limit_requests: GDAL before 3.8 reads "
        "10 features a page, so a large layer takes many small requests.",
    )
    auth_failures_max: int = Field(
        default=20,
        gt=0,
        description="Wrong API keys a client address may send in auth_failure_window_s; "
        "past it, every request from that address is answered 429 until the window ends.",
    )
    auth_failure_window_s: float = Field(
        default=300.0, gt=0, description="The window of auth_failures_max (seconds)."
    )
    max_concurrent_solves: int = Field(default_factory=_default_solves, gt=0)
    job_nice: int = Field(
        default=10,
        ge=0,
        le=19,
        description="Niceness added to job processes (solves, network loading), so requests "
        "get the CPU first and the API stays responsive while solving; 0 keeps the server's.",
    )
    dask_scheduler: str | None = Field(
        default=None,
        max_length=500,
        description="Address of a Dask scheduler (tcp://host:8786). When set, each job's "
        "solve runs on that cluster; the local job process only waits for it, so cancelling "
        "and time limits work as before (a task already running on a worker finishes there, "
        "its result discarded). Workers need recyclenet installed and must see the data "
        "directory (uploaded networks) at the same path.",
    )
    max_page_features: int = Field(default=10_000, gt=0, description="Largest GeoJSON page.")
    network_load_timeout_s: float = Field(default=600.0, gt=0)
    worker_start_timeout_s: float = Field(
        default=120.0,
        ge=5,
        description="With --workers N: how long a server process may take to start (or "
        "to answer the supervisor's health check) before it is restarted.",
    )
    heartbeat_s: float = Field(default=2.0, gt=0, description="Running-job heartbeat period.")
    stale_after_s: float = Field(
        default=30.0, gt=0, description="A running job without heartbeat this long is failed."
    )

    @field_validator("api_keys", mode="before")
    @classmethod
    def _parse_keys(cls, value: Any) -> Any:
        if isinstance(value, str):
            keys: dict[str, str] = {}
            for item in filter(None, (s.strip() for s in value.split(","))):
                key, sep, tenant = item.partition(":")
                if not sep or not key.strip() or not tenant.strip():
                    raise ValueError(
                        f"api_keys entry {item!r} is not 'key:tenant'; "
                        "write RECYCLENET_API_KEYS='key1:tenantA,key2:tenantB'"
                    )
                keys[key.strip()] = tenant.strip()
            return keys
        return value

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _parse_origins(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [s.strip() for s in value.split(",") if s.strip()]
        return value

    @property
    def sqlalchemy_url(self) -> str:
        """The database URL in effect."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'recyclenet.db').resolve()}"

    @property
    def max_osm_bytes(self) -> int:
        return int(self.max_osm_mb * 1024 * 1024)

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)
