"""Demand a bureau can defend (issue #11, class 5): buildings, residential land, totals,
district totals and a population raster, with the numbers of the sourced tables."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import shapely

from osm_city import OsmXml
from recyclenet.errors import InputError
from recyclenet.geo import to_metric, utm_crs
from recyclenet.osm_features import read_osm_features
from recyclenet.siting.demand import (
    demand_factors,
    density_table,
    estimate_demand,
    land_households_per_m2,
)

LON0, LAT0 = 121.47, 31.23  # Shanghai


def _area_m2(west: float, south: float, east: float, north: float) -> float:
    crs = utm_crs((west + east) / 2, (south + north) / 2)
    x, y = to_metric(crs, np.array([west, east, east, west]), np.array([south, south, north,
                                                                         north]))  # fmt: skip
    return float(shapely.area(shapely.Polygon(np.column_stack([x, y]))))


def _landuse_city(tmp_path: Path, *, with_house: bool = False) -> Path:
    osm = OsmXml()
    # compound A: 0.004 x 0.003 degrees (~381 x 333 m), no buildings
    osm.rect(LON0, LAT0, LON0 + 0.004, LAT0 + 0.003, {"landuse": "residential", "name": "A区"})
    # compound B: 0.002 x 0.002 degrees, one mapped apartment building of 60 flats inside
    osm.rect(LON0 + 0.006, LAT0, LON0 + 0.008, LAT0 + 0.002, {"landuse": "residential"})
    osm.rect(LON0 + 0.0065, LAT0 + 0.0005, LON0 + 0.0067, LAT0 + 0.0006,
             {"building": "apartments", "building:flats": "60"})  # fmt: skip
    if with_house:  # a house outside any residential land
        osm.rect(LON0 + 0.010, LAT0, LON0 + 0.0101, LAT0 + 0.0001, {"building": "house"})
    return osm.write(tmp_path / "landuse.osm")


def test_table_values_are_the_sourced_ones() -> None:
    f = demand_factors()
    assert f["floor_area_per_household_m2"] == pytest.approx(36.52 * 2.62, abs=0.05)
    assert f["persons_per_household"] == 2.62
    t = density_table()
    assert t["high_rise"]["floor_area_ratio"] == 2.5
    assert (t["high_rise"]["far_low"], t["high_rise"]["far_high"]) == (2.2, 2.8)
    assert land_households_per_m2("high_rise") == pytest.approx(2.5 * 0.9 / 95.7)


def test_landuse_without_buildings_gives_area_times_ratio(tmp_path: Path) -> None:
    features = read_osm_features(_landuse_city(tmp_path))
    assert len(features.residential_areas) == 2
    est = estimate_demand(features, urban_context="high_rise")
    area_a = _area_m2(LON0, LAT0, LON0 + 0.004, LAT0 + 0.003)
    expected = area_a * 2.5 * 0.9 / 95.7  # ~3,000 households
    assert expected == pytest.approx(2990, rel=0.01)
    # compound B has a mapped residential building: its households come from it only
    assert est.households_by_source["residential_land"] == pytest.approx(expected, rel=1e-6)
    assert est.households_by_source["building_flats"] == 60.0
    assert est.households_total == pytest.approx(expected + 60, abs=0.05 * len(est.demand))
    # the land households are spread over A on a grid, not stacked on one point
    land = [d for d in est.demand if d.lon < LON0 + 0.0045]
    assert len(land) >= 12
    assert est.urban_context == "high_rise" and est.calibration == "none"
    area_b = _area_m2(LON0 + 0.006, LAT0, LON0 + 0.008, LAT0 + 0.002)
    assert est.residential_land_km2 == pytest.approx((area_a + area_b) / 1e6, rel=1e-6)
    assert not est.warnings
    # mid-rise (the "auto" choice without storey evidence) prices land lower
    mid = estimate_demand(features)
    assert mid.urban_context == "mid_rise"
    assert mid.households_by_source["residential_land"] == pytest.approx(
        area_a * 1.45 * 0.9 / 95.7, rel=1e-6
    )


@pytest.mark.parametrize("total", [12_345.0, 250_000.0])
def test_households_total_is_reproduced(tmp_path: Path, total: float) -> None:
    features = read_osm_features(_landuse_city(tmp_path))
    est = estimate_demand(features, households_total=total)
    got = sum(d.households for d in est.demand)
    assert got == pytest.approx(total, rel=1e-3)
    assert est.calibration == "households_total"
    assert est.households_total == pytest.approx(total, rel=1e-3)


def test_district_totals_are_reproduced(tmp_path: Path) -> None:
    features = read_osm_features(_landuse_city(tmp_path))
    # west: most of compound A; east: the rest of A and B; north: nothing estimated
    cut = LON0 + 0.0031
    west = [[LON0 - 0.001, LAT0 - 0.001], [cut, LAT0 - 0.001], [cut, LAT0 + 0.004],
            [LON0 - 0.001, LAT0 + 0.004], [LON0 - 0.001, LAT0 - 0.001]]  # fmt: skip
    east = [[cut, LAT0 - 0.001], [LON0 + 0.009, LAT0 - 0.001], [LON0 + 0.009, LAT0 + 0.004],
            [cut, LAT0 + 0.004], [cut, LAT0 - 0.001]]  # fmt: skip
    north = [[LON0, LAT0 + 0.005], [LON0 + 0.002, LAT0 + 0.005], [LON0 + 0.002, LAT0 + 0.006],
             [LON0, LAT0 + 0.006], [LON0, LAT0 + 0.005]]  # fmt: skip
    totals = {"西区": 40_000.0, "东区": 9_876.0, "北区": 555.0}
    doc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"id": k, "households": v},
         "geometry": {"type": "Polygon", "coordinates": [ring]}}
        for (k, v), ring in zip(totals.items(), (west, east, north))]}  # fmt: skip
    path = tmp_path / "districts.geojson"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    est = estimate_demand(features, districts=path)
    assert est.calibration == "districts"
    polys = {"西区": shapely.Polygon(west), "东区": shapely.Polygon(east),
             "北区": shapely.Polygon(north)}  # fmt: skip
    for name, poly in polys.items():
        got = sum(d.households for d in est.demand if poly.contains(shapely.Point(d.lon, d.lat)))
        assert got == pytest.approx(totals[name], rel=1e-3), name
    assert est.households_total == pytest.approx(sum(totals.values()), rel=1e-3)
    assert est.scale_by_district["北区"] == float("inf")  # nothing estimated: one point
    with pytest.raises(InputError, match="not both"):
        estimate_demand(features, districts=path, households_total=5.0)
    bad = tmp_path / "bad.geojson"
    doc["features"][1]["properties"]["households"] = "many"
    bad.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(InputError, match=r"feature #2 \(id '东区'\): 'households' must be"):
        estimate_demand(features, districts=bad)


def test_population_raster_calibrates_cell_by_cell(tmp_path: Path) -> None:
    rasterio = pytest.importorskip("rasterio")
    from rasterio.transform import from_origin

    features = read_osm_features(_landuse_city(tmp_path))
    # 2 x 3 cells of 0.004 x 0.0015 degrees from (LON0, LAT0 + 0.003) down and east
    persons = np.array([[2620.0, 0.0, 524.0], [5240.0, 262.0, 0.0]], dtype="float32")
    path = tmp_path / "pop.tif"
    with rasterio.open(path, "w", driver="GTiff", height=2, width=3, count=1, dtype="float32",
                       crs="EPSG:4326", transform=from_origin(LON0, LAT0 + 0.003, 0.004,
                                                              0.0015)) as dst:  # fmt: skip
        dst.write(persons, 1)
    est = estimate_demand(features, population_raster=path)
    assert est.calibration == "raster"
    # every raster household is there: persons / 2.62 per cell (1000, 200, 2000, 100)
    assert est.households_total == pytest.approx(persons.sum() / 2.62, rel=1e-3)
    # cell (0, 2) has people but no OSM evidence: a point at its centre with 200
    assert est.households_by_source["raster"] == pytest.approx(200.0, rel=1e-6)
    centre = (LON0 + 0.010, LAT0 + 0.003 - 0.00075)
    near = [d for d in est.demand
            if abs(d.lon - centre[0]) < 1e-6 and abs(d.lat - centre[1]) < 1e-6]  # fmt: skip
    assert len(near) == 1 and near[0].households == pytest.approx(200.0)
    # cell (0, 0): the land estimate in it is scaled to 1,000 households
    cell00 = shapely.box(LON0, LAT0 + 0.0015, LON0 + 0.004, LAT0 + 0.003)
    got = sum(d.households for d in est.demand if cell00.contains(shapely.Point(d.lon, d.lat)))
    assert got == pytest.approx(1000.0, rel=1e-3)
    # cell (1, 1): B's mapped building (60 flats) scaled to 262 / 2.62 = 100 households
    cell11 = shapely.box(LON0 + 0.004, LAT0, LON0 + 0.008, LAT0 + 0.0015)
    got = sum(d.households for d in est.demand if cell11.contains(shapely.Point(d.lon, d.lat)))
    assert got == pytest.approx(100.0, rel=1e-3)


def test_implausibly_low_density_is_reported(tmp_path: Path) -> None:
    osm = OsmXml()
    # 1 km2 of residential land with three mapped houses in it
    osm.rect(LON0, LAT0, LON0 + 0.0105, LAT0 + 0.009, {"landuse": "residential"})
    for k in range(3):
        x = LON0 + 0.001 + 0.001 * k
        osm.rect(x, LAT0 + 0.001, x + 0.0001, LAT0 + 0.0011, {"building": "house"})
    features = read_osm_features(osm.write(tmp_path / "sparse.osm"))
    est = estimate_demand(features)
    assert est.households_total == 3.0
    assert est.residential_land_km2 == pytest.approx(1.0, rel=0.02)
    assert est.density_hh_per_km2 == pytest.approx(3.0, rel=0.02)
    assert len(est.warnings) == 1 and "implausibly low" in est.warnings[0]
    assert "households_total" in est.warnings[0]
    # calibrated to a known total, the warning goes
    assert not estimate_demand(features, households_total=9000).warnings
