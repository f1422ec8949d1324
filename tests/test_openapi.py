"""The API contract: ``openapi.yaml`` is valid OpenAPI, describes every route, and the app,
fuzzed in process through its Lambda entry point, never answers 5xx or off the document."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
import yaml
from apigw import event
from hypothesis import HealthCheck, settings
from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import validate
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from infra.local_stack import gateway

ROOT = Path(__file__).resolve().parent.parent
DOCUMENT = ROOT / "openapi.yaml"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]

schema = schemathesis.openapi.from_path(DOCUMENT)
schema.config.generation.update(
    modes=[schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE], max_examples=40
)


def test_the_document_is_valid_openapi() -> None:
    validate(yaml.safe_load(DOCUMENT.read_text()))


def test_every_route_of_the_app_is_described(lambda_handler) -> None:
    import sys

    app = sys.modules["handler.main"].app
    document = yaml.safe_load(DOCUMENT.read_text())
    described = {(path, method.upper()) for path, item in document["paths"].items() for method in item}
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.endpoint.startswith("inbox."):
            continue  # the inbox: the therapist's HTML pages, not the website's API
        path = rule.rule.replace("<", "{").replace(">", "}")
        routes |= {(path, method) for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert routes == described


@pytest.fixture
def api(aws, make_handler) -> Iterator[Any]:
    """The entry point behind the local stand-in for API Gateway, as a WSGI app on moto,
    asking every intake question (so that the document's are taken, and their definition
    checked), with LICENSED_STATES (so that some visitors get the referral notice)."""
    yield gateway(
        make_handler(
            RATE_LIMIT_COUNT="50",
            INTAKE_QUESTIONS="client_type,session_format,state,payment,availability,voicemail_ok",
            LICENSED_STATES="NY",
        )
    )


@schema.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_the_app_keeps_to_the_document(case: Any, api: Any) -> None:
    response = case.call(app=api)
    case.validate_response(response, checks=CHECKS)


# The answers no operation lists: documented as components, and checked here through the entry point.

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
DOCUMENTED = yaml.safe_load(DOCUMENT.read_text())


def check_against(response_name: str, result: dict[str, Any]) -> None:
    """``result`` (a Lambda response) is what ``components.responses.<response_name>`` documents."""
    documented = DOCUMENTED["components"]["responses"][response_name]
    headers = {name.lower(): value for name, value in result["headers"].items()}
    assert headers["content-type"] in documented["content"]
    for name, header in documented.get("headers", {}).items():
        if header.get("required"):
            assert name.lower() in headers, f"{response_name}: no {name} header"
        if name.lower() in headers:
            OAS30Validator(header["schema"]).validate(headers[name.lower()])
    schema = documented["content"][headers["content-type"]]["schema"]
    OAS30Validator({**schema, "components": DOCUMENTED["components"]}).validate(json.loads(result["body"]))


def concrete(path: str) -> str:
    return path.replace("{slug}", "what-is-psychodynamic-therapy")


@pytest.mark.parametrize(
    ("method", "path"),
    [(method, path) for path, item in DOCUMENTED["paths"].items() for method in METHODS if method.lower() not in item],
)
def test_a_method_a_path_does_not_list_is_answered_as_documented(lambda_handler, method: str, path: str) -> None:
    result = lambda_handler(event(method, concrete(path), body="{}"), None)
    assert result["statusCode"] == 405
    check_against("MethodNotAllowed", result)
    declared = {name.upper() for name in DOCUMENTED["paths"][path]}
    assert set(result["headers"]["Allow"].split(", ")) == declared | {"HEAD", "OPTIONS"}


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("path", ["/", "/wp-login.php", "/articles/", "/contact/extra", "/health.json"])
def test_a_path_not_listed_is_answered_as_documented(lambda_handler, method: str, path: str) -> None:
    assert path not in DOCUMENTED["paths"]
    result = lambda_handler(event(method, path, body="{}"), None)
    assert result["statusCode"] == 404
    check_against("NotFound", result)


def test_an_unknown_slug_is_answered_as_documented(lambda_handler) -> None:
    result = lambda_handler(event("GET", "/articles/no-such-article"), None)
    assert result["statusCode"] == 404
    assert DOCUMENTED["paths"]["/articles/{slug}"]["get"]["responses"]["404"] == {
        "$ref": "#/components/responses/NotFound"
    }
    check_against("NotFound", result)
