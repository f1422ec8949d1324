"""The inbox's sign-in pages: sign in by email link, and sign out (the messages' pages are in
handler/inbox/messages.py, on the same blueprint).

``GET /inbox/login`` asks for an address; every address gets the same answer,
and only a listed one gets an email, with a link to ``/inbox/login/<token>``.
Opening it (GET) only shows a Sign in button, so that a mail scanner that
fetches links cannot use it up; the button's POST signs in.
"""

from __future__ import annotations

import html
import logging
import time
from typing import Any

from flask import Blueprint, g, make_response, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from handler import aws, notification, validation
from handler.config import PLAIN_ADDRESS, settings
from handler.inbox.auth import (
    FORM_COOKIE,
    FormRefused,
    check_sign_in_form,
    end_session,
    form_nonce,
    inbox_key,
    login_required,
    set_cookie,
    sign_in_form_token,
    start_session,
)
from handler.inbox.settings import current as inbox_settings
from handler.inbox.store import Expired, InboxUnavailable, SignInLink, count_hit, current_store
from handler.inbox.tokens import URL_PREFIX, new_token, safe_next, well_formed
from handler.ratelimit import network
from handler.storage import StorageUnavailable, keyed_hash

log = logging.getLogger(__name__)

LINK_MINUTES = 15
EMAIL_MAX = 254
# Sign-in requests per fixed window: per address (any address, listed or not,
# so that a refusal reveals nothing), and per client network (an office's NAT).
LIMIT_WINDOW_SECONDS = 15 * 60
ADDRESS_LIMIT = 5
NETWORK_LIMIT = 20
NOTICES = {
    "signed-out": "You have signed out.",
    "ended": "Your session has ended or is not valid: please sign in again.",
}
SUBJECT = "Your sign-in link"

bp = Blueprint("inbox", __name__, url_prefix=URL_PREFIX, static_folder="static")


def page(template: str, status: int = 200, **context: Any) -> Response:
    return make_response(render_template(f"inbox/{template}", **context), status)


def refused(status: int, title: str, message: str) -> Response:
    return page("refused.html", status, title=title, message=message)


def form_page(template: str, status: int = 200, **context: Any) -> Response:
    """A page with a sign-in form: its CSRF token, and the cookie that token is bound to."""
    nonce, fresh = form_nonce()
    response = page(template, status, csrf_token=sign_in_form_token(nonce), **context)
    if fresh:
        set_cookie(response, FORM_COOKIE, nonce)
    return response


@bp.errorhandler(FormRefused)
def form_refused(error: FormRefused) -> Response:
    log.info("inbox form refused", extra={"reason": str(error)})
    return refused(
        403,
        "This form cannot be accepted",
        "It has expired or did not come from this site. Go back, reload the page and try again.",
    )


@bp.errorhandler(InboxUnavailable)
@bp.errorhandler(StorageUnavailable)  # the message pages' calls
def unavailable(error: InboxUnavailable | StorageUnavailable) -> Response:
    log.error("inbox unavailable", extra={"error": str(error)})
    response = refused(503, "The inbox is unavailable", "It cannot be reached just now. Please try again in a minute.")
    response.headers["Retry-After"] = "60"
    return response


# The pages.


@bp.get("/login")
def login_form() -> Response:
    notice = NOTICES.get(request.args.get("notice", ""))
    return form_page("login.html", next=safe_next(request.args.get("next")), notice=notice)


@bp.post("/login")
def request_link() -> Response:
    check_sign_in_form()
    address = request.form.get("email", "").strip()
    next_path = safe_next(request.form.get("next"))
    if len(address) > EMAIL_MAX or not PLAIN_ADDRESS.match(address):
        error = "Enter your email address, such as name@example.com."
        return form_page("login.html", 422, next=next_path, email=address, error=error)
    # Read as the contact form reads an address: an IDN domain in punycode, as INBOX_EMAILS holds
    # it. Counted so too: else the full-width spelling of an address is another address to the limit.
    typed = (validation.check_email(address)[0] or address).lower()
    wait = seconds_to_wait(typed)
    if wait is not None:
        log.info("inbox sign-in rate limited", extra={"retry_after": wait})
        minutes = -(-wait // 60)
        response = refused(429, "Too many sign-in requests", f"Please wait {minutes} minutes, then try again.")
        response.headers["Retry-After"] = str(wait)
        return response
    listed = inbox_settings().emails.get(typed)
    if listed is None:
        log.info("inbox sign-in requested", extra={"listed": False})
    else:
        send_link(listed, next_path)
    return redirect(url_for(".check_email"), 303)


def seconds_to_wait(address: str) -> int | None:
    """Count this request against its client's network, then its address; the wait if over a limit."""
    secret, store, now = inbox_key(), current_store(), time.time()
    limits = [
        (keyed_hash(secret, "inbox-network", network(request.remote_addr or "")), NETWORK_LIMIT),
        (keyed_hash(secret, "inbox-address", address.lower()), ADDRESS_LIMIT),
    ]
    for key, limit in limits:
        wait = count_hit(store.client, store.table_name, key, limit, LIMIT_WINDOW_SECONDS, now)
        if wait is not None:
            return wait
    return None


def send_link(address: str, next_path: str) -> None:
    """Store a new sign-in link for ``address`` and email it (the email holds nothing else)."""
    token = new_token()
    current_store().add_link(token, SignInLink(address, next_path, int(time.time()) + LINK_MINUTES * 60))
    # The URL this request came to: API Gateway routes by the Host header, so a request
    # reaches the function only through the API's own domains (locally: the stack's).
    link = url_for(".confirm", token=token, _external=True)
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
    alert = settings().alert
    email = notification.new_email(alert, [address], SUBJECT, text, body_html)
    try:
        notification.send(aws.clients().ses, email, [address], alert)
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
    check_sign_in_form()
    if not well_formed(token):
        return link_refused(None)
    now = time.time()
    link = current_store().take_link(token, now)
    if not isinstance(link, SignInLink) or link.email.lower() not in inbox_settings().emails:
        return link_refused(link)
    response = redirect(safe_next(link.next_path), 303)
    start_session(response, link.email, now)
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
    response = redirect(url_for(".login_form", notice="signed-out"), 303)
    end_session(response, g.inbox)
    return response
