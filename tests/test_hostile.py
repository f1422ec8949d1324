"""Hostile inputs, from the corpus in ``tests/hostile/``, through the Lambda entry point.

Every input is one case (its format: ``tests/hostile/README.md``). Whatever it
is, the function must never answer 5xx, must answer a 4xx as JSON
``{"error", "message"}`` (or, to a browser's plain form post, as the small HTML
page), must never store anything that breaks the field rules (``openapi.yaml``
and ``docs/api.md``), and must store (and alert) every valid message exactly
once. Each case runs on a fresh table, from its own client address.
"""

from __future__ import annotations

import copy
import json
import re
import sys
from email.utils import getaddresses
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from xml.etree import ElementTree

import pytest
from apigw import event, response_header
from conftest import SENDER, THERAPIST, WEBSITE_ORIGIN
from contact_helpers import BROWSER_ACCEPT, VALID, attribute

CORPUS = Path(__file__).parent / "hostile"
JSON_TYPE = "application/json"
FORM_TYPE = "application/x-www-form-urlencoded"

# The base of every contact case is contact_helpers.VALID, a valid message, which a case changes.
VALID_FORM = {**VALID, "consent": "on"}
DEFAULT_ERRORS = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    409: "idempotency_key_reused",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_failed",
    429: "rate_limited",
}

# What a stored message item may hold (docs/design.md, "Storage"): nothing a visitor names.
MESSAGE_ATTRIBUTES = {
    "pk", "sk", "recent_pk", "recent_sk", "pending_pk", "pending_sk",
    "id", "received_at", "name", "email", "phone", "preferred_contact", "message",
    "consent_version", "ip_hash", "user_agent", "source_page", "turnstile",
    "notify_status", "notify_attempts", "notified_at", "last_error", "expires_at",
    "inbox_state", "state_by", "state_at", "history",  # the inbox's (handler/message.py)
    "spam_score", "spam_reasons",  # why it was held, or came near (handler/spam.py)
    "client_type", "session_format", "state", "payment", "availability", "voicemail_ok",  # handler/intake.py
}  # fmt: skip
NOTIFY_STATUSES = {"pending", "sent", "retrying", "failed", "spam"}
# docs/api.md: control characters (line breaks included) and the invisible
# controls of text direction are refused in the one-line fields; lone surrogates
# are not text at all. The message keeps tab and LF.
ONE_LINE_FORBIDDEN = re.compile(
    "[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)
MESSAGE_FORBIDDEN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
PHONE = re.compile(r"[0-9 +().\-]+")
ULID = re.compile(r"[0-9A-HJKMNP-TV-Z]{26}")


# The corpus.


def load_cases() -> list[dict[str, Any]]:
    cases = []
    for path in sorted(CORPUS.glob("*.jsonl")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                case = json.loads(line)
                case["kind"] = path.stem
                case["where"] = f"{path.name}:{number}"
                cases.append(case)
    return cases


CASES = load_cases()
for _index, _case in enumerate(CASES):
    _case["index"] = _index


def params(route: bool) -> list[Any]:
    chosen = [case for case in CASES if is_route_case(case) == route]
    return [
        pytest.param(
            case, id=case["id"], marks=[pytest.mark.xfail(strict=True, reason=case["xfail"])] if "xfail" in case else []
        )
        for case in chosen
    ]


def is_route_case(case: dict[str, Any]) -> bool:
    send = case["send"]
    return send.get("path", "/contact") != "/contact" or "raw_path" in send


def expand(value: Any) -> Any:
    """``{"$repeat": s, "times": n}`` is s n times; ``{"$concat": [...]}`` joins its parts."""
    if isinstance(value, dict):
        if "$repeat" in value:
            return expand(value["$repeat"]) * value["times"]
        if "$concat" in value:
            return "".join(expand(part) for part in value["$concat"])
        return {key: expand(item) for key, item in value.items()}
    if isinstance(value, list):
        return [expand(item) for item in value]
    return value


def sent_fields(send: dict[str, Any]) -> dict[str, Any] | None:
    """The fields a contact case sends, when it sends them as an object or a form."""
    for key, base in (("json", VALID), ("form", VALID_FORM)):
        if key in send:
            fields = {**base, **send[key]}
            for name in send.get("drop", []):
                fields.pop(name, None)
            return fields
    if "json_exact" in send:
        return send["json_exact"] if isinstance(send["json_exact"], dict) else None
    if "form_exact" in send:
        return dict(send["form_exact"])
    return None


def body_of(send: dict[str, Any]) -> tuple[str | bytes | None, str | None]:
    """(the body, its default Content-Type)."""
    ascii_only = send.get("ascii", True)
    if "json" in send or "json_exact" in send:
        data = sent_fields(send) if "json" in send else send["json_exact"]
        text: str | bytes = json.dumps(data, ensure_ascii=ascii_only)
        kind = JSON_TYPE
    elif "form" in send or "form_exact" in send:
        pairs = sent_fields(send).items() if "form" in send else send["form_exact"]
        text = urlencode([(name, "on" if value is True else value) for name, value in pairs])
        kind = FORM_TYPE
    elif "text" in send:
        text, kind = send["text"], None
    elif "body_bytes" in send:
        text, kind = send["body_bytes"].encode("latin-1"), None
    else:
        return None, None
    if "encoding" in send:
        text = text.encode(send["encoding"])
    if "pad_to" in send:
        raw = text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass")
        assert len(raw) <= send["pad_to"], "the case's body is already longer than pad_to"
        text = raw + send.get("pad_char", " ").encode("ascii") * (send["pad_to"] - len(raw))
    return text, kind


def source_ip(case: dict[str, Any]) -> str:
    index = case["index"]
    return f"198.18.{index // 250}.{index % 250 + 1}"


def build_event(case: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the Lambda event, the expanded send spec)."""
    send = expand(case["send"])
    body, default_type = body_of(send)
    contact = not is_route_case(case)
    defaults: dict[str, str] = {}
    if default_type:
        defaults["Content-Type"] = default_type
    if contact:
        defaults["Origin"] = WEBSITE_ORIGIN
    if send.get("browser"):
        defaults["Accept"] = BROWSER_ACCEPT
    given = send.get("headers", [])
    pairs = [tuple(pair) for pair in (given.items() if isinstance(given, dict) else given)]
    named = {name.lower() for name, _ in pairs}
    headers = [(name, value) for name, value in defaults.items() if name.lower() not in named] + pairs
    base64_body = isinstance(body, bytes) or send.get("base64", default_type == FORM_TYPE)
    data = event(
        send.get("method", "POST" if contact else "GET"),
        send.get("path", "/contact"),
        shape=send.get("shape", "http_api_v2"),
        query=send.get("query", ""),
        headers=headers,
        body=body,
        base64_body=base64_body,
        source_ip=source_ip(case),
        raw_path=send.get("raw_path"),
    )
    if "event_body" in send:  # exactly what API Gateway put in the event (say, broken base64)
        data["body"] = send["event_body"]
        data["isBase64Encoded"] = True
    return data, send


def header_value(send: dict[str, Any], name: str) -> str | None:
    given = send.get("headers", [])
    pairs = given.items() if isinstance(given, dict) else given
    values = [value for key, value in pairs if key.lower() == name.lower()]
    return ",".join(values) if values else None


def media_type(send: dict[str, Any]) -> str | None:
    content_type = header_value(send, "Content-Type")
    if content_type is None:
        content_type = body_of(send)[1]
    return content_type.split(";")[0].strip().lower() if content_type is not None else None


# What every answer must be.


def assert_error_body(result: dict[str, Any], status: int, expect: dict[str, Any], html_page: bool, where: str) -> None:
    content_type = response_header(result, "Content-Type") or ""
    if html_page:
        assert content_type.startswith("text/html"), where
        assert "<script" not in result["body"].lower(), f"{where}: markup from the request in the page"
        return
    assert content_type.startswith(JSON_TYPE), f"{where}: {content_type}: {result['body'][:200]}"
    body = json.loads(result["body"])
    assert isinstance(body, dict) and isinstance(body.get("error"), str) and isinstance(body.get("message"), str), where
    assert body["error"] and body["message"], where
    expected_error = expect.get("error", DEFAULT_ERRORS.get(status))
    if expected_error:
        assert body["error"] == expected_error, f"{where}: {body}"
    if status == 422:
        assert isinstance(body.get("fields"), dict) and body["fields"], where
        if "fields" in expect:
            assert body["fields"] == expect["fields"], f"{where}: {body}"


def check_status(result: dict[str, Any], expect: dict[str, Any], where: str) -> int:
    status = result["statusCode"]
    assert status < 500, f"{where}: {status} {result.get('body', '')[:300]}"
    wanted = expect["status"]
    allowed = wanted if isinstance(wanted, list) else [wanted]
    assert status in allowed, f"{where}: {status}, expected {wanted}: {result.get('body', '')[:300]}"
    return status


def forbidden_in_one_line(value: str) -> bool:
    return bool(ONE_LINE_FORBIDDEN.search(value))


def assert_valid_item(item: dict[str, Any], case: dict[str, Any]) -> None:
    """The field rules (openapi.yaml, docs/api.md), on a stored message item."""
    where = case["where"]
    assert set(item) <= MESSAGE_ATTRIBUTES, f"{where}: unexpected attributes {set(item) - MESSAGE_ATTRIBUTES}"
    value = {name: attribute(item, name) for name in item}
    assert ULID.fullmatch(value["id"]) and value["pk"] == f"MSG#{value['id']}", where

    name = value["name"]
    assert isinstance(name, str) and 1 <= len(name) <= 100, f"{where}: name {name!r}"
    assert name == name.strip() and not forbidden_in_one_line(name), f"{where}: name {name!r}"

    stored_email = value["email"]
    assert isinstance(stored_email, str) and 3 <= len(stored_email) <= 254 and stored_email.isascii(), where
    assert not forbidden_in_one_line(stored_email), where
    from email_validator import EmailNotValidError, validate_email

    try:
        checked = validate_email(stored_email, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as error:
        pytest.fail(f"{where}: an invalid email stored: {stored_email!r} ({error})")
    assert checked.ascii_email == stored_email, f"{where}: email not stored normalised: {stored_email!r}"

    phone = value.get("phone")
    if phone is not None:
        assert isinstance(phone, str) and 1 <= len(phone) <= 30 and phone == phone.strip(), where
        assert PHONE.fullmatch(phone) and any(c.isdigit() for c in phone), f"{where}: phone {phone!r}"
    assert value["preferred_contact"] in ("email", "phone"), where
    if value["preferred_contact"] == "phone":
        assert phone is not None, where

    message = value["message"]
    assert isinstance(message, str) and 1 <= len(message) <= 5000, f"{where}: message of {len(message)}"
    assert message == message.strip() and "\r" not in message, where
    assert not MESSAGE_FORBIDDEN.search(message), f"{where}: control characters in the message"

    assert re.fullmatch(r"[0-9a-f]{12}", value["consent_version"]), where
    assert re.fullmatch(r"[0-9a-f]{64}", value["ip_hash"]), where
    assert value["notify_status"] in NOTIFY_STATUSES, where
    assert len(value.get("user_agent") or "") <= 256 and len(value.get("source_page") or "") <= 512, where
    assert source_ip(case) not in json.dumps(item), f"{where}: the client address is stored"


def expected_stored(case: dict[str, Any], send: dict[str, Any]) -> dict[str, Any]:
    """What a valid case's message is stored as: the fields as sent, cleaned as docs/api.md says."""
    expect = case["expect"]
    fields = sent_fields(send) or {}
    stored: dict[str, Any] = {}
    if isinstance(fields.get("name"), str):
        stored["name"] = fields["name"].strip()
    if isinstance(fields.get("email"), str) and fields["email"].isascii():
        stored["email"] = fields["email"].strip()  # an IDN's stored form is the case's own "stored"
    if isinstance(fields.get("message"), str):
        stored["message"] = fields["message"].replace("\r\n", "\n").replace("\r", "\n").strip()
    phone = fields.get("phone")
    stored["phone"] = phone.strip() if isinstance(phone, str) and phone.strip() else None
    preferred = fields.get("preferred_contact")
    stored["preferred_contact"] = preferred if preferred in ("email", "phone") else "email"
    stored.update(expect.get("stored", {}))
    return stored


def addresses(alert: Any, header: str) -> list[str]:
    """The addresses of a header as written (RFC 2047 forbids encoded words in an address, so none is decoded)."""
    raw = [value for name, value in alert.raw_items() if name.lower() == header.lower()]
    return [addr for _, addr in getaddresses([str(value) for value in raw])]


def assert_alerted_once(aws: Any, item: dict[str, Any], where: str) -> None:
    alerts = aws.emails()
    assert len(alerts) == 1, f"{where}: {len(alerts)} alerts"
    (alert,) = alerts
    names = [name.lower() for name, _ in alert.raw_items()]
    for header in ("to", "from", "reply-to", "subject"):
        assert names.count(header) == 1, f"{where}: {names.count(header)} {header} headers"
    assert "cc" not in names and "bcc" not in names, f"{where}: a copy header in the alert"
    assert addresses(alert, "To") == [THERAPIST], where
    assert addresses(alert, "From") == [SENDER], where
    assert addresses(alert, "Reply-To") == [attribute(item, "email")], f"{where}: {addresses(alert, 'Reply-To')}"
    assert str(alert["Subject"]) == f"New enquiry from {attribute(item, 'name')}", f"{where}: {alert['Subject']!r}"
    html_part = alert.get_body(("html",)).get_content()
    for field in ("name", "message", "email", "phone"):
        text = attribute(item, field)
        if text and "<" in text:
            assert text not in html_part, f"{where}: {field} unescaped in the HTML alert"
    assert attribute(item, "id") in alert.get_body(("plain",)).get_content(), where


_entry_point: dict[str, Any] = {}


@pytest.fixture
def entry_point(make_handler):
    """``handler.main.lambda_handler``, imported by ``make_handler`` once for the module.

    Importing it builds the app, which costs more than most cases; the app
    keeps nothing between requests that a case could see (each case has a
    fresh table and its own client address), so it is built again only when
    another import replaced it. A high rate limit is a second guard.
    """
    module = sys.modules.get("handler.main")
    if module is None or getattr(module, "app", None) is not _entry_point.get("app"):
        _entry_point["handler"] = make_handler(RATE_LIMIT_COUNT="50")
        _entry_point["app"] = sys.modules["handler.main"].app
    return _entry_point["handler"]


def invoke(handler: Any, data: dict[str, Any], where: str) -> dict[str, Any]:
    try:
        return handler(data, None)
    except Exception as error:  # noqa: BLE001 - the invocation fails: API Gateway answers 500 (or 502)
        pytest.fail(f"{where}: the function raised {type(error).__name__}: {error}"[:500])


@pytest.mark.parametrize("case", params(route=False))
def test_a_hostile_contact_input_is_answered_and_stores_nothing_invalid(aws, entry_point, case) -> None:
    where = f"{case['where']} {case['id']}"
    data, send = build_event(case)
    expect = case["expect"]
    times = send.get("repeat", 1)
    results = [invoke(entry_point, copy.deepcopy(data), where) for _ in range(times)]
    statuses = [check_status(result, expect, where) for result in results]
    # A browser's plain form post gets pages; anything else JSON (a case with its own Accept says which).
    html_page = expect.get("html", bool(send.get("browser")) and media_type(send) == FORM_TYPE)

    for result, status in zip(results, statuses, strict=True):
        if 400 <= status < 500:
            assert_error_body(result, status, expect, html_page, where)
        elif status in (201, 202) and html_page:
            assert (response_header(result, "Content-Type") or "").startswith("text/html"), where
            assert "Thank you" in result["body"] and "<script" not in result["body"].lower(), where
        elif status in (201, 202):
            body = json.loads(result["body"])
            assert set(body) == {"id", "status", "notice"} and body["status"] == "received", where

    # Nothing invalid is ever stored.
    items = aws.items()
    kinds = {item["pk"]["S"].split("#", 1)[0] for item in items}
    assert kinds <= {"MSG", "CLAIM", "RATE"}, f"{where}: items of kinds {kinds}"
    messages = [item for item in items if item["pk"]["S"].startswith("MSG#")]
    for item in messages:
        assert_valid_item(item, case)

    stored = [status for status in statuses if status in (201, 202, 303)]
    if not stored:
        assert items == [], f"{where}: refused, yet something was written"
        assert aws.emails() == [], f"{where}: refused, yet someone was emailed"
        return

    # A valid input: stored exactly once (however often it was sent), alerted once.
    assert len(stored) == times, f"{where}: answered {statuses}"
    assert len(messages) == 1, f"{where}: {len(messages)} messages stored"
    (item,) = messages
    if not html_page:
        ids = {json.loads(result["body"])["id"] for result in results}
        assert ids == {attribute(item, "id")}, f"{where}: ids {ids}"
    for field, value in expected_stored(case, send).items():
        assert attribute(item, field) == value, f"{where}: {field} stored as {attribute(item, field)!r}, not {value!r}"
    if expect.get("spam"):
        assert attribute(item, "notify_status") == "spam", where
        assert aws.emails() == [], f"{where}: spam alerted someone"
    else:
        assert attribute(item, "notify_status") == "sent", where
        assert_alerted_once(aws, item, where)


@pytest.mark.parametrize("case", params(route=True))
def test_a_hostile_request_to_the_content_api_is_answered(entry_point, case) -> None:
    where = f"{case['where']} {case['id']}"
    data, send = build_event(case)
    expect = case["expect"]
    result = invoke(entry_point, data, where)
    status = check_status(result, expect, where)
    method = send.get("method", "GET")
    content_type = response_header(result, "Content-Type") or ""
    if 400 <= status < 500 and method != "HEAD":
        assert_error_body(result, status, expect, False, where)
    elif status == 200 and method == "GET":
        wanted = expect.get("content_type", JSON_TYPE)
        assert content_type.startswith(wanted), f"{where}: {content_type}"
        if "json" in wanted:
            json.loads(result["body"])
        else:
            ElementTree.fromstring(result["body"].encode("utf-8"))  # well-formed, whatever the request said
            assert "<script" not in result["body"].lower(), where
    elif 300 <= status < 400 and status != 304:
        assert response_header(result, "Location"), where
    assert not content_type.startswith("text/html"), f"{where}: an HTML answer"
    # Only the website's exact origin ever gets CORS headers.
    allow_origin = response_header(result, "Access-Control-Allow-Origin")
    origin = header_value(send, "Origin")
    if origin != WEBSITE_ORIGIN:
        assert allow_origin is None, f"{where}: CORS granted to {origin!r}"
    # Nothing from the request becomes a header of its own.
    for name in ("Set-Cookie", "X-Injected"):
        assert response_header(result, name) is None, f"{where}: {name} in the answer"
    if "slug" in expect:
        assert json.loads(result["body"])["article"]["slug"] == expect["slug"], where


def test_the_corpus_is_large_and_well_formed() -> None:
    ids = [case["id"] for case in CASES]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    assert len(CASES) >= 220 and len({case["kind"] for case in CASES}) >= 10
    for case in CASES:
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", case["id"]), case["where"]
        assert set(case) <= {"id", "send", "expect", "xfail", "kind", "where", "index"}, case["where"]
        assert isinstance(case["expect"]["status"], (int, list)), case["where"]
        assert isinstance(case.get("xfail", ""), str), case["where"]
