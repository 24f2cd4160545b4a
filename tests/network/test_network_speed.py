"""The urban speed model: congested speeds by road class and period."""

from __future__ import annotations

import csv
from importlib import resources

import numpy as np
import pytest

import recyclenet as rn
from recyclenet.network.hours import get_period
from recyclenet.network.profile import DRIVABLE_HIGHWAYS
from recyclenet.network.speed import RoadConditions, urban_factor

from ..conftest import haversine_m, write_osm


def urban_table() -> dict[str, dict[str, float]]:
    text = resources.files("recyclenet").joinpath("data/urban_speeds.csv").read_text("utf-8")
    rows = csv.DictReader(line for line in text.splitlines() if not line.startswith("#"))
    return {r["highway"]: {k: float(r[k]) for k in ("peak", "offpeak", "night")} for r in rows}


def test_urban_table_is_sourced_and_complete():
    text = resources.files("recyclenet").joinpath("data/urban_speeds.csv").read_text("utf-8")
    assert "Source" in text and "AMap" in text and "ESTIMATES" in text
    table = urban_table()
    assert set(table) >= DRIVABLE_HIGHWAYS
    for row in table.values():
        assert 0 < row["peak"] <= row["offpeak"] <= row["night"] <= 1


def test_urban_factor_by_period():
    t = urban_table()["primary"]
    assert urban_factor("primary", get_period("peak")) == pytest.approx(t["peak"])
    assert urban_factor("primary", get_period("night")) == pytest.approx(t["night"])
    assert urban_factor("primary", get_period("Tu 08:15")) == pytest.approx(t["peak"])
    # day = 4 peak hours + 12 off-peak hours: time-weighted harmonic mean
    day = 16 / (4 / t["peak"] + 12 / t["offpeak"])
    assert urban_factor("primary", get_period("day")) == pytest.approx(day)
    assert (
        urban_factor("no_such_class", get_period("peak")) == urban_table()["unclassified"]["peak"]
    )


def test_bad_speed_model():
    with pytest.raises(rn.InputError, match="speed model"):
        RoadConditions(speed_model="rush")


@pytest.fixture
def arterial_osm(tmp_path):
    """An untagged 1 km primary road and a 300 m maxspeed=60 secondary."""
    nodes = {1: (116.40, 39.90), 2: (116.41171, 39.90), 3: (116.41171, 39.9027)}
    ways = [(1, [1, 2], {"highway": "primary"}),
            (2, [2, 3], {"highway": "secondary", "maxspeed": "60"})]  # fmt: skip
    return write_osm(tmp_path / "arterial.osm", nodes, ways), nodes


def test_box_truck_on_an_arterial_at_peak(arterial_osm):
    path, nodes = arterial_osm
    free = rn.load_network(path, profile="box_truck_4_2m")
    peak = rn.load_network(path, profile="box_truck_4_2m", speed_model="urban", period="peak")
    t = urban_table()
    speeds_free = dict(zip(free.edge_way_id.tolist(), free.edge_speed_kph.tolist()))
    speeds_peak = dict(zip(peak.edge_way_id.tolist(), peak.edge_speed_kph.tolist()))
    assert speeds_free[1] == 65.0 and speeds_free[2] == 60.0
    assert speeds_peak[1] == pytest.approx(65.0 * t["primary"]["peak"])  # 27.3 km/h
    assert 20.0 <= speeds_peak[1] <= 35.0
    assert speeds_peak[2] == pytest.approx(60.0 * t["secondary"]["peak"])
    night = peak.with_conditions(period="night")
    assert dict(zip(night.edge_way_id.tolist(), night.edge_speed_kph.tolist()))[1] == \
        pytest.approx(65.0 * t["primary"]["night"])  # fmt: skip
    assert peak.with_profile("car").conditions.speed_model == "urban"
    assert peak.info()["speed_model"] == "urban" and peak.info()["period"] == "peak"
    # the matrix follows: 1 km at 27.3 km/h
    pts = rn.Points(("a", "b"), np.array([nodes[1][0], nodes[2][0]]),
                    np.array([nodes[1][1], nodes[2][1]]))  # fmt: skip
    length = haversine_m(*nodes[1], *nodes[2])
    m = rn.build_matrix(peak, pts)
    assert m.duration_s[0, 1] == pytest.approx(length / (65.0 * t["primary"]["peak"] / 3.6),
                                               abs=0.05)  # fmt: skip
    assert m.duration_s[0, 1] > 2.3 * rn.build_matrix(free, pts).duration_s[0, 1]


def test_vehicle_cap_applies_after_congestion(arterial_osm):
    """A tricycle (25 km/h cap) keeps 25 km/h where congested traffic still runs faster."""
    path, _ = arterial_osm
    t = urban_table()
    for period, expected in (("peak", min(25.0, 65.0 * t["primary"]["peak"])),
                             ("night", 25.0)):  # fmt: skip
        net = rn.load_network(path, profile="tricycle", speed_model="urban", period=period)
        assert dict(zip(net.edge_way_id.tolist(), net.edge_speed_kph.tolist()))[1] == \
            pytest.approx(expected)  # fmt: skip
