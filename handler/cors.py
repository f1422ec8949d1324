"""Cross-origin access, decided here and nowhere else.

Origins on ``ALLOWED_ORIGINS`` get CORS headers and their preflights answered;
any other origin gets none, so the browser refuses it.
"""

from __future__ import annotations

import logging

from flask import Flask, Response
from flask_cors import CORS

ALLOWED_METHODS = ["GET", "HEAD", "POST", "OPTIONS"]
ALLOWED_REQUEST_HEADERS = ["Content-Type", "If-None-Match", "Idempotency-Key"]
EXPOSED_HEADERS = ["ETag", "Retry-After"]


def add_vary_origin(response: Response) -> Response:
    # flask-cors adds Vary: Origin only when several origins are allowed, yet
    # with one origin the answer still differs with and without it, and a
    # cache must not hand one to the other.
    response.vary.add("Origin")
    return response


def init_app(app: Flask) -> None:
    CORS(
        app,
        origins=app.config["ALLOWED_ORIGINS"],
        methods=ALLOWED_METHODS,
        allow_headers=ALLOWED_REQUEST_HEADERS,
        expose_headers=EXPOSED_HEADERS,
        max_age=600,
    )
    app.after_request(add_vary_origin)
    logging.getLogger("flask_cors").setLevel(logging.WARNING)
