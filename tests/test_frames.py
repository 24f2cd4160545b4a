"""GeoDataFrames in and out: round trips for points, demand, sites and orders."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import Point

import recyclenet as rn
from recyclenet.routing import Order
from recyclenet.siting import Demand, Site


def test_points_round_trip_and_any_crs():
    pts = rn.Points(("a", "站1"), np.array([120.1, 120.2]), np.array([30.1, 30.2]),
                    ({"name": "x"}, {"name": "回收站"}))  # fmt: skip
    gdf = rn.points_to_geodataframe(pts)
    assert gdf.crs.to_epsg() == 4326 and list(gdf["id"]) == ["a", "站1"]
    back = rn.points_from_geodataframe(gdf.to_crs(3857))
    assert back.ids == pts.ids and back.properties[1]["name"] == "回收站"
    np.testing.assert_allclose(back.lon, pts.lon, atol=1e-9)
    np.testing.assert_allclose(back.lat, pts.lat, atol=1e-9)


def test_demand_and_sites_round_trip():
    demand = [Demand("d1", 120.1, 30.1, households=5000.0, kg_per_year={"paper": 10.5}),
              Demand("d2", 120.2, 30.2, households=12.0, weight=3.0)]  # fmt: skip
    back = rn.demand_from_geodataframe(rn.demand_to_geodataframe(demand))
    assert back == demand
    sites = [Site("s1", 120.1, 30.1, status="existing", capacity=None, closing_cost=5.0),
             Site("s2", 120.2, 30.2, fixed_cost=100.0, capacity=1500.0)]  # fmt: skip
    assert rn.sites_from_geodataframe(rn.sites_to_geodataframe(sites)) == sites


def test_orders_round_trip():
    orders = [
        Order.from_items("o1", 120.1, 30.1, {"refrigerator": 1, "scrap_mixed": 20},
                         time_windows=[(28800.0, 36000.0)]),
        Order.from_items("o2", 120.2, 30.2, {"tv": 2}, required=False, penalty=5.0,
                         kind="delivery"),
    ]  # fmt: skip
    gdf = rn.orders_to_geodataframe(orders)
    assert gdf.loc[0, "items"] == "refrigerator:1;scrap_mixed:20"
    assert rn.orders_from_geodataframe(gdf) == orders


def test_chinese_columns_and_polygons_from_a_geodataframe():
    gdf = gpd.GeoDataFrame({"小区名称": ["甲", "乙"], "户数": [100, 200]},
                           geometry=[Point(120.1, 30.1).buffer(0.001), Point(120.2, 30.2)],
                           crs=4326)  # fmt: skip
    d = rn.demand_from_geodataframe(gdf)
    assert [x.id for x in d] == ["甲", "乙"] and d[1].households == 200.0
    assert d[0].lon == pytest.approx(120.1, abs=1e-3)
    with pytest.raises(rn.InputError, match=r"columns found: \['户数'\]"):
        rn.demand_from_geodataframe(gdf.drop(columns="小区名称"))
