"""The pilot's indicators on hand-made plans whose every value is computed by hand.

The routing plan (``hand_plan``): locations on a plane, metres, 10 m/s.

    D (0, 0) depot         A (1000, 0)   100 kg ferrous scrap
    F (0, 4000) unloading  B (2000, 0)    50 kg non-ferrous scrap
                           C (0, 3000)   one refrigerator (55 kg) + one washing machine (60 kg)

    tricycle-1:        D -1000 m, empty-> A -1000 m, 100 kg-> B -2000 m, 150 kg-> D
    box_truck_4_2m-1:  D -3000 m, empty-> C -1000 m, 115 kg-> F (unload) -4000 m, empty-> D

vehicle-km 4 + 8 = 12; tonne-km 0.1*1 + 0.15*2 + 0.115*1 = 0.515; empty km 1 + 3 + 4 = 8.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest
from routing_helpers import LAT, LON, facility, problem
from siting_cases import line_case

from recyclenet.errors import InputError
from recyclenet.indicators import (
    SPECS,
    EmissionFactor,
    format_number,
    indicators_to_dict,
    make_indicator,
    plan_indicators,
    read_emission_factors,
    routing_indicators,
    siting_indicators,
)
from recyclenet.routing import Order, RoutePlan, RoutingProblem, VehicleType
from recyclenet.routing.evaluate import build_plan
from recyclenet.routing.plan import RawRoute
from recyclenet.siting import SitingProblem, solve_siting

XY = {"D": (0.0, 0.0), "F": (0.0, 4000.0), "A": (1000.0, 0.0), "B": (2000.0, 0.0),
      "C": (0.0, 3000.0)}  # fmt: skip

#: Hand-picked factors: tricycle 0.02 kg/km; box truck 0.5 kg/km + 0.04 kg per t·km.
FACTORS = {
    "tricycle": EmissionFactor("tricycle", 0.02),
    "box_truck_4_2m": EmissionFactor("box_truck_4_2m", 0.5, 0.04),
}


def hand_problem(extra_types: tuple[VehicleType, ...] = ()) -> RoutingProblem:
    orders = [
        Order.from_items("A", LON, LAT, {"scrap_ferrous": 100}, service_s=600),
        Order.from_items("B", LON, LAT, {"scrap_non_ferrous": 50}, service_s=600),
        Order.from_items("C", LON, LAT, {"refrigerator": 1, "washing_machine": 1}, service_s=600),
    ]
    fleet = [
        VehicleType("tricycle", capacity_kg=300, start_id="D", fixed_cost=20, cost_per_km=0.3,
                    profile="tricycle"),
        VehicleType("box_truck_4_2m", capacity_kg=2000, start_id="D", fixed_cost=150,
                    cost_per_km=1.5, skills=frozenset({"refrigerant"}), profile="box_truck_4_2m"),
        *extra_types,
    ]  # fmt: skip
    return problem(XY, orders, fleet, facilities=[facility("F", unload_s=900)])


def hand_plan(prob: RoutingProblem, *, with_truck: bool = True) -> RoutePlan:
    raw = [RawRoute("tricycle-1", ("A", "B"), 0.0)]
    if with_truck:
        raw.append(RawRoute("box_truck_4_2m-1", ("C", "F"), 0.0))
    return build_plan(prob, raw, engine="hand", status="feasible")


def values(indicators) -> dict[str, float]:
    return {i.key: i.value for i in indicators}


# --------------------------------------------------------------------------- routing


def test_routing_indicators_by_hand():
    prob = hand_problem()
    v = values(routing_indicators(hand_plan(prob), prob, emission_factors=FACTORS))
    assert v["vehicles_used"] == 2
    assert v["orders_served"] == 3 and v["orders_unserved"] == 0
    # tonnes by material from the served orders' catalogue items
    assert v["tonnes_collected.ferrous"] == pytest.approx(0.100)
    assert v["tonnes_collected.non_ferrous"] == pytest.approx(0.050)
    assert v["tonnes_collected.appliance_refrigerator"] == pytest.approx(0.055)
    assert v["tonnes_collected.appliance_washing_machine"] == pytest.approx(0.060)
    assert v["tonnes_collected"] == pytest.approx(0.265)
    assert v["vehicle_km"] == pytest.approx(12.0)
    # only what is on board counts: 0.1 t x 1 km + 0.15 t x 2 km + 0.115 t x 1 km
    assert v["tonne_km"] == pytest.approx(0.515)
    # empty legs: D->A 1 km, D->C 3 km, F->D 4 km
    assert v["empty_running_share"] == pytest.approx(100.0 * 8.0 / 12.0)
    # 10 m/s; 600 s per order, 900 s unloading: 1600 s + 2300 s
    assert v["vehicle_hours"] == pytest.approx(3900.0 / 3600.0)
    # fixed + per km: (20 + 0.3 x 4) + (150 + 1.5 x 8)
    assert v["cost_total"] == pytest.approx(183.2)
    assert v["cost_per_tonne"] == pytest.approx(183.2 / 0.265)
    # tricycle 4 km x 0.02; box truck 8 km x 0.5 + 0.04 x (0.115 t x 1 km)
    assert v["co2e_kg.tricycle"] == pytest.approx(0.08)
    assert v["co2e_kg.box_truck_4_2m"] == pytest.approx(4.0 + 0.04 * 0.115)
    assert v["co2e_kg"] == pytest.approx(4.0846)
    assert v["co2e_kg_per_tonne"] == pytest.approx(4.0846 / 0.265)


def test_routing_indicators_same_from_stored_json():
    prob = hand_problem()
    plan = hand_plan(prob)
    stored = json.loads(json.dumps(plan.to_dict()))
    assert values(routing_indicators(stored, emission_factors=FACTORS)) == pytest.approx(
        values(routing_indicators(plan, prob, emission_factors=FACTORS))
    )


def test_packaged_emission_factors_and_their_sources():
    factors = read_emission_factors()
    assert set(factors) >= {"car", "tricycle", "box_truck_4_2m", "truck_18t"}
    # DESNZ 2025 HGV rigid 3.5-7.5 t: 0 % laden 0.46138 kg/km; 100 % laden 0.54068 kg/km
    # at the implied payload 0.54068 / 0.24776 t
    box = factors["box_truck_4_2m"]
    payload_t = 0.54068 / 0.24776
    assert box.kg_co2e(1.0, 0.0) == pytest.approx(0.46138)
    assert box.kg_co2e(1.0, payload_t) == pytest.approx(0.54068, abs=1e-5)
    assert box.kg_co2e(1.0, payload_t / 2) == pytest.approx(0.50103, abs=1e-5)  # 50 % row
    assert factors["tricycle"].kg_co2e_per_km == pytest.approx(0.05 * 0.5366)
    assert all(f.source for f in factors.values())
    prob = hand_problem()
    v = values(routing_indicators(hand_plan(prob), prob))
    assert v["co2e_kg.tricycle"] == pytest.approx(4 * 0.02683)
    assert v["co2e_kg.box_truck_4_2m"] == pytest.approx(8 * 0.46138 + 0.036338 * 0.115)


def test_factor_found_by_profile_when_the_type_has_none():
    prob = hand_problem()
    doc = hand_plan(prob).to_dict()
    doc["routes"][1]["vehicle_type_id"] = "truck_a"  # profile stays box_truck_4_2m
    v = values(routing_indicators(doc, emission_factors=FACTORS))
    assert v["co2e_kg.truck_a"] == pytest.approx(4.0 + 0.04 * 0.115)


def test_missing_factor_names_the_vehicle_type(tmp_path: Path):
    own = tmp_path / "ef.csv"
    own.write_text("# mine\nvehicle,kg_co2e_per_km\ntricycle,0.03\n", encoding="utf-8")
    prob = hand_problem()
    with pytest.raises(InputError, match=r"'box_truck_4_2m' \(profile 'box_truck_4_2m'\)"):
        routing_indicators(hand_plan(prob), emission_factors=own)
    # with the problem, every fleet type needs a factor, used or not
    idle = VehicleType("truck_18t_x", start_id="D", profile="car")
    prob2 = hand_problem((idle,))
    with pytest.raises(InputError, match="truck_18t_x"):
        routing_indicators(hand_plan(prob2, with_truck=False), prob2, emission_factors=own)
    # a user file is used as given
    v = values(routing_indicators(hand_plan(prob, with_truck=False), emission_factors=own))
    assert v["co2e_kg"] == pytest.approx(4 * 0.03)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("vehicle,kg_co2e_per_km\ncar,-1\n", r"row 1 \(vehicle 'car'\): kg_co2e_per_km='-1'"),
        ("vehicle,kg_co2e_per_km\ncar,abc\n", "is not a number"),
        ("vehicle,kg_co2e_per_km\ncar,1\ncar,2\n", "duplicate vehicle"),
        ("vehicle,co2\ncar,1\n", r"missing column\(s\) \['kg_co2e_per_km'\]"),
    ],
)
def test_bad_emission_factor_files(tmp_path: Path, text: str, match: str):
    path = tmp_path / "ef.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=match):
        read_emission_factors(path)


def test_empty_running_counts_volume_and_missing_fields_are_named():
    doc = hand_plan(hand_problem()).to_dict()
    legs = doc["routes"][0]["visits"]
    legs[0]["volume_m3"] = 0.2  # an empty container on board: not empty running
    v = values(routing_indicators(doc, emission_factors=FACTORS))
    assert v["empty_running_share"] == pytest.approx(100.0 * 7.0 / 12.0)
    del legs[2]["load_kg"]
    with pytest.raises(InputError, match=r"routes\[0\].*visits\[2\]\.load_kg: missing"):
        routing_indicators(doc, emission_factors=FACTORS)


def test_no_tonnes_gives_nan_per_tonne():
    doc = hand_plan(hand_problem()).to_dict()
    doc["kg_by_material"] = {}
    v = values(routing_indicators(doc, emission_factors=FACTORS))
    assert v["tonnes_collected"] == 0.0
    assert math.isnan(v["cost_per_tonne"]) and math.isnan(v["co2e_kg_per_tonne"])


# --------------------------------------------------------------------------- siting


def hand_siting_doc() -> dict:
    """Three open stations; s2 has no capacity (utilisation None), 3,000 households."""
    return {
        "model": "p_median",
        "open_ids": ["s1", "s2", "s3"],
        "indicators": {
            "households_total": 3000.0,
            "households_assigned": 3000.0,
            "share_households_within_radius": 0.9,
            "access_distance_mean_m": 210.0,
            "access_distance_p95_m": 480.0,
            "households_per_station_mean": 1000.0,
            "load_by_site": {"s1": 750.0, "s2": 300.0, "s3": 1500.0},
            "utilisation_by_site": {"s1": 0.5, "s2": None, "s3": 1.0},
        },
    }


def test_siting_indicators_by_hand():
    v = values(siting_indicators(hand_siting_doc()))
    assert v["stations_open"] == 3
    assert v["share_within_radius"] == pytest.approx(90.0)
    assert v["access_distance_mean_m"] == 210.0 and v["access_distance_p95_m"] == 480.0
    assert v["stations_per_10k_households"] == pytest.approx(3 * 10_000 / 3000)
    assert v["households_per_station_mean"] == 1000.0
    # s2 has no capacity and no norm is known: left out
    assert v["station_utilisation_mean"] == pytest.approx(75.0)
    assert (v["station_utilisation_min"], v["station_utilisation_max"]) == (50.0, 100.0)
    # stored with its problem settings: s2 counts 300 households / the 1,500 norm = 20 %
    doc = hand_siting_doc() | {
        "problem": {"households_per_station": 1500.0, "capacity_unit": "households"}
    }
    v = values(siting_indicators(doc))
    assert v["station_utilisation_mean"] == pytest.approx((50.0 + 20.0 + 100.0) / 3)
    assert v["station_utilisation_min"] == pytest.approx(20.0)


def test_siting_indicators_of_a_solved_line():
    """p-median, p = 2 on the line 0,1,2 | 10,11,12 km with households 2,3,1 | 1,1,1."""
    demand, sites, matrix = line_case()
    prob = SitingProblem(demand, sites, matrix, model="p_median", p=2, radius=500.0)
    plan = solve_siting(prob, time_limit_s=10, seed=0)
    assert set(plan.open_ids) == {"s1", "s11"}
    v = values(siting_indicators(plan, prob))
    # within 500 m: the 3 households at 1 km and the 1 at 11 km, of 9
    assert v["share_within_radius"] == pytest.approx(100 * 4 / 9)
    # (2 x 1000 + 1 x 1000 + 1 x 1000 + 1 x 1000) / 9 households
    assert v["access_distance_mean_m"] == pytest.approx(5000 / 9)
    assert v["access_distance_p95_m"] == pytest.approx(1000.0)
    assert v["stations_per_10k_households"] == pytest.approx(2 * 10_000 / 9)
    assert v["households_per_station_mean"] == pytest.approx(4.5)  # 6 and 3
    # no capacities: households / the 1,500 norm of the problem
    assert v["station_utilisation_max"] == pytest.approx(100 * 6 / 1500)
    assert v["station_utilisation_min"] == pytest.approx(100 * 3 / 1500)
    # the stored plan with its problem settings gives the same; without them, no norm
    assert values(siting_indicators(json.loads(json.dumps(plan.to_dict(prob))))) == v
    assert math.isnan(values(siting_indicators(plan.to_dict()))["station_utilisation_mean"])


# --------------------------------------------------------------------------- combined


def test_plan_indicators_takes_either_plan_or_runs():
    prob = hand_problem()
    plan = hand_plan(prob)
    only_routing = plan_indicators(routing=plan, emission_factors=FACTORS)
    assert {i.group for i in only_routing} == {"routing"}
    only_siting = plan_indicators(siting=hand_siting_doc())
    assert {i.group for i in only_siting} == {"siting"}

    class Run:  # what pipeline.RoutingRun offers
        def __init__(self) -> None:
            self.plan, self.problem = plan, prob

    both = plan_indicators(hand_siting_doc(), Run(), emission_factors=FACTORS)
    assert [i.key for i in both][:2] == ["stations_open", "households_total"]
    assert values(both)["tonne_km"] == pytest.approx(0.515)
    with pytest.raises(InputError, match="give a siting plan, a routing plan or both"):
        plan_indicators()


def test_every_indicator_has_names_and_definitions_in_both_languages():
    cjk = re.compile(r"[\u4e00-\u9fff]")
    for pattern in SPECS:
        ind = make_indicator(pattern.replace("*", "ferrous"), 1.0)
        assert ind.name_en and ind.definition_en and not cjk.search(ind.name_en)
        assert cjk.search(ind.name_zh) and cjk.search(ind.definition_zh)
        assert ind.unit_label("en") and ind.unit_label("zh")
    assert make_indicator("tonnes_collected.ferrous", 1).name("zh") == "回收量：废钢铁"
    # an id without a label is shown as it is
    assert make_indicator("co2e_kg.电动车", 1).name("en") == "CO2e emissions: 电动车"
    with pytest.raises(InputError, match="unknown indicator key 'nope'"):
        make_indicator("nope", 1.0)


def test_indicator_dict_is_json_ready():
    doc = indicators_to_dict([make_indicator("share_within_radius", math.nan)])
    (entry,) = doc["indicators"]
    assert entry["value"] is None and entry["unit"] == "pct"
    assert entry["name"] == {"en": "Households within the radius", "zh": "服务半径内住户比例"}
    json.dumps(doc, allow_nan=False)


@pytest.mark.parametrize(
    ("x", "text"),
    [(12.0, "12"), (0.515, "0.515"), (691.3207, "691.3"), (66.6667, "66.67"),
     (6715.9, "6,716"), (math.nan, "–"), (-0.0, "0")],
)  # fmt: skip
def test_format_number(x: float, text: str):
    assert format_number(x) == text
