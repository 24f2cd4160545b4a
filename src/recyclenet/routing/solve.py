"""solve_routing: pick an engine (or run both), return a RoutePlan.

``engine="auto"`` uses PyVRP and OR-Tools side by side (PyVRP in a child interpreter,
see ``_child.py``, so each gets a core) when the problem fits PyVRP and there are two
cores and at least :data:`PARALLEL_MIN_TIME_S` seconds, and keeps the better plan;
PyVRP alone when there is one core or little time; OR-Tools when the problem does not
fit PyVRP (breaks).
"""

from __future__ import annotations

import math
import os
import pickle
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any, Literal

from ..deadline import Deadline
from ..errors import InputError, SolverError
from .breaks import place_breaks
from .check import check_plan
from .evaluate import build_plan
from .plan import EngineResult, RoutePlan
from .problem import RoutingProblem
from .unserved import Diagnosis, diagnose

Engine = Literal["auto", "ortools", "pyvrp"]
ENGINES = ("auto", "ortools", "pyvrp")

#: Below this time limit "auto" does not start a second process (spawning and importing
#: PyVRP takes about a second).
PARALLEL_MIN_TIME_S = 3.0
#: Time kept back for evaluating and for stopping the child process, seconds.
_MARGIN_S = 0.15
#: The PyVRP child stops this much earlier, to write its answer and exit, seconds.
_CHILD_MARGIN_S = 0.3
#: Time kept back per order for evaluating plans, and for placing breaks in PyVRP's
#: routes, seconds (measured: about 0.1 s and 0.5 s for 500 orders).
_POST_S_PER_ORDER = 4e-4
_BREAKS_S_PER_ORDER = 2e-3


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _run_ortools(problem: RoutingProblem, diag: Diagnosis, deadline: Deadline, seed: int,
                 **kwargs: Any) -> EngineResult:  # fmt: skip
    from ._ortools import solve_ortools

    return solve_ortools(problem, diag, deadline=deadline, seed=seed, **kwargs)


def _run_pyvrp(problem: RoutingProblem, diag: Diagnosis, deadline: Deadline,
               seed: int) -> EngineResult:  # fmt: skip
    from ._pyvrp import solve_pyvrp

    return solve_pyvrp(problem, diag, deadline=deadline, seed=seed)


def without_breaks(problem: RoutingProblem) -> RoutingProblem:
    """The problem with breaks dropped and shifts (and maximum durations) shortened by
    the break length: what PyVRP solves before :func:`place_breaks` puts breaks back."""
    types = []
    for vt in problem.vehicle_types:
        if vt.break_window is not None:
            vt = replace(
                vt, break_window=None, break_s=0.0,
                shift=(vt.shift[0], max(vt.shift[0], vt.shift[1] - vt.break_s)),
                max_duration_s=None if vt.max_duration_s is None
                else max(0.0, vt.max_duration_s - vt.break_s),
            )  # fmt: skip
        types.append(vt)
    return replace(problem, vehicle_types=tuple(types))


def _key(plan: RoutePlan) -> tuple[int, int, float]:
    """Lower is better: solutions first, then fewest required orders left out, then cost."""
    fleet = sum(1 for u in plan.unserved if u.reason == "fleet")
    return (plan.status == "no_solution", fleet, plan.objective)


def solve_routing(
    problem: RoutingProblem,
    *,
    engine: Engine = "auto",
    time_limit_s: float = 10.0,
    seed: int = 0,
    deadline: Deadline | None = None,
) -> RoutePlan:
    """Plan the routes of a day.

    Parameters
    ----------
    problem : RoutingProblem
        Not modified.
    engine : {"auto", "ortools", "pyvrp"}
        Breaks are the one feature outside PyVRP's model
        (:func:`~recyclenet.routing.fits_pyvrp`): PyVRP then solves with shifts
        shortened by the break and :func:`~recyclenet.routing.breaks.place_breaks` puts
        each break on the first leg that keeps the route feasible; when that fails for
        a route the PyVRP result counts as not found (tight windows around the break
        window), and "auto" keeps OR-Tools' plan, which models breaks exactly.
    time_limit_s : float
        Wall-clock limit for the whole call, seconds.
    deadline : Deadline, optional
        The caller's deadline (part of a larger budget); when given it replaces
        ``time_limit_s``.
    seed : int
        Seed of PyVRP's search (OR-Tools' search is deterministic).

    Returns
    -------
    RoutePlan
        ``plan.engine`` names the engine whose routes were kept;
        ``plan.statistics["engines"]`` has the objective and time of each engine run.
        Orders no vehicle can serve are reported with a reason, never raised.
    """
    if engine not in ENGINES:
        raise InputError(f"engine={engine!r} must be one of {ENGINES}")
    if deadline is None:
        if not (isinstance(time_limit_s, int | float) and math.isfinite(time_limit_s)):
            raise InputError(f"time_limit_s={time_limit_s!r} must be a positive number of "
                             "seconds")  # fmt: skip
        deadline = Deadline.after(time_limit_s)
    else:
        rem = deadline.remaining_s()
        time_limit_s = rem if math.isfinite(rem) else 0.0
    call = deadline
    from ._pyvrp import fits_pyvrp

    # engines stop early enough to leave time for evaluating their routes afterwards
    deadline = call.earlier(_MARGIN_S + _POST_S_PER_ORDER * len(problem.orders))
    diag = diagnose(problem)
    stats: dict[str, Any] = {"engine_requested": engine, "time_limit_s": float(time_limit_s),
                             "seed": seed, "engines": {}}  # fmt: skip
    if len(diag.unserved) == len(problem.orders):
        return build_plan(problem, (), engine="none", status="no_orders", unserved=diag.unserved,
                          time_s=call.elapsed_s(), statistics=stats)  # fmt: skip
    fits, why = fits_pyvrp(problem)
    pyvrp_problem = problem
    if not fits and problem.orders:
        relaxed = without_breaks(problem)
        if fits_pyvrp(relaxed)[0]:  # breaks are the only misfit: placed after solving
            fits, pyvrp_problem = True, relaxed
            stats["pyvrp_breaks"] = "shifts shortened by the break, breaks placed after"
            deadline = deadline.earlier(_BREAKS_S_PER_ORDER * len(problem.orders))
    if engine == "pyvrp" and not fits:
        raise InputError(f"engine='pyvrp' cannot solve this problem: {why}; use 'ortools' or "
                         "'auto'")  # fmt: skip
    results: list[EngineResult] = []
    if engine == "ortools" or (engine == "auto" and not fits):
        stats["choice"] = "ortools requested" if engine == "ortools" else f"ortools: {why}"
        results.append(_run_ortools(problem, diag, deadline, seed))
    elif engine == "pyvrp" or _cores() < 2 or time_limit_s < PARALLEL_MIN_TIME_S:
        stats["choice"] = ("pyvrp requested" if engine == "pyvrp"
                           else "pyvrp: one core or short time limit")  # fmt: skip
        results.append(_run_pyvrp(pyvrp_problem, diag, deadline, seed))
        if not results[-1].found and engine == "auto" and deadline.remaining_s() > 0.2:
            results.append(_run_ortools(problem, diag, deadline, seed))
    else:
        stats["choice"] = "both engines in parallel, better plan kept"
        results.extend(_run_both(problem, pyvrp_problem, diag, deadline, seed))
    if pyvrp_problem is not problem:
        results = [_with_breaks(problem, r) if r.engine == "pyvrp" else r for r in results]
    plans = []
    for res in results:
        stats["engines"][res.engine] = {"found": res.found, "time_s": res.time_s, **res.detail}
        plans.append(build_plan(problem, res.routes, engine=res.engine,
                                status="feasible" if res.found else "no_solution",
                                unserved=diag.unserved, statistics=stats))  # fmt: skip
    for p in plans:
        stats["engines"][p.engine]["objective"] = p.objective if p.status == "feasible" else None
    if not plans:
        raise SolverError("no engine ran")
    best = min(plans, key=_key)
    return build_plan(
        problem,
        _raw_of(best, results),
        engine=best.engine,
        status=best.status,
        unserved=diag.unserved,
        time_s=call.elapsed_s(),
        statistics=stats,
    )


def _raw_of(plan: RoutePlan, results: list[EngineResult]) -> tuple[Any, ...]:
    return next(r.routes for r in results if r.engine == plan.engine)


def _with_breaks(problem: RoutingProblem, res: EngineResult) -> EngineResult:
    """PyVRP routes of the break-relaxed problem with breaks placed; not found if any fails."""
    if not res.found:
        return res
    routes = place_breaks(problem, res.routes)
    plan = build_plan(problem, routes, engine=res.engine, status="feasible")
    bad = [e for e in check_plan(plan, problem) if e.vehicle_id is not None]
    if bad:
        return replace(
            res,
            routes=(),
            found=False,
            detail={**res.detail, "error": f"breaks could not be placed: {bad[0]}"},
        )
    return replace(res, routes=routes)


def _run_both(problem: RoutingProblem, pyvrp_problem: RoutingProblem, diag: Diagnosis,
              deadline: Deadline, seed: int) -> list[EngineResult]:  # fmt: skip
    """OR-Tools here, PyVRP in a child interpreter, both until ``deadline``."""
    with tempfile.TemporaryDirectory(prefix="recyclenet-") as tmp:
        src, dst = os.path.join(tmp, "in.pickle"), os.path.join(tmp, "out.pickle")
        with open(src, "wb") as fh:
            pickle.dump((pyvrp_problem, diag, deadline.earlier(_CHILD_MARGIN_S), seed), fh,
                        protocol=pickle.HIGHEST_PROTOCOL)  # fmt: skip
        env = dict(os.environ)
        pkg_root = str(Path(__file__).resolve().parents[2])  # the dir holding recyclenet/
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [pkg_root, env.get("PYTHONPATH")]))
        proc = subprocess.Popen(
            [sys.executable, "-m", "recyclenet.routing._child", src, dst],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            env=env,
        )  # fmt: skip
        out = [_run_ortools(problem, diag, deadline, seed)]
        msg: object = "no answer in time"
        while True:  # the answer file appears (atomically) before the child exits
            if os.path.exists(dst):
                try:
                    with open(dst, "rb") as fh:
                        msg = pickle.load(fh)
                except (OSError, EOFError, pickle.UnpicklingError) as exc:
                    msg = f"unreadable answer: {exc}"
                break
            if proc.poll() is not None and not os.path.exists(dst):
                msg = f"PyVRP process ended without an answer (exit code {proc.returncode})"
                break
            if deadline.earlier(-_MARGIN_S / 2).expired():
                break
            time.sleep(0.005)
        if proc.poll() is None:
            proc.kill()
        proc.wait()
    if isinstance(msg, EngineResult):
        out.append(msg)
    else:
        out.append(EngineResult("pyvrp", (), False, 0.0, {"error": str(msg)}))
    return out
