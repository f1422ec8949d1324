"""The inbox's message pages: the list, a message, its actions, and the export.

Every page needs a session (``login_required``); every action is a POST with
the session's CSRF token, changes the message only if its state allows
(another tab may have got there first), and records who did what and when on
the message; the logs get ids and actions only.
"""

from __future__ import annotations

import io
import itertools
import logging
import re
import time
from typing import Any
from urllib.parse import quote

from flask import g, redirect, request, url_for
from werkzeug.wrappers import Response

from handler import aws, delivery, export, intake, spam
from handler.config import linking_to, settings
from handler.inbox.auth import inbox_key, login_required
from handler.inbox.store import digest
from handler.inbox.tokens import after_from, cursor_of
from handler.inbox.views import bp, page, refused
from handler.message import Message, Shown
from handler.notification import local_time
from handler.storage import Changed, MessageStore, recent_sort_key

log = logging.getLogger(__name__)

PAGE_SIZE = 25
ID_PATTERN = re.compile(r"[0-9A-HJKMNP-TV-Z]{26}")  # a ULID
# The list's filters, by the name in their URL.
FILTERS = {shown.name.lower(): shown for shown in Shown}
ACTIONS = {"replied": "Marked replied.", "closed": "Closed.", "reopened": "Reopened."}
NOTICES = {
    **ACTIONS,
    "unchanged": "Nothing was changed: the message had already changed (in another window?).",
    "alert-sent": "No longer spam: its alert has been sent.",
    "alert-due": "No longer spam: its alert could not be sent just now, and will be retried.",
    "deleted": "The message has been deleted.",
}


def current_messages() -> MessageStore:
    return MessageStore(aws.clients().dynamodb, settings().contact_table_name)


def in_practice_time(moment: str) -> str:
    return local_time(moment, settings().alert.practice_timezone)


def chosen_filter() -> tuple[str, Shown | None] | None:
    """The list's filter from the URL: ("", None) for every message; None if unknown."""
    name = request.args.get("state", "")
    if not name:
        return "", None
    return (name, FILTERS[name]) if name in FILTERS else None


def common(**context: Any) -> dict[str, Any]:
    """What every signed-in page shows: who is signed in, and the sign-out form's token."""
    return {"email": g.inbox.session.email, "csrf_token": g.inbox.session.csrf_token, **context}


def not_found() -> Response:
    return refused(404, "No such message", "It may have been deleted, or the link is incomplete.")


def bad_filter() -> Response:
    return refused(400, "This list cannot be shown", "The link's filter or page is not valid: go back to the inbox.")


@bp.get("")
@login_required
def home() -> Response:
    chosen = chosen_filter()
    cursor = request.args.get("page")
    after = after_from(inbox_key(), cursor) if cursor else None
    if chosen is None or (cursor and after is None):
        return bad_filter()
    name, shown = chosen
    found = list(itertools.islice(current_messages().recent(shown=shown, after=after), PAGE_SIZE + 1))
    shown_now, more = found[:PAGE_SIZE], len(found) > PAGE_SIZE
    last = shown_now[-1] if shown_now else None
    next_page = cursor_of(inbox_key(), recent_sort_key(last.received_at, last.id)) if more and last else None
    return page(
        "list.html",
        **common(
            messages=shown_now,
            filters=FILTERS,
            state=name,
            next_page=next_page,
            first_page=bool(cursor),
            notice=NOTICES.get(request.args.get("done", "")),
            when=in_practice_time,
        ),
    )


@bp.app_template_filter("reply_link")
def reply_link(message: Message) -> str:
    """mailto: the visitor, the subject filled in; never the message's text."""
    subject = "Re: Your enquiry"
    return f"mailto:{quote(message.email, safe='@')}?subject={quote(subject)}"


@bp.app_template_filter("spam_signs")
def spam_signs(reasons: str) -> str:
    return "; ".join(spam.SAID.get(code, code) for code in reasons.split(","))


@bp.app_template_filter("phone_link")
def phone_link(phone: str) -> str:
    return "tel:" + re.sub(r"[^0-9+]", "", phone)


def found_message(message_id: str) -> Message | None:
    return current_messages().get(message_id) if ID_PATTERN.fullmatch(message_id) else None


def message_view(template: str, message_id: str, **context: Any) -> Response:
    """A page about one message, or the 404 page."""
    message = found_message(message_id)
    if message is None:
        return not_found()
    shown = common(message=message, answers=intake.answers(message), when=in_practice_time, **context)
    return page(template, spam_threshold=spam.THRESHOLD, **shown)


@bp.get("/messages/<message_id>")
@login_required
def message_page(message_id: str) -> Response:
    return message_view("message.html", message_id, notice=NOTICES.get(request.args.get("done", "")))


def audit(message_id: str, action: str) -> None:
    log.info(
        "inbox action", extra={"message_id": message_id, "action": action, "session": digest(g.inbox.session_id)[:12]}
    )


def back_to(message_id: str, done: str) -> Response:
    return redirect(url_for(".message_page", message_id=message_id, done=done), 303)


@bp.post("/messages/<message_id>/<any(replied, closed, reopened):action>")
@login_required
def change_state(message_id: str, action: str) -> Response:
    if not ID_PATTERN.fullmatch(message_id):
        return not_found()
    outcome = current_messages().change_state(message_id, action, g.inbox.session.email, time.time())
    if outcome is None:
        return not_found()
    if not isinstance(outcome, Changed):
        return back_to(message_id, "unchanged")
    audit(message_id, action)
    return back_to(message_id, action)


@bp.post("/messages/<message_id>/not-spam")
@login_required
def not_spam(message_id: str) -> Response:
    """Take it out of spam, and send the alert it never got (through the retry function if it fails)."""
    if not ID_PATTERN.fullmatch(message_id):
        return not_found()
    store = current_messages()
    outcome = store.not_spam(message_id, g.inbox.session.email, time.time())
    if outcome is None:
        return not_found()
    if not isinstance(outcome, Changed):
        return back_to(message_id, "unchanged")
    audit(message_id, "not spam")
    sent = delivery.deliver(outcome.message, store, aws.clients().ses, linking_to(settings(), request.host_url).alert)
    return back_to(message_id, "alert-sent" if sent else "alert-due")


@bp.get("/messages/<message_id>/delete")
@login_required
def confirm_delete(message_id: str) -> Response:
    return message_view("confirm_delete.html", message_id)


@bp.post("/messages/<message_id>/delete")
@login_required
def delete(message_id: str) -> Response:
    if not ID_PATTERN.fullmatch(message_id) or not current_messages().delete(message_id):
        return not_found()
    audit(message_id, "deleted")
    return redirect(url_for(".home", done="deleted"), 303)


@bp.get("/export")
@login_required
def export_csv() -> Response:
    """The list as filtered, every page of it, as CSV."""
    chosen = chosen_filter()
    if chosen is None:
        return bad_filter()
    name, shown = chosen
    text = io.StringIO()
    export.write_csv(text, (export.record(message) for message in current_messages().recent(shown=shown)))
    log.info("inbox action", extra={"action": "export", "session": digest(g.inbox.session_id)[:12]})
    filename = f"messages-{name or 'all'}-{time.strftime('%Y-%m-%d', time.gmtime())}.csv"
    return Response(
        text.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
