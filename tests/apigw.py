"""Build realistic Lambda events from the AWS-documented examples in ``events/``.

Each shape fills its own fields the way API Gateway or a function URL does:
REST API and HTTP API 1.0 carry ``headers`` and ``multiValueHeaders``; HTTP
API 2.0 and function URLs carry ``rawQueryString``, comma-joined ``headers``
and a ``cookies`` list.
"""

from __future__ import annotations

import base64
import copy
import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode

EVENTS = Path(__file__).parent / "events"
SHAPES = ("rest_api_v1", "http_api_v1", "http_api_v2", "function_url")
V1_SHAPES = ("rest_api_v1", "http_api_v1")

_templates = {shape: json.loads((EVENTS / f"{shape}.json").read_text()) for shape in SHAPES}


def event(
    method: str = "GET",
    path: str = "/",
    *,
    shape: str = "http_api_v2",
    query: str = "",
    headers: list[tuple[str, str]] | dict[str, str] | None = None,
    body: str | bytes | None = None,
    base64_body: bool = False,
    source_ip: str | None = None,
    raw_path: str | None = None,
) -> dict[str, Any]:
    """An event of ``shape`` for one request. ``query`` is a raw query string;
    ``raw_path``, when given, is the path exactly as the client sent it
    (percent-encoded), and ``path`` is ignored."""
    if raw_path is not None:
        path = unquote(raw_path)
    data = copy.deepcopy(_templates[shape])
    pairs = list(headers.items() if isinstance(headers, dict) else headers or [])
    raw_body: str | None
    if body is None:
        raw_body = None
    elif base64_body:
        raw_body = base64.b64encode(body if isinstance(body, bytes) else body.encode("utf-8")).decode("ascii")
    else:
        raw_body = body.decode("utf-8") if isinstance(body, bytes) else body
    data["body"] = raw_body
    data["isBase64Encoded"] = base64_body
    context = data["requestContext"]
    if shape in V1_SHAPES:
        data["httpMethod"] = context["httpMethod"] = method
        data["path"] = path
        if shape == "http_api_v1":
            context["path"] = path
        multi = data["multiValueHeaders"]
        for name, values in grouped(pairs).items():
            for key in [key for key in multi if key.lower() == name.lower()]:
                del multi[key]
            multi[name] = values
        data["headers"] = {name: values[-1] for name, values in multi.items()}
        multi_query = grouped(parse_qsl(query, keep_blank_values=True))
        data["multiValueQueryStringParameters"] = multi_query or None
        data["queryStringParameters"] = {name: values[-1] for name, values in multi_query.items()} or None
        if source_ip:
            context["identity"]["sourceIp"] = source_ip
    else:
        data["rawPath"] = raw_path if raw_path is not None else quote(path)
        context["http"]["method"] = method
        context["http"]["path"] = data["rawPath"]
        data["rawQueryString"] = query
        multi_query = grouped(parse_qsl(query, keep_blank_values=True))
        if multi_query:
            data["queryStringParameters"] = {name: ",".join(values) for name, values in multi_query.items()}
        for name, values in grouped(pairs).items():
            if name.lower() == "cookie":
                data["cookies"] = [c.strip() for value in values for c in value.split(";")]
            else:
                data["headers"][name.lower()] = ",".join(values)
        if source_ip:
            context["http"]["sourceIp"] = source_ip
    return data


def grouped(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    """Values by name, in order (for headers: a name given replaces the template's)."""
    by_name: dict[str, list[str]] = {}
    for name, value in pairs:
        by_name.setdefault(name, []).append(value)
    return by_name


def form(fields: dict[str, str]) -> str:
    return urlencode(fields)


def response_header(result: dict[str, Any], name: str) -> str | None:
    """One header of a Lambda response, whatever the field that carries it."""
    for key, value in (result.get("headers") or {}).items():
        if key.lower() == name.lower():
            return value
    for key, values in (result.get("multiValueHeaders") or {}).items():
        if key.lower() == name.lower():
            return ", ".join(values)
    return None


def json_body(result: dict[str, Any]) -> Any:
    return json.loads(result["body"])
