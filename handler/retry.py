"""The retry function: on a schedule, alert the therapist of every message still pending
(and, once a day at most, tell how many were held as suspected spam: handler/held_digest.py).

A message is pending when its first alert failed, or when the function that
stored it stopped before sending (its lease then runs out). Each run leases a
due message with a conditional write before sending, so two runs, or a run
and the original request, never send it together.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from flask import Flask

from handler import aws, create_app, delivery, held_digest
from handler.config import AlertSettings, settings
from handler.errors import UNHANDLED_ERROR
from handler.message import Item, Message
from handler.storage import Due, MessageStore

log = logging.getLogger(__name__)

BATCH_SIZE = 25


def retry_pending(app: Flask, now: float | None = None) -> dict[str, int]:
    """One pass over the due messages; returns counts by outcome (no personal data)."""
    counts = {"due": 0, "sent": 0, "failed": 0, "skipped": 0}
    with app.app_context():
        clients = aws.clients()
        config = settings(app)
        store = MessageStore(clients.dynamodb, config.contact_table_name)
        now = time.time() if now is None else now
        for due in store.due(now, limit=BATCH_SIZE):
            counts["due"] += 1
            leased = store.lease(due, now)
            if leased is None:
                counts["skipped"] += 1  # another run (or the request) holds it
                continue
            sent = attempt(leased, due, store, clients.ses, config.alert)
            counts["sent" if sent else "failed"] += 1
        held_digest.send_if_due(store, clients.ses, config.alert, now)
    log.info("retry pass", extra=counts)
    return counts


def attempt(leased: Item, due: Due, store: MessageStore, ses: Any, settings: AlertSettings) -> bool:
    """One attempt to alert a leased message; True when sent. Every failure counts as an attempt."""
    try:
        message = Message.from_item(leased)
    except Exception as error:  # noqa: BLE001 - an item edited by hand into what no message is
        log.error(UNHANDLED_ERROR, extra={"message_id": due.message_id, "error_type": type(error).__name__})
        delivery.attempt_failed(store, due.message_id, attempts_so_far(leased) + 1, type(error).__name__, settings)
        return False
    return delivery.deliver(message, store, ses, settings)


def attempts_so_far(item: Item) -> int:
    """The attempts an item that is no message records, read without trusting it."""
    value = (item.get("notify_attempts") or {}).get("N")
    return int(value) if isinstance(value, str) and value.isdigit() else 0


app = create_app(reads_secrets=False)


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    """The scheduled entry point that ``template.yaml`` names."""
    return retry_pending(app)
