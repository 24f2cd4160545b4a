"""Road legality: bus-only roads, vehicle dimensions and time-conditional access."""

from __future__ import annotations

import numpy as np
import pytest

import recyclenet as rn
from recyclenet.network.hours import UnparsedHoursError, get_period, parse_conditional, parse_hours
from recyclenet.network.profile import builtin_profiles, parse_length_m

from ..conftest import haversine_m, write_osm

P = builtin_profiles()
NAMES = ("car", "tricycle", "box_truck_4_2m", "truck_18t")


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        # bus-only roads: closed to cars and trucks alike
        ({"motorcar": "no", "psv": "yes"}, (False, False, False, False)),
        ({"motorcar": "no", "bus": "designated"}, (False, False, False, False)),
        ({"access": "no", "bus": "yes"}, (False, False, False, False)),
        ({"access": "no", "psv": "yes"}, (False, False, False, False)),
        ({"motor_vehicle": "no", "psv": "yes"}, (False, False, False, False)),
        # goods/hgv are more specific than motorcar for a truck
        ({"motorcar": "no", "hgv": "yes"}, (False, False, True, True)),
        ({"motorcar": "no", "goods": "delivery"}, (False, False, True, True)),
        # dimensions: box truck 6.0 x 2.2 m, 18 t truck 9.0 x 2.55 m, tricycle 3.2 x 1.2 m
        ({"maxlength": "8"}, (True, True, True, False)),
        ({"maxlength": "5.5 m"}, (True, True, False, False)),
        ({"maxwidth": "2.3"}, (True, True, True, False)),
        ({"maxwidth": "2.0"}, (True, True, False, False)),
        ({"maxwidth": "6'6\""}, (True, True, False, False)),
        ({"maxwidth": "default"}, (True, True, True, True)),
    ],
)
def test_bus_only_and_dimensions(tags, expected):
    tags = {"highway": "primary", **tags}
    assert tuple(P[name].allows(tags) for name in NAMES) == expected


@pytest.mark.parametrize(
    ("text", "minutes"),
    [
        ("07:00-20:00", 7 * 13 * 60),
        ("Mo-Fr 07:00-09:00,17:00-19:00", 5 * 4 * 60),
        ("22:00-06:00", 7 * 8 * 60),
        ("Sa,Su", 2 * 1440),
        ("Fr-Mo 10:00-11:00", 4 * 60),
        ("Mo-Fr 07:00-20:00; Fr off", 4 * 13 * 60),
        ("Mo-Fr 07:00-20:00; Fr 08:00-09:00", 4 * 13 * 60 + 60),
        ("24/7", 7 * 1440),
        ("Su 00:00-24:00", 1440),
    ],
)
def test_parse_hours(text, minutes):
    assert parse_hours(text).minutes == minutes


def test_overnight_hours_spill_into_the_next_day():
    h = parse_hours("Su 23:00-01:00")
    assert h.mask[-60:].all() and h.mask[:60].all() and h.minutes == 120


@pytest.mark.parametrize(
    "text", ["PH off", "Jan-Mar", "weight>7.5", "sunrise-sunset", "18:00+", "Mo[1]", "25:00-26:00"]
)
def test_hours_not_parsed(text):
    with pytest.raises(UnparsedHoursError):
        parse_hours(text)


def test_parse_conditional():
    assert parse_conditional("no @ (Mo-Fr 07:00-09:00; Sa 08:00-12:00); yes @ (Su)") == [
        ("no", "Mo-Fr 07:00-09:00; Sa 08:00-12:00"),
        ("yes", "Su"),
    ]
    assert parse_conditional("no @ 07:00-20:00") == [("no", "07:00-20:00")]


def test_periods():
    assert get_period(None).name == "day"
    assert get_period("peak").week_hours.minutes == 5 * 4 * 60
    assert get_period("Mo 07:30").week_hours.minutes == 1
    assert get_period("Sa 10:00-12:00").week_hours.minutes == 120
    with pytest.raises(rn.InputError, match="unknown period"):
        get_period("rush hour")


@pytest.mark.parametrize(
    ("tags", "period", "car", "box"),
    [
        ({"hgv:conditional": "no @ (07:00-20:00)"}, "day", True, False),
        ({"hgv:conditional": "no @ (07:00-20:00)"}, "night", True, True),
        ({"hgv:conditional": "no @ (07:00-20:00)"}, "Mo 06:30", True, True),
        ({"hgv:conditional": "no @ (07:00-20:00)"}, "Mo 07:30", True, False),
        ({"access:conditional": "no @ (Mo-Fr 07:00-09:00)"}, "Sa 08:00-10:00", True, True),
        ({"access:conditional": "no @ (Mo-Fr 07:00-09:00)"}, "peak", False, False),
        ({"motor_vehicle:conditional": "no @ (22:00-06:00)"}, "night", False, False),
        ({"motor_vehicle:conditional": "no @ (22:00-06:00)"}, "offpeak", True, True),
        # an opening holds only if it covers the whole period
        ({"hgv": "no", "hgv:conditional": "yes @ (22:00-06:00)"}, "night", True, True),
        ({"hgv": "no", "hgv:conditional": "yes @ (22:00-06:00)"}, "Tu 23:00", True, True),
        ({"hgv": "no", "hgv:conditional": "yes @ (22:00-06:00)"}, "day", True, False),
        # unparsed hours: the clause is ignored
        ({"hgv:conditional": "no @ (PH)"}, "day", True, True),
        ({"hgv:conditional": "no @ (Mo-Fr 07:00-19:00 AND weight>7.5)"}, "day", True, True),
    ],
)
def test_conditional_access(tags, period, car, box):
    tags = {"highway": "secondary", **tags}
    p = get_period(period)
    assert P["car"].allows(tags, p) is car
    assert P["box_truck_4_2m"].allows(tags, p) is box
    plain = {k: v for k, v in tags.items() if not k.endswith(":conditional")}
    assert P["box_truck_4_2m"].allows(tags) is P["box_truck_4_2m"].allows(plain)  # None: ignored


def test_parse_length():
    assert parse_length_m("2.5") == 2.5
    assert parse_length_m("250 cm") == 2.5
    assert parse_length_m("8'") == pytest.approx(2.4384)
    assert parse_length_m("none") is None


# A direct street 1-2 closed to trucks by day, and a detour 1-3-4-2 around it.
NODES = {1: (120.000, 30.000), 2: (120.002, 30.000), 3: (120.000, 30.002),
         4: (120.002, 30.002)}  # fmt: skip


@pytest.fixture
def conditional_osm(tmp_path):
    ways = [
        (10, [1, 2], {"highway": "residential", "hgv:conditional": "no @ (07:00-20:00)"}),
        (11, [1, 3, 4, 2], {"highway": "residential"}),
        (12, [3, 5], {"highway": "residential", "access:conditional": "no @ (PH)"}),
    ]
    nodes = {**NODES, 5: (119.999, 30.003)}
    return write_osm(tmp_path / "cond.osm", nodes, ways)


def _distance(net: rn.RoadNetwork) -> float:
    pts = rn.Points(("a", "b"), np.array([NODES[1][0], NODES[2][0]]),
                    np.array([NODES[1][1], NODES[2][1]]))  # fmt: skip
    return float(rn.build_matrix(net, pts).distance_m[0, 1])


def test_conditional_closure_follows_the_period(conditional_osm):
    direct = haversine_m(*NODES[1], *NODES[2])
    detour = (haversine_m(*NODES[1], *NODES[3]) + haversine_m(*NODES[3], *NODES[4])
              + haversine_m(*NODES[4], *NODES[2]))  # fmt: skip
    box_day = rn.load_network(conditional_osm, profile="box_truck_4_2m")
    assert box_day.conditions.period.name == "day"
    assert _distance(box_day) == pytest.approx(detour, abs=0.2)
    box_night = box_day.with_conditions(period="night")
    assert _distance(box_night) == pytest.approx(direct, abs=0.2)
    assert _distance(box_day.with_conditions(period="Mo 06:00")) == pytest.approx(direct, abs=0.2)
    car = box_day.with_profile("car")
    assert car.conditions == box_day.conditions
    assert _distance(car) == pytest.approx(direct, abs=0.2)
    info = box_day.info()
    assert info["conditional_not_parsed"] == 1 and info["period_hours"] == "Mo-Fr 06:00-22:00"
    assert box_night.fingerprint != box_day.fingerprint
