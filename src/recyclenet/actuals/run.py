"""The one composition of records, stored plans and writers, used by the CLI and the demo.

``import_records``: record files -> a JSON-lines record store (idempotent).
``report_actuals``: a plan directory (``recyclenet demo`` / ``site`` / ``route`` output)
and records -> ``plan_vs_actual.json``, ``station_achievement.geojson`` and ``.png``, one
series PNG per material and ``actuals_report.md`` / ``.html``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..export.report import Section
from ..indicators import PlanDocs, load_plans
from ..tables import read_table
from .compare import Bucket, PlanVsActual, achievement_layer, expectation_from_plans, plan_vs_actual
from .fund import FacilityInfo, FundEstimate, estimate_fund, units_from_records
from .national import SETS, NationalRow, national_section, national_table
from .records import AddResult, Record, RecordBook, read_records
from .targets import Evaluation, Target, evaluate, pilot_values, read_targets

RECORD_STORE_SUFFIX = ".jsonl"


def import_records(store: str | Path, files: Sequence[str | Path]) -> AddResult:
    """Add the records of ``files`` (CSV/Excel) to a JSON-lines store, all or none.

    Records already in the store (same document id, same values) are skipped; a
    different record under a known document id is an error naming it.
    """
    batch: list[Record] = []
    for f in files:
        batch += read_records(f)
    book = RecordBook.load(store)
    return book.append_to(store, batch)


def load_records(sources: Iterable[str | Path | Record]) -> RecordBook:
    """A book of the records of stores (``.jsonl``), files (CSV/Excel) or records."""
    book = RecordBook()
    for src in sources:
        if isinstance(src, Record):
            book.add([src])
        elif Path(src).suffix.lower() == RECORD_STORE_SUFFIX:
            if not Path(src).exists():
                raise InputError(
                    f"records store {src}: no such file; run `recyclenet actuals import`"
                )
            book.add(RecordBook.load(src))
        else:
            book.add(read_records(src))
    return book


def order_items_from_layer(layer: Mapping[str, Any]) -> dict[str, dict[str, float]]:
    """Order id -> category -> count of the served orders of a routes/stops layer."""
    out: dict[str, dict[str, float]] = {}
    for f in layer.get("features", []):
        p = f.get("properties") or {}
        if p.get("kind") == "order" and p.get("order_id") and p.get("items"):
            row = out.setdefault(str(p["order_id"]), {})
            for item in p["items"]:
                row[item["category"]] = row.get(item["category"], 0.0) + float(item["count"])
    return out


def _read_layer(path: Path) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: not a GeoJSON file ({exc})") from None
    return doc if isinstance(doc, dict) else None


@dataclass(frozen=True)
class ActualsOutput:
    """What :func:`report_actuals` computed and wrote."""

    result: PlanVsActual
    plans: PlanDocs
    files: tuple[Path, ...]
    charts: tuple[Path, ...]
    fund: FundEstimate | None
    sections: tuple[Section, ...]


def report_actuals(
    plan: str | Path | PlanDocs,
    records: Iterable[Record],
    *,
    start: date | str,
    end: date | str,
    out: str | Path,
    lang: str = "en",
    bucket: Bucket = "week",
    stations_layer: Mapping[str, Any] | None = None,
    order_items: Mapping[str, Mapping[str, float]] | None = None,
    facilities: Mapping[str, FacilityInfo] | None = None,
    roads_layer: Mapping[str, Any] | None = None,
    write_reports: bool = True,
) -> ActualsOutput:
    """Plan versus actual for a stored plan and records, with its files.

    Parameters
    ----------
    plan : path or PlanDocs
        A plan file or a directory of plan files (:func:`recyclenet.indicators.load_plans`);
        a directory's ``stations.geojson`` and ``routes.geojson`` supply the station
        points and the planned orders' items.
    records : iterable of Record
        The records that count (``RecordBook.effective()``).
    start, end : date or ISO text
        The period ``[start, end)``.
    out : path
        Output directory.
    lang : {"en", "zh"}
    bucket : {"day", "week", "month"}
    stations_layer, order_items : optional
        Instead of the directory's layers.
    facilities : mapping, optional
        Facility id -> :class:`~recyclenet.actuals.fund.FacilityInfo`: adds the appliance
        fund estimate of the records (``fund.json`` and a report section).
    roads_layer : FeatureCollection, optional
        Roads under ``station_achievement.png`` (the map of the stations by achievement).
    write_reports : bool
        Also write ``actuals_report.md`` and ``.html`` (the demo adds the section to its
        own report instead).
    """
    from ..export.charts import write_achievement_png, write_series_pngs
    from ..export.report import write_report
    from ..pipeline import write_json
    from .report import actuals_section, fund_section

    docs = load_plans(plan)
    folder = Path(plan) if isinstance(plan, str | Path) and Path(plan).is_dir() else None
    if stations_layer is None and folder is not None:
        stations_layer = _read_layer(folder / "stations.geojson")
    if order_items is None and folder is not None:
        routes = _read_layer(folder / "routes.geojson")
        order_items = order_items_from_layer(routes) if routes else None
    expectation = expectation_from_plans(docs.siting, docs.routing, order_items=order_items)
    recs = list(records)
    result = plan_vs_actual(expectation, recs, start=start, end=end, bucket=bucket)
    dest = Path(out)
    dest.mkdir(parents=True, exist_ok=True)
    files = [dest / "plan_vs_actual.json"]
    write_json(files[0], result.to_dict())
    charts: tuple[Path, ...] = ()
    if stations_layer is not None:
        layer = achievement_layer(result, stations_layer)
        files.append(dest / "station_achievement.geojson")
        write_json(files[-1], layer)
        if layer["features"]:
            charts += (write_achievement_png(dest / "station_achievement.png", layer,
                                             roads=roads_layer, lang=lang),)  # fmt: skip
    charts += tuple(write_series_pngs(dest, result, lang=lang))
    sections = [actuals_section(result, lang=lang, images=charts)]
    fund = None
    if facilities is not None:
        in_range = [r for r in recs if result.start <= r.time.date() < result.end]
        fund = estimate_fund(units_from_records(in_range), facilities)
        files.append(dest / "fund.json")
        write_json(files[-1], fund.to_dict())
        sections.append(fund_section(fund, lang=lang))
    if write_reports:
        for suffix in ("md", "html"):
            files.append(write_report(dest / f"actuals_report.{suffix}", docs.indicators(),
                                      lang=lang, sections=sections))  # fmt: skip
    return ActualsOutput(result, docs, tuple(files), charts, fund, tuple(sections))


@dataclass(frozen=True)
class EvaluationOutput:
    """What :func:`evaluate_pilot` computed and wrote."""

    evaluation: Evaluation
    values: dict[str, float]
    national: dict[str, list[NationalRow]]
    sections: tuple[Section, ...]
    files: tuple[Path, ...]


def evaluate_pilot(
    targets: str | Path | Sequence[Target],
    plan: str | Path | PlanDocs,
    records: Iterable[Record],
    *,
    start: date | str,
    end: date | str,
    out: str | Path,
    as_of: date | str | None = None,
    lang: str = "en",
    entered: Mapping[str, float] | None = None,
    licensed: Mapping[str, bool] | None = None,
    write_reports: bool = True,
    actual: ActualsOutput | None = None,
) -> EvaluationOutput:
    """Evaluate a pilot's targets with the plans and the records of ``[start, end)``.

    Also fills in the national indicator sets (2007, 2017): computed where recyclenet
    can, entered from ``entered`` and the targets' ``value`` column, else unsupported.
    Writes ``evaluation.json``, ``evaluation.png`` and (``write_reports``)
    ``evaluation_report.md`` / ``.html`` in ``out``. ``as_of`` defaults to the last day
    of the period. ``actual``: the :func:`report_actuals` output of the same plan and
    period, when already computed.
    """
    from ..export.charts import write_progress_png
    from ..export.report import write_report
    from ..pipeline import write_json
    from .report import evaluation_section

    goals = read_targets(targets) if isinstance(targets, str | Path) else list(targets)
    recs = list(records)
    docs = load_plans(plan)
    if actual is None:
        actual = report_actuals(plan, recs, start=start, end=end, out=out, lang=lang,
                                write_reports=False)  # fmt: skip
    in_range = [r for r in recs if actual.result.start <= r.time.date() < actual.result.end]
    values = pilot_values(plan_indicators=docs.indicators(), result=actual.result,
                          records=in_range, licensed=licensed)  # fmt: skip
    day = as_of if as_of is not None else actual.result.end - timedelta(days=1)
    ev = evaluate(goals, values, as_of=day, entered=entered)
    given = {t.indicator: t.value for t in goals if t.value is not None}
    national = {name: national_table(name, values, {**given, **(entered or {})})
                for name in SETS}  # fmt: skip
    dest = Path(out)
    files = [dest / "evaluation.json"]
    write_json(files[0], {**ev.to_dict(lang), "computed": values,
                          "national": {k: [r.to_dict() for r in rows]
                                       for k, rows in national.items()}})  # fmt: skip
    chart = write_progress_png(dest / "evaluation.png", ev, lang=lang)
    files.append(chart)
    sections = [
        evaluation_section(ev, lang=lang, images=[chart]),
        *(national_section(k, rows, lang=lang) for k, rows in national.items()),
    ]
    if write_reports:
        for suffix in ("md", "html"):
            files.append(write_report(dest / f"evaluation_report.{suffix}", docs.indicators(),
                                      lang=lang, sections=sections))  # fmt: skip
    return EvaluationOutput(ev, values, national, tuple(sections), tuple(files))


#: First day of the demo's synthetic month (a month the fund's 2021 standard covers).
DEMO_START = date(2023, 3, 1)
#: The licensed dismantler of the demo's synthetic records.
DEMO_DISMANTLER = "dismantler_1"


@dataclass(frozen=True)
class DemoActuals:
    """The demo's plan-versus-actual part: report sections, summary lines, files."""

    sections: tuple[Section, ...]
    summary: tuple[str, ...]
    files: tuple[Path, ...]


def demo_actuals(
    out: Path,
    siting: Any,
    routing: Any,
    *,
    stations_layer: Mapping[str, Any],
    roads_layer: Mapping[str, Any] | None = None,
    seed: int = 7,
    lang: str = "en",
    start: date = DEMO_START,
    days: int = 31,
) -> DemoActuals:
    """A seeded month of records around the demo's plans, compared and evaluated.

    Writes ``records.csv`` (the synthetic tickets), ``facilities.csv``,
    ``plan_vs_actual.json``, ``station_achievement.geojson``, ``actuals_<material>.png``,
    ``fund.json``, ``evaluation.json`` and ``evaluation.png`` to ``out``; the report
    sections are returned for the demo's report.
    """
    from ..i18n import labels
    from ..indicators import format_number
    from ..pipeline import write_json
    from .fund import order_destinations, units_from_routing
    from .records import records_to_csv
    from .report import fund_section
    from .synthetic import synthetic_records

    lab = labels(lang)
    expectation = expectation_from_plans(siting, routing)
    plan_doc = routing.plan.to_dict()
    unload_of = order_destinations(plan_doc)
    vehicles = [r["vehicle_id"] for r in plan_doc["routes"]] or ["truck-1"]
    centre_id = next(iter(sorted(expectation.centre_load_t_per_year)), None)
    records = synthetic_records(expectation, start=start, days=days, seed=seed,
                                centre_id=centre_id, vehicle_ids=vehicles,
                                plan_day_orders=unload_of,
                                dismantler_id=DEMO_DISMANTLER)  # fmt: skip
    (out / "records.csv").write_text(records_to_csv(records), encoding="utf-8")
    facility_ids = sorted({f for f in unload_of.values() if f}
                          | ({centre_id} if centre_id else set()))  # fmt: skip
    facilities = {DEMO_DISMANTLER: FacilityInfo(DEMO_DISMANTLER, "licensed dismantler", True)}
    facilities.update({f: FacilityInfo(f, "sorting centre", False) for f in facility_ids})
    (out / "facilities.csv").write_text(
        "id,name,licensed_dismantler\n" + "".join(
            f"{f.id},{f.name},{'yes' if f.licensed_dismantler else 'no'}\n"
            for f in facilities.values()), encoding="utf-8")  # fmt: skip
    docs = PlanDocs(siting.to_dict(), plan_doc, "demo")
    end = start + timedelta(days=days)
    actual = report_actuals(docs, records, start=start, end=end, out=out, lang=lang,
                            stations_layer=stations_layer,
                            order_items=expectation.order_items, facilities=facilities,
                            roads_layer=roads_layer, write_reports=False)  # fmt: skip
    planned = estimate_fund(units_from_routing(plan_doc, expectation.order_items, start),
                            facilities)  # fmt: skip
    write_json(out / "fund_planned_day.json", planned.to_dict())
    ev = evaluate_pilot(read_targets(None), docs, records, start=start, end=end, out=out, lang=lang,
                        licensed={k: v.licensed_dismantler for k, v in facilities.items()},
                        write_reports=False, actual=actual)  # fmt: skip
    r = actual.result
    sep = "：" if lang == "zh" else ": "
    summary = (
        f"{lab['actuals_title']}{sep}{format_number(r.collected_kg)} / "
        f"{format_number(r.expected_kg)} kg ({r.start} – {r.end})",
        f"{lab['actuals_flagged_below']}{sep}{', '.join(r.flagged('below')) or '–'}",
        f"{lab['evaluation_title']}{sep}" + ", ".join(
            f"{lab['light_' + c]} ({n})" for c in ("green", "amber", "red", "grey")
            if (n := sum(1 for x in ev.evaluation.rows if x.light == c))),
    )  # fmt: skip
    fund_planned = fund_section(planned, lang=lang,
                                title=f"{lab['fund_title']} · {lab['group_routing']} "
                                f"({start})")  # fmt: skip
    sections = (*actual.sections, fund_planned, *ev.sections)
    files = (*actual.files, *actual.charts, out / "records.csv", out / "facilities.csv",
             out / "fund_planned_day.json", *ev.files)  # fmt: skip
    return DemoActuals(sections, summary, files)


def read_values(path: str | Path) -> dict[str, float]:
    """Entered indicator values from a CSV with columns ``indicator, value``.

    ``indicator`` is a target key, a national code (``2017-03``) or a national
    indicator's Chinese name (``能源产出率``).
    """
    where, rows = read_table(path, "")
    out: dict[str, float] = {}
    for n, row in enumerate(rows, start=2):
        key, text = row.get("indicator", ""), row.get("value", "")
        if not key:
            raise InputError(f"{where} row {n}, column indicator: empty (columns: indicator, "
                             "value)")  # fmt: skip
        try:
            out[key] = float(text)
        except ValueError:
            raise InputError(f"{where} row {n}, column value: {text!r} is not a number") from None
    return out


__all__ = ["ActualsOutput", "EvaluationOutput", "evaluate_pilot", "import_records",
           "load_records", "order_items_from_layer", "read_values", "report_actuals"]  # fmt: skip
