"""Timestamps as integer microseconds since the epoch, UTC.

Both feature engines reduce time to the same integers so that their outputs are bit-identical;
naive timestamps are read as UTC, since CRM exports rarely say otherwise.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd

from features.errors import DataContractError, InvalidLeadError

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
    elif isinstance(value, int | np.integer) and not isinstance(value, bool):
        return int(value)
    else:
        raise InvalidLeadError(
            f"expected an ISO 8601 timestamp, got {type(value).__name__}", field=field
        )
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - EPOCH) // ONE_MICROSECOND


def series_to_micros(values: pd.Series, *, source: str, column: str) -> np.ndarray:
    """A column of timestamps as int64 epoch microseconds; unparseable cells name their row."""
    if pd.api.types.is_integer_dtype(values.dtype):
        return values.to_numpy(dtype=np.int64)
    parsed = pd.to_datetime(values, utc=True, errors="coerce", format="mixed")
    bad = parsed.isna() & values.notna()
    if bad.any():
        position = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataContractError(
            f"expected a timestamp such as 2026-05-01 09:30:00, got {values.iloc[position]!r}",
            source=source,
            row=position + 1,
            column=column,
        )
    if parsed.isna().any():
        position = int(np.flatnonzero(parsed.isna().to_numpy())[0])
        raise DataContractError(
            "expected a timestamp, got an empty cell",
            source=source,
            row=position + 1,
            column=column,
        )
    return parsed.dt.tz_localize(None).astype("datetime64[us]").to_numpy().astype(np.int64)


def micros_to_datetime(micros: int) -> datetime:
    """Epoch microseconds back to an aware UTC datetime."""
    return EPOCH + timedelta(microseconds=int(micros))
