"""``/jobs``: a job's public view, with its plan once done, and the list."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from .common import PAGE_LINKS_DOC, StoredDoc
from .plans import PlanPublic

JobStatus = Literal["queued", "running", "done", "failed", "cancelled"]


class JobProgress(StoredDoc):
    """What the job reported last (more members by phase: ``model``, ``orders``, ...)."""

    phase: str = Field(default="", description="queued, loading network, solving: ..., ...")
    percent: float | None = None
    elapsed_s: float | None = Field(default=None, description="Seconds solving so far.")
    time_limit_s: float | None = None
    share: float | None = Field(default=None, description="elapsed_s / time_limit_s, 0 to 1.")
    engine: str | None = None
    best_objective: float | None = Field(
        default=None, description="Siting: the incumbent's objective."
    )
    best_cost: float | None = Field(default=None, description="Routing: the incumbent's cost.")
    bound: float | None = Field(default=None, description="Siting: the lower bound so far.")
    gap: float | None = Field(default=None, description="Siting: (best - bound) / best.")
    objective: float | None = None


class JobError(StoredDoc):
    """RFC 9457 problem details of a failed job (``limit`` and ``limit_value`` name the
    limit a job went over)."""

    status: int = Field(default=500, description="422: the input; 413: a limit; 500: a bug.")
    title: str = ""
    detail: str = ""
    error_type: str | None = None


class JobPublic(BaseModel):
    id: str
    kind: str
    status: JobStatus
    progress: JobProgress = Field(description="phase, and percent or objective if known")
    error: JobError | None = Field(default=None, description="Why a failed job failed.")
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
    offset: int = Field(description="Jobs before this page.")
    links: dict[str, str] = Field(default_factory=dict, description=PAGE_LINKS_DOC)
