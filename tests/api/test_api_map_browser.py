"""``/map?plan=ID`` on a real uvicorn server, drawn by headless Chromium.

Chromium (Debian package ``chromium``, installed by ``make system-deps``) loads the page
from the server twice per plan: ``--dump-dom`` gives the DOM after the page's script ran
(the map writes its layer and feature counts into ``#recyclenet-state`` and sets
``data-ready="1"``; each drawn feature is an SVG path with class ``rn-layer-<name>``), and
``--screenshot`` saves a PNG under ``$RECYCLENET_TEST_ARTIFACTS`` (default
``tests/artifacts/``, git-ignored). Without Chromium the browser tests skip, except in CI
(``CI`` set), where they fail: CI must run them. The HTTP checks run either way.
"""

from __future__ import annotations

import copy
import html
import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from api_helpers import KEY_A, KEY_B, Server, run_job
from PIL import Image

from recyclenet.export.map_html import COLOURS, PALETTE
from recyclenet_api.schemas import ROUTING_EXAMPLE, SITING_EXAMPLE_INLINE

A = {"X-API-Key": KEY_A}
ARTIFACTS = Path(
    os.environ.get("RECYCLENET_TEST_ARTIFACTS") or Path(__file__).parents[1] / "artifacts"
)
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def _point(pid: str, lon: float, lat: float, **props: Any) -> dict[str, Any]:
    return {
        "type": "Feature",
        "id": pid,
        "properties": props,
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
    }


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A server with Helsinki, a siting plan with a sorting centre, a routing plan with an
    order no vehicle can carry (unserved), and a matrix plan."""
    srv = Server(tmp_path_factory.mktemp("mapserver") / "var")
    try:
        r = httpx.post(srv.url + "/networks", json={"sample": "helsinki"}, headers=A, timeout=60)
        assert r.status_code == 201, r.text
        nid = r.json()["id"]
        siting = {
            **copy.deepcopy(SITING_EXAMPLE_INLINE),
            "network_id": nid,
            "time_limit_s": 5,
            "centres": {
                "type": "FeatureCollection",
                "features": [_point("centre", 24.952246, 60.178364, capacity=500)],
            },
        }
        routing = {
            **copy.deepcopy(ROUTING_EXAMPLE),
            "network_id": nid,
            "time_limit_s": 2,
            "engine": "ortools",
        }
        routing["orders"]["features"].append(  # heavier than any vehicle: unserved
            _point(
                "o_heavy",
                24.9445,
                60.1712,
                items={"scrap_ferrous": 50000},
                required=False,
                penalty=100,
            )
        )
        plans = {}
        with httpx.Client(base_url=srv.url, timeout=90) as http:
            for kind, body in (("siting", siting), ("routing", routing)):
                job = run_job(http, f"/{kind}", body)
                assert job["status"] == "done", job
                plans[kind] = job["plan_id"]
        points = [_point("a", 24.9402, 60.1699), _point("b", 24.946, 60.172)]
        body = {
            "network_id": nid,
            "origins": [
                {
                    "id": p["id"],
                    "lon": p["geometry"]["coordinates"][0],
                    "lat": p["geometry"]["coordinates"][1],
                }
                for p in points
            ],
        }
        with httpx.Client(base_url=srv.url, timeout=90) as http:
            job = run_job(http, "/matrix", body)
        assert job["status"] == "done", job
        plans["matrix"] = job["plan_id"]
        yield {"url": srv.url, "network_id": nid, "plans": plans}
    finally:
        srv.stop()


def _get(served: dict[str, Any], path: str) -> Any:
    r = httpx.get(served["url"] + path, headers=A, timeout=30)
    assert r.status_code == 200, r.text
    return r.json()


def expected_counts(served: dict[str, Any], kind: str) -> dict[str, int]:
    """Features per map layer, counted from the plan's GeoJSON endpoints."""
    pid = served["plans"][kind]
    counts: dict[str, int] = {}
    if kind == "siting":
        for name in ("stations", "assignments", "coverage"):
            counts[name] = len(_get(served, f"/plans/{pid}/{name}.geojson")["features"])
        centres = _get(served, f"/plans/{pid}/centres.geojson")["features"]
        counts["centres"] = sum(f["geometry"]["type"] == "Point" for f in centres)
        counts["centre_links"] = sum(f["geometry"]["type"] == "LineString" for f in centres)
    else:
        counts["routes"] = len(_get(served, f"/plans/{pid}/routes.geojson")["features"])
        stops = [f["properties"] for f in _get(served, f"/plans/{pid}/stops.geojson")["features"]]
        counts["stops"] = sum(p["kind"] in ("order", "unload") for p in stops)
        counts["depots"] = len({p["location_id"] for p in stops if p["kind"] in ("start", "end")})
        counts["unserved"] = sum(p["kind"] == "unserved" for p in stops)
    return {k: v for k, v in counts.items() if v}


@pytest.fixture(scope="module")
def chromium() -> str:
    for name in BROWSERS:
        exe = shutil.which(name)
        if exe:
            return exe
    reason = (
        "headless Chromium is not installed (Debian package chromium; "
        "`make system-deps` installs it)"
    )
    if os.environ.get("CI"):
        pytest.fail(f"{reason}: CI must run the browser test of the map")
    pytest.skip(reason)


def run_chromium(exe: str, url: str, profile: Path, *args: str) -> str:
    """Run headless Chromium on ``url``; returns stdout (the DOM with ``--dump-dom``)."""
    cmd = [
        exe,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-extensions",
        "--no-proxy-server",
        "--hide-scrollbars",
        "--mute-audio",
        f"--user-data-dir={profile}",
        "--virtual-time-budget=15000",
        *args,
        url,
    ]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    assert r.returncode == 0, f"chromium exited {r.returncode}: {r.stderr[-3000:]}"
    return r.stdout


def map_state(dom: str) -> dict[str, Any]:
    m = re.search(r'<pre id="recyclenet-state"[^>]*>(.*?)</pre>', dom, re.S)
    assert m and m.group(1), "the map did not write its state (script failed?)"
    return json.loads(html.unescape(m.group(1)))


@pytest.mark.parametrize("kind", ["routing", "siting"])
def test_browser_draws_every_layer(
    served: dict[str, Any], chromium: str, kind: str, tmp_path: Path
) -> None:
    pid = served["plans"][kind]
    url = f"{served['url']}/map?plan={pid}&api_key={KEY_A}"
    dom = run_chromium(chromium, url, tmp_path / "profile", "--dump-dom")
    assert re.search(r'<html[^>]*data-ready="1"', dom), "page not ready"
    assert re.search(r'<div id="map"[^>]*data-ready="1"', dom)
    state = map_state(dom)
    want = expected_counts(served, kind)
    roads = state["layers"].pop("roads")
    matched = _get(served, f"/networks/{served['network_id']}/roads.geojson?limit=1")
    assert 0.97 * matched["numberMatched"] <= roads <= matched["numberMatched"]
    assert state["layers"] == want
    # every visible feature is an SVG path on the map; assignments start hidden
    drawn = state["drawn"]
    assert drawn.pop("roads") == roads
    assert drawn == {k: 0 if k == "assignments" else v for k, v in want.items()}
    assert state["hidden"] == (["assignments"] if "assignments" in want else [])
    for name, n in drawn.items():
        assert len(re.findall(rf'class="[^"]*\brn-layer-{name}\b', dom)) == n, name
    assert "leaflet-control-layers" in dom and "rn-legend" in dom
    if kind == "routing":
        assert want["unserved"] == 1 and want["depots"] == 1 and want["routes"] >= 1
        assert len(state["vehicles"]) == want["routes"]
    else:
        assert want["centres"] == 1 and want["stations"] == want["coverage"] == 2


@pytest.mark.parametrize("kind", ["routing", "siting"])
def test_browser_screenshot(
    served: dict[str, Any], chromium: str, kind: str, tmp_path: Path
) -> None:
    pid = served["plans"][kind]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / f"map_{kind}.png"
    shot.unlink(missing_ok=True)
    url = f"{served['url']}/map?plan={pid}&api_key={KEY_A}&lang=zh"
    run_chromium(
        chromium, url, tmp_path / "profile", f"--screenshot={shot}", "--window-size=1200,800"
    )
    img = Image.open(shot)
    assert img.format == "PNG" and img.size == (1200, 800)
    rgb = img.convert("RGB")
    colours = rgb.getcolors(maxcolors=1 << 24)
    assert colours is not None and len(colours) > 200, "blank screenshot"
    count = {c: n for n, c in colours}

    def pixels(hex_colour: str) -> int:
        r, g, b = (int(hex_colour[k : k + 2], 16) for k in (1, 3, 5))
        return sum(
            n for (cr, cg, cb), n in count.items() if abs(cr - r) + abs(cg - g) + abs(cb - b) <= 12
        )

    if kind == "routing":  # the first vehicle's route and the unserved order are drawn
        assert pixels(PALETTE[0]) > 200 and pixels(COLOURS["unserved"]) > 20
    else:  # the kept (existing) station and the coverage fill
        assert pixels(COLOURS["kept"]) > 20 and pixels(COLOURS["centre"]) > 20


def test_browser_stop_popup(served: dict[str, Any], chromium: str, tmp_path: Path) -> None:
    """``#stops/<order id>`` opens the stop's popup: order, vehicle, HH:MM, items, load."""
    pid = served["plans"]["routing"]
    stops = _get(served, f"/plans/{pid}/stops.geojson")["features"]
    stop = next(f["properties"] for f in stops if f["properties"]["kind"] == "order")
    url = f"{served['url']}/map?plan={pid}&api_key={KEY_A}#stops/{stop['order_id']}"
    dom = run_chromium(chromium, url, tmp_path / "profile", "--dump-dom")
    assert map_state(dom)["popup"] == f"stops/{stop['order_id']}"
    m = re.search(r'<div class="leaflet-popup-content"[^>]*>(.*?)</table>', dom, re.S)
    assert m, "no popup open"
    text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", m.group(1))).split()) + " "
    assert f"Order {stop['order_id']}" in text and stop["vehicle_id"] in text
    assert f"Arrival {stop['arrival'][:5]} " in text and stop["arrival"] not in text
    for item in stop["items"]:
        assert f"{item['category']} × {item['count']:g}" in text
    assert f"{stop['load_kg']:.1f} kg / {stop['volume_m3']:.2f} m³" in text


def test_browser_legend_in_chinese(served: dict[str, Any], chromium: str, tmp_path: Path) -> None:
    pid = served["plans"]["routing"]
    url = f"{served['url']}/map?plan={pid}&api_key={KEY_A}&lang=zh"
    dom = run_chromium(chromium, url, tmp_path / "profile", "--dump-dom")
    assert map_state(dom)["lang"] == "zh"
    legend = dom[dom.index("rn-legend") :]
    assert "图例" in legend and "车场" in legend and "未服务订单" in legend


def test_map_page_over_http(served: dict[str, Any]) -> None:
    base, plans = served["url"], served["plans"]
    r = httpx.get(f"{base}/map", params={"plan": plans["routing"], "api_key": KEY_A})
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert '<meta charset="utf-8">' in r.text and 'id="recyclenet-data"' in r.text
    assert "<script src" not in r.text and "<link" not in r.text  # offline page
    header = httpx.get(f"{base}/map", params={"plan": plans["siting"]}, headers=A)
    assert (
        header.status_code == 200
        and "回收站点"
        in httpx.get(f"{base}/map", params={"plan": plans["siting"], "lang": "zh"}, headers=A).text
    )


@pytest.mark.parametrize(
    ("params", "headers", "status", "detail"),
    [
        ({"plan": "nope"}, A, 404, "no plan with id 'nope'"),
        ({"plan": "ROUTING"}, {"X-API-Key": KEY_B}, 404, "no plan with id"),  # other tenant
        ({"plan": "MATRIX"}, A, 404, "matrix plan, which has no map layers"),
        ({"plan": "ROUTING"}, {}, 401, "API key"),
        ({"plan": "ROUTING", "lang": "fr"}, A, 422, "lang"),
        ({}, A, 422, "plan"),
    ],
)
def test_map_errors_are_problems(
    served: dict[str, Any],
    params: dict[str, str],
    headers: dict[str, str],
    status: int,
    detail: str,
) -> None:
    params = {k: served["plans"].get(v.lower(), v) if k == "plan" else v for k, v in params.items()}
    r = httpx.get(f"{served['url']}/map", params=params, headers=headers)
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert detail in r.text and r.json()["status"] == status
