"""``GET /plans/{id}/report?f=html|md|png&lang=en|zh``: a stored plan's evaluation report.

The report is the library's (:func:`recyclenet.export.report.report_html` /
:func:`~recyclenet.export.report.report_markdown`, the maps of
:func:`recyclenet.export.map_png.write_map_pngs`), made from what is stored with the plan
(its layers and its plan summary; plans never change) and the roads of its network as the
maps' base layer. Nothing is computed again, so a report can be made any time, in either
language. Reports are made on request, not cached (a few seconds for the maps).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from recyclenet.i18n import label

from ..deps import AppContext, ContextDep, TenantDep
from ..problems import Problem
from .common import PLAN_LAYERS, not_found
from .map import _roads

router = APIRouter(tags=["plans"])

REPORT_MEDIA = {
    "html": ("text/html; charset=utf-8", "html"),
    "md": ("text/markdown; charset=utf-8", "md"),
    "png": ("image/png", "png"),
}
_MAP_TITLES = {"siting": "siting_map", "routing": "routes_map"}


def _summary(row: Any, lang: str) -> list[str]:
    """Lines under the headline indicators: the plan, its solve and its warnings."""
    plan = row.data.get("plan") or {}
    sep = "：" if lang == "zh" else ": "
    lines = [f"{label('app_plan', lang)}{sep}{row.id} · "
             f"{label('app_kind_plan_' + row.kind, lang)} · "
             f"{row.created_at:%Y-%m-%d %H:%M} UTC"]  # fmt: skip
    solve = [str(plan[k]) for k in ("model", "engine", "status") if plan.get(k)]
    if solve:
        lines.append(f"{label('report_solve', lang)}{sep}{', '.join(solve)}")
    lines += [str(w) for w in plan.get("warnings") or []]
    return lines


def _report(ctx: AppContext, tenant: str, plan_id: str, fmt: str, lang: str) -> bytes:
    from recyclenet import indicators as pilot
    from recyclenet.export.map_png import write_map_pngs
    from recyclenet.export.report import report_html, report_markdown

    row = ctx.store.get_plan(tenant, plan_id)
    if row is None:
        raise not_found("plan", plan_id)
    data = row.data if isinstance(row.data, dict) else {}
    if row.kind not in PLAN_LAYERS or "plan" not in data:
        raise Problem(404, f"plan {plan_id} is a {row.kind} plan, which has no report")
    named = f"{row.name} · {plan_id}" if row.name else plan_id
    title = f"recyclenet · {label(_MAP_TITLES[row.kind], lang)} · {named}"
    evaluation = pilot.plan_dict_indicators(row.kind, data["plan"])
    summary = _summary(row, lang)
    if fmt == "md":  # text only: a single file has nowhere to put the maps (f=png has them)
        return report_markdown(evaluation, lang=lang, title=title, summary=summary).encode()
    layers: dict[str, Any] = dict(data.get("layers") or {})
    roads = _roads(ctx, tenant, data.get("network_id"))
    if roads is not None:
        layers["roads"] = roads
    with tempfile.TemporaryDirectory() as tmp:
        pngs = write_map_pngs(tmp, layers, lang=lang, dpi=110)
        if fmt == "png":
            if not pngs:
                raise Problem(404, f"plan {plan_id} has nothing to draw on a map")
            return pngs[0].read_bytes()
        page = report_html(evaluation, lang=lang, title=title, summary=summary,
                           images=[Path(p) for p in pngs])  # fmt: skip
    return page.encode()


@router.get(
    "/plans/{plan_id}/report",
    response_class=Response,
    summary="A siting or routing plan's report: HTML (maps embedded), Markdown or the PNG map",
    description=(
        "The evaluation report of a stored plan, as the CLI writes it (titled with the "
        "plan's name and id): the headline "
        "indicators, the plan and its solve, the indicator table (name, value, unit, "
        "definition) per group. `f=html`: one self-contained page (no scripts, the maps "
        "embedded as PNG). `f=md`: the same text as Markdown (GitHub tables, no maps). "
        "`f=png`: the plan's map (stations and coverage, or routes and stops) on its "
        "network's roads. `lang=zh` writes every label in Chinese. 404 for an unknown "
        "plan, another tenant's plan, or a plan without layers (matrix)."
    ),
    responses={
        200: {"content": {m: {} for m, _ in REPORT_MEDIA.values()}},
        404: {"description": "No such plan for this API key"},
    },
)
async def plan_report(
    plan_id: str,
    ctx: ContextDep,
    tenant: TenantDep,
    f: Literal["html", "md", "png"] = "html",
    lang: Literal["en", "zh"] = "en",
) -> Response:
    body = await run_in_threadpool(_report, ctx, tenant, plan_id, f, lang)
    media, ext = REPORT_MEDIA[f]
    name = f"{plan_id}-report-{lang}.{ext}" if f != "png" else f"{plan_id}-map-{lang}.png"
    return Response(content=body, media_type=media,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})  # fmt: skip
