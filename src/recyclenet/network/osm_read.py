"""Read the highway ways of an OpenStreetMap file.

One reader for every OSM format: ``.osm.pbf``, ``.osm``, ``.osm.xml``, ``.osm.gz`` and
``.osm.bz2``, through pyosmium (libosmium), so that clipped extracts behave the same in
every format. Real extracts are clipped at their boundary: a way may reference nodes the
file does not contain. Such ways are split at the missing nodes and the pieces with at
least two known nodes are kept (``osmnx.graph_from_xml`` fails on them instead).
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import osmium

from ..errors import NetworkError

OSM_SUFFIXES = (".osm.pbf", ".pbf", ".osm", ".osm.xml", ".xml", ".osm.gz", ".osm.bz2")


@dataclass(frozen=True)
class OsmWay:
    """One highway way (or piece of a clipped way) with its node coordinates.

    Attributes
    ----------
    way_id : int
        OSM way id.
    tags : dict
        All OSM tags, UTF-8 strings as in the file.
    node_ids : ndarray of int64
        OSM node ids in way order.
    lon, lat : ndarray of float64
        WGS-84 coordinates of those nodes, degrees.
    """

    way_id: int
    tags: dict[str, str]
    node_ids: npt.NDArray[np.int64]
    lon: npt.NDArray[np.float64]
    lat: npt.NDArray[np.float64]


@dataclass(frozen=True)
class OsmRoads:
    """The highway ways of a file and what reading them dropped."""

    source: str
    ways: list[OsmWay]
    dangling_refs: int
    """Node references in ways whose node is missing from the file (clipped extract)."""


def _check_file(path: Path) -> None:
    if not path.exists():
        raise NetworkError(f"road network file not found: {path}")
    if not path.is_file():
        raise NetworkError(f"road network path is not a file: {path}")
    if path.stat().st_size == 0:
        raise NetworkError(f"road network file is empty: {path}")
    name = path.name.lower()
    if not name.endswith(OSM_SUFFIXES):
        raise NetworkError(
            f"unknown road network format: {path.name}; use .osm.pbf, .osm, .osm.xml, "
            ".osm.gz, .osm.bz2 or .graphml"
        )
    if name.endswith(".gz"):
        try:
            with gzip.open(path) as fh:
                fh.read(64)
        except OSError as exc:
            raise NetworkError(f"{path} is not a valid gzip file ({exc})") from exc


def read_osm_highways(path: str | Path) -> OsmRoads:
    """Read every way with a ``highway`` tag from an OSM file.

    Parameters
    ----------
    path : str or Path
        An OSM PBF or XML file, optionally gzip or bzip2 compressed.

    Returns
    -------
    OsmRoads
        The ways, split where the file lacks their nodes.

    Raises
    ------
    NetworkError
        The file is missing, empty, not OSM data, or holds no highway ways.
    """
    path = Path(path)
    _check_file(path)
    ways: list[OsmWay] = []
    dangling = 0
    try:
        processor = (
            osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY)
            .with_locations()
            .with_filter(osmium.filter.KeyFilter("highway"))
        )
        for obj in processor:
            if not isinstance(obj, osmium.osm.Way):
                continue
            way = obj
            tags = {t.k: t.v for t in way.tags}
            ids: list[int] = []
            lons: list[float] = []
            lats: list[float] = []
            pieces: list[tuple[list[int], list[float], list[float]]] = []
            for ref in way.nodes:
                loc = ref.location
                if loc.valid():
                    ids.append(ref.ref)
                    lons.append(loc.lon)
                    lats.append(loc.lat)
                else:
                    dangling += 1
                    pieces.append((ids, lons, lats))
                    ids, lons, lats = [], [], []
            pieces.append((ids, lons, lats))
            for p_ids, p_lons, p_lats in pieces:
                if len(p_ids) >= 2:
                    ways.append(
                        OsmWay(
                            way_id=way.id,
                            tags=tags,
                            node_ids=np.asarray(p_ids, dtype=np.int64),
                            lon=np.asarray(p_lons, dtype=np.float64),
                            lat=np.asarray(p_lats, dtype=np.float64),
                        )
                    )
    except RuntimeError as exc:  # libosmium reports parse errors as RuntimeError
        raise NetworkError(
            f"{path} could not be read as OpenStreetMap data ({exc}); "
            "check that it is a complete .osm.pbf or OSM XML file"
        ) from exc
    return OsmRoads(source=str(path), ways=ways, dangling_refs=dangling)
