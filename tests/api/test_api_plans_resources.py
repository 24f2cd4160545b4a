"""Plans and scenarios as resources (issue #14 item 7): a name and tags on create,
``GET /plans`` with filters and paging, ``PATCH`` of name/tags only, ``DELETE`` of plans,
networks and jobs with their files, all tenant-scoped; on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from api_helpers import A, B, make_app, run_job, submit_sleep, wait_for, wait_job
from fastapi import FastAPI
from fastapi.testclient import TestClient

from recyclenet_api.roads import network_dir
from recyclenet_api.store import Plan, Store

MATRIX = {
    "network_id": "helsinki",
    "origins": [
        {"id": "a", "lon": 24.9402, "lat": 60.1699},
        {"id": "b", "lon": 24.9460, "lat": 60.1720},
    ],
    "time_limit_s": 60,
}


def _plan(store: Store, tenant: str, kind: str, network: str, name: str | None = None,
          tags: tuple[str, ...] = ()) -> str:  # fmt: skip
    """A plan made through the store's own job path (queue, claim, finish)."""
    job = store.add_job(tenant=tenant, kind=kind, payload={"network": {"id": network}},
                        time_limit_s=10, name=name, tags=tags)  # fmt: skip
    claimed = store.claim_jobs("test", 1)
    assert [c.id for c in claimed] == [job.id]
    plan_id = store.finish_job(job.id, "test", {"kind": kind, "network_id": network}, {})
    assert plan_id is not None
    return plan_id


SEEDED = [  # (tenant, kind, network, name, tags), oldest first
    ("tenant-a", "siting", "net1", "District 3 stations", ("draft", "d3")),
    ("tenant-a", "routing", "net1", "Monday routes", ("final",)),
    ("tenant-a", "siting", "net2", "district 5 STATIONS", ("draft", "d5")),
    ("tenant-a", "matrix", "net2", None, ()),
    ("tenant-a", "siting", "net1", "100%_sure", ("draft", "final", "d3")),
    ("tenant-b", "siting", "net1", "District 3 stations", ("draft", "d3")),
]


@pytest.fixture
def seeded(db_url: str, tmp_path: Path) -> Iterator[tuple[FastAPI, TestClient, list[str]]]:
    """An app over a database holding the :data:`SEEDED` plans (made before it starts, so
    its job runner never sees their jobs)."""
    store = Store(db_url)
    store.upgrade()
    ids = [_plan(store, *row) for row in SEEDED]
    store.dispose()
    app = make_app(tmp_path / "var", database_url=db_url)
    with TestClient(app) as client:
        yield app, client, ids


def _ids(r: Any) -> list[str]:
    assert r.status_code == 200, r.text
    return [p["id"] for p in r.json()["items"]]


def test_list_filters_and_order(seeded: tuple[FastAPI, TestClient, list[str]]) -> None:
    _, client, ids = seeded
    a = ids[:5]
    newest_first = a[::-1]
    r = client.get("/plans", headers=A)
    assert _ids(r) == newest_first and r.json()["total"] == 5  # never tenant B's plan
    first = r.json()["items"][0]
    assert first == {
        "id": a[4], "kind": "siting", "name": "100%_sure", "tags": ["draft", "final", "d3"],
        "network_id": "net1", "job_id": first["job_id"], "created_at": first["created_at"],
        "links": {"self": f"/plans/{a[4]}", "indicators": f"/plans/{a[4]}/indicators",
                  "job": f"/jobs/{first['job_id']}"},
    }  # fmt: skip
    assert _ids(client.get("/plans", headers=B)) == [ids[5]]
    assert _ids(client.get("/plans?kind=siting", headers=A)) == [a[4], a[2], a[0]]
    assert _ids(client.get("/plans?kind=routing&kind=matrix", headers=A)) == [a[3], a[1]]
    assert _ids(client.get("/plans?network=net2", headers=A)) == [a[3], a[2]]
    assert _ids(client.get("/plans?network=nope", headers=A)) == []
    # name: a case-insensitive part; % and _ are plain characters
    assert _ids(client.get("/plans?name=STATIONS", headers=A)) == [a[2], a[0]]
    assert _ids(client.get("/plans?name=district%203", headers=A)) == [a[0]]
    assert _ids(client.get("/plans?name=%25_", headers=A)) == [a[4]]
    assert _ids(client.get("/plans?name=%25", headers=A)) == [a[4]]
    # tags: every one named must be there
    assert _ids(client.get("/plans?tag=draft", headers=A)) == [a[4], a[2], a[0]]
    assert _ids(client.get("/plans?tag=draft&tag=d3", headers=A)) == [a[4], a[0]]
    assert _ids(client.get("/plans?tag=draft&tag=final&tag=d3", headers=A)) == [a[4]]
    assert _ids(client.get("/plans?tag=Draft", headers=A)) == []  # tags match exactly
    assert _ids(client.get("/plans?kind=siting&network=net1&tag=final", headers=A)) == [a[4]]
    # dates: created_after inclusive, created_before exclusive, ISO 8601 with or without
    # an offset (none = UTC)
    times = {p["id"]: p["created_at"] for p in r.json()["items"]}
    r2 = client.get("/plans", params={"created_after": times[a[2]]}, headers=A)
    assert _ids(r2) == [a[4], a[3], a[2]]
    r2 = client.get("/plans", params={"created_before": times[a[2]]}, headers=A)
    assert _ids(r2) == [a[1], a[0]]
    r2 = client.get("/plans", params={"created_after": times[a[1]],
                                      "created_before": times[a[3]]}, headers=A)  # fmt: skip
    assert _ids(r2) == [a[2], a[1]]
    t = datetime.fromisoformat(times[a[2]])
    shifted = t.astimezone(timezone(timedelta(hours=8))).isoformat()  # Beijing time
    assert _ids(client.get("/plans", params={"created_after": shifted}, headers=A)) == [
        a[4], a[3], a[2]]  # fmt: skip
    naive = t.replace(tzinfo=None).isoformat()
    assert _ids(client.get("/plans", params={"created_after": naive}, headers=A)) == [
        a[4], a[3], a[2]]  # fmt: skip


def test_paging_links(seeded: tuple[FastAPI, TestClient, list[str]]) -> None:
    _, client, ids = seeded
    seen: list[str] = []
    url: str | None = "/plans?tag=draft&limit=2"
    pages: list[dict[str, Any]] = []
    while url:
        r = client.get(url, headers=A)
        body = r.json()
        assert body["total"] == 3 and body["limit"] == 2
        assert body["offset"] == len(seen)  # the plans before the page, counted
        seen += _ids(r)
        pages.append(body)
        url = body["links"].get("next")
        rels = {rel: f'<{body["links"][rel]}>; rel="{rel}"' for rel in ("next", "prev")
                if rel in body["links"]}  # fmt: skip
        assert r.headers.get("link", "") == ", ".join(rels.values())
        if url:
            assert url.startswith("/plans?tag=draft&limit=2&cursor=")
    assert len(pages) == 2 and seen == [ids[4], ids[2], ids[0]]
    assert "prev" not in pages[0]["links"]
    # the last page's prev link is the first page again, by cursor
    prev = client.get(pages[1]["links"]["prev"], headers=A).json()
    assert [p["id"] for p in prev["items"]] == [ids[4], ids[2]] and prev["offset"] == 0
    assert "prev" not in prev["links"] and prev["links"]["next"] == pages[0]["links"]["next"]
    # offset still works (deprecated); its next link is a cursor
    last = client.get("/plans?tag=draft&limit=2&offset=2", headers=A).json()
    assert [p["id"] for p in last["items"]] == [ids[0]] and last["offset"] == 2
    assert last["links"]["self"] == "/plans?tag=draft&limit=2&offset=2"
    assert "cursor=" in last["links"]["prev"] and "next" not in last["links"]
    # limit is bounded; bad filters are 422 naming the parameter
    for query, field in (("limit=0", "query.limit"), ("limit=1001", "query.limit"),
                         ("offset=-1", "query.offset"), ("kind=nope", "query.kind"),
                         ("created_after=yesterday", "query.created_after"),
                         ("created_after=2026-11-02T00:00:00Z&created_before=2026-11-01",
                          "query.created_before")):  # fmt: skip
        r = client.get(f"/plans?{query}", headers=A)
        assert r.status_code == 422, (query, r.text)
        assert r.json()["errors"][0]["field"] == field, (query, r.json())
    assert client.get("/plans?kind=nope", headers=A).json()["detail"].count("siting") == 1
    assert client.get("/plans", headers={"X-API-Key": "wrong"}).status_code == 401


def test_patch_name_and_tags_only(seeded: tuple[FastAPI, TestClient, list[str]]) -> None:
    app, client, ids = seeded
    pid = ids[0]
    before = client.get(f"/plans/{pid}", headers=A).json()
    assert before["name"] == "District 3 stations" and before["tags"] == ["draft", "d3"]
    r = client.patch(f"/plans/{pid}", json={"name": "  D3 final ", "tags": ["final", "d3",
                                                                        "final", " x "]},
                     headers=A)  # fmt: skip
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "D3 final" and r.json()["tags"] == ["final", "d3", "x"]
    after = client.get(f"/plans/{pid}", headers=A).json()
    assert after["name"] == "D3 final" and after["tags"] == ["final", "d3", "x"]
    strip = ("name", "tags")
    assert {k: v for k, v in after.items() if k not in strip} == {
        k: v for k, v in before.items() if k not in strip}  # fmt: skip
    assert _ids(client.get("/plans?tag=x", headers=A)) == [pid]
    assert _ids(client.get("/plans?name=final", headers=A)) == [pid]
    # only the name: tags kept; null name clears it; [] clears the tags
    assert client.patch(f"/plans/{pid}", json={"name": "N"}, headers=A).json()["tags"] == [
        "final", "d3", "x"]  # fmt: skip
    r = client.patch(f"/plans/{pid}", json={"name": None, "tags": []}, headers=A)
    assert r.json()["name"] is None and r.json()["tags"] == []
    assert client.patch(f"/plans/{pid}", json={"name": ""}, headers=A).json()["name"] is None
    # anything else is refused, naming the field and the fix
    for body, field in (({"data": {}}, "body.data"), ({"kind": "routing"}, "body.kind"),
                        ({"name": "x", "network_id": "n"}, "body.network_id")):  # fmt: skip
        r = client.patch(f"/plans/{pid}", json=body, headers=A)
        assert r.status_code == 422, r.text
        err = r.json()["errors"][0]
        assert err["field"] == field and "name and tags" in err["message"], err
    bad = [
        ({}, "body"),
        ({"name": "a\u0000b"}, "body.name"),
        ({"name": "x" * 201}, "body.name"),
        ({"name": "tab\there"}, "body.name"),
        ({"name": 5}, "body.name"),
        ({"tags": "draft"}, "body.tags"),
        ({"tags": ["a,b"]}, "body.tags"),
        ({"tags": [""]}, "body.tags"),
        ({"tags": ["ok", "a\u0000b"]}, "body.tags.1"),  # PostgreSQL cannot store a NUL
        ({"tags": ["t" * 51]}, "body.tags.0"),
        ({"tags": [f"t{i}" for i in range(21)]}, "body.tags"),
    ]
    for body, field in bad:
        r = client.patch(f"/plans/{pid}", json=body, headers=A)
        assert r.status_code == 422, (body, r.text)
        assert r.json()["errors"][0]["field"] == field, (body, r.json())
    r = client.patch(f"/plans/{pid}", content=b'{"name": "a\\u0000b"}', headers=A)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.name"
    # 21 tags with duplicates are fine once deduplicated
    many = [f"t{i}" for i in range(20)] * 2
    assert len(client.patch(f"/plans/{pid}", json={"tags": many}, headers=A).json()["tags"]) == 20
    # another tenant's plan, or none: 404 (before any body check), nothing changed
    r = client.patch(f"/plans/{ids[5]}", json={"name": "mine"}, headers=A)
    assert r.status_code == 404
    assert client.get(f"/plans/{ids[5]}", headers=B).json()["name"] == "District 3 stations"
    assert client.patch("/plans/nope", json={"data": 1}, headers=A).status_code == 404
    # the plan body stays immutable in the store too: the ORM refuses any other column
    store = app.state.ctx.store
    with store._session.begin() as s, pytest.raises(PermissionError, match="immutable"):
        row = s.get(Plan, pid)
        row.data = {"changed": True}
        s.flush()
    with store._session.begin() as s, pytest.raises(PermissionError, match="delete_plan"):
        s.delete(s.get(Plan, pid))
        s.flush()
    assert client.get(f"/plans/{pid}", headers=A).json()["data"] == before["data"]


def test_delete_plan(seeded: tuple[FastAPI, TestClient, list[str]]) -> None:
    app, client, ids = seeded
    pid = ids[0]
    job_id = client.get(f"/plans/{pid}", headers=A).json()["job_id"]
    assert client.get(f"/plans/{pid}/stations.geojson", headers=A).status_code == 404  # none
    assert client.delete(f"/plans/{ids[5]}", headers=A).status_code == 404  # B's
    assert client.get(f"/plans/{ids[5]}", headers=B).status_code == 200
    r = client.delete(f"/plans/{pid}", headers=A)
    assert r.status_code == 204 and r.content == b""
    assert client.get(f"/plans/{pid}", headers=A).status_code == 404
    assert client.delete(f"/plans/{pid}", headers=A).status_code == 404
    assert pid not in _ids(client.get("/plans", headers=A))
    assert _ids(client.get("/plans?tag=d3", headers=A)) == [ids[4]]  # its tags went too
    job = client.get(f"/jobs/{job_id}", headers=A).json()
    assert job["status"] == "done" and job["plan_id"] is None and "plan" not in job["links"]
    assert app.state.ctx.store.get_plan("tenant-a", pid) is None
    allow = client.options(f"/plans/{pid}", headers=A).headers["allow"]
    assert allow == "DELETE, GET, HEAD, OPTIONS, PATCH"
    assert client.options("/plans", headers=A).headers["allow"] == "GET, HEAD, OPTIONS"


@pytest.mark.both_dbs
def test_deleted_plan_is_gone_from_every_cache(app: FastAPI, client: TestClient) -> None:
    """A plan read (and cached: document, layers, map page) then deleted answers 404,
    also when the delete went through another server process (straight in the store)."""
    body = {"network_id": "helsinki",
            "demand": {"type": "FeatureCollection", "features": [
                {"type": "Feature", "id": "d1", "properties": {"households": 10},
                 "geometry": {"type": "Point", "coordinates": [24.9420, 60.1710]}}]},
            "sites": {"type": "FeatureCollection", "features": [
                {"type": "Feature", "id": "s1", "properties": {},
                 "geometry": {"type": "Point", "coordinates": [24.9430, 60.1712]}}]},
            "model": "p_median", "p": 1, "time_limit_s": 60,
            "name": "cache test", "tags": ["t"]}  # fmt: skip
    urls = []
    for how in ("http", "store"):
        job = run_job(client, "/siting", body)
        pid = job["plan_id"]
        assert job["plan"]["name"] == "cache test" and job["plan"]["tags"] == ["t"]
        urls = [f"/plans/{pid}", f"/plans/{pid}/stations.geojson", f"/map?plan={pid}"]
        for url in urls * 2:
            assert client.get(url, headers=A).status_code == 200, url
        if how == "http":
            assert client.delete(f"/plans/{pid}", headers=A).status_code == 204
        else:
            assert app.state.ctx.store.delete_plan("tenant-a", pid)
        for url in urls:
            assert client.get(url, headers=A).status_code == 404, url


@pytest.mark.both_dbs
def test_deleted_network_roads_are_gone_at_once(app: FastAPI, client: TestClient) -> None:
    """Road pages served from memory check the network's owner on every read: another
    tenant gets 404, and a network deleted through another server process (straight in
    the store, its folder left) answers 404 at once, though its roads are still cached."""
    r = client.post("/networks", json={"sample": "helsinki", "name": "roads"}, headers=A)
    assert r.status_code == 201, r.text
    net = r.json()["id"]
    url = f"/networks/{net}/roads.geojson?limit=5&bbox=24.93,60.16,24.95,60.17"
    for _ in range(2):  # the second from the cache
        page = client.get(url, headers=A)
        assert page.status_code == 200 and page.json()["numberReturned"] == 5, page.text
    other = client.get(url, headers=B)
    assert other.status_code == 404 and net in other.json()["detail"]
    assert app.state.ctx.store.delete_network("tenant-a", net)
    assert network_dir(app.state.ctx.settings.data_dir, net).is_dir()  # files still there
    gone = client.get(url, headers=A)
    assert gone.status_code == 404, gone.text
    assert gone.json()["detail"] == f"no network with id {net!r} for this API key"


@pytest.mark.both_dbs
def test_key_is_checked_before_the_owner(client: TestClient) -> None:
    """Layer and road URLs answer 401 for a missing or wrong key whether or not the id
    exists (the owner lookup that may start with the key check tells nothing), 404 for
    a valid key and an unknown id."""
    urls = ["/plans/nope/routes.geojson", "/plans/nope/stations.geojson",
            "/networks/nope/roads.geojson?limit=1"]  # fmt: skip
    for url in urls:
        for headers in ({}, {"X-API-Key": "wrong-key-0123456789"}):
            r = client.get(url, headers=headers)
            assert r.status_code == 401 and "X-API-Key" in r.json()["detail"], (url, r.text)
        r = client.get(url, headers=A)
        assert r.status_code == 404 and "'nope'" in r.json()["detail"], (url, r.text)


def test_name_and_tags_on_create_reach_job_and_plan(db_url: str, tmp_path: Path) -> None:
    app = make_app(tmp_path / "var", database_url=db_url)
    with TestClient(app) as client:
        body = {**MATRIX, "name": "  Morning 早班 ", "tags": ["a", "b", "a", "早"]}
        job = run_job(client, "/matrix", body)
        assert job["status"] == "done", job
        assert job["name"] == "Morning 早班" and job["tags"] == ["a", "b", "早"]
        assert job["plan"]["name"] == "Morning 早班" and job["plan"]["tags"] == ["a", "b", "早"]
        plan = client.get(f"/plans/{job['plan_id']}", headers=A).json()
        assert plan["name"] == "Morning 早班" and plan["network_id"] == "helsinki"
        assert client.get(f"/jobs/{job['id']}", headers=A).json()["tags"] == ["a", "b", "早"]
        assert _ids(client.get("/plans?tag=早&network=helsinki", headers=A)) == [plan["id"]]
        plain = run_job(client, "/matrix", MATRIX)
        assert plain["name"] is None and plain["tags"] == [] and plain["plan"]["name"] is None
        for extra, field in (({"name": "a\u0000b"}, "body.name"),
                             ({"name": "x" * 201}, "body.name"),
                             ({"tags": ["ok", "bad\u0007"]}, "body.tags"),
                             ({"tags": ["a,b"]}, "body.tags"),
                             ({"tags": [1]}, "body.tags.0")):  # fmt: skip
            for path in ("/matrix", "/siting", "/routing", "/parks"):
                r = client.post(path, json={**MATRIX, **extra}, headers=A)
                assert r.status_code == 422, (path, extra, r.text)
                fields = [e["field"] for e in r.json()["errors"]]
                assert field in fields, (path, extra, fields)


@pytest.mark.both_dbs
def test_delete_job_cancels_then_removes(new_app: Any) -> None:
    app = new_app(max_concurrent_solves=1)
    with TestClient(app) as client:
        done = wait_job(client, submit_sleep(app, seconds=0.05))
        running = submit_sleep(app, seconds=60, helper=True)
        wait_for(lambda: client.get(f"/jobs/{running}", headers=A).json()["progress"]
                 .get("tmp"), what="helper temp folder")  # fmt: skip
        tmp = Path(client.get(f"/jobs/{running}", headers=A).json()["progress"]["tmp"])
        assert tmp.is_dir()
        assert client.delete(f"/jobs/{running}", headers=B).status_code == 404
        r = client.delete(f"/jobs/{running}", headers=A)  # active: cancelled, kept
        assert r.status_code == 200 and r.json()["status"] == "cancelled"
        wait_for(lambda: not tmp.exists(), what="job temp folder removed")
        r = client.delete(f"/jobs/{running}", headers=A)  # finished: removed
        assert r.status_code == 204 and r.content == b""
        assert client.get(f"/jobs/{running}", headers=A).status_code == 404
        assert client.delete(f"/jobs/{running}", headers=A).status_code == 404
        assert client.delete(f"/jobs/{done['id']}", headers=A).status_code == 204
        assert client.get(f"/plans/{done['plan_id']}", headers=A).status_code == 200  # kept
        assert client.get("/jobs", headers=A).json()["total"] == 0
        allow = client.options(f"/jobs/{running}", headers=A).headers["allow"]
        assert allow == "DELETE, GET, HEAD, OPTIONS"


def test_delete_network_with_its_files(db_url: str, tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    app = make_app(data_dir, database_url=db_url, max_concurrent_solves=1)
    with TestClient(app) as client:
        r = client.post("/networks", json={"sample": "helsinki", "name": "H"}, headers=A)
        assert r.status_code == 201, r.text
        net = r.json()["id"]
        folder = network_dir(data_dir, net)
        assert any(folder.iterdir())
        assert client.get(f"/networks/{net}/roads.geojson?limit=1", headers=A).status_code == 200
        plan = run_job(client, "/matrix", {**MATRIX, "network_id": net, "tags": ["k"]})["plan_id"]
        assert plan
        # another tenant: 404, nothing touched
        assert client.delete(f"/networks/{net}", headers=B).status_code == 404
        assert folder.is_dir()
        # a queued or running job on it: 409 naming it
        busy = submit_sleep(app, seconds=60, network={"id": net})
        r = client.delete(f"/networks/{net}", headers=A)
        assert r.status_code == 409 and r.json()["job_ids"] == [busy], r.text
        assert busy in r.json()["detail"] and folder.is_dir()
        assert client.delete(f"/jobs/{busy}", headers=A).json()["status"] == "cancelled"
        r = client.delete(f"/networks/{net}", headers=A)
        assert r.status_code == 204, r.text
        assert not folder.exists()
        for url in (f"/networks/{net}", f"/networks/{net}/roads.geojson"):
            assert client.get(url, headers=A).status_code == 404, url
        assert client.delete(f"/networks/{net}", headers=A).status_code == 404
        assert client.get("/networks", headers=A).json()["total"] == 0
        # the plan made on it is kept and readable, and still found by its network id
        assert client.get(f"/plans/{plan}", headers=A).json()["network_id"] == net
        assert _ids(client.get(f"/plans?network={net}", headers=A)) == [plan]
        # embedded samples used by name are not stored: nothing to delete
        assert client.delete("/networks/helsinki", headers=A).status_code == 404
        allow = client.options(f"/networks/{net}", headers=A).headers["allow"]
        assert allow == "DELETE, GET, HEAD, OPTIONS"
