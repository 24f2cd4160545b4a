"""Seeded sample days: pickup requests from households and stations, for demos and tests.

The mix below is a planning assumption for a Chinese city pilot, not data: most
bookings are single large appliances, a few are computers or small appliances, and
collection stations hand over accumulated scrap metal once it passes a pickup threshold.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .routing import Order
from .siting import Demand, Site

APPLIANCE_MIX: tuple[tuple[str, float], ...] = (
    ("washing_machine", 0.22), ("refrigerator", 0.18), ("tv", 0.20), ("air_conditioner", 0.15),
    ("computer", 0.12), ("microwave", 0.08), ("water_heater", 0.05),
)  # fmt: skip
"""Share of household bookings by appliance category."""
TIME_WINDOWS_S: tuple[tuple[float, float], ...] = (
    (8 * 3600, 12 * 3600), (13 * 3600, 17 * 3600), (9 * 3600, 16 * 3600),
)  # fmt: skip
"""Morning, afternoon and all-day windows offered to households."""
STATION_SCRAP_KG = (60.0, 250.0)
"""Range of scrap metal waiting at a station on pickup day (ferrous share 0.8)."""


def sample_day(
    demand: Sequence[Demand],
    stations: Sequence[Site],
    *,
    n_household_orders: int = 40,
    n_station_orders: int = 8,
    seed: int = 0,
) -> list[Order]:
    """One day of pickup orders, households weighted by their number of households.

    Household bookings are placed at demand points (weighted by households) with one
    appliance each and a window; stations with accumulated scrap are optional orders
    with a penalty (they can wait a day).
    """
    rng = np.random.default_rng(seed)
    orders: list[Order] = []
    if demand and n_household_orders:
        weights = np.array([d.households for d in demand], dtype=float)
        picks = rng.choice(len(demand), size=n_household_orders, p=weights / weights.sum())
        cats = [c for c, _ in APPLIANCE_MIX]
        shares = np.array([s for _, s in APPLIANCE_MIX])
        for k, i in enumerate(picks):
            d = demand[int(i)]
            # spread bookings in a building block over a few metres so stops stay distinct
            lon = d.lon + rng.normal(0, 0.0002)
            lat = d.lat + rng.normal(0, 0.0001)
            category = cats[int(rng.choice(len(cats), p=shares / shares.sum()))]
            window = TIME_WINDOWS_S[int(rng.integers(len(TIME_WINDOWS_S)))]
            orders.append(Order.from_items(f"hh{k + 1:03d}", lon, lat, {category: 1},
                                           time_windows=(window,)))  # fmt: skip
    if stations and n_station_orders:
        chosen = rng.choice(len(stations), size=min(n_station_orders, len(stations)),
                            replace=False)  # fmt: skip
        for i in chosen:
            s = stations[int(i)]
            kg = float(rng.uniform(*STATION_SCRAP_KG))
            orders.append(Order.from_items(
                f"st_{s.id}", s.lon, s.lat,
                {"scrap_ferrous": round(0.8 * kg), "scrap_non_ferrous": round(0.2 * kg)},
                required=False, penalty=200.0, time_windows=((8 * 3600, 18 * 3600),),
            ))  # fmt: skip
    return orders
