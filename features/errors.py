"""Every exception leadscore raises about data and models, in one place.

    LeadscoreError
    ├── DataContractError      an export breaks the data contract (names file, row, column)
    ├── InvalidLeadError       one live lead cannot be scored as sent (names the field)
    └── ModelArtifactError     a model artifact is missing, corrupt or of another version

Messages read "expected X, got Y; do Z" so the reader knows what to fix.
"""

from __future__ import annotations


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


class InvalidLeadError(LeadscoreError):
    """A live lead has a value the features cannot use; `field` names it for the API's 422."""

    def __init__(self, message: str, *, field: str) -> None:
        self.field = field
        super().__init__(f"{field}: {message}")


class ModelArtifactError(LeadscoreError):
    """A saved model cannot be loaded as a leadscore scorer."""
