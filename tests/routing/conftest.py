"""Fixtures of the routing tests (helpers live in routing_helpers.py)."""

from __future__ import annotations

import pytest


@pytest.fixture(params=["ortools", "pyvrp"])
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)
