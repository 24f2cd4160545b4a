"""Matrix speed: recyclenet's build_matrix against the usual osmnx/networkx approach.

Usage::

    python benchmarks/matrix.py ../shared/osm/campo-grande.osm.gz [--n 1000] [--big 5000]

Points are random graph nodes (seeded), so the networkx baseline (a loop of
``networkx.single_source_dijkstra_path_length`` per origin over the same edge travel
times) computes exactly the same matrix; the script checks that they are equal and
prints times and ratios measured in this run. recyclenet's first call on a network
includes building its contraction hierarchy (once per network and profile); the next
row is a call on the prepared network, the steady state of a planning service. A plain
``scipy.sparse.csgraph.dijkstra`` over all origins on one core is a second reference.
The last row times a ``--big`` x ``--big`` matrix and reports peak memory.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time

import networkx as nx
import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from recyclenet import Points, RoadNetwork, build_matrix, load_network


def _points(net: RoadNetwork, nodes: np.ndarray, prefix: str) -> Points:
    ids = tuple(f"{prefix}{int(n)}" for n in nodes)
    return Points(ids, net.node_lon[nodes], net.node_lat[nodes])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("network", help="OSM file, e.g. ../shared/osm/campo-grande.osm.gz")
    parser.add_argument("--n", type=int, default=1000, help="origins = destinations (default 1000)")
    parser.add_argument("--big", type=int, default=5000, help="size of the large run (0: skip)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args()

    t = time.perf_counter()
    net = load_network(args.network)
    t_load = time.perf_counter() - t
    print(f"network {args.network}: {net.n_nodes} nodes, {net.n_edges} edges, "
          f"loaded in {t_load:.2f} s")  # fmt: skip
    rng = np.random.default_rng(args.seed)
    n = min(args.n, net.n_nodes)
    o_nodes = rng.choice(net.n_nodes, n, replace=False)
    d_nodes = rng.choice(net.n_nodes, n, replace=False)
    origins, dests = _points(net, o_nodes, "o"), _points(net, d_nodes, "d")

    # Baseline: the usual osmnx approach (a MultiDiGraph, as osmnx builds) on the same
    # weights; then the same loop on a plain DiGraph, which networkx walks faster.
    multi = net.to_networkx()
    simple = nx.DiGraph()
    for u, v, w in zip(net.edge_u.tolist(), net.edge_v.tolist(), net.edge_duration_s.tolist()):
        if not simple.has_edge(u, v) or simple[u][v]["duration_s"] > w:
            simple.add_edge(u, v, duration_s=w)
    d_list = d_nodes.tolist()

    def nx_loop(graph: nx.DiGraph) -> tuple[np.ndarray, float]:
        t0 = time.perf_counter()
        out = np.full((n, n), np.inf)
        for i, s in enumerate(o_nodes.tolist()):
            lengths = nx.single_source_dijkstra_path_length(graph, s, weight="duration_s")
            out[i] = [lengths.get(d, np.inf) for d in d_list]
        return out, time.perf_counter() - t0

    base, t_nx = nx_loop(multi)
    base_simple, t_simple = nx_loop(simple)
    assert np.array_equal(base, base_simple)

    csr = sp.csr_matrix((net.edge_duration_s, (net.edge_u, net.edge_v)),
                        shape=(net.n_nodes, net.n_nodes))  # fmt: skip
    t = time.perf_counter()
    ref = dijkstra(csr, indices=o_nodes)[:, d_nodes]
    t_scipy = time.perf_counter() - t
    del ref

    t = time.perf_counter()
    ours = build_matrix(net, origins, dests, workers=args.workers)
    t_first = time.perf_counter() - t  # includes the contraction hierarchy preprocessing
    t = time.perf_counter()
    ours = build_matrix(net, origins, dests, workers=args.workers)
    t_ours = time.perf_counter() - t
    equal = bool(np.allclose(ours.duration_s, base, rtol=0, atol=1e-6))
    max_diff = float(np.nanmax(np.abs(ours.duration_s - base)))

    rows = [
        ("networkx loop, MultiDiGraph", t_nx, 1.0, "baseline (osmnx graph type)"),
        ("networkx loop, DiGraph", t_simple, t_simple / t_nx, "same result"),
        ("scipy dijkstra, 1 core", t_scipy, t_scipy / t_nx, "-"),
        ("recyclenet, first call", t_first, t_first / t_nx, "incl. CH preprocessing"),
        ("recyclenet build_matrix", t_ours, t_ours / t_nx,
         f"equal={equal} (max |diff| {max_diff:.2e} s)"),
    ]  # fmt: skip
    print(f"\n{n} x {n} matrix (duration_s and distance_m)")
    print(f"{'method':<28}{'time s':>10}{'vs baseline':>14}  check")
    for name, secs, ratio, check in rows:
        print(f"{name:<28}{secs:>10.3f}{'1/' + format(1 / ratio, '.0f'):>14}  {check}")

    if args.big:
        k = min(args.big, net.n_nodes)
        bo = rng.choice(net.n_nodes, k, replace=False)
        bd = rng.choice(net.n_nodes, k, replace=False)
        t = time.perf_counter()
        big = build_matrix(net, _points(net, bo, "o"), _points(net, bd, "d"), workers=args.workers)
        t_big = time.perf_counter() - t
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"\n{k} x {k} matrix: {t_big:.2f} s; peak RSS of the process {peak_mb:.0f} MB "
              "(whole run, networkx graphs included); result arrays "
              f"{(big.duration_s.nbytes + big.distance_m.nbytes) / 2**20:.0f} MB")  # fmt: skip
    return 0 if equal else 1


if __name__ == "__main__":
    sys.exit(main())
