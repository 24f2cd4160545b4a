"""Tiny hand-made routing instances built directly from Matrix objects.

Locations are points on a plane in metres; travel is Euclidean at a fixed speed, so
every expected value can be checked by hand.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from recyclenet.matrix import Matrix
from recyclenet.routing import (
    Depot,
    Facility,
    Order,
    RoutePlan,
    RoutingProblem,
    VehicleType,
    check_plan,
)

SPEED_MPS = 10.0  # 36 km/h
LON, LAT = 116.4, 39.9  # any valid lon/lat: travel comes from the matrices


def euclid_matrix(
    xy: Mapping[str, tuple[float, float]],
    *,
    profile: str = "car",
    speed_mps: float = SPEED_MPS,
    blocked: Iterable[str] = (),
) -> Matrix:
    """Euclidean matrix over ``xy``; ``blocked`` ids are unreachable to and from."""
    ids = list(xy)
    p = np.array([xy[i] for i in ids], dtype=float)
    d = np.hypot(*(p[:, None, :] - p[None, :, :]).transpose(2, 0, 1))
    for b in blocked:
        k = ids.index(b)
        d[k, :] = np.inf
        d[:, k] = np.inf
        d[k, k] = 0.0
    return Matrix(ids, ids, d / speed_mps, d, profile=profile)


def order(oid: str, **kw: object) -> Order:
    return Order(oid, LON, LAT, **kw)  # type: ignore[arg-type]


def depot(did: str, **kw: object) -> Depot:
    return Depot(did, LON, LAT, **kw)  # type: ignore[arg-type]


def facility(fid: str, **kw: object) -> Facility:
    return Facility(fid, LON, LAT, **kw)  # type: ignore[arg-type]


def problem(
    xy: Mapping[str, tuple[float, float]],
    orders: Sequence[Order],
    fleet: Sequence[VehicleType],
    *,
    depots: Sequence[Depot] | None = None,
    facilities: Sequence[Facility] = (),
    blocked: Mapping[str, Iterable[str]] | None = None,
    speeds: Mapping[str, float] | None = None,
) -> RoutingProblem:
    """A problem with one Euclidean matrix per profile used by the fleet."""
    depots = [depot("D")] if depots is None else depots
    blocked = blocked or {}
    speeds = speeds or {}
    profiles = sorted({v.profile for v in fleet})
    matrices = {p: euclid_matrix(xy, profile=p, blocked=blocked.get(p, ()),
                                 speed_mps=speeds.get(p, SPEED_MPS)) for p in profiles}  # fmt: skip
    return RoutingProblem(orders, fleet, depots, matrices, facilities=facilities)


def assert_feasible(plan: RoutePlan, prob: RoutingProblem) -> None:
    errors = check_plan(plan, prob)
    assert errors == [], "\n".join(map(str, errors))
    assert plan.status == "feasible"


TL = 1.0  # seconds per solve: the instances are tiny
