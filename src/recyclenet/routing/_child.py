"""Run PyVRP in a separate process: ``python -m recyclenet.routing._child IN OUT``.

Started by :func:`recyclenet.routing.solve.solve_routing` (engine "auto") for its
second search where the platform cannot fork (where it can, the second search is a
forked copy of the caller: no interpreter start, nothing to copy). A fresh
interpreter, not ``multiprocessing``: spawning with
``multiprocessing`` re-imports the caller's main module, which fails in scripts without
an ``if __name__ == "__main__"`` guard. IN holds the pickled ``(problem, diagnosis,
deadline, seed, nice)`` (``deadline`` a :class:`~recyclenet.deadline.Deadline`, which
pickles as an absolute instant); OUT receives the pickled
:class:`~recyclenet.routing.plan.EngineResult`, or an error message string.
"""

from __future__ import annotations

import os
import pickle
import sys

from ..procs import yield_cpu


def main(argv: list[str]) -> int:
    """Read the request, solve with PyVRP until the deadline, write the answer."""
    src, dst = argv
    with open(src, "rb") as fh:
        problem, diagnosis, deadline, seed, nice = pickle.load(fh)
    yield_cpu(nice)
    try:
        from ._pyvrp import solve_pyvrp

        answer: object = solve_pyvrp(problem, diagnosis, deadline=deadline, seed=seed)
    except Exception as exc:  # reported to the parent, which keeps OR-Tools' plan
        answer = f"{type(exc).__name__}: {exc}"
    tmp = dst + ".tmp"
    with open(tmp, "wb") as fh:
        pickle.dump(answer, fh, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(tmp, dst)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
