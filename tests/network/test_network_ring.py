"""A two-way street that closes on itself (a ring road inside a compound) can be driven
both ways round: the self-loop edge it becomes gets a reverse twin.

Before the fix the two self-loop pieces of the ring had ``edge_twin = -1``, so a point on
the ring could only leave in the direction of the edge it snapped to: 307.7 m the long way
round instead of 107.4 m.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import recyclenet as rn
from recyclenet.network.build import haversine_m

# Spur S(1) at lat 29.999 goes north to the ring's only junction R(10) at (120.000, 30.000).
# Ring (way 201, closed, two-way): 10 -> 11 (120.001, 30.000) -> 12 (120.001, 30.001)
#   -> 13 (120.000, 30.001) -> 10.
RING_OSM = """<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6" generator="recyclenet-tests">
  <node id="1" version="1" lat="29.9990" lon="120.0000"/>
  <node id="10" version="1" lat="30.0000" lon="120.0000"/>
  <node id="11" version="1" lat="30.0000" lon="120.0010"/>
  <node id="12" version="1" lat="30.0010" lon="120.0010"/>
  <node id="13" version="1" lat="30.0010" lon="120.0000"/>
  <way id="200" version="1">
    <nd ref="1"/><nd ref="10"/>
    <tag k="highway" v="residential"/>
  </way>
  <way id="201" version="1">
    <nd ref="10"/><nd ref="11"/><nd ref="12"/><nd ref="13"/><nd ref="10"/>
    <tag k="highway" v="residential"/>
    <tag k="name" v="小区环路"/>
  </way>
</osm>
"""


def _len(a: tuple[float, float], b: tuple[float, float]) -> float:
    return float(haversine_m(a[0], a[1], b[0], b[1]))


@pytest.fixture(scope="module")
def ring_network(tmp_path_factory: pytest.TempPathFactory) -> rn.RoadNetwork:
    path = Path(tmp_path_factory.mktemp("ring")) / "ring.osm"
    path.write_text(RING_OSM, encoding="utf-8")
    return rn.load_network(path, profile="car")


def test_ring_self_loop_edges_are_twins(ring_network: rn.RoadNetwork) -> None:
    net = ring_network
    loops = np.nonzero(net.edge_u == net.edge_v)[0]
    assert loops.size == 2  # the ring, once each way round
    a, b = (int(e) for e in loops)
    assert int(net.edge_twin[a]) == b and int(net.edge_twin[b]) == a
    np.testing.assert_array_equal(net.edge_geometry[a], net.edge_geometry[b][::-1])
    # the spur's two directions are twins too (unchanged behaviour)
    spur = np.nonzero(net.edge_u != net.edge_v)[0]
    assert spur.size == 2
    assert int(net.edge_twin[spur[0]]) == int(spur[1])


@pytest.mark.parametrize(
    ("pid", "lon", "lat", "corner", "ring_m"),
    [
        # just past corner 11 going 10 -> 11 -> 12: short way round through 11
        ("east", 120.0010, 30.0001, (120.0010, 30.0000), 96.3 + 11.1),
        # just past corner 13 going 10 -> 13 -> 12: short way round the other way
        ("north", 120.0001, 30.0010, (120.0000, 30.0010), 111.2 + 9.6),
    ],
)
def test_point_on_ring_travels_the_short_way_both_directions(
    ring_network: rn.RoadNetwork,
    pid: str,
    lon: float,
    lat: float,
    corner: tuple[float, float],
    ring_m: float,
) -> None:
    spur_end = (120.0, 29.999)
    junction = (120.0, 30.0)
    pts = rn.Points((pid, "S"), np.array([lon, spur_end[0]]), np.array([lat, spur_end[1]]))
    m = rn.build_matrix(ring_network, pts)
    short = _len(spur_end, junction) + _len(junction, corner) + _len(corner, (lon, lat))
    perimeter = 2 * _len((120.0, 30.0), (120.001, 30.0)) + 2 * _len((120.0, 30.0), (120.0, 30.001))
    assert short == pytest.approx(111.2 + ring_m, abs=0.1)
    # out of the ring to the spur's end, and back in: both the short way round
    assert m.distance_m[0, 1] == pytest.approx(short, abs=0.3)
    assert m.distance_m[1, 0] == pytest.approx(short, abs=0.3)
    # the long way round is 295.6 m (from "east") or 294.9 m (from "north") round the ring
    assert perimeter - ring_m > ring_m + 170
