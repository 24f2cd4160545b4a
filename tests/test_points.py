"""Named lon/lat points: construction, CSV and GeoJSON reading, and every bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest

import recyclenet as rn
from recyclenet.points import points_from_geojson


def test_points_from_arrays_and_records():
    p = rn.Points(("a", "b"), np.array([120.0, 120.1]), np.array([30.0, 30.1]))
    assert len(p) == 2
    assert p.ids == ("a", "b")
    assert p.lon.dtype == np.float64 and p.lat.tolist() == [30.0, 30.1]
    assert p.properties == ({}, {})
    q = rn.Points.from_records(
        [{"id": 7, "lon": "120.5", "lat": 30.25, "名称": "回收站"}, ("x", 1, 2)]
    )
    assert q.ids == ("7", "x")  # ids become strings
    assert q.lon.tolist() == [120.5, 1.0]
    assert q.properties[0] == {"名称": "回收站"}


def test_read_points_csv_utf8_with_bom(tmp_path):
    path = tmp_path / "pts.csv"
    path.write_text(
        "id,lon,lat,name\n回收站1,120.001,30.0003,解放路站\nb2,120.003,30.0019,\n",
        encoding="utf-8-sig",
    )
    p = rn.read_points(path)
    assert p.ids == ("回收站1", "b2")
    assert p.lon.tolist() == [120.001, 120.003]
    assert p.lat.tolist() == [30.0003, 30.0019]
    assert p.properties[0]["name"] == "解放路站"


def test_read_points_geojson(tmp_path):
    doc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": "f1",
                "geometry": {"type": "Point", "coordinates": [120.001, 30.0003]},
                "properties": {"name": "中山路"},
            },
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [120.003, 30.0019, 5]},
                "properties": {"id": "f2"},
            },
        ],
    }
    path = tmp_path / "pts.geojson"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    p = rn.read_points(path)
    assert p.ids == ("f1", "f2")
    assert p.lon.tolist() == [120.001, 120.003]  # lon first (RFC 7946)
    assert p.lat.tolist() == [30.0003, 30.0019]
    assert p.properties[0] == {"name": "中山路"}


@pytest.mark.parametrize(
    ("ids", "lon", "lat", "match"),
    [
        ((), [], [], "empty"),
        (("a", "b", "a"), [1, 2, 3], [1, 2, 3], r"duplicate.*'a'"),
        (("ok", "bad"), [120.0, 200.0], [30.0, 30.0], r"bad \(200"),
        (("ok", "south"), [120.0, 120.0], [30.0, -91.0], "south"),
        (("nan",), [np.nan], [30.0], "nan"),
        (("inf",), [np.inf], [30.0], "inf"),
        (("a", "b"), [1.0], [1.0, 2.0], "one value per id"),
    ],
)
def test_bad_points(ids, lon, lat, match):
    with pytest.raises(rn.InputError, match=match):
        rn.Points(ids, np.array(lon, dtype=float), np.array(lat, dtype=float))


def test_out_of_range_message_explains_lon_lat():
    with pytest.raises(rn.InputError) as info:
        rn.Points(("depot-7",), np.array([30.0]), np.array([120.0]))
    msg = str(info.value)
    assert "depot-7" in msg
    assert "lon, lat" in msg


@pytest.mark.parametrize(
    ("name", "text", "match"),
    [
        ("dup.csv", "id,lon,lat\nk1,120,30\nk1,120.1,30.1\n", "k1"),
        ("cols.csv", "名字,a,b\na,1,2\n", r"no column for \['id', 'lon', 'lat'\].*名字"),
        ("nan.csv", "id,lon,lat\nq9,abc,30\n", r"q9.*abc"),
        ("range.csv", "id,lon,lat\nz3,120,95\n", "z3"),
        ("pts.dat", "id,lon,lat\n", "not a table or GIS file"),
        ("bad.geojson", "{not json", "not a table or GIS file"),
        (
            "line.geojson",
            '{"type": "FeatureCollection", "features": [{"type": "Feature", '
            '"id": "l1", "geometry": {"type": "LineString", "coordinates": [[0, 0], [1, 1]]}}]}',
            "LineString",
        ),
        (
            "noid.geojson",
            '{"type": "FeatureCollection", "features": [{"type": "Feature", '
            '"geometry": {"type": "Point", "coordinates": [1, 1]}, "properties": {}}]}',
            r"no column for \['id'\]",
        ),
    ],
)
def test_bad_points_files(tmp_path, name, text, match):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(rn.InputError, match=match) as info:
        rn.read_points(path)
    if name.endswith(".geojson") or name in ("cols.csv", "pts.dat"):
        assert name in str(info.value)


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("empty.csv", "id,lon,lat\n"),
        ("empty.geojson", '{"type": "FeatureCollection", "features": []}'),
    ],
)
def test_empty_points_file_is_an_input_error(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(rn.InputError, match="empty"):
        rn.read_points(path)


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("empty.csv", "id,lon,lat\n"),
        ("empty.geojson", '{"type": "FeatureCollection", "features": []}'),
    ],
)
def test_empty_points_file_error_names_the_file(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(rn.InputError, match=name):
        rn.read_points(path)


def test_missing_points_file_named(tmp_path):
    path = tmp_path / "nowhere.csv"
    with pytest.raises(rn.InputError, match=r"nowhere\.csv"):
        rn.read_points(path)


def test_points_file_gbk_is_detected_and_undecodable_bytes_named(tmp_path):
    path = tmp_path / "gbk.csv"
    path.write_bytes("id,lon,lat\n回收站,120,30\n".encode("gbk"))
    assert rn.read_points(path).ids == ("回收站",)
    path.write_bytes(b"id,lon,lat\n\xff\xfe\xff,120,30\n\x81\x30")
    with pytest.raises(rn.InputError, match=r"gbk\.csv.*UTF-8.*GB18030"):
        rn.read_points(path)


def test_geojson_features_missing_coordinates():
    doc = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "id": "c1", "geometry": {"type": "Point", "coordinates": []}}
        ],
    }
    with pytest.raises(rn.InputError, match="c1"):
        points_from_geojson(doc)


def test_read_points_from_geopackage_reprojects_to_wgs84(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import geopandas as gpd
    from shapely.geometry import Point

    from recyclenet.points import read_points

    frame = gpd.GeoDataFrame(
        {"id": ["a", "b"], "households": [120, 80], "name": ["解放路 1 号", "中山路"]},
        geometry=[Point(24.94, 60.17), Point(24.95, 60.175)],
        crs=4326,
    ).to_crs(3067)  # stored in a projected CRS (ETRS-TM35FIN)
    path = tmp_path / "demand.gpkg"
    frame.to_file(path)
    pts = read_points(path)
    assert pts.ids == ("a", "b")
    assert pts.lon[0] == pytest.approx(24.94, abs=1e-7) and pts.lat[1] == pytest.approx(60.175)
    assert pts.properties[0]["households"] == 120 and pts.properties[0]["name"] == "解放路 1 号"
