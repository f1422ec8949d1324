"""The practice's backend: a Flask app serving articles (and, later, contact messages)."""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify

from handler import content, cors, errors
from handler.config import load_settings


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app from the environment's settings, overridden by ``test_config``."""
    app = Flask(__name__)
    app.config.from_mapping(load_settings())
    if test_config:
        app.config.update(test_config)

    errors.init_app(app)
    content.init_app(app)
    cors.init_app(app)

    @app.get("/health")
    def health() -> Any:
        manifest = content.store().manifest
        response = jsonify(status="ok", content_build=manifest["build_id"], articles=manifest["article_count"])
        response.headers["Cache-Control"] = "no-store"
        return response

    return app
