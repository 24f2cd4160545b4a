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

``--turns`` adds the turn-restriction mode: the network's OSM restriction relations plus
``--random-bans`` seeded random banned turns (Campo Grande's extract has almost no
restriction relations, so synthetic bans exercise the turn graph), matrices on the
turn-expanded contraction hierarchy, timed against the same networkx loop (ratio), and
checked for equality with a turn-aware reference: a compiled Dijkstra over the turn
graph for every origin, and networkx over the same turn graph for ``--nx-turn-origins``
origins.
"""

from __future__ import annotations

import argparse
import dataclasses
import resource
import sys
import time

import networkx as nx
import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from recyclenet import Points, RoadNetwork, build_matrix, load_network
from recyclenet.network.shortest_paths import decode, many_to_many, turn_augmented_graph
from recyclenet.network.snap import snap_points


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
    parser.add_argument("--turns", action="store_true", help="also run the turn-restriction mode")
    parser.add_argument(
        "--random-bans",
        type=int,
        default=2000,
        help="synthetic banned turns added in --turns mode (default 2000)",
    )
    parser.add_argument(
        "--nx-turn-origins",
        type=int,
        default=20,
        help="origins checked with networkx on the turn graph (default 20)",
    )
    args = parser.parse_args()

    t = time.perf_counter()
    loaded = load_network(args.network)
    t_load = time.perf_counter() - t
    net = loaded.without_turn_restrictions()  # the node-graph comparison: no turn bans
    print(f"network {args.network}: {net.n_nodes} nodes, {net.n_edges} edges, "
          f"loaded in {t_load:.2f} s")  # fmt: skip
    rng = np.random.default_rng(args.seed)
    n = min(args.n, net.n_nodes)
    o_nodes = rng.choice(net.n_nodes, n, replace=False)
    d_nodes = rng.choice(net.n_nodes, n, replace=False)
    origins, dests = _points(net, o_nodes, "o"), _points(net, d_nodes, "d")

    # Baseline: the usual osmnx approach (a MultiDiGraph, as osmnx builds) on the same
    # weights; then the same loop on a plain DiGraph, which networkx walks faster.
    # Both graphs keyed by OSM node id, as osmnx (and RoadNetwork.to_networkx) do.
    osm = net.node_osm_id
    multi = net.to_networkx()
    simple = nx.DiGraph()
    for u, v, w in zip(osm[net.edge_u].tolist(), osm[net.edge_v].tolist(),
                       net.edge_duration_s.tolist()):  # fmt: skip
        if not simple.has_edge(u, v) or simple[u][v]["duration_s"] > w:
            simple.add_edge(u, v, duration_s=w)
    d_list = osm[d_nodes].tolist()

    def nx_loop(graph: nx.DiGraph) -> tuple[np.ndarray, float]:
        t0 = time.perf_counter()
        out = np.full((n, n), np.inf)
        for i, s in enumerate(osm[o_nodes].tolist()):
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
    _print_table(f"\n{n} x {n} matrix (duration_s and distance_m)", rows)

    if args.turns:
        equal &= _turn_mode(loaded, origins, dests, t_nx, args)

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


def _with_random_bans(net: RoadNetwork, k: int, seed: int) -> RoadNetwork:
    """The network with ``k`` extra seeded random banned turns (no U-turns banned)."""
    rng = np.random.default_rng(seed)
    tg = net.turn_graph  # all turns of the network
    turn = np.nonzero(net.edge_twin[tg.tails] != tg.heads)[0]
    pick = rng.choice(turn, min(k, len(turn)), replace=False)
    extra = np.column_stack([tg.tails[pick], tg.heads[pick]])
    banned = np.unique(np.concatenate([net.banned_turns, extra]), axis=0)
    return dataclasses.replace(net, banned_turns=banned.astype(np.int64))


def _turn_mode(net: RoadNetwork, origins: Points, dests: Points, t_nx: float,
               args: argparse.Namespace) -> bool:  # fmt: skip
    base = net.without_turn_restrictions()
    turned = _with_random_bans(base, args.random_bans, args.seed)
    if len(net.banned_turns):
        osm = net.banned_turns
        turned = dataclasses.replace(turned, banned_turns=np.unique(
            np.concatenate([turned.banned_turns, osm]), axis=0))  # fmt: skip
    tg = turned.turn_graph
    print(f"\nturn restrictions: {net.stats.turn_restrictions} OSM relations honoured, "
          f"{net.stats.turn_restrictions_skipped} skipped; {len(turned.banned_turns)} banned "
          f"turns in all (incl. {args.random_bans} random); turn graph {tg.n} nodes, "
          f"{tg.n_arcs} arcs")  # fmt: skip
    t = time.perf_counter()
    ours = build_matrix(turned, origins, dests, workers=args.workers)
    t_first = time.perf_counter() - t
    t = time.perf_counter()
    ours = build_matrix(turned, origins, dests, workers=args.workers)
    t_ours = time.perf_counter() - t
    so, sd = snap_points(turned, origins), snap_points(turned, dests)
    g = turn_augmented_graph(turned, so, sd)
    t = time.perf_counter()
    ref_s, ref_m = decode(many_to_many(g.csr, g.origin_nodes, g.destination_nodes,
                                       workers=args.workers))  # fmt: skip
    t_ref = time.perf_counter() - t
    equal = bool(np.array_equal(ours.duration_s, ref_s) and np.array_equal(ours.distance_m, ref_m))
    plain = build_matrix(base, origins, dests, workers=args.workers)
    longer = int((ours.duration_s > plain.duration_s).sum())
    # networkx on the same turn graph, for a few origins (independent of our kernels)
    k = min(args.nx_turn_origins, len(origins.ids))
    coo = g.csr.tocoo()
    dg = nx.DiGraph()
    dg.add_weighted_edges_from(zip(coo.row.tolist(), coo.col.tolist(), coo.data.tolist()))
    t = time.perf_counter()
    nx_ok = True
    for i in range(k):
        lengths = nx.single_source_dijkstra_path_length(dg, int(g.origin_nodes[i]))
        row = np.array([lengths.get(int(d), np.inf) for d in g.destination_nodes])
        row_s, _ = decode(row)
        nx_ok &= bool(np.array_equal(row_s, ours.duration_s[i]))
    t_nx_turn = (time.perf_counter() - t) / k * len(origins.ids)
    n = len(origins.ids)
    rows = [
        ("networkx loop, MultiDiGraph", t_nx, 1.0, "baseline (node graph, no turns)"),
        ("networkx, turn graph", t_nx_turn, t_nx_turn / t_nx,
         f"extrapolated from {k} origins; equal={nx_ok}"),
        ("compiled Dijkstra, turn graph", t_ref, t_ref / t_nx, "turn-aware reference"),
        ("recyclenet turns, first call", t_first, t_first / t_nx, "incl. turn-graph CH"),
        ("recyclenet turns build_matrix", t_ours, t_ours / t_nx,
         f"equal to reference={equal}"),
    ]  # fmt: skip
    _print_table(f"{n} x {n} matrix with turn restrictions; {longer} pairs slower than without",
                 rows)  # fmt: skip
    return equal and nx_ok


def _print_table(title: str, rows: list[tuple[str, float, float, str]]) -> None:
    print(title)
    print(f"{'method':<32}{'time s':>10}{'vs baseline':>14}  check")
    for name, secs, ratio, check in rows:
        print(f"{name:<32}{secs:>10.3f}{'1/' + format(1 / ratio, '.0f'):>14}  {check}")


if __name__ == "__main__":
    sys.exit(main())
