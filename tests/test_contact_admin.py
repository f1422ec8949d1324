"""``contact-admin`` on each DynamoDB engine (moto's, and DynamoDB Local): messages stored
through the real entry point, then managed."""

from __future__ import annotations

import csv
import io
import json

import pytest
import ses_events
from apigw import json_body
from conftest import SENDER, THERAPIST
from contact_helpers import VALID, attribute, post_json

from infra import contact_admin

pytestmark = pytest.mark.dynamodb_engines


@pytest.fixture
def stored(aws, make_handler, monkeypatch) -> list[str]:
    """Three messages (one spam), stored by the function as visitors would send them."""
    handler = make_handler()
    ids = [
        json_body(post_json(handler, {**VALID, "name": "Ann One", "email": "ann@example.org", "message": "First"}))[
            "id"
        ],
        json_body(post_json(handler, {**VALID, "name": "Bo Two", "email": "bo@example.org", "message": "Second"}))[
            "id"
        ],
        json_body(post_json(handler, {**VALID, "message": "Buy now", "website": "spam.example"}))["id"],
    ]
    monkeypatch.setenv("CONTACT_TABLE_NAME", "contact-messages")
    return ids


def admin(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = contact_admin.main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_list_shows_the_newest_first(stored, capsys) -> None:
    status, out, _ = admin(capsys, "list")
    assert status == 0
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["id", "received_at", "state"]
    state = lines[0].index("state")
    assert lines[1][state:].startswith("held as spam ") and lines[2][state:].startswith("new ")
    assert [line.split()[0] for line in lines[1:]] == list(reversed(stored))
    assert "Bo Two" in lines[2] and "bo@example.org" in lines[2]


def test_list_filters_by_status_and_date(stored, capsys) -> None:
    _, out, _ = admin(capsys, "list", "--status", "spam")
    assert [line.split()[0] for line in out.splitlines()[1:]] == [stored[2]]
    _, out, _ = admin(capsys, "list", "--status", "sent")
    assert [line.split()[0] for line in out.splitlines()[1:]] == [stored[1], stored[0]]


def test_list_shows_and_filters_by_the_inbox_state(aws, stored, capsys) -> None:
    from handler.storage import MessageStore

    MessageStore(aws.dynamodb, "contact-messages").change_state(stored[0], "replied", THERAPIST, 0)
    _, out, _ = admin(capsys, "list", "--status", "new")
    assert [line.split()[0] for line in out.splitlines()[1:]] == [stored[1]]
    _, out, _ = admin(capsys, "list", "--status", "replied")
    (line,) = out.splitlines()[1:]
    assert line.split()[0] == stored[0] and line.split()[2] == "replied"
    MessageStore(aws.dynamodb, "contact-messages").mark_attempt_failed(stored[1], 8, "Throttling", None)
    _, out, _ = admin(capsys, "list", "--status", "undelivered")
    (line,) = out.splitlines()[1:]
    assert line.split()[0] == stored[1] and "alert not delivered" in line
    _, out, _ = admin(capsys, "list", "--since", "2999-01-01")
    assert out.strip() == "no messages"
    with pytest.raises(SystemExit) as usage:
        admin(capsys, "list", "--since", "yesterday")
    assert usage.value.code == 2 and "not a date such as 2026-11-01" in capsys.readouterr().err


def test_show_prints_one_message_in_full(stored, capsys) -> None:
    status, out, _ = admin(capsys, "show", stored[0])
    assert status == 0
    assert f"id: {stored[0]}" in out and "name: Ann One" in out and "email: ann@example.org" in out
    assert out.rstrip().endswith("First")
    status, _, err = admin(capsys, "show", "01NOSUCHMESSAGE0000000000")
    assert status == 1 and "no message has the id" in err


def test_export_as_json_and_csv(stored, capsys, tmp_path) -> None:
    _, out, _ = admin(capsys, "export", "--format", "json")
    exported = json.loads(out)
    assert [row["id"] for row in exported] == list(reversed(stored))
    assert exported[-1]["message"] == "First"
    target = tmp_path / "messages.csv"
    status, out, _ = admin(capsys, "export", "--format", "csv", "--output", str(target))
    assert status == 0 and "exported 3 message(s)" in out
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"))))
    assert {row["name"] for row in rows} == {"Ann One", "Bo Two", VALID["name"]}


def test_a_csv_export_keeps_formulas_as_text(aws, make_handler, capsys, monkeypatch, tmp_path) -> None:
    name, message = '=HYPERLINK("http://evil.example","click")', "+cmd|' /C calc'!A0"
    post_json(make_handler(), {**VALID, "name": name, "message": message})
    monkeypatch.setenv("CONTACT_TABLE_NAME", "contact-messages")
    target = tmp_path / "messages.csv"
    admin(capsys, "export", "--format", "csv", "--output", str(target))
    (row,) = csv.DictReader(io.StringIO(target.read_text(encoding="utf-8")))
    assert row["name"] == "'" + name and row["message"] == "'" + message and row["email"] == VALID["email"]
    _, out, _ = admin(capsys, "export", "--format", "json")
    assert json.loads(out)[0]["name"] == name  # JSON is data, not a spreadsheet: kept as sent


def test_delete_by_an_address_with_an_international_domain(aws, make_handler, capsys, monkeypatch) -> None:
    post_json(make_handler(), {**VALID, "email": "zoe@bücher.example"})
    monkeypatch.setenv("CONTACT_TABLE_NAME", "contact-messages")
    status, out, _ = admin(capsys, "delete", "--email", "Zoe@Bücher.example", "--yes")
    assert status == 0 and "deleted 1" in out and aws.messages() == []


def test_delete_one_message_with_yes(stored, capsys, aws) -> None:
    status, out, _ = admin(capsys, "delete", stored[0], "--yes")
    assert status == 0 and "deleted 1" in out
    assert stored[0] not in {attribute(item, "id") for item in aws.messages()}


def test_delete_every_message_from_an_address(stored, capsys, aws, make_handler) -> None:
    post_json(make_handler(), {**VALID, "name": "Bo Two", "email": "BO@example.org", "message": "Third"})
    status, out, _ = admin(capsys, "delete", "--email", "bo@example.org", "--yes")
    assert status == 0 and "deleted 2" in out
    assert all(attribute(item, "email").lower() != "bo@example.org" for item in aws.messages())
    assert len(aws.messages()) == 2


def test_delete_asks_first(stored, capsys, aws, monkeypatch) -> None:
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("builtins.input", lambda prompt: "n")
    status, out, _ = admin(capsys, "delete", stored[0])
    assert status == 0 and "nothing deleted" in out
    assert len(aws.messages()) == 3
    monkeypatch.setattr("builtins.input", lambda prompt: "y")
    admin(capsys, "delete", stored[0])
    assert len(aws.messages()) == 2


def test_delete_without_a_terminal_needs_yes(stored, capsys, aws, monkeypatch) -> None:
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    status, _, err = admin(capsys, "delete", stored[0])
    assert status == 1 and "--yes" in err
    assert len(aws.messages()) == 3


def test_resend_sends_the_alert_again(stored, capsys, aws, monkeypatch) -> None:
    monkeypatch.setenv("SENDER_EMAIL", SENDER)
    monkeypatch.setenv("NOTIFY_EMAIL", THERAPIST)
    before = len(aws.emails())
    status, out, _ = admin(capsys, "resend", stored[1])
    assert status == 0 and "sent the alert" in out
    assert len(aws.emails()) == before + 1
    assert "Second" in aws.emails()[-1].get_body(("plain",)).get_content()
    item = next(item for item in aws.messages() if attribute(item, "id") == stored[1])
    assert attribute(item, "notify_attempts") == 2 and attribute(item, "notify_status") == "sent"


def test_resend_reads_the_alert_settings_as_the_function_does(stored, capsys, aws, monkeypatch) -> None:
    monkeypatch.setenv("SENDER_EMAIL", SENDER)
    monkeypatch.setenv("NOTIFY_EMAIL", THERAPIST)
    monkeypatch.setenv("PRACTICE_TIMEZONE", "")  # empty: UTC, as in the function
    monkeypatch.setenv("NOTIFY_DETAIL", "")  # empty: full
    status, _, _ = admin(capsys, "resend", stored[1])
    assert status == 0 and "Second" in aws.emails()[-1].get_body(("plain",)).get_content()
    monkeypatch.setenv("SENDER_NAME", "Practice\r\nBcc: eve@evil.example")
    status, _, err = admin(capsys, "resend", stored[1])
    assert status == 1 and "SENDER_NAME" in err


def test_stats_count_per_day_and_status(stored, capsys) -> None:
    status, out, _ = admin(capsys, "stats")
    assert status == 0
    assert "per day:" in out and "  3" in out.split("per status:")[0]
    per_status = out.split("per status:")[1]
    assert "sent      2" in per_status and "spam      1" in per_status


def test_clear_errors_for_missing_table_region_and_credentials(aws, capsys, monkeypatch) -> None:
    monkeypatch.delenv("CONTACT_TABLE_NAME", raising=False)
    status, _, err = admin(capsys, "list")
    assert status == 1 and "no table" in err
    status, _, err = admin(capsys, "--table", "not-a-table", "list")
    assert status == 1 and "no table 'not-a-table'" in err
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    status, _, err = admin(capsys, "--table", "t", "list")
    assert status == 1 and "no AWS region" in err
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    status, _, err = admin(capsys, "--table", "t", "list")
    assert status == 1 and "no AWS credentials" in err


# What became of each alert, as SES reported it (handler/delivery_events.py).

CONFIGURATION_SET = "alerts-0a1b2c3d4e5f"


@pytest.fixture
def reported(aws, make_handler, monkeypatch, sent_emails) -> dict[str, tuple[str, dict]]:
    """Three messages alerted through the configuration set: SES reported the first's alert
    bounced, the second's delivered, and nothing yet of the third's."""
    handler = make_handler(SES_CONFIGURATION_SET=CONFIGURATION_SET)
    names = ("bounced", "delivered", "unreported")
    ids = [json_body(post_json(handler, {**VALID, "message": f"About {name}"}))["id"] for name in names]
    alerts = dict(zip(names, zip(ids, sent_emails, strict=True), strict=True))
    events = ses_events.entry_point()
    events(ses_events.via_sns(ses_events.ses_record("bounce", alerts["bounced"][1], recipient=THERAPIST)), None)
    events(ses_events.via_sns(ses_events.ses_record("delivery", alerts["delivered"][1], recipient=THERAPIST)), None)
    monkeypatch.setenv("CONTACT_TABLE_NAME", "contact-messages")
    return alerts


def listed(out: str) -> list[str]:
    return [line.split()[0] for line in out.splitlines()[1:]]


def test_list_finds_the_messages_whose_alert_did_not_arrive(reported, capsys) -> None:
    _, out, _ = admin(capsys, "list", "--status", "not-delivered")
    assert listed(out) == [reported["bounced"][0]]
    _, out, _ = admin(capsys, "list", "--status", "bounced")
    assert listed(out) == [reported["bounced"][0]]
    _, out, _ = admin(capsys, "list", "--status", "delivered")
    assert listed(out) == [reported["delivered"][0]]
    _, out, _ = admin(capsys, "list", "--status", "complained")
    assert out.strip() == "no messages"
    _, out, _ = admin(capsys, "list")
    header, *rows = out.splitlines()
    assert header.split()[:4] == ["id", "received_at", "state", "delivery"]
    delivery = header.index("delivery")  # the state may be words ("alert not delivered")
    fates = {row.split()[0]: row[delivery:].split()[0] for row in rows}
    assert {id: fate for id, fate in fates.items() if fate in ("bounced", "delivered")} == {
        reported["bounced"][0]: "bounced",
        reported["delivered"][0]: "delivered",
    }


def test_show_tells_what_became_of_the_alert(reported, capsys) -> None:
    _, out, _ = admin(capsys, "show", reported["bounced"][0])
    assert f"delivery: bounced (Permanent/General), {THERAPIST}, at 2017-08-05T00:41:02.669Z" in out
    _, out, _ = admin(capsys, "show", reported["delivered"][0])
    assert f"delivery: delivered, {THERAPIST}, at 2016-10-19T23:21:04.133Z" in out
    _, out, _ = admin(capsys, "show", reported["unreported"][0])
    assert "delivery: not reported" in out


def test_resend_of_an_alert_that_bounced_is_the_next_attempt_and_its_fate_recorded(
    reported, capsys, aws, monkeypatch, sent_emails
) -> None:
    message_id, first = reported["bounced"]
    for name, value in {
        "SENDER_EMAIL": SENDER,
        "NOTIFY_EMAIL": THERAPIST,
        "SES_CONFIGURATION_SET": CONFIGURATION_SET,
    }.items():
        monkeypatch.setenv(name, value)
    status, out, _ = admin(capsys, "resend", message_id)
    assert status == 0 and "sent the alert" in out and "delete-suppressed-destination" in out
    again = sent_emails[-1]
    assert again["ConfigurationSetName"] == CONFIGURATION_SET
    assert {tag["Name"]: tag["Value"] for tag in again["Tags"]} == {
        "kind": "alert",
        "message_id": message_id,
        "attempt": "2",
    }
    _, out, _ = admin(capsys, "list", "--status", "not-delivered")
    assert out.strip() == "no messages"  # the resent alert's fate is not known yet
    events = ses_events.entry_point()
    late = ses_events.ses_record("bounce", first, at="2026-11-27T09:00:00.000Z")
    assert events(ses_events.via_sns(late), None) == {"events": 1, "unchanged": 1}
    delivered = ses_events.ses_record("delivery", again, recipient=THERAPIST, at="2026-11-27T09:01:00.000Z")
    assert events(ses_events.via_sns(delivered), None) == {"events": 1, "recorded": 1}
    _, out, _ = admin(capsys, "show", message_id)
    assert "notify_attempts: 2" in out and f"delivery: delivered, {THERAPIST}, at 2026-11-27T09:01:00.000Z" in out


def test_resend_without_a_configuration_set_says_its_fate_will_not_be_reported(reported, capsys, monkeypatch) -> None:
    monkeypatch.setenv("SENDER_EMAIL", SENDER)
    monkeypatch.setenv("NOTIFY_EMAIL", THERAPIST)
    monkeypatch.delenv("SES_CONFIGURATION_SET", raising=False)
    status, out, _ = admin(capsys, "resend", reported["delivered"][0])
    assert status == 0 and "SES will not report" in out and "suppression" not in out
