"""``GET /contact``: the form's definition, through the Lambda entry point. It is what the
server enforces, field by field; it is cached and shared cross-origin as the articles are;
and it keeps to openapi.yaml."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from apigw import event, json_body, response_header
from conftest import TURNSTILE_SECRET_ARN, WEBSITE_ORIGIN
from contact_helpers import VALID, post_json
from openapi_schema_validator import OAS30Validator

from handler import intake
from handler.config import DEFAULT_CACHE_CONTROL, DEFAULT_MESSAGE_HINT

DOCUMENT = yaml.safe_load((Path(__file__).resolve().parent.parent / "openapi.yaml").read_text())
ALL_QUESTIONS = "voicemail_ok,state!,client_type!,session_format,payment!,availability"
# A valid address of exactly 254 characters, the most an email may have.
LONGEST_EMAIL = f"{'a' * 64}@{'b' * 63}.{'c' * 63}.{'d' * 61}"


def definition(handler: Any, **headers: str) -> dict[str, Any]:
    result = handler(event("GET", "/contact", headers=headers), None)
    assert result["statusCode"] == 200
    body: dict[str, Any] = json_body(result)
    return body


def fields(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {field["name"]: field for field in body["fields"]}


def documented(body: dict[str, Any]) -> None:
    schema = DOCUMENT["paths"]["/contact"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    OAS30Validator({**schema, "components": DOCUMENT["components"]}).validate(body)


@pytest.fixture
def asking(aws, make_handler):
    """A practice that asks every question, in its own order, and no rate limit (many posts below)."""
    return make_handler(INTAKE_QUESTIONS=ALL_QUESTIONS, MESSAGE_MAX_LENGTH="1500", RATE_LIMIT_COUNT="0")


def test_without_questions_the_definition_is_the_fixed_form(aws, make_handler) -> None:
    body = definition(make_handler())
    documented(body)
    assert [field["name"] for field in body["fields"]] == [
        "name",
        "email",
        "phone",
        "preferred_contact",
        "message",
        "consent",
    ]
    by_name = fields(body)
    assert {name: by_name[name]["max_length"] for name in ("name", "email", "phone", "message")} == {
        "name": 100,
        "email": 254,
        "phone": 30,
        "message": 5000,
    }
    assert [name for name, field in by_name.items() if field["required"]] == ["name", "email", "message", "consent"]
    assert by_name["preferred_contact"]["choices"] == [
        {"value": "email", "label": "Email"},
        {"value": "phone", "label": "Phone"},
    ]
    assert by_name["preferred_contact"]["default"] == "email"
    assert by_name["consent"]["label"] == body["consent_text"]
    assert body["consent_text"].startswith("I understand that this form is not for emergencies")
    assert body["notice"].startswith("This form is not monitored for emergencies")
    assert body["message_hint"] == by_name["message"]["hint"] == DEFAULT_MESSAGE_HINT
    assert body["honeypot"] == "website" and body["turnstile"] is False


def test_the_questions_turned_on_come_before_the_message_in_the_practice_s_order(aws, asking) -> None:
    body = definition(asking)
    documented(body)
    names = [field["name"] for field in body["fields"]]
    assert names == [
        "name",
        "email",
        "phone",
        "preferred_contact",
        "voicemail_ok",
        "state",
        "client_type",
        "session_format",
        "payment",
        "availability",
        "message",
        "consent",
    ]
    by_name = fields(body)
    for name, question in intake.QUESTIONS.items():
        field = by_name[name]
        assert field["label"] == question.label and field["type"] == "choice"
        assert field["choices"] == [{"value": c.value, "label": c.label} for c in question.choices]
        assert field["multiple"] is (name == "availability")
        assert field["required"] is (name in ("state", "client_type", "payment"))
    states = [choice["value"] for choice in by_name["state"]["choices"]]
    assert len(states) == 56 and {"DC", "PR", "GU", "VI", "AS", "MP", "NY"} <= set(states)
    assert by_name["message"]["max_length"] == 1500


def valid_answers(body: dict[str, Any]) -> dict[str, Any]:
    """A message filled in from the definition alone: every required field, each question's first choice."""
    answers: dict[str, Any] = {**VALID}
    for field in body["fields"]:
        if field["type"] == "choice" and field["name"] != "preferred_contact":
            first = field["choices"][0]["value"]
            answers[field["name"]] = [first] if field["multiple"] else first
    return answers


def test_every_limit_the_definition_gives_is_the_one_the_server_enforces(aws, asking) -> None:
    body = definition(asking)
    filled = valid_answers(body)
    longest = {"name": "N" * 100, "email": LONGEST_EMAIL, "phone": "1" * 30}
    for field in body["fields"]:
        if "max_length" not in field:
            continue
        name, limit = field["name"], field["max_length"]
        at_limit = longest.get(name, "m" * limit)
        assert len(at_limit) == limit, name
        assert post_json(asking, {**filled, name: at_limit})["statusCode"] == 201, name
        over = post_json(asking, {**filled, name: at_limit + "1"})
        assert json_body(over)["fields"] == {name: "too_long"}, name


def test_every_choice_the_definition_offers_is_taken_and_every_required_field_is_enforced(aws, asking) -> None:
    body = definition(asking)
    filled = valid_answers(body)
    for field in body["fields"]:
        name = field["name"]
        if field["type"] == "choice":
            values = [choice["value"] for choice in field["choices"]]
            for value in [values] if field["multiple"] else values:
                result = post_json(asking, {**filled, name: value, "phone": "555 0100"})
                assert result["statusCode"] == 201, (name, value)
        unanswered = {key: value for key, value in filled.items() if key != name}
        result = post_json(asking, unanswered)
        if field["required"]:
            assert json_body(result)["fields"] == {name: "required"}, name
        else:
            assert result["statusCode"] == 201, name


def test_the_definition_is_cached_and_revalidated_like_the_articles(aws, asking, make_handler) -> None:
    first = asking(event("GET", "/contact"), None)
    etag = response_header(first, "ETag")
    assert etag and etag.startswith('"')
    assert response_header(first, "Cache-Control") == DEFAULT_CACHE_CONTROL
    again = asking(event("GET", "/contact", headers={"If-None-Match": etag}), None)
    assert again["statusCode"] == 304 and not again.get("body")
    assert response_header(again, "ETag") == etag
    assert asking(event("GET", "/contact", headers={"If-None-Match": '"other"'}), None)["statusCode"] == 200
    # Another setting, another definition: a cached copy is not taken for it.
    hinted = make_handler(MESSAGE_HINT="No clinical details, please.", CACHE_CONTROL="public, max-age=60")
    changed = hinted(event("GET", "/contact", headers={"If-None-Match": etag}), None)
    assert changed["statusCode"] == 200 and response_header(changed, "ETag") != etag
    assert response_header(changed, "Cache-Control") == "public, max-age=60"
    assert json_body(changed)["message_hint"] == "No clinical details, please."


def test_with_turnstile_on_the_definition_says_so_under_its_own_etag(aws, make_handler) -> None:
    off = make_handler()(event("GET", "/contact"), None)
    on = make_handler(TURNSTILE_SECRET_ARN=TURNSTILE_SECRET_ARN)(event("GET", "/contact"), None)
    assert json_body(off)["turnstile"] is False and json_body(on)["turnstile"] is True
    assert response_header(on, "ETag") != response_header(off, "ETag")


def test_the_definition_is_shared_with_the_practice_s_site_only(aws, asking) -> None:
    shared = asking(event("GET", "/contact", headers={"Origin": WEBSITE_ORIGIN}), None)
    assert response_header(shared, "Access-Control-Allow-Origin") == WEBSITE_ORIGIN
    assert "ETag" in response_header(shared, "Access-Control-Expose-Headers")
    other = asking(event("GET", "/contact", headers={"Origin": "https://elsewhere.example"}), None)
    assert other["statusCode"] == 200 and response_header(other, "Access-Control-Allow-Origin") is None
    assert "Origin" in response_header(shared, "Vary")
    preflight = asking(
        event(
            "OPTIONS",
            "/contact",
            headers={
                "Origin": WEBSITE_ORIGIN,
                "Access-Control-Request-Method": "GET",
                "Access-Control-Request-Headers": "if-none-match",
            },
        ),
        None,
    )
    assert response_header(preflight, "Access-Control-Allow-Origin") == WEBSITE_ORIGIN
    assert "If-None-Match" in response_header(preflight, "Access-Control-Allow-Headers")
