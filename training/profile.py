"""The data profile: how full each offered lead column is, and which form placeholders ("Select",
"--", "N/A") were read as missing, so a user sees what the model could not use."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import pandas as pd

from features import FeatureSet, placeholder_counts


@dataclass(frozen=True)
class DataProfile:
    leads: int
    filled: dict[str, float]  # share of leads with a value, placeholders counted as missing
    placeholders: dict[str, dict[str, int]]  # column -> placeholder as written -> count

    def lines(self) -> list[str]:
        """One plain line per column that held placeholders."""
        return [
            f"{column}: "
            + ", ".join(f"{text!r} x{count:,}" for text, count in found.items())
            + " read as missing"
            for column, found in self.placeholders.items()
        ]

    def to_dict(self) -> dict:
        return asdict(self)


def profile(leads: pd.DataFrame, feature_set: FeatureSet) -> DataProfile:
    """The profile of the lead columns `feature_set` reads."""
    columns = [c for c in feature_set.lead_columns() if c in leads.columns]
    found = placeholder_counts(leads, columns, feature_set.placeholders)
    total = max(len(leads), 1)
    filled = {
        column: round(
            (int(leads[column].notna().sum()) - sum(found.get(column, {}).values())) / total, 4
        )
        for column in columns
    }
    return DataProfile(len(leads), filled, found)
