"""Point-in-time lead features: the data contract, declarations, and the engines that compute them.

This package imports nothing else of leadscore; training and serving both build on it.
"""

from features.batch import build_features
from features.definitions import (
    DEFAULT_FEATURES,
    GROUPS,
    ActivityCount,
    Attribute,
    DaysSinceLast,
    Feature,
    FeatureSet,
)
from features.encoding import FeatureEncoder
from features.errors import (
    DataContractError,
    InvalidLeadError,
    LeadscoreError,
    ModelArtifactError,
)
from features.labels import HORIZON, SNAPSHOT_DELAY, LabelCounts, make_examples
from features.online import OnlineFeatures
from features.policy import Policy
from features.scoring import Calibrator, LeadScorer, Reason, ScoredLead

__all__ = [
    "DEFAULT_FEATURES",
    "GROUPS",
    "HORIZON",
    "SNAPSHOT_DELAY",
    "ActivityCount",
    "Attribute",
    "Calibrator",
    "DataContractError",
    "DaysSinceLast",
    "Feature",
    "FeatureEncoder",
    "FeatureSet",
    "InvalidLeadError",
    "LabelCounts",
    "LeadScorer",
    "LeadscoreError",
    "ModelArtifactError",
    "OnlineFeatures",
    "Policy",
    "Reason",
    "ScoredLead",
    "build_features",
    "make_examples",
]
