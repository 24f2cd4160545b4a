"""LoopBatcher: the calls of one event-loop turn reach ``work`` as one batch."""

from __future__ import annotations

import asyncio
import threading

import pytest

from recyclenet_api.batching import LoopBatcher, LoopConnections


def test_concurrent_calls_are_one_batch_and_each_gets_its_result() -> None:
    batches: list[list[int]] = []
    threads: set[str] = set()

    def work(items: list[int]) -> list[int]:
        batches.append(list(items))
        threads.add(threading.current_thread().name)
        return [i * 10 for i in items]

    b: LoopBatcher[int, int] = LoopBatcher(work, name="t")

    async def main() -> list[int]:
        return list(await asyncio.gather(*(b.call(i) for i in range(50))))

    try:
        assert asyncio.run(main()) == [i * 10 for i in range(50)]
        assert batches == [list(range(50))]  # one turn: one batch, in arrival order
        assert asyncio.run(main()) == [i * 10 for i in range(50)]  # a new loop works too
        assert len(batches) == 2 and threads and all(t.startswith("t") for t in threads)
    finally:
        b.dispose()


def test_calls_during_a_batch_wait_for_the_next_one() -> None:
    release = threading.Event()
    batches: list[list[str]] = []

    def work(items: list[str]) -> list[str]:
        batches.append(list(items))
        if len(batches) == 1:
            release.wait(5)
        return [s.upper() for s in items]

    b: LoopBatcher[str, str] = LoopBatcher(work, name="t")

    async def main() -> list[str]:
        first = asyncio.ensure_future(b.call("a"))
        await asyncio.sleep(0.05)  # "a" is in the thread now
        later = [asyncio.ensure_future(b.call(x)) for x in ("b", "c")]
        await asyncio.sleep(0.05)
        release.set()
        return [await first, *[await f for f in later]]

    try:
        assert asyncio.run(main()) == ["A", "B", "C"]
        assert batches == [["a"], ["b", "c"]]
    finally:
        b.dispose()


def test_an_error_reaches_every_call_of_its_batch_and_the_next_batch_runs() -> None:
    calls = 0

    def work(items: list[int]) -> list[int]:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("database gone")
        return items

    b: LoopBatcher[int, int] = LoopBatcher(work, name="t")

    async def main() -> list[object]:
        return list(await asyncio.gather(b.call(1), b.call(2), return_exceptions=True))

    try:
        first = asyncio.run(main())
        assert [str(e) for e in first] == ["database gone", "database gone"]
        assert asyncio.run(main()) == [1, 2]
    finally:
        b.dispose()


def test_a_wrong_number_of_results_is_an_error_not_a_mixup() -> None:
    b: LoopBatcher[int, int] = LoopBatcher(lambda items: items[:1], name="t")

    async def main() -> None:
        await asyncio.gather(b.call(1), b.call(2))

    try:
        with pytest.raises(RuntimeError, match="1 results for 2 calls"):
            asyncio.run(main())
    finally:
        b.dispose()


def test_coroutine_work_runs_on_the_callers_loop_one_batch_a_turn() -> None:
    batches: list[tuple[list[int], str]] = []

    async def work(items: list[int]) -> list[int]:
        batches.append((list(items), threading.current_thread().name))
        await asyncio.sleep(0.01)
        return [i * 10 for i in items]

    b: LoopBatcher[int, int] = LoopBatcher(work, name="t")

    async def main() -> list[int]:
        first = await asyncio.gather(*(b.call(i) for i in range(20)))
        return [*first, await b.call(99)]

    assert asyncio.run(main()) == [*(i * 10 for i in range(20)), 990]
    here = threading.current_thread().name  # no worker thread: the loop's own
    assert batches == [(list(range(20)), here), ([99], here)]
    b.dispose()


def test_loop_connection_is_replaced_after_it_broke(pg_database: str) -> None:
    """A loop's PostgreSQL connection killed by the server: the next batch reconnects
    (and runs the setup statements again) instead of failing."""
    import psycopg

    conns = LoopConnections(pg_database, setup=["SET synchronous_commit TO OFF"],
                            name="recyclenet-test-loop-conns")  # fmt: skip

    async def backend(conn: psycopg.AsyncConnection) -> tuple[int, str]:
        cur = await conn.execute("SELECT pg_backend_pid(), current_setting('synchronous_commit')")
        row = await cur.fetchone()
        assert row is not None
        return int(row[0]), str(row[1])

    async def main() -> tuple[tuple[int, str], tuple[int, str], tuple[int, str]]:
        first = await conns.run(backend)
        again = await conns.run(backend)
        with psycopg.connect(pg_database.replace("+psycopg", ""), autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", [first[0]])
        return first, again, await conns.run(backend)

    try:
        first, again, after = asyncio.run(main())
    finally:
        conns.close()
    assert first == again and first[1] == "off"  # one connection per loop, kept
    assert after[0] != first[0] and after[1] == "off"
