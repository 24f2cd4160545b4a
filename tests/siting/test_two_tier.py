"""Stations then sorting centres, and the measured cost of solving in sequence."""

from __future__ import annotations

import numpy as np
import pytest
from siting_cases import random_case

from recyclenet.matrix import Matrix
from recyclenet.siting import Demand, Site, SitingProblem, solve_two_tier
from recyclenet.siting.two_tier import solve_two_tier_joint


def _centres(station_sites: list[Site], seed: int) -> tuple[list[Site], Matrix]:
    rng = np.random.default_rng(seed)
    xy = rng.random((4, 2)) * 0.05
    centres = [
        Site(f"c{k}", xy[k, 0], xy[k, 1], fixed_cost=float(f), capacity=float(cap))
        for k, (f, cap) in enumerate(zip([400, 300, 350, 500], [40, 30, 30, 60], strict=True))
    ]
    s = np.array([[x.lon, x.lat] for x in station_sites])
    d = np.sqrt(((s[:, None, :] - xy[None, :, :]) ** 2).sum(-1)) * 111_000.0
    mx = Matrix(tuple(x.id for x in station_sites), tuple(c.id for c in centres), d / 10, d)
    return centres, mx


def test_two_tier_hand_checked():
    # two station clusters, two centres: each cluster feeds the centre next to it
    demand = [
        Demand("a1", 0.000, 0.0, households=10, kg_per_year={"paper": 4000}),
        Demand("a2", 0.001, 0.0, households=10, kg_per_year={"paper": 4000}),
        Demand("b1", 0.100, 0.0, households=10, kg_per_year={"metal": 6000}),
        Demand("b2", 0.101, 0.0, households=10, kg_per_year={"metal": 6000}),
    ]
    sites = [Site("sa", 0.0005, 0.0), Site("sb", 0.1005, 0.0), Site("sx", 0.05, 0.0)]
    d1 = np.array(
        [[50, 11000, 5000], [50, 11000, 5000], [11000, 50, 5000], [11000, 50, 5000]], dtype=float
    )
    stations = SitingProblem(
        demand,
        sites,
        Matrix(("a1", "a2", "b1", "b2"), ("sa", "sb", "sx"), d1 / 10, d1),
        model="p_median",
        p=2,
    )
    centres = [
        Site("ca", 0.0, 0.01, fixed_cost=100, capacity=10),
        Site("cb", 0.1, 0.01, fixed_cost=100, capacity=15),
    ]
    d2 = np.array([[1000, 9000], [9000, 1000], [5000, 5000]], dtype=float)
    cmx = Matrix(("sa", "sb", "sx"), ("ca", "cb"), d2 / 10, d2)
    plan = solve_two_tier(stations, centres, cmx, cost_per_unit=0.01)
    assert plan.stations.open_ids == ("sa", "sb")
    assert plan.centres.open_ids == ("ca", "cb")
    assert plan.centres.site_of() == {"sa": "ca", "sb": "cb"}
    # sa carries 8 t/year, sb 12 t/year; cost 200 + 0.01 × (8 × 1000 + 12 × 1000)
    assert plan.centres.indicators.load_by_site == {
        "ca": pytest.approx(8.0),
        "cb": pytest.approx(12.0),
    }
    assert plan.centres.objective == pytest.approx(400.0)
    assert plan.centres.indicators.utilisation_by_site["cb"] == pytest.approx(0.8)
    assert plan.status == "optimal"
    assert plan.to_dict()["centres"]["open_ids"] == ["ca", "cb"]


def test_sequence_vs_joint():
    demand, sites, mx = random_case(60, 12, seed=11)
    demand = [
        Demand(
            d.id, d.lon, d.lat, households=d.households, kg_per_year={"mixed": 50.0 * d.households}
        )
        for d in demand
    ]
    stations = SitingProblem(demand, sites, mx, model="p_median", p=5)
    centres, cmx = _centres(sites, seed=12)
    access_cost = 0.001  # money per household-metre of access, to add the two tiers
    plan = solve_two_tier(stations, centres, cmx, cost_per_unit=0.01, time_limit_s=30)
    assert plan.status == "optimal"
    seq_total = access_cost * plan.stations.objective + plan.centres.objective
    joint, _, joint_stations, _ = solve_two_tier_joint(
        stations,
        centres,
        cmx,
        access_cost_per_unit=access_cost,
        cost_per_unit=0.01,
        time_limit_s=30,
    )
    assert joint <= seq_total + 1e-6  # the joint model is a relaxation of the sequence
    excess = (seq_total - joint) / joint
    print(f"sequence {seq_total:.2f} vs joint {joint:.2f}: +{100 * excess:.2f}%")
    assert excess <= 0.05
    assert len(joint_stations) == 5
