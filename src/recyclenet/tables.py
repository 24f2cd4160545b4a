"""CSV tables: the packaged defaults in ``data/`` and user files of the same shape.

Lines starting with ``#`` are comments (each packaged table states its sources there);
blank lines are skipped; keys and values are stripped.
"""

from __future__ import annotations

import csv
from importlib import resources
from pathlib import Path

from .errors import InputError


def read_table(path: str | Path | None, default: str) -> tuple[str, list[dict[str, str]]]:
    """Rows of a CSV table and a label for messages.

    Parameters
    ----------
    path : path or None
        A user file; None reads the packaged ``data/<default>``.
    default : str
        File name of the packaged table.

    Raises
    ------
    InputError
        The user file cannot be read.
    """
    if path is None:
        text = resources.files("recyclenet").joinpath(f"data/{default}").read_text("utf-8")
        label = f"data/{default}"
    else:
        try:
            text = Path(path).read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot read {path}: {exc}") from None
        label = str(path)
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    rows = [
        {k.strip(): (v or "").strip() for k, v in row.items() if k} for row in csv.DictReader(lines)
    ]
    return label, rows
