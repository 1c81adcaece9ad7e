"""Which columns of a user's export become features: read from its config, else from its data.

The features themselves come from `features.feature_set`, the generator the default features
use too; this module only decides each column's kind, transform and group, and appends the
features the config declares (`[[features]]`), built by `features.declared_feature` as the
default activity features are.
"""

from __future__ import annotations

import pandas as pd

from features import (
    ACCOUNT_COLUMNS,
    ACTIVITY_TYPE,
    ACTIVITY_TYPES,
    CREATED_AT,
    DEFAULT_COLUMNS,
    HIGH_INTENT_ACTIVITIES,
    LEAD_ID,
    Feature,
    FeatureSet,
    LeadColumn,
    category,
    feature_set,
    series_to_micros,
)
from training.config import AccountsSection, DatasetConfig
from training.data import CrmExport
from training.errors import ConfigError

MAX_ACTIVITY_TYPES = 20
YEAR_US = 365 * 86_400_000_000


def feature_set_for(config: DatasetConfig, export: CrmExport) -> FeatureSet:
    """One feature per usable lead column, the date parts of created_at, counts and recency per
    activity type, then the features the config declares. A declared activity type the export
    lacks is no mistake: its activities count 0, as for a lead without any."""
    defaults = feature_set(
        lead_columns(config, export),
        activity_types(export),
        date_parts=date_parts(export),
        placeholders=config.leads.placeholders,
    )
    accounts = [c.feature() for c in ACCOUNT_COLUMNS] if config.accounts is not None else []
    return FeatureSet(
        (*defaults, *declared_features(config, defaults), *accounts),
        placeholders=defaults.placeholders,
    )


def declared_features(config: DatasetConfig, defaults: FeatureSet) -> list[Feature]:
    """The config's `[[features]]`, in order; one named as a default feature is refused, since a
    model cannot tell two inputs of one name apart."""
    taken = set(defaults.names)
    for position, declared in enumerate(config.features):
        if declared.name in taken:
            raise ConfigError(
                f"expected a name other than the default feature {declared.name!r} "
                f"({defaults[declared.name].description.rstrip('.')})",
                source=config.location,
                key=f"[features][{position}] name",
            )
    return [declared.feature() for declared in config.features]


def demo_feature_set(export: CrmExport, accounts: AccountsSection | None = None) -> FeatureSet:
    """The demo's declared columns, then every other lead column, as a user's export offers them:
    the leakage audit decides which of these reach the model. With `accounts`, the account
    features, and never the account key itself (an id of thousands of values)."""
    declared = {column.column for column in DEFAULT_COLUMNS}
    skip = {LEAD_ID, CREATED_AT, *declared, *export.timestamp_columns}
    if accounts is not None:
        skip.add(accounts.key)
    others = [_inferred(column, export.leads[column]) for column in export.leads.columns
              if column not in skip]  # fmt: skip
    own = list(ACCOUNT_COLUMNS) if accounts is not None else []
    return feature_set(
        [*DEFAULT_COLUMNS, *others, *own],
        ACTIVITY_TYPES,
        recency_types=HIGH_INTENT_ACTIVITIES,
        date_parts=date_parts(export),
    )


def date_parts(export: CrmExport) -> tuple[str, ...]:
    """Weekday and hour of creation, and the month once the export covers a whole year."""
    if CREATED_AT not in export.leads.columns:
        return ()
    created = series_to_micros(export.leads[CREATED_AT], source="leads", column=CREATED_AT)
    if len(created) == 0:
        return ()
    covers_a_year = int(created.max()) - int(created.min()) >= YEAR_US
    return ("weekday", "hour", "month") if covers_a_year else ("weekday", "hour")


def _inferred(column: str, values: pd.Series) -> LeadColumn:
    return LeadColumn(column, "numeric" if _is_number(values) else "categorical")


def lead_columns(config: DatasetConfig, export: CrmExport) -> list[LeadColumn]:
    """The lead columns offered to the model, in the export's order, with kind and group."""
    leads = export.leads
    skip = {LEAD_ID, CREATED_AT, *config.leads.exclude, *export.timestamp_columns}
    if config.accounts is not None:  # the account key is an id; its features come instead
        skip.add(config.accounts.key)
    if config.leads.order:
        skip.add(config.leads.order)
    groups = config.leads.group_of
    categorical = config.leads.categorical
    transforms = list(config.leads.text.values())
    columns = []
    for column in leads.columns:
        if column in skip:
            continue
        group = groups.get(column, "fit")
        if column in config.leads.text:
            transform = config.leads.text[column]
            name = _named(transform, transforms)
            columns.append(LeadColumn(column, transform=transform, group=group, name=name))
        elif _is_number(leads[column]) and not (categorical is not None and column in categorical):
            columns.append(LeadColumn(column, "numeric", group=group))
        elif categorical is None or column in categorical:
            columns.append(LeadColumn(column, group=group))
    return columns


# A column parsed into seniority or business-vs-webmail is named after what it became, as the
# demo's columns are: a policy's "seniority in [...]" then means the same in every model.
NAMED_TRANSFORMS = frozenset({"seniority", "email_kind"})


def _named(transform: str, transforms: list[str]) -> str | None:
    """The feature's name when its transform names it (once in the config), else the column's."""
    return transform if transform in NAMED_TRANSFORMS and transforms.count(transform) == 1 else None


def _is_number(values: pd.Series) -> bool:
    """Numbers are numeric; yes/no columns read as the categories "true" and "false"."""
    dtype = values.dtype
    return pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)


def activity_types(export: CrmExport) -> list[str]:
    """The most frequent activity types (up to 20), in alphabetical order."""
    if export.activities is None:
        return []
    counts = export.activities[ACTIVITY_TYPE].map(category).value_counts()
    return sorted(counts.index[:MAX_ACTIVITY_TYPES])
