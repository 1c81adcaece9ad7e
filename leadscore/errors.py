"""Errors of the command and the demo generator, under `features.LeadscoreError`.

LeadscoreError
└── DemoDataError      a demo export cannot be made as asked
"""

from __future__ import annotations

from features import LeadscoreError


class DemoDataError(LeadscoreError):
    """`leadscore generate` was asked for something it cannot make."""
