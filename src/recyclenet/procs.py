"""Helper processes that die with their parent (Linux ``PR_SET_PDEATHSIG``).

A solve may start helper processes (PyVRP in a child interpreter, a forked MIP solve).
If the process that started them is killed, nothing would stop them: they would run to
their time limit, unseen. :func:`die_with_parent` asks the kernel to kill the calling
process when its parent dies, which works even while the parent's Python is busy in a
solver that holds the GIL; :func:`start_helper` starts a command that way. Elsewhere
than Linux both are no-ops (helpers there rely on their own deadlines).
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Sequence
from typing import Any

_PR_SET_PDEATHSIG = 1


def die_with_parent(expected_parent: int | None = None, sig: int = signal.SIGKILL) -> bool:
    """Have the kernel send ``sig`` to this process when its parent dies.

    Parameters
    ----------
    expected_parent : int, optional
        The parent's pid when the child was started; if the parent is already gone (the
        race between starting and this call), the process exits at once.
    sig : int
        The signal to receive (SIGKILL by default: no cleanup, no delay).

    Returns
    -------
    bool
        True when the request is in place (Linux), False where unsupported.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        ok = libc.prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False
    if ok and expected_parent is not None and os.getppid() != expected_parent:
        os._exit(1)  # the parent died before the request was in place
    return ok


def _preexec(parent: int) -> Callable[[], None]:
    def run() -> None:
        die_with_parent(parent)

    return run


def start_helper(args: Sequence[str], **kwargs: Any) -> subprocess.Popen[bytes]:
    """``subprocess.Popen(args, **kwargs)`` for a helper that dies with this process.

    The parent-death request is made in the child between fork and exec, so it holds
    from the helper's first instruction; it follows the thread that calls this, so call
    it from the thread that waits for the helper (the main thread of a solve).
    """
    if sys.platform.startswith("linux"):
        kwargs.setdefault("preexec_fn", _preexec(os.getpid()))
    return subprocess.Popen(list(args), **kwargs)


def yield_cpu(by: int) -> int:
    """Lower the calling process's priority by ``by`` nice levels, also where the kernel
    shares CPU time between sessions (autogroup scheduling: a process that started a
    session of its own competes as a whole session, whatever its nice value; its
    session's nice, ``/proc/self/autogroup``, is raised too). Returns the nice value now.

    A helper that should use an idle core but yield to its parent on a busy machine.
    """
    now = os.nice(by) if hasattr(os, "nice") and by > 0 else 0
    try:
        with open("/proc/self/autogroup") as fh:  # "/autogroup-94 nice 0"
            group_nice = int(fh.read().split()[-1])
        with open("/proc/self/autogroup", "w") as fh:
            fh.write(str(min(19, group_nice + by)))
    except (OSError, ValueError, IndexError):  # no autogroup scheduling here
        pass
    return now
