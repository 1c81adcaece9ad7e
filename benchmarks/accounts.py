"""What the account features add on the demo, against the lead-only model and the oracle.

Run: .venv/bin/python benchmarks/accounts.py [--leads 20000] [--seeds 42 1 2]

The demo generator hides an account effect (see `leadscore.demo_data`): 30% of companies are in
market, which raises their leads' engagement and odds, and a lead's odds rise with its earlier
colleagues' high-intent actions. A lead's own features cannot see either; its colleagues' can.
For each seed this generates the demo, builds the training
rows twice from the same export and split (lead features only, and with the account features),
fits each as `leadscore train` does (the model family chosen on the validation slice), and
prints the holdout AUC of both, their difference, and the oracle AUC: the holdout ranked by the
true probability the generator wrote, which knows every account's hidden state.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

import pandas as pd
from sklearn.metrics import roc_auc_score

from features import Attribute, FeatureSet
from leadscore import demo_data
from leadscore.cli import DEMO_POLICY
from training import LeadScoreTrainer, build_dataset, demo_config, load_export, load_policy
from training.columns import demo_feature_set
from training.config import AccountsSection
from training.data import DEMO_ACCOUNT_KEY, CrmExport
from training.train import TrainConfig, choose_family


def holdout_auc(
    export: CrmExport, config: TrainConfig, accounts: AccountsSection | None
) -> tuple[float, pd.DataFrame, str]:
    """Train as `leadscore train` does (without the audit: the demo's leaks are left out by
    name) and return the holdout AUC, the holdout rows and the model family chosen."""
    features = demo_feature_set(export, accounts)
    # The honest lead columns (never the account key itself: an id of thousands of values),
    # the date and activity features, and the account features when asked.
    honest = set(demo_data.HONEST_COLUMNS) - {DEMO_ACCOUNT_KEY}
    kept = FeatureSet(
        tuple(f for f in features if not isinstance(f.computation, Attribute)
              or f.computation.column in honest or f.group == "account"),
        placeholders=features.placeholders,
    )  # fmt: skip
    dataset = build_dataset(export, kept, accounts=accounts)
    splits = config.splits(dataset)
    family = choose_family(dataset, config, splits)
    trainer = LeadScoreTrainer(family.config, load_policy(DEMO_POLICY)).fit(dataset, family.fitted)
    return trainer.metrics_["roc_auc"], trainer.holdout_, family.chosen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--leads", type=int, default=demo_data.DEFAULT_LEADS)
    parser.add_argument("--seeds", type=int, nargs="+", default=[demo_data.DEFAULT_SEED, 1, 2])
    args = parser.parse_args()
    gains = []
    for seed in args.seeds:
        with tempfile.TemporaryDirectory() as folder:
            out = demo_data.write(demo_data.generate(args.leads, seed), Path(folder), seed=seed)
            export = load_export(out)
            accounts = demo_config(out).accounts
            truth = demo_data.generate(args.leads, seed).truth.set_index("lead_id")
        config = TrainConfig()
        alone, holdout, family_alone = holdout_auc(export, config, None)
        both, holdout_both, family_both = holdout_auc(export, config, accounts)
        assert list(holdout["lead_id"]) == list(holdout_both["lead_id"])  # the same leads
        oracle = roc_auc_score(
            holdout["label"], truth.loc[holdout["lead_id"], "true_probability"].to_numpy()
        )
        gains.append(both - alone)
        print(
            f"seed {seed}: {len(holdout):,} holdout leads; lead-only AUC {alone:.4f} "
            f"({family_alone}), with account features {both:.4f} ({family_both}), "
            f"gain {both - alone:+.4f}; oracle AUC {oracle:.4f} (gap {oracle - both:.4f})"
        )
    print(
        f"account features over lead-only: mean gain {statistics.mean(gains):+.4f} AUC over "
        f"{len(gains)} seeds, {sum(g > 0 for g in gains)} of {len(gains)} positive"
    )


if __name__ == "__main__":
    main()
