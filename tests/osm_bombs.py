"""OSM compression bombs, built in the test that needs them (never committed)."""

from __future__ import annotations

import gzip
from pathlib import Path

MIB = 1024 * 1024


def make_bomb(path: Path, expanded_mib: int) -> int:
    """A gzip OSM file that expands to ``expanded_mib`` MiB: one highly compressible
    16 MiB member of node lines, repeated (gzip allows concatenated members)."""
    line = b'  <node id="1" lat="60.17" lon="24.94" version="1"/>\n'
    block = b"<?xml version='1.0'?>\n<osm version='0.6'>\n" + line * (16 * MIB // len(line))
    member = gzip.compress(block[: 16 * MIB].ljust(16 * MIB, b" "), compresslevel=9)
    with open(path, "wb") as fh:
        for _ in range(expanded_mib // 16):
            fh.write(member)
    return path.stat().st_size
