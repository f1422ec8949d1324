"""The rate limit, on each DynamoDB engine: per client network, through the entry point;
a sliding window, through ``MessageStore.record`` at chosen times."""

from __future__ import annotations

import json
import math

import pytest
from apigw import json_body
from conftest import TABLE
from contact_helpers import VALID, post_json

from handler import ratelimit
from handler.message import Message
from handler.ratelimit import network
from handler.storage import Claim, Limits, MessageStore, RateLimited, Recorded, iso_time, new_id

pytestmark = pytest.mark.dynamodb_engines

HOUSEHOLD = "2001:db8:1:2"  # one IPv6 /64


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("192.0.2.9", "192.0.2.9"),
        ("::ffff:192.0.2.9", "192.0.2.9"),
        ("0:0:0:0:0:FFFF:c000:0209", "192.0.2.9"),
        ("2001:db8:1:2::1", "2001:db8:1:2::/64"),
        ("2001:0DB8:0001:0002:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64"),
        ("2001:db8:1:3::1", "2001:db8:1:3::/64"),
        ("fe80::1%eth0", "fe80::/64"),
        ("::1", "::/64"),
        ("test-invoke-source-ip", "test-invoke-source-ip"),
    ],
)
def test_each_address_has_one_network(address: str, expected: str) -> None:
    assert network(address) == expected


def message(number: int) -> dict:
    return {**VALID, "message": f"Message number {number}"}


def test_every_address_of_one_ipv6_household_counts_together(aws, make_handler) -> None:
    handler = make_handler()  # 5 in 10 minutes
    statuses = [post_json(handler, message(n), source_ip=f"{HOUSEHOLD}::{n + 1:x}")["statusCode"] for n in range(20)]
    assert statuses == [201] * 5 + [429] * 15
    assert len(aws.messages()) == 5
    neighbour = post_json(handler, message(99), source_ip="2001:db8:1:3::1")
    assert neighbour["statusCode"] == 201
    stored = json.dumps(aws.items())
    assert HOUSEHOLD not in stored and "2001:db8:1:3" not in stored


def test_an_ipv4_address_and_its_ipv6_mapped_form_count_together(aws, make_handler) -> None:
    handler = make_handler(RATE_LIMIT_COUNT="1")
    assert post_json(handler, message(1), source_ip="192.0.2.9")["statusCode"] == 201
    again = post_json(handler, message(2), source_ip="::ffff:192.0.2.9")
    assert again["statusCode"] == 429 and json_body(again)["error"] == "rate_limited"
    assert post_json(handler, message(3), source_ip="192.0.2.10")["statusCode"] == 201


def test_the_limit_and_no_limit_are_bounded_at_start_up(aws, make_handler) -> None:
    from handler.config import ConfigError

    with pytest.raises(
        ConfigError, match=r"^RATE_LIMIT_COUNT: '51' must be a whole number of at least 0 and at most 50"
    ):
        make_handler(RATE_LIMIT_COUNT="51")
    unlimited = make_handler(RATE_LIMIT_COUNT="0")
    assert all(post_json(unlimited, message(n))["statusCode"] == 201 for n in range(8))
    assert not [item for item in aws.items() if item["pk"]["S"].startswith("RATE#")]


def test_the_limit_deployed_is_within_the_bound() -> None:
    from conftest import BASE_ENVIRONMENT

    from handler.config import DEFAULTS_IN_AWS, load_settings
    from infra.aws_template import load_template

    variables = load_template()["Globals"]["Function"]["Environment"]["Variables"]
    assert "RATE_LIMIT_COUNT" in DEFAULTS_IN_AWS and "RATE_LIMIT_COUNT" not in variables  # the code's default
    settings = load_settings(BASE_ENVIRONMENT)
    assert 0 < settings.rate_limit_count <= ratelimit.MOST


# The window slides: MessageStore.record, at chosen times.

WINDOW = 600
EDGE = 1_800_000_000.0  # a multiple of WINDOW: where a fixed window would start again


def store_at(aws, moment: float, count: int = 5, network_hash: str = "a" * 64) -> object:
    """One new message from one network, recorded at ``moment``: Recorded, or RateLimited."""
    text = f"Message at {moment!r}"
    visitor = Message(
        id=new_id(moment),
        received_at=iso_time(moment),
        name="Alex Example",
        email="alex@example.org",
        preferred_contact="email",
        message=text,
        consent_version="0123456789ab",
        ip_hash=network_hash,
    )
    claim = Claim.of(b"test-only-secret", visitor.email, text, None)
    return MessageStore(aws.dynamodb, TABLE).record(visitor, claim, Limits(365, count, WINDOW), moment)


def test_no_burst_across_the_edge_of_a_window(aws) -> None:
    """10 messages in 2 seconds, across the edge where a fixed window starts again: 5 pass."""
    moments = [EDGE - 1 + 0.2 * n for n in range(10)]
    outcomes = [store_at(aws, moment) for moment in moments]
    assert [type(outcome).__name__ for outcome in outcomes] == ["Recorded"] * 5 + ["RateLimited"] * 5
    # Free again when the first of the five is a window old: not at the fixed window's edge.
    first_refused = outcomes[5]
    assert isinstance(first_refused, RateLimited) and first_refused.retry_after == WINDOW - 1
    assert isinstance(store_at(aws, moments[0] + WINDOW - 0.001), RateLimited)
    assert isinstance(store_at(aws, moments[0] + WINDOW), Recorded)
    assert isinstance(store_at(aws, moments[0] + WINDOW + 0.1), RateLimited)  # the second is still in
    assert isinstance(store_at(aws, moments[1] + WINDOW), Recorded)


def test_at_most_the_limit_in_any_window_long_stretch(aws) -> None:
    """Messages every 50 seconds: at most 5 accepted in any 600 seconds, and each refusal's
    Retry-After is when the oldest counted message leaves the window."""
    accepted: list[float] = []
    for n in range(40):
        moment = EDGE + 50 * n + 0.25
        outcome = store_at(aws, moment)
        if isinstance(outcome, Recorded):
            accepted.append(moment)
        else:
            assert outcome.retry_after == math.ceil(accepted[-5] + WINDOW - moment)
    assert all(sum(start <= other < start + WINDOW for other in accepted) <= 5 for start in accepted)
    # As many as that allows: five, then five more as soon as the first is a window old.
    offsets = [WINDOW * burst + 50 * n for burst in range(4) for n in range(5)]
    assert accepted == [EDGE + offset + 0.25 for offset in offsets if offset < 50 * 40]


def test_a_changed_limit_holds_from_the_next_message(aws) -> None:
    """More or fewer slots than the item holds: a higher limit counts the times stored, a
    lower one the most recent of them."""
    for n in range(5):
        assert isinstance(store_at(aws, EDGE + n), Recorded)
    assert isinstance(store_at(aws, EDGE + 5), RateLimited)
    for n in range(3):  # raised to 8: three more
        assert isinstance(store_at(aws, EDGE + 10 + n, count=8), Recorded)
    limited = store_at(aws, EDGE + 20, count=8)
    assert isinstance(limited, RateLimited) and limited.retry_after == WINDOW - 20
    lowered = store_at(aws, EDGE + 20, count=3)  # lowered to 3: the third most recent is at EDGE + 10
    assert isinstance(lowered, RateLimited) and lowered.retry_after == WINDOW - 10
    assert isinstance(store_at(aws, EDGE + WINDOW + 10, count=3), Recorded)
    assert isinstance(store_at(aws, EDGE + WINDOW + 10.5, count=3), RateLimited)
    assert isinstance(store_at(aws, EDGE + 5, network_hash="b" * 64), Recorded)  # another network


def test_the_times_shift_along_newest_first(aws) -> None:
    """DynamoDB reads every operand of the update from the item as it was before it."""
    for n in range(4):
        store_at(aws, EDGE + n, count=3)
    (rate,) = [item for item in aws.items() if item["pk"]["S"].startswith("RATE#")]
    millis = int(EDGE * 1000)
    assert {name: rate[name]["N"] for name in ("t0", "t1", "t2")} == {
        "t0": str(millis + 2000),
        "t1": str(millis + 1000),
        "t2": str(millis),
    }  # the fourth was refused: nothing shifted
    assert int(rate["expires_at"]["N"]) == int(EDGE) + 2 + WINDOW
