"""Rate limits shared by every server process: counters in the service's own database.

Two limits, each a fixed window that starts at a counter's first hit:

* **requests per API key**: ``rate_limit_requests`` per ``rate_limit_window_s``; past it,
  429 with ``Retry-After`` (the rest of the window);
* **failed authentication per client address**: ``auth_failures_max`` wrong keys within
  ``auth_failure_window_s``, then every request from that address that needs a key is
  answered 429 until the window ends, whatever key it holds; other addresses are not
  affected. A missing key is not a failure (it guesses nothing).

Each hit is one atomic ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING`` on the
``rate_limits`` table (SQLite and PostgreSQL both have it), so every worker of
``recyclenet serve --workers N``, and every host on one PostgreSQL, counts against the same
limits exactly. API keys are stored as SHA-256 digests, never as they are. Rows of ended
windows are deleted now and then by whichever process notices.

The limiter has its own connection pool; on PostgreSQL its sessions run with
``synchronous_commit = off``: a counter's commit does not wait for the disk (a crash may
forget the last few hits, which a rate limit can afford), so the check costs a round trip,
not an fsync, on every request.

Behind a reverse proxy the client address is the proxy's unless the server trusts its
``X-Forwarded-For`` (uvicorn ``--forwarded-allow-ips``; by default 127.0.0.1 is trusted).
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Float, Integer, String, event, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Mapped, mapped_column

from .store import Base, make_engine


class RateCounter(Base):
    """One counter: hits in the window that started at ``window_start_s``."""

    __tablename__ = "rate_limits"

    bucket: Mapped[str] = mapped_column(String(100), primary_key=True)
    """``key:<sha256 of the API key>`` or ``addr:<client address>``."""
    window_start_s: Mapped[float] = mapped_column(Float)
    """Unix time (seconds) of the window's first hit."""
    hits: Mapped[int] = mapped_column(Integer)


_HIT = text(
    "INSERT INTO rate_limits (bucket, window_start_s, hits) VALUES (:bucket, :now, 1) "
    "ON CONFLICT (bucket) DO UPDATE SET "
    "hits = CASE WHEN rate_limits.window_start_s <= :ended THEN 1 "
    "ELSE rate_limits.hits + 1 END, "
    "window_start_s = CASE WHEN rate_limits.window_start_s <= :ended THEN :now "
    "ELSE rate_limits.window_start_s END "
    "RETURNING hits, window_start_s"
)
_READ = text("SELECT hits, window_start_s FROM rate_limits WHERE bucket = :bucket")
_PURGE = text("DELETE FROM rate_limits WHERE window_start_s <= :ended")


def _engine(url: str) -> Engine:
    engine = make_engine(url)
    if engine.dialect.name == "postgresql":

        @event.listens_for(engine, "connect")
        def _no_commit_wait(dbapi_conn: Any, _record: Any) -> None:
            with dbapi_conn.cursor() as cur:
                cur.execute("SET synchronous_commit TO OFF")
            dbapi_conn.commit()

    return engine


@dataclass(frozen=True)
class Verdict:
    """What the limiter says about one request."""

    outcome: str
    """``ok``, ``no key``, ``wrong key`` (401), ``over rate`` or ``address blocked`` (429)."""
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
        clock: Callable[[], float] = time.time,
        purge_every_s: float = 60.0,
    ) -> None:
        self.engine = _engine(url)
        self.requests = requests
        self.window_s = window_s
        self.auth_failures = auth_failures
        self.auth_window_s = auth_window_s
        self.clock = clock
        self.purge_every_s = purge_every_s
        self._next_purge = 0.0
        self._purge_lock = threading.Lock()

    def dispose(self) -> None:
        self.engine.dispose()

    @staticmethod
    def key_bucket(api_key: str) -> str:
        return "key:" + hashlib.sha256(api_key.encode()).hexdigest()

    @staticmethod
    def address_bucket(address: str) -> str:
        return "addr:" + address[:90]

    def _retry(self, start_s: float, window_s: float, now: float) -> int:
        return max(1, math.ceil(start_s + window_s - now))

    def check(self, address: str | None, api_key: str | None, valid: bool) -> Verdict:
        """Count one request from ``address`` holding ``api_key`` (``valid``: a known key).

        Blocking (database I/O): call it from a worker thread.
        """
        now = self.clock()
        self._maybe_purge(now)
        addr = self.address_bucket(address) if address else None
        with self.engine.connect() as conn:
            if addr is not None:
                row = conn.execute(_READ, {"bucket": addr}).first()
                conn.commit()
                if (row is not None and row.hits >= self.auth_failures
                        and row.window_start_s > now - self.auth_window_s):  # fmt: skip
                    retry = self._retry(row.window_start_s, self.auth_window_s, now)
                    return Verdict("address blocked", retry)
            if not api_key:
                return Verdict("no key")
            if not valid:
                if addr is None:
                    return Verdict("wrong key")
                hits, start = self._hit(conn, addr, now, self.auth_window_s)
                if hits > self.auth_failures:
                    return Verdict("address blocked", self._retry(start, self.auth_window_s, now))
                return Verdict("wrong key")
            hits, start = self._hit(conn, self.key_bucket(api_key), now, self.window_s)
            if hits > self.requests:
                return Verdict("over rate", self._retry(start, self.window_s, now))
            return Verdict("ok")

    @staticmethod
    def _hit(conn: Connection, bucket: str, now: float, window_s: float) -> tuple[int, float]:
        row = conn.execute(_HIT, {"bucket": bucket, "now": now, "ended": now - window_s}).one()
        conn.commit()
        return int(row.hits), float(row.window_start_s)

    def _maybe_purge(self, now: float) -> None:
        """Delete counters whose window ended (at most once a ``purge_every_s`` a process)."""
        if now < self._next_purge or not self._purge_lock.acquire(blocking=False):
            return
        try:
            self._next_purge = now + self.purge_every_s
            longest = max(self.window_s, self.auth_window_s)
            with self.engine.begin() as conn:
                conn.execute(_PURGE, {"ended": now - longest})
        finally:
            self._purge_lock.release()
