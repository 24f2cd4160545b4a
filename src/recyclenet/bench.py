"""Benchmark instances solved from the command line: CVRPLIB/Solomon, OR-Library p-median
and CFLP, one result per instance compared to a reference value.

``recyclenet bench vrplib|pmedian|cflp FILE... [--reference CSV]`` prints one JSON line per
instance (see :func:`bench_result`). The reference of an instance is, in order: the row of
``--reference`` whose ``instance`` is the file's stem (the value in its first column named
``reference``, ``cost``, ``objective``, ``distance``, ``bks``, ``optimal`` or ``value`` that
is a number: the tables of CVRPLIB, OR-Library and ``/work/shared/benchmarks`` all fit),
else for CVRPLIB the ``.sol`` file beside the instance.
"""

from __future__ import annotations

import csv
import math
import time
from pathlib import Path
from typing import Any

from .errors import InputError

REFERENCE_COLUMNS = ("reference", "cost", "objective", "distance", "bks", "optimal", "value")


def read_reference(path: str | Path | None) -> dict[str, float]:
    """Instance name → reference value from a CSV (see the module docstring)."""
    if path is None:
        return {}
    from .readers import decode_text

    p = Path(path)
    try:
        text = decode_text(p.read_bytes(), str(p))
    except OSError as exc:
        raise InputError(f"cannot read {p}: {exc}") from None
    rows = list(csv.DictReader(ln for ln in text.splitlines() if not ln.startswith("#")))
    if not rows or "instance" not in rows[0]:
        raise InputError(f"{p}: a reference CSV needs an 'instance' column and one of "
                         f"{', '.join(REFERENCE_COLUMNS)}")  # fmt: skip
    out: dict[str, float] = {}
    for row in rows:
        for col in REFERENCE_COLUMNS:
            try:
                out[row["instance"].strip()] = float(row.get(col) or "")
                break
            except ValueError:
                continue
    return out


def bench_result(instance: str, key: str, value: float, status: str, time_s: float,
                 reference: float | None) -> dict[str, Any]:  # fmt: skip
    """``{instance, cost|objective, status, time_s, reference, gap}``; gap = (value -
    reference) / reference, None without a reference or a value."""
    finite = value is not None and math.isfinite(value)
    gap = (value - reference) / reference if finite and reference else None
    return {"instance": instance, key: round(value, 6) if finite else None, "status": status,
            "time_s": round(time_s, 3), "reference": reference,
            "gap": None if gap is None else round(gap, 6)}  # fmt: skip


def bench_vrplib(
    path: str | Path, *, engine: str = "auto", time_limit_s: float = 10.0, seed: int = 0,
    reference: dict[str, float] | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Solve a CVRPLIB or Solomon instance; ``cost`` in the instance's units (None when
    some customer is unserved)."""
    from .routing import solve_routing
    from .routing.instances import cost_scale, load_instance, reference_cost

    p = Path(path)
    problem = load_instance(p)
    t0 = time.perf_counter()
    plan = solve_routing(problem, engine=engine, time_limit_s=time_limit_s, seed=seed)  # type: ignore[arg-type]
    elapsed = time.perf_counter() - t0
    cost = plan.cost / cost_scale(p) if not plan.unserved else math.nan
    ref = (reference or {}).get(p.stem)
    if ref is None:
        ref = reference_cost(p)
    status = plan.status if not plan.unserved else f"{plan.status}, {len(plan.unserved)} unserved"
    return bench_result(p.stem, "cost", cost, status, elapsed, ref)


def bench_siting(
    path: str | Path, *, model: str, time_limit_s: float = 30.0, seed: int = 0,
    capacity: float | None = None, reference: dict[str, float] | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Solve an OR-Library ``pmedK`` (``model="pmedian"``) or ``capXX`` (``"cflp"``;
    ``capacity`` replaces the word ``capacity`` of capa/capb/capc) instance."""
    from .siting import solve_siting
    from .siting.orlib import cap_problem, pmed_problem, read_cap, read_pmed

    p = Path(path)
    if not p.is_file():
        raise InputError(f"instance file not found: {p}")
    if model == "pmedian":
        problem = pmed_problem(*read_pmed(p))
    elif model == "cflp":
        problem = cap_problem(*read_cap(p, capacity))
    else:
        raise InputError(f"unknown siting benchmark {model!r}; use pmedian or cflp")
    t0 = time.perf_counter()
    plan = solve_siting(problem, time_limit_s=time_limit_s, seed=seed)
    elapsed = time.perf_counter() - t0
    ref = (reference or {}).get(p.stem)
    return bench_result(p.stem, "objective", plan.objective, plan.status, elapsed, ref)
