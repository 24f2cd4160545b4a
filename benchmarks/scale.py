"""Routing a city day by depot on Dask, against the monolithic solve, on a real network.

Usage::

    python benchmarks/scale.py ../shared/osm/campo-grande.osm.gz \
        [--n 3000] [--depots 6] [--time-limit-s 300] [--workers 1,2] [--by depot]

Pickups are random street positions (seeded, weighted by street length), as in
``benchmarks/routing_road.py``, each with 1-10 units of ``--unit-kg`` (default 20 kg:
household appliances, about 18 stops per truckload rather than routing_road's 3).
Depots sit at the road nodes nearest the k-means centres of the network's nodes;
every depot has the same number of 2,000 kg trucks (in total 1.3 x the loads needed,
plus one per depot), cost = driven km, no windows or shifts: a multi-depot CVRP on the
road matrix.

Rows: the monolithic solve (one process, ``--time-limit-s``), then the decomposed solve
(parts by depot or by cluster, then the leftover orders offered to the leftover trucks)
on a local Dask cluster of 1 and of 2 workers with the same budget of solver time
(``--time-limit-s`` split over the parts by size: with 2 workers the wall time halves).
``cost / mono`` is the cost gap to the monolithic plan; every plan is checked with
``check_plan`` against the whole problem.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from recyclenet import Points, build_matrix, load_network
from recyclenet.routing import (
    Depot,
    Order,
    RoutePlan,
    RoutingProblem,
    VehicleType,
    check_plan,
    solve_routing,
)
from recyclenet.scale import open_client, solve_routing_decomposed
from recyclenet.scale.routing import kmeans_labels

CAPACITY_KG = 2000.0


def day(
    network: str, n: int, n_depots: int, seed: int, unit_kg: float
) -> tuple[RoutingProblem, float]:
    """The benchmark's problem and the time to build its matrix (s)."""
    net = load_network(network, profile="box_truck_4_2m")
    rng = np.random.default_rng(seed)
    edges = rng.choice(net.n_edges, size=n, p=net.edge_length_m / net.edge_length_m.sum())
    lon, lat = [], []
    for e in edges:
        g = net.edge_geometry[e]
        k = int(rng.integers(0, len(g) - 1))
        t = float(rng.random())
        lon.append(g[k, 0] + t * (g[k + 1, 0] - g[k, 0]))
        lat.append(g[k, 1] + t * (g[k + 1, 1] - g[k, 1]))
    orders = [
        Order(f"c{i:05d}", lon[i], lat[i], load_kg=unit_kg * int(rng.integers(1, 11)))
        for i in range(n)
    ]
    # depots: nodes nearest the k-means centres of the road nodes (metres, equirectangular)
    scale = np.cos(np.radians(net.node_lat.mean()))
    xy = np.column_stack([net.node_lon * 111_320.0 * scale, net.node_lat * 110_540.0])
    labels = kmeans_labels(xy, n_depots)
    depots = []
    for c in range(n_depots):
        members = np.nonzero(labels == c)[0]
        centre = xy[members].mean(axis=0)
        node = int(members[np.argmin(((xy[members] - centre) ** 2).sum(axis=1))])
        depots.append(Depot(f"depot{c + 1}", float(net.node_lon[node]), float(net.node_lat[node])))
    total_kg = sum(o.load_kg for o in orders)
    per_depot = int(np.ceil(total_kg / CAPACITY_KG * 1.3 / n_depots)) + 1
    fleet = [
        VehicleType(
            f"truck@{d.id}",
            count=per_depot,
            capacity_kg=CAPACITY_KG,
            start_id=d.id,
            cost_per_km=1.0,
            profile="box_truck_4_2m",
        )
        for d in depots
    ]
    pts = Points.from_located([*depots, *orders])
    t = time.perf_counter()
    matrix = build_matrix(net, pts)
    t_matrix = time.perf_counter() - t
    problem = RoutingProblem(
        orders=tuple(orders),
        vehicle_types=tuple(fleet),
        depots=tuple(depots),
        matrices={"box_truck_4_2m": matrix},
    )
    print(
        f"{network}: {net.n_nodes} nodes; {n} pickups, {total_kg:,.0f} kg, {n_depots} depots "
        f"x {per_depot} trucks of {CAPACITY_KG:,.0f} kg; matrix {len(pts)}^2 in "
        f"{t_matrix:.1f} s"
    )
    return problem, t_matrix


def row(
    name: str,
    workers: str,
    wall: float,
    plan: RoutePlan,
    problem: RoutingProblem,
    mono_cost: float | None,
) -> str:
    errors = len(check_plan(plan, problem))
    ratio = f"{plan.cost / mono_cost:.3f}" if mono_cost else "-"
    return (
        f"{name:<22}{workers:>8}{wall:>9.1f}{plan.cost:>12.1f}{plan.vehicle_km:>12.1f}"
        f"{len(plan.routes):>10}{len(plan.served_order_ids):>8}{len(plan.unserved):>10}"
        f"{ratio:>12}{errors:>8}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("network")
    parser.add_argument("--n", type=int, default=3000, help="pickups")
    parser.add_argument("--depots", type=int, default=6)
    parser.add_argument("--unit-kg", type=float, default=20.0, help="kg per unit (1-10 units)")
    parser.add_argument(
        "--time-limit-s",
        type=float,
        default=300.0,
        help="monolithic limit = decomposed solver budget, seconds",
    )
    parser.add_argument("--engine", default="pyvrp", choices=["auto", "ortools", "pyvrp"])
    parser.add_argument("--by", default="depot", choices=["depot", "cluster"])
    parser.add_argument(
        "--workers", default="1,2", help="comma-separated worker counts ('' for none)"
    )
    parser.add_argument("--skip-mono", action="store_true")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    problem, _ = day(args.network, args.n, args.depots, args.seed, args.unit_kg)
    print(f"time limit {args.time_limit_s:g} s, engine {args.engine}, parts by {args.by}")
    print(
        f"{'run':<22}{'workers':>8}{'wall s':>9}{'cost (km)':>12}{'vehicle-km':>12}"
        f"{'vehicles':>10}{'served':>8}{'unserved':>10}{'cost/mono':>12}{'errors':>8}"
    )
    mono_cost = None
    if not args.skip_mono:
        t = time.perf_counter()
        mono = solve_routing(
            problem, engine=args.engine, time_limit_s=args.time_limit_s, seed=args.seed
        )
        wall = time.perf_counter() - t
        mono_cost = mono.cost
        print(row("monolithic", "-", wall, mono, problem, None), flush=True)
    for w in (int(x) for x in args.workers.split(",") if x.strip()):
        t = time.perf_counter()
        with open_client(n_workers=w) as client:
            t_cluster = time.perf_counter() - t
            got = solve_routing_decomposed(
                problem,
                by=args.by,
                engine=args.engine,
                time_limit_s=args.time_limit_s,
                seed=args.seed,
                client=client,
            )
        wall = time.perf_counter() - t
        stats = got.statistics
        print(
            row(
                f"by {args.by} ({stats['parts']} parts)", str(w), wall, got.plan, problem, mono_cost
            )
            + f"   (cluster start {t_cluster:.1f} s, stage 2 took "
            f"{stats['served_after_stage2'] - stats['served_after_stage1']} of "
            f"{stats['offered_in_stage2']} offered)",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
