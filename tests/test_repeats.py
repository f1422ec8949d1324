"""Repeats (``handler.repeats``): the same text from many client networks, counted on each
DynamoDB engine in a transaction as the contact endpoint's would be, with the message's Put."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError
from conftest import TABLE

from handler import repeats

pytestmark = pytest.mark.dynamodb_engines

SECRET = b"test-only-secret-0123456789"
CAMPAIGN = "Hi, I noticed your website is not on the first page of Google. Reply for a free audit."
WINDOW = repeats.REPEAT_WINDOW_SECONDS
START = 1_800_000_000.0 - 1_800_000_000.0 % WINDOW + 60  # a minute into a window


def network(number: int) -> str:
    """A client network's keyed hash, as ``Message.ip_hash`` holds it."""
    return f"{number:064x}"


def send(aws, moment: float, sender: str, text: str = CAMPAIGN, message_id: str | None = None) -> str:
    """One message's transaction: its Put and the repeat count. "stored", or the repeat's
    cancellation reason."""
    name = repeats.text_hash(SECRET, text)
    assert name is not None
    message_id = message_id or f"{moment!r}-{sender[-4:]}"
    items = [
        {"Put": {"TableName": TABLE, "Item": {"pk": {"S": f"MSG#{message_id}"}, "sk": {"S": "MSG"}}}},
        {"Update": {"TableName": TABLE, **repeats.counted(name, sender, moment)}},
    ]
    try:
        aws.dynamodb.transact_write_items(TransactItems=items)
    except ClientError as error:
        assert error.response["Error"]["Code"] == "TransactionCanceledException"
        return str(error.response["CancellationReasons"][1]["Code"])
    return "stored"


def stored_messages(aws) -> int:
    return sum(item["pk"]["S"].startswith("MSG#") for item in aws.items())


def test_the_same_text_from_more_networks_than_the_limit_is_a_repeat(aws) -> None:
    senders = [network(n) for n in range(repeats.REPEAT_NETWORKS + 1)]
    outcomes = [send(aws, START + n, sender) for n, sender in enumerate(senders)]
    assert outcomes == ["stored"] * repeats.REPEAT_NETWORKS + ["ConditionalCheckFailed"]
    assert stored_messages(aws) == repeats.REPEAT_NETWORKS  # the refused transaction stored nothing
    # A network already counted sending again (a retry, a correction) is no campaign.
    assert send(aws, START + 10, senders[0]) == "stored"
    assert send(aws, START + 11, network(99)) == "ConditionalCheckFailed"


def test_other_texts_count_apart(aws) -> None:
    for n in range(repeats.REPEAT_NETWORKS):
        assert send(aws, START + n, network(n)) == "stored"
    other = "Hello, I would like to book a first session for anxiety, evenings if possible."
    assert send(aws, START + 10, network(50), text=other) == "stored"
    # The same campaign, written in other capitals and spacing, is the same text.
    assert send(aws, START + 11, network(51), text=CAMPAIGN.upper().replace(" ", "  \n")) == "ConditionalCheckFailed"


def test_the_next_window_counts_afresh(aws) -> None:
    for n in range(repeats.REPEAT_NETWORKS):
        assert send(aws, START + n, network(n)) == "stored"
    window_end = START - 60 + WINDOW
    assert send(aws, window_end - 1, network(40)) == "ConditionalCheckFailed"
    assert send(aws, window_end, network(41)) == "stored"


def test_the_item_expires_with_its_window_and_holds_no_text_or_address(aws) -> None:
    send(aws, START, network(7))
    (item,) = [item for item in aws.items() if item["pk"]["S"].startswith("REPEAT#")]
    assert int(item["expires_at"]["N"]) == START - 60 + WINDOW
    assert item["networks"] == {"SS": [network(7)]}
    stored = json.dumps(aws.items()).lower()
    assert "first page" not in stored and "google" not in stored


def test_a_text_is_named_by_a_keyed_hash_of_its_normalised_form() -> None:
    name = repeats.text_hash(SECRET, CAMPAIGN)
    assert name is not None and len(name) == 64 and "google" not in name
    assert repeats.text_hash(SECRET, f"  {CAMPAIGN.upper()}\n") == name
    assert repeats.text_hash(SECRET, CAMPAIGN.replace("Google", "Ｇｏｏｇｌｅ")) == name  # fullwidth letters
    assert repeats.text_hash(b"another-secret-0123456789", CAMPAIGN) != name
    assert repeats.text_hash(SECRET, CAMPAIGN + " Thanks!") != name


def test_a_short_text_never_counts() -> None:
    """Many people write "Do you have openings?": a short text is no campaign."""
    short = "Hello, do you have any openings for new clients this month?"  # 11 words
    assert repeats.text_hash(SECRET, short) is None
    assert repeats.text_hash(SECRET, f"{short} Thanks!") is not None
