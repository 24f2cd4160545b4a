"""Options of a siting or routing plan: every default defined once, here.

:class:`SitingOptions` and :class:`RoutingOptions` are frozen, validated values. The CLI
(flag defaults), the API (schema defaults), the batch runner (spec defaults) and district
siting take their defaults from them, and :func:`recyclenet.pipeline.plan_siting` /
:func:`~recyclenet.pipeline.plan_routes` take one of them (``options=``) or the same
names as keywords. ``from_mapping`` builds one from a YAML/JSON document or an API body,
with the names used elsewhere (``norm`` for ``households_per_station``, ``radius_m`` /
``radius_s`` for a radius in metres / seconds) and an error naming unknown keys.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from typing import Any, ClassVar, Literal, TypeVar

from .errors import InputError
from .network import DEFAULT_MAX_SNAP_DISTANCE_M
from .routing.problem import DEFAULT_ORDER_SNAP_LIMIT_M
from .siting.defaults import DEFAULT_HOUSEHOLDS_PER_STATION

SitingModel = Literal["p_median", "max_coverage", "min_stations", "cflp"]
Engine = Literal["auto", "ortools", "pyvrp"]

SITING_MODELS: tuple[str, ...] = ("p_median", "max_coverage", "min_stations", "cflp")
METRICS: tuple[str, ...] = ("distance_m", "duration_s")
KEEP_EXISTING: tuple[str, ...] = ("all", "allow_closing")
UNCOVERABLE: tuple[str, ...] = ("raise", "leave")
ENGINES: tuple[str, ...] = ("auto", "ortools", "pyvrp")

T = TypeVar("T", bound="_Options")


class _Options:
    """``from_mapping``, ``to_dict`` and ``replace`` shared by the option types."""

    _aliases: ClassVar[Mapping[str, str]] = {}

    @classmethod
    def from_mapping(cls: type[T], data: Mapping[str, Any] | None, *,
                     where: str = "options") -> T:  # fmt: skip
        """Options from a mapping (YAML, JSON, an API body); missing keys take defaults.

        ``None`` values mean "the default". Unknown keys are an error listing the known
        ones.
        """
        data = dict(data or {})
        names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
        values: dict[str, Any] = {}
        for key, value in data.items():
            name = cls._aliases.get(key, key)
            if name not in names:
                raise InputError(f"{where}: unknown option {key!r}; known: "
                                 f"{', '.join(sorted(names | set(cls._aliases)))}")  # fmt: skip
            if value is None and key in cls._aliases:
                continue  # radius_m: null next to radius_s: 300 says nothing
            if value is not None or name in _NULLABLE:
                values[name] = value
        return cls._normalise(values, data, where)

    @classmethod
    def _normalise(cls: type[T], values: dict[str, Any], data: Mapping[str, Any],
                   where: str) -> T:  # fmt: skip
        try:
            return cls(**values)
        except TypeError as exc:
            raise InputError(f"{where}: {exc}") from None

    def to_dict(self) -> dict[str, Any]:
        """The options as a JSON-ready dict (what ``from_mapping`` reads back)."""
        return asdict(self)  # type: ignore[call-overload]

    def replace(self: T, **changes: Any) -> T:
        """A copy with ``changes`` (validated again)."""
        return replace(self, **changes)  # type: ignore[type-var]


_NULLABLE = frozenset({"p", "radius", "budget", "speed_model", "period"})


def _choice(where: str, name: str, value: Any, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise InputError(f"{where}: {name} {value!r} must be one of {', '.join(choices)}")


def _positive(where: str, name: str, value: Any, *, optional: bool = False,
              zero: bool = False) -> None:  # fmt: skip
    if value is None and optional:
        return
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or value < 0 or (value == 0 and not zero):
        bound = ">= 0" if zero else "> 0"
        raise InputError(f"{where}: {name} must be a finite number {bound}, got {value!r}")


@dataclass(frozen=True)
class SitingOptions(_Options):
    """How to site stations (see :func:`recyclenet.pipeline.plan_siting`).

    Attributes
    ----------
    model : {"p_median", "max_coverage", "min_stations", "cflp"}
    profile : str
        Road profile of the trips to stations (``walk`` for households).
    metric : {"distance_m", "duration_s"}
        What ``radius`` and the objective measure.
    p : int, optional
        Stations to open (p-median, max coverage).
    radius : float, optional
        Service radius in the metric's unit (m or s).
    households_per_station : float
        Station capacity norm (min stations; sites without a capacity).
    budget : float, optional
        Budget on fixed (and closing) costs.
    keep_existing : {"all", "allow_closing"}
    uncoverable : {"raise", "leave"}
        Min stations: reject demand no site reaches within the radius, or leave it.
    centre_profile : str
        Road profile of station → sorting centre trips (tier 2).
    cell_m, road_spacing_m : float
        OSM-derived demand grid and road-node candidate spacing, m.
    max_snap_distance_m : float
    time_limit_s : float
    seed : int
    """

    model: SitingModel = "min_stations"
    profile: str = "walk"
    metric: str = "distance_m"
    p: int | None = None
    radius: float | None = None
    households_per_station: float = DEFAULT_HOUSEHOLDS_PER_STATION
    budget: float | None = None
    keep_existing: str = "all"
    uncoverable: str = "raise"
    centre_profile: str = "box_truck_4_2m"
    cell_m: float = 100.0
    road_spacing_m: float = 150.0
    max_snap_distance_m: float = DEFAULT_MAX_SNAP_DISTANCE_M
    time_limit_s: float = 30.0
    seed: int = 0

    _aliases: ClassVar[Mapping[str, str]] = {
        "norm": "households_per_station", "radius_m": "radius", "radius_s": "radius"}  # fmt: skip

    def __post_init__(self) -> None:
        w = "siting options"
        _choice(w, "model", self.model, SITING_MODELS)
        _choice(w, "metric", self.metric, METRICS)
        _choice(w, "keep_existing", self.keep_existing, KEEP_EXISTING)
        _choice(w, "uncoverable", self.uncoverable, UNCOVERABLE)
        for name in ("profile", "centre_profile"):
            if not isinstance(getattr(self, name), str) or not getattr(self, name):
                raise InputError(f"{w}: {name} must be a profile name")
        if self.p is not None and (isinstance(self.p, bool) or not isinstance(self.p, int)
                                   or self.p < 1):  # fmt: skip
            raise InputError(f"{w}: p must be an integer >= 1, got {self.p!r}")
        _positive(w, "radius", self.radius, optional=True)
        _positive(w, "budget", self.budget, optional=True, zero=True)
        for name in ("households_per_station", "cell_m", "road_spacing_m",
                     "max_snap_distance_m", "time_limit_s"):  # fmt: skip
            _positive(w, name, getattr(self, name))
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise InputError(f"{w}: seed must be an integer >= 0, got {self.seed!r}")

    @classmethod
    def _normalise(cls, values: dict[str, Any], data: Mapping[str, Any],
                   where: str) -> SitingOptions:  # fmt: skip
        given = [k for k in ("radius", "radius_m", "radius_s") if data.get(k) is not None]
        if len(given) > 1:
            raise InputError(f"{where}: give one of radius, radius_m, radius_s, not {given}")
        if given == ["radius_m"]:
            values.setdefault("metric", "distance_m")
        if given == ["radius_s"]:
            values.setdefault("metric", "duration_s")
        unit = {"radius_m": "distance_m", "radius_s": "duration_s"}.get(given[0] if given else "")
        if unit and values.get("metric") != unit:
            raise InputError(f"{where}: {given[0]} needs metric {unit}")
        return super()._normalise(values, data, where)


@dataclass(frozen=True)
class RoutingOptions(_Options):
    """How to route (see :func:`recyclenet.pipeline.plan_routes`).

    Attributes
    ----------
    engine : {"auto", "ortools", "pyvrp"}
    time_limit_s : float
    seed : int
    max_snap_distance_m : float
    speed_model : str, optional
        ``free_flow`` or ``urban`` (None: the profile's).
    period : str, optional
        Planning period for time-dependent speeds.
    order_snap_limit_m : float
        Orders farther than this from a vehicle's roads are unserved (``off_road``).
    deterministic : bool
        Same inputs and seed, same plan (searches stop on counts, not the clock).
    """

    engine: Engine = "auto"
    time_limit_s: float = 10.0
    seed: int = 0
    max_snap_distance_m: float = DEFAULT_MAX_SNAP_DISTANCE_M
    speed_model: str | None = None
    period: str | None = None
    order_snap_limit_m: float = DEFAULT_ORDER_SNAP_LIMIT_M
    deterministic: bool = False

    def __post_init__(self) -> None:
        w = "routing options"
        _positive(w, "order_snap_limit_m", self.order_snap_limit_m)
        if not isinstance(self.deterministic, bool):
            raise InputError(f"{w}: deterministic must be true or false")
        _choice(w, "engine", self.engine, ENGINES)
        _positive(w, "time_limit_s", self.time_limit_s)
        _positive(w, "max_snap_distance_m", self.max_snap_distance_m)
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise InputError(f"{w}: seed must be an integer >= 0, got {self.seed!r}")


SITING_DEFAULTS = SitingOptions()
"""The default siting options (the CLI, API and batch defaults read them)."""
ROUTING_DEFAULTS = RoutingOptions()
"""The default routing options."""
