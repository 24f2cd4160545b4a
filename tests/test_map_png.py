"""PNG maps through matplotlib: files written, valid, not blank, English and Chinese."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

import recyclenet as rn
from recyclenet.export import map_png
from recyclenet.export.map_html import COLOURS, PALETTE, roads_layer
from test_map_html import sample_layers

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def layers(town_network: rn.RoadNetwork) -> dict[str, Any]:
    return {"roads": roads_layer(town_network), **sample_layers()}


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    return tuple(int(hex_colour[k : k + 2], 16) for k in (1, 3, 5))  # type: ignore[return-value]


def _check_png(path: Path, colours: list[str]) -> Image.Image:
    """A valid, non-blank PNG in which each of ``colours`` covers some pixels."""
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    img = Image.open(path)
    img.verify()
    img = Image.open(path).convert("RGB")
    assert img.width >= 800 and img.height >= 500
    distinct = img.getcolors(maxcolors=1 << 24)
    assert distinct is not None and len(distinct) > 50
    white = sum(n for n, c in distinct if c == (255, 255, 255))
    assert white < 0.9 * img.width * img.height
    counts = dict((c, n) for n, c in distinct)
    for colour in colours:
        assert counts.get(_rgb(colour), 0) > 20, f"{colour} not drawn in {path.name}"
    return img


def _glyph_warnings(caught: list[warnings.WarningMessage]) -> list[str]:
    return [str(w.message) for w in caught if "missing from font" in str(w.message)]


def test_siting_and_routes_maps_in_english(layers: dict[str, Any], tmp_path: Path) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        paths = map_png.write_map_pngs(tmp_path / "en", layers, lang="en", dpi=100)
    assert paths == [tmp_path / "en" / "siting_map.png", tmp_path / "en" / "routes_map.png"]
    assert not _glyph_warnings(caught)
    _check_png(paths[0], [COLOURS["kept"], COLOURS["opened"], COLOURS["centre"]])
    _check_png(paths[1], [PALETTE[0], PALETTE[1], COLOURS["depot"], COLOURS["unserved"]])


def test_maps_in_chinese(layers: dict[str, Any], tmp_path: Path) -> None:
    if map_png.cjk_font_family() is None:
        pytest.skip("no CJK font (Debian fonts-noto-cjk; `make system-deps` installs it)")
    en = map_png.write_siting_png(tmp_path / "en.png", layers, lang="en", dpi=100)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        zh = map_png.write_siting_png(tmp_path / "zh.png", layers, lang="zh", dpi=100)
        routes = map_png.write_routes_png(tmp_path / "routes_zh.png", layers, lang="zh", dpi=100)
    assert not _glyph_warnings(caught), _glyph_warnings(caught)
    assert not [w for w in caught if "English labels" in str(w.message)]
    img_zh = _check_png(zh, [COLOURS["kept"], COLOURS["opened"]])
    _check_png(routes, [PALETTE[0], PALETTE[1]])
    assert img_zh.tobytes() != Image.open(en).convert("RGB").tobytes()  # other legend text


def test_chinese_without_cjk_font_falls_back_to_english(
    layers: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(map_png, "cjk_font_family", lambda: None)
    with pytest.warns(UserWarning, match=r"fonts-noto-cjk.*English labels"):
        path = map_png.write_routes_png(tmp_path / "r.png", layers, lang="zh", dpi=100)
    _check_png(path, [PALETTE[0]])


def test_only_the_maps_with_data_are_written(layers: dict[str, Any], tmp_path: Path) -> None:
    siting = {k: layers[k] for k in ("roads", "stations", "coverage")}
    assert map_png.write_map_pngs(tmp_path, siting, dpi=60) == [tmp_path / "siting_map.png"]
    assert map_png.write_map_pngs(tmp_path / "none", {"roads": layers["roads"]}) == []
    with pytest.raises(ValueError, match="unknown language"):
        map_png.write_siting_png(tmp_path / "x.png", layers, lang="fr")
