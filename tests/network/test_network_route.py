"""Fastest routes between two points: cost, street names and a geometry along the streets."""

from __future__ import annotations

import json

import numpy as np
import pytest
from pyproj import Geod

import recyclenet as rn

GEOD = Geod(ellps="WGS84")
MPH = 1.609344
RESIDENTIAL_KPH = 25.0  # data/road_speeds.csv, checked in test_network_profile.py

Q = (120.003, 30.0019)  # beside the middle of 解放路 B-C (two-way)
X = (120.0001, 30.001)  # beside the middle of one-way 学院路 A -> D
X1 = (120.0001, 30.0015)  # a quarter of the way down A -> D
X2 = (120.0001, 30.0005)  # three quarters of the way down A -> D


def geodesic_length(line) -> float:
    return float(GEOD.geometry_length(line))


def contains_in_order(coords: np.ndarray, vertices: list[tuple[float, float]]) -> bool:
    """True if each vertex appears (to 1e-9 degrees) in coords, in the given order."""
    pos = 0
    for v in vertices:
        hits = np.nonzero(np.all(np.abs(coords[pos:] - v) < 1e-9, axis=1))[0]
        if not len(hits):
            return False
        pos += int(hits[0]) + 1
    return True


def seconds(length_m: float, kph: float) -> float:
    return length_m / (kph / 3.6)


def test_route_follows_the_bent_street(town_network, town_nodes, path_length_m):
    n = town_nodes
    bc = path_length_m(n, [2, 3])
    ab = path_length_m(n, [1, 7, 2])
    ad = path_length_m(n, [1, 4])
    r = rn.shortest_route(town_network, Q, X)
    # Q -> B along 解放路, B -> 7 -> A (the bend), then down the one-way 学院路 to X
    assert r.distance_m == pytest.approx(bc / 2 + ab + ad / 2, abs=0.3)
    expected_s = seconds(bc / 2 + ab, RESIDENTIAL_KPH) + seconds(ad / 2, 30 * MPH)
    assert r.duration_s == pytest.approx(expected_s, abs=0.05)
    assert r.street_names == ("解放路", "学院路")
    coords = np.asarray(r.geometry.coords)
    assert coords[0] == pytest.approx((120.003, 30.002), abs=1e-7)  # snapped Q
    assert coords[-1] == pytest.approx((120.000, 30.001), abs=1e-7)  # snapped X
    assert contains_in_order(coords, [n[2], n[7], n[1]])  # B, the bend vertex, A
    assert geodesic_length(r.geometry) == pytest.approx(r.distance_m, rel=0.01)
    assert r.snap_distance_m[0] == pytest.approx(GEOD.inv(*Q, 120.003, 30.002)[2], abs=0.1)
    assert r.snap_distance_m[1] == pytest.approx(GEOD.inv(*X, 120.000, 30.001)[2], abs=0.1)


def test_route_back_is_a_detour_with_utf8_names(town_network, town_nodes, path_length_m):
    n = town_nodes
    r = rn.shortest_route(town_network, X, Q)
    # X -> D (one-way forward), D -> E 中山路, E -> B (oneway=-1, unnamed), B -> Q 解放路
    expected_m = (
        path_length_m(n, [1, 4]) / 2
        + path_length_m(n, [4, 5])
        + path_length_m(n, [5, 2])
        + path_length_m(n, [2, 3]) / 2
    )
    assert r.distance_m == pytest.approx(expected_m, abs=0.3)
    assert r.street_names == ("学院路", "中山路", "解放路")
    coords = np.asarray(r.geometry.coords)
    assert contains_in_order(coords, [n[4], n[5], n[2]])
    assert coords[0] == pytest.approx((120.000, 30.001), abs=1e-7)
    assert coords[-1] == pytest.approx((120.003, 30.002), abs=1e-7)
    assert geodesic_length(r.geometry) == pytest.approx(r.distance_m, rel=0.01)
    forward = rn.shortest_route(town_network, Q, X)
    assert r.duration_s != pytest.approx(forward.duration_s, abs=0.5)


def test_route_on_one_edge_and_against_a_one_way(town_network, town_nodes, path_length_m):
    n = town_nodes
    ad = path_length_m(n, [1, 4])
    down = rn.shortest_route(town_network, X1, X2)
    assert down.distance_m == pytest.approx(ad / 2, abs=0.2)
    assert down.duration_s == pytest.approx(seconds(ad / 2, 30 * MPH), abs=0.02)
    coords = np.asarray(down.geometry.coords)
    np.testing.assert_allclose(coords[[0, -1]], [(120.0, 30.0015), (120.0, 30.0005)], atol=1e-7)
    assert down.street_names == ("学院路",)
    up = rn.shortest_route(town_network, X2, X1)  # may not drive up the one-way street
    expected_m = (
        ad / 4
        + path_length_m(n, [4, 5])
        + path_length_m(n, [5, 2])
        + path_length_m(n, [2, 7, 1])
        + ad / 4
    )
    assert up.distance_m == pytest.approx(expected_m, abs=0.3)
    assert up.distance_m > 6 * down.distance_m
    coords = np.asarray(up.geometry.coords)
    assert contains_in_order(coords, [n[4], n[5], n[2], n[7], n[1]])
    assert geodesic_length(up.geometry) == pytest.approx(up.distance_m, rel=0.01)


def test_route_geometry_has_no_repeated_vertices(town_network):
    r = rn.shortest_route(town_network, Q, X)
    coords = np.asarray(r.geometry.coords)
    step = np.abs(np.diff(coords, axis=0)).max(axis=1)
    assert (step > 1e-9).all(), coords[np.nonzero(step <= 1e-9)[0]]


def test_route_to_geojson(town_network):
    r = rn.shortest_route(town_network, X, Q)
    feat = r.to_geojson()
    text = json.dumps(feat, ensure_ascii=False)
    back = json.loads(text)
    assert back["type"] == "Feature"
    assert back["geometry"]["type"] == "LineString"
    first = back["geometry"]["coordinates"][0]
    assert first == pytest.approx([120.000, 30.001], abs=1e-7)  # lon first (RFC 7946)
    assert back["properties"]["distance_m"] == pytest.approx(r.distance_m)
    assert back["properties"]["duration_s"] == pytest.approx(r.duration_s)
    assert back["properties"]["street_names"] == ["学院路", "中山路", "解放路"]
    assert "解放路" in text


def test_helsinki_routes_match_matrix_and_geometry(helsinki_network):
    net = helsinki_network
    rng = np.random.default_rng(99)
    edges = rng.choice(net.n_edges, size=24, replace=False)
    lon, lat = [], []
    for e in edges:
        g = net.edge_geometry[e]
        k = rng.integers(0, len(g) - 1)
        t = rng.uniform(0.2, 0.8)
        p = g[k] + t * (g[k + 1] - g[k])
        lon.append(p[0])
        lat.append(p[1])
    pts = rn.Points(tuple(f"h{i}" for i in range(24)), np.array(lon), np.array(lat))
    m = rn.build_matrix(net, pts)
    snapped = rn.snap_points(net, pts)
    checked = 0
    for i, j in zip(range(0, 24, 2), range(1, 24, 2)):
        for a, b in ((i, j), (j, i)):
            r = rn.shortest_route(net, (lon[a], lat[a]), (lon[b], lat[b]))
            assert r.duration_s == pytest.approx(m.duration_s[a, b], abs=1e-6)
            assert r.distance_m == pytest.approx(m.distance_m[a, b], abs=1e-6)
            coords = np.asarray(r.geometry.coords)
            assert coords[0] == pytest.approx((snapped.lon[a], snapped.lat[a]), abs=1e-7)
            assert coords[-1] == pytest.approx((snapped.lon[b], snapped.lat[b]), abs=1e-7)
            if r.distance_m > 200:
                assert geodesic_length(r.geometry) == pytest.approx(r.distance_m, rel=0.01)
                checked += 1
            # every full inner edge's vertices are in the geometry, in order
            for e in r.edges[1:-1]:
                assert contains_in_order(coords, [tuple(v) for v in net.edge_geometry[e]])
    assert checked >= 10


def test_route_too_far_raises(town_network):
    with pytest.raises(rn.SnapError) as info:
        rn.shortest_route(town_network, Q, (120.001, 30.010))
    assert info.value.ids == ["destination"]
    assert "destination" in str(info.value)
    r = rn.shortest_route(town_network, Q, (120.001, 30.010), max_snap_distance_m=1000)
    assert r.snap_distance_m[1] > 800
