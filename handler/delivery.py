"""Getting a stored message to the therapist: send, record the outcome, schedule a retry.

Used by the request that stored the message (its first attempt) and by the
retry function (every later one), so both follow the same rules: a failed
attempt is due again after a growing delay, and after ``NOTIFY_MAX_ATTEMPTS``
the message is marked failed and an error is logged for the alarm to catch.
Any error on the way counts as a failed attempt, not only SES's refusal, so
that no message can be retried for ever without reaching that alarm.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from handler import notification
from handler.config import AlertSettings
from handler.errors import UNHANDLED_ERROR
from handler.message import Message
from handler.storage import MessageStore, StorageUnavailable

log = logging.getLogger(__name__)

FIRST_RETRY_SECONDS = 60
LONGEST_RETRY_SECONDS = 3600
# The alarm in template.yaml matches this text in the logs.
PERMANENT_FAILURE = "NOTIFICATION_FAILED_PERMANENTLY"


def retry_delay(attempts: int) -> int:
    """Seconds before the next attempt, after ``attempts`` failed ones: 1, 2, 4 ... 60 minutes."""
    delay: int = FIRST_RETRY_SECONDS * 2 ** (attempts - 1)
    return min(delay, LONGEST_RETRY_SECONDS)


def deliver(message: Message, store: MessageStore, ses: Any, settings: AlertSettings) -> bool:
    """One more attempt to alert the therapist, with its outcome stored; True when sent."""
    attempts = message.notify_attempts + 1
    try:
        email = notification.notification(message, settings)
        tags = notification.EmailTags(notification.EmailKind.ALERT, message.id, attempts)
        notification.send(ses, email, settings.notify_email, settings, tags)
    except notification.NotificationFailed as failure:
        attempt_failed(store, message.id, attempts, failure.code, settings)
        return False
    except Exception as error:  # noqa: BLE001 - counted like SES's refusal, so that it cannot loop for ever
        # Not SES refusing but something unforeseen (an item edited by hand,
        # say): logged for the alarm, then counted towards the last attempt.
        log.error(UNHANDLED_ERROR, extra={"message_id": message.id, "error_type": type(error).__name__})
        attempt_failed(store, message.id, attempts, type(error).__name__, settings)
        return False
    record(store.mark_sent, message.id, attempts)
    log.info("notification sent", extra={"message_id": message.id, "attempts": attempts})
    return True


def attempt_failed(
    store: MessageStore, message_id: str, attempts: int, error_code: str, settings: AlertSettings
) -> None:
    """Record a failed attempt: due again after a growing delay, or after the last one failed for good."""
    if attempts >= settings.notify_max_attempts:
        log.error(PERMANENT_FAILURE, extra={"message_id": message_id, "attempts": attempts, "error_code": error_code})
        retry_at = None
    else:
        log.warning(
            "notification failed; will retry",
            extra={"message_id": message_id, "attempts": attempts, "error_code": error_code},
        )
        retry_at = time.time() + retry_delay(attempts)
    record(store.mark_attempt_failed, message_id, attempts, error_code, retry_at)


def record(update: Any, message_id: str, *args: Any) -> None:
    try:
        update(message_id, *args)
    except StorageUnavailable:
        # The message stays in the pending index under its lease: the retry
        # function will see it again (and may alert twice rather than never).
        log.error("could not record the notification outcome", extra={"message_id": message_id}, exc_info=False)


def acknowledge(message: Message, ses: Any, settings: AlertSettings) -> None:
    """The visitor's receipt: best effort, never retried (the therapist's alert is what matters)."""
    try:
        tags = notification.EmailTags(notification.EmailKind.ACKNOWLEDGEMENT, message.id)
        notification.send(ses, notification.acknowledgement(message, settings), [message.email], settings, tags)
    except notification.NotificationFailed as failure:
        log.warning("acknowledgement not sent", extra={"message_id": message.id, "error_code": failure.code})
