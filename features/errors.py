"""The root of every leadscore exception, and the ones about data and features.

    LeadscoreError                 catch this to handle any leadscore failure
    ├── DataContractError          an export breaks the data contract (names file, row, column)
    │   └── ValidationFailed       every problem one validation pass found
    ├── InvalidLeadError           one live lead cannot be scored as sent (names the field)
    ├── InvalidFeatureError        a feature declaration that cannot be computed
    └── BadValue                   one cell a feature cannot read (each engine says where)

Each other package adds its own branch in its `errors` module (scoring, training, serving).
Messages read "expected X, got Y; do Z" so the reader knows what to fix.
"""

from __future__ import annotations

from dataclasses import dataclass


class LeadscoreError(Exception):
    """Base class: catch this to handle any leadscore failure."""


def _where(source: str | None, row: int | None, column: str | None) -> str:
    parts = (
        source,
        f"row {row}" if row is not None else None,
        f"column {column!r}" if column else None,
    )
    return ", ".join(part for part in parts if part)


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
        self.detail = message
        where = _where(source, row, column)
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
        where = _where(self.source, self.row, self.column)
        return f"{where}: expected {self.expected}, got {self.found}"


class ValidationFailed(DataContractError):
    """Validation found problems; `problems` lists them (up to the cap), `total` counts all."""

    def __init__(self, problems: list[Problem], total: int) -> None:
        self.problems = problems
        self.total = total
        more = f" (showing the first {len(problems)})" if total > len(problems) else ""
        lines = "\n".join(f"  {problem}" for problem in problems)
        super().__init__(f"{total} problem(s) in the data{more}:\n{lines}")


class InvalidLeadError(LeadscoreError):
    """A live lead has a value the features cannot use; `field` names it for the API's 422."""

    def __init__(self, message: str, *, field: str) -> None:
        self.field = field
        self.detail = message
        super().__init__(f"{field}: {message}")


class InvalidFeatureError(LeadscoreError):
    """A feature declaration names a transform that does not exist, or repeats a name."""


class BadValue(LeadscoreError):
    """A value no feature can read; the batch engine adds file, row and column, the online
    engine the field."""
