"""Fixtures of the scale tests: a 2-worker Dask cluster on loopback, Helsinki inputs.

The cluster is started once per test module (about 1-2 s) with worker processes, as
``recyclenet batch`` runs it; the Helsinki inputs are built once per session.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pytest

from recyclenet import Points, RoadNetwork, build_matrix, load_network
from recyclenet.matrix import Matrix
from recyclenet.routing import Depot, Facility, RoutingProblem, read_fleet
from recyclenet.scenario import sample_day
from recyclenet.siting import Demand, Site


@pytest.fixture(scope="module")
def client() -> Iterator[object]:
    """A 2-worker LocalCluster on 127.0.0.1 (one thread per worker)."""
    from recyclenet.scale import open_client

    with open_client(n_workers=2, processes=True) as c:
        yield c


@dataclass(frozen=True)
class HelsinkiSiting:
    walk: RoadNetwork
    truck: RoadNetwork
    demand: list[Demand]
    sites: list[Site]
    matrix: Matrix


@pytest.fixture(scope="session")
def helsinki_siting() -> HelsinkiSiting:
    """Households from OSM buildings (125 cells) and 177 candidate sites, walk matrix."""
    from recyclenet.osm_features import read_osm_features
    from recyclenet.siting.osm_inputs import candidate_sites, demand_from_buildings

    walk = load_network("helsinki", profile="walk")
    features = read_osm_features("helsinki")
    demand = demand_from_buildings(features.buildings)
    sites = candidate_sites(walk, features)
    matrix = build_matrix(
        walk, Points.from_located(demand), Points.from_located(sites), too_far="unreachable"
    )
    return HelsinkiSiting(walk, walk.with_profile("box_truck_4_2m"), demand, sites, matrix)


def _nearest_node(net: RoadNetwork, lon: float, lat: float) -> tuple[float, float]:
    k = int(np.argmin((net.node_lon - lon) ** 2 + (net.node_lat - lat) ** 2))
    return float(net.node_lon[k]), float(net.node_lat[k])


@pytest.fixture(scope="session")
def helsinki_day(helsinki_siting: HelsinkiSiting) -> RoutingProblem:
    """A seeded day of 70 pickups, depots west and east, the default fleet at each depot.

    A sorting centre on the south edge is the unloading facility of every vehicle.
    """
    h = helsinki_siting
    orders = sample_day(h.demand, h.sites[:30], n_household_orders=60, n_station_orders=10, seed=3)
    west, south, east, north = h.truck.bbox
    mid = (south + north) / 2
    depots = (
        Depot("west", *_nearest_node(h.truck, west, mid)),
        Depot("east", *_nearest_node(h.truck, east, mid)),
    )
    centre = Facility("centre", *_nearest_node(h.truck, (west + east) / 2, south), unload_s=900)
    fleet = tuple(
        dataclasses.replace(vt, id=f"{vt.id}@{d.id}", start_id=d.id, end_id=d.id)
        for d in depots
        for vt in read_fleet()
    )
    pts = Points.from_located([*depots, centre, *orders])
    matrices = {
        p: build_matrix(h.walk.with_profile(p), pts, too_far="unreachable")
        for p in sorted({vt.profile for vt in fleet})
    }
    return RoutingProblem(tuple(orders), fleet, depots, matrices, (centre,))
