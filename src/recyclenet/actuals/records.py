"""Collection records: weighbridge tickets and pickup receipts, read, checked and kept.

A :class:`Record` is one ticket: when, where from (a station, site or order id), which
vehicle, what (a catalogue category, appliances with their type and size), how much
(gross / tare / net kg, or units), where to (the destination facility) and the source
document id that makes it unique. Records are immutable: a :class:`RecordBook` adds a
file twice and counts it once (by document id), refuses a different record under a
known document id, and changes a record only through a correction record (``corrects``
names the document it replaces) that keeps the original.

Files: CSV/TSV (UTF-8, UTF-8 with BOM, UTF-16, or GBK/GB18030 as Chinese spreadsheets save
them; the separator sniffed) or Excel ``.xlsx`` (first sheet, or ``book.xlsx:Sheet2``), read
by the row readers of :mod:`recyclenet.readers`. The header map is the records' own: in a
ticket file ``站点编号`` or ``订单编号`` name the source, not the ticket, so the shared ``id``
aliases do not apply. Headers in English or Chinese (``data/record_aliases.csv``,
e.g. ``磅单号, 过磅时间, 站点, 车牌号, 品类, 毛重(kg), 皮重(kg), 净重(kg), 去向``); category
names may be Chinese too (``电视机``, ``废钢铁``). Every error names the file, the row (as
the spreadsheet numbers it, header = row 1) and the column.

Times are local wall-clock times of the pilot (naive :class:`~datetime.datetime`).
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

from ..catalog import Catalog, default_catalog
from ..errors import InputError
from ..tables import read_table

#: Tolerance (kg) of the check net = gross - tare when a ticket gives all three.
NET_TOLERANCE_KG = 0.5

#: Record fields a file may carry, in the order :func:`records_to_csv` writes them.
FIELDS: tuple[str, ...] = (
    "document_id", "time", "station_id", "order_id", "vehicle_id", "category",
    "appliance_type", "size", "gross_kg", "tare_kg", "net_kg", "units", "destination_id",
    "district", "vehicle_km", "corrects", "note",
)  # fmt: skip

#: Rows searched for the header (title rows above it are skipped).
_HEADER_SCAN_ROWS = 10

_NUMBERS = ("size", "gross_kg", "tare_kg", "net_kg", "units", "vehicle_km")


@dataclass(frozen=True)
class Record:
    """One weighbridge ticket or pickup receipt.

    Attributes
    ----------
    document_id : str
        The source document (ticket, receipt) id; unique in a :class:`RecordBook`.
    time : datetime
        Local date and time of weighing or pickup.
    station_id, order_id : str or None
        Where the material came from: a station / site id, or a pickup order id (at
        least one).
    vehicle_id : str or None
    category : str
        Catalogue category (``data/items.csv``), e.g. ``scrap_ferrous``, ``tv``.
    material : str
        The category's reporting group (from the catalogue).
    appliance_type : str or None
        For appliances: ``crt``/``lcd``/``plasma``/``oled``/``rear_projection`` (TV),
        ``single_tub``/``twin_tub``/``automatic`` (washing machine), ``desktop``/``laptop``/
        ``tablet`` (computer); see :mod:`recyclenet.actuals.fund`.
    size : float or None
        For appliances: inch (TV), kg dry load (washing machine), litre (refrigerator),
        W cooling (air conditioner).
    gross_kg, tare_kg, net_kg : float or None
        As weighed. ``net_kg`` is derived from gross - tare when not given.
    units : float or None
        Pieces (appliances).
    destination_id : str or None
        Facility the load went to.
    district : str or None
    vehicle_km : float or None
        Vehicle-km the ticket reports (a trip's odometer difference), if any.
    corrects : str or None
        Document id of the record this one replaces (a correction).
    note : str
    """

    document_id: str
    time: datetime
    category: str
    material: str
    station_id: str | None = None
    order_id: str | None = None
    vehicle_id: str | None = None
    appliance_type: str | None = None
    size: float | None = None
    gross_kg: float | None = None
    tare_kg: float | None = None
    net_kg: float | None = None
    units: float | None = None
    destination_id: str | None = None
    district: str | None = None
    vehicle_km: float | None = None
    corrects: str | None = None
    note: str = ""

    def __post_init__(self) -> None:
        what = f"record {self.document_id!r}"
        if not isinstance(self.document_id, str) or not self.document_id.strip():
            raise InputError("record: document_id must be a non-empty string")
        if not isinstance(self.time, datetime):
            raise InputError(f"{what}: time must be a datetime, got {self.time!r}")
        if not (self.station_id or self.order_id):
            raise InputError(f"{what}: give a station_id (station or site) or an order_id")
        for name in _NUMBERS:
            v = getattr(self, name)
            if v is None:
                continue
            if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
                raise InputError(f"{what}: {name}={v!r} must be a finite number")
            if v < 0:
                raise InputError(f"{what}: {name}={v!r} must be >= 0")
        g, t, n = self.gross_kg, self.tare_kg, self.net_kg
        if g is not None and t is not None:
            if t > g:
                raise InputError(f"{what}: tare_kg={t:g} exceeds gross_kg={g:g}; swap them?")
            if n is None:
                object.__setattr__(self, "net_kg", float(g) - float(t))
            elif abs(float(g) - float(t) - float(n)) > NET_TOLERANCE_KG:
                raise InputError(
                    f"{what}: net_kg={n:g} is not gross_kg - tare_kg = {g - t:g}; fix one of "
                    "the three or leave net_kg empty"
                )
        if self.net_kg is None and self.units is None:
            raise InputError(f"{what}: give net_kg (or gross_kg and tare_kg) or units")
        if self.corrects == self.document_id:
            raise InputError(f"{what}: a record cannot correct itself")

    @property
    def kg(self) -> float:
        """Net kg; for units without a weight, units × the catalogue's kg per unit."""
        if self.net_kg is not None:
            return float(self.net_kg)
        return float(self.units or 0.0) * default_catalog()[self.category].kg_per_unit

    @property
    def pieces(self) -> float:
        """Units for piece categories; 1 per record when only a weight is given."""
        if self.units is not None:
            return float(self.units)
        return 1.0 if default_catalog()[self.category].unit == "piece" else 0.0

    @property
    def source_id(self) -> str:
        """The station id, else the order id."""
        return self.station_id or self.order_id or ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (time as ISO 8601 without zone)."""
        doc = asdict(self)
        doc["time"] = self.time.isoformat(timespec="seconds")
        return doc

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any], *, catalog: Catalog | None = None) -> Record:
        """A record from :meth:`to_dict` output or an API body (``material`` optional)."""
        return make_record(dict(doc), catalog=catalog, where=f"record {doc.get('document_id')!r}")


def make_record(
    values: Mapping[str, Any], *, catalog: Catalog | None = None, where: str = "record"
) -> Record:
    """A :class:`Record` from raw field values (strings or typed), validated.

    Raises
    ------
    InputError
        Naming ``where`` and the field, with the fix.
    """
    cat = catalog or default_catalog()
    v = {k: values.get(k) for k in FIELDS}
    text = {k: _text(v[k]) for k in FIELDS if k not in _NUMBERS and k != "time"}
    if not text["document_id"]:
        raise InputError(f"{where}, column document_id: empty; every ticket needs its id")
    raw_cat = text["category"]
    if not raw_cat:
        raise InputError(f"{where}, column category: empty")
    category = category_aliases().get(raw_cat.lower(), raw_cat)
    if category not in cat:
        raise InputError(
            f"{where}, column category: unknown category {raw_cat!r}; use one of "
            f"{', '.join(sorted(cat))} (or a Chinese name in data/record_aliases.csv)"
        )
    nums: dict[str, float | None] = {}
    for name in _NUMBERS:
        try:
            nums[name] = _number(v[name])
        except ValueError:
            raise InputError(f"{where}, column {name}: {v[name]!r} is not a number") from None
    try:
        when = parse_time(v["time"])
    except ValueError as exc:
        raise InputError(f"{where}, column time: {exc}") from None
    try:
        return Record(
            document_id=text["document_id"] or "",
            time=when,
            category=category,
            material=cat[category].material,
            station_id=text["station_id"],
            order_id=text["order_id"],
            vehicle_id=text["vehicle_id"],
            appliance_type=(text["appliance_type"] or "").lower() or None,
            destination_id=text["destination_id"],
            district=text["district"],
            corrects=text["corrects"],
            note=text["note"] or "",
            **nums,
        )
    except InputError as exc:
        raise InputError(f"{where}: {exc}") from None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # Excel stores ids typed as numbers as floats
    s = str(value).strip()
    return s or None


def _number(value: Any) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, int | float):
        return float(value)
    return float(str(value).strip().replace(",", ""))


_ZH_DATE = re.compile(r"^\s*(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日?\s*(.*)$")


def parse_time(value: Any) -> datetime:
    """A local date-time from ISO text, ``2026/3/5 8:30``, ``2026年3月5日 8:30`` or Excel.

    A date without a time is midnight. Raises ValueError saying which forms work.
    """
    if isinstance(value, datetime):
        return value.replace(tzinfo=None) if value.tzinfo else value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    s = _text(value)
    if not s:
        raise ValueError("empty; give the date and time of the ticket")
    m = _ZH_DATE.match(s)
    if m:
        s = f"{m[1]}-{int(m[2]):02d}-{int(m[3]):02d} {m[4].strip()}".strip()
    s = s.replace("/", "-").replace("T", " ")
    parts = s.split()
    if parts:
        ymd = parts[0].split("-")
        if len(ymd) == 3 and all(p.isdigit() for p in ymd):
            parts[0] = f"{int(ymd[0]):04d}-{int(ymd[1]):02d}-{int(ymd[2]):02d}"
        if len(parts) > 1:
            hms = parts[1].split(":")
            if all(p.isdigit() for p in hms) and 1 <= len(hms) <= 3:
                parts[1] = ":".join(f"{int(p):02d}" for p in [*hms, "0", "0"][:3])
    try:
        return datetime.fromisoformat(" ".join(parts[:2]))
    except ValueError:
        raise ValueError(
            f"{value!r} is not a date-time; use 2026-03-05 08:30, 2026/3/5 8:30 or "
            "2026年3月5日 08:30"
        ) from None


# --------------------------------------------------------------------------- aliases


@cache
def _aliases() -> tuple[dict[str, str], dict[str, str]]:
    _, rows = read_table(None, "record_aliases.csv")
    columns: dict[str, str] = {normalise_header(f): f for f in FIELDS}
    categories: dict[str, str] = {}
    for row in rows:
        target = columns if row["kind"] == "column" else categories
        target[normalise_header(row["alias"])] = row["canonical"]
    return columns, categories


def column_aliases() -> dict[str, str]:
    """Normalised header -> record field (``data/record_aliases.csv``)."""
    return _aliases()[0]


def category_aliases() -> dict[str, str]:
    """Category name (lower case) -> catalogue category."""
    return _aliases()[1]


def normalise_header(text: str) -> str:
    """A header as matched: :func:`recyclenet.readers.normalise_name` (lower case, no
    spaces, ``_``, ``-``, BOM or bracketed unit: ``"毛重（公斤）"`` -> ``"毛重"``)."""
    from ..readers import normalise_name

    return normalise_name(text)


# --------------------------------------------------------------------------- files


def _rows(path: Path) -> tuple[list[str], list[list[Any]], int]:
    """Header, data rows and the row number of the first data row, through the one
    user-table reader's row readers (:mod:`recyclenet.readers`: encoding detection,
    separator sniffing, ``book.xlsx:Sheet``)."""
    from ..readers import read_sheet_rows

    file, rows = read_sheet_rows(path, "records")
    if not rows:
        raise InputError(f"{file}: empty; expected a header row and one row per ticket")
    # sheets often carry a title row (``2023年3月磅单``) above the header: the header is the
    # first of the first rows that names the required columns
    aliases = column_aliases()
    at = 0
    for i, row in enumerate(rows[:_HEADER_SCAN_ROWS]):
        named = {aliases.get(normalise_header(c)) for c in row if c not in (None, "")}
        if {"document_id", "time", "category"} <= named:
            at = i
            break
    return ["" if c is None else str(c) for c in rows[at]], rows[at + 1 :], at + 2


def read_records(path: str | Path, *, catalog: Catalog | None = None) -> list[Record]:
    """Records from a CSV (UTF-8 or GBK) or ``.xlsx`` file.

    Raises
    ------
    InputError
        Unknown or duplicate columns, missing required columns, or a bad value: the
        message names the file, the row (header = row 1) and the column.
    """
    p = Path(path)
    header, rows, first = _rows(p)
    fields = _map_header(header, str(p))
    out = []
    for n, row in enumerate(rows, start=first):
        values = {f: row[i] if i < len(row) else None for i, f in fields.items()}
        out.append(make_record(values, catalog=catalog, where=f"{p} row {n}"))
    return out


def _map_header(header: Sequence[str], where: str) -> dict[int, str]:
    aliases = column_aliases()
    fields: dict[int, str] = {}
    unknown = []
    for i, h in enumerate(header):
        key = normalise_header(h)
        if not key:
            continue
        f = aliases.get(key)
        if f is None:
            unknown.append(str(h))
            continue
        if f in fields.values():
            first = header[next(j for j, g in fields.items() if g == f)]
            raise InputError(f"{where}: columns {first!r} and {h!r} both mean {f}; keep one")
        fields[i] = f
    if unknown:
        raise InputError(
            f"{where}: unknown column(s) {', '.join(map(repr, unknown))}; known: "
            f"{', '.join(FIELDS)} (Chinese headers in data/record_aliases.csv)"
        )
    missing = [f for f in ("document_id", "time", "category") if f not in fields.values()]
    if missing:
        raise InputError(f"{where}: missing column(s) {', '.join(missing)}")
    return fields


def records_to_csv(records: Iterable[Record]) -> str:
    """Records as CSV text (UTF-8, the :data:`FIELDS` columns)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(FIELDS)
    for r in records:
        d = r.to_dict()
        w.writerow(["" if d[f] is None else d[f] for f in FIELDS])
    return buf.getvalue()


# --------------------------------------------------------------------------- the book


class DocumentConflictError(InputError):
    """A document id already recorded with other values (send a correction instead)."""


@dataclass(frozen=True)
class AddResult:
    """What :meth:`RecordBook.add` did: document ids added and already present."""

    added: tuple[str, ...]
    duplicates: tuple[str, ...]


@dataclass
class RecordBook:
    """Records by document id, in the order they were added; never altered, only added to.

    Adding a record whose document id is known and whose content is the same does
    nothing (a file loaded twice counts once); different content under a known id is an
    error: send a correction record (``corrects`` = the id) instead. :meth:`effective`
    gives the records that count, each original replaced by its latest correction.
    """

    records: dict[str, Record] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.records)

    def __iter__(self) -> Iterator[Record]:
        return iter(self.records.values())

    def check(self, new: Iterable[Record]) -> AddResult:
        """What :meth:`add` would do, or the :class:`InputError` it would raise."""
        added: list[str] = []
        dup: list[str] = []
        seen: dict[str, Record] = {}
        for r in new:
            known = self.records.get(r.document_id) or seen.get(r.document_id)
            if known is not None:
                if known != r:
                    raise DocumentConflictError(
                        f"document {r.document_id!r} is already recorded with other values "
                        f"({_diff(known, r)}); stored records are never changed: send a "
                        f"correction record with corrects={r.document_id!r} and a new "
                        "document id"
                    )
                dup.append(r.document_id)
                continue
            if r.corrects is not None and not (r.corrects in self.records or r.corrects in seen):
                raise InputError(
                    f"correction {r.document_id!r}: corrects={r.corrects!r}, which is not a "
                    "recorded document id; load the original first"
                )
            seen[r.document_id] = r
            added.append(r.document_id)
        return AddResult(tuple(added), tuple(dup))

    def add(self, new: Iterable[Record]) -> AddResult:
        """Add records (all or none: a bad record leaves the book unchanged)."""
        batch = list(new)
        result = self.check(batch)
        wanted = set(result.added)
        for r in batch:
            if r.document_id in wanted and r.document_id not in self.records:
                self.records[r.document_id] = r
        return result

    def effective(self) -> list[Record]:
        """Records that count: originals replaced by their last correction, by time.

        A correction takes the place of the record it corrects (and of everything that
        one corrected); the originals stay in the book.
        """
        replaced: set[str] = {r.corrects for r in self.records.values() if r.corrects}
        out = [r for r in self.records.values() if r.document_id not in replaced]
        return sorted(out, key=lambda r: (r.time, r.document_id))

    def corrections_of(self, document_id: str) -> list[Record]:
        """The chain of corrections of a document, oldest first."""
        chain: list[Record] = []
        current = document_id
        while True:
            nxt = next((r for r in self.records.values() if r.corrects == current), None)
            if nxt is None:
                return chain
            chain.append(nxt)
            current = nxt.document_id

    # ------------------------------------------------------------------ a JSON-lines file
    @classmethod
    def load(cls, path: str | Path) -> RecordBook:
        """A book from a JSON-lines file written by :meth:`append_to` (missing: empty)."""
        p = Path(path)
        book = cls()
        if not p.exists():
            return book
        try:
            lines = p.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot read records store {p}: {exc}") from None
        batch = []
        for n, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                doc = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"{p} line {n}: not JSON ({exc})") from None
            try:
                batch.append(Record.from_dict(doc))
            except InputError as exc:
                raise InputError(f"{p} line {n}: {exc}") from None
        book.add(batch)
        return book

    def append_to(self, path: str | Path, new: Iterable[Record]) -> AddResult:
        """Add records and append the new ones to a JSON-lines store (lines never rewritten)."""
        batch = list(new)
        result = self.add(batch)
        if result.added:
            p = Path(path)
            p.parent.mkdir(parents=True, exist_ok=True)
            with p.open("a", encoding="utf-8") as f:
                for doc_id in result.added:
                    f.write(json.dumps(self.records[doc_id].to_dict(), ensure_ascii=False))
                    f.write("\n")
        return result


def _diff(a: Record, b: Record) -> str:
    da, db = a.to_dict(), b.to_dict()
    keys = [k for k in da if da[k] != db[k]]
    return ", ".join(f"{k}: {da[k]!r} -> {db[k]!r}" for k in keys[:4])


def in_period(
    records: Iterable[Record], start: datetime | None, end: datetime | None
) -> list[Record]:
    """Records with ``start <= time < end`` (either bound may be None)."""
    return [r for r in records
            if (start is None or r.time >= start) and (end is None or r.time < end)]  # fmt: skip


__all__ = [
    "FIELDS",
    "AddResult",
    "DocumentConflictError",
    "Record",
    "RecordBook",
    "column_aliases",
    "in_period",
    "make_record",
    "normalise_header",
    "parse_time",
    "read_records",
    "records_to_csv",
]
