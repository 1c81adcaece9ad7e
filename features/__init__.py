"""Point-in-time lead features: the data contract, the feature declarations, their transforms,
and the batch and online engines that compute them. Nothing about models lives here: no
LightGBM, no MLflow, and nothing else of leadscore is imported. The batch engine (and pandas
with it) loads on first use, so `import features.online` stays light for serving.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from features.definitions import (
    DATE_PARTS,
    DECLARED_TYPES,
    DEFAULT_COLUMNS,
    DEFAULT_FEATURES,
    GROUPS,
    ActivityComputation,
    ActivityCount,
    ActivityRatio,
    Attribute,
    CreatedAt,
    DatePart,
    DaysSinceLast,
    DecayedIntent,
    DeclaredType,
    Feature,
    FeatureSet,
    Group,
    Kind,
    LeadColumn,
    activity_features,
    activity_types_of,
    date_features,
    declared_feature,
    feature_set,
)
from features.errors import (
    BadValue,
    DataContractError,
    InvalidFeatureError,
    InvalidLeadError,
    LeadscoreError,
    Problem,
    ValidationFailed,
)
from features.online import FeatureValue, OnlineFeatures, Unused
from features.schema import (
    ACTIVITY_TYPE,
    ACTIVITY_TYPES,
    CLOSED_AT,
    CREATED_AT,
    HIGH_INTENT_ACTIVITIES,
    LEAD_ID,
    LOST,
    OCCURRED_AT,
    STATUS,
    WON,
)
from features.timestamps import (
    MICROS_PER_DAY,
    ONE_MICROSECOND,
    micros_to_datetime,
    to_micros,
    window_micros,
)
from features.transforms import (
    DEFAULT_PLACEHOLDERS,
    MISSING_TEXT,
    TRANSFORMS,
    category,
    number,
    placeholder_key,
)

if TYPE_CHECKING:
    from features.accounts import (
        ACCOUNT_COLUMNS,
        ACCOUNT_FEATURE_NAMES,
        AccountBook,
        account_features,
    )
    from features.batch import (
        build_features,
        numbers,
        placeholder_counts,
        read_numbers,
        series_to_micros,
    )
    from features.partitions import (
        ORIGIN,
        bucket_features,
        bucket_rows,
        buckets_of,
        parquet_columns,
        parquet_files,
        read_bucket,
        write_buckets,
    )

# Names that need pandas, each with its module: imported on first use.
_LAZY = {
    **dict.fromkeys(
        ("build_features", "numbers", "placeholder_counts", "read_numbers", "series_to_micros"),
        "features.batch",
    ),
    **dict.fromkeys(
        ("ORIGIN", "bucket_features", "bucket_rows", "buckets_of", "parquet_columns",
         "parquet_files", "read_bucket", "write_buckets"),
        "features.partitions",
    ),
    **dict.fromkeys(
        ("ACCOUNT_COLUMNS", "ACCOUNT_FEATURE_NAMES", "AccountBook", "account_features"),
        "features.accounts",
    ),
}  # fmt: skip

__all__ = [
    "ACCOUNT_COLUMNS",
    "ACCOUNT_FEATURE_NAMES",
    "ACTIVITY_TYPE",
    "ACTIVITY_TYPES",
    "CLOSED_AT",
    "CREATED_AT",
    "DATE_PARTS",
    "DECLARED_TYPES",
    "DEFAULT_COLUMNS",
    "DEFAULT_FEATURES",
    "DEFAULT_PLACEHOLDERS",
    "GROUPS",
    "HIGH_INTENT_ACTIVITIES",
    "LEAD_ID",
    "LOST",
    "MICROS_PER_DAY",
    "MISSING_TEXT",
    "OCCURRED_AT",
    "ONE_MICROSECOND",
    "ORIGIN",
    "STATUS",
    "TRANSFORMS",
    "WON",
    "AccountBook",
    "ActivityComputation",
    "ActivityCount",
    "ActivityRatio",
    "Attribute",
    "BadValue",
    "CreatedAt",
    "DataContractError",
    "DatePart",
    "DaysSinceLast",
    "DecayedIntent",
    "DeclaredType",
    "Feature",
    "FeatureSet",
    "FeatureValue",
    "Group",
    "InvalidFeatureError",
    "InvalidLeadError",
    "Kind",
    "LeadColumn",
    "LeadscoreError",
    "OnlineFeatures",
    "Problem",
    "Unused",
    "ValidationFailed",
    "account_features",
    "activity_features",
    "activity_types_of",
    "bucket_features",
    "bucket_rows",
    "buckets_of",
    "build_features",
    "category",
    "date_features",
    "declared_feature",
    "feature_set",
    "micros_to_datetime",
    "number",
    "numbers",
    "parquet_columns",
    "parquet_files",
    "placeholder_counts",
    "placeholder_key",
    "read_bucket",
    "read_numbers",
    "series_to_micros",
    "to_micros",
    "window_micros",
    "write_buckets",
]


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_LAZY[name]), name)
