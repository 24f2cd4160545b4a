"""Job kinds: functions run in a job process, one module per resource.

The runner (:mod:`recyclenet_api.jobs`) starts each job in a child process, imports the
function named in :data:`JOB_KINDS` there, and calls it with the job's stored payload.
A function whose first parameter is typed with a :class:`recyclenet_api.schemas.JobSpec`
(``siting_task(job: SitingJob)``) gets the payload rebuilt as that model
(:func:`job_argument`); the function turns it into library objects through the converter
the request was checked with (:mod:`recyclenet_api.converters`). If the function has a
``progress`` keyword parameter it also gets a callback that takes a dict
(``{"phase": ..., "percent": ..., "objective": ...}``) and shows it in ``GET /jobs/{id}``.
A function returns its result as a typed model (``SitingResult``) or a JSON-able dict.

Wiring a new kind is one entry here, a payload model in :mod:`recyclenet_api.schemas`, a
converter and a router that validates the request and calls
:func:`recyclenet_api.routers.common.submit_job`.
"""

from __future__ import annotations

import contextlib
import inspect
import json
import math
import typing
from collections.abc import Callable
from typing import Any

import numpy as np
from pydantic import BaseModel, ValidationError

from recyclenet.errors import InputError

JOB_KINDS: dict[str, str] = {
    "matrix": "recyclenet_api.tasks.matrix:matrix_task",
    "siting": "recyclenet_api.tasks.siting:siting_task",
    "routing": "recyclenet_api.tasks.routing:routing_task",
    "park": "recyclenet_api.tasks.parks:park_task",
}
"""Job kind -> ``"module:function"`` run in the worker process."""

Progress = Callable[[dict[str, Any]], None]


def to_jsonable(value: Any) -> Any:
    """Plain JSON types: numpy to Python, tuples to lists, inf/NaN to None (RFC 8259);
    pydantic models dumped in JSON mode."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist())
    if isinstance(value, np.generic):
        return to_jsonable(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if hasattr(value, "to_dict"):
        return to_jsonable(value.to_dict())
    raise TypeError(f"job result holds a {type(value).__name__}, which is not JSON")


def noop_progress(_: dict[str, Any]) -> None:
    return None


def spec_type(func: Callable[..., Any]) -> type[BaseModel] | None:
    """The payload model of a job function: its first parameter's type when that is a
    pydantic model, else None (the function takes the payload dict)."""
    try:
        params = list(inspect.signature(func).parameters.values())
        hints = typing.get_type_hints(func)
    except (TypeError, ValueError, NameError):
        return None
    if not params:
        return None
    hint = hints.get(params[0].name)
    return hint if isinstance(hint, type) and issubclass(hint, BaseModel) else None


def job_argument(func: Callable[..., Any], payload: Any) -> Any:
    """The payload as the job function takes it: rebuilt as its payload model.

    A payload of a job queued by an earlier version (before the typed payloads) is
    rebuilt as the model first (:mod:`.legacy`).

    Raises
    ------
    InputError
        When the stored payload is not one of that model, naming the first field and
        what to do.
    """
    model = spec_type(func)
    if model is None or isinstance(payload, model):
        return payload
    text = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
    try:  # from JSON, as the request was: the same strict types, arrays for tuples
        return model.model_validate_json(text)
    except ValidationError as exc:
        from .legacy import from_legacy

        earlier = from_legacy(model.__name__, payload)
        if earlier is not None:
            with contextlib.suppress(ValidationError):
                return model.model_validate_json(json.dumps(earlier, ensure_ascii=False))
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(payload)"
        raise InputError(
            f"this job's stored payload is not a {model.__name__} ({where}: {first['msg']}); "
            "it was queued by another version of recyclenet: submit the request again"
        ) from None
