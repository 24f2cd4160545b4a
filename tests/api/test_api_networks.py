"""/networks: sample and upload registration, info, listing, roads as GeoJSON."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
from api_helpers import A, B, make_app
from fastapi.testclient import TestClient

import recyclenet as rn

GEOJSON = "application/geo+json"
PROBLEM = "application/problem+json"


def upload(client: TestClient, filename: str, data: bytes, **form: str):
    return client.post("/networks", files={"file": (filename, data)}, data=form, headers=A)


def test_register_sample_info_and_list(client: TestClient) -> None:
    r = client.post("/networks", json={"sample": "helsinki"}, headers=A)
    assert r.status_code == 201, r.text
    net = r.json()
    expected = rn.load_network("helsinki").info()
    assert net["source"] == "sample" and net["name"] == "helsinki" and net["profile"] == "car"
    for key in ("nodes", "edges", "bbox", "length_km"):
        assert net["info"][key] == expected[key]
    got = client.get(f"/networks/{net['id']}", headers=A).json()
    assert got["info"] == net["info"] and got["links"]["roads"].endswith("roads.geojson")
    listing = client.get("/networks", headers=A).json()
    assert listing["total"] == 1 and [n["id"] for n in listing["items"]] == [net["id"]]


def test_register_unknown_sample_names_field(client: TestClient) -> None:
    r = client.post("/networks", json={"sample": "atlantis"}, headers=A)
    assert r.status_code == 422
    assert r.headers["content-type"] == PROBLEM
    body = r.json()
    assert body["errors"][0]["field"] == "body.sample"
    assert "atlantis" in body["detail"] and "helsinki" in body["detail"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"sample": "helsinki", "profile": "hovercraft"}, "body.profile"),
        ({"sample": "helsinki", "colour": "red"}, "body.colour"),
        ({}, "body.sample"),
    ],
)
def test_register_bad_json_fields(client: TestClient, payload: dict, field: str) -> None:
    r = client.post("/networks", json=payload, headers=A)
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == field


def test_register_invalid_json_and_media_type(client: TestClient) -> None:
    r = client.post("/networks", content=b"{", headers={**A, "Content-Type": "application/json"})
    assert r.status_code == 422 and r.json()["errors"][0]["type"] == "json_invalid"
    r = client.post("/networks", content=b"x", headers={**A, "Content-Type": "text/plain"})
    assert r.status_code == 415 and r.headers["content-type"] == PROBLEM


@pytest.mark.parametrize("fmt", ["osm", "osm.gz", "osm.bz2", "osm.pbf"])
def test_upload_formats(client: TestClient, town_formats: dict[str, Path], fmt: str) -> None:
    path = town_formats[fmt]
    r = upload(client, path.name, path.read_bytes(), name="Town", profile="car")
    assert r.status_code == 201, r.text
    net = r.json()
    expected = rn.load_network(path).info()
    assert net["source"] == "upload" and net["name"] == "Town"
    assert net["info"]["edges"] == expected["edges"] and net["info"]["nodes"] == expected["nodes"]
    assert net["info"]["source"] == path.name  # the server's file path does not leak


def test_upload_corrupt_file_is_422_with_library_message(client: TestClient) -> None:
    r = upload(client, "broken.osm.pbf", b"\x00\x01 definitely not protobuf" * 20)
    assert r.status_code == 422
    body = r.json()
    assert "broken.osm.pbf" in body["detail"] and "OpenStreetMap" in body["detail"]
    assert "/networks/" not in body["detail"]  # no server paths
    r = upload(client, "empty.osm.gz", gzip.compress(b"<osm version='0.6'></osm>"))
    assert r.status_code == 422 and "no highway" in r.json()["detail"]
    assert client.get("/networks", headers=A).json()["total"] == 0


def test_upload_bad_parts(client: TestClient, town_osm: Path) -> None:
    r = upload(client, "town.shp", town_osm.read_bytes())
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.file"
    r = upload(client, "town.osm", b"")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.file"
    r = client.post("/networks", data={"name": "no file"}, files={"x": ("a", b"1")}, headers=A)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.file"
    r = upload(client, "town.osm", town_osm.read_bytes(), profile="rocket")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.profile"


def test_upload_and_body_size_limits(tmp_path: Path, town_osm: Path) -> None:
    app = make_app(tmp_path / "var", max_upload_mb=0.001, max_body_bytes=200)
    with TestClient(app) as client:
        r = upload(client, "town.osm", town_osm.read_bytes())  # 3.4 kB > 1 kB
        assert r.status_code == 413 and r.headers["content-type"] == PROBLEM
        r = client.post("/networks", json={"sample": "helsinki", "name": "x" * 300}, headers=A)
        assert r.status_code == 413 and r.json()["limit_bytes"] == 200

        def chunks():  # no Content-Length: counted while streaming
            for _ in range(10):
                yield b" " * 50

        r = client.post(
            "/matrix", content=chunks(), headers={**A, "Content-Type": "application/json"}
        )
        assert r.status_code == 413


def test_unknown_network_404(client: TestClient) -> None:
    for url in ("/networks/nope", "/networks/nope/roads.geojson"):
        r = client.get(url, headers=A)
        assert r.status_code == 404 and r.headers["content-type"] == PROBLEM


# ---------------------------------------------------------------------- roads.geojson
@pytest.fixture(scope="module")
def town(tmp_path_factory: pytest.TempPathFactory, town_osm: Path):
    app = make_app(tmp_path_factory.mktemp("town") / "var")
    with TestClient(app) as client:
        r = upload(client, "town.osm", town_osm.read_bytes())
        assert r.status_code == 201, r.text
        yield client, r.json()["id"], rn.load_network(town_osm)


def test_roads_geojson_matches_network(town) -> None:
    client, nid, net = town
    r = client.get(f"/networks/{nid}/roads.geojson", headers=A)
    assert r.status_code == 200 and r.headers["content-type"] == GEOJSON
    fc = r.json()
    assert fc["type"] == "FeatureCollection"
    feats = fc["features"]
    pairs = int(np.sum((net.edge_twin >= 0) & (net.edge_twin < np.arange(net.n_edges))))
    assert len(feats) == net.n_edges - pairs == fc["numberMatched"] == fc["numberReturned"]
    ids = [f["id"] for f in feats]
    assert len(set(ids)) == len(ids)
    for f in feats:
        e = f["id"]
        assert f["geometry"]["type"] == "LineString"
        assert np.allclose(f["geometry"]["coordinates"], net.edge_geometry[e], atol=1e-7)
        assert f["properties"]["oneway"] == (net.edge_twin[e] < 0)
        assert f["properties"]["length_m"] == pytest.approx(net.edge_length_m[e])
        assert f["properties"]["way_id"] == net.edge_way_id[e]
    names = {(f["properties"]["name"], f["properties"]["oneway"]) for f in feats}
    assert ("解放路", False) in names and ("学院路", True) in names


def test_roads_bbox_filter_and_paging(town) -> None:
    client, nid, _ = town
    everything = client.get(f"/networks/{nid}/roads.geojson", headers=A).json()["features"]
    west, south, east, north = 120.0, 29.999, 120.0025, 30.0005
    r = client.get(f"/networks/{nid}/roads.geojson?bbox={west},{south},{east},{north}", headers=A)
    sub = r.json()["features"]
    assert 0 < len(sub) < len(everything)
    for f in everything:
        xy = np.array(f["geometry"]["coordinates"])
        inside = (
            xy[:, 0].min() <= east
            and xy[:, 0].max() >= west
            and xy[:, 1].min() <= north
            and xy[:, 1].max() >= south
        )
        assert inside == (f["id"] in {g["id"] for g in sub})
    pages, url = [], f"/networks/{nid}/roads.geojson?limit=3"
    while url:
        r = client.get(url, headers=A)
        page = r.json()
        assert page["numberMatched"] == len(everything) and page["numberReturned"] <= 3
        pages.extend(page["features"])
        nxt = [link["href"] for link in page["links"] if link["rel"] == "next"]
        url = nxt[0] if nxt else None
        if url:
            assert r.headers["link"].startswith(f"<{url}>")
    assert [f["id"] for f in pages] == [f["id"] for f in everything]
    # a GIS reader that sends the key in the URL can follow the next link as it is
    r = client.get(f"/networks/{nid}/roads.geojson?limit=3&api_key={A['X-API-Key']}")
    nxt = next(link["href"] for link in r.json()["links"] if link["rel"] == "next")
    assert "api_key=" in nxt and "offset=3" in nxt and client.get(nxt).status_code == 200
    empty = client.get(f"/networks/{nid}/roads.geojson?bbox=0,0,1,1", headers=A).json()
    assert empty["features"] == [] and empty["numberMatched"] == 0


@pytest.mark.parametrize(
    "bbox", ["1,2,3", "a,b,c,d", "10,0,5,1", "0,10,1,5", "0,0,200,1", "0,-91,1,1", "nan,0,1,1"]
)
def test_roads_bad_bbox_names_field(town, bbox: str) -> None:
    client, nid, _ = town
    r = client.get(f"/networks/{nid}/roads.geojson", params={"bbox": bbox}, headers=A)
    assert r.status_code == 422 and r.headers["content-type"] == PROBLEM
    assert r.json()["errors"][0]["field"] == "query.bbox"
    assert r.json()["detail"].startswith("query.bbox")


def test_roads_limit_bounds(town) -> None:
    client, nid, _ = town
    for limit in ("0", "100000", "x"):
        r = client.get(f"/networks/{nid}/roads.geojson?limit={limit}", headers=A)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "query.limit"


def test_roads_query_key_for_gis_readers(town) -> None:
    client, nid, _ = town
    r = client.get(f"/networks/{nid}/roads.geojson", params={"api_key": A["X-API-Key"]})
    assert r.status_code == 200
    r = client.get(f"/networks/{nid}/roads.geojson", params={"api_key": B["X-API-Key"]})
    assert r.status_code == 404  # tenant B does not see tenant A's network
