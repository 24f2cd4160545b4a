"""The circular-economy pilot's evaluation indicators, computed from plans.

Siting indicators (coverage, access distance, stations per households, utilisation) and
routing indicators (tonnes by material, vehicle-km, tonne-km, vehicle-hours, cost per
tonne, CO2e, empty running) are computed from the plans' JSON documents, the output of
``SitingPlan.to_dict`` and ``RoutePlan.to_dict``: the same function serves plans in
memory, plans stored on disk (``recyclenet compare``) and plans the service keeps as
dicts. Each :class:`Indicator` carries its key, value, unit and an English and Chinese
name and definition (from ``data/labels.csv``), so a report or an API can show it.

Units: distances m or km, loads t, time h, CO2e kg, shares in percent (0-100). A value
that is not defined for a plan (no radius, no tonnes collected) is ``nan``.

Keys with a dot are breakdowns of a total: ``tonnes_collected.<material>`` and
``co2e_kg.<vehicle type id>``.
"""

from __future__ import annotations

import itertools
import json
import math
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from .errors import InputError
from .i18n import check_lang, labels
from .tables import read_table

if TYPE_CHECKING:
    from .routing.plan import RoutePlan
    from .routing.problem import RoutingProblem
    from .siting.plan import SitingPlan
    from .siting.problem import SitingProblem

#: Load below which a vehicle counts as empty (kg, and m³ for volume).
EMPTY_EPS = 1e-6

#: Stored plan files a directory may hold (``recyclenet demo``, ``site``, ``route``).
PLAN_FILE_NAMES: tuple[str, ...] = ("siting_plan.json", "routing_plan.json", "plan.json")


@dataclass(frozen=True)
class _Spec:
    unit: str
    group: str
    label: str  # label key of the name; the definition is label + "_def"


#: Every indicator base key in report order: unit code, group, label key.
SPECS: dict[str, _Spec] = {
    "stations_open": _Spec("stations", "siting", "ind_stations_open"),
    "households_total": _Spec("households", "siting", "ind_households_total"),
    "share_within_radius": _Spec("pct", "siting", "ind_share_within_radius"),
    "access_distance_mean_m": _Spec("m", "siting", "ind_access_distance_mean_m"),
    "access_distance_p95_m": _Spec("m", "siting", "ind_access_distance_p95_m"),
    "stations_per_10k_households": _Spec(
        "per_10k_households", "siting", "ind_stations_per_10k_households"
    ),
    "households_per_station_mean": _Spec("households", "siting", "ind_households_per_station_mean"),
    "station_utilisation_mean": _Spec("pct", "siting", "ind_station_utilisation_mean"),
    "station_utilisation_min": _Spec("pct", "siting", "ind_station_utilisation_min"),
    "station_utilisation_max": _Spec("pct", "siting", "ind_station_utilisation_max"),
    "vehicles_used": _Spec("vehicles", "routing", "ind_vehicles_used"),
    "orders_served": _Spec("orders", "routing", "ind_orders_served"),
    "orders_unserved": _Spec("orders", "routing", "ind_orders_unserved"),
    "tonnes_collected": _Spec("t", "routing", "ind_tonnes_collected"),
    "tonnes_collected.*": _Spec("t", "routing", "ind_tonnes_by_material"),
    "vehicle_km": _Spec("km", "routing", "ind_vehicle_km"),
    "vehicle_hours": _Spec("h", "routing", "ind_vehicle_hours"),
    "tonne_km": _Spec("t_km", "routing", "ind_tonne_km"),
    "empty_running_share": _Spec("pct", "routing", "ind_empty_running_share"),
    "cost_total": _Spec("cost", "routing", "ind_cost_total"),
    "cost_per_tonne": _Spec("cost_per_t", "routing", "ind_cost_per_tonne"),
    "co2e_kg": _Spec("kg_co2e", "routing", "ind_co2e_kg"),
    "co2e_kg.*": _Spec("kg_co2e", "routing", "ind_co2e_by_vehicle"),
    "co2e_kg_per_tonne": _Spec("kg_co2e_per_t", "routing", "ind_co2e_kg_per_tonne"),
    # industrial parks (recyclenet.parks.indicators)
    "park_tonnes_per_year": _Spec("t", "park", "ind_park_tonnes_per_year"),
    "park_gis_utilisation_rate": _Spec("pct", "park", "ind_park_gis_utilisation_rate"),
    "park_hw_licensed_share": _Spec("pct", "park", "ind_park_hw_licensed_share"),
    "park_tonnes_unplaced": _Spec("t", "park", "ind_park_tonnes_unplaced"),
    "park_vehicle_km_per_week": _Spec("km", "park", "ind_park_vehicle_km_per_week"),
    "park_tonne_km_per_week": _Spec("t_km", "park", "ind_park_tonne_km_per_week"),
    "park_co2e_kg_per_week": _Spec("kg_co2e", "park", "ind_park_co2e_kg_per_week"),
    "park_cost_per_tonne": _Spec("cost_per_t", "park", "ind_park_cost_per_tonne"),
    "park_byproduct_value_per_year": _Spec("cost", "park", "ind_park_byproduct_value_per_year"),
    "park_shared_saving_per_year": _Spec("cost", "park", "ind_park_shared_saving_per_year"),
}

_ORDER = {k: i for i, k in enumerate(SPECS)}
_QUALIFIER_LABEL = {"tonnes_collected": "material_", "co2e_kg": "vehicle_"}


def _spec(key: str) -> tuple[str, _Spec, str | None]:
    """Base key pattern, its spec and the qualifier (material, vehicle type) if any."""
    base, dot, qualifier = key.partition(".")
    pattern = f"{base}.*" if dot else base
    if pattern not in SPECS:
        raise InputError(f"unknown indicator key {key!r}; known: {', '.join(SPECS)}")
    return pattern, SPECS[pattern], (qualifier if dot else None)


def _sort_key(key: str) -> tuple[int, str]:
    pattern, _, qualifier = _spec(key)
    return (_ORDER[pattern], qualifier or "")


@dataclass(frozen=True)
class Indicator:
    """One evaluation indicator of a plan.

    Attributes
    ----------
    key : str
        Stable id, e.g. ``"vehicle_km"`` or ``"tonnes_collected.ferrous"``.
    value : float
        In ``unit``; ``nan`` when not defined for the plan.
    unit : str
        Unit code: ``pct`` (percent, 0-100), ``m``, ``km``, ``h``, ``t``, ``t_km``,
        ``kg_co2e``, ``kg_co2e_per_t``, ``cost``, ``cost_per_t`` (the fleet's cost
        unit), ``stations``, ``households``, ``vehicles``, ``orders``,
        ``per_10k_households``. :meth:`unit_label` gives the text to show.
    group : {"siting", "routing", "park"}
    name_en, name_zh : str
        Short name in English and Chinese.
    definition_en, definition_zh : str
        How the value is computed, in English and Chinese.
    """

    key: str
    value: float
    unit: str
    group: str
    name_en: str
    name_zh: str
    definition_en: str
    definition_zh: str

    def name(self, lang: str = "en") -> str:
        """The name in ``lang`` (``"en"`` or ``"zh"``)."""
        return self.name_zh if check_lang(lang) == "zh" else self.name_en

    def definition(self, lang: str = "en") -> str:
        """The definition in ``lang``."""
        return self.definition_zh if check_lang(lang) == "zh" else self.definition_en

    def unit_label(self, lang: str = "en") -> str:
        """The unit as shown to people in ``lang``."""
        return labels(lang).get(f"unit_{self.unit}", self.unit)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict; ``value`` is None when nan."""
        return {
            "key": self.key,
            "value": _json_num(self.value),
            "unit": self.unit,
            "group": self.group,
            "name": {"en": self.name_en, "zh": self.name_zh},
            "definition": {"en": self.definition_en, "zh": self.definition_zh},
        }


def make_indicator(key: str, value: float) -> Indicator:
    """An :class:`Indicator` with unit, group, names and definitions filled in.

    Parameters
    ----------
    key : str
        A key of :data:`SPECS`, or ``tonnes_collected.<material>`` /
        ``co2e_kg.<vehicle type id>``.
    value : float
        In the indicator's unit.
    """
    _, spec, qualifier = _spec(key)
    en, zh = labels("en"), labels("zh")
    name_en, name_zh = en[spec.label], zh[spec.label]
    if qualifier is not None:
        prefix = _QUALIFIER_LABEL[key.partition(".")[0]]
        name_en = f"{name_en}: {en.get(prefix + qualifier, qualifier)}"
        name_zh = f"{name_zh}：{zh.get(prefix + qualifier, qualifier)}"
    return Indicator(
        key=key,
        value=float(value),
        unit=spec.unit,
        group=spec.group,
        name_en=name_en,
        name_zh=name_zh,
        definition_en=en[spec.label + "_def"],
        definition_zh=zh[spec.label + "_def"],
    )


def _json_num(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


# --------------------------------------------------------------------------- emission factors


@dataclass(frozen=True)
class EmissionFactor:
    """Greenhouse-gas emissions of one vehicle type (or road profile).

    The CO2e of a leg is ``distance_km * (kg_co2e_per_km + kg_co2e_per_tonne_km * t)``
    with ``t`` the tonnes on board.

    Attributes
    ----------
    vehicle : str
        Vehicle type id or road profile name.
    kg_co2e_per_km : float
        kg CO2e per vehicle-km (the empty vehicle when a load term is given).
    kg_co2e_per_tonne_km : float
        Extra kg CO2e per tonne on board per km (0: no load dependence).
    source : str
    """

    vehicle: str
    kg_co2e_per_km: float
    kg_co2e_per_tonne_km: float = 0.0
    source: str = ""

    def kg_co2e(self, distance_km: float, load_t: float) -> float:
        """CO2e (kg) of driving ``distance_km`` with ``load_t`` tonnes on board."""
        return distance_km * (self.kg_co2e_per_km + self.kg_co2e_per_tonne_km * load_t)


EmissionFactorsArg = str | Path | Mapping[str, EmissionFactor] | None


def read_emission_factors(path: str | Path | None = None) -> dict[str, EmissionFactor]:
    """Emission factors by vehicle type or profile, from CSV.

    Parameters
    ----------
    path : path, optional
        A CSV with columns ``vehicle``, ``kg_co2e_per_km`` and optionally
        ``kg_co2e_per_tonne_km`` and ``source``; ``#`` lines are comments. Default: the
        packaged ``data/emission_factors.csv`` (DESNZ 2025 and MEE 2024 factors, sources
        in its comments).

    Raises
    ------
    InputError
        Missing columns, a value that is not a number >= 0, or a duplicate vehicle, with
        the file and row named.
    """
    where, rows = read_table(path, "emission_factors.csv")
    if not rows:
        raise InputError(f"{where}: no emission factors (columns: vehicle, kg_co2e_per_km)")
    missing = {"vehicle", "kg_co2e_per_km"} - set(rows[0])
    if missing:
        raise InputError(f"{where}: missing column(s) {sorted(missing)}")
    out: dict[str, EmissionFactor] = {}
    for n, row in enumerate(rows, start=1):
        vehicle = row.get("vehicle", "")
        what = f"{where} row {n} (vehicle {vehicle!r})"
        if not vehicle:
            raise InputError(f"{where} row {n}: empty vehicle name")
        if vehicle in out:
            raise InputError(f"{what}: duplicate vehicle; give one row per vehicle")
        values = []
        for col in ("kg_co2e_per_km", "kg_co2e_per_tonne_km"):
            text = row.get(col) or ("0" if col == "kg_co2e_per_tonne_km" else "")
            try:
                v = float(text)
            except ValueError:
                raise InputError(f"{what}: {col}={text!r} is not a number") from None
            if not math.isfinite(v) or v < 0:
                raise InputError(f"{what}: {col}={text!r} must be a finite number >= 0")
            values.append(v)
        out[vehicle] = EmissionFactor(vehicle, values[0], values[1], row.get("source", ""))
    return out


@cache
def _packaged_factors() -> Mapping[str, EmissionFactor]:
    return MappingProxyType(read_emission_factors())


def _factors(arg: EmissionFactorsArg) -> tuple[str, Mapping[str, EmissionFactor]]:
    if arg is None:
        return "data/emission_factors.csv", _packaged_factors()
    if isinstance(arg, str | Path):
        return str(arg), read_emission_factors(arg)
    return "the emission factors given", arg


def _factor_for(
    factors: Mapping[str, EmissionFactor], type_id: str, profile: str
) -> EmissionFactor | None:
    return factors.get(type_id) or factors.get(profile)


# --------------------------------------------------------------------------- siting


def _as_siting_doc(plan: SitingPlan | Mapping[str, Any]) -> Mapping[str, Any]:
    doc = plan if isinstance(plan, Mapping) else plan.to_dict()
    if "open_ids" not in doc and isinstance(doc.get("stations"), Mapping):
        doc = doc["stations"]  # a two-tier plan: tier 1 are the stations
    if "open_ids" not in doc or "indicators" not in doc:
        raise InputError(
            "siting plan: expected the output of SitingPlan.to_dict with 'open_ids' and "
            f"'indicators'; got keys {sorted(doc)[:10]}"
        )
    return doc


def _siting_context(doc: Mapping[str, Any], problem: SitingProblem | None) -> dict[str, Any]:
    if problem is not None:
        return {
            "households_per_station": problem.households_per_station,
            "capacity_unit": problem.capacity_unit,
        }
    ctx = doc.get("problem")
    return dict(ctx) if isinstance(ctx, Mapping) else {}


def _f(value: Any, where: str) -> float:
    """A number of a plan document: None (stored nan) becomes nan."""
    if value is None:
        return math.nan
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputError(f"{where}: {value!r} is not a number")
    return float(value)


def _field(doc: Mapping[str, Any], key: str, where: str) -> Any:
    if not isinstance(doc, Mapping):
        raise InputError(f"{where}: expected an object, got {type(doc).__name__}")
    if key not in doc:
        raise InputError(f"{where}.{key}: missing")
    return doc[key]


def siting_indicators(
    plan: SitingPlan | Mapping[str, Any], problem: SitingProblem | None = None
) -> tuple[Indicator, ...]:
    """Coverage, access and station indicators of a siting plan.

    Parameters
    ----------
    plan : SitingPlan or dict
        A plan, or its :meth:`~recyclenet.siting.SitingPlan.to_dict` output (a
        two-tier plan's dict uses its stations tier).
    problem : SitingProblem, optional
        Supplies the households-per-station norm for stations without a capacity
        (also read from the dict's ``"problem"`` member when stored with it).

    Returns
    -------
    tuple of Indicator
        ``stations_open``, ``households_total``, ``share_within_radius`` (% of all
        households whose assigned station is within the radius), household-weighted
        ``access_distance_mean_m`` and ``access_distance_p95_m`` (m),
        ``stations_per_10k_households`` (open stations × 10,000 / households),
        ``households_per_station_mean`` and ``station_utilisation_mean/min/max`` (% of
        load / capacity over open stations; households / norm where a station has no
        capacity and the capacity unit is households).
    """
    doc = _as_siting_doc(plan)
    where = "siting plan"
    ind = _field(doc, "indicators", where)
    open_ids = [str(i) for i in _field(doc, "open_ids", where)]
    hh_total = _f(_field(ind, "households_total", f"{where}.indicators"), "households_total")

    def get(key: str) -> float:
        return _f(_field(ind, key, f"{where}.indicators"), f"{where}.indicators.{key}")

    ctx = _siting_context(doc, problem)
    norm = ctx.get("households_per_station")
    per_households = ctx.get("capacity_unit", "households") == "households"
    util_by_site = ind.get("utilisation_by_site") or {}
    load_by_site = ind.get("load_by_site") or {}
    utilisation = []
    for sid in open_ids:
        u = _f(util_by_site.get(sid), f"{where}.indicators.utilisation_by_site.{sid}")
        if not math.isfinite(u) and norm and per_households and sid in load_by_site:
            u = _f(load_by_site[sid], f"{where}.indicators.load_by_site.{sid}") / float(norm)
        if math.isfinite(u):
            utilisation.append(100.0 * u)
    share = get("share_households_within_radius")
    values = {
        "stations_open": float(len(open_ids)),
        "households_total": hh_total,
        "share_within_radius": 100.0 * share,
        "access_distance_mean_m": get("access_distance_mean_m"),
        "access_distance_p95_m": get("access_distance_p95_m"),
        "stations_per_10k_households": (
            len(open_ids) * 10_000.0 / hh_total if hh_total > 0 else math.nan
        ),
        "households_per_station_mean": get("households_per_station_mean"),
        "station_utilisation_mean": (
            sum(utilisation) / len(utilisation) if utilisation else math.nan
        ),
        "station_utilisation_min": min(utilisation) if utilisation else math.nan,
        "station_utilisation_max": max(utilisation) if utilisation else math.nan,
    }
    return tuple(make_indicator(k, v) for k, v in values.items())


# --------------------------------------------------------------------------- routing


def _as_routing_doc(plan: RoutePlan | Mapping[str, Any]) -> Mapping[str, Any]:
    doc = plan if isinstance(plan, Mapping) else plan.to_dict()
    if "routes" not in doc:
        raise InputError(
            "routing plan: expected the output of RoutePlan.to_dict with 'routes'; got keys "
            f"{sorted(doc)[:10]}"
        )
    return doc


@dataclass(frozen=True)
class _Leg:
    distance_km: float
    load_t: float
    empty: bool


def _legs(route: Mapping[str, Any], where: str) -> list[_Leg]:
    """The legs of a stored route: distance and what is on board while driving it."""
    visits = _field(route, "visits", where)
    if not isinstance(visits, list | tuple):
        raise InputError(f"{where}.visits: expected a list")
    legs = []
    for k, (prev, cur) in enumerate(itertools.pairwise(visits), start=1):
        w_prev, w_cur = f"{where}.visits[{k - 1}]", f"{where}.visits[{k}]"
        d = _f(_field(cur, "distance_from_previous_m", w_cur), f"{w_cur}.distance_from_previous_m")
        kg = _f(_field(prev, "load_kg", w_prev), f"{w_prev}.load_kg")
        m3 = _f(_field(prev, "volume_m3", w_prev), f"{w_prev}.volume_m3")
        if not (math.isfinite(d) and math.isfinite(kg) and math.isfinite(m3)):
            raise InputError(
                f"{w_cur} ({cur.get('location_id')!r}): leg distance or load is not finite"
            )
        legs.append(_Leg(d / 1000.0, kg / 1000.0, kg <= EMPTY_EPS and m3 <= EMPTY_EPS))
    return legs


def routing_indicators(
    plan: RoutePlan | Mapping[str, Any],
    problem: RoutingProblem | None = None,
    *,
    emission_factors: EmissionFactorsArg = None,
) -> tuple[Indicator, ...]:
    """Tonnes, distance, time, cost, CO2e and empty running of a routing plan.

    Parameters
    ----------
    plan : RoutePlan or dict
        A plan, or its :meth:`~recyclenet.routing.RoutePlan.to_dict` output.
    problem : RoutingProblem, optional
        When given, every vehicle type of its fleet must have an emission factor (not
        only the types the plan uses).
    emission_factors : path, mapping or None
        A CSV like ``data/emission_factors.csv``, a mapping vehicle -> EmissionFactor,
        or None for the packaged table. A route's factor is looked up by its vehicle
        type id, then by its road profile.

    Returns
    -------
    tuple of Indicator
        ``vehicles_used``, ``orders_served``, ``orders_unserved``, ``tonnes_collected``
        (t) and ``tonnes_collected.<material>``, ``vehicle_km`` (km), ``vehicle_hours``
        (h), ``tonne_km`` (Σ legs t on board × km), ``empty_running_share`` (% of
        vehicle-km with 0 kg and 0 m³ on board), ``cost_total`` and ``cost_per_tonne``
        (fleet cost unit), ``co2e_kg`` and ``co2e_kg.<vehicle type>`` (Σ legs km ×
        (factor per km + factor per t·km × t on board)), ``co2e_kg_per_tonne``.

    Raises
    ------
    InputError
        A vehicle type without an emission factor (named, with its profile), or a plan
        document that lacks a field (its path named).
    """
    doc = _as_routing_doc(plan)
    where_ef, factors = _factors(emission_factors)
    routes = _field(doc, "routes", "routing plan")
    if not isinstance(routes, list | tuple):
        raise InputError("routing plan.routes: expected a list")
    needed: dict[str, str] = {}
    if problem is not None:
        needed.update({vt.id: vt.profile for vt in problem.vehicle_types})
    for i, r in enumerate(routes):
        w = f"routing plan.routes[{i}]"
        needed[str(_field(r, "vehicle_type_id", w))] = str(_field(r, "profile", w))
    resolved = {t: _factor_for(factors, t, p) for t, p in needed.items()}
    missing = [f"{t!r} (profile {needed[t]!r})" for t, f in resolved.items() if f is None]
    if missing:
        raise InputError(
            f"no emission factor for vehicle type(s) {', '.join(missing)} in {where_ef}; "
            "add a row named after the vehicle type or its road profile"
        )
    km = t_km = empty_km = hours = 0.0
    served = 0
    co2_by_type: dict[str, float] = {}
    for i, r in enumerate(routes):
        w = f"routing plan.routes[{i}] (vehicle {r.get('vehicle_id')!r})"
        type_id = str(r["vehicle_type_id"])
        factor = resolved[type_id]
        co2 = 0.0
        for leg in _legs(r, w):
            km += leg.distance_km
            t_km += leg.load_t * leg.distance_km
            empty_km += leg.distance_km if leg.empty else 0.0
            co2 += factor.kg_co2e(leg.distance_km, leg.load_t) if factor else 0.0
        co2_by_type[type_id] = co2_by_type.get(type_id, 0.0) + co2
        hours += _f(_field(r, "duration_s", w), f"{w}.duration_s") / 3600.0
        served += sum(1 for v in r["visits"] if v.get("kind") == "order")
    kg_by_material = _field(doc, "kg_by_material", "routing plan")
    if not isinstance(kg_by_material, Mapping):
        raise InputError("routing plan.kg_by_material: expected an object")
    tonnes = {
        str(m): _f(v, f"routing plan.kg_by_material.{m}") / 1000.0
        for m, v in kg_by_material.items()
    }
    total_t = sum(tonnes.values())
    cost = _f(_field(doc, "cost", "routing plan"), "routing plan.cost")
    co2_total = sum(co2_by_type.values())
    unserved = _field(doc, "unserved", "routing plan")
    values: dict[str, float] = {
        "vehicles_used": float(len(routes)),
        "orders_served": float(served),
        "orders_unserved": float(len(unserved)),
        "tonnes_collected": total_t,
    }
    values.update({f"tonnes_collected.{m}": tonnes[m] for m in sorted(tonnes)})
    values.update({
        "vehicle_km": km,
        "vehicle_hours": hours,
        "tonne_km": t_km,
        "empty_running_share": 100.0 * empty_km / km if km > 0 else math.nan,
        "cost_total": cost,
        "cost_per_tonne": cost / total_t if total_t > 0 else math.nan,
        "co2e_kg": co2_total,
    })  # fmt: skip
    values.update({f"co2e_kg.{t}": co2_by_type[t] for t in sorted(co2_by_type)})
    values["co2e_kg_per_tonne"] = co2_total / total_t if total_t > 0 else math.nan
    return tuple(make_indicator(k, v) for k, v in values.items())


# --------------------------------------------------------------------------- combined


def plan_dict_indicators(kind: str, plan: Mapping[str, Any]) -> tuple[Indicator, ...]:
    """The indicators of a stored plan document (``to_dict`` output) of ``kind``
    ``"siting"`` (:func:`siting_indicators`) or ``"routing"`` (:func:`routing_indicators`)."""
    if kind == "siting":
        return siting_indicators(plan)
    if kind == "routing":
        return routing_indicators(plan)
    raise InputError(f"a {kind!r} plan has no indicators; only siting and routing plans do")


def _unpack_run(x: Any) -> tuple[Any, Any]:
    """A pipeline run (has ``plan`` and ``problem``) -> (plan, problem); else (x, None)."""
    if x is not None and not isinstance(x, Mapping) and hasattr(x, "problem"):
        return x.plan, x.problem
    return x, None


def plan_indicators(
    siting: SitingPlan | Mapping[str, Any] | Any | None = None,
    routing: RoutePlan | Mapping[str, Any] | Any | None = None,
    *,
    siting_problem: SitingProblem | None = None,
    routing_problem: RoutingProblem | None = None,
    emission_factors: EmissionFactorsArg = None,
) -> tuple[Indicator, ...]:
    """Siting indicators, then routing indicators, of whichever plans are given.

    Parameters
    ----------
    siting, routing : plan, dict or pipeline run, optional
        A :class:`~recyclenet.siting.SitingPlan` / :class:`~recyclenet.routing.RoutePlan`,
        its ``to_dict()`` output, or a ``SitingRun`` / ``RoutingRun`` from
        :mod:`recyclenet.pipeline` (its problem is then used too).
    siting_problem, routing_problem : optional
        See :func:`siting_indicators` and :func:`routing_indicators`.
    emission_factors : path, mapping or None
        See :func:`routing_indicators`.

    Raises
    ------
    InputError
        Neither plan is given.
    """
    if siting is None and routing is None:
        raise InputError("give a siting plan, a routing plan or both")
    out: list[Indicator] = []
    if siting is not None:
        plan, prob = _unpack_run(siting)
        out += siting_indicators(plan, siting_problem or prob)
    if routing is not None:
        plan, prob = _unpack_run(routing)
        out += routing_indicators(plan, routing_problem or prob, emission_factors=emission_factors)
    return tuple(out)


def indicators_to_dict(indicators: Iterable[Indicator]) -> dict[str, Any]:
    """``{"indicators": [...]}``, JSON-ready (what ``indicators.json`` holds)."""
    return {"indicators": [i.to_dict() for i in indicators]}


# --------------------------------------------------------------------------- stored plans


@dataclass(frozen=True)
class PlanDocs:
    """Stored plans of one scenario: a siting plan, a routing plan, or both.

    Attributes
    ----------
    siting, routing : dict or None
        ``to_dict`` output of each plan.
    source : str
        Where they came from (a path, or ``"<dict>"``).
    """

    siting: Mapping[str, Any] | None
    routing: Mapping[str, Any] | None
    source: str

    def indicators(self, *, emission_factors: EmissionFactorsArg = None) -> tuple[Indicator, ...]:
        """The indicators of the plans held."""
        return plan_indicators(self.siting, self.routing, emission_factors=emission_factors)


def _kind(doc: Any, where: str) -> str:
    if isinstance(doc, Mapping):
        if "routes" in doc:
            return "routing"
        if "open_ids" in doc or isinstance(doc.get("stations"), Mapping):
            return "siting"
        if "siting" in doc or "routing" in doc:
            return "both"
    raise InputError(
        f"{where}: not a stored siting or routing plan (expected the JSON of "
        "siting_plan.json with 'open_ids', or of routing_plan.json with 'routes')"
    )


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: not a JSON file ({exc})") from None


def load_plans(source: str | Path | Mapping[str, Any] | PlanDocs) -> PlanDocs:
    """Read stored plans from a JSON file, a directory or a dict.

    Parameters
    ----------
    source : path or dict
        A ``siting_plan.json`` / ``routing_plan.json`` / ``plan.json`` file (the kind is
        told from its content), a directory holding them (a ``demo`` or ``site`` /
        ``route`` output directory), a plan dict, or ``{"siting": ..., "routing": ...}``.

    Raises
    ------
    InputError
        The path does not exist, is not JSON, or holds no siting or routing plan.
    """
    if isinstance(source, PlanDocs):
        return source
    if isinstance(source, Mapping):
        return _classify(source, "<dict>")
    path = Path(source)
    if path.is_dir():
        found: dict[str, Mapping[str, Any]] = {}
        for name in PLAN_FILE_NAMES:
            f = path / name
            if f.is_file():
                docs = _classify(_read_json(f), str(f))
                for kind in ("siting", "routing"):
                    doc = getattr(docs, kind)
                    if doc is not None:
                        found.setdefault(kind, doc)
        if not found:
            raise InputError(f"{path}: holds none of {', '.join(PLAN_FILE_NAMES)}")
        return PlanDocs(found.get("siting"), found.get("routing"), str(path))
    if not path.exists():
        raise InputError(f"{path}: no such plan file or directory")
    return _classify(_read_json(path), str(path))


def _classify(doc: Any, where: str) -> PlanDocs:
    kind = _kind(doc, where)
    if kind == "siting":
        return PlanDocs(doc, None, where)
    if kind == "routing":
        return PlanDocs(None, doc, where)
    siting, routing = doc.get("siting"), doc.get("routing")
    if siting is not None:
        _kind(siting, f"{where}: siting")
    if routing is not None:
        _kind(routing, f"{where}: routing")
    return PlanDocs(siting, routing, where)


# --------------------------------------------------------------------------- compare


@dataclass(frozen=True)
class ComparisonRow:
    """One indicator of two plans.

    Attributes
    ----------
    indicator : Indicator
        Key, unit, names and definitions (its ``value`` is plan A's).
    value_a, value_b : float
        nan where a plan lacks the indicator; a missing breakdown
        (``tonnes_collected.<m>``, ``co2e_kg.<type>``) counts as 0.
    """

    indicator: Indicator
    value_a: float
    value_b: float

    @property
    def key(self) -> str:
        """The indicator key."""
        return self.indicator.key

    @property
    def abs_diff(self) -> float:
        """``value_b - value_a`` in the indicator's unit."""
        return self.value_b - self.value_a

    @property
    def rel_diff(self) -> float:
        """``(value_b - value_a) / |value_a|``; 0 when both are 0, nan when only A is 0."""
        a, b = self.value_a, self.value_b
        if a == 0.0:
            return 0.0 if b == 0.0 else math.nan
        return (b - a) / abs(a)


@dataclass(frozen=True)
class Comparison:
    """Indicators of two plans side by side.

    Attributes
    ----------
    source_a, source_b : str
    rows : tuple of ComparisonRow
    """

    source_a: str
    source_b: str
    rows: tuple[ComparisonRow, ...]

    def row(self, key: str) -> ComparisonRow:
        """The row of an indicator key."""
        for r in self.rows:
            if r.key == key:
                return r
        raise KeyError(f"no indicator {key!r} in this comparison")

    def to_dict(self, lang: str = "en") -> dict[str, Any]:
        """JSON-ready dict with names in ``lang``; nan becomes None."""
        return {
            "plan_a": self.source_a,
            "plan_b": self.source_b,
            "indicators": [
                {
                    "key": r.key,
                    "name": r.indicator.name(lang),
                    "unit": r.indicator.unit,
                    "unit_label": r.indicator.unit_label(lang),
                    "group": r.indicator.group,
                    "a": _json_num(r.value_a),
                    "b": _json_num(r.value_b),
                    "abs_diff": _json_num(r.abs_diff),
                    "rel_diff": _json_num(r.rel_diff),
                }
                for r in self.rows
            ],
        }

    def to_text(self, lang: str = "en") -> str:
        """A table for a terminal: indicator, unit, A, B, B − A, relative difference.

        Columns are aligned by display width, so Chinese labels line up too.
        """
        lab = labels(check_lang(lang))
        header = [lab["col_indicator"], lab["col_unit"], lab["col_plan_a"], lab["col_plan_b"],
                  lab["col_abs_diff"], lab["col_rel_diff"]]  # fmt: skip
        body = [
            [
                r.indicator.name(lang),
                r.indicator.unit_label(lang),
                format_number(r.value_a),
                format_number(r.value_b),
                format_number(r.abs_diff, signed=True),
                format_percent(r.rel_diff),
            ]
            for r in self.rows
        ]
        widths = [max(display_width(row[c]) for row in [header, *body]) for c in range(6)]
        lines = [
            f"{lab['col_plan_a']}: {self.source_a}",
            f"{lab['col_plan_b']}: {self.source_b}",
            "",
        ]
        for row in [header, *body]:
            cells = [_pad(row[0], widths[0]), _pad(row[1], widths[1])]
            cells += [_pad(row[c], widths[c], right=True) for c in range(2, 6)]
            lines.append("  ".join(cells).rstrip())
        return "\n".join(lines)


def compare(
    plan_a: str | Path | Mapping[str, Any] | PlanDocs,
    plan_b: str | Path | Mapping[str, Any] | PlanDocs,
    *,
    emission_factors: EmissionFactorsArg = None,
) -> Comparison:
    """Evaluate two plans with the same indicators and line them up.

    Parameters
    ----------
    plan_a, plan_b : path, dict or PlanDocs
        See :func:`load_plans`: a plan file, a directory of plan files (then siting and
        routing indicators), a plan dict.
    emission_factors : path, mapping or None
        See :func:`routing_indicators`.

    Raises
    ------
    InputError
        A plan cannot be read, or the two share no kind of plan (one siting only, the
        other routing only).
    """
    a, b = load_plans(plan_a), load_plans(plan_b)
    kinds_a = {k for k in ("siting", "routing") if getattr(a, k) is not None}
    kinds_b = {k for k in ("siting", "routing") if getattr(b, k) is not None}
    if not kinds_a & kinds_b:
        raise InputError(
            f"plan A ({a.source}) holds {'/'.join(sorted(kinds_a))} and plan B ({b.source}) "
            f"holds {'/'.join(sorted(kinds_b))}: compare plans of the same kind"
        )
    ind_a = {i.key: i for i in a.indicators(emission_factors=emission_factors)}
    ind_b = {i.key: i for i in b.indicators(emission_factors=emission_factors)}
    rows = []
    for key in sorted(ind_a.keys() | ind_b.keys(), key=_sort_key):
        breakdown = "." in key
        group = (ind_a.get(key) or ind_b[key]).group
        default_a = 0.0 if breakdown and group in kinds_a else math.nan
        default_b = 0.0 if breakdown and group in kinds_b else math.nan
        va = ind_a[key].value if key in ind_a else default_a
        vb = ind_b[key].value if key in ind_b else default_b
        rows.append(ComparisonRow(ind_a.get(key) or ind_b[key], va, vb))
    return Comparison(a.source, b.source, tuple(rows))


# --------------------------------------------------------------------------- formatting


def format_number(x: float, *, signed: bool = False) -> str:
    """A value for people: about four significant digits, thousands separators, ``–`` for nan.

    Parameters
    ----------
    x : float
    signed : bool
        Show ``+`` on positive values (differences).
    """
    if not math.isfinite(x):
        return "–"
    sign = "+" if signed else ""
    ax = abs(x)
    if ax == 0.0:
        return "0"
    if x == round(x) and ax < 1e15:
        return f"{x:{sign},.0f}"
    if ax >= 1000:
        return f"{x:{sign},.0f}"
    if ax >= 100:
        return f"{x:{sign}.1f}"
    if ax >= 1:
        return f"{x:{sign}.2f}"
    return f"{x:{sign}.3g}"


def format_percent(x: float) -> str:
    """A fraction as a signed percentage (``0.125`` → ``+12.5%``), ``–`` for nan."""
    return "–" if not math.isfinite(x) else f"{100.0 * x:+.1f}%"


def display_width(text: str) -> int:
    """Terminal columns of ``text``: East Asian wide and full-width characters count 2."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, width: int, *, right: bool = False) -> str:
    fill = " " * max(0, width - display_width(text))
    return fill + text if right else text + fill


__all__ = [
    "SPECS",
    "Comparison",
    "ComparisonRow",
    "EmissionFactor",
    "Indicator",
    "PlanDocs",
    "compare",
    "display_width",
    "format_number",
    "format_percent",
    "indicators_to_dict",
    "load_plans",
    "make_indicator",
    "plan_indicators",
    "read_emission_factors",
    "routing_indicators",
    "siting_indicators",
]
