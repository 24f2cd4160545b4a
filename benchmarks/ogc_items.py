"""OGC API - Features pages against the layer URLs they mirror, in one process.

Usage::

    python benchmarks/ogc_items.py [--requests 40]

Builds the app on a temporary data directory (SQLite), registers the embedded Helsinki
sample (894 road features) and stores the siting example plan, then times each request
``--requests`` times after one warm-up read, through the in-process ASGI client (no
network, one client: the cost of the handler, not of a loaded server; ``api_load.py``
measures that). Each ``/ogc`` row follows the existing URL that serves the same features,
the baseline of the same run:

* a page of 1000 roads as stored (CRS84), and converted (EPSG:4326 swaps the axes; the
  baseline converts to GCJ-02: both rebuild every feature in Python);
* a ``bbox`` page of 100 roads;
* a plan layer (stations), and the collections list.

Prints a table of median and 95th percentile milliseconds.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from recyclenet_api.app import create_app
from recyclenet_api.ogc_catalog import EPSG4326
from recyclenet_api.schemas import SITING_EXAMPLE_INLINE
from recyclenet_api.settings import Settings

KEY = {"X-API-Key": "bench-key-0123456789"}
BOX = "24.940,60.165,24.945,60.170"


def _time(client: TestClient, url: str, n: int, params: dict[str, Any]) -> tuple[float, float]:
    r = client.get(url, params=params, headers=KEY)  # the first (uncached) read
    assert r.status_code == 200, r.text
    took = []
    for _ in range(n):
        start = time.perf_counter()
        r = client.get(url, params=params, headers=KEY)
        took.append(time.perf_counter() - start)
        assert r.status_code == 200, r.text
    took.sort()
    return statistics.median(took) * 1e3, took[min(len(took) - 1, int(0.95 * len(took)))] * 1e3


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=40, help="timed requests per row")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp) / "var", api_keys={KEY["X-API-Key"]: "bench"},
                            rate_limit_requests=10**9)  # fmt: skip
        with TestClient(create_app(settings)) as c:
            r = c.post("/networks", json={"sample": "helsinki"}, headers=KEY)
            nid = r.json()["id"]
            r = c.post("/siting", params={"wait": 300}, headers=KEY,
                       json={**SITING_EXAMPLE_INLINE, "network_id": nid})  # fmt: skip
            pid = r.json()["plan_id"]
            roads, items = (
                f"/networks/{nid}/roads.geojson",
                f"/ogc/collections/network-{nid}-roads/items",
            )
            rows = [
                ("roads.geojson limit=1000 (baseline)", roads, {"limit": 1000}),
                ("ogc items limit=1000, CRS84", items, {"limit": 1000}),
                ("roads.geojson limit=1000 crs=gcj02 (baseline)", roads,
                 {"limit": 1000, "crs": "gcj02"}),
                ("ogc items limit=1000, crs=EPSG:4326", items, {"limit": 1000, "crs": EPSG4326}),
                ("roads.geojson bbox limit=100 (baseline)", roads, {"limit": 100, "bbox": BOX}),
                ("ogc items bbox limit=100", items, {"limit": 100, "bbox": BOX}),
                ("plans/{id}/stations.geojson (baseline)", f"/plans/{pid}/stations.geojson", {}),
                ("ogc stations items", f"/ogc/collections/plan-{pid}-stations/items", {}),
                ("ogc collections", "/ogc/collections", {}),
            ]  # fmt: skip
            print(f"{args.requests} requests per row after one warm-up read; in-process client")
            print("| request | median ms | p95 ms |\n|---|---:|---:|")
            for name, url, params in rows:
                median, p95 = _time(c, url, args.requests, params)
                print(f"| {name} | {median:.1f} | {p95:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
