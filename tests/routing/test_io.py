"""Reading orders and fleets from CSV."""

from __future__ import annotations

import pytest

from recyclenet.errors import InputError
from recyclenet.routing import read_fleet, read_orders


def test_default_fleet():
    fleet = {v.id: v for v in read_fleet()}
    assert fleet["tricycle"].capacity == (300.0, 1.5)
    assert fleet["box_truck_4_2m"].capacity == (2000.0, 16.0)
    assert fleet["box_truck_4_2m"].profile == "box_truck_4_2m"
    assert "refrigerant" in fleet["box_truck_4_2m"].skills
    assert fleet["tricycle"].break_window == (41400.0, 46800.0)


def test_read_orders(tmp_path):
    p = tmp_path / "orders.csv"
    p.write_text(
        "id,lon,lat,items,load_kg,time_windows,required,penalty,kind\n"
        "o1,116.40,39.90,refrigerator:1;scrap_mixed:20,,08:00-10:00;14:00-16:00,,,\n"
        "o2,116.41,39.91,,80,,no,12.5,delivery\n"
    )
    o1, o2 = read_orders(p)
    assert o1.load_kg == pytest.approx(75.0)
    assert o1.time_windows == ((28800.0, 36000.0), (50400.0, 57600.0))
    assert o1.required_skills == {"refrigerant"}
    assert (o2.load_kg, o2.required, o2.penalty, o2.kind) == (80.0, False, 12.5, "delivery")


def test_read_orders_errors_name_the_line(tmp_path):
    p = tmp_path / "orders.csv"
    p.write_text("id,lon,lat,items\no1,116.4,39.9,sofa:1\n")
    with pytest.raises(InputError, match=r"line 2.*unknown item category 'sofa'"):
        read_orders(p)
    p.write_text("id,lon,lat,time_windows\no1,116.4,39.9,10:00-09:00\n")
    with pytest.raises(InputError, match=r"line 2.*ends before it starts"):
        read_orders(p)


def test_read_sites(tmp_path):
    from recyclenet.routing import read_sites

    p = tmp_path / "sites.csv"
    p.write_text("id,lon,lat,kind,unload_s,open,close\n"
                 "D,116.4,39.9,depot,,07:00,19:00\nS,116.5,39.9,facility,900,,\n")  # fmt: skip
    (d,), (f,) = read_sites(p)
    assert d.time_window == (25200.0, 68400.0)
    assert (f.id, f.unload_s, f.time_window) == ("S", 900.0, None)


def test_pad_unreachable_reports_off_network_orders():
    import numpy as np

    from recyclenet.matrix import Matrix
    from recyclenet.routing import (
        Depot,
        Order,
        RoutingProblem,
        VehicleType,
        pad_unreachable,
        solve_routing,
    )

    ids = ("D", "a")
    d = np.array([[0.0, 100.0], [100.0, 0.0]])
    m = pad_unreachable(Matrix(ids, ids, d, d, profile="car"), ["D", "a", "off"])
    assert np.isinf(m.duration_s[0, 2]) and m.duration_s[2, 2] == 0.0
    prob = RoutingProblem([Order("a", 116.4, 39.9), Order("off", 116.4, 39.9)],
                          [VehicleType("t", start_id="D")], [Depot("D", 116.4, 39.9)],
                          {"car": m})  # fmt: skip
    plan = solve_routing(prob, engine="ortools", time_limit_s=1.0)
    assert plan.served_order_ids == ("a",)
    assert plan.reason_of("off") == "unreachable"
