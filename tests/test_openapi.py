"""The API contract: ``openapi.yaml`` is valid OpenAPI, describes every route, and the app,
fuzzed in process through its Lambda entry point, never answers 5xx or off the document."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
import yaml
from hypothesis import HealthCheck, settings
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
    """The entry point behind the local stand-in for API Gateway, as a WSGI app on moto."""
    yield gateway(make_handler(RATE_LIMIT_COUNT="1000"))


@schema.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_the_app_keeps_to_the_document(case: Any, api: Any) -> None:
    response = case.call(app=api)
    case.validate_response(response, checks=CHECKS)
