"""Fixtures of the service tests (helpers live in api_helpers.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from api_helpers import A, make_app
from fastapi import FastAPI
from fastapi.testclient import TestClient


@pytest.fixture
def app(tmp_path: Path) -> FastAPI:
    return make_app(tmp_path / "var")


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """One app per module with the Helsinki sample registered by tenant A."""
    app = make_app(tmp_path_factory.mktemp("shared") / "var")
    with TestClient(app) as c:
        r = c.post("/networks", json={"sample": "helsinki", "name": "Helsinki"}, headers=A)
        assert r.status_code == 201, r.text
        yield {"app": app, "client": c, "network": r.json()}
