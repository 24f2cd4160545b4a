"""Breaks for engines without a break model (PyVRP): each on the first leg that works."""

from __future__ import annotations

from collections.abc import Sequence

from .check import check_context, route_violations
from .evaluate import evaluate_route
from .plan import RawRoute
from .problem import RoutingProblem


def place_breaks(problem: RoutingProblem, raw_routes: Sequence[RawRoute]) -> tuple[RawRoute, ...]:
    """Put each needed break on the first leg where the route stays feasible.

    For engines without a break model (PyVRP solves with shifts shortened by the break
    length). Routes that do not span their break window keep no break; a route where no
    leg works keeps none and :func:`check_plan` reports it.
    """
    types_by_vehicle = dict(problem.vehicles())
    ctx = check_context(problem)
    out = []
    for r in raw_routes:
        vt = types_by_vehicle[r.vehicle_id]
        if vt.break_window is None or not r.stops:
            out.append(r)
            continue
        chosen = r
        # leaving earlier by the break length absorbs the break when windows are tight
        earlier = max(vt.shift[0], r.start_s - vt.break_s)
        depot_tw = ctx[3][vt.start_id].time_window
        if depot_tw is not None:
            earlier = max(earlier, depot_tw[0])
        starts = [r.start_s] if earlier >= r.start_s else [r.start_s, earlier]
        candidates = [(None, r.start_s)] + [(leg, t) for t in starts
                                            for leg in range(len(r.stops) + 1)]  # fmt: skip
        for leg, t in candidates:
            cand = RawRoute(r.vehicle_id, r.stops, t, leg)
            route = evaluate_route(problem, cand, vt)
            if not route_violations(route, vt, problem, ctx, {}, 1e-3):
                chosen = cand
                break
        out.append(chosen)
    return tuple(out)
