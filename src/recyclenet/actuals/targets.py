"""A pilot's targets and their phase evaluation.

Targets are data (CSV): one row per indicator with its baseline (value, year), its
target (value, year) and phase milestones (``2026:40;2027:60``: the value the indicator
should reach by the end of each year). :func:`evaluate` takes the current value of each
indicator, computed from plans and records (:func:`pilot_values`) or entered by the
user, and gives the progress from baseline to target, each milestone met / missed /
pending, and a traffic light:

* **red**: a milestone that is due (its year ended before the evaluation date) is not met;
* **amber**: the due milestones are met but the progress is behind the straight line from
  the baseline year to the target year at the evaluation date;
* **green**: otherwise;
* **grey**: no current value (neither computed nor entered).

A milestone is judged on the current value (the records hold no earlier evaluations);
for an indicator where lower is better (target below baseline) "met" means at or below.

Computed pilot indicators (:data:`PILOT_KEYS`): ``community_coverage_share`` (% of
households within the plan's walking radius of a station), ``stations_per_10k_households``,
``recovery_rate_main_materials`` (% collected ÷ expected arisings of the plan's materials
in the period), ``recovery_rate.<group>`` (the same by material group),
``scrap_metal_t`` (t of ferrous and non-ferrous scrap collected in the period),
``scrap_metal_t_per_year``, ``appliance_units`` (waste appliances collected, units),
``appliance_units_licensed`` (units delivered to a licensed dismantler, with a facility
table), ``kg_per_household_year`` (collected kg per household per year) and
``tonnes_collected``; and every key of :data:`recyclenet.indicators.SPECS` the plans give.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..i18n import check_lang, labels
from ..tables import read_table
from .compare import PlanVsActual, material_group
from .records import Record

#: Pilot indicators computed from plans and records, with their unit code.
PILOT_KEYS: dict[str, str] = {
    "community_coverage_share": "pct",
    "stations_per_10k_households": "per_10k_households",
    "recovery_rate_main_materials": "pct",
    "recovery_rate.*": "pct",
    "scrap_metal_t": "t",
    "scrap_metal_t_per_year": "t",
    "appliance_units": "units",
    "appliance_units_licensed": "units",
    "kg_per_household_year": "kg",
    "tonnes_collected": "t",
}

#: Target-table headers accepted (English, Chinese) -> field.
_COLUMNS = {
    "indicator": "indicator", "指标": "indicator", "指标代码": "indicator",
    "name": "name", "名称": "name", "指标名称": "name",
    "unit": "unit", "单位": "unit",
    "baseline_value": "baseline_value", "基准值": "baseline_value",
    "baseline_year": "baseline_year", "基准年": "baseline_year",
    "target_value": "target_value", "目标值": "target_value",
    "target_year": "target_year", "目标年": "target_year",
    "milestones": "milestones", "阶段目标": "milestones",
    "value": "value", "current_value": "value", "现值": "value", "填报值": "value",
}  # fmt: skip


@dataclass(frozen=True)
class Target:
    """One indicator's target.

    Attributes
    ----------
    indicator : str
        Key: a computed pilot indicator (:data:`PILOT_KEYS`), a plan indicator key, or
        any other name whose value is entered.
    label : str
        The pilot's own name (shown in reports; default: the key's label or the key).
    unit : str
    baseline_value, target_value : float
    baseline_year, target_year : int
    milestones : tuple of (year, value)
        Increasing years within (baseline_year, target_year].
    value : float or None
        An entered current value (used when the indicator is not computed).
    """

    indicator: str
    baseline_value: float
    baseline_year: int
    target_value: float
    target_year: int
    milestones: tuple[tuple[int, float], ...] = ()
    label: str = ""
    unit: str = ""
    value: float | None = None

    def __post_init__(self) -> None:
        what = f"target {self.indicator!r}"
        if not self.indicator:
            raise InputError("target: indicator must be a non-empty key")
        if self.target_year <= self.baseline_year:
            raise InputError(f"{what}: target_year {self.target_year} must be after "
                             f"baseline_year {self.baseline_year}")  # fmt: skip
        if self.target_value == self.baseline_value:
            raise InputError(f"{what}: target_value equals baseline_value; nothing to progress")
        years = [y for y, _ in self.milestones]
        if years != sorted(set(years)):
            raise InputError(f"{what}: milestone years {years} must increase, once each")
        bad = [y for y in years if not self.baseline_year < y <= self.target_year]
        if bad:
            raise InputError(f"{what}: milestone year(s) {bad} outside "
                             f"({self.baseline_year}, {self.target_year}]")  # fmt: skip

    @property
    def higher_is_better(self) -> bool:
        return self.target_value > self.baseline_value

    def name(self, lang: str = "en") -> str:
        """The label given, else the label of the key in ``lang``, else the key."""
        return self.label or _indicator_label(self.indicator, lang)

    def meets(self, current: float, goal: float) -> bool:
        return current >= goal if self.higher_is_better else current <= goal


def _indicator_label(key: str, lang: str) -> str:
    lab = labels(check_lang(lang))
    base, dot, qual = key.partition(".")
    if f"pilot_{base}" in lab:
        name = lab[f"pilot_{base}"]
        return f"{name}: {lab.get(f'material_{qual}', qual)}" if dot else name
    from ..indicators import SPECS

    spec = SPECS.get(f"{base}.*" if dot else base)
    return lab.get(spec.label, key) if spec else key


def parse_milestones(text: str, where: str) -> tuple[tuple[int, float], ...]:
    """``"2026:40;2027:60"`` (also ``，``/``,`` separators and ``：``) -> ((2026, 40), ...)."""
    out = []
    for part in text.replace("；", ";").replace("，", ";").replace(",", ";").split(";"):
        part = part.strip()
        if not part:
            continue
        year, sep, value = part.replace("：", ":").partition(":")
        try:
            out.append((int(year), float(value)))
        except ValueError:
            raise InputError(
                f"{where}: milestone {part!r} is not YEAR:VALUE (e.g. 2026:40;2027:60)"
            ) from None
        if not sep:
            raise InputError(f"{where}: milestone {part!r} is not YEAR:VALUE")
    return tuple(out)


def _user_rows(path: str | Path) -> tuple[str, list[dict[str, str]]]:
    """Rows of a user's CSV/TSV or .xlsx, through the readers' row readers (UTF-8 or GBK)."""
    from ..readers import read_sheet_rows

    file, raw = read_sheet_rows(path, "targets")
    if not raw:
        return str(file), []
    header = ["" if c is None else str(c).strip() for c in raw[0]]
    rows = [{h: "" if c is None else _cell(c) for h, c in zip(header, r) if h} for r in raw[1:]]
    return str(file), rows


def _cell(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def read_targets(path: str | Path | None) -> list[Target]:
    """Targets from a CSV/TSV (UTF-8 or GBK) or .xlsx with English or Chinese headers;
    None: the demo's targets (``data/demo_targets.csv``).

    Columns: ``indicator, baseline_value, baseline_year, target_value, target_year`` and
    optionally ``name, unit, milestones, value`` (an entered current value).

    Raises
    ------
    InputError
        Naming the file, row and column.
    """
    where, rows = read_table(None, "demo_targets.csv") if path is None else _user_rows(path)
    out = []
    seen: set[str] = set()
    for n, raw in enumerate(rows, start=2):
        row = {}
        for k, v in raw.items():
            f = _COLUMNS.get(k.strip().lower()) or _COLUMNS.get(k.strip())
            if f is None:
                raise InputError(f"{where}: unknown column {k!r}; known: "
                                 f"{', '.join(sorted(set(_COLUMNS.values())))}")  # fmt: skip
            row[f] = v
        at = f"{where} row {n}"
        for col in ("indicator", "baseline_value", "baseline_year", "target_value",
                    "target_year"):  # fmt: skip
            if not row.get(col):
                raise InputError(f"{at}, column {col}: empty")
        nums: dict[str, float] = {}
        for col in ("baseline_value", "target_value", "baseline_year", "target_year"):
            try:
                nums[col] = float(row[col])
            except ValueError:
                raise InputError(f"{at}, column {col}: {row[col]!r} is not a number") from None
        value = None
        if row.get("value"):
            try:
                value = float(row["value"])
            except ValueError:
                raise InputError(f"{at}, column value: {row['value']!r} is not a number") from None
        key = row["indicator"]
        if key in seen:
            raise InputError(f"{at}: indicator {key!r} appears twice; one row per indicator")
        seen.add(key)
        try:
            out.append(Target(
                key, nums["baseline_value"], int(nums["baseline_year"]), nums["target_value"],
                int(nums["target_year"]),
                parse_milestones(row.get("milestones", ""), f"{at}, column milestones"),
                row.get("name", ""), row.get("unit", ""), value,
            ))  # fmt: skip
        except InputError as exc:
            raise InputError(f"{at}: {exc}") from None
    if not out:
        raise InputError(f"{where}: no targets")
    return out


# --------------------------------------------------------------------------- values


def pilot_values(
    *,
    plan_indicators: Iterable[Any] = (),
    result: PlanVsActual | None = None,
    records: Iterable[Record] = (),
    households: float | None = None,
    licensed: Mapping[str, bool] | None = None,
) -> dict[str, float]:
    """The computed pilot indicators (see the module notes) from what is given.

    Parameters
    ----------
    plan_indicators : iterable of Indicator
        :func:`recyclenet.indicators.plan_indicators` of the plans (their keys are kept,
        ``share_within_radius`` also as ``community_coverage_share``).
    result : PlanVsActual, optional
        Plan versus actual of the evaluation period (recovery rates, tonnes).
    records : iterable of Record
        The records of the period (appliance units); default none.
    households : float, optional
        Households of the area (default: the plan's ``households_total``).
    licensed : mapping, optional
        Facility id -> licensed dismantler (``appliance_units_licensed``).
    """
    out: dict[str, float] = {}
    for ind in plan_indicators:
        if math.isfinite(ind.value):
            out[ind.key] = float(ind.value)
    if "share_within_radius" in out:
        out["community_coverage_share"] = out["share_within_radius"]
    hh = households if households is not None else out.get("households_total")
    if result is not None:
        exp = result.expected_kg
        if exp > 0:
            out["recovery_rate_main_materials"] = 100.0 * result.collected_kg / exp
        for row in result.materials:
            if row.expected_kg > 0:
                out[f"recovery_rate.{row.key}"] = 100.0 * row.collected_kg / row.expected_kg
        metal = sum(r.collected_kg for r in result.materials
                    if r.key in ("ferrous", "non_ferrous")) / 1000.0  # fmt: skip
        out["scrap_metal_t"] = metal
        out["scrap_metal_t_per_year"] = metal * 365.0 / result.days
        out["tonnes_collected"] = result.collected_kg / 1000.0
        if hh:
            out["kg_per_household_year"] = result.collected_kg * 365.0 / result.days / hh
    recs = list(records)
    if recs:
        apps = [r for r in recs if material_group(r.material) == "appliances"]
        out["appliance_units"] = sum(r.pieces for r in apps)
        if licensed is not None:
            out["appliance_units_licensed"] = sum(
                r.pieces for r in apps if r.destination_id and licensed.get(r.destination_id)
            )
    return out


# --------------------------------------------------------------------------- evaluation


@dataclass(frozen=True)
class MilestoneStatus:
    year: int
    value: float
    status: str  # met, missed, pending


@dataclass(frozen=True)
class EvaluationRow:
    """One target evaluated.

    Attributes
    ----------
    target : Target
    current : float
        nan when neither computed nor entered.
    source : {"computed", "entered", "missing"}
    progress : float
        (current - baseline) / (target - baseline); 1 = target reached; nan if missing.
    expected_progress : float
        Where a straight line from baseline to target would be at the evaluation date.
    milestones : tuple of MilestoneStatus
    light : {"green", "amber", "red", "grey"}
    """

    target: Target
    current: float
    source: str
    progress: float
    expected_progress: float
    milestones: tuple[MilestoneStatus, ...]
    light: str

    def to_dict(self, lang: str = "en") -> dict[str, Any]:
        t = self.target
        return {
            "indicator": t.indicator, "name": t.name(lang), "unit": t.unit,
            "baseline": {"value": t.baseline_value, "year": t.baseline_year},
            "target": {"value": t.target_value, "year": t.target_year},
            "current": self.current if math.isfinite(self.current) else None,
            "source": self.source,
            "progress_pct": _pct(self.progress),
            "expected_progress_pct": _pct(self.expected_progress),
            "milestones": [{"year": m.year, "value": m.value, "status": m.status}
                           for m in self.milestones],
            "light": self.light,
        }  # fmt: skip


def _pct(x: float) -> float | None:
    return round(100.0 * x, 2) if math.isfinite(x) else None


@dataclass(frozen=True)
class Evaluation:
    """Every target evaluated at ``as_of``."""

    as_of: date
    rows: tuple[EvaluationRow, ...]

    def row(self, indicator: str) -> EvaluationRow:
        for r in self.rows:
            if r.target.indicator == indicator:
                return r
        raise KeyError(indicator)

    def to_dict(self, lang: str = "en") -> dict[str, Any]:
        return {"as_of": self.as_of.isoformat(), "targets": [r.to_dict(lang) for r in self.rows]}


def evaluate(
    targets: Sequence[Target],
    values: Mapping[str, float],
    *,
    as_of: date | str,
    entered: Mapping[str, float] | None = None,
) -> Evaluation:
    """Evaluate targets at ``as_of`` with computed ``values`` and ``entered`` values.

    A computed value wins over an entered one; a target's own ``value`` column counts as
    entered. See the module notes for the lights.
    """
    day = as_of if isinstance(as_of, date) else _date(as_of)
    given = dict(entered or {})
    rows = []
    for t in targets:
        if t.indicator in values and math.isfinite(values[t.indicator]):
            current, source = float(values[t.indicator]), "computed"
        elif t.indicator in given:
            current, source = float(given[t.indicator]), "entered"
        elif t.value is not None:
            current, source = float(t.value), "entered"
        else:
            current, source = math.nan, "missing"
        span = t.target_value - t.baseline_value
        progress = (current - t.baseline_value) / span if math.isfinite(current) else math.nan
        t0, t1 = date(t.baseline_year, 12, 31), date(t.target_year, 12, 31)
        expected = min(max((day - t0).days / (t1 - t0).days, 0.0), 1.0)
        ms = []
        for year, goal in t.milestones:
            due = day > date(year, 12, 31)
            if not math.isfinite(current):
                status = "pending" if not due else "missed"
            elif t.meets(current, goal):
                status = "met"
            else:
                status = "missed" if due else "pending"
            ms.append(MilestoneStatus(year, goal, status))
        if not math.isfinite(current):
            light = "grey"
        elif any(m.status == "missed" for m in ms):
            light = "red"
        elif progress + 1e-9 < expected:
            light = "amber"
        else:
            light = "green"
        rows.append(EvaluationRow(t, current, source, progress, expected, tuple(ms), light))
    return Evaluation(day, tuple(rows))


def _date(text: str) -> date:
    try:
        return date.fromisoformat(str(text).strip())
    except ValueError:
        raise InputError(f"as_of={text!r} is not a date; use YYYY-MM-DD") from None


__all__ = [
    "PILOT_KEYS",
    "Evaluation",
    "EvaluationRow",
    "MilestoneStatus",
    "Target",
    "evaluate",
    "parse_milestones",
    "pilot_values",
    "read_targets",
]
