"""Heuristic plans for the capacitated models (min stations, CFLP), on positions.

They give every capacitated solve a feasible start in well under a second, so a plan
is returned whenever the heuristic finds one, whatever the seed and the time limit;
the MIP then only improves it and proves a bound.

- :func:`assign`: capacitated assignment to a given open set. Rows are placed hardest
  first (fewest open options, then largest load) on their cheapest open site with room;
  a *split* row (load above every single site's capacity) fills several sites in order
  of cost.
- :func:`greedy_cover` (min stations): open the site that can take the most unserved
  load until every row is served, then :func:`drop` closes sites whose rows fit
  elsewhere.
- :func:`greedy_cflp` (CFLP): add sites by net saving (assignment saving on the
  cheapest-site lists minus the site cost), open more where capacity is short, then
  drop sites whose closing lowers the total cost.

Everything works on sparse pair lists (rows × sites that may serve them), sorted per
row by cost, so one step costs O(pairs), not O(n × m).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

#: Load below this share of a unit counts as served (float noise of split rows).
_EPS = 1e-9


@dataclass(frozen=True)
class Pairs:
    """Rows × sites that may serve them, grouped by row and sorted by cost.

    ``col[ptr[i]:ptr[i+1]]`` are the sites of row ``i``, cheapest first, with their
    costs in ``cost``.
    """

    ptr: IntArray
    col: IntArray
    cost: FloatArray
    m: int

    @classmethod
    def build(cls, pi: IntArray, pj: IntArray, pc: FloatArray, n: int, m: int) -> Pairs:
        """From pair arrays in any order."""
        order = np.lexsort((pc, pi))
        ptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(pi, minlength=n), out=ptr[1:])
        return cls(ptr, pj[order].astype(np.int64), pc[order].astype(np.float64), m)

    @property
    def n(self) -> int:
        """Number of rows."""
        return int(self.ptr.size - 1)

    def matrix(self, values: FloatArray | None = None) -> sp.csr_matrix:
        """Rows × sites CSR with ``values`` per pair (1 by default)."""
        data = np.ones(self.col.size) if values is None else values
        return sp.csr_matrix((data, self.col, self.ptr), shape=(self.n, self.m))


@dataclass
class Solution:
    """An open set with its (possibly split) assignment."""

    open_mask: BoolArray
    shares: list[tuple[int, int, float]]
    left: IntArray  # rows (positions) not fully served
    assign_cost: float = 0.0  # Σ share × pair cost

    @property
    def feasible(self) -> bool:
        """Every row served."""
        return self.left.size == 0


def assign(
    pairs: Pairs, open_mask: BoolArray, load: FloatArray, capacity: FloatArray, split: BoolArray
) -> Solution:
    """Capacitated assignment of every row to the open sites (see the module docstring)."""
    n = pairs.n
    room = np.where(open_mask, capacity, 0.0).astype(np.float64)
    options = np.zeros(n, dtype=np.int64)
    if pairs.col.size:
        is_open = open_mask[pairs.col].astype(np.int64)
        csum = np.concatenate([[0], np.cumsum(is_open)])
        options = csum[pairs.ptr[1:]] - csum[pairs.ptr[:-1]]
    order = np.lexsort((-load, options))
    shares: list[tuple[int, int, float]] = []
    left: list[int] = []
    ptr, col, pcost = pairs.ptr.tolist(), pairs.col.tolist(), pairs.cost.tolist()
    is_open_l = open_mask.tolist()
    room_l = room.tolist()
    total = 0.0
    for i in order.tolist():
        need = float(load[i])
        a, b = ptr[i], ptr[i + 1]
        if not split[i] or need <= 0:
            for k in range(a, b):
                j = col[k]
                if is_open_l[j] and room_l[j] >= need * (1 - _EPS):
                    room_l[j] -= need
                    shares.append((i, j, 1.0))
                    total += pcost[k]
                    break
            else:
                left.append(i)
            continue
        rest = need
        part: list[tuple[int, int, float]] = []
        part_cost = 0.0
        for k in range(a, b):
            j = col[k]
            if is_open_l[j] and room_l[j] > 0:
                take = min(rest, room_l[j])
                room_l[j] -= take
                part.append((i, j, take / need))
                part_cost += pcost[k] * take / need
                rest -= take
                if rest <= need * _EPS:
                    break
        if rest > need * _EPS:
            for _, j, sh in part:  # give the room back: the row stays unserved
                room_l[j] += sh * need
            left.append(i)
        else:
            shares.extend(part)
            total += part_cost
    return Solution(open_mask.copy(), shares, np.asarray(sorted(left), dtype=np.int64), total)


def _served_load(sol: Solution, load: FloatArray, m: int) -> FloatArray:
    if not sol.shares:
        return np.zeros(m)
    a = np.array(sol.shares)
    served = np.bincount(a[:, 1].astype(np.int64), minlength=m,
                         weights=load[a[:, 0].astype(np.int64)] * a[:, 2])  # fmt: skip
    return np.asarray(served, dtype=np.float64)


def _open_for_capacity(
    pairs: Pairs,
    open_mask: BoolArray,
    allowed: BoolArray,
    load: FloatArray,
    capacity: FloatArray,
    split: BoolArray,
    site_cost: FloatArray,
) -> Solution:
    """Open sites until every row is served: each time the site that can take the most
    unserved load (per unit of site cost when costs differ), filled with the unserved
    rows it reaches, cheapest first.

    Not bound by the deadline: one site per step, each step O(pairs), and a feasible
    start is what every later step needs.
    """
    open_mask = open_mask.copy()
    sol = assign(pairs, open_mask, load, capacity, split)
    if sol.feasible:
        return sol
    A = pairs.matrix()
    by_site = pairs.matrix(pairs.cost).tocsc()
    room = capacity - _served_load(sol, load, pairs.m)
    room[~open_mask] = capacity[~open_mask]
    rem = np.zeros(pairs.n)
    rem[sol.left] = load[sol.left]
    unserved = np.zeros(pairs.n, dtype=bool)
    unserved[sol.left] = True
    shares = list(sol.shares)
    total = sol.assign_cost
    cost_pos = np.maximum(site_cost, 0.0)
    n_options = np.diff(pairs.ptr)
    while unserved.any():
        reach = np.asarray(A.T @ np.where(unserved, np.maximum(rem, 1e-6), 0.0)).ravel()
        gain = np.minimum(reach, room)
        gain[~allowed | open_mask] = 0.0
        if gain.max(initial=0.0) <= 0:
            break  # no closed site reaches the unserved rows
        if cost_pos.any():
            score = gain / (cost_pos + 1e-9 * (cost_pos.max() + 1.0))
        else:
            score = gain.copy()
        score[gain <= 0] = -np.inf
        j = int(np.argmax(score))
        open_mask[j] = True
        lo, hi = by_site.indptr[j], by_site.indptr[j + 1]
        rows, costs = by_site.indices[lo:hi], by_site.data[lo:hi]
        # rows with the fewest sites in reach first (they have least choice), then cheapest
        for k in np.lexsort((costs, n_options[rows])).tolist():
            i = int(rows[k])
            if not unserved[i]:
                continue
            need = float(load[i])
            if not split[i] or need <= 0:
                if room[j] >= rem[i] * (1 - _EPS) and rem[i] == need:
                    room[j] -= need
                    shares.append((i, j, 1.0))
                    total += float(costs[k])
                    unserved[i] = False
                continue
            take = min(rem[i], room[j])
            if take <= 0:
                continue
            room[j] -= take
            rem[i] -= take
            shares.append((i, j, take / need))
            total += float(costs[k]) * take / need
            if rem[i] <= need * _EPS:
                unserved[i] = False
    left = np.nonzero(unserved)[0].astype(np.int64)
    if left.size:  # split rows partly placed stay unserved: drop their parts
        gone = set(left.tolist())
        shares = [t for t in shares if t[0] not in gone]
    out = Solution(open_mask, shares, left, total)
    if left.size:
        # every site in reach of these rows is open and full: make room by moving other
        # rows away; as a last resort split the stuck rows over the room in reach
        out = repair(pairs, out, load, capacity, split)
        if out.left.size:
            out = repair(pairs, out, load, capacity, np.ones_like(split))
        return out
    again = assign(pairs, open_mask, load, capacity, split)  # nearest-first on the final set
    return again if again.feasible and again.assign_cost < out.assign_cost else out


def repair(
    pairs: Pairs, sol: Solution, load: FloatArray, capacity: FloatArray, split: BoolArray
) -> Solution:
    """Serve the rows left by :func:`assign` on the same open sites, by ejection.

    For a row left over, each open site in its reach (cheapest first) is tried: if the
    site lacks room, rows served wholly by it move to another open site with room, until
    the row fits. A row that may be split (``split``) is otherwise spread over the room
    left in its reach. Rows that still do not fit stay in ``left``.
    """
    m = pairs.m
    ptr, col, pcost = pairs.ptr, pairs.col, pairs.cost
    room = np.where(sol.open_mask, capacity - _served_load(sol, load, m), 0.0)
    whole: dict[int, list[int]] = {}
    for i, j, sh in sol.shares:
        if sh >= 1.0 - _EPS:
            whole.setdefault(j, []).append(i)
    shares = list(sol.shares)
    moved: dict[int, int] = {}  # row -> its new site
    left: list[int] = []
    for i in sorted(sol.left.tolist(), key=lambda r: -load[r]):
        need = float(load[i])
        sites = [int(j) for j in col[ptr[i] : ptr[i + 1]] if sol.open_mask[j]]
        placed = False
        for j in sites:
            if room[j] < need * (1 - _EPS):
                plan: list[tuple[int, int]] = []
                free = room.copy()
                for r in sorted(whole.get(j, []), key=lambda r: -load[r]):
                    if free[j] >= need * (1 - _EPS):
                        break
                    for k in col[ptr[r] : ptr[r + 1]].tolist():
                        if k != j and sol.open_mask[k] and free[k] >= load[r] * (1 - _EPS):
                            plan.append((r, k))
                            free[k] -= load[r]
                            free[j] += load[r]
                            break
                if free[j] < need * (1 - _EPS):
                    continue
                room = free
                for r, k in plan:
                    whole[j].remove(r)
                    whole.setdefault(k, []).append(r)
                    moved[r] = k
            room[j] -= need
            whole.setdefault(j, []).append(i)
            shares.append((i, j, 1.0))
            placed = True
            break
        if not placed and split[i] and sum(max(room[j], 0.0) for j in sites) >= need * (1 - _EPS):
            rest = need
            for j in sites:
                take = min(rest, max(room[j], 0.0))
                if take > 0:
                    room[j] -= take
                    shares.append((i, j, take / need))
                    rest -= take
            placed = True
        if not placed:
            left.append(i)
    if moved:
        shares = [(i, moved.get(i, j) if sh >= 1.0 - _EPS else j, sh) for i, j, sh in shares]
    lookup = pairs.matrix(pcost).tocsr()
    total = float(sum(sh * lookup[i, j] for i, j, sh in shares))
    return Solution(sol.open_mask.copy(), shares, np.asarray(sorted(left), dtype=np.int64), total)


def drop(
    pairs: Pairs,
    sol: Solution,
    forced: BoolArray,
    load: FloatArray,
    capacity: FloatArray,
    split: BoolArray,
    total_cost: Callable[[Solution], float],
    deadline: float,
) -> Solution:
    """Close open sites (emptiest first) while the rows still fit and the cost falls.

    ``total_cost(solution)`` is the objective to minimise; sites serving nobody are
    closed first, at no risk.
    """
    best = sol
    best_cost = total_cost(best)
    m = pairs.m
    served = _served_load(best, load, m)
    candidates = [int(j) for j in np.nonzero(best.open_mask & ~forced)[0]]
    candidates.sort(key=lambda j: served[j])
    for j in candidates:
        if time.perf_counter() > deadline:
            break
        trial_open = best.open_mask.copy()
        trial_open[j] = False
        trial = assign(pairs, trial_open, load, capacity, split)
        if not trial.feasible:
            continue
        c = total_cost(trial)
        if c <= best_cost + 1e-9 * max(1.0, abs(best_cost)):
            best, best_cost = trial, c
    return best


def greedy_cover(
    pairs: Pairs,
    *,
    forced: BoolArray,
    allowed: BoolArray,
    load: FloatArray,
    capacity: FloatArray,
    split: BoolArray,
    deadline: float,
) -> Solution:
    """Min stations: greedy cover from the forced sites, then drop (fewest sites)."""
    sol = _open_for_capacity(pairs, forced, allowed, load, capacity, split, np.ones(pairs.m))
    if not sol.feasible:
        return sol

    def count(s: Solution) -> float:
        return float(s.open_mask.sum()) + s.assign_cost  # the MIP objective

    return drop(pairs, sol, forced, load, capacity, split, count, deadline)


def greedy_cflp(
    pairs: Pairs,
    *,
    forced: BoolArray,
    allowed: BoolArray,
    load: FloatArray,
    capacity: FloatArray,
    split: BoolArray,
    site_cost: FloatArray,
    deadline: float,
) -> Solution:
    """CFLP: add by net saving, open more where capacity is short, then drop."""
    n, m = pairs.n, pairs.m
    ptr = pairs.ptr
    row = np.repeat(np.arange(n), np.diff(ptr))
    # a row served by no open site costs more than any of its pairs
    worst = np.zeros(n)
    has = np.diff(ptr) > 0
    worst[has] = pairs.cost[ptr[1:][has] - 1] * 2.0 + 1.0
    open_mask = forced.copy()
    cur = worst.copy()
    if open_mask.any():
        sel = open_mask[pairs.col]
        np.minimum.at(cur, row[sel], pairs.cost[sel])
    while time.perf_counter() < deadline:
        saving = np.bincount(pairs.col, weights=np.maximum(0.0, cur[row] - pairs.cost),
                             minlength=m) - site_cost  # fmt: skip
        saving[~allowed | open_mask] = -np.inf
        j = int(np.argmax(saving))
        if not saving[j] > 0:
            break
        open_mask[j] = True
        sel = pairs.col == j
        np.minimum.at(cur, row[sel], pairs.cost[sel])
    sol = _open_for_capacity(pairs, open_mask, allowed, load, capacity, split, site_cost)
    if not sol.feasible:
        return sol

    def total(s: Solution) -> float:
        return float(site_cost[s.open_mask].sum()) + s.assign_cost

    return drop(pairs, sol, forced, load, capacity, split, total, deadline)


def capacity_lower_bound(load: FloatArray, capacity: FloatArray, allowed: BoolArray,
                         forced: BoolArray) -> int:  # fmt: skip
    """Fewest sites whose capacities can hold the total load (and at least the forced)."""
    total = float(load.sum())
    caps = np.sort(capacity[allowed])[::-1]
    if caps.size and math.isinf(caps[0]):
        k = 1 if total > 0 else 0
    else:
        cum = np.cumsum(caps)
        k = int(np.searchsorted(cum, total * (1 - 1e-9))) + 1 if total > 0 else 0
        k = min(k, caps.size)
    return max(k, int(forced.sum()))


#: Above this many demand x site entries the CFLP Lagrangian bound is not computed.
LAGRANGIAN_DENSE_LIMIT = 2_000_000
#: Subgradient steps taken whatever the deadline (each is O(n x m), milliseconds).
MIN_LAGRANGIAN_STEPS = 10


def cflp_lagrangian_bound(
    unit: FloatArray,
    load: FloatArray,
    capacity: FloatArray,
    site_cost: FloatArray,
    *,
    forced: BoolArray,
    allowed: BoolArray,
    upper: float,
    deadline: float,
    iterations: int = 200,
) -> float:
    """Lower bound on the CFLP (single- or multi-source) by Lagrangian relaxation.

    The assignment rows Σ_j x_ij = 1 are relaxed with multipliers u_i; what is left
    splits by site: open j (cost f_j) and fill it with the rows of negative reduced cost
    c_ij − u_i, best ratio to load first, up to its capacity (a continuous knapsack), or
    keep it closed (0; forced sites must open). L(u) = Σ u_i + Σ_j min(0, f_j + K_j(u))
    is a lower bound for every u; subgradient steps (Held-Karp, toward ``upper``) raise
    it. ``unit`` is the dense cost (inf = not allowed); returns -inf when too large.
    """
    n, m = unit.shape
    if n * m > LAGRANGIAN_DENSE_LIMIT or n == 0:
        return -math.inf
    cost = np.where(allowed[None, :] & np.isfinite(unit), unit, np.inf)
    finite_row = np.isfinite(cost).any(axis=1)
    if not finite_row.all():
        return -math.inf
    best_bound = -math.inf
    u = np.nanmin(np.where(np.isfinite(cost), cost, np.nan), axis=1)  # start: nearest
    lam = 2.0
    stall = 0
    ld = np.maximum(load, 1e-12)
    cap = np.where(np.isfinite(capacity), capacity, load.sum() + 1.0)
    for it in range(iterations):
        if it >= MIN_LAGRANGIAN_STEPS and time.perf_counter() > deadline:
            break
        red = cost - u[:, None]  # n x m reduced costs (inf where not allowed)
        neg = red < 0
        ratio = np.where(neg, red / ld[:, None], 0.0)
        order = np.argsort(ratio, axis=0, kind="stable")
        r_sorted = np.take_along_axis(np.where(neg, red, 0.0), order, axis=0)
        l_sorted = np.where(np.take_along_axis(neg, order, axis=0), ld[order], 0.0)
        cum = np.cumsum(l_sorted, axis=0)
        prev = cum - l_sorted
        frac = np.clip((cap[None, :] - prev) / l_sorted.clip(1e-12), 0.0, 1.0)
        frac = np.where(l_sorted > 0, frac, 0.0)
        k_val = (r_sorted * frac).sum(axis=0)
        value = site_cost + k_val
        open_j = (value < 0) | forced
        open_j &= allowed
        bound = float(u.sum() + value[open_j].sum())
        if not math.isfinite(best_bound) or bound > best_bound + 1e-9 * max(1.0, abs(best_bound)):
            best_bound, stall = bound, 0
        else:
            stall += 1
            if stall >= 10:
                lam /= 2.0
                stall = 0
        if lam < 1e-4 or best_bound >= upper * (1 - 1e-9):
            break
        # x_ij of the open sites, back in row order
        x = np.zeros((n, m))
        x_sorted = np.where(open_j[None, :], frac, 0.0)
        np.put_along_axis(x, order, x_sorted, axis=0)
        g = 1.0 - x.sum(axis=1)
        norm = float((g * g).sum())
        if norm <= 1e-12:
            break  # the relaxed solution is feasible for the rows: bound is tight
        u = u + lam * (upper - bound) / norm * g
    return best_bound
