"""/records, /plans/{id}/actuals and /plans/{id}/evaluation on SQLite and PostgreSQL
(the ``both_dbs`` fixtures of conftest.py), with tenant isolation."""

from __future__ import annotations

import json
from typing import Any

import pytest
from api_helpers import A, B
from fastapi.testclient import TestClient

from actuals_cases import SITING
from recyclenet_api.store import Plan

pytestmark = pytest.mark.both_dbs


@pytest.fixture
def api(client: TestClient) -> TestClient:
    """A client of an app on an empty database (SQLite, or a fresh PostgreSQL schema)."""
    return client


def _ticket(doc: str, when: str, **kw: Any) -> dict[str, Any]:
    return {"document_id": doc, "time": when, **kw}


TICKETS = [
    _ticket("a", "2026-03-02 08:00", station_id="S1", category="scrap_ferrous", net_kg=600,
            destination_id="C1", vehicle_id="京A1", vehicle_km=24, district="东城"),
    _ticket("b", "2026-03-09 08:00", station_id="S1", category="scrap_non_ferrous",
            gross_kg=3000, tare_kg=2800, destination_id="C1", district="东城"),
    _ticket("c", "2026-03-10 09:00", station_id="S2", category="废钢铁", net_kg=100,
            destination_id="C1", district="西城"),
    _ticket("d", "2026-04-01 09:00", station_id="S3", category="scrap_mixed", net_kg=400),
]  # fmt: skip


def _store_plan(client: TestClient, tenant: str) -> str:
    """A stored siting plan of ``tenant`` (plans are made by jobs; here written directly)."""
    plan = json.loads(json.dumps(SITING["stations"]))
    plan["centres"] = SITING["centres"]
    plan["indicators"].update({
        "households_total": 1700.0, "share_households_within_radius": 0.9,
        "access_distance_mean_m": 200.0, "access_distance_p95_m": 450.0,
        "households_per_station_mean": 566.7})  # fmt: skip
    fc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": s, "geometry": {"type": "Point", "coordinates": [116.4, 39.9]},
         "properties": {"site_id": s, "state": "opened"}} for s in ("S1", "S2", "S3")]}  # fmt: skip
    store = client.app.state.ctx.store  # type: ignore[attr-defined]
    row = Plan(id=f"plan{tenant[-1]}", tenant=tenant, kind="siting",
               data={"plan": plan, "layers": {"stations": fc}, "indicators": {}})  # fmt: skip
    with store._session.begin() as s:
        s.add(row)
    return row.id


def test_records_idempotent_conflict_correction_and_tenants(api: TestClient) -> None:
    r = api.post("/records", json={"records": TICKETS}, headers=A)
    assert r.status_code == 200, r.text
    assert r.json() == {"added": ["a", "b", "c", "d"], "duplicates": []}
    again = api.post("/records", json={"records": TICKETS}, headers=A)
    assert again.json() == {"added": [], "duplicates": ["a", "b", "c", "d"]}
    changed = [{**TICKETS[0], "net_kg": 650}]
    r = api.post("/records", json={"records": changed}, headers=A)
    assert r.status_code == 409 and "'a' is already recorded" in r.json()["detail"]
    fix = _ticket("a-fix", "2026-03-02 08:00", station_id="S1", category="scrap_ferrous",
                  net_kg=650, corrects="a", destination_id="C1")  # fmt: skip
    assert api.post("/records", json={"records": [fix]}, headers=A).json()["added"] == ["a-fix"]
    listed = api.get("/records?from=2026-03-01&to=2026-03-05", headers=A).json()
    assert [(x["document_id"], x["superseded"]) for x in listed["items"]] == [
        ("a", True),
        ("a-fix", False),
    ]
    assert listed["items"][0]["net_kg"] == 600  # the original is kept
    # tenant B sees none of A's records and may use the same document ids
    assert api.get("/records", headers=B).json()["total"] == 0
    assert api.post("/records", json={"records": [changed[0]]}, headers=B).json()["added"] == ["a"]
    assert api.get("/records", headers=A).json()["total"] == 5


def test_bad_records_are_422_naming_the_record(api: TestClient) -> None:
    bad = [TICKETS[0], {**TICKETS[1], "document_id": "x", "tare_kg": 3500}]
    r = api.post("/records", json={"records": bad}, headers=A)
    assert r.status_code == 422 and "records[1]" in r.json()["detail"]
    assert "tare_kg=3500 exceeds gross_kg=3000" in r.json()["detail"]
    r = api.post("/records", json={"records": [{**TICKETS[0], "category": "纸板"}]}, headers=A)
    assert r.status_code == 422 and "unknown category '纸板'" in r.json()["detail"]
    r = api.post("/records", json={"records": [{**TICKETS[0], "corrects": "nope",
                                                "document_id": "y"}]}, headers=A)  # fmt: skip
    assert r.status_code == 422 and "corrects='nope'" in r.json()["detail"]
    assert api.get("/records", headers=A).json()["total"] == 0  # nothing stored


def test_plan_actuals_and_evaluation_per_tenant(api: TestClient) -> None:
    plan_a = _store_plan(api, "tenant-a")
    assert api.post("/records", json={"records": TICKETS}, headers=A).status_code == 200
    # B's records must not count for A's plan
    other = [_ticket("z", "2026-03-03", station_id="S2", category="scrap_ferrous", net_kg=9e5)]
    assert api.post("/records", json={"records": other}, headers=B).status_code == 200
    r = api.get(f"/plans/{plan_a}/actuals?from=2026-03-01&to=2026-05-13&bucket=month",
                headers=A)  # fmt: skip
    assert r.status_code == 200, r.text
    doc = r.json()
    act = doc["actuals"]
    st = {s["key"]: s for s in act["stations"]}
    # 73 days = 0.2 year; households x 5 kg of scrap metal per year
    assert st["S1"]["expected_kg"] == pytest.approx(1000.0) and st["S1"]["collected_kg"] == 800
    assert st["S2"]["flag"] == "below" and st["S2"]["collected_kg"] == 100
    assert st["S3"]["flag"] == "above"
    assert act["centres"][0]["actual_t"] == pytest.approx(0.9)
    colours = {f["id"]: f["properties"]["flag"] for f in doc["stations"]["features"]}
    assert colours == {"S1": "ok", "S2": "below", "S3": "above"}
    assert api.get(f"/plans/{plan_a}/actuals?from=2026-03-01&to=2026-05-13",
                   headers=B).status_code == 404  # fmt: skip
    assert api.get(f"/plans/{plan_a}/actuals?from=2026-05-13&to=2026-03-01",
                   headers=A).status_code == 422  # fmt: skip
    body = {"from": "2026-03-01", "to": "2026-05-13", "as_of": "2026-05-12",
            "targets": [
                {"indicator": "recovery_rate.ferrous", "baseline_value": 10, "baseline_year": 2024,
                 "target_value": 100, "target_year": 2027,
                 "milestones": [{"year": 2025, "value": 50}]},
                {"indicator": "scrap_metal_t", "baseline_value": 0.5, "baseline_year": 2024,
                 "target_value": 3, "target_year": 2027,
                 "milestones": [{"year": 2025, "value": 2}]}],
            "entered": {"2017-03": 1.3}}  # fmt: skip
    r = api.post(f"/plans/{plan_a}/evaluation", json=body, headers=A)
    assert r.status_code == 200, r.text
    ev = r.json()
    rows = {t["indicator"]: t for t in ev["targets"]}
    # ferrous: (600 + 100 + 400 mixed) / (0.2 x 1700 x 4) = 80.9%: the 2025 milestone is met
    assert rows["recovery_rate.ferrous"]["current"] == pytest.approx(100 * 1100 / 1360)
    assert rows["recovery_rate.ferrous"]["milestones"][0]["status"] == "met"
    # 1.3 t of scrap metal < 2 t due by the end of 2025: missed
    assert rows["scrap_metal_t"]["milestones"][0]["status"] == "missed"
    assert rows["scrap_metal_t"]["light"] == "red"
    n17 = {x["code"]: x["status"] for x in ev["national"]["2017"]}
    assert n17["2017-03"] == "entered" and n17["2017-09"] == "computed"
    assert api.post(f"/plans/{plan_a}/evaluation", json=body, headers=B).status_code == 404
    bad = {**body, "targets": [{**body["targets"][0], "target_year": 2020}]}
    r = api.post(f"/plans/{plan_a}/evaluation", json=bad, headers=A)
    assert r.status_code == 422 and "targets[0]" in r.json()["detail"]


def test_routing_plan_actuals(api: TestClient) -> None:
    """A routing plan: planned orders from its stops layer, vehicle-km per day."""
    visit = {"kind": "start", "location_id": "depot", "distance_from_previous_m": 0.0,
             "load_kg": 0.0, "volume_m3": 0.0}  # fmt: skip
    plan = {"routes": [{"vehicle_id": "v1", "vehicle_type_id": "car", "profile": "car",
                        "distance_m": 30_000.0, "duration_s": 3600.0, "visits": [visit]}],
            "kg_by_material": {}, "cost": 1.0, "unserved": []}  # fmt: skip
    stops = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [116.4, 39.9]},
         "properties": {"kind": "order", "order_id": o, "items": [{"category": "tv", "count": 1}]}}
        for o in ("o1", "o2", "o3")]}  # fmt: skip
    store = api.app.state.ctx.store  # type: ignore[attr-defined]
    with store._session.begin() as s:
        s.add(Plan(id="route1", tenant="tenant-a", kind="routing",
                   data={"plan": plan, "layers": {"stops": stops}, "indicators": {}}))  # fmt: skip
    recs = [_ticket("r1", "2026-03-02 10:00", order_id="o1", category="tv", units=1,
                    vehicle_id="v1", vehicle_km=28),
            _ticket("r2", "2026-03-03 10:00", order_id="o3", category="电视机", units=1,
                    vehicle_id="v1", vehicle_km=33)]  # fmt: skip
    assert api.post("/records", json={"records": recs}, headers=A).status_code == 200
    r = api.get("/plans/route1/actuals?from=2026-03-01&to=2026-03-08&bucket=day", headers=A)
    assert r.status_code == 200, r.text
    act = r.json()["actuals"]
    assert act["missed_order_ids"] == ["o2"]
    assert act["vehicles"] == [{"vehicle_id": "v1", "days": 2, "planned_km": 60.0,
                                "reported_km": 61.0}]  # fmt: skip
    assert r.json()["stations"] is None
    assert (
        api.get("/plans/route1/actuals?from=2026-03-01&to=2026-03-08", headers=B).status_code == 404
    )
