"""Batches: a grid of siting or routing scenarios from a YAML spec, one comparison table.

A spec names a road network, one section (``siting`` or ``routing``) with the options
every scenario shares, and a ``grid`` whose keys are options of that section. Each grid
key holds a list of values, or a mapping of names to values (the names then label the
scenarios); the scenarios are the Cartesian product, in the order the spec gives.
Example (``examples/batch_helsinki.yaml``)::

    name: helsinki-stations
    network: helsinki
    siting:
      model: p_median
      time_limit_s: 5
    grid:
      p: [5, 10, 20]
      radius_m: [300, 500, 800]

Paths in the spec (network file, demand, sites, centres, districts, orders, depots,
fleet) are relative to the spec's folder. The inputs every scenario shares are prepared
once here (network, demand and sites derived from OSM when not given, matrices) and
sent to every worker once; each scenario is one task. A failing scenario is a row
marked ``failed`` with its error; the others go on. Outputs in ``OUT``:

- ``<scenario id>/plan.json`` (and ``scenario.json``, the options it ran with; siting
  also ``stations.geojson``, ``assignments.geojson``), or ``<scenario id>/error.txt``;
- ``summary.csv``: one row per scenario, the grid values, status, error, wall time,
  the plan totals and the indicators of :mod:`recyclenet.indicators` (key = column).

Siting options: ``model``, ``profile`` (walk), ``metric`` (distance_m), ``p``,
``radius_m`` (with metric distance_m) or ``radius_s`` (with duration_s), ``norm``
(households per station), ``keep_existing``, ``uncoverable`` (``raise`` or ``leave``),
``budget``, ``time_limit_s``, ``seed``,
``demand``, ``sites``, ``centres``, ``centre_profile``, ``cell_m``, ``road_spacing_m``,
``districts`` (a GeoJSON: solve district by district), ``admin_level`` (districts from
the OSM boundaries instead), ``outside``. Grid keys: ``model``, ``metric``, ``p``,
``radius_m``, ``radius_s``, ``norm``, ``keep_existing``, ``budget``, ``time_limit_s``,
``seed``, ``districts`` (a path, or null for the whole area), ``outside``.

Routing options: ``orders`` (CSV) or ``sample_day`` (``households``, ``stations``,
``seed``: a generated day from the OSM buildings), ``sites`` (depots and facilities
CSV, required), ``fleet`` (CSV; default the packaged fleet), ``engine``,
``time_limit_s``, ``seed``, ``decompose`` (``none``, ``depot`` or ``cluster``),
``parts``, ``stage2_share``. Grid keys: ``fleet`` (a fleet CSV, or counts per vehicle
type of the base fleet, e.g. ``{tricycle: 6, box_truck_4_2m: 1}``; 0 drops a type),
``engine``, ``time_limit_s``, ``seed``, ``decompose``, ``parts``.
"""

from __future__ import annotations

import csv
import io
import itertools
import math
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ..errors import InputError
from ..options import ROUTING_DEFAULTS as _ROUTING
from ..options import SITING_DEFAULTS as _SITING
from .cluster import TaskFailure, run_tasks, share

if TYPE_CHECKING:
    from distributed import Client

    from ..matrix import Matrix
    from ..routing import Depot, Facility, Order, VehicleType
    from ..siting import Demand, Site
    from .districts import District

Kind = Literal["siting", "routing"]
MAX_SCENARIOS = 10_000
TOP_KEYS: tuple[str, ...] = ("name", "network", "siting", "routing", "grid")

Validator = Callable[[Any, str, Path], Any]


# --------------------------------------------------------------------------- validators


def _fail(where: str, text: str) -> InputError:
    return InputError(f"{where}: {text}")


def _number(
    *, minimum: float = 0.0, strict: bool = True, upper: float | None = None, optional: bool = False
) -> Validator:
    def check(value: Any, where: str, base: Path) -> float | None:
        if value is None and optional:
            return None
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise _fail(where, f"expected a number, got {value!r}")
        bad = value <= minimum if strict else value < minimum
        if bad or (upper is not None and value >= upper):
            rng = f"> {minimum:g}" if strict else f">= {minimum:g}"
            rng += f" and < {upper:g}" if upper is not None else ""
            raise _fail(where, f"must be {rng}, got {value!r}")
        return float(value)

    return check


def _integer(*, minimum: int = 0, optional: bool = False) -> Validator:
    def check(value: Any, where: str, base: Path) -> int | None:
        if value is None and optional:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise _fail(where, f"expected an integer >= {minimum}, got {value!r}")
        return int(value)

    return check


def _choice(choices: Sequence[str]) -> Validator:
    def check(value: Any, where: str, base: Path) -> str:
        if value not in choices:
            raise _fail(where, f"expected one of {', '.join(choices)}; got {value!r}")
        return str(value)

    return check


def _text(value: Any, where: str, base: Path) -> str:
    if not isinstance(value, str | int) or isinstance(value, bool) or str(value) == "":
        raise _fail(where, f"expected a non-empty string, got {value!r}")
    return str(value)


def _file(*, optional: bool = True) -> Validator:
    def check(value: Any, where: str, base: Path) -> str | None:
        if value is None and optional:
            return None
        if not isinstance(value, str) or not value:
            raise _fail(where, f"expected a file path, got {value!r}")
        path = Path(value).expanduser()
        path = path if path.is_absolute() else base / path
        if not path.is_file():
            raise _fail(where, f"file not found: {path}")
        return str(path)

    return check


def _sample_day(value: Any, where: str, base: Path) -> dict[str, int]:
    if not isinstance(value, Mapping):
        raise _fail(where, "expected a mapping with households, stations, seed")
    keys = {"households": 40, "stations": 8, "seed": 0}
    unknown = sorted(set(value) - set(keys))
    if unknown:
        raise _fail(where, f"unknown key(s) {unknown}; expected {sorted(keys)}")
    return {k: _integer()(value.get(k, d), f"{where}.{k}", base) for k, d in keys.items()}


def _fleet_variant(value: Any, where: str, base: Path) -> str | dict[str, int]:
    """A fleet CSV path, or counts per vehicle type id of the base fleet."""
    if isinstance(value, str):
        return str(_file(optional=False)(value, where, base))
    if isinstance(value, Mapping):  # {} is the base fleet as it is
        return {str(k): int(_integer()(v, f"{where}.{k}", base)) for k, v in value.items()}
    raise _fail(where, f"expected a fleet CSV path or counts per vehicle type, got {value!r}")


def _districts(value: Any, where: str, base: Path) -> str | None:
    if value is None or (isinstance(value, str) and value.lower() in ("none", "whole")):
        return None
    path: str | None = _file(optional=False)(value, where, base)
    return path


def _admin_level(value: Any, where: str, base: Path) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | str) or str(value).strip() == "":
        raise _fail(where, f"expected an OSM admin_level such as 8, got {value!r}")
    return str(value).strip()


SITING_KEYS: dict[str, Validator] = {
    "model": _choice(("p_median", "max_coverage", "min_stations", "cflp")),
    "profile": _text,
    "metric": _choice(("distance_m", "duration_s")),
    "p": _integer(minimum=1, optional=True),
    "radius_m": _number(optional=True),
    "radius_s": _number(optional=True),
    "norm": _number(),
    "keep_existing": _choice(("all", "allow_closing")),
    "uncoverable": _choice(("raise", "leave")),
    "budget": _number(strict=False, optional=True),
    "time_limit_s": _number(),
    "seed": _integer(),
    "demand": _file(),
    "sites": _file(),
    "centres": _file(),
    "centre_profile": _text,
    "cell_m": _number(),
    "road_spacing_m": _number(),
    "districts": _districts,
    "admin_level": _admin_level,
    "outside": _choice(("report", "nearest")),
}
SITING_DEFAULTS: dict[str, Any] = {
    "model": _SITING.model,
    "profile": _SITING.profile,
    "metric": _SITING.metric,
    "p": _SITING.p,
    "radius_m": _SITING.radius,
    "radius_s": _SITING.radius,
    "norm": _SITING.households_per_station,
    "keep_existing": _SITING.keep_existing,
    "uncoverable": _SITING.uncoverable,
    "budget": _SITING.budget,
    "time_limit_s": _SITING.time_limit_s,
    "seed": _SITING.seed,
    "demand": None,
    "sites": None,
    "centres": None,
    "centre_profile": _SITING.centre_profile,
    "cell_m": _SITING.cell_m,
    "road_spacing_m": _SITING.road_spacing_m,
    "districts": None,
    "admin_level": None,
    "outside": "report",
}
"""Spec defaults: the option values come from :data:`recyclenet.options.SITING_DEFAULTS`."""
SITING_GRID: tuple[str, ...] = (
    "model",
    "metric",
    "p",
    "radius_m",
    "radius_s",
    "norm",
    "keep_existing",
    "uncoverable",
    "budget",
    "time_limit_s",
    "seed",
    "districts",
    "outside",
)

ROUTING_KEYS: dict[str, Validator] = {
    "orders": _file(),
    "sample_day": _sample_day,
    "sites": _file(optional=False),
    "fleet": _fleet_variant,
    "engine": _choice(("auto", "ortools", "pyvrp")),
    "time_limit_s": _number(),
    "seed": _integer(),
    "decompose": _choice(("none", "depot", "cluster")),
    "parts": _integer(minimum=1, optional=True),
    "stage2_share": _number(strict=False, upper=1.0),
}
ROUTING_DEFAULTS: dict[str, Any] = {
    "orders": None,
    "sample_day": None,
    "sites": None,
    "fleet": None,
    "engine": _ROUTING.engine,
    "time_limit_s": _ROUTING.time_limit_s,
    "seed": _ROUTING.seed,
    "decompose": "none",
    "parts": None,
    "stage2_share": 0.2,
}
ROUTING_GRID: tuple[str, ...] = ("fleet", "engine", "time_limit_s", "seed", "decompose", "parts")


# --------------------------------------------------------------------------- spec


@dataclass(frozen=True)
class Scenario:
    """One point of the grid.

    Attributes
    ----------
    id : str
        ``<key>-<label>`` joined by ``_`` (``base`` without a grid); a folder name.
    labels : dict key -> str
        The grid labels of this scenario.
    options : dict
        Every option of the section, resolved.
    """

    id: str
    labels: dict[str, str]
    options: dict[str, Any]


@dataclass(frozen=True)
class BatchSpec:
    """A validated batch spec (see the module docstring).

    Attributes
    ----------
    name : str
    network : str
        Sample name or resolved path.
    kind : {"siting", "routing"}
    base : dict
        Section options with defaults filled in.
    grid : dict key -> list of (label, value)
    source : str
        Where the spec came from (for messages).
    """

    name: str
    network: str
    kind: Kind
    base: dict[str, Any]
    grid: dict[str, list[tuple[str, Any]]] = field(default_factory=dict)
    source: str = "<spec>"

    def scenarios(self) -> list[Scenario]:
        """The Cartesian product of the grid, in spec order."""
        keys = list(self.grid)
        out = []
        for combo in itertools.product(*(self.grid[k] for k in keys)):
            options = dict(self.base)
            labels = {}
            for key, (label, value) in zip(keys, combo):
                options[key] = value
                labels[key] = label
            sid = "_".join(f"{k}-{labels[k]}" for k in keys) or "base"
            out.append(Scenario(_safe_id(sid), labels, options))
        return out


def _safe_id(text: str) -> str:
    return re.sub(r"[^\w.\-]+", "_", text).strip("_") or "scenario"


def _label(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, str) and ("/" in value or "\\" in value):
        return Path(value).stem
    return str(value)


def load_spec(path: str | Path) -> BatchSpec:
    """Read and validate a batch spec (YAML).

    Raises
    ------
    InputError
        Unreadable YAML, or a bad key or value; the message names the key path (e.g.
        ``grid.p[2]``) and what it expects.
    """
    import yaml

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"batch spec not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read batch spec {path}: {exc}") from None
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InputError(f"{path}: not valid YAML ({exc})") from None
    return parse_spec(doc, base_dir=path.resolve().parent, source=str(path))


def parse_spec(doc: Any, *, base_dir: Path, source: str = "<spec>") -> BatchSpec:
    """Validate a spec already parsed from YAML (see :func:`load_spec`)."""
    if not isinstance(doc, Mapping):
        raise InputError(f"{source}: expected a mapping with keys {', '.join(TOP_KEYS)}")
    unknown = sorted(str(k) for k in doc if k not in TOP_KEYS)
    if unknown:
        raise InputError(f"{source}: unknown key(s) {unknown}; expected some of {list(TOP_KEYS)}")
    if "network" not in doc:
        raise InputError(f"{source}: network: missing; give 'helsinki' or an OSM file path")
    network = _text(doc["network"], f"{source}: network", base_dir)
    candidate = Path(network).expanduser()
    if not candidate.is_absolute() and (base_dir / candidate).exists():
        network = str(base_dir / candidate)
    sections = [k for k in ("siting", "routing") if doc.get(k) is not None]
    if len(sections) != 1:
        raise InputError(
            f"{source}: give exactly one of the keys 'siting' or 'routing' "
            f"(found {sections or 'neither'})"
        )
    kind: Kind = sections[0]  # type: ignore[assignment]
    keys, defaults, grid_keys = (
        (SITING_KEYS, SITING_DEFAULTS, SITING_GRID)
        if kind == "siting"
        else (ROUTING_KEYS, ROUTING_DEFAULTS, ROUTING_GRID)
    )
    section = doc[kind]
    if not isinstance(section, Mapping):
        raise InputError(f"{source}: {kind}: expected a mapping of options")
    bad = sorted(str(k) for k in section if k not in keys)
    if bad:
        raise InputError(f"{source}: {kind}: unknown key(s) {bad}; expected some of {sorted(keys)}")
    base = dict(defaults)
    for key, value in section.items():
        base[key] = keys[key](value, f"{source}: {kind}.{key}", base_dir)
    grid_doc = doc.get("grid") or {}
    if not isinstance(grid_doc, Mapping):
        raise InputError(f"{source}: grid: expected a mapping of option -> list of values")
    grid: dict[str, list[tuple[str, Any]]] = {}
    for key, values in grid_doc.items():
        where = f"{source}: grid.{key}"
        if key not in grid_keys:
            raise InputError(
                f"{where}: not a grid key of {kind}; grid keys: {', '.join(grid_keys)}"
            )
        if isinstance(values, Mapping):
            items = [(str(n), keys[key](v, f"{where}.{n}", base_dir)) for n, v in values.items()]
        elif isinstance(values, list):
            items = [
                (_label(v), keys[key](v, f"{where}[{i}]", base_dir)) for i, v in enumerate(values)
            ]
        else:
            raise InputError(
                f"{where}: expected a list of values or a mapping name -> value, got {values!r}"
            )
        if not items:
            raise InputError(f"{where}: empty; give at least one value")
        labels = [lbl for lbl, _ in items]
        dup = sorted({lbl for lbl in labels if labels.count(lbl) > 1})
        if dup:
            raise InputError(f"{where}: repeated value(s) {dup}")
        grid[str(key)] = items
    n = math.prod(len(v) for v in grid.values())
    if n > MAX_SCENARIOS:
        raise InputError(f"{source}: grid: {n} scenarios is above the limit of {MAX_SCENARIOS}")
    spec = BatchSpec(
        name=str(doc.get("name") or Path(source).stem),
        network=network,
        kind=kind,
        base=base,
        grid=grid,
        source=source,
    )
    _check_cross(spec)
    return spec


def _check_cross(spec: BatchSpec) -> None:
    """Checks that need several keys (e.g. radius unit vs metric, fleet type ids)."""
    src = spec.source
    if spec.kind == "siting":
        for sc in spec.scenarios()[:MAX_SCENARIOS]:
            o = sc.options
            if o["radius_m"] is not None and o["radius_s"] is not None:
                raise InputError(f"{src}: siting: give radius_m or radius_s, not both")
            if o["radius_s"] is not None and o["metric"] != "duration_s":
                raise InputError(f"{src}: siting.radius_s needs metric: duration_s")
            if o["radius_m"] is not None and o["metric"] != "distance_m":
                raise InputError(f"{src}: siting.radius_m needs metric: distance_m")
        return
    base = spec.base
    if base["orders"] is None and base["sample_day"] is None:
        raise InputError(f"{src}: routing: give orders (a CSV) or sample_day")
    if base["orders"] is not None and base["sample_day"] is not None:
        raise InputError(f"{src}: routing: give orders or sample_day, not both")
    if base["sites"] is None:
        raise InputError(f"{src}: routing.sites: missing; a CSV with the depots and facilities")
    from ..routing import read_fleet

    fleet_base = base["fleet"]
    if isinstance(fleet_base, Mapping):
        raise InputError(f"{src}: routing.fleet: give a fleet CSV here; counts go in grid.fleet")
    type_ids = [vt.id for vt in read_fleet(fleet_base)]
    for label, variant in spec.grid.get("fleet", []):
        if isinstance(variant, Mapping):
            unknown = sorted(set(variant) - set(type_ids))
            if unknown:
                raise InputError(
                    f"{src}: grid.fleet.{label}: unknown vehicle type(s) {unknown}; "
                    f"the base fleet has {type_ids}"
                )
            if not any(variant.get(t, 1) > 0 for t in type_ids):
                raise InputError(f"{src}: grid.fleet.{label}: every vehicle type set to 0")


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class _SitingInputs:
    """What every siting scenario shares (sent to each worker once)."""

    demand: tuple[Demand, ...]
    sites: tuple[Site, ...]
    matrix: Matrix
    centres: tuple[Site, ...]
    centre_matrix: Matrix | None
    districts: Mapping[str, tuple[District, ...]]


@dataclass(frozen=True)
class _RoutingInputs:
    """What every routing scenario shares (sent to each worker once)."""

    orders: tuple[Order, ...]
    depots: tuple[Depot, ...]
    facilities: tuple[Facility, ...]
    fleet: tuple[VehicleType, ...]
    fleets: Mapping[str, tuple[VehicleType, ...]]
    matrices: Mapping[str, Matrix]


def _siting_inputs(spec: BatchSpec, progress: Callable[[str], None]) -> _SitingInputs:
    from ..matrix import build_matrix
    from ..network import load_network
    from ..pipeline import read_demand, read_sites
    from ..points import Points
    from .districts import districts_from_osm, read_districts

    base = spec.base
    progress(f"loading road network {spec.network} (profile {base['profile']}) ...")
    net = load_network(spec.network, profile=base["profile"])
    demand = read_demand(base["demand"]) if base["demand"] else None
    sites = read_sites(base["sites"]) if base["sites"] else None
    if demand is None or sites is None:
        from ..osm_features import read_osm_features
        from ..siting.osm_inputs import candidate_sites, demand_from_buildings

        features = read_osm_features(spec.network)
        if demand is None:
            demand = demand_from_buildings(features.buildings, cell_m=base["cell_m"])
        if sites is None:
            sites = candidate_sites(net, features, road_spacing_m=base["road_spacing_m"])
    progress(f"matrix {len(demand)} demand points x {len(sites)} sites ...")
    matrix = build_matrix(
        net, Points.from_located(demand), Points.from_located(sites), too_far="unreachable"
    )
    centres: tuple[Site, ...] = ()
    centre_matrix = None
    if base["centres"]:
        centres = tuple(read_sites(base["centres"]))
        truck = net.with_profile(base["centre_profile"])
        centre_matrix = build_matrix(
            truck, Points.from_located(sites), Points.from_located(centres), too_far="unreachable"
        )
    paths = {str(v) for _, v in spec.grid.get("districts", [])} | {str(base["districts"])}
    districts: dict[str, tuple[District, ...]] = {}
    for p in sorted(paths - {"None"}):
        districts[p] = read_districts(p)
    if base["admin_level"] is not None:
        districts["osm"] = districts_from_osm(spec.network, admin_level=base["admin_level"])
    return _SitingInputs(tuple(demand), tuple(sites), matrix, centres, centre_matrix, districts)


def _routing_inputs(spec: BatchSpec, progress: Callable[[str], None]) -> _RoutingInputs:
    from ..matrix import build_matrix
    from ..network import load_network
    from ..points import Points
    from ..routing import read_fleet, read_orders
    from ..routing.io import read_sites as read_depots

    base = spec.base
    fleet = tuple(read_fleet(base["fleet"]))
    fleets: dict[str, tuple[VehicleType, ...]] = {}
    for label, variant in spec.grid.get("fleet", []):
        fleets[label] = _fleet_of(fleet, variant)
    depots, facilities = read_depots(base["sites"])
    profiles = sorted({vt.profile for f in [fleet, *fleets.values()] for vt in f})
    progress(f"loading road network {spec.network} (profiles {', '.join(profiles)}) ...")
    first = load_network(spec.network, profile=profiles[0])
    if base["orders"]:
        orders = read_orders(base["orders"])
    else:
        from ..osm_features import read_osm_features
        from ..scenario import sample_day
        from ..siting.osm_inputs import candidate_sites, demand_from_buildings

        day = base["sample_day"]
        walk = first.with_profile("walk")
        features = read_osm_features(spec.network)
        orders = sample_day(
            demand_from_buildings(features.buildings),
            candidate_sites(walk, features),
            n_household_orders=day["households"],
            n_station_orders=day["stations"],
            seed=day["seed"],
        )
    pts = Points.from_located([*depots, *facilities, *orders])
    matrices = {}
    for prof in profiles:
        progress(f"matrix {len(pts)} x {len(pts)} for profile {prof} ...")
        matrices[prof] = build_matrix(first.with_profile(prof), pts, too_far="unreachable")
    return _RoutingInputs(tuple(orders), tuple(depots), tuple(facilities), fleet, fleets, matrices)


def _fleet_of(
    base: Sequence[VehicleType], variant: str | Mapping[str, int] | None
) -> tuple[VehicleType, ...]:
    from ..routing import read_fleet

    if variant is None:
        return tuple(base)
    if isinstance(variant, str):
        return tuple(read_fleet(variant))
    return tuple(
        replace(vt, count=variant.get(vt.id, vt.count))
        for vt in base
        if variant.get(vt.id, vt.count) > 0
    )


# --------------------------------------------------------------------------- scenario tasks


@dataclass(frozen=True)
class _Outcome:
    """What a scenario task returns: documents to write and its summary row."""

    row: dict[str, Any]
    files: dict[str, Any]


def _run_siting(inputs: _SitingInputs, options: Mapping[str, Any]) -> _Outcome:
    """Worker: one siting scenario."""
    from ..pipeline import siting_geojson
    from ..siting import SitingProblem, solve_siting
    from .siting import solve_siting_by_district

    t0 = time.perf_counter()
    radius = options["radius_m"] if options["radius_m"] is not None else options["radius_s"]
    problem = SitingProblem(
        demand=inputs.demand,
        sites=inputs.sites,
        matrix=inputs.matrix,
        model=options["model"],
        metric=options["metric"],
        p=options["p"],
        radius=radius,
        households_per_station=options["norm"],
        budget=options["budget"],
        keep_existing=options["keep_existing"],
        uncoverable=options["uncoverable"],
    )
    limit, seed = float(options["time_limit_s"]), int(options["seed"])
    key = options["districts"] or ("osm" if options["admin_level"] is not None else None)
    centres = None
    if key is not None:
        run = solve_siting_by_district(
            problem,
            inputs.districts[str(key)],
            outside=options["outside"],
            centres=inputs.centres,
            centre_matrix=inputs.centre_matrix,
            time_limit_s=limit,
            seed=seed,
        )
        plan, centres, doc = run.plan, run.centres, run.to_dict()
    elif inputs.centres:
        from ..siting import solve_two_tier

        assert inputs.centre_matrix is not None
        two = solve_two_tier(
            problem,
            inputs.centres,
            inputs.centre_matrix,
            metric=options["metric"],
            time_limit_s=limit,
            seed=seed,
        )
        plan, centres = two.stations, two.centres
        doc = {**plan.to_dict(), "centres": centres.to_dict()}
    else:
        plan = solve_siting(problem, time_limit_s=limit, seed=seed)
        doc = plan.to_dict()
    ind = plan.indicators
    row: dict[str, Any] = {
        "plan_status": plan.status,
        "objective": _round(plan.objective),
        "gap": _round(plan.gap, 6),
        "stations_open": len(plan.open_ids),
        "share_within_radius_pct": _round(100 * ind.share_households_within_radius, 2),
        "access_distance_mean_m": _round(ind.access_distance_mean_m, 1),
        "unassigned": len(plan.unassigned_ids),
        "centres_open": len(centres.open_ids) if centres is not None else None,
        "solve_s": round(time.perf_counter() - t0, 3),
    }
    row.update(_indicator_columns(siting=doc))
    files = {
        "plan.json": doc,
        **{f"{k}.geojson": v for k, v in siting_geojson(plan, problem).items()},
    }
    return _Outcome(row, files)


def _run_routing(inputs: _RoutingInputs, options: Mapping[str, Any], fleet_label: str) -> _Outcome:
    """Worker: one routing scenario."""
    from ..routing import RoutingProblem, check_plan, route_tables, solve_routing
    from .routing import solve_routing_decomposed

    t0 = time.perf_counter()
    fleet = inputs.fleets.get(fleet_label, inputs.fleet)
    profiles = {vt.profile for vt in fleet}
    problem = RoutingProblem(
        orders=inputs.orders,
        vehicle_types=fleet,
        depots=inputs.depots,
        matrices={p: m for p, m in inputs.matrices.items() if p in profiles},
        facilities=inputs.facilities,
    )
    limit, seed = float(options["time_limit_s"]), int(options["seed"])
    if options["decompose"] == "none":
        plan = solve_routing(problem, engine=options["engine"], time_limit_s=limit, seed=seed)
    else:
        plan = solve_routing_decomposed(
            problem,
            by=options["decompose"],
            n_parts=options["parts"],
            engine=options["engine"],
            time_limit_s=limit,
            stage2_share=options["stage2_share"],
            seed=seed,
        ).plan
    errors = check_plan(plan, problem)
    doc = plan.to_dict()
    row: dict[str, Any] = {
        "plan_status": plan.status,
        "cost": _round(plan.cost, 2),
        "objective": _round(plan.objective, 2),
        "vehicle_km": _round(plan.vehicle_km, 3),
        "vehicles": len(plan.routes),
        "served": len(plan.served_order_ids),
        "unserved": len(plan.unserved),
        "check_errors": len(errors),
        "engine": plan.engine,
        "solve_s": round(time.perf_counter() - t0, 3),
    }
    row.update(_indicator_columns(routing=doc))
    return _Outcome(row, {"plan.json": doc, "routes.txt": route_tables(plan)})


def _indicator_columns(**plans: Any) -> dict[str, Any]:
    """The indicators of :mod:`recyclenet.indicators` as columns (empty if unavailable)."""
    try:
        from ..indicators import plan_indicators

        return {f"ind.{i.key}": _round(i.value, 4) for i in plan_indicators(**plans)}
    except Exception as exc:  # indicators are extra columns; the plan totals stand alone
        return {"ind.error": f"{type(exc).__name__}: {exc}"}


def _round(x: float | None, digits: int = 3) -> float | None:
    if x is None or not math.isfinite(x):
        return None
    return round(float(x), digits)


# --------------------------------------------------------------------------- running


@dataclass(frozen=True)
class BatchResult:
    """The rows of a batch and where its outputs went.

    Attributes
    ----------
    spec : BatchSpec
    rows : list of dict
        One per scenario, in grid order: ``scenario``, the grid labels, ``status``
        (``ok`` or ``failed``), ``error``, the plan columns, ``solve_s`` (the task's
        own wall time, seconds) and ``done_at_s`` (when its result came back, seconds
        after the first task was submitted).
    out : Path
    time_s : float
    """

    spec: BatchSpec
    rows: list[dict[str, Any]]
    out: Path
    time_s: float

    @property
    def failed(self) -> list[str]:
        """Ids of the failed scenarios."""
        return [r["scenario"] for r in self.rows if r["status"] != "ok"]

    def columns(self) -> list[str]:
        """Every column, in first-seen order."""
        cols: list[str] = []
        for r in self.rows:
            cols += [k for k in r if k not in cols]
        return cols

    def to_csv(self) -> str:
        """The table as CSV text (UTF-8; empty cells for missing values)."""
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=self.columns(), lineterminator="\n")
        writer.writeheader()
        for r in self.rows:
            writer.writerow({k: "" if v is None else v for k, v in r.items()})
        return buf.getvalue()

    def table(self) -> str:
        """The main columns as aligned text, for the terminal."""
        main = (
            [
                "objective",
                "stations_open",
                "share_within_radius_pct",
                "access_distance_mean_m",
                "unassigned",
                "centres_open",
            ]
            if self.spec.kind == "siting"
            else ["cost", "vehicle_km", "vehicles", "served", "unserved", "check_errors"]
        )
        cols = [
            "scenario",
            "status",
            *[k for k in main if any(k in r for r in self.rows)],
            "solve_s",
            "error",
        ]
        cells = [[_cell(r.get(c)) for c in cols] for r in self.rows]
        widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]
        widths[-1] = len(cols[-1])  # errors run on
        lines = ["  ".join(c.ljust(w) for c, w in zip(cols, widths)).rstrip()]
        lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip() for row in cells]
        return "\n".join(lines)


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)


def run_batch(
    spec: BatchSpec,
    out: str | Path,
    *,
    client: Client | None = None,
    progress: Callable[[str], None] = print,
    formats: str | Sequence[str] = ("geojson",),
    live: Callable[[dict[str, Any]], None] | None = None,
) -> BatchResult:
    """Run every scenario of a spec; write plans, errors and ``summary.csv`` to ``out``.

    Parameters
    ----------
    spec : BatchSpec
        From :func:`load_spec`.
    out : path
        Output folder (created).
    client : distributed.Client, optional
        Where the scenarios run (see :func:`~recyclenet.scale.open_client`); None: one
        after another in this process.
    progress : callable
        Receives one line per step and per finished scenario (``[3/9] id: ok, 1.2 s``
        or ``[4/9] id: FAILED InputError: ...``).
    formats : str or sequence
        File formats of each scenario's layers (see
        :func:`recyclenet.export.files.write_plan_files`): ``geojson``, ``gpkg``, ``shp``,
        ``csv``, ``xlsx`` or ``all``.
    live : callable, optional
        Receives a report as each scenario starts (here, or handed to the cluster) and
        ends: ``{"phase": "scenarios", "done", "total", "failed", "running": [ids],
        "last": id or None, "elapsed_s", "time_limit_s": None}`` (the form of
        :mod:`recyclenet.progress`; ``running``: started and not finished).

    Returns
    -------
    BatchResult
        Failed scenarios are rows with ``status`` ``failed``; nothing is raised for them.
    """
    from ..export.files import parse_formats, write_plan_files
    from ..pipeline import write_json

    fmts = parse_formats(formats)
    t0 = time.perf_counter()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    scenarios = spec.scenarios()
    progress(f"batch {spec.name}: {len(scenarios)} {spec.kind} scenario(s) on {spec.network}")
    inputs: Any = (
        _siting_inputs(spec, progress) if spec.kind == "siting" else _routing_inputs(spec, progress)
    )
    shared = share(client, inputs)
    tasks: dict[str, tuple[Any, ...]] = {}
    for sc in scenarios:
        if spec.kind == "siting":
            tasks[sc.id] = (shared, sc.options)
        else:
            tasks[sc.id] = (shared, sc.options, sc.labels.get("fleet", ""))
    func = _run_siting if spec.kind == "siting" else _run_routing
    by_id = {sc.id: sc for sc in scenarios}
    started = time.perf_counter()
    rows: dict[str, dict[str, Any]] = {}

    def on_result(sid: str, res: Any) -> None:
        sc = by_id[sid]
        folder = out / sid
        folder.mkdir(parents=True, exist_ok=True)
        write_json(folder / "scenario.json", {"id": sid, "grid": sc.labels, "options": sc.options})
        row: dict[str, Any] = {"scenario": sid, **sc.labels}
        if isinstance(res, TaskFailure):
            row.update(status="failed", error=str(res))
            (folder / "error.txt").write_text(str(res) + "\n", encoding="utf-8")
        else:
            row.update(status="ok", error="")
            layers = {n[: -len(".geojson")]: d for n, d in res.files.items()
                      if n.endswith(".geojson")}  # fmt: skip
            for name, doc in res.files.items():
                if isinstance(doc, str):
                    (folder / name).write_text(doc, encoding="utf-8")
                elif not name.endswith(".geojson"):
                    write_json(folder / name, doc)
            write_plan_files(folder, layers, formats=fmts)
            row.update(res.row)
        row["done_at_s"] = round(time.perf_counter() - started, 3)
        rows[sid] = row

    running: list[str] = []
    counts = {"done": 0, "failed": 0}

    def tell(last: str | None = None) -> None:
        if live is not None:
            live({"phase": "scenarios", "engine": None, **counts, "total": len(scenarios),
                  "running": list(running), "last": last, "time_limit_s": None,
                  "elapsed_s": round(time.perf_counter() - t0, 3)})  # fmt: skip

    def start(sid: str) -> None:
        running.append(sid)
        tell()

    def report(done: int, total: int, sid: str, failure: TaskFailure | None) -> None:
        state = f"FAILED {failure}" if failure else "ok"
        progress(f"[{done}/{total}] {sid}: {state} ({time.perf_counter() - t0:.1f} s)")
        running.remove(sid)
        counts["done"], counts["failed"] = done, counts["failed"] + (failure is not None)
        tell(sid)

    tell()
    run_tasks(client, func, tasks, progress=report, on_result=on_result, on_start=start,
              name="scenario")  # fmt: skip
    result = BatchResult(spec, [rows[sc.id] for sc in scenarios], out, time.perf_counter() - t0)
    (out / "summary.csv").write_text(result.to_csv(), encoding="utf-8")
    return result
