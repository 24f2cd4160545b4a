"""The item catalogue and orders derived from items."""

from __future__ import annotations

import pytest

from recyclenet.catalog import REFRIGERANT_SKILL, STOP_BASE_SERVICE_S, default_catalog
from recyclenet.errors import InputError
from recyclenet.routing import Order


def test_catalogue_has_grades_and_appliances_with_sources():
    cat = default_catalog()
    for key in ("scrap_ferrous", "scrap_non_ferrous", "scrap_mixed", "tv", "refrigerator",
                "washing_machine", "air_conditioner", "computer"):  # fmt: skip
        assert key in cat
        assert len(cat[key].source) > 30, key
    assert cat["scrap_ferrous"].unit == "kg" and cat["scrap_ferrous"].kg_per_unit == 1
    assert cat["refrigerator"].needs_refrigerant_crew
    assert cat["air_conditioner"].needs_refrigerant_crew
    assert not cat["tv"].needs_refrigerant_crew
    assert len(cat) >= 10


def test_order_from_items_derives_load_service_and_skill():
    cat = default_catalog()
    o = Order.from_items("o1", 116.4, 39.9, {"refrigerator": 1, "scrap_ferrous": 120})
    assert o.load_kg == pytest.approx(55 + 120)
    assert o.volume_m3 == pytest.approx(0.60 + 120 * cat["scrap_ferrous"].m3_per_unit)
    assert o.service_s == pytest.approx(STOP_BASE_SERVICE_S + 360 + 120 * 0.6)
    assert o.required_skills == {REFRIGERANT_SKILL}
    assert {x.material for x in o.items} == {"appliance_refrigerator", "ferrous"}


def test_order_overrides_win():
    o = Order.from_items("o1", 116.4, 39.9, [("tv", 2)], load_kg=20.0, service_s=30.0)
    assert (o.load_kg, o.service_s) == (20.0, 30.0)
    assert o.volume_m3 == pytest.approx(0.24)


def test_unknown_category_names_order_and_category():
    with pytest.raises(InputError, match=r"order 'o9'.*unknown item category 'sofa'"):
        Order.from_items("o9", 116.4, 39.9, {"sofa": 1})
