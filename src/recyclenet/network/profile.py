"""Vehicle road profiles: which OSM ways a vehicle may use, and how fast.

All the OSM tag rules live here: drivable highway classes, one-way semantics, access
restrictions (``access``, ``vehicle``, ``motor_vehicle``, ``motorcar``, ``goods``, ``hgv``
and their time-conditional forms ``*:conditional``; ``maxweight``, ``maxheight``,
``maxlength``, ``maxwidth``) and free-flow speeds (``maxspeed`` where tagged, else the
per-class table ``data/road_speeds.csv``).

Bus-only roads are closed to cars and trucks: ``access=no`` + ``bus=yes``/``psv=yes`` by the
access hierarchy, and ``motorcar=no`` + ``psv=yes`` because a truck is never allowed where
cars are not unless ``goods``/``hgv`` say so explicitly (``motorcar`` ranks above
``goods`` and ``hgv`` in a truck's hierarchy). The ``psv``/``bus`` tags never open a road
to a car or a truck.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from functools import cache

from ..errors import InputError
from ..tables import read_table
from .hours import Period, UnparsedHoursError, parse_conditional, parse_hours

DRIVABLE_HIGHWAYS = frozenset(
    {
        "motorway", "motorway_link", "trunk", "trunk_link", "primary", "primary_link",
        "secondary", "secondary_link", "tertiary", "tertiary_link", "unclassified",
        "residential", "living_street", "service", "road",
    }
)  # fmt: skip
"""Highway classes a motor vehicle can drive on (osmnx's "drive_service" classes)."""

WALKABLE_HIGHWAYS = frozenset(
    (DRIVABLE_HIGHWAYS - {"motorway", "motorway_link", "trunk", "trunk_link"})
    | {"footway", "pedestrian", "path", "steps", "track", "corridor", "cycleway", "bridleway"}
)
"""Highway classes people walk on (motorways and trunk roads excluded)."""
WALK_SPEED_KPH = 4.5
"""Walking speed of an adult carrying household recyclables (a common planning value)."""

EXCLUDED_SERVICE = frozenset({"emergency_access"})
CLOSED_ACCESS = frozenset({"no", "private"})
OPEN_ACCESS = frozenset({"yes", "designated", "permissive", "destination", "delivery"})
MPH_TO_KPH = 1.609344
CAR_ACCESS_KEYS = ("access", "vehicle", "motor_vehicle", "motorcar")
"""OSM access hierarchy of a car, least specific first (the most specific tag present wins)."""
HGV_ACCESS_KEYS = ("access", "vehicle", "motor_vehicle", "motorcar", "goods", "hgv")
"""A truck's hierarchy: ``motorcar=no`` (bus-only roads) closes it unless goods/hgv open it."""

# Implicit maxspeed values (km/h) of the most common zone tags, e.g. "DE:urban".
# Source: OSM wiki "Default speed limits"; only the values shared by most countries.
_ZONE_SPEEDS_KPH = {"urban": 50.0, "rural": 90.0, "motorway": 120.0, "living_street": 10.0,
                    "walk": 7.0, "zone30": 30.0, "zone:30": 30.0}  # fmt: skip


@dataclass(frozen=True)
class VehicleProfile:
    """The road-access and speed rules of one kind of vehicle.

    Attributes
    ----------
    name : str
        Profile name, e.g. ``"car"`` or ``"box_truck_4_2m"``.
    gross_weight_t : float or None
        Gross (laden) weight in tonnes, compared with ``maxweight``.
    height_m : float or None
        Vehicle height in metres, compared with ``maxheight``.
    hgv : bool
        True for heavy goods vehicles: roads tagged ``hgv=no`` are closed.
    max_speed_kph : float or None
        Caps the speed on every road.
    forbidden_highways : frozenset of str
        Highway classes the vehicle may not use.
    length_m, width_m : float or None
        Overall length and width in metres, compared with ``maxlength`` / ``maxwidth``.
    mode : {"drive", "walk"}
        ``walk`` uses footways too, ignores one-way rules and moves at ``WALK_SPEED_KPH``:
        the network households use to reach community collection stations.
    """

    name: str = "car"
    gross_weight_t: float | None = None
    height_m: float | None = None
    hgv: bool = False
    max_speed_kph: float | None = None
    forbidden_highways: frozenset[str] = field(default_factory=frozenset)
    mode: str = "drive"
    length_m: float | None = None
    width_m: float | None = None

    def __post_init__(self) -> None:
        if not self.name or not self.name.strip():
            raise InputError("VehicleProfile.name must not be empty")
        if self.mode not in ("drive", "walk"):
            raise InputError(f"VehicleProfile {self.name!r}: mode must be drive or walk")
        for attr in ("gross_weight_t", "height_m", "max_speed_kph", "length_m", "width_m"):
            value = getattr(self, attr)
            if value is not None and not (math.isfinite(value) and value > 0):
                raise InputError(f"VehicleProfile {self.name!r}: {attr} must be > 0, got {value}")

    def allows(self, tags: dict[str, str], period: Period | None = None) -> bool:
        """True if a way with these OSM tags is open to this vehicle.

        ``period``: when the vehicle drives. A time-conditional closure
        (``hgv:conditional=no @ (07:00-20:00)``) closes the way if it holds at any minute
        of the period; a conditional opening opens it only if it holds for the whole
        period. Conditions outside the parsed hours subset (see :mod:`.hours`) are
        ignored. None ignores every conditional tag.
        """
        highway = tags.get("highway", "")
        if self.mode == "walk":
            if highway not in WALKABLE_HIGHWAYS or highway in self.forbidden_highways:
                return False
            foot = tags.get("foot", tags.get("access", "")).split(";")[0].strip()
            return foot not in CLOSED_ACCESS and tags.get("area") != "yes"
        if highway not in DRIVABLE_HIGHWAYS or highway in self.forbidden_highways:
            return False
        if tags.get("area") == "yes" or tags.get("service") in EXCLUDED_SERVICE:
            return False
        # The most specific tag present decides (OSM access hierarchy).
        verdict = True
        for key in HGV_ACCESS_KEYS if self.hgv else CAR_ACCESS_KEYS:
            value = access_value(tags, key, period)
            if value in CLOSED_ACCESS:
                verdict = False
            elif value in OPEN_ACCESS:
                verdict = True
        if not verdict:
            return False
        limits = (
            (self.gross_weight_t, parse_weight_t, "maxweight"),
            (self.height_m, parse_height_m, "maxheight"),
            (self.length_m, parse_length_m, "maxlength"),
            (self.width_m, parse_length_m, "maxwidth"),
        )
        for size, parse, key in limits:
            if size is not None:
                limit = parse(tags.get(key))
                if limit is not None and limit < size:
                    return False
        return True

    def speed_kph(self, tags: dict[str, str], factor: float = 1.0) -> tuple[float, bool]:
        """Speed on a way with these tags, and whether it came from a ``maxspeed`` tag.

        ``factor`` scales the road's free-flow speed (congestion, see :mod:`.speed`)
        before the vehicle's own ``max_speed_kph`` caps it.
        """
        if self.mode == "walk":
            return WALK_SPEED_KPH, False
        tagged = parse_speed_kph(tags.get("maxspeed"))
        speed = tagged if tagged is not None else default_speed_kph(tags.get("highway", ""))
        speed *= factor
        if self.max_speed_kph is not None:
            speed = min(speed, self.max_speed_kph)
        return speed, tagged is not None


def access_value(tags: dict[str, str], key: str, period: Period | None) -> str | None:
    """The value of access key ``key`` during ``period``, its conditional form applied.

    ``key:conditional`` clauses whose hours are parsed override the plain value: a
    closing value (``no``, ``private``) if its hours meet the period, any other value if
    its hours cover the whole period. Returns None if the way has neither tag.
    """
    plain = tags.get(key)
    value = plain.split(";")[0].strip() if plain is not None else None
    conditional = tags.get(f"{key}:conditional") if period is not None else None
    if conditional is None or period is None:
        return value
    week = period.week_hours
    for clause_value, condition in parse_conditional(conditional):
        try:
            hours = parse_hours(condition)
        except UnparsedHoursError:
            continue
        clause_value = clause_value.split(";")[0].strip()
        if clause_value in CLOSED_ACCESS:
            if hours.overlaps(week):
                value = clause_value
        elif hours.covers(week):
            value = clause_value
    return value


def conditional_not_parsed(tags: dict[str, str]) -> int:
    """Number of ``*:conditional`` access clauses on a way whose hours are not parsed."""
    count = 0
    for key in HGV_ACCESS_KEYS:
        text = tags.get(f"{key}:conditional")
        if text is None:
            continue
        for _, condition in parse_conditional(text):
            try:
                parse_hours(condition)
            except UnparsedHoursError:
                count += 1
    return count


def oneway_direction(tags: dict[str, str], mode: str = "drive") -> int:
    """1: forward only, -1: backward only, 0: both directions."""
    if mode == "walk":
        return 0
    value = tags.get("oneway", "").strip().lower()
    if value in {"yes", "true", "1"}:
        return 1
    if value in {"-1", "reverse"}:
        return -1
    if value in {"no", "false", "0", "reversible", "alternating"}:
        return 0
    if tags.get("junction") in {"roundabout", "circular"} or tags.get("highway") == "motorway":
        return 1
    return 0


_NUMBER = re.compile(r"^\s*(\d+(?:[.,]\d+)?)\s*([a-zA-Z'\"]*)")


def parse_speed_kph(value: str | None) -> float | None:
    """Parse an OSM ``maxspeed`` value to km/h; None if absent or unusable.

    Handles ``"50"``, ``"30 mph"``, ``"DE:urban"``, ``"RU:zone30"`` and ``"50;30"``
    (the lowest wins).
    """
    if not value:
        return None
    speeds = []
    for part in value.split(";"):
        part = part.strip().lower()
        if ":" in part and not part[0].isdigit():
            zone = part.split(":", 1)[1]
            if zone in _ZONE_SPEEDS_KPH:
                speeds.append(_ZONE_SPEEDS_KPH[zone])
            continue
        if part in _ZONE_SPEEDS_KPH:
            speeds.append(_ZONE_SPEEDS_KPH[part])
            continue
        match = _NUMBER.match(part)
        if match:
            number = float(match.group(1).replace(",", "."))
            if number > 0:
                speeds.append(number * MPH_TO_KPH if "mph" in part else number)
    return min(speeds) if speeds else None


def parse_weight_t(value: str | None) -> float | None:
    """Parse an OSM ``maxweight`` value to tonnes (``"7.5"``, ``"3500 kg"``, ``"10 st"``)."""
    if not value:
        return None
    match = _NUMBER.match(value.strip().lower())
    if not match:
        return None
    number = float(match.group(1).replace(",", "."))
    unit = match.group(2)
    if unit == "kg":
        return number / 1000.0
    if unit in {"lbs", "lb"}:
        return number * 0.00045359237
    if unit == "st":  # short tons
        return number * 0.90718474
    return number


def parse_length_m(value: str | None) -> float | None:
    """Parse an OSM length value (``maxheight``, ``maxwidth``, ``maxlength``) to metres.

    Handles ``"3.5"``, ``"3.5 m"``, ``"350 cm"`` and feet/inches (``12'6"``); None for
    ``"default"``, ``"none"`` or anything without a number.
    """
    if not value:
        return None
    value = value.strip().lower()
    feet = re.match(r"^(\d+)\s*'\s*(?:(\d+)\s*\")?", value)
    if feet:
        return int(feet.group(1)) * 0.3048 + int(feet.group(2) or 0) * 0.0254
    match = _NUMBER.match(value)
    if not match:
        return None  # "default", "none", "below_default": no usable number
    number = float(match.group(1).replace(",", "."))
    return number / 100.0 if match.group(2) == "cm" else number


parse_height_m = parse_length_m
"""Parse an OSM ``maxheight`` value to metres (same syntax as every length)."""


@cache
def _speed_table() -> dict[str, float]:
    _, rows = read_table(None, "road_speeds.csv")
    return {row["highway"]: float(row["speed_kph"]) for row in rows}


def default_speed_kph(highway: str) -> float:
    """Default speed of a highway class from ``data/road_speeds.csv``."""
    table = _speed_table()
    return table.get(highway, table["unclassified"])


@cache
def builtin_profiles() -> dict[str, VehicleProfile]:
    """The profiles of ``data/vehicle_profiles.csv`` by name."""
    _, rows = read_table(None, "vehicle_profiles.csv")
    out = {}
    for row in rows:
        out[row["name"]] = VehicleProfile(
            name=row["name"],
            gross_weight_t=float(row["gross_weight_t"]) if row["gross_weight_t"] else None,
            height_m=float(row["height_m"]) if row["height_m"] else None,
            hgv=row["hgv"] == "yes",
            max_speed_kph=float(row["max_speed_kph"]) if row["max_speed_kph"] else None,
            forbidden_highways=frozenset(filter(None, row["forbidden_highways"].split(";"))),
            mode=row.get("mode") or "drive",
            length_m=float(row["length_m"]) if row.get("length_m") else None,
            width_m=float(row["width_m"]) if row.get("width_m") else None,
        )
    return out


def get_profile(profile: str | VehicleProfile) -> VehicleProfile:
    """A profile by name (see :func:`builtin_profiles`) or the profile itself."""
    if isinstance(profile, VehicleProfile):
        return profile
    profiles = builtin_profiles()
    if profile not in profiles:
        raise InputError(
            f"unknown vehicle profile {profile!r}; choose one of {sorted(profiles)} "
            "or pass a VehicleProfile"
        )
    return profiles[profile]
