"""Compile the numba kernels once, ahead of the first real use, into numba's disk cache.

Every kernel is ``@njit(cache=True)``: numba compiles it at its first call (about 20 s
for all of them) and keeps the machine code in its cache, next to the sources when that
folder is writable, else in ``NUMBA_CACHE_DIR``. :func:`warm` makes that first call on
the embedded sample network (a matrix, a path and a plain Dijkstra), so that whatever
kernels the modules of :mod:`recyclenet.network` define get compiled, and checks that
none was missed (:func:`kernels`, :func:`missing`).

When it runs:

- ``recyclenet network warmup`` (:func:`main`): the Docker image
  and ``make setup`` run it after installing;
- at the first use after a plain ``pip install`` (:func:`ensure`, called when a network
  is loaded or a matrix is asked for, never at import): when the cache lacks a kernel,
  the warm-up starts in a background process (low priority). While it runs
  (:func:`compiling`), matrices are computed by scipy's Dijkstra
  (:func:`~recyclenet.network.shortest_paths.dijkstra_weights`, the same weights,
  nothing to compile), so the first matrix does not wait; other kernel calls wait for
  the warm-up (:func:`wait`) instead of compiling the same kernels a second time.
  ``RECYCLENET_NO_WARMUP=1`` turns the background warm-up off.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import pkgutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

#: Longest wait for a background warm-up before compiling in this process, seconds.
WAIT_LIMIT_S = 120.0
_started: subprocess.Popen[bytes] | None = None
_compiled = False
_warming = False  # True while warm() runs in this process


def kernels() -> dict[str, Any]:
    """Every cached numba kernel of :mod:`recyclenet.network` by qualified name (kernels
    inlined into others, ``inline="always"``, are never compiled on their own)."""
    from numba.core.registry import CPUDispatcher

    from .. import network

    out: dict[str, Any] = {}
    for info in pkgutil.iter_modules(network.__path__):
        if info.name == "warmup":
            continue
        mod = importlib.import_module(f"{network.__name__}.{info.name}")
        for name, obj in vars(mod).items():
            if (isinstance(obj, CPUDispatcher) and obj.py_func.__module__ == mod.__name__
                    and obj.targetoptions.get("inline", "never") != "always"
                    and getattr(obj, "_cache", None) is not None):  # fmt: skip
                out[f"{mod.__name__}.{name}"] = obj
    return out


def missing() -> list[str]:
    """Kernels with no valid entry in numba's cache (none compiled, or stale sources)."""
    out = []
    for name, disp in kernels().items():
        try:
            index = disp._cache._cache_file._load_index()  # numba internals, checked below
        except Exception:  # another numba version: treat as not cached
            index = {}
        if not index:
            out.append(name)
    return sorted(out)


def compiling() -> bool:
    """Whether a background warm-up is compiling the kernels now (started here by
    :func:`ensure`, which this calls, or by another process): matrices need not wait
    for it. False once they are cached, and in the warm-up itself or with
    ``RECYCLENET_NO_WARMUP`` (the kernels are then compiled where they are called)."""
    if _warming or os.environ.get("RECYCLENET_NO_WARMUP") or compiled():
        return False
    ensure()
    if _started is not None and _started.poll() is None:
        return True
    try:
        lock = _lock_path()
        return lock.exists() and time.time() - lock.stat().st_mtime < WAIT_LIMIT_S
    except (OSError, AttributeError):
        return False


def compiled() -> bool:
    """Whether every kernel is in numba's cache: checked until it is, then remembered
    (a kernel compiled in this process is written to the cache too)."""
    global _compiled
    if not _compiled:
        try:
            _compiled = not missing()
        except Exception:  # cannot tell (another numba): use the kernels
            _compiled = True
    return _compiled


def _lock_path() -> Path:
    from . import _ch

    build: Any = _ch._build
    cache = Path(build._cache._cache_path)
    return cache / "recyclenet-warmup.lock"


def warm() -> dict[str, Any]:
    """Compile every kernel (if not cached yet) by running them on the embedded sample.

    Returns ``{"seconds": ..., "kernels": n, "not_compiled": [...]}``; a kernel left
    out means the workload here needs a call that reaches it.
    """
    global _warming
    t = time.perf_counter()
    _warming = True  # this is the warm-up: call the kernels, start no other
    try:
        _run_every_kernel()
    finally:
        _warming = False
    return {"seconds": time.perf_counter() - t, "kernels": len(kernels()),
            "not_compiled": missing()}  # fmt: skip


def _run_every_kernel() -> None:
    import numpy as np
    import scipy.sparse as sp

    from ..matrix import build_matrix
    from ..points import Points
    from .load import load_network
    from .route import PathFinder
    from .shortest_paths import many_to_many

    net = load_network("helsinki")
    rng = np.random.default_rng(0)
    nodes = rng.choice(net.n_nodes, size=min(20, net.n_nodes), replace=False)
    pts = Points(tuple(f"w{int(k)}" for k in nodes), net.node_lon[nodes], net.node_lat[nodes])
    build_matrix(net, pts)
    build_matrix(net.without_turn_restrictions(), pts)
    PathFinder(net, pts).route(pts.ids[0], pts.ids[1])
    csr = sp.csr_matrix((np.ones(2), ([0, 1], [1, 2])), shape=(3, 3))
    many_to_many(csr, np.array([0]), np.array([2]))


def ensure() -> None:
    """Start :func:`warm` in a background process when some kernel is not cached (once
    per cache: a lock file marks a warm-up under way)."""
    global _started
    if _started is not None or _warming or os.environ.get("RECYCLENET_NO_WARMUP"):
        return
    try:
        if not missing():
            return
        lock = _lock_path()
        lock.parent.mkdir(parents=True, exist_ok=True)
        if lock.exists() and time.time() - lock.stat().st_mtime < WAIT_LIMIT_S:
            return  # another process is warming this cache
        lock.write_text(str(os.getpid()))
    except Exception:  # never let the warm-up break an import
        return
    env = {**os.environ, "RECYCLENET_NO_WARMUP": "1"}
    pkg_root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [pkg_root, env.get("PYTHONPATH")]))
    _started = subprocess.Popen(
        [sys.executable, "-c", "import sys; from recyclenet.network.warmup import main; "
         "sys.exit(main(['--quiet']))"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env=env, start_new_session=True,
        preexec_fn=(lambda: os.nice(10)) if hasattr(os, "nice") else None,
    )  # fmt: skip


def wait() -> None:
    """Before a first kernel call: let a warm-up under way finish (at most
    :data:`WAIT_LIMIT_S`), so this process loads its result instead of compiling."""
    if _warming or os.environ.get("RECYCLENET_NO_WARMUP"):  # the warm-up, or turned off
        return
    lock_alive = True
    t0 = time.perf_counter()
    while lock_alive and time.perf_counter() - t0 < WAIT_LIMIT_S:
        if _started is not None and _started.poll() is None:
            time.sleep(0.05)
            continue
        try:
            lock = _lock_path()
            lock_alive = lock.exists() and time.time() - lock.stat().st_mtime < WAIT_LIMIT_S
        except (OSError, AttributeError):
            lock_alive = False
        if lock_alive:
            time.sleep(0.05)


def main(argv: list[str] | None = None) -> int:
    """Warm up; ``--quiet``: print nothing. Exit code 1 if a kernel was not reached."""
    quiet = "--quiet" in (argv if argv is not None else sys.argv[1:])
    try:
        res = warm()
    finally:
        with contextlib.suppress(OSError, AttributeError):
            _lock_path().unlink(missing_ok=True)
    if not quiet:
        print(
            f"{res['kernels']} numba kernels compiled and cached in {res['seconds']:.1f} s"
            + (f"; not reached: {res['not_compiled']}" if res["not_compiled"] else "")
        )
    return 1 if res["not_compiled"] else 0
