"""The national indicator sets: complete, sourced, and marked computed/entered/unsupported."""

from __future__ import annotations

import math

import pytest

from recyclenet.actuals.national import indicator_set, indicator_sets, national_table
from recyclenet.actuals.targets import PILOT_KEYS
from recyclenet.errors import InputError


def test_sets_have_their_groups_and_sizes() -> None:
    s2007, s2017 = indicator_set("2007"), indicator_set("2017")
    assert len(s2007) == 22  # the macro set: 22 indicators (gov.cn, 2007-09-05)
    assert [g for g in dict.fromkeys(i.group_en for i in s2007)] == [
        "Resource output", "Resource consumption", "Comprehensive utilisation",
        "Waste disposal"]  # fmt: skip
    assert len(s2017) == 17
    assert {i.group_zh for i in s2017} == {"综合指标", "专项指标", "参考指标"}
    codes = [i.code for i in indicator_sets()]
    assert len(codes) == len(set(codes))
    for i in indicator_sets():
        assert i.source and i.definition and i.name_zh and i.name_en, i.code
        if i.recyclenet_key:  # a computed stand-in says what it is
            assert i.recyclenet_key.split(".")[0] in {k.split(".")[0] for k in PILOT_KEYS}
            assert "proxy" in i.recyclenet_note
    with pytest.raises(InputError, match="unknown indicator set '2010'"):
        indicator_set("2010")


def test_computed_entered_unsupported() -> None:
    computed = {"recovery_rate.ferrous": 42.0, "recovery_rate_main_materials": 30.0}
    rows = national_table("2007", computed, {"2007-02": 1.5, "城市生活垃圾无害化处理率": 99.0})
    status = {r.indicator.code: (r.status, r.value) for r in rows}
    assert status["2007-14"] == ("computed", 42.0)
    assert status["2007-02"] == ("entered", 1.5)
    assert status["2007-13"] == ("entered", 99.0)
    assert status["2007-15"][0] == "unsupported" and math.isnan(status["2007-15"][1])
    assert sum(1 for r in rows if r.status == "unsupported") == 19
    rows17 = {r.indicator.code: r for r in national_table("2017", computed)}
    assert rows17["2017-09"].status == "computed" and rows17["2017-09"].value == 30.0
    assert rows17["2017-09"].to_dict()["note"].startswith("pilot-area proxy")
