"""Plan assembly: an :class:`Outcome` (positions) becomes a :class:`SitingPlan` (ids).

Assignments default to the nearest open site (within the radius for max coverage)
unless the family gave explicit shares; indicators are household-weighted.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

from ._context import Outcome, relative_gap
from .plan import Assignment, Indicators, SitingPlan
from .problem import SitingProblem

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


def _weighted_percentile(values: FloatArray, weights: FloatArray, q: float) -> float:
    ok = np.isfinite(values) & (weights > 0)
    if not ok.any():
        return math.nan
    v, w = values[ok], weights[ok]
    order = np.argsort(v)
    v, w = v[order], w[order]
    cum = np.cumsum(w) / w.sum()
    return float(v[min(int(np.searchsorted(cum, q / 100.0 - 1e-12)), v.size - 1)])


def assignment_indicators(
    *,
    households_total: float,
    weights: FloatArray,
    distance_m: FloatArray,
    duration_s: FloatArray,
    share_within_radius: float,
    households_by_site: Mapping[str, float],
    load_by_site: Mapping[str, float],
    capacity_by_site: Mapping[str, float],
) -> Indicators:
    """Plan indicators from assignment rows and per-open-site totals.

    ``weights`` are households × share of each assignment row, ``distance_m`` and
    ``duration_s`` its access distance and time; the three mappings are keyed by open
    site id, in plan order (capacity ``inf`` = none, so no utilisation).
    """

    def wmean(v: FloatArray) -> float:
        ok = np.isfinite(v) & (weights > 0)
        return float(np.average(v[ok], weights=weights[ok])) if ok.any() else math.nan

    per = np.array(list(households_by_site.values()), dtype=float)
    return Indicators(
        households_total=float(households_total),
        households_assigned=float(weights.sum()),
        # split rows' shares sum to 1 only up to rounding: a share is never above 1
        share_households_within_radius=min(share_within_radius, 1.0)
        if math.isfinite(share_within_radius)
        else share_within_radius,
        access_distance_mean_m=wmean(distance_m),
        access_distance_p95_m=_weighted_percentile(distance_m, weights, 95),
        access_duration_mean_s=wmean(duration_s),
        access_duration_p95_s=_weighted_percentile(duration_s, weights, 95),
        households_per_station_min=float(per.min()) if per.size else math.nan,
        households_per_station_mean=float(per.mean()) if per.size else math.nan,
        households_per_station_max=float(per.max()) if per.size else math.nan,
        load_by_site={k: float(v) for k, v in load_by_site.items()},
        utilisation_by_site={
            k: float(load_by_site[k] / c) if math.isfinite(c) and c > 0 else math.nan
            for k, c in capacity_by_site.items()
        },
    )


def build_plan(problem: SitingProblem, out: Outcome, cost: FloatArray, time_s: float) -> SitingPlan:
    sites = problem.sites
    n = len(problem.demand)
    ids = problem.site_ids
    mx = problem.matrix
    r_map = {k: i for i, k in enumerate(mx.origin_ids)}
    c_map = {k: i for i, k in enumerate(mx.destination_ids)}
    r_pos = np.array([r_map[i] for i in problem.demand_ids], dtype=np.int64)
    c_pos = np.array([c_map[i] for i in ids], dtype=np.int64)
    hh = np.array([d.households for d in problem.demand])
    load = problem.load_array()
    cap = problem.capacity_array()
    open_mask = out.open_mask if out.open_mask is not None else np.zeros(len(sites), dtype=bool)
    shares: list[tuple[int, int, float]]
    if out.shares is not None:
        shares = out.shares
    elif open_mask.any():
        open_pos = np.nonzero(open_mask)[0]
        masked = cost[:, open_pos]
        slot = np.argmin(masked, axis=1)
        best = masked[np.arange(n), slot]
        if problem.model == "max_coverage":
            assert problem.radius is not None
            ok = best <= problem.radius
        else:
            ok = np.isfinite(best)
        shares = [(int(i), int(open_pos[slot[i]]), 1.0) for i in np.nonzero(ok)[0]]
    else:
        shares = []
    a_i = np.array([i for i, _, _ in shares], dtype=np.int64)
    a_j = np.array([j for _, j, _ in shares], dtype=np.int64)
    a_s = np.array([s for _, _, s in shares], dtype=float)
    d_vals = np.asarray(mx.distance_m)[r_pos[a_i], c_pos[a_j]] if shares else np.zeros(0)
    t_vals = np.asarray(mx.duration_s)[r_pos[a_i], c_pos[a_j]] if shares else np.zeros(0)
    dem_ids = problem.demand_ids
    assignment = tuple(
        Assignment(dem_ids[i], ids[j], s, float(dv), float(tv))
        for (i, j, s), dv, tv in zip(shares, d_vals, t_vals, strict=True)
    )
    assigned = np.zeros(n, dtype=bool)
    assigned[a_i] = True
    served_by = np.bincount(a_i, minlength=n) if shares else np.zeros(n, dtype=np.int64)
    split_rows = np.nonzero(served_by > 1)[0].tolist()
    w_h = hh[a_i] * a_s
    site_hh = (
        np.bincount(a_j, weights=w_h, minlength=len(sites)) if shares else np.zeros(len(sites))
    )
    site_load = (
        np.bincount(a_j, weights=load[a_i] * a_s, minlength=len(sites))
        if shares
        else np.zeros(len(sites))
    )
    open_pos = np.nonzero(open_mask)[0]
    within = math.nan
    if problem.radius is not None and hh.sum() > 0:
        in_r = cost[a_i, a_j] <= problem.radius if shares else np.zeros(0, dtype=bool)
        within = float((w_h * in_r).sum() / hh.sum())

    indicators = assignment_indicators(
        households_total=float(hh.sum()),
        weights=w_h,
        distance_m=d_vals,
        duration_s=t_vals,
        share_within_radius=within,
        households_by_site={ids[j]: float(site_hh[j]) for j in open_pos},
        load_by_site={ids[j]: float(site_load[j]) for j in open_pos},
        capacity_by_site={ids[j]: float(cap[j]) for j in open_pos},
    )
    existing = np.array([s.status == "existing" for s in sites])
    return SitingPlan(
        model=problem.model,
        metric=problem.metric,
        status=out.status,
        objective=out.objective,
        bound=out.bound,
        gap=relative_gap(out.objective, out.bound),
        time_s=time_s,
        open_ids=tuple(ids[j] for j in open_pos),
        opened_ids=tuple(ids[j] for j in open_pos if not existing[j]),
        kept_ids=tuple(ids[j] for j in open_pos if existing[j]),
        closed_ids=tuple(ids[j] for j in np.nonzero(existing & ~open_mask)[0]),
        assignment=assignment,
        unassigned_ids=tuple(problem.demand[int(i)].id for i in np.nonzero(~assigned)[0]),
        unassigned_reasons=_reasons(problem, assigned, bool(open_mask.any())),
        split_ids=tuple(problem.demand_ids[i] for i in sorted(set(split_rows))),
        warnings=_warnings(problem, indicators, len(open_pos)),
        indicators=indicators,
        heuristic_objective=out.heuristic_objective,
        solver=out.solver,
        message=out.message,
    )


#: Warn when the mean households per open station is below this share of the norm.
DEGENERATE_SHARE = 0.25


def _reasons(problem: SitingProblem, assigned: BoolArray, any_open: bool) -> dict[str, str]:
    """Why each unassigned demand point is not served."""
    known = problem.uncoverable_reasons()
    out: dict[str, str] = {}
    for i in np.nonzero(~assigned)[0].tolist():
        if i in known:
            out[problem.demand_ids[i]] = known[i]
        elif not any_open:
            out[problem.demand_ids[i]] = "no plan (no open site)"
        elif problem.model == "max_coverage":
            out[problem.demand_ids[i]] = "outside the radius of the p open sites"
        else:
            out[problem.demand_ids[i]] = "no open site reachable"
    return out


def _warnings(problem: SitingProblem, ind: Indicators, n_open: int) -> tuple[str, ...]:
    """Doubts about a plan a planner should see (degenerate results)."""
    out: list[str] = []
    norm = problem.households_per_station
    mean = ind.households_per_station_mean
    if n_open and math.isfinite(mean) and mean < DEGENERATE_SHARE * norm:
        why = {
            "cflp": "site fixed costs too low for the access costs (give sites a fixed cost)",
            "p_median": "p is large for this demand",
            "max_coverage": "p is large for this demand",
            "min_stations": "the radius, not the capacity, sets the number of stations",
        }[problem.model]
        out.append(
            f"{n_open} stations serve {mean:.0f} households each on average, far below the "
            f"norm of {norm:g}: {why}; check the demand estimate too"
        )
    if ind.households_total > 0 and ind.households_assigned < 0.5 * ind.households_total:
        out.append(
            f"only {ind.households_assigned:.0f} of {ind.households_total:.0f} households "
            "are assigned to a station"
        )
    return tuple(out)
