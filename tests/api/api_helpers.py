"""Helpers for the service tests: apps on temporary data directories, two tenants.

Everything is offline. Jobs run in real child processes (the runner's fork server), so
the tests exercise the same path as production; waits are bounded polls, never timing
assertions.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from fastapi import FastAPI

from recyclenet_api.app import create_app
from recyclenet_api.schemas import SITING_EXAMPLE_INLINE
from recyclenet_api.settings import Settings

KEY_A = "key-a-0123456789"
KEY_B = "key-b-0123456789"
A = {"X-API-Key": KEY_A}
B = {"X-API-Key": KEY_B}
SLEEP = "recyclenet_api.tasks.diagnostic:sleep_task"


#: The longest a test waits for a job to finish: a guard against a hung job, far above
#: what any test's solve takes on a slow, loaded machine (never a timing assertion).
JOB_TIMEOUT_S = 900.0
FINISHED = ("done", "failed", "cancelled")


def make_settings(data_dir: Path, **overrides: Any) -> Settings:
    base: dict[str, Any] = {
        "data_dir": data_dir,
        "api_keys": {KEY_A: "tenant-a", KEY_B: "tenant-b"},
        "max_concurrent_solves": 2,
        "rate_limit_requests": 1_000_000,
        "max_wait_s": JOB_TIMEOUT_S,  # ?wait= as long as a test asks
        # a job is killed at its time limit plus this grace: on a slow machine loading the
        # network and building matrices can take longer than a test's short solve limit
        "job_grace_s": JOB_TIMEOUT_S,
    }
    base.update(overrides)
    return Settings(**base)


def make_app(data_dir: Path, **overrides: Any) -> FastAPI:
    app = create_app(make_settings(data_dir, **overrides))
    app.state.ctx.job_kinds["sleep"] = SLEEP  # a diagnostic job kind for lifecycle tests
    return app


def wait_for(predicate: Callable[[], Any], timeout_s: float = 120.0, what: str = "") -> Any:
    """Poll until ``predicate()`` is truthy (bounded, generously for a loaded machine: a
    guard against a hang, not a timing assertion)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"gave up waiting for {what or predicate}")


def job_status(client: httpx.Client, job_id: str, headers: dict[str, str] = A) -> dict[str, Any]:
    r = client.get(f"/jobs/{job_id}", headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


def wait_job(
    client: httpx.Client,
    job_id: str,
    statuses: tuple[str, ...] = ("done",),
    headers: dict[str, str] = A,
) -> dict:
    """Wait until the job is in one of ``statuses`` or finished; assert it is in them."""
    job = wait_for(
        lambda: (
            (j := job_status(client, job_id, headers))["status"] in (*statuses, *FINISHED) and j
        ),
        timeout_s=JOB_TIMEOUT_S,
        what=f"job {job_id} in {statuses}",
    )
    assert job["status"] in statuses, job
    return job


def run_job(
    client: httpx.Client, path: str, body: dict[str, Any], headers: dict[str, str] = A
) -> dict[str, Any]:
    """POST a job and return it once finished (done or failed), with its plan.

    ``?wait=30`` is only a first wait (a server caps it at its ``max_wait_s``); a job still
    running after it (a slow machine) is waited for at ``/jobs/{id}``, so the outcome, not
    the machine's speed, decides the test. A 4xx at submission fails here with its text.
    """
    r = client.post(f"{path}?wait=30", json=body, headers=headers)
    assert r.status_code in (200, 202), r.text
    job = r.json()
    if r.status_code == 202:
        job = wait_job(client, job["id"], FINISHED, headers)
        plan = None
        if job["plan_id"]:
            got = client.get(f"/plans/{job['plan_id']}", headers=headers)
            assert got.status_code == 200, got.text
            plan = got.json()
        job = {**job, "plan": plan}
    return job


def submit_sleep(app: FastAPI, tenant: str = "tenant-a", **payload: Any) -> str:
    """Queue a diagnostic sleep job directly in the store (no public route for it)."""
    ctx = app.state.ctx
    limit = float(payload.pop("time_limit_s", 60.0))
    job = ctx.store.add_job(tenant=tenant, kind="sleep", payload=payload, time_limit_s=limit)
    ctx.runner.wake()
    return job.id


SERVER_CODE = """
import sys, uvicorn
from recyclenet_api.app import create_app
from recyclenet_api.schemas import SITING_EXAMPLE_INLINE
app = create_app()
app.state.ctx.job_kinds["sleep"] = sys.argv[2]
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
"""


def terminate(proc: subprocess.Popen) -> None:
    """SIGTERM, then SIGKILL if the process has not exited within 120 s."""
    proc.terminate()
    try:
        proc.wait(120)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(30)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """A real uvicorn server (one process) on 127.0.0.1 over ``data_dir``."""

    def __init__(self, data_dir: Path, solves: int = 2, **env_extra: str) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "RECYCLENET_DATA_DIR": str(data_dir),
               "RECYCLENET_API_KEYS": f"{KEY_A}:tenant-a,{KEY_B}:tenant-b",
               "RECYCLENET_MAX_CONCURRENT_SOLVES": str(solves),
               "RECYCLENET_JOB_GRACE_S": str(JOB_TIMEOUT_S), **env_extra}  # fmt: skip
        self.proc = subprocess.Popen(
            [sys.executable, "-c", SERVER_CODE, str(self.port), SLEEP],
            cwd=data_dir.parent,
            env=env,
        )
        wait_for(self._ready, timeout_s=60, what="server start")

    def _ready(self) -> bool:
        assert self.proc.poll() is None, "server exited"
        try:
            return httpx.get(self.url + "/readyz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(30)


def stored_siting_plan(api: httpx.Client) -> tuple[str, str]:
    """Register the Helsinki sample and store a siting plan on it through a real server's
    client (tenant A): (network id, plan id)."""
    nid = api.post("/networks", json={"sample": "helsinki"}).json()["id"]
    r = api.post("/siting", params={"wait": 60}, json={**SITING_EXAMPLE_INLINE, "network_id": nid})
    assert r.status_code == 200, r.text
    return str(nid), str(r.json()["plan_id"])


def coords(doc: dict[str, Any]) -> np.ndarray:
    """Every position of a GeoJSON FeatureCollection or Feature as an (n, 2) array, in
    document order."""
    out: list[list[float]] = []

    def walk(c: Any) -> None:
        if c and isinstance(c[0], int | float):
            out.append([c[0], c[1]])
        else:
            for x in c:
                walk(x)

    for f in doc.get("features", [doc]):
        if f["geometry"]:
            walk(f["geometry"]["coordinates"])
    return np.array(out, dtype=float).reshape(-1, 2)
