"""Pickup schedule: frequencies from storage limits, weekdays, and the checks."""

from __future__ import annotations

import pytest

from recyclenet.errors import InputError
from recyclenet.parks.model import DAYS_PER_MONTH, Settings, Stream
from recyclenet.parks.schedule import check_schedule, cyclic_gaps, schedule_pickups

from .common import park


def test_cyclic_gaps() -> None:
    assert cyclic_gaps([0, 2, 4]) == [3.0, 2.0, 2.0]
    assert cyclic_gaps([3]) == [7.0]
    assert cyclic_gaps([0, 1, 2, 3, 4]) == [3.0, 1.0, 1.0, 1.0, 1.0]


def test_frequencies_follow_the_binding_limit() -> None:
    streams = [
        # 10 t/month, store 1 t: at most 1 / (10 / 30.44) = 3.04 days apart -> Mon Wed Fri
        Stream("tight", "E1", "SW02", 10.0, storage_limit_t=1.0),
        # store large, 10 days: once a week
        Stream("weekly", "E3", "SW06", 2.0, storage_limit_t=100.0, storage_days=10.0),
        # hazardous, legal 365 days, large store: every 4 weeks (the longest period)
        Stream("haz", "E3", "900-249-08", 1.0, packaging="drums", storage_limit_t=50.0),
        # hazardous with a 90-day permit but a 2 t store at 1 t/month: 2 t / (1/30.44) = 60.9 d
        Stream(
            "haz2",
            "E4",
            "900-041-49",
            1.0,
            packaging="drums",
            storage_limit_t=2.0,
            storage_days=90.0,
        ),
    ]
    p = park(streams=streams)
    sch = schedule_pickups(p)
    assert check_schedule(p, sch) == []
    tight = sch.of("tight")
    assert tight.weekdays == (0, 2, 4)
    assert tight.binding == "storage_t"
    assert tight.interval_limit_days == pytest.approx(DAYS_PER_MONTH / 10.0)
    assert tight.max_gap_days == 3.0
    assert tight.max_stock_t == pytest.approx(3 * 10 / DAYS_PER_MONTH)
    assert tight.max_stock_t <= 1.0
    assert sch.of("weekly").pickups_per_week == 1.0
    assert sch.of("weekly").binding == "storage_days"
    assert sch.of("haz").period_weeks == 4
    assert sch.of("haz").max_gap_days == 28.0
    assert sch.of("haz2").period_weeks == 4  # 28 days <= 60.9
    assert sch.of("haz2").max_stock_t == pytest.approx(28 / DAYS_PER_MONTH)
    # each period's pickups carry exactly what was generated
    total = sum(x.tonnes for x in sch.pickups if x.stream_id == "tight")
    assert total == pytest.approx(7 * 10 / DAYS_PER_MONTH)


def test_spreads_over_days() -> None:
    streams = [
        Stream(f"s{i}", "E1", "SW02", 20.0, storage_limit_t=100.0, storage_days=7.0)
        for i in range(5)
    ]
    sch = schedule_pickups(park(streams=streams))
    # five equal weekly streams land on five different days
    assert sorted(x.weekday for x in sch.pickups) == [0, 1, 2, 3, 4]


def test_limit_the_days_cannot_meet_is_an_error() -> None:
    s = Stream("too_tight", "E1", "SW02", 30.0, storage_limit_t=2.0)  # 2.03 days
    with pytest.raises(InputError, match=r"'too_tight'.*every 2.03 days.*gaps of 3 days"):
        schedule_pickups(park(streams=[s]))
    # collecting every day solves it
    p = park(streams=[s], settings=Settings(collection_days=(0, 1, 2, 3, 4, 5, 6)))
    sch = schedule_pickups(p)
    assert check_schedule(p, sch) == []
    assert sch.of("too_tight").max_gap_days <= 2.0


def test_check_schedule_catches_an_overfull_store() -> None:
    from dataclasses import replace

    s = Stream("a", "E1", "SW02", 10.0, storage_limit_t=1.0)
    p = park(streams=[s])
    sch = schedule_pickups(p)
    bad = replace(
        sch,
        streams=(replace(sch.streams[0], weekdays=(0,)),),
        pickups=(replace(sch.pickups[0], tonnes=10 * 7 / DAYS_PER_MONTH),),
    )
    errors = check_schedule(p, bad)
    assert any("store 1 t" in e for e in errors)
