"""Vehicle profiles: speeds (maxspeed vs class defaults) and truck access rules."""

from __future__ import annotations

import csv
from importlib import resources

import numpy as np
import pytest

import recyclenet as rn
from recyclenet.network.profile import (
    builtin_profiles,
    default_speed_kph,
    parse_height_m,
    parse_speed_kph,
    parse_weight_t,
)

MPH = 1.609344


def speed_table() -> dict[str, float]:
    """data/road_speeds.csv read here, independently of the library's parser."""
    text = resources.files("recyclenet").joinpath("data/road_speeds.csv").read_text("utf-8")
    rows = csv.DictReader(line for line in text.splitlines() if not line.startswith("#"))
    return {row["highway"]: float(row["speed_kph"]) for row in rows}


def test_speed_table_has_a_written_source_and_every_drivable_class():
    text = resources.files("recyclenet").joinpath("data/road_speeds.csv").read_text("utf-8")
    assert "Source" in text
    table = speed_table()
    from recyclenet.network.profile import DRIVABLE_HIGHWAYS

    assert set(table) >= DRIVABLE_HIGHWAYS
    assert all(v > 0 for v in table.values())
    for highway, speed in table.items():
        assert default_speed_kph(highway) == speed


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("50", 50.0),
        ("30 mph", 30 * MPH),
        ("30mph", 30 * MPH),
        ("DE:urban", 50.0),
        ("DE:rural", 90.0),
        ("RU:zone30", 30.0),
        ("50;30", 30.0),
        ("60.5", 60.5),
        (None, None),
        ("", None),
        ("none", None),
        ("signals", None),
        ("0", None),
    ],
)
def test_parse_maxspeed(value, expected):
    got = parse_speed_kph(value)
    if expected is None:
        assert got is None
    else:
        assert got == pytest.approx(expected)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("7.5", 7.5),
        ("3500 kg", 3.5),
        ("3,5", 3.5),
        ("10 st", 9.0718474),
        (None, None),
        ("none", None),
    ],
)
def test_parse_maxweight(value, expected):
    got = parse_weight_t(value)
    assert got == (None if expected is None else pytest.approx(expected))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("3.5", 3.5),
        ("3.5 m", 3.5),
        ("350 cm", 3.5),
        ("12'6\"", 12 * 0.3048 + 6 * 0.0254),
        ("default", None),
        (None, None),
    ],
)
def test_parse_maxheight(value, expected):
    got = parse_height_m(value)
    assert got == (None if expected is None else pytest.approx(expected))


@pytest.mark.parametrize(
    ("way", "speed_kph", "tagged"),
    [
        (102, 50.0, True),  # maxspeed=50
        (103, 30 * MPH, True),  # maxspeed=30 mph
        (104, 50.0, True),  # maxspeed=DE:urban
        (101, "residential", False),
        (105, "unclassified", False),
        (109, "residential", False),
        (110, "tertiary", False),
    ],
)
def test_town_edge_speeds_and_durations(town_network, way, speed_kph, tagged):
    if isinstance(speed_kph, str):
        speed_kph = speed_table()[speed_kph]
    edges = np.nonzero(town_network.edge_way_id == way)[0]
    assert len(edges) > 0
    for e in edges:
        assert town_network.edge_speed_kph[e] == pytest.approx(speed_kph)
        assert bool(town_network.edge_speed_tagged[e]) is tagged
        expected_s = town_network.edge_length_m[e] / (speed_kph / 3.6)
        assert town_network.edge_duration_s[e] == pytest.approx(expected_s, abs=0.006)


def test_town_speed_share(town_network):
    info = town_network.info()
    assert info["edges_speed_tagged"] == 6  # 4 x way 102, 103, 104
    assert info["edges_speed_default"] == 11
    assert info["share_speed_tagged"] == pytest.approx(6 / 17, abs=1e-4)


def test_durations_equal_length_over_speed_everywhere(helsinki_network):
    net = helsinki_network
    np.testing.assert_allclose(
        net.edge_duration_s, net.edge_length_m / (net.edge_speed_kph / 3.6), atol=0.006
    )
    table = speed_table()
    for e in np.nonzero(~net.edge_speed_tagged)[0]:
        assert net.edge_speed_kph[e] == table[net.edge_tags[e]["highway"]]
    for e in np.nonzero(net.edge_speed_tagged)[0][:50]:
        assert net.edge_speed_kph[e] == pytest.approx(parse_speed_kph(net.edge_tags[e]["maxspeed"]))


def test_vehicle_speed_cap(town_osm, town_network):
    tricycle = rn.load_network(town_osm, profile="tricycle")
    assert tricycle.profile.max_speed_kph == 25
    assert tricycle.edge_speed_kph.max() == pytest.approx(25.0)
    e = np.nonzero(tricycle.edge_way_id == 102)[0][0]
    assert tricycle.edge_speed_kph[e] == 25.0
    assert tricycle.edge_duration_s[e] == pytest.approx(
        2 * town_network.edge_duration_s[np.nonzero(town_network.edge_way_id == 102)[0][0]],
        abs=0.02,
    )


# ---------------------------------------------------------------- truck access
# trucks.osm rung i is way 500 + i between nodes 300 + i and 400 + i.
RUNG_RULES = {
    0: None,
    1: "access=no",
    2: "access=private",
    3: "motor_vehicle=no",
    4: "hgv=no",
    5: "maxweight=3.5",
    6: "maxheight=3.0",
    7: "maxheight=3.5",
    8: None,
}
OPEN_RUNGS = {
    "car": {0, 4, 5, 6, 7, 8},
    "tricycle": {0, 4, 5, 6, 7, 8},
    "box_truck_4_2m": {0, 7, 8},  # 4.5 t, 3.2 m, hgv
    "truck_18t": {0, 8},  # 18 t, 3.8 m, hgv
}


@pytest.mark.parametrize("profile", sorted(OPEN_RUNGS))
def test_truck_rules_per_profile(trucks_osm, profile):
    net = rn.load_network(trucks_osm, profile=profile)
    assert net.profile.name == profile
    ways = set(net.edge_way_id.tolist())
    rungs = {w - 500 for w in ways if 500 <= w <= 508}
    assert rungs == OPEN_RUNGS[profile]
    assert {600, 601} <= ways
    assert net.info()["excluded_by_profile"] == 9 - len(OPEN_RUNGS[profile])
    assert net.info()["dropped_nodes"] == 0


@pytest.mark.parametrize(
    ("tags", "car", "box", "t18"),
    [
        ({}, True, True, True),
        ({"access": "no"}, False, False, False),
        ({"access": "private"}, False, False, False),
        ({"motor_vehicle": "no"}, False, False, False),
        ({"hgv": "no"}, True, False, False),
        ({"maxweight": "3.5"}, True, False, False),
        ({"maxweight": "10"}, True, True, False),
        ({"maxheight": "3.0"}, True, False, False),
        ({"maxheight": "3.5"}, True, True, False),
        ({"access": "no", "motor_vehicle": "yes"}, True, True, True),
        ({"access": "no", "hgv": "designated"}, False, True, True),
        ({"highway": "footway"}, False, False, False),
        ({"highway": "cycleway"}, False, False, False),
        ({"highway": "busway"}, False, False, False),
    ],
)
def test_profile_allows(tags, car, box, t18):
    tags = {"highway": "residential", **tags}
    profiles = builtin_profiles()
    assert profiles["car"].allows(tags) is car
    assert profiles["box_truck_4_2m"].allows(tags) is box
    assert profiles["truck_18t"].allows(tags) is t18


def test_matrices_differ_between_profiles(trucks_osm, trucks_nodes, path_length_m):
    """S4 -> N4: the car takes rung 4, the box truck rung 7, the 18 t truck rung 0 or 8."""
    pts = rn.Points(
        ("S4", "N4"),
        np.array([trucks_nodes[304][0], trucks_nodes[404][0]]),
        np.array([trucks_nodes[304][1], trucks_nodes[404][1]]),
    )
    car = rn.load_network(trucks_osm, profile="car")
    box = car.with_profile("box_truck_4_2m")
    t18 = car.with_profile("truck_18t")
    south = list(range(300, 309))
    north = list(range(400, 409))
    expected_m = {
        "car": path_length_m(trucks_nodes, [304, 404]),
        "box_truck_4_2m": path_length_m(trucks_nodes, [*south[4:8], *north[4:8][::-1]]),
        "truck_18t": path_length_m(trucks_nodes, [*south[4:9], *north[4:9][::-1]]),
    }
    residential_mps = speed_table()["residential"] / 3.6
    durations = {}
    for net in (car, box, t18):
        m = rn.build_matrix(net, pts)
        name = net.profile.name
        assert m.profile == name
        for i, j in ((0, 1), (1, 0)):
            assert m.distance_m[i, j] == pytest.approx(expected_m[name], abs=0.5)
            assert m.duration_s[i, j] == pytest.approx(expected_m[name] / residential_mps, abs=0.1)
        durations[name] = m.duration_s[0, 1]
    assert durations["car"] < durations["box_truck_4_2m"] < durations["truck_18t"]


def test_with_profile(trucks_osm, trucks_network):
    car = trucks_network
    n_edges = car.n_edges
    t18 = car.with_profile("truck_18t")
    assert t18 is not car
    assert t18.profile.name == "truck_18t"
    direct = rn.load_network(trucks_osm, profile="truck_18t")
    assert t18.fingerprint == direct.fingerprint
    assert t18.n_edges == direct.n_edges == 8
    assert car.n_edges == n_edges == 32  # unchanged
    assert car.profile.name == "car"
    assert car.with_profile("car") is car
    assert t18.with_profile(rn.get_profile("car")).fingerprint == car.fingerprint
    assert t18.fingerprint != car.fingerprint
    with pytest.raises(rn.InputError, match="bus"):
        car.with_profile("bus")


def test_custom_profile(trucks_osm):
    van = rn.VehicleProfile(
        name="van", gross_weight_t=3.0, height_m=3.2, hgv=False, max_speed_kph=20.0
    )
    net = rn.load_network(trucks_osm, profile=van)
    rungs = {w - 500 for w in net.edge_way_id.tolist() if 500 <= w <= 508}
    assert rungs == {0, 4, 5, 7, 8}  # not hgv; 3 t <= 3.5 t; 3.2 m > 3.0 m; 3.2 <= 3.5
    assert net.edge_speed_kph.max() == 20.0


@pytest.mark.parametrize(
    "kwargs",
    [{"name": ""}, {"gross_weight_t": -1.0}, {"height_m": 0.0}, {"max_speed_kph": float("nan")}],
)
def test_invalid_custom_profile(kwargs):
    with pytest.raises(rn.InputError):
        rn.VehicleProfile(**{"name": "x", **kwargs})


def test_builtin_profiles_match_their_table():
    p = builtin_profiles()
    assert set(p) >= {"car", "tricycle", "box_truck_4_2m", "truck_18t"}
    assert p["box_truck_4_2m"].gross_weight_t == 4.5 and p["box_truck_4_2m"].height_m == 3.2
    assert p["box_truck_4_2m"].hgv
    assert p["truck_18t"].gross_weight_t == 18 and p["truck_18t"].height_m == 3.8
    assert p["car"].gross_weight_t is None and not p["car"].hgv
    assert "motorway" in p["tricycle"].forbidden_highways
    assert rn.get_profile("car") is p["car"]
    assert rn.get_profile(p["truck_18t"]) is p["truck_18t"]
