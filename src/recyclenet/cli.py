"""The ``recyclenet`` command: a thin layer that parses options and calls the library."""

from __future__ import annotations

import contextlib
import csv
import functools
import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any, TypeVar

import numpy as np
import typer

from .errors import RecyclenetError
from .geo import check_crs, check_lonlat, from_wgs84, geojson_to_crs, to_wgs84
from .matrix import Matrix, build_matrix
from .network import DEFAULT_MAX_SNAP_DISTANCE_M, load_network, shortest_route
from .options import ROUTING_DEFAULTS, SITING_DEFAULTS
from .points import read_points

app = typer.Typer(
    help="recyclenet: plan recycling collection networks and routes on OpenStreetMap roads.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
network_app = typer.Typer(help="Road networks: info, matrices, routes.", no_args_is_help=True)
app.add_typer(network_app, name="network")
actuals_app = typer.Typer(
    help="Collection records (weighbridge tickets, receipts) and plan versus actual.",
    no_args_is_help=True,
)
app.add_typer(actuals_app, name="actuals")
park_app = typer.Typer(
    help="Industrial parks: allocate wastes and by-products, collection routes, manifests.",
    no_args_is_help=True,
)
app.add_typer(park_app, name="park")

F = TypeVar("F", bound=Callable[..., Any])

NetworkArg = Annotated[
    str, typer.Argument(help="'helsinki' (embedded sample), an OSM/GraphML file, or a place.")
]
ProfileOpt = Annotated[
    str,
    typer.Option(
        "--vehicle",
        "--profile",
        help="Vehicle road profile, e.g. car, tricycle, box_truck_4_2m, truck_18t.",
    ),
]
SpeedModelOpt = Annotated[
    str,
    typer.Option(
        "--speed-model",
        help="free_flow (speed limits, class defaults) or urban (congested speeds of a dense "
        "Chinese city for --period; data/urban_speeds.csv).",
    ),
]
PeriodOpt = Annotated[
    str | None,
    typer.Option(
        "--period",
        help="When the vehicles drive: day (default, Mo-Fr 06:00-22:00), peak, offpeak, night, "
        "opening hours ('Sa 08:00-12:00') or a departure time ('Mo 07:30'). Time-conditional "
        "access (hgv:conditional) is applied for it; urban speeds are averaged over it.",
    ),
]
ZonesOpt = Annotated[
    Path | None,
    typer.Option(
        "--restriction-zones",
        help="GeoJSON of polygons closed to vehicle classes at given hours (货车限行区): "
        "properties id, vehicles (hgv, all or profile names), closed ('07:00-20:00'). "
        "Trucks stay out while closed; stops inside get the open hours.",
    ),
]
SnapOpt = Annotated[
    float, typer.Option("--max-snap-m", help="Reject points farther than this from any road (m).")
]
FormatOpt = Annotated[
    str,
    typer.Option(
        "--format",
        help="Output formats, comma-separated: geojson, gpkg (one file, a layer per kind), "
        "shp, csv, xlsx (a workbook), or all.",
    ),
]
LangOpt = Annotated[str, typer.Option(help="Labels and CSV/Excel headers: en or zh.")]
CrsOpt = Annotated[
    str,
    typer.Option(
        "--crs",
        help="Datum of the lon/lat read and written: wgs84 (GPS, OSM), gcj02 (AMap, Tencent) "
        "or bd09 (Baidu). Converted exactly at the edge; GeoJSON in gcj02/bd09 gets a crs_note.",
    ),
]


def _zones(path: Path | None, crs: str) -> Any:
    """Restriction zones read from ``--restriction-zones`` (None when not given)."""
    if path is None:
        return None
    from .network.zones import read_restriction_zones

    return read_restriction_zones(path, crs=crs)


def _cache_dir(value: Path | None) -> Path | None:
    if value is not None:
        return value
    env = os.environ.get("RECYCLENET_CACHE_DIR")
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_cache_dir("recyclenet"))


def friendly_errors(func: F) -> F:
    """Print a recyclenet error as one line on stderr and exit with status 2."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except RecyclenetError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None

    return wrapper  # type: ignore[return-value]


def _bbox_in_crs(lon: np.ndarray, lat: np.ndarray, crs: str) -> list[float]:
    """(west, south, east, north) of WGS-84 points once converted to ``crs``."""
    x, y = from_wgs84(lon, lat, crs)
    return [float(x.min()), float(y.min()), float(x.max()), float(y.max())]


def _listing(out: Path, written: list[Path]) -> str:
    """The files written, relative to ``out`` (folders of Shapefiles and CSVs once)."""
    names = dict.fromkeys(str(p.relative_to(out)).split("/")[0] for p in written)
    return ", ".join(f"{out}/{n}" for n in names)


def _parse_lonlat(text: str, option: str) -> tuple[float, float]:
    try:
        lon_s, lat_s = text.split(",")
        return float(lon_s), float(lat_s)
    except ValueError:
        raise typer.BadParameter(f"{option} expects LON,LAT in degrees, got {text!r}") from None


@network_app.command("info")
@friendly_errors
def network_info(
    network: NetworkArg,
    vehicle: ProfileOpt = "car",
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    crs: CrsOpt = "wgs84",
    speed_model: SpeedModelOpt = "free_flow",
    period: PeriodOpt = None,
) -> None:
    """Nodes, edges, bbox, components kept and dropped, tagged vs default speeds."""
    system = check_crs(crs, what="--crs")
    net = load_network(network, profile=vehicle, speed_model=speed_model, period=period)
    info = net.info()
    if system != "wgs84":
        vertices = np.concatenate(net.edge_geometry)  # the points RoadNetwork.bbox spans
        info["bbox"] = _bbox_in_crs(vertices[:, 0], vertices[:, 1], system)
        info["crs"] = system
    if as_json:
        typer.echo(json.dumps(info, ensure_ascii=False))
        return
    for key, value in info.items():
        typer.echo(f"{key:>25}: {value}")


@network_app.command("warmup")
def network_warmup() -> None:
    """Compile the numba kernels into numba's disk cache now (done after installing, so
    that the first matrix does not wait for the compiler)."""
    from .network.warmup import warm

    res = warm()
    typer.echo(f"{res['kernels']} numba kernels compiled and cached in {res['seconds']:.1f} s")
    if res["not_compiled"]:
        typer.echo(f"not reached by the warm-up: {res['not_compiled']}", err=True)
        raise typer.Exit(1)


@network_app.command("matrix")
@friendly_errors
def network_matrix(
    network: NetworkArg,
    points: Annotated[
        Path, typer.Option("--points", help="Points: CSV/Excel (id, lon, lat) or any GIS file.")
    ],
    out: Annotated[Path, typer.Option("--out", help="Output .csv (long format) or .npz.")],
    vehicle: ProfileOpt = "car",
    max_snap_m: SnapOpt = DEFAULT_MAX_SNAP_DISTANCE_M,
    cache_dir: Annotated[
        Path | None, typer.Option(help="Matrix cache directory (default: user cache dir).")
    ] = None,
    no_cache: Annotated[
        bool, typer.Option("--no-cache", help="Do not read or write the cache.")
    ] = False,
    crs: CrsOpt = "wgs84",
    speed_model: SpeedModelOpt = "free_flow",
    period: PeriodOpt = None,
) -> None:
    """Travel time and distance between every pair of points."""
    if out.suffix.lower() not in (".csv", ".npz"):
        raise RecyclenetError(f"--out {out}: use a .csv or .npz file name")
    pts = read_points(points, crs=check_crs(crs, what="--crs"))
    net = load_network(network, profile=vehicle, speed_model=speed_model, period=period)
    start = time.perf_counter()
    matrix = build_matrix(net, pts, max_snap_distance_m=max_snap_m,
                          cache_dir=None if no_cache else _cache_dir(cache_dir))  # fmt: skip
    elapsed = time.perf_counter() - start
    write_matrix(matrix, out)
    snap = np.array([matrix.snap_distance_m[i] for i in pts.ids])
    typer.echo(f"{len(pts)} x {len(pts)} matrix for profile {net.profile.name} in {elapsed:.2f} s")
    typer.echo(f"snap distance m: mean {snap.mean():.1f}, p95 {np.percentile(snap, 95):.1f}, "
               f"max {snap.max():.1f}")  # fmt: skip
    typer.echo(f"unreachable pairs: {int((~matrix.reachable).sum())}")
    typer.echo(f"wrote {out}")


def write_matrix(matrix: Matrix, out: Path) -> None:
    """Write a matrix as long-format CSV (origin_id, destination_id, ...) or NPZ with ids."""
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".npz":
        np.savez_compressed(out, origin_ids=np.array(matrix.origin_ids, dtype=str),
                            destination_ids=np.array(matrix.destination_ids, dtype=str),
                            duration_s=matrix.duration_s, distance_m=matrix.distance_m)  # fmt: skip
        return
    with open(out, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["origin_id", "destination_id", "duration_s", "distance_m"])
        for i, o in enumerate(matrix.origin_ids):
            for j, d in enumerate(matrix.destination_ids):
                dur, dist = matrix.duration_s[i, j], matrix.distance_m[i, j]
                writer.writerow([o, d, "" if not np.isfinite(dur) else f"{dur:.2f}",
                                 "" if not np.isfinite(dist) else f"{dist:.1f}"])  # fmt: skip


@network_app.command("route")
@friendly_errors
def network_route(
    network: NetworkArg,
    from_: Annotated[str, typer.Option("--from", help="Origin LON,LAT in degrees.")],
    to: Annotated[str, typer.Option("--to", help="Destination LON,LAT in degrees.")],
    vehicle: ProfileOpt = "car",
    max_snap_m: SnapOpt = DEFAULT_MAX_SNAP_DISTANCE_M,
    geojson: Annotated[bool, typer.Option("--geojson", help="Print a GeoJSON Feature.")] = False,
    crs: CrsOpt = "wgs84",
    speed_model: SpeedModelOpt = "free_flow",
    period: PeriodOpt = None,
) -> None:
    """Fastest route between two points: distance, duration and street geometry."""
    system = check_crs(crs, what="--crs")
    ends = [_parse_lonlat(from_, "--from"), _parse_lonlat(to, "--to")]
    check_lonlat([p[0] for p in ends], [p[1] for p in ends], ["origin", "destination"])
    origin, destination = (to_wgs84(lon, lat, system) for lon, lat in ends)
    net = load_network(network, profile=vehicle, speed_model=speed_model, period=period)
    route = shortest_route(net, origin, destination, max_snap_distance_m=max_snap_m)
    feature = geojson_to_crs(route.to_geojson(), system)
    if geojson:
        typer.echo(json.dumps(feature, ensure_ascii=False))
        return
    from shapely.geometry import shape

    typer.echo(f"distance_m: {route.distance_m:.1f}")
    typer.echo(f"duration_s: {route.duration_s:.1f}")
    typer.echo(f"streets: {' → '.join(route.street_names)}")
    typer.echo(f"geometry: {shape(feature['geometry']).wkt}")
    if system != "wgs84":
        typer.echo(f"crs: {system}")


UrbanContextOpt = Annotated[
    str,
    typer.Option(
        help="Derived demand: urban context of residential land without mapped buildings "
        "(auto, low_rise, mid_rise, mid_high_rise, high_rise, super_high_rise; floor-area "
        "ratios of GB 50180-2018)."
    ),
]
HouseholdsTotalOpt = Annotated[
    float | None,
    typer.Option(help="Derived demand: scale the estimate to this many households."),
]
RasterOpt = Annotated[
    Path | None,
    typer.Option(
        help="Derived demand: GeoTIFF of persons per cell (e.g. WorldPop) to calibrate the "
        "estimate cell by cell (needs rasterio: pip install 'recyclenet[raster]')."
    ),
]


@app.command("demo")
@friendly_errors
def demo(
    network: Annotated[str, typer.Option(help="'helsinki' or an OSM file.")] = "helsinki",
    out: Annotated[Path, typer.Option(help="Output directory.")] = Path("demo-out"),
    seed: Annotated[int, typer.Option(help="Random seed of the sample day.")] = 7,
    radius_m: Annotated[float, typer.Option(help="Walking radius to a station, m.")] = 500.0,
    time_limit_s: Annotated[float, typer.Option(help="Time limit of each solve, s.")] = 10.0,
    lang: Annotated[str, typer.Option(help="Labels of report, map and summary: en or zh.")] = "en",
    crs: CrsOpt = "wgs84",
    speed_model: SpeedModelOpt = "free_flow",
    period: PeriodOpt = None,
    restriction_zones: ZonesOpt = None,
    fmt: FormatOpt = "geojson",
    urban_context: UrbanContextOpt = "auto",
    households_total: HouseholdsTotalOpt = None,
    population_raster: RasterOpt = None,
) -> None:
    """The main job on the embedded sample: roads, stations, sorting centre, one day of routes.

    Writes plans, GeoJSON layers, an offline HTML map, PNG maps, indicators.json and a
    report (HTML and Markdown) to OUT.
    """
    from .export.files import parse_formats
    from .i18n import check_lang
    from .pipeline import demo_run

    check_lang(lang)
    system = check_crs(crs, what="--crs")
    formats = parse_formats(fmt)

    t0 = time.perf_counter()

    def step(text: str) -> None:
        typer.echo(f"[{time.perf_counter() - t0:5.1f} s] {text}")

    result = demo_run(network, out=out, seed=seed, radius_m=radius_m,
                      time_limit_s=time_limit_s, lang=lang, crs=system,
                      speed_model=speed_model, period=period,
                      restriction_zones=_zones(restriction_zones, system),
                      formats=formats,
                      progress=step, urban_context=urban_context,
                      households_total=households_total,
                      population_raster=population_raster)  # fmt: skip
    for line in result:
        typer.echo(f"      {line}")
    step(f"done: outputs in {out}/")


@app.command("site")
@friendly_errors
def site(
    network: NetworkArg,
    out: Annotated[Path, typer.Option(help="Output directory (plan.json, GeoJSON layers).")],
    model: Annotated[
        str, typer.Option(help="p_median, max_coverage, min_stations or cflp.")
    ] = SITING_DEFAULTS.model,
    demand: Annotated[
        Path | None,
        typer.Option(
            help="Demand table or GIS file (id, lon/lat or points, households): CSV, Excel, "
            "GeoPackage (file.gpkg:layer), Shapefile, GeoJSON in any CRS. Default: OSM buildings."
        ),
    ] = None,
    sites: Annotated[
        Path | None,
        typer.Option(
            help="Sites table or GIS file (id, lon, lat, status, fixed_cost, capacity); "
            "default: OSM."
        ),
    ] = None,
    profile: Annotated[str, typer.Option(help="Road profile of trips to stations.")] = (
        SITING_DEFAULTS.profile
    ),
    metric: Annotated[str, typer.Option(help="distance_m or duration_s.")] = SITING_DEFAULTS.metric,
    p: Annotated[int | None, typer.Option(help="Number of stations (p_median, coverage).")] = (
        SITING_DEFAULTS.p
    ),
    radius: Annotated[
        float | None, typer.Option(help="Service radius in the metric's unit.")
    ] = SITING_DEFAULTS.radius,
    norm: Annotated[
        float, typer.Option(help="Households per station (min_stations).")
    ] = SITING_DEFAULTS.households_per_station,
    budget: Annotated[
        float | None, typer.Option(help="Budget on fixed (and closing) costs.")
    ] = SITING_DEFAULTS.budget,
    keep_existing: Annotated[str, typer.Option(help="all, or allow_closing.")] = (
        SITING_DEFAULTS.keep_existing
    ),
    uncoverable: Annotated[
        str,
        typer.Option(
            help="Demand no site can serve (none within the radius, off the network, or "
            "load above the capacity in reach): 'raise', or 'leave' it unassigned (with "
            "the reason) and plan for the rest. Every model."
        ),
    ] = SITING_DEFAULTS.uncoverable,
    centres: Annotated[
        Path | None,
        typer.Option(
            help="Sorting centres table or GIS file (id, lon, lat, capacity t/year, fixed_cost): "
            "adds tier 2."
        ),
    ] = None,
    time_limit_s: Annotated[float, typer.Option(help="Solver time limit, seconds.")] = (
        SITING_DEFAULTS.time_limit_s
    ),
    seed: Annotated[int, typer.Option(help="Random seed.")] = SITING_DEFAULTS.seed,
    crs: CrsOpt = "wgs84",
    fmt: FormatOpt = "geojson",
    lang: LangOpt = "en",
    urban_context: UrbanContextOpt = "auto",
    households_total: HouseholdsTotalOpt = None,
    demand_districts: Annotated[
        Path | None,
        typer.Option(
            help="Derived demand: GeoJSON of district polygons with 'id' and 'households' "
            "totals (e.g. a statistics yearbook); households in each are scaled to its total."
        ),
    ] = None,
    population_raster: RasterOpt = None,
) -> None:
    """Site community collection stations (p-median, coverage, min stations, CFLP)."""
    from .export.files import parse_formats, write_run_files
    from .i18n import check_lang
    from .pipeline import plan_siting, read_demand, read_sites, write_json

    system = check_crs(crs, what="--crs")
    formats, lang = parse_formats(fmt), check_lang(lang)
    with _live_progress("siting") as progress:
        run = plan_siting(
            network, model=model, profile=profile, metric=metric, p=p, radius=radius,
            households_per_station=norm, time_limit_s=time_limit_s, seed=seed,
            budget=budget, keep_existing=keep_existing, uncoverable=uncoverable,
            centres=read_sites(centres, crs=system, kind="centres") if centres else None,
            demand=read_demand(demand, crs=system) if demand else None,
            sites=read_sites(sites, crs=system) if sites else None,
            cache_dir=_cache_dir(None), urban_context=urban_context,
            households_total=households_total, demand_districts=demand_districts,
            population_raster=population_raster, progress=progress,
        )  # fmt: skip
    write_json(out / "plan.json", run.to_dict())
    if run.demand_estimate is not None:
        for line in run.demand_estimate.summary_lines():
            typer.echo(f"demand: {line}")
    written = write_run_files(out, run, formats=formats, crs=system, lang=lang)
    typer.echo(run.plan.summary())
    if run.centres is not None:
        typer.echo("sorting centres: " + run.centres.summary())
    typer.echo(f"wrote {out}/plan.json and {_listing(out, written)}")


@contextlib.contextmanager
def _live_progress(what: str) -> Iterator[Callable[[dict[str, Any]], None]]:
    """Live progress on stderr: on a terminal a rich status line (phase, engine, elapsed
    ticking, time limit, best so far, bound and gap, scenarios done); elsewhere (a log,
    a pipe, CI) one plain line per phase. Takes the reports of :mod:`recyclenet.progress`."""
    from rich.console import Console

    from .progress import phase_lines

    console = Console(stderr=True)
    if not console.is_terminal:
        yield phase_lines(what, lambda line: typer.echo(line, err=True))
        return
    line = _StatusLine(what)
    with console.status(line):
        yield line.update


class _StatusLine:
    """The status text of :func:`_live_progress`, its elapsed time ticking between reports."""

    def __init__(self, what: str) -> None:
        self.what, self.at = what, time.monotonic()
        self.report: dict[str, Any] | None = None

    def update(self, report: dict[str, Any]) -> None:
        self.report, self.at = dict(report), time.monotonic()

    def __rich__(self) -> str:
        from rich.markup import escape

        from .progress import describe

        if self.report is None:
            return f"{self.what} ..."
        p = {**self.report, "elapsed_s": (self.report.get("elapsed_s") or 0.0)
             + time.monotonic() - self.at}  # fmt: skip
        return escape(f"{self.what}: {p.get('phase')} · {describe(p)}")


@app.command("route")
@friendly_errors
def route(
    network: NetworkArg,
    orders: Annotated[
        Path, typer.Option(help="Orders table or GIS file (id, lon, lat, items, ...).")
    ],
    out: Annotated[Path, typer.Option(help="Output directory (plan.json, routes.geojson).")],
    fleet: Annotated[
        Path | None, typer.Option(help="Fleet table (CSV, Excel); default: data/fleet_default.csv.")
    ] = None,
    sites: Annotated[
        Path | None,
        typer.Option(help="Depots and facilities table or GIS file (id, kind, lon, lat)."),
    ] = None,
    engine: Annotated[str, typer.Option(help="auto, ortools or pyvrp.")] = ROUTING_DEFAULTS.engine,
    time_limit_s: Annotated[float, typer.Option(help="Solver time limit, seconds.")] = (
        ROUTING_DEFAULTS.time_limit_s
    ),
    seed: Annotated[int, typer.Option(help="Random seed.")] = ROUTING_DEFAULTS.seed,
    crs: CrsOpt = "wgs84",
    speed_model: SpeedModelOpt = "free_flow",
    period: PeriodOpt = None,
    restriction_zones: ZonesOpt = None,
    fmt: FormatOpt = "geojson",
    lang: LangOpt = "en",
    order_snap_limit_m: Annotated[
        float,
        typer.Option(help="Orders farther from the roads are unserved (off_road), metres."),
    ] = ROUTING_DEFAULTS.order_snap_limit_m,
    deterministic: Annotated[
        bool,
        typer.Option(help="Same inputs and seed, same plan: searches stop on iteration "
                          "counts, not the clock (the time limit is not enforced)."),
    ] = False,
) -> None:
    """Plan a day's pickup routes for a mixed fleet on the road network."""
    from .export.files import parse_formats, write_run_files
    from .i18n import check_lang
    from .pipeline import plan_routes, write_json
    from .routing import read_fleet, read_orders, route_tables
    from .routing.io import read_sites as read_depots

    system = check_crs(crs, what="--crs")
    formats, lang = parse_formats(fmt), check_lang(lang)
    if sites is None:
        raise RecyclenetError("--sites is required: a CSV with at least one depot")
    depots, facilities = read_depots(sites, crs=system)
    with _live_progress("routing") as progress:
        run = plan_routes(network, orders=read_orders(orders, crs=system),
                          fleet=read_fleet(fleet), depots=depots, facilities=facilities,
                          engine=engine, time_limit_s=time_limit_s, seed=seed,
                          speed_model=speed_model, period=period,
                          restriction_zones=_zones(restriction_zones, system),
                          cache_dir=_cache_dir(None), order_snap_limit_m=order_snap_limit_m,
                          deterministic=deterministic, progress=progress)  # fmt: skip
    if bad := run.zone_violations():
        typer.echo(f"warning: {len(bad)} legs or stops inside a restriction zone while closed "
                   f"(first: {bad[0]})", err=True)  # fmt: skip
    write_json(out / "plan.json", run.plan.to_dict())
    written = write_run_files(out, run, formats=formats, crs=system, lang=lang)
    typer.echo(route_tables(run.plan))
    typer.echo(f"wrote {out}/plan.json and {_listing(out, written)}")


@app.command("batch")
@friendly_errors
def batch(
    spec: Annotated[Path, typer.Argument(help="Batch spec (YAML): network, inputs, grid.")],
    out: Annotated[Path, typer.Option(help="Output directory (one folder per scenario).")],
    scheduler: Annotated[
        str | None, typer.Option(help="Dask scheduler address (tcp://host:8786).")
    ] = None,
    workers: Annotated[int, typer.Option(min=1, help="Local Dask workers.")] = 2,
    fmt: FormatOpt = "geojson",
) -> None:
    """Run a grid of siting or routing scenarios on Dask; write one comparison table."""
    from .scale import open_client
    from .scale.batch import load_spec, run_batch

    parsed = load_spec(spec)
    t0 = time.perf_counter()
    where = scheduler or f"a local cluster of {workers} worker(s)"
    typer.echo(f"[{0.0:5.1f} s] starting {where} ...")

    def step(text: str) -> None:
        typer.echo(f"[{time.perf_counter() - t0:5.1f} s] {text}")

    with open_client(scheduler, n_workers=workers) as client, _live_progress("batch") as live:
        result = run_batch(parsed, out, client=client, progress=step, formats=fmt, live=live)
    typer.echo(result.table())
    typer.echo(f"wrote {out}/summary.csv and one folder per scenario")
    if result.failed:
        typer.echo(f"{len(result.failed)} of {len(result.rows)} scenario(s) failed", err=True)
        raise typer.Exit(1)


bench_app = typer.Typer(
    help="Benchmark instances: one JSON line per instance (instance, cost or objective, "
    "status, time_s, reference, gap).",
    no_args_is_help=True,
)
app.add_typer(bench_app, name="bench")
FilesArg = Annotated[list[Path], typer.Argument(help="Instance files.")]
ReferenceOpt = Annotated[
    Path | None,
    typer.Option(help="CSV with 'instance' and a reference column (cost, objective, bks, "
                 "optimal or value)."),
]  # fmt: skip


@bench_app.command("vrplib")
@friendly_errors
def bench_vrplib_cmd(
    files: FilesArg,
    engine: Annotated[str, typer.Option(help="auto, ortools or pyvrp.")] = "auto",
    time_limit_s: Annotated[float, typer.Option(help="Time limit per instance, s.")] = 10.0,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    reference: ReferenceOpt = None,
) -> None:
    """CVRPLIB (.vrp) and Solomon instances, read by the vrplib package; the reference
    defaults to the .sol file beside a .vrp file."""
    from .bench import bench_vrplib, read_reference

    ref = read_reference(reference)
    for path in files:
        result = bench_vrplib(path, engine=engine, time_limit_s=time_limit_s, seed=seed,
                              reference=ref)  # fmt: skip
        typer.echo(json.dumps(result, ensure_ascii=False))


def _bench_siting(model: str, files: list[Path], time_limit_s: float, seed: int,
                  reference: Path | None, capacity: float | None = None) -> None:  # fmt: skip
    from .bench import bench_siting, read_reference

    ref = read_reference(reference)
    for path in files:
        result = bench_siting(path, model=model, time_limit_s=time_limit_s, seed=seed,
                              capacity=capacity, reference=ref)  # fmt: skip
        typer.echo(json.dumps(result, ensure_ascii=False))


@bench_app.command("pmedian")
@friendly_errors
def bench_pmedian_cmd(
    files: FilesArg,
    time_limit_s: Annotated[float, typer.Option(help="Time limit per instance, s.")] = 30.0,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    reference: ReferenceOpt = None,
) -> None:
    """OR-Library p-median instances (pmedK.txt)."""
    _bench_siting("pmedian", files, time_limit_s, seed, reference)


@bench_app.command("cflp")
@friendly_errors
def bench_cflp_cmd(
    files: FilesArg,
    time_limit_s: Annotated[float, typer.Option(help="Time limit per instance, s.")] = 30.0,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    reference: ReferenceOpt = None,
    capacity: Annotated[
        float | None, typer.Option(help="Capacity replacing the word 'capacity' (capa/b/c).")
    ] = None,
) -> None:
    """OR-Library capacitated facility location instances (capXX.txt; split demand)."""
    _bench_siting("cflp", files, time_limit_s, seed, reference, capacity)


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[
        int, typer.Option(min=1, help="Server processes (they share the database).")
    ] = 1,
) -> None:
    """Run the HTTP service (settings from RECYCLENET_* environment variables and .env)."""
    try:
        from recyclenet_api.app import serve as run_service
    except ImportError as exc:
        typer.echo(f"error: the service needs the api extra: pip install 'recyclenet[api]' "
                   f"({exc})", err=True)  # fmt: skip
        raise typer.Exit(2) from None
    run_service(host=host, port=port, workers=workers)


@app.command("app")
def open_app(
    port: Annotated[int, typer.Option(help="TCP port on 127.0.0.1.")] = 8765,
    browser: Annotated[
        bool, typer.Option("--browser/--no-browser", help="Open the workspace in the browser.")
    ] = True,
) -> None:
    """Open the planner's workspace: the service on this computer only (127.0.0.1) with a
    local API key, and the browser at /app. Paste the key shown here on the page."""
    import secrets
    import threading
    import webbrowser

    try:
        from recyclenet_api.app import serve as run_service
        from recyclenet_api.settings import Settings
    except ImportError as exc:
        typer.echo(f"error: the workspace needs the api extra: pip install 'recyclenet[api]' "
                   f"({exc})", err=True)  # fmt: skip
        raise typer.Exit(2) from None
    data_dir = Settings().data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    key_file = data_dir / "local_api_key"
    if key_file.is_file() and key_file.read_text().strip():
        key = key_file.read_text().strip()
    else:  # one key per data directory, readable by this user only
        key = secrets.token_urlsafe(18)
        key_file.touch(mode=0o600)
        key_file.write_text(key + "\n")
    others = os.environ.get("RECYCLENET_API_KEYS", "")
    os.environ["RECYCLENET_API_KEYS"] = ",".join(filter(None, [others, f"{key}:local"]))
    url = f"http://127.0.0.1:{port}/app"
    typer.echo(f"recyclenet workspace: {url}\nAPI key (paste it on the page; also in "
               f"{key_file}): {key}\nStop with Ctrl+C.")  # fmt: skip
    if browser:
        threading.Timer(2.0, webbrowser.open, [url]).start()
    run_service(host="127.0.0.1", port=port)


db_app = typer.Typer(
    help="The service's database (RECYCLENET_DATABASE_URL): schema migrations.",
    no_args_is_help=True,
)
app.add_typer(db_app, name="db")


def _service_store(url: str | None) -> Any:
    try:
        from recyclenet_api.settings import Settings
        from recyclenet_api.store import Store
    except ImportError as exc:
        typer.echo(f"error: the service needs the api extra: pip install 'recyclenet[api]' "
                   f"({exc})", err=True)  # fmt: skip
        raise typer.Exit(2) from None
    settings = Settings()
    if url is None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    return Store(url or settings.sqlalchemy_url)


DbUrl = Annotated[
    str | None,
    typer.Option("--url", help="SQLAlchemy URL; default the service's (RECYCLENET_* settings)."),
]


@db_app.command("upgrade")
def db_upgrade(url: DbUrl = None) -> None:
    """Migrate the database to the newest schema (under a lock; safe while servers run)."""
    from recyclenet_api.migrate import current

    store = _service_store(url)
    try:
        before = current(store.engine)
        reached = store.upgrade()
    finally:
        store.dispose()
    typer.echo(f"database at revision {reached}" + (f" (was {before})" if before != reached
                                                    else " (already at head)"))  # fmt: skip


@db_app.command("current")
def db_current(url: DbUrl = None) -> None:
    """Print the database's revision and the newest one."""
    from recyclenet_api.migrate import current, head

    store = _service_store(url)
    try:
        typer.echo(f"current {current(store.engine)}, head {head()}")
    finally:
        store.dispose()


@db_app.command("revision")
def db_revision(
    message: Annotated[str, typer.Option("-m", "--message", help="What the revision does.")],
    url: DbUrl = None,
) -> None:
    """Write a new migration from the models' difference to a database at head
    (alembic autogenerate; read and complete it before committing)."""
    from alembic import command

    from recyclenet_api.migrate import MIGRATIONS, alembic_config, head

    store = _service_store(url)
    try:
        store.upgrade()
        number = int(head()) + 1
        cfg = alembic_config(str(store.engine.url.render_as_string(hide_password=False)))
        script = command.revision(cfg, message=message, autogenerate=True,
                                  rev_id=f"{number:04d}")  # fmt: skip
    finally:
        store.dispose()
    typer.echo(f"wrote {script.path if script else MIGRATIONS}")  # type: ignore[union-attr]


@app.command("compare")
@friendly_errors
def compare_plans(
    plan_a: Annotated[
        Path,
        typer.Argument(
            help="Plan A: siting_plan.json, routing_plan.json, plan.json or a "
            "directory holding them (e.g. a demo output directory)."
        ),
    ],
    plan_b: Annotated[Path, typer.Argument(help="Plan B, the same kind as plan A.")],
    lang: Annotated[str, typer.Option(help="Labels in en or zh.")] = "en",
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    emission_factors: Annotated[
        Path | None,
        typer.Option(
            help="CSV of kg CO2e per km per vehicle type "
            "(default: the packaged data/emission_factors.csv)."
        ),
    ] = None,
) -> None:
    """The pilot's indicators of two plans side by side, with absolute and relative differences."""
    from .i18n import check_lang
    from .indicators import compare

    check_lang(lang)
    result = compare(plan_a, plan_b, emission_factors=emission_factors)
    if as_json:
        typer.echo(json.dumps(result.to_dict(lang), ensure_ascii=False))
        return
    typer.echo(result.to_text(lang))


@actuals_app.command("import")
@friendly_errors
def actuals_import(
    files: Annotated[
        list[Path],
        typer.Argument(help="CSV (UTF-8 or GBK), .xlsx or .xls record files; Chinese headers."),
    ],
    store: Annotated[
        Path, typer.Option(help="JSON-lines record store, created if missing.")
    ] = Path("records.jsonl"),
) -> None:
    """Add records to the store; a file loaded twice counts once (by document id)."""
    from .actuals.run import import_records

    result = import_records(store, files)
    typer.echo(f"{len(result.added)} record(s) added, {len(result.duplicates)} already in "
               f"{store}")  # fmt: skip


@actuals_app.command("report")
@friendly_errors
def actuals_report(
    plan: Annotated[
        Path, typer.Argument(help="Plan directory (demo/site/route output) or plan JSON file.")
    ],
    records: Annotated[
        list[Path],
        typer.Option("--records", help="Record store (.jsonl) or record files; repeatable."),
    ],
    start: Annotated[str, typer.Option("--from", help="First day, YYYY-MM-DD.")],
    end: Annotated[str, typer.Option("--to", help="Day after the last, YYYY-MM-DD.")],
    out: Annotated[Path, typer.Option(help="Output directory.")] = Path("actuals"),
    bucket: Annotated[str, typer.Option(help="Series step: day, week or month.")] = "week",
    lang: Annotated[str, typer.Option(help="Labels in en or zh.")] = "en",
    facilities: Annotated[
        Path | None,
        typer.Option(
            help="CSV id,name,licensed_dismantler,capacity_t_per_year: adds the "
            "appliance fund's eligible units and subsidy due (fund.json)."
        ),
    ] = None,
) -> None:
    """Expected versus collected by station, district, material and period; files in --out."""
    from .actuals.fund import read_facilities
    from .actuals.run import load_records, report_actuals
    from .i18n import check_lang

    check_lang(lang)
    book = load_records(records)
    fac = read_facilities(facilities) if facilities is not None else None
    res = report_actuals(plan, book.effective(), start=start, end=end, out=out, lang=lang,
                         bucket=bucket, facilities=fac)  # type: ignore[arg-type]  # fmt: skip
    r = res.result
    typer.echo(f"{r.records_counted} records, {r.start} – {r.end}: collected "
               f"{r.collected_kg:,.0f} kg of {r.expected_kg:,.0f} kg expected; stations far "
               f"below plan: {', '.join(r.flagged('below')) or 'none'}")  # fmt: skip
    if res.fund is not None:
        fund = res.fund
        typer.echo(f"appliance fund: {fund.eligible_units:g} eligible unit(s), "
                   f"{fund.subsidy_cny:,.0f} CNY due; {len(fund.flags)} flagged")  # fmt: skip
    for f in (*res.files, *res.charts):
        typer.echo(f"wrote {f}")


@app.command("evaluate")
@friendly_errors
def evaluate_targets(
    targets: Annotated[
        Path,
        typer.Argument(
            help="Targets CSV: indicator, baseline_value, baseline_year, "
            "target_value, target_year, milestones (2026:40;2027:60), value."
        ),
    ],
    plan: Annotated[Path, typer.Option(help="Plan directory or plan JSON file.")],
    records: Annotated[
        list[Path],
        typer.Option("--records", help="Record store (.jsonl) or record files; repeatable."),
    ],
    start: Annotated[str, typer.Option("--from", help="First day, YYYY-MM-DD.")],
    end: Annotated[str, typer.Option("--to", help="Day after the last, YYYY-MM-DD.")],
    as_of: Annotated[
        str | None, typer.Option(help="Evaluation date (default: the period's last day).")
    ] = None,
    out: Annotated[Path, typer.Option(help="Output directory.")] = Path("evaluation"),
    lang: Annotated[str, typer.Option(help="Labels in en or zh.")] = "en",
    values: Annotated[
        Path | None,
        typer.Option(
            help="CSV indicator,value of entered values (target keys, national "
            "codes such as 2017-03, or Chinese names)."
        ),
    ] = None,
) -> None:
    """Each target's current value, progress, milestones and traffic light; table and chart.

    The national indicator sets (2007, 2017) are filled in too: computed, entered or
    unsupported.
    """
    from .actuals.run import evaluate_pilot, load_records, read_values
    from .i18n import check_lang

    check_lang(lang)
    book = load_records(records)
    entered = read_values(values) if values is not None else None
    res = evaluate_pilot(targets, plan, book.effective(), start=start, end=end, out=out,
                         as_of=as_of, lang=lang, entered=entered)  # fmt: skip
    for r in res.evaluation.rows:
        value = "no value"
        if r.source != "missing":
            value = f"{r.current:,.4g} ({r.source}), progress {100 * r.progress:.0f}%"
        typer.echo(f"{r.light:5}  {r.target.name(lang)}: {value}")
    for name, rows in res.national.items():
        counts = {s: sum(1 for r in rows if r.status == s)
                  for s in ("computed", "entered", "unsupported")}  # fmt: skip
        typer.echo(f"national set {name}: " + ", ".join(f"{n} {s}" for s, n in counts.items()))
    for f in res.files:
        typer.echo(f"wrote {f}")


def main() -> None:  # pragma: no cover - console entry point alias
    """Run the CLI."""
    app()


if __name__ == "__main__":  # pragma: no cover
    main()


@park_app.command("plan")
@friendly_errors
def park_plan(
    park: Annotated[
        Path,
        typer.Argument(
            help="Park file: YAML (tables inline or as CSV files) or an .xlsx workbook."
        ),
    ],
    network: Annotated[str, typer.Option(help="OSM extract, GraphML, or 'helsinki'.")],
    out: Annotated[Path, typer.Option(help="Output directory.")],
    lang: Annotated[str, typer.Option(help="Report and map language: en or zh.")] = "en",
    time_limit_s: Annotated[float, typer.Option(help="Time limit for all solves, s.")] = 30.0,
    single_source: Annotated[
        bool | None,
        typer.Option(
            "--single-source/--split", help="Each stream to one receiver (default: park's)."
        ),
    ] = None,
    allow_unplaced: Annotated[
        bool,
        typer.Option(help="Plan what can be placed and report the rest, instead of failing."),
    ] = False,
    crs: Annotated[
        str | None, typer.Option(help="Datum of the park's lon/lat (wgs84, gcj02, bd09).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Routing seed.")] = 0,
) -> None:
    """Plan a park: allocation, weekly schedule, routes, manifests, shared facility, report."""
    from .parks.plan import summary_lines
    from .pipeline import plan_park_files

    run = plan_park_files(park, network, out=out, lang=lang, time_limit_s=time_limit_s,
                          single_source=single_source, crs=crs, seed=seed,
                          unplaced="report" if allow_unplaced else "raise",
                          cache_dir=_cache_dir(None), progress=typer.echo)  # fmt: skip
    for line in summary_lines(run, lang):
        typer.echo(line)
    typer.echo(f"wrote {out}/park_plan.json, manifests.csv, park_map.png, map.html, report.html")
