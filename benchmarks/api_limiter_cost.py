"""CPU cost of the shared rate limiter per request, in process, against a baseline without it.

Usage::

    python benchmarks/api_limiter_cost.py [--database sqlite|postgresql] [--requests 2000]
        [--concurrency 50] [--rounds 3]
        [--pg-admin-url postgresql://postgres@127.0.0.1:5432/postgres]

Builds the app on a temporary database (SQLite, or a new PostgreSQL database dropped at the
end), stores one siting plan with a 50-point stations layer, and sends cached
``GET /plans/{id}/stations.geojson`` requests straight to the ASGI app (no sockets, no HTTP
parsing) from ``--concurrency`` coroutines on the app's event loop. Each round runs the
same requests twice: the **baseline** with the limiter's check replaced by one that allows
everything at once, and **limiter** with the real one (counted in the database). Prints the
CPU milliseconds of this process per request (every thread: event loop, counting thread,
thread pool) and the wall milliseconds per request, and the limiter's cost per request
against the baseline of the same round. CPU time is measured, so other load on the
machine changes it less than latency; run it on a quiet machine all the same.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from recyclenet_api.app import create_app
from recyclenet_api.limits import Verdict
from recyclenet_api.settings import Settings
from recyclenet_api.store import Plan

KEY = "bench-key-0123456789"


async def _allow(*_args: Any) -> Verdict:
    return Verdict("ok")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--pg-admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from api_load import PgDatabase

    pg = PgDatabase(args.pg_admin_url) if args.database == "postgresql" else None
    try:
        run(args, pg.url if pg else None)
    finally:
        if pg:
            pg.drop()
    return 0


def run(args: argparse.Namespace, database_url: str | None) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="recyclenet-limiter-"))
    settings = Settings(data_dir=tmp / "var", database_url=database_url,
                        api_keys={KEY: "bench"}, rate_limit_requests=10**9)  # fmt: skip
    app = create_app(settings)
    features = [{"type": "Feature", "id": f"s{i}", "properties": {"site_id": f"s{i}"},
                 "geometry": {"type": "Point", "coordinates": [24.94 + i * 1e-4, 60.17]}}
                for i in range(50)]  # fmt: skip
    layers = {"stations": {"type": "FeatureCollection", "features": features}}
    path = "/plans/p1/stations.geojson"
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": "GET", "scheme": "http", "path": path, "raw_path": path.encode(),
             "query_string": b"", "root_path": "", "server": ("127.0.0.1", 80),
             "headers": [(b"host", b"bench"), (b"x-api-key", KEY.encode())],
             "client": ("127.0.0.1", 40000)}  # fmt: skip

    async def one() -> None:
        status: list[int] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])

        await app(dict(scope, state={}), receive, send)
        if status != [200]:
            raise RuntimeError(f"GET {path} answered {status}")

    async def many(n: int, concurrency: int) -> None:
        async def client(k: int) -> None:
            for _ in range(k):
                await one()

        await asyncio.gather(*(client(n // concurrency) for _ in range(concurrency)))

    with TestClient(app) as tc:  # runs the lifespan (migrations); its portal runs the loop
        with app.state.ctx.store._session.begin() as s:
            s.add(Plan(id="p1", tenant="bench", kind="siting",
                       data={"plan": {}, "layers": layers, "indicators": {}}))  # fmt: skip
        tc.portal.call(many, args.concurrency, args.concurrency)  # warm: the layer is cached
        limiter = app.state.ctx.limiter
        real = limiter.check
        n = args.requests - args.requests % args.concurrency
        print(f"{n} cached GeoJSON reads a run, {args.concurrency} at a time, "
              f"{args.database}, {os.cpu_count()} cores")  # fmt: skip
        head = (f"{'round':<7}{'run':<10}{'CPU ms/req':>12}{'wall ms/req':>13}"
                f"{'limiter CPU ms/req':>20}")  # fmt: skip
        print(head)
        print("-" * len(head))
        for rnd in range(1, args.rounds + 1):
            cpu: dict[str, float] = {}
            for label, check in (("baseline", _allow), ("limiter", real)):
                limiter.check = check
                c0, w0 = time.process_time(), time.perf_counter()
                tc.portal.call(many, n, args.concurrency)
                cpu[label] = 1e3 * (time.process_time() - c0) / n
                wall = 1e3 * (time.perf_counter() - w0) / n
                extra = f"{cpu['limiter'] - cpu['baseline']:>20.3f}" if label == "limiter" else ""
                print(f"{rnd:<7}{label:<10}{cpu[label]:>12.3f}{wall:>13.3f}{extra}")
        limiter.check = real


if __name__ == "__main__":
    sys.exit(main())
