"""Errors of training, under `features.LeadscoreError`.

LeadscoreError
├── DataContractError      (features)
│   └── UnreadableFile     a file is not a table leadscore can read (names file and problem)
├── ConfigError            a dataset config or policy file is wrong (names file and key)
├── InsufficientData       too few won or lost leads to learn from
├── UnusableSplit          a split without both won and lost leads
└── RegistryError          the model registry cannot do what was asked
    └── NoPreviousChampion nothing to roll back to
"""

from __future__ import annotations

from features import DataContractError, LeadscoreError


class ConfigError(LeadscoreError):
    """A config file says something leadscore cannot use; the message names file and key."""

    def __init__(self, message: str, *, source: str | None = None, key: str | None = None) -> None:
        self.source = source
        self.key = key
        where = ": ".join(part for part in (source, key) if part)
        super().__init__(f"{where}: {message}" if where else message)


class UnreadableFile(DataContractError):
    """A file that cannot be read as a table at all (separator, encoding, a huge cell, corrupt
    Parquet, no content): one line naming the file, since no row or column can be checked."""


class InsufficientData(LeadscoreError):
    """Too few labelled leads of one class to train an honest model."""


class UnusableSplit(LeadscoreError):
    """A time split holds only won or only lost leads, so it cannot fit or grade a model."""


class RegistryError(LeadscoreError):
    """The MLflow registry refused or lacks what a command needs."""


class NoPreviousChampion(RegistryError):
    """`rollback` found no earlier champion."""
