"""The exceptions recyclenet raises.

Every error a user can cause is an :class:`InputError` (a :class:`ValueError`) whose
message names the offending file, ids or fields and says what would fix it. The CLI
prints the message on one line; the service maps it to an HTTP 4xx.
"""

from __future__ import annotations


class RecyclenetError(Exception):
    """Base class of every error recyclenet raises on purpose."""


class InputError(RecyclenetError, ValueError):
    """Input that cannot be used as given (file, coordinates, ids, options)."""


class NetworkError(InputError):
    """A road network that cannot be loaded or does not serve the request."""


class LimitError(InputError):
    """Input over a resource limit (decompressed size, element count, memory).

    Attributes
    ----------
    limit : str
        Name of the limit (``max_decompressed_bytes``, ``max_elements``, ...).
    value : float
        The limit's value, in the unit its name says.
    """

    def __init__(self, message: str, *, limit: str, value: float) -> None:
        super().__init__(message)
        self.limit = limit
        self.value = value


class SnapError(NetworkError):
    """Points that cannot be placed on the road network.

    Attributes
    ----------
    ids : list of str
        Ids of the offending points.
    """

    def __init__(self, message: str, ids: list[str]) -> None:
        super().__init__(message)
        self.ids = ids


class SolverError(RecyclenetError):
    """A solver failed in a way the input does not explain."""


class InfeasibleError(InputError):
    """The problem as stated has no solution; the message says which constraint."""
