"""How close the champion gets to the best possible ranking of the demo data.

The demo generator writes each lead's true conversion probability to truth.parquet, which
training never reads. Ranking the champion's holdout leads by that probability gives the oracle
AUC: the ceiling any model could reach on those leads. A small gap shows that the features capture
the process that made the data.

Run after `make demo` (or `leadscore train`): .venv/bin/python benchmarks/oracle_auc.py
"""

from __future__ import annotations

import argparse
import io
from pathlib import Path

import pandas as pd
from mlflow import MlflowClient
from sklearn.metrics import roc_auc_score

from scoring import CHAMPION, load_settings
from training import HOLDOUT_ARTIFACT


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--truth", type=Path, default=Path("data/demo/truth.parquet"))
    args = parser.parse_args()
    settings = load_settings()
    client = MlflowClient(settings.mlflow_tracking_uri)
    champion = client.get_model_version_by_alias(settings.model_name, CHAMPION)
    local = client.download_artifacts(champion.run_id, HOLDOUT_ARTIFACT)
    holdout = pd.read_csv(io.StringIO(Path(local).read_text()))
    truth = pd.read_parquet(args.truth).set_index("lead_id")["true_probability"]
    oracle = roc_auc_score(holdout["label"], truth.loc[holdout["lead_id"]].to_numpy())
    model = roc_auc_score(holdout["label"], holdout["probability"])
    logged = client.get_run(champion.run_id).data.metrics["roc_auc"]
    print(f"champion: {settings.model_name} version {champion.version} (run {champion.run_id})")
    print(f"holdout leads: {len(holdout):,}, won: {int(holdout['label'].sum()):,}")
    print(f"champion roc_auc (logged): {logged:.4f}")
    print(f"champion roc_auc (recomputed): {model:.4f}")
    print(f"oracle roc_auc (true probability): {oracle:.4f}")
    print(f"gap to oracle: {oracle - model:.4f} (goal <= 0.03)")


if __name__ == "__main__":
    main()
