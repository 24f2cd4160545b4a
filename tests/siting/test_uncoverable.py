"""Min stations with demand that no site reaches within the radius."""

from __future__ import annotations

import numpy as np
import pytest
from siting_cases import line_demand, line_matrix, line_sites

from recyclenet.errors import InputError
from recyclenet.siting import SitingProblem, solve_siting

# demand at 0, 1, 2, 10, 11, 12 km; only sites at 0 and 1 km may open
SITES_OK = {"s2": {"status": "forbidden"}, "s10": {"status": "forbidden"},
            "s11": {"status": "forbidden"}, "s12": {"status": "forbidden"}}  # fmt: skip


def _problem(**kw: object) -> SitingProblem:
    km = [0, 1, 2, 10, 11, 12]
    return SitingProblem(
        line_demand(),
        line_sites(**SITES_OK),
        line_matrix(km, km),
        model="min_stations",
        radius=1500.0,
        **kw,
    )  # type: ignore[arg-type]


def test_raise_names_the_uncoverable_demand() -> None:
    with pytest.raises(InputError, match=r"3 demand ids \(3 households\).*'d10'"):
        _problem()


def test_leave_covers_the_rest_and_reports_the_others() -> None:
    plan = solve_siting(_problem(uncoverable="leave"), time_limit_s=10)
    assert plan.status == "optimal"
    # d0, d1, d2 are all within 1.5 km of s1: one station suffices
    assert plan.open_ids == ("s1",)
    assert set(plan.unassigned_ids) == {"d10", "d11", "d12"}
    assert {a.demand_id for a in plan.assignment} == {"d0", "d1", "d2"}
    assert "3 demand point(s)" in plan.message
    assert plan.unassigned_reasons["d11"] == "no usable site within radius 1500 metres"
    # households 2 + 3 + 1 of 9 are within the radius
    assert plan.indicators.share_households_within_radius == pytest.approx(6 / 9)


def test_leave_with_unreachable_rows() -> None:
    prob = _problem(uncoverable="leave")
    matrix = prob.matrix
    dist = np.array(matrix.distance_m, dtype=float)
    dist[3:, :] = np.inf
    prob = SitingProblem(prob.demand, prob.sites,
                         type(matrix)(matrix.origin_ids, matrix.destination_ids, dist / 10, dist),
                         model="min_stations", radius=1500.0, uncoverable="leave")  # fmt: skip
    plan = solve_siting(prob, time_limit_s=10)
    assert plan.open_ids == ("s1",)
    assert set(plan.unassigned_ids) == {"d10", "d11", "d12"}


def test_leave_works_for_every_model() -> None:
    km = [0, 1, 2, 10, 11, 12]
    mx = line_matrix(km, km)
    dist = np.array(mx.distance_m, dtype=float)
    dist[3:, :] = np.inf  # d10, d11, d12 are off the network
    mx = type(mx)(mx.origin_ids, mx.destination_ids, dist / 10, dist)
    for model, extra in (("p_median", {"p": 1}), ("cflp", {}), ("max_coverage", {"p": 1,
                         "radius": 1500.0}), ("min_stations", {"radius": 1500.0})):  # fmt: skip
        # CFLP: a fixed cost makes one site the optimum, as for p = 1
        sites = line_sites(**{k: {**SITES_OK.get(k, {}), "fixed_cost": 1e6}
                              for k in ("s0", "s1", "s2", "s10", "s11", "s12")})  # fmt: skip
        prob = SitingProblem(line_demand(), sites, mx, model=model, uncoverable="leave", **extra)  # type: ignore[arg-type]
        plan = solve_siting(prob, time_limit_s=10)
        assert plan.status == "optimal", model
        assert set(plan.unassigned_ids) == {"d10", "d11", "d12"}, model
        assert plan.open_ids == ("s1",), model
        reason = plan.unassigned_reasons["d10"]
        assert reason.startswith("no usable site reachable on the network"), model
        assert plan.indicators.households_assigned == pytest.approx(6.0), model
    with pytest.raises(InputError, match=r"'d10', 'd11', 'd12' cannot reach any usable site"):
        SitingProblem(line_demand(), line_sites(**SITES_OK), mx, model="p_median", p=1)
    with pytest.raises(InputError, match="uncoverable must be"):
        _problem(uncoverable="drop")
