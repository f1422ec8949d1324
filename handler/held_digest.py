"""The digest of held messages: when messages were held as suspected spam, the therapist gets
at most one short email a day saying how many, so that nothing held goes unseen. It names no
one and quotes nothing; the messages are read in the inbox (Held as spam).

The retry function's schedule runs it. Each digest counts the messages held since the last
one counted, up to a minute ago: a message is stamped when its request starts and stored
within the API function's timeout (25 s), so none is stored behind a count.
"""

from __future__ import annotations

import html
import logging
from typing import Any

from handler import notification
from handler.config import AlertSettings
from handler.message import NotifyStatus
from handler.notification import EmailKind, EmailTags, NotificationFailed
from handler.storage import MessageStore, iso_time

log = logging.getLogger(__name__)

INTERVAL_SECONDS = 24 * 3600
SETTLE_SECONDS = 60
SUBJECT = "Messages held as suspected spam"


def send_if_due(store: MessageStore, ses: Any, settings: AlertSettings, now: float) -> int:
    """Send the digest if a day has passed since the last and something was held since;
    the number it told of (0: none sent)."""
    last_sent_at, counted_from = store.last_digest()
    if last_sent_at > now - INTERVAL_SECONDS:
        return 0
    counted_until = iso_time(now - SETTLE_SECONDS)
    held = store.recent(since=counted_from or None, notify_status=NotifyStatus.SPAM)
    count = sum(1 for message in held if message.received_at < counted_until)
    if not count:
        # Nothing held: the next run counts from here, not again from the last digest (or from
        # the first message ever), which would read more with every run.
        store.digest_sent(counted_until)
        return 0
    if not store.claim_digest(last_sent_at, now):
        return 0
    try:
        notification.send(
            ses,
            email(count, settings),
            settings.notify_email,
            settings,
            EmailTags(EmailKind.DIGEST, f"held-{counted_until[:10]}"),
        )
    except NotificationFailed as failure:
        log.error("held digest not sent", extra={"error_code": failure.code, "held": count})
        store.digest_not_sent(last_sent_at)
        return 0
    store.digest_sent(counted_until)
    log.info("held digest sent", extra={"held": count})
    return count


def email(count: int, settings: AlertSettings) -> bytes:
    """How many were held, and where to read them: nothing of any message."""
    were = "1 message was" if count == 1 else f"{count} messages were"
    held = f"{were} held as suspected spam since the last digest, and not alerted."
    where = "Read them in the inbox, under Held as spam"
    not_spam = "If one is a real enquiry, press Not spam there: its alert is sent then."
    if settings.inbox_url:
        link = f"{settings.inbox_url}/inbox?state=spam"
        text = f"{held}\n\n{where}:\n{link}\n\n{not_spam}\n"
        where_html = f'<a href="{html.escape(link)}">{html.escape(where)}</a>'
    else:
        text = f"{held}\n\n{where}.\n\n{not_spam}\n"
        where_html = f"{html.escape(where)}."
    return notification.new_email(
        settings,
        settings.notify_email,
        SUBJECT,
        text,
        f"<!doctype html><html><body><p>{html.escape(held)}</p><p>{where_html}</p>"
        f"<p>{html.escape(not_spam)}</p></body></html>",
    )
