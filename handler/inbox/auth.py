"""Who is signed in, for each request: the cookies, the session, and the CSRF check on every form.

A view that needs the therapist is decorated with ``login_required``: without
a live session it redirects to the sign-in page (keeping where the therapist
was going, inside the inbox only); a POST must also carry the session's CSRF
token, or ``FormRefused`` is raised, which the blueprint answers with 403.
The tokens themselves are made and checked in handler/inbox/tokens.py.
"""

from __future__ import annotations

import functools
import hmac
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import g, redirect, request, url_for
from werkzeug.wrappers import Response

from handler import secrets
from handler.inbox.settings import current as inbox_settings
from handler.inbox.store import Session, current_store, digest
from handler.inbox.tokens import (
    URL_PREFIX,
    form_token,
    new_token,
    safe_next,
    same_token,
    session_id_from,
    signed_session_id,
    well_formed,
)

log = logging.getLogger(__name__)

SESSION_COOKIE = "inbox_session"
FORM_COOKIE = "inbox_form"  # the nonce the sign-in forms' CSRF token is bound to
KEY_LABEL = b"inbox signing key"


class FormRefused(Exception):
    """A form posted without its CSRF token, or with another one."""


@dataclass(frozen=True)
class SignedIn:
    session_id: str
    session: Session


def inbox_key() -> bytes:
    """The inbox's key, derived from the IP-hash secret for this one use (read from Secrets Manager
    with the first request that needs it, or at start-up): the inbox needs no secret of its own,
    nor room in the function's environment, which is full. Rotating that secret signs everyone out."""
    secrets.load_on_first_use()
    return hmac.digest(secrets.current().ip_hash_secret, KEY_LABEL, "sha256")


# Cookies: __Host- (Secure, Path=/, no Domain: no other host can set or read
# them) wherever the inbox is served over HTTPS, as API Gateway always does;
# over plain HTTP, which only the local stack serves, neither, so that every
# browser keeps them on a laptop.


def cookie_name(base: str) -> str:
    return f"__Host-{base}" if request.is_secure else base


def set_cookie(response: Response, base: str, value: str, max_age: int | None = None) -> None:
    response.set_cookie(
        cookie_name(base), value, max_age=max_age, path="/", secure=request.is_secure, httponly=True, samesite="Strict"
    )


def forget_cookie(response: Response, base: str) -> None:
    response.delete_cookie(cookie_name(base), path="/", secure=request.is_secure, httponly=True, samesite="Strict")


# The sign-in forms (no session yet): a signed double submit.


def form_nonce() -> tuple[str, bool]:
    """The nonce in this browser's cookie, or a new one (True: to be set with ``set_cookie``)."""
    nonce = request.cookies.get(cookie_name(FORM_COOKIE))
    return (nonce, False) if nonce is not None and well_formed(nonce) else (new_token(), True)


def sign_in_form_token(nonce: str) -> str:
    return form_token(inbox_key(), nonce)


def check_sign_in_form() -> None:
    nonce = request.cookies.get(cookie_name(FORM_COOKIE))
    if nonce is None or not well_formed(nonce):
        raise FormRefused("no form cookie")
    if not same_token(sign_in_form_token(nonce), request.form.get("csrf_token")):
        raise FormRefused("csrf token")


# Sessions.


def signed_in() -> SignedIn | None:
    cookie = request.cookies.get(cookie_name(SESSION_COOKIE))
    if cookie is None:
        return None
    session_id = session_id_from(inbox_key(), cookie)
    if session_id is None:
        log.info("inbox session refused", extra={"reason": "signature"})
        return None
    session = current_store().session(session_id, time.time())
    if session is None or session.email.lower() not in inbox_settings().emails:
        log.info("inbox session refused", extra={"reason": "ended", "session": digest(session_id)[:12]})
        return None
    return SignedIn(session_id, session)


def to_sign_in() -> Response:
    """The redirect to the sign-in page, keeping where a GET was going."""
    query = request.query_string.decode("latin-1")
    here = safe_next(request.path + (f"?{query}" if query else "") if request.method == "GET" else URL_PREFIX)
    had_cookie = cookie_name(SESSION_COOKIE) in request.cookies
    target = url_for(
        "inbox.login_form", next=None if here == URL_PREFIX else here, notice="ended" if had_cookie else None
    )
    response = redirect(target, 303)
    if had_cookie:
        forget_cookie(response, SESSION_COOKIE)
    return response


def login_required(view: Callable[..., Response]) -> Callable[..., Response]:
    """The view runs signed in (``g.inbox``, a SignedIn), and a POST only with the session's CSRF token."""

    @functools.wraps(view)
    def wrapped(**kwargs: Any) -> Response:
        g.inbox = signed_in()
        if g.inbox is None:
            return to_sign_in()
        if request.method == "POST" and not same_token(g.inbox.session.csrf_token, request.form.get("csrf_token")):
            raise FormRefused("csrf token")
        return view(**kwargs)

    return wrapped


def start_session(response: Response, email: str, now: float) -> None:
    """Store a new session for ``email`` and give ``response`` its cookie."""
    session_id, inbox = new_token(), inbox_settings()
    current_store().add_session(session_id, Session(email, new_token(), int(now) + inbox.session_seconds))
    log.info("inbox signed in", extra={"session": digest(session_id)[:12]})
    set_cookie(response, SESSION_COOKIE, signed_session_id(inbox_key(), session_id), max_age=inbox.session_seconds)
    forget_cookie(response, FORM_COOKIE)


def end_session(response: Response, signed: SignedIn) -> None:
    """Delete the stored session, so that its cookie is worthless anywhere, and forget the cookie here."""
    current_store().end_session(signed.session_id)
    log.info("inbox signed out", extra={"session": digest(signed.session_id)[:12]})
    forget_cookie(response, SESSION_COOKIE)
