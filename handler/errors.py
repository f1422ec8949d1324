"""Every error the API answers is JSON: ``{"error": <code>, "message": <text>}``."""

from __future__ import annotations

import logging
import re

from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException, InternalServerError

log = logging.getLogger(__name__)

# The alarm in template.yaml matches this text in the logs: a Flask 500 is
# an answer, not a Lambda error, so the Errors metric would not see it.
UNHANDLED_ERROR = "UNHANDLED_ERROR"


def error_response(status: int, code: str, message: str) -> Response:
    response = jsonify(error=code, message=message)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


def error_code(exc: HTTPException) -> str:
    """``Method Not Allowed`` becomes ``method_not_allowed``."""
    return re.sub(r"[^a-z0-9]+", "_", (exc.name or "error").lower()).strip("_")


def handle_http_error(exc: HTTPException) -> Response:
    response = error_response(exc.code or 500, error_code(exc), exc.description or exc.name)
    # Keep what Werkzeug's own answer carries, such as Allow on a 405.
    for name, value in exc.get_headers():
        if name.lower() not in ("content-type", "content-length"):
            response.headers[name] = value
    return response


def handle_unexpected(exc: Exception) -> Response:
    # The type only: a message or a traceback can hold what a visitor sent.
    log.error(UNHANDLED_ERROR, extra={"error_type": type(exc).__name__})
    return error_response(500, "internal_error", InternalServerError.description)


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(Exception, handle_unexpected)
