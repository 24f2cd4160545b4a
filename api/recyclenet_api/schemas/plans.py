"""``/plans``: a stored plan, its summary in the list, its labels and its indicators."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, TypeAdapter, ValidationError

from .common import PAGE_LINKS_DOC, PlanName, PlanTags, StoredDoc, _In
from .matrix import MatrixData
from .parks import ParkData
from .routing import RoutingData, RoutingIndicators
from .siting import SitingData, SitingIndicators


class OtherData(BaseModel):
    """A plan this version does not describe, served as stored: a diagnostic job's result,
    or a plan an earlier version stored in another shape (stored plans never change)."""

    model_config = ConfigDict(extra="allow")

    kind: str


_KNOWN_KINDS = ("siting", "routing", "matrix", "park")


def _data_kind(value: Any) -> str:
    if isinstance(value, OtherData):
        return "other"
    kind = value.get("kind") if isinstance(value, dict) else getattr(value, "kind", None)
    return kind if kind in _KNOWN_KINDS else "other"


PlanData = Annotated[
    Annotated[SitingData, Tag("siting")]
    | Annotated[RoutingData, Tag("routing")]
    | Annotated[MatrixData, Tag("matrix")]
    | Annotated[ParkData, Tag("park")]
    | Annotated[OtherData, Tag("other")],
    Discriminator(_data_kind),
]
"""A stored plan's data, by its ``kind``."""

_PLAN_DATA: TypeAdapter[Any] = TypeAdapter(PlanData)


def plan_data(
    stored: dict[str, Any],
) -> SitingData | RoutingData | MatrixData | ParkData | OtherData:
    """A stored plan's data as the model of its kind, or as stored (:class:`OtherData`)
    when it does not match that model (a plan stored by an earlier version)."""
    try:
        data: SitingData | RoutingData | MatrixData | ParkData = _PLAN_DATA.validate_python(stored)
        return data
    except ValidationError:
        return OtherData.model_validate(stored)


class PlanLabelsPatch(_In):
    """``PATCH /plans/{id}``: a new name and/or new tags; nothing else of a plan changes."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        json_schema_extra={"examples": [{"name": "District 3, final", "tags": ["final"]}]},
    )

    name: PlanName
    tags: PlanTags


class PlanPublic(BaseModel):
    id: str
    kind: str
    name: str | None = Field(default=None, description="The plan's name (PATCH to change).")
    tags: list[str] = Field(default_factory=list, description="The plan's tags.")
    network_id: str | None = Field(
        default=None,
        description="The network the plan was made on (it may have been deleted since: "
        "the plan holds its layers and stays readable).",
    )
    job_id: str | None
    created_at: datetime
    data: PlanData = Field(
        description="The plan or result, by kind (siting and routing: kind, network_id, "
        "input_crs, plan, indicators; GeoJSON layers are at the links). Siting and routing "
        "data hold ids, not coordinates: geometry is in the layers."
    )
    links: dict[str, str] = Field(default_factory=dict)


class PlanSummaryPublic(BaseModel):
    """A plan in ``GET /plans``: no data; follow ``links.self`` for it."""

    id: str
    kind: str
    name: str | None
    tags: list[str]
    network_id: str | None
    job_id: str | None
    created_at: datetime
    links: dict[str, str]


class PlanList(BaseModel):
    items: list[PlanSummaryPublic]
    total: int = Field(description="Plans matching the filters, over all pages.")
    limit: int
    offset: int = Field(description="Plans before this page.")
    links: dict[str, str] = Field(default_factory=dict, description=PAGE_LINKS_DOC)


class LangText(BaseModel):
    en: str
    zh: str


class EvaluationIndicator(StoredDoc):
    """One indicator of the pilot's evaluation (:class:`recyclenet.indicators.Indicator`)."""

    key: str
    value: float | None = Field(description="None when it cannot be computed.")
    unit: str
    group: str
    name: LangText
    definition: LangText


class PlanIndicators(BaseModel):
    plan_id: str
    kind: Literal["siting", "routing"]
    indicators: SitingIndicators | RoutingIndicators | dict[str, Any] = Field(
        description="Siting: status, objective, bound, gap, stations open/opened/kept/"
        "closed, share of households within the radius, access distance mean/p95, "
        "households per station, load and utilisation by site. Routing: status, engine, "
        "vehicle_km, vehicle_hours, cost, penalty_cost, kg and tonnes by material, "
        "orders_total, served_count, unserved_count, unserved_by_reason, vehicles_used."
    )
    evaluation: list[EvaluationIndicator] = Field(
        default_factory=list,
        description="The circular-economy pilot's evaluation indicators "
        "(recyclenet.indicators), each with key, value, unit, group, and name and "
        "definition in English and Chinese: coverage share, access distance, stations per "
        "10,000 households, utilisation; tonnes by material, vehicle-km, tonne-km, "
        "vehicle-hours, cost per tonne, CO2e, empty-running share.",
    )
