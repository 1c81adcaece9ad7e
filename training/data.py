"""The one place that reads CRM exports from disk."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from features.errors import DataContractError
from features.schema import ACTIVITIES, LEADS, OUTCOMES, TableContract
from features.timestamps import series_to_micros

_SUFFIXES = (".parquet", ".csv")


@dataclass(frozen=True)
class CrmExport:
    """The three tables of an export and the moment it was taken (epoch microseconds)."""

    leads: pd.DataFrame
    activities: pd.DataFrame | None
    outcomes: pd.DataFrame
    observed_until: int
    location: str


def read_table(path: Path) -> pd.DataFrame:
    """A Parquet or CSV file as a DataFrame."""
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    if path.suffix == ".csv":
        return pd.read_csv(path)
    raise DataContractError(
        f"expected a .parquet or .csv file, got {path.name!r}", source=str(path)
    )


def find_table(directory: Path, name: str) -> Path | None:
    for suffix in _SUFFIXES:
        candidate = directory / f"{name}{suffix}"
        if candidate.is_file():
            return candidate
    return None


def load_export(directory: str | Path) -> CrmExport:
    """Read `leads`, `activities` (optional) and `outcomes` from a folder, checking the contract."""
    folder = Path(directory)
    if not folder.is_dir():
        raise DataContractError(
            f"expected a folder holding leads and outcomes tables, found nothing at {folder}; "
            "run `leadscore generate` for demo data",
            source=str(folder),
        )
    tables: dict[str, pd.DataFrame | None] = {}
    for contract in (LEADS, ACTIVITIES, OUTCOMES):
        path = find_table(folder, contract.name)
        if path is None:
            if contract is ACTIVITIES:
                tables[contract.name] = None
                continue
            raise DataContractError(
                f"expected {contract.name}.parquet or {contract.name}.csv, found neither",
                source=str(folder),
            )
        frame = read_table(path)
        _check_columns(frame, contract, str(path))
        tables[contract.name] = frame
    leads, activities, outcomes = tables["leads"], tables["activities"], tables["outcomes"]
    assert leads is not None and outcomes is not None
    duplicated = leads["lead_id"].duplicated()
    if duplicated.any():
        row = int(np.flatnonzero(duplicated.to_numpy())[0])
        raise DataContractError(
            f"expected each lead_id once, got {leads['lead_id'].iloc[row]!r} again",
            source=str(find_table(folder, "leads")),
            row=row + 1,
            column="lead_id",
        )
    return CrmExport(
        leads=leads,
        activities=activities,
        outcomes=outcomes,
        observed_until=_latest_timestamp(tables),
        location=str(folder),
    )


def _check_columns(frame: pd.DataFrame, contract: TableContract, source: str) -> None:
    missing = [column for column in contract.required if column not in frame.columns]
    if missing:
        raise DataContractError(
            f"expected columns {list(contract.required)}, missing {missing} "
            f"(found {list(frame.columns)})",
            source=source,
            column=missing[0],
        )


def _latest_timestamp(tables: dict[str, pd.DataFrame | None]) -> int:
    """The export was taken no earlier than its latest stamp: horizons end against this."""
    latest = []
    for contract in (LEADS, ACTIVITIES, OUTCOMES):
        frame = tables[contract.name]
        if frame is None or frame.empty:
            continue
        for column in contract.timestamps:
            values = series_to_micros(frame[column], source=contract.name, column=column)
            latest.append(int(values.max()))
    return max(latest)
