"""The result of a siting solve: open sites, assignment, quality of the answer, indicators.

Everything is keyed by ids (never positions). Distances are metres, times seconds.
Access indicators are household-weighted over the demand points that are assigned.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from .problem import SitingProblem

PlanStatus = Literal["optimal", "feasible", "infeasible", "time_limit_no_solution"]


@dataclass(frozen=True)
class Assignment:
    """One demand point served by one site (several rows per point if split).

    Attributes
    ----------
    demand_id, site_id : str
    share : float
        Fraction of the point's demand served by this site (1 unless split).
    distance_m, duration_s : float
        Travel from the demand point to the site (inf if unreachable).
    """

    demand_id: str
    site_id: str
    share: float
    distance_m: float
    duration_s: float


@dataclass(frozen=True)
class Indicators:
    """Evaluation indicators of a plan.

    Attributes
    ----------
    households_total : float
    households_assigned : float
        Households of points assigned to an open site (max coverage may leave some).
    share_households_within_radius : float
        Share of all households whose assigned (nearest open) site is within the radius;
        nan without a radius.
    access_distance_mean_m, access_distance_p95_m : float
        Household-weighted mean and 95th percentile of the distance to the site.
    access_duration_mean_s, access_duration_p95_s : float
        The same for travel time.
    households_per_station_min, households_per_station_mean, households_per_station_max
        Over open sites.
    load_by_site : dict
        Load (in the problem's capacity unit) per open site id.
    utilisation_by_site : dict
        Load / capacity per open site id (nan if unlimited).
    """

    households_total: float
    households_assigned: float
    share_households_within_radius: float
    access_distance_mean_m: float
    access_distance_p95_m: float
    access_duration_mean_s: float
    access_duration_p95_s: float
    households_per_station_min: float
    households_per_station_mean: float
    households_per_station_max: float
    load_by_site: dict[str, float] = field(default_factory=dict)
    utilisation_by_site: dict[str, float] = field(default_factory=dict)


def _num(x: float) -> float | None:
    """JSON-safe number: None for nan/inf."""
    return float(x) if math.isfinite(x) else None


@dataclass(frozen=True)
class SitingPlan:
    """A siting answer with its status and proof of quality.

    Attributes
    ----------
    model : str
        ``p_median``, ``max_coverage``, ``min_stations`` or ``cflp``.
    metric : str
        ``distance_m`` or ``duration_s``: the unit of ``objective`` for p-median.
    status : {"optimal", "feasible", "infeasible", "time_limit_no_solution"}
    objective : float
        p-median: Σ weight × metric; max coverage: covered weight; min stations: number
        of stations; CFLP: fixed + closing + assignment cost. nan without a plan.
    bound : float
        Best proven bound on the optimum (lower for minimisation, upper for coverage).
    gap : float
        |objective − bound| / |objective| (0 when optimal; nan if unknown).
    time_s : float
        Wall-clock seconds of the solve.
    open_ids : tuple of str
        Every open site.
    opened_ids, kept_ids, closed_ids : tuple of str
        New sites opened; existing sites kept; existing sites closed.
    assignment : tuple of Assignment
        Demand → site; demand points left unassigned (coverage) are absent.
    unassigned_ids : tuple of str
        Demand points not assigned to any open site.
    indicators : Indicators
    heuristic_objective : float
        Objective of the greedy + interchange start (nan where not used).
    solver : str
        What produced the answer (e.g. ``"highs"``, ``"heuristic"``).
    message : str
        Why the status is what it is.
    unassigned_reasons : dict of str to str
        Why each unassigned demand point is not served (no site within the radius, off
        the network, load above the capacity in reach, or not covered by the p sites).
    split_ids : tuple of str
        Demand points whose load is above every single site's capacity (e.g. a
        5,000-household compound), served by several sites in shares.
    warnings : tuple of str
        Doubts about the result worth a look (e.g. far fewer households per station
        than the norm: sites too cheap, or p too large).
    """

    model: str
    metric: str
    status: PlanStatus
    objective: float
    bound: float
    gap: float
    time_s: float
    open_ids: tuple[str, ...]
    opened_ids: tuple[str, ...]
    kept_ids: tuple[str, ...]
    closed_ids: tuple[str, ...]
    assignment: tuple[Assignment, ...]
    unassigned_ids: tuple[str, ...]
    indicators: Indicators
    heuristic_objective: float = math.nan
    solver: str = ""
    message: str = ""
    unassigned_reasons: dict[str, str] = field(default_factory=dict)
    split_ids: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    def site_of(self) -> dict[str, str]:
        """Demand id → site id serving the largest share."""
        best: dict[str, tuple[float, str]] = {}
        for a in self.assignment:
            if a.demand_id not in best or a.share > best[a.demand_id][0]:
                best[a.demand_id] = (a.share, a.site_id)
        return {k: v[1] for k, v in best.items()}

    def to_dict(self, problem: SitingProblem | None = None) -> dict[str, Any]:
        """JSON-ready dict (nan and inf become None).

        With ``problem``, a ``"problem"`` member records the settings the indicators
        need later (radius in the metric's unit, households-per-station norm, capacity
        unit), so a stored plan can be evaluated on its own.
        """
        ind = self.indicators
        doc: dict[str, Any] = {
            "model": self.model,
            "metric": self.metric,
            "status": self.status,
            "objective": _num(self.objective),
            "bound": _num(self.bound),
            "gap": _num(self.gap),
            "time_s": round(self.time_s, 3),
            "solver": self.solver,
            "message": self.message,
            "heuristic_objective": _num(self.heuristic_objective),
            "open_ids": list(self.open_ids),
            "opened_ids": list(self.opened_ids),
            "kept_ids": list(self.kept_ids),
            "closed_ids": list(self.closed_ids),
            "unassigned_ids": list(self.unassigned_ids),
            "unassigned_reasons": dict(self.unassigned_reasons),
            "split_ids": list(self.split_ids),
            "warnings": list(self.warnings),
            "assignment": [
                {
                    "demand_id": a.demand_id,
                    "site_id": a.site_id,
                    "share": a.share,
                    "distance_m": _num(a.distance_m),
                    "duration_s": _num(a.duration_s),
                }
                for a in self.assignment
            ],
            "indicators": {
                k: (
                    {kk: _num(vv) for kk, vv in v.items()}
                    if isinstance(v, dict)
                    else _num(float(v))
                )
                for k, v in vars(ind).items()
            },
        }
        if problem is not None:
            doc["problem"] = {
                "model": problem.model,
                "metric": problem.metric,
                "radius": problem.radius,
                "households_per_station": problem.households_per_station,
                "capacity_unit": problem.capacity_unit,
            }
        return doc

    def summary(self) -> str:
        """A few human-readable lines."""
        ind = self.indicators
        lines = [
            f"{self.model}: {self.status}, objective {self.objective:.6g}, bound "
            f"{self.bound:.6g}, gap {100 * self.gap:.3g}%, {self.time_s:.2f} s ({self.solver})",
            f"open {len(self.open_ids)} sites (new {len(self.opened_ids)}, kept "
            f"{len(self.kept_ids)}, closed {len(self.closed_ids)}); unassigned demand points "
            f"{len(self.unassigned_ids)}",
            f"access: mean {ind.access_distance_mean_m:.0f} m / {ind.access_duration_mean_s:.0f} s,"
            f" p95 {ind.access_distance_p95_m:.0f} m / {ind.access_duration_p95_s:.0f} s; "
            f"households per station {ind.households_per_station_min:.0f}–"
            f"{ind.households_per_station_max:.0f} (mean {ind.households_per_station_mean:.0f})",
        ]
        if math.isfinite(ind.share_households_within_radius):
            lines.append(
                f"households within radius: {100 * ind.share_households_within_radius:.1f}%"
            )
        if self.message:
            lines.append(self.message)
        if self.unassigned_ids:
            lines.append(self.unassigned_text())
        if self.split_ids:
            lines.append(f"split across several stations (load above one station's capacity): "
                         f"{len(self.split_ids)} demand point(s)")  # fmt: skip
        lines.extend(f"warning: {w}" for w in self.warnings)
        return "\n".join(lines)

    def unassigned_text(self) -> str:
        """One line: how many demand points are unassigned, grouped by reason."""
        by_reason: dict[str, int] = {}
        for did in self.unassigned_ids:
            why = self.unassigned_reasons.get(did, "not assigned")
            by_reason[why] = by_reason.get(why, 0) + 1
        parts = "; ".join(f"{k} ({v})" for k, v in sorted(by_reason.items(), key=lambda x: -x[1]))
        return f"unassigned: {len(self.unassigned_ids)} demand point(s): {parts}"


@dataclass(frozen=True)
class TwoTierPlan:
    """Stations, then sorting centres fed by the open stations.

    Attributes
    ----------
    stations : SitingPlan
        Tier 1: demand → station.
    centres : SitingPlan
        Tier 2: open station → sorting centre (demand ids of this plan are station ids;
        loads in tonnes/year unless the centre problem says otherwise).
    time_s : float
    """

    stations: SitingPlan
    centres: SitingPlan
    time_s: float

    @property
    def status(self) -> PlanStatus:
        """The weaker of the two tiers' statuses."""
        order = ["optimal", "feasible", "time_limit_no_solution", "infeasible"]
        return max(self.stations.status, self.centres.status, key=order.index)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "status": self.status,
            "time_s": round(self.time_s, 3),
            "stations": self.stations.to_dict(),
            "centres": self.centres.to_dict(),
        }
