"""``/ogc``: OGC API - Features (Part 1 Core and GeoJSON, Part 2 CRS) over the stored
layers, so GIS clients (QGIS, ArcGIS Pro, GDAL's OAPIF driver) find them on their own:
``ogrinfo OAPIF:http://host:8000/ogc``.

- ``/ogc``: the landing page; ``/ogc/conformance``: the classes implemented; ``/ogc/api``:
  the API definition of these paths, OpenAPI 3.0 relative to ``/ogc`` as the OGC test suite
  reads it (no key needed for any of them: they hold nothing of a tenant).
- ``/ogc/collections``: each stored plan layer and each network's roads of the API key's
  tenant (see :mod:`recyclenet_api.ogc_catalog`); ``/ogc/collections/{id}``: one, with its
  extent and CRSs.
- ``/ogc/collections/{id}/items``: the features, the same as the layer's own GeoJSON URL,
  with ``bbox`` (features whose geometry meets the box, and those without a geometry),
  ``limit`` (default 100, at most ``max_page_features``; more is read as the maximum, as
  Part 1 requires), ``datetime`` (checked; the layers have no time, so it keeps every
  feature, as Part 1 asks for features without a temporal geometry), ``offset`` paging with
  ``next``/``prev`` links, ``numberMatched``/``numberReturned``; ``/items/{featureId}``: one
  feature.
- Part 2: ``crs`` and ``bbox-crs`` take CRS84 (default), EPSG:4326 (lat/lon axis order)
  and, for collections in or near China, GCJ-02 and BD-09 under this service's URNs
  (``urn:recyclenet:crs:gcj02``, ``urn:recyclenet:crs:bd09``: not EPSG codes; neither
  datum has one); responses name theirs in ``Content-Crs``.

Query parameters are the OGC ones: a bad value, or a parameter the operation does not
take, is a 400 naming it (``query.limit``), as Part 1 requires, not the 422 of the rest of
the API. Links are absolute and carry ``api_key`` when the request did, so a client given
``http://host/ogc?api_key=KEY`` keeps the key while it follows them.
"""

from __future__ import annotations

import copy
import json
import math
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Request, Response, Security
from starlette.concurrency import run_in_threadpool

from recyclenet.errors import InputError
from recyclenet.geo import BBox, bbox_to_wgs84, geojson_swap_axes, geojson_to_crs

from ..deps import ContextDep, api_key_header, api_key_query, authenticate
from ..limits import SMALL_PAGE_FEATURES
from ..ogc_catalog import CRS84, CRSS, Collection, FeatureLayer, OgcCrs, catalog, find_crs
from ..problems import TYPE_BASE, Problem

router = APIRouter(prefix="/ogc", tags=["ogc"])

JSON = "application/json"
GEOJSON = "application/geo+json"
OPENAPI30 = "application/vnd.oai.openapi+json;version=3.0"
DEFAULT_LIMIT = 100

CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
]
"""The classes implemented: ``oas30`` as /ogc/api is an OpenAPI 3.0 definition of these
paths (the service's /openapi.json is 3.1); not ``html``: every answer is JSON."""


# ---------------------------------------------------------------------- request helpers
def _bad(param: str, message: str) -> Problem:
    """400 naming the query parameter (Part 1: an invalid parameter value is a 400)."""
    return Problem(
        400,
        f"query.{param}: {message}",
        title="Invalid query parameter",
        type=TYPE_BASE + "validation",
        errors=[{"field": f"query.{param}", "message": message, "type": "value_error"}],
    )


def _params(request: Request, allowed: tuple[str, ...]) -> dict[str, str]:
    """The query parameters, each once; 400 for one the operation does not take."""
    params: dict[str, str] = {}
    for key, value in request.query_params.multi_items():
        if key not in allowed:
            raise _bad(key, f"unknown parameter; this operation takes {', '.join(allowed)}")
        if key in params:
            raise _bad(key, "given more than once; give it once")
        params[key] = value
    return params


def _accepts(accept: str, media: str) -> bool:
    """Whether an Accept header allows ``media`` (q=0 refuses; wildcards match)."""
    major = media.split("/")[0]
    for part in accept.split(","):
        fields = [f.strip() for f in part.split(";")]
        kind = fields[0].lower()
        q = next((f[2:] for f in fields[1:] if f.replace(" ", "").startswith("q=")), "1")
        try:
            refused = float(q) <= 0
        except ValueError:
            refused = False
        if not refused and kind in (media, f"{major}/*", "*/*"):
            return True
    return False


def _media(request: Request, params: dict[str, str], features: bool) -> str:
    """The media type of the answer: ``f=json`` (or ``geojson``), else the Accept
    header; 406 when it allows no JSON."""
    f = params.get("f")
    if f is not None and f.lower() not in ("json", "geojson"):
        raise _bad("f", f"{f!r} is not served; every answer is JSON: use f=json")
    accept = request.headers.get("accept", "").strip()
    if not features:
        if f is not None or not accept or _accepts(accept, JSON):
            return JSON
    else:
        if f is not None or not accept or _accepts(accept, GEOJSON):
            return GEOJSON
        if _accepts(accept, JSON):
            return JSON
    raise Problem(
        406,
        f"this service answers in JSON only ({GEOJSON} for features, {JSON} for the rest); "
        f"the Accept header {accept!r} allows neither: accept one, or add f=json",
    )


def _crs(params: dict[str, str], name: str, coll: Collection) -> OgcCrs:
    value = params.get(name)
    if value is None:
        return CRSS[CRS84]
    found = find_crs(value)
    if found is None or found.uri not in coll.crs:
        raise _bad(name, f"{value!r} is not a CRS of collection {coll.id}; use one of "
                         f"{', '.join(coll.crs)}")  # fmt: skip
    return found


def _int(params: dict[str, str], name: str, default: int) -> int:
    text = params.get(name)
    if text is None:
        return default
    try:
        return int(text.strip())
    except ValueError:
        raise _bad(name, f"{text!r} is not a whole number") from None


def _bbox(params: dict[str, str], crs: OgcCrs) -> list[BBox] | None:
    """The ``bbox`` as WGS-84 lon/lat boxes (two when it crosses the antimeridian)."""
    text = params.get("bbox")
    if text is None:
        return None
    order = "minLat,minLon,maxLat,maxLon" if crs.lat_first else "minLon,minLat,maxLon,maxLat"
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        values = []
    if len(values) not in (4, 6) or not all(math.isfinite(v) for v in values):
        raise _bad("bbox", f"{text!r} is not 4 (or 6, with heights) finite numbers "
                           f"{order} in the bbox-crs ({crs.uri})")  # fmt: skip
    if len(values) == 6:  # heights are ignored: the layers are 2D
        values = [values[0], values[1], values[3], values[4]]
    if crs.lat_first:
        values = [values[1], values[0], values[3], values[2]]
    west, south, east, north = values
    if not (-180 <= west <= 180 and -180 <= east <= 180 and -90 <= south <= 90
            and -90 <= north <= 90):  # fmt: skip
        raise _bad("bbox", f"{text!r} leaves the range of {order} (lon -180..180, "
                           "lat -90..90); is the axis order right for the bbox-crs?")  # fmt: skip
    if south > north:
        raise _bad("bbox", f"{text!r}: the minimum latitude is above the maximum ({order})")
    boxes = [(west, south, east, north)] if west <= east else [
        (west, south, 180.0, north), (-180.0, south, east, north)]  # fmt: skip
    if crs.datum != "wgs84":
        try:
            boxes = [bbox_to_wgs84(b, crs.datum) for b in boxes]
        except InputError as exc:
            raise _bad("bbox", str(exc)) from None
    return boxes


def _datetime(params: dict[str, str]) -> None:
    """Check ``datetime``: an RFC 3339 date-time, or an interval of two, either end open
    (``..`` or empty) but not both."""
    text = params.get("datetime")
    if text is None:
        return
    ends = text.split("/")
    closed = [e for e in ends if e not in ("", "..")]
    ok = len(ends) <= 2 and len(closed) >= 1 and (len(ends) == 2 or len(closed) == 1)
    for end in closed if ok else ():
        try:
            datetime.fromisoformat(end.upper().replace("Z", "+00:00"))
        except ValueError:
            ok = False
    if not ok:
        raise _bad("datetime", f"{text!r} is not an RFC 3339 date-time or interval "
                               "(2024-05-01T00:00:00Z, 2024-05-01/.., ../2024-06-01)")  # fmt: skip


# ---------------------------------------------------------------------- links
def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _href(request: Request, path: str, params: dict[str, str] | None = None) -> str:
    """Absolute URL of ``path`` (from the service root) with ``params``, plus the
    request's ``api_key`` (GIS clients keep the key while they follow links)."""
    query = dict(params or {})
    key = request.query_params.get("api_key")
    if key:
        query["api_key"] = key
    url = _base(request) + path
    return f"{url}?{urlencode(query)}" if query else url


def _link(href: str, rel: str, media: str, title: str | None = None) -> dict[str, str]:
    link = {"href": href, "rel": rel, "type": media}
    if title:
        link["title"] = title
    return link


def _coll_path(coll_id: str) -> str:
    return f"/ogc/collections/{quote(coll_id, safe='')}"


def _json(doc: Any, media: str = JSON, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps(doc, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return Response(content=body.encode(), media_type=media, headers=headers)


# ---------------------------------------------------------------------- auth
def _small_page(request: Request) -> bool:
    """Whether the request is for a page of at most SMALL_PAGE_FEATURES items."""
    if not request.url.path.endswith("/items"):
        return False
    try:
        limit = int(request.query_params.get("limit", DEFAULT_LIMIT))
    except ValueError:
        return False
    return 1 <= limit <= SMALL_PAGE_FEATURES


async def ogc_tenant(
    request: Request,
    ctx: ContextDep,
    header_key: Annotated[str | None, Security(api_key_header)],
    query_key: Annotated[str | None, Security(api_key_query)],
) -> str:
    """:func:`recyclenet_api.deps.get_tenant`, its 401 telling GIS users how to send the
    key. Item pages of at most :data:`~recyclenet_api.limits.SMALL_PAGE_FEATURES` features
    count against their own, larger rate limit (``rate_limit_page_requests``): GDAL before
    3.8 reads 10 features a page, and a layer of thousands of features must not stop at
    a 429 halfway (GDAL then exits 0 with the layer cut short)."""
    try:
        return await authenticate(request, ctx, header_key, query_key,
                                  small_page=_small_page(request))  # fmt: skip
    except Problem as exc:
        if exc.status_code != 401:
            raise
        how = ("GDAL: --config GDAL_HTTP_HEADERS \"X-API-Key: KEY\" (or the environment "
               "variable GDAL_HTTP_HEADERS); QGIS: add the header X-API-Key to the "
               "connection's HTTP headers")  # fmt: skip
        if ctx.settings.allow_query_api_key:
            how += "; or add ?api_key=KEY to the service URL (http://host/ogc?api_key=KEY)"
        raise Problem(401, f"{exc.detail}. The collections of /ogc belong to the API key's "
                           f"tenant; {how}", headers=dict(exc.headers or {})) from None  # fmt: skip


# ---------------------------------------------------------------------- documentation
def _param(name: str, description: str, schema: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": schema, **extra}  # fmt: skip


_F = _param("f", "The encoding: json (GeoJSON for features). Overrides Accept.",
            {"type": "string", "enum": ["json", "geojson"]})  # fmt: skip
_CRS_URIS = list(CRSS)
_CRS_DOC = (
    "CRS of the answer's coordinates, a URI of the collection's `crs` list: "
    f"`{CRS84}` (lon/lat, default), `http://www.opengis.net/def/crs/EPSG/0/4326` "
    "(lat/lon axis order) and, for collections in or near China, "
    "`urn:recyclenet:crs:gcj02` (GCJ-02: AMap/Gaode, Tencent) and `urn:recyclenet:crs:bd09` "
    "(BD-09: Baidu), both lon/lat. The last two are this service's own names: neither datum "
    "has an EPSG code. Safe CURIEs `[OGC:CRS84]` and `[EPSG:4326]` work too."
)


def _responses(media: str, what: str, auth: bool = True) -> dict[int | str, Any]:
    out: dict[int | str, Any] = {
        200: {"description": what, "content": {media: {"schema": {"type": "object"}}}},
        400: {"description": "A query parameter the operation does not take, or a bad value"},
        406: {"description": "The Accept header allows no JSON"},
    }
    if auth:
        out[401] = {"description": "No API key, or an unknown one"}
        out[404] = {"description": "No such collection (or feature) for this API key"}
    return out


# ---------------------------------------------------------------------- routes
@router.get(
    "",
    summary="OGC API - Features landing page",
    description="Links to the API definition, the conformance classes and the collections. "
    "Needs no API key; the collections do.",
    response_class=Response,
    responses=_responses(JSON, "Landing page", auth=False),
    openapi_extra={"parameters": [_F]},
)
async def landing(request: Request) -> Response:
    params = _params(request, ("f", "api_key"))
    media = _media(request, params, features=False)
    doc = {
        "title": "recyclenet: plan layers and road networks (OGC API - Features)",
        "description": "Each stored plan layer (stations, assignments, coverage, centres, "
        "routes, stops, park layers) and each registered network's roads of the API key's "
        "tenant, as OGC API - Features collections. Send the key as the X-API-Key header "
        "(or ?api_key=).",
        "links": [
            _link(_href(request, "/ogc"), "self", JSON, "This document"),
            _link(
                _href(request, "/ogc/api"),
                "service-desc",
                OPENAPI30,
                "The API definition of these paths (OpenAPI 3.0)",
            ),
            _link(_base(request) + "/docs", "service-doc", "text/html", "The API documentation"),
            _link(
                _href(request, "/ogc/conformance"),
                "conformance",
                JSON,
                "The conformance classes implemented",
            ),
            _link(_href(request, "/ogc/collections"), "data", JSON, "The collections"),
        ],
    }
    return _json(doc, media)


@router.get(
    "/conformance",
    summary="OGC API conformance classes implemented",
    description="Part 1 Core and GeoJSON, Part 2 CRS. Needs no API key.",
    response_class=Response,
    responses=_responses(JSON, "Conformance declaration", auth=False),
    openapi_extra={"parameters": [_F]},
)
async def conformance(request: Request) -> Response:
    params = _params(request, ("f", "api_key"))
    return _json({"conformsTo": CONFORMANCE}, _media(request, params, features=False))


def _api_definition(request: Request, max_page_features: int) -> dict[str, Any]:
    """The OpenAPI 3.0 definition of the ``/ogc`` paths, relative to the server ``/ogc``
    (so ``/conformance``, ``/collections/{collectionId}/items``, as the OGC test suite and
    GIS clients look them up), with the ``limit`` this server applies."""
    full = request.app.openapi()
    paths: dict[str, Any] = {}
    for path, item in full["paths"].items():
        if path != "/ogc" and not path.startswith("/ogc/"):
            continue
        item = copy.deepcopy(item)
        for op in item.values():
            op.get("responses", {}).pop("422", None)  # FastAPI's; these answer 400
            for param in op.get("parameters", []):
                if param["name"] == "limit":
                    param["schema"]["maximum"] = max_page_features
                    param["schema"]["default"] = min(DEFAULT_LIMIT, max_page_features)
        paths[path.removeprefix("/ogc") or "/"] = item
    schemes = full.get("components", {}).get("securitySchemes", {})
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "recyclenet: OGC API - Features",
            "version": full["info"]["version"],
            "description": "Plan layers and road networks as OGC API - Features collections "
            "(Part 1 Core, GeoJSON, OpenAPI 3.0; Part 2 CRS). The whole service is described "
            "at /openapi.json (OpenAPI 3.1).",
        },
        "servers": [{"url": _base(request) + "/ogc"}],
        "paths": paths,
        "components": {"securitySchemes": schemes},
    }


@router.get(
    "/api",
    summary="The API definition of the /ogc paths (OpenAPI 3.0)",
    description="The landing page's `service-desc`: these paths relative to the server "
    "`/ogc`. Needs no API key.",
    response_class=Response,
    responses={
        200: {
            "description": "API definition",
            "content": {OPENAPI30: {"schema": {"type": "object"}}},
        },
        400: {"description": "A query parameter the operation does not take, or a bad value"},
        406: {"description": "The Accept header allows neither OpenAPI JSON nor JSON"},
    },
    openapi_extra={"parameters": [_F]},
)
async def api_definition(request: Request, ctx: ContextDep) -> Response:
    params = _params(request, ("f", "api_key"))
    if params.get("f") is not None:
        _media(request, params, features=False)  # f=json, or a 400 naming f
    else:
        accept = request.headers.get("accept", "").strip()
        if accept and not (_accepts(accept, OPENAPI30.split(";")[0]) or _accepts(accept, JSON)):
            raise Problem(406, f"the API definition is OpenAPI 3.0 JSON ({OPENAPI30}); the "
                               f"Accept header {accept!r} allows no JSON: accept it, or add "
                               "f=json")  # fmt: skip
    doc = _api_definition(request, ctx.settings.max_page_features)
    return _json(doc, OPENAPI30)


def _collection_doc(request: Request, coll: Collection) -> dict[str, Any]:
    path = _coll_path(coll.id)
    doc: dict[str, Any] = {
        "id": coll.id,
        "title": coll.title,
        "description": coll.description,
        "itemType": "feature",
        "crs": coll.crs,
        "storageCrs": CRS84,
        "links": [
            _link(_href(request, path), "self", JSON, "This collection"),
            _link(_href(request, path + "/items"), "items", GEOJSON, "Its features"),
            _link(
                _href(request, coll.layer_url),
                "related",
                GEOJSON,
                "The same features as one GeoJSON FeatureCollection (this API's layer URL)",
            ),
        ],
    }
    if coll.extent is not None:
        doc["extent"] = {"spatial": {"bbox": [list(coll.extent)], "crs": CRS84}}
    if coll.keywords:
        doc["keywords"] = list(coll.keywords)
    if coll.count is not None:
        doc["numberOfFeatures"] = coll.count
    return doc


@router.get(
    "/collections",
    summary="The collections of this API key: plan layers and network roads",
    response_class=Response,
    responses=_responses(JSON, "Collections"),
    openapi_extra={"parameters": [_F]},
)
async def collections(request: Request, ctx: ContextDep,
                      tenant: Annotated[str, Depends(ogc_tenant)]) -> Response:  # fmt: skip
    params = _params(request, ("f", "api_key"))
    media = _media(request, params, features=False)
    found = await run_in_threadpool(catalog(ctx).list, tenant)
    doc = {
        "links": [_link(_href(request, "/ogc/collections"), "self", JSON, "This document")],
        "crs": _CRS_URIS,
        "collections": [_collection_doc(request, c) for c in found],
    }
    return _json(doc, media)


async def _find(ctx: Any, tenant: str, collection_id: str) -> tuple[Collection, FeatureLayer]:
    try:
        hit = await run_in_threadpool(catalog(ctx).get, tenant, collection_id)
    except OSError as exc:
        detail = (f"collection {collection_id!r}: its road files are gone "
                  f"({type(exc).__name__}); register the network again")  # fmt: skip
        raise Problem(404, detail) from None
    if hit is None:
        raise Problem(404, f"no collection {collection_id!r} for this API key; "
                           "GET /ogc/collections lists them")  # fmt: skip
    return hit


@router.get(
    "/collections/{collectionId}",
    summary="One collection: its extent, CRSs and links",
    response_class=Response,
    responses=_responses(JSON, "Collection"),
    openapi_extra={"parameters": [_F]},
)
async def collection(request: Request, collectionId: str, ctx: ContextDep,
                     tenant: Annotated[str, Depends(ogc_tenant)]) -> Response:  # fmt: skip
    params = _params(request, ("f", "api_key"))
    media = _media(request, params, features=False)
    coll, _ = await _find(ctx, tenant, collectionId)
    return _json(_collection_doc(request, coll), media)


def _encode(features: list[bytes], crs: OgcCrs) -> tuple[bytes, dict[str, Any]]:
    """The features as a JSON array in ``crs``, and top-level members to add (the
    datum's ``crs_note``)."""
    if crs.datum == "wgs84" and not crs.lat_first:
        return b"[" + b",".join(features) + b"]", {}
    fc: dict[str, Any] = {"type": "FeatureCollection",
                          "features": [json.loads(f) for f in features]}  # fmt: skip
    if crs.datum != "wgs84":
        fc = geojson_to_crs(fc, crs.datum)
    if crs.lat_first:
        fc = geojson_swap_axes(fc)
    feats = fc.pop("features")
    fc.pop("type")
    body = json.dumps(feats, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return body.encode(), fc


async def _encoded(features: list[bytes], crs: OgcCrs) -> tuple[bytes, dict[str, Any]]:
    """:func:`_encode`; off the event loop when the features must be rebuilt."""
    if crs.datum == "wgs84" and not crs.lat_first:  # a byte join: no thread hop
        return _encode(features, crs)
    return await run_in_threadpool(_encode, features, crs)


_ITEMS_PARAMS = [
    _param("limit", "Features per page: 1 or more, default 100; more than the server's "
           "maximum (RECYCLENET_MAX_PAGE_FEATURES, default 10000) is read as the maximum.",
           {"type": "integer", "minimum": 1, "default": DEFAULT_LIMIT},
           style="form", explode=False),
    _param("offset", "Features to skip (the `next` and `prev` links set it).",
           {"type": "integer", "minimum": 0, "default": 0}, style="form", explode=False),
    _param("bbox", "Features whose geometry meets the box, and those without a geometry: "
           "minLon,minLat,maxLon,maxLat (4 numbers, or 6 with heights) in the bbox-crs; with "
           "EPSG:4326 "
           "minLat,minLon,maxLat,maxLon. A box crossing the antimeridian has minLon > maxLon.",
           {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}},
           style="form", explode=False),
    _param("bbox-crs", "CRS of `bbox` (default CRS84); see `crs`.",
           {"type": "string", "format": "uri", "enum": _CRS_URIS}),
    _param("crs", _CRS_DOC, {"type": "string", "format": "uri", "enum": _CRS_URIS}),
    _param("datetime", "An RFC 3339 date-time or interval. The layers have no time (their "
           "features have no temporal geometry), so a valid `datetime` keeps every feature "
           "(Part 1: features without a temporal geometry are matched).",
           {"type": "string"}, style="form", explode=False),
    _F,
]  # fmt: skip


@router.get(
    "/collections/{collectionId}/items",
    summary="The features of a collection, paged",
    description="A GeoJSON FeatureCollection with `numberMatched`, `numberReturned`, "
    "`timeStamp` and `self`/`next`/`prev` links (absolute URLs). The same features as the "
    "layer's own GeoJSON URL. Header `Content-Crs` names the CRS.",
    response_class=Response,
    responses=_responses(GEOJSON, "Features"),
    openapi_extra={"parameters": _ITEMS_PARAMS},
)
async def items(request: Request, collectionId: str, ctx: ContextDep,
                tenant: Annotated[str, Depends(ogc_tenant)]) -> Response:  # fmt: skip
    allowed = ("limit", "offset", "bbox", "bbox-crs", "crs", "datetime", "f", "api_key")
    params = _params(request, allowed)
    media = _media(request, params, features=True)
    limit = _int(params, "limit", DEFAULT_LIMIT)
    if limit < 1:
        raise _bad("limit", f"{limit} is below 1; ask for 1 or more features per page")
    limit = min(limit, ctx.settings.max_page_features)
    offset = _int(params, "offset", 0)
    if offset < 0:
        raise _bad("offset", f"{offset} is below 0")
    _datetime(params)
    coll, layer = await _find(ctx, tenant, collectionId)
    crs = _crs(params, "crs", coll)
    boxes = _bbox(params, _crs(params, "bbox-crs", coll))

    # with a box, edge features are tested on their geometry: off the event loop
    hits = layer.select(None) if boxes is None else await run_in_threadpool(layer.select, boxes)
    page = hits[offset : offset + limit].tolist()
    feats, extra = await _encoded([layer.features[i] for i in page], crs)

    path = _coll_path(coll.id) + "/items"
    keep = {k: v for k, v in params.items() if k != "api_key"}
    links = [
        _link(_href(request, path, keep), "self", media, "This page"),
        _link(_href(request, _coll_path(coll.id)), "collection", JSON, "The collection"),
    ]
    if offset + len(page) < len(hits):
        nxt = {**keep, "limit": str(limit), "offset": str(offset + len(page))}
        links.append(_link(_href(request, path, nxt), "next", media, "The next page"))
    if offset > 0:
        prv = {**keep, "limit": str(limit), "offset": str(max(offset - limit, 0))}
        links.append(_link(_href(request, path, prv), "prev", media, "The previous page"))
    meta = {
        **extra,
        "numberMatched": len(hits),
        "numberReturned": len(page),
        "timeStamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "links": links,
    }
    tail = json.dumps(meta, ensure_ascii=False, separators=(",", ":"))[1:]
    body = b'{"type":"FeatureCollection","features":' + feats + b"," + tail.encode()
    return Response(content=body, media_type=media, headers={"Content-Crs": f"<{crs.uri}>"})


@router.get(
    "/collections/{collectionId}/items/{featureId:path}",
    summary="One feature by its id",
    description="The feature (as in the layer's GeoJSON) with `self` and `collection` "
    "links. Header `Content-Crs` names the CRS.",
    response_class=Response,
    responses=_responses(GEOJSON, "Feature"),
    openapi_extra={"parameters": [
        _param("crs", _CRS_DOC, {"type": "string", "format": "uri", "enum": _CRS_URIS}), _F]},
)  # fmt: skip
async def item(
    request: Request,
    collectionId: str,
    featureId: str,
    ctx: ContextDep,
    tenant: Annotated[str, Depends(ogc_tenant)],
) -> Response:
    params = _params(request, ("crs", "f", "api_key"))
    media = _media(request, params, features=True)
    coll, layer = await _find(ctx, tenant, collectionId)
    crs = _crs(params, "crs", coll)
    pos = await run_in_threadpool(layer.position, featureId)
    if pos is None:
        raise Problem(404, f"collection {coll.id} has no feature with id {featureId!r}")
    feats, extra = await _encoded([layer.features[pos]], crs)
    feature = json.loads(feats)[0]
    path = _coll_path(coll.id)
    feature.update(extra)
    feature["links"] = [
        _link(_href(request, f"{path}/items/{quote(featureId, safe='')}",
                    {k: v for k, v in params.items() if k != "api_key"}),
              "self", media, "This feature"),
        _link(_href(request, path), "collection", JSON, "The collection"),
    ]  # fmt: skip
    return _json(feature, media, headers={"Content-Crs": f"<{crs.uri}>"})
