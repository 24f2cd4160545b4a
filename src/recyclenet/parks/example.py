"""A seeded example park placed on any road network (``examples/park/make_park.py``).

Eight enterprises typical of a Chinese comprehensive industrial park (a thermal power
plant, steel fabrication, electroplating, machining, building materials, auto parts, food,
chemicals) with their wastes and by-products, eleven receivers (a building-materials
works using fly ash and gypsum inside the park, a cement kiln, landfills, recyclers,
licensed hazardous waste incineration, treatment and landfill), five vehicles, one depot
and three candidate sites for a shared hazardous waste transfer station.

Quantities, prices and fees are *illustrative estimates* for a small park (orders of
magnitude from Chinese park plans and market prices around 2023-2024), not data of a real
park; licences are made-up numbers. Places are road nodes at fixed fractions of the
network's bounding box (receivers near its edges, the park in the middle), so the same
extract always gives the same park.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..network import RoadNetwork

#: id, name, (x, y) fraction of the bbox, gate windows
ENTERPRISES: tuple[tuple[str, str, tuple[float, float], str], ...] = (
    ("E01", "热电厂 Thermal power plant", (0.35, 0.55), ""),
    ("E02", "钢结构厂 Steel fabrication", (0.45, 0.60), "08:00-11:30;13:00-17:00"),
    ("E03", "电镀厂 Electroplating", (0.55, 0.55), "08:00-17:00"),
    ("E04", "机加工厂 Machining", (0.50, 0.45), "08:00-11:30;13:00-17:00"),
    ("E05", "新型建材厂 Building materials", (0.40, 0.42), ""),
    ("E06", "汽车零部件厂 Auto parts", (0.60, 0.40), "08:00-17:00"),
    ("E07", "食品厂 Food processing", (0.62, 0.62), "07:00-16:00"),
    ("E08", "精细化工厂 Fine chemicals", (0.30, 0.35), "08:00-17:00"),
)

#: id, enterprise, code, t/month, form, packaging, storage t, storage days, name
STREAMS: tuple[tuple[str, str, str, float, str, str, float, float | None, str], ...] = (
    ("S01", "E01", "SW02", 400.0, "powder", "bulk", 600.0, 30.0, "粉煤灰"),
    ("S02", "E01", "SW03", 120.0, "solid", "bulk", 300.0, 30.0, "炉渣"),
    ("S03", "E01", "SW06", 160.0, "powder", "bulk", 300.0, 30.0, "脱硫石膏"),
    ("S04", "E02", "SW17-01", 60.0, "solid", "bulk", 80.0, None, "边角料废钢"),
    ("S05", "E02", "900-249-08", 1.5, "liquid", "drums", 3.0, 90.0, "废液压油"),
    ("S06", "E02", "900-300-34", 4.0, "liquid", "IBC", 4.0, 90.0, "废酸洗液"),
    ("S07", "E03", "336-064-17", 6.0, "sludge", "drums", 10.0, 90.0, "电镀污泥"),
    ("S08", "E03", "HW33", 0.8, "solid", "drums", 2.0, 90.0, "含氰废物"),
    ("S09", "E03", "900-352-35", 3.0, "liquid", "IBC", 4.0, 90.0, "废碱液"),
    ("S10", "E04", "900-006-09", 5.0, "liquid", "tank", 6.0, 90.0, "废乳化液"),
    ("S11", "E04", "SW17-01", 20.0, "solid", "bulk", 30.0, None, "铁屑"),
    ("S12", "E04", "900-041-49", 0.8, "solid", "bags", 2.0, 90.0, "含油废抹布及包装物"),
    ("S13", "E05", "SW17-03", 5.0, "solid", "bags", 10.0, None, "废纸包装"),
    ("S14", "E06", "900-252-12", 2.0, "sludge", "drums", 4.0, 90.0, "漆渣"),
    ("S15", "E06", "SW17-04", 6.0, "solid", "bags", 10.0, None, "废塑料包装"),
    ("S16", "E06", "900-052-31", 0.5, "solid", "drums", 2.0, 90.0, "废铅蓄电池"),
    ("S17", "E07", "SW13", 30.0, "sludge", "bulk", 12.0, 7.0, "食品残渣"),
    ("S18", "E07", "SW07", 20.0, "sludge", "bulk", 40.0, 30.0, "污水站污泥（一般）"),
    ("S19", "E08", "HW11", 3.0, "sludge", "drums", 6.0, 90.0, "精馏残渣"),
    ("S20", "E08", "HW50", 0.5, "solid", "drums", 2.0, 90.0, "废催化剂"),
    ("S21", "E08", "900-349-34", 5.0, "liquid", "tank", 8.0, 90.0, "废酸"),
)

#: id, name, kind, (x, y) or enterprise, codes, capacity t/yr, gate fee, price paid, licence
RECEIVERS: tuple[tuple[str, str, str, Any, str, float, float, float, str], ...] = (
    (
        "R01",
        "园区建材厂（粉煤灰、石膏利用）",
        "enterprise",
        "E05",
        "SW02;SW03;SW06",
        4000.0,
        0.0,
        15.0,
        "",
    ),
    (
        "R02",
        "水泥厂 Cement works (raw material)",
        "cement_kiln",
        (0.05, 0.90),
        "SW02;SW03;SW06;SW07",
        20000.0,
        0.0,
        5.0,
        "",
    ),
    (
        "R03",
        "一般工业固废填埋场 General landfill",
        "landfill",
        (0.95, 0.05),
        "SW02;SW03;SW06;SW07;SW13;SW59",
        float("inf"),
        60.0,
        0.0,
        "",
    ),
    (
        "R04",
        "再生金属回收 Scrap metal recycler",
        "recycler",
        (0.90, 0.85),
        "SW17-01;SW17-02",
        float("inf"),
        0.0,
        2000.0,
        "",
    ),
    (
        "R05",
        "再生纸塑回收 Paper and plastics recycler",
        "recycler",
        (0.85, 0.30),
        "SW17-03;SW17-04;SW17-05",
        2000.0,
        0.0,
        500.0,
        "",
    ),
    (
        "R06",
        "危废焚烧中心 Hazardous waste incinerator",
        "incinerator",
        (0.10, 0.10),
        "HW06;HW08;HW09;HW11;HW12;HW13;HW49;HW50",
        3000.0,
        3200.0,
        0.0,
        "示例-HW-0001",
    ),
    (
        "R07",
        "危废物化处理中心 Physico-chemical treatment",
        "treatment",
        (0.15, 0.12),
        "HW09;HW17;HW33;HW34;HW35",
        2000.0,
        2600.0,
        0.0,
        "示例-HW-0002",
    ),
    (
        "R08",
        "危废安全填埋场 Hazardous waste landfill",
        "landfill",
        (0.92, 0.95),
        "HW17;HW18;HW36;HW50",
        5000.0,
        2800.0,
        0.0,
        "示例-HW-0003",
    ),
    (
        "R09",
        "废铅蓄电池回收 Lead-acid battery recycler",
        "recycler",
        (0.08, 0.60),
        "HW31",
        500.0,
        0.0,
        7000.0,
        "示例-HW-0004",
    ),
    (
        "R10",
        "废矿物油再生 Waste oil regeneration",
        "recycler",
        (0.70, 0.95),
        "HW08",
        300.0,
        0.0,
        1500.0,
        "示例-HW-0005",
    ),
    (
        "R11",
        "水泥窑协同处置（无危废许可）Cement kiln without HW licence",
        "cement_kiln",
        (0.05, 0.88),
        "HW08;HW17;HW49",
        10000.0,
        1500.0,
        0.0,
        "",
    ),
    (
        "R12",
        "厨余厌氧消化厂 Anaerobic digestion",
        "treatment",
        (0.75, 0.10),
        "SW13",
        3000.0,
        150.0,
        0.0,
        "",
    ),
)

#: id, kind, hazmat licensed, compartments, t per compartment, cost/km, fixed/day
VEHICLES: tuple[tuple[str, str, bool, int, float, float, float], ...] = (
    ("V1-罐车", "tanker", True, 2, 5.0, 8.0, 900.0),
    ("V2-危货厢车", "box", True, 4, 1.5, 7.0, 800.0),
    ("V3-自卸车", "tipper", False, 1, 25.0, 6.0, 600.0),
    ("V4-自卸车", "tipper", False, 1, 25.0, 6.0, 600.0),
    ("V5-厢车", "box", False, 2, 3.0, 4.0, 400.0),
)

SITES: tuple[tuple[str, tuple[float, float], float], ...] = (
    ("C1", (0.45, 0.50), 60_000.0),
    ("C2", (0.25, 0.25), 45_000.0),
    ("C3", (0.70, 0.70), 50_000.0),
)


def _node(net: RoadNetwork, fx: float, fy: float) -> tuple[float, float]:
    west, south, east, north = net.bbox
    lon, lat = west + fx * (east - west), south + fy * (north - south)
    k = int(np.argmin((net.node_lon - lon) ** 2 + (net.node_lat - lat) ** 2))
    return round(float(net.node_lon[k]), 7), round(float(net.node_lat[k]), 7)


def example_park_doc(net: RoadNetwork, *, name: str = "示范园区 Example park") -> dict[str, Any]:
    """The example park as the YAML document :func:`recyclenet.parks.io.read_park` reads."""
    ents = []
    for eid, ename, (fx, fy), gates in ENTERPRISES:
        lon, lat = _node(net, fx, fy)
        ents.append({"id": eid, "name": ename, "lon": lon, "lat": lat, "gate_windows": gates})
    streams = [
        {
            "id": i,
            "enterprise_id": e,
            "code": c,
            "tonnes_per_month": t,
            "form": f,
            "packaging": p,
            "storage_limit_t": st,
            "storage_days": sd,
            "name": n,
        }
        for i, e, c, t, f, p, st, sd, n in STREAMS
    ]
    recs = []
    for rid, rname, kind, where, codes, cap, fee, price, lic in RECEIVERS:
        row: dict[str, Any] = {
            "id": rid,
            "name": rname,
            "kind": kind,
            "accepted_codes": codes,
            "capacity_t_per_year": cap if cap != float("inf") else "",
            "gate_fee_per_t": fee,
            "price_paid_per_t": price,
            "licence": lic,
            "gate_windows": "07:30-18:00",
        }
        if isinstance(where, str):
            row["enterprise_id"] = where
        else:
            row["lon"], row["lat"] = _node(net, *where)
        recs.append(row)
    dlon, dlat = _node(net, 0.5, 0.3)
    vehicles = [
        {
            "id": i,
            "kind": k,
            "hazmat_licensed": "yes" if h else "no",
            "compartments": c,
            "compartment_capacity_t": t,
            "depot_id": "D1",
            "shift": "07:00-18:00",
            "cost_per_km": ck,
            "fixed_cost_per_day": fd,
            "profile": "truck_18t",
        }
        for i, k, h, c, t, ck, fd in VEHICLES
    ]
    sites = []
    for sid, (fx, fy), fixed in SITES:
        lon, lat = _node(net, fx, fy)
        sites.append({"id": sid, "lon": lon, "lat": lat, "fixed_cost_per_year": fixed})
    return {
        "name": name,
        "crs": "wgs84",
        "settings": {
            "collection_days": ["mon", "tue", "wed", "thu", "fri"],
            "single_source": False,
            "transport_cost_per_t_km_general": 1.0,
            "transport_cost_per_t_km_hazardous": 3.0,
            "currency": "CNY",
            "transporter": "园区危废与固废统一收运中心",
        },
        "enterprises": ents,
        "streams": streams,
        "receivers": recs,
        "vehicles": vehicles,
        "depots": [{"id": "D1", "lon": dlon, "lat": dlat}],
        "sites": sites,
        "shared": {
            "kind": "transfer",
            "capacity_t_per_year": 600.0,
            "accepted_codes": [
                "HW08",
                "HW09",
                "HW11",
                "HW17",
                "HW33",
                "HW34",
                "HW35",
                "HW49",
                "HW50",
                "HW12",
                "HW31",
            ],
            "gate_fee_per_t": 150.0,
            "onward_cost_per_t": 60.0,
        },
    }
