"""Timestamps as integer microseconds since the epoch, UTC, in plain Python.

Both feature engines reduce time to the same integers so that their outputs are bit-identical;
naive timestamps are read as UTC, since CRM exports rarely say otherwise. (The batch engine's
column-at-once version is `features.batch.series_to_micros`.)
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from numbers import Integral

from features.errors import InvalidLeadError

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ONE_MICROSECOND = timedelta(microseconds=1)
MICROS_PER_DAY = 86_400_000_000


def to_micros(value: datetime | str | int, *, field: str = "timestamp") -> int:
    """One timestamp (datetime, ISO 8601 text or epoch microseconds) as epoch microseconds."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise InvalidLeadError(
                f"expected an ISO 8601 timestamp such as 2026-05-01T09:30:00Z, got {value!r}",
                field=field,
            ) from None
    elif isinstance(value, Integral) and not isinstance(value, bool):
        return int(value)
    else:
        raise InvalidLeadError(
            f"expected an ISO 8601 timestamp, got {type(value).__name__}", field=field
        )
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - EPOCH) // ONE_MICROSECOND


def micros_to_datetime(micros: int) -> datetime:
    """Epoch microseconds back to an aware UTC datetime."""
    return EPOCH + timedelta(microseconds=int(micros))


def window_micros(window_days: float) -> int:
    """A window in days as whole microseconds, computed the same way by both engines."""
    return round(window_days * MICROS_PER_DAY)
