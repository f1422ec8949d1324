"""Events no API Gateway or function URL sends, through the Lambda entry point.

Each field the adapter reads, in each of the four event shapes, is given a
value of the wrong type (or taken away, where it is required). The answer is
a JSON 400 ``bad_request`` naming the field, with the conventions of every
other error (``Cache-Control: no-store``, CORS for an allowed Origin); never
an exception out of the entry point, never a 500, and nothing stored or sent.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from apigw import SHAPES, V1_SHAPES, event, json_body, response_header
from conftest import WEBSITE_ORIGIN
from contact_helpers import VALID, VISITOR_IP

Change = Callable[[dict[str, Any]], None]
V2_SHAPES = tuple(shape for shape in SHAPES if shape not in V1_SHAPES)


def contact_event(shape: str) -> dict[str, Any]:
    """A valid message, as the website posts it: on its own, it is stored (see the last test)."""
    return event(
        "POST",
        "/contact",
        shape=shape,
        headers={"Content-Type": "application/json", "Origin": WEBSITE_ORIGIN},
        body=json.dumps(VALID),
        source_ip=VISITOR_IP,
    )


def setting(*keys: str, value: Any) -> Change:
    """Set the field at ``keys`` (a path into the event) to ``value``."""

    def change(data: dict[str, Any]) -> None:
        for key in keys[:-1]:
            data = data[key]
        data[keys[-1]] = value

    return change


def removing(*keys: str) -> Change:
    def change(data: dict[str, Any]) -> None:
        for key in keys[:-1]:
            data = data[key]
        del data[keys[-1]]

    return change


def header(field: str, value: Any) -> Change:
    """Add one header whose value is ``value``, to the event's ``field``."""
    return lambda data: data[field].__setitem__("X-Extra", value)


def both(*changes: Change) -> Change:
    def change(data: dict[str, Any]) -> None:
        for each in changes:
            each(data)

    return change


# In every shape: the body and its encoding flag.
BODY_CASES = [
    ("body-a-number", "body", setting("body", value=42)),
    ("body-an-object", "body", setting("body", value=VALID)),
    ("body-a-list", "body", setting("body", value=["name=Alex"])),
    ("body-false", "body", setting("body", value=False)),
    ("base64-flag-a-string", "isBase64Encoded", setting("isBase64Encoded", value="false")),
    ("base64-flag-a-number", "isBase64Encoded", setting("isBase64Encoded", value=1)),
    (
        "base64-invalid",
        "body",
        both(setting("isBase64Encoded", value=True), setting("body", value="***not base64***")),
    ),
    ("base64-body-a-number", "body", both(setting("isBase64Encoded", value=True), setting("body", value=7))),
    ("request-context-missing", "requestContext", removing("requestContext")),
    ("request-context-a-string", "requestContext", setting("requestContext", value="ctx")),
]

# HTTP API 2.0 and function URLs.
V2_CASES = [
    ("header-null", "headers", header("headers", None)),
    ("header-a-number", "headers", header("headers", 3)),
    ("header-a-list", "headers", header("headers", ["a", "b"])),
    ("headers-a-list", "headers", setting("headers", value=[["accept", "application/json"]])),
    ("headers-a-string", "headers", setting("headers", value="accept: application/json")),
    ("cookies-null-item", "cookies", setting("cookies", value=[None])),
    ("cookies-a-number-item", "cookies", setting("cookies", value=["a=1", 2])),
    ("cookies-a-string", "cookies", setting("cookies", value="a=1")),
    ("raw-query-a-number", "rawQueryString", setting("rawQueryString", value=7)),
    ("raw-query-an-object", "rawQueryString", setting("rawQueryString", value={"limit": "1"})),
    ("raw-path-missing", "rawPath", removing("rawPath")),
    ("raw-path-null", "rawPath", setting("rawPath", value=None)),
    ("http-missing", "requestContext.http", removing("requestContext", "http")),
    ("http-null", "requestContext.http", setting("requestContext", "http", value=None)),
    ("method-missing", "requestContext.http.method", removing("requestContext", "http", "method")),
    ("method-a-number", "requestContext.http.method", setting("requestContext", "http", "method", value=1)),
    ("source-ip-missing", "requestContext.http.sourceIp", removing("requestContext", "http", "sourceIp")),
    ("source-ip-null", "requestContext.http.sourceIp", setting("requestContext", "http", "sourceIp", value=None)),
    ("source-ip-empty", "requestContext.http.sourceIp", setting("requestContext", "http", "sourceIp", value="")),
    ("source-ip-a-number", "requestContext.http.sourceIp", setting("requestContext", "http", "sourceIp", value=1)),
]

# REST APIs and HTTP API 1.0. The adapter reads multiValueHeaders, or headers
# where it is empty: each must be well formed, as API Gateway sends both.
IDENTITY = ("requestContext", "identity")
V1_CASES = [
    ("header-null", "headers", header("headers", None)),
    ("header-null-without-multi", "headers", both(setting("multiValueHeaders", value=None), header("headers", None))),
    ("header-a-number", "headers", header("headers", 3)),
    ("header-a-list", "headers", header("headers", ["a"])),
    ("headers-a-list", "headers", setting("headers", value=[["Accept", "application/json"]])),
    ("multi-header-null", "multiValueHeaders", header("multiValueHeaders", None)),
    ("multi-header-null-item", "multiValueHeaders", header("multiValueHeaders", [None])),
    ("multi-header-a-string", "multiValueHeaders", header("multiValueHeaders", "a")),
    ("multi-header-a-number-item", "multiValueHeaders", header("multiValueHeaders", ["a", 2])),
    ("multi-headers-a-list", "multiValueHeaders", setting("multiValueHeaders", value=["Accept"])),
    ("query-null-value", "queryStringParameters", setting("queryStringParameters", value={"tag": None})),
    ("query-a-list-value", "queryStringParameters", setting("queryStringParameters", value={"tag": ["a"]})),
    ("query-a-string", "queryStringParameters", setting("queryStringParameters", value="tag=a")),
    (
        "multi-query-null-item",
        "multiValueQueryStringParameters",
        setting("multiValueQueryStringParameters", value={"tag": [None]}),
    ),
    (
        "multi-query-a-string-value",
        "multiValueQueryStringParameters",
        setting("multiValueQueryStringParameters", value={"tag": "a"}),
    ),
    ("method-null", "httpMethod", setting("httpMethod", value=None)),
    ("method-a-list", "httpMethod", setting("httpMethod", value=["POST"])),
    ("path-missing", "path", removing("path")),
    ("path-a-number", "path", setting("path", value=404)),
    ("identity-missing", "requestContext.identity.sourceIp", removing(*IDENTITY)),
    ("identity-null", "requestContext.identity.sourceIp", setting(*IDENTITY, value=None)),
    ("source-ip-missing", "requestContext.identity.sourceIp", removing(*IDENTITY, "sourceIp")),
    ("source-ip-null", "requestContext.identity.sourceIp", setting(*IDENTITY, "sourceIp", value=None)),
    ("source-ip-empty", "requestContext.identity.sourceIp", setting(*IDENTITY, "sourceIp", value="")),
    ("source-ip-a-list", "requestContext.identity.sourceIp", setting(*IDENTITY, "sourceIp", value=[VISITOR_IP])),
]

CASES = [
    pytest.param(shape, field, change, id=f"{shape}-{name}")
    for shape in SHAPES
    for name, field, change in BODY_CASES + (V1_CASES if shape in V1_SHAPES else V2_CASES)
]


@pytest.fixture
def contact(aws, make_handler):
    return make_handler()


def assert_bad_request(result: dict[str, Any], field: str) -> None:
    assert result["statusCode"] == 400, result
    assert response_header(result, "Content-Type") == "application/json"
    assert response_header(result, "Cache-Control") == "no-store"
    body = json_body(result)
    assert set(body) == {"error", "message"} and body["error"] == "bad_request"
    assert f"'{field}'" in body["message"], body["message"]


@pytest.mark.parametrize(("shape", "field", "change"), CASES)
def test_a_malformed_event_is_a_json_400_naming_the_field(aws, contact, shape: str, field: str, change: Change) -> None:
    malformed = contact_event(shape)
    change(malformed)
    result = contact(malformed, None)
    assert_bad_request(result, field)
    if field not in ("headers", "multiValueHeaders"):  # the Origin can still be read: CORS as on every answer
        assert response_header(result, "Access-Control-Allow-Origin") == WEBSITE_ORIGIN
    assert "Origin" in response_header(result, "Vary")
    assert aws.items() == [] and aws.emails() == []


@pytest.mark.parametrize("shape", SHAPES)
def test_a_missing_client_address_never_shares_one_rate_limit(aws, make_handler, shape: str) -> None:
    """Refused, not keyed as "": else every such request would count against, and be held by, one limit."""
    handler = make_handler(RATE_LIMIT_COUNT="1")
    where = IDENTITY if shape in V1_SHAPES else ("requestContext", "http")
    for _ in range(3):
        anonymous = contact_event(shape)
        removing(*where, "sourceIp")(anonymous)
        assert handler(anonymous, None)["statusCode"] == 400
    assert aws.items() == []
    assert handler(contact_event(shape), None)["statusCode"] == 201


@pytest.mark.parametrize(
    "foreign",
    [
        {"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}},
        {"Records": [{"eventSource": "aws:sqs", "body": "{}"}]},
        {},
        [],
        "GET /health",
        None,
    ],
    ids=["eventbridge", "sqs", "empty", "a-list", "a-string", "null"],
)
def test_an_event_of_another_kind_is_a_json_400(contact, foreign: Any) -> None:
    result = contact(foreign, None)
    assert result["statusCode"] == 400
    assert json_body(result) == {
        "error": "bad_request",
        "message": "The event is not an API Gateway or Lambda function URL event.",
    }
    assert response_header(result, "Cache-Control") == "no-store"


@pytest.mark.parametrize("shape", SHAPES)
def test_null_and_absent_optional_fields_are_read_as_empty(aws, contact, shape: str) -> None:
    """What AWS itself sends: null headers and queries (REST API's console test), no cookies, no flag."""
    valid = contact_event(shape)
    for name in ("queryStringParameters", "multiValueQueryStringParameters", "cookies", "pathParameters"):
        valid[name] = None
    del valid["isBase64Encoded"]
    if shape in V1_SHAPES:
        valid["multiValueHeaders"] = None  # headers alone
    else:
        valid["rawQueryString"] = None
    result = contact(valid, None)
    assert result["statusCode"] == 201, json_body(result)
    assert len(aws.messages()) == 1


def test_the_rest_api_console_test_invoke_is_answered(contact) -> None:
    """The console's "Test" sends no headers at all and a source address that is not an address."""
    console = event("GET", "/health", shape="rest_api_v1")
    console.update(headers=None, multiValueHeaders=None, isBase64Encoded=False)
    console["requestContext"]["identity"]["sourceIp"] = "test-invoke-source-ip"
    assert contact(console, None)["statusCode"] == 200


@pytest.mark.parametrize("shape", V2_SHAPES)
def test_payload_2_0_reads_the_raw_query_string_not_its_parsed_copy(contact, shape: str) -> None:
    unread = event("GET", "/articles", shape=shape, query="limit=1")
    unread["queryStringParameters"] = {"limit": None, "tag": ["a", 1]}
    result = contact(unread, None)
    assert result["statusCode"] == 200
    assert json_body(result)["meta"]["pagination"]["limit"] == 1


@pytest.mark.parametrize("shape", SHAPES)
def test_the_unchanged_event_is_stored(aws, contact, shape: str) -> None:
    """The base of every case above is a valid message: only the change makes it a 400."""
    assert contact(contact_event(shape), None)["statusCode"] == 201
    assert len(aws.messages()) == 1
