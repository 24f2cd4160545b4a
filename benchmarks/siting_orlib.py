"""Siting against OR-Library optima (p-median pmed*, CFLP cap*) and a 20,000 x 2,000 case.

Usage::

    python benchmarks/siting_orlib.py PATH_TO_SHARED_BENCHMARKS [--time-limit-s T]
        [--instances pmed1,pmed2,cap41,capa-8000] [--no-synthetic]

``PATH`` holds ``pmedian/`` and ``cflp/`` in the OR-Library formats described in its
README (pmed: ``n edges p`` then ``i j cost`` edges, the last occurrence of a pair
counts, all-pairs shortest paths; cap: Beasley's multi-source CFLP). Nothing is copied
from it. Prints one table row per instance: the published optimum, our objective, the
gap to the optimum, our status and proven gap, the time, and the greedy + interchange
baseline run in the same process (objective, time, ratio to ours).
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
import time
from pathlib import Path

import numpy as np

from recyclenet.matrix import Matrix
from recyclenet.siting import Demand, Site, SitingProblem, solve_siting
from recyclenet.siting.heuristics import greedy_interchange, nearest_pairs
from recyclenet.siting.orlib import cap_problem, pmed_problem, read_cap, read_pmed

DEFAULT_PMED = [f"pmed{k}" for k in (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 16, 21, 26, 31, 35)]
DEFAULT_CFLP = ["cap41", "cap71", "cap101", "cap131", "capa-8000", "capb-5000", "capc-5000"]


def baseline(problem: SitingProblem) -> tuple[float, float]:
    """Greedy + interchange on the same matrix: (objective, seconds)."""
    t = time.perf_counter()
    cost = problem.cost_array()
    r = greedy_interchange(
        cost, problem.weight_array(), int(problem.p or 0), pairs=nearest_pairs(cost)
    )
    return r.objective, time.perf_counter() - t


def row(name: str, size: str, opt: float, problem: SitingProblem, tl: float) -> dict[str, str]:
    t = time.perf_counter()
    plan = solve_siting(problem, time_limit_s=tl)
    el = time.perf_counter() - t
    if problem.model == "p_median":
        h_obj, h_t = baseline(problem)
    else:
        h_obj, h_t = math.nan, math.nan

    def f(x: float, fmt: str) -> str:
        return "-" if not math.isfinite(x) else format(x, fmt)

    gap_opt = (plan.objective - opt) / opt * 100 if math.isfinite(opt) else math.nan
    return {
        "instance": name,
        "size": size,
        "optimum": f(opt, ".3f").rstrip("0").rstrip("."),
        "ours": f(plan.objective, ".3f").rstrip("0").rstrip("."),
        "gap_to_opt_%": f(gap_opt, ".4f"),
        "status": plan.status,
        "proven_gap_%": f(plan.gap * 100, ".3f"),
        "time_s": f"{el:.2f}",
        "greedy+swap": f(h_obj, ".0f"),
        "heur_time_s": f(h_t, ".2f"),
        "heur/ours": f(h_obj / plan.objective, ".4f") if math.isfinite(h_obj) else "-",
    }


def synthetic(n: int, m: int, p: int, tl: float, seed: int = 0) -> dict[str, str]:
    rng = np.random.default_rng(seed)
    a = rng.random((n, 2)) * 0.2
    b = rng.random((m, 2)) * 0.2
    d = np.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).sum(-1)) * 111_000.0
    dids = tuple(f"d{i}" for i in range(n))
    sids = tuple(f"s{j}" for j in range(m))
    mx = Matrix(dids, sids, d / 8.0, d)
    del d
    hh = rng.integers(1, 80, n).astype(float)
    demand = [Demand(i, x, y, households=h) for i, (x, y), h in zip(dids, a, hh)]
    sites = [Site(s, x, y) for s, (x, y) in zip(sids, b)]
    problem = SitingProblem(demand, sites, mx, model="p_median", p=p)
    return row(f"synthetic p={p}", f"{n}x{m}", math.nan, problem, tl)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("path", type=Path)
    ap.add_argument("--time-limit-s", type=float, default=30.0)
    ap.add_argument("--instances", default="", help="comma list (default: a selection)")
    ap.add_argument("--no-synthetic", action="store_true")
    ap.add_argument("--synthetic-p", type=int, default=100)
    args = ap.parse_args(argv)
    wanted = [s for s in args.instances.split(",") if s] or DEFAULT_PMED + DEFAULT_CFLP
    with open(args.path / "pmedian" / "bks.csv") as fh:
        pbks = {r["instance"]: r for r in csv.DictReader(fh)}
    with open(args.path / "cflp" / "bks.csv") as fh:
        cbks = {r["instance"]: r for r in csv.DictReader(fh)}
    rows = []
    for name in wanted:
        if name.startswith("pmed"):
            dist, p = read_pmed(args.path / "pmedian" / "instances" / f"{name}.txt")
            rows.append(
                row(
                    name,
                    f"{dist.shape[0]} p={p}",
                    float(pbks[name]["optimal"]),
                    pmed_problem(dist, p),
                    args.time_limit_s,
                )
            )
        else:
            key = name
            rec = cbks.get(key)
            if rec is None:
                raise SystemExit(f"unknown instance {name!r}")
            capv = float(rec["capacity"]) if rec["capacity"] else None
            data = read_cap(args.path / "cflp" / "instances" / f"{rec['file']}.txt", capv)
            rows.append(
                row(
                    name,
                    f"{data[3].shape[1]}x{data[3].shape[0]}",
                    float(rec["optimal"]),
                    cap_problem(*data),
                    args.time_limit_s,
                )
            )
        print(" | ".join(rows[-1].values()), file=sys.stderr, flush=True)
    if not args.no_synthetic:
        rows.append(synthetic(20_000, 2_000, args.synthetic_p, args.time_limit_s))
    cols = list(rows[0])
    width = {c: max(len(c), *(len(r[c]) for r in rows)) for c in cols}
    print(" | ".join(c.ljust(width[c]) for c in cols))
    print("-|-".join("-" * width[c] for c in cols))
    for r in rows:
        print(" | ".join(r[c].ljust(width[c]) for c in cols))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
