"""Errors of the command and the demo generator, under `features.LeadscoreError`.

LeadscoreError
├── DemoDataError      a demo export cannot be made as asked
├── NoModel            no model to score with at the model URI
└── ScoringInputError  a file to score cannot be scored as asked
"""

from __future__ import annotations

from features import LeadscoreError


class DemoDataError(LeadscoreError):
    """`leadscore generate` was asked for something it cannot make."""


class NoModel(LeadscoreError):
    """No registered model answers the model URI: nothing to score with yet."""


class ScoringInputError(LeadscoreError):
    """`leadscore score` was given a file or an output it cannot use as asked."""
