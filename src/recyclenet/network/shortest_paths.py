"""Many-to-many fastest paths between snapped points, on both cores.

Time and distance in one Dijkstra
    Each edge weight packs integer centiseconds and decimetres into one float64:
    ``w = duration_cs * 2**28 + distance_dm``. Sums of such integers are exact in float64
    below 2**53, so one scipy Dijkstra run minimises travel time, breaks ties by distance,
    and gives back both the time and the length of the fastest path exactly (paths up to
    26,843 km and 93 h).

Points on edges
    Every origin and destination becomes a virtual node joined to the ends of the edge it
    stands on by partial edges (a fraction of the edge's time and length), so one
    Dijkstra per origin is exact for points between intersections, and a point on a
    one-way street can only leave forwards. Two points on the same edge get a direct
    partial edge.

Search
    A compiled Dijkstra (``_dijkstra.py``, numba) stops each search once every
    destination is settled; origins are cut into chunks run by threads on every core.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from . import warmup
from ._dijkstra import search_rows
from .build import DURATION_RESOLUTION_S, LENGTH_RESOLUTION_M
from .snap import AT_NODE_M

if TYPE_CHECKING:
    from .road_network import RoadNetwork
    from .snap import SnappedPoints

DIST_BITS = 28
_SCALE = float(2**DIST_BITS)
_EXACT_LIMIT = float(2**53)
CHUNK_ROWS = 256
PARALLEL_MIN_ORIGINS = 64


def encode(duration_cs: npt.ArrayLike, distance_dm: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Pack integer centiseconds and decimetres into one exact float64 weight."""
    return np.asarray(duration_cs, dtype=np.float64) * _SCALE + np.asarray(distance_dm, np.float64)


def decode(
    weight: npt.NDArray[np.float64],
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Unpack weights into (duration_s, distance_m); inf stays inf. Consumes ``weight``.

    Works in place on ``weight`` (which becomes distance_m) to keep peak memory at
    two arrays for large matrices.
    """
    finite = np.isfinite(weight)
    if finite.any() and weight[finite].max() >= _EXACT_LIMIT:
        raise OverflowError("path weight beyond exact float64 range (path over 93 h)")
    duration = np.floor(weight / _SCALE)  # inf stays inf
    weight -= np.where(finite, duration * _SCALE, 0.0)  # now decimetres (inf where unreachable)
    duration *= DURATION_RESOLUTION_S
    weight *= LENGTH_RESOLUTION_M
    return duration, weight


def edge_units(network: RoadNetwork) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Per-edge integer (centiseconds, decimetres)."""
    dur = np.rint(network.edge_duration_s / DURATION_RESOLUTION_S).astype(np.int64)
    dist = np.rint(network.edge_length_m / LENGTH_RESOLUTION_M).astype(np.int64)
    return dur, dist


Seeds = tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float64]]
"""(ptr, node, cost): point i starts (or ends) at ``node[ptr[i]:ptr[i+1]]`` at ``cost``."""


def point_seeds(network: RoadNetwork, points: SnappedPoints, *, as_origin: bool) -> Seeds:
    """Graph nodes where each point's trips start (origin) or end (destination), with costs.

    A point on edge u→v at fraction f leaves through v at (1-f) of the edge, or arrives
    from u at f of it; its twin edge gives the other direction. A point within
    ``AT_NODE_M`` of an edge end also stands on that node at no cost. (Node graph; see
    :func:`turn_point_seeds` for the turn graph.)
    """
    dur, dist = edge_units(network)
    ptr = [0]
    nodes: list[int] = []
    costs: list[float] = []
    for i in range(len(points.ids)):
        for e, f in points.placements(network, i):
            share = 1.0 - f if as_origin else f
            nodes.append(int(network.edge_v[e] if as_origin else network.edge_u[e]))
            costs.append(float(encode(round(share * dur[e]), round(share * dist[e]))))
            if (1.0 - share) * network.edge_length_m[e] < AT_NODE_M:
                nodes.append(int(network.edge_u[e] if as_origin else network.edge_v[e]))
                costs.append(0.0)
        ptr.append(len(nodes))
    return (np.asarray(ptr, dtype=np.int64), np.asarray(nodes, dtype=np.int64),
            np.asarray(costs, dtype=np.float64))  # fmt: skip


def turn_point_seeds(network: RoadNetwork, points: SnappedPoints, *, as_origin: bool) -> Seeds:
    """Turn-graph nodes (edges) where each point's trips start or end, with costs.

    An origin on edge e at fraction f pays (1-f) of e and continues into each allowed
    successor of e; standing on e's tail node, it may also take any edge leaving that
    node at no cost. A destination on e at f is reached by entering e plus f of it;
    standing on e's head node, also by driving the whole of any edge entering that node.
    Without banned turns this gives exactly the node-graph weights.
    """
    ptr, nodes, costs, _, _ = _turn_seeds(network, points, as_origin=as_origin)
    return ptr, nodes, costs


def _turn_seeds(
    network: RoadNetwork, points: SnappedPoints, *, as_origin: bool
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float64],
           npt.NDArray[np.int64], npt.NDArray[np.float64]]:  # fmt: skip
    """Seeds plus, for each, the edge driven in part (-1: none) and the fraction at the point."""
    tg = network.turn_graph
    dur, dist = edge_units(network)
    ptr = [0]
    nodes: list[int] = []
    costs: list[float] = []
    part_edge: list[int] = []
    part_frac: list[float] = []

    def add(targets: list[int], cost: list[float], edge: int, frac: float) -> None:
        nodes.extend(targets)
        costs.extend(cost)
        part_edge.extend([edge] * len(targets))
        part_frac.extend([frac] * len(targets))

    for i in range(len(points.ids)):
        for e, f in points.placements(network, i):
            length = network.edge_length_m[e]
            if as_origin:
                cost = float(encode(round((1.0 - f) * dur[e]), round((1.0 - f) * dist[e])))
                nxt = tg.successors(e).tolist()
                add(nxt, [cost] * len(nxt), e, f)
                if f * length < AT_NODE_M:
                    out = tg.leaving(int(network.edge_u[e])).tolist()
                    add(out, [0.0] * len(out), -1, 0.0)
            else:  # entering e (or a chain's copy of e: the same edge, other history)
                on = tg.nodes_of(e).tolist()
                add(on, [float(encode(round(f * dur[e]), round(f * dist[e])))] * len(on), e, f)
                if (1.0 - f) * length < AT_NODE_M:
                    for e2 in tg.entering(int(network.edge_v[e])).tolist():
                        on2 = tg.nodes_of(e2).tolist()
                        add(on2, [float(encode(dur[e2], dist[e2]))] * len(on2), e2, 1.0)
        ptr.append(len(nodes))
    return (np.asarray(ptr, dtype=np.int64), np.asarray(nodes, dtype=np.int64),
            np.asarray(costs, dtype=np.float64), np.asarray(part_edge, dtype=np.int64),
            np.asarray(part_frac, dtype=np.float64))  # fmt: skip


def same_edge_costs(
    network: RoadNetwork, origins: SnappedPoints, destinations: SnappedPoints
) -> list[tuple[int, int, float]]:
    """(origin, destination, weight) for pairs on one edge, destination ahead of origin."""
    dur, dist = edge_units(network)
    o_pt, o_edge, o_frac = _placement_arrays(network, origins)
    d_pt, d_edge, d_frac = _placement_arrays(network, destinations)
    shared = np.intersect1d(o_edge, d_edge)
    rows: list[npt.NDArray[np.int64]] = []
    cols: list[npt.NDArray[np.int64]] = []
    wts: list[npt.NDArray[np.float64]] = []
    for e in shared.tolist():
        a = np.nonzero(o_edge == e)[0]
        b = np.nonzero(d_edge == e)[0]
        share = d_frac[b][None, :] - o_frac[a][:, None]
        ii, jj = np.nonzero(share >= 0)
        s = share[ii, jj]
        rows.append(o_pt[a][ii])
        cols.append(d_pt[b][jj])
        wts.append(encode(np.round(s * dur[e]), np.round(s * dist[e])))
    if not rows:
        return []
    return list(zip(np.concatenate(rows).tolist(), np.concatenate(cols).tolist(),
                    np.concatenate(wts).tolist()))  # fmt: skip


def _placement_arrays(
    network: RoadNetwork, points: SnappedPoints
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """(point, edge, fraction) for every edge each point stands on (edge and twin)."""
    idx = np.arange(len(points.ids), dtype=np.int64)
    twin = network.edge_twin[points.edge]
    has = twin >= 0
    return (np.concatenate([idx, idx[has]]), np.concatenate([points.edge, twin[has]]),
            np.concatenate([points.fraction, 1.0 - points.fraction[has]]))  # fmt: skip


def matrix_weights(
    network: RoadNetwork,
    origins: SnappedPoints,
    destinations: SnappedPoints,
    *,
    workers: int | None = None,
) -> npt.NDArray[np.float64]:
    """Packed fastest-path weights between snapped points (contraction hierarchy query).

    On a network with turn restrictions the hierarchy and the seeds are those of the
    turn graph (:mod:`.turns`), so banned turns are never taken. While the numba kernels
    are not in numba's cache yet (the first use after an install, see :mod:`.warmup`),
    :func:`dijkstra_weights` gives the same weights without compiling anything.

    Parameters
    ----------
    workers : int or None
        Threads for the origin searches (the kernels release the GIL); None uses every
        core when there are at least ``PARALLEL_MIN_ORIGINS`` origins.
    """
    if warmup.compiling():  # first use after an install: no compile wait
        return dijkstra_weights(network, origins, destinations, workers=workers)
    ch = network.contraction_hierarchy
    seeds = turn_point_seeds if network.has_turn_restrictions else point_seeds
    o_ptr, o_node, o_cost = seeds(network, origins, as_origin=True)
    d_ptr, d_node, d_cost = seeds(network, destinations, as_origin=False)
    n_o, n_d = len(origins.ids), len(destinations.ids)
    out = np.full((n_o, n_d), np.inf, dtype=np.float64)
    for i, j, w in same_edge_costs(network, origins, destinations):
        out[i, j] = min(out[i, j], w)
    buckets = ch.buckets(d_ptr, d_node, d_cost)
    if workers is None:
        workers = (os.cpu_count() or 1) if n_o >= PARALLEL_MIN_ORIGINS else 1
    workers = max(1, min(int(workers), n_o))
    bounds = np.linspace(0, n_o, workers + 1).astype(int)

    def run(k: int) -> None:
        rows = (int(bounds[k]), int(bounds[k + 1]))
        ch.many_to_many(o_ptr, o_node, o_cost, d_ptr, d_node, d_cost, out,
                        row_range=rows, buckets=buckets)  # fmt: skip

    if workers == 1:
        run(0)
    else:
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(run, range(workers)))
    return out


def dijkstra_weights(
    network: RoadNetwork,
    origins: SnappedPoints,
    destinations: SnappedPoints,
    *,
    workers: int | None = None,
) -> npt.NDArray[np.float64]:
    """The weights of :func:`matrix_weights`, exactly, by scipy's Dijkstra from every
    origin on the graph with virtual point nodes (:func:`augmented_graph`, or
    :func:`turn_augmented_graph` with turn restrictions): no compiled kernel, so no
    compile wait; slower than the hierarchy on large networks and matrices."""
    graph = (turn_augmented_graph if network.has_turn_restrictions
             else augmented_graph)(network, origins, destinations)  # fmt: skip
    n_o, n_d = len(origins.ids), len(destinations.ids)
    out = np.full((n_o, n_d), np.inf, dtype=np.float64)
    if n_o == 0 or n_d == 0:
        return out
    # rows per search: a few tens of MB of full distance rows at a time
    rows = max(1, min(CHUNK_ROWS, int(2e7) // graph.csr.shape[0]))
    bounds = [*range(0, n_o, rows), n_o]

    def run(k: int) -> None:
        a, b = bounds[k], bounds[k + 1]
        dist = dijkstra(graph.csr, directed=True, indices=graph.origin_nodes[a:b])
        out[a:b] = dist[:, graph.destination_nodes]

    if workers is None:
        workers = (os.cpu_count() or 1) if n_o >= PARALLEL_MIN_ORIGINS else 1
    workers = max(1, min(int(workers), len(bounds) - 1))
    if workers == 1:
        for k in range(len(bounds) - 1):
            run(k)
    else:
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(run, range(len(bounds) - 1)))
    return out


@dataclass(frozen=True, eq=False)
class AugmentedGraph:
    """The network plus one virtual node per origin and per destination (for paths)."""

    csr: sp.csr_matrix
    origin_nodes: npt.NDArray[np.int64]
    destination_nodes: npt.NDArray[np.int64]
    arc_edge: dict[tuple[int, int], int]
    """(tail, head) of each real arc -> the network edge used (the cheapest parallel one)."""


def augmented_graph(
    network: RoadNetwork, origins: SnappedPoints, destinations: SnappedPoints
) -> AugmentedGraph:
    """CSR graph with virtual origin and destination nodes joined by their seeds."""
    n = network.n_nodes
    dur, dist = edge_units(network)
    n_o, n_d = len(origins.ids), len(destinations.ids)
    o_node = np.arange(n, n + n_o, dtype=np.int64)
    d_node = np.arange(n + n_o, n + n_o + n_d, dtype=np.int64)
    o_ptr, o_seed, o_cost = point_seeds(network, origins, as_origin=True)
    d_ptr, d_seed, d_cost = point_seeds(network, destinations, as_origin=False)
    direct = same_edge_costs(network, origins, destinations)
    r = np.concatenate(
        [
            network.edge_u,
            np.repeat(o_node, np.diff(o_ptr)),
            d_seed,
            np.array([o_node[i] for i, _, _ in direct], dtype=np.int64),
        ]
    )
    c = np.concatenate(
        [
            network.edge_v,
            o_seed,
            np.repeat(d_node, np.diff(d_ptr)),
            np.array([d_node[j] for _, j, _ in direct], dtype=np.int64),
        ]
    )
    w = np.concatenate([encode(dur, dist), o_cost, d_cost,
                        np.array([x for _, _, x in direct], dtype=np.float64)])  # fmt: skip
    # Keep the cheapest of parallel arcs: a sparse matrix would add them up.
    order = np.lexsort((w, c, r))
    r, c, w = r[order], c[order], w[order]
    first = np.ones(len(r), dtype=bool)
    first[1:] = (r[1:] != r[:-1]) | (c[1:] != c[:-1])
    edge_of = np.where(order < network.n_edges, order, -1)
    arc_edge = {
        (int(a), int(b)): int(e) for a, b, e in zip(r[first], c[first], edge_of[first]) if e >= 0
    }
    size = n + n_o + n_d
    csr = sp.csr_matrix((w[first], (r[first], c[first])), shape=(size, size))
    return AugmentedGraph(csr=csr, origin_nodes=o_node, destination_nodes=d_node,
                          arc_edge=arc_edge)  # fmt: skip


@dataclass(frozen=True, eq=False)
class TurnAugmentedGraph:
    """The turn graph plus one virtual node per origin and per destination (for paths).

    Nodes ``0..n_edges-1`` are the network's directed edges ("at the start of edge e");
    an arc e→f drives the whole of e. ``origin_part[(o, f)]`` is the (edge, fraction) an
    origin drives in part before turning into f (edge -1: none, the point is on the node);
    ``destination_part[(e, d)]`` the fraction of e driven to reach destination d.
    """

    csr: sp.csr_matrix
    origin_nodes: npt.NDArray[np.int64]
    destination_nodes: npt.NDArray[np.int64]
    origin_part: dict[tuple[int, int], tuple[int, float]]
    destination_part: dict[tuple[int, int], float]
    direct: dict[tuple[int, int], tuple[int, float, float]]
    """(origin node, destination node) on one edge -> (edge, from fraction, to fraction)."""


def turn_augmented_graph(
    network: RoadNetwork, origins: SnappedPoints, destinations: SnappedPoints
) -> TurnAugmentedGraph:
    """CSR turn graph with virtual origin and destination nodes joined by their seeds."""
    tg = network.turn_graph
    n = tg.n
    n_o, n_d = len(origins.ids), len(destinations.ids)
    o_node = np.arange(n, n + n_o, dtype=np.int64)
    d_node = np.arange(n + n_o, n + n_o + n_d, dtype=np.int64)
    o_ptr, o_seed, o_cost, o_edge, o_frac = _turn_seeds(network, origins, as_origin=True)
    d_ptr, d_seed, d_cost, d_edge, d_frac = _turn_seeds(network, destinations, as_origin=False)
    direct = same_edge_costs(network, origins, destinations)
    o_rep = np.repeat(o_node, np.diff(o_ptr))
    d_rep = np.repeat(d_node, np.diff(d_ptr))
    direct_r = np.array([o_node[i] for i, _, _ in direct], dtype=np.int64)
    direct_c = np.array([d_node[j] for _, j, _ in direct], dtype=np.int64)
    r = np.concatenate([tg.tails, o_rep, d_seed, direct_r])
    c = np.concatenate([tg.heads, o_seed, d_rep, direct_c])
    w = np.concatenate([tg.weights, o_cost, d_cost,
                        np.array([x for _, _, x in direct], dtype=np.float64)])  # fmt: skip
    kind = np.concatenate([np.zeros(tg.n_arcs, np.int8), np.ones(len(o_seed), np.int8),
                           np.full(len(d_seed), 2, np.int8),
                           np.full(len(direct), 3, np.int8)])  # fmt: skip
    edge = np.concatenate([np.full(tg.n_arcs, -1), o_edge, d_edge, np.full(len(direct), -1)])
    frac = np.concatenate([np.zeros(tg.n_arcs), o_frac, d_frac, np.zeros(len(direct))])
    order = np.lexsort((w, c, r))
    r, c, w, kind, edge, frac = r[order], c[order], w[order], kind[order], edge[order], frac[order]
    first = np.ones(len(r), dtype=bool)
    first[1:] = (r[1:] != r[:-1]) | (c[1:] != c[:-1])
    origin_part: dict[tuple[int, int], tuple[int, float]] = {}
    destination_part: dict[tuple[int, int], float] = {}
    for a, b, k, e, f in zip(r[first].tolist(), c[first].tolist(), kind[first].tolist(),
                             edge[first].tolist(), frac[first].tolist()):  # fmt: skip
        if k == 1:
            origin_part[(a, b)] = (e, f)
        elif k == 2:
            destination_part[(a, b)] = f
    direct_part: dict[tuple[int, int], tuple[int, float, float]] = {}
    o_pt, o_e, o_f = _placement_arrays(network, origins)
    d_pt, d_e, d_f = _placement_arrays(network, destinations)
    for i, j, _ in direct:
        for e, fo in zip(o_e[o_pt == i].tolist(), o_f[o_pt == i].tolist()):
            for e2, fd in zip(d_e[d_pt == j].tolist(), d_f[d_pt == j].tolist()):
                if e == e2 and fd >= fo and (int(o_node[i]), int(d_node[j])) not in direct_part:
                    direct_part[(int(o_node[i]), int(d_node[j]))] = (e, fo, fd)
    size = n + n_o + n_d
    csr = sp.csr_matrix((w[first], (r[first], c[first])), shape=(size, size))
    return TurnAugmentedGraph(csr=csr, origin_nodes=o_node, destination_nodes=d_node,
                              origin_part=origin_part, destination_part=destination_part,
                              direct=direct_part)  # fmt: skip


def many_to_many(
    csr: sp.csr_matrix,
    sources: npt.NDArray[np.int64],
    targets: npt.NDArray[np.int64],
    *,
    workers: int | None = None,
) -> npt.NDArray[np.float64]:
    """Plain Dijkstra from every source node to every target node (compiled kernel).

    The reference the contraction hierarchy is tested against.
    """
    if workers is None:
        workers = (os.cpu_count() or 1) if len(sources) >= PARALLEL_MIN_ORIGINS else 1
    workers = max(1, int(workers))
    out = np.full((len(sources), len(targets)), np.inf, dtype=np.float64)
    if len(sources) == 0 or len(targets) == 0:
        return out
    warmup.wait()  # a first import's background compile, if under way
    slot = np.full(csr.shape[0], -1, dtype=np.int64)
    slot[targets] = np.arange(len(targets))
    indptr = csr.indptr.astype(np.int64)
    indices = csr.indices.astype(np.int64)
    weights = csr.data.astype(np.float64)
    sources = np.asarray(sources, dtype=np.int64)
    n_chunks = min(len(sources), max(workers, -(-len(sources) // CHUNK_ROWS)))
    bounds = np.linspace(0, len(sources), n_chunks + 1).astype(int)

    def run(k: int) -> None:
        a, b = bounds[k], bounds[k + 1]
        search_rows(indptr, indices, weights, sources[a:b], slot, out[a:b])

    if workers == 1 or n_chunks == 1:
        for k in range(n_chunks):
            run(k)
    else:
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(run, range(n_chunks)))
    return out


def shortest_tree(
    csr: sp.csr_matrix, source: int
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int32]]:
    """Weights and predecessors of the shortest-path tree from one node (scipy)."""
    dist, pred = dijkstra(csr, directed=True, indices=source, return_predecessors=True)
    return np.asarray(dist), np.asarray(pred)
