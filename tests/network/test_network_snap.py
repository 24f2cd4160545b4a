"""Snapping lon/lat points onto drivable edges (not only nodes)."""

from __future__ import annotations

import re

import numpy as np
import pytest
from pyproj import Geod

import recyclenet as rn

GEOD = Geod(ellps="WGS84")


def geod_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    return float(GEOD.inv(a[0], a[1], b[0], b[1])[2])


def one(pid: str, lon: float, lat: float) -> rn.Points:
    return rn.Points((pid,), np.array([lon]), np.array([lat]))


def test_point_beside_middle_of_edge_snaps_onto_the_edge(town_network, edge_of):
    # 中山路 D(120.000, 30.000) - E(120.002, 30.000); the point is ~33 m north of its middle
    p = (120.001, 30.0003)
    s = rn.snap_points(town_network, one("P", *p))
    foot = (120.001, 30.000)
    assert s.ids == ("P",)
    de, ed = edge_of(town_network, 4, 5), edge_of(town_network, 5, 4)
    assert int(s.edge[0]) in (de, ed)
    assert s.fraction[0] == pytest.approx(0.5, abs=1e-3)
    assert s.snap_distance_m[0] == pytest.approx(geod_m(p, foot), abs=0.1)
    assert s.snap_distance_m[0] == pytest.approx(33.3, abs=0.2)
    assert (s.lon[0], s.lat[0]) == pytest.approx(foot, abs=1e-7)
    # an edge, not a node: the nearest node is ~100 m away
    nearest_node = min(
        geod_m(p, (lon, lat)) for lon, lat in zip(town_network.node_lon, town_network.node_lat)
    )
    assert nearest_node > 95
    assert s.snap_distance_m[0] < nearest_node / 2
    # the twin placement stands at the same spot the other way
    placements = s.placements(town_network, 0)
    assert {e for e, _ in placements} == {de, ed}
    assert sum(f for _, f in placements) == pytest.approx(1.0)


def test_snap_fraction_follows_the_edge_direction(town_network, edge_of):
    # 学院路 is one-way A(30.002) -> D(30.000): a point 1/4 of the way from A
    s = rn.snap_points(town_network, one("X", 120.0001, 30.0015))
    assert int(s.edge[0]) == edge_of(town_network, 1, 4)
    assert s.fraction[0] == pytest.approx(0.25, abs=1e-3)
    assert s.placements(town_network, 0) == [(int(s.edge[0]), pytest.approx(0.25, abs=1e-3))]
    assert s.snap_distance_m[0] == pytest.approx(
        geod_m((120.0001, 30.0015), (120.0, 30.0015)), abs=0.1
    )


def test_snap_onto_a_bent_edge(town_network, edge_of):
    # 解放路 A - 7(120.001, 30.0025) - B bends; a point just below the bend vertex
    s = rn.snap_points(town_network, one("bend", 120.001, 30.0024))
    assert int(s.edge[0]) in (edge_of(town_network, 1, 2), edge_of(town_network, 2, 1))
    assert s.fraction[0] == pytest.approx(0.5, abs=0.05)  # on a segment next to the bend
    # distance to the nearer of the two segments, not to the vertex
    assert 5.0 < s.snap_distance_m[0] < geod_m((120.001, 30.0024), (120.001, 30.0025))


def test_points_on_nodes_have_zero_snap_distance(helsinki_network):
    rng = np.random.default_rng(11)
    idx = rng.choice(helsinki_network.n_nodes, size=40, replace=False)
    pts = rn.Points(
        tuple(f"n{i}" for i in idx), helsinki_network.node_lon[idx], helsinki_network.node_lat[idx]
    )
    s = rn.snap_points(helsinki_network, pts)
    assert s.ids == pts.ids
    np.testing.assert_allclose(s.snap_distance_m, 0.0, atol=1e-3)
    np.testing.assert_allclose(s.lon, pts.lon, atol=1e-8)
    np.testing.assert_allclose(s.lat, pts.lat, atol=1e-8)
    for k, i in enumerate(idx):
        e, f = int(s.edge[k]), float(s.fraction[k])
        at_tail = helsinki_network.edge_u[e] == i and f == pytest.approx(0.0, abs=1e-6)
        at_head = helsinki_network.edge_v[e] == i and f == pytest.approx(1.0, abs=1e-6)
        assert at_tail or at_head


def test_snap_distances_on_helsinki_match_geodesic(helsinki_network):
    rng = np.random.default_rng(5)
    west, south, east, north = helsinki_network.bbox
    lon = rng.uniform(west + 0.002, east - 0.002, 30)
    lat = rng.uniform(south + 0.001, north - 0.001, 30)
    pts = rn.Points(tuple(f"r{i}" for i in range(30)), lon, lat)
    s = rn.snap_points(helsinki_network, pts, max_snap_distance_m=5_000)
    for k in range(30):
        assert s.snap_distance_m[k] == pytest.approx(
            geod_m((lon[k], lat[k]), (s.lon[k], s.lat[k])), rel=2e-3, abs=0.05
        )
        g = helsinki_network.edge_geometry[int(s.edge[k])]
        # the snapped position lies on the edge's geometry
        d = min(_point_segment_m((s.lon[k], s.lat[k]), g[j], g[j + 1]) for j in range(len(g) - 1))
        assert d < 0.05


def _point_segment_m(p, a, b) -> float:
    """Distance from p to segment a-b in metres (local equirectangular, fine at 100 m)."""
    kx = 111_320.0 * np.cos(np.radians(p[1]))
    ky = 110_574.0
    px, py = (p[0] - a[0]) * kx, (p[1] - a[1]) * ky
    bx, by = (b[0] - a[0]) * kx, (b[1] - a[1]) * ky
    t = 0.0 if bx == by == 0 else float(np.clip((px * bx + py * by) / (bx * bx + by * by), 0, 1))
    return float(np.hypot(px - t * bx, py - t * by))


def test_too_far_point_raises_naming_id_and_distance(town_network):
    far = (120.001, 30.010)  # nearest road: the bend vertex of 解放路 at (120.001, 30.0025)
    expected = geod_m(far, (120.001, 30.0025))
    pts = rn.Points(("near", "far-1"), np.array([120.001, far[0]]), np.array([30.0003, far[1]]))
    with pytest.raises(rn.SnapError) as info:
        rn.snap_points(town_network, pts)
    err = info.value
    assert isinstance(err, rn.NetworkError) and isinstance(err, ValueError)
    assert err.ids == ["far-1"]
    msg = str(err)
    assert "near" not in msg.replace("nearest", "")
    match = re.search(r"far-1 \(([\d,]+) m\)", msg)
    assert match, msg
    assert float(match.group(1).replace(",", "")) == pytest.approx(expected, rel=0.01)
    assert "500" in msg  # the limit
    assert "max_snap_distance_m" in msg  # what would fix it


def test_default_limit_is_500_m(town_network):
    ok = rn.snap_points(town_network, one("ok", 120.001, 30.0061))  # ~400 m from the bend
    assert ok.snap_distance_m[0] == pytest.approx(
        geod_m((120.001, 30.0061), (120.001, 30.0025)), rel=0.01
    )
    with pytest.raises(rn.SnapError, match="bad"):
        rn.snap_points(town_network, one("bad", 120.001, 30.0080))  # ~610 m


def test_custom_snap_limit(town_network):
    with pytest.raises(rn.SnapError) as info:
        rn.snap_points(town_network, one("P", 120.001, 30.0003), max_snap_distance_m=20.0)
    assert info.value.ids == ["P"]
    assert "20 m" in str(info.value)
    s = rn.snap_points(town_network, one("far-1", 120.001, 30.010), max_snap_distance_m=1000.0)
    assert s.snap_distance_m[0] == pytest.approx(
        geod_m((120.001, 30.010), (120.001, 30.0025)), rel=0.01
    )


def test_swapped_lon_lat_hint(helsinki_network):
    # Helsinki is at lon 24.94, lat 60.17; swapped it is in the Arabian Sea
    pts = rn.Points(("kauppatori",), np.array([60.1675]), np.array([24.9525]))
    with pytest.raises(rn.SnapError) as info:
        rn.snap_points(helsinki_network, pts)
    msg = str(info.value)
    assert "kauppatori" in msg
    assert "swapped" in msg
    assert info.value.ids == ["kauppatori"]


def test_profile_named_in_snap_error(trucks_osm):
    net = rn.load_network(trucks_osm, profile="truck_18t")
    with pytest.raises(rn.SnapError, match="truck_18t"):
        rn.snap_points(net, one("x", 121.0, 31.0))
