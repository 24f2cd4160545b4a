"""Validation of the routing problem types: clear errors naming ids and fields."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from routing_helpers import depot, euclid_matrix, facility, order, problem

from recyclenet.errors import InputError
from recyclenet.matrix import Matrix
from recyclenet.routing import Order, RoutingProblem, VehicleType

XY = {"D": (0, 0), "a": (1000, 0)}
VT = VehicleType("t", start_id="D")


def test_time_window_ending_before_it_starts():
    with pytest.raises(InputError, match=r"order 'a'.*ends before it starts"):
        order("a", time_windows=[(100.0, 50.0)])


def test_overlapping_windows():
    with pytest.raises(InputError, match="overlap"):
        order("a", time_windows=[(0.0, 100.0), (50.0, 200.0)])


def test_windows_are_sorted():
    o = order("a", time_windows=[(500.0, 600.0), (0.0, 100.0)])
    assert o.time_windows == ((0.0, 100.0), (500.0, 600.0))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(load_kg=-1.0), "load_kg"),
        (dict(volume_m3=float("nan")), "volume_m3"),
        (dict(kind="collect"), "kind"),
        (dict(required=False), "needs a penalty"),
        (dict(penalty=5.0), "only applies to optional"),
        (dict(priority=-1), "priority"),
    ],
)
def test_bad_order_fields(kwargs, match):
    with pytest.raises(InputError, match=match):
        order("a", **kwargs)


def test_lat_lon_order_is_checked():
    with pytest.raises(InputError, match="lon comes first"):
        Order("a", 39.9, 116.4)


def test_empty_fleet():
    m = euclid_matrix(XY)
    with pytest.raises(InputError, match="fleet is empty"):
        RoutingProblem([order("a")], [], [depot("D")], {"car": m})


def test_duplicate_ids():
    with pytest.raises(InputError, match=r"duplicate location ids.*'a'"):
        problem(XY, [order("a"), order("a")], [VT])
    with pytest.raises(InputError, match=r"duplicate location ids.*'D'"):
        problem(XY, [order("D")], [VT])


def test_vehicle_type_fields():
    with pytest.raises(InputError, match="count"):
        VehicleType("t", count=0, start_id="D")
    with pytest.raises(InputError, match="break_s"):
        VehicleType("t", start_id="D", break_window=(0.0, 10.0))
    with pytest.raises(InputError, match="start_id"):
        VehicleType("t")
    with pytest.raises(InputError, match=r"vehicle type 't'.*shift.*ends before"):
        VehicleType("t", start_id="D", shift=(10.0, 0.0))


def test_unknown_depot_and_profile():
    with pytest.raises(InputError, match=r"start_id 'X' is not a depot"):
        problem(XY, [order("a")], [VehicleType("t", start_id="X")])
    m = euclid_matrix(XY)
    with pytest.raises(InputError, match=r"no matrix for road profile\(s\) \['truck'\]"):
        RoutingProblem([order("a")], [VehicleType("t", start_id="D", profile="truck")],
                       [depot("D")], {"car": m})  # fmt: skip


def test_matrix_must_cover_every_location():
    m = euclid_matrix({"D": (0, 0)})
    with pytest.raises(InputError, match=r"lacks origin ids \['a'\]"):
        RoutingProblem([order("a")], [VT], [depot("D")], {"car": m})


def test_matrix_rows_are_selected_by_id():
    # a matrix in another order (and with an extra id) is reordered by id
    ids = ["a", "zz", "D"]
    d = np.array([[0, 5, 7], [5, 0, 1], [7, 1, 0]], dtype=float)
    prob = RoutingProblem([order("a")], [VT], [depot("D")], {"car": Matrix(ids, ids, d, d)})
    _dur, dist = prob.travel("car")
    assert prob.location_ids == ("D", "a")
    assert dist.tolist() == [[0.0, 7.0], [7.0, 0.0]]


def test_problem_is_immutable_and_pickles():
    prob = problem(XY, [order("a")], [VT], facilities=[])
    with pytest.raises(AttributeError):
        prob.orders = ()  # type: ignore[misc]
    with pytest.raises(TypeError):
        prob.matrices["x"] = prob.matrices["car"]  # type: ignore[index]
    again = pickle.loads(pickle.dumps(prob))
    assert again.orders == prob.orders and again.location_ids == prob.location_ids


def test_end_may_be_a_facility():
    xy = {**XY, "S": (0, 100)}
    prob = problem(xy, [order("a")], [VehicleType("t", start_id="D", end_id="S")],
                   facilities=[facility("S", unload_s=60.0)])  # fmt: skip
    assert prob.vehicles()[0][0] == "t-1"
    with pytest.raises(InputError, match="neither a depot nor a facility"):
        problem(xy, [order("a")], [VehicleType("t", start_id="D", end_id="S")])
