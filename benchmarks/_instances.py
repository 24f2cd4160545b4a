"""Shared by the routing benchmarks: instance discovery, reference optima, and the data
a user of PyVRP, VROOM or OR-Tools would build for the same instance.

Conventions (see the README of the shared benchmark folder):

- CVRPLIB X: arc length ``int(sqrt(dx² + dy²) + 0.5)``, unlimited fleet (PyVRP's
  reader gives one vehicle per customer).
- Solomon VRPTW, distance only: every arc and travel time ``floor(10·euclid)/10``;
  everything is scaled by 10 to integers and costs are divided by 10 again; at most
  ``NUMBER`` vehicles.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from recyclenet.routing.instances import read_cvrp, read_solomon

IntArray = npt.NDArray[np.int64]


def instance_files(root: Path, names: list[str]) -> list[tuple[str, Path]]:
    """``(kind, path)`` of each named instance (kind "cvrp" or "solomon") under ``root``."""
    out = []
    for name in names:
        for kind, p in (("cvrp", root / "cvrp" / "X" / f"{name}.vrp"),
                        ("cvrp", root / "cvrp" / "A" / f"{name}.vrp"),
                        ("solomon", root / "vrptw" / "solomon" / f"{name}.txt")):  # fmt: skip
            if p.is_file():
                out.append((kind, p))
                break
        else:
            raise SystemExit(f"instance {name!r} not found under {root}")
    return out


def optimum(root: Path, kind: str, name: str) -> float:
    """The proven optimum (distance-only convention for Solomon)."""
    path, col = ((root / "cvrp" / "bks.csv", "bks") if kind == "cvrp"
                 else (root / "vrptw" / "bks.csv", "distance"))  # fmt: skip
    with open(path, newline="") as fh:
        for row in csv.DictReader(fh):
            if row["instance"] == name:
                return float(row[col])
    raise SystemExit(f"no optimum for {name} in {path}")


def scale(kind: str) -> float:
    """Divide integer costs by this to get the instance's objective."""
    return 1.0 if kind == "cvrp" else 10.0


@dataclass(frozen=True)
class Dense:
    """An instance as plain arrays, depot at index 0. ``dist``: integer arc lengths,
    also the travel times; Solomon's ``ready``, ``due``, ``service`` are scaled by 10
    like ``dist`` (zeros and a huge ``due`` for CVRPLIB)."""

    dist: IntArray
    demand: IntArray
    capacity: int
    vehicles: int
    ready: IntArray
    due: IntArray
    service: IntArray


def dense(kind: str, path: Path) -> Dense:
    """The instance as arrays (see :class:`Dense`)."""
    if kind == "cvrp":
        xy, demand, capacity, _k = read_cvrp(path)
        d = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
        n = len(xy)
        zero = np.zeros(n, dtype=np.int64)
        return Dense(np.floor(d + 0.5).astype(np.int64), demand.astype(np.int64), capacity,
                     n - 1, zero, np.full(n, 10**9, dtype=np.int64), zero)  # fmt: skip
    vehicles, capacity, rows = read_solomon(path)
    xy = rows[:, 1:3]
    d = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
    return Dense(np.floor(10.0 * d + 1e-7).astype(np.int64), rows[:, 3].astype(np.int64),
                 capacity, vehicles, np.rint(10 * rows[:, 4]).astype(np.int64),
                 np.rint(10 * rows[:, 5]).astype(np.int64),
                 np.rint(10 * rows[:, 6]).astype(np.int64))  # fmt: skip


def pyvrp_data(kind: str, path: Path, vehicles: int | None = None) -> Any:
    """PyVRP's ``ProblemData`` as its user would build it: ``pyvrp.read`` for CVRPLIB,
    the ``Model`` interface for Solomon. ``vehicles`` overrides the fleet size."""
    import pyvrp

    if kind == "cvrp":
        data = pyvrp.read(path, round_func="round")
        if vehicles is not None:
            vts = [vt.replace(num_available=vehicles) for vt in data.vehicle_types()]
            data = data.replace(vehicle_types=vts)
        return data
    inst = dense(kind, path)
    n = len(inst.demand)
    clients = [pyvrp.Client(i, delivery=[int(inst.demand[i])],
                            service_duration=int(inst.service[i]),
                            tw_early=int(inst.ready[i]), tw_late=int(inst.due[i]))
               for i in range(1, n)]  # fmt: skip
    depot = pyvrp.Depot(0, tw_early=int(inst.ready[0]), tw_late=int(inst.due[0]))
    fleet = pyvrp.VehicleType(num_available=vehicles or inst.vehicles,
                              capacity=[inst.capacity],
                              tw_early=int(inst.ready[0]), tw_late=int(inst.due[0]))  # fmt: skip
    return pyvrp.ProblemData([pyvrp.Location(0, 0) for _ in range(n)], clients, [depot],
                             [fleet], [inst.dist], [inst.dist])  # fmt: skip
