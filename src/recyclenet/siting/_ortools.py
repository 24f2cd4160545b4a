"""The one adapter between recyclenet and OR-Tools (linear and mixed-integer solvers).

Formulations are built elsewhere as a solver-neutral :class:`LinearModel` (numpy arrays
and a scipy CSR matrix); this module turns it into an OR-Tools ``model_builder`` model
in one vectorised call (``fill_model_from_sparse_data``: no Python loop over the
hundreds of thousands of assignment variables), solves it with HiGHS or SCIP, and maps
the answer to a :class:`MipResult`. No OR-Tools object or index leaves this module.

The wall-clock limit is hard. The solver gets the limit as a parameter, but a solver
can overrun it (HiGHS presolve on a large all-binary p-median did in a trial). So the
solve runs in a forked child process; if the child has not answered by the deadline
(plus a small grace period) it is killed and the caller gets
``time_limit_no_solution`` and falls back to its heuristic plan. Where ``fork`` is not
available the solve runs in-process and only the solver's own limit applies.

Solver choice, measured here (OR-Tools 9.15, HiGHS 1.12, SCIP from the same wheel, one
thread): HiGHS is the default. On the full strong p-median of OR-Library pmed6 (40,000
assignment variables) HiGHS took 10 s and SCIP 54 s; on a 1,000 x 200 random p-median
restricted to 30 nearest sites, 11 s and 42 s (SCIP with the incumbent as hint). SCIP
stays available with ``solver="scip"``. HiGHS *crashes* (SIGSEGV) when given a hint
through ``model_builder``, so no hint is passed to HiGHS; the incumbent is kept by the
caller, which is also why a killed solve loses nothing. CP-SAT was not measured: the
costs are real-valued and would have to be scaled to integers.
"""

from __future__ import annotations

import contextlib
import math
import multiprocessing as mp
import os
import time
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from ortools.linear_solver.python import model_builder as mb

from .. import progress
from ..errors import SolverError
from ..procs import die_with_parent
from .linear_model import LinearModel

MipStatus = Literal["optimal", "feasible", "infeasible", "time_limit_no_solution"]
SolverName = Literal["highs", "scip"]

#: Seconds the child may overrun the limit before it is killed (model transfer, exit).
GRACE_S = 1.0
#: Seconds between progress reports of elapsed time while the MIP child runs.
TICK_S = 0.25


@dataclass(frozen=True)
class MipResult:
    """What a solve returned.

    Attributes
    ----------
    status : {"optimal", "feasible", "infeasible", "time_limit_no_solution"}
    values : ndarray or None
        Variable values of the best solution (None without one).
    objective : float
        Objective of ``values`` (nan without a solution).
    bound : float
        Best proven bound (lower for min, upper for max; nan if unknown).
    time_s : float
        Wall-clock seconds, model building included.
    solver : str
    killed : bool
        True if the child process had to be killed at the deadline.
    """

    status: MipStatus
    values: npt.NDArray[np.float64] | None
    objective: float
    bound: float
    time_s: float
    solver: str
    killed: bool = False
    error: str = ""


def _build_and_solve(
    model: LinearModel,
    time_limit_s: float,
    hint: npt.NDArray[np.float64] | None,
    solver: str,
    relative_gap: float,
    threads: int,
    seed: int,
) -> dict[str, Any]:
    """Solve in the current process; returns plain data (picklable)."""
    t0 = time.perf_counter()
    m = mb.Model()
    h = m.helper
    data: tuple[Any, ...] = (
        np.ascontiguousarray(model.var_lb, dtype=np.float64),
        np.ascontiguousarray(model.var_ub, dtype=np.float64),
        np.ascontiguousarray(model.obj, dtype=np.float64),
        np.ascontiguousarray(model.row_lb, dtype=np.float64),
        np.ascontiguousarray(model.row_ub, dtype=np.float64),
        sp.csr_matrix(model.A, dtype=np.float64),
    )
    h.fill_model_from_sparse_data(*data)
    for k in np.nonzero(model.is_integer)[0]:
        h.set_var_integrality(int(k), True)
    h.set_maximize(bool(model.maximize))
    if model.obj_offset:
        h.set_objective_offset(float(model.obj_offset))
    if hint is not None:
        for k in np.nonzero(model.is_integer)[0]:
            h.add_hint(int(k), float(hint[k]))
    s = mb.Solver(solver)
    if not s.solver_is_supported():
        raise SolverError(f"OR-Tools in this environment has no {solver!r} solver")
    remaining = max(0.05, time_limit_s - (time.perf_counter() - t0))
    s.set_time_limit_in_seconds(remaining)
    if solver == "highs":
        s.set_solver_specific_parameters(
            f"mip_rel_gap={relative_gap}\nthreads={threads}\nrandom_seed={seed}\nmip_abs_gap=1e-9"
        )
    elif solver == "scip":
        s.set_solver_specific_parameters(
            f"limits/gap = {relative_gap}\nrandomization/randomseedshift = {seed}\n"
            "limits/absgap = 1e-9"
        )
    st = s.solve(m)
    name = str(st).split(".")[-1]
    out: dict[str, Any] = {"raw_status": name, "values": None, "objective": math.nan}
    if name in ("OPTIMAL", "FEASIBLE"):
        vals = np.asarray(s.values(m.get_variables()), dtype=np.float64)
        out["values"] = vals
        out["objective"] = float(model.obj @ vals + model.obj_offset)
    with contextlib.suppress(Exception):
        out["bound"] = float(s.best_objective_bound)
    return out


def _child(conn: Any, args: tuple[Any, ...], parent: int) -> None:  # pragma: no cover
    die_with_parent(parent)  # a killed solve leaves no MIP process behind
    try:
        # solver banners go to fd 1; keep the parent's stdout clean
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        conn.send(("ok", _build_and_solve(*args)))
    except BaseException as exc:  # report anything to the parent
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        conn.close()


def _to_result(
    raw: dict[str, Any], model: LinearModel, t0: float, solver: str, time_limit_s: float
) -> MipResult:
    name = raw["raw_status"]
    values = raw.get("values")
    bound = float(raw.get("bound", math.nan))
    elapsed = time.perf_counter() - t0
    if name == "OPTIMAL":
        status: MipStatus = "optimal"
    elif name == "FEASIBLE":
        status = "feasible"
    elif name == "INFEASIBLE":
        status = "infeasible"
    elif name in ("NOT_SOLVED", "UNKNOWN_STATUS", "CANCELLED_BY_USER", "ABNORMAL"):
        status = "time_limit_no_solution"
    else:
        raise SolverError(f"{solver} returned {name} on a siting model (time {elapsed:.1f} s)")
    if values is not None and status == "optimal" and not math.isfinite(bound):
        bound = raw["objective"]
    if values is None:
        status = "infeasible" if status == "infeasible" else "time_limit_no_solution"
    if not math.isfinite(bound):
        bound = math.nan
    return MipResult(status, values, float(raw["objective"]), bound, elapsed, solver)


def solve_mip(
    model: LinearModel,
    *,
    time_limit_s: float,
    hint: npt.NDArray[np.float64] | None = None,
    solver: SolverName = "highs",
    relative_gap: float = 1e-6,
    threads: int = 1,
    seed: int = 0,
    isolate: bool = True,
) -> MipResult:
    """Solve a :class:`LinearModel` within a hard wall-clock limit.

    Parameters
    ----------
    model : LinearModel
    time_limit_s : float
        Wall-clock seconds for building and solving; the call returns within this
        plus ``GRACE_S`` whatever the solver does.
    hint : ndarray, optional
        A (feasible) solution; its integer part is passed as a hint.
    solver : {"highs", "scip"}
    relative_gap : float
        Stop when (objective − bound) / |objective| falls below this.
    threads : int
    seed : int
        Solver random seed.
    isolate : bool, default True
        Run in a forked child process that is killed at the deadline.

    Returns
    -------
    MipResult
    """
    t0 = time.perf_counter()
    args = (model, float(time_limit_s), hint, solver, relative_gap, threads, seed)
    use_fork = isolate and "fork" in mp.get_all_start_methods() and os.name == "posix"
    if not use_fork:
        return _to_result(_build_and_solve(*args), model, t0, solver, time_limit_s)
    ctx = mp.get_context("fork")
    parent, child_end = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(child_end, args, os.getpid()), daemon=True)
    proc.start()
    child_end.close()
    deadline = t0 + time_limit_s + GRACE_S
    msg: tuple[str, Any] | None = None
    try:
        # wait in short slices: elapsed time reaches the progress report meanwhile
        while not (ready := parent.poll(min(TICK_S, max(0.0, deadline - time.perf_counter())))):
            if time.perf_counter() >= deadline or not proc.is_alive():
                break
            progress.tick()
        if ready or parent.poll(0):
            with contextlib.suppress(EOFError):
                msg = parent.recv()
    finally:
        if proc.is_alive():
            proc.kill()
        proc.join(timeout=5)
        parent.close()
    if msg is None and proc.exitcode not in (None, 0, -9):
        # the solver process died (a crash inside the solver library): no solution, and
        # the caller falls back to its incumbent
        return MipResult(
            "time_limit_no_solution",
            None,
            math.nan,
            math.nan,
            time.perf_counter() - t0,
            solver,
            error=f"{solver} process ended with exit code {proc.exitcode}",
        )
    if msg is None:
        return MipResult(
            "time_limit_no_solution",
            None,
            math.nan,
            math.nan,
            time.perf_counter() - t0,
            solver,
            killed=True,
        )
    kind, payload = msg
    if kind == "error":
        raise SolverError(f"{solver} failed on a siting model: {payload}")
    return _to_result(payload, model, t0, solver, time_limit_s)
