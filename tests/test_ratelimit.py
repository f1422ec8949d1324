"""The rate limit: per client network, through the entry point, on each DynamoDB engine."""

from __future__ import annotations

import json

import pytest
from apigw import json_body
from contact_helpers import VALID, post_json

from handler.ratelimit import network

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
