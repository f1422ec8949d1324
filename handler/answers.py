"""The contact form's answers: JSON, or small HTML pages for a browser's plain form post (no JavaScript)."""

from __future__ import annotations

import html
import json
from typing import Any

from flask import Response, jsonify, redirect, request
from werkzeug.wrappers import Response as BaseResponse

from handler import field_errors, intake
from handler.config import FormSettings, Settings
from handler.contact import FORM_TYPE, JSON_TYPE
from handler.storage import RateLimited
from handler.submission import Invalid, KeyReused, Outcome, Received


def wants_html() -> bool:
    """A browser's plain form post wants pages, not JSON."""
    return (
        request.mimetype == FORM_TYPE and request.accept_mimetypes.best_match([JSON_TYPE, "text/html"]) == "text/html"
    )


def page(status: int, title: str, paragraphs: list[str]) -> Response:
    body = "".join(f"<p>{html.escape(text)}</p>" for text in paragraphs)
    document = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{html.escape(title)}</title></head><body><main><h1>{html.escape(title)}</h1>{body}</main></body></html>"
    )
    response = Response(document, status=status, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    return response


def failure(
    status: int, code: str, message: str, fields: dict[str, str] | None = None, form: FormSettings | None = None
) -> Response:
    if wants_html():
        problems = field_errors.sentences(fields, form or FormSettings()) if fields else [message]
        return page(status, "Your message was not sent", [*problems, "Please go back and try again."])
    body: dict[str, Any] = {"error": code, "message": message}
    if fields is not None:
        body["fields"] = fields
    response = jsonify(body)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


def received(settings: Settings, outcome: Received) -> BaseResponse:
    if request.mimetype == FORM_TYPE and settings.thank_you_url:
        return redirect(settings.thank_you_url, code=303)
    status = 201 if outcome.stored else 202
    notices = [settings.alert.crisis_notice]
    if outcome.outside_state:
        notices.insert(0, intake.referral(outcome.outside_state))
    if wants_html():
        return page(status, "Thank you", ["Your message has been received.", *notices])
    # Written out rather than jsonify'd: this answer is on every message's path.
    body = json.dumps({"id": outcome.message_id, "notice": " ".join(notices), "status": "received"})
    response = Response(body, status, content_type=JSON_TYPE)
    response.headers.add("Cache-Control", "no-store")
    return response


def answer(outcome: Outcome, settings: Settings) -> BaseResponse:
    """The answer to a submission's outcome."""
    if isinstance(outcome, Received):
        return received(settings, outcome)
    if isinstance(outcome, Invalid):
        # Every bad field named at once.
        problems = ", ".join(sorted(outcome.fields))
        return failure(
            422, "validation_failed", f"Please check these fields: {problems}.", outcome.fields, settings.form
        )
    if isinstance(outcome, RateLimited):
        response = failure(429, "rate_limited", "Too many messages from this address. Please try again later.")
        response.headers["Retry-After"] = str(outcome.retry_after)
        return response
    if isinstance(outcome, KeyReused):
        return failure(
            409,
            "idempotency_key_reused",
            "This Idempotency-Key was already used for a different message: send it with a new key.",
        )
    # NotReceived: DynamoDB and SES both failed.
    response = failure(
        503,
        "unavailable",
        "We could not receive your message just now. Nothing was saved: please try again in a few minutes.",
    )
    response.headers["Retry-After"] = "120"
    return response
