"""Turn restrictions: read from OSM, mapped to banned edge pairs, routed on a turn graph.

OSM ``type=restriction`` relations (``restriction=no_left_turn``, ``only_straight_on`` ...,
and the vehicle-specific ``restriction:hgv`` / ``restriction:motorcar``, with ``except``)
whose ``via`` member is a node become banned pairs (in-edge, out-edge) at that node:
``no_*`` bans the turns from the ``from`` way into the ``to`` way, ``only_*`` bans every
other turn from the ``from`` way. A U-turn restriction (``from`` = ``to``) bans only the
turn onto the same street piece backwards.

Restrictions whose ``via`` is a way, or a chain of ways (in member order), become
:class:`TurnChain` values: the from-edge, the directed edges along the via way(s) from the
end the ``from`` way touches to the end the ``to`` way leaves, and the to-edges. ``no_*``
forbids driving the whole sequence into a to-edge; ``only_*`` obliges a vehicle that came
off the from-edge onto the via way to stay on it and leave by a to-edge (and forbids
leaving the from-edge any other way). In the turn graph each chain gets copies of its via
edges that remember the vehicle came from the from-edge (see :class:`TurnGraph`).

Time-conditional restrictions (``restriction:conditional=no_left_turn @ (Mo-Fr
07:00-09:00)``, also ``restriction:hgv:conditional``) bind a network whose period meets
their hours (see :mod:`.hours`). Not honoured (counted in
``network.info()["turn_restrictions_skipped"]``): conditional ones with hours outside the
parsed subset, relations whose ways are not in the vehicle's network, and via ways that
do not form one path between the ``from`` and ``to`` ways.

Routing with turns (exact)
    The turn graph has one node per directed road edge, "at the start of edge e", and an
    arc e→f for every allowed turn (head of e = tail of f) weighted by the cost of e. A
    point on edge e at fraction f starts with (1-f) of e and may continue into every
    allowed successor of e; it is reached by entering its edge plus f of it. Without bans
    this gives exactly the node-graph results (U-turns at junctions stay allowed, as on
    the node graph). The same contraction hierarchy runs on the turn graph, so matrices
    stay exact and fast; route geometry uses the same graph (:class:`TurnGraph`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import osmium

from ..errors import NetworkError
from .hours import Period, UnparsedHoursError, parse_conditional, parse_hours

if TYPE_CHECKING:
    from .profile import VehicleProfile
    from .road_network import RoadNetwork

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class TurnRestriction:
    """One OSM turn restriction relation.

    Attributes
    ----------
    relation_id : int
    kind : {"no", "only"}
    value : str
        The restriction value, e.g. ``"no_left_turn"``.
    from_way, to_way : int
        OSM way ids.
    via_node : int or None
        OSM node id of the via node; None when the via member is a way.
    vehicles : str
        ``"all"``, ``"hgv"`` or ``"motorcar"``: which key carried the restriction.
    exempt : frozenset of str
        Vehicle classes of the ``except`` tag.
    hours : str or None
        Hours of a conditional restriction; it binds a network whose period meets them.
    """

    relation_id: int
    kind: str
    value: str
    from_way: int
    to_way: int
    via_node: int | None
    vehicles: str = "all"
    exempt: frozenset[str] = frozenset()
    hours: str | None = None
    """When a conditional restriction (``restriction:conditional``) holds; None: always."""
    via_ways: tuple[int, ...] = ()
    """OSM way ids of the via ways, in member order (empty for a via node)."""

    def applies_to(self, profile: VehicleProfile) -> bool:
        """True if the restriction binds vehicles of ``profile``."""
        if profile.mode == "walk":
            return False
        own = {"hgv", "goods"} if profile.hgv else {"motorcar"}
        if self.exempt & (own | {"motor_vehicle"}):
            return False
        return self.vehicles == "all" or self.vehicles in own


def read_turn_restrictions(path: str | Path) -> tuple[list[TurnRestriction], int]:
    """Turn restriction relations of an OSM file, and the number of relations skipped.

    Skipped: relations without exactly one ``from``, one ``to`` and a ``via``, or with an
    unknown value. Restrictions via ways are returned with ``via_node=None`` and their
    ``via_ways``.
    """
    out: list[TurnRestriction] = []
    skipped = 0
    try:
        processor = osmium.FileProcessor(str(path), osmium.osm.RELATION).with_filter(
            osmium.filter.TagFilter(("type", "restriction"))
        )
        for rel in processor:
            if not isinstance(rel, osmium.osm.Relation):
                continue
            tags = {t.k: t.v for t in rel.tags}
            # (key, value, hours or None) for the plain and the conditional forms
            clauses: list[tuple[str, str, str | None]] = []
            for key in ("restriction", "restriction:hgv", "restriction:motorcar"):
                if key in tags:
                    clauses.append((key, tags[key].strip(), None))
                for val, cond in parse_conditional(tags.get(f"{key}:conditional", "")):
                    clauses.append((key, val.strip(), cond))
            if not clauses:
                skipped += 1
                continue
            froms = [m.ref for m in rel.members if m.role == "from" and m.type == "w"]
            tos = [m.ref for m in rel.members if m.role == "to" and m.type == "w"]
            via_nodes = [m.ref for m in rel.members if m.role == "via" and m.type == "n"]
            via_ways = [m.ref for m in rel.members if m.role == "via" and m.type == "w"]
            exempt = frozenset(x.strip() for x in tags.get("except", "").split(";") if x.strip())
            for key, value, hours in clauses:
                kind = value.split("_", 1)[0]
                if hours is not None:
                    try:
                        parse_hours(hours)
                    except UnparsedHoursError:
                        skipped += 1
                        continue
                if (
                    kind not in ("no", "only")
                    or len(froms) != 1
                    or len(tos) != 1
                    or not (len(via_nodes) == 1 or via_ways)
                ):
                    skipped += 1
                    continue
                out.append(
                    TurnRestriction(
                        relation_id=rel.id,
                        kind=kind,
                        value=value,
                        from_way=froms[0],
                        to_way=tos[0],
                        via_node=via_nodes[0] if len(via_nodes) == 1 and not via_ways else None,
                        vehicles=key.split(":", 1)[1] if ":" in key else "all",
                        exempt=exempt,
                        hours=hours,
                        via_ways=tuple(via_ways),
                    )
                )
    except RuntimeError as exc:
        raise NetworkError(f"{path}: turn restrictions could not be read ({exc})") from exc
    return out, skipped


def banned_turns(
    restrictions: list[TurnRestriction],
    profile: VehicleProfile,
    period: Period | None,
    node_osm_id: IntArray,
    edge_u: IntArray,
    edge_v: IntArray,
    edge_way_id: IntArray,
    edge_twin: IntArray,
) -> tuple[IntArray, int, int]:
    """(in-edge, out-edge) pairs banned for ``profile``; restrictions applied and skipped.

    A conditional restriction binds if its hours meet any minute of ``period`` (None:
    conditional restrictions are ignored).
    """
    pos = {int(n): i for i, n in enumerate(node_osm_id.tolist())}
    pairs: set[tuple[int, int]] = set()
    applied = skipped = 0
    for r in restrictions:
        if not r.applies_to(profile):
            continue
        if r.hours is not None and (
            period is None or not parse_hours(r.hours).overlaps(period.week_hours)
        ):
            continue
        if r.via_node is None:
            continue  # via ways: see via_way_chains
        v = pos.get(r.via_node)
        if v is None:
            skipped += 1
            continue
        ins = np.nonzero((edge_v == v) & (edge_way_id == r.from_way))[0].tolist()
        outs_all = np.nonzero(edge_u == v)[0].tolist()
        outs = [o for o in outs_all if edge_way_id[o] == r.to_way]
        if not ins or not outs:
            skipped += 1
            continue
        applied += 1
        for e in ins:
            if r.from_way == r.to_way:  # U-turn restriction: the same piece backwards
                targets = [o for o in outs if o == edge_twin[e]]
                banned = targets if r.kind == "no" else [o for o in outs_all if o not in targets]
            elif r.kind == "no":
                banned = outs
            else:
                banned = [o for o in outs_all if o not in outs]
            pairs.update((e, o) for o in banned)
    arr = np.array(sorted(pairs), dtype=np.int64).reshape(-1, 2)
    return arr, applied, skipped


@dataclass(frozen=True)
class TurnChain:
    """A restriction via way(s) on edge indices of one network.

    ``path`` is the from-edge followed by the via edges in driving order; ``to`` the edges
    the restriction names at the end: forbidden for ``kind="no"``, the only ones allowed
    for ``kind="only"``.
    """

    kind: str
    path: tuple[int, ...]
    to: tuple[int, ...]


#: Longest via path followed (edges), against pathological relations.
MAX_VIA_EDGES = 64


def via_way_chains(
    restrictions: list[TurnRestriction],
    profile: VehicleProfile,
    period: Period | None,
    edge_u: IntArray,
    edge_v: IntArray,
    edge_way_id: IntArray,
) -> tuple[tuple[TurnChain, ...], int, int]:
    """Restrictions via ways as :class:`TurnChain` values; restrictions applied and skipped.

    The via path runs along the via ways in member order, each way driven from the node
    where the previous one (or the ``from`` way) meets it, without visiting a node twice;
    it ends where an edge of the ``to`` way leaves. A relation whose ways give no such path,
    or more than one, or whose via ways include its from or to way, is skipped.
    """
    out_of: dict[int, list[int]] = {}
    for e, u in enumerate(edge_u.tolist()):
        out_of.setdefault(u, []).append(e)
    chains: list[TurnChain] = []
    applied = skipped = 0
    for r in restrictions:
        if r.via_node is not None or not r.via_ways or not r.applies_to(profile):
            continue
        if r.hours is not None and (
            period is None or not parse_hours(r.hours).overlaps(period.week_hours)
        ):
            continue
        if r.to_way in r.via_ways or r.from_way in r.via_ways:
            skipped += 1  # a malformed relation: the via ways are neither from nor to
            continue
        found: list[TurnChain] = []
        for e0 in np.nonzero(edge_way_id == r.from_way)[0].tolist():
            found.extend(_chains_from(r, e0, out_of, edge_v, edge_way_id))
        if len({c.path[1:] for c in found}) != 1:
            skipped += 1
            continue
        applied += 1
        chains.extend(found)
    return tuple(chains), applied, skipped


def _chains_from(
    r: TurnRestriction,
    e0: int,
    out_of: dict[int, list[int]],
    edge_v: IntArray,
    edge_way_id: IntArray,
) -> list[TurnChain]:
    """Via paths from edge ``e0`` of the from way (depth-first, along the via ways)."""
    found: list[TurnChain] = []
    start = int(edge_v[e0])
    # state: via edges so far, index of the via way being driven, nodes visited
    stack: list[tuple[tuple[int, ...], int, frozenset[int]]] = [((), -1, frozenset({start}))]
    while stack:
        path, k, seen = stack.pop()
        node = int(edge_v[path[-1]]) if path else start
        if k == len(r.via_ways) - 1:  # on the last via way: may leave into the to way
            to = tuple(t for t in out_of.get(node, []) if edge_way_id[t] == r.to_way)
            if to:
                found.append(TurnChain(r.kind, (e0, *path), to))
        if len(path) >= MAX_VIA_EDGES:
            continue
        for f in out_of.get(node, []):
            w, nxt = int(edge_way_id[f]), int(edge_v[f])
            if nxt in seen:
                continue
            if k >= 0 and w == r.via_ways[k]:
                stack.append(((*path, f), k, seen | {nxt}))
            elif k + 1 < len(r.via_ways) and w == r.via_ways[k + 1]:
                stack.append(((*path, f), k + 1, seen | {nxt}))
    return found


@dataclass(frozen=True, eq=False)
class TurnGraph:
    """The turn-expanded graph of a network: one node per directed edge, plus copies.

    Arc ``e -> f`` (head of e = tail of f, turn not banned) costs the packed weight of e.
    Nodes ``0 .. n_edges-1`` are the edges; each :class:`TurnChain` adds a copy of each of
    its via edges (``node_edge`` maps a node to its edge): the from-edge leads into the
    first copy instead of the edge, each copy into the next, and the last copy has its
    to-edges removed (``no``) or only them left (``only``). A vehicle on a copy is on that
    edge having come off the from-edge, so exactly the named sequence is forbidden. Chains
    that share their first edges compose (a later chain copies the earlier copies); a chain
    whose from-edge lies on an earlier chain's via path is not seen from that chain's copies
    (an approximation: a vehicle on them may drive the later sequence).
    """

    n: int
    tails: IntArray
    heads: IntArray
    weights: npt.NDArray[np.float64]
    succ_ptr: IntArray
    succ: IntArray
    """Allowed successors of edge e: ``succ[succ_ptr[e]:succ_ptr[e+1]]``."""
    out_ptr: IntArray
    out_edges: IntArray
    """Edges leaving node u: ``out_edges[out_ptr[u]:out_ptr[u+1]]``."""
    in_ptr: IntArray
    in_edges: IntArray
    """Edges entering node v: ``in_edges[in_ptr[v]:in_ptr[v+1]]``."""
    node_edge: IntArray
    """The road edge of each turn-graph node (the identity on the first ``n_edges``)."""
    copy_ptr: IntArray
    copies: IntArray
    """Copy nodes of edge e: ``copies[copy_ptr[e]:copy_ptr[e+1]]``."""

    @classmethod
    def build(cls, network: RoadNetwork) -> TurnGraph:
        from .shortest_paths import edge_units, encode

        n_nodes, n_edges = network.n_nodes, network.n_edges
        out_order = np.argsort(network.edge_u, kind="stable")
        out_ptr = np.zeros(n_nodes + 1, dtype=np.int64)
        np.add.at(out_ptr, network.edge_u + 1, 1)
        out_ptr = np.cumsum(out_ptr)
        in_order = np.argsort(network.edge_v, kind="stable")
        in_ptr = np.zeros(n_nodes + 1, dtype=np.int64)
        np.add.at(in_ptr, network.edge_v + 1, 1)
        in_ptr = np.cumsum(in_ptr)
        counts = np.diff(out_ptr)[network.edge_v]
        tails = np.repeat(np.arange(n_edges, dtype=np.int64), counts)
        start = np.repeat(out_ptr[network.edge_v], counts)
        offset = np.arange(len(tails)) - np.repeat(np.cumsum(counts) - counts, counts)
        heads = out_order[start + offset].astype(np.int64)
        banned = network.banned_turns
        if len(banned):
            keep = ~np.isin(tails * n_edges + heads, banned[:, 0] * n_edges + banned[:, 1])
            tails, heads = tails[keep], heads[keep]
        node_edge = np.arange(n_edges, dtype=np.int64)
        if network.turn_chains:
            tails, heads, node_edge = _apply_chains(network.turn_chains, tails, heads, n_edges)
        n = len(node_edge)
        order = np.argsort(tails, kind="stable")
        tails, heads = tails[order], heads[order]
        dur, dist = edge_units(network)
        weights = encode(dur, dist)[node_edge[tails]]
        succ_ptr = np.zeros(n + 1, dtype=np.int64)
        np.add.at(succ_ptr, tails + 1, 1)
        copy_nodes = np.arange(n_edges, n, dtype=np.int64)
        by_edge = np.argsort(node_edge[n_edges:], kind="stable")
        copy_ptr = np.zeros(n_edges + 1, dtype=np.int64)
        np.add.at(copy_ptr, node_edge[n_edges:] + 1, 1)
        return cls(n=n, tails=tails, heads=heads, weights=weights,
                   succ_ptr=np.cumsum(succ_ptr), succ=heads, out_ptr=out_ptr,
                   out_edges=out_order.astype(np.int64), in_ptr=in_ptr,
                   in_edges=in_order.astype(np.int64), node_edge=node_edge,
                   copy_ptr=np.cumsum(copy_ptr), copies=copy_nodes[by_edge])  # fmt: skip

    def successors(self, e: int) -> IntArray:
        """Turn-graph nodes a vehicle on node ``e`` may turn into at its edge's head."""
        return self.succ[self.succ_ptr[e] : self.succ_ptr[e + 1]]

    def nodes_of(self, e: int) -> IntArray:
        """Turn-graph nodes standing for edge ``e``: the edge and its chain copies."""
        return np.concatenate([[e], self.copies[self.copy_ptr[e] : self.copy_ptr[e + 1]]])

    def leaving(self, node: int) -> IntArray:
        """Edges leaving ``node``."""
        return self.out_edges[self.out_ptr[node] : self.out_ptr[node + 1]]

    def entering(self, node: int) -> IntArray:
        """Edges entering ``node``."""
        return self.in_edges[self.in_ptr[node] : self.in_ptr[node + 1]]

    @cached_property
    def n_arcs(self) -> int:
        """Number of allowed turns."""
        return len(self.tails)


def _apply_chains(
    chains: tuple[TurnChain, ...], tails: IntArray, heads: IntArray, n_edges: int
) -> tuple[IntArray, IntArray, IntArray]:
    """Arcs and node edges of the turn graph with each chain's copies (see TurnGraph)."""
    succ: dict[int, list[int]] = {}
    for a, b in zip(tails.tolist(), heads.tolist(), strict=True):
        succ.setdefault(a, []).append(b)
    node_edge = list(range(n_edges))
    for chain in chains:
        cur = chain.path[0]
        ok = True
        for v in chain.path[1:]:
            nxt = [s for s in succ.get(cur, []) if node_edge[s] == v]
            if not nxt:  # the sequence cannot be driven (a ban already stops it)
                ok = False
                break
            copy = len(node_edge)
            node_edge.append(v)
            succ[copy] = list(succ.get(nxt[0], []))
            succ[cur] = [copy if s == nxt[0] else s for s in succ[cur]]
            if chain.kind == "only":
                succ[cur] = [copy]
            cur = copy
        if not ok:
            continue
        to, only = set(chain.to), chain.kind == "only"
        succ[cur] = [s for s in succ.get(cur, []) if (node_edge[s] in to) == only]
    t = [a for a, bs in succ.items() for _ in bs]
    h = [b for bs in succ.values() for b in bs]
    return (np.asarray(t, dtype=np.int64), np.asarray(h, dtype=np.int64),
            np.asarray(node_edge, dtype=np.int64))  # fmt: skip
