"""The waste appliance fund (废弃电器电子产品处理基金): eligible units and subsidy due.

The fund pays licensed dismantlers a subsidy per unit of the "four machines and one
computer" (TV, refrigerator, washing machine, air conditioner, computer) they dismantle.
``data/appliance_fund.csv`` holds the dated standards (2012, 2016-01-01, 2021-04-01) by
product, type and size class, with the excluded classes (CRT TVs under 14 inch, washing
machines of 3 kg or less, refrigerators under 50 L, tablets) and the source of each
figure (figures not verified are marked so there).

The standard that applies is the one in force on the unit's date: a record's time (the
pilot's proxy for the processing date the announcements refer to) or a planned pickup's
day. Only units delivered to a facility marked ``licensed_dismantler`` are paid; the rest
are flagged. Planned pickups carry no type or size: they are classed with
:data:`PLAN_ASSUMPTIONS` (the catalogue's typical unit), stated in the output.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

from ..catalog import _parse_bool
from ..errors import InputError
from ..tables import read_table
from .records import Record

#: Products the fund covers (catalogue categories).
FUND_CATEGORIES: tuple[str, ...] = (
    "tv", "refrigerator", "washing_machine", "air_conditioner", "computer",
)  # fmt: skip

#: Type and size assumed for a planned pickup (no type or size known): the catalogue's
#: typical unit (data/items.csv): a 32-42 inch flat TV, a 180-250 l fridge, a 7 kg
#: automatic washer, a 1.5 hp (about 3.5 kW) split air conditioner, a desktop computer.
PLAN_ASSUMPTIONS: dict[str, tuple[str, float | None]] = {
    "tv": ("lcd", 32.0),
    "refrigerator": ("fridge", 200.0),
    "washing_machine": ("automatic", 7.0),
    "air_conditioner": ("split", 3500.0),
    "computer": ("desktop", None),
}

#: Appliance type synonyms -> the table's types.
TYPE_SYNONYMS: dict[str, str] = {
    "阴极射线管": "crt", "crt": "crt", "液晶": "lcd", "lcd": "lcd", "led": "led",
    "等离子": "plasma", "plasma": "plasma", "oled": "oled", "背投": "rear_projection",
    "rear_projection": "rear_projection", "台式": "desktop", "desktop": "desktop",
    "一体机": "all_in_one", "all_in_one": "all_in_one", "笔记本": "laptop",
    "便携式": "laptop", "laptop": "laptop", "平板": "tablet", "tablet": "tablet",
    "掌上电脑": "palmtop", "palmtop": "palmtop", "单桶": "single_tub",
    "single_tub": "single_tub", "脱水机": "spin_dryer", "spin_dryer": "spin_dryer",
    "双桶": "twin_tub", "twin_tub": "twin_tub", "波轮": "pulsator", "pulsator": "pulsator",
    "滚筒": "drum", "drum": "drum", "全自动": "automatic", "automatic": "automatic",
}  # fmt: skip


@dataclass(frozen=True)
class Interval:
    """A size interval ``[lo, hi]`` with open or closed ends; ``*`` is everything."""

    lo: float
    hi: float
    lo_closed: bool = True
    hi_closed: bool = True

    @classmethod
    def parse(cls, text: str) -> Interval:
        t = text.strip()
        if t == "*":
            return cls(-math.inf, math.inf)
        try:
            lo_s, hi_s = t[1:-1].split(",")
            return cls(float(lo_s), float(hi_s), t[0] == "[", t[-1] == "]")
        except (ValueError, IndexError):
            raise InputError(f"size range {text!r}: use * or [a,b], (a,b], [a,inf)") from None

    @property
    def is_any(self) -> bool:
        return self.lo == -math.inf and self.hi == math.inf

    def __contains__(self, x: float) -> bool:
        above = x >= self.lo if self.lo_closed else x > self.lo
        below = x <= self.hi if self.hi_closed else x < self.hi
        return above and below


@dataclass(frozen=True)
class Standard:
    """One row of ``data/appliance_fund.csv``."""

    category: str
    klass: str
    types: tuple[str, ...]  # empty = any
    size: Interval
    valid_from: date
    valid_to: date
    subsidy_cny_per_unit: float
    eligible: bool
    description_zh: str
    description_en: str
    source: str

    def applies(self, category: str, appliance_type: str | None, size: float | None,
                day: date) -> bool | None:  # fmt: skip
        """True / False; None when the unit lacks the type or size this row needs."""
        if category != self.category or not self.valid_from <= day < self.valid_to:
            return False
        if self.types:
            if appliance_type is None:
                return None
            if appliance_type not in self.types:
                return False
        if not self.size.is_any:
            if size is None:
                return None
            return size in self.size
        return True


@cache
def fund_standards() -> tuple[Standard, ...]:
    """The packaged standards, read once."""
    return read_standards(None)


def read_standards(path: str | Path | None) -> tuple[Standard, ...]:
    """Standards from a CSV of the shape of ``data/appliance_fund.csv``."""
    where, rows = read_table(path, "appliance_fund.csv")
    out = []
    for n, row in enumerate(rows, start=2):
        try:
            types = tuple(t.strip() for t in row["types"].split(";") if t.strip() not in ("", "*"))
            out.append(Standard(
                row["category"], row["class"], types, Interval.parse(row["size_range"]),
                date.fromisoformat(row["valid_from"]), date.fromisoformat(row["valid_to"]),
                float(row["subsidy_cny_per_unit"]), _parse_bool(row["eligible"]),
                row["description_zh"], row["description_en"], row["source"],
            ))  # fmt: skip
        except (KeyError, ValueError) as exc:
            raise InputError(f"{where} row {n}: {exc}") from None
    return tuple(out)


def normalise_type(value: str | None) -> str | None:
    """A type from a record (``液晶``, ``LCD``, ``twin_tub``) in the table's words."""
    if value is None or not value.strip():
        return None
    v = value.strip().lower()
    return TYPE_SYNONYMS.get(v, v)


@dataclass(frozen=True)
class Classified:
    """A unit's class on a day: the standard that applies, or why none does."""

    standard: Standard | None
    reason: str  # "" | no_standard | needs_type | needs_size

    @property
    def subsidy_cny(self) -> float:
        s = self.standard
        return s.subsidy_cny_per_unit if s is not None and s.eligible else 0.0


def classify(
    category: str,
    appliance_type: str | None,
    size: float | None,
    day: date,
    standards: Sequence[Standard] | None = None,
) -> Classified:
    """The fund class of one unit on ``day``.

    Returns a :class:`Classified` with the standard (eligible or excluded), or no
    standard and the reason: ``needs_type`` / ``needs_size`` (the record lacks what the
    classes depend on), ``no_standard`` (no standard in force that day, or a type the
    table does not know).
    """
    rows = fund_standards() if standards is None else standards
    kind = normalise_type(appliance_type)
    missing = None
    for s in rows:
        ok = s.applies(category, kind, size, day)
        if ok:
            return Classified(s, "")
        if ok is None:
            missing = "needs_type" if s.types and kind is None else "needs_size"
    return Classified(None, missing or "no_standard")


# --------------------------------------------------------------------------- facilities


@dataclass(frozen=True)
class FacilityInfo:
    """A destination facility: licence and capacity."""

    id: str
    name: str = ""
    licensed_dismantler: bool = False
    capacity_t_per_year: float | None = None


def read_facilities(path: str | Path) -> dict[str, FacilityInfo]:
    """Facilities from CSV: ``id``, optional ``name``, ``licensed_dismantler`` (yes/no),
    ``capacity_t_per_year``."""
    where, rows = read_table(path, "")
    out: dict[str, FacilityInfo] = {}
    for n, row in enumerate(rows, start=2):
        fid = row.get("id", "")
        if not fid:
            raise InputError(f"{where} row {n}, column id: empty")
        if fid in out:
            raise InputError(f"{where} row {n}: facility {fid!r} appears twice")
        try:
            cap = row.get("capacity_t_per_year")
            out[fid] = FacilityInfo(fid, row.get("name", ""),
                                    _parse_bool(row.get("licensed_dismantler", "")),
                                    float(cap) if cap else None)  # fmt: skip
        except (ValueError, InputError) as exc:
            raise InputError(f"{where} row {n} (facility {fid!r}): {exc}") from None
    return out


# --------------------------------------------------------------------------- estimates


@dataclass(frozen=True)
class Unit:
    """Appliance units of one kind on one day going to one facility."""

    ref: str  # document id or order id
    day: date
    category: str
    appliance_type: str | None
    size: float | None
    units: float
    destination_id: str | None
    assumed: bool = False


@dataclass(frozen=True)
class FundLine:
    """Subsidy by period and class."""

    period: str
    category: str
    klass: str
    units: float
    subsidy_cny_per_unit: float
    subsidy_cny: float
    eligible: bool

    def to_dict(self) -> dict[str, Any]:
        return {"period": self.period, "category": self.category, "class": self.klass,
                "units": self.units, "subsidy_cny_per_unit": self.subsidy_cny_per_unit,
                "subsidy_cny": round(self.subsidy_cny, 2), "eligible": self.eligible}  # fmt: skip


@dataclass(frozen=True)
class FundFlag:
    """A unit the fund will not pay (or cannot class), and why."""

    ref: str
    category: str
    units: float
    destination_id: str | None
    reason: str  # not_licensed | no_destination | needs_type | needs_size | no_standard

    def to_dict(self) -> dict[str, Any]:
        return {"ref": self.ref, "category": self.category, "units": self.units,
                "destination_id": self.destination_id, "reason": self.reason}  # fmt: skip


@dataclass(frozen=True)
class FundEstimate:
    """Eligible units and subsidy due, by period and class, with the flagged units."""

    lines: tuple[FundLine, ...]
    flags: tuple[FundFlag, ...]
    assumptions: tuple[str, ...] = ()

    @property
    def subsidy_cny(self) -> float:
        return sum(x.subsidy_cny for x in self.lines)

    @property
    def eligible_units(self) -> float:
        return sum(x.units for x in self.lines if x.eligible)

    def to_dict(self) -> dict[str, Any]:
        return {"subsidy_cny": round(self.subsidy_cny, 2), "eligible_units": self.eligible_units,
                "lines": [x.to_dict() for x in self.lines],
                "flags": [f.to_dict() for f in self.flags],
                "assumptions": list(self.assumptions)}  # fmt: skip


def units_from_records(records: Iterable[Record]) -> list[Unit]:
    """The fund's products among records (units; a weight-only record counts one)."""
    return [Unit(r.document_id, r.time.date(), r.category, r.appliance_type, r.size,
                 r.pieces, r.destination_id)
            for r in records if r.category in FUND_CATEGORIES]  # fmt: skip


def order_destinations(plan: Mapping[str, Any]) -> dict[str, str | None]:
    """Order id -> the facility of the next unloading stop on its route (None: none).

    ``plan`` is a routing plan's dict (``RoutePlan.to_dict``): a served order's load goes
    where its vehicle next unloads; after the last unload it stays on board to the depot.
    """
    out: dict[str, str | None] = {}
    for r in plan.get("routes", []):
        pending: list[str] = []
        for v in r.get("visits", []):
            if v.get("kind") == "order" and v.get("order_id"):
                pending.append(str(v["order_id"]))
            elif v.get("kind") == "unload":
                out.update(dict.fromkeys(pending, str(v["location_id"])))
                pending = []
        out.update(dict.fromkeys(pending, None))
    return out


def units_from_routing(
    plan: Mapping[str, Any], order_items: Mapping[str, Mapping[str, float]], day: date
) -> list[Unit]:
    """Planned appliance pickups of a routing plan (dict) on ``day``.

    Each served order's appliances go to the facility of :func:`order_destinations`;
    without one the unit is flagged ``no_destination``. Type and size follow
    :data:`PLAN_ASSUMPTIONS`.
    """
    out = []
    for oid, facility in order_destinations(plan).items():
        for cat, count in order_items.get(oid, {}).items():
            if cat in FUND_CATEGORIES:
                kind, size = PLAN_ASSUMPTIONS[cat]
                out.append(Unit(oid, day, cat, kind, size, float(count), facility, True))
    return out


def estimate_fund(
    units: Iterable[Unit],
    facilities: Mapping[str, FacilityInfo],
    *,
    bucket: str = "month",
    standards: Sequence[Standard] | None = None,
) -> FundEstimate:
    """Eligible units and subsidy due by period (``month``, ``week`` or ``day``) and class.

    A unit is paid when its class is eligible on its day and its destination is a
    licensed dismantler; otherwise it is flagged with the reason (a unit of an excluded
    class is counted on its class line with 0 yuan, not flagged).
    """
    from .compare import bucket_start

    acc: dict[tuple[str, str, str, float, bool], float] = defaultdict(float)
    flags = []
    assumed = False
    for u in units:
        assumed = assumed or u.assumed
        c = classify(u.category, u.appliance_type, u.size, u.day, standards)
        if c.standard is None:
            flags.append(FundFlag(u.ref, u.category, u.units, u.destination_id, c.reason))
            continue
        info = facilities.get(u.destination_id or "")
        if u.destination_id is None or info is None or not info.licensed_dismantler:
            reason = "no_destination" if u.destination_id is None else "not_licensed"
            flags.append(FundFlag(u.ref, u.category, u.units, u.destination_id, reason))
            continue
        period = bucket_start(u.day, bucket).isoformat()  # type: ignore[arg-type]
        s = c.standard
        acc[(period, s.category, s.klass, c.subsidy_cny, s.eligible)] += u.units
    lines = tuple(FundLine(p, cat, k, n, rate, n * rate, ok)
                  for (p, cat, k, rate, ok), n in sorted(acc.items()))  # fmt: skip
    notes: tuple[str, ...] = ()
    if assumed:
        notes = tuple(f"{cat}: planned units assumed {kind}{'' if size is None else f' {size:g}'}"
                      for cat, (kind, size) in PLAN_ASSUMPTIONS.items())  # fmt: skip
    return FundEstimate(lines, tuple(flags), notes)


def as_day(value: date | datetime | str) -> date:
    """A date from a date, datetime or ISO text."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise InputError(f"{value!r} is not a date; use YYYY-MM-DD") from None


__all__ = [
    "FUND_CATEGORIES",
    "PLAN_ASSUMPTIONS",
    "Classified",
    "FacilityInfo",
    "FundEstimate",
    "FundFlag",
    "FundLine",
    "Standard",
    "classify",
    "estimate_fund",
    "fund_standards",
    "order_destinations",
    "read_facilities",
    "read_standards",
    "units_from_records",
    "units_from_routing",
]
