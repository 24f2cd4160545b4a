"""The indicator report in Markdown and HTML, English and Chinese."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest

from recyclenet.errors import InputError
from recyclenet.export.report import headline, report_html, report_markdown, write_report
from recyclenet.indicators import plan_indicators
from test_indicators import FACTORS, hand_plan, hand_problem, hand_siting_doc

#: OSM names travel through the report untouched (street names from town.osm and others).
OSM_LINE = "Depot on 中山路 → 解放路 (回收站1), Länsiväylä"

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16  # the bytes are embedded as they are


@pytest.fixture(scope="module")
def indicators():
    prob = hand_problem()
    return plan_indicators(hand_siting_doc(), hand_plan(prob), routing_problem=prob,
                           emission_factors=FACTORS)  # fmt: skip


def test_markdown_english(indicators):
    md = report_markdown(indicators, summary=[OSM_LINE])
    assert md.startswith("# Recycling network plan: evaluation indicators\n")
    assert "## Summary" in md and "### Collection stations" in md and "### Pickup routes" in md
    assert "| Indicator | Value | Unit | Definition |" in md
    assert "| Households within the radius | 90 | % | Share of all households" in md
    assert "| Tonne-km | 0.515 | t·km | Sum over legs of the load on board" in md
    assert "| Empty running share | 66.67 | % |" in md
    assert "| Tonnes collected: Refrigerators | 0.055 | t |" in md
    assert "| CO2e emissions | 4.08 | kg CO2e |" in md
    # the summary: headline indicators, then the caller's lines as they are
    assert "- Tonnes collected: 0.265 t\n" in md
    assert "- Households within the radius: 90%\n" in md
    assert f"- {OSM_LINE}\n" in md


def test_markdown_chinese(indicators):
    md = report_markdown(indicators, lang="zh", summary=[OSM_LINE])
    assert md.startswith("# 回收网络规划评价指标\n")
    assert "## 摘要" in md and "### 回收站点布局" in md and "### 上门回收路线" in md
    assert "| 指标 | 数值 | 单位 | 定义 |" in md
    assert "| 吨公里 | 0.515 | 吨·公里 | 各行驶段车上载重（吨）× 该段距离（公里）之和" in md
    assert "| 空驶率 | 66.67 | % |" in md
    assert "| 回收量：废电冰箱 | 0.055 | 吨 |" in md
    assert "- 回收量：0.265 吨\n" in md
    assert f"- {OSM_LINE}\n" in md
    assert "Tonne-km" not in md


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_html(indicators, lang):
    page = report_html(indicators, lang=lang, summary=[OSM_LINE, "<script>alert(1)</script>"])
    assert page.startswith("<!DOCTYPE html>")
    assert f'<html lang="{"zh-CN" if lang == "zh" else "en"}">' in page
    assert '<meta charset="utf-8">' in page
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert f"<li>{OSM_LINE}</li>" in page  # no change to the names (only HTML escaping)
    row = re.search(r'<tr data-key="tonne_km">(.*?)</tr>', page)
    assert row is not None
    name, unit = ("吨公里", "吨·公里") if lang == "zh" else ("Tonne-km", "t·km")
    assert row.group(1).startswith(f'<td>{name}</td><td class="num">0.515</td><td>{unit}</td>')
    assert page.count('<tr data-key="') == len(indicators)
    assert 'data-group="siting"' in page and 'data-group="routing"' in page
    heading = "回收网络规划评价指标" if lang == "zh" else "Recycling network plan"
    assert f"<h1>{heading}" in page


def test_images_embedded_in_html_linked_in_markdown(indicators, tmp_path: Path):
    maps = tmp_path / "maps"
    maps.mkdir()
    (maps / "routes.png").write_bytes(PNG)
    html_path = write_report(tmp_path / "report.html", indicators, images=[maps / "routes.png"])
    page = html_path.read_text(encoding="utf-8")
    assert f'src="data:image/png;base64,{base64.b64encode(PNG).decode()}"' in page
    assert "<figcaption>routes.png</figcaption>" in page and "<h2>Maps</h2>" in page
    md = write_report(tmp_path / "report.md", indicators, lang="zh", images=[maps / "routes.png"])
    text = md.read_text(encoding="utf-8")
    assert "## 地图" in text and "![routes](maps/routes.png)" in text
    with pytest.raises(InputError, match=r"nowhere\.png"):
        report_html(indicators, images=[tmp_path / "nowhere.png"])


def test_write_report_needs_md_or_html(indicators, tmp_path: Path):
    with pytest.raises(InputError, match=r"use a \.md or \.html file name"):
        write_report(tmp_path / "report.txt", indicators)


def test_headline_only_routing(indicators):
    routing_only = [i for i in indicators if i.group == "routing"]
    assert headline(routing_only) == [
        "Tonnes collected: 0.265 t",
        "Vehicle-km: 12 km",
        "Cost per tonne: 691.3 currency units/t",
        "CO2e emissions: 4.08 kg CO2e",
        "Empty running share: 66.67%",
    ]
    assert report_markdown(routing_only).count("### ") == 1
