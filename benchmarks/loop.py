"""The loop at full size: a model trained on the demo's first 300 days serves the rest week by
week through the API, outcomes come back as they close, and `/v1/performance` is held to the
truth file; once on a stationary export (drift none) and once on one with the documented shift.

    .venv/bin/python benchmarks/loop.py [--leads 200000] [--seed 42]

Prints, for each week of scoring: leads, the realised AUC with its 95% interval against the AUC
the truth file implies for the same scores, the realised win rate against the truth's, expected
against realised wins, and whether a drift alert fired that week; then the totals over the weeks
whose outcomes are all in, and the week the alert fired against the shift. The API runs in this
process (FastAPI's test client); the prediction log is SQLite in a temporary folder.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from leadscore import demo_data
from leadscore.simulation import TRAIN_DAYS, Simulation, serve_and_simulate, train_early


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=demo_data.DEFAULT_SEED)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="leadscore-loop-") as scratch:
        folder = Path(scratch)
        started = time.perf_counter()
        exports = {m: demo_data.generate(args.leads, args.seed, drift=m) for m in ("none", "shift")}
        model = train_early(exports["none"], folder)
        print(f"{args.leads:,} leads, seed {args.seed}: generated both exports and trained on the "
              f"first {TRAIN_DAYS} days in {time.perf_counter() - started:.0f} s\n")  # fmt: skip
        failed = False
        for mode, export in exports.items():
            (folder / mode).mkdir()
            run = serve_and_simulate(export, model, folder / mode)
            failed |= _print(mode, run)
    return 1 if failed else 0


def _interval(value: dict | None, percent: bool = False) -> str:
    if not value or value.get("low") is None:
        return "-"
    shown = "{:.1%}" if percent else "{:.3f}"
    return f"{shown.format(value['value'])} [{shown.format(value['low'])}, {shown.format(value['high'])}]"  # noqa: E501


def _print(mode: str, run: Simulation) -> bool:
    alerts = set(run.alert_weeks)
    print(f"drift {mode}: {run.scored:,} leads scored, {run.outcomes:,} outcomes posted, "
          f"{run.seconds:.0f} s")  # fmt: skip
    print(f"{'week':<11}{'leads':>7}  {'realised AUC [95%]':<24}{'truth':>7}  "
          f"{'win rate [95%]':<24}{'truth':>7}{'expected':>10}{'won':>6}  alert")  # fmt: skip
    for week in run.weeks:
        mark = "" if week.matured else "  (outcomes still coming)"
        print(
            f"{week.week:<11}{week.leads:>7}  {_interval(week.realised_auc):<24}"
            f"{week.truth_auc or 0:>7.3f}  {_interval(week.realised_win_rate, True):<24}"
            f"{week.truth_win_rate:>7.1%}{week.expected_wins:>10.1f}{week.realised_wins:>6}  "
            f"{'ALERT' if week.week in alerts else ''}{mark}"
        )
    matured = run.matured
    expected = sum(w.expected_wins for w in matured)
    realised = sum(w.realised_wins for w in matured)
    auc_in = sum(w.auc_within for w in matured)
    rate_in = sum(w.win_rate_within for w in matured)
    print(f"\nweeks with every outcome in: {len(matured)}; truth inside the interval: AUC "
          f"{auc_in}/{len(matured)}, win rate {rate_in}/{len(matured)}")  # fmt: skip
    ratio = expected / realised if realised else float("nan")
    print(f"expected wins {expected:.0f} against {realised} realised: {ratio:.3f}")
    fired = ", ".join(f"{moment:%Y-%m-%d %H:%M}" for moment in run.alerts) or "none"
    print(f"drift alerts fired at: {fired}"
          + (f" (the shift: {run.shift_at:%Y-%m-%d %H:%M})" if run.shift_at else ""))  # fmt: skip
    print()
    bad = abs(ratio - 1) > 0.10 or min(auc_in, rate_in) < 0.8 * len(matured)
    if mode == "none":
        bad |= bool(run.alerts)
    elif run.shift_at is not None:
        first = run.alerts[0] if run.alerts else None
        bad |= first is None or not run.shift_at < first <= run.shift_at + timedelta(weeks=2)
    return bad


if __name__ == "__main__":
    sys.exit(main())
