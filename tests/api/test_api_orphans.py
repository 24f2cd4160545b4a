"""No orphan solves: kill -9 the server, a job process or its helper, and within 2 s no
process of the job and no temporary folder of it remains.

The 2 s (:data:`GONE_WITHIN_S`, issue #14) is asserted: the job's reaper waits on the
pidfds of the job and server processes and acts the moment one exits, so what the bound
measures is the signal path (a kill, a folder removal), not work that a slow machine
would stretch; the waits themselves run up to 120 s so that a miss reports how long it
took."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from api_helpers import A, Server, wait_for

from recyclenet.procs import start_helper
from recyclenet_api.store import Store


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie (dead, not yet reaped by its parent) counts as gone
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


def _processes_mentioning(text: str) -> list[int]:
    """Pids whose command line holds ``text`` (the fork server names the server's cwd)."""
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if text in (proc / "cmdline").read_bytes().decode(errors="replace"):
                    found.append(int(proc.name))
            except OSError:
                continue
    return [p for p in found if _alive(p)]


GONE_WITHIN_S = 2.0
"""How soon a killed job's processes and temporary folder must be gone."""


def _gone_within(pids: list[int], tmp: Path, seconds: float = 120.0) -> float:
    """Seconds until every pid is dead and no ``recyclenet-*`` folder is left in ``tmp``
    (a bounded wait: what is checked is that they go, not how fast on this machine)."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if not any(_alive(p) for p in pids) and not list(tmp.glob("recyclenet-*")):
            return time.monotonic() - started
        time.sleep(0.02)
    left = [p for p in pids if _alive(p)], sorted(p.name for p in tmp.glob("recyclenet-*"))
    raise AssertionError(f"after {seconds} s still alive / left: {left}")


@pytest.fixture
def server_tmp(tmp_path: Path) -> tuple[Path, Path]:
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    return tmp_path / "var", tmp


def _start_job(srv: Server, seconds: float = 600) -> tuple[str, dict]:
    store = Store(f"sqlite:///{srv.data_dir / 'recyclenet.db'}")
    job = store.add_job(tenant="tenant-a", kind="sleep", time_limit_s=900,
                        payload={"seconds": seconds, "helper": True})  # fmt: skip
    store.dispose()
    url = f"{srv.url}/jobs/{job.id}"
    progress = wait_for(lambda: (p := httpx.get(url, headers=A).json()["progress"]).get(
        "helper_pid") and p, timeout_s=60, what="job with its helper")  # fmt: skip
    return job.id, progress


def test_kill_server(server_tmp: tuple[Path, Path]) -> None:
    data_dir, tmp = server_tmp
    data_dir.mkdir()
    srv = Server(data_dir, TMPDIR=str(tmp))
    try:
        _, progress = _start_job(srv)
        pids = [progress["pid"], progress["helper_pid"]]
        assert all(_alive(p) for p in pids)
        assert Path(progress["tmp"]).is_dir()
        assert Path(progress["tmp"]).parent.parent == tmp  # $TMPDIR/recyclenet-job-*/...
        srv.stop(signal.SIGKILL)
        took_s = _gone_within(pids, tmp)
        assert took_s < GONE_WITHIN_S, took_s
    finally:
        srv.stop()
    # nor the fork server or the body validator of the killed server
    wait_for(lambda: not _processes_mentioning(str(data_dir.parent)), timeout_s=120,
             what="every process of the killed server gone")  # fmt: skip


def test_kill_job_process(server_tmp: tuple[Path, Path]) -> None:
    data_dir, tmp = server_tmp
    data_dir.mkdir()
    srv = Server(data_dir, TMPDIR=str(tmp))
    try:
        job_id, progress = _start_job(srv)
        os.kill(progress["pid"], signal.SIGKILL)
        took_s = _gone_within([progress["pid"], progress["helper_pid"]], tmp)
        assert took_s < GONE_WITHIN_S, took_s
        job = wait_for(lambda: (j := httpx.get(f"{srv.url}/jobs/{job_id}", headers=A).json())[
            "status"] == "failed" and j, what="job failed")  # fmt: skip
        assert job["error"]["title"] == "job process died"
        assert httpx.get(srv.url + "/readyz").json()["detail"]["running_jobs"] == 0
    finally:
        srv.stop()


def test_kill_helper_then_cancel(server_tmp: tuple[Path, Path]) -> None:
    data_dir, tmp = server_tmp
    data_dir.mkdir()
    srv = Server(data_dir, TMPDIR=str(tmp))
    try:
        job_id, progress = _start_job(srv)
        os.kill(progress["helper_pid"], signal.SIGKILL)  # the job itself carries on
        time.sleep(0.5)
        job = httpx.get(f"{srv.url}/jobs/{job_id}", headers=A).json()
        assert job["status"] == "running" and _alive(progress["pid"])
        assert httpx.delete(f"{srv.url}/jobs/{job_id}", headers=A).status_code == 200
        _gone_within([progress["pid"], progress["helper_pid"]], tmp)
    finally:
        srv.stop()


def test_graceful_stop_cleans_up(server_tmp: tuple[Path, Path]) -> None:
    data_dir, tmp = server_tmp
    data_dir.mkdir()
    srv = Server(data_dir, TMPDIR=str(tmp))
    try:
        _, progress = _start_job(srv)
        srv.stop(signal.SIGTERM)
        _gone_within([progress["pid"], progress["helper_pid"]], tmp)
    finally:
        srv.stop()


PARENT = """
import sys, time
from recyclenet.procs import start_helper
helper = start_helper([sys.executable, "-c", "import time; time.sleep(3600)"])
print(helper.pid, flush=True)
time.sleep(3600)
"""


def test_start_helper_dies_with_its_parent() -> None:
    parent = subprocess.Popen([sys.executable, "-c", PARENT], stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    helper_pid = int(parent.stdout.readline())
    assert _alive(helper_pid)
    parent.kill()
    parent.wait()
    # it would sleep an hour on its own: gone within the bounded wait means it died
    wait_for(lambda: not _alive(helper_pid), timeout_s=120, what="helper gone")
    own = start_helper([sys.executable, "-c", "pass"])  # an ordinary helper still works
    assert own.wait(30) == 0
