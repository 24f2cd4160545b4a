"""City and province scale: decomposed solves and scenario batches on a Dask cluster.

- :mod:`.districts`: district polygons (a GeoJSON, or OSM administrative boundaries)
  and point-in-polygon assignment.
- :mod:`.siting`: siting district by district, then one sorting-centre stage over every
  open station (the shared centre capacities couple the districts).
- :mod:`.routing`: routing by depot or by geographic cluster, then one stage that
  offers the orders left over to the vehicles left over.
- :mod:`.batch`: a grid of scenarios from a YAML spec, one comparison table.
- :mod:`.cluster`: the Dask client (a local cluster by default, or a scheduler
  address), inputs sent to every worker once, tasks and progress.

Without a client every function runs its parts one after another in this process.
"""

from .cluster import TaskFailure, open_client, portable_network, run_tasks, share
from .districts import (
    District,
    DistrictAssignment,
    assign_to_districts,
    districts_from_osm,
    districts_geojson,
    read_districts,
)
from .routing import (
    DecomposedRouting,
    PartResult,
    partition_orders,
    solve_routing_decomposed,
    split_fleet,
)
from .siting import DistrictSitingRun, site_by_district, solve_siting_by_district, split_p

__all__ = [
    "DecomposedRouting",
    "District",
    "DistrictAssignment",
    "DistrictSitingRun",
    "PartResult",
    "TaskFailure",
    "assign_to_districts",
    "districts_from_osm",
    "districts_geojson",
    "open_client",
    "partition_orders",
    "portable_network",
    "read_districts",
    "run_tasks",
    "share",
    "site_by_district",
    "solve_routing_decomposed",
    "solve_siting_by_district",
    "split_fleet",
    "split_p",
]
