"""``/records``: collection records (weighbridge tickets, receipts); a plan's actuals and
its target evaluation.

* ``POST /records``: bulk, all or none, idempotent by document id (a file sent twice
  counts once); a different record under a stored document id is a 409 naming it; a
  change is a correction record (``corrects``) that keeps the original.
* ``GET /records?from=&to=``: the tenant's stored records (``superseded`` when corrected).
* ``GET /plans/{id}/actuals?from=&to=&bucket=``: plan versus actual for the period
  (:func:`recyclenet.actuals.plan_vs_actual`) with the stations' achievement layer.
* ``POST /plans/{id}/evaluation``: targets evaluated against the plan and the records,
  with the national indicator sets (computed / entered / unsupported).

Everything is scoped by the API key's tenant: another tenant's plan is a 404 and its
records are never read.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from recyclenet.actuals.compare import (
    Bucket,
    achievement_layer,
    expectation_from_plans,
    plan_vs_actual,
)
from recyclenet.actuals.national import SETS, national_table
from recyclenet.actuals.records import Record, make_record
from recyclenet.actuals.run import order_items_from_layer
from recyclenet.actuals.targets import Target, evaluate, pilot_values
from recyclenet.errors import InputError

from ..deps import ContextDep, TenantDep
from ..problems import Problem
from ..records_store import RecordConflictError, add_records, list_records, tenant_book
from ..store import Plan
from .common import not_found

router = APIRouter(tags=["records"])

_ID = Field(default=None, max_length=200)
_NUM = Field(default=None, ge=0)


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class RecordIn(_In):
    """One ticket or receipt (see :class:`recyclenet.actuals.Record`)."""

    document_id: str = Field(min_length=1, max_length=200)
    time: str = Field(min_length=1, max_length=40, description="Local date-time, ISO 8601.")
    category: str = Field(min_length=1, max_length=100, description="Catalogue category.")
    station_id: str | None = _ID
    order_id: str | None = _ID
    vehicle_id: str | None = _ID
    appliance_type: str | None = Field(default=None, max_length=100)
    size: float | None = _NUM
    gross_kg: float | None = _NUM
    tare_kg: float | None = _NUM
    net_kg: float | None = _NUM
    units: float | None = _NUM
    destination_id: str | None = _ID
    district: str | None = _ID
    vehicle_km: float | None = _NUM
    corrects: str | None = _ID
    note: str = Field(default="", max_length=2000)


class RecordsCreate(_In):
    model_config = ConfigDict(
        extra="forbid",
        allow_inf_nan=False,
        json_schema_extra={"examples": [{"records": [{
            "document_id": "WB20230302-0001", "time": "2023-03-02 08:30",
            "station_id": "S1", "vehicle_id": "京A12345", "category": "scrap_ferrous",
            "gross_kg": 3050, "tare_kg": 2800, "destination_id": "centre_1"}]}]},
    )  # fmt: skip

    records: list[RecordIn] = Field(min_length=1, max_length=10_000)


class RecordsAdded(BaseModel):
    added: list[str]
    duplicates: list[str]


class RecordList(BaseModel):
    items: list[dict[str, Any]]
    total: int
    limit: int
    offset: int


class PlanActuals(BaseModel):
    plan_id: str
    kind: str
    actuals: dict[str, Any]
    stations: dict[str, Any] | None = Field(
        default=None, description="FeatureCollection: stations coloured by achievement."
    )


class MilestoneIn(_In):
    year: int = Field(ge=1900, le=2200)
    value: float


class TargetIn(_In):
    indicator: str = Field(min_length=1, max_length=200)
    baseline_value: float
    baseline_year: int = Field(ge=1900, le=2200)
    target_value: float
    target_year: int = Field(ge=1900, le=2200)
    milestones: list[MilestoneIn] = Field(default_factory=list, max_length=50)
    label: str = Field(default="", max_length=200)
    unit: str = Field(default="", max_length=50)
    value: float | None = None


class EvaluationCreate(_In):
    model_config = ConfigDict(
        extra="forbid",
        allow_inf_nan=False,
        populate_by_name=True,
        json_schema_extra={"examples": [{
            "from": "2023-03-01", "to": "2023-04-01",
            "targets": [{"indicator": "recovery_rate_main_materials", "baseline_value": 20,
                         "baseline_year": 2021, "target_value": 70, "target_year": 2025,
                         "milestones": [{"year": 2022, "value": 35}]}],
            "entered": {"2017-03": 1.32}}]},
    )  # fmt: skip

    start: date = Field(alias="from")
    end: date = Field(alias="to")
    as_of: date | None = None
    targets: list[TargetIn] = Field(min_length=1, max_length=200)
    entered: dict[str, float] = Field(default_factory=dict, max_length=500)


def _records(body: RecordsCreate) -> list[Record]:
    out = []
    for i, item in enumerate(body.records):
        out.append(make_record(item.model_dump(), where=f"records[{i}]"))
    return out


@router.post(
    "/records",
    response_model=RecordsAdded,
    summary="Store collection records (bulk, idempotent by document id)",
    responses={409: {"description": "A document id is stored with other values"},
               422: {"description": "A record is invalid (index and field named)"}},
)  # fmt: skip
async def post_records(body: RecordsCreate, ctx: ContextDep, tenant: TenantDep) -> RecordsAdded:
    records = _records(body)
    try:
        result = await run_in_threadpool(add_records, ctx.store, tenant, records)
    except RecordConflictError as exc:
        raise Problem(409, str(exc)) from None
    return RecordsAdded(added=list(result.added), duplicates=list(result.duplicates))


FromQuery = Annotated[date | None, Query(alias="from", description="First day, YYYY-MM-DD.")]
ToQuery = Annotated[date | None, Query(alias="to", description="Day after the last.")]


def _midnight(day: date | None) -> datetime | None:
    return None if day is None else datetime.combine(day, time.min)


@router.get("/records", response_model=RecordList, summary="Stored collection records")
async def get_records(
    ctx: ContextDep,
    tenant: TenantDep,
    start: FromQuery = None,
    end: ToQuery = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> RecordList:
    items, total = await run_in_threadpool(
        lambda: list_records(
            ctx.store,
            tenant,
            start=_midnight(start),
            end=_midnight(end),
            limit=limit,
            offset=offset,
        )
    )
    return RecordList(items=items, total=total, limit=limit, offset=offset)


def _plan(ctx: Any, tenant: str, plan_id: str) -> Plan:
    row = ctx.store.get_plan(tenant, plan_id)
    if row is None:
        raise not_found("plan", plan_id)
    if row.kind not in ("siting", "routing") or not isinstance(row.data, dict):
        raise Problem(404, f"plan {plan_id} is a {row.kind} plan; actuals need a siting or "
                      "routing plan")  # fmt: skip
    return row


def _compare(row: Plan, records: list[Record], start: date, end: date, bucket: Bucket) -> Any:
    plan = row.data.get("plan") or {}
    layers = row.data.get("layers") or {}
    if row.kind == "siting":
        exp = expectation_from_plans(siting=plan)
    else:
        items = order_items_from_layer(layers.get("stops") or {})
        exp = expectation_from_plans(routing=plan, order_items=items)
    return exp, plan_vs_actual(exp, records, start=start, end=end, bucket=bucket)


def _period(start: date | None, end: date | None) -> tuple[date, date]:
    if start is None or end is None:
        raise Problem(422, "give the period as ?from=YYYY-MM-DD&to=YYYY-MM-DD (to excluded)")
    if end <= start:
        raise Problem(422, f"period: to ({end}) must be after from ({start})")
    if (end - start).days > 3660:
        raise Problem(422, "period: at most ten years")
    return start, end


@router.get(
    "/plans/{plan_id}/actuals",
    response_model=PlanActuals,
    summary="Plan versus actual for a period",
    responses={404: {"description": "No such plan for this API key"}},
)
async def plan_actuals(
    plan_id: str,
    ctx: ContextDep,
    tenant: TenantDep,
    start: FromQuery = None,
    end: ToQuery = None,
    bucket: Literal["day", "week", "month"] = "week",
) -> PlanActuals:
    d0, d1 = _period(start, end)

    def work() -> PlanActuals:
        row = _plan(ctx, tenant, plan_id)
        records = tenant_book(ctx.store, tenant).effective()
        _, result = _compare(row, records, d0, d1, bucket)
        stations = (row.data.get("layers") or {}).get("stations")
        layer = achievement_layer(result, stations) if stations else None
        return PlanActuals(plan_id=row.id, kind=row.kind, actuals=result.to_dict(),
                           stations=layer)  # fmt: skip

    return await run_in_threadpool(work)


@router.post(
    "/plans/{plan_id}/evaluation",
    summary="Evaluate targets against a plan and the records of a period",
    responses={404: {"description": "No such plan for this API key"}},
)
async def plan_evaluation(
    plan_id: str, body: EvaluationCreate, ctx: ContextDep, tenant: TenantDep
) -> dict[str, Any]:
    d0, d1 = _period(body.start, body.end)
    targets = []
    for i, t in enumerate(body.targets):
        try:
            targets.append(Target(t.indicator, t.baseline_value, t.baseline_year,
                                  t.target_value, t.target_year,
                                  tuple((m.year, m.value) for m in t.milestones),
                                  t.label, t.unit, t.value))  # fmt: skip
        except InputError as exc:
            raise InputError(f"targets[{i}]: {exc}") from None

    def work() -> dict[str, Any]:
        from recyclenet.indicators import plan_dict_indicators

        row = _plan(ctx, tenant, plan_id)
        records = [r for r in tenant_book(ctx.store, tenant).effective()
                   if d0 <= r.time.date() < d1]  # fmt: skip
        _, result = _compare(row, records, d0, d1, "month")
        plan = row.data.get("plan") or {}
        inds = plan_dict_indicators(row.kind, plan)
        values = pilot_values(plan_indicators=inds, result=result, records=records)
        ev = evaluate(targets, values, as_of=body.as_of or d1 - timedelta(days=1),
                      entered=body.entered)  # fmt: skip
        given = {t.indicator: t.value for t in targets if t.value is not None}
        national = {name: [r.to_dict() for r in national_table(name, values,
                                                               {**given, **body.entered})]
                    for name in SETS}  # fmt: skip
        return {"plan_id": row.id, **ev.to_dict(), "computed": values, "national": national}

    return await run_in_threadpool(work)
