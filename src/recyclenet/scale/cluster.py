"""Running recyclenet work on Dask: the client, shared inputs, tasks and their progress.

Everything that goes to a worker is a top-level function of :mod:`recyclenet.scale`
and plain, picklable values. Large inputs that many tasks share (a road network, a
matrix) are sent once with :func:`share` (``client.scatter(..., broadcast=True)``);
inputs of one task only (a district's or a depot's sub-matrix) are scattered on their
own with :func:`run_tasks`, so the task graph stays small.

A worker never raises to the client: every task runs inside :func:`_guarded`, which
returns a :class:`TaskFailure` with the error's type and message instead (some
recyclenet errors, like :class:`~recyclenet.errors.SnapError`, do not survive
pickling, and one failing part must not stop the others).

Workers must be allowed to start child processes: the siting MIP runs in a forked
child that is killed at its deadline (:mod:`recyclenet.siting._ortools`), and Dask's
worker processes are daemonic by default, which forbids children. :func:`open_client`
starts local workers with ``distributed.worker.daemon = False``; on workers of an
existing cluster that are daemonic, :func:`_guarded` lifts the flag for the duration of
the task (the forked solver child is itself a daemon and is killed at its deadline).
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import multiprocessing as mp
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import InputError

if TYPE_CHECKING:
    from distributed import Client

    from ..network import RoadNetwork

DEFAULT_WORKERS = 2
"""Workers of the local cluster when none are asked for."""
CONNECT_TIMEOUT_S = 10.0
"""Seconds to wait for an existing scheduler to answer."""

Progress = Callable[[int, int, str, "TaskFailure | None"], None]
"""``progress(done, total, task_id, failure)``: called as each task finishes."""


@dataclass(frozen=True)
class TaskFailure:
    """A task that raised, as data: the error's type name and message.

    Attributes
    ----------
    task_id : str
    error_type : str
        E.g. ``"InputError"``.
    message : str
    """

    task_id: str
    error_type: str
    message: str

    def __str__(self) -> str:
        return f"{self.error_type}: {self.message}"


@contextlib.contextmanager
def open_client(
    scheduler: str | None = None,
    *,
    n_workers: int = DEFAULT_WORKERS,
    processes: bool = True,
    threads_per_worker: int = 1,
) -> Iterator[Client]:
    """A Dask client: on an existing scheduler, or on a new local cluster.

    Parameters
    ----------
    scheduler : str, optional
        Address of a running scheduler (``tcp://host:8786``). None: start a
        ``LocalCluster`` on loopback for the duration of the ``with`` block.
    n_workers : int, default 2
        Local workers (ignored with ``scheduler``).
    processes : bool, default True
        Local workers as processes (True) or as threads of this process.
    threads_per_worker : int, default 1
        One solve per worker at a time: the solvers are single-threaded and the
        parallelism comes from the workers.

    Yields
    ------
    distributed.Client

    Raises
    ------
    InputError
        The scheduler cannot be reached, or ``n_workers`` is below 1.

    Notes
    -----
    Local worker processes are spawned: a script that starts a local cluster needs the
    ``if __name__ == "__main__":`` guard (see ``benchmarks/scale.py``).
    """
    import dask
    from distributed import Client, LocalCluster

    if scheduler:
        try:
            client = Client(scheduler, timeout=CONNECT_TIMEOUT_S)
        except (OSError, TimeoutError, ValueError) as exc:
            raise InputError(
                f"--scheduler {scheduler!r}: cannot reach a Dask scheduler there ({exc}); "
                "start one with `dask scheduler` (and workers with `dask worker ADDRESS`), "
                "or leave the option out to run a local cluster"
            ) from None
        try:
            yield client
        finally:
            client.close()
        return
    if isinstance(n_workers, bool) or not isinstance(n_workers, int) or n_workers < 1:
        raise InputError(f"workers must be an integer >= 1, got {n_workers!r}")
    with dask.config.set({"distributed.worker.daemon": False}):
        cluster = LocalCluster(
            n_workers=n_workers,
            threads_per_worker=threads_per_worker,
            processes=processes,
            host="127.0.0.1",
            dashboard_address=None,
            # no dashboard; the scheduler's HTTP routes (health) on a free loopback port
            # rather than 8787, which another cluster on the machine may hold
            scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"},
            silence_logs=logging.ERROR,
        )
    try:
        with Client(cluster) as client:
            yield client
    finally:
        cluster.close()


def portable_network(network: RoadNetwork) -> RoadNetwork:
    """A copy of ``network`` that pickles cleanly and cheaply, for :func:`share`.

    A loaded network keeps a closure that rebuilds it for other vehicle profiles
    (``with_profile``); the closure holds every OSM way of the file and does not pickle
    with the standard library. The copy drops it (``with_profile`` then raises: share one
    network per profile) and keeps the arrays (not copied) and the indexes already built
    (contraction hierarchy, snapping index), so workers do not build them again.
    Helsinki sample, walk profile: 1.5 MB pickled, plus 0.4 MB for the hierarchy.
    """
    lean = dataclasses.replace(network, _rebuild=None)
    for name in ("contraction_hierarchy", "edge_index", "fingerprint", "bbox"):
        if name in network.__dict__:
            lean.__dict__[name] = network.__dict__[name]
    return lean


def share(client: Client | None, value: Any) -> Any:
    """Send ``value`` to every worker once; returns a future to pass to tasks.

    Without a client the value itself is returned (tasks then run in this process).
    """
    if client is None:
        return value
    return client.scatter(value, broadcast=True, hash=False)


def run_tasks(
    client: Client | None,
    func: Callable[..., Any],
    tasks: Mapping[str, tuple[Any, ...]],
    *,
    scatter_first: bool = False,
    progress: Progress | None = None,
    on_result: Callable[[str, Any], None] | None = None,
    on_start: Callable[[str], None] | None = None,
    name: str = "recyclenet",
) -> dict[str, Any]:
    """Run ``func(*args)`` for each task id, on the cluster or (no client) in turn here.

    Parameters
    ----------
    client : distributed.Client or None
    func : callable
        A top-level function (importable on the workers).
    tasks : mapping task id -> args
        Arguments may be futures from :func:`share`.
    scatter_first : bool
        Scatter each task's first argument to the cluster on its own before submitting
        (for large per-task inputs such as sub-matrices).
    progress : callable, optional
        ``progress(done, total, task_id, failure_or_None)`` as each task ends.
    on_result : callable, optional
        ``on_result(task_id, result_or_failure)`` as each task ends, before
        ``progress`` (e.g. to write its output at once).
    on_start : callable, optional
        ``on_start(task_id)`` as each task starts here (no client), or is handed to the
        cluster (queued or running there).
    name : str
        Prefix of the Dask task keys (shown on the dashboard).

    Returns
    -------
    dict task id -> result or :class:`TaskFailure`
        In the order of ``tasks``.
    """
    total = len(tasks)
    results: dict[str, Any] = {}
    if client is None:
        for done, (tid, args) in enumerate(tasks.items(), start=1):
            if on_start is not None:
                on_start(tid)
            results[tid] = _guarded(tid, func, *args)
            _report(progress, on_result, done, total, tid, results[tid])
        return {tid: results[tid] for tid in tasks}
    from distributed import as_completed

    token = uuid.uuid4().hex[:8]
    futures = {}
    for tid, args in tasks.items():
        if scatter_first and args:
            args = (client.scatter(args[0], hash=False), *args[1:])
        fut = client.submit(_guarded, tid, func, *args, key=f"{name}-{tid}-{token}", pure=False)
        futures[fut] = tid
        if on_start is not None:
            on_start(tid)
    for done, fut in enumerate(as_completed(list(futures)), start=1):
        tid = futures[fut]
        try:
            results[tid] = fut.result()
        except Exception as exc:  # the worker died, or the result did not unpickle
            results[tid] = TaskFailure(tid, type(exc).__name__, str(exc))
        fut.release()
        _report(progress, on_result, done, total, tid, results[tid])
    return {tid: results[tid] for tid in tasks}


def _report(
    progress: Progress | None,
    on_result: Callable[[str, Any], None] | None,
    done: int,
    total: int,
    tid: str,
    result: Any,
) -> None:
    if on_result is not None:
        on_result(tid, result)
    if progress is not None:
        progress(done, total, tid, result if isinstance(result, TaskFailure) else None)


def _guarded(task_id: str, func: Callable[..., Any], *args: Any) -> Any:
    """Run one task on a worker; errors come back as :class:`TaskFailure`."""
    with _children_allowed():
        try:
            return func(*args)
        except Exception as exc:
            return TaskFailure(task_id, type(exc).__name__, str(exc))


@contextlib.contextmanager
def _children_allowed() -> Iterator[None]:
    """Lift the daemon flag of a daemonic worker process while a task runs (see above)."""
    proc = mp.current_process()
    config = getattr(proc, "_config", None)
    if not (isinstance(config, dict) and config.get("daemon")):
        yield
        return
    config["daemon"] = False
    try:
        yield
    finally:
        config["daemon"] = True


def worker_count(client: Client | None) -> int:
    """Workers of the cluster behind ``client`` (0 without a client: in-process)."""
    return 0 if client is None else len(client.nthreads())
