"""Feature declarations for a user's own export: from its config, else from its data."""

from __future__ import annotations

import pandas as pd

from features import ActivityCount, Attribute, DaysSinceLast, Feature, FeatureSet
from features.schema import ACTIVITY_TYPE, CREATED_AT, LEAD_ID
from features.transforms import category
from training.config import DatasetConfig
from training.data import CrmExport

MAX_ACTIVITY_TYPES = 20


def feature_set_for(config: DatasetConfig, export: CrmExport) -> FeatureSet:
    """One feature per usable lead column, plus counts and recency per activity type."""
    leads = export.leads
    skip = {LEAD_ID, CREATED_AT, *config.leads.exclude, *export.timestamp_columns}
    if config.leads.order:
        skip.add(config.leads.order)
    groups = config.leads.groups
    features: list[Feature] = []
    categorical = config.leads.categorical
    for column in leads.columns:
        if column in skip:
            continue
        group = groups.get(column, "fit")
        pretty = column.replace("_", " ")
        if column in config.leads.text:
            transform = config.leads.text[column]
            features.append(
                Feature(
                    column,
                    group,
                    f"{pretty} ({transform}).",
                    Attribute(column, transform=transform),
                )
            )
        elif pd.api.types.is_numeric_dtype(leads[column].dtype) and not (
            categorical is not None and column in categorical
        ):
            features.append(
                Feature(column, group, f"The lead's {pretty}.", Attribute(column, kind="numeric"))
            )
        elif categorical is None or column in categorical:
            features.append(Feature(column, group, f"The lead's {pretty}.", Attribute(column)))
    if export.activities is not None:
        features += _activity_features(export.activities)
    return FeatureSet(tuple(features))


def _activity_features(activities: pd.DataFrame) -> list[Feature]:
    counts = activities[ACTIVITY_TYPE].map(category).value_counts()
    types = sorted(counts.index[:MAX_ACTIVITY_TYPES])
    features = [
        Feature(
            "activity_count_total", "engagement", "Number of recorded activities so far.",
            ActivityCount(tuple(types)),
        ),
        Feature(
            "days_since_last_activity", "engagement", "Days since the lead last did anything.",
            DaysSinceLast(tuple(types)),
        ),
    ]  # fmt: skip
    for kind in types:
        pretty = kind.replace("_", " ")
        features.append(
            Feature(
                f"{kind}_count_30d", "engagement", f"Number of {pretty} events in 30 days.",
                ActivityCount((kind,), 30.0),
            )
        )  # fmt: skip
        features.append(
            Feature(
                f"days_since_last_{kind}", "engagement", f"Days since the lead's last {pretty}.",
                DaysSinceLast((kind,)),
            )
        )  # fmt: skip
    return features
