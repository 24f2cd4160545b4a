"""Generated OSM extracts that break siting the way real Chinese city centres did.

``write_dense_city`` writes a small OSM XML city (near 116.40 E, 39.90 N):

- a 9 x 9 grid of two-way residential streets, 0.0012 degrees apart (about 102 m
  east-west, 133 m north-south);
- a high-rise compound of 5,000 households in one building (``building:flats=5000``,
  a 60 x 60 m footprint), more than three stations' norm of 1,500;
- 24 ordinary apartment buildings of 40-180 flats, no levels tagged;
- a named ``landuse=residential`` compound with no mapped building (its households come
  from land area x floor-area ratio) crossed by a ring road that closes on itself;
- an unconnected cell: an apartment block of 80 flats 3 km away on a road that does not
  join the grid (no walk from it reaches any station).
"""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import quoteattr

LON0, LAT0 = 116.40, 39.90
STEP = 0.0012
GRID = 9


class OsmXml:
    """A tiny OSM XML writer: nodes, ways, closed areas."""

    def __init__(self) -> None:
        self.nodes: list[tuple[int, float, float]] = []
        self.ways: list[tuple[int, list[int], dict[str, str]]] = []

    def node(self, lon: float, lat: float) -> int:
        nid = len(self.nodes) + 1
        self.nodes.append((nid, lon, lat))
        return nid

    def way(self, refs: list[int], tags: dict[str, str]) -> int:
        wid = 1000 + len(self.ways)
        self.ways.append((wid, refs, tags))
        return wid

    def rect(self, west: float, south: float, east: float, north: float,
             tags: dict[str, str]) -> int:  # fmt: skip
        ids = [self.node(west, south), self.node(east, south), self.node(east, north),
               self.node(west, north)]  # fmt: skip
        return self.way([*ids, ids[0]], tags)

    def write(self, path: Path) -> Path:
        out = ['<?xml version="1.0" encoding="UTF-8"?>',
               '<osm version="0.6" generator="recyclenet-tests">']  # fmt: skip
        for nid, lon, lat in self.nodes:
            out.append(f'  <node id="{nid}" version="1" lat="{lat:.7f}" lon="{lon:.7f}"/>')
        for wid, refs, tags in self.ways:
            out.append(f'  <way id="{wid}" version="1">')
            out += [f'    <nd ref="{r}"/>' for r in refs]
            out += [f"    <tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in tags.items()]
            out.append("  </way>")
        out.append("</osm>")
        path.write_text("\n".join(out) + "\n", encoding="utf-8")
        return path


def write_dense_city(path: Path) -> Path:
    """Write the dense-city extract (see the module docstring) to ``path``."""
    osm = OsmXml()
    grid = [[osm.node(LON0 + i * STEP, LAT0 + j * STEP) for i in range(GRID)]
            for j in range(GRID)]  # fmt: skip
    street = {"highway": "residential"}
    for j in range(GRID):
        osm.way(grid[j], {**street, "name": f"纬{j}路"})
    for i in range(GRID):
        osm.way([grid[j][i] for j in range(GRID)], {**street, "name": f"经{i}路"})
    # the 5,000-household compound: one 60 x 60 m building in block (4, 4)
    cx, cy = LON0 + 4.5 * STEP, LAT0 + 4.5 * STEP
    dx, dy = 0.00035, 0.00027
    osm.rect(cx - dx, cy - dy, cx + dx, cy + dy,
             {"building": "residential", "building:flats": "5000", "name": "幸福家园"})  # fmt: skip
    # ordinary apartment buildings, 24 of them (blocks 0-3 x 1-6), 20 x 12 m, no levels
    k = 0
    for j in range(1, GRID - 2):
        for i in (0, 1, 2, 3):
            x, y = LON0 + (i + 0.5) * STEP, LAT0 + (j + 0.5) * STEP
            flats = str(40 + (k * 37) % 141)
            osm.rect(x - 0.00012, y - 0.00005, x + 0.00012, y + 0.00005,
                     {"building": "apartments", "building:flats": flats})  # fmt: skip
            k += 1
    # a compound with no mapped building, and a ring road inside it closing on itself
    w, s = LON0 + 5 * STEP, LAT0 + 1 * STEP
    osm.rect(w, s, w + 2 * STEP, s + 2 * STEP,
             {"landuse": "residential", "name": "绿地小区"})  # fmt: skip
    ring_at = grid[1][6]  # the grid node on the compound's south edge
    r1 = osm.node(LON0 + 6 * STEP + 0.0004, LAT0 + 1 * STEP + 0.0006)
    r2 = osm.node(LON0 + 6 * STEP, LAT0 + 1 * STEP + 0.0012)
    r3 = osm.node(LON0 + 6 * STEP - 0.0004, LAT0 + 1 * STEP + 0.0006)
    osm.way([ring_at, r1, r2, r3, ring_at], {"highway": "service", "name": "小区环路"})
    # the unconnected cell, 3 km east on its own road
    far = LON0 + 0.035
    a, b = osm.node(far, LAT0), osm.node(far + 0.002, LAT0)
    osm.way([a, b], {"highway": "residential", "name": "孤路"})
    osm.rect(far + 0.0008, LAT0 + 0.0002, far + 0.0012, LAT0 + 0.0004,
             {"building": "apartments", "building:flats": "80"})  # fmt: skip
    return osm.write(path)
