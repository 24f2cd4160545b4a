"""Report sections of the pilot in operation (plan versus actual), in English or Chinese.

The tables are :class:`recyclenet.export.report.Section` values that
:func:`~recyclenet.export.report.write_report` renders in Markdown or HTML; labels come
from ``data/labels.csv``; ids (stations, vehicles, districts) are shown as they are.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

from ..export.report import Section
from ..i18n import check_lang, labels
from ..indicators import format_number
from .compare import PlanVsActual, Row
from .fund import FundEstimate
from .targets import Evaluation

#: Station rows shown in the report: the flagged ones first, then up to this many.
MAX_STATION_ROWS = 30


def _pct(x: float) -> str:
    return format_number(100.0 * x) if math.isfinite(x) else "–"


def actuals_section(
    result: PlanVsActual, *, lang: str = "en", images: Sequence[str | Path] = ()
) -> Section:
    """The plan-versus-actual section: summary lines, then stations, districts,
    materials, periods, centres and vehicles as subsections; ``images`` (the series
    charts) below the materials table."""
    lab = labels(check_lang(lang))
    sep = "：" if lang == "zh" else ": "
    low = result.flagged("below")
    high = result.flagged("above")
    lines = [
        f"{lab['actuals_period']}{sep}{result.start} – {result.end} ({result.days} d)",
        f"{lab['actuals_records']}{sep}{result.records_counted}",
        f"{lab['col_expected_kg']}{sep}{format_number(result.expected_kg)}; "
        f"{lab['col_collected_kg']}{sep}{format_number(result.collected_kg)}",
        f"{lab['actuals_flagged_below']}{sep}{', '.join(low) or '–'}",
        f"{lab['actuals_flagged_above']}{sep}{', '.join(high) or '–'}",
    ]
    if result.missed_order_ids:
        shown = ", ".join(result.missed_order_ids[:20])
        more = len(result.missed_order_ids) - 20
        lines.append(f"{lab['actuals_missed']}{sep}{len(result.missed_order_ids)} "
                     f"({shown}{', …' if more > 0 else ''})")  # fmt: skip
    head = [lab["col_expected_kg"], lab["col_collected_kg"], lab["col_achievement"],
            lab["col_flag"], lab["col_records"]]  # fmt: skip
    order = {"below": 0, "above": 1, "no_records": 2, "not_planned": 3, "ok": 4}
    stations = sorted(result.stations, key=lambda r: (order[r.flag], r.key))[:MAX_STATION_ROWS]

    def cells(r: Row) -> list[str]:
        return [format_number(r.expected_kg), format_number(r.collected_kg),
                _pct(r.achievement), lab[f"flag_{r.flag}"], str(r.records)]  # fmt: skip

    subs = [
        Section(lab["actuals_stations"], columns=[lab["col_station"], lab["col_district"], *head],
                rows=[[r.key, r.district or "–", *cells(r)] for r in stations],
                numeric=(2, 3, 4, 6)),
        Section(lab["actuals_districts"], columns=[lab["col_district"], *head],
                rows=[[r.key, *cells(r)] for r in result.districts], numeric=(1, 2, 3, 5)),
        Section(lab["actuals_materials"], columns=[lab["col_material"], *head],
                rows=[[lab.get(f"material_{r.key}", r.key), *cells(r)] for r in result.materials],
                numeric=(1, 2, 3, 5), images=images),
        Section(lab["actuals_series"],
                columns=[lab["col_period_start"], lab["col_material"], lab["col_expected_kg"],
                         lab["col_collected_kg"], lab["col_achievement"]],
                rows=[[r.key.split("|")[0], lab.get(f"material_{r.key.split('|')[1]}",
                                                    r.key.split("|")[1]),
                       format_number(r.expected_kg), format_number(r.collected_kg),
                       _pct(r.achievement)] for r in result.periods],
                numeric=(2, 3, 4)),
    ]  # fmt: skip
    if result.centres:
        subs.append(Section(
            lab["actuals_centres"],
            columns=[lab["col_centre"], lab["col_capacity_t_year"], lab["col_delivered_t"],
                     lab["col_planned_util"], lab["col_actual_util"]],
            rows=[[c.centre_id, format_number(c.capacity_t_per_year), format_number(c.actual_t),
                   format_number(c.planned_utilisation_pct),
                   format_number(c.actual_utilisation_pct)] for c in result.centres],
            numeric=(1, 2, 3, 4)))  # fmt: skip
    if result.vehicles:
        subs.append(Section(
            lab["actuals_vehicles"],
            columns=[lab["col_vehicle"], lab["col_days"], lab["col_planned_km"],
                     lab["col_reported_km"]],
            rows=[[v.vehicle_id, str(v.days), format_number(v.planned_km),
                   format_number(v.reported_km)] for v in result.vehicles],
            numeric=(1, 2, 3)))  # fmt: skip
    return Section(lab["actuals_title"], lines=lines, subsections=subs)


def evaluation_section(
    evaluation: Evaluation, *, lang: str = "en", images: Sequence[str | Path] = ()
) -> Section:
    """The traffic-light table of a phase evaluation, with its chart."""
    lab = labels(check_lang(lang))
    sep = "：" if lang == "zh" else ": "
    rows = []
    for r in evaluation.rows:
        t = r.target
        unit = lab.get(f"unit_{t.unit}", t.unit)
        ms = "; ".join(f"{m.year}: {format_number(m.value)} ({lab['milestone_' + m.status]})"
                       for m in r.milestones) or "–"  # fmt: skip
        rows.append([
            t.name(lang), unit,
            f"{format_number(t.baseline_value)} ({t.baseline_year})",
            f"{format_number(t.target_value)} ({t.target_year})",
            format_number(r.current), lab[f"source_{r.source}"], _pct(r.progress),
            _pct(r.expected_progress), ms, lab[f"light_{r.light}"],
        ])  # fmt: skip
    columns = [lab["col_indicator"], lab["col_unit"], lab["col_baseline"], lab["col_target"],
               lab["col_current"], lab["col_source"], lab["col_progress"],
               lab["col_expected_progress"], lab["col_milestones"], lab["col_light"]]  # fmt: skip
    counts = {c: sum(1 for r in evaluation.rows if r.light == c)
              for c in ("green", "amber", "red", "grey")}  # fmt: skip
    lines = [
        f"{lab['evaluation_as_of']}{sep}{evaluation.as_of}",
        ", ".join(f"{lab['light_' + c]} ({n})" for c, n in counts.items() if n),
    ]
    return Section(lab["evaluation_title"], lines=lines, columns=columns, rows=rows,
                   numeric=(4, 6, 7), images=images)  # fmt: skip


def fund_section(estimate: FundEstimate, *, lang: str = "en", title: str | None = None) -> Section:
    """Subsidy due by period and class, and the flagged units."""
    lab = labels(check_lang(lang))
    sep = "：" if lang == "zh" else ": "
    lines = [
        f"{lab['fund_total']}{sep}{format_number(estimate.subsidy_cny)}",
        f"{lab['fund_eligible_units']}{sep}{format_number(estimate.eligible_units)}",
        *(f"{lab['fund_assumption']}{sep}{a}" for a in estimate.assumptions),
    ]
    subs = []
    if estimate.flags:
        subs.append(Section(
            lab["fund_flags"],
            columns=[lab["col_ref"], lab["col_material"], lab["col_units"],
                     lab["col_destination"], lab["col_reason"]],
            rows=[[f.ref, f.category, format_number(f.units), f.destination_id or "–",
                   lab[f"fund_reason_{f.reason}"]] for f in estimate.flags[:MAX_STATION_ROWS]],
            numeric=(2,)))  # fmt: skip
    return Section(
        title or lab["fund_title"], lines=lines,
        columns=[lab["col_period_start"], lab["col_material"], lab["col_fund_class"],
                 lab["col_units"], lab["col_rate"], lab["col_subsidy"]],
        rows=[[x.period, x.category, x.klass, format_number(x.units),
               format_number(x.subsidy_cny_per_unit), format_number(x.subsidy_cny)]
              for x in estimate.lines],
        numeric=(3, 4, 5), subsections=subs)  # fmt: skip


__all__ = ["actuals_section", "evaluation_section", "fund_section"]
