"""`leadscore score --format dynamics|salesforce|hubspot`: import files each CRM takes as they
are, matched on its own record id, with trends against an earlier output (`--previous`)."""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from leadscore.cli import app
from leadscore.crm_formats import (
    DYNAMICS_COLUMNS,
    DYNAMICS_GRADES,
    DYNAMICS_TRENDS,
    HUBSPOT_COLUMNS,
    LAYOUTS,
    SALESFORCE_COLUMNS,
    TREND_LABELS,
    reasons_text,
)
from leadscore.demo_data import PERSONAL_COLUMNS
from leadscore.errors import ScoringInputError
from leadscore.scoring_job import previous_scores
from scoring import SCORE_COLUMNS, TREND_BAND
from scoring.trend import TRENDS, dynamics_code
from tests.conftest import TrainedModel
from tests.helpers import use_store

runner = CliRunner()
LEADS = 300
AS_OF = "2025-03-01T00:00:00Z"
BOM = b"\xef\xbb\xbf"
# Each CRM's own record ids, as its export would carry them in lead_id.
CRM_IDS = {
    "dynamics": lambda i, old: str(uuid.uuid5(uuid.NAMESPACE_URL, old)),
    "salesforce": lambda i, old: f"00Q{i:012d}EAY",
    "hubspot": lambda i, old: str(1001 + i),
}


@dataclass(frozen=True)
class CrmRuns:
    """Files scored once for the whole module, and what each run printed."""

    leads: pd.DataFrame
    ids: dict[str, list[str]]
    outputs: dict[str, Path]
    printed: dict[str, str]


def _score(arguments: list[str]) -> str:
    result = runner.invoke(app, ["score", "--as-of", AS_OF, *arguments])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def runs(trained: TrainedModel, tmp_path_factory: pytest.TempPathFactory) -> CrmRuns:
    folder = tmp_path_factory.mktemp("crm")
    leads = pd.read_parquet(trained.data_dir / "leads.parquet").head(LEADS)
    activities = pd.read_parquet(trained.data_dir / "activities.parquet")
    activities = activities[activities["lead_id"].isin(leads["lead_id"])]
    ids, outputs, printed = {}, {}, {}
    with pytest.MonkeyPatch.context() as patch:
        use_store(patch, trained.settings)
        for crm, new_id in CRM_IDS.items():
            renamed = {old: new_id(i, old) for i, old in enumerate(leads["lead_id"])}
            ids[crm] = list(renamed.values())
            leads.assign(lead_id=leads["lead_id"].map(renamed)).to_parquet(
                folder / f"{crm}.parquet"
            )
            activities.assign(lead_id=activities["lead_id"].map(renamed)).to_parquet(
                folder / f"{crm}-activities.parquet"
            )
            source = ["--input", str(folder / f"{crm}.parquet")]
            source += ["--activities", str(folder / f"{crm}-activities.parquet")]
            suffixes = ("csv", "jsonl") if crm == "dynamics" else ("csv",)
            for suffix in suffixes:
                name = crm if suffix == "csv" else f"{crm}-{suffix}"
                outputs[name] = folder / f"{name}.{suffix}"
                printed[name] = _score([*source, "--format", crm, "--out", str(outputs[name])])
        # leadscore's own columns, for the leads with HubSpot's ids
        outputs["own"] = folder / "own.csv"
        source = ["--input", str(folder / "hubspot.parquet")]
        source += ["--activities", str(folder / "hubspot-activities.parquet")]
        printed["own"] = _score([*source, "--out", str(outputs["own"])])
    return CrmRuns(leads, ids, outputs, printed)


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")


@pytest.mark.integration
@pytest.mark.parametrize(
    ("crm", "constant", "header"),
    [
        ("dynamics", DYNAMICS_COLUMNS, [
            "msdyn_entityid", "msdyn_entitytype", "msdyn_score", "msdyn_grade",
            "msdyn_scoretrend", "msdyn_scorereasons",
        ]),
        ("salesforce", SALESFORCE_COLUMNS, [
            "Id", "Lead_Score__c", "Lead_Grade__c", "Lead_Recommendation__c",
            "Lead_Score_Reasons__c", "Lead_Score_Trend__c", "Lead_Score_Model__c",
            "Lead_Scored_At__c",
        ]),
        ("hubspot", HUBSPOT_COLUMNS, [
            "Record ID", "leadscore_score", "leadscore_grade", "leadscore_recommendation",
            "leadscore_reasons", "leadscore_trend", "leadscore_model", "leadscore_scored_on",
        ]),
    ],
)  # fmt: skip
def test_each_file_has_the_documented_header_and_a_row_per_lead_by_its_record_id(
    runs: CrmRuns, crm: str, constant: tuple[str, ...], header: list[str]
) -> None:
    assert list(constant) == header
    table = _read(runs.outputs[crm])
    assert list(table.columns) == header
    assert list(table[header[0]]) == runs.ids[crm]  # one row per lead, in the file's order
    assert "do not look like" not in runs.printed[crm]  # every id is one the CRM can match


@pytest.mark.integration
def test_values_are_in_range_and_the_same_scores_in_every_format(runs: CrmRuns) -> None:
    dynamics, salesforce, hubspot = (_read(runs.outputs[c]) for c in CRM_IDS)
    scores = salesforce["Lead_Score__c"].astype(int)
    assert scores.between(0, 100).all() and scores.nunique() > 10
    assert (dynamics["msdyn_score"].astype(int) == scores).all()
    assert (hubspot["leadscore_score"].astype(int) == scores).all()
    assert DYNAMICS_GRADES == {"A": 0, "B": 1, "C": 2, "D": 3}
    letters = salesforce["Lead_Grade__c"]
    assert set(letters) <= {"A", "B", "C", "D"} and letters.nunique() > 1
    assert (hubspot["leadscore_grade"] == letters).all()
    assert list(dynamics["msdyn_grade"].astype(int)) == [DYNAMICS_GRADES[g] for g in letters]
    # grades are bands of the score: each grade's lowest score is above the next grade's highest
    bands = scores.groupby(letters).agg(["min", "max"]).sort_index()
    assert (bands["min"].iloc[:-1].to_numpy() > bands["max"].iloc[1:].to_numpy()).all()
    assert set(dynamics["msdyn_entitytype"]) == {"lead"}
    recommendations = {"SQL", "MQL", "nurture", "disqualified"}
    assert set(salesforce["Lead_Recommendation__c"]) <= recommendations
    assert (hubspot["leadscore_recommendation"] == salesforce["Lead_Recommendation__c"]).all()
    # no --previous: no history to compare with
    assert set(dynamics["msdyn_scoretrend"]) == {"3"}
    assert set(salesforce["Lead_Score_Trend__c"]) == set(hubspot["leadscore_trend"])
    assert set(hubspot["leadscore_trend"]) == {"Not enough info"}
    assert set(salesforce["Lead_Scored_At__c"]) == {"2025-03-01T00:00:00.000Z"}
    assert set(hubspot["leadscore_scored_on"]) == {"2025-03-01"}
    assert set(salesforce["Lead_Score_Model__c"]) == {"lead-scoring v1"}


@pytest.mark.integration
def test_reasons_are_the_plain_sentences_within_each_field_limit(runs: CrmRuns) -> None:
    own = _read(runs.outputs["own"])
    sentences = ["; ".join(r["sentence"] for r in json.loads(cell)) for cell in own["reasons"]]
    columns = {"dynamics": "msdyn_scorereasons", "salesforce": "Lead_Score_Reasons__c",
               "hubspot": "leadscore_reasons"}  # fmt: skip
    for crm, column in columns.items():
        reasons = _read(runs.outputs[crm])[column]
        assert list(reasons) == sentences, crm
        assert reasons.str.len().max() <= LAYOUTS[crm].reasons_limit
    assert LAYOUTS["dynamics"].reasons_limit == 10_000  # msdyn_scorereasons' MaxLength


@pytest.mark.integration
def test_no_personal_data_reaches_any_file(runs: CrmRuns) -> None:
    personal = [str(v) for c in PERSONAL_COLUMNS for v in runs.leads[c].dropna()]
    assert len(personal) > LEADS  # the demo's leads do carry emails, phones and names
    for name, path in runs.outputs.items():
        text = path.read_text(encoding="utf-8-sig")
        if path.suffix == ".jsonl":
            header = list(json.loads(text.splitlines()[0]))
        else:
            header = list(_read(path).columns)
        assert not [h for h in header if re.search("mail|phone|name", h, re.IGNORECASE)], name
        assert not [value for value in personal if value in text], name


@pytest.mark.integration
def test_each_file_is_encoded_as_its_crm_documents(runs: CrmRuns) -> None:
    for crm in CRM_IDS:
        raw = runs.outputs[crm].read_bytes()
        assert raw.startswith(BOM) == (crm == "dynamics"), crm  # UTF-8, a mark only for Excel
        raw.decode("utf-8")
        assert b"\r\n" not in raw
    lines = runs.outputs["dynamics-jsonl"].read_text(encoding="utf-8").splitlines()
    bodies = [json.loads(line) for line in lines]
    assert all(list(body) == list(DYNAMICS_COLUMNS) for body in bodies)
    as_csv = _read(runs.outputs["dynamics"])
    assert [b["msdyn_entityid"] for b in bodies] == list(as_csv["msdyn_entityid"])
    assert [b["msdyn_score"] for b in bodies] == list(as_csv["msdyn_score"].astype(int))
    assert all(isinstance(b["msdyn_grade"], int) and 0 <= b["msdyn_grade"] <= 3 for b in bodies)
    assert {b["msdyn_scoretrend"] for b in bodies} == {3}


@pytest.mark.integration
def test_every_output_reads_back_as_a_previous_score(runs: CrmRuns, tmp_path: Path) -> None:
    own = _read(runs.outputs["own"])
    expected = dict(zip(runs.ids["hubspot"], own["score"].astype(int), strict=True))
    pd.read_csv(runs.outputs["own"]).to_parquet(tmp_path / "own.parquet")
    assert previous_scores(runs.outputs["own"]) == expected
    assert previous_scores(tmp_path / "own.parquet") == expected
    assert previous_scores(runs.outputs["hubspot"]) == expected
    for crm in ("dynamics", "dynamics-jsonl", "salesforce"):
        ids = runs.ids[crm.split("-")[0]]
        assert previous_scores(runs.outputs[crm]) == dict(zip(ids, expected.values(), strict=True))


def test_a_previous_file_without_ids_and_scores_is_refused_with_what_it_expects(
    tmp_path: Path,
) -> None:
    (tmp_path / "other.csv").write_text("email,rating\nx@example.com,3\n")
    with pytest.raises(ScoringInputError, match=r"lead_id and score, msdyn_entityid and"):
        previous_scores(tmp_path / "other.csv")
    (tmp_path / "broken.jsonl").write_text('{"msdyn_entityid": "a"\n')
    with pytest.raises(ScoringInputError, match="cannot be read"):
        previous_scores(tmp_path / "broken.jsonl")


@pytest.mark.integration
def test_previous_scores_give_the_trend_by_the_documented_bands(
    runs: CrmRuns, trained: TrainedModel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_store(monkeypatch, trained.settings)
    now = _read(runs.outputs["own"])["score"].astype(int)
    # earlier score = now - shift: the band's edge either way, just inside it, unchanged, none
    shifts = [TREND_BAND, -TREND_BAND, TREND_BAND - 1, 0, None]
    meaning = {TREND_BAND: "improving", -TREND_BAND: "declining", TREND_BAND - 1: "steady",
               0: "steady", None: "not_enough_info"}  # fmt: skip
    plan = [shifts[i % len(shifts)] for i in range(LEADS)]
    demo_ids = list(runs.leads["lead_id"])
    earlier = pd.DataFrame({"Id": demo_ids, "Lead_Score__c": [
        None if s is None else n - s for n, s in zip(now, plan, strict=True)
    ]})  # fmt: skip
    earlier.dropna().astype({"Lead_Score__c": int}).to_csv(tmp_path / "earlier.csv", index=False)
    leads = tmp_path / "leads.parquet"
    runs.leads.to_parquet(leads)
    out = tmp_path / "trend.csv"
    source = ["--input", str(leads)]
    source += ["--activities", str(trained.data_dir / "activities.parquet")]
    printed = " ".join(_score([
        *source, "--format", "dynamics", "--out", str(out),
        "--previous", str(tmp_path / "earlier.csv"),
    ]).split())  # fmt: skip
    codes = list(_read(out)["msdyn_scoretrend"].astype(int))
    assert DYNAMICS_TRENDS == {"improving": 0, "steady": 1, "declining": 2, "not_enough_info": 3}
    assert codes == [DYNAMICS_TRENDS[meaning[s]] for s in plan]
    assert f"Trend: {LEADS - LEADS // len(shifts):,} of {LEADS:,} leads compared" in printed
    # the demo's ids are not Dynamics GUIDs, and the command says so
    assert f"{LEADS:,} of {LEADS:,} lead ids do not look like the lead's GUID" in printed
    # leadscore's own columns gain the trend, in words, only when there is a --previous
    own = tmp_path / "trend-own.csv"
    _score([*source, "--out", str(own), "--previous", str(tmp_path / "earlier.csv")])
    table = _read(own)
    assert list(table.columns) == [*SCORE_COLUMNS, "trend"]
    assert list(table["trend"]) == [meaning[s] for s in plan]


def test_the_dynamics_codes_are_the_trend_module_s_and_every_trend_has_a_label() -> None:
    assert {trend: dynamics_code(trend) for trend in TRENDS} == DYNAMICS_TRENDS
    assert set(TREND_LABELS) == set(TRENDS)


@pytest.mark.parametrize(
    ("arguments", "says"),
    [
        (["--format", "excel", "--out", "x.csv"],
         "Error: expected --format dynamics, salesforce or hubspot, got 'excel'"),
        (["--format", "salesforce", "--out", "x.parquet"],
         "Error: expected --out to end in .csv for --format salesforce, got 'x.parquet'"),
        (["--format", "dynamics", "--out", "x.json"],
         "Error: expected --out to end in .csv or .jsonl for --format dynamics, got 'x.json'"),
    ],
)  # fmt: skip
def test_an_unknown_format_or_file_type_is_one_line_before_any_work(
    arguments: list[str], says: str, tmp_path: Path
) -> None:
    result = runner.invoke(app, ["score", "--input", str(tmp_path / "none.csv"), *arguments])
    assert result.exit_code == 1, result.output
    assert " ".join(result.output.split()).startswith(says)
    assert len(result.output.strip().splitlines()) <= 2 and "Traceback" not in result.output


def test_reasons_keep_whole_sentences_and_never_cut_a_character() -> None:
    sentences = ["Seniority is director", "Industry is 🚀 software", "17 activities so far"]
    joined = "; ".join(sentences)
    assert reasons_text(sentences, 1_000) == joined
    units = len(joined.encode("utf-16-le")) // 2
    assert len(joined) < units  # the rocket counts twice where fields count UTF-16 units
    assert reasons_text(sentences, units) == joined
    assert reasons_text(sentences, units - 1) == "; ".join(sentences[:2])
    assert reasons_text(sentences, 30) == sentences[0]
    for limit in range(1, len("Industry is 🚀 software") + 1):  # 23 units: always too short
        cut = reasons_text(["Industry is 🚀 software"], limit)
        assert len(cut.encode("utf-16-le")) // 2 <= limit, limit
        assert cut.endswith("…") and "Industry is 🚀 software".startswith(cut[:-1]), limit
    assert reasons_text([], 100) == ""
