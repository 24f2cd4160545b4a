"""Loading a network once: its info and its road features (``roads.jsonl``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from ..schemas.networks import NetworkPrep
from . import Progress, noop_progress, to_jsonable

ROAD_PROPERTIES = {
    "way_id": "OSM way id",
    "name": "street name (OSM name tag, '' if none)",
    "highway": "OSM highway class",
    "oneway": "true when the piece can be driven in its drawn direction only",
    "length_m": "length in metres",
    "speed_kph": "free-flow speed of the drawn direction, km/h",
    "duration_s": "travel time of the drawn direction, s",
}
"""Properties of each road feature in ``roads.geojson``."""


def prepare_network(prep: NetworkPrep, *, progress: Progress = noop_progress) -> dict[str, Any]:
    """Load a network once, write its road features, and return its info.

    With ``check_size`` (uploads) the file is first measured against
    ``max_decompressed_bytes`` and ``max_elements``
    (:func:`recyclenet.network.osm_read.check_osm_size`).

    Writes ``roads.jsonl`` (one GeoJSON Feature per street piece; the two directions of a
    two-way piece are one feature, drawn in the direction of the lower edge id) and
    ``roads_bbox.npy`` (west, south, east, north per feature) into ``prep.out_dir``.
    """
    import recyclenet as rn
    from recyclenet.network.osm_read import check_osm_size

    if prep.check_size:  # uploads: measured before parsing (compression bombs)
        check_osm_size(
            prep.source,
            max_decompressed_bytes=prep.max_decompressed_bytes,
            max_elements=prep.max_elements,
        )
    network = rn.load_network(prep.source, profile=prep.profile)
    out = Path(prep.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    twin = network.edge_twin
    boxes: list[tuple[float, float, float, float]] = []
    with open(out / "roads.jsonl.tmp", "w", encoding="utf-8") as fh:
        for e in range(network.n_edges):
            t = int(twin[e])
            if 0 <= t < e:
                continue  # the twin (lower id) already drew this piece
            geom = np.asarray(network.edge_geometry[e], dtype=np.float64)
            tags = network.edge_tags[e]
            feature = {
                "type": "Feature",
                "id": e,
                "geometry": {
                    "type": "LineString",
                    "coordinates": [[round(x, 7), round(y, 7)] for x, y in geom.tolist()],
                },
                "properties": {
                    "way_id": int(network.edge_way_id[e]),
                    "name": tags.get("name", ""),
                    "highway": tags.get("highway", ""),
                    "oneway": t < 0,
                    "length_m": round(float(network.edge_length_m[e]), 1),
                    "speed_kph": round(float(network.edge_speed_kph[e]), 2),
                    "duration_s": round(float(network.edge_duration_s[e]), 2),
                },
            }
            fh.write(json.dumps(feature, ensure_ascii=False, separators=(",", ":")) + "\n")
            boxes.append(
                (
                    float(geom[:, 0].min()),
                    float(geom[:, 1].min()),
                    float(geom[:, 0].max()),
                    float(geom[:, 1].max()),
                )
            )
    np.save(out / "roads_bbox.npy", np.array(boxes, dtype=np.float64).reshape(-1, 4))
    (out / "roads.jsonl.tmp").replace(out / "roads.jsonl")
    info = network.info()
    info["road_features"] = len(boxes)
    return to_jsonable(info)
