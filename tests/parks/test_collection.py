"""Collection routes: compatibility, licences, compartments, receivers, manifests."""

from __future__ import annotations

from collections import defaultdict

import pytest

from recyclenet.parks.allocation import allocate
from recyclenet.parks.collection import check_collection, manifests, manifests_csv, plan_collection
from recyclenet.parks.model import DAYS_PER_MONTH, Receiver, Settings, Stream, Vehicle
from recyclenet.parks.schedule import schedule_pickups

from .common import ENTERPRISES, park, square_matrices

TREAT = Receiver(
    "R_treat",
    "Hazardous treatment 危废处置中心",
    "treatment",
    120.03,
    31.03,
    frozenset({"HW33", "HW34", "HW08"}),
    gate_fee_per_t=2500.0,
    licence="HW-9",
    gate_windows=((8 * 3600.0, 18 * 3600.0),),
)
SCRAP = Receiver(
    "R_scrap",
    "Scrap yard 废钢回收",
    "recycler",
    120.01,
    31.03,
    frozenset({"SW17-01"}),
    price_paid_per_t=1800.0,
)
STREAMS = [
    Stream("acid", "E1", "900-300-34", 6.0, form="liquid", packaging="IBC", storage_limit_t=2.0),
    Stream("cyan", "E3", "HW33", 3.0, form="solid", packaging="drums", storage_limit_t=5.0),
    Stream("oil", "E4", "900-249-08", 4.0, form="liquid", packaging="drums", storage_limit_t=5.0),
    Stream("scrap", "E2", "SW17-01", 30.0, form="solid", packaging="bulk", storage_limit_t=40.0),
]
VEHICLES = [
    Vehicle("V_haz", "box", True, 4, 1.0, "D1"),
    Vehicle("V_plain", "box", False, 4, 1.0, "D1"),
    Vehicle("V_tip", "tipper", False, 1, 10.0, "D1"),
]
ONE_DAY = Settings(collection_days=(2,))  # everything on Wednesday: the rules must bite


def _run(vehicles=VEHICLES, streams=STREAMS, settings=ONE_DAY):
    p = park(streams=streams, receivers=[TREAT, SCRAP], vehicles=vehicles, settings=settings)
    mats = square_matrices(p)
    alloc = allocate(p, mats["truck_18t"])
    sch = schedule_pickups(p)
    col = plan_collection(p, alloc, sch, mats, time_limit_s=3.0, engine="ortools")
    return p, alloc, sch, col


def test_rules_hold_on_every_trip() -> None:
    p, alloc, sch, col = _run()
    assert check_collection(p, alloc, sch, col) == []
    assert col.unserved == ()
    loads = col.loads_by_id
    by_trip = [{loads[i].stream_id for i in t.load_ids} for t in col.trips]
    # acid never with cyanide or oil (HCN; heat and fire), hazardous never with scrap
    for streams in by_trip:
        assert not ({"acid", "cyan"} <= streams or {"acid", "oil"} <= streams)
        assert not ("scrap" in streams and streams & {"acid", "cyan", "oil"})
    # cyanide and oil are compatible and go to the same receiver on the same day
    groups = {run.groups for run in col.runs}
    assert ("acid",) in groups and ("cyanide", "flammable_organic") in groups
    # unlicensed vehicles never carry hazardous streams
    for t in col.trips:
        if {loads[i].stream_id for i in t.load_ids} & {"acid", "cyan", "oil"}:
            assert t.vehicle_id == "V_haz"
            assert t.receiver_id == "R_treat"
    # compartments: 1 t each, 4 per trip; a 6 t/month acid week is 1.38 t: 2 compartments
    acid = [x for x in col.loads if x.stream_id == "acid"]
    assert sum(x.tonnes for x in acid) == pytest.approx(7 * 6 / DAYS_PER_MONTH)
    assert [x.compartments for x in acid] == [2]
    assert col.vehicle_km > 0 and col.tonne_km > 0 and col.co2e_kg > 0


def test_hazardous_unserved_without_licensed_vehicle() -> None:
    p, alloc, sch, col = _run(vehicles=VEHICLES[1:])
    assert check_collection(p, alloc, sch, col) == []
    reasons = dict(col.unserved)
    haz_loads = [x.id for x in col.loads if x.stream_id in ("acid", "cyan", "oil")]
    assert sorted(reasons) == sorted(haz_loads)
    assert all("hazmat" in reasons[i] for i in haz_loads)
    assert all(t.vehicle_id != "V_haz" for t in col.trips)
    assert {loads for t in col.trips for loads in t.load_ids} == {
        x.id for x in col.loads if x.stream_id == "scrap"
    }


def test_manifests_sum_to_the_allocation() -> None:
    p, alloc, sch, col = _run(settings=Settings())
    rows = manifests(p, col)
    got: dict[tuple[str, str], float] = defaultdict(float)
    for r in rows:
        got[(r["waste_code"], r["receiver_id"])] += r["tonnes"]
    want: dict[tuple[str, str], float] = defaultdict(float)
    for f in alloc.flows:
        weeks = sch.of(f.stream_id).period_weeks
        want[(f.code, f.receiver_id)] += f.tonnes_per_year * 7 * weeks / 365.25
    assert set(got) == set(want)
    for k, v in want.items():
        assert got[k] == pytest.approx(v, rel=1e-5)
    acid = next(r for r in rows if r["waste_code"] == "900-300-34")
    assert acid["generator_name"] == ENTERPRISES[0].name
    assert acid["receiver_licence"] == "HW-9"
    assert acid["vehicle_hazmat_licensed"] is True
    assert acid["hazard_class"] == "C"
    text = manifests_csv(rows)
    assert text.splitlines()[0].startswith("manifest_no,weekday,waste_kind,generator_id")
    assert len(text.splitlines()) == len(rows) + 1


def test_large_pickup_is_split_into_carryable_loads() -> None:
    big = [Stream("scrap", "E2", "SW17-01", 200.0, storage_limit_t=500.0, storage_days=7.0)]
    p, alloc, sch, col = _run(streams=big, vehicles=VEHICLES[2:])
    assert check_collection(p, alloc, sch, col) == []
    week_t = 200 * 7 / DAYS_PER_MONTH  # 46 t in 10 t loads
    assert len(col.loads) == 5
    assert all(x.tonnes <= 10.0 for x in col.loads)
    assert sum(x.tonnes for x in col.loads) == pytest.approx(week_t)
