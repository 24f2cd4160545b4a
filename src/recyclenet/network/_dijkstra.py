"""Compiled many-to-many Dijkstra (numba): binary heap, stop when every target is settled.

scipy's ``csgraph.dijkstra`` uses a Fibonacci heap, always settles the whole graph and
holds the GIL. For a matrix we only need the target columns, so this kernel stops a
search as soon as all targets are settled, uses a flat binary heap with lazy deletion,
and releases the GIL so threads run searches on every core. It is checked against
networkx and scipy in the tests.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numba import njit

from ._heap import heap_pop, heap_push


@njit(cache=True, nogil=True)
def _search(
    indptr,
    indices,
    weights,
    source,
    target_slot,
    n_targets,
    out_row,
    dist,
    done,
    heap_key,
    heap_node,
):
    dist[:] = np.inf
    done[:] = False
    size = 1
    heap_key[0] = 0.0
    heap_node[0] = source
    dist[source] = 0.0
    remaining = n_targets
    while size > 0 and remaining > 0:
        d, u, size = heap_pop(heap_key, heap_node, size)
        if done[u]:
            continue
        done[u] = True
        slot = target_slot[u]
        if slot >= 0:
            out_row[slot] = d
            remaining -= 1
        for k in range(indptr[u], indptr[u + 1]):
            v = indices[k]
            nd = d + weights[k]
            if nd < dist[v]:
                dist[v] = nd
                size = heap_push(heap_key, heap_node, size, nd, v)


@njit(cache=True, nogil=True)
def _search_many(indptr, indices, weights, sources, target_slot, n_targets, out):
    # Work arrays are allocated once per chunk: fresh large arrays per search would
    # cost page faults that dominate the search itself.
    n = indptr.shape[0] - 1
    dist = np.empty(n, dtype=np.float64)
    done = np.empty(n, dtype=np.bool_)
    heap_key = np.empty(indices.shape[0] + 1, dtype=np.float64)
    heap_node = np.empty(indices.shape[0] + 1, dtype=np.int64)
    for r in range(sources.shape[0]):
        _search(
            indptr,
            indices,
            weights,
            sources[r],
            target_slot,
            n_targets,
            out[r],
            dist,
            done,
            heap_key,
            heap_node,
        )


def search_rows(
    indptr: npt.NDArray[np.int32],
    indices: npt.NDArray[np.int32],
    weights: npt.NDArray[np.float64],
    sources: npt.NDArray[np.int64],
    target_slot: npt.NDArray[np.int64],
    out: npt.NDArray[np.float64],
) -> None:
    """Fill ``out[r, target_slot[node]]`` with the path weight from ``sources[r]``.

    ``out`` must be pre-filled with ``inf`` (unreached targets stay ``inf``); every
    target node has a distinct slot, other nodes have ``-1``. Releases the GIL.
    """
    n_targets = int((target_slot >= 0).sum())
    _search_many(indptr, indices, weights, sources, target_slot, n_targets, out)
