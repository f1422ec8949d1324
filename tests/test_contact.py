"""``POST /contact`` through the Lambda entry point, on moto's SES and on each DynamoDB
engine (moto's, and DynamoDB Local)."""

from __future__ import annotations

import datetime as dt
import email.header
import email.utils
import hashlib
import hmac
import json
import re
import time

import pytest
from apigw import SHAPES, event, json_body, response_header
from conftest import IP_HASH_SECRET, SENDER, TABLE, THERAPIST, WEBSITE_ORIGIN
from contact_helpers import VALID, VISITOR_IP, attribute, aws_clients, header_value, mailbox, post_form, post_json

pytestmark = pytest.mark.dynamodb_engines


@pytest.fixture
def contact(aws, make_handler):
    return make_handler()


def test_a_valid_message_is_stored_then_the_therapist_is_alerted(aws, contact) -> None:
    before = time.time()
    result = post_json(contact, VALID, headers={"User-Agent": "TestBrowser/1.0"})
    assert result["statusCode"] == 201
    body = json_body(result)
    assert body["status"] == "received" and body["notice"].startswith("This form is not monitored for emergencies")
    assert "988" in body["notice"] and "911" in body["notice"]
    (item,) = aws.messages()
    assert attribute(item, "id") == body["id"] and len(body["id"]) == 26
    for field in ("name", "email", "phone", "preferred_contact", "message"):
        assert attribute(item, field) == VALID[field]
    received = dt.datetime.fromisoformat(attribute(item, "received_at"))
    assert before - 1 <= received.timestamp() <= time.time() + 1
    assert attribute(item, "received_at").endswith("Z")
    assert attribute(item, "notify_status") == "sent" and attribute(item, "notify_attempts") == 1
    assert "pending_pk" not in item
    assert attribute(item, "user_agent") == "TestBrowser/1.0"
    assert attribute(item, "source_page") == WEBSITE_ORIGIN
    assert len(attribute(item, "consent_version")) == 12
    expected_hash = hmac.new(IP_HASH_SECRET.encode(), f"address\x1f{VISITOR_IP}".encode(), hashlib.sha256).hexdigest()
    assert attribute(item, "ip_hash") == expected_hash
    (alert,) = aws.emails()
    assert alert["To"] == THERAPIST
    assert [a.addr_spec for a in alert["From"].addresses] == [SENDER]
    assert [a.addr_spec for a in alert["Reply-To"].addresses] == [VALID["email"]]
    assert alert["Subject"] == "New enquiry from Alex Example"
    text = alert.get_body(("plain",)).get_content()
    assert VALID["message"] in text and body["id"] in text and VALID["phone"] in text


@pytest.mark.parametrize("shape", SHAPES)
def test_every_event_shape_can_post(aws, contact, shape: str) -> None:
    result = post_json(contact, VALID, shape=shape)
    assert result["statusCode"] == 201
    assert len(aws.messages()) == 1


def test_the_form_settings_name_the_consent_text_and_its_version(aws, contact) -> None:
    body = json_body(contact(event("GET", "/contact"), None))
    assert body["consent_text"].startswith("I understand that this form is not for emergencies")
    assert body["consent_version"] == hashlib.sha256(body["consent_text"].encode()).hexdigest()[:12]
    assert body["turnstile"] is False


def test_the_consent_version_follows_the_configured_text(aws, make_handler) -> None:
    handler = make_handler(CONSENT_TEXT="I have read the practice's privacy notice.")
    post_json(handler, VALID)
    expected = hashlib.sha256(b"I have read the practice's privacy notice.").hexdigest()[:12]
    assert attribute(aws.messages()[0], "consent_version") == expected


# A plain HTML form, no JavaScript.


def test_a_plain_form_post_is_decoded_from_base64_and_thanked(aws, contact) -> None:
    result = post_form(contact, VALID)
    assert result["statusCode"] == 201
    assert response_header(result, "Content-Type").startswith("text/html")
    assert "Thank you" in result["body"] and "988" in result["body"]
    (item,) = aws.messages()
    assert attribute(item, "message") == VALID["message"]
    assert len(aws.emails()) == 1


def test_a_form_post_redirects_to_the_thank_you_page(aws, make_handler) -> None:
    handler = make_handler(THANK_YOU_URL=f"{WEBSITE_ORIGIN}/thank-you")
    result = post_form(handler, VALID)
    assert result["statusCode"] == 303
    assert response_header(result, "Location") == f"{WEBSITE_ORIGIN}/thank-you"
    assert len(aws.messages()) == 1


def test_a_thank_you_url_elsewhere_is_refused_at_start_up(make_handler) -> None:
    from handler.config import ConfigError

    with pytest.raises(ConfigError, match="THANK_YOU_URL"):
        make_handler(THANK_YOU_URL="https://evil.example/phish")


def test_a_sender_name_that_would_break_every_alert_is_refused_at_start_up(make_handler) -> None:
    from handler.config import ConfigError

    with pytest.raises(ConfigError, match="SENDER_NAME"):
        make_handler(SENDER_NAME="The Practice\r\nBcc: eve@evil.example")


def test_a_form_post_with_errors_gets_a_page_naming_them(aws, contact) -> None:
    result = post_form(contact, {**VALID, "email": "not-an-address"})
    assert result["statusCode"] == 422
    assert response_header(result, "Content-Type").startswith("text/html")
    assert "Please enter a valid email address." in result["body"]
    assert "invalid email" not in result["body"]
    assert aws.messages() == []


# Field rules.

LONG = "x" * 101


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"name": None}, {"name": "required"}),
        ({"name": ""}, {"name": "required"}),
        ({"name": "   "}, {"name": "required"}),
        ({"name": "\u200b\u200d\ufeff"}, {"name": "required"}),
        ({"name": "\u3164 \u2060"}, {"name": "required"}),
        ({"name": "\u2800\U000e0041\U000e0020\U000e0100\U0001d173"}, {"name": "required"}),
        ({"name": LONG}, {"name": "too_long"}),
        ({"name": 42}, {"name": "invalid_type"}),
        ({"name": ["Alex"]}, {"name": "invalid_type"}),
        ({"name": {"first": "Alex"}}, {"name": "invalid_type"}),
        ({"name": "Alex\r\nBcc: victim@example.com"}, {"name": "control_characters"}),
        ({"name": "Alex\nExample"}, {"name": "control_characters"}),
        ({"name": "Alex\x00"}, {"name": "control_characters"}),
        ({"name": "Alex\u2028Example"}, {"name": "control_characters"}),
        ({"name": "Alex\x85"}, {"name": "control_characters"}),
        ({"email": None}, {"email": "required"}),
        ({"email": "alex"}, {"email": "invalid_email"}),
        ({"email": "alex@"}, {"email": "invalid_email"}),
        ({"email": "alex@localhost"}, {"email": "invalid_email"}),
        ({"email": "alex@example.org\r\nBcc: victim@example.com"}, {"email": "control_characters"}),
        ({"email": "Alex <alex@example.org>"}, {"email": "invalid_email"}),
        ({"email": "alex@example.org, eve@example.com"}, {"email": "invalid_email"}),
        ({"email": "zoë@example.org"}, {"email": "invalid_email"}),
        ({"email": "a" * 250 + "@example.org"}, {"email": "too_long"}),
        ({"phone": "call me"}, {"phone": "invalid_phone"}),
        ({"phone": "+1 555 0100 ext. 7"}, {"phone": "invalid_phone"}),
        ({"phone": "1" * 31}, {"phone": "too_long"}),
        ({"phone": "()-"}, {"phone": "invalid_phone"}),
        ({"phone": "555\r\n0100"}, {"phone": "control_characters"}),
        ({"phone": None, "preferred_contact": "phone"}, {"phone": "required_for_phone_contact"}),
        ({"preferred_contact": "carrier pigeon"}, {"preferred_contact": "invalid_choice"}),
        ({"message": None}, {"message": "required"}),
        ({"message": " \n "}, {"message": "required"}),
        ({"message": "\u200b\n\u200b"}, {"message": "required"}),
        ({"message": "x" * 5001}, {"message": "too_long"}),
        ({"message": "bell\x07"}, {"message": "control_characters"}),
        ({"consent": None}, {"consent": "required"}),
        ({"consent": False}, {"consent": "required"}),
        ({"consent": "no"}, {"consent": "required"}),
        ({"website": 7}, {"website": "invalid_type"}),
        ({"subject": "Hi"}, {"subject": "unknown_field"}),
        ({"is_admin": True, "notify_status": "sent"}, {"is_admin": "unknown_field", "notify_status": "unknown_field"}),
    ],
)
def test_each_field_rule_gives_a_422_naming_the_field(aws, contact, change: dict, expected: dict) -> None:
    fields = {key: value for key, value in {**VALID, **change}.items() if value is not None}
    result = post_json(contact, fields)
    assert result["statusCode"] == 422
    body = json_body(result)
    assert body["error"] == "validation_failed"
    assert body["fields"] == expected
    for name in expected:
        assert name in body["message"]
    assert aws.items() == [] and aws.emails() == []


def test_every_bad_field_is_named_at_once(aws, contact) -> None:
    result = post_json(contact, {"name": "", "email": "nope", "message": "", "extra": 1})
    assert json_body(result)["fields"] == {
        "name": "required",
        "email": "invalid_email",
        "message": "required",
        "consent": "required",
        "extra": "unknown_field",
    }


@pytest.mark.parametrize(
    ("change", "stored"),
    [
        ({"name": "x" * 100}, {"name": "x" * 100}),
        ({"name": "  Alex  "}, {"name": "Alex"}),
        ({"name": "\u200bAlex\u200d"}, {"name": "\u200bAlex\u200d"}),
        ({"name": "\u0301"}, {"name": "\u0301"}),
        ({"name": "\u1100\u1160"}, {"name": "\u1100\u1160"}),
        ({"message": "x" * 5000}, {"message": "x" * 5000}),
        (
            {"message": "line one\r\nline two\rline three\n\tindented"},
            {"message": "line one\nline two\nline three\n\tindented"},
        ),
        ({"email": "Alex@Example.ORG"}, {"email": "Alex@example.org"}),
        ({"email": "alex@bücher.example"}, {"email": "alex@xn--bcher-kva.example"}),
        ({"phone": "", "preferred_contact": ""}, {"preferred_contact": "email"}),
        (
            {"phone": "020 7946 0018", "preferred_contact": "phone"},
            {"phone": "020 7946 0018", "preferred_contact": "phone"},
        ),
        ({"consent": "true"}, {}),
        ({"website": ""}, {}),
    ],
)
def test_valid_variations_are_stored_cleaned(aws, contact, change: dict, stored: dict) -> None:
    result = post_json(contact, {**VALID, **change})
    assert result["statusCode"] == 201, json_body(result)
    (item,) = aws.messages()
    for field, value in stored.items():
        assert attribute(item, field) == value


def test_an_absent_phone_is_not_stored(aws, contact) -> None:
    post_json(contact, {key: value for key, value in VALID.items() if key != "phone"})
    assert "phone" not in aws.messages()[0]


# Bodies that cannot be read.


@pytest.mark.parametrize(
    ("body", "content_type", "status", "error"),
    [
        ('{"name": "Alex",', "application/json", 400, "bad_request"),
        ("[1, 2]", "application/json", 400, "bad_request"),
        ('"just a string"', "application/json", 400, "bad_request"),
        ('{"name": "A", "name": "B"}', "application/json", 400, "bad_request"),
        ("name=A&name=B", "application/x-www-form-urlencoded", 400, "bad_request"),
        ("name=%FF%FE", "application/x-www-form-urlencoded", 400, "bad_request"),
        ("hello", "text/plain", 415, "unsupported_media_type"),
        ("--x\r\n", "multipart/form-data; boundary=x", 415, "unsupported_media_type"),
        ("{}", "application/xml", 415, "unsupported_media_type"),
    ],
)
def test_unreadable_bodies_get_clear_errors(
    aws, contact, body: str, content_type: str, status: int, error: str
) -> None:
    result = contact(event("POST", "/contact", headers={"Content-Type": content_type}, body=body), None)
    assert result["statusCode"] == status
    assert json_body(result)["error"] == error and json_body(result)["message"]
    assert aws.items() == []


def test_a_body_that_is_not_utf8_is_a_400(aws, contact) -> None:
    raw = b'{"name": "\xff\xfe"}'
    result = contact(
        event("POST", "/contact", headers={"Content-Type": "application/json"}, body=raw, base64_body=True), None
    )
    assert result["statusCode"] == 400 and "UTF-8" in json_body(result)["message"]


@pytest.mark.parametrize(
    "body",
    [
        "[" * 16000,
        '{"name": ' + "1" * 5000 + "}",
        '{"a": ' * 2000 + "1" + "}" * 2000,
    ],
)
def test_json_the_parser_cannot_take_is_a_400(aws, contact, body: str) -> None:
    result = contact(event("POST", "/contact", headers={"Content-Type": "application/json"}, body=body), None)
    assert result["statusCode"] == 400 and json_body(result)["error"] == "bad_request"


@pytest.mark.parametrize("field", ["name", "email", "phone", "message"])
def test_a_lone_surrogate_is_refused(aws, contact, field: str) -> None:
    body = json.dumps({**VALID, field: "Al\ud800ex"})  # JSON can spell it; it is not text
    assert "\\ud800" in body
    result = contact(event("POST", "/contact", headers={"Content-Type": "application/json"}, body=body), None)
    assert result["statusCode"] == 422
    assert json_body(result)["fields"] == {field: "control_characters"}
    assert aws.items() == []


def test_a_lone_surrogate_in_a_field_name_is_answered(aws, contact) -> None:
    body = '{"na\\udc00me": "x", "name": "Alex", "email": "alex@example.org", "message": "m", "consent": true}'
    result = contact(event("POST", "/contact", headers={"Content-Type": "application/json"}, body=body), None)
    assert result["statusCode"] == 422
    assert json_body(result)["fields"] == {"na?me": "unknown_field"}


def test_no_content_type_is_a_415(aws, contact) -> None:
    result = contact(event("POST", "/contact", body="{}"), None)
    assert result["statusCode"] == 415


def test_a_body_over_16_kb_is_a_413(aws, contact) -> None:
    result = post_json(contact, {**VALID, "message": "x" * 17000})
    assert result["statusCode"] == 413
    assert json_body(result)["error"] == "payload_too_large"
    assert aws.items() == []


def test_a_json_charset_parameter_is_accepted(aws, contact) -> None:
    result = post_json(contact, VALID, headers={"Content-Type": "application/json; charset=utf-8"})
    assert result["statusCode"] == 201


# Unicode and header injection.


def test_a_unicode_name_survives_storage_and_the_subject(aws, contact) -> None:
    name = "Zoë Ærø 😊"
    post_json(contact, {**VALID, "name": name})
    assert attribute(aws.messages()[0], "name") == name
    (alert,) = aws.emails()
    raw_subject = alert.get("Subject").__str__()
    assert raw_subject == f"New enquiry from {name}"
    # On the wire the subject is RFC 2047 encoded ASCII.
    wire = alert.as_string().split("Subject:", 1)[1].split("\n", 1)[0]
    assert wire.isascii() and "=?utf-8?" in wire.lower()
    decoded = "".join(
        part.decode(charset or "ascii") if isinstance(part, bytes) else part
        for part, charset in email.header.decode_header(wire.strip())
    )
    assert decoded == f"New enquiry from {name}"
    assert alert["Reply-To"].addresses[0].display_name == name


def test_the_email_on_the_wire_has_crlf_line_ends_and_short_lines(aws, contact) -> None:
    message = "Zoë wrote a very long line " + "without a break " * 40 + "\nand a second line.\n\n= signs =3D stay"
    post_json(contact, {**VALID, "name": "Zoë " * 20, "message": message})
    (raw,) = aws.raw_emails()
    headers, body = raw.split("\r\n\r\n", 1)
    assert all("\n" not in line and "\r" not in line for line in raw.split("\r\n"))
    assert all(len(line) <= 998 for line in headers.split("\r\n"))  # RFC 5322's hard limit
    assert all(len(line) <= 76 for line in body.split("\r\n"))  # quoted-printable's
    (alert,) = aws.emails()
    assert message in alert.get_body(("plain",)).get_content()


def test_the_alert_is_dated_with_a_numeric_zone_on_the_wire(aws, contact) -> None:
    """+0000: RFC 5322 (section 4.3) says not to generate the obsolete zone names such as GMT."""
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    post_json(contact, VALID)
    (raw,) = aws.raw_emails()
    date = header_value(raw, "Date")
    assert re.fullmatch(r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{1,2} [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d \+0000", date)
    assert before <= email.utils.parsedate_to_datetime(date) <= dt.datetime.now(dt.UTC)


def test_a_long_non_ascii_name_is_folded_in_every_header(aws, make_handler) -> None:
    name = "김민준 박서연 이도윤 최하은 정시우 Zoë Ærø"
    result = post_json(make_handler(SEND_ACKNOWLEDGEMENT="true"), {**VALID, "name": name})
    assert result["statusCode"] == 201, json_body(result)
    alert, acknowledgement = aws.emails()
    assert alert["Subject"] == f"New enquiry from {name}"
    assert [a.addr_spec for a in acknowledgement["To"].addresses] == [VALID["email"]]
    raw_alert, raw_acknowledgement = aws.raw_emails()
    assert mailbox(header_value(raw_alert, "Reply-To")) == (name, VALID["email"])
    assert mailbox(header_value(raw_acknowledgement, "To")) == (name, VALID["email"])
    # Folded between whole words: even a reader that keeps the folding space splits no word.
    assert alert["Reply-To"].addresses[0].display_name.split() == name.split()
    assert acknowledgement["To"].addresses[0].display_name.split() == name.split()


def test_a_name_shaped_like_an_address_cannot_redirect_replies(aws, contact) -> None:
    name = 'Eve "Boss" <eve@evil.example>, mallory@evil.example'
    assert post_json(contact, {**VALID, "name": name})["statusCode"] == 201
    (alert,) = aws.emails()
    assert [a.addr_spec for a in alert["Reply-To"].addresses] == [VALID["email"]]
    assert [a.addr_spec for a in alert["To"].addresses] == [THERAPIST]
    assert alert.get_all("Bcc") is None and alert.get_all("Cc") is None


def test_html_in_a_message_is_escaped_in_the_email(aws, contact) -> None:
    post_json(contact, {**VALID, "name": "<b>Alex</b>", "message": "<script>alert(1)</script> & more"})
    html_part = aws.emails()[0].get_body(("html",)).get_content()
    assert "<script>" not in html_part and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in html_part
    assert "&lt;b&gt;Alex&lt;/b&gt;" in html_part


# What the email carries.


def test_minimal_detail_keeps_health_details_out_of_email(aws, make_handler) -> None:
    handler = make_handler(NOTIFY_DETAIL="minimal", INBOX_URL="https://inbox.example-practice.com/")
    body = json_body(post_json(handler, {**VALID, "preferred_contact": "phone"}))
    (alert,) = aws.emails()
    everything = alert.as_string()
    for private in (VALID["message"].split("\n")[1], VALID["phone"], VALID["email"], "Example", "Phone", "phone"):
        assert private not in everything, private
    assert alert["Reply-To"] is None and alert["Subject"] == "New enquiry from Alex"
    link = f"https://inbox.example-practice.com/inbox/messages/{body['id']}"
    text = alert.get_body(("plain",)).get_content()
    assert text == f"A new enquiry from Alex: read it in your inbox:\n{link}\n"
    assert f'href="{link}"' in alert.get_body(("html",)).get_content()


def test_minimal_alert_links_to_the_domain_the_message_was_posted_to(aws, make_handler) -> None:
    # As in AWS: the API function has no INBOX_URL; API Gateway only routes its own domains to it.
    handler = make_handler(NOTIFY_DETAIL="minimal")
    body = json_body(post_json(handler, VALID))
    (alert,) = aws.emails()
    link = f"https://r3pmxmplak.execute-api.us-east-2.amazonaws.com/inbox/messages/{body['id']}"
    assert alert.get_body(("plain",)).get_content().endswith(f":\n{link}\n")


@pytest.mark.parametrize(
    ("name", "shown"),
    [("Zoë Adams", "Zoë"), ("O'Brien", "O'Brien"), ("J. Smith", "J."), ("evil.tk/login Smith", "a visitor")],
)
def test_the_minimal_alert_names_a_first_name_never_a_link(aws, make_handler, name: str, shown: str) -> None:
    post_json(make_handler(NOTIFY_DETAIL="minimal"), {**VALID, "name": name})
    (alert,) = aws.emails()
    assert alert["Subject"] == f"New enquiry from {shown}"
    assert alert.get_body(("plain",)).get_content().startswith(f"A new enquiry from {shown}: read it")


def test_a_minimal_alert_without_the_inbox_stops_start_up(make_handler) -> None:
    from handler.config import ConfigError

    with pytest.raises(ConfigError, match="INBOX_ENABLED"):
        make_handler(NOTIFY_DETAIL="minimal", INBOX_ENABLED="false")


def test_an_inbox_url_that_cannot_work_stops_start_up(make_handler) -> None:
    from handler.config import ConfigError

    with pytest.raises(ConfigError, match="INBOX_URL"):
        make_handler(INBOX_URL="javascript:alert(1)")


def test_the_received_time_is_in_the_practice_time_zone(aws, make_handler) -> None:
    handler = make_handler(PRACTICE_TIMEZONE="America/New_York")
    post_json(handler, VALID)
    text = aws.emails()[0].get_body(("plain",)).get_content()
    assert "EST" in text or "EDT" in text


def test_several_notify_addresses_all_get_the_alert(aws, make_handler) -> None:
    handler = make_handler(NOTIFY_EMAIL="one@practice.example, two@practice.example")
    post_json(handler, VALID)
    (alert,) = aws.emails()
    assert [a.addr_spec for a in alert["To"].addresses] == ["one@practice.example", "two@practice.example"]


def test_the_acknowledgement_is_off_by_default_and_never_repeats_the_message(aws, make_handler) -> None:
    post_json(make_handler(), VALID)
    assert len(aws.emails()) == 1
    post_json(make_handler(SEND_ACKNOWLEDGEMENT="true"), {**VALID, "message": "A different message entirely."})
    acknowledgement = aws.emails()[-1]
    assert [a.addr_spec for a in acknowledgement["To"].addresses] == [VALID["email"]]
    text = acknowledgement.get_body(("plain",)).get_content()
    assert "A different message entirely." not in acknowledgement.as_string()
    assert "988" in text and "not monitored for emergencies" in text


# Spam and abuse.


def test_a_filled_honeypot_looks_like_success_is_stored_as_spam_and_alerts_nobody(aws, contact) -> None:
    result = post_json(contact, {**VALID, "website": "http://spam.example"})
    assert result["statusCode"] == 201
    body = json_body(result)
    assert set(body) == {"id", "status", "notice"} and body["status"] == "received"
    (item,) = aws.messages()
    assert attribute(item, "notify_status") == "spam" and "pending_pk" not in item
    assert aws.emails() == []


def test_a_message_that_scores_as_spam_is_held_answered_alike_and_alerts_nobody(aws, contact) -> None:
    link_spam = {**VALID, "name": "Best Offer", "message": "[url=https://cheap.example]cheap followers[/url]"}
    genuine = {**VALID, "message": "My insurer lists you: https://insurer.example/find. Do you have openings?"}
    answers = [json_body(post_json(contact, body)) for body in (link_spam, genuine)]
    assert [answer.keys() for answer in answers] == [{"id", "status", "notice"}] * 2
    assert answers[0]["status"] == answers[1]["status"] and answers[0]["notice"] == answers[1]["notice"]
    held, alerted = (next(i for i in aws.messages() if attribute(i, "id") == a["id"]) for a in answers)
    assert attribute(held, "notify_status") == "spam" and "pending_pk" not in held
    assert set(attribute(held, "spam_reasons").split(",")) == {"links", "markup_link"}
    assert attribute(held, "spam_score") >= 5
    # A link in a sentence is noted, never held.
    assert attribute(alerted, "notify_status") == "sent" and attribute(alerted, "spam_reasons") == "links"
    (alert,) = aws.emails()
    assert answers[1]["id"] in alert.get_body(("plain",)).get_content()


def test_the_same_text_from_many_networks_is_held_from_the_sixth_on(aws, contact) -> None:
    campaign = "Dear owner, we reviewed your site and can double your clients this month with our proven plan"
    answers = [
        json_body(
            post_json(contact, {**VALID, "email": f"p{n}@example.org", "message": campaign}, source_ip=f"203.0.113.{n}")
        )
        for n in range(7)
    ]
    assert len({(a["status"], a["notice"]) for a in answers}) == 1  # the same answer throughout
    by_id = {attribute(item, "id"): item for item in aws.messages()}
    statuses = [attribute(by_id[a["id"]], "notify_status") for a in answers]
    assert statuses == ["sent"] * 5 + ["spam"] * 2
    assert attribute(by_id[answers[5]["id"]], "spam_reasons") == "repeated"
    assert len(aws.emails()) == 5
    # A network that sent it before is no new member of the campaign: alerted again.
    again = post_json(contact, {**VALID, "email": "q0@example.org", "message": campaign}, source_ip="203.0.113.0")
    (item,) = [item for item in aws.messages() if attribute(item, "id") == json_body(again)["id"]]
    assert attribute(item, "notify_status") == "sent" and len(aws.emails()) == 6
    # The table holds the text's keyed hash and the networks' hashes, never the text or an address.
    repeat_items = [item for item in aws.items() if item["pk"]["S"].startswith("REPEAT#")]
    assert repeat_items and campaign not in str(repeat_items) and "203.0.113" not in str(repeat_items)


def test_a_held_message_is_answered_after_about_as_long_as_an_alert_takes(aws, contact, monkeypatch) -> None:
    from handler import submission

    slept: list[float] = []
    real_sleep = time.sleep
    monkeypatch.setattr(time, "sleep", lambda seconds: slept.append(seconds) or real_sleep(0))
    post_json(contact, VALID)  # alerted: no wait, and its alert's time is learnt
    assert slept == []
    learnt = submission.ALERTING.seconds
    post_json(contact, {**VALID, "message": "Hi", "website": "spam.example"})  # held
    (waited,) = slept
    assert 0 < learnt * 0.8 <= waited <= learnt * 1.2


def test_a_filled_honeypot_is_recorded_as_the_reason(aws, contact) -> None:
    post_json(contact, {**VALID, "website": "spam.example"})
    (item,) = aws.messages()
    assert attribute(item, "spam_reasons") == "honeypot" and "spam_score" not in item


def test_the_rate_limit_holds_per_client_address_whatever_x_forwarded_for_says(aws, contact) -> None:
    for number in range(5):
        forged = {"X-Forwarded-For": f"10.0.0.{number}, {VISITOR_IP}"}
        result = post_json(contact, {**VALID, "message": f"Message {number}"}, headers=forged)
        assert result["statusCode"] == 201
    limited = post_json(contact, {**VALID, "message": "Message 6"}, headers={"X-Forwarded-For": "10.9.9.9"})
    assert limited["statusCode"] == 429
    assert json_body(limited)["error"] == "rate_limited"
    assert 0 < int(response_header(limited, "Retry-After")) <= 600
    assert len(aws.messages()) == 5 and len(aws.emails()) == 5
    other = post_json(contact, {**VALID, "message": "From elsewhere"}, source_ip="198.51.100.9")
    assert other["statusCode"] == 201


def test_the_rate_limit_is_configurable(aws, make_handler) -> None:
    handler = make_handler(RATE_LIMIT_COUNT="1")
    assert post_json(handler, VALID)["statusCode"] == 201
    assert post_json(handler, {**VALID, "message": "again"})["statusCode"] == 429


# Duplicates.


def test_the_same_idempotency_key_gives_the_same_id_one_item_one_email(aws, contact) -> None:
    headers = {"Idempotency-Key": "form-7f3a"}
    first = json_body(post_json(contact, VALID, headers=headers))
    second = post_json(contact, {**VALID, "name": "Alex E."}, headers=headers)
    assert second["statusCode"] == 201 and json_body(second)["id"] == first["id"]
    assert len(aws.messages()) == 1 and len(aws.emails()) == 1


def test_an_idempotency_key_reused_for_another_message_is_refused_not_swallowed(aws, contact) -> None:
    headers = {"Idempotency-Key": "page-load-1"}
    post_json(contact, VALID, headers=headers)
    other = post_json(contact, {**VALID, "message": "A second, different message."}, headers=headers)
    assert other["statusCode"] == 409
    assert json_body(other)["error"] == "idempotency_key_reused"
    assert len(aws.messages()) == 1
    fresh = post_json(
        contact, {**VALID, "message": "A second, different message."}, headers={"Idempotency-Key": "page-load-2"}
    )
    assert fresh["statusCode"] == 201 and len(aws.messages()) == 2


def test_the_same_email_and_message_within_ten_minutes_is_one_message(aws, contact) -> None:
    first = json_body(post_json(contact, VALID))
    again = json_body(post_json(contact, {**VALID, "email": "ALEX@example.org", "name": "Alex E."}))
    assert again["id"] == first["id"]
    different = json_body(post_json(contact, {**VALID, "message": "Something else"}))
    assert different["id"] != first["id"]
    assert len(aws.messages()) == 2 and len(aws.emails()) == 2


def test_a_claim_past_its_window_no_longer_holds_though_ttl_has_not_deleted_it(aws, contact) -> None:
    """DynamoDB's TTL deletes expired items when it gets to them (within days), so the
    claim's condition compares its expiry with the clock: the same message sent after
    the window is a new message."""
    first = json_body(post_json(contact, VALID))["id"]
    (claim,) = [item for item in aws.items() if item["pk"]["S"].startswith("CLAIM#")]
    aws.dynamodb.update_item(  # time passing: the window is over, the item still there
        TableName=TABLE,
        Key={"pk": claim["pk"], "sk": claim["sk"]},
        UpdateExpression="SET expires_at = :past",
        ExpressionAttributeValues={":past": {"N": str(int(time.time()) - 1)}},
    )
    again = json_body(post_json(contact, VALID))["id"]
    assert again != first
    assert len(aws.messages()) == 2 and len(aws.emails()) == 2


def test_a_bad_idempotency_key_is_a_400(aws, contact) -> None:
    for key in ("x" * 201, "caf\u00e9", "   ", "\t"):
        result = post_json(contact, VALID, headers={"Idempotency-Key": key})
        assert result["statusCode"] == 400
    assert aws.items() == []


# Retention.


def test_messages_expire_after_the_retention_period(aws, contact) -> None:
    post_json(contact, VALID)
    item = aws.messages()[0]
    received = dt.datetime.fromisoformat(attribute(item, "received_at")).timestamp()
    assert abs(attribute(item, "expires_at") - (received + 365 * 86400)) < 2
    ttl = aws.dynamodb.describe_time_to_live(TableName="contact-messages")["TimeToLiveDescription"]
    assert ttl["AttributeName"] == "expires_at" and ttl["TimeToLiveStatus"] == "ENABLED"
    for item in aws.items():
        assert "expires_at" in item  # claims and rate counters expire too


def test_retention_zero_keeps_messages_forever(aws, make_handler) -> None:
    post_json(make_handler(RETENTION_DAYS="0"), VALID)
    assert "expires_at" not in aws.messages()[0]


def test_the_client_address_is_never_stored(aws, contact) -> None:
    post_json(contact, VALID, headers={"X-Forwarded-For": f"10.1.2.3, {VISITOR_IP}"})
    post_json(contact, {**VALID, "message": "spam", "website": "x"})
    stored = json.dumps(aws.items())
    assert VISITOR_IP not in stored and "10.1.2.3" not in stored


# Cost of the happy path.


def test_the_happy_path_makes_at_most_three_aws_calls(aws, contact) -> None:
    calls: list[str] = []
    clients = aws_clients()
    for client in (clients.dynamodb, clients.ses):
        client.meta.events.register("before-call", lambda model, **_: calls.append(model.name))
    assert post_json(contact, VALID)["statusCode"] == 201
    assert calls == ["TransactWriteItems", "SendRawEmail", "UpdateItem"]


def test_serving_content_creates_no_aws_client(contact) -> None:
    import sys

    contact(event("GET", "/articles"), None)
    assert "dynamodb" not in vars(aws_clients()) and "ses" not in vars(aws_clients())
    assert "handler.main" in sys.modules


def test_eager_init_creates_the_clients_at_start_up(aws, make_handler) -> None:
    make_handler(AWS_EAGER_INIT="true")
    assert "dynamodb" in vars(aws_clients()) and "ses" in vars(aws_clients())


# CORS for the form.


def test_the_website_may_post_with_an_idempotency_key(contact) -> None:
    preflight = event(
        "OPTIONS",
        "/contact",
        headers={
            "Origin": WEBSITE_ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,idempotency-key",
        },
    )
    result = contact(preflight, None)
    assert result["statusCode"] == 200
    assert response_header(result, "Access-Control-Allow-Origin") == WEBSITE_ORIGIN
    assert "POST" in response_header(result, "Access-Control-Allow-Methods")
    allowed = response_header(result, "Access-Control-Allow-Headers").lower()
    assert "content-type" in allowed and "idempotency-key" in allowed


def test_get_contact_is_not_a_submission(aws, contact) -> None:
    assert contact(event("GET", "/contact"), None)["statusCode"] == 200
    assert contact(event("PUT", "/contact", body="{}"), None)["statusCode"] == 405
    assert aws.items() == []
