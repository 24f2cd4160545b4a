"""Helper processes: a second search that yields the CPU to its parent."""

from __future__ import annotations

import ast
import os
from pathlib import Path

import pytest

from recyclenet.procs import yield_cpu

AUTOGROUP = Path("/proc/self/autogroup")


def _group_nice() -> int:
    return int(AUTOGROUP.read_text().split()[-1])


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_yield_cpu_lowers_the_process_and_its_own_session():
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            os.setsid()  # a session of its own, as auto's second search
            before = (os.nice(0), _group_nice() if AUTOGROUP.exists() else None)
            now = yield_cpu(3)
            after = (os.nice(0), _group_nice() if AUTOGROUP.exists() else None)
            os.write(w, repr((before, now, after)).encode())
        finally:
            os._exit(0)
    os.close(w)
    with os.fdopen(r) as fh:
        before, now, after = ast.literal_eval(fh.read())
    os.waitpid(pid, 0)
    assert now == after[0] == min(19, before[0] + 3)
    if before[1] is not None:  # autogroup scheduling: the session's nice is raised too
        assert after[1] == min(19, before[1] + 3)
    assert os.nice(0) == before[0]  # the parent is left as it was
