"""QGIS reads ``/ogc`` with its own OGC API - Features client (the ``OAPIF`` data provider,
not GDAL's driver), headless, from Debian's python3-qgis.

QGIS runs in a subprocess under /usr/bin/python3 (Debian's Python, where python3-qgis
installs; not this project's virtual environment) with ``QT_QPA_PLATFORM=offscreen``. The
test is skipped where python3-qgis is missing: it is not in ``make system-deps`` (about
930 MB installed); ``make system-deps-qgis`` installs it.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
from api_helpers import KEY_A, A, Server, stored_siting_plan

DEBIAN_PYTHON = "/usr/bin/python3"

READ_LAYER = """
import json, os, sys
from qgis.core import QgsApplication, QgsVectorLayer

QgsApplication.setPrefixPath("/usr", True)
app = QgsApplication([], False)
app.initQgis()
url, typename = sys.argv[1], sys.argv[2]
layer = QgsVectorLayer(f"url='{url}' typename='{typename}'", typename, "OAPIF")
names = [f.name() for f in layer.fields()]
plain = (int, float, str, bool)
out = {
    "valid": layer.isValid(),
    "count": layer.featureCount(),
    "fields": names,
    "crs": layer.crs().authid(),
    "features": [
        {"attributes": {k: v if isinstance(v, plain) else None
                        for k, v in zip(names, f.attributes())},
         "wkt": f.geometry().asWkt(7)}
        for f in layer.getFeatures()
    ],
}
print(json.dumps(out), flush=True)
os._exit(0)  # QGIS 3.22 can crash in its own teardown (exitQgis) after a network layer
"""


def _qgis() -> None:
    """Skip unless Debian's Python can import QGIS."""
    if not os.access(DEBIAN_PYTHON, os.X_OK):
        pytest.skip(f"{DEBIAN_PYTHON} is missing (QGIS's Python bindings live there)")
    found = subprocess.run([DEBIAN_PYTHON, "-c", "import qgis.core"], capture_output=True,
                           timeout=120)  # fmt: skip
    if found.returncode != 0:
        pytest.skip("python3-qgis is not installed: `make system-deps-qgis` installs it")


def _read(script: Path, url: str, typename: str) -> dict[str, Any]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_RUNTIME_DIR": str(script.parent)}
    out = subprocess.run([DEBIAN_PYTHON, str(script), url, typename], capture_output=True,
                         text=True, timeout=300, env=env)  # fmt: skip
    assert out.returncode == 0, out.stderr[-4000:]
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def test_qgis_oapif_reads_a_stored_plan_and_the_roads(tmp_path: Path) -> None:
    _qgis()
    script = tmp_path / "read_layer.py"
    script.write_text(READ_LAYER)
    server = Server(tmp_path / "var")
    try:
        api = httpx.Client(base_url=server.url, headers=A, timeout=120)
        nid, pid = stored_siting_plan(api)
        # QGIS 3.22 sends no custom header: the key goes in the service URL, and every
        # link of the answers carries it on
        url = f"{server.url}/ogc?api_key={KEY_A}"

        stations = api.get(f"/plans/{pid}/stations.geojson").json()["features"]
        layer = _read(script, url, f"plan-{pid}-stations")
        assert layer["valid"] and layer["crs"] == "EPSG:4326"
        assert layer["count"] == len(stations) == len(layer["features"]) > 0
        by_id = {f["attributes"]["id"]: f for f in layer["features"]}
        for feature in stations:
            got = by_id[feature["id"]]
            for key, value in feature["properties"].items():
                assert got["attributes"][key] == value, (feature["id"], key)
            lon, lat = feature["geometry"]["coordinates"]
            assert got["wkt"] == f"Point ({lon} {lat})"

        # the roads: more than a page, so QGIS follows the next links
        roads = api.get(f"/ogc/collections/network-{nid}-roads/items",
                        params={"limit": 1}).json()["numberMatched"]  # fmt: skip
        layer = _read(script, url, f"network-{nid}-roads")
        assert layer["valid"] and layer["count"] == roads > 100
        assert len(layer["features"]) == roads
        want = api.get(f"/networks/{nid}/roads.geojson", params={"limit": roads}).json()
        assert sorted(f["attributes"]["way_id"] for f in layer["features"]) == sorted(
            f["properties"]["way_id"] for f in want["features"])  # fmt: skip
        assert {"name", "highway", "length_m"} <= set(layer["fields"])
    finally:
        server.stop()
