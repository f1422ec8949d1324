"""The delivery-events function: what SES reports of each alert, recorded on its message.

Every email is sent through the configuration set that ``template.yaml``
makes (``SES_CONFIGURATION_SET``), whose event destination publishes its
deliveries, bounces, complaints, rejections, rendering failures and delays
to an SNS topic that invokes this function. The function also reads
EventBridge's shape of the same events (``source`` ``aws.ses``), so that the
destination can change without the code.

An event names its email by the tags ``notification.send`` put on it: an
alert's report is recorded on its message (``MessageStore.record_delivery``,
whose condition makes a repeated or late report change nothing, as SNS and
EventBridge deliver at least once and in any order). Reports of a visitor's
acknowledgement, of untagged emails (the only copy sent when the table was
down), of messages since deleted, and events of other kinds are counted and
otherwise ignored. An alert that will not reach the therapist is logged as
``ALERT_NOT_DELIVERED`` with its message id and state, which an alarm
watches. Nothing else of an event is logged: its headers hold the visitor's
name and address, its recipients the therapist's.
"""

from __future__ import annotations

import collections
import datetime as dt
import json
import logging
from collections.abc import Iterator
from typing import Any

from flask import Flask

from handler import aws, create_app
from handler.config import settings
from handler.errors import UNHANDLED_ERROR
from handler.message import AlertDelivery, DeliveryReport
from handler.notification import EmailKind, EmailTags
from handler.storage import MessageStore, ReportOutcome, StorageUnavailable

log = logging.getLogger(__name__)

# The alarm in template.yaml matches this text in the logs.
ALERT_NOT_DELIVERED = "ALERT_NOT_DELIVERED"

# SES's eventType: the state it reports, and the object that holds its details.
REPORTED = {
    "Delivery": (AlertDelivery.DELIVERED, "delivery"),
    "DeliveryDelay": (AlertDelivery.DELAYED, "deliveryDelay"),
    "Bounce": (AlertDelivery.BOUNCED, "bounce"),
    "Complaint": (AlertDelivery.COMPLAINED, "complaint"),
    "Reject": (AlertDelivery.REJECTED, "reject"),
    "Rendering Failure": (AlertDelivery.RENDERING_FAILED, "failure"),
    "RenderingFailure": (AlertDelivery.RENDERING_FAILED, "failure"),  # as some of SES's pages spell it
}
# EventBridge's detail-type of each, for a detail without its eventType.
DETAIL_TYPES = {
    "Email Delivered": "Delivery",
    "Email Delivery Delayed": "DeliveryDelay",
    "Email Bounced": "Bounce",
    "Email Complaint Received": "Complaint",
    "Email Rejected": "Reject",
    "Email Rendering Failed": "Rendering Failure",
}
# Where each names the recipients it concerns (a list of addresses, or of objects with one).
RECIPIENTS = {
    "delivery": "recipients",
    "deliveryDelay": "delayedRecipients",
    "bounce": "bouncedRecipients",
    "complaint": "complainedRecipients",
}


class Malformed(ValueError):
    """Not an SES event this function can read."""


def ses_events(event: Any) -> Iterator[tuple[Any, str | None]]:
    """Each SES event the Lambda event carries, with the time its envelope gives: an SNS
    record's Message (JSON), or an EventBridge event's detail. A record that is neither
    comes as None, so that it is counted and the others still read."""
    if isinstance(event, dict) and event.get("source") == "aws.ses" and "detail" in event:
        detail = event["detail"]
        if isinstance(detail, dict) and "eventType" not in detail and event.get("detail-type") in DETAIL_TYPES:
            detail = {**detail, "eventType": DETAIL_TYPES[event["detail-type"]]}
        yield detail, event.get("time")
        return
    records = event.get("Records") if isinstance(event, dict) else None
    if not isinstance(records, list):
        yield None, None
        return
    for record in records:
        notification = record.get("Sns") if isinstance(record, dict) else None
        if not isinstance(notification, dict):
            yield None, None
            continue
        try:
            message = json.loads(notification["Message"])
        except (KeyError, TypeError, ValueError):
            message = None  # not a JSON message
        yield message, notification.get("Timestamp")


def moment(value: Any) -> str | None:
    """An ISO 8601 time from SES, as ``received_at`` is written (so that they sort as text)."""
    if not isinstance(value, str):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    parsed = parsed.astimezone(dt.UTC)
    return parsed.strftime("%Y-%m-%dT%H:%M:%S") + f".{parsed.microsecond // 1000:03d}Z"


def recipients(details: dict[str, Any], key: str) -> tuple[str, ...]:
    listed = details.get(RECIPIENTS.get(key, ""))
    if not isinstance(listed, list):
        return ()
    found = [item.get("emailAddress") if isinstance(item, dict) else item for item in listed]
    return tuple(address for address in found if isinstance(address, str))


def report_of(ses_event: Any, envelope_time: str | None) -> DeliveryReport | str:
    """The report an SES event makes of an alert, or why it makes none: ``other_event``,
    ``untagged`` (not one of our tagged emails), or ``acknowledgement``."""
    if not isinstance(ses_event, dict):
        raise Malformed("not an SES event")
    if ses_event.get("eventType") not in REPORTED:
        return "other_event"  # Send, Open, Click, Subscription: not published here, and not a fate
    if not isinstance(ses_event.get("mail"), dict):
        raise Malformed("an SES event without its mail object")
    tags = EmailTags.from_ses(ses_event["mail"].get("tags"))
    if tags is not None and tags.kind is not EmailKind.ALERT:
        return tags.kind.value
    if tags is None or tags.attempt is None:
        return "untagged"
    state, key = REPORTED[ses_event["eventType"]]
    details = ses_event.get(key)
    details = details if isinstance(details, dict) else {}
    # Reject and Rendering Failure carry no time of their own: the envelope's is when SES published.
    at = moment(details.get("timestamp")) or moment(envelope_time) or moment(ses_event["mail"].get("timestamp"))
    if at is None:
        raise Malformed("an SES event without a time")
    return DeliveryReport(
        message_id=tags.message_id,
        attempt=tags.attempt,
        state=state,
        at=at,
        bounce_type=text(details.get("bounceType")),
        bounce_subtype=text(details.get("bounceSubType")),
        recipients=recipients(details, key),
    )


def text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def record(store: MessageStore, ses_event: Any, envelope_time: str | None) -> str:
    """Record one SES event; its outcome, as counted."""
    report = report_of(ses_event, envelope_time)
    if isinstance(report, str):
        return report
    outcome = store.record_delivery(report)
    if outcome is ReportOutcome.RECORDED:
        details = {"message_id": report.message_id, "state": report.state.value}
        if report.raises_alarm:
            log.error(ALERT_NOT_DELIVERED, extra=details)
        else:
            log.info("alert delivery recorded", extra=details)
    return outcome.value


def handle(app: Flask, event: Any) -> dict[str, int]:
    """Every SES event of a Lambda event; returns counts by outcome (no personal data).

    DynamoDB failing raises, after the other events are done, so that Lambda invokes again
    (the records already done are then unchanged)."""
    counts: collections.Counter[str] = collections.Counter()
    unavailable: StorageUnavailable | None = None
    with app.app_context():
        store = MessageStore(aws.clients().dynamodb, settings(app).contact_table_name)
        for ses_event, envelope_time in ses_events(event):
            counts["events"] += 1
            try:
                counts[record(store, ses_event, envelope_time)] += 1
            except Malformed:
                counts["malformed"] += 1
            except StorageUnavailable as error:
                counts["storage_unavailable"] += 1
                unavailable = error
            except Exception as error:  # noqa: BLE001 - the type only: its text may quote the event
                counts["failed"] += 1
                log.error(UNHANDLED_ERROR, extra={"error_type": type(error).__name__})
    log.info("delivery events", extra=dict(counts))
    if unavailable is not None:
        raise unavailable
    return dict(counts)


app = create_app(reads_secrets=False)


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    """The entry point that ``template.yaml`` names, invoked by the events topic."""
    return handle(app, event)
