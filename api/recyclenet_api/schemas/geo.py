"""GeoJSON and point input: [lon, lat] Points with the properties of each kind of place
(demand, sites, orders, depots, facilities), and plain id/lon/lat points."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from .common import HORIZON_S, _In


class PointIn(_In):
    id: str | int = Field(description="Unique point id (integers are turned into strings).")
    lon: float = Field(
        ge=-180, le=180, description="Longitude, degrees (WGS-84, or the datum of ?crs=)."
    )
    lat: float = Field(
        ge=-90, le=90, description="Latitude, degrees (WGS-84, or the datum of ?crs=)."
    )

    @field_validator("id")
    @classmethod
    def _id_text(cls, value: str | int) -> str:
        text = str(value)
        if not text or len(text) > 200:
            raise ValueError("id must have 1 to 200 characters")
        return text


class _GeoIn(BaseModel):
    """GeoJSON objects: unknown members (``bbox``, foreign members) are ignored."""

    model_config = ConfigDict(extra="ignore", allow_inf_nan=False, strict=True)


class PointGeometry(_GeoIn):
    type: Literal["Point"]
    coordinates: list[float] = Field(
        min_length=2,
        max_length=3,
        description="[lon, lat], lon first (WGS-84 as RFC 7946 says, or the datum of ?crs=).",
    )

    @field_validator("coordinates")
    @classmethod
    def _lonlat(cls, value: list[float]) -> list[float]:
        lon, lat = value[0], value[1]
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise ValueError(
                f"[{lon}, {lat}] is not [lon, lat] in degrees "
                "(lon in -180..180, lat in -90..90; lon first)"
            )
        return value


FeatureId = str | int


class _Props(_GeoIn):
    id: FeatureId | None = Field(default=None, description="Used when the Feature has no id.")


def _window_check(value: tuple[float, float] | None) -> tuple[float, float] | None:
    if value is not None and value[1] < value[0]:
        raise ValueError(f"window ({value[0]:g}, {value[1]:g}) ends before it starts")
    return value


TimeWindowIn = tuple[
    Annotated[float, Field(ge=0, le=HORIZON_S)], Annotated[float, Field(ge=0, le=HORIZON_S)]
]


class _PointFeature(_GeoIn):
    type: Literal["Feature"]
    id: FeatureId | None = Field(default=None, description="Unique id (or properties.id).")
    geometry: PointGeometry

    def resolved_id(self) -> str | None:
        pid = self.id
        if pid is None:
            pid = getattr(self.properties, "id", None)  # type: ignore[attr-defined]
        text = None if pid is None else str(pid)
        return text if text and len(text) <= 200 else None


class DemandProperties(_Props):
    households: float = Field(default=1.0, ge=0, le=1e9, description="Households represented.")
    weight: float | None = Field(
        default=None, ge=0, le=1e12, description="Objective weight; default households."
    )
    kg_per_year: dict[str, Annotated[float, Field(ge=0, le=1e12)]] = Field(
        default_factory=dict, description="Expected recyclables, kg/year by material."
    )


class SiteProperties(_Props):
    status: Literal["existing", "required", "candidate", "forbidden"] = "candidate"
    fixed_cost: float = Field(default=0.0, ge=0, le=1e12)
    capacity: float | None = Field(
        default=None, ge=0, le=1e12, description="Households; none = the station norm."
    )
    closing_cost: float = Field(default=0.0, ge=0, le=1e12, description="Existing sites only.")


class OrderProperties(_Props):
    items: dict[str, Annotated[float, Field(ge=0, le=1e6)]] = Field(
        default_factory=dict,
        description="Catalogue category -> count (pieces, or kg for scrap grades), e.g. "
        '{"refrigerator": 1, "scrap_ferrous": 120}.',
    )
    load_kg: float | None = Field(default=None, ge=0, le=1e7, description="Overrides items.")
    volume_m3: float | None = Field(default=None, ge=0, le=1e5, description="Overrides items.")
    service_s: float | None = Field(default=None, ge=0, le=HORIZON_S)
    time_windows: list[TimeWindowIn] = Field(
        default_factory=list,
        max_length=20,
        description="[open_s, close_s] pairs, seconds from midnight; empty = any time.",
    )
    kind: Literal["pickup", "delivery"] = "pickup"
    required: bool = True
    penalty: float | None = Field(
        default=None, ge=0, le=1e9, description="Cost of dropping an optional order."
    )
    priority: int = Field(default=0, ge=0, le=1000)
    skills: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(
        default_factory=list, max_length=20
    )


class DepotProperties(_Props):
    time_window: TimeWindowIn | None = None

    _tw = field_validator("time_window")(lambda cls, v: _window_check(v))


class FacilityProperties(_Props):
    unload_s: float = Field(default=0.0, ge=0, le=HORIZON_S, description="Unloading time, s.")
    time_window: TimeWindowIn | None = None
    capacity_kg: float | None = Field(
        default=None,
        ge=0,
        le=1e12,
        description="kg the facility takes in the day (omit: no limit); routes unload at "
        "the nearest facility with room, orders none has room for are unserved with reason "
        "facility_capacity.",
    )

    _tw = field_validator("time_window")(lambda cls, v: _window_check(v))


class DemandFeature(_PointFeature):
    properties: DemandProperties = Field(default_factory=DemandProperties)


class SiteFeature(_PointFeature):
    properties: SiteProperties = Field(default_factory=SiteProperties)


class OrderFeature(_PointFeature):
    properties: OrderProperties = Field(default_factory=OrderProperties)


class DepotFeature(_PointFeature):
    properties: DepotProperties = Field(default_factory=DepotProperties)


class FacilityFeature(_PointFeature):
    properties: FacilityProperties = Field(default_factory=FacilityProperties)


class DemandCollection(_GeoIn):
    type: Literal["FeatureCollection"]
    features: list[DemandFeature] = Field(min_length=1)


class SiteCollection(_GeoIn):
    type: Literal["FeatureCollection"]
    features: list[SiteFeature] = Field(min_length=1)


class OrderCollection(_GeoIn):
    type: Literal["FeatureCollection"]
    features: list[OrderFeature] = Field(min_length=1)


class DepotCollection(_GeoIn):
    type: Literal["FeatureCollection"]
    features: list[DepotFeature] = Field(min_length=1)


class FacilityCollection(_GeoIn):
    type: Literal["FeatureCollection"]
    features: list[FacilityFeature] = Field(default_factory=list)


def _point(fid: str, lon: float, lat: float, **props: Any) -> dict[str, Any]:
    return {"type": "Feature", "id": fid, "geometry": {"type": "Point",
            "coordinates": [lon, lat]}, "properties": props}  # fmt: skip
