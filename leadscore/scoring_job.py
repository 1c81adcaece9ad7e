"""Scoring a whole file: features built once, then slices of leads scored on every core.

Slices go to forked processes, which share the model and the features with the parent without
copying them; only the finished rows come back. Forking is safe here because neither the TreeSHAP
tables nor path attribution (linear leaves) call into LightGBM (and its OpenMP threads); a model
that needs LightGBM to explain (pred_contrib) is scored in this process.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

import numpy as np
import orjson
import pandas as pd

from features import ACTIVITY_TYPE, CREATED_AT, LEAD_ID, OCCURRED_AT, account_features
from leadscore.crm_formats import CRM_NAMES, LAYOUTS, CrmName, crm_table
from leadscore.errors import ScoringInputError
from scoring import SCORE_COLUMNS, LeadScorer, Trend, score_trend, scored_table
from training import DatasetConfig

SLICE = 20_000
OUTPUT_FORMATS = (".csv", ".parquet")
TREND_COLUMN = "trend"  # leadscore's own columns gain it when compared with --previous


def canonical_columns(
    leads: pd.DataFrame,
    activities: pd.DataFrame | None,
    config: DatasetConfig | None,
    *,
    source: str,
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """The file's columns under the names the model reads: the dataset config's id, created_at
    and activity columns renamed as training renamed them.

    A leads file without rows is refused (a header alone is an export that went wrong, not zero
    leads to score); activities may have none, as new leads often do.
    """
    if leads.empty:
        raise ScoringInputError(f"{source}: has no rows, only a header; expected a row per lead")
    lead_names, activity_names = config_renames(config)
    leads = leads.rename(columns=lead_names)
    if activities is not None:
        activities = activities.rename(columns=activity_names)
    if LEAD_ID not in leads.columns:
        raise ScoringInputError(
            f"{source}: expected a {LEAD_ID!r} column, found {sorted(map(str, leads.columns))}; "
            "pass the dataset config with --config so its [leads] id applies"
        )
    return leads, activities


def config_renames(config: DatasetConfig | None) -> tuple[dict[str, str], dict[str, str]]:
    """The renames that put a file's columns under the names the model reads, for leads and for
    activities: the dataset config's id, created_at and activity columns, as training named them."""
    if config is None:
        return {}, {}
    leads = {config.leads.id: LEAD_ID, config.leads.created_at: CREATED_AT}
    activities = {}
    if config.activities is not None:
        section = config.activities
        activities = {
            section.id: LEAD_ID, section.occurred_at: OCCURRED_AT, section.type: ACTIVITY_TYPE,
        }  # fmt: skip
    return {k: v for k, v in leads.items() if k}, activities


def check_output(out: Path, crm: str | None) -> CrmName | None:
    """The CRM whose import file `--format` asks for (None: leadscore's own columns), once
    `--out` ends in a type that format writes; checked before any work."""
    if crm is None:
        if out.suffix.lower() not in OUTPUT_FORMATS:
            raise ScoringInputError(
                f"expected --out to end in {' or '.join(OUTPUT_FORMATS)}, got {out.name!r}"
            )
        return None
    name = next((n for n in CRM_NAMES if n == crm), None)
    if name is None:
        raise ScoringInputError(
            f"expected --format {', '.join(CRM_NAMES[:-1])} or {CRM_NAMES[-1]}, got {crm!r}; "
            "leave it out for leadscore's own columns"
        )
    suffixes = LAYOUTS[name].suffixes
    if out.suffix.lower() not in suffixes:
        raise ScoringInputError(
            f"expected --out to end in {' or '.join(suffixes)} for --format {name}, "
            f"got {out.name!r}"
        )
    return name


def previous_scores(path: Path) -> dict[str, int]:
    """Each lead's score in an earlier `leadscore score` output, by lead id: leadscore's own
    columns or any CRM format, CSV, Parquet or JSON Lines. Ids are read as written (a CSV's
    "00123" stays "00123")."""
    try:
        if path.suffix.lower() == ".parquet":
            table = pd.read_parquet(path)
        elif path.suffix.lower() == ".jsonl":
            lines = path.read_bytes().splitlines()
            table = pd.DataFrame([orjson.loads(line) for line in lines if line.strip()])
        else:
            table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (OSError, ValueError) as error:  # pandas, pyarrow and orjson errors are ValueErrors
        raise ScoringInputError(
            f"--previous {path}: cannot be read ({type(error).__name__}: {error}); expected an "
            "earlier `leadscore score` output"
        ) from None
    pairs = [(LEAD_ID, "score"), *((f.id_column, f.score_column) for f in LAYOUTS.values())]
    for id_column, score_column in pairs:
        if {id_column, score_column} <= set(table.columns):
            ids = table[id_column].astype(str)
            scores = pd.to_numeric(table[score_column], errors="coerce")
            known = scores.notna() & (ids != "")
            earlier = scores[known].round().astype(int)
            return dict(zip(ids[known].tolist(), earlier.tolist(), strict=True))
    raise ScoringInputError(
        f"--previous {path}: expected an earlier `leadscore score` output with a lead id and a "
        f"score column ({', '.join(f'{i} and {s}' for i, s in pairs)}), found "
        f"{sorted(map(str, table.columns))}"
    )


def score_trends(rows: pd.DataFrame, previous: Mapping[str, int]) -> list[Trend]:
    """Each row's trend against the lead's score in `previous` (see `scoring.score_trend`)."""
    return [
        score_trend(None if pd.isna(score) else int(score), previous.get(str(lead)))
        for lead, score in zip(rows["lead_id"], rows["score"], strict=True)
    ]


def write_table(rows: pd.DataFrame, out: Path) -> None:
    """CSV or Parquet, as the extension says (checked before scoring)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".parquet":
        rows.to_parquet(out, index=False)
    else:
        rows.to_csv(out, index=False)


def write_scores(
    rows: pd.DataFrame,
    out: Path,
    *,
    crm: CrmName | None,
    trends: list[Trend] | None,
    model: str,
    scored_at: datetime,
) -> list[str]:
    """Write `rows` as leadscore's own columns (plus the trend when there are `trends`) or as
    `crm`'s import file; return, in plain words, what would stop that CRM's import."""
    if crm is None:
        write_table(rows if trends is None else rows.assign(**{TREND_COLUMN: trends}), out)
        return []
    layout = LAYOUTS[crm]
    table = crm_table(
        rows, crm, trends=trends or ["not_enough_info"] * len(rows), model=model,
        scored_at=scored_at,
    )  # fmt: skip
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".jsonl":
        records = table.astype(object).where(table.notna(), None).to_dict("records")
        out.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
    else:
        encoding = "utf-8-sig" if layout.byte_order_mark else "utf-8"
        table.to_csv(out, index=False, encoding=encoding, lineterminator="\n")
    problems: list[str] = []
    strangers = sum(not layout.id_pattern.fullmatch(str(i)) for i in table[layout.id_column])
    if strangers:
        problems.append(
            f"{strangers:,} of {len(table):,} lead ids do not look like {layout.id_expected}, "
            f"so {layout.title} will not find those leads; score an export whose lead_id is that "
            "id (or name its column in --config)"
        )
    too_many = layout.max_rows is not None and len(table) > layout.max_rows
    too_big = out.suffix.lower() == ".csv" and (
        layout.max_csv_bytes is not None and out.stat().st_size > layout.max_csv_bytes
    )
    if too_many or too_big:
        size = f"{len(table):,} rows, {out.stat().st_size / 1024 / 1024:,.1f} MB"
        problems.append(f"{out.name} has {size}: {layout.too_large}")
    return problems


def with_accounts(
    scorer: LeadScorer,
    leads: pd.DataFrame,
    activities: pd.DataFrame | None,
    as_of: int,
    *,
    source: str,
) -> pd.DataFrame:
    """`leads` with their account features as of `as_of`, for a model that reads accounts: the
    colleagues are the file's other leads and their activities. The file has no outcomes, so
    no colleague counts as won and every one created before `as_of` counts as open."""
    spec = scorer.metadata.get("accounts")
    if spec is None or spec["key"] not in leads.columns:  # a missing key is said by the caller
        return leads
    found = account_features(
        leads,
        activities,
        None,
        targets=leads[LEAD_ID].to_numpy(),
        as_of_us=np.full(len(leads), as_of, dtype=np.int64),
        key=spec["key"],
        title_column=spec["title_column"],
        high_intent=spec["high_intent"],
        placeholders=spec["placeholders"],
        source=source,
    )
    return leads.assign(**{name: found[name].to_numpy() for name in found.columns})


# What forked workers read: set by score_table for the duration of one call.
_job: tuple[LeadScorer, pd.DataFrame, int, int, str] | None = None


def score_table(
    scorer: LeadScorer,
    features: pd.DataFrame,
    *,
    reasons: int,
    next_steps: int,
    version: str,
    workers: int,
    slice_size: int = SLICE,
) -> pd.DataFrame:
    """A row per lead of `features` (indexed by lead id), in order, as `leadscore score` writes."""
    global _job
    bounds = [(i, min(i + slice_size, len(features))) for i in range(0, len(features), slice_size)]
    parallel = (
        workers > 1
        and len(bounds) > 1
        and scorer.attribution in ("treeshap-tables", "path", "none")
        and "fork" in multiprocessing.get_all_start_methods()
    )
    _job = (scorer, features, reasons, next_steps, version)
    try:
        if parallel:
            with multiprocessing.get_context("fork").Pool(min(workers, len(bounds))) as pool:
                parts = pool.map(_score_slice, bounds)
        else:
            parts = [_score_slice(b) for b in bounds]
    finally:
        _job = None
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=SCORE_COLUMNS)


def _score_slice(bounds: tuple[int, int]) -> pd.DataFrame:
    if _job is None:
        raise RuntimeError("score_table sets the job before scoring a slice")
    scorer, features, reasons, next_steps, version = _job
    scored = scorer.score_frame(
        features.iloc[bounds[0] : bounds[1]], reasons=reasons, next_steps=next_steps
    )
    return scored_table(scored, version)
