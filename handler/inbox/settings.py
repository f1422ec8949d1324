"""The inbox's settings, read once at start-up from the environment that ``template.yaml`` sets.

A setting that cannot work stops start-up with a ``ConfigError`` naming it. The
key that signs its cookies is derived from a secret (handler/inbox/auth.py).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from flask import current_app

from handler.config import addresses, flag, whole_number


@dataclass(frozen=True)
class InboxSettings:
    enabled: bool
    # Who may sign in: lower-cased address -> the address as configured (the one emailed).
    emails: Mapping[str, str]
    session_seconds: int


def load_inbox_settings(environ: Mapping[str, str] = os.environ, *, notify_emails: Sequence[str]) -> InboxSettings:
    """``INBOX_EMAILS`` defaults to the addresses alerts go to (NOTIFY_EMAIL, already read)."""
    enabled = flag(environ, "INBOX_ENABLED", True)
    listed = environ.get("INBOX_EMAILS", "").strip()
    emails = addresses(listed, "INBOX_EMAILS") if listed else notify_emails
    return InboxSettings(
        enabled=enabled,
        emails={address.lower(): address for address in emails},
        session_seconds=whole_number(environ, "INBOX_SESSION_HOURS", 12, minimum=1) * 3600,
    )


def current() -> InboxSettings:
    """The running app's inbox settings."""
    settings: InboxSettings = current_app.extensions["inbox"]
    return settings
