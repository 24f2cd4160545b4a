"""solve_routing: pick an engine (or run several), return a RoutePlan.

``engine="auto"``, with two cores and at least :data:`PARALLEL_MIN_TIME_S` seconds:

- the problem fits PyVRP: two PyVRP searches with different seeds, one here and one in
  a forked process (a fresh ``_child.py`` interpreter where fork is missing), each on
  its own core until the deadline (or its no-improvement rule); the better plan is
  kept. PyVRP is 5-15% ahead of OR-Tools on CVRPLIB, Solomon and a 500-stop road day
  (``benchmarks/routing_peers.py``, ``benchmarks/routing_road.py``), so a second,
  independent PyVRP search is what the second core gains most from (two searches
  exchanging their best solutions did worse at equal iterations). The forked search
  runs :data:`SECOND_SEARCH_NICE` levels lower: on an idle second core it runs at full
  speed, on a busy machine it yields, so that the first search gets the CPU time one
  search alone would (and follows PyVRP called directly, step for step);
- breaks (PyVRP solves with shifts shortened and places breaks afterwards, which can
  fail): PyVRP in the second process and OR-Tools, which models breaks exactly, here;
- anything else PyVRP cannot model: OR-Tools.

With one core or less time, PyVRP alone (OR-Tools when it finds no plan). Every engine
gets the whole deadline; ``plan.statistics["choice"]`` says what ran and why and
``statistics["engines"]`` reports each run.
"""

from __future__ import annotations

import contextlib
import math
import os
import pickle
import select
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any, Literal

from .. import progress as _progress
from ..deadline import Deadline
from ..errors import InputError, SolverError
from ..procs import die_with_parent, start_helper, yield_cpu
from ..progress import Progress
from .breaks import place_breaks
from .check import check_plan
from .delivery import final_legs, restore_final_unload, with_final_unload
from .evaluate import build_plan
from .gate import repair
from .plan import EngineResult, RoutePlan
from .problem import RoutingProblem
from .unserved import Diagnosis, diagnose

Engine = Literal["auto", "ortools", "pyvrp"]
ENGINES = ("auto", "ortools", "pyvrp")

#: Below this time limit "auto" does not start a second process (spawning and importing
#: PyVRP takes about a second).
PARALLEL_MIN_TIME_S = 3.0
#: Nice levels of auto's second search (a forked process): on a loaded machine, two
#: equal searches each got 70-95% of the CPU time one search gets (the second took
#: from the first), and the better of two such searches was no better than one
#: (CVRPLIB X, 15 and 30 s; see the closing note of issue #18).
SECOND_SEARCH_NICE = 10
#: Time kept back for evaluating and for stopping the child process, seconds.
_MARGIN_S = 0.15
#: The PyVRP child stops this much earlier, to write its answer and exit, seconds.
_CHILD_MARGIN_S = 0.3
#: Time kept back per order for evaluating plans, and for placing breaks in PyVRP's
#: routes, seconds (measured: about 0.1 s and 0.5 s for 500 orders).
#: Deterministic mode: OR-Tools descends to a local optimum (no guided local search),
#: stopping after at most this many solutions.
DETERMINISTIC_SOLUTIONS = 10_000
_POST_S_PER_ORDER = 4e-4
#: Timings in an engine's report, left out of deterministic plans.
_TIMINGS = ("time_s", "search_s", "cpu_s", "search_left_s")
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
    deterministic: bool = False,
    progress: Progress | None = None,
) -> RoutePlan:
    """Plan the routes of a day.

    ``progress``: called with ``{"phase", "engine", "elapsed_s", "time_limit_s", "share",
    "best_cost"}`` while solving (see :mod:`recyclenet.progress`). The other parameters are those
    of :func:`_solve_routing`.
    """
    if progress is None:
        return _solve_routing(problem, engine=engine, time_limit_s=time_limit_s, seed=seed,
                              deadline=deadline, deterministic=deterministic)  # fmt: skip
    budget = deadline if deadline is not None else Deadline.after(time_limit_s)
    if deterministic:  # counts end the searches: no time limit to report a share of
        budget = Deadline.never()
    with _progress.reporting(progress, budget):
        _progress.phase("solving")
        plan = _solve_routing(problem, engine=engine, time_limit_s=time_limit_s, seed=seed,
                              deadline=deadline, deterministic=deterministic)  # fmt: skip
        _progress.incumbent(plan.engine, plan.objective if plan.routes else None)
        _progress.phase("done")
    return plan


def _solve_routing(
    problem: RoutingProblem,
    *,
    engine: Engine = "auto",
    time_limit_s: float = 10.0,
    seed: int = 0,
    deadline: Deadline | None = None,
    deterministic: bool = False,
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
        each break on the first leg that keeps the route feasible.
        Every engine's routes pass the feasibility gate (:mod:`.gate`): checked with
        :func:`~recyclenet.routing.check_plan`, failing visits dropped and re-inserted
        where they fit; "auto" compares the gated plans, so it never returns a plan
        with a violation. When the problem has facilities, every route ends with an
        unload at one before returning to its depot (:mod:`.delivery`).
    time_limit_s : float
        Wall-clock limit for the whole call, seconds.
    deadline : Deadline, optional
        The caller's deadline (part of a larger budget); when given it replaces
        ``time_limit_s``.
    seed : int
        Seed of PyVRP's search (OR-Tools' search is deterministic).
    deterministic : bool
        Reproducible plans: the same problem and seed give the same plan, byte for byte.
        The engines stop on iteration and solution counts instead of the clock (PyVRP:
        its no-improvement rule; OR-Tools: greedy descent to a local optimum, at most
        :data:`DETERMINISTIC_SOLUTIONS` solutions),
        "auto" runs one engine in this process, the repair is not time-bounded, and the
        plan carries no timings. ``time_limit_s`` is then not enforced.

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

    # engines stop early enough to leave time for evaluating and checking their routes
    deadline = call.earlier(_MARGIN_S + _POST_S_PER_ORDER * len(problem.orders))
    if deterministic:  # counts, not the clock, end every search and the repair
        call = deadline = Deadline.never()
    original = problem
    # the day ends delivered: engines see vehicles ending at a facility (see .delivery)
    problem = with_final_unload(original)
    finals = {t: leg.facility_id for t, leg in final_legs(original).items()}
    diag = diagnose(problem)
    stats: dict[str, Any] = {"engine_requested": engine, "time_limit_s": float(time_limit_s),
                             "seed": seed, "engines": {}}  # fmt: skip
    if deterministic:
        stats["deterministic"] = True
    if finals:
        stats["final_unload"] = finals
    if len(diag.unserved) == len(problem.orders):
        return build_plan(original, (), engine="none", status="no_orders",
                          unserved=diag.unserved,
                          time_s=0.0 if deterministic else call.elapsed_s(),
                          statistics=stats)  # fmt: skip
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
    runs: list[tuple[str, EngineResult]] = []
    limit = DETERMINISTIC_SOLUTIONS if deterministic else None
    if engine == "ortools" or (engine == "auto" and not fits):
        stats["choice"] = "ortools requested" if engine == "ortools" else f"ortools: {why}"
        runs.append(("ortools", _run_ortools(problem, diag, deadline, seed,
                                             solution_limit=limit)))  # fmt: skip
    elif (engine == "pyvrp" or _cores() < 2 or time_limit_s < PARALLEL_MIN_TIME_S
          or deterministic):  # fmt: skip
        stats["choice"] = ("pyvrp requested" if engine == "pyvrp"
                           else "pyvrp: deterministic (one search, here)" if deterministic
                           else "pyvrp: one core or a time limit under "
                                f"{PARALLEL_MIN_TIME_S:g} s")  # fmt: skip
        runs.append(("pyvrp", _run_pyvrp(pyvrp_problem, diag, deadline, seed)))
    elif pyvrp_problem is not problem:
        stats["choice"] = ("pyvrp (breaks placed after solving) in a second process and "
                           "ortools (models breaks exactly) here, each until the deadline on "
                           "its own core; better plan kept")  # fmt: skip
        child = _start_child(pyvrp_problem, diag, deadline, seed)
        runs.append(("ortools", _run_ortools(problem, diag, deadline, seed)))
        runs.append(("pyvrp", _collect_child(child, deadline)))
    else:
        stats["choice"] = (f"two pyvrp searches (seeds {seed} and {seed + 1}), one per core, "
                           "each until the deadline or its no-improvement rule; better plan "
                           "kept (the problem fits PyVRP's model: no OR-Tools)")  # fmt: skip
        # the second search yields to the first on a busy machine (SECOND_SEARCH_NICE)
        child = _start_child(pyvrp_problem, diag, deadline, seed + 1, SECOND_SEARCH_NICE)
        runs.append(("pyvrp", _run_pyvrp(pyvrp_problem, diag, deadline, seed)))
        runs.append(("pyvrp#2", _collect_child(child, deadline)))
    if pyvrp_problem is not problem:  # breaks put back on PyVRP's routes (the gate checks)
        runs = [(k, replace(r, routes=place_breaks(problem, r.routes))
                 if r.engine == "pyvrp" and r.found else r) for k, r in runs]  # fmt: skip
    if (engine == "auto" and not any(r.found or r.engine == "ortools" for _k, r in runs)
            and deadline.remaining_s() > 0.2):  # fmt: skip
        stats["choice"] += "; ortools after PyVRP found no plan"
        runs.append(("ortools", _run_ortools(problem, diag, deadline, seed,
                                             solution_limit=limit)))  # fmt: skip
    if not runs:
        raise SolverError("no engine ran")
    plans = []
    _progress.phase("checking")
    for label, res in runs:
        info: dict[str, Any] = {"engine": res.engine, "found": res.found,
                                "time_s": res.time_s, **res.detail}  # fmt: skip
        stats["engines"][label] = info
        plans.append((label, _gated(original, res, diag, call, finals, info)))
    label, best = min(plans, key=lambda t: _key(t[1]))
    stats["kept"] = label
    if deterministic:  # no timings: the same plan byte for byte
        for info in stats["engines"].values():
            for part in (info, info.get("first_model") or {}):
                for key in _TIMINGS:
                    part.pop(key, None)
        return replace(best, time_s=0.0, statistics=stats)
    return replace(best, time_s=call.elapsed_s(), statistics=stats)


def _gated(problem: RoutingProblem, res: EngineResult, diag: Diagnosis, call: Deadline,
           finals: dict[str, str], info: dict[str, Any]) -> RoutePlan:  # fmt: skip
    """The feasibility gate: an engine's routes checked, repaired (see :mod:`.gate`), and
    checked again; a route that still fails is dropped whole, so no plan with a
    violation leaves :func:`solve_routing`."""
    if not res.found:
        info["objective"] = None
        return build_plan(problem, (), engine=res.engine, status="no_solution",
                          unserved=diag.unserved)  # fmt: skip
    raw = restore_final_unload(problem, res.routes)
    raw, report = repair(problem, raw, diag, deadline=call.earlier(_MARGIN_S), final_stops=finals)
    if report.violations or report.no_room or report.moved_unloads:
        info["gate"] = report.to_dict()
    unserved = (*diag.unserved, *report.unserved(problem))
    plan = build_plan(problem, raw, engine=res.engine, status="feasible", unserved=unserved)
    bad = check_plan(plan, problem)
    if bad:  # the repair missed something: never return it
        info["rejected_routes"] = [str(v) for v in bad[:10]]
        failing = {v.vehicle_id for v in bad}
        if any(v.vehicle_id is None and v.kind == "facility_capacity" for v in bad):
            over = {v.order_id for v in bad if v.kind == "facility_capacity"}
            failing |= {r.vehicle_id for r in plan.routes if over & set(r.delivered_kg)}
        plan = build_plan(problem, [r for r in raw if r.vehicle_id not in failing],
                          engine=res.engine, status="feasible",
                          unserved=unserved)  # fmt: skip
    info["objective"] = plan.objective
    return plan


class _Child:
    """A PyVRP search in a second process: forked where the platform can (instant, the
    problem is not copied), else a fresh interpreter running ``_child.py`` (importing
    recyclenet there takes a second or more)."""

    def __init__(self, pid: int, fd: int | None, popen: subprocess.Popen[bytes] | None = None,
                 tmp: tempfile.TemporaryDirectory[str] | None = None) -> None:  # fmt: skip
        self.pid, self.fd, self.popen, self.tmp = pid, fd, popen, tmp


def _start_child(problem: RoutingProblem, diag: Diagnosis, deadline: Deadline, seed: int,
                 nice: int = 0) -> _Child:  # fmt: skip
    """Start PyVRP on ``problem`` in a second process, until ``deadline`` (less the time
    to hand its answer back), ``nice`` levels below this one (see :func:`yield_cpu`)."""
    child_deadline = deadline.earlier(_CHILD_MARGIN_S)
    if hasattr(os, "fork"):
        r, w = os.pipe()
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - runs in the forked child
            try:
                # a session of its own: with the kernel's autogroup scheduling, processes
                # of one session share one session's CPU time, so on a busy machine the
                # second search would only halve the first one's share instead of adding
                # a core (measured: 978 + 878 iterations in 10 s against 1,790 alone)
                os.setsid()
                yield_cpu(nice)
                os.close(r)
                die_with_parent(parent)  # a killed solve leaves no PyVRP search behind
                try:
                    answer: object = _run_pyvrp(problem, diag, child_deadline, seed)
                except BaseException as exc:  # reported to the parent
                    answer = f"{type(exc).__name__}: {exc}"
                with os.fdopen(w, "wb") as fh:
                    fh.write(pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL))
            finally:
                os._exit(0)
        os.close(w)
        return _Child(pid, r)
    tmp = tempfile.TemporaryDirectory(prefix="recyclenet-")
    src = os.path.join(tmp.name, "in.pickle")
    with open(src, "wb") as fh:
        pickle.dump((problem, diag, child_deadline, seed, nice), fh,
                    protocol=pickle.HIGHEST_PROTOCOL)  # fmt: skip
    env = dict(os.environ)
    pkg_root = str(Path(__file__).resolve().parents[2])  # the dir holding recyclenet/
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [pkg_root, env.get("PYTHONPATH")]))
    proc = start_helper(  # dies with this process, even if it is killed
        [sys.executable, "-m", "recyclenet.routing._child", src, src + ".out"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env=env,
    )  # fmt: skip
    return _Child(proc.pid, None, proc, tmp)


def _collect_child(child: _Child, deadline: Deadline) -> EngineResult:
    """The child's answer (waiting for it until just after ``deadline``); the child is
    stopped and its files removed."""
    late = deadline.earlier(-_MARGIN_S / 2)
    try:
        msg = _read_pipe(child.fd, late) if child.fd is not None else _read_file(child, late)
    finally:
        if child.popen is not None:
            if child.popen.poll() is None:
                child.popen.kill()
            child.popen.wait()
        else:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child.pid, signal.SIGKILL)
            os.waitpid(child.pid, 0)
        if child.tmp is not None:
            child.tmp.cleanup()
    if isinstance(msg, EngineResult):
        return msg
    return EngineResult("pyvrp", (), False, 0.0, {"error": str(msg)})


def _read_pipe(fd: int, late: Deadline) -> object:
    chunks: list[bytes] = []
    with os.fdopen(fd, "rb", buffering=0) as fh:
        while True:
            ready, _w, _x = select.select([fh], [], [], max(0.0, late.remaining_s()))
            if not ready:
                return "no answer in time"
            chunk = fh.read(1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
    if not chunks:
        return "PyVRP process ended without an answer"
    try:
        return pickle.loads(b"".join(chunks))
    except (EOFError, pickle.UnpicklingError) as exc:
        return f"unreadable answer: {exc}"


def _read_file(child: _Child, late: Deadline) -> object:
    assert child.popen is not None and child.tmp is not None
    dst = os.path.join(child.tmp.name, "in.pickle.out")
    while True:  # the answer file appears (atomically) before the child exits
        if os.path.exists(dst):
            try:
                with open(dst, "rb") as fh:
                    return pickle.load(fh)
            except (OSError, EOFError, pickle.UnpicklingError) as exc:
                return f"unreadable answer: {exc}"
        if child.popen.poll() is not None and not os.path.exists(dst):
            return f"PyVRP process ended without an answer (exit code {child.popen.returncode})"
        if late.expired():
            return "no answer in time"
        time.sleep(0.005)
