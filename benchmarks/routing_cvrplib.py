"""Benchmark the routing engines on CVRPLIB (sets A and X) and Solomon VRPTW instances.

Usage::

    python benchmarks/routing_cvrplib.py PATH_TO_BENCHMARKS [--time-limit-s T]
        [--sets A,X,solomon] [--limit N] [--jobs J] [--engines ortools,pyvrp]

``PATH_TO_BENCHMARKS`` holds ``cvrp/{A,X}/*.vrp``, ``cvrp/bks.csv``,
``vrptw/solomon/*.txt`` and ``vrptw/bks.csv`` (see that folder's README). Nothing is
copied from it. Conventions, so costs compare with the optima:

- CVRP: arc length ``int(sqrt(dx² + dy²) + 0.5)``; set A uses exactly k vehicles, set X
  an unlimited fleet (here k + k/10 + 3 vehicles, more than any optimum uses).
- Solomon: distance only, every arc and travel time ``floor(10·euclid)/10``; the
  instance is scaled by 10 so that all values are integers (metres, seconds) and the
  cost is divided by 10 again; vehicles free up to ``NUMBER``.

Each engine runs single-threaded with the same time limit; ``--jobs`` runs that many
(instance, engine) pairs at once. Prints one table row per instance: optimum, OR-Tools
cost and gap, PyVRP cost and gap, ratio OR-Tools/PyVRP, then the mean gaps per set.
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from recyclenet.routing import check_plan, solve_routing
from recyclenet.routing.instances import cvrp_problem, solomon_problem


def run_one(task: tuple[str, str, str, float]) -> tuple[str, str, float, int, int, float]:
    """(instance, engine, cost, unserved, violations, time_s) for one run."""
    kind, path_s, engine, limit = task
    path = Path(path_s)
    problem = cvrp_problem(path) if kind == "cvrp" else solomon_problem(path)
    t0 = time.time()
    plan = solve_routing(problem, engine=engine, time_limit_s=limit, seed=1)  # type: ignore[arg-type]
    elapsed = time.time() - t0
    scale = 1.0 if kind == "cvrp" else 10.0
    bad = len(check_plan(plan, problem))
    cost = plan.cost / scale if plan.status == "feasible" and not plan.unserved else math.nan
    return path.stem, engine, cost, len(plan.unserved), bad, elapsed


def _read_bks(path: Path, col: str) -> dict[str, float]:
    with open(path, newline="") as fh:
        return {r["instance"]: float(r[col]) for r in csv.DictReader(fh) if r.get(col)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("root", type=Path, help="folder with cvrp/ and vrptw/ (shared benchmarks)")
    ap.add_argument("--time-limit-s", type=float, default=10.0)
    ap.add_argument("--sets", default="A,X,solomon")
    ap.add_argument("--engines", default="ortools,pyvrp")
    ap.add_argument("--limit", type=int, default=0, help="first N instances of each set")
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args(argv)
    engines = [e for e in args.engines.split(",") if e]
    bks = {}
    tasks: list[tuple[str, str, str, float]] = []
    order: list[tuple[str, str]] = []
    for s in args.sets.split(","):
        if s in ("A", "X"):
            files = sorted((args.root / "cvrp" / s).glob("*.vrp"))
            bks.update(_read_bks(args.root / "cvrp" / "bks.csv", "bks"))
            kind = "cvrp"
        elif s == "solomon":
            files = sorted((args.root / "vrptw" / "solomon").glob("*.txt"))
            bks.update(_read_bks(args.root / "vrptw" / "bks.csv", "distance"))
            kind = "solomon"
        else:
            ap.error(f"unknown set {s!r}")
        if args.limit:
            files = files[: args.limit]
        for f in files:
            order.append((s, f.stem))
            tasks += [(kind, str(f), e, args.time_limit_s) for e in engines]
    results: dict[tuple[str, str], tuple[float, int, int, float]] = {}
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        for name, engine, cost, unserved, bad, t in pool.map(run_one, tasks):
            results[(name, engine)] = (cost, unserved, bad, t)
    print(f"time limit {args.time_limit_s:g} s per engine and instance, {args.jobs} jobs")
    head = f"{'instance':<14}{'optimum':>10}"
    for e in engines:
        head += f"{e + ' cost':>15}{'gap %':>8}"
    if len(engines) == 2:
        head += f"{'ratio':>8}"
    print(head)
    gaps: dict[tuple[str, str], list[float]] = {}
    for s, name in order:
        opt = bks.get(name, math.nan)
        row = f"{name:<14}{opt:>10.1f}"
        costs = []
        for e in engines:
            cost, unserved, bad, _t = results[(name, e)]
            gap = 100.0 * (cost - opt) / opt
            gaps.setdefault((s, e), []).append(gap)
            flag = "" if not bad else "!"
            row += f"{cost:>14.1f}{flag:1}{gap:>8.2f}"
            costs.append(cost)
        if len(engines) == 2:
            row += f"{costs[0] / costs[1]:>8.3f}"
        print(row)
    print()
    for (s, e), g in gaps.items():
        ok = [x for x in g if math.isfinite(x)]
        mean = sum(ok) / len(ok) if ok else math.nan
        print(f"set {s:<8} {e:<8} mean gap {mean:6.2f} %  ({len(ok)}/{len(g)} solved)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
