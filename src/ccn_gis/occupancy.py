"""Occupancy and the other rates of the figures: one formula, read everywhere.

Occupancy is leased industrial land ÷ industrial land (DATA_MODEL.md); it has no value
— ``None`` in JSON, NaN in a column — where there is no industrial land, never 0. The
same holds for the other rates (occupancy of recovered land, capital realised). The
figures, the published layers (and so the API, the tiles, the downloads and the web map),
the scenario projection and the notebooks take them from here.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt


def rate(part: float, whole: float, /) -> float | None:
    """``part ÷ whole``, or ``None`` when ``whole`` is not positive.

    Examples
    --------
    >>> rate(41.3, 100.0)
    0.413
    >>> rate(0.0, 0.0) is None
    True
    """
    return float(part / whole) if whole > 0 else None


def rates(part: npt.ArrayLike, whole: npt.ArrayLike, /) -> np.ndarray:
    """:func:`rate` element by element, NaN where ``whole`` is not positive (or NaN).

    Examples
    --------
    >>> rates([1.0, 0.0, 2.0], [4.0, 0.0, float("nan")]).tolist()
    [0.25, nan, nan]
    """
    part, whole = np.asarray(part, dtype="float64"), np.asarray(whole, dtype="float64")
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(whole > 0, part / whole, np.nan)


occupancy = rate
"""A cluster's or a unit's occupancy: ``occupancy(leased_ha, industrial_ha)``."""
