"""Rate limits shared by every server process: counters in the service's own database.

Two limits, each a fixed window that starts at a counter's first hit:

* **requests per API key**: ``rate_limit_requests`` per ``rate_limit_window_s``; past it,
  429 with ``Retry-After`` (the rest of the window);
* **small OGC API item pages per API key**: pages of at most :data:`SMALL_PAGE_FEATURES`
  features (``/ogc/collections/{id}/items?limit=10``) are counted apart, up to
  ``rate_limit_page_requests`` (default 6000) per window. GDAL before 3.8 reads OGC API
  collections 10 features a page whatever the server offers, so a network of 10,000 roads
  is 1,000 requests: counted as ordinary requests, GDAL would stop at the 429 partway and
  exit 0 with a layer cut short. Such pages cost the server far less than the pages of up
  to 10,000 features that ``rate_limit_requests`` already allows;
* **failed authentication per client address**: ``auth_failures_max`` wrong keys within
  ``auth_failure_window_s``, then every request from that address that needs a key is
  answered 429 until the window ends, whatever key it holds; other addresses are not
  affected. A missing key is not a failure (it guesses nothing).

Each hit is one atomic ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING`` on the
``rate_limits`` table (SQLite and PostgreSQL both have it), so every worker of
``recyclenet serve --workers N``, and every host on one PostgreSQL, counts against the same
limits exactly. API keys are stored as SHA-256 digests, never as they are. Rows of ended
windows are deleted now and then by whichever process notices.

Each server process checks its requests in batches, one thread doing the database work:
the requests of one event-loop turn are handed to it together (one thread wake-up a
batch), and requests that arrive while a batch is being counted wait for the next one,
which adds
all of a key's requests with one upsert (``hits + n``) and numbers them in arrival
order; a request is refused when its number is past the limit. Under load that is one
write per key per batch instead of one per request, and requests never wait on
another thread of their own process for the database's write lock.

The limiter has its own connection pool; on PostgreSQL its sessions run with
``synchronous_commit = off``: a counter's commit does not wait for the disk (a crash may
forget the last few hits, which a rate limit can afford), so the check costs a round trip,
not an fsync, on every request.

Behind a reverse proxy the client address is the proxy's unless the server trusts its
``X-Forwarded-For`` (uvicorn ``--forwarded-allow-ips``; by default 127.0.0.1 is trusted).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import re
import sqlite3
import threading
import time
import weakref
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Float, Integer, String, bindparam, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Mapped, mapped_column

from .batching import LoopBatcher, LoopConnections
from .store import Base, make_engine

log = logging.getLogger("recyclenet_api.limits")

SMALL_PAGE_FEATURES = 100
"""OGC API item pages of at most this many features count against
``rate_limit_page_requests``, not ``rate_limit_requests``."""
PAGES = ":pages"
"""The suffix of a key's bucket of small pages."""


class RateCounter(Base):
    """One counter: hits in the window that started at ``window_start_s``."""

    __tablename__ = "rate_limits"

    bucket: Mapped[str] = mapped_column(String(100), primary_key=True)
    """``key:<sha256 of the API key>`` or ``addr:<client address>``."""
    window_start_s: Mapped[float] = mapped_column(Float)
    """Unix time (seconds) of the window's first hit."""
    hits: Mapped[int] = mapped_column(Integer)


_HIT = text(
    "INSERT INTO rate_limits (bucket, window_start_s, hits) VALUES (:bucket, :now, :n) "
    "ON CONFLICT (bucket) DO UPDATE SET "
    "hits = CASE WHEN rate_limits.window_start_s <= :ended THEN :n "
    "ELSE rate_limits.hits + :n END, "
    "window_start_s = CASE WHEN rate_limits.window_start_s <= :ended THEN :now "
    "ELSE rate_limits.window_start_s END "
    "RETURNING hits, window_start_s"
)
_READ = text(
    "SELECT bucket, hits, window_start_s FROM rate_limits WHERE bucket IN :buckets"
).bindparams(bindparam("buckets", expanding=True))
_PURGE = text("DELETE FROM rate_limits WHERE window_start_s <= :ended")
# the same for a psycopg connection (the limiter's own, on the event loop)
_HIT_PG = re.sub(r":(\w+)", r"%(\1)s", _HIT.text)
_READ_PG = "SELECT bucket, hits, window_start_s FROM rate_limits WHERE bucket = ANY(%(buckets)s)"
_PURGE_PG = "DELETE FROM rate_limits WHERE window_start_s <= %(ended)s"
_NO_COMMIT_WAIT = "SET synchronous_commit TO OFF"
_READ_QMARK = "SELECT bucket, hits, window_start_s FROM rate_limits WHERE bucket IN ({})"


class _LockedError(Exception):
    """Another connection holds the SQLite database's write lock."""


def _engine(url: str) -> Engine:
    engine = make_engine(url)
    if engine.dialect.name == "postgresql":

        @event.listens_for(engine, "connect")
        def _no_commit_wait(dbapi_conn: Any, _record: Any) -> None:
            with dbapi_conn.cursor() as cur:
                cur.execute(_NO_COMMIT_WAIT)
            dbapi_conn.commit()

        # each statement of a batch is atomic on its own (an upsert numbers its hits), so
        # it commits on its own: no BEGIN and COMMIT round trips around a batch
        return engine.execution_options(isolation_level="AUTOCOMMIT")
    return engine


@dataclass(frozen=True)
class Verdict:
    """What the limiter says about one request."""

    outcome: str
    """``ok``, ``no key``, ``wrong key`` (401), ``over rate``, ``over page rate`` or
    ``address blocked`` (429)."""
    retry_after_s: int = 0
    """For 429s: whole seconds until the window ends (at least 1)."""


class SharedLimiter:
    """The per-key rate limit and the per-address failed-authentication limit, counted in
    the database of ``url`` (see the module docstring).

    ``clock`` gives Unix time in seconds; every process sharing a database must agree on
    it (the hosts' clocks), tests may inject one.
    """

    def __init__(
        self,
        url: str,
        *,
        requests: int,
        window_s: float,
        auth_failures: int,
        auth_window_s: float,
        page_requests: int | None = None,
        clock: Callable[[], float] = time.time,
        purge_every_s: float = 60.0,
    ) -> None:
        self.engine = _engine(url)
        self.requests = requests
        self.page_requests = requests * 10 if page_requests is None else page_requests
        self.window_s = window_s
        self.auth_failures = auth_failures
        self.auth_window_s = auth_window_s
        self.clock = clock
        self.purge_every_s = purge_every_s
        self._next_purge = 0.0
        self._purge_lock = threading.Lock()
        self._loop_conns: LoopConnections | None = None
        self._batcher: LoopBatcher[tuple[str | None, str | None, bool, bool], Verdict]
        if self.engine.dialect.name == "postgresql":
            self._loop_conns = LoopConnections(url, setup=[_NO_COMMIT_WAIT],
                                               name="recyclenet-rate-limits")  # fmt: skip
            self._batcher = LoopBatcher(self._count_on_loop, name="rate-limits")
        elif self.engine.url.database not in (None, "", ":memory:"):
            self._sqlite_path = self.engine.url.database
            self._sqlite_conns: weakref.WeakKeyDictionary[
                asyncio.AbstractEventLoop, sqlite3.Connection
            ] = weakref.WeakKeyDictionary()
            self._batcher = LoopBatcher(self._count_sqlite_on_loop, name="rate-limits")
        else:
            self._batcher = LoopBatcher(self.count, name="rate-limits")

    def dispose(self) -> None:
        """Stop the counting thread (after the batch it has) and close the connections.

        The limiter stays usable: an app whose lifespan starts again (a second server
        start of the same app object, as test clients do) counts on new connections.
        """
        self._batcher.dispose()
        if self._loop_conns is not None:
            self._loop_conns.close()
        conns = getattr(self, "_sqlite_conns", None)
        if conns is not None:
            for conn in list(conns.values()):
                conn.close()
            conns.clear()  # closed connections must not be found again by their loop
        self.engine.dispose()

    @staticmethod
    def key_bucket(api_key: str) -> str:
        return "key:" + hashlib.sha256(api_key.encode()).hexdigest()

    @staticmethod
    def address_bucket(address: str) -> str:
        return "addr:" + address[:90]

    def _retry(self, start_s: float, window_s: float, now: float) -> int:
        return max(1, math.ceil(start_s + window_s - now))

    async def check(
        self, address: str | None, api_key: str | None, valid: bool, small_page: bool = False
    ) -> Verdict:
        """Count one request from ``address`` holding ``api_key`` (``valid``: a known key;
        ``small_page``: an OGC API item page of at most :data:`SMALL_PAGE_FEATURES`
        features); waits for the batch it joins to be counted
        (:class:`~.batching.LoopBatcher`)."""
        return await self._batcher.call((address, api_key, valid, small_page))

    def count(self, requests: list[tuple[str | None, str | None, bool, bool]]) -> list[Verdict]:
        """The verdicts on ``requests`` (address, key, valid, small page), counted in
        arrival order.

        Blocking (database I/O): the batching thread calls it (on PostgreSQL the batcher
        counts over the event loop's own connection instead, :meth:`_count_on_loop`).
        """
        now = self.clock()
        self._maybe_purge(now)
        with self.engine.connect() as conn:
            steps = self._steps(requests, now)
            try:
                op, params = next(steps)
                while True:
                    answer: Any
                    if op == "read":
                        answer = [tuple(row) for row in conn.execute(_READ, params)]
                    else:
                        answer = tuple(conn.execute(_HIT, params).one())
                    op, params = steps.send(answer)
            except StopIteration as stop:
                verdicts: list[Verdict] = stop.value
            conn.commit()
        return verdicts

    async def _count_on_loop(
        self, requests: list[tuple[str | None, str | None, bool, bool]]
    ) -> list[Verdict]:
        """:meth:`count` over this event loop's PostgreSQL connection (autocommit)."""
        assert self._loop_conns is not None
        now = self.clock()
        purge = self._purge_due(now)

        async def run(conn: Any) -> list[Verdict]:
            if purge:
                await conn.execute(_PURGE_PG, {"ended": now - self._longest_window_s})
            steps = self._steps(requests, now)
            try:
                op, params = next(steps)
                while True:
                    cur = await conn.execute(_READ_PG if op == "read" else _HIT_PG, params)
                    answer = await cur.fetchall() if op == "read" else await cur.fetchone()
                    op, params = steps.send(answer)
            except StopIteration as stop:
                verdicts: list[Verdict] = stop.value
            return verdicts

        return await self._loop_conns.run(run)

    async def _count_sqlite_on_loop(
        self, requests: list[tuple[str | None, str | None, bool, bool]]
    ) -> list[Verdict]:
        """:meth:`count` on a SQLite file, on the event loop when the write lock is free.

        A write of a few rows in WAL mode (``synchronous=NORMAL``: no fsync at commit)
        costs less than handing the batch to a thread and waiting for it to win the GIL
        back from the busy loop. The loop's connection never waits for the lock: when
        another writer holds it (a job being stored, another worker's batch), the batch
        goes to the thread, whose connection waits its turn.
        """
        try:
            return self._count_sqlite_now(requests)
        except _LockedError:
            return await asyncio.get_running_loop().run_in_executor(None, self.count, requests)

    def _count_sqlite_now(
        self, requests: list[tuple[str | None, str | None, bool, bool]]
    ) -> list[Verdict]:
        loop = asyncio.get_running_loop()
        conn = self._sqlite_conns.get(loop)
        if conn is None:  # autocommit mode: the transaction is the BEGIN IMMEDIATE below
            conn = sqlite3.connect(self._sqlite_path, timeout=0, isolation_level=None,
                                   check_same_thread=False)  # fmt: skip
            conn.execute("PRAGMA synchronous=NORMAL")
            self._sqlite_conns[loop] = conn
        now = self.clock()
        try:
            conn.execute("BEGIN IMMEDIATE")  # the write lock now, or SQLITE_BUSY at once
        except sqlite3.OperationalError as exc:
            raise _LockedError from exc
        try:
            if self._purge_due(now):
                conn.execute(_PURGE.text, {"ended": now - self._longest_window_s})
            steps = self._steps(requests, now)
            try:
                op, params = next(steps)
                while True:
                    if op == "read":
                        buckets = params["buckets"]
                        sql = _READ_QMARK.format(", ".join("?" * len(buckets)))
                        answer: Any = conn.execute(sql, buckets).fetchall()
                    else:
                        answer = conn.execute(_HIT.text, params).fetchone()
                    op, params = steps.send(answer)
            except StopIteration as stop:
                verdicts: list[Verdict] = stop.value
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        return verdicts

    def _steps(
        self, requests: list[tuple[str | None, str | None, bool, bool]], now: float
    ) -> Generator[tuple[str, dict[str, Any]], Any, list[Verdict]]:
        """The counting of :meth:`count` without its database I/O, for either connection:
        yields ``("read", params of _READ)`` to be sent the rows ``(bucket, hits,
        window_start_s)`` and ``("hit", params of _HIT)`` to be sent ``(hits,
        window_start_s)``; returns the verdicts."""
        verdicts: list[Verdict | None] = [None] * len(requests)
        valid_by_key: dict[str, list[int]] = {}
        addresses = sorted({self.address_bucket(a) for a, _, _, _ in requests if a})
        failures: dict[str, tuple[int, float]] = {}
        if addresses:
            for bucket, hits, start in (yield ("read", {"buckets": addresses})):
                failures[bucket] = (int(hits), float(start))
        for i, (address, api_key, valid, small_page) in enumerate(requests):
            addr = self.address_bucket(address) if address else None
            hits, start = failures.get(addr, (0, 0.0)) if addr else (0, 0.0)
            if hits >= self.auth_failures and start > now - self.auth_window_s:
                retry = self._retry(start, self.auth_window_s, now)
                verdicts[i] = Verdict("address blocked", retry)
            elif not api_key:
                verdicts[i] = Verdict("no key")
            elif not valid:
                if addr is None:
                    verdicts[i] = Verdict("wrong key")
                    continue
                row = yield ("hit", self._hit_params(addr, 1, now, self.auth_window_s))
                hits, start = int(row[0]), float(row[1])
                failures[addr] = (hits, start)
                if hits > self.auth_failures:
                    retry = self._retry(start, self.auth_window_s, now)
                    verdicts[i] = Verdict("address blocked", retry)
                else:
                    verdicts[i] = Verdict("wrong key")
            else:
                bucket = self.key_bucket(api_key) + (PAGES if small_page else "")
                valid_by_key.setdefault(bucket, []).append(i)
        for bucket, indices in valid_by_key.items():
            n = len(indices)
            pages = bucket.endswith(PAGES)
            limit, over = (self.page_requests, "over page rate") if pages else (
                self.requests, "over rate")  # fmt: skip
            row = yield ("hit", self._hit_params(bucket, n, now, self.window_s))
            hits, start = int(row[0]), float(row[1])
            for j, i in enumerate(indices):  # numbered hits - n + 1 ... hits
                if hits - n + 1 + j > limit:
                    verdicts[i] = Verdict(over, self._retry(start, self.window_s, now))
                else:
                    verdicts[i] = Verdict("ok")
        assert all(v is not None for v in verdicts)
        return verdicts  # type: ignore[return-value]

    @staticmethod
    def _hit_params(bucket: str, n: int, now: float, window_s: float) -> dict[str, Any]:
        """Add ``n`` hits to ``bucket`` (a new window if its window ended)."""
        return {"bucket": bucket, "n": n, "now": now, "ended": now - window_s}

    @property
    def _longest_window_s(self) -> float:
        return max(self.window_s, self.auth_window_s)

    def _purge_due(self, now: float) -> bool:
        """Whether to delete ended counters now (at most once a ``purge_every_s`` a
        process); True moves the next time on."""
        with self._purge_lock:
            if now < self._next_purge:
                return False
            self._next_purge = now + self.purge_every_s
            return True

    def _maybe_purge(self, now: float) -> None:
        """Delete counters whose window ended, when :meth:`_purge_due`."""
        if self._purge_due(now):
            with self.engine.begin() as conn:
                conn.execute(_PURGE, {"ended": now - self._longest_window_s})
