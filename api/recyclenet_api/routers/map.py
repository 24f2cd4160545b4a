"""``/map?plan=ID``: the plan's HTML map, the same page :func:`write_map_html` writes.

The page is built on the server from the layers stored with the plan (plans are
immutable) and the road features of the plan's network as the base layer, so it needs
nothing else: no API calls from the browser, no tiles, no CDN (Leaflet is inlined). A
browser cannot send the ``X-API-Key`` header when opening a link, so give the key as
``?api_key=`` (GET only, see the service's auth notes).

The page is always drawn in WGS-84 and takes no ``?crs=``: it has no tile layer that a
GCJ-02 or BD-09 basemap would have to line up with, and its base layer (the OSM roads) and
the plan's layers are all WGS-84, so they agree as they are.
"""

from __future__ import annotations

import json
import logging
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from recyclenet.export.map_html import compact_roads, map_html
from recyclenet.i18n import label

from ..deps import AppContext, ContextDep, TenantDep
from ..problems import Problem
from .common import PLAN_LAYERS, not_found
from .plans import check_plan, plan_cache

router = APIRouter(tags=["map"])
log = logging.getLogger("recyclenet_api")

_TITLES = {"siting": "siting_map", "routing": "routes_map"}
"""Label keys of the page title by plan kind."""


def _roads(ctx: AppContext, tenant: str, network_id: Any) -> dict[str, Any] | None:
    """The network's roads as a compact base layer, or None when unavailable."""
    if not isinstance(network_id, str) or ctx.store.get_network(tenant, network_id) is None:
        return None
    try:
        layer = ctx.roads.get(network_id)
    except OSError as exc:  # the network's road files are gone: draw the plan alone
        log.warning("map without roads: network %s: %s", network_id, exc)
        return None
    return compact_roads(json.loads(f) for f in layer.features)


def _page(ctx: AppContext, tenant: str, plan_id: str, lang: str) -> str:
    row = ctx.store.get_plan(tenant, plan_id)
    if row is None:
        raise not_found("plan", plan_id)
    if row.kind not in PLAN_LAYERS:
        raise Problem(404, f"plan {plan_id} is a {row.kind} plan, which has no map layers")
    data = row.data if isinstance(row.data, dict) else {}
    layers: dict[str, Any] = dict(data.get("layers") or {})
    roads = _roads(ctx, tenant, data.get("network_id"))
    if roads is not None:
        layers["roads"] = roads
    title = f"recyclenet · {label(_TITLES[row.kind], lang)} · {plan_id}"
    return map_html(layers, title=title, lang=lang)


@router.get(
    "/map",
    response_class=HTMLResponse,
    summary="The plan's map as one HTML page",
    description=(
        "A self-contained Leaflet map (works offline; no tiles, the plan's road network is "
        "the base layer) of a siting plan (stations, walking coverage, sorting centres) or "
        "a routing plan (routes coloured per vehicle, stops with popups, depots, unserved "
        "orders), with a layer control and a legend in English or Chinese, drawn in WGS-84 "
        "(no tiles to line up with, so no `?crs=`). Open it in a "
        "browser with `?api_key=` (GET only). 404 for an unknown plan, another tenant's "
        "plan, or a plan without map layers (matrix)."
    ),
    responses={
        200: {"content": {"text/html": {"schema": {"type": "string"}}}, "description": "HTML page"}
    },
)
async def plan_map(
    ctx: ContextDep,
    tenant: TenantDep,
    plan: Annotated[str, Query(min_length=1, max_length=64, description="Plan id")],
    lang: Annotated[
        Literal["en", "zh"], Query(description="Language of the legend and popups")
    ] = "en",
) -> HTMLResponse:
    await check_plan(ctx, tenant, plan)  # 404 once deleted, whichever process cached it
    cache = plan_cache(ctx)  # a plan's body never changes: build its page once
    key: Any = (plan, f"map-{lang}", "wgs84")
    hit = cache.get(key)
    if hit is None:
        page = await run_in_threadpool(_page, ctx, tenant, plan, lang)
        hit = (tenant, "map", page.encode())
        cache.put(key, hit)
    if hit[0] != tenant:
        raise not_found("plan", plan)
    return HTMLResponse(hit[2])
