"""Settings that cannot work stop the function at start-up, naming the setting; settings
that can be read as they were meant are normalised, so that they work."""

from __future__ import annotations

import pytest
from apigw import event, json_body, response_header
from contact_helpers import VALID, attribute, post_json

from handler import intake
from handler.config import ConfigError
from infra import contact_admin

IDN_SENDER = "praxis@müller-therapie.de"
IDN_SENDER_ASCII = "praxis@xn--mller-therapie-gsb.de"
IDN_THERAPIST = "therapeutin@müller-therapie.de"
IDN_THERAPIST_ASCII = "therapeutin@xn--mller-therapie-gsb.de"


def test_an_idn_sender_and_recipient_are_sent_as_punycode(aws, make_handler) -> None:
    """A practice at müller-therapie.de: its addresses work, the domain written as SES
    and DNS take it (the SES identity is verified in that form)."""
    aws.ses.verify_email_identity(EmailAddress=IDN_SENDER_ASCII)
    handler = make_handler(SENDER_EMAIL=IDN_SENDER, NOTIFY_EMAIL=f"{IDN_THERAPIST}, second@example.org")
    result = post_json(handler, VALID)
    assert result["statusCode"] == 201
    (item,) = aws.messages()
    assert attribute(item, "notify_status") == "sent"
    (alert,) = aws.emails()
    assert [a.addr_spec for a in alert["From"].addresses] == [IDN_SENDER_ASCII]
    assert [a.addr_spec for a in alert["To"].addresses] == [IDN_THERAPIST_ASCII, "second@example.org"]
    assert alert["Message-ID"].endswith("@xn--mller-therapie-gsb.de>")


@pytest.mark.parametrize("variable", ["SENDER_EMAIL", "NOTIFY_EMAIL"])
def test_a_non_ascii_name_before_the_at_is_refused_at_start_up(make_handler, variable: str) -> None:
    with pytest.raises(ConfigError, match=f"^{variable}: .*non-ASCII"):
        make_handler(**{variable: "müller@praxis.example"})


@pytest.mark.parametrize("value", [" , ", ",", " ,, "])
def test_a_notify_email_listing_no_address_is_refused_at_start_up(make_handler, value: str) -> None:
    with pytest.raises(ConfigError, match=r"^NOTIFY_EMAIL lists no email address"):
        make_handler(NOTIFY_EMAIL=value)


def test_more_than_one_sender_is_refused_at_start_up(make_handler) -> None:
    with pytest.raises(ConfigError, match=r"^SENDER_EMAIL must be one address"):
        make_handler(SENDER_EMAIL="alerts@practice.example, other@practice.example")


@pytest.mark.parametrize("variable", ["RATE_LIMIT_COUNT", "RATE_LIMIT_WINDOW_SECONDS", "NOTIFY_MAX_ATTEMPTS"])
@pytest.mark.parametrize("value", ["²", "٣", "-1", "1.5", "ten"])
def test_a_number_that_is_not_plain_digits_is_refused_naming_the_setting(make_handler, variable, value) -> None:
    with pytest.raises(ConfigError, match=f"^{variable}: .*whole number"):
        make_handler(**{variable: value})


def preflight(handler, origin: str) -> dict:
    return handler(
        event("OPTIONS", "/contact", headers={"Origin": origin, "Access-Control-Request-Method": "POST"}), None
    )


@pytest.mark.parametrize(
    ("setting", "browser_origin"),
    [
        ("HTTPS://WWW.Practice.Example", "https://www.practice.example"),
        ("https://www.practice.example:443", "https://www.practice.example"),
        ("http://localhost:80", "http://localhost"),
        ("https://www.practice.example?", "https://www.practice.example"),
        ("https://www.practice.example/?#", "https://www.practice.example"),
        ("https://www.practice.example:8443/", "https://www.practice.example:8443"),
        ("https://Müller-Therapie.de", "https://xn--mller-therapie-gsb.de"),
        ("http://[::1]:8080", "http://[::1]:8080"),
    ],
)
def test_allowed_origins_are_written_as_browsers_send_them(make_handler, setting: str, browser_origin: str) -> None:
    handler = make_handler(ALLOWED_ORIGINS=f"https://other.example, {setting}")
    answer = preflight(handler, browser_origin)
    assert answer["statusCode"] == 200
    assert response_header(answer, "Access-Control-Allow-Origin") == browser_origin


@pytest.mark.parametrize(
    "setting",
    [
        "https://www.practice.example/contact",
        "https://www.practice.example?x=1",
        "https://www.practice.example#form",
        "https://user@www.practice.example",
        "https://*.practice.example",
        "https://www.practice.example:99999",
        "https://www.practice.example:https",
        "ftp://www.practice.example",
        "www.practice.example",
    ],
)
def test_allowed_origins_no_browser_could_send_are_refused_at_start_up(make_handler, setting: str) -> None:
    with pytest.raises(ConfigError, match=r"^ALLOWED_ORIGINS: .*not an origin"):
        make_handler(ALLOWED_ORIGINS=setting)


def test_the_thank_you_url_is_compared_with_the_origins_as_normalised(aws, make_handler) -> None:
    handler = make_handler(
        ALLOWED_ORIGINS="https://WWW.practice.example:443", THANK_YOU_URL="https://www.Practice.example/thanks"
    )
    result = handler(
        event(
            "POST",
            "/contact",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            body="name=Alex&email=alex%40example.org&message=Hello&consent=on",
            source_ip="203.0.113.42",
        ),
        None,
    )
    assert result["statusCode"] == 303
    assert response_header(result, "Location").lower() == "https://www.practice.example/thanks"


def test_resend_reads_an_idn_address_by_the_same_rules(aws, make_handler, capsys, monkeypatch) -> None:
    message_id = json_body(post_json(make_handler(), VALID))["id"]
    aws.ses.verify_email_identity(EmailAddress=IDN_SENDER_ASCII)
    monkeypatch.setenv("CONTACT_TABLE_NAME", "contact-messages")
    monkeypatch.setenv("SENDER_EMAIL", IDN_SENDER)
    monkeypatch.setenv("NOTIFY_EMAIL", IDN_THERAPIST)
    assert contact_admin.main(["resend", message_id]) == 0
    resent = aws.emails()[-1]
    assert [a.addr_spec for a in resent["To"].addresses] == [IDN_THERAPIST_ASCII]
    monkeypatch.setenv("NOTIFY_EMAIL", "müller@praxis.example")
    assert contact_admin.main(["resend", message_id]) == 1
    assert "NOTIFY_EMAIL" in capsys.readouterr().err


def test_the_inbox_takes_an_idn_address_typed_as_people_write_it(aws, make_handler) -> None:
    from inbox_helpers import Browser, request_link

    handler = make_handler(NOTIFY_EMAIL=IDN_THERAPIST)  # who may sign in, by default
    assert request_link(Browser(handler), "therapeutin@Müller-Therapie.de").status == 303
    (email,) = aws.emails()
    assert email["To"] == IDN_THERAPIST_ASCII


# The contact form's settings: its intake questions, LICENSED_STATES, and its message's limit and hint.


@pytest.mark.parametrize(
    ("environment", "error"),
    [
        ({"INTAKE_QUESTIONS": "client_type,insurance_id"}, r"^INTAKE_QUESTIONS: 'insurance_id' is not a question"),
        ({"INTAKE_QUESTIONS": "state,State"}, r"^INTAKE_QUESTIONS: 'State' is not a question"),
        ({"INTAKE_QUESTIONS": "state!,state"}, r"^INTAKE_QUESTIONS: 'state' is listed twice"),
        ({"INTAKE_QUESTIONS": "state", "LICENSED_STATES": "NY,XX"}, r"^LICENSED_STATES: 'XX' is not a US state"),
        ({"INTAKE_QUESTIONS": "state", "LICENSED_STATES": "New York"}, r"^LICENSED_STATES: 'NEW YORK' is not"),
        ({"INTAKE_QUESTIONS": "client_type", "LICENSED_STATES": "NY"}, r"^LICENSED_STATES needs the state question"),
        ({"MESSAGE_MAX_LENGTH": "99"}, r"^MESSAGE_MAX_LENGTH: '99' must be a whole number of at least 100"),
        ({"MESSAGE_MAX_LENGTH": "10001"}, r"^MESSAGE_MAX_LENGTH: .* and at most 10000"),
        ({"MESSAGE_MAX_LENGTH": "5k"}, r"^MESSAGE_MAX_LENGTH: '5k' must be a whole number"),
        ({"MESSAGE_HINT": "Please keep it short.\nNo clinical details."}, r"^MESSAGE_HINT must be one line"),
        ({"MESSAGE_HINT": "x" * 81}, r"^MESSAGE_HINT must be one line of at most 80 characters"),
    ],
)
def test_a_form_setting_that_cannot_work_is_refused_at_start_up_naming_it(make_handler, environment, error) -> None:
    with pytest.raises(ConfigError, match=error):
        make_handler(**environment)


def test_the_form_settings_are_read_as_a_person_writes_them(make_handler) -> None:
    handler = make_handler(
        INTAKE_QUESTIONS=" availability , state! ,, client_type",
        LICENSED_STATES="ny, Nj",
        MESSAGE_MAX_LENGTH=" 1200 ",
        MESSAGE_HINT="  No clinical details, please.  ",
    )
    definition = json_body(handler(event("GET", "/contact"), None))
    questions = [field for field in definition["fields"] if field["name"] in intake.QUESTIONS]
    assert [(field["name"], field["required"]) for field in questions] == [
        ("availability", False),
        ("state", True),
        ("client_type", False),
    ]
    (message,) = [field for field in definition["fields"] if field["name"] == "message"]
    assert message["max_length"] == 1200 and message["hint"] == "No clinical details, please."
    assert definition["message_hint"] == "No clinical details, please."
