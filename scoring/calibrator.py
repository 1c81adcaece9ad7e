"""Turning the booster's raw margin into an honest probability."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Calibrator:
    """Platt scaling of the booster's raw margin: monotone, so it keeps the ranking intact."""

    slope: float
    intercept: float

    def probability(self, margin: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-(self.slope * margin + self.intercept)))
