"""Timestamps as integer microseconds since the epoch, UTC, in plain Python.

Both feature engines reduce time to the same integers so that their outputs are bit-identical;
naive timestamps are read as UTC, since CRM exports rarely say otherwise. (The batch engine's
column-at-once version is `features.batch.series_to_micros`.)
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from numbers import Integral

from features.errors import InvalidLeadError

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ONE_MICROSECOND = timedelta(microseconds=1)
MICROS_PER_DAY = 86_400_000_000
MICROS_PER_HOUR = MICROS_PER_DAY // 24
# The first and last epoch microseconds a datetime holds (years 1 to 9999): the moments that have a
# weekday, an hour and a month in both engines.
FIRST_MICROS = (datetime.min.replace(tzinfo=UTC) - EPOCH) // ONE_MICROSECOND
LAST_MICROS = (datetime.max.replace(tzinfo=UTC) - EPOCH) // ONE_MICROSECOND


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


def calendar_micros(value: object, *, field: str) -> int | None:
    """A timestamp whose calendar parts a feature reads, as `to_micros` reads it, or None when
    missing. The batch engine words its refusals with this, so both engines say the same."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # epoch microseconds from a file, where a column with gaps holds floats
    micros = to_micros(value, field=field)  # type: ignore[arg-type]  # refuses what it cannot read
    if not FIRST_MICROS <= micros <= LAST_MICROS:
        raise InvalidLeadError(
            f"expected epoch microseconds within the years 1 to 9999, got {micros}", field=field
        )
    return micros


def micros_to_datetime(micros: int) -> datetime:
    """Epoch microseconds back to an aware UTC datetime."""
    return EPOCH + timedelta(microseconds=int(micros))


def window_micros(window_days: float) -> int:
    """A window in days as whole microseconds, computed the same way by both engines."""
    return round(window_days * MICROS_PER_DAY)
