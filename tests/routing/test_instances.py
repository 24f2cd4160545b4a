"""CVRPLIB and Solomon readers on tiny hand-written files (no shared data)."""

from __future__ import annotations

import pytest
from routing_helpers import TL, assert_feasible

from recyclenet.routing import solve_routing
from recyclenet.routing.instances import cost_scale, load_instance, reference_cost

VRP = """NAME : T-n4-k2
TYPE : CVRP
DIMENSION : 4
EDGE_WEIGHT_TYPE : EUC_2D
CAPACITY : 10
NODE_COORD_SECTION
1 0 0
2 3 4
3 -3 4
4 0 -5
DEMAND_SECTION
1 0
2 6
3 6
4 3
DEPOT_SECTION
1
-1
EOF
"""

SOLOMON = """T1

VEHICLE
NUMBER     CAPACITY
  2         10

CUSTOMER
CUST NO.  XCOORD.   YCOORD.    DEMAND   READY TIME  DUE DATE   SERVICE   TIME

    0      0         0          0          0       100          0
    1      3         4          5          0        10          1
    2      0         7          5          20       30          1
"""


def test_cvrp_file(tmp_path):
    p = tmp_path / "T-n4-k2.vrp"
    p.write_text(VRP.replace("\n", "\r\n"))
    (tmp_path / "T-n4-k2.sol").write_text("Route #1: 1 3\nRoute #2: 2\nCost 29\n")
    prob = load_instance(p)
    assert len(prob.orders) == 3 and prob.vehicle_types[0].count == 2 + 0 + 3
    plan = solve_routing(prob, engine="ortools", time_limit_s=TL)
    assert_feasible(plan, prob)
    # 6 + 6 > 10: the two heavy ones ride apart; best is (5 + 9 + 5) + (5 + 5) = 29 with
    # rounded lengths (|c1 c3| = sqrt(90) = 9.49 -> 9)
    assert plan.cost / cost_scale(p) == pytest.approx(29.0)
    assert sorted(len(r.order_ids) for r in plan.routes) == [1, 2]
    assert reference_cost(p) == 29.0
    # set X: an unlimited fleet, one vehicle per customer (as PyVRP's reader)
    x = tmp_path / "X-n4-k2.vrp"
    x.write_text(VRP)
    assert load_instance(x).vehicle_types[0].count == 3


def test_solomon_file(tmp_path):
    p = tmp_path / "T1.txt"
    p.write_text(SOLOMON)
    prob = load_instance(p)
    assert prob.orders[1].time_windows == ((200.0, 300.0),)
    plan = solve_routing(prob, engine="pyvrp", time_limit_s=TL)
    assert_feasible(plan, prob)
    # 0 -> 1 (5) -> 2 (floor(10*sqrt(9+9))/10 = 4.2) -> 0 (7): one route of 16.2
    assert plan.cost / cost_scale(p) == pytest.approx(16.2)
