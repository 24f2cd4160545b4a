"""``/plans``: stored results (immutable)."""

from __future__ import annotations

from fastapi import APIRouter

from ..deps import ContextDep, TenantDep
from ..schemas import PlanPublic
from .common import not_found, plan_public

router = APIRouter(prefix="/plans", tags=["plans"])


@router.get("/{plan_id}", response_model=PlanPublic, summary="A stored plan as JSON")
def get_plan(plan_id: str, ctx: ContextDep, tenant: TenantDep) -> PlanPublic:
    row = ctx.store.get_plan(tenant, plan_id)
    if row is None:
        raise not_found("plan", plan_id)
    return plan_public(row)
