"""The practice's backend: a Flask app serving articles and taking contact messages."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, jsonify

from handler import aws, contact, content, cors, errors, inbox, lambda_adapter, secrets
from handler.config import Settings, load_settings


def create_app(settings: Settings | None = None, *, reads_secrets: bool = True) -> Flask:
    """Build the app with ``settings``, by default the environment's.

    ``reads_secrets=False``: an app that takes no contact message (the retry
    function's) is given no secret, and reads none.
    """
    app = Flask(__name__)
    app.config["SETTINGS"] = settings or load_settings()

    # Flask reads no more than this (a contact message is far smaller).
    app.config["MAX_CONTENT_LENGTH"] = contact.MAX_BODY_BYTES
    # The AWS SDK logs whole requests at DEBUG, messages included: never let it.
    for noisy in ("boto3", "botocore", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)

    errors.init_app(app)
    lambda_adapter.init_app(app)
    aws.init_app(app)
    if reads_secrets:
        secrets.init_app(app)
        inbox.init_app(app)  # its cookies are signed with a secret: the retry function's app has no inbox
    content.init_app(app)
    app.register_blueprint(contact.bp)
    cors.init_app(app)

    @app.get("/health")
    def health() -> Any:
        manifest = content.store().manifest
        response = jsonify(status="ok", content_build=manifest["build_id"], articles=manifest["article_count"])
        response.headers["Cache-Control"] = "no-store"
        return response

    return app
