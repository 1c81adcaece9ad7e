"""Errors of the model runtime, under `features.LeadscoreError`.

LeadscoreError
├── ModelArtifactError     a saved model is missing, corrupt, or not a leadscore model
├── InvalidRule            a policy rule that cannot be read
├── SettingsError          a LEADSCORE_* variable holds a value it cannot (names it)
├── StoreError             the MLflow store is missing or cannot be reached (names the URI)
├── TablesTooLarge         trees too deep for TreeSHAP tables: the scorer uses pred_contrib
└── ClusterError           a Dask cluster cannot be reached or started as asked (names it)
"""

from __future__ import annotations

from features import LeadscoreError


class ModelArtifactError(LeadscoreError):
    """A saved model cannot be loaded as a leadscore scorer."""


class InvalidRule(LeadscoreError):
    """A rule of the policy is not `feature op value`."""


class SettingsError(LeadscoreError):
    """The environment configures leadscore with a value it cannot use."""


class StoreError(LeadscoreError):
    """The MLflow store named by LEADSCORE_MLFLOW_TRACKING_URI is absent or unreachable: said in
    one line and at once, rather than after MLflow's minutes of retries or by creating it."""


class TablesTooLarge(LeadscoreError):
    """The booster's trees are too deep for tables; explain it with pred_contrib instead."""


class ClusterError(LeadscoreError):
    """`--dask` names a cluster that cannot be reached or started: said in one line, naming the
    address, rather than as Dask's own timeout."""
