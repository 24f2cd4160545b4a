"""A matrix request (:class:`recyclenet_api.schemas.MatrixJob`) -> the library's points."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..schemas.matrix import MatrixJob
from .points import PayloadError, placed_points

if TYPE_CHECKING:
    from recyclenet import Points


def matrix_points(job: MatrixJob) -> tuple[Points, Points | None]:
    """Origins and destinations (None: the origins) in WGS-84; ids unique in each list."""
    import recyclenet as rn

    body, crs = job.request, job.crs
    if body.destinations is not None and not body.destinations:
        raise PayloadError("destinations", "give at least one destination or omit it")
    out: list[Points | None] = []
    for label, points in (("origins", body.origins), ("destinations", body.destinations)):
        if points is None:
            out.append(None)
            continue
        placed = placed_points(points, label, crs)
        ids = [p.id for p in placed]
        if len(set(ids)) != len(ids):
            dups = sorted({i for i in ids if ids.count(i) > 1})[:10]
            raise PayloadError(label, f"duplicate point ids {dups}")
        out.append(rn.Points.from_records([{"id": p.id, "lon": p.lon, "lat": p.lat}
                                           for p in placed]))  # fmt: skip
    origins, destinations = out
    assert origins is not None
    return origins, destinations
