"""Shared by the contact tests: submitting messages through the entry point, and reaching the app."""

from __future__ import annotations

import email.header
import email.utils
import json
import re
import sys
from typing import Any
from urllib.parse import urlencode

from apigw import event
from conftest import WEBSITE_ORIGIN

VISITOR_IP = "203.0.113.42"
VALID = {
    "name": "Alex Example",
    "email": "alex@example.org",
    "phone": "+1 (555) 010-0199",
    "preferred_contact": "email",
    "message": "Hello,\nI would like to ask about starting therapy.\n\nThank you.",
    "consent": True,
}
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def post_json(handler: Any, fields: dict[str, Any], *, headers: dict[str, str] | None = None, **kwargs: Any) -> dict:
    return handler(
        event(
            "POST",
            "/contact",
            headers={"Content-Type": "application/json", "Origin": WEBSITE_ORIGIN, **(headers or {})},
            body=json.dumps(fields),
            source_ip=kwargs.pop("source_ip", VISITOR_IP),
            **kwargs,
        ),
        None,
    )


def post_form(handler: Any, fields: dict[str, Any], *, headers: dict[str, str] | None = None, **kwargs: Any) -> dict:
    """As a browser posts a plain HTML form; HTTP APIs base64-encode it."""
    form = {name: ("on" if value is True else value) for name, value in fields.items()}
    return handler(
        event(
            "POST",
            "/contact",
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Accept": BROWSER_ACCEPT,
                "Origin": WEBSITE_ORIGIN,
                **(headers or {}),
            },
            body=urlencode(form, doseq=True),  # a list: its field repeated, as checkboxes post
            base64_body=True,
            source_ip=kwargs.pop("source_ip", VISITOR_IP),
            **kwargs,
        ),
        None,
    )


def header_value(raw_email: str, header: str) -> str:
    """A header's value, unfolded, from the email as it went on the wire."""
    value = ("\r\n" + raw_email).split(f"\r\n{header}: ", 1)[1]
    return re.split(r"\r\n(?=\S)", value, maxsplit=1)[0].replace("\r\n", "")


def rfc2047(value: str) -> str:
    """Decoded as RFC 2047 says: white space between encoded words is dropped
    (which Python's newer header parser does not always do)."""
    return str(email.header.make_header(email.header.decode_header(value)))


def mailbox(value: str) -> tuple[str, str]:
    """(display name, address) of a ``name <address>`` header value."""
    phrase, address = value[: value.rindex("<")].strip(), value[value.rindex("<") + 1 : -1]
    if phrase.startswith('"'):  # a quoted string, as formataddr writes an ASCII name with specials
        return email.utils.parseaddr(value)
    return rfc2047(phrase), address


def current_app() -> Any:
    """The Flask app that the entry point module built at its (re-)import."""
    return sys.modules["handler.main"].app


def aws_clients() -> Any:
    return current_app().extensions["aws"]


def attribute(item: dict[str, Any], name: str) -> Any:
    value = item.get(name)
    if value is None:
        return None
    kind, raw = next(iter(value.items()))
    return int(raw) if kind == "N" else raw
