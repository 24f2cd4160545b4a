"""The park job: allocation, weekly schedule, routes, manifests and the shared facility of
an industrial park (:func:`recyclenet.pipeline.plan_park_files`)."""

from __future__ import annotations

from ..schemas.parks import PARK_LAYERS, ParkData, ParkJob, ParkPlanDoc
from . import Progress, noop_progress, to_jsonable


def park_task(job: ParkJob, *, progress: Progress = noop_progress) -> ParkData:
    """Plan the park and store the plan with its layers and manifests."""
    from recyclenet.pipeline import plan_park_files

    body = job.request
    run = plan_park_files(
        body.park,
        job.network.source,
        time_limit_s=job.time_limit_s,
        single_source=body.single_source,
        unplaced="report" if body.allow_unplaced else "raise",
        seed=body.seed,
        progress=lambda m: progress({"phase": m}),
    )
    layers = run.geojson_layers()
    for name in PARK_LAYERS:  # every feature gets an id
        for k, f in enumerate(layers[name]["features"]):
            f.setdefault("id", f"{name}-{k + 1}")
    return ParkData(
        kind="park",
        network_id=job.network.id,
        plan=ParkPlanDoc.model_validate(to_jsonable(run.to_dict())),
        indicators={i.key: to_jsonable(i.value) for i in run.indicators},
        manifests=to_jsonable(run.manifests()),
        layers=to_jsonable(layers),
    )
