"""Job processes run at a lower CPU priority than the server (settings.job_nice)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from api_helpers import A, job_status, make_app, submit_sleep, wait_for
from fastapi.testclient import TestClient


@pytest.mark.parametrize("job_nice", [0, 7])
def test_job_process_is_niced(tmp_path: Path, job_nice: int) -> None:
    base = os.getpriority(os.PRIO_PROCESS, 0)
    app = make_app(tmp_path / "var", job_nice=job_nice)
    with TestClient(app) as client:
        job_id = submit_sleep(app, seconds=300.0)  # running when looked at; cancelled below
        pid = wait_for(
            lambda: job_status(client, job_id)["progress"].get("pid"), what="job progress"
        )
        assert os.getpriority(os.PRIO_PROCESS, pid) == min(19, base + job_nice)
        assert client.delete(f"/jobs/{job_id}", headers=A).status_code in (200, 202, 204)
