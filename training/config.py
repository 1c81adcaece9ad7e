"""The dataset config: one TOML file that says where each table is and what its columns mean.

    [dataset]            name, model_name
    [leads]              path | (url + table | query), separator, id, created_at, order,
                         categorical, numeric, text, exclude, groups
    [outcome]            label (a column of leads) | path/url/table/query + id, status, closed_at
    [activities]         optional: path/url/table/query + id, occurred_at, type
    [training]           snapshot_days, horizon_days, holdout_share, validation_share,
                         min_per_class, seed
    [model]              LightGBM parameters that override the defaults
    [audit]              auc_threshold, missingness_gap, allow

Paths are relative to the config file. Column lists left out are inferred from the data.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from features.errors import DataContractError
from features.policy import PolicySpec

ROW_ORDER = "row"  # `order = "row"`: the rows are in time order as stored


@dataclass(frozen=True)
class TableSource:
    """Where one table comes from: a CSV or Parquet file, or a SQL table or query."""

    name: str
    path: Path | None = None
    url: str | None = None
    table: str | None = None
    query: str | None = None
    separator: str = ","

    def describe(self) -> str:
        if self.path is not None:
            return str(self.path)
        return f"{_hide_password(self.url or '')} {self.table or 'query'}"


@dataclass(frozen=True)
class LeadsConfig:
    source: TableSource
    id: str | None = None
    created_at: str | None = None
    order: str | None = None
    categorical: list[str] | None = None
    numeric: list[str] | None = None
    text: dict[str, str] = field(default_factory=dict)
    exclude: list[str] = field(default_factory=list)
    groups: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class OutcomeConfig:
    label: str | None = None
    source: TableSource | None = None
    id: str = "lead_id"
    status: str = "status"
    closed_at: str = "closed_at"


@dataclass(frozen=True)
class ActivitiesConfig:
    source: TableSource
    id: str = "lead_id"
    occurred_at: str = "occurred_at"
    type: str = "activity_type"


@dataclass(frozen=True)
class AuditConfig:
    auc_threshold: float = 0.9
    missingness_gap: float = 0.3
    allow: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class DatasetConfig:
    name: str
    leads: LeadsConfig
    outcome: OutcomeConfig
    activities: ActivitiesConfig | None = None
    training: dict[str, Any] = field(default_factory=dict)
    model: dict[str, Any] = field(default_factory=dict)
    audit: AuditConfig = field(default_factory=AuditConfig)
    model_name: str | None = None
    min_per_class: int = 40
    segment_by: str | None = None
    location: str = ""


_SECTIONS = {"dataset", "leads", "outcome", "activities", "training", "model", "audit"}


def load_config(path: str | Path) -> DatasetConfig:
    """Read and check a dataset config; errors name the file and the key."""
    file = Path(path)
    try:
        raw = tomllib.loads(file.read_text())
    except FileNotFoundError:
        raise DataContractError(f"expected a TOML config file, found none at {file}") from None
    except tomllib.TOMLDecodeError as error:
        raise DataContractError(f"expected valid TOML, got {error}", source=str(file)) from None
    unknown = set(raw) - _SECTIONS
    if unknown:
        raise DataContractError(
            f"expected sections among {sorted(_SECTIONS)}, got {sorted(unknown)}", source=str(file)
        )
    base = file.parent
    if "leads" not in raw or "outcome" not in raw:
        raise DataContractError("expected [leads] and [outcome] sections", source=str(file))
    leads_raw = dict(raw["leads"])
    leads = LeadsConfig(
        source=_source("leads", leads_raw, base, str(file)),
        id=leads_raw.pop("id", None),
        created_at=leads_raw.pop("created_at", None),
        order=leads_raw.pop("order", None),
        categorical=leads_raw.pop("categorical", None),
        numeric=leads_raw.pop("numeric", None),
        text=leads_raw.pop("text", {}),
        exclude=leads_raw.pop("exclude", []),
        groups=_groups(leads_raw.pop("groups", {})),
    )
    _no_leftovers("leads", leads_raw, str(file))
    outcome_raw = dict(raw["outcome"])
    if "label" in outcome_raw:
        outcome = OutcomeConfig(label=outcome_raw.pop("label"))
    else:
        outcome = OutcomeConfig(
            source=_source("outcomes", outcome_raw, base, str(file)),
            id=outcome_raw.pop("id", "lead_id"),
            status=outcome_raw.pop("status", "status"),
            closed_at=outcome_raw.pop("closed_at", "closed_at"),
        )
    _no_leftovers("outcome", outcome_raw, str(file))
    activities = None
    if "activities" in raw:
        activities_raw = dict(raw["activities"])
        activities = ActivitiesConfig(
            source=_source("activities", activities_raw, base, str(file)),
            id=activities_raw.pop("id", "lead_id"),
            occurred_at=activities_raw.pop("occurred_at", "occurred_at"),
            type=activities_raw.pop("type", "activity_type"),
        )
        _no_leftovers("activities", activities_raw, str(file))
    training = dict(raw.get("training", {}))
    min_per_class = int(training.pop("min_per_class", 40))
    segment_by = training.pop("segment_by", None)
    audit_raw = dict(raw.get("audit", {}))
    audit = AuditConfig(
        auc_threshold=float(audit_raw.pop("auc_threshold", 0.9)),
        missingness_gap=float(audit_raw.pop("missingness_gap", 0.3)),
        allow=list(audit_raw.pop("allow", [])),
    )
    _no_leftovers("audit", audit_raw, str(file))
    dataset = raw.get("dataset", {})
    if leads.order and leads.created_at:
        raise DataContractError(
            "expected either created_at or order in [leads], got both", source=str(file)
        )
    if outcome.source is not None and not leads.created_at:
        raise DataContractError(
            "expected [leads] created_at when outcomes come from their own table: the label is "
            "'won within the horizon after the snapshot', which needs a creation time",
            source=str(file),
        )
    if activities is not None and not leads.created_at:
        raise DataContractError(
            "expected [leads] created_at when there is an activities table: features are "
            "computed as of a moment after creation",
            source=str(file),
        )
    return DatasetConfig(
        name=dataset.get("name", file.stem),
        model_name=dataset.get("model_name"),
        leads=leads,
        outcome=outcome,
        activities=activities,
        training=training,
        model=dict(raw.get("model", {})),
        audit=audit,
        min_per_class=min_per_class,
        segment_by=segment_by,
        location=str(file),
    )


def _source(name: str, section: dict[str, Any], base: Path, file: str) -> TableSource:
    path = section.pop("path", None)
    url = section.pop("url", None)
    table = section.pop("table", None)
    query = section.pop("query", None)
    separator = section.pop("separator", ",")
    if (path is None) == (url is None):
        raise DataContractError(
            f"expected exactly one of path or url for the {name} table", source=file
        )
    if url is not None and (table is None) == (query is None):
        raise DataContractError(
            f"expected exactly one of table or query with the {name} url", source=file
        )
    resolved = None if path is None else (base / path).resolve()
    return TableSource(name, resolved, url, table, query, separator)


def _groups(raw: dict[str, list[str]]) -> dict[str, str]:
    """`{engagement = ["a", "b"]}` -> `{"a": "engagement", "b": "engagement"}`."""
    return {column: group for group, columns in raw.items() for column in columns}


def _no_leftovers(section: str, remaining: dict[str, Any], file: str) -> None:
    if remaining:
        raise DataContractError(
            f"unknown keys in [{section}]: {sorted(remaining)}; see the README for the keys",
            source=file,
        )


def _hide_password(url: str) -> str:
    if "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    credentials, host = rest.rsplit("@", 1)
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}@{host}"


def load_policy(path: str | Path) -> PolicySpec:
    """Read a policy file (see `features.policy`); errors name the file."""
    file = Path(path)
    try:
        return PolicySpec.from_dict(tomllib.loads(file.read_text()))
    except FileNotFoundError:
        raise DataContractError(f"expected a policy file, found none at {file}") from None
    except (tomllib.TOMLDecodeError, ValueError) as error:
        raise DataContractError(str(error), source=str(file)) from None
