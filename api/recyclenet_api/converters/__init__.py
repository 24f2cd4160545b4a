"""Request models -> library objects, one module per resource.

A job request is turned into library objects twice, by the same function: once in the
request, so that bad input is a 422 naming the field before anything is queued, and once
in the worker, from the job's stored payload (the validated request, see
:class:`recyclenet_api.schemas.JobSpec`). Errors are :class:`.points.PayloadError`, which
name the field below ``body``; the routers answer them with a 422.

Coordinates (``?crs=``): requests may give lon/lat in GCJ-02 or BD-09; the converters
turn them into WGS-84 (:func:`.points.lonlat_to_wgs84`), the only datum the library and
the stored plans use.
"""
