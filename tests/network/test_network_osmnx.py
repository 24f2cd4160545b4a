"""osmnx interop: to_networkx carries osmnx's attributes, GraphML round trip."""

from __future__ import annotations

import itertools

import matplotlib
import numpy as np
import osmnx as ox
import pytest

import recyclenet as rn
from recyclenet.network import shortest_route

matplotlib.use("Agg")


@pytest.mark.parametrize("source", ["town", "helsinki"])
def test_graph_to_gdfs_and_shortest_path(source, town_osm):
    net = rn.load_network(town_osm if source == "town" else "helsinki", profile="car")
    graph = net.to_networkx()
    nodes, edges = ox.graph_to_gdfs(graph)
    assert len(nodes) == net.n_nodes and len(edges) == net.n_edges
    assert nodes.crs.to_epsg() == 4326 and set(edges.geometry.geom_type) == {"LineString"}
    assert edges["length"].sum() == pytest.approx(net.edge_length_m.sum())
    assert {"osmid", "speed_kph", "travel_time", "highway"} <= set(edges.columns)
    # osmnx routing on the export agrees with recyclenet's own fastest route
    a, b = 0, net.n_nodes // 2
    orig, dest = int(net.node_osm_id[a]), int(net.node_osm_id[b])
    path = ox.routing.shortest_path(graph, orig, dest, weight="travel_time")
    seconds = sum(min(d["travel_time"] for d in graph[u][v].values())
                  for u, v in itertools.pairwise(path))  # fmt: skip
    route = shortest_route(net, (net.node_lon[a], net.node_lat[a]),
                           (net.node_lon[b], net.node_lat[b]))  # fmt: skip
    assert seconds == pytest.approx(route.duration_s, abs=0.05)
    _fig, ax = ox.plot_graph(graph, show=False, close=True)
    assert len(ax.collections) >= 1


def test_graphml_round_trip(tmp_path, town_osm):
    for profile in ("car", "walk"):
        net = rn.load_network(town_osm, profile=profile)
        path = net.to_graphml(tmp_path / f"town_{profile}.graphml")
        back = rn.load_network(path, profile=profile)
        assert (back.n_nodes, back.n_edges) == (net.n_nodes, net.n_edges)
        np.testing.assert_array_equal(np.sort(back.node_osm_id), np.sort(net.node_osm_id))
        order = np.lexsort((net.edge_length_m, net.node_osm_id[net.edge_v],
                            net.node_osm_id[net.edge_u]))  # fmt: skip
        border = np.lexsort((back.edge_length_m, back.node_osm_id[back.edge_v],
                             back.node_osm_id[back.edge_u]))  # fmt: skip
        np.testing.assert_allclose(back.edge_length_m[border], net.edge_length_m[order])
        np.testing.assert_allclose(back.edge_duration_s[border], net.edge_duration_s[order])
        names = {back.edge_name(e) for e in range(back.n_edges)}
        assert names == {net.edge_name(e) for e in range(net.n_edges)}
