"""Generated contact submissions through the entry point: whatever a visitor
types, the answer is a 201 or a 422 naming fields; a 201 is one stored message
and two emails (alert and acknowledgement) that carry exactly what was stored,
and a 422 stores and sends nothing.

The hostile corpus (``tests/hostile``) holds the inputs someone thought of;
this finds the ones nobody did, in every field at once.
"""

from __future__ import annotations

import email.policy
import html
import itertools
from typing import Any

import pytest
from apigw import json_body
from conftest import TABLE
from contact_helpers import attribute, header_value, mailbox, post_form, post_json, rfc2047
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

FIELD_NAMES = {"name", "email", "phone", "preferred_contact", "message", "consent", "website"}
# Any character but lone surrogates (JSON can carry them; a test elsewhere does).
ANY_TEXT = st.characters(blacklist_categories=("Cs",))
# Text that passes the single-line rules, so that long valid names are common:
# a long non-ASCII name is folded over several lines in the headers.
LINE_TEXT = st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp"))
EMAILS = st.one_of(
    st.sampled_from(
        ["alex@example.org", "Zoe.O'Neil+therapy@Example.ORG", "alex@bücher.example", "a@b.co", "zoë@example.org"]
    ),
    st.emails(),
    st.text(ANY_TEXT, max_size=40),
)
SUBMISSIONS = st.fixed_dictionaries(
    {
        "name": st.one_of(st.text(ANY_TEXT, max_size=110), st.text(LINE_TEXT, min_size=15, max_size=100)),
        "email": EMAILS,
        "message": st.one_of(st.text(ANY_TEXT, max_size=400), st.text(LINE_TEXT, min_size=1, max_size=400)),
        "consent": st.sampled_from([True, "on"]),
    },
    optional={
        "phone": st.one_of(st.from_regex(r"[0-9 +().\-]{1,30}", fullmatch=True), st.text(ANY_TEXT, max_size=35)),
        "preferred_contact": st.sampled_from(["email", "phone", "", "fax"]),
    },
)
client_numbers = itertools.count(1)


def check_emails(message: dict[str, Any], alert_raw: str, acknowledgement_raw: str) -> None:
    assert rfc2047(header_value(alert_raw, "Subject")) == f"New enquiry from {message['name']}"
    assert mailbox(header_value(alert_raw, "Reply-To")) == (message["name"], message["email"])
    assert mailbox(header_value(acknowledgement_raw, "To")) == (message["name"], message["email"])
    alert = email.message_from_string(alert_raw.replace("\r\n", "\n"), policy=email.policy.default)
    text = alert.get_body(("plain",)).get_content()
    assert message["message"] in text and message["email"] in text
    assert html.escape(message["message"]) in alert.get_body(("html",)).get_content()
    acknowledgement = email.message_from_string(acknowledgement_raw.replace("\r\n", "\n"), policy=email.policy.default)
    # Its words but the name: a message long enough not to be among them must not be.
    words = acknowledgement.get_body(("plain",)).get_content().replace(message["name"], "")
    if len(message["message"]) >= 30:
        assert message["message"] not in words


@pytest.fixture
def acknowledging(make_handler):
    """The entry point with the acknowledgement on: both emails carry the visitor's name."""
    return make_handler(SEND_ACKNOWLEDGEMENT="true")


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(submission=SUBMISSIONS, as_form=st.booleans())
def test_any_submission_is_a_201_with_what_was_sent_or_a_422_with_nothing(
    aws, acknowledging, submission: dict[str, Any], as_form: bool
) -> None:
    number = next(client_numbers)
    post = post_form if as_form else post_json
    before_items, before_emails = len(aws.items()), len(aws.raw_emails())
    result = post(
        acknowledging,
        submission,
        headers={"Idempotency-Key": f"property-{number}", "Accept": "application/json"},
        source_ip=f"198.18.{number // 250}.{number % 250 + 1}",
    )
    body = json_body(result)
    assert result["statusCode"] in (201, 422), body
    if result["statusCode"] == 422:
        assert body["error"] == "validation_failed" and set(body["fields"]) <= FIELD_NAMES, body
        assert len(aws.items()) == before_items and len(aws.raw_emails()) == before_emails
        return
    stored = [item for item in aws.messages() if attribute(item, "id") == body["id"]]
    assert len(stored) == 1, body
    message = {name: attribute(stored[0], name) for name in ("name", "email", "message")}
    # What was stored is what was sent, cleaned only as the rules say.
    assert message["name"] == submission["name"].strip()
    assert message["message"] == submission["message"].replace("\r\n", "\n").replace("\r", "\n").strip()
    assert message["email"].lower().split("@")[0] == submission["email"].strip().lower().split("@")[0]
    alert_raw, acknowledgement_raw = aws.raw_emails()[before_emails:]
    check_emails(message, alert_raw, acknowledgement_raw)
    # moto copies the whole table on every transaction: keep it small.
    for item in aws.items():
        aws.dynamodb.delete_item(TableName=TABLE, Key={"pk": item["pk"], "sk": item["sk"]})
