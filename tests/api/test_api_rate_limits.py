"""Rate limits shared through the database: per API key, and failed authentication per
client address; in-process with an injected clock, and across the two worker processes
of a real ``recyclenet serve --workers 2``; on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import http.client
import os
import sqlite3
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from api_helpers import KEY_A, KEY_B, A, B, free_port, terminate, wait_for
from fastapi import FastAPI
from fastapi.testclient import TestClient

pytestmark = pytest.mark.both_dbs
PROBLEM = "application/problem+json"
WRONG = {"X-API-Key": "not-a-key-0123456789"}
KEY_C = "key-c-0123456789"


class Clock:
    """Unix time that moves only when told to."""

    def __init__(self) -> None:
        self.now = 1.8e9

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clocked(new_app: Callable[..., FastAPI]) -> Callable[..., tuple[FastAPI, Clock]]:
    def make(**overrides: object) -> tuple[FastAPI, Clock]:
        app = new_app(**overrides)
        clock = Clock()
        app.state.ctx.limiter.clock = clock
        return app, clock

    return make


def test_rate_limit_per_key(clocked: Callable[..., tuple[FastAPI, Clock]]) -> None:
    app, clock = clocked(rate_limit_requests=3, rate_limit_window_s=60)
    with TestClient(app) as client:
        codes = [client.get("/jobs", headers=A).status_code for _ in range(5)]
        assert codes == [200, 200, 200, 429, 429]
        clock.now += 20
        r = client.get("/jobs", headers=A)
        assert r.status_code == 429 and r.headers["content-type"] == PROBLEM
        assert r.headers["retry-after"] == "40"  # the rest of the window
        assert "rate limit of 3 requests per API key in 60 s" in r.json()["detail"]
        assert client.get("/jobs", headers=B).status_code == 200  # counted per key
        assert client.get("/healthz").status_code == 200  # health is not limited
        clock.now += 40  # the window ended: a new one starts
        codes = [client.get("/jobs", headers=A).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]


def test_small_ogc_pages_have_their_own_limit(
    clocked: Callable[..., tuple[FastAPI, Clock]],
) -> None:
    """OGC API item pages of at most 100 features (GDAL before 3.8 reads 10 a page) count
    against rate_limit_page_requests, apart from every other request."""
    app, _ = clocked(rate_limit_requests=3, rate_limit_page_requests=5, rate_limit_window_s=60)
    small = "/ogc/collections/nope/items?limit=10"
    with TestClient(app) as client:
        codes = [client.get(small, headers=A).status_code for _ in range(6)]
        assert codes == [404] * 5 + [429]  # counted before the collection is looked up
        r = client.get(small, headers=A)
        assert "rate limit of 5 OGC API item pages of at most 100 features" in r.json()["detail"]
        assert "PAGE_SIZE=1000" in r.json()["detail"] and r.headers["retry-after"] == "60"
        # the default page (100 features) is a small one too
        assert client.get("/ogc/collections/nope/items", headers=A).status_code == 429
        # the ordinary limit is untouched by them; large pages count as ordinary requests
        assert client.get("/ogc/collections/nope/items?limit=101", headers=A).status_code == 404
        assert [client.get("/jobs", headers=A).status_code for _ in range(2)] == [200, 200]
        r = client.get("/jobs", headers=A)  # the fourth ordinary request
        assert r.status_code == 429 and "rate limit of 3 requests" in r.json()["detail"]
        assert client.get(small, headers=B).status_code == 404  # per key


def test_failed_auth_throttled_per_address(clocked: Callable[..., tuple[FastAPI, Clock]]) -> None:
    app, clock = clocked(auth_failures_max=3, auth_failure_window_s=300)
    with (TestClient(app, client=("203.0.113.7", 40000)) as bad,
          TestClient(app, client=("198.51.100.2", 40000)) as good):  # fmt: skip
        assert [bad.get("/jobs").status_code for _ in range(2)] == [401, 401]  # no key: no guess
        codes = [bad.get("/jobs", headers=WRONG).status_code for _ in range(5)]
        assert codes == [401, 401, 401, 429, 429]
        clock.now += 100
        r = bad.get("/jobs", headers=A)  # even the right key, from that address
        assert r.status_code == 429 and r.headers["content-type"] == PROBLEM
        assert r.headers["retry-after"] == "200"
        assert "too many wrong API keys from 203.0.113.7" in r.json()["detail"]
        assert bad.get("/jobs").status_code == 429
        assert bad.get("/healthz").status_code == 200
        # other addresses are not locked out, and have their own count
        assert good.get("/jobs", headers=A).status_code == 200
        codes = [good.get("/jobs", headers=WRONG).status_code for _ in range(2)]
        assert codes == [401, 401]
        assert good.get("/jobs", headers=A).status_code == 200  # 2 wrong keys: not blocked
        clock.now += 200  # the bad address's window ended
        assert bad.get("/jobs", headers=A).status_code == 200
        assert good.get("/jobs", headers=WRONG).status_code == 401  # its 3rd in its window
        assert good.get("/jobs", headers=A).status_code == 429
    # API keys are stored as digests, never as they are
    with app.state.ctx.store.engine.connect() as conn:
        from sqlalchemy import text

        buckets = [row[0] for row in conn.execute(text("SELECT bucket FROM rate_limits"))]
    assert buckets and not any(KEY_A in b or "not-a-key" in b for b in buckets)


def test_a_batch_is_counted_in_arrival_order(
    clocked: Callable[..., tuple[FastAPI, Clock]],
) -> None:
    """Requests that arrive together are counted with one upsert per key and numbered in
    arrival order; wrong keys block their address for the rest of the batch too."""
    app, clock = clocked(rate_limit_requests=5, auth_failures_max=2)
    with TestClient(app):  # migrates the database
        limiter = app.state.ctx.limiter
        # (address, key, known key, small OGC page)
        batch = [("10.0.0.1", KEY_A, True, False)] * 7 + [("10.0.0.2", "bad", False, False)] * 3
        batch += [("10.0.0.2", KEY_B, True, False), ("10.0.0.3", KEY_B, True, False),
                  ("10.0.0.3", None, False, False)]  # fmt: skip
        expected = ["ok"] * 5 + ["over rate"] * 2 + ["wrong key"] * 2 + [
            "address blocked", "address blocked", "ok", "no key"]  # fmt: skip
        assert [v.outcome for v in limiter.count(batch)] == expected
        assert [v.outcome for v in limiter.count([("10.0.0.1", KEY_A, True, False)])] == [
            "over rate"]  # fmt: skip
        # small pages of the same key are counted apart, in the same batch
        pages = limiter.count([("10.0.0.1", KEY_A, True, True)] * 2)
        assert [v.outcome for v in pages] == ["ok", "ok"]
        batch += [("10.0.0.1", KEY_A, True, True)] * 2
        expected += ["ok", "ok"]

        async def checked() -> list[str]:  # the same batch as requests send it: one turn
            return [v.outcome for v in await asyncio.gather(*(limiter.check(*r) for r in batch))]

        # new windows, counted as the server counts (on the event loop where it can)
        clock.now += max(limiter.window_s, limiter.auth_window_s) + 1
        assert asyncio.run(checked()) == expected


def test_a_locked_sqlite_database_batch_waits_off_the_loop(tmp_path: Path) -> None:
    """While another connection holds SQLite's write lock, a batch is counted by the
    thread, whose connection waits for the lock; the event loop goes on meanwhile."""
    from recyclenet_api.limits import SharedLimiter
    from recyclenet_api.store import Base

    path = tmp_path / "limits.db"
    limiter = SharedLimiter(f"sqlite:///{path}", requests=2, window_s=60, auth_failures=5,
                            auth_window_s=60)  # fmt: skip
    Base.metadata.create_all(limiter.engine)  # WAL mode, the rate_limits table
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")

    async def main() -> list[str]:
        counted = asyncio.gather(*(limiter.check("10.0.0.9", KEY_A, True, False) for _ in range(3)))
        await asyncio.sleep(0.3)  # the loop is not blocked by the lock
        assert not counted.done()
        other.execute("COMMIT")
        return [v.outcome for v in await counted]

    async def unlocked() -> list[str]:  # the loop's own connection
        return [(await limiter.check("10.0.0.9", KEY_A, True, False)).outcome]

    try:
        assert asyncio.run(main()) == ["ok", "ok", "over rate"]
        assert asyncio.run(unlocked()) == ["over rate"]
    finally:
        other.close()
        limiter.dispose()


def test_a_disposed_limiter_counts_on_new_connections(tmp_path: Path) -> None:
    """An app's lifespan may end and start again on the same loop (test clients, an ASGI
    server restarting the app): the limiter then counts on a new connection, not on the
    one its dispose closed (that was a 500: 'Cannot operate on a closed database')."""
    from recyclenet_api.limits import SharedLimiter
    from recyclenet_api.store import Base

    limiter = SharedLimiter(f"sqlite:///{tmp_path / 'limits.db'}", requests=2, window_s=60,
                            auth_failures=5, auth_window_s=60)  # fmt: skip
    Base.metadata.create_all(limiter.engine)

    async def main() -> list[str]:
        first = await limiter.check("10.0.0.9", KEY_A, True, False)
        limiter.dispose()  # the lifespan ends; the loop goes on
        rest = [await limiter.check("10.0.0.9", KEY_A, True, False) for _ in range(2)]
        return [v.outcome for v in (first, *rest)]

    try:
        assert asyncio.run(main()) == ["ok", "ok", "over rate"]
    finally:
        limiter.dispose()


def test_limits_hold_across_two_starts_of_one_app(new_app: Callable[..., FastAPI]) -> None:
    app = new_app(rate_limit_requests=3)
    with TestClient(app) as client:
        assert client.get("/plans", headers=A).status_code == 200
    with TestClient(app) as client:  # the same app object starts again
        codes = [client.get("/plans", headers=A).status_code for _ in range(3)]
    assert codes == [200, 200, 429]  # counted in the database across both starts


def test_ended_windows_are_purged(clocked: Callable[..., tuple[FastAPI, Clock]]) -> None:
    app, clock = clocked(rate_limit_window_s=60, auth_failure_window_s=300)
    limiter = app.state.ctx.limiter
    with TestClient(app) as client:
        client.get("/jobs", headers=WRONG)
        client.get("/jobs", headers=A)
        count = "SELECT count(*) FROM rate_limits"
        from sqlalchemy import text

        with limiter.engine.connect() as conn:
            assert conn.execute(text(count)).scalar() == 2
        clock.now += 301 + limiter.purge_every_s
        client.get("/jobs", headers=B)  # purges the two ended windows, then counts B
        with limiter.engine.connect() as conn:
            assert conn.execute(text(count)).scalar() == 1
            if conn.dialect.name == "postgresql":  # counters never wait for an fsync
                assert conn.execute(text("SHOW synchronous_commit")).scalar() == "off"
                store = app.state.ctx.store.engine.connect()  # plans and jobs do
                assert store.execute(text("SHOW synchronous_commit")).scalar() == "on"
                store.close()


# ------------------------------------------------------------------ two workers
def _server_socket_owner(server_port: int, client_port: int) -> int:
    """The pid of the process holding the server side of the loopback connection from
    ``client_port`` (Linux: the socket's inode in /proc/net/tcp, then /proc/*/fd)."""
    local = f"0100007F:{server_port:04X}"
    remote = f"0100007F:{client_port:04X}"
    inode = None
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[1] == local and fields[2] == remote:
            inode = fields[9]
    assert inode is not None, f"no server socket for client port {client_port}"
    target = f"socket:[{inode}]"
    for fd_dir in Path("/proc").glob("[0-9]*/fd"):
        try:
            for fd in fd_dir.iterdir():
                if os.readlink(fd) == target:
                    return int(fd_dir.parent.name)
        except OSError:
            continue
    raise AssertionError(f"no process holds {target}")


@pytest.fixture
def two_workers(tmp_path: Path, fresh_database: dict[str, str]) -> Iterator[dict]:
    """A real ``recyclenet serve --workers 2`` with small limits and long windows, and two
    kept-alive connections, each held by a different worker process."""
    port = free_port()
    env = {**os.environ, "RECYCLENET_DATA_DIR": str(tmp_path / "var"),
           "RECYCLENET_API_KEYS": f"{KEY_A}:tenant-a,{KEY_B}:tenant-b,{KEY_C}:tenant-c",
           "RECYCLENET_RATE_LIMIT_REQUESTS": "10", "RECYCLENET_RATE_LIMIT_WINDOW_S": "3600",
           "RECYCLENET_AUTH_FAILURES_MAX": "4", "RECYCLENET_AUTH_FAILURE_WINDOW_S": "3600",
           "RECYCLENET_MAX_CONCURRENT_SOLVES": "1"}  # fmt: skip
    if "database_url" in fresh_database:
        env["RECYCLENET_DATABASE_URL"] = fresh_database["database_url"]
    log = tmp_path / "serve.log"
    with open(log, "w") as fh:
        proc = subprocess.Popen([sys.executable, "-m", "recyclenet.cli", "serve", "--port",
                                 str(port), "--workers", "2"],
                                env=env, cwd=tmp_path, stdout=fh,
                                stderr=subprocess.STDOUT)  # fmt: skip
    conns: list[http.client.HTTPConnection] = []
    try:

        def ready() -> bool:
            assert proc.poll() is None, "serve exited: " + log.read_text()[-3000:]
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            try:
                conn.request("GET", "/readyz")
                return conn.getresponse().status == 200
            except OSError:
                return False
            finally:
                conn.close()

        wait_for(ready, timeout_s=400, what="serve --workers 2")  # minutes on a loaded machine
        by_worker: dict[int, http.client.HTTPConnection] = {}
        for _ in range(200):  # connections land on either worker; keep one on each
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("GET", "/healthz")  # not limited
            conn.getresponse().read()
            pid = _server_socket_owner(port, conn.sock.getsockname()[1])
            if pid in by_worker:
                conn.close()
            else:
                by_worker[pid] = conn
                conns.append(conn)
            if len(by_worker) == 2:
                break
        assert len(by_worker) == 2, "every connection landed on one worker"
        assert proc.pid not in by_worker
        yield {"conns": conns, "pids": list(by_worker), "port": port}
    finally:
        for conn in conns:
            conn.close()
        terminate(proc)
    assert "Traceback" not in log.read_text(), log.read_text()[-3000:]


def _get(conn: http.client.HTTPConnection, headers: dict[str, str]) -> tuple[int, str | None]:
    conn.request("GET", "/jobs", headers=headers)
    r = conn.getresponse()
    r.read()
    return r.status, r.getheader("Retry-After")


def _get_new_connection(port: int, headers: dict[str, str]) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("GET", "/jobs", headers=headers)
        return conn.getresponse().status
    finally:
        conn.close()


def test_limits_shared_by_two_workers(two_workers: dict) -> None:
    """Limit 10 a key in a window of an hour: 15 requests alternating between the two
    workers give exactly 5 429s (per-process limits would give none); 30 concurrent
    requests on new connections exactly 20; 4 wrong keys from the address, then the
    address is blocked on both workers, whatever key it sends."""
    from concurrent.futures import ThreadPoolExecutor

    first, second = two_workers["conns"]
    seen = Counter()
    for i in range(15):
        status, retry = _get((first, second)[i % 2], A)
        seen[status] += 1
        if status == 429:
            assert retry is not None and 1 <= int(retry) <= 3600
    assert seen == {200: 10, 429: 5}
    with ThreadPoolExecutor(8) as pool:  # concurrent: counted in batches by each worker
        codes = list(pool.map(lambda _: _get_new_connection(two_workers["port"], B), range(30)))
    assert Counter(codes) == {200: 10, 429: 20}
    # failed authentication from 127.0.0.1, alternating workers: 4 answered 401, then 429
    assert _get(second, {"X-API-Key": KEY_C})[0] == 200
    codes = [_get((first, second)[i % 2], WRONG)[0] for i in range(6)]
    assert codes == [401, 401, 401, 401, 429, 429]
    for conn in (first, second):  # a right key under its limit, from the blocked address
        conn.request("GET", "/jobs", headers={"X-API-Key": KEY_C})
        r = conn.getresponse()
        body = r.read().decode()
        assert r.status == 429 and "too many wrong API keys from 127.0.0.1" in body
        assert 1 <= int(r.getheader("Retry-After") or 0) <= 3600
