"""Routing on a real road network: auto, OR-Tools and PyVRP on the same CVRP day.

Usage::

    python benchmarks/routing_road.py ../shared/osm/campo-grande.osm.gz \
        [--n 500] [--time-limit-s 30]

Customers are random street positions (seeded), each with 1-10 units (100 kg each) to
pick up; one depot at the network node nearest the centre; trucks of 2,000 kg, cost =
driven distance only (no breaks, no windows), so the engines solve the same CVRP on the
road matrix. Prints cost (km), vehicles, unserved orders and wall time per engine
("auto": what ``solve_routing`` does by default), the ratio of the PyVRP and OR-Tools
costs in the same run, and the load average.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

from recyclenet import Points, build_matrix, load_network
from recyclenet.routing import Depot, Order, RoutingProblem, VehicleType, solve_routing


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("network")
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--time-limit-s", type=float, default=30.0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    net = load_network(args.network, profile="box_truck_4_2m")
    rng = np.random.default_rng(args.seed)
    edges = rng.choice(net.n_edges, size=args.n, p=net.edge_length_m / net.edge_length_m.sum())
    lon, lat = [], []
    for e in edges:
        g = net.edge_geometry[e]
        k = int(rng.integers(0, len(g) - 1))
        t = float(rng.random())
        lon.append(g[k, 0] + t * (g[k + 1, 0] - g[k, 0]))
        lat.append(g[k, 1] + t * (g[k + 1, 1] - g[k, 1]))
    centre = int(np.argmin((net.node_lon - net.node_lon.mean()) ** 2
                           + (net.node_lat - net.node_lat.mean()) ** 2))  # fmt: skip
    depot = Depot("depot", float(net.node_lon[centre]), float(net.node_lat[centre]))
    orders = [Order(f"c{i:04d}", lon[i], lat[i], load_kg=100.0 * int(rng.integers(1, 11)))
              for i in range(args.n)]  # fmt: skip
    pts = Points(("depot", *[o.id for o in orders]), np.array([depot.lon, *lon]),
                 np.array([depot.lat, *lat]))  # fmt: skip
    t = time.perf_counter()
    matrix = build_matrix(net, pts)
    t_matrix = time.perf_counter() - t
    total_kg = sum(o.load_kg for o in orders)
    trucks = int(np.ceil(total_kg / 2000.0 * 1.3)) + 2
    fleet = [VehicleType("truck", count=trucks, capacity_kg=2000.0, start_id="depot",
                         end_id="depot", cost_per_km=1.0, profile="box_truck_4_2m")]  # fmt: skip
    problem = RoutingProblem(orders=tuple(orders), vehicle_types=tuple(fleet), depots=(depot,),
                             matrices={"box_truck_4_2m": matrix})  # fmt: skip
    print(f"{args.network}: {net.n_nodes} nodes; {args.n} customers, {total_kg:,.0f} kg, "
          f"{trucks} trucks of 2,000 kg; matrix {t_matrix:.2f} s")  # fmt: skip
    print(f"{'engine':<10}{'cost km':>12}{'vehicles':>10}{'unserved':>10}{'wall s':>9}")
    costs = {}
    for engine in ("auto", "ortools", "pyvrp"):
        t = time.perf_counter()
        plan = solve_routing(problem, engine=engine, time_limit_s=args.time_limit_s,  # type: ignore[arg-type]
                             seed=args.seed)  # fmt: skip
        wall = time.perf_counter() - t
        costs[engine] = plan.vehicle_km
        print(f"{engine:<10}{plan.vehicle_km:>12.1f}{len(plan.routes):>10}"
              f"{len(plan.unserved):>10}{wall:>9.1f}")  # fmt: skip
    print(f"pyvrp / ortools cost ratio: {costs['pyvrp'] / costs['ortools']:.3f}; "
          f"load average {os.getloadavg()[0]:.2f}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
