"""The demo's siting on real extracts, every seed, a short time limit (issue #11).

Usage::

    python benchmarks/real_city_siting.py EXTRACT [EXTRACT ...] [--seeds 0-9]
        [--time-limit-s 2] [--out table.md]

For each OSM extract (nothing is copied from it): the road network (walk, and truck for
the sorting centres), the derived demand (households by source, residential land,
density), the OSM candidate sites, then, for every seed, the demo's two tiers (min
stations within 500 m walk with the households-per-station norm, uncoverable demand
left, then a sorting centre) with ``--time-limit-s``. One row per extract: households
by source, the buildings-only baseline of the same run (what the demo derived before
issue #11) and the ratio to it, stations (min-max over seeds), share of households
within the radius, unassigned households, statuses and solvers, and the median siting
time per seed (matrices cached after the first seed).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np

from recyclenet.network import load_network
from recyclenet.osm_features import read_osm_features
from recyclenet.pipeline import plan_siting
from recyclenet.siting import Site
from recyclenet.siting.demand import estimate_demand
from recyclenet.siting.osm_inputs import candidate_sites, demand_from_buildings


def _seeds(text: str) -> list[int]:
    if "-" in text:
        a, b = text.split("-")
        return list(range(int(a), int(b) + 1))
    return [int(x) for x in text.split(",")]


def run(path: Path, seeds: list[int], limit: float, cache: Path) -> dict[str, object]:
    t0 = time.perf_counter()
    walk = load_network(path, profile="walk")
    drive = walk.with_profile("box_truck_4_2m")
    features = read_osm_features(path)
    est = estimate_demand(features)
    baseline = sum(d.households for d in demand_from_buildings(features.buildings))
    sites = candidate_sites(walk, features)
    tonnes = sum(d.t_per_year for d in est.demand)
    west, south, east, north = drive.bbox
    centres = []
    for cid, (lon, lat) in {"centre_sw": (west, south), "centre_ne": (east, north),
                            "centre_se": (east, south)}.items():  # fmt: skip
        node = int(np.argmin((drive.node_lon - lon) ** 2 + (drive.node_lat - lat) ** 2))
        centres.append(Site(cid, float(drive.node_lon[node]), float(drive.node_lat[node]),
                            capacity=max(200.0, float(np.ceil(1.2 * tonnes))),
                            fixed_cost=100_000.0))  # fmt: skip
    prep_s = time.perf_counter() - t0
    stations, within, left, times = [], [], [], []
    status: Counter[str] = Counter()
    for seed in seeds:
        t = time.perf_counter()
        r = plan_siting(walk, model="min_stations", radius=500.0, centres=centres,
                        demand=est.demand, sites=sites, uncoverable="leave",
                        time_limit_s=limit, seed=seed, cache_dir=cache)  # fmt: skip
        times.append(time.perf_counter() - t)
        stations.append(len(r.plan.open_ids))
        within.append(r.plan.indicators.share_households_within_radius)
        left.append(r.unassigned_households()["households"])
        status[f"{r.plan.status}/{r.plan.solver}"] += 1
        assert r.plan.open_ids and r.centres is not None and r.centres.open_ids
    src = est.households_by_source
    return {
        "extract": path.name.split(".")[0],
        "flats": src["building_flats"],
        "footprint": src["building_footprint"],
        "land": src["residential_land"],
        "total": est.households_total,
        "baseline": baseline,
        "ratio": est.households_total / baseline if baseline else float("nan"),
        "land_km2": est.residential_land_km2,
        "density": est.density_hh_per_km2,
        "stations": f"{min(stations)}-{max(stations)}",
        "within": f"{100 * min(within):.1f}-{100 * max(within):.1f}",
        "unassigned": f"{min(left):,.0f}-{max(left):,.0f}",
        "status": ", ".join(f"{k} x{v}" for k, v in sorted(status.items())),
        "median_s": statistics.median(times),
        "prep_s": prep_s,
        "warnings": len(est.warnings),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("extracts", nargs="+", type=Path)
    ap.add_argument("--seeds", default="0-9")
    ap.add_argument("--time-limit-s", type=float, default=2.0)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    head = (
        "| extract | hh flats | hh footprint | hh land | hh total | buildings-only baseline "
        "| ratio | res. land km² | hh/km² | stations | within 500 m % | unassigned hh "
        "| status/solver (seeds) | median siting s | prep s |"
    )
    lines = [head, "|" + "---|" * 15]
    with tempfile.TemporaryDirectory() as tmp:
        for path in args.extracts:
            r = run(path, _seeds(args.seeds), args.time_limit_s, Path(tmp))
            lines.append(
                f"| {r['extract']} | {r['flats']:,.0f} | {r['footprint']:,.0f} | "
                f"{r['land']:,.0f} | {r['total']:,.0f} | {r['baseline']:,.0f} | "
                f"{r['ratio']:.2f} | {r['land_km2']:.2f} | {r['density']:,.0f} | "
                f"{r['stations']} | {r['within']} | {r['unassigned']} | {r['status']} | "
                f"{r['median_s']:.1f} | {r['prep_s']:.1f} |"
            )
            print(lines[-1], flush=True)
    text = "\n".join(lines)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
