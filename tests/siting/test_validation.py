"""Bad input is refused before solving, with messages that name ids and fields."""

from __future__ import annotations

import numpy as np
import pytest
from siting_cases import LINE_KM, line_demand, line_matrix, line_sites

from recyclenet.errors import InputError
from recyclenet.matrix import Matrix
from recyclenet.siting import Demand, Site, SitingProblem


def test_demand_fields():
    with pytest.raises(InputError, match=r"demand 'a'.*households"):
        Demand("a", 0, 0, households=-1)
    with pytest.raises(InputError, match=r"demand 'a'.*weight"):
        Demand("a", 0, 0, weight=-2)
    with pytest.raises(InputError, match=r"demand 'a'.*lat"):
        Demand("a", 0, 95)
    with pytest.raises(InputError, match=r"kg_per_year\['glass'\]"):
        Demand("a", 0, 0, kg_per_year={"glass": -5})


def test_site_fields():
    with pytest.raises(InputError, match=r"site 'x'.*capacity"):
        Site("x", 0, 0, capacity=-1)
    with pytest.raises(InputError, match=r"site 'x'.*status"):
        Site("x", 0, 0, status="maybe")  # type: ignore[arg-type]
    with pytest.raises(InputError, match=r"site 'x'.*closing_cost applies to existing"):
        Site("x", 0, 0, closing_cost=3)


def test_duplicate_ids(line):
    demand, sites, mx = line
    with pytest.raises(InputError, match=r"duplicate demand ids: 'd1'"):
        SitingProblem([*demand, demand[1]], sites, mx, p=1)
    with pytest.raises(InputError, match=r"duplicate site ids: 's2'"):
        SitingProblem(demand, [*sites, sites[2]], mx, p=1)


def test_ids_missing_from_matrix(line):
    demand, sites, _ = line
    mx = line_matrix([0, 1, 2, 10], LINE_KM)
    with pytest.raises(InputError, match=r"demand ids missing from the matrix rows: 'd11', 'd12'"):
        SitingProblem(demand, sites, mx, p=1)
    mx = line_matrix(LINE_KM, [0, 1])
    with pytest.raises(InputError, match=r"site ids missing .*'s2', 's10'"):
        SitingProblem(demand, sites, mx, p=1)


def test_p_checks(line):
    demand, _, mx = line
    sites = line_sites(s0={"status": "forbidden"}, s1={"status": "forbidden"})
    with pytest.raises(InputError, match=r"p = 5 is larger than the 4 usable"):
        SitingProblem(demand, sites, mx, p=5)
    sites = line_sites(s0={"status": "required"}, s12={"status": "existing"})
    with pytest.raises(InputError, match=r"p = 1 is smaller than the 2 sites.*'s0', 's12'"):
        SitingProblem(demand, sites, mx, p=1)
    with pytest.raises(InputError, match=r"needs p"):
        SitingProblem(demand, line_sites(), mx, model="p_median")
    with pytest.raises(InputError, match=r"needs radius \(in metres"):
        SitingProblem(demand, line_sites(), mx, model="max_coverage", p=1)


def test_radius_leaves_demand_uncovered(line):
    demand, _, mx = line
    sites = line_sites(
        s10={"status": "forbidden"}, s11={"status": "forbidden"}, s12={"status": "forbidden"}
    )
    with pytest.raises(InputError) as err:
        SitingProblem(demand, sites, mx, model="min_stations", radius=1500)
    msg = str(err.value)
    assert "3 demand ids (3 households)" in msg
    assert "'d10', 'd11', 'd12'" in msg and "radius 1500 metres" in msg


def test_unreachable_demand():
    demand = line_demand()
    sites = line_sites()
    mx = line_matrix(LINE_KM, LINE_KM)
    d = np.array(mx.distance_m)
    d[2, :] = np.inf
    mx = Matrix(mx.origin_ids, mx.destination_ids, d / 10, d)
    with pytest.raises(InputError, match=r"demand ids 'd2' cannot reach any usable site"):
        SitingProblem(demand, sites, mx, p=2)


def test_capacity_below_demand(line):
    demand, _, mx = line
    sites = line_sites(**{f"s{x}": {"capacity": 1.0} for x in LINE_KM})
    with pytest.raises(
        InputError,
        match=r"total capacity of usable sites \(6 households\) is "
        r"below total demand \(9 households\)",
    ):
        SitingProblem(demand, sites, mx, model="cflp")


def test_single_source_load_above_every_capacity_is_split(line):
    demand, _, mx = line
    sites = line_sites(**{f"s{x}": {"capacity": 2.5} for x in LINE_KM})
    # d1 (3 households) is above every site's capacity: accepted, and split
    prob = SitingProblem(demand, sites, mx, model="cflp")
    assert [prob.demand_ids[i] for i in np.nonzero(prob.split_rows())[0]] == ["d1"]
    assert prob.uncoverable_reasons() == {}


def test_budget_below_forced_cost(line):
    demand, _, mx = line
    sites = line_sites(s1={"status": "required", "fixed_cost": 10.0})
    with pytest.raises(InputError, match=r"budget 5 is below the fixed cost 10.*'s1'"):
        SitingProblem(demand, sites, mx, p=2, budget=5)


def test_options(line):
    demand, sites, mx = line
    with pytest.raises(InputError, match="model must be one of"):
        SitingProblem(demand, sites, mx, model="pmedian", p=1)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="metric must be"):
        SitingProblem(demand, sites, mx, p=1, metric="km")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="radius must be positive"):
        SitingProblem(demand, sites, mx, p=1, radius=0)
