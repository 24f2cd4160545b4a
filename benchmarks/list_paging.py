"""Paging a long plan list: by offset against by cursor (keyset), on SQLite and PostgreSQL.

Usage::

    python benchmarks/list_paging.py [--plans 20000] [--limit 100] \
        [--database sqlite|postgresql] [--pg-admin-url postgresql://postgres@127.0.0.1/postgres]

Makes a new database (a temporary SQLite file, or ``recyclenet_bench_paging_<pid>`` on the
server of ``--pg-admin-url``, dropped at the end) with ``--plans`` plans of one tenant
(and as many of another, so the tenant filter has work to do), then times
:meth:`recyclenet_api.store.Store.list_plans` as ``GET /plans`` calls it:

* the first page, the last page by ``offset`` and the last page by cursor;
* a walk through every page by ``offset`` and by cursor, checking that both see every
  plan exactly once.

Each single-page time is the median of 7 reads. Prints a table and one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "api"))

from recyclenet_api.store import Page, Plan, PlanFilter, PlanSummary, Position, Store, new_id


def _median_ms(fn: Callable[[], Any], n: int = 7) -> float:
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def _fill(store: Store, n: int) -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    rows = [{"id": new_id(), "tenant": tenant, "kind": "matrix", "data": {},
             "created_at": start + timedelta(seconds=i)}
            for i in range(n) for tenant in ("bench-a", "bench-b")]  # fmt: skip
    with store.engine.begin() as conn:
        for i in range(0, len(rows), 5000):
            conn.execute(Plan.__table__.insert(), rows[i : i + 5000])


def _walk(read: Callable[[Page[PlanSummary] | None], Page[PlanSummary]]) -> tuple[int, float]:
    t0 = time.perf_counter()
    seen: list[str] = []
    page = read(None)
    while True:
        seen += [p.id for p in page.items]
        if page.offset + len(page.items) >= page.total:
            break
        page = read(page)
    assert len(seen) == len(set(seen)) == page.total, "a walk saw a plan twice or missed one"
    return len(seen), time.perf_counter() - t0


def run(url: str, n: int, limit: int) -> dict[str, Any]:
    store = Store(url)
    store.upgrade()
    _fill(store, n)
    where = PlanFilter()
    last = store.list_plans("bench-a", where, limit=1, offset=n - limit - 1).items[0]
    at = Position(last.created_at, last.id)
    out: dict[str, Any] = {
        "database": store.engine.dialect.name,
        "plans": n,
        "limit": limit,
        "first_page_ms": _median_ms(lambda: store.list_plans("bench-a", where, limit=limit)),
        "last_page_offset_ms": _median_ms(
            lambda: store.list_plans("bench-a", where, limit=limit, offset=n - limit)
        ),
        "last_page_cursor_ms": _median_ms(
            lambda: store.list_plans("bench-a", where, limit=limit, at=at)
        ),
    }

    def after_offset(p: Page[PlanSummary] | None) -> Page[PlanSummary]:
        start = 0 if p is None else p.offset + len(p.items)
        return store.list_plans("bench-a", where, limit=limit, offset=start)

    def after_cursor(p: Page[PlanSummary] | None) -> Page[PlanSummary]:
        at = None if p is None else Position(p.items[-1].created_at, p.items[-1].id)
        return store.list_plans("bench-a", where, limit=limit, at=at)

    by_offset, by_cursor = _walk(after_offset), _walk(after_cursor)
    out["walk_offset_s"], out["walk_cursor_s"] = by_offset[1], by_cursor[1]
    store.dispose()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--plans", type=int, default=20_000)
    ap.add_argument("--limit", type=int, default=100)
    ap.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    ap.add_argument("--pg-admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = ap.parse_args()
    if args.database == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            result = run(f"sqlite:///{tmp}/bench.db", args.plans, args.limit)
    else:
        import psycopg

        name = f"recyclenet_bench_paging_{os.getpid()}"
        admin = psycopg.connect(args.pg_admin_url, autocommit=True)
        admin.execute(f"CREATE DATABASE {name}")
        try:
            base = args.pg_admin_url.rsplit("/", 1)[0].replace("postgresql://",
                                                               "postgresql+psycopg://")  # fmt: skip
            result = run(f"{base}/{name}", args.plans, args.limit)
        finally:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            admin.close()
    print(f"{'database':<12}{'plans':>8}{'first ms':>10}{'last by offset ms':>19}"
          f"{'last by cursor ms':>19}{'walk offset s':>15}{'walk cursor s':>15}")  # fmt: skip
    r = result
    print(f"{r['database']:<12}{r['plans']:>8}{r['first_page_ms']:>10.2f}"
          f"{r['last_page_offset_ms']:>19.2f}{r['last_page_cursor_ms']:>19.2f}"
          f"{r['walk_offset_s']:>15.2f}{r['walk_cursor_s']:>15.2f}")  # fmt: skip
    print(json.dumps(result))


if __name__ == "__main__":
    main()
