"""The shim around aws-lambda-wsgi 0.0.6: each of its defects, on realistic events.

An echo app shows exactly what a Flask view receives; the content routes show
the same through the real entry point.
"""

from __future__ import annotations

import base64

import aws_lambda_wsgi
import pytest
from apigw import SHAPES, V1_SHAPES, event, json_body
from flask import Flask, Response, jsonify, request

from handler.lambda_adapter import init_app, respond

SLUG = "what-is-psychodynamic-therapy"


@pytest.fixture
def echo_app() -> Flask:
    app = Flask("echo")
    init_app(app)

    @app.route("/echo/<path:rest>", methods=["GET", "POST"])
    def echo(rest: str) -> Response:
        return jsonify(
            method=request.method,
            path=request.path,
            rest=rest,
            args={name: request.args.getlist(name) for name in request.args},
            body=base64.b64encode(request.get_data()).decode("ascii"),
            form={name: request.form.getlist(name) for name in request.form},
            remote_addr=request.remote_addr,
            scheme=request.scheme,
            host=request.host,
            content_type=request.content_type,
            cookie=request.headers.get("Cookie"),
            accept=request.headers.get("Accept"),
        )

    @app.get("/two-cookies")
    def two_cookies() -> Response:
        response = jsonify(ok=True)
        response.set_cookie("a", "1")
        response.set_cookie("b", "2")
        response.headers.add("X-Repeated", "first")
        response.headers.add("X-Repeated", "second")
        return response

    return app


# Defect 1: payload format 2.0 (HTTP API default, function URLs).


def test_the_unwrapped_adapter_crashes_on_payload_2_0(echo_app: Flask) -> None:
    with pytest.raises(KeyError, match="httpMethod"):
        aws_lambda_wsgi.response(echo_app, event("GET", "/echo/x", shape="http_api_v2"), None)


@pytest.mark.parametrize("shape", SHAPES)
def test_every_event_shape_reaches_the_app(echo_app: Flask, shape: str) -> None:
    result = respond(echo_app, event("GET", "/echo/a/b", shape=shape, query="x=1"), None)
    assert result["statusCode"] == 200
    body = json_body(result)
    assert (body["method"], body["path"], body["rest"], body["args"]) == ("GET", "/echo/a/b", "a/b", {"x": ["1"]})
    assert body["accept"] == "application/json"


@pytest.mark.parametrize("shape", SHAPES)
def test_every_event_shape_reaches_the_real_entry_point(lambda_handler, shape: str) -> None:
    result = lambda_handler(event("GET", f"/articles/{SLUG}", shape=shape), None)
    assert result["statusCode"] == 200
    assert json_body(result)["article"]["slug"] == SLUG


def test_an_event_of_another_kind_is_answered_400_not_raised(echo_app: Flask) -> None:
    result = respond(echo_app, {"source": "aws.events", "detail-type": "Scheduled Event"}, None)
    assert result["statusCode"] == 400
    assert "not an API Gateway or Lambda function URL event" in result["body"]


# Defect 2: isBase64Encoded.


@pytest.mark.parametrize("shape", SHAPES)
def test_a_base64_form_body_is_decoded(echo_app: Flask, shape: str) -> None:
    form = "name=Zo%C3%AB+%C3%86r%C3%B8&message=line+one%0D%0Aline+two"
    result = respond(
        echo_app,
        event(
            "POST",
            "/echo/form",
            shape=shape,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            body=form,
            base64_body=True,
        ),
        None,
    )
    body = json_body(result)
    assert body["form"] == {"name": ["Zoë Ærø"], "message": ["line one\r\nline two"]}
    assert base64.b64decode(body["body"]) == form.encode()


def test_binary_bytes_survive_base64(echo_app: Flask) -> None:
    raw = bytes(range(256))
    result = respond(echo_app, event("POST", "/echo/bin", body=raw, base64_body=True), None)
    assert base64.b64decode(json_body(result)["body"]) == raw


def test_invalid_base64_is_a_400_not_an_empty_body(echo_app: Flask) -> None:
    broken = event("POST", "/echo/bin", body="x")
    broken.update(body="***not base64***", isBase64Encoded=True)
    result = respond(echo_app, broken, None)
    assert result["statusCode"] == 400
    assert "is not the base64" in result["body"]


# Defect 3: the client address from requestContext, never X-Forwarded-For.


def test_the_unwrapped_adapter_trusts_x_forwarded_for(echo_app: Flask) -> None:
    forged = event("GET", "/echo/ip", shape="rest_api_v1", headers={"X-Forwarded-For": "10.9.9.9, 198.51.100.23"})
    environ = aws_lambda_wsgi.environ(forged, None)
    assert environ["REMOTE_ADDR"] == "10.9.9.9"


@pytest.mark.parametrize("shape", SHAPES)
def test_a_forged_x_forwarded_for_is_ignored(echo_app: Flask, shape: str) -> None:
    # API Gateway appends the real address to whatever the client sent.
    forged = event(
        "GET", "/echo/ip", shape=shape, headers={"X-Forwarded-For": "10.9.9.9, 192.0.2.200"}, source_ip="192.0.2.200"
    )
    assert json_body(respond(echo_app, forged, None))["remote_addr"] == "192.0.2.200"


# Defect 4: scheme, repeated query parameters, repeated response headers.


def test_the_unwrapped_adapter_crashes_without_x_forwarded_proto(echo_app: Flask) -> None:
    bare = event("GET", "/echo/x", shape="rest_api_v1")
    del bare["headers"]["X-Forwarded-Proto"]
    with pytest.raises(KeyError, match=r"wsgi\.url_scheme"):
        aws_lambda_wsgi.response(echo_app, bare, None)


@pytest.mark.parametrize("shape", SHAPES)
def test_no_x_forwarded_proto_means_https(echo_app: Flask, shape: str) -> None:
    bare = event("GET", "/echo/x", shape=shape)
    for field in ("headers", "multiValueHeaders"):
        for name in list(bare.get(field) or {}):
            if name.lower() == "x-forwarded-proto":
                del bare[field][name]
    body = json_body(respond(echo_app, bare, None))
    assert body["scheme"] == "https"
    assert body["host"] == bare["requestContext"]["domainName"]


@pytest.mark.parametrize("shape", SHAPES)
def test_a_repeated_query_parameter_keeps_every_value(echo_app: Flask, shape: str) -> None:
    result = respond(echo_app, event("GET", "/echo/q", shape=shape, query="tag=a&tag=b&x=%C3%A9"), None)
    assert json_body(result)["args"] == {"tag": ["a", "b"], "x": ["é"]}


@pytest.mark.parametrize("shape", V1_SHAPES)
def test_repeated_response_headers_survive_in_payload_1_0(echo_app: Flask, shape: str) -> None:
    result = respond(echo_app, event("GET", "/two-cookies", shape=shape), None)
    assert result["multiValueHeaders"]["Set-Cookie"] == ["a=1; Path=/", "b=2; Path=/"]
    assert result["multiValueHeaders"]["X-Repeated"] == ["first", "second"]
    assert "Set-Cookie" not in result["headers"]
    assert result["headers"]["Content-Type"] == "application/json"


@pytest.mark.parametrize("shape", ["http_api_v2", "function_url"])
def test_repeated_response_headers_survive_in_payload_2_0(echo_app: Flask, shape: str) -> None:
    result = respond(echo_app, event("GET", "/two-cookies", shape=shape), None)
    assert result["cookies"] == ["a=1; Path=/", "b=2; Path=/"]
    assert result["headers"]["X-Repeated"] == "first, second"
    assert "Set-Cookie" not in result["headers"]


def test_cookies_of_payload_2_0_reach_the_app(echo_app: Flask) -> None:
    result = respond(echo_app, event("GET", "/echo/c", headers={"Cookie": "a=1; b=2"}), None)
    assert json_body(result)["cookie"] == "a=1; b=2"


def test_a_percent_encoded_unicode_path_is_decoded(echo_app: Flask) -> None:
    result = respond(echo_app, event("GET", "/echo/café ☕"), None)
    assert json_body(result)["rest"] == "café ☕"
