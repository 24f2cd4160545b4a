"""Live progress of a siting solve: phases in order, incumbents and bounds that only improve."""

from __future__ import annotations

import math

import pytest
from siting_cases import line_case, random_case

from recyclenet.siting import Demand, SitingProblem, solve_siting, solve_two_tier

LIMIT_S = 60.0  # generous: the checks are on the reports' values and order, not on time


def _solve(problem: SitingProblem, **kw) -> tuple[list[dict], object]:  # type: ignore[no-untyped-def]
    seen: list[dict] = []
    plan = solve_siting(problem, time_limit_s=LIMIT_S, progress=seen.append, **kw)
    return seen, plan


def _check_reports(seen: list[dict], plan, sense: str) -> None:  # type: ignore[no-untyped-def]
    assert seen[-1]["phase"] == "done"
    assert all(p["time_limit_s"] == LIMIT_S and 0.0 <= p["share"] <= 1.0 for p in seen)
    elapsed = [p["elapsed_s"] for p in seen]
    assert elapsed == sorted(elapsed)
    best = [p["best_objective"] for p in seen if p["best_objective"] is not None]
    bound = [p["bound"] for p in seen if p["bound"] is not None]
    assert best and bound
    # incumbents only get better, bounds only tighter, and a bound never passes the best
    key = (lambda v: v) if sense == "min" else (lambda v: -v)
    assert [key(v) for v in best] == sorted((key(v) for v in best), reverse=True)
    assert [key(v) for v in bound] == sorted(key(v) for v in bound)
    for p in seen:
        if p["best_objective"] is not None and p["bound"] is not None:
            assert key(p["bound"]) <= key(p["best_objective"]) + 1e-6 * max(1.0, abs(p["bound"]))
            assert p["gap"] == pytest.approx(
                abs(p["best_objective"] - p["bound"]) / abs(p["best_objective"])
            )
        else:
            assert p["gap"] is None
    # the last report is the plan
    assert seen[-1]["best_objective"] == pytest.approx(plan.objective)
    assert seen[-1]["bound"] == pytest.approx(plan.bound)
    assert seen[-1]["engine"] == plan.solver


def _phases(seen: list[dict]) -> list[str]:
    out: list[str] = []
    for p in seen:
        if not out or out[-1] != p["phase"]:
            out.append(p["phase"])
    return out


def test_p_median_reports_heuristic_then_bound_then_mip():
    demand, sites, mx = random_case(80, 25, seed=3)
    seen, plan = _solve(SitingProblem(demand, sites, mx, model="p_median", p=4))
    _check_reports(seen, plan, "min")
    phases = _phases(seen)
    assert phases[0] == "heuristic" and phases[1] == "bound" and phases[-1] == "done"
    assert "mip" in phases[2:-1]
    first = seen[1]  # the heuristic's plan, before any bound
    assert first["engine"] == "greedy+interchange" and first["best_objective"] is not None
    assert first["bound"] is None and first["gap"] is None
    lagrangian = next(p for p in seen if p["phase"] == "bound" and p["bound"] is not None)
    assert lagrangian["engine"] == "lagrangian"
    assert {p["engine"] for p in seen if p["phase"] == "mip"} == {"highs"}


def test_max_coverage_improves_upwards():
    demand, sites, mx = random_case(80, 25, seed=4)
    problem = SitingProblem(demand, sites, mx, model="max_coverage", p=3, radius=900.0)
    seen, plan = _solve(problem)
    _check_reports(seen, plan, "max")
    assert _phases(seen)[0] == "heuristic"
    # the first bound: every household within the radius of some site
    coverable = (mx.distance_m <= 900.0).any(axis=1)
    first = next(p["bound"] for p in seen if p["bound"] is not None)
    assert first == pytest.approx(sum(d.households for d, c in zip(demand, coverable) if c))


def test_min_stations_counts_stations():
    demand, sites, mx = line_case()
    problem = SitingProblem(demand, sites, mx, model="min_stations", radius=1500.0,
                            households_per_station=4.0)  # fmt: skip
    seen, plan = _solve(problem)
    _check_reports(seen, plan, "min")
    assert _phases(seen)[0] == "heuristic" and seen[1]["engine"] == "greedy cover"
    assert all(v == math.floor(v) for p in seen if (v := p["best_objective"]) is not None)


def test_cflp_reports_greedy_lagrangian_and_mip():
    demand, sites, mx = random_case(60, 15, seed=5)
    sites = [s.__class__(s.id, s.lon, s.lat, fixed_cost=2000.0, capacity=400.0) for s in sites]
    problem = SitingProblem(demand, sites, mx, model="cflp")
    seen, plan = _solve(problem)
    _check_reports(seen, plan, "min")
    phases = _phases(seen)
    assert phases[0] == "heuristic" and phases[-1] == "done"
    assert phases.index("bound") < len(phases) - 1


def test_two_tier_reports_each_tier_within_one_time_limit():
    demand, sites, mx = random_case(40, 10, seed=11)
    demand = [Demand(d.id, d.lon, d.lat, households=d.households,
                     kg_per_year={"mixed": 50.0 * d.households}) for d in demand]  # fmt: skip
    from test_two_tier import _centres

    centres, cmx = _centres(sites, seed=12)
    seen: list[dict] = []
    stations = SitingProblem(demand, sites, mx, model="p_median", p=4)
    plan = solve_two_tier(stations, centres, cmx, cost_per_unit=0.01, time_limit_s=LIMIT_S,
                          progress=seen.append)  # fmt: skip
    tiers = [p["tier"] for p in seen]
    assert tiers == sorted(tiers, key=["stations", "centres"].index)  # stations first
    assert seen[0]["phase"] == "stations: heuristic" and seen[-1]["phase"] == "centres: done"
    assert all(p["phase"].startswith(p["tier"] + ": ") for p in seen)
    assert all(p["time_limit_s"] == LIMIT_S for p in seen)  # shares of the whole limit
    last = {p["tier"]: p for p in seen}
    assert last["stations"]["best_objective"] == pytest.approx(plan.stations.objective)
    assert last["centres"]["best_objective"] == pytest.approx(plan.centres.objective)
