"""Defaults of siting, defined once; the CLI, the API, batch and the pipeline use these.

Kept free of heavy imports so that option parsers (CLI, API schemas) can read them.
"""

from __future__ import annotations

#: Households one community collection station serves (the min-stations capacity norm
#: when a site has no capacity of its own, and the capacity of OSM-derived candidates).
#: A planning norm, not a measurement: change it per city.
DEFAULT_HOUSEHOLDS_PER_STATION = 1500.0
