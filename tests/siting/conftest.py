"""Fixtures of the siting tests."""

from __future__ import annotations

import pytest
from siting_cases import line_case

from recyclenet.matrix import Matrix
from recyclenet.siting import Demand, Site


@pytest.fixture
def line() -> tuple[list[Demand], list[Site], Matrix]:
    """Two clusters of three points on a line; sites at the demand points."""
    return line_case()
