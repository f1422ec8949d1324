"""Every alert's fate is known: each email names the configuration set and is tagged, and
SES's documented events, in both shapes, go through the handler ``template.yaml`` names and
are recorded on the message: idempotently, never over a newer or more final report, counting
what is not ours. On moto and on DynamoDB Local."""

from __future__ import annotations

import logging
import re
from typing import Any

import pytest
from apigw import json_body
from botocore.stub import Stubber
from conftest import SENDER, TABLE, THERAPIST
from contact_helpers import VALID, post_json
from ses_events import SAMPLES, SHAPES, entry_point, ses_record, via_eventbridge, via_sns, wrapped
from test_contact_privacy import PERSONAL, SECRET_VALUES, everything_logged

from handler.message import AlertDelivery, Message
from handler.storage import MessageStore, StorageUnavailable

pytestmark = pytest.mark.dynamodb_engines

CONFIGURATION_SET = "alerts-0a1b2c3d4e5f"
MARKER = "ALERT_NOT_DELIVERED"
# What each documented sample records: state, bounce type and subtype, recipients, and time
# (the event's own; Reject and Rendering Failure carry none, so the envelope's).
ENVELOPE_TIME = "2026-11-26T10:00:00.000Z"
EXPECTED = {
    "delivery": ("delivered", None, None, THERAPIST, "2016-10-19T23:21:04.133Z"),
    "delivery_delay": ("delayed", None, None, THERAPIST, "2020-06-16T00:25:40.095Z"),
    "bounce": ("bounced", "Permanent", "General", THERAPIST, "2017-08-05T00:41:02.669Z"),
    "complaint": ("complained", None, None, THERAPIST, "2017-08-05T00:41:02.669Z"),
    "reject": ("rejected", None, None, None, ENVELOPE_TIME),
    "rendering_failure": ("rendering_failed", None, None, None, ENVELOPE_TIME),
}
ALARMING = {"bounce", "complaint", "reject", "rendering_failure"}


@pytest.fixture
def contact(aws, make_handler):
    """The API function, sending through the configuration set, with acknowledgements on."""
    return make_handler(SES_CONFIGURATION_SET=CONFIGURATION_SET, SEND_ACKNOWLEDGEMENT="true")


@pytest.fixture
def alerted(contact, sent_emails) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """A message stored and alerted through the entry point: its id, its alert and its acknowledgement as sent."""
    message_id = json_body(post_json(contact, {**VALID, **SECRET_VALUES}))["id"]
    alert, acknowledgement = sent_emails
    return message_id, alert, acknowledgement


def stored(aws, message_id: str) -> Message:
    message = MessageStore(aws.dynamodb, TABLE).get(message_id)
    assert message is not None
    return message


def markers(caplog) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.getMessage() == MARKER]


def test_every_email_names_the_configuration_set_and_says_what_it_is(alerted) -> None:
    message_id, alert, acknowledgement = alerted
    assert alert["ConfigurationSetName"] == acknowledgement["ConfigurationSetName"] == CONFIGURATION_SET
    assert alert["Destinations"] == [THERAPIST]
    assert {tag["Name"]: tag["Value"] for tag in alert["Tags"]} == {
        "kind": "alert",
        "message_id": message_id,
        "attempt": "1",
    }
    assert {tag["Name"]: tag["Value"] for tag in acknowledgement["Tags"]} == {
        "kind": "acknowledgement",
        "message_id": message_id,
    }
    # What SES allows in a tag (MessageTag): ASCII letters, digits, _ and -, 256 at most.
    for tag in alert["Tags"] + acknowledgement["Tags"]:
        assert re.fullmatch(r"[A-Za-z0-9_-]{1,256}", tag["Name"]) and re.fullmatch(
            r"[A-Za-z0-9_-]{1,256}", tag["Value"]
        )


def test_without_a_configuration_set_none_is_named(aws, make_handler, sent_emails) -> None:
    post_json(make_handler(), VALID)
    (alert,) = sent_emails
    assert "ConfigurationSetName" not in alert
    assert {tag["Name"] for tag in alert["Tags"]} == {"kind", "message_id", "attempt"}


def test_a_configuration_set_name_ses_would_refuse_stops_start_up(aws, make_handler) -> None:
    from handler.config import ConfigError

    with pytest.raises(ConfigError, match="SES_CONFIGURATION_SET"):
        make_handler(SES_CONFIGURATION_SET="alerts set")


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("sample", SAMPLES)
def test_each_documented_event_is_recorded_on_its_message(aws, alerted, caplog, sample: str, shape: str) -> None:
    message_id, alert, _ = alerted
    caplog.set_level(logging.INFO)
    counts = entry_point()(wrapped(shape, ses_record(sample, alert, recipient=THERAPIST), at=ENVELOPE_TIME), None)
    assert counts == {"events": 1, "recorded": 1}
    state, bounce_type, bounce_subtype, recipients, at = EXPECTED[sample]
    message = stored(aws, message_id)
    assert message.alert_fate == AlertDelivery(state)
    assert (message.alert_bounce_type, message.alert_bounce_subtype) == (bounce_type, bounce_subtype)
    assert (message.alert_recipients, message.alert_delivery_at, message.alert_attempt) == (recipients, at, 1)
    assert message.alert_not_delivered == (sample in ALARMING)
    logged = markers(caplog)
    if sample in ALARMING:
        (marker,) = logged
        assert (marker.message_id, marker.state) == (message_id, state)
        assert marker.levelno == logging.ERROR
    else:
        assert logged == []


def test_an_eventbridge_detail_without_its_event_type_is_read_by_its_detail_type(aws, alerted) -> None:
    message_id, alert, _ = alerted
    event = via_eventbridge(ses_record("bounce", alert))
    del event["detail"]["eventType"]
    assert entry_point()(event, None) == {"events": 1, "recorded": 1}
    assert stored(aws, message_id).alert_fate is AlertDelivery.BOUNCED


def test_a_transient_bounce_is_recorded_as_not_delivered_without_an_alarm(aws, alerted, caplog) -> None:
    message_id, alert, _ = alerted
    record = ses_record("bounce", alert)
    record["bounce"].update(bounceType="Transient", bounceSubType="MailboxFull")
    entry_point()(via_sns(record), None)
    message = stored(aws, message_id)
    assert (message.alert_fate, message.alert_bounce_type, message.alert_bounce_subtype) == (
        AlertDelivery.BOUNCED,
        "Transient",
        "MailboxFull",
    )
    assert message.alert_not_delivered
    assert markers(caplog) == []


@pytest.mark.parametrize("shape", SHAPES)
def test_the_same_event_twice_is_recorded_and_alarms_once(aws, alerted, caplog, shape: str) -> None:
    message_id, alert, _ = alerted
    handler = entry_point()
    event = wrapped(shape, ses_record("bounce", alert))
    assert handler(event, None) == {"events": 1, "recorded": 1}
    before = aws.messages()
    assert handler(event, None) == {"events": 1, "unchanged": 1}
    assert aws.messages() == before
    assert [marker.message_id for marker in markers(caplog)] == [message_id]


def test_an_older_or_less_final_report_never_overwrites_a_newer_or_more_final_one(aws, alerted, caplog) -> None:
    message_id, alert, _ = alerted
    handler = entry_point()

    def report(sample: str, at: str) -> dict[str, int]:
        return handler(via_sns(ses_record(sample, alert, recipient=THERAPIST, at=at)), None)

    assert report("delivery_delay", "2026-11-26T10:05:00.000Z") == {"events": 1, "recorded": 1}
    assert report("delivery_delay", "2026-11-26T10:01:00.000Z") == {"events": 1, "unchanged": 1}  # older
    assert stored(aws, message_id).alert_delivery_at == "2026-11-26T10:05:00.000Z"
    assert report("delivery_delay", "2026-11-26T10:10:00.000Z") == {"events": 1, "recorded": 1}  # newer
    assert report("delivery", "2026-11-26T10:20:00.000Z") == {"events": 1, "recorded": 1}
    assert report("delivery_delay", "2026-11-26T10:30:00.000Z") == {"events": 1, "unchanged": 1}  # late, less final
    assert stored(aws, message_id).alert_fate is AlertDelivery.DELIVERED
    # Delivered, then bounced by the therapist's server after it took the email.
    assert report("bounce", "2026-11-26T11:00:00.000Z") == {"events": 1, "recorded": 1}
    assert report("delivery", "2026-11-26T12:00:00.000Z") == {"events": 1, "unchanged": 1}
    message = stored(aws, message_id)
    assert (message.alert_fate, message.alert_delivery_at) == (AlertDelivery.BOUNCED, "2026-11-26T11:00:00.000Z")
    assert message.alert_bounce_type == "Permanent"
    assert len(markers(caplog)) == 1


def test_a_resend_s_reports_replace_the_earlier_attempt_s_and_never_the_reverse(aws, alerted, caplog) -> None:
    message_id, alert, _ = alerted
    handler = entry_point()
    handler(via_sns(ses_record("bounce", alert, recipient=THERAPIST)), None)
    later = {**alert, "Tags": [{**tag, "Value": "2"} if tag["Name"] == "attempt" else tag for tag in alert["Tags"]]}
    aws.dynamodb.update_item(
        TableName=TABLE,
        Key={"pk": {"S": f"MSG#{message_id}"}, "sk": {"S": "MSG"}},
        UpdateExpression="SET notify_attempts = :two",
        ExpressionAttributeValues={":two": {"N": "2"}},
    )
    assert stored(aws, message_id).alert_fate is None  # the bounce was of attempt 1
    # A report of attempt 1 arriving now is stale: it neither counts nor alarms.
    late = ses_record("bounce", alert, recipient=THERAPIST, at="2026-11-27T09:00:00.000Z")
    assert handler(via_sns(late), None) == {"events": 1, "unchanged": 1}
    assert len(markers(caplog)) == 1
    assert handler(via_sns(ses_record("delivery", later, recipient=THERAPIST)), None) == {"events": 1, "recorded": 1}
    message = stored(aws, message_id)
    assert (message.alert_fate, message.alert_attempt) == (AlertDelivery.DELIVERED, 2)
    assert (message.alert_bounce_type, message.alert_bounce_subtype) == (None, None)
    # A late report of attempt 1 changes nothing now.
    assert handler(via_sns(ses_record("complaint", alert)), None) == {"events": 1, "unchanged": 1}
    assert stored(aws, message_id).alert_fate is AlertDelivery.DELIVERED


def test_events_of_unknown_messages_are_counted_and_create_nothing(aws, alerted, caplog) -> None:
    _, alert, _ = alerted
    gone = {
        **alert,
        "Tags": [
            {**t, "Value": "01JZZZZZZZZZZZZZZZZZZZZZZZ"} if t["Name"] == "message_id" else t for t in alert["Tags"]
        ],
    }
    before = aws.items()
    counts = entry_point()(via_sns(ses_record("bounce", gone), ses_record("delivery", gone)), None)
    assert counts == {"events": 2, "unknown": 2}
    assert aws.items() == before
    assert markers(caplog) == []


def test_an_acknowledgement_s_events_are_counted_never_recorded_as_the_alert_s(aws, alerted, caplog) -> None:
    message_id, _, acknowledgement = alerted
    records = [ses_record(sample, acknowledgement) for sample in ("bounce", "complaint", "delivery")]
    assert entry_point()(via_sns(*records), None) == {"events": 3, "acknowledgement": 3}
    assert stored(aws, message_id).alert_delivery is None
    assert markers(caplog) == []


def test_what_is_not_an_alert_s_report_is_counted_and_the_rest_still_recorded(aws, alerted) -> None:
    message_id, alert, _ = alerted
    untagged = ses_record("bounce", None)  # as the only copy sent when the table was down: no tags of ours
    sent = {**ses_record("delivery", alert), "eventType": "Send"}
    event = via_sns(untagged, sent, ses_record("delivery", alert))
    event["Records"] += [{"Sns": {"Message": "not json"}}, {"Sns": {"Message": '"a string"'}}, {"nothing": 1}]
    counts = entry_point()(event, None)
    assert counts == {"events": 6, "untagged": 1, "other_event": 1, "recorded": 1, "malformed": 3}
    assert stored(aws, message_id).alert_fate is AlertDelivery.DELIVERED
    assert entry_point()({"something": "else"}, None) == {"events": 1, "malformed": 1}
    assert entry_point()({"source": "aws.ses", "detail-type": "Sending Status Disabled", "detail": {}}, None) == {
        "events": 1,
        "other_event": 1,
    }


@pytest.mark.moto_only("DynamoDB's answers are stubbed")
def test_dynamodb_failing_makes_lambda_invoke_again_and_the_retry_records(aws, alerted, caplog) -> None:
    message_id, alert, _ = alerted
    events_handler = entry_point()
    from handler import delivery_events

    event = via_sns(ses_record("bounce", alert))
    with Stubber(delivery_events.app.extensions["aws"].dynamodb) as stub:
        stub.add_client_error("update_item", service_error_code="ThrottlingException", http_status_code=400)
        with pytest.raises(StorageUnavailable):
            events_handler(event, None)
    assert stored(aws, message_id).alert_delivery is None
    assert events_handler(event, None) == {"events": 1, "recorded": 1}
    assert len(markers(caplog)) == 1


def test_no_event_logs_personal_data(aws, alerted, caplog, capfd) -> None:
    """The events carry the alert's headers (the visitor's name in its Subject, their address in
    Reply-To) and the therapist's address: none of it, nor any field of the event, is logged."""
    _, alert, acknowledgement = alerted
    caplog.set_level(logging.DEBUG)
    headers = [
        {"name": "Subject", "value": f"New enquiry from {SECRET_VALUES['name']}"},
        {"name": "Reply-To", "value": f"{SECRET_VALUES['name']} <{SECRET_VALUES['email']}>"},
        {"name": "To", "value": THERAPIST},
    ]
    records = []
    for sample in SAMPLES:
        for sent in (alert, acknowledgement):
            record = ses_record(sample, sent, recipient=THERAPIST)
            record["mail"]["headers"] = headers
            record["mail"]["commonHeaders"] = {"subject": headers[0]["value"], "to": [THERAPIST]}
            records.append(record)
    handler = entry_point()
    handler(via_sns(*records), None)
    for record in records:
        handler(via_eventbridge(record), None)
    logged = everything_logged(caplog.records, "".join(capfd.readouterr()))
    assert MARKER in logged
    for value in [*PERSONAL, THERAPIST, SENDER, "New enquiry", "smtp; 550"]:
        assert value not in logged, value


def test_the_function_starts_and_runs_with_no_secret(aws, alerted, monkeypatch) -> None:
    message_id, alert, _ = alerted
    monkeypatch.delenv("IP_HASH_SECRET_ARN")  # template.yaml gives this function none
    events_handler = entry_point()
    assert events_handler(via_sns(ses_record("delivery", alert)), None) == {"events": 1, "recorded": 1}
    from handler import delivery_events

    assert "secrets" not in delivery_events.app.extensions
    assert stored(aws, message_id).alert_fate is AlertDelivery.DELIVERED


def test_an_event_that_breaks_the_reader_is_logged_by_its_type_only_and_the_others_recorded(
    aws, alerted, caplog
) -> None:
    message_id, alert, _ = alerted
    odd = ses_record("bounce", alert, recipient=THERAPIST)
    odd["eventType"] = ["Bounce", SECRET_VALUES["name"]]  # not a string: no reader expects it
    counts = entry_point()(via_sns(odd, ses_record("delivery", alert)), None)
    assert counts == {"events": 2, "failed": 1, "recorded": 1}
    (unhandled,) = [record for record in caplog.records if record.getMessage() == "UNHANDLED_ERROR"]
    assert unhandled.error_type == "TypeError"
    assert SECRET_VALUES["name"] not in everything_logged(caplog.records, "")
    assert stored(aws, message_id).alert_fate is AlertDelivery.DELIVERED
