"""The job runner: solves run in child processes, never in the event loop.

Design
------
* Every job runs in its own ``multiprocessing.Process`` (``forkserver`` context where
  available, else ``spawn``; the fork server preloads recyclenet, so a job starts in a few
  milliseconds without inheriting the server's threads or sockets). A process per job,
  rather than a ``ProcessPoolExecutor``, lets a cancelled or overrunning job be killed
  without disturbing the others. At most ``max_concurrent_solves`` run at once per
  server process; further jobs wait in the ``queued`` state.
* The database is the queue: a submitted job is a ``queued`` row; the runner thread claims
  rows with a conditional update, so several server processes (``--workers N``) may share
  one database and each job still runs once.
* The child sends ``progress``, then ``done`` (the JSON result) or ``error`` (a problem
  dict) over a pipe. The runner stores a result as a new immutable plan and marks the job
  ``done`` in one transaction.
* Job processes run at ``job_nice`` (default 10) added to the server's niceness: a solve
  takes whatever CPU requests leave, so reads stay fast while jobs run.
* Cancel: ``DELETE /jobs/{id}`` marks the row ``cancelled``; the runner owning the job sees
  it (at once if it is in the same process, else within half a second) and kills the
  child's whole process group (SIGTERM, then SIGKILL after 2 s).
* Time limits: a job that runs past its ``time_limit_s`` plus ``job_grace_s`` is killed and
  failed with ``time limit exceeded``.
* Restart: the chosen policy is **fail, not re-queue**. A job that was ``running`` when its
  server process died is marked ``failed`` with title ``interrupted by restart`` at the next
  start (same host, dead owner pid) or, for owners on other hosts, once its heartbeat is
  older than ``stale_after_s``. Re-running it silently could repeat a long solve the client
  no longer wants and would give the same id two different histories; failing it is
  visible, and the client can resubmit the same payload. Queued jobs are never lost: any
  server process picks them up. Stored plans are never touched.
* No orphan solves: each job process forks a reaper (its own process group, waiting on
  the pidfds of the job process and the server process) that kills the job's process
  group and removes the job's temporary folder (``$TMPDIR/recyclenet-job-<pid>-*``, where
  every temporary file of the job goes) as soon as either dies, ``kill -9`` included.
  Library helpers (PyVRP searches, forked MIP solves) also die with their parent
  (:mod:`recyclenet.procs`). A watcher thread on the job's pipe backs this up.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import logging
import multiprocessing
import multiprocessing.connection as mpc
import os
import select
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
import traceback
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .settings import Settings
from .store import Store
from .tasks import JOB_KINDS

log = logging.getLogger("recyclenet_api.jobs")

_PRELOAD = ["recyclenet", "recyclenet_api.tasks.siting", "recyclenet_api.tasks.routing"]


def mp_context() -> multiprocessing.context.BaseContext:
    """forkserver on POSIX (preloading recyclenet), spawn elsewhere."""
    if "forkserver" in multiprocessing.get_all_start_methods() and sys.platform != "darwin":
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(_PRELOAD)
        return ctx
    return multiprocessing.get_context("spawn")


# ---------------------------------------------------------------------- child side
def resolve(ref: str) -> Any:
    module, _, name = ref.partition(":")
    obj: Any = importlib.import_module(module)
    for part in name.split("."):
        obj = getattr(obj, part)
    return obj


def error_problem(exc: BaseException, memory_mb: int = 0) -> dict[str, Any]:
    """A problem dict (RFC 9457 members) for an exception raised by a job function.

    ``memory_mb`` is the job's memory limit (0: none), named when it ran out of memory.
    """
    from recyclenet.errors import InputError, LimitError, RecyclenetError

    if isinstance(exc, LimitError):
        return {
            "status": 413,
            "title": "input over a limit",
            "detail": str(exc),
            "limit": exc.limit,
            "limit_value": exc.value,
            "error_type": type(exc).__name__,
        }
    if isinstance(exc, MemoryError):
        return memory_problem(memory_mb)
    if isinstance(exc, InputError):
        return {
            "status": 422,
            "title": "invalid input",
            "detail": str(exc),
            "error_type": type(exc).__name__,
        }
    if isinstance(exc, RecyclenetError):
        return {
            "status": 500,
            "title": "solver error",
            "detail": str(exc),
            "error_type": type(exc).__name__,
        }
    return {
        "status": 500,
        "title": "job failed",
        "detail": f"{type(exc).__name__}: {exc}",
        "error_type": type(exc).__name__,
    }


def memory_problem(memory_mb: int, exitcode: int | None = None) -> dict[str, Any]:
    """The problem of a job that ran out of its memory (``RLIMIT_AS``) limit."""
    how = "ran out of memory" if exitcode is None else f"died (exit code {exitcode})"
    limit = f"{memory_mb:,} MiB" if memory_mb else "the machine's memory"
    return {
        "status": 422,
        "title": "memory limit exceeded",
        "detail": f"the job {how}: job processes may use at most {limit} "
        "(RECYCLENET_JOB_MEMORY_MB); give a smaller network or problem",
        "limit": "job_memory_mb",
        "limit_value": memory_mb,
        "error_type": "MemoryError",
    }


def limit_memory(memory_mb: int) -> None:
    """Cap this process's address space (``RLIMIT_AS``) at ``memory_mb`` MiB (0: no cap).

    Inherited by the helper processes it starts; an allocation past it fails
    (``MemoryError`` in Python) instead of growing until the machine swaps or an
    outside watchdog kills the process.
    """
    if memory_mb <= 0:
        return
    import resource

    limit = memory_mb * 1024 * 1024
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


JOB_TMP_PREFIX = "recyclenet-job-"
"""Each job process's temporary folder: ``$TMPDIR/recyclenet-job-<pid>-<random>``."""


def _exited(pid: int) -> Any:
    """Something ``select`` reports readable once process ``pid`` has exited: a pidfd
    (Linux 5.3+), or None where there is none (then :func:`_pid_alive` is polled)."""
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):
        return None


def _start_reaper(tmp: str, conn_fd: int, server_pid: int | None) -> None:
    """Fork a reaper that, once this job process or the server process dies however it
    dies (SIGKILL included), kills the job's process group (the job process and every
    helper it started) and removes the job's temporary folder.

    The reaper sits in its own process group, waiting on the two processes' pidfds, so it
    needs no CPU, no GIL and no cooperation from the job process, whose Python may be
    stuck in a solver. (A parent-death signal cannot stand in for watching the server:
    a job's parent is the fork server, which outlives a killed server while it has
    children.)
    """
    job_pid, pgid = os.getpid(), os.getpgrp()
    if os.fork():
        return
    try:  # the reaper: only OS calls, then _exit
        with contextlib.suppress(OSError):
            os.close(conn_fd)  # the runner sees the job's pipe close with the job
        os.setpgid(0, 0)
        watched = [job_pid] + ([server_pid] if server_pid else [])
        fds = [fd for fd in (_exited(p) for p in watched) if fd is not None]
        if len(fds) == len(watched):
            select.select(fds, [], [])
        else:  # no pidfds here: poll
            while all(_pid_alive(p) for p in watched):
                time.sleep(0.2)
    finally:
        with contextlib.suppress(OSError):
            os.killpg(pgid, signal.SIGKILL)
        shutil.rmtree(tmp, ignore_errors=True)
        os._exit(0)


def watch_server(server_pid: int) -> None:
    """Exit this process at once when the server process ``server_pid`` exits (a
    daemon thread waiting on its pidfd; for idle helper processes such as the body
    validator)."""

    def wait() -> None:
        fd = _exited(server_pid)
        if fd is not None:
            select.select([fd], [], [])
        else:
            while _pid_alive(server_pid):
                time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=wait, name="recyclenet-watch-server", daemon=True).start()


def sweep_job_folders(root: str | None = None) -> int:
    """Remove job temporary folders whose process is gone (left by a reaper that was
    killed too); returns how many were removed."""
    removed = 0
    base = Path(root or tempfile.gettempdir())
    for folder in base.glob(JOB_TMP_PREFIX + "*"):
        pid_text = folder.name[len(JOB_TMP_PREFIX) :].partition("-")[0]
        if pid_text.isdigit() and not _pid_alive(int(pid_text)):
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    return removed


def _watch_server(conn: mpc.Connection) -> None:
    """Exit (with helper processes) once the server's end of the pipe is gone.

    The parent never sends anything, so the pipe becoming readable means end-of-file:
    the server process died or dropped the job. Watching the pipe rather than the parent
    pid matters with the fork server: a job's parent is the fork server, which outlives
    a killed server while its children run.
    """
    try:
        while not conn.poll(1.0):
            pass
    except (OSError, EOFError, ValueError):
        pass
    with contextlib.suppress(OSError):
        if os.getpgrp() == os.getpid():
            os.killpg(os.getpid(), signal.SIGKILL)
    os._exit(3)


def run_job(
    ref: str, payload: dict[str, Any], progress: Any = None, memory_mb: int = 0
) -> tuple[str, Any]:
    """Run the job function ``ref`` on ``payload`` (rebuilt as the function's payload
    model, :func:`recyclenet_api.tasks.job_argument`): ``("done", result)`` or
    ``("error", problem)``. Never raises, so it also serves as a Dask task (the problem
    dict keeps an error's HTTP status, which a pickled exception might not)."""
    from .tasks import job_argument, to_jsonable

    try:
        func = resolve(ref)
        kwargs: dict[str, Any] = {}
        with contextlib.suppress(TypeError, ValueError):
            if progress is not None and "progress" in inspect.signature(func).parameters:
                kwargs["progress"] = progress
        result = to_jsonable(func(job_argument(func, payload), **kwargs))
        if not isinstance(result, dict):
            raise TypeError(f"job function {ref} returned {type(result).__name__}, not a dict")
        return "done", result
    except BaseException as exc:  # report everything; the parent decides
        from recyclenet.errors import InputError

        if not isinstance(exc, InputError | MemoryError):
            traceback.print_exc()
        return "error", error_problem(exc, memory_mb)


def _run_on_cluster(
    scheduler: str, ref: str, payload: dict[str, Any], progress: Any
) -> tuple[str, Any]:
    """Hand the job to the Dask cluster at ``scheduler`` and wait for its outcome."""
    try:
        from recyclenet.scale import TaskFailure, open_client, run_tasks

        with open_client(scheduler) as client:
            progress({"phase": f"solving on the Dask cluster at {scheduler}"})
            out = run_tasks(client, run_job, {"job": (ref, payload)}, name="recyclenet-job")
    except BaseException as exc:  # cannot reach the scheduler, or a worker died
        return "error", error_problem(exc)
    if isinstance(out["job"], TaskFailure):
        failure = out["job"]
        return "error", {"status": 500, "title": "job failed on the cluster",
                         "detail": f"{failure.error_type}: {failure.message}"}  # fmt: skip
    return tuple(out["job"])


def child_main(
    ref: str,
    payload: dict[str, Any],
    conn: mpc.Connection,
    nice: int = 0,
    scheduler: str | None = None,
    memory_mb: int = 0,
    server_pid: int | None = None,
) -> None:
    """Entry point of a job process: run ``ref(payload)`` and report over ``conn``.

    ``nice`` is added to the process's niceness (inherited by its helper processes), so
    the server's request handling wins the CPU over solves. With ``scheduler`` (a Dask
    scheduler address) the solve runs on that cluster and this process waits for it.
    ``memory_mb`` caps the process's address space (:func:`limit_memory`). A reaper
    (:func:`_start_reaper`) kills the job's process group and removes its temporary
    folder when the job process or the server process ``server_pid`` dies.
    """
    with contextlib.suppress(OSError, AttributeError):
        os.setpgrp()  # own process group: a kill reaches helper processes too
    if server_pid and not _pid_alive(server_pid):
        os._exit(3)  # the server died before this line
    tmp = tempfile.mkdtemp(prefix=f"{JOB_TMP_PREFIX}{os.getpid()}-")
    tempfile.tempdir = tmp  # every temporary file of the job, helpers' too, goes here
    os.environ["TMPDIR"] = tmp
    _start_reaper(tmp, conn.fileno(), server_pid)
    if nice > 0:
        with contextlib.suppress(OSError, AttributeError):
            os.nice(nice)
    threading.Thread(target=_watch_server, args=(conn,), daemon=True).start()
    from .tasks import to_jsonable

    limit_memory(0 if scheduler else memory_mb)

    def progress(info: dict[str, Any]) -> None:
        with contextlib.suppress(Exception):
            conn.send(("progress", to_jsonable(dict(info))))

    try:
        if scheduler:
            outcome = _run_on_cluster(scheduler, ref, payload, progress)
        else:
            outcome = run_job(ref, payload, progress, memory_mb)
        with contextlib.suppress(Exception):
            conn.send(outcome)
    finally:
        conn.close()
        shutil.rmtree(tmp, ignore_errors=True)


def _kill_group(proc: multiprocessing.process.BaseProcess) -> None:
    """SIGTERM the child's process group, SIGKILL after 2 s; reap it."""
    pid = proc.pid
    if pid is None:
        return
    for sig, wait_s in ((signal.SIGTERM, 2.0), (signal.SIGKILL, 5.0)):
        if not proc.is_alive():
            break
        try:
            os.killpg(pid, sig)
        except (ProcessLookupError, PermissionError, OSError):
            with contextlib.suppress(Exception):
                proc.kill() if sig == signal.SIGKILL else proc.terminate()
        proc.join(wait_s)
    with contextlib.suppress(Exception):
        proc.close()


class ChildFailedError(Exception):
    """A one-off child (see :func:`run_in_child`) reported an error or died."""

    def __init__(self, problem: dict[str, Any]) -> None:
        super().__init__(problem.get("detail", "child process failed"))
        self.problem = problem


def run_in_child(
    ctx: multiprocessing.context.BaseContext,
    ref: str,
    payload: dict[str, Any],
    timeout_s: float,
    *,
    nice: int = 0,
    memory_mb: int = 0,
) -> dict[str, Any]:
    """Run one function in a child process and wait for it (blocking; use from a thread)."""
    parent_conn, child_conn = ctx.Pipe(duplex=True)
    proc = ctx.Process(  # type: ignore[attr-defined]
        target=child_main,
        args=(ref, payload, child_conn, nice, None, memory_mb, os.getpid()),
        daemon=False,
    )
    proc.start()
    child_conn.close()
    deadline = time.monotonic() + timeout_s
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise ChildFailedError(
                    {
                        "status": 422,
                        "title": "time limit exceeded",
                        "detail": f"no result within {timeout_s:g} s",
                    }
                )
            if parent_conn.poll(min(left, 0.5)):
                try:
                    kind, body = parent_conn.recv()
                except EOFError:
                    raise ChildFailedError(_died(proc, memory_mb)) from None
                if kind == "done":
                    return body
                if kind == "error":
                    raise ChildFailedError(body)
            elif not proc.is_alive() and not parent_conn.poll():
                raise ChildFailedError(_died(proc, memory_mb))
    finally:
        parent_conn.close()
        _kill_group(proc)


def _died(proc: multiprocessing.process.BaseProcess, memory_mb: int = 0) -> dict[str, Any]:
    proc.join(1)
    if memory_mb and proc.exitcode in (-signal.SIGABRT, -signal.SIGSEGV):
        # a failed allocation in native code aborts; past RLIMIT_AS that is the likely cause
        return memory_problem(memory_mb, proc.exitcode)
    return {
        "status": 500,
        "title": "job process died",
        "detail": f"the worker process exited with code {proc.exitcode} without a result",
    }


# ---------------------------------------------------------------------- parent side
@dataclass
class _Active:
    job_id: str
    proc: multiprocessing.process.BaseProcess
    conn: mpc.Connection
    deadline: float
    time_limit_s: float
    progress: dict[str, Any] = field(default_factory=dict)
    progress_dirty: bool = False
    progress_written: float = 0.0
    finished: bool = False


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class JobRunner:
    """Claims queued jobs from the store and runs them in child processes (one thread)."""

    def __init__(
        self,
        store: Store,
        settings: Settings,
        kinds: dict[str, str] | None = None,
        mp_ctx: multiprocessing.context.BaseContext | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        self.kinds = dict(JOB_KINDS) if kinds is None else kinds  # shared, read at job start
        self.host = socket.gethostname()
        self.owner = f"{self.host}:{os.getpid()}:{uuid.uuid4().hex[:12]}"
        self.ctx = mp_ctx or mp_context()
        self._active: dict[str, _Active] = {}
        self._cancel: set[str] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_w, False)
        os.set_blocking(self._wake_r, False)

    # -------------------------------------------------------------- control
    def start(self) -> None:
        self.recover()
        sweep_job_folders()
        self._thread = threading.Thread(target=self._loop, name="recyclenet-jobs", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self.wake()
        if self._thread is not None:
            self._thread.join(timeout=15)
        with self._lock:
            active = list(self._active.values())
            self._active.clear()
        for act in active:
            _kill_group(act.proc)
            self.store.fail_job(
                act.job_id,
                self.owner,
                {
                    "title": "interrupted by restart",
                    "status": 503,
                    "detail": "the server shut down while this job ran; submit it again",
                },
            )
        for fd in (self._wake_r, self._wake_w):
            with contextlib.suppress(OSError):
                os.close(fd)

    def wake(self) -> None:
        with contextlib.suppress(OSError):
            os.write(self._wake_w, b"x")

    def cancel(self, job_id: str) -> None:
        """Kill the job's process if it runs here (the row is already ``cancelled``)."""
        with self._lock:
            self._cancel.add(job_id)
        self.wake()

    @property
    def running(self) -> int:
        with self._lock:
            return len(self._active)

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def recover(self) -> int:
        """Fail running jobs whose server process is gone; see the module docstring."""
        stale = self.store.stale_before(self.settings.stale_after_s)
        orphans = []
        for job_id, owner, heartbeat in self.store.running_jobs():
            if owner == self.owner:
                continue
            host, _, rest = (owner or "").partition(":")
            pid_text = rest.partition(":")[0]
            if host == self.host and pid_text.isdigit():
                pid = int(pid_text)
                if pid == os.getpid() or not _pid_alive(pid):
                    orphans.append(job_id)
                    continue
            if heartbeat is None or heartbeat < stale:
                orphans.append(job_id)
        if orphans:
            log.warning("failing %d job(s) interrupted by a restart: %s", len(orphans), orphans)
            self.store.fail_orphans(
                orphans,
                (
                    "the server process running this job stopped (restart or crash) before it "
                    "finished; running jobs are failed rather than re-queued, submit it again"
                ),
            )
        return len(orphans)

    # -------------------------------------------------------------- loop
    def _loop(self) -> None:
        last_check = last_beat = last_recover = time.monotonic()
        while not self._stop.is_set():
            try:
                self._wait_and_collect(0.25)
                self._kill_cancelled_local()
                now = time.monotonic()
                if now - last_check >= 0.5:
                    with self._lock:
                        dirty = [a for a in self._active.values() if a.progress_dirty]
                    for act in dirty:
                        self._write_progress(act)
                    self._kill_cancelled_remote()
                    self._enforce_deadlines()
                    last_check = now
                if now - last_beat >= self.settings.heartbeat_s:
                    with self._lock:
                        ids = list(self._active)
                    self.store.heartbeat(self.owner, ids)
                    last_beat = now
                if now - last_recover >= self.settings.stale_after_s / 2:
                    self.recover()
                    last_recover = now
                self._start_queued()
            except Exception:  # keep the runner alive through database hiccups
                log.exception("job runner loop error")
                time.sleep(0.5)

    def _wait_and_collect(self, timeout: float) -> None:
        with self._lock:
            active = list(self._active.values())
        objects: list[Any] = [self._wake_r]
        for act in active:
            objects.extend([act.conn, act.proc.sentinel])
        ready = mpc.wait(objects, timeout=timeout)
        if self._wake_r in ready:
            with contextlib.suppress(BlockingIOError, OSError):
                while os.read(self._wake_r, 4096):
                    pass
        for act in active:
            if act.conn in ready or act.proc.sentinel in ready:
                self._drain(act)

    def _drain(self, act: _Active) -> None:
        try:
            while not act.finished and act.conn.poll():
                kind, body = act.conn.recv()
                if kind == "progress":
                    act.progress = body
                    act.progress_dirty = True
                    if time.monotonic() - act.progress_written >= 0.2:
                        self._write_progress(act)
                elif kind == "done":
                    plan_id = self.store.finish_job(
                        act.job_id,
                        self.owner,
                        body,
                        {**act.progress, "phase": "done", "percent": 100},
                    )
                    log.info("job %s done, plan %s", act.job_id, plan_id)
                    self._retire(act)
                elif kind == "error":
                    self.store.fail_job(act.job_id, self.owner, body)
                    self._retire(act)
        except (EOFError, OSError):
            pass
        if not act.finished and not act.proc.is_alive():
            self.store.fail_job(
                act.job_id, self.owner, _died(act.proc, self.settings.job_memory_mb)
            )
            self._retire(act)

    def _write_progress(self, act: _Active) -> None:
        act.progress_dirty = False
        act.progress_written = time.monotonic()
        self.store.set_progress(act.job_id, self.owner, act.progress)

    def _retire(self, act: _Active, kill: bool = False) -> None:
        act.finished = True
        with self._lock:
            self._active.pop(act.job_id, None)
            self._cancel.discard(act.job_id)
        with contextlib.suppress(Exception):
            act.conn.close()
        if kill:
            _kill_group(act.proc)
        else:
            act.proc.join(2)
            if act.proc.is_alive():
                _kill_group(act.proc)
            with contextlib.suppress(Exception):
                act.proc.close()
        self.wake()

    def _kill_cancelled_local(self) -> None:
        with self._lock:
            targets = [self._active[j] for j in self._cancel if j in self._active]
            self._cancel.clear()
        for act in targets:
            log.info("cancelling job %s", act.job_id)
            self._retire(act, kill=True)

    def _kill_cancelled_remote(self) -> None:
        with self._lock:
            ids = list(self._active)
        if not ids:
            return
        statuses = self.store.statuses(ids)
        with self._lock:
            targets = [
                self._active[j] for j in ids if statuses.get(j) != "running" and j in self._active
            ]
        for act in targets:
            self._retire(act, kill=True)

    def _enforce_deadlines(self) -> None:
        now = time.monotonic()
        with self._lock:
            late = [a for a in self._active.values() if now > a.deadline]
        for act in late:
            self._retire(act, kill=True)
            self.store.fail_job(
                act.job_id,
                self.owner,
                {
                    "status": 422,
                    "title": "time limit exceeded",
                    "detail": f"the job ran past its time limit of {act.time_limit_s:g} s "
                    f"(plus {self.settings.job_grace_s:g} s grace) and was stopped",
                },
            )

    def _start_queued(self) -> None:
        with self._lock:
            free = self.settings.max_concurrent_solves - len(self._active)
        for job in self.store.claim_jobs(self.owner, free):
            ref = self.kinds.get(job.kind)
            if ref is None:
                self.store.fail_job(
                    job.id,
                    self.owner,
                    {
                        "status": 500,
                        "title": "unknown job kind",
                        "detail": f"this server cannot run jobs of kind {job.kind!r}",
                    },
                )
                continue
            parent_conn, child_conn = self.ctx.Pipe(duplex=True)
            proc = self.ctx.Process(  # type: ignore[attr-defined]
                target=child_main,
                args=(
                    ref,
                    job.payload,
                    child_conn,
                    self.settings.job_nice,
                    self.settings.dask_scheduler,
                    self.settings.job_memory_mb,
                    os.getpid(),
                ),
                daemon=False,
                name=f"recyclenet-job-{job.id}",
            )
            proc.start()
            child_conn.close()
            deadline = time.monotonic() + job.time_limit_s + self.settings.job_grace_s
            with self._lock:
                self._active[job.id] = _Active(
                    job.id, proc, parent_conn, deadline, job.time_limit_s
                )
            log.info("job %s (%s) started in pid %s", job.id, job.kind, proc.pid)
