"""The matrix job: travel time and distance between points (``recyclenet.build_matrix``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..converters.matrix import matrix_points
from ..schemas.matrix import MatrixData, MatrixJob
from . import Progress, noop_progress, to_jsonable


def _matrix_rows(arr: Any) -> list[list[float | None]]:
    a = np.asarray(arr, dtype=np.float64)
    out = a.astype(object)
    out[~np.isfinite(a)] = None
    return out.tolist()


def matrix_task(job: MatrixJob, *, progress: Progress = noop_progress) -> MatrixData:
    """Rows of ``duration_s`` and ``distance_m``, one per origin (``None``: unreachable)."""
    import recyclenet as rn

    origins, destinations = matrix_points(job)
    progress({"phase": "loading network"})
    network = rn.load_network(job.network.source, profile=job.network.profile)
    progress({"phase": "computing matrix", "pairs": len(origins) * len(destinations or origins)})
    matrix = rn.build_matrix(
        network,
        origins,
        destinations,
        max_snap_distance_m=job.request.max_snap_distance_m,
        too_far=job.request.too_far,
        workers=1,
    )
    return MatrixData(
        kind="matrix",
        network_id=job.network.id,
        input_crs=job.crs,
        profile=matrix.profile,
        origin_ids=list(matrix.origin_ids),
        destination_ids=list(matrix.destination_ids),
        duration_s=_matrix_rows(matrix.duration_s),
        distance_m=_matrix_rows(matrix.distance_m),
        snap_distance_m=to_jsonable(matrix.snap_distance_m),
    )
