"""Live progress while solving: phases, elapsed, share of the time limit, best cost."""

from __future__ import annotations

from routing_helpers import facility, order, problem

from recyclenet.routing import VehicleType, solve_routing


def test_progress_reports_phases_elapsed_and_the_best_cost(engine):
    xy = {"D": (0, 0), "S": (0, 3000), **{f"o{k}": (300 * k, 200 * (k % 3)) for k in range(8)}}
    prob = problem(xy, [order(f"o{k}", load_kg=50.0) for k in range(8)],
                   [VehicleType("t", count=2, start_id="D", capacity_kg=200.0,
                                cost_per_km=1.0)],
                   facilities=[facility("S", unload_s=300.0)])  # fmt: skip
    seen: list[dict] = []
    plan = solve_routing(prob, engine=engine, time_limit_s=1.0, progress=seen.append)
    phases = [p["phase"] for p in seen]
    assert phases[0] == "solving" and phases[-1] == "done" and "checking" in phases
    assert all(p["time_limit_s"] == 1.0 and 0.0 <= p["share"] <= 1.0 for p in seen)
    elapsed = [p["elapsed_s"] for p in seen]
    assert elapsed == sorted(elapsed)
    costs = [p["best_cost"] for p in seen if p["best_cost"] is not None]
    assert costs, "an incumbent is reported"
    assert seen[-1]["best_cost"] <= plan.objective + 1e-6
    assert {p["engine"] for p in seen if p["engine"]} <= {engine, "ortools", "pyvrp"}


def test_deterministic_solves_report_no_time_limit():
    # counts, not the clock, end a deterministic search: no share of a limit to report
    xy = {"D": (0, 0), **{f"o{k}": (300 * k, 200 * (k % 3)) for k in range(5)}}
    prob = problem(xy, [order(f"o{k}", load_kg=50.0) for k in range(5)],
                   [VehicleType("t", count=2, start_id="D", capacity_kg=200.0,
                                cost_per_km=1.0)])  # fmt: skip
    seen: list[dict] = []
    plan = solve_routing(prob, engine="pyvrp", time_limit_s=1.0, seed=1, deterministic=True,
                         progress=seen.append)  # fmt: skip
    assert seen[0]["phase"] == "solving" and seen[-1]["phase"] == "done"
    assert all(p["time_limit_s"] is None and p["share"] == 0.0 for p in seen)
    assert seen[-1]["best_cost"] == plan.objective


def test_demo_prints_one_line_per_routing_phase():
    from recyclenet.progress import phase_lines

    lines: list[str] = []
    report = phase_lines("routing", lines.append)
    base = {"engine": "pyvrp", "time_limit_s": 10.0, "share": 0.1}
    report({**base, "phase": "solving", "elapsed_s": 0.0, "best_cost": None})
    report({**base, "phase": "solving", "elapsed_s": 0.5, "best_cost": 120.0})
    report({**base, "phase": "checking", "elapsed_s": 9.8, "best_cost": 101.5})
    assert lines == ["  routing: solving (pyvrp, 0.0 s of 10 s)",
                     "  routing: checking (pyvrp, 9.8 s of 10 s, best cost 101.50)"]  # fmt: skip
