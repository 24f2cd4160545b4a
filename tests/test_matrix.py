"""Travel matrices: exact against networkx, points inside edges, one-way asymmetry,
unreachable pairs, parallel workers, and the on-disk cache."""

from __future__ import annotations

from itertools import pairwise

import networkx as nx
import numpy as np
import pytest

import recyclenet as rn
import recyclenet.matrix as rmatrix

MPH = 1.609344
RESIDENTIAL_KPH = 25.0


def node_points(net: rn.RoadNetwork, idx: np.ndarray) -> rn.Points:
    return rn.Points(tuple(f"n{i}" for i in idx), net.node_lon[idx], net.node_lat[idx])


def edge_points(net: rn.RoadNetwork, n: int, seed: int) -> rn.Points:
    """Seeded points lying on random edges, away from the ends."""
    rng = np.random.default_rng(seed)
    lon, lat = [], []
    for e in rng.choice(net.n_edges, size=n, replace=False):
        g = net.edge_geometry[e]
        k = rng.integers(0, len(g) - 1)
        p = g[k] + rng.uniform(0.1, 0.9) * (g[k + 1] - g[k])
        lon.append(p[0])
        lat.append(p[1])
    return rn.Points(tuple(f"e{i}" for i in range(n)), np.array(lon), np.array(lat))


# ----------------------------------------------------------------- exactness
def test_matrix_equals_networkx_on_random_node_pairs(helsinki_network):
    net = helsinki_network.without_turn_restrictions()  # networkx: no turns
    rng = np.random.default_rng(2024)
    idx = rng.choice(net.n_nodes, size=30, replace=False)
    pts = node_points(net, idx)
    m = rn.build_matrix(net, pts)
    assert m.origin_ids == m.destination_ids == pts.ids
    assert m.shape == (30, 30)
    g = net.to_networkx()  # nodes keyed by OSM id
    osm = net.node_osm_id

    def tie_broken(u, v, data):  # fastest, then shortest (the documented tie-break)
        return min(d["duration_s"] + 1e-9 * d["length_m"] for d in data.values())

    for a, src in enumerate(idx):
        durations = nx.single_source_dijkstra_path_length(g, int(osm[src]), weight="duration_s")
        _, paths = nx.single_source_dijkstra(g, int(osm[src]), weight=tie_broken)
        for b, dst in enumerate(idx):
            assert m.duration_s[a, b] == pytest.approx(durations[int(osm[dst])], abs=1e-6)
            path = paths[int(osm[dst])]
            length = duration = 0.0
            for u, v in pairwise(path):
                best = min(g[u][v].values(), key=lambda d: (d["duration_s"], d["length_m"]))
                length += best["length_m"]
                duration += best["duration_s"]
            assert duration == pytest.approx(m.duration_s[a, b], abs=1e-6)
            assert m.distance_m[a, b] == pytest.approx(length, abs=1e-6)
    np.testing.assert_array_equal(np.diag(m.duration_s), 0.0)
    np.testing.assert_array_equal(np.diag(m.distance_m), 0.0)
    assert np.isfinite(m.duration_s).all()
    assert (m.duration_s[~np.eye(30, dtype=bool)] > 0).all()


def test_many_node_pairs_equal_networkx_durations(helsinki_network):
    """A wider check of the many-to-many engine: 120 x 120 node pairs, parallel default."""
    net = helsinki_network.without_turn_restrictions()  # networkx: no turns
    rng = np.random.default_rng(77)
    idx = rng.choice(net.n_nodes, size=120, replace=False)
    m = rn.build_matrix(net, node_points(net, idx))
    g = net.to_networkx()  # nodes keyed by OSM id
    osm = net.node_osm_id
    expected = np.empty((120, 120))
    for a, src in enumerate(idx):
        lengths = nx.single_source_dijkstra_path_length(g, int(osm[src]), weight="duration_s")
        expected[a] = [lengths[int(osm[dst])] for dst in idx]
    np.testing.assert_allclose(m.duration_s, expected, rtol=0, atol=1e-6)


def test_points_inside_edges_hand_computed(town_network, edge_of):
    """P beside the middle of 中山路 D-E, Q beside the middle of 解放路 B-C."""
    net = town_network
    keys = [
        (4, 5, 102),
        (5, 4, 102),
        (5, 6, 102),
        (6, 5, 102),
        (5, 2, 104),
        (2, 3, 101),
        (3, 2, 101),
        (2, 1, 101),
        (1, 4, 103),
        (3, 6, 105),
        (6, 3, 105),
        (6, 5, 110),
    ]
    d = {k: net.edge_duration_s[edge_of(net, *k)] for k in keys}
    length = {k: net.edge_length_m[edge_of(net, *k)] for k in keys}
    pts = rn.Points(("P", "Q"), np.array([120.001, 120.003]), np.array([30.0003, 30.0019]))
    m = rn.build_matrix(net, pts)
    # P -> Q: half of D-E to E, E -> B (the oneway=-1 street), half of B-C
    p_to_q = [
        d[4, 5, 102] / 2 + d[5, 2, 104] + d[2, 3, 101] / 2,
        d[4, 5, 102] / 2 + d[5, 6, 102] + d[6, 3, 105] + d[3, 2, 101] / 2,
    ]
    # Q -> P: B -> E is forbidden; via B-A-D (one-way A -> D), or C-F-E (either F -> E)
    q_to_p = [
        d[3, 2, 101] / 2 + d[2, 1, 101] + d[1, 4, 103] + d[4, 5, 102] / 2,
        d[2, 3, 101] / 2 + d[3, 6, 105] + d[6, 5, 102] + d[5, 4, 102] / 2,
        d[2, 3, 101] / 2 + d[3, 6, 105] + d[6, 5, 110] + d[5, 4, 102] / 2,
    ]
    assert m.duration_s[0, 1] == pytest.approx(min(p_to_q), abs=0.02)
    assert m.duration_s[1, 0] == pytest.approx(min(q_to_p), abs=0.02)
    assert m.duration_s[1, 0] == pytest.approx(q_to_p[1], abs=0.02)  # via C-F-E (66.7 s)
    assert m.distance_m[0, 1] == pytest.approx(
        length[4, 5, 102] / 2 + length[5, 2, 104] + length[2, 3, 101] / 2, abs=0.2
    )
    assert m.distance_m[1, 0] == pytest.approx(
        length[2, 3, 101] / 2 + length[3, 6, 105] + length[6, 5, 102] + length[5, 4, 102] / 2,
        abs=0.2,
    )
    np.testing.assert_array_equal(np.diag(m.duration_s), 0.0)
    assert m.snap_distance_m["P"] == pytest.approx(33.3, abs=0.2)
    assert m.snap_distance_m["Q"] == pytest.approx(11.1, abs=0.2)


def test_asymmetry_on_a_one_way_street(town_network, town_nodes, path_length_m):
    """Two points on one-way 学院路 A -> D: down is direct, up is a detour."""
    n = town_nodes
    pts = rn.Points(("up", "down"), np.array([120.0001, 120.0001]), np.array([30.0015, 30.0005]))
    m = rn.build_matrix(town_network, pts)
    ad = path_length_m(n, [1, 4])
    assert m.distance_m[0, 1] == pytest.approx(ad / 2, abs=0.2)
    assert m.duration_s[0, 1] == pytest.approx(ad / 2 / (30 * MPH / 3.6), abs=0.02)
    detour_m = (
        ad / 4
        + path_length_m(n, [4, 5])
        + path_length_m(n, [5, 2])
        + path_length_m(n, [2, 7, 1])
        + ad / 4
    )
    detour_s = (
        ad / 2 / (30 * MPH / 3.6)
        + path_length_m(n, [4, 5]) / (50 / 3.6)
        + path_length_m(n, [5, 2]) / (50 / 3.6)
        + path_length_m(n, [2, 7, 1]) / (RESIDENTIAL_KPH / 3.6)
    )
    assert m.distance_m[1, 0] == pytest.approx(detour_m, abs=0.3)
    assert m.duration_s[1, 0] == pytest.approx(detour_s, abs=0.05)
    assert m.duration_s[1, 0] > 5 * m.duration_s[0, 1]
    assert not np.array_equal(m.duration_s, m.duration_s.T)


def test_rectangular_matrix_and_order(town_network):
    o = rn.Points(("P", "Q"), np.array([120.001, 120.003]), np.array([30.0003, 30.0019]))
    d = rn.Points(
        ("X", "P2", "Q2"),
        np.array([120.0001, 120.001, 120.003]),
        np.array([30.001, 30.0003, 30.0019]),
    )
    m = rn.build_matrix(town_network, o, d)
    assert m.shape == (2, 3)
    assert m.origin_ids == ("P", "Q") and m.destination_ids == ("X", "P2", "Q2")
    sq = rn.build_matrix(town_network, o)
    assert m.duration_s[0, 1] == 0.0 and m.duration_s[1, 2] == 0.0  # same spots
    assert m.duration_s[0, 2] == sq.duration_s[0, 1]
    assert m.duration_s[1, 1] == sq.duration_s[1, 0]
    sub = m.select(["Q"], ["Q2", "X"])
    assert sub.duration_s.tolist() == [[0.0, m.duration_s[1, 0]]]


def test_helsinki_points_on_edges_against_networkx(helsinki_network):
    """Points inside edges: compare with networkx on a graph with the points spliced in."""
    net = helsinki_network.without_turn_restrictions()  # networkx: no turns
    pts = edge_points(net, 12, seed=3)
    m = rn.build_matrix(net, pts)
    snapped = rn.snap_points(net, pts)
    g = nx.MultiDiGraph()
    for e in range(net.n_edges):
        g.add_edge(int(net.edge_u[e]), int(net.edge_v[e]), duration_s=net.edge_duration_s[e])
    for i, pid in enumerate(pts.ids):
        for e, f in snapped.placements(net, i):
            dur = net.edge_duration_s[e]
            g.add_edge(("o", pid), int(net.edge_v[e]), duration_s=(1 - f) * dur)
            g.add_edge(int(net.edge_u[e]), ("d", pid), duration_s=f * dur)
    for a, pa in enumerate(pts.ids):
        lengths = nx.single_source_dijkstra_path_length(g, ("o", pa), weight="duration_s")
        for b, pb in enumerate(pts.ids):
            if a == b:
                assert m.duration_s[a, b] == 0.0
                continue
            # partial edge costs are rounded to 0.01 s at each end
            assert m.duration_s[a, b] == pytest.approx(lengths[("d", pb)], abs=0.011)


def test_workers_give_identical_results(helsinki_network):
    pts = edge_points(helsinki_network, 90, seed=17)
    one = rn.build_matrix(helsinki_network, pts, workers=1)
    two = rn.build_matrix(helsinki_network, pts, workers=2)
    default = rn.build_matrix(helsinki_network, pts)
    np.testing.assert_array_equal(one.duration_s, two.duration_s)
    np.testing.assert_array_equal(one.distance_m, two.distance_m)
    np.testing.assert_array_equal(one.duration_s, default.duration_s)
    np.testing.assert_array_equal(np.diag(one.duration_s), 0.0)
    assert np.isfinite(one.duration_s).all()


def test_same_matrix_twice_is_deterministic(helsinki_network):
    pts = edge_points(helsinki_network, 20, seed=8)
    a = rn.build_matrix(helsinki_network, pts)
    b = rn.build_matrix(helsinki_network, pts)
    assert a.origin_ids == b.origin_ids
    np.testing.assert_array_equal(a.duration_s, b.duration_s)
    np.testing.assert_array_equal(a.distance_m, b.distance_m)


def test_matrix_equality_does_not_raise():
    a = rn.Matrix(("a", "b"), ("a", "b"), np.zeros((2, 2)), np.zeros((2, 2)))
    b = rn.Matrix(("a", "b"), ("a", "b"), np.zeros((2, 2)), np.zeros((2, 2)))
    assert isinstance(a == b, bool)
    assert a == a


# ----------------------------------------------------------------- Matrix type
def test_unreachable_pairs_are_inf_never_zero():
    inf = np.inf
    m = rn.Matrix(
        ("a", "b", "c"),
        ("a", "b", "c"),
        np.array([[0.0, 10.0, inf], [12.0, 0.0, inf], [inf, inf, 0.0]]),
        np.array([[0.0, 100.0, inf], [120.0, 0.0, inf], [inf, inf, 0.0]]),
    )
    assert m.reachable.tolist() == [[True, True, False], [True, True, False], [False, False, True]]
    assert m.unreachable_pairs() == [("a", "c"), ("b", "c"), ("c", "a"), ("c", "b")]
    assert np.isinf(m.duration_s[0, 2]) and m.duration_s[0, 2] != 0
    assert np.isinf(m.distance_m[2, 1])
    sub = m.select(["c"], ["a", "c"])
    assert np.isinf(sub.duration_s[0, 0]) and sub.duration_s[0, 1] == 0.0
    with pytest.raises(ValueError):
        m.duration_s[0, 0] = 5.0  # read-only


@pytest.mark.parametrize(
    ("dur", "ids", "match"),
    [
        (np.array([[0.0, np.nan], [1.0, 0.0]]), ("a", "b"), "NaN"),
        (np.array([[0.0, -1.0], [1.0, 0.0]]), ("a", "b"), "negative"),
        (np.zeros((2, 3)), ("a", "b"), "shape"),
        (np.zeros((2, 2)), ("a", "a"), "duplicate"),
    ],
)
def test_matrix_validation(dur, ids, match):
    with pytest.raises(rn.InputError, match=match):
        rn.Matrix(ids, ids, dur, np.zeros_like(dur) if not np.isnan(dur).any() else dur)


def test_matrix_select_unknown_id():
    m = rn.Matrix(("a",), ("b",), np.zeros((1, 1)), np.zeros((1, 1)))
    with pytest.raises(rn.InputError, match="zz"):
        m.select(["zz"])


# ----------------------------------------------------------------------- cache
@pytest.fixture
def count_searches(monkeypatch):
    """Count calls of the matrix search (a cache hit makes none)."""
    calls = []
    real = rmatrix.matrix_weights

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(rmatrix, "matrix_weights", counting)
    return calls


def town_points() -> rn.Points:
    return rn.Points(
        ("P", "Q", "X"),
        np.array([120.001, 120.003, 120.0001]),
        np.array([30.0003, 30.0019, 30.001]),
    )


def test_cache_hit(town_network, tmp_path, count_searches, monkeypatch):
    pts = town_points()
    first = rn.build_matrix(town_network, pts, cache_dir=tmp_path)
    files = list(tmp_path.glob("*"))
    assert len(files) == 1 and files[0].stat().st_size > 0
    assert len(count_searches) == 1
    mtime = files[0].stat().st_mtime_ns

    def fail(*args, **kwargs):
        raise AssertionError("cache hit expected: no snapping or search")

    monkeypatch.setattr(rmatrix, "snap_points", fail)
    second = rn.build_matrix(town_network, pts, cache_dir=tmp_path)
    assert len(count_searches) == 1
    assert second.origin_ids == first.origin_ids
    np.testing.assert_array_equal(second.duration_s, first.duration_s)
    np.testing.assert_array_equal(second.distance_m, first.distance_m)
    assert second.profile == "car"
    assert second.snap_distance_m == pytest.approx(first.snap_distance_m)
    assert files[0].stat().st_mtime_ns == mtime
    assert list(tmp_path.glob("*")) == files


def test_cache_invalidated_by_points_profile_network_and_limit(
    town_osm, town_network, tmp_path, count_searches
):
    pts = town_points()
    base = rn.build_matrix(town_network, pts, cache_dir=tmp_path)
    assert len(count_searches) == 1

    moved = rn.Points(
        pts.ids, pts.lon + np.array([0.0, 0.0, 0.0]), pts.lat + np.array([0.0, 0.0, 0.0001])
    )
    m = rn.build_matrix(town_network, moved, cache_dir=tmp_path)
    assert len(count_searches) == 2
    assert m.duration_s[0, 2] != base.duration_s[0, 2]

    renamed = rn.Points(("P", "Q", "Y"), pts.lon, pts.lat)
    m = rn.build_matrix(town_network, renamed, cache_dir=tmp_path)
    assert len(count_searches) == 3
    assert m.destination_ids[2] == "Y"

    truck = town_network.with_profile("truck_18t")
    m = rn.build_matrix(truck, pts, cache_dir=tmp_path)
    assert len(count_searches) == 4
    assert m.profile == "truck_18t"

    rn.build_matrix(town_network, pts, cache_dir=tmp_path, max_snap_distance_m=100.0)
    assert len(count_searches) == 5

    # a different network: 中山路 with maxspeed 40 instead of 50
    changed = tmp_path / "town40.osm"
    changed.write_text(town_osm.read_text("utf-8").replace('v="50"', 'v="40"'), "utf-8")
    slower = rn.load_network(changed)
    m = rn.build_matrix(slower, pts, cache_dir=tmp_path)
    assert len(count_searches) == 6
    assert m.duration_s[0, 1] > base.duration_s[0, 1]

    # and the original request is still a hit
    again = rn.build_matrix(town_network, pts, cache_dir=tmp_path)
    assert len(count_searches) == 6
    np.testing.assert_array_equal(again.duration_s, base.duration_s)


@pytest.mark.parametrize(
    "damage",
    ["garbage", pytest.param("truncate"), pytest.param("empty")],
)
def test_corrupted_cache_is_recomputed(town_network, tmp_path, count_searches, damage):
    pts = town_points()
    base = rn.build_matrix(town_network, pts, cache_dir=tmp_path)
    (path,) = tmp_path.glob("*")
    data = path.read_bytes()
    if damage == "garbage":
        path.write_bytes(np.random.default_rng(1).bytes(len(data)))
    elif damage == "truncate":
        path.write_bytes(data[: len(data) // 2])
    else:
        path.write_bytes(b"")
    m = rn.build_matrix(town_network, pts, cache_dir=tmp_path)
    assert len(count_searches) == 2
    np.testing.assert_array_equal(m.duration_s, base.duration_s)
    np.testing.assert_array_equal(m.distance_m, base.distance_m)
    assert path.read_bytes() == data or np.load(path)["duration_s"].shape == (3, 3)
    rn.build_matrix(town_network, pts, cache_dir=tmp_path)
    assert len(count_searches) == 2  # rewritten: a hit again


def test_cache_dir_is_created(town_network, tmp_path):
    target = tmp_path / "a" / "b"
    rn.build_matrix(town_network, town_points(), cache_dir=target)
    assert len(list(target.glob("*.npz"))) == 1
