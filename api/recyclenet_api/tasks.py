"""Job kinds: plain functions that take a JSON-able payload and return a JSON-able result.

The runner (:mod:`recyclenet_api.jobs`) starts each job in a child process, imports the
function named in :data:`JOB_KINDS` there, and calls it as ``func(payload)``; if the
function has a ``progress`` keyword parameter it also gets a callback that takes a dict
(``{"phase": ..., "percent": ..., "objective": ...}``) and shows it in ``GET /jobs/{id}``.

Wiring a new kind is one entry here (plus a router that validates the request and calls
:func:`recyclenet_api.routers.common.submit_job`).

Payloads carry resolved networks: ``payload["network"] == {"id", "source", "profile"}``
where ``source`` is what :func:`recyclenet.load_network` takes.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

JOB_KINDS: dict[str, str] = {
    "matrix": "recyclenet_api.tasks:matrix_task",
    "siting": "recyclenet_api.planning:siting_task",
    "routing": "recyclenet_api.planning:routing_task",
    "park": "recyclenet_api.routers.parks:park_task",
}
"""Job kind -> ``"module:function"`` run in the worker process."""

Progress = Callable[[dict[str, Any]], None]


def to_jsonable(value: Any) -> Any:
    """Plain JSON types: numpy to Python, tuples to lists, inf/NaN to None (RFC 8259)."""
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist())
    if isinstance(value, np.generic):
        return to_jsonable(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if hasattr(value, "to_dict"):
        return to_jsonable(value.to_dict())
    raise TypeError(f"job result holds a {type(value).__name__}, which is not JSON")


def _noop(_: dict[str, Any]) -> None:
    return None


def _matrix_rows(arr: Any) -> list[list[float | None]]:
    a = np.asarray(arr, dtype=np.float64)
    out = a.astype(object)
    out[~np.isfinite(a)] = None
    return out.tolist()


def matrix_task(payload: dict[str, Any], *, progress: Progress = _noop) -> dict[str, Any]:
    """Travel time and distance between points (``recyclenet.build_matrix``).

    Payload: ``network`` (resolved), ``origins`` and optional ``destinations`` as lists of
    ``{"id", "lon", "lat"}`` (WGS-84; ``crs`` names the datum they were given in),
    ``max_snap_distance_m``, ``too_far``. The result has
    ``duration_s`` and ``distance_m`` rows (one per origin, ``null`` = unreachable).
    """
    import recyclenet as rn

    net_ref = payload["network"]
    progress({"phase": "loading network"})
    network = rn.load_network(net_ref["source"], profile=net_ref["profile"])
    origins = rn.Points.from_records(payload["origins"])
    dest_records = payload.get("destinations")
    destinations = rn.Points.from_records(dest_records) if dest_records else None
    progress({"phase": "computing matrix", "pairs": len(origins) * len(destinations or origins)})
    matrix = rn.build_matrix(
        network,
        origins,
        destinations,
        max_snap_distance_m=float(payload.get("max_snap_distance_m", 500.0)),
        too_far=str(payload.get("too_far", "raise")),
        workers=1,
    )
    return {
        "kind": "matrix",
        "network_id": net_ref["id"],
        "input_crs": payload.get("crs", "wgs84"),
        "profile": matrix.profile,
        "origin_ids": list(matrix.origin_ids),
        "destination_ids": list(matrix.destination_ids),
        "duration_s": _matrix_rows(matrix.duration_s),
        "distance_m": _matrix_rows(matrix.distance_m),
        "snap_distance_m": to_jsonable(matrix.snap_distance_m),
    }


# ---------------------------------------------------------------------- networks
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


def prepare_network(payload: dict[str, Any], *, progress: Progress = _noop) -> dict[str, Any]:
    """Load a network once, write its road features, and return its info.

    With ``check_size`` (uploads) the file is first measured against
    ``max_decompressed_bytes`` and ``max_elements``
    (:func:`recyclenet.network.osm_read.check_osm_size`).

    Writes ``roads.jsonl`` (one GeoJSON Feature per street piece; the two directions of a
    two-way piece are one feature, drawn in the direction of the lower edge id) and
    ``roads_bbox.npy`` (west, south, east, north per feature) into ``payload["out_dir"]``.
    """
    import recyclenet as rn
    from recyclenet.network.osm_read import check_osm_size

    if payload.get("check_size"):  # uploads: measured before parsing (compression bombs)
        check_osm_size(
            payload["source"],
            max_decompressed_bytes=payload.get("max_decompressed_bytes"),
            max_elements=payload.get("max_elements"),
        )
    network = rn.load_network(payload["source"], profile=payload["profile"])
    out = Path(payload["out_dir"])
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


def sleep_task(payload: dict[str, Any], *, progress: Progress = _noop) -> dict[str, Any]:
    """A diagnostic job (not registered by default): sleep, report progress, maybe fail.

    Payload: ``seconds`` (float), ``fail`` (raise :class:`recyclenet.InputError` with this
    message), ``exit_code`` (die without a result), ``allocate_mb`` (allocate that
    much), ``helper`` (start a helper process and a temporary folder, as a routing solve
    does; their pid and path are in the progress). Tests and load checks register it.
    """
    import os
    import time

    from recyclenet.errors import InputError

    if payload.get("fail"):
        raise InputError(str(payload["fail"]))
    if payload.get("exit_code") is not None:
        os._exit(int(payload["exit_code"]))
    if payload.get("allocate_mb"):  # grow like a runaway load, 64 MiB at a time
        held = [bytearray(64 * 1024 * 1024) for _ in range(int(payload["allocate_mb"]) // 64)]
        progress({"phase": "allocated", "mib": 64 * len(held)})
    extra: dict[str, Any] = {}
    if payload.get("helper"):  # like the routing solve: a helper process and a temp folder
        import sys
        import tempfile

        from recyclenet.procs import start_helper

        helper = start_helper([sys.executable, "-c", "import time; time.sleep(3600)"])
        extra = {"helper_pid": helper.pid, "tmp": tempfile.mkdtemp(prefix="recyclenet-")}
    seconds = float(payload.get("seconds", 1.0))
    steps = max(1, int(seconds / 0.05))
    for i in range(steps):
        progress({"phase": "sleeping", "percent": round(100 * i / steps, 1), "pid": os.getpid(),
                  **extra})  # fmt: skip
        time.sleep(seconds / steps)
    return {"kind": "sleep", "slept_s": seconds, "pid": os.getpid()}
