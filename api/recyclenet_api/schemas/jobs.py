"""``/jobs``: a job's public view, with its plan once done, and the list."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from .plans import PlanPublic

JobStatus = Literal["queued", "running", "done", "failed", "cancelled"]


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
    name: str | None = Field(default=None, description="The name the request gave its plan.")
    tags: list[str] = Field(default_factory=list, description="The tags the request gave.")
    links: dict[str, str]


class JobResult(JobPublic):
    """A job, with its plan when it finished within ``?wait=``."""

    plan: PlanPublic | None = None


class JobList(BaseModel):
    items: list[JobPublic]
    total: int
    limit: int
    offset: int
