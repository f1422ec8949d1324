"""No personal data in the logs, in any contact scenario; and the optional Turnstile check."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer, ThreadingHTTPServer
from typing import ClassVar
from urllib.parse import parse_qs

import pytest
from apigw import event, json_body
from botocore.stub import Stubber
from conftest import SENDER, TURNSTILE_SECRET, TURNSTILE_SECRET_ARN
from contact_helpers import VALID, VISITOR_IP, attribute, aws_clients, post_form, post_json
from test_contact_faults import SCHEDULED_EVENT, make_due_now, retry_entry_point

SECRET_VALUES = {
    "name": "Quentin Zyxwvut",
    "email": "quentin.zyxwvut@example.org",
    "phone": "+44 7700 900123",
    "message": "My private worry is about Xylophonic dreams.\nSecond line of the secret.",
}
PERSONAL = [*SECRET_VALUES.values(), "quentin.zyxwvut", "Zyxwvut", "Xylophonic", "7700 900123", VISITOR_IP]


def everything_logged(records: list[logging.LogRecord], printed: str) -> str:
    parts = [printed]
    for record in records:
        parts.append(record.getMessage())
        parts.extend(repr(value) for value in vars(record).values())
    return "\n".join(parts)


def test_no_contact_scenario_logs_personal_data(aws, make_handler, caplog, capfd) -> None:
    caplog.set_level(logging.DEBUG)
    fields = {**VALID, **SECRET_VALUES, "preferred_contact": "phone"}
    handler = make_handler(SEND_ACKNOWLEDGEMENT="true", RATE_LIMIT_COUNT="3")

    assert post_json(handler, fields)["statusCode"] == 201  # stored and sent
    assert post_json(handler, fields)["statusCode"] == 201  # a duplicate
    assert post_form(handler, {**fields, "message": SECRET_VALUES["message"] + " (form)"})["statusCode"] == 201
    bad = {**fields, "email": SECRET_VALUES["email"] + "\r\nBcc: x@example.com", "name": SECRET_VALUES["name"] * 9}
    assert post_json(handler, bad)["statusCode"] == 422
    assert post_json(handler, {**fields, "surname": SECRET_VALUES["name"]})["statusCode"] == 422
    broken = event(
        "POST", "/contact", headers={"Content-Type": "application/json"}, body='{"name": "' + SECRET_VALUES["name"]
    )
    assert handler(broken, None)["statusCode"] == 400
    assert (
        post_json(handler, {**fields, "website": "x", "message": "spam " + SECRET_VALUES["message"]})["statusCode"]
        == 201
    )
    assert post_json(handler, {**fields, "message": "limited " + SECRET_VALUES["message"]})["statusCode"] == 429

    aws.ses.delete_identity(Identity=SENDER)  # SES down
    failing = json_body(
        post_json(handler, {**fields, "message": "ses down " + SECRET_VALUES["message"]}, source_ip="198.51.100.1")
    )
    with Stubber(aws_clients().dynamodb) as stub:  # and DynamoDB too
        for _ in range(3):
            stub.add_client_error(
                "transact_write_items", service_error_code="ThrottlingException", http_status_code=400
            )
        assert post_json(handler, fields, source_ip="198.51.100.2")["statusCode"] == 503
    aws.ses.verify_email_identity(EmailAddress=SENDER)
    with Stubber(aws_clients().dynamodb) as stub:  # DynamoDB alone
        for _ in range(3):
            stub.add_client_error(
                "transact_write_items", service_error_code="ThrottlingException", http_status_code=400
            )
        assert post_json(handler, fields, source_ip="198.51.100.3")["statusCode"] == 202
    make_due_now(aws, failing["id"])
    assert retry_entry_point()(SCHEDULED_EVENT, None)["sent"] == 1

    logged = everything_logged(caplog.records, "".join(capfd.readouterr()))
    assert caplog.records, "the scenarios should have logged ids and outcomes"
    assert failing["id"] in logged
    for value in PERSONAL:
        assert value not in logged, value


# Cloudflare Turnstile, answered by a server on 127.0.0.1.


class TurnstileStub(BaseHTTPRequestHandler):
    verdicts: ClassVar[dict[str, bool]] = {}
    seen: ClassVar[list[dict[str, list[str]]]] = []

    def do_POST(self) -> None:
        form = parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
        self.seen.append(form)
        body = json.dumps({"success": self.verdicts.get(form["response"][0], False)}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def turnstile() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), TurnstileStub)
    TurnstileStub.verdicts = {"good-token": True, "bad-token": False}
    TurnstileStub.seen = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/siteverify"
    server.shutdown()
    server.server_close()


def test_turnstile_passes_and_the_message_is_stored(aws, make_handler, turnstile) -> None:
    handler = make_handler(TURNSTILE_SECRET_ARN=TURNSTILE_SECRET_ARN, TURNSTILE_VERIFY_URL=turnstile)
    result = post_json(handler, {**VALID, "cf-turnstile-response": "good-token"})
    assert result["statusCode"] == 201
    assert TurnstileStub.seen == [{"secret": [TURNSTILE_SECRET], "response": ["good-token"]}]
    (item,) = aws.messages()
    assert attribute(item, "turnstile") == "passed"
    assert "cf-turnstile-response" not in item


def test_turnstile_failing_or_missing_is_a_422(aws, make_handler, turnstile) -> None:
    handler = make_handler(TURNSTILE_SECRET_ARN=TURNSTILE_SECRET_ARN, TURNSTILE_VERIFY_URL=turnstile)
    failed = post_json(handler, {**VALID, "cf-turnstile-response": "bad-token"})
    assert failed["statusCode"] == 422 and json_body(failed)["fields"] == {"cf-turnstile-response": "failed"}
    missing = post_json(handler, VALID)
    assert missing["statusCode"] == 422 and json_body(missing)["fields"] == {"cf-turnstile-response": "required"}
    assert aws.items() == [] and aws.emails() == []


@pytest.mark.dynamodb_engines  # the claim read back by a consistent GetItem
def test_a_retry_of_a_stored_message_gets_its_id_though_its_token_is_spent(aws, make_handler, turnstile) -> None:
    handler = make_handler(TURNSTILE_SECRET_ARN=TURNSTILE_SECRET_ARN, TURNSTILE_VERIFY_URL=turnstile)
    fields = {**VALID, "cf-turnstile-response": "good-token"}
    first = post_json(handler, fields, headers={"Idempotency-Key": "form-1"})
    TurnstileStub.verdicts["good-token"] = False  # Cloudflare takes a token once
    again = post_json(handler, fields, headers={"Idempotency-Key": "form-1"})
    assert again["statusCode"] == 201 and json_body(again)["id"] == json_body(first)["id"]
    assert len(aws.messages()) == 1 and len(aws.emails()) == 1
    # The spent token on another message is still a failure.
    other = post_json(handler, {**fields, "message": "Another message"}, headers={"Idempotency-Key": "form-2"})
    assert other["statusCode"] == 422 and json_body(other)["fields"] == {"cf-turnstile-response": "failed"}
    assert len(aws.messages()) == 1


@pytest.mark.dynamodb_engines
def test_a_failing_token_never_learns_whether_a_person_wrote(aws, make_handler, turnstile) -> None:
    """Someone who guesses a person's email and message, with a token that fails, must not
    get that person's message id (a ULID: it carries the time they wrote): a failing token
    without an Idempotency-Key never reaches the duplicate look-up."""
    handler = make_handler(TURNSTILE_SECRET_ARN=TURNSTILE_SECRET_ARN, TURNSTILE_VERIFY_URL=turnstile)
    first = post_json(handler, {**VALID, "cf-turnstile-response": "good-token"})
    assert first["statusCode"] == 201
    looked_up: list[str] = []
    aws_clients().dynamodb.meta.events.register("before-call.dynamodb", lambda model, **_: looked_up.append(model.name))
    for source_ip in ("198.51.100.7", VISITOR_IP):
        guess = post_json(handler, {**VALID, "cf-turnstile-response": "bad-token"}, source_ip=source_ip)
        assert guess["statusCode"] == 422 and json_body(guess)["fields"] == {"cf-turnstile-response": "failed"}
        assert json_body(first)["id"] not in json.dumps(guess)
    assert looked_up == []
    assert len(aws.messages()) == 1 and len(aws.emails()) == 1


@pytest.mark.dynamodb_engines
def test_the_same_message_from_another_network_learns_nothing_of_the_first(aws, make_handler) -> None:
    """Without an Idempotency-Key, the same email and message within ten minutes is one message;
    from another client network it is answered as a new one, with an id never stored."""
    handler = make_handler()
    first = json_body(post_json(handler, VALID, source_ip="2001:db8:1:2::10"))["id"]
    guess = post_json(handler, VALID, source_ip="198.51.100.7")
    assert guess["statusCode"] == 201 and json_body(guess)["id"] != first
    assert len(aws.messages()) == 1 and len(aws.emails()) == 1
    again = post_json(handler, VALID, source_ip="2001:db8:1:2::11")  # the same household: a retry
    assert again["statusCode"] == 201 and json_body(again)["id"] == first
    # With an Idempotency-Key (the client's own secret), a retry from another network, as a
    # phone moving from Wi-Fi to mobile data, still gets its message's id.
    fields = {**VALID, "message": "Another message"}
    keyed = json_body(post_json(handler, fields, headers={"Idempotency-Key": "k-1"}, source_ip="192.0.2.1"))["id"]
    moved = post_json(handler, fields, headers={"Idempotency-Key": "k-1"}, source_ip="198.51.100.200")
    assert json_body(moved)["id"] == keyed
    assert len(aws.messages()) == 2 and len(aws.emails()) == 2


class GarbledTurnstile(BaseHTTPRequestHandler):
    answer = b""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        if self.answer == b"not http":
            self.wfile.write(b"NOT HTTP AT ALL\r\n\r\n")
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.answer) + (10 if self.answer == b'{"success"' else 0)))
        self.end_headers()
        self.wfile.write(self.answer)

    def log_message(self, *args) -> None:
        pass


@pytest.mark.parametrize(
    "answer", [b"[]", b'"x"', b"1", b"null", b'{"success": "false"}', b'{"success"', b"not json", b"not http"]
)
def test_a_garbled_turnstile_answer_takes_the_message_marked_unverified(aws, make_handler, answer: bytes) -> None:
    GarbledTurnstile.answer = answer
    server = HTTPServer(("127.0.0.1", 0), GarbledTurnstile)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/siteverify"
        handler = make_handler(TURNSTILE_SECRET_ARN=TURNSTILE_SECRET_ARN, TURNSTILE_VERIFY_URL=url)
        result = post_json(handler, {**VALID, "cf-turnstile-response": "any"})
    finally:
        server.shutdown()
        server.server_close()
    assert result["statusCode"] == 201, json_body(result)
    assert attribute(aws.messages()[0], "turnstile") == "unverified"
    assert len(aws.emails()) == 1


class DrippingTurnstile(BaseHTTPRequestHandler):
    """Answers a byte every half second: each read is quick, the whole answer is not."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        body = b'{"success": true}'
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        for byte in body:
            self.wfile.write(bytes([byte]))
            self.wfile.flush()
            time.sleep(0.5)

    def log_message(self, *args) -> None:
        pass


def test_a_turnstile_answer_dripped_slowly_is_given_up_in_time(aws, make_handler) -> None:
    from handler.turnstile import TIMEOUT_SECONDS as TURNSTILE_TIMEOUT_SECONDS

    server = ThreadingHTTPServer(("127.0.0.1", 0), DrippingTurnstile)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/siteverify"
        handler = make_handler(TURNSTILE_SECRET_ARN=TURNSTILE_SECRET_ARN, TURNSTILE_VERIFY_URL=url)
        started = time.monotonic()
        result = post_json(handler, {**VALID, "cf-turnstile-response": "any"})
        took = time.monotonic() - started
    finally:
        server.shutdown()
        server.server_close()
    assert result["statusCode"] == 201 and took < TURNSTILE_TIMEOUT_SECONDS + 1.5  # the whole answer takes 8.5 s
    assert attribute(aws.messages()[0], "turnstile") == "unverified"


def test_turnstile_unreachable_takes_the_message_marked_unverified(aws, make_handler) -> None:
    handler = make_handler(
        TURNSTILE_SECRET_ARN=TURNSTILE_SECRET_ARN, TURNSTILE_VERIFY_URL="http://127.0.0.1:9/siteverify"
    )
    assert post_json(handler, {**VALID, "cf-turnstile-response": "any"})["statusCode"] == 201
    assert attribute(aws.messages()[0], "turnstile") == "unverified"
    assert len(aws.emails()) == 1
