"""The inbox's settings, read once at start-up from the environment that ``template.yaml`` sets.

A setting that cannot work stops start-up with a ``ConfigError`` naming it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import current_app

from handler.config import ConfigError, addresses, flag, whole_number

SECRET_MIN_LENGTH = 32
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")


@dataclass(frozen=True)
class InboxSettings:
    enabled: bool
    # Who may sign in: lower-cased address -> the address as configured (the one emailed).
    emails: Mapping[str, str]
    session_seconds: int
    # The base of emailed links; None: the URL the request arrived at (see ``link_base``).
    url: str | None
    secret: bytes  # signs the session cookie and the sign-in form's token; keys the hashes of addresses


def inbox_url(value: str) -> str | None:
    url = value.strip().rstrip("/")
    if not url:
        return None
    parts = urlsplit(url)
    loopback = parts.scheme == "http" and parts.netloc.rsplit(":", 1)[0] in LOOPBACK_HOSTS
    if not (parts.scheme == "https" or loopback) or not parts.netloc or parts.query or parts.fragment:
        # The session cookie is Secure: a sign-in over plain HTTP could not keep it.
        raise ConfigError(f"INBOX_URL: {value!r} is not an https URL such as https://inbox.example.com")
    return url


def signing_key(environ: Mapping[str, str], required: bool) -> bytes:
    """The inbox's key. FOR NOW a plain ``INBOX_SECRET`` (as template.yaml passes IP_HASH_SECRET):
    to be read from Secrets Manager (``INBOX_SECRET_ARN``) once the secrets module lands on main."""
    secret = environ.get("INBOX_SECRET", "").strip()
    if required and len(secret) < SECRET_MIN_LENGTH:
        raise ConfigError(f"INBOX_SECRET must be at least {SECRET_MIN_LENGTH} characters (or INBOX_ENABLED=false)")
    return secret.encode("utf-8")


def load_inbox_settings(environ: Mapping[str, str] = os.environ, *, notify_emails: list[str]) -> InboxSettings:
    """``INBOX_EMAILS`` defaults to the addresses alerts go to (NOTIFY_EMAIL, already read)."""
    enabled = flag(environ, "INBOX_ENABLED", True)
    listed = environ.get("INBOX_EMAILS", "").strip()
    emails = addresses(listed, "INBOX_EMAILS") if listed else notify_emails
    return InboxSettings(
        enabled=enabled,
        emails={address.lower(): address for address in emails},
        session_seconds=whole_number(environ, "INBOX_SESSION_HOURS", 12, minimum=1) * 3600,
        url=inbox_url(environ.get("INBOX_URL", "")),
        secret=signing_key(environ, required=enabled),
    )


def current() -> InboxSettings:
    """The running app's inbox settings."""
    settings: InboxSettings = current_app.extensions["inbox"]
    return settings
