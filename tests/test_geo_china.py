"""GCJ-02 and BD-09 in recyclenet.geo: published test vectors, exact inverses, the China
box, CRS names, and GeoJSON conversion."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from pyproj import Geod

from recyclenet.errors import InputError
from recyclenet.geo import (
    CRS_NOTE_KEY,
    bd09_to_gcj02,
    check_crs,
    from_wgs84,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    geojson_bbox,
    geojson_from_crs,
    geojson_swap_axes,
    geojson_to_crs,
    meets_china,
    out_of_china,
    to_wgs84,
    wgs84_to_gcj02,
)

GEOD = Geod(ellps="WGS84")


def dist_m(lon1, lat1, lon2, lat2) -> np.ndarray:
    """Geodesic distance in metres on WGS-84 (pyproj, independent of recyclenet.geo)."""
    return np.asarray(GEOD.inv(lon1, lat1, lon2, lat2)[2])


# --------------------------------------------------------------------- test vectors
# Source: googollee/eviltransform, python/test.py `TESTS` (the same three rows are in
# go/transform_test.go, c/test.c and javascript/test.js). Published there as
# (wgsLat, wgsLng, gcjLat, gcjLng); reordered here to lon, lat. Full double precision: the
# Krasovsky formula reproduces them to the last bit (with a = 6378137 instead they are
# ~1e-7 degrees off, which the 1e-9 tolerance below catches).
EVILTRANSFORM_WGS_GCJ = [
    # (wgs lon, wgs lat), (gcj lon, gcj lat)
    ((121.5272106, 31.1774276), (121.531541859215, 31.17530398364597)),  # Shanghai
    ((113.912316, 22.543847), (113.9171764808363, 22.540796131694766)),  # Shenzhen
    ((116.377817, 39.911954), (116.38404722455657, 39.91334545536069)),  # Beijing
]

# Source: hujiulong/gcoord, test/unit/crs/WGS84.spec.ts, GCJ02.spec.ts and BD09.spec.ts,
# all at lon 123, lat 45 (published to 7-8 decimals, so compared to 1e-7 degrees).
GCOORD_AT_123_45 = {
    ("wgs84", "gcj02"): (123.00607541, 45.00197815),
    ("wgs84", "bd09"): (123.0124491, 45.0083293),
    ("gcj02", "bd09"): (123.00636499, 45.00636899),
}
# gcoord's inverses at the same point, from its approximate inverses (GCJ02 to WGS84
# stops at ~1e-6 degrees; BD09 to GCJ02 is the one-step closed form, ~7e-7 off): the
# exact inverse must agree with them to their accuracy, 1e-6 degrees (~0.1 m).
GCOORD_INVERSE_AT_123_45 = {
    ("gcj02", "wgs84"): (122.99395597, 44.99804071),
    ("bd09", "wgs84"): (122.98762210, 44.99171540),
    ("bd09", "gcj02"): (122.99363304, 44.99365430),
}

# Source: hujiulong/gcoord, test/fixtures/china-cities.json (GCJ02 and BD09 of the first
# entries, 7 decimals): GCJ-02 -> BD-09 pairs, compared to 1e-7 degrees. (That file's
# WGS84 column differs from the GCJ-02 formula by ~5e-6 degrees, apparently taken from a
# map service, so it is not used for WGS-84 -> GCJ-02; gcoord itself checks it to 1e-4.)
GCOORD_CITIES_GCJ_BD = [
    ((114.022306, 33.0115324), (114.0287781, 33.0176697)),  # 驻马店市
    ((111.4677938, 27.2388981), (111.4742271, 27.2451662)),  # 邵阳市
    ((114.5048503, 37.0705911), (114.5113116, 37.0766797)),  # 邢台市
    ((92.0512438, 31.4762063), (92.0576832, 31.4824421)),  # 那曲地区
    ((123.4314787, 41.8057023), (123.438095, 41.8114013)),  # 沈阳市
]


@pytest.mark.parametrize(("wgs", "gcj"), EVILTRANSFORM_WGS_GCJ)
def test_wgs84_to_gcj02_eviltransform_vectors(wgs, gcj):
    lon, lat = from_wgs84(*wgs, "gcj02")
    assert abs(lon - gcj[0]) < 1e-9 and abs(lat - gcj[1]) < 1e-9


@pytest.mark.parametrize(("wgs", "gcj"), EVILTRANSFORM_WGS_GCJ)
def test_gcj02_to_wgs84_is_exact_on_eviltransform_vectors(wgs, gcj):
    lon, lat = to_wgs84(*gcj, "gcj02")
    assert abs(lon - wgs[0]) < 1e-9 and abs(lat - wgs[1]) < 1e-9
    assert dist_m(lon, lat, *wgs) < 0.001
    # the usual one-step inverse (subtract the offset taken at the GCJ-02 point) is
    # 0.3-1.9 m off here: the exactness asserted above is not a tolerance any inverse meets
    g_lon, g_lat = np.array([gcj[0]]), np.array([gcj[1]])
    s_lon, s_lat = wgs84_to_gcj02(g_lon, g_lat)
    one_step = (2 * g_lon - s_lon, 2 * g_lat - s_lat)
    assert dist_m(one_step[0][0], one_step[1][0], *wgs) > 0.25


@pytest.mark.parametrize(("pair", "expected"), sorted(GCOORD_AT_123_45.items()))
def test_forward_gcoord_vectors(pair, expected):
    src, dst = pair
    if src == "wgs84":
        got = from_wgs84(123.0, 45.0, dst)
    else:
        got = tuple(float(v) for v in gcj02_to_bd09(123.0, 45.0))
    assert got == pytest.approx(expected, abs=1e-7)


@pytest.mark.parametrize(("pair", "expected"), sorted(GCOORD_INVERSE_AT_123_45.items()))
def test_inverse_agrees_with_gcoord_to_its_accuracy(pair, expected):
    src, dst = pair
    if dst == "wgs84":
        got = to_wgs84(123.0, 45.0, src)
    else:
        got = tuple(float(v) for v in bd09_to_gcj02(123.0, 45.0))
    assert got == pytest.approx(expected, abs=1e-6)
    assert dist_m(*got, *expected) < 0.15
    # and ours is the exact one: forward again gives (123, 45) back
    back = from_wgs84(*got, src) if dst == "wgs84" else gcj02_to_bd09(*got)
    assert np.allclose(back, (123.0, 45.0), rtol=0, atol=1e-10)


@pytest.mark.parametrize(("gcj", "bd"), GCOORD_CITIES_GCJ_BD)
def test_gcj02_bd09_city_vectors(gcj, bd):
    fwd = gcj02_to_bd09(*gcj)
    assert np.allclose(fwd, bd, rtol=0, atol=1e-7)
    inv = bd09_to_gcj02(*bd)
    assert np.allclose(inv, gcj, rtol=0, atol=1e-7)  # bd is rounded to 7 decimals


# ----------------------------------------------------------------- exact round trips
@pytest.fixture(scope="module")
def china_points() -> tuple[np.ndarray, np.ndarray]:
    """Seeded points over the whole China box, plus big cities."""
    rng = np.random.default_rng(20240606)
    lon = np.concatenate([rng.uniform(73.0, 135.0, 3000), [116.397, 121.473, 114.057, 87.617]])
    lat = np.concatenate([rng.uniform(18.0, 53.0, 3000), [39.908, 31.230, 22.543, 43.826]])
    return lon, lat


@pytest.mark.parametrize("crs", ["gcj02", "bd09"])
def test_round_trip_from_wgs84_is_exact(china_points, crs):
    lon, lat = china_points
    x, y = from_wgs84(lon, lat, crs)
    assert np.all(dist_m(lon, lat, x, y) > 1.0)  # the datums really do shift these points
    back_lon, back_lat = to_wgs84(x, y, crs)
    assert np.abs(back_lon - lon).max() < 1e-8
    assert np.abs(back_lat - lat).max() < 1e-8
    assert dist_m(lon, lat, back_lon, back_lat).max() < 0.1
    assert dist_m(lon, lat, back_lon, back_lat).max() < 1e-5  # in fact about 1 µm


@pytest.mark.parametrize("crs", ["gcj02", "bd09"])
def test_round_trip_to_wgs84_is_exact(china_points, crs):
    lon, lat = china_points  # read as GCJ-02 / BD-09 degrees
    w_lon, w_lat = to_wgs84(lon, lat, crs)
    again_lon, again_lat = from_wgs84(w_lon, w_lat, crs)
    assert np.abs(again_lon - lon).max() < 1e-8
    assert np.abs(again_lat - lat).max() < 1e-8


def test_bd09_gcj02_inverse_is_exact_where_closed_form_is_not(china_points):
    lon, lat = china_points
    b_lon, b_lat = gcj02_to_bd09(lon, lat)
    g_lon, g_lat = bd09_to_gcj02(b_lon, b_lat)
    assert max(np.abs(g_lon - lon).max(), np.abs(g_lat - lat).max()) < 1e-10


def test_outside_china_gcj02_is_wgs84():
    # Helsinki, Tokyo (east of the box), Sydney, San Francisco, Moscow, the antimeridian
    lon = np.array([24.9384, 139.6917, 151.2093, -122.4194, 37.6173, 180.0, 0.0])
    lat = np.array([60.1699, 35.6895, -33.8688, 37.7749, 55.7558, -16.5, 0.0])
    assert out_of_china(lon, lat).all()
    for convert in (wgs84_to_gcj02, gcj02_to_wgs84):
        x, y = convert(lon, lat)
        np.testing.assert_array_equal(x, lon)
        np.testing.assert_array_equal(y, lat)
    assert from_wgs84(24.9384, 60.1699, "gcj02") == (24.9384, 60.1699)
    assert to_wgs84(24.9384, 60.1699, "gcj02") == (24.9384, 60.1699)
    # BD-09 still applies Baidu's own shift there (documented), and inverts exactly
    b = from_wgs84(24.9384, 60.1699, "bd09")
    assert b == pytest.approx(tuple(float(v) for v in gcj02_to_bd09(24.9384, 60.1699)))
    assert to_wgs84(*b, "bd09") == pytest.approx((24.9384, 60.1699), abs=1e-10)


def test_china_box_edges():
    assert not out_of_china(72.004, 0.8293) and not out_of_china(137.8347, 55.8271)
    assert out_of_china(72.0039, 30.0) and out_of_china(120.0, 55.8272)
    assert not out_of_china(126.978, 37.566)  # Seoul is inside the rough box: offset too
    assert from_wgs84(126.978, 37.566, "gcj02") != (126.978, 37.566)


def test_shapes_scalars_and_nan():
    lon = np.array([[120.0, 121.0], [122.0, np.nan]])
    lat = np.array([[30.0, 31.0], [32.0, 33.0]])
    for crs in ("wgs84", "gcj02", "bd09"):
        x, y = from_wgs84(lon, lat, crs)
        assert x.shape == y.shape == (2, 2) and x.dtype == np.float64
        assert np.isnan(x[1, 1]) and y[1, 1] == 33.0  # a pair with a NaN is left as is
        assert np.isfinite(x[:1]).all()
        bx, by = to_wgs84(x, y, crs)
        assert np.allclose(bx[:1], lon[:1], atol=1e-10) and np.allclose(by[:1], lat[:1])
    got = to_wgs84(120.0, 30.0, "gcj02")
    assert isinstance(got, tuple) and all(type(v) is float for v in got)
    x, y = from_wgs84([120.0], 30.0, "bd09")  # broadcast
    assert x.shape == (1,) and y.shape == (1,)
    # inputs are not modified
    orig = lon.copy()
    to_wgs84(lon, lat, "gcj02")
    np.testing.assert_array_equal(lon, orig)


# -------------------------------------------------------------------------- CRS names
@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("wgs84", "wgs84"), ("WGS84", "wgs84"), ("WGS-84", "wgs84"), ("EPSG:4326", "wgs84"),
        ("epsg:4326", "wgs84"), ("gcj02", "gcj02"), ("GCJ-02", "gcj02"), ("gcj_02", "gcj02"),
        ("Mars", "gcj02"), ("bd09", "bd09"), ("BD-09", "bd09"), ("bd09ll", "bd09"),
        ("Baidu", "bd09"), (" bd-09 ", "bd09"),
    ],
)  # fmt: skip
def test_check_crs_aliases(name, expected):
    assert check_crs(name) == expected


@pytest.mark.parametrize("name", ["utm50n", "EPSG:3857", "bd09mc", "", "gcj03"])
def test_check_crs_rejects_with_choices(name):
    with pytest.raises(InputError) as info:
        check_crs(name, what="--crs")
    msg = str(info.value)
    assert msg.startswith("--crs:") and repr(name) in msg
    for choice in ("wgs84", "gcj02", "bd09"):
        assert choice in msg
    with pytest.raises(InputError, match="unknown coordinate system"):
        to_wgs84(120.0, 30.0, name)


# --------------------------------------------------------------------------- GeoJSON
def _sample_collection() -> dict:
    return {
        "type": "FeatureCollection",
        "name": "回收站",
        "bbox": [120.0, 30.0, 120.01, 30.01],
        "features": [
            {"type": "Feature", "id": "p", "properties": {"名称": "解放路站"},
             "geometry": {"type": "Point", "coordinates": [120.001, 30.002, 12.5]}},
            {"type": "Feature", "id": "mp", "properties": {},
             "geometry": {"type": "MultiPoint", "coordinates": [[120.0, 30.0], [120.01, 30.01]]}},
            {"type": "Feature", "id": "ls", "properties": {},
             "geometry": {"type": "LineString", "coordinates": ((120.0, 30.0), (120.005, 30.0))}},
            {"type": "Feature", "id": "mls", "properties": {},
             "geometry": {"type": "MultiLineString",
                          "coordinates": [[[120.0, 30.0], [120.001, 30.001]],
                                          [[120.002, 30.0], [120.003, 30.0]]]}},
            {"type": "Feature", "id": "pg", "properties": {}, "bbox": [1, 2, 3, 4],
             "geometry": {"type": "Polygon",
                          "coordinates": [[[120.0, 30.0], [120.01, 30.0], [120.01, 30.01],
                                           [120.0, 30.0]]]}},
            {"type": "Feature", "id": "mpg", "properties": {},
             "geometry": {"type": "MultiPolygon",
                          "coordinates": [[[[120.0, 30.0], [120.01, 30.0], [120.0, 30.01],
                                            [120.0, 30.0]]]]}},
            {"type": "Feature", "id": "gc", "properties": {},
             "geometry": {"type": "GeometryCollection",
                          "geometries": [{"type": "Point", "coordinates": [24.94, 60.17]},
                                         {"type": "LineString",
                                          "coordinates": [[120.0, 30.0], [120.001, 30.0]]}]}},
            {"type": "Feature", "id": "none", "properties": {}, "geometry": None},
        ],
    }  # fmt: skip


def _positions(obj) -> list[list[float]]:
    """Every position of a GeoJSON object, in document order (an independent walker)."""
    if isinstance(obj, dict):
        if "coordinates" in obj:
            return _flatten(obj["coordinates"])
        out = []
        for key in ("features", "geometries"):
            for child in obj.get(key, []):
                out += _positions(child)
        if obj.get("geometry"):
            out += _positions(obj["geometry"])
        return out
    return []


def _flatten(coords) -> list[list[float]]:
    if coords and isinstance(coords[0], int | float):
        return [list(coords)]
    return [p for c in coords for p in _flatten(c)]


@pytest.mark.parametrize("crs", ["gcj02", "bd09"])
def test_geojson_to_crs_converts_every_geometry_type(crs):
    doc = _sample_collection()
    before = copy.deepcopy(doc)
    out = geojson_to_crs(doc, crs)
    assert doc == before  # a new object; the input is untouched
    src, dst = _positions(doc), _positions(out)
    assert len(src) == len(dst) == 20
    lon, lat = from_wgs84([p[0] for p in src], [p[1] for p in src], crs)
    np.testing.assert_allclose([p[0] for p in dst], lon, rtol=0, atol=1e-12)
    np.testing.assert_allclose([p[1] for p in dst], lat, rtol=0, atol=1e-12)
    shift = np.abs(np.array([p[0] for p in dst]) - [p[0] for p in src])
    helsinki = [p[:2] == [24.94, 60.17] for p in src]
    assert np.all(shift[~np.array(helsinki)] > 1e-3)
    assert (shift[helsinki] == 0).all() == (crs == "gcj02")  # no GCJ-02 offset abroad
    assert dst[0][2] == 12.5  # altitude kept
    assert out[CRS_NOTE_KEY].startswith("coordinates are " + {"gcj02": "GCJ-02",
                                                              "bd09": "BD-09"}[crs])  # fmt: skip
    assert "bbox" not in out and "bbox" not in out["features"][4]
    assert out["name"] == "回收站" and out["features"][0]["properties"] == {"名称": "解放路站"}
    assert out["features"][-1]["geometry"] is None
    assert out["features"][2]["geometry"]["type"] == "LineString"


@pytest.mark.parametrize("crs", ["gcj02", "bd09"])
def test_geojson_round_trip(crs):
    doc = _sample_collection()
    back = geojson_from_crs(geojson_to_crs(doc, crs), crs)
    assert CRS_NOTE_KEY not in back
    np.testing.assert_allclose([p[:2] for p in _positions(back)],
                               [p[:2] for p in _positions(doc)], rtol=0, atol=1e-10)  # fmt: skip
    # single Feature and bare geometry work too
    feat = doc["features"][3]
    assert geojson_from_crs(geojson_to_crs(feat, crs), crs)["id"] == "mls"
    geom = geojson_to_crs({"type": "Point", "coordinates": [120.0, 30.0]}, crs)
    assert geom["coordinates"] == list(from_wgs84(120.0, 30.0, crs))


def test_geojson_wgs84_is_a_plain_copy():
    doc = _sample_collection()
    out = geojson_to_crs(doc, "EPSG:4326")
    assert CRS_NOTE_KEY not in out
    assert _positions(out) == _positions(doc)


@pytest.mark.parametrize(
    ("doc", "needle"),
    [
        ({"type": "FeatureCollection", "features": [{"type": "Feature", "id": "a",
          "geometry": {"type": "Circle", "coordinates": [1, 2]}}]}, "feature #1 (id 'a')"),
        ({"type": "Point", "coordinates": [120.0]}, "position"),
        ({"type": "LineString", "coordinates": [[120.0, "30"]]}, "position"),
        ({"type": "FeatureCollection"}, "features"),
        ({"coordinates": [1, 2]}, "type"),
    ],
)  # fmt: skip
def test_geojson_errors_name_the_feature(doc, needle):
    with pytest.raises(InputError) as info:
        geojson_to_crs(doc, "gcj02")
    assert needle in str(info.value)


def test_geojson_swap_axes_and_bbox():
    doc = _sample_collection()
    swapped = geojson_swap_axes(doc)
    src, dst = _positions(doc), _positions(swapped)
    assert [p[:2] for p in dst] == [[p[1], p[0]] for p in src]
    assert dst[0][2] == 12.5 and "bbox" not in swapped  # altitude kept, boxes dropped
    assert _positions(geojson_swap_axes(swapped)) == src
    assert geojson_bbox(doc) == (24.94, 30.0, 120.01, 60.17)
    assert geojson_bbox(doc["features"][2]) == (120.0, 30.0, 120.005, 30.0)
    assert geojson_bbox(doc["features"][-1]) is None  # no geometry
    assert geojson_bbox({"type": "FeatureCollection", "features": []}) is None


def test_meets_china():
    assert meets_china((120.0, 30.0, 120.01, 30.01))
    assert meets_china((60.0, -10.0, 180.0, 80.0))  # holds the whole box
    assert meets_china((137.8347, 55.8271, 140.0, 60.0))  # touches its corner
    assert not meets_china((24.9, 60.1, 25.0, 60.2))  # Helsinki
    assert not meets_china((137.84, 30.0, 150.0, 40.0))  # just east of it
