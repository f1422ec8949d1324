"""The inbox's pages: sign in by email link, and sign out.

``GET /inbox/login`` asks for an address; every address gets the same answer,
and only a listed one gets an email, with a link to ``/inbox/login/<token>``.
Opening it (GET) only shows a Sign in button, so that a mail scanner that
fetches links cannot use it up; the button's POST signs in.
"""

from __future__ import annotations

import functools
import html
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, current_app, g, make_response, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from handler import aws, notification
from handler.config import PLAIN_ADDRESS
from handler.inbox.auth import (
    URL_PREFIX,
    form_token,
    network_of,
    new_token,
    safe_next,
    same_token,
    session_id_from,
    signed_session_id,
    well_formed,
)
from handler.inbox.settings import InboxSettings
from handler.inbox.store import Expired, InboxStore, InboxUnavailable, Session, SignInLink, count_hit, digest
from handler.storage import keyed_hash

log = logging.getLogger(__name__)

LINK_MINUTES = 15
EMAIL_MAX = 254
# Sign-in requests per fixed window: per address (any address, listed or not,
# so that a refusal reveals nothing), and per client network (an office's NAT).
LIMIT_WINDOW_SECONDS = 15 * 60
ADDRESS_LIMIT = 5
NETWORK_LIMIT = 20
SESSION_COOKIE = "inbox_session"
FORM_COOKIE = "inbox_form"
NOTICES = {
    "signed-out": "You have signed out.",
    "ended": "Your session has ended or is not valid: please sign in again.",
}
SUBJECT = "Your sign-in link"

bp = Blueprint("inbox", __name__, url_prefix=URL_PREFIX, static_folder="static")


@dataclass(frozen=True)
class SignedIn:
    session_id: str
    session: Session


def settings() -> InboxSettings:
    inbox: InboxSettings = current_app.extensions["inbox"]
    return inbox


def store() -> InboxStore:
    return InboxStore(aws.clients().dynamodb, current_app.config["CONTACT_TABLE_NAME"])


def page(template: str, status: int = 200, **context: Any) -> Response:
    return make_response(render_template(f"inbox/{template}", **context), status)


def refused(status: int, title: str, message: str) -> Response:
    return page("refused.html", status, title=title, message=message)


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


# The sign-in forms' CSRF defence (no session yet): see handler/inbox/auth.py.


def form_page(template: str, status: int = 200, **context: Any) -> Response:
    nonce = request.cookies.get(cookie_name(FORM_COOKIE))
    fresh = not well_formed(nonce)
    if fresh:
        nonce = new_token()
    response = page(template, status, csrf_token=form_token(settings().secret, str(nonce)), **context)
    if fresh:
        set_cookie(response, FORM_COOKIE, str(nonce))
    return response


def form_is_ours() -> bool:
    nonce = request.cookies.get(cookie_name(FORM_COOKIE))
    return well_formed(nonce) and same_token(form_token(settings().secret, str(nonce)), request.form.get("csrf_token"))


def not_our_form() -> Response:
    log.info("inbox form refused", extra={"reason": "csrf"})
    return refused(
        403,
        "This form cannot be accepted",
        "It has expired or did not come from this site. Go back, reload the page and try again.",
    )


# Sessions.


def signed_in() -> SignedIn | None:
    cookie = request.cookies.get(cookie_name(SESSION_COOKIE))
    if cookie is None:
        return None
    session_id = session_id_from(settings().secret, cookie)
    if session_id is None:
        log.info("inbox session refused", extra={"reason": "signature"})
        return None
    session = store().session(session_id, time.time())
    if session is None or session.email.lower() not in settings().emails:
        log.info("inbox session refused", extra={"reason": "ended", "session": digest(session_id)[:12]})
        return None
    return SignedIn(session_id, session)


def login_required(view: Callable[..., Response]) -> Callable[..., Response]:
    """The view runs signed in (``g.inbox``), and a POST only with the session's CSRF token."""

    @functools.wraps(view)
    def wrapped(**kwargs: Any) -> Response:
        g.inbox = signed_in()
        if g.inbox is None:
            query = request.query_string.decode("latin-1")
            here = request.path + (f"?{query}" if query else "") if request.method == "GET" else URL_PREFIX
            had_cookie = cookie_name(SESSION_COOKIE) in request.cookies
            next_path = safe_next(here)
            target = url_for(
                ".login_form",
                next=None if next_path == URL_PREFIX else next_path,
                notice="ended" if had_cookie else None,
            )
            response = redirect(target, 303)
            if had_cookie:
                forget_cookie(response, SESSION_COOKIE)
            return response
        if request.method == "POST" and not same_token(g.inbox.session.csrf_token, request.form.get("csrf_token")):
            return not_our_form()
        return view(**kwargs)

    return wrapped


@bp.errorhandler(InboxUnavailable)
def unavailable(error: InboxUnavailable) -> Response:
    log.error("inbox unavailable", extra={"error": str(error)})
    response = refused(503, "The inbox is unavailable", "It cannot be reached just now. Please try again in a minute.")
    response.headers["Retry-After"] = "60"
    return response


# The pages.


@bp.get("")
@login_required
def home() -> Response:
    return page("home.html", email=g.inbox.session.email, csrf_token=g.inbox.session.csrf_token)


@bp.get("/login")
def login_form() -> Response:
    notice = NOTICES.get(request.args.get("notice", ""))
    return form_page("login.html", next=safe_next(request.args.get("next")), notice=notice)


@bp.post("/login")
def request_link() -> Response:
    if not form_is_ours():
        return not_our_form()
    address = request.form.get("email", "").strip()
    next_path = safe_next(request.form.get("next"))
    if len(address) > EMAIL_MAX or not PLAIN_ADDRESS.match(address):
        error = "Enter your email address, such as name@example.com."
        return form_page("login.html", 422, next=next_path, email=address, error=error)
    wait = seconds_to_wait(address)
    if wait is not None:
        log.info("inbox sign-in rate limited", extra={"retry_after": wait})
        minutes = -(-wait // 60)
        response = refused(429, "Too many sign-in requests", f"Please wait {minutes} minutes, then try again.")
        response.headers["Retry-After"] = str(wait)
        return response
    listed = settings().emails.get(address.lower())
    if listed is None:
        log.info("inbox sign-in requested", extra={"listed": False})
    else:
        send_link(listed, next_path)
    return redirect(url_for(".check_email"), 303)


def seconds_to_wait(address: str) -> int | None:
    """Count this request against its client's network and its address; the wait if over either limit."""
    secret, now = settings().secret, time.time()
    client, table = aws.clients().dynamodb, current_app.config["CONTACT_TABLE_NAME"]
    network = keyed_hash(secret, "inbox-network", network_of(request.remote_addr or ""))
    wait = count_hit(client, table, network, NETWORK_LIMIT, LIMIT_WINDOW_SECONDS, now)
    if wait is None:
        wait = count_hit(
            client,
            table,
            keyed_hash(secret, "inbox-address", address.lower()),
            ADDRESS_LIMIT,
            LIMIT_WINDOW_SECONDS,
            now,
        )
    return wait


def link_base() -> str:
    """INBOX_URL; by default the URL this request came to: API Gateway routes by the Host
    header, so a request reaches this function only through the API's own domains."""
    return settings().url or request.host_url.rstrip("/")


def send_link(address: str, next_path: str) -> None:
    """Store a new sign-in link for ``address`` and email it (the email holds nothing else)."""
    token = new_token()
    store().add_link(token, SignInLink(address, next_path, int(time.time()) + LINK_MINUTES * 60))
    link = link_base() + url_for(".confirm", token=token)
    text = (
        "Someone, probably you, asked to sign in to the practice's inbox.\n\n"
        f"Open this link to sign in. It works once, within {LINK_MINUTES} minutes:\n{link}\n\n"
        "If you did not ask, ignore this email: nobody can sign in without the link.\n"
    )
    body_html = (
        "<!doctype html><html><body><p>Someone, probably you, asked to sign in to the practice's inbox.</p>"
        f'<p><a href="{html.escape(link)}">Sign in</a> (the link works once, within {LINK_MINUTES} minutes).</p>'
        "<p>If you did not ask, ignore this email: nobody can sign in without the link.</p></body></html>"
    )
    config = current_app.config
    email = notification.new_email(config, [address], SUBJECT, text, body_html)
    try:
        notification.send(aws.clients().ses, email, [address], config)
    except notification.NotificationFailed as failure:
        # The answer stays the same: a different one would tell who may sign in.
        log.error("inbox sign-in link not sent", extra={"error_code": failure.code})
        return
    log.info("inbox sign-in requested", extra={"listed": True})


@bp.get("/check-email")
def check_email() -> Response:
    return page("check_email.html", minutes=LINK_MINUTES)


@bp.get("/login/<token>")
def confirm(token: str) -> Response:
    if not well_formed(token):
        return link_refused(None)
    return form_page("confirm.html", token=token)


@bp.post("/login/<token>")
def sign_in(token: str) -> Response:
    if not form_is_ours():
        return not_our_form()
    if not well_formed(token):
        return link_refused(None)
    now = time.time()
    link = store().take_link(token, now)
    if not isinstance(link, SignInLink) or link.email.lower() not in settings().emails:
        return link_refused(link)
    session_id, session_seconds = new_token(), settings().session_seconds
    store().add_session(session_id, Session(link.email, new_token(), int(now) + session_seconds))
    log.info("inbox signed in", extra={"session": digest(session_id)[:12]})
    response = redirect(safe_next(link.next_path), 303)
    set_cookie(response, SESSION_COOKIE, signed_session_id(settings().secret, session_id), max_age=session_seconds)
    forget_cookie(response, FORM_COOKIE)
    return response


def link_refused(link: SignInLink | Expired | None) -> Response:
    reason = "expired" if isinstance(link, Expired) else "unlisted" if link else "unknown"
    log.info("inbox sign-in link refused", extra={"reason": reason})
    if isinstance(link, Expired):
        message = f"This sign-in link has expired: a link works for {LINK_MINUTES} minutes."
    else:
        message = "This sign-in link is not valid, or has already been used: each link works once."
    return refused(400, "This link cannot sign you in", f"{message} Ask for a new one.")


@bp.post("/logout")
@login_required
def sign_out() -> Response:
    store().end_session(g.inbox.session_id)
    log.info("inbox signed out", extra={"session": digest(g.inbox.session_id)[:12]})
    response = redirect(url_for(".login_form", notice="signed-out"), 303)
    forget_cookie(response, SESSION_COOKIE)
    return response
