"""The intake questions a practice turns on (INTAKE_QUESTIONS), through the Lambda entry point on
moto: validated like every other field, stored, shown in the full alert and by ``contact-admin``."""

from __future__ import annotations

import csv
import io
import json

import pytest
from apigw import json_body
from contact_helpers import VALID, attribute, post_form, post_json

from handler import intake
from infra import contact_admin

ALL_QUESTIONS = "client_type!,session_format,state!,payment,availability,voicemail_ok"
ANSWERS = {
    "client_type": "new",
    "session_format": "online",
    "state": "NY",
    "payment": "self_pay",
    "availability": ["weekend", "weekday_evening"],
    "voicemail_ok": "no",
}
STORED = {**ANSWERS, "availability": "weekday_evening,weekend"}  # in the order the question lists them
ALERTED = [
    "Client: New client",
    "Sessions: Online",
    "State: New York",
    "Payment: Self-pay",
    "Availability: Weekday evenings, Weekends",
    "Voicemail OK: No",
]


@pytest.fixture
def asking(aws, make_handler):
    """The entry point of a practice that asks every question, two of them required."""
    return make_handler(INTAKE_QUESTIONS=ALL_QUESTIONS, LICENSED_STATES="NY,NJ")


def alert_text(aws) -> str:
    (alert,) = aws.emails()
    return str(alert.get_body(("plain",)).get_content())


def test_json_answers_are_stored_and_shown_in_the_alert_in_words(aws, asking) -> None:
    result = post_json(asking, {**VALID, **ANSWERS})
    assert result["statusCode"] == 201
    (item,) = aws.messages()
    assert {name: attribute(item, name) for name in STORED} == STORED
    text = alert_text(aws)
    for line in ALERTED:
        assert f"{line}\n" in text
    html = aws.emails()[0].get_body(("html",)).get_content()
    assert "<th align='left' style='padding-right:1em'>Availability</th><td>Weekday evenings, Weekends</td>" in html


def test_a_form_post_repeats_the_field_of_a_question_of_several_choices(aws, asking) -> None:
    result = post_form(asking, {**VALID, **ANSWERS})
    assert result["statusCode"] == 201
    (item,) = aws.messages()
    assert {name: attribute(item, name) for name in STORED} == STORED
    one = post_form(asking, {**VALID, **ANSWERS, "availability": "weekend", "message": "Another message."})
    assert one["statusCode"] == 201
    assert attribute(aws.messages()[-1], "availability") == "weekend"


def test_another_field_given_twice_in_a_form_is_still_refused(aws, asking) -> None:
    result = post_form(asking, {**VALID, **ANSWERS, "state": ["NY", "NJ"]})
    assert result["statusCode"] == 400
    assert "The field &#x27;state&#x27; is given more than once." in result["body"]
    assert aws.messages() == []


def test_unanswered_optional_questions_are_left_out(aws, asking) -> None:
    result = post_json(asking, {**VALID, "client_type": "returning", "state": "NJ", "payment": "", "availability": []})
    assert result["statusCode"] == 201
    (item,) = aws.messages()
    assert attribute(item, "client_type") == "returning" and attribute(item, "state") == "NJ"
    for name in ("session_format", "payment", "availability", "voicemail_ok"):
        assert name not in item
    text = alert_text(aws)
    assert "Client: Returning client\n" in text and "State: New Jersey\n" in text
    assert "Payment" not in text and "Availability" not in text


@pytest.mark.parametrize(
    ("answers", "errors"),
    [
        ({"client_type": "new"}, {"state": "required"}),
        ({"client_type": " ", "state": None}, {"client_type": "required", "state": "required"}),
        ({"client_type": "maybe", "state": "NY"}, {"client_type": "invalid_choice"}),
        ({"client_type": "new", "state": "ny"}, {"state": "invalid_choice"}),
        ({"client_type": "new", "state": "Ontario"}, {"state": "invalid_choice"}),
        ({"client_type": "new", "state": "NY", "availability": ["weekend", "sunday"]}, {"availability": "invalid_choice"}),
        ({"client_type": "new", "state": ["NY"]}, {"state": "invalid_type"}),
        ({"client_type": 1, "state": "NY", "availability": [True]}, {"client_type": "invalid_type", "availability": "invalid_type"}),
        ({"client_type": "new", "state": "NY", "voicemail_ok": True}, {"voicemail_ok": "invalid_type"}),
    ],
)  # fmt: skip
def test_a_wrong_answer_is_refused_naming_its_field(aws, asking, answers, errors) -> None:
    result = post_json(asking, {**VALID, **answers})
    assert result["statusCode"] == 422
    assert json_body(result)["fields"] == errors
    assert aws.messages() == [] and aws.emails() == []


def test_every_wrong_field_is_named_at_once_in_the_form_s_order(aws, asking) -> None:
    result = post_form(asking, {**VALID, "name": "", "payment": "cash", "message": ""})
    assert result["statusCode"] == 422
    paragraphs = result["body"].split("<p>")[1:]
    assert [paragraph.split("</p>")[0] for paragraph in paragraphs[:5]] == [
        "Please fill in your name.",
        "Please answer the question: Are you a new or a returning client?",
        "Please answer the question: Which state do you live in?",
        "Please choose one of the answers offered to the question: How do you plan to pay?",
        "Please fill in your message.",
    ]


def test_an_answer_to_a_question_the_practice_does_not_ask_is_an_unknown_field(aws, make_handler) -> None:
    handler = make_handler(INTAKE_QUESTIONS="state")
    result = post_json(handler, {**VALID, "state": "NY", "client_type": "new"})
    assert result["statusCode"] == 422
    assert json_body(result)["fields"] == {"client_type": "unknown_field"}
    assert post_json(make_handler(INTAKE_QUESTIONS=""), {**VALID, "state": "NY"})["statusCode"] == 422
    assert aws.messages() == []


def test_a_visitor_outside_the_licensed_states_is_received_and_told_politely(aws, asking) -> None:
    result = post_json(asking, {**VALID, "client_type": "new", "state": "TX"})
    assert result["statusCode"] == 201
    notice = json_body(result)["notice"]
    assert notice.startswith("This practice may not be able to see clients in Texas: you will still get an answer")
    assert "988" in notice  # the crisis notice still
    (item,) = aws.messages()
    assert attribute(item, "state") == "TX" and attribute(item, "notify_status") == "sent"
    assert "State: Texas\n" in alert_text(aws)
    page = post_form(asking, {**VALID, "client_type": "new", "state": "TX", "message": "By form."})
    assert page["statusCode"] == 201 and "may not be able to see clients in Texas" in page["body"]


@pytest.mark.parametrize("state", ["NY", "NJ"])
def test_a_visitor_in_a_licensed_state_gets_the_usual_notice(aws, make_handler, state) -> None:
    handler = make_handler(INTAKE_QUESTIONS="state", LICENSED_STATES="ny, Nj")  # read as written
    notice = json_body(post_json(handler, {**VALID, "state": state}))["notice"]
    assert notice.startswith("This form is not monitored for emergencies")


def test_without_licensed_states_no_one_is_told_they_may_be_referred(aws, make_handler) -> None:
    handler = make_handler(INTAKE_QUESTIONS="state")
    notice = json_body(post_json(handler, {**VALID, "state": "TX"}))["notice"]
    assert notice.startswith("This form is not monitored for emergencies")


def test_the_minimal_alert_shows_no_answer(aws, make_handler) -> None:
    handler = make_handler(INTAKE_QUESTIONS=ALL_QUESTIONS, NOTIFY_DETAIL="minimal")
    assert post_json(handler, {**VALID, **ANSWERS})["statusCode"] == 201
    (alert,) = aws.emails()
    shown = alert_text(aws) + alert.get_body(("html",)).get_content()
    for question in intake.QUESTIONS.values():
        assert question.short_label not in shown
    for label in ("New client", "New York", "Self-pay", "Weekends"):
        assert label not in shown


def test_the_message_s_limit_is_the_practice_s(aws, make_handler) -> None:
    handler = make_handler(MESSAGE_MAX_LENGTH="1200")
    too_long = post_form(handler, {**VALID, "message": "x" * 1201})
    assert too_long["statusCode"] == 422
    assert "Please shorten your message to 1200 characters or fewer." in too_long["body"]
    assert post_json(handler, {**VALID, "message": "x" * 1200})["statusCode"] == 201
    longer = make_handler(MESSAGE_MAX_LENGTH="8000")
    assert post_json(longer, {**VALID, "message": "y" * 8000})["statusCode"] == 201
    assert json_body(post_json(longer, {**VALID, "message": "y" * 8001}))["fields"] == {"message": "too_long"}


def admin(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert contact_admin.main(list(argv)) == 0
    return capsys.readouterr().out


def test_contact_admin_shows_the_answers_in_words_and_exports_their_values(
    aws, asking, capsys, monkeypatch, tmp_path
) -> None:
    message_id = json_body(post_json(asking, {**VALID, **ANSWERS}))["id"]
    monkeypatch.setenv("CONTACT_TABLE_NAME", "contact-messages")
    shown = admin(capsys, "show", message_id)
    for line in (
        "client_type: New client",
        "session_format: Online",
        "state: New York",
        "payment: Self-pay",
        "availability: Weekday evenings, Weekends",
        "voicemail_ok: No",
    ):
        assert f"\n{line}\n" in shown
    (exported,) = json.loads(admin(capsys, "export", "--format", "json"))
    assert {name: exported[name] for name in STORED} == STORED
    target = tmp_path / "messages.csv"
    admin(capsys, "export", "--format", "csv", "--output", str(target))
    (row,) = csv.DictReader(io.StringIO(target.read_text(encoding="utf-8")))
    assert {name: row[name] for name in STORED} == STORED


def test_a_choice_ticked_twice_is_stored_once(aws, asking) -> None:
    answers = {"client_type": "new", "state": "NY", "availability": ["weekend", "weekend", "weekday_daytime"]}
    assert post_json(asking, {**VALID, **answers})["statusCode"] == 201
    assert attribute(aws.messages()[0], "availability") == "weekday_daytime,weekend"
