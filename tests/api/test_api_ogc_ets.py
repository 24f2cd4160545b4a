"""``/ogc`` against the assertions of the OGC executable test suite for OGC API - Features
(ets-ogcapi-features10: Part 1 Core + GeoJSON, Part 2 CRS), written anew in Python.

The suite itself (TEAM Engine, Java) cannot run here, so each test below does what one of
its test classes does, and is named after it (``FeaturesLimit`` -> ``test_ets_core_features_
limit_*``). Like the suite, the tests start from the landing page, find the API definition
through its ``service-desc`` link, read the test points (``/conformance``, ``/collections``,
``/collections/{collectionId}/items``) and the parameter definitions from that OpenAPI 3.0
document, and follow the links of the answers. Where the suite's own data stops short of its
assertion, the same assertion is made on data that can fail it, and where the suite has a
bug the requirement is followed instead (each such place says so):

- every collection of the tenant is walked, not only the first three (``noOfCollections``);
- ``numberMatched`` is checked by following every ``next`` link, not four at most;
- the bbox response is also checked on boxes inside the extent (the suite's fixed boxes lie
  far from any feature, so they never test that features outside a box are left out), and a
  box crossing 180° is split instead of the suite's special-cased polygon;
- features without temporal geometry must stay in the result of a ``datetime`` query (the
  abstract test's step 2, which the suite leaves as a TODO);
- CRS transforms are checked with pyproj (EPSG axis order honoured; the suite's proj4j reads
  EPSG:4326 as lon/lat) and the geometry comparison is asserted (the suite discards the
  result of ``equalsExact``); CRSs unknown to an EPSG library (GCJ-02, BD-09) are skipped
  for transforms, as the abstract test says.

The data: the ``world`` of test_api_ogc.py (tenant A's Helsinki network with a siting, a
routing and a park plan, and a town in China with a siting plan, whose collections offer
GCJ-02 and BD-09). Requests carry tenant A's key as a header; the suite itself sends no
key, and a key in its start URL would not reach the test points it builds from the API
definition's server URL.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
import jsonschema_rs
import numpy as np
import pyproj
import pytest
import shapely
from api_helpers import A, Server
from fastapi.testclient import TestClient
from schemathesis.specs.openapi.definitions import OPENAPI_30
from test_api_ogc import world  # noqa: F401  (the module's data: plans, networks, a town)

from recyclenet_api.ogc_catalog import feature_layer

GEOJSON = "application/geo+json"
JSON = "application/json"
OPEN_API_MIME_TYPE = "application/vnd.oai.openapi+json;version=3.0"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
CRS84H = "http://www.opengis.net/def/crs/OGC/0/CRS84h"
EPSG4326 = "http://www.opengis.net/def/crs/EPSG/0/4326"
UNSUPPORTED_CRS = "http://www.opengis.net/def/crs/0/unsupported"
CONF = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/"
CORE, GEOJSON_CLASS = CONF + "core", CONF + "geojson"
CRS_CLASS = "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs"
# the media types each declared class adds for features / for the other resources, which
# need "alternate" links (the suite's RequirementClass); the core class adds none
CLASS_MEDIA = {GEOJSON_CLASS: (GEOJSON, JSON), CONF + "html": ("text/html", "text/html")}
FIXED_BOXES = [(-1.5, 50.0, 1.5, 53.0), (-80.0, -5.0, -70.0, 5.0), (177.0, 65.0, -177.0, 70.0),
               (-180.0, 85.0, 180.0, 90.0), (-180.0, -90.0, 180.0, -85.0)]  # fmt: skip
"""The suite's boxes: across the meridian, the equator, 180° longitude and the poles."""


# ---------------------------------------------------------------------- the client side
class Ets:
    """What the suite learns on its way: landing page, API definition, conformance
    classes, collections; and the requests it makes (tenant A's key as a header)."""

    def __init__(self, client: TestClient, root: str = "http://testserver/ogc") -> None:
        self.client = client
        self.root = root

    def get(self, url: str, accept: str | None = JSON, **params: Any) -> httpx.Response:
        headers = dict(A)
        if accept:
            headers["Accept"] = accept
        return self.client.get(url, params=params or None, headers=headers)

    def ok(self, url: str, accept: str | None = JSON, **params: Any) -> httpx.Response:
        r = self.get(url, accept, **params)
        assert r.status_code == 200, (url, params, r.text)
        return r

    # -- the API definition and its test points (the suite's OpenApiUtils)
    def api_model(self) -> dict[str, Any]:
        links = self.ok(self.root).json()["links"]
        desc = [ln for ln in links if ln["rel"] == "service-desc"
                and ln.get("type", "").replace(" ", "") == OPEN_API_MIME_TYPE]  # fmt: skip
        assert desc, f"no service-desc link of type {OPEN_API_MIME_TYPE}: {links}"
        return dict(self.ok(desc[0]["href"], OPEN_API_MIME_TYPE).json())

    def test_points(self, model: dict[str, Any], requested: str) -> list[tuple[str, str]]:
        """(server URL, path template) of each path of the model matching ``requested``
        (a path below the landing page) with its variables as wildcards."""
        servers = [s["url"] for s in model.get("servers", [])] or [self.root]
        base = "/"
        for server in servers:  # the suite's findBasePath
            m = re.search(re.escape(server), self.root)
            if m and self.root[m.end() :]:
                base = self.root[m.end() :]
        want = base.rstrip("/") + requested
        out = []
        for template, item in model["paths"].items():
            pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template))
            if "get" in item and re.fullmatch(pattern, want):
                out += [(server, template) for server in servers]
        return out

    @staticmethod
    def parameter(model: dict[str, Any], template: str, name: str) -> dict[str, Any] | None:
        item = model["paths"][template]
        for param in item.get("parameters", []) + item["get"].get("parameters", []):
            if param["name"] == name:
                return dict(param)
        return None

    def conformance_classes(self) -> list[str]:
        links = self.ok(self.root).json()["links"]
        href = next(ln["href"] for ln in links if ln["rel"] == "conformance")
        return list(self.ok(href).json()["conformsTo"])

    def collections(self) -> list[dict[str, Any]]:
        """The feature collections that have an ``items`` link (the suite's
        createCollectionsMap), every one of them."""
        links = self.ok(self.root).json()["links"]
        href = next(ln["href"] for ln in links if ln["rel"] == "data")
        return [c for c in self.ok(href).json()["collections"]
                if c.get("id") and c.get("itemType", "feature").lower() == "feature"
                and any(ln["rel"] == "items" for ln in c["links"])]  # fmt: skip

    def alternate_types_missing(self, doc: dict[str, Any], features: bool) -> list[str]:
        """Media types of the declared classes that ``doc`` has no ``alternate`` link for
        (the suite's createListOfMediaTypesToSupport... and findUnsupportedTypes)."""
        self_type = next(ln for ln in doc["links"] if ln["rel"] == "self").get("type")
        types = [CLASS_MEDIA[c][0 if features else 1] for c in self.conformance_classes()
                 if c in CLASS_MEDIA]  # fmt: skip
        alternates = {ln.get("type") for ln in doc["links"] if ln["rel"] == "alternate"}
        return [t for t in types if t != self_type and t not in alternates]


def items_url(collection: dict[str, Any]) -> str:
    """The ``items`` link of type GeoJSON (the suite's findFeaturesUrlForGeoJson)."""
    hits = [ln["href"] for ln in collection["links"]
            if ln["rel"] == "items" and ln.get("type") == GEOJSON]  # fmt: skip
    assert hits, f"collection {collection['id']} has no items link of type {GEOJSON}"
    return str(hits[0])


def feature_url(collection: dict[str, Any], feature_id: str) -> str:
    """As the suite builds it: the items URL without its query, then ``/{featureId}``."""
    return items_url(collection).split("?")[0] + "/" + feature_id


def extent(collection: dict[str, Any]) -> tuple[float, float, float, float] | None:
    box = collection.get("extent", {}).get("spatial", {}).get("bbox")
    if not box:
        return None
    first = box[0] if isinstance(box[0], list) else box
    assert len(first) == 4, first
    return (float(first[0]), float(first[1]), float(first[2]), float(first[3]))


def as_query(box: tuple[float, ...]) -> str:
    """A box as the suite writes it: seven decimals (its BBox.asQueryParameter)."""
    return ",".join(f"{v:.7f}" for v in box)


def geometry(feature: dict[str, Any]) -> shapely.Geometry | None:
    geom = feature.get("geometry")
    return shapely.geometry.shape(geom) if geom else None


def link(doc: dict[str, Any], rel: str) -> dict[str, Any] | None:
    return next((ln for ln in doc.get("links", []) if ln.get("rel") == rel), None)


def all_features(ets: Ets, fc: dict[str, Any], maximum: int | None) -> int:
    """Features in this page and every page after it through ``next`` links, asked with
    the definition's maximum ``limit`` as the suite does (collectNumberOfAllReturnedFeatures),
    but to the end."""
    count, page, pages = len(fc["features"]), fc, 0
    while nxt := link(page, "next"):
        url = nxt["href"]
        if maximum is not None:  # the link's query, its limit set to the maximum
            url = _without(url, "limit")
            url += ("&" if "?" in url else "?") + f"limit={maximum}"
        page = ets.ok(url, GEOJSON).json()
        if not page["features"]:
            break
        count += len(page["features"])
        pages += 1
        assert pages < 10_000
    return count


def every_feature(ets: Ets, coll: dict[str, Any]) -> list[dict[str, Any]]:
    """All features of a collection, page after page."""
    page = ets.ok(items_url(coll), GEOJSON).json()
    out = list(page["features"])
    while nxt := link(page, "next"):
        page = ets.ok(nxt["href"], GEOJSON).json()
        out += page["features"]
        assert len(out) <= page["numberMatched"]
    assert len(out) == page["numberMatched"]
    return out


def _without(url: str, name: str) -> str:
    base, _, query = url.partition("?")
    kept = [p for p in query.split("&") if p and p.split("=")[0] != name]
    return base + ("?" + "&".join(kept) if kept else "")


def fc_response(ets: Ets, coll: dict[str, Any], r: httpx.Response, maximum: int | None,
                before: datetime, after: datetime) -> None:  # fmt: skip
    """Abstract tests 22-26 on one answer of ``/items`` (the suite's AbstractFeatures):
    type, features, links, timeStamp, numberMatched, numberReturned; and abstract test 2:
    geometries within the range of CRS84."""
    what = f"{coll['id']} {r.request.url}"
    fc = r.json()
    assert fc.get("type") == "FeatureCollection", what  # 22.1
    assert isinstance(fc.get("features"), list), what  # 22.2
    own = link(fc, "self")  # 22.4 / 23: self, alternates, rel and type on each
    assert own is not None and own.get("type"), what
    assert not ets.alternate_types_missing(fc, features=True), what
    assert all(ln.get("rel") and ln.get("type") for ln in fc["links"]
               if ln["rel"] in ("self", "alternate")), what  # fmt: skip
    if "timeStamp" in fc:  # 24: when the answer was made (to the second)
        stamp = datetime.fromisoformat(fc["timeStamp"].replace("Z", "+00:00"))
        assert stamp.tzinfo is not None, what
        assert before.replace(microsecond=0) <= stamp <= after, what
    if "numberReturned" in fc:  # 26
        assert fc["numberReturned"] == len(fc["features"]), what
    if "numberMatched" in fc:  # 25
        assert fc["numberMatched"] == all_features(ets, fc, maximum), what
    for feature in fc["features"][:100]:  # 2: CRS84 unless asked otherwise
        geom = geometry(feature)
        if geom is not None:
            west, south, east, north = shapely.bounds(geom)
            assert -180 <= west <= east <= 180 and -90 <= south <= north <= 90, what


def timed_items(ets: Ets, url: str, **params: Any) -> tuple[httpx.Response, datetime, datetime]:
    before = datetime.now(UTC)
    r = ets.ok(url, GEOJSON, **params)
    return r, before, datetime.now(UTC)


# ---------------------------------------------------------------------- CRS identifiers
_PCHAR_NC = r"(?:[A-Za-z0-9\-._~!$&'()*+,;=@]|%[0-9A-Fa-f]{2})"
_PCHAR = r"(?:[A-Za-z0-9\-._~!$&'()*+,;=:@]|%[0-9A-Fa-f]{2})"
_OGC_URI = re.compile(rf"http://www\.opengis\.net/def/crs/{_PCHAR_NC}+/{_PCHAR_NC}+/"
                      rf"{_PCHAR_NC}+(?:/{_PCHAR_NC}+)*")  # fmt: skip
_OGC_URN = re.compile(rf"urn:ogc:def:crs:{_PCHAR_NC}+:{_PCHAR_NC}*:{_PCHAR_NC}+(?::{_PCHAR_NC}+)*")
_NID = r"[A-Za-z0-9][A-Za-z0-9-]{0,30}[A-Za-z0-9]"
_URN = re.compile(rf"[uU][rR][nN]:{_NID}:{_PCHAR}(?:{_PCHAR}|/)*(?:#(?:{_PCHAR}|[/?])*)?")


def valid_crs_identifier(code: str) -> bool:
    """Abstract test /conf/crs/crs-uri: an http(s) URL, an RFC 8141 URN, or an OGC name
    (OGC 09-048r5) for OGC URIs and URNs."""
    if code.startswith("urn:ogc:def:crs:"):
        return bool(_OGC_URN.fullmatch(code))
    if code.startswith("http://www.opengis.net/def/crs/"):
        return bool(_OGC_URI.fullmatch(code))
    if code.lower().startswith("urn:"):
        return bool(_URN.fullmatch(code))
    if code.startswith(("http:", "https:")):
        parts = urlsplit(code)
        return bool(parts.netloc) and " " not in code
    return False


def epsg_transformer(crs: str) -> pyproj.Transformer | None:
    """CRS84 -> ``crs`` in the axis order of its definition, or None for a CRS no EPSG
    library knows (the abstract test skips those)."""
    try:
        target = pyproj.CRS.from_user_input(crs)
    except pyproj.exceptions.CRSError:
        return None
    return pyproj.Transformer.from_crs(pyproj.CRS.from_user_input(CRS84), target)


# ---------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def ets(world: dict[str, Any]) -> Iterator[Ets]:  # noqa: F811
    yield Ets(world["client"])


@pytest.fixture(scope="module")
def model(ets: Ets) -> dict[str, Any]:
    return ets.api_model()


@pytest.fixture(scope="module")
def collections(ets: Ets) -> list[dict[str, Any]]:
    found = ets.collections()
    assert len(found) == 15  # every layer of A's four plans and A's two networks' roads
    return found


@pytest.fixture(scope="module")
def maximum(model: dict[str, Any], ets: Ets) -> int | None:
    (_, template), *_ = ets.test_points(model, "/collections/x/items")
    limit = Ets.parameter(model, template, "limit")
    assert limit is not None
    return limit["schema"].get("maximum")


@pytest.fixture(scope="module")
def feature_ids(ets: Ets, collections: list[dict[str, Any]]) -> dict[str, str]:
    """The first feature id of each collection that has features (the suite's FEATUREIDS)."""
    out = {}
    for coll in collections:
        fc = ets.ok(items_url(coll), GEOJSON).json()
        ids = [f["id"] for f in fc["features"] if "id" in f]
        if ids:
            out[coll["id"]] = str(ids[0])
    return out


# ---------------------------------------------------------------------- Core: general
def test_ets_core_general_http(tmp_path: Any) -> None:
    """GeneralHttp.http (/ats/core/http): a real server answers over HTTP/1.1."""
    server = Server(tmp_path / "var")
    try:
        with httpx.Client(http1=True, http2=False, timeout=60) as client:
            for path in ("/ogc", "/ogc/conformance", "/ogc/api"):
                r = client.get(server.url + path)
                assert r.status_code == 200, r.text
                assert r.http_version == "HTTP/1.1"
    finally:
        server.stop()


def test_ets_core_landing_page(ets: Ets) -> None:
    """LandingPage.landingPageRetrieval and landingPageValidation (/ats/core/root-op,
    root-success): 200 for JSON, links service-desc or service-doc, conformance, data."""
    r = ets.ok(ets.root, JSON)
    assert r.headers["content-type"] == JSON
    rels = {ln["rel"] for ln in r.json()["links"]}
    assert ({"service-desc", "service-doc"} & rels) and {"conformance", "data"} <= rels, rels


def test_ets_core_api_definition(ets: Ets, model: dict[str, Any]) -> None:
    """ApiDefinition.openapiDocumentRetrieval and apiDefinitionValidation
    (/ats/core/api-definition-op, -success): the service-desc of type OpenAPI 3.0 answers
    200 with a valid OpenAPI 3.0 document (validated against the OpenAPI 3.0 schema), whose
    references resolve and whose path variables are declared."""
    jsonschema_rs.Draft4Validator(OPENAPI_30).validate(model)
    assert model["openapi"].startswith("3.0.")

    def refs(node: Any) -> Iterator[str]:
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str):
                yield node["$ref"]
            for value in node.values():
                yield from refs(value)
        elif isinstance(node, list):
            for value in node:
                yield from refs(value)

    for ref in refs(model):
        target: Any = model
        for part in ref.removeprefix("#/").split("/"):
            target = target[part]
    for template, item in model["paths"].items():
        for op in item.values():
            declared = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
            assert set(re.findall(r"\{([^}]+)\}", template)) == declared, template
            for scheme in op.get("security", []):
                assert set(scheme) <= set(model["components"]["securitySchemes"])
    # the suite finds each of its test points in it
    for requested in ("/conformance", "/collections", "/collections/x", "/collections/x/items",
                      "/collections/x/items/y"):  # fmt: skip
        assert ets.test_points(model, requested), requested


# ---------------------------------------------------------------------- Core: conformance
def test_ets_core_conformance_operation_and_response(ets: Ets, model: dict[str, Any]) -> None:
    """Conformance.validateConformanceOperationAndResponse (/ats/core/conformance-op,
    -success): at each conformance test point of the API definition and at the landing
    page's conformance link, 200 with ``conformsTo`` strings that include Core."""
    points = ets.test_points(model, "/conformance")
    assert points, "no /conformance in the API definition"
    links = ets.ok(ets.root).json()["links"]
    urls = [server + template for server, template in points]
    urls += [ln["href"] for ln in links if ln["rel"] == "conformance"]
    for url in urls:
        conforms = ets.ok(url, JSON).json().get("conformsTo")
        assert isinstance(conforms, list) and all(isinstance(c, str) for c in conforms), url
        assert CORE in conforms, url


# ---------------------------------------------------------------------- Core: collections
def test_ets_core_collections_metadata(ets: Ets, model: dict[str, Any]) -> None:
    """FeatureCollections.validateFeatureCollectionsMetadataOperation and its _Links,
    _Items, _CrsProperty, _Content (/ats/core/fc-md-op, fc-md-success, /req/core/crs84)."""
    points = ets.test_points(model, "/collections")
    assert points
    for server, template in points:
        r = ets.ok(server + template, JSON)
        doc = r.json()
        own = link(doc, "self")
        assert own is not None and own.get("rel") and own.get("type")
        assert not ets.alternate_types_missing(doc, features=False)
        if doc.get("crs") is not None:
            assert doc["crs"][0] in (CRS84, CRS84H)
        assert doc.get("links") and doc.get("collections")


def test_ets_core_collection_metadata(ets: Ets, model: dict[str, Any],
                                      collections: list[dict[str, Any]]) -> None:  # fmt: skip
    """FeatureCollection.validateFeatureCollectionMetadataOperation and
    validateFeatureCollectionMetadataResponse (/ats/core/sfc-md-op, sfc-md-success): each
    collection at its test point answers 200 with the id, title, description and extent of
    /collections."""
    for coll in collections:
        points = ets.test_points(model, f"/collections/{coll['id']}")
        assert points, coll["id"]
        server, template = points[0]
        url = server + re.sub(r"\{[^}]+\}", coll["id"], template)
        doc = ets.ok(url, JSON).json()
        for key in ("id", "title", "description", "extent"):
            assert doc.get(key) == coll.get(key), (coll["id"], key)


# ---------------------------------------------------------------------- Core: features
def test_ets_core_features_operation_and_response(
    ets: Ets, collections: list[dict[str, Any]], maximum: int | None
) -> None:
    """Features.validateFeaturesOperation and its _GeometryInCRS84, _TypeProperty,
    _FeaturesProperty, _Links, _TimeStamp, _NumberMatched, _NumberReturned (/ats/core/fc-op,
    fc-response, fc-links, fc-timeStamp, fc-numberMatched, fc-numberReturned, crs84)."""
    for coll in collections:
        r, before, after = timed_items(ets, items_url(coll))
        assert r.headers["content-type"] == GEOJSON
        fc_response(ets, coll, r, maximum, before, after)


def test_ets_core_features_limit_definition(ets: Ets, model: dict[str, Any]) -> None:
    """FeaturesLimit.limitParameterDefinition (/ats/core/fc-limit-definition)."""
    points = ets.test_points(model, "/collections/x/items")
    assert points
    for _, template in points:
        limit = Ets.parameter(model, template, "limit")
        assert limit is not None, f"no limit parameter at {template}"
        assert (limit["name"], limit["in"], limit.get("required", False)) == ("limit", "query",
                                                                             False)  # fmt: skip
        assert limit.get("style") == "form" and not limit.get("explode", False)
        schema = limit["schema"]
        assert schema["type"] == "integer"
        assert int(schema["minimum"]) >= 0 and int(schema["default"]) >= 0
        # the suite needs a maximum: without one it asks for limit=0 and expects -1 features
        assert int(schema["maximum"]) >= int(schema["default"]) >= int(schema["minimum"])


def test_ets_core_features_limit_response(
    ets: Ets, model: dict[str, Any], collections: list[dict[str, Any]], maximum: int | None
) -> None:
    """FeaturesLimit.validateFeaturesWithLimitOperation, validateFeaturesWithLimitResponse
    and the fc-response checks (/ats/core/fc-op, fc-limit-response) for the definition's
    minimum and for the value halfway to the maximum (at most 100); and past the maximum
    (read as the maximum)."""
    (_, template), *_ = ets.test_points(model, "/collections/x/items")
    schema = Ets.parameter(model, template, "limit")["schema"]  # type: ignore[index]
    low, high = int(schema["minimum"]), int(schema["maximum"])
    limits = [low, min(low + (high - low) // 2, 100), high + 1]
    for coll in collections:
        for limit in limits:
            r, before, after = timed_items(ets, items_url(coll), limit=limit)
            fc = r.json()
            assert len(fc["features"]) <= min(limit, high), (coll["id"], limit)
            if fc["numberMatched"] >= min(limit, high):  # a full page
                assert len(fc["features"]) == min(limit, high), (coll["id"], limit)
            fc_response(ets, coll, r, maximum, before, after)


def test_ets_core_features_bbox_definition(ets: Ets, model: dict[str, Any]) -> None:
    """FeaturesBBox.boundingBoxParameterDefinition (/ats/core/fc-bbox-definition)."""
    for _, template in ets.test_points(model, "/collections/x/items"):
        bbox = Ets.parameter(model, template, "bbox")
        assert bbox is not None
        assert (bbox["name"], bbox["in"], bbox.get("required", False)) == ("bbox", "query", False)
        assert bbox.get("style") == "form" and bbox.get("explode") is False
        schema = bbox["schema"]
        assert (schema["type"], schema["minItems"], schema["maxItems"]) == ("array", 4, 6)
        assert schema["items"]["type"] == "number"


def _box_polygons(box: tuple[float, float, float, float]) -> shapely.Geometry:
    west, south, east, north = box
    if west <= east:
        return shapely.box(west, south, east, north)
    return shapely.union(
        shapely.box(west, south, 180, north), shapely.box(-180, south, east, north)
    )


def test_ets_core_features_bbox_response(
    ets: Ets, collections: list[dict[str, Any]], maximum: int | None
) -> None:
    """FeaturesBBox.validateFeaturesWithBoundingBoxOperation, ...Response and the
    fc-response checks (/ats/core/fc-bbox-response, crs84): with the collection's extent and
    the suite's five boxes (meridian, equator, 180°, poles), every feature returned has a
    geometry meeting the box. Beyond the suite's data: the four quarters of the extent,
    where a feature outside the box can be returned wrongly, and the count of features
    meeting each quarter is compared with the layer's full list."""
    tested = 0
    for coll in collections:
        box = extent(coll)
        if box is None:
            continue
        west, south, east, north = box
        mid_x, mid_y = (west + east) / 2, (south + north) / 2
        quarters = [(west, south, mid_x, mid_y), (mid_x, south, east, mid_y),
                    (west, mid_y, mid_x, north), (mid_x, mid_y, east, north)]  # fmt: skip
        every = every_feature(ets, coll)
        for query in [box, *FIXED_BOXES, *quarters]:
            text = as_query(query)
            r, before, after = timed_items(ets, items_url(coll), bbox=text)
            fc = r.json()
            shape = _box_polygons(tuple(float(v) for v in text.split(",")))  # type: ignore[arg-type]
            for feature in fc["features"][:100]:
                geom = geometry(feature)
                assert geom is None or shapely.intersects(shape, geom), (coll["id"], text,
                                                                         feature["id"])  # fmt: skip
            fc_response(ets, coll, r, maximum, before, after)
            geoms = [geometry(f) for f in every]
            want = sum(1 for g in geoms if g is None or shapely.intersects(shape, g))
            assert fc["numberMatched"] == want, (coll["id"], text)
            tested += 1
    assert tested >= 13 * 10


def test_ets_core_features_bbox_keeps_features_without_geometry() -> None:
    """/req/core/fc-bbox-response B (abstract test 15, step 2, which the suite does not
    carry out): a feature without a geometry is matched by every bbox; a line is selected
    by its geometry, not by its box."""
    layer = feature_layer({"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": "diagonal", "properties": {},
         "geometry": {"type": "LineString", "coordinates": [[0, 0], [10, 10]]}},
        {"type": "Feature", "id": "nowhere", "properties": {}, "geometry": None},
        {"type": "Feature", "id": "point", "properties": {},
         "geometry": {"type": "Point", "coordinates": [9, 1]}}]})  # fmt: skip
    assert layer.select([(8.0, 0.0, 10.0, 2.0)]).tolist() == [1, 2]  # the corner: not the line
    assert layer.select([(4.0, 4.0, 6.0, 6.0)]).tolist() == [0, 1]
    assert layer.select([(50.0, 50.0, 60.0, 60.0)]).tolist() == [1]
    assert layer.select(None).tolist() == [0, 1, 2]


def test_ets_core_features_datetime(
    ets: Ets, model: dict[str, Any], collections: list[dict[str, Any]], maximum: int | None
) -> None:
    """FeaturesTime.timeParameterDefinition (/ats/core/fc-time-definition) and, as the
    collections have no temporal extent (so the suite asks nothing more), step 2 of
    /ats/core/fc-time-response: features without a temporal geometry are all in the result
    of a datetime query (instant, interval, half-open)."""
    for _, template in ets.test_points(model, "/collections/x/items"):
        time = Ets.parameter(model, template, "datetime")
        assert time is not None
        assert (time["name"], time["in"], time.get("required", False)) == ("datetime", "query",
                                                                           False)  # fmt: skip
        assert time.get("style") == "form" and not time.get("explode", False)
        assert time["schema"]["type"] == "string"
    for coll in collections:
        assert "temporal" not in coll.get("extent", {})
        plain = ets.ok(items_url(coll), GEOJSON).json()
        for value in ("2018-02-12T23:20:50Z", "2018-02-12T00:00:00Z/2018-03-18T12:31:12Z",
                      "../2018-03-18T12:31:12Z", "2018-02-12T00:00:00Z/.."):  # fmt: skip
            r, before, after = timed_items(ets, items_url(coll), datetime=value)
            fc = r.json()
            assert fc["numberMatched"] == plain["numberMatched"], (coll["id"], value)
            assert [f["id"] for f in fc["features"]] == [f["id"] for f in plain["features"]]
            fc_response(ets, coll, r, maximum, before, after)


def test_ets_core_features_query_param_invalid(ets: Ets, collections: list[dict[str, Any]]) -> None:
    """FeaturesErrorConditions.validateFeaturesOperation_QueryParamInvalid
    (/ats/core/query-param-invalid): limit=unlimited is a 400."""
    for coll in collections:
        assert ets.get(items_url(coll), GEOJSON, limit="unlimited").status_code == 400


def test_ets_core_features_query_param_unknown(
    ets: Ets, model: dict[str, Any], collections: list[dict[str, Any]]
) -> None:
    """FeaturesErrorConditions.validateFeaturesOperation_QueryParamUnknown
    (/ats/core/query-param-unknown): a parameter the definition does not name is a 400
    (unless the definition takes free-form parameters, which it does not)."""
    for _, template in ets.test_points(model, "/collections/x/items"):
        for param in model["paths"][template]["get"]["parameters"]:
            assert not param.get("schema", {}).get("additionalProperties"), param["name"]
    names = {p["name"] for _, t in ets.test_points(model, "/collections/x/items")
             for p in model["paths"][t]["get"]["parameters"]}  # fmt: skip
    for n, coll in enumerate(collections):
        name = f"unknownQueryParameter{10_000 + n}"
        assert name not in names
        assert ets.get(items_url(coll), GEOJSON, **{name: 1}).status_code == 400


def test_ets_core_feature_operation_and_response(
    ets: Ets, collections: list[dict[str, Any]], feature_ids: dict[str, str]
) -> None:
    """Feature.featureOperation and validateFeatureResponse (/ats/core/f-op, f-success,
    f-links): the first feature of each collection at items/{featureId}: 200, links self
    and collection with rel and type, alternates for the declared media types."""
    assert feature_ids, "no feature ids found in the collections"
    for coll in collections:
        if coll["id"] not in feature_ids:
            continue
        r = ets.ok(feature_url(coll, feature_ids[coll["id"]]), GEOJSON)
        doc = r.json()
        assert doc["type"] == "Feature" and str(doc["id"]) == feature_ids[coll["id"]]
        for rel in ("self", "collection"):
            found = link(doc, rel)
            assert found is not None and found.get("type"), (coll["id"], rel)
        assert not ets.alternate_types_missing(doc, features=True)
        assert all(ln.get("rel") and ln.get("type") for ln in doc["links"]
                   if ln["rel"] in ("self", "alternate", "collection"))  # fmt: skip


# ---------------------------------------------------------------------- Part 2: discovery
def test_ets_crs_requirement_class(ets: Ets) -> None:
    """CrsRequirementClassPrecondition.verifyConformanceClass: the CRS class is declared
    (so none of the tests below is skipped)."""
    assert CRS_CLASS in ets.conformance_classes()


def test_ets_crs_discovery_collections_crs_uri(ets: Ets, collections: list[dict]) -> None:
    """DiscoveryCollectionsCrsUri and DiscoveryCollectionCrsUri (/conf/crs/crs-uri): each
    crs and storageCrs of /collections, of its collections and of /collections/{id} is a
    valid CRS identifier (``#/crs`` accepted in a collection when /collections has a crs)."""
    doc = ets.ok(ets.root + "/collections").json()
    for code in doc.get("crs", []) + ([doc["storageCrs"]] if "storageCrs" in doc else []):
        assert valid_crs_identifier(code), code
    for coll in collections:
        own = ets.ok(link(coll, "self")["href"]).json()  # type: ignore[index]
        for source in (coll, own):
            for code in [*source.get("crs", []), source.get("storageCrs")]:
                if code is None or (code == "#/crs" and doc.get("crs")):
                    continue
                assert valid_crs_identifier(code), (coll["id"], code)
    assert valid_crs_identifier("urn:recyclenet:crs:gcj02")
    assert not valid_crs_identifier("wgs84") and not valid_crs_identifier("urn:x:")


def test_ets_crs_discovery_default_and_storage_crs(ets: Ets, collections: list[dict]) -> None:
    """DiscoveryCollections(-)DefaultCrs and DiscoveryCollection(s)StorageCrs
    (/conf/crs/default-crs, /conf/crs/storageCrs): a spatial collection lists CRS84 (or
    CRS84h), in /collections and at /collections/{id}; a storageCrs is one of its crs."""
    doc = ets.ok(ets.root + "/collections").json()
    for coll in collections:
        own = ets.ok(link(coll, "self")["href"]).json()  # type: ignore[index]
        for source in (coll, own):
            crs = list(source.get("crs", []))
            if "#/crs" in crs:
                crs = [c for c in crs if c != "#/crs"] + list(doc.get("crs", []))
            if "spatial" in source.get("extent", {}):
                assert CRS84 in crs or CRS84H in crs, coll["id"]
            if source.get("storageCrs") is not None:
                assert source["storageCrs"] in crs, coll["id"]


# ---------------------------------------------------------------------- Part 2: crs
def _spatial(collections: list[dict]) -> list[dict]:
    return [c for c in collections if "spatial" in c.get("extent", {})]


def test_ets_crs_features_crs_parameter(ets: Ets, collections: list[dict],
                                        feature_ids: dict[str, str]) -> None:  # fmt: skip
    """FeaturesCrsParameter and FeatureCrsParameter (/conf/crs/crs-parameter): every crs
    of every spatial collection, at items and at items/{featureId}: 200 and Content-Crs
    ``<uri>``."""
    for coll in _spatial(collections):
        assert len(coll["crs"]) >= 2
        urls = [items_url(coll)]
        if coll["id"] in feature_ids:
            urls.append(feature_url(coll, feature_ids[coll["id"]]))
        for crs in coll["crs"]:
            for url in urls:
                r = ets.ok(url, GEOJSON, crs=crs)
                assert r.headers.get("content-crs") == f"<{crs}>", (url, crs)


def test_ets_crs_features_crs_parameter_default(ets: Ets, collections: list[dict],
                                                feature_ids: dict[str, str]) -> None:  # fmt: skip
    """FeaturesCrsParameterDefault and FeatureCrsParameterDefault
    (/conf/crs/crs-parameter-default): without crs, Content-Crs is CRS84 (or CRS84h)."""
    for coll in _spatial(collections):
        urls = [items_url(coll)]
        if coll["id"] in feature_ids:
            urls.append(feature_url(coll, feature_ids[coll["id"]]))
        for url in urls:
            header = ets.ok(url, GEOJSON).headers.get("content-crs")
            assert header in (f"<{CRS84}>", f"<{CRS84H}>"), (url, header)


def test_ets_crs_features_crs_parameter_invalid(ets: Ets, collections: list[dict],
                                                feature_ids: dict[str, str]) -> None:  # fmt: skip
    """FeaturesCrsParameterInvalid and FeatureCrsParameterInvalid
    (/conf/crs/crs-parameter-invalid): a CRS not offered is a 400."""
    for coll in _spatial(collections):
        urls = [items_url(coll)]
        if coll["id"] in feature_ids:
            urls.append(feature_url(coll, feature_ids[coll["id"]]))
        for url in urls:
            assert ets.get(url, GEOJSON, crs=UNSUPPORTED_CRS).status_code == 400, url


def _positions(geom: dict[str, Any] | None) -> np.ndarray:
    out: list[list[float]] = []

    def walk(c: Any) -> None:
        if c and isinstance(c[0], int | float):
            out.append([float(c[0]), float(c[1])])
        else:
            for x in c:
                walk(x)

    if geom:
        walk(geom["coordinates"])
    return np.array(out, dtype=float).reshape(-1, 2)


def test_ets_crs_features_crs_parameter_transform(ets: Ets, collections: list[dict],
                                                  feature_ids: dict[str, str]) -> None:  # fmt: skip
    """FeaturesCrsParameterTransform and FeatureCrsParameterTransform
    (/conf/crs/crs-parameter-transform): for each known CRS (an EPSG library's, in its
    axis order) the geometries match those of the default CRS carried into it, within
    0.001 as in the suite (which discards the comparison; here it is asserted). GCJ-02 and
    BD-09 are unknown to EPSG libraries: skipped, as the abstract test says."""
    known = 0
    for coll in _spatial(collections):
        urls = [items_url(coll)]
        if coll["id"] in feature_ids:
            urls.append(feature_url(coll, feature_ids[coll["id"]]))
        for crs in coll["crs"]:
            transformer = epsg_transformer(crs)
            if transformer is None:
                assert crs.startswith("urn:recyclenet:crs:"), crs
                continue
            for url in urls:
                plain, asked = ets.ok(url, GEOJSON).json(), ets.ok(url, GEOJSON, crs=crs).json()
                feats = plain.get("features", [plain])
                got = asked.get("features", [asked])
                assert [f["id"] for f in got] == [f["id"] for f in feats]
                for default, other in zip(feats, got, strict=True):
                    xy = _positions(default["geometry"])
                    if not len(xy):
                        continue
                    a, b = transformer.transform(xy[:, 0], xy[:, 1])
                    want = np.column_stack([a, b])
                    np.testing.assert_allclose(_positions(other["geometry"]), want, atol=1e-3)
                known += 1
    assert known >= 13


# ---------------------------------------------------------------------- Part 2: bbox-crs
def _image(box: tuple[float, float, float, float], transformer: pyproj.Transformer
           ) -> tuple[float, float, float, float]:  # fmt: skip
    """The box carried into the target CRS (its corners, in the target's axis order)."""
    a = transformer.transform(box[0], box[1])
    b = transformer.transform(box[2], box[3])
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[0], b[0]), max(a[1], b[1]))


def test_ets_crs_bbox_crs_parameter(ets: Ets, collections: list[dict]) -> None:
    """BBoxCrsParameter.verifyBboxCrsParameterWithDefaultCrs and verifyBboxCrsParameter
    (/conf/crs/bbox-crs-parameter): the collection's extent in each known CRS as bbox with
    bbox-crs selects the features the extent selects in the default CRS (the suite asks for
    a subset; they are the same here: the CRSs are the same datum)."""
    checked = 0
    for coll in _spatial(collections):
        box = extent(coll)
        assert box is not None
        default = ets.ok(items_url(coll), GEOJSON, bbox=as_query(box)).json()
        ids = {f["id"] for f in default["features"]}
        for crs in coll["crs"]:
            transformer = epsg_transformer(crs)
            if transformer is None:
                continue
            image = _image(box, transformer)
            fc = ets.ok(items_url(coll), GEOJSON, bbox=as_query(image),
                        **{"bbox-crs": crs}).json()  # fmt: skip
            assert {f["id"] for f in fc["features"]} <= ids, (coll["id"], crs)
            assert fc["numberMatched"] == default["numberMatched"], (coll["id"], crs)
            checked += 1
    assert checked >= 2 * 13


def test_ets_crs_bbox_crs_parameter_default(ets: Ets, collections: list[dict]) -> None:
    """BBoxCrsParameterDefault (/conf/crs/bbox-crs-parameter-default): bbox-crs naming the
    default CRS selects what no bbox-crs selects."""
    for coll in _spatial(collections):
        text = as_query(extent(coll))  # type: ignore[arg-type]
        with_crs = ets.ok(items_url(coll), GEOJSON, bbox=text, **{"bbox-crs": CRS84}).json()
        without = ets.ok(items_url(coll), GEOJSON, bbox=text).json()
        assert [f["id"] for f in with_crs["features"]] == [f["id"] for f in without["features"]]
        assert with_crs["numberMatched"] == without["numberMatched"] > 0


def test_ets_crs_bbox_crs_parameter_invalid(ets: Ets, collections: list[dict]) -> None:
    """BBoxCrsParameterInvalid (/conf/crs/bbox-crs-parameter-invalid): a bbox-crs not
    offered is a 400."""
    for coll in _spatial(collections):
        r = ets.get(items_url(coll), GEOJSON, bbox=as_query((5, 49, 6, 50)),
                    **{"bbox-crs": UNSUPPORTED_CRS})  # fmt: skip
        assert r.status_code == 400, coll["id"]
        assert r.json()["errors"][0]["field"] == "query.bbox-crs"
