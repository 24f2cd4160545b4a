"""The park's indicators (group ``park`` of :data:`recyclenet.indicators.SPECS`).

- comprehensive utilisation rate of general industrial solid waste (一般工业固体废物综合
  利用率): general waste allocated to utilisation receivers (recyclers, cement kilns,
  park enterprises) / general waste generated;
- share of hazardous waste to licensed treatment: hazardous tonnes allocated to receivers
  with a licence / hazardous tonnes generated;
- vehicle-km, tonne-km and CO2e of the planned week (:mod:`.collection`);
- cost per tonne: (the week's routed collection cost scaled to a year + net fees per
  year) / tonnes placed per year;
- by-product value kept in the park: exchange flows × the price paid;
- the shared facility's saving, when one was sited.
"""

from __future__ import annotations

import math

from ..indicators import Indicator, make_indicator
from .allocation import Allocation
from .collection import Collection
from .model import Park
from .shared import SharedPlan

#: Receiver kinds whose intake counts as utilisation of general industrial solid waste.
UTILISATION_KINDS: frozenset[str] = frozenset({"recycler", "cement_kiln", "enterprise"})
WEEKS_PER_YEAR = 365.25 / 7.0


def park_indicators(
    park: Park,
    allocation: Allocation,
    collection: Collection | None = None,
    shared: SharedPlan | None = None,
) -> tuple[Indicator, ...]:
    """The park indicators of a plan (nan where not defined)."""
    recs = park.receivers_by_id
    streams = park.streams_by_id
    total = sum(s.tonnes_per_year for s in park.streams)
    gen_general = sum(s.tonnes_per_year for s in park.streams if not park.is_hazardous(s))
    gen_haz = total - gen_general
    used = 0.0
    licensed = 0.0
    value = 0.0
    fees = 0.0
    placed = 0.0
    for f in allocation.flows:
        s = streams[f.stream_id]
        r = recs[f.receiver_id]
        placed += f.tonnes_per_year
        fees += f.tonnes_per_year * f.fee_per_t
        if park.is_hazardous(s):
            licensed += f.tonnes_per_year if r.licence else 0.0
        elif r.kind in UTILISATION_KINDS:
            used += f.tonnes_per_year
        if f.exchange:
            value += f.tonnes_per_year * r.price_paid_per_t

    def pct(a: float, b: float) -> float:
        return 100.0 * a / b if b > 0 else math.nan

    out = [
        make_indicator("park_tonnes_per_year", total),
        make_indicator("park_gis_utilisation_rate", pct(used, gen_general)),
        make_indicator("park_hw_licensed_share", pct(licensed, gen_haz)),
        make_indicator("park_tonnes_unplaced", sum(u.tonnes_per_year for u in allocation.unplaced)),
        make_indicator("park_byproduct_value_per_year", value),
    ]
    if collection is not None:
        yearly = collection.cost * WEEKS_PER_YEAR
        out += [
            make_indicator("park_vehicle_km_per_week", collection.vehicle_km),
            make_indicator("park_tonne_km_per_week", collection.tonne_km),
            make_indicator("park_co2e_kg_per_week", collection.co2e_kg),
            make_indicator(
                "park_cost_per_tonne", (yearly + fees) / placed if placed > 0 else math.nan
            ),
        ]
    if shared is not None:
        out.append(make_indicator("park_shared_saving_per_year", shared.saving_per_year))
    return tuple(out)
