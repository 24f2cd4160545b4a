"""Park allocation at scale: split (LP) against single-source (MIP), same random parks.

    python benchmarks/park_allocation.py [--sizes 50x10,200x20,1000x40] [--seed 1]

For each size (streams x receivers) a seeded random park: streams of 8 general and 6
hazardous codes at 1-400 t/month, receivers accepting 2-6 codes with capacities that
bind (total about 1.3 x the tonnes), about half of them licensed; road distances are
1.3 x great-circle in a 20 km square. Prints a table: allocation time, objective, gap and
the single-source/split ratio of time and cost (the split LP is the baseline, timed in the
same run). Every answer is checked: every stream placed, capacities and codes respected.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from recyclenet.matrix import Matrix
from recyclenet.parks.allocation import Allocation, allocate, check_allocation
from recyclenet.parks.model import Enterprise, Park, Receiver, Settings, Stream

GENERAL = ["SW01", "SW02", "SW03", "SW06", "SW07", "SW13", "SW17-01", "SW17-04"]
HAZARDOUS = ["900-249-08", "900-006-09", "336-064-17", "HW33", "900-300-34", "900-041-49"]


def random_park(n_streams: int, n_receivers: int, seed: int) -> tuple[Park, Matrix]:
    rng = np.random.default_rng(seed)
    n_ent = max(2, n_streams // 3)
    lon0, lat0 = 120.0, 31.0
    pos = rng.uniform(0, 0.2, size=(n_ent + n_receivers, 2))
    ents = [Enterprise(f"E{i}", f"e{i}", lon0 + pos[i, 0], lat0 + pos[i, 1]) for i in range(n_ent)]
    codes = GENERAL + HAZARDOUS
    streams = []
    for i in range(n_streams):
        code = codes[int(rng.integers(len(codes)))]
        t = float(rng.uniform(1, 400 if code in GENERAL else 20))
        streams.append(Stream(f"S{i}", f"E{int(rng.integers(n_ent))}", code, t))
    total = sum(s.tonnes_per_year for s in streams)
    receivers = []
    for j in range(n_receivers):
        acc = set(rng.choice(codes, size=int(rng.integers(2, 7)), replace=False).tolist())
        haz = bool(acc & set(HAZARDOUS))
        p = pos[n_ent + j]
        receivers.append(
            Receiver(
                f"R{j}",
                f"r{j}",
                "treatment" if haz else "recycler",
                lon0 + p[0],
                lat0 + p[1],
                frozenset(acc),
                capacity_t_per_year=1.3 * total * len(acc) / (3.5 * n_receivers),
                gate_fee_per_t=float(rng.uniform(0, 3000 if haz else 100)),
                licence=f"L{j}" if haz else "",
            )
        )
    # every code gets one unlimited receiver so every park is feasible
    for k, code in enumerate(codes):
        receivers.append(
            Receiver(
                f"R_all{k}",
                "fallback",
                "landfill",
                lon0 + 0.3,
                lat0 + 0.3,
                frozenset({code}),
                gate_fee_per_t=5000.0,
                licence="L",
            )
        )
    ids = [e.id for e in ents] + [r.id for r in receivers]
    lon = np.radians([e.lon for e in ents] + [r.lon for r in receivers])
    lat = np.radians([e.lat for e in ents] + [r.lat for r in receivers])
    h = (
        np.sin((lat[:, None] - lat[None, :]) / 2) ** 2
        + np.cos(lat[:, None])
        * np.cos(lat[None, :])
        * np.sin((lon[:, None] - lon[None, :]) / 2) ** 2
    )
    d = 1.3 * 2 * 6_371_000.0 * np.arcsin(np.sqrt(h))
    park = Park("bench", ents, streams, receivers, settings=Settings())
    return park, Matrix(ids, ids, d / 10.0, d)


def check(park: Park, alloc: Allocation) -> None:
    errors = check_allocation(park, alloc)
    assert not errors and not alloc.unplaced, errors[:3]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="50x10,200x20,1000x40")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--time-limit-s", type=float, default=60.0)
    args = ap.parse_args()
    print(
        f"{'streams x receivers':>20} {'split s':>8} {'single s':>9} {'time ratio':>10} "
        f"{'split cost':>14} {'single cost':>14} {'cost ratio':>10} {'single gap':>10}"
    )
    for size in args.sizes.split(","):
        n, m = (int(x) for x in size.split("x"))
        park, matrix = random_park(n, m, args.seed)
        t0 = time.perf_counter()
        a = allocate(park, matrix, single_source=False, time_limit_s=args.time_limit_s)
        t1 = time.perf_counter()
        b = allocate(park, matrix, single_source=True, time_limit_s=args.time_limit_s)
        t2 = time.perf_counter()
        check(park, a)
        check(park, b)
        print(
            f"{size:>20} {t1 - t0:8.2f} {t2 - t1:9.2f} {(t2 - t1) / (t1 - t0):10.2f} "
            f"{a.cost_per_year:14,.0f} {b.cost_per_year:14,.0f} "
            f"{b.cost_per_year / a.cost_per_year:10.4f} {100 * b.gap:9.3f}%"
        )


if __name__ == "__main__":
    main()
