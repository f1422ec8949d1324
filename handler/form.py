"""``GET /contact``: the contact form's definition, so that the website renders what the server enforces.

Its fields in the form's order (the intake questions the practice turned on
before the message), each with its label, whether it must be filled in, its
limit or its choices; the consent text and its version, the crisis notice and
the message's hint. It changes only with the settings (and whether Turnstile
is on, read with them), so it is made once per instance and cached like the articles.
"""

from __future__ import annotations

from typing import Any

from flask import current_app

from handler.config import Settings
from handler.content import Body, body_etag, json_bytes
from handler.intake import PREFERRED, Choice, Question
from handler.validation import EMAIL_MAX, NAME_MAX, PHONE_MAX

HONEYPOT = "website"  # the field people leave empty (hidden from them)
PREFERRED_CONTACT = Question(
    "preferred_contact", "How should I reply?", "Prefers", tuple(Choice(*pair) for pair in PREFERRED.items())
)


def text(name: str, label: str, kind: str, limit: int, *, required: bool, autocomplete: str) -> dict[str, Any]:
    return {
        "name": name,
        "label": label,
        "type": kind,
        "required": required,
        "max_length": limit,
        "autocomplete": autocomplete,
    }


def choice(question: Question) -> dict[str, Any]:
    return {
        "name": question.name,
        "label": question.label,
        "type": "choice",
        "required": question.required,
        "multiple": question.multiple,
        "choices": [{"value": option.value, "label": option.label} for option in question.choices],
    }


def definition(settings: Settings, turnstile: bool) -> dict[str, Any]:
    form = settings.form
    message = {
        "name": "message",
        "label": "Message",
        "type": "textarea",
        "required": True,
        "max_length": form.message_max_length,
        "hint": form.message_hint,
    }
    fields = [
        text("name", "Name", "text", NAME_MAX, required=True, autocomplete="name"),
        text("email", "Email", "email", EMAIL_MAX, required=True, autocomplete="email"),
        text("phone", "Phone", "tel", PHONE_MAX, required=False, autocomplete="tel"),
        {**choice(PREFERRED_CONTACT), "default": "email"},
        *(choice(question) for question in form.questions),
        message,
        {"name": "consent", "label": settings.consent_text, "type": "checkbox", "required": True},
    ]
    return {
        "fields": fields,
        "honeypot": HONEYPOT,
        "consent_text": settings.consent_text,
        "consent_version": settings.consent_version,
        "notice": settings.alert.crisis_notice,
        "message_hint": form.message_hint,
        "turnstile": turnstile,
    }


def definition_body(settings: Settings, turnstile: bool) -> Body:
    """The definition's ETag and JSON, made at an app's first request for it (its settings
    and secrets, Turnstile's among them, are read once per app)."""
    made: Body | None = current_app.extensions.get("form_definition")
    if made is None:
        body = json_bytes(definition(settings, turnstile))
        made = current_app.extensions["form_definition"] = (body_etag(body), body)
    return made
