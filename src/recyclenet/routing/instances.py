"""CVRPLIB (TSPLIB-format CVRP) and Solomon VRPTW instances as routing problems.

The conversions follow the conventions of the published optima, so plan costs compare
directly:

- CVRP: arc length ``int(sqrt(dx² + dy²) + 0.5)`` (TSPLIB ``EUC_2D``); durations equal
  lengths; cost 1 per unit of length. Set A (name ``A-…-kK``) has exactly K vehicles;
  other names ``…-kK`` get K + K/10 + 3 (set X: the fleet is unlimited and optima use at
  most K + 2); without ``-kK``, one vehicle per customer.
- Solomon: distance only, every arc and travel time ``floor(10·euclid)/10``. All values
  are scaled by 10 to whole metres and seconds: divide plan costs by :func:`cost_scale`.

Coordinates are not lon/lat: orders and depots get lon = lat = 0 and travel comes only
from the matrix.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import InputError
from ..matrix import Matrix
from .problem import Depot, Order, RoutingProblem, VehicleType


def load_instance(path: str | Path) -> RoutingProblem:
    """A CVRPLIB ``.vrp`` or Solomon ``.txt`` file as a :class:`RoutingProblem`."""
    p = Path(path)
    try:
        text = p.read_text()
    except OSError as exc:
        raise InputError(f"cannot read {p}: {exc}") from None
    if "NODE_COORD_SECTION" in text:
        return cvrp_problem(p)
    if "CUSTOMER" in text and "VEHICLE" in text:
        return solomon_problem(p)
    raise InputError(f"{p}: neither a CVRPLIB (.vrp) nor a Solomon instance")


def cost_scale(path: str | Path) -> float:
    """Divide plan costs by this to get the instance's objective (10 for Solomon)."""
    return 1.0 if "NODE_COORD_SECTION" in Path(path).read_text() else 10.0


def reference_cost(path: str | Path) -> float | None:
    """The ``Cost`` line of the ``.sol`` file beside a ``.vrp`` file, if any."""
    sol = Path(path).with_suffix(".sol")
    if not sol.is_file():
        return None
    for line in sol.read_text().splitlines():
        if line.strip().lower().startswith("cost"):
            return float(line.split()[-1])
    return None


def read_cvrp(path: Path) -> tuple[np.ndarray, np.ndarray, int, int]:
    """Coordinates (depot first), demands, capacity, k from a CVRPLIB ``.vrp`` file."""
    tokens = path.read_text().split()
    capacity = 0
    coords: list[tuple[float, float]] = []
    demand: list[float] = []
    dim = 0
    i = 0
    while i < len(tokens):
        t = tokens[i].rstrip(":")
        if t == "DIMENSION":
            i += 1 if tokens[i + 1] != ":" else 2
            dim = int(tokens[i])
        elif t == "CAPACITY":
            i += 1 if tokens[i + 1] != ":" else 2
            capacity = int(tokens[i])
        elif t == "NODE_COORD_SECTION":
            for _ in range(dim):
                coords.append((float(tokens[i + 2]), float(tokens[i + 3])))
                i += 3
        elif t == "DEMAND_SECTION":
            for _ in range(dim):
                demand.append(float(tokens[i + 2]))
                i += 2
        i += 1
    k = int(path.stem.split("-k")[-1]) if "-k" in path.stem else 0
    if not coords or len(demand) != len(coords) or capacity <= 0:
        raise InputError(f"{path}: incomplete CVRPLIB file (DIMENSION, CAPACITY, sections)")
    return np.array(coords), np.array(demand), capacity, k


def read_solomon(path: Path) -> tuple[int, int, np.ndarray]:
    """(vehicles, capacity, rows of id x y demand ready due service) from a Solomon file."""
    lines = [ln.split() for ln in path.read_text().splitlines()]
    nums = [ln for ln in lines if ln and all(_isnum(x) for x in ln)]
    vehicles, capacity = int(nums[0][0]), int(nums[0][1])
    rows = np.array([[float(x) for x in ln] for ln in nums[1:] if len(ln) == 7])
    return vehicles, capacity, rows


def _isnum(x: str) -> bool:
    try:
        float(x)
    except ValueError:
        return False
    return True


def _fleet_size(name: str, k: int, n: int) -> int:
    if k <= 0:
        return n
    return k if name.startswith("A-") else k + k // 10 + 3


def cvrp_problem(path: Path) -> RoutingProblem:
    """A CVRP instance as a RoutingProblem; cost = rounded Euclidean distance."""
    xy, demand, capacity, k = read_cvrp(path)
    d = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
    dist = np.floor(d + 0.5)
    ids = ["depot"] + [f"c{i}" for i in range(1, len(xy))]
    matrix = Matrix(tuple(ids), tuple(ids), dist, dist, profile="euclid")
    orders = tuple(Order(ids[i], 0.0, 0.0, load_kg=float(demand[i])) for i in range(1, len(xy)))
    fleet = VehicleType(
        "v",
        count=_fleet_size(path.stem, k, len(xy) - 1),
        capacity_kg=capacity,
        start_id="depot",
        cost_per_km=1000.0,
        profile="euclid",
    )
    return RoutingProblem(orders, (fleet,), (Depot("depot", 0.0, 0.0),), {"euclid": matrix})


def solomon_problem(path: Path) -> RoutingProblem:
    """A Solomon instance, scaled by 10 (distance-only convention)."""
    vehicles, capacity, rows = read_solomon(path)
    xy = rows[:, 1:3]
    d = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
    dist = np.floor(10.0 * d + 1e-7)
    ids = ["depot"] + [f"c{int(r[0])}" for r in rows[1:]]
    matrix = Matrix(tuple(ids), tuple(ids), dist, dist, profile="euclid")
    orders = tuple(
        Order(ids[i], 0.0, 0.0, load_kg=float(r[3]),
              time_windows=((10.0 * r[4], 10.0 * r[5]),), service_s=10.0 * r[6])
        for i, r in enumerate(rows)
        if i > 0
    )  # fmt: skip
    depot = Depot("depot", 0.0, 0.0, time_window=(10 * rows[0, 4], 10 * rows[0, 5]))
    fleet = VehicleType("v", count=vehicles, capacity_kg=capacity, start_id="depot",
                        shift=(10.0 * rows[0, 4], 10.0 * rows[0, 5]), cost_per_km=1000.0,
                        profile="euclid")  # fmt: skip
    return RoutingProblem(orders, (fleet,), (depot,), {"euclid": matrix})
