"""The one place that reads CRM exports: files or SQL, checked row by row against the config.

Every problem is collected in one pass (up to a cap) with its file or table, row and column, so a
user fixes the export once instead of once per error. A file that is no table at all is one line
instead: a CSV must be UTF-8 (a BOM is fine), separated as its config section says, with cells of
at most 131,072 characters (the csv module's limit); a Parquet file must be whole.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from features import (
    ACTIVITY_TYPE,
    CLOSED_AT,
    CREATED_AT,
    LEAD_ID,
    OCCURRED_AT,
    STATUS,
    DataContractError,
    Problem,
    ValidationFailed,
    parquet_columns,
    parquet_files,
    read_numbers,
    series_to_micros,
)
from training.config import (
    ROW_ORDER,
    ActivitiesSection,
    DatasetConfig,
    LeadsSection,
    OutcomeSection,
    TableSource,
    parse_config,
)
from training.errors import UnreadableFile

PROBLEM_CAP = 100
_A_COLUMN = "a column of that name"
NUMERIC_SHARE = 0.95  # an undeclared column whose cells are nearly all numbers is numeric
NUMERIC_SLICE = 20_000  # cells read at a time to tell whether a column is numeric
POSITIVE_LABELS = frozenset({"1", "yes", "y", "true", "won", "win", "converted"})
NEGATIVE_LABELS = frozenset({"0", "no", "n", "false", "lost", "loss", "not converted"})
SNIFF_BYTES = 65_536  # the start of a file read to check its separator and encoding
SEPARATORS = (",", ";", "\t", "|")
_EMPTY = "is empty; expected column names and rows"
_NO_ROWS = "has no rows, only a header; expected a row per lead"


@dataclass(frozen=True)
class Table:
    """A table as read, with the row number a user sees for each frame row (file line for CSV)."""

    frame: pd.DataFrame
    rows: np.ndarray
    source: str
    # A table read from several Parquet files: each file's name, and each row's file in it.
    files: tuple[str, ...] = ()
    file_of_row: np.ndarray | None = None

    def source_of(self, position: int) -> str:
        """The file that frame row `position` came from."""
        if self.file_of_row is None:
            return self.source
        return self.files[int(self.file_of_row[position])]

    @property
    def positions(self) -> np.ndarray:
        """1, 2, 3... across the whole table: its row order, whatever file a row is in."""
        if self.file_of_row is None:
            return self.rows
        return np.arange(1, len(self.frame) + 1)


@dataclass(frozen=True)
class CrmExport:
    """An export in the canonical shape: `lead_id` (and `created_at`, when known) on leads."""

    leads: pd.DataFrame
    activities: pd.DataFrame | None
    outcomes: pd.DataFrame | None
    observed_until: int | None
    location: str
    labels: np.ndarray | None = None
    order: np.ndarray | None = None
    timestamp_columns: list[str] = field(default_factory=list)


class _Problems:
    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.items: list[Problem] = []
        self.total = 0

    def add(
        self, source: str, row: int | None, column: str | None, found: str, expected: str
    ) -> None:
        self.total += 1
        if len(self.items) < self.cap:
            self.items.append(Problem(source, row, column, found, expected))

    def cells(
        self, table: Table, column: str, bad: np.ndarray, expected: str, *, show: bool = True
    ) -> None:
        positions = np.flatnonzero(bad)
        listed = positions[: max(self.cap - len(self.items), 0)]
        # Only the cells listed are read: a column of millions is never copied to be checked.
        values = table.frame[column].iloc[listed].to_numpy() if len(listed) else []
        for position, value in zip(listed, values, strict=True):
            found = repr(value) if show else "an empty cell"
            self.add(table.source_of(position), int(table.rows[position]), column, found, expected)
        self.total += len(positions) - len(listed)


def read_source(
    source: TableSource, problems: _Problems | None = None, *, section: str | None = None
) -> Table:
    """Read one table. For CSV, rows with the wrong number of fields are reported and skipped.

    `section` is the dataset config section that sets this table's separator, for the hint when
    the file is separated by another; None for a file named on the command line.
    """
    path = source.path
    if path is None:
        return _read_sql(source)
    if path.is_dir() or any(c in str(path) for c in "*?["):
        return _read_parquet_files(path)
    if not path.is_file():
        raise DataContractError(f"expected a file, found nothing at {path}", source=source.name)
    if path.suffix not in (".parquet", ".csv", ".txt", ".tsv"):
        raise DataContractError(
            f"expected a .csv or .parquet file, got {path.name!r}", source=source.name
        )
    if path.stat().st_size == 0:
        raise UnreadableFile(_EMPTY, source=str(path))
    if path.suffix == ".parquet":
        frame = _read_parquet(path)
        return Table(frame, np.arange(1, len(frame) + 1), str(path))
    _check_start(path, source.separator, section)
    bad_lines = _scan_field_counts(path, source.separator, problems)
    frame = pd.read_csv(
        path,
        sep=source.separator,
        encoding="utf-8-sig",
        skiprows=sorted(bad_lines),
        skip_blank_lines=False,
        low_memory=False,
    )
    lines = np.arange(2, len(frame) + len(bad_lines) + 2)
    good = lines[~np.isin(lines, list(bad_lines))] if bad_lines else lines
    return Table(frame, good[: len(frame)], str(path))


def _read_parquet_files(location: Path) -> Table:
    """A folder of Parquet files, or a glob of them, read as one table in file-name order; each
    row keeps its file and its row there, so a problem names both."""
    files = parquet_files(location)
    frames = [_read_parquet(file) for file in files]
    sizes = [len(frame) for frame in frames]
    expected = list(frames[0].columns)
    for file, read in zip(files[1:], frames[1:], strict=True):
        if list(read.columns) != expected:
            raise DataContractError(
                f"expected the columns of {files[0].name} ({expected}), found "
                f"{list(read.columns)}; every file of a table has the same columns",
                source=str(file),
            )
    frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    return Table(
        frame,
        np.concatenate([np.arange(1, n + 1) for n in sizes]),
        str(location),
        tuple(map(str, files)),
        np.repeat(np.arange(len(files)), sizes),
    )


def _read_parquet(path: Path) -> pd.DataFrame:
    from pyarrow import ArrowException

    try:
        return pd.read_parquet(path)
    except (ArrowException, OSError) as error:
        detail = re.sub(r"^Could not open Parquet input source '.*?': ", "", str(error))
        reason = detail.partition("\n")[0].split(". ")[0].rstrip(".")
        raise UnreadableFile(
            f"is not a readable Parquet file ({reason}); export it again",
            source=str(path),
        ) from error


def _check_start(path: Path, separator: str, section: str | None) -> None:
    """Refuse UTF-16, a blank start and another separator than `separator`, from the first few
    KB only: a good file costs one small read; the rest of the checks are exceptions."""
    with path.open("rb") as handle:
        head = handle.read(SNIFF_BYTES)
    if (
        head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
        or head.count(0) > len(head) // 4
    ):
        raise UnreadableFile("is not UTF-8 (looks like UTF-16); save it as UTF-8", source=str(path))
    lines = head.decode("utf-8-sig", errors="replace").splitlines()
    if not any(line.strip() for line in lines):
        raise UnreadableFile(_EMPTY, source=str(path))
    if not lines[0].strip():
        raise UnreadableFile("line 1 is blank; expected the header there", source=str(path))
    if len(next(csv.reader(lines[:1], delimiter=separator))) > 1:
        return
    for other in SEPARATORS:
        # the header and the line after it (when there is one) split alike
        counts = {len(record) for record in csv.reader(lines[:2], delimiter=other)}
        if other != separator and len(counts) == 1 and counts.pop() > 1:
            fix = (
                f"save it {_separator_name(separator)}-separated"
                if section is None
                else f"set separator = {json.dumps(other)} in the [{section}] section of the "
                "dataset config"
            )
            raise UnreadableFile(
                f"looks like {_separator_name(other)}-separated, not "
                f"{_separator_name(separator)}-separated; {fix}",
                source=str(path),
            )


def _separator_name(separator: str) -> str:
    return "tab" if separator == "\t" else repr(separator)


def _scan_field_counts(path: Path, separator: str, problems: _Problems | None) -> set[int]:
    """Line numbers (0 = header) of records whose field count differs from the header's.

    This pass reads the whole file, so a byte that is not UTF-8 or a cell over the csv module's
    limit (131,072 characters unless raised) surfaces here, as one line naming the file.
    """
    bad: set[int] = set()
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle, delimiter=separator)
        try:
            header = next(reader)
            for record in reader:
                if len(record) != len(header):
                    line = reader.line_num
                    bad.add(line - 1)
                    if problems is not None:
                        problems.add(
                            str(path), line, None, f"{len(record)} fields", f"{len(header)} fields"
                        )
        except UnicodeDecodeError as error:
            raise UnreadableFile(_not_utf8(path, error), source=str(path)) from error
        except csv.Error as error:
            if not str(error).startswith("field larger than field limit"):
                raise
            raise UnreadableFile(_too_long(path, separator), source=str(path)) from error
    return bad


def _not_utf8(path: Path, error: UnicodeDecodeError) -> str:
    """The bad byte, and its line found by reading again: only a broken file pays for that."""
    where = ""
    with path.open("rb") as handle:
        for number, line in enumerate(handle, 1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                where = f" at line {number}"
                break
    byte = error.object[error.start]
    return f"byte 0x{byte:02x}{where} is not UTF-8 (latin-1 or Windows-1252?); save it as UTF-8"


def _too_long(path: Path, separator: str) -> str:
    """Where the record with the over-long cell starts and where the csv module gave up, by
    reading again (only a broken file pays for that): apart, they point at an unclosed quote."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle, delimiter=separator)
        start = 1
        with contextlib.suppress(csv.Error):
            for _ in reader:
                start = reader.line_num + 1
        end = reader.line_num
    limit = f"over {csv.field_size_limit():,} characters, the most a cell may hold"
    if start == end:
        return f"line {start} has a cell {limit}"
    return f"line {start} starts a cell that runs to line {end}, {limit} (an unclosed quote?)"


def _read_sql(source: TableSource) -> Table:
    from sqlalchemy import create_engine, text

    engine = create_engine(source.url)
    try:
        with engine.connect() as connection:
            if source.query is not None:
                frame = pd.read_sql(text(source.query), connection)
            else:
                frame = pd.read_sql_table(source.table, connection)
    except Exception as error:
        raise DataContractError(
            f"expected to read the {source.name} table, the database said: {error}",
            source=source.describe(),
        ) from error
    finally:
        engine.dispose()
    return Table(frame, np.arange(1, len(frame) + 1), source.describe())


def read_file(path: Path) -> pd.DataFrame:
    """One CSV or Parquet file as a frame; malformed rows are an error that names them."""
    problems = _Problems(PROBLEM_CAP)
    table = read_source(TableSource(path.stem, path=path.resolve()), problems)
    if problems.total:
        raise ValidationFailed(problems.items, problems.total)
    return table.frame


STAGE_COLUMNS = {"sal": "sal_at", "sql": "sql_at", "opportunity": "opportunity_at"}
OPEN_STATUSES = ("", "open")


def read_outcomes(
    path: Path, outcome: OutcomeSection | None = None, *, cap: int = PROBLEM_CAP
) -> pd.DataFrame:
    """A CRM export of what became of leads, checked row by row: `lead_id`, `status` (won,
    lost or open), `closed_at`, and the stage times `sal_at`, `sql_at`, `opportunity_at` where
    the file has those columns. The dataset config's [outcome] names the id, status and
    closed_at columns; a won or lost row needs its closed_at, an open row at least one stage."""
    id_column, status_column, closed_column = (
        (outcome.id, outcome.status, outcome.closed_at)
        if outcome is not None
        else ("lead_id", "status", "closed_at")
    )
    problems = _Problems(cap)
    table = read_source(TableSource(path.stem, path=path.resolve()), problems)
    if table.frame.empty and not problems.total:
        raise DataContractError(_NO_ROWS, source=table.source)
    _require_columns(table, [id_column, status_column, closed_column], problems)
    if problems.total:
        raise ValidationFailed(problems.items, problems.total)
    frame = table.frame
    _cells_missing(table, id_column, problems)
    status = (
        frame[status_column]
        .astype(object)
        .map(lambda v: "" if pd.isna(v) else str(v).strip().lower())
    )
    known = status.isin(["won", "lost", *OPEN_STATUSES]).to_numpy()
    problems.cells(table, status_column, ~known, "'won', 'lost', 'open' or empty")
    stage_columns = [column for column in STAGE_COLUMNS.values() if column in frame]
    times = {
        name: _timestamps_of(table, column, problems)
        for name, column in [("closed_at", closed_column)] + [(c, c) for c in stage_columns]
    }
    closed = (status != "open") & (status != "")
    problems.cells(
        table, closed_column, (closed & times["closed_at"].isna()).to_numpy(),
        "the time the lead was won or lost", show=False,
    )  # fmt: skip
    staged = np.zeros(len(frame), dtype=bool)
    for column in stage_columns:
        staged |= times[column].notna().to_numpy()
    problems.cells(
        table, status_column, (~closed).to_numpy() & ~staged,
        f"'won' or 'lost', or a stage time ({', '.join(STAGE_COLUMNS.values())}) for an open lead",
    )  # fmt: skip
    if problems.total:
        raise ValidationFailed(problems.items, problems.total)
    return pd.DataFrame(
        {
            LEAD_ID: frame[id_column].astype(object).map(_id_text).to_numpy(),
            STATUS: status.replace("", "open").to_numpy(),
            **{name: values.to_numpy() for name, values in times.items()},
        }
    )


def _id_text(value: object) -> str:
    """A CRM id as text: 7 and 7.0 (a number column read with a gap) are both "7"."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _timestamps_of(table: Table, column: str, problems: _Problems) -> pd.Series:
    """The column as UTC times (NaT where empty), each unreadable cell a problem."""
    _check_timestamps(table, column, problems, required=False)
    return pd.to_datetime(table.frame[column], utc=True, errors="coerce", format="mixed")


def load_dataset(config: DatasetConfig, *, cap: int = PROBLEM_CAP) -> CrmExport:
    """Read every table of `config`, check it row by row, and return the canonical export.

    Raises `ValidationFailed` listing every problem (up to `cap`) when anything is wrong. A leads
    table without rows is refused; activities and outcomes tables may have none, since an export
    taken before any activity or closed deal is still true (training's minimum per class says
    when too few leads have closed).
    """
    problems = _Problems(cap)
    leads_table = read_source(config.leads.source, problems, section="leads")
    # rows that were all malformed are problems that say more than "no rows"
    if leads_table.frame.empty and not problems.total:
        raise DataContractError(_NO_ROWS, source=leads_table.source)
    _require_columns(leads_table, _lead_columns(config), problems)
    outcomes_table = activities_table = None
    if config.outcome.source is not None:
        outcomes_table = read_source(config.outcome.source, problems, section="outcome")
        _require_columns(
            outcomes_table,
            [config.outcome.id, config.outcome.status, config.outcome.closed_at],
            problems,
        )
    if config.activities is not None:
        activities_table = read_source(config.activities.source, problems, section="activities")
        _require_columns(
            activities_table,
            [config.activities.id, config.activities.occurred_at, config.activities.type],
            problems,
        )
    if any(problem.expected == _A_COLUMN for problem in problems.items):
        raise ValidationFailed(problems.items, problems.total)  # rows cannot be checked

    leads, labels, order = _check_leads(leads_table, config.leads, config.outcome, problems)
    outcomes = _check_outcomes(outcomes_table, config.outcome, problems) if outcomes_table else None
    activities = (
        _check_activities(activities_table, config.activities, problems)
        if activities_table and config.activities
        else None
    )
    if problems.total:
        raise ValidationFailed(problems.items, problems.total)
    timestamp_columns = _timestamp_columns(leads, config.leads)
    observed = _observed_until(leads, activities, outcomes)
    return CrmExport(
        leads=leads,
        activities=activities,
        outcomes=outcomes,
        observed_until=observed,
        location=config.location,
        labels=labels,
        order=order,
        timestamp_columns=timestamp_columns,
    )


def _lead_columns(config: DatasetConfig) -> list[str]:
    leads = config.leads
    named = [leads.id, leads.created_at, config.outcome.label]
    if leads.order and leads.order != ROW_ORDER:
        named.append(leads.order)
    named += [*(leads.categorical or []), *(leads.numeric or []), *leads.text]
    return [column for column in named if column]


def _require_columns(table: Table, columns: list[str], problems: _Problems) -> None:
    present = set(table.frame.columns)
    for column in dict.fromkeys(columns):
        if column not in present:
            problems.add(
                table.source, None, column, f"no such column (found {sorted(present)})",
                _A_COLUMN,
            )  # fmt: skip


def _check_leads(
    table: Table, leads: LeadsSection, outcome: OutcomeSection, problems: _Problems
) -> tuple[pd.DataFrame, np.ndarray | None, np.ndarray | None]:
    frame = table.frame.copy()
    if leads.id:
        ids = frame[leads.id]
        _cells_missing(table, leads.id, problems)
        duplicated = ids.duplicated(keep="first").to_numpy() & ids.notna().to_numpy()
        problems.cells(table, leads.id, duplicated, "each lead id once (this one repeats)")
        lead_ids = ids.astype(object).map(lambda v: None if pd.isna(v) else str(v))
    else:
        lead_ids = pd.Series([str(row) for row in table.positions], dtype=object)
    if leads.created_at:
        _check_timestamps(table, leads.created_at, problems, required=True)
    for column in _numeric_columns(frame, leads, outcome):
        frame[column] = _numbers(table, column, problems, leads.placeholders)
    labels = None
    if outcome.label:
        text = (
            frame[outcome.label]
            .astype(object)
            .map(lambda v: None if pd.isna(v) else str(v).strip().lower())
        )
        empty = text.isna().to_numpy() | (text == "").to_numpy()
        problems.cells(table, outcome.label, empty, "a label (yes/no, 1/0, won/lost)", show=False)
        known = text.isin(POSITIVE_LABELS | NEGATIVE_LABELS).to_numpy()
        problems.cells(table, outcome.label, ~known & ~empty, "a label: yes/no, 1/0, won/lost")
        labels = text.isin(POSITIVE_LABELS).to_numpy().astype(np.int8)
        frame = frame.drop(columns=[outcome.label])
    order = None
    if leads.order == ROW_ORDER:
        order = table.positions.astype(np.int64)
    elif leads.order:
        order = _sortable(frame[leads.order])
    drop = [c for c in (leads.id, leads.created_at) if c]
    canonical = frame.drop(columns=drop)
    canonical.insert(0, LEAD_ID, lead_ids.to_numpy())
    if leads.created_at:
        canonical.insert(1, CREATED_AT, frame[leads.created_at].to_numpy())
    return canonical, labels, order


def _numbers(
    table: Table, column: str, problems: _Problems, placeholders: tuple[str, ...]
) -> np.ndarray:
    """A column read as the features read numbers; each refused cell is a problem."""
    parsed, refused = read_numbers(table.frame[column], placeholders=placeholders)
    problems.cells(table, column, refused, "a number")
    return parsed


def _numeric_columns(
    frame: pd.DataFrame, leads: LeadsSection, outcome: OutcomeSection
) -> list[str]:
    """Declared numeric columns or, when none are declared, those that look numeric."""
    if leads.numeric is not None:
        return list(leads.numeric)
    not_numeric = {leads.id, leads.created_at, leads.order, outcome.label, *leads.text}
    not_numeric |= set(leads.categorical or []) | set(leads.exclude)
    return [c for c in frame.columns if c not in not_numeric and _looks_numeric(frame[c])]


def _looks_numeric(values: pd.Series) -> bool:
    if pd.api.types.is_bool_dtype(values.dtype) or pd.api.types.is_datetime64_any_dtype(
        values.dtype
    ):
        return False
    if pd.api.types.is_numeric_dtype(values.dtype):
        return True
    present = values.dropna()
    if present.empty:
        return False
    # Read in slices, and stop once more cells than the share allows are not numbers: a text
    # column (names, e-mails) is told apart after a few slices, not after a million cells.
    refused, allowed = 0, (1 - NUMERIC_SHARE) * len(present) + 1
    for start in range(0, len(present), NUMERIC_SLICE):
        piece = present.iloc[start : start + NUMERIC_SLICE]
        refused += int(pd.to_numeric(piece, errors="coerce").isna().sum())
        if refused > allowed:
            return False
    return (len(present) - refused) / len(present) >= NUMERIC_SHARE


def _sortable(values: pd.Series) -> np.ndarray:
    numbers = pd.to_numeric(values, errors="coerce")
    if numbers.notna().all():
        return numbers.to_numpy(dtype=np.float64)
    stamps = pd.to_datetime(values, utc=True, errors="coerce", format="mixed")
    return stamps.astype("int64").to_numpy()


def _cells_missing(table: Table, column: str, problems: _Problems) -> None:
    values = table.frame[column]
    empty = values.isna().to_numpy()
    if isinstance(values.dtype, pd.StringDtype):  # blank text, found without a Python string
        empty = empty | (values.str.strip() == "").fillna(False).to_numpy(dtype=bool)
    elif values.dtype == object:
        empty = empty | (values.astype(object).map(str).str.strip() == "").to_numpy()
    problems.cells(table, column, empty, "a value", show=False)


def _check_timestamps(table: Table, column: str, problems: _Problems, *, required: bool) -> None:
    values = table.frame[column]
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        if required:
            problems.cells(table, column, values.isna().to_numpy(), "a timestamp", show=False)
        return
    parsed = pd.to_datetime(values, utc=True, errors="coerce", format="mixed")
    present = values.notna().to_numpy()
    problems.cells(
        table, column, parsed.isna().to_numpy() & present, "a timestamp like 2026-05-01 09:30"
    )
    if required:
        problems.cells(table, column, ~present, "a timestamp", show=False)


def _check_outcomes(table: Table, outcome: OutcomeSection, problems: _Problems) -> pd.DataFrame:
    frame = table.frame
    _cells_missing(table, outcome.id, problems)
    status = (
        frame[outcome.status]
        .astype(object)
        .map(lambda v: None if pd.isna(v) else str(v).strip().lower())
    )
    problems.cells(
        table, outcome.status, ~status.isin(["won", "lost"]).to_numpy(), "'won' or 'lost'"
    )
    _check_timestamps(table, outcome.closed_at, problems, required=True)
    return pd.DataFrame(
        {
            LEAD_ID: frame[outcome.id].astype(object).map(str).to_numpy(),
            STATUS: status.to_numpy(),
            CLOSED_AT: frame[outcome.closed_at].to_numpy(),
        }
    )


def _check_activities(
    table: Table, activities: ActivitiesSection, problems: _Problems
) -> pd.DataFrame:
    frame = table.frame
    _cells_missing(table, activities.id, problems)
    _cells_missing(table, activities.type, problems)
    _check_timestamps(table, activities.occurred_at, problems, required=True)
    ids = frame[activities.id]
    # Columns keep their types (ids as text): Arrow text and datetimes stay as they were read,
    # rather than becoming a Python object per event, which millions of events cannot afford.
    return pd.DataFrame(
        {
            LEAD_ID: ids if isinstance(ids.dtype, pd.StringDtype) else ids.astype(object).map(str),
            OCCURRED_AT: frame[activities.occurred_at],
            ACTIVITY_TYPE: frame[activities.type],
        }
    ).reset_index(drop=True)


def _timestamp_columns(leads: pd.DataFrame, config: LeadsSection) -> list[str]:
    """Lead columns holding dates or times: never features, but the leakage audit reads them."""
    declared = set(config.categorical or []) | set(config.numeric or []) | set(config.text)
    found = []
    for column in leads.columns:
        if column in (LEAD_ID, CREATED_AT) or column in declared:
            continue
        values = leads[column]
        if pd.api.types.is_datetime64_any_dtype(values.dtype):
            found.append(column)
        elif values.dtype == object or pd.api.types.is_string_dtype(values.dtype):
            sample = values.dropna().astype(str).head(200)
            looks_like_time = sample.str.len().ge(8).all() and sample.str.contains(r"\d").all()
            if len(sample) and looks_like_time:
                parsed = pd.to_datetime(sample, errors="coerce", format="mixed", utc=True)
                if parsed.notna().mean() >= 0.95:
                    found.append(column)
    return found


def _observed_until(
    leads: pd.DataFrame, activities: pd.DataFrame | None, outcomes: pd.DataFrame | None
) -> int | None:
    """The export was taken no earlier than its latest stamp: horizons end against this."""
    latest = []
    for frame, column in ((leads, CREATED_AT), (activities, OCCURRED_AT), (outcomes, CLOSED_AT)):
        if frame is not None and column in frame.columns and len(frame):
            latest.append(int(series_to_micros(frame[column], source="", column=column).max()))
    return max(latest) if latest else None


# The demo's actionable features and how a rep or a campaign can move them: engagement a team
# can ask for, not facts about the lead. A user marks their own in [next_steps]. "Today" is a
# day since: few training leads acted within the very hour they were scored, too few to support
# a move to 0.
DEMO_NEXT_STEPS: dict[str, object] = {
    "moves": {
        "demo_request_count_30d": {"action": "Offer a demo", "rise": 1},
        "meeting_booked_count_30d": {"action": "Book a meeting", "rise": 1},
        "pricing_page_view_count_30d": {"action": "Send the pricing page", "rise": 1},
        "webinar_attended_count_30d": {"action": "Get them to a webinar", "rise": 1},
        "days_since_last_demo_request": {"action": "Get a demo request today", "set": 1},
        "days_since_last_meeting_booked": {"action": "Meet them today", "set": 1},
        "days_since_last_pricing_page_view": {"action": "Bring them back to pricing today",
                                              "set": 1},
        "days_since_last_webinar_attended": {"action": "Get them to today's webinar", "set": 1},
    }
}  # fmt: skip


# The demo's account: the company domain each lead gave (also when it wrote from webmail).
DEMO_ACCOUNT_KEY = "company_domain"


def _header(path: Path) -> list[str]:
    """The column names of a CSV file, or of a Parquet file or folder of them."""
    if path.suffix == ".csv":
        return list(pd.read_csv(path, nrows=0).columns)
    return parquet_columns(path)


def demo_config(directory: str | Path) -> DatasetConfig:
    """The config of an export folder in the demo's layout (leads, activities, outcomes)."""
    folder = Path(directory)

    def table(name: str) -> str:
        for suffix in (".parquet", ".csv"):
            if (folder / f"{name}{suffix}").is_file():
                return f"{name}{suffix}"
        if (folder / name).is_dir():
            return name  # a folder of Parquet files
        raise DataContractError(
            f"expected {name}.parquet, {name}.csv or a folder {name}/ of Parquet files in "
            f"{folder}, found none; run `leadscore generate` for demo data",
            source=str(folder),
        )

    leads = table("leads")
    raw: dict[str, object] = {
        "dataset": {"name": folder.name},
        "leads": {"path": leads, "id": LEAD_ID, "created_at": CREATED_AT},
        "outcome": {"path": table("outcomes")},
    }
    if DEMO_ACCOUNT_KEY in _header(folder / leads):  # leads roll up to their company
        raw["accounts"] = {"key": DEMO_ACCOUNT_KEY}
    if (folder / "activities").is_dir() or any(
        (folder / f"activities{s}").is_file() for s in (".parquet", ".csv")
    ):
        raw["activities"] = {"path": table("activities")}
        raw["next_steps"] = DEMO_NEXT_STEPS
    return parse_config(raw, source=str(folder), base=folder)


def load_export(directory: str | Path) -> CrmExport:
    """Read an export folder in the demo's layout, checking every row."""
    return load_dataset(demo_config(directory))
