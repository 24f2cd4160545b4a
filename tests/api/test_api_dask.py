"""The service hands its jobs to a Dask cluster (``RECYCLENET_DASK_SCHEDULER``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from api_helpers import A, make_app, run_job
from fastapi.testclient import TestClient

import recyclenet as rn

POINTS = [
    {"id": "depot", "lon": 24.9402, "lat": 60.1699},
    {"id": "station-1", "lon": 24.9460, "lat": 60.1720},
    {"id": "station-2", "lon": 24.9500, "lat": 60.1680},
]


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    from distributed import LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster:  # fmt: skip
        yield cluster.scheduler_address


def _client(tmp_path: Path, scheduler: str) -> TestClient:
    return TestClient(make_app(tmp_path / "var", dask_scheduler=scheduler))


def test_jobs_run_on_the_cluster(tmp_path: Path, scheduler: str) -> None:
    from distributed import Client

    with _client(tmp_path, scheduler) as client, Client(scheduler) as dask:
        nid = client.post("/networks", json={"sample": "helsinki"}, headers=A).json()["id"]
        job = run_job(client, "/matrix", {"network_id": nid, "origins": POINTS})
        assert job["status"] == "done", job
        want = rn.build_matrix(rn.load_network("helsinki"), rn.Points.from_records(POINTS))
        assert np.allclose(job["plan"]["data"]["duration_s"], want.duration_s)
        # the task went through the scheduler: it knows the job's task prefix
        prefixes = dask.run_on_scheduler(lambda dask_scheduler: list(dask_scheduler.task_prefixes))
        assert any(p.startswith("recyclenet-job") for p in prefixes), prefixes
        # a library error on a worker keeps its status and message
        far = [*POINTS, {"id": "sea", "lon": 24.80, "lat": 60.10}]
        job = run_job(client, "/matrix", {"network_id": nid, "origins": far})
        assert job["status"] == "failed" and job["error"]["status"] == 422
        assert "sea" in job["error"]["detail"]


def test_unreachable_scheduler_fails_the_job_clearly(tmp_path: Path) -> None:
    with _client(tmp_path, "tcp://127.0.0.1:9") as client:
        nid = client.post("/networks", json={"sample": "helsinki"}, headers=A).json()["id"]
        job = run_job(client, "/matrix", {"network_id": nid, "origins": POINTS})
        assert job["status"] == "failed"
        assert "cannot reach a Dask scheduler" in job["error"]["detail"]
