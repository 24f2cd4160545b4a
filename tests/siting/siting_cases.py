"""Tiny hand-made siting fixtures (all offline, seeded)."""

from __future__ import annotations

import numpy as np

from recyclenet.matrix import Matrix
from recyclenet.siting import Demand, Site

#: Positions (km along a line) of the six demand points and of the six sites.
LINE_KM = [0, 1, 2, 10, 11, 12]


def line_matrix(
    demand_km: list[float], site_km: list[float], d_prefix: str = "d", s_prefix: str = "s"
) -> Matrix:
    """Distances |x_i − x_j| in metres; durations at 10 m/s."""
    a = np.asarray(demand_km, dtype=float)[:, None]
    b = np.asarray(site_km, dtype=float)[None, :]
    dist = np.abs(a - b) * 1000.0
    return Matrix(
        tuple(f"{d_prefix}{int(x)}" for x in demand_km),
        tuple(f"{s_prefix}{int(x)}" for x in site_km),
        dist / 10.0,
        dist,
    )


def line_demand(households: list[float] | None = None) -> list[Demand]:
    hh = households or [2, 3, 1, 1, 1, 1]
    return [
        Demand(f"d{x}", 0.001 * x, 0.0, households=h, kg_per_year={"paper": 500.0 * h})
        for x, h in zip(LINE_KM, hh, strict=True)
    ]


def line_sites(**overrides: dict[str, object]) -> list[Site]:
    out = []
    for x in LINE_KM:
        sid = f"s{x}"
        out.append(Site(sid, 0.001 * x, 0.0, **overrides.get(sid, {})))  # type: ignore[arg-type]
    return out


def line_case() -> tuple[list[Demand], list[Site], Matrix]:
    """Two clusters of three points on a line; sites at the demand points."""
    return line_demand(), line_sites(), line_matrix(LINE_KM, LINE_KM)


def random_case(
    n: int, m: int, seed: int = 0, scale_deg: float = 0.05
) -> tuple[list[Demand], list[Site], Matrix]:
    """Uniform random points; Euclidean metres (1 degree = 111 km), 1.4 m/s."""
    rng = np.random.default_rng(seed)
    a = rng.random((n, 2)) * scale_deg
    b = rng.random((m, 2)) * scale_deg
    d = np.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).sum(-1)) * 111_000.0
    demand = [
        Demand(f"d{i}", a[i, 0], a[i, 1], households=float(rng.integers(1, 60))) for i in range(n)
    ]
    sites = [Site(f"s{j}", b[j, 0], b[j, 1]) for j in range(m)]
    mx = Matrix(tuple(x.id for x in demand), tuple(s.id for s in sites), d / 1.4, d)
    return demand, sites, mx
