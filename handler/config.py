"""Settings, read once from the environment that ``template.yaml`` sets.

Every variable the function reads is named here (the secrets' in
``handler/secrets.py``) and nowhere else, so the
template and the code can be checked against each other. A setting that
cannot work stops the function at start-up with a message naming it, rather
than failing one visitor at a time.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from handler.validation import SINGLE_LINE_FORBIDDEN

DEFAULT_CONTENT_DIR = Path(__file__).resolve().parent.parent / "compiled_content"
DEFAULT_CACHE_CONTROL = "public, max-age=300, stale-while-revalidate=86400"
DEFAULT_CRISIS_NOTICE = (
    "This form is not monitored for emergencies. If you are in crisis or thinking about harming yourself, "
    "in the US call or text 988 (Suicide & Crisis Lifeline), or call 911."
)
DEFAULT_CONSENT_TEXT = (
    "I understand that this form is not for emergencies, and that email is not a secure channel: "
    "I will share only what I am comfortable sending this way."
)
PLAIN_ADDRESS = re.compile(r"^[^@\s<>,;\"]+@[^@\s<>,;\"]+\.[^@\s<>,;\"]+$")


class ConfigError(ValueError):
    """A setting that cannot work; raised at start-up, never per request."""


def parse_origin(value: str, variable: str) -> str:
    """``scheme://host[:port]``, as browsers send it in ``Origin``."""
    origin = value.strip().rstrip("/")
    parts = urlsplit(origin)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.path or parts.query:
        raise ConfigError(f"{variable}: {value!r} is not an origin such as https://www.example.com")
    return origin


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def addresses(value: str, variable: str) -> list[str]:
    found = [item.strip() for item in value.split(",") if item.strip()]
    for address in found:
        if not PLAIN_ADDRESS.match(address):
            raise ConfigError(f"{variable}: {address!r} is not a plain email address")
    return found


def whole_number(environ: Mapping[str, str], variable: str, default: int, minimum: int = 0) -> int:
    raw = environ.get(variable, "").strip() or str(default)
    if not raw.isdigit() or int(raw) < minimum:
        raise ConfigError(f"{variable}: {raw!r} must be a whole number of at least {minimum}")
    return int(raw)


def required(environ: Mapping[str, str], variable: str) -> str:
    value = environ.get(variable, "").strip()
    if not value:
        raise ConfigError(f"{variable} is not set")
    return value


def flag(environ: Mapping[str, str], variable: str, default: bool) -> bool:
    raw = environ.get(variable, "").strip().lower() or ("true" if default else "false")
    if raw not in ("true", "false"):
        raise ConfigError(f"{variable}: {raw!r} must be true or false")
    return raw == "true"


def alert_settings(environ: Mapping[str, str] = os.environ) -> dict[str, Any]:
    """What an alert needs: read here for the function and for ``contact-admin resend`` alike."""
    sender_name = environ.get("SENDER_NAME", "").strip() or "Website contact form"
    if SINGLE_LINE_FORBIDDEN.search(sender_name):  # the rule a visitor's name follows
        # It goes into every alert's From header: a line break there would fail every alert.
        raise ConfigError("SENDER_NAME may not hold line breaks or other control characters")
    notify_detail = environ.get("NOTIFY_DETAIL", "full").strip() or "full"
    if notify_detail not in ("full", "minimal"):
        raise ConfigError(f"NOTIFY_DETAIL: {notify_detail!r} must be full or minimal")
    time_zone = environ.get("PRACTICE_TIMEZONE", "UTC").strip() or "UTC"
    try:
        from zoneinfo import ZoneInfo

        ZoneInfo(time_zone)
    except (ValueError, KeyError, OSError):
        raise ConfigError(f"PRACTICE_TIMEZONE: {time_zone!r} is not an IANA time zone such as Europe/London") from None
    return {
        "SENDER_EMAIL": addresses(required(environ, "SENDER_EMAIL"), "SENDER_EMAIL")[0],
        "SENDER_NAME": sender_name,
        "NOTIFY_EMAILS": addresses(required(environ, "NOTIFY_EMAIL"), "NOTIFY_EMAIL"),
        "NOTIFY_DETAIL": notify_detail,
        "PRACTICE_TIMEZONE": time_zone,
    }


def load_settings(environ: Mapping[str, str] = os.environ) -> dict[str, Any]:
    """The app's configuration, from environment variables with safe defaults."""
    origins = [
        parse_origin(item, "ALLOWED_ORIGINS") for item in environ.get("ALLOWED_ORIGINS", "").split(",") if item.strip()
    ]
    site_url = environ.get("SITE_URL", "http://127.0.0.1:3000").strip().rstrip("/")
    parts = urlsplit(site_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"SITE_URL: {site_url!r} is not an http(s) URL")

    thank_you_url = environ.get("THANK_YOU_URL", "").strip() or None
    if thank_you_url and origin_of(thank_you_url) not in origins:
        # Redirecting only to the practice's own site: never an open redirect.
        raise ConfigError(f"THANK_YOU_URL: {thank_you_url!r} is not on an origin in ALLOWED_ORIGINS")
    consent_text = environ.get("CONSENT_TEXT", "").strip() or DEFAULT_CONSENT_TEXT

    return {
        "CONTENT_DIR": environ.get("CONTENT_DIR", str(DEFAULT_CONTENT_DIR)),
        "SITE_URL": site_url,
        "SITE_TITLE": environ.get("SITE_TITLE", "Articles"),
        "ALLOWED_ORIGINS": origins,
        "CONTENT_CACHE_CONTROL": environ.get("CACHE_CONTROL", DEFAULT_CACHE_CONTROL),
        # Contact messages.
        "CONTACT_TABLE_NAME": required(environ, "CONTACT_TABLE_NAME"),
        **alert_settings(environ),
        "SEND_ACKNOWLEDGEMENT": flag(environ, "SEND_ACKNOWLEDGEMENT", False),
        "THANK_YOU_URL": thank_you_url,
        "CRISIS_NOTICE": environ.get("CRISIS_NOTICE", "").strip() or DEFAULT_CRISIS_NOTICE,
        "CONSENT_TEXT": consent_text,
        # Derived, so that a changed text can never keep an old version.
        "CONSENT_VERSION": hashlib.sha256(consent_text.encode("utf-8")).hexdigest()[:12],
        "RETENTION_DAYS": whole_number(environ, "RETENTION_DAYS", 365),
        "RATE_LIMIT_COUNT": whole_number(environ, "RATE_LIMIT_COUNT", 5, minimum=1),
        "RATE_LIMIT_WINDOW_SECONDS": whole_number(environ, "RATE_LIMIT_WINDOW_SECONDS", 600, minimum=1),
        "NOTIFY_MAX_ATTEMPTS": whole_number(environ, "NOTIFY_MAX_ATTEMPTS", 8, minimum=1),
        "TURNSTILE_VERIFY_URL": environ.get(
            "TURNSTILE_VERIFY_URL", "https://challenges.cloudflare.com/turnstile/v0/siteverify"
        ),
        # With SnapStart the AWS clients are made in the init phase, before the snapshot.
        "AWS_EAGER_INIT": flag(environ, "AWS_EAGER_INIT", False),
    }
