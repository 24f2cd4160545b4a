"""The one reader: every format, encoding, CRS and column naming a bureau or GIS team uses.

Fixtures are written here by the test (never read from /work/shared): an Excel sheet with a
title row and Chinese headers, a GBK CSV, a Shapefile with a GBK ``.cpg`` and one without,
a GeoPackage in EPSG:3857 with two layers, a GeoJSON in EPSG:4547 (CGCS2000 3-degree
Gauss-Kruger), a ``;`` CSV with 经度/纬度 and decimal commas, FlatGeobuf, KML.
"""

from __future__ import annotations

import datetime

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import Point, box

from recyclenet.errors import InputError
from recyclenet.geo import from_wgs84
from recyclenet.readers import read_demand, read_frame, read_points, read_sites
from recyclenet.routing import read_fleet, read_orders
from recyclenet.routing.io import read_sites as read_depots

# three residential compounds in Hangzhou (WGS-84), with Chinese names and ids with zeros
IDS = ["007", "小区A", "c3"]
LON = [120.1551, 120.1602, 120.1688]
LAT = [30.2741, 30.2795, 30.2702]
HH = [5000, 812, 1450]
NAMES = ["西湖花园", "翠苑一区", "文三新村"]


def _frame(crs: int | str = 4326) -> gpd.GeoDataFrame:
    gdf = gpd.GeoDataFrame({"编号": IDS, "名称": NAMES, "户数": HH},
                           geometry=[Point(x, y) for x, y in zip(LON, LAT)], crs=4326)  # fmt: skip
    return gdf.to_crs(crs)


def _check(demand, households=HH):
    demand = sorted(demand, key=lambda d: IDS.index(d.id))  # FlatGeobuf sorts by its index
    assert [d.id for d in demand] == IDS
    assert np.allclose([d.lon for d in demand], LON, atol=1e-7)
    assert np.allclose([d.lat for d in demand], LAT, atol=1e-7)
    assert [d.households for d in demand] == households


def test_excel_with_title_row_and_chinese_headers(tmp_path):
    import openpyxl

    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "小区"
    ws.append(["西湖区小区清单（2026年）"])  # a title row above the header
    ws.append(["编号", "小区名称", "经度", "纬度", "户数（户）"])
    for row in zip([7, "小区A", "c3"], NAMES, LON, LAT, HH):
        ws.append(list(row))
    ws.append([None, None, None, None, None])  # trailing empty row
    path = tmp_path / "compounds.xlsx"
    book.save(path)
    demand = read_demand(path)
    assert [d.id for d in demand] == ["7", "小区A", "c3"]  # Excel's 7.0 read as "7"
    assert demand[0].households == 5000.0 and demand[1].lat == pytest.approx(30.2795)
    frame = read_frame(f"{path}:小区", kind="demand")
    assert list(frame["小区名称"]) == NAMES
    with pytest.raises(InputError, match=r"no sheet 'nope'; sheets: \['小区'\]"):
        read_frame(path, kind="demand", layer="nope")


def test_gbk_csv_and_utf8_bom_and_utf16_tsv(tmp_path):
    text = "编号,名称,经度,纬度,户数\n" + "".join(
        f"{i},{n},{x},{y},{h}\n" for i, n, x, y, h in zip(IDS, NAMES, LON, LAT, HH))
    for name, data in (("gbk.csv", text.encode("gbk")),
                       ("bom.csv", text.encode("utf-8-sig")),
                       ("u16.txt", text.replace(",", "\t").encode("utf-16"))):  # fmt: skip
        path = tmp_path / name
        path.write_bytes(data)
        demand = read_demand(path)
        _check(demand)
        assert read_points(path).properties[1]["名称"] == "翠苑一区"


def test_semicolon_csv_with_decimal_commas_and_lng(tmp_path):
    path = tmp_path / "eu.csv"
    rows = ["ID;Name;经度;纬度;Households"]
    rows += [f"{i};{n};{str(x).replace('.', ',')};{str(y).replace('.', ',')};{h}"
             for i, n, x, y, h in zip(IDS, NAMES, LON, LAT, HH)]  # fmt: skip
    path.write_text("\n".join(rows), encoding="utf-8")
    _check(read_demand(path))
    path.write_text("id|lng|latitude\na|120.1|30.2\n", encoding="utf-8")
    assert read_points(path).lon.tolist() == [120.1]


def test_shapefile_with_gbk_cpg_and_without_cpg(tmp_path):
    path = tmp_path / "compounds.shp"
    _frame(4490).to_file(path, encoding="GBK")  # CGCS2000 geographic, as Chinese data are
    assert path.with_suffix(".cpg").read_text().upper().startswith(("GBK", "CP936", "936"))
    _check(read_demand(path))
    assert read_points(path).properties[0]["名称"] == "西湖花园"
    path.with_suffix(".cpg").unlink()  # GBK bytes and no .cpg: detected, not mojibake
    assert read_points(path).properties[2]["名称"] == "文三新村"


def test_geopackage_in_3857_with_two_layers(tmp_path):
    path = tmp_path / "bureau.gpkg"
    _frame(3857).to_file(path, layer="compounds")
    gpd.GeoDataFrame({"id": ["s1"], "status": ["现有"]}, geometry=[Point(12_000_000, 3_500_000)],
                     crs=3857).to_file(path, layer="stations")  # fmt: skip
    with pytest.raises(InputError, match=r"2 layers \['compounds', 'stations'\]"):
        read_demand(path)
    _check(read_demand(path, layer="compounds"))
    _check(read_demand(f"{path}:compounds"))
    (site,) = read_sites(f"{path}:stations")
    assert site.status == "existing"  # 现有
    assert site.lon == pytest.approx(107.797834, abs=1e-6)


def test_geojson_in_epsg_4547_and_gcj02_datum(tmp_path):
    path = tmp_path / "compounds.geojson"
    _frame(4547).to_file(path, driver="GeoJSON")
    assert "4547" in path.read_text()
    _check(read_demand(path))
    # GCJ-02 degrees declared as EPSG:4326 (AMap exports): --crs gcj02 gives WGS-84 back
    glon, glat = from_wgs84(np.array(LON), np.array(LAT), "gcj02")
    gcj = gpd.GeoDataFrame({"id": IDS, "households": HH},
                           geometry=gpd.points_from_xy(glon, glat), crs=4326)  # fmt: skip
    gcj.to_file(tmp_path / "gcj.geojson", driver="GeoJSON")
    _check(read_demand(tmp_path / "gcj.geojson", crs="gcj02"))


def test_flatgeobuf_kml_and_polygon_compounds(tmp_path):
    fgb = tmp_path / "c.fgb"
    _frame(32651).to_file(fgb, driver="FlatGeobuf")
    _check(read_demand(fgb))
    kml = tmp_path / "c.kml"
    gpd.GeoDataFrame({"Name": IDS}, geometry=[Point(x, y) for x, y in zip(LON, LAT)],
                     crs=4326).to_file(kml, driver="KML")  # fmt: skip
    assert read_points(kml).ids == tuple(IDS)
    # compounds as outlines: read at a point inside each polygon
    poly = gpd.GeoDataFrame({"id": ["p1"], "户数": [300]},
                            geometry=[box(120.0, 30.0, 120.002, 30.001)], crs=4326)  # fmt: skip
    poly.to_file(tmp_path / "p.gpkg")
    (d,) = read_demand(tmp_path / "p.gpkg")
    assert 120.0 < d.lon < 120.002 and 30.0 < d.lat < 30.001 and d.households == 300


def test_missing_columns_list_found_and_expected(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("编码号,东西,南北\n1,2,3\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        read_demand(path)
    msg = str(info.value)
    assert "columns found: ['编码号', '东西', '南北']" in msg
    assert "经度" in msg and "纬度" in msg and "lng" in msg and "编号" in msg


def test_projected_numbers_in_a_csv_are_named_with_their_line(tmp_path):
    path = tmp_path / "xy.csv"
    path.write_text("id,x,y\nok,120.1,30.2\nm,500000.0,3350000.0\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"line 3: m \(500000\.0, 3350000\.0\).*CRS"):
        read_points(path)


def test_orders_depots_fleet_from_gis_and_excel(tmp_path):
    import openpyxl

    orders = gpd.GeoDataFrame(
        {"编号": ["o1", "o2"], "物品": ["refrigerator:1", "scrap_mixed:20"],
         "时间窗": ["08:00-12:00", ""]},
        geometry=[Point(120.15, 30.27), Point(120.16, 30.28)], crs=4326,
    ).to_crs(4547)  # fmt: skip
    orders.to_file(tmp_path / "orders.shp", encoding="UTF-8")
    orders.to_file(tmp_path / "orders.geojson", driver="GeoJSON")
    for name in ("orders.shp", "orders.geojson"):
        o1, o2 = read_orders(tmp_path / name)
        assert (o1.id, o2.id) == ("o1", "o2")
        assert o1.load_kg == pytest.approx(55.0) and o2.load_kg == pytest.approx(20.0)
        assert o1.time_windows == ((28800.0, 43200.0),)
        assert o2.lon == pytest.approx(120.16, abs=1e-7)
    book = openpyxl.Workbook()
    ws = book.active
    ws.append(["编号", "类型", "经度", "纬度", "卸货时间"])
    ws.append(["D", "车场", 120.15, 30.27, None])
    ws.append(["S", "分拣中心", 120.17, 30.28, 900])
    book.save(tmp_path / "sites.xlsx")
    (d,), (f,) = read_depots(tmp_path / "sites.xlsx")
    assert (d.id, f.id, f.unload_s) == ("D", "S", 900.0)
    book = openpyxl.Workbook()
    book.active.append(["id", "数量", "capacity_kg", "start_id", "profile"])
    book.active.append(["tricycle", 3, 300, "D", "tricycle"])
    book.save(tmp_path / "fleet.xlsx")
    (vt,) = read_fleet(tmp_path / "fleet.xlsx")
    assert (vt.id, vt.count, vt.capacity_kg, vt.profile) == ("tricycle", 3, 300.0, "tricycle")


def test_empty_ids_and_broken_xls_are_named(tmp_path):
    path = tmp_path / "e.csv"
    path.write_text("id,lon,lat\na,120,30\n,120,30\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"line/feature \[3\] have no id"):
        read_points(path)
    (tmp_path / "old.xls").write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(InputError, match=r"old\.xls could not be read as an Excel \.xls "
                       r"workbook .*save it as \.xlsx"):  # fmt: skip
        read_points(tmp_path / "old.xls")


def _write_xls(path, sheets):
    """An Excel 97-2003 workbook (BIFF8, what old bureau systems export), by xlwt."""
    xlwt = pytest.importorskip("xlwt")
    book = xlwt.Workbook(encoding="utf-8")
    for name, rows in sheets.items():
        ws = book.add_sheet(name)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if isinstance(value, datetime.datetime):
                    ws.write(r, c, value, xlwt.easyxf(num_format_str="yyyy-mm-dd hh:mm"))
                elif value is not None:
                    ws.write(r, c, value)
    book.save(str(path))


def test_old_xls_reads_as_its_xlsx_twin(tmp_path):
    # an .xls with a title row, Chinese headers, whole-number ids (doubles in BIFF), a
    # second sheet picked by name, dates and empty cells reads as the same sheet saved
    # as .xlsx does
    import openpyxl

    orders = [
        ["2026年11月 回收预约单", None, None, None, None],
        ["订单编号", "经度", "纬度", "重量(kg)", "预约时间"],
        [1001, 121.4737, 31.2304, 120.5, datetime.datetime(2026, 11, 30, 9, 30)],
        [1002, 121.4801, 31.2251, 80, None],
        ["A-3", 121.4699, 31.2400, 15.25, datetime.datetime(2026, 11, 30, 14, 0)],
    ]
    _write_xls(tmp_path / "orders.xls", {"说明": [["见第二页"]], "订单": orders})
    book = openpyxl.Workbook()
    book.active.title = "说明"
    book.active.append(["见第二页"])
    ws = book.create_sheet("订单")
    for row in orders:
        ws.append(row)
    book.save(tmp_path / "orders.xlsx")
    old = read_frame(tmp_path / "orders.xls:订单", kind="orders")
    new = read_frame(tmp_path / "orders.xlsx:订单", kind="orders")
    assert list(old["id"]) == ["1001", "1002", "A-3"] == list(new["id"])
    cols = [c for c in new.columns if c not in ("geometry",)]
    assert list(old.columns) == list(new.columns)
    assert old[cols].astype(str).equals(new[cols].astype(str))
    np.testing.assert_allclose(old["lon"], [121.4737, 121.4801, 121.4699])
    with pytest.raises(InputError, match=r"no sheet '货物'; sheets: \['说明', '订单'\]"):
        read_frame(tmp_path / "orders.xls:货物", kind="orders")
    pts = read_points(tmp_path / "orders.xls:1")  # a sheet by position
    assert list(pts.ids) == ["1001", "1002", "A-3"]


def test_restriction_zones_and_districts_from_geopackage_and_shapefile(tmp_path):
    from recyclenet.network.zones import read_restriction_zones
    from recyclenet.scale.districts import read_districts

    zones = gpd.GeoDataFrame(
        {"编号": ["中心区", "东区"], "closed": ["07:00-20:00", "00:00-24:00"],
         "vehicles": ["hgv", "hgv;box_truck_4_2m"]},
        geometry=[box(120.15, 30.27, 120.16, 30.28), box(120.17, 30.27, 120.18, 30.28)],
        crs=4326,
    )  # fmt: skip
    zones.to_crs(3857).to_file(tmp_path / "zones.gpkg", layer="限行区")
    z1, z2 = read_restriction_zones(tmp_path / "zones.gpkg")
    assert (z1.id, z2.id) == ("中心区", "东区") and z2.vehicles == {"hgv", "box_truck_4_2m"}
    assert z1.geometry.bounds == pytest.approx((120.15, 30.27, 120.16, 30.28), abs=1e-7)
    zones.drop(columns="编号").to_file(tmp_path / "zones.shp", encoding="UTF-8")
    assert [z.id for z in read_restriction_zones(tmp_path / "zones.shp")] == ["zone1", "zone2"]
    districts = gpd.GeoDataFrame({"name": ["西湖区", "上城区"]}, geometry=zones.geometry,
                                 crs=4326).to_crs(4547)  # fmt: skip
    districts.to_file(tmp_path / "d.shp", encoding="GBK")
    d1, d2 = read_districts(tmp_path / "d.shp")
    assert (d1.id, d2.name) == ("西湖区", "上城区")
