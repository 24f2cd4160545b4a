"""Allocation: which receiver takes how much of each stream, at least cost.

The model (a transportation problem, a MIP when single-sourced), in tonnes/year::

    min  Σ_(s,r) c_sr x_sr + M Σ_s u_s
    s.t. Σ_r x_sr + u_s = T_s              every stream s (T_s its tonnes/year)
         Σ_s x_sr      <= K_r             every receiver r with a finite capacity
         x_sr >= 0, u_s >= 0;  single-source: x_sr = T_s y_sr, y binary, u_s = T_s v_s

    c_sr = rate(s) × road distance(s's enterprise → r) / 1000 + gate fee_r − price paid_r

over the eligible pairs only: r accepts the stream's code (or its category), holds a
hazardous waste operating licence when the stream is hazardous, is not the stream's own
enterprise, and is reachable by road. ``rate`` is the park's transport cost per t·km
(general or hazardous). ``M`` (above any |c|) makes placing every tonne come first, so
``u`` is non-zero only when capacities cannot take everything; each stream left
unplaced is reported with its reason, or (``unplaced="raise"``) the allocation raises
an :class:`InputError` naming the streams, receivers and tonnes.

Solved with HiGHS through OR-Tools (:func:`recyclenet.siting._ortools.solve_mip`, the one
adapter), which reports the optimum and its proven bound. A flow to a receiver that is
a park enterprise (``enterprise_id``) is a by-product exchange.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from ..errors import InputError
from ..matrix import Matrix
from ..siting._ortools import solve_mip
from ..siting.linear_model import LinearModel
from .model import Park, Receiver, Stream, ids_text

AllocationStatus = Literal["optimal", "feasible", "infeasible", "time_limit_no_solution"]
Unplaced = Literal["raise", "report"]

#: Tonnes below which a flow counts as zero.
EPS_T = 1e-6


@dataclass(frozen=True)
class Flow:
    """Tonnes/year of one stream sent to one receiver.

    Attributes
    ----------
    stream_id, enterprise_id, receiver_id, code : str
    tonnes_per_year : float
    distance_m : float
        Road distance from the enterprise's gate to the receiver.
    transport_cost_per_t, fee_per_t : float
        Transport cost and net fee (gate fee − price paid) per tonne.
    exchange : bool
        The receiver is a park enterprise using the material (by-product exchange).
    """

    stream_id: str
    enterprise_id: str
    receiver_id: str
    code: str
    tonnes_per_year: float
    distance_m: float
    transport_cost_per_t: float
    fee_per_t: float
    exchange: bool

    @property
    def cost_per_year(self) -> float:
        """Transport plus net fee, per year."""
        return self.tonnes_per_year * (self.transport_cost_per_t + self.fee_per_t)


@dataclass(frozen=True)
class UnplacedStream:
    """Tonnes/year of a stream no receiver can take, and why."""

    stream_id: str
    tonnes_per_year: float
    reason: str


@dataclass(frozen=True)
class Allocation:
    """Streams to receivers; status, cost and proven bound.

    Attributes
    ----------
    flows : tuple of Flow
    unplaced : tuple of UnplacedStream
    status : {"optimal", "feasible", "infeasible", "time_limit_no_solution"}
    cost_per_year : float
        Σ flows' transport + net fees (the objective without the unplaced penalty).
    bound : float
        Proven lower bound on that cost for the tonnes placed.
    gap : float
    single_source : bool
    time_s : float
    solver, message : str
    """

    flows: tuple[Flow, ...]
    unplaced: tuple[UnplacedStream, ...]
    status: AllocationStatus
    cost_per_year: float
    bound: float
    gap: float
    single_source: bool
    time_s: float
    solver: str = "highs"
    message: str = ""

    def flows_of(self, stream_id: str) -> tuple[Flow, ...]:
        """The flows of one stream."""
        return tuple(f for f in self.flows if f.stream_id == stream_id)

    def load_by_receiver(self) -> dict[str, float]:
        """Tonnes/year per receiver."""
        out: dict[str, float] = {}
        for f in self.flows:
            out[f.receiver_id] = out.get(f.receiver_id, 0.0) + f.tonnes_per_year
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""

        def num(x: float) -> float | None:
            return float(x) if math.isfinite(x) else None

        return {
            "status": self.status,
            "cost_per_year": num(self.cost_per_year),
            "bound": num(self.bound),
            "gap": num(self.gap),
            "single_source": self.single_source,
            "time_s": round(self.time_s, 3),
            "solver": self.solver,
            "message": self.message,
            "flows": [
                {
                    "stream_id": f.stream_id,
                    "enterprise_id": f.enterprise_id,
                    "receiver_id": f.receiver_id,
                    "code": f.code,
                    "tonnes_per_year": f.tonnes_per_year,
                    "distance_m": num(f.distance_m),
                    "transport_cost_per_t": f.transport_cost_per_t,
                    "fee_per_t": f.fee_per_t,
                    "cost_per_year": f.cost_per_year,
                    "exchange": f.exchange,
                }
                for f in self.flows
            ],
            "unplaced": [
                {"stream_id": u.stream_id, "tonnes_per_year": u.tonnes_per_year, "reason": u.reason}
                for u in self.unplaced
            ],
        }


def location_of(park: Park, receiver: Receiver) -> str:
    """The matrix id of a receiver: its enterprise's gate for an exchange partner."""
    return receiver.enterprise_id or receiver.id


def transport_rate(park: Park, stream: Stream) -> float:
    """Transport cost per tonne-km of a stream (general or hazardous rate)."""
    s = park.settings
    return (
        s.transport_cost_per_t_km_hazardous
        if park.is_hazardous(stream)
        else s.transport_cost_per_t_km_general
    )


def _distance(matrix: Matrix, a: str, b: str) -> float:
    try:
        i = matrix.origin_ids.index(a)
        j = matrix.destination_ids.index(b)
    except ValueError:
        raise InputError(
            f"the matrix lacks {a!r} -> {b!r}; build it over every enterprise and receiver"
        ) from None
    return float(matrix.distance_m[i, j])


def _candidates(park: Park, stream: Stream) -> tuple[list[Receiver], str]:
    """Receivers whose codes and licence allow the stream (no road needed), or why none."""
    code = park.code_of(stream)
    haz = code.kind == "hazardous"
    accepting = [r for r in park.receivers if r.accepts(code)]
    if not accepting:
        return [], (
            f"no receiver accepts code {code.code} ({code.name_en} / {code.name_zh}); "
            f"add a receiver whose accepted_codes include {code.code} or {code.category}"
        )
    licensed = [r for r in accepting if r.licence or not haz]
    if not licensed:
        return [], (
            f"hazardous code {code.code}: receivers {ids_text([r.id for r in accepting])} "
            "accept it but hold no hazardous waste operating licence "
            "(危险废物经营许可证); give the licence number or add a licensed receiver"
        )
    others = [r for r in licensed if r.enterprise_id != stream.enterprise_id]
    if not others:
        return [], (
            f"the only receivers of code {code.code} are its own enterprise "
            f"{stream.enterprise_id!r}"
        )
    return others, ""


def unplaceable(park: Park) -> list[UnplacedStream]:
    """Streams no receiver may take whatever the roads (codes, licences): checked first."""
    out = []
    for s in park.streams:
        recs, why = _candidates(park, s)
        if not recs:
            out.append(UnplacedStream(s.id, s.tonnes_per_year, why))
    return out


def check_placeable(park: Park) -> None:
    """Raise an :class:`InputError` naming every stream :func:`unplaceable` finds."""
    left = unplaceable(park)
    if left:
        raise InputError(
            "streams that cannot be placed: "
            + "; ".join(f"{u.stream_id}: {u.reason}" for u in left)
        )


def eligible(park: Park, stream: Stream, matrix: Matrix) -> tuple[list[Receiver], str]:
    """Receivers that may take the stream, and, when there are none, the reason why."""
    others, why = _candidates(park, stream)
    if not others:
        return [], why
    reach = [
        r
        for r in others
        if math.isfinite(_distance(matrix, stream.enterprise_id, location_of(park, r)))
    ]
    if not reach:
        return [], (
            f"receivers {ids_text([r.id for r in others])} cannot be reached by road "
            f"from enterprise {stream.enterprise_id!r}"
        )
    return reach, ""


def _greedy_single_source(
    n: int,
    k: int,
    pi: npt.NDArray[np.int64],
    pr: npt.NDArray[np.int64],
    unit: npt.NDArray[np.float64],
    tonnes: npt.NDArray[np.float64],
    caps: npt.NDArray[np.float64],
) -> npt.NDArray[np.float64]:
    """A single-source incumbent in the MIP's variable order: largest streams first, each
    to its cheapest receiver with room left (else unplaced), then moves of one stream to a
    cheaper receiver with room, and swaps of two streams between receivers, until none
    lowers the cost."""
    left = caps.copy()
    at = np.full(n, -1, dtype=np.int64)  # chosen pair per stream
    by_stream = [np.nonzero(pi == i)[0] for i in range(n)]
    for i in np.argsort(-tonnes, kind="stable"):
        for p in by_stream[i][np.argsort(unit[by_stream[i]], kind="stable")]:
            if left[pr[p]] + EPS_T >= tonnes[i]:
                left[pr[p]] -= tonnes[i]
                at[i] = p
                break
    improved = True
    rounds = 0
    while improved and rounds < 50:
        improved, rounds = False, rounds + 1
        for i in range(n):
            cur = unit[at[i]] if at[i] >= 0 else math.inf
            for p in by_stream[i]:
                if unit[p] < cur - 1e-9 and left[pr[p]] + EPS_T >= tonnes[i]:
                    if at[i] >= 0:
                        left[pr[at[i]]] += tonnes[i]
                    left[pr[p]] -= tonnes[i]
                    at[i], cur, improved = p, unit[p], True
        if improved or n > 400:  # swaps are quadratic: only small parks, when moves stall
            continue
        for a in range(n):
            for b in range(a + 1, n):
                pa, pb = at[a], at[b]
                if pa < 0 or pb < 0 or pr[pa] == pr[pb]:
                    continue
                qa = next((p for p in by_stream[a] if pr[p] == pr[pb]), -1)
                qb = next((p for p in by_stream[b] if pr[p] == pr[pa]), -1)
                if qa < 0 or qb < 0:
                    continue
                gain = tonnes[a] * (unit[pa] - unit[qa]) + tonnes[b] * (unit[pb] - unit[qb])
                room_a = left[pr[pb]] + tonnes[b] - tonnes[a]
                room_b = left[pr[pa]] + tonnes[a] - tonnes[b]
                if gain > 1e-9 and room_a >= -EPS_T and room_b >= -EPS_T:
                    left[pr[pb]], left[pr[pa]] = room_a, room_b
                    at[a], at[b], improved = qa, qb, True
    values = np.zeros(k + n)
    for i in range(n):
        if at[i] >= 0:
            values[at[i]] = 1.0
        else:
            values[k + i] = 1.0
    return values


def allocate(
    park: Park,
    matrix: Matrix,
    *,
    single_source: bool | None = None,
    unplaced: Unplaced = "raise",
    time_limit_s: float = 20.0,
) -> Allocation:
    """Allocate every stream to receivers at least cost (see the module docstring).

    Parameters
    ----------
    park : Park
    matrix : Matrix
        Road distances (``distance_m``) from every enterprise id to every receiver
        location (receiver id, or the enterprise id of an exchange partner).
    single_source : bool, optional
        Each stream to one receiver; default: the park's setting.
    unplaced : {"raise", "report"}
        ``raise``: an :class:`InputError` naming every stream that cannot be placed, with
        its reason; ``report``: a plan with those streams in ``Allocation.unplaced``.
    time_limit_s : float

    Returns
    -------
    Allocation
    """
    if unplaced not in ("raise", "report"):
        raise InputError(f"unplaced must be 'raise' or 'report', got {unplaced!r}")
    t0 = time.perf_counter()
    single = park.settings.single_source if single_source is None else bool(single_source)
    streams = park.streams
    tonnes = np.array([s.tonnes_per_year for s in streams])
    rec_pos = {r.id: j for j, r in enumerate(park.receivers)}
    pairs: list[tuple[int, int, float, float, float]] = []  # s, r, dist, transport, fee
    left: list[UnplacedStream] = []
    for i, s in enumerate(streams):
        recs, why = eligible(park, s, matrix)
        if single:
            big = [r for r in recs if r.capacity_t_per_year + EPS_T >= s.tonnes_per_year]
            if recs and not big:
                why = (
                    f"{s.tonnes_per_year:g} t/year is above the capacity of every receiver "
                    f"that can take it ({ids_text([r.id for r in recs])}) and single "
                    "sourcing is on; allow split allocation or add capacity"
                )
            recs = big
        if not recs:
            left.append(UnplacedStream(s.id, s.tonnes_per_year, why))
        for r in recs:
            d = _distance(matrix, s.enterprise_id, location_of(park, r))
            pairs.append(
                (i, rec_pos[r.id], d, transport_rate(park, s) * d / 1000.0, r.net_fee_per_t)
            )
    if left and unplaced == "raise":
        raise InputError(
            "streams that cannot be placed: "
            + "; ".join(f"{u.stream_id}: {u.reason}" for u in left)
        )
    n, k = len(streams), len(pairs)
    pi = np.array([p[0] for p in pairs], dtype=np.int64)
    pr = np.array([p[1] for p in pairs], dtype=np.int64)
    unit = np.array([p[3] + p[4] for p in pairs], dtype=np.float64)
    penalty = 1000.0 + 10.0 * float(np.abs(unit).max(initial=0.0))
    coef = tonnes[pi] if single else np.ones(k)
    ucoef = tonnes if single else np.ones(n)
    # variables: k pair variables, then n unplaced variables
    rows = [pi, np.arange(n)]
    cols = [np.arange(k), k + np.arange(n)]
    vals = [np.ones(k), np.ones(n)] if single else [coef, ucoef]
    caps = np.array([r.capacity_t_per_year for r in park.receivers])
    finite_cap = np.nonzero(np.isfinite(caps))[0]
    cap_row = {int(j): n + t for t, j in enumerate(finite_cap)}
    sel = np.array([int(j) in cap_row for j in pr], dtype=bool)
    rows.append(np.array([cap_row[int(j)] for j in pr[sel]], dtype=np.int64))
    cols.append(np.nonzero(sel)[0])
    vals.append(coef[sel])
    a = sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
        shape=(n + len(finite_cap), k + n),
    )
    rhs = tonnes if not single else np.ones(n)
    upper = np.concatenate([tonnes if not single else np.ones(n), caps[finite_cap]])
    lower = np.concatenate([rhs, np.full(len(finite_cap), -np.inf)])
    model = LinearModel(
        var_lb=np.zeros(k + n),
        var_ub=np.concatenate(
            [
                np.full(k, np.inf) if not single else np.ones(k),
                np.full(n, np.inf) if not single else np.ones(n),
            ]
        ),
        obj=np.concatenate([unit * coef, penalty * ucoef]),
        is_integer=np.concatenate([np.full(k, single), np.full(n, single)]),
        A=a,
        row_lb=lower,
        row_ub=upper,
    )
    # the solver gets less than the limit: the adapter kills it GRACE_S after the limit,
    # and a loaded machine makes HiGHS overrun (seen on 200 x 20 single-source parks)
    res = solve_mip(model, time_limit_s=max(0.5, 0.8 * time_limit_s))
    values = res.values
    solver = res.solver
    if single:
        greedy = _greedy_single_source(n, k, pi, pr, unit, tonnes, caps)
        g_obj = float(model.obj @ greedy)
        if values is None or g_obj < float(model.obj @ values) - 1e-9 * max(1.0, abs(g_obj)):
            values, solver = greedy, f"greedy ({solver} found {res.status})"
    if values is None:
        status: AllocationStatus = (
            "infeasible" if res.status == "infeasible" else "time_limit_no_solution"
        )
        return Allocation(
            (),
            tuple(left),
            status,
            math.nan,
            res.bound,
            math.nan,
            single,
            time.perf_counter() - t0,
            res.solver,
            res.error or f"no allocation found ({res.status})",
        )
    res = replace(
        res, values=values, solver=solver, status=res.status if values is res.values else "feasible"
    )
    x = values[:k] * coef
    u = values[k:] * ucoef
    flows = []
    for p in range(k):
        if x[p] > EPS_T:
            s = streams[int(pi[p])]
            r = park.receivers[int(pr[p])]
            flows.append(
                Flow(
                    s.id,
                    s.enterprise_id,
                    r.id,
                    park.code_of(s).code,
                    float(x[p]),
                    pairs[p][2],
                    pairs[p][3],
                    pairs[p][4],
                    bool(r.enterprise_id),
                )
            )
    placed_by_pairs = {s.id for s in streams} - {x.stream_id for x in left}
    for iu in np.nonzero(u > EPS_T)[0]:
        i = int(iu)
        s = streams[i]
        if s.id not in placed_by_pairs:
            continue
        rec_ids = sorted({park.receivers[int(j)].id for j in pr[pi == i]})
        cap = sum(park.receivers_by_id[r].capacity_t_per_year for r in rec_ids)
        left.append(
            UnplacedStream(
                s.id,
                float(u[i]),
                (
                    f"{u[i]:.6g} of {s.tonnes_per_year:g} t/year left: the receivers that "
                    "can take it "
                    f"({ids_text(rec_ids)}, {cap:g} t/year together) are full with the "
                    "streams they take at lower cost; add capacity or a receiver"
                ),
            )
        )
    left.sort(key=lambda x: x.stream_id)
    if left and unplaced == "raise":
        raise InputError(
            "receiver capacity is below the streams' total: "
            + "; ".join(f"{x.stream_id}: {x.reason}" for x in left)
        )
    shift = penalty * float(u.sum())
    cost = float(sum(f.cost_per_year for f in flows))
    bound = res.bound - shift if math.isfinite(res.bound) else math.nan
    if res.status == "optimal":
        bound = min(bound, cost) if math.isfinite(bound) else cost
    elif single and not left:
        # the split optimum bounds every single-source plan that places everything
        split = allocate(
            park,
            matrix,
            single_source=False,
            unplaced="report",
            time_limit_s=max(1.0, time_limit_s - (time.perf_counter() - t0)),
        )
        if split.status == "optimal" and not split.unplaced:
            bound = max(bound, split.cost_per_year) if math.isfinite(bound) else split.cost_per_year
    gap = abs(cost - bound) / max(abs(cost), 1e-9) if math.isfinite(bound) else math.nan
    status = "optimal" if res.status == "optimal" else "feasible"
    if status == "optimal":
        msg = f"proven optimal (bound {bound:.6g})"
    elif math.isfinite(gap):
        msg = f"time limit reached, gap {100 * gap:.3g}% ({res.solver})"
    else:
        msg = f"time limit reached without a proven bound ({res.solver})"
    return Allocation(
        tuple(flows),
        tuple(left),
        status,
        cost,
        bound,
        gap,
        single,
        time.perf_counter() - t0,
        res.solver,
        msg,
    )


def check_allocation(park: Park, allocation: Allocation) -> list[str]:
    """Every rule an allocation breaks; empty when none.

    Independent of the model: each flow's receiver accepts the stream's code, holds a
    licence for hazardous waste and is not the stream's own enterprise; receivers stay
    within capacity; each stream's flows plus its unplaced tonnes equal its generation;
    the reported cost is the sum of the flows'.
    """
    errors: list[str] = []
    streams = park.streams_by_id
    recs = park.receivers_by_id
    for f in allocation.flows:
        s, r = streams.get(f.stream_id), recs.get(f.receiver_id)
        if s is None or r is None:
            errors.append(f"flow {f.stream_id} -> {f.receiver_id}: unknown stream or receiver")
            continue
        code = park.code_of(s)
        if not r.accepts(code):
            errors.append(f"flow {s.id} -> {r.id}: {r.id} does not accept {code.code}")
        if code.kind == "hazardous" and not r.licence:
            errors.append(f"flow {s.id} -> {r.id}: hazardous waste to an unlicensed receiver")
        if r.enterprise_id and r.enterprise_id == s.enterprise_id:
            errors.append(f"flow {s.id} -> {r.id}: to its own enterprise")
        if f.tonnes_per_year < 0:
            errors.append(f"flow {s.id} -> {r.id}: negative tonnes")
    for rid, t in allocation.load_by_receiver().items():
        cap = recs[rid].capacity_t_per_year
        if t > cap * (1 + 1e-7) + 1e-6:
            errors.append(f"receiver {rid}: {t:.6g} t/year > capacity {cap:g}")
    unplaced: dict[str, float] = {}
    for u in allocation.unplaced:
        unplaced[u.stream_id] = unplaced.get(u.stream_id, 0.0) + u.tonnes_per_year
    for s in park.streams:
        got = sum(f.tonnes_per_year for f in allocation.flows_of(s.id)) + unplaced.get(s.id, 0.0)
        if abs(got - s.tonnes_per_year) > 1e-6 * max(1.0, s.tonnes_per_year):
            errors.append(f"stream {s.id}: {got:.6g} t/year accounted, {s.tonnes_per_year:g} made")
        if allocation.single_source and len(allocation.flows_of(s.id)) > 1:
            errors.append(f"stream {s.id}: split over receivers although single-sourced")
    total = sum(f.cost_per_year for f in allocation.flows)
    if abs(total - allocation.cost_per_year) > 1e-6 * max(1.0, abs(total)):
        errors.append(f"cost {allocation.cost_per_year:.6g} != sum of flows {total:.6g}")
    return errors
