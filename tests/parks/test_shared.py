"""Siting a shared facility with the CFLP, and the saving against contracting alone."""

from __future__ import annotations

import pytest

from recyclenet.errors import InputError
from recyclenet.parks.allocation import allocate
from recyclenet.parks.model import CandidateSite, SharedFacility
from recyclenet.parks.shared import site_shared_facility

from .common import DIST_M, matrix, park

SITES = [CandidateSite("C1", 120.01, 31.0, 20_000.0), CandidateSite("C2", 120.2, 31.2, 15_000.0)]
DIST = {
    **DIST_M,
    ("E1", "C1"): 3000.0,
    ("E4", "C1"): 1000.0,
    ("E1", "C2"): 8000.0,
    ("E4", "C2"): 8000.0,
}


def _park(capacity: float = 2000.0, kind: str = "treatment", onward: float = 0.0):
    shared = SharedFacility(kind, capacity, frozenset({"SW02", "SW06"}), 10.0, onward)
    return park(sites=SITES, shared=shared)


def test_hand_checked_site_and_saving() -> None:
    p = _park()
    m = matrix(DIST, extra=("C1", "C2"))
    alloc = allocate(p, m)
    plan = site_shared_facility(p, alloc, m)
    # alone (the allocation): S1 1000 t x -18 + 200 t x 90 = 0; S3 600 t x 86 = 51,600
    assert plan.cost_alone_per_year == pytest.approx(51_600.0)
    # C1: S1 1200 t x (3 + 10) + S3 600 t x (1 + 10) + 20,000 fixed = 42,200
    # C2: 1800 t x (8 + 10) + 15,000 = 47,400
    assert plan.open_ids == ("C1",)
    assert plan.siting.status == "optimal"
    assert plan.siting.objective == pytest.approx(20_000 + 1200 * 3 + 600 * 1)
    assert plan.cost_shared_per_year == pytest.approx(42_200.0)
    assert plan.saving_per_year == pytest.approx(9_400.0)
    assert {s.stream_id: s.site_id for s in plan.streams} == {"S1": "C1", "S3": "C1"}


def test_transfer_station_adds_onward_haul_and_final_fees() -> None:
    p = _park(kind="transfer", onward=5.0)
    m = matrix(DIST, extra=("C1", "C2"))
    alloc = allocate(p, m)
    plan = site_shared_facility(p, alloc, m)
    # S1's net fee in the allocation: (1000 x -20 + 200 x 80) / 1200 = -3.33/t; S3: 80/t
    s1 = 1200 * (3 + 10 + 5) + (1000 * -20 + 200 * 80)
    s3 = 600 * (1 + 10 + 5 + 80)
    assert plan.cost_shared_per_year == pytest.approx(s1 + s3 + 20_000)


def test_capacity_below_total_is_named() -> None:
    p = _park(capacity=1000.0)
    m = matrix(DIST, extra=("C1", "C2"))
    with pytest.raises(InputError, match=r"capacity 1000 t/year.*below the 1800 t/year.*'S1'"):
        site_shared_facility(p, allocate(p, m), m)
