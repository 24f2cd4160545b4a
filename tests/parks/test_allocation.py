"""Allocation: the hand-checked optimum, single sourcing, reasons and bad input."""

from __future__ import annotations

from dataclasses import replace

import pytest

from recyclenet.errors import InputError
from recyclenet.parks.allocation import allocate, check_allocation
from recyclenet.parks.model import Park, Receiver, Stream

from .common import RECEIVERS, STREAMS, matrix, park


def _tonnes(alloc, stream_id: str) -> dict[str, float]:
    return {f.receiver_id: round(f.tonnes_per_year, 6) for f in alloc.flows_of(stream_id)}


def test_hand_checked_optimum_with_exchange_and_binding_capacity() -> None:
    # per tonne: S1 (1200 t/yr) brick 2 km x 1 - 20 = -18, landfill 10 + 80 = 90 (saves 108)
    # S3 (600 t/yr) brick 5 - 20 = -15, landfill 6 + 80 = 86 (saves 101): the brick works'
    # 1000 t/yr binds and goes to S1 first. S2 (24 t/yr, HW08): only the licensed
    # incinerator, 20 km x 3 + 3000 = 3060 (the kiln has no licence).
    alloc = allocate(park(), matrix())
    assert alloc.status == "optimal"
    assert _tonnes(alloc, "S1") == {"R_brick": 1000.0, "R_landfill": 200.0}
    assert _tonnes(alloc, "S3") == {"R_landfill": 600.0}
    assert _tonnes(alloc, "S2") == {"R_inc": 24.0}
    expected = 1000 * -18 + 200 * 90 + 600 * 86 + 24 * 3060
    assert alloc.cost_per_year == pytest.approx(expected)
    assert alloc.bound == pytest.approx(expected, rel=1e-6)
    assert alloc.gap <= 1e-6
    exchange = [f for f in alloc.flows if f.exchange]
    assert [(f.stream_id, f.enterprise_id, f.receiver_id) for f in exchange] == [
        ("S1", "E1", "R_brick")
    ]
    assert alloc.load_by_receiver()["R_brick"] == pytest.approx(1000.0)
    assert not alloc.unplaced
    assert check_allocation(park(), alloc) == []
    # the checker catches a broken plan: over capacity, and a flow to the unlicensed kiln
    over = replace(
        alloc,
        flows=tuple(
            replace(f, tonnes_per_year=1100.0) if f.receiver_id == "R_brick" else f
            for f in alloc.flows
        ),
    )
    assert any("R_brick" in e and "capacity" in e for e in check_allocation(park(), over))
    kiln = replace(
        alloc,
        flows=tuple(
            replace(f, receiver_id="R_kiln") if f.stream_id == "S2" else f for f in alloc.flows
        ),
    )
    assert any("unlicensed" in e for e in check_allocation(park(), kiln))


def test_single_source_moves_the_stream_that_fits() -> None:
    # S1 (1200 t) no longer fits the brick works whole: S3 (600 t) takes it instead
    alloc = allocate(park(), matrix(), single_source=True)
    assert alloc.status == "optimal"
    assert _tonnes(alloc, "S1") == {"R_landfill": 1200.0}
    assert _tonnes(alloc, "S3") == {"R_brick": 600.0}
    assert alloc.cost_per_year == pytest.approx(1200 * 90 + 600 * -15 + 24 * 3060)
    assert all(len(alloc.flows_of(s.id)) == 1 for s in STREAMS)


def test_unknown_code_names_stream_and_code() -> None:
    bad = [*STREAMS, Stream("S9", "E1", "HW99", 1.0)]
    with pytest.raises(InputError, match=r"stream 'S9'.*unknown waste code 'HW99'"):
        park(streams=bad)
    with pytest.raises(InputError, match=r"stream 'S8'.*'SW77'.*SW01"):
        park(streams=[*STREAMS, Stream("S8", "E1", "SW77", 1.0)])


def test_no_receiver_accepts_a_stream() -> None:
    acid = Stream("S_acid", "E3", "900-300-34", 1.0, form="liquid", packaging="IBC")
    p = park(streams=[*STREAMS, acid])
    with pytest.raises(InputError, match=r"S_acid: no receiver accepts code 900-300-34"):
        allocate(p, matrix())
    report = allocate(p, matrix(), unplaced="report")
    assert [(u.stream_id, u.tonnes_per_year) for u in report.unplaced] == [("S_acid", 12.0)]
    assert "900-300-34" in report.unplaced[0].reason
    assert _tonnes(report, "S2") == {"R_inc": 24.0}


def test_unlicensed_receiver_is_not_used_and_named() -> None:
    receivers = [r for r in RECEIVERS if r.id != "R_inc"]
    with pytest.raises(InputError, match=r"S2: hazardous code 900-249-08.*'R_kiln'.*licence"):
        allocate(park(receivers=receivers), matrix())


def test_capacity_below_total_names_streams_and_receivers() -> None:
    small = [replace(r, capacity_t_per_year=10.0) if r.id == "R_inc" else r for r in RECEIVERS]
    p = park(receivers=small)
    with pytest.raises(InputError, match=r"capacity is below.*S2: 14 of 24 t/year.*'R_inc'"):
        allocate(p, matrix())
    report = allocate(p, matrix(), unplaced="report")
    assert _tonnes(report, "S2") == {"R_inc": 10.0}
    assert [(u.stream_id, round(u.tonnes_per_year, 6)) for u in report.unplaced] == [("S2", 14.0)]
    assert report.cost_per_year == pytest.approx(1000 * -18 + 200 * 90 + 600 * 86 + 10 * 3060)


def test_single_source_too_big_for_every_receiver() -> None:
    small = [replace(r, capacity_t_per_year=10.0) if r.id == "R_inc" else r for r in RECEIVERS]
    with pytest.raises(InputError, match=r"S2: 24 t/year is above the capacity.*'R_inc'"):
        allocate(park(receivers=small), matrix(), single_source=True)


def test_unreachable_receiver() -> None:
    import numpy as np

    m = matrix()
    d = m.distance_m.copy()
    d[m.origin_ids.index("E3"), m.destination_ids.index("R_inc")] = np.inf
    m2 = replace(m, distance_m=d, duration_s=d)
    with pytest.raises(InputError, match=r"S2: receivers 'R_inc' cannot be reached"):
        allocate(park(), m2)


def test_own_enterprise_is_not_a_receiver() -> None:
    own = Receiver(
        "R_self",
        "self",
        "enterprise",
        120.0,
        31.0,
        frozenset({"SW02"}),
        enterprise_id="E1",
        price_paid_per_t=100.0,
    )
    p: Park = park(receivers=[own, *RECEIVERS])
    alloc = allocate(p, matrix())
    assert "R_self" not in alloc.load_by_receiver()


def test_bad_entities_are_named() -> None:
    with pytest.raises(InputError, match=r"stream 'X': tonnes_per_month must be"):
        Stream("X", "E1", "SW02", -1.0)
    with pytest.raises(InputError, match=r"stream 'X': packaging 'barrel'"):
        Stream("X", "E1", "SW02", 1.0, packaging="barrel")
    with pytest.raises(InputError, match=r"receiver 'R': accepted_codes is empty"):
        Receiver("R", "r", "landfill", 120.0, 31.0, frozenset())
    with pytest.raises(InputError, match=r"streams name unknown enterprises: 'S1 -> E9'"):
        park(streams=[replace(STREAMS[0], enterprise_id="E9")])
    with pytest.raises(InputError, match=r"duplicate stream ids: 'S1'"):
        park(streams=[*STREAMS, STREAMS[0]])


def test_greedy_incumbent_swaps_to_the_optimum() -> None:
    import numpy as np

    from recyclenet.parks.allocation import _greedy_single_source

    # A (10 t): R1 at 1/t, R2 at 2/t; B (5 t): R1 at 0/t, R2 at 5/t; both receivers 10 t.
    # Greedy puts A on R1 and B on R2 (cost 35); the swap gives A R2, B R1 (cost 20).
    pi = np.array([0, 0, 1, 1])
    pr = np.array([0, 1, 0, 1])
    unit = np.array([1.0, 2.0, 0.0, 5.0])
    tonnes = np.array([10.0, 5.0])
    values = _greedy_single_source(2, 4, pi, pr, unit, tonnes, np.array([10.0, 10.0]))
    assert values.tolist() == [0.0, 1.0, 1.0, 0.0, 0.0, 0.0]
    # with room for neither, the smaller stream stays unplaced
    values = _greedy_single_source(2, 4, pi, pr, unit, tonnes, np.array([10.0, 0.0]))
    assert values.tolist() == [1.0, 0.0, 0.0, 0.0, 0.0, 1.0]
