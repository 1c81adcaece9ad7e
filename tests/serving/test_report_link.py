"""Signed, expiring report links: a marketer's browser opens `/report` with no key, and the link
opens nothing else."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from leadscore.cli import app as cli
from scoring import Settings
from serving.app import create_app
from serving.auth import report_link_signature
from tests.conftest import FittedModel
from training.report import render_report

SCORE_KEY, ADMIN_KEY = "link-score-key-123", "link-admin-key-456"
KEYS = f"{SCORE_KEY}:score,{ADMIN_KEY}:admin"
SECRET = "link-test-secret"
BROWSER = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
runner = CliRunner()


@pytest.fixture(scope="module")
def linked(fitted: FittedModel) -> Iterator[TestClient]:
    """A server with keys on, the shared secret, and a model that has its report."""
    settings = Settings(api_keys=KEYS, secret_key=SECRET, prediction_db="", model_poll_seconds=0)
    page = render_report(fitted.trainer, fitted.dataset, model_name="lead-scoring", version="1")
    model = dataclasses.replace(fitted.loaded, report_html=page)
    with TestClient(create_app(settings, loaded=model)) as client:
        yield client


def _link(expires: int) -> str:
    """A report link signed as `leadscore report-link` signs it."""
    signature = report_link_signature(SECRET.encode(), str(expires))
    return f"/report?expires={expires}&signature={signature}"


def _print_link(monkeypatch: pytest.MonkeyPatch, *args: str) -> str:
    """`leadscore report-link ARGS` with the server's keys and secret in the environment: the
    one line it prints on stdout."""
    monkeypatch.setenv("LEADSCORE_API_KEYS", KEYS)
    monkeypatch.setenv("LEADSCORE_SECRET_KEY", SECRET)
    result = runner.invoke(cli, ["report-link", *args])
    assert result.exit_code == 0, result.output
    url, said = _printed(result)
    assert "Expires at" in said
    for secret in (SCORE_KEY, ADMIN_KEY, SECRET):
        assert secret not in result.output
    return url


def _printed(result: Any) -> tuple[str, str]:
    """The link, alone on its line, and all that was printed (click before 8.2 mixes stderr
    into the output, later versions keep it apart)."""
    try:
        text = result.stdout + result.stderr
    except ValueError:  # stderr not captured apart
        text = result.output
    (url,) = [line for line in text.splitlines() if "/report?" in line]
    return url, text


def _error(response, status: int) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "field"}
    return body["error"]


def test_the_printed_link_opens_the_report_in_a_browser_with_no_key(
    linked: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = int(time.time())
    url = _print_link(monkeypatch)
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("http", "127.0.0.1:8000", "/report")
    query = parse_qs(parts.query)
    assert set(query) == {"expires", "signature"}  # no key in the URL, only the link
    assert before + 3600 <= int(query["expires"][0]) <= int(time.time()) + 3600
    response = linked.get(f"{parts.path}?{parts.query}", headers=BROWSER)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert "What drives conversion" in response.text


def test_base_url_and_minutes_shape_the_link_and_out_of_range_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = _print_link(monkeypatch, "--minutes", "5", "--base-url", "https://leads.example/api/")
    assert url.startswith("https://leads.example/api/report?expires=")
    expires = int(parse_qs(urlsplit(url).query)["expires"][0])
    assert abs(expires - (time.time() + 300)) < 5
    for args in (["--minutes", "0"], ["--minutes", str(7 * 24 * 60 + 1)], ["--base-url", "x.io"]):
        assert runner.invoke(cli, ["report-link", *args]).exit_code == 2, args


def test_an_expired_link_is_403_link_expired(linked: TestClient) -> None:
    error = _error(linked.get(_link(int(time.time()) - 1), headers=BROWSER), 403)
    assert error["code"] == "link_expired"
    assert "report-link" in error["message"]


@pytest.mark.parametrize(
    "query",
    [
        pytest.param("expires={later}&signature={s}", id="later expiry"),
        pytest.param("expires=0{e}&signature={s}", id="leading zero"),
        pytest.param("expires={e}&signature={flipped}", id="one digit of the signature"),
        pytest.param("expires={e}&signature={upper}", id="upper case"),
        pytest.param("expires={e}&signature={other}", id="another secret"),
        pytest.param("expires={e}&signature=", id="empty signature"),
        pytest.param("expires={e}", id="no signature"),
        pytest.param("signature={s}", id="no expiry"),
        pytest.param("expires={e}.0&signature={s}", id="not digits"),
        pytest.param("expires=%C3%A9&signature=%C3%A9", id="not ascii"),
        pytest.param("expires={huge}&signature={s}", id="huge expiry"),
    ],
)
def test_a_tampered_link_is_403_forbidden(linked: TestClient, query: str) -> None:
    expires = int(time.time()) + 600
    signature = report_link_signature(SECRET.encode(), str(expires))
    values = {
        "e": expires,
        "s": signature,
        "later": expires + 86400,
        "flipped": signature[:-1] + ("1" if signature[-1] == "0" else "0"),
        "upper": signature.upper(),
        "other": report_link_signature(b"other-secret", str(expires)),
        "huge": "9" * 5000,
    }
    answer = linked.get(f"/report?{query.format(**values)}", headers=BROWSER)
    assert _error(answer, 403)["code"] == "forbidden"


def test_a_link_opens_no_other_route(linked: TestClient) -> None:
    query = _link(int(time.time()) + 600).partition("?")[2]
    for path in ("/v1/model", "/metrics"):
        assert _error(linked.get(f"{path}?{query}", headers=BROWSER), 401)["code"] == (
            "unauthorized"
        )


def test_keys_still_work_and_a_browser_with_neither_gets_the_json_401(linked: TestClient) -> None:
    assert linked.get("/report", headers={"X-API-Key": ADMIN_KEY}).status_code == 200
    assert _error(linked.get("/report", headers={"X-API-Key": SCORE_KEY}), 403)["code"] == (
        "forbidden"
    )
    assert _error(linked.get("/report", headers=BROWSER), 401)["code"] == "unauthorized"


def test_the_openapi_document_tells_the_link_parameters(linked: TestClient) -> None:
    operation = linked.get("/openapi.json").json()["paths"]["/report"]["get"]
    parameters = {p["name"]: p for p in operation["parameters"]}
    assert set(parameters) == {"expires", "signature"}
    assert all(p["in"] == "query" and not p["required"] for p in parameters.values())
    assert "link_expired" in parameters["expires"]["description"]


def test_cli_and_server_share_the_secret_file_made_on_first_use(
    fitted: FittedModel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without LEADSCORE_SECRET_KEY, the command makes the 0600 file and the server reads it;
    the server reads it once, on the first link, not per request."""
    secret_file = tmp_path / "leadscore.secret"
    monkeypatch.setenv("LEADSCORE_SECRET_FILE", str(secret_file))
    monkeypatch.setenv("LEADSCORE_API_KEYS", KEYS)
    result = runner.invoke(cli, ["report-link"])
    assert result.exit_code == 0, result.output
    assert secret_file.stat().st_mode & 0o777 == 0o600
    parts = urlsplit(_printed(result)[0])
    settings = Settings(
        api_keys=KEYS, secret_file=secret_file, prediction_db="", model_poll_seconds=0
    )
    model = dataclasses.replace(fitted.loaded, report_html="<html>report</html>")
    with TestClient(create_app(settings, loaded=model)) as client:
        assert client.get(f"{parts.path}?{parts.query}").status_code == 200
        secret_file.unlink()  # read once: the app keeps it
        assert client.get(f"{parts.path}?{parts.query}").status_code == 200
