"""Does recyclenet's PyVRP path match PyVRP called directly on the same instance?

Usage::

    python benchmarks/routing_pyvrp_parity.py PATH_TO_BENCHMARKS \
        [--instances X-n129-k18,X-n247-k50,R101,C201] [--iterations 2000] \
        [--time-limit-s 10] [--seed 1]

For each instance (CVRPLIB or Solomon, conventions in ``_instances.py``):

1. Same data, same search: PyVRP run for ``--iterations`` iterations with the same
   seed on (a) the data its user builds (``pyvrp.read`` / ``pyvrp.Model``, with
   recyclenet's fleet size), (b) recyclenet's model (``build_model``), and (c) the model
   recyclenet used before issue #18, every order an optional client with a prize.
   Equal costs for (a) and (b) mean the same search trajectory; the milliseconds per
   iteration show what each model costs the search.
2. Same time: ``solve_routing(engine="pyvrp")`` against ``pyvrp.solve`` with
   ``MaxRuntime``, both ``--time-limit-s`` and the same seed; gap to the optimum.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import pyvrp
from pyvrp.stop import MaxIterations, MaxRuntime

from _instances import instance_files, optimum, pyvrp_data, scale
from recyclenet.routing import solve_routing
from recyclenet.routing._pyvrp import build_model
from recyclenet.routing.instances import load_instance
from recyclenet.routing.unserved import diagnose


def _run(data: object, stop: object, seed: int, params: object = None) -> tuple[float, float, int]:
    """(cost, seconds, iterations) of one PyVRP search."""
    t = time.perf_counter()
    kw = {} if params is None else {"params": params}
    res = pyvrp.solve(data, stop=stop, seed=seed, collect_stats=False, **kw)  # type: ignore[arg-type]
    cost = float(res.cost()) if res.is_feasible() else float("nan")
    return cost, time.perf_counter() - t, res.num_iterations


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("root", type=Path)
    ap.add_argument("--instances", default="X-n129-k18,X-n247-k50,R101,C201")
    ap.add_argument("--iterations", type=int, default=2000)
    ap.add_argument("--time-limit-s", type=float, default=10.0)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    print(f"load average {os.getloadavg()[0]:.2f}; {args.iterations} iterations, "
          f"{args.time_limit_s:g} s, seed {args.seed}")  # fmt: skip
    print(f"{'instance':<12}{'model':<34}{'cost':>10}{'ms/iter':>9}")
    timed = []
    for kind, path in instance_files(args.root, args.instances.split(",")):
        problem = load_instance(path)
        fleet = problem.vehicle_types[0].count
        diag = diagnose(problem)
        new = build_model(problem, diag, required=True)
        old = build_model(problem, diag, required=False)
        k = scale(kind)
        rows = [("PyVRP direct (same fleet)", pyvrp_data(kind, path, fleet), None, 1.0),
                ("recyclenet " + ", ".join(f"{a}={b}" for a, b in new.describe().items()
                                           if a != "exact_costs"),
                 new.data, new.params(), new.cost_scale),
                ("every order optional (prizes)", old.data, old.params(),
                 old.cost_scale)]  # fmt: skip
        for label, data, params, cs in rows:
            cost, secs, iters = _run(data, MaxIterations(args.iterations), args.seed, params)
            print(f"{path.stem:<12}{label[:33]:<34}{cost / cs / k:>10.1f}"
                  f"{1000 * secs / max(iters, 1):>9.2f}")  # fmt: skip
        direct, _s, _i = _run(pyvrp_data(kind, path), MaxRuntime(args.time_limit_s), args.seed)
        plan = solve_routing(problem, engine="pyvrp", time_limit_s=args.time_limit_s,
                             seed=args.seed)  # fmt: skip
        timed.append((path.stem, optimum(args.root, kind, path.stem), direct / k, plan.cost / k))
    print(f"\nsame time ({args.time_limit_s:g} s), same seed: gap to the optimum")
    print(f"{'instance':<12}{'optimum':>10}{'PyVRP direct':>14}{'gap %':>8}"
          f"{'recyclenet':>12}{'gap %':>8}")  # fmt: skip
    for name, opt, a, b in timed:
        print(f"{name:<12}{opt:>10.1f}{a:>14.1f}{100 * (a - opt) / opt:>8.2f}"
              f"{b:>12.1f}{100 * (b - opt) / opt:>8.2f}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
