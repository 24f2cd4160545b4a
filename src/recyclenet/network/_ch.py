"""Contraction hierarchies (Geisberger et al. 2008) and bucket many-to-many queries.

Preprocessing contracts nodes one at a time (least important first, by edge difference
plus contracted neighbours, with lazy updates), adding a shortcut u→x when the path
u→v→x is shorter than any witness path avoiding v (local Dijkstra with a settle limit;
a failed witness search adds the shortcut, which keeps results exact). A many-to-many
query then runs one small upward search per destination, filling buckets, and one
upward search per origin that scans those buckets (Knopp et al. 2007). Upward graphs
are DAGs by rank, so a search relaxes nodes in rank order with each node popped once.

Weights are float64 holding exact integers (see shortest_paths: time and distance
packed in one number), so sums are exact and results equal plain Dijkstra's.
All kernels are compiled with numba and release the GIL.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numba import njit

from . import warmup
from ._heap import heap_pop, heap_push

WITNESS_SETTLE_LIMIT = 60


@njit(cache=True, nogil=True)
def _find(nbr, cnt, a, b):
    for k in range(cnt[a]):
        if nbr[a, k] == b:
            return k
    return -1


@njit(cache=True, nogil=True)
def _add_arc(out_nbr, out_w, out_cnt, in_nbr, in_w, in_cnt, a, b, w):
    k = _find(out_nbr, out_cnt, a, b)
    if k >= 0:
        if w < out_w[a, k]:
            out_w[a, k] = w
            k2 = _find(in_nbr, in_cnt, b, a)
            in_w[b, k2] = w
        return True
    cap = out_nbr.shape[1]
    if out_cnt[a] >= cap or in_cnt[b] >= cap:
        return False
    out_nbr[a, out_cnt[a]] = b
    out_w[a, out_cnt[a]] = w
    out_cnt[a] += 1
    in_nbr[b, in_cnt[b]] = a
    in_w[b, in_cnt[b]] = w
    in_cnt[b] += 1
    return True


@njit(cache=True, nogil=True)
def _remove(nbr, wts, cnt, a, b):
    k = _find(nbr, cnt, a, b)
    if k >= 0:
        last = cnt[a] - 1
        nbr[a, k] = nbr[a, last]
        wts[a, k] = wts[a, last]
        cnt[a] = last


@njit(cache=True, nogil=True)
def _witness(out_nbr, out_w, out_cnt, source, avoid, limit, dist, touched, hk, hn):
    """Bounded Dijkstra from source avoiding one node; returns the number touched."""
    n_touched = 0
    dist[source] = 0.0
    touched[n_touched] = source
    n_touched += 1
    size = 1
    hk[0] = 0.0
    hn[0] = source
    settled = 0
    cap = hk.shape[0]
    while size > 0 and settled < WITNESS_SETTLE_LIMIT:
        d, u, size = heap_pop(hk, hn, size)
        if d > dist[u]:
            continue
        if d > limit:
            break
        settled += 1
        for k in range(out_cnt[u]):
            v = out_nbr[u, k]
            if v == avoid:
                continue
            nd = d + out_w[u, k]
            if nd < dist[v] and nd <= limit:
                if dist[v] == np.inf:
                    touched[n_touched] = v
                    n_touched += 1
                dist[v] = nd
                if size < cap:
                    size = heap_push(hk, hn, size, nd, v)
    return n_touched


@njit(cache=True, nogil=True)
def _contract_node(
    v,
    out_nbr,
    out_w,
    out_cnt,
    in_nbr,
    in_w,
    in_cnt,
    dist,
    touched,
    hk,
    hn,
    sc_from,
    sc_to,
    sc_w,
):
    """Shortcuts needed to contract v, written to sc_from/sc_to/sc_w; returns their count."""
    n_sc = 0
    for a in range(in_cnt[v]):
        u = in_nbr[v, a]
        wu = in_w[v, a]
        limit = -1.0
        for b in range(out_cnt[v]):
            x = out_nbr[v, b]
            if x != u and wu + out_w[v, b] > limit:
                limit = wu + out_w[v, b]
        if limit < 0:
            continue
        nt = _witness(out_nbr, out_w, out_cnt, u, v, limit, dist, touched, hk, hn)
        for b in range(out_cnt[v]):
            x = out_nbr[v, b]
            if x == u:
                continue
            via = wu + out_w[v, b]
            if dist[x] > via:
                if n_sc >= sc_from.shape[0]:
                    n_sc += 1  # overflow: caller retries with more room
                    continue
                sc_from[n_sc] = u
                sc_to[n_sc] = x
                sc_w[n_sc] = via
                n_sc += 1
        for t in range(nt):
            dist[touched[t]] = np.inf
    return n_sc


@njit(cache=True, nogil=True)
def _build(n, tails, heads, weights, cap):
    out_nbr = np.empty((n, cap), dtype=np.int64)
    out_w = np.empty((n, cap), dtype=np.float64)
    out_cnt = np.zeros(n, dtype=np.int64)
    in_nbr = np.empty((n, cap), dtype=np.int64)
    in_w = np.empty((n, cap), dtype=np.float64)
    in_cnt = np.zeros(n, dtype=np.int64)
    ok = True
    for e in range(tails.shape[0]):
        if tails[e] != heads[e]:
            ok &= _add_arc(
                out_nbr, out_w, out_cnt, in_nbr, in_w, in_cnt, tails[e], heads[e], weights[e]
            )
    dist = np.full(n, np.inf)
    touched = np.empty(n, dtype=np.int64)
    hk = np.empty(WITNESS_SETTLE_LIMIT * cap + 1, dtype=np.float64)
    hn = np.empty(WITNESS_SETTLE_LIMIT * cap + 1, dtype=np.int64)
    sc_from = np.empty(cap * cap, dtype=np.int64)
    sc_to = np.empty(cap * cap, dtype=np.int64)
    sc_w = np.empty(cap * cap, dtype=np.float64)
    deleted = np.zeros(n, dtype=np.int64)
    contracted = np.zeros(n, dtype=np.bool_)
    rank = np.full(n, -1, dtype=np.int64)
    max_up = 8 * tails.shape[0] + 16
    up_from = np.empty(max_up, dtype=np.int64)
    up_to = np.empty(max_up, dtype=np.int64)
    up_w = np.empty(max_up, dtype=np.float64)
    up_fwd = np.empty(max_up, dtype=np.bool_)
    n_up = 0
    # priority heap (lazy)
    pk = np.empty(4 * n + 16, dtype=np.float64)
    pn = np.empty(4 * n + 16, dtype=np.int64)
    psize = 0
    for v in range(n):
        n_sc = _contract_node(
            v,
            out_nbr,
            out_w,
            out_cnt,
            in_nbr,
            in_w,
            in_cnt,
            dist,
            touched,
            hk,
            hn,
            sc_from,
            sc_to,
            sc_w,
        )
        prio = n_sc - in_cnt[v] - out_cnt[v]
        psize = heap_push(pk, pn, psize, prio, v)
    r = 0
    while psize > 0 and ok:
        _, v, psize = heap_pop(pk, pn, psize)
        if contracted[v]:
            continue
        n_sc = _contract_node(
            v,
            out_nbr,
            out_w,
            out_cnt,
            in_nbr,
            in_w,
            in_cnt,
            dist,
            touched,
            hk,
            hn,
            sc_from,
            sc_to,
            sc_w,
        )
        if n_sc > sc_from.shape[0]:
            ok = False
            break
        prio = n_sc - in_cnt[v] - out_cnt[v] + deleted[v]
        if psize > 0 and prio > pk[0]:
            if psize + 1 >= pk.shape[0]:
                ok = False
                break
            # lazy update: re-insert with the new priority
            psize = heap_push(pk, pn, psize, prio, v)
            continue
        # contract v: record its arcs to the remaining (higher) nodes, add shortcuts
        if n_up + out_cnt[v] + in_cnt[v] > max_up:
            ok = False
            break
        for k in range(out_cnt[v]):
            up_from[n_up] = v
            up_to[n_up] = out_nbr[v, k]
            up_w[n_up] = out_w[v, k]
            up_fwd[n_up] = True
            n_up += 1
        for k in range(in_cnt[v]):
            up_from[n_up] = v
            up_to[n_up] = in_nbr[v, k]
            up_w[n_up] = in_w[v, k]
            up_fwd[n_up] = False
            n_up += 1
        for s in range(n_sc):
            ok &= _add_arc(
                out_nbr, out_w, out_cnt, in_nbr, in_w, in_cnt, sc_from[s], sc_to[s], sc_w[s]
            )
        for k in range(out_cnt[v]):
            x = out_nbr[v, k]
            _remove(in_nbr, in_w, in_cnt, x, v)
            deleted[x] += 1
        for k in range(in_cnt[v]):
            u = in_nbr[v, k]
            _remove(out_nbr, out_w, out_cnt, u, v)
            deleted[u] += 1
        out_cnt[v] = 0
        in_cnt[v] = 0
        contracted[v] = True
        rank[v] = r
        r += 1
    return ok, rank, up_from[:n_up], up_to[:n_up], up_w[:n_up], up_fwd[:n_up]


def _csr(n: int, frm: npt.NDArray[np.int64], to: npt.NDArray[np.int64],
         w: npt.NDArray[np.float64]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64],
                                               npt.NDArray[np.float64]]:  # fmt: skip
    order = np.argsort(frm, kind="stable")
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.add.at(indptr, frm + 1, 1)
    return np.cumsum(indptr), to[order].astype(np.int64), w[order].astype(np.float64)


class ContractionHierarchy:
    """Upward graphs of a contracted directed graph, ready for many-to-many queries."""

    def __init__(self, n: int, tails: npt.NDArray[np.int64], heads: npt.NDArray[np.int64],
                 weights: npt.NDArray[np.float64]) -> None:  # fmt: skip
        warmup.wait()  # a first import's background compile, if under way
        cap = 32
        while True:
            ok, rank, frm, to, w, fwd = _build(n, tails.astype(np.int64), heads.astype(np.int64),
                                               weights.astype(np.float64), cap)  # fmt: skip
            if ok:
                break
            cap *= 2
        self.n = n
        self.rank = rank
        self.fwd = _csr(n, frm[fwd], to[fwd], w[fwd])
        self.bwd = _csr(n, frm[~fwd], to[~fwd], w[~fwd])
        self.n_shortcuts = int(len(frm) - len(tails))

    def many_to_many(
        self,
        src_ptr: npt.NDArray[np.int64], src_node: npt.NDArray[np.int64],
        src_cost: npt.NDArray[np.float64],
        dst_ptr: npt.NDArray[np.int64], dst_node: npt.NDArray[np.int64],
        dst_cost: npt.NDArray[np.float64],
        out: npt.NDArray[np.float64],
        row_range: tuple[int, int] | None = None,
        buckets: tuple[npt.NDArray[np.int64], npt.NDArray[np.int64],
                       npt.NDArray[np.float64]] | None = None,
    ) -> None:  # fmt: skip
        """Fill ``out[i, j]`` with the shortest weight from seed set i to seed set j.

        Origin i starts at nodes ``src_node[src_ptr[i]:src_ptr[i+1]]`` with initial
        costs ``src_cost[...]``; destination j ends at ``dst_node[...]`` plus
        ``dst_cost[...]``. ``out`` must hold ``inf`` where not yet known.
        """
        if buckets is None:
            buckets = self.buckets(dst_ptr, dst_node, dst_cost)
        a, b = row_range if row_range is not None else (0, len(src_ptr) - 1)
        _forward(self.rank, *self.fwd, src_ptr, src_node, src_cost, *buckets, out, a, b)

    def buckets(
        self, dst_ptr: npt.NDArray[np.int64], dst_node: npt.NDArray[np.int64],
        dst_cost: npt.NDArray[np.float64],
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float64]]:  # fmt: skip
        """Bucket entries of every destination's backward upward search, grouped by node."""
        node, target, dist = _backward(self.rank, *self.bwd, dst_ptr, dst_node, dst_cost)
        order = np.argsort(node, kind="stable")
        ptr = np.zeros(self.n + 1, dtype=np.int64)
        np.add.at(ptr, node + 1, 1)
        return np.cumsum(ptr), target[order], dist[order]


@njit(cache=True, nogil=True)
def _upward(rank, indptr, to, w, seeds, costs, dist, mark, hk, hn, order):
    """Upward search from seeds; nodes relaxed in rank order. Returns settled count."""
    size = 0
    for s in range(seeds.shape[0]):
        v = seeds[s]
        if not mark[v]:
            mark[v] = True
            dist[v] = costs[s]
            size = heap_push(hk, hn, size, rank[v], v)
        elif costs[s] < dist[v]:
            dist[v] = costs[s]
    n_settled = 0
    while size > 0:
        _, u, size = heap_pop(hk, hn, size)
        order[n_settled] = u
        n_settled += 1
        du = dist[u]
        for k in range(indptr[u], indptr[u + 1]):
            v = to[k]
            nd = du + w[k]
            if not mark[v]:
                mark[v] = True
                dist[v] = nd
                size = heap_push(hk, hn, size, rank[v], v)
            elif nd < dist[v]:
                dist[v] = nd
    return n_settled


@njit(cache=True, nogil=True)
def _backward(rank, indptr, to, w, dst_ptr, dst_node, dst_cost):
    n = rank.shape[0]
    dist = np.full(n, np.inf)
    mark = np.zeros(n, dtype=np.bool_)
    hk = np.empty(n, dtype=np.float64)
    hn = np.empty(n, dtype=np.int64)
    order = np.empty(n, dtype=np.int64)
    n_dst = dst_ptr.shape[0] - 1
    cap = 1024 + 64 * n_dst
    b_node = np.empty(cap, dtype=np.int64)
    b_target = np.empty(cap, dtype=np.int64)
    b_dist = np.empty(cap, dtype=np.float64)
    m = 0
    for j in range(n_dst):
        seeds = dst_node[dst_ptr[j] : dst_ptr[j + 1]]
        costs = dst_cost[dst_ptr[j] : dst_ptr[j + 1]]
        k = _upward(rank, indptr, to, w, seeds, costs, dist, mark, hk, hn, order)
        if m + k > cap:
            cap = 2 * (m + k)
            nb = np.empty(cap, dtype=np.int64)
            nb[:m] = b_node[:m]
            b_node = nb
            nt = np.empty(cap, dtype=np.int64)
            nt[:m] = b_target[:m]
            b_target = nt
            nd = np.empty(cap, dtype=np.float64)
            nd[:m] = b_dist[:m]
            b_dist = nd
        for t in range(k):
            u = order[t]
            b_node[m] = u
            b_target[m] = j
            b_dist[m] = dist[u]
            m += 1
            mark[u] = False
            dist[u] = np.inf
    return b_node[:m], b_target[:m], b_dist[:m]


@njit(cache=True, nogil=True)
def _forward(
    rank,
    indptr,
    to,
    w,
    src_ptr,
    src_node,
    src_cost,
    b_ptr,
    b_target,
    b_dist,
    out,
    row_a,
    row_b,
):
    n = rank.shape[0]
    dist = np.full(n, np.inf)
    mark = np.zeros(n, dtype=np.bool_)
    hk = np.empty(n, dtype=np.float64)
    hn = np.empty(n, dtype=np.int64)
    order = np.empty(n, dtype=np.int64)
    for i in range(row_a, row_b):
        seeds = src_node[src_ptr[i] : src_ptr[i + 1]]
        costs = src_cost[src_ptr[i] : src_ptr[i + 1]]
        k = _upward(rank, indptr, to, w, seeds, costs, dist, mark, hk, hn, order)
        row = out[i]
        for t in range(k):
            u = order[t]
            du = dist[u]
            for e in range(b_ptr[u], b_ptr[u + 1]):
                d = du + b_dist[e]
                j = b_target[e]
                if d < row[j]:
                    row[j] = d
            mark[u] = False
            dist[u] = np.inf
