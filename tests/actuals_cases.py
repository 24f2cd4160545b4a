"""Shared cases of the actuals tests: a small two-tier siting plan and a routing plan."""

from __future__ import annotations

from typing import Any

RATES = {"appliances": 8.0, "ferrous": 4.0, "non_ferrous": 1.0}
SITING: dict[str, Any] = {
    "stations": {
        "open_ids": ["S1", "S2", "S3"],
        "indicators": {"load_by_site": {"S1": 1000.0, "S2": 500.0, "S3": 200.0}},
        "problem": {"capacity_unit": "households"},
    },
    "centres": {
        "open_ids": ["C1"],
        "indicators": {"load_by_site": {"C1": 100.0}, "utilisation_by_site": {"C1": 0.5}},
    },
}
ROUTING: dict[str, Any] = {"routes": [{"vehicle_id": "v1", "distance_m": 25_000.0}]}
