"""Cloudflare Turnstile's check of a form's token (``siteverify``), with a limit on the whole answer."""

from __future__ import annotations

import json
import threading
import urllib.parse
import urllib.request
from typing import Any, TypeGuard

from handler.validation import TURNSTILE_TOKEN_MAX

TIMEOUT_SECONDS = 3
ANSWER_MAX = 4096  # Cloudflare's answer is a few hundred bytes


def well_formed(token: object) -> TypeGuard[str]:
    """A token worth asking Cloudflare about."""
    return isinstance(token, str) and 0 < len(token) <= TURNSTILE_TOKEN_MAX and token.isascii()


def verify(secret: str, token: str, url: str) -> bool | None:
    """True or False as Cloudflare answers; None when it could not be asked, did not answer
    within TIMEOUT_SECONDS in all, or answered something that makes no sense."""
    data = urllib.parse.urlencode({"secret": secret, "response": token}).encode("ascii")
    request = urllib.request.Request(url, data=data, method="POST")
    answers: list[Any] = []

    def ask() -> None:
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as answer:
                answers.append(json.loads(answer.read(ANSWER_MAX)))
        except Exception:  # noqa: BLE001 - unreachable, refused, cut short, garbled: no verdict
            return

    # urlopen's timeout bounds each read, not the whole answer (one dripped a
    # byte at a time never times out): the thread's join bounds the whole.
    asking = threading.Thread(target=ask, daemon=True)
    asking.start()
    asking.join(TIMEOUT_SECONDS)
    verdict = answers[0] if answers else None
    success = verdict.get("success") if isinstance(verdict, dict) else None
    return success if isinstance(success, bool) else None
