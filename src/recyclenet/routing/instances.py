"""CVRPLIB (TSPLIB-format CVRP) and Solomon VRPTW instances as routing problems, read by
the ``vrplib`` package (PyVRP's reader of both formats).

The conversions follow the conventions of the published optima, so plan costs compare
directly:

- CVRP: arc length ``int(sqrt(dx² + dy²) + 0.5)`` (TSPLIB ``EUC_2D``); durations equal
  lengths; cost 1 per unit of length. Set A (name ``A-…-kK``) has exactly K vehicles;
  set X (``X-…``) an unlimited fleet, one vehicle per customer, as PyVRP's reader gives
  it (so that PyVRP searches the very data it is compared with); other names ``…-kK``
  get K + K/10 + 3 (:func:`bounded_fleet_size`); without ``-kK``, one vehicle per
  customer.
- Solomon: distance only, every arc and travel time ``floor(10·euclid)/10``. All values
  are scaled by 10 to whole metres and seconds: divide plan costs by :func:`cost_scale`.

Coordinates are not lon/lat: orders and depots get lon = lat = 0 and travel comes only
from the matrix.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError
from ..matrix import Matrix
from .problem import Depot, Order, RoutingProblem, VehicleType


def _format(p: Path) -> str:
    """``vrplib`` (CVRPLIB/TSPLIB) or ``solomon``, from the file's first lines."""
    try:
        head = p.read_text(errors="replace")[:4000].upper()
    except OSError as exc:
        raise InputError(f"cannot read {p}: {exc}") from None
    if "NODE_COORD_SECTION" in head or "EDGE_WEIGHT_SECTION" in head:
        return "vrplib"
    if "CUSTOMER" in head and "VEHICLE" in head:
        return "solomon"
    raise InputError(f"{p}: neither a CVRPLIB (.vrp) nor a Solomon instance")


def _read(p: Path, fmt: str) -> dict[str, Any]:
    import vrplib

    try:
        return vrplib.read_instance(p, instance_format=fmt, compute_edge_weights=False)
    except Exception as exc:  # vrplib raises ValueError, IndexError, KeyError on bad files
        raise InputError(f"{p}: not a readable {fmt} instance ({type(exc).__name__}: {exc})"
                         ) from None  # fmt: skip


def load_instance(path: str | Path) -> RoutingProblem:
    """A CVRPLIB ``.vrp`` or Solomon ``.txt`` file as a :class:`RoutingProblem` (read by
    the ``vrplib`` package)."""
    p = Path(path)
    return cvrp_problem(p) if _format(p) == "vrplib" else solomon_problem(p)


def cost_scale(path: str | Path) -> float:
    """Divide plan costs by this to get the instance's objective (10 for Solomon)."""
    return 1.0 if _format(Path(path)) == "vrplib" else 10.0


def reference_cost(path: str | Path) -> float | None:
    """The cost of the ``.sol`` file beside an instance file, if any."""
    import vrplib

    sol = Path(path).with_suffix(".sol")
    if not sol.is_file():
        return None
    try:
        cost = vrplib.read_solution(sol).get("cost")
    except Exception:  # a malformed solution file is no reference
        return None
    return None if cost is None else float(cost)


def read_cvrp(path: Path) -> tuple[np.ndarray, np.ndarray, int, int]:
    """Coordinates (depot first), demands, capacity, k from a CVRPLIB ``.vrp`` file."""
    path = Path(path)
    doc = _read(path, "vrplib")
    try:
        coords = np.asarray(doc["node_coord"], dtype=float)
        demand = np.asarray(doc["demand"], dtype=float)
        capacity = int(doc["capacity"])
    except KeyError as exc:
        raise InputError(f"{path}: incomplete CVRPLIB file (no {exc.args[0]} section)") from None
    depots = [int(d) for d in np.atleast_1d(doc.get("depot", [0]))]
    if depots != [0] or len(demand) != len(coords) or capacity <= 0:
        raise InputError(f"{path}: CVRPLIB files need one depot (node 1), a demand per node "
                         "and a capacity > 0")  # fmt: skip
    k = int(path.stem.split("-k")[-1]) if "-k" in path.stem else 0
    return coords, demand, capacity, k


def read_solomon(path: Path) -> tuple[int, int, np.ndarray]:
    """(vehicles, capacity, rows of id x y demand ready due service) from a Solomon file."""
    path = Path(path)
    doc = _read(path, "solomon")
    xy = np.asarray(doc["node_coord"], dtype=float)
    tw = np.asarray(doc["time_window"], dtype=float)
    rows = np.column_stack([np.arange(len(xy)), xy, doc["demand"], tw, doc["service_time"]])
    return int(doc["vehicles"]), int(doc["capacity"]), rows.astype(float)


def _fleet_size(name: str, k: int, n: int) -> int:
    if k <= 0 or name.startswith("X-"):
        return n
    return k if name.startswith("A-") else bounded_fleet_size(k)


def bounded_fleet_size(k: int) -> int:
    """A fleet for an instance whose optima use about ``k`` routes (set X: at most
    ``k + 2``), for solvers that slow down with one vehicle per customer (OR-Tools)."""
    return k + k // 10 + 3


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
