"""Road features of registered networks, served as GeoJSON pages from memory.

:func:`recyclenet_api.tasks.networks.prepare_network` writes each network's features once, as
serialized JSON lines plus a bounding-box array; this cache keeps the most recently used
networks in memory, so a page is a numpy bbox filter and a byte join.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True)
class RoadLayer:
    features: list[bytes]
    bbox: npt.NDArray[np.float64]  # (n, 4): west, south, east, north

    def select(self, bbox: tuple[float, float, float, float] | None) -> npt.NDArray[np.int64]:
        """Positions of features whose bounding box intersects ``bbox`` (all if None)."""
        if bbox is None:
            return np.arange(len(self.features), dtype=np.int64)
        west, south, east, north = bbox
        b = self.bbox
        hit = (b[:, 0] <= east) & (b[:, 2] >= west) & (b[:, 1] <= north) & (b[:, 3] >= south)
        return np.nonzero(hit)[0].astype(np.int64)


def network_dir(data_dir: Path, network_id: str) -> Path:
    return data_dir / "networks" / network_id


class RoadsCache:
    """LRU cache of :class:`RoadLayer` by network id (thread safe)."""

    def __init__(self, data_dir: Path, size: int = 8) -> None:
        self.data_dir = data_dir
        self.size = size
        self._items: OrderedDict[str, RoadLayer] = OrderedDict()
        self._lock = threading.Lock()

    def cached(self, network_id: str) -> RoadLayer | None:
        """The network's layer if it is in memory (no file read), else None."""
        with self._lock:
            layer = self._items.get(network_id)
            if layer is not None:
                self._items.move_to_end(network_id)
            return layer

    def get(self, network_id: str) -> RoadLayer:
        """The network's layer, read from its files unless it is in memory (blocking)."""
        with self._lock:
            layer = self._items.get(network_id)
            if layer is not None:
                self._items.move_to_end(network_id)
                return layer
        folder = network_dir(self.data_dir, network_id)
        with open(folder / "roads.jsonl", "rb") as fh:
            features = [line.rstrip(b"\n") for line in fh if line.strip()]
        bbox = np.load(folder / "roads_bbox.npy", allow_pickle=False).reshape(-1, 4)
        layer = RoadLayer(features, bbox)
        with self._lock:
            self._items[network_id] = layer
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return layer

    def drop(self, network_id: str) -> None:
        """Forget a network's roads (it was deleted)."""
        with self._lock:
            self._items.pop(network_id, None)
