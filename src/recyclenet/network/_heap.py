"""A binary min-heap on two parallel arrays (keys, nodes), for the numba kernels.

Callers own the arrays and the size; lazy deletion (a node may be pushed again with a
smaller key) is the caller's business.
"""

from __future__ import annotations

from numba import njit


@njit(cache=True, nogil=True, inline="always")
def heap_push(keys, nodes, size, key, node):
    """Insert (key, node); returns the new size."""
    i = size
    while i > 0:
        parent = (i - 1) // 2
        if keys[parent] <= key:
            break
        keys[i] = keys[parent]
        nodes[i] = nodes[parent]
        i = parent
    keys[i] = key
    nodes[i] = node
    return size + 1


@njit(cache=True, nogil=True, inline="always")
def heap_pop(keys, nodes, size):
    """Remove the smallest item; returns (key, node, new size). ``size`` must be > 0."""
    top_key = keys[0]
    top_node = nodes[0]
    size -= 1
    if size > 0:
        key = keys[size]
        node = nodes[size]
        i = 0
        while True:
            child = 2 * i + 1
            if child >= size:
                break
            if child + 1 < size and keys[child + 1] < keys[child]:
                child += 1
            if keys[child] >= key:
                break
            keys[i] = keys[child]
            nodes[i] = nodes[child]
            i = child
        keys[i] = key
        nodes[i] = node
    return top_key, top_node, size
