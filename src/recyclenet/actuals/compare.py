"""Plan versus actual: what a siting or routing plan expected, and what the records say.

Expected amounts
----------------
* **Stations** (siting plan): each open station's households (its load in the plan)
  times the kg per household per year of ``data/recyclables_per_household.csv`` (or the
  rates given), by material group, scaled to the period (days / 365). With the siting
  problem at hand, the demand points' own ``kg_per_year`` are used instead. Stations are
  compared on the groups they are expected to receive (``station_groups``, default the
  scrap metals: appliances are fetched from homes by pickup orders, not brought to
  stations).
* **Sorting centres** (the tier-2 plan of a two-tier siting): capacity and planned load
  (t/year); the actual load is the records' net tonnes delivered to the centre
  (``destination_id``), annualised over the period.
* **Routing** (routing plan): the planned vehicle-km of each vehicle per working day,
  times the days on which its records report ``vehicle_km``, against the sum of those
  reports (days without a report are left out of both); planned orders without any
  record are missed pickups.

Material groups are those of the rates table: catalogue materials ``appliance_*`` count
as ``appliances``, ``mixed_metal`` as ``ferrous`` (household mixed scrap is mostly steel),
others by their own name.

Every kg figure is net kg; tonnes are t; shares are percent.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Literal

from ..errors import InputError
from .records import Record, in_period

Bucket = Literal["day", "week", "month"]
#: Achievement (collected / expected) below which a station is flagged ``below``.
LOW_ACHIEVEMENT = 0.5
#: Achievement above which a station is flagged ``above``.
HIGH_ACHIEVEMENT = 1.5
#: Material groups stations are compared on by default.
STATION_GROUPS: tuple[str, ...] = ("ferrous", "non_ferrous")
DAYS_PER_YEAR = 365.0


def material_group(material: str) -> str:
    """The rates table's group of a catalogue material (see the module notes)."""
    if material.startswith("appliance"):
        return "appliances"
    if material == "mixed_metal":
        return "ferrous"
    return material


# --------------------------------------------------------------------------- expectation


@dataclass(frozen=True)
class Expectation:
    """What the plans expect, in plain values (the input of :func:`plan_vs_actual`).

    Attributes
    ----------
    station_kg_per_year : dict
        Station id -> material group -> expected kg per year.
    station_households : dict
        Station id -> households assigned.
    centre_capacity_t_per_year, centre_load_t_per_year : dict
        Sorting centre id -> capacity and planned load (t/year).
    vehicle_km_per_day : dict
        Vehicle id -> planned km per working day (a routing plan's day).
    order_items : dict
        Planned order id -> catalogue category -> count (pieces or kg).
    """

    station_kg_per_year: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    station_households: Mapping[str, float] = field(default_factory=dict)
    centre_capacity_t_per_year: Mapping[str, float] = field(default_factory=dict)
    centre_load_t_per_year: Mapping[str, float] = field(default_factory=dict)
    vehicle_km_per_day: Mapping[str, float] = field(default_factory=dict)
    order_items: Mapping[str, Mapping[str, float]] = field(default_factory=dict)


def _doc(x: Any) -> Mapping[str, Any] | None:
    """A plan's dict from a plan, a pipeline run or a dict."""
    if x is None or isinstance(x, Mapping):
        return x
    if hasattr(x, "problem") and hasattr(x, "to_dict"):  # SitingRun (with centres)
        return x.to_dict()
    if hasattr(x, "plan"):
        return x.plan.to_dict()
    return x.to_dict()


def expectation_from_plans(
    siting: Any = None,
    routing: Any = None,
    *,
    rates: Mapping[str, float] | None = None,
    order_items: Mapping[str, Mapping[str, float]] | None = None,
) -> Expectation:
    """Build the :class:`Expectation` of a siting plan, a routing plan or both.

    Parameters
    ----------
    siting : SitingPlan, SitingRun or dict, optional
        A station plan; a ``SitingRun`` or its ``to_dict()`` with ``centres`` adds the
        sorting centres. With a ``SitingRun`` the demand's ``kg_per_year`` is used.
    routing : RoutePlan, RoutingRun or dict, optional
        With a ``RoutingRun`` the planned orders' items are taken from its problem.
    rates : mapping, optional
        kg per household per year by material group (default the packaged table).
    order_items : mapping, optional
        Order id -> category -> count, for a routing plan given as a dict (e.g. from the
        ``items`` of its stops layer).
    """
    if siting is None and routing is None:
        raise InputError("give a siting plan, a routing plan or both")
    if rates is None:
        from ..siting.osm_inputs import recyclables_per_household

        rates = recyclables_per_household()
    station_kg: dict[str, dict[str, float]] = {}
    households: dict[str, float] = {}
    cap: dict[str, float] = {}
    centre_load: dict[str, float] = {}
    if siting is not None:
        doc = _doc(siting)
        assert doc is not None
        stations = doc["stations"] if isinstance(doc.get("stations"), Mapping) else doc
        centres = doc.get("centres") if isinstance(doc.get("centres"), Mapping) else None
        households, station_kg = _station_expectation(siting, stations, rates)
        if centres is not None:
            ind = centres.get("indicators") or {}
            for cid in centres.get("open_ids", []):
                load = (ind.get("load_by_site") or {}).get(cid)
                util = (ind.get("utilisation_by_site") or {}).get(cid)
                if load is not None:
                    centre_load[cid] = float(load)
                    if util:
                        cap[cid] = float(load) / float(util)
    km: dict[str, float] = {}
    items: dict[str, dict[str, float]] = {k: dict(v) for k, v in (order_items or {}).items()}
    if routing is not None:
        rdoc = _doc(routing)
        assert rdoc is not None
        if "routes" not in rdoc:
            raise InputError("routing plan: expected RoutePlan.to_dict output with 'routes'")
        for r in rdoc["routes"]:
            km[str(r["vehicle_id"])] = float(r["distance_m"]) / 1000.0
        problem = getattr(routing, "problem", None)
        if problem is not None and hasattr(problem, "orders"):
            for o in problem.orders:
                items.setdefault(o.id, {ln.category: ln.count for ln in o.items})
    return Expectation(station_kg, households, cap, centre_load, km, items)


def _station_expectation(
    siting: Any, stations: Mapping[str, Any], rates: Mapping[str, float]
) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
    open_ids = [str(i) for i in stations.get("open_ids", [])]
    problem = getattr(siting, "problem", None)
    households: dict[str, float] = {}
    kg: dict[str, dict[str, float]] = {sid: {} for sid in open_ids}
    if problem is not None and hasattr(problem, "demand"):
        demand = {d.id: d for d in problem.demand}
        for a in siting.plan.assignment:
            d = demand[a.demand_id]
            households[a.site_id] = households.get(a.site_id, 0.0) + d.households * a.share
            per = d.kg_per_year or {m: d.households * r for m, r in rates.items()}
            row = kg.setdefault(a.site_id, {})
            for m, v in per.items():
                row[m] = row.get(m, 0.0) + float(v) * a.share
        return households, kg
    ind = stations.get("indicators") or {}
    load = ind.get("load_by_site") or {}
    unit = (stations.get("problem") or {}).get("capacity_unit", "households")
    total_rate = sum(rates.values())
    for sid in open_ids:
        value = float(load.get(sid) or 0.0)
        if unit == "households":
            households[sid] = value
            kg[sid] = {m: value * r for m, r in rates.items()}
        else:  # t/year: split by the rates' shares
            kg[sid] = {m: 1000.0 * value * r / total_rate for m, r in rates.items()}
    return households, kg


# --------------------------------------------------------------------------- comparison


@dataclass(frozen=True)
class Row:
    """Expected against collected for one key (station, district, material, period).

    Attributes
    ----------
    key : str
    expected_kg, collected_kg : float
    records : int
        Records counted.
    flag : str
        ``below``, ``above``, ``ok``, ``no_records`` or ``not_planned`` (records from a
        station the plan does not have).
    district : str or None
    """

    key: str
    expected_kg: float
    collected_kg: float
    records: int = 0
    flag: str = "ok"
    district: str | None = None

    @property
    def achievement(self) -> float:
        """collected / expected (nan when nothing was expected)."""
        return self.collected_kg / self.expected_kg if self.expected_kg > 0 else math.nan

    def to_dict(self) -> dict[str, Any]:
        a = self.achievement
        return {"key": self.key, "expected_kg": round(self.expected_kg, 3),
                "collected_kg": round(self.collected_kg, 3), "records": self.records,
                "achievement_pct": round(100 * a, 2) if math.isfinite(a) else None,
                "flag": self.flag, "district": self.district}  # fmt: skip


@dataclass(frozen=True)
class CentreRow:
    """Utilisation of a sorting centre (or any destination facility) in the period."""

    centre_id: str
    capacity_t_per_year: float
    planned_t_per_year: float
    actual_t: float
    actual_t_per_year: float

    @property
    def planned_utilisation_pct(self) -> float:
        c = self.capacity_t_per_year
        return 100.0 * self.planned_t_per_year / c if c > 0 else math.nan

    @property
    def actual_utilisation_pct(self) -> float:
        c = self.capacity_t_per_year
        return 100.0 * self.actual_t_per_year / c if c > 0 else math.nan

    def to_dict(self) -> dict[str, Any]:
        return {"centre_id": self.centre_id,
                "capacity_t_per_year": _num(self.capacity_t_per_year),
                "planned_t_per_year": _num(self.planned_t_per_year),
                "actual_t": round(self.actual_t, 4),
                "actual_t_per_year": round(self.actual_t_per_year, 3),
                "planned_utilisation_pct": _num(self.planned_utilisation_pct),
                "actual_utilisation_pct": _num(self.actual_utilisation_pct)}  # fmt: skip


@dataclass(frozen=True)
class VehicleRow:
    """Planned against reported vehicle-km of one vehicle, on the days it reported km."""

    vehicle_id: str
    days: int
    planned_km: float
    reported_km: float

    def to_dict(self) -> dict[str, Any]:
        return {"vehicle_id": self.vehicle_id, "days": self.days,
                "planned_km": round(self.planned_km, 3),
                "reported_km": round(self.reported_km, 3)}  # fmt: skip


def _num(x: float) -> float | None:
    return round(x, 3) if math.isfinite(x) else None


@dataclass(frozen=True)
class PlanVsActual:
    """The comparison for one period ``[start, end)``; see :func:`plan_vs_actual`."""

    start: date
    end: date
    stations: tuple[Row, ...]
    districts: tuple[Row, ...]
    materials: tuple[Row, ...]
    periods: tuple[Row, ...]
    centres: tuple[CentreRow, ...]
    vehicles: tuple[VehicleRow, ...]
    missed_order_ids: tuple[str, ...]
    records_counted: int
    bucket: str = "week"

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    @property
    def collected_kg(self) -> float:
        return sum(r.collected_kg for r in self.materials)

    @property
    def expected_kg(self) -> float:
        return sum(r.expected_kg for r in self.materials)

    def station(self, station_id: str) -> Row:
        for r in self.stations:
            if r.key == station_id:
                return r
        raise KeyError(station_id)

    def flagged(self, flag: str) -> list[str]:
        """Station ids with ``flag`` (``below``, ``above``, ``no_records``...)."""
        return [r.key for r in self.stations if r.flag == flag]

    def to_dict(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat(), "end": self.end.isoformat(), "days": self.days,
            "records_counted": self.records_counted,
            "expected_kg": round(self.expected_kg, 3),
            "collected_kg": round(self.collected_kg, 3),
            "stations": [r.to_dict() for r in self.stations],
            "districts": [r.to_dict() for r in self.districts],
            "materials": [r.to_dict() for r in self.materials],
            "bucket": self.bucket,
            "periods": [r.to_dict() for r in self.periods],
            "centres": [c.to_dict() for c in self.centres],
            "vehicles": [v.to_dict() for v in self.vehicles],
            "missed_order_ids": list(self.missed_order_ids),
        }  # fmt: skip


def _as_date(x: date | datetime | str, what: str) -> date:
    if isinstance(x, datetime):
        return x.date()
    if isinstance(x, date):
        return x
    try:
        return date.fromisoformat(str(x).strip())
    except ValueError:
        raise InputError(f"{what}={x!r} is not a date; use YYYY-MM-DD") from None


def bucket_start(day: date, bucket: Bucket) -> date:
    """First day of the bucket holding ``day`` (weeks start on Monday)."""
    if bucket == "day":
        return day
    if bucket == "week":
        return day - timedelta(days=day.weekday())
    if bucket == "month":
        return day.replace(day=1)
    raise InputError(f"bucket {bucket!r}: use day, week or month")


def plan_vs_actual(
    expectation: Expectation,
    records: Iterable[Record],
    *,
    start: date | datetime | str,
    end: date | datetime | str,
    bucket: Bucket = "week",
    station_groups: Sequence[str] = STATION_GROUPS,
    districts: Mapping[str, str] | None = None,
    low: float = LOW_ACHIEVEMENT,
    high: float = HIGH_ACHIEVEMENT,
) -> PlanVsActual:
    """Compare the plans' expectation with the records of ``[start, end)``.

    Parameters
    ----------
    expectation : Expectation
        From :func:`expectation_from_plans`.
    records : iterable of Record
        The records that count (e.g. ``RecordBook.effective()``); those outside the
        period are ignored.
    start, end : date or ISO text
        The period, end excluded.
    bucket : {"day", "week", "month"}
        Time step of the series (weeks start on Monday).
    station_groups : sequence of str
        Material groups stations are compared on.
    districts : mapping, optional
        Station id -> district; else each station's district is the one its records
        give (the most frequent).
    low, high : float
        Achievement thresholds of the ``below`` and ``above`` flags.

    Raises
    ------
    InputError
        ``end`` not after ``start``, or a bad bucket.
    """
    d0, d1 = _as_date(start, "start"), _as_date(end, "end")
    if d1 <= d0:
        raise InputError(f"period: end {d1} must be after start {d0}")
    bucket_start(d0, bucket)  # validates the bucket
    if not 0 <= low <= high:
        raise InputError(f"thresholds: need 0 <= low ({low}) <= high ({high})")
    days = (d1 - d0).days
    scale = days / DAYS_PER_YEAR
    recs = in_period(records, datetime.combine(d0, datetime.min.time()),
                     datetime.combine(d1, datetime.min.time()))  # fmt: skip
    groups = set(station_groups)

    # stations
    by_station: dict[str, list[Record]] = defaultdict(list)
    for r in recs:
        if r.station_id is not None:
            by_station[r.station_id].append(r)
    district_of = dict(districts or {})
    for sid, rs in by_station.items():
        if sid not in district_of:
            names = [r.district for r in rs if r.district]
            if names:
                district_of[sid] = max(sorted(set(names)), key=names.count)
    station_rows = []
    for sid in sorted(set(expectation.station_kg_per_year) | set(by_station)):
        rs = [r for r in by_station.get(sid, []) if material_group(r.material) in groups]
        kg = sum(r.kg for r in rs)
        planned = sid in expectation.station_kg_per_year
        exp = scale * sum(v for m, v in expectation.station_kg_per_year.get(sid, {}).items()
                          if m in groups)  # fmt: skip
        row = Row(sid, exp, kg, len(rs), district=district_of.get(sid))
        flag = ("not_planned" if not planned else "no_records" if not rs
                else _flag(row.achievement, low, high))  # fmt: skip
        station_rows.append(Row(sid, exp, kg, len(rs), flag, district_of.get(sid)))

    # districts
    dist: dict[str, list[Row]] = defaultdict(list)
    for row in station_rows:
        dist[row.district or ""].append(row)
    district_rows = []
    for name in sorted(dist):
        rows = dist[name]
        e, c = sum(r.expected_kg for r in rows), sum(r.collected_kg for r in rows)
        n = sum(r.records for r in rows)
        tmp = Row(name, e, c, n)
        district_rows.append(Row(name or "-", e, c, n, _flag(tmp.achievement, low, high)))

    # materials (whole area: every record, every station's expectation)
    exp_m: dict[str, float] = defaultdict(float)
    for per in expectation.station_kg_per_year.values():
        for m, v in per.items():
            exp_m[m] += scale * v
    got_m: dict[str, list[Record]] = defaultdict(list)
    for r in recs:
        got_m[material_group(r.material)].append(r)
    material_rows = []
    for m in sorted(set(exp_m) | set(got_m)):
        tmp = Row(m, exp_m.get(m, 0.0), sum(r.kg for r in got_m.get(m, [])), len(got_m.get(m, [])))
        material_rows.append(Row(tmp.key, tmp.expected_kg, tmp.collected_kg, tmp.records,
                                 _flag(tmp.achievement, low, high)))  # fmt: skip

    # time series: bucket x material group
    period_rows = []
    buckets: dict[date, int] = defaultdict(int)
    day = d0
    while day < d1:
        buckets[bucket_start(day, bucket)] += 1
        day += timedelta(days=1)
    per_bucket: dict[tuple[date, str], list[float]] = defaultdict(lambda: [0.0, 0.0])
    for m, rs in got_m.items():
        for r in rs:
            acc = per_bucket[(bucket_start(r.time.date(), bucket), m)]
            acc[0] += r.kg
            acc[1] += 1
    for b, ndays in sorted(buckets.items()):
        for m in sorted(set(exp_m) | set(got_m)):
            kg, count = per_bucket.get((b, m), (0.0, 0.0))
            e = exp_m.get(m, 0.0) * ndays / days
            period_rows.append(Row(f"{b.isoformat()}|{m}", e, kg, int(count)))

    # sorting centres and other destinations
    to_dest: dict[str, float] = defaultdict(float)
    for r in recs:
        if r.destination_id:
            to_dest[r.destination_id] += r.kg / 1000.0
    centre_rows = []
    for cid in sorted(set(expectation.centre_load_t_per_year) | set(to_dest)):
        if cid not in expectation.centre_load_t_per_year and cid not in (
            expectation.centre_capacity_t_per_year
        ):
            continue  # a destination the plan does not size (e.g. a dismantler)
        t = to_dest.get(cid, 0.0)
        centre_rows.append(CentreRow(
            cid, expectation.centre_capacity_t_per_year.get(cid, math.nan),
            expectation.centre_load_t_per_year.get(cid, math.nan), t, t / scale))  # fmt: skip

    # vehicles
    km_days: dict[str, set[date]] = defaultdict(set)
    km_reported: dict[str, float] = defaultdict(float)
    for r in recs:
        if r.vehicle_id and r.vehicle_km is not None:
            km_days[r.vehicle_id].add(r.time.date())
            km_reported[r.vehicle_id] += r.vehicle_km
    vehicle_rows = []
    for vid in sorted(set(expectation.vehicle_km_per_day) | set(km_days)):
        n = len(km_days.get(vid, ()))
        vehicle_rows.append(VehicleRow(
            vid, n, expectation.vehicle_km_per_day.get(vid, 0.0) * n, km_reported.get(vid, 0.0)
        ))  # fmt: skip

    seen_orders = {r.order_id for r in recs if r.order_id}
    missed = tuple(sorted(o for o in expectation.order_items if o not in seen_orders))
    return PlanVsActual(d0, d1, tuple(station_rows), tuple(district_rows),
                        tuple(material_rows), tuple(period_rows), tuple(centre_rows),
                        tuple(vehicle_rows), missed, len(recs), bucket)  # fmt: skip


def _flag(achievement: float, low: float, high: float) -> str:
    if not math.isfinite(achievement):
        return "ok"
    if achievement < low:
        return "below"
    if achievement > high:
        return "above"
    return "ok"


# --------------------------------------------------------------------------- GeoJSON

#: Fill colour by station flag, for the achievement layer and maps.
FLAG_COLOURS: dict[str, str] = {
    "below": "#d7301f", "ok": "#1a9850", "above": "#2b83ba",
    "no_records": "#7f7f7f", "not_planned": "#984ea3",
}  # fmt: skip


def achievement_layer(result: PlanVsActual, stations: Mapping[str, Any]) -> dict[str, Any]:
    """The plan's stations layer with each station's achievement (RFC 7946).

    Parameters
    ----------
    result : PlanVsActual
    stations : FeatureCollection
        The siting plan's ``stations`` layer (``site_id`` property or feature id).

    Returns
    -------
    FeatureCollection
        Point features with ``expected_kg``, ``collected_kg``, ``achievement_pct``,
        ``flag`` and ``colour`` (see :data:`FLAG_COLOURS`); stations that are closed in
        the plan are left out.
    """
    rows = {r.key: r for r in result.stations}
    feats = []
    for f in stations.get("features", []):
        props = f.get("properties") or {}
        sid = str(props.get("site_id") or f.get("id"))
        if props.get("state") == "closed":
            continue
        row = rows.get(sid)
        if row is None:
            continue
        extra = row.to_dict()
        extra.pop("key")
        feats.append({
            "type": "Feature", "id": sid, "geometry": f["geometry"],
            "properties": {"site_id": sid, **extra, "colour": FLAG_COLOURS[row.flag],
                           "period": f"{result.start}/{result.end}"},
        })  # fmt: skip
    return {"type": "FeatureCollection", "features": feats}


__all__ = [
    "FLAG_COLOURS",
    "CentreRow",
    "Expectation",
    "PlanVsActual",
    "Row",
    "VehicleRow",
    "achievement_layer",
    "expectation_from_plans",
    "material_group",
    "plan_vs_actual",
]
