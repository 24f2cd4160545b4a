"""Turn restrictions: read from OSM, mapped to banned edge pairs, routed on a turn graph.

OSM ``type=restriction`` relations (``restriction=no_left_turn``, ``only_straight_on`` ...,
and the vehicle-specific ``restriction:hgv`` / ``restriction:motorcar``, with ``except``)
whose ``via`` member is a node become banned pairs (in-edge, out-edge) at that node:
``no_*`` bans the turns from the ``from`` way into the ``to`` way, ``only_*`` bans every
other turn from the ``from`` way. A U-turn restriction (``from`` = ``to``) bans only the
turn onto the same street piece backwards.

Time-conditional restrictions (``restriction:conditional=no_left_turn @ (Mo-Fr
07:00-09:00)``, also ``restriction:hgv:conditional``) bind a network whose period meets
their hours (see :mod:`.hours`). Not honoured (counted in
``network.info()["turn_restrictions_skipped"]``): restrictions whose ``via`` is a way
(they constrain a sequence of three or more edges, which a single turn ban cannot
express), conditional ones with hours outside the parsed subset, and relations whose ways
are not in the vehicle's network.

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
        OSM node id of the via node; None when the via member is a way (not honoured).
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
    unknown value. Restrictions via ways are returned with ``via_node=None``.
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
        v = pos.get(r.via_node) if r.via_node is not None else None
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


@dataclass(frozen=True, eq=False)
class TurnGraph:
    """The turn-expanded graph of a network: one node per directed edge.

    Arc ``e -> f`` (head of e = tail of f, turn not banned) costs the packed weight of e.
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
        dur, dist = edge_units(network)
        weights = encode(dur, dist)[tails]
        succ_ptr = np.zeros(n_edges + 1, dtype=np.int64)
        np.add.at(succ_ptr, tails + 1, 1)
        return cls(n=n_edges, tails=tails, heads=heads, weights=weights,
                   succ_ptr=np.cumsum(succ_ptr), succ=heads, out_ptr=out_ptr,
                   out_edges=out_order.astype(np.int64), in_ptr=in_ptr,
                   in_edges=in_order.astype(np.int64))  # fmt: skip

    def successors(self, e: int) -> IntArray:
        """Edges a vehicle on edge ``e`` may turn into at its head."""
        return self.succ[self.succ_ptr[e] : self.succ_ptr[e + 1]]

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
