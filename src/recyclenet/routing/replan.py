"""Re-planning a day in progress: fixed prefixes stay, the rest is re-optimised."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping, Sequence

from ..deadline import Deadline
from ..errors import InputError
from ..matrix import Matrix
from .check import check_plan, check_plan_ids
from .delivery import restore_final_unload, with_final_unload
from .evaluate import build_plan
from .plan import RoutePlan
from .problem import Order, RoutingProblem
from .unserved import Diagnosis, diagnose


def fixed_stops(
    plan: RoutePlan,
    *,
    order_ids: Iterable[str],
    fixed_order_ids: Iterable[str],
    cancelled_order_ids: Iterable[str] = (),
    added_order_ids: Iterable[str] = (),
) -> dict[str, tuple[str, ...]]:
    """Check a re-planning request against a plan; the stops each vehicle keeps.

    Needs ids only (no matrices), so a service can reject a bad request before solving;
    :func:`replan` runs the same checks.

    Parameters
    ----------
    plan : RoutePlan
        The plan being carried out.
    order_ids : iterable of str
        Order ids of the problem the plan was made for.
    fixed_order_ids : iterable of str
        Orders done or started; on each route they must form a prefix of its orders.
    cancelled_order_ids : iterable of str
        Orders to drop; none of them may be fixed.
    added_order_ids : iterable of str
        Ids of new orders; they may not reuse the id of an order that stays.

    Returns
    -------
    dict
        Vehicle id -> location ids of its fixed stops (orders and the unload stops
        between them), in visiting order; vehicles with nothing fixed are left out.

    Raises
    ------
    InputError
        Naming the offending order ids.
    """
    fixed = set(fixed_order_ids)
    cancelled = set(cancelled_order_ids)
    known = set(order_ids)
    for label, ids in (("fixed", fixed), ("cancelled", cancelled)):
        unknown = sorted(ids - known)
        if unknown:
            raise InputError(f"{label} order ids not in the problem: {unknown[:10]}")
    both = sorted(fixed & cancelled)
    if both:
        raise InputError(f"orders {both} are both fixed (done or started) and cancelled")
    served = set(plan.served_order_ids)
    not_served = sorted(fixed - served)
    if not_served:
        raise InputError(f"fixed orders {not_served} are not on any route of the plan")
    clash = sorted(set(added_order_ids) & (known - cancelled))
    if clash:
        raise InputError(f"added orders reuse existing ids {clash}")

    locks: dict[str, tuple[str, ...]] = {}
    for r in plan.routes:
        stops = [v for v in r.visits if v.kind in ("order", "unload")]
        n_fixed = 0
        for k, v in enumerate(stops):
            if v.kind == "order" and v.order_id in fixed:
                n_fixed = k + 1
        prefix = stops[:n_fixed]
        gaps = [v.order_id for v in prefix if v.kind == "order" and v.order_id not in fixed]
        if gaps:
            raise InputError(
                f"route {r.vehicle_id}: orders {gaps} come before fixed ones but are not "
                "fixed; done or started visits must be a prefix of each route"
            )
        if prefix:
            locks[r.vehicle_id] = tuple(v.location_id for v in prefix)
    return locks


def replan(
    plan: RoutePlan,
    problem: RoutingProblem,
    *,
    fixed_order_ids: Iterable[str] = (),
    added_orders: Sequence[Order] = (),
    cancelled_order_ids: Iterable[str] = (),
    matrices: Mapping[str, Matrix] | None = None,
    now_s: float | None = None,
    time_limit_s: float = 10.0,
    seed: int = 0,
) -> RoutePlan:
    """Re-optimise a plan in progress.

    Visits done or started (``fixed_order_ids``) stay on their vehicle, in their order
    and at their times, with the unload stops between them; every other order (including
    added ones) is re-planned after them, starting no earlier than ``now_s``. Uses the
    OR-Tools engine (route prefixes are locked in its model).

    Parameters
    ----------
    plan : RoutePlan
        The plan being carried out.
    problem : RoutingProblem
        The problem the plan was made for.
    fixed_order_ids : iterable of str
        Orders done or started. On each route they must form a prefix of its orders.
    added_orders : sequence of Order
        New orders; give ``matrices`` covering their ids.
    cancelled_order_ids : iterable of str
        Orders to drop (not done or started ones).
    matrices : mapping profile -> Matrix, optional
        Replacement matrices (needed when orders are added).
    now_s : float, optional
        Current time, seconds from midnight: no re-planned stop starts earlier, and
        vehicles that have not left leave at or after it.
    time_limit_s : float
        Seconds for the whole call (one :class:`~recyclenet.deadline.Deadline`).
    seed : int

    Returns
    -------
    RoutePlan
        ``statistics["fixed"]`` maps vehicle id to its fixed stops.

    Raises
    ------
    InputError
        The plan does not match the problem (:func:`~recyclenet.routing.check.check_plan_ids`)
        or the fixed, cancelled or added ids do not fit it (:func:`fixed_stops`).
    """
    from ._ortools import solve_ortools

    deadline = Deadline.after(time_limit_s)
    fixed = set(fixed_order_ids)
    cancelled = set(cancelled_order_ids)
    check_plan_ids(plan, orders=problem.orders, vehicle_types=problem.vehicle_types,
                   depots=problem.depots, facilities=problem.facilities)  # fmt: skip
    locks = fixed_stops(
        plan,
        order_ids=[o.id for o in problem.orders],
        fixed_order_ids=fixed,
        cancelled_order_ids=cancelled,
        added_order_ids=[o.id for o in added_orders],
    )
    starts: dict[str, float] = {}
    for r in plan.routes:
        if r.vehicle_id in locks:
            starts[r.vehicle_id] = r.visits[0].departure_s

    orders = [o for o in problem.orders if o.id not in cancelled] + list(added_orders)
    new = problem.with_orders(orders, matrices)
    engine_problem = with_final_unload(new)  # the day ends delivered (see .delivery)
    diag = diagnose(engine_problem, release_s=now_s)
    # fixed orders are served whatever the diagnosis says about the remaining day
    type_of = dict(engine_problem.vehicles())
    allowed = dict(diag.allowed_types)
    for vid, locked in locks.items():
        for s in locked:
            allowed[s] = (type_of[vid].id,)
    diag = Diagnosis(tuple(u for u in diag.unserved if u.order_id not in fixed), allowed)
    res = solve_ortools(engine_problem, diag, deadline=deadline,
                        seed=seed, locks=locks, fixed_start_s=starts,
                        release_s=now_s)  # fmt: skip
    stats = {
        "engine_requested": "ortools",
        "time_limit_s": float(time_limit_s),
        "seed": seed,
        "fixed": {k: list(v) for k, v in locks.items()},
        "now_s": None if now_s is None or not math.isfinite(now_s) else float(now_s),
        "engines": {"ortools": {"found": res.found, "time_s": res.time_s, **res.detail}},
    }
    out = build_plan(new, restore_final_unload(new, res.routes), engine="ortools",
                     status="feasible" if res.found else "no_solution",
                     unserved=diag.unserved, time_s=deadline.elapsed_s(),
                     statistics=stats)  # fmt: skip
    bad = check_plan(out, new)
    if bad:  # fixed visits cannot be dropped: the plan says what does not hold
        violations = [v.to_dict() for v in bad[:20]]
        out = dataclasses.replace(out, statistics={**out.statistics, "violations": violations})
    return out
