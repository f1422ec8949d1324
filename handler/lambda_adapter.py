"""Hand any API Gateway or function-URL event to aws-lambda-wsgi 0.0.6, minus its defects.

aws-lambda-wsgi builds the WSGI environ from a REST API (v1) event and turns
the app's answer into Lambda's response. In version 0.0.6 it:

1. only reads the v1 shape, so HTTP API 2.0 and function-URL events crash it
   (``KeyError: 'httpMethod'``);
2. ignores ``isBase64Encoded``, which HTTP APIs set on form posts;
3. takes ``REMOTE_ADDR`` from the first ``X-Forwarded-For`` entry, which the
   client writes;
4. leaves ``wsgi.url_scheme`` unset without ``X-Forwarded-Proto`` (current
   Werkzeug then raises ``KeyError``), keeps one value of a repeated query
   parameter, and collapses repeated response headers into the last one;
5. raises out of the entry point on an event whose fields are not of the
   types AWS sends (a null header, ``cookies: [null]``, a body that is not
   text), and reads an unreadable base64 body as an empty one.

So every event is read here, once, into ``Request``; aws-lambda-wsgi gets the
one v1 shape it understands, and the WSGI middleware below sets the environ
keys it gets wrong. Repeated response headers are put back afterwards, in the
field the event's payload format defines for them. A field that is absent or
null is read as empty; a field of another type than AWS sends, a missing
method, path or client address, or a body that is not the base64 it claims
to be is ``BadEvent``, which the app answers 400 (``init_app``).
"""

from __future__ import annotations

import base64
import binascii
import io
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlencode

import aws_lambda_wsgi
from flask import Flask
from flask import request as current_request
from werkzeug.exceptions import BadRequest

log = logging.getLogger(__name__)

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


@dataclass(slots=True)  # not frozen: a frozen dataclass is slower to build, on every request
class Request:
    """An HTTP request as any of the four event shapes describes it."""

    method: str
    path: str
    query_string: str
    headers: dict[str, str]  # lower-case names; repeated values joined with ", "
    body: bytes
    source_ip: str
    payload_version: str  # "1.0" (REST API, HTTP API 1.0) or "2.0" (HTTP API 2.0, function URL)
    problem: str | None = None  # why the event could not be read: answered 400

    @classmethod
    def from_event(cls, event: Any) -> Request:
        try:
            return cls._read(event)
        except (KeyError, TypeError, AttributeError):  # what the checks below do not foresee
            raise BadEvent(NOT_AN_HTTP_EVENT) from None

    @classmethod
    def _read(cls, event: Any) -> Request:
        if not isinstance(event, dict):
            raise BadEvent(NOT_AN_HTTP_EVENT)
        if event.get("version") == "2.0":
            context = an_object(event.get("requestContext"), "requestContext")
            http = an_object(context.get("http"), "requestContext.http")
            headers = {name.lower(): value for name, value in text_values(event.get("headers"), "headers").items()}
            cookies = text_list(event.get("cookies"), "cookies")
            if cookies:
                # Payload 2.0 moves Cookie headers into their own list.
                headers["cookie"] = "; ".join(cookies)
            return cls(
                method=text(http.get("method"), "requestContext.http.method"),
                path=text(event.get("rawPath"), "rawPath"),
                query_string=optional_text(event.get("rawQueryString"), "rawQueryString"),
                headers=headers,
                body=event_body(event),
                source_ip=client_address(http, "requestContext.http"),
                payload_version="2.0",
            )
        if "httpMethod" in event:
            context = an_object(event.get("requestContext"), "requestContext")
            multi_headers = text_lists(event.get("multiValueHeaders"), "multiValueHeaders")
            single_headers = text_values(event.get("headers"), "headers")
            headers = (
                {name.lower(): ", ".join(values) for name, values in multi_headers.items()}
                if multi_headers
                else {name.lower(): value for name, value in single_headers.items()}
            )
            single_query = text_values(event.get("queryStringParameters"), "queryStringParameters")
            multi_query = text_lists(
                event.get("multiValueQueryStringParameters"), "multiValueQueryStringParameters"
            ) or {name: [value] for name, value in single_query.items()}
            return cls(
                method=text(event["httpMethod"], "httpMethod"),
                path=text(event.get("path"), "path"),
                query_string=urlencode(multi_query, doseq=True),
                headers=headers,
                body=event_body(event),
                source_ip=client_address(context.get("identity"), "requestContext.identity"),
                payload_version="1.0",
            )
        raise BadEvent(NOT_AN_HTTP_EVENT)

    @classmethod
    def refusal(cls, event: Any, problem: str) -> Request:
        """A stand-in for an event that could not be read, for the app to answer 400 (to its Origin, if readable)."""
        origin = readable_origin(event)
        return cls(
            method="GET",
            path="/",
            query_string="",
            headers={"origin": origin} if origin else {},
            body=b"",
            source_ip="",
            payload_version="2.0" if isinstance(event, dict) and event.get("version") == "2.0" else "1.0",
            problem=problem,
        )

    def environ_fixes(self) -> dict[str, Any]:
        """The environ keys aws-lambda-wsgi leaves out or gets wrong."""
        environ: dict[str, Any] = {
            # WSGI wants the percent-decoded path as UTF-8 bytes seen as Latin-1.
            "PATH_INFO": wsgi_string(unquote(self.path)),
            # A raw query may hold characters the client did not percent-encode.
            "QUERY_STRING": wsgi_string(self.query_string),
            "REMOTE_ADDR": self.source_ip,
            "CONTENT_LENGTH": str(len(self.body)),
            "wsgi.input": io.BytesIO(self.body),
            "wsgi.url_scheme": self.headers.get("x-forwarded-proto", "https").split(",")[-1].strip(),
            "SERVER_NAME": self.headers.get("host", "localhost"),
            "SERVER_PORT": self.headers.get("x-forwarded-port", "443").split(",")[-1].strip(),
        }
        for name, value in self.headers.items():
            key = "HTTP_" + name.upper().replace("-", "_")
            if key == "HTTP_CONTENT_TYPE":
                environ["CONTENT_TYPE"] = wsgi_string(value)
            elif key not in BODY_FRAMING:
                environ[key] = wsgi_string(value)
        if self.problem is not None:
            environ[BAD_EVENT] = self.problem
        return environ


class BadEvent(ValueError):
    """An event that no API Gateway or function URL sends; its text names the field."""


NOT_AN_HTTP_EVENT = "The event is not an API Gateway or Lambda function URL event."
# The environ key that carries a BadEvent's text to the app.
BAD_EVENT = "lambda_adapter.bad_event"


def text(value: Any, field: str) -> str:
    if not isinstance(value, str):
        raise BadEvent(f"The event's '{field}' is {'missing' if value is None else 'not text'}.")
    return value


def optional_text(value: Any, field: str) -> str:
    """Text; absent or null is empty."""
    return "" if value is None else text(value, field)


def an_object(value: Any, field: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise BadEvent(f"The event's '{field}' is {'missing' if value is None else 'not an object'}.")
    return value


def text_list(value: Any, field: str) -> list[str]:
    """A list of text; absent or null is empty."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise BadEvent(f"The event's '{field}' is not a list of text.")
    return value


def text_values(values: Any, field: str) -> dict[str, str]:
    """An object whose values are text; absent or null is empty."""
    if values is None:
        return {}
    if not isinstance(values, dict) or not all(isinstance(value, str) for value in values.values()):
        raise BadEvent(f"The event's '{field}' is not an object of text values.")
    return values


def text_lists(values: Any, field: str) -> dict[str, list[str]]:
    """An object whose values are lists of text; absent or null is empty."""
    if values is None:
        return {}
    if not isinstance(values, dict) or not all(
        isinstance(value, list) and all(isinstance(item, str) for item in value) for value in values.values()
    ):
        raise BadEvent(f"The event's '{field}' is not an object of lists of text.")
    return values


def client_address(context: Any, field: str) -> str:
    # Required: without it every such request would share one rate-limit key.
    address = context.get("sourceIp") if isinstance(context, dict) else None
    if not isinstance(address, str) or not address:
        raise BadEvent(f"The event's '{field}.sourceIp' (the client's address) is missing.")
    return address


def readable_origin(event: Any) -> str | None:
    """The Origin header of an event that could not be read, where it can be."""
    for field in ("headers", "multiValueHeaders"):
        headers = event.get(field) if isinstance(event, dict) else None
        for name, value in headers.items() if isinstance(headers, dict) else ():
            if isinstance(name, str) and name.lower() == "origin":
                origin = value[0] if isinstance(value, list) and len(value) == 1 else value
                if isinstance(origin, str):
                    return origin
    return None


# The event's body is whole and its length is known: a Transfer-Encoding the
# client sent must not make Werkzeug read it as chunks.
BODY_FRAMING = {"HTTP_CONTENT_LENGTH", "HTTP_TRANSFER_ENCODING"}


def wsgi_string(text: str) -> str:
    """Text as WSGI wants it: its UTF-8 bytes, each read as one Latin-1 character."""
    return text if text.isascii() else text.encode("utf-8", "replace").decode("latin-1")


def event_body(event: dict[str, Any]) -> bytes:
    encoded = event.get("isBase64Encoded")
    if encoded is not None and not isinstance(encoded, bool):
        raise BadEvent("The event's 'isBase64Encoded' is not true or false.")
    body = optional_text(event.get("body"), "body")
    if encoded:
        try:
            return base64.b64decode(body, validate=True)
        except binascii.Error:
            raise BadEvent("The event's 'body' is not the base64 that 'isBase64Encoded' says it is.") from None
    return body.encode("utf-8", "surrogatepass")  # a lone surrogate becomes bad UTF-8, not a crash


def apply_response_headers(result: dict[str, Any], headers: list[tuple[str, str]], payload_version: str) -> None:
    """Put back the repeated headers that aws-lambda-wsgi collapsed."""
    if len(result["headers"]) == len(headers) and "Set-Cookie" not in result["headers"]:
        return  # no name repeated: its dict is already right
    grouped: dict[str, list[str]] = {}
    for name, value in headers:
        grouped.setdefault(name, []).append(value)
    if payload_version == "2.0":
        cookies = grouped.pop("Set-Cookie", [])
        if cookies:
            result["cookies"] = cookies
        result["headers"] = {name: ", ".join(values) for name, values in grouped.items()}
    else:
        result["headers"] = {name: values[0] for name, values in grouped.items() if len(values) == 1}
        repeated = {name: values for name, values in grouped.items() if len(values) > 1}
        if repeated:
            result["multiValueHeaders"] = repeated


def respond(app: WSGIApp, event: Any, context: Any) -> dict[str, Any]:
    """Answer one Lambda event with ``app``, through ``aws_lambda_wsgi.response``."""
    try:
        request = Request.from_event(event)
    except BadEvent as error:
        log.warning("malformed event", extra={"problem": str(error)})
        request = Request.refusal(event, str(error))
    sent_headers: list[tuple[str, str]] = []

    def fixed_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        environ.update(request.environ_fixes())

        def keep_headers(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            sent_headers[:] = headers
            return start_response(status, headers, exc_info)

        return app(environ, keep_headers)

    v1_event = {"httpMethod": request.method, "path": request.path, "queryStringParameters": None, "headers": None}
    result: dict[str, Any] = aws_lambda_wsgi.response(fixed_app, v1_event, context)
    apply_response_headers(result, sent_headers, request.payload_version)
    return result


def init_app(app: Flask) -> None:
    """Have ``app`` answer an event that could not be read with 400, before any route."""
    app.before_request(refuse_bad_event)


def refuse_bad_event() -> None:
    problem = current_request.environ.get(BAD_EVENT)
    if problem is not None:
        raise BadRequest(problem)
