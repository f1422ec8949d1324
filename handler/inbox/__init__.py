"""The therapist's private inbox, under ``/inbox``: server-rendered pages, signed in by email link.

``INBOX_ENABLED=false`` leaves it out of the app altogether, so its routes answer 404.
Every answer under ``/inbox`` (errors included) is kept out of caches, framed by
no one, loads nothing but the inbox's own stylesheet, and sends no Referer;
handler/cors.py never shares it cross-origin.
"""

from __future__ import annotations

import os

from flask import Flask, Response, request

from handler import config
from handler.inbox.settings import InboxSettings, load_inbox_settings
from handler.inbox.tokens import URL_PREFIX

__all__ = ["URL_PREFIX", "InboxSettings", "init_app"]

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


def is_inbox_path(path: str) -> bool:
    return path == URL_PREFIX or path.startswith(URL_PREFIX + "/")


def secure_answer(response: Response) -> Response:
    if is_inbox_path(request.path):
        response.headers.update(SECURITY_HEADERS)
    return response


def init_app(app: Flask) -> None:
    """After ``secrets.init_app``: the inbox's key is derived from a secret (handler/inbox/auth.py)."""
    inbox = load_inbox_settings(os.environ, notify_emails=config.settings(app).alert.notify_email)
    app.extensions["inbox"] = inbox
    if not inbox.enabled:
        if config.settings(app).alert.notify_detail == "minimal":
            raise config.ConfigError(
                "INBOX_ENABLED: NOTIFY_DETAIL=minimal alerts carry only a link to the inbox, which must stay on"
            )
        return
    from handler.inbox import messages  # noqa: F401  (its routes join the blueprint)
    from handler.inbox.views import bp

    app.register_blueprint(bp)
    app.after_request(secure_answer)
