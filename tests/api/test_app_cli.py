"""``recyclenet app``: the service on 127.0.0.1 with a local key, and the workspace page."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
from api_helpers import free_port, wait_for


def test_app_command_serves_the_workspace_with_a_local_key(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "RECYCLENET_DATA_DIR": str(tmp_path / "var"), "RECYCLENET_API_KEYS": ""}
    code = "from recyclenet.cli import app; app()"
    proc = subprocess.Popen([sys.executable, "-c", code, "app", "--no-browser", "--port",
                             str(port)], env=env, stdout=subprocess.PIPE, text=True)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:

        def ready() -> bool:
            assert proc.poll() is None, "recyclenet app exited"
            try:
                return httpx.get(base + "/readyz", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(ready, timeout_s=60, what="recyclenet app")
        key_file = tmp_path / "var" / "local_api_key"
        key = key_file.read_text().strip()
        assert len(key) >= 20 and (key_file.stat().st_mode & 0o077) == 0
        page = httpx.get(base + "/app")
        assert page.status_code == 200 and "recyclenet" in page.text
        assert httpx.get(base + "/networks").status_code == 401
        r = httpx.get(base + "/networks", headers={"X-API-Key": key})
        assert r.status_code == 200 and r.json()["total"] == 0
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
    assert f"http://127.0.0.1:{port}/app" in out and key in out
