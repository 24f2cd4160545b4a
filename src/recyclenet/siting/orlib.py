"""Readers for the OR-Library siting benchmarks (Beasley): p-median and CFLP.

Formats (see the benchmark README shipped with the instances):

- ``pmedK.txt``: ``n edges p``, then ``i j cost`` per undirected edge on vertices 1..n;
  when a pair is listed more than once the **last** occurrence counts. Every vertex is
  a client (weight 1) and a candidate; costs are all-pairs shortest paths.
- ``capXX.txt``: ``m n``; ``capacity fixed_cost`` per warehouse (the literal word
  ``capacity`` in capa/capb/capc, replaced by a given value); then per customer
  ``demand`` and the m costs of serving **all** of its demand. Beasley's optima are for
  split (multi-source) assignment.

The problems use dummy coordinates (0, 0): these instances have no geography.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import shortest_path

from ..errors import InputError
from ..matrix import Matrix
from .problem import Demand, Site, SitingProblem

FloatArray = npt.NDArray[np.float64]


def read_pmed(path: str | Path) -> tuple[FloatArray, int]:
    """All-pairs shortest-path distances (n × n) and p of an OR-Library pmed file."""
    tok = Path(path).read_text().split()
    try:
        n, e, p = int(tok[0]), int(tok[1]), int(tok[2])
        arr = np.array(tok[3 : 3 + 3 * e], dtype=float).reshape(e, 3)
    except (IndexError, ValueError) as exc:
        raise InputError(f"{path}: not an OR-Library p-median file ({exc})") from None
    w: dict[tuple[int, int], float] = {}
    for i, j, c in arr:  # the last occurrence of a pair counts
        a, b = int(i) - 1, int(j) - 1
        w[(min(a, b), max(a, b))] = float(c)
    rows = [a for a, _ in w] + [b for _, b in w]
    cols = [b for _, b in w] + [a for a, _ in w]
    vals = list(w.values()) * 2
    g = csr_matrix((vals, (rows, cols)), shape=(n, n))
    return np.asarray(shortest_path(g, method="D", directed=False)), p


def read_cap(
    path: str | Path, capacity: float | None = None
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """(capacity[m], fixed_cost[m], demand[n], cost[n, m]) of an OR-Library cap file.

    ``capacity`` replaces the literal word ``capacity`` (capa, capb, capc).
    """
    tok = Path(path).read_text().split()
    m, n = int(tok[0]), int(tok[1])
    k = 2
    cap = np.empty(m)
    fix = np.empty(m)
    for i in range(m):
        if tok[k] == "capacity":
            if capacity is None:
                raise InputError(f"{path}: capacities are the word 'capacity'; pass capacity=")
            cap[i] = capacity
        else:
            cap[i] = float(tok[k])
        fix[i] = float(tok[k + 1])
        k += 2
    dem = np.empty(n)
    cost = np.empty((n, m))
    for j in range(n):
        dem[j] = float(tok[k])
        cost[j] = np.array(tok[k + 1 : k + 1 + m], dtype=float)
        k += 1 + m
    return cap, fix, dem, cost


def pmed_problem(dist: FloatArray, p: int) -> SitingProblem:
    """p-median on a distance matrix: every vertex a client (weight 1) and a candidate."""
    n = dist.shape[0]
    ids = tuple(f"v{i + 1}" for i in range(n))
    mx = Matrix(ids, ids, dist, dist)
    demand = [Demand(i, 0.0, 0.0, households=1.0) for i in ids]
    sites = [Site(i, 0.0, 0.0) for i in ids]
    return SitingProblem(demand, sites, mx, model="p_median", p=p)


def cap_problem(
    cap: FloatArray, fix: FloatArray, dem: FloatArray, cost: FloatArray
) -> SitingProblem:
    """Beasley's CFLP: split demand, cost[j, i] = cost of all of customer j at warehouse i."""
    n, m = cost.shape
    dids = tuple(f"c{j + 1}" for j in range(n))
    sids = tuple(f"w{i + 1}" for i in range(m))
    mx = Matrix(dids, sids, cost, cost)
    demand = [
        Demand(d, 0.0, 0.0, households=float(q), weight=1.0) for d, q in zip(dids, dem, strict=True)
    ]
    sites = [
        Site(s, 0.0, 0.0, fixed_cost=float(f), capacity=float(c))
        for s, f, c in zip(sids, fix, cap, strict=True)
    ]
    return SitingProblem(demand, sites, mx, model="cflp", single_source=False)
