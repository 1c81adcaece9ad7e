"""`leadscore outcomes` and `leadscore performance`: outcomes in from a CRM export, and the
realised performance of the served scores, in the terminal or as a report page.

Both work on the prediction log the server keeps (LEADSCORE_PREDICTION_DB): outcomes go
through its spool, with the server's promise (kept once committed, shipped when the database
answers), and performance reads its database.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from features import LeadscoreError

if TYPE_CHECKING:
    import pandas as pd

    from scoring import Settings

CHUNK = 5_000
console = Console(stderr=True)


class NoPredictionLog(LeadscoreError):
    """The command needs the prediction log and there is none to use."""


def import_outcomes(
    settings: Settings, path: Path, config: Path | None = None
) -> tuple[int, int, int]:
    """Keep the outcomes of `path` in the prediction log; (outcome rows, events, rows still
    waiting in the spool for the database)."""
    from serving import LeadKey, PredictionLog, event_row
    from training import load_config, read_outcomes

    if not settings.prediction_db:
        raise NoPredictionLog(
            "expected a prediction log to keep outcomes in, got LEADSCORE_PREDICTION_DB=''; set "
            "it to the database the server logs to"
        )
    outcome = load_config(config).outcome if config is not None else None
    frame = read_outcomes(path, outcome)
    lead_key = LeadKey(settings.secret)
    now = datetime.now(UTC)
    log = PredictionLog.from_settings(settings).start()
    events, waiting = 0, 0
    try:
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task("Keeping outcomes", total=len(frame))
            for start in range(0, len(frame), CHUNK):
                rows = _events(frame.iloc[start : start + CHUNK], lead_key, now, event_row)
                log.record(rows, kind="outcomes")
                events += len(rows)
                progress.advance(task, min(CHUNK, len(frame) - start))
    finally:
        waiting = log.close()  # ships what the database takes within a few seconds
    return len(frame), events, waiting


def _events(chunk: pd.DataFrame, lead_key: Any, now: datetime, event_row: Any) -> list[dict]:
    rows = []
    stage_columns = [c for c in ("sal_at", "sql_at", "opportunity_at") if c in chunk]
    for record in chunk.itertuples(index=False):
        values = record._asdict()
        key = lead_key(values["lead_id"])
        for column in stage_columns:
            at = values[column]
            if at is not None and at == at:  # NaT is not equal to itself
                rows.append(event_row(key, column.removesuffix("_at"), at.to_pydatetime(), now))
        if values["status"] in ("won", "lost"):
            closed = values["closed_at"].to_pydatetime()
            rows.append(event_row(key, values["status"], closed, now))
    return rows


def read_performance(settings: Settings, weeks: int | None = None) -> dict[str, Any]:
    """The same answer as `GET /v1/performance`, from the prediction log's database."""
    from sqlalchemy import MetaData, create_engine, inspect

    from scoring import connect_timeout
    from serving import log_tables, measure_performance, read_log

    if not settings.prediction_db:
        raise NoPredictionLog(
            "expected a prediction log to measure, got LEADSCORE_PREDICTION_DB=''; set it to the "
            "database the server logs to"
        )
    engine = create_engine(
        settings.prediction_db, hide_parameters=True,
        connect_args=connect_timeout(settings.prediction_db),
    )  # fmt: skip
    try:
        tables = log_tables(settings.prediction_table, MetaData())
        present = set(inspect(engine).get_table_names())
        if settings.prediction_table not in present:
            raise NoPredictionLog(
                f"expected a prediction log at {engine.url!r}, found no "
                f"{settings.prediction_table!r} table; serve and score some leads first"
            )
        tables["predictions"].metadata.create_all(engine)  # the outcome and drift tables
        now = datetime.now(UTC)
        rows = read_log(engine, tables, now - timedelta(weeks=weeks or settings.performance_weeks))
    finally:
        engine.dispose()
    return measure_performance(rows, now, None)


def print_performance(answer: dict[str, Any]) -> None:
    """The funnel and realised accuracy by week, source and model version, in the terminal."""
    out = Console()
    out.print(_table("By week of scoring", answer["by_week"], ["week", "model_version"]))
    out.print(_table("By source", answer["by_source"], ["source"]))
    out.print(_table("By model version", answer["by_model_version"], ["model_version"]))
    out.print(_table("All leads", [answer["overall"]], []))
    control = answer["control"]
    if control.get("leads"):
        effect = control.get("effect")
        out.print(
            f"Control group: {control['leads']:,} leads; policy's effect on the win rate of "
            f"SQL-scored leads: {_interval(effect, percent=True)}"
        )
    alerts = answer.get("drift", {}).get("alerts") or []
    for alert in alerts:
        out.print(f"[bold yellow]Drift alert[/] at {alert['checked_at']}: {alert.get('details')}")


def _table(title: str, groups: list[dict[str, Any]], keys: list[str]) -> Table:
    table = Table(title=title, title_justify="left")
    for key in keys:
        table.add_column(key.replace("_", " "))
    for column in ("scored", "MQL", "SQL", "won", "lost", "open", "win rate", "AUC (95%)",
                   "expected wins", "days to close"):  # fmt: skip
        table.add_column(column, justify="right")
    for group in groups:
        funnel, realised = group["funnel"], group["realised"]
        table.add_row(
            *[str(group.get(key) or "-") for key in keys],
            f"{funnel['scored']:,}", f"{funnel['mql']:,}", f"{funnel['sql']:,}",
            f"{funnel['won']:,}", f"{funnel['lost']:,}", f"{funnel['open']:,}",
            _interval(realised.get("win_rate"), percent=True),
            _interval(realised.get("auc")),
            f"{group['expected_wins']:.1f}",
            "-" if funnel["median_days_to_close"] is None
            else f"{funnel['median_days_to_close']:.0f}",
        )  # fmt: skip
    return table


def _interval(value: dict[str, Any] | None, *, percent: bool = False) -> str:
    if not value or value.get("value") is None:
        return "-"
    shown = "{:.1%}" if percent else "{:.3f}"
    text = shown.format(value["value"])
    if value.get("low") is not None and value.get("high") is not None:
        text += f" ({shown.format(value['low'])}-{shown.format(value['high'])})"
    return text


def performance_json(answer: dict[str, Any]) -> str:
    return json.dumps(answer, indent=2, default=str)
