"""``recyclenet bench``: known optima reproduced within the printed gap.

CVRP: the two smallest Augerat set-A instances (A-n32-k5, optimum 784; A-n33-k5, 661) are
committed in tests/fixtures with their .sol files. p-median and CFLP: small OR-Library-format
instances written here, whose optima are computed by brute force in the test.
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

FIXTURES = Path(__file__).parent / "fixtures"
runner = CliRunner()


def _lines(result) -> list[dict]:
    assert result.exit_code == 0, result.output
    return [json.loads(ln) for ln in result.stdout.splitlines() if ln.startswith("{")]


def test_bench_vrplib_two_a_instances():
    res = runner.invoke(app, ["bench", "vrplib", str(FIXTURES / "A-n32-k5.vrp"),
                              str(FIXTURES / "A-n33-k5.vrp"), "--engine", "pyvrp",
                              "--time-limit-s", "5"])  # fmt: skip
    rows = _lines(res)
    assert [r["instance"] for r in rows] == ["A-n32-k5", "A-n33-k5"]
    assert [r["reference"] for r in rows] == [784.0, 661.0]  # from the .sol files
    for r in rows:
        assert set(r) == {"instance", "cost", "status", "time_s", "reference", "gap"}
        assert r["gap"] == pytest.approx((r["cost"] - r["reference"]) / r["reference"])
        assert 0.0 <= r["gap"] <= 0.02, r  # the optimum, or within 2 %


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
