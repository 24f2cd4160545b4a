"""A day of pickups with a truck restriction zone (货车限行区) over the city centre.

Usage::

    python benchmarks/restriction_zone.py ../shared/osm/campo-grande.osm.gz \
        [--n 300] [--time-limit-s 30] [--closed 07:00-20:00] [--share 0.3]

Orders are random street positions (seeded), 20-200 kg each, half with a morning,
midday or afternoon window; the depot and the sorting centre are the road nodes nearest
the north-west and south-east corners; the fleet is the default mix (electric
tricycles, 4.2 m box trucks) with three times the vehicles (``--no-breaks``: without
their lunch breaks). The zone is a rectangle over the centre covering ``--share`` of
the extract's width and height, closed to ``hgv`` (the trucks) during ``--closed``.
The day is planned without and with the zone; for each: served orders, unserved by
reason, vehicle-km by vehicle type, the plan check (``check_plan``) and, with the zone,
the truck legs and stops found inside it while closed (route geometry with times,
:meth:`RoutingRun.zone_violations`).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from collections import Counter

import numpy as np
import shapely

from recyclenet import load_network
from recyclenet.network.zones import RestrictionZone
from recyclenet.pipeline import plan_routes
from recyclenet.routing import Depot, Facility, Order, check_plan, read_fleet

WINDOWS = [(8 * 3600.0, 12 * 3600.0), (10 * 3600.0, 14 * 3600.0), (13 * 3600.0, 17 * 3600.0)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("network")
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--time-limit-s", type=float, default=30.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--closed", default="07:00-20:00")
    parser.add_argument("--share", type=float, default=0.3)
    parser.add_argument("--engine", default="auto")
    parser.add_argument("--no-breaks", action="store_true", help="drop the fleet's lunch breaks")
    args = parser.parse_args()

    net = load_network(args.network, profile="box_truck_4_2m")
    rng = np.random.default_rng(args.seed)
    edges = rng.choice(net.n_edges, size=args.n, p=net.edge_length_m / net.edge_length_m.sum())
    orders = []
    for i, e in enumerate(edges):
        g = net.edge_geometry[e]
        k = int(rng.integers(0, len(g) - 1))
        t = float(rng.random())
        lon, lat = g[k] + t * (g[k + 1] - g[k])
        w = int(rng.integers(0, 2 * len(WINDOWS)))
        orders.append(Order(f"o{i:03d}", float(lon), float(lat),
                            load_kg=float(rng.integers(20, 201)),
                            time_windows=(WINDOWS[w],) if w < len(WINDOWS) else (),
                            service_s=300.0))  # fmt: skip
    west, south, east, north = net.bbox

    def node_near(lon: float, lat: float) -> tuple[float, float]:
        k = int(np.argmin((net.node_lon - lon) ** 2 + (net.node_lat - lat) ** 2))
        return float(net.node_lon[k]), float(net.node_lat[k])

    depot = Depot("depot", *node_near(west, north))
    centre = Facility("sorting_centre", *node_near(east, south), unload_s=900.0)
    fleet = [dataclasses.replace(vt, count=vt.count * 3) for vt in read_fleet()]
    if args.no_breaks:
        fleet = [dataclasses.replace(vt, break_window=None, break_s=0.0) for vt in fleet]
    cx, cy = (west + east) / 2, (south + north) / 2
    hw, hh = (east - west) * args.share / 2, (north - south) * args.share / 2
    box = shapely.box(cx - hw, cy - hh, cx + hw, cy + hh)
    zone = RestrictionZone("centre", box, frozenset({"hgv"}), args.closed)
    inside = sum(box.contains(shapely.Point(o.lon, o.lat)) for o in orders)
    print(f"{args.network}: {net.n_nodes} nodes, {net.n_edges} edges (box truck); "
          f"{args.n} orders, {inside} inside the zone {box.bounds} closed {args.closed} "
          f"to hgv; fleet {[(vt.id, vt.count) for vt in fleet]}")  # fmt: skip
    ok = True
    for label, zones in (("without zone", None), ("with zone", [zone])):
        t = time.perf_counter()
        run = plan_routes(net, orders=orders, fleet=fleet, depots=[depot], facilities=[centre],
                          engine=args.engine, time_limit_s=args.time_limit_s, seed=args.seed,
                          restriction_zones=zones)  # fmt: skip
        elapsed = time.perf_counter() - t
        plan = run.plan
        km: Counter[str] = Counter()
        for r in plan.routes:
            km[r.vehicle_type_id] += r.distance_m / 1000.0
        reasons = Counter(u.reason for u in plan.unserved)
        errors = check_plan(plan, run.problem)
        bad = run.zone_violations() if zones else []
        truck_in = 0
        if zones:
            path = run.leg_path()
            for r in plan.routes:
                if r.profile != "box_truck_4_2m":
                    continue
                for a, b in zip(r.visits, r.visits[1:]):
                    if a.location_id != b.location_id and box.intersects(
                        shapely.LineString(path(r.profile, a.location_id, b.location_id))
                    ):
                        truck_in += 1  # fmt: skip
        print(f"\n{label}: engine {plan.engine}, {elapsed:.1f} s; served "
              f"{len(plan.served_order_ids)}, unserved {dict(reasons)}; vehicle-km "
              f"{sum(km.values()):.1f} ({', '.join(f'{k} {v:.1f}' for k, v in km.items())}); "
              f"check_plan: {len(errors)} problems")  # fmt: skip
        collected = sum(r.collected_kg for r in plan.routes)
        delivered: Counter[str] = Counter()
        for r in plan.routes:
            delivered.update(r.delivered_kg)
        on_board = sum(r.end_load_kg for r in plan.routes)
        ends = sum(r.visits[-2].kind == "unload" for r in plan.routes)
        print(f"  collected {collected:.0f} kg; delivered {sum(delivered.values()):.0f} kg "
              f"({', '.join(f'{k} {v:.0f}' for k, v in delivered.items())}); on board at "
              f"the end {on_board:.0f} kg; {ends}/{len(plan.routes)} routes end with an "
              "unload")  # fmt: skip
        if zones:
            print(f"  truck legs crossing the zone (any hour): {truck_in}; legs/stops inside "
                  f"while closed: {len(bad)}")  # fmt: skip
        ok &= not errors and not bad
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
