"""Keyset (cursor) paging of ``GET /plans``, ``/jobs`` and ``/networks``
(:mod:`recyclenet_api.paging`): stable under inserts and deletes between pages, ties by
id, the same filters in every link, and any bad cursor a 422 naming ``query.cursor``; on
SQLite and PostgreSQL (``db_url``)."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from api_helpers import A, B, make_app
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from recyclenet_api.paging import decode_cursor, encode_cursor
from recyclenet_api.store import Job, Plan, PlanFilter, Position, Store, new_id, utcnow


def _plan(store: Store, tenant: str = "tenant-a", kind: str = "matrix") -> str:
    """A plan row, made now (straight into the table: no job for the app's runner)."""
    plan_id = new_id()
    with Session(store.engine) as s, s.begin():
        s.add(Plan(id=plan_id, tenant=tenant, kind=kind, data={"kind": kind},
                   created_at=utcnow()))  # fmt: skip
    return plan_id


def _job(store: Store, status: str, tenant: str = "tenant-a") -> str:
    """A finished job row, made now (the app's runner only looks at queued jobs)."""
    job_id = new_id()
    now = utcnow()
    with Session(store.engine) as s, s.begin():
        s.add(Job(id=job_id, tenant=tenant, kind="matrix", status=status, payload={},
                  time_limit_s=5, created_at=now, updated_at=now, finished_at=now))  # fmt: skip
    return job_id


@pytest.fixture
def store_and_client(db_url: str, tmp_path: Path) -> Iterator[tuple[Store, TestClient]]:
    """A store and an app over one database."""
    store = Store(db_url)
    store.upgrade()
    app: FastAPI = make_app(tmp_path / "var", database_url=db_url)
    try:
        with TestClient(app) as client:
            yield store, client
    finally:
        store.dispose()


def _get(client: TestClient, url: str) -> dict[str, Any]:
    r = client.get(url, headers=A)
    assert r.status_code == 200, r.text
    return r.json()


def _ids(body: dict[str, Any]) -> list[str]:
    return [item["id"] for item in body["items"]]


def test_plan_pages_stable_under_inserts_and_deletes(
    store_and_client: tuple[Store, TestClient],
) -> None:
    store, client = store_and_client
    made = [_plan(store) for _ in range(6)]  # oldest first
    newest = made[::-1]
    _plan(store, kind="siting")  # filtered out by ?kind=matrix
    first = _get(client, "/plans?kind=matrix&limit=2")
    assert _ids(first) == newest[:2] and first["total"] == 6 and first["offset"] == 0
    nxt = first["links"]["next"]
    assert nxt.startswith("/plans?kind=matrix&limit=2&cursor=")

    # between pages: a new plan; an offset page drifts (the first page's last plan again)
    fresh = _plan(store)
    assert _ids(_get(client, "/plans?kind=matrix&limit=2&offset=2"))[0] == newest[1]
    # and the cursor's own plan deleted, and a plan further on
    assert store.delete_plan("tenant-a", newest[1])
    assert store.delete_plan("tenant-a", newest[3])
    # the cursor page goes on right after the first page's last plan
    second = _get(client, nxt)
    assert _ids(second) == [newest[2], newest[4]]
    assert second["total"] == 5 and second["offset"] == 2  # fresh and newest[0] before it
    third = _get(client, second["links"]["next"])
    assert _ids(third) == [newest[5]] and "next" not in third["links"]
    # back: the page before the second, as the list is now (the new plan first)
    back = _get(client, second["links"]["prev"])
    assert _ids(back) == [fresh, newest[0]] and back["offset"] == 0
    assert "prev" not in back["links"]
    # every plan once, when nothing changes while paging
    seen: list[str] = []
    url: str | None = "/plans?kind=matrix&limit=2"
    while url:
        body = _get(client, url)
        seen += _ids(body)
        url = body["links"].get("next")
    assert seen == [fresh, newest[0], newest[2], newest[4], newest[5]]


def test_ties_by_id(db_url: str) -> None:
    """Plans made at the same instant: ordered by id, none skipped at a page boundary."""
    store = Store(db_url)
    try:
        store.upgrade()
        when = datetime(2026, 11, 30, 8, 0, 0, 123456, tzinfo=UTC)
        ids = sorted((new_id() for _ in range(5)), reverse=True)
        with Session(store.engine) as s, s.begin():
            s.add_all(Plan(id=i, tenant="t", kind="matrix", data={}, created_at=when)
                      for i in ids)  # fmt: skip
        seen: list[str] = []
        at: Position | None = None
        offsets = []
        while True:
            page = store.list_plans("t", PlanFilter(), limit=2, at=at)
            offsets.append(page.offset)
            seen += [p.id for p in page.items]
            if len(page.items) < 2:
                break
            at = Position(page.items[-1].created_at, page.items[-1].id)
        assert seen == ids and offsets == [0, 2, 4]
        # backwards from the last: the two before it
        back = store.list_plans("t", PlanFilter(), limit=2,
                                at=Position(when, ids[4], before=True))  # fmt: skip
        assert [p.id for p in back.items] == ids[2:4] and back.offset == 2
    finally:
        store.dispose()


def test_jobs_and_networks_page_the_same_way(store_and_client: tuple[Store, TestClient]) -> None:
    store, client = store_and_client
    jobs = [_job(store, "cancelled" if i in (1, 3) else "failed") for i in range(5)]
    _job(store, "done", tenant="tenant-b")
    nets = [store.add_network(id=new_id(), tenant="tenant-a", name=f"n{i}", source="helsinki",
                              profile="car", info={}).id for i in range(3)]  # fmt: skip

    def walk(url: str) -> tuple[list[str], list[dict[str, Any]]]:
        seen: list[str] = []
        bodies = []
        next_url: str | None = url
        while next_url:
            r = client.get(next_url, headers=A)
            assert r.status_code == 200, r.text
            body = r.json()
            if "next" in body["links"]:
                assert r.headers["link"].startswith(f'<{body["links"]["next"]}>; rel="next"')
            seen += _ids(body)
            bodies.append(body)
            next_url = body["links"].get("next")
        return seen, bodies

    seen, bodies = walk("/jobs?limit=2")  # newest first
    assert seen == jobs[::-1] and [b["offset"] for b in bodies] == [0, 2, 4]
    seen, bodies = walk("/jobs?status=cancelled&limit=1")  # the filter rides along
    assert seen == [jobs[3], jobs[1]]
    assert all("status=cancelled" in b["links"]["next"] for b in bodies[:-1])
    seen, bodies = walk("/networks?limit=2&crs=gcj02")  # oldest first
    assert seen == nets and "crs=gcj02" in bodies[0]["links"]["next"]
    # a job queued between pages is not in the next page
    first = _get(client, "/jobs?limit=2")
    _job(store, "done")
    assert _ids(_get(client, first["links"]["next"])) == jobs[::-1][2:4]
    # a cursor of one list is refused by another
    r = client.get("/networks", params={"cursor": first["links"]["next"].split("cursor=")[1]},
                   headers=A)  # fmt: skip
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "query.cursor"
    assert "GET /jobs" in r.json()["detail"]
    # tenant B sees only its job, whatever the cursor
    assert len(_ids(client.get("/jobs", headers=B).json())) == 1


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode()


@pytest.mark.parametrize("path", ["/plans", "/jobs", "/networks"])
def test_bad_cursors_are_422(db_url: str, tmp_path: Path, path: str) -> None:
    name = path[1:]
    when = "2026-11-30T08:00:00.000000+00:00"
    bad = [
        "not a cursor!",
        "%%%",
        _b64("x"),
        "\u00e9t\u00e9",
        _b64(f"{name}|a|{when}"),  # a part missing
        _b64(f"{name}|z|{when}|abc"),  # no such direction
        _b64(f"{name}|a|yesterday|abc"),
        _b64(f"{name}|a|2026-11-30T08:00:00|abc"),  # no offset
        _b64(f"{name}|a|0001-01-01T00:00:00+05:00|abc"),  # beyond the range in UTC
        _b64(f"{name}|a|9999-12-31T23:00:00-05:00|abc"),
        _b64(f"{name}|a|{when}|a\x00b"),  # NUL: PostgreSQL cannot store it
        _b64(f"{name}|a|{when}|" + "x" * 65),
        _b64(f"{name}|a|{when}|a b"),
        base64.urlsafe_b64encode(b"\xff\xfe|a|").decode().rstrip("="),  # not UTF-8
        _b64("plans|a|" + when + "|abc") if name != "plans" else _b64("jobs|a|" + when + "|abc"),
        "A" * 201,  # too long
    ]
    app = make_app(tmp_path / "var", database_url=db_url)
    with TestClient(app) as client:
        for cursor in bad:
            r = client.get(path, params={"cursor": cursor}, headers=A)
            assert r.status_code == 422, (cursor, r.text)
            assert r.json()["errors"][0]["field"] == "query.cursor", (cursor, r.json())
        good = encode_cursor(name, Position(datetime(2026, 1, 1, tzinfo=UTC), "abc"))  # type: ignore[arg-type]
        r = client.get(path, params={"cursor": good, "offset": 3}, headers=A)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "query.cursor"
        assert "either cursor or offset" in r.json()["detail"]
        # a well-formed cursor anywhere is just a place in the list
        r = client.get(path, params={"cursor": good}, headers=A)
        assert r.status_code == 200 and r.json()["items"] == [], r.text


def test_cursor_round_trip() -> None:
    at = Position(datetime(2026, 11, 30, 16, 0, 0, 7, tzinfo=UTC), "a1b2", before=True)
    text = encode_cursor("plans", at)
    assert text.isascii() and "=" not in text and "|" not in text
    assert decode_cursor("plans", text) == at
