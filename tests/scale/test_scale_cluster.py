"""The Dask plumbing: what goes to workers, failures as data, child processes, addresses."""

from __future__ import annotations

import multiprocessing as mp
import pickle

import pytest

from recyclenet.errors import InputError, SnapError
from recyclenet.scale import TaskFailure, open_client, portable_network, run_tasks
from recyclenet.scale import cluster as cluster_module


def _snap_error(n: int) -> int:
    if n == 2:
        raise SnapError("point 'p2' is 900 m from the nearest road", ["p2"])
    return n * 10


def _start_child() -> int:
    ctx = mp.get_context("fork")
    proc = ctx.Process(target=int, daemon=True)
    proc.start()
    proc.join()
    return int(proc.exitcode or 0)


def test_portable_network_pickles_with_its_hierarchy(helsinki_siting) -> None:  # type: ignore[no-untyped-def]
    net = helsinki_siting.walk
    with pytest.raises((AttributeError, pickle.PicklingError)):
        pickle.dumps(net)  # the loader's rebuild closure does not pickle
    ch = net.contraction_hierarchy
    lean = portable_network(net)
    blob = pickle.dumps(lean, protocol=5)
    assert len(blob) < 3_000_000  # Helsinki walk: about 1.9 MB with the hierarchy
    back = pickle.loads(blob)
    assert back.fingerprint == net.fingerprint
    assert "contraction_hierarchy" in back.__dict__
    assert back.contraction_hierarchy.n_shortcuts == ch.n_shortcuts


def test_failures_come_back_as_data_and_progress_counts(tmp_path) -> None:  # type: ignore[no-untyped-def]
    seen: list[tuple[int, int, str, str]] = []
    got = run_tasks(
        None,
        _snap_error,
        {"a": (1,), "b": (2,), "c": (3,)},
        progress=lambda d, t, k, f: seen.append((d, t, k, str(f or ""))),
    )
    assert got["a"] == 10 and got["c"] == 30
    assert got["b"] == TaskFailure("b", "SnapError", "point 'p2' is 900 m from the nearest road")
    assert seen == [
        (1, 3, "a", ""),
        (2, 3, "b", "SnapError: point 'p2' is 900 m from the nearest road"),
        (3, 3, "c", ""),
    ]


def test_tasks_may_start_solver_processes_in_daemonic_workers() -> None:
    """Dask's worker processes are daemonic; the siting MIP forks a child (killed at its
    deadline), which daemonic processes may not do. Tasks lift the flag while they run."""
    config = mp.current_process()._config  # type: ignore[attr-defined]
    config["daemon"] = True
    try:
        with pytest.raises(AssertionError, match="daemonic processes"):
            _start_child()
        got = run_tasks(None, _start_child, {"t": ()})
        assert got == {"t": 0}
        assert config["daemon"] is True
    finally:
        config.pop("daemon", None)


def test_unreachable_scheduler_is_an_input_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cluster_module, "CONNECT_TIMEOUT_S", 0.5)
    with (
        pytest.raises(InputError, match=r"--scheduler 'tcp://127.0.0.1:9': cannot reach"),
        open_client("tcp://127.0.0.1:9"),
    ):
        pass
    with (
        pytest.raises(InputError, match="workers must be an integer >= 1"),
        open_client(n_workers=0),
    ):
        pass
