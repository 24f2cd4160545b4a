"""China's national circular-economy evaluation indicator sets (2007 and 2017), as data.

``data/ce_indicator_sets.csv`` lists every indicator of the 2007 macro set (NDRC, SEPA,
NBS; four groups: resource output, resource consumption, comprehensive utilisation,
waste disposal) and of its 2017 revision (NDRC, MOF, MEP, NBS), with the definition where
one was found in the sources consulted (else the table says so), and the recyclenet
pilot indicator that stands in for it where recyclenet can compute one from plans and
records. :func:`national_table` marks each row **computed** (from
:func:`recyclenet.actuals.targets.pilot_values`), **entered** (a value the user gave, by
code or by Chinese name) or **unsupported** (neither).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from ..errors import InputError
from ..i18n import check_lang, labels
from ..indicators import format_number
from ..tables import read_table

SETS: tuple[str, ...] = ("2007", "2017")


@dataclass(frozen=True)
class NationalIndicator:
    """One indicator of a national set (see ``data/ce_indicator_sets.csv``)."""

    set: str
    code: str
    group_zh: str
    group_en: str
    name_zh: str
    name_en: str
    unit: str
    definition: str
    recyclenet_key: str
    recyclenet_note: str
    source: str

    def name(self, lang: str = "en") -> str:
        return self.name_zh if check_lang(lang) == "zh" else self.name_en

    def group(self, lang: str = "en") -> str:
        return self.group_zh if check_lang(lang) == "zh" else self.group_en


@cache
def indicator_sets() -> tuple[NationalIndicator, ...]:
    """Every indicator of both sets, in table order."""
    _, rows = read_table(None, "ce_indicator_sets.csv")
    return tuple(NationalIndicator(**row) for row in rows)


def indicator_set(name: str) -> tuple[NationalIndicator, ...]:
    """The indicators of one set (``"2007"`` or ``"2017"``)."""
    if name not in SETS:
        raise InputError(f"unknown indicator set {name!r}; choose one of {', '.join(SETS)}")
    return tuple(i for i in indicator_sets() if i.set == name)


@dataclass(frozen=True)
class NationalRow:
    """A national indicator with its value and how it was obtained."""

    indicator: NationalIndicator
    value: float
    status: str  # computed, entered, unsupported

    def to_dict(self) -> dict[str, Any]:
        i = self.indicator
        return {"set": i.set, "code": i.code, "group": i.group_en, "name_zh": i.name_zh,
                "name_en": i.name_en, "unit": i.unit, "definition": i.definition,
                "status": self.status,
                "value": self.value if math.isfinite(self.value) else None,
                "recyclenet_key": i.recyclenet_key or None,
                "note": i.recyclenet_note or None, "source": i.source}  # fmt: skip


def national_table(
    name: str, computed: Mapping[str, float], entered: Mapping[str, float] | None = None
) -> list[NationalRow]:
    """One set's indicators, each computed, entered or unsupported.

    Parameters
    ----------
    name : {"2007", "2017"}
    computed : mapping
        Pilot indicator values (:func:`recyclenet.actuals.targets.pilot_values`).
    entered : mapping, optional
        Values the user gives, keyed by code (``2017-03``) or Chinese name (``能源产出率``;
        a name in both sets counts for both). A computed value wins.
    """
    given = dict(entered or {})
    out = []
    for ind in indicator_set(name):
        key = ind.recyclenet_key
        if key and key in computed and math.isfinite(computed[key]):
            out.append(NationalRow(ind, float(computed[key]), "computed"))
        elif ind.code in given:
            out.append(NationalRow(ind, float(given[ind.code]), "entered"))
        elif ind.name_zh in given:
            out.append(NationalRow(ind, float(given[ind.name_zh]), "entered"))
        else:
            out.append(NationalRow(ind, math.nan, "unsupported"))
    return out


def national_section(name: str, rows: list[NationalRow], *, lang: str = "en") -> Any:
    """A report :class:`~recyclenet.export.report.Section` of one set's table."""
    from ..export.report import Section

    lab = labels(check_lang(lang))
    title = lab[f"national_set_{name}"]
    counts = {s: sum(1 for r in rows if r.status == s)
              for s in ("computed", "entered", "unsupported")}  # fmt: skip
    lines = [", ".join(f"{lab['source_' + s]}: {n}" for s, n in counts.items())]
    return Section(
        title, lines=lines,
        columns=[lab["col_code"], lab["col_group"], lab["col_indicator"], lab["col_unit"],
                 lab["col_value"], lab["col_source"], lab["col_definition"]],
        rows=[[r.indicator.code, r.indicator.group(lang), r.indicator.name(lang),
               r.indicator.unit, format_number(r.value), lab[f"source_{r.status}"],
               r.indicator.definition + (f" — {r.indicator.recyclenet_note}"
                                         if r.indicator.recyclenet_note else "")]
              for r in rows],
        numeric=(4,),
    )  # fmt: skip


__all__ = [
    "SETS",
    "NationalIndicator",
    "NationalRow",
    "indicator_set",
    "indicator_sets",
    "national_section",
    "national_table",
]
