"""Payloads of jobs queued by recyclenet before the typed payloads (session 5), as job
models, so a job queued before an upgrade still runs after it.

Those payloads held the request's points as converted WGS-84 records
(``{"id", "lon", "lat", **properties}``) and its options flat beside them. Each is
rebuilt as the request it came from, in WGS-84 (the datum it was given in was recorded
as ``crs``; the rebuilt job keeps its points in WGS-84, so the plan's ``input_crs`` says
``wgs84``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

_XY = ("id", "lon", "lat")


def _features(records: Sequence[dict[str, Any]] | None) -> dict[str, Any] | None:
    if records is None:
        return None
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": r["id"],
                "geometry": {"type": "Point", "coordinates": [r["lon"], r["lat"]]},
                "properties": {k: v for k, v in r.items() if k not in _XY and v is not None},
            }
            for r in records
        ],
    }


#: Matrix payloads carried no time limit (the job row has it, and the runner enforces that
#: one); their job model needs one.
_UNSTATED_LIMIT_S = 3600.0


def _job(payload: dict[str, Any], request: dict[str, Any]) -> dict[str, Any]:
    return {
        "network": payload["network"],
        "time_limit_s": payload.get("time_limit_s") or _UNSTATED_LIMIT_S,
        "request": {k: v for k, v in request.items() if v is not None},
        "crs": "wgs84",
    }


def _siting(p: dict[str, Any]) -> dict[str, Any]:
    keys = ("model", "profile", "metric", "p", "radius", "households_per_station", "budget",
            "keep_existing", "uncoverable", "cell_m", "road_spacing_m", "max_snap_distance_m",
            "seed", "urban_context", "households_total", "demand_districts")  # fmt: skip
    request = {k: p.get(k) for k in keys}
    request.update(network_id=p["network"]["id"], time_limit_s=p["time_limit_s"],
                   demand=_features(p.get("demand")), sites=_features(p.get("sites")),
                   centres=_features(p.get("centres")))  # fmt: skip
    return _job(p, request)


def _routing(p: dict[str, Any]) -> dict[str, Any]:
    keys = ("fleet", "engine", "max_snap_distance_m", "order_snap_limit_m", "seed",
            "deterministic", "speed_model", "period", "restriction_zones")  # fmt: skip
    request = {k: p.get(k) for k in keys}
    if request["fleet"] is not None:
        request["fleet"] = [{k: v for k, v in vt.items() if v is not None}
                            for vt in request["fleet"]]  # fmt: skip
    request.update(network_id=p["network"]["id"], time_limit_s=p["time_limit_s"],
                   orders=_features(p["orders"]), depots=_features(p["depots"]),
                   facilities=_features(p.get("facilities") or None))  # fmt: skip
    job = _job(p, request)
    rp = p.get("replan")
    if rp:
        job["request"]["replan"] = {
            "plan": rp["plan"],
            "now_s": rp["now_s"],
            "done_order_ids": rp.get("done_order_ids") or [],
            "cancelled_order_ids": rp.get("cancelled_order_ids") or [],
        }
        job["parent"] = {"id": rp.get("parent_plan_id")}
    return job


def _matrix(p: dict[str, Any]) -> dict[str, Any]:
    strip = lambda rs: None if rs is None else [{k: r[k] for k in _XY} for r in rs]  # noqa: E731
    request = {"network_id": p["network"]["id"], "origins": strip(p["origins"]),
               "destinations": strip(p.get("destinations")), "time_limit_s": p.get("time_limit_s"),
               "max_snap_distance_m": p.get("max_snap_distance_m"),
               "too_far": p.get("too_far")}  # fmt: skip
    return _job(p, request)


def _park(p: dict[str, Any]) -> dict[str, Any]:
    request = {"network_id": p["network"]["id"], "park": p["park"],
               "time_limit_s": p["time_limit_s"], "single_source": p.get("single_source"),
               "allow_unplaced": p.get("unplaced") == "report", "seed": p.get("seed")}  # fmt: skip
    job = _job(p, request)
    del job["crs"]
    return job


LEGACY: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "SitingJob": _siting,
    "RoutingJob": _routing,
    "MatrixJob": _matrix,
    "ParkJob": _park,
}
"""Job model name -> the rebuild of its earlier payload."""


def from_legacy(model_name: str, payload: Any) -> dict[str, Any] | None:
    """The job-model form of an earlier payload, or None when it is not one (it has a
    ``request`` already, or lacks the network every earlier payload had)."""
    rebuild = LEGACY.get(model_name)
    if (
        rebuild is None
        or not isinstance(payload, dict)
        or "request" in payload
        or not isinstance(payload.get("network"), dict)
    ):
        return None
    try:
        return rebuild(payload)
    except (KeyError, TypeError, AttributeError):
        return None
