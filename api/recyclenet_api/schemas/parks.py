"""``/parks``: an industrial park to plan (issue #16), its job and its result."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from .common import FeatureCollectionOut, JobSpec, PlanName, PlanTags, StoredDoc

PARK_LAYERS: tuple[str, ...] = ("enterprises", "receivers", "flows", "routes", "sites")
"""GeoJSON layers of a park plan (``/parks/{plan_id}/{layer}.geojson``)."""


# A small park on the Helsinki sample: fly ash to a cement works, waste hydraulic oil to a
# licensed regenerator, scrap steel to a recycler (used by /docs and by the schema tests).
PARK_EXAMPLE: dict[str, Any] = {
    "network_id": "helsinki",  # an embedded sample by name: the example runs as it is
    "park": {
        "name": "示范园区 Example park",
        "settings": {"collection_days": ["mon", "wed", "fri"]},
        "enterprises": [
            {
                "id": "E01",
                "name": "热电厂 Thermal power plant",
                "lon": 24.9423241,
                "lat": 60.1729075,
            },
            {
                "id": "E02",
                "name": "钢结构厂 Steel fabrication",
                "lon": 24.9432647,
                "lat": 60.17309,
                "gate_windows": "08:00-11:30;13:00-17:00",
            },
        ],
        "streams": [
            {
                "id": "S01",
                "enterprise_id": "E01",
                "code": "SW02",
                "tonnes_per_month": 40.0,
                "form": "powder",
                "packaging": "bulk",
                "storage_limit_t": 60.0,
                "storage_days": 30.0,
                "name": "粉煤灰",
            },
            {
                "id": "S02",
                "enterprise_id": "E02",
                "code": "SW17-01",
                "tonnes_per_month": 6.0,
                "form": "solid",
                "packaging": "bulk",
                "storage_limit_t": 10.0,
                "name": "边角料废钢",
            },
            {
                "id": "S03",
                "enterprise_id": "E02",
                "code": "900-249-08",
                "tonnes_per_month": 1.5,
                "form": "liquid",
                "packaging": "drums",
                "storage_limit_t": 3.0,
                "storage_days": 90.0,
                "name": "废液压油",
            },
        ],
        "receivers": [
            {
                "id": "R02",
                "name": "水泥厂 Cement works",
                "kind": "cement_kiln",
                "accepted_codes": "SW02",
                "capacity_t_per_year": 20000.0,
                "price_paid_per_t": 5.0,
                "lon": 24.9413598,
                "lat": 60.1773804,
            },
            {
                "id": "R04",
                "name": "再生金属回收 Scrap metal recycler",
                "kind": "recycler",
                "accepted_codes": "SW17-01",
                "price_paid_per_t": 2000.0,
                "lon": 24.9516501,
                "lat": 60.1769274,
            },
            {
                "id": "R10",
                "name": "废矿物油再生 Waste oil regeneration",
                "kind": "recycler",
                "accepted_codes": "HW08",
                "capacity_t_per_year": 300.0,
                "price_paid_per_t": 1500.0,
                "licence": "示例-HW-0005",
                "lon": 24.9478236,
                "lat": 60.1780955,
            },
        ],
        "vehicles": [
            {
                "id": "V2-危货厢车",
                "kind": "box",
                "hazmat_licensed": "yes",
                "compartments": 4,
                "compartment_capacity_t": 1.5,
                "depot_id": "D1",
                "shift": "07:00-18:00",
                "cost_per_km": 7.0,
                "profile": "truck_18t",
            },
            {
                "id": "V3-自卸车",
                "kind": "tipper",
                "hazmat_licensed": "no",
                "compartments": 1,
                "compartment_capacity_t": 25.0,
                "depot_id": "D1",
                "shift": "07:00-18:00",
                "cost_per_km": 6.0,
                "profile": "truck_18t",
            },
        ],
        "depots": [{"id": "D1", "lon": 24.9442823, "lat": 60.1676935}],
    },
    "time_limit_s": 5,
}


class ParkCreate(BaseModel):
    """An industrial park to plan on a registered network."""

    model_config = ConfigDict(
        extra="forbid", allow_inf_nan=False, json_schema_extra={"examples": [PARK_EXAMPLE]}
    )

    network_id: str = Field(
        min_length=1, max_length=64, description="A registered network, or an embedded sample."
    )
    park: dict[str, Any] = Field(
        description="The park document: enterprises, streams, receivers, vehicles, depots, "
        "sites (lists of rows), settings, shared, name, crs; as in a park YAML file."
    )
    time_limit_s: float | None = Field(default=None, gt=0, description="For all solves, s.")
    single_source: bool | None = Field(default=None, description="Each stream to one receiver.")
    allow_unplaced: bool = Field(
        default=False, description="Plan what can be placed and report the rest."
    )
    seed: int = Field(default=0, ge=0, le=2**31 - 1)
    name: PlanName
    tags: PlanTags


class ParkJob(JobSpec):
    """The stored payload of a park job."""

    request: ParkCreate


class ParkPlanDoc(StoredDoc):
    """The park plan (:meth:`recyclenet.parks.ParkPlan.to_dict`)."""

    park: str | None = Field(default=None, description="The park's name.")
    time_s: float
    allocation: dict[str, Any] = Field(description="Each stream's receivers and tonnes.")
    schedule: dict[str, Any] = Field(description="The weekly pickup schedule.")
    collection: dict[str, Any] | None = Field(
        default=None, description="vehicle_km, tonne_km, co2e_kg, cost, trips, unserved."
    )
    shared: dict[str, Any] | None = Field(default=None, description="The shared facility.")
    indicators: Any = None


class ParkData(BaseModel):
    """A park plan as stored and as ``GET /plans/{id}`` shows it, layers included."""

    kind: Literal["park"]
    network_id: str
    plan: ParkPlanDoc
    indicators: dict[str, Any] = Field(description="Indicator key -> value.")
    manifests: list[dict[str, Any]] = Field(
        default_factory=list, description="Transfer manifests (危险废物转移联单 fields)."
    )
    layers: dict[str, FeatureCollectionOut] = Field(
        default_factory=dict, description=f"GeoJSON layers: {', '.join(PARK_LAYERS)}."
    )
