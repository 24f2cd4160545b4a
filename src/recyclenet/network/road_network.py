"""The drivable road graph of one vehicle profile, as arrays."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from ..errors import NetworkError
from .build import (
    DURATION_RESOLUTION_S,
    LENGTH_RESOLUTION_M,
    EdgePiece,
    haversine_m,
)
from .hours import Period, get_period
from .profile import VehicleProfile
from .speed import RoadConditions, speed_factor

if TYPE_CHECKING:
    from ._ch import ContractionHierarchy
    from .snap import EdgeIndex
    from .turns import TurnChain, TurnGraph, TurnRestriction

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class NetworkStats:
    """What building the network kept and dropped."""

    components: int
    """Strongly connected components before keeping the largest."""
    dropped_nodes: int
    dropped_edges: int
    excluded_by_profile: int
    """Directed edges the vehicle profile closed (access, hgv, maxweight, maxheight)."""
    dangling_refs: int
    """Way node references missing from a clipped extract."""
    conditional_not_parsed: int = 0
    """``*:conditional`` access clauses ignored because their hours are not parsed."""
    turn_restrictions: int = 0
    """OSM turn restriction relations honoured for this vehicle."""
    turn_restrictions_skipped: int = 0
    """Restrictions not honoured: ways outside the network, via ways that form no single
    path, malformed relations."""


@dataclass(frozen=True, eq=False)
class RoadNetwork:
    """A directed drivable road graph for one vehicle profile.

    Nodes are OSM nodes where streets meet or end; edges are the street pieces between
    them, one per allowed direction, with the full street geometry. Only the largest
    strongly connected component is kept, so every node can reach every other.

    Attributes
    ----------
    source : str
        Where the network came from (file path or sample name).
    profile : VehicleProfile
        The vehicle rules the network was built for.
    node_osm_id : ndarray of int64, shape (n_nodes,)
    node_lon, node_lat : ndarray of float64, shape (n_nodes,)
        WGS-84 coordinates, degrees.
    edge_u, edge_v : ndarray of int64, shape (n_edges,)
        Tail and head node positions of each directed edge.
    edge_length_m, edge_duration_s, edge_speed_kph : ndarray of float64
        Length (0.1 m resolution), travel time (0.01 s resolution) and speed, under
        ``conditions`` (speed model and period).
    edge_speed_tagged : ndarray of bool
        True where the speed came from a ``maxspeed`` tag rather than the class default.
    edge_way_id : ndarray of int64
        OSM way id of each edge (-1 if unknown).
    edge_twin : ndarray of int64
        Position of the same street piece in the opposite direction, or -1.
    edge_geometry : list of ndarray, shape (k, 2)
        lon/lat vertices of each directed edge, from tail to head.
    edge_tags : list of dict
        The OSM tags of each edge's way (shared dicts; do not modify).
    stats : NetworkStats
    conditions : RoadConditions
        Speed model and period the network was built for (time-conditional access and
        urban speeds follow them).
    banned_turns : ndarray of int64, shape (k, 2)
        (in-edge, out-edge) turns forbidden by OSM turn restrictions for this vehicle;
        when there are any, matrices and paths run on the turn graph (:mod:`.turns`).
    turn_chains : tuple of TurnChain
        Restrictions via ways (from-edge, via edges, to-edges); they too put matrices and
        paths on the turn graph.
    """

    source: str
    profile: VehicleProfile
    node_osm_id: IntArray
    node_lon: FloatArray
    node_lat: FloatArray
    edge_u: IntArray
    edge_v: IntArray
    edge_length_m: FloatArray
    edge_duration_s: FloatArray
    edge_speed_kph: FloatArray
    edge_speed_tagged: npt.NDArray[np.bool_]
    edge_way_id: IntArray
    edge_twin: IntArray
    edge_geometry: list[FloatArray]
    edge_tags: list[dict[str, str]]
    stats: NetworkStats
    conditions: RoadConditions = field(default_factory=RoadConditions)
    banned_turns: IntArray = field(default_factory=lambda: np.empty((0, 2), dtype=np.int64))
    turn_chains: tuple[TurnChain, ...] = ()
    _rebuild: Callable[[VehicleProfile, RoadConditions], RoadNetwork] | None = field(
        default=None, repr=False
    )

    # ------------------------------------------------------------------ building
    @classmethod
    def from_pieces(
        cls,
        pieces: list[EdgePiece],
        *,
        source: str,
        profile: VehicleProfile,
        excluded_by_profile: int = 0,
        dangling_refs: int = 0,
        conditional_not_parsed: int = 0,
        conditions: RoadConditions | None = None,
        restrictions: Sequence[TurnRestriction] = (),
        restrictions_skipped: int = 0,
        rebuild: Callable[[VehicleProfile, RoadConditions], RoadNetwork] | None = None,
    ) -> RoadNetwork:
        """Index directed edges, set speeds and times, keep the largest SCC."""
        conditions = conditions if conditions is not None else RoadConditions()
        if not pieces:
            raise NetworkError(
                f"{source} has no roads drivable by profile {profile.name!r}; check that the "
                "file covers a road network and that the profile's access rules are right"
            )
        osm_u = np.fromiter((p.u for p in pieces), dtype=np.int64, count=len(pieces))
        osm_v = np.fromiter((p.v for p in pieces), dtype=np.int64, count=len(pieces))
        # Drop zero-length self loops (a way closing on itself at a single junction).
        lengths = np.array([float(haversine_m(p.lon[:-1], p.lat[:-1], p.lon[1:], p.lat[1:]).sum())
                            for p in pieces])  # fmt: skip
        keep = ~((osm_u == osm_v) & (lengths < LENGTH_RESOLUTION_M))
        node_ids, inverse = np.unique(np.concatenate([osm_u, osm_v]), return_inverse=True)
        u = inverse[: len(pieces)]
        v = inverse[len(pieces) :]
        coords: dict[int, tuple[float, float]] = {}
        for p in pieces:
            coords.setdefault(p.u, (float(p.lon[0]), float(p.lat[0])))
            coords.setdefault(p.v, (float(p.lon[-1]), float(p.lat[-1])))
        node_lon = np.array([coords[int(n)][0] for n in node_ids])
        node_lat = np.array([coords[int(n)][1] for n in node_ids])

        n = len(node_ids)
        graph = sp.csr_matrix((np.ones(int(keep.sum())), (u[keep], v[keep])), shape=(n, n))
        n_comp, labels = connected_components(graph, directed=True, connection="strong")
        largest = np.bincount(labels).argmax()
        node_keep = labels == largest
        edge_keep = keep & node_keep[u] & node_keep[v]
        new_index = np.cumsum(node_keep) - 1

        sel = np.nonzero(edge_keep)[0]
        kept = [pieces[i] for i in sel]
        factor = {h: speed_factor(h, conditions)
                  for h in {p.tags.get("highway", "") for p in kept}}  # fmt: skip
        speeds = [profile.speed_kph(p.tags, factor[p.tags.get("highway", "")]) for p in kept]
        speed_kph = np.array([s for s, _ in speeds], dtype=np.float64)
        length_m = np.maximum(np.round(lengths[sel] / LENGTH_RESOLUTION_M), 1) * LENGTH_RESOLUTION_M
        duration_s = (
            np.maximum(np.round(length_m / (speed_kph / 3.6) / DURATION_RESOLUTION_S), 1)
            * DURATION_RESOLUTION_S
        )
        e_u = new_index[u[sel]].astype(np.int64)
        e_v = new_index[v[sel]].astype(np.int64)
        geometry = [np.column_stack([p.lon, p.lat]) for p in kept]
        node_osm_id = node_ids[node_keep].astype(np.int64)
        edge_way_id = np.array([p.way_id for p in kept], dtype=np.int64)
        twin = _find_twins(e_u, e_v, length_m, geometry)
        banned, applied, skipped = np.empty((0, 2), dtype=np.int64), 0, 0
        chains: tuple[TurnChain, ...] = ()
        if restrictions:
            from .turns import banned_turns, via_way_chains

            banned, applied, skipped = banned_turns(list(restrictions), profile,
                                                    conditions.period, node_osm_id, e_u, e_v,
                                                    edge_way_id, twin)  # fmt: skip
            chains, c_applied, c_skipped = via_way_chains(list(restrictions), profile,
                                                          conditions.period, e_u, e_v,
                                                          edge_way_id)  # fmt: skip
            applied, skipped = applied + c_applied, skipped + c_skipped
        return cls(
            source=source,
            profile=profile,
            node_osm_id=node_osm_id,
            node_lon=node_lon[node_keep],
            node_lat=node_lat[node_keep],
            edge_u=e_u,
            edge_v=e_v,
            edge_length_m=length_m,
            edge_duration_s=duration_s,
            edge_speed_kph=speed_kph,
            edge_speed_tagged=np.array([t for _, t in speeds], dtype=bool),
            edge_way_id=edge_way_id,
            edge_twin=twin,
            edge_geometry=geometry,
            edge_tags=[p.tags for p in kept],
            stats=NetworkStats(
                components=int(n_comp),
                dropped_nodes=int(n - node_keep.sum()),
                dropped_edges=int(len(pieces) - len(sel)),
                excluded_by_profile=int(excluded_by_profile),
                dangling_refs=int(dangling_refs),
                conditional_not_parsed=int(conditional_not_parsed),
                turn_restrictions=applied,
                turn_restrictions_skipped=skipped + int(restrictions_skipped),
            ),
            conditions=conditions,
            banned_turns=banned,
            turn_chains=chains,
            _rebuild=rebuild,
        )

    def with_profile(self, profile: VehicleProfile | str) -> RoadNetwork:
        """The same roads for another vehicle profile (a new network; this one is unchanged)."""
        from .profile import get_profile

        profile = get_profile(profile)
        if profile == self.profile:
            return self
        if self._rebuild is None:
            raise NetworkError("this network was not loaded from a source; load it again")
        return self._rebuild(profile, self.conditions)

    def with_conditions(
        self, *, speed_model: str | None = None, period: str | Period | None = None
    ) -> RoadNetwork:
        """The same roads and vehicle under another speed model and/or period.

        ``period`` is a name (``day``, ``peak``, ``offpeak``, ``night``), opening hours
        (``"Mo-Fr 07:00-09:00"``) or a departure time (``"Mo 07:30"``); None keeps the
        current one. A new network; this one is unchanged.
        """
        conditions = RoadConditions(
            speed_model=self.conditions.speed_model if speed_model is None else speed_model,
            period=self.conditions.period if period is None else get_period(period),
        )
        if conditions == self.conditions:
            return self
        if self._rebuild is None:
            raise NetworkError("this network was not loaded from a source; load it again")
        return self._rebuild(self.profile, conditions)

    # ------------------------------------------------------------------ properties
    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return len(self.node_osm_id)

    @property
    def n_edges(self) -> int:
        """Number of directed edges."""
        return len(self.edge_u)

    @cached_property
    def bbox(self) -> tuple[float, float, float, float]:
        """(west, south, east, north) in degrees, over every edge vertex."""
        allc = np.concatenate(self.edge_geometry)
        return (float(allc[:, 0].min()), float(allc[:, 1].min()),
                float(allc[:, 0].max()), float(allc[:, 1].max()))  # fmt: skip

    @cached_property
    def fingerprint(self) -> str:
        """Hash of the graph, its weights and the profile: changes when any of them does."""
        h = hashlib.sha256()
        h.update(repr(self.profile).encode())
        h.update(repr(self.conditions).encode())
        for arr in (self.node_osm_id, self.node_lon, self.node_lat, self.edge_u, self.edge_v,
                    self.edge_length_m, self.edge_duration_s, self.banned_turns):  # fmt: skip
            h.update(np.ascontiguousarray(arr).tobytes())
        if self.turn_chains:
            h.update(repr(self.turn_chains).encode())
        return h.hexdigest()[:32]

    @cached_property
    def edge_index(self) -> EdgeIndex:
        """Spatial index of the edges for snapping (built on first use)."""
        from .snap import EdgeIndex

        return EdgeIndex.build(self)

    def without_edges(self, drop: npt.NDArray[np.bool_], *, label: str = "edges") -> RoadNetwork:
        """The network without the edges where ``drop`` is True (e.g. a closed zone's).

        Nodes are kept; the rest is not reduced to one strongly connected component, so
        points cut off by the dropped edges get ``inf`` (unreachable) in matrices. Banned
        turns and twins are re-indexed. The result cannot be rebuilt for another profile.
        """
        drop = np.asarray(drop, dtype=bool)
        if drop.shape != (self.n_edges,):
            raise NetworkError(f"drop mask has shape {drop.shape}, expected ({self.n_edges},)")
        if not drop.any():
            return self
        keep = ~drop
        if not keep.any():
            raise NetworkError(f"{self.source}: removing {label} leaves no road")
        new = np.cumsum(keep) - 1
        twin = self.edge_twin[keep]
        twin = np.where((twin >= 0) & keep[np.maximum(twin, 0)], new[np.maximum(twin, 0)], -1)
        bt = self.banned_turns
        bt = bt[keep[bt[:, 0]] & keep[bt[:, 1]]] if len(bt) else bt
        idx = np.nonzero(keep)[0]
        return dataclasses.replace(
            self,
            source=f"{self.source} without {label}",
            edge_u=self.edge_u[keep], edge_v=self.edge_v[keep],
            edge_length_m=self.edge_length_m[keep], edge_duration_s=self.edge_duration_s[keep],
            edge_speed_kph=self.edge_speed_kph[keep],
            edge_speed_tagged=self.edge_speed_tagged[keep],
            edge_way_id=self.edge_way_id[keep], edge_twin=twin.astype(np.int64),
            edge_geometry=[self.edge_geometry[e] for e in idx],
            edge_tags=[self.edge_tags[e] for e in idx],
            banned_turns=new[bt].astype(np.int64).reshape(-1, 2),
            # a chain through a dropped edge cannot be driven: it goes (an only_* one then
            # no longer binds its from-edge: an approximation on the side of allowing)
            turn_chains=tuple(
                dataclasses.replace(c, path=tuple(int(new[e]) for e in c.path),
                                    to=tuple(int(new[e]) for e in c.to if keep[e]))
                for c in self.turn_chains if keep[list(c.path)].all()
                and (c.kind == "no" or keep[list(c.to)].any())),
            _rebuild=None,
        )  # fmt: skip

    def without_turn_restrictions(self) -> RoadNetwork:
        """The same network with every turn allowed (node-graph matrices and paths)."""
        if not self.has_turn_restrictions:
            return self
        return dataclasses.replace(self, banned_turns=np.empty((0, 2), dtype=np.int64),
                                   turn_chains=())  # fmt: skip

    @property
    def has_turn_restrictions(self) -> bool:
        """True if some turn is banned: matrices and paths then use the turn graph."""
        return len(self.banned_turns) > 0 or len(self.turn_chains) > 0

    @cached_property
    def turn_graph(self) -> TurnGraph:
        """The turn-expanded graph (one node per directed edge; built on first use)."""
        from .turns import TurnGraph

        return TurnGraph.build(self)

    @cached_property
    def contraction_hierarchy(self) -> ContractionHierarchy:
        """Contraction hierarchy over packed time/distance weights (built on first use).

        Over the turn graph when the network has turn restrictions, else over the nodes.
        """
        from ._ch import ContractionHierarchy
        from .shortest_paths import edge_units, encode

        if self.has_turn_restrictions:
            tg = self.turn_graph
            return ContractionHierarchy(tg.n, tg.tails, tg.heads, tg.weights)
        dur, dist = edge_units(self)
        return ContractionHierarchy(self.n_nodes, self.edge_u, self.edge_v, encode(dur, dist))

    def info(self) -> dict[str, Any]:
        """Summary: nodes, edges, bbox, components, speed sources, length."""
        n_tagged = int(self.edge_speed_tagged.sum())
        return {
            "source": self.source,
            "profile": self.profile.name,
            "speed_model": self.conditions.speed_model,
            "period": self.conditions.period.name,
            "period_hours": self.conditions.period.hours,
            "nodes": self.n_nodes,
            "edges": self.n_edges,
            "bbox": list(self.bbox),
            "length_km": round(float(self.edge_length_m.sum()) / 1000.0, 3),
            "components_found": self.stats.components,
            "components_kept": 1,
            "dropped_nodes": self.stats.dropped_nodes,
            "dropped_edges": self.stats.dropped_edges,
            "excluded_by_profile": self.stats.excluded_by_profile,
            "dangling_refs": self.stats.dangling_refs,
            "conditional_not_parsed": self.stats.conditional_not_parsed,
            "turn_restrictions": self.stats.turn_restrictions,
            "turn_restrictions_skipped": self.stats.turn_restrictions_skipped,
            "banned_turns": len(self.banned_turns),
            "edges_speed_tagged": n_tagged,
            "edges_speed_default": self.n_edges - n_tagged,
            "share_speed_tagged": round(n_tagged / self.n_edges, 4) if self.n_edges else 0.0,
        }

    def to_networkx(self) -> Any:
        """The network as an osmnx-style ``networkx.MultiDiGraph``.

        Nodes are keyed by OSM node id with ``x``/``y`` (lon/lat) and ``osmid``; the graph
        has ``crs`` (``epsg:4326``), ``simplified`` and the recyclenet ``profile``. Each
        directed edge carries what osmnx puts there: ``osmid`` (way id), ``length`` (m),
        ``speed_kph``, ``travel_time`` (s), ``geometry`` (a shapely LineString in lon/lat),
        ``oneway`` and ``reversed``, the way's OSM tags (``highway``, ``name``,
        ``maxspeed``, ...), and recyclenet's ``length_m``/``duration_s``. So
        ``ox.graph_to_gdfs``, ``ox.plot_graph`` and ``ox.routing.shortest_path`` work on
        it, and :meth:`to_graphml` writes a file :func:`~recyclenet.load_network` reads
        back to the same network.
        """
        import networkx as nx
        from shapely.geometry import LineString

        graph = nx.MultiDiGraph(crs="epsg:4326", simplified=True, created_with="recyclenet",
                                profile=self.profile.name)  # fmt: skip
        osm = self.node_osm_id
        for i in range(self.n_nodes):
            graph.add_node(int(osm[i]), x=float(self.node_lon[i]), y=float(self.node_lat[i]),
                           osmid=int(osm[i]))  # fmt: skip
        skip = {"oneway"}  # the edge direction says it; osmnx keeps a bool
        for e in range(self.n_edges):
            u, v = int(osm[self.edge_u[e]]), int(osm[self.edge_v[e]])
            twin = int(self.edge_twin[e])
            attrs: dict[str, Any] = {
                k: val for k, val in self.edge_tags[e].items() if k not in skip
            }
            attrs.update(
                osmid=int(self.edge_way_id[e]),
                length=float(self.edge_length_m[e]),
                speed_kph=float(self.edge_speed_kph[e]),
                travel_time=float(self.edge_duration_s[e]),
                length_m=float(self.edge_length_m[e]),
                duration_s=float(self.edge_duration_s[e]),
                geometry=LineString(self.edge_geometry[e]),
                oneway=twin < 0,
                reversed=bool(twin >= 0 and e > twin),
            )
            graph.add_edge(u, v, **attrs)
        return graph

    def to_graphml(self, path: str | Path) -> Path:
        """Write :meth:`to_networkx` as an osmnx GraphML file; returns the path."""
        import osmnx as ox

        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        ox.save_graphml(self.to_networkx(), path)
        return path

    def edge_name(self, edge: int) -> str:
        """The street name of an edge (``name`` tag, UTF-8 as in OSM), or ''."""
        return self.edge_tags[edge].get("name", "")


def _find_twins(
    u: IntArray, v: IntArray, length_m: FloatArray, geometry: list[FloatArray]
) -> IntArray:
    """Pair each edge with the reverse edge of the same street piece.

    The reverse runs from v to u with the same length and the same vertices in reverse
    order. A two-way street that closes on itself (a ring inside a compound, a self-loop
    after simplification) has u == v: its twin is the self-loop with reversed geometry.
    """
    twin = np.full(len(u), -1, dtype=np.int64)
    slots: dict[tuple[int, int, int], list[int]] = {}
    for e, (a, b, length) in enumerate(zip(u.tolist(), v.tolist(), length_m.tolist())):
        slots.setdefault((a, b, round(length * 10)), []).append(e)
    for (a, b, length), edges in slots.items():
        back = slots.get((b, a, length))
        if not back:
            continue
        for e in edges:
            if twin[e] >= 0:
                continue
            fwd = geometry[e]
            for f in back:
                if f != e and twin[f] < 0 and np.array_equal(geometry[f], fwd[::-1]):
                    twin[e], twin[f] = f, e
                    break
        if a != b:  # geometry that differs (e.g. a GraphML file): pair what is left in order
            rest = [f for f in back if twin[f] < 0]
            for e, f in zip([e for e in edges if twin[e] < 0], rest):
                twin[e], twin[f] = f, e
    return twin
