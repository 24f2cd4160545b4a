"""``POST /uploads?kind=``: check a user table and return its rows as GeoJSON, with every
bad row named (the web app's data step; :func:`recyclenet.uploads.check_table`).

Nothing is stored: the file is read in a temporary folder and the answer is the check. A
file that cannot be read, a missing column or bad rows are all a 200 whose ``ok`` is false
and whose ``issues`` say which row, which field and the fix; only a bad request (unknown
kind, network or mapping) is a 4xx.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from recyclenet.errors import InputError
from recyclenet.uploads import check_table

from ..deps import AppContext, ContextDep, TenantDep
from ..problems import Problem
from .common import CrsQuery, field_problem, resolve_network
from .networks import _parse_multipart, _text_field

router = APIRouter(tags=["uploads"])

UploadKind = Literal["demand", "sites", "centres", "orders", "depots", "fleet", "zones", "records"]
SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx", ".xlsm", ".xls", ".gpkg", ".geojson", ".json",
            ".zip", ".shp", ".kml", ".fgb")  # fmt: skip


def _roads(ctx: AppContext, network_id: str) -> list[Any]:
    import shapely

    layer = ctx.roads.get(network_id)
    return [shapely.geometry.shape(json.loads(f)["geometry"]) for f in layer.features]


@router.post(
    "/uploads",
    summary="Check an uploaded table (demand, sites, centres, orders, depots, fleet, zones)",
    description=(
        "`multipart/form-data` with the file as `file` (CSV in UTF-8 or GBK, Excel .xlsx, "
        "GeoPackage, GeoJSON, a zipped Shapefile) and, optionally, `mapping`: JSON "
        '`{"lon": "X坐标", ...}` naming the file\'s column for each field the column '
        "names did not reveal. Answers the columns found and matched, every row as text "
        "(`rows`, with its line `_line`), the good rows as a GeoJSON FeatureCollection "
        "(`features`, properties in the form `POST /siting` and `POST /routing` take; a "
        "fleet as `records`) and `issues`: one per bad row and field with `line`, `id`, "
        "`field`, `code`, `message` and `fix`. Missing required columns answer "
        "`needs_mapping: true` with `missing` and `columns`: send the file again with "
        "`mapping`. With `network_id`, points farther than `max_road_distance_m` from "
        "every road of the network (in the sea, lon/lat swapped, wrong datum) are issues. "
        "Nothing is stored."
    ),
)
async def check_upload(
    request: Request,
    ctx: ContextDep,
    tenant: TenantDep,
    crs: CrsQuery,
    kind: Annotated[UploadKind, Query(description="What the table holds")],
    network_id: Annotated[
        str | None, Query(min_length=1, max_length=64, description="Check points near roads")
    ] = None,
    max_road_distance_m: Annotated[float, Query(gt=0, le=10_000)] = 500.0,
    layer: Annotated[str | None, Query(max_length=200, description="Layer or sheet")] = None,
) -> dict[str, Any]:
    ctype = request.headers.get("content-type", "")
    if not ctype.lower().startswith("multipart/form-data"):
        raise Problem(415, "send multipart/form-data with the table as a file part named 'file'")
    fields = _parse_multipart(ctype, await request.body())
    if "file" not in fields or not fields["file"][1]:
        raise field_problem("body.file", "missing or empty: send the table as a part named 'file'")
    filename = (fields["file"][0] or "upload.csv").replace("\\", "/").rsplit("/", 1)[-1]
    suffix = next((s for s in SUFFIXES if filename.lower().endswith(s)), None)
    if suffix is None:
        raise field_problem("body.file", f"{filename!r}: use a file ending in "
                            f"{', '.join(SUFFIXES)} (a Shapefile as a .zip)")  # fmt: skip
    mapping: dict[str, str] | None = None
    raw_mapping = _text_field(fields, "mapping")
    if raw_mapping:
        try:
            mapping = json.loads(raw_mapping)
        except json.JSONDecodeError as exc:
            raise field_problem("body.mapping", f"not JSON: {exc}") from None
        if not isinstance(mapping, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in mapping.items()
        ):
            raise field_problem("body.mapping", 'give an object {"field": "column name"}')
    roads = None
    if network_id is not None:
        resolve_network(ctx, tenant, network_id, "query.network_id")
        try:
            roads = await run_in_threadpool(_roads, ctx, network_id)
        except OSError:
            roads = None  # the network's road files are gone: skip the road check

    def run() -> dict[str, Any]:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"upload{suffix}"
            path.write_bytes(fields["file"][1])
            result = check_table(path, kind=kind, crs=crs, mapping=mapping, layer=layer,
                                 source=filename, roads=roads,
                                 max_road_distance_m=max_road_distance_m)  # fmt: skip
            return result.to_dict()

    try:
        return await run_in_threadpool(run)
    except InputError as exc:
        raise field_problem("body.mapping", str(exc)) from None
