"""The retry function: on a schedule, alert the therapist of every message still pending.

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

from handler import aws, create_app, delivery
from handler.config import settings
from handler.errors import UNHANDLED_ERROR
from handler.message import Message
from handler.storage import MessageStore, StorageUnavailable

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
            try:
                sent = delivery.deliver(Message.from_item(leased), store, clients.ses, config.alert)
            except StorageUnavailable:
                sent = False
            except Exception as error:  # noqa: BLE001 - logged, and the pass goes on
                # A message that cannot be sent at all (an item edited by hand,
                # say) must not stop the others; the alarm on this marker fires.
                log.error(UNHANDLED_ERROR, extra={"message_id": due.message_id, "error_type": type(error).__name__})
                sent = False
            counts["sent" if sent else "failed"] += 1
    log.info("retry pass", extra=counts)
    return counts


app = create_app(reads_secrets=False)


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    """The scheduled entry point that ``template.yaml`` names."""
    return retry_pending(app)
