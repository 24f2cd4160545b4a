"""First large matrix after a fresh install: is there a compile wait?

Usage::

    python benchmarks/cold_start.py ../shared/osm/campo-grande.osm.gz [--n 1000] \
        [--install-step warmup|none] [--keep]

Creates a new virtual environment in a temporary folder, installs this checkout into
it (not editable, so nothing compiled in the checkout is reused; the dependencies come
from the running interpreter's environment through a ``.pth`` file, so nothing is
downloaded), then runs the same script in two fresh processes of that environment: load
the network, build an ``--n`` x ``--n`` matrix between random street nodes. The first
process is the first use after the install; the second finds whatever the first (or the
install) left behind. Prints import, load and matrix times of both and the difference
(and the matrix's CPU seconds, threads included, which a loaded machine inflates less).
Matrices are not cached on disk in either run (no ``cache_dir``).

``--install-step warmup`` (default) runs the warm-up (``recyclenet network warmup``) right
after installing, as ``make setup`` and the Dockerfile do (its time is printed apart);
``none`` is a plain ``pip install``: the first network loaded starts the warm-up in the
background and matrices are computed without the kernels until it has finished; the
second process then starts once the warm-up has finished (its remaining time printed).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import site
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SCRIPT = """
import json, sys, time
t0 = time.perf_counter()
import numpy as np
import recyclenet
from recyclenet import Points, build_matrix, load_network
t1 = time.perf_counter()
net = load_network(sys.argv[1])
t2 = time.perf_counter()
rng = np.random.default_rng(1)
nodes = rng.choice(net.n_nodes, size=int(sys.argv[2]), replace=False)
pts = Points(tuple(f"p{int(k)}" for k in nodes), net.node_lon[nodes], net.node_lat[nodes])
t3, c3 = time.perf_counter(), time.process_time()
m = build_matrix(net, pts)
t4, c4 = time.perf_counter(), time.process_time()
print(json.dumps({"import_s": t1 - t0, "load_s": t2 - t1, "matrix_s": t4 - t3,
                  "matrix_cpu_s": c4 - c3, "module": recyclenet.__file__}))
"""


def _wait_for_kernels(py: Path, env: dict[str, str], cwd: Path, limit_s: float = 900.0) -> float:
    """Seconds until every kernel is in the environment's numba cache (a background
    warm-up finishing); 0 when they already are."""
    code = "from recyclenet.network import warmup; print(len(warmup.missing()))"
    t = time.perf_counter()
    first = True
    while time.perf_counter() - t < limit_s:
        out = subprocess.run([str(py), "-c", code], check=True, capture_output=True, text=True,
                             env={**env, "RECYCLENET_NO_WARMUP": "1"}, cwd=cwd)  # fmt: skip
        if out.stdout.strip() == "0":
            return 0.0 if first else time.perf_counter() - t
        first = False
        time.sleep(2.0)
    raise SystemExit(f"the kernels were not compiled within {limit_s:.0f} s")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("network")
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--install-step", choices=("warmup", "none"), default="warmup")
    ap.add_argument("--keep", action="store_true", help="keep the environment (prints its path)")
    args = ap.parse_args()
    repo = Path(__file__).resolve().parents[1]
    tmp = Path(tempfile.mkdtemp(prefix="recyclenet-cold-"))
    venv = tmp / "venv"
    try:
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
        py = venv / "bin" / "python"
        purelib = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_path("
                                  "'purelib'))"], check=True, capture_output=True,
                                 text=True).stdout.strip()  # fmt: skip
        (Path(purelib) / "deps.pth").write_text("\n".join(site.getsitepackages()) + "\n")
        env = {k: v for k, v in os.environ.items()
               if k not in ("PYTHONPATH", "NUMBA_CACHE_DIR")}  # fmt: skip
        env["HOME"] = str(tmp / "home")  # no user-wide caches from earlier runs
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps",
                        "--target", purelib, str(repo)],
                       check=True, env=env, cwd=tmp)  # fmt: skip
        t_install = time.perf_counter() - t
        t_warm = 0.0
        if args.install_step == "warmup":
            t = time.perf_counter()
            subprocess.run([str(py), "-c", "from recyclenet.network.warmup import main; main()"],
                           check=True, env=env, cwd=tmp)  # fmt: skip
            t_warm = time.perf_counter() - t
        runs = []
        t_background = None
        for k in range(2):
            out = subprocess.run([str(py), "-c", SCRIPT, args.network, str(args.n)], check=True,
                                 capture_output=True, text=True, env=env, cwd=tmp)  # fmt: skip
            runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
            if k == 0:  # the second process comes after the background warm-up, if any
                t_background = _wait_for_kernels(py, env, tmp)
        assert runs[0]["module"].startswith(str(tmp)), runs[0]["module"]
        print(f"{args.network}, {args.n} x {args.n} matrix; install {t_install:.1f} s, "
              f"install step {args.install_step} {t_warm:.1f} s; "
              f"load average {os.getloadavg()[0]:.2f}")  # fmt: skip
        if t_background:
            print(f"background warm-up (started by the first process) still ran "
                  f"{t_background:.1f} s after that process ended")  # fmt: skip
        print(f"{'process':<28}{'import s':>10}{'load s':>10}{'matrix s':>10}"
              f"{'(CPU s)':>10}{'total s':>10}")  # fmt: skip
        for label, r in zip(("first after install", "second"), runs):
            total = r["import_s"] + r["load_s"] + r["matrix_s"]
            print(f"{label:<28}{r['import_s']:>10.2f}{r['load_s']:>10.2f}"
                  f"{r['matrix_s']:>10.2f}{r['matrix_cpu_s']:>10.2f}{total:>10.2f}")  # fmt: skip
        d_matrix = runs[0]["matrix_s"] - runs[1]["matrix_s"]
        d_total = sum(runs[0][k] - runs[1][k] for k in ("import_s", "load_s", "matrix_s"))
        d_cpu = runs[0]["matrix_cpu_s"] - runs[1]["matrix_cpu_s"]
        print(f"first - second: matrix {d_matrix:+.2f} s (CPU {d_cpu:+.2f} s), "
              f"import + load + matrix {d_total:+.2f} s")  # fmt: skip
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
