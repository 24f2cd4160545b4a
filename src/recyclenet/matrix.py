"""Travel-time and distance matrices between points on a road network.

A :class:`Matrix` is directed: ``duration_s[i, j]`` is the time to drive from origin
``origin_ids[i]`` to destination ``destination_ids[j]`` along the fastest path, and
``distance_m[i, j]`` the length of that same path. Unreachable pairs are ``inf`` in
both arrays, never zero.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from .errors import InputError
from .network.shortest_paths import decode, matrix_weights
from .network.snap import DEFAULT_MAX_SNAP_DISTANCE_M, SnappedPoints, snap_points

if TYPE_CHECKING:
    from .network.road_network import RoadNetwork
    from .points import Points

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class Matrix:
    """Directed travel matrix between two lists of point ids.

    Attributes
    ----------
    origin_ids, destination_ids : tuple of str
        Row and column ids, in order.
    duration_s : ndarray, shape (n_origins, n_destinations)
        Travel time in seconds along the fastest path; ``inf`` where unreachable.
    distance_m : ndarray, same shape
        Length in metres of that path; ``inf`` where unreachable.
    profile : str
        Name of the vehicle profile the matrix was built for.
    """

    origin_ids: tuple[str, ...]
    destination_ids: tuple[str, ...]
    duration_s: FloatArray
    distance_m: FloatArray
    profile: str = "car"
    snap_distance_m: dict[str, float] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "origin_ids", tuple(str(i) for i in self.origin_ids))
        object.__setattr__(self, "destination_ids", tuple(str(i) for i in self.destination_ids))
        shape = (len(self.origin_ids), len(self.destination_ids))
        for name in ("duration_s", "distance_m"):
            arr = np.asarray(getattr(self, name), dtype=np.float64)
            if arr.shape != shape:
                raise InputError(
                    f"Matrix.{name} has shape {arr.shape}, expected {shape} "
                    "(one row per origin id, one column per destination id)"
                )
            if np.isnan(arr).any():
                raise InputError(f"Matrix.{name} contains NaN; use inf for unreachable pairs")
            if (arr < 0).any():
                raise InputError(f"Matrix.{name} contains negative values")
            arr.setflags(write=False)
            object.__setattr__(self, name, arr)
        for label, ids in (("origin", self.origin_ids), ("destination", self.destination_ids)):
            if len(set(ids)) != len(ids):
                dup = sorted({i for i in ids if ids.count(i) > 1})
                raise InputError(f"duplicate {label} ids in matrix: {dup[:10]}")

    @property
    def shape(self) -> tuple[int, int]:
        """``(n_origins, n_destinations)``."""
        return (len(self.origin_ids), len(self.destination_ids))

    @property
    def reachable(self) -> npt.NDArray[np.bool_]:
        """Boolean array: True where the destination can be reached from the origin."""
        return np.isfinite(self.duration_s)

    def unreachable_pairs(self) -> list[tuple[str, str]]:
        """Every ``(origin_id, destination_id)`` pair with no path."""
        rows, cols = np.nonzero(~self.reachable)
        return [(self.origin_ids[r], self.destination_ids[c]) for r, c in zip(rows, cols)]

    def select(
        self, origin_ids: Sequence[str] | None = None, destination_ids: Sequence[str] | None = None
    ) -> Matrix:
        """Sub-matrix for the given ids (in the given order)."""
        o_pos = {k: i for i, k in enumerate(self.origin_ids)}
        d_pos = {k: i for i, k in enumerate(self.destination_ids)}
        o = list(self.origin_ids if origin_ids is None else origin_ids)
        d = list(self.destination_ids if destination_ids is None else destination_ids)
        missing = [i for i in o if i not in o_pos] + [i for i in d if i not in d_pos]
        if missing:
            raise InputError(f"ids not in matrix: {missing[:10]}")
        rows = [o_pos[i] for i in o]
        cols = [d_pos[i] for i in d]
        return Matrix(
            tuple(o),
            tuple(d),
            self.duration_s[np.ix_(rows, cols)],
            self.distance_m[np.ix_(rows, cols)],
            profile=self.profile,
        )


def build_matrix(
    network: RoadNetwork,
    origins: Points,
    destinations: Points | None = None,
    *,
    max_snap_distance_m: float = DEFAULT_MAX_SNAP_DISTANCE_M,
    workers: int | None = None,
    cache_dir: str | Path | None = None,
    too_far: str = "raise",
) -> Matrix:
    """Travel time and distance from every origin to every destination.

    Points are snapped to the nearest drivable edge (see :func:`snap_points`); paths
    start and end at the snapped positions and respect one-way streets.

    Parameters
    ----------
    network : RoadNetwork
        The road graph of one vehicle profile.
    origins, destinations : Points
        Destinations default to the origins (a square matrix).
    max_snap_distance_m : float
        Points farther than this from any road raise :class:`SnapError`.
    workers : int or None
        Processes for the shortest-path searches; None: every core on large requests.
    cache_dir : path or None
        Directory for cached matrices keyed by a fingerprint of the network, its
        profile, the points and the snapping limit; a hit skips all work.
    too_far : {"raise", "unreachable"}
        What to do with points farther than ``max_snap_distance_m`` from any road:
        raise :class:`SnapError` naming them, or keep them with ``inf`` rows and
        columns (their diagonal stays 0), e.g. for a vehicle that cannot reach them.

    Returns
    -------
    Matrix
        ``duration_s`` and ``distance_m`` with ``inf`` for unreachable pairs.
    """
    destinations = origins if destinations is None else destinations
    if too_far not in ("raise", "unreachable"):
        raise InputError(f"too_far must be 'raise' or 'unreachable', got {too_far!r}")
    raise_too_far = too_far == "raise"
    cache_file = None
    if cache_dir is not None:
        key = _cache_key(network, origins, destinations, max_snap_distance_m, too_far)
        cache_file = Path(cache_dir) / f"matrix-{key}.npz"
        cached = _read_cache(cache_file, origins, destinations, network.profile.name)
        if cached is not None:
            return cached

    def place(points: Points) -> SnappedPoints:
        return snap_points(network, points, max_snap_distance_m=max_snap_distance_m,
                           raise_too_far=raise_too_far)  # fmt: skip

    snapped_o = place(origins)
    snapped_d = snapped_o if destinations is origins else place(destinations)
    weights = matrix_weights(network, snapped_o, snapped_d, workers=workers)
    far_o = snapped_o.snap_distance_m > max_snap_distance_m
    far_d = snapped_d.snap_distance_m > max_snap_distance_m
    if far_o.any() or far_d.any():
        weights[far_o, :] = np.inf
        weights[:, far_d] = np.inf
        d_pos = {k: j for j, k in enumerate(destinations.ids)}
        for i in np.nonzero(far_o)[0]:
            j = d_pos.get(origins.ids[i])
            if j is not None:
                weights[i, j] = 0.0
    duration_s, distance_m = decode(weights)
    snap = dict(zip(snapped_o.ids, snapped_o.snap_distance_m.tolist()))
    snap.update(zip(snapped_d.ids, snapped_d.snap_distance_m.tolist()))
    matrix = Matrix(origins.ids, destinations.ids, duration_s, distance_m,
                    profile=network.profile.name, snap_distance_m=snap)  # fmt: skip
    if cache_file is not None:
        _write_cache(cache_file, matrix)
    return matrix


def _cache_key(
    network: RoadNetwork, origins: Points, destinations: Points, limit_m: float, too_far: str
) -> str:
    h = hashlib.sha256()
    h.update(f"v1|{network.fingerprint}|{limit_m!r}|{too_far}".encode())
    for pts in (origins, destinations):
        h.update("\x1f".join(pts.ids).encode("utf-8"))
        h.update(np.ascontiguousarray(pts.lon).tobytes())
        h.update(np.ascontiguousarray(pts.lat).tobytes())
    return h.hexdigest()[:40]


def _read_cache(path: Path, origins: Points, destinations: Points, profile: str) -> Matrix | None:
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            if (
                tuple(data["origin_ids"].tolist()) != origins.ids
                or tuple(data["destination_ids"].tolist()) != destinations.ids
            ):
                return None
            snap = dict(zip(data["snap_ids"].tolist(), data["snap_m"].tolist()))
            return Matrix(origins.ids, destinations.ids, data["duration_s"], data["distance_m"],
                          profile=profile, snap_distance_m=snap)  # fmt: skip
    except Exception:  # any damage (truncated zip, empty file) means: recompute
        return None


def _write_cache(path: Path, matrix: Matrix) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    with open(tmp, "wb") as fh:
        np.savez(
            fh,
            origin_ids=np.array(matrix.origin_ids, dtype=str),
            destination_ids=np.array(matrix.destination_ids, dtype=str),
            duration_s=matrix.duration_s,
            distance_m=matrix.distance_m,
            snap_ids=np.array(list(matrix.snap_distance_m), dtype=str),
            snap_m=np.array(list(matrix.snap_distance_m.values()), dtype=np.float64),
        )
    os.replace(tmp, path)  # atomic: readers never see a half-written file
