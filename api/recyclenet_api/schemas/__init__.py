"""Request and response bodies, one module per resource.

- :mod:`.common`: strict request models, plan labels, problem details, job payload base
- :mod:`.geo`: GeoJSON Point input (demand, sites, orders, depots, facilities)
- :mod:`.networks`, :mod:`.matrix`, :mod:`.siting`, :mod:`.routing`, :mod:`.parks`: each
  resource's request (``*Create``), its job payload (``*Job``: the validated request and
  what it resolved, stored as the job's payload) and its result (``*Data`` / ``*Result``)
- :mod:`.plans`, :mod:`.jobs`: stored plans (typed by kind) and jobs

The names below are the package's public surface.
"""

from .common import (
    AUTH_RESPONSES,
    HORIZON_S,
    FieldError,
    Health,
    JobSpec,
    NetworkRef,
    PlanName,
    PlanTags,
    ProblemDetail,
)
from .geo import PointIn
from .jobs import JobList, JobPublic, JobResult, JobStatus
from .matrix import MATRIX_EXAMPLE, MatrixCreate, MatrixData, MatrixJob
from .networks import NetworkList, NetworkPublic, NetworkSampleCreate
from .parks import PARK_EXAMPLE, PARK_LAYERS, ParkCreate, ParkData, ParkJob
from .plans import (
    PlanData,
    PlanIndicators,
    PlanLabelsPatch,
    PlanList,
    PlanPublic,
    PlanSummaryPublic,
)
from .routing import (
    REPLAN_EXAMPLE,
    ROUTING_EXAMPLE,
    ReplanIn,
    RoutingCreate,
    RoutingData,
    RoutingJob,
    RoutingResult,
    VehicleTypeIn,
)
from .siting import (
    SITING_EXAMPLE_INLINE,
    SITING_EXAMPLE_OSM,
    SitingCreate,
    SitingData,
    SitingJob,
    SitingResult,
)

__all__ = [
    "AUTH_RESPONSES", "HORIZON_S", "MATRIX_EXAMPLE", "PARK_EXAMPLE", "PARK_LAYERS",
    "REPLAN_EXAMPLE", "ROUTING_EXAMPLE", "SITING_EXAMPLE_INLINE", "SITING_EXAMPLE_OSM",
    "FieldError", "Health", "JobList", "JobPublic", "JobResult", "JobSpec", "JobStatus",
    "MatrixCreate", "MatrixData", "MatrixJob", "NetworkList", "NetworkPublic", "NetworkRef",
    "NetworkSampleCreate", "ParkCreate", "ParkData", "ParkJob", "PlanData", "PlanIndicators",
    "PlanLabelsPatch", "PlanList", "PlanName", "PlanPublic", "PlanSummaryPublic", "PlanTags",
    "PointIn", "ProblemDetail", "ReplanIn", "RoutingCreate", "RoutingData", "RoutingJob",
    "RoutingResult", "SitingCreate", "SitingData", "SitingJob", "SitingResult", "VehicleTypeIn",
]  # fmt: skip
