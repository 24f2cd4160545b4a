"""A park request (:class:`recyclenet_api.schemas.ParkJob`) -> the library's park."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..schemas.parks import ParkCreate
from .points import PayloadError

if TYPE_CHECKING:
    from recyclenet.parks.model import Park


def park_input(body: ParkCreate) -> Park:
    """The park of the request, with the library's checks (unknown codes, ids, units; a
    stream no receiver may take unless ``allow_unplaced``): PayloadError on ``park``."""
    from recyclenet.parks.allocation import check_placeable
    from recyclenet.parks.io import park_from_doc

    try:
        park = park_from_doc(body.park, source="body.park")
        if not body.allow_unplaced:
            check_placeable(park)
    except (ValueError, TypeError, KeyError, AttributeError) as exc:  # InputError is a ValueError
        raise PayloadError("park", str(exc)) from None
    return park


def park_places(park: Park) -> int:
    """Places of a park the matrices hold (enterprises, receivers, depots, sites)."""
    return len(park.enterprises) + len(park.receivers) + len(park.depots) + len(park.sites)
