"""``recyclenet bench``: known optima reproduced within the printed gap.

CVRP: two small CVRPLIB-format instances written here, with optima computed exactly in the
test (Held-Karp per route, then a set partition over the customers); the CVRPLIB A and X
sets themselves live in ../shared and are never copied into the repository. p-median and
CFLP: small OR-Library-format instances written here, optima by brute force.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from scipy.optimize import linprog
from typer.testing import CliRunner

from recyclenet.bench import read_reference
from recyclenet.cli import app

runner = CliRunner()


def _lines(result) -> list[dict]:
    assert result.exit_code == 0, result.output
    return [json.loads(ln) for ln in result.stdout.splitlines() if ln.startswith("{")]


def _cvrp_instance(path: Path, n: int, capacity: int, seed: int) -> float:
    """Write a CVRPLIB instance with ``n`` customers; return its exact optimum (rounded
    Euclidean distances, at most the fleet the reader gives a ``-k3`` instance)."""
    rng = np.random.default_rng(seed)
    xy = rng.integers(0, 100, (n + 1, 2))
    demand = [0, *rng.integers(1, capacity // 2, n).tolist()]
    lines = [f"NAME : {path.stem}", "TYPE : CVRP", f"DIMENSION : {n + 1}",
             "EDGE_WEIGHT_TYPE : EUC_2D", f"CAPACITY : {capacity}", "NODE_COORD_SECTION"]
    lines += [f"{i + 1} {x} {y}" for i, (x, y) in enumerate(xy.tolist())]
    lines += ["DEMAND_SECTION"] + [f"{i + 1} {q}" for i, q in enumerate(demand)]
    lines += ["DEPOT_SECTION", "1", "-1", "EOF"]
    path.write_text("\n".join(lines) + "\n")
    d = np.floor(np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1)) + 0.5)
    full = 1 << n
    # Held-Karp: walk[mask][j] = shortest depot -> all of mask -> customer j (j in mask)
    walk = np.full((full, n), np.inf)
    for j in range(n):
        walk[1 << j][j] = d[0, j + 1]
    for mask in range(1, full):
        for j in range(n):
            if walk[mask][j] < np.inf:
                for k in range(n):
                    if not mask >> k & 1:
                        nxt = mask | 1 << k
                        walk[nxt][k] = min(walk[nxt][k], walk[mask][j] + d[j + 1, k + 1])
    load = [sum(demand[j + 1] for j in range(n) if m >> j & 1) for m in range(full)]
    route = [min(walk[m][j] + d[j + 1, 0] for j in range(n) if m >> j & 1) if m else 0.0
             for m in range(full)]  # fmt: skip
    vehicles = 3 + 3 // 10 + 3  # the reader's fleet for a "-k3" instance
    best = np.full((full, vehicles + 1), np.inf)
    best[0, :] = 0.0
    for mask in range(1, full):
        low = mask & -mask
        sub = mask
        while sub:
            if sub & low and load[sub] <= capacity:
                rest = best[mask ^ sub, :-1] + route[sub]
                best[mask, 1:] = np.minimum(best[mask, 1:], rest)
            sub = (sub - 1) & mask
    return float(best[full - 1, vehicles])


def test_bench_vrplib_two_instances_exact(tmp_path):
    opt = {"T-n9-k3": _cvrp_instance(tmp_path / "T-n9-k3.vrp", 8, 30, seed=4),
           "U-n10-k3": _cvrp_instance(tmp_path / "U-n10-k3.vrp", 9, 40, seed=5)}  # fmt: skip
    ref = tmp_path / "ref.csv"
    ref.write_text("instance,optimal\n" + "".join(f"{k},{v}\n" for k, v in opt.items()))
    res = runner.invoke(app, ["bench", "vrplib", str(tmp_path / "T-n9-k3.vrp"),
                              str(tmp_path / "U-n10-k3.vrp"), "--engine", "pyvrp",
                              "--time-limit-s", "3", "--reference", str(ref)])  # fmt: skip
    rows = _lines(res)
    assert [r["instance"] for r in rows] == ["T-n9-k3", "U-n10-k3"]
    assert [r["reference"] for r in rows] == [opt["T-n9-k3"], opt["U-n10-k3"]]
    for r in rows:
        assert set(r) == {"instance", "cost", "status", "time_s", "reference", "gap"}
        assert r["gap"] == pytest.approx((r["cost"] - r["reference"]) / r["reference"])
        assert r["cost"] == pytest.approx(r["reference"]), r  # tiny: the optimum itself


def _pmed_instance(path: Path, n: int, extra: int, p: int, seed: int) -> float:
    """Write a connected random graph as pmed text; return the brute-force optimum."""
    rng = np.random.default_rng(seed)
    edges = {(i, i + 1): int(rng.integers(1, 40)) for i in range(1, n)}  # a path: connected
    while len(edges) < n - 1 + extra:
        a, b = sorted(rng.choice(np.arange(1, n + 1), 2, replace=False).tolist())
        edges[(a, b)] = int(rng.integers(1, 40))
    lines = [f"{n} {len(edges)} {p}"] + [f"{a} {b} {c}" for (a, b), c in edges.items()]
    path.write_text("\n".join(lines) + "\n")
    g = nx.Graph()
    g.add_weighted_edges_from((a, b, c) for (a, b), c in edges.items())
    dist = dict(nx.all_pairs_dijkstra_path_length(g))
    return min(sum(min(dist[v][s] for s in sites) for v in g.nodes)
               for sites in itertools.combinations(g.nodes, p))  # fmt: skip


def test_bench_pmedian_two_instances_brute_force(tmp_path):
    opt = {"pmedA": _pmed_instance(tmp_path / "pmedA.txt", 14, 10, 3, seed=1),
           "pmedB": _pmed_instance(tmp_path / "pmedB.txt", 16, 14, 4, seed=2)}  # fmt: skip
    ref = tmp_path / "ref.csv"
    ref.write_text("instance,n,optimal\n" + "".join(f"{k},0,{v}\n" for k, v in opt.items()))
    assert read_reference(ref) == opt
    res = runner.invoke(app, ["bench", "pmedian", str(tmp_path / "pmedA.txt"),
                              str(tmp_path / "pmedB.txt"), "--reference", str(ref),
                              "--time-limit-s", "20"])  # fmt: skip
    rows = _lines(res)
    for r in rows:
        assert r["objective"] == pytest.approx(opt[r["instance"]]) and r["gap"] == pytest.approx(0)
        assert r["status"] == "optimal"


def test_bench_cflp_brute_force(tmp_path):
    rng = np.random.default_rng(3)
    m, n = 4, 7
    cap = rng.integers(20, 40, m).astype(float)
    fix = rng.integers(50, 150, m).astype(float)
    dem = rng.integers(3, 12, n).astype(float)
    cost = rng.integers(10, 100, (n, m)).astype(float)  # cost of all of j's demand at i
    text = [f"{m} {n}"] + [f"{c:g} {f:g}" for c, f in zip(cap, fix)]
    for j in range(n):
        text += [f"{dem[j]:g}", " ".join(f"{c:g}" for c in cost[j])]
    (tmp_path / "capT.txt").write_text("\n".join(text) + "\n")
    best = np.inf
    for k in range(1, m + 1):
        for open_ in itertools.combinations(range(m), k):
            if cap[list(open_)].sum() < dem.sum():
                continue
            # split assignment: x[j, i] share of j at i; sum_i x = 1; sum_j dem x <= cap
            c = np.concatenate([cost[:, i] for i in open_])
            a_eq = np.zeros((n, n * k))
            a_ub = np.zeros((k, n * k))
            for t in range(k):
                a_eq[np.arange(n), t * n + np.arange(n)] = 1
                a_ub[t, t * n:(t + 1) * n] = dem
            lp = linprog(c, A_ub=a_ub, b_ub=cap[list(open_)], A_eq=a_eq, b_eq=np.ones(n))
            best = min(best, lp.fun + fix[list(open_)].sum())
    (tmp_path / "ref.csv").write_text(f"instance,objective\ncapT,{best}\n")
    res = runner.invoke(app, ["bench", "cflp", str(tmp_path / "capT.txt"),
                              "--reference", str(tmp_path / "ref.csv")])  # fmt: skip
    (row,) = _lines(res)
    assert row["objective"] == pytest.approx(best, rel=1e-6) and abs(row["gap"]) < 1e-6


def test_bench_errors_are_one_line(tmp_path):
    bad = tmp_path / "x.vrp"
    bad.write_text("hello\n")
    res = runner.invoke(app, ["bench", "vrplib", str(bad)])
    assert res.exit_code == 2 and "neither a CVRPLIB" in res.output
    res = runner.invoke(app, ["bench", "pmedian", str(tmp_path / "none.txt")])
    assert res.exit_code == 2 and "not found" in res.output
