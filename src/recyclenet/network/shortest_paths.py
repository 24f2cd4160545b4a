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

Parallelism
    Origins are cut into chunks solved by worker processes (fork), each reading only the
    destination columns; scipy's Dijkstra holds the GIL, so threads would not help.
"""

from __future__ import annotations

import multiprocessing as mp
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from .build import DURATION_RESOLUTION_S, LENGTH_RESOLUTION_M
from .snap import AT_NODE_M

if TYPE_CHECKING:
    from .road_network import RoadNetwork
    from .snap import SnappedPoints

DIST_BITS = 28
_SCALE = float(2**DIST_BITS)
_EXACT_LIMIT = float(2**53)
CHUNK_ROWS = 256
PARALLEL_MIN_ORIGINS = 300


def encode(duration_cs: npt.ArrayLike, distance_dm: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Pack integer centiseconds and decimetres into one exact float64 weight."""
    return np.asarray(duration_cs, dtype=np.float64) * _SCALE + np.asarray(distance_dm, np.float64)


def decode(weight: npt.NDArray[np.float64]) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Unpack weights into (duration_s, distance_m); inf stays inf."""
    finite = np.isfinite(weight)
    if finite.any() and weight[finite].max() >= _EXACT_LIMIT:
        raise OverflowError("path weight beyond exact float64 range (path over 93 h)")
    w = np.where(finite, weight, 0.0)
    dur_cs = np.floor(w / _SCALE)
    dist_dm = w - dur_cs * _SCALE
    duration_s = np.where(finite, dur_cs * DURATION_RESOLUTION_S, np.inf)
    distance_m = np.where(finite, dist_dm * LENGTH_RESOLUTION_M, np.inf)
    return duration_s, distance_m


def edge_units(network: RoadNetwork) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Per-edge integer (centiseconds, decimetres)."""
    dur = np.rint(network.edge_duration_s / DURATION_RESOLUTION_S).astype(np.int64)
    dist = np.rint(network.edge_length_m / LENGTH_RESOLUTION_M).astype(np.int64)
    return dur, dist


@dataclass(frozen=True, eq=False)
class AugmentedGraph:
    """The network plus one virtual node per origin and per destination."""

    csr: sp.csr_matrix
    origin_nodes: npt.NDArray[np.int64]
    destination_nodes: npt.NDArray[np.int64]
    arc_edge: dict[tuple[int, int], int]
    """(tail, head) of each real arc -> the network edge used (the cheapest parallel one)."""


def augmented_graph(
    network: RoadNetwork, origins: SnappedPoints, destinations: SnappedPoints
) -> AugmentedGraph:
    """Build the CSR graph with virtual origin and destination nodes."""
    n = network.n_nodes
    dur, dist = edge_units(network)
    n_o, n_d = len(origins.ids), len(destinations.ids)
    o_node = np.arange(n, n + n_o, dtype=np.int64)
    d_node = np.arange(n + n_o, n + n_o + n_d, dtype=np.int64)
    rows = [network.edge_u]
    cols = [network.edge_v]
    wts = [encode(dur, dist)]
    extra_r: list[int] = []
    extra_c: list[int] = []
    extra_w: list[float] = []

    def partial(e: int, share: float) -> float:
        return float(encode(round(share * dur[e]), round(share * dist[e])))

    on_edge: dict[int, list[tuple[int, float]]] = {}
    for i in range(n_o):
        for e, f in origins.placements(network, i):
            extra_r.append(int(o_node[i]))
            extra_c.append(int(network.edge_v[e]))
            extra_w.append(partial(e, 1.0 - f))
            if f * network.edge_length_m[e] < AT_NODE_M:
                extra_r.append(int(o_node[i]))
                extra_c.append(int(network.edge_u[e]))
                extra_w.append(0.0)
            on_edge.setdefault(e, []).append((i, f))
    for j in range(n_d):
        for e, f in destinations.placements(network, j):
            extra_r.append(int(network.edge_u[e]))
            extra_c.append(int(d_node[j]))
            extra_w.append(partial(e, f))
            if (1.0 - f) * network.edge_length_m[e] < AT_NODE_M:
                extra_r.append(int(network.edge_v[e]))
                extra_c.append(int(d_node[j]))
                extra_w.append(0.0)
            for i, f_o in on_edge.get(e, ()):
                if f >= f_o:
                    extra_r.append(int(o_node[i]))
                    extra_c.append(int(d_node[j]))
                    extra_w.append(partial(e, f - f_o))
    rows.append(np.asarray(extra_r, dtype=np.int64))
    cols.append(np.asarray(extra_c, dtype=np.int64))
    wts.append(np.asarray(extra_w, dtype=np.float64))
    r, c, w = np.concatenate(rows), np.concatenate(cols), np.concatenate(wts)
    # Keep the cheapest of parallel arcs: a sparse matrix would add them up.
    order = np.lexsort((w, c, r))
    r, c, w = r[order], c[order], w[order]
    first = np.ones(len(r), dtype=bool)
    first[1:] = (r[1:] != r[:-1]) | (c[1:] != c[:-1])
    edge_of = np.full(len(order), -1, dtype=np.int64)
    real = order < network.n_edges
    edge_of[real] = order[real]
    arc_edge = {
        (int(a), int(b)): int(e)
        for a, b, e in zip(r[first], c[first], edge_of[first])
        if e >= 0
    }
    size = n + n_o + n_d
    csr = sp.csr_matrix((w[first], (r[first], c[first])), shape=(size, size))
    return AugmentedGraph(csr=csr, origin_nodes=o_node, destination_nodes=d_node,
                          arc_edge=arc_edge)  # fmt: skip


_WORKER_GRAPH: sp.csr_matrix | None = None


def _init_worker(graph: sp.csr_matrix) -> None:
    global _WORKER_GRAPH
    _WORKER_GRAPH = graph


def _solve_chunk(sources: npt.NDArray[np.int64], targets: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
    assert _WORKER_GRAPH is not None
    return np.asarray(dijkstra(_WORKER_GRAPH, directed=True, indices=sources)[:, targets])


def many_to_many(
    csr: sp.csr_matrix,
    sources: npt.NDArray[np.int64],
    targets: npt.NDArray[np.int64],
    *,
    workers: int | None = None,
) -> npt.NDArray[np.float64]:
    """Shortest-path weights from every source node to every target node.

    Parameters
    ----------
    workers : int or None
        Processes to use; None uses every core when there are at least
        ``PARALLEL_MIN_ORIGINS`` sources (below that, starting processes costs more).
    """
    if workers is None:
        workers = (os.cpu_count() or 1) if len(sources) >= PARALLEL_MIN_ORIGINS else 1
    out = np.empty((len(sources), len(targets)), dtype=np.float64)
    bounds = list(range(0, len(sources), CHUNK_ROWS)) + [len(sources)]
    if workers <= 1 or len(bounds) <= 2 or "fork" not in mp.get_all_start_methods():
        for a, b in zip(bounds[:-1], bounds[1:]):
            out[a:b] = dijkstra(csr, directed=True, indices=sources[a:b])[:, targets]
        return out
    # Even split so both cores finish together.
    n_chunks = max(workers, -(-len(sources) // CHUNK_ROWS))
    n_chunks += (-n_chunks) % workers
    bounds = np.linspace(0, len(sources), n_chunks + 1).astype(int).tolist()
    ctx = mp.get_context("fork")
    with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init_worker,
                             initargs=(csr,)) as pool:  # fmt: skip
        futures = [(a, b, pool.submit(_solve_chunk, sources[a:b], targets))
                   for a, b in zip(bounds[:-1], bounds[1:]) if b > a]  # fmt: skip
        for a, b, fut in futures:
            out[a:b] = fut.result()
    return out


def path_nodes(
    csr: sp.csr_matrix, source: int, target: int
) -> tuple[float, list[int]]:
    """Weight and node sequence of the fastest path (empty list if unreachable)."""
    dist, pred = dijkstra(csr, directed=True, indices=source, return_predecessors=True)
    if not np.isfinite(dist[target]):
        return float("inf"), []
    nodes = [target]
    while nodes[-1] != source:
        nodes.append(int(pred[nodes[-1]]))
    return float(dist[target]), nodes[::-1]
