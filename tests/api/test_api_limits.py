"""Resource limits: OSM compression bombs and element counts at upload (413 naming the
limit), and each job process's memory (RLIMIT_AS)."""

from __future__ import annotations

import time
from pathlib import Path

from api_helpers import A, make_app, submit_sleep, wait_job
from fastapi.testclient import TestClient

from osm_bombs import make_bomb

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def _networks_left(app: object) -> list[Path]:
    root = app.state.ctx.settings.data_dir / "networks"  # type: ignore[attr-defined]
    return list(root.iterdir()) if root.exists() else []


def test_osm_bomb_upload_is_413_and_bounded(tmp_path: Path) -> None:
    bomb = tmp_path / "city.osm.gz"
    make_bomb(bomb, 4096)  # 4 GiB of XML in a few MB
    app = make_app(tmp_path / "var", max_osm_mb=64.0, job_memory_mb=1024)
    with TestClient(app) as client:
        started = time.monotonic()
        with open(bomb, "rb") as fh:
            r = client.post("/networks", files={"file": ("city.osm.gz", fh)}, headers=A)
        took_s = time.monotonic() - started
        assert r.status_code == 413, r.text
        err = r.json()
        assert err["limit"] == "max_decompressed_bytes" and err["limit_value"] == 64 * 2**20
        assert "city.osm.gz expands to more than the limit of 67,108,864 bytes" in err["detail"]
        assert "RECYCLENET_MAX_OSM_MB" in err["detail"]
        assert took_s < 60, took_s  # 64 MiB inflated, then stopped (not 4 GiB)
        assert _networks_left(app) == []
        assert client.get("/networks", headers=A).json()["total"] == 0


def test_osm_element_limit_is_413(tmp_path: Path) -> None:
    app = make_app(tmp_path / "var", max_osm_elements=20)
    with TestClient(app) as client:
        osm = (FIXTURES / "town.osm").read_bytes()  # 25 elements
        r = client.post("/networks", files={"file": ("town.osm", osm)}, headers=A)
        assert r.status_code == 413, r.text
        assert r.json()["limit"] == "max_elements" and r.json()["limit_value"] == 20
        assert "RECYCLENET_MAX_OSM_ELEMENTS" in r.json()["detail"]
        assert _networks_left(app) == []
    app = make_app(tmp_path / "var2", max_osm_elements=25)
    with TestClient(app) as client:
        r = client.post("/networks", files={"file": ("town.osm", osm)}, headers=A)
        assert r.status_code == 201, r.text


def test_job_memory_limit(tmp_path: Path) -> None:
    app = make_app(tmp_path / "var", job_memory_mb=1024)
    with TestClient(app) as client:
        runaway = submit_sleep(app, allocate_mb=4096, seconds=0.1)
        job = wait_job(client, runaway, ("failed", "done"))
        assert job["status"] == "failed", job
        assert job["error"]["title"] == "memory limit exceeded"
        assert job["error"]["limit"] == "job_memory_mb" and job["error"]["limit_value"] == 1024
        assert "1,024 MiB (RECYCLENET_JOB_MEMORY_MB)" in job["error"]["detail"]
        fits = submit_sleep(app, allocate_mb=256, seconds=0.1)
        assert wait_job(client, fits, ("failed", "done"))["status"] == "done"


def test_defaults_fit_a_city() -> None:
    from recyclenet_api.settings import Settings

    s = Settings()
    assert s.max_osm_bytes == 4 * 2**30 and s.max_osm_elements == 60_000_000
    assert s.job_memory_mb == 8192
