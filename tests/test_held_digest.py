"""The digest of held messages (handler/held_digest.py), through the retry function's entry
point on its schedule: at most one a day, only when something was held, never a word of any message."""

from __future__ import annotations

import time

import pytest
from apigw import json_body
from conftest import SENDER, THERAPIST
from contact_helpers import VALID, post_json
from test_contact_faults import SCHEDULED_EVENT, retry_entry_point

from handler.storage import iso_time

pytestmark = pytest.mark.dynamodb_engines
INBOX = "https://inbox.example-practice.com"
DAY = 24 * 3600
SPAM = {**VALID, "name": "Casino Bonus", "message": "Cheap followers at spam.example", "website": "spam.example"}


@pytest.fixture
def contact(aws, make_handler, monkeypatch):
    handler = make_handler()
    monkeypatch.setenv("INBOX_URL", INBOX)  # as the template sets it for the retry function
    return handler


def digests(aws) -> list:
    return [email for email in aws.emails() if email["Subject"] == "Messages held as suspected spam"]


def test_a_held_message_is_told_of_once_in_a_day_with_nothing_of_it(aws, contact, clock) -> None:
    held = json_body(post_json(contact, SPAM))["id"]
    retry = retry_entry_point()
    retry(SCHEDULED_EVENT, None)
    assert digests(aws) == []  # it may still be in flight: counted from a minute on
    clock(61)
    retry(SCHEDULED_EVENT, None)
    (digest,) = digests(aws)
    assert digest["To"] == THERAPIST and SENDER in digest["From"]
    text = digest.get_body(("plain",)).get_content()
    assert text.startswith("1 message was held as suspected spam since the last digest, and not alerted.")
    assert f"{INBOX}/inbox?state=spam" in text
    assert f'href="{INBOX}/inbox?state=spam"' in digest.get_body(("html",)).get_content()
    everything = digest.as_string()
    for private in (held, SPAM["name"], "Casino", SPAM["email"], "followers", "spam.example"):
        assert private not in everything, private
    assert len(aws.emails()) == 1  # and no alert for the held message

    # Another held within the day: told of in the next day's digest, alone.
    post_json(contact, {**SPAM, "message": "More followers"})
    clock(3600)
    retry(SCHEDULED_EVENT, None)
    assert len(digests(aws)) == 1
    clock(DAY)
    retry(SCHEDULED_EVENT, None)
    assert len(digests(aws)) == 2
    assert digests(aws)[-1].get_body(("plain",)).get_content().startswith("1 message was held")


def test_no_digest_when_nothing_was_held(aws, contact, clock) -> None:
    post_json(contact, VALID)  # a genuine message: alerted, never counted
    clock(61)
    retry = retry_entry_point()
    retry(SCHEDULED_EVENT, None)
    clock(2 * DAY)
    before = time.time()
    retry(SCHEDULED_EVENT, None)
    assert digests(aws) == [] and len(aws.emails()) == 1
    # Each run counts on from where the last one ended, never again from the first message.
    (mark,) = [item for item in aws.items() if item["pk"]["S"] == "DIGEST#held"]
    assert iso_time(before - 60) <= mark["counted_until"]["S"] <= iso_time(time.time() - 60)
    assert "sent_at" not in mark


def test_the_digest_counts_every_message_held_since_the_last(aws, contact, clock) -> None:
    for n in range(3):
        post_json(contact, {**SPAM, "message": f"Spam number {n}"})
    clock(61)
    retry_entry_point()(SCHEDULED_EVENT, None)
    (digest,) = digests(aws)
    assert digest.get_body(("plain",)).get_content().startswith("3 messages were held")


def test_a_digest_ses_refused_is_sent_by_a_later_run(aws, contact, clock) -> None:
    post_json(contact, SPAM)
    aws.ses.delete_identity(Identity=SENDER)  # SES refuses the sender: MessageRejected
    clock(61)
    retry = retry_entry_point()
    retry(SCHEDULED_EVENT, None)
    assert aws.emails() == []
    aws.ses.verify_email_identity(EmailAddress=SENDER)
    clock(300)  # the next scheduled run, not a day later
    retry(SCHEDULED_EVENT, None)
    (digest,) = digests(aws)
    assert digest.get_body(("plain",)).get_content().startswith("1 message was held")
