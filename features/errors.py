"""Every exception leadscore raises about data and models, in one place.

    LeadscoreError
    ├── DataContractError      an export breaks the data contract (names file, row, column)
    │   └── ValidationFailed   every problem one validation pass found, each with file, row, column
    ├── InsufficientData       too few won or lost leads to learn from
    ├── InvalidLeadError       one live lead cannot be scored as sent (names the field)
    └── ModelArtifactError     a model artifact is missing, corrupt or of another version

Messages read "expected X, got Y; do Z" so the reader knows what to fix.
"""

from __future__ import annotations

from dataclasses import dataclass


class LeadscoreError(Exception):
    """Base class: catch this to handle any leadscore failure."""


class DataContractError(LeadscoreError):
    """A table of a CRM export does not match the data contract."""

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        self.source = source
        self.row = row
        self.column = column
        where = ", ".join(
            part
            for part in (
                source,
                f"row {row}" if row is not None else None,
                f"column {column!r}" if column else None,
            )
            if part
        )
        super().__init__(f"{where}: {message}" if where else message)


@dataclass(frozen=True)
class Problem:
    """One bad cell, row or column of an export."""

    source: str
    row: int | None
    column: str | None
    found: str
    expected: str

    def __str__(self) -> str:
        where = ", ".join(
            part
            for part in (
                self.source,
                f"row {self.row}" if self.row is not None else None,
                f"column {self.column!r}" if self.column else None,
            )
            if part
        )
        return f"{where}: expected {self.expected}, got {self.found}"


class ValidationFailed(DataContractError):
    """Validation found problems; `problems` lists them (up to the cap), `total` counts all."""

    def __init__(self, problems: list[Problem], total: int) -> None:
        self.problems = problems
        self.total = total
        more = f" (showing the first {len(problems)})" if total > len(problems) else ""
        lines = "\n".join(f"  {problem}" for problem in problems)
        super().__init__(f"{total} problem(s) in the data{more}:\n{lines}")


class InsufficientData(LeadscoreError):
    """Too few labelled leads of one class to train an honest model."""


class InvalidLeadError(LeadscoreError):
    """A live lead has a value the features cannot use; `field` names it for the API's 422."""

    def __init__(self, message: str, *, field: str) -> None:
        self.field = field
        super().__init__(f"{field}: {message}")


class ModelArtifactError(LeadscoreError):
    """A saved model cannot be loaded as a leadscore scorer."""
