"""The industrial park as data: enterprises, streams, receivers, vehicles, codes, rules.

Everything is immutable and checked when built; errors are
:class:`~recyclenet.errors.InputError` naming the offending ids and fields. Coordinates
are WGS-84 lon/lat, masses tonnes (``_t``), rates tonnes per month or per year, times
seconds from midnight (windows) or days (storage), money in the park's currency (CNY in
the examples).

The code tables (waste codes, compatibility groups, vehicle kinds) are packaged CSV files
in ``recyclenet/data/park_*.csv`` with their sources in the comments; :class:`CodeBook`
reads them once.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from types import MappingProxyType
from typing import Literal

from ..errors import InputError
from ..routing.problem import TimeWindow, _check_windows
from ..siting.problem import _ids_text as ids_text
from ..tables import read_table

WasteKind = Literal["general", "hazardous"]
Packaging = Literal["bulk", "drums", "IBC", "tank", "bags"]
ReceiverKind = Literal[
    "incinerator", "landfill", "cement_kiln", "recycler", "enterprise", "treatment", "transfer"
]
PACKAGINGS: tuple[str, ...] = ("bulk", "drums", "IBC", "tank", "bags")
RECEIVER_KINDS: tuple[str, ...] = (
    "incinerator",
    "landfill",
    "cement_kiln",
    "recycler",
    "enterprise",
    "treatment",
    "transfer",
)
FORMS: tuple[str, ...] = ("solid", "powder", "sludge", "liquid")

#: Legal maximum storage time of hazardous waste, days: 固体废物污染环境防治法 (2020)
#: 第八十一条 "贮存危险废物不得超过一年" (written for collection and storage operators and
#: applied to generators' temporary stores; a permit or the park may set a shorter time
#: per stream with ``storage_days``).
HAZARDOUS_MAX_STORAGE_DAYS = 365.0
#: Days in an average month (365.25 / 12), to turn tonnes/month into tonnes/day.
DAYS_PER_MONTH = 365.25 / 12.0
#: The hazardous/general separation rule, quoted in messages.
SEPARATION_RULE = (
    "hazardous waste never shares a trip with general waste (固废法 2020 第八十一条: "
    "禁止将危险废物混入非危险废物中贮存)"
)
#: A compatibility group that shares a trip with no other group.
ALONE_GROUP = "explosive"

_HW_CODE = re.compile(r"^\d{3}-\d{3}-(\d{2})$")


def _num(
    owner: str, name: str, value: object, *, positive: bool = False, allow_inf: bool = False
) -> float:
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InputError(f"{owner}: {name} must be a number, got {value!r}") from None
    if math.isnan(v) or v < 0 or (positive and v <= 0) or (math.isinf(v) and not allow_inf):
        need = "> 0" if positive else ">= 0"
        raise InputError(f"{owner}: {name} must be a finite number {need}, got {value!r}")
    return v


def _lonlat(owner: str, lon: object, lat: object) -> tuple[float, float]:
    try:
        lo, la = float(lon), float(lat)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InputError(f"{owner}: lon/lat must be numbers, got {lon!r}, {lat!r}") from None
    if not (math.isfinite(lo) and -180 <= lo <= 180 and math.isfinite(la) and -90 <= la <= 90):
        raise InputError(
            f"{owner}: lon={lon}, lat={lat} is not a WGS-84 lon/lat pair (lon first, in "
            "[-180, 180]; lat in [-90, 90])"
        )
    return lo, la


def _id(value: object, what: str) -> str:
    text = "" if value is None else str(value).strip()
    if not text:
        raise InputError(f"{what}: id must be a non-empty text, got {value!r}")
    return text


# --------------------------------------------------------------------------- code tables


@dataclass(frozen=True)
class WasteCode:
    """One row of ``data/park_waste_codes.csv``."""

    code: str
    kind: WasteKind
    category: str
    name_en: str
    name_zh: str
    compat_group: str
    hazard_class: str
    source: str


@dataclass(frozen=True)
class Incompatibility:
    """Two compatibility groups that must not share a trip, and why."""

    group_a: str
    group_b: str
    hazard_en: str
    hazard_zh: str
    source: str


@dataclass(frozen=True)
class VehicleKind:
    """A vehicle body and the packagings it may carry."""

    kind: str
    name_en: str
    name_zh: str
    packagings: frozenset[str]
    source: str


@dataclass(frozen=True)
class CodeBook:
    """Waste codes, incompatible groups and vehicle kinds (the packaged tables by default)."""

    codes: Mapping[str, WasteCode]
    incompatible: Mapping[frozenset[str], Incompatibility]
    vehicle_kinds: Mapping[str, VehicleKind]

    def lookup(self, code: str, *, context: str) -> WasteCode:
        """The row of ``code``; a hazardous 8-digit code not listed takes its category's.

        Raises
        ------
        InputError
            Unknown code, naming ``context`` and the closest known codes.
        """
        c = str(code).strip()
        if c in self.codes:
            return self.codes[c]
        m = _HW_CODE.match(c)
        if m and f"HW{m.group(1)}" in self.codes:
            base = self.codes[f"HW{m.group(1)}"]
            return WasteCode(
                c,
                "hazardous",
                base.category,
                base.name_en,
                base.name_zh,
                base.compat_group,
                base.hazard_class,
                f"{base.source} (code not listed; category {base.category})",
            )
        prefix = c[:2].upper()
        near = sorted(k for k in self.codes if k.startswith(prefix))[:8]
        raise InputError(
            f"{context}: unknown waste code {c!r}; use a general industrial solid waste class "
            f"(SW01-SW59, GB/T 39198-2020) or a hazardous code of the National Hazardous "
            f"Waste List 2021 (HWnn or nnn-nnn-nn)"
            + (f"; known codes like it: {', '.join(near)}" if near else "")
        )

    def conflict(self, a: str, b: str) -> Incompatibility | None:
        """Why groups ``a`` and ``b`` must not share a trip, or None when they may."""
        if a == b:
            return None
        if "general" in (a, b):
            return Incompatibility(
                a, b, SEPARATION_RULE, "危险废物不得与一般固体废物混装", "固废法 2020 第八十一条"
            )
        if ALONE_GROUP in (a, b):
            return Incompatibility(
                a,
                b,
                "explosive waste travels alone",
                "爆炸性废物单独运输",
                "JT/T 617-2018 (estimate)",
            )
        return self.incompatible.get(frozenset((a, b)))


def read_codebook(
    codes_path: str | None = None,
    compatibility_path: str | None = None,
    vehicle_kinds_path: str | None = None,
) -> CodeBook:
    """Read the three code tables (packaged defaults when a path is None)."""
    where, rows = read_table(codes_path, "park_waste_codes.csv")
    codes: dict[str, WasteCode] = {}
    for n, r in enumerate(rows, start=1):
        kind = r.get("kind", "")
        if kind not in ("general", "hazardous"):
            raise InputError(f"{where} row {n}: kind must be general or hazardous, got {kind!r}")
        code = _id(r.get("code"), f"{where} row {n}")
        codes[code] = WasteCode(
            code,
            kind,  # type: ignore[arg-type]
            r.get("category") or code,
            r.get("name_en", ""),
            r.get("name_zh", ""),
            r.get("compat_group") or kind,
            r.get("hazard_class", ""),
            r.get("source", ""),
        )
    where, rows = read_table(compatibility_path, "park_compatibility.csv")
    incompatible = {}
    for r in rows:
        inc = Incompatibility(
            r["group_a"],
            r["group_b"],
            r.get("hazard_en", ""),
            r.get("hazard_zh", ""),
            r.get("source", ""),
        )
        incompatible[frozenset((inc.group_a, inc.group_b))] = inc
    where, rows = read_table(vehicle_kinds_path, "park_vehicle_kinds.csv")
    kinds = {}
    for r in rows:
        packs = frozenset(p.strip() for p in r.get("packagings", "").split(";") if p.strip())
        bad = sorted(packs - set(PACKAGINGS))
        if bad:
            raise InputError(
                f"{where}: vehicle kind {r['kind']!r} lists unknown packagings "
                f"{bad}; known: {', '.join(PACKAGINGS)}"
            )
        kinds[r["kind"]] = VehicleKind(
            r["kind"], r.get("name_en", ""), r.get("name_zh", ""), packs, r.get("source", "")
        )
    return CodeBook(
        MappingProxyType(codes), MappingProxyType(incompatible), MappingProxyType(kinds)
    )


@cache
def default_codebook() -> CodeBook:
    """The packaged code tables, read once."""
    return read_codebook()


# --------------------------------------------------------------------------- park entities


@dataclass(frozen=True)
class Enterprise:
    """A firm of the park: where its streams are picked up.

    Attributes
    ----------
    id, name : str
    lon, lat : float
        The gate, WGS-84.
    gate_windows : tuple of (open_s, close_s)
        When vehicles may load at the gate, seconds from midnight; empty: any time.
    """

    id: str
    name: str
    lon: float
    lat: float
    gate_windows: tuple[TimeWindow, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "id", _id(self.id, "enterprise"))
        what = f"enterprise {self.id!r}"
        lon, lat = _lonlat(what, self.lon, self.lat)
        object.__setattr__(self, "lon", lon)
        object.__setattr__(self, "lat", lat)
        object.__setattr__(self, "gate_windows", _check_windows(self.gate_windows, what))


@dataclass(frozen=True)
class Stream:
    """A waste or by-product an enterprise generates.

    Attributes
    ----------
    id : str
    enterprise_id : str
    code : str
        General industrial solid waste class (``SW02``, ``SW17-01``) or hazardous waste
        code (``900-249-08`` or the category ``HW08``).
    tonnes_per_month : float
    form : {"solid", "powder", "sludge", "liquid"}
    packaging : {"bulk", "drums", "IBC", "tank", "bags"}
    storage_limit_t : float
        Most the enterprise's store holds, tonnes.
    storage_days : float or None
        Longest time the stream may stay on site; None: the legal maximum for hazardous
        waste (:data:`HAZARDOUS_MAX_STORAGE_DAYS`), no limit for general waste.
    hazard_class : str
        Hazard characteristics (T, C, I, R, In); empty: the code's.
    compat_group : str
        Compatibility group; empty: the code's.
    name : str
    """

    id: str
    enterprise_id: str
    code: str
    tonnes_per_month: float
    form: str = "solid"
    packaging: str = "bulk"
    storage_limit_t: float = math.inf
    storage_days: float | None = None
    hazard_class: str = ""
    compat_group: str = ""
    name: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "id", _id(self.id, "stream"))
        what = f"stream {self.id!r}"
        object.__setattr__(self, "enterprise_id", _id(self.enterprise_id, f"{what} enterprise"))
        object.__setattr__(self, "code", _id(self.code, f"{what} code"))
        object.__setattr__(
            self,
            "tonnes_per_month",
            _num(what, "tonnes_per_month", self.tonnes_per_month, positive=True),
        )
        if self.form not in FORMS:
            raise InputError(f"{what}: form {self.form!r} must be one of {', '.join(FORMS)}")
        if self.packaging not in PACKAGINGS:
            raise InputError(
                f"{what}: packaging {self.packaging!r} must be one of {', '.join(PACKAGINGS)}"
            )
        object.__setattr__(
            self,
            "storage_limit_t",
            _num(what, "storage_limit_t", self.storage_limit_t, positive=True, allow_inf=True),
        )
        if self.storage_days is not None:
            object.__setattr__(
                self, "storage_days", _num(what, "storage_days", self.storage_days, positive=True)
            )

    @property
    def tonnes_per_year(self) -> float:
        """Generation, tonnes/year."""
        return 12.0 * self.tonnes_per_month

    @property
    def tonnes_per_day(self) -> float:
        """Generation, tonnes/calendar day."""
        return self.tonnes_per_month / DAYS_PER_MONTH


@dataclass(frozen=True)
class Receiver:
    """A treatment, disposal or utilisation facility, or an enterprise using a by-product.

    Attributes
    ----------
    id, name : str
    kind : {"incinerator", "landfill", "cement_kiln", "recycler", "enterprise", "treatment",
            "transfer"}
    lon, lat : float
        WGS-84; for ``kind="enterprise"`` the enterprise's gate when ``enterprise_id`` is set.
    accepted_codes : frozenset of str
        Codes or categories (``HW08`` accepts every ``nnn-nnn-08``, ``SW17`` every ``SW17-nn``).
    capacity_t_per_year : float
        inf: unlimited.
    gate_fee_per_t : float
        What the generator pays per tonne delivered.
    price_paid_per_t : float
        What the receiver pays per tonne (a by-product's value).
    licence : str
        Hazardous waste operating licence number (危险废物经营许可证); empty: none, so no
        hazardous stream may go there.
    enterprise_id : str
        The park enterprise that uses the material (by-product exchange).
    gate_windows : tuple of (open_s, close_s)
        Unloading hours.
    unload_s : float
        Time to unload a vehicle, seconds.
    """

    id: str
    name: str
    kind: str
    lon: float
    lat: float
    accepted_codes: frozenset[str]
    capacity_t_per_year: float = math.inf
    gate_fee_per_t: float = 0.0
    price_paid_per_t: float = 0.0
    licence: str = ""
    enterprise_id: str = ""
    gate_windows: tuple[TimeWindow, ...] = ()
    unload_s: float = 1200.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "id", _id(self.id, "receiver"))
        what = f"receiver {self.id!r}"
        if self.kind not in RECEIVER_KINDS:
            raise InputError(
                f"{what}: kind {self.kind!r} must be one of {', '.join(RECEIVER_KINDS)}"
            )
        lon, lat = _lonlat(what, self.lon, self.lat)
        object.__setattr__(self, "lon", lon)
        object.__setattr__(self, "lat", lat)
        codes = frozenset(str(c).strip() for c in self.accepted_codes if str(c).strip())
        if not codes:
            raise InputError(f"{what}: accepted_codes is empty; list the codes it takes")
        object.__setattr__(self, "accepted_codes", codes)
        object.__setattr__(
            self,
            "capacity_t_per_year",
            _num(what, "capacity_t_per_year", self.capacity_t_per_year, allow_inf=True),
        )
        for name in ("gate_fee_per_t", "price_paid_per_t", "unload_s"):
            object.__setattr__(self, name, _num(what, name, getattr(self, name)))
        if self.gate_fee_per_t > 0 and self.price_paid_per_t > 0:
            raise InputError(f"{what}: give a gate fee or a price paid, not both")
        if len(self.gate_windows) > 1:
            raise InputError(f"{what}: one unloading window (open-close) per receiver")
        object.__setattr__(self, "gate_windows", _check_windows(self.gate_windows, what))
        object.__setattr__(self, "licence", str(self.licence or "").strip())
        object.__setattr__(self, "enterprise_id", str(self.enterprise_id or "").strip())

    @property
    def net_fee_per_t(self) -> float:
        """Gate fee minus price paid per tonne (negative: the receiver pays)."""
        return self.gate_fee_per_t - self.price_paid_per_t

    def accepts(self, code: WasteCode) -> bool:
        """Whether the code (or its category) is among the accepted codes."""
        return code.code in self.accepted_codes or code.category in self.accepted_codes


@dataclass(frozen=True)
class Depot:
    """Where park vehicles are kept overnight."""

    id: str
    lon: float
    lat: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "id", _id(self.id, "depot"))
        lon, lat = _lonlat(f"depot {self.id!r}", self.lon, self.lat)
        object.__setattr__(self, "lon", lon)
        object.__setattr__(self, "lat", lat)


@dataclass(frozen=True)
class Vehicle:
    """One collection vehicle.

    Attributes
    ----------
    id : str
    kind : str
        A vehicle kind of the code book (tanker, box, tipper, flatbed).
    hazmat_licensed : bool
        Licensed for dangerous goods (危险货物道路运输许可); only these carry hazardous waste.
    compartments : int
        Separate compartments; a stream never shares a compartment with another stream.
    compartment_capacity_t : float
        Tonnes per compartment.
    depot_id : str
    shift : (start_s, end_s)
    cost_per_km, fixed_cost_per_day : float
    profile : str
        Road profile of the network (and key of its emission factor).
    """

    id: str
    kind: str
    hazmat_licensed: bool
    compartments: int
    compartment_capacity_t: float
    depot_id: str
    shift: TimeWindow = (8 * 3600.0, 17 * 3600.0)
    cost_per_km: float = 6.0
    fixed_cost_per_day: float = 600.0
    profile: str = "truck_18t"

    def __post_init__(self) -> None:
        object.__setattr__(self, "id", _id(self.id, "vehicle"))
        what = f"vehicle {self.id!r}"
        if (
            isinstance(self.compartments, bool)
            or not isinstance(self.compartments, int)
            or self.compartments < 1
        ):
            raise InputError(
                f"{what}: compartments must be an integer >= 1, got {self.compartments!r}"
            )
        object.__setattr__(
            self,
            "compartment_capacity_t",
            _num(what, "compartment_capacity_t", self.compartment_capacity_t, positive=True),
        )
        (shift,) = _check_windows([self.shift], f"{what} shift")
        object.__setattr__(self, "shift", shift)
        for name in ("cost_per_km", "fixed_cost_per_day"):
            object.__setattr__(self, name, _num(what, name, getattr(self, name)))

    @property
    def capacity_t(self) -> float:
        """Payload over all compartments, tonnes."""
        return self.compartments * self.compartment_capacity_t


@dataclass(frozen=True)
class CandidateSite:
    """Where a shared facility (transfer station, treatment plant) could be built."""

    id: str
    lon: float
    lat: float
    fixed_cost_per_year: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "id", _id(self.id, "candidate site"))
        what = f"candidate site {self.id!r}"
        lon, lat = _lonlat(what, self.lon, self.lat)
        object.__setattr__(self, "lon", lon)
        object.__setattr__(self, "lat", lat)
        object.__setattr__(
            self, "fixed_cost_per_year", _num(what, "fixed_cost_per_year", self.fixed_cost_per_year)
        )


@dataclass(frozen=True)
class SharedFacility:
    """The shared facility to site: its capacity, what it accepts and its fees.

    Attributes
    ----------
    kind : {"transfer", "treatment"}
    capacity_t_per_year : float
    accepted_codes : frozenset of str
        Empty: every stream of the park.
    gate_fee_per_t : float
        Fee at the shared facility (treatment, or handling at a transfer station).
    onward_cost_per_t : float
        Transfer station only: bulk haul from the station to final treatment, per tonne.
    """

    kind: str = "transfer"
    capacity_t_per_year: float = math.inf
    accepted_codes: frozenset[str] = frozenset()
    gate_fee_per_t: float = 0.0
    onward_cost_per_t: float = 0.0

    def __post_init__(self) -> None:
        if self.kind not in ("transfer", "treatment"):
            raise InputError(
                f"shared facility: kind must be transfer or treatment, got {self.kind!r}"
            )
        for name in ("capacity_t_per_year", "gate_fee_per_t", "onward_cost_per_t"):
            object.__setattr__(
                self,
                name,
                _num(
                    "shared facility",
                    name,
                    getattr(self, name),
                    allow_inf=name == "capacity_t_per_year",
                ),
            )
        object.__setattr__(self, "accepted_codes", frozenset(self.accepted_codes))


@dataclass(frozen=True)
class Settings:
    """Park-wide settings.

    Attributes
    ----------
    transport_cost_per_t_km_general, transport_cost_per_t_km_hazardous : float
        Road transport cost used by the allocation (money per tonne-km). Defaults are
        estimates for short-haul trucking in China (general bulk about 1 CNY/t·km over
        short distances, dangerous goods about 3x that); set the park's own rates.
    collection_days : tuple of int
        Weekdays vehicles collect (0 = Monday .. 6 = Sunday).
    single_source : bool
        Each stream goes to one receiver.
    currency : str
    transporter : str
        The transport operator named on the manifests.
    """

    transport_cost_per_t_km_general: float = 1.0
    transport_cost_per_t_km_hazardous: float = 3.0
    collection_days: tuple[int, ...] = (0, 1, 2, 3, 4)
    single_source: bool = False
    currency: str = "CNY"
    transporter: str = "Park collection service 园区收运单位"

    def __post_init__(self) -> None:
        for name in ("transport_cost_per_t_km_general", "transport_cost_per_t_km_hazardous"):
            object.__setattr__(self, name, _num("settings", name, getattr(self, name)))
        days = tuple(sorted({int(d) for d in self.collection_days}))
        if not days or any(d < 0 or d > 6 for d in days):
            raise InputError(
                f"settings: collection_days must be weekdays 0 (Mon) .. 6 (Sun), "
                f"got {self.collection_days!r}"
            )
        object.__setattr__(self, "collection_days", days)


@dataclass(frozen=True)
class Park:
    """An industrial park, validated as a whole (ids unique and cross-referenced, codes known).

    Attributes
    ----------
    name : str
    enterprises, streams, receivers, vehicles, depots, sites : tuples
    settings : Settings
    shared : SharedFacility or None
        The shared facility to site among ``sites``.
    codebook : CodeBook
    """

    name: str
    enterprises: tuple[Enterprise, ...]
    streams: tuple[Stream, ...]
    receivers: tuple[Receiver, ...]
    vehicles: tuple[Vehicle, ...] = ()
    depots: tuple[Depot, ...] = ()
    sites: tuple[CandidateSite, ...] = ()
    settings: Settings = field(default_factory=Settings)
    shared: SharedFacility | None = None
    codebook: CodeBook = field(default_factory=default_codebook, compare=False)

    def __post_init__(self) -> None:
        for name in ("enterprises", "streams", "receivers", "vehicles", "depots", "sites"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        if not self.enterprises:
            raise InputError("the park has no enterprises")
        if not self.streams:
            raise InputError("the park has no streams")
        if not self.receivers:
            raise InputError("the park has no receivers")
        _unique("enterprise", [e.id for e in self.enterprises])
        _unique("stream", [s.id for s in self.streams])
        _unique("vehicle", [v.id for v in self.vehicles])
        _unique(
            "location (enterprise, receiver, depot, candidate site)",
            [e.id for e in self.enterprises]
            + [r.id for r in self.receivers]
            + [d.id for d in self.depots]
            + [c.id for c in self.sites],
        )
        ent = {e.id for e in self.enterprises}
        bad = [f"{s.id} -> {s.enterprise_id}" for s in self.streams if s.enterprise_id not in ent]
        if bad:
            raise InputError(
                f"streams name unknown enterprises: {ids_text(bad)}; enterprises "
                f"are {ids_text(sorted(ent))}"
            )
        unknown = []
        for s in self.streams:
            try:
                self.codebook.lookup(s.code, context=f"stream {s.id!r}")
            except InputError as exc:
                unknown.append(str(exc))
        if unknown:
            raise InputError(
                "; ".join(unknown[:5])
                + (f" (and {len(unknown) - 5} more)" if len(unknown) > 5 else "")
            )
        for r in self.receivers:
            if r.enterprise_id and r.enterprise_id not in ent:
                raise InputError(
                    f"receiver {r.id!r}: enterprise_id {r.enterprise_id!r} is not "
                    "an enterprise of the park"
                )
        depots = {d.id for d in self.depots}
        for v in self.vehicles:
            if v.depot_id not in depots:
                raise InputError(
                    f"vehicle {v.id!r}: depot {v.depot_id!r} is not a depot "
                    f"(depots: {ids_text(sorted(depots))})"
                )
            if v.kind not in self.codebook.vehicle_kinds:
                raise InputError(
                    f"vehicle {v.id!r}: kind {v.kind!r} is unknown; known kinds: "
                    f"{', '.join(sorted(self.codebook.vehicle_kinds))}"
                )

    # -- derived per stream ---------------------------------------------------------------

    def code_of(self, stream: Stream) -> WasteCode:
        """The code-book row of a stream's code."""
        return self.codebook.lookup(stream.code, context=f"stream {stream.id!r}")

    def is_hazardous(self, stream: Stream) -> bool:
        """Whether a stream is hazardous waste (by its code)."""
        return self.code_of(stream).kind == "hazardous"

    def group_of(self, stream: Stream) -> str:
        """Compatibility group: the stream's own, else its code's."""
        return stream.compat_group or self.code_of(stream).compat_group

    def hazard_class_of(self, stream: Stream) -> str:
        """Hazard characteristics: the stream's own, else its code's."""
        return stream.hazard_class or self.code_of(stream).hazard_class

    def storage_days_of(self, stream: Stream) -> float:
        """Longest stay on site, days (inf: none for general waste without a limit)."""
        if stream.storage_days is not None:
            if self.is_hazardous(stream):
                return min(stream.storage_days, HAZARDOUS_MAX_STORAGE_DAYS)
            return stream.storage_days
        return HAZARDOUS_MAX_STORAGE_DAYS if self.is_hazardous(stream) else math.inf

    def vehicles_for(self, stream: Stream) -> tuple[Vehicle, ...]:
        """Vehicles that may carry the stream (packaging fits the body; licence if hazardous)."""
        haz = self.is_hazardous(stream)
        return tuple(
            v
            for v in self.vehicles
            if stream.packaging in self.codebook.vehicle_kinds[v.kind].packagings
            and (v.hazmat_licensed or not haz)
        )

    @property
    def enterprises_by_id(self) -> Mapping[str, Enterprise]:
        """Enterprise id -> enterprise."""
        return {e.id: e for e in self.enterprises}

    @property
    def receivers_by_id(self) -> Mapping[str, Receiver]:
        """Receiver id -> receiver."""
        return {r.id: r for r in self.receivers}

    @property
    def streams_by_id(self) -> Mapping[str, Stream]:
        """Stream id -> stream."""
        return {s.id: s for s in self.streams}


def _unique(label: str, ids: Iterable[str]) -> None:
    seen: set[str] = set()
    dup = sorted({i for i in ids if i in seen or seen.add(i)})  # type: ignore[func-returns-value]
    if dup:
        raise InputError(f"duplicate {label} ids: {ids_text(dup)}; ids must be unique")
