"""A seeded demo CRM export whose conversion follows a known, documented process.

The hidden process (documented again in the README):

* **Fit** (odds multiply): industry, company size (mid-market best), seniority (VP and director
  best, students almost never buy), a business rather than a webmail address, country, and the
  source and campaign the lead came from.
* **Intent**: high-intent actions in the lead's first 7 days (demo request, meeting booked,
  pricing page view, webinar), each weighted and decayed by its age at day 7 with a 4-day
  time constant, plus a little for every low-intent action.
* **Accounts** (buying groups): leads come from companies, and a company's leads arrive within
  weeks of each other (`ACCOUNT_SPREAD_DAYS`). Two effects, which no lead column shows:

  - *In market*: about 30% of the companies are in market (`IN_MARKET_SHARE`). Their leads are
    more interested (+1.8 interest, so more activities and more high-intent ones) and a little
    likelier to buy (+0.5 logit).
  - *The buying group pulls*: a lead's logit rises by ``0.5 * log1p(n)``, where n counts the
    high-intent actions its colleagues took in the 30 days up to its snapshot (created_at + 7
    days). Its colleagues are the other leads of its company created before it, and only the
    actions of their own first 7 days count: those are drawn before any outcome, so n needs no
    colleague's outcome. Each of them falls at or before the lead's snapshot, so the feature
    ``account_high_intent_30d`` at the snapshot counts all of n (short of colleagues without a
    ``company_domain``), and more: colleagues who arrived in the lead's own first week, and the
    colleagues' later actions. Counting only colleagues created before the lead makes its odds
    depend on earlier leads alone, so the shift below leaves the leads before it as they were.

  Only what a lead's colleagues do shows either effect. Leads carry the company in
  ``company_domain`` (3% missing), and a business email is at that domain.
* ``logit p = base(t) + fit + 1.3 * log1p(intent) + 0.5 * in_market + 0.5 * log1p(n) + noise``,
  with noise ~ N(0, 0.25) that no feature can see, so p is "fit times intent" in odds. The lead is
  won with probability p.
* **Mess**: inconsistent casing and spelling of titles, industries and countries; missing values;
  form placeholders ("Select", "--", "N/A"...) in industry and country; duplicated events; open
  leads; personal data (email, phone, full name).
* **Drift**, one of three modes (`generate(..., drift=...)`, recorded in ``truth.json``):

  - ``"gradual"`` (the default): paid search grows and gets worse, the base rate rises, and email
    opens inflate in the last six months as mail clients pre-fetch images. Its output for a seed
    changes only with `GENERATOR_VERSION`: published figures rely on it.
  - ``"none"``: stationary. The starting source mix throughout, no paid-search decay, a constant
    base rate, no inflated email opens.
  - ``"shift"``: exactly ``"none"`` until `SHIFT_DAY` (day 420, 2026-02-25), then an abrupt change
    in who the leads are: mostly purchased lists and content syndication, smaller companies, a
    quarter students (`SHIFT_CHANGES`). The hidden process above is unchanged, so a model stays
    right lead by lead while the population, its scores and several features move. For one seed,
    ``"none"`` and ``"shift"`` give identical leads, activities and outcomes for every lead
    created before `SHIFT_DAY`, so one model trained on the early months serves both.
* **Leaks**, one or more columns of each kind real exports carry (see `LEAK_KINDS`): dates written
  at the outcome, a sales status, fields filled for a few leads of one outcome only, rep-assigned
  scores filled once a lead is worked (more and more often over the export), a field missing far
  more often for lost leads, and free-text sales notes.

Each lead's p, account and whether that account is in market are written to ``truth.parquet``;
each planted column's kind, and the account effect, to ``truth.json``. Training reads neither.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal, get_args

import numpy as np
import pandas as pd

from features import ACTIVITY_TYPES
from leadscore.errors import DemoDataError

GENERATOR_VERSION = 3
DEFAULT_LEADS = 20_000
DEFAULT_SEED = 42
START = datetime(2025, 1, 1, tzinfo=UTC)
SPAN_DAYS = 547  # 18 months
DAY_US = 86_400_000_000
SNAPSHOT_DAYS = 7
TABLES = ("leads", "activities", "outcomes")
TRUTH_COLUMNS_FILE = "truth.json"

# What each planted column is; the leakage audit must exclude or list every leak among them.
LEAK_KINDS = {
    "stamped_at_outcome": "a date written at or after the outcome",
    "near_perfect_separator": "a status sales sets when the deal ends",
    "filled_for_one_outcome": "filled for a small share of one outcome only",
    "rep_assigned_score": "a rep's score or grade, filled once the lead is worked",
    "missing_for_one_outcome": "missing far more often for lost leads",
    "free_text_notes": "notes a rep types while working the lead",
}
PLACEHOLDERS = ("Select", "--", "N/A", "unknown", "none", "", "Please select")
PLACEHOLDER_SHARE = {"industry": 0.04, "country": 0.02}
PERSONAL_COLUMNS = ("email", "phone", "full_name")
FIRST_NAMES = (
    "Ana",
    "Ben",
    "Chloe",
    "David",
    "Emma",
    "Farid",
    "Grace",
    "Hiro",
    "Ines",
    "Jonas",
    "Kavya",
    "Liam",
    "Mei",
    "Noah",
    "Olga",
    "Pedro",
    "Quinn",
    "Rosa",
    "Sven",
    "Tara",
)
LAST_NAMES = ("Alvarez", "Brown", "Chen", "Dubois", "Evans", "Fischer", "Garcia", "Haddad",
              "Ito", "Jensen", "Kowalski", "Larsen", "Moreau", "Nakamura", "Okafor", "Patel",
              "Rossi", "Silva", "Tanaka", "Weber")  # fmt: skip

SOURCES = (
    "organic_search", "paid_search", "linkedin_ads", "webinar", "referral",
    "partner", "trade_show", "content_syndication", "purchased_list",
)  # fmt: skip
SOURCE_MIX_START = np.array([0.20, 0.12, 0.12, 0.10, 0.08, 0.08, 0.08, 0.12, 0.10])
SOURCE_MIX_END = np.array([0.16, 0.30, 0.12, 0.08, 0.06, 0.06, 0.04, 0.10, 0.08])
SOURCE_EFFECT = np.array([0.3, -0.1, 0.0, 0.4, 0.8, 0.5, 0.1, -0.5, -1.0])
PAID_SEARCH_DECAY = -0.6  # paid search quality falls by this much (logit) over the 18 months
CAMPAIGNS = {
    "organic_search": (None,),
    "paid_search": ("brand-search", "competitor-terms", "generic-crm"),
    "linkedin_ads": ("li-abm-q1", "li-retarget", "li-lookalike"),
    "webinar": ("webinar-scoring-101", "webinar-revops"),
    "referral": (None, "customer-referral"),
    "partner": ("partner-co-sell", "partner-marketplace"),
    "trade_show": ("saastr", "dreamforce", "local-meetup"),
    "content_syndication": ("ebook-syndication", "whitepaper-network"),
    "purchased_list": ("list-q1", "list-q3"),
}
CAMPAIGN_EFFECT = {"competitor-terms": 0.3, "li-abm-q1": 0.3, "li-lookalike": -0.2,
                   "local-meetup": -0.3, "list-q3": -0.3}  # fmt: skip

INDUSTRIES = ("Software", "Financial Services", "Healthcare", "Manufacturing", "Retail",
              "Media", "Other", "Government", "Education", "Nonprofit")  # fmt: skip
INDUSTRY_MIX = np.array([0.22, 0.12, 0.10, 0.12, 0.10, 0.06, 0.10, 0.06, 0.07, 0.05])
INDUSTRY_EFFECT = np.array([0.6, 0.5, 0.3, 0.2, 0.0, 0.0, -0.2, -0.4, -0.6, -0.8])

SENIORITY = ("c_level", "vp", "director", "manager", "individual", "student")
SENIORITY_MIX = np.array([0.06, 0.09, 0.15, 0.25, 0.38, 0.07])
SENIORITY_EFFECT = np.array([0.5, 0.8, 0.7, 0.3, -0.3, -2.5])
TITLES = {
    "c_level": ("CEO", "Chief Executive Officer", "CTO", "Chief Technology Officer", "CFO",
                "COO", "CMO", "Chief Marketing Officer", "Founder", "Co-Founder & CEO", "Owner",
                "President"),
    "vp": ("VP Sales", "VP of Marketing", "V.P. Engineering", "Vice President, Operations",
           "Vice-President Sales", "SVP Marketing", "EVP, Revenue", "vp it"),
    "director": ("Director of Marketing", "Sales Director", "Dir. Engineering", "Head of Growth",
                 "Head of IT", "Senior Director, Operations", "Directr of Sales", "IT Director"),
    "manager": ("Marketing Manager", "Sales Manager", "Sr. Mgr, Sales Ops", "Senior Manager",
                "IT Manager", "Maneger", "Team Lead", "Engineering Manager", "Product Manager"),
    "individual": ("Marketing Coordinator", "Account Executive", "Software Engineer", "Analyst",
                   "Specialist", "Consultant", "Sales Representative", "Data Scientist",
                   "Accountant", "Designer"),
    "student": ("Student", "Intern", "Marketing Intern", "PhD Student", "Graduate Student"),
}  # fmt: skip

COUNTRIES = ("US", "GB", "DE", "FR", "CA", "AU", "NL", "IN", "BR", "ES")
COUNTRY_MIX = np.array([0.38, 0.12, 0.10, 0.07, 0.07, 0.05, 0.05, 0.08, 0.05, 0.03])
COUNTRY_EFFECT = np.array([0.1, 0.1, 0.1, 0.0, 0.1, 0.0, 0.1, -0.4, -0.3, -0.1])

FREE_DOMAINS = ("gmail.com", "yahoo.com", "hotmail.com", "outlook.com")
FREE_EMAIL_EFFECT = -0.5

LOW_INTENT = ("email_open", "email_click", "web_visit", "content_download", "form_submit")
LOW_INTENT_MIX = np.array([0.45, 0.20, 0.20, 0.08, 0.07])
HIGH_INTENT = ("demo_request", "meeting_booked", "pricing_page_view", "webinar_attended")
HIGH_INTENT_MIX = np.array([0.20, 0.10, 0.45, 0.25])
HIGH_INTENT_WEIGHT = np.array([1.5, 1.2, 0.6, 0.5])
LOW_INTENT_WEIGHT = 0.05
INTENT_DECAY_DAYS = 4.0
INTENT_SCALE = 1.3
NOISE_SD = 0.25
BASE_LOGIT_START, BASE_LOGIT_END = -3.0, -2.6
DUPLICATE_SHARE = 0.03
SIZE_LOG_MEAN, SIZE_LOG_SD = 4.0, 1.6  # company size is log-normal: a median of about 55
LEADS_PER_ACCOUNT = 4  # about n_leads / 4 accounts
ACCOUNT_SPREAD_DAYS = 15.0  # a lead joins the account nearest to its creation + N(0, 15 days)
IN_MARKET_SHARE = 0.3
IN_MARKET_LOGIT = 0.5
IN_MARKET_INTEREST = 1.8
# The buying group's pull: this much logit per log1p of the high-intent actions that earlier
# colleagues took in their first week, within the window up to the lead's snapshot.
BUYING_GROUP_LOGIT = 0.5
BUYING_GROUP_WINDOW_DAYS = 30.0
COMPANY_DOMAIN_MISSING = 0.03
ACCOUNT_EFFECT = {
    "what": "Leads come from companies (company_domain) that buy as groups: a company's leads "
    "arrive within weeks of each other. Two effects, which no lead column shows. In market: 30% "
    "of the companies are in market, and their leads are more interested (+1.8 interest, so more "
    "activities and more high-intent ones) and a little likelier to buy (+0.5 logit). The buying "
    "group pulls: a lead's logit rises by 0.5 * log1p(n), where n counts the high-intent actions "
    "(demo request, meeting booked, pricing page view, webinar attended) that its colleagues (the "
    "other leads of its company created before it) took in their own first 7 days, within the 30 "
    "days up to the lead's snapshot (created_at + 7 days). Only what the lead's colleagues do "
    "shows either effect.",
    "leads_per_account": LEADS_PER_ACCOUNT,
    "group_spread_days": ACCOUNT_SPREAD_DAYS,
    "in_market_share": IN_MARKET_SHARE,
    "in_market_logit_lift": IN_MARKET_LOGIT,
    "in_market_interest_lift": IN_MARKET_INTEREST,
    "colleague_high_intent_logit": BUYING_GROUP_LOGIT,
    "colleague_window_days": BUYING_GROUP_WINDOW_DAYS,
    "company_domain_missing_share": COMPANY_DOMAIN_MISSING,
}

DriftMode = Literal["gradual", "none", "shift"]
DRIFT_MODES: tuple[DriftMode, ...] = get_args(DriftMode)
SHIFT_DAY = 420  # 2026-02-25, in the last six months of the 18
SHIFT_AT = START + timedelta(days=SHIFT_DAY)
SOURCE_MIX_SHIFT = np.array([0.08, 0.08, 0.06, 0.04, 0.03, 0.03, 0.03, 0.25, 0.40])
SENIORITY_MIX_SHIFT = np.array([0.03, 0.05, 0.08, 0.17, 0.42, 0.25])
SIZE_LOG_MEAN_SHIFT = 2.8  # a median company of about 16 employees
SHIFT_CHANGES = (
    "From day 420 (2026-02-25) on, 40% of leads come from purchased lists and 25% from content "
    "syndication (before: 10% and 12%), their companies are smaller (a median of about 16 "
    "employees instead of 55), and a quarter are students (before: 7%). How each kind of lead "
    "converts does not change."
)
DRIFT_CHANGES: dict[DriftMode, str] = {
    "gradual": "Paid search grows and converts worse over the 18 months, the base rate rises, "
    "and email opens inflate in the last six months (mail clients pre-fetching images).",
    "none": "Nothing: the same mix of leads and the same base rate throughout.",
    "shift": SHIFT_CHANGES,
}


@dataclass(frozen=True)
class DemoExport:
    leads: pd.DataFrame
    activities: pd.DataFrame
    outcomes: pd.DataFrame
    truth: pd.DataFrame
    exported_at: datetime
    truth_columns: dict[str, object]
    drift: DriftMode = "gradual"


Draw = Callable[[], np.random.Generator]


def generate(
    n_leads: int = DEFAULT_LEADS, seed: int = DEFAULT_SEED, drift: DriftMode = "gradual"
) -> DemoExport:
    """A demo export of `n_leads` leads created over 18 months from 2025-01-01 (seeded), drifting
    as `drift` says (see the module docstring)."""
    if n_leads < 1:
        raise DemoDataError(f"expected at least 1 lead, got {n_leads}; ask for more with --leads")
    if drift not in DRIFT_MODES:
        raise DemoDataError(f"expected drift gradual, none or shift, got {drift!r}")
    gradual = drift == "gradual"
    draw = _Streams(seed, one_stream=gradual)
    start_us = int(START.timestamp()) * 1_000_000
    exported_us = start_us + SPAN_DAYS * DAY_US
    shift_us = start_us + SHIFT_DAY * DAY_US
    created_us = np.sort(start_us + draw().integers(0, SPAN_DAYS * DAY_US, n_leads))
    t = (created_us - start_us) / (SPAN_DAYS * DAY_US)  # 0 -> 1 across the 18 months
    shifted = (created_us >= shift_us) & (drift == "shift")
    # Accounts draw from a stream of their own, which no drift mode moves.
    accounts = np.random.default_rng([seed, 3])
    account, in_market = _accounts(accounts, created_us, start_us)
    lead_in_market = in_market[account]
    domain = pd.Series(account).map("company{}.example".format).to_numpy(dtype=object)
    company_domain = np.where(accounts.random(n_leads) < COMPANY_DOMAIN_MISSING, None, domain)

    if gradual:
        mix = SOURCE_MIX_START[None, :] * (1 - t[:, None]) + SOURCE_MIX_END[None, :] * t[:, None]
    else:
        mix = np.where(shifted[:, None], SOURCE_MIX_SHIFT, SOURCE_MIX_START)
    source = _choose_rows(draw(), mix)
    campaign = np.empty(n_leads, dtype=object)
    campaign_effect = np.zeros(n_leads)
    for code, name in enumerate(SOURCES):
        rows = np.flatnonzero(source == code)
        options = np.array(CAMPAIGNS[name], dtype=object)
        picked = options[draw().integers(0, len(options), len(rows))]
        campaign[rows] = picked
        campaign_effect[rows] = [CAMPAIGN_EFFECT.get(c, 0.0) for c in picked]
    paid_search_decay = PAID_SEARCH_DECAY * t if gradual else 0.0
    source_effect = SOURCE_EFFECT[source] + np.where(source == 1, paid_search_decay, 0.0)

    industry = draw().choice(len(INDUSTRIES), n_leads, p=INDUSTRY_MIX)
    if gradual:
        seniority = draw().choice(len(SENIORITY), n_leads, p=SENIORITY_MIX)
    else:
        seniority = _choose_rows(
            draw(), np.where(shifted[:, None], SENIORITY_MIX_SHIFT, SENIORITY_MIX)
        )
    country = draw().choice(len(COUNTRIES), n_leads, p=COUNTRY_MIX)
    size_log_mean = np.where(shifted, SIZE_LOG_MEAN_SHIFT, SIZE_LOG_MEAN)
    size = np.maximum(
        1, np.round(np.exp(draw().normal(size_log_mean, SIZE_LOG_SD, n_leads)))
    ).astype(np.int64)
    size_effect = np.select(
        [size < 10, size < 50, size < 200, size < 1000, size < 5000],
        [-1.0, -0.3, 0.3, 0.6, 0.4],
        0.1,
    )
    free_email = draw().random(n_leads) < np.where(
        (SENIORITY_EFFECT[seniority] < 0) | (size < 10), 0.45, 0.12
    )
    fit = (
        INDUSTRY_EFFECT[industry]
        + SENIORITY_EFFECT[seniority]
        + COUNTRY_EFFECT[country]
        + size_effect
        + np.where(free_email, FREE_EMAIL_EFFECT, 0.0)
        + source_effect
        + campaign_effect
    )
    # Interest is fit standardised on a fixed population: every lead in the gradual mode, else the
    # leads before SHIFT_DAY, which the shift leaves alone.
    usual = fit if gradual else fit[created_us < shift_us]
    interest = (
        0.35 * (fit - usual.mean()) / usual.std()
        + 0.94 * draw().normal(size=n_leads)
        + IN_MARKET_INTEREST * lead_in_market
    )

    early = _activities(draw, created_us, interest, np.zeros(n_leads), SNAPSHOT_DAYS * DAY_US)
    lead_idx, occurred, type_code = early
    snapshot_us = created_us + SNAPSHOT_DAYS * DAY_US
    intent = _intent(lead_idx, occurred, type_code, snapshot_us, n_leads)
    colleagues = _colleague_high_intent(account, lead_idx, occurred, type_code, snapshot_us)
    base_logit = (
        BASE_LOGIT_START + (BASE_LOGIT_END - BASE_LOGIT_START) * t if gradual else BASE_LOGIT_START
    )
    logit = (
        base_logit
        + fit
        + INTENT_SCALE * np.log1p(intent)
        + IN_MARKET_LOGIT * lead_in_market
        + BUYING_GROUP_LOGIT * np.log1p(colleagues)
        + draw().normal(0.0, NOISE_SD, n_leads)
    )
    probability = 1.0 / (1.0 + np.exp(-logit))
    won = draw().random(n_leads) < probability

    close_days = np.where(
        won,
        np.minimum(2 + draw().gamma(2.5, 12.0, n_leads), 85.0),
        draw().uniform(1.0, 150.0, n_leads),
    )
    closes = won | (draw().random(n_leads) < 0.65)
    closed_us = snapshot_us + (close_days * DAY_US).astype(np.int64)
    closes &= closed_us <= exported_us

    # After the snapshot, buyers keep engaging until they close; others fade.
    later_end = np.where(closes, closed_us, np.minimum(snapshot_us + 150 * DAY_US, exported_us))
    late = _activities(draw, snapshot_us, interest + 2.0 * won, won * 3.0, None, later_end)
    # Mail clients that pre-fetch images inflate email opens in the last six months: a drift in
    # the data that carries no buying intent.
    extra_opens = np.where(t > 0.65, 2.0, 0.0) if gradual else np.zeros(n_leads)
    inflated = _extra_opens(draw, created_us, extra_opens)
    lead_idx = np.concatenate([early[0], late[0], inflated[0]])
    occurred = np.concatenate([early[1], late[1], inflated[1]])
    type_code = np.concatenate([early[2], late[2], inflated[2]])
    keep = occurred <= exported_us
    lead_idx, occurred, type_code = lead_idx[keep], occurred[keep], type_code[keep]
    if not gradual:
        # Each lead's events together, leads in order of creation: the duplicates' draw then
        # meets the leads before the shift first, whatever the shift does to the later ones.
        by_lead = np.argsort(lead_idx, kind="stable")
        lead_idx, occurred, type_code = lead_idx[by_lead], occurred[by_lead], type_code[by_lead]
    duplicates = draw().random(len(lead_idx)) < DUPLICATE_SHARE
    lead_idx = np.concatenate([lead_idx, lead_idx[duplicates]])
    occurred = np.concatenate([occurred, occurred[duplicates]])
    type_code = np.concatenate([type_code, type_code[duplicates]])
    order = np.argsort(occurred, kind="stable")

    lead_ids = pd.Series(np.arange(1, n_leads + 1)).map("L{:07d}".format).to_numpy(dtype=object)
    activities = pd.DataFrame(
        {
            "lead_id": lead_ids[lead_idx[order]],
            "occurred_at": _timestamps(occurred[order]),
            "activity_type": np.array(ACTIVITY_TYPES, dtype=object)[type_code[order]],
        }
    )
    outcomes = pd.DataFrame(
        {
            "lead_id": lead_ids[closes],
            "status": np.where(won[closes], "won", "lost").astype(object),
            "closed_at": _timestamps(closed_us[closes]),
        }
    )
    leads = pd.DataFrame(
        {
            "lead_id": lead_ids,
            "created_at": _timestamps(created_us),
            "source": np.array(SOURCES, dtype=object)[source],
            "campaign": campaign,
            "country": _messy_case(draw, np.array(COUNTRIES, dtype=object)[country], 0.15),
            "industry": _missing(
                draw, _messy_case(draw, np.array(INDUSTRIES, dtype=object)[industry], 0.2), 0.05
            ),
            "company_size": pd.array(
                np.where(draw().random(n_leads) < 0.08, None, size), dtype="Int64"
            ),
            "job_title": _missing(draw, _titles(draw, seniority), 0.05),
            "company_domain": company_domain,
            **_emails(draw, lead_ids, free_email, domain),
            **_sales_columns(draw, won, closes, closed_us, n_leads),
        }
    )
    # The leak battery and the placeholders draw from their own stream, so the columns above are
    # the same as without them.
    planted = np.random.default_rng([seed, 1])
    worked = closes | (created_us + (SNAPSHOT_DAYS + HORIZON_DAYS) * DAY_US <= exported_us)
    leak_columns = _leak_battery(planted, won, closes, worked, closed_us, t)
    placeholders = _placeholders(planted, leads)
    leads = leads.assign(**_personal(planted, n_leads), **leak_columns)
    truth = pd.DataFrame(
        {
            "lead_id": lead_ids,
            "true_probability": probability,
            "account": domain,
            "account_in_market": lead_in_market,
        }
    )
    exported_at = datetime.fromtimestamp(exported_us / 1_000_000, tz=UTC)
    truth_columns: dict[str, object] = {
        "leak_columns": {**SALES_COLUMN_KINDS, **{c: LEAK_COLUMN_KIND[c] for c in leak_columns}},
        "personal_columns": list(PERSONAL_COLUMNS),
        "placeholders": placeholders,
        "honest_columns": list(HONEST_COLUMNS),
        "drift": {
            "mode": drift,
            "shift_at": SHIFT_AT.isoformat() if drift == "shift" else None,
            "what_changes": DRIFT_CHANGES[drift],
        },
        "account_effect": ACCOUNT_EFFECT,
    }
    return DemoExport(leads, activities, outcomes, truth, exported_at, truth_columns, drift)


def write(export: DemoExport, out: Path, *, fmt: str = "parquet", seed: int | None = None) -> Path:
    """Write the three export tables, the truth file and a manifest to `out`."""
    if fmt not in ("parquet", "csv"):
        raise DemoDataError(f"expected --format parquet or csv, got {fmt!r}")
    out.mkdir(parents=True, exist_ok=True)
    for name in (*TABLES, "truth"):
        frame: pd.DataFrame = getattr(export, name)
        path = out / f"{name}.{fmt}"
        if fmt == "parquet":
            frame.to_parquet(path, index=False)
        else:
            frame.to_csv(path, index=False)
    (out / TRUTH_COLUMNS_FILE).write_text(json.dumps(export.truth_columns, indent=2))
    manifest = {
        "generator_version": GENERATOR_VERSION,
        "leads": len(export.leads),
        "seed": seed,
        "drift": export.drift,
        "format": fmt,
        "exported_at": export.exported_at.isoformat(),
        "rows": {name: len(getattr(export, name)) for name in (*TABLES, "truth")},
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return out


def is_complete(out: Path, *, n_leads: int, seed: int, drift: DriftMode = "gradual") -> bool:
    """Whether `out` already holds this very demo export, so it can be reused."""
    try:
        manifest = json.loads((out / "manifest.json").read_text())
    except (OSError, ValueError):
        return False
    fmt = manifest.get("format")
    return (
        manifest.get("generator_version") == GENERATOR_VERSION
        and manifest.get("leads") == n_leads
        and manifest.get("seed") == seed
        and manifest.get("drift") == drift
        and all((out / f"{name}.{fmt}").is_file() for name in (*TABLES, "truth"))
        and (out / TRUTH_COLUMNS_FILE).is_file()
    )


class _Streams:
    """Where each random draw comes from. The gradual mode keeps its one historical stream; the
    other modes give every draw a stream of its own, so a draw whose size the shift changes (the
    events of later leads) never moves the draws after it."""

    def __init__(self, seed: int, *, one_stream: bool) -> None:
        self._seed = seed
        self._one = np.random.default_rng(seed) if one_stream else None
        self._drawn = 0

    def __call__(self) -> np.random.Generator:
        if self._one is not None:
            return self._one
        self._drawn += 1
        # [seed, 1] is the leak battery's stream, [seed, 3] the accounts'.
        return np.random.default_rng([self._seed, 2, self._drawn])


def _accounts(
    rng: np.random.Generator, created_us: np.ndarray, start_us: int
) -> tuple[np.ndarray, np.ndarray]:
    """Each lead's account, and whether each account is in market. Accounts are centred on
    moments spread over the 18 months, and a lead joins the one nearest to its creation moved by
    N(0, `ACCOUNT_SPREAD_DAYS`): so an account's leads arrive within weeks, as a buying group."""
    n_accounts = max(1, round(len(created_us) / LEADS_PER_ACCOUNT))
    # Centres reach three spreads past either end, so the first and last accounts are no larger.
    margin = round(3 * ACCOUNT_SPREAD_DAYS * DAY_US)
    span = SPAN_DAYS * DAY_US + 2 * margin
    centres = np.sort(start_us - margin + rng.integers(0, span, n_accounts))
    arrival = created_us + rng.normal(0.0, ACCOUNT_SPREAD_DAYS, len(created_us)) * DAY_US
    later = np.searchsorted(centres, arrival).clip(0, n_accounts - 1)
    earlier = (later - 1).clip(0)
    nearer_earlier = arrival - centres[earlier] <= np.abs(centres[later] - arrival)
    account = np.where(nearer_earlier, earlier, later)
    return account, rng.random(n_accounts) < IN_MARKET_SHARE


def _choose_rows(rng: np.random.Generator, probabilities: np.ndarray) -> np.ndarray:
    """One category per row, each row with its own probabilities."""
    cumulative = np.cumsum(probabilities, axis=1)
    draws = rng.random(len(probabilities)) * cumulative[:, -1]
    return (draws[:, None] > cumulative).sum(axis=1)


def _activities(
    draw: Draw,
    window_start: np.ndarray,
    interest: np.ndarray,
    extra_rate: np.ndarray,
    window_us: int | None,
    window_end: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Events per lead in [start, end): more of them, and more high-intent ones, with interest."""
    counts = draw().poisson(np.exp(0.9 + 0.55 * np.clip(interest, -3, 3)) + extra_rate)
    lead_idx = np.repeat(np.arange(len(interest)), counts)
    length = (
        np.full(len(interest), window_us)
        if window_end is None
        else np.maximum(window_end - window_start, 1)
    )
    occurred = window_start[lead_idx] + (draw().random(len(lead_idx)) * length[lead_idx]).astype(
        np.int64
    )
    high_share = 1.0 / (1.0 + np.exp(-(-1.6 + 1.1 * interest)))
    is_high = draw().random(len(lead_idx)) < high_share[lead_idx]
    high = np.array([ACTIVITY_TYPES.index(a) for a in HIGH_INTENT])
    low = np.array([ACTIVITY_TYPES.index(a) for a in LOW_INTENT])
    type_code = np.where(
        is_high,
        high[draw().choice(len(HIGH_INTENT), len(lead_idx), p=HIGH_INTENT_MIX)],
        low[draw().choice(len(LOW_INTENT), len(lead_idx), p=LOW_INTENT_MIX)],
    )
    return lead_idx, occurred, type_code


def _intent(
    lead_idx: np.ndarray,
    occurred: np.ndarray,
    type_code: np.ndarray,
    snapshot_us: np.ndarray,
    n_leads: int,
) -> np.ndarray:
    weight = np.full(len(ACTIVITY_TYPES), 0.0)
    for name, w in zip(HIGH_INTENT, HIGH_INTENT_WEIGHT, strict=True):
        weight[ACTIVITY_TYPES.index(name)] = w
    age_days = (snapshot_us[lead_idx] - occurred) / DAY_US
    high = weight[type_code] * np.exp(-age_days / INTENT_DECAY_DAYS)
    low = np.where(weight[type_code] == 0, LOW_INTENT_WEIGHT, 0.0)
    return np.bincount(lead_idx, weights=high + low, minlength=n_leads)


def _colleague_high_intent(
    account: np.ndarray,
    lead_idx: np.ndarray,
    occurred: np.ndarray,
    type_code: np.ndarray,
    snapshot_us: np.ndarray,
) -> np.ndarray:
    """For each lead, how many high-intent actions among the first-week events given (`lead_idx`,
    `occurred`, `type_code`) its colleagues created before it took in the
    `BUYING_GROUP_WINDOW_DAYS` up to its snapshot: the buying group's pull (module docstring).

    Leads come in creation order, so "created before" is "a smaller index"; such a colleague's
    first week ends by the lead's snapshot, so every one of its actions is at or before it. The
    count is then all the earlier colleagues' actions (a running sum over each account's leads)
    less those at or before the window's start, which only earlier colleagues can have taken (two
    binary searches per lead). Sorts and searches only, so a million leads take a second."""
    n_leads = len(account)
    high = np.isin(type_code, [ACTIVITY_TYPES.index(name) for name in HIGH_INTENT])
    actor, moment = lead_idx[high], occurred[high]
    # The actions of earlier colleagues: a running sum over the account's leads in creation order.
    per_lead = np.bincount(actor, minlength=n_leads)
    by_account = np.argsort(account, kind="stable")
    running = np.cumsum(per_lead[by_account]) - per_lead[by_account]
    first = np.searchsorted(account[by_account], account[by_account])
    earlier = np.empty(n_leads, dtype=np.int64)
    earlier[by_account] = running - running[first]
    # The actions at or before the window's start: each action's rank in time beside its account
    # makes one sortable key, so a lead's count is two binary searches.
    by_time = np.argsort(moment, kind="stable")
    rank = np.empty(len(moment), dtype=np.int64)
    rank[by_time] = np.arange(len(moment))
    stride = len(moment) + 1
    keys = np.sort(account[actor] * stride + rank)
    window_start = snapshot_us - round(BUYING_GROUP_WINDOW_DAYS * DAY_US)
    cut = np.searchsorted(moment[by_time], window_start, side="right")
    older = np.searchsorted(keys, account * stride + cut) - np.searchsorted(keys, account * stride)
    return earlier - older


def _extra_opens(
    draw: Draw, created_us: np.ndarray, rate: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`rate` email opens per lead on average, in its first 30 days, carrying no intent."""
    counts = draw().poisson(rate)
    lead_idx = np.repeat(np.arange(len(created_us)), counts)
    occurred = created_us[lead_idx] + (draw().random(len(lead_idx)) * 30 * DAY_US).astype(np.int64)
    type_code = np.full(len(lead_idx), ACTIVITY_TYPES.index("email_open"))
    return lead_idx, occurred, type_code


def _titles(draw: Draw, seniority: np.ndarray) -> np.ndarray:
    titles = np.empty(len(seniority), dtype=object)
    for code, level in enumerate(SENIORITY):
        rows = np.flatnonzero(seniority == code)
        options = np.array(TITLES[level], dtype=object)
        titles[rows] = options[draw().integers(0, len(options), len(rows))]
    return _messy_case(draw, titles, 0.25)


def _messy_case(draw: Draw, values: np.ndarray, share: float) -> np.ndarray:
    """Lower-, upper-case or pad a share of the values, as hand-typed CRM fields are."""
    out = values.copy()
    style = draw().integers(0, 3, len(values))
    touched = np.flatnonzero(draw().random(len(values)) < share)
    for row in touched:
        text = out[row]
        out[row] = (text.lower(), text.upper(), f" {text} ")[style[row]]
    return out


def _missing(draw: Draw, values: np.ndarray, share: float) -> np.ndarray:
    out = values.copy()
    out[draw().random(len(values)) < share] = None
    return out


def _emails(
    draw: Draw, lead_ids: np.ndarray, free: np.ndarray, company_domain: np.ndarray
) -> dict[str, np.ndarray]:
    """An email per lead: at its company's domain, or at a webmail domain for `free` leads."""
    n_leads = len(lead_ids)
    free_pick = np.array(FREE_DOMAINS, dtype=object)[draw().integers(0, len(FREE_DOMAINS), n_leads)]
    domain = np.where(free, free_pick, company_domain)
    email = pd.Series(lead_ids).str.lower() + "@" + pd.Series(domain)
    return {"email": email.to_numpy(dtype=object), "email_domain": domain}


def _sales_columns(
    draw: Draw,
    won: np.ndarray,
    closes: np.ndarray,
    closed_us: np.ndarray,
    n_leads: int,
) -> dict[str, object]:
    """What sales writes after the outcome: the leak a leakage audit must catch."""
    lost_labels = np.array(["Closed Lost", "Disqualified", "Unresponsive"], dtype=object)
    open_labels = np.array(["Working", "Nurture", "New", None], dtype=object)
    status = np.where(
        closes & won,
        "Closed Won",
        np.where(
            closes,
            lost_labels[draw().integers(0, 3, n_leads)],
            open_labels[draw().integers(0, 4, n_leads)],
        ),
    ).astype(object)
    updated = pd.Series(_timestamps(closed_us)).where(closes, None)
    return {"sales_status": status, "status_updated_at": updated.to_numpy()}


HORIZON_DAYS = 90  # training's default horizon: older leads are decided, newer open ones are not
HONEST_COLUMNS = ("source", "campaign", "country", "industry", "company_size", "job_title",
                  "email_domain", "company_domain")  # fmt: skip
SALES_COLUMN_KINDS = {
    "sales_status": "near_perfect_separator",
    "status_updated_at": "stamped_at_outcome",
}
LEAK_COLUMN_KIND = {
    "contract_signed_at": "stamped_at_outcome",
    "contract_value": "filled_for_one_outcome",
    "lost_to_competitor": "filled_for_one_outcome",
    "rep_score": "rep_assigned_score",
    "lead_grade": "rep_assigned_score",
    "profile_index": "rep_assigned_score",
    "budget_confirmed": "missing_for_one_outcome",
    "sales_notes": "free_text_notes",
}
COMPETITORS = np.array(
    ["Acme CRM", "Globex Sales", "Initech Leads", "Umbrella Suite"], dtype=object
)
NOTES_WON = ("Signed after the demo", "Procurement approved", "Contract out for signature",
             "Champion confirmed budget")  # fmt: skip
NOTES_LOST = ("No budget this year", "Went with a competitor", "Not the decision maker",
              "Stopped replying after the first call")  # fmt: skip
NOTES_OPEN = ("Left a voicemail", "Sent the pricing deck", "Asked to call back next quarter",
              "Booked a discovery call")  # fmt: skip


def _leak_battery(
    rng: np.random.Generator,
    won: np.ndarray,
    closes: np.ndarray,
    worked: np.ndarray,
    closed_us: np.ndarray,
    t: np.ndarray,
) -> dict[str, object]:
    """The columns sales fills in during or after the deal, of every kind in `LEAK_KINDS`."""
    n = len(won)
    lost = ~won
    signed = pd.Series(_timestamps(closed_us - rng.integers(0, DAY_US, n))).where(closes & won)
    value = np.round(np.exp(rng.normal(9.5, 0.8, n)), -2)
    competitor = COMPETITORS[rng.integers(0, len(COMPETITORS), n)]
    # Reps score a lead once they work it; the habit spread from 40% of leads to nearly all.
    adoption = 0.4 + 0.57 * t
    scored = worked & (rng.random(n) < adoption) | ~worked & (rng.random(n) < 0.1)
    latent = 0.7 * won + rng.normal(0.0, 1.0, n)
    grade = np.array(["D", "C", "B", "A"], dtype=object)[
        np.digitize(0.7 * won + rng.normal(0.0, 1.0, n), [-0.6, 0.2, 1.0])
    ]
    indexed = worked & (rng.random(n) < adoption) | ~worked & (rng.random(n) < 0.1)
    budget = np.where(rng.random(n) < np.where(won, 0.7, 0.45), "yes", "no").astype(object)
    budget_filled = rng.random(n) < np.where(won, 0.85, np.where(closes, 0.25, 0.3))
    note = np.where(
        closes & won,
        np.array(NOTES_WON, dtype=object)[rng.integers(0, 4, n)],
        np.where(
            closes,
            np.array(NOTES_LOST, dtype=object)[rng.integers(0, 4, n)],
            np.array(NOTES_OPEN, dtype=object)[rng.integers(0, 4, n)],
        ),
    )
    calls = rng.integers(1, 9, n)
    notes = (
        pd.Series(note)
        + "; "
        + pd.Series(calls).astype(str)
        + " calls, last on day "
        + (pd.Series(rng.integers(1, 365, n)).astype(str))
    )
    return {
        "contract_signed_at": signed.to_numpy(),
        "contract_value": np.where(won & (rng.random(n) < 0.07), value, np.nan),
        "lost_to_competitor": np.where(lost & closes & (rng.random(n) < 0.06), competitor, None),
        "rep_score": np.where(scored, np.clip(np.round(50 + 15 * latent), 0, 100), np.nan),
        "lead_grade": np.where(scored, grade, None),
        "profile_index": np.where(
            indexed, np.round(0.6 * won + rng.normal(0.0, 1.0, n), 2), np.nan
        ),
        "budget_confirmed": np.where(budget_filled, budget, None),
        "sales_notes": notes.where(worked & (rng.random(n) < 0.8), None).to_numpy(dtype=object),
    }


def _placeholders(rng: np.random.Generator, leads: pd.DataFrame) -> dict[str, dict[str, int]]:
    """Write form placeholders into honest columns, as web forms do; return what was written."""
    written: dict[str, dict[str, int]] = {}
    for column, share in PLACEHOLDER_SHARE.items():
        rows = np.flatnonzero(rng.random(len(leads)) < share)
        picks = np.array(PLACEHOLDERS, dtype=object)[rng.integers(0, len(PLACEHOLDERS), len(rows))]
        values = leads[column].to_numpy(dtype=object).copy()
        values[rows] = picks
        leads[column] = values
        written[column] = {str(k): int(v) for k, v in pd.Series(picks).value_counts().items()}
    return written


def _personal(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """A phone number and a full name per lead: personal data a model must never read."""
    first = np.array(FIRST_NAMES, dtype=object)[rng.integers(0, len(FIRST_NAMES), n)]
    last = np.array(LAST_NAMES, dtype=object)[rng.integers(0, len(LAST_NAMES), n)]
    digits = rng.integers(0, 10_000_000, n)
    phone = pd.Series(digits).map(lambda d: f"+1 555-{d // 10_000:03d}-{d % 10_000:04d}")
    return {"phone": phone.to_numpy(dtype=object), "full_name": first + " " + last}


def _timestamps(micros: np.ndarray) -> pd.DatetimeIndex:
    return pd.to_datetime(np.asarray(micros, dtype=np.int64), unit="us", utc=True)
