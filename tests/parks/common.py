"""A small hand-made park whose optimum is worked out by hand in the tests."""

from __future__ import annotations

import math

import numpy as np

from recyclenet.matrix import Matrix
from recyclenet.parks.model import (
    Depot,
    Enterprise,
    Park,
    Receiver,
    Settings,
    Stream,
    Vehicle,
)

ENTERPRISES = [
    Enterprise("E1", "Power plant 电厂", 120.000, 31.000),
    Enterprise("E2", "Brick works 砖厂", 120.020, 31.000),
    Enterprise("E3", "Machining 机加工", 120.000, 31.020),
    Enterprise("E4", "Boiler house 锅炉房", 120.040, 31.000),
]
STREAMS = [
    Stream("S1", "E1", "SW02", 100.0, form="powder", packaging="bulk", storage_limit_t=200.0),
    Stream("S2", "E3", "900-249-08", 2.0, form="liquid", packaging="drums", storage_limit_t=5.0),
    Stream("S3", "E4", "SW06", 50.0, form="powder", packaging="bulk", storage_limit_t=100.0),
]
RECEIVERS = [
    Receiver(
        "R_brick",
        "Brick works (by-product user)",
        "enterprise",
        120.020,
        31.000,
        frozenset({"SW02", "SW06"}),
        capacity_t_per_year=1000.0,
        price_paid_per_t=20.0,
        enterprise_id="E2",
    ),
    Receiver(
        "R_landfill",
        "General landfill",
        "landfill",
        120.100,
        31.000,
        frozenset({"SW02", "SW06", "SW59"}),
        gate_fee_per_t=80.0,
    ),
    Receiver(
        "R_inc",
        "Hazardous incinerator",
        "incinerator",
        120.000,
        31.200,
        frozenset({"HW08", "HW49"}),
        capacity_t_per_year=500.0,
        gate_fee_per_t=3000.0,
        licence="JS-HW-0001",
    ),
    Receiver(
        "R_kiln",
        "Cement kiln (no HW licence)",
        "cement_kiln",
        120.000,
        31.050,
        frozenset({"HW08"}),
        gate_fee_per_t=1500.0,
    ),
]
#: road distances in metres, enterprise -> receiver location (E2 for R_brick)
DIST_M = {
    ("E1", "E2"): 2000.0,
    ("E1", "R_landfill"): 10000.0,
    ("E3", "R_inc"): 20000.0,
    ("E3", "R_kiln"): 5000.0,
    ("E4", "E2"): 5000.0,
    ("E4", "R_landfill"): 6000.0,
}


def matrix(dist: dict[tuple[str, str], float] | None = None, extra: tuple[str, ...] = ()) -> Matrix:
    """Enterprise x receiver-location matrix; pairs not listed are 50 km (60 km/h)."""
    dist = DIST_M if dist is None else dist
    rows = [e.id for e in ENTERPRISES]
    cols = ["E1", "E2", "E3", "E4", "R_landfill", "R_inc", "R_kiln", *extra]
    d = np.array([[0.0 if a == b else dist.get((a, b), 50_000.0) for b in cols] for a in rows])
    return Matrix(rows, cols, d / (60 / 3.6), d)


def park(**changes: object) -> Park:
    """The hand-made park; keyword arguments replace its fields."""
    base: dict[str, object] = {
        "name": "Test park 测试园区",
        "enterprises": ENTERPRISES,
        "streams": STREAMS,
        "receivers": RECEIVERS,
        "vehicles": [
            Vehicle("V_box_haz", "box", True, 1, 8.0, "D1"),
            Vehicle("V_tip", "tipper", False, 1, 20.0, "D1"),
        ],
        "depots": [Depot("D1", 120.01, 31.01)],
        "settings": Settings(
            transport_cost_per_t_km_general=1.0, transport_cost_per_t_km_hazardous=3.0
        ),
    }
    base.update(changes)
    return Park(**base)  # type: ignore[arg-type]


INF = math.inf


def square_matrices(p: Park, speed_kph: float = 30.0, detour: float = 1.3) -> dict[str, Matrix]:
    """Square matrices over every location of ``p``: 1.3 x great-circle at 30 km/h."""
    locs = [*p.enterprises, *p.receivers, *p.depots, *p.sites]
    ids = [x.id for x in locs]
    lon = np.radians([x.lon for x in locs])
    lat = np.radians([x.lat for x in locs])
    dlon = lon[:, None] - lon[None, :]
    dlat = lat[:, None] - lat[None, :]
    h = np.sin(dlat / 2) ** 2 + np.cos(lat[:, None]) * np.cos(lat[None, :]) * np.sin(dlon / 2) ** 2
    d = detour * 2 * 6_371_000.0 * np.arcsin(np.sqrt(h))
    profiles = {v.profile for v in p.vehicles} or {"truck_18t"}
    return {pr: Matrix(ids, ids, d / (speed_kph / 3.6), d, profile=pr) for pr in profiles}
