"""``/networks``: register (embedded sample or OSM upload), list, info, roads as GeoJSON,
delete.

Deleting a network removes its row and its folder (the uploaded extract, the prepared
graph and road index). Plans made on it are kept and stay readable: each plan holds its
own layers, results and indicators, and a bureau's plans are its record of decisions,
which should outlive the road data they were computed on (``GET /plans?network=<id>``
still finds them). Queued or running jobs still read the network's files, so while the
tenant has any on it the delete is a 409 naming them.
"""

from __future__ import annotations

import email.parser
import email.policy
import json
import shutil
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import AfterValidator
from starlette.concurrency import run_in_threadpool

import recyclenet as rn
from recyclenet.errors import InputError
from recyclenet.geo import CoordSystem, bbox_to_wgs84, geojson_to_crs
from recyclenet.network import SAMPLES, sample_path

from ..bodies import request_body
from ..deps import ContextDep, TenantDep
from ..jobs import ChildFailedError, run_in_child
from ..middleware import unstorable
from ..paging import CursorQuery, LimitQuery, OffsetQuery, page_links, start_of_page
from ..problems import TYPE_BASE, Problem
from ..roads import RoadLayer, network_dir
from ..schemas.networks import NetworkList, NetworkPrep, NetworkPublic, NetworkSampleCreate
from ..store import new_id
from ..tasks.networks import ROAD_PROPERTIES
from .common import CrsQuery, check_owner, network_public, not_found, owner_lookup

router = APIRouter(prefix="/networks", tags=["networks"])

UPLOAD_SUFFIXES = (".osm.pbf", ".osm", ".osm.xml", ".osm.gz", ".osm.bz2")
GEOJSON = "application/geo+json"

_REGISTER_BODY: dict[str, Any] = {
    "required": True,
    "content": {
        "application/json": {
            **request_body(NetworkSampleCreate)["content"]["application/json"],
            "example": {"sample": "helsinki", "name": "Helsinki centre", "profile": "car"},
        },
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file"],
                "properties": {
                    "file": {
                        "type": "string",
                        "format": "binary",
                        "description": "OSM extract: " + ", ".join(UPLOAD_SUFFIXES),
                    },
                    "name": {"type": "string", "maxLength": 200},
                    "profile": {"type": "string", "maxLength": 100, "default": "car"},
                },
            },
            "example": {"file": "(binary: town.osm.pbf)", "name": "My town", "profile": "car"},
        },
    },
}


_LIMIT_SETTINGS = {
    "max_decompressed_bytes": "RECYCLENET_MAX_OSM_MB",
    "max_elements": "RECYCLENET_MAX_OSM_ELEMENTS",
    "job_memory_mb": "RECYCLENET_JOB_MEMORY_MB",
}
"""Limit names in job errors -> the server setting that raises them."""


def _body_error(
    loc: tuple[str, ...], msg: str, kind: str = "value_error"
) -> RequestValidationError:
    return RequestValidationError([{"loc": ("body", *loc), "msg": msg, "type": kind}])


def _parse_multipart(content_type: str, body: bytes) -> dict[str, tuple[str | None, bytes]]:
    """Form fields ``name -> (filename, bytes)`` (stdlib parser; the body is size-limited)."""
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1")
    msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    if not msg.is_multipart():
        raise Problem(
            400,
            "the multipart body could not be parsed; send multipart/form-data with a 'file' part",
        )
    fields: dict[str, tuple[str | None, bytes]] = {}
    for part in msg.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not name:
            continue
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        fields[str(name)] = (part.get_filename(), data)
    return fields


def _text_field(fields: dict[str, tuple[str | None, bytes]], name: str) -> str | None:
    if name not in fields:
        return None
    try:
        text = fields[name][1].decode("utf-8").strip()
    except UnicodeDecodeError:
        raise _body_error((name,), "must be UTF-8 text") from None
    return _storable(text, (name,))


def _storable(text: str, loc: tuple[str, ...]) -> str:
    why = unstorable(text)
    if why is not None:
        raise _body_error(loc, f"holds {why}; text cannot hold it", "string_unstorable")
    return text


def _check_profile(profile: str, loc: tuple[str, ...]) -> str:
    try:
        return rn.get_profile(profile).name
    except InputError as exc:
        raise _body_error(loc, str(exc)) from None


async def _register(
    ctx: ContextDep,
    tenant: str,
    *,
    name: str,
    source: str,
    profile: str,
    folder: Any,
    upload_name: str | None,
    crs: CoordSystem,
) -> NetworkPublic:
    prep = NetworkPrep(
        source=source,
        profile=profile,
        out_dir=str(folder),
        check_size=upload_name is not None,
        max_decompressed_bytes=ctx.settings.max_osm_bytes,
        max_elements=ctx.settings.max_osm_elements,
    )

    def prepare() -> dict[str, Any]:
        with ctx.inline_slots:
            return run_in_child(
                ctx.mp_context,
                "recyclenet_api.tasks.networks:prepare_network",
                prep.model_dump(),
                ctx.settings.network_load_timeout_s,
                nice=ctx.settings.job_nice,
                memory_mb=ctx.settings.job_memory_mb,
            )

    try:
        info = await run_in_threadpool(prepare)
    except ChildFailedError as exc:
        shutil.rmtree(folder, ignore_errors=True)
        detail = str(exc.problem.get("detail", "the network could not be loaded"))
        if upload_name:
            detail = detail.replace(source, upload_name).replace(Path(source).name, upload_name)
        status = int(exc.problem.get("status", 500))
        limits = {k: exc.problem[k] for k in ("limit", "limit_value") if k in exc.problem}
        setting = _LIMIT_SETTINGS.get(str(limits.get("limit")))
        if setting:
            detail += f" (server setting {setting})"
        raise Problem(
            status,
            detail,
            title="Network not usable" if status < 500 else None,
            type=TYPE_BASE + ("limit" if limits else "input") if status < 500 else None,
            **limits,
        ) from None
    info["source"] = upload_name or source
    try:
        row = await run_in_threadpool(
            ctx.store.add_network,
            id=folder.name,
            tenant=tenant,
            name=name,
            source=source,
            profile=profile,
            info=info,
        )
    except BaseException:  # no folder without its row
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return network_public(row, crs)


@router.post(
    "",
    status_code=201,
    response_model=NetworkPublic,
    summary="Register a road network",
    description=(
        'Register the embedded sample (JSON `{"sample": "helsinki"}`) or upload an OSM '
        "extract as `multipart/form-data` (`file`, optional `name`, `profile`). The network "
        "is loaded once to check it and to index its roads; the response holds its id and "
        "info (`info.bbox` in the datum of `?crs=`). Uploads are limited to "
        "RECYCLENET_MAX_UPLOAD_MB."
    ),
    openapi_extra={"requestBody": _REGISTER_BODY},
    responses={
        415: {"description": "Neither JSON nor multipart"},
        422: {"description": "Unknown sample, unreadable or road-less OSM file"},
    },
)
async def register_network(
    request: Request, ctx: ContextDep, tenant: TenantDep, crs: CrsQuery
) -> Any:
    ctype = request.headers.get("content-type", "")
    network_id = new_id()
    folder = network_dir(ctx.settings.data_dir, network_id)
    if ctype.lower().startswith("application/json"):
        body = await ctx.bodies.validate(NetworkSampleCreate, await request.body())
        if body.sample not in SAMPLES:
            try:
                sample_path(body.sample)  # the library's message names the samples
            except InputError as exc:
                raise _body_error(("sample",), str(exc)) from None
        profile = _check_profile(body.profile, ("profile",))
        return await _register(
            ctx,
            tenant,
            name=body.name or body.sample,
            source=body.sample,
            profile=profile,
            folder=folder,
            upload_name=None,
            crs=crs,
        )
    if ctype.lower().startswith("multipart/form-data"):
        fields = _parse_multipart(ctype, await request.body())
        if "file" not in fields or not fields["file"][0]:
            raise _body_error(
                ("file",), "missing: send the OSM extract as a file part named 'file'", "missing"
            )
        filename, data = fields["file"]
        filename = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
        suffix = next((s for s in UPLOAD_SUFFIXES if filename.lower().endswith(s)), None)
        if suffix is None:
            raise _body_error(
                ("file",),
                f"{filename!r} is not an OSM extract; use a file "
                f"ending in {', '.join(UPLOAD_SUFFIXES)}",
            )
        if not data:
            raise _body_error(("file",), f"{filename} is empty")
        profile = _check_profile(_text_field(fields, "profile") or "car", ("profile",))
        name = _storable((_text_field(fields, "name") or filename)[:200], ("name",))
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"source{suffix}"
        path.write_bytes(data)
        return await _register(
            ctx,
            tenant,
            name=name,
            source=str(path.resolve()),
            profile=profile,
            folder=folder,
            upload_name=filename,
            crs=crs,
        )
    raise Problem(
        415,
        'send application/json ({"sample": "helsinki"}) or '
        "multipart/form-data with an OSM file part named 'file'",
    )


@router.get(
    "",
    response_model=NetworkList,
    summary="List this tenant's networks, oldest first",
    description=(
        "The networks this API key may use, oldest first (ties by id). Paged with `limit` "
        "and `cursor`: follow `links.next` and `links.prev` (also in the `Link` header); "
        "networks registered or deleted meanwhile neither repeat nor shift the pages. "
        "`total` counts them all, `offset` those before the page; `offset` as a parameter "
        "still works (deprecated)."
    ),
)
def list_networks(
    request: Request,
    response: Response,
    ctx: ContextDep,
    tenant: TenantDep,
    crs: CrsQuery,
    limit: LimitQuery = 100,
    cursor: CursorQuery = None,
    offset: OffsetQuery = 0,
) -> NetworkList:
    at = start_of_page("networks", cursor, offset)
    page = ctx.store.list_networks(tenant, limit=limit, offset=offset, at=at)
    links = page_links(request, response, "networks", page, limit=limit, at=at,
                       key=lambda n: (n.created_at, n.id))  # fmt: skip
    return NetworkList(items=[network_public(r, crs) for r in page.items], total=page.total,
                       limit=limit, offset=page.offset, links=links)  # fmt: skip


@router.delete(
    "/{network_id}",
    status_code=204,
    response_class=Response,
    summary="Delete a network and its files",
    description=(
        "Removes the network and its folder on disk (uploaded extract, prepared graph, road "
        "index); its URLs answer 404 from then on. Plans made on it are kept and stay "
        "readable (they hold their own layers); `GET /plans?network={id}` lists them. "
        "409 naming the jobs while queued or running jobs of this API key use it: cancel "
        "them (DELETE /jobs/{id}) or wait for them. 404 for another tenant's network and "
        "for embedded samples used by name (they are not stored)."
    ),
    responses={
        204: {"description": "Deleted"},
        409: {"description": "Queued or running jobs use the network (`job_ids`)"},
    },
)
async def delete_network(network_id: str, ctx: ContextDep, tenant: TenantDep) -> Response:
    row = await run_in_threadpool(ctx.store.get_network, tenant, network_id)
    if row is None:
        raise not_found("network", network_id)
    active = await run_in_threadpool(ctx.store.active_jobs_on_network, tenant, network_id)
    if active:
        shown = ", ".join(active[:20]) + (" ..." if len(active) > 20 else "")
        raise Problem(
            409,
            f"network {network_id} is used by {len(active)} queued or running job(s): "
            f"{shown}; cancel them (DELETE /jobs/{{id}}) or wait for them to finish",
            title="Network in use",
            job_ids=active,
        )
    if not await run_in_threadpool(ctx.store.delete_network, tenant, network_id):
        raise not_found("network", network_id)
    root = (ctx.settings.data_dir / "networks").resolve()
    folder = network_dir(ctx.settings.data_dir, network_id).resolve()
    if folder.parent == root:  # ids are generated hex; never anything outside the root
        await run_in_threadpool(shutil.rmtree, folder, True)
    ctx.roads.drop(network_id)
    return Response(status_code=204)


@router.get("/{network_id}", response_model=NetworkPublic, summary="A network's info")
def get_network(
    network_id: str, ctx: ContextDep, tenant: TenantDep, crs: CrsQuery
) -> NetworkPublic:
    row = ctx.store.get_network(tenant, network_id)
    if row is None:
        raise not_found("network", network_id)
    return network_public(row, crs)


def _parse_bbox(text: str | None) -> str | None:
    if text is None:
        return None
    parts = text.split(",")
    if len(parts) != 4:
        raise ValueError("bbox must be four numbers W,S,E,N (lon/lat degrees)")
    try:
        west, south, east, north = (float(p) for p in parts)
    except ValueError:
        raise ValueError("bbox must be four numbers W,S,E,N (lon/lat degrees)") from None
    if not all(abs(v) < float("inf") for v in (west, south, east, north)):
        raise ValueError("bbox values must be finite")
    if not (-180 <= west <= 180 and -180 <= east <= 180):
        raise ValueError("bbox longitudes must be within -180..180")
    if not (-90 <= south <= 90 and -90 <= north <= 90):
        raise ValueError("bbox latitudes must be within -90..90")
    if west > east or south > north:
        raise ValueError(
            "bbox needs W <= E and S <= N (antimeridian-crossing boxes are not supported)"
        )
    return text


BboxQuery = Annotated[
    str | None,
    Query(
        description="W,S,E,N in lon/lat degrees (in the datum of `crs`); features whose "
        "extent intersects it",
        examples=["24.93,60.16,24.95,60.17"],
    ),
    AfterValidator(_parse_bbox),
]

_ROADS_DOC = "\n".join(f"- `{k}`: {v}" for k, v in ROAD_PROPERTIES.items())


def _converted_page(
    layer: RoadLayer, positions: list[int], meta: dict[str, Any], crs: CoordSystem
) -> bytes:
    fc = {"type": "FeatureCollection",
          "features": [json.loads(layer.features[i]) for i in positions]}  # fmt: skip
    doc = {**geojson_to_crs(fc, crs), **meta}
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()


@router.get(
    "/{network_id}/roads.geojson",
    response_class=Response,
    summary="Roads as a GeoJSON FeatureCollection",
    description=(
        "RFC 7946 FeatureCollection of LineStrings (WGS-84 lon/lat), one feature per street "
        "piece between junctions; the two directions of a two-way piece are one feature. "
        "Feature `id` is the network's edge id. With `?crs=gcj02` or `?crs=bd09` the "
        "coordinates and `bbox` are in that datum (a top-level `crs_note` says so): the box "
        "selects the features whose WGS-84 extent meets the smallest WGS-84 box holding it. "
        "Paged with `limit`/`offset`; "
        "`numberMatched`, `numberReturned` and a `next` link (also a `Link` header) tell "
        "whether more pages follow. Properties:\n\n" + _ROADS_DOC
    ),
    responses={
        200: {
            "content": {GEOJSON: {"schema": {"type": "object"}}},
            "description": "FeatureCollection",
        }
    },
)
async def roads_geojson(
    network_id: str,
    request: Request,
    owner: Annotated[Any, owner_lookup("network", "network_id")],  # before the key check
    ctx: ContextDep,
    tenant: TenantDep,
    crs: CrsQuery,
    bbox: BboxQuery = None,
    limit: Annotated[int | None, Query(ge=1, description="Features per page")] = None,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
) -> Response:
    # the owner alone (one small read, batched across concurrent requests): 404 at once when
    # any server process deleted the network, and no thread-pool hop for a page of a network
    # whose roads are in memory (a bbox filter and a byte join, on the event loop)
    await check_owner(ctx, tenant, "network", network_id, owner)
    page_max = ctx.settings.max_page_features
    if limit is not None and limit > page_max:
        raise RequestValidationError(
            [
                {
                    "loc": ("query", "limit"),
                    "type": "less_than_equal",
                    "msg": f"must be at most {page_max}",
                }
            ]
        )
    limit = limit or min(1000, page_max)
    layer = ctx.roads.cached(network_id)
    if layer is None:  # read from its files once
        layer = await run_in_threadpool(ctx.roads.get, network_id)
    box = None
    if bbox:
        west, south, east, north = (float(v) for v in bbox.split(","))
        box = (west, south, east, north)
        if crs != "wgs84":
            try:
                box = bbox_to_wgs84(box, crs)
            except InputError as exc:
                raise RequestValidationError(
                    [{"loc": ("query", "bbox"), "msg": str(exc), "type": "value_error"}]
                ) from None
    hits = layer.select(box)
    page = hits[offset : offset + limit]
    meta: dict[str, Any] = {"numberMatched": len(hits), "numberReturned": len(page)}
    links = []
    if offset + len(page) < len(hits):
        # the request's own parameters (bbox, crs, api_key for GIS readers that cannot
        # send headers), with the next page's limit and offset
        params = {**request.query_params, "limit": str(limit), "offset": str(offset + len(page))}
        query = urlencode(params)
        href = f"/networks/{network_id}/roads.geojson?{query}"
        links.append({"rel": "next", "href": href, "type": GEOJSON})
    meta["links"] = links
    if crs == "wgs84":  # the stored bytes as they are
        feats = b",".join(layer.features[i] for i in page.tolist())
        tail = json.dumps(meta, separators=(",", ":"))[1:]
        body = b'{"type":"FeatureCollection","features":[' + feats + b"]," + tail.encode()
    else:  # parsed, converted and serialized again: off the event loop
        body = await run_in_threadpool(_converted_page, layer, page.tolist(), meta, crs)
    headers = {"Link": f'<{links[0]["href"]}>; rel="next"'} if links else None
    return Response(content=body, media_type=GEOJSON, headers=headers)
