"""Validated inputs of a siting model: demand points, candidate sites and the problem.

Everything here is immutable and checked when built: a :class:`SitingProblem` that
exists can be solved, or is infeasible for a reason the solver reports. Errors are
:class:`~recyclenet.errors.InputError` with messages that name the offending ids.

Coordinates are WGS-84 lon/lat (EPSG:4326). Costs between demand and sites come from a
:class:`~recyclenet.matrix.Matrix` whose rows are demand ids and columns site ids; the
problem's ``metric`` picks ``distance_m`` (metres) or ``duration_s`` (seconds), and
``radius`` is in the same unit.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

import numpy as np
import numpy.typing as npt

from ..errors import InputError
from ..matrix import Matrix
from .defaults import DEFAULT_HOUSEHOLDS_PER_STATION

ModelKind = Literal["p_median", "max_coverage", "min_stations", "cflp"]
SiteStatus = Literal["existing", "required", "candidate", "forbidden"]
Metric = Literal["distance_m", "duration_s"]
KeepExisting = Literal["all", "allow_closing"]
CapacityUnit = Literal["households", "t_per_year"]
Uncoverable = Literal["raise", "leave"]

MODEL_KINDS: tuple[str, ...] = ("p_median", "max_coverage", "min_stations", "cflp")
SITE_STATUSES: tuple[str, ...] = ("existing", "required", "candidate", "forbidden")
_MAX_LISTED = 10


def _ids_text(ids: Sequence[str]) -> str:
    """Up to ten ids, then how many more."""
    shown = ", ".join(repr(i) for i in ids[:_MAX_LISTED])
    more = len(ids) - _MAX_LISTED
    return shown + (f" and {more} more" if more > 0 else "")


def _check_number(owner: str, name: str, value: float, *, minimum: float = 0.0) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{owner}: {name} must be a number, got {value!r}") from None
    if math.isnan(v) or v < minimum:
        raise InputError(f"{owner}: {name} must be >= {minimum:g}, got {value!r}")
    return v


def _check_lonlat(owner: str, lon: float, lat: float) -> tuple[float, float]:
    lon_f, lat_f = float(lon), float(lat)
    if not (math.isfinite(lon_f) and -180.0 <= lon_f <= 180.0):
        raise InputError(f"{owner}: lon must be in [-180, 180] degrees, got {lon!r}")
    if not (math.isfinite(lat_f) and -90.0 <= lat_f <= 90.0):
        raise InputError(f"{owner}: lat must be in [-90, 90] degrees, got {lat!r}")
    return lon_f, lat_f


@dataclass(frozen=True)
class Demand:
    """A demand point: households (or a building, or an aggregate) that use stations.

    Parameters
    ----------
    id : str
        Unique id; must be a row id of the problem's matrix.
    lon, lat : float
        WGS-84 degrees.
    households : float, default 1
        Households represented; the unit of station capacities when the problem's
        ``capacity_unit`` is ``"households"``.
    weight : float, optional
        Weight in the objective (p-median travel, coverage); defaults to ``households``.
    kg_per_year : mapping of str to float, optional
        Expected recyclables in kg/year by material; their sum is the load in
        ``capacity_unit="t_per_year"`` models (divided by 1000).
    """

    id: str
    lon: float
    lat: float
    households: float = 1.0
    weight: float | None = None
    kg_per_year: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "id", str(self.id))
        owner = f"demand {self.id!r}"
        lon, lat = _check_lonlat(owner, self.lon, self.lat)
        object.__setattr__(self, "lon", lon)
        object.__setattr__(self, "lat", lat)
        hh = _check_number(owner, "households", self.households)
        if not math.isfinite(hh):
            raise InputError(f"{owner}: households must be finite, got {self.households!r}")
        object.__setattr__(self, "households", hh)
        w = hh if self.weight is None else _check_number(owner, "weight", self.weight)
        if not math.isfinite(w):
            raise InputError(f"{owner}: weight must be finite, got {self.weight!r}")
        object.__setattr__(self, "weight", w)
        kg = {}
        for material, value in dict(self.kg_per_year).items():
            kg[str(material)] = _check_number(owner, f"kg_per_year[{material!r}]", value)
        object.__setattr__(self, "kg_per_year", MappingProxyType(kg))

    @property
    def t_per_year(self) -> float:
        """Total expected recyclables in tonnes/year (sum over materials / 1000)."""
        return sum(self.kg_per_year.values()) / 1000.0


@dataclass(frozen=True)
class Site:
    """A place where a station (or a sorting centre) may be, is, or must not be.

    Parameters
    ----------
    id : str
        Unique id; must be a column id of the problem's matrix.
    lon, lat : float
        WGS-84 degrees.
    status : {"existing", "required", "candidate", "forbidden"}
        ``existing`` sites are open today (kept, or closed at ``closing_cost`` when the
        problem allows closing); ``required`` sites must open; ``forbidden`` never open.
    fixed_cost : float, default 0
        Cost of having the site open (money, any currency); counts in the CFLP
        objective and in the budget.
    capacity : float, optional
        In the problem's ``capacity_unit`` (households, or tonnes/year); ``None`` means
        the problem's ``households_per_station`` norm in min stations and in a CFLP
        counted in households, unlimited otherwise.
    closing_cost : float, default 0
        Cost of closing an ``existing`` site; must be 0 for other statuses.
    """

    id: str
    lon: float
    lat: float
    status: SiteStatus = "candidate"
    fixed_cost: float = 0.0
    capacity: float | None = None
    closing_cost: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "id", str(self.id))
        owner = f"site {self.id!r}"
        lon, lat = _check_lonlat(owner, self.lon, self.lat)
        object.__setattr__(self, "lon", lon)
        object.__setattr__(self, "lat", lat)
        if self.status not in SITE_STATUSES:
            raise InputError(
                f"{owner}: status must be one of {', '.join(SITE_STATUSES)}, got {self.status!r}"
            )
        fc = _check_number(owner, "fixed_cost", self.fixed_cost)
        if not math.isfinite(fc):
            raise InputError(f"{owner}: fixed_cost must be finite, got {self.fixed_cost!r}")
        object.__setattr__(self, "fixed_cost", fc)
        if self.capacity is not None:
            cap = _check_number(owner, "capacity", self.capacity)
            object.__setattr__(self, "capacity", None if math.isinf(cap) else cap)
        cc = _check_number(owner, "closing_cost", self.closing_cost)
        if not math.isfinite(cc):
            raise InputError(f"{owner}: closing_cost must be finite, got {self.closing_cost!r}")
        if cc > 0 and self.status != "existing":
            raise InputError(
                f"{owner}: closing_cost applies to existing sites only (status is "
                f"{self.status!r}); set it to 0 or make the site existing"
            )
        object.__setattr__(self, "closing_cost", cc)


@dataclass(frozen=True)
class SitingProblem:
    """A siting model on a demand × site cost matrix.

    Parameters
    ----------
    demand : sequence of Demand
        Stored as a tuple.
    sites : sequence of Site
    matrix : Matrix
        Rows include every demand id, columns every site id (extra rows/columns are
        ignored; order does not matter). ``inf`` = unreachable.
    model : {"p_median", "max_coverage", "min_stations", "cflp"}
        ``p_median``: open ``p`` sites, minimise weight × cost to the nearest open site.
        ``max_coverage``: open ``p`` sites, maximise the weight within ``radius``.
        ``min_stations``: fewest sites so that every demand is within ``radius`` of its
        assigned site and no site serves more than its capacity (default
        ``households_per_station``); ties broken by weighted access cost.
        ``cflp``: minimise fixed costs (+ closing costs) + ``cost_per_unit`` × weight ×
        cost, with capacities in ``capacity_unit``.
    metric : {"distance_m", "duration_s"}
        Which matrix array is the cost; ``radius`` is in the same unit.
    p : int, optional
        Number of open sites (required for p-median and max coverage; optional upper
        bound for CFLP). It counts existing kept and required sites.
    radius : float, optional
        Service radius in metres or seconds (``metric``); required for max coverage and
        min stations, optional elsewhere (then used for indicators only).
    households_per_station : float, default DEFAULT_HOUSEHOLDS_PER_STATION (1500)
        Capacity norm of a station (min stations, CFLP in households) when a site has
        no capacity of its own.
    budget : float, optional
        Upper bound on Σ fixed_cost of open sites + Σ closing_cost of closed existing.
    keep_existing : {"all", "allow_closing"}
    capacity_unit : {"households", "t_per_year"}
        Unit of site capacities and of demand loads in capacitated models.
    single_source : bool, default True
        In capacitated models, each demand goes to one site (else it may be split).
    cost_per_unit : float, default 1
        CFLP: money per (weight × metric unit) of assignment.
    uncoverable : {"raise", "leave"}, default "raise"
        What to do with demand that no usable site can serve (:meth:`uncoverable_reasons`:
        no site within ``radius`` for min stations and max coverage, none reachable for
        p-median and CFLP, e.g. houses far from any path at the edge of an extract, or a
        load above the total capacity of the sites in reach). ``raise`` rejects the
        problem, naming them; ``leave`` solves for everything else and leaves these
        unassigned (``SitingPlan.unassigned_ids`` with the reason in
        ``SitingPlan.unassigned_reasons``), so coverage indicators show them as not
        covered. A point whose load is above every single site's capacity is split across
        sites (``SitingPlan.split_ids``), whatever ``single_source`` says.
    """

    demand: Sequence[Demand]
    sites: Sequence[Site]
    matrix: Matrix
    model: ModelKind = "p_median"
    metric: Metric = "distance_m"
    p: int | None = None
    radius: float | None = None
    households_per_station: float = DEFAULT_HOUSEHOLDS_PER_STATION
    budget: float | None = None
    keep_existing: KeepExisting = "all"
    capacity_unit: CapacityUnit = "households"
    single_source: bool = True
    cost_per_unit: float = 1.0
    uncoverable: Uncoverable = "raise"

    def __post_init__(self) -> None:
        demand = tuple(self.demand)
        sites = tuple(self.sites)
        object.__setattr__(self, "demand", demand)
        object.__setattr__(self, "sites", sites)
        if not all(isinstance(d, Demand) for d in demand):
            raise InputError("SitingProblem.demand must contain Demand objects")
        if not all(isinstance(s, Site) for s in sites):
            raise InputError("SitingProblem.sites must contain Site objects")
        if not isinstance(self.matrix, Matrix):
            raise InputError("SitingProblem.matrix must be a recyclenet.matrix.Matrix")
        if self.model not in MODEL_KINDS:
            raise InputError(f"model must be one of {', '.join(MODEL_KINDS)}, got {self.model!r}")
        if self.metric not in ("distance_m", "duration_s"):
            raise InputError(f"metric must be 'distance_m' or 'duration_s', got {self.metric!r}")
        if self.keep_existing not in ("all", "allow_closing"):
            raise InputError(
                f"keep_existing must be 'all' or 'allow_closing', got {self.keep_existing!r}"
            )
        if self.capacity_unit not in ("households", "t_per_year"):
            raise InputError(
                f"capacity_unit must be 'households' or 't_per_year', got {self.capacity_unit!r}"
            )
        if not demand:
            raise InputError("the problem has no demand points")
        if not sites:
            raise InputError("the problem has no sites")
        for label, ids in (("demand", [d.id for d in demand]), ("site", [s.id for s in sites])):
            seen: set[str] = set()
            dup = sorted({i for i in ids if i in seen or seen.add(i)})  # type: ignore[func-returns-value]
            if dup:
                raise InputError(f"duplicate {label} ids: {_ids_text(dup)}; ids must be unique")
        rows = set(self.matrix.origin_ids)
        cols = set(self.matrix.destination_ids)
        miss_d = [d.id for d in demand if d.id not in rows]
        if miss_d:
            raise InputError(
                f"demand ids missing from the matrix rows: {_ids_text(miss_d)}; build the "
                "matrix with every demand id as an origin"
            )
        miss_s = [s.id for s in sites if s.id not in cols]
        if miss_s:
            raise InputError(
                f"site ids missing from the matrix columns: {_ids_text(miss_s)}; build the "
                "matrix with every site id as a destination"
            )
        for name in ("households_per_station", "cost_per_unit"):
            v = _check_number("SitingProblem", name, getattr(self, name))
            if not math.isfinite(v) or (name == "households_per_station" and v <= 0):
                raise InputError(f"SitingProblem: {name} must be positive and finite, got {v}")
            object.__setattr__(self, name, v)
        if self.budget is not None:
            object.__setattr__(
                self, "budget", _check_number("SitingProblem", "budget", self.budget)
            )
        if self.radius is not None:
            r = _check_number("SitingProblem", "radius", self.radius)
            if r <= 0 or not math.isfinite(r):
                raise InputError(f"SitingProblem: radius must be positive and finite, got {r}")
            object.__setattr__(self, "radius", r)
        self._check_model_options()

    # -- checks per model ---------------------------------------------------------------

    def _check_model_options(self) -> None:
        usable = [s for s in self.sites if s.status != "forbidden"]
        forced = self.forced_open_ids
        if not usable:
            raise InputError("every site is forbidden; at least one site must be usable")
        if self.p is not None:
            if isinstance(self.p, bool) or not isinstance(self.p, (int, np.integer)):
                raise InputError(f"p must be an integer, got {self.p!r}")
            object.__setattr__(self, "p", int(self.p))
            if self.p < 1:
                raise InputError(f"p must be >= 1, got {self.p}")
            if self.p > len(usable):
                raise InputError(
                    f"p = {self.p} is larger than the {len(usable)} usable (not forbidden) "
                    "sites; lower p or add candidate sites"
                )
            if self.p < len(forced):
                raise InputError(
                    f"p = {self.p} is smaller than the {len(forced)} sites that must stay open "
                    f"(required, or existing with keep_existing='all'): {_ids_text(forced)}"
                )
        if self.model in ("p_median", "max_coverage") and self.p is None:
            raise InputError(f"model {self.model!r} needs p, the number of sites to open")
        if self.model in ("max_coverage", "min_stations") and self.radius is None:
            raise InputError(
                f"model {self.model!r} needs radius (in {self._radius_unit}, matching "
                f"metric={self.metric!r})"
            )
        if self.budget is not None:
            forced_set = set(forced)
            forced_cost = sum(s.fixed_cost for s in self.sites if s.id in forced_set)
            if forced_cost > self.budget + 1e-9:
                raise InputError(
                    f"budget {self.budget:g} is below the fixed cost {forced_cost:g} of the "
                    f"sites that must stay open: {_ids_text(forced)}"
                )
        if self.uncoverable not in ("raise", "leave"):
            raise InputError(f"uncoverable must be 'raise' or 'leave', got {self.uncoverable!r}")
        reasons = self.uncoverable_reasons()
        # max coverage leaves uncovered demand by its nature: it never raises
        if reasons and self.uncoverable == "raise" and self.model != "max_coverage":
            out = sorted(reasons)
            hh = float(sum(self.demand[i].households for i in out))
            ids = _ids_text([self.demand[i].id for i in out])
            if self.model == "min_stations":
                raise InputError(
                    f"full coverage is infeasible: {len(out)} demand ids ({hh:g} households) "
                    f"have no usable site within radius {self.radius:g} {self._radius_unit}: "
                    f"{ids}; raise the radius, add candidate sites near them, or pass "
                    "uncoverable='leave' to leave them unassigned"
                )
            raise InputError(
                f"demand ids {ids} cannot reach any usable site in the matrix (all inf or only "
                "forbidden sites); fix the network, drop these points, or pass "
                "uncoverable='leave' to leave them unassigned"
            )
        if self.model in ("min_stations", "cflp"):
            load = self.load_array()
            load[sorted(reasons)] = 0.0  # left-out demand needs no room
            cap = self.capacity_array()
            total_cap = float(cap[np.array([s.status != "forbidden" for s in self.sites])].sum())
            if load.sum() > total_cap * (1 + 1e-9):
                raise InputError(
                    f"total capacity of usable sites ({total_cap:g} {self.capacity_unit}) is "
                    f"below total demand ({load.sum():g} {self.capacity_unit}); add sites or "
                    "capacity"
                )

    def reach_array(self) -> npt.NDArray[np.bool_]:
        """Demand × site: may this site serve this demand (usable, reachable, in radius)?

        Max coverage and min stations need the site within ``radius``; p-median and CFLP
        need a finite cost.
        """
        cost = self.cost_array()
        if self.model in ("min_stations", "max_coverage"):
            assert self.radius is not None
            return np.asarray(cost <= self.radius)
        return np.isfinite(cost)

    def uncoverable_reasons(self) -> dict[int, str]:
        """Demand positions no plan can serve, with the reason (in words, for the report).

        A point is uncoverable when no usable site reaches it (within the radius for
        min stations and max coverage), or, in capacitated models, when its load is above
        the total capacity of the sites that reach it (then even split it cannot be
        served whole).
        """
        cached = self.__dict__.get("_uncoverable")
        if cached is not None:
            return dict(cached)
        reach = self.reach_array()
        out: dict[int, str] = {}
        off = "no usable site reachable on the network (off the roads or cut off)"
        near = f"no usable site within radius {self.radius or 0:g} {self._radius_unit}"
        reachable = np.asarray(np.isfinite(self.cost_array()).any(axis=1))
        for i in np.nonzero(~reach.any(axis=1))[0]:
            out[int(i)] = near if reachable[i] else off
        if self.model in ("min_stations", "cflp"):
            load = self.load_array()
            cap = self.capacity_array()
            room = np.where(reach, cap[None, :], 0.0).sum(axis=1)
            for i in np.nonzero((load > room * (1 + 1e-9)) & reach.any(axis=1))[0]:
                out[int(i)] = (
                    f"load {load[i]:g} {self.capacity_unit} above the total capacity "
                    f"{room[i]:g} of the sites that reach it"
                )
        object.__setattr__(self, "_uncoverable", out)
        return dict(out)

    def split_rows(self) -> npt.NDArray[np.bool_]:
        """Demand positions whose load exceeds the capacity of every site that reaches them.

        In capacitated models these points are split across several sites even with
        ``single_source=True`` (a 5,000-household compound needs several stations);
        the plan lists them in ``SitingPlan.split_ids``. Empty for other models.
        """
        n = len(self.demand)
        if self.model not in ("min_stations", "cflp"):
            return np.zeros(n, dtype=bool)
        reach = self.reach_array()
        load = self.load_array()
        best = np.where(reach, self.capacity_array()[None, :], 0.0).max(axis=1, initial=0.0)
        split = load > best * (1 + 1e-9)
        split[list(self.uncoverable_reasons())] = False
        return np.asarray(split)

    @property
    def _radius_unit(self) -> str:
        return "metres" if self.metric == "distance_m" else "seconds"

    # -- arrays in problem order (positions are internal; results use ids) --------------

    @property
    def demand_ids(self) -> tuple[str, ...]:
        """Demand ids in problem order."""
        return tuple(d.id for d in self.demand)

    @property
    def site_ids(self) -> tuple[str, ...]:
        """Site ids in problem order."""
        return tuple(s.id for s in self.sites)

    @property
    def forced_open_ids(self) -> list[str]:
        """Sites that must be open: required, and existing when ``keep_existing='all'``."""
        return [
            s.id
            for s in self.sites
            if s.status == "required" or (s.status == "existing" and self.keep_existing == "all")
        ]

    def metric_array(self) -> npt.NDArray[np.float64]:
        """Matrix values (``metric``) as demand × site in problem order; inf = unreachable.

        A fresh, writable copy on every call.
        """
        cached = self.__dict__.get("_metric_cache")
        if cached is None:
            full = getattr(self.matrix, self.metric)
            if (
                self.matrix.origin_ids == self.demand_ids
                and self.matrix.destination_ids == self.site_ids
            ):
                cached = np.asarray(full, dtype=np.float64)
            else:
                r_pos = {k: i for i, k in enumerate(self.matrix.origin_ids)}
                c_pos = {k: i for i, k in enumerate(self.matrix.destination_ids)}
                rows = np.array([r_pos[i] for i in self.demand_ids], dtype=np.intp)
                cols = np.array([c_pos[i] for i in self.site_ids], dtype=np.intp)
                cached = np.asarray(full, dtype=np.float64)[np.ix_(rows, cols)]
                cached.setflags(write=False)
            object.__setattr__(self, "_metric_cache", cached)
        return np.array(cached, dtype=np.float64)

    def cost_array(self) -> npt.NDArray[np.float64]:
        """Like :meth:`metric_array`, with forbidden site columns set to inf."""
        cost = self.metric_array()
        forbidden = np.array([s.status == "forbidden" for s in self.sites])
        cost[:, forbidden] = np.inf
        return cost

    def weight_array(self) -> npt.NDArray[np.float64]:
        """Objective weight per demand point."""
        return np.array([float(d.weight or 0.0) for d in self.demand])

    def load_array(self) -> npt.NDArray[np.float64]:
        """Load per demand point in ``capacity_unit``."""
        if self.capacity_unit == "households":
            return np.array([d.households for d in self.demand])
        return np.array([d.t_per_year for d in self.demand])

    def capacity_array(self) -> npt.NDArray[np.float64]:
        """Capacity per site in ``capacity_unit``; a site without one gets the norm.

        The norm (``households_per_station``) applies in min stations and in a CFLP
        counted in households; elsewhere a site without capacity is unlimited (inf).
        """
        norm = self.model == "min_stations" or (
            self.model == "cflp" and self.capacity_unit == "households"
        )
        default = self.households_per_station if norm else math.inf
        return np.array([default if s.capacity is None else s.capacity for s in self.sites])

    def with_options(self, **changes: object) -> SitingProblem:
        """A copy with some fields changed (validated again)."""
        from dataclasses import replace

        return replace(self, **changes)  # type: ignore[arg-type]


def sites_by_id(sites: Iterable[Site]) -> dict[str, Site]:
    """Index sites by id."""
    return {s.id: s for s in sites}
