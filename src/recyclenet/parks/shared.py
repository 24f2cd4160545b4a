"""Siting a shared park facility (transfer station or treatment plant) and what it saves.

The streams the facility accepts are the demand of the existing capacitated facility
location model (:func:`recyclenet.siting.solve_siting`, model ``cflp``): one demand
point per stream at its enterprise's gate, weighing its tonnes/year; candidate sites
with the facility's capacity and their yearly fixed cost; assignment cost = transport
rate (per t·km) × tonnes/year × road metres / 1000. Single-sourced: a stream goes to one
site. ``p`` sites at most (default one).

Each stream's yearly cost with the facility is its transport to the site plus, per
tonne, the facility's gate fee and, for a transfer station, the onward bulk haul and the
net fee of the receivers the allocation chose; without it ("contracting alone") it is
the stream's cost in the allocation (transport to its receivers + their net fees). The
saving is the difference, fixed costs of the open sites included.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ..errors import InputError
from ..matrix import Matrix
from ..siting import Demand, Site, SitingPlan, SitingProblem, solve_siting
from .allocation import Allocation, transport_rate
from .model import Park, Stream, ids_text


@dataclass(frozen=True)
class StreamSaving:
    """One stream's yearly cost alone and with the shared facility."""

    stream_id: str
    site_id: str
    tonnes_per_year: float
    cost_alone: float
    cost_shared: float


@dataclass(frozen=True)
class SharedPlan:
    """Where the shared facility goes and what the park saves.

    Attributes
    ----------
    siting : SitingPlan
        The CFLP answer (status, objective, bound, gap; demand ids are stream ids).
    open_ids : tuple of str
    streams : tuple of StreamSaving
    fixed_cost_per_year : float
    cost_alone_per_year, cost_shared_per_year, saving_per_year : float
    """

    siting: SitingPlan
    open_ids: tuple[str, ...]
    streams: tuple[StreamSaving, ...]
    fixed_cost_per_year: float
    cost_alone_per_year: float
    cost_shared_per_year: float

    @property
    def saving_per_year(self) -> float:
        """Cost alone − cost shared (positive: the facility pays)."""
        return self.cost_alone_per_year - self.cost_shared_per_year

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "open_ids": list(self.open_ids),
            "status": self.siting.status,
            "objective": self.siting.objective,
            "bound": self.siting.bound if math.isfinite(self.siting.bound) else None,
            "gap": self.siting.gap if math.isfinite(self.siting.gap) else None,
            "fixed_cost_per_year": self.fixed_cost_per_year,
            "cost_alone_per_year": self.cost_alone_per_year,
            "cost_shared_per_year": self.cost_shared_per_year,
            "saving_per_year": self.saving_per_year,
            "streams": [vars(s) for s in self.streams],
        }


def served_streams(park: Park) -> list[Stream]:
    """Streams the shared facility accepts (all when it lists no codes)."""
    if park.shared is None:
        raise InputError("the park has no shared facility to site (give 'shared:')")
    codes = park.shared.accepted_codes
    if not codes:
        return list(park.streams)
    out = []
    for s in park.streams:
        c = park.code_of(s)
        if c.code in codes or c.category in codes:
            out.append(s)
    return out


def site_shared_facility(
    park: Park,
    allocation: Allocation,
    matrix: Matrix,
    *,
    p: int = 1,
    time_limit_s: float = 10.0,
) -> SharedPlan:
    """Site the park's shared facility among its candidate sites (see the module docstring).

    Parameters
    ----------
    park : Park
        With ``shared`` and ``sites``.
    allocation : Allocation
        The plan without the facility ("contracting alone").
    matrix : Matrix
        Road distances from every enterprise id to every candidate site id.
    p : int
        Most sites to open.

    Raises
    ------
    InputError
        No candidate sites, no stream the facility accepts, or a capacity below the
        streams' total (naming both).
    """
    shared = park.shared
    streams = served_streams(park)
    if shared is None or not park.sites:
        raise InputError("siting a shared facility needs candidate sites ('sites:')")
    if not streams:
        raise InputError(
            f"the shared facility accepts {sorted(shared.accepted_codes)} but no stream has "
            "these codes"
        )
    total = sum(s.tonnes_per_year for s in streams)
    if total > p * shared.capacity_t_per_year * (1 + 1e-9):
        raise InputError(
            f"shared facility capacity {shared.capacity_t_per_year:g} t/year x {p} site(s) is "
            f"below the {total:g} t/year of the streams it accepts "
            f"({ids_text([s.id for s in streams])}); raise its capacity or p"
        )
    alone = {}
    for s in streams:
        flows = allocation.flows_of(s.id)
        if not flows or sum(f.tonnes_per_year for f in flows) < s.tonnes_per_year * (1 - 1e-9):
            raise InputError(
                f"stream {s.id!r} is not fully allocated, so its cost alone is unknown; "
                "fix its allocation first"
            )
        alone[s.id] = sum(f.cost_per_year for f in flows)
    rows = [s.enterprise_id for s in streams]
    cols = [c.id for c in park.sites]
    sub = matrix.select(sorted(set(rows)), cols)
    r_pos = {k: i for i, k in enumerate(sub.origin_ids)}
    idx = [r_pos[r] for r in rows]
    # one matrix row per stream; cost per (t/year x metre) differs by stream: fold the
    # transport rate into the distances and use cost_per_unit = 1 / 1000
    rate = [transport_rate(park, s) for s in streams]
    dist = sub.distance_m[idx] * [[r] for r in rate]
    m = Matrix(
        tuple(s.id for s in streams), tuple(cols), sub.duration_s[idx], dist, profile=sub.profile
    )
    demand = [
        Demand(
            s.id,
            park.enterprises_by_id[s.enterprise_id].lon,
            park.enterprises_by_id[s.enterprise_id].lat,
            households=0.0,
            weight=s.tonnes_per_year,
            kg_per_year={s.code: 1000.0 * s.tonnes_per_year},
        )
        for s in streams
    ]
    sites = [
        Site(
            c.id,
            c.lon,
            c.lat,
            capacity=shared.capacity_t_per_year,
            fixed_cost=c.fixed_cost_per_year,
        )
        for c in park.sites
    ]
    problem = SitingProblem(
        demand,
        sites,
        m,
        model="cflp",
        metric="distance_m",
        p=p,
        capacity_unit="t_per_year",
        single_source=True,
        cost_per_unit=1.0 / 1000.0,
    )
    plan = solve_siting(problem, time_limit_s=time_limit_s)
    if plan.status in ("infeasible", "time_limit_no_solution"):
        raise InputError(f"no site for the shared facility: {plan.message}")
    site_of = plan.site_of()
    fixed = sum(c.fixed_cost_per_year for c in park.sites if c.id in set(plan.open_ids))
    out = []
    for k, s in enumerate(streams):
        j = cols.index(site_of[s.id])
        per_t = rate[k] * float(sub.distance_m[idx[k], j]) / 1000.0 + shared.gate_fee_per_t
        if shared.kind == "transfer":
            flows = allocation.flows_of(s.id)
            fee = sum(f.tonnes_per_year * f.fee_per_t for f in flows) / s.tonnes_per_year
            per_t += shared.onward_cost_per_t + fee
        out.append(
            StreamSaving(
                s.id, site_of[s.id], s.tonnes_per_year, alone[s.id], per_t * s.tonnes_per_year
            )
        )
    return SharedPlan(
        plan,
        tuple(plan.open_ids),
        tuple(out),
        fixed,
        sum(x.cost_alone for x in out),
        sum(x.cost_shared for x in out) + fixed,
    )
