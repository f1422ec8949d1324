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
   parameter, and collapses repeated response headers into the last one.

So every event is read here, once, into ``Request``; aws-lambda-wsgi gets the
one v1 shape it understands, and the WSGI middleware below sets the environ
keys it gets wrong. Repeated response headers are put back afterwards, in the
field the event's payload format defines for them.
"""

from __future__ import annotations

import base64
import binascii
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlencode

import aws_lambda_wsgi

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

    @classmethod
    def from_event(cls, event: dict[str, Any]) -> Request:
        try:
            return cls._read(event)
        except (KeyError, TypeError, AttributeError):
            raise ValueError("not an API Gateway or Lambda function URL event") from None

    @classmethod
    def _read(cls, event: dict[str, Any]) -> Request:
        context = event.get("requestContext") or {}
        if event.get("version") == "2.0":
            http = context["http"]
            headers = {name.lower(): value for name, value in (event.get("headers") or {}).items()}
            if event.get("cookies"):
                # Payload 2.0 moves Cookie headers into their own list.
                headers["cookie"] = "; ".join(event["cookies"])
            return cls(
                method=http["method"],
                path=event["rawPath"],
                query_string=event.get("rawQueryString") or "",
                headers=headers,
                body=event_body(event),
                source_ip=http["sourceIp"],
                payload_version="2.0",
            )
        if "httpMethod" in event:
            multi_headers = event.get("multiValueHeaders")
            headers = (
                {name.lower(): ", ".join(values) for name, values in multi_headers.items()}
                if multi_headers
                else {name.lower(): value for name, value in (event.get("headers") or {}).items()}
            )
            multi_query = event.get("multiValueQueryStringParameters") or {
                name: [value] for name, value in (event.get("queryStringParameters") or {}).items()
            }
            return cls(
                method=event["httpMethod"],
                path=event["path"],
                query_string=urlencode(multi_query, doseq=True),
                headers=headers,
                body=event_body(event),
                source_ip=(context.get("identity") or {}).get("sourceIp") or "",
                payload_version="1.0",
            )
        raise ValueError("not an API Gateway or Lambda function URL event")

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
        return environ


# The event's body is whole and its length is known: a Transfer-Encoding the
# client sent must not make Werkzeug read it as chunks.
BODY_FRAMING = {"HTTP_CONTENT_LENGTH", "HTTP_TRANSFER_ENCODING"}


def wsgi_string(text: str) -> str:
    """Text as WSGI wants it: its UTF-8 bytes, each read as one Latin-1 character."""
    return text if text.isascii() else text.encode("utf-8", "replace").decode("latin-1")


def event_body(event: dict[str, Any]) -> bytes:
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        try:
            return base64.b64decode(body, validate=True)
        except binascii.Error:
            return b""
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


def respond(app: WSGIApp, event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Answer one Lambda event with ``app``, through ``aws_lambda_wsgi.response``."""
    request = Request.from_event(event)
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
