"""Fuzzing: schemathesis makes requests from the OpenAPI document, sends them to the app
in-process (ASGI, the admin key on each, a prediction log in a scratch folder) and holds every
answer to the same document.

Requests per operation that takes input (POST /v1/score, POST /v1/score/batch, POST
/v1/outcomes, GET /v1/leads/{lead_id}/scores, GET /report with its link parameters): at least
1,000. First schemathesis's coverage cases (each documented bound at, inside and past its
limit, each field of the wrong type, the body missing or not declared JSON, other methods),
then Hypothesis-generated ones up to 1,000, half of schema-valid data (positive) and half of
schema-violating data (negative). GET /v1/performance gets 100: it reads the whole log and
bootstraps its intervals on every call, and its one parameter is covered long before. An
operation without input (GET /healthz, /readyz, /v1/model, /metrics) has its 9 coverage cases
and one generated request; Hypothesis has nothing else to vary.
Why that bound: 1,000 is the floor this test was asked for, and it is what fits: a generated
case costs Hypothesis 10-30 ms to draw (a nested body; the app answers in 1-3 ms), so the
module takes about 100 s on the 2-core machine. Generation is derandomized: every run, in CI
too and in any test order, sends the same requests.

Every answer must
- not be a server error (no 5xx),
- have a status code, content type, headers and body that the document declares,
- for negative data, be a rejection: 400, 413, 415 or 422 (403 for a malformed report link,
  which is a credential),
- for positive data, be a success, or a refusal the API documents for valid JSON: 422
  `unused_input` under `?strict=true`, 403 for a report link that this server did not sign.
The admin key is never refused (401 or 403).
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.config import SchemathesisConfig

from scoring import Settings
from serving.app import create_app
from tests.conftest import FittedModel
from training.report import render_report

SCORE_KEY, ADMIN_KEY = "score-key-123", "admin-key-456"
REQUESTS = 1_000  # per operation that takes input
FEWER_REQUESTS = {"GET /v1/performance": 100}
# Every operation of the document: a new one fails `test_every_operation_is_fuzzed` until it
# is listed here, and so fuzzed.
OPERATIONS = [
    "POST /v1/score",
    "POST /v1/score/batch",
    "POST /v1/accounts/score",
    "POST /v1/outcomes",
    "GET /v1/leads/{lead_id}/scores",
    "GET /v1/performance",
    "GET /v1/model",
    "GET /healthz",
    "GET /readyz",
    "GET /report",
    "GET /metrics",
]
NOT_OPERATIONS = ("/docs", "/redoc", "/docs-static")  # pages, never API operations
REJECTED = ["400", "413", "415", "422"]
HEADERS = {"X-API-Key": ADMIN_KEY}
CONFIG: dict[str, Any] = {
    # Values from the app's source code would steer generation, at several times the cost of
    # a case: plain cases reach more requests in the same time.
    "analysis": {"constants": {"enabled": False}},
    # The key goes with every request; no other credential is generated.
    "headers": HEADERS,
    "generation": {"with-security-parameters": False},
    "checks": {
        "negative_data_rejection": {"expected-statuses": REJECTED},
        # `_check_accepts` instead, which knows the refusals the API documents for valid data.
        "positive_data_acceptance": {"enabled": False},
        # These send more requests per case (without the key, with other methods) or follow
        # resources that are created and deleted, which this API has not.
        "ignored_auth": {"enabled": False},
        "unsupported_method": {"enabled": False},
        "use_after_free": {"enabled": False},
        "ensure_resource_availability": {"enabled": False},
        "object_level_authorization": {"enabled": False},
    },
    "operations": [
        {
            "include-path": "/report",
            "checks": {"negative_data_rejection": {"expected-statuses": [*REJECTED, "403"]}},
        }
    ],
}


@pytest.fixture(scope="module")
def api(fitted: FittedModel, tmp_path_factory: pytest.TempPathFactory) -> schemathesis.BaseSchema:
    """The app with API keys, a prediction log and a model with a report, as schemathesis
    reads its document."""
    folder = tmp_path_factory.mktemp("fuzz-log")
    settings = Settings(
        api_keys=f"{SCORE_KEY}:score,{ADMIN_KEY}:admin",
        prediction_db=f"sqlite:///{folder / 'log.db'}",
        prediction_spool=folder / "spool.db",
        secret_key="fuzz-secret",
        model_poll_seconds=0,
    )
    page = render_report(fitted.trainer, fitted.dataset, model_name="lead-scoring", version="1")
    app = create_app(settings, loaded=dataclasses.replace(fitted.loaded, report_html=page))
    config = SchemathesisConfig.from_dict(CONFIG)
    # schemathesis starts the app's lifespan on its first request (the log opens then) and
    # keeps it running.
    return schemathesis.openapi.from_asgi("/openapi.json", app, config=config)


def test_every_operation_is_fuzzed(api: schemathesis.BaseSchema) -> None:
    found = [f"{op.method.upper()} {op.path}" for op in (r.ok() for r in api.get_all_operations())]
    assert sorted(found) == sorted(OPERATIONS)
    assert not [key for key in found if key.split()[1].startswith(NOT_OPERATIONS)]


@pytest.mark.parametrize("key", OPERATIONS)
def test_requests_get_documented_answers(api: schemathesis.BaseSchema, key: str) -> None:
    """The coverage cases, then generated ones, half valid and half not, up to `REQUESTS`."""
    method, path = key.split()
    operation = api[path][method]
    generation = api.config.generation_for(operation=operation, phase="coverage")
    coverage = api.iter_coverage_cases(
        operation, generation_modes=list(GenerationMode), generation_config=generation
    )
    statuses: Counter[int] = Counter()
    for case in coverage:
        # Unlike those of `as_strategy`, coverage cases do not carry the configured headers.
        _check(statuses, case, case.call_and_validate(headers=HEADERS))
    print(f"{key} coverage: {_summary(statuses)}")
    takes_input = bool(list(operation.iter_parameters()) or operation.body)
    wanted = FEWER_REQUESTS.get(key, REQUESTS)
    if takes_input:
        each = -(-(wanted - sum(statuses.values())) // 2)  # rounded up
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _fuzz(operation, mode, each, statuses)
    else:  # no input, so nothing invalid to send: Hypothesis stops after the one request
        _fuzz(operation, GenerationMode.POSITIVE, 1, statuses)
    assert sum(statuses.values()) >= (wanted if takes_input else 1), statuses


def _fuzz(
    operation: schemathesis.APIOperation,
    mode: GenerationMode,
    examples: int,
    statuses: Counter[int],
) -> None:
    """Send `examples` requests generated in `mode`, derandomized: the same on every run."""
    sent: Counter[int] = Counter()

    @settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.generate],  # no shrinking: the failure shows the request as it was sent
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(mode, query=_fixed_query(operation.path, mode)))
    def send(case: schemathesis.Case) -> None:
        _check(sent, case, case.call_and_validate())

    send()
    print(f"{operation.method.upper()} {operation.path} {mode.value}: {_summary(sent)}")
    assert sent, f"no {mode.value} request was generated"
    statuses.update(sent)


def _fixed_query(path: str, mode: GenerationMode) -> dict[str, str] | None:
    """A batch answers an invalid lead with its error in place of its score, in a 200 (as it
    documents), unless `?all_or_nothing=true`, where one invalid lead fails the batch with
    422: invalid batches ask for that, so that their rejection is checked like any other's."""
    if path == "/v1/score/batch" and mode is GenerationMode.NEGATIVE:
        return {"all_or_nothing": "true"}
    return None


def _check(
    statuses: Counter[int], case: schemathesis.Case, response: schemathesis.Response
) -> None:
    """Count the answer, after the checks schemathesis cannot make from the document alone."""
    statuses[response.status_code] += 1
    if case.meta is not None and case.meta.generation.mode is GenerationMode.POSITIVE:
        _check_accepts(case, response)
    if response.status_code in (401, 403):
        assert _has_link(case), f"the admin key was refused: {response.text[:300]}"


def _summary(statuses: Counter[int]) -> str:
    return f"{sum(statuses.values())} requests, statuses {dict(sorted(statuses.items()))}"


def _flag(case: schemathesis.Case, name: str) -> bool:
    value = (case.query or {}).get(name)
    return isinstance(value, str | bool) and str(value).lower() in ("true", "1")


def _has_link(case: schemathesis.Case) -> bool:
    """A report link's parameters: judged instead of the key, and never signed here."""
    return case.path == "/report" and bool({"expires", "signature"} & set(case.query or {}))


def _check_accepts(case: schemathesis.Case, response: schemathesis.Response) -> None:
    """Valid data is answered, or refused only as documented: `unused_input` under
    `?strict=true` (the whole request, or in a batch each lead), or a link not signed here."""
    status = response.status_code
    if status < 300 and case.path == "/v1/score/batch":
        errors = [entry["error"] for entry in response.json()["scores"] if "error" in entry]
    elif status < 300 or (status == 403 and _has_link(case)):
        return
    else:
        errors = [response.json()["error"]] if status == 422 else [{"code": str(status)}]
    strict = _flag(case, "strict")
    refused = [error for error in errors if not (strict and error["code"] == "unused_input")]
    assert not refused, (
        f"valid data refused with {status}: {response.text[:800]}\n{case.as_curl_command()}"
    )
