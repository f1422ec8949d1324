"""Cross-origin access, decided here and nowhere else.

Origins on ``ALLOWED_ORIGINS`` get CORS headers, and their preflights an
answer; any other origin gets none, so the browser refuses it. The
therapist's inbox (``/inbox``) is never shared, whatever the origin. This is a set
membership test, so it is written out rather than taken from flask-cors, whose
per-request cost alone (measured by ``make bench``, see docs/performance.md)
would use most of the content API's budget over a bare Flask route.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, Response, request

from handler.config import settings
from handler.inbox import URL_PREFIX

ALLOWED_METHODS = "GET, HEAD, POST, OPTIONS"
ALLOWED_REQUEST_HEADERS = "Content-Type, If-None-Match, Idempotency-Key"
EXPOSED_HEADERS = "ETag, Retry-After"
PREFLIGHT_MAX_AGE = "600"


def cors_hook(allowed_origins: frozenset[str]) -> Callable[[Response], Response]:
    """The after-request hook for one app's origins (bound once: it runs on every request)."""

    def apply_cors(response: Response) -> Response:
        headers = response.headers
        # Always: the answer differs with the Origin, and a cache must not mix them.
        headers.add("Vary", "Origin")
        origin = request.environ.get("HTTP_ORIGIN")
        if origin is None or origin not in allowed_origins or request.path.startswith(URL_PREFIX):
            return response
        # add, not set: no view sets these, and add skips the search for an old value.
        headers.add("Access-Control-Allow-Origin", origin)
        headers.add("Access-Control-Expose-Headers", EXPOSED_HEADERS)
        if request.method == "OPTIONS" and "HTTP_ACCESS_CONTROL_REQUEST_METHOD" in request.environ:
            headers.add("Access-Control-Allow-Methods", ALLOWED_METHODS)
            headers.add("Access-Control-Allow-Headers", ALLOWED_REQUEST_HEADERS)
            headers.add("Access-Control-Max-Age", PREFLIGHT_MAX_AGE)
        return response

    return apply_cors


def init_app(app: Flask) -> None:
    app.after_request(cors_hook(frozenset(settings(app).allowed_origins)))
