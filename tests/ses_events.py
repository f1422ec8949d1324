"""SES's delivery events as the delivery-events function receives them, built from AWS's
documented samples (``events/ses/``, whose README says where each comes from), and that
function's entry point as ``template.yaml`` names it."""

from __future__ import annotations

import copy
import importlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from infra.aws_template import load_template

EVENTS = Path(__file__).parent / "events"
SAMPLES = ("delivery", "delivery_delay", "bounce", "complaint", "reject", "rendering_failure")
SHAPES = ("sns", "eventbridge")
# EventBridge's detail-type of each event (its SES events reference).
DETAIL_TYPES = {
    "Delivery": "Email Delivered",
    "DeliveryDelay": "Email Delivery Delayed",
    "Bounce": "Email Bounced",
    "Complaint": "Email Complaint Received",
    "Reject": "Email Rejected",
    "Rendering Failure": "Email Rendering Failed",
    "Send": "Email Sent",
    "Open": "Email Opened",
}
# Where each sample keeps the time of the event itself (Reject and Rendering Failure have none).
DETAILS = {"Delivery": "delivery", "DeliveryDelay": "deliveryDelay", "Bounce": "bounce", "Complaint": "complaint"}
SAMPLE_RECIPIENT = "recipient@example.com"

_samples = {name: (EVENTS / "ses" / f"{name}.json").read_text() for name in SAMPLES}
_sns = json.loads((EVENTS / "sns_notification.json").read_text())
_eventbridge = json.loads((EVENTS / "eventbridge_ses.json").read_text())


def ses_record(
    sample: str, sent: dict[str, Any] | None, *, recipient: str = SAMPLE_RECIPIENT, at: str | None = None
) -> dict[str, Any]:
    """The documented ``sample`` as SES would publish it of the email ``sent`` (a
    ``send_raw_email`` call's parameters and answer): its tags and message id, the
    recipient named, and (for the events that carry one) the event's own time ``at``."""
    record: dict[str, Any] = json.loads(_samples[sample].replace(SAMPLE_RECIPIENT, recipient))
    if sent is not None:
        record["mail"]["messageId"] = sent["MessageId"]
        record["mail"]["tags"].update({tag["Name"]: [tag["Value"]] for tag in sent.get("Tags", [])})
    if at is not None and record["eventType"] in DETAILS:
        record[DETAILS[record["eventType"]]]["timestamp"] = at
    return record


def via_sns(*records: dict[str, Any], at: str = "2026-11-26T10:00:00.000Z") -> dict[str, Any]:
    """The records as SNS invokes the function: one Lambda record each (SNS sends one a time)."""
    (template,) = _sns["Records"]
    wrapped = []
    for record in records:
        one = copy.deepcopy(template)
        one["Sns"]["Message"] = json.dumps(record)
        one["Sns"]["Timestamp"] = at
        one["Sns"]["Subject"] = None
        one["Sns"]["MessageAttributes"] = {}
        wrapped.append(one)
    return {"Records": wrapped}


def via_eventbridge(record: dict[str, Any], at: str = "2026-11-26T10:00:00Z") -> dict[str, Any]:
    """The record as EventBridge delivers it: the detail of an ``aws.ses`` event."""
    event = copy.deepcopy(_eventbridge)
    event["detail-type"] = DETAIL_TYPES[record["eventType"]]
    event["time"] = at
    event["detail"] = record
    return event


def wrapped(shape: str, record: dict[str, Any], at: str = "2026-11-26T10:00:00Z") -> dict[str, Any]:
    return via_sns(record, at=at) if shape == "sns" else via_eventbridge(record, at=at)


def entry_point() -> Callable[[dict[str, Any], Any], dict[str, int]]:
    """The handler of the function that ``template.yaml`` subscribes to the topic its
    configuration set publishes to, imported afresh under the test's environment."""
    resources = load_template()["Resources"]
    (destination,) = [r for r in resources.values() if r["Type"] == "AWS::SES::ConfigurationSetEventDestination"]
    topic = destination["Properties"]["EventDestination"]["SnsDestination"]["TopicARN"]
    (function,) = [
        r
        for r in resources.values()
        if r["Type"] == "AWS::Serverless::Function"
        and any(
            event["Type"] == "SNS" and event["Properties"]["Topic"] == topic
            for event in r["Properties"].get("Events", {}).values()
        )
    ]
    module_name, _, attribute = function["Properties"]["Handler"].rpartition(".")
    module = importlib.reload(importlib.import_module(module_name))
    handler: Callable[[dict[str, Any], Any], dict[str, int]] = getattr(module, attribute)
    return handler
