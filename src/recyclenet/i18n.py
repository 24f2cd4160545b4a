"""Labels for people in English or Chinese, from ``data/labels.csv``.

One table holds every label the report, the map legend and the CLI summary show, so a
translation is added in one place. Names taken from OSM (streets, places) are never
translated: they are shown as they are.
"""

from __future__ import annotations

from functools import cache
from typing import Literal

from .errors import InputError
from .tables import read_table

Lang = Literal["en", "zh"]
LANGS: tuple[str, ...] = ("en", "zh")


@cache
def labels(lang: str = "en") -> dict[str, str]:
    """Every label in ``lang`` (``"en"`` or ``"zh"``), keyed by label key."""
    check_lang(lang)
    _, rows = read_table(None, "labels.csv")
    return {row["key"]: row[lang] or row["en"] for row in rows}


def label(key: str, lang: str = "en") -> str:
    """One label; raises KeyError naming the key when the table lacks it."""
    table = labels(lang)
    if key not in table:
        raise KeyError(f"no label {key!r} in data/labels.csv")
    return table[key]


def check_lang(lang: str) -> str:
    """Return ``lang`` if supported, else raise :class:`InputError` listing the choices."""
    if lang not in LANGS:
        raise InputError(f"unknown language {lang!r}; choose one of {', '.join(LANGS)}")
    return lang
