"""Greedy + interchange heuristics for p-median and maximal coverage, and a Lagrangian bound.

These work on positions (rows = demand points, columns = sites) of a dense cost array
and never see ids; :mod:`recyclenet.siting.solve` maps positions back to ids. They are
used as the warm start of the exact model and as its fallback when the solver runs out
of time.

Maximal coverage is solved as a p-median on the 0/1 cost "not covered", so one code
path serves both models.

Speed comes from sparse candidate lists: for every demand point only its ``k`` nearest
sites (or, for coverage, the sites that cover it) enter the gain computations; the
objective itself is always evaluated exactly on the dense array, so a reported value
is never optimistic.

- Greedy uses lazy evaluation (CELF): the gain of opening a site can only fall as
  others open, so a stale gain is an upper bound and most are never recomputed.
- Interchange is the fast swap of Whitaker (1983) in the form of Resende & Werneck
  (2007): one pass over the candidate pairs gives the profit of every (insert, remove)
  swap at once; the best one is applied until none improves (best improvement).
"""

from __future__ import annotations

import heapq
import time
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

#: Pairs kept per demand point in the sparse lists of large cases.
DEFAULT_LIST_SIZE = 64
#: Below this many demand × site entries the lists hold every finite pair (exact gains).
DENSE_LIMIT = 4_000_000
#: Subgradient: halve the step after this many iterations without a better bound.
STALL = 10


@dataclass(frozen=True)
class PairLists:
    """Sparse candidate pairs ``(i, j, c_ij)``, sorted by site then demand.

    Attributes
    ----------
    i, j : ndarray of int
        Demand and site positions of each pair.
    c : ndarray of float
        Cost of each pair.
    outside : ndarray of float, shape (n,)
        A lower bound on the cost of every pair of row ``i`` not in the lists
        (inf when the lists hold every finite pair of the row).
    """

    i: IntArray
    j: IntArray
    c: FloatArray
    outside: FloatArray


@dataclass(frozen=True)
class HeuristicResult:
    """Open sites (positions) and the exact objective of the nearest assignment."""

    open_sites: IntArray
    objective: float
    time_s: float
    swaps: int


def nearest_pairs(cost: FloatArray, k: int | None = None) -> PairLists:
    """The ``k`` cheapest finite pairs of every row (all finite pairs when ``k`` is None).

    Parameters
    ----------
    cost : ndarray, shape (n, m)
        Cost per pair, inf where not allowed.
    k : int, optional
        Pairs per row; default: all when ``n*m`` <= ``DENSE_LIMIT``, else
        ``DEFAULT_LIST_SIZE``.
    """
    n, m = cost.shape
    if k is None:
        k = m if n * m <= DENSE_LIMIT else DEFAULT_LIST_SIZE
    k = max(1, min(k, m))
    if k >= m:
        idx = np.argsort(cost, axis=1, kind="stable")
        outside = np.full(n, np.inf)
    else:
        part = np.argpartition(cost, k, axis=1)
        idx_k1 = part[:, : k + 1]
        vals = np.take_along_axis(cost, idx_k1, axis=1)
        order = np.argsort(vals, axis=1, kind="stable")
        idx_k1 = np.take_along_axis(idx_k1, order, axis=1)
        outside = np.take_along_axis(cost, idx_k1[:, k : k + 1], axis=1)[:, 0]
        idx = idx_k1[:, :k]
    vals = np.take_along_axis(cost, idx, axis=1)
    rows = np.repeat(np.arange(n), idx.shape[1])
    cols = idx.ravel()
    c = vals.ravel()
    keep = np.isfinite(c)
    rows, cols, c = rows[keep], cols[keep], c[keep]
    order = np.lexsort((rows, cols))
    return PairLists(rows[order].astype(np.int64), cols[order].astype(np.int64), c[order], outside)


def covering_pairs(metric: FloatArray, radius: float) -> PairLists:
    """Pairs within ``radius`` with cost 0 (for coverage as a 0/1 p-median)."""
    rows, cols = np.nonzero(metric <= radius)
    order = np.lexsort((rows, cols))
    n = metric.shape[0]
    return PairLists(
        rows[order].astype(np.int64),
        cols[order].astype(np.int64),
        np.zeros(rows.size),
        np.ones(n),
    )


def _big(cost: FloatArray) -> float:
    finite = cost[np.isfinite(cost)]
    return 2.0 * float(finite.max(initial=0.0)) + 1.0


def evaluate(
    cost: FloatArray, weight: FloatArray, open_sites: IntArray
) -> tuple[float, IntArray, FloatArray]:
    """Exact objective of assigning every row to its cheapest open site.

    Returns
    -------
    objective : float
        Σ weight × cost (inf if a row with positive weight reaches no open site).
    site : ndarray of int
        Chosen site position per row (-1 where none is reachable).
    value : ndarray of float
        Cost per row (inf where none is reachable).
    """
    open_sites = np.asarray(open_sites, dtype=np.int64)
    sub = cost[:, open_sites]
    slot = np.argmin(sub, axis=1)
    value = sub[np.arange(sub.shape[0]), slot]
    site = np.where(np.isfinite(value), open_sites[slot], -1)
    with np.errstate(invalid="ignore"):
        contrib = np.where(weight > 0, weight * value, 0.0)
    return float(contrib.sum()), site, value


def greedy(
    cost: FloatArray,
    weight: FloatArray,
    p: int,
    *,
    forced: IntArray | None = None,
    allowed: BoolArray | None = None,
    pairs: PairLists | None = None,
) -> IntArray:
    """Open ``p`` sites one at a time, each time the one that lowers the cost most.

    Parameters
    ----------
    cost : ndarray, shape (n, m)
        Cost per pair (inf = not allowed).
    weight : ndarray, shape (n,)
    p : int
        Sites to open, counting ``forced``.
    forced : ndarray of int, optional
        Sites open from the start.
    allowed : ndarray of bool, shape (m,), optional
        Sites that may open (default: all).
    pairs : PairLists, optional
        Candidate pairs for the gains (default: :func:`nearest_pairs`).
    """
    n, m = cost.shape
    pairs = pairs if pairs is not None else nearest_pairs(cost)
    allowed = np.ones(m, dtype=bool) if allowed is None else allowed.copy()
    big = _big(cost)
    cur = np.full(n, big)
    chosen: list[int] = []
    is_open = np.zeros(m, dtype=bool)
    for j in [] if forced is None else [int(x) for x in forced]:
        if not is_open[j]:
            chosen.append(j)
            is_open[j] = True
            cur = np.minimum(cur, np.where(np.isfinite(cost[:, j]), cost[:, j], big))
    starts = np.searchsorted(pairs.j, np.arange(m + 1))
    wi = weight[pairs.i]

    def gain(j: int) -> float:
        a, b = starts[j], starts[j + 1]
        d = cur[pairs.i[a:b]] - pairs.c[a:b]
        return float(np.dot(wi[a:b], np.maximum(d, 0.0)))

    all_gain = np.bincount(
        pairs.j, weights=wi * np.maximum(cur[pairs.i] - pairs.c, 0.0), minlength=m
    )
    heap = [(-all_gain[j], j) for j in range(m) if allowed[j] and not is_open[j]]
    heapq.heapify(heap)
    while len(chosen) < p and heap:
        _, j = heapq.heappop(heap)
        g = gain(j)
        if heap and g < -heap[0][0] - 1e-12 * max(1.0, g):
            heapq.heappush(heap, (-g, j))
            continue
        chosen.append(j)
        is_open[j] = True
        cur = np.minimum(cur, np.where(np.isfinite(cost[:, j]), cost[:, j], big))
    return np.array(chosen, dtype=np.int64)


def interchange(
    cost: FloatArray,
    weight: FloatArray,
    open_sites: IntArray,
    *,
    forced: IntArray | None = None,
    allowed: BoolArray | None = None,
    pairs: PairLists | None = None,
    deadline: float | None = None,
    max_swaps: int = 100_000,
) -> tuple[IntArray, int]:
    """Best-improvement swaps (close one open site, open another) until none improves.

    Parameters are those of :func:`greedy`; ``deadline`` is a ``time.perf_counter()``
    value after which the search stops with the best set so far.

    Returns
    -------
    open_sites : ndarray of int
    swaps : int
        Number of swaps applied.
    """
    n, m = cost.shape
    pairs = pairs if pairs is not None else nearest_pairs(cost)
    allowed = np.ones(m, dtype=bool) if allowed is None else allowed
    open_sites = np.array(open_sites, dtype=np.int64)
    p = open_sites.size
    is_forced = np.zeros(m, dtype=bool)
    if forced is not None:
        is_forced[np.asarray(forced, dtype=np.int64)] = True
    big = _big(cost)
    wi = weight[pairs.i]
    swaps = 0
    if p == 0:
        return open_sites, 0
    sub = cost[:, open_sites]
    sub = np.where(np.isfinite(sub), sub, big)
    slot1, d1, slot2, d2 = _two_best(sub)
    if p < 2:
        d2 = np.full(n, big)
    while swaps < max_swaps:
        if deadline is not None and time.perf_counter() > deadline:
            break
        d1i = d1[pairs.i]
        d2i = d2[pairs.i]
        gain = np.bincount(pairs.j, weights=wi * np.maximum(d1i - pairs.c, 0.0), minlength=m)
        loss = np.bincount(slot1, weights=weight * (d2 - d1), minlength=p)
        near = pairs.c < d2i
        amt = wi[near] * (d2i[near] - np.maximum(pairs.c[near], d1i[near]))
        extra = np.bincount(
            pairs.j[near] * p + slot1[pairs.i[near]], weights=amt, minlength=m * p
        ).reshape(m, p)
        profit = gain[:, None] - loss[None, :] + extra
        closed_ok = allowed.copy()
        closed_ok[open_sites] = False
        profit[~closed_ok, :] = -np.inf
        profit[:, is_forced[open_sites]] = -np.inf
        best = int(np.argmax(profit))
        j_in, slot_out = divmod(best, p)
        base = float(np.dot(weight, d1))
        if not profit[j_in, slot_out] > 1e-9 * max(1.0, base):
            break
        open_sites[slot_out] = j_in
        swaps += 1
        col = cost[:, j_in]
        sub[:, slot_out] = np.where(np.isfinite(col), col, big)
        if p >= 2:
            # rows whose best or second best was the closed site: recompute
            redo = np.nonzero((slot1 == slot_out) | (slot2 == slot_out))[0]
            s1, v1, s2, v2 = _two_best(sub[redo])
            slot1[redo], d1[redo], slot2[redo], d2[redo] = s1, v1, s2, v2
            # other rows: the new site may become first or second
            new = sub[:, slot_out]
            keep = np.ones(n, dtype=bool)
            keep[redo] = False
            first = keep & (new < d1)
            second = keep & ~first & (new < d2)
            slot2[first], d2[first] = slot1[first], d1[first]
            slot1[first], d1[first] = slot_out, new[first]
            slot2[second], d2[second] = slot_out, new[second]
        else:
            d1 = sub[:, 0].copy()
    return open_sites, swaps


def _two_best(
    sub: FloatArray,
) -> tuple[IntArray, FloatArray, IntArray, FloatArray]:
    """Slot and value of the cheapest and second cheapest column of every row."""
    n, p = sub.shape
    rows = np.arange(n)
    if p < 2:
        return (
            np.zeros(n, dtype=np.int64),
            sub[:, 0].copy(),
            np.zeros(n, dtype=np.int64),
            np.full(n, np.inf),
        )
    two = np.argpartition(sub, 1, axis=1)[:, :2]
    v = np.take_along_axis(sub, two, axis=1)
    first = np.argmin(v, axis=1)
    s1 = two[rows, first]
    s2 = two[rows, 1 - first]
    return s1.astype(np.int64), v[rows, first], s2.astype(np.int64), v[rows, 1 - first]


def greedy_interchange(
    cost: FloatArray,
    weight: FloatArray,
    p: int,
    *,
    forced: IntArray | None = None,
    allowed: BoolArray | None = None,
    pairs: PairLists | None = None,
    time_limit_s: float | None = None,
) -> HeuristicResult:
    """Greedy, then interchange; the p-median (or 0/1 coverage) heuristic.

    Parameters
    ----------
    cost : ndarray, shape (n, m)
        Cost per pair (metres, seconds, or 0/1 for coverage); inf = not allowed.
    weight : ndarray, shape (n,)
    p : int
        Number of open sites, counting ``forced``.
    forced, allowed, pairs
        See :func:`greedy`.
    time_limit_s : float, optional
        Wall-clock limit for the interchange phase.
    """
    t0 = time.perf_counter()
    pairs = pairs if pairs is not None else nearest_pairs(cost)
    start = greedy(cost, weight, p, forced=forced, allowed=allowed, pairs=pairs)
    deadline = None if time_limit_s is None else t0 + time_limit_s
    best, swaps = interchange(
        cost, weight, start, forced=forced, allowed=allowed, pairs=pairs, deadline=deadline
    )
    obj, _, _ = evaluate(cost, weight, best)
    return HeuristicResult(np.sort(best), obj, time.perf_counter() - t0, swaps)


@dataclass(frozen=True)
class LagrangianResult:
    """A lower bound and the sites it proves closed or open in any better solution.

    Attributes
    ----------
    bound : float
        Lower bound on the p-median optimum.
    closed, opened : ndarray of bool, shape (m,)
        Sites that are closed (open) in every solution cheaper than ``upper``.
    """

    bound: float
    closed: BoolArray
    opened: BoolArray


def lagrangian_bound(
    pairs: PairLists,
    weight: FloatArray,
    p: int,
    m: int,
    *,
    upper: float,
    start: FloatArray | None = None,
    forced: IntArray | None = None,
    allowed: BoolArray | None = None,
    iterations: int = 300,
    deadline: float | None = None,
) -> LagrangianResult:
    """Lower bound on the p-median optimum by subgradient optimisation, with fixing.

    Relaxes "every row is assigned once" with multipliers λ; for fixed λ the relaxed
    problem opens the ``p`` sites with the most negative reduced cost ρ. Pairs outside
    the lists are costed at ``pairs.outside`` (a lower bound on their cost), so the
    bound stays valid with truncated lists. For any λ, opening a site ``j`` outside
    the relaxed choice costs at least ``L(λ) + ρ_j − max ρ(chosen)``; when that exceeds
    ``upper``, ``j`` is closed in every solution cheaper than ``upper`` (and the
    symmetric test fixes sites open).

    Parameters
    ----------
    pairs : PairLists
    weight : ndarray, shape (n,)
    p, m : int
        Sites to open; number of sites.
    upper : float
        Objective of a known solution (step size and fixing).
    start : ndarray, shape (n,), optional
        Initial multipliers, e.g. weight × cost to the nearest open site of ``upper``'s
        solution.
    forced, allowed
        Sites that must open / may open.
    iterations : int
    deadline : float, optional
        ``time.perf_counter()`` value at which to stop.
    """
    n = weight.size
    allowed = np.ones(m, dtype=bool) if allowed is None else allowed
    is_forced = np.zeros(m, dtype=bool)
    if forced is not None:
        is_forced[np.asarray(forced, dtype=np.int64)] = True
    is_forced &= allowed
    wc = weight[pairs.i] * pairs.c
    with np.errstate(invalid="ignore"):
        w_out = np.where(np.isfinite(pairs.outside), weight * pairs.outside, np.inf)
    if start is not None:
        lam = np.array(start, dtype=float)
    else:
        lam = np.full(n, np.inf)
        np.minimum.at(lam, pairs.i, wc)
        lam = np.where(np.isfinite(lam), lam, 0.0)
    best = -np.inf
    closed = np.zeros(m, dtype=bool)
    opened = np.zeros(m, dtype=bool)
    k_free = p - int(is_forced.sum())
    free_ok = allowed & ~is_forced
    tol = 1e-9 * max(1.0, abs(upper))
    step_scale = 2.0
    stall = 0
    for _ in range(iterations):
        if deadline is not None and time.perf_counter() > deadline:
            break
        red_pair = np.minimum(wc - lam[pairs.i], 0.0)
        red_out = np.minimum(w_out - lam, 0.0)
        total_out = red_out.sum()
        rho = total_out + np.bincount(pairs.j, weights=red_pair - red_out[pairs.i], minlength=m)
        chosen = is_forced.copy()
        free_rho = np.where(free_ok, rho, np.inf)
        if k_free > 0:
            pick = np.argpartition(free_rho, k_free - 1)[:k_free]
            chosen[pick] = True
        value = float(lam.sum() + rho[chosen].sum())
        # fixing tests (valid for any λ)
        if k_free > 0:
            worst_in = float(free_rho[chosen & free_ok].max())
            out_mask = free_ok & ~chosen
            if out_mask.any():
                closed |= out_mask & (value + rho - worst_in > upper + tol)
                best_out = float(free_rho[out_mask].min())
                opened |= chosen & free_ok & (value - rho + best_out > upper + tol)
        if not np.isfinite(best) or value > best + 1e-9 * max(1.0, abs(best)):
            best = value
            stall = 0
        else:
            stall += 1
            if stall >= STALL:
                step_scale /= 2.0
                stall = 0
                if step_scale < 1e-4:
                    break
        # subgradient: 1 - Σ_j x_ij, with x_ij = 1 where j chosen and reduced cost < 0
        x_pair = chosen[pairs.j] & (wc - lam[pairs.i] < 0)
        covered = np.bincount(pairs.i, weights=x_pair.astype(float), minlength=n)
        in_list = np.bincount(pairs.i, weights=chosen[pairs.j].astype(float), minlength=n)
        out_count = np.where(red_out < 0, chosen.sum() - in_list, 0.0)
        g = 1.0 - covered - out_count
        norm = float(np.dot(g, g))
        if norm == 0.0:
            break
        lam = lam + step_scale * max(upper - value, tol) / norm * g
    return LagrangianResult(best, closed, opened & ~closed)
