"""Daily collection routes of the planned week, trip checks and transfer manifests.

For each collection day, the scheduled pickups become *loads*: a pickup of a stream,
split over the receivers the allocation chose (by their shares), and into pieces a
vehicle can carry. Loads are routed with the existing engine
(:func:`recyclenet.routing.solve_routing`) in sub-problems, one per receiver and
*compatible class*:

- Incompatibility is not a constraint the routing engine has, so trips are split by
  construction: the day's streams for a receiver are coloured greedily into classes with
  no incompatible pair (``CodeBook.conflict``: the sourced table, hazardous never with
  general waste), and each class is its own sub-problem. Every trip of a sub-problem
  therefore carries one class only. This can cost more than a joint model would (two
  half-empty trips instead of one), never less safe.
- Unloading at the allocated receiver: each sub-problem has that receiver as its one
  facility and as the vehicles' end, so every trip (between unloads) ends there.
- Licences and bodies are skills: a hazardous load needs ``hazmat``, each load needs
  ``pack:<packaging>``; a vehicle has ``hazmat`` only when licensed for dangerous goods
  and ``pack:*`` for the packagings its kind carries.
- Compartments: a stream never shares a compartment. The engine's second load
  dimension (``volume_m3``) carries *compartment counts* in these sub-problems: a load
  takes ``ceil(t / c)`` compartments, ``c`` the smallest compartment of the vehicles
  that may carry it, and a vehicle offers ``compartments`` (conservative for vehicles
  with larger compartments). :func:`check_collection` re-checks with each vehicle's own
  compartment size.
- Gate windows: enterprises' gate windows are the orders' windows, receivers' the
  facility's hours.
- A vehicle's day runs through the sub-problems in turn: after one it drives back to its
  depot (counted in vehicle-km) and is available from then on in the next.

Every routing plan is checked (:func:`recyclenet.routing.check.check_plan`) and the park
rules again by :func:`check_collection`. Each delivered load gets a transfer manifest in
the shape of the national hazardous waste transfer manifest (危险废物转移联单, 危险废物转移
管理办法 2021, MEE order No. 23): generator, transporter and vehicle, receiver and its
licence, waste name, code, hazard class, form, packaging, tonnes, dates.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import InputError
from ..matrix import Matrix
from ..routing.check import check_plan
from ..routing.evaluate import build_plan
from ..routing.plan import RawRoute, RoutePlan
from ..routing.problem import Depot as RoutingDepot
from ..routing.problem import Facility, Order, RoutingProblem, VehicleType
from ..routing.solve import solve_routing
from .allocation import Allocation, location_of
from .model import Park, Stream, Vehicle
from .schedule import WEEKDAYS_EN, Schedule

#: Loading time at an enterprise gate: a fixed part and a part per tonne, seconds
#: (estimate: 15 min for paperwork, weighing and sealing, plus 5 min per tonne).
LOAD_BASE_S = 900.0
LOAD_PER_T_S = 300.0
HAZMAT_SKILL = "hazmat"
_EPS_T = 1e-6


def pack_skill(packaging: str) -> str:
    """The routing skill that stands for carrying a packaging."""
    return f"pack:{packaging}"


@dataclass(frozen=True)
class Load:
    """One piece of one pickup, bound for one receiver.

    Attributes
    ----------
    id : str
        The routing order id.
    stream_id, receiver_id : str
    weekday : int
    tonnes : float
    compartments : int
        Compartments given to the routing engine (see the module docstring).
    """

    id: str
    stream_id: str
    receiver_id: str
    weekday: int
    tonnes: float
    compartments: int


@dataclass(frozen=True)
class Trip:
    """One vehicle trip: loads picked up, then unloaded at one receiver.

    Attributes
    ----------
    weekday : int
    vehicle_id : str
    trip_no : int
        1.. within the vehicle's day.
    receiver_id : str
    load_ids : tuple of str
    pickup_s : tuple of float
        Start of loading at each load's gate, seconds from midnight.
    unload_s : float
        Start of unloading at the receiver.
    tonnes : float
    """

    weekday: int
    vehicle_id: str
    trip_no: int
    receiver_id: str
    load_ids: tuple[str, ...]
    pickup_s: tuple[float, ...]
    unload_s: float
    tonnes: float


@dataclass(frozen=True)
class SubRun:
    """One routing sub-problem (a day, a receiver, a compatible class) and its plan."""

    weekday: int
    receiver_id: str
    groups: tuple[str, ...]
    problem: RoutingProblem
    plan: RoutePlan
    return_m: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Collection:
    """The planned week's routes.

    Attributes
    ----------
    loads : tuple of Load
    trips : tuple of Trip
    runs : tuple of SubRun
    unserved : tuple of (load id, reason)
    vehicle_km, tonne_km : float
        Over routes and the returns to the depots.
    co2e_kg : float
    cost : float
        Vehicles' fixed cost per day used and cost per km.
    """

    loads: tuple[Load, ...]
    trips: tuple[Trip, ...]
    runs: tuple[SubRun, ...]
    unserved: tuple[tuple[str, str], ...]
    vehicle_km: float
    tonne_km: float
    co2e_kg: float
    cost: float

    @property
    def loads_by_id(self) -> dict[str, Load]:
        """Load id -> load."""
        return {x.id: x for x in self.loads}


def _classes(park: Park, streams: Sequence[Stream]) -> list[list[Stream]]:
    """Greedy colouring of streams into classes without an incompatible pair."""
    classes: list[list[Stream]] = []
    for s in sorted(streams, key=lambda x: (park.group_of(x), x.id)):
        g = park.group_of(s)
        for c in classes:
            if all(park.codebook.conflict(g, park.group_of(o)) is None for o in c):
                c.append(s)
                break
        else:
            classes.append([s])
    return classes


def _skills(park: Park, v: Vehicle) -> frozenset[str]:
    packs = park.codebook.vehicle_kinds[v.kind].packagings
    return frozenset(
        {pack_skill(p) for p in packs} | ({HAZMAT_SKILL} if v.hazmat_licensed else set())
    )


def _expand(base: Matrix, ids: Sequence[str], where: Mapping[str, str]) -> Matrix:
    pos = {k: i for i, k in enumerate(base.origin_ids)}
    idx = np.array([pos[where[i]] for i in ids], dtype=np.intp)
    sel = np.ix_(idx, idx)
    return Matrix(
        tuple(ids), tuple(ids), base.duration_s[sel], base.distance_m[sel], profile=base.profile
    )


def _earliest(problem: RoutingProblem, plan: RoutePlan) -> RoutePlan:
    """The same routes leaving at the start of the shift, without empty unload stops.

    The engines have no reason to leave early (no cost per waiting hour), but a park
    vehicle's day continues in the next sub-problem, so its routes are moved as early as
    the windows allow (waiting where they require it; same stops, so still feasible).
    """
    if not plan.routes:
        return plan
    types = dict(problem.vehicles())
    raws = []
    for r in plan.routes:
        stops: list[str] = []
        loaded = False
        for v in r.visits[1:-1]:
            if v.kind == "order":
                stops.append(v.location_id)
                loaded = True
            elif v.kind == "unload" and loaded:
                stops.append(v.location_id)
                loaded = False
        if stops and stops[-1] == types[r.vehicle_id].end_id and not loaded:
            stops.pop()  # the route ends there anyway
        raws.append(RawRoute(r.vehicle_id, tuple(stops), types[r.vehicle_id].shift[0]))
    return build_plan(
        problem,
        raws,
        engine=plan.engine,
        status=plan.status,
        unserved=plan.unserved,
        time_s=plan.time_s,
        statistics=plan.statistics,
    )


def make_loads(park: Park, allocation: Allocation, schedule: Schedule) -> list[Load]:
    """The week's loads: pickups split by allocation share and into carryable pieces."""
    loads: list[Load] = []
    streams = park.streams_by_id
    for p in schedule.pickups:
        s = streams[p.stream_id]
        flows = allocation.flows_of(s.id)
        vehicles = park.vehicles_for(s)
        c_min = min((v.compartment_capacity_t for v in vehicles), default=math.inf)
        most = max((v.compartments for v in vehicles), default=1)
        piece_max = c_min * most
        for f in flows:
            t = p.tonnes * f.tonnes_per_year / s.tonnes_per_year
            if t <= _EPS_T:
                continue
            n = max(1, math.ceil(t / piece_max - 1e-9)) if math.isfinite(piece_max) else 1
            for k in range(n):
                piece = t / n
                comp = math.ceil(piece / c_min - 1e-9) if math.isfinite(c_min) else 1
                lid = f"{s.id}>{f.receiver_id}@{WEEKDAYS_EN[p.weekday]}" + (
                    f"#{k + 1}" if n > 1 else ""
                )
                loads.append(Load(lid, s.id, f.receiver_id, p.weekday, piece, max(1, comp)))
    return loads


def plan_collection(
    park: Park,
    allocation: Allocation,
    schedule: Schedule,
    matrices: Mapping[str, Matrix],
    *,
    time_limit_s: float = 20.0,
    engine: str = "auto",
    seed: int = 0,
    emission_factors: Any = None,
) -> Collection:
    """Route the planned week (see the module docstring).

    Parameters
    ----------
    park, allocation, schedule
    matrices : mapping road profile -> Matrix
        Square matrices over every enterprise, receiver and depot id, one per road
        profile of the park's vehicles.
    time_limit_s : float
        For all routing sub-problems together (each gets an equal share, at least 0.3 s).
    engine, seed
        Passed to :func:`recyclenet.routing.solve_routing` ("auto": PyVRP, OR-Tools for
        what PyVRP cannot model).
    emission_factors
        As :func:`recyclenet.indicators.read_emission_factors` returns (default: the
        packaged table), matched by vehicle profile.
    """
    from ..indicators import read_emission_factors

    factors = read_emission_factors() if emission_factors is None else emission_factors
    if not park.vehicles:
        raise InputError("the park has no vehicles; list at least one to plan collection")
    if not park.depots:
        raise InputError("the park has no depots; vehicles need a depot to start from")
    profiles = {v.profile for v in park.vehicles}
    missing = sorted(profiles - set(matrices))
    if missing:
        raise InputError(f"no matrix for vehicle road profile(s) {missing}")
    loads = make_loads(park, allocation, schedule)
    streams = park.streams_by_id
    receivers = park.receivers_by_id
    enterprises = park.enterprises_by_id
    depots = {d.id: d for d in park.depots}
    # sub-problems: (weekday, receiver, class)
    subs: list[tuple[int, str, list[Stream]]] = []
    for day in park.settings.collection_days:
        by_rec: dict[str, set[str]] = {}
        for x in loads:
            if x.weekday == day:
                by_rec.setdefault(x.receiver_id, set()).add(x.stream_id)
        for rid in sorted(by_rec):
            for cls in _classes(park, [streams[i] for i in sorted(by_rec[rid])]):
                subs.append((day, rid, cls))
    share_s = max(0.3, time_limit_s / max(1, len(subs)))
    runs: list[SubRun] = []
    trips: list[Trip] = []
    unserved: list[tuple[str, str]] = []
    vehicle_m = 0.0
    tonne_km = 0.0
    co2e = 0.0
    cost = 0.0
    used_days: set[tuple[int, str]] = set()
    free_at: dict[tuple[int, str], float] = {}
    trip_count: dict[tuple[int, str], int] = {}
    for day, rid, cls in subs:
        r = receivers[rid]
        ids = {s.id for s in cls}
        day_loads = [
            x for x in loads if x.weekday == day and x.receiver_id == rid and x.stream_id in ids
        ]
        orders = []
        for x in day_loads:
            s = streams[x.stream_id]
            e = enterprises[s.enterprise_id]
            skills = {pack_skill(s.packaging)} | ({HAZMAT_SKILL} if park.is_hazardous(s) else set())
            orders.append(
                Order(
                    x.id,
                    e.lon,
                    e.lat,
                    load_kg=1000.0 * x.tonnes,
                    volume_m3=float(x.compartments),
                    time_windows=e.gate_windows,
                    service_s=LOAD_BASE_S + LOAD_PER_T_S * x.tonnes,
                    required_skills=frozenset(skills),
                )
            )
        fleet = []
        for v in park.vehicles:
            start = max(v.shift[0], free_at.get((day, v.id), v.shift[0]))
            if start >= v.shift[1]:
                continue
            fleet.append(
                VehicleType(
                    v.id,
                    count=1,
                    capacity_kg=1000.0 * v.capacity_t,
                    capacity_m3=float(v.compartments),
                    start_id=v.depot_id,
                    end_id=rid,
                    shift=(start, v.shift[1]),
                    fixed_cost=0.0 if (day, v.id) in used_days else v.fixed_cost_per_day,
                    cost_per_km=v.cost_per_km,
                    skills=_skills(park, v),
                    profile=v.profile,
                )
            )
        if not fleet:
            for x in day_loads:
                unserved.append((x.id, "every vehicle's shift is used up that day"))
            continue
        dep_used = sorted({vt.start_id for vt in fleet})
        rdepots = [RoutingDepot(d, depots[d].lon, depots[d].lat) for d in dep_used]
        fac = Facility(
            rid,
            r.lon,
            r.lat,
            unload_s=r.unload_s,
            time_window=r.gate_windows[0] if r.gate_windows else None,
        )
        where = {d: d for d in dep_used} | {rid: location_of(park, r)}
        where |= {x.id: streams[x.stream_id].enterprise_id for x in day_loads}
        ids_all = [*dep_used, rid, *[x.id for x in day_loads]]
        mats = {p: _expand(matrices[p], ids_all, where) for p in {vt.profile for vt in fleet}}
        problem = RoutingProblem(
            orders=tuple(orders),
            vehicle_types=tuple(fleet),
            depots=tuple(rdepots),
            matrices=mats,
            facilities=(fac,),
        )
        plan = _earliest(
            problem,
            solve_routing(problem, engine=engine, time_limit_s=share_s, seed=seed),  # type: ignore[arg-type]
        )
        errors = check_plan(plan, problem)
        if errors:
            first = [str(e) for e in errors[:3]]
            raise RuntimeError(f"routing plan for {WEEKDAYS_EN[day]} / {rid} breaks: {first}")
        returns: dict[str, float] = {}
        for u in plan.unserved:
            unserved.append((u.order_id, f"{u.reason}: {u.message}"))
        for route in plan.routes:
            vid = route.vehicle_type_id
            v = next(x for x in park.vehicles if x.id == vid)
            base = matrices[v.profile]
            i = base.origin_ids.index(location_of(park, r))
            j = base.origin_ids.index(v.depot_id)
            back_m, back_s = float(base.distance_m[i, j]), float(base.duration_s[i, j])
            returns[vid] = back_m
            free_at[(day, vid)] = route.visits[-1].departure_s + back_s
            used_days.add((day, vid))
            vehicle_m += route.distance_m + back_m
            cost += route.cost + v.cost_per_km * back_m / 1000.0
            ef = factors.get(vid) or factors.get(v.profile)
            prev_load_t = 0.0
            for vis in route.visits[1:]:
                km = vis.distance_from_previous_m / 1000.0
                tonne_km += prev_load_t * km
                if ef is not None:
                    co2e += ef.kg_co2e(km, prev_load_t)
                prev_load_t = vis.load_kg / 1000.0
            if ef is not None:
                co2e += ef.kg_co2e(back_m / 1000.0, 0.0)
            cur: list[tuple[str, float]] = []
            for vis in route.visits:
                if vis.kind == "order" and vis.order_id is not None:
                    cur.append((vis.order_id, vis.start_s))
                elif vis.kind in ("unload", "end") and cur:
                    n = trip_count.get((day, vid), 0) + 1
                    trip_count[(day, vid)] = n
                    lt = {x.id: x.tonnes for x in day_loads}
                    trips.append(
                        Trip(
                            day,
                            vid,
                            n,
                            rid,
                            tuple(c[0] for c in cur),
                            tuple(c[1] for c in cur),
                            vis.start_s,
                            sum(lt[c[0]] for c in cur),
                        )
                    )
                    cur = []
        runs.append(
            SubRun(day, rid, tuple(sorted({park.group_of(s) for s in cls})), problem, plan, returns)
        )
    return Collection(
        tuple(loads),
        tuple(trips),
        tuple(runs),
        tuple(unserved),
        vehicle_m / 1000.0,
        tonne_km,
        co2e,
        cost,
    )


def check_collection(
    park: Park, allocation: Allocation, schedule: Schedule, collection: Collection
) -> list[str]:
    """Every park rule the routes break; empty when none.

    Independent of how the routes were made: each trip's loads are pairwise compatible
    (hazardous never with general), unloaded at their allocated receiver, carried by a
    vehicle whose body takes their packaging and, for hazardous loads, that is licensed;
    each trip fits the vehicle's compartments (one stream per compartment, with the
    vehicle's own compartment size) and payload; every load is delivered once or
    reported unserved; every routing plan passes :func:`check_plan`; the loads carry
    exactly the scheduled pickups split by the allocation.
    """
    errors: list[str] = []
    loads = collection.loads_by_id
    streams = park.streams_by_id
    vehicles = {v.id: v for v in park.vehicles}
    kinds = park.codebook.vehicle_kinds
    seen: dict[str, str] = {}
    for t in collection.trips:
        where = f"{WEEKDAYS_EN[t.weekday]} {t.vehicle_id} trip {t.trip_no}"
        v = vehicles.get(t.vehicle_id)
        if v is None:
            errors.append(f"{where}: unknown vehicle")
            continue
        ls = [loads[i] for i in t.load_ids]
        ss = [streams[x.stream_id] for x in ls]
        for x in ls:
            if x.id in seen:
                errors.append(f"{where}: load {x.id} already delivered by {seen[x.id]}")
            seen[x.id] = where
            if x.receiver_id != t.receiver_id:
                errors.append(
                    f"{where}: load {x.id} for {x.receiver_id} unloaded at {t.receiver_id}"
                )
        for a in range(len(ss)):
            for b in range(a + 1, len(ss)):
                c = park.codebook.conflict(park.group_of(ss[a]), park.group_of(ss[b]))
                if c is not None:
                    errors.append(
                        f"{where}: incompatible {ss[a].id} ({park.group_of(ss[a])}) "
                        f"and {ss[b].id} ({park.group_of(ss[b])}): {c.hazard_en}"
                    )
        for s in ss:
            if park.is_hazardous(s) and not v.hazmat_licensed:
                errors.append(f"{where}: hazardous stream {s.id} on unlicensed vehicle {v.id}")
            if s.packaging not in kinds[v.kind].packagings:
                errors.append(f"{where}: {s.packaging} of {s.id} on a {v.kind}")
        comp = sum(math.ceil(x.tonnes / v.compartment_capacity_t - 1e-9) for x in ls)
        if comp > v.compartments:
            errors.append(f"{where}: {comp} compartments needed, vehicle has {v.compartments}")
        tonnes = sum(x.tonnes for x in ls)
        if tonnes > v.capacity_t * (1 + 1e-9):
            errors.append(f"{where}: {tonnes:.4g} t > payload {v.capacity_t:g} t")
    unserved = {i for i, _ in collection.unserved}
    for x in collection.loads:
        if x.id not in seen and x.id not in unserved:
            errors.append(f"load {x.id}: neither delivered nor reported unserved")
    for run in collection.runs:
        errors += [
            f"{WEEKDAYS_EN[run.weekday]} {run.receiver_id}: {e}"
            for e in check_plan(run.plan, run.problem)
        ]
    # the loads carry the schedule, split as allocated
    want: dict[tuple[str, str], float] = {}
    for p in schedule.pickups:
        s = streams[p.stream_id]
        for f in allocation.flows_of(s.id):
            key = (s.id, f.receiver_id)
            want[key] = want.get(key, 0.0) + p.tonnes * f.tonnes_per_year / s.tonnes_per_year
    got: dict[tuple[str, str], float] = {}
    for x in collection.loads:
        got[(x.stream_id, x.receiver_id)] = got.get((x.stream_id, x.receiver_id), 0.0) + x.tonnes
    for key in sorted(set(want) | set(got)):
        w, g = want.get(key, 0.0), got.get(key, 0.0)
        if abs(w - g) > 1e-6 * max(1.0, w):
            errors.append(f"stream {key[0]} -> {key[1]}: loads carry {g:.6g} t, schedule {w:.6g} t")
    return errors


# --------------------------------------------------------------------------- manifests

#: Manifest columns, in the order of the national transfer manifest's sections:
#: the manifest, the generator (移出单位), the waste, the transporter (承运单位), the receiver
#: (接受单位).
MANIFEST_FIELDS: tuple[str, ...] = (
    "manifest_no",
    "weekday",
    "waste_kind",
    "generator_id",
    "generator_name",
    "waste_code",
    "waste_category",
    "waste_name_zh",
    "waste_name_en",
    "hazard_class",
    "form",
    "packaging",
    "tonnes",
    "transporter",
    "vehicle_id",
    "vehicle_hazmat_licensed",
    "trip_no",
    "pickup_time",
    "receiver_id",
    "receiver_name",
    "receiver_kind",
    "receiver_licence",
    "unload_time",
)


def _clock(seconds: float) -> str:
    m = round(seconds / 60.0)
    return f"{m // 60:02d}:{m % 60:02d}"


def manifests(park: Park, collection: Collection) -> list[dict[str, Any]]:
    """One manifest per delivered load (危险废物转移联单 fields; general waste the same shape)."""
    loads = collection.loads_by_id
    streams = park.streams_by_id
    ents = park.enterprises_by_id
    recs = park.receivers_by_id
    vehicles = {v.id: v for v in park.vehicles}
    out = []
    for t in sorted(collection.trips, key=lambda t: (t.weekday, t.vehicle_id, t.trip_no)):
        for k, (lid, ps) in enumerate(zip(t.load_ids, t.pickup_s, strict=True), start=1):
            x = loads[lid]
            s = streams[x.stream_id]
            code = park.code_of(s)
            r = recs[x.receiver_id]
            v = vehicles[t.vehicle_id]
            out.append(
                {
                    "manifest_no": f"{WEEKDAYS_EN[t.weekday]}-{t.vehicle_id}-T{t.trip_no}-{k:02d}",
                    "weekday": WEEKDAYS_EN[t.weekday],
                    "waste_kind": code.kind,
                    "generator_id": s.enterprise_id,
                    "generator_name": ents[s.enterprise_id].name,
                    "waste_code": code.code,
                    "waste_category": code.category,
                    "waste_name_zh": s.name or code.name_zh,
                    "waste_name_en": code.name_en,
                    "hazard_class": park.hazard_class_of(s),
                    "form": s.form,
                    "packaging": s.packaging,
                    "tonnes": round(x.tonnes, 6),
                    "transporter": park.settings.transporter,
                    "vehicle_id": v.id,
                    "vehicle_hazmat_licensed": v.hazmat_licensed,
                    "trip_no": t.trip_no,
                    "pickup_time": _clock(ps),
                    "receiver_id": r.id,
                    "receiver_name": r.name,
                    "receiver_kind": r.kind,
                    "receiver_licence": r.licence,
                    "unload_time": _clock(t.unload_s),
                }
            )
    return out


def manifests_csv(rows: Sequence[Mapping[str, Any]]) -> str:
    """Manifests as CSV text (UTF-8, header row)."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(MANIFEST_FIELDS), lineterminator="\n")
    w.writeheader()
    for row in rows:
        w.writerow(dict(row))
    return buf.getvalue()
