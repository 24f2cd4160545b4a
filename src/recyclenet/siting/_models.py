"""Formulations of the siting models as solver-neutral :class:`LinearModel` values.

All builders work on positions and numpy arrays. Variable layout: the ``m`` site
variables ``y`` first, then one variable per (demand, site) pair in the given pair
order, then per-row extras (overflow or coverage variables).

p-median uses the *strong* formulation (``x_ij <= y_j``) with continuous assignment
variables (with ``y`` integral, an optimal ``x`` is integral: every row goes to its
cheapest open site) restricted to a per-row list of nearest sites plus one
*overflow* variable per row whose cost is the cost of the first site left out. The
restricted optimum is a lower bound on the true optimum (any site outside the list
costs at least the overflow cost); when no overflow variable is used it is the true
optimum. :func:`recyclenet.siting.solve.solve_siting` grows the lists of rows that use
their overflow and solves again.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from .linear_model import LinearModel

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class SiteRules:
    """Site-level data shared by every model (positions = problem site order)."""

    forced: BoolArray  # must be open
    allowed: BoolArray  # may be open (not forbidden)
    fixed_cost: FloatArray
    closing_cost: FloatArray  # paid when an existing site is closed (0 otherwise)
    p: int | None  # exact number open (p-median, coverage) or upper bound (cflp)
    p_exact: bool
    budget: float | None


@dataclass(frozen=True)
class Built:
    """A model and where its variables are."""

    model: LinearModel
    m: int
    pair_i: IntArray
    pair_j: IntArray
    extra_rows: IntArray  # row (demand position) of each extra variable

    @property
    def n_pairs(self) -> int:
        """Number of pair variables."""
        return int(self.pair_i.size)

    def y(self, values: FloatArray) -> BoolArray:
        """Open sites from a solution vector."""
        return np.asarray(values[: self.m] > 0.5)

    def pair_values(self, values: FloatArray) -> FloatArray:
        """Assignment values from a solution vector."""
        return np.asarray(values[self.m : self.m + self.n_pairs])

    def extra_values(self, values: FloatArray) -> FloatArray:
        """Overflow/coverage values from a solution vector."""
        return np.asarray(values[self.m + self.n_pairs :])


def _site_bounds(rules: SiteRules) -> tuple[FloatArray, FloatArray]:
    lb = rules.forced.astype(float)
    ub = rules.allowed.astype(float)
    return lb, ub


def _site_rows(
    rules: SiteRules, n_vars: int
) -> tuple[list[sp.coo_matrix], list[float], list[float]]:
    """Cardinality and budget rows over the site variables."""
    m = rules.forced.size
    blocks: list[sp.coo_matrix] = []
    lbs: list[float] = []
    ubs: list[float] = []
    if rules.p is not None:
        blocks.append(sp.coo_matrix((np.ones(m), (np.zeros(m), np.arange(m))), shape=(1, n_vars)))
        lbs.append(float(rules.p) if rules.p_exact else -np.inf)
        ubs.append(float(rules.p))
    if rules.budget is not None:
        coef = rules.fixed_cost - rules.closing_cost
        blocks.append(sp.coo_matrix((coef, (np.zeros(m), np.arange(m))), shape=(1, n_vars)))
        lbs.append(-np.inf)
        ubs.append(float(rules.budget) - float(rules.closing_cost.sum()))
    return blocks, lbs, ubs


def _assemble(
    n_vars: int,
    blocks: list[sp.coo_matrix],
    lbs: list[FloatArray | list[float]],
    ubs: list[FloatArray | list[float]],
) -> tuple[sp.csr_matrix, FloatArray, FloatArray]:
    A = sp.vstack(blocks, format="csr") if blocks else sp.csr_matrix((0, n_vars))
    return (
        A,
        np.concatenate([np.asarray(b, dtype=float) for b in lbs]),
        np.concatenate([np.asarray(b, dtype=float) for b in ubs]),
    )


def _assignment_block(
    n_rows: int,
    pair_i: IntArray,
    m: int,
    n_vars: int,
    extra_cols: IntArray | None = None,
    extra_rows: IntArray | None = None,
) -> sp.coo_matrix:
    """Σ_j x_ij (+ extra_i) per row."""
    k = pair_i.size
    r = [pair_i]
    c = [m + np.arange(k)]
    if extra_cols is not None and extra_rows is not None:
        r.append(extra_rows)
        c.append(extra_cols)
    rows = np.concatenate(r)
    cols = np.concatenate(c)
    return sp.coo_matrix((np.ones(rows.size), (rows, cols)), shape=(n_rows, n_vars))


def _linking_block(pair_j: IntArray, m: int, n_vars: int) -> sp.coo_matrix:
    """x_ij − y_j <= 0 per pair."""
    k = pair_j.size
    rows = np.concatenate([np.arange(k), np.arange(k)])
    cols = np.concatenate([m + np.arange(k), pair_j])
    vals = np.concatenate([np.ones(k), -np.ones(k)])
    return sp.coo_matrix((vals, (rows, cols)), shape=(k, n_vars))


def p_median(
    n: int,
    weight: FloatArray,
    pair_i: IntArray,
    pair_j: IntArray,
    pair_c: FloatArray,
    overflow_rows: IntArray,
    overflow_cost: FloatArray,
    rules: SiteRules,
) -> Built:
    """Restricted strong p-median (see module docstring); objective Σ w c x + Σ w D z.

    Rows with zero weight should be left out by the caller.
    """
    m = rules.forced.size
    k = pair_i.size
    q = overflow_rows.size
    n_vars = m + k + q
    lb_y, ub_y = _site_bounds(rules)
    var_lb = np.zeros(n_vars)
    var_lb[:m] = lb_y
    var_ub = np.ones(n_vars)
    var_ub[:m] = ub_y
    obj = np.concatenate(
        [np.zeros(m), weight[pair_i] * pair_c, weight[overflow_rows] * overflow_cost]
    )
    is_int = np.zeros(n_vars, dtype=bool)
    is_int[:m] = True
    blocks = [
        _assignment_block(n, pair_i, m, n_vars, m + k + np.arange(q), overflow_rows),
        _linking_block(pair_j, m, n_vars),
    ]
    lbs: list[FloatArray | list[float]] = [np.ones(n), np.full(k, -np.inf)]
    ubs: list[FloatArray | list[float]] = [np.ones(n), np.zeros(k)]
    sb, sl, su = _site_rows(rules, n_vars)
    blocks += sb
    lbs.append(sl)
    ubs.append(su)
    A, row_lb, row_ub = _assemble(n_vars, blocks, lbs, ubs)
    return Built(
        LinearModel(var_lb, var_ub, obj, is_int, A, row_lb, row_ub),
        m,
        pair_i,
        pair_j,
        overflow_rows,
    )


def max_coverage(
    n: int, weight: FloatArray, cover_i: IntArray, cover_j: IntArray, rules: SiteRules
) -> Built:
    """Maximal covering: max Σ w_i u_i, u_i <= Σ_{j covers i} y_j, Σ y = p.

    ``u`` is continuous in [0, 1]; it is integral at an optimum once ``y`` is.
    Rows without any covering site should be left out by the caller.
    """
    m = rules.forced.size
    n_vars = m + n
    lb_y, ub_y = _site_bounds(rules)
    var_lb = np.concatenate([lb_y, np.zeros(n)])
    var_ub = np.concatenate([ub_y, np.ones(n)])
    obj = np.concatenate([np.zeros(m), weight])
    is_int = np.zeros(n_vars, dtype=bool)
    is_int[:m] = True
    rows = np.concatenate([np.arange(n), cover_i])
    cols = np.concatenate([m + np.arange(n), cover_j])
    vals = np.concatenate([np.ones(n), -np.ones(cover_i.size)])
    blocks = [sp.coo_matrix((vals, (rows, cols)), shape=(n, n_vars))]
    lbs: list[FloatArray | list[float]] = [np.full(n, -np.inf)]
    ubs: list[FloatArray | list[float]] = [np.zeros(n)]
    sb, sl, su = _site_rows(rules, n_vars)
    blocks += sb
    lbs.append(sl)
    ubs.append(su)
    A, row_lb, row_ub = _assemble(n_vars, blocks, lbs, ubs)
    empty = np.zeros(0, dtype=np.int64)
    return Built(
        LinearModel(var_lb, var_ub, obj, is_int, A, row_lb, row_ub, maximize=True),
        m,
        empty,
        empty,
        np.arange(n, dtype=np.int64),
    )


def capacitated(
    n: int,
    pair_i: IntArray,
    pair_j: IntArray,
    pair_cost: FloatArray,
    load: FloatArray,
    capacity: FloatArray,
    site_cost: FloatArray,
    rules: SiteRules,
    *,
    single_source: bool,
    offset: float = 0.0,
    overflow_rows: IntArray | None = None,
    overflow_cost: FloatArray | None = None,
    split_rows: BoolArray | None = None,
) -> Built:
    """Capacitated location: min Σ site_cost y + Σ pair_cost x + offset.

    Subject to Σ_j x_ij = 1, x_ij <= y_j, Σ_i load_i x_ij <= capacity_j y_j (finite
    capacities only), Σ_j capacity_j y_j >= Σ load (a valid cut), and the site rows.
    Used for CFLP and, with site_cost = 1, for min stations. Optional overflow
    variables (one per listed row, priced at a lower bound on the row's unlisted pairs
    and using no capacity) make a restricted model a relaxation of the full one.
    ``split_rows`` (bool per row) may be split across sites even when ``single_source``.
    """
    m = rules.forced.size
    k = pair_i.size
    o_rows = np.zeros(0, dtype=np.int64) if overflow_rows is None else overflow_rows
    o_cost = np.zeros(0) if overflow_cost is None else overflow_cost
    q = o_rows.size
    n_vars = m + k + q
    lb_y, ub_y = _site_bounds(rules)
    var_lb = np.concatenate([lb_y, np.zeros(k + q)])
    var_ub = np.concatenate([ub_y, np.ones(k + q)])
    obj = np.concatenate([site_cost, pair_cost, o_cost])
    is_int = np.zeros(n_vars, dtype=bool)
    is_int[:m] = True
    if single_source:
        is_int[m : m + k] = True if split_rows is None else ~split_rows[pair_i]
    blocks = [
        _assignment_block(n, pair_i, m, n_vars, m + k + np.arange(q), o_rows),
        _linking_block(pair_j, m, n_vars),
    ]
    lbs: list[FloatArray | list[float]] = [np.ones(n), np.full(k, -np.inf)]
    ubs: list[FloatArray | list[float]] = [np.ones(n), np.zeros(k)]
    finite = np.isfinite(capacity)
    if finite.any():
        sel = finite[pair_j]
        cap_sites = np.nonzero(finite)[0]
        row_of = np.full(m, -1)
        row_of[cap_sites] = np.arange(cap_sites.size)
        rr = np.concatenate([row_of[pair_j[sel]], row_of[cap_sites]])
        cc = np.concatenate([m + np.nonzero(sel)[0], cap_sites])
        vv = np.concatenate([load[pair_i[sel]], -capacity[cap_sites]])
        blocks.append(sp.coo_matrix((vv, (rr, cc)), shape=(cap_sites.size, n_vars)))
        lbs.append(np.full(cap_sites.size, -np.inf))
        ubs.append(np.zeros(cap_sites.size))
        if finite.all():
            blocks.append(sp.coo_matrix((capacity, (np.zeros(m), np.arange(m))), shape=(1, n_vars)))
            lbs.append([float(load.sum())])
            ubs.append([np.inf])
    sb, sl, su = _site_rows(rules, n_vars)
    blocks += sb
    lbs.append(sl)
    ubs.append(su)
    A, row_lb, row_ub = _assemble(n_vars, blocks, lbs, ubs)
    return Built(
        LinearModel(var_lb, var_ub, obj, is_int, A, row_lb, row_ub, obj_offset=offset),
        m,
        pair_i,
        pair_j,
        o_rows,
    )


def p_median_radius(
    n: int,
    weight: FloatArray,
    pair_i: IntArray,
    pair_j: IntArray,
    pair_c: FloatArray,
    outside: FloatArray,
    rules: SiteRules,
) -> Built:
    """Radius formulation of p-median (Elloumi 2010), restricted to listed pairs.

    For row ``i`` with distinct listed costs ``D^1 < … < D^L`` and ``D^{L+1}`` =
    ``outside[i]`` (the cost of the cheapest unlisted site; inf if none), the variable
    ``z_i^k`` in [0, 1] means "row i pays at least ``D^{k+1}``":

        z_i^1 + Σ_{j: c_ij = D^1} y_j >= 1,   z_i^k − z_i^{k−1} + Σ_{j: c_ij = D^k} y_j >= 0

    and the objective is Σ_i w_i (D^1 + Σ_k (D^{k+1} − D^k) z_i^k). The incremental
    rows telescope to Elloumi's cumulative ones (same LP bound) with O(list) non-zeros
    per row. With truncated lists the optimum is a lower bound on the true optimum; it
    equals it when every ``z_i^L`` is 0. The extra variables are the ``z``;
    ``extra_rows`` gives their row and the last level of each row is flagged by
    :attr:`Built.pair_i` being empty here (levels are returned in ``extra_rows``).
    """
    m = rules.forced.size
    order = np.lexsort((pair_c, pair_i))
    pi, pj, pc = pair_i[order], pair_j[order], pair_c[order]
    # level index per pair: new level where the row changes or the cost changes
    new_row = np.r_[True, pi[1:] != pi[:-1]]
    new_level = new_row | np.r_[True, pc[1:] != pc[:-1]]
    level_id = np.cumsum(new_level) - 1  # global level id
    n_levels = int(level_id[-1]) + 1 if level_id.size else 0
    lvl_row = pi[new_level]
    lvl_cost = pc[new_level]
    # next cost: next level of the same row, else the row's outside cost
    nxt = np.empty(n_levels)
    same_row_next = np.r_[lvl_row[1:] == lvl_row[:-1], False]
    nxt[:-1] = lvl_cost[1:]
    nxt = np.where(same_row_next, nxt, outside[lvl_row])
    # z variable per level, except the last level of a complete row (nxt = inf: z = 0)
    has_z = np.isfinite(nxt)
    z_col = np.full(n_levels, -1)
    n_z = int(has_z.sum())
    z_col[has_z] = m + np.arange(n_z)
    n_vars = m + n_z
    first_level = np.r_[True, lvl_row[1:] != lvl_row[:-1]]
    # rows of the model = levels
    r_y, c_y = level_id, pj
    r_z = np.nonzero(has_z)[0]
    c_z = z_col[has_z]
    prev = np.nonzero(~first_level)[0]
    r_prev, c_prev = prev, z_col[prev - 1]
    rows = np.concatenate([r_y, r_z, r_prev])
    cols = np.concatenate([c_y, c_z, c_prev])
    vals = np.concatenate([np.ones(r_y.size), np.ones(r_z.size), -np.ones(r_prev.size)])
    blocks = [sp.coo_matrix((vals, (rows, cols)), shape=(n_levels, n_vars))]
    lbs: list[FloatArray | list[float]] = [first_level.astype(float)]
    ubs: list[FloatArray | list[float]] = [np.full(n_levels, np.inf)]
    sb, sl, su = _site_rows(rules, n_vars)
    blocks += sb
    lbs.append(sl)
    ubs.append(su)
    A, row_lb, row_ub = _assemble(n_vars, blocks, lbs, ubs)
    lb_y, ub_y = _site_bounds(rules)
    var_lb = np.concatenate([lb_y, np.zeros(n_z)])
    var_ub = np.concatenate([ub_y, np.ones(n_z)])
    step = (nxt - lvl_cost)[has_z]
    obj = np.concatenate([np.zeros(m), weight[lvl_row[has_z]] * step])
    offset = float((weight[lvl_row[first_level]] * lvl_cost[first_level]).sum())
    is_int = np.zeros(n_vars, dtype=bool)
    is_int[:m] = True
    # flag, per z variable, whether it is the last level of its row (overflow)
    last_level = np.r_[lvl_row[1:] != lvl_row[:-1], True]
    empty = np.zeros(0, dtype=np.int64)
    return Built(
        LinearModel(var_lb, var_ub, obj, is_int, A, row_lb, row_ub, obj_offset=offset),
        m,
        empty,
        empty,
        np.where(last_level[has_z], lvl_row[has_z], -1).astype(np.int64),
    )
