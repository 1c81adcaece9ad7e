"""The API docs: an OpenAPI document that states each route's key and every error it answers,
and Swagger UI and ReDoc that render from the app alone, in a browser cut off from the network."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from scoring import Settings
from serving.app import create_app
from tests.helpers import free_port, headless_chromium

SCORE_KEY, ADMIN_KEY = "docs-score-key-123", "docs-admin-key-456"
FEEDBACK_KEY = "docs-feedback-key-789"
CREDENTIALS = {
    "none": {},
    "score": {"X-API-Key": SCORE_KEY},
    "feedback": {"X-API-Key": FEEDBACK_KEY},
    "admin": {"Authorization": f"Bearer {ADMIN_KEY}"},
}
# Every operation: the key scope it documents (None: no key) and every status it documents.
DOCUMENTED = {
    ("post", "/v1/score"): ("score", {200, 401, 403, 413, 415, 422, 500, 503}),
    ("post", "/v1/score/batch"): ("score", {200, 401, 403, 413, 415, 422, 500, 503}),
    ("post", "/v1/accounts/score"): ("score", {200, 401, 403, 413, 415, 422, 500, 503}),
    ("get", "/v1/model"): ("score", {200, 401, 403, 500, 503}),
    ("post", "/v1/outcomes"): ("feedback", {200, 401, 403, 413, 415, 422, 500, 503}),
    ("get", "/v1/leads/{lead_id}/scores"): ("score", {200, 401, 403, 422, 500, 503}),
    ("get", "/v1/performance"): ("score", {200, 401, 403, 422, 500, 503}),
    ("get", "/healthz"): (None, {200, 500}),
    ("get", "/readyz"): (None, {200, 500, 503}),
    ("get", "/report"): ("admin", {200, 401, 403, 404, 500, 503}),
    ("get", "/metrics"): ("admin", {200, 401, 403, 500}),
}
CODES = {
    401: {"unauthorized"},
    403: {"forbidden"},
    404: {"no_report"},
    413: {"body_too_large", "batch_too_large"},
    415: {"unsupported_media_type"},
    422: {"invalid_request", "too_many_activities", "unused_input"},
    500: {"internal_error"},
    503: {
        "model_unavailable",
        "prediction_log_full",
        "prediction_log_off",
        "prediction_log_unreachable",
    },
}


@pytest.fixture(scope="module")
def docs_app() -> FastAPI:
    """An app with keys and no model; never started, since the docs need no model."""
    return create_app(
        Settings(
            api_keys=f"{SCORE_KEY}:score,{FEEDBACK_KEY}:feedback,{ADMIN_KEY}:admin",
            secret_key="docs-test-secret",
            max_batch_leads=250,
            prediction_db="",
            model_poll_seconds=0,
        )
    )


@pytest.fixture(scope="module")
def docs_client(docs_app: FastAPI) -> TestClient:
    return TestClient(docs_app)  # outside `with`: no start-up, so no model is loaded


@pytest.fixture(scope="module")
def spec(docs_client: TestClient) -> dict[str, Any]:
    return docs_client.get("/openapi.json").json()


def test_the_document_declares_both_ways_to_send_a_key_beside_the_bodies(
    spec: dict[str, Any],
) -> None:
    assert {(m, p) for p, operations in spec["paths"].items() for m in operations} == set(
        DOCUMENTED
    )
    schemes = spec["components"]["securitySchemes"]
    assert set(schemes) == {"ApiKey", "Bearer"}
    key, bearer = schemes["ApiKey"], schemes["Bearer"]
    assert (key["type"], key["in"], key["name"]) == ("apiKey", "header", "X-API-Key")
    assert (bearer["type"], bearer["scheme"]) == ("http", "bearer")
    # `document_bodies` and `install_docs` both added their models.
    assert {"Lead", "BatchRequest", "ErrorResponse", "ErrorDetail"} <= set(
        spec["components"]["schemas"]
    )


@pytest.mark.parametrize(
    ("method", "path", "scope", "statuses"),
    [
        pytest.param(method, path, scope, statuses, id=f"{method.upper()} {path}")
        for (method, path), (scope, statuses) in DOCUMENTED.items()
    ],
)
def test_each_route_documents_its_key_and_every_status_it_answers(
    spec: dict[str, Any], method: str, path: str, scope: str | None, statuses: set[int]
) -> None:
    operation = spec["paths"][path][method]
    security = [] if scope is None else [{"ApiKey": [scope]}, {"Bearer": [scope]}]
    assert operation.get("security", []) == security
    assert {int(status) for status in operation["responses"]} == statuses
    for status in statuses - {200}:
        content = operation["responses"][str(status)]["content"]["application/json"]
        assert content["schema"] == {"$ref": "#/components/schemas/ErrorResponse"}
        examples = [example["value"] for example in content["examples"].values()]
        assert examples, status
        for example in examples:
            assert set(example) == {"error"}
            assert set(example["error"]) == {"code", "message", "field"}
            assert example["error"]["code"] in CODES[status]
    request_id = operation["responses"]["500"]["headers"]["X-Request-ID"]
    assert request_id["schema"] == {"type": "string"}


def test_examples_tell_the_servers_own_limits(spec: dict[str, Any]) -> None:
    batch = spec["paths"]["/v1/score/batch"]["post"]["responses"]
    examples = batch["413"]["content"]["application/json"]["examples"]
    assert set(examples) == {"body_too_large", "batch_too_large"}
    assert "at most 250 leads, got 251" in examples["batch_too_large"]["value"]["error"]["message"]
    single = spec["paths"]["/v1/score"]["post"]["responses"]["413"]["content"]
    assert set(single["application/json"]["examples"]) == {"body_too_large"}
    invalid = batch["422"]["content"]["application/json"]["examples"]["invalid_request"]
    assert invalid["value"]["error"]["field"] == "company_size"


def test_routes_answer_401_403_and_503_exactly_where_documented(
    docs_client: TestClient, spec: dict[str, Any]
) -> None:
    """The hand-kept table in serving.docs, held to what the routes do: keys are configured
    and no model is loaded, so each of these errors is one request away, and its code must be
    one the route's examples show."""
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            documented = operation["responses"]
            answers = {
                name: docs_client.request(method, path, headers=headers)
                for name, headers in CREDENTIALS.items()
            }
            statuses = {name: answer.status_code for name, answer in answers.items()}
            assert (statuses["none"] == 401) == ("401" in documented), (path, statuses)
            refused = 403 in (statuses["score"], statuses["feedback"])
            assert refused == ("403" in documented), (path, statuses)
            assert (statuses["admin"] == 503) == ("503" in documented), (path, statuses)
            for answer in answers.values():
                if answer.status_code >= 400:
                    content = documented[str(answer.status_code)]["content"]
                    examples = content["application/json"]["examples"].values()
                    codes = {example["value"]["error"]["code"] for example in examples}
                    assert answer.json()["error"]["code"] in codes, (path, answer.text)


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_pages_load_nothing_but_the_apps_own_files(docs_client: TestClient, page: str) -> None:
    answer = docs_client.get(page)  # with no key
    assert answer.status_code == 200
    assert answer.headers["content-security-policy"].startswith("default-src 'self'")
    assert not re.search(r"https?:|cdn", answer.text, re.IGNORECASE)
    references = [
        first or second
        for first, second in re.findall(
            r"""(?:src|href|spec-url)="([^"]*)"|url: '([^']*)'""", answer.text
        )
    ]
    assert "/openapi.json" in references and len(references) >= 3, references
    for reference in references:
        assert reference.startswith("/") and not reference.startswith("//"), reference
        asset = docs_client.get(reference)
        assert asset.status_code == 200 and asset.content, reference


@pytest.fixture(scope="module")
def served(docs_app: FastAPI) -> Iterator[str]:
    """The app on a loopback port, for a browser; without start-up, as the docs need no model."""
    port = free_port()
    config = uvicorn.Config(
        docs_app, host="127.0.0.1", port=port, lifespan="off", log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    """Headless Chromium that reaches the loopback only: other names do not resolve, and what
    would still go out goes to a proxy port where nothing listens."""
    driver = headless_chromium(
        tmp_path_factory.mktemp("chromium") / "profile",
        "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
        "--proxy-server=http://127.0.0.1:9",
        "--proxy-bypass-list=127.0.0.1",
    )
    try:
        with pytest.raises(WebDriverException, match="net::ERR_"):
            driver.get("https://example.com/")  # the network is out of reach
        yield driver
    finally:
        driver.quit()


def _open(driver: WebDriver, url: str) -> None:
    """Load `url` with the console log emptied of what earlier pages left in it."""
    driver.get_log("browser")
    driver.get(url)


def _unblocked_errors(driver: WebDriver) -> list[dict[str, Any]]:
    """Console errors, but for the page's own policy refusing a load: such a request never
    left the browser (ReDoc's bundle asks its CDN for a logo)."""
    return [
        entry
        for entry in driver.get_log("browser")
        if entry["level"] == "SEVERE" and entry["source"] != "security"
    ]


@pytest.mark.integration
def test_swagger_ui_renders_with_no_network(browser: WebDriver, served: str) -> None:
    _open(browser, f"{served}/docs")
    WebDriverWait(browser, 10).until(
        lambda driver: len(driver.find_elements(By.CSS_SELECTOR, ".opblock")) == len(DOCUMENTED)
    )
    title = browser.find_element(By.CSS_SELECTOR, ".swagger-ui .info .title").text
    assert title.startswith("leadscore")
    paths = [
        element.text.replace("\u200b", "")
        for element in browser.find_elements(By.CSS_SELECTOR, ".opblock-summary-path")
    ]
    assert sorted(paths) == sorted(path for _, path in DOCUMENTED)
    assert browser.find_elements(By.CSS_SELECTOR, ".btn.authorize")  # the security schemes
    assert _unblocked_errors(browser) == []


@pytest.mark.integration
def test_redoc_renders_with_no_network(browser: WebDriver, served: str) -> None:
    _open(browser, f"{served}/redoc")
    operations = '[id^="operation/"]'
    WebDriverWait(browser, 10).until(
        lambda driver: len(driver.find_elements(By.CSS_SELECTOR, operations)) == len(DOCUMENTED)
    )
    assert browser.find_element(By.TAG_NAME, "h1").text.startswith("leadscore")
    assert _unblocked_errors(browser) == []
