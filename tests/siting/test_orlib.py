"""OR-Library readers on tiny hand-written files (the real instances are not in the repo)."""

from __future__ import annotations

import numpy as np
import pytest

from recyclenet.siting import solve_siting
from recyclenet.siting.orlib import cap_problem, pmed_problem, read_cap, read_pmed


def test_pmed_last_duplicate_edge_counts(tmp_path):
    # path 1-2-3-4; the pair (2, 3) is listed twice: the last cost (5) counts
    f = tmp_path / "pmedx.txt"
    f.write_text("4 4 1\n1 2 1\n2 3 1\n3 4 1\n3 2 5\n")
    dist, p = read_pmed(f)
    assert p == 1
    assert dist[0, 3] == 7 and dist[1, 2] == 5
    plan = solve_siting(pmed_problem(dist, p))
    # median v2: 1 + 0 + 5 + 6 = 12; v3: 6 + 5 + 0 + 1 = 12; tie broken by the solver
    assert plan.objective == pytest.approx(12.0)
    assert plan.status == "optimal"


def test_cap_reader_and_split_demand(tmp_path):
    f = tmp_path / "capx.txt"
    f.write_text("2 2\ncapacity 10\ncapacity 3\n5\n 1 50\n5\n 60 2\n")
    cap, fix, dem, cost = read_cap(f, capacity=6)
    assert np.array_equal(cap, [6, 6]) and np.array_equal(fix, [10, 3])
    assert np.array_equal(cost, [[1, 50], [60, 2]])
    plan = solve_siting(cap_problem(cap, fix, dem, cost))
    assert plan.open_ids == ("w1", "w2")
    assert plan.objective == pytest.approx(13 + 1 + 2)
