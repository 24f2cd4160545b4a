"""Item catalogue: what a pickup order carries, and what that means for a vehicle.

Each item category has a default unit weight (kg), unit volume (m³), service time per
unit (s) and handling needs (units with refrigerant need a trained crew). The defaults
live in ``data/items.csv`` with the source or reasoning of each value in its ``source``
column; orders may override every derived value.

Scrap metal grades are counted by kilogram (``unit == "kg"``, one unit = 1 kg);
appliances by piece.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from .errors import InputError
from .tables import read_table

#: Fixed time at every stop on top of the per-item time (s): park, find the customer,
#: weigh, pay by phone. Field observation of Chinese door-to-door collectors: 3-5 min.
STOP_BASE_SERVICE_S = 180.0

#: Skill a vehicle crew needs to take items with refrigerant (fridges, air conditioners).
REFRIGERANT_SKILL = "refrigerant"

_UNITS = ("kg", "piece")


@dataclass(frozen=True)
class ItemType:
    """One catalogue category.

    Attributes
    ----------
    category : str
        Key used in orders, e.g. ``"refrigerator"``.
    name : str
        Human-readable name.
    material : str
        Reporting group for totals (``"ferrous"``, ``"appliance_tv"``, ...).
    unit : {"kg", "piece"}
        What one counted unit is.
    kg_per_unit, m3_per_unit : float
        Weight (kg) and loaded volume (m³) of one unit.
    service_s_per_unit : float
        Handling time per unit in seconds.
    needs_refrigerant_crew : bool
        True when the crew needs the ``"refrigerant"`` skill.
    source : str
        Where the defaults come from.
    """

    category: str
    name: str
    material: str
    unit: str
    kg_per_unit: float
    m3_per_unit: float
    service_s_per_unit: float
    needs_refrigerant_crew: bool = False
    source: str = ""

    def __post_init__(self) -> None:
        if not self.category:
            raise InputError("item category must be a non-empty string")
        if self.unit not in _UNITS:
            raise InputError(f"item {self.category!r}: unit {self.unit!r} must be one of {_UNITS}")
        for name in ("kg_per_unit", "m3_per_unit", "service_s_per_unit"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
                raise InputError(f"item {self.category!r}: {name}={value!r} must be >= 0")


@dataclass(frozen=True)
class Catalog(Mapping[str, ItemType]):
    """An immutable mapping category -> :class:`ItemType`."""

    item_types: tuple[ItemType, ...]

    def __post_init__(self) -> None:
        cats = [i.category for i in self.item_types]
        dup = [c for c in cats if cats.count(c) > 1]
        if dup:
            raise InputError(f"duplicate item categories in catalogue: {sorted(set(dup))}")

    def __getitem__(self, category: str) -> ItemType:
        for item in self.item_types:
            if item.category == category:
                return item
        raise KeyError(category)

    def __iter__(self) -> Iterator[str]:
        return (i.category for i in self.item_types)

    def __len__(self) -> int:
        return len(self.item_types)

    def lookup(self, category: str, *, context: str = "") -> ItemType:
        """The item type of ``category``; :class:`InputError` naming it when unknown."""
        try:
            return self[category]
        except KeyError:
            where = f"{context}: " if context else ""
            raise InputError(
                f"{where}unknown item category {category!r}; known categories: "
                f"{', '.join(sorted(self))}"
            ) from None


def read_catalog(path: str | Path | None = None) -> Catalog:
    """Read an item catalogue CSV (default: the packaged ``data/items.csv``).

    Columns: ``category, name, material, unit, kg_per_unit, m3_per_unit,
    service_s_per_unit, needs_refrigerant_crew`` and optionally ``source``.
    """
    label, rows = read_table(path, "items.csv")
    items = []
    for lineno, row in enumerate(rows, start=2):
        try:
            items.append(
                ItemType(
                    category=row["category"].strip(),
                    name=row.get("name", "").strip(),
                    material=row.get("material", "").strip() or row["category"].strip(),
                    unit=row["unit"].strip(),
                    kg_per_unit=float(row["kg_per_unit"]),
                    m3_per_unit=float(row["m3_per_unit"]),
                    service_s_per_unit=float(row["service_s_per_unit"]),
                    needs_refrigerant_crew=_parse_bool(row.get("needs_refrigerant_crew", "")),
                    source=(row.get("source") or "").strip(),
                )
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(f"{label} line {lineno}: {exc}") from None
    return Catalog(tuple(items))


def _parse_bool(value: str | None) -> bool:
    v = (value or "").strip().lower()
    if v in ("yes", "true", "1", "y"):
        return True
    if v in ("", "no", "false", "0", "n"):
        return False
    raise InputError(f"cannot read {value!r} as yes/no")


@functools.cache
def default_catalog() -> Catalog:
    """The packaged catalogue (``data/items.csv``), read once (it is immutable)."""
    return read_catalog(None)
