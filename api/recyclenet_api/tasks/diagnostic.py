"""A diagnostic job kind, registered by tests and load checks only."""

from __future__ import annotations

from typing import Any

from . import Progress, noop_progress


def sleep_task(payload: dict[str, Any], *, progress: Progress = noop_progress) -> dict[str, Any]:
    """A diagnostic job (not registered by default): sleep, report progress, maybe fail.

    Payload: ``seconds`` (float), ``fail`` (raise :class:`recyclenet.InputError` with this
    message), ``exit_code`` (die without a result), ``allocate_mb`` (allocate that
    much), ``helper`` (start a helper process and a temporary folder, as a routing solve
    does; their pid and path are in the progress). Tests and load checks register it.
    """
    import os
    import time

    from recyclenet.errors import InputError

    if payload.get("fail"):
        raise InputError(str(payload["fail"]))
    if payload.get("exit_code") is not None:
        os._exit(int(payload["exit_code"]))
    if payload.get("allocate_mb"):  # grow like a runaway load, 64 MiB at a time
        held = [bytearray(64 * 1024 * 1024) for _ in range(int(payload["allocate_mb"]) // 64)]
        progress({"phase": "allocated", "mib": 64 * len(held)})
    extra: dict[str, Any] = {}
    if payload.get("helper"):  # like the routing solve: a helper process and a temp folder
        import sys
        import tempfile

        from recyclenet.procs import start_helper

        helper = start_helper([sys.executable, "-c", "import time; time.sleep(3600)"])
        extra = {"helper_pid": helper.pid, "tmp": tempfile.mkdtemp(prefix="recyclenet-")}
    seconds = float(payload.get("seconds", 1.0))
    steps = max(1, int(seconds / 0.05))
    for i in range(steps):
        progress({"phase": "sleeping", "percent": round(100 * i / steps, 1), "pid": os.getpid(),
                  **extra})  # fmt: skip
        time.sleep(seconds / steps)
    return {"kind": "sleep", "slept_s": seconds, "pid": os.getpid()}
