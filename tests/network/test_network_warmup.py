"""The numba kernels are compiled once into numba's disk cache, by a warm-up that reaches
every kernel the network modules define."""

from __future__ import annotations

import subprocess
import sys

from recyclenet.network import warmup


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
