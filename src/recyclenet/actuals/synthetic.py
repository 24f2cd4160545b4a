"""Seeded synthetic collection records around a plan, for the demo and tests.

Not data: a month of plausible weighbridge tickets and pickup receipts made from a
plan's expectation, with

* **noise**: each pickup's net kg is the expected amount since the last pickup times a
  lognormal factor (sigma ``noise``);
* **missed pickups**: each scheduled station pickup is skipped with probability
  ``miss_rate`` (the next one carries the backlog), and each planned order of the
  routing day is missed with the same probability;
* **one under-performing station**: the station with the most expected scrap (or
  ``weak_station``) delivers only ``weak_factor`` of its expectation;
* household appliance pickups on the other working days, about ``appliance_share`` of
  the expected appliance arisings, with types and sizes drawn from a plausible mix, most
  delivered to the licensed dismantler ``dismantler_id``, a few to the sorting centre;
* vehicle-km reported on each vehicle's first ticket of a day: the plan's km per day
  times a normal factor (sd 0.1).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta

import numpy as np

from ..catalog import default_catalog
from ..errors import InputError
from .compare import Expectation
from .records import Record

#: Scrap shares of a station's metal by ticket category.
STATION_SCRAP = (("scrap_ferrous", "ferrous"), ("scrap_non_ferrous", "non_ferrous"))
#: Appliance bookings: (category, share, [(type, size, weight)...]).
_Option = tuple[str | None, float | None, float]
APPLIANCE_TYPES: tuple[tuple[str, float, tuple[_Option, ...]], ...] = (
    ("tv", 0.30, (("lcd", 42.0, 0.6), ("crt", 21.0, 0.3), ("crt", 12.0, 0.1))),
    ("washing_machine", 0.22, (("automatic", 7.0, 0.6), ("twin_tub", 6.0, 0.3),
                               ("single_tub", 3.0, 0.1))),
    ("refrigerator", 0.18, ((None, 200.0, 0.8), (None, 40.0, 0.2))),
    ("air_conditioner", 0.15, (("split", 3500.0, 1.0),)),
    ("computer", 0.15, (("desktop", None, 0.6), ("laptop", None, 0.3), ("tablet", None, 0.1))),
)  # fmt: skip
TARE_KG = 2800.0
"""Tare of the collection vehicle on the weighbridge (a loaded 4.2 m box truck is weighed)."""


def synthetic_records(
    expectation: Expectation,
    *,
    start: date,
    days: int = 31,
    seed: int = 0,
    centre_id: str | None = None,
    vehicle_ids: Sequence[str] = ("truck-1",),
    plan_day_orders: Mapping[str, str | None] | None = None,
    station_interval_days: int = 4,
    noise: float = 0.2,
    miss_rate: float = 0.1,
    weak_station: str | None = None,
    weak_factor: float = 0.3,
    appliance_share: float = 0.7,
    dismantler_id: str = "dismantler_1",
    districts: Mapping[str, str] | None = None,
) -> list[Record]:
    """A seeded month of records around ``expectation`` (see the module notes).

    Parameters
    ----------
    expectation : Expectation
        Stations' expected kg/year by material group, vehicle km per day, planned orders.
    start : date
        First day; ``days`` days are generated (Sundays have no pickups).
    centre_id : str, optional
        Destination of station scrap (default: the first sorting centre of the plan).
    vehicle_ids : sequence of str
        Vehicles taking turns on station pickups (default one truck); the plan's
        vehicles report their km on the routing day.
    plan_day_orders : mapping, optional
        Order id -> facility id its route unloads at, for the planned orders of the first
        working day (the routing plan's day).
    """
    if days < 1:
        raise InputError(f"days={days} must be >= 1")
    if not 0 <= miss_rate < 1 or not 0 < weak_factor <= 1 or noise < 0:
        raise InputError("need 0 <= miss_rate < 1, 0 < weak_factor <= 1 and noise >= 0")
    rng = np.random.default_rng(seed)
    cat = default_catalog()
    centre = centre_id or next(iter(sorted(expectation.centre_load_t_per_year)), None)
    metal = {sid: sum(per.get(g, 0.0) for _, g in STATION_SCRAP)
             for sid, per in expectation.station_kg_per_year.items()}  # fmt: skip
    weak = weak_station or (max(sorted(metal), key=lambda s: metal[s]) if metal else None)
    out: list[Record] = []
    km_reported: set[tuple[str, date]] = set()

    def km_for(vid: str, day: date) -> float | None:
        if (vid, day) in km_reported:
            return None
        km_reported.add((vid, day))
        per_day = expectation.vehicle_km_per_day.get(vid)
        if per_day is None:
            per_day = 40.0  # station rounds of a truck not in the routing plan
        return round(max(per_day * float(rng.normal(1.0, 0.1)), 0.0), 1)

    work_days = [start + timedelta(days=k) for k in range(days)
                 if (start + timedelta(days=k)).weekday() != 6]  # fmt: skip
    # station scrap: every station_interval_days, staggered by station
    n = pickups = 0
    for i, sid in enumerate(sorted(expectation.station_kg_per_year)):
        per = expectation.station_kg_per_year[sid]
        last = start
        factor = weak_factor if sid == weak else 1.0
        for day in work_days[i % station_interval_days :: station_interval_days]:
            if rng.random() < miss_rate:
                continue
            elapsed = (day - last).days + 1
            last = day + timedelta(days=1)
            vid = vehicle_ids[pickups % len(vehicle_ids)]
            pickups += 1
            for category, group in STATION_SCRAP:
                kg = per.get(group, 0.0) * elapsed / 365.0 * factor
                kg *= float(rng.lognormal(0.0, noise)) if noise else 1.0
                if kg < 0.5:
                    continue
                n += 1
                when = datetime.combine(day, datetime.min.time()) + timedelta(
                    hours=8 + int(rng.integers(0, 9)), minutes=int(rng.integers(0, 60))
                )
                net = round(kg, 1)
                out.append(Record(
                    document_id=f"WB{day:%Y%m%d}-{n:04d}", time=when, category=category,
                    material=cat[category].material, station_id=sid, vehicle_id=vid,
                    gross_kg=round(TARE_KG + net, 1), tare_kg=TARE_KG, net_kg=net,
                    destination_id=centre, district=(districts or {}).get(sid),
                    vehicle_km=km_for(vid, day),
                ))  # fmt: skip
    # the routing plan's day: its planned orders, some missed
    first = work_days[0] if work_days else start
    for oid, facility in sorted((plan_day_orders or {}).items()):
        if rng.random() < miss_rate:
            continue
        for category, count in expectation.order_items.get(oid, {}).items():
            if category not in cat:
                continue
            kind, size = _draw_type(rng, category)
            unit = cat[category].unit == "piece"
            out.append(Record(
                document_id=f"RC{first:%Y%m%d}-{oid}-{category}",
                time=datetime.combine(first, datetime.min.time()) + timedelta(hours=10),
                category=category, material=cat[category].material, order_id=oid,
                appliance_type=kind, size=size, units=float(count) if unit else None,
                net_kg=None if unit else float(count), destination_id=facility or None,
            ))  # fmt: skip
    # household appliance pickups on the other working days
    kg_per_unit = sum(s * cat[c].kg_per_unit for c, s, _ in APPLIANCE_TYPES)
    daily_units = sum(per.get("appliances", 0.0) for per in
                      expectation.station_kg_per_year.values()) / 365.0 / kg_per_unit  # fmt: skip
    cats = [c for c, _, _ in APPLIANCE_TYPES]
    shares = np.array([s for _, s, _ in APPLIANCE_TYPES])
    for day in work_days[1:]:
        for k in range(int(rng.poisson(appliance_share * daily_units * 7 / 6))):
            category = cats[int(rng.choice(len(cats), p=shares / shares.sum()))]
            kind, size = _draw_type(rng, category)
            dest = dismantler_id if rng.random() < 0.9 else centre
            out.append(Record(
                document_id=f"RC{day:%Y%m%d}-{k + 1:03d}",
                time=datetime.combine(day, datetime.min.time()) + timedelta(
                    hours=9 + int(rng.integers(0, 8))),
                category=category, material=cat[category].material,
                order_id=f"hh-{day:%m%d}-{k + 1:03d}", appliance_type=kind, size=size,
                units=1.0, destination_id=dest,
            ))  # fmt: skip
    return sorted(out, key=lambda r: (r.time, r.document_id))


def _draw_type(rng: np.random.Generator, category: str) -> tuple[str | None, float | None]:
    for c, _, options in APPLIANCE_TYPES:
        if c == category:
            w = np.array([o[2] for o in options])
            kind, size, _ = options[int(rng.choice(len(options), p=w / w.sum()))]
            return kind, size
    return None, None


__all__ = ["synthetic_records"]
