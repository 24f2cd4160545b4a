"""Load on the HTTP service: bounded concurrent clients on loopback against real uvicorn.

Usage::

    python benchmarks/api_load.py [--clients 50] [--duration-s 30] [--workers 1] \
        [--think-s 0.1] [--jobs-per-s 0.5] [--drain-s 180] [--solves N] \
        [--database sqlite|postgresql] [--pg-admin-url postgresql://postgres@127.0.0.1/postgres] \
        [--client-nice 0]

Starts ``uvicorn recyclenet_api.app:create_app --factory`` as a subprocess on a free
127.0.0.1 port with a temporary data directory and database: SQLite in WAL mode, or with
``--database postgresql`` a new database ``recyclenet_bench_<pid>`` on the server of
``--pg-admin-url`` (dropped at the end). Every request passes the rate limiter, which
counts it in that database (the limit is set too high to refuse any). It registers the
embedded Helsinki sample and stores one routing plan and one siting plan (the OpenAPI
examples). It first reads every GeoJSON layer once (the uncached first reads), then runs
the same request mix twice:

* **baseline**: 1 client, no job submissions;
* **load**: ``--clients`` clients, plus small jobs (a 3-point matrix, a 2-order route with
  a 1 s time limit) submitted at ``--jobs-per-s`` in total.

Each client has its own keep-alive connection and is a closed loop: request, read the whole body,
pause a random 0 to 2 x ``--think-s`` seconds (default 0.1: a client makes at most about
10 requests a second; 0: the next request at once, which measures the server at
saturation rather than latency), repeat. The mix: plan GeoJSON
layers (routes, stops, stations, assignments, coverage), road pages
(``roads.geojson?bbox=...&limit=200`` of random 500 m boxes), the plan JSON and
``/healthz``. After the load phase every submitted job is polled until it is ``done`` or
``failed`` (at most ``--drain-s``); a job that never gets there, or is done without a
readable plan, is **lost**.

Prints, per request kind: count, errors (non-2xx or transport errors), p50 and p99
latency in ms, and the p99 against the 1-client baseline of the same kind and against
``/healthz`` under the same load. The goal of issue #5: 50 clients, p99 at most 100 ms on
GeoJSON reads, zero errors, zero lost jobs. Client and server share the machine, so run
it on a quiet one. The load generator is one Python process on uvloop whose clients write
prebuilt HTTP/1.1 requests and parse the answers with httptools (the parser uvicorn uses),
so it takes little of the CPU the server needs; its CPU time and that of the API process
are printed per request. Jobs run in the server's child processes at
``RECYCLENET_JOB_NICE`` (default 10; set it to 0 to compare).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import copy
import gc
import json
import os
import random
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httptools
import httpx
import numpy as np

from recyclenet_api.schemas import ROUTING_EXAMPLE, SITING_EXAMPLE_INLINE

KEY = "bench-key-0123456789"
HEADERS = {"X-API-Key": KEY}
GEOJSON_KINDS = ("routes", "stops", "stations", "assignments", "coverage", "roads")
BBOX = (24.925, 60.160, 24.960, 60.180)  # inside the Helsinki sample, W,S,E,N
BOX_DEG = (0.009, 0.0045)  # about 500 m x 500 m at 60° N


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """uvicorn in a subprocess on a temporary data directory."""

    def __init__(self, workers: int, solves: int | None, pg_admin_url: str | None) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="recyclenet-load-"))
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "RECYCLENET_DATA_DIR": str(self.tmp / "var"),
               "RECYCLENET_API_KEYS": f"{KEY}:bench",
               "RECYCLENET_RATE_LIMIT_REQUESTS": str(10**9)}  # fmt: skip
        self.pg = PgDatabase(pg_admin_url) if pg_admin_url else None
        if self.pg:
            env["RECYCLENET_DATABASE_URL"] = self.pg.url
        if solves:
            env["RECYCLENET_MAX_CONCURRENT_SOLVES"] = str(solves)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "recyclenet_api.app:create_app", "--factory",
             "--host", "127.0.0.1", "--port", str(self.port), "--workers", str(workers),
             "--log-level", "warning", "--no-access-log"],
            cwd=self.tmp, env=env, start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.stop()
                raise RuntimeError(f"the server exited with code {self.proc.returncode}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.url + "/readyz", timeout=2).status_code == 200:
                    return
            time.sleep(0.2)
        self.stop()
        raise RuntimeError("the server did not get ready within 120 s")

    def api_pids(self) -> list[int]:
        """The uvicorn process and its worker processes (not the job processes)."""
        pids = [self.proc.pid]
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError, ValueError, IndexError):
                fields = stat.read_text().rsplit(")", 1)[1].split()
                cmd = (stat.parent / "cmdline").read_bytes()
                if int(fields[1]) == self.proc.pid and b"forkserver" not in cmd:
                    pids.append(int(stat.parent.name))
        return pids

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        shutil.rmtree(self.tmp, ignore_errors=True)
        if self.pg:
            self.pg.drop()


class PgDatabase:
    """A new PostgreSQL database on the server of ``admin_url`` (libpq URL), dropped later."""

    def __init__(self, admin_url: str) -> None:
        import psycopg

        self.admin_url = admin_url
        self.name = f"recyclenet_bench_{os.getpid()}"
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {self.name}")
            conn.execute(f"CREATE DATABASE {self.name} ENCODING 'UTF8' TEMPLATE template0")
        base = admin_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
        self.url = f"{base}/{self.name}"

    def drop(self) -> None:
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)")


def cpu_s(pids: list[int]) -> float:
    """User + system CPU seconds of processes (Linux /proc; 0 where unreadable)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def own_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# ---------------------------------------------------------------------- setup
def _post_wait(client: httpx.Client, path: str, body: dict[str, Any]) -> dict[str, Any]:
    r = client.post(path + "?wait=120", json=body, headers=HEADERS, timeout=180)
    job = r.json()
    if r.status_code != 200 or job.get("status") != "done":
        raise RuntimeError(f"setup {path} did not finish: {r.status_code} {r.text[:300]}")
    return job


def setup(url: str) -> dict[str, Any]:
    """Register the sample, store one routing and one siting plan; time the first reads."""
    with httpx.Client(base_url=url) as client:
        r = client.post("/networks", json={"sample": "helsinki"}, headers=HEADERS, timeout=300)
        r.raise_for_status()
        nid = r.json()["id"]
        body = {**copy.deepcopy(ROUTING_EXAMPLE), "network_id": nid, "time_limit_s": 2}
        routing = _post_wait(client, "/routing", body)
        body = {**copy.deepcopy(SITING_EXAMPLE_INLINE), "network_id": nid}
        siting = _post_wait(client, "/siting", body)
        urls = {
            "routes": f"/plans/{routing['plan_id']}/routes.geojson",
            "stops": f"/plans/{routing['plan_id']}/stops.geojson",
            "stations": f"/plans/{siting['plan_id']}/stations.geojson",
            "assignments": f"/plans/{siting['plan_id']}/assignments.geojson",
            "coverage": f"/plans/{siting['plan_id']}/coverage.geojson",
            "plan": f"/plans/{routing['plan_id']}",
        }
        first: dict[str, tuple[float, float, int]] = {}
        for kind in ("routes", "stops", "stations", "assignments", "coverage"):
            t0 = time.perf_counter()
            cold = client.get(urls[kind], headers=HEADERS)
            t1 = time.perf_counter()
            warm = client.get(urls[kind], headers=HEADERS)
            t2 = time.perf_counter()
            cold.raise_for_status()
            warm.raise_for_status()
            first[kind] = ((t1 - t0) * 1e3, (t2 - t1) * 1e3, len(cold.content))
    return {"network_id": nid, "urls": urls, "first": first}


def job_bodies(nid: str) -> list[tuple[str, str, dict[str, Any]]]:
    """Small jobs: a 3-point matrix and a 2-order route (1 tricycle, 1 s time limit)."""
    ex = ROUTING_EXAMPLE
    orders = [f for f in ex["orders"]["features"] if f["id"] in ("o001", "o006")]
    tricycle = {**ex["fleet"][0], "count": 1}
    route = {"network_id": nid, "orders": {"type": "FeatureCollection", "features": orders},
             "depots": ex["depots"], "fleet": [tricycle], "engine": "ortools",
             "time_limit_s": 1}  # fmt: skip
    points = [{"id": f["id"], "lon": f["geometry"]["coordinates"][0],
               "lat": f["geometry"]["coordinates"][1]}
              for f in ex["orders"]["features"][:3]]  # fmt: skip
    matrix = {"network_id": nid, "origins": points, "time_limit_s": 30}
    return [("submit matrix", "/matrix", matrix), ("submit routing", "/routing", route)]


# ---------------------------------------------------------------------- load
@dataclass
class Stats:
    latency_ms: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    jobs: list[tuple[str, float]] = field(default_factory=list)  # (job id, submitted at)
    wall_s: float = 0.0
    client_cpu_s: float = 0.0
    server_cpu_s: float = 0.0


class HttpConnection(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection to the server, one request at a time.

    The load generator shares the machine's cores with the server, so it is kept lean: a
    request is one prebuilt byte string written to the socket and the response is parsed
    by httptools (the C parser uvicorn itself uses) in this protocol's callbacks, with no
    per-request client objects. A connection the server closed is opened again for the
    next request (the failed request counts as an error).
    """

    def __init__(self, host: str, port: int, timeout_s: float) -> None:
        self.host, self.port, self.timeout_s = host, port, timeout_s
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.waiter: asyncio.Future[tuple[int, bytes]] | None = None
        self.status = 0
        self.chunks: list[bytes] = []
        self.head = f"Host: {host}:{port}\r\nX-API-Key: {KEY}\r\n".encode()

    async def connect(self) -> None:
        loop = asyncio.get_running_loop()
        self.parser = httptools.HttpResponseParser(self)
        await loop.create_connection(lambda: self, self.host, self.port)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    async def request(self, method: str, target: str, body: bytes = b"") -> tuple[int, bytes]:
        """``(status, whole body)``; raises ``ConnectionError`` or ``TimeoutError``."""
        if self.transport is None or self.transport.is_closing():
            await self.connect()
        assert self.transport is not None
        loop = asyncio.get_running_loop()
        self.waiter = waiter = loop.create_future()
        extra = (b"Content-Type: application/json\r\nContent-Length: %d\r\n" % len(body)
                 if body else b"")  # fmt: skip
        self.transport.write(b"%s %s HTTP/1.1\r\n%s%s\r\n%s" % (
            method.encode(), target.encode(), self.head, extra, body))  # fmt: skip
        timer = loop.call_later(self.timeout_s, self._fail, TimeoutError(target))
        try:
            return await waiter
        finally:
            timer.cancel()

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(ConnectionError(f"unparsable response: {exc}"))

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        self._fail(ConnectionError("the server closed the connection"))

    def _fail(self, exc: BaseException) -> None:
        waiter, self.waiter = self.waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)
            self.close()  # a late response must not answer the next request

    # httptools callbacks
    def on_message_begin(self) -> None:
        self.chunks = []

    def on_headers_complete(self) -> None:
        self.status = self.parser.get_status_code()

    def on_body(self, body: bytes) -> None:
        self.chunks.append(body)

    def on_message_complete(self) -> None:
        waiter, self.waiter = self.waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result((self.status, b"".join(self.chunks)))


async def _request(conn: HttpConnection, stats: Stats, kind: str, method: str, target: str,
                   ok: tuple[int, ...], body: bytes = b"") -> tuple[int, bytes] | None:  # fmt: skip
    t0 = time.perf_counter()
    try:
        status, content = await conn.request(method, target, body)
    except (ConnectionError, TimeoutError) as exc:
        stats.latency_ms[kind].append((time.perf_counter() - t0) * 1e3)
        stats.errors[kind].append(type(exc).__name__)
        return None
    stats.latency_ms[kind].append((time.perf_counter() - t0) * 1e3)
    if status not in ok:
        stats.errors[kind].append(str(status))
    return status, content


async def run_phase(server: Server, ctx: dict[str, Any], *, clients: int, duration_s: float,
                    think_s: float, jobs_per_s: float, seed: int) -> Stats:  # fmt: skip
    stats = Stats()
    api_pids = server.api_pids()
    rng = random.Random(seed)
    urls = ctx["urls"]
    jobs = [(label, path, json.dumps(body).encode())
            for label, path, body in job_bodies(ctx["network_id"])]  # fmt: skip
    roads = f"/networks/{ctx['network_id']}/roads.geojson"
    mix = [("routes", 3), ("stops", 3), ("stations", 2), ("assignments", 2), ("coverage", 2),
           ("roads", 3), ("plan", 1), ("healthz", 1)]  # fmt: skip
    kinds = [k for k, w in mix for _ in range(w)]
    end = float("inf")  # set once every client's connection exists
    next_job = [end, 0]

    async def one_client(conn: HttpConnection) -> None:
        while time.monotonic() < end:
            now = time.monotonic()
            if now >= next_job[0]:  # whichever client sees it due submits it (one loop)
                next_job[0] += 1.0 / jobs_per_s
                label, path, body = jobs[int(next_job[1]) % len(jobs)]
                next_job[1] += 1
                r = await _request(conn, stats, label, "POST", path, (200, 202), body)
                if r is not None and r[0] in (200, 202):
                    stats.jobs.append((json.loads(r[1])["id"], now))
            else:
                kind = rng.choice(kinds)
                if kind == "healthz":
                    await _request(conn, stats, kind, "GET", "/healthz", (200,))
                elif kind == "roads":
                    w = rng.uniform(BBOX[0], BBOX[2] - BOX_DEG[0])
                    s = rng.uniform(BBOX[1], BBOX[3] - BOX_DEG[1])
                    bbox = f"{w:.5f},{s:.5f},{w + BOX_DEG[0]:.5f},{s + BOX_DEG[1]:.5f}"
                    await _request(conn, stats, kind, "GET", f"{roads}?bbox={bbox}&limit=200",
                                   (200,))  # fmt: skip
                else:
                    await _request(conn, stats, kind, "GET", urls[kind], (200,))
            if think_s > 0:
                await asyncio.sleep(rng.uniform(0, 2 * think_s))

    host, port = "127.0.0.1", server.port
    pool = [HttpConnection(host, port, timeout_s=30.0) for _ in range(clients)]  # one each
    try:
        for conn in pool:
            await conn.connect()
        gc.collect()
        gc.freeze()  # the setup's objects: this process's collections stay short
        start = time.monotonic()  # the phase starts now, not before the clients were made
        end = start + duration_s
        next_job[0] = start + (1.0 / jobs_per_s if jobs_per_s > 0 else float("inf"))
        t0, c0, s0 = time.perf_counter(), own_cpu_s(), cpu_s(api_pids)
        await asyncio.gather(*(one_client(conn) for conn in pool))
        stats.wall_s = time.perf_counter() - t0
        stats.client_cpu_s = own_cpu_s() - c0
        stats.server_cpu_s = cpu_s(api_pids) - s0
    finally:
        for conn in pool:
            conn.close()
    return stats


async def drain_jobs(url: str, jobs: list[tuple[str, float]], drain_s: float) -> dict[str, Any]:
    """Poll every submitted job until done or failed; check each done job's plan."""
    pending = {job_id for job_id, _ in jobs}
    submitted = dict(jobs)
    status: dict[str, str] = {}
    turnaround: list[float] = []
    missing_plan: list[str] = []
    failures: dict[str, str] = {}
    deadline = time.monotonic() + drain_s
    async with httpx.AsyncClient(base_url=url, headers=HEADERS, timeout=30.0) as client:
        while pending and time.monotonic() < deadline:
            for job_id in sorted(pending):
                r = await client.get(f"/jobs/{job_id}")
                if r.status_code != 200:
                    continue
                job = r.json()
                if job["status"] in ("done", "failed", "cancelled"):
                    pending.discard(job_id)
                    status[job_id] = job["status"]
                    turnaround.append(time.monotonic() - submitted[job_id])
                    if job["status"] == "done":
                        plan = await client.get(f"/plans/{job['plan_id']}")
                        if plan.status_code != 200:
                            missing_plan.append(job_id)
                    else:
                        failures[job_id] = str((job.get("error") or {}).get("detail", ""))[:120]
            if pending:
                await asyncio.sleep(0.5)
    return {
        "submitted": len(jobs),
        "done": sum(s == "done" for s in status.values()),
        "failed": sum(s != "done" for s in status.values()),
        "never_finished": sorted(pending),
        "missing_plan": missing_plan,
        "failures": failures,
        "turnaround_s": turnaround,
    }


def run_loop(coro: Any) -> Any:
    """``asyncio.run(coro)`` on uvloop (the loop uvicorn runs on) when it is installed."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coro)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(coro)


# ---------------------------------------------------------------------- report
def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def report(base: Stats, load: Stats, jobs: dict[str, Any], args: argparse.Namespace,
           first: dict[str, tuple[float, float, int]]) -> bool:  # fmt: skip
    print("\nfirst read of each plan layer (serialized once, then served from the cache):")
    print(f"  {'layer':<12}{'bytes':>10}{'1st ms':>9}{'2nd ms':>9}")
    for kind, (cold, warm, size) in first.items():
        print(f"  {kind:<12}{size:>10}{cold:>9.1f}{warm:>9.1f}")

    def rows(stats: Stats) -> dict[str, list[float]]:
        out = dict(stats.latency_ms)
        out["geojson (all)"] = [x for k in GEOJSON_KINDS for x in stats.latency_ms.get(k, [])]
        return out

    b, lo = rows(base), rows(load)
    health_p99 = pct(lo.get("healthz", []), 99)
    n_base = sum(len(v) for v in base.latency_ms.values())
    n_load = sum(len(v) for v in load.latency_ms.values())
    print(f"\nbaseline: 1 client, {base.wall_s:.1f} s, {n_base / base.wall_s:.0f} req/s;  "
          f"load: {args.clients} clients, {load.wall_s:.1f} s, {n_load / load.wall_s:.0f} req/s, "
          f"think {args.think_s:g} s, uvicorn workers {args.workers}, "
          f"database {args.database}")  # fmt: skip
    for label, st, n in (("baseline", base, n_base), ("load", load, n_load)):
        print(f"  {label}: CPU of the API process(es) {st.server_cpu_s:.1f} s "
              f"({1e3 * st.server_cpu_s / max(n, 1):.2f} ms a request), of this load "
              f"generator {st.client_cpu_s:.1f} s ({1e3 * st.client_cpu_s / max(n, 1):.2f} ms a "
              f"request), on {os.cpu_count()} cores")  # fmt: skip
    head = (f"{'kind':<16}{'count':>7}{'err':>5}{'p50 ms':>9}{'p99 ms':>9}"
            f"{'1-client p99':>14}{'p99 / 1-client':>16}{'p99 / healthz':>15}")  # fmt: skip
    print(head)
    print("-" * len(head))
    order = [*GEOJSON_KINDS, "geojson (all)", "plan", "healthz", "submit matrix",
             "submit routing"]  # fmt: skip
    for kind in order:
        vals = lo.get(kind, [])
        if not vals:
            continue
        errs = len(load.errors.get(kind, []))
        p99 = pct(vals, 99)
        p99_b = pct(b.get(kind, []), 99)
        ratio_b = p99 / p99_b if b.get(kind) else float("nan")
        print(f"{kind:<16}{len(vals):>7}{errs:>5}{pct(vals, 50):>9.1f}{p99:>9.1f}"
              f"{p99_b:>14.1f}{ratio_b:>16.2f}{p99 / health_p99:>15.2f}")  # fmt: skip
    t = jobs["turnaround_s"]
    print(f"\njobs: {jobs['submitted']} submitted, {jobs['done']} done, {jobs['failed']} "
          f"failed, {len(jobs['never_finished'])} never finished within {args.drain_s:g} s, "
          f"{len(jobs['missing_plan'])} done without a plan; submit -> finished "
          f"p50 {pct(t, 50):.1f} s, p99 {pct(t, 99):.1f} s")  # fmt: skip
    for job_id, detail in list(jobs["failures"].items())[:5]:
        print(f"  failed {job_id}: {detail}")
    errors = {k: v for k, v in load.errors.items() if v}
    errors_b = {k: v for k, v in base.errors.items() if v}
    for label, errs in (("baseline", errors_b), ("load", errors)):
        for kind, codes in errs.items():
            counts = {c: codes.count(c) for c in sorted(set(codes))}
            print(f"  {label} errors on {kind}: {counts}")
    lost = len(jobs["never_finished"]) + len(jobs["missing_plan"])
    n_err = sum(len(v) for v in errors.values()) + sum(len(v) for v in errors_b.values())
    geo_p99 = pct(lo["geojson (all)"], 99)
    checks = [
        (f"GeoJSON p99 {geo_p99:.1f} ms <= 100 ms at {args.clients} clients", geo_p99 <= 100),
        (f"errors {n_err} (+ {jobs['failed']} failed jobs) == 0", n_err + jobs["failed"] == 0),
        (f"lost jobs {lost} == 0", lost == 0),
    ]
    print()
    for text, ok in checks:
        print(f"  {'PASS' if ok else 'FAIL'}  {text}")
    return all(ok for _, ok in checks)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50, help="concurrent clients")
    parser.add_argument("--duration-s", type=float, default=30.0, help="load phase length")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument("--think-s", type=float, default=0.1,
                        help="mean pause between a client's requests (0: closed loop)")  # fmt: skip
    parser.add_argument("--jobs-per-s", type=float, default=0.5, help="job submissions a second")
    parser.add_argument("--drain-s", type=float, default=180.0, help="wait for jobs to finish")
    parser.add_argument("--solves", type=int, default=None, help="max concurrent solves")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--client-nice", type=int, default=0,
                        help="niceness this load generator adds to itself once the server "
                             "has started (the server keeps the one it started with)")  # fmt: skip
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite",
                        help="the service's database (a new one for the run)")  # fmt: skip
    parser.add_argument("--pg-admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres",
                        help="PostgreSQL server to make the database on (libpq URL)")  # fmt: skip
    args = parser.parse_args()
    if args.clients < 1 or args.duration_s <= 0 or args.workers < 1:
        parser.error("--clients and --workers must be >= 1 and --duration-s > 0")

    print(f"starting uvicorn ({args.workers} worker(s)) on {args.database} ...", flush=True)
    pg_url = args.pg_admin_url if args.database == "postgresql" else None
    server = Server(args.workers, args.solves, pg_url)
    if args.client_nice:
        os.nice(args.client_nice)  # this process only; the server started at the old one
    try:
        print(f"server at {server.url}; registering the Helsinki sample and solving two "
              "plans ...", flush=True)  # fmt: skip
        ctx = setup(server.url)
        base_s = max(3.0, args.duration_s / 4)
        print(f"baseline: 1 client for {base_s:g} s ...", flush=True)
        base = run_loop(
            run_phase(server, ctx, clients=1, duration_s=base_s, think_s=args.think_s,
                      jobs_per_s=0.0, seed=args.seed)
        )  # fmt: skip
        print(f"load: {args.clients} clients for {args.duration_s:g} s ...", flush=True)
        load = run_loop(run_phase(server, ctx, clients=args.clients,
                                     duration_s=args.duration_s, think_s=args.think_s,
                                     jobs_per_s=args.jobs_per_s, seed=args.seed + 1))  # fmt: skip
        print(f"draining {len(load.jobs)} jobs ...", flush=True)
        jobs = run_loop(drain_jobs(server.url, load.jobs, args.drain_s))
        ok = report(base, load, jobs, args, ctx["first"])
    finally:
        server.stop()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
