"""What the OGC API - Features service (:mod:`recyclenet_api.routers.ogc`) offers: its
collections, their features as an indexed layer, and the CRSs it can answer in.

A collection is one stored GeoJSON layer of the tenant, served with the same features as
the layer's existing URL:

- ``plan-{plan_id}-{layer}``: a layer of a stored plan, as
  ``/plans/{plan_id}/{layer}.geojson`` (siting: stations, assignments, coverage,
  centres; routing: routes, stops) or ``/parks/{plan_id}/{layer}.geojson`` (park plans:
  enterprises, receivers, flows, routes, sites). Only layers the plan stored are listed.
- ``network-{network_id}-roads``: the roads of a registered network, as
  ``/networks/{network_id}/roads.geojson``.

Plans are immutable, so a plan's layers are indexed once (features serialized, one
bounding box each) and kept in a small cache; every request still asks the database
whether the tenant has the plan (:meth:`Store.plan_labels`), so a deleted plan is gone at
once and a renamed one has its new name. Road layers come from
:class:`recyclenet_api.roads.RoadsCache`.

CRSs (OGC API - Features Part 2): ``CRS84`` (lon/lat, the default), ``EPSG:4326``
(WGS-84 with the EPSG axis order, lat/lon) and, for collections that reach the area where
they differ from WGS-84, the Chinese map datums GCJ-02 and BD-09 under this service's own
URNs (:data:`GCJ02`, :data:`BD09`; neither has an EPSG code), lon/lat like CRS84.
"""

from __future__ import annotations

import json
import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import shapely

from recyclenet.geo import BBox, CoordSystem, geojson_bbox, meets_china

from .roads import RoadLayer, RoadsCache
from .routers.common import PLAN_LAYERS
from .schemas.parks import PARK_LAYERS
from .store import Network, PlanFilter, PlanSummary, Position, Store, utc

# ---------------------------------------------------------------------------- CRSs
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG4326 = "http://www.opengis.net/def/crs/EPSG/0/4326"
GCJ02 = "urn:recyclenet:crs:gcj02"
"""GCJ-02 ("Mars coordinates": AMap/Gaode, Tencent), lon/lat degrees. Not an EPSG code:
GCJ-02 has none; this URN is this service's own name for it."""
BD09 = "urn:recyclenet:crs:bd09"
"""BD-09 (Baidu), lon/lat degrees. Not an EPSG code: BD-09 has none; this URN is this
service's own name for it."""


@dataclass(frozen=True)
class OgcCrs:
    """A CRS the service answers in: its URI, the datum of its numbers, its axis order."""

    uri: str
    datum: CoordSystem
    lat_first: bool
    label: str


CRSS: dict[str, OgcCrs] = {
    CRS84: OgcCrs(CRS84, "wgs84", False, "WGS 84 longitude/latitude (OGC CRS84)"),
    EPSG4326: OgcCrs(EPSG4326, "wgs84", True, "WGS 84 latitude/longitude (EPSG:4326)"),
    GCJ02: OgcCrs(GCJ02, "gcj02", False, "GCJ-02 longitude/latitude (AMap/Gaode, Tencent)"),
    BD09: OgcCrs(BD09, "bd09", False, "BD-09 longitude/latitude (Baidu)"),
}
_CRS_NAMES: dict[str, str] = {
    **{uri.lower(): uri for uri in CRSS},
    **{uri.lower().replace("http://", "https://"): uri for uri in (CRS84, EPSG4326)},
    "[ogc:crs84]": CRS84, "ogc:crs84": CRS84, "urn:ogc:def:crs:ogc:1.3:crs84": CRS84,
    "[epsg:4326]": EPSG4326, "epsg:4326": EPSG4326, "urn:ogc:def:crs:epsg::4326": EPSG4326,
}  # fmt: skip
"""Accepted spellings (lower case) -> URI: the URIs, their https forms and safe CURIEs."""


def find_crs(text: str) -> OgcCrs | None:
    """The CRS a ``crs`` or ``bbox-crs`` value names, or None."""
    uri = _CRS_NAMES.get(text.strip().lower())
    return CRSS[uri] if uri else None


def crs_list(extent: BBox | None) -> list[str]:
    """The CRSs of a collection with this WGS-84 extent: the Chinese datums only where
    they differ from WGS-84 (see :func:`recyclenet.geo.meets_china`)."""
    if extent is not None and meets_china(extent):
        return [CRS84, EPSG4326, GCJ02, BD09]
    return [CRS84, EPSG4326]


# ---------------------------------------------------------------------------- layers
LAYERS_BY_KIND: dict[str, tuple[str, ...]] = {**PLAN_LAYERS, "park": PARK_LAYERS}
"""Plan kind -> the GeoJSON layers a plan of that kind may store."""

LAYER_TITLES: dict[str, str] = {
    "stations": "Stations (opened, kept, closed sites)",
    "assignments": "Demand-to-station assignments (lines; points for unassigned demand)",
    "coverage": "Service area of each open station",
    "centres": "Sorting centres and the lines feeding them",
    "routes": "Vehicle routes along the roads",
    "stops": "Stops of each route, and unserved orders",
    "enterprises": "Enterprises of the park",
    "receivers": "Licensed receivers",
    "flows": "Flows from enterprises to receivers",
    "sites": "Shared facility sites",
    "roads": "Roads (one feature per street piece between junctions)",
}

_ROAD_ID = re.compile(rb'^\{"type":"Feature","id":(-?\d+)[,}]')


@dataclass
class FeatureLayer:
    """Serialized GeoJSON Features (WGS-84) with one bounding box each, and their ids."""

    features: Sequence[bytes]
    bbox: npt.NDArray[np.float64]
    """(n, 4) west, south, east, north per feature; NaN for a feature without geometry."""
    ids: list[str] | None = None
    """The features' ids as text, in order; None: read from the bytes when first needed."""
    _index: dict[str, int] | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __len__(self) -> int:
        return len(self.features)

    def select(self, boxes: Sequence[BBox] | None) -> npt.NDArray[np.int64]:
        """Positions (ascending) of the features whose geometry intersects any of ``boxes``
        (all features when None), as Part 1 /req/core/fc-bbox-response asks: a feature
        without geometry is always selected; the rest by their boxes, and those whose box
        meets a box without lying inside it (a line passing by a corner) by their exact
        geometry."""
        if boxes is None:
            return np.arange(len(self.features), dtype=np.int64)
        b = self.bbox
        no_geometry = np.asarray(np.isnan(b).any(axis=1), dtype=bool)
        meets = no_geometry.copy()  # no geometry: matched, not filtered
        inside = np.zeros(len(self.features), dtype=bool)
        for west, south, east, north in boxes:
            meets |= (b[:, 0] <= east) & (b[:, 2] >= west) & (b[:, 1] <= north) & (b[:, 3] >= south)
            inside |= ((b[:, 0] >= west) & (b[:, 2] <= east) & (b[:, 1] >= south)
                       & (b[:, 3] <= north))  # fmt: skip
        edge = np.nonzero(meets & ~inside & ~no_geometry)[0]
        if len(edge):  # points never get here: a point's box meets a box only inside it
            geoms = shapely.from_geojson([self.features[i] for i in edge.tolist()])
            hit = np.zeros(len(edge), dtype=bool)
            for box in boxes:
                hit |= shapely.intersects(geoms, shapely.box(*box))
            meets[edge] = hit
        return np.nonzero(meets)[0].astype(np.int64)

    def extent(self) -> BBox | None:
        """The box of every feature, or None when no feature has a geometry."""
        b = self.bbox
        if not len(b) or np.isnan(b).all():
            return None
        return (float(np.nanmin(b[:, 0])), float(np.nanmin(b[:, 1])),
                float(np.nanmax(b[:, 2])), float(np.nanmax(b[:, 3])))  # fmt: skip

    def position(self, feature_id: str) -> int | None:
        """The position of the feature with this id (compared as text), or None."""
        with self._lock:
            if self._index is None:
                ids = self.ids if self.ids is not None else [_read_id(f) for f in self.features]
                index: dict[str, int] = {}
                for i, fid in enumerate(ids):
                    index.setdefault(fid, i)
                self._index = index
        return self._index.get(feature_id)


def _read_id(feature: bytes) -> str:
    m = _ROAD_ID.match(feature)
    if m:
        return m.group(1).decode()
    return str(json.loads(feature).get("id"))


def feature_layer(fc: dict[str, Any]) -> FeatureLayer:
    """Index a stored FeatureCollection (WGS-84)."""
    feats = fc.get("features") or []
    out: list[bytes] = []
    boxes = np.full((len(feats), 4), np.nan)
    ids = []
    for i, f in enumerate(feats):
        out.append(json.dumps(f, ensure_ascii=False, separators=(",", ":"),
                              allow_nan=False).encode())  # fmt: skip
        geom = f.get("geometry")
        box = geojson_bbox(geom) if isinstance(geom, dict) else None
        if box is not None:
            boxes[i] = box
        ids.append(str(f.get("id")))
    return FeatureLayer(out, boxes, ids)


# ---------------------------------------------------------------------------- collections
@dataclass(frozen=True)
class Collection:
    """One collection: a stored layer of a plan or a network's roads."""

    id: str
    source: Literal["plan", "network"]
    owner_id: str
    """The plan or network id."""
    layer: str
    title: str
    description: str
    extent: BBox | None
    """WGS-84 box of the features (None when none has a geometry)."""
    count: int | None
    layer_url: str
    """The layer's own GeoJSON URL (same features), from the service root."""
    keywords: tuple[str, ...] = ()
    """The plan's tags."""

    @property
    def crs(self) -> list[str]:
        return crs_list(self.extent)


def collection_id(source: str, owner_id: str, layer: str) -> str:
    return f"{source}-{owner_id}-{layer}"


def parse_collection_id(text: str) -> tuple[str, str, str] | None:
    """``(source, owner id, layer)`` of a collection id, or None when it names none."""
    source, _, rest = text.partition("-")
    owner, _, layer = rest.rpartition("-")
    if not owner or not layer:
        return None
    if source == "plan" and any(layer in names for names in LAYERS_BY_KIND.values()):
        return source, owner, layer
    if source == "network" and layer == "roads":
        return source, owner, layer
    return None


@dataclass(frozen=True)
class _PlanEntry:
    tenant: str
    kind: str
    created_at: datetime
    layers: dict[str, FeatureLayer]
    """The plan's stored layers. All of this is immutable; the name and tags may change,
    so titles take them from the database on every request."""


class Catalog:
    """The collections of every tenant (one per app); thread safe."""

    def __init__(self, store: Store, roads: RoadsCache, plans_cached: int = 32) -> None:
        self.store = store
        self.roads = roads
        self.size = plans_cached
        self._plans: OrderedDict[str, _PlanEntry] = OrderedDict()
        self._summaries: OrderedDict[str, tuple[str, dict[str, tuple[int, BBox | None]]]]
        self._summaries = OrderedDict()
        self._road_layers: OrderedDict[str, tuple[RoadLayer, FeatureLayer]] = OrderedDict()
        self._lock = threading.Lock()

    # -- plans
    def _plan_heads(self, tenant: str) -> list[PlanSummary]:
        """The tenant's plans that have layers, newest first, with their names and tags as
        they are now."""
        where = PlanFilter(kinds=tuple(LAYERS_BY_KIND))
        out: list[PlanSummary] = []
        at: Position | None = None
        while True:  # keyset pages: a plan made or deleted meanwhile shifts nothing
            rows = self.store.list_plans(tenant, where, limit=1000, at=at).items
            out += rows
            if len(rows) < 1000:
                return out
            at = Position(rows[-1].created_at, rows[-1].id)

    def _plan(self, tenant: str, plan_id: str) -> _PlanEntry | None:
        with self._lock:
            entry = self._plans.get(plan_id)
            if entry is not None:
                self._plans.move_to_end(plan_id)
                return entry if entry.tenant == tenant else None
        row = self.store.get_plan(tenant, plan_id)
        if row is None or row.kind not in LAYERS_BY_KIND or not isinstance(row.data, dict):
            return None
        stored = row.data.get("layers") or {}
        layers = {name: feature_layer(stored[name]) for name in LAYERS_BY_KIND[row.kind]
                  if isinstance(stored.get(name), dict)}  # fmt: skip
        entry = _PlanEntry(tenant, row.kind, utc(row.created_at), layers)
        summary = {name: (len(layer), layer.extent()) for name, layer in layers.items()}
        with self._lock:
            self._plans[plan_id] = entry
            while len(self._plans) > self.size:
                self._plans.popitem(last=False)
            self._summaries[plan_id] = (tenant, summary)
            while len(self._summaries) > 64 * self.size:
                self._summaries.popitem(last=False)
        return entry

    def _summary(self, tenant: str, plan_id: str) -> dict[str, tuple[int, BBox | None]]:
        with self._lock:
            hit = self._summaries.get(plan_id)
        if hit is not None and hit[0] == tenant:
            return hit[1]
        entry = self._plan(tenant, plan_id)
        if entry is None:
            return {}
        return {name: (len(layer), layer.extent()) for name, layer in entry.layers.items()}

    @staticmethod
    def _plan_collection(
        head: PlanSummary, layer: str, count: int, extent: BBox | None
    ) -> Collection:
        what = f"{head.kind} plan {head.name!r} ({head.id})" if head.name else (
            f"{head.kind} plan {head.id}")  # fmt: skip
        root = "parks" if head.kind == "park" else "plans"
        return Collection(
            id=collection_id("plan", head.id, layer),
            source="plan",
            owner_id=head.id,
            layer=layer,
            title=f"{LAYER_TITLES.get(layer, layer)}: {what}",
            description=(f"The {layer} layer of {what}, made {head.created_at:%Y-%m-%d %H:%M} "
                         f"UTC; the same features as /{root}/{head.id}/{layer}.geojson"),
            extent=extent,
            count=count,
            layer_url=f"/{root}/{head.id}/{layer}.geojson",
            keywords=tuple(head.tags),
        )  # fmt: skip

    # -- networks
    @staticmethod
    def _network_collection(row: Network) -> Collection:
        info = row.info or {}
        bbox = info.get("bbox")
        extent = (tuple(float(v) for v in bbox)
                  if isinstance(bbox, list) and len(bbox) == 4 else None)  # fmt: skip
        count = info.get("road_features")
        return Collection(
            id=collection_id("network", row.id, "roads"),
            source="network",
            owner_id=row.id,
            layer="roads",
            title=f"Roads: network {row.name!r} ({row.id})",
            description=(f"The roads of network {row.name!r} ({row.profile} profile); the same "
                         f"features as /networks/{row.id}/roads.geojson"),
            extent=extent,  # type: ignore[arg-type]
            count=int(count) if isinstance(count, int) else None,
            layer_url=f"/networks/{row.id}/roads.geojson",
        )  # fmt: skip

    def _networks(self, tenant: str) -> list[Network]:
        out: list[Network] = []
        at: Position | None = None
        while True:
            rows = self.store.list_networks(tenant, limit=1000, at=at).items
            out += rows
            if len(rows) < 1000:
                return out
            at = Position(rows[-1].created_at, rows[-1].id)

    def road_layer(self, network_id: str) -> FeatureLayer:
        road = self.roads.get(network_id)
        with self._lock:
            hit = self._road_layers.get(network_id)
            if hit is not None and hit[0] is road:
                return hit[1]
            layer = FeatureLayer(road.features, road.bbox)
            self._road_layers[network_id] = (road, layer)
            while len(self._road_layers) > self.roads.size:
                self._road_layers.popitem(last=False)
            return layer

    # -- the catalogue
    def list(self, tenant: str) -> list[Collection]:
        """Every collection of the tenant: plan layers (newest plan first, layers in their
        documented order), then each network's roads (oldest first)."""
        out = []
        for head in self._plan_heads(tenant):
            summary = self._summary(tenant, head.id)
            for layer in LAYERS_BY_KIND[head.kind]:
                if layer in summary:
                    out.append(self._plan_collection(head, layer, *summary[layer]))
        out += [self._network_collection(row) for row in self._networks(tenant)]
        return out

    def get(self, tenant: str, ident: str) -> tuple[Collection, FeatureLayer] | None:
        """The collection and its features, or None when the tenant has no such one.

        Raises OSError when a network's road files are missing.
        """
        parsed = parse_collection_id(ident)
        if parsed is None:
            return None
        source, owner, layer = parsed
        if source == "network":
            row = self.store.get_network(tenant, owner)
            if row is None:
                return None
            return self._network_collection(row), self.road_layer(owner)
        labels = self.store.plan_labels(owner)  # asked every time: plans may be deleted
        if labels is None or labels[0] != tenant:
            return None
        entry = self._plan(tenant, owner)
        if entry is None or layer not in entry.layers:
            return None
        head = PlanSummary(id=owner, kind=entry.kind, name=labels[1], tags=labels[2],
                           network_id=None, job_id=None, created_at=entry.created_at)  # fmt: skip
        features = entry.layers[layer]
        return self._plan_collection(head, layer, len(features), features.extent()), features


_catalogs: dict[int, Catalog] = {}
_catalogs_lock = threading.Lock()


def catalog(ctx: Any) -> Catalog:
    """The app's catalogue (``ctx`` is its :class:`recyclenet_api.deps.AppContext`)."""
    with _catalogs_lock:
        hit = _catalogs.get(id(ctx))
        if hit is None or hit.store is not ctx.store:
            hit = _catalogs[id(ctx)] = Catalog(ctx.store, ctx.roads)
        return hit
