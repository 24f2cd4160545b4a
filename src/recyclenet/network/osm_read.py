"""Read the highway ways of an OpenStreetMap file.

One reader for every OSM format: ``.osm.pbf``, ``.osm``, ``.osm.xml``, ``.osm.gz`` and
``.osm.bz2``, through pyosmium (libosmium), so that clipped extracts behave the same in
every format. Real extracts are clipped at their boundary: a way may reference nodes the
file does not contain. Such ways are split at the missing nodes and the pieces with at
least two known nodes are kept (``osmnx.graph_from_xml`` fails on them instead).
"""

from __future__ import annotations

import bz2
import gzip
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import numpy.typing as npt
import osmium

from ..errors import LimitError, NetworkError

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


@dataclass(frozen=True)
class OsmSize:
    """How big an OSM file is once decompressed (see :func:`check_osm_size`)."""

    decompressed_bytes: int
    """XML text bytes after gzip/bzip2, or the sum of the PBF blocks' raw sizes."""
    elements: int | None
    """Nodes, ways and relations (XML; None for PBF, whose blocks are not decompressed)."""


_CHUNK = 1 << 20
_XML_TAGS = (b"<node", b"<way", b"<relation")


def _open_xml(path: Path) -> BinaryIO:
    name = path.name.lower()
    if name.endswith(".gz"):
        return gzip.open(path, "rb")  # type: ignore[return-value]
    if name.endswith(".bz2"):
        return bz2.open(path, "rb")  # type: ignore[return-value]
    return open(path, "rb")


def _over(path: Path, what: str, limit: str, value: int, unit: str) -> LimitError:
    return LimitError(
        f"{path.name} {what} more than the limit of {value:,} {unit} ({limit}); "
        "give a smaller extract (clip it to the area you plan for, e.g. with osmium "
        "extract) or raise the limit",
        limit=limit,
        value=value,
    )


def _pbf_raw_bytes(fh: BinaryIO, path: Path, max_bytes: int | None) -> int:
    """Sum of the uncompressed sizes the PBF's blocks declare (no decompression)."""
    total = 0
    while True:
        head = fh.read(4)
        if len(head) < 4:
            return total
        (header_len,) = struct.unpack(">I", head)
        header = fh.read(header_len)
        data_size = _pb_field(header, 3)
        if data_size is None or header_len > 64 * 1024:
            raise NetworkError(
                f"{path.name} could not be read as OpenStreetMap data (bad .osm.pbf block "
                "header); check that it is a complete .osm.pbf or OSM XML file"
            )
        blob = fh.read(min(data_size, 16))  # raw_size (field 2) precedes the data
        raw_size = _pb_field(blob, 2)
        total += raw_size if raw_size is not None else data_size
        fh.seek(data_size - len(blob), 1)
        if max_bytes is not None and total > max_bytes:
            raise _over(path, "expands to", "max_decompressed_bytes", max_bytes, "bytes")


def _pb_field(buf: bytes, number: int) -> int | None:
    """The varint value of field ``number`` in a protobuf message prefix, if reached."""
    i = 0
    while i < len(buf):
        key, i = _varint(buf, i)
        if key is None:
            return None
        field, wire = key >> 3, key & 7
        if wire == 0:
            value, i = _varint(buf, i)
            if field == number:
                return value
        elif wire == 2:
            length, i = _varint(buf, i)
            if length is None:
                return None
            i += length
        else:
            return None
    return None


def _varint(buf: bytes, i: int) -> tuple[int | None, int]:
    value = shift = 0
    while i < len(buf):
        b = buf[i]
        i += 1
        value |= (b & 0x7F) << shift
        if not b & 0x80:
            return value, i
        shift += 7
    return None, i


def check_osm_size(
    path: str | Path, *, max_decompressed_bytes: int | None = None, max_elements: int | None = None
) -> OsmSize:
    """Measure an OSM file without parsing it, stopping at the first limit passed.

    XML (plain, ``.gz``, ``.bz2``) is streamed through the decompressor in 1 MiB chunks,
    counting bytes and ``<node``/``<way``/``<relation`` tags, so a compression bomb costs
    at most ``max_decompressed_bytes`` of decompression and constant memory. A PBF's
    block headers declare each block's uncompressed size, which is summed without
    decompressing anything.

    Raises
    ------
    LimitError
        Over ``max_decompressed_bytes`` or ``max_elements``, naming the limit.
    NetworkError
        Not a readable OSM file.
    """
    path = Path(path)
    _check_file(path)
    name = path.name.lower()
    try:
        if name.endswith(".pbf"):
            with open(path, "rb") as fh:
                return OsmSize(_pbf_raw_bytes(fh, path, max_decompressed_bytes), None)
        total = elements = 0
        tail = b""
        with _open_xml(path) as fh:
            while chunk := fh.read(_CHUNK):
                total += len(chunk)
                if max_decompressed_bytes is not None and total > max_decompressed_bytes:
                    raise _over(path, "expands to", "max_decompressed_bytes",
                                max_decompressed_bytes, "bytes")  # fmt: skip
                window = tail + chunk
                elements += sum(window.count(tag) for tag in _XML_TAGS)
                tail = window[-9:]  # a tag split across chunks is counted once
                elements -= sum(tail.count(tag) for tag in _XML_TAGS)
                if max_elements is not None and elements > max_elements:
                    raise _over(path, "holds", "max_elements", max_elements,
                                "OSM elements (nodes, ways, relations)")  # fmt: skip
        elements += sum(tail.count(tag) for tag in _XML_TAGS)
        if max_elements is not None and elements > max_elements:
            raise _over(path, "holds", "max_elements", max_elements,
                        "OSM elements (nodes, ways, relations)")  # fmt: skip
        return OsmSize(total, elements)
    except (OSError, EOFError, struct.error) as exc:
        raise NetworkError(
            f"{path.name} could not be read as OpenStreetMap data ({exc}); check that it is "
            "a complete .osm.pbf or OSM XML file"
        ) from exc


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
