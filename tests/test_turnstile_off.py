"""Turnstile switched off, and a page that still shows its widget: the token is accepted and ignored.

``openapi.yaml`` allows ``cf-turnstile-response``; a site that switches
Turnstile off may still serve pages (cached, or not yet edited) whose form
carries the widget's hidden input. Every enquiry from them must still be taken.
"""

from __future__ import annotations

import json

import pytest
from apigw import event, json_body
from contact_helpers import VALID, attribute, post_form, post_json

TOKEN = "0.widget-token-" + "x" * 300


@pytest.fixture
def contact(aws, make_handler):
    handler = make_handler()  # no TURNSTILE_SECRET: Turnstile is off
    assert json_body(handler(event("GET", "/contact"), None))["turnstile"] is False
    return handler


@pytest.mark.parametrize("token", [TOKEN, "", 42, None], ids=["a-token", "empty", "a-number", "null"])
def test_the_token_is_ignored_when_turnstile_is_off(aws, contact, token: object) -> None:
    result = post_json(contact, {**VALID, "cf-turnstile-response": token})
    assert result["statusCode"] == 201, json_body(result)
    (item,) = aws.messages()
    assert attribute(item, "turnstile") is None  # not checked, so not marked
    assert attribute(item, "name") == VALID["name"]
    assert TOKEN not in json.dumps(aws.items())
    (alert,) = aws.emails()
    assert TOKEN not in alert.as_string()


def test_a_plain_form_with_the_widget_is_thanked(aws, contact) -> None:
    result = post_form(contact, {**VALID, "cf-turnstile-response": TOKEN})
    assert result["statusCode"] == 201
    assert "Thank you" in result["body"]
    assert len(aws.messages()) == 1


def test_other_unknown_fields_are_still_refused(aws, contact) -> None:
    result = post_json(contact, {**VALID, "cf-turnstile-response": TOKEN, "cf-chl-bypass": "1"})
    assert result["statusCode"] == 422
    assert json_body(result)["fields"] == {"cf-chl-bypass": "unknown_field"}
    assert aws.items() == []
