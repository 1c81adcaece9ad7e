"""A file that cannot be read as a table is one line naming the file and what is wrong with it:
the separator, the encoding, a huge cell, a corrupt Parquet file, or no content."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest

from features import DataContractError, ValidationFailed
from training import load_config, load_dataset, read_file
from training.errors import UnreadableFile

LEADS = "id,city,size,won\na,Berlin,10,yes\nb,Paris,3,no\n"


def _parquet() -> bytes:
    buffer = io.BytesIO()
    pd.DataFrame({"id": [f"l{i}" for i in range(1000)], "size": range(1000)}).to_parquet(buffer)
    return buffer.getvalue()


PARQUET = _parquet()
# kind: (file name, content, what the one line says after the file's path)
BAD_FILES: dict[str, tuple[str, bytes, str]] = {
    "semicolons": (
        "leads.csv", LEADS.replace(",", ";").encode(), "looks like ';'-separated, not ','-separated"
    ),
    "tabs": (
        "leads.csv", LEADS.replace(",", "\t").encode(),
        "looks like tab-separated, not ','-separated",
    ),
    "latin-1": (
        "leads.csv", LEADS.replace("Paris", "Besançon").encode("latin-1"),
        "byte 0xe7 at line 3 is not UTF-8 (latin-1 or Windows-1252?); save it as UTF-8",
    ),
    "windows-1252": (
        "leads.csv", LEADS.replace("Paris", "“Paris”").encode("cp1252"),
        "byte 0x93 at line 3 is not UTF-8 (latin-1 or Windows-1252?); save it as UTF-8",
    ),
    "utf-16 with a BOM": (
        "leads.csv", LEADS.encode("utf-16"), "is not UTF-8 (looks like UTF-16); save it as UTF-8"
    ),
    "utf-16-le without a BOM": (
        "leads.csv", LEADS.encode("utf-16-le"), "is not UTF-8 (looks like UTF-16); save it as UTF-8"
    ),
    "utf-16-be without a BOM": (
        "leads.csv", LEADS.encode("utf-16-be"), "is not UTF-8 (looks like UTF-16); save it as UTF-8"
    ),
    "a huge cell": (
        "leads.csv", LEADS.replace("Paris", "x" * 200_000).encode(),
        "line 3 has a cell over 131,072 characters, the most a cell may hold",
    ),
    "an unclosed quote": (
        "leads.csv", (LEADS.replace("Paris", '"Paris') + "c,Rome,5,no\n" * 12_000).encode(),
        "line 3 starts a cell that runs to line",
    ),
    "random bytes as parquet": (
        "leads.parquet", bytes(range(256)) * 8,
        "is not a readable Parquet file (Parquet magic bytes not found in footer); export it again",
    ),
    "a truncated parquet file": (
        "leads.parquet", PARQUET[: len(PARQUET) // 2], "is not a readable Parquet file (",
    ),
    "a parquet file with a corrupt page": (
        "leads.parquet", PARQUET[:4] + bytes(200) + PARQUET[204:],
        "is not a readable Parquet file (",
    ),
    "an empty csv file": ("leads.csv", b"", "is empty; expected column names and rows"),
    "a csv file of blank lines": ("leads.csv", b"\n\n", "is empty; expected column names and rows"),
    "a blank first line": (
        "leads.csv", ("\n" + LEADS).encode(), "line 1 is blank; expected the header there"
    ),
    "an empty parquet file": ("leads.parquet", b"", "is empty; expected column names and rows"),
}  # fmt: skip


def _write(path: Path, content: str | bytes) -> Path:
    if isinstance(content, str):
        path.write_text(content)
    else:
        path.write_bytes(content)
    return path


def _config(tmp_path: Path, leads: str = "leads.csv", extra: str = "") -> Path:
    return _write(
        tmp_path / "dataset.toml",
        f'[leads]\npath = "{leads}"\nid = "id"\n{extra}\n[outcome]\nlabel = "won"\n',
    )


def _one_line(error: pytest.ExceptionInfo[Exception], path: Path, says: str) -> None:
    message = str(error.value)
    assert message.startswith(f"{path}: ") and says in message, message
    assert "\n" not in message


@pytest.mark.parametrize("kind", BAD_FILES)
def test_each_bad_file_is_one_line_naming_it(tmp_path: Path, kind: str) -> None:
    name, content, says = BAD_FILES[kind]
    path = _write(tmp_path / name, content)
    with pytest.raises(UnreadableFile) as error:
        read_file(path)
    _one_line(error, path, says)


def test_a_file_named_on_the_command_line_is_to_be_saved_comma_separated(tmp_path: Path) -> None:
    path = _write(tmp_path / "leads.csv", LEADS.replace(",", ";"))
    with pytest.raises(UnreadableFile) as error:
        read_file(path)
    _one_line(error, path, "looks like ';'-separated, not ','-separated; save it ','-separated")


def test_through_a_dataset_config_the_hint_names_the_section_and_the_setting(
    tmp_path: Path,
) -> None:
    leads = _write(tmp_path / "leads.csv", LEADS.replace(",", ";"))
    with pytest.raises(UnreadableFile) as error:
        load_dataset(load_config(_config(tmp_path)))
    _one_line(error, leads, 'set separator = ";" in the [leads] section of the dataset config')

    _write(leads, LEADS)
    with pytest.raises(UnreadableFile) as error:
        load_dataset(load_config(_config(tmp_path, extra='separator = ";"')))
    _one_line(error, leads, "looks like ','-separated, not ';'-separated; set separator = \",\"")

    activities = _write(
        tmp_path / "activities.tsv", "id\toccurred_at\tactivity_type\na\t2025-01-01\tcall\n"
    )
    _write(leads, "id,created_at,won\na,2025-01-01,yes\n")
    config = _config(tmp_path, extra='created_at = "created_at"').read_text()
    config += '[activities]\npath = "activities.tsv"\nid = "id"\n'
    with pytest.raises(UnreadableFile) as error:
        load_dataset(load_config(_write(tmp_path / "dataset.toml", config)))
    _one_line(error, activities, 'set separator = "\\t" in the [activities] section')


def test_a_utf8_bom_is_read_as_utf8(tmp_path: Path) -> None:
    path = _write(tmp_path / "leads.csv", LEADS.encode("utf-8-sig"))
    assert list(read_file(path).columns) == ["id", "city", "size", "won"]
    export = load_dataset(load_config(_config(tmp_path)))
    assert list(export.leads["lead_id"]) == ["a", "b"]


def test_a_leads_file_needs_rows_while_activities_and_outcomes_may_have_none(
    tmp_path: Path,
) -> None:
    leads = _write(tmp_path / "leads.csv", "id,city,size,won\n")
    with pytest.raises(DataContractError) as error:
        load_dataset(load_config(_config(tmp_path)))
    _one_line(error, leads, "has no rows, only a header; expected a row per lead")
    assert read_file(leads).empty  # scoring refuses it in its own words

    _write(tmp_path / "leads.csv", "id,created_at,size\na,2025-01-01,10\n")
    _write(tmp_path / "outcomes.csv", "lead_id,status,closed_at\n")
    _write(tmp_path / "activities.csv", "lead_id,occurred_at,activity_type\n")
    config = _write(
        tmp_path / "dataset.toml",
        '[leads]\npath = "leads.csv"\nid = "id"\ncreated_at = "created_at"\n'
        '[outcome]\npath = "outcomes.csv"\n[activities]\npath = "activities.csv"\n',
    )
    export = load_dataset(load_config(config))
    assert len(export.leads) == 1 and export.activities is not None
    assert export.activities.empty and export.outcomes is not None and export.outcomes.empty


def test_leads_whose_rows_are_all_malformed_are_listed_not_called_empty(tmp_path: Path) -> None:
    _write(tmp_path / "leads.csv", "id,city,size,won\na,Berlin,10,yes,extra\nb,Paris\n")
    with pytest.raises(ValidationFailed) as error:
        load_dataset(load_config(_config(tmp_path)))
    assert {problem.row for problem in error.value.problems} == {2, 3}


def test_a_table_in_several_parquet_files_names_the_file_and_row_of_each_problem(
    tmp_path: Path,
) -> None:
    (tmp_path / "leads").mkdir()
    first = pd.DataFrame({"id": ["a", "b"], "created_at": ["2025-01-01", "2025-01-02"]})
    second = pd.DataFrame({"id": ["c", "b"], "created_at": ["2025-01-03", "someday"]})
    first.to_parquet(tmp_path / "leads" / "day-1.parquet")
    second.to_parquet(tmp_path / "leads" / "day-2.parquet")
    _write(tmp_path / "outcomes.csv", "lead_id,status,closed_at\na,won,2025-02-01\n")
    config = _write(
        tmp_path / "dataset.toml",
        '[leads]\npath = "leads/*.parquet"\nid = "id"\ncreated_at = "created_at"\n'
        '[outcome]\npath = "outcomes.csv"\n',
    )
    with pytest.raises(ValidationFailed) as error:
        load_dataset(load_config(config))
    found = {(p.source, p.row, p.column) for p in error.value.problems}
    day_2 = str(tmp_path / "leads" / "day-2.parquet")
    assert found == {(day_2, 2, "id"), (day_2, 2, "created_at")}

    second.assign(created_at="2025-01-04", id=["c", "d"]).to_parquet(
        tmp_path / "leads" / "day-2.parquet"
    )
    export = load_dataset(load_config(config))
    assert list(export.leads["lead_id"]) == ["a", "b", "c", "d"]
    first.rename(columns={"id": "lead"}).to_parquet(tmp_path / "leads" / "day-1.parquet")
    with pytest.raises(DataContractError, match="every file of a table has the same columns"):
        load_dataset(load_config(config))
