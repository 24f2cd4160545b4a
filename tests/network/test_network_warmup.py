"""The numba kernels are compiled once into numba's disk cache, by a warm-up that reaches
every kernel the network modules define."""

from __future__ import annotations

import importlib
import subprocess
import sys

import numpy as np
import pytest

from recyclenet import Points, build_matrix
from recyclenet.network import shortest_paths as sp_mod
from recyclenet.network import warmup
from recyclenet.network.snap import snap_points


def test_every_kernel_is_found_and_the_warmup_reaches_them_all():
    names = warmup.kernels()
    # the contraction hierarchy and the plain Dijkstra; inlined heap helpers are not
    # compiled on their own and are not listed
    assert "recyclenet.network._ch._build" in names
    assert "recyclenet.network._ch._forward" in names
    assert "recyclenet.network._dijkstra._search_many" in names
    assert not any("_heap" in n for n in names)
    res = warmup.warm()
    assert res["kernels"] == len(names)
    assert res["not_compiled"] == []
    assert warmup.missing() == []


def test_a_cached_install_starts_no_background_warmup_and_does_not_wait(tmp_path):
    warmup.warm()
    code = ("import time; t = time.perf_counter(); from recyclenet.network import warmup; "
            "warmup.wait(); print(warmup._started is None, warmup.missing())")  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=tmp_path)  # fmt: skip
    assert out.stdout.split() == ["True", "[]"]


@pytest.mark.parametrize("turns", [True, False], ids=["turn restrictions", "none"])
def test_the_kernel_free_matrix_is_the_hierarchys_exactly(helsinki_network, turns):
    net = helsinki_network if turns else helsinki_network.without_turn_restrictions()
    assert net.has_turn_restrictions == turns
    rng = np.random.default_rng(3)
    nodes = rng.choice(net.n_nodes, size=120, replace=False)
    pts = Points(tuple(f"p{k}" for k in range(len(nodes))),
                 net.node_lon[nodes] + rng.normal(0, 2e-4, len(nodes)),
                 net.node_lat[nodes] + rng.normal(0, 2e-4, len(nodes)))  # fmt: skip
    snapped = snap_points(net, pts)
    assert warmup.compiled()
    hierarchy = sp_mod.matrix_weights(net, snapped, snapped)
    assert np.array_equal(sp_mod.dijkstra_weights(net, snapped, snapped), hierarchy)
    assert np.array_equal(sp_mod.dijkstra_weights(net, snapped, snapped, workers=2), hierarchy)


def test_uncached_kernels_start_the_warmup_at_first_use_not_at_import(
    helsinki_network, monkeypatch, tmp_path
):
    started: list[list[str]] = []
    monkeypatch.setattr(warmup, "missing", lambda: ["recyclenet.network._ch._build"])
    monkeypatch.setattr(warmup, "_compiled", False)
    monkeypatch.setattr(warmup, "_started", None)
    monkeypatch.setattr(warmup, "_lock_path", lambda: tmp_path / "warmup.lock")
    monkeypatch.delenv("RECYCLENET_NO_WARMUP", raising=False)

    class Running:  # the background warm-up, still compiling
        def __init__(self, args: list[str], **_kw: object) -> None:
            started.append(args)

        def poll(self) -> None:
            return None

    monkeypatch.setattr(warmup.subprocess, "Popen", Running)
    importlib.reload(importlib.import_module("recyclenet.network"))
    assert started == []  # importing compiles nothing and starts nothing
    # the first matrix: the warm-up starts in the background, the matrix does not wait
    # for it (scipy's Dijkstra; the hierarchy, which needs the kernels, is not built)
    monkeypatch.setattr(type(helsinki_network), "contraction_hierarchy",
                        property(lambda self: pytest.fail("kernels used")))  # fmt: skip
    pts = Points(("a", "b"), helsinki_network.node_lon[:2], helsinki_network.node_lat[:2])
    m = build_matrix(helsinki_network, pts)
    assert len(started) == 1 and "warmup" in started[0][-1]
    assert np.isfinite(m.duration_s).all()
    # the warm-up itself (and RECYCLENET_NO_WARMUP) uses, and so compiles, the kernels
    monkeypatch.setenv("RECYCLENET_NO_WARMUP", "1")
    assert not warmup.compiling()


def test_the_warmup_on_a_cold_cache_calls_the_kernels_and_starts_no_other(monkeypatch):
    # ``recyclenet network warmup`` in a fresh image: every kernel missing from the cache
    monkeypatch.setattr(warmup, "missing", lambda: ["recyclenet.network._ch._build"])
    monkeypatch.setattr(warmup, "_compiled", False)
    monkeypatch.setattr(warmup, "_started", None)
    monkeypatch.delenv("RECYCLENET_NO_WARMUP", raising=False)
    monkeypatch.setattr(warmup.subprocess, "Popen", lambda *a, **kw: pytest.fail("started"))
    monkeypatch.setattr(sp_mod, "dijkstra_weights", lambda *a, **kw: pytest.fail("no kernel"))
    warmup.warm()
    assert not warmup._warming
