"""The park plan end to end: network → matrices → allocation → schedule → routes →
shared facility → indicators, layers, manifests, map and report.

:func:`plan_park` is the one composition the CLI (``recyclenet park plan``), the service
(``POST /parks``) and the example script use; :func:`write_park_outputs` writes its files.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InputError, SolverError
from ..indicators import Indicator, indicators_to_dict
from ..matrix import Matrix, build_matrix
from ..network import DEFAULT_MAX_SNAP_DISTANCE_M, PathFinder, RoadNetwork, load_network
from ..points import Points
from ..routing.geojson import plan_to_geojson
from .allocation import (
    Allocation,
    Unplaced,
    allocate,
    check_allocation,
    check_placeable,
    location_of,
)
from .collection import (
    Collection,
    check_collection,
    manifests,
    manifests_csv,
    plan_collection,
)
from .indicators import park_indicators
from .model import Park
from .schedule import WEEKDAYS_EN, Schedule, check_schedule, schedule_pickups
from .shared import SharedPlan, site_shared_facility

Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    return None


@dataclass(frozen=True)
class ParkRun:
    """Everything a park plan produced (every part checked before it is returned)."""

    park: Park
    allocation: Allocation
    schedule: Schedule
    collection: Collection | None
    shared: SharedPlan | None
    indicators: tuple[Indicator, ...]
    matrices: Mapping[str, Matrix] = field(repr=False)
    networks: Mapping[str, RoadNetwork] = field(repr=False)
    time_s: float = 0.0

    def manifests(self) -> list[dict[str, Any]]:
        """One transfer manifest per delivered load."""
        return [] if self.collection is None else manifests(self.park, self.collection)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary: allocation, schedule, routes, shared facility, indicators."""
        col = self.collection
        return {
            "park": self.park.name,
            "time_s": round(self.time_s, 3),
            "allocation": self.allocation.to_dict(),
            "schedule": self.schedule.to_dict(),
            "collection": None
            if col is None
            else {
                "vehicle_km": col.vehicle_km,
                "tonne_km": col.tonne_km,
                "co2e_kg": col.co2e_kg,
                "cost": col.cost,
                "trips": [
                    {
                        "weekday": WEEKDAYS_EN[t.weekday],
                        "vehicle_id": t.vehicle_id,
                        "trip_no": t.trip_no,
                        "receiver_id": t.receiver_id,
                        "load_ids": list(t.load_ids),
                        "tonnes": t.tonnes,
                    }
                    for t in col.trips
                ],
                "unserved": [{"load_id": i, "reason": r} for i, r in col.unserved],
            },
            "shared": None if self.shared is None else self.shared.to_dict(),
            "indicators": indicators_to_dict(self.indicators),
        }

    def geojson_layers(self) -> dict[str, dict[str, Any]]:
        """``enterprises``, ``receivers``, ``flows``, ``routes`` and ``sites`` (WGS-84)."""
        park = self.park
        ents = park.enterprises_by_id
        recs = park.receivers_by_id
        load = self.allocation.load_by_receiver()
        by_ent: dict[str, list[str]] = {}
        for s in park.streams:
            by_ent.setdefault(s.enterprise_id, []).append(s.id)

        def point(lon: float, lat: float, props: dict[str, Any], fid: str) -> dict[str, Any]:
            return {
                "type": "Feature",
                "id": fid,
                "properties": props,
                "geometry": {"type": "Point", "coordinates": [lon, lat]},
            }

        enterprises = [
            point(
                e.lon,
                e.lat,
                {
                    "kind": "enterprise",
                    "enterprise_id": e.id,
                    "name": e.name,
                    "streams": by_ent.get(e.id, []),
                },
                e.id,
            )
            for e in park.enterprises
        ]
        receivers = [
            point(
                r.lon,
                r.lat,
                {
                    "kind": "receiver",
                    "receiver_id": r.id,
                    "name": r.name,
                    "receiver_kind": r.kind,
                    "licence": r.licence,
                    "capacity_t_per_year": r.capacity_t_per_year
                    if math.isfinite(r.capacity_t_per_year)
                    else None,
                    "tonnes_per_year": load.get(r.id, 0.0),
                },
                r.id,
            )
            for r in park.receivers
        ]
        flows = []
        for f in self.allocation.flows:
            e, r = ents[f.enterprise_id], recs[f.receiver_id]
            s = park.streams_by_id[f.stream_id]
            flows.append(
                {
                    "type": "Feature",
                    "id": f"{f.stream_id}>{f.receiver_id}",
                    "geometry": {
                        "type": "LineString",
                        "coordinates": [[e.lon, e.lat], [r.lon, r.lat]],
                    },
                    "properties": {
                        "kind": "flow",
                        "stream_id": f.stream_id,
                        "code": f.code,
                        "waste_kind": park.code_of(s).kind,
                        "enterprise_id": f.enterprise_id,
                        "receiver_id": f.receiver_id,
                        "tonnes_per_year": f.tonnes_per_year,
                        "exchange": f.exchange,
                        "distance_m": f.distance_m,
                    },
                }
            )
        routes: list[dict[str, Any]] = []
        if self.collection is not None and self.collection.runs:
            routes = self._route_features()
        sites = []
        if park.sites:
            open_ids = set(self.shared.open_ids) if self.shared is not None else set()
            sites = [
                point(
                    c.lon,
                    c.lat,
                    {
                        "kind": "site",
                        "site_id": c.id,
                        "open": c.id in open_ids,
                        "fixed_cost_per_year": c.fixed_cost_per_year,
                    },
                    c.id,
                )
                for c in park.sites
            ]
        fc = _fc
        return {
            "enterprises": fc(enterprises),
            "receivers": fc(receivers),
            "flows": fc(flows),
            "routes": fc(routes),
            "sites": fc(sites),
        }

    def _route_features(self) -> list[dict[str, Any]]:
        assert self.collection is not None
        park = self.park
        locs = _locations(park)
        finders: dict[str, PathFinder] = {}
        out: list[dict[str, Any]] = []
        for run in self.collection.runs:
            where = {d.id: d.id for d in run.problem.depots}
            where |= {
                f.id: location_of(park, park.receivers_by_id[f.id]) for f in run.problem.facilities
            }
            loads = self.collection.loads_by_id
            where |= {
                o.id: park.streams_by_id[loads[o.id].stream_id].enterprise_id
                for o in run.problem.orders
            }

            def leg(
                profile: str,
                a: str,
                b: str,
                pa: tuple[float, float],
                pb: tuple[float, float],
                where: dict[str, str] = where,
            ) -> list[Any]:
                ia, ib = where[a], where[b]
                if ia == ib:
                    return [pa, pb]
                if profile not in finders:
                    finders[profile] = PathFinder(
                        self.networks[profile], locs, max_snap_distance_m=math.inf
                    )
                coords = list(finders[profile].route(ia, ib).geometry.coords)
                return [pa, *[(float(x), float(y)) for x, y in coords], pb]

            doc = plan_to_geojson(run.plan, run.problem, leg_geometry=leg)
            for f in doc["features"]:
                if (f.get("properties") or {}).get("kind") == "route":
                    f["properties"] |= {
                        "weekday": WEEKDAYS_EN[run.weekday],
                        "receiver_id": run.receiver_id,
                        "groups": list(run.groups),
                    }
                    out.append(f)
        return out


def _fc(features: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": features}


def _locations(park: Park) -> Points:
    """Every place of the park with its own position (exchange receivers are enterprises)."""
    located = [
        *park.enterprises,
        *[r for r in park.receivers if not r.enterprise_id],
        *park.depots,
        *park.sites,
    ]
    return Points.from_located(located)


def plan_park(
    park: Park,
    network: str | Path | RoadNetwork,
    *,
    time_limit_s: float = 30.0,
    single_source: bool | None = None,
    unplaced: Unplaced = "raise",
    engine: str = "auto",
    seed: int = 0,
    max_snap_distance_m: float = DEFAULT_MAX_SNAP_DISTANCE_M,
    cache_dir: str | Path | None = None,
    progress: Progress = _quiet,
) -> ParkRun:
    """Plan a park on a road network.

    Parameters
    ----------
    park : Park
    network : path, sample name or RoadNetwork
        Loaded with the road profile of the park's vehicles (``truck_18t`` without any).
    time_limit_s : float
        Shared out: a quarter for the allocation, a tenth for the shared facility, the
        rest for the routes.
    single_source, unplaced
        See :func:`~recyclenet.parks.allocation.allocate`.
    engine, seed
        Routing engine and seed.

    Raises
    ------
    InputError
        Bad input (named), or a schedule or routes that break a rule (never expected:
        every plan is checked before it is returned).
    """
    t0 = time.perf_counter()
    if not (time_limit_s > 0 and math.isfinite(time_limit_s)):
        raise InputError(f"time_limit_s must be positive, got {time_limit_s!r}")
    if unplaced == "raise":
        check_placeable(park)  # before the network is loaded: codes and licences
    profiles = sorted({v.profile for v in park.vehicles} or {"truck_18t"})
    counts = {p: sum(v.profile == p for v in park.vehicles) for p in profiles}
    main = max(profiles, key=lambda p: (counts[p], p))
    progress(f"loading road network {network!s} ...")
    base = network if isinstance(network, RoadNetwork) else load_network(network, profile=main)
    nets = {p: base.with_profile(p) for p in profiles}
    pts = _locations(park)
    progress(f"matrices over {len(pts)} places ({', '.join(profiles)}) ...")
    matrices = {
        p: build_matrix(net, pts, max_snap_distance_m=max_snap_distance_m, cache_dir=cache_dir)
        for p, net in nets.items()
    }
    progress("allocating streams to receivers ...")
    alloc = allocate(
        park,
        matrices[main],
        single_source=single_source,
        unplaced=unplaced,
        time_limit_s=max(1.0, 0.25 * time_limit_s),
    )
    if alloc.status in ("infeasible", "time_limit_no_solution"):
        raise SolverError(f"no allocation of the streams: {alloc.message}; raise the time limit")
    errors = check_allocation(park, alloc)
    if errors:
        raise SolverError(f"the allocation breaks park rules: {errors[:5]}")
    placed = [s for s in park.streams if alloc.flows_of(s.id)]
    progress("weekly pickup schedule ...")
    schedule = schedule_pickups(park, placed)
    errors = check_schedule(park, schedule)
    if errors:
        raise InputError(f"the schedule breaks storage limits: {errors[:5]}")
    collection = None
    if park.vehicles:
        progress("daily routes ...")
        collection = plan_collection(
            park,
            alloc,
            schedule,
            matrices,
            time_limit_s=max(1.0, 0.6 * time_limit_s),
            engine=engine,
            seed=seed,
        )
        errors = check_collection(park, alloc, schedule, collection)
        if errors:
            raise InputError(f"the collection plan breaks park rules: {errors[:5]}")
    shared = None
    if park.shared is not None and park.sites:
        progress("siting the shared facility ...")
        shared = site_shared_facility(
            park, alloc, matrices[main], time_limit_s=max(1.0, 0.1 * time_limit_s)
        )
    ind = park_indicators(park, alloc, collection, shared)
    return ParkRun(
        park, alloc, schedule, collection, shared, ind, matrices, nets, time.perf_counter() - t0
    )


def summary_lines(run: ParkRun, lang: str = "en") -> list[str]:
    """Headline lines: the indicators, then the solve statuses."""
    sep = "：" if lang == "zh" else ": "
    out = []
    for i in run.indicators:
        v = i.value
        text = "–" if not math.isfinite(v) else (f"{v:,.1f}" if abs(v) < 1e6 else f"{v:,.0f}")
        out.append(f"{i.name(lang)}{sep}{text} {i.unit_label(lang)}")
    a = run.allocation
    out.append(
        f"allocation: {a.status}, cost {a.cost_per_year:,.0f}/year, bound "
        f"{a.bound:,.0f}, gap {100 * a.gap:.2g}%"
    )
    if run.collection is not None:
        out.append(
            f"routes: {len(run.collection.trips)} trips in the week, "
            f"{len(run.collection.unserved)} loads unserved"
        )
    if run.shared is not None:
        out.append(
            f"shared facility at {', '.join(run.shared.open_ids)}: saves "
            f"{run.shared.saving_per_year:,.0f}/year"
        )
    return out


def write_park_outputs(run: ParkRun, out: str | Path, *, lang: str = "en") -> list[Path]:
    """Write the plan's files to ``out``; return their paths.

    ``park_plan.json``, ``manifests.csv`` and ``manifests.json``, one ``.geojson`` per
    layer, ``park_map.png``, ``map.html``, ``indicators.json``, ``report.html`` and
    ``report.md`` (in ``lang``).
    """
    from ..export.map_html import roads_layer, write_map_html
    from ..export.park_map import write_park_png
    from ..export.report import write_report
    from ..i18n import check_lang, labels
    from ..pipeline import write_json

    check_lang(lang)
    text = labels(lang)
    d = Path(out)
    d.mkdir(parents=True, exist_ok=True)
    written = []
    write_json(d / "park_plan.json", run.to_dict())
    written.append(d / "park_plan.json")
    rows = run.manifests()
    (d / "manifests.csv").write_text(manifests_csv(rows), encoding="utf-8")
    write_json(d / "manifests.json", rows)
    written += [d / "manifests.csv", d / "manifests.json"]
    layers = run.geojson_layers()
    for name, layer in layers.items():
        write_json(d / f"{name}.geojson", layer)
        written.append(d / f"{name}.geojson")
    net = next(iter(run.networks.values()))
    roads = roads_layer(net)
    png = write_park_png(
        d / "park_map.png",
        {"roads": roads, **layers},
        lang=lang,
        title=f"{run.park.name} · {text['group_park']}",
    )
    written.append(png)
    html_layers = {
        "roads": roads,
        "stations": layers["enterprises"],
        "centres": _fc(layers["receivers"]["features"] + layers["flows"]["features"]),
        "routes": layers["routes"],
    }
    written.append(write_map_html(d / "map.html", html_layers, title=run.park.name, lang=lang))
    write_json(d / "indicators.json", indicators_to_dict(run.indicators))
    written.append(d / "indicators.json")
    sections = [_flows_section(run, lang), _manifest_section(rows, lang)]
    for suffix in ("html", "md"):
        written.append(
            write_report(
                d / f"report.{suffix}",
                run.indicators,
                lang=lang,
                title=run.park.name,
                summary=summary_lines(run, lang)[-3:],
                images=[png],
                sections=sections,
            )
        )
    (d / "summary.txt").write_text("\n".join(summary_lines(run, lang)) + "\n", encoding="utf-8")
    written.append(d / "summary.txt")
    return written


def _flows_section(run: ParkRun, lang: str) -> Any:
    from ..export.report import Section

    zh = lang == "zh"
    cols = (
        ["固废", "企业", "代码", "接收单位", "吨/年", "距离（公里）", "元/吨"]
        if zh
        else ["Stream", "Enterprise", "Code", "Receiver", "t/year", "km", "cost/t"]
    )
    rows = [
        [
            f.stream_id,
            f.enterprise_id,
            f.code,
            f.receiver_id + (" ⇄" if f.exchange else ""),
            f"{f.tonnes_per_year:,.1f}",
            f"{f.distance_m / 1000:.1f}",
            f"{f.transport_cost_per_t + f.fee_per_t:,.1f}",
        ]
        for f in run.allocation.flows
    ]
    lines = [f"{u.stream_id}: {u.reason}" for u in run.allocation.unplaced]
    return Section("分配方案" if zh else "Allocation", lines, cols, rows, (4, 5, 6))


def _manifest_section(rows: list[dict[str, Any]], lang: str) -> Any:
    from ..export.report import Section

    zh = lang == "zh"
    keys = [
        "manifest_no",
        "generator_id",
        "waste_code",
        "tonnes",
        "vehicle_id",
        "receiver_id",
        "pickup_time",
        "unload_time",
    ]
    cols = (
        ["联单编号", "移出单位", "废物代码", "数量（吨）", "运输车辆", "接受单位", "起运", "接收"]
        if zh
        else keys
    )
    body = [[str(r[k]) if k != "tonnes" else f"{r[k]:.3f}" for k in keys] for r in rows[:40]]
    lines = [
        f"{len(rows)} manifests in the planned week (first 40 shown); all in manifests.csv"
        if not zh
        else f"计划周共 {len(rows)} 张转移联单（显示前 40 张），全部见 manifests.csv"
    ]
    return Section("转移联单" if zh else "Transfer manifests", lines, cols, body, (3,))
