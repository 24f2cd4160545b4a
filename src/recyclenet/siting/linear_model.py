"""A solver-neutral (mixed-integer) linear model: numpy arrays and a scipy CSR matrix.

The formulations (:mod:`._models`, the joint two-tier model) build it; only the adapter
(:mod:`._ortools`) turns it into a solver's model, so no formulation imports OR-Tools.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp


@dataclass(frozen=True)
class LinearModel:
    """A (mixed-integer) linear model: min or max ``obj @ x + obj_offset``.

    Subject to ``row_lb <= A @ x <= row_ub`` and ``var_lb <= x <= var_ub``, with
    ``x[is_integer]`` integer. Use ``±inf`` for absent bounds.
    """

    var_lb: npt.NDArray[np.float64]
    var_ub: npt.NDArray[np.float64]
    obj: npt.NDArray[np.float64]
    is_integer: npt.NDArray[np.bool_]
    A: sp.csr_matrix
    row_lb: npt.NDArray[np.float64]
    row_ub: npt.NDArray[np.float64]
    maximize: bool = False
    obj_offset: float = 0.0

    @property
    def n_vars(self) -> int:
        """Number of variables."""
        return int(self.obj.size)
